/*
 * records.h: machine-readable records, one header (CSV) and one row per
 * record, as CSV (RFC 4180: a header row, fields quoted when they hold a
 * comma, a quote or a line break, CRLF line ends) or JSON Lines (one
 * object per line, the fields in the same order). cp-match's decisions
 * and review list, orders-status' list and map. Linked into the
 * programs, never into libcml.
 */
#ifndef CMLKIT_RECORDS_H
#define CMLKIT_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum rec_fmt { REC_CSV = 0, REC_JSONL };

/* A field's type: how JSON writes it (CSV writes every one as text). */
enum rec_type { REC_STR = 0, REC_BOOL, REC_INT };

struct rec_field {
	const char *name;
	enum rec_type type;
};

struct rec_out {
	FILE *f;
	enum rec_fmt fmt;
	const struct rec_field *fields;
	size_t n;
	bool header_done;
};

/* One record: n values as text ("true"/"false" for REC_BOOL, digits for
 * REC_INT; NULL as ""). The CSV header goes before the first. Returns
 * false when the stream failed. */
bool rec_write(struct rec_out *r, const char *const *values);
/* The CSV header when no record came (an empty list is still a table);
 * nothing for JSON Lines. False when the stream failed. */
bool rec_finish(struct rec_out *r);

/* v as a JSON string, quoted and escaped. */
void rec_json_string(FILE *f, const char *v);

#endif /* CMLKIT_RECORDS_H */
