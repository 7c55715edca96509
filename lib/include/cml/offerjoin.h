/*
 * offerjoin.h: joining the parts of split offers, and the repeats of a
 * property, into the one item a normalised package carries.
 *
 * A split package (2.08+ and 3.1, as УТ 11 writes it) spreads one offer
 * over several files: its card in offers___, its prices in prices___, its
 * stock in rests___; and repeats its classifier in several files, each
 * listing the values (ВариантыЗначений) its own items use. full-export
 * and delta-export both join them before anything else sees them, so the
 * same input gives the same package through either program: one
 * Предложение per offer, each property with all its values.
 *
 *     j = cml_offerjoin_new();
 *     for each item read:
 *         property with an Ид:          cml_offerjoin_add_property(j, p)
 *         offer, !cml_offer_is_whole(o): cml_offerjoin_add(j, o)
 *         anything else:                 straight on
 *     cml_offerjoin_flush_properties(j, sink, ud);
 *     cml_offerjoin_flush(j, sink, ud);
 *
 * Only parts are held: an offer that arrives whole (prices and stock, as
 * every single-file package has it) goes straight on, so a single-file
 * catalog streams in flat memory. Parts are kept until the end, one record
 * per offer, in one arena: memory grows with the number of split offers.
 * Joined items come out in first-seen order.
 *
 * Folding: what the record lacks is filled from a later part; a part's
 * prices or stock replace the earlier ones (a later file is the newer
 * word); deleted sticks. A property's repeats add the values it lacks
 * (by value Ид, else by value); the caller has checked that the rest of
 * a repeat is the same.
 */
#ifndef CML_OFFERJOIN_H
#define CML_OFFERJOIN_H

#include <stdbool.h>
#include <stddef.h>

#include "cml.h"
#include "model.h"

CML_BEGIN_DECLS

typedef struct cml_offerjoin cml_offerjoin;

/* Where joined items go; a status other than CML_OK stops the flush. */
typedef cml_status cml_item_sink_fn(void *ud, const cml_item *item);

/* NULL when out of memory. */
CML_NODISCARD cml_offerjoin *cml_offerjoin_new(void);
void cml_offerjoin_free(cml_offerjoin *j);

/* True when the offer carries its prices and its stock: nothing to join. */
bool cml_offer_is_whole(const cml_offer *o);

/* Copies the offer (with an Ид) in, or folds it into the record of the
 * same Ид. CML_ERR_NOMEM; CML_ERR_USAGE without an Ид. */
CML_NODISCARD cml_status cml_offerjoin_add(cml_offerjoin *j, const cml_offer *o);
/* Offers held (each Ид once). */
size_t cml_offerjoin_count(const cml_offerjoin *j);

/* Keeps a property (with an Ид) until the end, or joins the values of a
 * repeat into the one kept. CML_ERR_NOMEM; CML_ERR_USAGE without an Ид. */
CML_NODISCARD cml_status cml_offerjoin_add_property(cml_offerjoin *j, const cml_property *p);

/* Hands every property kept to sink, in first-seen order. */
CML_NODISCARD cml_status cml_offerjoin_flush_properties(cml_offerjoin *j, cml_item_sink_fn *sink,
                                                        void *ud);
/* Hands every joined offer to sink, in first-seen order. */
CML_NODISCARD cml_status cml_offerjoin_flush(cml_offerjoin *j, cml_item_sink_fn *sink, void *ud);

CML_END_DECLS

#endif /* CML_OFFERJOIN_H */
