/*
 * test_matcher.c: the cp-match matcher (lib/match.c) against a real
 * register (lib/register.c) in a temporary database: the seed's story
 * (one INN, two emails: one card, two contact persons; a new email and
 * no INN: a new card), a branch, a conflict and its review record, EMAIL
 * filling an empty INN and never overwriting one, marketplace orders
 * skipped, a settled review remembered, a buyer that carries a card's
 * Ид, idempotency (a second run writes nothing and gives the same
 * cards), --rule and making the duplicates that "email OR INN" does
 * not, and the reports of an invalid INN, an email that is none and a
 * buyer without keys; and every buyer of the corpus order files, matched
 * twice against one register: the second pass writes nothing and books
 * every buyer to the same card.
 *
 * "test_matcher --bench [CARDS [BUYERS]]" (default 100000 and 10000)
 * fills a register and matches buyers mixing the table's rows in one
 * run (rolled back): wall time per phase and peak RSS.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cml/keys.h"
#include "cml/match.h"
#include "cml/reader.h"
#include "cml/register.h"
#include "cml/store.h"
#include "harness.h"

#define INN_A "7707083893"
#define INN_B "7736207543"
#define INN_C "7830002293"
#define INN_D "1234567894"
#define INN_P "500100732259"
#define KPP_1 "773601001"
#define KPP_2 "773602001"

static char tmpdir[64];
static int dbcount;

static cml_store *
open_new(void)
{
	char path[128], err[512];
	cml_status st;
	cml_store *s;

	snprintf(path, sizeof(path), "%s/db%d.sqlite", tmpdir, ++dbcount);
	s = cml_store_open(path, NULL, &st, err, sizeof(err));
	if (s == NULL)
		fprintf(stderr, "open %s: %s\n", path, err);
	return s;
}

/* ---- building orders ---- */

struct spec {
	const char *number;
	const char *buyer_id;
	const char *name;
	const char *official; /* ОфициальноеНаименование: a legal entity */
	const char *inn, *kpp;
	const char *email;
	const char *phone;
	const char *rep;      /* the Представитель's name */
};

struct order {
	cml_document doc;
	cml_counterparty cp;
	cml_pair contacts[2];
	cml_representative rep;
	char id[64];
};

static void
mk_order(struct order *o, const struct spec *sp)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->id, sizeof(o->id), "order-%s", sp->number);
	o->doc.id = o->id;
	o->doc.number = sp->number;
	o->doc.counterparties = &o->cp;
	o->doc.n_counterparties = 1;
	o->cp.id = sp->buyer_id ? sp->buyer_id : "1#user#Name";
	o->cp.name = sp->name;
	o->cp.official_name = sp->official;
	o->cp.role = "Покупатель";
	o->cp.inn = sp->inn;
	o->cp.kpp = sp->kpp;
	o->cp.contacts = o->contacts;
	if (sp->email != NULL)
		o->contacts[o->cp.n_contacts++] = (cml_pair){"Электронная почта", sp->email};
	if (sp->phone != NULL)
		o->contacts[o->cp.n_contacts++] = (cml_pair){"Телефон рабочий", sp->phone};
	if (sp->rep != NULL) {
		o->rep.relation = "Контактное лицо";
		o->rep.id = "md5-of-name";
		o->rep.name = sp->rep;
		o->cp.representatives = &o->rep;
		o->cp.n_representatives = 1;
	}
}

/* ---- the register ---- */

static bool
put_card(cml_store *s, const char *id, const char *name, const char *inn, const char *kpp,
         const char *head, const char *email)
{
	cml_cp_card c;

	memset(&c, 0, sizeof(c));
	c.id = id;
	c.name = name;
	c.kind = CML_CP_LEGAL;
	c.inn = inn;
	c.kpp = kpp;
	c.head_id = head;
	if (cml_register_put(s, &c, NULL) != CML_OK)
		return false;
	return email == NULL ||
	       cml_register_add_contact(s, id, NULL, CML_CONTACT_EMAIL, email, NULL) == CML_OK;
}

static int64_t
n_persons(cml_store *s, const char *card)
{
	void *cur = NULL;
	cml_cp_person p;
	int64_t n = 0;

	while (cml_register_persons(s, card, &cur, &p) == CML_OK)
		n++;
	cml_register_end(s, &cur);
	return n;
}

static bool
same_counts(const cml_register_counts *a, const cml_register_counts *b)
{
	return a->cards == b->cards && a->branches == b->branches && a->persons == b->persons &&
	       a->contacts == b->contacts && a->aliases == b->aliases &&
	       a->reviews_open == b->reviews_open;
}

/* ---- the warnings ---- */

static char warned[16][256];
static int n_warned;

static void
on_warn(void *ud, const char *msg)
{
	(void)ud;
	if (n_warned < 16)
		snprintf(warned[n_warned++], sizeof(warned[0]), "%s", msg);
}

static bool
was_warned(const char *prefix, const char *suffix)
{
	for (int k = 0; k < n_warned; k++) {
		size_t n = strlen(warned[k]), m = strlen(suffix);

		if (strncmp(warned[k], prefix, strlen(prefix)) == 0 &&
		    (m == 0 || (n >= m && strcmp(warned[k] + n - m, suffix) == 0)))
			return true;
	}
	return false;
}

/* Matches one order in the open run. */
static cml_status
match(cml_matcher *m, const struct spec *sp, cml_match_result *res)
{
	struct order o;

	mk_order(&o, sp);
	return cml_matcher_buyer(m, &o.doc, cml_match_buyer_of(&o.doc), res);
}

static cml_matcher *
matcher(cml_store *s, cml_match_rule rule, const char *const *mp, size_t nmp)
{
	cml_match_opts o;

	memset(&o, 0, sizeof(o));
	o.rule = rule;
	o.site = "shop";
	o.marketplaces = mp;
	o.n_marketplaces = nmp;
	o.warn = on_warn;
	return cml_matcher_new(s, &o);
}

/* ---- the tests ---- */

static void
test_seed_story(void)
{
	cml_store *s = open_new();
	cml_matcher *m = NULL;
	cml_match_result r;
	cml_register_counts c;
	char p1[40] = "", p2[40] = "";

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	CHECK(put_card(s, "card-a", "ООО Альфа", INN_A, KPP_1, NULL, "info@alfa.ru"));
	m = matcher(s, CML_MATCH_OR, NULL, 0);
	CHECK(m != NULL);

	/* same INN, a new email: the card, a new contact person */
	CHECK(match(m, &(struct spec){"1", NULL, "ООО Альфа", "ООО \"Альфа\"", INN_A, KPP_1,
	                              "Ivan@Alfa.RU", "+7 (495) 123-45-67", "Иван Петров"},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_INN);
	CHECK(r.card != NULL && strcmp(r.card->id, "card-a") == 0);
	CHECK(!r.card_new && !r.duplicate && !r.review);
	CHECK(r.person != NULL && r.person_new);
	if (r.person) {
		CHECK_STR(r.person->name, "Иван Петров");
		snprintf(p1, sizeof(p1), "%s", r.person->id);
	}
	CHECK_STR(r.email, "ivan@alfa.ru");
	CHECK_STR(r.inn, INN_A);
	CHECK_STR(r.phone, "+74951234567");

	/* same INN, another email: the same card, a second person */
	CHECK(match(m, &(struct spec){"2", NULL, "ООО Альфа", "ООО \"Альфа\"", INN_A, KPP_1,
	                              "petr@alfa.ru", NULL, "Пётр Сидоров"},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_INN);
	CHECK(r.card != NULL && strcmp(r.card->id, "card-a") == 0);
	CHECK(r.person != NULL && r.person_new);
	if (r.person) {
		snprintf(p2, sizeof(p2), "%s", r.person->id);
		CHECK(strcmp(p1, p2) != 0);
	}
	CHECK_INT(n_persons(s, "card-a"), 2);

	/* the first buyer again: found by its email now, the same person */
	CHECK(match(m, &(struct spec){"3", NULL, "ООО Альфа", "ООО \"Альфа\"", INN_A, KPP_1,
	                              "ivan@alfa.ru", NULL, "Иван Петров"},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_BOTH);
	CHECK(r.person != NULL && !r.person_new && r.person && strcmp(r.person->id, p1) == 0);

	/* a new email and no INN: a new card */
	CHECK(match(m, &(struct spec){"4", NULL, "Сергей", NULL, NULL, NULL, "serg@mail.ru",
	                              NULL, NULL},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_NEW);
	CHECK(r.card_new && !r.duplicate);
	CHECK(r.card != NULL && strcmp(r.card->id, "card-a") != 0);
	if (r.card) {
		CHECK_STR(r.card->origin, "cp-match");
		CHECK(r.card->kind == CML_CP_PERSON);
		CHECK_STR(r.card->name, "Сергей");
	}
	CHECK(r.person == NULL); /* a person's card holds its own email */

	CHECK(cml_register_count(s, &c) == CML_OK);
	CHECK_INT(c.cards, 2);
	CHECK_INT(c.persons, 2);
	cml_match_stats ms;
	cml_matcher_stats(m, &ms);
	CHECK_INT(ms.buyers, 4);
	CHECK_INT(ms.by_decision[CML_DEC_INN], 2);
	CHECK_INT(ms.cards_new, 1);
	CHECK_INT(ms.persons_new, 2);
	CHECK_INT(ms.duplicates, 0);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_matcher_free(m);
	cml_store_close(s);
}

static void
test_new_legal_entity(void)
{
	cml_store *s = open_new();
	cml_matcher *m = NULL;
	cml_match_result r;
	char id[40];

	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	m = matcher(s, CML_MATCH_OR, NULL, 0);
	CHECK(match(m, &(struct spec){"1", NULL, "Бета", "ООО \"Бета\"", INN_B, KPP_1,
	                              "zakaz@beta.ru", "84951112233", "Анна"},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_NEW && r.card_new);
	/* the card's Ид comes from the INN and KPP, whatever the site */
	cml_stable_id("cmlkit-card", "inn:" INN_B "/" KPP_1, id);
	CHECK(r.card != NULL && strcmp(r.card->id, id) == 0);
	if (r.card) {
		CHECK(r.card->kind == CML_CP_LEGAL);
		CHECK_STR(r.card->inn, INN_B);
		CHECK_STR(r.card->kpp, KPP_1);
		CHECK_STR(r.card->full_name, "ООО \"Бета\"");
	}
	CHECK(r.person != NULL && r.person_new);
	if (r.person)
		CHECK_STR(r.person->name, "Анна");
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_matcher_free(m);
	cml_store_close(s);
}

static void
test_branch(void)
{
	cml_store *s = open_new();
	cml_matcher *m = NULL;
	cml_match_result r;
	cml_register_counts c;

	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	CHECK(put_card(s, "head", "Вега", INN_B, KPP_1, NULL, "office@vega.ru"));
	m = matcher(s, CML_MATCH_OR, NULL, 0);
	/* the head's email, a new KPP: a branch, not a person on the head */
	CHECK(match(m, &(struct spec){"1", NULL, "Вега филиал", "ООО \"Вега\"", INN_B, KPP_2,
	                              "office@vega.ru", NULL, "Олег"},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_BRANCH);
	CHECK(r.card_new && !r.duplicate);
	CHECK(r.card != NULL && r.card && strcmp(r.card->id, "head") != 0);
	if (r.card) {
		CHECK_STR(r.card->head_id, "head");
		CHECK_STR(r.card->kpp, KPP_2);
	}
	CHECK_INT(n_persons(s, "head"), 0);
	/* again: the branch card */
	char br[40] = "";
	if (r.card)
		snprintf(br, sizeof(br), "%s", r.card->id);
	CHECK(match(m, &(struct spec){"2", NULL, "Вега филиал", "ООО \"Вега\"", INN_B, KPP_2,
	                              "office@vega.ru", NULL, "Олег"},
	            &r) == CML_OK);
	CHECK(r.card != NULL && r.card && strcmp(r.card->id, br) == 0);
	CHECK(!r.card_new);
	/* the head's KPP: the head */
	CHECK(match(m, &(struct spec){"3", NULL, "Вега", "ООО \"Вега\"", INN_B, KPP_1,
	                              "office@vega.ru", NULL, NULL},
	            &r) == CML_OK);
	CHECK(r.card != NULL && r.card && strcmp(r.card->id, "head") == 0);
	/* no KPP: the head card */
	CHECK(match(m, &(struct spec){"4", NULL, "Вега", NULL, INN_B, NULL, NULL, NULL, "Ира"},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_HEAD);
	CHECK(r.card != NULL && r.card && strcmp(r.card->id, "head") == 0);
	CHECK(cml_register_count(s, &c) == CML_OK);
	CHECK_INT(c.branches, 1);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_matcher_free(m);
	cml_store_close(s);
}

/* --kpp ignore: one card per INN, a new KPP is a contact person */
static void
test_kpp_ignore(void)
{
	cml_store *s = open_new();
	cml_matcher *m = NULL;
	cml_match_opts o;
	cml_match_result r;

	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	CHECK(put_card(s, "head", "Вега", INN_B, KPP_1, NULL, "office@vega.ru"));
	memset(&o, 0, sizeof(o));
	o.kpp = CML_KPP_IGNORE;
	m = cml_matcher_new(s, &o);
	CHECK(match(m, &(struct spec){"1", NULL, "Вега филиал", "ООО \"Вега\"", INN_B, KPP_2,
	                              "olga@vega.ru", NULL, "Ольга"},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_INN && !r.card_new);
	CHECK(r.card != NULL && r.card && strcmp(r.card->id, "head") == 0);
	CHECK(r.person != NULL && r.person_new);
	CHECK_INT(n_persons(s, "head"), 1);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_matcher_free(m);
	cml_store_close(s);
}

static void
test_conflict_and_resolve(void)
{
	cml_store *s = open_new();
	cml_matcher *m = NULL;
	cml_match_result r;
	cml_review rv;
	void *cur = NULL;
	int n = 0;
	const struct spec sp = {"77", NULL, "Гамма", "ООО \"Гамма\"", INN_C, KPP_1,
	                        "x@gamma.ru", NULL, "Ян"};

	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	CHECK(put_card(s, "c1", "Гамма (почта)", "", "", NULL, "x@gamma.ru"));
	CHECK(put_card(s, "c2", "Гамма (ИНН)", INN_C, KPP_1, NULL, NULL));
	m = matcher(s, CML_MATCH_OR, NULL, 0);
	CHECK(match(m, &sp, &r) == CML_OK);
	CHECK(r.decision == CML_DEC_CONFLICT && r.review);
	CHECK(r.card != NULL && r.card && strcmp(r.card->id, "c2") == 0);
	CHECK(r.person == NULL);
	CHECK_STR(r.candidates, "c1 c2");
	CHECK_INT(n_persons(s, "c2"), 0); /* nothing moved */
	while (cml_register_review_next(s, true, &cur, &rv) == CML_OK) {
		n++;
		CHECK_STR(rv.order_id, "order-77");
		CHECK_STR(rv.order_number, "77");
		CHECK_STR(rv.site, "shop");
		CHECK_STR(rv.booked, "c2");
		CHECK_STR(rv.rule, "conflict");
		CHECK_STR(rv.candidates, "c1 c2");
		CHECK_STR(rv.email, "x@gamma.ru");
		CHECK_STR(rv.inn, INN_C);
		CHECK(rv.reason != NULL && rv.reason[0] != '\0');
	}
	cml_register_end(s, &cur);
	CHECK_INT(n, 1);
	/* the same order again: still one record */
	CHECK(match(m, &sp, &r) == CML_OK);
	cml_register_counts c;
	CHECK(cml_register_count(s, &c) == CML_OK);
	CHECK_INT(c.reviews_open, 1);

	/* settled to c1: remembered on the next run */
	CHECK(cml_register_resolve(s, "shop", "77", "c1") == CML_OK);
	CHECK(match(m, &sp, &r) == CML_OK);
	CHECK(r.decision == CML_DEC_RESOLVED && !r.review);
	CHECK(r.card != NULL && r.card && strcmp(r.card->id, "c1") == 0);
	CHECK(cml_register_count(s, &c) == CML_OK);
	CHECK_INT(c.reviews_open, 0);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_matcher_free(m);
	cml_store_close(s);
}

static void
test_email_fills_inn(void)
{
	cml_store *s = open_new();
	cml_matcher *m = NULL;
	cml_match_result r;
	cml_cp_card c;

	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	CHECK(put_card(s, "e1", "Дельта", "", "", NULL, "d@delta.ru"));
	CHECK(put_card(s, "e2", "Эпсилон", INN_P, "", NULL, "e@eps.ru"));
	m = matcher(s, CML_MATCH_OR, NULL, 0);
	/* an empty INN filled */
	CHECK(match(m, &(struct spec){"1", NULL, "Дельта", "ООО \"Дельта\"", INN_D, KPP_1,
	                              "D@delta.ru", NULL, NULL},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_EMAIL && r.inn_filled);
	CHECK(r.card != NULL && r.card && strcmp(r.card->id, "e1") == 0);
	if (r.card) {
		CHECK_STR(r.card->inn, INN_D);
		CHECK_STR(r.card->kpp, KPP_1);
	}
	/* no INN in: the card as it is */
	CHECK(match(m, &(struct spec){"3", NULL, "Эпсилон", NULL, NULL, NULL, "e@eps.ru", NULL,
	                              NULL},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_EMAIL && !r.inn_filled);
	CHECK(cml_register_get(s, "e2", &c) == CML_OK);
	CHECK_STR(c.inn, INN_P);
	/* another INN on the email's card: never overwritten, a new card */
	CHECK(match(m, &(struct spec){"2", NULL, "Эпсилон", "ООО \"Эпсилон\"", INN_A, NULL,
	                              "e@eps.ru", NULL, NULL},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_EMAIL_OTHER_INN && !r.inn_filled && r.card_new);
	CHECK(!r.duplicate);
	CHECK(r.card != NULL && r.card && strcmp(r.card->id, "e2") != 0);
	if (r.card)
		CHECK_STR(r.card->inn, INN_A);
	CHECK(was_warned("order 2: ", ""));
	CHECK(cml_register_get(s, "e2", &c) == CML_OK);
	CHECK_STR(c.inn, INN_P);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_matcher_free(m);
	cml_store_close(s);
}

static void
test_marketplace_and_id(void)
{
	cml_store *s = open_new();
	cml_matcher *m = NULL;
	cml_match_result r;
	cml_cp_card mp;
	cml_register_counts c0, c1;
	const char *const list[] = {"wb#buyer"};

	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	memset(&mp, 0, sizeof(mp));
	mp.id = "ozon";
	mp.name = "Озон";
	mp.inn = INN_C;
	mp.marketplace = true;
	CHECK(cml_register_put(s, &mp, NULL) == CML_OK);
	CHECK(put_card(s, "k-1", "Каппа", INN_A, KPP_1, NULL, NULL));
	CHECK(cml_register_count(s, &c0) == CML_OK);
	m = matcher(s, CML_MATCH_OR, list, 1);
	/* the INN of a marketplace card */
	CHECK(match(m, &(struct spec){"1", NULL, "Покупатель Озон", NULL, INN_C, NULL,
	                              "someone@mail.ru", NULL, NULL},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_SKIP && r.card == NULL && r.person == NULL);
	/* a marketplace of the options, by the buyer's Ид */
	CHECK(match(m, &(struct spec){"2", "wb#buyer", "WB", NULL, NULL, NULL, "a@b.ru", NULL,
	                              NULL},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_SKIP);
	CHECK(cml_register_count(s, &c1) == CML_OK);
	CHECK(same_counts(&c0, &c1));
	/* the buyer carries a card's Ид */
	CHECK(match(m, &(struct spec){"3", "k-1", "Каппа", NULL, NULL, NULL, "k@k.ru", NULL,
	                              NULL},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_ID);
	CHECK(r.card != NULL && r.card && strcmp(r.card->id, "k-1") == 0);
	/* ... with its own valid INN: the table decides */
	CHECK(match(m, &(struct spec){"4", "k-1", "Каппа", NULL, INN_B, NULL, NULL, NULL, NULL},
	            &r) == CML_OK);
	CHECK(r.decision == CML_DEC_NEW);
	CHECK(r.card != NULL && r.card && strcmp(r.card->id, "k-1") != 0);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_matcher_free(m);
	cml_store_close(s);
}

/* One of each row, matched twice in two runs. */
static const struct spec mixed[] = {
	{"m1", NULL, "ООО Альфа", "ООО \"Альфа\"", INN_A, KPP_1, "new@alfa.ru", NULL, "Ира"},
	{"m2", NULL, "Вега", "ООО \"Вега\"", INN_B, KPP_2, NULL, "8 495 000-00-01", "Кира"},
	{"m3", NULL, "Частное лицо", NULL, NULL, NULL, "private@mail.ru", "+79161234567", NULL},
	{"m4", NULL, "Гамма", NULL, INN_C, KPP_1, "x@gamma.ru", NULL, NULL},
	{"m5", NULL, "Дельта", NULL, INN_D, NULL, "d@delta.ru", NULL, NULL},
	{"m6", NULL, "Без ключей", NULL, NULL, NULL, NULL, NULL, NULL},
	{"m7", NULL, "Эпсилон", "ООО \"Эпсилон\"", "7707083894", NULL, "e@eps.ru", NULL, "Ян"},
	{"m8", NULL, "Омега", "ООО \"Омега\"", INN_D, KPP_2, "omega@omega.ru", NULL, "Лев"},
};
#define N_MIXED (sizeof(mixed) / sizeof(mixed[0]))

static bool
seed(cml_store *s)
{
	return put_card(s, "card-a", "ООО Альфа", INN_A, KPP_1, NULL, "info@alfa.ru") &&
	       put_card(s, "head", "Вега", INN_B, KPP_1, NULL, "office@vega.ru") &&
	       put_card(s, "c1", "Гамма (почта)", "", "", NULL, "x@gamma.ru") &&
	       put_card(s, "c2", "Гамма (ИНН)", INN_C, KPP_1, NULL, NULL) &&
	       put_card(s, "e1", "Дельта", "", "", NULL, "d@delta.ru");
}

static void
run_mixed(cml_store *s, cml_match_rule rule, char cards[][40], char persons[][40],
          cml_match_stats *ms)
{
	cml_matcher *m = matcher(s, rule, NULL, 0);
	cml_match_result r;

	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	for (size_t k = 0; k < N_MIXED; k++) {
		CHECK(match(m, &mixed[k], &r) == CML_OK);
		snprintf(cards[k], 40, "%s", r.card ? r.card->id : "-");
		snprintf(persons[k], 40, "%s", r.person ? r.person->id : "-");
	}
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_matcher_stats(m, ms);
	cml_matcher_free(m);
}

static void
test_idempotent(void)
{
	cml_store *s = open_new();
	char c1[N_MIXED][40], p1[N_MIXED][40], c2[N_MIXED][40], p2[N_MIXED][40];
	cml_register_counts n1, n2;
	cml_match_stats ms;

	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "seed") == CML_OK);
	CHECK(seed(s));
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	run_mixed(s, CML_MATCH_OR, c1, p1, &ms);
	CHECK(ms.cards_new >= 3);
	CHECK(cml_register_count(s, &n1) == CML_OK);
	run_mixed(s, CML_MATCH_OR, c2, p2, &ms);
	CHECK(cml_register_count(s, &n2) == CML_OK);
	CHECK(same_counts(&n1, &n2));
	CHECK_INT(ms.cards_new, 0);
	CHECK_INT(ms.persons_new, 0);
	CHECK_INT(ms.inn_filled, 0);
	for (size_t k = 0; k < N_MIXED; k++) {
		CHECK_STR(c2[k], c1[k]);
		CHECK_STR(p2[k], p1[k]);
	}
	cml_store_close(s);

	/* deterministic: a second register from the same seed, the same cards */
	s = open_new();
	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "seed") == CML_OK);
	CHECK(seed(s));
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	run_mixed(s, CML_MATCH_OR, c2, p2, &ms);
	for (size_t k = 0; k < N_MIXED; k++) {
		CHECK_STR(c2[k], c1[k]);
		CHECK_STR(p2[k], p1[k]);
	}
	cml_store_close(s);
}

static void
test_rule_and(void)
{
	cml_store *a = open_new(), *o = open_new();
	char c[N_MIXED][40], p[N_MIXED][40];
	cml_match_stats sa, so;

	if (a == NULL || o == NULL) {
		cml_store_close(a);
		cml_store_close(o);
		return;
	}
	CHECK(cml_store_run_begin(a, "seed") == CML_OK);
	CHECK(seed(a));
	CHECK(cml_store_run_commit(a, "ok", NULL) == CML_OK);
	CHECK(cml_store_run_begin(o, "seed") == CML_OK);
	CHECK(seed(o));
	CHECK(cml_store_run_commit(o, "ok", NULL) == CML_OK);
	run_mixed(o, CML_MATCH_OR, c, p, &so);
	run_mixed(a, CML_MATCH_AND, c, p, &sa);
	CHECK_INT(so.duplicates, 0);
	/* m1 (INN of card-a, a new email), m2 (INN of head, no email), m4 (INN
	 * of c2, email of c1), m5 (email of e1, which has no INN), m8 (the INN
	 * m5's new card took): the old rule's duplicates */
	CHECK_INT(sa.duplicates, 5);
	CHECK(sa.by_decision[CML_DEC_AND_NEW] + sa.by_decision[CML_DEC_AND_MATCH] ==
	      (int64_t)N_MIXED);
	CHECK(sa.cards_new > so.cards_new);
	cml_store_close(a);
	cml_store_close(o);
}

static void
test_reports(void)
{
	cml_store *s = open_new();
	cml_matcher *m = NULL;
	cml_match_result r;
	cml_match_stats ms;

	if (s == NULL)
		return;
	n_warned = 0;
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	CHECK(put_card(s, "card-a", "ООО Альфа", INN_A, KPP_1, NULL, NULL));
	m = matcher(s, CML_MATCH_OR, NULL, 0);
	/* an invalid INN is no key: the card with the valid one is not found */
	CHECK(match(m, &(struct spec){"101", NULL, "Альфа?", NULL, "7707083894", NULL, "foo",
	                              NULL, NULL},
	            &r) == CML_OK);
	CHECK_STR(r.inn, "");
	CHECK_STR(r.email, "");
	CHECK(r.decision == CML_DEC_NEW);
	CHECK(was_warned("order 101: invalid INN 7707083894 (", "): not used as a key"));
	CHECK(was_warned("order 101: \"foo\" is not an email (", ")"));
	CHECK(was_warned("order 101: buyer has no email, INN or phone: a new card", ""));
	cml_matcher_stats(m, &ms);
	CHECK_INT(ms.invalid_inn, 1);
	CHECK_INT(ms.invalid_email, 1);
	CHECK_INT(ms.no_keys, 1);
	/* the email of a Представитель when the Контрагент has none */
	struct order o;
	cml_pair rc = {"Почта", "Rep@Example.COM"};
	mk_order(&o, &(struct spec){"102", NULL, "Омега", NULL, NULL, NULL, NULL, NULL, "Лев"});
	o.rep.contacts = &rc;
	o.rep.n_contacts = 1;
	CHECK(cml_matcher_buyer(m, &o.doc, &o.cp, &r) == CML_OK);
	CHECK_STR(r.email, "rep@example.com");
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_matcher_free(m);
	cml_store_close(s);
}

/* Each allocation of the matcher failing in turn: an error status (or
 * CML_OK when the failure fell where it is not needed), never a crash,
 * and the run rolled back. */
static void
test_alloc_failure(void)
{
	cml_store *s = open_new();
	const struct spec a = {"1", NULL, "Бета", "ООО \"Бета\"", INN_B, KPP_2, "b@beta.ru",
	                       "84951112233", "Анна"};
	const struct spec b = {"2", NULL, "ООО Альфа", NULL, INN_A, KPP_1, "Ivan@Alfa.RU",
	                       NULL, "Иван"};
	bool passed = false;
	int errors = 0;

	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "seed") == CML_OK);
	CHECK(put_card(s, "card-a", "ООО Альфа", INN_A, KPP_1, NULL, "info@alfa.ru"));
	CHECK(put_card(s, "card-b", "Бета", INN_B, KPP_1, NULL, NULL));
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	for (long n = 1; n < 500 && !passed; n++) {
		cml_match_result r;
		cml_matcher *m;
		cml_status st = CML_ERR_NOMEM;

		CHECK(cml_store_run_begin(s, "alloc") == CML_OK);
		cml_alloc_fail_after(n);
		m = matcher(s, CML_MATCH_OR, NULL, 0);
		if (m != NULL) {
			st = match(m, &a, &r);
			if (st == CML_OK)
				st = match(m, &b, &r);
			if (st == CML_OK)
				st = match(m, &b, &r);
		}
		cml_alloc_fail_after(0);
		CHECK(st == CML_OK || st < 0);
		passed = st == CML_OK;
		errors += st != CML_OK;
		cml_matcher_free(m);
		cml_store_run_rollback(s);
	}
	CHECK(passed);
	CHECK(errors > 0);
	cml_store_close(s);
}

static void
test_buyer_of(void)
{
	cml_counterparty cp[2];
	cml_document d;

	memset(cp, 0, sizeof(cp));
	memset(&d, 0, sizeof(d));
	d.counterparties = cp;
	cp[0].role = "Продавец";
	cp[1].role = "ПОКУПАТЕЛЬ";
	d.n_counterparties = 2;
	CHECK(cml_match_buyer_of(&d) == &cp[1]);
	cp[1].role = "Плательщик";
	CHECK(cml_match_buyer_of(&d) == NULL);
	d.n_counterparties = 1;
	cp[0].role = NULL;
	CHECK(cml_match_buyer_of(&d) == &cp[0]);
	d.n_counterparties = 0;
	CHECK(cml_match_buyer_of(&d) == NULL);
}

/* ---- the corpus ---- */

/* The card of each buyer of the first pass, in reading order. */
static char (*corpus_cards)[40];
static size_t corpus_n, corpus_cap;

static void
corpus_file(cml_matcher *m, cml_reader *r, const char *path, bool second)
{
	const cml_item *it;
	cml_status st = cml_reader_open_file(r, path);
	cml_match_result res;

	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK) {
		const cml_document *d;
		const cml_counterparty *b;

		if (it->kind != CML_ITEM_DOCUMENT)
			continue;
		d = &it->u.document;
		b = cml_match_buyer_of(d);
		if (d->basis != NULL || b == NULL)
			continue;
		CHECK(cml_matcher_buyer(m, d, b, &res) == CML_OK);
		const char *card = res.card ? res.card->id : "-";
		if (!second) {
			if (corpus_n == corpus_cap) {
				size_t cap = corpus_cap ? corpus_cap * 2 : 64;
				char(*v)[40] = realloc(corpus_cards, cap * sizeof(*v));
				if (v == NULL)
					return;
				corpus_cards = v;
				corpus_cap = cap;
			}
			snprintf(corpus_cards[corpus_n++], 40, "%s", card);
			CHECK(res.card != NULL || res.decision == CML_DEC_REVIEW ||
			      res.decision == CML_DEC_SKIP);
		} else {
			CHECK(corpus_n < corpus_cap);
			if (corpus_n < corpus_cap)
				CHECK_STR(card, corpus_cards[corpus_n]);
			corpus_n++;
			CHECK(!res.card_new && !res.person_new && !res.inn_filled);
		}
	}
	if (st != CML_END)
		fprintf(stderr, "  %s: %s\n", path, cml_reader_errmsg(r));
	CHECK_INT(st, CML_END);
}

static int
corpus_pass(cml_store *s, bool second)
{
	char line[2048], file[4096];
	FILE *fp = fopen(CORPUS "/SOURCES.tsv", "r");
	cml_reader *r = cml_reader_new(NULL);
	cml_matcher *m = matcher(s, CML_MATCH_OR, NULL, 0);
	int files = 0;

	CHECK(r != NULL && m != NULL);
	if (r == NULL || m == NULL)
		goto out;
	CHECK(cml_store_run_begin(s, "corpus") == CML_OK);
	corpus_n = 0;
	if (fp != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL) {
			char *tab, *kind = NULL;
			int col = 0;

			line[strcspn(line, "\n")] = '\0';
			for (char *p = line; (tab = strchr(p, '\t')) != NULL; p = tab + 1) {
				*tab = '\0';
				if (++col == 5)
					kind = tab + 1;
			}
			if (kind == NULL || strcmp(kind, "orders") != 0)
				continue;
			snprintf(file, sizeof(file), "%s/%s", CORPUS, line);
			corpus_file(m, r, file, second);
			files++;
		}
	} else {
		/* without shared/: the copies of real order files */
		static const char *const copies[] = {
			"dobromyslov__commerceml-parser__data_bitrix-query-response-full.xml",
			"lexxkrt__laravel-catalog-with-1c-exchange__resources_views_orders.xml",
		};
		for (size_t k = 0; k < sizeof(copies) / sizeof(copies[0]); k++) {
			snprintf(file, sizeof(file), "%s/corpus/%s", TESTDATA, copies[k]);
			corpus_file(m, r, file, second);
			files++;
		}
	}
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
out:
	if (fp != NULL)
		fclose(fp);
	cml_matcher_free(m);
	cml_reader_free(r);
	return files;
}

static void
test_corpus(void)
{
	cml_store *s = open_new();
	cml_register_counts c1, c2;
	int files;

	if (s == NULL)
		return;
	n_warned = 0;
	files = corpus_pass(s, false);
	CHECK(cml_register_count(s, &c1) == CML_OK);
	CHECK(corpus_pass(s, true) == files);
	CHECK(cml_register_count(s, &c2) == CML_OK);
	CHECK(same_counts(&c1, &c2));
	printf("corpus: %d order files, %zu buyers, %lld cards, %lld persons, %lld reviews\n",
	       files, corpus_n, (long long)c1.cards, (long long)c1.persons,
	       (long long)c1.reviews_open);
	CHECK(files > 0 && corpus_n > 0 && c1.cards > 0);
	free(corpus_cards);
	corpus_cards = NULL;
	corpus_cap = 0;
	cml_store_close(s);
}

/* A valid 10-digit INN made from n (DOMAIN.md A2's check digit). */
static void
make_inn(long n, char out[11])
{
	static const int w[9] = {2, 4, 10, 3, 5, 9, 4, 6, 8};
	int sum = 0;

	snprintf(out, 11, "77%07ld", n % 10000000);
	for (int k = 0; k < 9; k++)
		sum += (out[k] - '0') * w[k];
	out[9] = (char)('0' + sum % 11 % 10);
	out[10] = '\0';
}


static int
bench(long ncards, long nbuyers)
{
	char path[128], err[256], id[32], inn[11], email[64], pid[32], num[32];
	cml_status st;
	cml_store *s;
	cml_matcher *m = NULL;
	cml_match_result r;
	cml_match_stats ms;
	struct rusage ru;
	double t0;
	bool ok;

	snprintf(path, sizeof(path), "%s/bench.sqlite", tmpdir);
	s = cml_store_open(path, NULL, &st, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t0 = now_s();
	ok = cml_store_run_begin(s, "bench") == CML_OK;
	for (long k = 0; k < ncards && ok; k++) {
		snprintf(id, sizeof(id), "card-%08ld", k);
		make_inn(k, inn);
		snprintf(email, sizeof(email), "c%ld@example.ru", k);
		snprintf(pid, sizeof(pid), "p-%ld", k);
		ok = put_card(s, id, id, inn, KPP_1, NULL, email) &&
		     cml_register_add_person(s, id, pid, "Иван", NULL) == CML_OK;
		snprintf(email, sizeof(email), "p%ld@example.ru", k);
		ok = ok && cml_register_add_contact(s, id, pid, CML_CONTACT_EMAIL, email, NULL) ==
		                   CML_OK;
	}
	ok = ok && cml_store_run_commit(s, "ok", NULL) == CML_OK;
	if (!ok) {
		fprintf(stderr, "bench: filling: %s\n", cml_store_errmsg(s));
		cml_store_close(s);
		return 1;
	}
	printf("filled %ld cards in %.2f s\n", ncards, now_s() - t0);

	m = matcher(s, CML_MATCH_OR, NULL, 0);
	ok = m != NULL && cml_store_run_begin(s, "bench") == CML_OK;
	t0 = now_s();
	for (long k = 0; k < nbuyers && ok; k++) {
		long c = (k * 7919) % ncards, c2 = (c + 1) % ncards;
		char e2[64], i2[11];
		struct spec sp = {num, NULL, "Покупатель", "ООО \"Покупатель\"", NULL, NULL,
		                  NULL, "+7 916 123 45 67", "Иван"};

		snprintf(num, sizeof(num), "%ld", k);
		make_inn(c, inn);
		switch (k % 8) {
		case 0: /* a known email only */
			snprintf(e2, sizeof(e2), "p%ld@example.ru", c);
			sp.email = e2;
			break;
		case 1: /* a known INN, a new email */
			snprintf(e2, sizeof(e2), "new%ld@example.ru", k);
			sp.email = e2;
			sp.inn = inn;
			sp.kpp = KPP_1;
			break;
		case 2: /* both on one card */
			snprintf(e2, sizeof(e2), "c%ld@example.ru", c);
			sp.email = e2;
			sp.inn = inn;
			break;
		case 3: /* a conflict */
			snprintf(e2, sizeof(e2), "c%ld@example.ru", c2);
			sp.email = e2;
			sp.inn = inn;
			sp.kpp = KPP_1;
			break;
		case 4: /* a branch */
			sp.inn = inn;
			sp.kpp = KPP_2;
			break;
		case 5: /* new */
			snprintf(e2, sizeof(e2), "fresh%ld@example.ru", k);
			make_inn(ncards + k, i2);
			sp.email = e2;
			sp.inn = i2;
			break;
		case 6: /* an invalid INN */
			sp.inn = "7707083894";
			snprintf(e2, sizeof(e2), "x%ld@example.ru", k);
			sp.email = e2;
			break;
		default: /* no keys */
			sp.phone = NULL;
			break;
		}
		ok = match(m, &sp, &r) == CML_OK;
	}
	printf("matched %ld buyers in %.2f s (%s)\n", nbuyers, now_s() - t0,
	       ok ? "ok" : cml_store_errmsg(s));
	cml_store_run_rollback(s);
	cml_matcher_stats(m, &ms);
	getrusage(RUSAGE_SELF, &ru);
	printf("cards new %lld, persons new %lld, reviews %lld; peak RSS %ld MiB\n",
	       (long long)ms.cards_new, (long long)ms.persons_new, (long long)ms.reviews,
	       ru.ru_maxrss / 1024);
	cml_matcher_free(m);
	cml_store_close(s);
	return ok ? 0 : 1;
}

int
main(int argc, char **argv)
{
	char cmd[128];
	int rc = -1;

	snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/test_matcher.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
		rc = bench(argc > 2 ? strtol(argv[2], NULL, 10) : 100000,
		           argc > 3 ? strtol(argv[3], NULL, 10) : 10000);
		goto out;
	}
	RUN(test_seed_story);
	RUN(test_new_legal_entity);
	RUN(test_branch);
	RUN(test_kpp_ignore);
	RUN(test_conflict_and_resolve);
	RUN(test_email_fills_inn);
	RUN(test_marketplace_and_id);
	RUN(test_idempotent);
	RUN(test_rule_and);
	RUN(test_reports);
	RUN(test_buyer_of);
	RUN(test_alloc_failure);
	RUN(test_corpus);
out:
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return rc >= 0 ? rc : harness_done();
}
