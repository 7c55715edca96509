/*
 * ledger.h: the order ledger (cmlkit-db(5)): every order a site sent,
 * keyed by (site, order Ид), with its history.
 *
 * An order is stored whole: every field the reader gives (cml_document
 * with its counterparties, lines, taxes, discounts, requisites and
 * payments) goes in, and reading it back gives the same document. Each
 * stored state of an order is a revision (1, 2, ...); a revision carries
 * the content fingerprint of the order (cml_ledger_fingerprint), the run
 * that stored it (cml_store_run_id) and what changed since the revision
 * before it.
 *
 * Putting an order whose fingerprint equals its latest revision's changes
 * nothing (CML_LEDGER_UNCHANGED): a site that repeats what it sent, or a
 * pull that is run again after a crash before mode=success, never makes a
 * second order or a second revision.
 *
 * The payment and shipment documents that a 2.10 answer carries beside
 * an order (Основание = the order's Ид) are not orders: they are attached
 * to their order with cml_ledger_attach, each keyed by (site, its own
 * Ид), with its own fingerprint. A new or changed attachment is a change
 * of its order: the order gets a new revision whose "changed" names the
 * attachment, so whatever follows new revisions sees it. When the
 * current run already stored the order's latest revision (an answer
 * carries an order, then its payments), that revision names it instead:
 * one revision of an order per run; revision 1 names nothing.
 *
 * Every write happens inside the current run (cml_store_run_begin ..
 * cml_store_run_commit); nothing is visible to others before the commit.
 */
#ifndef CML_LEDGER_H
#define CML_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"
#include "fingerprint.h"
#include "model.h"
#include "store.h"

CML_BEGIN_DECLS

typedef enum cml_ledger_change {
	CML_LEDGER_UNCHANGED = 0, /* same content as the latest revision */
	CML_LEDGER_NEW = 1,       /* first revision of this order */
	CML_LEDGER_CHANGED = 2,   /* a new revision */
} cml_ledger_change;

/* "unchanged", "new", "changed". */
const char *cml_ledger_change_name(cml_ledger_change c);

/* The content fingerprint of an order or attachment: every field of the
 * document, numbers compared as canonical decimals (100 = 100.00),
 * values trimmed; the order of lines, counterparties, requisites and
 * other lists is part of the content. */
CML_NODISCARD cml_status cml_ledger_fingerprint(const cml_document *doc, cml_fp *fp);

typedef struct cml_ledger_put_result {
	cml_ledger_change change;
	int64_t revision;  /* the order's latest revision after the put */
	/* CHANGED: what changed against the revision before, as field
	 * names separated by ", " ("Сумма, Товары, Статус заказа"; at most
	 * the buffer, cut with "..."); "" otherwise. */
	char changed[512];
} cml_ledger_put_result;

/*
 * Stores one order of site (doc->id must be set; CML_ERR_VALUE when it is
 * not) inside the current run. res may be NULL.
 */
CML_NODISCARD cml_status cml_ledger_put(cml_store *s, const char *site, const cml_document *doc,
                                        cml_ledger_put_result *res);

/*
 * Stores a payment or shipment document (doc->basis: its order's Ид)
 * inside the current run. CML_OK with *change; when the attachment is
 * new or changed and its order is in the ledger, the order gets a new
 * revision (or this run's, as above). An attachment whose order is not (yet) in the ledger is kept
 * and counts from the moment the order arrives. change may be NULL.
 */
CML_NODISCARD cml_status cml_ledger_attach(cml_store *s, const char *site,
                                           const cml_document *doc, cml_ledger_change *change);

/* One revision of one order, as read back. Strings and the document are
 * valid until the next ledger call on the same store. */
typedef struct cml_ledger_order {
	const char *site;
	const char *id;           /* the order's Ид */
	const char *number;       /* its Номер, "" when none */
	int64_t revision;         /* this revision */
	int64_t revisions;        /* how many the order has */
	int64_t run;              /* the run that stored this revision */
	const char *stored;       /* when, ISO 8601 UTC */
	const char *first_stored; /* when revision 1 was stored */
	const char *changed;      /* what changed ("" for revision 1) */
	cml_fp fp;
	const cml_document *doc;  /* the order as stored */
} cml_ledger_order;

/* One order: revision 0 means the latest. CML_END when there is no such
 * order (or revision). */
CML_NODISCARD cml_status cml_ledger_get(cml_store *s, const char *site, const char *id,
                                        int64_t revision, cml_ledger_order *out);

/* Which orders cml_ledger_next gives. Zero fields do not filter. */
typedef struct cml_ledger_filter {
	const char *site;       /* NULL: every site */
	int64_t run;            /* revisions stored by exactly this run */
	int64_t since_run;      /* revisions stored by this run or a later one */
	const char *since;      /* revisions stored at or after this time:
	                           "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS" (UTC) */
} cml_ledger_filter;

/*
 * Iterates orders that have a revision matching the filter, each once,
 * with its latest revision, in the order they were first stored. Call
 * with *cursor = NULL first; CML_OK with *out, CML_END at the end; end
 * it with cml_ledger_end (also after CML_END). Reads run on their own
 * statement: the store may be written between two calls only after
 * cml_ledger_end.
 */
CML_NODISCARD cml_status cml_ledger_next(cml_store *s, const cml_ledger_filter *f,
                                         void **cursor, cml_ledger_order *out);
void cml_ledger_end(cml_store *s, void **cursor);

/* The attachments of one order, in the order they were first stored:
 * like cml_ledger_next (end with cml_ledger_end). */
CML_NODISCARD cml_status cml_ledger_attachments(cml_store *s, const char *site,
                                                const char *order_id, void **cursor,
                                                const cml_document **doc);

/* The revisions of one order, oldest first (out->doc is NULL: use
 * cml_ledger_get for a revision's content). End with cml_ledger_end. */
CML_NODISCARD cml_status cml_ledger_history(cml_store *s, const char *site, const char *id,
                                            void **cursor, cml_ledger_order *out);

/*
 * The output mark: what of the ledger has gone on to whoever takes the
 * orders next (orders-pull's standard output, for the accounting
 * system). A site's mark is the last run whose new and changed orders
 * were written out in full; orders with a revision stored by a later run
 * are pending output (cml_ledger_filter.since_run = mark + 1). A program
 * moves the mark only after its output is complete, so a run that stored
 * orders and died, or failed, before that leaves them to the next run:
 * an order may go out twice (the accounting system takes it by its Ид),
 * never not at all.
 */

/* The site's mark; 0 when nothing has gone out yet. */
CML_NODISCARD cml_status cml_ledger_output_mark(cml_store *s, const char *site, int64_t *run);

/* Inside the current run: moves the site's mark to run, never back. */
CML_NODISCARD cml_status cml_ledger_set_output_mark(cml_store *s, const char *site, int64_t run);

/* Orders in the ledger (site NULL: of every site). */
CML_NODISCARD cml_status cml_ledger_count(cml_store *s, const char *site, int64_t *n);

CML_END_DECLS

#endif /* CML_LEDGER_H */
