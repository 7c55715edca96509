/*
 * merge.h: joining the parts of split offers (see merge.c).
 */
#ifndef CMLKIT_MERGE_H
#define CMLKIT_MERGE_H

#include <stdbool.h>

#include <cml/writer.h>

typedef struct offer_merge offer_merge;

offer_merge *offer_merge_new(void);
void offer_merge_free(offer_merge *m);

/* True when the offer carries its prices and its stock: nothing to join. */
bool offer_is_whole(const cml_offer *o);

/* Copies the offer in, or folds it into the record of the same Ид.
 * False when out of memory. */
bool offer_merge_add(offer_merge *m, const cml_offer *o);
size_t offer_merge_count(const offer_merge *m);

/* Hands every joined offer to sink, in first-seen order. */
typedef cml_status offer_sink_fn(void *ud, const cml_item *item);
cml_status offer_merge_flush(offer_merge *m, offer_sink_fn *sink, void *ud);

/* Keeps a property (with an Ид) until the end, or joins the values of a
 * repeat of it into the one kept (the caller has checked that the rest is
 * the same). False when out of memory. */
bool offer_merge_add_property(offer_merge *m, const cml_property *p);
/* Hands every property kept to sink, in first-seen order. */
cml_status offer_merge_flush_properties(offer_merge *m, offer_sink_fn *sink, void *ud);

#endif /* CMLKIT_MERGE_H */
