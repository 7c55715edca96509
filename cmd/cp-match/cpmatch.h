/*
 * cpmatch.h: cp-match's options and its record writer (the decisions
 * file, the review list, the merge plan: CSV or JSON Lines).
 */
#ifndef CMLKIT_CPMATCH_H
#define CMLKIT_CPMATCH_H

#include <stdbool.h>
#include <stdio.h>

#include <cml/match.h>
#include <cml/writer.h>

#include "dbrun.h"

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

enum cpm_recfmt { CPM_CSV = 0, CPM_JSONL };

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
	enum cpm_recfmt recfmt;      /* --decisions-format */
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

/* ---- records: one header (CSV) and one row per record ---- */

/* A field's type: how JSON writes it (CSV writes every one as text). */
enum rec_type { REC_STR = 0, REC_BOOL, REC_INT };

struct rec_field {
	const char *name;
	enum rec_type type;
};

struct rec_out {
	FILE *f;
	enum cpm_recfmt fmt;
	const struct rec_field *fields;
	size_t n;
	bool header_done;
};

/* One record: n values as text ("true"/"false" for REC_BOOL, digits for
 * REC_INT; NULL as ""). The CSV header goes before the first. Returns
 * false when the stream failed. */
bool rec_write(struct rec_out *r, const char *const *values);
/* The CSV header when no record came (a decisions file of no buyer is
 * still a table); nothing for JSON Lines. False when the stream failed. */
bool rec_finish(struct rec_out *r);

#endif /* CMLKIT_CPMATCH_H */
