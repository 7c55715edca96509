/*
 * test_writer.c: the package writer. Each test writes a small package
 * into a fresh directory, parses the files back with libxml2 and checks
 * the elements that matter, then removes the directory.
 */
#define _GNU_SOURCE /* memmem, open_memstream */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "cml/cml.h"
#include "cml/dump.h"
#include "cml/reader.h"
#include "cml/writer.h"
#include "harness.h"

#define NS2 "urn:1C.ru:commerceml_2"
#define NS3 "urn:1C.ru:commerceml_3"

/* ---- fixtures ---- */

static cml_variant variants[] = {
	{ .id = "v1", .value = "Красный" },
	{ .id = "v2", .value = "Синий" },
};

static cml_pair contacts[] = {
	{ .name = "Телефон рабочий", .value = "+7 495 000-00-00" },
};

static const char *prod1_groups[] = { "g3" };
static const char *prod1_pictures[] = { "import_files/a.jpg", "import_files/b.jpg" };
static cml_prop_value prod1_props[] = {
	{ .id = "p1", .value = "v1" },
	{ .id = "p1", .value = "v2" },
	{ .id = NULL, .value = "без Ид" },
};
static cml_tax prod1_taxes[] = { { .name = "НДС", .rate = "20" } };
static cml_pair prod1_reqs[] = {
	{ .name = "ВидНоменклатуры", .value = "Товар" },
	{ .name = "Вес", .value = "1.5" },
};
static cml_pair prod1_chars[] = { { .name = "Цвет", .value = "Красный" } };

static cml_price offer1_prices[] = {
	{ .type_id = "pt1", .presentation = "100 руб. за шт", .value = "100",
	  .currency = "RUB", .unit = "шт", .coefficient = "1" },
	{ .type_id = "pt2", .value = "90.5", .currency = "RUB" },
};
static cml_stock offer1_stocks[] = {
	{ .warehouse_id = "w1", .quantity = "2" },
	{ .warehouse_id = "w2", .quantity = "3" },
};
static cml_pair offer2_chars[] = { { .name = "Размер", .value = "XL" } };
static cml_price offer2_prices[] = {
	{ .type_id = "pt1", .value = "110", .currency = "RUB" },
};

/* The name of product 1: "€" is in windows-1251, "中" and "ℵ" are not. */
#define PROD1_NAME "Чайник <стальной> & \"большой\" € 中ℵ"

static cml_item
mk(cml_kind kind)
{
	cml_item it;

	memset(&it, 0, sizeof(it));
	it.kind = kind;
	return it;
}

/* Adds the catalog package: headers, groups (a child before its parent),
 * a property with variants, 2 price types, 2 warehouses, a unit, four
 * products and four offers (one product#char); a product and an offer
 * are deleted with the status Удален, another of each by ПометкаУдаления
 * alone. */
static cml_status
add_catalog(cml_writer *w)
{
	cml_status st;
	cml_item it;

#define ADD() do { if ((st = cml_writer_add(w, &it)) != CML_OK) return st; } while (0)
	it = mk(CML_ITEM_FILE);
	it.u.file.schema_version = "2.05";
	ADD();
	it = mk(CML_ITEM_CLASSIFIER);
	it.u.classifier.id = "cls1";
	it.u.classifier.name = "Классификатор (Основной)";
	it.u.classifier.owner_id = "own1";
	it.u.classifier.owner_name = "ООО Ромашка";
	ADD();
	it = mk(CML_ITEM_GROUP);
	it.u.group.id = "g3";
	it.u.group.parent_id = "g2";
	it.u.group.name = "Чайники";
	it.u.group.depth = 2;
	ADD();
	it = mk(CML_ITEM_GROUP);
	it.u.group.id = "g1";
	it.u.group.name = "Бытовая техника";
	it.u.group.version = "AAA=";
	ADD();
	it = mk(CML_ITEM_GROUP);
	it.u.group.id = "g2";
	it.u.group.parent_id = "g1";
	it.u.group.name = "Кухня";
	it.u.group.description = "Для кухни";
	it.u.group.depth = 1;
	ADD();
	it = mk(CML_ITEM_GROUP);
	it.u.group.id = "g4";
	it.u.group.name = "Удаленная";
	it.u.group.deleted = true;
	ADD();
	it = mk(CML_ITEM_PROPERTY);
	it.u.property.id = "p1";
	it.u.property.name = "Цвет";
	it.u.property.value_type = "Справочник";
	it.u.property.for_products = CML_TRUE;
	it.u.property.multiple = CML_FALSE;
	it.u.property.variants = variants;
	it.u.property.n_variants = 2;
	ADD();
	it = mk(CML_ITEM_PRICE_TYPE);
	it.u.price_type.id = "pt1";
	it.u.price_type.name = "Розничная";
	it.u.price_type.currency = "RUB";
	it.u.price_type.tax_name = "НДС";
	it.u.price_type.tax_in_sum = CML_TRUE;
	ADD();
	it = mk(CML_ITEM_PRICE_TYPE);
	it.u.price_type.id = "pt2";
	it.u.price_type.name = "Оптовая";
	it.u.price_type.currency = "RUB";
	ADD();
	it = mk(CML_ITEM_WAREHOUSE);
	it.u.warehouse.id = "w1";
	it.u.warehouse.name = "Основной склад";
	it.u.warehouse.address = "Москва, ул. Ленина, 1";
	it.u.warehouse.contacts = contacts;
	it.u.warehouse.n_contacts = 1;
	ADD();
	it = mk(CML_ITEM_WAREHOUSE);
	it.u.warehouse.id = "w2";
	it.u.warehouse.name = "Склад 2";
	ADD();
	it = mk(CML_ITEM_UNIT);
	it.u.unit.id = "796";
	it.u.unit.code = "796";
	it.u.unit.short_name = "шт";
	it.u.unit.full_name = "Штука";
	it.u.unit.intl = "PCE";
	ADD();
	it = mk(CML_ITEM_CATALOG);
	it.u.catalog.id = "cat1";
	it.u.catalog.classifier_id = "cls1";
	it.u.catalog.name = "Основной каталог";
	ADD();
	it = mk(CML_ITEM_PRODUCT);
	it.u.product.id = "prod1";
	it.u.product.article = "ART-1";
	it.u.product.barcode = "4600000000001";
	it.u.product.name = PROD1_NAME;
	it.u.product.full_name = "Чайник стальной полный";
	it.u.product.description = "Строка 1\nСтрока 2";
	it.u.product.unit = (cml_unit_ref){ .code = "796", .name = "шт",
	    .full_name = "Штука", .intl = "PCE" };
	it.u.product.groups = prod1_groups;
	it.u.product.n_groups = 1;
	it.u.product.pictures = prod1_pictures;
	it.u.product.n_pictures = 2;
	it.u.product.manufacturer_id = "m1";
	it.u.product.manufacturer_name = "Завод";
	it.u.product.country = "РОССИЯ";
	it.u.product.props = prod1_props;
	it.u.product.n_props = 3;
	it.u.product.taxes = prod1_taxes;
	it.u.product.n_taxes = 1;
	it.u.product.requisites = prod1_reqs;
	it.u.product.n_requisites = 2;
	it.u.product.characteristics = prod1_chars;
	it.u.product.n_characteristics = 1;
	ADD();
	it = mk(CML_ITEM_PRODUCT);
	it.u.product.id = "prod2";
	it.u.product.name = "Старый товар";
	it.u.product.status = CML_STATUS_DELETED;
	it.u.product.deleted = true;
	ADD();
	it = mk(CML_ITEM_PRODUCT);
	it.u.product.id = "prod3";
	it.u.product.name = "Новый товар";
	it.u.product.status = CML_STATUS_NEW;
	ADD();
	it = mk(CML_ITEM_PRODUCT);
	it.u.product.id = "prod4"; /* deleted by ПометкаУдаления, no status */
	it.u.product.deleted = true;
	ADD();
	it = mk(CML_ITEM_OFFERS_PACKAGE);
	it.u.package.id = "cat1#";
	it.u.package.name = "Пакет предложений";
	it.u.package.catalog_id = "cat1";
	it.u.package.classifier_id = "cls1";
	ADD();
	it = mk(CML_ITEM_OFFER);
	it.u.offer.id = "prod1";
	it.u.offer.product_id = "prod1";
	it.u.offer.name = "Чайник";
	it.u.offer.unit = (cml_unit_ref){ .code = "796", .name = "шт" };
	it.u.offer.prices = offer1_prices;
	it.u.offer.n_prices = 2;
	it.u.offer.has_prices = true;
	it.u.offer.quantity = "5";
	it.u.offer.stocks = offer1_stocks;
	it.u.offer.n_stocks = 2;
	it.u.offer.has_stocks = true;
	ADD();
	it = mk(CML_ITEM_OFFER);
	it.u.offer.id = NULL; /* made of product_id#char_id */
	it.u.offer.product_id = "prod1";
	it.u.offer.char_id = "c1";
	it.u.offer.name = "Чайник (XL)";
	it.u.offer.characteristics = offer2_chars;
	it.u.offer.n_characteristics = 1;
	it.u.offer.prices = offer2_prices;
	it.u.offer.n_prices = 1;
	it.u.offer.has_prices = true;
	ADD();
	it = mk(CML_ITEM_OFFER);
	it.u.offer.id = "prod2";
	it.u.offer.product_id = "prod2";
	it.u.offer.name = "Старый товар";
	it.u.offer.deleted = true;
	it.u.offer.status = CML_STATUS_DELETED;
	ADD();
	it = mk(CML_ITEM_OFFER);
	it.u.offer.id = "prod4";
	it.u.offer.deleted = true;
	ADD();
#undef ADD
	return CML_OK;
}

static cml_pair cp_fields[] = {
	{ .name = "Почтовый индекс", .value = "101000" },
	{ .name = "Город", .value = "Москва" },
};
static cml_pair cp_contacts[] = {
	{ .name = "Электронная почта", .value = "ivan@example.com" },
};
static cml_pair cp_rep_contacts[] = {
	{ .name = "Почта", .value = "petrov@example.com" },
	{ .name = "Телефон", .value = "+7 912 345-67-89" },
};
/* the first with its own contacts, written inside its Представитель */
static cml_representative cp_reps[] = {
	{ .relation = "Контактное лицо", .id = "r1", .name = "Петров",
	  .contacts = cp_rep_contacts, .n_contacts = 2 },
	{ .relation = "Контактное лицо", .id = "r2", .name = "Сидоров" },
};
static cml_bank_account cp_accounts[] = {
	{ .number = "40702810000000000001", .bank_name = "Банк",
	  .bank_bik = "044525000", .bank_corr_account = "30101810000000000000",
	  .bank_address = "Москва" },
};
/* As a reader gives Bitrix's line taxes: Налоги and СтавкиНалогов apart. */
static cml_tax line_taxes[] = {
	{ .name = "НДС", .rate = "20", .sum = "33.33", .in_sum = CML_TRUE },
};
static cml_tax line_tax_rates[] = {
	{ .name = "НДС", .rate = "18" },
};
static cml_discount line_discounts[] = {
	{ .name = "Скидка", .sum = "10", .in_sum = CML_TRUE },
};
static cml_pair line_reqs[] = {
	{ .name = "ВидНоменклатуры", .value = "Товар" },
};
static cml_tax doc_taxes[] = {
	{ .name = "НДС", .sum = "33.33", .in_sum = CML_TRUE },
};
static cml_payment doc_payments[] = {
	{ .number = "p-1", .date = "2024-01-02", .sum = "200", .method = "Карта",
	  .method_id = "3" },
};
static cml_pair doc_reqs[] = {
	{ .name = "Заказ оплачен", .value = "true" },
	{ .name = "Статуса заказа ИД", .value = "N" },
};

static void
fill_counterparty(cml_counterparty *c)
{
	memset(c, 0, sizeof(*c));
	c->id = "cp1";
	c->name = "Иванов Иван";
	c->full_name = "Иванов Иван Иванович";
	c->last_name = "Иванов";
	c->first_name = "Иван";
	c->middle_name = "Иванович";
	c->role = "Покупатель";
	c->inn = "7700000000";
	c->kpp = "770001001";
	c->reg_address = (cml_address){ .presentation = "101000, Москва",
	    .fields = cp_fields, .n_fields = 2 };
	c->contacts = cp_contacts;
	c->n_contacts = 1;
	c->representatives = cp_reps;
	c->n_representatives = 2;
	c->accounts = cp_accounts;
	c->n_accounts = 1;
}

typedef cml_status (*adder)(void *ctx, const cml_item *it);

/* Three orders (containers 1, 1, 2; the second deleted), then a
 * counterparty package entry, each handed to add. */
static cml_status
add_documents_to(adder add, void *ctx)
{
	static cml_counterparty cps[1];
	static cml_doc_line lines[2];
	cml_item it;
	cml_status st;

	fill_counterparty(&cps[0]);
	memset(lines, 0, sizeof(lines));
	lines[0].id = "prod1";
	lines[0].catalog_id = "cat1";
	lines[0].name = "Чайник";
	lines[0].unit = (cml_unit_ref){ .code = "796", .name = "шт",
	    .full_name = "Штука", .intl = "PCE" };
	lines[0].price = "100";
	lines[0].quantity = "2";
	lines[0].sum = "200";
	lines[0].taxes = line_taxes;
	lines[0].n_taxes = 1;
	lines[0].tax_rates = line_tax_rates;
	lines[0].n_tax_rates = 1;
	lines[0].discounts = line_discounts;
	lines[0].n_discounts = 1;
	lines[0].requisites = line_reqs;
	lines[0].n_requisites = 1;
	lines[1].id = "ORDER_DELIVERY";
	lines[1].name = "Доставка заказа";
	lines[1].price = "0";

	for (unsigned i = 1; i <= 3; i++) {
		char id[16], num[16];

		snprintf(id, sizeof(id), "doc%u", i);
		snprintf(num, sizeof(num), "%u", 100 + i);
		it = mk(CML_ITEM_DOCUMENT);
		it.u.document.id = id;
		it.u.document.number = num;
		it.u.document.date = "2024-01-02";
		it.u.document.time = "10:11:12";
		it.u.document.operation = "Заказ товара";
		it.u.document.role = "Продавец";
		it.u.document.currency = "RUB";
		it.u.document.rate = "1";
		it.u.document.sum = "200";
		it.u.document.comment = "Позвонить";
		it.u.document.container = i < 3 ? 1 : 2;
		it.u.document.counterparties = cps;
		it.u.document.n_counterparties = 1;
		it.u.document.lines = lines;
		it.u.document.n_lines = 2;
		it.u.document.taxes = doc_taxes;
		it.u.document.n_taxes = 1;
		it.u.document.requisites = doc_reqs;
		it.u.document.n_requisites = 2;
		it.u.document.payments = doc_payments;
		it.u.document.n_payments = 1;
		it.u.document.deleted = i == 2;
		if ((st = add(ctx, &it)) != CML_OK)
			return st;
	}
	it = mk(CML_ITEM_COUNTERPARTY);
	fill_counterparty(&it.u.counterparty);
	it.u.counterparty.only_changes = CML_TRUE;
	it.u.counterparty.version = "AAB=";
	return add(ctx, &it);
}

static cml_status
package_add(void *ctx, const cml_item *it)
{
	return cml_writer_add(ctx, it);
}

static cml_status
add_documents(cml_writer *w)
{
	return add_documents_to(package_add, w);
}

/* ---- files and XPath ---- */

static char *
make_dir(void)
{
	static char tmpl[256];
	const char *t = getenv("TMPDIR");

	snprintf(tmpl, sizeof(tmpl), "%s/cmlkit-writer-XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	return mkdtemp(tmpl);
}

/* Number of entries in dir; with list, their names joined by spaces. */
static int
count_files(const char *dir, char *list, size_t cap)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (list != NULL)
		list[0] = '\0';
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		n++;
		if (list != NULL) {
			size_t l = strlen(list);
			snprintf(list + l, cap - l, "%s%s", l ? " " : "", de->d_name);
		}
	}
	closedir(d);
	return n;
}

static void
remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[1024];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static char *
slurp(const char *dir, const char *name, size_t *lenp)
{
	char path[1024];
	FILE *fp;
	char *buf = NULL;
	long n;

	*lenp = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
		*lenp = fread(buf, 1, (size_t)n, fp);
		buf[*lenp] = '\0';
	}
	fclose(fp);
	return buf;
}

static xmlDocPtr
load(const char *dir, const char *name)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return xmlReadFile(path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
	    XML_PARSE_NOWARNING);
}

static xmlXPathObjectPtr
xeval(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr o;
	xmlNodePtr root;

	if (doc == NULL || (root = xmlDocGetRootElement(doc)) == NULL)
		return NULL;
	if ((ctx = xmlXPathNewContext(doc)) == NULL)
		return NULL;
	xmlXPathRegisterNs(ctx, (const xmlChar *)"c",
	    root->ns != NULL ? root->ns->href : (const xmlChar *)"");
	o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
	xmlXPathFreeContext(ctx);
	return o;
}

/* The string value of expr ("" when nothing matches). */
static const char *
xs(xmlDocPtr doc, const char *expr)
{
	static char buf[4096];
	xmlXPathObjectPtr o = xeval(doc, expr);
	xmlChar *s;

	buf[0] = '\0';
	if (o == NULL)
		return "(bad xpath or no document)";
	if ((s = xmlXPathCastToString(o)) != NULL) {
		snprintf(buf, sizeof(buf), "%s", (const char *)s);
		xmlFree(s);
	}
	xmlXPathFreeObject(o);
	return buf;
}

static int
xcount(xmlDocPtr doc, const char *expr)
{
	char e[1024];
	xmlXPathObjectPtr o;
	int n;

	snprintf(e, sizeof(e), "count(%s)", expr);
	if ((o = xeval(doc, e)) == NULL)
		return -1;
	n = (int)xmlXPathCastToNumber(o);
	xmlXPathFreeObject(o);
	return n;
}

static void
check_files(const cml_writer *w, const char *const *want)
{
	const char *const *got = cml_writer_files(w);
	size_t i;

	for (i = 0; want[i] != NULL; i++)
		CHECK_STR(got[i], want[i]);
	if (got[i] != NULL)
		fprintf(stderr, "  one more file: %s\n", got[i]);
	CHECK(got[i] == NULL);
}

#define R "/c:КоммерческаяИнформация"
#define CLS R "/c:Классификатор"
#define CAT R "/c:Каталог"
#define PKG R "/c:ПакетПредложений"
#define GOOD(id) CAT "/c:Товары/c:Товар[c:Ид='" id "']"
#define OFFER(id) PKG "/c:Предложения/c:Предложение[c:Ид='" id "']"

/* ---- tests ---- */

/* The default: 2.05, single layout, UTF-8 without BOM. */
static void
test_default(void)
{
	char *dir = make_dir();
	cml_writer_opts o = { .generated = "2024-01-02T03:04:05" };
	cml_writer *w;
	xmlDocPtr d;
	size_t len;
	char *raw, list[512];

	CHECK(dir != NULL);
	if (dir == NULL)
		return;
	w = cml_writer_new(dir, &o);
	CHECK(w != NULL);
	if (w == NULL)
		return;
	CHECK_INT(add_catalog(w), CML_OK);
	/* Nothing under a final name before finish. */
	CHECK(access(dir, F_OK) == 0);
	CHECK_INT(count_files(dir, list, sizeof(list)) > 0, 1);
	CHECK(strstr(list, " import.xml") == NULL && strncmp(list, "import.xml", 10) != 0);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	check_files(w, (const char *const[]){ "import.xml", "offers.xml", NULL });
	CHECK_INT(count_files(dir, list, sizeof(list)), 2);
	CHECK_INT(cml_writer_finish(w), CML_ERR_STATE);
	CHECK_INT(cml_writer_add(w, &(cml_item){ .kind = CML_ITEM_UNIT }), CML_ERR_STATE);
	cml_writer_free(w);

	raw = slurp(dir, "import.xml", &len);
	CHECK(raw != NULL && strncmp(raw, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 39) == 0);
	CHECK(raw != NULL && strstr(raw, "ВерсияСхемы=\"2.05\" ДатаФормирования=\"2024-01-02T03:04:05\"") != NULL);
	CHECK(raw != NULL && strstr(raw, "中ℵ") != NULL);
	free(raw);

	d = load(dir, "import.xml");
	CHECK(d != NULL);
	CHECK_STR(xs(d, "namespace-uri(/*)"), NS2);
	CHECK_STR(xs(d, R "/@ВерсияСхемы"), "2.05");
	CHECK_STR(xs(d, CLS "/@СодержитТолькоИзменения"), "false");
	CHECK_STR(xs(d, CAT "/@СодержитТолькоИзменения"), "false");
	CHECK_STR(xs(d, CLS "/c:Ид"), "cls1");
	CHECK_STR(xs(d, CLS "/c:Владелец/c:Наименование"), "ООО Ромашка");
	/* The tree: g1 > g2 > g3, and g4 at the top. */
	CHECK_INT(xcount(d, CLS "/c:Группы/c:Группа"), 2);
	CHECK_STR(xs(d, CLS "/c:Группы/c:Группа[1]/c:Ид"), "g1");
	CHECK_STR(xs(d, CLS "/c:Группы/c:Группа[1]/c:НомерВерсии"), "AAA=");
	CHECK_STR(xs(d, CLS "/c:Группы/c:Группа[c:Ид='g1']/c:Группы/c:Группа/c:Описание"), "Для кухни");
	CHECK_STR(xs(d, CLS "/c:Группы/c:Группа/c:Группы/c:Группа/c:Группы/c:Группа/c:Наименование"), "Чайники");
	CHECK_STR(xs(d, CLS "/c:Группы/c:Группа[c:Ид='g4']/c:ПометкаУдаления"), "true");
	/* g4, and prod4 deleted without a status. */
	CHECK_INT(xcount(d, "//c:ПометкаУдаления"), 2);
	/* Property with variants. */
	CHECK_STR(xs(d, CLS "/c:Свойства/c:Свойство/c:ТипЗначений"), "Справочник");
	CHECK_STR(xs(d, CLS "/c:Свойства/c:Свойство/c:ДляТоваров"), "true");
	CHECK_STR(xs(d, CLS "/c:Свойства/c:Свойство/c:Множественное"), "false");
	CHECK_INT(xcount(d, CLS "/c:Свойства/c:Свойство/c:Обязательное"), 0);
	CHECK_STR(xs(d, CLS "/c:Свойства/c:Свойство/c:ВариантыЗначений/c:Справочник[c:ИдЗначения='v2']/c:Значение"), "Синий");
	/* 2.05: price types and warehouses go to the offers package. */
	CHECK_INT(xcount(d, CLS "/c:ТипыЦен"), 0);
	CHECK_INT(xcount(d, CLS "/c:Склады"), 0);
	CHECK_STR(xs(d, CLS "/c:ЕдиницыИзмерения/c:ЕдиницаИзмерения/c:НаименованиеКраткое"), "шт");
	/* Catalog and products. */
	CHECK_STR(xs(d, CAT "/c:ИдКлассификатора"), "cls1");
	CHECK_INT(xcount(d, CAT "/c:Товары/c:Товар"), 4);
	CHECK_STR(xs(d, GOOD("prod1") "/c:Наименование"), PROD1_NAME);
	CHECK_STR(xs(d, GOOD("prod1") "/c:Описание"), "Строка 1\nСтрока 2");
	CHECK_STR(xs(d, GOOD("prod1") "/c:ПолноеНаименование"), "Чайник стальной полный");
	CHECK_STR(xs(d, GOOD("prod1") "/c:БазоваяЕдиница"), "шт");
	CHECK_STR(xs(d, GOOD("prod1") "/c:БазоваяЕдиница/@Код"), "796");
	CHECK_STR(xs(d, GOOD("prod1") "/c:БазоваяЕдиница/@МеждународноеСокращение"), "PCE");
	CHECK_STR(xs(d, GOOD("prod1") "/c:Группы/c:Ид"), "g3");
	CHECK_INT(xcount(d, GOOD("prod1") "/c:Картинка"), 2);
	CHECK_STR(xs(d, GOOD("prod1") "/c:Изготовитель/c:Наименование"), "Завод");
	CHECK_INT(xcount(d, GOOD("prod1") "/c:ЗначенияСвойств/c:ЗначенияСвойства[c:Ид='p1']"), 2);
	CHECK_STR(xs(d, GOOD("prod1") "/c:ЗначенияСвойств/c:ЗначенияСвойства[3]/c:Значение"), "без Ид");
	CHECK_INT(xcount(d, GOOD("prod1") "/c:ЗначенияСвойств/c:ЗначенияСвойства[3]/c:Ид"), 0);
	CHECK_STR(xs(d, GOOD("prod1") "/c:СтавкиНалогов/c:СтавкаНалога/c:Ставка"), "20");
	CHECK_STR(xs(d, GOOD("prod1") "/c:ЗначенияРеквизитов/c:ЗначениеРеквизита[c:Наименование='Вес']/c:Значение"), "1.5");
	CHECK_STR(xs(d, GOOD("prod1") "/c:ХарактеристикиТовара/c:ХарактеристикаТовара/c:Значение"), "Красный");
	CHECK_INT(xcount(d, GOOD("prod1") "/@Статус"), 0);
	CHECK_STR(xs(d, GOOD("prod2") "/@Статус"), "Удален");
	CHECK_INT(xcount(d, GOOD("prod2") "/c:ПометкаУдаления"), 0);
	CHECK_STR(xs(d, GOOD("prod3") "/@Статус"), "Новый");
	CHECK_INT(xcount(d, GOOD("prod4") "/@Статус"), 0);
	CHECK_STR(xs(d, GOOD("prod4") "/c:ПометкаУдаления"), "true");
	xmlFreeDoc(d);

	d = load(dir, "offers.xml");
	CHECK(d != NULL);
	CHECK_STR(xs(d, PKG "/@СодержитТолькоИзменения"), "false");
	CHECK_STR(xs(d, PKG "/c:Ид"), "cat1#");
	CHECK_STR(xs(d, PKG "/c:ИдКаталога"), "cat1");
	CHECK_INT(xcount(d, PKG "/c:ТипыЦен/c:ТипЦены"), 2);
	CHECK_STR(xs(d, PKG "/c:ТипыЦен/c:ТипЦены[c:Ид='pt1']/c:Налог/c:УчтеноВСумме"), "true");
	CHECK_INT(xcount(d, PKG "/c:Склады/c:Склад"), 2);
	CHECK_STR(xs(d, PKG "/c:Склады/c:Склад[c:Ид='w1']/c:Адрес/c:Представление"), "Москва, ул. Ленина, 1");
	CHECK_STR(xs(d, PKG "/c:Склады/c:Склад[c:Ид='w1']/c:Контакты/c:Контакт/c:Тип"), "Телефон рабочий");
	CHECK_INT(xcount(d, PKG "/c:Предложения/c:Предложение"), 4);
	CHECK_STR(xs(d, OFFER("prod1") "/c:Цены/c:Цена[c:ИдТипаЦены='pt2']/c:ЦенаЗаЕдиницу"), "90.5");
	CHECK_STR(xs(d, OFFER("prod1") "/c:Цены/c:Цена[1]/c:Представление"), "100 руб. за шт");
	CHECK_STR(xs(d, OFFER("prod1") "/c:Количество"), "5");
	CHECK_STR(xs(d, OFFER("prod1") "/c:Склад[@ИдСклада='w2']/@КоличествоНаСкладе"), "3");
	CHECK_STR(xs(d, OFFER("prod1#c1") "/c:ХарактеристикиТовара/c:ХарактеристикаТовара/c:Значение"), "XL");
	CHECK_INT(xcount(d, OFFER("prod1#c1") "/c:Количество"), 0);
	CHECK_STR(xs(d, OFFER("prod2") "/c:Статус"), "Удален");
	CHECK_INT(xcount(d, OFFER("prod2") "/c:Цены"), 0);
	CHECK_INT(xcount(d, OFFER("prod2") "/c:ПометкаУдаления"), 0);
	CHECK_INT(xcount(d, OFFER("prod4") "/c:Статус"), 0);
	CHECK_STR(xs(d, OFFER("prod4") "/c:ПометкаУдаления"), "true");
	xmlFreeDoc(d);
	remove_dir(dir);
}

/* windows-1251: the declaration matches the bytes, no BOM, characters
 * outside the code page as character references. */
static void
test_cp1251(void)
{
	char *dir = make_dir();
	cml_writer_opts o = { .encoding = CML_ENC_WINDOWS_1251,
	    .only_changes = CML_TRUE };
	cml_writer *w;
	xmlDocPtr d;
	size_t len;
	char *raw;

	if (dir == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
		CHECK(!"setup");
		return;
	}
	CHECK_INT(add_catalog(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	cml_writer_free(w);

	raw = slurp(dir, "import.xml", &len);
	CHECK(raw != NULL);
	if (raw != NULL) {
		CHECK(strncmp(raw, "<?xml version=\"1.0\" encoding=\"windows-1251\"?>\n", 46) == 0);
		/* "Чайник" in windows-1251, "€" is 0x88 there. */
		CHECK(strstr(raw, "\xD7\xE0\xE9\xED\xE8\xEA") != NULL);
		CHECK(strstr(raw, "\x88 &#20013;&#8501;") != NULL);
		CHECK(strstr(raw, "\xD0\x9A") == NULL); /* no UTF-8 "К" */
		/* The root in the code page too. */
		CHECK(strstr(raw, "<\xCA\xEE\xEC\xEC\xE5\xF0\xF7\xE5\xF1\xEA\xE0\xFF") != NULL);
	}
	free(raw);
	d = load(dir, "import.xml");
	CHECK(d != NULL);
	CHECK_STR(xs(d, GOOD("prod1") "/c:Наименование"), PROD1_NAME);
	CHECK_STR(xs(d, CAT "/@СодержитТолькоИзменения"), "true");
	CHECK_STR(xs(d, CLS "/@СодержитТолькоИзменения"), "true");
	CHECK_STR(xs(d, GOOD("prod2") "/@Статус"), "Удален");
	xmlFreeDoc(d);
	d = load(dir, "offers.xml");
	CHECK_STR(xs(d, PKG "/@СодержитТолькоИзменения"), "true");
	CHECK_STR(xs(d, OFFER("prod1") "/c:Цены/c:Цена[1]/c:Представление"), "100 руб. за шт");
	xmlFreeDoc(d);
	remove_dir(dir);
}

static void
test_bom_indent(void)
{
	char *dir = make_dir();
	cml_writer_opts o = { .bom = true, .indent = true, .schema = "2.07" };
	cml_writer *w;
	xmlDocPtr d;
	size_t len;
	char *raw;

	if (dir == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
		CHECK(!"setup");
		return;
	}
	CHECK_INT(add_catalog(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	cml_writer_free(w);
	raw = slurp(dir, "offers.xml", &len);
	CHECK(raw != NULL && strncmp(raw, "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 42) == 0);
	CHECK(raw != NULL && strstr(raw, "\n\t\t\t<Предложение>\n\t\t\t\t<Ид>prod1</Ид>\n") != NULL);
	CHECK(raw != NULL && strstr(raw, "\t\t</Предложения>\n\t</ПакетПредложений>\n</КоммерческаяИнформация>\n") != NULL);
	free(raw);
	raw = slurp(dir, "import.xml", &len);
	CHECK(raw != NULL && strstr(raw, "\n\t\t\t<Группа>\n\t\t\t\t<Ид>g1</Ид>\n") != NULL);
	CHECK(raw != NULL && strstr(raw, "\n\t\t\t\t\t<Группа>\n\t\t\t\t\t\t<Ид>g2</Ид>\n") != NULL);
	free(raw);
	d = load(dir, "import.xml");
	CHECK_STR(xs(d, R "/@ВерсияСхемы"), "2.07");
	CHECK_STR(xs(d, GOOD("prod1") "/c:Описание"), "Строка 1\nСтрока 2");
	CHECK_STR(xs(d, GOOD("prod1") "/c:Наименование"), PROD1_NAME);
	xmlFreeDoc(d);
	remove_dir(dir);
}

/* УТ 11 split files, 2.08: price types still in the offers package. */
static void
test_split(void)
{
	char *dir = make_dir();
	cml_writer_opts o = { .schema = "2.08", .layout = CML_LAYOUT_SPLIT };
	cml_writer *w;
	xmlDocPtr d;

	if (dir == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
		CHECK(!"setup");
		return;
	}
	CHECK_INT(add_catalog(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	check_files(w, (const char *const[]){ "import___classifier.xml",
	    "import___goods.xml", "offers___offers.xml", "prices___prices.xml",
	    "rests___rests.xml", NULL });
	cml_writer_free(w);
	CHECK_INT(count_files(dir, NULL, 0), 5);

	d = load(dir, "import___classifier.xml");
	CHECK_INT(xcount(d, CLS "/c:Группы/c:Группа"), 2);
	CHECK_STR(xs(d, CAT "/c:Ид"), "cat1");
	CHECK_INT(xcount(d, CAT "/c:Товары"), 0);
	xmlFreeDoc(d);
	d = load(dir, "import___goods.xml");
	CHECK_INT(xcount(d, CLS), 0);
	CHECK_INT(xcount(d, CAT "/c:Товары/c:Товар"), 4);
	xmlFreeDoc(d);
	d = load(dir, "offers___offers.xml");
	CHECK_INT(xcount(d, PKG "/c:ТипыЦен/c:ТипЦены"), 2);
	CHECK_INT(xcount(d, PKG "/c:Предложения/c:Предложение"), 4);
	CHECK_INT(xcount(d, "//c:Цены"), 0);
	CHECK_INT(xcount(d, "//c:Количество"), 0);
	CHECK_STR(xs(d, OFFER("prod2") "/c:Статус"), "Удален");
	xmlFreeDoc(d);
	d = load(dir, "prices___prices.xml");
	CHECK_STR(xs(d, PKG "/c:ИдКаталога"), "cat1");
	CHECK_INT(xcount(d, PKG "/c:Предложения/c:Предложение"), 2);
	CHECK_INT(xcount(d, OFFER("prod1") "/c:Цены/c:Цена"), 2);
	CHECK_INT(xcount(d, OFFER("prod1") "/c:Наименование"), 0);
	CHECK_INT(xcount(d, "//c:ТипыЦен"), 0);
	xmlFreeDoc(d);
	d = load(dir, "rests___rests.xml");
	CHECK_INT(xcount(d, PKG "/c:Предложения/c:Предложение"), 1);
	CHECK_STR(xs(d, OFFER("prod1") "/c:Количество"), "5");
	CHECK_STR(xs(d, OFFER("prod1") "/c:Остатки/c:Остаток[2]/c:Склад/c:Ид"), "w2");
	CHECK_STR(xs(d, OFFER("prod1") "/c:Остатки/c:Остаток[2]/c:Склад/c:Количество"), "3");
	xmlFreeDoc(d);
	remove_dir(dir);
}

static void
test_31(void)
{
	char *dir = make_dir();
	cml_writer_opts o = { .schema = "3.1" };
	cml_writer *w;
	xmlDocPtr d;

	if (dir == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
		CHECK(!"setup");
		return;
	}
	CHECK_INT(add_catalog(w), CML_OK);
	CHECK_INT(add_documents(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	check_files(w, (const char *const[]){ "classifier.xml", "goods.xml",
	    "offers.xml", "prices.xml", "rests.xml", "orders.xml",
	    "contragents.xml", NULL });
	cml_writer_free(w);

	d = load(dir, "classifier.xml");
	CHECK_STR(xs(d, "namespace-uri(/*)"), NS3);
	CHECK_STR(xs(d, R "/@ВерсияСхемы"), "3.1");
	CHECK_INT(xcount(d, CLS "/c:ТипыЦен/c:ТипЦены"), 2);
	CHECK_INT(xcount(d, CLS "/c:Склады/c:Склад"), 2);
	xmlFreeDoc(d);
	d = load(dir, "goods.xml");
	CHECK_STR(xs(d, GOOD("prod1") "/c:БазоваяЕдиница"), "796");
	CHECK_INT(xcount(d, GOOD("prod1") "/c:БазоваяЕдиница/@*"), 0);
	CHECK_STR(xs(d, GOOD("prod2") "/c:ПометкаУдаления"), "true");
	CHECK_STR(xs(d, GOOD("prod2") "/@Статус"), "Удален");
	xmlFreeDoc(d);
	d = load(dir, "offers.xml");
	CHECK_INT(xcount(d, PKG "/c:ТипыЦен"), 0);
	CHECK_STR(xs(d, OFFER("prod2") "/c:ПометкаУдаления"), "true");
	CHECK_STR(xs(d, OFFER("prod2") "/c:Статус"), "Удален");
	CHECK_INT(xcount(d, OFFER("prod4") "/c:Статус"), 0);
	CHECK_STR(xs(d, OFFER("prod4") "/c:ПометкаУдаления"), "true");
	xmlFreeDoc(d);
	d = load(dir, "orders.xml");
	CHECK_INT(xcount(d, R "/c:Контейнер"), 2);
	CHECK_INT(xcount(d, R "/c:Контейнер[1]/c:Документ"), 2);
	CHECK_STR(xs(d, R "/c:Контейнер[2]/c:Документ/c:Ид"), "doc3");
	xmlFreeDoc(d);
	remove_dir(dir);
}

static void
test_documents(void)
{
	char *dir = make_dir();
	cml_writer_opts o = { .schema = "2.09" };
	cml_writer *w;
	xmlDocPtr d;
	char list[256];

#define DOC(n) R "/c:Документ[c:Ид='doc" #n "']"
#define LINE DOC(1) "/c:Товары/c:Товар[1]"
	if (dir == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
		CHECK(!"setup");
		return;
	}
	CHECK_INT(add_documents(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	check_files(w, (const char *const[]){ "orders.xml", "contragents.xml",
	    NULL });
	cml_writer_free(w);
	CHECK_INT(count_files(dir, list, sizeof(list)), 2);

	d = load(dir, "orders.xml");
	CHECK(d != NULL);
	CHECK_INT(xcount(d, R "/c:Документ"), 3);
	CHECK_INT(xcount(d, "//c:Контейнер"), 0);
	CHECK_STR(xs(d, DOC(1) "/c:Номер"), "101");
	CHECK_STR(xs(d, DOC(1) "/c:ХозОперация"), "Заказ товара");
	CHECK_STR(xs(d, DOC(1) "/c:Время"), "10:11:12");
	CHECK_STR(xs(d, DOC(2) "/c:ПометкаУдаления"), "true");
	CHECK_INT(xcount(d, DOC(1) "/c:ПометкаУдаления"), 0);
	CHECK_STR(xs(d, DOC(1) "/c:Контрагенты/c:Контрагент/c:Отчество"), "Иванович");
	CHECK_STR(xs(d, DOC(1) "/c:Контрагенты/c:Контрагент/c:АдресРегистрации/c:АдресноеПоле[c:Тип='Город']/c:Значение"), "Москва");
	CHECK_STR(xs(d, DOC(1) "/c:Контрагенты/c:Контрагент/c:Представители/c:Представитель/c:Отношение"), "Контактное лицо");
	CHECK_STR(xs(d, DOC(1) "/c:Контрагенты/c:Контрагент/c:Представители/c:Представитель[c:Ид='r1']/c:Контакты/c:Контакт[c:Тип='Телефон']/c:Значение"), "+7 912 345-67-89");
	CHECK_STR(xs(d, "name(" DOC(1) "/c:Контрагенты/c:Контрагент/c:Представители/c:Представитель[c:Ид='r1']/c:Наименование/following-sibling::*[1])"), "Контакты");
	CHECK_INT(xcount(d, DOC(1) "/c:Контрагенты/c:Контрагент/c:Представители/c:Представитель[c:Ид='r2']/c:Контакты"), 0);
	CHECK_STR(xs(d, DOC(1) "/c:Контрагенты/c:Контрагент/c:РасчетныеСчета/c:РасчетныйСчет/c:Банк/c:БИК"), "044525000");
	CHECK_STR(xs(d, DOC(1) "/c:Контрагенты/c:Контрагент/c:РасчетныеСчета/c:РасчетныйСчет/c:Банк/c:Адрес/c:Представление"), "Москва");
	CHECK_STR(xs(d, DOC(1) "/c:Налоги/c:Налог/c:Сумма"), "33.33");
	CHECK_STR(xs(d, LINE "/c:ЦенаЗаЕдиницу"), "100");
	CHECK_STR(xs(d, LINE "/c:БазоваяЕдиница/@НаименованиеПолное"), "Штука");
	CHECK_STR(xs(d, LINE "/c:СтавкиНалогов/c:СтавкаНалога/c:Ставка"), "18");
	CHECK_INT(xcount(d, LINE "/c:Налоги/c:Налог"), 1);
	CHECK_STR(xs(d, LINE "/c:Налоги/c:Налог/c:Сумма"), "33.33");
	CHECK_STR(xs(d, LINE "/c:Налоги/c:Налог/c:УчтеноВСумме"), "true");
	CHECK_STR(xs(d, "name(" LINE "/c:Налоги/following-sibling::*[1])"), "СтавкиНалогов");
	CHECK_STR(xs(d, LINE "/c:Скидки/c:Скидка/c:Сумма"), "10");
	CHECK_STR(xs(d, LINE "/c:ЗначенияРеквизитов/c:ЗначениеРеквизита/c:Значение"), "Товар");
	CHECK_STR(xs(d, DOC(1) "/c:Товары/c:Товар[2]/c:Ид"), "ORDER_DELIVERY");
	CHECK_STR(xs(d, DOC(1) "/c:ЗначенияРеквизитов/c:ЗначениеРеквизита[c:Наименование='Статуса заказа ИД']/c:Значение"), "N");
	CHECK_STR(xs(d, DOC(1) "/c:Оплаты/c:Оплата/c:СуммаОплаты"), "200");
	CHECK_STR(xs(d, DOC(1) "/c:Оплаты/c:Оплата/c:ИдСпособаОплаты"), "3");
	xmlFreeDoc(d);

	d = load(dir, "contragents.xml");
	CHECK(d != NULL);
	CHECK_STR(xs(d, R "/c:Контрагенты/@СодержитТолькоИзменения"), "true");
	CHECK_STR(xs(d, R "/c:Контрагенты/c:Контрагент/c:НомерВерсии"), "AAB=");
	CHECK_STR(xs(d, R "/c:Контрагенты/c:Контрагент/c:ИНН"), "7700000000");
	CHECK_STR(xs(d, R "/c:Контрагенты/c:Контрагент/c:Контакты/c:Контакт/c:Значение"), "ivan@example.com");
	xmlFreeDoc(d);
	remove_dir(dir);
#undef DOC
#undef LINE
}

/* Bad strings are refused before anything is written; the writer goes
 * on. Bad use and bad options. */
static void
test_errors(void)
{
	char *dir = make_dir();
	cml_writer *w;
	cml_item it = mk(CML_ITEM_PRODUCT);

	if (dir == NULL || (w = cml_writer_new(dir, NULL)) == NULL) {
		CHECK(!"setup");
		return;
	}
	it.u.product.id = "bad1";
	it.u.product.name = "ok";
	it.u.product.description = "broken \xD0 UTF-8";
	it.origin.file = "in.xml";
	it.origin.line = 7;
	CHECK_INT(cml_writer_add(w, &it), CML_ERR_VALUE);
	CHECK_STR(cml_writer_errmsg(w), "in.xml:7: product bad1: Описание: invalid UTF-8");
	it.u.product.description = "bell \a";
	CHECK_INT(cml_writer_add(w, &it), CML_ERR_VALUE);
	it.u.product.description = "surrogate \xED\xA0\x80";
	CHECK_INT(cml_writer_add(w, &it), CML_ERR_VALUE);
	it.u.product.description = "overlong \xC0\xAF";
	CHECK_INT(cml_writer_add(w, &it), CML_ERR_VALUE);
	it.u.product.description = "fine\ttab";
	CHECK_INT(cml_writer_add(w, &it), CML_OK);
	CHECK_INT(cml_writer_add(w, NULL), CML_ERR_USAGE);
	CHECK_INT(cml_writer_add(w, &(cml_item){ .kind = CML_ITEM_KIND_COUNT }), CML_ERR_USAGE);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	cml_writer_free(w);

	xmlDocPtr d = load(dir, "import.xml");
	CHECK_INT(xcount(d, CAT "/c:Товары/c:Товар"), 1);
	CHECK_STR(xs(d, GOOD("bad1") "/c:Описание"), "fine\ttab");
	xmlFreeDoc(d);

	CHECK(cml_writer_new(dir, &(cml_writer_opts){ .schema = "2.11" }) == NULL);
	CHECK(cml_writer_new(dir, &(cml_writer_opts){ .schema = "2.1" }) == NULL);
	CHECK(cml_writer_new(dir, &(cml_writer_opts){ .generated = "x\"y" }) == NULL);
	CHECK(cml_writer_new(dir, &(cml_writer_opts){
	    .encoding = CML_ENC_WINDOWS_1251, .bom = true }) == NULL);
	CHECK(cml_writer_new("/nonexistent/cmlkit", NULL) == NULL);
	CHECK(cml_writer_new(NULL, NULL) == NULL);
	CHECK_INT(cml_writer_finish(NULL), CML_ERR_USAGE);
	cml_writer_free(NULL);
	CHECK(cml_writer_files(NULL)[0] == NULL);

	/* A directory we cannot write to (root can). */
	if (geteuid() != 0 && chmod(dir, 0500) == 0) {
		w = cml_writer_new(dir, NULL);
		CHECK(w != NULL);
		if (w != NULL) {
			CHECK_INT(cml_writer_add(w, &it), CML_ERR_IO);
			CHECK(strstr(cml_writer_errmsg(w), dir) != NULL);
			CHECK(strstr(cml_writer_errmsg(w), strerror(EACCES)) != NULL);
			CHECK_INT(cml_writer_add(w, &it), CML_ERR_STATE);
			CHECK_INT(cml_writer_finish(w), CML_ERR_STATE);
			cml_writer_free(w);
		}
		chmod(dir, 0700);
	}
	remove_dir(dir);
}

/* Without indent, every item starts a line of its own, and so does every
 * container: a reader's line numbers point at the item. */
static void
test_layout(void)
{
	char *dir = make_dir();
	cml_writer_opts o = { .schema = "3.1" };
	cml_writer *w;
	size_t len;
	char *raw;

	if (dir == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
		CHECK(!"setup");
		return;
	}
	CHECK_INT(add_catalog(w), CML_OK);
	CHECK_INT(add_documents(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	cml_writer_free(w);

	raw = slurp(dir, "goods.xml", &len);
	CHECK(raw != NULL && strstr(raw, "?>\n<КоммерческаяИнформация ") != NULL);
	CHECK(raw != NULL && strstr(raw, "\">\n<Каталог СодержитТолькоИзменения=\"false\">\n<Ид>cat1</Ид><ИдКлассификатора>cls1</ИдКлассификатора>") != NULL);
	CHECK(raw != NULL && strstr(raw, "</Наименование>\n<Товары>\n<Товар><Ид>prod1</Ид>") != NULL);
	CHECK(raw != NULL && strstr(raw, "</Товар>\n<Товар Статус=\"Удален\"><Ид>prod2</Ид>") != NULL);
	CHECK(raw != NULL && strstr(raw, "</Товар>\n</Товары>\n</Каталог>\n</КоммерческаяИнформация>\n") != NULL);
	CHECK(raw != NULL && strstr(raw, "\t") == NULL);
	free(raw);
	raw = slurp(dir, "classifier.xml", &len);
	/* Each group of the tree on a line; a Группы ends on its own. */
	CHECK(raw != NULL && strstr(raw, "\n<Группы>\n<Группа><Ид>g1</Ид><НомерВерсии>AAA=</НомерВерсии><Наименование>Бытовая техника</Наименование><Группы>\n<Группа><Ид>g2</Ид>") != NULL);
	CHECK(raw != NULL && strstr(raw, "<Наименование>Чайники</Наименование></Группа>\n</Группы></Группа>\n</Группы></Группа>\n<Группа><Ид>g4</Ид>") != NULL);
	CHECK(raw != NULL && strstr(raw, "</Группа>\n</Группы>\n<Свойства>\n<Свойство><Ид>p1</Ид>") != NULL);
	CHECK(raw != NULL && strstr(raw, "</ТипЦены>\n<ТипЦены><Ид>pt2</Ид>") != NULL);
	free(raw);
	raw = slurp(dir, "rests.xml", &len);
	CHECK(raw != NULL && strstr(raw, "\n<Предложения>\n<Предложение><Ид>prod1</Ид><Количество>5</Количество><Остатки><Остаток><Склад><Ид>w1</Ид>") != NULL);
	free(raw);
	raw = slurp(dir, "orders.xml", &len);
	CHECK(raw != NULL && strstr(raw, "\">\n<Контейнер>\n<Документ><Ид>doc1</Ид>") != NULL);
	CHECK(raw != NULL && strstr(raw, "</Документ>\n<Документ><Ид>doc2</Ид>") != NULL);
	CHECK(raw != NULL && strstr(raw, "</Документ>\n</Контейнер>\n<Контейнер>\n<Документ><Ид>doc3</Ид>") != NULL);
	CHECK(raw != NULL && strstr(raw, "</Документ>\n</Контейнер>\n</КоммерческаяИнформация>\n") != NULL);
	free(raw);
	raw = slurp(dir, "contragents.xml", &len);
	CHECK(raw != NULL && strstr(raw, "\n<Контрагенты СодержитТолькоИзменения=\"true\">\n<Контрагент><Ид>cp1</Ид>") != NULL);
	CHECK(raw != NULL && strstr(raw, "</Контрагент>\n</Контрагенты>\n") != NULL);
	free(raw);
	remove_dir(dir);
}

#define ODD "a\"b'c&d<e>f]]>g\th\ni\rj 中"

/* The escaping libxml2's writer did: & < > " and CR in text, TAB and LF
 * too in attribute values; an empty element closes itself; characters
 * windows-1251 lacks as references, in attributes too. */
static void
test_escaping(void)
{
	static cml_stock stocks[] = { { .warehouse_id = ODD, .quantity = "1" } };
	for (int k = 0; k < 2; k++) {
		char *dir = make_dir();
		cml_writer_opts o = { .encoding = k ? CML_ENC_WINDOWS_1251 : CML_ENC_UTF8 };
		cml_writer *w;
		cml_item it = mk(CML_ITEM_OFFER);
		size_t len;
		char *raw;
		xmlDocPtr d;

		if (dir == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
			CHECK(!"setup");
			return;
		}
		it.u.offer.id = "o1";
		it.u.offer.name = ODD;
		it.u.offer.stocks = stocks;
		it.u.offer.n_stocks = 1;
		it.u.offer.has_prices = true;
		CHECK_INT(cml_writer_add(w, &it), CML_OK);
		CHECK_INT(cml_writer_finish(w), CML_OK);
		cml_writer_free(w);
		raw = slurp(dir, "offers.xml", &len);
		if (k == 0) {
			CHECK(raw != NULL && strstr(raw, "<Предложение><Ид>o1</Ид><Наименование>a&quot;b'c&amp;d&lt;e&gt;f]]&gt;g\th\ni&#13;j 中</Наименование><Цены/>") != NULL);
			CHECK(raw != NULL && strstr(raw, "<Склад ИдСклада=\"a&quot;b'c&amp;d&lt;e&gt;f]]&gt;g&#9;h&#10;i&#13;j 中\" КоличествоНаСкладе=\"1\"/>") != NULL);
		} else {
			CHECK(raw != NULL && strstr(raw, ">a&quot;b'c&amp;d&lt;e&gt;f]]&gt;g\th\ni&#13;j &#20013;</") != NULL);
			CHECK(raw != NULL && strstr(raw, "=\"a&quot;b'c&amp;d&lt;e&gt;f]]&gt;g&#9;h&#10;i&#13;j &#20013;\" ") != NULL);
		}
		free(raw);
		d = load(dir, "offers.xml");
		CHECK_STR(xs(d, OFFER("o1") "/c:Наименование"), ODD);
		CHECK_STR(xs(d, OFFER("o1") "/c:Склад/@ИдСклада"), ODD);
		xmlFreeDoc(d);
		remove_dir(dir);
	}
}

/* A split offer with a bad string leaves nothing in any of its files,
 * and the message names the string as the whole offer would. */
static void
test_split_errors(void)
{
	static cml_stock stocks[] = { { .warehouse_id = "w\x01", .quantity = "1" } };
	static cml_price prices[] = { { .type_id = "pt1", .value = "1" } };
	char *dir = make_dir();
	cml_writer_opts o = { .schema = "2.10", .layout = CML_LAYOUT_SPLIT };
	cml_writer *w;
	cml_item it = mk(CML_ITEM_OFFER);
	char list[512];

	if (dir == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
		CHECK(!"setup");
		return;
	}
	it.u.offer.id = "bad";
	it.u.offer.prices = prices;
	it.u.offer.n_prices = 1;
	it.u.offer.quantity = "2";
	it.u.offer.name = "bad \xFF";   /* the card, written last */
	CHECK_INT(cml_writer_add(w, &it), CML_ERR_VALUE);
	CHECK_STR(cml_writer_errmsg(w), "offer bad: Наименование: invalid UTF-8");
	it.u.offer.name = "ok";
	it.u.offer.stocks = stocks;     /* Остатки/Склад/Ид in rests */
	it.u.offer.n_stocks = 1;
	CHECK_INT(cml_writer_add(w, &it), CML_ERR_VALUE);
	CHECK_STR(cml_writer_errmsg(w), "offer bad: ИдСклада: control character not allowed in XML");
	it.u.offer.id = "good";
	it.u.offer.stocks = NULL;
	it.u.offer.n_stocks = 0;
	CHECK_INT(cml_writer_add(w, &it), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	cml_writer_free(w);
	CHECK_INT(count_files(dir, list, sizeof(list)), 3);
	const char *names[] = { "offers___offers.xml", "prices___prices.xml", "rests___rests.xml" };
	for (size_t i = 0; i < 3; i++) {
		xmlDocPtr d = load(dir, names[i]);

		CHECK_INT(xcount(d, PKG "/c:Предложения/c:Предложение"), 1);
		CHECK_INT(xcount(d, OFFER("good")), 1);
		xmlFreeDoc(d);
	}
	remove_dir(dir);
}

/* Free without finish leaves nothing; an existing file is replaced. */
static void
test_abandon(void)
{
	char *dir = make_dir();
	char path[1024];
	cml_writer *w;
	FILE *fp;

	if (dir == NULL || (w = cml_writer_new(dir, NULL)) == NULL) {
		CHECK(!"setup");
		return;
	}
	CHECK_INT(add_catalog(w), CML_OK);
	CHECK_INT(add_documents(w), CML_OK);
	CHECK(count_files(dir, NULL, 0) > 0);
	cml_writer_free(w);
	CHECK_INT(count_files(dir, NULL, 0), 0);

	/* Finish with nothing added writes nothing. */
	w = cml_writer_new(dir, NULL);
	CHECK(w != NULL);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	CHECK(cml_writer_files(w)[0] == NULL);
	cml_writer_free(w);
	CHECK_INT(count_files(dir, NULL, 0), 0);

	snprintf(path, sizeof(path), "%s/orders.xml", dir);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs("old", fp);
		fclose(fp);
	}
	w = cml_writer_new(dir, NULL);
	CHECK(w != NULL);
	CHECK_INT(add_documents(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	cml_writer_free(w);
	xmlDocPtr d = load(dir, "orders.xml");
	CHECK_INT(xcount(d, R "/c:Документ"), 3);
	xmlFreeDoc(d);
	CHECK_INT(count_files(dir, NULL, 0), 2);
	remove_dir(dir);
}

/* Under umask 022, the files of documents and counterparties are 0600 (they
 * hold names, INN, addresses, phones), the catalog's follow the umask; the
 * temporary files are this process's, by name, and private. */
static void
test_modes(void)
{
	char *dir = make_dir();
	char path[1400], prefix[64], list[1024];
	struct stat sb;
	cml_writer *w;
	mode_t old = umask(022);

	if (dir == NULL || (w = cml_writer_new(dir, NULL)) == NULL) {
		CHECK(!"setup");
		umask(old);
		return;
	}
	CHECK_INT(add_catalog(w), CML_OK);
	CHECK_INT(add_documents(w), CML_OK);
	snprintf(prefix, sizeof(prefix), ".cmlkit-tmp.%ld.", (long)getpid());
	CHECK(count_files(dir, list, sizeof(list)) > 0);
	for (char *p = list; p != NULL && *p != '\0';) {
		char *sp = strchr(p, ' ');
		if (sp != NULL)
			*sp = '\0';
		CHECK(strncmp(p, prefix, strlen(prefix)) == 0);
		snprintf(path, sizeof(path), "%s/%s", dir, p);
		CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0077) == 0);
		p = sp != NULL ? sp + 1 : NULL;
	}
	CHECK_INT(cml_writer_finish(w), CML_OK);
	cml_writer_free(w);
	umask(old);
	static const struct {
		const char *name;
		unsigned mode;
	} want[] = {
		{ "import.xml", 0644 },
		{ "offers.xml", 0644 },
		{ "orders.xml", 0600 },
		{ "contragents.xml", 0600 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, want[i].name);
		CHECK(stat(path, &sb) == 0);
		CHECK_INT(sb.st_mode & 0777, want[i].mode);
	}
	/* nothing else: no temporary file, no install journal */
	CHECK_INT(count_files(dir, NULL, 0), 4);
	remove_dir(dir);
}

static void
put_file(const char *dir, const char *name, const char *text)
{
	char path[1024];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "w")) != NULL) {
		fputs(text, fp);
		fclose(fp);
	}
}

static bool
has_file(const char *dir, const char *name)
{
	char path[1024];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &sb) == 0;
}

/* What a killed run left: its install journal is completed, the temporary
 * files of dead processes removed, those of live ones kept. */
static void
test_recover(void)
{
	char *dir = make_dir();
	char name[5][128], journal[1024], err[512];
	size_t completed = 99, removed = 99;
	long dead, self = (long)getpid();
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (dir == NULL || pid < 0 || waitpid(pid, NULL, 0) != pid) {
		CHECK(!"setup");
		return;
	}
	dead = (long)pid; /* reaped: no such process now */

	/* nothing to do */
	CHECK_INT(cml_writer_recover(dir, &completed, &removed, err, sizeof(err)), CML_OK);
	CHECK_INT(completed, 0);
	CHECK_INT(removed, 0);

	snprintf(name[0], sizeof(name[0]), ".cmlkit-tmp.%ld.offers.xml.AAAAAA", dead);
	snprintf(name[1], sizeof(name[1]), ".cmlkit-tmp.%ld.import.xml.BBBBBB", dead);
	snprintf(name[2], sizeof(name[2]), ".cmlkit-tmp.%ld.import.xml.CCCCCC", dead);
	snprintf(name[3], sizeof(name[3]), ".cmlkit-tmp.%ld.import.xml.DDDDDD", self);
	snprintf(name[4], sizeof(name[4]), ".cmlkit-tmp.1.import.xml.EEEEEE");
	put_file(dir, "import.xml", "new import");  /* renamed before the kill */
	put_file(dir, "offers.xml", "old offers");
	put_file(dir, name[0], "new offers");       /* not renamed yet */
	put_file(dir, name[2], "a fragment");
	put_file(dir, name[3], "ours");
	put_file(dir, name[4], "init's");
	put_file(dir, ".import.xml.FFFFFF", "not ours");
	snprintf(journal, sizeof(journal),
	    "cmlkit-install %ld\n%s\timport.xml\n%s\toffers.xml\nend\n", dead, name[1],
	    name[0]);
	put_file(dir, ".cmlkit-install", journal);

	CHECK_INT(cml_writer_recover(dir, &completed, &removed, err, sizeof(err)), CML_OK);
	CHECK_STR(err, "");
	CHECK_INT(completed, 1);
	CHECK_INT(removed, 1);
	size_t len = 0;
	char *text = slurp(dir, "offers.xml", &len);
	CHECK_STR(text, "new offers");
	free(text);
	CHECK(!has_file(dir, ".cmlkit-install"));
	CHECK(!has_file(dir, name[0]));
	CHECK(!has_file(dir, name[2]));
	CHECK(has_file(dir, name[3]));
	CHECK(has_file(dir, name[4]));
	CHECK(has_file(dir, ".import.xml.FFFFFF"));

	/* a journal of a live process is its business; a bad one is refused */
	snprintf(journal, sizeof(journal), "cmlkit-install 1\n%s\toffers.xml\nend\n", name[4]);
	put_file(dir, ".cmlkit-install", journal);
	CHECK_INT(cml_writer_recover(dir, &completed, &removed, err, sizeof(err)), CML_OK);
	CHECK(has_file(dir, ".cmlkit-install"));
	CHECK(has_file(dir, name[4]));
	snprintf(journal, sizeof(journal), "cmlkit-install %ld\n%s\t../offers.xml\nend\n",
	    dead, name[0]);
	put_file(dir, ".cmlkit-install", journal);
	CHECK_INT(cml_writer_recover(dir, &completed, &removed, err, sizeof(err)), CML_ERR_IO);
	CHECK(strstr(err, "not a cmlkit install journal") != NULL);
	snprintf(journal, sizeof(journal), "cmlkit-install %ld\n%s\toffers.xml\n", dead,
	    name[0]);
	put_file(dir, ".cmlkit-install", journal);
	CHECK_INT(cml_writer_recover(dir, &completed, &removed, err, sizeof(err)), CML_ERR_IO);
	remove_dir(dir);
}

/* Every allocation fails in turn: no crash, no leak, no file left. */
static void
test_alloc_failures(void)
{
	char *dir = make_dir();
	const cml_writer_opts opts[] = {
		{ .schema = "2.05" },
		{ .schema = "3.1", .encoding = CML_ENC_WINDOWS_1251 },
	};
	const int nfiles[] = { 4, 7 };

	if (dir == NULL) {
		CHECK(!"setup");
		return;
	}
	for (size_t k = 0; k < sizeof(opts) / sizeof(opts[0]); k++) {
		bool ok = false;
		long n;

		for (n = 1; n < 10000 && !ok; n++) {
			cml_writer *w;
			cml_status st = CML_ERR_NOMEM;

			cml_alloc_fail_after(n);
			w = cml_writer_new(dir, &opts[k]);
			if (w != NULL && (st = add_catalog(w)) == CML_OK &&
			    (st = add_documents(w)) == CML_OK)
				st = cml_writer_finish(w);
			cml_alloc_fail_after(0);
			cml_writer_free(w);
			if (st == CML_OK) {
				ok = true;
				CHECK_INT(count_files(dir, NULL, 0), nfiles[k]);
				remove_dir(dir);
				mkdir(dir, 0700);
			} else {
				CHECK_INT(st, CML_ERR_NOMEM);
				CHECK_INT(count_files(dir, NULL, 0), 0);
			}
		}
		CHECK(ok);
		CHECK(n > 5);
	}
	cml_alloc_fail_after(0);
	remove_dir(dir);
}

/* Matches of expr summed over every file the writer made. */
static int
xcount_all(const cml_writer *w, const char *dir, const char *expr)
{
	int n = 0;

	for (const char *const *f = cml_writer_files(w); f != NULL && *f != NULL; f++) {
		xmlDocPtr d = load(dir, *f);
		int k = xcount(d, expr);
		n += k > 0 ? k : 0;
		xmlFreeDoc(d);
	}
	return n;
}

/* A property's Тип and Bitrix's Геометка of a product and of an offer are
 * written back where they were read, in every schema and layout; an offer
 * whose card says only where it is keeps its card in a split package. */
static void
test_type_geotag(void)
{
	static const struct {
		const char *schema;
		cml_layout layout;
	} setups[] = {
		{ "2.04", CML_LAYOUT_DEFAULT }, { "2.05", CML_LAYOUT_DEFAULT },
		{ "2.06", CML_LAYOUT_DEFAULT }, { "2.07", CML_LAYOUT_DEFAULT },
		{ "2.08", CML_LAYOUT_DEFAULT }, { "2.08", CML_LAYOUT_SPLIT },
		{ "2.09", CML_LAYOUT_DEFAULT }, { "2.10", CML_LAYOUT_DEFAULT },
		{ "2.10", CML_LAYOUT_SPLIT },  { "3.1", CML_LAYOUT_DEFAULT },
	};
	static cml_price price = { .type_id = "pt1", .value = "50", .currency = "RUB" };

	for (size_t i = 0; i < sizeof(setups) / sizeof(setups[0]); i++) {
		char *dir = make_dir();
		cml_writer_opts o = { .schema = setups[i].schema, .layout = setups[i].layout };
		cml_writer *w;
		cml_item it;
		static char label[32];

		snprintf(label, sizeof(label), "%s%s", setups[i].schema,
		    setups[i].layout == CML_LAYOUT_SPLIT ? " split" : "");
		harness_current = label;
		if (dir == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
			CHECK(!"setup");
			return;
		}
		it = mk(CML_ITEM_CLASSIFIER);
		it.u.classifier.id = "cls1";
		CHECK_INT(cml_writer_add(w, &it), CML_OK);
		it = mk(CML_ITEM_PROPERTY);
		it.u.property.id = "color";
		it.u.property.name = "Цвет";
		it.u.property.value_type = "Справочник";
		it.u.property.type = "Список";
		CHECK_INT(cml_writer_add(w, &it), CML_OK);
		it = mk(CML_ITEM_CATALOG);
		it.u.catalog.id = "cat1";
		it.u.catalog.classifier_id = "cls1";
		CHECK_INT(cml_writer_add(w, &it), CML_OK);
		it = mk(CML_ITEM_PRODUCT);
		it.u.product.id = "shop1";
		it.u.product.name = "Магазин";
		it.u.product.geotag = "55.75,37.61";
		CHECK_INT(cml_writer_add(w, &it), CML_OK);
		it = mk(CML_ITEM_OFFERS_PACKAGE);
		it.u.package.id = "pkg1";
		it.u.package.catalog_id = "cat1";
		it.u.package.classifier_id = "cls1";
		CHECK_INT(cml_writer_add(w, &it), CML_OK);
		it = mk(CML_ITEM_OFFER);
		it.u.offer.id = "shop1";
		it.u.offer.product_id = "shop1";
		it.u.offer.geotag = "59.93,30.33";
		it.u.offer.prices = &price;
		it.u.offer.n_prices = 1;
		it.u.offer.has_prices = true;
		CHECK_INT(cml_writer_add(w, &it), CML_OK);
		CHECK_INT(cml_writer_finish(w), CML_OK);

		CHECK_INT(xcount_all(w, dir, "//c:Свойство[c:Ид='color'][c:ТипЗначений="
		                             "'Справочник'][c:Тип='Список']"), 1);
		CHECK_INT(xcount_all(w, dir, "//c:Товар[c:Ид='shop1']/c:Геометка"
		                             "[.='55.75,37.61']"), 1);
		CHECK_INT(xcount_all(w, dir, "//c:Предложение[c:Ид='shop1']/c:Геометка"
		                             "[.='59.93,30.33']"), 1);
		CHECK_INT(xcount_all(w, dir, "//c:Геометка"), 2);
		cml_writer_free(w);
		remove_dir(dir);
	}
}

/* ---- the stream writer ---- */

static cml_status
stream_add(void *ctx, const cml_item *it)
{
	return cml_stream_writer_add(ctx, it);
}

/* Dumps of every document and counterparty in the n bytes at buf, one
 * per line, container numbers left out; NULL when the reader fails. */
static char *
dump_memory(const char *buf, size_t n)
{
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);
	cml_status st = cml_reader_open_memory(r, buf, n, "stream");

	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK) {
		cml_item copy = *it;

		if (it->kind == CML_ITEM_FILE)
			continue;
		if (copy.kind == CML_ITEM_DOCUMENT)
			copy.u.document.container = 0;
		if (copy.kind == CML_ITEM_COUNTERPARTY)
			copy.u.counterparty.only_changes = CML_UNSET;
		if (cml_item_dump_json(&copy, fp) != CML_OK)
			st = CML_ERR_IO;
	}
	if (st != CML_END)
		fprintf(stderr, "  %s: reading back: %s\n", harness_current,
		    cml_reader_errmsg(r));
	cml_reader_free(r);
	fclose(fp);
	if (st != CML_END) {
		free(out);
		return NULL;
	}
	return out;
}

static cml_status
dump_add(void *ctx, const cml_item *it)
{
	cml_item copy = *it;

	copy.u.document.container = 0;
	if (copy.kind == CML_ITEM_COUNTERPARTY)
		copy.u.counterparty.only_changes = CML_UNSET;
	return cml_item_dump_json(&copy, ctx);
}

/* The fixture documents, streamed in each schema and encoding, read back
 * by the reader as the same items; the elements as a package has them. */
static void
test_stream(void)
{
	static const cml_writer_opts set[] = {
		{ .generated = "2024-01-02T03:04:05" },
		{ .schema = "2.10", .bom = true },
		{ .schema = "2.08", .encoding = CML_ENC_WINDOWS_1251, .indent = true },
		{ .schema = "3.1" },
		{ .schema = "3.1", .indent = true, .encoding = CML_ENC_WINDOWS_1251 },
	};
	char *want = NULL;
	size_t wlen = 0;
	FILE *wf = open_memstream(&want, &wlen);

	CHECK_INT(add_documents_to(dump_add, wf), CML_OK);
	fclose(wf);
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);
		cml_stream_writer *sw = cml_stream_writer_new(fp, &set[i]);
		xmlDocPtr d;

		CHECK(sw != NULL);
		if (sw == NULL) {
			fclose(fp);
			free(buf);
			continue;
		}
		CHECK_INT(add_documents_to(stream_add, sw), CML_OK);
		CHECK_INT(cml_stream_writer_finish(sw), CML_OK);
		cml_stream_writer_free(sw);
		fclose(fp);
		char *got = dump_memory(buf, len);
		CHECK(got != NULL);
		if (got != NULL && strcmp(got, want) != 0) {
			fprintf(stderr, "  set %zu: want\n%s  got\n%s", i, want, got);
			CHECK(!"the same items");
		}
		free(got);

		d = xmlReadMemory(buf, (int)len, "stream", NULL, XML_PARSE_NONET);
		CHECK(d != NULL);
		CHECK_STR(xs(d, R "/@ВерсияСхемы"), set[i].schema ? set[i].schema : "2.05");
		CHECK_INT(xcount(d, R "/c:Контрагенты"), 1);
		CHECK_STR(xs(d, R "/c:Контрагенты/@СодержитТолькоИзменения"), "true");
		if (set[i].schema != NULL && strcmp(set[i].schema, "3.1") == 0) {
			/* containers 1, 1, 2: the first two share one */
			CHECK_INT(xcount(d, R "/c:Контейнер"), 2);
			CHECK_INT(xcount(d, R "/c:Контейнер[1]/c:Документ"), 2);
			CHECK_INT(xcount(d, R "/c:Контейнер[2]/c:Документ"), 1);
		} else {
			CHECK_INT(xcount(d, R "/c:Документ"), 3);
		}
		CHECK_STR(xs(d, "string(//c:Документ[c:Ид='doc1']/c:Товары/c:Товар[1]/c:Наименование)"),
		    "Чайник");
		CHECK_STR(xs(d, R "/@ДатаФормирования"),
		    set[i].generated ? set[i].generated : xs(d, R "/@ДатаФормирования"));
		xmlFreeDoc(d);
		if (set[i].bom)
			CHECK(len > 3 && memcmp(buf, "\xEF\xBB\xBF<?xml", 8) == 0);
		else
			CHECK(len > 5 && memcmp(buf, "<?xml", 5) == 0);
		CHECK(strstr(buf, set[i].encoding == CML_ENC_WINDOWS_1251 ?
		    "encoding=\"windows-1251\"" : "encoding=\"UTF-8\"") != NULL);
		free(buf);
	}
	free(want);
}

/* windows-1251: what the code page holds is one byte; what it lacks is a
 * character reference, never '?'; Основание is written and read. */
static void
test_stream_1251(void)
{
	static const cml_writer_opts o = { .encoding = CML_ENC_WINDOWS_1251,
		                           .schema = "2.10" };
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	cml_stream_writer *sw = cml_stream_writer_new(fp, &o);
	cml_item it = mk(CML_ITEM_DOCUMENT);

	it.u.document.id = "pay-1";
	it.u.document.operation = "Выплата безналичных денег";
	it.u.document.basis = "order-1";
	it.u.document.comment = "Чек № 5 — оплачено ✓ 中";
	CHECK(sw != NULL);
	CHECK_INT(cml_stream_writer_add(sw, &it), CML_OK);
	CHECK_INT(cml_stream_writer_finish(sw), CML_OK);
	cml_stream_writer_free(sw);
	fclose(fp);
	CHECK(memmem(buf, len, "encoding=\"windows-1251\"", 23) != NULL);
	CHECK(memmem(buf, len, "?", 1) != NULL); /* the declaration's own */
	CHECK(memmem(buf, len, "\xD7\xE5\xEA \xB9 5 \x97 \xEE\xEF\xEB\xE0\xF7\xE5\xED\xEE &#10003; &#20013;",
	    35) != NULL);
	CHECK(memmem(buf, len, "<\xCE\xF1\xED\xEE\xE2\xE0\xED\xE8\xE5>order-1<", 19) != NULL);
	/* no '?' beyond the declaration's two */
	size_t q = 0;
	for (size_t i = 0; i < len; i++)
		q += buf[i] == '?';
	CHECK_INT(q, 2);

	cml_reader *r = cml_reader_new(NULL);
	const cml_item *got;
	CHECK_INT(cml_reader_open_memory(r, buf, len, "stream"), CML_OK);
	while (cml_reader_next(r, &got) == CML_OK && got->kind == CML_ITEM_FILE)
		CHECK_STR(got->u.file.encoding, "windows-1251");
	CHECK_INT(got->kind, CML_ITEM_DOCUMENT);
	CHECK_STR(got->u.document.comment, "Чек № 5 — оплачено ✓ 中");
	CHECK_STR(got->u.document.basis, "order-1");
	cml_reader_free(r);
	free(buf);
}

/* Nothing added: nothing written, not even a declaration. */
static void
test_stream_empty(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	cml_writer_opts o = { .bom = true };
	cml_stream_writer *sw = cml_stream_writer_new(fp, &o);

	CHECK(sw != NULL);
	CHECK_INT(cml_stream_writer_finish(sw), CML_OK);
	CHECK_INT(cml_stream_writer_finish(sw), CML_ERR_STATE);
	cml_stream_writer_free(sw);
	fclose(fp);
	CHECK_INT(len, 0);
	free(buf);
	cml_stream_writer_free(NULL);
	/* a bad string is refused before anything is written, and the
	 * writer goes on with nothing written */
	buf = NULL;
	fp = open_memstream(&buf, &len);
	sw = cml_stream_writer_new(fp, NULL);
	cml_item it = mk(CML_ITEM_DOCUMENT);
	it.u.document.id = "bad";
	it.u.document.comment = "\x01";
	CHECK_INT(cml_stream_writer_add(sw, &it), CML_ERR_VALUE);
	CHECK(strstr(cml_stream_writer_errmsg(sw), "document bad: Комментарий") != NULL);
	CHECK_INT(cml_stream_writer_finish(sw), CML_OK);
	cml_stream_writer_free(sw);
	fclose(fp);
	CHECK_INT(len, 0);
	free(buf);
}

/* What does not belong: other kinds, options no writer takes, and
 * counterparties split around documents. */
static void
test_stream_misuse(void)
{
	cml_writer_opts bad = { .encoding = CML_ENC_WINDOWS_1251, .bom = true };
	cml_writer_opts v1 = { .schema = "1.0" };
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	cml_stream_writer *sw;
	cml_item it;

	CHECK(cml_stream_writer_new(fp, &bad) == NULL);
	CHECK(cml_stream_writer_new(fp, &v1) == NULL);
	CHECK(cml_stream_writer_new(NULL, NULL) == NULL);
	sw = cml_stream_writer_new(fp, NULL);
	it = mk(CML_ITEM_PRODUCT);
	it.u.product.id = "p";
	CHECK_INT(cml_stream_writer_add(sw, &it), CML_ERR_VALUE);
	CHECK(strstr(cml_stream_writer_errmsg(sw), "product") != NULL);
	it = mk(CML_ITEM_COUNTERPARTY);
	it.u.counterparty.id = "cp-a";
	CHECK_INT(cml_stream_writer_add(sw, &it), CML_OK);
	it.u.counterparty.id = "cp-b";
	CHECK_INT(cml_stream_writer_add(sw, &it), CML_OK);
	it = mk(CML_ITEM_DOCUMENT);
	it.u.document.id = "d";
	CHECK_INT(cml_stream_writer_add(sw, &it), CML_OK);
	it = mk(CML_ITEM_COUNTERPARTY);
	it.u.counterparty.id = "cp-c";
	CHECK_INT(cml_stream_writer_add(sw, &it), CML_ERR_USAGE);
	CHECK(strstr(cml_stream_writer_errmsg(sw), "cp-c") != NULL);
	CHECK_INT(cml_stream_writer_add(sw, NULL), CML_ERR_USAGE);
	CHECK_INT(cml_stream_writer_finish(sw), CML_OK);
	CHECK_INT(cml_stream_writer_add(sw, &it), CML_ERR_STATE);
	cml_stream_writer_free(sw);
	fclose(fp);
	xmlDocPtr d = xmlReadMemory(buf, (int)len, "stream", NULL, XML_PARSE_NONET);
	CHECK(d != NULL);
	CHECK_INT(xcount(d, R "/c:Контрагенты/c:Контрагент"), 2);
	CHECK_STR(xs(d, "name(" R "/*[2])"), "Документ");
	xmlFreeDoc(d);
	free(buf);
}

/* A stream that cannot be written (a full disk): CML_ERR_IO with the
 * reason, by finish at the latest. */
static void
test_stream_full(void)
{
	FILE *fp = fopen("/dev/full", "w");
	cml_stream_writer *sw;
	cml_status st = CML_OK;

	if (fp == NULL) {
		fprintf(stderr, "  no /dev/full: skipped\n");
		return;
	}
	sw = cml_stream_writer_new(fp, NULL);
	for (int i = 0; i < 3 && st == CML_OK; i++)
		st = add_documents_to(stream_add, sw);
	if (st == CML_OK)
		st = cml_stream_writer_finish(sw);
	CHECK_INT(st, CML_ERR_IO);
	CHECK(strstr(cml_stream_writer_errmsg(sw), "No space left on device") != NULL);
	CHECK_INT(cml_stream_writer_finish(sw), CML_ERR_STATE);
	cml_stream_writer_free(sw);
	fclose(fp);

	/* a small document: only the flush at finish finds it */
	fp = fopen("/dev/full", "w");
	sw = cml_stream_writer_new(fp, NULL);
	cml_item it = mk(CML_ITEM_DOCUMENT);
	it.u.document.id = "d";
	CHECK_INT(cml_stream_writer_add(sw, &it), CML_OK);
	CHECK_INT(cml_stream_writer_finish(sw), CML_ERR_IO);
	cml_stream_writer_free(sw);
	fclose(fp);
}

/* The stream writer with each allocation failing in turn. */
static void
test_stream_alloc(void)
{
	bool ok = false;
	long n;

	for (n = 1; n < 10000 && !ok; n++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);
		cml_writer_opts o = { .schema = "3.1" };
		cml_stream_writer *sw;
		cml_status st = CML_ERR_NOMEM;

		cml_alloc_fail_after(n);
		sw = cml_stream_writer_new(fp, &o);
		if (sw != NULL && (st = add_documents_to(stream_add, sw)) == CML_OK)
			st = cml_stream_writer_finish(sw);
		cml_alloc_fail_after(0);
		cml_stream_writer_free(sw);
		fclose(fp);
		if (st == CML_OK)
			ok = true;
		else
			CHECK_INT(st, CML_ERR_NOMEM);
		free(buf);
	}
	CHECK(ok);
	CHECK(n > 3);
}

/* ---- the catalog identity (opts.ident) ---- */

static const cml_catalog_ident an_ident = {
	.classifier_id = "cls-opt", .classifier_name = "Классификатор (Опт)",
	.catalog_id = "cat-opt", .catalog_name = "Опт",
	.offers_id = "cat-opt#", .offers_name = "Пакет предложений (Опт)",
};

/* A price-only change of one offer, and nothing else. */
static cml_status
add_price_change(cml_writer *w)
{
	static cml_price prices[] = { { .type_id = "pt1", .value = "10" },
		                      { .type_id = "pt2", .value = "8" } };
	cml_item it = { .kind = CML_ITEM_OFFER };

	it.u.offer.id = it.u.offer.product_id = "prod1";
	it.u.offer.prices = prices;
	it.u.offer.n_prices = 2;
	it.u.offer.has_prices = true;
	return cml_writer_add(w, &it);
}

/* Every catalog file carries the three headers, even when no header item
 * came (a delta from CSV); the input's own header wins and completes the
 * others; a split delta writes only the files with changes. */
static void
test_ident(void)
{
	char *dir = make_dir();
	cml_writer_opts o = { .ident = &an_ident, .only_changes = CML_TRUE };
	cml_writer *w;
	xmlDocPtr d;

	if (dir == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
		CHECK(!"setup");
		return;
	}
	CHECK_INT(add_price_change(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	check_files(w, (const char *const[]){ "import.xml", "offers.xml", NULL });
	cml_writer_free(w);
	d = load(dir, "import.xml");
	CHECK_STR(xs(d, CLS "/c:Ид"), "cls-opt");
	CHECK_STR(xs(d, CLS "/c:Наименование"), "Классификатор (Опт)");
	CHECK_STR(xs(d, CAT "/c:Ид"), "cat-opt");
	CHECK_STR(xs(d, CAT "/c:ИдКлассификатора"), "cls-opt");
	CHECK_STR(xs(d, CAT "/c:Наименование"), "Опт");
	CHECK_STR(xs(d, CAT "/@СодержитТолькоИзменения"), "true");
	CHECK_INT(xcount(d, CAT "/c:Товары"), 0);
	xmlFreeDoc(d);
	d = load(dir, "offers.xml");
	CHECK_STR(xs(d, PKG "/c:Ид"), "cat-opt#");
	CHECK_STR(xs(d, PKG "/c:Наименование"), "Пакет предложений (Опт)");
	CHECK_STR(xs(d, PKG "/c:ИдКаталога"), "cat-opt");
	CHECK_STR(xs(d, PKG "/c:ИдКлассификатора"), "cls-opt");
	CHECK_STR(xs(d, PKG "/@СодержитТолькоИзменения"), "true");
	/* every price type the offer has */
	CHECK_INT(xcount(d, OFFER("prod1") "/c:Цены/c:Цена"), 2);
	xmlFreeDoc(d);
	remove_dir(dir);

	/* the input's ПакетПредложений names its catalog: it wins, and the
	 * Каталог the writer adds says the same */
	if ((dir = make_dir()) == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
		CHECK(!"setup");
		return;
	}
	cml_item pkg = { .kind = CML_ITEM_OFFERS_PACKAGE };
	pkg.u.package.id = "in#";
	pkg.u.package.catalog_id = "cat-in";
	pkg.u.package.classifier_id = "cls-in";
	CHECK_INT(cml_writer_add(w, &pkg), CML_OK);
	CHECK_INT(add_price_change(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	cml_writer_free(w);
	d = load(dir, "import.xml");
	CHECK_STR(xs(d, CLS "/c:Ид"), "cls-in");
	CHECK_STR(xs(d, CAT "/c:Ид"), "cat-in");
	CHECK_STR(xs(d, CAT "/c:ИдКлассификатора"), "cls-in");
	xmlFreeDoc(d);
	d = load(dir, "offers.xml");
	CHECK_STR(xs(d, PKG "/c:Ид"), "in#");
	CHECK_STR(xs(d, PKG "/c:Наименование"), "Пакет предложений (Опт)");
	CHECK_STR(xs(d, PKG "/c:ИдКаталога"), "cat-in");
	xmlFreeDoc(d);
	remove_dir(dir);

	/* split: a price-only delta is the prices file alone, with its header */
	o.layout = CML_LAYOUT_SPLIT;
	if ((dir = make_dir()) == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
		CHECK(!"setup");
		return;
	}
	CHECK_INT(add_price_change(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	check_files(w, (const char *const[]){ "prices___prices.xml", NULL });
	cml_writer_free(w);
	d = load(dir, "prices___prices.xml");
	CHECK_STR(xs(d, PKG "/c:ИдКаталога"), "cat-opt");
	CHECK_STR(xs(d, PKG "/c:Ид"), "cat-opt#");
	CHECK_STR(xs(d, PKG "/@СодержитТолькоИзменения"), "true");
	xmlFreeDoc(d);
	remove_dir(dir);

	/* split, whole: the classifier file is written, with the empty
	 * Каталог header flagged changes-only (УТ 11's shape) */
	o.only_changes = CML_FALSE;
	if ((dir = make_dir()) == NULL || (w = cml_writer_new(dir, &o)) == NULL) {
		CHECK(!"setup");
		return;
	}
	CHECK_INT(add_price_change(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	check_files(w, (const char *const[]){ "import___classifier.xml",
	                                      "prices___prices.xml", NULL });
	cml_writer_free(w);
	d = load(dir, "import___classifier.xml");
	CHECK_STR(xs(d, CLS "/c:Ид"), "cls-opt");
	CHECK_STR(xs(d, CAT "/c:Ид"), "cat-opt");
	CHECK_STR(xs(d, CAT "/@СодержитТолькоИзменения"), "true");
	xmlFreeDoc(d);
	d = load(dir, "prices___prices.xml");
	CHECK_STR(xs(d, PKG "/@СодержитТолькоИзменения"), "false");
	xmlFreeDoc(d);
	remove_dir(dir);

	/* documents alone get no catalog header */
	cml_writer_opts od = { .ident = &an_ident };
	if ((dir = make_dir()) == NULL || (w = cml_writer_new(dir, &od)) == NULL) {
		CHECK(!"setup");
		return;
	}
	CHECK_INT(add_documents(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_OK);
	check_files(w, (const char *const[]){ "orders.xml", "contragents.xml", NULL });
	cml_writer_free(w);
	remove_dir(dir);

	/* an identity XML cannot hold is refused at finish, naming it */
	cml_catalog_ident bad = an_ident;
	bad.catalog_name = "bad\x01name";
	od.ident = &bad;
	if ((dir = make_dir()) == NULL || (w = cml_writer_new(dir, &od)) == NULL) {
		CHECK(!"setup");
		return;
	}
	CHECK_INT(add_price_change(w), CML_OK);
	CHECK_INT(cml_writer_finish(w), CML_ERR_VALUE);
	CHECK(strstr(cml_writer_errmsg(w), "catalog identity: <Наименование>") != NULL);
	cml_writer_free(w);
	CHECK_INT(count_files(dir, NULL, 0), 0);
	remove_dir(dir);
}

int
main(void)
{
	LIBXML_TEST_VERSION
	RUN(test_default);
	RUN(test_cp1251);
	RUN(test_bom_indent);
	RUN(test_split);
	RUN(test_31);
	RUN(test_documents);
	RUN(test_layout);
	RUN(test_escaping);
	RUN(test_errors);
	RUN(test_split_errors);
	RUN(test_abandon);
	RUN(test_modes);
	RUN(test_recover);
	RUN(test_alloc_failures);
	RUN(test_type_geotag);
	RUN(test_stream);
	RUN(test_stream_1251);
	RUN(test_stream_empty);
	RUN(test_stream_misuse);
	RUN(test_stream_full);
	RUN(test_stream_alloc);
	RUN(test_ident);
	xmlCleanupParser();
	return harness_done();
}
