/*
 * export.h: full-export's options.
 */
#ifndef CMLKIT_EXPORT_H
#define CMLKIT_EXPORT_H

#include "pkgopts.h"

struct export_opts {
	struct pkg_opts pkg;
	char **inputs;
	int n_inputs;
};

int export_parse_options(int argc, char **argv, struct export_opts *o);

#endif /* CMLKIT_EXPORT_H */
