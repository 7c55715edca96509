/*
 * options.c: catalog-push's command line (argp); the site options are the
 * shared child parser of siteopts.c.
 */
#include <argp.h>
#include <string.h>

#include "cmdutil.h"
#include "push.h"

enum { OPT_NO_RECORD = 256, OPT_NO_ZIP, OPT_NO_DEACTIVATE, OPT_DRY_RUN,
       OPT_EXCHANGE_VERSION };

static const struct argp_option options[] = {
	{ "no-record", OPT_NO_RECORD, NULL, 0,
	  "Push a package the database does not know (full-export --no-record, or another "
	  "tool's); acknowledge nothing", 0 },
	{ "no-zip", OPT_NO_ZIP, NULL, 0, "Send plain files even when the site offers zip", 0 },
	{ "no-deactivate", OPT_NO_DEACTIVATE, NULL, 0,
	  "Do not ask the site to deactivate what a full package lacks", 0 },
	{ "exchange-version", OPT_EXCHANGE_VERSION, "VERSION", 0,
	  "Send &version=VERSION, as 1C does (e.g. 2.08); default: none", 0 },
	{ "dry-run", OPT_DRY_RUN, NULL, 0,
	  "Print what would be sent; contact no site, acknowledge nothing", 0 },
	{ 0 }
};

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct push_opts *o = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->site;
		state->child_inputs[2] = &o->dbo;
		break;
	case OPT_NO_RECORD:
		o->no_record = true;
		break;
	case OPT_NO_ZIP:
		o->no_zip = true;
		break;
	case OPT_NO_DEACTIVATE:
		o->no_deactivate = true;
		break;
	case OPT_EXCHANGE_VERSION:
		if (arg[0] == '\0' || arg[strspn(arg, "0123456789.")] != '\0')
			argp_error(state, "--exchange-version: '%s' is not a version like 2.08", arg);
		o->version = arg;
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case ARGP_KEY_ARG:
		if (o->package != NULL)
			argp_error(state, "one package directory at a time");
		o->package = arg;
		break;
	case ARGP_KEY_END:
		if (o->package == NULL)
			argp_error(state, "no package: give the directory full-export or "
			                  "delta-export wrote");
		if (o->no_record && o->dbo.db != NULL)
			argp_error(state, "--no-record and --db contradict each other");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &site_argp, 0, NULL, 0 },
	{ &cmd_common_argp, 0, NULL, 0 },
	{ &db_ack_argp, 0, NULL, 0 },
	{ 0 }
};

static const struct argp argp = {
	options, parse_opt, "PACKAGE_DIR",
	"Upload a package written by full-export or delta-export to a site over the 1C "
	"exchange protocol, and on success make it the baseline.\v"
	"The password comes from --password-file, $CMLKIT_PASSWORD or netrc, never from "
	"the command line. A package that is already acknowledged, or older than the "
	"baseline, is not sent again.\n"
	"Exit status: 0 success (also: nothing to send), 1 the package was superseded by "
	"a later export run (not sent), 2 usage error, 3 the package is "
	"not the one recorded, 4 site or network failure worth retrying, 5 the site "
	"refused, 6 local I/O or database error. See catalog-push(1) and cmlkit(7).",
	children, NULL, NULL
};

int
push_parse_options(int argc, char **argv, struct push_opts *o)
{
	return cmd_parse_args(&argp, argc, argv, o);
}
