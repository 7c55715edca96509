/*
 * pkgopts.h: the options every program that writes a package shares
 * (-o, --schema, --split, --encoding, --bom, --date, --indent, --format,
 * and the catalog identity: --shop, --catalog-id, --catalog-name,
 * --classifier-id, --new-catalog),
 * as an argp child parser, so they are spelled and checked in one place.
 */
#ifndef CMLKIT_PKGOPTS_H
#define CMLKIT_PKGOPTS_H

#include <argp.h>
#include <stdbool.h>

#include <cml/generations.h>
#include <cml/ident.h>
#include <cml/writer.h>

#include "source.h"

struct pkg_opts {
	const char *output;
	cml_writer_opts w;
	enum cmd_format format;
	bool output_required; /* set by the program before parsing */
	/* the catalog identity the options give (--shop: derived from it) */
	const char *shop;
	cml_catalog_ident ident_opts;
	bool new_catalog;
	cml_ident *ident;     /* resolved: w.ident points into it */
};

/* The child parser; its input is a struct pkg_opts * (state->child_inputs). */
extern const struct argp pkg_argp;

/* The schema versions the writer takes: 2.04 to 2.10 and 3.1. */
bool pkg_schema_known(const char *s);
/* "utf-8"/"utf8" or "windows-1251"/"cp1251", any case, into *enc. */
bool pkg_encoding_parse(const char *s, cml_encoding *enc);
/* A --date value: YYYY-MM-DDTHH:MM:SS, month, day and time in range. */
bool pkg_datetime_valid(const char *s);

/*
 * Resolves the catalog identity of the package into o->ident and points
 * o->w.ident at it: the options, else what the database s remembers
 * (NULL: none), else derived from the shop's name (ident.h). Options
 * that contradict what s remembers are refused (EXIT_ATTENTION, said
 * how to go on) unless --new-catalog. With remember (a run that will
 * commit), the identity is remembered in s. EXIT_OK, or the exit status
 * with the reason said. pkg_ident_free frees it.
 */
int pkg_ident_resolve(struct pkg_opts *o, cml_store *s, bool remember);
void pkg_ident_free(struct pkg_opts *o);

/* mkdir -p; prints the reason and returns false on failure. */
bool pkg_make_dir(const char *path);

/* The absolute, symlink-free name of an existing directory (malloc'd), as
 * packages are recorded in the database; NULL with a message on failure. */
char *pkg_abs_dir(const char *path);

/*
 * Inside the run that wrote the package into dir (absolute, as recorded):
 * records its files (names: cml_writer_files) as they are on disk, the
 * package's stamp (cml_package_stamp, package.h), with generation gen;
 * catalog-push compares the directory with it before sending anything.
 * EXIT_OK, or EXIT_LOCAL with the reason said.
 */
int pkg_record_files(cml_store *s, int64_t gen, const char *dir, const char *const *names);

/* Inside an export run that will commit: marks every generation earlier
 * runs left pending superseded, saying how many under --verbose. EXIT_OK,
 * or EXIT_LOCAL with the reason said. */
int pkg_supersede(cml_store *s);

/* One "output/name" line per file written, on standard output (a write
 * error is found by cmd_finish). */
void pkg_print_files(const char *output, const char *const *names);

/*
 * Refuses (false, with a message) an output directory that is, contains or
 * is inside one of the input operands, compared by real names: the package
 * would replace or be read as its own input. "-" is skipped.
 */
bool pkg_check_output(const char *output, char *const *inputs, int n_inputs);

/*
 * Before writing a package into dir (with the run lock held, when there
 * is one): completes a package a killed run left half in place, removes
 * the temporary files of dead runs (cml_writer_recover), and makes
 * SIGTERM, SIGINT and SIGHUP remove this run's own. False with a message
 * when dir cannot be put in order.
 */
bool pkg_recover(const char *dir);

#endif /* CMLKIT_PKGOPTS_H */
