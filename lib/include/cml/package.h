/*
 * package.h: what a catalog package is, in one place for the programs
 * that write it (full-export, delta-export) and the one that sends it
 * (catalog-push).
 *
 * A package is a directory. Its files:
 *  - the XML files at its top (every "*.xml", any case): each is
 *    uploaded and then imported by the site (mode=file, mode=import);
 *  - the attached files: every regular file under DIR/import_files/
 *    (pictures and files the cards name, attach.h), at any depth: each
 *    is only uploaded (mode=file&filename=import_files/...), never
 *    imported, as 1C does.
 * Names are relative to DIR, '/'-separated. Hidden names (a leading
 * '.', as the writer's temporary files and journal have) are not part
 * of a package. Nothing is taken that leaves DIR through a symbolic
 * link: a link whose target lies outside DIR makes the package bad
 * (CML_ERR_VALUE), a link inside DIR is followed.
 *
 * The order a site takes them in (cml_writer_files gives the same): the
 * attached files first, by name (strcmp), so every picture is on the site
 * before the XML that names it is imported; then the XML files in 1C's
 * import order (cml_package_rank): the classifier, groups, properties,
 * price lists, units and storages, then the goods, then offers, prices
 * and rests, each rank by name; any other XML file last.
 *
 * The stamp: one "name\tsize\tmtime" line per file (mtime in
 * nanoseconds since the epoch), in the package's order. Recorded with
 * the generation that wrote the package; catalog-push compares the
 * directory with it before sending anything, so a package rewritten by
 * a run that did not record it is never acknowledged for the wrong
 * state.
 *
 * Full or partial: what the first header of the package's XML files
 * (Классификатор, Каталог or ПакетПредложений, in import order) says in
 * СодержитТолькоИзменения; none saying "true" is a full package, as a
 * site takes it.
 *
 *     p = cml_package_new(dir);
 *     cml_package_read_dir(p)             // an unrecorded package
 *  or cml_package_read_stamp(p, stamp)    // a recorded one, then
 *     cml_package_check(p)                // still as recorded?
 *     for i < cml_package_count(p): f = cml_package_file(p, i) ...
 *
 * The handle owns every string it hands out until it is freed.
 */
#ifndef CML_PACKAGE_H
#define CML_PACKAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cml.h"

CML_BEGIN_DECLS

typedef struct cml_package cml_package;

/* The folder attached files live in, relative to the package. */
#define CML_PACKAGE_FILES_DIR "import_files"

typedef struct cml_pkg_file {
	const char *name; /* relative to the package, '/'-separated */
	int64_t size;     /* bytes */
	int64_t mtime_ns; /* from the stamp, or the disk when read there */
	bool import;      /* XML: uploaded then imported; false: an
	                     attached file, only uploaded */
	int rank;         /* cml_package_rank; 0 for an attached file */
} cml_pkg_file;

/* The package in dir (taken as given: the caller makes it absolute when
 * it is to be recorded). NULL when out of memory. */
CML_NODISCARD cml_package *cml_package_new(const char *dir);
void cml_package_free(cml_package *p);

/*
 * An unrecorded package, as the directory holds it now: the XML files at
 * the top and the files under import_files/ (rules above), sizes and
 * times from the disk. CML_ERR_VALUE for a link leaving the directory or
 * a directory a killed writer left half replaced (its journal is there);
 * CML_END when it holds no XML file (not a package); CML_ERR_IO when it
 * cannot be read. The reason in cml_package_errmsg.
 */
CML_NODISCARD cml_status cml_package_read_dir(cml_package *p);

/*
 * The files a run wrote, in any order (cml_writer_files), as they are on
 * disk now: what is recorded with its generation (cml_package_stamp).
 * CML_ERR_IO when one cannot be stat'ed, CML_ERR_VALUE for an unsafe name.
 */
CML_NODISCARD cml_status cml_package_read_names(cml_package *p, const char *const *names);

/*
 * A recorded package: its files, sizes and times as the stamp says.
 * CML_ERR_VALUE when the stamp is malformed, holds an unsafe name
 * (absolute, "..", a hidden part) or no file at all.
 */
CML_NODISCARD cml_status cml_package_read_stamp(cml_package *p, const char *stamp);

/*
 * After read_stamp: does the directory still hold the recorded files,
 * each with its recorded size and time, none through a link leaving the
 * directory? CML_OK; CML_ERR_STATE naming the first file that differs or
 * is missing.
 */
CML_NODISCARD cml_status cml_package_check(cml_package *p);

/*
 * The stamp of the files read (format above), malloc'd into *stamp (the
 * caller frees it). CML_ERR_NOMEM.
 */
CML_NODISCARD cml_status cml_package_stamp(const cml_package *p, char **stamp);

/*
 * Whether the package says it holds only changes (rules above), reading
 * only the headers. CML_OK with *partial set; CML_ERR_NOMEM. A file that
 * cannot be read is passed over (sending it will say why).
 */
CML_NODISCARD cml_status cml_package_is_partial(cml_package *p, bool *partial);

size_t cml_package_count(const cml_package *p);
/* The i-th file in the package's order; i < cml_package_count. */
const cml_pkg_file *cml_package_file(const cml_package *p, size_t i);
/* All names in the package's order, NULL-terminated. */
const char *const *cml_package_names(const cml_package *p);
/* How many files are attached (the first ones), and the bytes of all. */
size_t cml_package_attached(const cml_package *p);
int64_t cml_package_bytes(const cml_package *p);
const char *cml_package_dir(const cml_package *p);
const char *cml_package_errmsg(const cml_package *p);

/*
 * A file's place in 1C's import order, by its name (any case; a leading
 * directory is ignored): 10 import.xml; 11 a classifier (import___
 * classifier*, classifier*); 12 groups; 13 properties (propertiesGoods,
 * propertiesOffers too); 14 units, storages, priceLists; 15 goods
 * (import___goods*, goods*); 16 another import*; 20 offers; 21 prices;
 * 22 rests; 30 anything else (documents, counterparties). Lower first.
 */
int cml_package_rank(const char *name);

CML_END_DECLS

#endif /* CML_PACKAGE_H */
