/*
 * store.h: the project's SQLite database (cmlkit-db(5)).
 *
 * One file (default ./cmlkit.db; programs take --db FILE and CMLKIT_DB),
 * created 0600 on first use, in WAL mode, its schema versioned with
 * PRAGMA user_version and migrated forward on open. Every run's writes
 * happen in one transaction (cml_store_run_begin .. cml_store_run_commit);
 * a run that does not commit leaves the database as it was.
 *
 * Run lock: a run holds an exclusive lock for its whole length; a second
 * run on the same database waits up to opts->lock_wait_ms and then is
 * refused with CML_ERR_BUSY and a message saying who holds it.
 *
 * Beside the core, each kind of state has its own header over the same
 * handle and inside the same runs: cml/generations.h (the catalog's
 * generations and baseline) and cml/ledger.h (the order ledger).
 */
#ifndef CML_STORE_H
#define CML_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"
#include "fingerprint.h"

CML_BEGIN_DECLS

typedef struct cml_store cml_store;

typedef struct cml_store_opts {
	unsigned lock_wait_ms; /* how long a run waits for another; 0 = 10000 */
	bool read_only;        /* open an existing database, write nothing */
} cml_store_opts;

/* The default path: $CMLKIT_DB if set and non-empty, else "cmlkit.db". */
const char *cml_store_default_path(void);

/* Opens (creating it 0600 if missing, unless read_only) and migrates.
 * On failure returns NULL and, if errbuf is given, a message in it. */
CML_NODISCARD cml_store *cml_store_open(const char *path, const cml_store_opts *opts,
                                        cml_status *st, char *errbuf, size_t errcap);
void cml_store_close(cml_store *s);
const char *cml_store_errmsg(const cml_store *s);

/* The schema version this library writes (PRAGMA user_version). */
int cml_store_schema_version(void);

/* ---- runs ---- */

/* Takes the run lock and begins the run's transaction, logging the run
 * (program, start time) in the run log. */
CML_NODISCARD cml_status cml_store_run_begin(cml_store *s, const char *program);
/* Records outcome ("ok", "nothing", "partial", ...) and counts (a short
 * JSON object, may be NULL) in the run log and commits. */
CML_NODISCARD cml_status cml_store_run_commit(cml_store *s, const char *outcome,
                                              const char *counts_json);
/* Rolls everything of the run back (the run log entry included). */
void cml_store_run_rollback(cml_store *s);

/* The current run's number (increasing, never reused) while a run is
 * open; 0 outside a run. The ledger records it on every revision. */
int64_t cml_store_run_id(const cml_store *s);

CML_END_DECLS

#endif /* CML_STORE_H */
