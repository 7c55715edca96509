/*
 * test_orderfmt.c: orders written as XML, CSV and JSON Lines, and read
 * back: the XML by the reader, CSV and JSON Lines by Python's csv and
 * json modules (check_orderfmt.py asserts what each field holds).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cml/orderfmt.h>
#include <cml/reader.h>

#include "harness.h"

#define CML_ARRAY_LEN_(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures ---- */

static cml_pair buyer_contacts[] = {
	{ "Электронная почта", "ivan@example.com" },
	{ "Телефон рабочий", "+7 495 000-00-00" },
};
/* the contact person as cp-match writes it: its own email and phone */
static cml_pair rep_contacts[] = {
	{ "Электронная почта", "petr@example.com" },
	{ "Телефон рабочий", "+7 912 345-67-89" },
};
static cml_representative buyer_reps[] = {
	{ "Контактное лицо", "rep-1", "Петров Пётр", rep_contacts, 2 },
};
static cml_counterparty buyer = {
	.id = "38#ivan#Иванов Иван",
	.name = "Иванов Иван",
	.role = "Покупатель",
	.inn = "500100732259",
	.reg_address = { .presentation = "101000, Москва, ул. Ленина, д. 1" },
	.contacts = buyer_contacts,
	.n_contacts = 2,
	.representatives = buyer_reps,
	.n_representatives = 1,
};
static cml_pair line_chars[] = { { "Цвет", "Красный" }, { "Размер", "L" } };
static cml_discount line_disc[] = { { .name = "Скидка", .sum = "20" } };
static cml_tax line_tax[] = { { .name = "НДС", .rate = "20", .sum = "30", .in_sum = CML_TRUE } };
static cml_doc_line order_lines[] = {
	{ .id = "p1#c1", .article = "A-1", .name = "Футболка \"Лето\", хлопок",
	  .unit = { .code = "796", .name = "шт" }, .price = "100", .quantity = "2",
	  .sum = "180", .characteristics = line_chars, .n_characteristics = 2,
	  .discounts = line_disc, .n_discounts = 1, .taxes = line_tax, .n_taxes = 1 },
	{ .id = "ORDER_DELIVERY", .name = "Доставка заказа", .price = "300",
	  .quantity = "1", .sum = "300" },
};
static cml_pair order_reqs[] = {
	{ "Статуса заказа ИД", "N" },
	{ "Статус заказа", "[N] Принят, ожидается оплата" },
	{ "Заказ оплачен", "false" },
	{ "Доставка разрешена", "false" },
	{ "Отменен", "false" },
	{ "Финальный статус", "false" },
	{ "Метод оплаты", "Наличный расчет" },
	{ "Способ доставки", "Курьер" },
	{ "Адрес доставки", "Москва, ул. Ленина, д. 1, кв. 2" },
};

static cml_document
order(const char *id, const char *comment)
{
	cml_document d = {
		.id = id, .number = id, .date = "2021-02-11", .time = "18:45:21",
		.operation = "Заказ товара", .role = "Продавец", .currency = "руб",
		.rate = "1", .sum = "480", .comment = comment,
		.counterparties = &buyer, .n_counterparties = 1,
		.lines = order_lines, .n_lines = 2,
		.requisites = order_reqs, .n_requisites = CML_ARRAY_LEN_(order_reqs),
	};
	return d;
}

static cml_document
payment(const char *id, const char *basis)
{
	cml_document d = {
		.id = id, .number = id, .date = "2021-02-12",
		.operation = "Выплата безналичных денег", .role = "Продавец",
		.currency = "руб", .sum = "480", .basis = basis,
	};
	return d;
}

static const cml_orderfmt_meta meta1 = { .site = "shop", .revision = 3,
	                                 .change = "changed", .changed = "sum, lines" };

/* Three orders: 132 (two lines, a payment attached), 133 (no lines, a
 * comment of quotes, commas, a newline, a control character and a byte
 * that is no UTF-8; no meta), 134 (a shipment attached). */
static cml_status
write_orders(cml_orderfmt *f, bool xml)
{
	cml_document d;
	cml_status st;

	d = order("132", "Позвонить, \"после 18\"");
	if ((st = cml_orderfmt_add(f, &d, &meta1)) != CML_OK)
		return st;
	d = payment("pay-132", "132");
	if ((st = cml_orderfmt_add_attachment(f, &d)) != CML_OK)
		return st;
	/* XML refuses a control character: that order gets a clean comment */
	d = order("133", xml ? "строка 1\nстрока 2, \"цитата\"" :
	                       "строка 1\nстрока 2, \"цитата\"\x01 \xff конец");
	d.n_lines = 0;
	d.lines = NULL;
	if ((st = cml_orderfmt_add(f, &d, NULL)) != CML_OK)
		return st;
	d = order("134", NULL);
	if ((st = cml_orderfmt_add(f, &d, &(cml_orderfmt_meta){ .site = "shop",
	                                                        .revision = 1,
	                                                        .change = "new" })) != CML_OK)
		return st;
	d = payment("ship-134", "134");
	d.operation = "Отпуск товара";
	return cml_orderfmt_add_attachment(f, &d);
}

/* ---- helpers ---- */

static char *
tmp_path(void)
{
	static char path[] = "/tmp/cmlkit-orderfmt.XXXXXX";
	char *p = strdup(path);
	int fd = mkstemp(p);

	if (fd >= 0)
		close(fd);
	return p;
}

/* Writes the orders in kind to a file; its path (to free), or NULL. */
static char *
write_file(cml_orderfmt_kind kind, const cml_writer_opts *xml)
{
	char *path = tmp_path();
	FILE *fp = fopen(path, "w");
	cml_orderfmt *f = fp != NULL ? cml_orderfmt_new(fp, kind, xml) : NULL;
	cml_status st;

	CHECK(f != NULL);
	if (f == NULL) {
		if (fp != NULL)
			fclose(fp);
		unlink(path);
		free(path);
		return NULL;
	}
	st = write_orders(f, kind == CML_ORDERFMT_XML);
	if (st != CML_OK)
		fprintf(stderr, "  %s\n", cml_orderfmt_errmsg(f));
	CHECK_INT(st, CML_OK);
	CHECK_INT(cml_orderfmt_finish(f), CML_OK);
	cml_orderfmt_free(f);
	CHECK_INT(fclose(fp), 0);
	return path;
}

/* python3 check_orderfmt.py MODE FILE: 0 when every assertion holds. */
static int
python_check(const char *mode, const char *path)
{
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "python3 '%s' %s '%s'", CHECKER, mode, path);
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 255;
}

/* ---- tests ---- */

static void
test_parse(void)
{
	cml_orderfmt_kind k = CML_ORDERFMT_XML;

	CHECK(cml_orderfmt_parse("csv", &k) && k == CML_ORDERFMT_CSV);
	CHECK(cml_orderfmt_parse("jsonl", &k) && k == CML_ORDERFMT_JSONL);
	CHECK(cml_orderfmt_parse("xml", &k) && k == CML_ORDERFMT_XML);
	CHECK(!cml_orderfmt_parse("json", &k));
	CHECK(!cml_orderfmt_parse("CSV", &k));
	CHECK(!cml_orderfmt_parse(NULL, &k));
	CHECK(cml_orderfmt_new(stdout, (cml_orderfmt_kind)7, NULL) == NULL);
	CHECK(cml_orderfmt_new(NULL, CML_ORDERFMT_CSV, NULL) == NULL);
	CHECK(cml_orderfmt_new(stdout, CML_ORDERFMT_XML,
	                       &(cml_writer_opts){ .schema = "9.9" }) == NULL);
	cml_orderfmt_free(NULL);
}

/* No order: nothing at all, in every format. */
static void
test_empty(void)
{
	for (int k = CML_ORDERFMT_XML; k <= CML_ORDERFMT_JSONL; k++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);
		cml_orderfmt *f = cml_orderfmt_new(fp, (cml_orderfmt_kind)k, NULL);
		cml_document d = payment("p", "1");

		CHECK(f != NULL);
		CHECK_INT(cml_orderfmt_add_attachment(f, &d), CML_ERR_STATE);
		CHECK(strstr(cml_orderfmt_errmsg(f), "before any order") != NULL);
		CHECK_INT(cml_orderfmt_finish(f), CML_OK);
		CHECK_INT(cml_orderfmt_finish(f), CML_ERR_STATE);
		CHECK_INT(cml_orderfmt_add(f, &d, NULL), CML_ERR_STATE);
		cml_orderfmt_free(f);
		fclose(fp);
		CHECK_INT(len, 0);
		free(buf);
	}
}

static void
test_csv(void)
{
	char *path = write_file(CML_ORDERFMT_CSV, NULL);

	if (path == NULL)
		return;
	CHECK_INT(python_check("csv", path), 0);
	unlink(path);
	free(path);
}

static void
test_jsonl(void)
{
	char *path = write_file(CML_ORDERFMT_JSONL, NULL);

	if (path == NULL)
		return;
	CHECK_INT(python_check("jsonl", path), 0);
	unlink(path);
	free(path);
}

/* XML: the reader gives the orders back, each attachment after its
 * order, in the order's Контейнер under 3.1. */
static void
test_xml(void)
{
	static const cml_writer_opts set[] = {
		{ .schema = "2.10", .encoding = CML_ENC_WINDOWS_1251 },
		{ .schema = "3.1", .bom = true },
		{ .schema = "2.05" },
	};

	for (size_t s = 0; s < CML_ARRAY_LEN_(set); s++) {
		char *path = write_file(CML_ORDERFMT_XML, &set[s]);
		cml_reader *r;
		const cml_item *it;
		const char *want[] = { "132", "pay-132", "133", "134", "ship-134" };
		const unsigned cont[] = { 1, 1, 2, 3, 3 };
		size_t n = 0;
		cml_status st;

		if (path == NULL)
			continue;
		harness_current = set[s].schema;
		r = cml_reader_new(NULL);
		st = cml_reader_open_file(r, path);
		while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK) {
			if (it->kind == CML_ITEM_FILE) {
				CHECK_STR(it->u.file.schema_version, set[s].schema);
				CHECK_INT(it->u.file.bom, set[s].bom);
				continue;
			}
			CHECK_INT(it->kind, CML_ITEM_DOCUMENT);
			if (n < 5) {
				const cml_document *d = &it->u.document;

				CHECK_STR(d->id, want[n]);
				CHECK_INT(d->container, strcmp(set[s].schema, "3.1") == 0 ? cont[n] : 0);
				CHECK_STR(d->basis, n == 1 ? "132" : n == 4 ? "134" : NULL);
				if (n == 0) {
					CHECK_INT(d->n_lines, 2);
					CHECK_STR(d->lines[0].name, "Футболка \"Лето\", хлопок");
					CHECK_STR(d->counterparties[0].contacts[0].value,
					          "ivan@example.com");
					CHECK_INT(d->counterparties[0].n_representatives, 1);
					if (d->counterparties[0].n_representatives == 1) {
						const cml_representative *p =
							&d->counterparties[0].representatives[0];

						CHECK_STR(p->name, "Петров Пётр");
						CHECK_INT(p->n_contacts, 2);
						if (p->n_contacts == 2)
							CHECK_STR(p->contacts[1].value,
							          "+7 912 345-67-89");
					}
					CHECK_STR(d->requisites[1].value, "[N] Принят, ожидается оплата");
				}
				if (n == 2)
					CHECK_STR(d->comment, "строка 1\nстрока 2, \"цитата\"");
			}
			n++;
		}
		CHECK_INT(st, CML_END);
		CHECK_INT(n, 5);
		cml_reader_free(r);
		unlink(path);
		free(path);
	}
	harness_current = "test_xml";
}

/* A full disk: CML_ERR_IO, in every format. */
static void
test_full(void)
{
	for (int k = CML_ORDERFMT_XML; k <= CML_ORDERFMT_JSONL; k++) {
		FILE *fp = fopen("/dev/full", "w");
		cml_orderfmt *f;
		cml_status st = CML_OK;

		if (fp == NULL)
			return;
		f = cml_orderfmt_new(fp, (cml_orderfmt_kind)k, NULL);
		st = write_orders(f, k == CML_ORDERFMT_XML);
		if (st == CML_OK)
			st = cml_orderfmt_finish(f);
		CHECK_INT(st, CML_ERR_IO);
		CHECK(strstr(cml_orderfmt_errmsg(f), "No space left on device") != NULL);
		cml_orderfmt_free(f);
		fclose(fp);
	}
}

/* Each allocation made to fail in turn: CML_ERR_NOMEM, nothing leaked
 * (ASan), and in the end the whole output. */
static void
test_alloc_failures(void)
{
	for (int k = CML_ORDERFMT_XML; k <= CML_ORDERFMT_JSONL; k++) {
		bool ok = false;
		long n;

		for (n = 1; n < 10000 && !ok; n++) {
			char *buf = NULL;
			size_t len = 0;
			FILE *fp = open_memstream(&buf, &len);
			cml_status st = CML_ERR_NOMEM;
			cml_orderfmt *f;

			cml_alloc_fail_after(n);
			f = cml_orderfmt_new(fp, (cml_orderfmt_kind)k, NULL);
			if (f != NULL && (st = write_orders(f, k == CML_ORDERFMT_XML)) == CML_OK)
				st = cml_orderfmt_finish(f);
			cml_alloc_fail_after(0);
			cml_orderfmt_free(f);
			fclose(fp);
			if (st == CML_OK) {
				ok = true;
				CHECK(len > 1000);
			} else {
				CHECK_INT(st, CML_ERR_NOMEM);
			}
			free(buf);
		}
		CHECK(ok);
		CHECK(n > 3);
	}
	cml_alloc_fail_after(0);
}

int
main(void)
{
	RUN(test_parse);
	RUN(test_empty);
	RUN(test_csv);
	RUN(test_jsonl);
	RUN(test_xml);
	RUN(test_full);
	RUN(test_alloc_failures);
	return harness_done();
}
