/*
 * diff.c: the comparison with the baseline (see diff.h).
 *
 * Memory: two sets of Ид hashes (products and offers seen, for the
 * deletions of a whole input), the three headers, and with opts.preload
 * the baseline itself as 16 bytes a part. Everything else streams: each
 * item is fingerprinted, looked up, written and recorded before the next
 * one is read.
 */
#include <string.h>

#include "cml/attach.h"
#include "cml/diff.h"
#include "cml/idset.h"
#include "cml_private.h"

/*
 * The baseline in memory: (part, Ид) and its fingerprint, each folded to
 * 64 bits. Two keys with one hash, or a change that leaves 64 bits of a
 * 128-bit fingerprint alone, would go unseen: about n^2 / 2^65, less than
 * one in a million for the 4M parts of a 1M-product catalog. Open
 * addressing, sized once from the baseline's count (load 0.8).
 */
struct bmap {
	uint64_t *keys; /* 0: empty */
	uint64_t *vals;
	size_t cap;
};

static uint64_t
bkey(cml_part part, const char *id)
{
	uint64_t h = cml_id_hash(id) ^ ((uint64_t)part * 0x9E3779B97F4A7C15ULL);

	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 29;
	return h ? h : 1;
}

static uint64_t
bval(const cml_fp *fp)
{
	return fp->lo ^ (fp->hi * 0x94d049bb133111ebULL);
}

static size_t
bslot(const struct bmap *m, uint64_t key)
{
	return (size_t)(((unsigned __int128)key * m->cap) >> 64);
}

struct cml_diff {
	cml_diff_opts o;
	struct bmap base;
	bool preloaded;
	/* Parts of the baseline (from the preload) and how many of them the
	 * input had, each Ид counted once: when the two are equal nothing
	 * can be absent, and the scan for deletions is skipped. */
	int64_t base_count[CML_PART_COUNT];
	int64_t base_found[CML_PART_COUNT];
	int64_t gen;
	cml_fingerprinter *fpr;
	cml_idset *seen_products;
	cml_idset *seen_offers;
	cml_idset *deleted_offers; /* offers already written as deleted */
	cml_idset *seen_prices;    /* offers the input gave prices */
	cml_idset *seen_stock;     /* offers the input gave stock */
	bool missing_prices, missing_stock; /* whole, yet no offer had them */
	cml_diff_counts counts;

	/* headers, held until we know whether anything changed */
	cml_arena head_arena[3];
	cml_item head[3];
	bool have_head[3];
	cml_tristate catalog_whole;  /* from Каталог headers */
	cml_tristate package_whole;  /* from ПакетПредложений headers */
	bool saw_catalog, saw_package;
	bool empty_catalog, empty_package; /* whole headers, nothing under them */

	char errmsg[CML_ERRMSG_MAX];
};

enum { H_CLASSIFIER, H_CATALOG, H_PACKAGE };

static cml_status preload(cml_diff *d);

cml_diff *
cml_diff_new(const cml_diff_opts *opts)
{
	cml_diff *d;

	if (opts == NULL || opts->store == NULL)
		return NULL;
	d = cml_calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->o = *opts;
	for (int i = 0; i < 3; i++)
		cml_arena_init(&d->head_arena[i]);
	d->fpr = cml_fingerprinter_new();
	d->seen_products = cml_idset_new();
	d->seen_offers = cml_idset_new();
	d->deleted_offers = cml_idset_new();
	d->seen_prices = cml_idset_new();
	d->seen_stock = cml_idset_new();
	cml_fingerprinter_set_attach(d->fpr, opts->attach);
	if (d->fpr == NULL || d->seen_products == NULL || d->seen_offers == NULL ||
	    d->deleted_offers == NULL || d->seen_prices == NULL || d->seen_stock == NULL ||
	    (opts->preload && preload(d) != CML_OK)) {
		cml_diff_free(d);
		return NULL;
	}
	return d;
}

void
cml_diff_free(cml_diff *d)
{
	if (d == NULL)
		return;
	cml_fingerprinter_free(d->fpr);
	cml_idset_free(d->seen_products);
	cml_idset_free(d->seen_offers);
	cml_idset_free(d->deleted_offers);
	cml_idset_free(d->seen_prices);
	cml_idset_free(d->seen_stock);
	cml_free(d->base.keys);
	cml_free(d->base.vals);
	for (int i = 0; i < 3; i++)
		cml_arena_destroy(&d->head_arena[i]);
	cml_free(d);
}

const cml_diff_counts *
cml_diff_get_counts(const cml_diff *d)
{
	return &d->counts;
}

bool
cml_diff_changed(const cml_diff *d)
{
	for (int p = 0; p < CML_PART_COUNT; p++)
		if (d->counts.added[p] || d->counts.changed[p] || d->counts.deleted[p])
			return true;
	return false;
}

int64_t
cml_diff_gen(const cml_diff *d)
{
	return d->gen;
}

const char *
cml_diff_errmsg(const cml_diff *d)
{
	return d->errmsg;
}

static cml_status
fail(cml_diff *d, cml_status st, const char *what, const char *detail)
{
	cml_msg_set(d->errmsg, sizeof(d->errmsg), "%s: %s", what, detail);
	return st;
}

/* Reads the whole baseline into d->base. */
static cml_status
preload(cml_diff *d)
{
	struct bmap *m = &d->base;
	int64_t n = 0;
	void *cursor = NULL;
	cml_part part;
	const char *id;
	cml_fp fp;
	cml_status st;

	if ((st = cml_store_baseline_count(d->o.store, &n)) != CML_OK)
		return fail(d, st, "store", cml_store_errmsg(d->o.store));
	m->cap = (size_t)n + (size_t)n / 4 + 16;
	m->keys = cml_calloc(m->cap, sizeof(*m->keys));
	m->vals = cml_calloc(m->cap, sizeof(*m->vals));
	if (m->keys == NULL || m->vals == NULL)
		return fail(d, CML_ERR_NOMEM, "diff", "out of memory for the baseline");
	while ((st = cml_store_baseline_scan(d->o.store, &cursor, &part, &id, &fp)) == CML_OK) {
		uint64_t k = bkey(part, id);
		size_t i = bslot(m, k);

		while (m->keys[i] != 0 && m->keys[i] != k)
			i = i + 1 < m->cap ? i + 1 : 0;
		if (m->keys[i] == 0)
			d->base_count[part]++;
		m->keys[i] = k;
		m->vals[i] = bval(&fp);
	}
	cml_store_baseline_end(d->o.store, &cursor);
	if (st != CML_END)
		return fail(d, st, "store", cml_store_errmsg(d->o.store));
	d->preloaded = true;
	return CML_OK;
}

/* Is (part, id) in the baseline, and with the fingerprint cur (NULL: any)? */
static cml_status
base_find(cml_diff *d, cml_part part, const char *id, const cml_fp *cur, bool *found,
          bool *same)
{
	*found = *same = false;
	if (d->preloaded) {
		const struct bmap *m = &d->base;
		uint64_t k = bkey(part, id);
		size_t i = bslot(m, k);

		while (m->keys[i] != 0) {
			if (m->keys[i] == k) {
				*found = true;
				*same = cur != NULL && m->vals[i] == bval(cur);
				return CML_OK;
			}
			i = i + 1 < m->cap ? i + 1 : 0;
		}
		return CML_OK;
	}
	cml_fp old;
	cml_status st = cml_store_baseline_get(d->o.store, part, id, &old);
	if (st == CML_END)
		return CML_OK;
	if (st != CML_OK)
		return fail(d, st, "store", cml_store_errmsg(d->o.store));
	*found = true;
	*same = cur != NULL && cml_fp_equal(old, *cur);
	return CML_OK;
}

/* ---- headers ---- */

static bool
hdup(cml_arena *a, const char **s)
{
	if (*s == NULL)
		return true;
	*s = cml_arena_strdup(a, *s);
	return *s != NULL;
}

static cml_status
keep_header(cml_diff *d, int h, const cml_item *it)
{
	cml_arena *a = &d->head_arena[h];
	cml_item *c = &d->head[h];
	bool ok = true;

	cml_arena_reset(a);
	*c = *it;
	c->origin.file = NULL;
	switch (it->kind) {
	case CML_ITEM_CLASSIFIER:
		ok = hdup(a, &c->u.classifier.id) && hdup(a, &c->u.classifier.name) &&
		     hdup(a, &c->u.classifier.owner_id) && hdup(a, &c->u.classifier.owner_name);
		break;
	case CML_ITEM_CATALOG:
		ok = hdup(a, &c->u.catalog.id) && hdup(a, &c->u.catalog.classifier_id) &&
		     hdup(a, &c->u.catalog.name) && hdup(a, &c->u.catalog.description) &&
		     hdup(a, &c->u.catalog.owner_id) && hdup(a, &c->u.catalog.owner_name);
		break;
	case CML_ITEM_OFFERS_PACKAGE:
		ok = hdup(a, &c->u.package.id) && hdup(a, &c->u.package.name) &&
		     hdup(a, &c->u.package.catalog_id) && hdup(a, &c->u.package.classifier_id) &&
		     hdup(a, &c->u.package.owner_id) && hdup(a, &c->u.package.owner_name);
		break;
	default:
		break;
	}
	if (!ok)
		return fail(d, CML_ERR_NOMEM, "diff", "out of memory");
	d->have_head[h] = true;
	return CML_OK;
}

/* A whole input says so by not saying СодержитТолькоИзменения="true". */
static void
note_whole(cml_tristate *whole, cml_tristate only_changes)
{
	if (only_changes == CML_TRUE)
		*whole = CML_FALSE;
	else if (*whole == CML_UNSET)
		*whole = CML_TRUE;
}

/* ---- writing ---- */

static cml_status
write_item(cml_diff *d, const cml_item *it)
{
	cml_status st;

	if (d->o.writer == NULL)
		return CML_OK;
	st = cml_writer_add(d->o.writer, it);
	if (st != CML_OK)
		return fail(d, st, "writer", cml_writer_errmsg(d->o.writer));
	d->counts.written++;
	return CML_OK;
}

static cml_status
record(cml_diff *d, cml_part part, const char *id, const cml_fp *fp, bool deleted)
{
	cml_status st;

	if (!d->o.record)
		return CML_OK;
	if (d->gen == 0) {
		st = cml_store_gen_new(d->o.store, d->o.kind, d->o.package, &d->gen);
		if (st != CML_OK)
			return fail(d, st, "store", cml_store_errmsg(d->o.store));
	}
	st = cml_store_gen_put(d->o.store, d->gen, part, id, fp, deleted);
	if (st != CML_OK)
		return fail(d, st, "store", cml_store_errmsg(d->o.store));
	return CML_OK;
}

/* Keeps of an offer only the parts in want (indexed by cml_part). */
static void
offer_only(cml_offer *o, const bool want[CML_PART_COUNT])
{
	if (!want[CML_PART_OFFER_CARD]) {
		o->article = o->barcode = o->name = NULL;
		memset(&o->unit, 0, sizeof(o->unit));
		o->characteristics = NULL;
		o->n_characteristics = 0;
		o->props = NULL;
		o->n_props = 0;
	}
	if (!want[CML_PART_OFFER_PRICES]) {
		o->prices = NULL;
		o->n_prices = 0;
		o->has_prices = false;
	}
	if (!want[CML_PART_OFFER_STOCK]) {
		o->stocks = NULL;
		o->n_stocks = 0;
		o->has_stocks = false;
		o->quantity = NULL;
	}
}

/* A product or offer the input marks deleted. */
static cml_status
add_deleted(cml_diff *d, const cml_item *it)
{
	static const cml_part product_parts[] = { CML_PART_PRODUCT };
	static const cml_part offer_parts[] = { CML_PART_OFFER_CARD, CML_PART_OFFER_PRICES,
		                                CML_PART_OFFER_STOCK };
	bool product = it->kind == CML_ITEM_PRODUCT;
	const char *id = product ? it->u.product.id : it->u.offer.id;
	const cml_part *parts = product ? product_parts : offer_parts;
	size_t n = product ? 1 : 3;
	bool any = false;
	cml_status st;

	bool again;
	st = cml_idset_add(product ? d->seen_products : d->seen_offers, cml_id_hash(id), &again);
	if (st != CML_OK)
		return fail(d, st, "diff", "out of memory");
	for (size_t i = 0; i < n; i++) {
		bool found, same;
		if ((st = base_find(d, parts[i], id, NULL, &found, &same)) != CML_OK)
			return st;
		if (!found)
			continue;
		if (!again)
			d->base_found[parts[i]]++;
		any = true;
		d->counts.deleted[parts[i]]++;
		if ((st = record(d, parts[i], id, NULL, true)) != CML_OK)
			return st;
	}
	/* the site never had it: a delta leaves it out; a full package says
	 * it as the input did, as full-export writes it */
	if (!any)
		return d->o.record_all ? write_item(d, it) : CML_OK;
	if (!product && (st = cml_idset_add(d->deleted_offers, cml_id_hash(id), NULL)) != CML_OK)
		return fail(d, st, "diff", "out of memory");
	return write_item(d, it);
}

cml_status
cml_diff_add(cml_diff *d, const cml_item *it)
{
	cml_part_fp parts[CML_MAX_PARTS];
	bool want[CML_PART_COUNT] = { false };
	size_t n = 0, n_changed = 0;
	cml_status st;

	switch (it->kind) {
	case CML_ITEM_CLASSIFIER:
		return keep_header(d, H_CLASSIFIER, it);
	case CML_ITEM_CATALOG:
		d->saw_catalog = true;
		note_whole(&d->catalog_whole, it->u.catalog.only_changes);
		return keep_header(d, H_CATALOG, it);
	case CML_ITEM_OFFERS_PACKAGE:
		d->saw_package = true;
		note_whole(&d->package_whole, it->u.package.only_changes);
		return keep_header(d, H_PACKAGE, it);
	case CML_ITEM_PRODUCT:
		if (it->u.product.id != NULL && it->u.product.deleted)
			return add_deleted(d, it);
		break;
	case CML_ITEM_OFFER:
		if (it->u.offer.id != NULL && it->u.offer.deleted)
			return add_deleted(d, it);
		break;
	default:
		break;
	}

	st = cml_fingerprint_item(d->fpr, it, parts, &n);
	if (st == CML_ERR_VALUE && d->o.attach != NULL) {
		cml_msg_set(d->errmsg, sizeof(d->errmsg), "%s", cml_attach_errmsg(d->o.attach));
		return st;
	}
	if (st != CML_OK)
		return fail(d, st, "fingerprint", cml_status_str(st));
	if (n == 0)
		return CML_OK;
	/* An Ид seen before (a duplicate, or another part of a split offer)
	 * is not counted as found again: the count stays a lower bound. */
	bool again = false;
	if (it->kind == CML_ITEM_PRODUCT || it->kind == CML_ITEM_OFFER) {
		st = cml_idset_add(it->kind == CML_ITEM_PRODUCT ? d->seen_products : d->seen_offers,
		                   cml_id_hash(parts[0].id), &again);
		if (st != CML_OK)
			return fail(d, st, "diff", "out of memory");
	}
	for (size_t i = 0; i < n; i++) {
		cml_part p = parts[i].part;
		bool found, same;

		/* which offers carry prices and stock, for the parts that
		 * disappear (cml_diff_finish) */
		if (p == CML_PART_OFFER_PRICES || p == CML_PART_OFFER_STOCK) {
			st = cml_idset_add(p == CML_PART_OFFER_PRICES ? d->seen_prices : d->seen_stock,
			                   cml_id_hash(parts[i].id), NULL);
			if (st != CML_OK)
				return fail(d, st, "diff", "out of memory");
		}

		if ((st = base_find(d, p, parts[i].id, &parts[i].fp, &found, &same)) != CML_OK)
			return st;
		if (found && !again)
			d->base_found[p]++;
		if (!found) {
			d->counts.added[p]++;
		} else if (same) {
			d->counts.same[p]++;
			if (d->o.record_all &&
			    (st = record(d, p, parts[i].id, &parts[i].fp, false)) != CML_OK)
				return st;
			continue;
		} else {
			d->counts.changed[p]++;
		}
		want[p] = true;
		n_changed++;
		if ((st = record(d, p, parts[i].id, &parts[i].fp, false)) != CML_OK)
			return st;
	}
	if (n_changed == 0)
		return CML_OK;
	if (it->kind == CML_ITEM_OFFER && n_changed < n) {
		cml_item copy = *it;
		offer_only(&copy.u.offer, want);
		return write_item(d, &copy);
	}
	return write_item(d, it);
}

/* Ends a walk over the baseline: CML_END is its normal end; any other
 * failure says why, unless it already did. */
static cml_status
scan_end(cml_diff *d, void **cursor, cml_status st)
{
	cml_store_baseline_end(d->o.store, cursor);
	if (st == CML_END)
		return CML_OK;
	if (d->errmsg[0] == '\0')
		fail(d, st, "store", cml_store_errmsg(d->o.store));
	return st;
}

/* Everything of one part the baseline has and the input did not. */
static cml_status
delete_absent(cml_diff *d, cml_part part, const cml_idset *seen)
{
	void *cursor = NULL;
	const char *id;
	cml_status st;

	if (d->preloaded && d->base_found[part] == d->base_count[part])
		return CML_OK; /* the input had every Ид the baseline has */

	while ((st = cml_store_baseline_next(d->o.store, part, &cursor, &id)) == CML_OK) {
		if (cml_idset_has(seen, cml_id_hash(id)))
			continue;
		d->counts.deleted[part]++;
		if ((st = record(d, part, id, NULL, true)) != CML_OK)
			break;

		cml_item it;
		memset(&it, 0, sizeof(it));
		if (part == CML_PART_PRODUCT) {
			it.kind = CML_ITEM_PRODUCT;
			it.u.product.id = id;
			it.u.product.status = CML_STATUS_DELETED;
			it.u.product.deleted = true;
		} else if (part == CML_PART_OFFER_CARD || part == CML_PART_OFFER_PRICES ||
		           part == CML_PART_OFFER_STOCK) {
			bool was;
			if ((st = cml_idset_add(d->deleted_offers, cml_id_hash(id), &was)) !=
			    CML_OK) {
				fail(d, st, "diff", "out of memory");
				break;
			}
			if (was)
				continue;
			it.kind = CML_ITEM_OFFER;
			it.u.offer.id = id;
			it.u.offer.status = CML_STATUS_DELETED;
			it.u.offer.deleted = true;
		} else {
			continue; /* recorded; the site keeps directory entries */
		}
		if ((st = write_item(d, &it)) != CML_OK)
			break;
	}
	return scan_end(d, &cursor, st);
}

/*
 * The prices (stock) part of offers the input has without it, though the
 * baseline has it: the part is deleted, and the offer goes out with an
 * empty Цены (Количество 0). An offer the input lacks altogether was
 * deleted by delete_absent.
 */
static cml_status
lose_part(cml_diff *d, cml_part part, const cml_idset *carried)
{
	void *cursor = NULL;
	const char *id;
	cml_status st;

	if (d->preloaded && d->base_found[part] == d->base_count[part])
		return CML_OK; /* every offer the baseline has it for still has it */
	while ((st = cml_store_baseline_next(d->o.store, part, &cursor, &id)) == CML_OK) {
		uint64_t h = cml_id_hash(id);

		if (!cml_idset_has(d->seen_offers, h) || cml_idset_has(carried, h) ||
		    cml_idset_has(d->deleted_offers, h))
			continue;
		d->counts.deleted[part]++;
		if ((st = record(d, part, id, NULL, true)) != CML_OK)
			break;

		cml_item it;
		memset(&it, 0, sizeof(it));
		it.kind = CML_ITEM_OFFER;
		it.u.offer.id = id;
		if (part == CML_PART_OFFER_PRICES)
			it.u.offer.has_prices = true; /* <Цены/>: none any more */
		else
			it.u.offer.quantity = "0";
		if ((st = write_item(d, &it)) != CML_OK)
			break;
	}
	return scan_end(d, &cursor, st);
}

cml_status
cml_diff_finish(cml_diff *d, cml_tristate whole)
{
	cml_status st;
	/* A header alone is not a whole catalog with nothing in it: 1C's
	 * split layout puts a Каталог header in the classifier's file, and
	 * without the goods file (still uploading, a failed copy) the whole
	 * catalog would be deleted. Whole needs the goods themselves. */
	bool products_said = whole == CML_UNSET && d->saw_catalog && d->catalog_whole == CML_TRUE;
	bool offers_said = whole == CML_UNSET && d->saw_package && d->package_whole == CML_TRUE;
	d->empty_catalog = products_said && cml_idset_len(d->seen_products) == 0;
	d->empty_package = offers_said && cml_idset_len(d->seen_offers) == 0;
	bool products_whole = whole == CML_TRUE || (products_said && !d->empty_catalog);
	bool offers_whole = whole == CML_TRUE || (offers_said && !d->empty_package);

	if (products_whole && (st = delete_absent(d, CML_PART_PRODUCT, d->seen_products)) != CML_OK)
		return st;
	if (offers_whole) {
		static const cml_part parts[] = { CML_PART_OFFER_CARD, CML_PART_OFFER_PRICES,
			                          CML_PART_OFFER_STOCK };
		for (size_t i = 0; i < CML_ARRAY_LEN(parts); i++)
			if ((st = delete_absent(d, parts[i], d->seen_offers)) != CML_OK)
				return st;
		/* a part no offer carries is a file missing, not every
		 * price (stock) gone */
		bool any = cml_idset_len(d->seen_offers) > 0;
		d->missing_prices = any && cml_idset_len(d->seen_prices) == 0;
		d->missing_stock = any && cml_idset_len(d->seen_stock) == 0;
		if (any && !d->missing_prices &&
		    (st = lose_part(d, CML_PART_OFFER_PRICES, d->seen_prices)) != CML_OK)
			return st;
		if (any && !d->missing_stock &&
		    (st = lose_part(d, CML_PART_OFFER_STOCK, d->seen_stock)) != CML_OK)
			return st;
	}
	d->counts.deleted_offers = (unsigned long)cml_idset_len(d->deleted_offers);
	if (!cml_diff_changed(d) && !d->o.record_all)
		return CML_OK;
	for (int h = 0; h < 3; h++)
		if (d->have_head[h] && (st = write_item(d, &d->head[h])) != CML_OK)
			return st;
	return CML_OK;
}

bool
cml_diff_part_missing(const cml_diff *d, cml_part part)
{
	if (part == CML_PART_OFFER_PRICES)
		return d->missing_prices;
	if (part == CML_PART_OFFER_STOCK)
		return d->missing_stock;
	return false;
}

bool
cml_diff_empty_whole(const cml_diff *d, cml_kind kind)
{
	if (kind == CML_ITEM_PRODUCT)
		return d->empty_catalog;
	if (kind == CML_ITEM_OFFER)
		return d->empty_package;
	return false;
}
