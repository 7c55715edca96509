/*
 * cml_private.h: helpers shared inside libcml. Never installed; programs
 * under cmd/ must not include it.
 */
#ifndef CML_PRIVATE_H
#define CML_PRIVATE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "cml/cml.h"

#if defined(__GNUC__) || defined(__clang__)
#define CML_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CML_PRINTF(f, a)
#endif

#define CML_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Every allocation of the library goes through these (see
 * cml_alloc_fail_after()). cml_free accepts NULL. */
void *cml_malloc(size_t n);
void *cml_calloc(size_t n, size_t size);
void *cml_realloc(void *p, size_t n);
void cml_free(void *p);
char *cml_strdup(const char *s);

/*
 * Arena: bump allocation in chunks, released all at once. Items are built
 * in one and the arena is reset before the next item, so the memory of a
 * reader is that of its biggest item, not of the file.
 */
typedef struct cml_arena_chunk cml_arena_chunk;
typedef struct cml_arena {
	cml_arena_chunk *head;   /* chunk being filled */
	cml_arena_chunk *spare;  /* kept across resets */
	size_t used;             /* bytes handed out since the last reset */
} cml_arena;

void cml_arena_init(cml_arena *a);
void *cml_arena_alloc(cml_arena *a, size_t n);          /* aligned, NULL on OOM */
char *cml_arena_strndup(cml_arena *a, const char *s, size_t n);
char *cml_arena_strdup(cml_arena *a, const char *s);
void cml_arena_reset(cml_arena *a);   /* keeps one chunk for reuse */
void cml_arena_destroy(cml_arena *a);

/* Growable byte buffer, always NUL-terminated when len > 0. */
typedef struct cml_buf {
	char *data;
	size_t len;
	size_t cap;
} cml_buf;

bool cml_buf_append(cml_buf *b, const char *s, size_t n);
bool cml_buf_appendf(cml_buf *b, const char *fmt, ...) CML_PRINTF(2, 3);
void cml_buf_clear(cml_buf *b);
void cml_buf_free(cml_buf *b);

/* vsnprintf into a fixed message buffer, never overflowing. */
void cml_msg_set(char *dst, size_t cap, const char *fmt, ...) CML_PRINTF(3, 4);
void cml_msg_vset(char *dst, size_t cap, const char *fmt, va_list ap) CML_PRINTF(3, 0);

/*
 * The UTF-8 sequence at s (at most n bytes; a NUL ends it too): its
 * length, with the code point in *cp, or 0 when the bytes are not one
 * (stray continuation, truncated, overlong, surrogate, above U+10FFFF).
 * The one decoder the library's UTF-8 checks share.
 */
size_t cml_utf8_decode(const unsigned char *s, size_t n, unsigned long *cp);

/* Whether the n bytes at s are all UTF-8 (by cml_utf8_decode). */
bool cml_utf8_valid(const char *s, size_t n);

/* Trims ASCII whitespace and U+00A0 at both ends, in place; returns s. */
char *cml_trim(char *s);

/* Appends s as a JSON string (quotes, escapes, a byte that is no UTF-8
 * as U+FFFD): the one JSON string writer (dump.c). False on OOM. */
bool cml_json_string(cml_buf *b, const char *s);

/* Appends the canonical dump line of item (cml_item_dump_json's, with
 * its newline) to b: CML_ERR_NOMEM or CML_ERR_USAGE on failure. */
struct cml_item;
cml_status cml_item_dump_buf(const struct cml_item *item, cml_buf *b);

#define CML_ERRMSG_MAX 1024

#endif /* CML_PRIVATE_H */
