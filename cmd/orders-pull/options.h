/*
 * options.h: orders-pull's options.
 */
#ifndef CMLKIT_PULL_OPTIONS_H
#define CMLKIT_PULL_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include <cml/orderfmt.h>
#include <cml/writer.h>

#include "dbrun.h"
#include "siteopts.h"

/* Queries of one run when --max-queries does not say. */
#define PULL_MAX_QUERIES 20

struct pull_opts {
	struct site_opts site;
	struct db_opts db;
	char **inputs;           /* file mode: the operands ("-" is stdin) */
	int n_inputs;            /* 0: site mode */
	const char *version;     /* --exchange-version: &version= sent to the site */
	long max_queries;        /* queries one run may make */
	cml_orderfmt_kind format;
	cml_writer_opts xml;     /* --schema, --encoding, --bom */
	const char *replay;      /* --replay SINCE as given; NULL: a pull */
	int64_t replay_run;      /* SINCE was a run number */
	char replay_since[24];   /* SINCE was a date: "YYYY-MM-DD[THH:MM:SS]" */
	bool keep_going;         /* store the good orders beside rejected ones */
	bool ack_partial;        /* confirm an answer that had rejected orders */
	bool summary;            /* the counts on stderr */
};

int pull_parse_options(int argc, char **argv, struct pull_opts *o);

#endif /* CMLKIT_PULL_OPTIONS_H */
