/*
 * pkgopts.h: the options every program that writes a package shares
 * (-o, --schema, --split, --encoding, --bom, --date, --indent, --format),
 * as an argp child parser, so they are spelled and checked in one place.
 */
#ifndef CMLKIT_PKGOPTS_H
#define CMLKIT_PKGOPTS_H

#include <argp.h>
#include <stdbool.h>

#include <cml/writer.h>

#include "source.h"

struct pkg_opts {
	const char *output;
	cml_writer_opts w;
	enum cmd_format format;
	bool output_required; /* set by the program before parsing */
};

/* The child parser; its input is a struct pkg_opts * (state->child_inputs). */
extern const struct argp pkg_argp;

/* mkdir -p; prints the reason and returns false on failure. */
bool pkg_make_dir(const char *path);

#endif /* CMLKIT_PKGOPTS_H */
