/*
 * store.c: the core of the project's SQLite database (cmlkit-db(5)):
 * open, the schema migrations (one list for every kind of state), the
 * run lock and the runs. The kinds of state live beside it over the same
 * handle: generations.c (the catalog), ledger.c (orders), register.c
 * (counterparties), progress.c (order progress); what they
 * share is in store_private.h.
 *
 * One connection per handle. Every statement the hot paths use
 * (baseline_get, gen_put, ledger_put) is prepared once, kept on the
 * handle and reset after each use. A run is the run lock (flock on
 * "<db>.lock") plus one BEGIN IMMEDIATE transaction; nothing of a run is
 * visible to anyone until it commits, and a run that dies leaves nothing
 * behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cml/generations.h"
#include "store_private.h"

#define LOCK_WAIT_DEFAULT_MS 10000u
#define LOCK_POLL_MS 50

/* ---- schema ---- */

/*
 * Migration n takes a database at user_version n-1 to n. Each runs in
 * the same transaction as the user_version update, so a database is
 * always at one version or the next, never between.
 */
static const char *const migrations[] = {
	/* 1: the catalog state and the run log */
	"CREATE TABLE runs ("
	" id INTEGER PRIMARY KEY,"
	" program TEXT NOT NULL,"
	" pid INTEGER,"
	" started TEXT NOT NULL,"
	" ended TEXT,"
	" outcome TEXT,"
	" counts TEXT);"
	"CREATE TABLE generations ("
	" gen INTEGER PRIMARY KEY AUTOINCREMENT,"
	" kind TEXT NOT NULL CHECK (kind IN ('full','delta')),"
	" package TEXT,"
	" created TEXT NOT NULL,"
	" acked TEXT,"
	" run INTEGER REFERENCES runs(id));"
	/* gen_parts is appended to: seq keeps the order of the calls (a later
	 * record of the same part wins) and makes a million inserts cheap,
	 * where a (gen, part, id) key would insert in random Ид order. */
	"CREATE TABLE gen_parts ("
	" seq INTEGER PRIMARY KEY,"
	" gen INTEGER NOT NULL,"
	" part TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" fp BLOB,"
	" deleted INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX gen_parts_gen ON gen_parts(gen);"
	/* fp is NULL only inside an acknowledgement, never after it */
	"CREATE TABLE baseline ("
	" part TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" fp BLOB,"
	" gen INTEGER NOT NULL,"
	" PRIMARY KEY (part, id)) WITHOUT ROWID;"
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY,"
	" value TEXT);"
	"INSERT INTO meta(key, value) VALUES ('baseline_gen', '0');",
	/* 2: what each package's files were when recorded ("name\tsize\t
	 * mtime" lines), so catalog-push can tell the package in the
	 * directory is still the one the generation describes */
	"ALTER TABLE generations ADD COLUMN files TEXT;"
	"CREATE INDEX generations_package ON generations(package, gen);",
	/* 3: a pending generation a later export run made stale: when, and
	 * by which run. NULL in both for every generation before. */
	"ALTER TABLE generations ADD COLUMN superseded TEXT;"
	"ALTER TABLE generations ADD COLUMN superseded_run INTEGER REFERENCES runs(id);",
	/* 4: the order ledger (ledger.c). An order is keyed by (site, Ид);
	 * oid numbers orders in the order they were first stored. revision
	 * and fp are the latest revision's, so a put compares with one
	 * indexed lookup. A revision holds its whole document (doccodec.c's
	 * stored form). Attachments are the payment and shipment documents
	 * of an order, keyed by (site, their own Ид), found by the order's
	 * Ид (Основание). */
	"CREATE TABLE orders ("
	" oid INTEGER PRIMARY KEY,"
	" site TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" number TEXT NOT NULL DEFAULT '',"
	" first_stored TEXT NOT NULL,"
	" revision INTEGER NOT NULL,"
	" fp BLOB NOT NULL,"
	" UNIQUE (site, id));"
	"CREATE TABLE order_revisions ("
	" oid INTEGER NOT NULL REFERENCES orders(oid),"
	" revision INTEGER NOT NULL,"
	" run INTEGER NOT NULL REFERENCES runs(id),"
	" stored TEXT NOT NULL,"
	" fp BLOB NOT NULL,"
	" changed TEXT NOT NULL DEFAULT '',"
	" doc BLOB NOT NULL,"
	" PRIMARY KEY (oid, revision));"
	"CREATE INDEX order_revisions_run ON order_revisions(run, oid);"
	"CREATE INDEX order_revisions_stored ON order_revisions(stored, oid);"
	"CREATE TABLE order_attachments ("
	" aid INTEGER PRIMARY KEY,"
	" site TEXT NOT NULL,"
	" id TEXT NOT NULL,"
	" order_id TEXT NOT NULL,"
	" fp BLOB NOT NULL,"
	" doc BLOB NOT NULL,"
	" run INTEGER NOT NULL REFERENCES runs(id),"
	" stored TEXT NOT NULL,"
	" UNIQUE (site, id));"
	"CREATE INDEX order_attachments_order ON order_attachments(site, order_id, aid);"
	/* the output mark of a site: the last run whose new and changed
	 * orders went out in full (cml_ledger_set_output_mark) */
	"CREATE TABLE order_output ("
	" site TEXT PRIMARY KEY,"
	" run INTEGER NOT NULL,"
	" updated TEXT NOT NULL);",
	/* 5: the counterparty register (register.c). A card is keyed by its
	 * Ид; cid numbers cards for the tables beside it. inn is as written,
	 * inn_key the valid INN digits (NULL when inn is no valid INN), so
	 * only a valid INN finds a card. A contact's key is its email or
	 * phone key ('' when the value is no valid one); a card or person
	 * holds a contact of a kind once per key (once per value when it has
	 * no key). An alias is the Ид of a card merged away, naming the card
	 * it went into. A review is cp-match's record of an order it could
	 * not decide, one per (site, order Ид); cp_matched is the ledger
	 * revision of each order cp-match has matched (--ledger). */
	"CREATE TABLE cp_cards ("
	" cid INTEGER PRIMARY KEY,"
	" id TEXT NOT NULL UNIQUE,"
	" name TEXT NOT NULL DEFAULT '',"
	" full_name TEXT NOT NULL DEFAULT '',"
	" kind INTEGER NOT NULL DEFAULT 0,"
	" inn TEXT NOT NULL DEFAULT '',"
	" inn_key TEXT,"
	" kpp TEXT NOT NULL DEFAULT '',"
	" okpo TEXT NOT NULL DEFAULT '',"
	" head_id TEXT NOT NULL DEFAULT '',"
	" reg_address TEXT NOT NULL DEFAULT '',"
	" legal_address TEXT NOT NULL DEFAULT '',"
	" deleted INTEGER NOT NULL DEFAULT 0,"
	" marketplace INTEGER NOT NULL DEFAULT 0,"
	" origin TEXT NOT NULL DEFAULT 'register',"
	" run INTEGER REFERENCES runs(id),"
	" created TEXT NOT NULL,"
	" updated TEXT NOT NULL);"
	"CREATE INDEX cp_cards_inn ON cp_cards(inn_key, id) WHERE inn_key IS NOT NULL;"
	"CREATE INDEX cp_cards_head ON cp_cards(head_id) WHERE head_id <> '';"
	"CREATE TABLE cp_persons ("
	" card INTEGER NOT NULL REFERENCES cp_cards(cid),"
	" id TEXT NOT NULL,"
	" name TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (card, id)) WITHOUT ROWID;"
	"CREATE TABLE cp_contacts ("
	" seq INTEGER PRIMARY KEY,"
	" card INTEGER NOT NULL REFERENCES cp_cards(cid),"
	" person TEXT NOT NULL DEFAULT '',"
	" kind INTEGER NOT NULL,"
	" value TEXT NOT NULL,"
	" key TEXT NOT NULL DEFAULT '');"
	"CREATE UNIQUE INDEX cp_contacts_one ON cp_contacts(card, person, kind,"
	" CASE WHEN key = '' THEN value ELSE key END);"
	"CREATE INDEX cp_contacts_key ON cp_contacts(kind, key, card) WHERE key <> '';"
	"CREATE TABLE cp_aliases ("
	" id TEXT PRIMARY KEY,"
	" card INTEGER NOT NULL REFERENCES cp_cards(cid),"
	" run INTEGER REFERENCES runs(id),"
	" merged TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX cp_aliases_card ON cp_aliases(card);"
	"CREATE TABLE cp_reviews ("
	" rid INTEGER PRIMARY KEY,"
	" site TEXT NOT NULL,"
	" order_id TEXT NOT NULL,"
	" order_number TEXT NOT NULL DEFAULT '',"
	" email TEXT NOT NULL DEFAULT '',"
	" inn TEXT NOT NULL DEFAULT '',"
	" kpp TEXT NOT NULL DEFAULT '',"
	" phone TEXT NOT NULL DEFAULT '',"
	" candidates TEXT NOT NULL DEFAULT '',"
	" booked TEXT NOT NULL DEFAULT '',"
	" rule TEXT NOT NULL DEFAULT '',"
	" reason TEXT NOT NULL DEFAULT '',"
	" run INTEGER REFERENCES runs(id),"
	" created TEXT NOT NULL,"
	" resolved_card TEXT NOT NULL DEFAULT '',"
	" resolved TEXT NOT NULL DEFAULT '',"
	" UNIQUE (site, order_id));"
	"CREATE INDEX cp_reviews_number ON cp_reviews(order_number) WHERE order_number <> '';"
	"CREATE INDEX cp_reviews_order ON cp_reviews(order_id);"
	"CREATE TABLE cp_matched ("
	" site TEXT NOT NULL,"
	" order_id TEXT NOT NULL,"
	" revision INTEGER NOT NULL,"
	" card TEXT NOT NULL DEFAULT '',"
	" run INTEGER REFERENCES runs(id),"
	" updated TEXT NOT NULL,"
	" PRIMARY KEY (site, order_id)) WITHOUT ROWID;",
	/* 6: order progress (progress.c). A ledger order has a progress row
	 * from its first step (or the first update read for it); money and
	 * quantities are integers in units of 1/10000, shipped is the
	 * shipped quantity of each line by position ("10000 0 20000"). The
	 * order is pending delivery while version > delivered, which the
	 * partial index finds per site. order_steps logs every applied step.
	 * The status map is the database's own once meta has 'status_map';
	 * until then status_map_now answers with the defaults. orders gets
	 * the indexes that find an order by Ид or Номер of any site. */
	"CREATE TABLE order_progress ("
	" site TEXT NOT NULL,"
	" order_id TEXT NOT NULL,"
	" life INTEGER NOT NULL DEFAULT 0,"
	" invoice INTEGER NOT NULL DEFAULT 0,"
	" payment INTEGER NOT NULL DEFAULT 0,"
	" shipment INTEGER NOT NULL DEFAULT 0,"
	" postpaid INTEGER NOT NULL DEFAULT 0,"
	" paid INTEGER NOT NULL DEFAULT 0,"
	" refunded INTEGER NOT NULL DEFAULT 0,"
	" shipped TEXT NOT NULL DEFAULT '',"
	" invoice_number TEXT NOT NULL DEFAULT '',"
	" invoice_date TEXT NOT NULL DEFAULT '',"
	" payment_number TEXT NOT NULL DEFAULT '',"
	" payment_date TEXT NOT NULL DEFAULT '',"
	" shipment_number TEXT NOT NULL DEFAULT '',"
	" shipment_date TEXT NOT NULL DEFAULT '',"
	" cancel_reason TEXT NOT NULL DEFAULT '',"
	" version INTEGER NOT NULL DEFAULT 0,"
	" delivered INTEGER NOT NULL DEFAULT 0,"
	" delivered_at TEXT NOT NULL DEFAULT '',"
	" site_refusal TEXT NOT NULL DEFAULT '',"
	" src_version TEXT NOT NULL DEFAULT '',"
	" src_changed TEXT NOT NULL DEFAULT '',"
	" status_code TEXT NOT NULL DEFAULT '',"
	" updated TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (site, order_id)) WITHOUT ROWID;"
	"CREATE INDEX order_progress_pending ON order_progress(site) WHERE version > delivered;"
	"CREATE TABLE order_steps ("
	" site TEXT NOT NULL,"
	" order_id TEXT NOT NULL,"
	" seq INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" args TEXT NOT NULL DEFAULT '',"
	" source TEXT NOT NULL,"
	" at TEXT NOT NULL,"
	" run INTEGER NOT NULL REFERENCES runs(id),"
	" version INTEGER NOT NULL,"
	" PRIMARY KEY (site, order_id, seq)) WITHOUT ROWID;"
	"CREATE TABLE status_map ("
	" site TEXT NOT NULL,"
	" code TEXT NOT NULL,"
	" life INTEGER NOT NULL CHECK (life BETWEEN 0 AND 3),"
	" send INTEGER NOT NULL DEFAULT 0,"
	" name TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (site, code)) WITHOUT ROWID;"
	"CREATE UNIQUE INDEX status_map_send ON status_map(site, life) WHERE send;"
	"CREATE VIEW status_map_now(site, code, life, send, name) AS"
	" SELECT site, code, life, send, name FROM status_map"
	" UNION ALL SELECT * FROM (VALUES ('', 'F', 2, 1, 'Выполнен'),"
	" ('', 'N', 0, 1, 'Принят'), ('', 'P', 1, 1, 'Оплачен, формируется к отправке'))"
	" WHERE NOT EXISTS (SELECT 1 FROM meta WHERE key = 'status_map');"
	"CREATE INDEX orders_id ON orders(id);"
	"CREATE INDEX orders_number ON orders(number) WHERE number <> '';",
	/* 7: a generation whose parts an acknowledgement pruned
	 * (generations.c): when, and how many parts it had. NULL in both for
	 * every generation before, whose parts are all still there. */
	"ALTER TABLE generations ADD COLUMN pruned TEXT;"
	"ALTER TABLE generations ADD COLUMN pruned_parts INTEGER;",
};

int
cml_store_schema_version(void)
{
	return (int)CML_ARRAY_LEN(migrations);
}

/* ---- statements kept on the handle ---- */

static const char *const queries[] = {
	[SQ_RUN_INSERT] = "INSERT INTO runs(program, pid, started) VALUES (?1, ?2, " STORE_NOW_SQL
	                  ") RETURNING started",
	/* counts is kept valid JSON whatever the program hands in */
	[SQ_RUN_END] = "UPDATE runs SET ended = " STORE_NOW_SQL ", outcome = ?2, "
	               "counts = CASE WHEN ?3 IS NULL THEN NULL WHEN json_valid(?3) "
	               "THEN ?3 ELSE json_quote(?3) END WHERE id = ?1",
};

/* ---- errors ---- */

static cml_status
status_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return CML_OK;
	case SQLITE_NOMEM:
		return CML_ERR_NOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return CML_ERR_BUSY;
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
		return CML_ERR_USAGE;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
		return CML_ERR_VALUE;
	default: /* IOERR, CORRUPT, FULL, CANTOPEN, NOTADB, READONLY, ... */
		return CML_ERR_IO;
	}
}

/* "PATH: what: sqlite's message", and the status for the connection's
 * last error. */
cml_status
store_db_fail(cml_store *s, const char *what)
{
	int rc = sqlite3_extended_errcode(s->db);

	int e = sqlite3_system_errno(s->db);
	const char *hint = "";

	/* the errno SQLite kept is not always the cause (a read-only mount
	 * reads as "unable to open database file"): ask the file system */
	if (e != ENOSPC && e != EDQUOT && access(s->path, W_OK) != 0 &&
	    (errno == EROFS || errno == EACCES))
		e = errno;

	/* SQLite says "disk I/O error" for a full disk when it cannot grow
	 * its -shm file, and a bare "attempt to write a readonly database"
	 * for a mode or mount it cannot write: say which and what to do. */
	if ((rc & 0xff) == SQLITE_FULL || e == ENOSPC || e == EDQUOT)
		hint = ": no space left on the disk holding it (or over quota; the -wal and "
		       "-shm files are made beside it): free some space, then run again";
	else if ((rc & 0xff) == SQLITE_READONLY || e == EROFS || e == EACCES || e == EPERM)
		hint = ": it cannot be written (the database file, its -wal and -shm files and "
		       "its directory must be writable by this user, on a file system mounted "
		       "read-write); a program that only reads it can use it as it is";
	cml_msg_set(s->errmsg, sizeof(s->errmsg), "%s: %s: %s%s", s->path, what,
	            sqlite3_errmsg(s->db), hint);
	cml_status st = status_of(rc);
	return st == CML_OK ? CML_ERR_IO : st;
}

cml_status
store_fail(cml_store *s, cml_status st, const char *fmt, ...)
{
	char tmp[CML_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	cml_msg_vset(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	cml_msg_set(s->errmsg, sizeof(s->errmsg), "%s: %s", s->path, tmp);
	return st;
}

const char *
cml_store_errmsg(const cml_store *s)
{
	return s != NULL ? s->errmsg : "no database";
}

const char *
cml_store_default_path(void)
{
	const char *p = getenv("CMLKIT_DB");

	return p != NULL && p[0] != '\0' ? p : "cmlkit.db";
}

/* ---- small helpers ---- */

cml_status
store_exec(cml_store *s, const char *sql, const char *what)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_db_fail(s, what);
	return CML_OK;
}

sqlite3_stmt *
store_query(cml_store *s, enum store_q q, const char *sql, cml_status *st)
{
	*st = CML_OK;
	if (s->q[q] == NULL && sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	                                          &s->q[q], NULL) != SQLITE_OK) {
		*st = store_db_fail(s, "preparing a query");
		return NULL;
	}
	return s->q[q];
}

static sqlite3_stmt *
query(cml_store *s, enum store_q q, cml_status *st)
{
	return store_query(s, q, queries[q], st);
}

/* Runs a kept statement to completion (no rows expected) and resets it. */
cml_status
store_step_done(cml_store *s, sqlite3_stmt *q, const char *what)
{
	int rc = sqlite3_step(q);
	cml_status st = CML_OK;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		st = store_db_fail(s, what);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return st;
}

static int64_t
pragma_int(cml_store *s, const char *sql, cml_status *st)
{
	sqlite3_stmt *q = NULL;
	int64_t v = 0;

	*st = CML_OK;
	if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK) {
		*st = store_db_fail(s, "reading the schema");
		return 0;
	}
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	else if (rc != SQLITE_DONE)
		*st = store_db_fail(s, "reading the schema");
	sqlite3_finalize(q);
	return v;
}

void
store_fp_pack(const cml_fp *fp, unsigned char out[16])
{
	for (int i = 0; i < 8; i++) {
		out[i] = (unsigned char)(fp->hi >> (56 - 8 * i));
		out[8 + i] = (unsigned char)(fp->lo >> (56 - 8 * i));
	}
}

void
store_fp_unpack(const unsigned char in[16], cml_fp *fp)
{
	fp->hi = fp->lo = 0;
	for (int i = 0; i < 8; i++) {
		fp->hi = (fp->hi << 8) | in[i];
		fp->lo = (fp->lo << 8) | in[8 + i];
	}
}

static bool
is_memory(const char *path)
{
	return strcmp(path, ":memory:") == 0;
}

cml_status
store_cursor_step(cml_store *s, sqlite3_stmt *stmt, bool *done, const char *what)
{
	if (*done)
		return CML_END;
	int rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		return CML_OK;
	*done = true;
	sqlite3_reset(stmt);
	return rc == SQLITE_DONE ? CML_END : store_db_fail(s, what);
}

/* ---- open, migrate, close ---- */

/*
 * Creates the file 0600 before SQLite sees it: SQLite would create it
 * with 0644 less the umask, and the database holds the order ledger and
 * the counterparty register. fchmod makes the mode independent of the
 * umask. SQLite gives its -wal and -shm files the database's mode.
 */
static cml_status
create_private(cml_store *s)
{
	int fd = open(s->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		if (errno == EEXIST)
			return CML_OK;
		return store_fail(s, CML_ERR_IO, "cannot create the database: %s", strerror(errno));
	}
	cml_status st = CML_OK;
	if (fchmod(fd, 0600) != 0)
		st = store_fail(s, CML_ERR_IO, "cannot make the database private: %s",
		                strerror(errno));
	close(fd);
	return st;
}

static cml_status
migrate(cml_store *s)
{
	cml_status st;
	int64_t have = pragma_int(s, "PRAGMA user_version", &st);
	const int64_t want = cml_store_schema_version();

	if (st != CML_OK)
		return st;
	if (have > want)
		return store_fail(s, CML_ERR_FORMAT,
		                  "the database is of schema version %" PRId64 ", newer than this "
		                  "cmlkit knows (%" PRId64 "): use a newer cmlkit",
		                  have, want);
	if (have == want)
		return CML_OK;
	if (s->read_only && have == 0)
		return store_fail(
		        s, CML_ERR_STATE,
		        "not a cmlkit database yet (opened read-only, so it is not created)");
	if (s->read_only)
		return store_fail(
		        s, CML_ERR_STATE,
		        "the database needs an upgrade to schema version %d; open it once "
		        "for writing",
		        (int)want);

	/* BEGIN IMMEDIATE: two processes opening a new database at once
	 * migrate one after the other; the second finds the work done. */
	if ((st = store_exec(s, "BEGIN IMMEDIATE", "starting the schema upgrade")) != CML_OK)
		return st;
	have = pragma_int(s, "PRAGMA user_version", &st);
	if (st == CML_OK && have == 0) {
		int64_t tables = pragma_int(
			s, "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'", &st);
		if (st == CML_OK && tables > 0)
			st = store_fail(
			        s, CML_ERR_FORMAT,
			        "not a cmlkit database (it has tables, and no cmlkit schema "
			        "version)");
	}
	for (int64_t v = have; st == CML_OK && v < want; v++) {
		char what[64];

		cml_msg_set(what, sizeof(what), "creating schema version %d", (int)(v + 1));
		st = store_exec(s, migrations[v], what);
	}
	if (st == CML_OK && have < want) {
		char sql[64];

		cml_msg_set(sql, sizeof(sql), "PRAGMA user_version = %d", (int)want);
		st = store_exec(s, sql, "setting the schema version");
	}
	if (st == CML_OK)
		st = store_exec(s, "COMMIT", "committing the schema upgrade");
	if (st != CML_OK && !sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return st;
}

static cml_status
configure(cml_store *s)
{
	cml_status st;

	sqlite3_extended_result_codes(s->db, 1);
	/* A busy SQLite lock (someone outside a run, e.g. the sqlite3 shell,
	 * or a checkpoint) is waited for as long as the run lock. */
	sqlite3_busy_timeout(s->db, s->lock_wait_ms > INT_MAX ? INT_MAX : (int)s->lock_wait_ms);
	if ((st = store_exec(s, "PRAGMA foreign_keys = ON", "configuring")) != CML_OK)
		return st;
	/* The default 2 MiB page cache is too small at 100k items. Generation
	 * inserts append (seq primary key) and delta-export reads the baseline
	 * into memory in one scan, so 16 MiB is enough, and it keeps
	 * full-export, which records a million parts, under 64 MiB. */
	if ((st = store_exec(s, "PRAGMA cache_size = -16384", "configuring")) != CML_OK)
		return st;
	/* Debian's SQLite (and others) is built with secure_delete on: every
	 * page freed is zeroed and written, through the WAL and back. Pruning
	 * a full generation at 1M products freed ~360 MiB that way, most of a
	 * full acknowledgement's writes. FAST still zeroes what is deleted
	 * inside the pages that stay; the pages freed keep their old bytes,
	 * which are this database's own catalog parts. */
	if ((st = store_exec(s, "PRAGMA secure_delete = FAST", "configuring")) != CML_OK)
		return st;
	if (s->read_only)
		return CML_OK;

	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &q, NULL) != SQLITE_OK)
		return store_db_fail(s, "switching to WAL mode");
	int rc = sqlite3_step(q);
	bool wal = rc == SQLITE_ROW &&
	           sqlite3_stricmp((const char *)sqlite3_column_text(q, 0), "wal") == 0;
	if (rc != SQLITE_ROW) {
		st = store_db_fail(s, "switching to WAL mode");
	} else if (!wal && !is_memory(s->path)) {
		st = store_fail(s, CML_ERR_IO,
		                "cannot use WAL mode (journal mode stays \"%s\"); is it on a "
		                "network file system?",
		                (const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_finalize(q);
	if (st != CML_OK)
		return st;
	/*
	 * FULL, not NORMAL: in WAL mode NORMAL does not sync the log at each
	 * commit, so a power loss can undo a committed run. Programs tell the
	 * site "received" (orders-pull) or treat a package as acknowledged
	 * right after a commit; that must survive a power loss. The cost is
	 * one fsync per run, not per row.
	 */
	return store_exec(s, "PRAGMA synchronous = FULL", "configuring");
}

cml_store *
cml_store_open(const char *path, const cml_store_opts *opts, cml_status *st, char *errbuf,
               size_t errcap)
{
	cml_store *s = NULL;
	cml_status rst = CML_OK;
	cml_store_opts none = { 0 };

	if (opts == NULL)
		opts = &none;
	if (errbuf != NULL && errcap > 0)
		errbuf[0] = '\0';
	if (path == NULL || path[0] == '\0') {
		rst = CML_ERR_USAGE;
		if (errbuf != NULL)
			cml_msg_set(errbuf, errcap, "no database file name");
		goto out;
	}
	s = cml_calloc(1, sizeof(*s));
	if (s == NULL)
		goto nomem;
	s->lock_fd = -1;
	s->read_only = opts->read_only;
	s->lock_wait_ms = opts->lock_wait_ms ? opts->lock_wait_ms : LOCK_WAIT_DEFAULT_MS;
	s->gen_keep = CML_GEN_KEEP_DEFAULT;
	s->path = cml_strdup(path);
	if (s->path == NULL)
		goto nomem;
	if (!is_memory(path)) {
		size_t n = strlen(path);

		s->lock_path = cml_malloc(n + sizeof(".lock"));
		if (s->lock_path == NULL)
			goto nomem;
		memcpy(s->lock_path, path, n);
		memcpy(s->lock_path + n, ".lock", sizeof(".lock"));
	}

	int flags = SQLITE_OPEN_NOMUTEX;
	if (s->read_only) {
		if (!is_memory(path) && access(path, F_OK) != 0) {
			rst = store_fail(s, CML_ERR_IO, "cannot open the database: %s",
			                 strerror(errno));
			goto out;
		}
		flags |= SQLITE_OPEN_READONLY;
	} else {
		if (!is_memory(path) && (rst = create_private(s)) != CML_OK)
			goto out;
		flags |= SQLITE_OPEN_READWRITE;
		if (is_memory(path))
			flags |= SQLITE_OPEN_CREATE;
	}
	int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		if (s->db == NULL)
			rst = store_fail(s, CML_ERR_NOMEM,
			                 "cannot open the database: out of memory");
		else
			rst = store_db_fail(s, "cannot open the database");
		goto out;
	}
	if ((rst = configure(s)) != CML_OK)
		goto out;
	if ((rst = migrate(s)) != CML_OK)
		goto out;
	goto out;

nomem:
	rst = CML_ERR_NOMEM;
	if (s != NULL)
		cml_msg_set(s->errmsg, sizeof(s->errmsg), "%s: out of memory", path);
	else if (errbuf != NULL)
		cml_msg_set(errbuf, errcap, "%s: out of memory", path);
out:
	if (st != NULL)
		*st = rst;
	if (rst != CML_OK && s != NULL) {
		if (errbuf != NULL)
			cml_msg_set(errbuf, errcap, "%s", s->errmsg);
		cml_store_close(s);
		s = NULL;
	}
	return s;
}

static void lock_release(cml_store *s);

void
cml_store_close(cml_store *s)
{
	if (s == NULL)
		return;
	if (s->in_run)
		cml_store_run_rollback(s);
	for (int i = 0; i < SQ_COUNT; i++)
		sqlite3_finalize(s->q[i]);
	/* close_v2: a cursor the caller forgot keeps the connection alive
	 * until it is ended, rather than failing the close */
	sqlite3_close_v2(s->db);
	lock_release(s);
	store_gen_free(s->gen);
	store_ledger_free(s->ledger);
	store_register_free(s->reg);
	store_progress_free(s->prog);
	cml_free(s->lock_path);
	cml_free(s->path);
	cml_free(s);
}

/* ---- the run lock ---- */

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* "10 s", "2.5 s", "300 ms" */
static void
format_wait(unsigned ms, char *out, size_t cap)
{
	if (ms < 1000)
		cml_msg_set(out, cap, "%u ms", ms);
	else if (ms % 1000 == 0)
		cml_msg_set(out, cap, "%u s", ms / 1000);
	else
		cml_msg_set(out, cap, "%.1f s", ms / 1000.0);
}

/* Who holds the lock, from what it wrote into the lock file:
 * "PID PROGRAM since TIME", or a vaguer phrase. */
static void
describe_holder(int fd, char *out, size_t cap)
{
	char buf[256];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	long pid = 0;
	char since[32] = "", prog[128] = "";

	if (n > 0) {
		buf[n] = '\0';
		/* written by write_holder(): "PID TIME PROGRAM\n" */
		if (sscanf(buf, "%ld %31s %127[^\n]", &pid, since, prog) < 2)
			pid = 0;
	}
	if (pid <= 0)
		cml_msg_set(out, cap, "another process");
	else if (prog[0] != '\0')
		cml_msg_set(out, cap, "PID %ld (%s) since %s", pid, prog, since);
	else
		cml_msg_set(out, cap, "PID %ld since %s", pid, since);
}

static void
write_holder(int fd, const char *program)
{
	char line[256], when[32] = "?", prog[128];
	time_t t = time(NULL);
	struct tm tm;
	size_t i;

	if (gmtime_r(&t, &tm) != NULL)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	for (i = 0; program[i] != '\0' && i < sizeof(prog) - 1; i++)
		prog[i] = program[i] == '\n' || program[i] == '\r' ? '?' : program[i];
	prog[i] = '\0';
	int n = snprintf(line, sizeof(line), "%ld %s %s\n", (long)getpid(), when, prog);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = (int)sizeof(line) - 1;
	/* Best effort: the file only feeds the message of a refused run. */
	if (ftruncate(fd, 0) == 0 && pwrite(fd, line, (size_t)n, 0) < 0)
		return;
}

/*
 * flock, not fcntl: an flock lock belongs to the open file, so two
 * handles in one process exclude each other too, and closing some other
 * descriptor of the file does not drop it. The kernel drops it when the
 * holder dies, so a killed run never leaves a stale lock.
 */
static cml_status
lock_take(cml_store *s, const char *program, bool *waited)
{
	char who[200] = "", wait[32];
	int64_t start = now_ms();

	*waited = false;
	if (s->lock_path == NULL)
		return CML_OK;
	/* Never through a symbolic link, and only a file of its own: the
	 * holder line is written over the file's content, which must not
	 * empty somebody else's file (ln -s victim cmlkit.db.lock). */
	s->lock_fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
	                  0600);
	if (s->lock_fd < 0 && errno == ELOOP)
		return store_fail(
		        s, CML_ERR_IO,
		        "the run lock %s is a symbolic link: refusing to use it (remove it; "
		        "cmlkit creates the lock itself)",
		        s->lock_path);
	if (s->lock_fd < 0)
		return store_fail(s, CML_ERR_IO, "cannot open the run lock %s: %s", s->lock_path,
		                  strerror(errno));
	struct stat lsb;
	if (fstat(s->lock_fd, &lsb) != 0 || !S_ISREG(lsb.st_mode) || lsb.st_nlink != 1) {
		close(s->lock_fd);
		s->lock_fd = -1;
		return store_fail(
		        s, CML_ERR_IO,
		        "the run lock %s is not a file of its own (a hard link, or not a "
		        "regular file): refusing to use it (remove it; cmlkit creates the "
		        "lock itself)",
		        s->lock_path);
	}
	for (;;) {
		if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int e = errno;
			close(s->lock_fd);
			s->lock_fd = -1;
			return store_fail(s, CML_ERR_IO, "cannot lock %s: %s", s->lock_path,
			                  strerror(e));
		}
		/* the holder empties the file as it lets go: keep the last
		 * description that named it */
		char now_who[200];
		describe_holder(s->lock_fd, now_who, sizeof(now_who));
		if (who[0] == '\0' || strncmp(now_who, "PID ", 4) == 0)
			memcpy(who, now_who, sizeof(who));
		int64_t spent = now_ms() - start;
		if (spent >= (int64_t)s->lock_wait_ms) {
			close(s->lock_fd);
			s->lock_fd = -1;
			format_wait(s->lock_wait_ms, wait, sizeof(wait));
			return store_fail(s, CML_ERR_BUSY,
			                  "the database is in use by %s; gave up after %s", who,
			                  wait);
		}
		*waited = true;
		int64_t left = (int64_t)s->lock_wait_ms - spent;
		sleep_ms(left < LOCK_POLL_MS ? (long)left : LOCK_POLL_MS);
	}
	if (*waited) {
		/* success: the caller may show that it waited (cml_store_errmsg) */
		format_wait((unsigned)(now_ms() - start), wait, sizeof(wait));
		store_fail(s, CML_OK, "waited %s for %s to finish", wait, who);
	}
	write_holder(s->lock_fd, program);
	return CML_OK;
}

static void
lock_release(cml_store *s)
{
	if (s->lock_fd < 0)
		return;
	/* Empty the holder line before letting go, so nobody blames us. */
	if (ftruncate(s->lock_fd, 0) != 0) {
		/* harmless: the next holder rewrites it */
	}
	flock(s->lock_fd, LOCK_UN);
	close(s->lock_fd);
	s->lock_fd = -1;
}

/* ---- runs ---- */

/*
 * SQLite rolls the whole transaction back by itself on some errors (disk
 * full, I/O error, out of memory). Writing on after that would autocommit
 * each statement: half a run in the database. So every write checks that
 * the run's transaction is still there.
 */
cml_status
store_need_run(cml_store *s, const char *what)
{
	if (!s->in_run)
		return store_fail(s, CML_ERR_STATE, "%s outside a run (cml_store_run_begin first)",
		                  what);
	if (sqlite3_get_autocommit(s->db))
		return store_fail(
		        s, CML_ERR_IO,
		        "%s: the run was rolled back by an earlier error; nothing of it is "
		        "recorded",
		        what);
	return CML_OK;
}

static void
end_run(cml_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < SQ_COUNT; i++)
		if (s->q[i] != NULL)
			sqlite3_reset(s->q[i]);
	s->in_run = false;
	s->run_id = 0;
	s->run_started[0] = '\0';
	s->run_gen = 0;
	store_register_run_end(s->reg);
	lock_release(s);
}

cml_status
cml_store_run_begin(cml_store *s, const char *program)
{
	cml_status st;
	bool waited;

	if (s->in_run)
		return store_fail(s, CML_ERR_STATE, "a run is already in progress on this handle");
	if (s->read_only)
		return store_fail(s, CML_ERR_STATE, "opened read-only: no run can write");
	if (program == NULL || program[0] == '\0')
		program = "cmlkit";
	s->errmsg[0] = '\0';
	if ((st = lock_take(s, program, &waited)) != CML_OK)
		return st;
	char note[CML_ERRMSG_MAX];
	cml_msg_set(note, sizeof(note), "%s", s->errmsg);

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		st = store_db_fail(s, "cannot start the run");
		if (st == CML_ERR_BUSY)
			store_fail(s, st,
			           "the database is locked by a connection outside cmlkit's runs "
			           "(the sqlite3 shell?): %s",
			           sqlite3_errmsg(s->db));
		lock_release(s);
		return st;
	}
	s->in_run = true;
	sqlite3_stmt *q = query(s, SQ_RUN_INSERT, &st);
	if (q == NULL)
		goto bad;
	sqlite3_bind_text(q, 1, program, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)getpid());
	/* the run's start is the time of everything it stores (the ledger's
	 * revisions), one time for the whole run */
	if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_text(q, 0) == NULL) {
		st = store_db_fail(s, "cannot log the run");
		sqlite3_reset(q);
		goto bad;
	}
	cml_msg_set(s->run_started, sizeof(s->run_started), "%s",
	            (const char *)sqlite3_column_text(q, 0));
	if ((st = store_step_done(s, q, "cannot log the run")) != CML_OK)
		goto bad;
	s->run_id = sqlite3_last_insert_rowid(s->db);
	cml_msg_set(s->errmsg, sizeof(s->errmsg), "%s", note);
	return CML_OK;
bad:
	end_run(s);
	return st;
}

cml_status
cml_store_run_commit(cml_store *s, const char *outcome, const char *counts_json)
{
	cml_status st;

	if (!s->in_run)
		return store_need_run(s, "commit");
	if ((st = store_need_run(s, "commit")) != CML_OK)
		goto bad;
	sqlite3_stmt *q = query(s, SQ_RUN_END, &st);
	if (q == NULL)
		goto bad;
	sqlite3_bind_int64(q, 1, s->run_id);
	sqlite3_bind_text(q, 2, outcome != NULL ? outcome : "ok", -1, SQLITE_STATIC);
	if (counts_json != NULL)
		sqlite3_bind_text(q, 3, counts_json, -1, SQLITE_STATIC);
	if ((st = store_step_done(s, q, "cannot log the run's end")) != CML_OK)
		goto bad;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		st = store_db_fail(s, "cannot commit the run (nothing of it is recorded)");
		goto bad;
	}
	end_run(s);
	return CML_OK;
bad:
	end_run(s); /* rolls back: the run left nothing */
	return st;
}

void
cml_store_run_rollback(cml_store *s)
{
	if (s == NULL || !s->in_run)
		return;
	end_run(s);
}

int64_t
cml_store_run_id(const cml_store *s)
{
	return s != NULL && s->in_run ? s->run_id : 0;
}
