/*
 * ledger.c: the order ledger (cmlkit-db(5)), over the store's connection
 * and inside its runs; the contract is in cml/ledger.h.
 *
 * A put costs one indexed lookup of (site, Ид) and, when the content is
 * new or changed, two inserts (and an update): the fingerprint of the
 * latest revision sits on the order's row, so an unchanged order is
 * recognised without reading its document, and writes nothing. Only a
 * changed order has its previous document decoded, to say what changed.
 * Every statement a put runs is kept on the handle.
 *
 * Documents are stored in doccodec.c's stored form and decoded into
 * memory of the ledger (cml_ledger_get) or of the cursor (next,
 * attachments), reset at the next call.
 */
#include <inttypes.h>
#include <string.h>

#include <sqlite3.h>
#include <xxhash.h>

#include "cml/ledger.h"
#include "doccodec.h"
#include "store_private.h"

struct store_ledger {
	cml_buf canon;     /* canonical form, for fingerprints */
	cml_buf enc;       /* stored form of the document being put */
	cml_buf tmp1, tmp2;
	cml_buf changed;   /* what changed, as stored */
	cml_arena arena;   /* cml_ledger_get's document and strings; put's old document */
};

/* One iteration: its own statement and its own memory for what it hands
 * out, so a cml_ledger_get between two calls does not disturb it. */
struct ledger_cursor {
	sqlite3_stmt *stmt;
	cml_arena arena;
	bool done;
};

/* The columns of an order row, in this order, for row_order(). */
#define ORDER_COLS                                                                         \
	"o.site, o.id, o.number, r.revision, o.revision, r.run, r.stored, o.first_stored, " \
	"r.changed, r.fp"

static const char *const queries[SQ_COUNT] = {
	[SQ_LG_FIND] = "SELECT oid, revision, fp FROM orders WHERE site = ?1 AND id = ?2",
	[SQ_LG_ORDER_NEW] = "INSERT INTO orders(site, id, number, first_stored, revision, fp) "
	                    "VALUES (?1, ?2, coalesce(?3, ''), ?4, 1, ?5)",
	[SQ_LG_ORDER_SET] = "UPDATE orders SET revision = ?2, fp = coalesce(?3, fp), "
	                    "number = coalesce(?4, number) WHERE oid = ?1",
	[SQ_LG_REV_NEW] = "INSERT INTO order_revisions(oid, revision, run, stored, fp, changed, "
	                  "doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[SQ_LG_REV_DOC] = "SELECT doc FROM order_revisions WHERE oid = ?1 AND revision = ?2",
	[SQ_LG_REV_RUN] = "SELECT run, changed FROM order_revisions WHERE oid = ?1 AND "
	                  "revision = ?2",
	[SQ_LG_REV_CHANGED] = "UPDATE order_revisions SET changed = ?3 WHERE oid = ?1 AND "
	                      "revision = ?2",
	[SQ_LG_GET] = "SELECT " ORDER_COLS ", r.doc FROM orders o JOIN order_revisions r "
	              "ON r.oid = o.oid WHERE o.site = ?1 AND o.id = ?2 AND r.revision = "
	              "CASE WHEN ?3 = 0 THEN o.revision ELSE ?3 END",
	[SQ_LG_ATT_FIND] = "SELECT aid, fp, order_id FROM order_attachments "
	                   "WHERE site = ?1 AND id = ?2",
	[SQ_LG_ATT_NEW] = "INSERT INTO order_attachments(site, id, order_id, fp, doc, run, stored) "
	                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[SQ_LG_ATT_SET] = "UPDATE order_attachments SET order_id = ?2, fp = ?3, doc = ?4, "
	                  "run = ?5, stored = ?6 WHERE aid = ?1",
	[SQ_LG_COUNT_ALL] = "SELECT count(*) FROM orders",
	[SQ_LG_COUNT_SITE] = "SELECT count(*) FROM orders WHERE site = ?1",
	[SQ_LG_MARK_GET] = "SELECT run FROM order_output WHERE site = ?1",
	[SQ_LG_MARK_SET] = "INSERT INTO order_output(site, run, updated) VALUES (?1, ?2, ?3) "
	                   "ON CONFLICT(site) DO UPDATE SET run = max(run, excluded.run), "
	                   "updated = excluded.updated",
};

static sqlite3_stmt *
query(cml_store *s, enum store_q q, cml_status *st)
{
	return store_query(s, q, queries[q], st);
}

void
store_ledger_free(struct store_ledger *l)
{
	if (l == NULL)
		return;
	cml_buf_free(&l->canon);
	cml_buf_free(&l->enc);
	cml_buf_free(&l->tmp1);
	cml_buf_free(&l->tmp2);
	cml_buf_free(&l->changed);
	cml_arena_destroy(&l->arena);
	cml_free(l);
}

static struct store_ledger *
ledger_of(cml_store *s, cml_status *st)
{
	*st = CML_OK;
	if (s->ledger == NULL) {
		s->ledger = cml_calloc(1, sizeof(*s->ledger));
		if (s->ledger == NULL) {
			*st = store_fail(s, CML_ERR_NOMEM, "out of memory");
			return NULL;
		}
		cml_arena_init(&s->ledger->arena);
	}
	return s->ledger;
}

const char *
cml_ledger_change_name(cml_ledger_change c)
{
	switch (c) {
	case CML_LEDGER_UNCHANGED:
		return "unchanged";
	case CML_LEDGER_NEW:
		return "new";
	case CML_LEDGER_CHANGED:
		return "changed";
	}
	return "unknown";
}

/* ---- fingerprints ---- */

static bool
fingerprint(cml_buf *b, const cml_document *doc, cml_fp *fp)
{
	cml_buf_clear(b);
	if (!doc_canon(b, doc))
		return false;
	XXH128_hash_t h = XXH3_128bits(b->data, b->len);
	fp->hi = h.high64;
	fp->lo = h.low64;
	return true;
}

cml_status
cml_ledger_fingerprint(const cml_document *doc, cml_fp *fp)
{
	cml_buf b = { 0 };

	if (doc == NULL || fp == NULL)
		return CML_ERR_USAGE;
	bool ok = fingerprint(&b, doc, fp);
	cml_buf_free(&b);
	return ok ? CML_OK : CML_ERR_NOMEM;
}

static bool
fp_of_column(sqlite3_stmt *q, int col, cml_fp *fp)
{
	const unsigned char *b = sqlite3_column_blob(q, col);

	if (b == NULL || sqlite3_column_bytes(q, col) != 16)
		return false;
	store_fp_unpack(b, fp);
	return true;
}

/* ---- putting ---- */

static bool
has_text(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* What a put needs before it touches the database. */
static cml_status
put_check(cml_store *s, const char *site, const cml_document *doc, const char *what)
{
	cml_status st;

	if ((st = store_need_run(s, what)) != CML_OK)
		return st;
	if (site == NULL || doc == NULL)
		return store_fail(s, CML_ERR_USAGE, "%s: no site or no document", what);
	if (!has_text(doc->id))
		return store_fail(s, CML_ERR_VALUE, "%s: a document without Ид (Номер %s)", what,
		                  has_text(doc->number) ? doc->number : "none");
	return CML_OK;
}

/* Adds revision rev of order oid: the document in l->enc, or (copy) the
 * document of revision rev - 1 again. */
static cml_status
revision_add(cml_store *s, int64_t oid, int64_t rev, const cml_fp *fp, const char *changed,
             bool copy)
{
	struct store_ledger *l = s->ledger;
	unsigned char blob[16];
	cml_status st;

	if (copy) {
		/* an attachment changed, not the order: the same document */
		sqlite3_stmt *d = query(s, SQ_LG_REV_DOC, &st);
		if (d == NULL)
			return st;
		sqlite3_bind_int64(d, 1, oid);
		sqlite3_bind_int64(d, 2, rev - 1);
		int rc = sqlite3_step(d);
		const void *b = rc == SQLITE_ROW ? sqlite3_column_blob(d, 0) : NULL;
		size_t n = b != NULL ? (size_t)sqlite3_column_bytes(d, 0) : 0;
		cml_buf_clear(&l->enc);
		if (b == NULL)
			st = rc == SQLITE_ROW || rc == SQLITE_DONE
			             ? store_fail(s, CML_ERR_IO, "the ledger lacks a revision")
			             : store_db_fail(s, "cannot read the ledger");
		else if (!cml_buf_append(&l->enc, b, n))
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
		sqlite3_reset(d);
		if (st != CML_OK)
			return st;
	}
	sqlite3_stmt *q = query(s, SQ_LG_REV_NEW, &st);
	if (q == NULL)
		return st;
	store_fp_pack(fp, blob);
	sqlite3_bind_int64(q, 1, oid);
	sqlite3_bind_int64(q, 2, rev);
	sqlite3_bind_int64(q, 3, s->run_id);
	sqlite3_bind_text(q, 4, s->run_started, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 5, blob, 16, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, changed, -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 7, l->enc.data, (int)l->enc.len, SQLITE_STATIC);
	return store_step_done(s, q, "cannot store an order's revision");
}

static cml_status
order_set(cml_store *s, int64_t oid, int64_t rev, const cml_fp *fp, const char *number)
{
	cml_status st;
	unsigned char blob[16];
	sqlite3_stmt *q = query(s, SQ_LG_ORDER_SET, &st);

	if (q == NULL)
		return st;
	sqlite3_bind_int64(q, 1, oid);
	sqlite3_bind_int64(q, 2, rev);
	if (fp != NULL) {
		store_fp_pack(fp, blob);
		sqlite3_bind_blob(q, 3, blob, 16, SQLITE_STATIC);
	}
	if (number != NULL)
		sqlite3_bind_text(q, 4, number, -1, SQLITE_STATIC);
	return store_step_done(s, q, "cannot update an order");
}

/* The order (site, id): CML_OK with its oid, latest revision and
 * fingerprint, CML_END when the ledger does not have it. */
static cml_status
order_find(cml_store *s, const char *site, const char *id, int64_t *oid, int64_t *rev, cml_fp *fp)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_LG_FIND, &st);

	if (q == NULL)
		return st;
	sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*oid = sqlite3_column_int64(q, 0);
		*rev = sqlite3_column_int64(q, 1);
		st = fp_of_column(q, 2, fp) ? CML_OK
		                            : store_fail(s, CML_ERR_IO,
		                                         "the ledger's order %s of %s has no "
		                                         "fingerprint",
		                                         id, site);
	} else if (rc == SQLITE_DONE) {
		st = CML_END;
	} else {
		st = store_db_fail(s, "cannot read the ledger");
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return st;
}

/* What changed between revision rev of oid and doc, into l->changed. */
static cml_status
changes(cml_store *s, int64_t oid, int64_t rev, const cml_document *doc)
{
	struct store_ledger *l = s->ledger;
	cml_document *old = NULL;
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_LG_REV_DOC, &st);

	if (q == NULL)
		return st;
	cml_arena_reset(&l->arena);
	sqlite3_bind_int64(q, 1, oid);
	sqlite3_bind_int64(q, 2, rev);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		st = doc_decode(&l->arena, sqlite3_column_blob(q, 0),
		                (size_t)sqlite3_column_bytes(q, 0), &old);
		if (st == CML_ERR_NOMEM)
			store_fail(s, st, "out of memory");
		else if (st != CML_OK)
			store_fail(s, st, "the ledger's revision %" PRId64 " of %s is damaged", rev,
			           doc->id);
	} else {
		st = rc == SQLITE_DONE ? store_fail(s, CML_ERR_IO, "the ledger lacks a revision")
		                       : store_db_fail(s, "cannot read the ledger");
	}
	sqlite3_reset(q);
	if (st != CML_OK)
		return st;
	cml_buf_clear(&l->changed);
	if (!doc_changes(old, doc, &l->tmp1, &l->tmp2, &l->changed))
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	/* the fingerprints differ, so some field does; never an empty list */
	if (l->changed.len == 0 && !cml_buf_append(&l->changed, "Документ", strlen("Документ")))
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	return CML_OK;
}

/* Takes back the first write of a put that failed after it: revision
 * rev of oid, or (rev 0) the order oid that was new. Best effort: its
 * own failure leaves the first one to report. */
static void
undo_put(cml_store *s, int64_t oid, int64_t rev)
{
	sqlite3_stmt *q = NULL;
	const char *sql = rev == 0 ? "DELETE FROM orders WHERE oid = ?1"
	                           : "DELETE FROM order_revisions WHERE oid = ?1 AND revision = ?2";

	if (sqlite3_get_autocommit(s->db) ||
	    sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(q, 1, oid);
	if (rev != 0)
		sqlite3_bind_int64(q, 2, rev);
	(void)sqlite3_step(q);
	sqlite3_finalize(q);
}

/* The list cut to the result's buffer, ending in "..." when cut. */
static void
changed_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n < cap) {
		memcpy(dst, src, n + 1);
		return;
	}
	n = cap - 4;
	/* not in the middle of a UTF-8 sequence */
	while (n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
		n--;
	memcpy(dst, src, n);
	memcpy(dst + n, "...", 4);
}

cml_status
cml_ledger_put(cml_store *s, const char *site, const cml_document *doc,
               cml_ledger_put_result *res)
{
	cml_ledger_put_result none;
	struct store_ledger *l;
	int64_t oid = 0, rev = 0;
	cml_fp fp, had;
	cml_status st;

	if (res == NULL)
		res = &none;
	memset(res, 0, sizeof(*res));
	if ((st = put_check(s, site, doc, "storing an order")) != CML_OK)
		return st;
	if ((l = ledger_of(s, &st)) == NULL)
		return st;
	if (!fingerprint(&l->canon, doc, &fp))
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	st = order_find(s, site, doc->id, &oid, &rev, &had);
	if (st == CML_OK && cml_fp_equal(fp, had)) {
		res->change = CML_LEDGER_UNCHANGED;
		res->revision = rev;
		return CML_OK;
	}
	if (st != CML_OK && st != CML_END)
		return st;
	cml_buf_clear(&l->enc);
	if (!doc_encode(&l->enc, doc))
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	/*
	 * No savepoint around the two writes: it costs a statement journal
	 * and makes a put four times slower. A put that fails after its
	 * first write undoes that write instead (undo_put), so the run's
	 * other work stays usable; after an error that rolled the whole run
	 * back, the next write says so (store_need_run).
	 */
	if (oid == 0) {
		unsigned char blob[16];
		sqlite3_stmt *q = query(s, SQ_LG_ORDER_NEW, &st);

		if (q != NULL) {
			store_fp_pack(&fp, blob);
			sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 2, doc->id, -1, SQLITE_STATIC);
			if (doc->number != NULL)
				sqlite3_bind_text(q, 3, doc->number, -1, SQLITE_STATIC);
			sqlite3_bind_text(q, 4, s->run_started, -1, SQLITE_STATIC);
			sqlite3_bind_blob(q, 5, blob, 16, SQLITE_STATIC);
			st = store_step_done(s, q, "cannot store an order");
		}
		if (st != CML_OK)
			return st;
		oid = sqlite3_last_insert_rowid(s->db);
		rev = 1;
		if ((st = revision_add(s, oid, rev, &fp, "", false)) != CML_OK) {
			undo_put(s, oid, 0);
			return st;
		}
		res->change = CML_LEDGER_NEW;
	} else {
		if ((st = changes(s, oid, rev, doc)) != CML_OK)
			return st;
		if ((st = revision_add(s, oid, rev + 1, &fp, l->changed.data, false)) != CML_OK)
			return st;
		st = order_set(s, oid, rev + 1, &fp, doc->number != NULL ? doc->number : "");
		if (st != CML_OK) {
			undo_put(s, oid, rev + 1);
			return st;
		}
		rev++;
		res->change = CML_LEDGER_CHANGED;
		changed_copy(res->changed, sizeof(res->changed), l->changed.data);
	}
	res->revision = rev;
	return CML_OK;
}

/* "Выплата безналичных денег 12": how an order's "changed" names one of
 * its attachments; into l->changed, or after what it holds (fresh:
 * instead of it). A name already there is not added again. */
static cml_status
attachment_label(cml_store *s, const cml_document *doc, bool fresh)
{
	struct store_ledger *l = s->ledger;
	const char *what = has_text(doc->operation) ? doc->operation : "Документ";
	const char *which = has_text(doc->number) ? doc->number : doc->id;
	size_t start;

	if (fresh)
		cml_buf_clear(&l->changed);
	start = l->changed.len;
	if (!cml_buf_appendf(&l->changed, "%s%s %s", start > 0 ? ", " : "", what, which))
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	if (start > 0) {
		/* the same label in the list before: drop the one just added */
		const char *label = l->changed.data + start + 2;
		size_t n = l->changed.len - start - 2;
		const char *p = l->changed.data;

		while ((p = strstr(p, label)) != NULL && p < l->changed.data + start) {
			if ((p == l->changed.data || p[-1] == ' ') &&
			    (p[n] == ',' || p + n == l->changed.data + start)) {
				l->changed.len = start;
				l->changed.data[start] = '\0';
				break;
			}
			p++;
		}
	}
	return CML_OK;
}

/*
 * The revision of order oid (latest rev) that names the attachment doc:
 * a new one; or, when this run already stored the latest revision (a
 * 2.10 answer carries an order and then its payments), that one, so an
 * answer makes one revision of an order, not one per document beside
 * it. Revision 1 names nothing: the order is new, attachments and all.
 */
static cml_status
attach_revision(cml_store *s, const cml_document *doc, int64_t oid, int64_t rev,
                const cml_fp *order_fp)
{
	struct store_ledger *l = s->ledger;
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_LG_REV_RUN, &st);
	int64_t run = 0;

	if (q == NULL)
		return st;
	cml_buf_clear(&l->changed);
	sqlite3_bind_int64(q, 1, oid);
	sqlite3_bind_int64(q, 2, rev);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *had = (const char *)sqlite3_column_text(q, 1);

		run = sqlite3_column_int64(q, 0);
		if (had != NULL && !cml_buf_append(&l->changed, had, strlen(had)))
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
	} else {
		st = rc == SQLITE_DONE ? store_fail(s, CML_ERR_IO, "the ledger lacks a revision")
		                       : store_db_fail(s, "cannot read the ledger");
	}
	sqlite3_reset(q);
	if (st != CML_OK)
		return st;
	if (run != s->run_id) {
		if ((st = attachment_label(s, doc, true)) != CML_OK)
			return st;
		if ((st = revision_add(s, oid, rev + 1, order_fp, l->changed.data, true)) != CML_OK)
			return st;
		return order_set(s, oid, rev + 1, NULL, NULL);
	}
	if (rev == 1)
		return CML_OK;
	if ((st = attachment_label(s, doc, false)) != CML_OK)
		return st;
	if ((q = query(s, SQ_LG_REV_CHANGED, &st)) == NULL)
		return st;
	sqlite3_bind_int64(q, 1, oid);
	sqlite3_bind_int64(q, 2, rev);
	sqlite3_bind_text(q, 3, l->changed.data, -1, SQLITE_STATIC);
	return store_step_done(s, q, "cannot store an order's revision");
}

cml_status
cml_ledger_attach(cml_store *s, const char *site, const cml_document *doc,
                  cml_ledger_change *change)
{
	cml_ledger_change none;
	struct store_ledger *l;
	unsigned char blob[16];
	int64_t aid = 0, oid = 0, rev = 0;
	cml_fp fp, had, order_fp;
	bool moved = false;
	cml_status st;

	if (change == NULL)
		change = &none;
	*change = CML_LEDGER_UNCHANGED;
	if ((st = put_check(s, site, doc, "storing a payment or shipment")) != CML_OK)
		return st;
	if (!has_text(doc->basis))
		return store_fail(s, CML_ERR_VALUE,
		                  "storing a payment or shipment: document %s has no Основание "
		                  "(the Ид of its order)",
		                  doc->id);
	if ((l = ledger_of(s, &st)) == NULL)
		return st;
	if (!fingerprint(&l->canon, doc, &fp))
		return store_fail(s, CML_ERR_NOMEM, "out of memory");

	sqlite3_stmt *q = query(s, SQ_LG_ATT_FIND, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, doc->id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *was = (const char *)sqlite3_column_text(q, 2);

		aid = sqlite3_column_int64(q, 0);
		if (!fp_of_column(q, 1, &had))
			had.hi = had.lo = 0;
		moved = was == NULL || strcmp(was, doc->basis) != 0;
	} else if (rc != SQLITE_DONE) {
		st = store_db_fail(s, "cannot read the ledger");
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (st != CML_OK)
		return st;
	if (aid != 0 && !moved && cml_fp_equal(fp, had))
		return CML_OK;

	cml_buf_clear(&l->enc);
	if (!doc_encode(&l->enc, doc))
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	if ((st = store_exec(s, "SAVEPOINT ledger_attach", "cannot store an attachment")) !=
	    CML_OK)
		return st;
	store_fp_pack(&fp, blob);
	q = query(s, aid == 0 ? SQ_LG_ATT_NEW : SQ_LG_ATT_SET, &st);
	if (q != NULL && aid == 0) {
		sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, doc->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 3, doc->basis, -1, SQLITE_STATIC);
		sqlite3_bind_blob(q, 4, blob, 16, SQLITE_STATIC);
		sqlite3_bind_blob(q, 5, l->enc.data, (int)l->enc.len, SQLITE_STATIC);
		sqlite3_bind_int64(q, 6, s->run_id);
		sqlite3_bind_text(q, 7, s->run_started, -1, SQLITE_STATIC);
	} else if (q != NULL) {
		sqlite3_bind_int64(q, 1, aid);
		sqlite3_bind_text(q, 2, doc->basis, -1, SQLITE_STATIC);
		sqlite3_bind_blob(q, 3, blob, 16, SQLITE_STATIC);
		sqlite3_bind_blob(q, 4, l->enc.data, (int)l->enc.len, SQLITE_STATIC);
		sqlite3_bind_int64(q, 5, s->run_id);
		sqlite3_bind_text(q, 6, s->run_started, -1, SQLITE_STATIC);
	}
	if (q != NULL)
		st = store_step_done(s, q, "cannot store an attachment");

	/* its order, when the ledger has it, gets a revision naming it */
	if (st == CML_OK) {
		st = order_find(s, site, doc->basis, &oid, &rev, &order_fp);
		if (st == CML_OK)
			st = attach_revision(s, doc, oid, rev, &order_fp);
		if (st == CML_END)
			st = CML_OK; /* kept: it counts from the moment its order arrives */
	}
	if (st == CML_OK) {
		*change = aid == 0 ? CML_LEDGER_NEW : CML_LEDGER_CHANGED;
		return store_exec(s, "RELEASE ledger_attach", "cannot store an attachment");
	}
	if (!sqlite3_get_autocommit(s->db)) {
		(void)sqlite3_exec(s->db, "ROLLBACK TO ledger_attach", NULL, NULL, NULL);
		(void)sqlite3_exec(s->db, "RELEASE ledger_attach", NULL, NULL, NULL);
	}
	return st;
}

/* ---- reading ---- */

static const char *
keep(cml_arena *a, sqlite3_stmt *q, int col, bool *ok)
{
	const unsigned char *t = sqlite3_column_text(q, col);
	char *d;

	if (t == NULL)
		t = (const unsigned char *)"";
	d = cml_arena_strndup(a, (const char *)t, (size_t)sqlite3_column_bytes(q, col));
	if (d == NULL)
		*ok = false;
	return d;
}

/* The current row (ORDER_COLS, then doc when with_doc) into out, its
 * strings and document in a. */
static cml_status
row_order(cml_store *s, sqlite3_stmt *q, cml_arena *a, bool with_doc, cml_ledger_order *out)
{
	bool ok = true;
	cml_document *doc = NULL;

	memset(out, 0, sizeof(*out));
	out->site = keep(a, q, 0, &ok);
	out->id = keep(a, q, 1, &ok);
	out->number = keep(a, q, 2, &ok);
	out->revision = sqlite3_column_int64(q, 3);
	out->revisions = sqlite3_column_int64(q, 4);
	out->run = sqlite3_column_int64(q, 5);
	out->stored = keep(a, q, 6, &ok);
	out->first_stored = keep(a, q, 7, &ok);
	out->changed = keep(a, q, 8, &ok);
	if (!ok)
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	if (!fp_of_column(q, 9, &out->fp))
		return store_fail(s, CML_ERR_IO, "the ledger's order %s of %s has no fingerprint",
		                  out->id, out->site);
	if (!with_doc)
		return CML_OK;
	cml_status st = doc_decode(a, sqlite3_column_blob(q, 10),
	                           (size_t)sqlite3_column_bytes(q, 10), &doc);
	if (st == CML_ERR_NOMEM)
		return store_fail(s, st, "out of memory");
	if (st != CML_OK)
		return store_fail(s, st,
		                  "the ledger's revision %" PRId64 " of order %s of %s is damaged",
		                  out->revision, out->id, out->site);
	out->doc = doc;
	/* the revision's own number, not the latest one's */
	out->number = doc->number != NULL ? doc->number : "";
	return CML_OK;
}

cml_status
cml_ledger_get(cml_store *s, const char *site, const char *id, int64_t revision,
               cml_ledger_order *out)
{
	struct store_ledger *l;
	cml_status st;

	memset(out, 0, sizeof(*out));
	if (site == NULL || id == NULL || revision < 0)
		return store_fail(s, CML_ERR_USAGE, "reading an order: no site, no Ид or a "
		                                    "negative revision");
	if ((l = ledger_of(s, &st)) == NULL)
		return st;
	sqlite3_stmt *q = query(s, SQ_LG_GET, &st);
	if (q == NULL)
		return st;
	cml_arena_reset(&l->arena);
	sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, revision);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		st = row_order(s, q, &l->arena, true, out);
	else if (rc == SQLITE_DONE)
		st = CML_END;
	else
		st = store_db_fail(s, "cannot read the ledger");
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (st != CML_OK)
		memset(out, 0, sizeof(*out));
	return st;
}

static cml_status
cursor_new(cml_store *s, const char *sql, void **cursor, struct ledger_cursor **out)
{
	struct ledger_cursor *c = cml_calloc(1, sizeof(*c));

	*out = NULL;
	if (c == NULL)
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	cml_arena_init(&c->arena);
	if (sqlite3_prepare_v2(s->db, sql, -1, &c->stmt, NULL) != SQLITE_OK) {
		cml_status st = store_db_fail(s, "cannot read the ledger");
		cml_free(c);
		return st;
	}
	*cursor = c;
	*out = c;
	return CML_OK;
}

void
cml_ledger_end(cml_store *s, void **cursor)
{
	(void)s;
	if (cursor == NULL || *cursor == NULL)
		return;
	struct ledger_cursor *c = *cursor;
	sqlite3_finalize(c->stmt);
	cml_arena_destroy(&c->arena);
	cml_free(c);
	*cursor = NULL;
}

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS" (a space for the T, a final Z
 * are taken too), as stored times begin: into out[20]. */
static bool
since_norm(const char *in, char out[20])
{
	static const char date[] = "dddd-dd-dd", time[] = "Tdd:dd:dd";
	size_t n = strlen(in);

	if (n > 0 && in[n - 1] == 'Z' && n == 20)
		n--;
	if (n != 10 && n != 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		char want = i < 10 ? date[i] : time[i - 10];
		char c = in[i];

		if (want == 'd' ? c < '0' || c > '9' : i == 10 ? c != 'T' && c != ' ' : c != want)
			return false;
		out[i] = i == 10 ? 'T' : c;
	}
	out[n] = '\0';
	return true;
}

cml_status
cml_ledger_next(cml_store *s, const cml_ledger_filter *f, void **cursor, cml_ledger_order *out)
{
	struct ledger_cursor *c = *cursor;
	cml_ledger_filter none = { 0 };
	cml_status st;

	memset(out, 0, sizeof(*out));
	if (f == NULL)
		f = &none;
	if (c == NULL) {
		char since[20] = "";
		bool by_rev = f->run != 0 || f->since_run != 0 || f->since != NULL;

		if (f->since != NULL && !since_norm(f->since, since))
			return store_fail(s, CML_ERR_VALUE,
			                  "\"%s\" is not a time to list orders since "
			                  "(YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, UTC)",
			                  f->since);
		/* the revisions that match, by their indexes; then each of
		 * their orders once, with its latest revision */
		const char *sql =
			by_rev ? "SELECT " ORDER_COLS ", r.doc FROM orders o JOIN order_revisions "
			         "r ON r.oid = o.oid AND r.revision = o.revision "
			         "WHERE (?1 IS NULL OR o.site = ?1) AND o.oid IN "
			         "(SELECT oid FROM order_revisions WHERE run BETWEEN ?2 AND ?3 "
			         "AND stored >= ?4) ORDER BY o.oid"
			       : "SELECT " ORDER_COLS ", r.doc FROM orders o JOIN order_revisions "
			         "r ON r.oid = o.oid AND r.revision = o.revision "
			         "WHERE (?1 IS NULL OR o.site = ?1) ORDER BY o.oid";
		if ((st = cursor_new(s, sql, cursor, &c)) != CML_OK)
			return st;
		if (f->site != NULL)
			sqlite3_bind_text(c->stmt, 1, f->site, -1, SQLITE_TRANSIENT);
		if (by_rev) {
			int64_t lo = f->since_run, hi = INT64_MAX;

			if (f->run != 0) {
				lo = f->run > lo ? f->run : lo;
				hi = f->run;
			}
			sqlite3_bind_int64(c->stmt, 2, lo);
			sqlite3_bind_int64(c->stmt, 3, hi);
			sqlite3_bind_text(c->stmt, 4, since, -1, SQLITE_TRANSIENT);
		}
	}
	if ((st = store_cursor_step(s, c->stmt, &c->done, "cannot read the ledger")) != CML_OK)
		return st;
	cml_arena_reset(&c->arena);
	return row_order(s, c->stmt, &c->arena, true, out);
}

cml_status
cml_ledger_attachments(cml_store *s, const char *site, const char *order_id, void **cursor,
                       const cml_document **doc)
{
	struct ledger_cursor *c = *cursor;
	cml_document *d = NULL;
	cml_status st;

	*doc = NULL;
	if (c == NULL) {
		if (site == NULL || order_id == NULL)
			return store_fail(s, CML_ERR_USAGE,
			                  "listing attachments: no site or no Ид");
		if ((st = cursor_new(s,
		                     "SELECT doc, id FROM order_attachments WHERE site = ?1 AND "
		                     "order_id = ?2 ORDER BY aid",
		                     cursor, &c)) != CML_OK)
			return st;
		sqlite3_bind_text(c->stmt, 1, site, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(c->stmt, 2, order_id, -1, SQLITE_TRANSIENT);
	}
	if ((st = store_cursor_step(s, c->stmt, &c->done, "cannot read the ledger")) != CML_OK)
		return st;
	cml_arena_reset(&c->arena);
	st = doc_decode(&c->arena, sqlite3_column_blob(c->stmt, 0),
	                (size_t)sqlite3_column_bytes(c->stmt, 0), &d);
	if (st == CML_ERR_NOMEM)
		return store_fail(s, st, "out of memory");
	if (st != CML_OK)
		return store_fail(s, st, "the ledger's attachment %s of %s is damaged",
		                  (const char *)sqlite3_column_text(c->stmt, 1), site);
	*doc = d;
	return CML_OK;
}

cml_status
cml_ledger_history(cml_store *s, const char *site, const char *id, void **cursor,
                   cml_ledger_order *out)
{
	struct ledger_cursor *c = *cursor;
	cml_status st;

	memset(out, 0, sizeof(*out));
	if (c == NULL) {
		if (site == NULL || id == NULL)
			return store_fail(s, CML_ERR_USAGE, "listing revisions: no site or no Ид");
		if ((st = cursor_new(s,
		                     "SELECT " ORDER_COLS " FROM orders o JOIN order_revisions r "
		                     "ON r.oid = o.oid WHERE o.site = ?1 AND o.id = ?2 "
		                     "ORDER BY r.revision",
		                     cursor, &c)) != CML_OK)
			return st;
		sqlite3_bind_text(c->stmt, 1, site, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(c->stmt, 2, id, -1, SQLITE_TRANSIENT);
	}
	if ((st = store_cursor_step(s, c->stmt, &c->done, "cannot read the ledger")) != CML_OK)
		return st;
	cml_arena_reset(&c->arena);
	return row_order(s, c->stmt, &c->arena, false, out);
}

cml_status
cml_ledger_count(cml_store *s, const char *site, int64_t *n)
{
	cml_status st;
	sqlite3_stmt *q = query(s, site == NULL ? SQ_LG_COUNT_ALL : SQ_LG_COUNT_SITE, &st);

	*n = 0;
	if (q == NULL)
		return st;
	if (site != NULL)
		sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int64(q, 0);
		st = CML_OK;
	} else {
		st = store_db_fail(s, "cannot count the ledger's orders");
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return st;
}

cml_status
cml_ledger_output_mark(cml_store *s, const char *site, int64_t *run)
{
	cml_status st;
	sqlite3_stmt *q;

	*run = 0;
	if (site == NULL)
		return store_fail(s, CML_ERR_VALUE, "the output mark needs a site");
	if ((q = query(s, SQ_LG_MARK_GET, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*run = sqlite3_column_int64(q, 0);
		st = CML_OK;
	} else if (rc == SQLITE_DONE) {
		st = CML_OK;
	} else {
		st = store_db_fail(s, "cannot read the ledger's output mark");
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return st;
}

cml_status
cml_ledger_set_output_mark(cml_store *s, const char *site, int64_t run)
{
	cml_status st;
	sqlite3_stmt *q;

	if (site == NULL || run <= 0)
		return store_fail(s, CML_ERR_VALUE, "the output mark needs a site and a run");
	if ((st = store_need_run(s, "cannot set the ledger's output mark")) != CML_OK)
		return st;
	if ((q = query(s, SQ_LG_MARK_SET, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, run);
	sqlite3_bind_text(q, 3, s->run_started, -1, SQLITE_STATIC);
	return store_step_done(s, q, "cannot set the ledger's output mark");
}
