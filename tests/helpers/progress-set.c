/*
 * progress-set: records order progress through the library's progress
 * API, for the orders-push tests while orders-status is not in this
 * branch (remove it when it is). The command line is a subset of
 * orders-status':
 *
 *   progress-set --db DB --site SITE set ORDER STEP [ARG...] [STEP [ARG...]]...
 *
 * steps confirm, invoice NUMBER [DATE], pay AMOUNT [DATE] [NUMBER],
 * ship [DATE] [NUMBER] (every line's rest), allow-shipment, complete,
 * cancel REASON, refund AMOUNT, return, uncancel, postpaid, prepaid. All
 * the steps apply in one run or none does: a refused one prints the rule
 * and exits 3.
 */
#include <stdio.h>
#include <string.h>

#include <cml/orderstate.h>
#include <cml/progress.h>
#include <cml/store.h>

static bool
is_date(const char *s)
{
	size_t n = strlen(s);

	return (n == 10 || n == 19) && s[4] == '-' && s[7] == '-';
}

/* The step word at argv[i] (postpaid/prepaid are the terms step). */
static bool
step_word(const char *w, cml_step_kind *k, bool *postpaid)
{
	if (strcmp(w, "postpaid") == 0 || strcmp(w, "prepaid") == 0) {
		*k = CML_STEP_TERMS;
		*postpaid = w[1] == 'o';
		return true;
	}
	return strcmp(w, "terms") != 0 && cml_step_parse(w, k);
}

int
main(int argc, char **argv)
{
	const char *db = NULL, *site = NULL, *key = NULL, *sid = NULL, *oid = NULL;
	cml_store *s = NULL;
	cml_status st;
	char err[512] = "", site_buf[128], id_buf[128];
	int i = 1, rc = 0;

	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--db") == 0)
			db = argv[i + 1];
		else if (strcmp(argv[i], "--site") == 0)
			site = argv[i + 1];
	}
	if (db == NULL || site == NULL || i + 2 >= argc || strcmp(argv[i], "set") != 0) {
		fprintf(stderr, "usage: progress-set --db DB --site SITE set ORDER STEP...\n");
		return 2;
	}
	key = argv[i + 1];
	i += 2;
	if ((s = cml_store_open(db, NULL, &st, err, sizeof(err))) == NULL) {
		fprintf(stderr, "progress-set: %s\n", err);
		return 6;
	}
	if (cml_store_run_begin(s, "progress-set") != CML_OK)
		goto store_fail;
	st = cml_progress_find(s, site, key, &sid, &oid);
	if (st == CML_END) {
		fprintf(stderr, "progress-set: %s: no such order\n", key);
		rc = 3;
		goto out;
	}
	if (st != CML_OK)
		goto store_fail;
	snprintf(site_buf, sizeof(site_buf), "%s", sid);
	snprintf(id_buf, sizeof(id_buf), "%s", oid);
	while (i < argc) {
		cml_step step = { 0 };
		cml_progress_source src = { .kind = "cli" };
		cml_progress_result res;
		bool postpaid = false;
		const char *word = argv[i++];

		if (!step_word(word, &step.kind, &postpaid)) {
			fprintf(stderr, "progress-set: %s: not a step\n", word);
			rc = 2;
			goto out;
		}
		step.postpaid = postpaid;
		/* the step's arguments: the words up to the next step word */
		int n = 0;
		const char *args[4] = { 0 };
		cml_step_kind k2;
		bool p2;
		while (i < argc && !step_word(argv[i], &k2, &p2) && n < 4)
			args[n++] = argv[i++];
		for (int a = 0; a < n; a++) {
			switch (step.kind) {
			case CML_STEP_INVOICE:
				if (a == 0)
					step.number = args[a];
				else
					step.date = args[a];
				break;
			case CML_STEP_PAY:
			case CML_STEP_REFUND:
				if (a == 0 && !cml_os_amount_parse(args[a], &step.amount)) {
					fprintf(stderr, "progress-set: %s: not an amount\n", args[a]);
					rc = 2;
					goto out;
				}
				if (a > 0 && is_date(args[a]))
					step.date = args[a];
				else if (a > 0)
					step.number = args[a];
				break;
			case CML_STEP_SHIP:
				if (is_date(args[a]))
					step.date = args[a];
				else
					step.number = args[a];
				break;
			case CML_STEP_CANCEL:
				step.reason = args[a];
				break;
			default:
				break;
			}
		}
		if (cml_progress_apply(s, site_buf, id_buf, &step, &src, &res) != CML_OK)
			goto store_fail;
		if (res.outcome == CML_PROGRESS_REFUSED) {
			fprintf(stderr, "progress-set: %s: %s refused: %s\n", key, word, res.os.why);
			rc = 3;
			goto out;
		}
	}
	if (cml_store_run_commit(s, "ok", NULL) != CML_OK)
		goto store_fail;
	goto out;
store_fail:
	fprintf(stderr, "progress-set: %s\n", cml_store_errmsg(s));
	rc = 6;
out:
	cml_store_run_rollback(s);
	cml_store_close(s);
	return rc;
}
