/*
 * pkgfiles.h: the attached files of a package being written (private to
 * the writer). Files are staged under temporary names beside their final
 * place in DIR (DIR/import_files/5b/.cmlkit-tmp.PID.NAME.XXXXXX), then
 * renamed into place by the writer's finish under its journal; files of
 * an earlier package under DIR/import_files that this one does not hold
 * are removed then.
 *
 * Nothing is ever written outside DIR: every directory on the way is
 * opened with O_NOFOLLOW from DIR down, so a symbolic link someone put in
 * DIR/import_files is refused, never followed.
 */
#ifndef CML_PKGFILES_H
#define CML_PKGFILES_H

#include <stdbool.h>
#include <stddef.h>

#include "cml/cml.h"
#include "cml_private.h"

typedef struct cml_pkgfiles cml_pkgfiles;

/* NULL when out of memory. */
cml_pkgfiles *cml_pkgfiles_new(const char *dir);
/* Removes the staged files not yet put into place. */
void cml_pkgfiles_free(cml_pkgfiles *pf);

/* Stages source under path (relative, checked by cml_attach): a hard
 * link, else a copy. A path already staged is left as it is. */
cml_status cml_pkgfiles_add(cml_pkgfiles *pf, const char *path, const char *source,
                            char *err, size_t cap);

/* Before the journal: the files in name order, and the files of an
 * earlier package to remove. Appends the journal lines to b: "TMP\tPATH"
 * for each staged file, "-\tPATH" for each to remove. */
cml_status cml_pkgfiles_prepare(cml_pkgfiles *pf, cml_buf *b, char *err, size_t cap);

/* Renames the staged files into place and removes the old ones. */
cml_status cml_pkgfiles_install(cml_pkgfiles *pf, char *err, size_t cap);

/* After install: how many files the package holds, and the i-th name. */
size_t cml_pkgfiles_count(const cml_pkgfiles *pf);
const char *cml_pkgfiles_name(const cml_pkgfiles *pf, size_t i);

/* Recovery, for a journal line of a dead run: rename DIR/FROM to DIR/TO
 * (the same directory; *renamed when it was there), or remove DIR/PATH.
 * A file already gone is fine. CML_ERR_VALUE when a path is not safe
 * (relative, no "." or ".." components) or they differ in directory. */
cml_status cml_pkgfiles_redo_rename(const char *dir, const char *from, const char *to,
                                    bool *renamed, char *err, size_t cap);
cml_status cml_pkgfiles_redo_remove(const char *dir, const char *path, char *err,
                                    size_t cap);

/* Whether s is a safe relative path: components neither empty, "." nor
 * "..", no leading '/'. */
bool cml_pkgfiles_safe_path(const char *s);

/* Removes, in every subdirectory of DIR (links not followed), the files
 * whose name dead() says a dead run left; counts them in *removed. */
cml_status cml_pkgfiles_sweep(const char *dir, bool (*dead)(const char *name),
                              size_t *removed, char *err, size_t cap);

#endif /* CML_PKGFILES_H */
