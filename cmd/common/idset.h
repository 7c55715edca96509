/*
 * idset.h: a set of 64-bit hashes of identifiers, for duplicate and
 * reference checks over millions of items in a few bytes each. Two
 * different Ид with the same 64-bit hash would be taken as one: at a
 * million items the odds are about one in 10^7.
 */
#ifndef CMLKIT_IDSET_H
#define CMLKIT_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cmd_idset {
	uint64_t *slots; /* 0 marks an empty slot */
	size_t cap;      /* a power of two */
	size_t len;
} cmd_idset;

uint64_t cmd_id_hash(const char *s);

/* Adds h; *was_there says whether it was already in. False on OOM. */
bool cmd_idset_add(cmd_idset *set, uint64_t h, bool *was_there);
bool cmd_idset_has(const cmd_idset *set, uint64_t h);
void cmd_idset_clear(cmd_idset *set);
void cmd_idset_free(cmd_idset *set);

#endif /* CMLKIT_IDSET_H */
