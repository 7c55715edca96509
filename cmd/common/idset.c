/*
 * idset.c: open addressing with linear probing over 64-bit hashes.
 */
#include <stdlib.h>
#include <string.h>

#include "idset.h"

uint64_t
cmd_id_hash(const char *s)
{
	/* FNV-1a, then a final mix so that nearby ids spread out */
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h ? h : 1; /* 0 is the empty slot */
}

static bool
grow(cmd_idset *set)
{
	size_t cap = set->cap ? set->cap * 2 : 1024;
	uint64_t *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return false;
	for (size_t i = 0; i < set->cap; i++) {
		uint64_t h = set->slots[i];
		if (h == 0)
			continue;
		size_t j = (size_t)h & (cap - 1);
		while (slots[j] != 0)
			j = (j + 1) & (cap - 1);
		slots[j] = h;
	}
	free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return true;
}

bool
cmd_idset_add(cmd_idset *set, uint64_t h, bool *was_there)
{
	if ((set->len + 1) * 4 > set->cap * 3 && !grow(set))
		return false;
	size_t j = (size_t)h & (set->cap - 1);
	while (set->slots[j] != 0) {
		if (set->slots[j] == h) {
			*was_there = true;
			return true;
		}
		j = (j + 1) & (set->cap - 1);
	}
	set->slots[j] = h;
	set->len++;
	*was_there = false;
	return true;
}

bool
cmd_idset_has(const cmd_idset *set, uint64_t h)
{
	if (set->cap == 0)
		return false;
	size_t j = (size_t)h & (set->cap - 1);
	while (set->slots[j] != 0) {
		if (set->slots[j] == h)
			return true;
		j = (j + 1) & (set->cap - 1);
	}
	return false;
}

void
cmd_idset_clear(cmd_idset *set)
{
	if (set->slots != NULL)
		memset(set->slots, 0, set->cap * sizeof(*set->slots));
	set->len = 0;
}

void
cmd_idset_free(cmd_idset *set)
{
	free(set->slots);
	set->slots = NULL;
	set->cap = set->len = 0;
}
