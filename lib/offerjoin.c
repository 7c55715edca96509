/*
 * offerjoin.c: the parts of split offers, and the repeats of a
 * property, joined (offerjoin.h). Moved from full-export so that
 * delta-export joins the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "cml/offerjoin.h"
#include "cml_private.h"

struct rec {
	struct rec *next;  /* hash chain */
	struct rec *order; /* first-seen order */
	cml_offer o;
};

/* A property held until the end, its values joined over its repeats. */
struct prop {
	struct prop *next;
	cml_property p;
	size_t cap_variants;
};

struct cml_offerjoin {
	struct rec **buckets;
	size_t n_buckets, len;
	struct rec *first, *last;
	struct prop *props, *last_prop;
	/* one big arena: simple chunks, never freed before the end */
	char *chunk;
	size_t chunk_left;
	char **chunks;
	size_t n_chunks, cap_chunks;
};

#define CHUNK (1u << 20)

static void *
alloc(cml_offerjoin *m, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (n > m->chunk_left) {
		size_t size = n > CHUNK ? n : CHUNK;
		if (m->n_chunks == m->cap_chunks) {
			size_t cap = m->cap_chunks ? m->cap_chunks * 2 : 16;
			char **c = cml_realloc(m->chunks, cap * sizeof(*c));
			if (c == NULL)
				return NULL;
			m->chunks = c;
			m->cap_chunks = cap;
		}
		m->chunk = cml_malloc(size);
		if (m->chunk == NULL)
			return NULL;
		m->chunks[m->n_chunks++] = m->chunk;
		m->chunk_left = size;
	}
	void *p = m->chunk;
	m->chunk += n;
	m->chunk_left -= n;
	return p;
}

static bool
dup_str(cml_offerjoin *m, const char **dst, const char *src)
{
	if (src == NULL) {
		*dst = NULL;
		return true;
	}
	size_t n = strlen(src) + 1;
	char *d = alloc(m, n);
	if (d == NULL)
		return false;
	memcpy(d, src, n);
	*dst = d;
	return true;
}

static bool
dup_pairs(cml_offerjoin *m, cml_pair **dst, size_t *n_dst, const cml_pair *src, size_t n)
{
	*dst = NULL;
	*n_dst = 0;
	if (n == 0)
		return true;
	cml_pair *p = alloc(m, n * sizeof(*p));
	if (p == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!dup_str(m, &p[i].name, src[i].name) || !dup_str(m, &p[i].value, src[i].value))
			return false;
	*dst = p;
	*n_dst = n;
	return true;
}

static bool
dup_props(cml_offerjoin *m, cml_offer *d, const cml_offer *s)
{
	d->props = NULL;
	d->n_props = 0;
	if (s->n_props == 0)
		return true;
	d->props = alloc(m, s->n_props * sizeof(*d->props));
	if (d->props == NULL)
		return false;
	for (size_t i = 0; i < s->n_props; i++)
		if (!dup_str(m, &d->props[i].id, s->props[i].id) ||
		    !dup_str(m, &d->props[i].value, s->props[i].value))
			return false;
	d->n_props = s->n_props;
	return true;
}

static bool
dup_prices(cml_offerjoin *m, cml_offer *d, const cml_offer *s)
{
	d->prices = NULL;
	d->n_prices = 0;
	d->has_prices = s->has_prices;
	if (s->n_prices == 0)
		return true;
	d->prices = alloc(m, s->n_prices * sizeof(*d->prices));
	if (d->prices == NULL)
		return false;
	for (size_t i = 0; i < s->n_prices; i++) {
		const cml_price *a = &s->prices[i];
		cml_price *b = &d->prices[i];
		if (!dup_str(m, &b->type_id, a->type_id) ||
		    !dup_str(m, &b->presentation, a->presentation) ||
		    !dup_str(m, &b->value, a->value) || !dup_str(m, &b->currency, a->currency) ||
		    !dup_str(m, &b->unit, a->unit) || !dup_str(m, &b->coefficient, a->coefficient) ||
		    !dup_str(m, &b->tax_name, a->tax_name))
			return false;
		b->tax_in_sum = a->tax_in_sum;
	}
	d->n_prices = s->n_prices;
	return true;
}

static bool
dup_stocks(cml_offerjoin *m, cml_offer *d, const cml_offer *s)
{
	d->stocks = NULL;
	d->n_stocks = 0;
	d->has_stocks = s->has_stocks;
	if (s->n_stocks == 0)
		return true;
	d->stocks = alloc(m, s->n_stocks * sizeof(*d->stocks));
	if (d->stocks == NULL)
		return false;
	for (size_t i = 0; i < s->n_stocks; i++)
		if (!dup_str(m, &d->stocks[i].warehouse_id, s->stocks[i].warehouse_id) ||
		    !dup_str(m, &d->stocks[i].quantity, s->stocks[i].quantity))
			return false;
	d->n_stocks = s->n_stocks;
	return true;
}

static bool
dup_unit(cml_offerjoin *m, cml_unit_ref *d, const cml_unit_ref *s)
{
	if (!dup_str(m, &d->code, s->code) || !dup_str(m, &d->name, s->name) ||
	    !dup_str(m, &d->full_name, s->full_name) || !dup_str(m, &d->intl, s->intl))
		return false;
	d->conversions = NULL;
	d->n_conversions = 0;
	if (s->n_conversions == 0)
		return true;
	d->conversions = alloc(m, s->n_conversions * sizeof(*d->conversions));
	if (d->conversions == NULL)
		return false;
	for (size_t i = 0; i < s->n_conversions; i++)
		if (!dup_str(m, &d->conversions[i].unit, s->conversions[i].unit) ||
		    !dup_str(m, &d->conversions[i].coefficient, s->conversions[i].coefficient))
			return false;
	d->n_conversions = s->n_conversions;
	return true;
}

static bool
dup_components(cml_offerjoin *m, cml_offer *d, const cml_offer *s)
{
	d->components = NULL;
	d->n_components = 0;
	if (s->n_components == 0)
		return true;
	d->components = alloc(m, s->n_components * sizeof(*d->components));
	if (d->components == NULL)
		return false;
	for (size_t i = 0; i < s->n_components; i++) {
		const cml_component *a = &s->components[i];
		cml_component *b = &d->components[i];
		if (!dup_str(m, &b->id, a->id) || !dup_str(m, &b->name, a->name) ||
		    !dup_str(m, &b->quantity, a->quantity))
			return false;
	}
	d->n_components = s->n_components;
	return true;
}

/* Fills what dst lacks from src; a part's prices or stock replace the
 * earlier ones (a later file is the newer word). */
static bool
fold(cml_offerjoin *m, cml_offer *d, const cml_offer *s)
{
#define FILL(f) \
	if (d->f == NULL && s->f != NULL && !dup_str(m, &d->f, s->f)) \
		return false
	FILL(id);
	FILL(product_id);
	FILL(char_id);
	FILL(article);
	FILL(barcode);
	FILL(name);
	FILL(version);
	FILL(quantity);
	FILL(geotag);
#undef FILL
	if (d->unit.code == NULL && d->unit.name == NULL && !dup_unit(m, &d->unit, &s->unit))
		return false;
	if (d->n_characteristics == 0 &&
	    !dup_pairs(m, &d->characteristics, &d->n_characteristics, s->characteristics,
	               s->n_characteristics))
		return false;
	if (d->n_props == 0 && !dup_props(m, d, s))
		return false;
	if (d->n_components == 0 && !dup_components(m, d, s))
		return false;
	if (s->has_prices && !dup_prices(m, d, s))
		return false;
	if (s->has_stocks && !dup_stocks(m, d, s))
		return false;
	if (s->deleted)
		d->deleted = true;
	if (d->status == CML_STATUS_NONE)
		d->status = s->status;
	return true;
}

static bool
same_variant(const cml_variant *a, const cml_variant *b)
{
	if (a->id != NULL || b->id != NULL)
		return a->id != NULL && b->id != NULL && strcmp(a->id, b->id) == 0;
	return a->value != NULL && b->value != NULL && strcmp(a->value, b->value) == 0;
}

/* Appends to d the values of s it does not have yet. */
static bool
join_variants(cml_offerjoin *m, struct prop *d, const cml_property *s)
{
	for (size_t i = 0; i < s->n_variants; i++) {
		const cml_variant *v = &s->variants[i];
		bool have = false;
		for (size_t k = 0; k < d->p.n_variants && !have; k++)
			have = same_variant(&d->p.variants[k], v);
		if (have)
			continue;
		if (d->p.n_variants == d->cap_variants) {
			size_t cap = d->cap_variants ? d->cap_variants * 2 : 8;
			cml_variant *nv = alloc(m, cap * sizeof(*nv));
			if (nv == NULL)
				return false;
			if (d->p.n_variants > 0)
				memcpy(nv, d->p.variants, d->p.n_variants * sizeof(*nv));
			d->p.variants = nv;
			d->cap_variants = cap;
		}
		cml_variant *n = &d->p.variants[d->p.n_variants];
		if (!dup_str(m, &n->id, v->id) || !dup_str(m, &n->value, v->value))
			return false;
		d->p.n_variants++;
	}
	return true;
}

cml_status
cml_offerjoin_add_property(cml_offerjoin *m, const cml_property *p)
{
	struct prop *d;

	if (p->id == NULL)
		return CML_ERR_USAGE;
	for (d = m->props; d != NULL; d = d->next)
		if (strcmp(d->p.id, p->id) == 0)
			return join_variants(m, d, p) ? CML_OK : CML_ERR_NOMEM;
	if ((d = alloc(m, sizeof(*d))) == NULL)
		return CML_ERR_NOMEM;
	memset(d, 0, sizeof(*d));
	d->p = *p;
	d->p.variants = NULL;
	d->p.n_variants = 0;
	if (!dup_str(m, &d->p.id, p->id) || !dup_str(m, &d->p.name, p->name) ||
	    !dup_str(m, &d->p.value_type, p->value_type) || !dup_str(m, &d->p.type, p->type) ||
	    !dup_str(m, &d->p.version, p->version) || !join_variants(m, d, p))
		return CML_ERR_NOMEM;
	if (m->last_prop != NULL)
		m->last_prop->next = d;
	else
		m->props = d;
	m->last_prop = d;
	return CML_OK;
}

cml_status
cml_offerjoin_flush_properties(cml_offerjoin *m, cml_item_sink_fn *sink, void *ud)
{
	cml_item it;

	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_PROPERTY;
	for (struct prop *d = m->props; d != NULL; d = d->next) {
		it.u.property = d->p;
		cml_status st = sink(ud, &it);
		if (st != CML_OK)
			return st;
	}
	return CML_OK;
}

cml_offerjoin *
cml_offerjoin_new(void)
{
	cml_offerjoin *m = cml_calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->n_buckets = 1024;
	m->buckets = cml_calloc(m->n_buckets, sizeof(*m->buckets));
	if (m->buckets == NULL) {
		cml_free(m);
		return NULL;
	}
	return m;
}

void
cml_offerjoin_free(cml_offerjoin *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_chunks; i++)
		cml_free(m->chunks[i]);
	cml_free(m->chunks);
	cml_free(m->buckets);
	cml_free(m);
}

bool
cml_offer_is_whole(const cml_offer *o)
{
	return o->has_prices && (o->has_stocks || o->quantity != NULL);
}

static size_t
hash(const char *s)
{
	size_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static bool
grow(cml_offerjoin *m)
{
	size_t n = m->n_buckets * 2;
	struct rec **b = cml_calloc(n, sizeof(*b));

	if (b == NULL)
		return false;
	for (struct rec *r = m->first; r != NULL; r = r->order) {
		size_t i = hash(r->o.id) & (n - 1);
		r->next = b[i];
		b[i] = r;
	}
	cml_free(m->buckets);
	m->buckets = b;
	m->n_buckets = n;
	return true;
}

cml_status
cml_offerjoin_add(cml_offerjoin *m, const cml_offer *o)
{
	if (o->id == NULL)
		return CML_ERR_USAGE;
	size_t i = hash(o->id) & (m->n_buckets - 1);

	for (struct rec *r = m->buckets[i]; r != NULL; r = r->next)
		if (strcmp(r->o.id, o->id) == 0)
			return fold(m, &r->o, o) ? CML_OK : CML_ERR_NOMEM;
	if (m->len + 1 > m->n_buckets && !grow(m))
		return CML_ERR_NOMEM;
	i = hash(o->id) & (m->n_buckets - 1);
	struct rec *r = alloc(m, sizeof(*r));
	if (r == NULL)
		return CML_ERR_NOMEM;
	memset(r, 0, sizeof(*r));
	if (!fold(m, &r->o, o))
		return CML_ERR_NOMEM;
	r->next = m->buckets[i];
	m->buckets[i] = r;
	if (m->last != NULL)
		m->last->order = r;
	else
		m->first = r;
	m->last = r;
	m->len++;
	return CML_OK;
}

size_t
cml_offerjoin_count(const cml_offerjoin *m)
{
	return m->len;
}

cml_status
cml_offerjoin_flush(cml_offerjoin *m, cml_item_sink_fn *sink, void *ud)
{
	cml_item it;

	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_OFFER;
	for (struct rec *r = m->first; r != NULL; r = r->order) {
		it.u.offer = r->o;
		cml_status st = sink(ud, &it);
		if (st != CML_OK)
			return st;
	}
	return CML_OK;
}
