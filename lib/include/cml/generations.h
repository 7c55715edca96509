/*
 * generations.h: the catalog state in the store (cmlkit-db(5)), over a
 * cml_store handle (cml/store.h) and inside its runs.
 *
 * Catalog state:
 *  - a generation is a package full-export or delta-export wrote; it is
 *    pending until acknowledged;
 *  - the baseline is the state of the catalog as of the last acknowledged
 *    generation: one fingerprint per (part, Ид);
 *  - acknowledging a full generation makes its parts the whole baseline;
 *    acknowledging a delta generation applies its changes (new or changed
 *    fingerprints, deletions) to the baseline;
 *  - a generation that is never acknowledged never touches the baseline,
 *    so the next delta still carries its changes;
 *  - acknowledging a generation older than the baseline's, or one already
 *    acknowledged, changes nothing (CML_END: "nothing to do");
 *  - a later export run (delta-export, even one that writes nothing, or
 *    full-export) supersedes every generation still pending from earlier
 *    runs (cml_store_gen_supersede): its package describes a source that
 *    may have changed back since, so it is never acknowledged
 *    (cml_store_gen_ack refuses it with CML_ERR_STATE) and catalog-push
 *    does not send it. A generation is pending, acknowledged or
 *    superseded;
 *  - an acknowledgement prunes: the recorded parts of generations that
 *    can no longer be acknowledged (the one acknowledged, those older
 *    than it, the superseded) are deleted, all but the newest "keep" of
 *    them (cml_store_gen_set_keep). The generation's row stays, marked
 *    pruned with the number of parts it had. A delta's acknowledgement
 *    prunes delta generations only; a full generation's parts (a whole
 *    catalog) are pruned by a full acknowledgement, its own or a later
 *    one, so a delta's acknowledgement costs what its changes cost.
 */
#ifndef CML_GENERATIONS_H
#define CML_GENERATIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"
#include "fingerprint.h"
#include "model.h"
#include "store.h"

CML_BEGIN_DECLS

/* ---- baseline ---- */

/* The baseline's generation, 0 when there is no baseline yet. */
CML_NODISCARD cml_status cml_store_baseline_gen(cml_store *s, int64_t *gen);

/* CML_OK with *fp set when (part, id) is in the baseline, CML_END when
 * it is not. A prepared statement: millions of calls are fine. */
CML_NODISCARD cml_status cml_store_baseline_get(cml_store *s, cml_part part, const char *id,
                                                cml_fp *fp);

/* Iterates the baseline's Ид of one part in Ид order: call with
 * *cursor = NULL first; CML_OK with *id set (valid until the next call),
 * CML_END at the end. Used to find what a full input lacks. */
CML_NODISCARD cml_status cml_store_baseline_next(cml_store *s, cml_part part, void **cursor,
                                                 const char **id);
void cml_store_baseline_end(cml_store *s, void **cursor);

/* The number of products (kind CML_ITEM_PRODUCT) or offers
 * (CML_ITEM_OFFER: an offer with any of its parts) in the baseline, each
 * Ид once. */
CML_NODISCARD cml_status cml_store_baseline_items(cml_store *s, cml_kind kind, int64_t *n);

/* The number of parts in the baseline. */
CML_NODISCARD cml_status cml_store_baseline_count(cml_store *s, int64_t *n);

/* Iterates the whole baseline in storage order, for loading it into
 * memory: like cml_store_baseline_next (end it with
 * cml_store_baseline_end), with the part and the fingerprint too. */
CML_NODISCARD cml_status cml_store_baseline_scan(cml_store *s, void **cursor, cml_part *part,
                                                 const char **id, cml_fp *fp);

/* ---- generations ---- */

typedef enum cml_gen_kind { CML_GEN_FULL = 1, CML_GEN_DELTA = 2 } cml_gen_kind;

/* Starts a pending generation inside the current run; *gen is its number
 * (increasing, never reused). package is where it was written (a
 * directory), kept for catalog-push and people. */
CML_NODISCARD cml_status cml_store_gen_new(cml_store *s, cml_gen_kind kind, const char *package,
                                           int64_t *gen);

/* Records one part of a generation: its new fingerprint, or (deleted =
 * true) that the part is gone. A full generation records every part it
 * contains; a delta only what changed. */
CML_NODISCARD cml_status cml_store_gen_put(cml_store *s, int64_t gen, cml_part part,
                                           const char *id, const cml_fp *fp, bool deleted);

/* Acknowledges gen, inside the current run: the baseline becomes its
 * state, then the generations' parts are pruned (above). CML_END when gen is already acknowledged or older than the
 * baseline; CML_ERR_VALUE when there is no such generation;
 * CML_ERR_STATE when it was superseded. */
CML_NODISCARD cml_status cml_store_gen_ack(cml_store *s, int64_t gen);

/* How many of the prunable generations' parts an acknowledgement on
 * this handle keeps, newest first, for inspection (default
 * CML_GEN_KEEP_DEFAULT: none, so the database holds the baseline and
 * what is pending). CML_ERR_USAGE for a negative count. */
#define CML_GEN_KEEP_DEFAULT 0
CML_NODISCARD cml_status cml_store_gen_set_keep(cml_store *s, int keep);

/* Generation info, for programs that list or push them. */
typedef struct cml_gen_info {
	int64_t gen;
	cml_gen_kind kind;
	const char *package;  /* valid until the next call on the store */
	const char *created;  /* ISO 8601 UTC */
	const char *acked;    /* NULL while pending */
	int64_t parts;        /* rows recorded (pruned or not) */
	const char *files;    /* as given to cml_store_gen_set_files, or NULL */
	const char *superseded;    /* when a later run superseded it, or NULL */
	const char *superseded_by; /* that run's program, or NULL */
	const char *pruned;   /* when its parts were pruned, or NULL */
} cml_gen_info;

CML_NODISCARD cml_status cml_store_gen_info(cml_store *s, int64_t gen, cml_gen_info *info);

/* Records what the files of a pending generation of this run looked like
 * once written (the programs store "name\tsize\tmtime" lines), so that
 * the package in the directory can later be told from one rewritten by
 * a run that did not record it. */
CML_NODISCARD cml_status cml_store_gen_set_files(cml_store *s, int64_t gen, const char *files);

/* Inside the current run: marks every generation still pending from an
 * earlier run superseded by this one (*n: how many; n may be NULL). An
 * export run calls it once it knows it will commit. */
CML_NODISCARD cml_status cml_store_gen_supersede(cml_store *s, int64_t *n);

/* The newest generation written to the directory package (as recorded
 * by cml_store_gen_new): CML_OK with *gen, or CML_END when none. */
CML_NODISCARD cml_status cml_store_gen_find(cml_store *s, const char *package, int64_t *gen);

CML_END_DECLS

#endif /* CML_GENERATIONS_H */
