/*
 * attach.h: the files a catalog refers to (pictures and attached files),
 * found beside the input that names them, checked, hashed, and put into
 * a package with the XML that references them.
 *
 * References. A product names files in Картинка (cml_product.pictures),
 * and in a requisite (ЗначенияРеквизитов) named "ОписаниеФайла" or
 * "Файл", whose value is "PATH" or "PATH#description". PATH is relative
 * to the directory of the input file the item came from
 * (item->origin.file; "-" and standard input: the current directory),
 * as 1C writes it: "import_files/5b/5b7a0c….jpg". A backslash is taken
 * as '/'. The package holds the file under the same relative PATH. A
 * reference with a URL scheme ("https://host/a.jpg", as some shops
 * write) names no file: it is not a reference here and stays in the card.
 *
 * The rules (nothing is ever read outside the input's directory, nothing
 * written outside the package):
 *  - unsafe: an absolute PATH, a ".." component, or a PATH that leads
 *    (through a symbolic link anywhere on the way) outside the input's
 *    directory. The input is bad: CML_ERR_VALUE, with
 *    "FILE:LINE: <Картинка> 'PATH': ..." in cml_attach_errmsg; the
 *    programs refuse the input (exit 3) and write nothing;
 *  - missing: nothing, or no regular file, at PATH. Said once per
 *    reference through the warn callback ("FILE:LINE: <Картинка> 'PATH':
 *    no such file: the card goes without it") and the card is written
 *    without that reference;
 *  - present: its size and content hash (XXH3 128-bit over the bytes),
 *    computed once per file per cml_attach however many items name it.
 */
#ifndef CML_ATTACH_H
#define CML_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include "cml.h"
#include "fingerprint.h"
#include "model.h"
#include "reader.h"

CML_BEGIN_DECLS

typedef struct cml_attach cml_attach;

typedef enum cml_ref_state {
	CML_REF_PRESENT = 1,
	CML_REF_MISSING = 2,
	CML_REF_UNSAFE = 3,
} cml_ref_state;

/* One reference of one item, resolved. Strings belong to the cml_attach
 * and stay valid until it is freed. */
typedef struct cml_ref {
	const char *element;  /* "Картинка", "ОписаниеФайла", "Файл" */
	const char *written;  /* the reference as the item wrote it */
	const char *path;     /* PATH, '/'-separated, relative: the name in
	                         the package; NULL when unsafe */
	const char *source;   /* where it is read from; NULL unless present */
	cml_ref_state state;
	int64_t size;         /* present only */
	cml_fp hash;          /* present only */
} cml_ref;

typedef struct cml_attach_opts {
	cml_warn_fn *warn;    /* hears of every missing file; NULL: dropped */
	void *warn_ud;
} cml_attach_opts;

/* opts may be NULL. NULL when out of memory. */
CML_NODISCARD cml_attach *cml_attach_new(const cml_attach_opts *opts);
void cml_attach_free(cml_attach *a);

/*
 * Resolves every reference of one item (only products have them; other
 * kinds give *n = 0) into *refs[0..*n-1], in the item's order: pictures,
 * then requisites. Valid until the next call. CML_ERR_VALUE when any is
 * unsafe (the first one's reason in cml_attach_errmsg); CML_ERR_NOMEM;
 * CML_ERR_IO when a present file cannot be read.
 */
CML_NODISCARD cml_status cml_attach_item(cml_attach *a, const cml_item *item,
                                         const cml_ref **refs, size_t *n);

const char *cml_attach_errmsg(const cml_attach *a);

CML_END_DECLS

#endif /* CML_ATTACH_H */
