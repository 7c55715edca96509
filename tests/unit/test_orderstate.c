/*
 * test_orderstate.c: the order state machine (cml_os_apply) against its
 * rules written out again here as a table, independently of
 * orderstate.c's: every step variant in every combination of lifecycle,
 * invoice, payment, shipment, terms and review, each case named (so a
 * changed rule breaks "ship(all) on confirmed inv=none pay=none
 * ship=none prepaid"). Then the seed's broken sequence, the figures in
 * the reasons, staleness, and amounts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cml/orderstate.h"
#include "harness.h"

#define S CML_OS_SCALE

/* ---- the states of the sweep ---- */

/* an order of 1000: two goods lines (3 and 2) and its delivery */
#define TOTAL   (1000 * S)
#define N_LINES 3

static void
build(cml_order_state *st, cml_os_line *lines, cml_os_life life, cml_os_invoice inv,
      cml_os_payment pay, cml_os_shipment ship, bool postpaid, bool cp_open)
{
	lines[0] = (cml_os_line){3 * S, 0, false};
	lines[1] = (cml_os_line){2 * S, 0, false};
	lines[2] = (cml_os_line){1 * S, 0, true};
	cml_os_init(st, TOTAL, lines, N_LINES);
	st->life = life;
	st->invoice = inv;
	if (inv == CML_OS_INVOICE_ISSUED) {
		snprintf(st->invoice_number, sizeof(st->invoice_number), "INV-1");
		snprintf(st->invoice_date, sizeof(st->invoice_date), "2026-11-02");
	}
	st->payment = pay;
	st->paid = pay == CML_OS_PAY_NONE ? 0 : pay == CML_OS_PAY_PARTIAL ? 400 * S : TOTAL;
	st->shipment = ship;
	if (ship == CML_OS_SHIP_PARTIAL)
		lines[0].shipped = 1 * S;
	if (ship == CML_OS_SHIP_FULL)
		lines[0].shipped = 3 * S, lines[1].shipped = 2 * S;
	st->postpaid = postpaid;
	st->counterparty_open = cp_open;
	if (life == CML_OS_CANCELLED)
		snprintf(st->cancel_reason, sizeof(st->cancel_reason), "buyer asked");
}

/* every lifecycle x invoice x payment x shipment x terms x review */
#define N_COMBOS (4 * 2 * 3 * 4 * 2 * 2)

static void
build_k(cml_order_state *st, cml_os_line *lines, int k)
{
	build(st, lines, (cml_os_life)(k % 4), (cml_os_invoice)(k / 4 % 2),
	      (cml_os_payment)(k / 8 % 3), (cml_os_shipment)(k / 24 % 4), k / 96 % 2, k / 192 % 2);
}

/* ---- the step variants ---- */

static const int64_t q_one[] = {1 * S};
static const int64_t q_five[] = {5 * S};
static const int64_t q_neg[] = {-S};

enum variant {
	V_CONFIRM,
	V_INVOICE_NEW,  /* another number than the recorded INV-1 */
	V_INVOICE_SAME, /* INV-1 again */
	V_PAY_100,
	V_PAY_DUE, /* amount 0: what is still due */
	V_PAY_2000,
	V_ALLOW,
	V_SHIP_ALL,
	V_SHIP_ONE,  /* 1 of line 1 */
	V_SHIP_FIVE, /* 5 of line 1, which has 3 */
	V_COMPLETE,
	V_CANCEL,
	V_REFUND_100,
	V_REFUND_ALL,
	V_RETURN_ALL,
	V_RETURN_ONE,
	V_UNCANCEL,
	V_POSTPAID,
	V_PREPAID,
	V_COUNT
};

static const struct {
	const char *name;
	cml_step step;
} variants[V_COUNT] = {
        [V_CONFIRM] = {"confirm", {.kind = CML_STEP_CONFIRM}},
        [V_INVOICE_NEW] = {"invoice(INV-2)",
                           {.kind = CML_STEP_INVOICE, .number = "INV-2", .date = "2026-11-03"}},
        [V_INVOICE_SAME] = {"invoice(INV-1)", {.kind = CML_STEP_INVOICE, .number = "INV-1"}},
        [V_PAY_100] = {"pay(100)", {.kind = CML_STEP_PAY, .amount = 100 * S, .number = "P-9"}},
        [V_PAY_DUE] = {"pay(due)", {.kind = CML_STEP_PAY, .date = "2026-11-04T10:00:00"}},
        [V_PAY_2000] = {"pay(2000)", {.kind = CML_STEP_PAY, .amount = 2000 * S}},
        [V_ALLOW] = {"allow-shipment", {.kind = CML_STEP_ALLOW_SHIPMENT}},
        [V_SHIP_ALL] = {"ship(all)", {.kind = CML_STEP_SHIP, .number = "S-9"}},
        [V_SHIP_ONE] = {"ship(1)", {.kind = CML_STEP_SHIP, .qty = q_one, .n_qty = 1}},
        [V_SHIP_FIVE] = {"ship(5)", {.kind = CML_STEP_SHIP, .qty = q_five, .n_qty = 1}},
        [V_COMPLETE] = {"complete", {.kind = CML_STEP_COMPLETE}},
        [V_CANCEL] = {"cancel", {.kind = CML_STEP_CANCEL, .reason = "out of stock"}},
        [V_REFUND_100] = {"refund(100)", {.kind = CML_STEP_REFUND, .amount = 100 * S}},
        [V_REFUND_ALL] = {"refund(all)", {.kind = CML_STEP_REFUND}},
        [V_RETURN_ALL] = {"return(all)", {.kind = CML_STEP_RETURN}},
        [V_RETURN_ONE] = {"return(1)", {.kind = CML_STEP_RETURN, .qty = q_one, .n_qty = 1}},
        [V_UNCANCEL] = {"uncancel", {.kind = CML_STEP_UNCANCEL}},
        [V_POSTPAID] = {"terms(postpaid)", {.kind = CML_STEP_TERMS, .postpaid = true}},
        [V_PREPAID] = {"terms(prepaid)", {.kind = CML_STEP_TERMS, .postpaid = false}},
};

/* ---- the expected verdicts: for each variant, the first row that
 * matches the state decides ---- */

#define LN   (1u << CML_OS_NEW)
#define LC   (1u << CML_OS_CONFIRMED)
#define LD   (1u << CML_OS_COMPLETED)
#define LX   (1u << CML_OS_CANCELLED)
#define LALL (LN | LC | LD | LX)

enum cond {
	ANY = 0,
	CP_OPEN,    /* the buyer under review */
	INVOICED,   /* invoice issued */
	NO_INVOICE, /* no invoice and not postpaid */
	PAY_NONE,
	PAY_SOME, /* partial or full */
	PAY_FULL,
	PAY_NOT_FULL,
	SHIP_ANY,    /* shipment allowed or beyond */
	SHIPPED,     /* partial or full */
	NOT_SHIPPED, /* none or allowed */
	SHIP_FULL,
	SHIP_NOT_FULL,
	POSTPAID,
	PREPAID,
};

static bool
holds(enum cond c, const cml_order_state *st)
{
	switch (c) {
	case ANY:
		return true;
	case CP_OPEN:
		return st->counterparty_open;
	case INVOICED:
		return st->invoice == CML_OS_INVOICE_ISSUED;
	case NO_INVOICE:
		return st->invoice == CML_OS_INVOICE_NONE && !st->postpaid;
	case PAY_NONE:
		return st->payment == CML_OS_PAY_NONE;
	case PAY_SOME:
		return st->payment != CML_OS_PAY_NONE;
	case PAY_FULL:
		return st->payment == CML_OS_PAY_FULL;
	case PAY_NOT_FULL:
		return st->payment != CML_OS_PAY_FULL;
	case SHIP_ANY:
		return st->shipment != CML_OS_SHIP_NONE;
	case SHIPPED:
		return st->shipment >= CML_OS_SHIP_PARTIAL;
	case NOT_SHIPPED:
		return st->shipment < CML_OS_SHIP_PARTIAL;
	case SHIP_FULL:
		return st->shipment == CML_OS_SHIP_FULL;
	case SHIP_NOT_FULL:
		return st->shipment != CML_OS_SHIP_FULL;
	case POSTPAID:
		return st->postpaid;
	case PREPAID:
		return !st->postpaid;
	}
	return false;
}

struct row {
	enum variant v;
	unsigned lives;
	enum cond when;
	cml_os_verdict verdict;
	cml_os_rule rule;
};

#define OK    CML_OS_APPLIED, CML_OS_RULE_NONE
#define NOOP  CML_OS_NOOP, CML_OS_RULE_NONE
#define NO(r) CML_OS_REFUSED, CML_OS_RULE_##r

/* The steps that the lifecycle alone decides, in the same words as the
 * header's rules; rows of one variant in order. */
static const struct row table[] = {
        {V_CONFIRM, LC | LD, ANY, NOOP},
        {V_CONFIRM, LX, ANY, NO(TERMINAL)},
        {V_CONFIRM, LN, CP_OPEN, NO(COUNTERPARTY_OPEN)},
        {V_CONFIRM, LN, ANY, OK},

        {V_INVOICE_NEW, LN, ANY, NO(NOT_CONFIRMED)},
        {V_INVOICE_NEW, LD | LX, ANY, NO(TERMINAL)},
        {V_INVOICE_NEW, LC, ANY, OK},

        {V_INVOICE_SAME, LALL, INVOICED, NOOP},
        {V_INVOICE_SAME, LN, ANY, NO(NOT_CONFIRMED)},
        {V_INVOICE_SAME, LD | LX, ANY, NO(TERMINAL)},
        {V_INVOICE_SAME, LC, ANY, OK},

        {V_PAY_100, LD | LX, ANY, NO(TERMINAL)},
        {V_PAY_100, LN | LC, PAY_FULL, NO(OVERPAID)},
        {V_PAY_100, LN | LC, ANY, OK},

        {V_PAY_DUE, LALL, PAY_FULL, NOOP},
        {V_PAY_DUE, LD | LX, ANY, NO(TERMINAL)},
        {V_PAY_DUE, LN | LC, ANY, OK},

        {V_PAY_2000, LD | LX, ANY, NO(TERMINAL)},
        {V_PAY_2000, LN | LC, ANY, NO(OVERPAID)},

        {V_ALLOW, LALL, SHIP_ANY, NOOP},
        {V_ALLOW, LN, ANY, NO(NOT_CONFIRMED)},
        {V_ALLOW, LD | LX, ANY, NO(TERMINAL)},
        {V_ALLOW, LC, NO_INVOICE, NO(NO_INVOICE)},
        {V_ALLOW, LC, ANY, OK},

        {V_SHIP_ALL, LALL, SHIP_FULL, NOOP},
        {V_SHIP_ALL, LN, ANY, NO(NOT_CONFIRMED)},
        {V_SHIP_ALL, LD | LX, ANY, NO(TERMINAL)},
        {V_SHIP_ALL, LC, NO_INVOICE, NO(NO_INVOICE)},
        {V_SHIP_ALL, LC, ANY, OK},

        {V_SHIP_ONE, LN, ANY, NO(NOT_CONFIRMED)},
        {V_SHIP_ONE, LD | LX, ANY, NO(TERMINAL)},
        {V_SHIP_ONE, LC, NO_INVOICE, NO(NO_INVOICE)},
        {V_SHIP_ONE, LC, SHIP_FULL, NO(OVERSHIPPED)},
        {V_SHIP_ONE, LC, ANY, OK},

        {V_SHIP_FIVE, LN, ANY, NO(NOT_CONFIRMED)},
        {V_SHIP_FIVE, LD | LX, ANY, NO(TERMINAL)},
        {V_SHIP_FIVE, LC, NO_INVOICE, NO(NO_INVOICE)},
        {V_SHIP_FIVE, LC, ANY, NO(OVERSHIPPED)},

        {V_COMPLETE, LD, ANY, NOOP},
        {V_COMPLETE, LN, ANY, NO(NOT_CONFIRMED)},
        {V_COMPLETE, LX, ANY, NO(TERMINAL)},
        {V_COMPLETE, LC, PAY_NOT_FULL, NO(NOT_PAID)},
        {V_COMPLETE, LC, SHIP_NOT_FULL, NO(NOT_SHIPPED)},
        {V_COMPLETE, LC, ANY, OK},

        {V_CANCEL, LX, ANY, NOOP},
        {V_CANCEL, LD, ANY, NO(TERMINAL)},
        {V_CANCEL, LN | LC, SHIPPED, NO(SHIPPED)},
        {V_CANCEL, LN | LC, PAY_SOME, NO(PAID)},
        {V_CANCEL, LN | LC, ANY, OK},

        {V_REFUND_100, LALL, PAY_NONE, NO(REFUND_EXCEEDS)},
        {V_REFUND_100, LALL, ANY, OK},

        {V_REFUND_ALL, LALL, PAY_NONE, NO(REFUND_EXCEEDS)},
        {V_REFUND_ALL, LALL, ANY, OK},

        {V_RETURN_ALL, LX, ANY, NO(TERMINAL)},
        {V_RETURN_ALL, LN | LC | LD, NOT_SHIPPED, NO(RETURN_EXCEEDS)},
        {V_RETURN_ALL, LN | LC | LD, ANY, OK},

        {V_RETURN_ONE, LX, ANY, NO(TERMINAL)},
        {V_RETURN_ONE, LN | LC | LD, NOT_SHIPPED, NO(RETURN_EXCEEDS)},
        {V_RETURN_ONE, LN | LC | LD, ANY, OK},

        {V_UNCANCEL, LN | LC | LD, ANY, NO(NOT_CANCELLED)},
        {V_UNCANCEL, LX, ANY, OK},

        {V_POSTPAID, LALL, POSTPAID, NOOP},
        {V_POSTPAID, LD | LX, ANY, NO(TERMINAL)},
        {V_POSTPAID, LN | LC, ANY, OK},

        {V_PREPAID, LALL, PREPAID, NOOP},
        {V_PREPAID, LD | LX, ANY, NO(TERMINAL)},
        {V_PREPAID, LN | LC, ANY, OK},
};

#define N_ROWS (sizeof(table) / sizeof(table[0]))

static const struct row *
expect(enum variant v, const cml_order_state *st)
{
	for (size_t i = 0; i < N_ROWS; i++)
		if (table[i].v == v && (table[i].lives & (1u << st->life)) != 0 &&
		    holds(table[i].when, st))
			return &table[i];
	return NULL;
}

static int64_t
shipped_total(const cml_order_state *st)
{
	int64_t n = 0;
	for (size_t i = 0; i < st->n_lines; i++)
		n += st->lines[i].shipped;
	return n;
}

static cml_os_payment
pay_facet(int64_t net)
{
	return net <= 0 ? CML_OS_PAY_NONE : net < TOTAL ? CML_OS_PAY_PARTIAL : CML_OS_PAY_FULL;
}

/* What an applied step leaves, from the state before it (b) to the
 * state after (a); returns the name of the first thing that is wrong. */
static const char *
after_wrong(enum variant v, const cml_order_state *b, const cml_order_state *a)
{
	int64_t bnet = b->paid - b->refunded, anet = a->paid - a->refunded;
	switch (v) {
	case V_CONFIRM:
		return a->life == CML_OS_CONFIRMED ? NULL : "life";
	case V_INVOICE_NEW:
		if (a->invoice != CML_OS_INVOICE_ISSUED || strcmp(a->invoice_number, "INV-2") != 0)
			return "invoice";
		return strcmp(a->invoice_date, "2026-11-03") == 0 ? NULL : "invoice date";
	case V_INVOICE_SAME:
		return a->invoice == CML_OS_INVOICE_ISSUED &&
		                       strcmp(a->invoice_number, "INV-1") == 0
		               ? NULL
		               : "invoice";
	case V_PAY_100:
		if (anet != bnet + 100 * S || strcmp(a->payment_number, "P-9") != 0)
			return "paid";
		return a->payment == pay_facet(anet) ? NULL : "payment facet";
	case V_PAY_DUE:
		if (anet != TOTAL || a->payment != CML_OS_PAY_FULL)
			return "paid";
		return strcmp(a->payment_date, "2026-11-04T10:00:00") == 0 ? NULL : "payment date";
	case V_ALLOW:
		return a->shipment == CML_OS_SHIP_ALLOWED ? NULL : "shipment";
	case V_SHIP_ALL:
		if (a->lines[0].shipped != 3 * S || a->lines[1].shipped != 2 * S ||
		    a->lines[2].shipped != 0)
			return "lines";
		if (strcmp(a->shipment_number, "S-9") != 0)
			return "shipment number";
		return a->shipment == CML_OS_SHIP_FULL ? NULL : "shipment";
	case V_SHIP_ONE:
		if (shipped_total(a) != shipped_total(b) + S)
			return "lines";
		return a->shipment == CML_OS_SHIP_PARTIAL ? NULL : "shipment";
	case V_COMPLETE:
		return a->life == CML_OS_COMPLETED ? NULL : "life";
	case V_CANCEL:
		if (a->life != CML_OS_CANCELLED)
			return "life";
		return strcmp(a->cancel_reason, "out of stock") == 0 ? NULL : "reason";
	case V_REFUND_100:
		if (anet != bnet - 100 * S)
			return "refunded";
		return a->payment == pay_facet(anet) ? NULL : "payment facet";
	case V_REFUND_ALL:
		return anet == 0 && a->payment == CML_OS_PAY_NONE ? NULL : "payment";
	case V_RETURN_ALL:
		if (shipped_total(a) != 0)
			return "lines";
		return a->shipment == CML_OS_SHIP_ALLOWED ? NULL : "shipment";
	case V_RETURN_ONE:
		if (shipped_total(a) != shipped_total(b) - S)
			return "lines";
		if (b->shipment == CML_OS_SHIP_FULL)
			return a->shipment == CML_OS_SHIP_PARTIAL ? NULL : "shipment";
		return a->shipment == CML_OS_SHIP_ALLOWED ? NULL : "shipment";
	case V_UNCANCEL:
		if (a->life != CML_OS_NEW || a->cancel_reason[0] != '\0')
			return "life";
		/* the facets stay */
		return a->payment == b->payment && a->invoice == b->invoice ? NULL : "facets";
	case V_POSTPAID:
		return a->postpaid ? NULL : "terms";
	case V_PREPAID:
		return !a->postpaid ? NULL : "terms";
	case V_PAY_2000:
	case V_SHIP_FIVE:
	case V_COUNT:
		break;
	}
	return "applied at all";
}

/* Everything but what the variant moves stays as it was. */
static const char *
untouched_wrong(enum variant v, const cml_order_state *b, const cml_order_state *a)
{
	if (a->total != b->total || a->counterparty_open != b->counterparty_open)
		return "total or review";
	if (v != V_CONFIRM && v != V_COMPLETE && v != V_CANCEL && v != V_UNCANCEL &&
	    a->life != b->life)
		return "life";
	if (v != V_PAY_100 && v != V_PAY_DUE && v != V_REFUND_100 && v != V_REFUND_ALL &&
	    (a->paid != b->paid || a->refunded != b->refunded || a->payment != b->payment))
		return "money";
	if (v != V_SHIP_ALL && v != V_SHIP_ONE && v != V_RETURN_ALL && v != V_RETURN_ONE &&
	    v != V_ALLOW && (shipped_total(a) != shipped_total(b) || a->shipment != b->shipment))
		return "shipment";
	if (v != V_POSTPAID && v != V_PREPAID && a->postpaid != b->postpaid)
		return "terms";
	return NULL;
}

static void
test_every_transition(void)
{
	int cases = 0, applied = 0, noops = 0, refused = 0;
	for (int v = 0; v < V_COUNT; v++)
		for (int k = 0; k < N_COMBOS; k++) {
			cml_os_line lb[N_LINES], la[N_LINES];
			cml_order_state b, a;
			build_k(&b, lb, k);
			build_k(&a, la, k);
			char name[160];
			snprintf(name, sizeof(name), "%s on %s inv=%s pay=%s ship=%s %s%s",
			         variants[v].name, cml_os_life_name(b.life),
			         cml_os_invoice_name(b.invoice), cml_os_payment_name(b.payment),
			         cml_os_shipment_name(b.shipment),
			         b.postpaid ? "postpaid" : "prepaid",
			         b.counterparty_open ? " review" : "");
			harness_current = name;
			const struct row *want = expect((enum variant)v, &b);
			CHECK(want != NULL);
			if (want == NULL)
				continue;
			cml_os_result res;
			cml_os_apply(&a, &variants[v].step, &res);
			cases++;
			CHECK_STR(cml_os_rule_name(res.rule), cml_os_rule_name(want->rule));
			CHECK_INT(res.verdict, want->verdict);
			if (res.verdict != CML_OS_APPLIED) {
				/* nothing changed: the struct and the lines, byte for byte */
				a.lines = b.lines;
				CHECK(memcmp(&a, &b, sizeof(a)) == 0);
				for (size_t i = 0; i < N_LINES; i++)
					CHECK(la[i].shipped == lb[i].shipped);
				CHECK(res.verdict == CML_OS_NOOP
				              ? res.why[0] == '\0'
				              : strstr(res.why, cml_os_rule_text(res.rule)) !=
				                        NULL);
				if (res.verdict == CML_OS_NOOP)
					noops++;
				else
					refused++;
				continue;
			}
			applied++;
			CHECK(res.why[0] == '\0');
			CHECK(a.lines == la);
			CHECK_STR(after_wrong((enum variant)v, &b, &a), NULL);
			CHECK_STR(untouched_wrong((enum variant)v, &b, &a), NULL);
		}
	harness_current = "test_every_transition";
	CHECK_INT(cases, V_COUNT * N_COMBOS);
	/* every verdict is reached, and every row of the table is */
	CHECK(applied > 0 && noops > 0 && refused > 0);
	printf("transitions: %d cases, %d applied, %d noop, %d refused\n", cases, applied, noops,
	       refused);
}

/* Every row of the expected table decides at least one case: a row no
 * state reaches is a rule the sweep does not test. */
static void
test_every_row_reached(void)
{
	bool seen[N_ROWS] = {false};
	for (int v = 0; v < V_COUNT; v++)
		for (int k = 0; k < N_COMBOS; k++) {
			cml_os_line l[N_LINES];
			cml_order_state st;
			build_k(&st, l, k);
			const struct row *r = expect((enum variant)v, &st);
			if (r != NULL)
				seen[r - table] = true;
		}
	for (size_t i = 0; i < N_ROWS; i++) {
		if (!seen[i])
			fprintf(stderr, "row %zu (%s) is never reached\n", i,
			        variants[table[i].v].name);
		CHECK(seen[i]);
	}
	/* and every rule but none is named by some row */
	for (int r = 1; r < CML_OS_RULE_COUNT; r++) {
		bool named = false;
		for (size_t i = 0; i < N_ROWS; i++)
			named = named || table[i].rule == (cml_os_rule)r;
		if (!named && r != CML_OS_RULE_NOT_NEW && r != CML_OS_RULE_BAD_STEP)
			fprintf(stderr, "rule %s is in no row\n", cml_os_rule_name((cml_os_rule)r));
		/* not-new is shadowed by confirm's noop; bad-step has its own test */
		CHECK(named || r == CML_OS_RULE_NOT_NEW || r == CML_OS_RULE_BAD_STEP);
	}
}

/* ---- named cases ---- */

static void
apply(cml_order_state *st, cml_step step, cml_os_verdict want, cml_os_rule rule, cml_os_result *res)
{
	cml_os_apply(st, &step, res);
	CHECK_INT(res->verdict, want);
	CHECK_STR(cml_os_rule_name(res->rule), cml_os_rule_name(rule));
}

/* The seed's fourth story: confirmed, then shipped with no invoice. */
static void
test_seed_broken_sequence(void)
{
	cml_os_line l[N_LINES];
	cml_order_state st;
	cml_os_result res;
	build(&st, l, CML_OS_NEW, 0, 0, 0, false, false);
	apply(&st, (cml_step){.kind = CML_STEP_CONFIRM}, OK, &res);
	apply(&st, (cml_step){.kind = CML_STEP_SHIP}, NO(NO_INVOICE), &res);
	CHECK(strstr(res.why, "before the invoice") != NULL);
	CHECK(strstr(res.why, "no invoice is issued") != NULL);
	CHECK_STR(cml_os_rule_text(CML_OS_RULE_NO_INVOICE),
	          "a shipment cannot be recorded before the invoice (postpaid terms are an "
	          "explicit option)");
	CHECK_INT(st.shipment, CML_OS_SHIP_NONE);
	CHECK_INT(l[0].shipped, 0);
	/* allow-shipment is held by the same rule */
	apply(&st, (cml_step){.kind = CML_STEP_ALLOW_SHIPMENT}, NO(NO_INVOICE), &res);

	/* the same, on postpaid terms: allowed */
	apply(&st, (cml_step){.kind = CML_STEP_TERMS, .postpaid = true}, OK, &res);
	apply(&st, (cml_step){.kind = CML_STEP_SHIP, .date = "2026-11-05"}, OK, &res);
	CHECK_INT(st.shipment, CML_OS_SHIP_FULL);
	CHECK_STR(st.shipment_date, "2026-11-05");
	/* the way it should go: invoice, pay, ship, complete */
	build(&st, l, CML_OS_NEW, 0, 0, 0, false, false);
	apply(&st, (cml_step){.kind = CML_STEP_CONFIRM}, OK, &res);
	apply(&st, (cml_step){.kind = CML_STEP_INVOICE, .number = "СЧ-17", .date = "2026-11-02"},
	      OK, &res);
	apply(&st, (cml_step){.kind = CML_STEP_PAY, .amount = 600 * S}, OK, &res);
	CHECK_INT(st.payment, CML_OS_PAY_PARTIAL);
	apply(&st, (cml_step){.kind = CML_STEP_COMPLETE}, NO(NOT_PAID), &res);
	CHECK_STR(res.why, "paid 600 of 1000: an order is completed only when paid in full");
	apply(&st, (cml_step){.kind = CML_STEP_PAY, .amount = 400 * S}, OK, &res);
	apply(&st, (cml_step){.kind = CML_STEP_SHIP, .qty = (int64_t[]){2 * S, 2 * S}, .n_qty = 2},
	      OK, &res);
	CHECK_INT(st.shipment, CML_OS_SHIP_PARTIAL);
	apply(&st, (cml_step){.kind = CML_STEP_COMPLETE}, NO(NOT_SHIPPED), &res);
	apply(&st, (cml_step){.kind = CML_STEP_SHIP}, OK, &res);
	CHECK_INT(l[0].shipped, 3 * S);
	apply(&st, (cml_step){.kind = CML_STEP_COMPLETE}, OK, &res);
	CHECK_INT(st.life, CML_OS_COMPLETED);
	/* a document sent twice applies once */
	apply(&st, (cml_step){.kind = CML_STEP_CONFIRM}, NOOP, &res);
	apply(&st, (cml_step){.kind = CML_STEP_INVOICE, .number = "СЧ-17"}, NOOP, &res);
	apply(&st, (cml_step){.kind = CML_STEP_PAY}, NOOP, &res);
	apply(&st, (cml_step){.kind = CML_STEP_SHIP}, NOOP, &res);
	apply(&st, (cml_step){.kind = CML_STEP_COMPLETE}, NOOP, &res);
}

/* The reasons carry the figures. */
static void
test_reasons(void)
{
	cml_os_line l[N_LINES];
	cml_order_state st;
	cml_os_result res;
	build(&st, l, CML_OS_CONFIRMED, 1, 1, 0, false, false);
	apply(&st, (cml_step){.kind = CML_STEP_PAY, .amount = 6005000}, NO(OVERPAID), &res);
	CHECK_STR(res.why, "payment 600.5 beyond the total 1000, already paid 400: payments less "
	                   "refunds never exceed the order's total");
	apply(&st, (cml_step){.kind = CML_STEP_SHIP, .qty = (int64_t[]){1 * S, 3 * S}, .n_qty = 2},
	      NO(OVERSHIPPED), &res);
	CHECK(strstr(res.why, "line 2: 3 to ship, ordered 2, already shipped 0") == res.why);
	CHECK_INT(l[0].shipped, 0); /* line 1 was fine, but nothing moved */
	apply(&st, (cml_step){.kind = CML_STEP_SHIP, .qty = (int64_t[]){0, 0, S}, .n_qty = 3},
	      NO(OVERSHIPPED), &res);
	CHECK(strstr(res.why, "line 3 is a service") == res.why);
	apply(&st, (cml_step){.kind = CML_STEP_SHIP, .qty = (int64_t[]){0, 0, 0, S}, .n_qty = 4},
	      NO(OVERSHIPPED), &res);
	CHECK(strstr(res.why, "4 quantities for an order of 3 lines") == res.why);
	apply(&st, (cml_step){.kind = CML_STEP_SHIP, .qty = (int64_t[]){0, 0}, .n_qty = 2},
	      NO(OVERSHIPPED), &res);
	apply(&st, (cml_step){.kind = CML_STEP_CANCEL, .reason = "x"}, NO(PAID), &res);
	CHECK_STR(res.why, "400 paid and not refunded: an order with money on it needs a refund "
	                   "before it is cancelled");
	apply(&st, (cml_step){.kind = CML_STEP_REFUND, .amount = 500 * S}, NO(REFUND_EXCEEDS),
	      &res);
	CHECK(strstr(res.why, "refund 500, paid 400") == res.why);
	apply(&st, (cml_step){.kind = CML_STEP_REFUND, .amount = 400 * S}, OK, &res);
	CHECK_INT(st.payment, CML_OS_PAY_NONE);
	CHECK_INT(st.refunded, 400 * S);
	apply(&st, (cml_step){.kind = CML_STEP_CANCEL, .reason = "x"}, OK, &res);
	apply(&st, (cml_step){.kind = CML_STEP_SHIP}, NO(TERMINAL), &res);
	CHECK(strstr(res.why, "ship on a cancelled order: ") == res.why);
	apply(&st, (cml_step){.kind = CML_STEP_UNCANCEL}, OK, &res);
	CHECK_INT(st.life, CML_OS_NEW);
	CHECK_INT(st.invoice, CML_OS_INVOICE_ISSUED);

	/* the buyer under review */
	build(&st, l, CML_OS_NEW, 0, 0, 0, false, true);
	apply(&st, (cml_step){.kind = CML_STEP_CONFIRM}, NO(COUNTERPARTY_OPEN), &res);
	CHECK_INT(st.life, CML_OS_NEW);
	/* a site's online payment before confirmation */
	build(&st, l, CML_OS_NEW, 0, 0, 0, false, false);
	apply(&st, (cml_step){.kind = CML_STEP_PAY, .amount = TOTAL}, OK, &res);
	CHECK_INT(st.payment, CML_OS_PAY_FULL);
	/* an order without a total: a payment makes it paid in full */
	cml_os_init(&st, 0, l, N_LINES);
	apply(&st, (cml_step){.kind = CML_STEP_PAY, .amount = 5 * S}, OK, &res);
	CHECK_INT(st.payment, CML_OS_PAY_FULL);
	cml_os_init(&st, 0, l, N_LINES);
	apply(&st, (cml_step){.kind = CML_STEP_PAY}, NO(BAD_STEP), &res);
	/* a partial return keeps the rest shipped */
	build(&st, l, CML_OS_COMPLETED, 1, 2, 3, false, false);
	apply(&st, (cml_step){.kind = CML_STEP_RETURN, .qty = (int64_t[]){0, 2 * S}, .n_qty = 2},
	      OK, &res);
	CHECK_INT(st.shipment, CML_OS_SHIP_PARTIAL);
	CHECK_INT(l[1].shipped, 0);
	apply(&st, (cml_step){.kind = CML_STEP_RETURN, .qty = (int64_t[]){0, S}, .n_qty = 2},
	      NO(RETURN_EXCEEDS), &res);
	CHECK(strstr(res.why, "line 2: 1 to return, shipped 0") == res.why);
}

/* Malformed steps, before anything else is looked at. */
static void
test_bad_steps(void)
{
	static const struct {
		const char *what;
		cml_step step;
	} bad[] = {
	        {.what = "invoice without number", .step = {.kind = CML_STEP_INVOICE}},
	        {.what = "invoice with empty number",
	         .step = {.kind = CML_STEP_INVOICE, .number = ""}},
	        {.what = "cancel without reason", .step = {.kind = CML_STEP_CANCEL}},
	        {.what = "negative pay", .step = {.kind = CML_STEP_PAY, .amount = -1}},
	        {.what = "negative refund", .step = {.kind = CML_STEP_REFUND, .amount = -S}},
	        {.what = "negative ship",
	         .step = {.kind = CML_STEP_SHIP, .qty = q_neg, .n_qty = 1}},
	        {.what = "quantities without values",
	         .step = {.kind = CML_STEP_RETURN, .n_qty = 2}},
	        {.what = "date not a date",
	         .step = {.kind = CML_STEP_PAY, .amount = S, .date = "30.11.2026"}},
	        {.what = "date with a zone",
	         .step = {.kind = CML_STEP_PAY, .amount = S, .date = "2026-11-30T12:00:00Z"}},
	        {.what = "date with a space",
	         .step = {.kind = CML_STEP_PAY, .amount = S, .date = "2026-11-30 12:00:00"}},
	        {.what = "number too long",
	         .step = {.kind = CML_STEP_INVOICE,
	                  .number = "01234567890123456789012345678901234567890123456789012345678901"
	                            "23"}},
	        {.what = "kind out of range", .step = {.kind = CML_STEP_KIND_COUNT}},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cml_os_line l[N_LINES];
		cml_order_state st, before;
		cml_os_result res;
		harness_current = bad[i].what;
		build(&st, l, CML_OS_CONFIRMED, 1, 1, 1, false, false);
		memcpy(&before, &st, sizeof(st));
		cml_os_apply(&st, &bad[i].step, &res);
		CHECK_INT(res.verdict, CML_OS_REFUSED);
		CHECK_STR(cml_os_rule_name(res.rule), "bad-step");
		CHECK(memcmp(&st, &before, sizeof(st)) == 0);
	}
	harness_current = "test_bad_steps";
}

static void
test_names(void)
{
	for (int k = 0; k < CML_STEP_KIND_COUNT; k++) {
		cml_step_kind back;
		CHECK(cml_step_parse(cml_step_name((cml_step_kind)k), &back));
		CHECK_INT(back, k);
	}
	cml_step_kind k;
	CHECK(!cml_step_parse("ship ", &k));
	CHECK(!cml_step_parse("postpaid", &k));
	CHECK(!cml_step_parse(NULL, &k));
	CHECK_STR(cml_step_name(CML_STEP_ALLOW_SHIPMENT), "allow-shipment");
	for (int r = 0; r < CML_OS_RULE_COUNT; r++) {
		CHECK(cml_os_rule_name((cml_os_rule)r) != NULL);
		CHECK(strcmp(cml_os_rule_text((cml_os_rule)r), "unknown rule") != 0);
		for (int q = 0; q < r; q++)
			CHECK(strcmp(cml_os_rule_name((cml_os_rule)r),
			             cml_os_rule_name((cml_os_rule)q)) != 0);
	}
	CHECK_STR(cml_os_rule_name(CML_OS_RULE_NO_INVOICE), "no-invoice");
	cml_os_life l;
	CHECK(cml_os_life_parse("CANCELLED", &l) && l == CML_OS_CANCELLED);
	CHECK(cml_os_life_parse("confirmed", &l) && l == CML_OS_CONFIRMED);
	CHECK(!cml_os_life_parse("confirm", &l));
	CHECK(!cml_os_life_parse("newer", &l));
	CHECK_STR(cml_os_life_name(CML_OS_COMPLETED), "completed");
	CHECK_STR(cml_os_invoice_name(CML_OS_INVOICE_ISSUED), "issued");
	CHECK_STR(cml_os_payment_name(CML_OS_PAY_PARTIAL), "partial");
	CHECK_STR(cml_os_shipment_name(CML_OS_SHIP_ALLOWED), "allowed");
}

static void
test_stale(void)
{
	static const struct {
		const char *lv, *lc, *v, *c;
		bool stale;
	} cases[] = {
	        /* integers, by value */
	        {"5", NULL, "6", NULL, false},
	        {"5", NULL, "5", NULL, true},
	        {"10", NULL, "9", NULL, true}, /* not as strings: "9" > "10" */
	        {"9", NULL, "10", NULL, false},
	        {"-1", NULL, "0", NULL, false},
	        /* strings: only equal is stale */
	        {"AAAAAQ==", NULL, "AAAAAQ==", NULL, true},
	        {"AAAAAg==", NULL, "AAAAAQ==", NULL, false},
	        {"5", NULL, "5a", NULL, false},
	        /* versions decide before times */
	        {"5", "2026-11-30T10:00:00", "6", "2026-11-01", false},
	        {"5", "2026-11-01", "5", "2026-11-30T10:00:00", true},
	        /* times: not later is stale */
	        {NULL, "2026-11-30T10:00:00", NULL, "2026-11-30T10:00:01", false},
	        {NULL, "2026-11-30T10:00:00", NULL, "2026-11-30T10:00:00", true},
	        {NULL, "2026-11-30T10:00:00", NULL, "2026-11-30", true},
	        {NULL, "2026-11-30", NULL, "2026-11-30T00:00:01", false},
	        {NULL, "2026-11-30 10:00:00", NULL, "2026-11-30T09:59:59", true},
	        {"", "2026-12-01", "7", "2026-11-30", true}, /* no last version: time decides */
	        /* none: never stale */
	        {NULL, NULL, NULL, NULL, false},
	        {"", "", "", "", false},
	        {"5", "2026-11-30", NULL, NULL, false},
	        {NULL, NULL, "1", "2026-01-01", false},
	        {NULL, "30.11.2026", NULL, "01.11.2026", false}, /* not times we read */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool got = cml_os_stale(cases[i].lv, cases[i].lc, cases[i].v, cases[i].c);
		if (got != cases[i].stale)
			fprintf(stderr, "stale case %zu: %s/%s then %s/%s\n", i,
			        cases[i].lv ? cases[i].lv : "-", cases[i].lc ? cases[i].lc : "-",
			        cases[i].v ? cases[i].v : "-", cases[i].c ? cases[i].c : "-");
		CHECK(got == cases[i].stale);
	}
}

static void
test_amounts(void)
{
	static const struct {
		const char *text;
		int64_t v;
		const char *canon;
	} good[] = {
	        {"0", 0, "0"},
	        {"1200.50", 12005000, "1200.5"},
	        {"1 200,50", 12005000, "1200.5"},
	        {"3.5", 35000, "3.5"},
	        {"-2", -20000, "-2"},
	        {"0.0001", 1, "0.0001"},
	        {"1.23450", 12345, "1.2345"},
	        {"+7", 70000, "7"},
	        {"-0", 0, "0"},
	        {"922337203685477.5807", INT64_MAX, "922337203685477.5807"},
	        {"-922337203685477.5807", -INT64_MAX, "-922337203685477.5807"},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int64_t v = -99;
		char out[32];
		harness_current = good[i].text;
		CHECK(cml_os_amount_parse(good[i].text, &v));
		CHECK_INT(v, good[i].v);
		cml_os_amount_format(v, out, sizeof(out));
		CHECK_STR(out, good[i].canon);
		/* and back */
		int64_t w = -99;
		CHECK(cml_os_amount_parse(out, &w));
		CHECK_INT(w, v);
	}
	harness_current = "test_amounts";
	static const char *const bad[] = {
	        "1e20",
	        "1.23456",
	        "",
	        "abc",
	        "1.2.3",
	        "-",
	        ".",
	        "12a",
	        "100000000000000000000",
	        "922337203685477.5808",
	        "1,2,3",
	        NULL,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t v = -99;
		CHECK(!cml_os_amount_parse(bad[i], &v));
		CHECK_INT(v, -99);
	}
	char out[32];
	cml_os_amount_format(INT64_MIN, out, sizeof(out));
	CHECK_STR(out, "-922337203685477.5808");
	cml_os_amount_format(-1, out, sizeof(out));
	CHECK_STR(out, "-0.0001");
	cml_os_amount_format(10000000, out, sizeof(out));
	CHECK_STR(out, "1000");
	cml_os_amount_format(10100, out, sizeof(out));
	CHECK_STR(out, "1.01");
	/* every scaled value of a range formats and parses back to itself */
	for (int64_t v = -30000; v <= 30000; v += 7) {
		int64_t w;
		cml_os_amount_format(v, out, sizeof(out));
		CHECK(cml_os_amount_parse(out, &w) && w == v);
	}
}

int
main(void)
{
	RUN(test_every_transition);
	RUN(test_every_row_reached);
	RUN(test_seed_broken_sequence);
	RUN(test_reasons);
	RUN(test_bad_steps);
	RUN(test_names);
	RUN(test_stale);
	RUN(test_amounts);
	return harness_done();
}
