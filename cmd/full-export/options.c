/*
 * options.c: full-export's command line (argp).
 */
#include <argp.h>
#include <string.h>
#include <strings.h>

#include "cmdutil.h"
#include "export.h"

enum { OPT_SPLIT = 256, OPT_BOM, OPT_PARTIAL, OPT_DATE, OPT_INDENT };

static const struct argp_option options[] = {
	{ "output", 'o', "DIR", 0, "Write the package into DIR (required)", 0 },
	{ "schema", 's', "VERSION", 0,
	  "Schema version to write: 2.04 to 2.10 or 3.1 (default 2.05)", 0 },
	{ "split", OPT_SPLIT, NULL, 0, "Write the split 2.08+ file set (implied by 3.1)", 0 },
	{ "encoding", 'e', "ENC", 0, "utf-8 (default) or windows-1251", 0 },
	{ "bom", OPT_BOM, NULL, 0, "Start UTF-8 files with a byte-order mark", 0 },
	{ "format", 'f', "FMT", 0, "Input format: auto (default), cml or csv", 0 },
	{ "partial", OPT_PARTIAL, NULL, 0,
	  "Mark the package as changes only (СодержитТолькоИзменения=\"true\")", 0 },
	{ "date", OPT_DATE, "DATETIME", 0,
	  "ДатаФормирования to write, YYYY-MM-DDTHH:MM:SS (default: now)", 0 },
	{ "indent", OPT_INDENT, NULL, 0, "Pretty-print the XML", 0 },
	{ "quiet", 'q', NULL, 0, "Print nothing but errors", 0 },
	{ "verbose", 'v', NULL, 0, "Say what is read and written", 0 },
	{ 0 }
};

static const char *const schemas[] = { "2.04", "2.05", "2.06", "2.07", "2.08",
	                               "2.09", "2.10", "3.1" };

static bool
valid_datetime(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0;

	return sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 &&
	       s[n] == '\0' && strlen(s) == 19 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 &&
	       h <= 23 && mi <= 59 && sec <= 60;
}

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct export_opts *o = state->input;
	bool ok = false;

	switch (key) {
	case 'o':
		o->output = arg;
		break;
	case 's':
		for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++)
			ok = ok || strcmp(arg, schemas[i]) == 0;
		if (!ok)
			argp_error(state, "--schema: '%s' is not one of 2.04 ... 2.10, 3.1", arg);
		o->w.schema = arg;
		break;
	case OPT_SPLIT:
		o->w.layout = CML_LAYOUT_SPLIT;
		break;
	case 'e':
		if (strcasecmp(arg, "utf-8") == 0 || strcasecmp(arg, "utf8") == 0)
			o->w.encoding = CML_ENC_UTF8;
		else if (strcasecmp(arg, "windows-1251") == 0 || strcasecmp(arg, "cp1251") == 0)
			o->w.encoding = CML_ENC_WINDOWS_1251;
		else
			argp_error(state, "--encoding: '%s' is not utf-8 or windows-1251", arg);
		break;
	case OPT_BOM:
		o->w.bom = true;
		break;
	case 'f':
		if (!cmd_format_parse(arg, &o->format))
			argp_error(state, "--format: '%s' is not auto, cml or csv", arg);
		break;
	case OPT_PARTIAL:
		o->w.only_changes = CML_TRUE;
		break;
	case OPT_DATE:
		if (!valid_datetime(arg))
			argp_error(state, "--date: '%s' is not YYYY-MM-DDTHH:MM:SS", arg);
		o->w.generated = arg;
		break;
	case OPT_INDENT:
		o->w.indent = true;
		break;
	case 'q':
		cmd_verbosity = 0;
		break;
	case 'v':
		cmd_verbosity = 2;
		break;
	case ARGP_KEY_ARGS:
		o->inputs = state->argv + state->next;
		o->n_inputs = state->argc - state->next;
		break;
	case ARGP_KEY_END:
		if (o->output == NULL)
			argp_error(state, "no output directory: give -o DIR");
		if (o->w.bom && o->w.encoding != CML_ENC_UTF8)
			argp_error(state, "--bom goes with UTF-8 only");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp argp = {
	options, parse_opt, "[FILE|DIR|-]...",
	"Read a whole catalog (CommerceML or cmlkit CSV) and write a complete, "
	"normalised CommerceML package into a directory.\v"
	"With no FILE, or when FILE is -, read standard input. A DIR stands for "
	"the files in it. The names of the files written go to standard output.\n"
	"Exit status: 0 success, 2 usage error, 3 bad input data, 6 local I/O error. "
	"See full-export(1) and cmlkit(7).",
	NULL, NULL, NULL
};

int
export_parse_options(int argc, char **argv, struct export_opts *o)
{
	argp_program_version_hook = cmd_print_version;
	argp_err_exit_status = EXIT_USAGE;
	if (argp_parse(&argp, argc, argv, 0, NULL, o) != 0)
		return EXIT_USAGE;
	return EXIT_OK;
}
