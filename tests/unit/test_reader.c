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
	hostile(R("bad-price-nan.xml"), CML_ERR_ITEM,
	        "bad-price-nan.xml:7: Предложение/Цены/Цена/ЦенаЗаЕдиницу: 'дорого' is not a "
	        "number (in <Предложение> Ид \"p2\" of line 6)");
}

/* ---- generated inputs ---- */

typedef struct gbuf {
	char *p;
	size_t len, cap;
} gbuf;

static void
gput(gbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (b->len + n + 1 > cap)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			abort();
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
gstr(gbuf *b, const char *s)
{
	gput(b, s, strlen(s));
}

/* Reads a buffer to its end (item errors included); the final status. */
static cml_status
read_mem(const cml_reader_opts *o, const gbuf *b, const char *name, char *err, size_t errcap)
{
	cml_reader *r = cml_reader_new(o);
	const cml_item *it;
	cml_status st = cml_reader_open_memory(r, b->p, b->len, name);

	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		;
	snprintf(err, errcap, "%s", cml_reader_errmsg(r));
	cml_reader_free(r);
	return st;
}

#define CATALOG_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
	"<КоммерческаяИнформация ВерсияСхемы=\"2.05\">\n<Каталог><Ид>c</Ид><Товары>\n"
#define CATALOG_TAIL "</Товары></Каталог></КоммерческаяИнформация>\n"

/* A value out of its domain skips that item only (issue 9 item 7). */
static void
test_item_error(void)
{
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	cml_status st = cml_reader_open_file(r, R("bad-order-discount-sum.xml"));
	char ids[4][32] = { "" };
	int n_docs = 0, n_bad = 0;

	CHECK_INT(st, CML_OK);
	while ((st = cml_reader_next(r, &it)) == CML_OK || st == CML_ERR_ITEM) {
		if (st == CML_ERR_ITEM) {
			const char *want = "bad-order-discount-sum.xml:41: "
			                   "Документ/Товары/Товар/Скидки/Скидка/Сумма: 'Скидка' is "
			                   "not a number (in <Документ> Ид \"order-2\" of line 22)";
			n_bad++;
			CHECK(it == NULL);
			if (strstr(cml_reader_errmsg(r), want) == NULL)
				fprintf(stderr, "  message was: %s\n", cml_reader_errmsg(r));
			CHECK(strstr(cml_reader_errmsg(r), want) != NULL);
			continue;
		}
		if (it->kind == CML_ITEM_DOCUMENT && n_docs < 4)
			snprintf(ids[n_docs++], sizeof(ids[0]), "%s", it->u.document.id);
	}
	CHECK_INT(st, CML_END);
	CHECK_INT(n_bad, 1);
	CHECK_INT(n_docs, 2);
	CHECK_STR(ids[0], "order-1");
	CHECK_STR(ids[1], "order-3");

	/* an item without Ид, then broken XML: the structural error stays fatal */
	static const char offer[] = "<?xml version=\"1.0\"?>\n<КоммерческаяИнформация>"
		"<ПакетПредложений><Предложения>\n<Предложение><Цены><Цена>"
		"<ЦенаЗаЕдиницу>?</ЦенаЗаЕдиницу></Цена></Цены></Предложение>\n"
		"<Предложение><Ид>o2</Ид></Предложение>\n";
	/* libxml2 parses ahead: the broken end comes well after the items */
	gbuf b = { 0 };
	gstr(&b, offer);
	for (int i = 0; i < 2000; i++)
		gstr(&b, "<!-- a comment that keeps the broken end far from the items -->\n");
	gstr(&b, "<Предложение><Ид>o3</Предложение>");
	st = cml_reader_open_memory(r, b.p, b.len, "offers.xml");
	int items = 0;
	n_bad = 0;
	while ((st = cml_reader_next(r, &it)) == CML_OK || st == CML_ERR_ITEM) {
		if (st == CML_ERR_ITEM) {
			n_bad++;
			CHECK(strstr(cml_reader_errmsg(r),
			             "offers.xml:3: Предложение/Цены/Цена/ЦенаЗаЕдиницу: '?' is not "
			             "a number (in <Предложение> of line 3, no Ид)") !=
			      NULL);
		} else if (it->kind == CML_ITEM_OFFER) {
			items++;
			CHECK_STR(it->u.offer.id, "o2");
		}
	}
	CHECK_INT(n_bad, 1);
	CHECK_INT(items, 1);
	CHECK_INT(st, CML_ERR_SYNTAX);
	CHECK_INT(cml_reader_next(r, &it), CML_ERR_SYNTAX);
	cml_reader_free(r);
	free(b.p);
}

/* 200,000 attributes on one element: refused at once, not after minutes
 * of libxml2's pairwise duplicate check (issue 8 item 6). */
static void
test_many_attributes(void)
{
	gbuf b = { 0 };
	char err[1024], a[64];
	cml_reader_opts o = { 0 };

	gstr(&b, CATALOG_HEAD "<Товар");
	for (int i = 0; i < 200000; i++) {
		snprintf(a, sizeof(a), " a%d=\"%d\"", i, i);
		gstr(&b, a);
	}
	gstr(&b, "><Ид>p1</Ид></Товар>\n" CATALOG_TAIL);

	double t0 = now();
	CHECK_INT(read_mem(NULL, &b, "attrs.xml", err, sizeof(err)), CML_ERR_HOSTILE);
	CHECK(now() - t0 < 0.5);
	CHECK(strstr(err, "attrs.xml:4: <Товар>: more than 64 attributes: refused") != NULL);

	/* the limit is an option, and as many as it allows are read */
	b.len = 0;
	gstr(&b, CATALOG_HEAD "<Товар");
	for (int i = 0; i < 64; i++) {
		snprintf(a, sizeof(a), " a%d='%d'", i, i);
		gstr(&b, a);
	}
	gstr(&b, "><Ид>p1</Ид></Товар>\n" CATALOG_TAIL);
	CHECK_INT(read_mem(NULL, &b, "attrs.xml", err, sizeof(err)), CML_END);
	o.max_attrs = 63;
	CHECK_INT(read_mem(&o, &b, "attrs.xml", err, sizeof(err)), CML_ERR_HOSTILE);
	CHECK(strstr(err, "<Товар>: more than 63 attributes") != NULL);

	/* '=' and '>' where they are no attributes: in a value, a comment,
	 * a CDATA section, a processing instruction, text */
	char eq[200];
	memset(eq, '=', sizeof(eq) - 1);
	eq[sizeof(eq) - 1] = '\0';
	b.len = 0;
	gstr(&b, CATALOG_HEAD "<?pi ");
	gstr(&b, eq);
	gstr(&b, " ?><!-- <Товар ");
	gstr(&b, eq);
	gstr(&b, "> --><Товар a=\"");
	gstr(&b, eq);
	gstr(&b, "> <\" b='>'><Ид>p1</Ид><Описание><![CDATA[<x ");
	gstr(&b, eq);
	gstr(&b, ">]]> ");
	gstr(&b, eq);
	gstr(&b, " &gt;</Описание></Товар>\n" CATALOG_TAIL);
	CHECK_INT(read_mem(&o, &b, "attrs.xml", err, sizeof(err)), CML_ERR_SYNTAX); /* '<' in a value */
	char *lt = strstr(b.p, "> <\"");
	lt[2] = ' ';
	CHECK_INT(read_mem(&o, &b, "attrs.xml", err, sizeof(err)), CML_END);
	if (strcmp(err, "") != 0)
		fprintf(stderr, "  message was: %s\n", err);

	/* UTF-16LE: the same count */
	gbuf w = { 0 };
	b.len = 0;
	gstr(&b, "<КоммерческаяИнформация><Каталог><Товары>\n<Товар");
	for (int i = 0; i < 1000; i++) {
		snprintf(a, sizeof(a), " a%d=\"%d\"", i, i);
		gstr(&b, a);
	}
	gstr(&b, "/></Товары></Каталог></КоммерческаяИнформация>");
	gput(&w, "\xFF\xFE", 2);
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.p[i];
		unsigned u = c;
		if (c >= 0x80) {
			u = (unsigned)(c & 0x1F) << 6 | ((unsigned char)b.p[i + 1] & 0x3F);
			i++;
		}
		char pair[2] = { (char)(u & 0xFF), (char)(u >> 8) };
		gput(&w, pair, 2);
	}
	CHECK_INT(read_mem(NULL, &w, "attrs16.xml", err, sizeof(err)), CML_ERR_HOSTILE);
	CHECK(strstr(err, "attrs16.xml:2: <Товар>: more than 64 attributes") != NULL);
	free(w.p);
	free(b.p);
}

/* A text of 12 MB is read (libxml2 alone stops at 10 MB); the limit is
 * max_item_bytes, with cmlkit's message (issue 9 item 8). */
static void
test_text_limit(void)
{
	const size_t big = 12u * 1000 * 1000;
	gbuf b = { 0 };
	char err[1024];
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	cml_status st;
	size_t desc_len = 0;

	gstr(&b, CATALOG_HEAD "<Товар><Ид>p1</Ид>\n<Описание>");
	char *chunk = malloc(1000);
	memset(chunk, 'x', 1000);
	for (size_t i = 0; i < big / 1000; i++)
		gput(&b, chunk, 1000);
	gstr(&b, "</Описание></Товар>\n" CATALOG_TAIL);

	st = cml_reader_open_memory(r, b.p, b.len, "text.xml");
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		if (it->kind == CML_ITEM_PRODUCT && it->u.product.description != NULL)
			desc_len = strlen(it->u.product.description);
	if (st != CML_END)
		fprintf(stderr, "  message was: %s\n", cml_reader_errmsg(r));
	CHECK_INT(st, CML_END);
	CHECK_INT(desc_len, big);
	cml_reader_free(r);

	/* past the limit: refused before libxml2 holds it, naming the element */
	cml_reader_opts o = { .max_item_bytes = 1u << 20 };
	long before = rss_kib();
	CHECK_INT(read_mem(&o, &b, "text.xml", err, sizeof(err)), CML_ERR_HOSTILE);
	CHECK(strstr(err, "text.xml:5: <Описание>: text of more than 1048576 bytes: refused") !=
	      NULL);
	CHECK(!RSS_MEANINGFUL || rss_kib() - before < 8 * 1024);

	/* the same in UTF-16LE */
	gbuf w = { 0 };
	for (size_t i = 0; i < b.len && i < 3u << 20; i++) {
		unsigned char c = (unsigned char)b.p[i];
		unsigned u = c;
		if (c >= 0x80) { /* the two-byte UTF-8 of the Cyrillic names */
			u = (unsigned)(c & 0x1F) << 6 | ((unsigned char)b.p[i + 1] & 0x3F);
			i++;
		}
		char pair[2] = { (char)(u & 0xFF), (char)(u >> 8) };
		gput(&w, pair, 2);
	}
	CHECK_INT(read_mem(&o, &w, "text16.xml", err, sizeof(err)), CML_ERR_HOSTILE);
	if (strstr(err, "text16.xml:5: <Описание>: text of more than") == NULL)
		fprintf(stderr, "  message was: %s\n", err);
	CHECK(strstr(err, "text16.xml:5: <Описание>: text of more than") != NULL);
	free(w.p);
	free(chunk);
	free(b.p);
}

/* The item limit counts what the item costs in memory, not its text:
 * 800,000 empty property values (issue 8 item 8). */
static void
test_item_memory(void)
{
	gbuf b = { 0 };
	char err[1024];

	gstr(&b, CATALOG_HEAD "<Товар><Ид>big</Ид><ЗначенияСвойств>\n");
	for (int i = 0; i < 800000; i++)
		gstr(&b, "<ЗначенияСвойства><Ид>p</Ид><Значение/></ЗначенияСвойства>\n");
	gstr(&b, "</ЗначенияСвойств></Товар>\n" CATALOG_TAIL);

	long before = rss_kib();
	double t0 = now();
	CHECK_INT(read_mem(NULL, &b, "props.xml", err, sizeof(err)), CML_ERR_HOSTILE);
	if (strstr(err, "props.xml:4: <Товар> Ид \"big\": the item takes more than 67108864 "
	                "bytes of memory: refused") == NULL)
		fprintf(stderr, "  message was: %s\n", err);
	CHECK(strstr(err, "props.xml:4: <Товар> Ид \"big\": the item takes more than 67108864 "
	                  "bytes of memory: refused") != NULL);
	CHECK(!RSS_MEANINGFUL || rss_kib() - before < 80 * 1024);
	fprintf(stderr, "  800k property values: %.2f s, peak RSS +%ld KiB\n", now() - t0,
	        rss_kib() - before);

	/* a smaller limit holds too */
	cml_reader_opts o = { .max_item_bytes = 1u << 20 };
	CHECK_INT(read_mem(&o, &b, "props.xml", err, sizeof(err)), CML_ERR_HOSTILE);
	CHECK(strstr(err, "more than 1048576 bytes of memory") != NULL);
	free(b.p);
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

	/* what happened and what to do, not libxml2's "Extra content" */
	st = cml_reader_open_memory(r, "", 0, "empty.xml");
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		;
	CHECK_INT(st, CML_ERR_FORMAT);
	CHECK(strstr(cml_reader_errmsg(r), "empty.xml: the input is empty (0 bytes): no "
	                                   "CommerceML in it; was it written completely?") != NULL);
	st = cml_reader_open_memory(r, "\n \r\n", 4, "blank.xml");
	CHECK_INT(st, CML_ERR_FORMAT);
	CHECK(strstr(cml_reader_errmsg(r), "blank.xml: the input is empty (only white space)") !=
	      NULL);

	/* UTF-32, with a BOM (libxml2: "Document is empty") and without */
	static const char u32le[] = "\xFF\xFE\0\0<\0\0\0?\0\0\0";
	static const char u32be[] = "\0\0\0<\0\0\0?";
	st = cml_reader_open_memory(r, u32le, sizeof(u32le) - 1, "u32.xml");
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		;
	CHECK_INT(st, CML_ERR_ENCODING);
	CHECK(strstr(cml_reader_errmsg(r), "u32.xml: the input is UTF-32: CommerceML is read in "
	                                   "UTF-8, windows-1251 or UTF-16; convert it first "
	                                   "(iconv -f UTF-32 -t UTF-8)") != NULL);
	st = cml_reader_open_memory(r, u32be, sizeof(u32be) - 1, "u32be.xml");
	CHECK_INT(st, CML_ERR_ENCODING);
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
		"fidelity-31-geotag",
		"fidelity-orders-210",
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

/*
 * A contact person's own Контакты, in every place a system puts them:
 * Bitrix nests Отношение, Ид and Наименование in a Контрагент inside the
 * Представитель (and its Контакты with them, or beside the nested
 * Контрагент); 1C 2.09 and 3.1 put all of it directly under the
 * Представитель; the invented <Телефон>/<Email> forms too. An order's
 * buyer and a Контрагенты package alike.
 */
static const char reps_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<КоммерческаяИнформация ВерсияСхемы=\"2.10\">\n"
	"<Документ><Ид>o1</Ид><Номер>1</Номер><Дата>2026-11-30</Дата>"
	"<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль>"
	"<Валюта>RUB</Валюта><Сумма>10</Сумма>\n"
	"<Контрагенты><Контрагент><Ид>b1</Ид><Наименование>ООО Ромашка</Наименование>"
	"<Контакты><Контакт><Тип>Электронная почта</Тип><Значение>office@romashka.ru</Значение>"
	"</Контакт></Контакты>\n"
	"<Представители>\n"
	/* Bitrix: the contacts in the nested Контрагент */
	"<Представитель><Контрагент><Отношение>Контактное лицо</Отношение><Ид>p1</Ид>"
	"<Наименование>Иванов Иван</Наименование>"
	"<Контакты><Контакт><Тип>Электронная почта</Тип><Значение>ivan@romashka.ru</Значение>"
	"</Контакт><Контакт><Тип>Телефон рабочий</Тип><Значение>+7 912 345-67-89</Значение>"
	"</Контакт></Контакты></Контрагент></Представитель>\n"
	/* Bitrix nesting, the contacts beside the nested Контрагент */
	"<Представитель><Контрагент><Отношение>Контактное лицо</Отношение><Ид>p2</Ид>"
	"<Наименование>Петров Пётр</Наименование></Контрагент>"
	"<Контакты><Контакт><Тип>Почта</Тип><Значение>petr@romashka.ru</Значение></Контакт>"
	"</Контакты></Представитель>\n"
	/* 1C: everything under the Представитель, Представление for the value */
	"<Представитель><Отношение>Контактное лицо</Отношение><Ид>p3</Ид>"
	"<Наименование>Сидорова Анна</Наименование>"
	"<Контакты><Контакт><Тип>Телефон</Тип><Представление>8 (495) 111-22-33</Представление>"
	"</Контакт></Контакты></Представитель>\n"
	/* the invented forms */
	"<Представитель><Отношение>Контактное лицо</Отношение><Ид>p4</Ид>"
	"<Наименование>Кузнецов</Наименование><Телефон>89161234567</Телефон>"
	"<Email>k@romashka.ru</Email></Представитель>\n"
	/* a representative with no contacts at all */
	"<Представитель><Контрагент><Отношение>Контактное лицо</Отношение><Ид>p5</Ид>"
	"<Наименование>Без контактов</Наименование></Контрагент></Представитель>\n"
	"</Представители><Роль>Покупатель</Роль></Контрагент></Контрагенты>\n"
	"</Документ>\n"
	"</КоммерческаяИнформация>\n";

static const char reps_package_xml[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<КоммерческаяИнформация ВерсияСхемы=\"3.1\">\n"
	"<Контрагенты СодержитТолькоИзменения=\"false\"><Контрагент><Ид>c1</Ид>"
	"<Наименование>ООО Ромашка</Наименование><ИНН>7707083893</ИНН>"
	"<Представители><Представитель><Отношение>Контактное лицо</Отношение><Ид>p1</Ид>"
	"<Наименование>Иванов Иван</Наименование><Контакты><Контакт><Тип>Почта</Тип>"
	"<Значение>ivan@romashka.ru</Значение></Контакт></Контакты></Представитель>"
	"</Представители></Контрагент></Контрагенты>\n"
	"</КоммерческаяИнформация>\n";

static void
check_rep(const cml_representative *p, const char *id, const char *name, size_t n,
          const char *type0, const char *value0, const char *type1, const char *value1)
{
	CHECK_STR(p->id, id);
	CHECK_STR(p->name, name);
	CHECK_STR(p->relation, "Контактное лицо");
	CHECK_INT(p->n_contacts, n);
	if (p->n_contacts != n)
		return;
	if (n == 0) {
		CHECK(p->contacts == NULL);
		return;
	}
	CHECK_STR(p->contacts[0].name, type0);
	CHECK_STR(p->contacts[0].value, value0);
	if (n > 1) {
		CHECK_STR(p->contacts[1].name, type1);
		CHECK_STR(p->contacts[1].value, value1);
	}
}

static void
test_representatives(void)
{
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	cml_status st;
	int docs = 0, parties = 0;

	st = cml_reader_open_memory(r, reps_xml, sizeof(reps_xml) - 1, "reps.xml");
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK) {
		if (it->kind != CML_ITEM_DOCUMENT)
			continue;
		docs++;
		const cml_document *d = &it->u.document;
		CHECK_INT(d->n_counterparties, 1);
		if (d->n_counterparties != 1)
			continue;
		const cml_counterparty *c = &d->counterparties[0];
		/* the buyer's own contacts stay the buyer's */
		CHECK_INT(c->n_contacts, 1);
		CHECK_STR(c->contacts[0].value, "office@romashka.ru");
		CHECK_INT(c->n_representatives, 5);
		if (c->n_representatives != 5)
			continue;
		check_rep(&c->representatives[0], "p1", "Иванов Иван", 2, "Электронная почта",
		          "ivan@romashka.ru", "Телефон рабочий", "+7 912 345-67-89");
		check_rep(&c->representatives[1], "p2", "Петров Пётр", 1, "Почта",
		          "petr@romashka.ru", NULL, NULL);
		check_rep(&c->representatives[2], "p3", "Сидорова Анна", 1, "Телефон",
		          "8 (495) 111-22-33", NULL, NULL);
		check_rep(&c->representatives[3], "p4", "Кузнецов", 2, "Телефон", "89161234567",
		          "Почта", "k@romashka.ru");
		check_rep(&c->representatives[4], "p5", "Без контактов", 0, NULL, NULL, NULL, NULL);
	}
	CHECK_INT(st, CML_END);
	CHECK_INT(docs, 1);
	cml_reader_free(r);

	r = cml_reader_new(NULL);
	st = cml_reader_open_memory(r, reps_package_xml, sizeof(reps_package_xml) - 1,
	                            "contragents.xml");
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK) {
		if (it->kind != CML_ITEM_COUNTERPARTY)
			continue;
		parties++;
		const cml_counterparty *c = &it->u.counterparty;
		CHECK_INT(c->n_contacts, 0);
		CHECK_INT(c->n_representatives, 1);
		if (c->n_representatives == 1)
			check_rep(&c->representatives[0], "p1", "Иванов Иван", 1, "Почта",
			          "ivan@romashka.ru", NULL, NULL);
	}
	CHECK_INT(st, CML_END);
	CHECK_INT(parties, 1);
	cml_reader_free(r);
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
	RUN(test_item_error);
	RUN(test_many_attributes);
	RUN(test_text_limit);
	RUN(test_item_memory);
	RUN(test_alloc_failures);
	RUN(test_errors_are_sticky);
	RUN(test_fidelity);
	RUN(test_representatives);
	return harness_done();
}
