/*
 * test_order.c: the order rules (cml_order_check) and what counts as an
 * attachment. Each rule has a case that breaks it and one that keeps it
 * near the edge; then every order of every corpus orders file must pass.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cml/order.h>
#include <cml/reader.h>

#include "harness.h"

static cml_doc_line lines[2];
static cml_document doc;
static cml_discount discount;
static cml_pair reqs[2];

/* A good order: two lines, the second the delivery. */
static void
reset(void)
{
	memset(&doc, 0, sizeof(doc));
	memset(lines, 0, sizeof(lines));
	memset(&discount, 0, sizeof(discount));
	memset(reqs, 0, sizeof(reqs));
	lines[0].id = "p1";
	lines[0].price = "100";
	lines[0].quantity = "2";
	lines[0].sum = "200";
	lines[1].id = "ORDER_DELIVERY";
	lines[1].price = "300";
	lines[1].quantity = "1";
	lines[1].sum = "300";
	reqs[0] = (cml_pair){ "Дата оплаты", "2007-10-16 15:44:47" };
	reqs[1] = (cml_pair){ "Заказ оплачен", "true" };
	doc.id = "132";
	doc.number = "132";
	doc.date = "2021-02-11";
	doc.time = "18:45:21";
	doc.currency = "руб";
	doc.rate = "1";
	doc.sum = "500";
	doc.lines = lines;
	doc.n_lines = 2;
	doc.requisites = reqs;
	doc.n_requisites = 2;
}

static char why[512];

static cml_status
check(void)
{
	why[0] = 'x';
	return cml_order_check(&doc, why, sizeof(why));
}

/* The order passes with no reason, or fails with exactly this one. */
#define PASS() \
	do { \
		CHECK_INT(check(), CML_OK); \
		CHECK_STR(why, ""); \
	} while (0)
#define FAIL(reason) \
	do { \
		CHECK_INT(check(), CML_ERR_VALUE); \
		CHECK_STR(why, reason); \
	} while (0)

static void
test_good(void)
{
	reset();
	PASS();
	CHECK_INT(cml_order_check(&doc, NULL, 0), CML_OK);
	CHECK_INT(cml_order_check(NULL, why, sizeof(why)), CML_ERR_USAGE);
}

static void
test_id(void)
{
	reset();
	doc.id = NULL;
	FAIL("the order has no Ид");
	doc.id = "";
	FAIL("the order has no Ид");
	/* the reason without a buffer, or cut to a small one */
	CHECK_INT(cml_order_check(&doc, NULL, 0), CML_ERR_VALUE);
	char small[8];
	CHECK_INT(cml_order_check(&doc, small, sizeof(small)), CML_ERR_VALUE);
	CHECK_STR(small, "the ord");
}

static void
test_dates(void)
{
	static const char *const good[] = {
		"2021-02-11", "T", "", "2021-02-11T18:45:21", "2021-02-18T9:49:02",
		"11.02.2021 18:45:21", "12.02.2021", "2024-02-29", "0001-01-01",
		"2021-02-11T18:45:21.123+03:00", "2021-02-11T18:45Z", "0000-00-00 00:00:00",
		"2021-02-11T",
	};
	static const char *const bad[] = {
		"2023-02-29", "2024-13-01", "2024-04-31", "вчера", "2021-02-11T25:00:00",
		"2021-02-11 18:61", "11/02/2021", "2021-2-11", "2021-02-11T18:45:21 мск",
		"TT",
	};
	char want[256];

	reset();
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		harness_current = good[i];
		doc.date = good[i];
		PASS();
		doc.date_1c = good[i];
		doc.due_date = good[i];
		reqs[0].value = good[i];
		PASS();
	}
	reset();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		harness_current = bad[i];
		doc.date = bad[i];
		snprintf(want, sizeof(want), "Дата '%s' is not a date", bad[i]);
		FAIL(want);
		doc.date = NULL;
		doc.date_1c = bad[i];
		snprintf(want, sizeof(want), "Дата1С '%s' is not a date", bad[i]);
		FAIL(want);
		doc.date_1c = NULL;
		doc.due_date = bad[i];
		snprintf(want, sizeof(want), "СрокПлатежа '%s' is not a date", bad[i]);
		FAIL(want);
		doc.due_date = NULL;
		reqs[0].value = bad[i];
		snprintf(want, sizeof(want), "requisite 'Дата оплаты': '%s' is not a date", bad[i]);
		FAIL(want);
		reset();
	}
	harness_current = "test_dates";
	/* a requisite whose name only starts with the letters is no date */
	reset();
	reqs[0] = (cml_pair){ "Датчик", "сломан" };
	PASS();
	reqs[0] = (cml_pair){ "Дата изменения статуса", "сломан" };
	FAIL("requisite 'Дата изменения статуса': 'сломан' is not a date");
	/* times */
	reset();
	doc.time = "9:05";
	PASS();
	doc.time = "T";
	PASS();
	doc.time = "24:00:00";
	FAIL("Время '24:00:00' is not a time");
	doc.time = "2021-02-11";
	FAIL("Время '2021-02-11' is not a time");
	/* a 2.09 payment's date */
	reset();
	cml_payment pay = { .number = "1", .date = "2015-13-01" };
	doc.payments = &pay;
	doc.n_payments = 1;
	FAIL("payment 1: ДатаОплаты '2015-13-01' is not a date");
	pay.date = "2015-12-01T10:00:00";
	PASS();
}

static void
test_numbers(void)
{
	reset();
	lines[1].quantity = "abc";
	FAIL("line 2 (Ид ORDER_DELIVERY): Количество 'abc' is not a number");
	reset();
	lines[0].price = "сто";
	FAIL("line 1 (Ид p1): ЦенаЗаЕдиницу 'сто' is not a number");
	reset();
	lines[0].id = NULL;
	lines[0].sum = "1e3";
	FAIL("line 1: Сумма '1e3' is not a number");
	reset();
	doc.sum = "500 руб";
	FAIL("Сумма '500 руб' is not a number");
	reset();
	doc.rate = "";
	FAIL("Курс '' is not a number");
	/* 100,00 and 100.00 are 100: a document built by hand keeps the
	 * spelling of its source */
	reset();
	lines[0].price = "100,00";
	lines[0].quantity = "2.000";
	lines[0].sum = "200.00";
	doc.sum = "1 200,50";
	doc.rate = "1,0000";
	PASS();
	/* a line without a price says nothing about its sum */
	reset();
	lines[0].price = NULL;
	lines[0].sum = "17";
	PASS();
}

static void
test_rounding(void)
{
	/* 33.33 × 3 is 99.99: a sum of 100 came from a price of 33.333... */
	reset();
	lines[0].price = "33.33";
	lines[0].quantity = "3";
	lines[0].sum = "100";
	PASS();
	lines[0].sum = "99.98";
	PASS();
	lines[0].sum = "100.05";
	FAIL("line 1 (Ид p1): Сумма 100.05 is not ЦенаЗаЕдиницу 33.33 × Количество 3 (99.99)");
	/* a whole price is exact: a kopeck of rounding and no more */
	reset();
	lines[0].price = "100";
	lines[0].quantity = "1";
	lines[0].sum = "100.01";
	PASS();
	lines[0].sum = "100.02";
	FAIL("line 1 (Ид p1): Сумма 100.02 is not ЦенаЗаЕдиницу 100 × Количество 1 (100.00)");
	/* fractional quantities: 0.333 kg at 299.90 */
	reset();
	lines[0].price = "299.9";
	lines[0].quantity = "0.333";
	lines[0].sum = "99.87";
	PASS();
	/* 1000 units at a price rounded to the kopeck: up to 5 roubles */
	reset();
	lines[0].price = "0.33";
	lines[0].quantity = "1000";
	lines[0].sum = "333.33";
	PASS();
	lines[0].price = "10";
	lines[0].sum = "10006";
	FAIL("line 1 (Ид p1): Сумма 10006 is not ЦенаЗаЕдиницу 10 × Количество 1000 (10000.00)");
	/* a price with more places is rounded at its last one */
	reset();
	lines[0].price = "1.2345";
	lines[0].quantity = "100";
	lines[0].sum = "123.45";
	PASS();
	lines[0].sum = "123.47";
	FAIL("line 1 (Ид p1): Сумма 123.47 is not ЦенаЗаЕдиницу 1.2345 × Количество 100 (123.45)");
	/* negative lines (a return, a bonus) round the same way */
	reset();
	lines[0].price = "-33.33";
	lines[0].quantity = "3";
	lines[0].sum = "-100";
	PASS();
}

static void
test_discounts(void)
{
	/* the sum after a 20-rouble discount on the line */
	reset();
	lines[0].sum = "180";
	FAIL("line 1 (Ид p1): Сумма 180 is not ЦенаЗаЕдиницу 100 × Количество 2 (200.00)");
	discount = (cml_discount){ .name = "Скидка", .sum = "20", .in_sum = CML_TRUE };
	lines[0].discounts = &discount;
	lines[0].n_discounts = 1;
	PASS();
	/* the sum before it: Bitrix's price is often already discounted */
	lines[0].sum = "200";
	PASS();
	/* a discount that does not explain it */
	lines[0].sum = "170";
	FAIL("line 1 (Ид p1): Сумма 170 is not ЦенаЗаЕдиницу 100 × Количество 2 (200.00), "
	     "with or without its discounts");
	/* a percent */
	discount = (cml_discount){ .name = "Скидка", .percent = "15" };
	PASS();
	discount.percent = "10";
	FAIL("line 1 (Ид p1): Сумма 170 is not ЦенаЗаЕдиницу 100 × Количество 2 (200.00), "
	     "with or without its discounts");
	lines[0].sum = "180";
	PASS();
}

static void
test_currency(void)
{
	static const char *const good[] = { "RUB", "руб", "руб.", "643", "RUR", "EUR",
		                            "USD", "KZT", "BYN" };
	static const char *const bad[] = { "XYZ", "рубли", "rub", "RUB ", "$", "1" };
	char want[128];

	reset();
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		doc.currency = good[i];
		PASS();
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		doc.currency = bad[i];
		snprintf(want, sizeof(want), "Валюта '%s' is not a known currency", bad[i]);
		FAIL(want);
	}
	doc.currency = NULL;
	PASS();
}

static void
test_attachment(void)
{
	reset();
	CHECK(!cml_order_is_attachment(&doc));
	doc.basis = "";
	CHECK(!cml_order_is_attachment(&doc));
	doc.basis = "132";
	doc.operation = "Выплата безналичных денег";
	CHECK(cml_order_is_attachment(&doc));
	CHECK(!cml_order_is_attachment(NULL));
}

/* Every order of every corpus orders file keeps the rules. */
static void
test_corpus(void)
{
	static const char *const files[] = {
		"AlexMobiCraft__FREESPORT-B2B__docs_integrations_1c_samples_order-export-org-warehouse-diagnostic.xml",
		"ArgentCrusade__commerceml__tests_fixtures_documents-example.xml",
		"alex8bits__php-commerceml__tests_xml_orders.xml",
		"alexander-rakov__1C-CommerceML-Exchange77-8x__Order8x.xml",
		"carono__yii2-1c-exchange__files_xml_from.xml",
		"carono__yii2-1c-exchange__files_xml_to.xml",
		"dicrtarasov__yii2-exchange1c__doc_orders.xml",
		"dobromyslov__commerceml-parser__data_bitrix-query-response-empty.xml",
		"dobromyslov__commerceml-parser__data_bitrix-query-response-full.xml",
		"irpsv__commerceml__tests_assets_bitrix-module-6_documents_1_documents.xml",
		"irpsv__commerceml__tests_assets_bitrix-module-6_documents_2_documents.xml",
		"irpsv__commerceml__tests_assets_off-doc-1c_orders.xml",
		"lexxkrt__laravel-catalog-with-1c-exchange__resources_views_orders.xml",
	};
	int checked = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[4096];
		cml_reader *r;
		const cml_item *it;
		cml_status st;

		snprintf(path, sizeof(path), "%s/%s", CORPUS, files[i]);
		if (access(path, R_OK) != 0)
			snprintf(path, sizeof(path), "%s/corpus/%s", TESTDATA, files[i]);
		if (access(path, R_OK) != 0)
			continue;
		harness_current = files[i];
		r = cml_reader_new(NULL);
		st = cml_reader_open_file(r, path);
		while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK) {
			if (it->kind != CML_ITEM_DOCUMENT)
				continue;
			st = cml_order_check(&it->u.document, why, sizeof(why));
			if (st != CML_OK)
				fprintf(stderr, "  %s: order %s: %s\n", files[i],
				        it->u.document.number ? it->u.document.number : "?", why);
			CHECK_INT(st, CML_OK);
			st = CML_OK;
			checked++;
		}
		CHECK_INT(st, CML_END);
		cml_reader_free(r);
	}
	harness_current = "test_corpus";
	printf("%d corpus orders checked\n", checked);
	CHECK(checked > 0);
}

int
main(void)
{
	RUN(test_good);
	RUN(test_id);
	RUN(test_dates);
	RUN(test_numbers);
	RUN(test_rounding);
	RUN(test_discounts);
	RUN(test_currency);
	RUN(test_attachment);
	RUN(test_corpus);
	return harness_done();
}
