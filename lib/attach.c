/*
 * attach.c: the files a catalog refers to (see attach.h).
 *
 * A reference is made relative and '/'-separated first (a backslash is
 * '/', empty and "." components go); an absolute path or a ".." component
 * is refused before anything is looked at. What is left is joined to the
 * real path of the input's directory and resolved with realpath(3): a
 * result outside that directory went through a symbolic link that leaves
 * it, and is refused. When the file does not exist, the longest prefix
 * that does is resolved instead, so that a link to a directory outside is
 * refused even when the file behind it is missing. A file inside is
 * opened by its real path with O_NOFOLLOW and hashed in chunks.
 *
 * Every file is looked at once per cml_attach: the answer (state, size,
 * hash, real path) is kept under its joined path in an open-addressing
 * table, so the fingerprinter and the writer, which both ask about the
 * same item, and the many items that name one picture, cost one read.
 * The memory is that of the files named, not of the items.
 *
 * A missing file is told once per reference (input, line, reference):
 * the second question about the same item (writer after fingerprinter)
 * says nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "cml/attach.h"
#include "cml_private.h"

#define CHUNK (64 * 1024)

typedef struct entry {
	const char *key;      /* BASE/PATH; NULL: a free slot */
	const char *path;
	const char *source;
	const char *why;      /* unsafe or missing: the reason */
	uint64_t h;
	cml_ref_state state;
	int64_t size;
	cml_fp hash;
} entry;

typedef struct table {
	entry *v;
	size_t cap, n;
} table;

struct cml_attach {
	cml_warn_fn *warn;
	void *warn_ud;
	cml_arena arena;      /* every string the entries and refs hold */
	table files;          /* one entry per file looked at */
	table warned;         /* "FILE\nLINE\nREF" of the warnings given */
	char *base_of;        /* the input file whose directory is base */
	char *base;           /* its directory's real path */
	cml_ref *refs;
	size_t refs_cap;
	cml_buf key;          /* PATH of the reference being resolved */
	cml_buf full;         /* BASE/PATH */
	cml_buf msg;
	unsigned char *chunk;
	char errmsg[CML_ERRMSG_MAX];
};

static const char nomem_msg[] = "out of memory";

/* ---- the table ---- */

static uint64_t
key_hash(const char *s, size_t n)
{
	return XXH3_64bits(s, n);
}

/* The slot of key: its entry, or the free slot where it would go. */
static entry *
t_find(table *t, const char *key, uint64_t h)
{
	size_t mask = t->cap - 1;

	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		entry *e = &t->v[i];

		if (e->key == NULL || (e->h == h && strcmp(e->key, key) == 0))
			return e;
	}
}

static bool
t_grow(table *t)
{
	size_t cap = t->cap ? t->cap * 2 : 256;
	entry *v = cml_calloc(cap, sizeof(*v));

	if (v == NULL)
		return false;
	for (size_t i = 0; i < t->cap; i++) {
		entry *o = &t->v[i];

		if (o->key == NULL)
			continue;
		for (size_t j = (size_t)o->h & (cap - 1);; j = (j + 1) & (cap - 1)) {
			if (v[j].key == NULL) {
				v[j] = *o;
				break;
			}
		}
	}
	cml_free(t->v);
	t->v = v;
	t->cap = cap;
	return true;
}

/* The entry of key, added (state 0) when new; NULL on OOM. */
static entry *
t_get(table *t, cml_arena *a, const char *key, size_t n, bool *added)
{
	uint64_t h = key_hash(key, n);
	entry *e;

	*added = false;
	if ((t->n + 1) * 4 > t->cap * 3 && !t_grow(t))
		return NULL;
	e = t_find(t, key, h);
	if (e->key != NULL)
		return e;
	if ((e->key = cml_arena_strndup(a, key, n)) == NULL)
		return NULL;
	e->h = h;
	t->n++;
	*added = true;
	return e;
}

/* ---- the handle ---- */

cml_attach *
cml_attach_new(const cml_attach_opts *opts)
{
	cml_attach *a = cml_calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	if ((a->chunk = cml_malloc(CHUNK)) == NULL) {
		cml_free(a);
		return NULL;
	}
	if (opts != NULL) {
		a->warn = opts->warn;
		a->warn_ud = opts->warn_ud;
	}
	cml_arena_init(&a->arena);
	return a;
}

void
cml_attach_free(cml_attach *a)
{
	if (a == NULL)
		return;
	cml_arena_destroy(&a->arena);
	cml_free(a->files.v);
	cml_free(a->warned.v);
	cml_free(a->base_of);
	cml_free(a->base);
	cml_free(a->refs);
	cml_buf_free(&a->key);
	cml_buf_free(&a->full);
	cml_buf_free(&a->msg);
	cml_free(a->chunk);
	cml_free(a);
}

const char *
cml_attach_errmsg(const cml_attach *a)
{
	return a != NULL ? a->errmsg : "no attach context";
}

/* ---- resolving ---- */

static const char *
origin_file(const cml_item *it)
{
	const char *f = it->origin.file;

	return f == NULL || *f == '\0' ? "-" : f;
}

/* a->base: the real path of the directory of file ("-": the current
 * directory), kept while the items come from one file. */
static cml_status
set_base(cml_attach *a, const char *file)
{
	char *dir = NULL, real[PATH_MAX];
	const char *slash;

	if (a->base_of != NULL && strcmp(a->base_of, file) == 0)
		return CML_OK;
	cml_free(a->base_of);
	cml_free(a->base);
	a->base_of = a->base = NULL;
	slash = strcmp(file, "-") == 0 ? NULL : strrchr(file, '/');
	if (slash == NULL)
		dir = cml_strdup(".");
	else if (slash == file)
		dir = cml_strdup("/");
	else if ((dir = cml_malloc((size_t)(slash - file) + 1)) != NULL) {
		memcpy(dir, file, (size_t)(slash - file));
		dir[slash - file] = '\0';
	}
	if (dir == NULL)
		goto oom;
	if (realpath(dir, real) == NULL) {
		cml_msg_set(a->errmsg, sizeof(a->errmsg), "%s: %s", dir, strerror(errno));
		cml_free(dir);
		return CML_ERR_IO;
	}
	cml_free(dir);
	a->base = cml_strdup(real);
	if (a->base == NULL || (a->base_of = cml_strdup(file)) == NULL)
		goto oom;
	return CML_OK;
oom:
	cml_free(a->base);
	a->base = NULL;
	cml_msg_set(a->errmsg, sizeof(a->errmsg), nomem_msg);
	return CML_ERR_NOMEM;
}

/*
 * The reference made relative and '/'-separated into out (the package
 * name), or the reason it is unsafe.
 */
static const char *
normalise(const char *ref, size_t len, cml_buf *out)
{
	size_t i = 0;

	cml_buf_clear(out);
	if (len == 0)
		return "an empty path";
	if (ref[0] == '/' || ref[0] == '\\')
		return "an absolute path";
	if (len >= 2 && ref[1] == ':' &&
	    ((ref[0] >= 'A' && ref[0] <= 'Z') || (ref[0] >= 'a' && ref[0] <= 'z')))
		return "an absolute path";
	while (i < len) {
		size_t j = i;

		while (j < len && ref[j] != '/' && ref[j] != '\\')
			j++;
		if (j - i == 2 && ref[i] == '.' && ref[i + 1] == '.')
			return "a '..' component";
		if (j > i && !(j - i == 1 && ref[i] == '.')) {
			if ((out->len > 0 && !cml_buf_append(out, "/", 1)) ||
			    !cml_buf_append(out, ref + i, j - i))
				return nomem_msg;
		}
		i = j + 1;
	}
	if (out->len == 0)
		return "names no file";
	return NULL;
}

/* Whether the real path p is base or under it. */
static bool
inside(const char *base, const char *p)
{
	size_t n = strlen(base);

	if (strcmp(base, "/") == 0)
		return true;
	return strncmp(p, base, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* A file that realpath cannot resolve: whether the part of its path that
 * exists stays inside base (then it is missing) or not (unsafe). key is
 * cut down in place. */
static bool
prefix_inside(const char *base, char *key)
{
	size_t blen = strlen(base);
	char *cut;

	while ((cut = strrchr(key, '/')) != NULL && (size_t)(cut - key) > blen) {
		char real[PATH_MAX];

		*cut = '\0';
		if (realpath(key, real) != NULL)
			return inside(base, real);
	}
	return true;
}

/* Reads the file at e->source: its size and hash. */
static cml_status
hash_file(cml_attach *a, entry *e, int *err)
{
	XXH3_state_t *s = NULL;
	struct stat sb;
	/* O_NONBLOCK: a FIFO put where a picture should be does not hang the
	 * run; it is no regular file, so missing */
	int fd = open(e->source, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	cml_status st = CML_OK;
	int64_t size = 0;

	*err = 0;
	if (fd < 0) {
		*err = errno;
		return CML_ERR_IO;
	}
	if (fstat(fd, &sb) != 0) {
		*err = errno;
		st = CML_ERR_IO;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		e->state = CML_REF_MISSING;
		e->why = "not a regular file";
		e->source = NULL;
		goto out;
	}
	if ((s = XXH3_createState()) == NULL || XXH3_128bits_reset(s) != XXH_OK) {
		st = CML_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, a->chunk, CHUNK);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*err = errno;
			st = CML_ERR_IO;
			goto out;
		}
		if (r == 0)
			break;
		(void)XXH3_128bits_update(s, a->chunk, (size_t)r);
		size += r;
	}
	XXH128_hash_t h = XXH3_128bits_digest(s);
	e->state = CML_REF_PRESENT;
	e->size = size;
	e->hash.hi = h.high64;
	e->hash.lo = h.low64;
out:
	XXH3_freeState(s);
	close(fd);
	return st;
}

/* Looks at the file behind a new entry (e->path set). */
static cml_status
look(cml_attach *a, entry *e, const cml_item *it, const char *element, const char *written)
{
	char *key = cml_strdup(e->key);
	char real[PATH_MAX];
	cml_status st = CML_OK;
	int err;

	if (key == NULL)
		return CML_ERR_NOMEM;
	if (realpath(key, real) == NULL) {
		err = errno;
		if (err == ENOMEM) {
			st = CML_ERR_NOMEM;
		} else if ((err == ENOENT || err == ENOTDIR) && !prefix_inside(a->base, key)) {
			e->state = CML_REF_UNSAFE;
			e->why = "leads outside the input's directory through a symbolic link";
		} else {
			e->state = CML_REF_MISSING;
			e->why = err == ENOENT || err == ENOTDIR ? "no such file" : strerror(err);
		}
		goto out;
	}
	if (!inside(a->base, real)) {
		e->state = CML_REF_UNSAFE;
		e->why = "leads outside the input's directory through a symbolic link";
		goto out;
	}
	if ((e->source = cml_arena_strdup(&a->arena, real)) == NULL) {
		st = CML_ERR_NOMEM;
		goto out;
	}
	if ((st = hash_file(a, e, &err)) == CML_ERR_IO) {
		if (err == ENOENT) { /* gone between realpath and open */
			e->state = CML_REF_MISSING;
			e->why = "no such file";
			e->source = NULL;
			st = CML_OK;
		} else {
			cml_msg_set(a->errmsg, sizeof(a->errmsg), "%s:%lu: <%s> '%s': %s: %s",
			    origin_file(it), it->origin.line, element, written, e->source,
			    strerror(err));
		}
	}
out:
	cml_free(key);
	return st;
}

/* Tells of a missing file once per (input, line, reference). */
static cml_status
warn_missing(cml_attach *a, const cml_item *it, const cml_ref *r, const char *why)
{
	entry *w;
	bool added;

	if (a->warn == NULL)
		return CML_OK;
	cml_buf_clear(&a->msg);
	if (!cml_buf_appendf(&a->msg, "%s\n%lu\n%s\n%s", origin_file(it), it->origin.line,
	        r->element, r->written))
		return CML_ERR_NOMEM;
	if ((w = t_get(&a->warned, &a->arena, a->msg.data, a->msg.len, &added)) == NULL)
		return CML_ERR_NOMEM;
	if (!added)
		return CML_OK;
	cml_buf_clear(&a->msg);
	if (!cml_buf_appendf(&a->msg, "%s:%lu: <%s> '%s': %s: the card goes without it",
	        origin_file(it), it->origin.line, r->element, r->written, why))
		return CML_ERR_NOMEM;
	a->warn(a->warn_ud, a->msg.data);
	return CML_OK;
}

/* Resolves one reference into r. */
static cml_status
resolve(cml_attach *a, const cml_item *it, const char *element, const char *written,
    size_t len, cml_ref *r)
{
	const char *why;
	entry *e;
	bool added;
	cml_status st;

	memset(r, 0, sizeof(*r));
	r->element = element;
	r->written = written;
	why = normalise(written, len, &a->key);
	if (why == nomem_msg)
		return CML_ERR_NOMEM;
	if (why != NULL) {
		r->state = CML_REF_UNSAFE;
		goto unsafe;
	}
	cml_buf_clear(&a->full);
	if (!cml_buf_append(&a->full, a->base, strlen(a->base)) ||
	    !cml_buf_append(&a->full, "/", 1) ||
	    !cml_buf_append(&a->full, a->key.data, a->key.len))
		return CML_ERR_NOMEM;
	if ((e = t_get(&a->files, &a->arena, a->full.data, a->full.len, &added)) == NULL)
		return CML_ERR_NOMEM;
	if (added) {
		if ((e->path = cml_arena_strndup(&a->arena, a->key.data, a->key.len)) == NULL)
			return CML_ERR_NOMEM;
		if ((st = look(a, e, it, element, written)) != CML_OK)
			return st;
	}
	r->state = e->state;
	why = e->why;
	if (e->state == CML_REF_UNSAFE)
		goto unsafe;
	r->path = e->path;
	/* the item's strings are not ours: the path stands for the reference
	 * when they are the same, so the memory stays that of the files */
	r->written = strcmp(written, e->path) == 0 ? e->path :
	    cml_arena_strdup(&a->arena, written);
	if (r->written == NULL)
		return CML_ERR_NOMEM;
	if (e->state == CML_REF_MISSING)
		return warn_missing(a, it, r, why);
	r->source = e->source;
	r->size = e->size;
	r->hash = e->hash;
	return CML_OK;
unsafe:
	if ((r->written = cml_arena_strdup(&a->arena, written)) == NULL)
		return CML_ERR_NOMEM;
	cml_msg_set(a->errmsg, sizeof(a->errmsg), "%s:%lu: <%s> '%s': %s", origin_file(it),
	    it->origin.line, element, written, why);
	return CML_ERR_VALUE;
}

/* "scheme://": a URL, not a file (RFC 3986 scheme characters). */
static bool
is_url(const char *s)
{
	const char *p = s;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return false;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	return p - s >= 2 && strncmp(p, "://", 3) == 0;
}

static bool
file_requisite(const char *name)
{
	return name != NULL && (strcmp(name, "ОписаниеФайла") == 0 || strcmp(name, "Файл") == 0);
}

static bool
refs_room(cml_attach *a, size_t n)
{
	if (n <= a->refs_cap)
		return true;
	size_t cap = a->refs_cap ? a->refs_cap : 8;

	while (cap < n)
		cap *= 2;
	cml_ref *v = cml_realloc(a->refs, cap * sizeof(*v));
	if (v == NULL)
		return false;
	a->refs = v;
	a->refs_cap = cap;
	return true;
}

/*
 * Every reference is resolved even after an unsafe one, so that a
 * checker can list them all: on CML_ERR_VALUE *refs and *n hold them
 * (the unsafe ones with path NULL) and the message names the first.
 */
cml_status
cml_attach_item(cml_attach *a, const cml_item *item, const cml_ref **refs, size_t *n)
{
	const cml_product *p;
	cml_status st = CML_OK, first = CML_OK;
	char first_msg[CML_ERRMSG_MAX] = "";
	size_t k = 0, want;

	if (refs != NULL)
		*refs = NULL;
	if (n != NULL)
		*n = 0;
	if (a == NULL || item == NULL || refs == NULL || n == NULL)
		return CML_ERR_USAGE;
	if (item->kind != CML_ITEM_PRODUCT)
		return CML_OK;
	p = &item->u.product;
	want = p->n_pictures;
	for (size_t i = 0; i < p->n_requisites; i++)
		want += file_requisite(p->requisites[i].name);
	if (want == 0)
		return CML_OK;
	if ((st = set_base(a, origin_file(item))) != CML_OK)
		return st;
	if (!refs_room(a, want))
		goto oom;
	for (size_t i = 0; i < p->n_pictures; i++) {
		const char *s = p->pictures[i];

		if (s == NULL || *s == '\0' || is_url(s))
			continue;
		st = resolve(a, item, "Картинка", s, strlen(s), &a->refs[k]);
		if (st == CML_ERR_VALUE || st == CML_OK)
			k++;
		if (st == CML_ERR_VALUE && first == CML_OK) {
			first = st;
			memcpy(first_msg, a->errmsg, sizeof(first_msg));
		} else if (st != CML_OK && st != CML_ERR_VALUE)
			goto fail;
	}
	for (size_t i = 0; i < p->n_requisites; i++) {
		const cml_pair *q = &p->requisites[i];
		const char *s = q->value, *hash;

		if (!file_requisite(q->name) || s == NULL || *s == '\0' || is_url(s))
			continue;
		hash = strchr(s, '#');
		st = resolve(a, item, q->name, s, hash != NULL ? (size_t)(hash - s) : strlen(s),
		    &a->refs[k]);
		if (st == CML_ERR_VALUE || st == CML_OK)
			k++;
		if (st == CML_ERR_VALUE && first == CML_OK) {
			first = st;
			memcpy(first_msg, a->errmsg, sizeof(first_msg));
		} else if (st != CML_OK && st != CML_ERR_VALUE)
			goto fail;
	}
	*refs = a->refs;
	*n = k;
	if (first != CML_OK)
		memcpy(a->errmsg, first_msg, sizeof(a->errmsg));
	return first;
fail:
	if (st == CML_ERR_NOMEM)
		goto oom;
	return st;
oom:
	cml_msg_set(a->errmsg, sizeof(a->errmsg), nomem_msg);
	return CML_ERR_NOMEM;
}
