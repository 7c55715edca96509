/*
 * idset.c: open addressing with linear probing over 64-bit hashes.
 */
#include <string.h>

#include "cml/idset.h"
#include "cml_private.h"

struct cml_idset {
	uint64_t *slots; /* 0 marks an empty slot */
	size_t cap;      /* a power of two */
	size_t len;
};

uint64_t
cml_id_hash(const char *s)
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
	return h ? h : 1;
}

cml_idset *
cml_idset_new(void)
{
	return cml_calloc(1, sizeof(cml_idset));
}

void
cml_idset_free(cml_idset *set)
{
	if (set == NULL)
		return;
	cml_free(set->slots);
	cml_free(set);
}

static bool
grow(cml_idset *set)
{
	size_t cap = set->cap ? set->cap * 2 : 1024;
	uint64_t *slots = cml_calloc(cap, sizeof(*slots));

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
	cml_free(set->slots);
	set->slots = slots;
	set->cap = cap;
	return true;
}

cml_status
cml_idset_add(cml_idset *set, uint64_t h, bool *was_there)
{
	if (h == 0)
		h = 1;
	if ((set->len + 1) * 4 > set->cap * 3 && !grow(set))
		return CML_ERR_NOMEM;
	size_t j = (size_t)h & (set->cap - 1);
	while (set->slots[j] != 0) {
		if (set->slots[j] == h) {
			if (was_there != NULL)
				*was_there = true;
			return CML_OK;
		}
		j = (j + 1) & (set->cap - 1);
	}
	set->slots[j] = h;
	set->len++;
	if (was_there != NULL)
		*was_there = false;
	return CML_OK;
}

bool
cml_idset_has(const cml_idset *set, uint64_t h)
{
	if (h == 0)
		h = 1;
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

size_t
cml_idset_len(const cml_idset *set)
{
	return set->len;
}

void
cml_idset_clear(cml_idset *set)
{
	if (set->slots != NULL)
		memset(set->slots, 0, set->cap * sizeof(*set->slots));
	set->len = 0;
}
