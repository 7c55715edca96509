/*
 * test_progress.c: order progress in the store (lib/progress.c): the
 * migration of a schema-5 database, an order without progress loaded as
 * NEW from the ledger, applied / noop / refused / stale steps each
 * storing or not, the step log with its sources, delivery (a refusal
 * kept, never back, a later step pending again), finding an order by
 * Ид and Номер and the ambiguous cases, the list filters, the status map
 * (defaults, set, send moving, delete, a site's over every site's, an
 * emptied map), a changed basket keeping the progress, a rolled-back
 * run leaving nothing, and allocation failures.
 *
 * "test_progress --bench [N]" times N orders (of three lines) taking
 * four steps each in one run, listing the pending ones, and marking them
 * delivered (default 20000).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cml/ledger.h"
#include "cml/progress.h"
#include "cml/register.h"
#include "cml/store.h"
#include "harness.h"
#include "harness_db.h"

#define S            CML_OS_SCALE
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[64];



static bool
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
	          sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
	if (!ok)
		fprintf(stderr, "sql: %s\n", sqlite3_errmsg(db));
	sqlite3_close(db);
	return ok;
}

static cml_store *
open_db(const char *path)
{
	char err[512];
	cml_status st;
	cml_store *s = cml_store_open(path, NULL, &st, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "open %s: %s\n", path, err);
	return s;
}

/* ---- orders in the ledger ---- */

/* An order of two goods (2 and 1) and the delivery line: 350. */
struct order {
	cml_document d;
	cml_doc_line lines[4];
	cml_pair req[2];
};

static void
order_init(struct order *o, const char *id, const char *number)
{
	memset(o, 0, sizeof(*o));
	o->req[0] = (cml_pair){"ВидНоменклатуры", "Услуга"};
	o->req[1] = (cml_pair){"ТипНоменклатуры", "Услуга"};
	o->lines[0] = (cml_doc_line){
	        .id = "g1", .name = "Футболка", .price = "100", .quantity = "2", .sum = "200"};
	o->lines[1] = (cml_doc_line){
	        .id = "g2", .name = "Кепка", .price = "100", .quantity = "1", .sum = "100"};
	o->lines[2] = (cml_doc_line){.id = "ORDER_DELIVERY",
	                             .name = "Доставка заказа",
	                             .price = "50",
	                             .quantity = "1",
	                             .sum = "50"};
	o->d = (cml_document){.id = id,
	                      .number = number,
	                      .date = "2026-11-30",
	                      .operation = "Заказ товара",
	                      .role = "Продавец",
	                      .currency = "RUB",
	                      .sum = "350",
	                      .lines = o->lines,
	                      .n_lines = 3};
}

static void
put_order(cml_store *s, const char *site, const cml_document *d)
{
	CHECK(cml_store_run_begin(s, "orders-pull") == CML_OK);
	CHECK(cml_ledger_put(s, site, d, NULL) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
}

/* A database with order "o1" (Номер 1) of shop. */
static cml_store *
db_with_order(char *path, size_t cap)
{
	struct order o;

	harness_db_path(tmpdir, path, cap);
	cml_store *s = open_db(path);
	if (s == NULL)
		return NULL;
	order_init(&o, "o1", "1");
	put_order(s, "shop", &o.d);
	return s;
}

/* ---- steps ---- */

static cml_step
step_of(cml_step_kind k)
{
	return (cml_step){.kind = k};
}

static const cml_progress_source cli = {.kind = "cli"};

/* One step in a run of its own; the outcome. */
static cml_progress_outcome
apply1(cml_store *s, const char *site, const char *id, const cml_step *step,
       const cml_progress_source *src, cml_progress_result *res)
{
	cml_progress_result r;

	if (res == NULL)
		res = &r;
	CHECK(cml_store_run_begin(s, "orders-status") == CML_OK);
	cml_status st = cml_progress_apply(s, site, id, step, src, res);
	CHECK_INT(st, CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	return st == CML_OK ? res->outcome : (cml_progress_outcome)-1;
}

static int64_t
version_of(cml_store *s, const char *site, const char *id)
{
	cml_progress_order o;

	if (cml_progress_load(s, site, id, &o) != CML_OK)
		return -1;
	return o.version;
}

static int
steps_of(cml_store *s, const char *site, const char *id)
{
	void *cur = NULL;
	cml_progress_step ps;
	int n = 0;
	cml_status st;

	while ((st = cml_progress_steps(s, site, id, &cur, &ps)) == CML_OK)
		n++;
	CHECK_INT(st, CML_END);
	cml_progress_end(s, &cur);
	return n;
}

/* ---- the tests ---- */

/*
 * A database of schema version 5 (the register, no progress), made by
 * the current code and then stripped of what migrations 6 and 7 add, with an
 * order in its ledger: opening it adds the progress tables, the order
 * is NEW and takes steps.
 */
static void
test_migrate_v5(void)
{
	char path[128], err[512];
	cml_status st;
	cml_store *s = db_with_order(path, sizeof(path));

	if (s == NULL)
		return;
	cml_store_close(s);
	CHECK(sql_exec(path, "DROP VIEW status_map_now; DROP TABLE status_map;"
	                     "DROP TABLE order_steps; DROP TABLE order_progress;"
	                     "DROP INDEX orders_id; DROP INDEX orders_number;"
	                     "ALTER TABLE generations DROP COLUMN pruned;"
	                     "ALTER TABLE generations DROP COLUMN pruned_parts;"
	                     "PRAGMA user_version = 5;"));
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE name IN "
	                        "('order_progress', 'order_steps', 'status_map')"),
	          0);
	cml_store_opts ro = {.read_only = true};
	s = cml_store_open(path, &ro, &st, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "needs an upgrade to schema version 7") != NULL);
	s = open_db(path);
	if (s == NULL)
		return;
	CHECK_INT(sql_int(path, "PRAGMA user_version"), 7);
	CHECK_INT(cml_store_schema_version(), 7);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name "
	                        "IN ('order_progress', 'order_steps', 'status_map')"),
	          3);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name "
	                        "IN ('order_progress_pending', 'status_map_send', 'orders_id', "
	                        "'orders_number')"),
	          4);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM orders"), 1);
	CHECK_INT(version_of(s, "shop", "o1"), 0);
	cml_step c = step_of(CML_STEP_CONFIRM);
	CHECK_INT(apply1(s, "shop", "o1", &c, &cli, NULL), CML_PROGRESS_APPLIED);
	CHECK_INT(version_of(s, "shop", "o1"), 1);
	cml_os_life life;
	CHECK(cml_status_map_lookup(s, "shop", "F", &life) == CML_OK && life == CML_OS_COMPLETED);
	cml_store_close(s);
	/* the lookups the program makes use the indexes */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM (SELECT 1 FROM orders WHERE number = '1' "
	                        "AND number <> '')"),
	          1);
}

/* Before any step the order is NEW over its ledger revision. */
static void
test_load_new(void)
{
	char path[128];
	cml_progress_order o;
	cml_store *s = db_with_order(path, sizeof(path));

	if (s == NULL)
		return;
	CHECK(cml_progress_load(s, "shop", "o1", &o) == CML_OK);
	CHECK_STR(o.site, "shop");
	CHECK_STR(o.id, "o1");
	CHECK_STR(o.number, "1");
	CHECK_STR(o.date, "2026-11-30");
	CHECK_STR(o.currency, "RUB");
	CHECK_INT(o.state.life, CML_OS_NEW);
	CHECK_INT(o.state.invoice, CML_OS_INVOICE_NONE);
	CHECK_INT(o.state.payment, CML_OS_PAY_NONE);
	CHECK_INT(o.state.shipment, CML_OS_SHIP_NONE);
	CHECK_INT(o.state.total, 350 * S);
	CHECK_INT(o.state.n_lines, 3);
	if (o.state.n_lines == 3) {
		CHECK_INT(o.state.lines[0].ordered, 2 * S);
		CHECK(!o.state.lines[0].service);
		CHECK_INT(o.state.lines[1].ordered, 1 * S);
		CHECK(o.state.lines[2].service);
	}
	CHECK(!o.state.counterparty_open);
	CHECK_INT(o.version, 0);
	CHECK_INT(o.delivered, 0);
	CHECK_STR(o.delivered_at, "");
	CHECK_STR(o.site_refusal, "");
	CHECK_STR(o.updated, "");
	CHECK_STR(o.status_code, "");
	CHECK_INT(cml_progress_load(s, "shop", "nope", &o), CML_END);
	CHECK_INT(cml_progress_load(s, "other", "o1", &o), CML_END);

	/* a service by its ТипНоменклатуры; no Сумма: the lines' sums */
	struct order x;
	order_init(&x, "o2", "2");
	x.lines[1].requisites = x.req;
	x.lines[1].n_requisites = 2;
	x.d.sum = NULL;
	put_order(s, "shop", &x.d);
	CHECK(cml_progress_load(s, "shop", "o2", &o) == CML_OK);
	CHECK_INT(o.state.total, 350 * S);
	CHECK(o.state.n_lines == 3 && o.state.lines[1].service && !o.state.lines[0].service);
	/* an open review of the buyer */
	cml_review r = {.site = "shop",
	                .order_id = "o2",
	                .order_number = "2",
	                .rule = "conflict",
	                .reason = "two cards"};
	CHECK(cml_store_run_begin(s, "cp-match") == CML_OK);
	CHECK(cml_register_review_put(s, &r, NULL) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_progress_load(s, "shop", "o2", &o) == CML_OK);
	CHECK(o.state.counterparty_open);
	cml_step c = step_of(CML_STEP_CONFIRM);
	cml_progress_result res;
	CHECK_INT(apply1(s, "shop", "o2", &c, &cli, &res), CML_PROGRESS_REFUSED);
	CHECK_INT(res.os.rule, CML_OS_RULE_COUNTERPARTY_OPEN);
	CHECK_INT(version_of(s, "shop", "o2"), 0);
	/* settled: confirm goes */
	CHECK(cml_store_run_begin(s, "cp-match") == CML_OK);
	cml_cp_card card = {.id = "C1", .name = "Ромашка"};
	CHECK(cml_register_put(s, &card, NULL) == CML_OK);
	CHECK(cml_register_resolve(s, "shop", "o2", "C1") == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(apply1(s, "shop", "o2", &c, &cli, NULL), CML_PROGRESS_APPLIED);
	cml_store_close(s);
}

/* Applied steps store and log; noop, refused and stale store nothing. */
static void
test_apply(void)
{
	char path[128];
	cml_progress_result res;
	cml_progress_order o;
	cml_store *s = db_with_order(path, sizeof(path));

	if (s == NULL)
		return;
	cml_step confirm = step_of(CML_STEP_CONFIRM);
	CHECK_INT(apply1(s, "shop", "o1", &confirm, &cli, &res), CML_PROGRESS_APPLIED);
	CHECK_INT(res.life, CML_OS_CONFIRMED);
	CHECK_INT(res.version, 1);
	CHECK_INT(apply1(s, "shop", "o1", &confirm, &cli, &res), CML_PROGRESS_NOOP);
	CHECK_INT(res.version, 1);
	CHECK_INT(steps_of(s, "shop", "o1"), 1);

	/* the seed's broken sequence: a shipment before the invoice */
	cml_step ship = step_of(CML_STEP_SHIP);
	ship.date = "2026-12-01";
	CHECK_INT(apply1(s, "shop", "o1", &ship, &cli, &res), CML_PROGRESS_REFUSED);
	CHECK_INT(res.os.rule, CML_OS_RULE_NO_INVOICE);
	CHECK(res.os.why[0] != '\0');
	CHECK_INT(res.life, CML_OS_CONFIRMED);
	CHECK_INT(res.version, 1);
	CHECK_INT(version_of(s, "shop", "o1"), 1);
	CHECK_INT(steps_of(s, "shop", "o1"), 1);
	CHECK_INT(sql_int(path, "SELECT shipment FROM order_progress"), CML_OS_SHIP_NONE);

	cml_step inv = {.kind = CML_STEP_INVOICE, .number = "INV-7", .date = "2026-11-30"};
	cml_progress_source csv = {.kind = "csv", .name = "steps.csv", .line = 3};
	CHECK_INT(apply1(s, "shop", "o1", &inv, &csv, &res), CML_PROGRESS_APPLIED);
	cml_step pay = {
	        .kind = CML_STEP_PAY, .amount = 100 * S, .date = "2026-11-30", .number = "PAY-1"};
	CHECK_INT(apply1(s, "shop", "o1", &pay, &cli, &res), CML_PROGRESS_APPLIED);
	/* 0: what is still due */
	cml_step rest = {.kind = CML_STEP_PAY};
	CHECK_INT(apply1(s, "shop", "o1", &rest, &cli, &res), CML_PROGRESS_APPLIED);
	int64_t q1[3] = {1 * S, 0, 0};
	cml_step part = {.kind = CML_STEP_SHIP,
	                 .qty = q1,
	                 .n_qty = 3,
	                 .date = "2026-12-01",
	                 .number = "SH-1"};
	CHECK_INT(apply1(s, "shop", "o1", &part, &cli, &res), CML_PROGRESS_APPLIED);
	CHECK(cml_progress_load(s, "shop", "o1", &o) == CML_OK);
	CHECK_INT(o.state.shipment, CML_OS_SHIP_PARTIAL);
	CHECK_INT(o.state.payment, CML_OS_PAY_FULL);
	CHECK_INT(o.state.paid, 350 * S);
	CHECK_STR(o.state.invoice_number, "INV-7");
	/* the last payment had no number: its (empty) number is the one recorded */
	CHECK_STR(o.state.payment_number, "");
	CHECK_STR(o.state.shipment_date, "2026-12-01");
	CHECK(o.state.n_lines == 3 && o.state.lines[0].shipped == 1 * S);
	CHECK_INT(o.version, 5);
	CHECK(o.updated[0] != '\0');
	cml_step complete = step_of(CML_STEP_COMPLETE);
	CHECK_INT(apply1(s, "shop", "o1", &complete, &cli, &res), CML_PROGRESS_REFUSED);
	CHECK_INT(res.os.rule, CML_OS_RULE_NOT_SHIPPED);
	CHECK_INT(apply1(s, "shop", "o1", &ship, &cli, &res), CML_PROGRESS_APPLIED);
	CHECK_INT(apply1(s, "shop", "o1", &complete, &cli, &res), CML_PROGRESS_APPLIED);
	CHECK_INT(res.life, CML_OS_COMPLETED);
	CHECK_INT(res.version, 7);

	/* the log: kind, arguments as typed back, source, version, run */
	static const struct {
		cml_step_kind kind;
		const char *args, *source;
	} want[] = {
	        {CML_STEP_CONFIRM, "", "cli"},
	        {CML_STEP_INVOICE, "INV-7 2026-11-30", "csv:steps.csv:3"},
	        {CML_STEP_PAY, "100 2026-11-30 PAY-1", "cli"},
	        {CML_STEP_PAY, "250", "cli"},
	        {CML_STEP_SHIP, "1 0 0 2026-12-01 SH-1", "cli"},
	        {CML_STEP_SHIP, "2026-12-01", "cli"},
	        {CML_STEP_COMPLETE, "", "cli"},
	};
	void *cur = NULL;
	cml_progress_step ps;
	size_t n = 0;
	int64_t last_run = 0;
	while (cml_progress_steps(s, "shop", "o1", &cur, &ps) == CML_OK) {
		if (n < ARRAY_LEN(want)) {
			CHECK_INT(ps.kind, want[n].kind);
			CHECK_STR(ps.args, want[n].args);
			CHECK_STR(ps.source, want[n].source);
		}
		CHECK_INT(ps.seq, (int64_t)n + 1);
		CHECK_INT(ps.version, (int64_t)n + 1);
		CHECK(ps.run > last_run);
		CHECK(strlen(ps.at) == 20 && ps.at[19] == 'Z');
		last_run = ps.run;
		n++;
	}
	cml_progress_end(s, &cur);
	CHECK_INT(n, 7);

	/* staleness: against the last update read from a batch */
	struct order x;
	order_init(&x, "o2", "2");
	put_order(s, "shop", &x.d);
	cml_progress_source doc = {.kind = "cml",
	                           .name = "orders.xml",
	                           .line = 10,
	                           .version = "5",
	                           .changed = "2026-11-30T10:00:00"};
	CHECK(cml_store_run_begin(s, "orders-status") == CML_OK);
	CHECK_INT(cml_progress_apply(s, "shop", "o2", &confirm, &doc, &res), CML_OK);
	CHECK_INT(res.outcome, CML_PROGRESS_APPLIED);
	/* the same update's next step is not stale against its first */
	CHECK_INT(cml_progress_apply(s, "shop", "o2", &inv, &doc, &res), CML_OK);
	CHECK_INT(res.outcome, CML_PROGRESS_APPLIED);
	CHECK_INT(cml_progress_update_done(s, "shop", "o2", &doc, "P"), CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_progress_load(s, "shop", "o2", &o) == CML_OK);
	CHECK_STR(o.src_version, "5");
	CHECK_STR(o.src_changed, "2026-11-30T10:00:00");
	CHECK_STR(o.status_code, "P");
	bool stale = false;
	CHECK(cml_progress_is_stale(s, "shop", "o2", "5", NULL, &stale) == CML_OK && stale);
	CHECK(cml_progress_is_stale(s, "shop", "o2", "6", NULL, &stale) == CML_OK && !stale);
	CHECK(cml_progress_is_stale(s, "shop", "o1", "1", NULL, &stale) == CML_OK && !stale);
	cml_step pay2 = {.kind = CML_STEP_PAY, .amount = 10 * S};
	CHECK_INT(apply1(s, "shop", "o2", &pay2, &doc, &res), CML_PROGRESS_STALE);
	CHECK_INT(res.version, 2);
	doc.version = "4";
	CHECK_INT(apply1(s, "shop", "o2", &pay2, &doc, &res), CML_PROGRESS_STALE);
	CHECK_INT(version_of(s, "shop", "o2"), 2);
	CHECK_INT(steps_of(s, "shop", "o2"), 2);
	doc.version = "6";
	doc.changed = "2026-11-30T11:00:00";
	CHECK_INT(apply1(s, "shop", "o2", &pay2, &doc, &res), CML_PROGRESS_APPLIED);
	CHECK_INT(res.version, 3);
	/* no status code given: the one recorded stays */
	CHECK(cml_store_run_begin(s, "orders-status") == CML_OK);
	CHECK_INT(cml_progress_update_done(s, "shop", "o2", &doc, NULL), CML_OK);
	CHECK_INT(cml_progress_update_done(s, "shop", "nope", &doc, NULL), CML_END);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_progress_load(s, "shop", "o2", &o) == CML_OK);
	CHECK_STR(o.src_version, "6");
	CHECK_STR(o.status_code, "P");
	CHECK_INT(sql_int(path, "SELECT count(*) FROM order_progress WHERE order_id = 'nope'"), 0);

	/* no such order; outside a run */
	CHECK(cml_store_run_begin(s, "orders-status") == CML_OK);
	CHECK_INT(cml_progress_apply(s, "shop", "nope", &confirm, &cli, &res), CML_END);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(cml_progress_apply(s, "shop", "o2", &confirm, &cli, &res), CML_ERR_STATE);
	cml_store_close(s);
}

/* Delivered versions: pending while above, a refusal kept, never back. */
static void
test_delivery(void)
{
	char path[128];
	cml_progress_order o;
	cml_store *s = db_with_order(path, sizeof(path));

	if (s == NULL)
		return;
	cml_step confirm = step_of(CML_STEP_CONFIRM);
	cml_step inv = {.kind = CML_STEP_INVOICE, .number = "INV-1"};
	CHECK_INT(apply1(s, "shop", "o1", &confirm, &cli, NULL), CML_PROGRESS_APPLIED);
	CHECK_INT(apply1(s, "shop", "o1", &inv, &cli, NULL), CML_PROGRESS_APPLIED);
	CHECK(cml_progress_load(s, "shop", "o1", &o) == CML_OK);
	CHECK_INT(o.version, 2);
	CHECK_INT(o.delivered, 0);

	CHECK(cml_store_run_begin(s, "orders-push") == CML_OK);
	CHECK_INT(cml_progress_delivered(s, "shop", "o1", 3, NULL), CML_ERR_VALUE);
	CHECK_INT(cml_progress_delivered(s, "shop", "o1", 2, NULL), CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_progress_load(s, "shop", "o1", &o) == CML_OK);
	CHECK_INT(o.delivered, 2);
	CHECK(o.delivered_at[0] != '\0');
	CHECK_STR(o.site_refusal, "");
	/* never back */
	CHECK(cml_store_run_begin(s, "orders-push") == CML_OK);
	CHECK_INT(cml_progress_delivered(s, "shop", "o1", 1, NULL), CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(sql_int(path, "SELECT delivered FROM order_progress"), 2);

	/* a step after the delivery is pending again, refused by the site */
	cml_step pay = {.kind = CML_STEP_PAY, .amount = 50 * S};
	CHECK_INT(apply1(s, "shop", "o1", &pay, &cli, NULL), CML_PROGRESS_APPLIED);
	cml_progress_filter pend = {.site = "shop", .pending = true};
	void *cur = NULL;
	CHECK(cml_progress_next(s, &pend, &cur, &o) == CML_OK);
	CHECK_STR(o.id, "o1");
	CHECK_INT(o.version, 3);
	CHECK_INT(o.delivered, 2);
	cml_progress_end(s, &cur);
	CHECK(cml_store_run_begin(s, "orders-push") == CML_OK);
	CHECK_INT(cml_progress_delivered(s, "shop", "o1", 3, "Заказ №1 не может быть изменен"),
	          CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_progress_load(s, "shop", "o1", &o) == CML_OK);
	CHECK_INT(o.delivered, 3);
	CHECK_STR(o.site_refusal, "Заказ №1 не может быть изменен");
	CHECK_INT(cml_progress_next(s, &pend, &cur, &o), CML_END);
	cml_progress_end(s, &cur);
	/* the next step goes again, and the site takes it */
	CHECK_INT(apply1(s, "shop", "o1", &pay, &cli, NULL), CML_PROGRESS_APPLIED);
	CHECK_INT(cml_progress_next(s, &pend, &cur, &o), CML_OK);
	cml_progress_end(s, &cur);
	CHECK(cml_store_run_begin(s, "orders-push") == CML_OK);
	CHECK_INT(cml_progress_delivered(s, "shop", "o1", 4, NULL), CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_progress_load(s, "shop", "o1", &o) == CML_OK);
	CHECK_STR(o.site_refusal, "");
	CHECK_INT(o.delivered, 4);

	/* an order without progress: version 0 is nothing to mark */
	struct order x;
	order_init(&x, "o2", "2");
	put_order(s, "shop", &x.d);
	CHECK(cml_store_run_begin(s, "orders-push") == CML_OK);
	CHECK_INT(cml_progress_delivered(s, "shop", "o2", 0, NULL), CML_OK);
	CHECK_INT(cml_progress_delivered(s, "shop", "o2", 1, NULL), CML_ERR_VALUE);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(cml_progress_delivered(s, "shop", "o1", 4, NULL), CML_ERR_STATE);
	cml_store_close(s);
}

/* By Ид, by Номер, a site or any, and the ambiguous cases. */
static void
test_find(void)
{
	char path[128];
	const char *site, *id;
	struct order a, b, c, d;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	order_init(&a, "A1", "100");
	order_init(&b, "B1", "100");
	order_init(&c, "200", "201");
	order_init(&d, "X", "200");
	put_order(s, "shop", &a.d);
	put_order(s, "shop2", &b.d);
	put_order(s, "shop", &c.d);
	put_order(s, "shop", &d.d);

	CHECK_INT(cml_progress_find(s, NULL, "A1", &site, &id), CML_OK);
	CHECK_STR(site, "shop");
	CHECK_STR(id, "A1");
	CHECK_INT(cml_progress_find(s, "", "B1", &site, &id), CML_OK);
	CHECK_STR(site, "shop2");
	CHECK_INT(cml_progress_find(s, "shop", "B1", &site, &id), CML_END);
	CHECK_INT(cml_progress_find(s, NULL, "nope", &site, &id), CML_END);
	CHECK(site == NULL && id == NULL);
	/* one Номер on two sites */
	CHECK_INT(cml_progress_find(s, NULL, "100", &site, &id), CML_ERR_VALUE);
	CHECK(strstr(cml_store_errmsg(s), "A1 of shop (Номер 100)") != NULL);
	CHECK(strstr(cml_store_errmsg(s), "B1 of shop2 (Номер 100)") != NULL);
	CHECK_INT(cml_progress_find(s, "shop2", "100", &site, &id), CML_OK);
	CHECK_STR(id, "B1");
	/* by Номер */
	CHECK_INT(cml_progress_find(s, "shop", "201", &site, &id), CML_OK);
	CHECK_STR(id, "200");
	/* one order's Ид is another's Номер */
	CHECK_INT(cml_progress_find(s, "shop", "200", &site, &id), CML_ERR_VALUE);
	CHECK(strstr(cml_store_errmsg(s), "\"200\" names more than one order") != NULL);
	/* an order whose Ид is its own Номер is one order */
	struct order e;
	order_init(&e, "300", "300");
	put_order(s, "shop", &e.d);
	CHECK_INT(cml_progress_find(s, NULL, "300", &site, &id), CML_OK);
	CHECK_STR(id, "300");
	cml_store_close(s);
}

/* The list: ledger order, site, lifecycle mask, pending. */
static void
test_list(void)
{
	char path[128];
	cml_progress_order o;
	struct order a[4];
	static const char *const ids[4] = {"n1", "c1", "x1", "m1"};
	static const char *const sites[4] = {"shop", "shop", "shop", "mall"};

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	for (int i = 0; i < 4; i++) {
		order_init(&a[i], ids[i], ids[i]);
		put_order(s, sites[i], &a[i].d);
	}
	cml_step confirm = step_of(CML_STEP_CONFIRM);
	cml_step cancel = {.kind = CML_STEP_CANCEL, .reason = "buyer asked"};
	CHECK_INT(apply1(s, "shop", "c1", &confirm, &cli, NULL), CML_PROGRESS_APPLIED);
	CHECK_INT(apply1(s, "shop", "x1", &cancel, &cli, NULL), CML_PROGRESS_APPLIED);
	CHECK_INT(apply1(s, "mall", "m1", &confirm, &cli, NULL), CML_PROGRESS_APPLIED);
	CHECK(cml_store_run_begin(s, "orders-push") == CML_OK);
	CHECK_INT(cml_progress_delivered(s, "mall", "m1", 1, NULL), CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	static const struct {
		cml_progress_filter f;
		const char *want;
	} cases[] = {
	        {{0}, "n1 c1 x1 m1"},
	        {{.site = "shop"}, "n1 c1 x1"},
	        {{.life_mask = 1u << CML_OS_NEW}, "n1"},
	        {{.life_mask = (1u << CML_OS_CONFIRMED) | (1u << CML_OS_CANCELLED)}, "c1 x1 m1"},
	        {{.site = "mall", .life_mask = 1u << CML_OS_CONFIRMED}, "m1"},
	        {{.life_mask = 1u << CML_OS_COMPLETED}, ""},
	        {{.pending = true}, "c1 x1"},
	        {{.pending = true, .site = "mall"}, ""},
	        {{.pending = true, .life_mask = 1u << CML_OS_CANCELLED}, "x1"},
	        {{.site = "nowhere"}, ""},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char got[64] = "";
		void *cur = NULL;
		cml_status st;

		while ((st = cml_progress_next(s, &cases[i].f, &cur, &o)) == CML_OK) {
			size_t n = strlen(got);
			snprintf(got + n, sizeof(got) - n, "%s%s", n > 0 ? " " : "", o.id);
		}
		CHECK_INT(st, CML_END);
		cml_progress_end(s, &cur);
		if (strcmp(got, cases[i].want) != 0)
			fprintf(stderr, "case %zu\n", i);
		CHECK_STR(got, cases[i].want);
	}
	/* a row carries the order's state, the NEW ones their ledger figures */
	cml_progress_filter f = {.site = "shop"};
	void *cur = NULL;
	CHECK(cml_progress_next(s, &f, &cur, &o) == CML_OK);
	CHECK_STR(o.id, "n1");
	CHECK_INT(o.state.life, CML_OS_NEW);
	CHECK_INT(o.state.total, 350 * S);
	CHECK_INT(o.version, 0);
	CHECK(cml_progress_next(s, &f, &cur, &o) == CML_OK);
	CHECK_STR(o.id, "c1");
	CHECK_INT(o.state.life, CML_OS_CONFIRMED);
	CHECK_INT(o.version, 1);
	CHECK(o.state.n_lines == 3 && o.state.lines[2].service);
	/* a load between two calls does not disturb the cursor */
	cml_progress_order other;
	CHECK(cml_progress_load(s, "mall", "m1", &other) == CML_OK);
	CHECK(cml_progress_next(s, &f, &cur, &o) == CML_OK);
	CHECK_STR(o.id, "x1");
	CHECK_INT(o.state.life, CML_OS_CANCELLED);
	CHECK_STR(o.state.cancel_reason, "buyer asked");
	CHECK_STR(other.id, "m1");
	cml_progress_end(s, &cur);
	cml_store_close(s);
}

static void
map_dump(cml_store *s, char *out, size_t cap)
{
	void *cur = NULL;
	cml_status_map_entry e;
	cml_status st;

	out[0] = '\0';
	while ((st = cml_status_map_next(s, &cur, &e)) == CML_OK) {
		size_t n = strlen(out);
		snprintf(out + n, cap - n, "%s%s/%s=%s%s", n > 0 ? " " : "", e.site, e.code,
		         cml_os_life_name(e.life), e.send ? "*" : "");
	}
	CHECK_INT(st, CML_END);
	cml_progress_end(s, &cur);
}

static cml_status
map_set(cml_store *s, const char *site, const char *code, cml_os_life life, bool send)
{
	cml_status_map_entry e = {
	        .site = site, .code = code, .life = life, .send = send, .name = "имя"};

	return cml_status_map_set(s, &e);
}

static void
test_status_map(void)
{
	char path[128], got[512];
	cml_os_life life;
	const char *code;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	/* the defaults */
	map_dump(s, got, sizeof(got));
	CHECK_STR(got, "/F=completed* /N=new* /P=confirmed*");
	CHECK(cml_status_map_lookup(s, "shop", "N", &life) == CML_OK && life == CML_OS_NEW);
	CHECK(cml_status_map_lookup(s, NULL, "P", &life) == CML_OK && life == CML_OS_CONFIRMED);
	CHECK_INT(cml_status_map_lookup(s, "shop", "n", &life), CML_END);
	CHECK(cml_status_map_code(s, "shop", CML_OS_COMPLETED, &code) == CML_OK);
	CHECK_STR(code, "F");
	CHECK_INT(cml_status_map_code(s, "shop", CML_OS_CANCELLED, &code), CML_END);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM status_map"), 0);

	/* a code that sends takes send from the other code of its state */
	CHECK(cml_store_run_begin(s, "orders-status") == CML_OK);
	CHECK_INT(map_set(s, NULL, "O", CML_OS_CONFIRMED, true), CML_OK);
	CHECK_INT(map_set(s, NULL, "a b", CML_OS_CONFIRMED, false), CML_ERR_VALUE);
	CHECK_INT(map_set(s, NULL, "ABCDEFGHIJKLMNOPQ", CML_OS_CONFIRMED, false), CML_ERR_VALUE);
	CHECK_INT(map_set(s, NULL, "", CML_OS_CONFIRMED, false), CML_ERR_VALUE);
	CHECK_INT(map_set(s, NULL, "ABCDEFGHIJKLMNOP", CML_OS_CANCELLED, false), CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	map_dump(s, got, sizeof(got));
	CHECK_STR(got, "/ABCDEFGHIJKLMNOP=cancelled /F=completed* /N=new* /O=confirmed* "
	               "/P=confirmed");
	CHECK(cml_status_map_code(s, "shop", CML_OS_CONFIRMED, &code) == CML_OK);
	CHECK_STR(code, "O");
	CHECK(cml_status_map_lookup(s, "shop", "P", &life) == CML_OK && life == CML_OS_CONFIRMED);

	/* a site's own codes over every site's */
	CHECK(cml_store_run_begin(s, "orders-status") == CML_OK);
	CHECK_INT(map_set(s, "shop", "Z", CML_OS_COMPLETED, true), CML_OK);
	CHECK_INT(map_set(s, "shop", "N", CML_OS_CONFIRMED, false), CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_status_map_code(s, "shop", CML_OS_COMPLETED, &code) == CML_OK);
	CHECK_STR(code, "Z");
	CHECK(cml_status_map_code(s, "mall", CML_OS_COMPLETED, &code) == CML_OK);
	CHECK_STR(code, "F");
	CHECK(cml_status_map_lookup(s, "shop", "N", &life) == CML_OK && life == CML_OS_CONFIRMED);
	CHECK(cml_status_map_lookup(s, "mall", "N", &life) == CML_OK && life == CML_OS_NEW);
	CHECK(cml_status_map_lookup(s, "shop", "F", &life) == CML_OK && life == CML_OS_COMPLETED);
	CHECK_INT(cml_status_map_lookup(s, "mall", "Z", &life), CML_END);

	/* delete */
	CHECK(cml_store_run_begin(s, "orders-status") == CML_OK);
	CHECK_INT(cml_status_map_del(s, "shop", "N"), CML_OK);
	CHECK_INT(cml_status_map_del(s, "shop", "Q"), CML_END);
	CHECK_INT(cml_status_map_del(s, "shop", "F"), CML_END);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_status_map_lookup(s, "shop", "N", &life) == CML_OK && life == CML_OS_NEW);

	/* emptied on purpose stays empty, also after reopening */
	static const char *const all[][2] = {{"", "ABCDEFGHIJKLMNOP"},
	                                     {"", "F"},
	                                     {"", "N"},
	                                     {"", "O"},
	                                     {"", "P"},
	                                     {"shop", "Z"}};
	CHECK(cml_store_run_begin(s, "orders-status") == CML_OK);
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		CHECK_INT(cml_status_map_del(s, all[i][0], all[i][1]), CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_store_close(s);
	if ((s = open_db(path)) == NULL)
		return;
	map_dump(s, got, sizeof(got));
	CHECK_STR(got, "");
	CHECK_INT(cml_status_map_lookup(s, "shop", "N", &life), CML_END);
	CHECK_INT(cml_status_map_code(s, "shop", CML_OS_NEW, &code), CML_END);
	cml_store_close(s);

	/* a delete on the defaults keeps the other defaults; a rolled-back
	 * set leaves the defaults */
	harness_db_path(tmpdir, path, sizeof(path));
	if ((s = open_db(path)) == NULL)
		return;
	CHECK(cml_store_run_begin(s, "orders-status") == CML_OK);
	CHECK_INT(map_set(s, NULL, "O", CML_OS_CONFIRMED, true), CML_OK);
	cml_store_run_rollback(s);
	map_dump(s, got, sizeof(got));
	CHECK_STR(got, "/F=completed* /N=new* /P=confirmed*");
	CHECK(cml_store_run_begin(s, "orders-status") == CML_OK);
	CHECK_INT(cml_status_map_del(s, "", "P"), CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	map_dump(s, got, sizeof(got));
	CHECK_STR(got, "/F=completed* /N=new*");
	CHECK_INT(cml_status_map_lookup(s, "shop", "P", &life), CML_END);
	CHECK_INT(cml_status_map_set(s, &(cml_status_map_entry){.code = "X"}), CML_ERR_STATE);
	cml_store_close(s);
}

/* A new revision of the order (its basket changed) keeps its progress:
 * the lines and total come from the new revision, the shipped
 * quantities stay by line position. */
static void
test_basket_change(void)
{
	char path[128];
	cml_progress_order o;
	struct order x;
	cml_store *s = db_with_order(path, sizeof(path));

	if (s == NULL)
		return;
	cml_step confirm = step_of(CML_STEP_CONFIRM);
	cml_step inv = {.kind = CML_STEP_INVOICE, .number = "INV-1"};
	int64_t q[3] = {1 * S, 1 * S, 0};
	cml_step ship = {.kind = CML_STEP_SHIP, .qty = q, .n_qty = 3};
	CHECK_INT(apply1(s, "shop", "o1", &confirm, &cli, NULL), CML_PROGRESS_APPLIED);
	CHECK_INT(apply1(s, "shop", "o1", &inv, &cli, NULL), CML_PROGRESS_APPLIED);
	CHECK_INT(apply1(s, "shop", "o1", &ship, &cli, NULL), CML_PROGRESS_APPLIED);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM order_progress WHERE shipped = "
	                        "'10000 10000 0'"),
	          1);

	/* the site adds a line and a third of the first good */
	order_init(&x, "o1", "1");
	x.lines[0].quantity = "3";
	x.lines[0].sum = "300";
	x.lines[3] = x.lines[2];
	x.lines[2] = (cml_doc_line){
	        .id = "g3", .name = "Носки", .price = "10", .quantity = "5", .sum = "50"};
	x.d.n_lines = 4;
	x.d.sum = "500";
	put_order(s, "shop", &x.d);
	CHECK(cml_progress_load(s, "shop", "o1", &o) == CML_OK);
	CHECK_INT(o.version, 3);
	CHECK_INT(o.state.life, CML_OS_CONFIRMED);
	CHECK_INT(o.state.invoice, CML_OS_INVOICE_ISSUED);
	CHECK_INT(o.state.total, 500 * S);
	CHECK_INT(o.state.n_lines, 4);
	if (o.state.n_lines == 4) {
		CHECK_INT(o.state.lines[0].ordered, 3 * S);
		CHECK_INT(o.state.lines[0].shipped, 1 * S);
		CHECK_INT(o.state.lines[1].shipped, 1 * S);
		CHECK_INT(o.state.lines[2].shipped, 0);
		CHECK(!o.state.lines[2].service);
		CHECK(o.state.lines[3].service);
	}
	/* the rest ships in full over the new lines */
	cml_step rest = step_of(CML_STEP_SHIP);
	CHECK_INT(apply1(s, "shop", "o1", &rest, &cli, NULL), CML_PROGRESS_APPLIED);
	CHECK(cml_progress_load(s, "shop", "o1", &o) == CML_OK);
	CHECK_INT(o.state.shipment, CML_OS_SHIP_FULL);
	CHECK(o.state.n_lines == 4 && o.state.lines[2].shipped == 5 * S);
	cml_store_close(s);
}

/* A run that dies leaves nothing of its steps. */
static void
test_rollback(void)
{
	char path[128];
	cml_progress_result res;
	cml_store *s = db_with_order(path, sizeof(path));

	if (s == NULL)
		return;
	cml_step confirm = step_of(CML_STEP_CONFIRM);
	cml_step inv = {.kind = CML_STEP_INVOICE, .number = "INV-1"};
	CHECK(cml_store_run_begin(s, "orders-status") == CML_OK);
	CHECK_INT(cml_progress_apply(s, "shop", "o1", &confirm, &cli, &res), CML_OK);
	CHECK_INT(res.outcome, CML_PROGRESS_APPLIED);
	/* inside the run the next step sees the first */
	CHECK_INT(cml_progress_apply(s, "shop", "o1", &inv, &cli, &res), CML_OK);
	CHECK_INT(res.outcome, CML_PROGRESS_APPLIED);
	CHECK_INT(res.version, 2);
	CHECK_INT(cml_progress_delivered(s, "shop", "o1", 2, NULL), CML_OK);
	cml_store_run_rollback(s);
	CHECK_INT(version_of(s, "shop", "o1"), 0);
	CHECK_INT(steps_of(s, "shop", "o1"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM order_progress"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM order_steps"), 0);
	cml_store_close(s);

	/* a process killed inside its run: the same from another handle */
	s = open_db(path);
	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "orders-status") == CML_OK);
	CHECK_INT(cml_progress_apply(s, "shop", "o1", &confirm, &cli, &res), CML_OK);
	cml_store_close(s); /* never committed */
	s = open_db(path);
	if (s == NULL)
		return;
	CHECK_INT(version_of(s, "shop", "o1"), 0);
	CHECK_INT(apply1(s, "shop", "o1", &confirm, &cli, &res), CML_PROGRESS_APPLIED);
	CHECK_INT(res.version, 1);
	cml_store_close(s);
}

/* Damaged rows are errors naming the order, not a crash or a guess. */
static void
test_damaged(void)
{
	char path[128];
	cml_progress_order o;
	cml_progress_step ps;
	void *cur = NULL;
	cml_store *s = db_with_order(path, sizeof(path));

	if (s == NULL)
		return;
	cml_step confirm = step_of(CML_STEP_CONFIRM);
	CHECK_INT(apply1(s, "shop", "o1", &confirm, &cli, NULL), CML_PROGRESS_APPLIED);
	CHECK(sql_exec(path, "UPDATE order_progress SET life = 9"));
	CHECK_INT(cml_progress_load(s, "shop", "o1", &o), CML_ERR_FORMAT);
	CHECK(strstr(cml_store_errmsg(s), "the progress of order o1 of shop is damaged") != NULL);
	CHECK(sql_exec(path, "UPDATE order_progress SET life = 1, shipped = '1 x'"));
	CHECK_INT(cml_progress_load(s, "shop", "o1", &o), CML_ERR_FORMAT);
	CHECK_INT(cml_progress_next(s, NULL, &cur, &o), CML_ERR_FORMAT);
	cml_progress_end(s, &cur);
	CHECK(sql_exec(path, "UPDATE order_progress SET shipped = ''"));
	CHECK_INT(cml_progress_load(s, "shop", "o1", &o), CML_OK);
	CHECK(sql_exec(path, "UPDATE order_steps SET kind = 'bogus'"));
	CHECK_INT(cml_progress_steps(s, "shop", "o1", &cur, &ps), CML_ERR_FORMAT);
	CHECK(strstr(cml_store_errmsg(s), "step 1 is \"bogus\"") != NULL);
	cml_progress_end(s, &cur);
	/* the ledger's Сумма that no amount can hold */
	struct order x;
	order_init(&x, "o2", "2");
	x.d.sum = "1.123456";
	put_order(s, "shop", &x.d);
	CHECK_INT(cml_progress_load(s, "shop", "o2", &o), CML_ERR_VALUE);
	CHECK(strstr(cml_store_errmsg(s), "order o2 of shop: Сумма \"1.123456\"") != NULL);
	cml_store_close(s);
}

static void
test_alloc_failures(void)
{
	char path[128];
	cml_progress_order o;
	cml_progress_result res;
	cml_status st = CML_ERR_NOMEM;
	int n, failed = 0;
	cml_store *s = db_with_order(path, sizeof(path));

	if (s == NULL)
		return;
	cml_step confirm = step_of(CML_STEP_CONFIRM);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	for (n = 1; n < 400; n++) {
		cml_alloc_fail_after(n);
		st = cml_progress_apply(s, "shop", "o1", &confirm, &cli, &res);
		cml_alloc_fail_after(0);
		if (st == CML_OK)
			break;
		CHECK_INT(st, CML_ERR_NOMEM);
		CHECK_INT(version_of(s, "shop", "o1"), 0);
		failed++;
	}
	CHECK(st == CML_OK && failed > 0);
	CHECK_INT(res.outcome, CML_PROGRESS_APPLIED);
	CHECK_INT(version_of(s, "shop", "o1"), 1);
	CHECK_INT(steps_of(s, "shop", "o1"), 1);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	for (n = 1; n < 400; n++) {
		cml_alloc_fail_after(n);
		st = cml_progress_load(s, "shop", "o1", &o);
		cml_alloc_fail_after(0);
		if (st == CML_OK)
			break;
		CHECK_INT(st, CML_ERR_NOMEM);
	}
	CHECK(st == CML_OK && o.version == 1 && o.state.n_lines == 3);
	for (n = 1; n < 400; n++) {
		void *cur = NULL;
		cml_alloc_fail_after(n);
		st = cml_progress_next(s, NULL, &cur, &o);
		cml_alloc_fail_after(0);
		bool whole = st == CML_OK && strcmp(o.id, "o1") == 0 && o.state.total == 350 * S;
		cml_progress_end(s, &cur);
		if (st == CML_OK) {
			CHECK(whole);
			break;
		}
		CHECK_INT(st, CML_ERR_NOMEM);
	}
	CHECK(st == CML_OK);
	const char *site, *id;
	for (n = 1; n < 400; n++) {
		cml_alloc_fail_after(n);
		st = cml_progress_find(s, NULL, "1", &site, &id);
		cml_alloc_fail_after(0);
		if (st == CML_OK)
			break;
		CHECK_INT(st, CML_ERR_NOMEM);
	}
	CHECK(st == CML_OK && strcmp(id, "o1") == 0);
	const char *code;
	for (n = 1; n < 400; n++) {
		cml_alloc_fail_after(n);
		st = cml_status_map_code(s, "shop", CML_OS_NEW, &code);
		cml_alloc_fail_after(0);
		if (st == CML_OK)
			break;
		CHECK_INT(st, CML_ERR_NOMEM);
	}
	CHECK(st == CML_OK && strcmp(code, "N") == 0);
	cml_store_close(s);
}


/* n orders; confirm, invoice, pay and ship each in one run; the pending
 * list; every one delivered in one run. */
static void
bench(long n, bool report)
{
	char path[128], id[32];
	struct order o;
	cml_progress_order po;
	cml_progress_result res;
	long applied = 0, pending = 0;

	harness_db_path(tmpdir, path, sizeof(path));
	cml_store *s = open_db(path);
	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "bench") == CML_OK);
	for (long i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "o%ld", i);
		order_init(&o, id, id + 1);
		CHECK(cml_ledger_put(s, "shop", &o.d, NULL) == CML_OK);
	}
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	cml_step steps[4] = {step_of(CML_STEP_CONFIRM),
	                     {.kind = CML_STEP_INVOICE, .number = "INV", .date = "2026-11-30"},
	                     {.kind = CML_STEP_PAY},
	                     {.kind = CML_STEP_SHIP, .date = "2026-12-01"}};
	double t0 = now_s();
	CHECK(cml_store_run_begin(s, "bench") == CML_OK);
	for (long i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "o%ld", i);
		for (int k = 0; k < 4; k++) {
			CHECK(cml_progress_apply(s, "shop", id, &steps[k], &cli, &res) == CML_OK);
			applied += res.outcome == CML_PROGRESS_APPLIED;
		}
	}
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	double t1 = now_s();
	cml_progress_filter f = {.site = "shop", .pending = true};
	void *cur = NULL;
	while (cml_progress_next(s, &f, &cur, &po) == CML_OK)
		pending++;
	cml_progress_end(s, &cur);
	double t2 = now_s();
	CHECK(cml_store_run_begin(s, "bench") == CML_OK);
	for (long i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "o%ld", i);
		CHECK(cml_progress_delivered(s, "shop", id, 4, NULL) == CML_OK);
	}
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	double t3 = now_s();
	CHECK_INT(applied, 4 * n);
	CHECK_INT(pending, n);
	CHECK(cml_progress_next(s, &f, &cur, &po) == CML_END);
	cml_progress_end(s, &cur);
	if (report)
		printf("%ld orders: %ld steps applied in %.2f s (%.0f/s), pending listed in %.2f "
		       "s, "
		       "delivered in %.2f s\n",
		       n, applied, t1 - t0, (double)applied / (t1 - t0), t2 - t1, t3 - t2);
	cml_store_close(s);
}

static void
test_bench_small(void)
{
	bench(500, false);
}

int
main(int argc, char **argv)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_progress.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
		long n = argc > 2 ? strtol(argv[2], NULL, 10) : 20000;
		harness_current = "bench";
		bench(n > 0 ? n : 20000, true);
		goto out;
	}
	RUN(test_migrate_v5);
	RUN(test_load_new);
	RUN(test_apply);
	RUN(test_delivery);
	RUN(test_find);
	RUN(test_list);
	RUN(test_status_map);
	RUN(test_basket_change);
	RUN(test_rollback);
	RUN(test_damaged);
	RUN(test_alloc_failures);
	RUN(test_bench_small);
out:;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return harness_done();
}
