/*
 * test_ledger.c: the order ledger (lib/ledger.c, lib/doccodec.c): new,
 * unchanged and changed orders with their revisions and what changed,
 * numbers compared as numbers, attachments before and after their order,
 * the filters, history, rollback, two sites, the migration of a version
 * 3 database, damaged documents, allocation failures, and the round trip
 * of every order of the corpus, field by field.
 *
 * "test_ledger --bench [N]" times N orders of five lines (default
 * 100000) stored in one run, stored again unchanged, and read back.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cml/ledger.h"
#include "cml/reader.h"
#include "cml/store.h"
#include "doccodec.h"
#include "harness.h"
#include "harness_db.h"

static char tmpdir[64];




static bool
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
	          sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
	if (!ok)
		fprintf(stderr, "sql: %s\n", sqlite3_errmsg(db));
	sqlite3_close(db);
	return ok;
}

static cml_store *
open_db(const char *path)
{
	char err[512];
	cml_status st;
	cml_store *s = cml_store_open(path, NULL, &st, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "open %s: %s\n", path, err);
	return s;
}

/* ---- the deep compare: every field of model.h's document ---- */

/* Where the first difference is, "lines[2].unit.code". */
static char diff_at[256];

/* snprintf for paths and names that may be cut (vsnprintf: no
 * truncation warnings for what is only a message) */
static void join(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
join(char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, cap, fmt, ap);
	va_end(ap);
}

static bool
differs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static bool
differs(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(diff_at, sizeof(diff_at), fmt, ap);
	va_end(ap);
	return false;
}

/* Strings: both NULL, or both the same bytes (NULL and "" differ). */
#define SAME_S(a, b, f, path)                                                 \
	do {                                                                  \
		if (((a)->f == NULL) != ((b)->f == NULL) ||                   \
		    ((a)->f != NULL && strcmp((a)->f, (b)->f) != 0))          \
			return differs("%s." #f " (\"%s\" / \"%s\")", path,   \
			               (a)->f ? (a)->f : "(null)",            \
			               (b)->f ? (b)->f : "(null)");           \
	} while (0)
#define SAME_V(a, b, f, path)                                                \
	do {                                                                 \
		if ((a)->f != (b)->f)                                        \
			return differs("%s." #f " (%lld / %lld)", path,      \
			               (long long)(a)->f, (long long)(b)->f); \
	} while (0)

static bool
same_pairs(const cml_pair *a, size_t na, const cml_pair *b, size_t nb, const char *path)
{
	char p[200];

	if (na != nb)
		return differs("%s: %zu / %zu", path, na, nb);
	for (size_t i = 0; i < na; i++) {
		join(p, sizeof(p), "%s[%zu]", path, i);
		SAME_S(&a[i], &b[i], name, p);
		SAME_S(&a[i], &b[i], value, p);
	}
	return true;
}

static bool
same_unit(const cml_unit_ref *a, const cml_unit_ref *b, const char *path)
{
	char p[200];

	SAME_S(a, b, code, path);
	SAME_S(a, b, name, path);
	SAME_S(a, b, full_name, path);
	SAME_S(a, b, intl, path);
	SAME_V(a, b, n_conversions, path);
	for (size_t i = 0; i < a->n_conversions; i++) {
		join(p, sizeof(p), "%s.conversions[%zu]", path, i);
		SAME_S(&a->conversions[i], &b->conversions[i], unit, p);
		SAME_S(&a->conversions[i], &b->conversions[i], coefficient, p);
	}
	return true;
}

static bool
same_taxes(const cml_tax *a, size_t na, const cml_tax *b, size_t nb, const char *path)
{
	char p[200];

	if (na != nb)
		return differs("%s: %zu / %zu", path, na, nb);
	for (size_t i = 0; i < na; i++) {
		join(p, sizeof(p), "%s[%zu]", path, i);
		SAME_S(&a[i], &b[i], name, p);
		SAME_S(&a[i], &b[i], rate, p);
		SAME_S(&a[i], &b[i], sum, p);
		SAME_V(&a[i], &b[i], in_sum, p);
	}
	return true;
}

static bool
same_discounts(const cml_discount *a, size_t na, const cml_discount *b, size_t nb,
               const char *path)
{
	char p[200];

	if (na != nb)
		return differs("%s: %zu / %zu", path, na, nb);
	for (size_t i = 0; i < na; i++) {
		join(p, sizeof(p), "%s[%zu]", path, i);
		SAME_S(&a[i], &b[i], name, p);
		SAME_S(&a[i], &b[i], sum, p);
		SAME_S(&a[i], &b[i], percent, p);
		SAME_V(&a[i], &b[i], in_sum, p);
	}
	return true;
}

static bool
same_address(const cml_address *a, const cml_address *b, const char *path)
{
	char p[200];

	SAME_S(a, b, presentation, path);
	join(p, sizeof(p), "%s.fields", path);
	return same_pairs(a->fields, a->n_fields, b->fields, b->n_fields, p);
}

static bool
same_party(const cml_counterparty *a, const cml_counterparty *b, const char *path)
{
	char p[200];

	SAME_S(a, b, id, path);
	SAME_S(a, b, version, path);
	SAME_V(a, b, deleted, path);
	SAME_S(a, b, name, path);
	SAME_S(a, b, official_name, path);
	SAME_S(a, b, full_name, path);
	SAME_S(a, b, last_name, path);
	SAME_S(a, b, first_name, path);
	SAME_S(a, b, middle_name, path);
	SAME_S(a, b, role, path);
	SAME_S(a, b, inn, path);
	SAME_S(a, b, kpp, path);
	SAME_S(a, b, okpo, path);
	join(p, sizeof(p), "%s.reg_address", path);
	if (!same_address(&a->reg_address, &b->reg_address, p))
		return false;
	join(p, sizeof(p), "%s.legal_address", path);
	if (!same_address(&a->legal_address, &b->legal_address, p))
		return false;
	join(p, sizeof(p), "%s.address", path);
	if (!same_address(&a->address, &b->address, p))
		return false;
	join(p, sizeof(p), "%s.contacts", path);
	if (!same_pairs(a->contacts, a->n_contacts, b->contacts, b->n_contacts, p))
		return false;
	SAME_V(a, b, n_representatives, path);
	for (size_t i = 0; i < a->n_representatives; i++) {
		join(p, sizeof(p), "%s.representatives[%zu]", path, i);
		SAME_S(&a->representatives[i], &b->representatives[i], relation, p);
		SAME_S(&a->representatives[i], &b->representatives[i], id, p);
		SAME_S(&a->representatives[i], &b->representatives[i], name, p);
		join(p, sizeof(p), "%s.representatives[%zu].contacts", path, i);
		if (!same_pairs(a->representatives[i].contacts, a->representatives[i].n_contacts,
		                b->representatives[i].contacts, b->representatives[i].n_contacts, p))
			return false;
	}
	SAME_V(a, b, n_accounts, path);
	for (size_t i = 0; i < a->n_accounts; i++) {
		join(p, sizeof(p), "%s.accounts[%zu]", path, i);
		SAME_S(&a->accounts[i], &b->accounts[i], number, p);
		SAME_S(&a->accounts[i], &b->accounts[i], bank_name, p);
		SAME_S(&a->accounts[i], &b->accounts[i], bank_bik, p);
		SAME_S(&a->accounts[i], &b->accounts[i], bank_corr_account, p);
		SAME_S(&a->accounts[i], &b->accounts[i], bank_address, p);
	}
	SAME_V(a, b, only_changes, path);
	return true;
}

static bool
same_line(const cml_doc_line *a, const cml_doc_line *b, const char *path)
{
	char p[200];

	SAME_S(a, b, id, path);
	SAME_S(a, b, catalog_id, path);
	SAME_S(a, b, article, path);
	SAME_S(a, b, name, path);
	join(p, sizeof(p), "%s.unit", path);
	if (!same_unit(&a->unit, &b->unit, p))
		return false;
	join(p, sizeof(p), "%s.line_unit", path);
	if (!same_unit(&a->line_unit, &b->line_unit, p))
		return false;
	SAME_S(a, b, price, path);
	SAME_S(a, b, quantity, path);
	SAME_S(a, b, sum, path);
	SAME_S(a, b, coefficient, path);
	join(p, sizeof(p), "%s.characteristics", path);
	if (!same_pairs(a->characteristics, a->n_characteristics, b->characteristics,
	                b->n_characteristics, p))
		return false;
	join(p, sizeof(p), "%s.requisites", path);
	if (!same_pairs(a->requisites, a->n_requisites, b->requisites, b->n_requisites, p))
		return false;
	join(p, sizeof(p), "%s.taxes", path);
	if (!same_taxes(a->taxes, a->n_taxes, b->taxes, b->n_taxes, p))
		return false;
	join(p, sizeof(p), "%s.tax_rates", path);
	if (!same_taxes(a->tax_rates, a->n_tax_rates, b->tax_rates, b->n_tax_rates, p))
		return false;
	join(p, sizeof(p), "%s.discounts", path);
	if (!same_discounts(a->discounts, a->n_discounts, b->discounts, b->n_discounts, p))
		return false;
	SAME_V(a, b, n_groups, path);
	for (size_t i = 0; i < a->n_groups; i++) {
		join(p, sizeof(p), "%s.groups[%zu]", path, i);
		const char *ga = a->groups[i], *gb = b->groups[i];
		if ((ga == NULL) != (gb == NULL) || (ga != NULL && strcmp(ga, gb) != 0))
			return differs("%s (\"%s\" / \"%s\")", p, ga ? ga : "(null)",
			               gb ? gb : "(null)");
	}
	return true;
}

static bool
same_doc(const cml_document *a, const cml_document *b)
{
	char p[200];

	diff_at[0] = '\0';
	if (a == NULL || b == NULL)
		return differs("document: %p / %p", (const void *)a, (const void *)b);
	SAME_S(a, b, id, "doc");
	SAME_S(a, b, number, "doc");
	SAME_S(a, b, date, "doc");
	SAME_S(a, b, time, "doc");
	SAME_S(a, b, operation, "doc");
	SAME_S(a, b, role, "doc");
	SAME_S(a, b, currency, "doc");
	SAME_S(a, b, rate, "doc");
	SAME_S(a, b, sum, "doc");
	SAME_S(a, b, comment, "doc");
	SAME_S(a, b, version, "doc");
	SAME_S(a, b, number_1c, "doc");
	SAME_S(a, b, date_1c, "doc");
	SAME_S(a, b, due_date, "doc");
	SAME_S(a, b, basis, "doc");
	SAME_V(a, b, deleted, "doc");
	SAME_V(a, b, container, "doc");
	SAME_V(a, b, n_counterparties, "doc");
	for (size_t i = 0; i < a->n_counterparties; i++) {
		join(p, sizeof(p), "counterparties[%zu]", i);
		if (!same_party(&a->counterparties[i], &b->counterparties[i], p))
			return false;
	}
	SAME_V(a, b, n_lines, "doc");
	for (size_t i = 0; i < a->n_lines; i++) {
		join(p, sizeof(p), "lines[%zu]", i);
		if (!same_line(&a->lines[i], &b->lines[i], p))
			return false;
	}
	if (!same_taxes(a->taxes, a->n_taxes, b->taxes, b->n_taxes, "taxes"))
		return false;
	if (!same_discounts(a->discounts, a->n_discounts, b->discounts, b->n_discounts,
	                    "discounts"))
		return false;
	if (!same_pairs(a->requisites, a->n_requisites, b->requisites, b->n_requisites,
	                "requisites"))
		return false;
	SAME_V(a, b, n_payments, "doc");
	for (size_t i = 0; i < a->n_payments; i++) {
		join(p, sizeof(p), "payments[%zu]", i);
		SAME_S(&a->payments[i], &b->payments[i], number, p);
		SAME_S(&a->payments[i], &b->payments[i], transaction, p);
		SAME_S(&a->payments[i], &b->payments[i], date, p);
		SAME_S(&a->payments[i], &b->payments[i], sum, p);
		SAME_S(&a->payments[i], &b->payments[i], method, p);
		SAME_S(&a->payments[i], &b->payments[i], method_id, p);
	}
	SAME_V(a, b, n_warehouses, "doc");
	for (size_t i = 0; i < a->n_warehouses; i++) {
		join(p, sizeof(p), "warehouses[%zu]", i);
		SAME_S(&a->warehouses[i], &b->warehouses[i], id, p);
		SAME_S(&a->warehouses[i], &b->warehouses[i], name, p);
	}
	return true;
}

#define CHECK_SAME_DOC(a, b)                                                            \
	do {                                                                            \
		bool same_ = same_doc(a, b);                                            \
		CHECK(same_);                                                           \
		if (!same_)                                                             \
			fprintf(stderr, "    the documents differ at %s\n", diff_at);   \
	} while (0)

/* ---- a document with every field set ---- */

struct sample {
	cml_document d;
	cml_counterparty party[2];
	cml_pair contacts[2], fields[2], reqs[4], line_reqs[2], chars[1], rep_contacts[2];
	cml_representative rep[1];
	cml_bank_account acc[1];
	cml_unit_conv conv[1];
	cml_doc_line lines[3];
	cml_tax taxes[1], line_taxes[1], rates[1];
	cml_discount discounts[1], line_discounts[1];
	cml_payment payments[1];
};

/* An order of Bitrix's shape with every member of every struct set
 * (NULL beside "" where it matters). */
static void
sample_init(struct sample *x, const char *id)
{
	memset(x, 0, sizeof(*x));
	x->contacts[0] = (cml_pair){ "Электронная почта", "buyer@example.ru" };
	x->contacts[1] = (cml_pair){ "Телефон рабочий", "+7 495 000-00-00" };
	x->fields[0] = (cml_pair){ "Почтовый индекс", "101000" };
	x->fields[1] = (cml_pair){ "Город", "Москва" };
	x->rep_contacts[0] = (cml_pair){ "Почта", "Ivan.Petrov@example.ru" };
	x->rep_contacts[1] = (cml_pair){ "Телефон", "" };
	x->rep[0] = (cml_representative){ "Контактное лицо", "md5-1", "Иван Петров",
		                          x->rep_contacts, 2 };
	x->acc[0] = (cml_bank_account){ "40702810000000000001", "Банк", "044525225",
		                        "30101810400000000225", "Москва, ул. Вавилова" };
	x->party[0] = (cml_counterparty){
		.id = "38#buyer#Петров Иван", .version = "3", .deleted = false,
		.name = "ООО Ромашка", .official_name = "Общество Ромашка",
		.full_name = "ООО «Ромашка»", .last_name = "Петров", .first_name = "Иван",
		.middle_name = "", .role = "Покупатель", .inn = "7707083893", .kpp = "773601001",
		.okpo = "00032537",
		.reg_address = { "101000, Москва", x->fields, 2 },
		.legal_address = { "Москва, Кремль", x->fields + 1, 1 },
		.contacts = x->contacts, .n_contacts = 2,
		.representatives = x->rep, .n_representatives = 1,
		.accounts = x->acc, .n_accounts = 1, .only_changes = CML_FALSE,
	};
	x->party[1] = (cml_counterparty){ .id = "seller", .name = "Магазин", .role = "Продавец",
		                          .deleted = true, .only_changes = CML_TRUE };
	x->conv[0] = (cml_unit_conv){ "упак", "12" };
	x->chars[0] = (cml_pair){ "Размер", "XL" };
	x->line_reqs[0] = (cml_pair){ "ВидНоменклатуры", "Товар" };
	x->line_reqs[1] = (cml_pair){ "ТипНоменклатуры", "Товар" };
	x->line_taxes[0] = (cml_tax){ "НДС", "20", "20.5", CML_TRUE };
	x->rates[0] = (cml_tax){ "НДС", "20", NULL, CML_UNSET };
	x->line_discounts[0] = (cml_discount){ "Скидка", "10", "5", CML_FALSE };
	x->lines[0] = (cml_doc_line){
		.id = "910e89e5-aaaa#12", .catalog_id = "42475bb5", .article = "A-1",
		.name = "Футболка",
		.unit = { "796", "шт", "Штука", "PCE", x->conv, 1 },
		.line_unit = { "778", "упак", "Упаковка", NULL, NULL, 0 },
		.price = "123", .quantity = "1", .sum = "123", .coefficient = "12",
		.characteristics = x->chars, .n_characteristics = 1,
		.requisites = x->line_reqs, .n_requisites = 2,
		.taxes = x->line_taxes, .n_taxes = 1,
		.tax_rates = x->rates, .n_tax_rates = 1,
		.discounts = x->line_discounts, .n_discounts = 1,
	};
	x->lines[1] = (cml_doc_line){ .id = "b2", .name = "Кепка", .price = "50",
		                      .quantity = "2", .sum = "100",
		                      .unit = { "796", "шт", NULL, NULL, NULL, 0 } };
	x->lines[2] = (cml_doc_line){ .id = "ORDER_DELIVERY", .name = "Доставка заказа",
		                      .price = "0", .quantity = "1", .sum = "0" };
	x->reqs[0] = (cml_pair){ "Метод оплаты", "Наличный расчет" };
	x->reqs[1] = (cml_pair){ "Заказ оплачен", "false" };
	x->reqs[2] = (cml_pair){ "Статус заказа", "[N] Принят" };
	x->reqs[3] = (cml_pair){ "Сайт", "[s1] Сайт по умолчанию" };
	x->taxes[0] = (cml_tax){ "НДС", "20", "37.17", CML_TRUE };
	x->discounts[0] = (cml_discount){ "Скидка на заказ", "0", NULL, CML_UNSET };
	x->payments[0] = (cml_payment){ "П-1", "tr-77", "2026-01-02", "223", "Карта", "3" };
	x->d = (cml_document){
		.id = id, .number = id, .date = "2026-01-02", .time = "18:45:21",
		.operation = "Заказ товара", .role = "Продавец", .currency = "руб",
		.rate = "1", .sum = "223", .comment = "", .version = "7", .number_1c = "ТК-1",
		.date_1c = "2026-01-03", .due_date = "2026-01-10", .basis = NULL,
		.deleted = false, .container = 2,
		.counterparties = x->party, .n_counterparties = 2,
		.lines = x->lines, .n_lines = 3,
		.taxes = x->taxes, .n_taxes = 1,
		.discounts = x->discounts, .n_discounts = 1,
		.requisites = x->reqs, .n_requisites = 4,
		.payments = x->payments, .n_payments = 1,
	};
}

/* A payment document of order order_id. */
static void
payment_init(cml_document *d, const char *id, const char *order_id, const char *sum)
{
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->number = id;
	d->operation = "Выплата безналичных денег";
	d->basis = order_id;
	d->sum = sum;
	d->currency = "руб";
}

static cml_ledger_put_result
put(cml_store *s, const char *site, const cml_document *d)
{
	cml_ledger_put_result r;
	cml_status st = cml_ledger_put(s, site, d, &r);

	if (st != CML_OK) {
		fprintf(stderr, "put %s: %s\n", d->id ? d->id : "(null)", cml_store_errmsg(s));
		r.change = (cml_ledger_change)-1;
	}
	return r;
}

/* ---- tests ---- */

static void
test_codec(void)
{
	char err[256] = "";
	bool ok = doc_shapes_check(err, sizeof(err));

	CHECK(ok);
	if (!ok)
		fprintf(stderr, "    %s\n", err);

	/* the stored form gives back every field, NULL and "" told apart */
	struct sample x;
	sample_init(&x, "1");
	cml_buf b = { 0 };
	cml_arena a;
	cml_document *back = NULL;
	cml_arena_init(&a);
	CHECK(doc_encode(&b, &x.d));
	CHECK_INT(doc_decode(&a, b.data, b.len, &back), CML_OK);
	CHECK_SAME_DOC(&x.d, back);
	CHECK(back != NULL && back->comment != NULL && back->comment[0] == '\0');
	CHECK(back != NULL && back->basis == NULL);
	/* every truncation of it is refused, never read past its end */
	for (size_t n = 0; n < b.len; n++)
		CHECK(doc_decode(&a, b.data, n, &back) != CML_OK);
	/* so is a byte changed where a count or a length is */
	char *bad = malloc(b.len);
	memcpy(bad, b.data, b.len);
	bad[0] = 9; /* an unknown format */
	CHECK_INT(doc_decode(&a, bad, b.len, &back), CML_ERR_FORMAT);
	/* any byte changed: read as something or refused, never past the end
	 * (ASan watches); a fixed seed, so a failure repeats */
	unsigned seed = 12345;
	int refused = 0;
	for (int i = 0; i < 3000; i++) {
		memcpy(bad, b.data, b.len);
		for (int k = 0; k < 1 + i % 3; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t at = 1 + (seed >> 8) % (b.len - 1);
			bad[at] = (char)(seed >> 20);
		}
		cml_arena_reset(&a);
		cml_status st = doc_decode(&a, bad, b.len, &back);
		CHECK(st == CML_OK || st == CML_ERR_FORMAT);
		refused += st != CML_OK;
	}
	CHECK(refused > 0);
	free(bad);
	cml_buf_free(&b);
	cml_arena_destroy(&a);
}

/*
 * The stored form and the fingerprint of one small order, as format 1
 * wrote them and format 2 writes them: every revision in every ledger
 * holds such bytes, and every order's fingerprint decides whether a pull
 * is a change. A change of either is on purpose (a new format version
 * that still reads the old ones; a new fingerprint that makes every order
 * look changed once), never by accident.
 */
static void
test_known_forms(void)
{
	/* format 1; format 2 is the same after its first byte (no
	 * representative, so no representative's contacts) */
	static const char stored[] =
		"\x01\x08\x31\x33\x32\x08\x31\x33\x32\x16\x32\x30\x32\x36\x2d\x30"
		"\x31\x2d\x30\x32\x00\x00\x00\xc7\x01\x00\x08\x31\x30\x30\x02\x00"
		"\x00\x00\x00\x00\x00\x00\x01\x10\x37\x23\x62\x75\x79\x65\x72\x00"
		"\x00\x12\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\x00\x00\x00\x00\x00\x7b"
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x0c\x70"
		"\x31\x23\x63\x32\x00\x00\x16\xd0\x9a\xd0\xb5\xd0\xbf\xd0\xba\xd0"
		"\xb0\x0d\xc9\x01\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x35\x30\x2e"
		"\x30\x30\x04\x32\x08\x31\x30\x30\x00\x00\x00\x00\x00\x00\x00\x00"
		"\x00\x01\xa1\x01\x22\x5b\x4e\x5d\x20\xd0\x9f\xd1\x80\xd0\xb8\xd0"
		"\xbd\xd1\x8f\xd1\x82\x00\x00";
	cml_pair req[1] = { { "Статус заказа", "[N] Принят" } };
	cml_doc_line line[1] = { { .id = "p1#c2", .name = "Кепка", .price = "50.00",
		                   .quantity = "2", .sum = "100",
		                   .unit = { "796", "шт", NULL, NULL, NULL, 0 } } };
	cml_counterparty cp[1] = { { .id = "7#buyer", .name = "Иван", .role = "Покупатель" } };
	cml_document d = { .id = "132", .number = "132", .date = "2026-01-02", .currency = "руб",
		           .sum = "100", .comment = "", .counterparties = cp,
		           .n_counterparties = 1, .lines = line, .n_lines = 1,
		           .requisites = req, .n_requisites = 1 };
	cml_buf b = { 0 };
	cml_arena a;
	cml_document *back = NULL;
	cml_fp fp;
	char hex[33] = "";

	cml_arena_init(&a);
	CHECK(doc_encode(&b, &d));
	CHECK_INT(b.len, sizeof(stored) - 1);
	CHECK(b.len == sizeof(stored) - 1 && b.data[0] == 2 &&
	      memcmp(b.data + 1, stored + 1, b.len - 1) == 0);
	CHECK_INT(doc_decode(&a, stored, sizeof(stored) - 1, &back), CML_OK);
	CHECK_SAME_DOC(&d, back);
	CHECK_INT(doc_decode(&a, b.data, b.len, &back), CML_OK);
	CHECK_SAME_DOC(&d, back);
	CHECK(cml_ledger_fingerprint(&d, &fp) == CML_OK);
	cml_fp_hex(fp, hex);
	CHECK_STR(hex, "8e904734f64e91a06d0c49cf99cb3e6c");
	cml_buf_free(&b);
	cml_arena_destroy(&a);
}

/*
 * A representative's own contacts (format 2): the same order with a
 * contact person, whose format-1 bytes and fingerprint were made by the
 * codec before contacts existed. Without contacts it keeps both (no
 * stored order with a representative looks changed after the upgrade);
 * with them the fingerprint moves and what changed says Контрагенты.
 */
static void
test_known_forms_rep(void)
{
	static const char stored1[] =
		"\x01\x08\x31\x33\x32\x08\x31\x33\x32\x16\x32\x30\x32\x36\x2d\x30"
		"\x31\x2d\x30\x32\x00\x00\x00\xc7\x01\x00\x08\x31\x30\x30\x02\x00"
		"\x00\x00\x00\x00\x00\x00\x01\x10\x37\x23\x62\x75\x79\x65\x72\x00"
		"\x00\x12\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\x00\x00\x00\x00\x00\x7b"
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x51\x0c\x6d\x64\x35"
		"\x2d\x31\x12\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\x00\x00\x01\x0c\x70"
		"\x31\x23\x63\x32\x00\x00\x16\xd0\x9a\xd0\xb5\xd0\xbf\xd0\xba\xd0"
		"\xb0\x0d\xc9\x01\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x35\x30\x2e"
		"\x30\x30\x04\x32\x08\x31\x30\x30\x00\x00\x00\x00\x00\x00\x00\x00"
		"\x00\x01\xa1\x01\x22\x5b\x4e\x5d\x20\xd0\x9f\xd1\x80\xd0\xb8\xd0"
		"\xbd\xd1\x8f\xd1\x82\x00\x00";
	/* format 2: the representative's empty contacts after its name */
	static const char stored2[] =
		"\x02\x08\x31\x33\x32\x08\x31\x33\x32\x16\x32\x30\x32\x36\x2d\x30"
		"\x31\x2d\x30\x32\x00\x00\x00\xc7\x01\x00\x08\x31\x30\x30\x02\x00"
		"\x00\x00\x00\x00\x00\x00\x01\x10\x37\x23\x62\x75\x79\x65\x72\x00"
		"\x00\x12\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\x00\x00\x00\x00\x00\x7b"
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x51\x0c\x6d\x64\x35"
		"\x2d\x31\x12\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd\x00\x00\x00\x01\x0c"
		"\x70\x31\x23\x63\x32\x00\x00\x16\xd0\x9a\xd0\xb5\xd0\xbf\xd0\xba"
		"\xd0\xb0\x0d\xc9\x01\x00\x00\x00\x00\x00\x00\x00\x00\x0c\x35\x30"
		"\x2e\x30\x30\x04\x32\x08\x31\x30\x30\x00\x00\x00\x00\x00\x00\x00"
		"\x00\x00\x01\xa1\x01\x22\x5b\x4e\x5d\x20\xd0\x9f\xd1\x80\xd0\xb8"
		"\xd0\xbd\xd1\x8f\xd1\x82\x00\x00";
	cml_pair req[1] = { { "Статус заказа", "[N] Принят" } };
	cml_doc_line line[1] = { { .id = "p1#c2", .name = "Кепка", .price = "50.00",
		                   .quantity = "2", .sum = "100",
		                   .unit = { "796", "шт", NULL, NULL, NULL, 0 } } };
	cml_pair rc[2] = { { "Почта", "ivan@example.ru" }, { "Телефон", "+7 912 345-67-89" } };
	cml_representative rep[1] = { { "Контактное лицо", "md5-1", "Иван", NULL, 0 } };
	cml_counterparty cp[1] = { { .id = "7#buyer", .name = "Иван", .role = "Покупатель",
		                     .representatives = rep, .n_representatives = 1 } };
	cml_document d = { .id = "132", .number = "132", .date = "2026-01-02", .currency = "руб",
		           .sum = "100", .comment = "", .counterparties = cp,
		           .n_counterparties = 1, .lines = line, .n_lines = 1,
		           .requisites = req, .n_requisites = 1 };
	cml_buf b = { 0 }, c1 = { 0 }, c2 = { 0 }, t1 = { 0 }, t2 = { 0 }, changed = { 0 };
	cml_arena a;
	cml_document *back = NULL, *old = NULL;
	cml_fp fp, fp2;
	char hex[33] = "";

	cml_arena_init(&a);
	CHECK(doc_encode(&b, &d));
	CHECK_INT(b.len, sizeof(stored2) - 1);
	CHECK(b.len == sizeof(stored2) - 1 && memcmp(b.data, stored2, b.len) == 0);
	CHECK_INT(doc_decode(&a, stored1, sizeof(stored1) - 1, &back), CML_OK);
	CHECK_SAME_DOC(&d, back);
	CHECK(cml_ledger_fingerprint(&d, &fp) == CML_OK);
	cml_fp_hex(fp, hex);
	CHECK_STR(hex, "c449c5c2605acf679d4acecfe974493c"); /* format 1's */

	/* with contacts: stored and read back, a new fingerprint whose
	 * canonical form is the old one and a trailer */
	rep[0].contacts = rc;
	rep[0].n_contacts = 2;
	cml_buf_clear(&b);
	CHECK(doc_encode(&b, &d));
	CHECK_INT(doc_decode(&a, b.data, b.len, &back), CML_OK);
	CHECK_SAME_DOC(&d, back);
	CHECK(back != NULL && back->counterparties[0].representatives[0].n_contacts == 2);
	CHECK(cml_ledger_fingerprint(&d, &fp2) == CML_OK);
	CHECK(fp2.hi != fp.hi || fp2.lo != fp.lo);
	CHECK(doc_canon(&c2, &d));
	rep[0].n_contacts = 0;
	CHECK(doc_canon(&c1, &d));
	CHECK(c2.len > c1.len && memcmp(c1.data, c2.data, c1.len) == 0);
	/* the format-1 order against the same with contacts */
	CHECK_INT(doc_decode(&a, stored1, sizeof(stored1) - 1, &old), CML_OK);
	CHECK(old != NULL && doc_changes(old, back, &t1, &t2, &changed));
	CHECK(cml_buf_append(&changed, "", 1));
	CHECK_STR(changed.data, "Контрагенты");
	/* a trimmed, otherwise equal contact is no change */
	rc[0].value = " ivan@example.ru\xc2\xa0";
	rep[0].n_contacts = 2;
	CHECK(cml_ledger_fingerprint(&d, &fp) == CML_OK);
	CHECK(fp2.hi == fp.hi && fp2.lo == fp.lo);
	cml_buf_free(&b);
	cml_buf_free(&c1);
	cml_buf_free(&c2);
	cml_buf_free(&t1);
	cml_buf_free(&t2);
	cml_buf_free(&changed);
	cml_arena_destroy(&a);
}

static void
test_new_unchanged_changed(void)
{
	char path[128];
	struct sample x;
	cml_ledger_put_result r;
	cml_ledger_order o;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	CHECK(cml_store_schema_version() >= 4);
	sample_init(&x, "132");
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	int64_t run1 = cml_store_run_id(s);
	CHECK(run1 > 0);
	r = put(s, "shop", &x.d);
	CHECK_INT(r.change, CML_LEDGER_NEW);
	CHECK_INT(r.revision, 1);
	CHECK_STR(r.changed, "");
	/* the same again in the same run: nothing */
	r = put(s, "shop", &x.d);
	CHECK_INT(r.change, CML_LEDGER_UNCHANGED);
	CHECK_INT(r.revision, 1);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(cml_store_run_id(s), 0);

	/* a run that puts the same order writes nothing but its run log */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	r = put(s, "shop", &x.d);
	CHECK_INT(r.change, CML_LEDGER_UNCHANGED);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM order_revisions"), 1);
	CHECK_INT(sql_int(path, "SELECT max(run) FROM order_revisions"), run1);

	/* the sum, a line's quantity and the status change */
	x.d.sum = "250";
	x.lines[1].quantity = "3";
	x.lines[1].sum = "150";
	x.reqs[2].value = "[P] Оплачен";
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	int64_t run3 = cml_store_run_id(s);
	CHECK(run3 > run1);
	r = put(s, "shop", &x.d);
	CHECK_INT(r.change, CML_LEDGER_CHANGED);
	CHECK_INT(r.revision, 2);
	CHECK_STR(r.changed, "Сумма, Товары, Статус заказа");
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	/* the latest revision, and the first one as it was */
	CHECK(cml_ledger_get(s, "shop", "132", 0, &o) == CML_OK);
	CHECK_INT(o.revision, 2);
	CHECK_INT(o.revisions, 2);
	CHECK_INT(o.run, run3);
	CHECK_STR(o.changed, "Сумма, Товары, Статус заказа");
	CHECK_STR(o.site, "shop");
	CHECK_STR(o.id, "132");
	CHECK_STR(o.number, "132");
	CHECK(o.stored != NULL && strlen(o.stored) == 20 && o.stored[19] == 'Z');
	CHECK(o.first_stored != NULL && strcmp(o.first_stored, o.stored) <= 0);
	CHECK_SAME_DOC(&x.d, o.doc);
	cml_fp fp;
	CHECK(cml_ledger_fingerprint(&x.d, &fp) == CML_OK);
	CHECK(cml_fp_equal(fp, o.fp));
	CHECK(cml_ledger_get(s, "shop", "132", 1, &o) == CML_OK);
	CHECK_INT(o.revision, 1);
	CHECK_INT(o.revisions, 2);
	CHECK_INT(o.run, run1);
	CHECK_STR(o.changed, "");
	CHECK(o.doc != NULL && strcmp(o.doc->sum, "223") == 0);
	CHECK(o.doc != NULL && strcmp(o.doc->lines[1].quantity, "2") == 0);
	CHECK(!cml_fp_equal(fp, o.fp));
	CHECK_INT(cml_ledger_get(s, "shop", "132", 3, &o), CML_END);
	CHECK_INT(cml_ledger_get(s, "shop", "133", 0, &o), CML_END);
	CHECK_INT(cml_ledger_get(s, "other", "132", 0, &o), CML_END);

	/* more kinds of change, each named */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	x.party[0].contacts[0].value = "new@example.ru";
	x.d.comment = "позвонить";
	x.reqs[3].value = "[s2] Другой";
	x.d.n_payments = 0;
	r = put(s, "shop", &x.d);
	CHECK_INT(r.revision, 3);
	CHECK_STR(r.changed, "Комментарий, Контрагенты, Сайт, Оплаты");
	/* a requisite gone, and one new */
	x.d.n_requisites = 3;
	x.reqs[0] = (cml_pair){ "Отменен", "true" };
	r = put(s, "shop", &x.d);
	CHECK_STR(r.changed, "Отменен, Метод оплаты, Сайт");
	/* the same requisites in another order */
	cml_pair swap = x.reqs[0];
	x.reqs[0] = x.reqs[1];
	x.reqs[1] = swap;
	r = put(s, "shop", &x.d);
	CHECK_INT(r.change, CML_LEDGER_CHANGED);
	CHECK_STR(r.changed, "ЗначенияРеквизитов");
	/* a document's place in a 3.1 file is not its content */
	x.d.container = 9;
	r = put(s, "shop", &x.d);
	CHECK_INT(r.change, CML_LEDGER_UNCHANGED);
	CHECK_INT(r.revision, 5);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_store_close(s);
}

/* A long list of what changed is cut in the result, whole in the ledger. */
static void
test_changed_cut(void)
{
	char path[128], names[40][48];
	cml_pair reqs[40];
	struct sample x;
	cml_ledger_put_result r;
	cml_ledger_order o;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	sample_init(&x, "cut");
	for (int i = 0; i < 40; i++) {
		join(names[i], sizeof(names[i]), "Реквизит номер %d", i);
		reqs[i] = (cml_pair){ names[i], "старое" };
	}
	x.d.requisites = reqs;
	x.d.n_requisites = 40;
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK_INT(put(s, "shop", &x.d).change, CML_LEDGER_NEW);
	for (int i = 0; i < 40; i++)
		reqs[i].value = "новое";
	r = put(s, "shop", &x.d);
	CHECK_INT(r.change, CML_LEDGER_CHANGED);
	size_t n = strlen(r.changed);
	CHECK(n < sizeof(r.changed) && n > sizeof(r.changed) - 40);
	CHECK(n >= 3 && strcmp(r.changed + n - 3, "...") == 0);
	CHECK(strncmp(r.changed, "Реквизит номер 0, Реквизит номер 1, ", 36) == 0);
	/* cut between characters, never inside one */
	const unsigned char *u = (const unsigned char *)r.changed;
	size_t i = 0;
	while (i < n) {
		size_t len = u[i] < 0x80 ? 1
		             : (u[i] & 0xe0) == 0xc0 ? 2
		             : (u[i] & 0xf0) == 0xe0 ? 3
		                                     : 4;
		CHECK(i + len <= n);
		i += len;
	}
	CHECK(cml_ledger_get(s, "shop", "cut", 0, &o) == CML_OK);
	CHECK(o.changed != NULL && strlen(o.changed) > sizeof(r.changed));
	CHECK(o.changed != NULL && strstr(o.changed, "Реквизит номер 39") != NULL);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_store_close(s);
}

/* 100 = 100.00 = " 100,00 "; values are compared trimmed, NULL as "". */
static void
test_numbers(void)
{
	char path[128];
	struct sample x;
	cml_ledger_put_result r;
	cml_fp a, b;

	sample_init(&x, "n1");
	x.d.sum = "100";
	x.lines[0].price = "1200.5";
	CHECK(cml_ledger_fingerprint(&x.d, &a) == CML_OK);
	x.d.sum = "100.00";
	x.lines[0].price = "1 200,50";
	x.d.comment = NULL;
	x.d.currency = " руб ";
	CHECK(cml_ledger_fingerprint(&x.d, &b) == CML_OK);
	CHECK(cml_fp_equal(a, b));
	x.d.sum = "100.01";
	CHECK(cml_ledger_fingerprint(&x.d, &b) == CML_OK);
	CHECK(!cml_fp_equal(a, b));
	CHECK_INT(cml_ledger_fingerprint(NULL, &b), CML_ERR_USAGE);

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	x.d.sum = "100";
	r = put(s, "shop", &x.d);
	CHECK_INT(r.change, CML_LEDGER_NEW);
	x.d.sum = "100.00";
	r = put(s, "shop", &x.d);
	CHECK_INT(r.change, CML_LEDGER_UNCHANGED);
	x.d.sum = "1e2"; /* no decimal number: compared as text */
	r = put(s, "shop", &x.d);
	CHECK_INT(r.change, CML_LEDGER_CHANGED);
	CHECK_STR(r.changed, "Сумма");
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_store_close(s);
}

static int64_t
revision_of(cml_store *s, const char *site, const char *id)
{
	cml_ledger_order o;

	return cml_ledger_get(s, site, id, 0, &o) == CML_OK ? o.revision : -1;
}

static void
test_attachments(void)
{
	char path[128];
	struct sample x;
	cml_document pay, ship;
	cml_ledger_change ch = (cml_ledger_change)-1;
	cml_ledger_put_result r;
	cml_ledger_order o;
	int64_t n = -1;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	sample_init(&x, "o1");
	payment_init(&pay, "pay-1", "o1", "223");

	/* before its order: kept, no order made of it */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK(cml_ledger_attach(s, "shop", &pay, &ch) == CML_OK);
	CHECK_INT(ch, CML_LEDGER_NEW);
	CHECK(cml_ledger_count(s, NULL, &n) == CML_OK);
	CHECK_INT(n, 0);
	/* its order arrives: one new order, the payment is one of its own */
	r = put(s, "shop", &x.d);
	CHECK_INT(r.change, CML_LEDGER_NEW);
	CHECK_INT(r.revision, 1);
	void *cur = NULL;
	const cml_document *d = NULL;
	CHECK(cml_ledger_attachments(s, "shop", "o1", &cur, &d) == CML_OK);
	CHECK_SAME_DOC(&pay, d);
	CHECK_INT(cml_ledger_attachments(s, "shop", "o1", &cur, &d), CML_END);
	cml_ledger_end(s, &cur);
	CHECK(cur == NULL);
	/* the same again: nothing */
	CHECK(cml_ledger_attach(s, "shop", &pay, &ch) == CML_OK);
	CHECK_INT(ch, CML_LEDGER_UNCHANGED);
	CHECK_INT(revision_of(s, "shop", "o1"), 1);
	/* after its order, in the run that made the order new: part of it */
	cml_document pay0;
	payment_init(&pay0, "pay-0", "o1", "10");
	CHECK(cml_ledger_attach(s, "shop", &pay0, &ch) == CML_OK);
	CHECK_INT(ch, CML_LEDGER_NEW);
	CHECK(cml_ledger_get(s, "shop", "o1", 0, &o) == CML_OK);
	CHECK_INT(o.revision, 1);
	CHECK_STR(o.changed, "");
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	/* after its order, in a later run: a changed payment is a revision of
	 * the order, its document the same; a new shipment in the same run
	 * is named by that revision too, not by another one */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	pay.sum = "300";
	CHECK(cml_ledger_attach(s, "shop", &pay, &ch) == CML_OK);
	CHECK_INT(ch, CML_LEDGER_CHANGED);
	CHECK(cml_ledger_get(s, "shop", "o1", 0, &o) == CML_OK);
	CHECK_INT(o.revision, 2);
	CHECK_INT(o.run, cml_store_run_id(s));
	CHECK_STR(o.changed, "Выплата безналичных денег pay-1");
	CHECK_SAME_DOC(&x.d, o.doc);
	memset(&ship, 0, sizeof(ship));
	ship.id = "ship-1";
	ship.operation = "Отпуск товара";
	ship.basis = "o1";
	CHECK(cml_ledger_attach(s, "shop", &ship, &ch) == CML_OK);
	CHECK_INT(ch, CML_LEDGER_NEW);
	CHECK(cml_ledger_get(s, "shop", "o1", 0, &o) == CML_OK);
	CHECK_INT(o.revision, 2);
	CHECK_STR(o.changed, "Выплата безналичных денег pay-1, Отпуск товара ship-1");
	/* changed once more in the same run: named once */
	pay.sum = "301";
	CHECK(cml_ledger_attach(s, "shop", &pay, &ch) == CML_OK);
	CHECK_INT(ch, CML_LEDGER_CHANGED);
	CHECK(cml_ledger_get(s, "shop", "o1", 0, &o) == CML_OK);
	CHECK_STR(o.changed, "Выплата безналичных денег pay-1, Отпуск товара ship-1");
	/* the order itself again: unchanged, its revision stays */
	r = put(s, "shop", &x.d);
	CHECK_INT(r.change, CML_LEDGER_UNCHANGED);
	CHECK_INT(r.revision, 2);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	/* a third run: a new revision again */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	ship.number = "О-1";
	CHECK(cml_ledger_attach(s, "shop", &ship, &ch) == CML_OK);
	CHECK_INT(ch, CML_LEDGER_CHANGED);
	CHECK(cml_ledger_get(s, "shop", "o1", 0, &o) == CML_OK);
	CHECK_INT(o.revision, 3);
	CHECK_STR(o.changed, "Отпуск товара О-1");
	cur = NULL;
	int k = 0;
	while (cml_ledger_attachments(s, "shop", "o1", &cur, &d) == CML_OK) {
		k++;
		if (k == 1)
			CHECK_SAME_DOC(&pay, d);
		else if (k == 2)
			CHECK_SAME_DOC(&pay0, d);
		else
			CHECK_SAME_DOC(&ship, d);
	}
	cml_ledger_end(s, &cur);
	CHECK_INT(k, 3);
	/* no Основание, no Ид */
	ship.basis = NULL;
	CHECK_INT(cml_ledger_attach(s, "shop", &ship, NULL), CML_ERR_VALUE);
	CHECK(strstr(cml_store_errmsg(s), "Основание") != NULL);
	ship.basis = "o1";
	ship.id = NULL;
	CHECK_INT(cml_ledger_attach(s, "shop", &ship, NULL), CML_ERR_VALUE);
	/* another site's order of the same Ид is not touched */
	payment_init(&pay, "pay-2", "o1", "1");
	CHECK(cml_ledger_attach(s, "other", &pay, &ch) == CML_OK);
	CHECK_INT(ch, CML_LEDGER_NEW);
	CHECK_INT(revision_of(s, "shop", "o1"), 3);
	CHECK_INT(revision_of(s, "other", "o1"), -1);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_store_close(s);
}

/* The ids an iteration with filter f gives, "a b c". */
static void
listed(cml_store *s, const cml_ledger_filter *f, char *out, size_t cap)
{
	void *cur = NULL;
	cml_ledger_order o;
	size_t n = 0;
	cml_status st;

	out[0] = '\0';
	while ((st = cml_ledger_next(s, f, &cur, &o)) == CML_OK) {
		n += (size_t)snprintf(out + n, cap - n, "%s%s:%s/%lld", n ? " " : "", o.site, o.id,
		                      (long long)o.revision);
		CHECK(o.doc != NULL && o.doc->id != NULL && strcmp(o.doc->id, o.id) == 0);
		if (n >= cap)
			break;
	}
	if (st != CML_END)
		snprintf(out, cap, "error %d: %s", (int)st, cml_store_errmsg(s));
	cml_ledger_end(s, &cur);
}

static void
test_filters(void)
{
	char path[128], got[512];
	struct sample a, b, c, d;
	cml_ledger_filter f;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	sample_init(&a, "A");
	sample_init(&b, "B");
	sample_init(&c, "C");
	sample_init(&d, "D");
	/* run 1: A and B; run 2: A changed, C new; run 3: D on another site */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	int64_t r1 = cml_store_run_id(s);
	CHECK_INT(put(s, "shop", &a.d).change, CML_LEDGER_NEW);
	CHECK_INT(put(s, "shop", &b.d).change, CML_LEDGER_NEW);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	int64_t r2 = cml_store_run_id(s);
	a.d.sum = "1";
	CHECK_INT(put(s, "shop", &a.d).change, CML_LEDGER_CHANGED);
	CHECK_INT(put(s, "shop", &c.d).change, CML_LEDGER_NEW);
	CHECK_INT(put(s, "shop", &b.d).change, CML_LEDGER_UNCHANGED);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	int64_t r3 = cml_store_run_id(s);
	CHECK_INT(put(s, "market", &d.d).change, CML_LEDGER_NEW);
	/* inside the run, before its commit, the run's own orders are there */
	memset(&f, 0, sizeof(f));
	f.run = r3;
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "market:D/1");
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	/* the times the runs stored them at, made distinct */
	char sql[512];
	snprintf(sql, sizeof(sql),
	         "UPDATE order_revisions SET stored = CASE run WHEN %lld THEN "
	         "'2026-01-01T10:00:00Z' WHEN %lld THEN '2026-01-02T12:00:00Z' ELSE "
	         "'2026-01-03T00:00:00Z' END",
	         (long long)r1, (long long)r2);
	CHECK(sql_exec(path, sql));

	memset(&f, 0, sizeof(f));
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "shop:A/2 shop:B/1 shop:C/1 market:D/1");
	f.run = r1;
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "shop:A/2 shop:B/1");
	f.run = r2;
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "shop:A/2 shop:C/1");
	f.run = r3 + 1;
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "");
	f.run = 0;
	f.since_run = r2;
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "shop:A/2 shop:C/1 market:D/1");
	f.site = "shop";
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "shop:A/2 shop:C/1");
	f.since_run = 0;
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "shop:A/2 shop:B/1 shop:C/1");
	f.site = "market";
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "market:D/1");
	f.site = "nowhere";
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "");
	memset(&f, 0, sizeof(f));
	f.since = "2026-01-02";
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "shop:A/2 shop:C/1 market:D/1");
	f.since = "2026-01-01T10:00:01";
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "shop:A/2 shop:C/1 market:D/1");
	f.since = "2026-01-01T10:00:00";
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "shop:A/2 shop:B/1 shop:C/1 market:D/1");
	f.since = "2026-01-02 12:00:00Z";
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "shop:A/2 shop:C/1 market:D/1");
	f.since = "2026-01-02T12:00:01";
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "market:D/1");
	f.since = "2026-01-04";
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "");
	/* the filters together */
	f.since = "2026-01-01";
	f.run = r1;
	f.site = "shop";
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "shop:A/2 shop:B/1");
	/* not a time */
	memset(&f, 0, sizeof(f));
	void *cur = NULL;
	cml_ledger_order o;
	const char *bad[] = { "yesterday", "2026-1-2", "2026-01-02T1:00:00",
		              "2026-01-02X12:00:00" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f.since = bad[i];
		CHECK_INT(cml_ledger_next(s, &f, &cur, &o), CML_ERR_VALUE);
		CHECK(cur == NULL);
		CHECK(strstr(cml_store_errmsg(s), bad[i]) != NULL);
	}
	/* a get between two steps does not disturb the iteration */
	memset(&f, 0, sizeof(f));
	int k = 0;
	while (cml_ledger_next(s, &f, &cur, &o) == CML_OK) {
		cml_ledger_order other;
		const char *id = o.id;
		CHECK(cml_ledger_get(s, "shop", "B", 0, &other) == CML_OK);
		CHECK(strcmp(o.id, id) == 0 && strcmp(o.doc->id, o.id) == 0);
		k++;
	}
	cml_ledger_end(s, &cur);
	CHECK_INT(k, 4);
	int64_t n = -1;
	CHECK(cml_ledger_count(s, NULL, &n) == CML_OK);
	CHECK_INT(n, 4);
	CHECK(cml_ledger_count(s, "shop", &n) == CML_OK);
	CHECK_INT(n, 3);
	CHECK(cml_ledger_count(s, "nowhere", &n) == CML_OK);
	CHECK_INT(n, 0);
	cml_store_close(s);

	/* a read-only handle reads the ledger as well */
	cml_store_opts ro = { .read_only = true };
	char err[256];
	cml_status st;
	s = cml_store_open(path, &ro, &st, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		return;
	memset(&f, 0, sizeof(f));
	f.since_run = r2;
	listed(s, &f, got, sizeof(got));
	CHECK_STR(got, "shop:A/2 shop:C/1 market:D/1");
	CHECK(cml_ledger_get(s, "shop", "A", 1, &o) == CML_OK);
	CHECK(o.doc != NULL && strcmp(o.doc->id, "A") == 0 && strcmp(o.doc->sum, "223") == 0);
	CHECK_INT(o.revisions, 2);
	cml_store_close(s);
}

static void
test_history(void)
{
	char path[128], got[256];
	struct sample x;
	cml_document pay;
	void *cur = NULL;
	cml_ledger_order o;
	size_t n = 0;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	sample_init(&x, "h");
	payment_init(&pay, "p", "h", "1");
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	int64_t r1 = cml_store_run_id(s);
	CHECK_INT(put(s, "shop", &x.d).change, CML_LEDGER_NEW);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	int64_t r2 = cml_store_run_id(s);
	x.d.date = "2026-02-01";
	CHECK_INT(put(s, "shop", &x.d).change, CML_LEDGER_CHANGED);
	CHECK(cml_ledger_attach(s, "shop", &pay, NULL) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	got[0] = '\0';
	while (cml_ledger_history(s, "shop", "h", &cur, &o) == CML_OK) {
		long long run = o.run == r1 ? 1 : o.run == r2 ? 2 : 0;
		n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%lld@%lld:%s", n ? "; " : "",
		                      (long long)o.revision, run, o.changed);
		CHECK(o.doc == NULL);
		CHECK_INT(o.revisions, 2);
	}
	cml_ledger_end(s, &cur);
	CHECK_STR(got, "1@1:; 2@2:Дата, Выплата безналичных денег p");
	CHECK_INT(cml_ledger_history(s, "shop", "none", &cur, &o), CML_END);
	cml_ledger_end(s, &cur);
	cml_ledger_end(s, &cur); /* twice is fine */
	cml_store_close(s);
}

static void
test_rollback(void)
{
	char path[128];
	struct sample x;
	cml_document pay;
	int64_t n = -1;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	sample_init(&x, "r");
	payment_init(&pay, "p", "r", "1");
	/* outside a run nothing is written */
	CHECK_INT(cml_ledger_put(s, "shop", &x.d, NULL), CML_ERR_STATE);
	CHECK_INT(cml_ledger_attach(s, "shop", &pay, NULL), CML_ERR_STATE);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK(cml_ledger_put(s, "shop", &x.d, NULL) == CML_OK);
	CHECK(cml_ledger_attach(s, "shop", &pay, NULL) == CML_OK);
	CHECK(cml_ledger_count(s, NULL, &n) == CML_OK);
	CHECK_INT(n, 1);
	cml_store_run_rollback(s);
	CHECK(cml_ledger_count(s, NULL, &n) == CML_OK);
	CHECK_INT(n, 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM order_revisions"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM order_attachments"), 0);
	cml_ledger_order o;
	CHECK_INT(cml_ledger_get(s, "shop", "r", 0, &o), CML_END);
	/* after it, the same order is new again */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK_INT(put(s, "shop", &x.d).change, CML_LEDGER_NEW);
	/* bad calls */
	x.d.id = NULL;
	CHECK_INT(cml_ledger_put(s, "shop", &x.d, NULL), CML_ERR_VALUE);
	CHECK(strstr(cml_store_errmsg(s), "without Ид (Номер r)") != NULL);
	x.d.id = "";
	CHECK_INT(cml_ledger_put(s, "shop", &x.d, NULL), CML_ERR_VALUE);
	x.d.id = "r";
	CHECK_INT(cml_ledger_put(s, NULL, &x.d, NULL), CML_ERR_USAGE);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM order_revisions"), 1);
	CHECK_STR(cml_ledger_change_name(CML_LEDGER_UNCHANGED), "unchanged");
	CHECK_STR(cml_ledger_change_name(CML_LEDGER_NEW), "new");
	CHECK_STR(cml_ledger_change_name(CML_LEDGER_CHANGED), "changed");
	cml_store_close(s);
}

static void
test_two_sites(void)
{
	char path[128];
	struct sample a, b;
	cml_ledger_order o;
	int64_t n = -1;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	sample_init(&a, "100");
	sample_init(&b, "100");
	b.d.sum = "999";
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK_INT(put(s, "shop", &a.d).change, CML_LEDGER_NEW);
	CHECK_INT(put(s, "market", &b.d).change, CML_LEDGER_NEW);
	CHECK_INT(put(s, "shop", &a.d).change, CML_LEDGER_UNCHANGED);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_ledger_count(s, NULL, &n) == CML_OK);
	CHECK_INT(n, 2);
	CHECK(cml_ledger_count(s, "shop", &n) == CML_OK);
	CHECK_INT(n, 1);
	CHECK(cml_ledger_get(s, "shop", "100", 0, &o) == CML_OK);
	CHECK_SAME_DOC(&a.d, o.doc);
	CHECK(cml_ledger_get(s, "market", "100", 0, &o) == CML_OK);
	CHECK_SAME_DOC(&b.d, o.doc);
	CHECK_INT(o.revision, 1);
	cml_store_close(s);
}

/*
 * The output mark: 0 at first, moved only inside a run, never back, per
 * site; a rolled-back move leaves it where it was; since_run = mark + 1
 * gives what is pending output.
 */
static void
test_output_mark(void)
{
	char path[128];
	struct sample a, b;
	cml_ledger_order o;
	int64_t mark = -1, r1, r2;
	void *cur = NULL;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	sample_init(&a, "100");
	sample_init(&b, "101");
	CHECK(cml_ledger_output_mark(s, "shop", &mark) == CML_OK);
	CHECK_INT(mark, 0);
	CHECK(cml_ledger_set_output_mark(s, "shop", 1) != CML_OK); /* outside a run */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	r1 = cml_store_run_id(s);
	CHECK_INT(put(s, "shop", &a.d).change, CML_LEDGER_NEW);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	r2 = cml_store_run_id(s);
	CHECK(r2 > r1);
	CHECK_INT(put(s, "shop", &b.d).change, CML_LEDGER_NEW);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	/* r1's order went out: r2's is what is pending */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK(cml_ledger_set_output_mark(s, "shop", r1) == CML_OK);
	CHECK(cml_store_run_commit(s, "output", NULL) == CML_OK);
	CHECK(cml_ledger_output_mark(s, "shop", &mark) == CML_OK);
	CHECK_INT(mark, r1);
	CHECK(cml_ledger_output_mark(s, "market", &mark) == CML_OK);
	CHECK_INT(mark, 0);
	cml_ledger_filter f = { .site = "shop", .since_run = r1 + 1 };
	int n = 0;
	while (cml_ledger_next(s, &f, &cur, &o) == CML_OK) {
		CHECK_STR(o.id, "101");
		n++;
	}
	cml_ledger_end(s, &cur);
	CHECK_INT(n, 1);

	/* never back; a rolled-back move is no move */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK(cml_ledger_set_output_mark(s, "shop", r2) == CML_OK);
	cml_store_run_rollback(s);
	CHECK(cml_ledger_output_mark(s, "shop", &mark) == CML_OK);
	CHECK_INT(mark, r1);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK(cml_ledger_set_output_mark(s, "shop", r2) == CML_OK);
	CHECK(cml_ledger_set_output_mark(s, "shop", r1) == CML_OK);
	CHECK(cml_store_run_commit(s, "output", NULL) == CML_OK);
	CHECK(cml_ledger_output_mark(s, "shop", &mark) == CML_OK);
	CHECK_INT(mark, r2);
	cml_store_close(s);
}

/*
 * A database of schema version 3, as the code before the ledger made it
 * (its three migrations, as SQL), with a baseline in it: opening it adds
 * the ledger and keeps the catalog state.
 */
static void
test_migrate_v3(void)
{
	char path[128];
	struct sample x;

	harness_db_path(tmpdir, path, sizeof(path));
	CHECK(sql_exec(path,
	               "CREATE TABLE runs (id INTEGER PRIMARY KEY, program TEXT NOT NULL,"
	               " pid INTEGER, started TEXT NOT NULL, ended TEXT, outcome TEXT,"
	               " counts TEXT);"
	               "CREATE TABLE generations (gen INTEGER PRIMARY KEY AUTOINCREMENT,"
	               " kind TEXT NOT NULL CHECK (kind IN ('full','delta')), package TEXT,"
	               " created TEXT NOT NULL, acked TEXT, run INTEGER REFERENCES runs(id));"
	               "CREATE TABLE gen_parts (seq INTEGER PRIMARY KEY, gen INTEGER NOT NULL,"
	               " part TEXT NOT NULL, id TEXT NOT NULL, fp BLOB,"
	               " deleted INTEGER NOT NULL DEFAULT 0);"
	               "CREATE INDEX gen_parts_gen ON gen_parts(gen);"
	               "CREATE TABLE baseline (part TEXT NOT NULL, id TEXT NOT NULL, fp BLOB,"
	               " gen INTEGER NOT NULL, PRIMARY KEY (part, id)) WITHOUT ROWID;"
	               "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
	               "INSERT INTO meta VALUES ('baseline_gen', '1');"
	               "ALTER TABLE generations ADD COLUMN files TEXT;"
	               "CREATE INDEX generations_package ON generations(package, gen);"
	               "ALTER TABLE generations ADD COLUMN superseded TEXT;"
	               "ALTER TABLE generations ADD COLUMN superseded_run INTEGER "
	               " REFERENCES runs(id);"
	               "INSERT INTO runs VALUES (1, 'full-export', 1, '2026-01-01T00:00:00Z',"
	               " '2026-01-01T00:00:01Z', 'ok', NULL);"
	               "INSERT INTO generations(kind, package, created, acked, run) "
	               " VALUES ('full', '/pkg', '2026-01-01T00:00:00Z',"
	               " '2026-01-01T00:00:01Z', 1);"
	               "INSERT INTO baseline VALUES ('product', 'p1', zeroblob(16), 1);"
	               "PRAGMA user_version = 3;"));
	/* read-only, it is not upgraded */
	cml_store_opts ro = { .read_only = true };
	char err[512];
	cml_status st;
	cml_store *s = cml_store_open(path, &ro, &st, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "needs an upgrade to schema version") != NULL);
	s = open_db(path);
	if (s == NULL)
		return;
	CHECK_INT(sql_int(path, "PRAGMA user_version"), cml_store_schema_version());
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline"), 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM orders"), 0);
	sample_init(&x, "m");
	CHECK(cml_store_run_begin(s, "orders-pull") == CML_OK);
	/* run numbers go on from the old run log */
	CHECK_INT(cml_store_run_id(s), 2);
	CHECK_INT(put(s, "shop", &x.d).change, CML_LEDGER_NEW);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_ledger_order o;
	CHECK(cml_ledger_get(s, "shop", "m", 0, &o) == CML_OK);
	CHECK_SAME_DOC(&x.d, o.doc);
	cml_store_close(s);
}

/* A damaged stored document is an error naming the order, not a crash. */
static void
test_damaged(void)
{
	char path[128];
	struct sample x;
	cml_ledger_order o;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	sample_init(&x, "dmg");
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK_INT(put(s, "shop", &x.d).change, CML_LEDGER_NEW);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(sql_exec(path, "UPDATE order_revisions SET doc = substr(doc, 1, 40)"));
	CHECK_INT(cml_ledger_get(s, "shop", "dmg", 0, &o), CML_ERR_FORMAT);
	CHECK(strstr(cml_store_errmsg(s), "revision 1 of order dmg of shop is damaged") != NULL);
	/* a change needs the old document: refused, and the run goes on */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	x.d.sum = "1";
	CHECK_INT(cml_ledger_put(s, "shop", &x.d, NULL), CML_ERR_FORMAT);
	cml_store_run_rollback(s);
	cml_store_close(s);
}

static void
test_alloc_failures(void)
{
	char path[128];
	struct sample x;
	cml_ledger_order o;
	cml_status st = CML_ERR_NOMEM;
	int n, failed = 0;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	sample_init(&x, "a");
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	for (n = 1; n < 200; n++) {
		cml_alloc_fail_after(n);
		st = cml_ledger_put(s, "shop", &x.d, NULL);
		cml_alloc_fail_after(0);
		if (st == CML_OK)
			break;
		CHECK_INT(st, CML_ERR_NOMEM);
		failed++;
	}
	CHECK(st == CML_OK && failed > 0);
	/* a change, then reading back, fail cleanly too */
	x.d.sum = "2";
	for (n = 1; n < 400; n++) {
		cml_alloc_fail_after(n);
		st = cml_ledger_put(s, "shop", &x.d, NULL);
		cml_alloc_fail_after(0);
		if (st == CML_OK)
			break;
		CHECK_INT(st, CML_ERR_NOMEM);
	}
	CHECK(st == CML_OK);
	CHECK_INT(revision_of(s, "shop", "a"), 2);
	for (n = 1; n < 400; n++) {
		cml_alloc_fail_after(n);
		st = cml_ledger_get(s, "shop", "a", 1, &o);
		cml_alloc_fail_after(0);
		if (st == CML_OK)
			break;
		CHECK_INT(st, CML_ERR_NOMEM);
	}
	CHECK(st == CML_OK && o.doc != NULL && strcmp(o.doc->sum, "223") == 0);
	/* an attachment that makes a revision: all of it or nothing */
	cml_document pay;
	payment_init(&pay, "p", "a", "5");
	for (n = 1; n < 400; n++) {
		cml_alloc_fail_after(n);
		st = cml_ledger_attach(s, "shop", &pay, NULL);
		cml_alloc_fail_after(0);
		if (st == CML_OK)
			break;
		CHECK_INT(st, CML_ERR_NOMEM);
		CHECK(cml_ledger_get(s, "shop", "a", 0, &o) == CML_OK);
		CHECK_STR(o.changed, "Сумма");
	}
	CHECK(st == CML_OK);
	CHECK_INT(revision_of(s, "shop", "a"), 2);
	CHECK(cml_ledger_get(s, "shop", "a", 0, &o) == CML_OK);
	CHECK_STR(o.changed, "Сумма, Выплата безналичных денег p");
	/* iterations: the cursor, the strings, the document */
	for (n = 1; n < 400; n++) {
		void *cur = NULL;
		cml_ledger_filter f = { .site = "shop" };
		cml_alloc_fail_after(n);
		st = cml_ledger_next(s, &f, &cur, &o);
		cml_alloc_fail_after(0);
		bool whole = st == CML_OK && o.doc != NULL && strcmp(o.doc->sum, "2") == 0;
		cml_ledger_end(s, &cur);
		if (st == CML_OK) {
			CHECK(whole);
			break;
		}
		CHECK_INT(st, CML_ERR_NOMEM);
	}
	CHECK_INT(st, CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_store_close(s);
}

/* ---- the corpus: every order read, stored, read back the same ---- */

static int corpus_docs;

static void
roundtrip_file(cml_store *s, cml_reader *r, const char *path, const char *name)
{
	const cml_item *it;
	cml_status st = cml_reader_open_file(r, path);
	int docs = 0;

	harness_current = name;
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK) {
		if (it->kind != CML_ITEM_DOCUMENT)
			continue;
		const cml_document *d = &it->u.document;
		docs++;
		if (d->id == NULL) {
			/* not an order the ledger can keep: refused, nothing stored */
			CHECK_INT(cml_ledger_put(s, name, d, NULL), CML_ERR_VALUE);
			continue;
		}
		if (d->basis != NULL) {
			cml_ledger_change ch;
			CHECK(cml_ledger_attach(s, name, d, &ch) == CML_OK);
			CHECK(ch == CML_LEDGER_NEW || ch == CML_LEDGER_CHANGED);
			void *cur = NULL;
			const cml_document *back = NULL;
			bool found = false;
			while (!found && cml_ledger_attachments(s, name, d->basis, &cur, &back) ==
			                         CML_OK)
				found = back->id != NULL && strcmp(back->id, d->id) == 0;
			CHECK(found);
			if (found)
				CHECK_SAME_DOC(d, back);
			cml_ledger_end(s, &cur);
			CHECK(cml_ledger_attach(s, name, d, &ch) == CML_OK);
			CHECK_INT(ch, CML_LEDGER_UNCHANGED);
			continue;
		}
		cml_ledger_put_result res;
		cml_ledger_order o;
		CHECK(cml_ledger_put(s, name, d, &res) == CML_OK);
		CHECK(res.change == CML_LEDGER_NEW || res.change == CML_LEDGER_CHANGED);
		CHECK(cml_ledger_get(s, name, d->id, 0, &o) == CML_OK);
		CHECK_SAME_DOC(d, o.doc);
		if (!same_doc(d, o.doc))
			fprintf(stderr, "    document %s at line %lu\n", d->id, it->origin.line);
		CHECK(cml_ledger_put(s, name, d, &res) == CML_OK);
		CHECK_INT(res.change, CML_LEDGER_UNCHANGED);
	}
	if (st != CML_END)
		fprintf(stderr, "  %s: %s\n", name, cml_reader_errmsg(r));
	CHECK_INT(st, CML_END);
	CHECK(docs > 0 || strstr(name, "empty") != NULL);
	corpus_docs += docs;
}

static void
test_corpus(void)
{
	char path[128], line[4096], file[4096];
	FILE *fp = fopen(CORPUS "/SOURCES.tsv", "r");
	int files = 0;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	cml_reader *r = cml_reader_new(NULL);
	if (s == NULL || r == NULL) {
		CHECK(!"open");
		goto out;
	}
	CHECK(cml_store_run_begin(s, "corpus") == CML_OK);
	if (fp != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL) {
			char *name = line, *tab;
			int col = 0;
			const char *kind = NULL;

			line[strcspn(line, "\n")] = '\0';
			for (char *p = line; (tab = strchr(p, '\t')) != NULL; p = tab + 1) {
				*tab = '\0';
				if (++col == 5)
					kind = tab + 1;
			}
			if (kind == NULL || strcmp(kind, "orders") != 0)
				continue;
			join(file, sizeof(file), "%s/%s", CORPUS, name);
			roundtrip_file(s, r, file, name);
			files++;
		}
		fclose(fp);
	} else {
		/* without shared/: the copies of real order files */
		static const char *const copies[] = {
			"dobromyslov__commerceml-parser__data_bitrix-query-response-full.xml",
			"lexxkrt__laravel-catalog-with-1c-exchange__resources_views_orders.xml",
		};
		printf("no %s/SOURCES.tsv: the corpus copies in tests/data only\n", CORPUS);
		for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]); i++) {
			join(file, sizeof(file), "%s/corpus/%s", TESTDATA, copies[i]);
			roundtrip_file(s, r, file, copies[i]);
			files++;
		}
	}
	harness_current = "test_corpus";
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	printf("corpus: %d order files, %d documents stored and read back\n", files,
	       corpus_docs);
	CHECK(files > 0 && corpus_docs > 0);
out:
	cml_reader_free(r);
	cml_store_close(s);
}

/* ---- speed ---- */

static void
bench_doc(struct sample *x, long i, char *id, char *num, char lines[5][5][40])
{
	sample_init(x, NULL);
	join(id, 40, "%08lx-4f1c-9a2b-%012lx", (unsigned long)(i * 2654435761u) & 0xffffffffu,
	     (unsigned long)i);
	join(num, 40, "%ld", 100000 + i);
	x->d.id = id;
	x->d.number = num;
	x->d.n_payments = 0;
	x->d.n_counterparties = 1;
	x->d.lines = x->lines;
	/* five lines: the sample's three and two more like its second */
	static cml_doc_line more[5];
	memcpy(more, x->lines, sizeof(x->lines));
	more[3] = x->lines[1];
	more[4] = x->lines[1];
	for (int k = 0; k < 5; k++) {
		join(lines[k][0], 40, "prod-%ld-%d", (i * 7 + k) % 5000, k);
		join(lines[k][1], 40, "%ld.%02d", 10 + (i + k) % 990, k * 7);
		more[k].id = lines[k][0];
		more[k].price = lines[k][1];
	}
	x->d.lines = more;
	x->d.n_lines = 5;
}

static void
bench(long n, bool report)
{
	char path[128], id[40], num[40], lines[5][5][40];
	struct sample x;
	long news = 0, same = 0, seen = 0;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "bench") == CML_OK);
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		cml_ledger_put_result r;
		bench_doc(&x, i, id, num, lines);
		if (cml_ledger_put(s, "shop", &x.d, &r) != CML_OK)
			break;
		news += r.change == CML_LEDGER_NEW;
	}
	double t_put = now_s() - t0;
	t0 = now_s();
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	double t_commit = now_s() - t0;
	CHECK(cml_store_run_begin(s, "bench") == CML_OK);
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		cml_ledger_put_result r;
		bench_doc(&x, i, id, num, lines);
		if (cml_ledger_put(s, "shop", &x.d, &r) != CML_OK)
			break;
		same += r.change == CML_LEDGER_UNCHANGED;
	}
	double t_again = now_s() - t0;
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	t0 = now_s();
	void *cur = NULL;
	cml_ledger_order o;
	cml_ledger_filter f = { 0 };
	while (cml_ledger_next(s, &f, &cur, &o) == CML_OK)
		seen++;
	cml_ledger_end(s, &cur);
	double t_next = now_s() - t0;
	CHECK_INT(news, n);
	CHECK_INT(same, n);
	CHECK_INT(seen, n);
	if (report) {
		struct stat sb;
		printf("put new      %8ld in %6.3f s: %9.0f /s (%.3f s per 10k)\n", n, t_put,
		       n / t_put, t_put * 10000 / n);
		printf("commit                  %6.3f s\n", t_commit);
		printf("put same     %8ld in %6.3f s: %9.0f /s\n", n, t_again, n / t_again);
		printf("next         %8ld in %6.3f s: %9.0f /s\n", n, t_next, n / t_next);
		if (stat(path, &sb) == 0)
			printf("database %.1f MB (%.0f bytes an order, its document %lld)\n",
			       sb.st_size / 1e6, (double)sb.st_size / n,
			       sql_int(path, "SELECT avg(length(doc)) FROM order_revisions"));
	}
	cml_store_close(s);
}

static void
test_bench_small(void)
{
	bench(3000, false);
}

int
main(int argc, char **argv)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/test_ledger.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
		long n = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
		harness_current = "bench";
		bench(n > 0 ? n : 100000, true);
	} else {
		RUN(test_codec);
		RUN(test_known_forms);
		RUN(test_known_forms_rep);
		RUN(test_new_unchanged_changed);
		RUN(test_changed_cut);
		RUN(test_numbers);
		RUN(test_attachments);
		RUN(test_filters);
		RUN(test_history);
		RUN(test_rollback);
		RUN(test_two_sites);
		RUN(test_output_mark);
		RUN(test_migrate_v3);
		RUN(test_damaged);
		RUN(test_alloc_failures);
		RUN(test_corpus);
		RUN(test_bench_small);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return harness_done();
}
