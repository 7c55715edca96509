/*
 * idset.h: a set of identifiers kept as 64-bit hashes, for duplicate,
 * reference and deletion checks over millions of items in a few bytes
 * each (16 bytes an Ид at most, with the table's slack).
 *
 * Two different Ид with the same 64-bit hash are taken as one: at a
 * million Ид the odds of any such pair are about one in 10^7.
 */
#ifndef CML_IDSET_H
#define CML_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"

CML_BEGIN_DECLS

typedef struct cml_idset cml_idset;

CML_NODISCARD cml_idset *cml_idset_new(void);
void cml_idset_free(cml_idset *set);

/* The hash an Ид is kept as (never 0). */
uint64_t cml_id_hash(const char *id);

/* Adds the hash; *was_there (may be NULL) says whether it was in already. */
CML_NODISCARD cml_status cml_idset_add(cml_idset *set, uint64_t h, bool *was_there);
bool cml_idset_has(const cml_idset *set, uint64_t h);
size_t cml_idset_len(const cml_idset *set);
void cml_idset_clear(cml_idset *set);

CML_END_DECLS

#endif /* CML_IDSET_H */
