/*
 * test_statusdoc.c: order progress <-> CommerceML documents. Out: the
 * document for an order in each state, every requisite, every line; a
 * round trip through the XML writer and the reader back to the steps.
 * In: the corpus's 1C -> site documents (tests/data/statusdoc), the
 * attachments (invoice, payment, shipment matched by line), the values
 * as 1C spells them, and the documents that name no order. Allocation
 * failures of build in turn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cml/orderfmt.h"
#include "cml/reader.h"
#include "cml/statusdoc.h"
#include "harness.h"

#define S        CML_OS_SCALE
#define DATA_DIR TESTDATA "/statusdoc/"

/* ---- the order the site sent ---- */

static cml_pair line_reqs[] = {{"ВидНоменклатуры", "Товар"}, {"ТипНоменклатуры", "Товар"}};
static cml_pair delivery_reqs[] = {{"ВидНоменклатуры", "Услуга"}, {"ТипНоменклатуры", "Услуга"}};
static cml_doc_line site_lines[] = {
        {.id = "goods-1",
         .name = "Футболка",
         .price = "100",
         .quantity = "3",
         .sum = "300",
         .requisites = line_reqs,
         .n_requisites = 2},
        {.id = "goods-2#blue",
         .name = "Кепка",
         .price = "150",
         .quantity = "2",
         .sum = "300",
         .requisites = line_reqs,
         .n_requisites = 2},
        {.id = "ORDER_DELIVERY",
         .name = "Доставка заказа",
         .price = "400",
         .quantity = "1",
         .sum = "400",
         .requisites = delivery_reqs,
         .n_requisites = 2},
};
static cml_counterparty buyer = {.id = "7#ivan#Иван", .name = "Иван Петров", .role = "Покупатель"};
static cml_pair site_reqs[] = {
        {"Метод оплаты", "Наличный расчет"},
        {"Заказ оплачен", "false"},
        {"Доставка разрешена", "false"},
        {"Отменен", "false"},
        {"Финальный статус", "false"},
        {"Статус заказа", "[N] Принят"},
        {"Дата изменения статуса", "2026-11-01 10:00:00"},
        {"Сайт", "[s1] Магазин"},
};
static const cml_document site_order = {
        .id = "1042",
        .number = "1042",
        .date = "2026-11-01",
        .time = "10:00:00",
        .operation = "Заказ товара",
        .role = "Продавец",
        .currency = "RUB",
        .rate = "1",
        .sum = "1000",
        .counterparties = &buyer,
        .n_counterparties = 1,
        .lines = site_lines,
        .n_lines = 3,
        .requisites = site_reqs,
        .n_requisites = sizeof(site_reqs) / sizeof(site_reqs[0]),
};

/* ---- the states ---- */

enum sname { ST_NEW, ST_INVOICED, ST_PART_PAID, ST_PAID, ST_SHIPPED, ST_COMPLETED, ST_CANCELLED };

static const char *const snames[] = {"new",     "confirmed+invoice", "partly paid", "paid",
                                     "shipped", "completed",         "cancelled"};

static void
step(cml_order_state *st, cml_step s)
{
	cml_os_result res;
	cml_os_apply(st, &s, &res);
	CHECK_INT(res.verdict, CML_OS_APPLIED);
	if (res.verdict != CML_OS_APPLIED)
		fprintf(stderr, "    %s: %s\n", cml_step_name(s.kind), res.why);
}

/* The state by its own steps, as progress would record them. */
static void
make_state(cml_order_state *st, cml_os_line *l, enum sname which)
{
	l[0] = (cml_os_line){3 * S, 0, false};
	l[1] = (cml_os_line){2 * S, 0, false};
	l[2] = (cml_os_line){1 * S, 0, true};
	cml_os_init(st, 1000 * S, l, 3);
	if (which == ST_NEW)
		return;
	if (which == ST_CANCELLED) {
		step(st, (cml_step){.kind = CML_STEP_CANCEL, .reason = "buyer asked"});
		return;
	}
	step(st, (cml_step){.kind = CML_STEP_CONFIRM});
	step(st, (cml_step){.kind = CML_STEP_INVOICE, .number = "СЧ-17", .date = "2026-11-02"});
	if (which == ST_INVOICED)
		return;
	step(st, (cml_step){.kind = CML_STEP_PAY,
	                    .amount = 400 * S,
	                    .number = "ПП-1",
	                    .date = "2026-11-03"});
	if (which == ST_PART_PAID)
		return;
	/* the rest paid without a date: build writes "today" */
	step(st, (cml_step){.kind = CML_STEP_PAY, .number = "ПП-2"});
	if (which == ST_PAID)
		return;
	step(st,
	     (cml_step){.kind = CML_STEP_SHIP, .number = "РН-5", .date = "2026-11-05T14:30:00"});
	if (which == ST_SHIPPED)
		return;
	step(st, (cml_step){.kind = CML_STEP_COMPLETE});
}

static const char *
req(const cml_document *d, const char *name)
{
	const char *v = NULL;
	int seen = 0;
	for (size_t i = 0; i < d->n_requisites; i++)
		if (strcmp(d->requisites[i].name, name) == 0)
			v = d->requisites[i].value, seen++;
	CHECK(seen <= 1); /* never twice */
	return v;
}

/* Every requisite, per state: NULL = not there. */
static const struct {
	const char *num1c, *date1c, *posted, *pay_num, *pay_date, *paid, *ship_num, *ship_date,
	        *shipped, *cancelled, *final, *status;
} want_out[] = {
        [ST_NEW] = {"1042", "2026-11-01", "false", NULL, NULL, "false", NULL, NULL, "false",
                    "false", "false", "[N] Принят"},
        [ST_INVOICED] = {"СЧ-17", "2026-11-02", "true", NULL, NULL, "false", NULL, NULL, "false",
                         "false", "false", "[P] Подтвержден"},
        [ST_PART_PAID] = {"СЧ-17", "2026-11-02", "true", NULL, NULL, "false", NULL, NULL, "false",
                          "false", "false", "[P] Подтвержден"},
        [ST_PAID] = {"СЧ-17", "2026-11-02", "true", "ПП-2", "2026-11-30T00:00:00", "true", NULL,
                     NULL, "false", "false", "false", "[P] Подтвержден"},
        [ST_SHIPPED] = {"СЧ-17", "2026-11-02", "true", "ПП-2", "2026-11-30T00:00:00", "true",
                        "РН-5", "2026-11-05T14:30:00", "true", "false", "false", "[P] Подтвержден"},
        [ST_COMPLETED] = {"СЧ-17", "2026-11-02", "true", "ПП-2", "2026-11-30T00:00:00", "true",
                          "РН-5", "2026-11-05T14:30:00", "true", "false", "true", "[F] Выполнен"},
        [ST_CANCELLED] = {"1042", "2026-11-01", "false", NULL, NULL, "false", NULL, NULL, "false",
                          "true", "false", NULL},
};

/* the map the tests use: N new, P confirmed, F completed, X cancelled */
static const char *
code_for(enum sname s)
{
	return s == ST_NEW ? "N" : s == ST_COMPLETED ? "F" : s == ST_CANCELLED ? NULL : "P";
}

static const char *
name_for(enum sname s)
{
	return s == ST_NEW ? "Принят" : s == ST_COMPLETED ? "Выполнен" : "Подтвержден";
}

static bool
test_map(void *ud, const char *code, cml_os_life *life)
{
	(void)ud;
	static const struct {
		const char *code;
		cml_os_life life;
	} m[] = {{"N", CML_OS_NEW},
	         {"P", CML_OS_CONFIRMED},
	         {"F", CML_OS_COMPLETED},
	         {"X", CML_OS_CANCELLED}};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (strcmp(code, m[i].code) == 0) {
			*life = m[i].life;
			return true;
		}
	return false;
}

static void
test_build(void)
{
	cml_statusdoc *sd = cml_statusdoc_new();
	CHECK(sd != NULL);
	if (sd == NULL)
		return;
	for (int s = ST_NEW; s <= ST_CANCELLED; s++) {
		cml_os_line l[3];
		cml_order_state st;
		const cml_document *d = NULL;
		harness_current = snames[s];
		make_state(&st, l, (enum sname)s);
		CHECK_INT(cml_statusdoc_build(sd, &site_order, &st, 7 + s, code_for((enum sname)s),
		                              name_for((enum sname)s), "2026-11-30", &d),
		          CML_OK);
		if (d == NULL)
			continue;
		/* the order as the site sent it */
		CHECK_STR(d->id, "1042");
		CHECK_STR(d->number, "1042");
		CHECK_STR(d->date, "2026-11-01");
		CHECK_STR(d->sum, "1000");
		CHECK(!d->deleted);
		char v[16];
		snprintf(v, sizeof(v), "%d", 7 + s);
		/* the progress version in a requisite, the element the site's */
		CHECK_STR(req(d, "НомерВерсии"), v);
		CHECK_STR(d->version, site_order.version);
		CHECK_STR(d->number_1c, s == ST_NEW || s == ST_CANCELLED ? NULL : "СЧ-17");
		CHECK_INT(d->n_counterparties, 1);
		CHECK(d->counterparties == site_order.counterparties);
		/* all its lines, the delivery too */
		CHECK_INT(d->n_lines, 3);
		for (size_t i = 0; i < d->n_lines && i < 3; i++) {
			CHECK_STR(d->lines[i].id, site_lines[i].id);
			CHECK_STR(d->lines[i].quantity, site_lines[i].quantity);
		}
		/* the requisites */
		CHECK_STR(req(d, "Номер по 1С"), want_out[s].num1c);
		CHECK_STR(req(d, "Дата по 1С"), want_out[s].date1c);
		CHECK_STR(req(d, "Проведен"), want_out[s].posted);
		CHECK_STR(req(d, "ПометкаУдаления"), "false");
		CHECK_STR(req(d, "Номер оплаты по 1С"), want_out[s].pay_num);
		CHECK_STR(req(d, "Дата оплаты по 1С"), want_out[s].pay_date);
		CHECK_STR(req(d, "Оплачен"), want_out[s].paid);
		CHECK_STR(req(d, "Номер отгрузки по 1С"), want_out[s].ship_num);
		CHECK_STR(req(d, "Дата отгрузки по 1С"), want_out[s].ship_date);
		CHECK_STR(req(d, "Отгружен"), want_out[s].shipped);
		CHECK_STR(req(d, "Отменен"), want_out[s].cancelled);
		CHECK_STR(req(d, "Финальный статус"), want_out[s].final);
		CHECK_STR(req(d, "Статус заказа"), want_out[s].status);
		CHECK_STR(req(d, "Статуса заказа ИД"), code_for((enum sname)s));
		/* the site's own progress requisites are gone, the rest kept */
		CHECK_STR(req(d, "Заказ оплачен"), NULL);
		CHECK_STR(req(d, "Доставка разрешена"), NULL);
		CHECK_STR(req(d, "Дата изменения статуса"), NULL);
		CHECK_STR(req(d, "Метод оплаты"), "Наличный расчет");
		CHECK_STR(req(d, "Сайт"), "[s1] Магазин");
		CHECK_INT(d->n_requisites, 2 + 9 + (want_out[s].pay_num != NULL) * 2 +
		                                   (want_out[s].ship_num != NULL) * 2 +
		                                   (code_for((enum sname)s) != NULL) * 2);
	}
	harness_current = "test_build";
	/* a code without a name: "[CODE]" alone */
	cml_os_line l[3];
	cml_order_state st;
	const cml_document *d = NULL;
	make_state(&st, l, ST_NEW);
	CHECK_INT(cml_statusdoc_build(sd, &site_order, &st, 1, "Z", NULL, "2026-11-30", &d),
	          CML_OK);
	if (d != NULL)
		CHECK_STR(req(d, "Статус заказа"), "[Z]");
	/* the caller's order is untouched */
	CHECK_INT(site_order.n_requisites, 8);
	CHECK_STR(site_order.version, NULL);
	cml_statusdoc_free(sd);
	cml_statusdoc_free(NULL);
}

/* ---- in ---- */

static bool
is_delivery(const cml_doc_line *l)
{
	for (size_t i = 0; i < l->n_requisites; i++)
		if (strcmp(l->requisites[i].name, "ТипНоменклатуры") == 0 &&
		    strcmp(l->requisites[i].value, "Услуга") == 0)
			return true;
	return l->id != NULL && strcmp(l->id, "ORDER_DELIVERY") == 0;
}

static void
check_step(const cml_statusdoc_update *u, size_t i, cml_step_kind kind, const char *number,
           const char *date)
{
	CHECK(i < u->n_steps);
	if (i >= u->n_steps)
		return;
	CHECK_STR(cml_step_name(u->steps[i].kind), cml_step_name(kind));
	CHECK_STR(u->steps[i].number, number);
	CHECK_STR(u->steps[i].date, date);
}

/* Build -> XML -> reader -> read: the steps the document carries, and
 * they bring a fresh order to the same place. */
static void
test_round_trip(void)
{
	static const cml_writer_opts opts[] = {{.schema = "2.05"}, {.schema = "3.1"}};
	/* what each state's document asks for */
	static const struct {
		int n;
		cml_step_kind k[4];
	} want[] = {
	        [ST_NEW] = {0, {0}},
	        [ST_INVOICED] = {1, {CML_STEP_CONFIRM}},
	        [ST_PART_PAID] = {1, {CML_STEP_CONFIRM}}, /* a part payment does not travel */
	        [ST_PAID] = {2, {CML_STEP_CONFIRM, CML_STEP_PAY}},
	        [ST_SHIPPED] = {3, {CML_STEP_CONFIRM, CML_STEP_PAY, CML_STEP_SHIP}},
	        [ST_COMPLETED] = {4,
	                          {CML_STEP_CONFIRM, CML_STEP_PAY, CML_STEP_SHIP,
	                           CML_STEP_COMPLETE}},
	        [ST_CANCELLED] = {1, {CML_STEP_CANCEL}},
	};
	cml_statusdoc *sd = cml_statusdoc_new();
	if (sd == NULL)
		return;
	for (size_t o = 0; o < sizeof(opts) / sizeof(opts[0]); o++)
		for (int s = ST_NEW; s <= ST_CANCELLED; s++) {
			cml_os_line l[3];
			cml_order_state st;
			const cml_document *d = NULL;
			char name[64];
			snprintf(name, sizeof(name), "%s %s", snames[s], opts[o].schema);
			harness_current = name;
			make_state(&st, l, (enum sname)s);
			if (cml_statusdoc_build(sd, &site_order, &st, 3, code_for((enum sname)s),
			                        name_for((enum sname)s), "2026-11-30",
			                        &d) != CML_OK)
				continue;
			char *buf = NULL;
			size_t len = 0;
			FILE *fp = open_memstream(&buf, &len);
			cml_orderfmt *f = cml_orderfmt_new(fp, CML_ORDERFMT_XML, &opts[o]);
			CHECK(f != NULL);
			CHECK_INT(cml_orderfmt_add(f, d, NULL), CML_OK);
			CHECK_INT(cml_orderfmt_finish(f), CML_OK);
			cml_orderfmt_free(f);
			fclose(fp);

			cml_reader *r = cml_reader_new(NULL);
			const cml_item *it = NULL;
			int docs = 0;
			cml_status rs = cml_reader_open_memory(r, buf, len, "mem");
			while (rs == CML_OK && (rs = cml_reader_next(r, &it)) == CML_OK) {
				if (it->kind != CML_ITEM_DOCUMENT)
					continue;
				docs++;
				cml_statusdoc_update u;
				char why[200];
				CHECK_INT(cml_statusdoc_read(&it->u.document, site_lines, 3,
				                             test_map, NULL, &u, why, sizeof(why)),
				          CML_OK);
				CHECK_STR(u.order_id, "1042");
				CHECK_STR(u.order_number, "1042");
				CHECK_STR(u.version, "3");
				CHECK_STR(u.status_code, code_for((enum sname)s));
				CHECK(!u.status_unmapped);
				CHECK_INT(u.n_steps, want[s].n);
				for (int i = 0; i < want[s].n && (size_t)i < u.n_steps; i++)
					CHECK_STR(cml_step_name(u.steps[i].kind),
					          cml_step_name(want[s].k[i]));
				/* the steps bring a new order, invoiced (invoices do
				 * not travel in an order document), to the same state */
				cml_os_line l2[3];
				cml_order_state back;
				make_state(&back, l2, ST_NEW);
				if (s != ST_NEW && s != ST_CANCELLED) {
					step(&back, (cml_step){.kind = CML_STEP_CONFIRM});
					step(&back, (cml_step){.kind = CML_STEP_INVOICE,
					                       .number = "СЧ-17"});
				}
				for (size_t i = 0; i < u.n_steps; i++) {
					cml_os_result res;
					cml_os_apply(&back, &u.steps[i], &res);
					CHECK(res.verdict != CML_OS_REFUSED);
				}
				CHECK_INT(back.life, st.life);
				CHECK_INT(back.shipment, st.shipment);
				CHECK_INT(back.payment,
				          s == ST_PART_PAID ? CML_OS_PAY_NONE : (int)st.payment);
				if (s >= ST_PAID && s <= ST_COMPLETED) {
					CHECK_STR(back.payment_number, "ПП-2");
					CHECK_STR(back.payment_date, "2026-11-30T00:00:00");
				}
				if (s >= ST_SHIPPED && s <= ST_COMPLETED) {
					CHECK_STR(back.shipment_number, "РН-5");
					CHECK_STR(back.shipment_date, "2026-11-05T14:30:00");
				}
			}
			CHECK_INT(rs, CML_END);
			CHECK_INT(docs, 1);
			cml_reader_free(r);
			free(buf);
		}
	harness_current = "test_round_trip";
	cml_statusdoc_free(sd);
}

/* Every document of a corpus file through read; calls fn on each. */
static int
each_doc(const char *file, void (*fn)(const cml_document *, const cml_statusdoc_update *, int))
{
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it = NULL;
	int n = 0;
	cml_status rs = cml_reader_open_file(r, file);
	while (rs == CML_OK && (rs = cml_reader_next(r, &it)) == CML_OK) {
		if (it->kind != CML_ITEM_DOCUMENT)
			continue;
		cml_statusdoc_update u;
		char why[200];
		cml_status st = cml_statusdoc_read(&it->u.document, NULL, 0, test_map, NULL, &u,
		                                   why, sizeof(why));
		CHECK_INT(st, CML_OK);
		if (st != CML_OK)
			fprintf(stderr, "    %s: %s\n", file, why);
		else
			fn(&it->u.document, &u, n);
		n++;
	}
	CHECK_INT(rs, CML_END);
	if (rs != CML_END)
		fprintf(stderr, "    %s: %s\n", file, cml_reader_errmsg(r));
	cml_reader_free(r);
	return n;
}

/* 3.1 Bitrix module fixtures: Проведен, Отменен=false, Отгружен with the
 * shipment's number and date. */
static void
m6(const cml_document *d, const cml_statusdoc_update *u, int i)
{
	(void)d;
	static const char *const ids[] = {"319", "479", "480", "481"};
	static const char *const changed[] = {"2017-08-01T15:46:09", "2017-08-01T16:05:23",
	                                      "2017-08-04T04:39:17", "2017-08-04T04:42:55"};
	CHECK(i < 4);
	if (i >= 4)
		return;
	CHECK_STR(u->order_id, ids[i]);
	CHECK_STR(u->order_number, ids[i]);
	CHECK_STR(u->changed, changed[i]);
	CHECK(u->version != NULL);
	CHECK_STR(u->status_code, NULL);
	switch (i) {
	case 0:
		CHECK_INT(u->n_steps, 1);
		check_step(u, 0, CML_STEP_CONFIRM, NULL, NULL);
		break;
	case 1:
		CHECK_INT(u->n_steps, 2);
		check_step(u, 0, CML_STEP_CONFIRM, NULL, NULL);
		check_step(u, 1, CML_STEP_SHIP, "О0000000966", "2017-08-02T18:36:44");
		CHECK_INT(u->steps[1].n_qty, 0);
		break;
	case 2:
		CHECK_INT(u->n_steps, 0); /* not posted, nothing else */
		break;
	case 3:
		CHECK_INT(u->n_steps, 2);
		check_step(u, 1, CML_STEP_SHIP, "О0000000974", "2017-08-04T12:17:52");
		break;
	}
}

/* UT 11's status document: Оплачен/Отгружен with their numbers, an hour
 * written "9". */
static void
dicr(const cml_document *d, const cml_statusdoc_update *u, int i)
{
	(void)d;
	CHECK_INT(i, 0);
	CHECK_STR(u->order_id, "24c82d03-7149-11eb-80c0-7085c2ddb497");
	CHECK_STR(u->order_number, "13838");
	CHECK_STR(u->status_code, NULL); /* "Отправлен" carries no code */
	CHECK_INT(u->n_steps, 3);
	check_step(u, 0, CML_STEP_CONFIRM, NULL, NULL);
	check_step(u, 1, CML_STEP_PAY, "НФНФ-000001", "2021-02-18T09:49:02");
	check_step(u, 2, CML_STEP_SHIP, "НФНФ-000001", "2021-02-18T09:49:02");
	if (u->n_steps == 3)
		CHECK_INT(u->steps[1].amount, 0); /* what is due */
}

/* 2.09: payment and shipment by requisites, a status Ид the map knows. */
static void
argent(const cml_document *d, const cml_statusdoc_update *u, int i)
{
	(void)d;
	CHECK(i < 2);
	CHECK_STR(u->status_code, "P");
	CHECK(!u->status_unmapped);
	if (i == 0) {
		CHECK_STR(u->order_id, "142");
		CHECK_STR(u->version, "AAAAEAAAAAA=");
		CHECK_INT(u->n_steps, 3);
		check_step(u, 0, CML_STEP_CONFIRM, NULL, NULL);
		check_step(u, 1, CML_STEP_PAY, "ТДЦУ-000001", "2015-06-29T15:39:10");
		check_step(u, 2, CML_STEP_SHIP, "ТДЦУ-000003", "2015-06-29T17:32:27");
	} else {
		CHECK_STR(u->order_id, "235");
		CHECK_INT(u->n_steps, 2);
		check_step(u, 1, CML_STEP_PAY, "ТДЦУ-000002", "2015-06-29T16:36:25");
	}
}

/* 2.03: a site's own order (status "[N] Принят", a change time with a
 * space), then two status-only updates. */
static void
offdoc(const cml_document *d, const cml_statusdoc_update *u, int i)
{
	(void)d;
	static const char *const ids[] = {"36", "92", "93"};
	CHECK(i < 3);
	if (i >= 3)
		return;
	CHECK_STR(u->order_id, ids[i]);
	if (i == 0) {
		CHECK_STR(u->status_code, "N");
		CHECK_STR(u->changed, "2007-10-30T15:19:27");
		CHECK_INT(u->n_steps, 0);
	} else {
		CHECK_STR(u->status_code, NULL);
		CHECK_INT(u->n_steps, 1);
		check_step(u, 0, CML_STEP_CONFIRM, NULL, NULL);
	}
}

static void
test_corpus(void)
{
	static const struct {
		const char *file;
		void (*fn)(const cml_document *, const cml_statusdoc_update *, int);
		int docs;
	} files[] = {
	        {"irpsv__commerceml__tests_assets_bitrix-module-6_documents_2_documents.xml", m6,
	         4},
	        {"dicrtarasov__yii2-exchange1c__doc_orders.xml", dicr, 1},
	        {"ArgentCrusade__commerceml__tests_fixtures_documents-example.xml", argent, 2},
	        {"irpsv__commerceml__tests_assets_off-doc-1c_orders.xml", offdoc, 3},
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s%s", DATA_DIR, files[i].file);
		harness_current = files[i].file;
		CHECK_INT(each_doc(path, files[i].fn), files[i].docs);
	}
	harness_current = "test_corpus";
}

/* Every order file of the shared corpus: every document reads (or is
 * refused with a reason), and its steps go through the state machine of
 * an order with the document's own lines. */
static void
test_whole_corpus(void)
{
	char line[2048], file[4096];
	FILE *fp = fopen(CORPUS "/SOURCES.tsv", "r");
	int files = 0, docs = 0, steps = 0, refused = 0;
	if (fp == NULL) {
		printf("no %s/SOURCES.tsv: the copies in tests/data/statusdoc only\n", CORPUS);
		return;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *tab;
		int col = 0;
		const char *kind = NULL;
		line[strcspn(line, "\n")] = '\0';
		for (char *p = line; (tab = strchr(p, '\t')) != NULL; p = tab + 1) {
			*tab = '\0';
			if (++col == 5)
				kind = tab + 1;
		}
		if (kind == NULL || strcmp(kind, "orders") != 0)
			continue;
		snprintf(file, sizeof(file), "%s/%s", CORPUS, line);
		harness_current = line;
		files++;
		cml_reader *r = cml_reader_new(NULL);
		const cml_item *it = NULL;
		cml_status rs = cml_reader_open_file(r, file);
		while (rs == CML_OK && (rs = cml_reader_next(r, &it)) == CML_OK) {
			if (it->kind != CML_ITEM_DOCUMENT)
				continue;
			const cml_document *d = &it->u.document;
			cml_statusdoc_update u;
			char why[200];
			docs++;
			cml_status st = cml_statusdoc_read(d, d->lines, d->n_lines, test_map, NULL,
			                                   &u, why, sizeof(why));
			if (st != CML_OK) {
				CHECK_INT(st, CML_ERR_VALUE);
				CHECK(why[0] != '\0');
				refused++;
				continue;
			}
			CHECK(u.n_steps <= CML_STATUSDOC_MAX_STEPS);
			CHECK(u.order_id != NULL && u.order_number != NULL);
			cml_os_line l[64];
			cml_order_state os;
			size_t n = d->n_lines < 64 ? d->n_lines : 64;
			for (size_t i = 0; i < n; i++) {
				int64_t q = 0;
				l[i] = (cml_os_line){0, 0, is_delivery(&d->lines[i])};
				CHECK(cml_os_amount_parse(d->lines[i].quantity, &q) ||
				      d->lines[i].quantity == NULL);
				l[i].ordered = q;
			}
			int64_t total = 0;
			CHECK(d->sum == NULL || cml_os_amount_parse(d->sum, &total));
			cml_os_init(&os, total, l, n);
			os.postpaid = true;
			for (size_t i = 0; i < u.n_steps; i++) {
				cml_os_result res;
				if (u.steps[i].n_qty > n)
					continue;
				cml_os_apply(&os, &u.steps[i], &res);
				CHECK(res.verdict != CML_OS_REFUSED ||
				      res.rule != CML_OS_RULE_BAD_STEP);
				if (res.verdict == CML_OS_REFUSED &&
				    res.rule == CML_OS_RULE_BAD_STEP)
					fprintf(stderr, "    %s: %s\n", u.order_id, res.why);
				steps++;
			}
		}
		CHECK_INT(rs, CML_END);
		cml_reader_free(r);
	}
	fclose(fp);
	harness_current = "test_whole_corpus";
	CHECK(files > 10);
	printf("corpus: %d order files, %d documents, %d steps, %d named no order\n", files, docs,
	       steps, refused);
}

static cml_status
read1(const cml_document *d, cml_statusdoc_update *u, char *why)
{
	return cml_statusdoc_read(d, site_lines, 3, test_map, NULL, u, why, 200);
}

/* Values as 1C writes them, and what asks for nothing. */
static void
test_values(void)
{
	cml_statusdoc_update u;
	char why[200];
	cml_pair a[] = {{"ПРОВЕДЕН", "Да"},
	                {"Дата оплаты по 1С", "30.11.2026 12:00:00"},
	                {"доставка разрешена", "TRUE"},
	                {"Дата отгрузки по 1С", "T"},
	                {"Номер отгрузки по 1С", ""},
	                {"Финальный статус", "Нет"},
	                {"Отменен", "false"},
	                {"Статуса заказа ИД", "Q"}};
	cml_document d = {.id = "9", .requisites = a, .n_requisites = 8};
	CHECK_INT(read1(&d, &u, why), CML_OK);
	CHECK_STR(u.order_number, "");
	CHECK_INT(u.n_steps, 3);
	check_step(&u, 0, CML_STEP_CONFIRM, NULL, NULL);
	check_step(&u, 1, CML_STEP_PAY, NULL, "2026-11-30T12:00:00");
	check_step(&u, 2, CML_STEP_ALLOW_SHIPMENT, NULL, NULL);
	CHECK_STR(u.status_code, "Q");
	CHECK(u.status_unmapped);
	CHECK_STR(u.changed, NULL);
	CHECK_STR(u.version, NULL);

	/* nothing: false, empty dates (1C's 0001-01-01 too), no requisites */
	cml_pair b[] = {{"Проведен", "false"},       {"Дата оплаты по 1С", "0001-01-01T00:00:00"},
	                {"Оплачен", "false"},        {"Отгружен", "нет"},
	                {"Дата отгрузки по 1С", ""}, {"ПометкаУдаления", "false"}};
	cml_document e = {.number = "77",
	                  .date = "2026-11-29",
	                  .time = "8:05:00",
	                  .requisites = b,
	                  .n_requisites = 6};
	CHECK_INT(read1(&e, &u, why), CML_OK);
	CHECK_INT(u.n_steps, 0);
	CHECK_STR(u.order_id, "");
	CHECK_STR(u.order_number, "77");
	CHECK_STR(u.changed, "2026-11-29T08:05:00");

	/* cancel: the element, the requisite, Отменен, a mapped code */
	cml_pair c[] = {{"Отменен", "true"}, {"Причина отмены", "нет в наличии"}};
	cml_document f = {.id = "9", .requisites = c, .n_requisites = 2};
	CHECK_INT(read1(&f, &u, why), CML_OK);
	CHECK_INT(u.n_steps, 1);
	check_step(&u, 0, CML_STEP_CANCEL, NULL, NULL);
	if (u.n_steps == 1)
		CHECK_STR(u.steps[0].reason, "нет в наличии");
	cml_document g = {.id = "9", .deleted = true};
	CHECK_INT(read1(&g, &u, why), CML_OK);
	CHECK_INT(u.n_steps, 1);
	check_step(&u, 0, CML_STEP_CANCEL, NULL, NULL);
	cml_pair h[] = {{"Статус заказа", "[F] Выполнен"}};
	cml_document k = {.id = "9", .requisites = h, .n_requisites = 1};
	CHECK_INT(read1(&k, &u, why), CML_OK);
	CHECK_STR(u.status_code, "F");
	CHECK_INT(u.n_steps, 1);
	check_step(&u, 0, CML_STEP_COMPLETE, NULL, NULL);
	cml_pair x[] = {{"Статуса заказа ИД", "X"}};
	cml_document m = {.id = "9", .requisites = x, .n_requisites = 1};
	CHECK_INT(read1(&m, &u, why), CML_OK);
	CHECK_INT(u.n_steps, 1);
	check_step(&u, 0, CML_STEP_CANCEL, NULL, NULL);

	/* a date that is none: passed on as written, so the state machine
	 * refuses it by name */
	cml_pair bad[] = {{"Дата оплаты по 1С", "29 ноября"}};
	cml_document n = {.id = "9", .requisites = bad, .n_requisites = 1};
	CHECK_INT(read1(&n, &u, why), CML_OK);
	check_step(&u, 0, CML_STEP_PAY, NULL, "29 ноября");

	/* names no order */
	cml_document none = {.date = "2026-11-30"};
	CHECK_INT(read1(&none, &u, why), CML_ERR_VALUE);
	CHECK(strstr(why, "neither Ид nor Номер") != NULL);
	cml_document orphan = {.id = "pay-1", .operation = "Выплата наличных денег", .sum = "5"};
	CHECK_INT(read1(&orphan, &u, why), CML_ERR_VALUE);
	CHECK(strstr(why, "pay-1") != NULL && strstr(why, "Основание") != NULL);
}

/* Payment, invoice and shipment documents beside the order. */
static void
test_attachments(void)
{
	cml_statusdoc_update u;
	char why[200];
	cml_document inv = {.id = "inv-1",
	                    .number = "СЧ-9",
	                    .date = "2026-11-02",
	                    .operation = "Счёт на оплату покупателю",
	                    .basis = "1042"};
	CHECK_INT(read1(&inv, &u, why), CML_OK);
	CHECK_STR(u.order_id, "1042");
	CHECK_STR(u.order_number, "");
	CHECK_INT(u.n_steps, 1);
	check_step(&u, 0, CML_STEP_INVOICE, "СЧ-9", "2026-11-02");

	static const char *const payops[] = {"Выплата безналичных денег", "Выплата наличных денег",
	                                     "Эквайринговая операция", "ОПЛАТА"};
	for (size_t i = 0; i < 4; i++) {
		cml_document pay = {.id = "p",
		                    .number = "ПП-7",
		                    .date = "2026-11-03",
		                    .time = "11:00:00",
		                    .operation = payops[i],
		                    .sum = "250.5",
		                    .basis = "1042"};
		harness_current = payops[i];
		CHECK_INT(read1(&pay, &u, why), CML_OK);
		CHECK_INT(u.n_steps, 1);
		check_step(&u, 0, CML_STEP_PAY, "ПП-7", "2026-11-03");
		CHECK_INT(u.steps[0].amount, 2505000);
		CHECK_STR(u.changed, "2026-11-03T11:00:00");
	}
	harness_current = "test_attachments";
	cml_document badsum = {.id = "p", .operation = "Оплата", .sum = "много", .basis = "1042"};
	CHECK_INT(read1(&badsum, &u, why), CML_ERR_VALUE);
	CHECK(strstr(why, "много") != NULL);
	/* a payment marked for deletion, or not posted, pays nothing */
	cml_document gone = {
	        .id = "p", .operation = "Оплата", .sum = "5", .basis = "1042", .deleted = true};
	CHECK_INT(read1(&gone, &u, why), CML_OK);
	CHECK_INT(u.n_steps, 0);
	cml_pair unposted[] = {{"Проведен", "false"}};
	cml_document draft = {.id = "p",
	                      .operation = "Оплата",
	                      .sum = "5",
	                      .basis = "1042",
	                      .requisites = unposted,
	                      .n_requisites = 1};
	CHECK_INT(read1(&draft, &u, why), CML_OK);
	CHECK_INT(u.n_steps, 0);

	/* a shipment: its lines onto the order's by Ид, services left out */
	cml_doc_line sl[] = {
	        {.id = "goods-2#blue", .quantity = "1"},
	        {.id = "ORDER_DELIVERY", .quantity = "1"},
	        {.id = "goods-2#blue", .quantity = "0.5"},
	        {.id = "svc-1c", .quantity = "1", .requisites = delivery_reqs, .n_requisites = 2},
	};
	cml_document ship = {.id = "s",
	                     .number = "РН-3",
	                     .date = "2026-11-05",
	                     .operation = "Отпуск товара",
	                     .basis = "1042",
	                     .lines = sl,
	                     .n_lines = 4};
	CHECK_INT(read1(&ship, &u, why), CML_OK);
	CHECK_INT(u.n_steps, 1);
	check_step(&u, 0, CML_STEP_SHIP, "РН-3", "2026-11-05");
	if (u.n_steps == 1) {
		CHECK_INT(u.steps[0].n_qty, 3);
		CHECK_INT(u.steps[0].qty[0], 0);
		CHECK_INT(u.steps[0].qty[1], 15000);
		CHECK_INT(u.steps[0].qty[2], 0);
	}
	/* the order's lines unknown: every line's rest */
	CHECK_INT(cml_statusdoc_read(&ship, NULL, 0, NULL, NULL, &u, why, sizeof(why)), CML_OK);
	CHECK_INT(u.steps[0].n_qty, 0);
	/* a goods line the order does not have */
	cml_doc_line stray[] = {{.id = "goods-9", .quantity = "1"}};
	ship.lines = stray, ship.n_lines = 1;
	CHECK_INT(read1(&ship, &u, why), CML_ERR_VALUE);
	CHECK(strstr(why, "goods-9 is not in the order") != NULL);
	cml_doc_line badq[] = {{.id = "goods-1", .quantity = "x"}};
	ship.lines = badq;
	CHECK_INT(read1(&ship, &u, why), CML_ERR_VALUE);
	/* Реализация товаров too */
	ship.operation = "Реализация товаров и услуг";
	ship.lines = sl, ship.n_lines = 1;
	CHECK_INT(read1(&ship, &u, why), CML_OK);
	check_step(&u, 0, CML_STEP_SHIP, "РН-3", "2026-11-05");
	/* another kind of document asks for nothing */
	cml_document other = {.id = "o", .operation = "Возврат товара", .basis = "1042"};
	CHECK_INT(read1(&other, &u, why), CML_OK);
	CHECK_INT(u.n_steps, 0);
	CHECK_STR(u.order_id, "1042");
}

/* Each allocation of build made to fail in turn. */
static void
test_alloc_failures(void)
{
	cml_os_line l[3];
	cml_order_state st;
	make_state(&st, l, ST_COMPLETED);
	bool ok = false;
	long n;
	for (n = 1; n < 1000 && !ok; n++) {
		const cml_document *d = NULL;
		cml_status s = CML_ERR_NOMEM;
		cml_alloc_fail_after(n);
		cml_statusdoc *sd = cml_statusdoc_new();
		if (sd != NULL)
			s = cml_statusdoc_build(sd, &site_order, &st, 1, "F", "Выполнен",
			                        "2026-11-30", &d);
		cml_alloc_fail_after(0);
		if (s == CML_OK) {
			ok = true;
			CHECK(d != NULL && d->n_requisites > 10);
		} else {
			CHECK_INT(s, CML_ERR_NOMEM);
			CHECK(d == NULL);
		}
		cml_statusdoc_free(sd);
	}
	CHECK(ok);
	CHECK(n > 2);
}

int
main(void)
{
	RUN(test_build);
	RUN(test_round_trip);
	RUN(test_corpus);
	RUN(test_whole_corpus);
	RUN(test_values);
	RUN(test_attachments);
	RUN(test_alloc_failures);
	return harness_done();
}
