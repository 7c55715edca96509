/*
 * options.c: delta-export's command line (argp); the package options are
 * the shared child parser of pkgopts.c.
 */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdutil.h"
#include "delta.h"

enum { OPT_ACK = 256, OPT_ACK_ON_WRITE, OPT_REQUIRE_BASELINE, OPT_DRY_RUN,
       OPT_SUMMARY, OPT_FULL, OPT_PARTIAL, OPT_MAX_DELETE };

static const struct argp_option options[] = {
	{ "ack", OPT_ACK, "G", 0,
	  "Acknowledge generation G (the site has it): it becomes the baseline; "
	  "read and write nothing else", 0 },
	{ "ack-on-write", OPT_ACK_ON_WRITE, NULL, 0,
	  "Acknowledge the package as soon as it is written (a site that reads a folder)", 0 },
	{ "require-baseline", OPT_REQUIRE_BASELINE, NULL, 0,
	  "Refuse to run without a baseline instead of writing a full package", 0 },
	{ "dry-run", OPT_DRY_RUN, NULL, 0,
	  "Print what changed; write and record nothing", 0 },
	{ "summary", OPT_SUMMARY, NULL, 0, "Print what changed after a real run", 0 },
	{ "full", OPT_FULL, NULL, 0,
	  "The input is the whole catalog, whatever it says: what it lacks is deleted", 0 },
	{ "partial", OPT_PARTIAL, NULL, 0,
	  "The input is partial, whatever it says: nothing is deleted by absence", 0 },
	{ "max-delete", OPT_MAX_DELETE, "N|N%|all", 0,
	  "Refuse a run that deletes more than N products or N offers, or N% of the "
	  "baseline's (default 50%: more than half, and so all of them, is refused)", 0 },
	{ 0 }
};

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct delta_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->pkg;
		state->child_inputs[2] = &o->dbo;
		o->max_delete = DELTA_MAX_DELETE_PCT;
		o->max_delete_pct = true;
		break;
	case OPT_ACK: {
		char *end;
		errno = 0;
		long long g = strtoll(arg, &end, 10);
		if (errno != 0 || *end != '\0' || g <= 0)
			argp_error(state, "--ack: '%s' is not a generation number", arg);
		o->ack = g;
		break;
	}
	case OPT_ACK_ON_WRITE:
		o->ack_on_write = true;
		break;
	case OPT_REQUIRE_BASELINE:
		o->require_baseline = true;
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_SUMMARY:
		o->summary = true;
		break;
	case OPT_FULL:
		o->whole = CML_TRUE;
		break;
	case OPT_PARTIAL:
		o->whole = CML_FALSE;
		break;
	case OPT_MAX_DELETE: {
		char *end;
		if (strcmp(arg, "all") == 0) {
			o->max_delete = 100;
			o->max_delete_pct = true;
			break;
		}
		errno = 0;
		long long n = strtoll(arg, &end, 10);
		o->max_delete_pct = *end == '%';
		if (o->max_delete_pct)
			end++;
		if (errno != 0 || end == arg || *end != '\0' || n < 0 || arg[0] == '-' ||
		    (o->max_delete_pct && n > 100))
			argp_error(state, "--max-delete: '%s' is not a count, a share (0%%..100%%) "
			           "or 'all'", arg);
		o->max_delete = n;
		break;
	}
	case ARGP_KEY_ARGS:
		o->inputs = state->argv + state->next;
		o->n_inputs = state->argc - state->next;
		break;
	case ARGP_KEY_END:
		if (o->ack != 0 && (o->n_inputs > 0 || o->dry_run || o->pkg.output != NULL))
			argp_error(state, "--ack takes no input, output or --dry-run");
		if (o->ack == 0 && !o->dry_run && o->pkg.output == NULL)
			argp_error(state, "no output directory: give -o DIR (or --dry-run)");
		if (o->dry_run && o->ack_on_write)
			argp_error(state, "--dry-run and --ack-on-write contradict each other");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &pkg_argp, 0, NULL, 0 },
	{ &cmd_common_argp, 0, NULL, 0 },
	{ &db_ack_argp, 0, NULL, 0 },
	{ 0 }
};

static const struct argp argp = {
	options, parse_opt, "[FILE|DIR|-]...\n--ack=G",
	"Compare the current catalog with the baseline the site acknowledged and "
	"write a package holding only what changed.\v"
	"Without a baseline (the first run) the package is the whole catalog. A "
	"package is recorded as a generation, pending until acknowledged "
	"(catalog-push, --ack, --ack-on-write); until then the next run carries its "
	"changes again.\n"
	"A run that would delete more of the baseline's products or offers than "
	"--max-delete allows is refused. A run supersedes the packages earlier runs "
	"left pending: catalog-push no longer sends them.\n"
	"Exit status: 0 success (also: no change), 1 no baseline under "
	"--require-baseline, too many deletions, or --ack of a superseded "
	"generation, 2 usage error, 3 bad input data, 6 local I/O or "
	"database error. See delta-export(1) and cmlkit(7).",
	children, NULL, NULL
};

int
delta_parse_options(int argc, char **argv, struct delta_opts *o)
{
	return cmd_parse_args(&argp, argc, argv, o);
}
