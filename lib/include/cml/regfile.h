/*
 * regfile.h: counterparty register files in and out: the accounting
 * system's counterparty package (CommerceML Контрагенты, any version the
 * reader takes, 2.x or 3.1, single file or a split contragents file) or
 * a CSV file (columns in cmlkit-csv(5), "The counterparty register"),
 * read into the register (cml/register.h); the register written back as
 * CSV or as a CommerceML counterparty package.
 *
 * A card read from a file is put as the accounting system has it
 * (cml_register_put); its contacts (Контакты/Контакт by Тип:
 * cml_contact_type) and its contact persons (Представители with
 * Отношение "Контактное лицо", and their own Контакты) are added. The
 * kind comes from cml_cp_kind_of, a CSV "kind" column overrides it.
 * Nothing of a file is kept unless the whole file reads: a file that is
 * not well-formed, is not a register (no Контрагенты, no counterparty
 * header row) or has a broken row is an error, and the caller rolls the
 * run back. Values that are not keys (an INN with a wrong check digit, a
 * KPP of the wrong form, an email that is none) are kept as written and
 * reported through warn with file:line; they never become keys.
 */
#ifndef CML_REGFILE_H
#define CML_REGFILE_H

#include <stdint.h>
#include <stdio.h>

#include "cml.h"
#include "reader.h"
#include "register.h"
#include "store.h"
#include "writer.h"

CML_BEGIN_DECLS

typedef struct cml_regfile_stats {
	int64_t cards;          /* read */
	int64_t cards_new;
	int64_t cards_changed;
	int64_t persons_new;
	int64_t contacts_new;
	int64_t bad_values;     /* values reported through warn */
} cml_regfile_stats;

/*
 * Reads a register file into the store inside the current run. CommerceML
 * or CSV is told by content (the first byte after a BOM and blanks is
 * '<' for XML). CML_OK with *st (may be NULL; counts add up across calls);
 * an error status with "FILE:LINE: what" in err otherwise. warn may be
 * NULL.
 */
CML_NODISCARD cml_status cml_regfile_load(cml_store *s, const char *path, cml_warn_fn *warn,
                                          void *warn_ud, cml_regfile_stats *st, char *err,
                                          size_t errsz);

/* The register as CSV (the same columns cml_regfile_load reads, one row
 * per card with its own contacts and its first contact person, and one
 * more row per further contact person), every card not merged away, in
 * Ид order. */
CML_NODISCARD cml_status cml_regfile_write_csv(cml_store *s, FILE *out, char *err, size_t errsz);

/* The register as a CommerceML counterparty package (one Контрагенты,
 * СодержитТолькоИзменения="false") through the stream writer with opts
 * (schema, encoding, BOM, indent); contact persons as Представители with
 * their own Контакты. */
CML_NODISCARD cml_status cml_regfile_write_cml(cml_store *s, FILE *out,
                                               const cml_writer_opts *opts, char *err,
                                               size_t errsz);

CML_END_DECLS

#endif /* CML_REGFILE_H */
