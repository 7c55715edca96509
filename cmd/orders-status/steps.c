/*
 * steps.c: a step as typed, on a `set` command line or in a CSV row, made
 * into a cml_step; and the one sentence that says where an order stands.
 * Only the form is checked here; whether the step is allowed is the
 * state machine's to say (cml_os_apply).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ostatus.h"
#include "pkgopts.h"

bool
ost_step_word(const char *word, cml_step_kind *kind, bool *postpaid)
{
	*postpaid = false;
	if (strcmp(word, "postpaid") == 0 || strcmp(word, "prepaid") == 0) {
		*kind = CML_STEP_TERMS;
		*postpaid = word[1] == 'o';
		return true;
	}
	/* "terms" alone says neither: it is typed as postpaid or prepaid */
	return strcmp(word, "terms") != 0 && cml_step_parse(word, kind);
}

bool
ost_date_valid(const char *s)
{
	char full[32];

	if (strlen(s) == 10) {
		snprintf(full, sizeof(full), "%sT00:00:00", s);
		return pkg_datetime_valid(full);
	}
	return strlen(s) == 19 && pkg_datetime_valid(s);
}

/* What each step takes, in the order typed. */
enum { A_NONE = 0, A_NUMBER = 1, A_DATE = 2, A_AMOUNT = 4, A_QTY = 8, A_REASON = 16,
       A_DOCNO = 32 /* an optional document number after the date */ };

static unsigned
takes(cml_step_kind k)
{
	switch (k) {
	case CML_STEP_INVOICE:
		return A_NUMBER | A_DATE;
	case CML_STEP_PAY:
		return A_AMOUNT | A_DATE | A_DOCNO;
	case CML_STEP_SHIP:
		return A_QTY | A_DATE | A_DOCNO;
	case CML_STEP_CANCEL:
		return A_REASON;
	case CML_STEP_REFUND:
		return A_AMOUNT;
	case CML_STEP_RETURN:
		return A_QTY;
	default:
		return A_NONE;
	}
}

static bool
amount(const char *text, int64_t *out, const char *what, char *why, size_t cap)
{
	if (!cml_os_amount_parse(text, out) || *out <= 0) {
		snprintf(why, cap, "%s: '%s' is not a positive amount", what, text);
		return false;
	}
	return true;
}

static bool
quantity(struct ost_step *s, const char *text, char *why, size_t cap)
{
	int64_t q;

	if (s->st.n_qty == OST_QTY_MAX) {
		snprintf(why, cap, "%s: more than %d quantities", s->word, OST_QTY_MAX);
		return false;
	}
	if (!cml_os_amount_parse(text, &q) || q < 0) {
		snprintf(why, cap, "%s: '%s' is not a quantity", s->word, text);
		return false;
	}
	s->qty[s->st.n_qty++] = q;
	return true;
}

static bool
start(const char *word, struct ost_step *out, char *why, size_t cap)
{
	memset(out, 0, sizeof(*out));
	out->word = word;
	out->st.qty = out->qty;
	if (!ost_step_word(word, &out->st.kind, &out->st.postpaid)) {
		snprintf(why, cap, "'%s' is not a step (confirm, invoice, pay, ship, "
		                   "allow-shipment, complete, cancel, refund, return, uncancel, "
		                   "postpaid, prepaid)", word);
		return false;
	}
	return true;
}

static bool
is_number(const char *s)
{
	int64_t v;

	return cml_os_amount_parse(s, &v);
}

bool
ost_step_argv(char **argv, int n, int *used, struct ost_step *out, char *why, size_t cap)
{
	cml_step_kind k;
	bool pp;
	int i = 1;

	if (!start(argv[0], out, why, cap))
		return false;
	unsigned t = takes(out->st.kind);
	/* the required argument is taken whatever it looks like: an invoice
	 * may be numbered "return" */
	if (t & (A_NUMBER | A_REASON | A_AMOUNT)) {
		if (i >= n) {
			snprintf(why, cap, "%s needs %s", out->word,
			         t & A_NUMBER ? "the invoice's NUMBER"
			                      : t & A_REASON ? "a REASON" : "an AMOUNT");
			return false;
		}
		if (t & A_NUMBER)
			out->st.number = argv[i];
		else if (t & A_REASON)
			out->st.reason = argv[i];
		else if (!amount(argv[i], &out->st.amount, out->word, why, cap))
			return false;
		i++;
	}
	/* the optional ones run up to the next step word */
	while ((t & A_QTY) && i < n && !ost_date_valid(argv[i]) && is_number(argv[i]) &&
	       !ost_step_word(argv[i], &k, &pp))
		if (!quantity(out, argv[i++], why, cap))
			return false;
	if ((t & A_DATE) && i < n && ost_date_valid(argv[i]))
		out->st.date = argv[i++];
	if ((t & A_DOCNO) && i < n && !ost_step_word(argv[i], &k, &pp))
		out->st.number = argv[i++];
	if (i < n && !ost_step_word(argv[i], &k, &pp)) {
		snprintf(why, cap, "%s: '%s' is not %s", out->word, argv[i],
		         (t & A_DATE) && out->st.date == NULL
		                 ? "a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS) or a step"
		                 : "a step");
		return false;
	}
	*used = i;
	return true;
}

bool
ost_step_cells(const struct ost_cells *c, struct ost_step *out, char *why, size_t cap)
{
	static const struct {
		const char *name;
		unsigned arg;
		size_t off;
	} cols[] = {
		{ "number", A_NUMBER | A_DOCNO, offsetof(struct ost_cells, number) },
		{ "date", A_DATE, offsetof(struct ost_cells, date) },
		{ "amount", A_AMOUNT, offsetof(struct ost_cells, amount) },
		{ "qty", A_QTY, offsetof(struct ost_cells, qty) },
		{ "reason", A_REASON, offsetof(struct ost_cells, reason) },
	};

	if (!start(c->step, out, why, cap)) {
		char inner[200];
		snprintf(inner, sizeof(inner), "%s", why);
		snprintf(why, cap, "column step: %s", inner);
		return false;
	}
	unsigned t = takes(out->st.kind);
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		const char *v = *(const char *const *)((const char *)c + cols[i].off);
		if (v != NULL && !(t & cols[i].arg)) {
			snprintf(why, cap, "column %s: %s takes no %s ('%s')", cols[i].name, out->word,
			         cols[i].name, v);
			return false;
		}
	}
	if ((t & A_NUMBER) && c->number == NULL) {
		snprintf(why, cap, "column number: %s needs the invoice's number", out->word);
		return false;
	}
	if ((t & A_REASON) && c->reason == NULL) {
		snprintf(why, cap, "column reason: %s needs a reason", out->word);
		return false;
	}
	if ((t & A_AMOUNT) && c->amount == NULL) {
		snprintf(why, cap, "column amount: %s needs an amount", out->word);
		return false;
	}
	if (c->date != NULL && !ost_date_valid(c->date)) {
		snprintf(why, cap, "column date: '%s' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS",
		         c->date);
		return false;
	}
	out->st.number = c->number;
	out->st.date = c->date;
	out->st.reason = c->reason;
	if (c->amount != NULL && !amount(c->amount, &out->st.amount, "column amount", why, cap))
		return false;
	if (c->qty != NULL) {
		char buf[4096];
		if (strlen(c->qty) >= sizeof(buf)) {
			snprintf(why, cap, "column qty: too long");
			return false;
		}
		snprintf(buf, sizeof(buf), "%s", c->qty);
		for (char *p = buf, *semi; p != NULL; p = semi != NULL ? semi + 1 : NULL) {
			if ((semi = strchr(p, ';')) != NULL)
				*semi = '\0';
			while (*p == ' ')
				p++;
			if (*p == '\0' || !quantity(out, p, why, cap)) {
				if (*p == '\0')
					snprintf(why, cap, "column qty: an empty quantity in '%s'", c->qty);
				else {
					char inner[200];
					snprintf(inner, sizeof(inner), "%s", why);
					snprintf(why, cap, "column qty: %s", inner);
				}
				return false;
			}
		}
	}
	return true;
}

void
ost_state_text(const cml_order_state *st, char *out, size_t cap)
{
	char paid[40], total[40], pay[120] = "", inv[160] = "";

	cml_os_amount_format(st->paid - st->refunded, paid, sizeof(paid));
	cml_os_amount_format(st->total, total, sizeof(total));
	if (st->payment != CML_OS_PAY_NONE)
		snprintf(pay, sizeof(pay), " (paid %s of %s)", paid, total);
	if (st->invoice != CML_OS_INVOICE_NONE && st->invoice_number[0] != '\0')
		snprintf(inv, sizeof(inv), " %s%s%s", st->invoice_number,
		         st->invoice_date[0] != '\0' ? " " : "", st->invoice_date);
	snprintf(out, cap, "%s, invoice %s%s, payment %s%s, shipment %s%s",
	         cml_os_life_name(st->life), cml_os_invoice_name(st->invoice), inv,
	         cml_os_payment_name(st->payment), pay, cml_os_shipment_name(st->shipment),
	         st->postpaid ? ", postpaid" : "");
}
