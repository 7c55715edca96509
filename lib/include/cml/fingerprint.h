/*
 * fingerprint.h: the canonical form and hash of each part of an item,
 * what delta-export compares with the baseline.
 *
 * An item has up to three parts, each compared on its own so that a
 * price-only change sends the prices and nothing else the site would
 * re-import:
 *   group, property, price type, warehouse, unit: one part each;
 *   product: its card (everything a site shows of the product);
 *   offer: its card (name, characteristics, unit, article, barcode,
 *   property values), its prices, its stock.
 * An offer item from a split file carries only the parts it has: an item
 * from prices___*.xml has the prices part and nothing else (has_prices);
 * one from rests___*.xml the stock part (has_stocks, or a Количество).
 *
 * Canonical form (the contract; cmlkit-db(5) documents it): fields in a
 * fixed order, each as a tag byte and a length-prefixed value; absent and
 * empty are the same; sets are sorted (prices by price type, stock by
 * warehouse, property values by (id, value), characteristics and
 * requisites by (name, value), groups and pictures by value) so order
 * inside sets does not matter; numbers are compared as the canonical
 * decimals the readers already produce (100 = 100.00 = 100,00); values
 * are trimmed by the readers. Origins (file, line) and versions
 * (НомерВерсии) are not part of the content. The hash is XXH3 128-bit.
 */
#ifndef CML_FINGERPRINT_H
#define CML_FINGERPRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"
#include "model.h"

CML_BEGIN_DECLS

typedef enum cml_part {
	CML_PART_NONE = 0,
	CML_PART_GROUP = 1,
	CML_PART_PROPERTY = 2,
	CML_PART_PRICE_TYPE = 3,
	CML_PART_WAREHOUSE = 4,
	CML_PART_UNIT = 5,
	CML_PART_PRODUCT = 6,      /* product card */
	CML_PART_OFFER_CARD = 7,
	CML_PART_OFFER_PRICES = 8,
	CML_PART_OFFER_STOCK = 9,
	CML_PART_COUNT
} cml_part;

/* "group", ..., "offer_prices", "offer_stock"; NULL out of range.
 * These names are stored in the database: never change them. */
const char *cml_part_name(cml_part part);

typedef struct cml_fp {
	uint64_t hi, lo;
} cml_fp;

static inline bool
cml_fp_equal(cml_fp a, cml_fp b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

/* One part of one item: its kind, the item's Ид, and its hash. */
typedef struct cml_part_fp {
	cml_part part;
	const char *id; /* points into the item */
	cml_fp fp;
} cml_part_fp;

/* The largest number of parts one item has. */
#define CML_MAX_PARTS 3

typedef struct cml_fingerprinter cml_fingerprinter;

/* A fingerprinter holds the scratch buffer the canonical forms are built
 * in (reused from item to item). NULL when out of memory. */
CML_NODISCARD cml_fingerprinter *cml_fingerprinter_new(void);
void cml_fingerprinter_free(cml_fingerprinter *f);

/*
 * Fingerprints every part the item carries into out[0..*n-1]. Items of
 * other kinds (headers, documents, counterparties, files) and items
 * without an Ид have no parts (*n = 0, CML_OK). A product or offer that
 * is marked deleted has no parts either: deletion is not content.
 */
CML_NODISCARD cml_status cml_fingerprint_item(cml_fingerprinter *f, const cml_item *item,
                                              cml_part_fp out[CML_MAX_PARTS], size_t *n);

/*
 * With an attach context (cml/attach.h), a product card's canonical form
 * also holds, for each file the product names, its package path and its
 * content hash (or that it is missing): a picture replaced under the same
 * name changes the card, an unchanged one does not. Written only for a
 * product that names files, after every other field (a new field), so a
 * product without files keeps the fingerprint it always had. An unsafe
 * reference makes cml_fingerprint_item fail with CML_ERR_VALUE (the
 * reason in cml_attach_errmsg). a may be NULL (no files looked at); the
 * fingerprinter does not own it.
 */
struct cml_attach;
void cml_fingerprinter_set_attach(cml_fingerprinter *f, struct cml_attach *a);

/*
 * The canonical form of one part, for tests and for people who want to
 * see why two items differ: NUL-free bytes are not guaranteed, so the
 * length is returned. The bytes belong to f until its next call.
 * CML_ERR_USAGE if the item does not have that part.
 */
CML_NODISCARD cml_status cml_fingerprint_canonical(cml_fingerprinter *f, const cml_item *item,
                                                   cml_part part, const unsigned char **bytes,
                                                   size_t *len);

/* 32 lowercase hex digits and a NUL into out[33]. */
void cml_fp_hex(cml_fp fp, char out[33]);

CML_END_DECLS

#endif /* CML_FINGERPRINT_H */
