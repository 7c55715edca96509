/*
 * options.c: orders-push's command line (argp); the site options and --db
 * are the shared child parsers of siteopts.c and dbrun.c, the document's
 * form is checked by pkgopts' validators.
 */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdutil.h"
#include "opush.h"
#include "pkgopts.h"

enum { OPT_EXCHANGE_VERSION = 256, OPT_DRY_RUN, OPT_LIMIT, OPT_BOM, OPT_DATE, OPT_INDENT };

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "The push:", 1 },
	{ "exchange-version", OPT_EXCHANGE_VERSION, "VERSION", 0,
	  "Send &version=VERSION, as 1C does (e.g. 2.08): the site then stores the document "
	  "and imports it at mode=import; default: none (imported at mode=file)", 1 },
	{ "output", 'o', "FILE", 0,
	  "Write the document to FILE (\"-\": standard output) instead of sending it; the "
	  "orders count as delivered once it is written in full", 1 },
	{ "dry-run", OPT_DRY_RUN, NULL, 0,
	  "Print the document (or write it to --output); contact no site, mark nothing", 1 },
	{ "limit", OPT_LIMIT, "N", 0,
	  "At most N orders in one run, the oldest first (default: every pending order); the "
	  "rest go in the next run", 1 },
	{ NULL, 0, NULL, 0, "The document:", 2 },
	{ "schema", 's', "VERSION", 0,
	  "Schema version to write: 2.04 to 2.10 or 3.1 (default 2.05)", 2 },
	{ "encoding", 'e', "ENC", 0, "utf-8 (default) or windows-1251", 2 },
	{ "bom", OPT_BOM, NULL, 0, "Start UTF-8 with a byte-order mark", 2 },
	{ "date", OPT_DATE, "DATETIME", 0,
	  "ДатаФормирования to write, YYYY-MM-DDTHH:MM:SS (default: now); its day is also "
	  "the date of a step recorded without one", 2 },
	{ "indent", OPT_INDENT, NULL, 0, "Pretty-print", 2 },
	{ 0 }
};

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct opush_opts *o = state->input;
	char *end;
	long v;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->site;
		state->child_inputs[1] = &o->db;
		break;
	case OPT_EXCHANGE_VERSION:
		if (arg[0] == '\0' || arg[strspn(arg, "0123456789.")] != '\0')
			argp_error(state, "--exchange-version: '%s' is not a version like 2.08", arg);
		o->version = arg;
		break;
	case 'o':
		if (arg[0] == '\0')
			argp_error(state, "--output: an empty file name");
		o->output = arg;
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_LIMIT:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno != 0 || end == arg || *end != '\0' || v < 1 || v > 100000000L)
			argp_error(state, "--limit: '%s' is not a count (1 or more)", arg);
		o->limit = v;
		break;
	case 's':
		if (!pkg_schema_known(arg))
			argp_error(state, "--schema: '%s' is not one of 2.04 ... 2.10, 3.1", arg);
		o->xml.schema = arg;
		break;
	case 'e':
		if (!pkg_encoding_parse(arg, &o->xml.encoding))
			argp_error(state, "--encoding: '%s' is not utf-8 or windows-1251", arg);
		break;
	case OPT_BOM:
		o->xml.bom = true;
		break;
	case OPT_DATE:
		if (!pkg_datetime_valid(arg))
			argp_error(state, "--date: '%s' is not YYYY-MM-DDTHH:MM:SS", arg);
		o->xml.generated = arg;
		break;
	case OPT_INDENT:
		o->xml.indent = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "'%s': orders-push takes no operands (the orders come from the "
		                  "database)", arg);
		break;
	case ARGP_KEY_END:
		if (o->xml.bom && o->xml.encoding != CML_ENC_UTF8)
			argp_error(state, "--bom goes with UTF-8 only");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &site_argp, 0, NULL, 0 },
	{ &db_argp, 0, NULL, 0 },
	{ &cmd_common_argp, 0, NULL, 0 },
	{ 0 }
};

static const struct argp argp = {
	options, parse_opt, NULL,
	"Send the order progress not yet delivered to a site (orders-status records it) as "
	"one CommerceML document of the orders' states, over type=sale&mode=file, and mark "
	"it delivered only once the site has taken it.\v"
	"The orders are those of the site --site names (else $CMLKIT_SITE, else the URL's "
	"host) whose progress changed since their last delivery; each goes with all its "
	"lines, as the site sent it. A site's success proves that it took the document, not "
	"that it changed the order: a real Bitrix ignores an order it does not know. An "
	"order the site says it cannot change is reported and marked with its words; the "
	"others are delivered. Nothing pending: nothing is sent, the site is not contacted.\n"
	"Exit status: 0 success (also: nothing pending), 1 the site refused some orders "
	"(the others are delivered), 2 usage error, 4 site or network failure worth "
	"retrying (nothing marked: the next run sends the same), 5 the site refused the "
	"document, 6 local I/O or database error. See orders-push(1) and cmlkit(7).",
	children, NULL, NULL
};

int
opush_parse_options(int argc, char **argv, struct opush_opts *o)
{
	return cmd_parse_args(&argp, argc, argv, o);
}
