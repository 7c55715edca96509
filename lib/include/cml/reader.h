/*
 * reader.h: the streaming CommerceML reader.
 *
 *     cml_reader *r = cml_reader_new(NULL);
 *     if (cml_reader_open_file(r, "import.xml") != CML_OK) ... cml_reader_errmsg(r)
 *     const cml_item *it;
 *     while ((st = cml_reader_next(r, &it)) == CML_OK)
 *             use(it);            // valid until the next call
 *     if (st < 0) ... cml_reader_errmsg(r)   // "import.xml:120: <Цена>: ..."
 *     cml_reader_free(r);
 *
 * One reader reads one input at a time; opening another input ends the
 * previous one. Memory stays flat whatever the size of the input: only
 * the current item is held.
 *
 * Security: no network, no DTD loading, no entity declarations (a file
 * with a DOCTYPE is refused), nesting deeper than max_depth is refused.
 *
 * Limits (cmlkit(7)): an element with more than max_attrs attributes,
 * a text run or a piece of markup longer than max_item_bytes, or one
 * item whose captured form takes more than max_item_bytes of memory is
 * refused (CML_ERR_HOSTILE) before it costs more: reading an input of N
 * bytes takes time linear in N and memory bounded by the biggest item.
 *
 * Item errors: a well-formed item with a value out of its domain (a
 * <Сумма> that is no number) is not fatal. cml_reader_next() returns
 * CML_ERR_ITEM, *item NULL, and cml_reader_errmsg() says
 * "FILE:LINE: Документ/Товары/Товар/Скидки/Скидка/Сумма: 'x' is not a
 * number (in <Документ> Ид "..." of line N)". The item is
 * skipped; the next call goes on with the next item. The caller decides
 * whether a skipped item spoils the run. Every other error (not
 * well-formed XML, encoding, limits, out of memory) ends the input.
 */
#ifndef CML_READER_H
#define CML_READER_H

#include <stdio.h>

#include "cml.h"
#include "model.h"

CML_BEGIN_DECLS

typedef struct cml_reader cml_reader;

/* Called for every warning (recoverable oddity) the reader meets, with a
 * message of the same form as cml_reader_errmsg(). */
typedef void cml_warn_fn(void *ud, const char *msg);

/* Called for every element inside a property, price type, warehouse,
 * unit, product, offer, document or counterparty that holds something
 * (text or an attribute) the model has no place for, so it is not silently
 * gone: path is the element's path from the item's element
 * ("Предложение/Штрихкод2"), file and line where it starts. (Groups and the
 * Классификатор, Каталог and ПакетПредложений headers are not looked at.) */
typedef void cml_unmodeled_fn(void *ud, const char *path, const char *file,
                              unsigned long line);

typedef struct cml_reader_opts {
	unsigned max_depth;     /* element nesting limit; 0 = 64 */
	size_t max_item_bytes;  /* memory one item may take (its text, elements and
	                         * attributes), and the longest text run or markup;
	                         * 0 = 64 MiB */
	cml_warn_fn *warn;      /* NULL: warnings are dropped */
	void *warn_ud;
	cml_unmodeled_fn *unmodeled; /* NULL: not looked for */
	void *unmodeled_ud;
	unsigned max_attrs;     /* attributes on one element; 0 = 64 */
} cml_reader_opts;

/* opts may be NULL for the defaults. NULL when out of memory. */
CML_NODISCARD cml_reader *cml_reader_new(const cml_reader_opts *opts);
void cml_reader_free(cml_reader *r);

/* name is what messages call the input ("-" reads as "(stdin)"). */
CML_NODISCARD cml_status cml_reader_open_file(cml_reader *r, const char *path);
/* Reads fd to its end; does not close it. */
CML_NODISCARD cml_status cml_reader_open_fd(cml_reader *r, int fd, const char *name);
/* buf must stay valid while the input is read. */
CML_NODISCARD cml_status cml_reader_open_memory(cml_reader *r, const void *buf,
                                                size_t len, const char *name);

/* CML_OK with *item set, CML_END after the last item, CML_ERR_ITEM for
 * an item that was skipped (see above: the next call goes on), or an
 * error. After any other error every further call returns the same one. */
CML_NODISCARD cml_status cml_reader_next(cml_reader *r, const cml_item **item);

/* The last error: "FILE:LINE: <element>: what is wrong". "" if none. */
const char *cml_reader_errmsg(const cml_reader *r);

/* Line the reader is at now (for messages), 0 when unknown. */
unsigned long cml_reader_line(const cml_reader *r);

/* Number of warnings since the input was opened. */
unsigned long cml_reader_warnings(const cml_reader *r);

CML_END_DECLS

#endif /* CML_READER_H */
