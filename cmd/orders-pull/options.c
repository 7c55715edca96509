/*
 * options.c: orders-pull's command line (argp); the site options and
 * --db are the shared child parsers of siteopts.c and dbrun.c.
 */
#include <argp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdutil.h"
#include "options.h"
#include "pkgopts.h"

enum { OPT_EXCHANGE_VERSION = 256, OPT_MAX_QUERIES, OPT_FORMAT, OPT_BOM, OPT_DATE,
       OPT_INDENT, OPT_REPLAY, OPT_KEEP_GOING, OPT_ACK_PARTIAL, OPT_SUMMARY };

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "The pull:", 1 },
	{ "exchange-version", OPT_EXCHANGE_VERSION, "VERSION", 0,
	  "Send &version=VERSION, as 1C does (e.g. 2.08); default: none", 1 },
	{ "max-queries", OPT_MAX_QUERIES, "N", 0,
	  "Query the site at most N times in one run (default 20)", 1 },
	{ "keep-going", OPT_KEEP_GOING, NULL, 0,
	  "Store the good orders of an answer that has rejected ones (exit status 1)", 1 },
	{ "ack-partial", OPT_ACK_PARTIAL, NULL, 0,
	  "With --keep-going: confirm such an answer to the site all the same (its rejected "
	  "orders are then not sent again)", 1 },
	{ "replay", OPT_REPLAY, "SINCE", 0,
	  "Write the orders stored new or changed since SINCE (a run number, YYYY-MM-DD or "
	  "YYYY-MM-DDTHH:MM:SS in UTC) again; contact no site, change nothing", 1 },
	{ "summary", OPT_SUMMARY, NULL, 0,
	  "Print the counts of orders seen, new, changed, unchanged and rejected", 1 },
	{ NULL, 0, NULL, 0, "The output:", 2 },
	{ "format", 'f', "FMT", 0, "xml (default: CommerceML), csv or jsonl", 2 },
	{ "schema", 's', "VERSION", 0,
	  "xml: schema version to write: 2.04 to 2.10 or 3.1 (default 2.05)", 2 },
	{ "encoding", 'e', "ENC", 0, "xml: utf-8 (default) or windows-1251", 2 },
	{ "bom", OPT_BOM, NULL, 0, "xml: start UTF-8 with a byte-order mark", 2 },
	{ "date", OPT_DATE, "DATETIME", 0,
	  "xml: ДатаФормирования to write, YYYY-MM-DDTHH:MM:SS (default: now)", 2 },
	{ "indent", OPT_INDENT, NULL, 0, "xml: pretty-print", 2 },
	{ 0 }
};

/* n digits at s, their value in *v. */
static bool
digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* "YYYY-MM-DD", or "YYYY-MM-DDTHH:MM:SS" (or with a space for the T):
 * copied into out (at least 20 bytes) in the T form. */
static bool
parse_datetime(const char *s, bool date_only_ok, char *out)
{
	size_t n = strlen(s);
	int y, mo, d, h, mi, sec;

	if ((n != 10 && n != 19) || (n == 10 && !date_only_ok) || !digits(s, 4, &y) ||
	    s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' || !digits(s + 8, 2, &d) ||
	    mo < 1 || mo > 12 || d < 1 || d > 31)
		return false;
	if (n == 19 && ((s[10] != 'T' && s[10] != ' ') || !digits(s + 11, 2, &h) ||
	                s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
	                !digits(s + 17, 2, &sec) || h > 23 || mi > 59 || sec > 60))
		return false;
	memcpy(out, s, n + 1);
	if (n == 19)
		out[10] = 'T';
	return true;
}

static long
count(struct argp_state *state, const char *opt, const char *arg)
{
	char *end;

	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < 1 || v > 1000000L)
		argp_error(state, "%s: '%s' is not a count (1 or more)", opt, arg);
	return v;
}

static void
parse_replay(struct argp_state *state, struct pull_opts *o, const char *arg)
{
	o->replay = arg;
	if (arg[0] != '\0' && arg[strspn(arg, "0123456789")] == '\0') {
		char *end;
		errno = 0;
		long long r = strtoll(arg, &end, 10);
		if (errno != 0 || r <= 0)
			argp_error(state, "--replay: '%s' is not a run number", arg);
		o->replay_run = r;
		return;
	}
	if (!parse_datetime(arg, true, o->replay_since))
		argp_error(state, "--replay: '%s' is not a run number, YYYY-MM-DD or "
		                  "YYYY-MM-DDTHH:MM:SS", arg);
}

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct pull_opts *o = state->input;
	char buf[24];

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->site;
		state->child_inputs[1] = &o->db;
		o->max_queries = PULL_MAX_QUERIES;
		o->format = CML_ORDERFMT_XML;
		break;
	case OPT_EXCHANGE_VERSION:
		if (arg[0] == '\0' || arg[strspn(arg, "0123456789.")] != '\0')
			argp_error(state, "--exchange-version: '%s' is not a version like 2.08", arg);
		o->version = arg;
		break;
	case OPT_MAX_QUERIES:
		o->max_queries = count(state, "--max-queries", arg);
		break;
	case OPT_KEEP_GOING:
		o->keep_going = true;
		break;
	case OPT_ACK_PARTIAL:
		o->ack_partial = true;
		break;
	case OPT_REPLAY:
		parse_replay(state, o, arg);
		break;
	case OPT_SUMMARY:
		o->summary = true;
		break;
	case 'f':
		if (!cml_orderfmt_parse(arg, &o->format))
			argp_error(state, "--format: '%s' is not xml, csv or jsonl", arg);
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
		if (!parse_datetime(arg, false, buf) || strchr(arg, ' ') != NULL)
			argp_error(state, "--date: '%s' is not YYYY-MM-DDTHH:MM:SS", arg);
		o->xml.generated = arg;
		break;
	case OPT_INDENT:
		o->xml.indent = true;
		break;
	case ARGP_KEY_ARGS:
		o->inputs = state->argv + state->next;
		o->n_inputs = state->argc - state->next;
		state->next = state->argc; /* all taken */
		break;
	case ARGP_KEY_END:
		if (o->xml.bom && o->xml.encoding != CML_ENC_UTF8)
			argp_error(state, "--bom goes with UTF-8 only");
		if (o->replay != NULL && o->n_inputs > 0)
			argp_error(state, "--replay reads the ledger: it takes no files");
		if (o->ack_partial && !o->keep_going)
			argp_error(state, "--ack-partial goes with --keep-going");
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
	options, parse_opt, "[FILE...]",
	"Fetch a site's new and changed orders (type=sale, mode=query), or read them from "
	"FILEs (\"-\" is standard input), store them in the order ledger, confirm them to the "
	"site only after the commit, and write the orders new or changed in this run to "
	"standard output.\v"
	"Without FILE the orders come from the site (--url); the site's name in the ledger is "
	"--site, else $CMLKIT_SITE, else the URL's host, and files need one of the first two. "
	"The password comes from --password-file, $CMLKIT_PASSWORD or netrc, never from the "
	"command line. Nothing is written to standard output when nothing is new or "
	"changed.\n"
	"Exit status: 0 success (also: nothing new), 1 orders were rejected under "
	"--keep-going, 2 usage error, 3 bad input (a rejected order, a broken document: "
	"nothing stored), 4 site or network failure worth retrying (the site said error to "
	"the confirmation: the orders are stored and come again), 5 the site refused, 6 "
	"local I/O or database error. See orders-pull(1) and cmlkit(7).",
	children, NULL, NULL
};

int
pull_parse_options(int argc, char **argv, struct pull_opts *o)
{
	return cmd_parse_args(&argp, argc, argv, o);
}
