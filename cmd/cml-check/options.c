/*
 * options.c: cml-check's command line (argp).
 */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "cmdutil.h"

enum { OPT_DUMP = 256, OPT_MAX_PROBLEMS };

static const struct argp_option options[] = {
	{ "dump", OPT_DUMP, NULL, 0,
	  "Write every item as one canonical JSON object per line, no summary", 0 },
	{ "json", 'j', NULL, 0, "Write the summary as one JSON object", 0 },
	{ "max-problems", OPT_MAX_PROBLEMS, "N", 0,
	  "List at most N problems (default 100, 0 = all); counts stay complete", 0 },
	{ "format", 'f', "FMT", 0, "Input format: auto (default), cml or csv", 0 },
	{ 0 }
};

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct check_opts *o = state->input;

	switch (key) {
	case OPT_DUMP:
		o->dump = true;
		break;
	case 'j':
		o->json = true;
		break;
	case OPT_MAX_PROBLEMS: {
		char *end;
		errno = 0;
		unsigned long v = strtoul(arg, &end, 10);
		if (errno != 0 || *end != '\0' || *arg == '-' || *arg == '\0')
			argp_error(state, "--max-problems: '%s' is not a count", arg);
		o->max_problems = v;
		break;
	}
	case 'f':
		if (!cmd_format_parse(arg, &o->format))
			argp_error(state, "--format: '%s' is not auto, cml or csv", arg);
		break;
	case ARGP_KEY_ARGS:
		o->inputs = state->argv + state->next;
		o->n_inputs = state->argc - state->next;
		break;
	case ARGP_KEY_NO_ARGS:
		argp_error(state, "no input file (use - for standard input)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &cmd_common_argp, 0, NULL, 0 },
	{ 0 }
};

static const struct argp argp = {
	options, parse_opt, "FILE...",
	"Validate and summarise CommerceML files (and cmlkit CSV tables).\v"
	"Exit status: 0 usable, 1 readable but with problems, 2 usage error, "
	"3 a file could not be read, 6 a file could not be opened. "
	"See cml-check(1) and cmlkit(7).",
	children, NULL, NULL
};

int
check_parse_options(int argc, char **argv, struct check_opts *o)
{
	o->max_problems = 100;
	return cmd_parse_args(&argp, argc, argv, o);
}
