/*
 * statusdoc.c: order progress <-> CommerceML order documents; the
 * contract (which requisite means what, both ways) is in cml/statusdoc.h.
 *
 * Out: the built document is the order's own struct copied shallowly
 * (its lines, counterparties, taxes point into the caller's order, which
 * must stay as it is until the document is written), with a requisite
 * list of its own: the order's requisites less the ones about progress,
 * then the 1C -> site ones. Only that list and its strings are allocated,
 * in the handle's arena, reset at each build.
 *
 * In: nothing is allocated; strings the steps need that are not in the
 * document as written (normalised dates, a status code cut out of
 * "[N] Принят", a joined date and time) go to the update's own buffer.
 * Words are compared folded (ASCII and Cyrillic to lower case, ё as е),
 * as 1C and the sites spell them in any case.
 */
#include <stdio.h>
#include <string.h>

#include "cml/statusdoc.h"
#include "cml_private.h"

struct cml_statusdoc {
	cml_arena arena;
	cml_document doc;
};

/* ---- words ---- */

/* The next code point of s, folded: ASCII and Cyrillic upper case to
 * lower, ё/Ё to е. Invalid bytes pass as themselves. */
static unsigned
fold_next(const unsigned char **s)
{
	const unsigned char *p = *s;
	unsigned c = *p++;
	if (c >= 0xC0 && c < 0xE0 && (*p & 0xC0) == 0x80)
		c = ((c & 0x1F) << 6) | (*p++ & 0x3F);
	else if (c >= 0xE0 && c < 0xF0 && (p[0] & 0xC0) == 0x80 && (p[1] & 0xC0) == 0x80) {
		c = ((c & 0x0F) << 12) | ((unsigned)(p[0] & 0x3F) << 6) | (p[1] & 0x3F);
		p += 2;
	}
	*s = p;
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c >= 0x410 && c <= 0x42F) /* А..Я */
		return c + 32;
	if (c == 0x401 || c == 0x451) /* Ё, ё */
		return 0x435;
	return c;
}

/* Equal folded; with prefix, word need only start with w. */
static bool
fold_match(const char *word, const char *w, bool prefix)
{
	if (word == NULL)
		return false;
	const unsigned char *a = (const unsigned char *)word, *b = (const unsigned char *)w;
	while (*a != '\0' && *b != '\0')
		if (fold_next(&a) != fold_next(&b))
			return false;
	return *b == '\0' && (prefix || *a == '\0');
}

static bool
fold_eq(const char *word, const char *w)
{
	return fold_match(word, w, false);
}

static bool
blank(const char *s)
{
	return s == NULL || *s == '\0';
}

/* "true"/"Да" -> CML_TRUE, "false"/"Нет" -> CML_FALSE, else unset. */
static cml_tristate
truth(const char *v)
{
	if (fold_eq(v, "true") || fold_eq(v, "да") || fold_eq(v, "1"))
		return CML_TRUE;
	if (fold_eq(v, "false") || fold_eq(v, "нет") || fold_eq(v, "0"))
		return CML_FALSE;
	return CML_UNSET;
}

static const char *
requisite(const cml_pair *p, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (fold_eq(p[i].name, name))
			return p[i].value;
	return NULL;
}

/* The requisites of the 1C -> site direction: what a document about
 * progress says. Written out by build, read in by read; an order's own
 * requisites by these names are dropped from the outgoing document, with
 * the site's own status requisites that they supersede. */
#define RQ_NUMBER        "Номер по 1С"
#define RQ_DATE          "Дата по 1С"
#define RQ_POSTED        "Проведен"
#define RQ_DELETED       "ПометкаУдаления"
#define RQ_PAY_NUMBER    "Номер оплаты по 1С"
#define RQ_PAY_DATE      "Дата оплаты по 1С"
#define RQ_PAID          "Оплачен"
#define RQ_SHIP_NUMBER   "Номер отгрузки по 1С"
#define RQ_SHIP_DATE     "Дата отгрузки по 1С"
#define RQ_SHIPPED       "Отгружен"
#define RQ_CANCELLED     "Отменен"
#define RQ_STATUS        "Статус заказа"
#define RQ_STATUS_ID     "Статуса заказа ИД"
#define RQ_FINAL         "Финальный статус"
#define RQ_ALLOWED       "Доставка разрешена"
#define RQ_CHANGED       "Дата изменения статуса"
#define RQ_SITE_PAID     "Заказ оплачен"
#define RQ_CANCEL_REASON "Причина отмены"
#define RQ_VERSION       "НомерВерсии"

static const char *const replaced[] = {
        RQ_NUMBER,    RQ_DATE,        RQ_POSTED,    RQ_DELETED, RQ_PAY_NUMBER, RQ_PAY_DATE,
        RQ_PAID,      RQ_SHIP_NUMBER, RQ_SHIP_DATE, RQ_SHIPPED, RQ_CANCELLED,  RQ_STATUS,
        RQ_STATUS_ID, RQ_FINAL,       RQ_ALLOWED,   RQ_CHANGED, RQ_SITE_PAID,  RQ_VERSION,
};

static bool
is_replaced(const char *name)
{
	for (size_t i = 0; i < CML_ARRAY_LEN(replaced); i++)
		if (fold_eq(name, replaced[i]))
			return true;
	return false;
}

/* ---- out ---- */

cml_statusdoc *
cml_statusdoc_new(void)
{
	cml_statusdoc *d = cml_malloc(sizeof(*d));
	if (d == NULL)
		return NULL;
	memset(d, 0, sizeof(*d));
	cml_arena_init(&d->arena);
	return d;
}

void
cml_statusdoc_free(cml_statusdoc *d)
{
	if (d == NULL)
		return;
	cml_arena_destroy(&d->arena);
	cml_free(d);
}

struct reqs {
	cml_pair *p;
	size_t n, cap;
};

static void
add(struct reqs *r, const char *name, const char *value)
{
	/* cap is counted before any add: never exceeded; a value the order
	 * does not have (no Номер, no Дата) is left out, not written empty */
	if (value != NULL && r->n < r->cap)
		r->p[r->n++] = (cml_pair){name, value};
}

static const char *
tf(bool b)
{
	return b ? "true" : "false";
}

static const char *
or_today(const char *date, const char *today)
{
	return blank(date) ? today : date;
}

/* A payment's or a shipment's date as 1C writes it, date and time: a
 * Bitrix reads "Дата оплаты по 1С" as "YYYY-MM-DD HH:MI:SS" once its T is
 * a space. NULL when out of memory; NULL date stays NULL. */
static const char *
stamp(cml_arena *a, const char *date, bool *nomem)
{
	if (date == NULL || strlen(date) != 10)
		return date;
	char *t = cml_arena_alloc(a, 20);
	if (t == NULL) {
		*nomem = true;
		return NULL;
	}
	snprintf(t, 20, "%.10sT00:00:00", date);
	return t;
}

cml_status
cml_statusdoc_build(cml_statusdoc *d, const cml_document *order, const cml_order_state *st,
                    int64_t version, const char *status_code, const char *status_name,
                    const char *today, const cml_document **out)
{
	*out = NULL;
	cml_arena_reset(&d->arena);
	d->doc = *order;
	d->doc.deleted = false;

	struct reqs r = {NULL, 0, order->n_requisites + CML_ARRAY_LEN(replaced)};
	r.p = cml_arena_alloc(&d->arena, r.cap * sizeof(*r.p));
	char *ver = cml_arena_alloc(&d->arena, 24);
	char *status = NULL;
	if (!blank(status_code)) {
		size_t n = strlen(status_code) + (status_name ? strlen(status_name) : 0) + 4;
		status = cml_arena_alloc(&d->arena, n);
		if (status != NULL)
			snprintf(status, n, "[%s]%s%s", status_code, status_name ? " " : "",
			         status_name ? status_name : "");
	}
	if (r.p == NULL || ver == NULL || (!blank(status_code) && status == NULL))
		return CML_ERR_NOMEM;
	/* the progress version goes in a requisite: the НомерВерсии element
	 * stays the site's (see statusdoc.h) */
	snprintf(ver, 24, "%lld", (long long)version);

	for (size_t i = 0; i < order->n_requisites; i++)
		if (!is_replaced(order->requisites[i].name))
			add(&r, order->requisites[i].name, order->requisites[i].value);

	bool nomem = false;
	bool invoiced = st->invoice == CML_OS_INVOICE_ISSUED;
	bool posted = st->life == CML_OS_CONFIRMED || st->life == CML_OS_COMPLETED;
	bool paid = st->payment == CML_OS_PAY_FULL;
	bool shipped = st->shipment == CML_OS_SHIP_FULL;
	if (invoiced) {
		add(&r, RQ_NUMBER, st->invoice_number);
		add(&r, RQ_DATE, or_today(st->invoice_date, today));
		d->doc.number_1c = st->invoice_number;
	} else {
		add(&r, RQ_NUMBER, order->number);
		add(&r, RQ_DATE, order->date);
	}
	add(&r, RQ_POSTED, tf(posted));
	add(&r, RQ_DELETED, "false");
	if (paid) {
		if (!blank(st->payment_number))
			add(&r, RQ_PAY_NUMBER, st->payment_number);
		add(&r, RQ_PAY_DATE, stamp(&d->arena, or_today(st->payment_date, today), &nomem));
	}
	add(&r, RQ_PAID, tf(paid));
	if (shipped) {
		if (!blank(st->shipment_number))
			add(&r, RQ_SHIP_NUMBER, st->shipment_number);
		add(&r, RQ_SHIP_DATE, stamp(&d->arena, or_today(st->shipment_date, today), &nomem));
	}
	add(&r, RQ_SHIPPED, tf(shipped));
	add(&r, RQ_CANCELLED, tf(st->life == CML_OS_CANCELLED));
	if (status != NULL) {
		add(&r, RQ_STATUS, status);
		add(&r, RQ_STATUS_ID, status_code);
	}
	add(&r, RQ_FINAL, tf(st->life == CML_OS_COMPLETED));
	add(&r, RQ_VERSION, ver);
	if (nomem)
		return CML_ERR_NOMEM;
	d->doc.requisites = r.p;
	d->doc.n_requisites = r.n;
	*out = &d->doc;
	return CML_OK;
}

/* ---- in ---- */

/* The update's string storage. */
struct sbuf {
	char *p;
	size_t len, cap;
	bool full;
};

static const char *
keep(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->full = true;
		return NULL;
	}
	char *at = b->p + b->len;
	memcpy(at, s, n);
	at[n] = '\0';
	b->len += n + 1;
	return at;
}

static bool
digits_at(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* One or two digits (an hour 1C writes as "9"), into v. */
static const char *
small_num(const char *s, int *v)
{
	if (!digits_at(s, 1))
		return NULL;
	*v = s[0] - '0';
	if (digits_at(s + 1, 1))
		*v = *v * 10 + (s[1] - '0'), s++;
	return s + 1;
}

/*
 * A date or time as 1C writes one -> "YYYY-MM-DD" or
 * "YYYY-MM-DDTHH:MM:SS" in out[20]: "2015-06-29T15:39:10",
 * "2021-02-18T9:49:02", "2007-10-30 15:19:27", "30.11.2026 12:00:00",
 * "2026-11-30". 0 when it is empty ("", "T", 1C's empty date
 * 0001-01-01), 1 when done, -1 when it is not a date.
 */
static int
norm_date(const char *s, char out[20])
{
	char ymd[11];
	if (blank(s) || strcmp(s, "T") == 0)
		return 0;
	if (strlen(s) >= 10 && digits_at(s, 4) && s[4] == '-' && digits_at(s + 5, 2) &&
	    s[7] == '-' && digits_at(s + 8, 2)) {
		memcpy(ymd, s, 10);
		s += 10;
	} else if (strlen(s) >= 10 && digits_at(s, 2) && s[2] == '.' && digits_at(s + 3, 2) &&
	           s[5] == '.' && digits_at(s + 6, 4)) {
		snprintf(ymd, sizeof(ymd), "%.4s-%.2s-%.2s", s + 6, s + 3, s);
		s += 10;
	} else {
		return -1;
	}
	ymd[10] = '\0';
	if (strncmp(ymd, "0001-01-01", 10) == 0)
		return 0;
	if (*s == '\0' || strcmp(s, "T") == 0) {
		memcpy(out, ymd, 11);
		return 1;
	}
	int h, m, sec = 0;
	if (*s != 'T' && *s != ' ')
		return -1;
	s = small_num(s + 1, &h);
	if (s == NULL || *s != ':' || (s = small_num(s + 1, &m)) == NULL)
		return -1;
	if (*s == ':' && (s = small_num(s + 1, &sec)) == NULL)
		return -1;
	if (*s != '\0' || h > 23 || m > 59 || sec > 60)
		return -1;
	memcpy(out, ymd, 10);
	const int hms[3] = {h, m, sec};
	for (int i = 0; i < 3; i++) {
		out[10 + 3 * i] = i == 0 ? 'T' : ':';
		out[11 + 3 * i] = (char)('0' + hms[i] / 10);
		out[12 + 3 * i] = (char)('0' + hms[i] % 10);
	}
	out[19] = '\0';
	return 1;
}

/* A date for a step: normalised, or as written when it is not one (so
 * the state machine's refusal names it), NULL when empty. */
static const char *
step_date(struct sbuf *b, const char *s)
{
	char t[20];
	int k = norm_date(s, t);
	if (k == 0)
		return NULL;
	return k > 0 ? keep(b, t, strlen(t)) : s;
}

static cml_step *
push(cml_statusdoc_update *u, cml_step_kind kind)
{
	cml_step *sp = &u->steps[u->n_steps++];
	memset(sp, 0, sizeof(*sp));
	sp->kind = kind;
	return sp;
}

/* The change time of a document: the requisite, else Дата1С when it
 * has a time, else Дата and Время, else Дата1С, a date alone. */
static const char *
change_time(struct sbuf *b, const cml_document *doc)
{
	const char *c = requisite(doc->requisites, doc->n_requisites, RQ_CHANGED);
	char t[20], joined[64];
	if (norm_date(c, t) > 0)
		return keep(b, t, strlen(t));
	if (norm_date(doc->date_1c, t) > 0 && strlen(t) > 10)
		return keep(b, t, strlen(t));
	if (!blank(doc->date)) {
		snprintf(joined, sizeof(joined), "%s%s%s", doc->date, blank(doc->time) ? "" : "T",
		         blank(doc->time) ? "" : doc->time);
		if (norm_date(joined, t) > 0)
			return keep(b, t, strlen(t));
	}
	if (norm_date(doc->date_1c, t) > 0)
		return keep(b, t, strlen(t));
	return NULL;
}

enum doc_kind { DK_ORDER, DK_INVOICE, DK_PAYMENT, DK_SHIPMENT, DK_OTHER };

static enum doc_kind
doc_kind(const cml_document *doc)
{
	static const char *const payments[] = {"Выплата безналичных денег",
	                                       "Выплата наличных денег", "Эквайринговая операция",
	                                       "Оплата"};
	static const char *const shipments[] = {"Отпуск товара", "Реализация товаров"};
	const char *op = doc->operation;
	if (blank(op) || fold_eq(op, "Заказ товара"))
		return DK_ORDER;
	if (fold_match(op, "Счет на оплату", true))
		return DK_INVOICE;
	for (size_t i = 0; i < CML_ARRAY_LEN(payments); i++)
		if (fold_eq(op, payments[i]))
			return DK_PAYMENT;
	for (size_t i = 0; i < CML_ARRAY_LEN(shipments); i++)
		if (fold_match(op, shipments[i], true))
			return DK_SHIPMENT;
	return blank(doc->basis) ? DK_ORDER : DK_OTHER;
}

static bool
is_service(const cml_doc_line *l)
{
	if (l->id != NULL && strcmp(l->id, "ORDER_DELIVERY") == 0)
		return true;
	const char *t = requisite(l->requisites, l->n_requisites, "ТипНоменклатуры");
	return fold_eq(t, "Услуга");
}

/* A shipment document's lines onto the order's, by Ид. */
static cml_status
ship_lines(const cml_document *doc, const cml_doc_line *ol, size_t n_ol, cml_statusdoc_update *u,
           cml_step *sp, char *why, size_t cap)
{
	if (ol == NULL || doc->n_lines == 0)
		return CML_OK; /* every line's rest */
	if (n_ol > CML_ARRAY_LEN(u->qty)) {
		snprintf(why, cap, "shipment %s: the order has %zu lines, at most %zu are matched",
		         doc->id ? doc->id : "", n_ol, CML_ARRAY_LEN(u->qty));
		return CML_ERR_VALUE;
	}
	memset(u->qty, 0, n_ol * sizeof(u->qty[0]));
	for (size_t j = 0; j < doc->n_lines; j++) {
		const cml_doc_line *dl = &doc->lines[j];
		size_t i = 0;
		while (i < n_ol && !(dl->id && ol[i].id && strcmp(dl->id, ol[i].id) == 0))
			i++;
		if (i == n_ol || is_service(&ol[i])) {
			if (i < n_ol || is_service(dl))
				continue; /* services are not shipped */
			snprintf(why, cap, "shipment %s: line %s is not in the order",
			         doc->id ? doc->id : "", dl->id ? dl->id : "(no Ид)");
			return CML_ERR_VALUE;
		}
		int64_t q;
		if (!cml_os_amount_parse(dl->quantity, &q)) {
			snprintf(why, cap, "shipment %s: line %s: quantity \"%s\" is not a number",
			         doc->id ? doc->id : "", dl->id, dl->quantity ? dl->quantity : "");
			return CML_ERR_VALUE;
		}
		u->qty[i] += q;
	}
	sp->qty = u->qty;
	sp->n_qty = n_ol;
	return CML_OK;
}

static cml_status
read_attachment(const cml_document *doc, enum doc_kind kind, const cml_doc_line *ol, size_t n_ol,
                cml_statusdoc_update *u, struct sbuf *b, char *why, size_t cap)
{
	cml_step *sp;
	/* a payment or shipment marked for deletion, or not posted, is not
	 * one: and nothing moves back for it either */
	if (doc->deleted ||
	    truth(requisite(doc->requisites, doc->n_requisites, RQ_POSTED)) == CML_FALSE)
		return CML_OK;
	switch (kind) {
	case DK_INVOICE:
		sp = push(u, CML_STEP_INVOICE);
		sp->number = doc->number;
		sp->date = step_date(b, doc->date);
		return CML_OK;
	case DK_PAYMENT:
		sp = push(u, CML_STEP_PAY);
		sp->number = doc->number;
		sp->date = step_date(b, doc->date);
		if (!blank(doc->sum) && !cml_os_amount_parse(doc->sum, &sp->amount)) {
			snprintf(why, cap, "payment %s: Сумма \"%s\" is not an amount",
			         doc->id ? doc->id : "", doc->sum);
			return CML_ERR_VALUE;
		}
		return CML_OK;
	case DK_SHIPMENT:
		sp = push(u, CML_STEP_SHIP);
		sp->number = doc->number;
		sp->date = step_date(b, doc->date);
		return ship_lines(doc, ol, n_ol, u, sp, why, cap);
	default:
		return CML_OK; /* a document of another kind asks for nothing */
	}
}

/* "[N] Принят" -> "N" */
static const char *
code_of_name(struct sbuf *b, const char *name)
{
	if (name == NULL || name[0] != '[')
		return NULL;
	const char *end = strchr(name, ']');
	if (end == NULL || end == name + 1)
		return NULL;
	return keep(b, name + 1, (size_t)(end - name - 1));
}

static void
read_order(const cml_document *doc, cml_statusdoc_map_fn map, void *ud, cml_statusdoc_update *u,
           struct sbuf *b)
{
	const cml_pair *rq = doc->requisites;
	size_t n = doc->n_requisites;
#define RQ(name) requisite(rq, n, name)
	cml_os_life life = CML_OS_NEW;
	bool mapped = false;
	u->status_code = RQ(RQ_STATUS_ID);
	if (blank(u->status_code))
		u->status_code = code_of_name(b, RQ(RQ_STATUS));
	if (blank(u->status_code))
		u->status_code = NULL;
	if (u->status_code != NULL && map != NULL) {
		mapped = map(ud, u->status_code, &life);
		u->status_unmapped = !mapped;
	}

	if (truth(RQ(RQ_POSTED)) == CML_TRUE || (mapped && life == CML_OS_CONFIRMED))
		push(u, CML_STEP_CONFIRM);
	const char *pn = RQ(RQ_PAY_NUMBER), *pd = RQ(RQ_PAY_DATE);
	if (!blank(pn) || norm_date(pd, (char[20]){0}) != 0 || truth(RQ(RQ_PAID)) == CML_TRUE) {
		cml_step *sp = push(u, CML_STEP_PAY);
		sp->number = blank(pn) ? NULL : pn;
		sp->date = step_date(b, pd);
	}
	if (truth(RQ(RQ_ALLOWED)) == CML_TRUE)
		push(u, CML_STEP_ALLOW_SHIPMENT);
	const char *sn = RQ(RQ_SHIP_NUMBER), *sd = RQ(RQ_SHIP_DATE);
	if (!blank(sn) || norm_date(sd, (char[20]){0}) != 0 || truth(RQ(RQ_SHIPPED)) == CML_TRUE) {
		cml_step *sp = push(u, CML_STEP_SHIP);
		sp->number = blank(sn) ? NULL : sn;
		sp->date = step_date(b, sd);
	}
	if (truth(RQ(RQ_FINAL)) == CML_TRUE || (mapped && life == CML_OS_COMPLETED))
		push(u, CML_STEP_COMPLETE);
	if (doc->deleted || truth(RQ(RQ_CANCELLED)) == CML_TRUE ||
	    truth(RQ(RQ_DELETED)) == CML_TRUE || (mapped && life == CML_OS_CANCELLED)) {
		cml_step *sp = push(u, CML_STEP_CANCEL);
		const char *why = RQ(RQ_CANCEL_REASON);
		sp->reason = !blank(why) ? why : "cancelled in the accounting system";
	}
#undef RQ
}

cml_status
cml_statusdoc_read(const cml_document *doc, const cml_doc_line *order_lines, size_t n_order_lines,
                   cml_statusdoc_map_fn map, void *map_ud, cml_statusdoc_update *out, char *why,
                   size_t cap)
{
	memset(out, 0, sizeof(*out));
	if (cap > 0)
		why[0] = '\0';
	struct sbuf b = {out->buf, 0, sizeof(out->buf), false};
	enum doc_kind kind = doc_kind(doc);
	cml_status st = CML_OK;

	/* our own documents carry the progress version as a requisite and
	 * the site's in the element; an accounting system's, the element */
	const char *rv = requisite(doc->requisites, doc->n_requisites, RQ_VERSION);
	out->version = !blank(rv) ? rv : blank(doc->version) ? NULL : doc->version;
	out->changed = change_time(&b, doc);
	if (kind == DK_ORDER) {
		if (blank(doc->id) && blank(doc->number)) {
			snprintf(why, cap, "an order document with neither Ид nor Номер");
			return CML_ERR_VALUE;
		}
		out->order_id = blank(doc->id) ? "" : doc->id;
		out->order_number = blank(doc->number) ? "" : doc->number;
		read_order(doc, map, map_ud, out, &b);
	} else {
		if (blank(doc->basis)) {
			snprintf(why, cap, "document %s (%s) names no order: no Основание",
			         blank(doc->id) ? "(no Ид)" : doc->id, doc->operation);
			return CML_ERR_VALUE;
		}
		out->order_id = doc->basis;
		out->order_number = "";
		st = read_attachment(doc, kind, order_lines, n_order_lines, out, &b, why, cap);
	}
	if (st == CML_OK && b.full) {
		snprintf(why, cap, "document %s: its dates and codes exceed %zu bytes",
		         blank(doc->id) ? "(no Ид)" : doc->id, sizeof(out->buf));
		st = CML_ERR_VALUE;
	}
	return st;
}
