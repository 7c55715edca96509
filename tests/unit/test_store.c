/*
 * test_store.c: the SQLite store (lib/store.c): file mode, schema and
 * migrations, generations and acknowledgement, the run lock between
 * processes, a run killed in the middle, allocation failures.
 *
 * "test_store --bench [N]" times gen_put and baseline_get on N parts
 * (default 1000000) instead of running the tests.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cml/generations.h"
#include "cml/register.h"
#include "cml/store.h"
#include "harness.h"

static char tmpdir[64];
static int dbcount;

/* A fresh database path in the test directory. */
static void
new_path(char *out, size_t cap)
{
	snprintf(out, cap, "%s/db%d.sqlite", tmpdir, ++dbcount);
}


/* One integer (or -1) from a query run on its own connection. */
static long long
sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

/* One text value (or "") from a query, into out. */
static const char *
sql_text(const char *path, const char *sql, char *out, size_t cap)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;

	out[0] = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0) != NULL)
		snprintf(out, cap, "%s", (const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
	return out;
}

static bool
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
	          sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(db);
	return ok;
}

static cml_store *
open_db(const char *path, unsigned wait_ms)
{
	cml_store_opts o = { .lock_wait_ms = wait_ms };
	char err[512];
	cml_status st;
	cml_store *s = cml_store_open(path, &o, &st, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "open %s: %s\n", path, err);
	return s;
}

static cml_fp
fp_of(uint64_t v)
{
	cml_fp f = { .hi = v * 0x9E3779B97F4A7C15ull, .lo = ~v };
	return f;
}

static bool
base_is(cml_store *s, cml_part part, const char *id, uint64_t v)
{
	cml_fp f;

	return cml_store_baseline_get(s, part, id, &f) == CML_OK && cml_fp_equal(f, fp_of(v));
}

static bool
base_lacks(cml_store *s, cml_part part, const char *id)
{
	cml_fp f;

	return cml_store_baseline_get(s, part, id, &f) == CML_END;
}

/* ---- file, schema, modes ---- */

static void
test_create(void)
{
	char path[128], side[160], mode[32];
	struct stat sb;
	mode_t old = umask(0);

	new_path(path, sizeof(path));
	cml_store *s = open_db(path, 0);
	CHECK(s != NULL);
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	snprintf(side, sizeof(side), "%s-wal", path);
	CHECK(stat(side, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	/* a run creates the lock file, private too */
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	snprintf(side, sizeof(side), "%s.lock", path);
	CHECK(stat(side, &sb) == 0 && (sb.st_mode & 0077) == 0);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	umask(old);
	CHECK_INT(cml_store_schema_version(), 7);
	CHECK_INT(sql_int(path, "PRAGMA user_version"), cml_store_schema_version());
	CHECK_STR(sql_text(path, "PRAGMA journal_mode", mode, sizeof(mode)), "wal");
	CHECK_INT(sql_int(path, "SELECT value FROM meta WHERE key = 'baseline_gen'"), 0);
	int64_t g = -1;
	CHECK(cml_store_baseline_gen(s, &g) == CML_OK);
	CHECK_INT(g, 0);
	cml_store_close(s);

	/* reopen: no migration, same file */
	s = open_db(path, 0);
	CHECK(s != NULL);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM runs"), 1);
	cml_store_close(s);
	cml_store_close(NULL);
}

static void
test_default_path(void)
{
	setenv("CMLKIT_DB", "", 1);
	CHECK_STR(cml_store_default_path(), "cmlkit.db");
	setenv("CMLKIT_DB", "/var/lib/x.db", 1);
	CHECK_STR(cml_store_default_path(), "/var/lib/x.db");
	unsetenv("CMLKIT_DB");
	CHECK_STR(cml_store_default_path(), "cmlkit.db");
}

static void
test_newer_schema(void)
{
	char path[128], err[512];
	cml_status st;
	cml_store_opts o = { 0 };

	new_path(path, sizeof(path));
	cml_store *s = open_db(path, 0);
	CHECK(s != NULL);
	cml_store_close(s);
	CHECK(sql_exec(path, "PRAGMA user_version = 99"));
	s = cml_store_open(path, &o, &st, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(st, CML_ERR_FORMAT);
	CHECK(strstr(err, path) != NULL);
	CHECK(strstr(err, "schema version 99, newer") != NULL);
	o.read_only = true;
	s = cml_store_open(path, &o, &st, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(st, CML_ERR_FORMAT);

	/* someone else's database is not taken over */
	new_path(path, sizeof(path));
	CHECK(sql_exec(path, "CREATE TABLE t(x)"));
	o.read_only = false;
	s = cml_store_open(path, &o, &st, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(st, CML_ERR_FORMAT);
	CHECK(strstr(err, "not a cmlkit database") != NULL);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sqlite_schema"), 1);

	/* not SQLite at all */
	new_path(path, sizeof(path));
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f != NULL) {
		for (int i = 0; i < 200; i++)
			fputs("this is not a database\n", f);
		fclose(f);
	}
	s = cml_store_open(path, &o, &st, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(st, CML_ERR_IO);
	CHECK(strstr(err, path) != NULL);
}

static void
test_read_only(void)
{
	char path[128], err[512];
	cml_status st = CML_OK;
	cml_store_opts o = { .read_only = true };
	struct stat sb;

	new_path(path, sizeof(path));
	cml_store *s = cml_store_open(path, &o, &st, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(st, CML_ERR_IO);
	CHECK(strstr(err, path) != NULL);
	CHECK(strstr(err, "No such file") != NULL);
	CHECK(stat(path, &sb) != 0); /* not created */

	/* an empty file is not migrated by a read-only open */
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f != NULL)
		fclose(f);
	s = cml_store_open(path, &o, &st, err, sizeof(err));
	CHECK(s == NULL);
	CHECK_INT(st, CML_ERR_STATE);
	CHECK_INT(sql_int(path, "PRAGMA user_version"), 0);

	/* an existing database reads; no run can start */
	unlink(path);
	s = open_db(path, 0);
	CHECK(s != NULL && cml_store_run_begin(s, "t") == CML_OK);
	int64_t g = 0;
	CHECK(cml_store_gen_new(s, CML_GEN_FULL, "pkg", &g) == CML_OK);
	cml_fp fp = fp_of(1);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "p1", &fp, false) == CML_OK);
	CHECK(cml_store_gen_ack(s, g) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_store_close(s);
	s = cml_store_open(path, &o, &st, err, sizeof(err));
	CHECK(s != NULL);
	if (s != NULL) {
		CHECK(base_is(s, CML_PART_PRODUCT, "p1", 1));
		CHECK_INT(cml_store_run_begin(s, "t"), CML_ERR_STATE);
		CHECK(strstr(cml_store_errmsg(s), "read-only") != NULL);
		cml_store_close(s);
	}
}

/* ---- generations and the baseline ---- */

static void
test_full_ack(void)
{
	char path[128];
	int64_t g = 0, b = -1;
	cml_fp f;

	new_path(path, sizeof(path));
	cml_store *s = open_db(path, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "full-export") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_FULL, "/srv/out/full", &g) == CML_OK);
	CHECK(g > 0);
	f = fp_of(10);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "b", &f, false) == CML_OK);
	f = fp_of(11);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "a", &f, false) == CML_OK);
	f = fp_of(12);
	CHECK(cml_store_gen_put(s, g, CML_PART_OFFER_PRICES, "a", &f, false) == CML_OK);
	f = fp_of(13);
	CHECK(cml_store_gen_put(s, g, CML_PART_GROUP, "g1", &f, false) == CML_OK);
	/* a second put of the same part replaces the first */
	f = fp_of(14);
	CHECK(cml_store_gen_put(s, g, CML_PART_GROUP, "g1", &f, false) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_UNIT, "u-gone", NULL, true) == CML_OK);
	CHECK_INT(cml_store_gen_put(s, g, CML_PART_NONE, "x", &f, false), CML_ERR_USAGE);
	CHECK_INT(cml_store_gen_put(s, g, CML_PART_UNIT, "x", NULL, false), CML_ERR_USAGE);
	CHECK_INT(cml_store_gen_put(s, g + 5, CML_PART_UNIT, "x", &f, false), CML_ERR_VALUE);
	CHECK(cml_store_run_commit(s, "ok", "{\"written\":4}") == CML_OK);

	/* pending: the baseline is still empty */
	CHECK(base_lacks(s, CML_PART_PRODUCT, "a"));
	cml_gen_info gi;
	CHECK(cml_store_gen_info(s, g, &gi) == CML_OK);
	CHECK_INT(gi.gen, g);
	CHECK_INT(gi.kind, CML_GEN_FULL);
	CHECK_STR(gi.package, "/srv/out/full");
	CHECK(gi.created != NULL && strlen(gi.created) == 20 && gi.created[19] == 'Z');
	CHECK(gi.acked == NULL);
	CHECK_INT(gi.parts, 6); /* rows recorded, the replaced one too */
	CHECK_INT(cml_store_gen_info(s, g + 1, &gi), CML_END);

	/* recording into a generation of an earlier run is refused */
	CHECK(cml_store_run_begin(s, "x") == CML_OK);
	CHECK_INT(cml_store_gen_put(s, g, CML_PART_UNIT, "x", &f, false), CML_ERR_STATE);
	cml_store_run_rollback(s);

	CHECK(cml_store_run_begin(s, "catalog-push") == CML_OK);
	CHECK(cml_store_gen_ack(s, g) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_baseline_gen(s, &b) == CML_OK);
	CHECK_INT(b, g);
	CHECK(base_is(s, CML_PART_PRODUCT, "a", 11));
	CHECK(base_is(s, CML_PART_PRODUCT, "b", 10));
	CHECK(base_is(s, CML_PART_OFFER_PRICES, "a", 12));
	CHECK(base_is(s, CML_PART_GROUP, "g1", 14));
	CHECK(base_lacks(s, CML_PART_UNIT, "u-gone"));
	CHECK(base_lacks(s, CML_PART_OFFER_CARD, "a"));
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline"), 4);
	CHECK(cml_store_gen_info(s, g, &gi) == CML_OK && gi.acked != NULL);

	/* iteration: one part, Ид order, with lookups in between */
	void *cur = NULL;
	const char *id = NULL;
	CHECK(cml_store_baseline_next(s, CML_PART_PRODUCT, &cur, &id) == CML_OK);
	CHECK_STR(id, "a");
	CHECK(base_is(s, CML_PART_GROUP, "g1", 14));
	CHECK(cml_store_baseline_next(s, CML_PART_PRODUCT, &cur, &id) == CML_OK);
	CHECK_STR(id, "b");
	CHECK_INT(cml_store_baseline_next(s, CML_PART_PRODUCT, &cur, &id), CML_END);
	CHECK_INT(cml_store_baseline_next(s, CML_PART_PRODUCT, &cur, &id), CML_END);
	cml_store_baseline_end(s, &cur);
	CHECK(cur == NULL);
	CHECK_INT(cml_store_baseline_next(s, CML_PART_WAREHOUSE, &cur, &id), CML_END);
	cml_store_baseline_end(s, &cur);
	/* abandoned half-way */
	CHECK(cml_store_baseline_next(s, CML_PART_PRODUCT, &cur, &id) == CML_OK);
	cml_store_baseline_end(s, &cur);
	cml_store_baseline_end(s, &cur);

	/* the same generation again, or an unknown one */
	CHECK(cml_store_run_begin(s, "catalog-push") == CML_OK);
	CHECK_INT(cml_store_gen_ack(s, g), CML_END);
	CHECK(strstr(cml_store_errmsg(s), "already acknowledged") != NULL);
	CHECK_INT(cml_store_gen_ack(s, 999), CML_ERR_VALUE);
	cml_store_run_rollback(s);

	/* the part names are readable text */
	char txt[64];
	CHECK_STR(sql_text(path, "SELECT group_concat(part) FROM (SELECT DISTINCT part "
	                         "FROM baseline ORDER BY part)", txt, sizeof(txt)),
	          "group,offer_prices,product");
	CHECK_INT(sql_int(path, "SELECT length(fp) FROM baseline LIMIT 1"), 16);
	/* 10 * 0x9E3779B97F4A7C15 mod 2^64, then ~10: hi then lo, big-endian */
	CHECK_STR(sql_text(path, "SELECT hex(fp) FROM baseline WHERE id = 'b'", txt, sizeof(txt)),
	          "2E2AC13EF8E8D8D2FFFFFFFFFFFFFFF5");
	CHECK_STR(sql_text(path, "SELECT counts FROM runs WHERE program = 'full-export'", txt,
	                   sizeof(txt)),
	          "{\"written\":4}");
	cml_store_close(s);
}

/* A full generation 1 acknowledged: a 1, b 2, c 3 (products), a 4 (prices). */
static cml_store *
with_baseline(char *path, size_t cap)
{
	int64_t g = 0;
	cml_fp f;

	new_path(path, cap);
	cml_store *s = open_db(path, 0);
	if (s == NULL || cml_store_run_begin(s, "full-export") != CML_OK ||
	    cml_store_gen_new(s, CML_GEN_FULL, "full", &g) != CML_OK)
		return s;
	const char *ids[] = { "a", "b", "c" };
	for (int i = 0; i < 3; i++) {
		f = fp_of((uint64_t)i + 1);
		if (cml_store_gen_put(s, g, CML_PART_PRODUCT, ids[i], &f, false) != CML_OK)
			return s;
	}
	f = fp_of(4);
	if (cml_store_gen_put(s, g, CML_PART_OFFER_PRICES, "a", &f, false) != CML_OK ||
	    cml_store_gen_ack(s, g) != CML_OK || cml_store_run_commit(s, "ok", NULL) != CML_OK)
		fprintf(stderr, "with_baseline: %s\n", cml_store_errmsg(s));
	return s;
}

static void
test_delta_ack(void)
{
	char path[128];
	int64_t g = 0, b = 0;
	cml_fp f;
	cml_store *s = with_baseline(path, sizeof(path));

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_DELTA, "delta", &g) == CML_OK);
	CHECK_INT(g, 2);
	f = fp_of(20);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "b", &f, false) == CML_OK); /* changed */
	f = fp_of(21);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "d", &f, false) == CML_OK); /* new */
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "a", NULL, true) == CML_OK); /* gone */
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "zz", NULL, true) == CML_OK);
	/* the last record of a part wins: changed then deleted, and back */
	f = fp_of(22);
	CHECK(cml_store_gen_put(s, g, CML_PART_OFFER_PRICES, "e", &f, false) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_OFFER_PRICES, "e", NULL, true) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "c", NULL, true) == CML_OK);
	f = fp_of(23);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "c", &f, false) == CML_OK);
	/* the ack in the same run (--ack-on-write) */
	CHECK(cml_store_gen_ack(s, g) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	CHECK(cml_store_baseline_gen(s, &b) == CML_OK);
	CHECK_INT(b, 2);
	CHECK(base_lacks(s, CML_PART_PRODUCT, "a"));
	/* deletion of the card removes only what was recorded */
	CHECK(base_is(s, CML_PART_OFFER_PRICES, "a", 4));
	CHECK(base_is(s, CML_PART_PRODUCT, "b", 20));
	CHECK(base_is(s, CML_PART_PRODUCT, "c", 23));
	CHECK(base_is(s, CML_PART_PRODUCT, "d", 21));
	CHECK(base_lacks(s, CML_PART_OFFER_PRICES, "e"));
	CHECK_INT(sql_int(path, "SELECT gen FROM baseline WHERE id = 'b'"), 2);
	CHECK_INT(sql_int(path, "SELECT gen FROM baseline WHERE part = 'offer_prices'"), 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline WHERE fp IS NULL"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline"), 4);
	cml_store_close(s);
}

static void
test_unacked(void)
{
	char path[128];
	int64_t g2 = 0, g3 = 0, g4 = 0, b = 0;
	cml_fp f;
	cml_store *s = with_baseline(path, sizeof(path));

	CHECK(s != NULL);
	if (s == NULL)
		return;
	/* generation 2 is written, never pushed */
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_DELTA, "d2", &g2) == CML_OK);
	f = fp_of(30);
	CHECK(cml_store_gen_put(s, g2, CML_PART_PRODUCT, "b", &f, false) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(base_is(s, CML_PART_PRODUCT, "b", 2));
	CHECK(cml_store_baseline_gen(s, &b) == CML_OK);
	CHECK_INT(b, 1);

	/* generation 3 carries 2's change again, plus its own */
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_DELTA, "d3", &g3) == CML_OK);
	CHECK(g3 > g2);
	f = fp_of(30);
	CHECK(cml_store_gen_put(s, g3, CML_PART_PRODUCT, "b", &f, false) == CML_OK);
	f = fp_of(31);
	CHECK(cml_store_gen_put(s, g3, CML_PART_PRODUCT, "c", &f, false) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	CHECK(cml_store_run_begin(s, "catalog-push") == CML_OK);
	CHECK(cml_store_gen_ack(s, g3) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(base_is(s, CML_PART_PRODUCT, "b", 30));
	CHECK(base_is(s, CML_PART_PRODUCT, "c", 31));

	/* 2 is older than the baseline now; 3 is acknowledged */
	CHECK(cml_store_run_begin(s, "catalog-push") == CML_OK);
	CHECK_INT(cml_store_gen_ack(s, g2), CML_END);
	CHECK(strstr(cml_store_errmsg(s), "older than the baseline") != NULL);
	CHECK_INT(cml_store_gen_ack(s, g3), CML_END);
	CHECK_INT(cml_store_gen_ack(s, 0), CML_ERR_VALUE);
	/* the run goes on after a refused ack */
	CHECK(cml_store_gen_new(s, CML_GEN_FULL, "f4", &g4) == CML_OK);
	f = fp_of(40);
	CHECK(cml_store_gen_put(s, g4, CML_PART_WAREHOUSE, "w", &f, false) == CML_OK);
	CHECK(cml_store_gen_ack(s, g4) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	/* a full ack replaces everything */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline"), 1);
	CHECK(base_is(s, CML_PART_WAREHOUSE, "w", 40));
	CHECK(cml_store_baseline_gen(s, &b) == CML_OK);
	CHECK_INT(b, g4);
	cml_store_close(s);
}

static void
test_rollback_and_state(void)
{
	char path[128], txt[128];
	int64_t g = 0;
	cml_fp f = fp_of(1);

	new_path(path, sizeof(path));
	cml_store *s = open_db(path, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(cml_store_gen_new(s, CML_GEN_FULL, "x", &g), CML_ERR_STATE);
	CHECK_INT(cml_store_gen_put(s, 1, CML_PART_PRODUCT, "a", &f, false), CML_ERR_STATE);
	CHECK(strstr(cml_store_errmsg(s), "outside a run") != NULL);
	CHECK(strstr(cml_store_errmsg(s), path) == cml_store_errmsg(s));
	CHECK_INT(cml_store_gen_ack(s, 1), CML_ERR_STATE);
	CHECK_INT(cml_store_run_commit(s, "ok", NULL), CML_ERR_STATE);
	cml_store_run_rollback(s); /* harmless */

	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	CHECK_INT(cml_store_run_begin(s, "delta-export"), CML_ERR_STATE);
	CHECK(cml_store_gen_new(s, CML_GEN_FULL, "x", &g) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "a", &f, false) == CML_OK);
	CHECK(cml_store_gen_ack(s, g) == CML_OK);
	cml_store_run_rollback(s);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM generations"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM gen_parts"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM runs"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline"), 0);
	CHECK(base_lacks(s, CML_PART_PRODUCT, "a"));

	/* a handle closed in the middle of a run rolls it back */
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_FULL, "x", &g) == CML_OK);
	cml_store_close(s);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM generations"), 0);

	/* counts that are not JSON are kept as a JSON string */
	s = open_db(path, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK(cml_store_run_commit(s, "partial", "3 skipped") == CML_OK);
	CHECK_STR(sql_text(path, "SELECT counts FROM runs", txt, sizeof(txt)), "\"3 skipped\"");
	CHECK_STR(sql_text(path, "SELECT outcome FROM runs", txt, sizeof(txt)), "partial");
	CHECK_INT(sql_int(path, "SELECT json_valid(counts) FROM runs"), 1);
	CHECK_INT(sql_int(path, "SELECT ended >= started FROM runs"), 1);
	cml_store_close(s);
}

/* ---- the run lock between processes ---- */

/*
 * A child that holds a run on path: it writes its pid to the parent when
 * it has the lock, then holds it until the parent writes a byte (or for
 * hold_ms when hold_ms > 0), commits, and exits.
 */
static pid_t
spawn_holder(const char *path, long hold_ms, int *to_child, int *from_child)
{
	int up[2], down[2];

	if (pipe(up) != 0 || pipe(down) != 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(up[0]);
		close(down[1]);
		cml_store *s = open_db(path, 0);
		char c = 'x';
		if (s == NULL || cml_store_run_begin(s, "holder") != CML_OK)
			_exit(1);
		if (write(up[1], &c, 1) != 1)
			_exit(1);
		if (hold_ms > 0) {
			struct timespec ts = { hold_ms / 1000, (hold_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		} else if (read(down[0], &c, 1) < 0) {
			_exit(1);
		}
		cml_status st = cml_store_run_commit(s, "ok", NULL);
		cml_store_close(s);
		_exit(st == CML_OK ? 0 : 1);
	}
	close(up[1]);
	close(down[0]);
	*to_child = down[1];
	*from_child = up[0];
	char c;
	if (read(up[0], &c, 1) != 1)
		return -1;
	return pid;
}

static int
reap(pid_t pid)
{
	int ws = 0;

	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	return ws;
}

/* Packages: a generation's files and finding it by directory. */
static void
test_gen_files(void)
{
	char path[128];
	int64_t g1 = 0, g2 = 0, found = 0;
	cml_gen_info gi;
	cml_store *s;

	new_path(path, sizeof(path));
	s = open_db(path, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(cml_store_gen_find(s, "/pkg", &found), CML_END);
	CHECK(cml_store_run_begin(s, "full-export") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_FULL, "/pkg", &g1) == CML_OK);
	CHECK(cml_store_gen_set_files(s, g1, "import.xml\t10\t1\n") == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_gen_find(s, "/pkg", &found) == CML_OK);
	CHECK_INT(found, g1);
	CHECK(cml_store_gen_info(s, g1, &gi) == CML_OK);
	CHECK_STR(gi.files, "import.xml\t10\t1\n");

	/* a later run writing to the same directory: the newest wins */
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_DELTA, "/pkg", &g2) == CML_OK);
	/* an earlier run's generation cannot change any more */
	CHECK_INT(cml_store_gen_set_files(s, g1, "x"), CML_ERR_STATE);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_gen_find(s, "/pkg", &found) == CML_OK);
	CHECK_INT(found, g2);
	CHECK(cml_store_gen_info(s, g2, &gi) == CML_OK);
	CHECK(gi.files == NULL);
	CHECK_INT(cml_store_gen_find(s, "/other", &found), CML_END);
	/* outside a run nothing is written */
	CHECK(cml_store_gen_set_files(s, g2, "x") != CML_OK);
	cml_store_close(s);
}

/* A database of schema version 1 is migrated: the files column appears. */
static void
test_migrate_v1(void)
{
	char path[128], err[256];

	new_path(path, sizeof(path));
	CHECK(sql_exec(path,
	               "CREATE TABLE runs (id INTEGER PRIMARY KEY, program TEXT NOT NULL,"
	               " pid INTEGER, started TEXT NOT NULL, ended TEXT, outcome TEXT,"
	               " counts TEXT);"
	               "CREATE TABLE generations (gen INTEGER PRIMARY KEY AUTOINCREMENT,"
	               " kind TEXT NOT NULL CHECK (kind IN ('full','delta')), package TEXT,"
	               " created TEXT NOT NULL, acked TEXT, run INTEGER REFERENCES runs(id));"
	               "CREATE TABLE gen_parts (seq INTEGER PRIMARY KEY, gen INTEGER NOT NULL,"
	               " part TEXT NOT NULL, id TEXT NOT NULL, fp BLOB,"
	               " deleted INTEGER NOT NULL DEFAULT 0);"
	               "CREATE TABLE baseline (part TEXT NOT NULL, id TEXT NOT NULL, fp BLOB,"
	               " gen INTEGER NOT NULL, PRIMARY KEY (part, id)) WITHOUT ROWID;"
	               "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
	               "INSERT INTO meta VALUES ('baseline_gen', '0');"
	               "INSERT INTO generations(kind, package, created) "
	               " VALUES ('full', '/old', '2026-01-01T00:00:00Z');"
	               "PRAGMA user_version = 1;"));
	cml_store_opts o = { 0 };
	cml_status st;
	cml_store *s = cml_store_open(path, &o, &st, err, sizeof(err));
	CHECK(s != NULL);
	CHECK_INT(sql_int(path, "PRAGMA user_version"), cml_store_schema_version());
	CHECK_INT(sql_int(path, "SELECT count(*) FROM generations WHERE files IS NULL"), 1);
	/* schema 3: an old pending generation is pending, not superseded */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM generations WHERE superseded IS NULL "
	                        "AND superseded_run IS NULL"), 1);
	int64_t g = 0;
	CHECK(s != NULL && cml_store_gen_find(s, "/old", &g) == CML_OK);
	CHECK_INT(g, 1);
	cml_store_close(s);
}

/*
 * A database of schema version 4 (the order ledger, no register) is
 * migrated to 5 and on: the register's tables appear empty, the ledger
 * and the run log are kept. The version-4 file is made by dropping what
 * migrations 5 to 7 create, which leaves exactly migrations 1-4.
 */
static void
test_migrate_v4(void)
{
	char path[128], err[512];
	cml_status st;

	new_path(path, sizeof(path));
	cml_store *s = open_db(path, 0);
	CHECK(s != NULL);
	cml_store_close(s);
	CHECK(sql_exec(path,
	               "DROP VIEW status_map_now; DROP TABLE status_map; DROP TABLE order_steps;"
	               "DROP TABLE order_progress; DROP INDEX orders_id; DROP INDEX orders_number;"
	               "DROP TABLE cp_matched; DROP TABLE cp_reviews; DROP TABLE cp_aliases;"
	               "DROP TABLE cp_contacts; DROP TABLE cp_persons; DROP TABLE cp_cards;"
	               "ALTER TABLE generations DROP COLUMN pruned;"
	               "ALTER TABLE generations DROP COLUMN pruned_parts;"
	               "INSERT INTO runs VALUES (1, 'orders-pull', 1, '2026-01-01T00:00:00Z',"
	               " '2026-01-01T00:00:01Z', 'ok', NULL);"
	               "INSERT INTO orders(site, id, number, first_stored, revision, fp)"
	               " VALUES ('shop', 'o1', '1', '2026-01-01T00:00:00Z', 1, zeroblob(16));"
	               "PRAGMA user_version = 4;"));
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE name LIKE 'cp_%'"), 0);
	/* read-only, it is not upgraded */
	cml_store_opts ro = { .read_only = true };
	s = cml_store_open(path, &ro, &st, err, sizeof(err));
	CHECK(s == NULL);
	CHECK(strstr(err, "needs an upgrade to schema version 7") != NULL);
	s = open_db(path, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(sql_int(path, "PRAGMA user_version"), 7);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
	                        "name LIKE 'cp_%'"),
	          6);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cp_cards"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM orders"), 1);
	CHECK(cml_store_run_begin(s, "cp-match") == CML_OK);
	CHECK_INT(cml_store_run_id(s), 2);
	cml_cp_card c = { .id = "A", .name = "Ромашка", .inn = "7707083893" };
	CHECK(cml_register_put(s, &c, NULL) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_store_close(s);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cp_cards WHERE run = 2 AND "
	                        "inn_key = '7707083893'"),
	          1);
	/* the indexes the register's lookups use */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND "
	                        "name IN ('cp_cards_inn', 'cp_cards_head', 'cp_contacts_one', "
	                        "'cp_contacts_key', 'cp_aliases_card', 'cp_reviews_number', "
	                        "'cp_reviews_order')"),
	          7);
}

/*
 * A later export run supersedes what is still pending from earlier runs,
 * even a run that records no generation; a superseded generation is
 * never acknowledged, and the baseline stays as it was.
 */
static void
test_supersede(void)
{
	char path[128];
	int64_t g2 = 0, g3 = 0, g4 = 0, g5 = 0, b = 0, n = -1;
	cml_gen_info gi;
	cml_fp f;
	cml_store *s = with_baseline(path, sizeof(path));

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(cml_store_gen_supersede(s, &n), CML_ERR_STATE); /* outside a run */
	/* generation 2: a delta whose push failed */
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_DELTA, "/pkg", &g2) == CML_OK);
	f = fp_of(50);
	CHECK(cml_store_gen_put(s, g2, CML_PART_PRODUCT, "b", &f, false) == CML_OK);
	CHECK(cml_store_gen_put(s, g2, CML_PART_PRODUCT, "a", NULL, true) == CML_OK);
	/* the run's own generation is not superseded by itself */
	CHECK(cml_store_gen_supersede(s, &n) == CML_OK);
	CHECK_INT(n, 0);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_gen_info(s, g2, &gi) == CML_OK);
	CHECK(gi.superseded == NULL && gi.superseded_by == NULL);

	/* the source reverted: the next delta run writes nothing */
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	CHECK(cml_store_gen_supersede(s, &n) == CML_OK);
	CHECK_INT(n, 1);
	CHECK(cml_store_run_commit(s, "nothing", NULL) == CML_OK);
	CHECK(cml_store_gen_info(s, g2, &gi) == CML_OK);
	CHECK(gi.superseded != NULL && gi.acked == NULL);
	CHECK_STR(gi.superseded_by, "delta-export");

	/* its push is refused: the baseline keeps a and b as they were */
	CHECK(cml_store_run_begin(s, "catalog-push") == CML_OK);
	CHECK_INT(cml_store_gen_ack(s, g2), CML_ERR_STATE);
	CHECK(strstr(cml_store_errmsg(s), "superseded") != NULL);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(base_is(s, CML_PART_PRODUCT, "a", 1));
	CHECK(base_is(s, CML_PART_PRODUCT, "b", 2));
	CHECK(cml_store_baseline_gen(s, &b) == CML_OK);
	CHECK_INT(b, 1);

	/* a rolled back run supersedes nothing */
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_DELTA, "/pkg", &g3) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	CHECK(cml_store_gen_supersede(s, &n) == CML_OK);
	CHECK_INT(n, 1);
	cml_store_run_rollback(s);
	CHECK(cml_store_gen_info(s, g3, &gi) == CML_OK);
	CHECK(gi.superseded == NULL);

	/* a full export supersedes a pending delta; what is superseded or
	 * acknowledged stays so */
	CHECK(cml_store_run_begin(s, "full-export") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_FULL, "/full", &g4) == CML_OK);
	CHECK(cml_store_gen_supersede(s, &n) == CML_OK);
	CHECK_INT(n, 1);
	CHECK(cml_store_gen_ack(s, g4) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_gen_info(s, g3, &gi) == CML_OK);
	CHECK_STR(gi.superseded_by, "full-export");
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_DELTA, "/pkg", &g5) == CML_OK);
	CHECK(cml_store_gen_supersede(s, &n) == CML_OK);
	CHECK_INT(n, 0);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_gen_info(s, g4, &gi) == CML_OK);
	CHECK(gi.superseded == NULL && gi.acked != NULL);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM generations WHERE superseded IS NOT NULL"),
	          2);
	cml_store_close(s);
}

/* Products and offers of the baseline, each Ид once. */
static void
test_baseline_items(void)
{
	char path[128];
	int64_t g = 0, n = -1;
	cml_fp f = fp_of(7);

	new_path(path, sizeof(path));
	cml_store *s = open_db(path, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(cml_store_baseline_items(s, CML_ITEM_OFFER, &n) == CML_OK);
	CHECK_INT(n, 0);
	CHECK(cml_store_run_begin(s, "full-export") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_FULL, "/p", &g) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "p1", &f, false) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "p2", &f, false) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_OFFER_CARD, "o1", &f, false) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_OFFER_PRICES, "o1", &f, false) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_OFFER_STOCK, "o1", &f, false) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_OFFER_PRICES, "o2", &f, false) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_GROUP, "g1", &f, false) == CML_OK);
	CHECK(cml_store_gen_ack(s, g) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_baseline_items(s, CML_ITEM_PRODUCT, &n) == CML_OK);
	CHECK_INT(n, 2);
	CHECK(cml_store_baseline_items(s, CML_ITEM_OFFER, &n) == CML_OK);
	CHECK_INT(n, 2);
	CHECK_INT(cml_store_baseline_items(s, CML_ITEM_GROUP, &n), CML_ERR_USAGE);
	cml_store_close(s);
}

static void
test_lock_refused(void)
{
	char path[128], want[64];
	int to_child = -1, from_child = -1;

	new_path(path, sizeof(path));
	cml_store *s = open_db(path, 300);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	pid_t pid = spawn_holder(path, 0, &to_child, &from_child);
	CHECK(pid > 0);
	if (pid <= 0)
		return;

	/* opening and reading while the other run goes on do not wait */
	double t0 = now_s();
	cml_store *r = open_db(path, 300);
	CHECK(r != NULL);
	int64_t b = -1;
	CHECK(r != NULL && cml_store_baseline_gen(r, &b) == CML_OK && b == 0);
	cml_store_close(r);
	CHECK(now_s() - t0 < 0.25);

	t0 = now_s();
	cml_status st = cml_store_run_begin(s, "delta-export");
	double took = now_s() - t0;
	CHECK_INT(st, CML_ERR_BUSY);
	CHECK(took >= 0.29 && took < 1.3);
	snprintf(want, sizeof(want), "in use by PID %ld (holder) since ", (long)pid);
	CHECK(strstr(cml_store_errmsg(s), want) != NULL);
	CHECK(strstr(cml_store_errmsg(s), "gave up after 300 ms") != NULL);
	CHECK(strstr(cml_store_errmsg(s), path) == cml_store_errmsg(s));
	if (st == CML_OK)
		cml_store_run_rollback(s);

	/* the holder finishes: the next run gets in at once */
	char c = 'x';
	CHECK(write(to_child, &c, 1) == 1);
	int ws = reap(pid);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	CHECK_STR(cml_store_errmsg(s), "");
	cml_store_run_rollback(s);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM runs WHERE program = 'holder'"), 1);
	close(to_child);
	close(from_child);
	cml_store_close(s);
}

/* The lock is never opened through a link: a symbolic or hard link named
 * like the lock leaves its target as it was, and the run is refused. */
static void
test_lock_links(void)
{
	char path[128], lock[160], victim[160], buf[32];
	FILE *fp;

	new_path(path, sizeof(path));
	snprintf(lock, sizeof(lock), "%s.lock", path);
	snprintf(victim, sizeof(victim), "%s.victim", path);
	fp = fopen(victim, "w");
	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	fputs("precious\n", fp);
	fclose(fp);
	cml_store *s = open_db(path, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;

	for (int hard = 0; hard < 2; hard++) {
		CHECK((hard ? link(victim, lock) : symlink(victim, lock)) == 0);
		cml_status st = cml_store_run_begin(s, "delta-export");
		CHECK_INT(st, CML_ERR_IO);
		if (st == CML_OK)
			cml_store_run_rollback(s);
		CHECK(strstr(cml_store_errmsg(s), "refusing to use it") != NULL);
		CHECK(strstr(cml_store_errmsg(s), hard ? "hard link" : "symbolic link") != NULL);
		fp = fopen(victim, "r");
		CHECK(fp != NULL && fgets(buf, sizeof(buf), fp) != NULL);
		CHECK_STR(buf, "precious\n");
		if (fp != NULL)
			fclose(fp);
		CHECK(unlink(lock) == 0);
	}
	/* without the link, the run gets its own lock file */
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	cml_store_run_rollback(s);
	cml_store_close(s);
	unlink(victim);
}

static void
test_lock_waits(void)
{
	char path[128];
	int to_child = -1, from_child = -1;

	new_path(path, sizeof(path));
	cml_store *s = open_db(path, 5000);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	pid_t pid = spawn_holder(path, 300, &to_child, &from_child);
	CHECK(pid > 0);
	if (pid <= 0)
		return;
	double t0 = now_s();
	cml_status st = cml_store_run_begin(s, "delta-export");
	double took = now_s() - t0;
	CHECK_INT(st, CML_OK);
	CHECK(took >= 0.15 && took < 2.0);
	CHECK(strstr(cml_store_errmsg(s), "waited ") != NULL);
	CHECK(strstr(cml_store_errmsg(s), "(holder)") != NULL);
	if (st == CML_OK)
		CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	int ws = reap(pid);
	CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM runs"), 2);
	close(to_child);
	close(from_child);

	/* two handles of one process exclude each other too */
	cml_store *t = open_db(path, 100);
	CHECK(t != NULL);
	CHECK(cml_store_run_begin(s, "one") == CML_OK);
	CHECK(t != NULL && cml_store_run_begin(t, "two") == CML_ERR_BUSY);
	cml_store_run_rollback(s);
	CHECK(t != NULL && cml_store_run_begin(t, "two") == CML_OK);
	cml_store_close(t); /* rolls back and lets go */
	CHECK(cml_store_run_begin(s, "one") == CML_OK);
	cml_store_run_rollback(s);
	cml_store_close(s);
}

static void
test_killed_run(void)
{
	char path[128], txt[32];
	int up[2];

	new_path(path, sizeof(path));
	cml_store *s = with_baseline(path, sizeof(path));
	CHECK(s != NULL);
	cml_store_close(s);
	CHECK(pipe(up) == 0);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(up[0]);
		s = open_db(path, 0);
		int64_t g = 0;
		char id[32];
		if (s == NULL || cml_store_run_begin(s, "victim") != CML_OK ||
		    cml_store_gen_new(s, CML_GEN_DELTA, "d", &g) != CML_OK)
			_exit(1);
		for (int i = 0; i < 200000; i++) {
			cml_fp f = fp_of((uint64_t)i);
			snprintf(id, sizeof(id), "id-%07d", (i * 7919) % 200000);
			if (cml_store_gen_put(s, g, CML_PART_OFFER_STOCK, id, &f, false) != CML_OK)
				_exit(1);
		}
		if (cml_store_gen_ack(s, g) != CML_OK || write(up[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(up[1]);
	char c;
	CHECK(pid > 0 && read(up[0], &c, 1) == 1);
	close(up[0]);
	if (pid > 0) {
		kill(pid, SIGKILL);
		int ws = reap(pid);
		CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	}
	double t0 = now_s();
	s = open_db(path, 1000);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	int64_t b = -1;
	CHECK(cml_store_baseline_gen(s, &b) == CML_OK);
	CHECK_INT(b, 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM generations"), 1);
	/* generation 1 is acknowledged: its parts were pruned, counted */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM gen_parts"), 0);
	CHECK_INT(sql_int(path, "SELECT pruned_parts FROM generations WHERE gen = 1"), 4);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM runs WHERE program = 'victim'"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline"), 4);
	CHECK_STR(sql_text(path, "PRAGMA integrity_check", txt, sizeof(txt)), "ok");
	CHECK(base_is(s, CML_PART_PRODUCT, "b", 2));
	/* the kernel dropped the dead run's lock: no wait */
	CHECK(cml_store_run_begin(s, "after") == CML_OK);
	CHECK_STR(cml_store_errmsg(s), "");
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(now_s() - t0 < 0.9);
	cml_store_close(s);
}

/* ---- allocation failures ---- */

static void
test_alloc_failures(void)
{
	char path[128], err[512];
	cml_status st;
	cml_store *s = NULL;
	int n;

	new_path(path, sizeof(path));
	for (n = 1; n < 100; n++) {
		cml_alloc_fail_after(n);
		s = cml_store_open(path, NULL, &st, err, sizeof(err));
		cml_alloc_fail_after(0);
		if (s != NULL)
			break;
		CHECK_INT(st, CML_ERR_NOMEM);
		CHECK(strstr(err, "out of memory") != NULL);
	}
	CHECK(s != NULL && n > 1);
	if (s == NULL)
		return;

	/* the cursor and gen_info allocate too */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	int64_t g = 0;
	cml_fp f = fp_of(1);
	CHECK(cml_store_gen_new(s, CML_GEN_FULL, "pkg", &g) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "a", &f, false) == CML_OK);
	CHECK(cml_store_gen_ack(s, g) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	void *cur = NULL;
	const char *id;
	cml_alloc_fail_after(1);
	CHECK_INT(cml_store_baseline_next(s, CML_PART_PRODUCT, &cur, &id), CML_ERR_NOMEM);
	cml_alloc_fail_after(0);
	CHECK(cur == NULL);
	cml_store_baseline_end(s, &cur);
	cml_gen_info gi;
	cml_alloc_fail_after(1);
	CHECK_INT(cml_store_gen_info(s, g, &gi), CML_ERR_NOMEM);
	cml_alloc_fail_after(2);
	CHECK_INT(cml_store_gen_info(s, g, &gi), CML_ERR_NOMEM);
	cml_alloc_fail_after(0);
	CHECK(cml_store_gen_info(s, g, &gi) == CML_OK && gi.acked != NULL);
	cml_store_close(s);

	/* a read-only open that fails on memory */
	cml_store_opts ro = { .read_only = true };
	for (n = 1; n < 100; n++) {
		cml_alloc_fail_after(n);
		s = cml_store_open(path, &ro, &st, err, sizeof(err));
		cml_alloc_fail_after(0);
		if (s != NULL)
			break;
		CHECK_INT(st, CML_ERR_NOMEM);
	}
	CHECK(s != NULL);
	cml_store_close(s);

	/* no buffer for the message is fine */
	s = cml_store_open("", NULL, &st, NULL, 0);
	CHECK(s == NULL);
	CHECK_INT(st, CML_ERR_USAGE);
}

/* ---- pruning ---- */

/* One run that records a generation of kind with the products ids[i] at
 * fingerprints v0 + i, and acknowledges it when ack. 0 on failure. */
static int64_t
gen_of(cml_store *s, cml_gen_kind kind, int n, uint64_t v0, bool ack)
{
	int64_t g = 0;
	char id[16];

	if (cml_store_run_begin(s, "t") != CML_OK ||
	    cml_store_gen_new(s, kind, "pkg", &g) != CML_OK)
		return 0;
	for (int i = 0; i < n; i++) {
		cml_fp f = fp_of(v0 + (uint64_t)i);
		snprintf(id, sizeof(id), "p%d", i);
		if (cml_store_gen_put(s, g, CML_PART_PRODUCT, id, &f, false) != CML_OK)
			return 0;
	}
	if ((ack && cml_store_gen_ack(s, g) != CML_OK) ||
	    cml_store_run_commit(s, "ok", NULL) != CML_OK)
		return 0;
	return g;
}

/* The parts gen still has in gen_parts. */
static long long
rows_of(const char *path, int64_t gen)
{
	char sql[96];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM gen_parts WHERE gen = %lld",
	         (long long)gen);
	return sql_int(path, sql);
}

static bool
pruned(cml_store *s, int64_t gen, int64_t parts)
{
	cml_gen_info gi;

	return cml_store_gen_info(s, gen, &gi) == CML_OK && gi.pruned != NULL &&
	       gi.parts == parts;
}

/*
 * What an acknowledgement prunes: the generation it acknowledges, the
 * pending ones older than the baseline, the superseded ones, all but the
 * newest "keep"; a delta's acknowledgement never a full generation. The
 * generations' rows stay, marked pruned with their part count; the
 * baseline is what the acknowledgements made it.
 */
static void
test_prune(void)
{
	char path[128];
	cml_gen_info gi;

	new_path(path, sizeof(path));
	cml_store *s = open_db(path, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	/* the default keeps nothing: a full generation's own parts go */
	int64_t g1 = gen_of(s, CML_GEN_FULL, 10, 100, true);
	CHECK_INT(g1, 1);
	CHECK(pruned(s, g1, 10));
	CHECK_INT(rows_of(path, g1), 0);
	CHECK(base_is(s, CML_PART_PRODUCT, "p9", 109));
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline"), 10);

	/* pending, then older than the baseline: pruned by the next ack */
	int64_t g2 = gen_of(s, CML_GEN_DELTA, 3, 200, false);
	CHECK(cml_store_gen_info(s, g2, &gi) == CML_OK && gi.pruned == NULL && gi.parts == 3);
	int64_t g3 = gen_of(s, CML_GEN_DELTA, 2, 300, true);
	CHECK(pruned(s, g2, 3));
	CHECK(cml_store_gen_info(s, g2, &gi) == CML_OK && gi.acked == NULL);
	CHECK(pruned(s, g3, 2));
	CHECK(base_is(s, CML_PART_PRODUCT, "p1", 301));
	CHECK(base_is(s, CML_PART_PRODUCT, "p2", 102)); /* g2 never acknowledged */

	/* superseded: pruned by the next ack */
	int64_t g4 = gen_of(s, CML_GEN_DELTA, 1, 400, false);
	CHECK(cml_store_run_begin(s, "delta-export") == CML_OK);
	int64_t n = 0;
	CHECK(cml_store_gen_supersede(s, &n) == CML_OK);
	CHECK_INT(n, 2); /* g2, never acknowledged, too */
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(rows_of(path, g4), 1);
	int64_t g5 = gen_of(s, CML_GEN_DELTA, 1, 500, true);
	CHECK(pruned(s, g4, 1));
	CHECK(pruned(s, g5, 1));
	CHECK(base_is(s, CML_PART_PRODUCT, "p0", 500));

	/* a rolled back acknowledgement prunes nothing */
	int64_t g6 = gen_of(s, CML_GEN_DELTA, 2, 600, false);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK(cml_store_gen_ack(s, g6) == CML_OK);
	cml_store_run_rollback(s);
	CHECK_INT(rows_of(path, g6), 2);
	CHECK(cml_store_gen_info(s, g6, &gi) == CML_OK && gi.pruned == NULL);

	/* keep 2: the newest two prunable generations keep their parts */
	CHECK_INT(cml_store_gen_set_keep(s, -1), CML_ERR_USAGE);
	CHECK(cml_store_gen_set_keep(s, 2) == CML_OK);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK(cml_store_gen_ack(s, g6) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	int64_t g7 = gen_of(s, CML_GEN_DELTA, 2, 700, true);
	CHECK_INT(rows_of(path, g6), 2);
	CHECK_INT(rows_of(path, g7), 2);
	int64_t g8 = gen_of(s, CML_GEN_DELTA, 2, 800, true);
	CHECK(pruned(s, g6, 2));
	CHECK_INT(rows_of(path, g7), 2);
	CHECK_INT(rows_of(path, g8), 2);

	/* keep 1: a delta's ack leaves a full generation to a full one */
	CHECK(cml_store_gen_set_keep(s, 1) == CML_OK);
	int64_t g9 = gen_of(s, CML_GEN_FULL, 10, 900, true);
	CHECK(pruned(s, g7, 2));
	CHECK(pruned(s, g8, 2));
	CHECK_INT(rows_of(path, g9), 10);
	int64_t g10 = gen_of(s, CML_GEN_DELTA, 1, 1000, true);
	CHECK_INT(rows_of(path, g9), 10);
	CHECK_INT(rows_of(path, g10), 1);
	/* the delta's ack wrote its own part only */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline WHERE gen = 10"), 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline WHERE gen = 9"), 9);
	int64_t g11 = gen_of(s, CML_GEN_FULL, 10, 900, true);
	CHECK(pruned(s, g9, 10));
	CHECK(pruned(s, g10, 1));
	CHECK_INT(rows_of(path, g11), 10);
	CHECK(cml_store_gen_set_keep(s, 0) == CML_OK);
	int64_t g12 = gen_of(s, CML_GEN_FULL, 10, 900, true);
	CHECK(pruned(s, g11, 10));
	CHECK(pruned(s, g12, 10));
	CHECK_INT(sql_int(path, "SELECT count(*) FROM gen_parts"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM generations"), 12);
	CHECK(base_is(s, CML_PART_PRODUCT, "p0", 900));
	CHECK(base_is(s, CML_PART_PRODUCT, "p9", 909));
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline"), 10);
	/* a pruned generation is still acknowledged and still found */
	int64_t b = 0;
	CHECK(cml_store_baseline_gen(s, &b) == CML_OK);
	CHECK_INT(b, g12);
	CHECK(cml_store_gen_find(s, "pkg", &b) == CML_OK && b == g12);
	cml_store_close(s);
}

/* A fresh database whose baseline is generation 1 of n products (p0 at
 * 0, p1 at 1, ...), and a run recording full generation *g over it. */
static cml_store *
full_over(char *path, size_t cap, int n, int64_t *g)
{
	new_path(path, cap);
	cml_store *s = open_db(path, 0);
	if (s == NULL)
		return NULL;
	if (gen_of(s, CML_GEN_FULL, n, 0, true) != 1 ||
	    cml_store_run_begin(s, "full-export") != CML_OK ||
	    cml_store_gen_new(s, CML_GEN_FULL, "pkg", g) != CML_OK) {
		cml_store_close(s);
		return NULL;
	}
	return s;
}

/*
 * A full generation's acknowledgement against a baseline writes only what
 * differs (full_merge); against an empty baseline, or with a quarter of
 * it changed, it rebuilds. Both give the baseline the generation is:
 * changed, new and missing parts, a part recorded twice (the last record
 * counts), a deletion recorded for a part. A part the merge found
 * unchanged keeps the generation that wrote it.
 */
static void
check_full_ack(int changed)
{
	char path[128], id[16];
	int64_t g = 0;
	cml_fp f;
	enum { N = 400 };

	cml_store *s = full_over(path, sizeof(path), N, &g);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	for (int i = 4; i < N + 3; i++) { /* p0-p3 missing, p400-p402 new */
		snprintf(id, sizeof(id), "p%d", i);
		f = fp_of((uint64_t)(i < changed ? 5000 + i : i));
		CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, id, &f, false) == CML_OK);
	}
	f = fp_of(77);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "p200", &f, false) == CML_OK);
	f = fp_of(201);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "p201", &f, false) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "p202", NULL, true) == CML_OK);
	CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, "none", NULL, true) == CML_OK);
	f = fp_of(9);
	CHECK(cml_store_gen_put(s, g, CML_PART_OFFER_STOCK, "p5", &f, false) == CML_OK);
	CHECK(cml_store_gen_ack(s, g) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	for (int i = 0; i < N + 3; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		if (i < 4 || i == 202)
			CHECK(base_lacks(s, CML_PART_PRODUCT, id));
		else if (i == 200)
			CHECK(base_is(s, CML_PART_PRODUCT, id, 77));
		else if (i == 201) /* recorded twice: the last record */
			CHECK(base_is(s, CML_PART_PRODUCT, id, 201));
		else
			CHECK(base_is(s, CML_PART_PRODUCT, id, (uint64_t)(i < changed ? 5000 + i : i)));
	}
	CHECK(base_lacks(s, CML_PART_PRODUCT, "none"));
	CHECK(base_is(s, CML_PART_OFFER_STOCK, "p5", 9));
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline"), N + 3 - 4 - 1 + 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline WHERE fp IS NULL"), 0);
	/* merged: the unchanged parts keep generation 1; rebuilt: all are 2 */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline WHERE gen = 1"),
	          changed < N / 4 ? N - 4 - 2 - (changed > 4 ? changed - 4 : 0) : 0);
	cml_store_close(s);
}

static void
test_full_merge(void)
{
	check_full_ack(0);        /* a few changes: merged */
	check_full_ack(20);       /* more: merged */
	check_full_ack(300);      /* most of it: rebuilt */
}

/*
 * A catalog larger than the merge's chunk of baseline rows (FM_CHUNK,
 * 131072): the changes, the parts gone and the new ones are found in
 * every chunk, not only the first or the last.
 */
static void
test_full_merge_chunks(void)
{
	char path[128], id[16];
	int64_t g = 0;
	cml_fp f;
	enum { N = 140000, NEW = 100 };

	cml_store *s = full_over(path, sizeof(path), N, &g);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	for (int i = 0; i < N + NEW; i++) {
		if (i % 25000 == 7) /* 6 gone */
			continue;
		snprintf(id, sizeof(id), "p%d", i);
		f = fp_of((uint64_t)(i % 1000 == 3 ? 1000000 + i : i)); /* 140 changed */
		CHECK(cml_store_gen_put(s, g, CML_PART_PRODUCT, id, &f, i == 50) == CML_OK);
	}
	CHECK(cml_store_gen_ack(s, g) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	int bad = 0;
	for (int i = 0; i < N + NEW; i++) {
		snprintf(id, sizeof(id), "p%d", i);
		if (i % 25000 == 7 || i == 50)
			bad += !base_lacks(s, CML_PART_PRODUCT, id);
		else
			bad += !base_is(s, CML_PART_PRODUCT, id,
			                (uint64_t)(i % 1000 == 3 ? 1000000 + i : i));
	}
	CHECK_INT(bad, 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline"), N + NEW - 6 - 1);
	/* merged, not rebuilt: only the changed and the new parts rewritten */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline WHERE gen = 2"), 140 + NEW);
	cml_store_close(s);
}

/* The merge under allocation failures: a failure leaves the baseline
 * and the generation as they were, and the acknowledgement works once
 * memory is back (without the table in memory it rebuilds). */
static void
test_full_merge_nomem(void)
{
	char path[128];

	new_path(path, sizeof(path));
	cml_store *s = open_db(path, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(gen_of(s, CML_GEN_FULL, 50, 0, true), 1);
	int64_t g = gen_of(s, CML_GEN_FULL, 60, 1, false);
	CHECK_INT(g, 2);
	int ok = 0;
	for (long n = 1; n < 200 && !ok; n++) {
		CHECK(cml_store_run_begin(s, "t") == CML_OK);
		cml_alloc_fail_after(n);
		cml_status st = cml_store_gen_ack(s, g);
		cml_alloc_fail_after(0);
		if (st == CML_OK) {
			ok = 1;
			CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
			break;
		}
		CHECK(st == CML_ERR_NOMEM || st == CML_ERR_IO);
		cml_store_run_rollback(s);
		CHECK(base_is(s, CML_PART_PRODUCT, "p3", 3));
		CHECK_INT(rows_of(path, g), 60);
	}
	CHECK(ok);
	CHECK(base_is(s, CML_PART_PRODUCT, "p3", 4));
	CHECK(base_is(s, CML_PART_PRODUCT, "p59", 60));
	CHECK_INT(sql_int(path, "SELECT count(*) FROM baseline"), 60);
	CHECK_INT(rows_of(path, g), 0);
	cml_store_close(s);
}

/* A database of schema version 6 with a pending and an acknowledged
 * generation: migration 7 keeps their parts, unpruned, and the next
 * acknowledgement prunes them. */
static void
test_migrate_v6(void)
{
	char path[128];

	new_path(path, sizeof(path));
	cml_store *s = open_db(path, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(cml_store_gen_set_keep(s, 5) == CML_OK);
	CHECK_INT(gen_of(s, CML_GEN_FULL, 5, 0, true), 1);
	CHECK_INT(gen_of(s, CML_GEN_DELTA, 2, 10, false), 2);
	cml_store_close(s);
	CHECK(sql_exec(path, "ALTER TABLE generations DROP COLUMN pruned;"
	                     "ALTER TABLE generations DROP COLUMN pruned_parts;"
	                     "PRAGMA user_version = 6;"));
	s = open_db(path, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_INT(sql_int(path, "PRAGMA user_version"), 7);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM generations WHERE pruned IS NULL AND "
	                        "pruned_parts IS NULL"),
	          2);
	CHECK_INT(rows_of(path, 1), 5);
	CHECK_INT(rows_of(path, 2), 2);
	cml_gen_info gi;
	CHECK(cml_store_gen_info(s, 2, &gi) == CML_OK && gi.parts == 2 && gi.pruned == NULL);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK(cml_store_gen_ack(s, 2) == CML_OK);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(rows_of(path, 1), 5); /* full: left to a full acknowledgement */
	CHECK(pruned(s, 2, 2));
	CHECK(base_is(s, CML_PART_PRODUCT, "p1", 11));
	CHECK(base_is(s, CML_PART_PRODUCT, "p4", 4));
	cml_store_close(s);
}

/* ---- speed ---- */

/* A GUID-like Ид, in no particular order. */
static void
guid(uint64_t i, char out[40])
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;

	x ^= x >> 31;
	x *= 0xBF58476D1CE4E5B9ull;
	x ^= x >> 29;
	snprintf(out, 40, "%08x-%04x-%04x-%04x-%012llx", (unsigned)(x >> 32),
	         (unsigned)(x >> 16) & 0xffff, (unsigned)x & 0xffff, (unsigned)(i & 0xffff),
	         (unsigned long long)(i * 2654435761u) & 0xffffffffffffull);
}

static void
bench(long n, bool report)
{
	char path[128], id[40];
	int64_t g = 0;
	cml_fp f;
	long found = 0;

	new_path(path, sizeof(path));
	cml_store *s = open_db(path, 0);
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "bench") == CML_OK);
	CHECK(cml_store_gen_new(s, CML_GEN_FULL, "bench", &g) == CML_OK);
	double t0 = now_s();
	for (long i = 0; i < n; i++) {
		guid((uint64_t)i, id);
		f = fp_of((uint64_t)i);
		if (cml_store_gen_put(s, g, CML_PART_PRODUCT, id, &f, false) != CML_OK) {
			CHECK(!"gen_put");
			break;
		}
	}
	double t_put = now_s() - t0;
	t0 = now_s();
	CHECK(cml_store_gen_ack(s, g) == CML_OK);
	double t_ack = now_s() - t0;
	t0 = now_s();
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	double t_commit = now_s() - t0;

	/* lookups inside a run, as delta-export does them; in another order */
	CHECK(cml_store_run_begin(s, "bench") == CML_OK);
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		guid((uint64_t)((i * 7919) % n), id);
		if (cml_store_baseline_get(s, CML_PART_PRODUCT, id, &f) == CML_OK)
			found++;
	}
	double t_get = now_s() - t0;
	t0 = now_s();
	void *cur = NULL;
	const char *p;
	long iter = 0;
	while (cml_store_baseline_next(s, CML_PART_PRODUCT, &cur, &p) == CML_OK)
		iter++;
	cml_store_baseline_end(s, &cur);
	double t_iter = now_s() - t0;
	cml_store_run_rollback(s);
	CHECK_INT(found, n);
	CHECK_INT(iter, n);
	if (report) {
		printf("gen_put      %8ld in %6.3f s: %9.0f /s\n", n, t_put, n / t_put);
		printf("gen_ack full %8ld in %6.3f s\n", n, t_ack);
		printf("commit                  %6.3f s\n", t_commit);
		printf("baseline_get %8ld in %6.3f s: %9.0f /s\n", n, t_get, n / t_get);
		printf("baseline_next%8ld in %6.3f s: %9.0f /s\n", n, t_iter, n / t_iter);
		struct stat sb;
		if (stat(path, &sb) == 0)
			printf("database %.1f MB\n", sb.st_size / 1e6);
	}
	cml_store_close(s);
}

static void
test_bench_small(void)
{
	bench(20000, false);
}

static void
remove_tree(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int
main(int argc, char **argv)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/test_store.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
		long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
		harness_current = "bench";
		bench(n > 0 ? n : 1000000, true);
	} else {
		RUN(test_create);
		RUN(test_default_path);
		RUN(test_newer_schema);
		RUN(test_read_only);
		RUN(test_full_ack);
		RUN(test_delta_ack);
		RUN(test_unacked);
		RUN(test_rollback_and_state);
		RUN(test_gen_files);
		RUN(test_migrate_v1);
		RUN(test_migrate_v4);
		RUN(test_supersede);
		RUN(test_prune);
		RUN(test_full_merge);
		RUN(test_full_merge_chunks);
		RUN(test_full_merge_nomem);
		RUN(test_migrate_v6);
		RUN(test_baseline_items);
		RUN(test_lock_refused);
		RUN(test_lock_waits);
		RUN(test_lock_links);
		RUN(test_killed_run);
		RUN(test_alloc_failures);
		RUN(test_bench_small);
	}
	remove_tree(tmpdir);
	return harness_done();
}
