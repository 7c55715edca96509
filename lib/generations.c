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
#include <xxhash.h>

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
	/* full_merge: the generation and the baseline each read once, in
	 * storage order, then only the parts that changed written */
	[SQ_FA_ANY] = "SELECT EXISTS (SELECT 1 FROM baseline)",
	[SQ_FA_RANGE] = "SELECT min(seq), max(seq), count(*) FROM gen_parts WHERE gen = ?1",
	/* by its range of seq, in table order: through the gen index each row
	 * would be a lookup of its own (~19 s of CPU for 4M at 1M products) */
	[SQ_FA_ROWS] = "SELECT seq, part, id, fp, deleted FROM gen_parts "
	               "WHERE seq BETWEEN ?2 AND ?3 AND +gen = ?1",
	[SQ_FA_BASE] = "SELECT part, id, fp FROM baseline",
	[SQ_FA_ROW] = "SELECT part, id, fp, deleted FROM gen_parts WHERE seq = ?1",
	[SQ_FA_PUT] = "INSERT INTO baseline(part, id, fp, gen) VALUES (?1, ?2, ?3, ?4) "
	              "ON CONFLICT(part, id) DO UPDATE SET fp = excluded.fp, gen = excluded.gen",
	[SQ_FA_DEL] = "DELETE FROM baseline WHERE part = ?1 AND id = ?2",
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

static cml_status
run_gen_query(cml_store *s, enum store_q which, int64_t gen, const char *what)
{
	cml_status st;
	sqlite3_stmt *q = query(s, which, &st);

	if (q == NULL)
		return st;
	if (sqlite3_bind_parameter_count(q) > 0)
		sqlite3_bind_int64(q, 1, gen);
	return store_step_done(s, q, what);
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
	sqlite3_stmt *q = query(s, which, &st);

	*n = 0;
	if (q == NULL)
		return st;
	if (sqlite3_bind_parameter_count(q) > 0)
		sqlite3_bind_int64(q, 1, gen);
	if (sqlite3_step(q) == SQLITE_ROW)
		*n = sqlite3_column_int64(q, 0);
	else
		st = store_db_fail(s, "cannot count a generation's parts");
	sqlite3_reset(q);
	return st;
}

/*
 * Deletes the parts of the generations prune_list names and marks them
 * pruned with the number of parts they had. When they are all the
 * generations that still have parts (a nightly cycle with the default
 * keep: the full generation just acknowledged), the table is emptied at
 * once: SQLite frees its pages without visiting each row, half the cost
 * of deleting a million rows one by one.
 */
static cml_status
prune(cml_store *s, int64_t gen, bool full)
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

		if (all) {
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

/* ---- a full generation's acknowledgement ---- */

/*
 * A full generation is the whole catalog, and a nightly one differs from
 * the baseline in a few parts in a hundred. Rebuilding the baseline from
 * it (the SQL way below: clear, then insert every part sorted by part and
 * Ид) sorts and writes every part: ~10 s of CPU at a million products.
 * full_merge reads the generation and the baseline once each, in storage
 * order, and writes only what differs, through a table in memory of one
 * entry per part of the generation:
 *
 *  - key: XXH3-128 of the Ид, seeded with the hash of the part's name. A
 *    collision between two of the 8 million keys of a 1M catalog is a
 *    chance of about 1 in 10^25;
 *  - the fingerprint's first 64 bits, compared with the baseline's: a
 *    changed part whose new fingerprint starts like the old one (1 in
 *    2^64) would be missed;
 *  - where its row is (seq), read again for a part that is written.
 *
 * 32 bytes per part, a third more slots than parts: ~170 MiB at 4M parts.
 * When the baseline is empty, or too much changed (a quarter of the
 * generation), or the table cannot be had, the SQL way is the better one
 * and full_merge leaves it to it, having written nothing.
 */
struct fm_ent {
	uint64_t k_hi, k_lo;
	uint64_t fp;
	uint32_t off;   /* seq - the generation's first seq */
	uint32_t flags; /* FM_* */
};

enum { FM_USED = 1, FM_DELETED = 2, FM_SEEN = 4, FM_WRITE = 8 };

struct fm_table {
	struct fm_ent *e;
	size_t cap;
	const char *last_part; /* the part name the seed is of */
	size_t last_len;
	uint64_t seed;
};

static void
fm_key(struct fm_table *t, const char *part, size_t plen, const char *id, size_t idlen,
       uint64_t *hi, uint64_t *lo)
{
	if (t->last_part == NULL || plen != t->last_len || memcmp(part, t->last_part, plen) != 0) {
		t->seed = XXH3_64bits(part, plen);
		/* the part names are few: a static name stands for the text
		 * the seed is of (none for a name this library does not know:
		 * its seed is computed for each row) */
		t->last_part = NULL;
		for (int p = 1; p < CML_PART_COUNT; p++) {
			const char *name = cml_part_name((cml_part)p);
			if (strlen(name) == plen && memcmp(name, part, plen) == 0) {
				t->last_part = name;
				t->last_len = plen;
			}
		}
	}
	XXH128_hash_t h = XXH3_128bits_withSeed(id, idlen, t->seed);
	*hi = h.high64;
	*lo = h.low64;
}

/* The entry of the key, or the empty slot where it goes. */
static struct fm_ent *
fm_find(struct fm_table *t, uint64_t hi, uint64_t lo)
{
	size_t i = (size_t)(((unsigned __int128)lo * t->cap) >> 64);

	for (;;) {
		struct fm_ent *e = &t->e[i];
		if (!(e->flags & FM_USED) || (e->k_hi == hi && e->k_lo == lo))
			return e;
		if (++i == t->cap)
			i = 0;
	}
}

static uint64_t
fp_head(const unsigned char *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Reads the generation into the table (a later row of a key replaces an
 * earlier one, as in the SQL way). */
static cml_status
fm_read_gen(cml_store *s, int64_t gen, int64_t first, int64_t last, struct fm_table *t)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_FA_ROWS, &st);
	int rc;

	if (q == NULL)
		return st;
	sqlite3_bind_int64(q, 1, gen);
	sqlite3_bind_int64(q, 2, first);
	sqlite3_bind_int64(q, 3, last);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *part = (const char *)sqlite3_column_text(q, 1);
		const char *id = (const char *)sqlite3_column_text(q, 2);
		const unsigned char *fp = sqlite3_column_blob(q, 3);
		bool deleted = sqlite3_column_int(q, 4) != 0;
		uint64_t hi, lo;

		if (part == NULL || id == NULL) {
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
			break;
		}
		if (!deleted && (fp == NULL || sqlite3_column_bytes(q, 3) != 16)) {
			st = store_fail(s, CML_ERR_IO,
			                "generation %" PRId64 ": %s %s: the fingerprint is not 16 "
			                "bytes",
			                gen, part, id);
			break;
		}
		fm_key(t, part, (size_t)sqlite3_column_bytes(q, 1), id,
		       (size_t)sqlite3_column_bytes(q, 2), &hi, &lo);
		struct fm_ent *e = fm_find(t, hi, lo);
		*e = (struct fm_ent){ hi, lo, deleted ? 0 : fp_head(fp),
			              (uint32_t)(sqlite3_column_int64(q, 0) - first),
			              FM_USED | (deleted ? FM_DELETED : 0) };
	}
	if (st == CML_OK && rc != SQLITE_DONE)
		st = store_db_fail(s, "cannot read the generation");
	sqlite3_reset(q);
	return st;
}

/* Reads the baseline against the table: marks what it has, what changed
 * (FM_WRITE), and collects the parts the generation lacks into gone
 * ("part\0id\0" each), up to limit changes in all (*over: more). */
static cml_status
fm_read_base(cml_store *s, struct fm_table *t, cml_buf *gone, size_t limit, size_t *n,
             bool *over)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_FA_BASE, &st);
	int rc;

	if (q == NULL)
		return st;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *part = (const char *)sqlite3_column_text(q, 0);
		const char *id = (const char *)sqlite3_column_text(q, 1);
		const unsigned char *fp = sqlite3_column_blob(q, 2);
		size_t plen = (size_t)sqlite3_column_bytes(q, 0);
		size_t idlen = (size_t)sqlite3_column_bytes(q, 1);
		uint64_t hi, lo;

		if (part == NULL || id == NULL) {
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
			break;
		}
		if (fp == NULL || sqlite3_column_bytes(q, 2) != 16)
			continue; /* not a part (NULL only inside an acknowledgement) */
		fm_key(t, part, plen, id, idlen, &hi, &lo);
		struct fm_ent *e = fm_find(t, hi, lo);
		if (e->flags & FM_USED) {
			e->flags |= FM_SEEN;
			if ((e->flags & FM_DELETED) || e->fp != fp_head(fp)) {
				e->flags |= FM_WRITE;
				++*n;
			}
		} else {
			if (!cml_buf_append(gone, part, plen + 1) ||
			    !cml_buf_append(gone, id, idlen + 1)) {
				st = store_fail(s, CML_ERR_NOMEM, "out of memory");
				break;
			}
			++*n;
		}
		if (*n > limit) {
			*over = true;
			break;
		}
	}
	if (st == CML_OK && !*over && rc != SQLITE_DONE)
		st = store_db_fail(s, "cannot read the baseline");
	sqlite3_reset(q);
	return st;
}

/* Writes the changes: deletes what is gone, then each part to write in
 * the order it was recorded. */
static cml_status
fm_write(cml_store *s, int64_t gen, int64_t first, const cml_buf *gone, const uint32_t *offs,
         size_t n_offs)
{
	cml_status st = CML_OK;
	sqlite3_stmt *q, *w;

	for (size_t at = 0; st == CML_OK && at < gone->len;) {
		const char *part = gone->data + at;
		const char *id = part + strlen(part) + 1;
		at = (size_t)(id - gone->data) + strlen(id) + 1;
		if ((q = query(s, SQ_FA_DEL, &st)) == NULL)
			break;
		sqlite3_bind_text(q, 1, part, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
		st = store_step_done(s, q, "cannot delete from the baseline");
	}
	for (size_t i = 0; st == CML_OK && i < n_offs; i++) {
		if ((q = query(s, SQ_FA_ROW, &st)) == NULL)
			break;
		sqlite3_bind_int64(q, 1, first + offs[i]);
		if (sqlite3_step(q) != SQLITE_ROW) {
			st = store_db_fail(s, "cannot read the generation");
			sqlite3_reset(q);
			break;
		}
		bool deleted = sqlite3_column_int(q, 3) != 0;
		if ((w = query(s, deleted ? SQ_FA_DEL : SQ_FA_PUT, &st)) == NULL) {
			sqlite3_reset(q);
			break;
		}
		/* the row's values stay valid until q is reset */
		sqlite3_bind_value(w, 1, sqlite3_column_value(q, 0));
		sqlite3_bind_value(w, 2, sqlite3_column_value(q, 1));
		if (!deleted) {
			sqlite3_bind_value(w, 3, sqlite3_column_value(q, 2));
			sqlite3_bind_int64(w, 4, gen);
		}
		st = store_step_done(s, w, "cannot update the baseline");
		sqlite3_reset(q);
	}
	return st;
}

/* The acknowledgement of the full generation gen by what changed only
 * (above); *done false when it is left to the SQL way, nothing written. */
static cml_status
full_merge(cml_store *s, int64_t gen, bool *done)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_FA_ANY, &st);
	int64_t first = 0, last = 0, count = 0;
	bool any = false;

	*done = false;
	if (q == NULL)
		return st;
	if (sqlite3_step(q) == SQLITE_ROW)
		any = sqlite3_column_int(q, 0) != 0;
	else
		st = store_db_fail(s, "cannot read the baseline");
	sqlite3_reset(q);
	if (st != CML_OK || !any || (q = query(s, SQ_FA_RANGE, &st)) == NULL)
		return st;
	sqlite3_bind_int64(q, 1, gen);
	if (sqlite3_step(q) == SQLITE_ROW) {
		first = sqlite3_column_int64(q, 0);
		last = sqlite3_column_int64(q, 1);
		count = sqlite3_column_int64(q, 2);
	} else {
		st = store_db_fail(s, "cannot read the generation");
	}
	sqlite3_reset(q);
	if (st != CML_OK || count == 0 || last - first >= (int64_t)UINT32_MAX ||
	    (uint64_t)count > SIZE_MAX / 2 / sizeof(struct fm_ent))
		return st;

	struct fm_table t = { .cap = (size_t)count + (size_t)count / 3 + 1 };
	t.e = cml_calloc(t.cap, sizeof(*t.e));
	if (t.e == NULL)
		return CML_OK; /* the SQL way needs no table */
	cml_buf gone = { 0 };
	uint32_t *offs = NULL;
	size_t n = 0, n_offs = 0, limit = (size_t)count / 4 + 16;
	bool over = false;

	st = fm_read_gen(s, gen, first, last, &t);
	if (st == CML_OK)
		st = fm_read_base(s, &t, &gone, limit, &n, &over);
	/* the parts the baseline lacks are new */
	for (size_t i = 0; st == CML_OK && !over && i < t.cap; i++)
		if ((t.e[i].flags & (FM_USED | FM_SEEN | FM_DELETED)) == FM_USED) {
			t.e[i].flags |= FM_WRITE;
			over = ++n > limit;
		}
	if (st == CML_OK && !over && n > 0 &&
	    (offs = cml_malloc((n + 1) * sizeof(*offs))) == NULL)
		st = store_fail(s, CML_ERR_NOMEM, "out of memory");
	for (size_t i = 0; st == CML_OK && !over && i < t.cap; i++)
		if (t.e[i].flags & FM_WRITE)
			offs[n_offs++] = t.e[i].off;
	cml_free(t.e);
	if (st == CML_OK && !over) {
		if (n_offs > 1)
			qsort(offs, n_offs, sizeof(*offs), cmp_u32);
		st = fm_write(s, gen, first, &gone, offs, n_offs);
		*done = st == CML_OK;
	}
	cml_free(offs);
	cml_buf_free(&gone);
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
	/* a savepoint, so a failed ack leaves the run's other work usable */
	if ((st = store_exec(s, "SAVEPOINT ack", "cannot acknowledge")) != CML_OK)
		return st;
	/* a full generation is the whole catalog; a delta changes some of it */
	bool merged = false;
	if (full)
		st = full_merge(s, gen, &merged);
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
		st = prune(s, gen, full);
	if (st == CML_OK)
		return store_exec(s, "RELEASE ack", "cannot acknowledge");
	if (!sqlite3_get_autocommit(s->db)) {
		(void)sqlite3_exec(s->db, "ROLLBACK TO ack", NULL, NULL, NULL);
		(void)sqlite3_exec(s->db, "RELEASE ack", NULL, NULL, NULL);
	}
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
