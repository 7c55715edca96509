/*
 * cpmatch.h: cp-match's options (its records, the decisions file, the
 * review list and the merge plan, are written with records.h).
 */
#ifndef CMLKIT_CPMATCH_H
#define CMLKIT_CPMATCH_H

#include <stdbool.h>
#include <stdio.h>

#include <cml/match.h>
#include <cml/writer.h>

#include "dbrun.h"
#include "records.h"

/* What a run does: exactly one. */
enum cpm_mode {
	CPM_PIPE = 0, /* an orders document in, the same rewritten out */
	CPM_LEDGER,   /* the ledger's orders not yet matched */
	CPM_REVIEW,   /* list the review queue */
	CPM_RESOLVE,  /* settle one review */
	CPM_SELF,     /* dedupe the register */
	CPM_EXPORT,   /* the register out */
	CPM_LOAD,     /* --register files in, nothing else */
};

struct cpm_opts {
	struct db_opts db;
	enum cpm_mode mode;
	bool mode_given;             /* a mode option was given (one only) */
	const char *site;            /* --site, else $CMLKIT_SITE; NULL: none */
	const char **registers;      /* --register FILE... */
	size_t n_registers;
	const char **marketplaces;   /* --marketplace ID|INN... */
	size_t n_marketplaces;
	cml_match_rule rule;
	cml_match_kpp kpp;
	const char *decisions;       /* --decisions FILE */
	enum rec_fmt recfmt;          /* --decisions-format */
	bool recfmt_given;
	bool dry_run;
	bool summary;
	bool all;                    /* --review --all */
	const char *resolve_order;   /* --resolve ORDER */
	const char *resolve_card;    /* --card ID */
	bool apply;                  /* --self --apply */
	const char *plan;            /* --self --plan FILE */
	bool export_xml;             /* --export xml (else csv) */
	cml_writer_opts xml;         /* --schema, --encoding, --bom, --indent, --date */
	const char *input;           /* FILE or "-" */
};

int cpm_parse_options(int argc, char **argv, struct cpm_opts *o);

#endif /* CMLKIT_CPMATCH_H */
