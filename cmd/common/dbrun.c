/*
 * dbrun.c: the one way the programs open the database and run their
 * transaction, so that --db, the messages and the exit statuses are the
 * same in every program (cmlkit-db(5), cmlkit(7)).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <cml/generations.h>

#include "cmdutil.h"
#include "dbrun.h"

enum { OPT_DB = 1024, OPT_KEEP };

#define DB_DOC "The database (default: $CMLKIT_DB, else ./cmlkit.db)"
#define KEEP_DOC                                                                         \
	"Keep the recorded parts of the last N generations an acknowledgement would "     \
	"prune, for inspection (default 0: the database holds the baseline and what is "  \
	"pending)"

static const struct argp_option options[] = {
	{ "db", OPT_DB, "FILE", 0, DB_DOC, 0 },
	{ 0 }
};

static const struct argp_option ack_options[] = {
	{ "db", OPT_DB, "FILE", 0, DB_DOC, 0 },
	{ "keep", OPT_KEEP, "N", 0, KEEP_DOC, 0 },
	{ 0 }
};

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct db_opts *o = state->input;

	switch (key) {
	case OPT_DB:
		/* SQLite would take "" for a temporary database that is
		 * gone at exit: nothing recorded, and no error said */
		if (arg[0] == '\0')
			argp_error(state, "--db: an empty file name");
		o->db = arg;
		return 0;
	case OPT_KEEP: {
		char *end;
		errno = 0;
		long n = strtol(arg, &end, 10);
		if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || n > INT_MAX)
			argp_error(state, "--keep: '%s' is not a count of generations", arg);
		o->keep = (int)n;
		o->keep_set = true;
		return 0;
	}
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

/* A program's own line for --db in --help (o->doc). argp frees what this
 * returns when it is not the text it was given, so a copy is always
 * fine (and never a cast away of const). */
static char *
help_filter(int key, const char *text, void *input)
{
	const struct db_opts *o = input;

	if (key == OPT_DB && o != NULL && o->doc != NULL)
		text = o->doc;
	return text != NULL ? strdup(text) : NULL;
}

const struct argp db_argp = { options, parse_opt, NULL, NULL, NULL, help_filter, NULL };
const struct argp db_ack_argp = { ack_options, parse_opt, NULL, NULL, NULL, help_filter, NULL };

const char *
db_path(const struct db_opts *o)
{
	return o->db != NULL ? o->db : cml_store_default_path();
}

int
db_open(const struct db_opts *o, bool read_only, cml_store **out)
{
	char errbuf[1024] = "";
	cml_store_opts so = { .read_only = read_only };
	cml_status st;

	*out = cml_store_open(db_path(o), &so, &st, errbuf, sizeof(errbuf));
	if (*out == NULL) {
		cmd_error("%s", errbuf[0] != '\0' ? errbuf : cml_status_str(st));
		return EXIT_LOCAL;
	}
	if (o->keep_set && cml_store_gen_set_keep(*out, o->keep) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(*out));
		cml_store_close(*out);
		*out = NULL;
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int
db_begin(cml_store *s, const char *program)
{
	cml_status st = cml_store_run_begin(s, program);

	if (st != CML_OK) {
		cmd_error("%s", cml_store_errmsg(s));
		return EXIT_LOCAL;
	}
	/* a message after success: it waited for another run */
	if (cml_store_errmsg(s)[0] != '\0')
		cmd_warn("%s", cml_store_errmsg(s));
	return EXIT_OK;
}

int
db_commit(cml_store *s, const char *outcome, const char *counts_json)
{
	if (cml_store_run_commit(s, outcome, counts_json) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(s));
		cml_store_run_rollback(s);
		return EXIT_LOCAL;
	}
	return EXIT_OK;
}

void
db_rollback(cml_store *s)
{
	cml_store_run_rollback(s);
}

void
db_close(cml_store *s)
{
	/* a run still open is rolled back: nothing of it stays */
	cml_store_close(s);
}
