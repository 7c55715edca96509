/*
 * export.h: full-export's options.
 */
#ifndef CMLKIT_EXPORT_H
#define CMLKIT_EXPORT_H

#include <stdbool.h>

#include "dbrun.h"
#include "pkgopts.h"

struct export_opts {
	struct pkg_opts pkg;
	struct db_opts dbo;  /* --db */
	bool no_record;      /* --no-record: touch no database */
	char **inputs;
	int n_inputs;
};

int export_parse_options(int argc, char **argv, struct export_opts *o);

#endif /* CMLKIT_EXPORT_H */
