/*
 * test_offerjoin.c: the parts of split offers joined into one offer, the
 * repeats of a property into one with all its values (cml/offerjoin.h),
 * in first-seen order, and every allocation failing in turn.
 */
#include <stdlib.h>
#include <string.h>

#include <cml/offerjoin.h>

#include "harness.h"

/* What the sink saw. */
struct seen {
	cml_offer offers[8];
	cml_property props[8];
	char ids[8][32];
	size_t n_offers, n_props;
	int stop_after; /* > 0: the n-th item answers CML_ERR_IO */
};

static cml_status
sink(void *ud, const cml_item *it)
{
	struct seen *s = ud;

	if (s->stop_after > 0 && (size_t)s->stop_after == s->n_offers + s->n_props + 1)
		return CML_ERR_IO;
	if (it->kind == CML_ITEM_OFFER && s->n_offers < 8) {
		snprintf(s->ids[s->n_offers], sizeof(s->ids[0]), "%s", it->u.offer.id);
		s->offers[s->n_offers++] = it->u.offer;
	} else if (it->kind == CML_ITEM_PROPERTY && s->n_props < 8) {
		s->props[s->n_props++] = it->u.property;
	}
	return CML_OK;
}

/* Offers as a split package brings them, in a buffer that is then
 * scribbled over: the join must keep copies. */
static cml_status
add_parts(cml_offerjoin *j)
{
	char id1[8], id2[8], name[8], value[8], wh[8], qty[8];
	cml_price price = {0};
	cml_stock stock = {0};
	cml_offer o;
	cml_status st;

	snprintf(id1, sizeof(id1), "o1");
	snprintf(id2, sizeof(id2), "o2#c");
	snprintf(name, sizeof(name), "Card 1");
	/* offers___: the cards */
	memset(&o, 0, sizeof(o));
	o.id = id1;
	o.name = name;
	if ((st = cml_offerjoin_add(j, &o)) != CML_OK)
		return st;
	o.id = id2;
	o.name = NULL;
	if ((st = cml_offerjoin_add(j, &o)) != CML_OK)
		return st;
	memset(name, 'x', sizeof(name) - 1);
	/* prices___: o2 first, then o1 twice (the later one is the word) */
	snprintf(value, sizeof(value), "10");
	price.type_id = "retail";
	price.value = value;
	price.currency = "RUB";
	memset(&o, 0, sizeof(o));
	o.id = id2;
	o.prices = &price;
	o.n_prices = 1;
	o.has_prices = true;
	if ((st = cml_offerjoin_add(j, &o)) != CML_OK)
		return st;
	o.id = id1;
	snprintf(value, sizeof(value), "5");
	if ((st = cml_offerjoin_add(j, &o)) != CML_OK)
		return st;
	snprintf(value, sizeof(value), "7");
	if ((st = cml_offerjoin_add(j, &o)) != CML_OK)
		return st;
	memset(value, 'y', sizeof(value) - 1);
	/* rests___: o1's stock */
	snprintf(wh, sizeof(wh), "w1");
	snprintf(qty, sizeof(qty), "3");
	stock.warehouse_id = wh;
	stock.quantity = qty;
	memset(&o, 0, sizeof(o));
	o.id = id1;
	o.stocks = &stock;
	o.n_stocks = 1;
	o.has_stocks = true;
	if ((st = cml_offerjoin_add(j, &o)) != CML_OK)
		return st;
	memset(wh, 'z', sizeof(wh) - 1);
	memset(id1, 'q', sizeof(id1) - 1);
	return CML_OK;
}

static void
test_whole(void)
{
	cml_offer o = {0};

	CHECK(!cml_offer_is_whole(&o));
	o.has_prices = true;
	CHECK(!cml_offer_is_whole(&o));
	o.quantity = "1";
	CHECK(cml_offer_is_whole(&o));
	o.quantity = NULL;
	o.has_stocks = true;
	CHECK(cml_offer_is_whole(&o));
	o.has_prices = false;
	CHECK(!cml_offer_is_whole(&o));
}

static void
test_join(void)
{
	cml_offerjoin *j = cml_offerjoin_new();
	struct seen s = {0};

	CHECK(j != NULL);
	CHECK_INT(add_parts(j), CML_OK);
	CHECK_INT(cml_offerjoin_count(j), 2);
	CHECK_INT(cml_offerjoin_flush(j, sink, &s), CML_OK);
	CHECK_INT(s.n_offers, 2);
	/* first-seen order, one offer each, all parts */
	CHECK_STR(s.ids[0], "o1");
	CHECK_STR(s.ids[1], "o2#c");
	CHECK_STR(s.offers[0].name, "Card 1");
	CHECK(s.offers[0].has_prices && s.offers[0].n_prices == 1);
	CHECK_STR(s.offers[0].prices[0].value, "7");
	CHECK_STR(s.offers[0].prices[0].type_id, "retail");
	CHECK(s.offers[0].has_stocks && s.offers[0].n_stocks == 1);
	CHECK_STR(s.offers[0].stocks[0].warehouse_id, "w1");
	CHECK_STR(s.offers[0].stocks[0].quantity, "3");
	CHECK(s.offers[1].name == NULL);
	CHECK_STR(s.offers[1].prices[0].value, "10");
	CHECK(!s.offers[1].has_stocks);

	/* a sink's failure stops the flush and is handed back */
	struct seen t = {.stop_after = 2};
	CHECK_INT(cml_offerjoin_flush(j, sink, &t), CML_ERR_IO);
	CHECK_INT(t.n_offers, 1);

	cml_offer none = {0};
	CHECK_INT(cml_offerjoin_add(j, &none), CML_ERR_USAGE);
	cml_offerjoin_free(j);
	cml_offerjoin_free(NULL);
}

static cml_status
add_props(cml_offerjoin *j)
{
	cml_variant v1[] = {{.id = "r", .value = "Red"}, {.id = "g", .value = "Green"}};
	cml_variant v2[] = {{.id = "g", .value = "Green"}, {.id = "b", .value = "Blue"}};
	cml_variant v3[] = {{.value = "S"}};
	cml_variant v4[] = {{.value = "S"}, {.value = "M"}};
	cml_property colour = {.id = "colour", .name = "Colour", .value_type = "Справочник"};
	cml_property size = {.id = "size", .name = "Size"};
	cml_status st;

	colour.variants = v1;
	colour.n_variants = 2;
	size.variants = v3;
	size.n_variants = 1;
	if ((st = cml_offerjoin_add_property(j, &colour)) != CML_OK ||
	    (st = cml_offerjoin_add_property(j, &size)) != CML_OK)
		return st;
	colour.variants = v2;
	size.variants = v4;
	size.n_variants = 2;
	if ((st = cml_offerjoin_add_property(j, &colour)) != CML_OK ||
	    (st = cml_offerjoin_add_property(j, &size)) != CML_OK)
		return st;
	return CML_OK;
}

static void
test_properties(void)
{
	cml_offerjoin *j = cml_offerjoin_new();
	struct seen s = {0};

	CHECK_INT(add_props(j), CML_OK);
	CHECK_INT(cml_offerjoin_flush_properties(j, sink, &s), CML_OK);
	CHECK_INT(s.n_props, 2);
	CHECK_STR(s.props[0].id, "colour");
	CHECK_STR(s.props[0].value_type, "Справочник");
	CHECK_INT(s.props[0].n_variants, 3);
	if (s.props[0].n_variants == 3) {
		CHECK_STR(s.props[0].variants[0].value, "Red");
		CHECK_STR(s.props[0].variants[1].value, "Green");
		CHECK_STR(s.props[0].variants[2].value, "Blue");
	}
	CHECK_STR(s.props[1].id, "size");
	CHECK_INT(s.props[1].n_variants, 2);
	/* no offers were held */
	CHECK_INT(cml_offerjoin_count(j), 0);
	cml_property anon = {.name = "no Ид"};
	CHECK_INT(cml_offerjoin_add_property(j, &anon), CML_ERR_USAGE);
	cml_offerjoin_free(j);
}

/* Many offers: the table grows and keeps them all, in order. */
static void
test_many(void)
{
	cml_offerjoin *j = cml_offerjoin_new();
	cml_offer o = {0};
	char id[32];
	size_t bad = 0;

	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < 5000; i++) {
			snprintf(id, sizeof(id), "offer-%d", i);
			memset(&o, 0, sizeof(o));
			o.id = id;
			o.has_prices = pass == 0;
			o.has_stocks = pass == 1;
			if (cml_offerjoin_add(j, &o) != CML_OK)
				bad++;
		}
	CHECK_INT(bad, 0);
	CHECK_INT(cml_offerjoin_count(j), 5000);
	struct seen s = {0};
	CHECK_INT(cml_offerjoin_flush(j, sink, &s), CML_OK);
	CHECK_STR(s.ids[0], "offer-0");
	CHECK(s.offers[0].has_prices && s.offers[0].has_stocks);
	cml_offerjoin_free(j);
}

static void
test_alloc_failures(void)
{
	bool ok = false;

	for (long n = 1; n < 100 && !ok; n++) {
		cml_offerjoin *j;
		cml_status st = CML_ERR_NOMEM;

		cml_alloc_fail_after(n);
		j = cml_offerjoin_new();
		if (j != NULL && (st = add_parts(j)) == CML_OK)
			st = add_props(j);
		cml_alloc_fail_after(0);
		if (st == CML_OK) {
			ok = true;
			CHECK_INT(cml_offerjoin_count(j), 2);
		} else {
			CHECK_INT(st, CML_ERR_NOMEM);
		}
		cml_offerjoin_free(j);
	}
	CHECK(ok);
}

int
main(void)
{
	RUN(test_whole);
	RUN(test_join);
	RUN(test_properties);
	RUN(test_many);
	RUN(test_alloc_failures);
	return harness_done();
}
