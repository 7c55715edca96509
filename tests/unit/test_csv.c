/*
 * test_csv.c: the CSV tables of cmlkit-csv(5).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cml/csv.h"
#include "harness.h"

#define CSVDIR TESTDATA "/csv/"

/* Opens a test file, failing the test (and returning NULL) if it does not. */
static cml_csv_reader *
open_good(const char *file, cml_csv_table want)
{
	cml_csv_reader *r = cml_csv_reader_new();
	cml_status st;

	CHECK(r != NULL);
	if (r == NULL)
		return NULL;
	st = cml_csv_reader_open_file(r, file);
	CHECK_INT(st, CML_OK);
	if (st != CML_OK) {
		fprintf(stderr, "  %s\n", cml_csv_reader_errmsg(r));
		cml_csv_reader_free(r);
		return NULL;
	}
	CHECK_INT(cml_csv_reader_table(r), want);
	return r;
}

/* The next item, or NULL after a failed check. */
static const cml_item *
next(cml_csv_reader *r, cml_kind kind)
{
	const cml_item *it = NULL;
	cml_status st = cml_csv_reader_next(r, &it);

	CHECK_INT(st, CML_OK);
	if (st != CML_OK) {
		fprintf(stderr, "  %s\n", cml_csv_reader_errmsg(r));
		return NULL;
	}
	CHECK_INT(it->kind, kind);
	return it->kind == kind ? it : NULL;
}

static void
check_end(cml_csv_reader *r)
{
	const cml_item *it = NULL;

	CHECK_INT(cml_csv_reader_next(r, &it), CML_END);
	CHECK(it == NULL);
	CHECK_INT(cml_csv_reader_next(r, &it), CML_END);
}

static void
test_groups(void)
{
	cml_csv_reader *r = open_good(CSVDIR "good-groups.csv", CML_CSV_GROUPS);
	const cml_item *it;

	if (r == NULL)
		return;
	if ((it = next(r, CML_ITEM_GROUP)) != NULL) {
		CHECK_STR(it->u.group.id, "g1");
		CHECK_STR(it->u.group.parent_id, NULL);
		CHECK_STR(it->u.group.name, "Бытовая техника");
		CHECK_INT(it->u.group.depth, 0);
		CHECK_STR(it->origin.file, CSVDIR "good-groups.csv");
		CHECK_INT(it->origin.line, 2);
	}
	if ((it = next(r, CML_ITEM_GROUP)) != NULL) {
		CHECK_STR(it->u.group.parent_id, "g1");
		CHECK_STR(it->u.group.name, "Чайники, электрические");
		CHECK_INT(it->origin.line, 3);
	}
	/* after an empty line; fields trimmed */
	if ((it = next(r, CML_ITEM_GROUP)) != NULL) {
		CHECK_STR(it->u.group.id, "g3");
		CHECK_STR(it->u.group.parent_id, "g1");
		CHECK_STR(it->u.group.name, "Утюги");
		CHECK_INT(it->origin.line, 5);
	}
	check_end(r);
	cml_csv_reader_free(r);
}

static void
test_properties(void)
{
	cml_csv_reader *r = open_good(CSVDIR "good-properties.csv", CML_CSV_PROPERTIES);
	const cml_item *it;

	if (r == NULL)
		return;
	if ((it = next(r, CML_ITEM_PROPERTY)) != NULL) {
		CHECK_STR(it->u.property.id, "p1");
		CHECK_STR(it->u.property.name, "Цвет");
		CHECK_STR(it->u.property.value_type, "Справочник");
	}
	if ((it = next(r, CML_ITEM_PROPERTY)) != NULL)
		CHECK_STR(it->u.property.value_type, "Строка"); /* the default */
	if ((it = next(r, CML_ITEM_PROPERTY)) != NULL)
		CHECK_STR(it->u.property.name, "Материал \"корпуса\"");
	check_end(r);
	cml_csv_reader_free(r);
}

static void
test_price_types(void)
{
	cml_csv_reader *r = open_good(CSVDIR "good-price-types.csv", CML_CSV_PRICE_TYPES);
	const cml_item *it;

	if (r == NULL)
		return;
	if ((it = next(r, CML_ITEM_PRICE_TYPE)) != NULL) {
		CHECK_STR(it->u.price_type.id, "retail");
		CHECK_STR(it->u.price_type.currency, "RUB");
		CHECK_STR(it->u.price_type.tax_name, "НДС");
		CHECK_INT(it->u.price_type.tax_in_sum, CML_TRUE);
	}
	if ((it = next(r, CML_ITEM_PRICE_TYPE)) != NULL) {
		CHECK_STR(it->u.price_type.currency, NULL);
		CHECK_STR(it->u.price_type.tax_name, NULL);
		CHECK_INT(it->u.price_type.tax_in_sum, CML_UNSET);
	}
	if ((it = next(r, CML_ITEM_PRICE_TYPE)) != NULL)
		CHECK_INT(it->u.price_type.tax_in_sum, CML_FALSE);
	check_end(r);
	cml_csv_reader_free(r);
}

static void
test_warehouses(void)
{
	cml_csv_reader *r = open_good(CSVDIR "good-warehouses.csv", CML_CSV_WAREHOUSES);
	const cml_item *it;

	if (r == NULL)
		return;
	if ((it = next(r, CML_ITEM_WAREHOUSE)) != NULL) {
		CHECK_STR(it->u.warehouse.id, "w1");
		CHECK_STR(it->u.warehouse.address, "Москва, ул. Тверская, 1");
	}
	if ((it = next(r, CML_ITEM_WAREHOUSE)) != NULL)
		CHECK_STR(it->u.warehouse.address, NULL);
	check_end(r);
	cml_csv_reader_free(r);
}

static void
test_products(void)
{
	cml_csv_reader *r = open_good(CSVDIR "good-products.csv", CML_CSV_PRODUCTS);
	const cml_item *it;
	const cml_product *p;

	if (r == NULL)
		return;
	if ((it = next(r, CML_ITEM_PRODUCT)) != NULL) {
		p = &it->u.product;
		CHECK_INT(it->origin.line, 2);
		CHECK_STR(p->id, "p1");
		CHECK_STR(p->name, "Чайник");
		CHECK_STR(p->article, "A-1");
		CHECK_STR(p->barcode, "4600000000001");
		CHECK_STR(p->unit.code, "796");
		CHECK_STR(p->unit.name, "шт");
		CHECK_STR(p->unit.full_name, "Штука");
		CHECK_INT(p->n_groups, 2);
		if (p->n_groups == 2) {
			CHECK_STR(p->groups[0], "g1");
			CHECK_STR(p->groups[1], "g2");
		}
		CHECK_STR(p->description,
		          "Стальной чайник, 1,7 л.\nСвисток \"как у бабушки\".");
		CHECK_STR(p->manufacturer_name, "Tefal");
		CHECK_STR(p->manufacturer_id, NULL);
		CHECK_STR(p->country, "Франция");
		CHECK_INT(p->n_pictures, 2);
		if (p->n_pictures == 2) {
			CHECK_STR(p->pictures[0], "img/p1.jpg");
			CHECK_STR(p->pictures[1], "img/p1b.jpg");
		}
		CHECK_INT(p->n_taxes, 1);
		if (p->n_taxes == 1) {
			CHECK_STR(p->taxes[0].name, "НДС");
			CHECK_STR(p->taxes[0].rate, "20");
		}
		CHECK_INT(p->n_props, 3); /* p1 twice: a multi-valued property */
		if (p->n_props == 3) {
			CHECK_STR(p->props[0].id, "p1");
			CHECK_STR(p->props[0].value, "Красный");
			CHECK_STR(p->props[1].id, "p1");
			CHECK_STR(p->props[1].value, "Синий");
			CHECK_STR(p->props[2].id, "p2");
			CHECK_STR(p->props[2].value, "1.7");
		}
		CHECK_INT(p->n_requisites, 1);
		if (p->n_requisites == 1) {
			CHECK_STR(p->requisites[0].name, "ВидНоменклатуры");
			CHECK_STR(p->requisites[0].value, "Товар");
		}
		CHECK_INT(p->status, CML_STATUS_NONE);
		CHECK(!p->deleted);
	}
	/* line 4: the description above spans two lines */
	if ((it = next(r, CML_ITEM_PRODUCT)) != NULL) {
		p = &it->u.product;
		CHECK_INT(it->origin.line, 4);
		CHECK_STR(p->id, "p2");
		CHECK_INT(p->status, CML_STATUS_DELETED);
		CHECK(p->deleted);
		CHECK_INT(p->n_props, 0);
		CHECK_INT(p->n_requisites, 0);
		CHECK_INT(p->n_taxes, 0);
		CHECK_INT(p->n_pictures, 0);
		CHECK_STR(p->unit.code, NULL);
	}
	if ((it = next(r, CML_ITEM_PRODUCT)) != NULL) {
		p = &it->u.product;
		CHECK_STR(p->id, "p3");
		CHECK_STR(p->name, "Фен");
		CHECK_INT(p->n_taxes, 1);
		if (p->n_taxes == 1) {
			CHECK_STR(p->taxes[0].name, "Акциз");
			CHECK_STR(p->taxes[0].rate, "5");
		}
		CHECK(!p->deleted);
	}
	check_end(r);
	cml_csv_reader_free(r);
}

static void
test_offers(void)
{
	cml_csv_reader *r = open_good(CSVDIR "good-offers.csv", CML_CSV_OFFERS);
	const cml_item *it;
	const cml_offer *o;

	if (r == NULL)
		return;
	if ((it = next(r, CML_ITEM_OFFER)) != NULL) {
		o = &it->u.offer;
		CHECK_STR(o->id, "p1#m");
		CHECK_STR(o->product_id, "p1");
		CHECK_STR(o->char_id, "m");
		CHECK_STR(o->name, "Чайник, M");
		CHECK_INT(o->n_characteristics, 2);
		if (o->n_characteristics == 2) {
			CHECK_STR(o->characteristics[0].name, "Размер");
			CHECK_STR(o->characteristics[0].value, "M");
			CHECK_STR(o->characteristics[1].name, "Цвет");
			CHECK_STR(o->characteristics[1].value, "Синий");
		}
		CHECK_STR(o->quantity, "5");
		CHECK(o->has_prices);
		CHECK_INT(o->n_prices, 2);
		if (o->n_prices == 2) {
			CHECK_STR(o->prices[0].type_id, "retail");
			CHECK_STR(o->prices[0].value, "1490");
			CHECK_STR(o->prices[0].currency, "RUB");
			CHECK_STR(o->prices[0].presentation, NULL);
			CHECK_STR(o->prices[1].type_id, "opt");
			CHECK_STR(o->prices[1].value, "1200.5");
			CHECK_STR(o->prices[1].currency, NULL);
		}
		CHECK(o->has_stocks);
		CHECK_INT(o->n_stocks, 2);
		if (o->n_stocks == 2) {
			CHECK_STR(o->stocks[0].warehouse_id, "w1");
			CHECK_STR(o->stocks[0].quantity, "3");
			CHECK_STR(o->stocks[1].warehouse_id, "w2");
			CHECK_STR(o->stocks[1].quantity, "2");
		}
		CHECK(!o->deleted);
	}
	if ((it = next(r, CML_ITEM_OFFER)) != NULL) {
		o = &it->u.offer;
		CHECK_STR(o->id, "p2");
		CHECK_STR(o->product_id, "p2");
		CHECK_STR(o->char_id, NULL);
		CHECK_STR(o->quantity, NULL); /* empty, stock columns exist */
		CHECK_INT(o->n_prices, 1);
		CHECK_INT(o->n_stocks, 1);
		if (o->n_stocks == 1) {
			CHECK_STR(o->stocks[0].warehouse_id, "w2");
			CHECK_STR(o->stocks[0].quantity, "0");
		}
		CHECK_INT(it->origin.line, 3);
	}
	if ((it = next(r, CML_ITEM_OFFER)) != NULL) {
		o = &it->u.offer;
		CHECK_INT(it->origin.line, 5);
		CHECK_STR(o->id, "p3#");
		CHECK_STR(o->product_id, "p3");
		CHECK_STR(o->char_id, NULL);
		CHECK(o->has_prices);
		CHECK_INT(o->n_prices, 0);
		CHECK_INT(o->status, CML_STATUS_DELETED);
		CHECK(o->deleted);
	}
	check_end(r);
	cml_csv_reader_free(r);
}

/* An error that open reports. */
static void
check_open_error(const char *file, cml_status want, const char *msg)
{
	cml_csv_reader *r = cml_csv_reader_new();
	const cml_item *it;

	if (r == NULL)
		return;
	CHECK_INT(cml_csv_reader_open_file(r, file), want);
	CHECK_STR(cml_csv_reader_errmsg(r), msg);
	CHECK_INT(cml_csv_reader_table(r), CML_CSV_UNKNOWN);
	CHECK_INT(cml_csv_reader_next(r, &it), want); /* sticky */
	cml_csv_reader_free(r);
}

/* An error on a row: n_good items come first. */
static void
check_row_error(const char *file, int n_good, cml_status want, const char *msg)
{
	cml_csv_reader *r = cml_csv_reader_new();
	const cml_item *it = NULL;
	cml_status st;

	if (r == NULL)
		return;
	st = cml_csv_reader_open_file(r, file);
	CHECK_INT(st, CML_OK);
	if (st == CML_OK) {
		for (int i = 0; i < n_good; i++)
			CHECK_INT(cml_csv_reader_next(r, &it), CML_OK);
		CHECK_INT(cml_csv_reader_next(r, &it), want);
		CHECK(it == NULL);
		CHECK_STR(cml_csv_reader_errmsg(r), msg);
		CHECK_INT(cml_csv_reader_next(r, &it), want);
	}
	cml_csv_reader_free(r);
}

static void
test_bad(void)
{
	check_open_error(CSVDIR "bad-unknown-table.csv", CML_ERR_FORMAT,
	                 CSVDIR "bad-unknown-table.csv:1: unknown table: first column is 'sku'");
	check_open_error(CSVDIR "bad-unknown-column.csv", CML_ERR_FORMAT,
	                 CSVDIR "bad-unknown-column.csv:1: unknown column 'colour' in a groups table");
	check_open_error(CSVDIR "bad-duplicate-column.csv", CML_ERR_FORMAT,
	                 CSVDIR "bad-duplicate-column.csv:1: duplicate column 'article'");
	check_open_error(CSVDIR "bad-currency-without-price.csv", CML_ERR_FORMAT,
	                 CSVDIR "bad-currency-without-price.csv:1: column 'currency:retail' "
	                 "has no column 'price:retail'");
	check_open_error(CSVDIR "bad-empty.csv", CML_ERR_FORMAT,
	                 CSVDIR "bad-empty.csv: no header row");
	check_open_error(CSVDIR "no-such-file.csv", CML_ERR_IO,
	                 CSVDIR "no-such-file.csv: No such file or directory");

	/* The bad number is on line 5: the name before it spans lines 2-4. */
	check_row_error(CSVDIR "bad-number.csv", 1, CML_ERR_VALUE,
	                CSVDIR "bad-number.csv:5: column price:base: 'abc' is not a number");
	check_row_error(CSVDIR "bad-missing-id.csv", 1, CML_ERR_VALUE,
	                CSVDIR "bad-missing-id.csv:3: column product_id: required value is empty");
	check_row_error(CSVDIR "bad-quote.csv", 0, CML_ERR_SYNTAX,
	                CSVDIR "bad-quote.csv:2: malformed CSV: a quote inside an unquoted "
	                "field or text after a closing quote");
	check_row_error(CSVDIR "bad-unterminated.csv", 1, CML_ERR_SYNTAX,
	                CSVDIR "bad-unterminated.csv:3: unterminated quoted field");
	check_row_error(CSVDIR "bad-too-many-fields.csv", 0, CML_ERR_FORMAT,
	                CSVDIR "bad-too-many-fields.csv:2: row has more fields than the header (2)");
	check_row_error(CSVDIR "bad-utf8.csv", 0, CML_ERR_ENCODING,
	                CSVDIR "bad-utf8.csv:2: the value in column 'name' is not valid UTF-8: "
	                "a cmlkit CSV file is UTF-8 (convert it, e.g. iconv -f windows-1251 "
	                "-t UTF-8)");
	check_row_error(CSVDIR "bad-boolean.csv", 0, CML_ERR_VALUE,
	                CSVDIR "bad-boolean.csv:2: column deleted: 'maybe' is not true or false");
	check_row_error(CSVDIR "bad-characteristic.csv", 0, CML_ERR_VALUE,
	                CSVDIR "bad-characteristic.csv:2: column characteristics: 'Размер' "
	                "has no '=' between name and value");
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

/* One row of 15 MiB fields: each field is within the field limit, the
 * row is refused at the per-item limit, not held whole (issue 8 item 8). */
static void
test_row_memory(void)
{
	const size_t field = 15u << 20;
	const int n = 6;
	size_t cap = 64 + (size_t)n * (field + 1);
	char *buf = malloc(cap), *p = buf;
	cml_csv_reader *r = cml_csv_reader_new();
	const cml_item *it;
	struct rusage ru;
	cml_status st;

	p += snprintf(p, cap, "product_id,name,description,article,barcode,country\nbig");
	for (int i = 1; i < n; i++) {
		*p++ = ',';
		memset(p, 'x', field);
		p += field;
	}
	*p++ = '\n';
	getrusage(RUSAGE_SELF, &ru);
	long before = ru.ru_maxrss;
	st = cml_csv_reader_open_memory(r, buf, (size_t)(p - buf), "wide.csv");
	if (st == CML_OK)
		st = cml_csv_reader_next(r, &it);
	CHECK_INT(st, CML_ERR_HOSTILE);
	if (strstr(cml_csv_reader_errmsg(r), "wide.csv:2: the row of product_id 'big' takes "
	                                     "more than 64 MiB: refused") == NULL)
		fprintf(stderr, "  message was: %s\n", cml_csv_reader_errmsg(r));
	CHECK(strstr(cml_csv_reader_errmsg(r), "wide.csv:2: the row of product_id 'big' takes "
	                                       "more than 64 MiB: refused") != NULL);
	getrusage(RUSAGE_SELF, &ru);
	fprintf(stderr, "  row of 5 x 15 MiB: peak RSS +%ld KiB\n", ru.ru_maxrss - before);
	CHECK(!RSS_MEANINGFUL || ru.ru_maxrss - before < 100 * 1024);
	cml_csv_reader_free(r);
	free(buf);
}

/* Memory input: small cases that need no file. */
static cml_status
mem_first(const char *text, const char **msg, const cml_item **item,
          cml_csv_reader **rp)
{
	cml_csv_reader *r = cml_csv_reader_new();
	cml_status st;

	*rp = r;
	*item = NULL;
	if (r == NULL)
		return CML_ERR_NOMEM;
	st = cml_csv_reader_open_memory(r, text, strlen(text), "mem.csv");
	if (st == CML_OK)
		st = cml_csv_reader_next(r, item);
	*msg = cml_csv_reader_errmsg(r);
	return st;
}

static void
test_memory(void)
{
	cml_csv_reader *r;
	const cml_item *it;
	const char *msg;

	/* a header alone: no items */
	CHECK_INT(mem_first("group_id,name\n", &msg, &it, &r), CML_END);
	cml_csv_reader_free(r);
	/* no newline at the end; BOM; CRLF inside a quoted field becomes LF */
	CHECK_INT(mem_first("\xef\xbb\xbfproduct_id,name,description\r\n"
	                    "p1,x,\"a\r\nb\"", &msg, &it, &r), CML_OK);
	if (it != NULL) {
		CHECK_STR(it->u.product.description, "a\nb");
		CHECK_INT(it->origin.line, 2);
		CHECK_STR(it->origin.file, "mem.csv");
	}
	CHECK_INT(cml_csv_reader_next(r, &it), CML_END);
	cml_csv_reader_free(r);
	/* fewer fields than the header: the rest are empty */
	CHECK_INT(mem_first("offer_id,name,price:base,stock:w1\np1\n", &msg, &it, &r), CML_OK);
	if (it != NULL) {
		CHECK_STR(it->u.offer.name, NULL);
		CHECK(it->u.offer.has_prices);
		CHECK(it->u.offer.has_stocks);
		CHECK_INT(it->u.offer.n_prices, 0);
	}
	cml_csv_reader_free(r);
	/* a row of empty fields is skipped like an empty line */
	CHECK_INT(mem_first("group_id,name\n , \n,\ng1,x\n", &msg, &it, &r), CML_OK);
	if (it != NULL)
		CHECK_INT(it->origin.line, 4);
	cml_csv_reader_free(r);
	/* a bad stock number, its column named */
	CHECK_INT(mem_first("offer_id,stock:w1\np1,1.2.3\n", &msg, &it, &r), CML_ERR_VALUE);
	CHECK_STR(msg, "mem.csv:2: column stock:w1: '1.2.3' is not a number");
	cml_csv_reader_free(r);
	CHECK_INT(mem_first("offer_id,quantity\np1,\"1 000,50\"\n", &msg, &it, &r), CML_OK);
	if (it != NULL)
		CHECK_STR(it->u.offer.quantity, "1000.5");
	cml_csv_reader_free(r);
	/* text after a closing quote */
	CHECK_INT(mem_first("group_id,name\ng1,\"x\"y\n", &msg, &it, &r), CML_ERR_SYNTAX);
	cml_csv_reader_free(r);
	/* a prefix with no id, a missing required column, an empty column name */
	CHECK_INT(mem_first("product_id,name,prop:\n", &msg, &it, &r), CML_ERR_FORMAT);
	CHECK_STR(msg, "mem.csv:1: column 'prop:' names no id");
	cml_csv_reader_free(r);
	CHECK_INT(mem_first("product_id,article\n", &msg, &it, &r), CML_ERR_FORMAT);
	CHECK_STR(msg, "mem.csv:1: no 'name' column in a products table");
	cml_csv_reader_free(r);
	CHECK_INT(mem_first("group_id,,name\n", &msg, &it, &r), CML_ERR_FORMAT);
	CHECK_STR(msg, "mem.csv:1: column 2 has no name");
	cml_csv_reader_free(r);
	/* column names are exact */
	CHECK_INT(mem_first("Group_ID,name\n", &msg, &it, &r), CML_ERR_FORMAT);
	cml_csv_reader_free(r);
	/* '#' with nothing before it */
	CHECK_INT(mem_first("offer_id\n#c\n", &msg, &it, &r), CML_ERR_VALUE);
	CHECK_STR(msg, "mem.csv:2: column offer_id: '#c' has no product id before '#'");
	cml_csv_reader_free(r);
	/* a header too wide to be a table */
	r = cml_csv_reader_new();
	if (r != NULL) {
		size_t n = 10001 * 2;
		char *wide = malloc(n);

		if (wide != NULL) {
			memcpy(wide, "group_id", 8);
			memset(wide + 8, ',', n - 8);
			CHECK_INT(cml_csv_reader_open_memory(r, wide, n, "wide.csv"),
			          CML_ERR_HOSTILE);
			CHECK_STR(cml_csv_reader_errmsg(r), "wide.csv:1: more than 10000 columns");
			free(wide);
		}
		cml_csv_reader_free(r);
	}
	/* a NUL byte inside a field */
	r = cml_csv_reader_new();
	if (r != NULL) {
		static const char nul[] = "group_id,name\ng1,a\0b\n";

		CHECK_INT(cml_csv_reader_open_memory(r, nul, sizeof(nul) - 1, NULL), CML_OK);
		CHECK_INT(cml_csv_reader_next(r, &it), CML_ERR_SYNTAX);
		cml_csv_reader_free(r);
	}
}

static void
test_api(void)
{
	cml_csv_reader *r = cml_csv_reader_new();
	const cml_item *it;

	cml_csv_reader_free(NULL);
	if (r == NULL)
		return;
	CHECK_INT(cml_csv_reader_next(r, &it), CML_ERR_STATE);
	CHECK_INT(cml_csv_reader_table(r), CML_CSV_UNKNOWN);
	cml_csv_reader_free(r);
	r = cml_csv_reader_new();
	if (r == NULL)
		return;
	CHECK_INT(cml_csv_reader_next(r, NULL), CML_ERR_USAGE);
	CHECK_INT(cml_csv_reader_open_memory(r, NULL, 3, "x"), CML_ERR_USAGE);
	CHECK_INT(cml_csv_reader_open_fd(r, -1, "x"), CML_ERR_USAGE);
	/* reopening the same reader */
	CHECK_INT(cml_csv_reader_open_memory(r, "group_id,name\ng,x\n", 18, "a"), CML_OK);
	CHECK_INT(cml_csv_reader_open_memory(r, "warehouse_id,name\nw,x\n", 22, "b"), CML_OK);
	CHECK_INT(cml_csv_reader_table(r), CML_CSV_WAREHOUSES);
	if (cml_csv_reader_next(r, &it) == CML_OK)
		CHECK_STR(it->origin.file, "b");
	cml_csv_reader_free(r);
}

/*
 * A file bigger than the read chunk, through open_fd: rows and quoted
 * newlines cross chunk boundaries, and lines keep counting.
 */
static void
test_big_fd(void)
{
	char path[] = "/tmp/test_csv_XXXXXX";
	int fd = mkstemp(path);
	FILE *fp;
	cml_csv_reader *r = NULL;
	const cml_item *it;
	const long rows = 20000;
	long n = 0, bad_line = 0;
	cml_status st;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	fp = fdopen(fd, "w");
	if (fp == NULL) {
		close(fd);
		goto out;
	}
	fputs("\xef\xbb\xbfproduct_id,name,description,prop:p1\r\n", fp);
	for (long i = 0; i < rows; i++)
		fprintf(fp, "p%ld,\"Товар, номер %ld\",\"строка\r\n\"\"вторая\"\"\",%ld;%ld\r\n",
		        i, i, i, i + 1);
	if (fclose(fp) != 0)
		goto out;
	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	if (fd < 0)
		goto out;
	r = cml_csv_reader_new();
	if (r == NULL || cml_csv_reader_open_fd(r, fd, "big.csv") != CML_OK) {
		CHECK(0);
		close(fd);
		goto out;
	}
	while ((st = cml_csv_reader_next(r, &it)) == CML_OK) {
		char want[64];

		snprintf(want, sizeof(want), "p%ld", n);
		if (strcmp(it->u.product.id, want) != 0 ||
		    it->origin.line != (unsigned long)(2 + 2 * n) ||
		    it->u.product.n_props != 2 ||
		    strcmp(it->u.product.description, "строка\n\"вторая\"") != 0)
			bad_line = n + 1;
		n++;
	}
	CHECK_INT(st, CML_END);
	CHECK_INT(n, rows);
	CHECK_INT(bad_line, 0);
	/* the fd is the caller's: still open */
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	close(fd);
out:
	cml_csv_reader_free(r);
	unlink(path);
}

/* Reads a whole input with the nth allocation failing. */
static cml_status
read_all(const char *file, long fail_at)
{
	cml_csv_reader *r;
	const cml_item *it;
	cml_status st;

	cml_alloc_fail_after(fail_at);
	r = cml_csv_reader_new();
	if (r == NULL) {
		st = CML_ERR_NOMEM;
		goto out;
	}
	st = cml_csv_reader_open_file(r, file);
	while (st == CML_OK)
		st = cml_csv_reader_next(r, &it);
	if (st == CML_END)
		st = CML_OK;
out:
	cml_csv_reader_free(r);
	cml_alloc_fail_after(0);
	return st;
}

static void
test_alloc_failure(void)
{
	static const char *const files[] = {
		CSVDIR "good-groups.csv", CSVDIR "good-products.csv",
		CSVDIR "good-offers.csv", CSVDIR "good-price-types.csv",
		CSVDIR "good-properties.csv", CSVDIR "good-warehouses.csv",
	};

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		cml_status st = CML_ERR_NOMEM;
		long n;

		for (n = 1; n < 1000; n++) {
			st = read_all(files[f], n);
			if (st == CML_OK)
				break;
			if (st != CML_ERR_NOMEM) {
				fprintf(stderr, "  %s: allocation %ld: status %d\n",
				        files[f], n, (int)st);
				break;
			}
		}
		CHECK_INT(st, CML_OK);
		CHECK(n > 1);
	}
}

/* The order progress table: rows read as text, the header and the
 * required cells checked, the catalog items refused. */
static void
test_progress(void)
{
	static const char ok[] =
		"order,step,number,date,amount,qty,version,note\r\n"
		"101,confirm,,,,,3,\"first, quoted\"\r\n"
		"\r\n"
		"101, ship ,S-1,2026-11-30,,1;0,3,\r\n";
	cml_csv_reader *r = cml_csv_reader_new();
	const cml_item *it = NULL;
	unsigned long line = 0;

	if (r == NULL)
		return;
	CHECK_INT(cml_csv_reader_open_memory(r, ok, sizeof(ok) - 1, "p.csv"), CML_OK);
	CHECK_INT(cml_csv_reader_table(r), CML_CSV_PROGRESS);
	CHECK_INT(cml_csv_reader_row(r, &line), CML_OK);
	CHECK_INT(line, 2);
	CHECK_STR(cml_csv_reader_cell(r, "order"), "101");
	CHECK_STR(cml_csv_reader_cell(r, "step"), "confirm");
	CHECK_STR(cml_csv_reader_cell(r, "number"), NULL);
	CHECK_STR(cml_csv_reader_cell(r, "reason"), NULL); /* no such column */
	CHECK_STR(cml_csv_reader_cell(r, "note"), "first, quoted");
	CHECK_INT(cml_csv_reader_row(r, &line), CML_OK);
	CHECK_INT(line, 4);
	CHECK_STR(cml_csv_reader_cell(r, "step"), "ship");
	CHECK_STR(cml_csv_reader_cell(r, "qty"), "1;0");
	CHECK_STR(cml_csv_reader_cell(r, "date"), "2026-11-30");
	CHECK_INT(cml_csv_reader_row(r, &line), CML_END);
	CHECK_INT(cml_csv_reader_next(r, &it), CML_END); /* sticky END: nothing left */

	static const char nostep[] = "order,step\n101,\n";
	CHECK_INT(cml_csv_reader_open_memory(r, nostep, sizeof(nostep) - 1, "p.csv"), CML_OK);
	CHECK_INT(cml_csv_reader_row(r, &line), CML_ERR_VALUE);
	CHECK_STR(cml_csv_reader_errmsg(r), "p.csv:2: column step: empty");

	static const char unknown[] = "order,step,colour\n101,confirm,red\n";
	CHECK_INT(cml_csv_reader_open_memory(r, unknown, sizeof(unknown) - 1, "p.csv"),
	          CML_ERR_FORMAT);
	CHECK_STR(cml_csv_reader_errmsg(r), "p.csv:1: unknown column 'colour' in a progress "
	                                    "table");

	static const char items[] = "order,step\n101,confirm\n";
	CHECK_INT(cml_csv_reader_open_memory(r, items, sizeof(items) - 1, "p.csv"), CML_OK);
	CHECK_INT(cml_csv_reader_next(r, &it), CML_ERR_STATE);

	static const char groups[] = "group_id,name\ng1,G\n";
	CHECK_INT(cml_csv_reader_open_memory(r, groups, sizeof(groups) - 1, "g.csv"), CML_OK);
	CHECK_INT(cml_csv_reader_row(r, &line), CML_ERR_STATE);
	CHECK_STR(cml_csv_reader_cell(r, "name"), NULL);
	cml_csv_reader_free(r);
}

/* The catalog table: one row, three header items with the identity. */
static void
test_catalog(void)
{
	static const char text[] =
	    "catalog_id,name,classifier_id,whole\n"
	    "cat-1,Мой магазин,cls-1,\n"
	    "cat-2,,,true\n";
	cml_csv_reader *r = cml_csv_reader_new();
	const cml_item *it;

	CHECK(r != NULL);
	if (r == NULL)
		return;
	CHECK_INT(cml_csv_reader_open_memory(r, text, sizeof(text) - 1, "catalog.csv"), CML_OK);
	CHECK_INT(cml_csv_reader_table(r), CML_CSV_CATALOG);
	if ((it = next(r, CML_ITEM_CLASSIFIER)) != NULL) {
		CHECK_STR(it->u.classifier.id, "cls-1");
		CHECK_STR(it->u.classifier.name, "Классификатор (Мой магазин)");
		CHECK_INT((int)it->origin.line, 2);
	}
	if ((it = next(r, CML_ITEM_CATALOG)) != NULL) {
		CHECK_STR(it->u.catalog.id, "cat-1");
		CHECK_STR(it->u.catalog.classifier_id, "cls-1");
		CHECK_STR(it->u.catalog.name, "Мой магазин");
		/* not said whole: changes only, nothing deleted by absence */
		CHECK_INT(it->u.catalog.only_changes, CML_TRUE);
	}
	if ((it = next(r, CML_ITEM_OFFERS_PACKAGE)) != NULL) {
		CHECK_STR(it->u.package.id, "cat-1#");
		CHECK_STR(it->u.package.name, "Пакет предложений (Мой магазин)");
		CHECK_STR(it->u.package.catalog_id, "cat-1");
		CHECK_STR(it->u.package.classifier_id, "cls-1");
	}
	if ((it = next(r, CML_ITEM_CLASSIFIER)) != NULL) {
		CHECK(it->u.classifier.id == NULL);
		CHECK(it->u.classifier.name == NULL);
	}
	if ((it = next(r, CML_ITEM_CATALOG)) != NULL) {
		CHECK_STR(it->u.catalog.id, "cat-2");
		CHECK_INT(it->u.catalog.only_changes, CML_FALSE);
	}
	if ((it = next(r, CML_ITEM_OFFERS_PACKAGE)) != NULL)
		CHECK_INT(it->u.package.only_changes, CML_FALSE);
	check_end(r);

	/* an empty catalog_id, and a whole that is no boolean */
	static const char noid[] = "catalog_id,name\n,x\n";
	static const char badwhole[] = "catalog_id,whole\nc,maybe\n";
	CHECK_INT(cml_csv_reader_open_memory(r, noid, sizeof(noid) - 1, "c.csv"), CML_OK);
	CHECK_INT(cml_csv_reader_next(r, &it), CML_ERR_VALUE);
	CHECK(strstr(cml_csv_reader_errmsg(r), "c.csv:2: column catalog_id") != NULL);
	CHECK_INT(cml_csv_reader_open_memory(r, badwhole, sizeof(badwhole) - 1, "c.csv"), CML_OK);
	CHECK_INT(cml_csv_reader_next(r, &it), CML_ERR_VALUE);
	CHECK(strstr(cml_csv_reader_errmsg(r), "whole") != NULL);
	cml_csv_reader_free(r);
}

int
main(void)
{
	RUN(test_groups);
	RUN(test_properties);
	RUN(test_price_types);
	RUN(test_warehouses);
	RUN(test_products);
	RUN(test_offers);
	RUN(test_bad);
	RUN(test_memory);
	RUN(test_api);
	RUN(test_big_fd);
	RUN(test_alloc_failure);
	RUN(test_row_memory);
	RUN(test_progress);
	RUN(test_catalog);
	return harness_done();
}
