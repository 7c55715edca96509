/*
 * alloc.c: the library's allocation functions, arena and buffers.
 * Failure injection lives here so that a test can make the Nth
 * allocation fail and check that every error path cleans up.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cml_private.h"

static long fail_countdown; /* 0: off */

void
cml_alloc_fail_after(long n)
{
	fail_countdown = n > 0 ? n : 0;
}

static bool
should_fail(void)
{
	if (fail_countdown == 0)
		return false;
	if (fail_countdown == 1)
		return true; /* stays 1: every later allocation fails too */
	fail_countdown--;
	return false;
}

void *
cml_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n ? n : 1);
}

void *
cml_calloc(size_t n, size_t size)
{
	if (should_fail())
		return NULL;
	return calloc(n ? n : 1, size ? size : 1);
}

void *
cml_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n ? n : 1);
}

void
cml_free(void *p)
{
	free(p);
}

char *
cml_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = cml_malloc(n);

	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

/* ---- arena ---- */

struct cml_arena_chunk {
	cml_arena_chunk *next;
	size_t cap;
	size_t off;
	max_align_t data[]; /* aligned storage */
};

#define ARENA_CHUNK_MIN (16 * 1024)

void
cml_arena_init(cml_arena *a)
{
	a->head = NULL;
	a->spare = NULL;
	a->used = 0;
}

void *
cml_arena_alloc(cml_arena *a, size_t n)
{
	const size_t align = sizeof(max_align_t);
	cml_arena_chunk *c = a->head;

	n = (n + align - 1) & ~(align - 1);
	if (n == 0)
		n = align;
	if (c == NULL || c->cap - c->off < n) {
		size_t cap = ARENA_CHUNK_MIN;

		while (cap < n)
			cap *= 2;
		if (a->spare != NULL && a->spare->cap >= n) {
			c = a->spare;
			a->spare = NULL;
		} else {
			c = cml_malloc(sizeof(*c) + cap);
			if (c == NULL)
				return NULL;
			c->cap = cap;
		}
		c->off = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->off;
	c->off += n;
	a->used += n;
	return p;
}

char *
cml_arena_strndup(cml_arena *a, const char *s, size_t n)
{
	char *d = cml_arena_alloc(a, n + 1);

	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

char *
cml_arena_strdup(cml_arena *a, const char *s)
{
	return cml_arena_strndup(a, s, strlen(s));
}

void
cml_arena_reset(cml_arena *a)
{
	/* Keep the largest chunk as the spare; free the rest. */
	cml_arena_chunk *keep = a->spare;

	for (cml_arena_chunk *c = a->head, *next; c != NULL; c = next) {
		next = c->next;
		if (keep == NULL || c->cap > keep->cap) {
			cml_free(keep);
			keep = c;
		} else {
			cml_free(c);
		}
	}
	a->head = NULL;
	a->spare = keep;
	a->used = 0;
}

void
cml_arena_destroy(cml_arena *a)
{
	cml_arena_reset(a);
	cml_free(a->spare);
	a->spare = NULL;
}

/* ---- buffers and messages ---- */

bool
cml_buf_append(cml_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = cml_realloc(b->data, cap);
		if (d == NULL)
			return false;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

bool
cml_buf_appendf(cml_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n < sizeof(tmp))
		return cml_buf_append(b, tmp, (size_t)n);

	char *big = cml_malloc((size_t)n + 1);
	if (big == NULL)
		return false;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	bool ok = cml_buf_append(b, big, (size_t)n);
	cml_free(big);
	return ok;
}

void
cml_buf_clear(cml_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
cml_buf_free(cml_buf *b)
{
	cml_free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
cml_msg_vset(char *dst, size_t cap, const char *fmt, va_list ap)
{
	if (cap == 0)
		return;
	if (vsnprintf(dst, cap, fmt, ap) < 0)
		dst[0] = '\0';
}

void
cml_msg_set(char *dst, size_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cml_msg_vset(dst, cap, fmt, ap);
	va_end(ap);
}

char *
cml_trim(char *s)
{
	char *end;

	for (;;) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		else if ((unsigned char)s[0] == 0xC2 && (unsigned char)s[1] == 0xA0)
			s += 2;
		else
			break;
	}
	end = s + strlen(s);
	while (end > s) {
		if (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r')
			end--;
		else if (end - s >= 2 && (unsigned char)end[-2] == 0xC2 &&
		         (unsigned char)end[-1] == 0xA0)
			end -= 2;
		else
			break;
	}
	*end = '\0';
	return s;
}
