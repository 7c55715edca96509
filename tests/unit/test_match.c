/*
 * test_match.c: the decision table of cp-match (cml_match_decide, no
 * store) row by row: every row of match.h's table, KPP narrowing and
 * branches, --kpp ignore, --rule and, the several-cards edges (exact
 * INN+KPP, head, review), and that no decision depends on the order of
 * the sets (each case is replayed over every permutation of E and I).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cml/match.h"
#include "harness.h"

#define INN_A "7707083893"
#define INN_B "7736207543"
#define INN_P "500100732259" /* 12 digits: an entrepreneur */
#define KPP_1 "773601001"
#define KPP_2 "773602001"
#define KPP_3 "5027AB001"

typedef cml_match_cand cand;

/* cards of the examples */
static const cand A0 = {"a", "", "", ""};            /* no INN */
static const cand AY = {"a", INN_B, KPP_1, ""};      /* another INN */
static const cand AX = {"a", INN_A, KPP_1, ""};      /* the INN, KPP 1 */
static const cand BX = {"b", INN_A, KPP_1, ""};
static const cand BX0 = {"b", INN_A, "", ""};        /* the INN, no KPP */
static const cand C0 = {"c", "", "", ""};
static const cand CA = {"c", "", "", "a"};           /* a branch of a */
static const cand DX2 = {"d", INN_A, KPP_2, "b"};    /* a branch of b, KPP 2 */
static const cand EX2 = {"e", INN_A, KPP_2, ""};     /* a second head, KPP 2 */
static const cand DP = {"d", INN_P, "", ""};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

struct tcase {
	const char *what;
	cml_match_rule rule;
	cml_match_kpp kpp;
	const char *inn, *kpp_in;
	bool has_email;
	cand e[4];
	size_t ne;
	cand i[4];
	size_t ni;
	cml_match_decision want;
	const char *card; /* NULL: none */
	const char *head; /* BRANCH's head, NULL: none */
};

#define OR CML_MATCH_OR, CML_KPP_BRANCH
#define IGN CML_MATCH_OR, CML_KPP_IGNORE
#define AND CML_MATCH_AND, CML_KPP_BRANCH

static const struct tcase cases[] = {
	/* the table's rows */
	{"none none", OR, INN_A, KPP_1, true, {{0}}, 0, {{0}}, 0, CML_DEC_NEW, NULL, NULL},
	{"no keys at all", OR, "", "", false, {{0}}, 0, {{0}}, 0, CML_DEC_NEW, NULL, NULL},
	{"{a} none", OR, INN_A, KPP_1, true, {A0}, 1, {{0}}, 0, CML_DEC_EMAIL, "a", NULL},
	{"{a} none, no INN in", OR, "", "", true, {AY}, 1, {{0}}, 0, CML_DEC_EMAIL, "a", NULL},
	{"{a} none, a has another INN", OR, INN_A, KPP_1, true, {AY}, 1, {{0}}, 0,
	 CML_DEC_EMAIL_OTHER_INN, NULL, NULL},
	{"none {b}", OR, INN_A, KPP_1, true, {{0}}, 0, {BX}, 1, CML_DEC_INN, "b", NULL},
	{"none {b}, no email", OR, INN_A, "", false, {{0}}, 0, {BX}, 1, CML_DEC_INN, "b", NULL},
	{"{a} {a}", OR, INN_A, KPP_1, true, {AX}, 1, {AX}, 1, CML_DEC_BOTH, "a", NULL},
	{"{a} {b}", OR, INN_A, KPP_1, true, {A0}, 1, {BX}, 1, CML_DEC_CONFLICT, "b", NULL},
	{"{a other INN} {b}", OR, INN_A, KPP_1, true, {AY}, 1, {BX}, 1, CML_DEC_CONFLICT, "b",
	 NULL},
	/* several cards hold the email */
	{"several E, one I: exact INN+KPP", OR, INN_A, KPP_1, true, {A0, C0}, 2, {BX}, 1,
	 CML_DEC_INN_KPP, "b", NULL},
	{"several E, the exact one among them", OR, INN_A, KPP_1, true, {A0, BX}, 2, {BX}, 1,
	 CML_DEC_INN_KPP, "b", NULL},
	{"several E, several I: the one of E in I", OR, INN_A, "", true, {C0, BX0}, 2,
	 {BX0, DX2}, 2, CML_DEC_INN_KPP, "b", NULL},
	{"several E, several I, none shared: head of I", OR, INN_A, "", true, {A0, C0}, 2,
	 {BX0, DX2}, 2, CML_DEC_HEAD, "b", NULL},
	{"several E, several I heads: review", OR, INN_A, "", true, {A0, C0}, 2, {BX0, EX2}, 2,
	 CML_DEC_REVIEW, NULL, NULL},
	{"several E, no I: the head", OR, "", "", true, {A0, CA}, 2, {{0}}, 0, CML_DEC_HEAD, "a",
	 NULL},
	{"several E, no I, head has another INN", OR, INN_A, "", true, {AY, CA}, 2, {{0}}, 0,
	 CML_DEC_EMAIL_OTHER_INN, NULL, NULL},
	{"several E, no I, two heads: review", OR, "", "", true, {A0, C0}, 2, {{0}}, 0,
	 CML_DEC_REVIEW, NULL, NULL},
	/* one email, several cards of the INN */
	{"{a} several I, a among them", OR, INN_A, "", true, {DX2}, 1, {BX0, DX2}, 2,
	 CML_DEC_BOTH, "d", NULL},
	{"{a} several I, one head: conflict", OR, INN_A, "", true, {A0}, 1, {BX0, DX2}, 2,
	 CML_DEC_CONFLICT, "b", NULL},
	{"{a} several I, two heads: review", OR, INN_A, "", true, {A0}, 1, {BX0, EX2}, 2,
	 CML_DEC_REVIEW, NULL, NULL},
	{"{a head KPP 1} and the branch KPP 2 in: the branch", OR, INN_A, KPP_2, true, {BX}, 1,
	 {BX, DX2}, 2, CML_DEC_INN_KPP, "d", NULL},
	/* KPP narrowing and branches */
	{"INN+KPP both match", OR, INN_A, KPP_1, false, {{0}}, 0, {BX, DX2}, 2, CML_DEC_INN, "b",
	 NULL},
	{"INN+KPP of the branch", OR, INN_A, KPP_2, false, {{0}}, 0, {BX, DX2}, 2, CML_DEC_INN,
	 "d", NULL},
	{"new KPP: a branch of the head", OR, INN_A, KPP_3, false, {{0}}, 0, {BX, DX2}, 2,
	 CML_DEC_BRANCH, NULL, "b"},
	{"new KPP, email on the head: still a branch", OR, INN_A, KPP_3, true, {BX}, 1,
	 {BX, DX2}, 2, CML_DEC_BRANCH, NULL, "b"},
	{"new KPP, two heads: a branch without a head", OR, INN_A, KPP_3, false, {{0}}, 0,
	 {BX, EX2}, 2, CML_DEC_BRANCH, NULL, NULL},
	{"new KPP, the card has no KPP: that card", OR, INN_A, KPP_3, false, {{0}}, 0, {BX0}, 1,
	 CML_DEC_INN, "b", NULL},
	{"no KPP in, several cards: the head", OR, INN_A, "", false, {{0}}, 0, {BX, DX2}, 2,
	 CML_DEC_HEAD, "b", NULL},
	{"no KPP in, two heads: review", OR, INN_A, "", false, {{0}}, 0, {BX, EX2}, 2,
	 CML_DEC_REVIEW, NULL, NULL},
	{"two cards with the same INN+KPP, one head", OR, INN_A, KPP_2, false, {{0}}, 0,
	 {DX2, EX2}, 2, CML_DEC_HEAD, "e", NULL},
	{"12-digit INN: a KPP narrows nothing", OR, INN_P, KPP_1, false, {{0}}, 0, {DP}, 1,
	 CML_DEC_INN, "d", NULL},
	{"KPP without an INN narrows nothing", OR, "", KPP_1, true, {BX}, 1, {{0}}, 0,
	 CML_DEC_EMAIL, "b", NULL},
	/* --kpp ignore: one card per INN */
	{"ignore: new KPP is the card", IGN, INN_A, KPP_3, false, {{0}}, 0, {BX}, 1, CML_DEC_INN,
	 "b", NULL},
	{"ignore: several cards, the head", IGN, INN_A, KPP_1, false, {{0}}, 0, {BX, DX2}, 2,
	 CML_DEC_HEAD, "b", NULL},
	{"ignore: two heads, review", IGN, INN_A, KPP_3, false, {{0}}, 0, {BX, EX2}, 2,
	 CML_DEC_REVIEW, NULL, NULL},
	{"ignore: email on the branch, INN", IGN, INN_A, KPP_1, true, {DX2}, 1, {BX, DX2}, 2,
	 CML_DEC_BOTH, "d", NULL},
	/* has_email false: E is not looked at */
	{"no email: E ignored", OR, "", "", false, {A0}, 1, {{0}}, 0, CML_DEC_NEW, NULL, NULL},
	/* the old rule */
	{"and: email and INN", AND, INN_A, KPP_1, true, {AX}, 1, {AX}, 1, CML_DEC_AND_MATCH, "a",
	 NULL},
	{"and: KPP does not matter", AND, INN_A, KPP_3, true, {AX}, 1, {AX}, 1,
	 CML_DEC_AND_MATCH, "a", NULL},
	{"and: email only", AND, INN_A, KPP_1, true, {A0}, 1, {{0}}, 0, CML_DEC_AND_NEW, NULL,
	 NULL},
	{"and: INN only", AND, INN_A, KPP_1, true, {{0}}, 0, {BX}, 1, CML_DEC_AND_NEW, NULL, NULL},
	{"and: empty INN equals empty INN", AND, "", "", true, {A0}, 1, {{0}}, 0,
	 CML_DEC_AND_MATCH, "a", NULL},
	{"and: empty INN, the card has one", AND, "", "", true, {AY}, 1, {{0}}, 0,
	 CML_DEC_AND_NEW, NULL, NULL},
	{"and: two cards hold both: the smallest Ид", AND, INN_A, "", true, {BX, AX}, 2,
	 {AX, BX}, 2, CML_DEC_AND_MATCH, "a", NULL},
	{"and: no email", AND, INN_A, "", false, {{0}}, 0, {BX}, 1, CML_DEC_AND_NEW, NULL, NULL},
};

static bool
same_id(const char *got, const char *want)
{
	if (got == NULL || want == NULL)
		return got == want;
	return strcmp(got, want) == 0;
}

static bool
check_case(const struct tcase *t, const cand *e, const cand *i, bool loud)
{
	cml_match_sets s = {t->inn, t->kpp_in, t->has_email, e, t->ne, i, t->ni};
	cml_match_choice ch = cml_match_decide(t->rule, t->kpp, &s);
	bool rv = t->want == CML_DEC_CONFLICT || t->want == CML_DEC_REVIEW;
	bool ok = ch.decision == t->want && same_id(ch.card_id, t->card) &&
	          same_id(ch.head_id, t->head) && ch.review == rv;

	if (!ok && loud)
		fprintf(stderr, "%s: got %s card %s head %s, want %s card %s head %s\n", t->what,
		        cml_match_decision_name(ch.decision), ch.card_id ? ch.card_id : "-",
		        ch.head_id ? ch.head_id : "-", cml_match_decision_name(t->want),
		        t->card ? t->card : "-", t->head ? t->head : "-");
	return ok;
}

static void
test_rows(void)
{
	for (size_t k = 0; k < N_CASES; k++)
		CHECK(check_case(&cases[k], cases[k].e, cases[k].i, true));
}

/* The card_id handed back is one of the sets' pointers. */
static void
test_card_pointer(void)
{
	cand e[] = {A0};
	cand i[] = {BX};
	cml_match_sets s = {INN_A, KPP_1, true, e, 1, i, 1};
	cml_match_choice ch = cml_match_decide(CML_MATCH_OR, CML_KPP_BRANCH, &s);

	CHECK(ch.card_id == i[0].card_id);
	s.ne = 0;
	s.ni = 0;
	ch = cml_match_decide(CML_MATCH_OR, CML_KPP_BRANCH, &s);
	CHECK(ch.card_id == NULL && ch.head_id == NULL && !ch.review);
}

static bool
next_perm(size_t *p, size_t n)
{
	size_t k, l;

	if (n < 2)
		return false;
	for (k = n - 1; k > 0 && p[k - 1] >= p[k]; k--)
		;
	if (k == 0)
		return false;
	for (l = n - 1; p[l] <= p[k - 1]; l--)
		;
	size_t t = p[k - 1];
	p[k - 1] = p[l];
	p[l] = t;
	for (size_t a = k, b = n - 1; a < b; a++, b--) {
		t = p[a];
		p[a] = p[b];
		p[b] = t;
	}
	return true;
}

/* Every permutation of E times every permutation of I gives the same
 * decision, card and head. */
static void
test_order_independence(void)
{
	int runs = 0;

	for (size_t k = 0; k < N_CASES; k++) {
		const struct tcase *t = &cases[k];
		size_t pe[4] = {0, 1, 2, 3};
		bool all = true;

		do {
			size_t pi[4] = {0, 1, 2, 3};

			do {
				cand e[4], i[4];

				for (size_t j = 0; j < t->ne; j++)
					e[j] = t->e[pe[j]];
				for (size_t j = 0; j < t->ni; j++)
					i[j] = t->i[pi[j]];
				all = all && check_case(t, e, i, false);
				runs++;
			} while (next_perm(pi, t->ni));
		} while (next_perm(pe, t->ne));
		if (!all)
			fprintf(stderr, "order changes the decision: %s\n", t->what);
		CHECK(all);
	}
	CHECK(runs > (int)N_CASES);
}

/* Larger sets shuffled at random: the same answer every time. */
static void
test_shuffle(void)
{
	cand e[6] = {{"e5", "", "", ""},          {"e1", "", "", "e5"}, {"e3", "", "", "e5"},
	             {"x", INN_A, KPP_1, ""},     {"e2", "", "", "e5"}, {"e4", "", "", "e5"}};
	cand i[5] = {{"x", INN_A, KPP_1, ""},     {"y", INN_A, KPP_2, "x"},
	             {"z", INN_A, "773603001", "x"}, {"w", INN_A, "773604001", "x"},
	             {"v", INN_A, "773605001", "x"}};
	unsigned seed = 12345;

	for (int r = 0; r < 200; r++) {
		cml_match_sets s = {INN_A, "", true, e, 6, i, 5};
		cml_match_choice ch;

		for (size_t k = 5; k > 0; k--) {
			seed = seed * 1103515245u + 12345u;
			size_t j = (seed >> 16) % (k + 1);
			cand t = e[k];
			e[k] = e[j];
			e[j] = t;
		}
		for (size_t k = 4; k > 0; k--) {
			seed = seed * 1103515245u + 12345u;
			size_t j = (seed >> 16) % (k + 1);
			cand t = i[k];
			i[k] = i[j];
			i[j] = t;
		}
		/* several E, several I: x is the one card of E in I */
		ch = cml_match_decide(CML_MATCH_OR, CML_KPP_BRANCH, &s);
		CHECK(ch.decision == CML_DEC_INN_KPP && ch.card_id && strcmp(ch.card_id, "x") == 0);
		/* a new KPP: a branch of x */
		s.kpp = "773609001";
		ch = cml_match_decide(CML_MATCH_OR, CML_KPP_BRANCH, &s);
		CHECK(ch.decision == CML_DEC_BRANCH && ch.head_id && strcmp(ch.head_id, "x") == 0);
		/* no INN: the one head of E */
		s.inn = "";
		s.kpp = "";
		ch = cml_match_decide(CML_MATCH_OR, CML_KPP_BRANCH, &s);
		CHECK(ch.decision == CML_DEC_REVIEW); /* e5 and x are both heads */
		/* the first five: the one head among them, or review */
		s.ne = 5;
		const char *head = NULL;
		int heads = 0;
		for (size_t k = 0; k < 5; k++)
			if (e[k].head_id[0] == '\0') {
				heads++;
				head = e[k].card_id;
			}
		ch = cml_match_decide(CML_MATCH_OR, CML_KPP_BRANCH, &s);
		if (heads == 1)
			CHECK(ch.decision == CML_DEC_HEAD && ch.card_id &&
			      strcmp(ch.card_id, head) == 0);
		else
			CHECK(ch.decision == CML_DEC_REVIEW && ch.card_id == NULL);
	}
}

static void
test_names(void)
{
	static const char *const want[CML_DEC_COUNT] = {
		"marketplace", "resolved",        "id",        "new",          "email",
		"email-other-inn", "inn",         "email+inn", "conflict",     "branch",
		"several:inn+kpp", "several:head", "review",   "and:match",    "and:new"};

	for (int d = 0; d < CML_DEC_COUNT; d++)
		CHECK_STR(cml_match_decision_name((cml_match_decision)d), want[d]);
	CHECK_STR(cml_match_decision_name(CML_DEC_COUNT), "");
}

int
main(void)
{
	RUN(test_rows);
	RUN(test_card_pointer);
	RUN(test_order_independence);
	RUN(test_shuffle);
	RUN(test_names);
	return harness_done();
}
