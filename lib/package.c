/*
 * package.c: what a catalog package is (package.h): its files, the order
 * a site takes them in, its stamp, and whether it is full or partial.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cml/package.h"
#include "cml/reader.h"
#include "cml/writer.h"
#include "cml_private.h"

/* How deep import_files/ may nest (and how many links inside the
 * package a walk follows): 1C writes two levels. */
#define MAX_DEPTH 16

/* A file, and the name it owns (f.name points to it). */
struct entry {
	cml_pkg_file f;
	char *name;
};

struct cml_package {
	char *dir;  /* as given */
	char *real; /* its real name, once a read needed it */
	struct entry *files;
	size_t n, cap;
	const char **names; /* NULL-terminated, in order; rebuilt by order() */
	size_t attached;
	int64_t bytes;
	char errmsg[CML_ERRMSG_MAX];
};

static cml_status fail(cml_package *p, cml_status st, const char *fmt, ...) CML_PRINTF(3, 4);

static cml_status
fail(cml_package *p, cml_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cml_msg_vset(p->errmsg, sizeof(p->errmsg), fmt, ap);
	va_end(ap);
	return st;
}

int
cml_package_rank(const char *name)
{
	static const struct {
		const char *prefix;
		int rank;
	} ranks[] = {
	        {"import.xml", 10},     {"import___classifier", 11},
	        {"classifier", 11},     {"groups", 12},
	        {"properties", 13},     {"units", 14},
	        {"storages", 14},       {"pricelists", 14},
	        {"import___goods", 15}, {"goods", 15},
	        {"import", 16},         {"offers", 20},
	        {"prices", 21},         {"rests", 22},
	};
	const char *base = strrchr(name, '/');

	base = base != NULL ? base + 1 : name;
	for (size_t i = 0; i < CML_ARRAY_LEN(ranks); i++)
		if (strncasecmp(base, ranks[i].prefix, strlen(ranks[i].prefix)) == 0)
			return ranks[i].rank;
	return 30;
}

cml_package *
cml_package_new(const char *dir)
{
	cml_package *p = cml_calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if ((p->dir = cml_strdup(dir)) == NULL) {
		cml_free(p);
		return NULL;
	}
	return p;
}

static void
clear(cml_package *p)
{
	for (size_t i = 0; i < p->n; i++)
		cml_free(p->files[i].name);
	p->n = 0;
	p->attached = 0;
	p->bytes = 0;
	cml_free(p->names);
	p->names = NULL;
}

void
cml_package_free(cml_package *p)
{
	if (p == NULL)
		return;
	clear(p);
	cml_free(p->files);
	cml_free(p->dir);
	cml_free(p->real);
	cml_free(p);
}

size_t
cml_package_count(const cml_package *p)
{
	return p->n;
}

const cml_pkg_file *
cml_package_file(const cml_package *p, size_t i)
{
	return i < p->n ? &p->files[i].f : NULL;
}

const char *const *
cml_package_names(const cml_package *p)
{
	static const char *const none[] = {NULL};

	return p->names != NULL ? p->names : none;
}

size_t
cml_package_attached(const cml_package *p)
{
	return p->attached;
}

int64_t
cml_package_bytes(const cml_package *p)
{
	return p->bytes;
}

const char *
cml_package_dir(const cml_package *p)
{
	return p->dir;
}

const char *
cml_package_errmsg(const cml_package *p)
{
	return p->errmsg;
}

/* ---- names ---- */

static bool
is_xml(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcasecmp(name + n - 4, ".xml") == 0;
}

/* An attached file's name: below import_files/. */
static bool
is_attached(const char *name)
{
	size_t n = strlen(CML_PACKAGE_FILES_DIR);

	return strncmp(name, CML_PACKAGE_FILES_DIR, n) == 0 && name[n] == '/';
}

/* A name a package may hold: relative, no empty, ".", ".." or hidden
 * part, no backslash or control character; an XML file at the top or a
 * file below import_files/. */
static bool
name_ok(const char *name)
{
	const char *s = name;

	if (*s == '\0' || strchr(name, '\\') != NULL)
		return false;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return false;
	for (;;) {
		const char *slash = strchr(s, '/');
		size_t len = slash != NULL ? (size_t)(slash - s) : strlen(s);
		if (len == 0 || s[0] == '.')
			return false; /* "", ".", "..", hidden */
		if (slash == NULL)
			break;
		s = slash + 1;
	}
	return is_attached(name) || strchr(name, '/') == NULL;
}

/* ---- the list ---- */

static cml_status
add(cml_package *p, const char *name, int64_t size, int64_t mtime_ns)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct entry *f = cml_realloc(p->files, cap * sizeof(*f));
		if (f == NULL)
			return fail(p, CML_ERR_NOMEM, "out of memory");
		p->files = f;
		p->cap = cap;
	}
	struct entry *e = &p->files[p->n];
	cml_pkg_file *f = &e->f;
	memset(e, 0, sizeof(*e));
	if ((e->name = cml_strdup(name)) == NULL)
		return fail(p, CML_ERR_NOMEM, "out of memory");
	f->name = e->name;
	f->size = size;
	f->mtime_ns = mtime_ns;
	f->import = !is_attached(name);
	f->rank = f->import ? cml_package_rank(name) : 0;
	p->n++;
	return CML_OK;
}

static int
file_cmp(const void *a, const void *b)
{
	const cml_pkg_file *x = &((const struct entry *)a)->f, *y = &((const struct entry *)b)->f;

	if (x->import != y->import)
		return x->import ? 1 : -1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Puts the files in the package's order and counts them. */
static cml_status
order(cml_package *p)
{
	if (p->n > 1)
		qsort(p->files, p->n, sizeof(p->files[0]), file_cmp);
	for (size_t i = 1; i < p->n; i++)
		if (strcmp(p->files[i - 1].name, p->files[i].name) == 0)
			return fail(p, CML_ERR_VALUE, "%s: listed twice", p->files[i].name);
	cml_free(p->names);
	if ((p->names = cml_calloc(p->n + 1, sizeof(*p->names))) == NULL)
		return fail(p, CML_ERR_NOMEM, "out of memory");
	p->attached = 0;
	p->bytes = 0;
	for (size_t i = 0; i < p->n; i++) {
		p->names[i] = p->files[i].name;
		p->bytes += p->files[i].f.size;
		if (!p->files[i].f.import)
			p->attached++;
	}
	return CML_OK;
}

/* ---- the disk ---- */

static cml_status
real_dir(cml_package *p)
{
	char r[PATH_MAX];

	if (p->real != NULL)
		return CML_OK;
	if (realpath(p->dir, r) == NULL)
		return fail(p, CML_ERR_IO, "%s: %s", p->dir, strerror(errno));
	p->real = cml_strdup(r);
	return p->real != NULL ? CML_OK : fail(p, CML_ERR_NOMEM, "out of memory");
}

/* path is inside the package, links resolved? */
static cml_status
inside(cml_package *p, const char *path, const char *name)
{
	char r[PATH_MAX];

	if (realpath(path, r) == NULL) /* a dangling link is nothing there */
		return fail(p, errno == ENOENT || errno == ENOTDIR ? CML_END : CML_ERR_IO, "%s: %s",
		            path, strerror(errno));
	size_t n = strlen(p->real);
	bool ok = strncmp(r, p->real, n) == 0 && (r[n] == '/' || strcmp(p->real, "/") == 0);
	if (!ok)
		return fail(p, CML_ERR_VALUE,
		            "%s/%s: a symbolic link leading outside the package: refused (a "
		            "package holds its own files)",
		            p->dir, name);
	return CML_OK;
}

/* stat of DIR/name, refusing a link that leaves the package; nothing
 * there is CML_END (with the message set). */
static cml_status
stat_inside(cml_package *p, const char *name, struct stat *sb)
{
	char path[PATH_MAX];
	cml_status st;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", p->dir, name) >= sizeof(path))
		return fail(p, CML_ERR_VALUE, "%s/%s: name too long", p->dir, name);
	if (lstat(path, sb) != 0)
		return errno == ENOENT || errno == ENOTDIR
		               ? fail(p, CML_END, "%s: %s", path, strerror(errno))
		               : fail(p, CML_ERR_IO, "%s: %s", path, strerror(errno));
	/* a link anywhere on the way: the real name decides */
	if (S_ISLNK(sb->st_mode) || strchr(name, '/') != NULL) {
		if ((st = real_dir(p)) != CML_OK || (st = inside(p, path, name)) != CML_OK)
			return st;
		if (stat(path, sb) != 0)
			return fail(p, CML_ERR_IO, "%s: %s", path, strerror(errno));
	}
	return CML_OK;
}

static int64_t
mtime_ns(const struct stat *sb)
{
	return (int64_t)sb->st_mtim.tv_sec * 1000000000LL + sb->st_mtim.tv_nsec;
}

/* Every regular file below DIR/rel (a directory of the package). */
static cml_status
walk(cml_package *p, const char *rel, int depth)
{
	char path[PATH_MAX], name[PATH_MAX];
	DIR *d = NULL;
	struct dirent *e;
	cml_status st = CML_OK;

	if (depth > MAX_DEPTH)
		return fail(p, CML_ERR_VALUE, "%s/%s: nested deeper than %d levels (a link loop?)",
		            p->dir, rel, MAX_DEPTH);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", p->dir, rel) >= sizeof(path))
		return fail(p, CML_ERR_VALUE, "%s/%s: name too long", p->dir, rel);
	if ((d = opendir(path)) == NULL)
		return fail(p, CML_ERR_IO, "%s: %s", path, strerror(errno));
	for (;;) {
		struct stat sb;

		errno = 0;
		if ((e = readdir(d)) == NULL) {
			if (errno != 0)
				st = fail(p, CML_ERR_IO, "%s: %s", path, strerror(errno));
			break;
		}
		if (e->d_name[0] == '.')
			continue; /* ".", "..", and hidden (temporary) files */
		if ((size_t)snprintf(name, sizeof(name), "%s/%s", rel, e->d_name) >= sizeof(name)) {
			st = fail(p, CML_ERR_VALUE, "%s/%s/%s: name too long", p->dir, rel,
			          e->d_name);
			break;
		}
		if ((st = stat_inside(p, name, &sb)) != CML_OK) {
			if (st == CML_END) { /* gone meanwhile */
				st = CML_OK;
				continue;
			}
			break;
		}
		if (S_ISDIR(sb.st_mode))
			st = walk(p, name, depth + 1);
		else if (S_ISREG(sb.st_mode) && !name_ok(name))
			st = fail(p, CML_ERR_VALUE, "%s/%s: a name a site cannot take", p->dir,
			          name);
		else if (S_ISREG(sb.st_mode))
			st = add(p, name, (int64_t)sb.st_size, mtime_ns(&sb));
		if (st != CML_OK)
			break;
	}
	closedir(d);
	return st;
}

cml_status
cml_package_read_dir(cml_package *p)
{
	char path[PATH_MAX];
	DIR *d = NULL;
	struct dirent *e;
	struct stat sb;
	cml_status st = CML_OK;
	size_t xml = 0;

	clear(p);
	p->errmsg[0] = '\0';
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", p->dir, CML_WRITER_JOURNAL) <
	            sizeof(path) &&
	    lstat(path, &sb) == 0)
		return fail(p, CML_ERR_VALUE,
		            "%s: a package is being put in place there (or a killed run left it "
		            "half replaced): run the export again first",
		            p->dir);
	if ((d = opendir(p->dir)) == NULL)
		return fail(p, errno == ENOMEM ? CML_ERR_NOMEM : CML_ERR_IO, "%s: %s", p->dir,
		            strerror(errno));
	for (;;) {
		errno = 0;
		if ((e = readdir(d)) == NULL) {
			if (errno != 0)
				st = fail(p, CML_ERR_IO, "%s: %s", p->dir, strerror(errno));
			break;
		}
		const char *name = e->d_name;
		bool files_dir = strcmp(name, CML_PACKAGE_FILES_DIR) == 0;
		if (name[0] == '.' || (!files_dir && !is_xml(name)))
			continue;
		if ((st = stat_inside(p, name, &sb)) != CML_OK) {
			if (st == CML_END) {
				st = CML_OK;
				continue;
			}
			break;
		}
		if (files_dir && S_ISDIR(sb.st_mode))
			st = walk(p, name, 1);
		else if (!files_dir && S_ISREG(sb.st_mode) && name_ok(name)) {
			st = add(p, name, (int64_t)sb.st_size, mtime_ns(&sb));
			xml++;
		}
		if (st != CML_OK)
			break;
	}
	closedir(d);
	if (st == CML_OK && xml == 0)
		st = fail(p, CML_END, "%s: no .xml files: not a package", p->dir);
	if (st == CML_OK)
		st = order(p);
	if (st != CML_OK)
		clear(p);
	return st;
}

cml_status
cml_package_read_names(cml_package *p, const char *const *names)
{
	cml_status st = CML_OK;

	clear(p);
	p->errmsg[0] = '\0';
	for (const char *const *n = names; n != NULL && *n != NULL && st == CML_OK; n++) {
		struct stat sb;

		if (!name_ok(*n))
			st = fail(p, CML_ERR_VALUE, "'%s': not a name a package holds", *n);
		else if ((st = stat_inside(p, *n, &sb)) == CML_END)
			st = CML_ERR_IO; /* the message is said */
		else if (st == CML_OK)
			st = add(p, *n, (int64_t)sb.st_size, mtime_ns(&sb));
	}
	if (st == CML_OK)
		st = order(p);
	if (st != CML_OK)
		clear(p);
	return st;
}

/* ---- the stamp ---- */

static bool
parse_int(const char *s, const char *end, int64_t *v)
{
	int64_t x = 0;

	if (s == end)
		return false;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9' || x > (INT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (*s - '0');
	}
	*v = x;
	return true;
}

cml_status
cml_package_read_stamp(cml_package *p, const char *stamp)
{
	char name[PATH_MAX];
	unsigned line = 0;
	cml_status st = CML_OK;

	clear(p);
	p->errmsg[0] = '\0';
	for (const char *s = stamp; st == CML_OK && s != NULL && *s != '\0';) {
		const char *nl = strchr(s, '\n');
		const char *t1 = memchr(s, '\t', nl != NULL ? (size_t)(nl - s) : 0);
		const char *t2 = t1 != NULL ? memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1)) : NULL;
		int64_t size, mtime;

		line++;
		if (t2 == NULL || (size_t)(t1 - s) >= sizeof(name) ||
		    !parse_int(t1 + 1, t2, &size) || !parse_int(t2 + 1, nl, &mtime)) {
			st = fail(p, CML_ERR_VALUE,
			          "the recorded stamp, line %u: not \"name<TAB>size<TAB>mtime\"",
			          line);
			break;
		}
		memcpy(name, s, (size_t)(t1 - s));
		name[t1 - s] = '\0';
		if (!name_ok(name))
			st = fail(p, CML_ERR_VALUE,
			          "the recorded stamp, line %u: '%s' is not a name "
			          "a package holds",
			          line, name);
		else
			st = add(p, name, size, mtime);
		s = nl + 1;
	}
	if (st == CML_OK && p->n == 0)
		st = fail(p, CML_ERR_VALUE, "the recorded stamp lists no file");
	if (st == CML_OK)
		st = order(p);
	if (st != CML_OK)
		clear(p);
	return st;
}

cml_status
cml_package_check(cml_package *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const cml_pkg_file *f = &p->files[i].f;
		struct stat sb;
		cml_status st = stat_inside(p, f->name, &sb);

		if (st == CML_END)
			return fail(p, CML_ERR_STATE, "%s/%s: missing", p->dir, f->name);
		if (st != CML_OK)
			return st;
		if (!S_ISREG(sb.st_mode))
			return fail(p, CML_ERR_STATE, "%s/%s: not a regular file", p->dir, f->name);
		if ((int64_t)sb.st_size != f->size || mtime_ns(&sb) != f->mtime_ns)
			return fail(p, CML_ERR_STATE,
			            "%s/%s: changed since it was recorded (%lld bytes, recorded "
			            "%lld%s)",
			            p->dir, f->name, (long long)sb.st_size, (long long)f->size,
			            (int64_t)sb.st_size == f->size ? ", another time" : "");
	}
	return CML_OK;
}

cml_status
cml_package_stamp(const cml_package *p, char **stamp)
{
	cml_buf b = {0};

	*stamp = NULL;
	for (size_t i = 0; i < p->n; i++)
		if (!cml_buf_appendf(&b, "%s\t%lld\t%lld\n", p->files[i].name,
		                     (long long)p->files[i].f.size,
		                     (long long)p->files[i].f.mtime_ns)) {
			cml_buf_free(&b);
			return CML_ERR_NOMEM;
		}
	if (b.data == NULL && (b.data = cml_strdup("")) == NULL)
		return CML_ERR_NOMEM;
	*stamp = b.data;
	return CML_OK;
}

/* ---- full or partial ---- */

cml_status
cml_package_is_partial(cml_package *p, bool *partial)
{
	char path[PATH_MAX];
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	cml_tristate only = CML_UNSET;

	*partial = false;
	if (r == NULL)
		return fail(p, CML_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < p->n && only == CML_UNSET; i++) {
		if (!p->files[i].f.import)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", p->dir, p->files[i].name) >=
		            sizeof(path) ||
		    cml_reader_open_file(r, path) != CML_OK)
			continue;
		/* headers come before items: little is read */
		while (only == CML_UNSET && cml_reader_next(r, &it) == CML_OK) {
			if (it->kind == CML_ITEM_CLASSIFIER)
				only = it->u.classifier.only_changes;
			else if (it->kind == CML_ITEM_CATALOG)
				only = it->u.catalog.only_changes;
			else if (it->kind == CML_ITEM_OFFERS_PACKAGE)
				only = it->u.package.only_changes;
			else if (it->kind == CML_ITEM_PRODUCT || it->kind == CML_ITEM_OFFER)
				break;
		}
	}
	cml_reader_free(r);
	*partial = only == CML_TRUE;
	return CML_OK;
}
