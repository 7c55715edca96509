/*
 * options.c: orders-status' command line (argp): the command word and
 * its operands, the options each command takes; --db is the shared
 * child parser of dbrun.c.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdutil.h"
#include "ostatus.h"
#include "siteopts.h"

enum { OPT_SITE = 256, OPT_FORMAT, OPT_STATE, OPT_PENDING, OPT_SEND, OPT_NAME };

static const struct argp_option options[] = {
	{ "site", OPT_SITE, "NAME", 0,
	  "The site whose order ORDER is (default $CMLKIT_SITE, else any); list: that site's "
	  "orders only; map set/del: that site's code (default: every site's)", 1 },
	{ "format", OPT_FORMAT, "FMT", 0,
	  "show: text (default) or json; list and map: csv (default) or jsonl", 1 },
	{ "state", OPT_STATE, "STATE[,STATE]", 0,
	  "list: only orders in these states (new, confirmed, completed, cancelled)", 1 },
	{ "pending", OPT_PENDING, NULL, 0,
	  "list: only orders with progress not yet delivered to the site", 1 },
	{ "send", OPT_SEND, NULL, 0,
	  "map set: orders-push sends CODE for orders in STATE", 1 },
	{ "name", OPT_NAME, "TEXT", 0, "map set: the site's name for CODE (\"Выполнен\")", 1 },
	{ 0 }
};

/* One of what a command takes, or a usage error. */
struct cmdspec {
	const char *word;
	enum ost_cmd cmd;
	int min_args, max_args; /* after the command word(s); -1: any */
};

static const struct cmdspec cmds[] = {
	{ "set", OST_SET, 2, -1 },
	{ "apply", OST_APPLY, 1, 1 },
	{ "show", OST_SHOW, 1, 1 },
	{ "list", OST_LIST, 0, 0 },
	{ "map", OST_MAP, 0, 0 },
};

static void
parse_states(struct argp_state *state, struct ost_opts *o, char *arg)
{
	for (char *w = arg, *comma; w != NULL; w = comma != NULL ? comma + 1 : NULL) {
		cml_os_life l;

		if ((comma = strchr(w, ',')) != NULL)
			*comma = '\0';
		if (*w == '\0')
			continue;
		if (!cml_os_life_parse(w, &l))
			argp_error(state, "--state: '%s' is not new, confirmed, completed or cancelled",
			           w);
		o->life_mask |= 1u << l;
	}
	if (o->life_mask == 0)
		argp_error(state, "--state: no state given");
}

/* The command word(s) off the operands; what each command takes. */
static void
check_command(struct argp_state *state, struct ost_opts *o, const char *format, bool states)
{
	const struct cmdspec *cs = NULL;

	if (o->n_args == 0)
		argp_error(state, "no command: set, apply, show, list or map");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(o->args[0], cmds[i].word) == 0)
			cs = &cmds[i];
	if (cs == NULL)
		argp_error(state, "'%s' is not a command: set, apply, show, list or map", o->args[0]);
	o->cmd = cs->cmd;
	o->args++;
	o->n_args--;
	if (o->cmd == OST_MAP && o->n_args > 0) {
		if (strcmp(o->args[0], "set") == 0 && o->n_args == 3)
			o->cmd = OST_MAP_SET;
		else if (strcmp(o->args[0], "del") == 0 && o->n_args == 2)
			o->cmd = OST_MAP_DEL;
		else
			argp_error(state, "map takes nothing (the list), set CODE STATE or del CODE");
		o->args++;
		o->n_args--;
	} else if (o->n_args < cs->min_args || (cs->max_args >= 0 && o->n_args > cs->max_args)) {
		if (o->cmd == OST_SET)
			argp_error(state, "set takes ORDER and at least one STEP");
		argp_error(state, "%s takes %s", cs->word,
		           cs->max_args == 0 ? "no operand" : o->cmd == OST_APPLY ? "one FILE (or -)"
		                                                                   : "one ORDER");
	}
	if (format != NULL) {
		if (o->cmd == OST_SHOW && strcmp(format, "json") == 0)
			o->json = true;
		else if (o->cmd == OST_SHOW && strcmp(format, "text") == 0)
			o->json = false;
		else if ((o->cmd == OST_LIST || o->cmd == OST_MAP) && strcmp(format, "jsonl") == 0)
			o->recfmt = REC_JSONL;
		else if ((o->cmd == OST_LIST || o->cmd == OST_MAP) && strcmp(format, "csv") == 0)
			o->recfmt = REC_CSV;
		else if (o->cmd == OST_SHOW || o->cmd == OST_LIST || o->cmd == OST_MAP)
			argp_error(state, "--format: '%s' is not %s", format,
			           o->cmd == OST_SHOW ? "text or json" : "csv or jsonl");
		else
			argp_error(state, "--format goes with show, list and map");
	}
	if ((states || o->pending) && o->cmd != OST_LIST)
		argp_error(state, "--state and --pending go with list");
	if ((o->send || o->name != NULL) && o->cmd != OST_MAP_SET)
		argp_error(state, "--send and --name go with map set");
	if (o->cmd == OST_MAP_SET && !cml_os_life_parse(o->args[1], &(cml_os_life){ 0 }))
		argp_error(state, "map set: '%s' is not new, confirmed, completed or cancelled",
		           o->args[1]);
}

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct ost_opts *o = state->input;
	static const char *format;
	static bool states;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->db;
		o->site = getenv("CMLKIT_SITE");
		if (o->site != NULL && o->site[0] == '\0')
			o->site = NULL;
		if (o->site != NULL && !site_name_valid(o->site))
			argp_error(state, "$CMLKIT_SITE: '%s' is not a site name (1 to %d of A-Z a-z "
			                  "0-9 . _ -)", o->site, SITE_NAME_MAX);
		format = NULL;
		states = false;
		break;
	case OPT_SITE:
		if (!site_name_valid(arg))
			argp_error(state, "--site: '%s' is not a site name (1 to %d of A-Z a-z 0-9 . _ "
			                  "-)", arg, SITE_NAME_MAX);
		o->site = arg;
		break;
	case OPT_FORMAT:
		format = arg;
		break;
	case OPT_STATE:
		parse_states(state, o, arg);
		states = true;
		break;
	case OPT_PENDING:
		o->pending = true;
		break;
	case OPT_SEND:
		o->send = true;
		break;
	case OPT_NAME:
		o->name = arg;
		break;
	case ARGP_KEY_ARG: {
		char **a = realloc(o->arg_list, (size_t)(o->n_args + 1) * sizeof(*a));

		if (a == NULL)
			argp_failure(state, EXIT_LOCAL, 0, "out of memory");
		a[o->n_args++] = arg;
		o->arg_list = o->args = a;
		break;
	}
	case ARGP_KEY_END:
		check_command(state, o, format, states);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child children[] = {
	{ &db_argp, 0, NULL, 0 },
	{ &cmd_common_argp, 0, NULL, 0 },
	{ 0 }
};

static const struct argp argp = {
	options, parse_opt,
	"set ORDER STEP [ARG...] [STEP [ARG...]]...\n"
	"apply FILE|-\n"
	"show ORDER\n"
	"list\n"
	"map [set CODE STATE | del CODE]",
	"Record the progress of the ledger's orders (confirm, invoice, pay, ship, complete, "
	"cancel, refund, return) under the rules of the order state machine, from the command "
	"line, a CSV file or the accounting system's CommerceML order documents; show it, list "
	"it, and keep the map from the site's status codes to states.\v"
	"Steps: confirm; invoice NUMBER [DATE]; pay AMOUNT [DATE] [NUMBER]; ship [QTY...] "
	"[DATE] [NUMBER]; allow-shipment; complete; cancel REASON; refund AMOUNT; return "
	"[QTY...]; uncancel; postpaid; prepaid. DATE is YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS; "
	"ORDER is the order's Номер or Ид. The steps of one set apply together or not at all.\n"
	"Exit status: 0 done (steps already so are reported, not errors), 1 apply: something "
	"was refused, stale, unknown or unmapped (the rest applied), 2 usage error (also an "
	"ORDER that names several orders), 3 a step refused by the rules (set: nothing "
	"changed), an unknown order, or a broken input file (nothing changed), 6 local I/O or "
	"database error. See orders-status(1) and cmlkit(7).",
	children, NULL, NULL
};

int
ost_parse_options(int argc, char **argv, struct ost_opts *o)
{
	return cmd_parse_args(&argp, argc, argv, o);
}
