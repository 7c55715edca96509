/*
 * ostatus.h: orders-status' options, its steps as typed (a command line
 * or a CSV row) and the outputs shared by its commands.
 */
#ifndef CMLKIT_OSTATUS_H
#define CMLKIT_OSTATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cml/orderstate.h>
#include <cml/progress.h>
#include <cml/store.h>

#include "dbrun.h"
#include "records.h"

/* The command: the first operand. */
enum ost_cmd {
	OST_SET = 0,  /* set ORDER STEP [ARG...]... */
	OST_APPLY,    /* apply FILE|- */
	OST_SHOW,     /* show ORDER */
	OST_LIST,     /* list */
	OST_MAP,      /* map: the list */
	OST_MAP_SET,  /* map set CODE STATE */
	OST_MAP_DEL,  /* map del CODE */
};

struct ost_opts {
	struct db_opts db;
	enum ost_cmd cmd;
	const char *site;         /* --site, else $CMLKIT_SITE; NULL: every site */
	char **arg_list;          /* every operand (malloc'd) */
	char **args;              /* the operands after the command word(s) */
	int n_args;
	bool json;                /* show --format json */
	enum rec_fmt recfmt;      /* list, map: --format csv|jsonl */
	unsigned life_mask;       /* list --state: bit (1u << cml_os_life) */
	bool pending;             /* list --pending */
	bool send;                /* map set --send */
	const char *name;         /* map set --name */
};

int ost_parse_options(int argc, char **argv, struct ost_opts *o);

/* ---- steps ---- */

/* Quantities one ship or return step may name: one per order line. */
#define OST_QTY_MAX 256

/* One step as typed, its strings the caller's (argv or a CSV row). */
struct ost_step {
	cml_step st;
	int64_t qty[OST_QTY_MAX];
	const char *word;         /* as typed: "ship", "postpaid" */
};

/* The step words: cml_step_parse's, and postpaid/prepaid for the terms;
 * false for any other word. */
bool ost_step_word(const char *word, cml_step_kind *kind, bool *postpaid);

/*
 * One step of a `set` command line: argv[0] its word, then its
 * arguments up to the next step word. *used: how many operands it took.
 * False with the reason in why (a usage error).
 */
bool ost_step_argv(char **argv, int n, int *used, struct ost_step *out, char *why, size_t cap);

/* The cells of a CSV row (NULL: empty), checked the same way; why
 * names the column that is wrong. */
struct ost_cells {
	const char *step, *number, *date, *amount, *qty, *reason;
};
bool ost_step_cells(const struct ost_cells *c, struct ost_step *out, char *why, size_t cap);

/* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS, in range. */
bool ost_date_valid(const char *s);

/* "confirmed, invoice issued INV-7 2026-11-30, payment partial (paid
 * 200 of 500), shipment none" into out. */
void ost_state_text(const cml_order_state *st, char *out, size_t cap);

/* ---- one run ---- */

struct ost {
	struct ost_opts *o;
	cml_store *s;
	long applied, noop, refused, stale, unknown, unmapped;
};

/*
 * The order key names (cml_progress_find on site, NULL: any): CML_OK
 * with *site_out and *id_out malloc'd; CML_END when no ledger order has
 * it; CML_ERR_VALUE when several do (the candidates in the store's
 * message); other errors are the store's.
 */
cml_status ost_find(struct ost *c, const char *site, const char *key, char **site_out,
                    char **id_out);

/*
 * Applies one step to one order inside the run (cml_progress_apply) and
 * says what came of it, where ("FILE:LINE: " or "") and for which order
 * (key, as typed): applied under --verbose, already so as a warning,
 * refused with the rule and the order's state, stale with the versions.
 * Counts it in *c. EXIT_OK whatever the outcome (*outcome says it), or
 * the exit status of a store failure, said.
 */
int ost_apply_step(struct ost *c, const char *where, const char *key, const char *site,
                   const char *id, const struct ost_step *step,
                   const cml_progress_source *src, cml_progress_outcome *outcome);

/* apply FILE|- (input.c): a CSV file or CommerceML order documents. */
int ost_run_apply(struct ost *c);

/* show, list, map (report.c). */
int ost_run_show(struct ost *c);
int ost_run_list(struct ost *c);
int ost_run_map(struct ost *c);

#endif /* CMLKIT_OSTATUS_H */
