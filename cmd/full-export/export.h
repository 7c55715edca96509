/*
 * export.h: full-export's options.
 */
#ifndef CMLKIT_EXPORT_H
#define CMLKIT_EXPORT_H

#include <cml/writer.h>

#include "source.h"

struct export_opts {
	const char *output;
	cml_writer_opts w;
	enum cmd_format format;
	char **inputs;
	int n_inputs;
};

int export_parse_options(int argc, char **argv, struct export_opts *o);

#endif /* CMLKIT_EXPORT_H */
