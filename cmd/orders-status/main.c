/*
 * orders-status: each ledger order's progress (confirm, invoice, pay,
 * ship, complete, cancel, refund, return) recorded under the rules of the
 * order state machine (cml/orderstate.h), from the command line, a CSV
 * file or the accounting system's CommerceML order documents; shown,
 * listed, and the map from the site's status codes to states kept.
 *
 * The order of things is what keeps a refused or broken update from
 * leaving anything half done:
 *  1. the options, and every step of `set` checked for its form (a
 *     step word, its arguments, amounts, dates) before the database is
 *     opened: a typing error is a usage error that touched nothing;
 *  2. the database, and one run of the store (its transaction) for
 *     everything a command writes;
 *  3. set: the order found by its Номер or Ид (an ambiguous key names
 *     the candidates and changes nothing), then each step applied in
 *     turn, each seeing what the steps before it did; the first refused
 *     step rolls the whole run back, so the order is as it was;
 *  4. apply: the file read whole into that one run, one step a row or
 *     the steps each document asks for; a refused or stale step is
 *     listed and the others go on, but a file that is broken anywhere
 *     (bad CSV or XML, an unknown step, a bad amount or date) rolls the
 *     run back: nothing of it stays;
 *  5. the commit; only then is the run's outcome said (exit 1 when
 *     something of an apply needs a person).
 * show, list and map read the database without writing; map set and
 * map del are one run each.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cml/progress.h>
#include <cml/store.h>

#include "cmdutil.h"
#include "dbrun.h"
#include "ostatus.h"

cml_status
ost_find(struct ost *c, const char *site, const char *key, char **site_out, char **id_out)
{
	const char *so, *io;
	cml_status st = cml_progress_find(c->s, site, key, &so, &io);

	*site_out = *id_out = NULL;
	if (st != CML_OK)
		return st;
	if ((*site_out = strdup(so)) == NULL || (*id_out = strdup(io)) == NULL) {
		free(*site_out);
		*site_out = NULL;
		return CML_ERR_NOMEM;
	}
	return CML_OK;
}

/* Says a store failure; its exit status. */
static int
store_failed(struct ost *c, cml_status st)
{
	cmd_error("%s", st == CML_ERR_NOMEM ? "out of memory" : cml_store_errmsg(c->s));
	return cmd_exit_for(st) == EXIT_OK ? EXIT_LOCAL : cmd_exit_for(st);
}

/* Where the order stands now, as one sentence. */
static int
state_now(struct ost *c, const char *site, const char *id, char *out, size_t cap,
          char *last, size_t last_cap)
{
	cml_progress_order po;
	cml_status st = cml_progress_load(c->s, site, id, &po);

	if (st != CML_OK)
		return store_failed(c, st);
	ost_state_text(&po.state, out, cap);
	if (last != NULL)
		snprintf(last, last_cap, "%s%s%s", po.src_version[0] != '\0' ? "version " : "",
		         po.src_version,
		         po.src_changed[0] != '\0'
		                 ? (po.src_version[0] != '\0' ? ", changed " : "changed ")
		                 : "");
	if (last != NULL && po.src_changed[0] != '\0')
		snprintf(last + strlen(last), last_cap - strlen(last), "%s", po.src_changed);
	return EXIT_OK;
}

int
ost_apply_step(struct ost *c, const char *where, const char *key, const char *site,
               const char *id, const struct ost_step *step, const cml_progress_source *src,
               cml_progress_outcome *outcome)
{
	cml_progress_result res;
	char now[512], last[160];
	cml_status st;
	int status;

	st = cml_progress_apply(c->s, site, id, &step->st, src, &res);
	if (st == CML_END) {
		cmd_error("%sorder %s: not in the ledger", where, key);
		return EXIT_DATA;
	}
	if (st != CML_OK)
		return store_failed(c, st);
	*outcome = res.outcome;
	switch (res.outcome) {
	case CML_PROGRESS_APPLIED:
		c->applied++;
		cmd_verbose("%sorder %s: %s applied (progress version %" PRId64 ")", where, key,
		            step->word, res.version);
		break;
	case CML_PROGRESS_NOOP:
		c->noop++;
		cmd_warn("%sorder %s: %s: nothing to do, the order is already so", where, key,
		         step->word);
		break;
	case CML_PROGRESS_REFUSED:
		c->refused++;
		if ((status = state_now(c, site, id, now, sizeof(now), NULL, 0)) != EXIT_OK)
			return status;
		cmd_error("%sorder %s: %s refused: %s; the order is %s", where, key, step->word,
		          res.os.why[0] != '\0' ? res.os.why : cml_os_rule_text(res.os.rule), now);
		break;
	case CML_PROGRESS_STALE:
		c->stale++;
		if ((status = state_now(c, site, id, now, sizeof(now), last, sizeof(last))) !=
		    EXIT_OK)
			return status;
		cmd_error("%sorder %s: %s: stale, ignored: the update (%s%s%s%s) is not newer "
		          "than the last one applied (%s)",
		          where, key, step->word,
		          src->version != NULL && src->version[0] != '\0' ? "version " : "",
		          src->version != NULL ? src->version : "",
		          src->changed != NULL && src->changed[0] != '\0' ? " changed " : "",
		          src->changed != NULL ? src->changed : "", last);
		break;
	}
	return EXIT_OK;
}

/* ---- set ---- */

static int
run_set(struct ost *c)
{
	struct ost_opts *o = c->o;
	const char *key = o->args[0];
	struct ost_step *steps = NULL;
	size_t n_steps = 0;
	char *site = NULL, *id = NULL, why[512], counts[128];
	cml_progress_source src = { .kind = "cli" };
	cml_status st;
	int status = EXIT_OK;

	/* 1. every step's form, before the database */
	if ((steps = calloc((size_t)o->n_args, sizeof(*steps))) == NULL) {
		cmd_error("out of memory");
		return EXIT_LOCAL;
	}
	for (int i = 1, used; i < o->n_args; i += used) {
		if (!ost_step_argv(o->args + i, o->n_args - i, &used, &steps[n_steps], why,
		                   sizeof(why))) {
			cmd_error("set %s: %s", key, why);
			fprintf(stderr, "Try '%s --help' for more information.\n", cmd_progname);
			status = EXIT_USAGE;
			goto out;
		}
		n_steps++;
	}
	/* 2. the run */
	if ((status = db_open(&o->db, false, &c->s)) != EXIT_OK ||
	    (status = db_begin(c->s, "orders-status")) != EXIT_OK)
		goto out;
	/* 3. the order, then its steps: all or nothing */
	st = ost_find(c, o->site, key, &site, &id);
	if (st == CML_END) {
		cmd_error("order %s: no order of the ledger%s%s has that Номер or Ид", key,
		          o->site != NULL ? " of site " : "", o->site != NULL ? o->site : "");
		status = EXIT_DATA;
		goto out;
	}
	if (st == CML_ERR_VALUE) {
		cmd_error("order %s: %s; say which with --site or the Ид", key,
		          cml_store_errmsg(c->s));
		status = EXIT_USAGE;
		goto out;
	}
	if (st != CML_OK) {
		status = store_failed(c, st);
		goto out;
	}
	for (size_t i = 0; i < n_steps; i++) {
		cml_progress_outcome oc;
		if ((status = ost_apply_step(c, "", key, site, id, &steps[i], &src, &oc)) != EXIT_OK)
			goto out;
		if (oc == CML_PROGRESS_REFUSED) {
			cmd_error("order %s: nothing changed", key);
			status = EXIT_DATA;
			goto out;
		}
	}
	/* 5. */
	snprintf(counts, sizeof(counts), "{\"applied\":%ld,\"noop\":%ld}", c->applied, c->noop);
	status = db_commit(c->s, "ok", counts);
out:
	db_rollback(c->s); /* nothing when no run is open */
	free(site);
	free(id);
	free(steps);
	return status;
}

/* ---- map set, map del ---- */

static int
run_map_change(struct ost *c)
{
	struct ost_opts *o = c->o;
	const char *code = o->args[0];
	cml_status st;
	int status;

	if ((status = db_open(&o->db, false, &c->s)) != EXIT_OK ||
	    (status = db_begin(c->s, "orders-status")) != EXIT_OK)
		return status;
	if (o->cmd == OST_MAP_SET) {
		cml_status_map_entry e = { .site = o->site != NULL ? o->site : "",
			                   .code = code,
			                   .send = o->send,
			                   .name = o->name != NULL ? o->name : "" };
		(void)cml_os_life_parse(o->args[1], &e.life); /* checked with the options */
		st = cml_status_map_set(c->s, &e);
	} else {
		st = cml_status_map_del(c->s, o->site != NULL ? o->site : "", code);
	}
	if (st == CML_END) {
		cmd_error("map del: no code %s%s%s in the map", code,
		          o->site != NULL ? " of site " : " of every site",
		          o->site != NULL ? o->site : "");
		return EXIT_DATA;
	}
	if (st == CML_ERR_VALUE) {
		cmd_error("map set: %s", cml_store_errmsg(c->s));
		return EXIT_USAGE;
	}
	if (st != CML_OK)
		return store_failed(c, st);
	return db_commit(c->s, "ok", NULL);
}

static int
run(struct ost_opts *o)
{
	struct ost c = { .o = o };
	int status;

	switch (o->cmd) {
	case OST_SET:
		status = run_set(&c);
		break;
	case OST_APPLY:
		status = ost_run_apply(&c);
		break;
	case OST_SHOW:
		status = ost_run_show(&c);
		break;
	case OST_LIST:
		status = ost_run_list(&c);
		break;
	case OST_MAP:
		status = ost_run_map(&c);
		break;
	case OST_MAP_SET:
	case OST_MAP_DEL:
	default:
		status = run_map_change(&c);
		break;
	}
	db_rollback(c.s);
	db_close(c.s);
	return status;
}

int
main(int argc, char **argv)
{
	struct ost_opts o = { 0 };
	int status;

	cmd_init(argv[0]);
	status = ost_parse_options(argc, argv, &o);
	if (status == EXIT_OK)
		status = run(&o);
	free(o.arg_list);
	return cmd_finish(status);
}
