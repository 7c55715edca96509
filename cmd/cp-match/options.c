/*
 * options.c: cp-match's command line (argp); --db is the shared child
 * parser of dbrun.c, the schema and encoding names come from pkgopts.
 */
#include <argp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdutil.h"
#include "cpmatch.h"
#include "pkgopts.h"
#include "siteopts.h"

enum { OPT_SITE = 256, OPT_REGISTER, OPT_RULE, OPT_KPP, OPT_MARKETPLACE, OPT_DECISIONS,
       OPT_DECISIONS_FORMAT, OPT_DRY_RUN, OPT_SUMMARY, OPT_LEDGER, OPT_REVIEW, OPT_ALL,
       OPT_RESOLVE, OPT_CARD, OPT_SELF, OPT_APPLY, OPT_PLAN, OPT_EXPORT, OPT_LOAD_ONLY,
       OPT_BOM, OPT_DATE, OPT_INDENT };

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "Matching (the default: an orders document from FILE or stdin):", 1 },
	{ "site", OPT_SITE, "NAME", 0,
	  "The site the orders come from, for the review queue and the Ид of what is created "
	  "(default $CMLKIT_SITE; --ledger: every site)", 1 },
	{ "register", OPT_REGISTER, "FILE", 0,
	  "Load a counterparty package (CommerceML) or register CSV into the register first; "
	  "repeatable", 1 },
	{ "rule", OPT_RULE, "RULE", 0, "or (default: email OR INN) or and (the old rule)", 1 },
	{ "kpp", OPT_KPP, "HOW", 0,
	  "branch (default: a new KPP of a known INN is a branch) or ignore (one card per "
	  "INN)", 1 },
	{ "marketplace", OPT_MARKETPLACE, "ID|INN", 0,
	  "A buyer of record whose orders pass untouched; repeatable", 1 },
	{ "decisions", OPT_DECISIONS, "FILE", 0, "Write every decision to FILE", 1 },
	{ "decisions-format", OPT_DECISIONS_FORMAT, "FMT", 0,
	  "csv (default) or jsonl, for --decisions and --review", 1 },
	{ "dry-run", OPT_DRY_RUN, NULL, 0,
	  "Write the same output and decisions, change nothing in the register", 1 },
	{ "summary", OPT_SUMMARY, NULL, 0, "Print the counts on standard error", 1 },
	{ NULL, 0, NULL, 0, "Other modes (one at most):", 2 },
	{ "ledger", OPT_LEDGER, NULL, 0,
	  "Match the ledger's orders whose latest revision is not matched yet, and write them "
	  "out", 2 },
	{ "load-only", OPT_LOAD_ONLY, NULL, 0, "Load the --register files and stop", 2 },
	{ "review", OPT_REVIEW, NULL, 0, "List the open review records", 2 },
	{ "all", OPT_ALL, NULL, 0, "--review: the settled records too", 2 },
	{ "resolve", OPT_RESOLVE, "ORDER", 0,
	  "Settle the review of ORDER (its Ид or Номер): book it to --card from now on", 2 },
	{ "card", OPT_CARD, "ID", 0, "--resolve: the card's Ид", 2 },
	{ "self", OPT_SELF, NULL, 0,
	  "Plan the merge of the register's duplicates (CSV); merge nothing without --apply",
	  2 },
	{ "apply", OPT_APPLY, NULL, 0, "--self: merge what the plan says", 2 },
	{ "plan", OPT_PLAN, "FILE", 0, "--self: write the plan to FILE, not standard output",
	  2 },
	{ "export", OPT_EXPORT, "FMT", 0,
	  "Write the register to standard output: csv or xml (a counterparty package)", 2 },
	{ NULL, 0, NULL, 0, "The output (CommerceML):", 3 },
	{ "schema", 's', "VERSION", 0,
	  "Schema version to write: 2.04 to 2.10 or 3.1 (default: the input's, else 2.05)",
	  3 },
	{ "encoding", 'e', "ENC", 0, "utf-8 (default) or windows-1251", 3 },
	{ "bom", OPT_BOM, NULL, 0, "Start UTF-8 with a byte-order mark", 3 },
	{ "date", OPT_DATE, "DATETIME", 0,
	  "ДатаФормирования to write, YYYY-MM-DDTHH:MM:SS (default: the input's, else now)",
	  3 },
	{ "indent", OPT_INDENT, NULL, 0, "Pretty-print", 3 },
	{ 0 }
};

static void
set_mode(struct argp_state *state, struct cpm_opts *o, enum cpm_mode m, const char *opt)
{
	if (o->mode_given && o->mode != m)
		argp_error(state, "%s: one mode at a time (--ledger, --load-only, --review, "
		                  "--resolve, --self, --export)", opt);
	o->mode = m;
	o->mode_given = true;
}

/* Appends to a NULL-free list grown by one. */
static void
push(struct argp_state *state, const char ***list, size_t *n, const char *v)
{
	const char **l = realloc(*list, (*n + 1) * sizeof(*l));

	if (l == NULL)
		argp_failure(state, EXIT_LOCAL, 0, "out of memory");
	l[(*n)++] = v;
	*list = l;
}

/* What only some modes take: a usage error elsewhere. */
static void
check_modes(struct argp_state *state, const struct cpm_opts *o, bool xml_given)
{
	bool matching = o->mode == CPM_PIPE || o->mode == CPM_LEDGER;

	if (o->resolve_card != NULL && o->mode != CPM_RESOLVE)
		argp_error(state, "--card goes with --resolve");
	if (o->mode == CPM_RESOLVE && o->resolve_card == NULL)
		argp_error(state, "--resolve needs --card ID");
	if (o->all && o->mode != CPM_REVIEW)
		argp_error(state, "--all goes with --review");
	if ((o->apply || o->plan != NULL) && o->mode != CPM_SELF)
		argp_error(state, "--apply and --plan go with --self");
	if (!matching && (o->decisions != NULL || o->rule != CML_MATCH_OR ||
	                  o->kpp != CML_KPP_BRANCH || o->n_marketplaces > 0))
		argp_error(state, "--decisions, --rule, --kpp and --marketplace go with matching "
		                  "(the default mode or --ledger)");
	if (o->recfmt_given && !(matching && o->decisions != NULL) && o->mode != CPM_REVIEW)
		argp_error(state, "--decisions-format goes with --decisions or --review");
	if (o->dry_run && !matching && o->mode != CPM_LOAD)
		argp_error(state, "--dry-run goes with matching or --load-only (--self plans "
		                  "without --apply)");
	if (o->n_registers > 0 && !matching && o->mode != CPM_LOAD && o->mode != CPM_SELF)
		argp_error(state, "--register goes with matching, --load-only or --self");
	if (o->mode == CPM_LOAD && o->n_registers == 0)
		argp_error(state, "--load-only needs --register FILE");
	if (xml_given && !matching && !(o->mode == CPM_EXPORT && o->export_xml))
		argp_error(state, "--schema, --encoding, --bom, --date and --indent go with "
		                  "matching or --export xml");
	if (o->input != NULL && o->mode != CPM_PIPE)
		argp_error(state, "only the default mode reads a FILE");
	if (o->xml.bom && o->xml.encoding != CML_ENC_UTF8)
		argp_error(state, "--bom goes with UTF-8 only");
}

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct cpm_opts *o = state->input;
	static bool xml_given;

	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &o->db;
		o->site = getenv("CMLKIT_SITE");
		if (o->site != NULL && o->site[0] == '\0')
			o->site = NULL;
		if (o->site != NULL && !site_name_valid(o->site))
			argp_error(state, "$CMLKIT_SITE: '%s' is not a site name (1 to %d of A-Z a-z "
			                  "0-9 . _ -)", o->site, SITE_NAME_MAX);
		xml_given = false;
		break;
	case OPT_SITE:
		if (!site_name_valid(arg))
			argp_error(state, "--site: '%s' is not a site name (1 to %d of A-Z a-z 0-9 . _ "
			                  "-)", arg, SITE_NAME_MAX);
		o->site = arg;
		break;
	case OPT_REGISTER:
		if (arg[0] == '\0')
			argp_error(state, "--register: an empty file name");
		push(state, &o->registers, &o->n_registers, arg);
		break;
	case OPT_RULE:
		if (strcmp(arg, "or") == 0)
			o->rule = CML_MATCH_OR;
		else if (strcmp(arg, "and") == 0)
			o->rule = CML_MATCH_AND;
		else
			argp_error(state, "--rule: '%s' is not or or and", arg);
		break;
	case OPT_KPP:
		if (strcmp(arg, "branch") == 0)
			o->kpp = CML_KPP_BRANCH;
		else if (strcmp(arg, "ignore") == 0)
			o->kpp = CML_KPP_IGNORE;
		else
			argp_error(state, "--kpp: '%s' is not branch or ignore", arg);
		break;
	case OPT_MARKETPLACE:
		if (arg[0] == '\0')
			argp_error(state, "--marketplace: an empty Ид or INN");
		push(state, &o->marketplaces, &o->n_marketplaces, arg);
		break;
	case OPT_DECISIONS:
		if (arg[0] == '\0' || strcmp(arg, "-") == 0)
			argp_error(state, "--decisions: give a file name (standard output carries the "
			                  "orders)");
		o->decisions = arg;
		break;
	case OPT_DECISIONS_FORMAT:
		if (strcmp(arg, "csv") == 0)
			o->recfmt = REC_CSV;
		else if (strcmp(arg, "jsonl") == 0)
			o->recfmt = REC_JSONL;
		else
			argp_error(state, "--decisions-format: '%s' is not csv or jsonl", arg);
		o->recfmt_given = true;
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_SUMMARY:
		o->summary = true;
		break;
	case OPT_LEDGER:
		set_mode(state, o, CPM_LEDGER, "--ledger");
		break;
	case OPT_LOAD_ONLY:
		set_mode(state, o, CPM_LOAD, "--load-only");
		break;
	case OPT_REVIEW:
		set_mode(state, o, CPM_REVIEW, "--review");
		break;
	case OPT_ALL:
		o->all = true;
		break;
	case OPT_RESOLVE:
		if (arg[0] == '\0')
			argp_error(state, "--resolve: an empty order");
		set_mode(state, o, CPM_RESOLVE, "--resolve");
		o->resolve_order = arg;
		break;
	case OPT_CARD:
		if (arg[0] == '\0')
			argp_error(state, "--card: an empty Ид");
		o->resolve_card = arg;
		break;
	case OPT_SELF:
		set_mode(state, o, CPM_SELF, "--self");
		break;
	case OPT_APPLY:
		o->apply = true;
		break;
	case OPT_PLAN:
		if (arg[0] == '\0' || strcmp(arg, "-") == 0)
			argp_error(state, "--plan: give a file name (without --plan the plan goes to "
			                  "standard output)");
		o->plan = arg;
		break;
	case OPT_EXPORT:
		set_mode(state, o, CPM_EXPORT, "--export");
		if (strcmp(arg, "csv") == 0)
			o->export_xml = false;
		else if (strcmp(arg, "xml") == 0)
			o->export_xml = true;
		else
			argp_error(state, "--export: '%s' is not csv or xml", arg);
		break;
	case 's':
		if (!pkg_schema_known(arg))
			argp_error(state, "--schema: '%s' is not one of 2.04 ... 2.10, 3.1", arg);
		o->xml.schema = arg;
		xml_given = true;
		break;
	case 'e':
		if (!pkg_encoding_parse(arg, &o->xml.encoding))
			argp_error(state, "--encoding: '%s' is not utf-8 or windows-1251", arg);
		xml_given = true;
		break;
	case OPT_BOM:
		o->xml.bom = true;
		xml_given = true;
		break;
	case OPT_DATE:
		if (!pkg_datetime_valid(arg))
			argp_error(state, "--date: '%s' is not YYYY-MM-DDTHH:MM:SS", arg);
		o->xml.generated = arg;
		xml_given = true;
		break;
	case OPT_INDENT:
		o->xml.indent = true;
		xml_given = true;
		break;
	case ARGP_KEY_ARG:
		if (o->input != NULL)
			argp_error(state, "one orders document at a time ('%s' and '%s')", o->input,
			           arg);
		o->input = arg;
		break;
	case ARGP_KEY_END:
		check_modes(state, o, xml_given);
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
	options, parse_opt, "[FILE|-]",
	"Match the buyer of every order of a CommerceML orders document (FILE, or standard "
	"input) to a counterparty card of the register by \"email OR INN\", update the "
	"register, and write the document to standard output with each matched buyer "
	"rewritten to its card (Ид, name, INN, KPP, the contact person).\v"
	"Nothing is written to standard output unless the whole document was read and "
	"matched; a broken document or register file changes nothing. The decisions file "
	"appears only after the commit. Marketplace buyers, payment and shipment documents "
	"and counterparty packages pass through unchanged.\n"
	"Exit status: 0 every buyer matched, 1 something needs a person (a review record, an "
	"invalid INN or email, a buyer with no keys), 2 usage error, 3 bad input (a broken "
	"document or register file, a catalog, an unknown order or card for --resolve: "
	"nothing changed), 6 local I/O or database error. See cp-match(1) and cmlkit(7).",
	children, NULL, NULL
};

int
cpm_parse_options(int argc, char **argv, struct cpm_opts *o)
{
	return cmd_parse_args(&argp, argc, argv, o);
}
