/*
 * diff.h: comparing a catalog with the baseline, part by part, and
 * writing and recording only what changed (delta-export's engine).
 *
 *     d = cml_diff_new(&opts);          // store, writer, generation
 *     while (next item) cml_diff_add(d, item);
 *     cml_diff_finish(d, CML_UNSET);    // deletions, headers
 *
 * For every part of every item (fingerprint.h) the diff looks the part up
 * in the baseline: new, changed or the same. What is new or changed is
 * recorded in the generation and written: a group, property, price type,
 * warehouse or unit whole; a product card whole; of an offer only its
 * parts that changed (a price-only change writes the offer's Ид and
 * prices, not its stock or card). The headers (Классификатор, Каталог,
 * ПакетПредложений) are held and handed to the writer at the end only if
 * anything changed, so no change writes no file.
 *
 * Deletions: a product or offer marked deleted in the input, that the
 * baseline has, is a deletion. At finish, when the input was a whole
 * catalog (its Каталог / ПакетПредложений did not say
 * СодержитТолькоИзменения="true", or the caller says so), what the
 * baseline has and the input lacked is a deletion too: products and
 * offers are written with Статус="Удален"; every deleted part is
 * recorded. A partial input never deletes by absence, and neither does
 * a header that says whole with nothing under it: a Каталог without a
 * single product, a ПакетПредложений without a single offer (1C's split
 * layout with its goods file missing) is taken as partial
 * (cml_diff_empty_whole tells).
 *
 * A part that disappears: when the offers are whole, an offer the input
 * has whose prices (stock) the baseline has and the input's offer lacks
 * lost them. Its prices go out as an empty Цены (the site replaces an
 * offer's prices with the incoming list: it removes them all), its stock
 * as Количество 0 (the site shows it out of stock), and the part is
 * recorded deleted. When no offer of the input carries prices (stock) at
 * all, a whole file is taken as missing (1C's prices___ or rests___ file
 * not there), not as every price gone: nothing is sent for that part
 * (cml_diff_part_missing tells).
 */
#ifndef CML_DIFF_H
#define CML_DIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"
#include "fingerprint.h"
#include "model.h"
#include "generations.h"
#include "writer.h"

CML_BEGIN_DECLS

typedef struct cml_diff cml_diff;

struct cml_attach;

typedef struct cml_diff_opts {
	cml_store *store;   /* the baseline; must be inside a run */
	bool record;        /* record a generation (false: a dry run) */
	cml_gen_kind kind;  /* of the generation, made at the first change */
	const char *package;/* where the package is written, for the record */
	cml_writer *writer; /* NULL writes nothing (a dry run) */
	bool record_all;    /* record every part, changed or not (a full
	                       generation: its parts become the baseline) */
	bool preload;       /* read the whole baseline into memory first
	                       (16 bytes a part): one pass over the database
	                       instead of a lookup per part */
	struct cml_attach *attach; /* the files products name (attach.h): part
	                       of their cards' fingerprints, so a replaced
	                       picture makes its card travel (the writer is
	                       given the same one); an unsafe reference fails
	                       cml_diff_add with CML_ERR_VALUE. NULL: files
	                       not looked at. Not owned. */
} cml_diff_opts;

typedef struct cml_diff_counts {
	unsigned long added[CML_PART_COUNT];
	unsigned long changed[CML_PART_COUNT];
	unsigned long deleted[CML_PART_COUNT];
	unsigned long same[CML_PART_COUNT];
	unsigned long written;  /* items handed to the writer */
	unsigned long deleted_offers; /* offers deleted (each Ид once), at finish */
} cml_diff_counts;

CML_NODISCARD cml_diff *cml_diff_new(const cml_diff_opts *opts);
void cml_diff_free(cml_diff *d);

CML_NODISCARD cml_status cml_diff_add(cml_diff *d, const cml_item *item);

/* whole: CML_TRUE the input was a whole catalog, CML_FALSE it was not,
 * CML_UNSET as its headers say. */
CML_NODISCARD cml_status cml_diff_finish(cml_diff *d, cml_tristate whole);

const cml_diff_counts *cml_diff_get_counts(const cml_diff *d);
/* After finish: the input's Каталог (kind CML_ITEM_PRODUCT) or
 * ПакетПредложений (CML_ITEM_OFFER) said it was whole but the input held
 * no product (offer) at all, so nothing was deleted by absence. */
bool cml_diff_empty_whole(const cml_diff *d, cml_kind kind);
/* After finish: the offers were whole, yet none carried part
 * (CML_PART_OFFER_PRICES or CML_PART_OFFER_STOCK): no offer lost it. */
bool cml_diff_part_missing(const cml_diff *d, cml_part part);
/* Anything new, changed or deleted. */
bool cml_diff_changed(const cml_diff *d);
/* The generation recorded, 0 when none was (no change, or a dry run). */
int64_t cml_diff_gen(const cml_diff *d);
const char *cml_diff_errmsg(const cml_diff *d);

CML_END_DECLS

#endif /* CML_DIFF_H */
