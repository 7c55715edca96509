/*
 * generations.c: the catalog state (cmlkit-db(5)): generations, the
 * packages full-export and delta-export wrote, and the baseline, the
 * catalog as the site last acknowledged it. Over the store's connection
 * and inside its runs (store.c); the contract is in cml/generations.h.
 *
 * The statements the hot paths use (baseline_get, gen_put) are kept on
 * the handle and reset after each use: millions of calls are fine.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cml/generations.h"
#include "store_private.h"

struct store_gen {
	char *package, *created, *acked, *files; /* for gen_info */
	char *superseded, *superseded_by, *pruned;
};

/* Parts are stored by name (cml_part_name) so people can query them. */
static const char *
part_str(cml_part part)
{
	return cml_part_name(part); /* NULL out of range and for NONE */
}

static const char *const queries[SQ_COUNT] = {
	[SQ_BASE_GET] = "SELECT fp FROM baseline WHERE part = ?1 AND id = ?2",
	[SQ_GEN_PUT] = "INSERT INTO gen_parts(gen, part, id, fp, deleted) "
	               "VALUES (?1, ?2, ?3, ?4, ?5)",
	[SQ_BASE_GEN] = "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'baseline_gen'",
	[SQ_GEN_NEW] = "INSERT INTO generations(kind, package, created, run) "
	               "VALUES (?1, ?2, " STORE_NOW_SQL ", ?3)",
	[SQ_GEN_STATE] = "SELECT kind, acked IS NOT NULL, run, superseded IS NOT NULL "
	                 "FROM generations WHERE gen = ?1",
	[SQ_ACK_FULL_CLEAR] = "DELETE FROM baseline",
	/*
	 * Both kinds: every record of gen in (part, id) order, so the
	 * baseline's B-tree is filled in order, and by seq within one part,
	 * so the last record wins; a deletion leaves a NULL fp, removed by
	 * SQ_ACK_DROP. "WHERE true" resolves the parsing ambiguity of an
	 * upsert on a SELECT.
	 */
	[SQ_ACK_APPLY] = "INSERT INTO baseline(part, id, fp, gen) "
	                 "SELECT part, id, CASE WHEN deleted THEN NULL ELSE fp END, gen "
	                 "FROM gen_parts WHERE gen = ?1 AND true ORDER BY part, id, seq "
	                 "ON CONFLICT(part, id) DO UPDATE SET fp = excluded.fp, "
	                 "gen = excluded.gen",
	[SQ_ACK_DROP] = "DELETE FROM baseline WHERE fp IS NULL AND (part, id) IN "
	                "(SELECT part, id FROM gen_parts WHERE gen = ?1 AND deleted)",
	[SQ_ACK_META] = "INSERT INTO meta(key, value) VALUES ('baseline_gen', ?1) "
	                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
	[SQ_ACK_MARK] = "UPDATE generations SET acked = " STORE_NOW_SQL " WHERE gen = ?1",
	[SQ_GEN_INFO] = "SELECT gen, kind, package, created, acked, "
	                "coalesce(pruned_parts, "
	                "(SELECT count(*) FROM gen_parts p WHERE p.gen = g.gen)), files, "
	                "superseded, (SELECT program FROM runs r WHERE r.id = g.superseded_run), "
	                "pruned FROM generations g WHERE gen = ?1",
	[SQ_GEN_FILES] = "UPDATE generations SET files = ?2 WHERE gen = ?1 AND acked IS NULL "
	                 "AND run = ?3",
	[SQ_GEN_FIND] = "SELECT max(gen) FROM generations WHERE package = ?1",
	[SQ_GEN_SUPERSEDE] = "UPDATE generations SET superseded = " STORE_NOW_SQL
	                     ", superseded_run = ?1 WHERE acked IS NULL AND superseded IS NULL "
	                     "AND (run IS NULL OR run <> ?1)",
	/* an offer is in the baseline by any of its parts: each Ид once */
	[SQ_BASE_ITEMS] = "SELECT count(DISTINCT id) FROM baseline WHERE part IN (?1, ?2, ?3)",
	/* what can no longer be acknowledged and still has its parts: the
	 * generations table is one row per run, a scan is fine */
	[SQ_PRUNE_LIST] = "SELECT gen, kind = 'full' FROM generations WHERE pruned IS NULL "
	                  "AND (gen <= ?1 OR superseded IS NOT NULL) ORDER BY gen DESC",
	/* one generation's rows are one range of the gen_parts_gen index */
	[SQ_PRUNE_PARTS] = "DELETE FROM gen_parts WHERE gen = ?1",
	[SQ_PRUNE_COUNT] = "SELECT count(*) FROM gen_parts WHERE gen = ?1",
	[SQ_PRUNE_LEFT] = "SELECT count(*) FROM generations WHERE pruned IS NULL",
	[SQ_PRUNE_MARK] = "UPDATE generations SET pruned = " STORE_NOW_SQL
	                  ", pruned_parts = ?2 WHERE gen = ?1",
};

static sqlite3_stmt *
query(cml_store *s, enum store_q q, cml_status *st)
{
	return store_query(s, q, queries[q], st);
}

/* One iteration of baseline_next: its own statement, so iterations and
 * the handle's lookups do not disturb each other. */
struct baseline_cursor {
	sqlite3_stmt *stmt;
	bool done;
	cml_part last_part; /* baseline_scan: the part of the previous row */
};

void
store_gen_free(struct store_gen *g)
{
	if (g == NULL)
		return;
	cml_free(g->package);
	cml_free(g->created);
	cml_free(g->acked);
	cml_free(g->files);
	cml_free(g->superseded);
	cml_free(g->superseded_by);
	cml_free(g->pruned);
	cml_free(g);
}

/* ---- baseline ---- */

cml_status
cml_store_baseline_gen(cml_store *s, int64_t *gen)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_BASE_GEN, &st);

	*gen = 0;
	if (q == NULL)
		return st;
	int rc = sqlite3_step(q);
	st = CML_OK;
	if (rc == SQLITE_ROW)
		*gen = sqlite3_column_int64(q, 0);
	else if (rc != SQLITE_DONE)
		st = store_db_fail(s, "cannot read the baseline's generation");
	sqlite3_reset(q);
	return st;
}

cml_status
cml_store_baseline_get(cml_store *s, cml_part part, const char *id, cml_fp *fp)
{
	const char *name = part_str(part);
	cml_status st;

	if (name == NULL || id == NULL)
		return store_fail(s, CML_ERR_USAGE, "baseline lookup: no such part (%d) or no Ид",
		                  (int)part);
	sqlite3_stmt *q = query(s, SQ_BASE_GET, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const unsigned char *b = sqlite3_column_blob(q, 0);

		if (b != NULL && sqlite3_column_bytes(q, 0) == 16) {
			store_fp_unpack(b, fp);
			st = CML_OK;
		} else {
			st = store_fail(s, CML_ERR_IO,
			                "baseline: %s %s: the fingerprint is not 16 bytes", name,
			                id);
		}
	} else if (rc == SQLITE_DONE) {
		st = CML_END;
	} else {
		st = store_db_fail(s, "cannot read the baseline");
	}
	sqlite3_reset(q);
	return st;
}

cml_status
cml_store_baseline_next(cml_store *s, cml_part part, void **cursor, const char **id)
{
	struct baseline_cursor *c = *cursor;
	const char *name = part_str(part);

	*id = NULL;
	if (name == NULL)
		return store_fail(s, CML_ERR_USAGE, "baseline iteration: no such part (%d)",
		                  (int)part);
	if (c == NULL) {
		c = cml_calloc(1, sizeof(*c));
		if (c == NULL)
			return store_fail(s, CML_ERR_NOMEM, "out of memory");
		if (sqlite3_prepare_v2(s->db, "SELECT id FROM baseline WHERE part = ?1 ORDER BY id",
		                       -1, &c->stmt, NULL) != SQLITE_OK) {
			cml_status st = store_db_fail(s, "cannot read the baseline");
			cml_free(c);
			return st;
		}
		/* part names are static: no copy needed */
		sqlite3_bind_text(c->stmt, 1, name, -1, SQLITE_STATIC);
		*cursor = c;
	}
	if (c->done)
		return CML_END;
	int rc = sqlite3_step(c->stmt);
	if (rc == SQLITE_ROW) {
		*id = (const char *)sqlite3_column_text(c->stmt, 0);
		if (*id == NULL)
			return store_fail(s, CML_ERR_NOMEM, "out of memory");
		return CML_OK;
	}
	c->done = true;
	/* release the read snapshot now rather than at baseline_end */
	sqlite3_reset(c->stmt);
	if (rc == SQLITE_DONE)
		return CML_END;
	return store_db_fail(s, "cannot read the baseline");
}

cml_status
cml_store_baseline_count(cml_store *s, int64_t *n)
{
	sqlite3_stmt *q = NULL;
	cml_status st = CML_OK;

	*n = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM baseline", -1, &q, NULL) != SQLITE_OK)
		return store_db_fail(s, "cannot count the baseline");
	if (sqlite3_step(q) == SQLITE_ROW)
		*n = sqlite3_column_int64(q, 0);
	else
		st = store_db_fail(s, "cannot count the baseline");
	sqlite3_finalize(q);
	return st;
}

cml_status
cml_store_baseline_scan(cml_store *s, void **cursor, cml_part *part, const char **id, cml_fp *fp)
{
	struct baseline_cursor *c = *cursor;

	*id = NULL;
	*part = CML_PART_NONE;
	if (c == NULL) {
		c = cml_calloc(1, sizeof(*c));
		if (c == NULL)
			return store_fail(s, CML_ERR_NOMEM, "out of memory");
		if (sqlite3_prepare_v2(s->db,
		                       "SELECT part, id, fp FROM baseline WHERE fp IS NOT NULL", -1,
		                       &c->stmt, NULL) != SQLITE_OK) {
			cml_status st = store_db_fail(s, "cannot read the baseline");
			cml_free(c);
			return st;
		}
		*cursor = c;
	}
	if (c->done)
		return CML_END;
	for (;;) {
		int rc = sqlite3_step(c->stmt);
		if (rc != SQLITE_ROW) {
			c->done = true;
			sqlite3_reset(c->stmt);
			return rc == SQLITE_DONE ? CML_END
			                         : store_db_fail(s, "cannot read the baseline");
		}
		const char *name = (const char *)sqlite3_column_text(c->stmt, 0);
		const unsigned char *b = sqlite3_column_blob(c->stmt, 2);
		if (name == NULL || b == NULL || sqlite3_column_bytes(c->stmt, 2) != 16)
			continue;
		/* rows come in (part, id) order: the part is nearly always
		 * the previous row's */
		if (c->last_part != CML_PART_NONE &&
		    strcmp(name, cml_part_name(c->last_part)) == 0) {
			*part = c->last_part;
		} else {
			for (int p = 1; p < CML_PART_COUNT; p++)
				if (strcmp(name, cml_part_name((cml_part)p)) == 0)
					*part = (cml_part)p;
			c->last_part = *part;
		}
		if (*part == CML_PART_NONE)
			continue; /* a part this library does not know: not ours to judge */
		*id = (const char *)sqlite3_column_text(c->stmt, 1);
		if (*id == NULL)
			return store_fail(s, CML_ERR_NOMEM, "out of memory");
		store_fp_unpack(b, fp);
		return CML_OK;
	}
}

void
cml_store_baseline_end(cml_store *s, void **cursor)
{
	(void)s;
	if (cursor == NULL || *cursor == NULL)
		return;
	struct baseline_cursor *c = *cursor;
	sqlite3_finalize(c->stmt);
	cml_free(c);
	*cursor = NULL;
}

/* ---- generations ---- */

cml_status
cml_store_gen_new(cml_store *s, cml_gen_kind kind, const char *package, int64_t *gen)
{
	cml_status st;

	*gen = 0;
	if ((st = store_need_run(s, "new generation")) != CML_OK)
		return st;
	if (kind != CML_GEN_FULL && kind != CML_GEN_DELTA)
		return store_fail(s, CML_ERR_USAGE, "new generation: no such kind (%d)", (int)kind);
	sqlite3_stmt *q = query(s, SQ_GEN_NEW, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_text(q, 1, kind == CML_GEN_FULL ? "full" : "delta", -1, SQLITE_STATIC);
	if (package != NULL)
		sqlite3_bind_text(q, 2, package, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, s->run_id);
	if ((st = store_step_done(s, q, "cannot record a new generation")) != CML_OK)
		return st;
	*gen = sqlite3_last_insert_rowid(s->db);
	s->run_gen = *gen;
	return CML_OK;
}

/* The state of a generation: CML_END when there is none. */
static cml_status
gen_state(cml_store *s, int64_t gen, bool *acked, int64_t *run, bool *full, bool *superseded)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_GEN_STATE, &st);

	if (q == NULL)
		return st;
	sqlite3_bind_int64(q, 1, gen);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(q, 0);
		*full = k != NULL && strcmp(k, "full") == 0;
		*acked = sqlite3_column_int(q, 1) != 0;
		*run = sqlite3_column_int64(q, 2);
		*superseded = sqlite3_column_int(q, 3) != 0;
		st = CML_OK;
	} else if (rc == SQLITE_DONE) {
		st = CML_END;
	} else {
		st = store_db_fail(s, "cannot read the generation");
	}
	sqlite3_reset(q);
	return st;
}

cml_status
cml_store_gen_put(cml_store *s, int64_t gen, cml_part part, const char *id, const cml_fp *fp,
                  bool deleted)
{
	const char *name = part_str(part);
	cml_status st;

	if (!s->in_run || sqlite3_get_autocommit(s->db))
		return store_need_run(s, "recording a part");
	if (name == NULL || id == NULL || (!deleted && fp == NULL))
		return store_fail(s, CML_ERR_USAGE,
		                  "recording a part: no such part (%d), no Ид or no fingerprint",
		                  (int)part);
	if (gen != s->run_gen) {
		/* Only a pending generation of this run can still change. */
		bool acked = false, full = false, superseded = false;
		int64_t run = 0;

		st = gen_state(s, gen, &acked, &run, &full, &superseded);
		if (st == CML_END)
			return store_fail(s, CML_ERR_VALUE, "no generation %" PRId64, gen);
		if (st != CML_OK)
			return st;
		if (acked || run != s->run_id)
			return store_fail(s, CML_ERR_STATE,
			                  "generation %" PRId64 " belongs to an earlier run or is "
			                  "acknowledged: it cannot change",
			                  gen);
		s->run_gen = gen;
	}
	sqlite3_stmt *q = query(s, SQ_GEN_PUT, &st);
	if (q == NULL)
		return st;
	unsigned char blob[16];
	sqlite3_bind_int64(q, 1, gen);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, id, -1, SQLITE_STATIC);
	if (deleted) {
		sqlite3_bind_null(q, 4);
	} else {
		store_fp_pack(fp, blob);
		sqlite3_bind_blob(q, 4, blob, 16, SQLITE_STATIC);
	}
	sqlite3_bind_int(q, 5, deleted ? 1 : 0);
	int rc = sqlite3_step(q);
	st = rc == SQLITE_DONE ? CML_OK : store_db_fail(s, "cannot record a part");
	sqlite3_reset(q);
	return st;
}

/* The kept statement which, gen bound to ?1 when it has one. */
static sqlite3_stmt *
gen_query(cml_store *s, enum store_q which, int64_t gen, cml_status *st)
{
	sqlite3_stmt *q = query(s, which, st);

	if (q != NULL && sqlite3_bind_parameter_count(q) > 0)
		sqlite3_bind_int64(q, 1, gen);
	return q;
}

static cml_status
run_gen_query(cml_store *s, enum store_q which, int64_t gen, const char *what)
{
	cml_status st;
	sqlite3_stmt *q = gen_query(s, which, gen, &st);

	return q != NULL ? store_step_done(s, q, what) : st;
}

/* ---- pruning ---- */

cml_status
cml_store_gen_set_keep(cml_store *s, int keep)
{
	if (keep < 0)
		return store_fail(s, CML_ERR_USAGE, "keeping %d generations: not a count", keep);
	s->gen_keep = keep;
	return CML_OK;
}

/* The generations the acknowledgement of gen prunes: every one
 * SQ_PRUNE_LIST names but the newest s->gen_keep; a delta's
 * acknowledgement leaves full generations to a full one. */
static cml_status
prune_list(cml_store *s, int64_t gen, bool full, int64_t **out, size_t *n)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_PRUNE_LIST, &st);
	size_t cap = 0;
	int64_t seen = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (q == NULL)
		return st;
	sqlite3_bind_int64(q, 1, gen);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (seen++ < s->gen_keep || (!full && sqlite3_column_int(q, 1) != 0))
			continue;
		if (*n == cap) {
			size_t ncap = cap != 0 ? 2 * cap : 8;
			int64_t *p = cml_realloc(*out, ncap * sizeof(*p));
			if (p == NULL) {
				st = store_fail(s, CML_ERR_NOMEM, "out of memory");
				break;
			}
			*out = p;
			cap = ncap;
		}
		(*out)[(*n)++] = sqlite3_column_int64(q, 0);
	}
	if (st == CML_OK && rc != SQLITE_DONE)
		st = store_db_fail(s, "cannot list the generations to prune");
	sqlite3_reset(q);
	return st;
}

/* A count query of one number, gen bound to ?1 when it has one. */
static cml_status
count_query(cml_store *s, enum store_q which, int64_t gen, int64_t *n)
{
	cml_status st;
	sqlite3_stmt *q = gen_query(s, which, gen, &st);

	*n = 0;
	if (q == NULL)
		return st;
	if (sqlite3_step(q) == SQLITE_ROW)
		*n = sqlite3_column_int64(q, 0);
	else
		st = store_db_fail(s, "cannot count a generation's parts");
	sqlite3_reset(q);
	return st;
}

/*
 * Deletes the parts of the generations prune_list names and marks them
 * pruned with the number of parts they had (gen's are gen_parts when
 * known, else counted). When they are all the
 * generations that still have parts (a nightly cycle with the default
 * keep: the full generation just acknowledged), the table is emptied at
 * once: SQLite frees its pages without visiting each row, half the cost
 * of deleting a million rows one by one.
 */
static cml_status
prune(cml_store *s, int64_t gen, bool full, int64_t gen_parts)
{
	int64_t *list;
	size_t n;
	int64_t left = 0;
	cml_status st = prune_list(s, gen, full, &list, &n);

	if (st == CML_OK && n > 0)
		st = count_query(s, SQ_PRUNE_LEFT, 0, &left);
	bool all = left == (int64_t)n;
	for (size_t i = 0; st == CML_OK && i < n; i++) {
		int64_t parts = 0;
		sqlite3_stmt *q;

		if (all && list[i] == gen && gen_parts >= 0) {
			parts = gen_parts;
		} else if (all) {
			st = count_query(s, SQ_PRUNE_COUNT, list[i], &parts);
		} else if ((q = query(s, SQ_PRUNE_PARTS, &st)) != NULL) {
			sqlite3_bind_int64(q, 1, list[i]);
			st = store_step_done(s, q, "cannot prune a generation's parts");
			parts = sqlite3_changes64(s->db);
		}
		if (st != CML_OK || (q = query(s, SQ_PRUNE_MARK, &st)) == NULL)
			break;
		sqlite3_bind_int64(q, 1, list[i]);
		sqlite3_bind_int64(q, 2, parts);
		st = store_step_done(s, q, "cannot mark a generation pruned");
	}
	if (st == CML_OK && all && n > 0)
		st = store_exec(s, "DELETE FROM gen_parts", "cannot prune the generations' parts");
	cml_free(list);
	return st;
}

/* The acknowledgement of gen, checked, as one savepoint. */
static cml_status
ack_apply(cml_store *s, int64_t gen, bool full)
{
	cml_status st;

	/* a savepoint, so a failed ack leaves the run's other work usable */
	if ((st = store_exec(s, "SAVEPOINT ack", "cannot acknowledge")) != CML_OK)
		return st;
	/* a full generation is the whole catalog; a delta changes some of it */
	bool merged = false;
	int64_t parts = -1; /* the generation's, when the merge counted them */
	if (full)
		st = store_full_merge(s, gen, &merged, &parts);
	if (st == CML_OK && full && !merged)
		st = run_gen_query(s, SQ_ACK_FULL_CLEAR, gen, "cannot clear the baseline");
	if (st == CML_OK && !merged)
		st = run_gen_query(s, SQ_ACK_APPLY, gen, "cannot update the baseline");
	if (st == CML_OK && !merged)
		st = run_gen_query(s, SQ_ACK_DROP, gen, "cannot delete from the baseline");
	if (st == CML_OK) {
		sqlite3_stmt *q = query(s, SQ_ACK_META, &st);
		if (q != NULL) {
			char num[32];
			cml_msg_set(num, sizeof(num), "%" PRId64, gen);
			sqlite3_bind_text(q, 1, num, -1, SQLITE_TRANSIENT);
			st = store_step_done(s, q, "cannot record the baseline's generation");
		}
	}
	if (st == CML_OK)
		st = run_gen_query(s, SQ_ACK_MARK, gen, "cannot mark the generation acknowledged");
	if (st == CML_OK)
		st = prune(s, gen, full, parts);
	if (st == CML_OK)
		return store_exec(s, "RELEASE ack", "cannot acknowledge");
	if (!sqlite3_get_autocommit(s->db)) {
		(void)sqlite3_exec(s->db, "ROLLBACK TO ack", NULL, NULL, NULL);
		(void)sqlite3_exec(s->db, "RELEASE ack", NULL, NULL, NULL);
	}
	return st;
}

cml_status
cml_store_gen_ack(cml_store *s, int64_t gen)
{
	cml_status st;
	bool acked = false, full = false, superseded = false;
	int64_t run = 0, base = 0;

	if ((st = store_need_run(s, "acknowledging")) != CML_OK)
		return st;
	st = gen_state(s, gen, &acked, &run, &full, &superseded);
	if (st == CML_END)
		return store_fail(s, CML_ERR_VALUE, "no generation %" PRId64 " to acknowledge",
		                  gen);
	if (st != CML_OK)
		return st;
	if ((st = cml_store_baseline_gen(s, &base)) != CML_OK)
		return st;
	if (acked)
		return store_fail(s, CML_END, "generation %" PRId64 " is already acknowledged",
		                  gen);
	if (gen <= base)
		return store_fail(s, CML_END,
		                  "generation %" PRId64
		                  " is older than the baseline (generation %" PRId64
		                  "): nothing to do",
		                  gen, base);
	if (superseded)
		return store_fail(
		        s, CML_ERR_STATE,
		        "generation %" PRId64 " was superseded by a later export run: its "
		        "package is stale and is not acknowledged (push the newer package, or "
		        "run delta-export again)",
		        gen);
	/*
	 * A full generation's acknowledgement reads the generation, the
	 * baseline and, pruning, the generation again: ~1 GiB at 1M
	 * products, a quarter of a million reads through the 16 MiB page
	 * cache. Mapped, SQLite takes the pages where the system's file cache
	 * has them, without a call and a copy each: ~0.4 s less of CPU at 1M.
	 * The mapping is file cache the system can drop at any time, not
	 * memory of ours, though it counts in the resident size; it ends with
	 * the acknowledgement. A failure to map only costs that time.
	 */
	if (full)
		(void)sqlite3_exec(s->db, "PRAGMA mmap_size = 2147418112", NULL, NULL, NULL);
	st = ack_apply(s, gen, full);
	if (full)
		(void)sqlite3_exec(s->db, "PRAGMA mmap_size = 0", NULL, NULL, NULL);
	return st;
}

cml_status
cml_store_gen_set_files(cml_store *s, int64_t gen, const char *files)
{
	cml_status st;

	if ((st = store_need_run(s, "recording a package's files")) != CML_OK)
		return st;
	sqlite3_stmt *q = query(s, SQ_GEN_FILES, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_int64(q, 1, gen);
	if (files != NULL)
		sqlite3_bind_text(q, 2, files, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, s->run_id);
	if ((st = store_step_done(s, q, "cannot record the package's files")) != CML_OK)
		return st;
	if (sqlite3_changes(s->db) != 1)
		return store_fail(s, CML_ERR_STATE,
		                  "generation %" PRId64 " is not a pending generation of this run",
		                  gen);
	return CML_OK;
}

cml_status
cml_store_gen_supersede(cml_store *s, int64_t *n)
{
	cml_status st;

	if (n != NULL)
		*n = 0;
	if ((st = store_need_run(s, "superseding pending generations")) != CML_OK)
		return st;
	sqlite3_stmt *q = query(s, SQ_GEN_SUPERSEDE, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_int64(q, 1, s->run_id);
	if ((st = store_step_done(s, q, "cannot mark the pending generations superseded")) !=
	    CML_OK)
		return st;
	if (n != NULL)
		*n = sqlite3_changes(s->db);
	return CML_OK;
}

cml_status
cml_store_baseline_items(cml_store *s, cml_kind kind, int64_t *n)
{
	cml_status st;
	cml_part p[3];

	*n = 0;
	if (kind == CML_ITEM_PRODUCT) {
		p[0] = p[1] = p[2] = CML_PART_PRODUCT;
	} else if (kind == CML_ITEM_OFFER) {
		p[0] = CML_PART_OFFER_CARD;
		p[1] = CML_PART_OFFER_PRICES;
		p[2] = CML_PART_OFFER_STOCK;
	} else {
		return store_fail(s, CML_ERR_USAGE,
		                  "counting the baseline: only products and offers");
	}
	sqlite3_stmt *q = query(s, SQ_BASE_ITEMS, &st);
	if (q == NULL)
		return st;
	for (int i = 0; i < 3; i++)
		sqlite3_bind_text(q, i + 1, part_str(p[i]), -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int64(q, 0);
		st = CML_OK;
	} else {
		st = store_db_fail(s, "cannot count the baseline");
	}
	sqlite3_reset(q);
	return st;
}

cml_status
cml_store_gen_find(cml_store *s, const char *package, int64_t *gen)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_GEN_FIND, &st);

	*gen = 0;
	if (q == NULL)
		return st;
	sqlite3_bind_text(q, 1, package, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		*gen = sqlite3_column_int64(q, 0); /* max() of nothing is NULL: 0 */
		st = *gen > 0 ? CML_OK : CML_END;
	} else {
		st = store_db_fail(s, "cannot look the package up");
	}
	sqlite3_reset(q);
	return st;
}

static cml_status
keep_text(cml_store *s, char **dst, const unsigned char *src)
{
	cml_free(*dst);
	*dst = NULL;
	if (src == NULL)
		return CML_OK;
	*dst = cml_strdup((const char *)src);
	if (*dst == NULL)
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	return CML_OK;
}

cml_status
cml_store_gen_info(cml_store *s, int64_t gen, cml_gen_info *info)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_GEN_INFO, &st);

	memset(info, 0, sizeof(*info));
	if (q == NULL)
		return st;
	if (s->gen == NULL && (s->gen = cml_calloc(1, sizeof(*s->gen))) == NULL)
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	struct store_gen *g = s->gen;
	sqlite3_bind_int64(q, 1, gen);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(q, 1);

		info->gen = sqlite3_column_int64(q, 0);
		info->kind = k != NULL && strcmp(k, "full") == 0 ? CML_GEN_FULL : CML_GEN_DELTA;
		st = keep_text(s, &g->package, sqlite3_column_text(q, 2));
		if (st == CML_OK)
			st = keep_text(s, &g->created, sqlite3_column_text(q, 3));
		if (st == CML_OK)
			st = keep_text(s, &g->acked, sqlite3_column_text(q, 4));
		if (st == CML_OK)
			st = keep_text(s, &g->files, sqlite3_column_text(q, 6));
		if (st == CML_OK)
			st = keep_text(s, &g->superseded, sqlite3_column_text(q, 7));
		if (st == CML_OK)
			st = keep_text(s, &g->superseded_by, sqlite3_column_text(q, 8));
		if (st == CML_OK)
			st = keep_text(s, &g->pruned, sqlite3_column_text(q, 9));
		info->parts = sqlite3_column_int64(q, 5);
		info->package = g->package;
		info->created = g->created;
		info->acked = g->acked;
		info->files = g->files;
		info->superseded = g->superseded;
		info->superseded_by = g->superseded_by;
		info->pruned = g->pruned;
	} else if (rc == SQLITE_DONE) {
		st = store_fail(s, CML_END, "no generation %" PRId64, gen);
	} else {
		st = store_db_fail(s, "cannot read the generation");
	}
	sqlite3_reset(q);
	return st;
}
