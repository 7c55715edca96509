/*
 * test_regfile.c: register files in and out (lib/regfile.c): both corpus
 * counterparty packages (3.1 and 2.09), a CSV with every column and cards
 * on several rows, bad CSV refused with FILE:LINE and nothing stored once
 * the run is rolled back, the round trips CSV -> register -> CSV and
 * register -> CommerceML -> register.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cml/regfile.h"
#include "cml/register.h"
#include "cml/store.h"
#include "harness.h"

#define REG TESTDATA "/register/"
#define CORPUS31 "AlexMobiCraft__FREESPORT-B2B__backend_tests_fixtures_1c-data_contragents_contragents.xml"
#define CORPUS209 "ArgentCrusade__commerceml__tests_fixtures_contractors-example.xml"

static char tmpdir[64];
static int dbcount;

static cml_store *
fresh(void)
{
	char path[128], err[512];
	cml_status st;

	snprintf(path, sizeof(path), "%s/db%d.sqlite", tmpdir, ++dbcount);
	cml_store *s = cml_store_open(path, NULL, &st, err, sizeof(err));
	if (s == NULL)
		fprintf(stderr, "open %s: %s\n", path, err);
	return s;
}

/* The warnings, one a line. */
static char warnings[8192];
static int n_warnings;

static void
on_warn(void *ud, const char *msg)
{
	size_t len = strlen(warnings);

	(void)ud;
	n_warnings++;
	snprintf(warnings + len, sizeof(warnings) - len, "%s\n", msg);
}

/* Loads path in a run of its own: committed when it loads, rolled back
 * otherwise. The error message in err. */
static cml_status
load(cml_store *s, const char *path, cml_regfile_stats *st, char *err, size_t errsz)
{
	warnings[0] = '\0';
	n_warnings = 0;
	memset(st, 0, sizeof(*st));
	if (cml_store_run_begin(s, "test") != CML_OK)
		return CML_ERR_STATE;
	cml_status rc = cml_regfile_load(s, path, on_warn, NULL, st, err, errsz);
	if (rc == CML_OK) {
		if (cml_store_run_commit(s, "ok", NULL) != CML_OK)
			return CML_ERR_IO;
	} else {
		cml_store_run_rollback(s);
	}
	return rc;
}

/* What a file holds, read whole into a malloc'd string. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (b = malloc((size_t)n + 1)) != NULL) {
		size_t got = fread(b, 1, (size_t)n, f);
		b[got] = '\0';
	}
	fclose(f);
	return b;
}

/* The register as CSV, into a file of the test directory: its text. */
static char *
as_csv(cml_store *s, const char *name)
{
	char path[128], err[256] = "";

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return NULL;
	cml_status st = cml_regfile_write_csv(s, f, err, sizeof(err));
	fclose(f);
	if (st != CML_OK) {
		fprintf(stderr, "write_csv: %s\n", err);
		return NULL;
	}
	return slurp(path);
}

static const char *
found(cml_store *s, cml_register_key k, const char *v, char *out, size_t cap)
{
	const cml_register_hit *h;
	size_t n, len = 0;

	out[0] = '\0';
	if (cml_register_find(s, k, v, &h, &n) != CML_OK)
		return "-";
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s/%s", i ? " " : "", h[i].card_id,
		                        h[i].person_id);
	return out;
}

/* ---- the corpus ---- */

static void
test_corpus_31(void)
{
	cml_store *s = fresh();
	cml_regfile_stats st;
	cml_register_counts k;
	cml_cp_card c;
	char err[512], out[256];

	if (s == NULL)
		return;
	CHECK_INT(load(s, REG CORPUS31, &st, err, sizeof(err)), CML_OK);
	CHECK_INT(st.cards, 37);
	CHECK_INT(st.cards_new, 37);
	CHECK_INT(st.cards_changed, 0);
	CHECK_INT(st.persons_new, 17);
	CHECK_INT(st.contacts_new, 9);
	CHECK_INT(st.bad_values, 0);
	CHECK(cml_register_count(s, &k) == CML_OK);
	CHECK_INT(k.cards, 37);
	CHECK_INT(k.persons, 17);
	CHECK_INT(k.contacts, 9);
	/* the first card, as the file has it */
	CHECK(cml_register_get(s, "c0dd88e1-3896-11e6-811f-00155d87f90d", &c) == CML_OK);
	CHECK_STR(c.name, "Мирошниченко Марина Викторовна");
	CHECK_STR(c.full_name, "ИП Мирошниченко Марина Викторовна");
	CHECK_STR(c.inn, "261601301216");
	CHECK_STR(c.kpp, "");
	CHECK_INT(c.kind, CML_CP_ENTREPRENEUR);
	CHECK_STR(c.reg_address,
	          "Ставропольский край, Шпаковский, Михайловск, Октябрьская, дом № 368");
	CHECK_STR(c.origin, "register");
	CHECK_STR(found(s, CML_REGKEY_INN, "261601301216", out, sizeof(out)),
	          "c0dd88e1-3896-11e6-811f-00155d87f90d/");
	/* its contact person */
	void *pc = NULL;
	cml_cp_person p;
	CHECK(cml_register_persons(s, c.id, &pc, &p) == CML_OK);
	CHECK_STR(p.id, "e443ef46-5bd9-11eb-81d4-00155d3cae02");
	CHECK_STR(p.name, "Мирошниченко Марина Викторовна");
	cml_register_end(s, &pc);
	/* a phone as written finds its card by its key */
	const cml_register_hit *h;
	size_t n;
	CHECK(cml_register_find(s, CML_REGKEY_PHONE, "+79652555530", &h, &n) == CML_OK);
	CHECK_INT(n, 1);
	/* the card of this one is marked deleted: never found */
	CHECK(cml_register_find(s, CML_REGKEY_EMAIL, "skrepka-26@mail.ru", &h, &n) == CML_OK);
	CHECK_INT(n, 0);

	/* loaded again: nothing changes */
	CHECK_INT(load(s, REG CORPUS31, &st, err, sizeof(err)), CML_OK);
	CHECK_INT(st.cards, 37);
	CHECK_INT(st.cards_new + st.cards_changed + st.persons_new + st.contacts_new, 0);
	cml_store_close(s);
}

static void
test_corpus_209(void)
{
	cml_store *s = fresh();
	cml_regfile_stats st;
	cml_cp_card c;
	char err[512], out[256];

	if (s == NULL)
		return;
	CHECK_INT(load(s, REG CORPUS209, &st, err, sizeof(err)), CML_OK);
	CHECK_INT(st.cards, 4);
	CHECK_INT(st.persons_new, 1);
	CHECK_INT(st.contacts_new, 2);
	/* three 12-digit INNs (Kazakh) with wrong check digits: reported */
	CHECK_INT(st.bad_values, 3);
	CHECK(strstr(warnings, REG CORPUS209 ":") != NULL);
	CHECK(strstr(warnings, "INN \"181310839110\" is no INN (wrong check digit)") != NULL);
	CHECK(cml_register_get(s, "4141d5ec-e2a6-11db-95d9-505054503030", &c) == CML_OK);
	CHECK_STR(c.name, "Алтай ТОО");
	CHECK_STR(c.full_name, "ТОО \"Алтай\"");
	CHECK_INT(c.kind, CML_CP_LEGAL);
	CHECK_STR(found(s, CML_REGKEY_INN, "181310839110", out, sizeof(out)), "");
	CHECK(strlen(found(s, CML_REGKEY_EMAIL, "uyt@komp.kz", out, sizeof(out))) > 0);
	CHECK(strstr(found(s, CML_REGKEY_PHONE, "+73272253939", out, sizeof(out)), "/") != NULL);
	cml_store_close(s);
}

/* ---- CSV ---- */

static void
test_csv_good(void)
{
	cml_store *s = fresh();
	cml_regfile_stats st;
	cml_register_counts k;
	cml_cp_card c;
	char err[512], out[512], pid[37];

	if (s == NULL)
		return;
	CHECK_INT(load(s, REG "good-register.csv", &st, err, sizeof(err)), CML_OK);
	if (err[0] != '\0')
		fprintf(stderr, "%s\n", err);
	CHECK_INT(st.cards, 6);
	CHECK_INT(st.cards_new, 6);
	CHECK_INT(st.persons_new, 3);
	/* c1: 2 emails, 1 phone, p1's email and phone, p2's email, the third
	 * person's email; c2, c3: an email; c5: a value that is no email (a
	 * contact all the same, by its value) */
	CHECK_INT(st.contacts_new, 10);
	CHECK_INT(st.bad_values, 3);
	CHECK_INT(n_warnings, 3);
	CHECK(strstr(warnings, REG "good-register.csv:8: card c5: INN \"7707083894\"") != NULL);
	CHECK(strstr(warnings, REG "good-register.csv:8: card c5: KPP \"77360100A\"") != NULL);
	CHECK(strstr(warnings, REG "good-register.csv:8: card c5: \"not-an-email\" is not an "
	                       "email") != NULL);

	CHECK(cml_register_get(s, "c1", &c) == CML_OK);
	CHECK_STR(c.name, "Ромашка");
	CHECK_STR(c.full_name, "ООО \"Ромашка\"");
	CHECK_INT(c.kind, CML_CP_LEGAL);
	CHECK_STR(c.kpp, "773601001");
	CHECK_STR(c.okpo, "12345678");
	CHECK_STR(c.reg_address, "Москва, Тверская 1");
	CHECK_STR(c.legal_address, "Москва, Тверская 1, оф. 5");
	CHECK(!c.deleted && !c.marketplace);
	CHECK(cml_register_get(s, "c2", &c) == CML_OK);
	CHECK_STR(c.head_id, "c1");
	CHECK_INT(c.kind, CML_CP_LEGAL);
	CHECK(cml_register_get(s, "c3", &c) == CML_OK);
	CHECK_INT(c.kind, CML_CP_ENTREPRENEUR);
	CHECK(cml_register_get(s, "c4", &c) == CML_OK);
	CHECK(c.marketplace);
	CHECK_INT(cml_register_get(s, "c5", &c), CML_END); /* deleted */
	CHECK(cml_register_get(s, "c6", &c) == CML_OK);
	CHECK_STR(c.name, "Пробелы");
	CHECK_INT(c.kind, CML_CP_PERSON);

	CHECK_STR(found(s, CML_REGKEY_EMAIL, "shop@example.ru", out, sizeof(out)), "c1/");
	CHECK_STR(found(s, CML_REGKEY_EMAIL, "zakaz@example.ru", out, sizeof(out)), "c1/");
	CHECK_STR(found(s, CML_REGKEY_EMAIL, "ivan@example.ru", out, sizeof(out)), "c1/p1");
	CHECK_STR(found(s, CML_REGKEY_PHONE, "+79123456789", out, sizeof(out)), "c1/p1");
	CHECK_STR(found(s, CML_REGKEY_PHONE, "+74951112233", out, sizeof(out)), "c1/");
	CHECK_STR(found(s, CML_REGKEY_EMAIL, "maria@example.ru", out, sizeof(out)), "c1/p2");
	cml_stable_id("cmlkit-person", "c1\nbez-id@example.ru", pid);
	char want[128];
	snprintf(want, sizeof(want), "c1/%s", pid);
	CHECK_STR(found(s, CML_REGKEY_EMAIL, "bez-id@example.ru", out, sizeof(out)), want);
	CHECK_STR(found(s, CML_REGKEY_INN, "7707083893", out, sizeof(out)), "c1/ c2/");
	CHECK(cml_register_count(s, &k) == CML_OK);
	CHECK_INT(k.cards, 6);
	CHECK_INT(k.branches, 1);
	CHECK_INT(k.persons, 3);
	cml_store_close(s);
}

static void
test_csv_bad(void)
{
	static const struct {
		const char *file;
		cml_status st;
		const char *msg; /* after "FILE" */
	} cases[] = {
		{ "bad-unknown-column.csv", CML_ERR_FORMAT,
		  ":1: not a counterparty register: unknown columns \"colour\", \"size\"" },
		{ "bad-conflict.csv", CML_ERR_VALUE,
		  ":4: card c1: column name is \"Лютик\" here and \"Ромашка\" on the card's "
		  "first row" },
		{ "bad-quote.csv", CML_ERR_SYNTAX, ":3: unterminated quoted field" },
		{ "bad-quote-inside.csv", CML_ERR_SYNTAX, ":3: malformed CSV" },
		{ "bad-boolean.csv", CML_ERR_VALUE,
		  ":3: column deleted: \"maybe\" is not 1/0, true/false or yes/no" },
		{ "bad-kind.csv", CML_ERR_VALUE, ":2: column kind: \"company\"" },
		{ "bad-no-id-column.csv", CML_ERR_FORMAT, ":1: not a counterparty register: no id" },
		{ "bad-missing-id.csv", CML_ERR_VALUE, ":3: a row without id" },
		{ "bad-empty.csv", CML_ERR_FORMAT, ": not a counterparty register (no header row)" },
		{ "nonexistent.csv", CML_ERR_IO, ": No such file or directory" },
	};
	cml_store *s = fresh();
	cml_regfile_stats st;
	cml_register_counts k;
	char err[1024], want[1024];

	if (s == NULL)
		return;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[512];

		snprintf(path, sizeof(path), REG "%s", cases[i].file);
		snprintf(want, sizeof(want), "%s%s", path, cases[i].msg);
		err[0] = '\0';
		CHECK_INT(load(s, path, &st, err, sizeof(err)), cases[i].st);
		if (strncmp(err, want, strlen(want)) != 0) {
			CHECK_STR(err, want);
		}
		/* rolled back: nothing of the file is kept */
		CHECK(cml_register_count(s, &k) == CML_OK);
		CHECK_INT(k.cards + k.persons + k.contacts, 0);
	}
	/* an orders document is no register */
	char path[512];
	snprintf(path, sizeof(path), "%s", TESTDATA "/corpus/lexxkrt__laravel-catalog-with-1c-"
	                                   "exchange__resources_views_orders.xml");
	CHECK_INT(load(s, path, &st, err, sizeof(err)), CML_ERR_FORMAT);
	CHECK(strstr(err, ": not a counterparty register (no Контрагенты/Контрагент") != NULL);
	/* outside a run: refused */
	CHECK_INT(cml_regfile_load(s, REG "good-register.csv", NULL, NULL, NULL, err,
	                           sizeof(err)),
	          CML_ERR_STATE);
	cml_store_close(s);
}

/* CSV -> register -> CSV -> register changes nothing, and the two CSV
 * texts are the same. */
static void
test_csv_round_trip(void)
{
	cml_store *a = fresh(), *b = fresh();
	cml_regfile_stats st;
	char err[512], path[128];

	if (a == NULL || b == NULL)
		return;
	CHECK_INT(load(a, REG "good-register.csv", &st, err, sizeof(err)), CML_OK);
	CHECK_INT(load(a, REG CORPUS209, &st, err, sizeof(err)), CML_OK);
	char *one = as_csv(a, "one.csv");
	CHECK(one != NULL);
	snprintf(path, sizeof(path), "%s/one.csv", tmpdir);
	/* into the same register: nothing new, nothing changed */
	CHECK_INT(load(a, path, &st, err, sizeof(err)), CML_OK);
	CHECK_INT(st.cards, 10);
	CHECK_INT(st.cards_new + st.cards_changed + st.persons_new + st.contacts_new, 0);
	/* into an empty one: the same register */
	CHECK_INT(load(b, path, &st, err, sizeof(err)), CML_OK);
	char *two = as_csv(b, "two.csv");
	CHECK(one != NULL && two != NULL && strcmp(one, two) == 0);
	/* the header and c1's rows as the format says: its persons in Ид
	 * order, the one made without an Ид first */
	static const char head[] = "id,name,full_name,kind,inn,kpp,okpo,head_id,email,phone,"
	                           "person_id,person_name,person_email,person_phone,"
	                           "reg_address,legal_address,deleted,marketplace\r\n";
	char pid[37], rows[1024];
	cml_stable_id("cmlkit-person", "c1\nbez-id@example.ru", pid);
	snprintf(rows, sizeof(rows),
	         "\r\nc1,Ромашка,\"ООО \"\"Ромашка\"\"\",legal,7707083893,773601001,12345678,,"
	         "Shop@Example.RU;zakaz@example.ru,+7 495 111-22-33,%s,Без Ид,bez-id@example.ru,,"
	         "\"Москва, Тверская 1\",\"Москва, Тверская 1, оф. 5\",0,0\r\n"
	         "c1,,,,,,,,,,p1,Иван Петров,ivan@example.ru,8 912 345 67 89,,,,\r\n"
	         "c1,,,,,,,,,,p2,Мария,maria@example.ru,,,,,\r\nc2,",
	         pid);
	CHECK(one != NULL && strncmp(one, head, strlen(head)) == 0);
	CHECK(one != NULL && strstr(one, rows) != NULL);
	free(one);
	free(two);
	cml_store_close(a);
	cml_store_close(b);
}

/* register -> CommerceML -> register: the same cards, persons and
 * contacts (what CommerceML has a place for). */
static void
test_cml_round_trip(void)
{
	static const char *const schemas[] = { "2.05", "2.10", "3.1" };
	char err[512], path[128];
	cml_regfile_stats st;

	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
		cml_store *a = fresh(), *b = fresh();
		cml_writer_opts o = { .schema = schemas[i], .indent = i == 1 };

		if (a == NULL || b == NULL)
			return;
		CHECK_INT(load(a, REG CORPUS31, &st, err, sizeof(err)), CML_OK);
		CHECK_INT(load(a, REG CORPUS209, &st, err, sizeof(err)), CML_OK);
		snprintf(path, sizeof(path), "%s/out%zu.xml", tmpdir, i);
		FILE *f = fopen(path, "wb");
		CHECK(f != NULL);
		if (f == NULL)
			return;
		CHECK_INT(cml_regfile_write_cml(a, f, &o, err, sizeof(err)), CML_OK);
		fclose(f);
		char *xml = slurp(path);
		CHECK(xml != NULL && strstr(xml, "СодержитТолькоИзменения=\"false\"") != NULL);
		CHECK(xml != NULL && strstr(xml, i == 0 ? "<Тип>ТелефонРабочий</Тип>"
		                                        : "<Тип>Телефон рабочий</Тип>") != NULL);
		CHECK(xml != NULL && strstr(xml, "<Отношение>Контактное лицо</Отношение>") != NULL);
		free(xml);
		CHECK_INT(load(b, path, &st, err, sizeof(err)), CML_OK);
		CHECK_INT(st.cards, 41);
		char *one = as_csv(a, "a.csv"), *two = as_csv(b, "b.csv");
		CHECK(one != NULL && two != NULL && strcmp(one, two) == 0);
		free(one);
		free(two);
		/* and b loaded into a again changes nothing */
		CHECK_INT(load(a, path, &st, err, sizeof(err)), CML_OK);
		CHECK_INT(st.cards_new + st.cards_changed + st.persons_new + st.contacts_new, 0);
		cml_store_close(a);
		cml_store_close(b);
	}
}

/* Person contacts travel in CommerceML as the representative's own. */
static void
test_cml_person_contacts(void)
{
	cml_store *a = fresh(), *b = fresh();
	cml_regfile_stats st;
	char err[512], path[128], out[256];

	if (a == NULL || b == NULL)
		return;
	CHECK_INT(load(a, REG "good-register.csv", &st, err, sizeof(err)), CML_OK);
	snprintf(path, sizeof(path), "%s/persons.xml", tmpdir);
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return;
	CHECK_INT(cml_regfile_write_cml(a, f, NULL, err, sizeof(err)), CML_OK);
	fclose(f);
	CHECK_INT(load(b, path, &st, err, sizeof(err)), CML_OK);
	CHECK_STR(found(b, CML_REGKEY_EMAIL, "ivan@example.ru", out, sizeof(out)), "c1/p1");
	CHECK_STR(found(b, CML_REGKEY_PHONE, "+79123456789", out, sizeof(out)), "c1/p1");
	CHECK_STR(found(b, CML_REGKEY_EMAIL, "zakaz@example.ru", out, sizeof(out)), "c1/");
	cml_cp_card c;
	CHECK(cml_register_get(b, "c3", &c) == CML_OK);
	CHECK_INT(c.kind, CML_CP_ENTREPRENEUR);
	CHECK(cml_register_get(b, "c1", &c) == CML_OK);
	CHECK_STR(c.full_name, "ООО \"Ромашка\"");
	CHECK_INT(c.kind, CML_CP_LEGAL);
	cml_store_close(a);
	cml_store_close(b);
}

int
main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/test_regfile.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_corpus_31);
	RUN(test_corpus_209);
	RUN(test_csv_good);
	RUN(test_csv_bad);
	RUN(test_csv_round_trip);
	RUN(test_cml_round_trip);
	RUN(test_cml_person_contacts);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return harness_done();
}
