/*
 * match.c: the buyer of an order matched to a counterparty card by
 * "email OR INN" (the contract and the table are in cml/match.h).
 *
 * cml_match_decide is the table alone: it picks by counting ("exactly
 * one card that ..."), never by position, so the order of the sets
 * cannot change a decision. The matcher reads the keys of the buyer,
 * asks the register for E and I (cml_register_find, one indexed lookup
 * each), decides, and writes what the decision implies in the caller's
 * run. What it creates gets an Ид made from the strongest key
 * (cml_stable_id), so a replay finds it and writes nothing.
 *
 * Where the table is silent, these are the decisions taken here:
 *
 *  - KPP narrowing, incoming KPP given (CML_KPP_BRANCH): I = the cards of
 *    the INN with that KPP; when none has it, the cards of the INN with
 *    no KPP at all (a KPP unknown on the card is no different KPP); when
 *    none of those either, it is a BRANCH, whatever E says (the email of
 *    a head card never pulls a new KPP onto it).
 *  - A 12-digit INN (an individual or entrepreneur) has no KPP: an
 *    incoming KPP beside it narrows nothing and makes no branch.
 *  - BRANCH links to the head: the one card of the INN without a head;
 *    with several such or none, head_id is NULL (a plain new card).
 *  - E = {a}, several cards in I: a itself when it is one of them (BOTH:
 *    email and INN agree); else the one head of I is booked as a
 *    CONFLICT (as with E = {a}, I = {b}); else REVIEW.
 *  - E = {a} where a has the incoming INN but another KPP, and I (the
 *    cards with the incoming KPP) gives b: no conflict, one legal entity
 *    writing for its subdivision: b, as INN_KPP (exact INN+KPP first).
 *  - E several: one card in I (any decision that picked it) is taken
 *    as INN_KPP, as the table says (exact INN+KPP first), even when the
 *    email is on other cards: no review. Several in I: the one card of E
 *    among them (INN_KPP), else the one head of I (HEAD), else REVIEW.
 *    No card in I: the one head of E (HEAD), unless it has another
 *    valid INN than the incoming one (EMAIL_OTHER_INN, as for one card).
 *  - The incoming KPP with no incoming INN is kept but narrows nothing.
 *  - CML_MATCH_AND ignores the KPP (the old rule was "email AND INN");
 *    with several cards holding both it takes the smallest Ид, as the old
 *    rule took its first row.
 *
 * And in the matcher:
 *
 *  - The email key is the first valid email of the Контрагент's Контакты,
 *    else of its Представители; every email that is none is reported.
 *    An invalid KPP is reported like an invalid INN and not used.
 *  - A card the matcher creates keeps the valid INN and KPP only (an
 *    invalid INN is no key and would block a later fill).
 *  - The contacts of a new legal entity go on its new contact person,
 *    those of an individual or entrepreneur on the card itself: a replay
 *    then finds the email where the first run put it and carries the same
 *    contact person (or none) again.
 *  - A card booked by EMAIL or by HEAD among E has its empty INN filled
 *    (never overwritten); a card booked by its Ид (ID) is left alone.
 *  - A new contact person is added to a card booked by INN, HEAD or
 *    INN_KPP that does not hold the email yet; never on CONFLICT.
 *  - The pre-table steps (marketplace, settled review, buyer Ид) run for
 *    both rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cml/keys.h"
#include "cml/match.h"
#include "cml_private.h"

static const char *const dec_names[CML_DEC_COUNT] = {
	[CML_DEC_SKIP] = "marketplace",
	[CML_DEC_RESOLVED] = "resolved",
	[CML_DEC_ID] = "id",
	[CML_DEC_NEW] = "new",
	[CML_DEC_EMAIL] = "email",
	[CML_DEC_EMAIL_OTHER_INN] = "email-other-inn",
	[CML_DEC_INN] = "inn",
	[CML_DEC_BOTH] = "email+inn",
	[CML_DEC_CONFLICT] = "conflict",
	[CML_DEC_BRANCH] = "branch",
	[CML_DEC_INN_KPP] = "several:inn+kpp",
	[CML_DEC_HEAD] = "several:head",
	[CML_DEC_REVIEW] = "review",
	[CML_DEC_AND_MATCH] = "and:match",
	[CML_DEC_AND_NEW] = "and:new",
};

const char *
cml_match_decision_name(cml_match_decision d)
{
	if ((unsigned)d >= CML_DEC_COUNT)
		return "";
	return dec_names[d];
}

static const char *
nz(const char *s)
{
	return s ? s : "";
}

/* ---- the table ---- */

/* What one pass over a set looks for. */
struct want {
	const cml_match_sets *sets;
	const char *kpp_of_i; /* I: the cards of the INN with this KPP; NULL: all */
	bool head;            /* only cards that are no branch */
	bool in_i;            /* only cards that are in I */
	bool inn_equal;       /* only cards whose INN is the incoming one (rule AND) */
};

static bool
in_i_narrowed(const struct want *w, const char *card_id)
{
	const cml_match_sets *s = w->sets;

	for (size_t k = 0; k < s->ni; k++)
		if (strcmp(nz(s->i[k].card_id), card_id) == 0 &&
		    (w->kpp_of_i == NULL || strcmp(nz(s->i[k].kpp), w->kpp_of_i) == 0))
			return true;
	return false;
}

static bool
wanted(const struct want *w, const cml_match_cand *c)
{
	if (w->head && nz(c->head_id)[0] != '\0')
		return false;
	if (w->inn_equal && strcmp(nz(c->inn), nz(w->sets->inn)) != 0)
		return false;
	if (w->in_i && !in_i_narrowed(w, nz(c->card_id)))
		return false;
	return true;
}

enum pick { PICK_NONE, PICK_ONE, PICK_MANY };

/* Whether no, exactly one (by Ид: the same card twice is one) or several
 * cards of v are wanted; *one is the card when one. Independent of the
 * order of v. */
static enum pick
pick(const cml_match_cand *v, size_t n, const struct want *w, const cml_match_cand **one)
{
	const cml_match_cand *first = NULL;

	for (size_t k = 0; k < n; k++) {
		if (!wanted(w, &v[k]))
			continue;
		if (first == NULL)
			first = &v[k];
		else if (strcmp(nz(first->card_id), nz(v[k].card_id)) != 0)
			return PICK_MANY;
	}
	*one = first;
	return first ? PICK_ONE : PICK_NONE;
}

/* I narrowed: with kpp_of_i set, only the cards of the INN with it. */
static enum pick
pick_i(const struct want *base, bool head, const cml_match_cand **one)
{
	struct want w = *base;

	w.head = head;
	w.in_i = false;
	w.inn_equal = false;
	if (w.kpp_of_i != NULL) {
		/* filter the I set itself by its KPP */
		const cml_match_sets *s = w.sets;
		const cml_match_cand *first = NULL;

		for (size_t k = 0; k < s->ni; k++) {
			if (strcmp(nz(s->i[k].kpp), w.kpp_of_i) != 0 || !wanted(&w, &s->i[k]))
				continue;
			if (first == NULL)
				first = &s->i[k];
			else if (strcmp(nz(first->card_id), nz(s->i[k].card_id)) != 0)
				return PICK_MANY;
		}
		*one = first;
		return first ? PICK_ONE : PICK_NONE;
	}
	return pick(w.sets->i, w.sets->ni, &w, one);
}

static cml_match_choice
choose(cml_match_decision d, const cml_match_cand *c)
{
	cml_match_choice ch = {d, c ? c->card_id : NULL, NULL,
	                       d == CML_DEC_CONFLICT || d == CML_DEC_REVIEW};
	return ch;
}

static bool
has_other_inn(const cml_match_cand *a, const char *inn)
{
	return inn[0] != '\0' && nz(a->inn)[0] != '\0' && strcmp(nz(a->inn), inn) != 0;
}

/* The card of the email is the same legal entity with another KPP: no
 * conflict, the card of the incoming KPP is taken. */
static bool
same_inn(const cml_match_cand *a, const char *inn)
{
	return inn[0] != '\0' && strcmp(nz(a->inn), inn) == 0;
}

static cml_match_choice
decide_and(const cml_match_sets *s)
{
	struct want w = {.sets = s, .inn_equal = true};
	const cml_match_cand *best = NULL;

	if (s->has_email)
		for (size_t k = 0; k < s->ne; k++)
			if (wanted(&w, &s->e[k]) &&
			    (best == NULL || strcmp(nz(s->e[k].card_id), nz(best->card_id)) < 0))
				best = &s->e[k];
	return best ? choose(CML_DEC_AND_MATCH, best) : choose(CML_DEC_AND_NEW, NULL);
}

cml_match_choice
cml_match_decide(cml_match_rule rule, cml_match_kpp kpp, const cml_match_sets *s)
{
	const char *inn = nz(s->inn), *in_kpp = nz(s->kpp);
	struct want w = {.sets = s};
	const cml_match_cand *a = NULL, *b = NULL, *h = NULL;
	enum pick pe, pi;
	bool no_inn = inn[0] == '\0';

	if (rule == CML_MATCH_AND)
		return decide_and(s);

	if (!no_inn && kpp == CML_KPP_BRANCH && in_kpp[0] != '\0' && strlen(inn) == 10 &&
	    s->ni > 0) {
		struct want any = {.sets = s};

		w.kpp_of_i = in_kpp;
		if (pick_i(&w, false, &b) == PICK_NONE) {
			w.kpp_of_i = "";
			if (pick_i(&w, false, &b) == PICK_NONE) {
				cml_match_choice ch = choose(CML_DEC_BRANCH, NULL);

				any.head = true;
				if (pick(s->i, s->ni, &any, &h) == PICK_ONE)
					ch.head_id = h->card_id;
				return ch;
			}
		}
	}

	pe = pick(s->e, s->has_email ? s->ne : 0, &w, &a);
	pi = no_inn ? PICK_NONE : pick_i(&w, false, &b);

	if (pe == PICK_NONE) {
		if (pi == PICK_NONE)
			return choose(CML_DEC_NEW, NULL);
		if (pi == PICK_ONE)
			return choose(CML_DEC_INN, b);
		if (pick_i(&w, true, &h) == PICK_ONE)
			return choose(CML_DEC_HEAD, h);
		return choose(CML_DEC_REVIEW, NULL);
	}
	if (pe == PICK_ONE) {
		if (pi == PICK_NONE)
			return choose(has_other_inn(a, inn) ? CML_DEC_EMAIL_OTHER_INN : CML_DEC_EMAIL,
			              has_other_inn(a, inn) ? NULL : a);
		if (pi == PICK_ONE) {
			if (strcmp(nz(a->card_id), nz(b->card_id)) == 0)
				return choose(CML_DEC_BOTH, a);
			return choose(same_inn(a, inn) ? CML_DEC_INN_KPP : CML_DEC_CONFLICT, b);
		}
		if (in_i_narrowed(&w, nz(a->card_id)))
			return choose(CML_DEC_BOTH, a);
		if (pick_i(&w, true, &h) == PICK_ONE)
			return choose(same_inn(a, inn) ? CML_DEC_INN_KPP : CML_DEC_CONFLICT, h);
		return choose(CML_DEC_REVIEW, NULL);
	}
	/* several cards hold the email */
	if (pi == PICK_ONE)
		return choose(CML_DEC_INN_KPP, b);
	if (pi == PICK_MANY) {
		struct want ew = w;

		ew.in_i = true;
		if (pick(s->e, s->ne, &ew, &a) == PICK_ONE)
			return choose(CML_DEC_INN_KPP, a);
		if (pick_i(&w, true, &h) == PICK_ONE)
			return choose(CML_DEC_HEAD, h);
		return choose(CML_DEC_REVIEW, NULL);
	}
	w.head = true;
	if (pick(s->e, s->ne, &w, &h) == PICK_ONE)
		return has_other_inn(h, inn) ? choose(CML_DEC_EMAIL_OTHER_INN, NULL)
		                             : choose(CML_DEC_HEAD, h);
	return choose(CML_DEC_REVIEW, NULL);
}

/* ---- the matcher ---- */

/* A register hit kept past the next register call. */
struct hit {
	cml_match_cand c;
	const char *person_id;
	const char *person_name;
	bool marketplace;
};

struct cml_matcher {
	cml_store *s;
	cml_match_opts opts;
	cml_match_stats st;
	cml_arena arena;      /* one buyer's strings, reset at the next */
	struct hit *e, *i;    /* E and I of the buyer at hand */
	size_t ne, ni, cap_e, cap_i;
	cml_match_cand *ce, *ci;
	cml_cp_card card;
	cml_cp_person person;
	cml_buf tmp;
};

cml_matcher *
cml_matcher_new(cml_store *s, const cml_match_opts *opts)
{
	cml_matcher *m = cml_calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->s = s;
	if (opts != NULL)
		m->opts = *opts;
	cml_arena_init(&m->arena);
	return m;
}

void
cml_matcher_free(cml_matcher *m)
{
	if (m == NULL)
		return;
	cml_arena_destroy(&m->arena);
	cml_free(m->e);
	cml_free(m->i);
	cml_free(m->ce);
	cml_free(m->ci);
	cml_buf_free(&m->tmp);
	cml_free(m);
}

void
cml_matcher_stats(const cml_matcher *m, cml_match_stats *out)
{
	*out = m->st;
}

/* Compares a UTF-8 string with a lower-case word, folding ASCII and the
 * Cyrillic capitals (А-Я, Ё) of s. */
static bool
word_eq_fold(const char *s, const char *lower)
{
	const unsigned char *p = (const unsigned char *)s, *q = (const unsigned char *)lower;

	while (*p != '\0' && *q != '\0') {
		unsigned long cp, cq;
		size_t np = cml_utf8_decode(p, 4, &cp), nq = cml_utf8_decode(q, 4, &cq);

		if (np == 0 || nq == 0)
			return false;
		if (cp >= 'A' && cp <= 'Z')
			cp += 0x20;
		else if (cp >= 0x410 && cp <= 0x42F)
			cp += 0x20;
		else if (cp == 0x401)
			cp = 0x451;
		if (cp != cq)
			return false;
		p += np;
		q += nq;
	}
	return *p == '\0' && *q == '\0';
}

const cml_counterparty *
cml_match_buyer_of(const cml_document *order)
{
	if (order == NULL)
		return NULL;
	for (size_t k = 0; k < order->n_counterparties; k++)
		if (order->counterparties[k].role != NULL &&
		    word_eq_fold(order->counterparties[k].role, "покупатель"))
			return &order->counterparties[k];
	return order->n_counterparties == 1 ? &order->counterparties[0] : NULL;
}

/* The keys of the buyer at hand. */
struct keys {
	const char *number;      /* the order, for reports */
	cml_email email;         /* valid when email.key[0] */
	const char *email_value; /* as written */
	char inn[13];
	char kpp[10];
	char phone[13];
	const char *name;
	const char *person_name; /* the Представитель's, else the buyer's */
};

static void
warn(cml_matcher *m, const char *fmt, ...) CML_PRINTF(2, 3);

static void
warn(cml_matcher *m, const char *fmt, ...)
{
	char msg[CML_ERRMSG_MAX];
	va_list ap;

	if (m->opts.warn == NULL)
		return;
	va_start(ap, fmt);
	cml_msg_vset(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	m->opts.warn(m->opts.warn_ud, msg);
}

static void
email_of(cml_matcher *m, struct keys *k, const cml_pair *v, size_t n)
{
	for (size_t j = 0; j < n; j++) {
		const char *why = NULL;
		cml_email e;
		cml_status st;

		if (cml_contact_type(v[j].name) != CML_CONTACT_EMAIL)
			continue;
		st = cml_email_norm(v[j].value, &e, &why);
		if (st == CML_OK && k->email.key[0] == '\0') {
			k->email = e;
			k->email_value = v[j].value;
		} else if (st != CML_OK && st != CML_END) {
			m->st.invalid_email++;
			warn(m, "order %s: \"%s\" is not an email (%s)", k->number, nz(v[j].value),
			     why ? why : "invalid");
		}
	}
}

static void
keys_of(cml_matcher *m, const cml_counterparty *b, struct keys *k)
{
	const char *why = NULL;
	cml_status st;

	email_of(m, k, b->contacts, b->n_contacts);
	for (size_t r = 0; r < b->n_representatives; r++)
		if (k->email.key[0] == '\0')
			email_of(m, k, b->representatives[r].contacts,
			         b->representatives[r].n_contacts);
	st = cml_inn_check(nz(b->inn), k->inn, NULL, &why);
	if (st != CML_OK) {
		k->inn[0] = '\0';
		if (st != CML_END) {
			m->st.invalid_inn++;
			warn(m, "order %s: invalid INN %s (%s): not used as a key", k->number, b->inn,
			     why ? why : "invalid");
		}
	}
	st = cml_kpp_check(nz(b->kpp), k->kpp, &why);
	if (st != CML_OK) {
		k->kpp[0] = '\0';
		if (st != CML_END)
			warn(m, "order %s: invalid KPP %s (%s): not used as a key", k->number,
			     b->kpp, why ? why : "invalid");
	}
	for (size_t j = 0; j < b->n_contacts && k->phone[0] == '\0'; j++)
		if (cml_contact_type(b->contacts[j].name) == CML_CONTACT_PHONE &&
		    cml_phone_key(nz(b->contacts[j].value), k->phone, NULL) != CML_OK)
			k->phone[0] = '\0';
	k->name = nz(b->name)[0] ? b->name
	          : nz(b->official_name)[0] ? b->official_name
	                                    : nz(b->full_name);
	k->person_name = k->name;
	for (size_t r = 0; r < b->n_representatives; r++)
		if (nz(b->representatives[r].name)[0] != '\0') {
			k->person_name = b->representatives[r].name;
			break;
		}
}

static bool
is_marketplace(const cml_matcher *m, const cml_counterparty *b, const struct keys *k)
{
	for (size_t j = 0; j < m->opts.n_marketplaces; j++) {
		const char *v = m->opts.marketplaces[j];

		if (v == NULL || v[0] == '\0')
			continue;
		if (strcmp(v, nz(b->id)) == 0 || (k->inn[0] && strcmp(v, k->inn) == 0) ||
		    strcmp(v, nz(b->inn)) == 0)
			return true;
	}
	return false;
}

/* Copies the hits of a find into the buyer's arena. */
static cml_status
keep_hits(cml_matcher *m, const cml_register_hit *h, size_t n, struct hit **v, size_t *nv,
          size_t *cap, cml_match_cand **cv)
{
	if (n > *cap) {
		struct hit *nh = cml_realloc(*v, n * sizeof(**v));
		cml_match_cand *nc;

		if (nh == NULL)
			return CML_ERR_NOMEM;
		*v = nh;
		nc = cml_realloc(*cv, n * sizeof(**cv));
		if (nc == NULL)
			return CML_ERR_NOMEM;
		*cv = nc;
		*cap = n;
	}
	for (size_t j = 0; j < n; j++) {
		struct hit *t = &(*v)[j];

		t->c.card_id = cml_arena_strdup(&m->arena, nz(h[j].card_id));
		t->c.inn = cml_arena_strdup(&m->arena, nz(h[j].inn));
		t->c.kpp = cml_arena_strdup(&m->arena, nz(h[j].kpp));
		t->c.head_id = cml_arena_strdup(&m->arena, nz(h[j].head_id));
		t->person_id = cml_arena_strdup(&m->arena, nz(h[j].person_id));
		t->person_name = cml_arena_strdup(&m->arena, nz(h[j].person_name));
		t->marketplace = h[j].marketplace;
		if (!t->c.card_id || !t->c.inn || !t->c.kpp || !t->c.head_id || !t->person_id ||
		    !t->person_name)
			return CML_ERR_NOMEM;
		(*cv)[j] = t->c;
	}
	*nv = n;
	return CML_OK;
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The cards of E and I, sorted, each once, separated by spaces. */
static const char *
candidates(cml_matcher *m)
{
	size_t n = m->ne + m->ni, len = 0;
	const char **ids;
	char *out, *p;

	ids = cml_arena_alloc(&m->arena, (n ? n : 1) * sizeof(*ids));
	if (ids == NULL)
		return NULL;
	for (size_t j = 0; j < m->ne; j++)
		ids[j] = m->e[j].c.card_id;
	for (size_t j = 0; j < m->ni; j++)
		ids[m->ne + j] = m->i[j].c.card_id;
	qsort(ids, n, sizeof(*ids), cmp_str);
	for (size_t j = 0; j < n; j++)
		len += strlen(ids[j]) + 1;
	out = p = cml_arena_alloc(&m->arena, len + 1);
	if (out == NULL)
		return NULL;
	*p = '\0';
	for (size_t j = 0; j < n; j++) {
		if (j > 0 && strcmp(ids[j], ids[j - 1]) == 0)
			continue;
		if (p != out)
			*p++ = ' ';
		size_t l = strlen(ids[j]);
		memcpy(p, ids[j], l);
		p += l;
		*p = '\0';
	}
	return out;
}

/* The hit of E on card_id, or NULL. */
static const struct hit *
e_hit(const cml_matcher *m, const char *card_id)
{
	for (size_t j = 0; j < m->ne; j++)
		if (strcmp(m->e[j].c.card_id, card_id) == 0)
			return &m->e[j];
	return NULL;
}

/* Adds the buyer's email and phones to a card or one of its persons. */
static cml_status
add_contacts(cml_matcher *m, const cml_counterparty *b, const struct keys *k, const char *card_id,
             const char *person_id)
{
	cml_status st;

	if (k->email.key[0] != '\0') {
		st = cml_register_add_contact(m->s, card_id, person_id, CML_CONTACT_EMAIL,
		                              k->email_value, NULL);
		if (st != CML_OK)
			return st;
	}
	for (size_t j = 0; j < b->n_contacts; j++) {
		cml_contact_kind kind = cml_contact_type(b->contacts[j].name);

		if (kind == CML_CONTACT_OTHER || nz(b->contacts[j].value)[0] == '\0')
			continue;
		if (kind == CML_CONTACT_EMAIL && k->email.key[0] != '\0' &&
		    b->contacts[j].value == k->email_value)
			continue;
		st = cml_register_add_contact(m->s, card_id, person_id, kind, b->contacts[j].value,
		                              NULL);
		if (st != CML_OK)
			return st;
	}
	return CML_OK;
}

/* A new contact person of card_id for the buyer: its Ид from the card
 * and the strongest of the email key, phone and name. */
static cml_status
add_person(cml_matcher *m, const cml_counterparty *b, const struct keys *k, const char *card_id,
           cml_match_result *res)
{
	char id[37];
	bool added = false;
	cml_status st;
	const char *key = k->email.key[0] ? k->email.key : k->phone[0] ? k->phone : k->person_name;

	cml_buf_clear(&m->tmp);
	if (!cml_buf_appendf(&m->tmp, "%s\n%s", card_id, key))
		return CML_ERR_NOMEM;
	cml_stable_id("cmlkit-person", m->tmp.data, id);
	st = cml_register_add_person(m->s, card_id, id, k->person_name, &added);
	if (st != CML_OK)
		return st;
	st = add_contacts(m, b, k, card_id, id);
	if (st != CML_OK)
		return st;
	m->person.card_id = cml_arena_strdup(&m->arena, card_id);
	m->person.id = cml_arena_strdup(&m->arena, id);
	m->person.name = cml_arena_strdup(&m->arena, k->person_name);
	if (!m->person.card_id || !m->person.id || !m->person.name)
		return CML_ERR_NOMEM;
	res->person = &m->person;
	res->person_new = added;
	if (added)
		m->st.persons_new++;
	return CML_OK;
}

/* The person that holds the email on a card, as the result's person
 * (none when the email is the card's own). */
static cml_status
keep_person(cml_matcher *m, const struct hit *h, cml_match_result *res)
{
	if (h == NULL || h->person_id[0] == '\0')
		return CML_OK;
	m->person.card_id = h->c.card_id;
	m->person.id = h->person_id;
	m->person.name = h->person_name;
	res->person = &m->person;
	return CML_OK;
}

/* A card for the buyer: its Ид from the strongest key (so a replay finds
 * it), created when it is not there yet. */
static cml_status
new_card(cml_matcher *m, const cml_counterparty *b, const struct keys *k, const char *head_id,
         const char **card_id, cml_match_result *res)
{
	const char *pre = m->opts.rule == CML_MATCH_AND ? "and:" : "";
	char id[37];
	cml_cp_card c, old;
	cml_status st;
	bool ok;

	cml_buf_clear(&m->tmp);
	if (k->inn[0])
		ok = cml_buf_appendf(&m->tmp, "%sinn:%s/%s", pre, k->inn, k->kpp);
	else if (k->email.key[0])
		ok = cml_buf_appendf(&m->tmp, "%semail:%s", pre, k->email.key);
	else
		ok = cml_buf_appendf(&m->tmp, "%sbuyer:%s\n%s\n%s\n%s", pre, nz(m->opts.site),
		                     nz(b->id), k->name, k->phone);
	if (!ok)
		return CML_ERR_NOMEM;
	cml_stable_id("cmlkit-card", m->tmp.data, id);
	*card_id = cml_arena_strdup(&m->arena, id);
	if (*card_id == NULL)
		return CML_ERR_NOMEM;
	st = cml_register_get(m->s, id, &old);
	if (st == CML_OK) {
		/* a replay: the card and its person are there */
		bool legal = old.kind == CML_CP_LEGAL;

		*card_id = cml_arena_strdup(&m->arena, old.id);
		if (*card_id == NULL)
			return CML_ERR_NOMEM;
		return legal ? add_person(m, b, k, *card_id, res) : CML_OK;
	}
	if (st != CML_END)
		return st;
	memset(&c, 0, sizeof(c));
	c.id = id;
	c.name = k->name;
	c.full_name = nz(b->official_name)[0] ? b->official_name : nz(b->full_name);
	c.kind = cml_cp_kind_of(b);
	c.inn = k->inn;
	c.kpp = k->inn[0] ? k->kpp : "";
	c.okpo = nz(b->okpo);
	c.head_id = nz(head_id);
	c.reg_address = nz(b->reg_address.presentation);
	c.legal_address = nz(b->legal_address.presentation);
	c.origin = "cp-match";
	st = cml_register_put(m->s, &c, NULL);
	if (st != CML_OK)
		return st;
	res->card_new = true;
	m->st.cards_new++;
	if (c.kind == CML_CP_LEGAL)
		return add_person(m, b, k, id, res);
	return add_contacts(m, b, k, id, NULL);
}

/* The card the buyer is booked to, read back after the update. */
static cml_status
book(cml_matcher *m, const char *card_id, cml_match_result *res)
{
	cml_cp_card c;
	cml_status st = cml_register_get(m->s, card_id, &c);
	const char **f[] = {&c.id,      &c.name,        &c.full_name,     &c.inn,
	                    &c.kpp,     &c.okpo,        &c.head_id,       &c.reg_address,
	                    &c.legal_address, &c.origin};

	if (st != CML_OK)
		return st;
	for (size_t j = 0; j < CML_ARRAY_LEN(f); j++) {
		*f[j] = cml_arena_strdup(&m->arena, nz(*f[j]));
		if (*f[j] == NULL)
			return CML_ERR_NOMEM;
	}
	m->card = c;
	res->card = &m->card;
	return CML_OK;
}

static cml_status
review(cml_matcher *m, const cml_document *order, const cml_match_result *res,
       const char *booked, const char *reason)
{
	cml_review r;

	memset(&r, 0, sizeof(r));
	r.site = nz(m->opts.site);
	r.order_id = nz(order->id);
	r.order_number = nz(order->number);
	r.email = res->email;
	r.inn = res->inn;
	r.kpp = res->kpp;
	r.phone = res->phone;
	r.candidates = res->candidates;
	r.booked = nz(booked);
	r.rule = cml_match_decision_name(res->decision);
	r.reason = reason;
	return cml_register_review_put(m->s, &r, NULL);
}

static const char *
note(cml_matcher *m, const char *fmt, ...) CML_PRINTF(2, 3);

static const char *
note(cml_matcher *m, const char *fmt, ...)
{
	char msg[CML_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	cml_msg_vset(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return cml_arena_strdup(&m->arena, msg);
}

/* The table's decision written into the register. */
static cml_status
apply(cml_matcher *m, const cml_document *order, const cml_counterparty *b, const struct keys *k,
      const cml_match_choice *ch, cml_match_result *res)
{
	const char *card = ch->card_id;
	const struct hit *h = card ? e_hit(m, card) : NULL;
	cml_status st = CML_OK;
	bool filled = false;

	switch (ch->decision) {
	case CML_DEC_NEW:
	case CML_DEC_AND_NEW:
	case CML_DEC_EMAIL_OTHER_INN:
	case CML_DEC_BRANCH:
		st = new_card(m, b, k, ch->head_id, &card, res);
		if (st == CML_OK && ch->decision == CML_DEC_EMAIL_OTHER_INN) {
			res->note = note(m, "the email %s is on card %s with another INN: a new card "
			                    "for INN %s",
			                 k->email.key, m->ne ? m->e[0].c.card_id : "", k->inn);
			warn(m, "order %s: %s", k->number, res->note);
		} else if (st == CML_OK && ch->decision == CML_DEC_BRANCH) {
			if (ch->head_id != NULL) {
				res->note = note(m, "INN %s with the new KPP %s: a branch of card %s",
				                 k->inn, k->kpp, ch->head_id);
			} else {
				res->note = note(m, "INN %s with the new KPP %s: a branch, but the INN "
				                    "has no single head card: a card without a head",
				                 k->inn, k->kpp);
				warn(m, "order %s: %s", k->number, res->note);
			}
		}
		break;
	case CML_DEC_EMAIL:
	case CML_DEC_HEAD:
	case CML_DEC_INN:
	case CML_DEC_INN_KPP:
		if (k->inn[0] != '\0' &&
		    (ch->decision == CML_DEC_EMAIL || ch->decision == CML_DEC_HEAD)) {
			st = cml_register_fill_inn(m->s, card, k->inn, k->kpp[0] ? k->kpp : NULL,
			                           &filled);
			if (st != CML_OK)
				break;
			res->inn_filled = filled;
			if (filled)
				m->st.inn_filled++;
		}
		/* the card holds the email: its person; else (an INN card) the buyer
		 * becomes a new contact person of it */
		if (h != NULL || ch->decision == CML_DEC_EMAIL)
			st = keep_person(m, h, res);
		else if (k->email.key[0] || k->phone[0] || k->person_name[0])
			st = add_person(m, b, k, card, res);
		break;
	case CML_DEC_BOTH:
	case CML_DEC_AND_MATCH:
		st = keep_person(m, h, res);
		break;
	case CML_DEC_CONFLICT:
		res->note = note(m, "the email %s is on card %s, the INN %s on card %s: booked to "
		                    "the INN's card, nothing merged",
		                 k->email.key, m->ne ? m->e[0].c.card_id : "", k->inn, card);
		st = review(m, order, res, card, res->note);
		break;
	case CML_DEC_REVIEW:
		res->note = note(m, "several cards hold the email or the INN and none is the one "
		                    "to take: the buyer goes out as it came");
		st = review(m, order, res, NULL, res->note);
		break;
	default:
		break;
	}
	if (st != CML_OK)
		return st;
	res->review = ch->review;
	return card != NULL ? book(m, card, res) : CML_OK;
}

static cml_status
find(cml_matcher *m, cml_register_key key, const char *value, struct hit **v, size_t *nv,
     size_t *cap, cml_match_cand **cv)
{
	const cml_register_hit *hits = NULL;
	size_t n = 0;
	cml_status st = cml_register_find(m->s, key, value, &hits, &n);

	if (st != CML_OK && st != CML_END)
		return st;
	if (st == CML_END)
		n = 0;
	return keep_hits(m, hits, n, v, nv, cap, cv);
}

cml_status
cml_matcher_buyer(cml_matcher *m, const cml_document *order, const cml_counterparty *buyer,
                  cml_match_result *res)
{
	struct keys k;
	cml_cp_card by_id;
	bool have_id = false;
	const char *resolved = NULL;
	cml_match_choice ch;
	cml_match_sets sets;
	cml_status st;

	memset(res, 0, sizeof(*res));
	if (m == NULL || order == NULL || buyer == NULL)
		return CML_ERR_USAGE;
	cml_arena_reset(&m->arena);
	m->ne = m->ni = 0;
	memset(&k, 0, sizeof(k));
	k.number = nz(order->number)[0] ? order->number : nz(order->id);
	m->st.buyers++;
	keys_of(m, buyer, &k);
	res->buyer_id = nz(buyer->id);
	res->email = cml_arena_strdup(&m->arena, k.email.key);
	res->inn = cml_arena_strdup(&m->arena, k.inn);
	res->kpp = cml_arena_strdup(&m->arena, k.kpp);
	res->phone = cml_arena_strdup(&m->arena, k.phone);
	res->candidates = "";
	res->note = "";
	if (!res->email || !res->inn || !res->kpp || !res->phone)
		return CML_ERR_NOMEM;

	/* the buyer of record is a marketplace: untouched */
	if (nz(buyer->id)[0] != '\0') {
		st = cml_register_get(m->s, buyer->id, &by_id);
		if (st == CML_OK) {
			char digits[13];

			have_id = true;
			if (k.inn[0] && cml_inn_check(by_id.inn, digits, NULL, NULL) == CML_OK &&
			    strcmp(digits, k.inn) != 0)
				have_id = false;
			if (by_id.marketplace) {
				res->decision = CML_DEC_SKIP;
				goto done;
			}
			by_id.id = cml_arena_strdup(&m->arena, by_id.id);
			if (by_id.id == NULL)
				return CML_ERR_NOMEM;
		} else if (st != CML_END) {
			return st;
		}
	}
	if (k.inn[0] != '\0') {
		st = find(m, CML_REGKEY_INN, k.inn, &m->i, &m->ni, &m->cap_i, &m->ci);
		if (st != CML_OK)
			return st;
		for (size_t j = 0; j < m->ni; j++)
			if (m->i[j].marketplace) {
				res->decision = CML_DEC_SKIP;
				goto done;
			}
	}
	if (is_marketplace(m, buyer, &k)) {
		res->decision = CML_DEC_SKIP;
		goto done;
	}

	/* a settled review, then the card the buyer names by its Ид */
	st = cml_register_resolution(m->s, nz(m->opts.site), nz(order->id), &resolved);
	if (st == CML_OK) {
		resolved = cml_arena_strdup(&m->arena, resolved);
		if (resolved == NULL)
			return CML_ERR_NOMEM;
		st = book(m, resolved, res);
		if (st == CML_OK) {
			res->decision = CML_DEC_RESOLVED;
			goto done;
		}
	}
	if (st != CML_END)
		return st;
	if (have_id) {
		st = book(m, by_id.id, res);
		if (st != CML_OK)
			return st;
		res->decision = CML_DEC_ID;
		goto done;
	}

	/* the table */
	if (k.email.key[0] != '\0') {
		st = find(m, CML_REGKEY_EMAIL, k.email.key, &m->e, &m->ne, &m->cap_e, &m->ce);
		if (st != CML_OK)
			return st;
	}
	if (!k.email.key[0] && !k.inn[0] && !k.phone[0]) {
		m->st.no_keys++;
		warn(m, "order %s: buyer has no email, INN or phone: a new card", k.number);
	}
	res->candidates = candidates(m);
	if (res->candidates == NULL)
		return CML_ERR_NOMEM;
	memset(&sets, 0, sizeof(sets));
	sets.inn = k.inn;
	sets.kpp = k.kpp;
	sets.has_email = k.email.key[0] != '\0';
	sets.e = m->ce;
	sets.ne = m->ne;
	sets.i = m->ci;
	sets.ni = m->ni;
	ch = cml_match_decide(m->opts.rule, m->opts.kpp, &sets);
	res->decision = ch.decision;
	res->duplicate = (ch.decision == CML_DEC_NEW || ch.decision == CML_DEC_AND_NEW) &&
	                 (m->ne > 0 || m->ni > 0);
	st = apply(m, order, buyer, &k, &ch, res);
	if (st != CML_OK)
		return st;
done:
	m->st.by_decision[res->decision]++;
	if (res->review)
		m->st.reviews++;
	if (res->duplicate)
		m->st.duplicates++;
	return CML_OK;
}
