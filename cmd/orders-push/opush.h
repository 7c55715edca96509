/*
 * opush.h: orders-push's options.
 */
#ifndef CMLKIT_OPUSH_H
#define CMLKIT_OPUSH_H

#include <stdbool.h>

#include <cml/writer.h>

#include "dbrun.h"
#include "siteopts.h"

struct opush_opts {
	struct site_opts site;
	struct db_opts db;
	const char *version;   /* --exchange-version: &version= sent to the site */
	const char *output;    /* --output FILE or "-"; NULL: the site */
	bool dry_run;          /* print the document, mark nothing */
	long limit;            /* orders in one run; 0: all */
	cml_writer_opts xml;   /* --schema, --encoding, --bom, --date, --indent */
};

int opush_parse_options(int argc, char **argv, struct opush_opts *o);

#endif /* CMLKIT_OPUSH_H */
