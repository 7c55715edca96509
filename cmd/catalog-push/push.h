/*
 * push.h: catalog-push's options.
 */
#ifndef CMLKIT_PUSH_H
#define CMLKIT_PUSH_H

#include <stdbool.h>

#include "dbrun.h"
#include "siteopts.h"

struct push_opts {
	struct site_opts site;
	struct db_opts dbo;    /* --db */
	const char *package;   /* the directory operand */
	const char *version;   /* --exchange-version: &version= sent to the site */
	bool no_record;        /* push a package the database does not know */
	bool no_zip;           /* plain files even when the site offers zip */
	bool no_deactivate;    /* no mode=deactivate after a full package */
	bool dry_run;
};

int push_parse_options(int argc, char **argv, struct push_opts *o);

#endif /* CMLKIT_PUSH_H */
