/*
 * records.c: records as CSV or JSON Lines (records.h). Text is UTF-8 as
 * it came; JSON escapes what it must.
 */
#include <stdio.h>
#include <string.h>

#include "records.h"

static void
csv_field(FILE *f, const char *v)
{
	if (v[strcspn(v, ",\"\r\n")] == '\0') {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (; *v != '\0'; v++) {
		if (*v == '"')
			fputc('"', f);
		fputc(*v, f);
	}
	fputc('"', f);
}

void
rec_json_string(FILE *f, const char *v)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

static void
csv_header(struct rec_out *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (i > 0)
			fputc(',', r->f);
		csv_field(r->f, r->fields[i].name);
	}
	fputs("\r\n", r->f);
	r->header_done = true;
}

bool
rec_write(struct rec_out *r, const char *const *values)
{
	if (r->fmt == REC_CSV) {
		if (!r->header_done)
			csv_header(r);
		for (size_t i = 0; i < r->n; i++) {
			if (i > 0)
				fputc(',', r->f);
			csv_field(r->f, values[i] != NULL ? values[i] : "");
		}
		fputs("\r\n", r->f);
		return ferror(r->f) == 0;
	}
	fputc('{', r->f);
	for (size_t i = 0; i < r->n; i++) {
		const char *v = values[i] != NULL ? values[i] : "";

		if (i > 0)
			fputc(',', r->f);
		rec_json_string(r->f, r->fields[i].name);
		fputc(':', r->f);
		if (r->fields[i].type == REC_STR)
			rec_json_string(r->f, v);
		else if (r->fields[i].type == REC_BOOL)
			fputs(strcmp(v, "true") == 0 ? "true" : "false", r->f);
		else
			fputs(v[0] != '\0' ? v : "null", r->f);
	}
	fputs("}\n", r->f);
	return ferror(r->f) == 0;
}

bool
rec_finish(struct rec_out *r)
{
	if (r->fmt == REC_CSV && !r->header_done)
		csv_header(r);
	return ferror(r->f) == 0;
}
