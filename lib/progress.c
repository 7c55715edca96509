/*
 * progress.c: order progress in the store (cmlkit-db(5) "Order
 * progress"), over the store's connection and inside its runs; the
 * contract is in cml/progress.h, the rules in orderstate.c.
 *
 * An order's state is its ledger order (total, lines, Номер, read from
 * the latest revision on every load, so a changed basket keeps its
 * progress) under its progress row (lifecycle, facets, money, shipped
 * quantities by line position, the document numbers and dates). A step
 * costs one load (the ledger's revision and one indexed row), the state
 * machine, and two writes on kept statements: the step's log row and the
 * progress row. Nothing reads all orders; the pending ones are found by
 * a partial index.
 *
 * The status map is read through the view status_map_now, which gives
 * the defaults (N, P, F) while the database has no map of its own; the
 * first set or delete copies them into status_map and marks the map the
 * database's own (meta 'status_map'), so an emptied map stays empty.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cml/ledger.h"
#include "cml/progress.h"
#include "doccodec.h"
#include "store_private.h"

struct store_progress {
	cml_arena arena;    /* cml_progress_load's strings */
	cml_os_line *lines; /* cml_progress_load's lines */
	size_t lines_cap;
	cml_buf shipped; /* the shipped list being stored */
	cml_buf args;    /* a step's arguments as typed back */
	cml_buf source;  /* its source */
	cml_buf found;   /* cml_progress_find's site, NUL, Ид */
	cml_buf names;   /* its candidates, for the message */
	cml_buf code;    /* cml_status_map_code's answer */
};

enum cursor_kind { PC_STEPS, PC_ORDERS, PC_MAP };

/* One iteration: its own statement, memory and lines, so a load between
 * two calls does not disturb it. */
struct progress_cursor {
	enum cursor_kind kind;
	sqlite3_stmt *stmt;
	bool done;
	cml_arena arena;
	cml_os_line *lines;
	size_t lines_cap;
};

/* The columns of a progress row, in this order, for row_progress(). */
#define PG_COLS                                                                                    \
	"life, invoice, payment, shipment, postpaid, paid, refunded, shipped, "                    \
	"invoice_number, invoice_date, payment_number, payment_date, shipment_number, "            \
	"shipment_date, cancel_reason, version, delivered, delivered_at, site_refusal, "           \
	"updated, src_version, src_changed, status_code"
#define PG_COLS_P                                                                                  \
	"p.life, p.invoice, p.payment, p.shipment, p.postpaid, p.paid, p.refunded, "               \
	"p.shipped, p.invoice_number, p.invoice_date, p.payment_number, p.payment_date, "          \
	"p.shipment_number, p.shipment_date, p.cancel_reason, p.version, p.delivered, "            \
	"p.delivered_at, p.site_refusal, p.updated, p.src_version, p.src_changed, "                \
	"p.status_code"

static const char *const queries[SQ_COUNT] = {
	[SQ_PG_ROW] = "SELECT " PG_COLS " FROM order_progress WHERE site = ?1 AND order_id = ?2",
	[SQ_PG_PUT] = "INSERT INTO order_progress(site, order_id, " PG_COLS ") VALUES (?1, ?2, "
	              "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
	              "0, '', '', ?19, '', '', '') ON CONFLICT(site, order_id) DO UPDATE SET "
	              "life = ?3, invoice = ?4, payment = ?5, shipment = ?6, postpaid = ?7, "
	              "paid = ?8, refunded = ?9, shipped = ?10, invoice_number = ?11, "
	              "invoice_date = ?12, payment_number = ?13, payment_date = ?14, "
	              "shipment_number = ?15, shipment_date = ?16, cancel_reason = ?17, "
	              "version = ?18, updated = ?19",
	[SQ_PG_STEP_ADD] = "INSERT INTO order_steps(site, order_id, seq, kind, args, source, at, "
	                   "run, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?3)",
	[SQ_PG_STEP_UNDO] = "DELETE FROM order_steps WHERE site = ?1 AND order_id = ?2 AND "
	                    "seq = ?3",
	/* only for an order of the ledger; NULL keeps what is there */
	[SQ_PG_UPDATE_DONE] = "INSERT INTO order_progress(site, order_id, src_version, "
	                      "src_changed, status_code) SELECT ?1, ?2, coalesce(?3, ''), "
	                      "coalesce(?4, ''), coalesce(?5, '') WHERE EXISTS (SELECT 1 FROM "
	                      "orders WHERE site = ?1 AND id = ?2) ON CONFLICT(site, order_id) "
	                      "DO UPDATE SET src_version = coalesce(?3, src_version), "
	                      "src_changed = coalesce(?4, src_changed), "
	                      "status_code = coalesce(?5, status_code)",
	[SQ_PG_DELIVERED] = "UPDATE order_progress SET delivered = ?3, delivered_at = ?4, "
	                    "site_refusal = ?5 WHERE site = ?1 AND order_id = ?2",
	/* by Ид (orders_id, or the (site, id) key) and by Номер (orders_number) */
	[SQ_PG_FIND] = "SELECT site, id, number FROM orders WHERE id = ?2 AND (?1 = '' OR "
	               "site = ?1) UNION SELECT site, id, number FROM orders WHERE number = ?2 "
	               "AND number <> '' AND (?1 = '' OR site = ?1) ORDER BY 1, 2 LIMIT 6",
	[SQ_PG_MAP_LOOKUP] = "SELECT life FROM status_map_now WHERE code = ?2 AND site IN (?1, "
	                     "'') ORDER BY site = '' LIMIT 1",
	[SQ_PG_MAP_CODE] = "SELECT code FROM status_map_now WHERE life = ?2 AND send AND site IN "
	                   "(?1, '') ORDER BY site = '', code LIMIT 1",
	[SQ_PG_MAP_HAS] = "SELECT 1 FROM status_map_now WHERE site = ?1 AND code = ?2",
	[SQ_PG_MAP_OWN] = "INSERT INTO status_map(site, code, life, send, name) SELECT site, "
	                  "code, life, send, name FROM status_map_now WHERE NOT EXISTS (SELECT 1 "
	                  "FROM meta WHERE key = 'status_map')",
	[SQ_PG_MAP_OWN_MARK] = "INSERT OR IGNORE INTO meta(key, value) VALUES ('status_map', "
	                       "'own')",
	[SQ_PG_MAP_UNSEND] = "UPDATE status_map SET send = 0 WHERE site = ?1 AND life = ?2 AND "
	                     "code <> ?3 AND send",
	[SQ_PG_MAP_SET] = "INSERT INTO status_map(site, code, life, send, name) VALUES (?1, ?2, "
	                  "?3, ?4, ?5) ON CONFLICT(site, code) DO UPDATE SET life = ?3, "
	                  "send = ?4, name = ?5",
	[SQ_PG_MAP_DEL] = "DELETE FROM status_map WHERE site = ?1 AND code = ?2",
};

static sqlite3_stmt *
query(cml_store *s, enum store_q q, cml_status *st)
{
	return store_query(s, q, queries[q], st);
}

/* Resets a kept statement and clears its bindings. */
static void
done_with(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

static bool
has_text(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

void
store_progress_free(struct store_progress *p)
{
	if (p == NULL)
		return;
	cml_arena_destroy(&p->arena);
	cml_free(p->lines);
	cml_buf_free(&p->shipped);
	cml_buf_free(&p->args);
	cml_buf_free(&p->source);
	cml_buf_free(&p->found);
	cml_buf_free(&p->names);
	cml_buf_free(&p->code);
	cml_free(p);
}

static struct store_progress *
prog_of(cml_store *s, cml_status *st)
{
	*st = CML_OK;
	if (s->prog == NULL) {
		s->prog = cml_calloc(1, sizeof(*s->prog));
		if (s->prog == NULL) {
			*st = store_fail(s, CML_ERR_NOMEM, "out of memory");
			return NULL;
		}
		cml_arena_init(&s->prog->arena);
	}
	return s->prog;
}

const char *
cml_progress_outcome_name(cml_progress_outcome o)
{
	switch (o) {
	case CML_PROGRESS_APPLIED:
		return "applied";
	case CML_PROGRESS_NOOP:
		return "noop";
	case CML_PROGRESS_REFUSED:
		return "refused";
	case CML_PROGRESS_STALE:
		return "stale";
	}
	return "unknown";
}

/* ---- an order: its ledger revision, then its progress ---- */

static bool
lines_reserve(cml_os_line **lines, size_t *cap, size_t n)
{
	if (n <= *cap)
		return true;
	size_t want = *cap > 0 ? *cap : 8;
	while (want < n)
		want *= 2;
	cml_os_line *l = cml_realloc(*lines, want * sizeof(*l));
	if (l == NULL)
		return false;
	*lines = l;
	*cap = want;
	return true;
}

/* A service or the delivery line: never shipped. */
static bool
line_is_service(const cml_doc_line *l)
{
	if (l->id != NULL && strcmp(l->id, "ORDER_DELIVERY") == 0)
		return true;
	for (size_t i = 0; i < l->n_requisites; i++) {
		const cml_pair *r = &l->requisites[i];

		if (r->name != NULL && r->value != NULL &&
		    strcmp(r->name, "ТипНоменклатуры") == 0 && strcmp(r->value, "Услуга") == 0)
			return true;
	}
	return false;
}

/* An amount of the order's document: "" or NULL is zero. */
static cml_status
doc_amount(cml_store *s, const char *text, const char *what, const char *site, const char *id,
           int64_t *out)
{
	*out = 0;
	if (!has_text(text))
		return CML_OK;
	if (!cml_os_amount_parse(text, out))
		return store_fail(s, CML_ERR_VALUE,
		                  "order %s of %s: %s \"%s\" is not an amount this toolkit can "
		                  "keep (at most 4 decimals)",
		                  id, site, what, text);
	return CML_OK;
}

/*
 * The ledger's part of out: the strings (copied into a), the total
 * (Сумма, or the lines' sums without one) and the lines (into *lines,
 * NEW with every facet none: the progress row goes over it).
 */
static cml_status
from_doc(cml_store *s, cml_arena *a, const char *site, const char *id, const char *number,
         const cml_document *doc, cml_os_line **lines, size_t *cap, cml_progress_order *out)
{
	int64_t total = 0, v;
	cml_status st;

	out->site = cml_arena_strdup(a, site);
	out->id = cml_arena_strdup(a, id);
	out->number = cml_arena_strdup(a, or_empty(number));
	out->date = cml_arena_strdup(a, or_empty(doc->date));
	out->currency = cml_arena_strdup(a, or_empty(doc->currency));
	if (out->site == NULL || out->id == NULL || out->number == NULL || out->date == NULL ||
	    out->currency == NULL || !lines_reserve(lines, cap, doc->n_lines))
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < doc->n_lines; i++) {
		const cml_doc_line *l = &doc->lines[i];

		if ((st = doc_amount(s, l->quantity, "a line's Количество", site, id,
		                     &(*lines)[i].ordered)) != CML_OK)
			return st;
		(*lines)[i].service = line_is_service(l);
		if (doc->sum == NULL) {
			if ((st = doc_amount(s, l->sum, "a line's Сумма", site, id, &v)) != CML_OK)
				return st;
			total += v;
		}
	}
	if (doc->sum != NULL && (st = doc_amount(s, doc->sum, "Сумма", site, id, &total)) != CML_OK)
		return st;
	cml_os_init(&out->state, total, doc->n_lines > 0 ? *lines : NULL, doc->n_lines);
	return CML_OK;
}

static const char *
col_text(sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	return t != NULL ? (const char *)t : "";
}

/* The shipped quantities ("10000 0 20000") over the lines, by position:
 * a line the order no longer has drops its figure, a new line has 0. */
static bool
shipped_parse(const char *text, cml_order_state *st)
{
	const char *p = text;

	for (size_t i = 0; *p != '\0'; i++) {
		char *end;
		long long v = strtoll(p, &end, 10);

		if (end == p || (*end != ' ' && *end != '\0'))
			return false;
		if (i < st->n_lines)
			st->lines[i].shipped = (int64_t)v;
		p = *end == ' ' ? end + 1 : end;
	}
	return true;
}

static void
copy_field(char *dst, size_t cap, const char *src)
{
	cml_msg_set(dst, cap, "%s", src);
}

/* The progress row's columns (PG_COLS) from col0 on, over out (filled
 * by from_doc). */
static cml_status
row_progress(cml_store *s, sqlite3_stmt *q, int c, cml_arena *a, cml_progress_order *out)
{
	cml_order_state *st = &out->state;
	int64_t life = sqlite3_column_int64(q, c), inv = sqlite3_column_int64(q, c + 1),
	        pay = sqlite3_column_int64(q, c + 2), ship = sqlite3_column_int64(q, c + 3);

	if (life < CML_OS_NEW || life > CML_OS_CANCELLED || inv < 0 ||
	    inv > CML_OS_INVOICE_ISSUED || pay < 0 || pay > CML_OS_PAY_FULL || ship < 0 ||
	    ship > CML_OS_SHIP_FULL || !shipped_parse(col_text(q, c + 7), st))
		return store_fail(s, CML_ERR_FORMAT, "the progress of order %s of %s is damaged",
		                  out->id, out->site);
	st->life = (cml_os_life)life;
	st->invoice = (cml_os_invoice)inv;
	st->payment = (cml_os_payment)pay;
	st->shipment = (cml_os_shipment)ship;
	st->postpaid = sqlite3_column_int64(q, c + 4) != 0;
	st->paid = sqlite3_column_int64(q, c + 5);
	st->refunded = sqlite3_column_int64(q, c + 6);
	copy_field(st->invoice_number, sizeof(st->invoice_number), col_text(q, c + 8));
	copy_field(st->invoice_date, sizeof(st->invoice_date), col_text(q, c + 9));
	copy_field(st->payment_number, sizeof(st->payment_number), col_text(q, c + 10));
	copy_field(st->payment_date, sizeof(st->payment_date), col_text(q, c + 11));
	copy_field(st->shipment_number, sizeof(st->shipment_number), col_text(q, c + 12));
	copy_field(st->shipment_date, sizeof(st->shipment_date), col_text(q, c + 13));
	copy_field(st->cancel_reason, sizeof(st->cancel_reason), col_text(q, c + 14));
	out->version = sqlite3_column_int64(q, c + 15);
	out->delivered = sqlite3_column_int64(q, c + 16);
	out->delivered_at = cml_arena_strdup(a, col_text(q, c + 17));
	out->site_refusal = cml_arena_strdup(a, col_text(q, c + 18));
	out->updated = cml_arena_strdup(a, col_text(q, c + 19));
	out->src_version = cml_arena_strdup(a, col_text(q, c + 20));
	out->src_changed = cml_arena_strdup(a, col_text(q, c + 21));
	out->status_code = cml_arena_strdup(a, col_text(q, c + 22));
	if (out->delivered_at == NULL || out->site_refusal == NULL || out->updated == NULL ||
	    out->src_version == NULL || out->src_changed == NULL || out->status_code == NULL)
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	return CML_OK;
}

/* An order without a progress row: NEW as from_doc made it. */
static void
no_progress(cml_progress_order *out)
{
	out->version = out->delivered = 0;
	out->delivered_at = out->site_refusal = out->updated = "";
	out->src_version = out->src_changed = out->status_code = "";
}

cml_status
cml_progress_load(cml_store *s, const char *site, const char *id, cml_progress_order *out)
{
	struct store_progress *p;
	cml_ledger_order lo;
	cml_status st;

	memset(out, 0, sizeof(*out));
	if (site == NULL || id == NULL)
		return store_fail(s, CML_ERR_USAGE,
		                  "loading an order's progress: no site or no Ид");
	if ((p = prog_of(s, &st)) == NULL)
		return st;
	if ((st = cml_ledger_get(s, site, id, 0, &lo)) != CML_OK)
		return st;
	cml_arena_reset(&p->arena);
	if ((st = from_doc(s, &p->arena, lo.site, lo.id, lo.number, lo.doc, &p->lines,
	                   &p->lines_cap, out)) != CML_OK)
		goto out;
	sqlite3_stmt *q = query(s, SQ_PG_ROW, &st);
	if (q == NULL)
		goto out;
	sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		st = row_progress(s, q, 0, &p->arena, out);
	else if (rc == SQLITE_DONE)
		no_progress(out);
	else
		st = store_db_fail(s, "cannot read an order's progress");
	done_with(q);
	if (st == CML_OK)
		st = store_register_review_open(s, site, id, &out->state.counterparty_open);
out:
	if (st != CML_OK)
		memset(out, 0, sizeof(*out));
	return st;
}

/* ---- finding an order ---- */

cml_status
cml_progress_find(cml_store *s, const char *site, const char *key, const char **site_out,
                  const char **id_out)
{
	struct store_progress *p;
	size_t n = 0;
	cml_status st;

	*site_out = *id_out = NULL;
	if (!has_text(key))
		return store_fail(s, CML_ERR_USAGE, "finding an order: no Ид or Номер");
	if ((p = prog_of(s, &st)) == NULL)
		return st;
	sqlite3_stmt *q = query(s, SQ_PG_FIND, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_text(q, 1, or_empty(site), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
	cml_buf_clear(&p->found);
	cml_buf_clear(&p->names);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *rs = col_text(q, 0), *ri = col_text(q, 1), *rn = col_text(q, 2);
		bool ok;

		if (n++ == 0)
			ok = cml_buf_append(&p->found, rs, strlen(rs) + 1) &&
			     cml_buf_append(&p->found, ri, strlen(ri));
		else
			ok = true;
		if (n <= 5)
			ok = ok && cml_buf_appendf(&p->names, "%s%s of %s (Номер %s)",
			                           n > 1 ? ", " : "", ri, rs, rn[0] ? rn : "none");
		else
			ok = ok && cml_buf_appendf(&p->names, ", ...");
		if (!ok) {
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
			break;
		}
	}
	if (st == CML_OK && rc != SQLITE_DONE)
		st = store_db_fail(s, "cannot read the ledger");
	done_with(q);
	if (st != CML_OK)
		return st;
	if (n == 0)
		return CML_END;
	if (n > 1)
		return store_fail(s, CML_ERR_VALUE,
		                  "\"%s\" names more than one order: %s; name it by its site and "
		                  "Ид",
		                  key, p->names.data);
	*site_out = p->found.data;
	*id_out = p->found.data + strlen(p->found.data) + 1;
	return CML_OK;
}

/* ---- applying a step ---- */

static bool
append_amount(cml_buf *b, int64_t v)
{
	char num[32];

	cml_os_amount_format(v, num, sizeof(num));
	return cml_buf_appendf(b, "%s%s", b->len > 0 ? " " : "", num);
}

static bool
append_word(cml_buf *b, const char *w)
{
	if (!has_text(w))
		return true;
	return cml_buf_appendf(b, "%s%s", b->len > 0 ? " " : "", w);
}

/* The step's arguments as typed back; money as it moved (paid, refunded:
 * the figures of "what is due" and "all that is paid" made explicit). */
static bool
step_args(cml_buf *b, const cml_step *step, int64_t paid, int64_t refunded)
{
	bool ok = true;

	cml_buf_clear(b);
	switch (step->kind) {
	case CML_STEP_INVOICE:
		ok = append_word(b, step->number) && append_word(b, step->date);
		break;
	case CML_STEP_PAY:
		ok = append_amount(b, paid) && append_word(b, step->date) &&
		     append_word(b, step->number);
		break;
	case CML_STEP_SHIP:
	case CML_STEP_RETURN:
		for (size_t i = 0; ok && i < step->n_qty; i++)
			ok = append_amount(b, step->qty[i]);
		if (ok && step->kind == CML_STEP_SHIP)
			ok = append_word(b, step->date) && append_word(b, step->number);
		break;
	case CML_STEP_CANCEL:
		ok = append_word(b, step->reason);
		break;
	case CML_STEP_REFUND:
		ok = append_amount(b, refunded);
		break;
	case CML_STEP_TERMS:
		ok = append_word(b, step->postpaid ? "postpaid" : "prepaid");
		break;
	default:
		break;
	}
	return ok;
}

/* "cli", "csv:FILE:LINE", "cml:FILE". */
static bool
source_text(cml_buf *b, const cml_progress_source *src)
{
	cml_buf_clear(b);
	const char *kind = src != NULL && has_text(src->kind) ? src->kind : "cli";
	bool ok = cml_buf_appendf(b, "%s", kind);

	if (ok && src != NULL && src->name != NULL)
		ok = cml_buf_appendf(b, ":%s", src->name);
	if (ok && src != NULL && src->name != NULL && src->line > 0)
		ok = cml_buf_appendf(b, ":%" PRId64, src->line);
	return ok;
}

static bool
shipped_text(cml_buf *b, const cml_order_state *st)
{
	cml_buf_clear(b);
	for (size_t i = 0; i < st->n_lines; i++)
		if (!cml_buf_appendf(b, "%s%" PRId64, i > 0 ? " " : "", st->lines[i].shipped))
			return false;
	return true;
}

/* A buffer's text: "" while it has none. */
static const char *
buf_text(const cml_buf *b)
{
	return b->len > 0 ? b->data : "";
}

/* The step's log row, then the new state with version. */
static cml_status
store_step(cml_store *s, const cml_progress_order *o, const cml_step *step, int64_t version)
{
	struct store_progress *p = s->prog;
	const cml_order_state *st = &o->state;
	cml_status rst;
	sqlite3_stmt *q = query(s, SQ_PG_STEP_ADD, &rst);

	if (q == NULL)
		return rst;
	sqlite3_bind_text(q, 1, o->site, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, o->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, version);
	sqlite3_bind_text(q, 4, cml_step_name(step->kind), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, buf_text(&p->args), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, buf_text(&p->source), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 7, s->run_started, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 8, s->run_id);
	if ((rst = store_step_done(s, q, "cannot log an order's step")) != CML_OK)
		return rst;

	if ((q = query(s, SQ_PG_PUT, &rst)) == NULL)
		goto undo;
	sqlite3_bind_text(q, 1, o->site, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, o->id, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, (int)st->life);
	sqlite3_bind_int(q, 4, (int)st->invoice);
	sqlite3_bind_int(q, 5, (int)st->payment);
	sqlite3_bind_int(q, 6, (int)st->shipment);
	sqlite3_bind_int(q, 7, st->postpaid ? 1 : 0);
	sqlite3_bind_int64(q, 8, st->paid);
	sqlite3_bind_int64(q, 9, st->refunded);
	sqlite3_bind_text(q, 10, buf_text(&p->shipped), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 11, st->invoice_number, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 12, st->invoice_date, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 13, st->payment_number, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 14, st->payment_date, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 15, st->shipment_number, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 16, st->shipment_date, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 17, st->cancel_reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 18, version);
	sqlite3_bind_text(q, 19, s->run_started, -1, SQLITE_STATIC);
	if ((rst = store_step_done(s, q, "cannot store an order's progress")) == CML_OK)
		return CML_OK;
undo:
	/* best effort, as the ledger's undo_put: the run stays usable, and
	 * after an error that rolled it back the next write says so */
	if (!sqlite3_get_autocommit(s->db)) {
		cml_status ust;
		sqlite3_stmt *u = query(s, SQ_PG_STEP_UNDO, &ust);

		if (u != NULL) {
			sqlite3_bind_text(u, 1, o->site, -1, SQLITE_STATIC);
			sqlite3_bind_text(u, 2, o->id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(u, 3, version);
			(void)sqlite3_step(u);
			done_with(u);
		}
	}
	return rst;
}

cml_status
cml_progress_apply(cml_store *s, const char *site, const char *id, const cml_step *step,
                   const cml_progress_source *src, cml_progress_result *res)
{
	struct store_progress *p;
	cml_progress_result none;
	cml_progress_order o;
	cml_status st;

	if (res == NULL)
		res = &none;
	memset(res, 0, sizeof(*res));
	if ((st = store_need_run(s, "applying a step")) != CML_OK)
		return st;
	if (step == NULL || step->kind < 0 || step->kind >= CML_STEP_KIND_COUNT)
		return store_fail(s, CML_ERR_USAGE, "applying a step: no step, or no such step");
	if ((p = prog_of(s, &st)) == NULL)
		return st;
	if ((st = cml_progress_load(s, site, id, &o)) != CML_OK)
		return st;
	res->life = o.state.life;
	res->version = o.version;
	if (src != NULL && (has_text(src->version) || has_text(src->changed)) &&
	    cml_os_stale(o.src_version, o.src_changed, src->version, src->changed)) {
		res->outcome = CML_PROGRESS_STALE;
		return CML_OK;
	}
	int64_t paid = o.state.paid, refunded = o.state.refunded;
	cml_os_apply(&o.state, step, &res->os);
	if (res->os.verdict != CML_OS_APPLIED) {
		res->outcome =
		        res->os.verdict == CML_OS_NOOP ? CML_PROGRESS_NOOP : CML_PROGRESS_REFUSED;
		return CML_OK;
	}
	if (!step_args(&p->args, step, o.state.paid - paid, o.state.refunded - refunded) ||
	    !source_text(&p->source, src) || !shipped_text(&p->shipped, &o.state))
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	if ((st = store_step(s, &o, step, o.version + 1)) != CML_OK)
		return st;
	res->outcome = CML_PROGRESS_APPLIED;
	res->life = o.state.life;
	res->version = o.version + 1;
	return CML_OK;
}

cml_status
cml_progress_update_done(cml_store *s, const char *site, const char *id,
                         const cml_progress_source *src, const char *status_code)
{
	cml_status st;
	sqlite3_stmt *q;

	if ((st = store_need_run(s, "recording an update")) != CML_OK)
		return st;
	if (site == NULL || id == NULL)
		return store_fail(s, CML_ERR_USAGE, "recording an update: no site or no Ид");
	if ((q = query(s, SQ_PG_UPDATE_DONE, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	if (src != NULL && has_text(src->version))
		sqlite3_bind_text(q, 3, src->version, -1, SQLITE_STATIC);
	if (src != NULL && has_text(src->changed))
		sqlite3_bind_text(q, 4, src->changed, -1, SQLITE_STATIC);
	if (status_code != NULL)
		sqlite3_bind_text(q, 5, status_code, -1, SQLITE_STATIC);
	if ((st = store_step_done(s, q, "cannot record an update")) != CML_OK)
		return st;
	return sqlite3_changes(s->db) > 0 ? CML_OK : CML_END;
}

cml_status
cml_progress_is_stale(cml_store *s, const char *site, const char *id, const char *version,
                      const char *changed, bool *stale)
{
	cml_status st;
	sqlite3_stmt *q;

	*stale = false;
	if (site == NULL || id == NULL)
		return store_fail(s, CML_ERR_USAGE, "checking an update: no site or no Ид");
	if ((q = query(s, SQ_PG_ROW, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*stale = cml_os_stale(col_text(q, 20), col_text(q, 21), version, changed);
	else if (rc != SQLITE_DONE)
		st = store_db_fail(s, "cannot read an order's progress");
	done_with(q);
	return st;
}

cml_status
cml_progress_delivered(cml_store *s, const char *site, const char *id, int64_t version,
                       const char *site_refusal)
{
	int64_t have = 0, delivered = 0;
	cml_status st;
	sqlite3_stmt *q;

	if ((st = store_need_run(s, "recording a delivery")) != CML_OK)
		return st;
	if (site == NULL || id == NULL || version < 0)
		return store_fail(s, CML_ERR_USAGE,
		                  "recording a delivery: no site, no Ид or a negative version");
	if ((q = query(s, SQ_PG_ROW, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		have = sqlite3_column_int64(q, 15);
		delivered = sqlite3_column_int64(q, 16);
	} else if (rc != SQLITE_DONE) {
		st = store_db_fail(s, "cannot read an order's progress");
	}
	done_with(q);
	if (st != CML_OK)
		return st;
	if (version > have)
		return store_fail(s, CML_ERR_VALUE,
		                  "recording a delivery: order %s of %s is at progress version "
		                  "%" PRId64 ", not %" PRId64,
		                  id, site, have, version);
	if (version < delivered || (rc == SQLITE_DONE))
		return CML_OK; /* never back; version 0 of no progress: nothing to mark */
	if ((q = query(s, SQ_PG_DELIVERED, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, version);
	sqlite3_bind_text(q, 4, s->run_started, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, or_empty(site_refusal), -1, SQLITE_STATIC);
	return store_step_done(s, q, "cannot record a delivery");
}

/* ---- cursors ---- */

static cml_status
cursor_new(cml_store *s, enum cursor_kind kind, const char *sql, void **cursor,
           struct progress_cursor **out)
{
	struct progress_cursor *c = cml_calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	c->kind = kind;
	cml_arena_init(&c->arena);
	if (sqlite3_prepare_v2(s->db, sql, -1, &c->stmt, NULL) != SQLITE_OK) {
		cml_status st = store_db_fail(s, "cannot read the order progress");
		cml_free(c);
		return st;
	}
	*cursor = c;
	*out = c;
	return CML_OK;
}

void
cml_progress_end(cml_store *s, void **cursor)
{
	(void)s;
	if (cursor == NULL || *cursor == NULL)
		return;
	struct progress_cursor *c = *cursor;
	sqlite3_finalize(c->stmt);
	cml_arena_destroy(&c->arena);
	cml_free(c->lines);
	cml_free(c);
	*cursor = NULL;
}

/* The cursor given back must be one of this kind. */
static cml_status
cursor_check(cml_store *s, void *cursor, enum cursor_kind kind)
{
	const struct progress_cursor *c = cursor;

	if (c != NULL && c->kind != kind)
		return store_fail(s, CML_ERR_USAGE, "a progress cursor of another listing");
	return CML_OK;
}

cml_status
cml_progress_steps(cml_store *s, const char *site, const char *id, void **cursor,
                   cml_progress_step *out)
{
	struct progress_cursor *c = *cursor;
	cml_status st;

	memset(out, 0, sizeof(*out));
	if ((st = cursor_check(s, c, PC_STEPS)) != CML_OK)
		return st;
	if (c == NULL) {
		if (site == NULL || id == NULL)
			return store_fail(s, CML_ERR_USAGE, "listing steps: no site or no Ид");
		if ((st = cursor_new(s, PC_STEPS,
		                     "SELECT seq, kind, args, source, at, run, version FROM "
		                     "order_steps WHERE site = ?1 AND order_id = ?2 ORDER BY seq",
		                     cursor, &c)) != CML_OK)
			return st;
		sqlite3_bind_text(c->stmt, 1, site, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(c->stmt, 2, id, -1, SQLITE_TRANSIENT);
	}
	if ((st = store_cursor_step(s, c->stmt, &c->done, "cannot read the order steps")) != CML_OK)
		return st;
	const char *kind = col_text(c->stmt, 1);
	if (!cml_step_parse(kind, &out->kind))
		return store_fail(s, CML_ERR_FORMAT,
		                  "order %s of %s: step %" PRId64 " is \"%s\", "
		                  "no step this toolkit knows",
		                  or_empty(id), or_empty(site),
		                  (int64_t)sqlite3_column_int64(c->stmt, 0), kind);
	out->seq = sqlite3_column_int64(c->stmt, 0);
	out->args = col_text(c->stmt, 2);
	out->source = col_text(c->stmt, 3);
	out->at = col_text(c->stmt, 4);
	out->run = sqlite3_column_int64(c->stmt, 5);
	out->version = sqlite3_column_int64(c->stmt, 6);
	return CML_OK;
}

cml_status
cml_progress_next(cml_store *s, const cml_progress_filter *f, void **cursor,
                  cml_progress_order *out)
{
	struct progress_cursor *c = *cursor;
	cml_progress_filter none = {0};
	cml_status st;

	memset(out, 0, sizeof(*out));
	if (f == NULL)
		f = &none;
	if ((st = cursor_check(s, c, PC_ORDERS)) != CML_OK)
		return st;
	if (c == NULL) {
		char sql[2048];
		const char *site_cond = f->site != NULL ? " AND o.site = ?1" : "";

		/* pending: the pending rows only, from their partial index
		 * (the planner, without statistics, would rather scan the
		 * site's rows or the orders: INDEXED BY and CROSS JOIN keep
		 * it to the index); else every ledger order, those without
		 * progress as NEW */
		if (f->pending)
			cml_msg_set(sql, sizeof(sql),
			            "SELECT o.site, o.id, o.number, r.doc, " PG_COLS_P " FROM "
			            "order_progress p INDEXED BY order_progress_pending CROSS JOIN "
			            "orders o ON o.site = p.site AND o.id = "
			            "p.order_id JOIN order_revisions r ON r.oid = o.oid AND "
			            "r.revision = o.revision WHERE p.version > p.delivered%s AND "
			            "(?2 = 0 OR (?2 >> p.life) & 1) ORDER BY o.oid",
			            f->site != NULL ? " AND p.site = ?1" : "");
		else
			cml_msg_set(
			        sql, sizeof(sql),
			        "SELECT o.site, o.id, o.number, r.doc, " PG_COLS_P " FROM "
			        "orders o JOIN order_revisions r ON r.oid = o.oid AND r.revision = "
			        "o.revision LEFT JOIN order_progress p ON p.site = o.site AND "
			        "p.order_id = o.id WHERE 1%s AND (?2 = 0 OR (?2 >> "
			        "coalesce(p.life, 0)) & 1) ORDER BY o.oid",
			        site_cond);
		if ((st = cursor_new(s, PC_ORDERS, sql, cursor, &c)) != CML_OK)
			return st;
		if (f->site != NULL)
			sqlite3_bind_text(c->stmt, 1, f->site, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(c->stmt, 2, (sqlite3_int64)f->life_mask);
	}
	if ((st = store_cursor_step(s, c->stmt, &c->done, "cannot read the order progress")) !=
	    CML_OK)
		return st;
	cml_arena_reset(&c->arena);

	cml_document *doc = NULL;
	const char *site = col_text(c->stmt, 0), *id = col_text(c->stmt, 1);
	st = doc_decode(&c->arena, sqlite3_column_blob(c->stmt, 3),
	                (size_t)sqlite3_column_bytes(c->stmt, 3), &doc);
	if (st == CML_ERR_NOMEM)
		return store_fail(s, st, "out of memory");
	if (st != CML_OK)
		return store_fail(s, st,
		                  "the ledger's latest revision of order %s of %s is damaged", id,
		                  site);
	st = from_doc(s, &c->arena, site, id, col_text(c->stmt, 2), doc, &c->lines, &c->lines_cap,
	              out);
	if (st == CML_OK && sqlite3_column_type(c->stmt, 4) != SQLITE_NULL)
		st = row_progress(s, c->stmt, 4, &c->arena, out);
	else if (st == CML_OK)
		no_progress(out);
	if (st == CML_OK)
		st = store_register_review_open(s, out->site, out->id,
		                                &out->state.counterparty_open);
	if (st != CML_OK)
		memset(out, 0, sizeof(*out));
	return st;
}

/* ---- the status map ---- */

static bool
code_valid(const char *code)
{
	size_t n = code != NULL ? strlen(code) : 0;

	if (n == 0 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = code[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* The map becomes the database's own: the defaults copied in, once. */
static cml_status
map_own(cml_store *s)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_PG_MAP_OWN, &st);

	if (q == NULL)
		return st;
	if ((st = store_step_done(s, q, "cannot write the status map")) != CML_OK)
		return st;
	if ((q = query(s, SQ_PG_MAP_OWN_MARK, &st)) == NULL)
		return st;
	return store_step_done(s, q, "cannot write the status map");
}

cml_status
cml_status_map_set(cml_store *s, const cml_status_map_entry *e)
{
	cml_status st;
	sqlite3_stmt *q;

	if ((st = store_need_run(s, "setting a status code")) != CML_OK)
		return st;
	if (e == NULL)
		return store_fail(s, CML_ERR_USAGE, "setting a status code: no entry");
	if (!code_valid(e->code))
		return store_fail(s, CML_ERR_VALUE,
		                  "\"%s\" is no status code (1 to 16 of A-Z, a-z, 0-9, _ and -)",
		                  or_empty(e->code));
	if (e->life < CML_OS_NEW || e->life > CML_OS_CANCELLED)
		return store_fail(s, CML_ERR_VALUE, "status code %s: no such state", e->code);
	if ((st = map_own(s)) != CML_OK)
		return st;
	if (e->send) {
		if ((q = query(s, SQ_PG_MAP_UNSEND, &st)) == NULL)
			return st;
		sqlite3_bind_text(q, 1, or_empty(e->site), -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 2, (int)e->life);
		sqlite3_bind_text(q, 3, e->code, -1, SQLITE_STATIC);
		if ((st = store_step_done(s, q, "cannot write the status map")) != CML_OK)
			return st;
	}
	if ((q = query(s, SQ_PG_MAP_SET, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, or_empty(e->site), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, e->code, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, (int)e->life);
	sqlite3_bind_int(q, 4, e->send ? 1 : 0);
	sqlite3_bind_text(q, 5, or_empty(e->name), -1, SQLITE_STATIC);
	return store_step_done(s, q, "cannot write the status map");
}

cml_status
cml_status_map_del(cml_store *s, const char *site, const char *code)
{
	cml_status st;
	sqlite3_stmt *q;

	if ((st = store_need_run(s, "deleting a status code")) != CML_OK)
		return st;
	if (code == NULL)
		return store_fail(s, CML_ERR_USAGE, "deleting a status code: no code");
	if ((q = query(s, SQ_PG_MAP_HAS, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, or_empty(site), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, code, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		st = store_db_fail(s, "cannot read the status map");
	done_with(q);
	if (st != CML_OK)
		return st;
	if (rc == SQLITE_DONE)
		return CML_END;
	if ((st = map_own(s)) != CML_OK)
		return st;
	if ((q = query(s, SQ_PG_MAP_DEL, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, or_empty(site), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, code, -1, SQLITE_STATIC);
	return store_step_done(s, q, "cannot write the status map");
}

cml_status
cml_status_map_lookup(cml_store *s, const char *site, const char *code, cml_os_life *life)
{
	cml_status st;
	sqlite3_stmt *q;

	*life = CML_OS_NEW;
	if (code == NULL)
		return store_fail(s, CML_ERR_USAGE, "looking a status code up: no code");
	if ((q = query(s, SQ_PG_MAP_LOOKUP, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, or_empty(site), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, code, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(q, 0);

		if (v >= CML_OS_NEW && v <= CML_OS_CANCELLED)
			*life = (cml_os_life)v;
		else
			st = store_fail(s, CML_ERR_FORMAT, "the status map's code %s is damaged",
			                code);
	} else if (rc == SQLITE_DONE) {
		st = CML_END;
	} else {
		st = store_db_fail(s, "cannot read the status map");
	}
	done_with(q);
	return st;
}

cml_status
cml_status_map_code(cml_store *s, const char *site, cml_os_life life, const char **code)
{
	struct store_progress *p;
	cml_status st;
	sqlite3_stmt *q;

	*code = NULL;
	if ((p = prog_of(s, &st)) == NULL)
		return st;
	if ((q = query(s, SQ_PG_MAP_CODE, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, or_empty(site), -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, (int)life);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *c = col_text(q, 0);

		cml_buf_clear(&p->code);
		if (!cml_buf_append(&p->code, c, strlen(c) + 1))
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
	} else if (rc == SQLITE_DONE) {
		st = CML_END;
	} else {
		st = store_db_fail(s, "cannot read the status map");
	}
	done_with(q);
	if (st == CML_OK)
		*code = p->code.data;
	return st;
}

cml_status
cml_status_map_next(cml_store *s, void **cursor, cml_status_map_entry *out)
{
	struct progress_cursor *c = *cursor;
	cml_status st;

	memset(out, 0, sizeof(*out));
	if ((st = cursor_check(s, c, PC_MAP)) != CML_OK)
		return st;
	if (c == NULL && (st = cursor_new(s, PC_MAP,
	                                  "SELECT site, code, life, send, name FROM "
	                                  "status_map_now ORDER BY site, code",
	                                  cursor, &c)) != CML_OK)
		return st;
	if ((st = store_cursor_step(s, c->stmt, &c->done, "cannot read the status map")) != CML_OK)
		return st;
	int64_t life = sqlite3_column_int64(c->stmt, 2);
	out->site = col_text(c->stmt, 0);
	out->code = col_text(c->stmt, 1);
	if (life < CML_OS_NEW || life > CML_OS_CANCELLED)
		return store_fail(s, CML_ERR_FORMAT, "the status map's code %s is damaged",
		                  out->code);
	out->life = (cml_os_life)life;
	out->send = sqlite3_column_int64(c->stmt, 3) != 0;
	out->name = col_text(c->stmt, 4);
	return CML_OK;
}
