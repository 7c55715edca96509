/*
 * fingerprint.c: the canonical form of each part of an item and its
 * XXH3 128-bit hash.
 *
 * The canonical form is stored indirectly in every baseline (as the hash
 * of it): any change to the bytes below makes every part of every item
 * look changed on the next delta-export, a full re-send. Change it only
 * on purpose, together with the known-fingerprint test and cmlkit-db(5).
 *
 * One part is:
 *
 *     part    = tag:u8 field*                tag = the cml_part value
 *     field   = ftag:u8 len:u32le byte[len]  a string; NULL and "" both len 0
 *             | ftag:u8 len:u32le byte[len]  a tristate: len 0 unset,
 *                                            len 1 "0" false / "1" true
 *             | ftag:u8 count:u32le elem*    an array, elements sorted
 *     elem    = field*                       the element's fields, each
 *                                            with its own ftag
 *
 * Every field of a part is always written, in the order below, even when
 * empty, so the form of one part has a fixed sequence of tags. Field tags
 * number the fields of a part from 1; the fields of an array element are
 * numbered from 1 too (they are never confused: the count says how many
 * elements follow and each element has a fixed number of fields).
 *
 *   group (1):       id, parent_id, name, description
 *   property (2):    id, name, value_type, required, multiple, for_products,
 *                    for_offers, for_documents, variants[(id, value)]
 *   price_type (3):  id, name, currency, tax_name, tax_in_sum, tax_excise
 *   warehouse (4):   id, name, address, comment, contacts[(name, value)]
 *   unit (5):        id, code, short_name, full_name, intl
 *   product (6):     id, article, barcode, name, full_name, description,
 *                    unit.code, unit.name, unit.full_name, unit.intl,
 *                    groups[(value)], pictures[(value)], manufacturer_id,
 *                    manufacturer_name, country, category,
 *                    props[(id, value)], taxes[(name, rate)],
 *                    requisites[(name, value)], characteristics[(name, value)]
 *   offer_card (7):  id, article, barcode, name, unit.code, unit.name,
 *                    unit.full_name, unit.intl, characteristics[(name, value)],
 *                    props[(id, value)]
 *   offer_prices (8): id, prices[(type_id, value, currency, unit, coefficient)]
 *   offer_stock (9): id, quantity, stocks[(warehouse_id, quantity)]
 *
 * Fields added after baselines existed are written only when the item
 * carries them, after the fields above, so that an item without them
 * keeps the fingerprint it always had:
 *
 *   property:        type (10)
 *   product:         weight (21), components[(id, name, quantity)] (22),
 *                    unit.conversions[(unit, coefficient)] (23), geotag (24),
 *                    files[(path, hash)] (25)
 *   offer_card:      components (11), unit.conversions (12), geotag (13)
 *   offer_prices:    in a price element, tax_name (6) and tax_in_sum (7)
 *                    when either is set
 *
 * files (25) is written only with an attach context
 * (cml_fingerprinter_set_attach) and only for a product that names files
 * (Картинка, a requisite ОписаниеФайла or Файл): one element per
 * reference, path the name in the package, hash the file's XXH3 128-bit
 * hash as 32 hex digits, or "missing" for a file that is not there. A
 * picture replaced under the same name changes its card; one that stays
 * does not.
 *
 * A price's defaults are written as left out (""): a coefficient "1",
 * and a currency equal to its price type's when the fingerprinter has
 * seen that type (a ТипЦены item before the offers, as every package
 * has them). Written out or left out, a default is the same value; a
 * price that never wrote one keeps the fingerprint it always had, and
 * one that wrote one changed once, when this rule came (issue 13).
 *
 * Arrays are sorted by all the fields of their elements, in the order
 * listed, as bytes (strcmp; NULL sorts as ""), so that elements with equal
 * sort keys are also equal in the form and the input order never shows.
 * Prices are sorted by their fields as the form has them (defaults left
 * out).
 *
 * Not content: origins, versions (НомерВерсии), the item status
 * (Новый/Изменен), a group's depth (follows from the parent), a price's
 * Представление (a rendering of the same price: "1 200 руб. за шт"),
 * an offer's product_id/char_id (follow from the id), deletion marks
 * (a deleted group, property, product or offer has no parts at all:
 * deletions are handled by the diff).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "cml/attach.h"
#include "cml/fingerprint.h"
#include "cml_private.h"

/* Arrays longer than this go to qsort; the usual ones (a few prices, a
 * few warehouses) are sorted in place by insertion. */
#define SMALL_SORT 16

/* The price types a fingerprinter has seen (ТипЦены comes before the
 * offers), for a price's default currency; and one offer's prices with
 * their defaults left out (price_canon). */
struct price_defaults {
	struct seen_type {
		char *id, *currency;
	} *types;
	size_t n_types, cap_types;
	cml_price *canon;
	size_t cap_canon;
};

struct cml_fingerprinter {
	cml_buf buf;          /* the canonical form being built */
	struct price_defaults pd;
	const void **scratch; /* sorted copy of one array's element pointers */
	size_t scratch_cap;
	bool nomem; /* an append failed since the form was begun */
	cml_attach *attach;   /* not owned; NULL: files not looked at */
};

void
cml_fingerprinter_set_attach(cml_fingerprinter *f, cml_attach *a)
{
	if (f != NULL)
		f->attach = a;
}

static const char *const part_names[CML_PART_COUNT] = {
        [CML_PART_NONE] = NULL,
        [CML_PART_GROUP] = "group",
        [CML_PART_PROPERTY] = "property",
        [CML_PART_PRICE_TYPE] = "price_type",
        [CML_PART_WAREHOUSE] = "warehouse",
        [CML_PART_UNIT] = "unit",
        [CML_PART_PRODUCT] = "product",
        [CML_PART_OFFER_CARD] = "offer_card",
        [CML_PART_OFFER_PRICES] = "offer_prices",
        [CML_PART_OFFER_STOCK] = "offer_stock",
};

const char *
cml_part_name(cml_part part)
{
	if ((unsigned)part >= CML_PART_COUNT)
		return NULL;
	return part_names[part];
}

cml_fingerprinter *
cml_fingerprinter_new(void)
{
	cml_fingerprinter *f = cml_calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	/* Sized for a typical product so the steady state allocates nothing. */
	f->buf.data = cml_malloc(1024);
	f->scratch = cml_malloc(32 * sizeof(*f->scratch));
	if (f->buf.data == NULL || f->scratch == NULL) {
		cml_fingerprinter_free(f);
		return NULL;
	}
	f->buf.cap = 1024;
	f->buf.data[0] = '\0';
	f->scratch_cap = 32;
	return f;
}

void
cml_fingerprinter_free(cml_fingerprinter *f)
{
	if (f == NULL)
		return;
	cml_buf_free(&f->buf);
	cml_free(f->scratch);
	for (size_t i = 0; i < f->pd.n_types; i++) {
		cml_free(f->pd.types[i].id);
		cml_free(f->pd.types[i].currency);
	}
	cml_free(f->pd.types);
	cml_free(f->pd.canon);
	cml_free(f);
}

/* ---- building the form ---- */

/* Room for n more bytes (and the NUL cml_buf keeps); false on OOM, after
 * which every append is dropped until the form is begun again. */
static bool
grow(cml_fingerprinter *f, size_t n)
{
	cml_buf *b = &f->buf;
	size_t cap = b->cap ? b->cap : 256;

	if (f->nomem)
		return false;
	if (n > SIZE_MAX / 2 - b->len) {
		f->nomem = true;
		return false;
	}
	while (cap < b->len + n + 1)
		cap *= 2;
	char *d = cml_realloc(b->data, cap);
	if (d == NULL) {
		f->nomem = true;
		return false;
	}
	b->data = d;
	b->cap = cap;
	return true;
}

static inline bool
reserve(cml_fingerprinter *f, size_t n)
{
	if (f->buf.len + n + 1 <= f->buf.cap && !f->nomem)
		return true;
	return grow(f, n);
}

static inline void
put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void
begin(cml_fingerprinter *f, cml_part part)
{
	f->nomem = false;
	f->buf.len = 0;
	if (reserve(f, 1))
		f->buf.data[f->buf.len++] = (char)part;
}

/* tag, length and bytes. A value longer than 4 GiB cannot come from a
 * reader (max_item_bytes); it is refused as out of memory. */
static inline void
put_bytes(cml_fingerprinter *f, unsigned tag, const char *s, size_t n)
{
	if (n > UINT32_MAX) {
		f->nomem = true;
		return;
	}
	if (!reserve(f, 5 + n))
		return;
	unsigned char *p = (unsigned char *)f->buf.data + f->buf.len;
	p[0] = (unsigned char)tag;
	put_u32(p + 1, (uint32_t)n);
	if (n > 0)
		memcpy(p + 5, s, n);
	f->buf.len += 5 + n;
}

static inline void
put_str(cml_fingerprinter *f, unsigned tag, const char *s)
{
	put_bytes(f, tag, s, s != NULL ? strlen(s) : 0);
}

static void
put_tri(cml_fingerprinter *f, unsigned tag, cml_tristate t)
{
	if (t == CML_TRUE)
		put_bytes(f, tag, "1", 1);
	else if (t == CML_FALSE)
		put_bytes(f, tag, "0", 1);
	else
		put_bytes(f, tag, NULL, 0);
}

/* An array header: the tag and the element count. */
static void
put_count(cml_fingerprinter *f, unsigned tag, size_t count)
{
	if (count > UINT32_MAX) {
		f->nomem = true;
		return;
	}
	if (!reserve(f, 5))
		return;
	unsigned char *p = (unsigned char *)f->buf.data + f->buf.len;
	p[0] = (unsigned char)tag;
	put_u32(p + 1, (uint32_t)count);
	f->buf.len += 5;
}

static void
put_unit_ref(cml_fingerprinter *f, unsigned tag, const cml_unit_ref *u)
{
	put_str(f, tag, u->code);
	put_str(f, tag + 1, u->name);
	put_str(f, tag + 2, u->full_name);
	put_str(f, tag + 3, u->intl);
}

static inline bool
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* ---- sorting ---- */

/* strcmp with NULL as "". */
static inline int
scmp(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "");
}

typedef int cmp_fn(const void *a, const void *b);

static int
cmp_str(const void *a, const void *b)
{
	return scmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_pair(const void *a, const void *b)
{
	const cml_pair *x = a, *y = b;
	int c = scmp(x->name, y->name);

	return c != 0 ? c : scmp(x->value, y->value);
}

static int
cmp_prop(const void *a, const void *b)
{
	const cml_prop_value *x = a, *y = b;
	int c = scmp(x->id, y->id);

	return c != 0 ? c : scmp(x->value, y->value);
}

static int
cmp_variant(const void *a, const void *b)
{
	const cml_variant *x = a, *y = b;
	int c = scmp(x->id, y->id);

	return c != 0 ? c : scmp(x->value, y->value);
}

static int
cmp_tax(const void *a, const void *b)
{
	const cml_tax *x = a, *y = b;
	int c = scmp(x->name, y->name);

	return c != 0 ? c : scmp(x->rate, y->rate);
}

static int
cmp_price(const void *a, const void *b)
{
	const cml_price *x = a, *y = b;
	int c;

	if ((c = scmp(x->type_id, y->type_id)) != 0)
		return c;
	if ((c = scmp(x->value, y->value)) != 0)
		return c;
	if ((c = scmp(x->currency, y->currency)) != 0)
		return c;
	if ((c = scmp(x->unit, y->unit)) != 0)
		return c;
	if ((c = scmp(x->coefficient, y->coefficient)) != 0)
		return c;
	if ((c = scmp(x->tax_name, y->tax_name)) != 0)
		return c;
	return (int)x->tax_in_sum - (int)y->tax_in_sum;
}

static int
cmp_component(const void *a, const void *b)
{
	const cml_component *x = a, *y = b;
	int c = scmp(x->id, y->id);

	if (c == 0)
		c = scmp(x->name, y->name);
	return c != 0 ? c : scmp(x->quantity, y->quantity);
}

static int
cmp_conv(const void *a, const void *b)
{
	const cml_unit_conv *x = a, *y = b;
	int c = scmp(x->unit, y->unit);

	return c != 0 ? c : scmp(x->coefficient, y->coefficient);
}

static int
cmp_stock(const void *a, const void *b)
{
	const cml_stock *x = a, *y = b;
	int c = scmp(x->warehouse_id, y->warehouse_id);

	return c != 0 ? c : scmp(x->quantity, y->quantity);
}

/* qsort hands the comparator pointers to the scratch slots; the one
 * comparator it needs is kept here for the duration of one sort (the
 * fingerprinter is not shared between threads, but qsort has no context
 * argument in C17, so this is per thread). */
static _Thread_local cmp_fn *qsort_cmp;

static int
cmp_indirect(const void *a, const void *b)
{
	return qsort_cmp(*(const void *const *)a, *(const void *const *)b);
}

/*
 * Fills f->scratch with pointers to the n elements of size sz at base,
 * sorted by cmp. The item itself is never reordered. Returns the sorted
 * pointers, or NULL (with nomem set) when the scratch cannot grow.
 */
static const void **
sorted(cml_fingerprinter *f, const void *base, size_t n, size_t sz, cmp_fn *cmp)
{
	const char *p = base;

	if (n > f->scratch_cap) {
		size_t cap = f->scratch_cap * 2;

		while (cap < n)
			cap *= 2;
		if (cap > SIZE_MAX / sizeof(*f->scratch)) {
			f->nomem = true;
			return NULL;
		}
		const void **s = cml_realloc(f->scratch, cap * sizeof(*s));
		if (s == NULL) {
			f->nomem = true;
			return NULL;
		}
		f->scratch = s;
		f->scratch_cap = cap;
	}
	const void **s = f->scratch;
	if (n > SMALL_SORT) {
		for (size_t i = 0; i < n; i++)
			s[i] = p + i * sz;
		qsort_cmp = cmp;
		qsort(s, n, sizeof(*s), cmp_indirect);
		return s;
	}
	for (size_t i = 0; i < n; i++) {
		const void *e = p + i * sz;
		size_t j = i;

		while (j > 0 && cmp(s[j - 1], e) > 0) {
			s[j] = s[j - 1];
			j--;
		}
		s[j] = e;
	}
	return s;
}

/* The writers of each kind of array: count, then each element's fields. */

static void
put_strs(cml_fingerprinter *f, unsigned tag, const char *const *v, size_t n)
{
	put_count(f, tag, n);
	if (n == 0)
		return;
	const void **s = sorted(f, v, n, sizeof(*v), cmp_str);
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		put_str(f, 1, *(const char *const *)s[i]);
}

static void
put_pairs(cml_fingerprinter *f, unsigned tag, const cml_pair *v, size_t n)
{
	put_count(f, tag, n);
	if (n == 0)
		return;
	const void **s = sorted(f, v, n, sizeof(*v), cmp_pair);
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const cml_pair *e = s[i];
		put_str(f, 1, e->name);
		put_str(f, 2, e->value);
	}
}

static void
put_props(cml_fingerprinter *f, unsigned tag, const cml_prop_value *v, size_t n)
{
	put_count(f, tag, n);
	if (n == 0)
		return;
	const void **s = sorted(f, v, n, sizeof(*v), cmp_prop);
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const cml_prop_value *e = s[i];
		put_str(f, 1, e->id);
		put_str(f, 2, e->value);
	}
}

static void
put_variants(cml_fingerprinter *f, unsigned tag, const cml_variant *v, size_t n)
{
	put_count(f, tag, n);
	if (n == 0)
		return;
	const void **s = sorted(f, v, n, sizeof(*v), cmp_variant);
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const cml_variant *e = s[i];
		put_str(f, 1, e->id);
		put_str(f, 2, e->value);
	}
}

static void
put_taxes(cml_fingerprinter *f, unsigned tag, const cml_tax *v, size_t n)
{
	put_count(f, tag, n);
	if (n == 0)
		return;
	const void **s = sorted(f, v, n, sizeof(*v), cmp_tax);
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const cml_tax *e = s[i];
		put_str(f, 1, e->name);
		put_str(f, 2, e->rate);
	}
}

/* The currency of the price type id, when the fingerprinter has seen it. */
static const char *
type_currency(const cml_fingerprinter *f, const char *id)
{
	for (size_t i = 0; i < f->pd.n_types; i++)
		if (strcmp(f->pd.types[i].id, id != NULL ? id : "") == 0)
			return f->pd.types[i].currency;
	return NULL;
}

/* Remembers a price type's currency (the latest one seen of an Ид). */
static cml_status
see_price_type(cml_fingerprinter *f, const cml_price_type *t)
{
	struct price_defaults *pd = &f->pd;
	size_t i = 0;

	while (i < pd->n_types && strcmp(pd->types[i].id, t->id) != 0)
		i++;
	char *cur = empty(t->currency) ? NULL : cml_strdup(t->currency);
	if (!empty(t->currency) && cur == NULL)
		return CML_ERR_NOMEM;
	if (i == pd->n_types) {
		if (pd->n_types == pd->cap_types) {
			size_t cap = pd->cap_types != 0 ? 2 * pd->cap_types : 8;
			struct seen_type *nt = cml_realloc(pd->types, cap * sizeof(*nt));
			if (nt == NULL) {
				cml_free(cur);
				return CML_ERR_NOMEM;
			}
			pd->types = nt;
			pd->cap_types = cap;
		}
		char *id = cml_strdup(t->id);
		if (id == NULL) {
			cml_free(cur);
			return CML_ERR_NOMEM;
		}
		pd->types[pd->n_types++] = (struct seen_type){ id, NULL };
	}
	cml_free(pd->types[i].currency);
	pd->types[i].currency = cur;
	return CML_OK;
}

/* A price as the form has it: a default written out is the same value
 * as the default left out, and left out is how the form always had it,
 * so only a price that wrote a default changes, once. The defaults:
 * Коэффициент 1, and Валюта the price type's currency when the type is
 * one this fingerprinter has seen. */
static cml_price
price_canon(const cml_fingerprinter *f, const cml_price *p)
{
	cml_price c = *p;

	if (c.coefficient != NULL && strcmp(c.coefficient, "1") == 0)
		c.coefficient = NULL;
	if (!empty(c.currency)) {
		const char *tc = type_currency(f, c.type_id);
		if (tc != NULL && strcmp(tc, c.currency) == 0)
			c.currency = NULL;
	}
	return c;
}

static void
put_prices(cml_fingerprinter *f, unsigned tag, const cml_price *prices, size_t n)
{
	put_count(f, tag, n);
	if (n == 0)
		return;
	/* sorted by the values in the form, so a default written or not
	 * never changes the order */
	if (n > f->pd.cap_canon) {
		cml_price *c = n <= SIZE_MAX / sizeof(*c) ? cml_realloc(f->pd.canon, n * sizeof(*c))
		                                           : NULL;
		if (c == NULL) {
			f->nomem = true;
			return;
		}
		f->pd.canon = c;
		f->pd.cap_canon = n;
	}
	cml_price *v = f->pd.canon;
	for (size_t i = 0; i < n; i++)
		v[i] = price_canon(f, &prices[i]);
	const void **s = sorted(f, v, n, sizeof(*v), cmp_price);
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const cml_price *e = s[i];
		put_str(f, 1, e->type_id);
		put_str(f, 2, e->value);
		put_str(f, 3, e->currency);
		put_str(f, 4, e->unit);
		put_str(f, 5, e->coefficient);
		if (!empty(e->tax_name) || e->tax_in_sum != CML_UNSET) {
			put_str(f, 6, e->tax_name);
			put_tri(f, 7, e->tax_in_sum);
		}
	}
}

/* Optional arrays: nothing at all when empty (see the top). */
static void
put_components(cml_fingerprinter *f, unsigned tag, const cml_component *v, size_t n)
{
	if (n == 0)
		return;
	put_count(f, tag, n);
	const void **s = sorted(f, v, n, sizeof(*v), cmp_component);
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const cml_component *e = s[i];
		put_str(f, 1, e->id);
		put_str(f, 2, e->name);
		put_str(f, 3, e->quantity);
	}
}

static void
put_convs(cml_fingerprinter *f, unsigned tag, const cml_unit_conv *v, size_t n)
{
	if (n == 0)
		return;
	put_count(f, tag, n);
	const void **s = sorted(f, v, n, sizeof(*v), cmp_conv);
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const cml_unit_conv *e = s[i];
		put_str(f, 1, e->unit);
		put_str(f, 2, e->coefficient);
	}
}

static void
put_stocks(cml_fingerprinter *f, unsigned tag, const cml_stock *v, size_t n)
{
	put_count(f, tag, n);
	if (n == 0)
		return;
	const void **s = sorted(f, v, n, sizeof(*v), cmp_stock);
	if (s == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		const cml_stock *e = s[i];
		put_str(f, 1, e->warehouse_id);
		put_str(f, 2, e->quantity);
	}
}

/* ---- the parts ---- */

static void
form_group(cml_fingerprinter *f, const cml_group *g)
{
	begin(f, CML_PART_GROUP);
	put_str(f, 1, g->id);
	put_str(f, 2, g->parent_id);
	put_str(f, 3, g->name);
	put_str(f, 4, g->description);
}

static void
form_property(cml_fingerprinter *f, const cml_property *p)
{
	begin(f, CML_PART_PROPERTY);
	put_str(f, 1, p->id);
	put_str(f, 2, p->name);
	put_str(f, 3, p->value_type);
	put_tri(f, 4, p->required);
	put_tri(f, 5, p->multiple);
	put_tri(f, 6, p->for_products);
	put_tri(f, 7, p->for_offers);
	put_tri(f, 8, p->for_documents);
	put_variants(f, 9, p->variants, p->n_variants);
	if (!empty(p->type))
		put_str(f, 10, p->type);
}

static void
form_price_type(cml_fingerprinter *f, const cml_price_type *t)
{
	begin(f, CML_PART_PRICE_TYPE);
	put_str(f, 1, t->id);
	put_str(f, 2, t->name);
	put_str(f, 3, t->currency);
	put_str(f, 4, t->tax_name);
	put_tri(f, 5, t->tax_in_sum);
	put_str(f, 6, t->tax_excise);
}

static void
form_warehouse(cml_fingerprinter *f, const cml_warehouse *w)
{
	begin(f, CML_PART_WAREHOUSE);
	put_str(f, 1, w->id);
	put_str(f, 2, w->name);
	put_str(f, 3, w->address);
	put_str(f, 4, w->comment);
	put_pairs(f, 5, w->contacts, w->n_contacts);
}

static void
form_unit(cml_fingerprinter *f, const cml_unit *u)
{
	begin(f, CML_PART_UNIT);
	put_str(f, 1, u->id);
	put_str(f, 2, u->code);
	put_str(f, 3, u->short_name);
	put_str(f, 4, u->full_name);
	put_str(f, 5, u->intl);
}

static void
form_product(cml_fingerprinter *f, const cml_product *p)
{
	begin(f, CML_PART_PRODUCT);
	put_str(f, 1, p->id);
	put_str(f, 2, p->article);
	put_str(f, 3, p->barcode);
	put_str(f, 4, p->name);
	put_str(f, 5, p->full_name);
	put_str(f, 6, p->description);
	put_unit_ref(f, 7, &p->unit); /* 7..10 */
	put_strs(f, 11, p->groups, p->n_groups);
	put_strs(f, 12, p->pictures, p->n_pictures);
	put_str(f, 13, p->manufacturer_id);
	put_str(f, 14, p->manufacturer_name);
	put_str(f, 15, p->country);
	put_str(f, 16, p->category);
	put_props(f, 17, p->props, p->n_props);
	put_taxes(f, 18, p->taxes, p->n_taxes);
	put_pairs(f, 19, p->requisites, p->n_requisites);
	put_pairs(f, 20, p->characteristics, p->n_characteristics);
	if (!empty(p->weight))
		put_str(f, 21, p->weight);
	put_components(f, 22, p->components, p->n_components);
	put_convs(f, 23, p->unit.conversions, p->unit.n_conversions);
	if (!empty(p->geotag))
		put_str(f, 24, p->geotag);
}

/* (path, hash) of one reference, for sorting. */
typedef struct file_fp {
	const char *path;
	char hash[33];
} file_fp;

static int
cmp_file_fp(const void *x, const void *y)
{
	const file_fp *a = x, *b = y;
	int c = strcmp(a->path, b->path);

	return c != 0 ? c : strcmp(a->hash, b->hash);
}

/* The files field (25) of a product card that names files. */
static cml_status
put_files(cml_fingerprinter *f, const cml_item *it)
{
	const cml_ref *refs;
	size_t n;
	cml_status st = cml_attach_item(f->attach, it, &refs, &n);

	if (st != CML_OK || n == 0)
		return st;
	file_fp small[8], *v = n <= 8 ? small : cml_malloc(n * sizeof(*v));

	if (v == NULL)
		return CML_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		v[i].path = refs[i].path;
		if (refs[i].state == CML_REF_PRESENT)
			cml_fp_hex(refs[i].hash, v[i].hash);
		else
			memcpy(v[i].hash, "missing", sizeof("missing"));
	}
	qsort(v, n, sizeof(*v), cmp_file_fp);
	put_count(f, 25, n);
	for (size_t i = 0; i < n; i++) {
		put_str(f, 1, v[i].path);
		put_str(f, 2, v[i].hash);
	}
	if (v != small)
		cml_free(v);
	return CML_OK;
}

static void
form_offer_card(cml_fingerprinter *f, const cml_offer *o)
{
	begin(f, CML_PART_OFFER_CARD);
	put_str(f, 1, o->id);
	put_str(f, 2, o->article);
	put_str(f, 3, o->barcode);
	put_str(f, 4, o->name);
	put_unit_ref(f, 5, &o->unit); /* 5..8 */
	put_pairs(f, 9, o->characteristics, o->n_characteristics);
	put_props(f, 10, o->props, o->n_props);
	put_components(f, 11, o->components, o->n_components);
	put_convs(f, 12, o->unit.conversions, o->unit.n_conversions);
	if (!empty(o->geotag))
		put_str(f, 13, o->geotag);
}

static void
form_offer_prices(cml_fingerprinter *f, const cml_offer *o)
{
	begin(f, CML_PART_OFFER_PRICES);
	put_str(f, 1, o->id);
	put_prices(f, 2, o->prices, o->n_prices);
}

static void
form_offer_stock(cml_fingerprinter *f, const cml_offer *o)
{
	begin(f, CML_PART_OFFER_STOCK);
	put_str(f, 1, o->id);
	put_str(f, 2, o->quantity);
	put_stocks(f, 3, o->stocks, o->n_stocks);
}

/* ---- which parts an item has ---- */

static bool
has_unit_ref(const cml_unit_ref *u)
{
	return !empty(u->code) || !empty(u->name) || !empty(u->full_name) || !empty(u->intl);
}

/* An offer from prices___ or rests___ carries only those; its card is
 * present only when it says something a card says. */
static bool
offer_has_card(const cml_offer *o)
{
	return !empty(o->name) || !empty(o->article) || !empty(o->barcode) ||
	       has_unit_ref(&o->unit) || o->n_characteristics > 0 || o->n_props > 0 ||
	       o->n_components > 0 || o->unit.n_conversions > 0 || !empty(o->geotag);
}

static bool
offer_has_prices(const cml_offer *o)
{
	return o->has_prices || o->n_prices > 0;
}

static bool
offer_has_stock(const cml_offer *o)
{
	return o->has_stocks || o->n_stocks > 0 || o->quantity != NULL;
}

/*
 * The parts of an item, in order, into parts[]; returns how many, and
 * sets *id to the item's Ид. Items without an Ид, deleted items and
 * items of other kinds have none.
 */
static size_t
item_parts(const cml_item *it, cml_part parts[CML_MAX_PARTS], const char **id)
{
	size_t n = 0;

	*id = NULL;
	switch (it->kind) {
	case CML_ITEM_GROUP:
		if (empty(it->u.group.id) || it->u.group.deleted)
			return 0;
		*id = it->u.group.id;
		parts[n++] = CML_PART_GROUP;
		break;
	case CML_ITEM_PROPERTY:
		if (empty(it->u.property.id) || it->u.property.deleted)
			return 0;
		*id = it->u.property.id;
		parts[n++] = CML_PART_PROPERTY;
		break;
	case CML_ITEM_PRICE_TYPE:
		if (empty(it->u.price_type.id))
			return 0;
		*id = it->u.price_type.id;
		parts[n++] = CML_PART_PRICE_TYPE;
		break;
	case CML_ITEM_WAREHOUSE:
		if (empty(it->u.warehouse.id))
			return 0;
		*id = it->u.warehouse.id;
		parts[n++] = CML_PART_WAREHOUSE;
		break;
	case CML_ITEM_UNIT:
		if (empty(it->u.unit.id))
			return 0;
		*id = it->u.unit.id;
		parts[n++] = CML_PART_UNIT;
		break;
	case CML_ITEM_PRODUCT:
		if (empty(it->u.product.id) || it->u.product.deleted)
			return 0;
		*id = it->u.product.id;
		parts[n++] = CML_PART_PRODUCT;
		break;
	case CML_ITEM_OFFER: {
		const cml_offer *o = &it->u.offer;

		if (empty(o->id) || o->deleted)
			return 0;
		*id = o->id;
		if (offer_has_card(o))
			parts[n++] = CML_PART_OFFER_CARD;
		if (offer_has_prices(o))
			parts[n++] = CML_PART_OFFER_PRICES;
		if (offer_has_stock(o))
			parts[n++] = CML_PART_OFFER_STOCK;
		break;
	}
	default:
		break;
	}
	return n;
}

/* Builds the form of one part the item is known to have. */
static cml_status
form(cml_fingerprinter *f, const cml_item *it, cml_part part)
{
	switch (part) {
	case CML_PART_GROUP:
		form_group(f, &it->u.group);
		break;
	case CML_PART_PROPERTY:
		form_property(f, &it->u.property);
		break;
	case CML_PART_PRICE_TYPE:
		form_price_type(f, &it->u.price_type);
		break;
	case CML_PART_WAREHOUSE:
		form_warehouse(f, &it->u.warehouse);
		break;
	case CML_PART_UNIT:
		form_unit(f, &it->u.unit);
		break;
	case CML_PART_PRODUCT:
		form_product(f, &it->u.product);
		if (f->attach != NULL && !f->nomem) {
			cml_status st = put_files(f, it);

			if (st != CML_OK) {
				f->buf.len = 0;
				return st;
			}
		}
		break;
	case CML_PART_OFFER_CARD:
		form_offer_card(f, &it->u.offer);
		break;
	case CML_PART_OFFER_PRICES:
		form_offer_prices(f, &it->u.offer);
		break;
	case CML_PART_OFFER_STOCK:
		form_offer_stock(f, &it->u.offer);
		break;
	default:
		return CML_ERR_USAGE;
	}
	if (f->nomem) {
		f->nomem = false;
		f->buf.len = 0;
		if (f->buf.data != NULL)
			f->buf.data[0] = '\0';
		return CML_ERR_NOMEM;
	}
	f->buf.data[f->buf.len] = '\0'; /* the cml_buf invariant */
	return CML_OK;
}

cml_status
cml_fingerprint_item(cml_fingerprinter *f, const cml_item *item, cml_part_fp out[CML_MAX_PARTS],
                     size_t *n)
{
	cml_part parts[CML_MAX_PARTS];
	const char *id;
	size_t np;

	if (n != NULL)
		*n = 0;
	if (f == NULL || item == NULL || out == NULL || n == NULL)
		return CML_ERR_USAGE;
	np = item_parts(item, parts, &id);
	if (item->kind == CML_ITEM_PRICE_TYPE && np > 0 &&
	    see_price_type(f, &item->u.price_type) != CML_OK)
		return CML_ERR_NOMEM;
	for (size_t i = 0; i < np; i++) {
		cml_status st = form(f, item, parts[i]);

		if (st != CML_OK)
			return st; /* *n stays 0: no half-result */
		XXH128_hash_t h = XXH3_128bits(f->buf.data, f->buf.len);
		out[i].part = parts[i];
		out[i].id = id;
		out[i].fp.hi = h.high64;
		out[i].fp.lo = h.low64;
	}
	*n = np;
	return CML_OK;
}

cml_status
cml_fingerprint_canonical(cml_fingerprinter *f, const cml_item *item, cml_part part,
                          const unsigned char **bytes, size_t *len)
{
	cml_part parts[CML_MAX_PARTS];
	const char *id;
	size_t np;
	cml_status st;

	if (bytes != NULL)
		*bytes = NULL;
	if (len != NULL)
		*len = 0;
	if (f == NULL || item == NULL || bytes == NULL || len == NULL)
		return CML_ERR_USAGE;
	np = item_parts(item, parts, &id);
	for (size_t i = 0; i < np; i++) {
		if (parts[i] != part)
			continue;
		if ((st = form(f, item, part)) != CML_OK)
			return st;
		*bytes = (const unsigned char *)f->buf.data;
		*len = f->buf.len;
		return CML_OK;
	}
	return CML_ERR_USAGE;
}

void
cml_fp_hex(cml_fp fp, char out[33])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[i] = digits[(fp.hi >> (60 - 4 * i)) & 0xF];
		out[16 + i] = digits[(fp.lo >> (60 - 4 * i)) & 0xF];
	}
	out[32] = '\0';
}
