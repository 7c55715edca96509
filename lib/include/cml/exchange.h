/*
 * exchange.h: the client side of the 1C exchange HTTP protocol
 * ("обмен с сайтом"), as 1C:Enterprise speaks it to 1C-Bitrix and the
 * CMS modules that copy it, on libcurl.
 *
 * One handle is one session with one site for one exchange type
 * ("catalog" or "sale"):
 *
 *   cml_exchange_checkauth   HTTP Basic login; keeps the session cookie
 *                            the site names in its answer, its sessid
 *                            and its timestamp, sent on every later call
 *   cml_exchange_init        zip=yes|no, file_limit (0 = no limit)
 *   cml_exchange_upload      mode=file, in chunks of at most file_limit
 *   cml_exchange_upload_zip  the same for one zip archive of many files
 *   cml_exchange_import      mode=import, repeated while "progress"
 *   cml_exchange_deactivate, cml_exchange_complete (newer sites)
 *   cml_exchange_query, cml_exchange_success (type=sale: the orders)
 *
 * Answers are read as real sites write them: a first line of success,
 * progress or failure (or "error"), with or without a UTF-8 byte-order
 * mark, CRLF or LF, windows-1251 or UTF-8 text (messages come back as
 * UTF-8), an HTML page when the site's code crashed, an empty body.
 *
 * Errors come in two kinds the caller can branch on:
 *  - CML_ERR_NET: the site or the network failed in a way a later run
 *    may not meet (refused connection, timeout, dropped connection, HTTP
 *    5xx, an HTML error page, an empty answer). Requests that can be
 *    repeated safely are retried here first, with a doubling wait;
 *  - CML_ERR_REFUSED: the site answered and said no ("failure", a wrong
 *    password, HTTP 401/403/404, a certificate that does not verify).
 * The message on the handle names the command and gives the site's own
 * words. It never contains the password, the cookie or the sessid.
 *
 * No request carries a Referer header (Bitrix 12.5's sale export returns
 * nothing to one that does).
 *
 * A file is never imported after a partial upload: an upload that fails
 * part way starts again from init (which makes the site drop what it
 * had of the file) and from the first byte, and if it still fails, the
 * call fails and the caller must not import.
 */
#ifndef CML_EXCHANGE_H
#define CML_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cml.h"

CML_BEGIN_DECLS

typedef struct cml_exchange cml_exchange;

typedef struct cml_exchange_opts {
	const char *url;        /* the exchange script, http:// or https:// */
	const char *type;       /* "catalog" (default) or "sale" */
	const char *user;       /* NULL: from netrc */
	const char *password;   /* NULL: from netrc (none there: no login sent);
	                           copied, wiped at free */
	const char *netrc_file; /* NULL: ~/.netrc; read when password is NULL */
	const char *version;    /* &version= sent on every request; NULL: none */
	const char *cacert;     /* CA bundle to verify against; NULL: the system's */
	bool insecure;          /* do not verify the site's certificate */
	unsigned connect_timeout_ms; /* 0: 30 s */
	unsigned timeout_ms;    /* one answer, or a stalled upload; 0: 300 s */
	int retries;            /* repeats after a CML_ERR_NET failure; < 0: 3 */
	unsigned retry_wait_ms; /* first wait, doubled each time; 0: 1 s */
	unsigned import_steps;  /* "progress" answers one import may take; 0: 100000 */
	unsigned import_ms;     /* time one import may take; 0: 4 hours */
	unsigned progress_wait_ms; /* pause before repeating after "progress" */

	/* Under --verbose: each request and the first line of its answer,
	 * one line each, without a newline. May be NULL. */
	void (*log)(void *ud, const char *line);
	/* Upload progress: bytes of name sent so far of total. May be NULL. */
	void (*progress)(void *ud, const char *name, int64_t done, int64_t total);
	void *ud;
} cml_exchange_opts;

/* A handle for one session; nothing is sent yet. NULL on failure, with
 * the reason in errbuf and *st (CML_ERR_USAGE for a bad URL or type). */
CML_NODISCARD cml_exchange *cml_exchange_new(const cml_exchange_opts *opts, cml_status *st,
                                             char *errbuf, size_t errcap);
void cml_exchange_free(cml_exchange *x);
const char *cml_exchange_errmsg(const cml_exchange *x);

/*
 * The login and password for url's host in a netrc file (NULL: $HOME/.netrc):
 * the first "machine HOST" entry, or "default", whose login is user when a
 * user is given. CML_OK with *password and *login (NULL when the entry has
 * none); free both with cml_exchange_secret_free. CML_END when there is no
 * such entry (or the URL has no host), CML_ERR_IO when the file cannot be
 * read, CML_ERR_NOMEM. cml_exchange_new calls it when it has no password.
 */
CML_NODISCARD cml_status cml_netrc_lookup(const char *netrc_file, const char *url,
                                          const char *user, char **login, char **password);

/* Wipes and frees a string the library handed out (cml_netrc_lookup). */
void cml_exchange_secret_free(char *s);

/* The site's own words in its last answer after the status (lines 2 on,
 * or the rest of the first line), as UTF-8; "" when none. */
const char *cml_exchange_message(const cml_exchange *x);

CML_NODISCARD cml_status cml_exchange_checkauth(cml_exchange *x);
CML_NODISCARD cml_status cml_exchange_init(cml_exchange *x);

/* What init said: zip=yes, and the largest chunk (0: no limit). */
bool cml_exchange_zip(const cml_exchange *x);
int64_t cml_exchange_file_limit(const cml_exchange *x);
/* The checkauth timestamp line's value, NULL when the site gave none. */
const char *cml_exchange_timestamp(const cml_exchange *x);

/* Sends the file at path as name (mode=file), in chunks of at most
 * file_limit bytes, streamed from disk. */
CML_NODISCARD cml_status cml_exchange_upload(cml_exchange *x, const char *name,
                                             const char *path);

/* Packs dir/names[i] (NULL-terminated) into one zip archive in $TMPDIR
 * and sends it as name, like cml_exchange_upload. The archive's name is
 * removed as soon as it is created: a killed process leaves nothing. */
CML_NODISCARD cml_status cml_exchange_upload_zip(cml_exchange *x, const char *name,
                                                 const char *dir, const char *const *names);

/* mode=import&filename=name, repeated while the site answers progress,
 * within opts->import_steps and opts->import_ms (past them: CML_ERR_NET,
 * the site may still be working). */
CML_NODISCARD cml_status cml_exchange_import(cml_exchange *x, const char *name);

/* mode=deactivate&timestamp=<checkauth's> and mode=complete. CML_END
 * when the site does not know the command (older sites) or, for
 * deactivate, gave no timestamp: nothing was done, nothing failed. */
CML_NODISCARD cml_status cml_exchange_deactivate(cml_exchange *x);
CML_NODISCARD cml_status cml_exchange_complete(cml_exchange *x);

/* type=sale mode=query: writes the site's order document to out as it
 * arrives (not decoded: the XML says its own encoding). An answer that
 * is not XML (failure, HTML) is an error and nothing is written. */
CML_NODISCARD cml_status cml_exchange_query(cml_exchange *x, FILE *out);

/* type=sale mode=success: confirms the last query. CML_ERR_REFUSED when
 * the site answers "error" (it lost the session: the same orders will
 * come again). */
CML_NODISCARD cml_status cml_exchange_success(cml_exchange *x);

CML_END_DECLS

#endif /* CML_EXCHANGE_H */
