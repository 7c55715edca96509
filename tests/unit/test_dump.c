/*
 * test_dump.c: the canonical JSON form, byte for byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cml/dump.h"
#include "harness.h"

/* Dumps item into a string the caller frees; NULL if the dump failed. */
static char *
dump(const cml_item *item, cml_status *stp)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	cml_status st;

	if (fp == NULL)
		return NULL;
	st = cml_item_dump_json(item, fp);
	if (fclose(fp) != 0)
		st = CML_ERR_IO;
	if (stp != NULL)
		*stp = st;
	if (st != CML_OK) {
		free(text);
		return NULL;
	}
	return text;
}

#define CHECK_DUMP(item, want)                          \
	do {                                            \
		cml_status st_;                         \
		char *got_ = dump((item), &st_);        \
		CHECK_INT(st_, CML_OK);                 \
		CHECK_STR(got_, want);                  \
		free(got_);                             \
	} while (0)

static void
test_group(void)
{
	cml_item it = { .kind = CML_ITEM_GROUP };

	it.origin.file = "import.xml"; /* never dumped */
	it.origin.line = 12;
	it.u.group.id = "g1";
	it.u.group.name = "Чайники";
	CHECK_DUMP(&it, "{\"kind\":\"group\",\"id\":\"g1\",\"name\":\"Чайники\"}\n");

	it.u.group.parent_id = "g0";
	it.u.group.depth = 2;
	it.u.group.deleted = true;
	it.u.group.version = "AAA";
	CHECK_DUMP(&it, "{\"kind\":\"group\",\"id\":\"g1\",\"parent_id\":\"g0\","
	                "\"name\":\"Чайники\",\"version\":\"AAA\",\"deleted\":true,"
	                "\"depth\":2}\n");
}

static void
test_product(void)
{
	const char *groups[] = { "a9e0", "b0" };
	cml_prop_value props[] = { { "p1", "Красный" }, { NULL, "x" } };
	cml_tax taxes[] = { { "НДС", "20", NULL, CML_TRUE } };
	cml_pair reqs[] = { { "ВидНоменклатуры", "Товар" } };
	cml_item it = { .kind = CML_ITEM_PRODUCT };
	cml_product *p = &it.u.product;

	p->id = "b1f3c2d4";
	p->name = "Чайник";
	p->unit.code = "796";
	p->unit.name = "шт";
	p->groups = groups;
	p->n_groups = 2;
	p->props = props;
	p->n_props = 2;
	p->taxes = taxes;
	p->n_taxes = 1;
	p->requisites = reqs;
	p->n_requisites = 1;
	p->article = "A-1";
	p->status = CML_STATUS_DELETED;
	p->deleted = true;
	CHECK_DUMP(&it, "{\"kind\":\"product\",\"id\":\"b1f3c2d4\",\"article\":\"A-1\","
	                "\"name\":\"Чайник\",\"unit\":{\"code\":\"796\",\"name\":\"шт\"},"
	                "\"groups\":[\"a9e0\",\"b0\"],"
	                "\"props\":[{\"id\":\"p1\",\"value\":\"Красный\"},{\"value\":\"x\"}],"
	                "\"taxes\":[{\"name\":\"НДС\",\"rate\":\"20\",\"in_sum\":true}],"
	                "\"requisites\":[{\"name\":\"ВидНоменклатуры\",\"value\":\"Товар\"}],"
	                "\"status\":\"deleted\",\"deleted\":true}\n");

	/* Empty arrays and an empty unit are left out. */
	cml_item bare = { .kind = CML_ITEM_PRODUCT };
	bare.u.product.id = "x";
	bare.u.product.groups = groups;
	bare.u.product.status = CML_STATUS_NEW;
	CHECK_DUMP(&bare, "{\"kind\":\"product\",\"id\":\"x\",\"status\":\"new\"}\n");
}

static void
test_offer(void)
{
	cml_price prices[] = {
		{ "retail", "1 490 RUB за шт", "1490", "RUB", "шт", "1" , NULL, CML_UNSET},
		{ "opt", NULL, "1200.5", NULL, NULL, NULL , NULL, CML_UNSET},
	};
	cml_stock stocks[] = { { "w1", "3" }, { "w2", "0" } };
	cml_pair chars[] = { { "Цвет", "Синий" } };
	cml_item it = { .kind = CML_ITEM_OFFER };
	cml_offer *o = &it.u.offer;

	o->id = "b1f3c2d4#77";
	o->product_id = "b1f3c2d4";
	o->char_id = "77";
	o->characteristics = chars;
	o->n_characteristics = 1;
	o->prices = prices;
	o->n_prices = 2;
	o->has_prices = true;
	o->quantity = "5";
	o->stocks = stocks;
	o->n_stocks = 2;
	o->has_stocks = true;
	CHECK_DUMP(&it, "{\"kind\":\"offer\",\"id\":\"b1f3c2d4#77\",\"product_id\":\"b1f3c2d4\","
	                "\"char_id\":\"77\","
	                "\"characteristics\":[{\"name\":\"Цвет\",\"value\":\"Синий\"}],"
	                "\"prices\":[{\"type_id\":\"retail\",\"presentation\":\"1 490 RUB за шт\","
	                "\"value\":\"1490\",\"currency\":\"RUB\",\"unit\":\"шт\",\"coefficient\":\"1\"},"
	                "{\"type_id\":\"opt\",\"value\":\"1200.5\"}],\"has_prices\":true,"
	                "\"quantity\":\"5\","
	                "\"stocks\":[{\"warehouse_id\":\"w1\",\"quantity\":\"3\"},"
	                "{\"warehouse_id\":\"w2\",\"quantity\":\"0\"}],\"has_stocks\":true}\n");

	/* has_prices without any price: the flag alone says "Цены was there". */
	cml_item empty = { .kind = CML_ITEM_OFFER };
	empty.u.offer.id = "p";
	empty.u.offer.product_id = "p";
	empty.u.offer.has_prices = true;
	CHECK_DUMP(&empty, "{\"kind\":\"offer\",\"id\":\"p\",\"product_id\":\"p\","
	                   "\"has_prices\":true}\n");
}

static void
test_counterparty(void)
{
	cml_pair fields[] = { { "Город", "Москва" }, { "Улица", "Тверская" } };
	cml_pair contacts[] = { { "Почта", "a@b.ru" }, { "Телефон", "+7 999" } };
	cml_representative reps[] = { { "Контактное лицо", "r1", "Иван", NULL, 0 } };
	cml_bank_account acc[] = { { "40702810", "Сбербанк", "044525225", NULL, NULL } };
	cml_item it = { .kind = CML_ITEM_COUNTERPARTY };
	cml_counterparty *c = &it.u.counterparty;

	c->id = "c1";
	c->name = "ООО \"Ромашка\"";
	c->inn = "7701234567";
	c->reg_address.presentation = "Москва, Тверская 1";
	c->reg_address.fields = fields;
	c->reg_address.n_fields = 2;
	c->legal_address.fields = fields; /* n_fields 0: omitted */
	c->contacts = contacts;
	c->n_contacts = 2;
	c->representatives = reps;
	c->n_representatives = 1;
	c->accounts = acc;
	c->n_accounts = 1;
	c->only_changes = CML_FALSE;
	CHECK_DUMP(&it, "{\"kind\":\"counterparty\",\"id\":\"c1\","
	                "\"name\":\"ООО \\\"Ромашка\\\"\",\"inn\":\"7701234567\","
	                "\"reg_address\":{\"presentation\":\"Москва, Тверская 1\","
	                "\"fields\":[{\"name\":\"Город\",\"value\":\"Москва\"},"
	                "{\"name\":\"Улица\",\"value\":\"Тверская\"}]},"
	                "\"contacts\":[{\"name\":\"Почта\",\"value\":\"a@b.ru\"},"
	                "{\"name\":\"Телефон\",\"value\":\"+7 999\"}],"
	                "\"representatives\":[{\"relation\":\"Контактное лицо\",\"id\":\"r1\","
	                "\"name\":\"Иван\"}],"
	                "\"accounts\":[{\"number\":\"40702810\",\"bank_name\":\"Сбербанк\","
	                "\"bank_bik\":\"044525225\"}],\"only_changes\":false}\n");
}

static void
test_document(void)
{
	cml_counterparty cps[2] = { { 0 } };
	cml_doc_line lines[2] = { { 0 } };
	cml_discount disc[] = { { "Скидка", "10", "5", CML_FALSE } };
	cml_tax taxes[] = { { "НДС", NULL, "33.33", CML_TRUE } };
	cml_pair reqs[] = { { "Статус заказа", "[N] Принят" } };
	cml_payment pays[] = { { "1", "t-9", "2024-01-02", "100", "card", NULL } };
	cml_item it = { .kind = CML_ITEM_DOCUMENT };
	cml_document *d = &it.u.document;

	cps[0].id = "c1";
	cps[0].name = "Иван";
	cps[0].role = "Покупатель";
	cps[0].only_changes = CML_TRUE;
	cps[1].name = "Магазин";
	cps[1].role = "Продавец";
	lines[0].id = "p1#c";
	lines[0].name = "Чайник";
	lines[0].unit.code = "796";
	lines[0].price = "100";
	lines[0].quantity = "2";
	lines[0].sum = "200";
	lines[0].discounts = disc;
	lines[0].n_discounts = 1;
	lines[1].id = "ORDER_DELIVERY";
	lines[1].taxes = taxes;
	lines[1].n_taxes = 1;
	d->id = "42";
	d->number = "42";
	d->date = "2024-01-02";
	d->operation = "Заказ товара";
	d->currency = "RUB";
	d->sum = "200";
	d->container = 3;
	d->counterparties = cps;
	d->n_counterparties = 2;
	d->lines = lines;
	d->n_lines = 2;
	d->requisites = reqs;
	d->n_requisites = 1;
	d->payments = pays;
	d->n_payments = 1;
	CHECK_DUMP(&it, "{\"kind\":\"document\",\"id\":\"42\",\"number\":\"42\","
	                "\"date\":\"2024-01-02\",\"operation\":\"Заказ товара\","
	                "\"currency\":\"RUB\",\"sum\":\"200\",\"container\":3,"
	                "\"counterparties\":[{\"id\":\"c1\",\"name\":\"Иван\","
	                "\"role\":\"Покупатель\",\"only_changes\":true},"
	                "{\"name\":\"Магазин\",\"role\":\"Продавец\"}],"
	                "\"lines\":[{\"id\":\"p1#c\",\"name\":\"Чайник\",\"unit\":{\"code\":\"796\"},"
	                "\"price\":\"100\",\"quantity\":\"2\",\"sum\":\"200\","
	                "\"discounts\":[{\"name\":\"Скидка\",\"sum\":\"10\",\"percent\":\"5\","
	                "\"in_sum\":false}]},"
	                "{\"id\":\"ORDER_DELIVERY\",\"taxes\":[{\"name\":\"НДС\",\"sum\":\"33.33\","
	                "\"in_sum\":true}]}],"
	                "\"requisites\":[{\"name\":\"Статус заказа\",\"value\":\"[N] Принят\"}],"
	                "\"payments\":[{\"number\":\"1\",\"transaction\":\"t-9\","
	                "\"date\":\"2024-01-02\",\"sum\":\"100\",\"method\":\"card\"}]}\n");
}

static void
test_property(void)
{
	cml_variant vars[] = { { "v1", "Красный" }, { "v2", "Синий" } };
	cml_item it = { .kind = CML_ITEM_PROPERTY };
	cml_property *p = &it.u.property;

	p->id = "p1";
	p->name = "Цвет";
	p->value_type = "Справочник";
	p->required = CML_FALSE;
	p->multiple = CML_TRUE;
	p->for_products = CML_TRUE;
	p->variants = vars;
	p->n_variants = 2;
	CHECK_DUMP(&it, "{\"kind\":\"property\",\"id\":\"p1\",\"name\":\"Цвет\","
	                "\"value_type\":\"Справочник\",\"required\":false,\"multiple\":true,"
	                "\"for_products\":true,"
	                "\"variants\":[{\"id\":\"v1\",\"value\":\"Красный\"},"
	                "{\"id\":\"v2\",\"value\":\"Синий\"}]}\n");
}

static void
test_small_kinds(void)
{
	cml_item it = { .kind = CML_ITEM_FILE };

	it.u.file.schema_version = "2.08";
	it.u.file.generated = "2024-01-02T03:04:05";
	it.u.file.encoding = "UTF-8";
	it.u.file.bom = true;
	CHECK_DUMP(&it, "{\"kind\":\"file\",\"schema_version\":\"2.08\","
	                "\"generated\":\"2024-01-02T03:04:05\",\"encoding\":\"UTF-8\","
	                "\"bom\":true}\n");

	cml_item pt = { .kind = CML_ITEM_PRICE_TYPE };
	pt.u.price_type.id = "retail";
	pt.u.price_type.name = "Розничная";
	pt.u.price_type.currency = "RUB";
	pt.u.price_type.tax_in_sum = CML_FALSE;
	CHECK_DUMP(&pt, "{\"kind\":\"price_type\",\"id\":\"retail\",\"name\":\"Розничная\","
	                "\"currency\":\"RUB\",\"tax_in_sum\":false}\n");

	cml_pair contacts[] = { { "Телефон", "1" } };
	cml_item wh = { .kind = CML_ITEM_WAREHOUSE };
	wh.u.warehouse.id = "w1";
	wh.u.warehouse.contacts = contacts;
	wh.u.warehouse.n_contacts = 1;
	CHECK_DUMP(&wh, "{\"kind\":\"warehouse\",\"id\":\"w1\","
	                "\"contacts\":[{\"name\":\"Телефон\",\"value\":\"1\"}]}\n");

	cml_item cl = { .kind = CML_ITEM_CLASSIFIER };
	cl.u.classifier.id = "k";
	cl.u.classifier.only_changes = CML_TRUE;
	CHECK_DUMP(&cl, "{\"kind\":\"classifier\",\"id\":\"k\",\"only_changes\":true}\n");

	cml_item un = { .kind = CML_ITEM_UNIT };
	un.u.unit.code = "796";
	un.u.unit.short_name = "шт";
	CHECK_DUMP(&un, "{\"kind\":\"unit\",\"code\":\"796\",\"short_name\":\"шт\"}\n");

	cml_item ca = { .kind = CML_ITEM_CATALOG };
	ca.u.catalog.id = "c";
	ca.u.catalog.classifier_id = "k";
	CHECK_DUMP(&ca, "{\"kind\":\"catalog\",\"id\":\"c\",\"classifier_id\":\"k\"}\n");

	cml_item pk = { .kind = CML_ITEM_OFFERS_PACKAGE };
	pk.u.package.id = "o";
	pk.u.package.catalog_id = "c";
	pk.u.package.only_changes = CML_FALSE;
	CHECK_DUMP(&pk, "{\"kind\":\"offers_package\",\"id\":\"o\",\"catalog_id\":\"c\","
	                "\"only_changes\":false}\n");
}

static void
test_escaping(void)
{
	cml_item it = { .kind = CML_ITEM_GROUP };

	it.u.group.id = "q\"b\\s/";
	it.u.group.name = "a\nb\tc\rd\be\ff\001g\037h\177";
	CHECK_DUMP(&it, "{\"kind\":\"group\",\"id\":\"q\\\"b\\\\s/\","
	                "\"name\":\"a\\nb\\tc\\rd\\be\\ff\\u0001g\\u001fh\177\"}\n");

	/* Valid multi-byte UTF-8 stays raw, 2, 3 and 4 bytes long. */
	it.u.group.id = "é€😀";
	it.u.group.name = "";
	CHECK_DUMP(&it, "{\"kind\":\"group\",\"id\":\"é€😀\",\"name\":\"\"}\n");

	/* Bytes that are no UTF-8 become U+FFFD, one per byte. */
	it.u.group.id = "a\xff" "b\xc3";        /* stray byte, truncated sequence */
	it.u.group.name = "\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\x80";
	CHECK_DUMP(&it, "{\"kind\":\"group\",\"id\":\"a\\ufffdb\\ufffd\","
	                "\"name\":\"\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
	                "\\ufffd\\ufffd\\ufffd\\ufffd|\\ufffd\"}\n");
}

static void
test_errors(void)
{
	cml_item it = { .kind = CML_ITEM_GROUP };
	cml_item none = { .kind = CML_ITEM_NONE };
	cml_item bad = { .kind = CML_ITEM_KIND_COUNT };
	FILE *ro;

	it.u.group.id = "g";
	CHECK_INT(cml_item_dump_json(NULL, stdout), CML_ERR_USAGE);
	CHECK_INT(cml_item_dump_json(&none, stdout), CML_ERR_USAGE);
	CHECK_INT(cml_item_dump_json(&bad, stdout), CML_ERR_USAGE);

	/* A stream opened for reading fails every write. */
	ro = fopen("/dev/null", "r");
	CHECK(ro != NULL);
	if (ro != NULL) {
		CHECK_INT(cml_item_dump_json(&it, ro), CML_ERR_IO);
		fclose(ro);
	}
	/* /dev/full fails when the buffer is flushed, so fflush says it. */
	FILE *full = fopen("/dev/full", "w");
	if (full != NULL) {
		setvbuf(full, NULL, _IONBF, 0);
		CHECK_INT(cml_item_dump_json(&it, full), CML_ERR_IO);
		fclose(full);
	}
}

static void
test_alloc_failure(void)
{
	cml_pair fields[] = { { "Город", "Москва" } };
	cml_item it = { .kind = CML_ITEM_COUNTERPARTY };
	char big[2000];
	cml_status st = CML_ERR_NOMEM;
	long n;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	it.u.counterparty.id = "c";
	it.u.counterparty.name = big; /* forces the buffer to grow */
	it.u.counterparty.reg_address.fields = fields;
	it.u.counterparty.reg_address.n_fields = 1;
	for (n = 1; n < 100; n++) {
		FILE *fp = fopen("/dev/null", "w");

		if (fp == NULL)
			break;
		cml_alloc_fail_after(n);
		st = cml_item_dump_json(&it, fp);
		cml_alloc_fail_after(0);
		fclose(fp);
		if (st == CML_OK)
			break;
		CHECK_INT(st, CML_ERR_NOMEM);
	}
	CHECK_INT(st, CML_OK);
	CHECK(n > 1);
}

/* The content hash: the same content from two places hashes the same,
 * any change of content (a name, a new field) hashes otherwise. */
static void
test_content_hash(void)
{
	static cml_variant v[] = { { "v1", "красный" } };
	cml_item a = { .kind = CML_ITEM_PROPERTY }, b;
	uint64_t ha = 0, hb = 0;

	a.origin.file = "import.xml";
	a.origin.line = 10;
	a.u.property.id = "color";
	a.u.property.name = "Цвет";
	a.u.property.variants = v;
	a.u.property.n_variants = 1;
	b = a;
	b.origin.file = "offers.xml";
	b.origin.line = 99;
	CHECK_INT(cml_item_content_hash(&a, &ha), CML_OK);
	CHECK_INT(cml_item_content_hash(&b, &hb), CML_OK);
	CHECK(ha == hb && ha != 0);
	b.u.property.name = "Цвет товара";
	CHECK_INT(cml_item_content_hash(&b, &hb), CML_OK);
	CHECK(ha != hb);
	b = a;
	b.u.property.n_variants = 0;
	CHECK_INT(cml_item_content_hash(&b, &hb), CML_OK);
	CHECK(ha != hb);
	b = a;
	b.kind = CML_ITEM_NONE;
	CHECK_INT(cml_item_content_hash(&b, &hb), CML_ERR_USAGE);
}

int
main(void)
{
	RUN(test_group);
	RUN(test_product);
	RUN(test_offer);
	RUN(test_counterparty);
	RUN(test_document);
	RUN(test_property);
	RUN(test_small_kinds);
	RUN(test_escaping);
	RUN(test_errors);
	RUN(test_alloc_failure);
	RUN(test_content_hash);
	return harness_done();
}
