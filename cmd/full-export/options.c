/*
 * options.c: full-export's command line (argp); the package options are
 * the shared child parser of pkgopts.c.
 */
#include <argp.h>

#include "cmdutil.h"
#include "export.h"

enum { OPT_PARTIAL = 256, OPT_NO_RECORD };

static const struct argp_option options[] = {
	{ "partial", OPT_PARTIAL, NULL, 0,
	  "Mark the package as changes only (СодержитТолькоИзменения=\"true\")", 0 },
	{ "no-record", OPT_NO_RECORD, NULL, 0,
	  "Record nothing: no database is opened or created", 0 },
	{ 0 }
};

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct export_opts *o = state->input;

	(void)arg;
	switch (key) {
	case ARGP_KEY_INIT:
		o->pkg.output_required = true;
		/* a whole catalog unless --partial: never the input's flag,
		 * which a site would read as "delete nothing" or "delete all" */
		o->pkg.w.only_changes = CML_FALSE;
		state->child_inputs[0] = &o->pkg;
		o->dbo.doc = "Record the package in FILE (default: $CMLKIT_DB, else ./cmlkit.db)";
		state->child_inputs[2] = &o->dbo;
		break;
	case OPT_PARTIAL:
		o->pkg.w.only_changes = CML_TRUE;
		break;
	case OPT_NO_RECORD:
		o->no_record = true;
		break;
	case ARGP_KEY_ARGS:
		o->inputs = state->argv + state->next;
		o->n_inputs = state->argc - state->next;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &pkg_argp, 0, NULL, 0 },
	{ &cmd_common_argp, 0, NULL, 0 },
	{ &db_argp, 0, NULL, 0 },
	{ 0 }
};

static const struct argp argp = {
	options, parse_opt, "[FILE|DIR|-]...",
	"Read a whole catalog (CommerceML or cmlkit CSV) and write a complete, "
	"normalised CommerceML package into a directory.\v"
	"With no FILE, or when FILE is -, read standard input. A DIR stands for "
	"the files in it. The names of the files written go to standard output.\n"
	"The package is recorded in the database as a full generation, pending until "
	"acknowledged; acknowledged, it is the baseline delta-export compares with.\n"
	"Exit status: 0 success, 2 usage error, 3 bad input data, 6 local I/O error. "
	"See full-export(1) and cmlkit(7).",
	children, NULL, NULL
};

int
export_parse_options(int argc, char **argv, struct export_opts *o)
{
	return cmd_parse_args(&argp, argc, argv, o);
}
