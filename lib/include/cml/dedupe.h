/*
 * dedupe.h: the duplicates of an existing counterparty register, for a
 * migration (cp-match --self): a merge plan, and the merge itself only
 * when asked.
 *
 * Cards are joined into clusters only by strong keys (union-find, so A-B
 * and B-C make one cluster): the same valid INN with the same KPP (an INN
 * without a KPP joins the cards of that INN that have none), and the same
 * Ид (a contact person Ид found on two cards, an Ид that is an alias of
 * one card and the Ид of another). Weak keys (an email or phone key found
 * on two cards of different clusters) only propose a link: they are
 * written in the plan and never merged. A branch (a card with a head
 * card) is never merged into its head.
 *
 * The survivor of a cluster: the card that is no branch, then the one
 * from the accounting system (origin "register") over one cp-match
 * created, then the one with the most contact persons and contacts, then
 * the smallest Ид. The same register always gives the same plan.
 */
#ifndef CML_DEDUPE_H
#define CML_DEDUPE_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"
#include "store.h"

CML_BEGIN_DECLS

typedef struct cml_dedupe_row {
	int64_t cluster;      /* numbered from 1 in the order of the survivors' Ид */
	const char *survivor; /* the surviving card's Ид */
	const char *card_id;  /* a card merged into it (merge), or proposed (not) */
	bool merge;           /* true: joined by a strong key; false: a proposal */
	const char *key_kind; /* "inn+kpp", "inn", "id", "email", "phone" */
	const char *key;      /* the key value that joined them */
} cml_dedupe_row;

/* Called once per plan row, clusters in order, in each the merged cards
 * then the proposals, by card Ид. The strings are valid during the call.
 * Nonzero stops the plan with CML_ERR_IO (a write failed). */
typedef int cml_dedupe_fn(void *ud, const cml_dedupe_row *row);

typedef struct cml_dedupe_stats {
	int64_t cards;        /* looked at */
	int64_t clusters;     /* with more than one card by strong keys */
	int64_t merged;       /* cards that would be (or were) merged away */
	int64_t proposals;    /* weak links written */
} cml_dedupe_stats;

/*
 * Plans the merge over the whole register and calls fn for every row;
 * with apply, merges each cluster into its survivor (cml_register_merge)
 * inside the current run. st may be NULL.
 */
CML_NODISCARD cml_status cml_dedupe(cml_store *s, bool apply, cml_dedupe_fn *fn, void *ud,
                                    cml_dedupe_stats *st);

CML_END_DECLS

#endif /* CML_DEDUPE_H */
