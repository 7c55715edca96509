/*
 * register.h: the counterparty register in the store (cmlkit-db(5)):
 * the accounting system's counterparty cards, their emails and phones,
 * their contact persons with their own emails and phones, the review
 * queue of cp-match and which ledger orders it has matched.
 *
 * A card is keyed by its Ид. Its emails and phones are kept as written
 * and by their key (cml/keys.h: cml_email_norm, cml_phone_key); its INN
 * is kept as written and is a key only when valid (cml_inn_check). A
 * card merged into another (cml_register_merge, cp-match --self --apply)
 * is gone; its Ид is an alias that finds the card it was merged into.
 *
 * Lookups (cml_register_find, cml_register_get) never give a card
 * marked deleted (ПометкаУдаления) or merged away. Their results are
 * ordered by card Ид, so a matcher that reads them is deterministic.
 *
 * Every write happens inside the current run (cml_store_run_begin ..
 * cml_store_run_commit); a run that is rolled back leaves the register
 * as it was. Every write is idempotent: putting what is already there
 * changes nothing and says so.
 *
 * Strings in what a call gives back are valid until the next register
 * call on the same store, unless said otherwise.
 */
#ifndef CML_REGISTER_H
#define CML_REGISTER_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"
#include "keys.h"
#include "model.h"
#include "store.h"

CML_BEGIN_DECLS

typedef enum cml_cp_kind {
	CML_CP_UNKNOWN = 0,
	CML_CP_LEGAL = 1,        /* юридическое лицо */
	CML_CP_ENTREPRENEUR = 2, /* индивидуальный предприниматель */
	CML_CP_PERSON = 3,       /* физическое лицо */
} cml_cp_kind;

/* "legal", "entrepreneur", "person", "" (unknown). */
const char *cml_cp_kind_name(cml_cp_kind k);
/* The names above (and "" for unknown) -> kind; false otherwise. */
bool cml_cp_kind_parse(const char *name, cml_cp_kind *k);

/* The kind of a counterparty as a document or register file gives it,
 * by Bitrix's rule: a valid 10-digit INN, or ОфициальноеНаименование
 * with an INN or a KPP: legal; a valid 12-digit INN otherwise:
 * entrepreneur when ОфициальноеНаименование is there or the full name
 * starts with "ИП ", else person; no INN: legal with an
 * ОфициальноеНаименование, else person. */
cml_cp_kind cml_cp_kind_of(const cml_counterparty *c);

typedef struct cml_cp_card {
	const char *id;            /* Ид */
	const char *name;          /* Наименование */
	const char *full_name;     /* ОфициальноеНаименование or ПолноеНаименование */
	cml_cp_kind kind;
	const char *inn;           /* as written, "" when none */
	const char *kpp;           /* "" when none */
	const char *okpo;          /* "" when none */
	const char *head_id;       /* a branch: the head card's Ид; "" otherwise */
	const char *reg_address;   /* АдресРегистрации/Представление, "" */
	const char *legal_address; /* ЮридическийАдрес/Представление, "" */
	bool deleted;              /* ПометкаУдаления in the accounting system */
	bool marketplace;          /* a marketplace, the buyer of record: its
	                              orders skip buyer matching */
	const char *origin;        /* "register" (from the accounting system),
	                              "cp-match" (created by a match); on put:
	                              NULL means "register" */
} cml_cp_card;

typedef struct cml_cp_person {
	const char *card_id;
	const char *id;            /* the contact person's Ид */
	const char *name;
} cml_cp_person;

typedef struct cml_cp_contact {
	const char *card_id;
	const char *person_id;     /* "" when the card's own */
	cml_contact_kind kind;
	const char *value;         /* as written */
	const char *key;           /* cml_email_norm / cml_phone_key key, "" when
	                              the value is no valid email or phone */
} cml_cp_contact;

typedef enum cml_register_change {
	CML_REGISTER_UNCHANGED = 0,
	CML_REGISTER_NEW = 1,
	CML_REGISTER_CHANGED = 2,
} cml_register_change;

/* ---- cards ---- */

/*
 * Puts a card as the accounting system has it (a register file): a new
 * Ид is a new card; a known one has every field replaced by the given
 * one (NULL strings as ""). Its contacts and contact persons are added
 * with the calls below and are never removed by a put. change may be
 * NULL. CML_ERR_VALUE when card->id is empty or names a card merged
 * away (its alias).
 */
CML_NODISCARD cml_status cml_register_put(cml_store *s, const cml_cp_card *card,
                                          cml_register_change *change);

/*
 * What cp-match learns of a card it matched: sets INN (valid digits) and
 * KPP (may be NULL) only when the card has no INN; a card with an INN,
 * even the same one, is left alone. *filled says whether it did; may be
 * NULL. CML_END when there is no such card.
 */
CML_NODISCARD cml_status cml_register_fill_inn(cml_store *s, const char *card_id,
                                               const char *inn, const char *kpp, bool *filled);

/* Adds a contact person (id, name) to a card; *added false when the card
 * already has a person with that Ид (its name is then left as it is).
 * CML_END when there is no such card. added may be NULL. */
CML_NODISCARD cml_status cml_register_add_person(cml_store *s, const char *card_id,
                                                 const char *person_id, const char *name,
                                                 bool *added);

/* Adds an email, phone or other contact (value as written; the key is
 * computed here) to a card (person_id NULL or "") or to one of its
 * contact persons; *added false when that card or person already has a
 * contact of the kind with the same key (the same value, for a value
 * that has no key). CML_END when there is no such card or person. */
CML_NODISCARD cml_status cml_register_add_contact(cml_store *s, const char *card_id,
                                                  const char *person_id, cml_contact_kind kind,
                                                  const char *value, bool *added);

/* A card by its Ид or by the Ид of a card merged into it. CML_OK with
 * *out (out->id the card's own Ид), CML_END when there is none (or it is
 * deleted). */
CML_NODISCARD cml_status cml_register_get(cml_store *s, const char *id, cml_cp_card *out);

typedef enum cml_register_key {
	CML_REGKEY_EMAIL = 1, /* an email key: the cards with it, on the card or a person */
	CML_REGKEY_PHONE = 2, /* a phone key, likewise */
	CML_REGKEY_INN = 3,   /* valid INN digits: the cards with that INN, any KPP */
} cml_register_key;

typedef struct cml_register_hit {
	const char *card_id;
	const char *person_id;   /* EMAIL, PHONE: the contact person it is on, "" when
	                            on the card itself (the card's own wins) */
	const char *person_name; /* that person's name, "" */
	const char *inn;         /* the card's valid INN, "" */
	const char *kpp;         /* the card's KPP, "" */
	const char *head_id;     /* "" unless the card is a branch */
	cml_cp_kind kind;
	bool marketplace;
} cml_register_hit;

/*
 * The cards holding a key, each card once, ordered by card Ид. *hits is
 * valid until the next register call on s; *n is 0 when none. A prepared
 * statement on an index: a million calls are fine.
 */
CML_NODISCARD cml_status cml_register_find(cml_store *s, cml_register_key key, const char *value,
                                           const cml_register_hit **hits, size_t *n);

/*
 * Merges card merged into card survivor inside the current run: its
 * contact persons and contacts move to survivor (what survivor already
 * has is not doubled), survivor's empty INN, KPP, OKPO and addresses are
 * filled from it, the branches headed by it are headed by survivor, and
 * merged's Ид (and every Ид merged into it before) becomes an alias of
 * survivor. CML_END when either card does not exist; CML_ERR_VALUE when
 * they are the same card.
 */
CML_NODISCARD cml_status cml_register_merge(cml_store *s, const char *survivor,
                                            const char *merged);

/* ---- iteration (for export and --self) ---- */

/* Every card not merged away (deleted ones too, with deleted set), in Ид
 * order. Call with *cursor = NULL first; CML_OK with *out, CML_END at
 * the end; end with cml_register_end. The contacts and persons of the
 * card at hand may be read with their own cursors in between; the store
 * may be written only after cml_register_end. */
CML_NODISCARD cml_status cml_register_next(cml_store *s, void **cursor, cml_cp_card *out);
/* The contact persons of one card, in Ид order. */
CML_NODISCARD cml_status cml_register_persons(cml_store *s, const char *card_id, void **cursor,
                                              cml_cp_person *out);
/* The contacts of one card: its own first, then each person's (persons
 * in Ид order), each in the order they were added. */
CML_NODISCARD cml_status cml_register_contacts(cml_store *s, const char *card_id, void **cursor,
                                               cml_cp_contact *out);
void cml_register_end(cml_store *s, void **cursor);

typedef struct cml_register_counts {
	int64_t cards;        /* not merged away, deleted ones included */
	int64_t branches;     /* cards with a head card */
	int64_t persons;
	int64_t contacts;
	int64_t aliases;      /* Ид merged away */
	int64_t reviews_open;
} cml_register_counts;

CML_NODISCARD cml_status cml_register_count(cml_store *s, cml_register_counts *out);

/* ---- the review queue ---- */

typedef struct cml_review {
	int64_t id;                /* set by the store */
	const char *site;          /* "" when the order came without a site */
	const char *order_id;      /* the order's Ид */
	const char *order_number;  /* its Номер, "" */
	const char *email;         /* the incoming keys, normalised; "" when none */
	const char *inn;
	const char *kpp;
	const char *phone;
	const char *candidates;    /* the cards considered: Ид separated by spaces */
	const char *booked;        /* the card the order went out with, "" when
	                              the buyer went out as it came */
	const char *rule;          /* the decision that fired (cml_match_decision_name) */
	const char *reason;        /* one English sentence */
	const char *created;       /* ISO 8601 UTC, set by the store */
	const char *resolved_card; /* "" while open */
	const char *resolved;      /* when it was settled, "" while open */
} cml_review;

/*
 * Puts a review record for an order (site, order_id). One record per
 * order: putting it again with the same content changes nothing
 * (*added false), with other content updates the open record; a settled
 * record stays settled. added may be NULL.
 */
CML_NODISCARD cml_status cml_register_review_put(cml_store *s, const cml_review *r, bool *added);

/* The review records, open ones only or all, oldest first; like
 * cml_register_next (end with cml_register_end). */
CML_NODISCARD cml_status cml_register_review_next(cml_store *s, bool open_only, void **cursor,
                                                  cml_review *out);

/*
 * Settles the review of an order of site ("" or NULL: any site, when the
 * order is unambiguous) named by its Ид or its Номер: the order is booked
 * to card_id from now on (cml_register_resolution). CML_END when no
 * review names that order; CML_ERR_VALUE when card_id is no card, or the
 * order is named by more than one review (the message says which).
 */
CML_NODISCARD cml_status cml_register_resolve(cml_store *s, const char *site, const char *order,
                                              const char *card_id);

/* The card a settled review books an order to: CML_OK with *card_id,
 * CML_END when the order has no settled review. */
CML_NODISCARD cml_status cml_register_resolution(cml_store *s, const char *site,
                                                 const char *order_id, const char **card_id);

/* ---- ledger orders already matched (cp-match --ledger) ---- */

/* The ledger revision of an order that cp-match last matched: CML_OK
 * with *revision, CML_END when never. */
CML_NODISCARD cml_status cml_register_matched(cml_store *s, const char *site,
                                              const char *order_id, int64_t *revision);

/* Records that revision of an order was matched to card_id ("" when it
 * went out unmatched: a marketplace, a review). */
CML_NODISCARD cml_status cml_register_set_matched(cml_store *s, const char *site,
                                                  const char *order_id, int64_t revision,
                                                  const char *card_id);

CML_END_DECLS

#endif /* CML_REGISTER_H */
