/*
 * orderstate.h: the order state machine (cmlkit(7) "Order progress"):
 * where an order stands, and which steps may move it. Pure: no store, no
 * I/O, no allocation; the store keeps states (progress.h), this decides.
 *
 * Lifecycle: NEW -> CONFIRMED -> COMPLETED, and CANCELLED. Beside it
 * three facets that only move forward: invoice (none -> issued), payment
 * (none -> partial -> full) and shipment (none -> allowed -> partial ->
 * full); payment moves back only through a refund step, shipment only
 * through a return step.
 *
 * The rules (each refusal names one, cml_os_rule):
 *  - confirm: from NEW only, and not while the order's counterparty has
 *    an open review (cp-match's conflict);
 *  - invoice, allow-shipment, ship: the order is CONFIRMED;
 *  - pay: the order is NEW or CONFIRMED (a site's online payment comes
 *    before confirmation); the amount is positive and the payments less
 *    the refunds never exceed the order's total;
 *  - allow-shipment and ship: never before the invoice, unless the order
 *    is on postpaid terms (the terms step); ship never more than was
 *    ordered of a line, less what was shipped;
 *  - cancel: only before shipment (shipment none or allowed); an order
 *    with money on it (paid - refunded > 0) needs a refund first;
 *  - complete: CONFIRMED, paid in full and shipped in full;
 *  - COMPLETED takes only refund and return; CANCELLED takes only
 *    uncancel (back to NEW, facets kept) and refund;
 *  - refund: never more than paid - refunded; return: only what was
 *    shipped.
 * A step that changes nothing because the order is already there
 * (confirm on CONFIRMED, the same invoice again, allow-shipment when
 * allowed, complete on COMPLETED, cancel on CANCELLED, terms already so)
 * is CML_OS_NOOP, not a refusal: a document sent twice applies once.
 *
 * Staleness (an update not newer than the last one applied from the same
 * source) is decided by cml_os_stale; a missing requisite is simply no
 * step, so nothing ever moves back for want of one.
 *
 * Money and quantities are fixed point: int64 in units of 1/10000
 * (CML_OS_SCALE), parsed and written with cml_os_amount_parse/format.
 */
#ifndef CML_ORDERSTATE_H
#define CML_ORDERSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"

CML_BEGIN_DECLS

#define CML_OS_SCALE 10000

typedef enum cml_os_life {
	CML_OS_NEW = 0,
	CML_OS_CONFIRMED,
	CML_OS_COMPLETED,
	CML_OS_CANCELLED,
} cml_os_life;

typedef enum cml_os_invoice { CML_OS_INVOICE_NONE = 0, CML_OS_INVOICE_ISSUED } cml_os_invoice;
typedef enum cml_os_payment { CML_OS_PAY_NONE = 0, CML_OS_PAY_PARTIAL, CML_OS_PAY_FULL } cml_os_payment;
typedef enum cml_os_shipment {
	CML_OS_SHIP_NONE = 0,
	CML_OS_SHIP_ALLOWED,
	CML_OS_SHIP_PARTIAL,
	CML_OS_SHIP_FULL,
} cml_os_shipment;

/* One order line as the state machine sees it. */
typedef struct cml_os_line {
	int64_t ordered;  /* Количество, scaled */
	int64_t shipped;  /* shipped less returned, scaled */
	bool service;     /* a service or the delivery line (Ид ORDER_DELIVERY,
	                     ТипНоменклатуры Услуга): never shipped, not
	                     counted for "shipped in full" */
} cml_os_line;

/* Where one order stands. lines points to the caller's array of
 * n_lines; cml_os_apply updates it in place. */
typedef struct cml_order_state {
	cml_os_life life;
	cml_os_invoice invoice;
	cml_os_payment payment;
	cml_os_shipment shipment;
	bool postpaid;             /* shipment before invoice allowed */
	bool counterparty_open;    /* the buyer has an open review (caller fills) */
	int64_t total;             /* the order's Сумма, scaled */
	int64_t paid;              /* every payment, scaled */
	int64_t refunded;          /* every refund, scaled */
	cml_os_line *lines;
	size_t n_lines;
	/* the last document numbers and dates recorded ("" when none);
	 * cml_os_apply copies the step's into them */
	char invoice_number[64], invoice_date[32];
	char payment_number[64], payment_date[32];
	char shipment_number[64], shipment_date[32];
	char cancel_reason[256];
} cml_order_state;

/* A new order: NEW, every facet none, the given total and lines (each
 * line's shipped set to 0). */
void cml_os_init(cml_order_state *st, int64_t total, cml_os_line *lines, size_t n_lines);

typedef enum cml_step_kind {
	CML_STEP_CONFIRM = 0,
	CML_STEP_INVOICE,        /* number (required), date */
	CML_STEP_PAY,            /* amount (> 0; 0 = what is still due), date, number */
	CML_STEP_ALLOW_SHIPMENT,
	CML_STEP_SHIP,           /* qty[n_qty] per line in order (n_qty 0: every
	                            line's rest), date, number */
	CML_STEP_COMPLETE,
	CML_STEP_CANCEL,         /* reason (required) */
	CML_STEP_REFUND,         /* amount (> 0; 0 = all that is paid) */
	CML_STEP_RETURN,         /* qty[n_qty] per line (n_qty 0: all shipped) */
	CML_STEP_UNCANCEL,
	CML_STEP_TERMS,          /* postpaid true/false */
	CML_STEP_KIND_COUNT
} cml_step_kind;

/* "confirm", "invoice", "pay", "allow-shipment", "ship", "complete",
 * "cancel", "refund", "return", "uncancel", "terms"; and back (false for
 * an unknown word). */
const char *cml_step_name(cml_step_kind k);
bool cml_step_parse(const char *word, cml_step_kind *k);

typedef struct cml_step {
	cml_step_kind kind;
	const char *number;   /* NULL or "": none */
	const char *date;     /* YYYY-MM-DD[THH:MM:SS]; NULL or "": none */
	int64_t amount;       /* scaled */
	const int64_t *qty;   /* scaled, one per line */
	size_t n_qty;
	const char *reason;
	bool postpaid;        /* TERMS */
} cml_step;

typedef enum cml_os_verdict {
	CML_OS_APPLIED = 0,
	CML_OS_NOOP,      /* already so: nothing changed */
	CML_OS_REFUSED,   /* against a rule: nothing changed */
} cml_os_verdict;

/* The rule a refused step breaks. */
typedef enum cml_os_rule {
	CML_OS_RULE_NONE = 0,
	CML_OS_RULE_TERMINAL,          /* completed/cancelled order takes no such step */
	CML_OS_RULE_NOT_NEW,           /* confirm from NEW only */
	CML_OS_RULE_COUNTERPARTY_OPEN, /* confirm while the buyer is under review */
	CML_OS_RULE_NOT_CONFIRMED,     /* invoice/shipment need CONFIRMED */
	CML_OS_RULE_NO_INVOICE,        /* shipment before the invoice, not postpaid */
	CML_OS_RULE_OVERPAID,          /* payments beyond the total */
	CML_OS_RULE_OVERSHIPPED,       /* more than ordered, or a line that is not there */
	CML_OS_RULE_SHIPPED,           /* cancel after shipment */
	CML_OS_RULE_PAID,              /* cancel with money on the order: refund first */
	CML_OS_RULE_NOT_PAID,          /* complete before full payment */
	CML_OS_RULE_NOT_SHIPPED,       /* complete before full shipment */
	CML_OS_RULE_REFUND_EXCEEDS,    /* refund more than was paid */
	CML_OS_RULE_RETURN_EXCEEDS,    /* return more than was shipped */
	CML_OS_RULE_NOT_CANCELLED,     /* uncancel of an order that is not cancelled */
	CML_OS_RULE_BAD_STEP,          /* missing number/reason, amount < 0, ... */
	CML_OS_RULE_COUNT
} cml_os_rule;

/* A stable name ("no-invoice", "terminal", ...) and one English sentence
 * ("a shipment cannot be recorded before the invoice (postpaid terms
 * are an explicit option)"). */
const char *cml_os_rule_name(cml_os_rule r);
const char *cml_os_rule_text(cml_os_rule r);

typedef struct cml_os_result {
	cml_os_verdict verdict;
	cml_os_rule rule;      /* REFUSED: which; CML_OS_RULE_NONE otherwise */
	char why[256];         /* REFUSED: the rule's text with the figures
	                          ("payment 500.00 beyond the total 1200.00,
	                          already paid 900.00") */
} cml_os_result;

/*
 * Applies step to *st under the rules above. APPLIED: *st (and its lines)
 * moved; NOOP and REFUSED: *st untouched. The decision is read from one
 * table of (step, lifecycle) -> allowed, then the step's own guards; it
 * never depends on anything but *st and *step.
 */
void cml_os_apply(cml_order_state *st, const cml_step *step, cml_os_result *res);

/*
 * Is an update stale against the last one applied (last_version,
 * last_changed; NULL or "" = none recorded)? version: НомерВерсии or a
 * CSV version column, compared as integers when both are integers, else
 * as strings (equal = stale); changed: a change time (YYYY-MM-DD[THH:MM:SS]),
 * not later = stale. An update with neither is never stale.
 */
bool cml_os_stale(const char *last_version, const char *last_changed, const char *version,
                  const char *changed);

/* "new", "confirmed", "completed", "cancelled" / "none", "issued" /
 * "none", "partial", "full" / "none", "allowed", "partial", "full";
 * and parsing the lifecycle word (also upper case). */
const char *cml_os_life_name(cml_os_life l);
bool cml_os_life_parse(const char *word, cml_os_life *l);
const char *cml_os_invoice_name(cml_os_invoice f);
const char *cml_os_payment_name(cml_os_payment f);
const char *cml_os_shipment_name(cml_os_shipment f);

/* Decimal text ("1 200,50", "3.5", "-2") -> scaled; false when not a
 * number, more than 4 decimals that are not zeros, or out of range. */
bool cml_os_amount_parse(const char *text, int64_t *out);
/* Scaled -> "1200.5" (cml_num_canon form: no trailing zeros, at least
 * the integer part); cap >= 32 always suffices. */
void cml_os_amount_format(int64_t v, char *out, size_t cap);

CML_END_DECLS

#endif /* CML_ORDERSTATE_H */
