/*
 * pkgfiles.c: the attached files of a package being written (see
 * pkgfiles.h).
 *
 * A file is staged as soon as the card naming it is written: a hard link
 * to the input's file when DIR is on the same filesystem (nothing copied,
 * nothing to sync: the bytes are the input's), else a copy, synced, as
 * the XML is before the journal names it. The temporary name is beside the
 * final one, so the rename at finish stays in one directory, and carries
 * the writer's prefix and PID, so that cml_writer_recover can tell the
 * files of a dead run in the subdirectories too.
 *
 * Directories are walked from an open DIR one component at a time with
 * O_NOFOLLOW | O_DIRECTORY: a symbolic link anywhere on the way is an
 * error (ELOOP or ENOTDIR), never followed out of DIR.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cml/writer.h"
#include "pkgfiles.h"

#define COPY_CHUNK (64 * 1024)
#define STALE_ROOT "import_files"
#define MAX_DEPTH 32

typedef struct staged {
	const char *path;     /* the name in the package */
	const char *tmp;      /* its temporary name, relative to DIR */
	bool installed;
} staged;

struct cml_pkgfiles {
	char *dir;
	int dfd;
	cml_arena arena;
	staged *v;
	size_t n, cap;
	size_t *tab;          /* open addressing: index + 1 into v, 0 free */
	size_t tcap;
	const char **stale;   /* files of an earlier package to remove */
	size_t n_stale, cap_stale;
	char *cur;            /* the directory cur_fd is open on */
	int cur_fd;
	bool sorted;
	bool installing;      /* renames under way: a directory left is synced */
	const char **made;    /* the directories staging created, in order */
	size_t n_made, cap_made;
	cml_buf name;
};

/* ---- paths ---- */

bool
cml_pkgfiles_safe_path(const char *s)
{
	if (s == NULL || *s == '\0' || *s == '/')
		return false;
	for (const char *p = s;;) {
		const char *e = strchr(p, '/');
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (e == NULL)
			return true;
		p = e + 1;
	}
}

/* Opens the directory rel[0..len) under root, one component at a time,
 * never following a link; creates what is missing when create. -1 with
 * errno on failure. */
static void made_dir(cml_pkgfiles *pf, const char *rel, size_t len);

static int
walk(int root, const char *rel, size_t len, bool create, cml_pkgfiles *pf)
{
	char comp[NAME_MAX + 1];
	int fd = fcntl(root, F_DUPFD_CLOEXEC, 0);
	size_t i = 0;

	while (fd >= 0 && i < len) {
		size_t j = i;

		while (j < len && rel[j] != '/')
			j++;
		if (j - i > NAME_MAX) {
			close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, rel + i, j - i);
		comp[j - i] = '\0';
		if (create && mkdirat(fd, comp, 0777) == 0)
			made_dir(pf, rel, j);
		else if (create && errno != EEXIST) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;

		close(fd);
		errno = e;
		fd = next;
		i = j + 1;
	}
	return fd;
}

/* Notes a directory staging created, so that a package never put in
 * place leaves none behind (cml_pkgfiles_free). Best effort: without
 * memory it stays. */
static void
made_dir(cml_pkgfiles *pf, const char *rel, size_t len)
{
	if (pf == NULL)
		return;
	if (pf->n_made == pf->cap_made) {
		size_t cap = pf->cap_made ? pf->cap_made * 2 : 16;
		const char **v = cml_realloc(pf->made, cap * sizeof(*v));

		if (v == NULL)
			return;
		pf->made = v;
		pf->cap_made = cap;
	}
	if ((pf->made[pf->n_made] = cml_arena_strndup(&pf->arena, rel, len)) != NULL)
		pf->n_made++;
}

/* The length of path's directory part (0: none) and its last name. */
static size_t
split(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	*base = slash != NULL ? slash + 1 : path;
	return slash != NULL ? (size_t)(slash - path) : 0;
}

static const char *
why(int e)
{
	return e == ELOOP || e == ENOTDIR ?
	    "a symbolic link or a file where a directory should be: refused" :
	    strerror(e);
}

/* The fd of the directory of path in DIR, kept open while the files of
 * one directory come; -1 with the message in err. */
static int
parent(cml_pkgfiles *pf, const char *path, bool create, char *err, size_t cap)
{
	const char *base;
	size_t len = split(path, &base);

	if (pf->cur != NULL && strlen(pf->cur) == len && memcmp(pf->cur, path, len) == 0)
		return pf->cur_fd;
	if (pf->cur_fd >= 0) {
		if (pf->installing)
			(void)fsync(pf->cur_fd); /* the renames into it are durable */
		close(pf->cur_fd);
	}
	cml_free(pf->cur);
	pf->cur = NULL;
	pf->cur_fd = walk(pf->dfd, path, len, create, pf);
	if (pf->cur_fd < 0) {
		cml_msg_set(err, cap, "%s/%.*s: %s", pf->dir, (int)len, path, why(errno));
		return -1;
	}
	if ((pf->cur = cml_malloc(len + 1)) == NULL) {
		close(pf->cur_fd);
		pf->cur_fd = -1;
		cml_msg_set(err, cap, "out of memory");
		return -1;
	}
	memcpy(pf->cur, path, len);
	pf->cur[len] = '\0';
	return pf->cur_fd;
}

/* ---- the handle ---- */

cml_pkgfiles *
cml_pkgfiles_new(const char *dir)
{
	cml_pkgfiles *pf = cml_calloc(1, sizeof(*pf));

	if (pf == NULL)
		return NULL;
	pf->dfd = -1;
	pf->cur_fd = -1;
	cml_arena_init(&pf->arena);
	if ((pf->dir = cml_strdup(dir)) == NULL) {
		cml_pkgfiles_free(pf);
		return NULL;
	}
	return pf;
}

void
cml_pkgfiles_free(cml_pkgfiles *pf)
{
	if (pf == NULL)
		return;
	for (size_t i = 0; i < pf->n; i++) {
		char dummy[1];
		const char *base;
		int fd;

		if (pf->v[i].installed)
			continue;
		split(pf->v[i].tmp, &base);
		if ((fd = parent(pf, pf->v[i].tmp, false, dummy, sizeof(dummy))) >= 0)
			(void)unlinkat(fd, base, 0);
	}
	if (pf->cur_fd >= 0)
		close(pf->cur_fd);
	/* not put in place: the directories made for it go too, deepest first */
	for (size_t i = pf->n_made; i > 0 && pf->dfd >= 0 && !pf->installing; i--)
		(void)unlinkat(pf->dfd, pf->made[i - 1], AT_REMOVEDIR);
	if (pf->dfd >= 0)
		close(pf->dfd);
	cml_free(pf->cur);
	cml_free(pf->v);
	cml_free(pf->tab);
	cml_free(pf->stale);
	cml_free(pf->made);
	cml_free(pf->dir);
	cml_buf_free(&pf->name);
	cml_arena_destroy(&pf->arena);
	cml_free(pf);
}

/* ---- the set of staged names ---- */

static size_t
name_hash(const char *s)
{
	size_t h = 1469598103934665603u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* The slot for path: holding it, or free. */
static size_t *
slot(cml_pkgfiles *pf, const char *path)
{
	size_t mask = pf->tcap - 1;

	for (size_t i = name_hash(path) & mask;; i = (i + 1) & mask) {
		size_t *s = &pf->tab[i];

		if (*s == 0 || strcmp(pf->v[*s - 1].path, path) == 0)
			return s;
	}
}

static bool
grow(cml_pkgfiles *pf)
{
	if (pf->n == pf->cap) {
		size_t cap = pf->cap ? pf->cap * 2 : 64;
		staged *v = cml_realloc(pf->v, cap * sizeof(*v));

		if (v == NULL)
			return false;
		pf->v = v;
		pf->cap = cap;
	}
	if ((pf->n + 1) * 2 > pf->tcap) {
		size_t tcap = pf->tcap ? pf->tcap * 2 : 128;
		size_t *tab = cml_calloc(tcap, sizeof(*tab)), *old = pf->tab;

		if (tab == NULL)
			return false;
		pf->tab = tab;
		pf->tcap = tcap;
		for (size_t i = 0; i < pf->n; i++)
			*slot(pf, pf->v[i].path) = i + 1;
		cml_free(old);
	}
	return true;
}

/* ---- staging ---- */

static cml_status
copy_into(int from, int to)
{
	static _Thread_local char buf[COPY_CHUNK];

	for (;;) {
		ssize_t r = read(from, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return CML_ERR_IO;
		if (r == 0)
			break;
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(to, buf + off, (size_t)(r - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return CML_ERR_IO;
			off += w;
		}
	}
	return fsync(to) == 0 ? CML_OK : CML_ERR_IO;
}

/* Links (else copies) source to a new temporary name in fd; the name
 * into pf->name. */
static cml_status
stage(cml_pkgfiles *pf, int fd, const char *base, const char *source, char *err, size_t cap)
{
	static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static unsigned long counter;
	char name[NAME_MAX + 1];
	int e = 0;

	for (int tries = 0; tries < 100; tries++) {
		struct timespec ts;
		unsigned long long r;
		char suffix[7];

		clock_gettime(CLOCK_REALTIME, &ts);
		r = (unsigned long long)ts.tv_nsec * 2654435761u ^
		    (unsigned long long)getpid() << 16 ^ ++counter * 40503u;
		for (int i = 0; i < 6; i++) {
			suffix[i] = chars[r % (sizeof(chars) - 1)];
			r /= sizeof(chars) - 1;
		}
		suffix[6] = '\0';
		snprintf(name, sizeof(name), "%s%ld.%.100s.%s", CML_WRITER_TMP_PREFIX,
		    (long)getpid(), base, suffix);
		if (linkat(AT_FDCWD, source, fd, name, 0) == 0)
			goto done;
		if ((e = errno) == EEXIST)
			continue;
		/* another filesystem, or links not allowed: a copy */
		int out = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (out < 0 && errno == EEXIST)
			continue;
		if (out < 0) {
			cml_msg_set(err, cap, "%s/%s/%s: %s", pf->dir, pf->cur, name, strerror(errno));
			return CML_ERR_IO;
		}
		int in = open(source, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		cml_status st = in < 0 ? CML_ERR_IO : copy_into(in, out);

		e = errno;
		if (in >= 0)
			close(in);
		if (close(out) != 0 && st == CML_OK) {
			st = CML_ERR_IO;
			e = errno;
		}
		if (st != CML_OK) {
			(void)unlinkat(fd, name, 0);
			cml_msg_set(err, cap, "%s: copying into %s: %s", source, pf->dir, strerror(e));
			return st;
		}
		goto done;
	}
	cml_msg_set(err, cap, "%s: no free temporary name", pf->dir);
	return CML_ERR_IO;
done:
	cml_buf_clear(&pf->name);
	if (!cml_buf_append(&pf->name, name, strlen(name))) {
		(void)unlinkat(fd, name, 0);
		cml_msg_set(err, cap, "out of memory");
		return CML_ERR_NOMEM;
	}
	return CML_OK;
}

cml_status
cml_pkgfiles_add(cml_pkgfiles *pf, const char *path, const char *source, char *err, size_t cap)
{
	const char *base;
	size_t len;
	size_t *s;
	cml_status st;
	int fd;

	if (pf == NULL || path == NULL || source == NULL)
		return CML_ERR_USAGE;
	if (!cml_pkgfiles_safe_path(path) || strpbrk(path, "\t\n") != NULL) {
		cml_msg_set(err, cap, "'%s': not a name a package can hold", path);
		return CML_ERR_VALUE;
	}
	if (pf->dfd < 0 &&
	    (pf->dfd = open(pf->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		cml_msg_set(err, cap, "%s: %s", pf->dir, strerror(errno));
		return CML_ERR_IO;
	}
	if (!grow(pf))
		goto oom;
	s = slot(pf, path);
	if (*s != 0)
		return CML_OK; /* named by an earlier card: put in once */
	if ((fd = parent(pf, path, true, err, cap)) < 0)
		return CML_ERR_IO;
	len = split(path, &base);
	if ((st = stage(pf, fd, base, source, err, cap)) != CML_OK)
		return st;
	staged *f = &pf->v[pf->n];
	char *tmp = cml_arena_alloc(&pf->arena, len + 1 + pf->name.len + 1);

	f->path = cml_arena_strdup(&pf->arena, path);
	if (tmp == NULL || f->path == NULL) {
		(void)unlinkat(fd, pf->name.data, 0);
		goto oom;
	}
	memcpy(tmp, path, len);
	if (len > 0)
		tmp[len++] = '/';
	memcpy(tmp + len, pf->name.data, pf->name.len + 1);
	f->tmp = tmp;
	f->installed = false;
	pf->n++;
	*s = pf->n;
	pf->sorted = false;
	return CML_OK;
oom:
	cml_msg_set(err, cap, "out of memory");
	return CML_ERR_NOMEM;
}

/* ---- finish ---- */

static int
cmp_staged(const void *x, const void *y)
{
	return strcmp(((const staged *)x)->path, ((const staged *)y)->path);
}

static bool
held(const cml_pkgfiles *pf, const char *path)
{
	size_t lo = 0, hi = pf->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(pf->v[mid].path, path);

		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Lists in pf->stale the files under the directory fd (at rel) that the
 * package does not hold. */
static cml_status
find_stale(cml_pkgfiles *pf, int fd, cml_buf *rel, int depth, char *err, size_t cap)
{
	cml_status st = CML_OK;
	struct dirent *de;
	size_t len = rel->len;
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;

	if (d == NULL) {
		if (dup >= 0)
			close(dup);
		cml_msg_set(err, cap, "%s/%s: %s", pf->dir, rel->data, strerror(errno));
		return CML_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strncmp(de->d_name, CML_WRITER_TMP_PREFIX, strlen(CML_WRITER_TMP_PREFIX)) == 0 ||
		    strpbrk(de->d_name, "\t\n") != NULL)
			continue;
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		rel->len = len;
		if (!cml_buf_append(rel, "/", 1) ||
		    !cml_buf_append(rel, de->d_name, strlen(de->d_name))) {
			st = CML_ERR_NOMEM;
			break;
		}
		if (S_ISDIR(sb.st_mode)) {
			if (depth >= MAX_DEPTH)
				continue;
			int sub = openat(fd, de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			st = find_stale(pf, sub, rel, depth + 1, err, cap);
			close(sub);
			if (st != CML_OK)
				break;
			continue;
		}
		if (held(pf, rel->data))
			continue;
		if (pf->n_stale == pf->cap_stale) {
			size_t c = pf->cap_stale ? pf->cap_stale * 2 : 64;
			const char **v = cml_realloc(pf->stale, c * sizeof(*v));

			if (v == NULL) {
				st = CML_ERR_NOMEM;
				break;
			}
			pf->stale = v;
			pf->cap_stale = c;
		}
		if ((pf->stale[pf->n_stale] = cml_arena_strdup(&pf->arena, rel->data)) == NULL) {
			st = CML_ERR_NOMEM;
			break;
		}
		pf->n_stale++;
	}
	closedir(d);
	rel->len = len;
	rel->data[len] = '\0';
	if (st == CML_ERR_NOMEM)
		cml_msg_set(err, cap, "out of memory");
	return st;
}

cml_status
cml_pkgfiles_prepare(cml_pkgfiles *pf, cml_buf *b, char *err, size_t cap)
{
	cml_buf rel = { 0 };
	cml_status st = CML_OK;
	int fd = -1;

	if (pf->dfd < 0 &&
	    (pf->dfd = open(pf->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		cml_msg_set(err, cap, "%s: %s", pf->dir, strerror(errno));
		return CML_ERR_IO;
	}
	if (!pf->sorted) {
		if (pf->n > 1)
			qsort(pf->v, pf->n, sizeof(*pf->v), cmp_staged);
		pf->sorted = true;
	}
	pf->n_stale = 0;
	fd = walk(pf->dfd, STALE_ROOT, strlen(STALE_ROOT), false, NULL);
	if (fd >= 0) {
		if (!cml_buf_append(&rel, STALE_ROOT, strlen(STALE_ROOT)))
			st = CML_ERR_NOMEM;
		else
			st = find_stale(pf, fd, &rel, 0, err, cap);
		close(fd);
		if (st != CML_OK)
			goto out;
	}
	for (size_t i = 0; i < pf->n; i++)
		if (!cml_buf_appendf(b, "%s\t%s\n", pf->v[i].tmp, pf->v[i].path))
			st = CML_ERR_NOMEM;
	for (size_t i = 0; i < pf->n_stale; i++)
		if (!cml_buf_appendf(b, "-\t%s\n", pf->stale[i]))
			st = CML_ERR_NOMEM;
	if (st == CML_ERR_NOMEM)
		cml_msg_set(err, cap, "out of memory");
out:
	cml_buf_free(&rel);
	return st;
}

/* Removes the directories under fd left empty, bottom up. */
static void
prune_dirs(int fd, int depth)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	struct dirent *de;

	if (d == NULL) {
		if (dup >= 0)
			close(dup);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    depth >= MAX_DEPTH)
			continue;
		int sub = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		prune_dirs(sub, depth + 1);
		close(sub);
		(void)unlinkat(fd, de->d_name, AT_REMOVEDIR); /* fails unless empty */
	}
	closedir(d);
}

cml_status
cml_pkgfiles_install(cml_pkgfiles *pf, char *err, size_t cap)
{
	pf->installing = true;
	for (size_t i = 0; i < pf->n; i++) {
		staged *f = &pf->v[i];
		const char *tb, *fb;
		int fd = parent(pf, f->path, false, err, cap);

		if (fd < 0)
			return CML_ERR_IO;
		split(f->tmp, &tb);
		split(f->path, &fb);
		if (renameat(fd, tb, fd, fb) != 0) {
			cml_msg_set(err, cap, "%s/%s: %s", pf->dir, f->path, strerror(errno));
			return CML_ERR_IO;
		}
		f->installed = true;
	}
	for (size_t i = 0; i < pf->n_stale; i++) {
		const char *base;
		int fd = parent(pf, pf->stale[i], false, err, cap);

		split(pf->stale[i], &base);
		if (fd < 0 || (unlinkat(fd, base, 0) != 0 && errno != ENOENT)) {
			cml_msg_set(err, cap, "%s/%s: %s", pf->dir, pf->stale[i], strerror(errno));
			return CML_ERR_IO;
		}
	}
	if (pf->cur_fd >= 0) {
		(void)fsync(pf->cur_fd);
		close(pf->cur_fd);
		pf->cur_fd = -1;
		cml_free(pf->cur);
		pf->cur = NULL;
	}
	if (pf->n_stale > 0) {
		int fd = walk(pf->dfd, STALE_ROOT, strlen(STALE_ROOT), false, NULL);

		if (fd >= 0) {
			prune_dirs(fd, 0);
			close(fd);
		}
	}
	return CML_OK;
}

size_t
cml_pkgfiles_count(const cml_pkgfiles *pf)
{
	return pf != NULL ? pf->n : 0;
}

const char *
cml_pkgfiles_name(const cml_pkgfiles *pf, size_t i)
{
	return pf != NULL && i < pf->n ? pf->v[i].path : NULL;
}

/* ---- recovery ---- */

static int
open_root(const char *dir, char *err, size_t cap)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		cml_msg_set(err, cap, "%s: %s", dir, strerror(errno));
	return fd;
}

cml_status
cml_pkgfiles_redo_rename(const char *dir, const char *from, const char *to, bool *renamed,
    char *err, size_t cap)
{
	const char *fb, *tb;
	size_t fl, tl;
	int root, fd;
	cml_status st = CML_OK;

	*renamed = false;
	if (!cml_pkgfiles_safe_path(from) || !cml_pkgfiles_safe_path(to))
		return CML_ERR_VALUE;
	fl = split(from, &fb);
	tl = split(to, &tb);
	if (fl != tl || memcmp(from, to, fl) != 0)
		return CML_ERR_VALUE;
	if ((root = open_root(dir, err, cap)) < 0)
		return CML_ERR_IO;
	fd = walk(root, from, fl, false, NULL);
	if (fd < 0) {
		if (errno != ENOENT) {
			cml_msg_set(err, cap, "%s/%.*s: %s", dir, (int)fl, from, why(errno));
			st = CML_ERR_IO;
		}
	} else {
		if (renameat(fd, fb, fd, tb) == 0) {
			*renamed = true;
			(void)fsync(fd);
		} else if (errno != ENOENT) {
			cml_msg_set(err, cap, "%s/%s: %s", dir, to, strerror(errno));
			st = CML_ERR_IO;
		}
		close(fd);
	}
	close(root);
	return st;
}

cml_status
cml_pkgfiles_redo_remove(const char *dir, const char *path, char *err, size_t cap)
{
	const char *base;
	size_t len;
	int root, fd;
	cml_status st = CML_OK;

	if (!cml_pkgfiles_safe_path(path))
		return CML_ERR_VALUE;
	len = split(path, &base);
	if ((root = open_root(dir, err, cap)) < 0)
		return CML_ERR_IO;
	fd = walk(root, path, len, false, NULL);
	if (fd >= 0) {
		if (unlinkat(fd, base, 0) != 0 && errno != ENOENT) {
			cml_msg_set(err, cap, "%s/%s: %s", dir, path, strerror(errno));
			st = CML_ERR_IO;
		}
		close(fd);
	}
	close(root);
	return st;
}

static cml_status
sweep(int fd, const char *dir, bool (*dead)(const char *name), size_t *removed, int depth,
    bool top, char *err, size_t cap)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
	struct dirent *de;
	cml_status st = CML_OK;

	if (d == NULL) {
		if (dup >= 0)
			close(dup);
		cml_msg_set(err, cap, "%s: %s", dir, strerror(errno));
		return CML_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			if (depth >= MAX_DEPTH)
				continue;
			int sub = openat(fd, de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				continue;
			st = sweep(sub, dir, dead, removed, depth + 1, false, err, cap);
			close(sub);
			if (st != CML_OK)
				break;
		} else if (!top && dead(de->d_name)) {
			if (unlinkat(fd, de->d_name, 0) == 0)
				(*removed)++;
			else if (errno != ENOENT) {
				cml_msg_set(err, cap, "%s: %s: %s", dir, de->d_name, strerror(errno));
				st = CML_ERR_IO;
				break;
			}
		}
	}
	closedir(d);
	return st;
}

cml_status
cml_pkgfiles_sweep(const char *dir, bool (*dead)(const char *name), size_t *removed,
    char *err, size_t cap)
{
	int root = open_root(dir, err, cap);
	cml_status st;

	if (root < 0)
		return CML_ERR_IO;
	st = sweep(root, dir, dead, removed, 0, true, err, cap);
	close(root);
	return st;
}
