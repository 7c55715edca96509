/*
 * match.h: the buyer of an order matched to a counterparty card of the
 * register (cml/register.h) by "email OR INN" (cmlkit(7), cp-match(1),
 * the decision table of DESIGN.md's counterparty section).
 *
 * Incoming keys (cml/keys.h): the buyer's emails (Контакты on the
 * Контрагент, then on its Представители), its valid INN, its KPP (valid
 * form), its phones (kept, never matched on). An invalid INN is never a
 * key: it is reported with the order's number; so is an email that is
 * none.
 *
 * Before the table: an order whose buyer (or its INN) is a marketplace
 * (a register card marked marketplace, or one of opts->marketplaces) is
 * skipped; an order with a settled review goes to the card it names; a
 * buyer whose Ид is a card's Ид (or an alias) is that card, unless it
 * carries a valid INN other than the card's.
 *
 * E = the cards holding the email (on the card or a contact person);
 * I = the cards with the INN, narrowed by KPP: with an incoming KPP, the
 * cards with that KPP; with none, every card of the INN. Same INN with a
 * different non-empty KPP is a branch: a new card linked to the head card
 * (the card of that INN without a head), never a contact person on the
 * head card; CML_KPP_IGNORE narrows nothing (one card per INN).
 *
 *   E       I         decision
 *   none    none      NEW: a card (and a contact person for a legal entity)
 *   {a}     none      EMAIL: a; a's empty INN filled, never overwritten
 *   {a}     none, a has another valid INN
 *                     EMAIL_OTHER_INN: a new card for the incoming INN, the
 *                     person its contact person; reported
 *   none    {b}       INN: b, the person a new contact person of b
 *   {a}     {a}       BOTH: a
 *   {a}     {b}       CONFLICT: booked to b, nothing merged, a review record
 *   several any       exact INN+KPP first (INN_KPP), then the head card
 *                     (HEAD); otherwise REVIEW: the buyer goes out as it
 *                     came, a review record
 *
 * CML_MATCH_AND is the old rule for comparison: a card holding both the
 * email and the INN (an empty INN equals an empty INN) is used, anything
 * else makes a new card.
 *
 * A card or contact person the matcher creates gets a stable Ид
 * (cml_stable_id) made from its strongest key: the INN and KPP, else the
 * email key, else the site, buyer Ид, name and phone; so a replay of the
 * same input finds what the first run created and changes nothing.
 * Decisions depend only on the input and the register, never on time.
 *
 * All register writes happen inside the caller's run.
 */
#ifndef CML_MATCH_H
#define CML_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"
#include "model.h"
#include "reader.h"
#include "register.h"
#include "store.h"

CML_BEGIN_DECLS

typedef enum cml_match_rule {
	CML_MATCH_OR = 0,  /* email OR INN */
	CML_MATCH_AND = 1, /* the old email AND INN, for comparison */
} cml_match_rule;

typedef enum cml_match_kpp {
	CML_KPP_BRANCH = 0, /* a new KPP of a known INN is a branch */
	CML_KPP_IGNORE = 1, /* one card per INN */
} cml_match_kpp;

typedef enum cml_match_decision {
	CML_DEC_SKIP = 0,        /* "marketplace": untouched */
	CML_DEC_RESOLVED,        /* "resolved": a settled review */
	CML_DEC_ID,              /* "id": the buyer carries a card's Ид */
	CML_DEC_NEW,             /* "new" */
	CML_DEC_EMAIL,           /* "email" */
	CML_DEC_EMAIL_OTHER_INN, /* "email-other-inn" */
	CML_DEC_INN,             /* "inn" */
	CML_DEC_BOTH,            /* "email+inn" */
	CML_DEC_CONFLICT,        /* "conflict" */
	CML_DEC_BRANCH,          /* "branch" */
	CML_DEC_INN_KPP,         /* "several:inn+kpp" */
	CML_DEC_HEAD,            /* "several:head" */
	CML_DEC_REVIEW,          /* "review" */
	CML_DEC_AND_MATCH,       /* "and:match" */
	CML_DEC_AND_NEW,         /* "and:new" */
	CML_DEC_COUNT
} cml_match_decision;

/* The names in quotes above: what the decisions file's "rule" says. */
const char *cml_match_decision_name(cml_match_decision d);

/* ---- the table alone (no store): row-by-row tests, and the core of the
 * matcher ---- */

typedef struct cml_match_cand {
	const char *card_id;
	const char *inn;     /* the card's valid INN, "" */
	const char *kpp;     /* "" */
	const char *head_id; /* "" unless a branch */
} cml_match_cand;

typedef struct cml_match_sets {
	const char *inn;            /* incoming valid INN, NULL or "" when none */
	const char *kpp;            /* incoming valid KPP, NULL or "" when none */
	bool has_email;             /* an incoming email key was looked up */
	const cml_match_cand *e;    /* E: cards holding the email */
	size_t ne;
	const cml_match_cand *i;    /* every card with the INN, any KPP, before
	                               narrowing */
	size_t ni;
} cml_match_sets;

typedef struct cml_match_choice {
	cml_match_decision decision;
	const char *card_id; /* the existing card chosen (one of the sets' card_id
	                        pointers); NULL when a card is to be created, or
	                        for REVIEW */
	const char *head_id; /* BRANCH: the head card the new card links to
	                        (NULL: none found, the branch is a plain new card) */
	bool review;         /* CONFLICT, REVIEW */
} cml_match_choice;

/* Applies the table (sets in any order; the result does not depend on
 * it). Never touches a store. */
cml_match_choice cml_match_decide(cml_match_rule rule, cml_match_kpp kpp,
                                  const cml_match_sets *sets);

/* ---- the matcher over a register ---- */

typedef struct cml_match_opts {
	cml_match_rule rule;
	cml_match_kpp kpp;
	const char *site;                  /* for review records and stable Ид;
	                                      NULL as "" */
	const char *const *marketplaces;   /* Ид or INN of buyers of record to skip */
	size_t n_marketplaces;
	cml_warn_fn *warn;                 /* "order NUMBER: ..." reports; NULL drops */
	void *warn_ud;
} cml_match_opts;

typedef struct cml_matcher cml_matcher;

/* NULL when out of memory. The store must stay open while it lives. */
CML_NODISCARD cml_matcher *cml_matcher_new(cml_store *s, const cml_match_opts *opts);
void cml_matcher_free(cml_matcher *m);

/* The buyer of an order: the counterparty with Роль "Покупатель"
 * (case-insensitive), else the only counterparty; NULL when none. */
const cml_counterparty *cml_match_buyer_of(const cml_document *order);

typedef struct cml_match_result {
	cml_match_decision decision;
	bool review;               /* a review record was written or kept open */
	/* the incoming keys, normalised; "" when none */
	const char *buyer_id;      /* as it came */
	const char *email;
	const char *inn;
	const char *kpp;
	const char *phone;
	const char *candidates;    /* the cards considered, Ид by spaces, sorted */
	/* the card the buyer is booked to after the register update; NULL for
	 * SKIP and REVIEW (the buyer goes out as it came) */
	const cml_cp_card *card;
	bool card_new;             /* created by this call */
	bool inn_filled;           /* the card's empty INN was filled */
	bool duplicate;            /* a new card although an existing card holds
	                              the email or the valid INN (the old rule's
	                              duplicates; branches and EMAIL_OTHER_INN
	                              are not) */
	/* the contact person to carry as the buyer's Представитель
	 * (Отношение "Контактное лицо"); NULL when none */
	const cml_cp_person *person;
	bool person_new;
	const char *note;          /* one English sentence for reports, "" */
} cml_match_result;

/*
 * Matches the buyer of one order (order->number and order->id name it in
 * reports and the review queue) and updates the register inside the
 * current run. *res is valid until the next call. CML_OK for every
 * decision (REVIEW included); an error status only for a store failure,
 * with cml_store_errmsg.
 */
CML_NODISCARD cml_status cml_matcher_buyer(cml_matcher *m, const cml_document *order,
                                           const cml_counterparty *buyer,
                                           cml_match_result *res);

typedef struct cml_match_stats {
	int64_t buyers;
	int64_t by_decision[CML_DEC_COUNT];
	int64_t cards_new;
	int64_t persons_new;
	int64_t inn_filled;
	int64_t reviews;
	int64_t duplicates;
	int64_t invalid_inn;
	int64_t invalid_email;
	int64_t no_keys;
} cml_match_stats;

void cml_matcher_stats(const cml_matcher *m, cml_match_stats *out);

CML_END_DECLS

#endif /* CML_MATCH_H */
