/*
 * doccodec.h: a document (cml_document with everything under it) as
 * bytes, two ways. Private to libcml (the ledger uses it).
 *
 *  - the stored form is compact and reversible: decoding it gives back
 *    every field as it was, NULL and "" told apart, numbers spelled as
 *    they were;
 *  - the canonical form is what a document's content fingerprint hashes:
 *    values trimmed, NULL and "" the same, numbers as canonical decimals
 *    (100 = 100.00), and only content (not the 3.1 Контейнер ordinal,
 *    not the Контрагенты package flag).
 *
 * Both walk one description of the model's structs (doccodec.c), so a
 * field is either in all of them or in none; doc_shapes_check says
 * whether that description still covers every member of model.h.
 */
#ifndef CML_DOCCODEC_H
#define CML_DOCCODEC_H

#include <stdbool.h>
#include <stddef.h>

#include "cml/model.h"
#include "cml_private.h"

/* Appends the stored form of doc to b. false when out of memory. */
bool doc_encode(cml_buf *b, const cml_document *doc);

/* Appends the canonical form of doc to b. false when out of memory. */
bool doc_canon(cml_buf *b, const cml_document *doc);

/*
 * Decodes a stored form into memory of a (strings of the codec's own
 * table point to static storage). CML_ERR_FORMAT when the bytes are not
 * a stored form this library writes, CML_ERR_NOMEM.
 */
cml_status doc_decode(cml_arena *a, const void *bytes, size_t len, cml_document **out);

/*
 * What differs between the content of old and new, as element names
 * separated by ", " (Номер, Сумма, Контрагенты, Товары, a requisite by
 * its Наименование, ...), appended to out; nothing when the content is
 * the same. tmp1 and tmp2 are scratch. false when out of memory.
 */
bool doc_changes(const cml_document *old, const cml_document *new, cml_buf *tmp1, cml_buf *tmp2,
                 cml_buf *out);

/*
 * Whether the description covers every member of every struct it
 * describes (no member left out, none twice): false with the struct's
 * name in err when model.h gained a member the codec does not know.
 */
bool doc_shapes_check(char *err, size_t cap);

#endif /* CML_DOCCODEC_H */
