/*
 * export.h: full-export's options.
 */
#ifndef CMLKIT_EXPORT_H
#define CMLKIT_EXPORT_H

#include <stdbool.h>

#include "pkgopts.h"

struct export_opts {
	struct pkg_opts pkg;
	const char *db;      /* --db; NULL: the default */
	bool no_record;      /* --no-record: touch no database */
	char **inputs;
	int n_inputs;
};

int export_parse_options(int argc, char **argv, struct export_opts *o);

#endif /* CMLKIT_EXPORT_H */
