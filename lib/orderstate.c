/*
 * orderstate.c: the order state machine; the contract and the rules are
 * in cml/orderstate.h.
 *
 * A step is decided in four passes, always in this order, so that the
 * rule a refusal names does not depend on how the code is arranged:
 *  1. its shape (a number or a reason where one is needed, a date that
 *     is a date, no negative amount): CML_OS_RULE_BAD_STEP;
 *  2. "already so" (steps[].noop): a step that would change nothing is
 *     a NOOP in any lifecycle, so a document sent twice applies once,
 *     even after the order completed;
 *  3. the lifecycle table life_rule[step][life]: the rule that forbids
 *     the step in that lifecycle, CML_OS_RULE_NONE where it may run;
 *  4. the step's own guards (steps[].apply), which work on a copy and
 *     refuse with figures; only an applied copy is written back.
 * Everything is int64 fixed point: no floating point anywhere.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cml/model.h"
#include "cml/orderstate.h"

#define R(x) CML_OS_RULE_##x

/* (step x lifecycle) -> the rule that forbids it there; NONE = allowed.
 * COMPLETED takes only refund and return, CANCELLED only uncancel and
 * refund; every "already so" is decided before this table. */
/* clang-format off */
static const cml_os_rule life_rule[CML_STEP_KIND_COUNT][4] = {
	/*                           NEW               CONFIRMED           COMPLETED     CANCELLED */
	[CML_STEP_CONFIRM] =        {R(NONE),          R(NOT_NEW),         R(TERMINAL),  R(TERMINAL)},
	[CML_STEP_INVOICE] =        {R(NOT_CONFIRMED), R(NONE),            R(TERMINAL),  R(TERMINAL)},
	[CML_STEP_PAY] =            {R(NONE),          R(NONE),            R(TERMINAL),  R(TERMINAL)},
	[CML_STEP_ALLOW_SHIPMENT] = {R(NOT_CONFIRMED), R(NONE),            R(TERMINAL),  R(TERMINAL)},
	[CML_STEP_SHIP] =           {R(NOT_CONFIRMED), R(NONE),            R(TERMINAL),  R(TERMINAL)},
	[CML_STEP_COMPLETE] =       {R(NOT_CONFIRMED), R(NONE),            R(TERMINAL),  R(TERMINAL)},
	[CML_STEP_CANCEL] =         {R(NONE),          R(NONE),            R(TERMINAL),  R(TERMINAL)},
	[CML_STEP_REFUND] =         {R(NONE),          R(NONE),            R(NONE),      R(NONE)},
	[CML_STEP_RETURN] =         {R(NONE),          R(NONE),            R(NONE),      R(TERMINAL)},
	[CML_STEP_UNCANCEL] =       {R(NOT_CANCELLED), R(NOT_CANCELLED),   R(NOT_CANCELLED), R(NONE)},
	[CML_STEP_TERMS] =          {R(NONE),          R(NONE),            R(TERMINAL),  R(TERMINAL)},
};
/* clang-format on */

/* The rules: a stable name and one sentence each. */
static const struct {
	const char *name;
	const char *text;
} rules[CML_OS_RULE_COUNT] = {
        [R(NONE)] = {"none", "no rule is broken"},
        [R(TERMINAL)] = {"terminal",
                         "a completed order takes only refund and return, a cancelled one only "
                         "uncancel and refund"},
        [R(NOT_NEW)] = {"not-new", "an order is confirmed only from new"},
        [R(COUNTERPARTY_OPEN)] = {"counterparty-open",
                                  "an order is not confirmed while its buyer is under review "
                                  "(cp-match)"},
        [R(NOT_CONFIRMED)] = {"not-confirmed",
                              "an invoice, a shipment or completion needs a confirmed order"},
        [R(NO_INVOICE)] = {"no-invoice",
                           "a shipment cannot be recorded before the invoice (postpaid terms are "
                           "an explicit option)"},
        [R(OVERPAID)] = {"overpaid", "payments less refunds never exceed the order's total"},
        [R(OVERSHIPPED)] = {"overshipped",
                            "a line ships never more than was ordered less what was shipped"},
        [R(SHIPPED)] = {"shipped", "an order is cancelled only before shipment"},
        [R(PAID)] = {"paid", "an order with money on it needs a refund before it is cancelled"},
        [R(NOT_PAID)] = {"not-paid", "an order is completed only when paid in full"},
        [R(NOT_SHIPPED)] = {"not-shipped", "an order is completed only when shipped in full"},
        [R(REFUND_EXCEEDS)] = {"refund-exceeds", "a refund is never more than was paid"},
        [R(RETURN_EXCEEDS)] = {"return-exceeds", "a return is never more than was shipped"},
        [R(NOT_CANCELLED)] = {"not-cancelled", "only a cancelled order is uncancelled"},
        [R(BAD_STEP)] = {"bad-step", "the step is not well formed"},
};

static const char *const step_names[CML_STEP_KIND_COUNT] = {
        [CML_STEP_CONFIRM] = "confirm", [CML_STEP_INVOICE] = "invoice",
        [CML_STEP_PAY] = "pay",         [CML_STEP_ALLOW_SHIPMENT] = "allow-shipment",
        [CML_STEP_SHIP] = "ship",       [CML_STEP_COMPLETE] = "complete",
        [CML_STEP_CANCEL] = "cancel",   [CML_STEP_REFUND] = "refund",
        [CML_STEP_RETURN] = "return",   [CML_STEP_UNCANCEL] = "uncancel",
        [CML_STEP_TERMS] = "terms",
};

static const char *const life_names[] = {"new", "confirmed", "completed", "cancelled"};
static const char *const invoice_names[] = {"none", "issued"};
static const char *const payment_names[] = {"none", "partial", "full"};
static const char *const shipment_names[] = {"none", "allowed", "partial", "full"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

const char *
cml_step_name(cml_step_kind k)
{
	return (unsigned)k < CML_STEP_KIND_COUNT ? step_names[k] : "unknown";
}

bool
cml_step_parse(const char *word, cml_step_kind *k)
{
	for (unsigned i = 0; word != NULL && i < CML_STEP_KIND_COUNT; i++)
		if (strcmp(word, step_names[i]) == 0) {
			*k = (cml_step_kind)i;
			return true;
		}
	return false;
}

const char *
cml_os_rule_name(cml_os_rule r)
{
	return (unsigned)r < CML_OS_RULE_COUNT ? rules[r].name : "unknown";
}

const char *
cml_os_rule_text(cml_os_rule r)
{
	return (unsigned)r < CML_OS_RULE_COUNT ? rules[r].text : "unknown rule";
}

const char *
cml_os_life_name(cml_os_life l)
{
	return (unsigned)l < N_OF(life_names) ? life_names[l] : "unknown";
}

bool
cml_os_life_parse(const char *word, cml_os_life *l)
{
	for (unsigned i = 0; word != NULL && i < N_OF(life_names); i++) {
		const char *n = life_names[i];
		size_t j = 0;
		while (n[j] != '\0' && (word[j] == n[j] || word[j] == n[j] - 'a' + 'A'))
			j++;
		if (n[j] == '\0' && word[j] == '\0') {
			*l = (cml_os_life)i;
			return true;
		}
	}
	return false;
}

const char *
cml_os_invoice_name(cml_os_invoice f)
{
	return (unsigned)f < N_OF(invoice_names) ? invoice_names[f] : "unknown";
}

const char *
cml_os_payment_name(cml_os_payment f)
{
	return (unsigned)f < N_OF(payment_names) ? payment_names[f] : "unknown";
}

const char *
cml_os_shipment_name(cml_os_shipment f)
{
	return (unsigned)f < N_OF(shipment_names) ? shipment_names[f] : "unknown";
}

/* ---- amounts ---- */

/* The largest integer part that still fits scaled in an int64. */
#define AMOUNT_INT_MAX (INT64_MAX / CML_OS_SCALE)

bool
cml_os_amount_parse(const char *text, int64_t *out)
{
	char canon[64];
	if (text == NULL || !cml_num_canon(text, canon, sizeof(canon)))
		return false;
	/* canon: -?digits(.digits)?, no leading or trailing zeros */
	const char *p = canon;
	bool neg = *p == '-';
	if (neg)
		p++;
	int64_t whole = 0;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (AMOUNT_INT_MAX - (*p - '0')) / 10)
			return false;
		whole = whole * 10 + (*p - '0');
	}
	int64_t frac = 0;
	int digits = 0;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (++digits > 4)
				return false; /* canon has no trailing zeros: a real 5th decimal */
			frac = frac * 10 + (*p - '0');
		}
		if (digits == 0)
			return false;
	}
	if (*p != '\0')
		return false;
	for (; digits < 4; digits++)
		frac *= 10;
	if (whole == AMOUNT_INT_MAX && frac > INT64_MAX % CML_OS_SCALE)
		return false;
	int64_t v = whole * CML_OS_SCALE + frac;
	*out = neg ? -v : v;
	return true;
}

void
cml_os_amount_format(int64_t v, char *out, size_t cap)
{
	if (cap == 0)
		return;
	/* through unsigned, so INT64_MIN has a magnitude */
	uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uint64_t whole = m / CML_OS_SCALE;
	unsigned frac = (unsigned)(m % CML_OS_SCALE);
	char fs[8] = "";
	if (frac != 0) {
		snprintf(fs, sizeof(fs), ".%04u", frac);
		size_t n = strlen(fs);
		while (fs[n - 1] == '0')
			fs[--n] = '\0';
	}
	snprintf(out, cap, "%s%" PRIu64 "%s", v < 0 ? "-" : "", whole, fs);
}

/* ---- staleness ---- */

static bool
is_int(const char *s, int64_t *v)
{
	const char *p = s;
	bool neg = *p == '-';
	if (neg)
		p++;
	if (*p == '\0')
		return false;
	int64_t n = 0;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || n > (INT64_MAX - (*p - '0')) / 10)
			return false;
		n = n * 10 + (*p - '0');
	}
	*v = neg ? -n : n;
	return true;
}

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* YYYY-MM-DD[(T| )HH:MM:SS[anything]] -> "YYYY-MM-DDTHH:MM:SS" in t[20];
 * false when it is not such a time. */
static bool
time_key(const char *s, char t[20])
{
	if (strlen(s) < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2))
		return false;
	memcpy(t, s, 10);
	memcpy(t + 10, "T00:00:00", 10);
	if (s[10] == '\0')
		return true;
	if ((s[10] != 'T' && s[10] != ' ') || strlen(s) < 19 || !digits(s + 11, 2) ||
	    s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
		return false;
	memcpy(t + 11, s + 11, 8);
	return true;
}

static bool
blank(const char *s)
{
	return s == NULL || *s == '\0';
}

bool
cml_os_stale(const char *last_version, const char *last_changed, const char *version,
             const char *changed)
{
	/* versions first: both sides must have one; integers compare by
	 * value, anything else (1C's base64 НомерВерсии) only by equality */
	if (!blank(version) && !blank(last_version)) {
		int64_t a, b;
		if (is_int(version, &a) && is_int(last_version, &b))
			return a <= b;
		return strcmp(version, last_version) == 0;
	}
	char a[20], b[20];
	if (!blank(changed) && !blank(last_changed) && time_key(changed, a) &&
	    time_key(last_changed, b))
		return strcmp(a, b) <= 0;
	return false;
}

/* ---- the steps ---- */

/* A date a step may carry: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS exactly. */
static bool
step_date_ok(const char *d)
{
	char t[20];
	if (blank(d))
		return true;
	size_t n = strlen(d);
	return (n == 10 || (n == 19 && d[10] == 'T')) && time_key(d, t);
}

static bool
same(const char *recorded, const char *step)
{
	return blank(step) || strcmp(recorded, step) == 0;
}

static void
amt(int64_t v, char out[32])
{
	cml_os_amount_format(v, out, 32);
}

static bool
is_goods(const cml_os_line *l)
{
	return !l->service;
}

/* Every goods line shipped in full (true, vacuously, for an order of
 * services alone). */
static bool
all_shipped(const cml_order_state *st)
{
	for (size_t i = 0; i < st->n_lines; i++)
		if (is_goods(&st->lines[i]) && st->lines[i].shipped < st->lines[i].ordered)
			return false;
	return true;
}

static bool
any_shipped(const cml_order_state *st)
{
	for (size_t i = 0; i < st->n_lines; i++)
		if (is_goods(&st->lines[i]) && st->lines[i].shipped > 0)
			return true;
	return false;
}

static void
payment_facet(cml_order_state *st)
{
	int64_t net = st->paid - st->refunded;
	if (net <= 0)
		st->payment = CML_OS_PAY_NONE;
	else if (st->total > 0 && net < st->total)
		st->payment = CML_OS_PAY_PARTIAL;
	else
		st->payment = CML_OS_PAY_FULL;
}

/* From the lines. With nothing shipped (again, after a return) the
 * shipment stays allowed if it was allowed or had gone out at all: goods
 * only go out once shipping is permitted. */
static void
shipment_facet(cml_order_state *st, cml_os_shipment before)
{
	if (!any_shipped(st))
		st->shipment = before == CML_OS_SHIP_NONE ? CML_OS_SHIP_NONE : CML_OS_SHIP_ALLOWED;
	else if (all_shipped(st))
		st->shipment = CML_OS_SHIP_FULL;
	else
		st->shipment = CML_OS_SHIP_PARTIAL;
}

/* The step's number or date becomes the recorded one: that of the
 * latest document, "" when it came without one. */
static void
put(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", blank(src) ? "" : src);
}

/* A guard's refusal: the rule and its figures. Always returns false. */
__attribute__((format(printf, 3, 4))) static bool
refuse(cml_os_result *res, cml_os_rule rule, const char *fmt, ...)
{
	char fig[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fig, sizeof(fig), fmt, ap);
	va_end(ap);
	res->verdict = CML_OS_REFUSED;
	res->rule = rule;
	snprintf(res->why, sizeof(res->why), "%s: %s", fig, rules[rule].text);
	return false;
}

/* 1. the shape of a step */
static bool
shape_ok(const cml_step *sp, cml_os_result *res)
{
	if (!step_date_ok(sp->date))
		return refuse(res, R(BAD_STEP), "date \"%s\" is not YYYY-MM-DD[THH:MM:SS]",
		              sp->date);
	if (!blank(sp->number) && strlen(sp->number) >= 64)
		return refuse(res, R(BAD_STEP), "document number longer than 63 bytes");
	if (sp->n_qty > 0 && sp->qty == NULL)
		return refuse(res, R(BAD_STEP), "%zu quantities without their values", sp->n_qty);
	switch (sp->kind) {
	case CML_STEP_INVOICE:
		if (blank(sp->number))
			return refuse(res, R(BAD_STEP), "an invoice without its number");
		break;
	case CML_STEP_CANCEL:
		if (blank(sp->reason))
			return refuse(res, R(BAD_STEP), "a cancel without its reason");
		if (strlen(sp->reason) >= 256)
			return refuse(res, R(BAD_STEP), "a cancel reason longer than 255 bytes");
		break;
	case CML_STEP_PAY:
	case CML_STEP_REFUND:
		if (sp->amount < 0) {
			char a[32];
			amt(sp->amount, a);
			return refuse(res, R(BAD_STEP), "a negative amount %s", a);
		}
		break;
	case CML_STEP_SHIP:
	case CML_STEP_RETURN:
		for (size_t i = 0; i < sp->n_qty; i++)
			if (sp->qty[i] < 0) {
				char a[32];
				amt(sp->qty[i], a);
				return refuse(res, R(BAD_STEP), "line %zu: a negative quantity %s",
				              i + 1, a);
			}
		break;
	default:
		break;
	}
	return true;
}

/* 2. "already so" */

static bool
noop_confirm(const cml_order_state *st, const cml_step *sp)
{
	(void)sp;
	return st->life == CML_OS_CONFIRMED || st->life == CML_OS_COMPLETED;
}

static bool
noop_invoice(const cml_order_state *st, const cml_step *sp)
{
	return st->invoice == CML_OS_INVOICE_ISSUED &&
	       strcmp(st->invoice_number, sp->number) == 0 && same(st->invoice_date, sp->date);
}

/* the same payment document again, or "what is due" with nothing due */
static bool
noop_pay(const cml_order_state *st, const cml_step *sp)
{
	if (!blank(sp->number) && strcmp(st->payment_number, sp->number) == 0)
		return true;
	return sp->amount == 0 && st->payment == CML_OS_PAY_FULL;
}

static bool
noop_allow(const cml_order_state *st, const cml_step *sp)
{
	(void)sp;
	return st->shipment != CML_OS_SHIP_NONE;
}

/* the same shipment document again, or "every line's rest" with no rest */
static bool
noop_ship(const cml_order_state *st, const cml_step *sp)
{
	if (!blank(sp->number) && strcmp(st->shipment_number, sp->number) == 0)
		return true;
	return sp->n_qty == 0 && st->shipment == CML_OS_SHIP_FULL;
}

static bool
noop_complete(const cml_order_state *st, const cml_step *sp)
{
	(void)sp;
	return st->life == CML_OS_COMPLETED;
}

static bool
noop_cancel(const cml_order_state *st, const cml_step *sp)
{
	(void)sp;
	return st->life == CML_OS_CANCELLED;
}

static bool
noop_terms(const cml_order_state *st, const cml_step *sp)
{
	return st->postpaid == sp->postpaid;
}

/* 4. the guards, on a copy of the state */

static bool
do_confirm(cml_order_state *st, const cml_step *sp, cml_os_result *res)
{
	(void)sp;
	if (st->counterparty_open)
		return refuse(res, R(COUNTERPARTY_OPEN), "the buyer has an open review");
	st->life = CML_OS_CONFIRMED;
	return true;
}

static bool
do_invoice(cml_order_state *st, const cml_step *sp, cml_os_result *res)
{
	(void)res;
	st->invoice = CML_OS_INVOICE_ISSUED;
	put(st->invoice_number, sizeof(st->invoice_number), sp->number);
	put(st->invoice_date, sizeof(st->invoice_date), sp->date);
	return true;
}

static bool
do_pay(cml_order_state *st, const cml_step *sp, cml_os_result *res)
{
	char a[32], t[32], p[32];
	int64_t net = st->paid - st->refunded;
	int64_t amount = sp->amount;
	if (amount == 0) {
		if (st->total <= 0)
			return refuse(res, R(BAD_STEP),
			              "a payment without an amount on an order without a total");
		amount = st->total - net;
	}
	amt(amount, a), amt(st->total, t), amt(net, p);
	if (st->total > 0 && amount > st->total - net)
		return refuse(res, R(OVERPAID), "payment %s beyond the total %s, already paid %s",
		              a, t, p);
	if (amount > INT64_MAX - st->paid)
		return refuse(res, R(OVERPAID), "payment %s out of range", a);
	st->paid += amount;
	payment_facet(st);
	put(st->payment_number, sizeof(st->payment_number), sp->number);
	put(st->payment_date, sizeof(st->payment_date), sp->date);
	return true;
}

static bool
invoice_or_terms(const cml_order_state *st, cml_os_result *res)
{
	if (st->invoice == CML_OS_INVOICE_NONE && !st->postpaid)
		return refuse(
		        res, R(NO_INVOICE),
		        "no invoice is issued for this order and it is not on postpaid terms");
	return true;
}

static bool
do_allow(cml_order_state *st, const cml_step *sp, cml_os_result *res)
{
	(void)sp;
	if (!invoice_or_terms(st, res))
		return false;
	st->shipment = CML_OS_SHIP_ALLOWED;
	return true;
}

/* The quantity line i of a ship moves (n_qty 0: every goods line's rest). */
static int64_t
ship_qty(const cml_order_state *st, const cml_step *sp, size_t i)
{
	const cml_os_line *l = &st->lines[i];
	int64_t rest = l->ordered - l->shipped;
	if (sp->n_qty == 0)
		return is_goods(l) && rest > 0 ? rest : 0;
	return i < sp->n_qty ? sp->qty[i] : 0;
}

/* Ship and return check every line before they move any, so that a
 * refusal leaves the caller's lines as they were. */
static bool
do_ship(cml_order_state *st, const cml_step *sp, cml_os_result *res)
{
	char a[32], b[32], c[32];
	if (!invoice_or_terms(st, res))
		return false;
	if (sp->n_qty > st->n_lines)
		return refuse(res, R(OVERSHIPPED), "%zu quantities for an order of %zu lines",
		              sp->n_qty, st->n_lines);
	bool some = false;
	for (size_t i = 0; i < st->n_lines; i++) {
		const cml_os_line *l = &st->lines[i];
		int64_t q = ship_qty(st, sp, i);
		if (q == 0)
			continue;
		amt(q, a), amt(l->ordered, b), amt(l->shipped, c);
		if (!is_goods(l))
			return refuse(res, R(OVERSHIPPED),
			              "line %zu is a service, never shipped (%s)", i + 1, a);
		if (q > l->ordered - l->shipped)
			return refuse(res, R(OVERSHIPPED),
			              "line %zu: %s to ship, ordered %s, already shipped %s", i + 1,
			              a, b, c);
		some = true;
	}
	if (!some)
		return refuse(res, R(OVERSHIPPED), "nothing left to ship");
	for (size_t i = 0; i < st->n_lines; i++)
		st->lines[i].shipped += ship_qty(st, sp, i);
	shipment_facet(st, st->shipment);
	put(st->shipment_number, sizeof(st->shipment_number), sp->number);
	put(st->shipment_date, sizeof(st->shipment_date), sp->date);
	return true;
}

static bool
do_complete(cml_order_state *st, const cml_step *sp, cml_os_result *res)
{
	(void)sp;
	char p[32], t[32];
	if (st->payment != CML_OS_PAY_FULL) {
		amt(st->paid - st->refunded, p), amt(st->total, t);
		return refuse(res, R(NOT_PAID), "paid %s of %s", p, t);
	}
	if (st->shipment != CML_OS_SHIP_FULL && !all_shipped(st))
		return refuse(res, R(NOT_SHIPPED), "shipment %s",
		              cml_os_shipment_name(st->shipment));
	st->life = CML_OS_COMPLETED;
	return true;
}

static bool
do_cancel(cml_order_state *st, const cml_step *sp, cml_os_result *res)
{
	char p[32];
	if (st->shipment == CML_OS_SHIP_PARTIAL || st->shipment == CML_OS_SHIP_FULL)
		return refuse(res, R(SHIPPED), "shipment %s, return it first",
		              cml_os_shipment_name(st->shipment));
	if (st->paid - st->refunded > 0) {
		amt(st->paid - st->refunded, p);
		return refuse(res, R(PAID), "%s paid and not refunded", p);
	}
	st->life = CML_OS_CANCELLED;
	put(st->cancel_reason, sizeof(st->cancel_reason), sp->reason);
	return true;
}

static bool
do_refund(cml_order_state *st, const cml_step *sp, cml_os_result *res)
{
	char a[32], p[32];
	int64_t net = st->paid - st->refunded;
	int64_t amount = sp->amount == 0 ? net : sp->amount;
	amt(amount, a), amt(net, p);
	if (net <= 0)
		return refuse(res, R(REFUND_EXCEEDS), "nothing is paid to refund");
	if (amount > net)
		return refuse(res, R(REFUND_EXCEEDS), "refund %s, paid %s less refunds", a, p);
	st->refunded += amount;
	payment_facet(st);
	return true;
}

static int64_t
return_qty(const cml_order_state *st, const cml_step *sp, size_t i)
{
	if (sp->n_qty == 0)
		return st->lines[i].shipped;
	return i < sp->n_qty ? sp->qty[i] : 0;
}

static bool
do_return(cml_order_state *st, const cml_step *sp, cml_os_result *res)
{
	char a[32], c[32];
	if (sp->n_qty > st->n_lines)
		return refuse(res, R(RETURN_EXCEEDS), "%zu quantities for an order of %zu lines",
		              sp->n_qty, st->n_lines);
	bool some = false;
	for (size_t i = 0; i < st->n_lines; i++) {
		int64_t q = return_qty(st, sp, i);
		if (q == 0)
			continue;
		if (q > st->lines[i].shipped) {
			amt(q, a), amt(st->lines[i].shipped, c);
			return refuse(res, R(RETURN_EXCEEDS), "line %zu: %s to return, shipped %s",
			              i + 1, a, c);
		}
		some = true;
	}
	if (!some)
		return refuse(res, R(RETURN_EXCEEDS), "nothing is shipped to return");
	for (size_t i = 0; i < st->n_lines; i++)
		st->lines[i].shipped -= return_qty(st, sp, i);
	shipment_facet(st, st->shipment);
	return true;
}

static bool
do_uncancel(cml_order_state *st, const cml_step *sp, cml_os_result *res)
{
	(void)sp, (void)res;
	st->life = CML_OS_NEW;
	st->cancel_reason[0] = '\0';
	return true;
}

static bool
do_terms(cml_order_state *st, const cml_step *sp, cml_os_result *res)
{
	(void)res;
	st->postpaid = sp->postpaid;
	return true;
}

typedef bool (*noop_fn)(const cml_order_state *, const cml_step *);
typedef bool (*apply_fn)(cml_order_state *, const cml_step *, cml_os_result *);

static const struct {
	noop_fn noop; /* NULL: never already so */
	apply_fn apply;
} steps[CML_STEP_KIND_COUNT] = {
        [CML_STEP_CONFIRM] = {noop_confirm, do_confirm},
        [CML_STEP_INVOICE] = {noop_invoice, do_invoice},
        [CML_STEP_PAY] = {noop_pay, do_pay},
        [CML_STEP_ALLOW_SHIPMENT] = {noop_allow, do_allow},
        [CML_STEP_SHIP] = {noop_ship, do_ship},
        [CML_STEP_COMPLETE] = {noop_complete, do_complete},
        [CML_STEP_CANCEL] = {noop_cancel, do_cancel},
        [CML_STEP_REFUND] = {NULL, do_refund},
        [CML_STEP_RETURN] = {NULL, do_return},
        [CML_STEP_UNCANCEL] = {NULL, do_uncancel},
        [CML_STEP_TERMS] = {noop_terms, do_terms},
};

void
cml_os_apply(cml_order_state *st, const cml_step *sp, cml_os_result *res)
{
	memset(res, 0, sizeof(*res));
	res->verdict = CML_OS_APPLIED;
	if ((unsigned)sp->kind >= CML_STEP_KIND_COUNT) {
		refuse(res, R(BAD_STEP), "step kind %d", (int)sp->kind);
		return;
	}
	if ((unsigned)st->life >= N_OF(life_names)) {
		refuse(res, R(BAD_STEP), "lifecycle %d", (int)st->life);
		return;
	}
	if (!shape_ok(sp, res))
		return;
	if (steps[sp->kind].noop != NULL && steps[sp->kind].noop(st, sp)) {
		res->verdict = CML_OS_NOOP;
		return;
	}
	cml_os_rule r = life_rule[sp->kind][st->life];
	if (r != R(NONE)) {
		refuse(res, r, "%s on a %s order", step_names[sp->kind], life_names[st->life]);
		return;
	}
	/* the guards decide on a copy; the lines are only moved by ship and
	 * return once every line passed */
	cml_order_state next = *st;
	if (steps[sp->kind].apply(&next, sp, res))
		*st = next;
}

void
cml_os_init(cml_order_state *st, int64_t total, cml_os_line *lines, size_t n_lines)
{
	memset(st, 0, sizeof(*st));
	st->total = total;
	st->lines = lines;
	st->n_lines = n_lines;
	for (size_t i = 0; i < n_lines; i++)
		lines[i].shipped = 0;
}
