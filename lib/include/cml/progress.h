/*
 * progress.h: order progress in the store (cmlkit-db(5) "Order
 * progress"): each ledger order's state under the state machine
 * (orderstate.h), every step applied to it with its source and time, the
 * map from a site's status codes to states, and what of it has been
 * delivered to the site.
 *
 * An order's progress starts when its first step is applied; before
 * that it is NEW with every facet none, its total and lines taken from
 * the ledger's latest revision (cml_ledger_get). A later revision of the
 * order from the site (a changed basket) keeps the progress; its lines
 * and total are read again from the latest revision on every load, with
 * the shipped quantities kept by line position.
 *
 * Each applied step adds one to the order's progress version; the order
 * is pending delivery while that version is above the version delivered
 * (cml_progress_delivered). orders-push sends the order's state as it is
 * then, and marks the version it sent: a step applied while a push is on
 * its way stays pending for the next push.
 *
 * Every write happens inside the current run (cml_store_run_begin ..
 * cml_store_run_commit). Strings handed out stay valid until the next
 * progress call on the same store.
 */
#ifndef CML_PROGRESS_H
#define CML_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"
#include "orderstate.h"
#include "store.h"

CML_BEGIN_DECLS

/*
 * Which order key names: its Ид, else its Номер, of site (NULL or "":
 * any site). CML_OK with *site_out and *id_out; CML_END when no ledger
 * order has that Ид or Номер; CML_ERR_VALUE when several do (orders of
 * two sites, or one order's Ид that is another's Номер), with the
 * candidates in cml_store_errmsg.
 */
CML_NODISCARD cml_status cml_progress_find(cml_store *s, const char *site, const char *key,
                                           const char **site_out, const char **id_out);

/* One order's progress as loaded. */
typedef struct cml_progress_order {
	const char *site;
	const char *id;
	const char *number;        /* Номер, "" when none */
	const char *date;          /* the order's Дата */
	const char *currency;
	cml_order_state state;     /* its lines point into this struct's store
	                              memory: copy before the next call */
	int64_t version;           /* progress version: applied steps */
	int64_t delivered;         /* the version last delivered to the site */
	const char *delivered_at;  /* ISO 8601 UTC, "" when never */
	const char *site_refusal;  /* the site's words when it said it cannot
	                              change the order at the version delivered
	                              ("Заказ №… не может быть изменен"),
	                              "" when it took it */
	const char *updated;       /* when the last step was applied, "" when none */
	const char *src_version;   /* the last batch update's version, "" when none */
	const char *src_changed;   /* its change time, "" when none */
	const char *status_code;   /* the last site status code the accounting
	                              system sent ("" when none) */
} cml_progress_order;

/* Loads an order of the ledger with its progress (NEW when none yet);
 * counterparty_open filled from the register's open reviews. CML_END
 * when the ledger has no such order. */
CML_NODISCARD cml_status cml_progress_load(cml_store *s, const char *site, const char *id,
                                           cml_progress_order *out);

/* Where an update came from, recorded with each step. */
typedef struct cml_progress_source {
	const char *kind;     /* "cli", "csv", "cml" */
	const char *name;     /* the file ("-" for stdin), NULL for cli */
	int64_t line;         /* the line in it, 0 when none */
	const char *version;  /* the update's version (НомерВерсии, a CSV
	                         column); NULL or "": none */
	const char *changed;  /* its change time; NULL or "": none */
} cml_progress_source;

typedef enum cml_progress_outcome {
	CML_PROGRESS_APPLIED = 0,
	CML_PROGRESS_NOOP,
	CML_PROGRESS_REFUSED,
	CML_PROGRESS_STALE,    /* not newer than the last update from a
	                          batch (cml_os_stale): ignored */
} cml_progress_outcome;

/* "applied", "noop", "refused", "stale". */
const char *cml_progress_outcome_name(cml_progress_outcome o);

typedef struct cml_progress_result {
	cml_progress_outcome outcome;
	cml_os_result os;      /* REFUSED: the rule and why */
	cml_os_life life;      /* the order's lifecycle after the step */
	int64_t version;       /* its progress version after the step */
} cml_progress_result;

/*
 * Applies one step to one order inside the current run: loads the
 * state, checks staleness (when src has a version or change time, against
 * the last applied from a batch), runs cml_os_apply, and on APPLIED
 * stores the new state, logs the step (kind, arguments, source, time,
 * run) and adds one to the progress version. NOOP, REFUSED and STALE
 * store nothing. CML_OK with *res whatever the outcome; CML_END when the
 * order is not in the ledger; other errors are the store's.
 *
 * A batch (several steps of one update) passes the same src to each
 * step; the staleness mark (src->version, src->changed) is recorded once
 * cml_progress_update_done is called for that update, so the later steps
 * of the same update are not stale against the earlier ones.
 */
CML_NODISCARD cml_status cml_progress_apply(cml_store *s, const char *site, const char *id,
                                            const cml_step *step, const cml_progress_source *src,
                                            cml_progress_result *res);

/* Records that the update src (its version and change time) was read
 * for this order, whatever its steps' outcomes, so a later update not
 * newer than it is stale. Also records a site status code the update
 * carried (NULL: keep). */
CML_NODISCARD cml_status cml_progress_update_done(cml_store *s, const char *site,
                                                  const char *id,
                                                  const cml_progress_source *src,
                                                  const char *status_code);

/* Is an update with this version / change time stale for the order?
 * (cml_os_stale against what cml_progress_update_done recorded.) */
CML_NODISCARD cml_status cml_progress_is_stale(cml_store *s, const char *site, const char *id,
                                               const char *version, const char *changed,
                                               bool *stale);

/* One logged step. */
typedef struct cml_progress_step {
	int64_t seq;          /* 1, 2, ... per order */
	cml_step_kind kind;
	const char *args;     /* as typed back: "INV-7 2026-11-30", "500.00" */
	const char *source;   /* "cli", "csv:FILE:LINE", "cml:FILE:LINE" */
	const char *at;       /* when, ISO 8601 UTC */
	int64_t run;
	int64_t version;      /* the progress version it made */
} cml_progress_step;

/* The steps of one order, oldest first. Call with *cursor = NULL; CML_OK
 * with *out, CML_END at the end; end with cml_progress_end (also after
 * CML_END). The store may be written only after cml_progress_end. */
CML_NODISCARD cml_status cml_progress_steps(cml_store *s, const char *site, const char *id,
                                            void **cursor, cml_progress_step *out);

/* Which orders cml_progress_next gives; zero fields do not filter. Orders
 * of the ledger with no progress yet count as NEW. */
typedef struct cml_progress_filter {
	const char *site;
	unsigned life_mask;   /* bit (1u << cml_os_life); 0: every state */
	bool pending;         /* only orders with version > delivered */
} cml_progress_filter;

/* The orders, in the order the ledger first stored them; like
 * cml_progress_steps (end with cml_progress_end). */
CML_NODISCARD cml_status cml_progress_next(cml_store *s, const cml_progress_filter *f,
                                           void **cursor, cml_progress_order *out);
void cml_progress_end(cml_store *s, void **cursor);

/* Inside the current run: the site has answered for the order's state
 * at version: took it (site_refusal NULL), or said it cannot change the
 * order (its words; the version counts as delivered all the same, so it
 * is not sent again until a new step, and the words are kept for show).
 * Never moves back; a version above the order's is CML_ERR_VALUE. */
CML_NODISCARD cml_status cml_progress_delivered(cml_store *s, const char *site, const char *id,
                                                int64_t version, const char *site_refusal);

/* ---- the status map: a site's status codes <-> lifecycle states ---- */

/* One entry: code (1..16 of [A-Za-z0-9_-], compared as written) on site
 * ("" = every site) means life; send: the code orders-push writes for an
 * order in that state (one per state and site). */
typedef struct cml_status_map_entry {
	const char *site;
	const char *code;
	cml_os_life life;
	bool send;
	const char *name;     /* the site's name for it ("Выполнен"), "" when none */
} cml_status_map_entry;

/* A database that has never had a map answers with the defaults: N =
 * NEW (sent), P = CONFIRMED (sent), F = COMPLETED (sent), every site;
 * CANCELLED has no code (Отменен carries it). Setting or deleting an
 * entry makes the map the database's own from then on. */

/* Sets (adds or replaces) an entry inside the current run. A send entry
 * takes send from any other code of the same state and site.
 * CML_ERR_VALUE for a code that is not valid. */
CML_NODISCARD cml_status cml_status_map_set(cml_store *s, const cml_status_map_entry *e);
/* Deletes site's code; CML_END when there is none. */
CML_NODISCARD cml_status cml_status_map_del(cml_store *s, const char *site, const char *code);
/* code on site (then on every site) -> life; CML_END when unmapped. */
CML_NODISCARD cml_status cml_status_map_lookup(cml_store *s, const char *site, const char *code,
                                               cml_os_life *life);
/* The code sent for life on site (then every site); CML_END when none. */
CML_NODISCARD cml_status cml_status_map_code(cml_store *s, const char *site, cml_os_life life,
                                             const char **code);
/* Every entry, site then code; like cml_progress_steps. */
CML_NODISCARD cml_status cml_status_map_next(cml_store *s, void **cursor,
                                             cml_status_map_entry *out);

CML_END_DECLS

#endif /* CML_PROGRESS_H */
