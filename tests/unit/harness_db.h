/*
 * harness_db.h: what the store tests share beside harness.h: fresh
 * database paths and one-integer queries on a connection of their own
 * (so a test sees what was committed, not its handle's view).
 */
#ifndef CMLKIT_HARNESS_DB_H
#define CMLKIT_HARNESS_DB_H

#include <stdio.h>

#include <sqlite3.h>

/* A fresh database path in dir: dir/dbN.sqlite, N counting up. */
static inline void
harness_db_path(const char *dir, char *out, size_t cap)
{
	static int count;

	snprintf(out, cap, "%s/db%d.sqlite", dir, ++count);
}

/* One integer (or -1) from a query run on its own connection. */
static inline long long
sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	long long v = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

#endif /* CMLKIT_HARNESS_DB_H */
