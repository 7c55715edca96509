/*
 * order.c: the rules an order must keep before the ledger takes it (see
 * order.h and cmlkit-orders(5)).
 *
 * The check reads the document as any source gives it: a reader hands
 * out canonical numbers, but a document built by a program, or read
 * back from somewhere else, may spell 100 as "100,00": every number is
 * put through cml_num_canon() before it is looked at. Sums are compared
 * in long double: the operands are money and quantities with a few
 * decimals, far inside its 64-bit mantissa.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cml/order.h"
#include "cml_private.h"

/* ---- numbers ---- */

/* The canonical form of s into buf; false when s is no number. */
static bool
number(const char *s, char *buf, size_t cap)
{
	return cml_num_canon(s, buf, cap);
}

static long double
absl(long double x)
{
	return x < 0 ? -x : x;
}

/* Half a unit of the last of dp decimal places: 0.005 for 2. */
static long double
half_unit(int dp)
{
	long double u = 0.5L;

	while (dp-- > 0)
		u /= 10;
	return u;
}

static long double
to_ld(const char *canon)
{
	return strtold(canon, NULL);
}

/* Digits after the decimal point of a canonical number. */
static int
decimals(const char *canon)
{
	const char *dot = strchr(canon, '.');

	return dot != NULL ? (int)strlen(dot + 1) : 0;
}

/* ---- dates ---- */

static bool
digits(const char **p, int min, int max, int *out)
{
	int n = 0, v = 0;

	while (n < max && isdigit((unsigned char)(*p)[n])) {
		v = v * 10 + ((*p)[n] - '0');
		n++;
	}
	if (n < min)
		return false;
	*p += n;
	*out = v;
	return true;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool
valid_date(int y, int m, int d)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (y < 1 || m < 1 || m > 12 || d < 1)
		return false;
	return d <= days[m - 1] + (m == 2 && leap(y) ? 1 : 0);
}

/* H[H]:MM[:SS[.fff]] at *p, advancing. */
static bool
parse_time(const char **p)
{
	int h, mi, s = 0, frac;

	if (!digits(p, 1, 2, &h) || **p != ':')
		return false;
	(*p)++;
	if (!digits(p, 2, 2, &mi))
		return false;
	if (**p == ':') {
		(*p)++;
		if (!digits(p, 2, 2, &s))
			return false;
		if (**p == '.' || **p == ',') {
			(*p)++;
			if (!digits(p, 1, 9, &frac))
				return false;
		}
	}
	return h <= 23 && mi <= 59 && s <= 60;
}

/* Z, ±HH:MM or ±HHMM at *p, advancing; nothing is fine. */
static bool
parse_zone(const char **p)
{
	int h, m;

	if (**p == 'Z') {
		(*p)++;
		return true;
	}
	if (**p != '+' && **p != '-')
		return true;
	(*p)++;
	if (!digits(p, 2, 2, &h))
		return false;
	if (**p == ':')
		(*p)++;
	if (!digits(p, 2, 2, &m))
		return false;
	return h <= 14 && m <= 59;
}

/*
 * Whether s is a date, a date and time, or (time_only) a time, in the
 * forms sites and 1C write: YYYY-MM-DD, DD.MM.YYYY (a site's locale), a
 * time after 'T' or a space (an hour of one digit too, as one 1C writes
 * it), seconds and a zone optional. NULL, "", the "T" of an empty
 * date-time and the all-zero date of a MySQL site are empty: fine.
 */
static bool
date_ok(const char *s, bool time_only)
{
	const char *p = s;
	int y, m, d;

	if (s == NULL || *s == '\0' || strcmp(s, "T") == 0)
		return true;
	if (strncmp(s, "0000-00-00", 10) == 0 || strncmp(s, "00.00.0000", 10) == 0) {
		p = s + 10;
		if (*p == '\0')
			return true;
		if (*p != 'T' && *p != ' ')
			return false;
		p++;
		return parse_time(&p) && parse_zone(&p) && *p == '\0';
	}
	if (time_only)
		return parse_time(&p) && parse_zone(&p) && *p == '\0';
	if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1]) && p[2] == '.') {
		if (!digits(&p, 2, 2, &d) || *p++ != '.' || !digits(&p, 2, 2, &m) ||
		    *p++ != '.' || !digits(&p, 4, 4, &y))
			return false;
	} else if (!digits(&p, 4, 4, &y) || *p++ != '-' || !digits(&p, 2, 2, &m) ||
	           *p++ != '-' || !digits(&p, 2, 2, &d)) {
		return false;
	}
	if (!valid_date(y, m, d))
		return false;
	if (*p == '\0')
		return true;
	if (*p != 'T' && *p != ' ')
		return false;
	p++;
	if (*p == '\0')
		return true; /* "2024-01-02T": a date with an empty time */
	return parse_time(&p) && parse_zone(&p) && *p == '\0';
}

/* A requisite that holds a date: its name starts with the word Дата
 * ("Дата оплаты", "Дата по 1С", "Дата изменения статуса", ...). */
static bool
date_requisite(const char *name)
{
	static const char word[] = "Дата";
	size_t n = sizeof(word) - 1;

	return name != NULL && strncmp(name, word, n) == 0 &&
	       (name[n] == '\0' || name[n] == ' ');
}

/* ---- currencies ---- */

/* ISO 4217, current codes, letters and numbers, and RUR, the rouble's
 * code before 1998 that 1C configurations still write. */
static const char *const iso4217[] = {
	"AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD",
	"BDT", "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN",
	"BZD", "CAD", "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF",
	"DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
	"GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
	"IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW",
	"KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA",
	"MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD",
	"NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN",
	"PYG", "QAR", "RON", "RSD", "RUB", "RUR", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK",
	"SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS",
	"TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
	"VES", "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWL",
	/* numeric codes of the currencies Russian shops meet */
	"643", "810", "933", "974", "398", "417", "051", "944", "972", "860", "980",
	"978", "840", "156", "826", "756", "949", "981",
};

/* What sites write for the rouble instead of a code. */
static const char *const rouble_names[] = { "руб", "руб.", "Руб", "Руб.", "р.", "₽" };

static bool
currency_known(const char *c)
{
	for (size_t i = 0; i < CML_ARRAY_LEN(iso4217); i++)
		if (strcmp(c, iso4217[i]) == 0)
			return true;
	for (size_t i = 0; i < CML_ARRAY_LEN(rouble_names); i++)
		if (strcmp(c, rouble_names[i]) == 0)
			return true;
	return false;
}

/* ---- the check ---- */

typedef struct why_buf {
	char *s;
	size_t cap;
} why_buf;

static cml_status reject(why_buf *w, const char *fmt, ...) CML_PRINTF(2, 3);

static cml_status
reject(why_buf *w, const char *fmt, ...)
{
	va_list ap;

	if (w->s != NULL && w->cap > 0) {
		va_start(ap, fmt);
		cml_msg_vset(w->s, w->cap, fmt, ap);
		va_end(ap);
	}
	return CML_ERR_VALUE;
}

/* "line 2 (Ид 7f3c...)": where a line's problem is. */
static void
line_where(char *buf, size_t cap, size_t i, const cml_doc_line *l)
{
	if (l->id != NULL)
		cml_msg_set(buf, cap, "line %zu (Ид %.60s)", i + 1, l->id);
	else
		cml_msg_set(buf, cap, "line %zu", i + 1);
}

/* What a line's discounts take off price × quantity. */
static long double
line_discount(const cml_doc_line *l, long double gross)
{
	long double d = 0;
	char buf[160];

	for (size_t i = 0; i < l->n_discounts; i++) {
		const cml_discount *x = &l->discounts[i];

		if (x->sum != NULL && number(x->sum, buf, sizeof(buf)))
			d += to_ld(buf);
		else if (x->percent != NULL && number(x->percent, buf, sizeof(buf)))
			d += gross * to_ld(buf) / 100;
	}
	return d;
}

static cml_status
check_line(why_buf *w, size_t i, const cml_doc_line *l)
{
	char where[96], price[160], qty[160], sum[160];
	struct {
		const char *name;
		const char *v;
		char *out;
	} f[] = {
		{ "Количество", l->quantity, qty },
		{ "ЦенаЗаЕдиницу", l->price, price },
		{ "Сумма", l->sum, sum },
	};

	line_where(where, sizeof(where), i, l);
	for (size_t k = 0; k < CML_ARRAY_LEN(f); k++) {
		f[k].out[0] = '\0';
		if (f[k].v != NULL && !number(f[k].v, f[k].out, sizeof(price)))
			return reject(w, "%s: %s '%.60s' is not a number", where, f[k].name,
			              f[k].v);
	}
	if (l->quantity == NULL || l->price == NULL || l->sum == NULL)
		return CML_OK;

	/* price × quantity, within the rounding of the sum to a kopeck and
	 * of the price to its last written place (at least the kopeck):
	 * 3 × 33.33 is 100 when the price was 33.333... */
	long double q = to_ld(qty), p = to_ld(price), s = to_ld(sum);
	long double gross = p * q;
	int dp = decimals(price) > 2 ? decimals(price) : 2;
	long double tol = 0.01L + absl(q) * half_unit(dp) + 1e-9L;

	if (absl(s - gross) <= tol)
		return CML_OK;
	if (l->n_discounts > 0 && absl(s - (gross - line_discount(l, gross))) <= tol)
		return CML_OK;
	return reject(w, "%s: Сумма %s is not ЦенаЗаЕдиницу %s × Количество %s (%.2Lf)%s",
	              where, sum, price, qty, gross,
	              l->n_discounts > 0 ? ", with or without its discounts" : "");
}

static cml_status
check_date(why_buf *w, const char *what, const char *v, bool time_only)
{
	if (date_ok(v, time_only))
		return CML_OK;
	return reject(w, "%s '%.60s' is not a %s", what, v, time_only ? "time" : "date");
}

cml_status
cml_order_check(const cml_document *doc, char *why, size_t cap)
{
	why_buf w = { why, cap };
	char buf[160];
	cml_status st;

	if (why != NULL && cap > 0)
		why[0] = '\0';
	if (doc == NULL)
		return CML_ERR_USAGE;
	if (doc->id == NULL || doc->id[0] == '\0')
		return reject(&w, "the order has no Ид");

	if ((st = check_date(&w, "Дата", doc->date, false)) != CML_OK ||
	    (st = check_date(&w, "Время", doc->time, true)) != CML_OK ||
	    (st = check_date(&w, "СрокПлатежа", doc->due_date, false)) != CML_OK ||
	    (st = check_date(&w, "Дата1С", doc->date_1c, false)) != CML_OK)
		return st;
	for (size_t i = 0; i < doc->n_requisites; i++) {
		const cml_pair *r = &doc->requisites[i];

		if (date_requisite(r->name) && !date_ok(r->value, false))
			return reject(&w, "requisite '%.60s': '%.60s' is not a date", r->name,
			              r->value);
	}
	for (size_t i = 0; i < doc->n_payments; i++)
		if (!date_ok(doc->payments[i].date, false))
			return reject(&w, "payment %zu: ДатаОплаты '%.60s' is not a date", i + 1,
			              doc->payments[i].date);

	if (doc->sum != NULL && !number(doc->sum, buf, sizeof(buf)))
		return reject(&w, "Сумма '%.60s' is not a number", doc->sum);
	if (doc->rate != NULL && !number(doc->rate, buf, sizeof(buf)))
		return reject(&w, "Курс '%.60s' is not a number", doc->rate);
	if (doc->currency != NULL && !currency_known(doc->currency))
		return reject(&w, "Валюта '%.60s' is not a known currency", doc->currency);

	for (size_t i = 0; i < doc->n_lines; i++)
		if ((st = check_line(&w, i, &doc->lines[i])) != CML_OK)
			return st;
	return CML_OK;
}

bool
cml_order_is_attachment(const cml_document *doc)
{
	return doc != NULL && doc->basis != NULL && doc->basis[0] != '\0';
}
