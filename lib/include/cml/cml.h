/*
 * cml.h: the common part of libcml's public interface.
 *
 * Every public function that can fail returns a cml_status: 0 is OK,
 * a positive value is the end of a stream, negative values are errors.
 * The human-readable detail (file, line, element) lives on the handle
 * that failed: cml_reader_errmsg(), cml_writer_errmsg(), ...
 * The library never prints and never exits.
 */
#ifndef CML_CML_H
#define CML_CML_H

#include <stddef.h>

/*
 * Every public header wraps its declarations in CML_BEGIN_DECLS ..
 * CML_END_DECLS: C linkage for C++, and default visibility. libcml is
 * compiled with -fvisibility=hidden, so what these blocks declare is
 * exactly what the shared library exports (tests/cli/check-symbols.sh
 * holds the two together); private headers do not use them.
 */
#if defined(__GNUC__) || defined(__clang__)
#define CML_VISIBILITY_PUSH _Pragma("GCC visibility push(default)")
#define CML_VISIBILITY_POP _Pragma("GCC visibility pop")
#else
#define CML_VISIBILITY_PUSH
#define CML_VISIBILITY_POP
#endif
#ifdef __cplusplus
#define CML_BEGIN_DECLS extern "C" { CML_VISIBILITY_PUSH
#define CML_END_DECLS CML_VISIBILITY_POP }
#else
#define CML_BEGIN_DECLS CML_VISIBILITY_PUSH
#define CML_END_DECLS CML_VISIBILITY_POP
#endif

CML_BEGIN_DECLS

#if defined(__GNUC__) || defined(__clang__)
#define CML_NODISCARD __attribute__((warn_unused_result))
#else
#define CML_NODISCARD
#endif

#define CML_VERSION_MAJOR 0
#define CML_VERSION_MINOR 1
#define CML_VERSION_PATCH 0
#define CML_VERSION_STRING "0.1.0"

typedef enum cml_status {
	CML_OK = 0,
	CML_END = 1,          /* no more items */
	CML_ERR_NOMEM = -1,   /* an allocation failed */
	CML_ERR_IO = -2,      /* reading or writing a file failed */
	CML_ERR_SYNTAX = -3,  /* not well-formed XML or CSV */
	CML_ERR_ENCODING = -4,/* bytes do not match the (declared) encoding */
	CML_ERR_HOSTILE = -5, /* DTD, entities, excessive depth or size */
	CML_ERR_FORMAT = -6,  /* well-formed, but not CommerceML we can read */
	CML_ERR_VALUE = -7,   /* a value is out of its domain (a price that is no number) */
	CML_ERR_USAGE = -8,   /* the caller broke the API contract */
	CML_ERR_STATE = -9,   /* call out of order (writer finished, ...) */
	CML_ERR_NET = -10,    /* the site or the network failed; worth retrying later */
	CML_ERR_REFUSED = -11,/* the site answered and refused */
	CML_ERR_ITEM = -12,   /* one item could not be read: it is skipped, the next
	                       * call goes on with the next item (cml_reader_next) */
	CML_ERR_BUSY = -20,   /* another run holds the database */
} cml_status;

/* "ok", "end of data", "out of memory", ...: never NULL. */
const char *cml_status_str(cml_status st);

/* The library's version, "MAJOR.MINOR.PATCH". */
const char *cml_version(void);

/*
 * Allocation hook, for tests that make the Nth allocation fail.
 * Every allocation of the library goes through cml_malloc/cml_realloc.
 * n <= 0 turns failure injection off; otherwise the n-th allocation
 * from now on (and every one after it) fails.
 */
void cml_alloc_fail_after(long n);

CML_END_DECLS

#endif /* CML_CML_H */
