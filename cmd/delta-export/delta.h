/*
 * delta.h: delta-export's options.
 */
#ifndef CMLKIT_DELTA_H
#define CMLKIT_DELTA_H

#include <stdbool.h>
#include <stdint.h>

#include "dbrun.h"
#include "pkgopts.h"

struct delta_opts {
	struct pkg_opts pkg;
	struct db_opts dbo;    /* --db */
	int64_t ack;           /* --ack G; 0: not asked */
	bool ack_on_write;
	bool require_baseline;
	bool dry_run;
	bool summary;
	cml_tristate whole;    /* --full / --partial; UNSET: as the input says */
	/* --max-delete: at most this many products, and this many offers,
	 * deleted in one run; a share of the baseline's when max_delete_pct */
	long long max_delete;
	bool max_delete_pct;
	char **inputs;
	int n_inputs;
};

/* The default --max-delete: half the baseline's products or offers. */
#define DELTA_MAX_DELETE_PCT 50

int delta_parse_options(int argc, char **argv, struct delta_opts *o);

#endif /* CMLKIT_DELTA_H */
