/*
 * dump.c: the canonical JSON form of an item (see dump.h).
 *
 * A line is built in a buffer and written with one fwrite, so a line is
 * either written whole or reported as failed. Keys follow the struct
 * declarations of model.h; a field that says nothing (NULL string, false
 * bool, unset tristate, empty array, zero count) is left out, so that two
 * readers that agree on the content agree on the bytes.
 */
#include <stdio.h>
#include <string.h>

#include "cml/dump.h"
#include "cml_private.h"

typedef struct jw {
	cml_buf b;
	bool oom;    /* an append failed: the line is lost */
	bool first;  /* no member written yet in the current object */
} jw;

static void
put(jw *w, const char *s, size_t n)
{
	if (!w->oom && !cml_buf_append(&w->b, s, n))
		w->oom = true;
}

#define PUTLIT(w, lit) put((w), (lit), sizeof(lit) - 1)

/* A JSON string: runs of plain bytes are copied in one append. */
static void
put_string(jw *w, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), run = 0, i = 0;

	PUTLIT(w, "\"");
	while (i < n) {
		unsigned char c = s[i];
		size_t k;

		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			i++;
			run++;
			continue;
		}
		unsigned long cp;
		if (c >= 0x80 && (k = cml_utf8_decode(s + i, n - i, &cp)) != 0) {
			i += k;
			run += k;
			continue;
		}
		put(w, (const char *)s + i - run, run);
		run = 0;
		switch (c) {
		case '"': PUTLIT(w, "\\\""); break;
		case '\\': PUTLIT(w, "\\\\"); break;
		case '\n': PUTLIT(w, "\\n"); break;
		case '\t': PUTLIT(w, "\\t"); break;
		case '\r': PUTLIT(w, "\\r"); break;
		case '\b': PUTLIT(w, "\\b"); break;
		case '\f': PUTLIT(w, "\\f"); break;
		default:
			if (c < 0x20) {
				char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

				put(w, u, sizeof(u));
			} else {
				PUTLIT(w, "\\ufffd"); /* a byte that is no UTF-8 */
			}
			break;
		}
		i++;
	}
	put(w, (const char *)s + i - run, run);
	PUTLIT(w, "\"");
}

bool
cml_json_string(cml_buf *b, const char *s)
{
	jw w = { .b = *b, .oom = false, .first = true };

	put_string(&w, s);
	*b = w.b;
	return !w.oom;
}

static void
key(jw *w, const char *k)
{
	if (!w->first)
		PUTLIT(w, ",");
	w->first = false;
	PUTLIT(w, "\"");
	put(w, k, strlen(k));
	PUTLIT(w, "\":");
}

/* Objects nest on the C stack: the caller keeps what obj_begin returns. */
static bool
obj_begin(jw *w)
{
	bool saved = w->first;

	PUTLIT(w, "{");
	w->first = true;
	return saved;
}

static void
obj_end(jw *w, bool saved)
{
	PUTLIT(w, "}");
	w->first = saved;
}

static void
f_str(jw *w, const char *k, const char *v)
{
	if (v == NULL)
		return;
	key(w, k);
	put_string(w, v);
}

static void
f_bool(jw *w, const char *k, bool v)
{
	if (!v)
		return;
	key(w, k);
	PUTLIT(w, "true");
}

static void
f_tri(jw *w, const char *k, cml_tristate v)
{
	if (v == CML_TRUE) {
		key(w, k);
		PUTLIT(w, "true");
	} else if (v == CML_FALSE) {
		key(w, k);
		PUTLIT(w, "false");
	}
}

static void
f_uint(jw *w, const char *k, unsigned v)
{
	char num[24];
	int len;

	if (v == 0)
		return;
	key(w, k);
	len = snprintf(num, sizeof(num), "%u", v);
	if (len > 0)
		put(w, num, (size_t)len);
}

static void
f_status(jw *w, const char *k, cml_item_status st)
{
	switch (st) {
	case CML_STATUS_NEW: f_str(w, k, "new"); break;
	case CML_STATUS_CHANGED: f_str(w, k, "changed"); break;
	case CML_STATUS_DELETED: f_str(w, k, "deleted"); break;
	case CML_STATUS_NONE: break;
	}
}

static void
f_strings(jw *w, const char *k, const char *const *v, size_t n)
{
	if (n == 0 || v == NULL)
		return;
	key(w, k);
	PUTLIT(w, "[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			PUTLIT(w, ",");
		if (v[i] != NULL)
			put_string(w, v[i]);
		else
			PUTLIT(w, "null");
	}
	PUTLIT(w, "]");
}

/*
 * Arrays of structs: one emitter per element type, and a macro that
 * writes the array around it.
 */
#define F_ARRAY(w, k, arr, n, emit)                               \
	do {                                                      \
		if ((n) != 0 && (arr) != NULL) {                  \
			key((w), (k));                            \
			PUTLIT((w), "[");                         \
			for (size_t i_ = 0; i_ < (n); i_++) {     \
				if (i_ > 0)                       \
					PUTLIT((w), ",");         \
				emit((w), &(arr)[i_]);            \
			}                                         \
			PUTLIT((w), "]");                         \
		}                                                 \
	} while (0)

static void
e_pair(jw *w, const cml_pair *p)
{
	bool s = obj_begin(w);

	f_str(w, "name", p->name);
	f_str(w, "value", p->value);
	obj_end(w, s);
}

static void
e_prop_value(jw *w, const cml_prop_value *p)
{
	bool s = obj_begin(w);

	f_str(w, "id", p->id);
	f_str(w, "value", p->value);
	obj_end(w, s);
}

static void
e_tax(jw *w, const cml_tax *t)
{
	bool s = obj_begin(w);

	f_str(w, "name", t->name);
	f_str(w, "rate", t->rate);
	f_str(w, "sum", t->sum);
	f_tri(w, "in_sum", t->in_sum);
	obj_end(w, s);
}

static void
e_discount(jw *w, const cml_discount *d)
{
	bool s = obj_begin(w);

	f_str(w, "name", d->name);
	f_str(w, "sum", d->sum);
	f_str(w, "percent", d->percent);
	f_tri(w, "in_sum", d->in_sum);
	obj_end(w, s);
}

static void
e_variant(jw *w, const cml_variant *v)
{
	bool s = obj_begin(w);

	f_str(w, "id", v->id);
	f_str(w, "value", v->value);
	obj_end(w, s);
}

static void
e_price(jw *w, const cml_price *p)
{
	bool s = obj_begin(w);

	f_str(w, "type_id", p->type_id);
	f_str(w, "presentation", p->presentation);
	f_str(w, "value", p->value);
	f_str(w, "currency", p->currency);
	f_str(w, "unit", p->unit);
	f_str(w, "coefficient", p->coefficient);
	f_str(w, "tax_name", p->tax_name);
	f_tri(w, "tax_in_sum", p->tax_in_sum);
	obj_end(w, s);
}

static void
e_stock(jw *w, const cml_stock *st)
{
	bool s = obj_begin(w);

	f_str(w, "warehouse_id", st->warehouse_id);
	f_str(w, "quantity", st->quantity);
	obj_end(w, s);
}

static void
e_representative(jw *w, const cml_representative *r)
{
	bool s = obj_begin(w);

	f_str(w, "relation", r->relation);
	f_str(w, "id", r->id);
	f_str(w, "name", r->name);
	F_ARRAY(w, "contacts", r->contacts, r->n_contacts, e_pair);
	obj_end(w, s);
}

static void
e_account(jw *w, const cml_bank_account *a)
{
	bool s = obj_begin(w);

	f_str(w, "number", a->number);
	f_str(w, "bank_name", a->bank_name);
	f_str(w, "bank_bik", a->bank_bik);
	f_str(w, "bank_corr_account", a->bank_corr_account);
	f_str(w, "bank_address", a->bank_address);
	obj_end(w, s);
}

static void
e_payment(jw *w, const cml_payment *p)
{
	bool s = obj_begin(w);

	f_str(w, "number", p->number);
	f_str(w, "transaction", p->transaction);
	f_str(w, "date", p->date);
	f_str(w, "sum", p->sum);
	f_str(w, "method", p->method);
	f_str(w, "method_id", p->method_id);
	obj_end(w, s);
}

static void
e_doc_warehouse(jw *w, const cml_doc_warehouse *h)
{
	bool s = obj_begin(w);

	f_str(w, "id", h->id);
	f_str(w, "name", h->name);
	obj_end(w, s);
}

static void
e_unit_conv(jw *w, const cml_unit_conv *c)
{
	bool s = obj_begin(w);

	f_str(w, "unit", c->unit);
	f_str(w, "coefficient", c->coefficient);
	obj_end(w, s);
}

static void
e_component(jw *w, const cml_component *c)
{
	bool s = obj_begin(w);

	f_str(w, "id", c->id);
	f_str(w, "name", c->name);
	f_str(w, "quantity", c->quantity);
	obj_end(w, s);
}

static void
f_unit_ref(jw *w, const char *k, const cml_unit_ref *u)
{
	if (u->code == NULL && u->name == NULL && u->full_name == NULL &&
	    u->intl == NULL && u->n_conversions == 0)
		return;
	key(w, k);
	bool s = obj_begin(w);
	f_str(w, "code", u->code);
	f_str(w, "name", u->name);
	f_str(w, "full_name", u->full_name);
	f_str(w, "intl", u->intl);
	F_ARRAY(w, "conversions", u->conversions, u->n_conversions, e_unit_conv);
	obj_end(w, s);
}

static void
f_address(jw *w, const char *k, const cml_address *a)
{
	if (a->presentation == NULL && (a->n_fields == 0 || a->fields == NULL))
		return;
	key(w, k);
	bool s = obj_begin(w);
	f_str(w, "presentation", a->presentation);
	F_ARRAY(w, "fields", a->fields, a->n_fields, e_pair);
	obj_end(w, s);
}

/* The members of a counterparty, without the braces: documents nest it. */
static void
counterparty_fields(jw *w, const cml_counterparty *c)
{
	f_str(w, "id", c->id);
	f_str(w, "version", c->version);
	f_bool(w, "deleted", c->deleted);
	f_str(w, "name", c->name);
	f_str(w, "official_name", c->official_name);
	f_str(w, "full_name", c->full_name);
	f_str(w, "last_name", c->last_name);
	f_str(w, "first_name", c->first_name);
	f_str(w, "middle_name", c->middle_name);
	f_str(w, "role", c->role);
	f_str(w, "inn", c->inn);
	f_str(w, "kpp", c->kpp);
	f_str(w, "okpo", c->okpo);
	f_address(w, "reg_address", &c->reg_address);
	f_address(w, "legal_address", &c->legal_address);
	f_address(w, "address", &c->address);
	F_ARRAY(w, "contacts", c->contacts, c->n_contacts, e_pair);
	F_ARRAY(w, "representatives", c->representatives, c->n_representatives,
	        e_representative);
	F_ARRAY(w, "accounts", c->accounts, c->n_accounts, e_account);
	f_tri(w, "only_changes", c->only_changes);
}

static void
e_counterparty(jw *w, const cml_counterparty *c)
{
	bool s = obj_begin(w);

	counterparty_fields(w, c);
	obj_end(w, s);
}

static void
e_doc_line(jw *w, const cml_doc_line *l)
{
	bool s = obj_begin(w);

	f_str(w, "id", l->id);
	f_str(w, "catalog_id", l->catalog_id);
	f_str(w, "article", l->article);
	f_str(w, "name", l->name);
	f_unit_ref(w, "unit", &l->unit);
	f_unit_ref(w, "line_unit", &l->line_unit);
	f_str(w, "price", l->price);
	f_str(w, "quantity", l->quantity);
	f_str(w, "sum", l->sum);
	f_str(w, "coefficient", l->coefficient);
	F_ARRAY(w, "characteristics", l->characteristics, l->n_characteristics, e_pair);
	F_ARRAY(w, "requisites", l->requisites, l->n_requisites, e_pair);
	F_ARRAY(w, "taxes", l->taxes, l->n_taxes, e_tax);
	F_ARRAY(w, "tax_rates", l->tax_rates, l->n_tax_rates, e_tax);
	F_ARRAY(w, "discounts", l->discounts, l->n_discounts, e_discount);
	f_strings(w, "groups", l->groups, l->n_groups);
	obj_end(w, s);
}

static void
dump_file(jw *w, const cml_file_info *f)
{
	f_str(w, "schema_version", f->schema_version);
	f_str(w, "generated", f->generated);
	f_str(w, "declared_encoding", f->declared_encoding);
	f_str(w, "encoding", f->encoding);
	f_bool(w, "bom", f->bom);
	f_str(w, "root_id", f->root_id);
	f_str(w, "namespace_uri", f->namespace_uri);
}

static void
dump_classifier(jw *w, const cml_classifier *c)
{
	f_str(w, "id", c->id);
	f_str(w, "name", c->name);
	f_str(w, "owner_id", c->owner_id);
	f_str(w, "owner_name", c->owner_name);
	f_tri(w, "only_changes", c->only_changes);
}

static void
dump_group(jw *w, const cml_group *g)
{
	f_str(w, "id", g->id);
	f_str(w, "parent_id", g->parent_id);
	f_str(w, "name", g->name);
	f_str(w, "description", g->description);
	f_str(w, "version", g->version);
	f_bool(w, "deleted", g->deleted);
	f_uint(w, "depth", g->depth);
}

static void
dump_property(jw *w, const cml_property *p)
{
	f_str(w, "id", p->id);
	f_str(w, "name", p->name);
	f_str(w, "value_type", p->value_type);
	f_str(w, "type", p->type);
	f_str(w, "version", p->version);
	f_bool(w, "deleted", p->deleted);
	f_tri(w, "required", p->required);
	f_tri(w, "multiple", p->multiple);
	f_tri(w, "for_products", p->for_products);
	f_tri(w, "for_offers", p->for_offers);
	f_tri(w, "for_documents", p->for_documents);
	F_ARRAY(w, "variants", p->variants, p->n_variants, e_variant);
}

static void
dump_price_type(jw *w, const cml_price_type *p)
{
	f_str(w, "id", p->id);
	f_str(w, "name", p->name);
	f_str(w, "currency", p->currency);
	f_str(w, "tax_name", p->tax_name);
	f_tri(w, "tax_in_sum", p->tax_in_sum);
	f_str(w, "tax_excise", p->tax_excise);
}

static void
dump_warehouse(jw *w, const cml_warehouse *h)
{
	f_str(w, "id", h->id);
	f_str(w, "name", h->name);
	f_str(w, "address", h->address);
	f_str(w, "comment", h->comment);
	F_ARRAY(w, "contacts", h->contacts, h->n_contacts, e_pair);
}

static void
dump_unit(jw *w, const cml_unit *u)
{
	f_str(w, "id", u->id);
	f_str(w, "code", u->code);
	f_str(w, "short_name", u->short_name);
	f_str(w, "full_name", u->full_name);
	f_str(w, "intl", u->intl);
}

static void
dump_catalog(jw *w, const cml_catalog *c)
{
	f_str(w, "id", c->id);
	f_str(w, "classifier_id", c->classifier_id);
	f_str(w, "name", c->name);
	f_str(w, "description", c->description);
	f_str(w, "owner_id", c->owner_id);
	f_str(w, "owner_name", c->owner_name);
	f_tri(w, "only_changes", c->only_changes);
}

static void
dump_product(jw *w, const cml_product *p)
{
	f_str(w, "id", p->id);
	f_str(w, "article", p->article);
	f_str(w, "barcode", p->barcode);
	f_str(w, "name", p->name);
	f_str(w, "full_name", p->full_name);
	f_str(w, "description", p->description);
	f_str(w, "version", p->version);
	f_unit_ref(w, "unit", &p->unit);
	f_strings(w, "groups", p->groups, p->n_groups);
	f_strings(w, "pictures", p->pictures, p->n_pictures);
	f_str(w, "manufacturer_id", p->manufacturer_id);
	f_str(w, "manufacturer_name", p->manufacturer_name);
	f_str(w, "country", p->country);
	f_str(w, "category", p->category);
	F_ARRAY(w, "props", p->props, p->n_props, e_prop_value);
	F_ARRAY(w, "taxes", p->taxes, p->n_taxes, e_tax);
	F_ARRAY(w, "requisites", p->requisites, p->n_requisites, e_pair);
	F_ARRAY(w, "characteristics", p->characteristics, p->n_characteristics, e_pair);
	f_str(w, "weight", p->weight);
	F_ARRAY(w, "components", p->components, p->n_components, e_component);
	f_str(w, "geotag", p->geotag);
	f_status(w, "status", p->status);
	f_bool(w, "deleted", p->deleted);
}

static void
dump_package(jw *w, const cml_offers_package *p)
{
	f_str(w, "id", p->id);
	f_str(w, "name", p->name);
	f_str(w, "catalog_id", p->catalog_id);
	f_str(w, "classifier_id", p->classifier_id);
	f_str(w, "owner_id", p->owner_id);
	f_str(w, "owner_name", p->owner_name);
	f_tri(w, "only_changes", p->only_changes);
}

static void
dump_offer(jw *w, const cml_offer *o)
{
	f_str(w, "id", o->id);
	f_str(w, "product_id", o->product_id);
	f_str(w, "char_id", o->char_id);
	f_str(w, "article", o->article);
	f_str(w, "barcode", o->barcode);
	f_str(w, "name", o->name);
	f_str(w, "version", o->version);
	f_unit_ref(w, "unit", &o->unit);
	F_ARRAY(w, "characteristics", o->characteristics, o->n_characteristics, e_pair);
	F_ARRAY(w, "props", o->props, o->n_props, e_prop_value);
	F_ARRAY(w, "prices", o->prices, o->n_prices, e_price);
	f_bool(w, "has_prices", o->has_prices);
	f_str(w, "quantity", o->quantity);
	F_ARRAY(w, "stocks", o->stocks, o->n_stocks, e_stock);
	f_bool(w, "has_stocks", o->has_stocks);
	F_ARRAY(w, "components", o->components, o->n_components, e_component);
	f_str(w, "geotag", o->geotag);
	f_status(w, "status", o->status);
	f_bool(w, "deleted", o->deleted);
}

static void
dump_document(jw *w, const cml_document *d)
{
	f_str(w, "id", d->id);
	f_str(w, "number", d->number);
	f_str(w, "date", d->date);
	f_str(w, "time", d->time);
	f_str(w, "operation", d->operation);
	f_str(w, "role", d->role);
	f_str(w, "currency", d->currency);
	f_str(w, "rate", d->rate);
	f_str(w, "sum", d->sum);
	f_str(w, "comment", d->comment);
	f_str(w, "version", d->version);
	f_str(w, "number_1c", d->number_1c);
	f_str(w, "date_1c", d->date_1c);
	f_str(w, "due_date", d->due_date);
	f_str(w, "basis", d->basis);
	f_bool(w, "deleted", d->deleted);
	f_uint(w, "container", d->container);
	F_ARRAY(w, "counterparties", d->counterparties, d->n_counterparties,
	        e_counterparty);
	F_ARRAY(w, "lines", d->lines, d->n_lines, e_doc_line);
	F_ARRAY(w, "taxes", d->taxes, d->n_taxes, e_tax);
	F_ARRAY(w, "discounts", d->discounts, d->n_discounts, e_discount);
	F_ARRAY(w, "requisites", d->requisites, d->n_requisites, e_pair);
	F_ARRAY(w, "payments", d->payments, d->n_payments, e_payment);
	F_ARRAY(w, "warehouses", d->warehouses, d->n_warehouses, e_doc_warehouse);
}

/* The line of item into w; CML_ERR_USAGE for a kind that has none. */
static cml_status
build(jw *wp, const cml_item *item)
{
	jw w = *wp;
	const char *kind;

	if (item == NULL || (kind = cml_kind_name(item->kind)) == NULL ||
	    item->kind == CML_ITEM_NONE)
		return CML_ERR_USAGE;
	PUTLIT(&w, "{");
	f_str(&w, "kind", kind);
	switch (item->kind) {
	case CML_ITEM_FILE: dump_file(&w, &item->u.file); break;
	case CML_ITEM_CLASSIFIER: dump_classifier(&w, &item->u.classifier); break;
	case CML_ITEM_GROUP: dump_group(&w, &item->u.group); break;
	case CML_ITEM_PROPERTY: dump_property(&w, &item->u.property); break;
	case CML_ITEM_PRICE_TYPE: dump_price_type(&w, &item->u.price_type); break;
	case CML_ITEM_WAREHOUSE: dump_warehouse(&w, &item->u.warehouse); break;
	case CML_ITEM_UNIT: dump_unit(&w, &item->u.unit); break;
	case CML_ITEM_CATALOG: dump_catalog(&w, &item->u.catalog); break;
	case CML_ITEM_PRODUCT: dump_product(&w, &item->u.product); break;
	case CML_ITEM_OFFERS_PACKAGE: dump_package(&w, &item->u.package); break;
	case CML_ITEM_OFFER: dump_offer(&w, &item->u.offer); break;
	case CML_ITEM_DOCUMENT: dump_document(&w, &item->u.document); break;
	case CML_ITEM_COUNTERPARTY:
		counterparty_fields(&w, &item->u.counterparty);
		break;
	case CML_ITEM_NONE:
	case CML_ITEM_KIND_COUNT:
		break;
	}
	PUTLIT(&w, "}\n");
	*wp = w;
	return w.oom ? CML_ERR_NOMEM : CML_OK;
}

cml_status
cml_item_dump_buf(const cml_item *item, cml_buf *b)
{
	jw w = { .b = *b, .oom = false, .first = true };
	cml_status st = build(&w, item);

	*b = w.b;
	return st;
}

cml_status
cml_item_dump_json(const cml_item *item, FILE *fp)
{
	jw w = { .b = { NULL, 0, 0 }, .oom = false, .first = true };
	cml_status st = CML_ERR_USAGE;

	if (fp != NULL && (st = build(&w, item)) == CML_OK &&
	    (fwrite(w.b.data, 1, w.b.len, fp) != w.b.len || ferror(fp)))
		st = CML_ERR_IO;
	cml_buf_free(&w.b);
	return st;
}

cml_status
cml_item_content_hash(const cml_item *item, uint64_t *hash)
{
	jw w = { .b = { NULL, 0, 0 }, .oom = false, .first = true };
	cml_status st = build(&w, item);
	/* FNV-1a over the line, then a final mix, as cml_id_hash */
	uint64_t h = 0xcbf29ce484222325ULL;

	if (st == CML_OK) {
		for (size_t i = 0; i < w.b.len; i++) {
			h ^= (unsigned char)w.b.data[i];
			h *= 0x100000001b3ULL;
		}
		h ^= h >> 33;
		h *= 0xff51afd7ed558ccdULL;
		h ^= h >> 33;
		*hash = h;
	}
	cml_buf_free(&w.b);
	return st;
}
