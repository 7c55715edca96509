/*
 * test_fingerprint.c: the canonical form and hash of item parts: order
 * inside sets, number spellings and whitespace do not count; every
 * visible change counts, in exactly its own part; the parts an offer
 * from a split file has; allocation failures; one fixed fingerprint;
 * a price's defaults written out or left out.
 *
 * "test_fingerprint --bench [N]" fingerprints N (default 1000000)
 * generated products and as many offers and prints the rate.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xxhash.h>

#include <cml/fingerprint.h>
#include <cml/reader.h>

#include "harness.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The fingerprints of the hand-built product and offer below. The stored
 * baselines depend on the canonical form these pin down: see
 * test_known_fingerprint before changing them. */
#define KNOWN_PRODUCT      "29246eb91b60fc5dbdbdb8942f534590"
#define KNOWN_OFFER_CARD   "4c8c199a5d6a3e3e82fcaeae0e28cef4"
/* The offer's prices write Коэффициент 1, the default: the fingerprint of
 * the same prices without it, as every version computed it (issue 13). */
#define KNOWN_OFFER_PRICES "5e52db47a34f6a43102679b45b48df01"
/* The same without a currency, as every version computed it: what prices
 * writing their price types' currencies have once the types are known. */
#define KNOWN_PRICES_BARE  "d9b9a6a4606d5a304b0175bd3bc1bfa0"
#define KNOWN_OFFER_STOCK  "b024b109a33ea4d98b918521ed83b9a5"
#define KNOWN_PROPERTY     "debcd584336cdb5ef324326f4d0ea236" /* test_type_geotag */

/* ---- hand-built items ---- */

/* A product with something in every field, and sets of several
 * elements in a deliberately unsorted order. */
static const char *pr_groups[] = {"g-b", "g-a", "g-c"};
static const char *pr_pictures[] = {"img/2.jpg", "img/1.jpg"};

static void
make_product(cml_item *it, cml_prop_value *props, cml_tax *taxes, cml_pair *reqs, cml_pair *chars,
             const char **groups, const char **pictures)
{
	static const cml_prop_value p0[] = {
	        {"prop-2", "x"},
	        {NULL, "без ид"},
	        {"prop-1", "b"},
	        {"prop-1", "a"},
	};
	static const cml_tax t0[] = {{"НДС", "20", NULL, CML_UNSET},
	                             {"Акциз", "5", NULL, CML_UNSET}};
	static const cml_pair r0[] = {
	        {"ВидНоменклатуры", "Товар"}, {"Вес", "1.5"}, {"ТипНоменклатуры", "Товар"}};
	static const cml_pair c0[] = {{"Цвет", "красный"}, {"Размер", "M"}};

	memcpy(props, p0, sizeof(p0));
	memcpy(taxes, t0, sizeof(t0));
	memcpy(reqs, r0, sizeof(r0));
	memcpy(chars, c0, sizeof(c0));
	memcpy(groups, pr_groups, sizeof(pr_groups));
	memcpy(pictures, pr_pictures, sizeof(pr_pictures));
	memset(it, 0, sizeof(*it));
	it->kind = CML_ITEM_PRODUCT;
	it->origin.file = "import.xml";
	it->origin.line = 10;
	cml_product *p = &it->u.product;
	p->id = "bd72d8f9-55bc-11d9-848a-00112f43529a";
	p->article = "A-100";
	p->barcode = "4600000000015";
	p->name = "Куртка";
	p->full_name = "Куртка зимняя";
	p->description = "Тёплая";
	p->version = "AAAAAQ==";
	p->unit = (cml_unit_ref){"796", "шт", "Штука", "PCE", NULL, 0};
	p->groups = groups;
	p->n_groups = 3;
	p->pictures = pictures;
	p->n_pictures = 2;
	p->manufacturer_id = "m1";
	p->manufacturer_name = "Фабрика";
	p->country = "Россия";
	p->category = "cat1";
	p->props = props;
	p->n_props = 4;
	p->taxes = taxes;
	p->n_taxes = 2;
	p->requisites = reqs;
	p->n_requisites = 3;
	p->characteristics = chars;
	p->n_characteristics = 2;
	p->status = CML_STATUS_NONE;
}

/* Storage for one hand-built product, so tests can mutate copies. */
typedef struct prod_store {
	cml_item it;
	cml_prop_value props[4];
	cml_tax taxes[2];
	cml_pair reqs[3], chars[2];
	const char *groups[3], *pictures[2];
} prod_store;

static void
prod_init(prod_store *s)
{
	make_product(&s->it, s->props, s->taxes, s->reqs, s->chars, s->groups, s->pictures);
}

typedef struct offer_store {
	cml_item it;
	cml_pair chars[2];
	cml_prop_value props[2];
	cml_price prices[3];
	cml_stock stocks[3];
} offer_store;

static void
offer_init(offer_store *s)
{
	static const cml_pair c0[] = {{"Размер", "M"}, {"Цвет", "синий"}};
	static const cml_prop_value p0[] = {{"prop-9", "z"}, {"prop-3", "q"}};
	static const cml_price pr0[] = {
	        {"opt", "900 руб. за шт", "900", "RUB", "шт", "1", NULL, CML_UNSET},
	        {"retail", "1 200 руб. за шт", "1200", "RUB", "шт", "1", NULL, CML_UNSET},
	        {"action", NULL, "999.5", "RUB", "шт", "1", NULL, CML_UNSET},
	};
	static const cml_stock s0[] = {{"w2", "7.5"}, {"w1", "0"}, {"w3", "-1"}};

	memset(s, 0, sizeof(*s));
	memcpy(s->chars, c0, sizeof(c0));
	memcpy(s->props, p0, sizeof(p0));
	memcpy(s->prices, pr0, sizeof(pr0));
	memcpy(s->stocks, s0, sizeof(s0));
	s->it.kind = CML_ITEM_OFFER;
	cml_offer *o = &s->it.u.offer;
	o->id = "p1#c1";
	o->product_id = "p1";
	o->char_id = "c1";
	o->article = "A-100-M";
	o->barcode = "4600000000022";
	o->name = "Куртка (M)";
	o->version = "v1";
	o->unit = (cml_unit_ref){"796", "шт", "Штука", "PCE", NULL, 0};
	o->characteristics = s->chars;
	o->n_characteristics = 2;
	o->props = s->props;
	o->n_props = 2;
	o->prices = s->prices;
	o->n_prices = 3;
	o->has_prices = true;
	o->quantity = "6.5";
	o->stocks = s->stocks;
	o->n_stocks = 3;
	o->has_stocks = true;
}

/* ---- helpers ---- */

static cml_fingerprinter *fpr;

/* The fingerprints of an item's parts, indexed by cml_part; a part the
 * item does not have is all zero. Returns the number of parts. */
typedef struct fps {
	cml_fp fp[CML_PART_COUNT];
	bool has[CML_PART_COUNT];
	size_t n;
} fps;

static fps
fp_of(const cml_item *it)
{
	cml_part_fp out[CML_MAX_PARTS];
	fps r;
	size_t n = 99;

	memset(&r, 0, sizeof(r));
	CHECK_INT(cml_fingerprint_item(fpr, it, out, &n), CML_OK);
	CHECK(n <= CML_MAX_PARTS);
	if (n > CML_MAX_PARTS)
		n = 0;
	r.n = n;
	for (size_t i = 0; i < n; i++) {
		CHECK(out[i].part > CML_PART_NONE && out[i].part < CML_PART_COUNT);
		CHECK(out[i].id != NULL);
		CHECK(!r.has[out[i].part]);
		r.has[out[i].part] = true;
		r.fp[out[i].part] = out[i].fp;
	}
	return r;
}

static bool
same(const fps *a, const fps *b)
{
	if (a->n != b->n)
		return false;
	for (int p = 0; p < CML_PART_COUNT; p++)
		if (a->has[p] != b->has[p] || (a->has[p] && !cml_fp_equal(a->fp[p], b->fp[p])))
			return false;
	return true;
}

/* Exactly the listed part differs (both items have the same parts). */
static bool
only_differs(const fps *a, const fps *b, cml_part part)
{
	if (a->n != b->n)
		return false;
	for (int p = 0; p < CML_PART_COUNT; p++) {
		if (a->has[p] != b->has[p])
			return false;
		if (!a->has[p])
			continue;
		bool eq = cml_fp_equal(a->fp[p], b->fp[p]);
		if (p == (int)part ? eq : !eq)
			return false;
	}
	return a->has[part];
}

/* Fingerprints the first item of the kind in an in-memory XML file,
 * through the real reader. */
static fps
fp_xml(const char *xml, cml_kind kind)
{
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	cml_status st;
	fps res;
	bool found = false;

	memset(&res, 0, sizeof(res));
	CHECK(r != NULL);
	if (r == NULL)
		return res;
	st = cml_reader_open_memory(r, xml, strlen(xml), "mem.xml");
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		if (it->kind == kind) {
			res = fp_of(it);
			found = true;
			break;
		}
	if (st < 0)
		fprintf(stderr, "%s\n", cml_reader_errmsg(r));
	CHECK(st >= 0);
	CHECK(found);
	cml_reader_free(r);
	return res;
}

/* ---- tests ---- */

static void
test_names(void)
{
	static const char *const want[CML_PART_COUNT] = {
	        NULL,   "group",   "property",   "price_type",   "warehouse",
	        "unit", "product", "offer_card", "offer_prices", "offer_stock",
	};
	char hex[33];

	for (int p = 0; p < CML_PART_COUNT; p++)
		CHECK_STR(cml_part_name((cml_part)p), want[p]);
	CHECK(cml_part_name(CML_PART_COUNT) == NULL);
	CHECK(cml_part_name((cml_part)-1) == NULL);
	cml_fp_hex((cml_fp){0x0123456789abcdefULL, 0xfedcba9876543210ULL}, hex);
	CHECK_STR(hex, "0123456789abcdeffedcba9876543210");
	cml_fp_hex((cml_fp){0, 1}, hex);
	CHECK_STR(hex, "00000000000000000000000000000001");
	cml_fingerprinter_free(NULL);
}

/* The stored baselines hold these hashes: if this test fails, the
 * canonical form changed and every existing baseline will see every
 * item as changed (a full re-send). Change the expected value only
 * together with a deliberate, documented change of the form. */
static void
test_known_fingerprint(void)
{
	prod_store ps;
	offer_store os;
	char hex[33];

	prod_init(&ps);
	fps a = fp_of(&ps.it);
	CHECK_INT(a.n, 1);
	cml_fp_hex(a.fp[CML_PART_PRODUCT], hex);
	CHECK_STR(hex, KNOWN_PRODUCT);

	offer_init(&os);
	fps b = fp_of(&os.it);
	CHECK_INT(b.n, 3);
	cml_fp_hex(b.fp[CML_PART_OFFER_CARD], hex);
	CHECK_STR(hex, KNOWN_OFFER_CARD);
	cml_fp_hex(b.fp[CML_PART_OFFER_PRICES], hex);
	CHECK_STR(hex, KNOWN_OFFER_PRICES);
	cml_fp_hex(b.fp[CML_PART_OFFER_STOCK], hex);
	CHECK_STR(hex, KNOWN_OFFER_STOCK);
}

/* The price types opt, retail and action, in RUB unless cur says
 * otherwise, seen by the fingerprinter g. */
static void
see_types(cml_fingerprinter *g, const char *cur)
{
	static const char *const ids[] = { "opt", "retail", "action" };
	cml_part_fp out[CML_MAX_PARTS];
	size_t n;

	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		cml_item it;
		memset(&it, 0, sizeof(it));
		it.kind = CML_ITEM_PRICE_TYPE;
		it.u.price_type.id = ids[i];
		it.u.price_type.currency = cur;
		CHECK_INT(cml_fingerprint_item(g, &it, out, &n), CML_OK);
	}
}

static void
prices_hex(cml_fingerprinter *g, const cml_item *it, char hex[33])
{
	cml_fingerprinter *keep = fpr;

	fpr = g;
	fps a = fp_of(it);
	fpr = keep;
	cml_fp_hex(a.fp[CML_PART_OFFER_PRICES], hex);
}

/* A default written out and one left out are the same value: Коэффициент
 * 1, and Валюта the price type's currency once the type is seen. Prices
 * that never wrote a default keep the fingerprints they always had. */
static void
test_price_defaults(void)
{
	offer_store os;
	char hex[33], hex2[33];
	cml_fingerprinter *g = cml_fingerprinter_new();

	CHECK(g != NULL);
	offer_init(&os);
	prices_hex(g, &os.it, hex); /* Коэффициент 1 written */
	CHECK_STR(hex, KNOWN_OFFER_PRICES);
	for (int i = 0; i < 3; i++)
		os.prices[i].coefficient = NULL;
	prices_hex(g, &os.it, hex);
	CHECK_STR(hex, KNOWN_OFFER_PRICES);
	os.prices[1].coefficient = "1.5";
	prices_hex(g, &os.it, hex);
	CHECK(strcmp(hex, KNOWN_OFFER_PRICES) != 0);
	os.prices[1].coefficient = NULL;

	/* the types unknown: a currency written is a value of its own */
	for (int i = 0; i < 3; i++)
		os.prices[i].currency = NULL;
	prices_hex(g, &os.it, hex);
	CHECK_STR(hex, KNOWN_PRICES_BARE);
	/* known in RUB: RUB written is RUB left out */
	see_types(g, "RUB");
	prices_hex(g, &os.it, hex);
	CHECK_STR(hex, KNOWN_PRICES_BARE);
	for (int i = 0; i < 3; i++)
		os.prices[i].currency = "RUB";
	prices_hex(g, &os.it, hex);
	CHECK_STR(hex, KNOWN_PRICES_BARE);
	os.prices[2].currency = "USD"; /* not the type's: a value */
	prices_hex(g, &os.it, hex);
	CHECK(strcmp(hex, KNOWN_PRICES_BARE) != 0);
	os.prices[2].currency = "RUB";
	/* the type's currency changed: RUB is no longer its default */
	see_types(g, "USD");
	prices_hex(g, &os.it, hex);
	CHECK_STR(hex, KNOWN_OFFER_PRICES);
	/* a type without a currency gives no default */
	see_types(g, NULL);
	prices_hex(g, &os.it, hex);
	CHECK_STR(hex, KNOWN_OFFER_PRICES);
	see_types(g, "RUB");

	/* the order of the prices follows the form, not the spelling: two
	 * prices of one type that differ in unit only */
	os.prices[0] = (cml_price){ "opt", NULL, "900", "RUB", "шт", "1", NULL, CML_UNSET };
	os.prices[1] = (cml_price){ "opt", NULL, "900", NULL, "кг", NULL, NULL, CML_UNSET };
	os.it.u.offer.n_prices = 2;
	prices_hex(g, &os.it, hex);
	os.prices[0].currency = NULL;
	os.prices[0].coefficient = NULL;
	os.prices[1].currency = "RUB";
	os.prices[1].coefficient = "1";
	prices_hex(g, &os.it, hex2);
	CHECK_STR(hex, hex2);
	cml_fingerprinter_free(g);

	/* remembering a type under allocation failures: NOMEM, then it
	 * works once memory is back */
	offer_init(&os);
	int ok = 0;
	for (long n = 1; n < 40 && !ok; n++) {
		cml_item it;
		cml_part_fp out[CML_MAX_PARTS];
		size_t np = 9;

		g = cml_fingerprinter_new();
		CHECK(g != NULL);
		memset(&it, 0, sizeof(it));
		it.kind = CML_ITEM_PRICE_TYPE;
		it.u.price_type.id = "opt";
		it.u.price_type.currency = "RUB";
		cml_alloc_fail_after(n);
		cml_status st = cml_fingerprint_item(g, &it, out, &np);
		if (st == CML_OK)
			st = cml_fingerprint_item(g, &os.it, out, &np);
		cml_alloc_fail_after(0);
		if (st == CML_OK)
			ok = 1;
		else
			CHECK_INT(st, CML_ERR_NOMEM);
		see_types(g, "RUB");
		for (int i = 0; i < 3; i++)
			os.prices[i].coefficient = NULL;
		prices_hex(g, &os.it, hex);
		for (int i = 0; i < 3; i++) {
			os.prices[i].currency = NULL;
			os.prices[i].coefficient = "1";
		}
		prices_hex(g, &os.it, hex2);
		CHECK_STR(hex, KNOWN_PRICES_BARE);
		CHECK_STR(hex2, KNOWN_PRICES_BARE);
		offer_init(&os);
		cml_fingerprinter_free(g);
	}
	CHECK(ok);
}

/* The bytes of the form, spelled out for a small group: the layout is
 * the contract documented at the top of fingerprint.c. */
static void
test_canonical_bytes(void)
{
	cml_item it;
	const unsigned char *b = NULL;
	size_t len = 0;
	static const unsigned char want[] = {
	        1,                            /* CML_PART_GROUP */
	        1, 2, 0, 0, 0, 'g', '1',      /* id */
	        2, 0, 0, 0, 0,                /* parent_id: NULL */
	        3, 3, 0, 0, 0, 'A', 'b', 'c', /* name */
	        4, 0, 0, 0, 0,                /* description: "" */
	};

	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_GROUP;
	it.u.group.id = "g1";
	it.u.group.name = "Abc";
	it.u.group.description = "";
	it.u.group.version = "7";
	it.u.group.depth = 3;
	CHECK_INT(cml_fingerprint_canonical(fpr, &it, CML_PART_GROUP, &b, &len), CML_OK);
	CHECK_INT(len, sizeof(want));
	CHECK(b != NULL && len == sizeof(want) && memcmp(b, want, len) == 0);
	fps a = fp_of(&it);
	XXH128_hash_t h = XXH3_128bits(want, sizeof(want));
	CHECK(a.fp[CML_PART_GROUP].hi == h.high64 && a.fp[CML_PART_GROUP].lo == h.low64);

	/* a part the item does not have, and bad arguments */
	CHECK_INT(cml_fingerprint_canonical(fpr, &it, CML_PART_PRODUCT, &b, &len), CML_ERR_USAGE);
	CHECK(b == NULL && len == 0);
	CHECK_INT(cml_fingerprint_canonical(fpr, &it, CML_PART_COUNT, &b, &len), CML_ERR_USAGE);
	CHECK_INT(cml_fingerprint_canonical(NULL, &it, CML_PART_GROUP, &b, &len), CML_ERR_USAGE);
	CHECK_INT(cml_fingerprint_canonical(fpr, NULL, CML_PART_GROUP, &b, &len), CML_ERR_USAGE);
	cml_part_fp out[CML_MAX_PARTS];
	size_t n = 7;
	CHECK_INT(cml_fingerprint_item(NULL, &it, out, &n), CML_ERR_USAGE);
	CHECK_INT(n, 0);
	CHECK_INT(cml_fingerprint_item(fpr, &it, out, NULL), CML_ERR_USAGE);
}

/* For every part of every kind, the canonical bytes hash to the fp. */
static void
test_canonical_is_hashed(void)
{
	prod_store ps;
	offer_store os;
	cml_part_fp out[CML_MAX_PARTS];
	size_t n = 0;
	const unsigned char *b;
	size_t len;

	prod_init(&ps);
	offer_init(&os);
	const cml_item *items[] = {&ps.it, &os.it};
	for (size_t k = 0; k < ARRAY_LEN(items); k++) {
		CHECK_INT(cml_fingerprint_item(fpr, items[k], out, &n), CML_OK);
		for (size_t i = 0; i < n; i++) {
			CHECK_INT(cml_fingerprint_canonical(fpr, items[k], out[i].part, &b, &len),
			          CML_OK);
			XXH128_hash_t h = XXH3_128bits(b, len);
			CHECK(out[i].fp.hi == h.high64 && out[i].fp.lo == h.low64);
			CHECK_INT(b[0], out[i].part);
		}
	}
}

static void
test_kinds(void)
{
	cml_item it;
	cml_part_fp out[CML_MAX_PARTS];
	size_t n;
	static cml_variant vars[] = {{"v2", "Синий"}, {"v1", "Красный"}};
	static cml_pair contacts[] = {{"Телефон", "+7 900"}, {"Почта", "a@b.ru"}};

	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_PROPERTY;
	it.u.property = (cml_property){.id = "prop-1",
	                               .name = "Цвет",
	                               .value_type = "Справочник",
	                               .required = CML_TRUE,
	                               .variants = vars,
	                               .n_variants = 2};
	fps a = fp_of(&it);
	CHECK_INT(a.n, 1);
	CHECK(a.has[CML_PART_PROPERTY]);
	it.u.property.version = "other";
	fps b = fp_of(&it);
	CHECK(same(&a, &b));
	it.u.property.required = CML_FALSE;
	b = fp_of(&it);
	CHECK(!same(&a, &b));
	it.u.property.required = CML_UNSET;
	fps c = fp_of(&it);
	CHECK(!same(&b, &c) && !same(&a, &c));
	it.u.property.required = CML_TRUE;
	it.u.property.for_offers = CML_TRUE;
	b = fp_of(&it);
	CHECK(!same(&a, &b));
	it.u.property.for_offers = CML_UNSET;
	vars[0].value = "Голубой";
	b = fp_of(&it);
	CHECK(!same(&a, &b));
	vars[0].value = "Синий";
	it.u.property.deleted = true;
	CHECK_INT(cml_fingerprint_item(fpr, &it, out, &n), CML_OK);
	CHECK_INT(n, 0);

	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_PRICE_TYPE;
	it.u.price_type = (cml_price_type){.id = "retail",
	                                   .name = "Розничная",
	                                   .currency = "RUB",
	                                   .tax_name = "НДС",
	                                   .tax_in_sum = CML_TRUE};
	a = fp_of(&it);
	CHECK(a.has[CML_PART_PRICE_TYPE]);
	it.u.price_type.currency = "USD";
	b = fp_of(&it);
	CHECK(!same(&a, &b));
	it.u.price_type.currency = "RUB";
	it.u.price_type.tax_in_sum = CML_FALSE;
	b = fp_of(&it);
	CHECK(!same(&a, &b));

	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_WAREHOUSE;
	it.u.warehouse = (cml_warehouse){.id = "w1",
	                                 .name = "Основной",
	                                 .address = "Москва",
	                                 .contacts = contacts,
	                                 .n_contacts = 2};
	a = fp_of(&it);
	CHECK(a.has[CML_PART_WAREHOUSE]);
	cml_pair tmp = contacts[0];
	contacts[0] = contacts[1];
	contacts[1] = tmp;
	b = fp_of(&it);
	CHECK(same(&a, &b));
	it.u.warehouse.address = "Тверь";
	b = fp_of(&it);
	CHECK(!same(&a, &b));

	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_UNIT;
	it.u.unit = (cml_unit){"796", "796", "шт", "Штука", "PCE"};
	a = fp_of(&it);
	CHECK(a.has[CML_PART_UNIT]);
	it.u.unit.intl = "PCS";
	b = fp_of(&it);
	CHECK(!same(&a, &b));

	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_GROUP;
	it.u.group = (cml_group){.id = "g2", .parent_id = "g1", .name = "Куртки", .depth = 1};
	a = fp_of(&it);
	it.u.group.depth = 5;
	b = fp_of(&it);
	CHECK(same(&a, &b));
	it.u.group.parent_id = "g0";
	b = fp_of(&it);
	CHECK(!same(&a, &b));
	it.u.group.deleted = true;
	CHECK_INT(cml_fingerprint_item(fpr, &it, out, &n), CML_OK);
	CHECK_INT(n, 0);

	/* kinds without parts, and items without an Ид */
	static const cml_kind none[] = {CML_ITEM_NONE,           CML_ITEM_FILE,
	                                CML_ITEM_CLASSIFIER,     CML_ITEM_CATALOG,
	                                CML_ITEM_OFFERS_PACKAGE, CML_ITEM_DOCUMENT,
	                                CML_ITEM_COUNTERPARTY,   CML_ITEM_KIND_COUNT};
	for (size_t i = 0; i < ARRAY_LEN(none); i++) {
		memset(&it, 0, sizeof(it));
		it.kind = none[i];
		it.u.classifier.id = "x";
		n = 9;
		CHECK_INT(cml_fingerprint_item(fpr, &it, out, &n), CML_OK);
		CHECK_INT(n, 0);
	}
	static const cml_kind with_id[] = {
	        CML_ITEM_GROUP, CML_ITEM_PROPERTY, CML_ITEM_PRICE_TYPE, CML_ITEM_WAREHOUSE,
	        CML_ITEM_UNIT,  CML_ITEM_PRODUCT,  CML_ITEM_OFFER};
	for (size_t i = 0; i < ARRAY_LEN(with_id); i++) {
		memset(&it, 0, sizeof(it));
		it.kind = with_id[i];
		it.u.offer.name = "no id"; /* harmless for the other kinds */
		n = 9;
		CHECK_INT(cml_fingerprint_item(fpr, &it, out, &n), CML_OK);
		CHECK_INT(n, 0);
	}

	/* the price types seen stay with a fingerprinter (a price's default
	 * currency): the tests after this one start from a fresh one */
	cml_fingerprinter_free(fpr);
	fpr = cml_fingerprinter_new();
	CHECK(fpr != NULL);
}

/* Reordering every set of a product or an offer changes nothing. */
static void
test_order(void)
{
	prod_store ps, ps2;
	offer_store os, os2;

	prod_init(&ps);
	prod_init(&ps2);
	fps a = fp_of(&ps.it);
	/* reverse every array of the second */
#define REVERSE(arr, n)                                                                            \
	for (size_t i_ = 0; i_ < (n) / 2; i_++) {                                                  \
		__typeof__(arr[0]) t_ = arr[i_];                                                   \
		arr[i_] = arr[(n)-1 - i_];                                                         \
		arr[(n)-1 - i_] = t_;                                                              \
	}
	REVERSE(ps2.props, 4);
	REVERSE(ps2.taxes, 2);
	REVERSE(ps2.reqs, 3);
	REVERSE(ps2.chars, 2);
	REVERSE(ps2.groups, 3);
	REVERSE(ps2.pictures, 2);
	fps b = fp_of(&ps2.it);
	CHECK(same(&a, &b));
	/* and the item itself was not reordered by the fingerprinter */
	CHECK_STR(ps.groups[0], "g-b");
	CHECK_STR(ps.props[0].id, "prop-2");

	offer_init(&os);
	offer_init(&os2);
	a = fp_of(&os.it);
	REVERSE(os2.prices, 3);
	REVERSE(os2.stocks, 3);
	REVERSE(os2.chars, 2);
	REVERSE(os2.props, 2);
	b = fp_of(&os2.it);
	CHECK(same(&a, &b));
	CHECK_STR(os.prices[0].type_id, "opt");

	/* NULL and "" are the same; field boundaries still count */
	ps2 = ps;
	ps2.it.u.product.groups = ps2.groups;
	ps2.it.u.product.pictures = ps2.pictures;
	ps2.it.u.product.props = ps2.props;
	ps2.it.u.product.taxes = ps2.taxes;
	ps2.it.u.product.requisites = ps2.reqs;
	ps2.it.u.product.characteristics = ps2.chars;
	ps.it.u.product.category = NULL;
	ps2.it.u.product.category = "";
	a = fp_of(&ps.it);
	b = fp_of(&ps2.it);
	CHECK(same(&a, &b));
	ps.it.u.product.article = "A-1";
	ps.it.u.product.barcode = "00";
	ps2.it.u.product.article = "A-10";
	ps2.it.u.product.barcode = "0";
	a = fp_of(&ps.it);
	b = fp_of(&ps2.it);
	CHECK(!same(&a, &b));
	/* a value moved from one element to the next is a change */
	ps2 = ps;
	ps2.it.u.product.requisites = ps2.reqs;
	ps2.reqs[0].value = "Товар1";
	a = fp_of(&ps2.it);
	ps2.reqs[0].value = "Товар";
	ps2.reqs[1].name = "1Вес";
	b = fp_of(&ps2.it);
	CHECK(!same(&a, &b));
}

/* Sets longer than the insertion-sort limit go through qsort. */
static void
test_big_sets(void)
{
	enum { N = 300 };
	static cml_price prices[N];
	static cml_stock stocks[N];
	static char ids[N][16];
	offer_store os;

	offer_init(&os);
	for (int i = 0; i < N; i++) {
		/* a permutation of 0..N-1 with duplicated ids */
		int k = (i * 7) % N;
		snprintf(ids[i], sizeof(ids[i]), "t%03d", k / 2);
		prices[i] = (cml_price){ids[i], NULL, k % 2 ? "1" : "2", "RUB", NULL, NULL, NULL, CML_UNSET};
		stocks[i] = (cml_stock){ids[i], k % 3 ? "5" : "0"};
	}
	os.it.u.offer.prices = prices;
	os.it.u.offer.n_prices = N;
	os.it.u.offer.stocks = stocks;
	os.it.u.offer.n_stocks = N;
	fps a = fp_of(&os.it);
	for (int i = 0; i < N / 2; i++) {
		cml_price t = prices[i];
		prices[i] = prices[N - 1 - i];
		prices[N - 1 - i] = t;
		cml_stock s = stocks[i * 2];
		stocks[i * 2] = stocks[i * 2 + 1];
		stocks[i * 2 + 1] = s;
	}
	fps b = fp_of(&os.it);
	CHECK(same(&a, &b));
	prices[100].value = "3";
	b = fp_of(&os.it);
	CHECK(only_differs(&a, &b, CML_PART_OFFER_PRICES));
}

/* Each visible change changes exactly its own part. */
static void
test_changes(void)
{
	prod_store ps;
	offer_store os;
	fps base, b;

	prod_init(&ps);
	base = fp_of(&ps.it);
#define PCHANGE(stmt)                                                                              \
	do {                                                                                       \
		prod_init(&ps);                                                                    \
		stmt;                                                                              \
		b = fp_of(&ps.it);                                                                 \
		CHECK(only_differs(&base, &b, CML_PART_PRODUCT));                                  \
	} while (0)
	PCHANGE(ps.it.u.product.name = "Куртка летняя");
	PCHANGE(ps.it.u.product.article = NULL);
	PCHANGE(ps.it.u.product.full_name = "Куртка");
	PCHANGE(ps.it.u.product.description = NULL);
	PCHANGE(ps.it.u.product.unit.code = "166");
	PCHANGE(ps.it.u.product.unit.intl = NULL);
	PCHANGE(ps.groups[1] = "g-d"); /* group membership */
	PCHANGE(ps.it.u.product.n_groups = 2);
	PCHANGE(ps.it.u.product.n_pictures = 0);
	PCHANGE(ps.it.u.product.manufacturer_name = "Завод");
	PCHANGE(ps.it.u.product.country = NULL);
	PCHANGE(ps.it.u.product.category = "cat2");
	PCHANGE(ps.props[0].value = "y");   /* a property value */
	PCHANGE(ps.props[1].id = "prop-0"); /* the Ид a value belongs to */
	PCHANGE(ps.taxes[0].rate = "10");
	PCHANGE(ps.reqs[1].value = "1.6");
	PCHANGE(ps.chars[0].value = "зелёный"); /* a characteristic */
	PCHANGE(ps.it.u.product.n_characteristics = 1);
	/* not content: version, status, origin */
	prod_init(&ps);
	ps.it.u.product.version = "AAAAAg==";
	ps.it.u.product.status = CML_STATUS_CHANGED;
	ps.it.origin.line = 99999;
	ps.it.origin.file = "other.xml";
	b = fp_of(&ps.it);
	CHECK(same(&base, &b));

	offer_init(&os);
	base = fp_of(&os.it);
	CHECK_INT(base.n, 3);
#define OCHANGE(part, stmt)                                                                        \
	do {                                                                                       \
		offer_init(&os);                                                                   \
		stmt;                                                                              \
		b = fp_of(&os.it);                                                                 \
		CHECK(only_differs(&base, &b, part));                                              \
	} while (0)
	OCHANGE(CML_PART_OFFER_CARD, os.it.u.offer.name = "Куртка (L)");
	OCHANGE(CML_PART_OFFER_CARD, os.it.u.offer.barcode = NULL);
	OCHANGE(CML_PART_OFFER_CARD, os.it.u.offer.unit.name = "уп");
	OCHANGE(CML_PART_OFFER_CARD, os.chars[0].value = "L");
	OCHANGE(CML_PART_OFFER_CARD, os.props[1].value = "r");
	OCHANGE(CML_PART_OFFER_PRICES, os.prices[1].value = "1300");   /* a price */
	OCHANGE(CML_PART_OFFER_PRICES, os.prices[1].currency = "USD"); /* a currency */
	OCHANGE(CML_PART_OFFER_PRICES, os.prices[1].unit = "уп");
	OCHANGE(CML_PART_OFFER_PRICES, os.prices[1].coefficient = "10");
	OCHANGE(CML_PART_OFFER_PRICES, os.prices[1].type_id = "retail2");
	OCHANGE(CML_PART_OFFER_PRICES, os.it.u.offer.n_prices = 2);
	OCHANGE(CML_PART_OFFER_STOCK, os.stocks[0].quantity = "8");      /* a stock quantity */
	OCHANGE(CML_PART_OFFER_STOCK, os.stocks[0].warehouse_id = "w9"); /* a warehouse */
	OCHANGE(CML_PART_OFFER_STOCK, os.it.u.offer.quantity = "7");
	OCHANGE(CML_PART_OFFER_STOCK, os.it.u.offer.n_stocks = 1);
	/* not content: Представление, version, status, the derived ids */
	offer_init(&os);
	os.prices[0].presentation = "900 руб.";
	os.prices[1].presentation = NULL;
	os.prices[2].presentation = "999,50 руб. за шт";
	os.it.u.offer.version = "v2";
	os.it.u.offer.status = CML_STATUS_NEW;
	os.it.u.offer.product_id = NULL;
	b = fp_of(&os.it);
	CHECK(same(&base, &b));
	/* the id is in every part: the same content under another Ид differs */
	offer_init(&os);
	os.it.u.offer.id = "p1#c2";
	b = fp_of(&os.it);
	CHECK(!cml_fp_equal(base.fp[CML_PART_OFFER_CARD], b.fp[CML_PART_OFFER_CARD]));
	CHECK(!cml_fp_equal(base.fp[CML_PART_OFFER_PRICES], b.fp[CML_PART_OFFER_PRICES]));
	CHECK(!cml_fp_equal(base.fp[CML_PART_OFFER_STOCK], b.fp[CML_PART_OFFER_STOCK]));
}

/* Which parts an offer item has: split files carry one each. */
static void
test_offer_parts(void)
{
	offer_store os;
	cml_offer *o = &os.it.u.offer;
	cml_part_fp out[CML_MAX_PARTS];
	size_t n;
	fps full, b;

	offer_init(&os);
	full = fp_of(&os.it);
	CHECK_INT(full.n, 3);
	CHECK_INT(cml_fingerprint_item(fpr, &os.it, out, &n), CML_OK);
	CHECK_INT(n, 3);
	CHECK_INT(out[0].part, CML_PART_OFFER_CARD);
	CHECK_INT(out[1].part, CML_PART_OFFER_PRICES);
	CHECK_INT(out[2].part, CML_PART_OFFER_STOCK);
	CHECK(out[0].id == o->id && out[1].id == o->id && out[2].id == o->id);

	/* prices___*.xml: Ид and Цены */
	offer_init(&os);
	o->article = o->barcode = o->name = NULL;
	memset(&o->unit, 0, sizeof(o->unit));
	o->n_characteristics = o->n_props = 0;
	o->quantity = NULL;
	o->n_stocks = 0;
	o->has_stocks = false;
	b = fp_of(&os.it);
	CHECK_INT(b.n, 1);
	CHECK(b.has[CML_PART_OFFER_PRICES]);
	CHECK(cml_fp_equal(b.fp[CML_PART_OFFER_PRICES], full.fp[CML_PART_OFFER_PRICES]));
	/* an empty Цены is still the prices part (all prices removed) */
	o->n_prices = 0;
	b = fp_of(&os.it);
	CHECK_INT(b.n, 1);
	CHECK(b.has[CML_PART_OFFER_PRICES]);
	CHECK(!cml_fp_equal(b.fp[CML_PART_OFFER_PRICES], full.fp[CML_PART_OFFER_PRICES]));
	/* nothing at all: no parts */
	o->has_prices = false;
	b = fp_of(&os.it);
	CHECK_INT(b.n, 0);

	/* rests___*.xml: Ид and Остатки, or only a Количество */
	offer_init(&os);
	o->article = o->barcode = o->name = NULL;
	memset(&o->unit, 0, sizeof(o->unit));
	o->n_characteristics = o->n_props = 0;
	o->n_prices = 0;
	o->has_prices = false;
	b = fp_of(&os.it);
	CHECK_INT(b.n, 1);
	CHECK(b.has[CML_PART_OFFER_STOCK]);
	CHECK(cml_fp_equal(b.fp[CML_PART_OFFER_STOCK], full.fp[CML_PART_OFFER_STOCK]));
	o->n_stocks = 0;
	o->has_stocks = false;
	b = fp_of(&os.it);
	CHECK_INT(b.n, 1);
	CHECK(b.has[CML_PART_OFFER_STOCK]);

	/* names only: the card */
	offer_init(&os);
	o->n_prices = 0;
	o->has_prices = false;
	o->quantity = NULL;
	o->n_stocks = 0;
	o->has_stocks = false;
	b = fp_of(&os.it);
	CHECK_INT(b.n, 1);
	CHECK(b.has[CML_PART_OFFER_CARD]);
	CHECK(cml_fp_equal(b.fp[CML_PART_OFFER_CARD], full.fp[CML_PART_OFFER_CARD]));
	/* any one card field makes the card */
	o->article = o->barcode = NULL;
	o->n_characteristics = o->n_props = 0;
	memset(&o->unit, 0, sizeof(o->unit));
	o->name = "";
	CHECK_INT(cml_fingerprint_item(fpr, &os.it, out, &n), CML_OK);
	CHECK_INT(n, 0);
	o->unit.intl = "PCE";
	CHECK_INT(cml_fingerprint_item(fpr, &os.it, out, &n), CML_OK);
	CHECK_INT(n, 1);

	/* deleted: none, whatever it carries */
	offer_init(&os);
	o->deleted = true;
	o->status = CML_STATUS_DELETED;
	n = 5;
	CHECK_INT(cml_fingerprint_item(fpr, &os.it, out, &n), CML_OK);
	CHECK_INT(n, 0);
	prod_store ps;
	prod_init(&ps);
	ps.it.u.product.deleted = true;
	n = 5;
	CHECK_INT(cml_fingerprint_item(fpr, &ps.it, out, &n), CML_OK);
	CHECK_INT(n, 0);
	const unsigned char *bytes;
	size_t len;
	CHECK_INT(cml_fingerprint_canonical(fpr, &ps.it, CML_PART_PRODUCT, &bytes, &len),
	          CML_ERR_USAGE);
}

/* ---- through the reader ---- */

#define HEAD                                                                                       \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"                                             \
	"<КоммерческаяИнформация ВерсияСхемы=\"2.05\" ДатаФормирования=\"2024-01-01T00:00:00\">\n"
#define TAIL "</КоммерческаяИнформация>\n"

#define PRODUCT(id, name, groups, props, version)                                                                                                             \
	HEAD "<Каталог СодержитТолькоИзменения=\"false\"><Ид>c</Ид><Наименование>К</Наименование>" \
	     "<Товары><Товар>" version "<Ид>" id "</Ид>" name                                                                                                 \
	     "<БазоваяЕдиница Код=\"796\">шт</БазоваяЕдиница>"                                                               \
	     "<Группы>" groups "</Группы><ЗначенияСвойств>" props "</ЗначенияСвойств>"                                                         \
	     "</Товар></Товары></Каталог>" TAIL

#define OFFER(body)                                                                                \
	HEAD "<ПакетПредложений><Ид>pk</Ид><Предложения><Предложение>" body                        \
	     "</Предложение></Предложения></ПакетПредложений>" TAIL

#define PRICE(pres, type, value, cur, coef)                                                        \
	"<Цена><Представление>" pres "</Представление><ИдТипаЦены>" type "</ИдТипаЦены>" \
	"<ЦенаЗаЕдиницу>" value "</ЦенаЗаЕдиницу><Валюта>" cur "</Валюта>"                   \
	"<Единица>шт</Единица><Коэффициент>" coef "</Коэффициент></Цена>"

static void
test_reader_products(void)
{
	static const char p1[] =
	        PRODUCT("p1", "<Наименование>Куртка</Наименование>", "<Ид>g1</Ид><Ид>g2</Ид>",
	                "<ЗначенияСвойства><Ид>pr1</Ид><Значение>a</Значение></ЗначенияСвойства>"
	                "<ЗначенияСвойства><Ид>pr2</Ид><Значение>b</Значение></ЗначенияСвойства>",
	                "<НомерВерсии>AAAAAQ==</НомерВерсии>");
	/* reordered groups and props, whitespace around values, another version */
	static const char p2[] = PRODUCT(
	        "\n  p1  ", "<Наименование>\n\t Куртка  </Наименование>",
	        "<Ид> g2</Ид>\n<Ид>g1 </Ид>",
	        "<ЗначенияСвойства><Ид>pr2</Ид><Значение> b </Значение></ЗначенияСвойства>"
	        "<ЗначенияСвойства>\n<Ид>pr1</Ид><Значение>a\n</Значение></ЗначенияСвойства>",
	        "<НомерВерсии>AAAAAg==</НомерВерсии>");
	static const char p3[] = /* group membership changed */
	        PRODUCT("p1", "<Наименование>Куртка</Наименование>", "<Ид>g1</Ид><Ид>g3</Ид>",
	                "<ЗначенияСвойства><Ид>pr1</Ид><Значение>a</Значение></ЗначенияСвойства>"
	                "<ЗначенияСвойства><Ид>pr2</Ид><Значение>b</Значение></ЗначенияСвойства>",
	                "");
	static const char p4[] = /* a property value changed */
	        PRODUCT("p1", "<Наименование>Куртка</Наименование>", "<Ид>g1</Ид><Ид>g2</Ид>",
	                "<ЗначенияСвойства><Ид>pr1</Ид><Значение>a</Значение></ЗначенияСвойства>"
	                "<ЗначенияСвойства><Ид>pr2</Ид><Значение>c</Значение></ЗначенияСвойства>",
	                "");
	static const char p5[] = /* the name changed */
	        PRODUCT("p1", "<Наименование>Куртка 2</Наименование>", "<Ид>g1</Ид><Ид>g2</Ид>",
	                "<ЗначенияСвойства><Ид>pr1</Ид><Значение>a</Значение></ЗначенияСвойства>"
	                "<ЗначенияСвойства><Ид>pr2</Ид><Значение>b</Значение></ЗначенияСвойства>",
	                "");
	fps a = fp_xml(p1, CML_ITEM_PRODUCT);
	CHECK_INT(a.n, 1);
	fps b = fp_xml(p2, CML_ITEM_PRODUCT);
	CHECK(same(&a, &b));
	b = fp_xml(p3, CML_ITEM_PRODUCT);
	CHECK(only_differs(&a, &b, CML_PART_PRODUCT));
	b = fp_xml(p4, CML_ITEM_PRODUCT);
	CHECK(only_differs(&a, &b, CML_PART_PRODUCT));
	b = fp_xml(p5, CML_ITEM_PRODUCT);
	CHECK(only_differs(&a, &b, CML_PART_PRODUCT));
}

static void
test_reader_offers(void)
{
	static const char o1[] =
	        OFFER("<Ид>p1#c1</Ид><Наименование>Куртка (M)</Наименование>"
	              "<Цены>" PRICE("1 200 руб. за шт", "retail", "1200", "RUB", "1")
	                      PRICE("900 руб. за шт", "opt", "900.5", "RUB",
	                            "1") "</Цены>"
	                                 "<Количество>5</Количество>"
	                                 "<Склад ИдСклада=\"w1\" КоличествоНаСкладе=\"2\"/>"
	                                 "<Склад ИдСклада=\"w2\" КоличествоНаСкладе=\"3\"/>");
	/* the same, respelled: prices reordered, numbers as 1 200,00 / 900,50 /
	 * 1.000, Представление changed, stock reordered, whitespace */
	static const char o2[] =
	        OFFER("<Ид> p1#c1 </Ид><Наименование>  Куртка (M)\n</Наименование>"
	              "<Цены>" PRICE("900,50 руб.", "opt", " 900,50 ", " RUB", "1,000")
	                      PRICE("1200 руб.", "retail", "1 200,00", "RUB ",
	                            "1.000") "</Цены>"
	                                     "<Количество>5,000</Количество>"
	                                     "<Склад ИдСклада=\"w2\" КоличествоНаСкладе=\"3.0\"/>"
	                                     "<Склад ИдСклада=\"w1\" КоличествоНаСкладе=\" 2 \"/>");
	/* a price changed */
	static const char o3[] =
	        OFFER("<Ид>p1#c1</Ид><Наименование>Куртка (M)</Наименование>"
	              "<Цены>" PRICE("1 200 руб. за шт", "retail", "1250", "RUB", "1")
	                      PRICE("900 руб. за шт", "opt", "900.5", "RUB",
	                            "1") "</Цены>"
	                                 "<Количество>5</Количество>"
	                                 "<Склад ИдСклада=\"w1\" КоличествоНаСкладе=\"2\"/>"
	                                 "<Склад ИдСклада=\"w2\" КоличествоНаСкладе=\"3\"/>");
	/* a stock changed */
	static const char o4[] =
	        OFFER("<Ид>p1#c1</Ид><Наименование>Куртка (M)</Наименование>"
	              "<Цены>" PRICE("1 200 руб. за шт", "retail", "1200", "RUB", "1")
	                      PRICE("900 руб. за шт", "opt", "900.5", "RUB",
	                            "1") "</Цены>"
	                                 "<Количество>5</Количество>"
	                                 "<Склад ИдСклада=\"w1\" КоличествоНаСкладе=\"1\"/>"
	                                 "<Склад ИдСклада=\"w2\" КоличествоНаСкладе=\"3\"/>");
	/* a prices-only item (prices___*.xml) and a rests-only one */
	static const char o5[] =
	        OFFER("<Ид>p1#c1</Ид>"
	              "<Цены>" PRICE("1 200 руб. за шт", "retail", "1200", "RUB", "1")
	                      PRICE("900 руб. за шт", "opt", "900.5", "RUB", "1") "</Цены>");
	static const char o6[] =
	        OFFER("<Ид>p1#c1</Ид><Остатки>"
	              "<Остаток><Склад><Ид>w2</Ид><Количество>3</Количество></Склад></Остаток>"
	              "<Остаток><Склад><Ид>w1</Ид><Количество>2</Количество></Склад></Остаток>"
	              "</Остатки>");
	static const char o7[] = OFFER("<Ид>p1#c1</Ид><Наименование>Куртка (M)</Наименование>");

	fps a = fp_xml(o1, CML_ITEM_OFFER);
	CHECK_INT(a.n, 3);
	fps b = fp_xml(o2, CML_ITEM_OFFER);
	CHECK(same(&a, &b));
	b = fp_xml(o3, CML_ITEM_OFFER);
	CHECK(only_differs(&a, &b, CML_PART_OFFER_PRICES));
	b = fp_xml(o4, CML_ITEM_OFFER);
	CHECK(only_differs(&a, &b, CML_PART_OFFER_STOCK));

	b = fp_xml(o5, CML_ITEM_OFFER);
	CHECK_INT(b.n, 1);
	CHECK(b.has[CML_PART_OFFER_PRICES]);
	CHECK(cml_fp_equal(a.fp[CML_PART_OFFER_PRICES], b.fp[CML_PART_OFFER_PRICES]));
	b = fp_xml(o6, CML_ITEM_OFFER);
	CHECK_INT(b.n, 1);
	CHECK(b.has[CML_PART_OFFER_STOCK]);
	/* o1's stock also has a Количество, so it is not the same stock */
	CHECK(!cml_fp_equal(a.fp[CML_PART_OFFER_STOCK], b.fp[CML_PART_OFFER_STOCK]));
	b = fp_xml(o7, CML_ITEM_OFFER);
	CHECK_INT(b.n, 1);
	CHECK(b.has[CML_PART_OFFER_CARD]);
	CHECK(cml_fp_equal(a.fp[CML_PART_OFFER_CARD], b.fp[CML_PART_OFFER_CARD]));
}

/* ---- allocation failures ---- */

static void
test_nomem(void)
{
	enum { BIG = 100 };
	static cml_stock stocks[BIG];
	static char big_name[5000];
	prod_store ps;
	offer_store os;
	int succeeded = 0;

	for (int i = 0; i < BIG; i++)
		stocks[i] = (cml_stock){i % 2 ? "wa" : "wb", "1"};
	memset(big_name, 'x', sizeof(big_name) - 1);
	prod_init(&ps);
	ps.it.u.product.description = big_name;
	offer_init(&os);
	os.it.u.offer.stocks = stocks;
	os.it.u.offer.n_stocks = BIG;

	/* the reference result, without failures */
	cml_fingerprinter *g = cml_fingerprinter_new();
	CHECK(g != NULL);
	fps want_p, want_o;
	{
		cml_fingerprinter *keep = fpr;
		fpr = g;
		want_p = fp_of(&ps.it);
		want_o = fp_of(&os.it);
		fpr = keep;
	}
	cml_fingerprinter_free(g);

	for (long n = 1; n < 100 && !succeeded; n++) {
		cml_part_fp out[CML_MAX_PARTS];
		size_t np = 9;
		cml_status st;

		cml_alloc_fail_after(n);
		g = cml_fingerprinter_new();
		if (g == NULL) {
			cml_alloc_fail_after(0);
			continue;
		}
		st = cml_fingerprint_item(g, &ps.it, out, &np);
		if (st == CML_OK) {
			st = cml_fingerprint_item(g, &os.it, out, &np);
			if (st == CML_OK) {
				cml_alloc_fail_after(0);
				succeeded = 1;
				fps got;
				memset(&got, 0, sizeof(got));
				got.n = np;
				for (size_t i = 0; i < np; i++) {
					got.has[out[i].part] = true;
					got.fp[out[i].part] = out[i].fp;
				}
				CHECK(same(&got, &want_o));
			}
		}
		if (st != CML_OK) {
			CHECK_INT(st, CML_ERR_NOMEM);
			CHECK_INT(np, 0);
			/* the fingerprinter still works once memory is back */
			cml_alloc_fail_after(0);
			fps got;
			cml_fingerprinter *keep = fpr;
			fpr = g;
			got = fp_of(&ps.it);
			CHECK(same(&got, &want_p));
			got = fp_of(&os.it);
			CHECK(same(&got, &want_o));
			fpr = keep;
		}
		cml_alloc_fail_after(0);
		cml_fingerprinter_free(g);
	}
	CHECK(succeeded);

	/* the canonical form fails cleanly too */
	g = cml_fingerprinter_new();
	if (g != NULL) {
		const unsigned char *b = (const unsigned char *)"x";
		size_t len = 3;
		cml_alloc_fail_after(1);
		CHECK_INT(cml_fingerprint_canonical(g, &ps.it, CML_PART_PRODUCT, &b, &len),
		          CML_ERR_NOMEM);
		CHECK(b == NULL && len == 0);
		cml_alloc_fail_after(0);
		CHECK_INT(cml_fingerprint_canonical(g, &ps.it, CML_PART_PRODUCT, &b, &len), CML_OK);
		CHECK(len > sizeof(big_name));
	}
	cml_fingerprinter_free(g);
}

/* ---- the benchmark ---- */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Products and offers shaped like a real УТ 11 export: a GUID Ид, a name,
 * an article, a unit, one or two groups, three property values, a few
 * requisites; offers with two prices and two warehouses. The items are
 * rebuilt in place for each i, as a reader would hand them out.
 */
static int
bench(long n)
{
	cml_fingerprinter *g = cml_fingerprinter_new();
	char id[64], oid[80], name[64], art[32], price[32], qty[32];
	const char *groups[2] = {"0c7c5e1f-0a36-11e6-80e4-00155d000a01",
	                         "0c7c5e1f-0a36-11e6-80e4-00155d000a02"};
	cml_prop_value props[3] = {{"c1a1b4a8-d2b3-11e9-8110-00155d000b01", "Красный"},
	                           {"c1a1b4a8-d2b3-11e9-8110-00155d000b02", "42"},
	                           {"c1a1b4a8-d2b3-11e9-8110-00155d000b03", "Хлопок"}};
	cml_pair reqs[4] = {{"ВидНоменклатуры", "Товар"},
	                    {"ТипНоменклатуры", "Товар"},
	                    {"Полное наименование", NULL},
	                    {"Вес", "0.35"}};
	cml_price prices[2] = {
	        {"b3a5e0c4-9e2a-11e9-80f0-00155d000c01", "1 200 руб. за шт", NULL, "RUB", "шт",
	         "1", NULL, CML_UNSET},
	        {"b3a5e0c4-9e2a-11e9-80f0-00155d000c02", "1 000 руб. за шт", NULL, "RUB", "шт",
	         "1", NULL, CML_UNSET},
	};
	cml_stock stocks[2] = {{"5e3b7a10-1111-11e9-80f0-00155d000d02", NULL},
	                       {"5e3b7a10-1111-11e9-80f0-00155d000d01", NULL}};
	cml_item p, o;
	cml_part_fp out[CML_MAX_PARTS];
	size_t np;
	uint64_t sink = 0;
	size_t bytes = 0;

	if (g == NULL)
		return 1;
	memset(&p, 0, sizeof(p));
	p.kind = CML_ITEM_PRODUCT;
	p.u.product.unit = (cml_unit_ref){"796", "шт", "Штука", "PCE", NULL, 0};
	p.u.product.groups = groups;
	p.u.product.props = props;
	p.u.product.n_props = 3;
	p.u.product.requisites = reqs;
	p.u.product.n_requisites = 4;
	p.u.product.description = "Описание товара средней длины, как в обычной выгрузке";
	memset(&o, 0, sizeof(o));
	o.kind = CML_ITEM_OFFER;
	o.u.offer.prices = prices;
	o.u.offer.n_prices = 2;
	o.u.offer.has_prices = true;
	o.u.offer.stocks = stocks;
	o.u.offer.n_stocks = 2;
	o.u.offer.has_stocks = true;
	o.u.offer.name = name;

	double t0 = now();
	for (long i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "93a6bf94-c4b7-11e9-81ee-%012ld", i);
		snprintf(oid, sizeof(oid), "%s#%ld", id, i % 7);
		snprintf(name, sizeof(name), "Товар номер %ld", i);
		snprintf(art, sizeof(art), "ART-%ld", i);
		snprintf(price, sizeof(price), "%ld.%02ld", 100 + i % 9000, i % 100);
		snprintf(qty, sizeof(qty), "%ld", i % 50);
		p.u.product.id = id;
		p.u.product.name = name;
		p.u.product.article = art;
		p.u.product.n_groups = 1 + (size_t)(i & 1);
		prices[0].value = price;
		prices[1].value = price;
		stocks[0].quantity = qty;
		stocks[1].quantity = "0";
		o.u.offer.id = oid;
		o.u.offer.quantity = qty;
		if (cml_fingerprint_item(g, &p, out, &np) != CML_OK)
			return 1;
		sink ^= out[0].fp.lo;
		if (cml_fingerprint_item(g, &o, out, &np) != CML_OK)
			return 1;
		for (size_t k = 0; k < np; k++)
			sink ^= out[k].fp.hi;
	}
	double t1 = now();
	/* the cost of generating the items alone, to subtract */
	for (long i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "93a6bf94-c4b7-11e9-81ee-%012ld", i);
		snprintf(oid, sizeof(oid), "%s#%ld", id, i % 7);
		snprintf(name, sizeof(name), "Товар номер %ld", i);
		snprintf(art, sizeof(art), "ART-%ld", i);
		snprintf(price, sizeof(price), "%ld.%02ld", 100 + i % 9000, i % 100);
		snprintf(qty, sizeof(qty), "%ld", i % 50);
		sink += (uint64_t)id[30] + (uint64_t)oid[3] + (uint64_t)name[5] + (uint64_t)art[4] +
		        (uint64_t)price[1] + (uint64_t)qty[0];
	}
	double t2 = now();
	const unsigned char *b;
	if (cml_fingerprint_canonical(g, &p, CML_PART_PRODUCT, &b, &bytes) == CML_OK)
		printf("product form: %zu bytes\n", bytes);
	if (cml_fingerprint_canonical(g, &o, CML_PART_OFFER_PRICES, &b, &bytes) == CML_OK)
		printf("offer prices form: %zu bytes\n", bytes);
	double fp_time = (t1 - t0) - (t2 - t1);
	printf("%ld products + %ld offers (4 parts per pair): %.3f s total, "
	       "%.3f s generating, %.3f s fingerprinting\n",
	       n, n, t1 - t0, t2 - t1, fp_time);
	printf("%.2f M items/s (%.2f M parts/s) fingerprinting alone; "
	       "%.2f M items/s with generation (sink %llx)\n",
	       2.0 * (double)n / fp_time / 1e6, 4.0 * (double)n / fp_time / 1e6,
	       2.0 * (double)n / (t1 - t0) / 1e6, (unsigned long long)sink);
	cml_fingerprinter_free(g);
	return 0;
}

/* The fields added after baselines existed (weight, kits, unit
 * conversions, the tax of a price): absent, the parts hash as they always
 * did (the known fingerprints, with every new field zeroed explicitly);
 * present, they change their part and only it. */
static void
test_new_fields(void)
{
	static cml_component kit[] = {{"top", "Верх", "1"}, {"bottom", "Низ", "2"}};
	static cml_component kit2[] = {{"bottom", "Низ", "2"}, {"top", "Верх", "1"}};
	static cml_unit_conv conv[] = {{"бухта", "100"}};
	prod_store ps;
	offer_store os;
	fps base, b;
	char hex[33];

	prod_init(&ps);
	ps.it.u.product.weight = NULL;
	ps.it.u.product.components = NULL;
	ps.it.u.product.n_components = 0;
	ps.it.u.product.unit.conversions = NULL;
	ps.it.u.product.unit.n_conversions = 0;
	base = fp_of(&ps.it);
	cml_fp_hex(base.fp[CML_PART_PRODUCT], hex);
	CHECK_STR(hex, KNOWN_PRODUCT);
	ps.it.u.product.weight = "";
	b = fp_of(&ps.it);
	cml_fp_hex(b.fp[CML_PART_PRODUCT], hex);
	CHECK_STR(hex, KNOWN_PRODUCT); /* empty is absent */
	PCHANGE(ps.it.u.product.weight = "0.45");
	PCHANGE((ps.it.u.product.components = kit, ps.it.u.product.n_components = 2));
	PCHANGE((ps.it.u.product.unit.conversions = conv, ps.it.u.product.unit.n_conversions = 1));
	/* a kit in another order is the same kit */
	prod_init(&ps);
	ps.it.u.product.components = kit;
	ps.it.u.product.n_components = 2;
	fps k1 = fp_of(&ps.it);
	ps.it.u.product.components = kit2;
	fps k2 = fp_of(&ps.it);
	CHECK(memcmp(&k1.fp[CML_PART_PRODUCT], &k2.fp[CML_PART_PRODUCT], sizeof(k1.fp[0])) == 0);

	offer_init(&os);
	base = fp_of(&os.it);
	cml_fp_hex(base.fp[CML_PART_OFFER_CARD], hex);
	CHECK_STR(hex, KNOWN_OFFER_CARD);
	cml_fp_hex(base.fp[CML_PART_OFFER_PRICES], hex);
	CHECK_STR(hex, KNOWN_OFFER_PRICES);
	OCHANGE(CML_PART_OFFER_CARD,
	        (os.it.u.offer.components = kit, os.it.u.offer.n_components = 2));
	OCHANGE(CML_PART_OFFER_CARD,
	        (os.it.u.offer.unit.conversions = conv, os.it.u.offer.unit.n_conversions = 1));
	OCHANGE(CML_PART_OFFER_PRICES, os.prices[0].tax_name = "НДС");
	OCHANGE(CML_PART_OFFER_PRICES, os.prices[1].tax_in_sum = CML_FALSE);
}

/* A property's Тип and the Геометка of a product or an offer, added
 * after baselines existed: absent or empty, every part hashes as it did
 * before they were modeled (KNOWN_PROPERTY is what the library gave that
 * property before); present, they change their part and only it. */
static void
test_type_geotag(void)
{
	static cml_variant vars[] = {{"v1", "Красный"}};
	prod_store ps;
	offer_store os;
	fps base, b;
	cml_item it;
	char hex[33];

	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_PROPERTY;
	it.u.property = (cml_property){.id = "prop-1",
	                               .name = "Цвет",
	                               .value_type = "Справочник",
	                               .variants = vars,
	                               .n_variants = 1};
	base = fp_of(&it);
	cml_fp_hex(base.fp[CML_PART_PROPERTY], hex);
	CHECK_STR(hex, KNOWN_PROPERTY);
	it.u.property.type = "";
	b = fp_of(&it);
	CHECK(same(&base, &b)); /* empty is absent */
	it.u.property.type = "Справочник"; /* not ТипЗначений: a field of its own */
	b = fp_of(&it);
	CHECK(b.has[CML_PART_PROPERTY] && !same(&base, &b));
	it.u.property.type = "Список";
	fps c = fp_of(&it);
	CHECK(!same(&b, &c));

	prod_init(&ps);
	ps.it.u.product.geotag = "";
	b = fp_of(&ps.it);
	cml_fp_hex(b.fp[CML_PART_PRODUCT], hex);
	CHECK_STR(hex, KNOWN_PRODUCT);
	prod_init(&ps);
	base = fp_of(&ps.it);
	PCHANGE(ps.it.u.product.geotag = "55.75,37.61");

	offer_init(&os);
	os.it.u.offer.geotag = "";
	b = fp_of(&os.it);
	cml_fp_hex(b.fp[CML_PART_OFFER_CARD], hex);
	CHECK_STR(hex, KNOWN_OFFER_CARD);
	offer_init(&os);
	base = fp_of(&os.it);
	OCHANGE(CML_PART_OFFER_CARD, os.it.u.offer.geotag = "55.75,37.61");
	/* an offer whose card says only where it is still has a card */
	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_OFFER;
	it.u.offer.id = "o1";
	it.u.offer.has_prices = true;
	b = fp_of(&it);
	CHECK(!b.has[CML_PART_OFFER_CARD]);
	it.u.offer.geotag = "59.93,30.33";
	b = fp_of(&it);
	CHECK(b.has[CML_PART_OFFER_CARD]);
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "--bench") == 0)
		return bench(argc >= 3 ? strtol(argv[2], NULL, 10) : 1000000);

	fpr = cml_fingerprinter_new();
	if (fpr == NULL) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	RUN(test_names);
	RUN(test_canonical_bytes);
	RUN(test_canonical_is_hashed);
	RUN(test_known_fingerprint);
	RUN(test_price_defaults);
	RUN(test_kinds);
	RUN(test_order);
	RUN(test_big_sets);
	RUN(test_changes);
	RUN(test_offer_parts);
	RUN(test_reader_products);
	RUN(test_reader_offers);
	RUN(test_nomem);
	RUN(test_new_fields);
	RUN(test_type_geotag);
	cml_fingerprinter_free(fpr);
	return harness_done();
}
