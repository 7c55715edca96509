/*
 * writer.h: the streaming CommerceML package writer.
 *
 * A package is a set of files in one directory. Items may be added in any
 * order; each goes to its section (classifier, catalog, offers, prices,
 * stock, documents, counterparties), which is streamed to a temporary file
 * beside the target, and cml_writer_finish() assembles the final files and
 * renames them into place. Nothing but the temporary files exists under
 * the target names until finish succeeds; cml_writer_free() without a
 * successful finish removes every temporary file.
 *
 * Layouts:
 *  - CML_LAYOUT_SINGLE (default, schema 2.05): import.xml (Классификатор +
 *    Каталог) and offers.xml (ПакетПредложений with prices and stock);
 *  - CML_LAYOUT_SPLIT (2.08+ as УТ 11 writes it): import___classifier.xml,
 *    import___goods.xml, offers___offers.xml, prices___prices.xml,
 *    rests___rests.xml;
 *  - schema 3.1 always uses the split layout with 3.1 file names:
 *    classifier.xml, goods.xml, offers.xml, prices.xml, rests.xml.
 * Documents go to orders.xml, counterparties to contragents.xml, in every
 * layout. A file whose section got no item is not written (import.xml and
 * offers.xml are, in the single layout, whenever anything is).
 */
#ifndef CML_WRITER_H
#define CML_WRITER_H

#include <stdbool.h>
#include <stdio.h>

#include "cml.h"
#include "model.h"

CML_BEGIN_DECLS

typedef struct cml_writer cml_writer;

typedef enum cml_encoding {
	CML_ENC_UTF8 = 0,
	CML_ENC_WINDOWS_1251,
} cml_encoding;

typedef enum cml_layout {
	CML_LAYOUT_DEFAULT = 0, /* single for 2.0x, split for 3.1 */
	CML_LAYOUT_SINGLE,
	CML_LAYOUT_SPLIT,
} cml_layout;

/*
 * The catalog identity (PROTOCOL.md §10): a site finds the catalog a
 * package belongs to by the Каталог Ид and the offers package's
 * ИдКаталога, and the classifier only through ИдКлассификатора. NULL or
 * empty fields are not filled.
 */
typedef struct cml_catalog_ident {
	const char *classifier_id;   /* Классификатор Ид; Каталог and
	                                ПакетПредложений ИдКлассификатора */
	const char *classifier_name; /* Классификатор Наименование */
	const char *catalog_id;      /* Каталог Ид; ПакетПредложений ИдКаталога */
	const char *catalog_name;    /* Каталог Наименование */
	const char *offers_id;       /* ПакетПредложений Ид */
	const char *offers_name;     /* ПакетПредложений Наименование */
} cml_catalog_ident;

struct cml_attach;

typedef struct cml_writer_opts {
	const char *schema;      /* "2.05" (default), "2.04".."2.10", "3.1" */
	cml_encoding encoding;   /* UTF-8 by default */
	bool bom;                /* UTF-8 only: start each file with a BOM */
	cml_layout layout;
	cml_tristate only_changes; /* СодержитТолькоИзменения on Каталог,
	                              Классификатор, ПакетПредложений and
	                              Контрагенты; UNSET: each element as
	                              its item said ("false" if it said
	                              nothing; none on Контрагенты) */
	const char *generated;   /* ДатаФормирования; NULL: now, local time */
	bool indent;             /* pretty-print (default false) */
	const cml_catalog_ident *ident; /* fills in what the input's headers
	                              lack, and makes every file of the
	                              package carry its header
	                              (Классификатор, Каталог,
	                              ПакетПредложений) with the identity,
	                              even when no header item came; NULL:
	                              the headers as the items say */
	struct cml_attach *attach;  /* when set, every product card written
	                              carries the files it names (attach.h):
	                              each present file is put into the
	                              package under its path (hard-linked,
	                              else copied), a missing one is left
	                              out of the card, an unsafe one makes
	                              cml_writer_add fail with
	                              CML_ERR_VALUE. The files go into
	                              place with the XML at finish (the same
	                              journal); files under DIR/import_files
	                              the package does not hold are removed
	                              then. Not owned by the writer. */
} cml_writer_opts;

/* Files are written into dir, which must exist. opts may be NULL. */
CML_NODISCARD cml_writer *cml_writer_new(const char *dir, const cml_writer_opts *opts);
/* Frees; removes the temporary files if finish did not succeed. */
void cml_writer_free(cml_writer *w);

/* Takes any item kind but CML_ITEM_FILE (ignored). */
CML_NODISCARD cml_status cml_writer_add(cml_writer *w, const cml_item *item);
/* Writes and renames the final files. */
CML_NODISCARD cml_status cml_writer_finish(cml_writer *w);

const char *cml_writer_errmsg(const cml_writer *w);

/* After a successful finish: the names of the files written, relative
 * to DIR, NULL-terminated, in the order a site takes them: the attached
 * files first (in name order: they are uploaded, never imported), then
 * the XML files in the order a site should import them. */
const char *const *cml_writer_files(const cml_writer *w);

/*
 * Temporary files are named DIR/.cmlkit-tmp.PID.NAME.XXXXXX (PID the
 * writing process). Before the renames of a finish, DIR/.cmlkit-install
 * lists them with their final names; it is removed once every file is in
 * place, so while it exists the package in DIR is being replaced and is
 * not to be read.
 */
#define CML_WRITER_TMP_PREFIX ".cmlkit-tmp."
#define CML_WRITER_JOURNAL ".cmlkit-install"

/*
 * What killed runs left in dir, put in order; meant for a run holding the
 * database's run lock, before it writes there. A package a dead run was
 * putting in place (DIR/.cmlkit-install) is completed: its remaining files
 * are renamed into place (*completed counts them). Then the temporary
 * files of processes that no longer exist are removed (*removed). Files of
 * a live process are left alone. CML_ERR_IO with the reason in err.
 */
CML_NODISCARD cml_status cml_writer_recover(const char *dir, size_t *completed,
                                            size_t *removed, char *err, size_t cap);

/*
 * The stream writer: one CommerceML document (КоммерческаяИнформация)
 * of orders and counterparties written straight to a stream, for a pipe
 * (orders-pull | cp-match) or a file the caller owns. The same options
 * as a package (schema, encoding, BOM, indent; layout and only_changes
 * do not apply), the same elements as orders.xml and contragents.xml:
 * documents as Документ (in a Контейнер each under schema 3.1),
 * counterparties inside one Контрагенты. Nothing is written before the
 * first add; finish closes the root element and flushes, and writes
 * nothing at all when nothing was added.
 */
typedef struct cml_stream_writer cml_stream_writer;

/* opts may be NULL. The stream is not closed by the writer. */
CML_NODISCARD cml_stream_writer *cml_stream_writer_new(FILE *out, const cml_writer_opts *opts);
/* CML_ITEM_DOCUMENT and CML_ITEM_COUNTERPARTY; CML_ERR_VALUE for other
 * kinds. All counterparties of one document come before or after all its
 * documents: the writer opens Контрагенты once (a counterparty after
 * documents that followed counterparties is CML_ERR_USAGE). An item with
 * a string XML cannot hold is CML_ERR_VALUE and leaves nothing written:
 * the writer goes on. Under 3.1, documents with the same nonzero
 * container number, added one after another, share one Контейнер. */
CML_NODISCARD cml_status cml_stream_writer_add(cml_stream_writer *sw, const cml_item *item);
/* CML_ERR_IO when the stream failed (full disk, closed pipe). */
CML_NODISCARD cml_status cml_stream_writer_finish(cml_stream_writer *sw);
const char *cml_stream_writer_errmsg(const cml_stream_writer *sw);
void cml_stream_writer_free(cml_stream_writer *sw);

CML_END_DECLS

#endif /* CML_WRITER_H */
