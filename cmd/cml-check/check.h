/*
 * check.h: cml-check's options.
 */
#ifndef CMLKIT_CHECK_H
#define CMLKIT_CHECK_H

#include <stdbool.h>

#include "source.h"

struct check_opts {
	bool dump;
	bool json;
	unsigned long max_problems; /* 0: all */
	enum cmd_format format;
	char **inputs;
	int n_inputs;
};

/* Parses argv into o; returns an exit status (EXIT_OK to go on). */
int check_parse_options(int argc, char **argv, struct check_opts *o);

#endif /* CMLKIT_CHECK_H */
