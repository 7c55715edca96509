/*
 * test_reader.c: the streaming reader on hand-made files with every
 * quirk of COMMERCEML.md, the hostile inputs, and allocation failures.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cml/dump.h>
#include <cml/reader.h>

#include "harness.h"

#define R(name) TESTDATA "/reader/" name

static unsigned long n_warnings;
static char last_warning[1024];

static void
on_warn(void *ud, const char *msg)
{
	(void)ud;
	n_warnings++;
	snprintf(last_warning, sizeof(last_warning), "%s", msg);
}

/* Reads a whole file; returns the final status; copies the error. */
static cml_status
read_all(const char *path, unsigned long *counts, char *err, size_t errcap)
{
	cml_reader_opts o = { .warn = on_warn };
	cml_reader *r = cml_reader_new(&o);
	const cml_item *it;
	cml_status st;

	if (r == NULL)
		return CML_ERR_NOMEM;
	st = cml_reader_open_file(r, path);
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		if (counts != NULL)
			counts[it->kind]++;
	if (err != NULL)
		snprintf(err, errcap, "%s", cml_reader_errmsg(r));
	cml_reader_free(r);
	return st;
}

/* Finds the first item of a kind with the given id (or any, id NULL)
 * and copies nothing: the callback checks it in place. */
typedef void item_check_fn(const cml_item *it);

static int
with_item(const char *path, cml_kind kind, int nth, item_check_fn *fn)
{
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	cml_status st;
	int seen = 0, found = 0;

	st = cml_reader_open_file(r, path);
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		if (it->kind == kind && seen++ == nth) {
			fn(it);
			found = 1;
		}
	cml_reader_free(r);
	return found;
}

static void
check_p1(const cml_item *it)
{
	const cml_product *p = &it->u.product;

	CHECK_STR(p->id, "p1");
	CHECK_STR(p->name, "Куртка");
	CHECK_STR(p->barcode, "4600000000015");
	CHECK(p->article == NULL);
	CHECK_STR(p->unit.code, "796");
	CHECK_STR(p->unit.name, "шт");
	CHECK_STR(p->unit.full_name, "Штука");
	CHECK_STR(p->unit.intl, "PCE");
	CHECK_INT(p->n_groups, 1);
	if (p->n_groups == 1)
		CHECK_STR(p->groups[0], "g1.1");
	CHECK_INT(p->n_props, 3);
	if (p->n_props == 3) {
		CHECK_STR(p->props[0].id, "prop-1");
		CHECK_STR(p->props[0].value, "a");
		CHECK_STR(p->props[1].value, "b");
		CHECK(p->props[2].id == NULL);
		CHECK_STR(p->props[2].value, "без ид");
	}
	CHECK(!p->deleted);
	CHECK_INT(it->origin.line, 25);
}

static void
check_p2(const cml_item *it)
{
	CHECK_STR(it->u.product.id, "p2");
	CHECK(it->u.product.deleted);
	CHECK_INT(it->u.product.status, CML_STATUS_DELETED);
}

static void
check_p3(const cml_item *it)
{
	CHECK_STR(it->u.product.id, "p3");
	CHECK(it->u.product.deleted);
}

static void
check_nested_group(const cml_item *it)
{
	CHECK_STR(it->u.group.id, "g1.1");
	CHECK_STR(it->u.group.parent_id, "g1");
	CHECK_STR(it->u.group.name, "Куртки");
	CHECK_INT(it->u.group.depth, 1);
}

static void
check_top_group(const cml_item *it)
{
	CHECK_STR(it->u.group.id, "g2");
	CHECK(it->u.group.parent_id == NULL);
	CHECK_INT(it->u.group.depth, 0);
}

static void
check_file(const cml_item *it)
{
	CHECK_STR(it->u.file.schema_version, "2.08");
	CHECK_STR(it->u.file.generated, "2021-02-18T09:49:02");
}

static void
check_catalog(const cml_item *it)
{
	CHECK_STR(it->u.catalog.id, "cat-1");
	CHECK_STR(it->u.catalog.classifier_id, "cls-1");
	CHECK_INT(it->u.catalog.only_changes, CML_FALSE);
}

static void
quirks_file(const char *path)
{
	unsigned long counts[CML_ITEM_KIND_COUNT] = { 0 };
	char err[1024];

	CHECK_INT(read_all(path, counts, err, sizeof(err)), CML_END);
	CHECK_INT(counts[CML_ITEM_FILE], 1);
	CHECK_INT(counts[CML_ITEM_CLASSIFIER], 1);
	CHECK_INT(counts[CML_ITEM_GROUP], 3);
	CHECK_INT(counts[CML_ITEM_CATALOG], 1);
	CHECK_INT(counts[CML_ITEM_PRODUCT], 3);
	CHECK(with_item(path, CML_ITEM_PRODUCT, 0, check_p1));
	CHECK(with_item(path, CML_ITEM_PRODUCT, 1, check_p2));
	CHECK(with_item(path, CML_ITEM_PRODUCT, 2, check_p3));
	CHECK(with_item(path, CML_ITEM_GROUP, 1, check_nested_group));
	CHECK(with_item(path, CML_ITEM_GROUP, 2, check_top_group));
	CHECK(with_item(path, CML_ITEM_CATALOG, 0, check_catalog));
	CHECK(with_item(path, CML_ITEM_FILE, 0, check_file));
}

static void
test_quirks(void)
{
	quirks_file(R("good-quirks.xml"));
}

static void
test_encodings(void)
{
	quirks_file(R("good-quirks-1251.xml"));
	quirks_file(R("good-quirks-utf16le.xml"));
	quirks_file(R("good-quirks-bom.xml"));
	quirks_file(R("good-ncr.xml"));

	n_warnings = 0;
	quirks_file(R("good-1251-declared-utf8.xml"));
	CHECK(n_warnings > 0);
	CHECK(strstr(last_warning, "bytes are UTF-8") != NULL);

	char err[1024];
	CHECK_INT(read_all(R("bad-1251-declared-utf8-late.xml"), NULL, err, sizeof(err)),
	          CML_ERR_ENCODING);
	CHECK(strstr(err, "windows-1251") != NULL);
}

static void
check_char_offer(const cml_item *it)
{
	const cml_offer *o = &it->u.offer;

	CHECK_STR(o->id, "p1#c1");
	CHECK_STR(o->product_id, "p1");
	CHECK_STR(o->char_id, "c1");
	CHECK_INT(o->n_characteristics, 1);
	CHECK_INT(o->n_prices, 1);
	if (o->n_prices == 1) {
		CHECK_STR(o->prices[0].value, "1200.5");
		CHECK_STR(o->prices[0].type_id, "Розничная");
		CHECK_STR(o->prices[0].currency, "руб");
		CHECK_STR(o->prices[0].coefficient, "1");
		CHECK_STR(o->prices[0].unit, "шт");
	}
	CHECK_STR(o->quantity, "5");
	CHECK_INT(o->n_stocks, 2);
	if (o->n_stocks == 2) {
		CHECK_STR(o->stocks[0].warehouse_id, "w1");
		CHECK_STR(o->stocks[0].quantity, "2");
		CHECK_STR(o->stocks[1].quantity, "-1");
	}
	CHECK(o->has_prices);
	CHECK(o->has_stocks);
}

static void
check_rests_offer(const cml_item *it)
{
	const cml_offer *o = &it->u.offer;

	CHECK_STR(o->id, "p2");
	CHECK_STR(o->product_id, "p2");
	CHECK(o->char_id == NULL);
	CHECK(!o->has_prices);
	CHECK_INT(o->n_stocks, 2);
	if (o->n_stocks == 2) {
		CHECK_STR(o->stocks[0].quantity, "0");
		CHECK_STR(o->stocks[1].warehouse_id, "w2");
		CHECK_STR(o->stocks[1].quantity, "7.5");
	}
}

static void
check_deleted_offer(const cml_item *it)
{
	CHECK_STR(it->u.offer.id, "p3");
	CHECK(it->u.offer.deleted);
}

static void
check_package(const cml_item *it)
{
	CHECK_STR(it->u.package.id, "pkg#");
	CHECK_INT(it->u.package.only_changes, CML_TRUE);
}

static void
test_offers(void)
{
	const char *path = R("good-offers-quirks.xml");
	unsigned long counts[CML_ITEM_KIND_COUNT] = { 0 };

	CHECK_INT(read_all(path, counts, NULL, 0), CML_END);
	CHECK_INT(counts[CML_ITEM_OFFER], 3);
	CHECK_INT(counts[CML_ITEM_PRICE_TYPE], 1);
	CHECK(with_item(path, CML_ITEM_OFFER, 0, check_char_offer));
	CHECK(with_item(path, CML_ITEM_OFFER, 1, check_rests_offer));
	CHECK(with_item(path, CML_ITEM_OFFER, 2, check_deleted_offer));
	CHECK(with_item(path, CML_ITEM_OFFERS_PACKAGE, 0, check_package));
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ASan's quarantine keeps freed memory: RSS says nothing under it. */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_MEANINGFUL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_MEANINGFUL 0
#endif
#endif
#ifndef RSS_MEANINGFUL
#define RSS_MEANINGFUL 1
#endif

static long
rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/* Each hostile input ends in the expected error within a second and
 * without growing the process by more than a few MB. */
static void
hostile(const char *path, cml_status want, const char *words)
{
	char err[1024];
	long before = rss_kib();
	double t0 = now();
	cml_status st = read_all(path, NULL, err, sizeof(err));
	double dt = now() - t0;

	CHECK_INT(st, want);
	if (strstr(err, words) == NULL)
		fprintf(stderr, "  message was: %s\n", err);
	CHECK(strstr(err, words) != NULL);
	CHECK(dt < 1.0);
	CHECK(!RSS_MEANINGFUL || rss_kib() - before < 8 * 1024);
}

static void
test_hostile(void)
{
	hostile(R("bad-billion-laughs.xml"), CML_ERR_HOSTILE, "entit");
	hostile(R("bad-xxe.xml"), CML_ERR_HOSTILE, "DOCTYPE");
	hostile(R("bad-xxe-dtd.xml"), CML_ERR_HOSTILE, "DOCTYPE");
	hostile(R("bad-truncated.xml"), CML_ERR_SYNTAX, "bad-truncated.xml:");
	hostile(R("bad-junk-before-decl.xml"), CML_ERR_SYNTAX, "bad-junk-before-decl.xml:1:");
	hostile(R("bad-raw-ampersand.xml"), CML_ERR_SYNTAX, "bad-raw-ampersand.xml:2:");
	hostile(R("bad-price-nan.xml"), CML_ERR_VALUE, "bad-price-nan.xml:7: <ЦенаЗаЕдиницу>: 'дорого' is not a number");
}

static void
test_deep(void)
{
	const size_t depth = 100000;
	const char *open = "<a>", *close = "</a>";
	size_t cap = 64 + depth * (strlen(open) + strlen(close)) + 64;
	char *buf = malloc(cap), *p = buf;
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	cml_status st;

	p += snprintf(p, cap, "<КоммерческаяИнформация ВерсияСхемы=\"2.05\">");
	for (size_t i = 0; i < depth; i++) {
		memcpy(p, open, 3);
		p += 3;
	}
	for (size_t i = 0; i < depth; i++) {
		memcpy(p, close, 4);
		p += 4;
	}
	p += snprintf(p, 64, "</КоммерческаяИнформация>");

	long before = rss_kib();
	double t0 = now();
	st = cml_reader_open_memory(r, buf, (size_t)(p - buf), "deep.xml");
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		;
	CHECK_INT(st, CML_ERR_HOSTILE);
	CHECK(strstr(cml_reader_errmsg(r), "deep.xml:1: elements nested deeper") != NULL);
	CHECK(now() - t0 < 1.0);
	CHECK(!RSS_MEANINGFUL || rss_kib() - before < 8 * 1024);
	cml_reader_free(r);
	free(buf);
}

static void
test_not_cml(void)
{
	static const char xsd[] = "<?xml version=\"1.0\"?>\n<xs:schema "
	                          "xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"/>";
	static const char cml1[] = "<?xml version=\"1.0\"?>\n<КоммерческаяИнформация>\n"
	                           "<Каталог Идентификатор=\"x\"/></КоммерческаяИнформация>";
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	cml_status st;

	st = cml_reader_open_memory(r, xsd, sizeof(xsd) - 1, "x.xsd");
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		;
	CHECK_INT(st, CML_ERR_FORMAT);
	CHECK(strstr(cml_reader_errmsg(r), "x.xsd:2: root element is <schema>") != NULL);

	st = cml_reader_open_memory(r, cml1, sizeof(cml1) - 1, "sale77.xml");
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		;
	CHECK_INT(st, CML_ERR_FORMAT);
	CHECK(strstr(cml_reader_errmsg(r), "CommerceML 1.x") != NULL);

	st = cml_reader_open_memory(r, "", 0, "empty.xml");
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		;
	CHECK(st < 0);
	cml_reader_free(r);
}

/* The item stays valid until the next call, and memory stays flat. */
static void
test_flat_memory(void)
{
	const size_t n = 200000;
	size_t cap = n * 200 + 256;
	char *buf = malloc(cap);
	size_t len = 0;
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	cml_status st;
	unsigned long products = 0;

	len += (size_t)snprintf(buf + len, cap - len,
	                        "<КоммерческаяИнформация ВерсияСхемы=\"2.05\"><Каталог><Товары>\n");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len,
		                        "<Товар><Ид>id-%zu</Ид><Наименование>Товар номер %zu"
		                        "</Наименование><Группы><Ид>g</Ид></Группы></Товар>\n",
		                        i, i);
	len += (size_t)snprintf(buf + len, cap - len, "</Товары></Каталог></КоммерческаяИнформация>");

	long before = rss_kib();
	st = cml_reader_open_memory(r, buf, len, "big.xml");
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		if (it->kind == CML_ITEM_PRODUCT)
			products++;
	CHECK_INT(st, CML_END);
	CHECK_INT(products, n);
	CHECK(!RSS_MEANINGFUL || rss_kib() - before < 8 * 1024);
	CHECK(cml_reader_line(r) > 0);
	cml_reader_free(r);
	free(buf);
}

/* Every allocation failure is an error, never a crash or a leak. */
static void
test_alloc_failures(void)
{
	const char *path = R("good-quirks.xml");
	int ok_at = 0;

	for (long n = 1; n < 2000 && ok_at == 0; n++) {
		cml_reader *r;
		const cml_item *it;
		cml_status st;

		cml_alloc_fail_after(n);
		r = cml_reader_new(NULL);
		if (r == NULL) {
			cml_alloc_fail_after(0);
			continue;
		}
		st = cml_reader_open_file(r, path);
		while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
			;
		cml_alloc_fail_after(0);
		if (st == CML_END)
			ok_at = (int)n;
		else
			CHECK(st == CML_ERR_NOMEM);
		cml_reader_free(r);
	}
	CHECK(ok_at > 1);
}

static void
test_errors_are_sticky(void)
{
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;

	CHECK_INT(cml_reader_next(r, &it), CML_ERR_STATE);
	CHECK_INT(cml_reader_open_file(r, R("no-such-file.xml")), CML_ERR_IO);
	CHECK(strstr(cml_reader_errmsg(r), "no-such-file.xml: No such file") != NULL);
	cml_reader_free(r);
	cml_reader_free(NULL);
}

/* Reads a whole file into a string the caller frees; NULL if it cannot. */
static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	char buf[4096];
	size_t n;

	if (fp == NULL || out == NULL) {
		if (fp != NULL)
			fclose(fp);
		if (out != NULL)
			fclose(out);
		free(text);
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		fwrite(buf, 1, n, out);
	fclose(fp);
	fclose(out);
	return text;
}

/*
 * Fidelity on real shapes: NAME.xml read and dumped item by item (the
 * file item left out) must give NAME.dump byte for byte.
 */
static void
test_fidelity(void)
{
	static const char *const names[] = {
		"fidelity-bitrix-prop-values",
		"fidelity-31-bare-stock",
		"fidelity-changes-only",
		"fidelity-31-kit",
		"fidelity-units-order",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char xml[1024], want_path[1024];
		char *got = NULL, *want;
		size_t len = 0;
		FILE *out = open_memstream(&got, &len);
		cml_reader *r = cml_reader_new(NULL);
		const cml_item *it;
		cml_status st;

		harness_current = names[i];
		snprintf(xml, sizeof(xml), TESTDATA "/reader/%s.xml", names[i]);
		snprintf(want_path, sizeof(want_path), TESTDATA "/reader/%s.dump", names[i]);
		CHECK(out != NULL && r != NULL);
		if (out == NULL || r == NULL) {
			if (out != NULL)
				fclose(out);
			free(got);
			cml_reader_free(r);
			continue;
		}
		st = cml_reader_open_file(r, xml);
		while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
			if (it->kind != CML_ITEM_FILE)
				CHECK_INT(cml_item_dump_json(it, out), CML_OK);
		if (st != CML_END)
			fprintf(stderr, "  %s\n", cml_reader_errmsg(r));
		CHECK_INT(st, CML_END);
		fclose(out);
		want = slurp(want_path);
		CHECK(want != NULL);
		CHECK_STR(got, want);
		free(want);
		free(got);
		cml_reader_free(r);
	}
}

int
main(void)
{
	RUN(test_quirks);
	RUN(test_encodings);
	RUN(test_offers);
	RUN(test_hostile);
	RUN(test_deep);
	RUN(test_not_cml);
	RUN(test_flat_memory);
	RUN(test_alloc_failures);
	RUN(test_errors_are_sticky);
	RUN(test_fidelity);
	return harness_done();
}
