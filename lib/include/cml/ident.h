/*
 * ident.h: the catalog identity every package of a shop carries
 * (cml_catalog_ident in writer.h; PROTOCOL.md §10): how it is resolved
 * when the input's headers do not give it, and how the database
 * remembers it so that a later run cannot silently move the shop to
 * another catalog.
 *
 * Order of sources, each field on its own: the input's headers (the
 * writer keeps them and completes them from one another), the CSV
 * catalog table (header items too: cmlkit-csv(5)), then the identity
 * resolved here from the options (cml_ident_fill), the one the database
 * remembers (cml_ident_load), and last the one derived from the shop's
 * name (cml_ident_derive).
 */
#ifndef CML_IDENT_H
#define CML_IDENT_H

#include <stdbool.h>

#include "cml.h"
#include "store.h"
#include "writer.h"

CML_BEGIN_DECLS

/* The shop's name when none is given: what 1C names its catalog. */
#define CML_IDENT_SHOP_DEFAULT "Каталог товаров"

typedef struct cml_ident cml_ident;

/* An empty identity; NULL when out of memory. */
CML_NODISCARD cml_ident *cml_ident_new(void);
void cml_ident_free(cml_ident *id);

/* Takes each non-empty field of from that id does not have yet: the
 * first source filled wins. CML_ERR_NOMEM. */
CML_NODISCARD cml_status cml_ident_fill(cml_ident *id, const cml_catalog_ident *from);

/*
 * Fills each field still empty from the shop's name (NULL or empty:
 * CML_IDENT_SHOP_DEFAULT): the names "Классификатор (SHOP)", "SHOP" and
 * "Пакет предложений (SHOP)" as 1C writes them; the classifier's and the
 * catalog's Ид UUID-shaped, each the XXH3 128-bit hash of its kind and
 * the name, so the same shop gets the same identity on any machine and
 * in every run; the offers package's Ид is the catalog's with '#' after
 * it, as 1C writes it. CML_ERR_NOMEM.
 */
CML_NODISCARD cml_status cml_ident_derive(cml_ident *id, const char *shop);

/* The fields (empty ones NULL), valid until id is changed or freed. */
const cml_catalog_ident *cml_ident_get(const cml_ident *id);

/* True when no field is set. */
bool cml_ident_is_empty(const cml_ident *id);

/*
 * The first field in which a and b differ, as a reader names it
 * ("Каталог Ид", "Каталог Наименование", ...), or NULL when they are the
 * same. A field empty in either is not compared.
 */
const char *cml_ident_differs(const cml_catalog_ident *a, const cml_catalog_ident *b);

/*
 * The identity the database remembers (meta 'catalog_ident.*'), filled
 * into id like cml_ident_fill; *found says whether there was one.
 * CML_ERR_NOMEM, or a store error with the reason on the store.
 */
CML_NODISCARD cml_status cml_ident_load(cml_store *s, cml_ident *id, bool *found);

/* Remembers id in the database, replacing what it remembered; inside a
 * run. A store error with the reason on the store. */
CML_NODISCARD cml_status cml_ident_save(cml_store *s, const cml_ident *id);

CML_END_DECLS

#endif /* CML_IDENT_H */
