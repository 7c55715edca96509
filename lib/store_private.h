/*
 * store_private.h: what the store's core (store.c) shares with the kinds
 * of state kept beside it over the same connection (generations.c and
 * its fullmerge.c, ledger.c, register.c). Never installed; programs
 * under cmd/ must not include it.
 *
 * The core owns the connection, the run and the statements kept on the
 * handle. Every module's kept statement has a slot in enum store_q, so
 * that the core can reset them all when a run ends and finalize them on
 * close; the SQL text stays in the module that runs it (store_query
 * prepares it on first use).
 */
#ifndef CML_STORE_PRIVATE_H
#define CML_STORE_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "cml/store.h"
#include "cml_private.h"

/* An ISO 8601 UTC time as SQL: what every "stored", "created" column holds. */
#define STORE_NOW_SQL "strftime('%Y-%m-%dT%H:%M:%SZ','now')"

enum store_q {
	/* store.c: runs */
	SQ_RUN_INSERT,
	SQ_RUN_END,
	/* generations.c: baseline and generations */
	SQ_BASE_GET,
	SQ_GEN_PUT,
	SQ_BASE_GEN,
	SQ_GEN_NEW,
	SQ_GEN_STATE,
	SQ_ACK_FULL_CLEAR,
	SQ_ACK_APPLY,
	SQ_ACK_DROP,
	SQ_ACK_META,
	SQ_ACK_MARK,
	SQ_GEN_INFO,
	SQ_GEN_FILES,
	SQ_GEN_FIND,
	SQ_GEN_SUPERSEDE,
	SQ_BASE_ITEMS,
	SQ_PRUNE_LIST,
	SQ_PRUNE_PARTS,
	SQ_PRUNE_COUNT,
	SQ_PRUNE_LEFT,
	SQ_PRUNE_MARK,
	/* fullmerge.c: a full generation's acknowledgement by what changed */
	SQ_FA_ANY,
	SQ_FA_RANGE,
	SQ_FA_ROWS,
	SQ_FA_BASE,
	SQ_FA_ROW,
	SQ_FA_PUT,
	SQ_FA_DEL,
	/* ledger.c: orders, revisions, attachments */
	SQ_LG_FIND,
	SQ_LG_ORDER_NEW,
	SQ_LG_ORDER_SET,
	SQ_LG_REV_NEW,
	SQ_LG_REV_DOC,
	SQ_LG_REV_RUN,
	SQ_LG_REV_CHANGED,
	SQ_LG_GET,
	SQ_LG_ATT_FIND,
	SQ_LG_ATT_NEW,
	SQ_LG_ATT_SET,
	SQ_LG_COUNT_ALL,
	SQ_LG_COUNT_SITE,
	SQ_LG_MARK_GET,
	SQ_LG_MARK_SET,
	/* register.c: the counterparty register */
	SQ_RG_CID,
	SQ_RG_ALIAS_HAS,
	SQ_RG_CARD_ROW,
	SQ_RG_CARD_NEW,
	SQ_RG_CARD_SET,
	SQ_RG_GET,
	SQ_RG_FILL_INN,
	SQ_RG_PERSON_ADD,
	SQ_RG_PERSON_HAS,
	SQ_RG_CONTACT_ADD,
	SQ_RG_FIND_CONTACT,
	SQ_RG_FIND_INN,
	SQ_RG_M_PERSONS_COPY,
	SQ_RG_M_PERSONS_DEL,
	SQ_RG_M_CONTACTS_COPY,
	SQ_RG_M_CONTACTS_DEL,
	SQ_RG_M_FILL,
	SQ_RG_M_HEADS,
	SQ_RG_M_ALIASES,
	SQ_RG_M_ALIAS_NEW,
	SQ_RG_M_CARD_DEL,
	SQ_RG_PERSONS_OF,
	SQ_RG_CONTACTS_OF,
	SQ_RG_COUNT,
	SQ_RG_REVIEW_GET,
	SQ_RG_REVIEW_NEW,
	SQ_RG_REVIEW_SET,
	SQ_RG_REVIEW_BY_ID,
	SQ_RG_REVIEW_BY_NUMBER,
	SQ_RG_REVIEW_RESOLVE,
	SQ_RG_RESOLUTION,
	SQ_RG_MATCHED_GET,
	SQ_RG_MATCHED_SET,
	SQ_RG_REVIEW_OPEN,
	/* progress.c: order progress and the status map */
	SQ_PG_ROW,
	SQ_PG_PUT,
	SQ_PG_STEP_ADD,
	SQ_PG_STEP_UNDO,
	SQ_PG_UPDATE_DONE,
	SQ_PG_DELIVERED,
	SQ_PG_FIND,
	SQ_PG_MAP_LOOKUP,
	SQ_PG_MAP_CODE,
	SQ_PG_MAP_HAS,
	SQ_PG_MAP_OWN,
	SQ_PG_MAP_OWN_MARK,
	SQ_PG_MAP_UNSEND,
	SQ_PG_MAP_SET,
	SQ_PG_MAP_DEL,
	/* ident.c: the catalog identity remembered */
	SQ_ID_GET,
	SQ_ID_SET,
	SQ_COUNT
};

/* The state of generations.c kept on the handle (gen_info's strings). */
struct store_gen;
/* The state of ledger.c kept on the handle (buffers, decoded documents). */
struct store_ledger;
/* The state of register.c kept on the handle (lookup results, caches). */
struct store_register;
/* The state of progress.c kept on the handle (the loaded order). */
struct store_progress;

struct cml_store {
	sqlite3 *db;
	char *path;
	char *lock_path;       /* NULL for ":memory:" */
	int lock_fd;           /* held during a run, else -1 */
	unsigned lock_wait_ms;
	bool read_only;
	bool in_run;
	int64_t run_id;
	char run_started[32];  /* the run's start, ISO 8601 UTC, "" outside a run */
	int64_t run_gen;       /* a pending generation of this run, checked */
	int gen_keep;          /* cml_store_gen_set_keep */
	sqlite3_stmt *q[SQ_COUNT];
	struct store_gen *gen;
	struct store_ledger *ledger;
	struct store_register *reg;
	struct store_progress *prog;
	char errmsg[CML_ERRMSG_MAX];
};

/* "PATH: what: sqlite's message" on the handle, and the status for the
 * connection's last error (never CML_OK). */
cml_status store_db_fail(cml_store *s, const char *what);

/* "PATH: message" on the handle; returns st. */
cml_status store_fail(cml_store *s, cml_status st, const char *fmt, ...) CML_PRINTF(3, 4);

/* Runs SQL without results. */
cml_status store_exec(cml_store *s, const char *sql, const char *what);

/* Steps the statement of a module's cursor: CML_OK on a row, CML_END at
 * the end (the statement is reset at once, so its read snapshot does not
 * outlive the iteration, and *done is set so later calls end too), else
 * store_db_fail(s, what). */
cml_status store_cursor_step(cml_store *s, sqlite3_stmt *stmt, bool *done, const char *what);

/* The kept statement of slot q, prepared from sql on first use; the
 * caller resets it. NULL with *st set on failure. */
sqlite3_stmt *store_query(cml_store *s, enum store_q q, const char *sql, cml_status *st);

/* Runs a statement to completion (no rows expected), resets it and
 * clears its bindings. */
cml_status store_step_done(cml_store *s, sqlite3_stmt *q, const char *what);

/* CML_OK when a run is open and its transaction is still there (SQLite
 * rolls back by itself on some errors: writing on would autocommit). */
cml_status store_need_run(cml_store *s, const char *what);

/* A fingerprint as the 16 bytes stored (big-endian hi, then lo). */
void store_fp_pack(const cml_fp *fp, unsigned char out[16]);
void store_fp_unpack(const unsigned char in[16], cml_fp *fp);

/* fullmerge.c: acknowledges the full generation gen against a baseline
 * by writing only what differs. *done false when it leaves the work to
 * generations.c's rebuild (an empty baseline, a quarter or more changed,
 * no memory for its entries), having written nothing; else *parts is the
 * number of the generation's parts. */
cml_status store_full_merge(cml_store *s, int64_t gen, bool *done, int64_t *parts);

/* Module state, freed by the core on close (NULL is fine). */
void store_gen_free(struct store_gen *g);
void store_ledger_free(struct store_ledger *l);
void store_register_free(struct store_register *r);
void store_progress_free(struct store_progress *p);
/* A run ended (committed or rolled back): what register.c remembers of
 * the rows of the run is no longer sure. NULL is fine. */
void store_register_run_end(struct store_register *r);

/* Whether the order (site, order_id) has an open review in the
 * register (cp-match could not decide its buyer): what confirm checks. */
cml_status store_register_review_open(cml_store *s, const char *site, const char *order_id,
                                      bool *open);

#endif /* CML_STORE_PRIVATE_H */
