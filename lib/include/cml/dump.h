/*
 * dump.h: the canonical JSON form of an item, one object per line.
 *
 * The form is a contract (documented in cml-check(1)): keys in a fixed
 * order, "kind" first; absent (NULL) strings, false booleans, unset
 * tristates and empty arrays are omitted; numbers stay the canonical
 * decimal strings of model.h; strings are JSON-escaped UTF-8 with
 * non-ASCII written as is. The origin (file, line) is not part of it, so
 * the same content read from different files dumps the same.
 */
#ifndef CML_DUMP_H
#define CML_DUMP_H

#include <stdint.h>
#include <stdio.h>

#include "cml.h"
#include "model.h"

CML_BEGIN_DECLS

/* Writes one line (with the newline). CML_ERR_IO if fp fails. */
CML_NODISCARD cml_status cml_item_dump_json(const cml_item *item, FILE *fp);

/* A 64-bit hash of the item's line: two items with the same content, read
 * from anywhere, hash the same (the origin is not part of it); an identical
 * repeat of an item is told from a conflicting one by it. */
CML_NODISCARD cml_status cml_item_content_hash(const cml_item *item, uint64_t *hash);

CML_END_DECLS

#endif /* CML_DUMP_H */
