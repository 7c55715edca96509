/*
 * seen.c: see seen.h. An open-addressed table of (kind and Ид hash,
 * content hash, file, line); file names are kept once each.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cml/dump.h>
#include <cml/idset.h>

#include "seen.h"

struct slot {
	uint64_t key; /* 0: empty */
	uint64_t content;
	uint32_t file;
	uint32_t line;
};

struct cmd_seen {
	struct slot *slots;
	size_t cap, len; /* cap a power of two */
	char **files;
	size_t n_files, cap_files;
};

cmd_seen *
cmd_seen_new(void)
{
	cmd_seen *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->cap = 256;
	s->slots = calloc(s->cap, sizeof(*s->slots));
	if (s->slots == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
cmd_seen_free(cmd_seen *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_files; i++)
		free(s->files[i]);
	free(s->files);
	free(s->slots);
	free(s);
}

bool
cmd_seen_kind(cml_kind kind)
{
	return kind == CML_ITEM_GROUP || kind == CML_ITEM_PROPERTY ||
	       kind == CML_ITEM_PRICE_TYPE || kind == CML_ITEM_WAREHOUSE ||
	       kind == CML_ITEM_UNIT;
}

static struct slot *
find(struct slot *slots, size_t cap, uint64_t key)
{
	size_t i = (size_t)key & (cap - 1);

	while (slots[i].key != 0 && slots[i].key != key)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static bool
grow(cmd_seen *s)
{
	size_t cap = s->cap * 2;
	struct slot *n = calloc(cap, sizeof(*n));

	if (n == NULL)
		return false;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i].key != 0)
			*find(n, cap, s->slots[i].key) = s->slots[i];
	free(s->slots);
	s->slots = n;
	s->cap = cap;
	return true;
}

/* The index of file's name, added when it is new (names come in runs). */
static bool
file_index(cmd_seen *s, const char *file, uint32_t *out)
{
	if (file == NULL)
		file = "";
	if (s->n_files > 0 && strcmp(s->files[s->n_files - 1], file) == 0) {
		*out = (uint32_t)(s->n_files - 1);
		return true;
	}
	if (s->n_files == s->cap_files) {
		size_t cap = s->cap_files ? s->cap_files * 2 : 8;
		char **f = realloc(s->files, cap * sizeof(*f));
		if (f == NULL)
			return false;
		s->files = f;
		s->cap_files = cap;
	}
	if ((s->files[s->n_files] = strdup(file)) == NULL)
		return false;
	*out = (uint32_t)s->n_files++;
	return true;
}

enum cmd_seen_result
cmd_seen_add(cmd_seen *s, const cml_item *item, const char *id, const char **file,
             unsigned long *line)
{
	uint64_t key = cml_id_hash(id) * 31 + (uint64_t)item->kind, content;
	struct slot *sl;
	uint32_t fi;

	if (key == 0)
		key = 1;
	/* a property's values are compared apart: each file of a split
	 * package lists those its own items use (see seen.h) */
	cml_item bare = *item;
	if (bare.kind == CML_ITEM_PROPERTY) {
		bare.u.property.variants = NULL;
		bare.u.property.n_variants = 0;
	}
	if (cml_item_content_hash(&bare, &content) != CML_OK)
		return SEEN_NOMEM;
	sl = find(s->slots, s->cap, key);
	if (sl->key == key) {
		*file = s->files[sl->file];
		*line = sl->line;
		return sl->content == content ? SEEN_SAME : SEEN_CONFLICT;
	}
	if (!file_index(s, item->origin.file, &fi))
		return SEEN_NOMEM;
	if ((s->len + 1) * 2 > s->cap) {
		if (!grow(s))
			return SEEN_NOMEM;
		sl = find(s->slots, s->cap, key);
	}
	*sl = (struct slot){ key, content, fi, (uint32_t)item->origin.line };
	s->len++;
	return SEEN_NEW;
}
