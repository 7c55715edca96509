/*
 * test_dedupe.c: the merge plan of a register (lib/dedupe.c) over a real
 * register in a temporary database, with planted duplicates: one INN+KPP
 * on three cards, a chain of cards joined through shared contact person
 * Ид (A-B, B-C: one cluster), an INN without KPP on two cards, a weak
 * email link (proposed, never merged), a branch with its head's INN and
 * KPP (never merged into the head). The plan is checked row by row and
 * is the same twice; applied, the merged Ид find their survivor and a
 * second plan merges nothing.
 *
 * "test_dedupe --bench [N]" fills a register of N cards (default 100000:
 * each with an email and a contact person, every 20th a branch, every
 * 50th a duplicate of the card before it, one in 100 sharing an email
 * with it) and times the plan: wall time and peak RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cml/dedupe.h"
#include "cml/keys.h"
#include "cml/register.h"
#include "cml/store.h"
#include "harness.h"

#define INN_A "7707083893"
#define INN_B "7736207543"
#define INN_C "7830002293"
#define KPP_1 "773601001"
#define KPP_2 "773602001"

static char tmpdir[64];

static bool
card(cml_store *s, const char *id, const char *inn, const char *kpp, const char *head,
     const char *origin, const char *email)
{
	cml_cp_card c;

	memset(&c, 0, sizeof(c));
	c.id = id;
	c.name = id;
	c.kind = CML_CP_LEGAL;
	c.inn = inn;
	c.kpp = kpp;
	c.head_id = head;
	c.origin = origin;
	if (cml_register_put(s, &c, NULL) != CML_OK) {
		fprintf(stderr, "put %s: %s\n", id, cml_store_errmsg(s));
		return false;
	}
	return email == NULL ||
	       cml_register_add_contact(s, id, NULL, CML_CONTACT_EMAIL, email, NULL) == CML_OK;
}

static bool
person(cml_store *s, const char *card_id, const char *pid)
{
	return cml_register_add_person(s, card_id, pid, pid, NULL) == CML_OK;
}

static bool
plant(cml_store *s)
{
	return card(s, "d1", INN_A, KPP_1, "", "cp-match", NULL) &&
	       card(s, "d2", INN_A, KPP_1, "", NULL, NULL) &&
	       card(s, "d3", INN_A, KPP_1, "", NULL, "d3@d.ru") &&
	       card(s, "h", INN_B, KPP_1, "", NULL, "office@h.ru") &&
	       card(s, "hbr", INN_B, KPP_1, "h", NULL, "office@h.ru") &&
	       card(s, "hbr2", INN_B, KPP_2, "h", NULL, "office@h.ru") &&
	       card(s, "n1", INN_C, "", "", NULL, NULL) && card(s, "n2", INN_C, "", "", NULL, NULL) &&
	       card(s, "w1", "", "", "", NULL, "shared@w.ru") &&
	       card(s, "w2", "", "", "", NULL, "Shared@W.ru") &&
	       card(s, "x1", "", "", "", NULL, NULL) && card(s, "x2", "", "", "", NULL, NULL) &&
	       card(s, "x3", "", "", "", NULL, NULL) && person(s, "x1", "p1") &&
	       person(s, "x2", "p1") && person(s, "x2", "p2") && person(s, "x3", "p2");
}

static int
collect(void *ud, const cml_dedupe_row *r)
{
	char *plan = ud;
	size_t used = strlen(plan);
	int n = snprintf(plan + used, 4096 - used, "%lld %s %s %s %s %s\n", (long long)r->cluster,
	                 r->survivor, r->card_id, r->merge ? "merge" : "propose", r->key_kind,
	                 r->key);

	return n < 0 || (size_t)n >= 4096 - used;
}

static int
refuse(void *ud, const cml_dedupe_row *r)
{
	(void)ud;
	(void)r;
	return 1;
}

static const char want_plan[] = "1 d3 d1 merge inn+kpp " INN_A "/" KPP_1 "\n"
                                "1 d3 d2 merge inn+kpp " INN_A "/" KPP_1 "\n"
                                "2 h hbr propose inn+kpp " INN_B "/" KPP_1 "\n"
                                "3 n1 n2 merge inn " INN_C "\n"
                                "4 w1 w2 propose email shared@w.ru\n"
                                "5 x2 x1 merge id p1\n"
                                "5 x2 x3 merge id p2\n";

static const char want_after[] = "1 h hbr propose inn+kpp " INN_B "/" KPP_1 "\n"
                                 "2 w1 w2 propose email shared@w.ru\n";

static void
test_plan_and_apply(void)
{
	char path[128], err[256], plan[4096] = "", again[4096] = "";
	cml_status st;
	cml_store *s;
	cml_dedupe_stats ds;
	cml_register_counts c;
	cml_cp_card got;

	snprintf(path, sizeof(path), "%s/reg.sqlite", tmpdir);
	s = cml_store_open(path, NULL, &st, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	CHECK(plant(s));
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	/* the plan, read only */
	CHECK(cml_dedupe(s, false, collect, plan, &ds) == CML_OK);
	CHECK_STR(plan, want_plan);
	CHECK_INT(ds.cards, 13);
	CHECK_INT(ds.clusters, 3);
	CHECK_INT(ds.merged, 5);
	CHECK_INT(ds.proposals, 2);
	/* the same register, the same plan; nothing was merged */
	CHECK(cml_dedupe(s, false, collect, again, NULL) == CML_OK);
	CHECK_STR(again, plan);
	CHECK(cml_register_count(s, &c) == CML_OK);
	CHECK_INT(c.cards, 13);
	CHECK_INT(c.aliases, 0);
	/* a failing writer stops the plan */
	CHECK(cml_dedupe(s, false, refuse, NULL, NULL) == CML_ERR_IO);

	/* applied */
	again[0] = '\0';
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	CHECK(cml_dedupe(s, true, collect, again, &ds) == CML_OK);
	CHECK_STR(again, plan);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_register_count(s, &c) == CML_OK);
	CHECK_INT(c.cards, 8);
	CHECK_INT(c.aliases, 5);
	CHECK(cml_register_get(s, "d1", &got) == CML_OK);
	CHECK_STR(got.id, "d3");
	CHECK(cml_register_get(s, "x3", &got) == CML_OK);
	CHECK_STR(got.id, "x2");
	CHECK(cml_register_get(s, "n2", &got) == CML_OK);
	CHECK_STR(got.id, "n1");
	/* the branch stays itself */
	CHECK(cml_register_get(s, "hbr", &got) == CML_OK);
	CHECK_STR(got.id, "hbr");
	CHECK_STR(got.head_id, "h");

	/* planned again: nothing to merge, the proposals stay */
	again[0] = '\0';
	CHECK(cml_dedupe(s, false, collect, again, &ds) == CML_OK);
	CHECK_STR(again, want_after);
	CHECK_INT(ds.merged, 0);
	CHECK_INT(ds.clusters, 0);
	CHECK_INT(ds.cards, 8);
	cml_store_close(s);
}

/* Each allocation failing in turn: CML_ERR_NOMEM with a message, never a
 * crash or a leak; then the whole plan. */
static void
test_alloc_failure(void)
{
	char path[128], err[256], plan[4096];
	cml_status st;
	cml_store *s;
	bool passed = false;
	int errors = 0;

	snprintf(path, sizeof(path), "%s/alloc.sqlite", tmpdir);
	s = cml_store_open(path, NULL, &st, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "test") == CML_OK);
	CHECK(plant(s));
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	for (long n = 1; n < 200 && !passed; n++) {
		plan[0] = '\0';
		cml_alloc_fail_after(n);
		st = cml_dedupe(s, false, collect, plan, NULL);
		cml_alloc_fail_after(0);
		CHECK(st == CML_OK || st == CML_ERR_NOMEM);
		if (st == CML_ERR_NOMEM)
			CHECK(strstr(cml_store_errmsg(s), "out of memory") != NULL);
		passed = st == CML_OK;
		errors += !passed;
	}
	CHECK(passed && errors > 0);
	CHECK_STR(plan, want_plan);
	cml_store_close(s);
}

/* An empty register: no rows, no failure. */
static void
test_empty(void)
{
	char path[128], err[256], plan[4096] = "";
	cml_status st;
	cml_store *s;
	cml_dedupe_stats ds;

	snprintf(path, sizeof(path), "%s/empty.sqlite", tmpdir);
	s = cml_store_open(path, NULL, &st, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK(cml_dedupe(s, false, collect, plan, &ds) == CML_OK);
	CHECK_STR(plan, "");
	CHECK_INT(ds.cards, 0);
	/* apply needs a run */
	CHECK(cml_dedupe(s, true, collect, plan, NULL) != CML_OK);
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
count_row(void *ud, const cml_dedupe_row *r)
{
	(void)r;
	(*(long *)ud)++;
	return 0;
}

static int
bench(long n)
{
	char path[128], err[256], id[32], head[32] = "", inn[11] = "", kpp[10], email[64], pid[32];
	char phone[32];
	cml_status st;
	cml_store *s;
	cml_dedupe_stats ds;
	struct rusage ru;
	long rows = 0;
	double t0;
	bool ok = true;

	snprintf(path, sizeof(path), "%s/bench.sqlite", tmpdir);
	s = cml_store_open(path, NULL, &st, err, sizeof(err));
	if (s == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t0 = now_s();
	ok = cml_store_run_begin(s, "bench") == CML_OK;
	for (long k = 0; k < n && ok; k++) {
		const char *hd = "";

		snprintf(id, sizeof(id), "card-%08ld", k);
		if (k % 50 == 49) {
			/* a duplicate of the card before: its INN and KPP */
		} else if (k % 20 == 19 && head[0] != '\0') {
			snprintf(kpp, sizeof(kpp), "7736%02ld001", 2 + k % 90);
			hd = head;
		} else {
			make_inn(k, inn);
			snprintf(kpp, sizeof(kpp), "773601001");
			snprintf(head, sizeof(head), "%s", id);
		}
		if (k % 100 == 37)
			snprintf(email, sizeof(email), "c%ld@example.ru", k - 1);
		else
			snprintf(email, sizeof(email), "c%ld@example.ru", k);
		snprintf(pid, sizeof(pid), "p-%ld", k);
		snprintf(phone, sizeof(phone), "+7 916 %07ld", k % 10000000);
		ok = card(s, id, inn, kpp, hd, NULL, email) && person(s, id, pid) &&
		     cml_register_add_contact(s, id, pid, CML_CONTACT_PHONE, phone, NULL) ==
		             CML_OK;
	}
	ok = ok && cml_store_run_commit(s, "ok", NULL) == CML_OK;
	if (!ok) {
		fprintf(stderr, "bench: filling: %s\n", cml_store_errmsg(s));
		cml_store_close(s);
		return 1;
	}
	printf("filled %ld cards in %.2f s\n", n, now_s() - t0);
	t0 = now_s();
	st = cml_dedupe(s, false, count_row, &rows, &ds);
	getrusage(RUSAGE_SELF, &ru);
	printf("plan: %.2f s, %ld rows, %lld clusters, %lld merged, %lld proposals, peak RSS "
	       "%ld MiB\n",
	       now_s() - t0, rows, (long long)ds.clusters, (long long)ds.merged,
	       (long long)ds.proposals, ru.ru_maxrss / 1024);
	if (st == CML_OK && cml_store_run_begin(s, "bench") == CML_OK) {
		t0 = now_s();
		st = cml_dedupe(s, true, NULL, NULL, &ds);
		printf("apply (rolled back): %.2f s, %lld merged\n", now_s() - t0,
		       (long long)ds.merged);
		cml_store_run_rollback(s);
	}
	cml_store_close(s);
	return st == CML_OK ? 0 : 1;
}

int
main(int argc, char **argv)
{
	char cmd[128];
	int rc = -1;

	snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/test_dedupe.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
		rc = bench(argc > 2 ? strtol(argv[2], NULL, 10) : 100000);
	} else {
		RUN(test_plan_and_apply);
		RUN(test_empty);
		RUN(test_alloc_failure);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return rc >= 0 ? rc : harness_done();
}
