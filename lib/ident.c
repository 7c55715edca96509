/*
 * ident.c: the catalog identity of a shop (see ident.h).
 */
#include <stdio.h>
#include <string.h>

#include <xxhash.h>

#include "cml/ident.h"
#include "store_private.h"

#define UUID_LEN 36

struct cml_ident {
	cml_arena arena;
	cml_catalog_ident f;
};

/* The fields, in one order for loops: their meta keys and their names. */
enum { I_CLS_ID, I_CLS_NAME, I_CAT_ID, I_CAT_NAME, I_PKG_ID, I_PKG_NAME, I_COUNT };

static const char *const meta_keys[I_COUNT] = {
	"catalog_ident.classifier_id", "catalog_ident.classifier_name",
	"catalog_ident.catalog_id",    "catalog_ident.catalog_name",
	"catalog_ident.offers_id",     "catalog_ident.offers_name",
};

static const char *const field_names[I_COUNT] = {
	"Классификатор Ид", "Классификатор Наименование", "Каталог Ид",
	"Каталог Наименование", "ПакетПредложений Ид", "ПакетПредложений Наименование",
};

static const char **
field(cml_catalog_ident *c, int i)
{
	switch (i) {
	case I_CLS_ID: return &c->classifier_id;
	case I_CLS_NAME: return &c->classifier_name;
	case I_CAT_ID: return &c->catalog_id;
	case I_CAT_NAME: return &c->catalog_name;
	case I_PKG_ID: return &c->offers_id;
	default: return &c->offers_name;
	}
}

static const char *
cfield(const cml_catalog_ident *c, int i)
{
	switch (i) {
	case I_CLS_ID: return c->classifier_id;
	case I_CLS_NAME: return c->classifier_name;
	case I_CAT_ID: return c->catalog_id;
	case I_CAT_NAME: return c->catalog_name;
	case I_PKG_ID: return c->offers_id;
	default: return c->offers_name;
	}
}

static bool
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

cml_ident *
cml_ident_new(void)
{
	cml_ident *id = cml_calloc(1, sizeof(*id));

	if (id != NULL)
		cml_arena_init(&id->arena);
	return id;
}

void
cml_ident_free(cml_ident *id)
{
	if (id == NULL)
		return;
	cml_arena_destroy(&id->arena);
	cml_free(id);
}

/* Sets field i when it is empty; false when out of memory. */
static bool
set_field(cml_ident *id, int i, const char *v)
{
	const char **dst = field(&id->f, i);

	if (!empty(*dst) || empty(v))
		return true;
	*dst = cml_arena_strdup(&id->arena, v);
	return *dst != NULL;
}

cml_status
cml_ident_fill(cml_ident *id, const cml_catalog_ident *from)
{
	if (id == NULL)
		return CML_ERR_USAGE;
	if (from == NULL)
		return CML_OK;
	for (int i = 0; i < I_COUNT; i++)
		if (!set_field(id, i, cfield(from, i)))
			return CML_ERR_NOMEM;
	return CML_OK;
}

/* a, b and c one after the other, in the arena; NULL when out of memory. */
static char *
concat(cml_arena *ar, const char *a, const char *b, const char *c)
{
	size_t na = strlen(a), nb = strlen(b), nc = strlen(c);
	char *p = cml_arena_alloc(ar, na + nb + nc + 1);

	if (p != NULL) {
		memcpy(p, a, na);
		memcpy(p + na, b, nb);
		memcpy(p + na + nb, c, nc + 1);
	}
	return p;
}

/* A UUID-shaped text of the hash of "cmlkit KIND\nSHOP". The version
 * nibble says 8 (RFC 9562: custom) and the variant bits are RFC 4122's,
 * so a site that checks the shape of an Ид takes it. False when out of
 * memory. */
static bool
uuid_of(cml_arena *a, const char *kind, const char *shop, char out[UUID_LEN + 1])
{
	const char *text = concat(a, kind, "\n", shop);
	unsigned char b[16];

	if (text == NULL)
		return false;
	XXH128_hash_t h = XXH3_128bits(text, strlen(text));
	for (int i = 0; i < 8; i++) {
		b[i] = (unsigned char)(h.high64 >> (56 - 8 * i));
		b[8 + i] = (unsigned char)(h.low64 >> (56 - 8 * i));
	}
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x80);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	snprintf(out, UUID_LEN + 1,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
	         b[12], b[13], b[14], b[15]);
	return true;
}

cml_status
cml_ident_derive(cml_ident *id, const char *shop)
{
	char cls[UUID_LEN + 1], cat[UUID_LEN + 1];
	const char *cls_name, *pkg_name, *pkg_id;

	if (id == NULL)
		return CML_ERR_USAGE;
	if (empty(shop))
		shop = CML_IDENT_SHOP_DEFAULT;
	if (!uuid_of(&id->arena, "cmlkit classifier", shop, cls) ||
	    !uuid_of(&id->arena, "cmlkit catalog", shop, cat))
		return CML_ERR_NOMEM;
	cls_name = concat(&id->arena, "Классификатор (", shop, ")");
	pkg_name = concat(&id->arena, "Пакет предложений (", shop, ")");
	if (cls_name == NULL || pkg_name == NULL || !set_field(id, I_CLS_ID, cls) ||
	    !set_field(id, I_CLS_NAME, cls_name) || !set_field(id, I_CAT_ID, cat) ||
	    !set_field(id, I_CAT_NAME, shop))
		return CML_ERR_NOMEM;
	/* as 1C names the offers package: its catalog's Ид (whichever
	 * source gave it) and '#' */
	pkg_id = concat(&id->arena, id->f.catalog_id, "#", "");
	if (pkg_id == NULL || !set_field(id, I_PKG_ID, pkg_id) ||
	    !set_field(id, I_PKG_NAME, pkg_name))
		return CML_ERR_NOMEM;
	return CML_OK;
}

const cml_catalog_ident *
cml_ident_get(const cml_ident *id)
{
	return id != NULL ? &id->f : NULL;
}

bool
cml_ident_is_empty(const cml_ident *id)
{
	for (int i = 0; id != NULL && i < I_COUNT; i++)
		if (!empty(cfield(&id->f, i)))
			return false;
	return true;
}

const char *
cml_ident_differs(const cml_catalog_ident *a, const cml_catalog_ident *b)
{
	for (int i = 0; a != NULL && b != NULL && i < I_COUNT; i++) {
		const char *x = cfield(a, i), *y = cfield(b, i);

		if (!empty(x) && !empty(y) && strcmp(x, y) != 0)
			return field_names[i];
	}
	return NULL;
}

/* ---- the database ---- */

static const char *const queries[SQ_COUNT] = {
	[SQ_ID_GET] = "SELECT key, value FROM meta WHERE key LIKE 'catalog\\_ident.%' ESCAPE '\\'",
	[SQ_ID_SET] = "INSERT INTO meta(key, value) VALUES (?1, ?2) "
	              "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
};

cml_status
cml_ident_load(cml_store *s, cml_ident *id, bool *found)
{
	cml_status st;
	sqlite3_stmt *q;
	int rc;

	*found = false;
	if ((q = store_query(s, SQ_ID_GET, queries[SQ_ID_GET], &st)) == NULL)
		return st;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(q, 0);
		const char *v = (const char *)sqlite3_column_text(q, 1);

		for (int i = 0; k != NULL && i < I_COUNT; i++) {
			if (strcmp(k, meta_keys[i]) != 0 || empty(v))
				continue;
			if (!set_field(id, i, v)) {
				sqlite3_reset(q);
				return CML_ERR_NOMEM;
			}
			*found = true;
		}
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return store_db_fail(s, "reading the catalog identity");
	return CML_OK;
}

cml_status
cml_ident_save(cml_store *s, const cml_ident *id)
{
	cml_status st;
	sqlite3_stmt *q;

	if ((st = store_need_run(s, "remembering the catalog identity")) != CML_OK)
		return st;
	if ((q = store_query(s, SQ_ID_SET, queries[SQ_ID_SET], &st)) == NULL)
		return st;
	for (int i = 0; i < I_COUNT; i++) {
		const char *v = cfield(&id->f, i);

		if (empty(v))
			continue;
		sqlite3_bind_text(q, 1, meta_keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, v, -1, SQLITE_STATIC);
		if ((st = store_step_done(s, q, "remembering the catalog identity")) != CML_OK)
			return st;
	}
	return CML_OK;
}
