/*
 * orderfmt.h: orders written to a stream for whoever takes them next: a
 * CommerceML orders document for the accounting system (through the
 * writer's stream, cml_stream_writer), CSV, or JSON Lines.
 *
 * CSV (cmlkit-orders(5) lists the columns): one header row, then one row
 * per order line with the order's columns repeated on each, and one row
 * with empty line columns for an order without lines; UTF-8, RFC 4180
 * quoting. JSON Lines: one JSON object per order, with every field of
 * the document (lines, counterparties, requisites, attachments) and the
 * ledger's site, revision and change.
 *
 * Nothing is written before the first order: a run with no order writes
 * nothing at all (not even a header or an empty root element).
 */
#ifndef CML_ORDERFMT_H
#define CML_ORDERFMT_H

#include <stdint.h>
#include <stdio.h>

#include "cml.h"
#include "model.h"
#include "writer.h"

CML_BEGIN_DECLS

typedef enum cml_orderfmt_kind {
	CML_ORDERFMT_XML = 0,
	CML_ORDERFMT_CSV,
	CML_ORDERFMT_JSONL,
} cml_orderfmt_kind;

/* "xml", "csv", "jsonl" -> kind; false for anything else. */
bool cml_orderfmt_parse(const char *name, cml_orderfmt_kind *kind);

typedef struct cml_orderfmt cml_orderfmt;

/* What the ledger knows of an order beside its document, for CSV and
 * JSON Lines (XML carries the document alone). Any field may be zero. */
typedef struct cml_orderfmt_meta {
	const char *site;
	int64_t revision;
	const char *change;   /* "new", "changed", "unchanged" */
	const char *changed;  /* what changed */
} cml_orderfmt_meta;

/* xml: the writer options for CML_ORDERFMT_XML (schema, encoding, BOM);
 * may be NULL. The stream is not closed by the formatter. */
CML_NODISCARD cml_orderfmt *cml_orderfmt_new(FILE *out, cml_orderfmt_kind kind,
                                             const cml_writer_opts *xml);
/* One order; meta may be NULL. The document is written (or copied)
 * before the call returns: the caller may free or reuse it. */
CML_NODISCARD cml_status cml_orderfmt_add(cml_orderfmt *f, const cml_document *doc,
                                          const cml_orderfmt_meta *meta);
/* A payment or shipment document of the order added last, after it
 * (XML: a Документ after the order's; JSON Lines: in the order's object
 * under "attachments"; CSV: not written, CSV has order lines only). */
CML_NODISCARD cml_status cml_orderfmt_add_attachment(cml_orderfmt *f, const cml_document *doc);
/* Ends the document (XML: closes the root) and flushes; CML_ERR_IO when
 * the stream failed (full disk, closed pipe). Writes nothing when no
 * order was added. */
CML_NODISCARD cml_status cml_orderfmt_finish(cml_orderfmt *f);
const char *cml_orderfmt_errmsg(const cml_orderfmt *f);
void cml_orderfmt_free(cml_orderfmt *f);

CML_END_DECLS

#endif /* CML_ORDERFMT_H */
