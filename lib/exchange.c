/*
 * exchange.c: the 1C exchange HTTP protocol client (cml/exchange.h).
 *
 * Every command is one URL, <url>?type=T&mode=M[&filename=F][&sessid=S],
 * answered by a few lines of text (PROTOCOL.md §1-2). The parts that
 * real sites make hard:
 *  - the answer's words are what count, not the HTTP status (Bitrix says
 *    "failure" with 200), but a crash gives an HTML page, also with 200;
 *  - text comes in windows-1251 or UTF-8 with a BOM, LF or CRLF;
 *  - the session is a cookie named in the answer's body, plus a sessid
 *    the site checks on every later request once it has offered one;
 *  - a site appends each mode=file chunk to what it has, so a chunk that
 *    failed half-way poisons the file: the only way back is init, which
 *    wipes the site's upload directory, and the whole file again.
 */
#define _GNU_SOURCE /* strcasestr, mkstemps, explicit_bzero */
#include <archive.h>
#include <archive_entry.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cml/exchange.h"
#include "cml_private.h"
#include "exchange_private.h"

#define ANSWER_MAX (64 * 1024) /* a text answer longer than this is cut */
#define LOG_MAX 512

enum answer {
	ANS_SUCCESS,
	ANS_PROGRESS,
	ANS_FAILURE,
	ANS_ERROR, /* Bitrix sale mode=success: "error" */
	ANS_OTHER,
};

/* One POST body: [off, off + len) of fd. */
struct upload {
	int fd;
	int64_t off, len, sent;
};

struct cml_exchange {
	CURL *curl;
	struct curl_slist *get_headers, *post_headers;
	cml_exchange_opts o;
	/* owned copies of the option strings */
	char *url, *type, *user, *password, *netrc_file, *version, *cacert;

	char *cookie;    /* "name=value" from checkauth */
	const char *cookie_value; /* in cookie, after the '=' */
	char *sessid;
	char *timestamp;
	char *b64_auth, *b64_pw; /* base64 of user:password and of the password */
	bool zip;
	int64_t file_limit;
	bool inited;
	bool authed;     /* checkauth said success */

	/* the current answer */
	cml_buf body;     /* raw bytes, at most ANSWER_MAX */
	bool cut;         /* more arrived than body keeps */
	FILE *sink;       /* query: the XML goes here */
	int sink_state;   /* 0 undecided, 1 XML to the sink, 2 text */
	int64_t sunk;     /* bytes written to the sink */
	bool sink_failed;
	struct upload *up;
	char *text;       /* the answer decoded to UTF-8 */
	char *message;    /* the site's words after the status */
	long http;
	bool empty;       /* the answer was an empty page */
	double body_done; /* upload: when its body was all sent (now_ms), 0 before */
	bool answer_late; /* upload: the answer took longer than timeout_ms after it */
	bool endless;     /* the last failure: an answer that did not end */

	char curl_err[CURL_ERROR_SIZE];
	char errmsg[CML_ERRMSG_MAX];
};

/* ---- small helpers ---- */

static cml_status fail(cml_exchange *x, cml_status st, const char *fmt, ...) CML_PRINTF(3, 4);

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
	                              : -1;
}

/* The length of an HTML entity for the byte c at p (&amp; &#64; &#x40;), 0 if none. */
static size_t
entity_at(const char *p, unsigned char c)
{
	static const struct {
		char c;
		const char *e;
	} named[] = { { '&', "&amp;" }, { '<', "&lt;" }, { '>', "&gt;" }, { '"', "&quot;" },
		      { '\'', "&apos;" } };

	for (size_t i = 0; i < CML_ARRAY_LEN(named); i++)
		if ((unsigned char)named[i].c == c && strncmp(p, named[i].e, strlen(named[i].e)) == 0)
			return strlen(named[i].e);
	if (p[0] != '&' || p[1] != '#' || c >= 0x80)
		return 0;
	bool hex = p[2] == 'x' || p[2] == 'X';
	size_t i = hex ? 3 : 2, start = i;
	unsigned v = 0;
	while (i < start + 6 && (hex ? hexval(p[i]) >= 0 : (p[i] >= '0' && p[i] <= '9'))) {
		v = v * (hex ? 16u : 10u) + (unsigned)(hex ? hexval(p[i]) : p[i] - '0');
		i++;
	}
	return i > start && p[i] == ';' && v == c ? i + 1 : 0;
}

/*
 * The length of a written form of sec at s, 0 when there is none: each
 * byte of sec as itself, percent-encoded in either case ('+' for a
 * space), as URLs, forms and libcurl write it, or as an HTML entity, in
 * any mix.
 */
static size_t
secret_form_at(const char *s, const char *sec)
{
	unsigned char c = (unsigned char)*sec;
	size_t len[3], k = 0, n;
	int h1, h2;

	if (c == '\0')
		return 0;
	/* the spellings of c at s; each is tried, as "%25" is a '%' and its
	 * encoding both */
	if ((unsigned char)*s == c || (c == ' ' && *s == '+'))
		len[k++] = 1;
	if (*s == '%' && (h1 = hexval(s[1])) >= 0 && (h2 = hexval(s[2])) >= 0 &&
	    h1 * 16 + h2 == c)
		len[k++] = 3;
	if (*s == '&' && (n = entity_at(s, c)) > 0)
		len[k++] = n;
	for (size_t i = 0; i < k; i++) {
		if (sec[1] == '\0')
			return len[i];
		if ((n = secret_form_at(s + len[i], sec + 1)) > 0)
			return len[i] + n;
	}
	return 0;
}

/* At s, "://user:password@" or "://user@": the length of the user-info
 * part after "://" (through the '@'), 0 when there is none. */
static size_t
userinfo_at(const char *s)
{
	size_t at = 0;

	if (strncmp(s, "://", 3) != 0)
		return 0;
	for (size_t i = 3; s[i] != '\0' && strchr("/?#<>\"' \t\r\n\v", s[i]) == NULL; i++)
		if (s[i] == '@')
			at = i - 2;
	return at;
}

/*
 * s with the session's secrets replaced by "(hidden)": the password in
 * every form it can take (secret_form_at; base64 of user:password as in
 * an Authorization header, and of the password alone), the cookie's value
 * and the sessid; and the user info of any URL (libcurl writes the login
 * into a redirect's URL) dropped. Passwords shorter than min are left:
 * text from the site is masked with min 1, whole messages again with 3
 * (the client's own words never hold the password, and a password of
 * one letter would mask every such letter in them). NULL: out of memory.
 */
static char *
masked(const cml_exchange *x, const char *s, size_t min)
{
	size_t pwlen = x->password != NULL ? strlen(x->password) : 0;
	/* the spellings are matched recursively, a level a byte: a password
	 * longer than any real one is matched as it is */
	const char *pw = pwlen >= min && pwlen <= 1024 ? x->password : NULL;
	const char *exact[] = { x->b64_auth, x->b64_pw, x->cookie_value, x->sessid };
	cml_buf b = { 0 };
	bool ok = true;

	while (ok && *s != '\0') {
		size_t n = pw != NULL ? secret_form_at(s, pw)
		           : pwlen > 1024 && strncmp(s, x->password, pwlen) == 0 ? pwlen
		                                                                 : 0;
		for (size_t i = 0; n == 0 && i < CML_ARRAY_LEN(exact); i++)
			if (exact[i] != NULL && strlen(exact[i]) >= 3 &&
			    strncmp(s, exact[i], strlen(exact[i])) == 0)
				n = strlen(exact[i]);
		if (n > 0) {
			ok = cml_buf_append(&b, "(hidden)", 8);
			s += n;
		} else if ((n = userinfo_at(s)) > 0) {
			ok = cml_buf_append(&b, "://", 3);
			s += 3 + n;
		} else {
			ok = cml_buf_append(&b, s, 1);
			s++;
		}
	}
	if (ok && b.data == NULL)
		ok = cml_buf_append(&b, "", 0);
	if (!ok || b.data == NULL) {
		if (b.data != NULL)
			explicit_bzero(b.data, b.len);
		cml_buf_free(&b);
		return NULL;
	}
	return b.data;
}

/*
 * Masks a message or log line in place (masked, min 3). Sites echo the
 * secrets back (a cookie repeated in an answer, a sessid in a redirect's
 * Location, an error page showing the request's headers), so every
 * message and log line passes through here, whatever its source.
 */
static void
scrub(const cml_exchange *x, char *buf, size_t cap)
{
	char *m = masked(x, buf, 3);

	if (m == NULL) {
		cml_msg_set(buf, cap, "(message withheld: out of memory)");
		return;
	}
	cml_msg_set(buf, cap, "%s", m);
	cml_free(m);
}

/* Masks site text in place (masked, min 1); false when out of memory. */
static bool
mask_site(const cml_exchange *x, char **s)
{
	char *m = masked(x, *s, 1);

	if (m == NULL)
		return false;
	explicit_bzero(*s, strlen(*s));
	cml_free(*s);
	*s = m;
	return true;
}

static cml_status
fail(cml_exchange *x, cml_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cml_msg_vset(x->errmsg, sizeof(x->errmsg), fmt, ap);
	va_end(ap);
	scrub(x, x->errmsg, sizeof(x->errmsg));
	return st;
}

static void logf_(cml_exchange *x, const char *fmt, ...) CML_PRINTF(2, 3);

static void
logf_(cml_exchange *x, const char *fmt, ...)
{
	char line[LOG_MAX];
	va_list ap;

	if (x->o.log == NULL)
		return;
	va_start(ap, fmt);
	cml_msg_vset(line, sizeof(line), fmt, ap);
	va_end(ap);
	scrub(x, line, sizeof(line));
	x->o.log(x->o.ud, line);
}

static bool
dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (src == NULL)
		return true;
	*dst = cml_strdup(src);
	return *dst != NULL;
}

static void
wipe_free(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	cml_free(s);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Cuts s to at most n bytes, ending in "...", without splitting a UTF-8
 * sequence. */
static void
cut_utf8(char *s, size_t n)
{
	if (strlen(s) <= n)
		return;
	if (n < 3) {
		s[n] = '\0';
		return;
	}
	n -= 3;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(s + n, "...", 4);
}

static size_t on_data(char *ptr, size_t size, size_t n, void *ud);
static cml_status take_answer(cml_exchange *x, const char *what, const char *mode,
                              const char *ct, enum answer *a);
static bool unknown_command(cml_exchange *x);
static cml_status success_answer(cml_exchange *x, enum answer a);
static size_t on_read(char *buf, size_t size, size_t n, void *ud);
static int on_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                   curl_off_t ulnow);

/* ---- URLs and netrc ---- */

/*
 * Checks a site URL (http or https, no user or password in it: that would
 * put the password on a command line and in every log line) and gives its
 * host. libcurl's own URL parser, so what is checked is what is used.
 */
static cml_status
url_parts(const char *url, char *host, size_t cap, const char **why)
{
	CURLU *u = curl_url();
	char *part = NULL;
	cml_status st = CML_OK;

	if (u == NULL) {
		*why = "out of memory";
		return CML_ERR_NOMEM;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		*why = "the site URL is not a URL (http://host/path)";
		st = CML_ERR_USAGE;
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &part, 0) != CURLUE_OK ||
	    (strcmp(part, "http") != 0 && strcmp(part, "https") != 0)) {
		*why = "the site URL must start with http:// or https://";
		st = CML_ERR_USAGE;
		goto out;
	}
	curl_free(part);
	part = NULL;
	if (curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
		*why = "the site URL must not carry a user or password: give --user, and "
		       "the password in a file, CMLKIT_PASSWORD or netrc";
		st = CML_ERR_USAGE;
		goto out;
	}
	if (host != NULL) {
		host[0] = '\0';
		if (curl_url_get(u, CURLUPART_HOST, &part, 0) == CURLUE_OK) {
			/* an IPv6 host comes in brackets; netrc names it without */
			const char *h = part[0] == '[' ? part + 1 : part;
			cml_msg_set(host, cap, "%.*s", (int)strcspn(h, "]"), h);
		}
	}
out:
	curl_free(part);
	curl_url_cleanup(u);
	return st;
}

cml_status
cml_netrc_lookup(const char *netrc_file, const char *url, const char *user, char **login,
                 char **password)
{
	char host[256], path[4096], tok[1024], l[1024] = "", p[1024] = "";
	bool in = false, found = false, have_l = false, have_p = false;
	const char *why;
	FILE *fp;

	*login = *password = NULL;
	if (url_parts(url, host, sizeof(host), &why) != CML_OK || host[0] == '\0')
		return CML_END;
	if (netrc_file == NULL) {
		const char *home = getenv("HOME");
		if (home == NULL || home[0] == '\0')
			return CML_END;
		cml_msg_set(path, sizeof(path), "%s/.netrc", home);
		netrc_file = path;
	}
	if ((fp = fopen(netrc_file, "re")) == NULL)
		return CML_ERR_IO;
	/* Tokens are separated by white space; an entry runs from "machine
	 * HOST" (or "default") to the next; macdef bodies end at a blank
	 * line and are skipped. With a user, only an entry of that login. */
	while (!found && fscanf(fp, "%1023s", tok) == 1) {
		if (strcmp(tok, "machine") == 0 || strcmp(tok, "default") == 0) {
			if (in && have_p && (user == NULL || (have_l && strcmp(l, user) == 0))) {
				found = true;
			} else {
				bool is_default = strcmp(tok, "default") == 0;
				in = is_default || (fscanf(fp, "%1023s", tok) == 1 &&
				                    strcasecmp(tok, host) == 0);
				have_l = have_p = false;
			}
		} else if (strcmp(tok, "login") == 0 && fscanf(fp, "%1023s", tok) == 1) {
			if (in) {
				cml_msg_set(l, sizeof(l), "%s", tok);
				have_l = true;
			}
		} else if (strcmp(tok, "password") == 0 && fscanf(fp, "%1023s", tok) == 1) {
			if (in) {
				cml_msg_set(p, sizeof(p), "%s", tok);
				have_p = true;
			}
		} else if (strcmp(tok, "macdef") == 0) {
			int c, prev = 0;
			while ((c = getc(fp)) != EOF && !(c == '\n' && prev == '\n'))
				prev = c;
		}
	}
	if (!found && in && have_p && (user == NULL || (have_l && strcmp(l, user) == 0)))
		found = true;
	fclose(fp);
	cml_status st = CML_END;
	if (found) {
		*password = cml_strdup(p);
		*login = have_l ? cml_strdup(l) : NULL;
		st = *password == NULL || (have_l && *login == NULL) ? CML_ERR_NOMEM : CML_OK;
		if (st != CML_OK) {
			cml_exchange_secret_free(*password);
			cml_free(*login);
			*login = *password = NULL;
		}
	}
	explicit_bzero(p, sizeof(p));
	explicit_bzero(tok, sizeof(tok));
	return st;
}

void
cml_exchange_secret_free(char *s)
{
	wipe_free(s);
}

/* ---- handle ---- */

/* base64 of a, b (RFC 4648, padded), as an Authorization header carries
 * "user:password"; NULL when out of memory. */
static char *
b64_pair(const char *a, const char *b)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t na = strlen(a), n = na + strlen(b), o = 0;
	char *out = cml_malloc((n + 2) / 3 * 4 + 1);

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned char c[3] = { 0, 0, 0 };
		for (size_t k = 0; k < 3 && i + k < n; k++)
			c[k] = (unsigned char)(i + k < na ? a[i + k] : b[i + k - na]);
		unsigned v = (unsigned)c[0] << 16 | (unsigned)c[1] << 8 | c[2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
	return out;
}

/* The options every request shares, set once. */
static void
setup(cml_exchange *x)
{
	CURL *c = x->curl;

	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->curl_err);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cmlkit/" CML_VERSION_STRING " (1C exchange)");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)x->o.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, x->o.insecure ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, x->o.insecure ? 0L : 2L);
	if (x->cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, x->cacert);
	/* Basic on every request: some sites check it again, and it is
	 * how the ones without a session cookie know us */
	curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	if (x->user != NULL)
		curl_easy_setopt(c, CURLOPT_USERNAME, x->user);
	if (x->password != NULL)
		curl_easy_setopt(c, CURLOPT_PASSWORD, x->password);
	/* cookies the site sets the usual way are kept too */
	curl_easy_setopt(c, CURLOPT_COOKIEFILE, "");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_READDATA, x);
	/* the clock on an upload's answer (http_once) */
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xfer);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	/* fewer, bigger reads and writes for chunks of hundreds of KB */
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 256L * 1024L);
}

cml_exchange *
cml_exchange_new(const cml_exchange_opts *opts, cml_status *st, char *errbuf, size_t errcap)
{
	cml_exchange *x = NULL;
	cml_status rst = CML_ERR_NOMEM;
	const char *why = "out of memory";

	if (opts == NULL || opts->url == NULL || opts->url[0] == '\0') {
		rst = CML_ERR_USAGE;
		why = "no site URL";
		goto fail;
	}
	if ((rst = url_parts(opts->url, NULL, 0, &why)) != CML_OK)
		goto fail;
	rst = CML_ERR_NOMEM; /* what a failure from here on is, but where said */
	why = "out of memory";
	const char *type = opts->type != NULL ? opts->type : "catalog";
	if (strcmp(type, "catalog") != 0 && strcmp(type, "sale") != 0) {
		rst = CML_ERR_USAGE;
		why = "the exchange type must be catalog or sale";
		goto fail;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		why = "cannot initialise libcurl";
		goto fail;
	}
	x = cml_calloc(1, sizeof(*x));
	if (x == NULL) {
		curl_global_cleanup();
		goto fail;
	}
	x->o = *opts;
	if (!dup_opt(&x->url, opts->url) || !dup_opt(&x->type, type) ||
	    !dup_opt(&x->user, opts->user) || !dup_opt(&x->password, opts->password) ||
	    !dup_opt(&x->netrc_file, opts->netrc_file) || !dup_opt(&x->version, opts->version) ||
	    !dup_opt(&x->cacert, opts->cacert))
		goto fail_x;
	x->o.url = x->url;
	x->o.type = x->type;
	x->o.user = x->user;
	x->o.password = NULL; /* only x->password holds it */
	if (x->password == NULL) {
		/* netrc is read here, not by libcurl: curl 7.88 does not find
		 * the password when a user is given */
		char *login = NULL;
		cml_status nst = cml_netrc_lookup(x->netrc_file, x->url, x->user, &login,
		                                  &x->password);
		if (nst == CML_ERR_IO && x->netrc_file != NULL) {
			rst = CML_ERR_IO;
			why = "cannot read the netrc file";
			goto fail_x;
		}
		if (nst == CML_ERR_NOMEM)
			goto fail_x;
		if (x->user == NULL)
			x->user = login;
		else
			cml_free(login);
		x->o.user = x->user;
	}
	if (x->password != NULL) {
		/* the forms an echoed Authorization header shows it in */
		cml_buf up = { 0 };
		if (!cml_buf_appendf(&up, "%s:", x->user != NULL ? x->user : ""))
			goto fail_x;
		x->b64_auth = b64_pair(up.data, x->password);
		x->b64_pw = b64_pair("", x->password);
		cml_buf_free(&up);
		if (x->b64_auth == NULL || x->b64_pw == NULL)
			goto fail_x;
	}
	if (x->o.connect_timeout_ms == 0)
		x->o.connect_timeout_ms = 30000;
	if (x->o.timeout_ms == 0)
		x->o.timeout_ms = 300000;
	if (x->o.retries < 0)
		x->o.retries = 3;
	if (x->o.retry_wait_ms == 0)
		x->o.retry_wait_ms = 1000;
	if (x->o.import_steps == 0)
		x->o.import_steps = 100000;
	if (x->o.import_ms == 0)
		x->o.import_ms = 4u * 3600u * 1000u;

	x->curl = curl_easy_init();
	if (x->curl == NULL)
		goto fail_x;
	x->get_headers = curl_slist_append(NULL, "Expect:");
	x->post_headers = curl_slist_append(NULL, "Expect:");
	if (x->get_headers == NULL || x->post_headers == NULL)
		goto fail_x;
	/* never a Referer (an empty header here removes libcurl's own):
	 * Bitrix 12.5's sale export answers nothing to a request with one */
	struct curl_slist *r = curl_slist_append(x->get_headers, "Referer:");
	if (r == NULL || (r = curl_slist_append(x->post_headers, "Referer:")) == NULL)
		goto fail_x;
	struct curl_slist *t =
		curl_slist_append(x->post_headers, "Content-Type: application/octet-stream");
	if (t == NULL)
		goto fail_x;
	x->post_headers = t;
	setup(x);
	return x;

fail_x:
	cml_exchange_free(x);
	x = NULL;
fail:
	if (errbuf != NULL && errcap > 0)
		cml_msg_set(errbuf, errcap, "%s", why);
	if (st != NULL)
		*st = rst;
	return NULL;
}

void
cml_exchange_free(cml_exchange *x)
{
	if (x == NULL)
		return;
	if (x->curl != NULL)
		curl_easy_cleanup(x->curl);
	curl_slist_free_all(x->get_headers);
	curl_slist_free_all(x->post_headers);
	cml_free(x->url);
	cml_free(x->type);
	cml_free(x->user);
	wipe_free(x->password);
	wipe_free(x->b64_auth);
	wipe_free(x->b64_pw);
	cml_free(x->netrc_file);
	cml_free(x->version);
	cml_free(x->cacert);
	wipe_free(x->cookie);
	wipe_free(x->sessid);
	cml_free(x->timestamp);
	if (x->body.data != NULL)
		explicit_bzero(x->body.data, x->body.len);
	cml_buf_free(&x->body);
	wipe_free(x->text);
	wipe_free(x->message);
	cml_free(x);
	curl_global_cleanup();
}

const char *
cml_exchange_errmsg(const cml_exchange *x)
{
	return x != NULL ? x->errmsg : "no exchange handle";
}

const char *
cml_exchange_message(const cml_exchange *x)
{
	return x != NULL && x->message != NULL ? x->message : "";
}

bool
cml_exchange_zip(const cml_exchange *x)
{
	return x->zip;
}

int64_t
cml_exchange_file_limit(const cml_exchange *x)
{
	return x->file_limit;
}

const char *
cml_exchange_timestamp(const cml_exchange *x)
{
	return x->timestamp;
}

/* ---- URLs ---- */

/* A request's parameters: NULL-terminated key, value pairs. */
static char *
build_url(cml_exchange *x, const char *mode, const char *const *params, bool for_log)
{
	cml_buf b = { 0 };
	bool ok = cml_buf_appendf(&b, "%s%ctype=%s&mode=%s", x->url,
	                          strchr(x->url, '?') != NULL ? '&' : '?', x->type, mode);

	for (const char *const *p = params; ok && p != NULL && p[0] != NULL; p += 2) {
		char *v = curl_easy_escape(x->curl, p[1], 0);
		ok = v != NULL && cml_buf_appendf(&b, "&%s=%s", p[0], v);
		curl_free(v);
	}
	if (ok && x->sessid != NULL)
		ok = for_log ? cml_buf_appendf(&b, "&sessid=(hidden)")
		             : cml_buf_appendf(&b, "&sessid=%s", x->sessid);
	if (ok && x->version != NULL)
		ok = cml_buf_appendf(&b, "&version=%s", x->version);
	if (!ok) {
		cml_buf_free(&b);
		return NULL;
	}
	return b.data;
}

/* ---- answers ---- */

static size_t
on_data(char *ptr, size_t size, size_t n, void *ud)
{
	cml_exchange *x = ud;
	size_t len = size * n;

	if (x->sink != NULL && x->sink_state == 1) {
		if (fwrite(ptr, 1, len, x->sink) != len) {
			x->sink_failed = true;
			return 0;
		}
		x->sunk += (int64_t)len;
		return len;
	}
	size_t room = ANSWER_MAX - x->body.len;
	if (len > room)
		x->cut = true;
	if (!cml_buf_append(&x->body, ptr, len < room ? len : room))
		return 0;
	long code = 0;
	if (x->sink != NULL && x->sink_state == 0 &&
	    (curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code < 200 ||
	     code > 299))
		x->sink_state = 2; /* an error page, whatever it looks like */
	if (x->sink != NULL && x->sink_state == 0) {
		/* Decide once enough has come: an XML document goes to the
		 * sink, anything else is a status answer kept here. */
		const char *p = x->body.data;
		size_t m = x->body.len;
		if (m >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
			p += 3;
			m -= 3;
		}
		while (m > 0 && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
			p++;
			m--;
		}
		if (m >= 5 || (m > 0 && *p != '<')) {
			bool xml = m >= 5 && strncmp(p, "<?xml", 5) == 0;
			if (!xml && m >= 2 && p[0] == '<' && p[1] != '!' && p[1] != '?' &&
			    !(m >= 5 && strncasecmp(p, "<html", 5) == 0) &&
			    !(m >= 5 && strncasecmp(p, "<head", 5) == 0) &&
			    !(m >= 5 && strncasecmp(p, "<body", 5) == 0))
				xml = true; /* a document without a declaration */
			if (xml) {
				x->sink_state = 1;
				if (fwrite(x->body.data, 1, x->body.len, x->sink) != x->body.len) {
					x->sink_failed = true;
					return 0;
				}
				x->sunk += (int64_t)x->body.len;
				cml_buf_clear(&x->body);
			} else {
				x->sink_state = 2;
			}
		}
	}
	return len;
}

static size_t
on_read(char *buf, size_t size, size_t n, void *ud)
{
	cml_exchange *x = ud;
	struct upload *u = x->up;
	size_t want = size * n;
	int64_t left = u->len - u->sent;

	if (left <= 0)
		return 0;
	if ((int64_t)want > left)
		want = (size_t)left;
	ssize_t got;
	do
		got = pread(u->fd, buf, want, (off_t)(u->off + u->sent));
	while (got < 0 && errno == EINTR);
	if (got <= 0) /* an error, or the file shrank under us */
		return CURL_READFUNC_ABORT;
	u->sent += got;
	return (size_t)got;
}

/*
 * An upload's bound after its body: libcurl's low-speed limit keeps a
 * stalled body from hanging, but a site that trickles an answer byte by
 * byte would pass it for ever. Once the last byte of the body is sent,
 * the answer has timeout_ms, as a GET's whole request has. libcurl calls
 * this at least once a second.
 */
static int
on_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	cml_exchange *x = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	if (x->up == NULL)
		return 0;
	if (x->body_done == 0 && ulnow >= (curl_off_t)x->up->len)
		x->body_done = now_ms();
	if (x->body_done > 0 && now_ms() - x->body_done > (double)x->o.timeout_ms) {
		x->answer_late = true;
		return 1; /* CURLE_ABORTED_BY_CALLBACK */
	}
	return 0;
}

/* The charset named in the Content-Type, lower-cased, or "". */
static void
answer_charset(const char *ct, char *out, size_t cap)
{
	const char *p;

	out[0] = '\0';
	if (ct == NULL)
		return;
	if ((p = strcasestr(ct, "charset=")) == NULL)
		return;
	p += 8;
	if (*p == '"')
		p++;
	size_t i = 0;
	while (p[i] != '\0' && p[i] != ';' && p[i] != '"' && p[i] != ' ' && i + 1 < cap) {
		out[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
		i++;
	}
	out[i] = '\0';
}

/*
 * The answer as UTF-8 text: a BOM says UTF-8; valid UTF-8 is taken as
 * such (windows-1251 Cyrillic almost never is); otherwise the declared
 * charset, or windows-1251 as Bitrix writes. NULs become spaces and
 * bytes that do not convert become '?'.
 */
static cml_status
decode_answer(cml_exchange *x, const char *ct)
{
	const char *src = x->body.len > 0 ? x->body.data : "";
	size_t n = x->body.len;
	char cs[40];

	cml_free(x->text);
	x->text = NULL;
	if (n >= 3 && memcmp(src, "\xEF\xBB\xBF", 3) == 0) {
		src += 3;
		n -= 3;
	}
	answer_charset(ct, cs, sizeof(cs));
	/* a site may well say utf-8 and send windows-1251: the bytes decide */
	if (strcmp(cs, "utf-8") == 0 || strcmp(cs, "utf8") == 0)
		cs[0] = '\0';
	if (cml_utf8_valid(src, n)) {
		x->text = cml_malloc(n + 1);
		if (x->text == NULL)
			return fail(x, CML_ERR_NOMEM, "out of memory");
		memcpy(x->text, src, n);
		x->text[n] = '\0';
	} else {
		iconv_t cd = iconv_open("UTF-8", cs[0] != '\0' ? cs : "WINDOWS-1251");
		if (cd == (iconv_t)-1)
			cd = iconv_open("UTF-8", "WINDOWS-1251");
		if (cd == (iconv_t)-1)
			return fail(x, CML_ERR_NOMEM, "cannot convert the site's answer: %s",
			            strerror(errno));
		size_t cap = n * 3 + 1, left = cap - 1;
		char *out = cml_malloc(cap), *o = out;
		char *in = (char *)(uintptr_t)src;
		size_t inleft = n;
		if (out == NULL) {
			iconv_close(cd);
			return fail(x, CML_ERR_NOMEM, "out of memory");
		}
		while (inleft > 0) {
			if (iconv(cd, &in, &inleft, &o, &left) != (size_t)-1)
				break;
			if (left == 0)
				break;
			*o++ = '?'; /* a byte the charset lacks */
			left--;
			in++;
			inleft--;
		}
		*o = '\0';
		iconv_close(cd);
		x->text = out;
		n = (size_t)(o - out);
	}
	for (size_t i = 0; i < n; i++)
		if (x->text[i] == '\0')
			x->text[i] = ' ';
	return CML_OK;
}

static bool
is_break(char c)
{
	return c == '\n' || c == '\r' || c == '\v';
}

/* The next line of *p (without its end), advancing *p; NULL at the end. */
static char *
next_line(char **p)
{
	char *s = *p;

	if (s == NULL || *s == '\0')
		return NULL;
	char *e = s;
	while (*e != '\0' && !is_break(*e))
		e++;
	if (*e != '\0') {
		*e++ = '\0';
		while (*e != '\0' && is_break(*e))
			e++;
	}
	*p = e;
	return cml_trim(s);
}

/* Inline elements: no space where they start or end ("<b>Fatal
 * error</b>: ..." reads "Fatal error: ..."). */
static bool
inline_tag(const char *p)
{
	static const char *const tags[] = { "b", "i", "u", "em", "strong", "span", "a", "font",
		                             "code", "tt", "small", "big" };
	p += p[1] == '/' ? 2 : 1;
	for (size_t i = 0; i < CML_ARRAY_LEN(tags); i++) {
		size_t n = strlen(tags[i]);
		if (strncasecmp(p, tags[i], n) == 0 && (p[n] == '>' || p[n] == ' ' || p[n] == '/'))
			return true;
	}
	return false;
}

/* The text of an HTML page, tags dropped and spaces collapsed: its title
 * and the start of its body, enough to show what crashed. */
static void
html_gist(const char *html, char *out, size_t cap)
{
	size_t o = 0;
	bool tag = false, space = true;
	bool skip = false; /* inside <style> or <script> */

	for (const char *p = html; *p != '\0' && o + 1 < cap; p++) {
		if (*p == '<') {
			tag = true;
			if (strncasecmp(p, "<style", 6) == 0 || strncasecmp(p, "<script", 7) == 0)
				skip = true;
			else if (strncasecmp(p, "</style", 7) == 0 || strncasecmp(p, "</script", 8) == 0)
				skip = false;
			if (!space && !inline_tag(p)) {
				out[o++] = ' ';
				space = true;
			}
			continue;
		}
		if (tag) {
			tag = *p != '>';
			continue;
		}
		if (skip)
			continue;
		if (*p == ' ' || *p == '\t' || is_break(*p)) {
			if (!space)
				out[o++] = ' ';
			space = true;
			continue;
		}
		out[o++] = *p;
		space = false;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	cut_utf8(out, 300);
}

/*
 * Reads the decoded text: its status word, and the rest (the rest of the
 * first line, then the other lines, joined by spaces) as the message.
 */
static enum answer
classify(cml_exchange *x)
{
	static const struct {
		const char *word;
		enum answer a;
	} words[] = {
		{ "success", ANS_SUCCESS },
		{ "progress", ANS_PROGRESS },
		{ "failure", ANS_FAILURE },
		{ "error", ANS_ERROR },
	};
	enum answer a = ANS_OTHER;
	const char *t = x->text;
	cml_buf m = { 0 };

	while (*t == ' ' || *t == '\t' || is_break(*t))
		t++;
	size_t skip = 0;
	for (size_t i = 0; i < CML_ARRAY_LEN(words); i++) {
		size_t n = strlen(words[i].word);
		/* "success" glued to a message on one line (Bitrix sale), but
		 * not "Error: ..." (WooCommerce), which is no protocol word */
		if (strncmp(t, words[i].word, n) == 0 &&
		    !(words[i].a == ANS_ERROR && t[n] != '\0' && !is_break(t[n]) && t[n] != ' ')) {
			a = words[i].a;
			skip = n;
			break;
		}
	}
	char *copy = cml_strdup(t + skip), *p = copy, *line;
	bool ok = copy != NULL;
	while (ok && (line = next_line(&p)) != NULL)
		if (*line != '\0')
			ok = cml_buf_appendf(&m, "%s%s", m.len > 0 ? " " : "", line);
	cml_free(copy);
	cml_free(x->message);
	x->message = m.data != NULL ? m.data : cml_strdup("");
	/* the site's words are shown and returned: never with the password
	 * an error page may echo */
	if (x->message != NULL && !mask_site(x, &x->message)) {
		wipe_free(x->message);
		x->message = NULL;
	}
	if (a == ANS_OTHER && x->message != NULL)
		cut_utf8(x->message, 300);
	return a;
}

/* The answer's first line (after leading blanks), masked (mask_site),
 * cut to n bytes; "" when there is none or no memory. */
static void
first_line(cml_exchange *x, char *out, size_t cap, size_t n)
{
	const char *t = x->text != NULL ? x->text : "";
	char *line;

	out[0] = '\0';
	while (*t == ' ' || *t == '\t' || is_break(*t))
		t++;
	if ((line = cml_malloc(strcspn(t, "\r\n\v") + 1)) == NULL)
		return;
	memcpy(line, t, strcspn(t, "\r\n\v"));
	line[strcspn(t, "\r\n\v")] = '\0';
	if (mask_site(x, &line))
		cml_msg_set(out, cap, "%s", line);
	wipe_free(line);
	cut_utf8(out, n);
}

/* The answer's first line, for the log, and the site's words after a
 * bare status word (never for checkauth and init, whose lines are the
 * session's secrets). */
static void
log_answer(cml_exchange *x, const char *mode)
{
	char first[200];

	first_line(x, first, sizeof(first), 120);
	size_t n = strlen(first);
	const char *m = cml_exchange_message(x);
	bool words = strcmp(mode, "checkauth") != 0 && strcmp(mode, "init") != 0 && m[0] != '\0' &&
	             (strcmp(first, "success") == 0 || strcmp(first, "progress") == 0 ||
	              strcmp(first, "failure") == 0 || strcmp(first, "error") == 0);
	char msg[160];
	cml_msg_set(msg, sizeof(msg), "%s", words ? m : "");
	cut_utf8(msg, 120);
	logf_(x, "  answer: %s%s%s", n > 0 ? first : "(empty)", words ? ": " : "", msg);
}

/* ---- one request ---- */

/* An answer that began but did not end within the bound. */
static cml_status
endless(cml_exchange *x, const char *what)
{
	curl_off_t got = 0;

	(void)curl_easy_getinfo(x->curl, CURLINFO_SIZE_DOWNLOAD_T, &got);
	x->endless = true;
	return fail(x, CML_ERR_NET,
	            "%s: the site's answer did not end within %u s (--timeout; %" PRId64
	            " bytes came): its script may be stuck in a loop (see the site's error "
	            "log); run again later",
	            what, (x->o.timeout_ms + 999) / 1000, (int64_t)got);
}

/* What a curl failure means for the caller. */
static cml_status
transport_fail(cml_exchange *x, const char *what, CURLcode rc)
{
	char detail[CURL_ERROR_SIZE + 64];
	char *d = cml_strdup(x->curl_err[0] != '\0' ? x->curl_err : curl_easy_strerror(rc));

	/* libcurl's words may hold a URL, with the login it added */
	if (d != NULL && mask_site(x, &d))
		cml_msg_set(detail, sizeof(detail), "%s", d);
	else
		cml_msg_set(detail, sizeof(detail), "%s", curl_easy_strerror(rc));
	wipe_free(d);

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		if (x->body.len > 0 || x->sunk > 0)
			return endless(x, what);
		if (x->up != NULL && x->body_done == 0)
			return fail(x, CML_ERR_NET,
			            "%s: the upload stalled: the site took no data for %u s "
			            "(--timeout)",
			            what, (x->o.timeout_ms + 999) / 1000);
		return fail(x, CML_ERR_NET, "%s: no answer from the site within %u s (--timeout)",
		            what, (x->o.timeout_ms + 999) / 1000);
	case CURLE_GOT_NOTHING:
		return fail(x, CML_ERR_NET,
		            "%s: the site closed the connection without answering", what);
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
		return fail(x, CML_ERR_NET, "%s: the connection to the site broke: %s", what,
		            detail);
	case CURLE_SEND_FAIL_REWIND:
		/* A kept-alive connection died under a POST. curl would send
		 * the chunk again on a new one, but that is only safe if the
		 * site never appended it, which nobody can know; the upload
		 * starts over from init instead, so there is no seek callback. */
		return fail(x, CML_ERR_NET,
		            "%s: the connection to the site broke while the data was on its way",
		            what);
	case CURLE_PEER_FAILED_VERIFICATION:
		/* a CA file does not help a certificate made out to another name */
		if (strstr(detail, "host name") != NULL || strstr(detail, "hostname") != NULL)
			return fail(x, CML_ERR_REFUSED,
			            "%s: the site's certificate is for another name: %s (give --url "
			            "the host name the certificate names)",
			            what, detail);
		if (x->cacert != NULL)
			return fail(x, CML_ERR_REFUSED,
			            "%s: the site's certificate does not verify against the CAs in "
			            "%s: %s (is it the CA that signed the site's certificate?)",
			            what, x->cacert, detail);
		return fail(x, CML_ERR_REFUSED,
		            "%s: the site's certificate does not verify: %s (give its CA with "
		            "--cacert; --insecure turns the check off)",
		            what, detail);
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return fail(x, CML_ERR_IO, "%s: cannot use the CA bundle: %s", what, detail);
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return fail(x, CML_ERR_USAGE, "%s: bad site URL: %s", what, detail);
	case CURLE_ABORTED_BY_CALLBACK:
		if (x->answer_late)
			return x->body.len > 0 ? endless(x, what)
			                       : fail(x, CML_ERR_NET,
			                              "%s: no answer from the site within %u s of the "
			                              "end of the upload (--timeout)",
			                              what, (x->o.timeout_ms + 999) / 1000);
		/* FALLTHROUGH */
	case CURLE_READ_ERROR:
		return fail(x, CML_ERR_IO, "%s: cannot read the file being sent (did it change?)",
		            what);
	case CURLE_WRITE_ERROR:
		if (x->sink_failed)
			return fail(x, CML_ERR_IO, "%s: cannot write the answer: %s", what,
			            strerror(errno));
		return fail(x, CML_ERR_NOMEM, "%s: out of memory", what);
	case CURLE_OUT_OF_MEMORY:
		return fail(x, CML_ERR_NOMEM, "%s: out of memory", what);
	default:
		return fail(x, CML_ERR_NET, "%s: %s", what, detail);
	}
}

/*
 * The path of url, and url without user info, query and fragment (in
 * *bare, masked), both from libcurl's URL parser; false when it is not a
 * URL or out of memory.
 */
static bool
url_bare(const cml_exchange *x, const char *url, char **path, char **bare)
{
	CURLU *u = curl_url();
	char *p = NULL, *b = NULL;
	bool ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	          curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	          curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	          curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
	          curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	          curl_url_get(u, CURLUPART_PATH, &p, 0) == CURLUE_OK &&
	          curl_url_get(u, CURLUPART_URL, &b, 0) == CURLUE_OK;

	*path = *bare = NULL;
	if (ok) {
		*path = cml_strdup(p);
		*bare = cml_strdup(b);
		ok = *path != NULL && *bare != NULL && mask_site(x, bare);
		if (!ok) {
			cml_free(*path);
			wipe_free(*bare);
			*path = *bare = NULL;
		}
	}
	curl_free(p);
	curl_free(b);
	curl_url_cleanup(u);
	return ok;
}

/*
 * A 3xx answer. To the same script elsewhere (http to https, a new
 * host) the site has moved, and its new address is the advice; anywhere
 * else (a login form, the front page) the script did not take the
 * request, and the address it sends us to is no --url. The address is
 * shown without user info (libcurl writes the login into it) or query.
 */
static cml_status
redirected(cml_exchange *x, const char *what, long code)
{
	char *loc = NULL, *ours = NULL, *theirs = NULL, *bare = NULL, *ours_bare = NULL;
	cml_status st;

	(void)curl_easy_getinfo(x->curl, CURLINFO_REDIRECT_URL, &loc);
	if (loc == NULL || !url_bare(x, loc, &theirs, &bare))
		st = fail(x, CML_ERR_REFUSED,
		          "%s: the site redirects (HTTP %ld) without saying where: check --url",
		          what, code);
	else if (url_bare(x, x->url, &ours, &ours_bare) && strcmp(ours, theirs) == 0)
		st = fail(x, CML_ERR_REFUSED,
		          "%s: the site redirects (HTTP %ld) to %s: the exchange script has moved "
		          "there; give that address as --url",
		          what, code, bare);
	else
		st = fail(x, CML_ERR_REFUSED,
		          "%s: the site redirects (HTTP %ld) to %s, not to an exchange script (a "
		          "login page?): the exchange script did not take the request; check that "
		          "--url is the script itself (e.g. .../bitrix/admin/1c_exchange.php) and "
		          "that the user may run the exchange (its group's rights in the site's "
		          "exchange settings)",
		          what, code, bare);
	cml_free(ours);
	cml_free(theirs);
	wipe_free(bare);
	wipe_free(ours_bare);
	return st;
}

/* The HTTP status of a finished transfer, as the caller sees it. */
static cml_status
http_fail(cml_exchange *x, const char *what)
{
	long code = x->http;

	if (code >= 500 || code == 408 || code == 429)
		return fail(x, CML_ERR_NET, "%s: the site failed (HTTP %ld)", what, code);
	if (code == 401 || code == 403)
		return fail(x, CML_ERR_REFUSED,
		            "%s: the site refused the login (HTTP %ld): check the user and the "
		            "password",
		            what, code);
	if (code == 404)
		return fail(x, CML_ERR_REFUSED,
		            "%s: no exchange script at this URL (HTTP 404): check --url", what);
	if (code >= 300 && code < 400)
		return redirected(x, what, code);
	return fail(x, CML_ERR_REFUSED, "%s: the site answered HTTP %ld", what, code);
}

/*
 * One HTTP request, no retry: GET, or POST of x->up when up is given.
 * CML_OK means HTTP 2xx with a text answer in x->text (or, for query,
 * the XML in the sink), classified into *a.
 */
static cml_status
http_once(cml_exchange *x, const char *what, const char *mode, const char *const *params,
          struct upload *up, enum answer *a)
{
	CURL *c = x->curl;
	char *url = build_url(x, mode, params, false);
	/* the URL as logged, sessid hidden: only when there is a log */
	char *shown = x->o.log != NULL ? build_url(x, mode, params, true) : NULL;
	cml_status st = CML_OK;

	*a = ANS_OTHER;
	cml_buf_clear(&x->body);
	x->cut = false;
	x->sink_state = 0;
	x->sunk = 0;
	x->sink_failed = false;
	x->curl_err[0] = '\0';
	x->http = 0;
	x->empty = false;
	x->body_done = 0;
	x->answer_late = false;
	x->endless = false;
	if (url == NULL || (x->o.log != NULL && shown == NULL)) {
		st = fail(x, CML_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (shown != NULL && up != NULL)
		logf_(x, "POST %s (%" PRId64 " bytes)", shown, up->len);
	else if (shown != NULL)
		logf_(x, "GET %s", shown);

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_COOKIE, x->cookie);
	if (up != NULL) {
		x->up = up;
		up->sent = 0;
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)up->len);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->post_headers);
		/* an upload may take long; what must not happen is a stall */
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 0L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME,
		                 (long)((x->o.timeout_ms + 999) / 1000));
	} else {
		x->up = NULL;
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->get_headers);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)x->o.timeout_ms);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 0L);
		curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 0L);
	}

	CURLcode rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		st = transport_fail(x, what, rc);
		x->up = NULL;
		logf_(x, "  failed: %s", x->errmsg);
		goto out;
	}
	x->up = NULL;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->http);
	if (x->http < 200 || x->http > 299) {
		st = http_fail(x, what);
		logf_(x, "  answer: HTTP %ld", x->http);
		goto out;
	}
	if (x->sink != NULL && x->sink_state == 1) {
		logf_(x, "  answer: an XML document (%" PRId64 " bytes)", x->sunk);
		*a = ANS_SUCCESS;
		goto out;
	}
	char *ct = NULL;
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK)
		ct = NULL;
	st = take_answer(x, what, mode, ct, a);
out:
	cml_free(url);
	cml_free(shown);
	return st;
}

/*
 * A text answer in x->body, HTTP 2xx with Content-Type ct (may be NULL):
 * decoded and classified into *a, its message taken; an empty page or an
 * HTML page is a CML_ERR_NET failure.
 */
static cml_status
take_answer(cml_exchange *x, const char *what, const char *mode, const char *ct, enum answer *a)
{
	cml_status st;

	if ((st = decode_answer(x, ct)) != CML_OK)
		return st;
	const char *t = x->text;
	while (*t == ' ' || *t == '\t' || is_break(*t))
		t++;
	if (*t == '\0' || *t == '<') {
		cml_free(x->message);
		x->message = NULL;
		log_answer(x, mode);
	}
	if (*t == '\0') {
		x->empty = true;
		return fail(x, CML_ERR_NET, "%s: the site answered with an empty page", what);
	}
	if (*t == '<') {
		/* an error page may show the request's headers: the password
		 * is masked before the page is cut to its gist (a base64 cut
		 * short would not match), and after (dropped tags and joined
		 * lines can put it back together) */
		char gist[400];
		char *page = cml_strdup(t);
		if (page == NULL || !mask_site(x, &page)) {
			wipe_free(page);
			return fail(x, CML_ERR_NOMEM, "out of memory");
		}
		html_gist(page, gist, sizeof(gist));
		wipe_free(page);
		if ((page = cml_strdup(gist)) == NULL || !mask_site(x, &page)) {
			wipe_free(page);
			return fail(x, CML_ERR_NOMEM, "out of memory");
		}
		st = fail(x, CML_ERR_NET,
		          "%s: the site answered with an HTML page instead of the protocol (an "
		          "error in the site's code?): %s",
		          what, page[0] != '\0' ? page : "(no text)");
		wipe_free(page);
		return st;
	}
	*a = classify(x);
	if (x->message == NULL)
		return fail(x, CML_ERR_NOMEM, "out of memory");
	log_answer(x, mode);
	return CML_OK;
}

/*
 * A request that is safe to repeat, repeated after CML_ERR_NET failures
 * with a doubling wait: the site's short outages (a restart, a 502 from
 * its proxy) should not fail a nightly run.
 */
static cml_status
request(cml_exchange *x, const char *what, const char *mode, const char *const *params,
        enum answer *a)
{
	unsigned wait = x->o.retry_wait_ms;
	cml_status st;

	for (int attempt = 0;; attempt++) {
		st = http_once(x, what, mode, params, NULL, a);
		if (st != CML_ERR_NET || attempt >= x->o.retries)
			break;
		if (x->sink != NULL && x->sunk > 0)
			break; /* part of a document went out: the caller starts over */
		if (x->empty && (strcmp(mode, "complete") == 0 || strcmp(mode, "deactivate") == 0))
			break; /* how some sites say they do not know the command */
		logf_(x, "  retrying in %u ms (%d of %d)", wait, attempt + 1, x->o.retries);
		sleep_ms(wait);
		wait = wait > 600000 ? wait : wait * 2;
	}
	if (st == CML_ERR_NET && x->o.retries > 0)
		cml_msg_set(x->errmsg + strlen(x->errmsg),
		            sizeof(x->errmsg) - strlen(x->errmsg), " (after %d retries)",
		            x->o.retries);
	return st;
}

/* An answer other than the one expected, as an error. */
static cml_status
refused(cml_exchange *x, const char *what, enum answer a)
{
	const char *m = cml_exchange_message(x);

	switch (a) {
	case ANS_FAILURE:
		if (x->authed && x->cookie == NULL)
			return fail(x, CML_ERR_REFUSED,
			            "%s: the site answered failure: %s; its checkauth said success "
			            "but gave no session cookie, so it does not know this session: "
			            "the site's exchange script or its PHP sessions are broken (ask "
			            "the site's administrator)",
			            what, m[0] != '\0' ? m : "(no reason given)");
		return fail(x, CML_ERR_REFUSED, "%s: the site answered failure: %s", what,
		            m[0] != '\0' ? m : "(no reason given)");
	case ANS_ERROR:
		return fail(x, CML_ERR_REFUSED, "%s: the site answered error%s%s", what,
		            m[0] != '\0' ? ": " : "", m);
	case ANS_PROGRESS:
		return fail(x, CML_ERR_REFUSED, "%s: the site answered progress, unexpected here",
		            what);
	case ANS_SUCCESS:
		return CML_OK;
	case ANS_OTHER:
		break;
	}
	char first[320];
	first_line(x, first, sizeof(first), 200);
	return fail(x, CML_ERR_REFUSED,
	            "%s: the site answered neither success, progress nor failure: \"%s\"", what,
	            first);
}

/* ---- commands ---- */

/* A value safe to send back in a Cookie header or a query. */
static bool
token_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= ' ' || *s == ';' || *s == ',' || *s == '"' ||
		    (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool
take(char **dst, const char *v)
{
	wipe_free(*dst);
	*dst = cml_strdup(v);
	return *dst != NULL;
}

/* checkauth's answer (st, a: what the request gave): the session. */
static cml_status
checkauth_answer(cml_exchange *x, cml_status st, enum answer a)
{
	if (st == CML_ERR_REFUSED && (x->http == 401 || x->http == 403))
		return fail(x, CML_ERR_REFUSED,
		            "checkauth: the site refused the login (HTTP %ld): check the user "
		            "and the password",
		            x->http);
	if (st != CML_OK)
		return st;
	if (a == ANS_FAILURE)
		return fail(x, CML_ERR_REFUSED, "checkauth: the site refused the login: %s",
		            x->message[0] != '\0' ? x->message : "(no reason given)");
	if (a != ANS_SUCCESS)
		return refused(x, "checkauth", a);

	/* success, cookie name, cookie value, then sessid= and timestamp=
	 * lines in any order (older sites stop after the cookie) */
	char *copy = cml_strdup(x->text), *p = copy, *line;
	int n = 0;
	char *name = NULL;
	st = copy != NULL ? CML_OK : fail(x, CML_ERR_NOMEM, "out of memory");
	wipe_free(x->cookie);
	x->cookie = NULL;
	x->cookie_value = NULL;
	while (st == CML_OK && (line = next_line(&p)) != NULL) {
		if (n == 0 && *line == '\0')
			continue; /* blank lines before "success" (a PHP file's stray output) */
		n++;
		if (n == 1)
			continue;
		if (strncmp(line, "sessid=", 7) == 0) {
			if (token_ok(line + 7) && !take(&x->sessid, line + 7))
				st = fail(x, CML_ERR_NOMEM, "out of memory");
		} else if (strncmp(line, "timestamp=", 10) == 0) {
			if (token_ok(line + 10) && !take(&x->timestamp, line + 10))
				st = fail(x, CML_ERR_NOMEM, "out of memory");
		} else if (n == 2 && strchr(line, '=') == NULL && token_ok(line)) {
			name = line;
		} else if (n == 3 && name != NULL && token_ok(line)) {
			cml_buf c = { 0 };
			if (!cml_buf_appendf(&c, "%s=%s", name, line))
				st = fail(x, CML_ERR_NOMEM, "out of memory");
			x->cookie = c.data;
			if (x->cookie != NULL)
				x->cookie_value = x->cookie + strlen(name) + 1;
		}
	}
	if (copy != NULL)
		explicit_bzero(copy, strlen(x->text));
	cml_free(copy);
	/* the answer's lines are the session's secrets: keep no copy around */
	explicit_bzero(x->text, strlen(x->text));
	if (x->message != NULL) {
		explicit_bzero(x->message, strlen(x->message));
		x->message[0] = '\0';
	}
	x->authed = st == CML_OK;
	if (st == CML_OK)
		logf_(x, "  session: %s, %s, %s", x->cookie != NULL ? "cookie" : "no cookie",
		      x->sessid != NULL ? "sessid" : "no sessid",
		      x->timestamp != NULL ? "timestamp" : "no timestamp");
	return st;
}

cml_status
cml_exchange_checkauth(cml_exchange *x)
{
	enum answer a;
	cml_status st = request(x, "checkauth", "checkauth", NULL, &a);

	return checkauth_answer(x, st, a);
}

/* "key=value", "key-value" (OpenCart writes "zip-no") or "key: value". */
static const char *
param_value(const char *line, const char *const *keys)
{
	for (const char *const *k = keys; *k != NULL; k++) {
		size_t n = strlen(*k);
		if (strncasecmp(line, *k, n) != 0)
			continue;
		const char *p = line + n;
		while (*p == ' ')
			p++;
		if (*p != '=' && *p != '-' && *p != ':')
			continue;
		p++;
		while (*p == ' ')
			p++;
		return p;
	}
	return NULL;
}

/* init's answer (st, a: what the request gave): zip and file_limit. */
static cml_status
init_answer(cml_exchange *x, cml_status st, enum answer a)
{
	static const char *const zip_keys[] = { "zip", NULL };
	static const char *const limit_keys[] = { "file_limit", "file-limit", "filelimit",
		                                  "file_size_limit", NULL };

	if (st != CML_OK)
		return st;
	if (a == ANS_FAILURE || a == ANS_ERROR || a == ANS_PROGRESS)
		return refused(x, "init", a);
	/* the parameters, in any order; unknown lines ignored; an optional
	 * "success" first line (some clones) */
	char *copy = cml_strdup(x->text), *p = copy, *line;
	bool seen = false;
	const char *v;
	if (copy == NULL)
		return fail(x, CML_ERR_NOMEM, "out of memory");
	x->zip = false;
	x->file_limit = 0;
	while ((line = next_line(&p)) != NULL) {
		if ((v = param_value(line, zip_keys)) != NULL) {
			x->zip = strncasecmp(v, "yes", 3) == 0;
			seen = true;
		} else if ((v = param_value(line, limit_keys)) != NULL) {
			char *end;
			errno = 0;
			long long lim = strtoll(v, &end, 10);
			/* 0, empty, negative or nonsense: no limit */
			x->file_limit = errno == 0 && end != v && lim > 0 ? (int64_t)lim : 0;
			seen = true;
		} else if (strncmp(line, "sessid=", 7) == 0 && token_ok(line + 7)) {
			if (!take(&x->sessid, line + 7)) {
				cml_free(copy);
				return fail(x, CML_ERR_NOMEM, "out of memory");
			}
		}
	}
	cml_free(copy);
	if (!seen)
		return refused(x, "init", ANS_OTHER);
	x->inited = true;
	logf_(x, "  zip=%s, file_limit=%" PRId64 "%s", x->zip ? "yes" : "no", x->file_limit,
	      x->file_limit == 0 ? " (no limit)" : "");
	return CML_OK;
}

cml_status
cml_exchange_init(cml_exchange *x)
{
	enum answer a;
	cml_status st = request(x, "init", "init", NULL, &a);

	return init_answer(x, st, a);
}

cml_status
cml_exchange_parse_answer(cml_exchange *x, const char *mode, const void *body, size_t len,
                          const char *content_type)
{
	enum answer a = ANS_OTHER;
	cml_status st;

	cml_buf_clear(&x->body);
	x->cut = false;
	x->sink = NULL;
	x->http = 200;
	x->empty = false;
	x->endless = false;
	if (len > 0 && on_data((char *)(uintptr_t)body, 1, len, x) != len)
		return fail(x, CML_ERR_NOMEM, "out of memory");
	st = take_answer(x, mode, mode, content_type, &a);
	if (strcmp(mode, "checkauth") == 0)
		return checkauth_answer(x, st, a);
	if (strcmp(mode, "init") == 0)
		return init_answer(x, st, a);
	if (st != CML_OK)
		return st;
	if (strcmp(mode, "import") == 0 && a == ANS_PROGRESS)
		return CML_OK;
	if (strcmp(mode, "success") == 0)
		return success_answer(x, a);
	if ((strcmp(mode, "complete") == 0 || strcmp(mode, "deactivate") == 0) &&
	    a == ANS_FAILURE && unknown_command(x))
		return CML_END;
	return refused(x, mode, a);
}

/* Sends [0, size) of fd as name in chunks; no retry here. */
static cml_status
send_chunks(cml_exchange *x, const char *name, int fd, int64_t size)
{
	const char *params[] = { "filename", name, NULL };
	char what[300];
	int64_t off = 0;
	int64_t chunk = x->file_limit > 0 ? x->file_limit : (size > 0 ? size : 1);

	do {
		struct upload up = { .fd = fd, .off = off, .len = size - off < chunk ? size - off : chunk };
		enum answer a;

		cml_msg_set(what, sizeof(what), "upload %s (bytes %" PRId64 "-%" PRId64 " of %" PRId64 ")",
		            name, off, off + up.len, size);
		cml_status st = http_once(x, what, "file", params, &up, &a);
		if (st != CML_OK)
			return st;
		if (a != ANS_SUCCESS)
			return refused(x, what, a);
		off += up.len;
		if (x->o.progress != NULL)
			x->o.progress(x->o.ud, name, off, size);
	} while (off < size);
	return CML_OK;
}

/* Sends the file open on fd as name; path names it in messages. */
static cml_status
upload_fd(cml_exchange *x, const char *name, int fd, const char *path)
{
	struct stat before, after;
	unsigned wait = x->o.retry_wait_ms;
	cml_status st;

	if (fstat(fd, &before) != 0)
		return fail(x, CML_ERR_IO, "%s: %s", path, strerror(errno));
	for (int attempt = 0;; attempt++) {
		if (attempt > 0) {
			/* init makes the site drop the part it appended */
			logf_(x, "  starting %s again from init in %u ms (%d of %d)", name, wait,
			      attempt, x->o.retries);
			sleep_ms(wait);
			wait = wait > 600000 ? wait : wait * 2;
			if ((st = cml_exchange_init(x)) != CML_OK)
				break;
		}
		st = send_chunks(x, name, fd, (int64_t)before.st_size);
		if (st != CML_ERR_NET || attempt >= x->o.retries)
			break;
	}
	if (st == CML_OK && (fstat(fd, &after) != 0 || after.st_size != before.st_size ||
	                     after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
	                     after.st_mtim.tv_nsec != before.st_mtim.tv_nsec))
		st = fail(x, CML_ERR_IO, "%s changed while it was being sent", path);
	if (st == CML_ERR_NET && x->endless)
		/* the body went out; its answer did not come whole */
		cml_msg_set(x->errmsg + strlen(x->errmsg), sizeof(x->errmsg) - strlen(x->errmsg),
		            "; the site did not confirm %s%s, so it is not imported", name,
		            x->o.retries > 0 ? ", even sent from the start again" : "");
	else if (st == CML_ERR_NET)
		cml_msg_set(x->errmsg + strlen(x->errmsg), sizeof(x->errmsg) - strlen(x->errmsg),
		            "; %s was not sent whole%s", name,
		            x->o.retries > 0 ? ", even from the start again" : "");
	return st;
}

cml_status
cml_exchange_upload(cml_exchange *x, const char *name, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return fail(x, CML_ERR_IO, "%s: %s", path, strerror(errno));
	cml_status st = upload_fd(x, name, fd, path);
	close(fd);
	return st;
}

/* The temporary archive being written. */
struct zip_out {
	int fd;
	int err; /* the first failed write's errno, 0: none */
	const char *path;
};

/*
 * libarchive's output. A failed write is kept in err, not handed back:
 * in its fatal state libarchive (3.6) never ends the deflate stream of
 * the entry it was writing, which leaks it; so it is told all went well,
 * and the caller checks err after every call and stops.
 */
static la_ssize_t
zip_write(struct archive *ar, void *ud, const void *buf, size_t n)
{
	struct zip_out *z = ud;
	const char *p = buf;
	size_t left = n;

	(void)ar;
	while (z->err == 0 && left > 0) {
		ssize_t w = write(z->fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			z->err = errno;
			break;
		}
		p += w;
		left -= (size_t)w;
	}
	return (la_ssize_t)n;
}

/* A failure of the archive (name: of the file being added, or NULL): a
 * full disk is said as such, with where the archive was. */
static cml_status
zip_fail(cml_exchange *x, struct archive *ar, const struct zip_out *z, const char *name)
{
	int e = z->err != 0 ? z->err : archive_errno(ar);
	const char *why = z->err != 0 ? strerror(z->err) : archive_error_string(ar);
	const char *archive = z->path;

	if (e == ENOSPC || e == EDQUOT || e == EFBIG)
		return fail(x, CML_ERR_IO,
		            "zip: cannot write the temporary archive %s: %s: make room there or "
		            "point TMPDIR at a disk with room for the zipped package",
		            archive, strerror(e));
	return fail(x, CML_ERR_IO, "zip: %s%s%s", name != NULL ? name : "",
	            name != NULL ? ": " : "", why != NULL ? why : "cannot write the archive");
}

/* Adds one file to the archive at archive. */
static cml_status
zip_add(cml_exchange *x, struct archive *ar, const struct zip_out *archive, const char *dir,
        const char *name, char *buf, size_t cap)
{
	char path[4096];
	struct stat sb;
	cml_status st = CML_OK;
	struct archive_entry *e = NULL;

	cml_msg_set(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &sb) != 0) {
		st = fail(x, CML_ERR_IO, "%s: %s", path, strerror(errno));
		goto out;
	}
	e = archive_entry_new();
	if (e == NULL) {
		st = fail(x, CML_ERR_NOMEM, "out of memory");
		goto out;
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, sb.st_size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, sb.st_mtim.tv_sec, 0);
	if (archive_write_header(ar, e) != ARCHIVE_OK || archive->err != 0) {
		st = zip_fail(x, ar, archive, name);
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = fail(x, CML_ERR_IO, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (archive_write_data(ar, buf, (size_t)n) != n || archive->err != 0) {
			st = zip_fail(x, ar, archive, name);
			goto out;
		}
	}
	if (archive_write_finish_entry(ar) != ARCHIVE_OK || archive->err != 0)
		st = zip_fail(x, ar, archive, name);
out:
	archive_entry_free(e);
	if (fd >= 0)
		close(fd);
	return st;
}

cml_status
cml_exchange_upload_zip(cml_exchange *x, const char *name, const char *dir,
                        const char *const *names)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096];
	struct archive *ar = NULL;
	char *buf = NULL;
	cml_status st = CML_OK;
	int fd;

	cml_msg_set(path, sizeof(path), "%s/cmlkit-XXXXXX.zip",
	            tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	fd = mkstemps(path, 4);
	if (fd < 0)
		return fail(x, CML_ERR_IO, "cannot create a temporary archive in %s: %s",
		            tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", strerror(errno));
	/* Nameless from here on: the open descriptor keeps the archive, and
	 * a run killed by any signal, kill -9 included, leaves nothing in
	 * TMPDIR for anyone to clean up. */
	unlink(path);
	struct zip_out zo = { .fd = fd, .path = path };
	ar = archive_write_new();
	buf = cml_malloc(256 * 1024);
	if (ar == NULL || buf == NULL) {
		st = fail(x, CML_ERR_NOMEM, "out of memory");
		goto out;
	}
	/* deflate at a fast level: XML shrinks about tenfold anyway, and a
	 * million-product package should not wait on the compressor */
	if (archive_write_set_format_zip(ar) != ARCHIVE_OK ||
	    archive_write_set_options(ar, "zip:compression-level=3") < ARCHIVE_WARN ||
	    archive_write_set_bytes_in_last_block(ar, 1) != ARCHIVE_OK ||
	    archive_write_open(ar, &zo, NULL, zip_write, NULL) != ARCHIVE_OK) {
		st = fail(x, CML_ERR_IO, "zip: %s", archive_error_string(ar));
		goto out;
	}
	logf_(x, "packing %s", name);
	for (const char *const *n = names; st == CML_OK && *n != NULL; n++)
		st = zip_add(x, ar, &zo, dir, *n, buf, 256 * 1024);
	if (st == CML_OK && (archive_write_close(ar) != ARCHIVE_OK || zo.err != 0))
		st = zip_fail(x, ar, &zo, NULL);
	if (st == CML_OK)
		st = upload_fd(x, name, fd, path);
out:
	if (ar != NULL)
		archive_write_free(ar);
	cml_free(buf);
	close(fd);
	return st;
}

cml_status
cml_exchange_import(cml_exchange *x, const char *name)
{
	const char *params[] = { "filename", name, NULL };
	char what[300];
	double start = now_ms();
	cml_status st;

	cml_msg_set(what, sizeof(what), "import %s", name);
	for (unsigned step = 0;; step++) {
		enum answer a;

		if ((st = request(x, what, "import", params, &a)) != CML_OK)
			return st;
		if (a == ANS_SUCCESS)
			return CML_OK;
		if (a != ANS_PROGRESS)
			return refused(x, what, a);
		if (step + 1 >= x->o.import_steps || now_ms() - start >= (double)x->o.import_ms)
			return fail(x, CML_ERR_NET,
			            "%s: the site still answers progress after %u answers and %.0f s "
			            "(--import-steps, --import-time); it may still be importing: run "
			            "again later",
			            what, step + 1, (now_ms() - start) / 1000.0);
		if (x->o.progress_wait_ms > 0)
			sleep_ms(x->o.progress_wait_ms);
	}
}

/* "Unknown command" from a site too old for the command. */
static bool
unknown_command(cml_exchange *x)
{
	const char *m = cml_exchange_message(x);

	return strstr(m, "Неизвестная команда") != NULL || strcasestr(m, "unknown command") != NULL ||
	       strcasestr(m, "unknown mode") != NULL;
}

static cml_status
finishing(cml_exchange *x, const char *mode, const char *const *params)
{
	enum answer a;
	cml_status st = request(x, mode, mode, params, &a);

	if (st == CML_ERR_NET && x->empty) {
		/* Shop-Script answers an unknown mode with an empty page */
		logf_(x, "  %s: not supported by the site (empty answer)", mode);
		return CML_END;
	}
	if (st != CML_OK)
		return st;
	if (a == ANS_FAILURE && unknown_command(x)) {
		logf_(x, "  %s: not supported by the site", mode);
		return CML_END;
	}
	return refused(x, mode, a);
}

cml_status
cml_exchange_deactivate(cml_exchange *x)
{
	if (x->timestamp == NULL) {
		logf_(x, "deactivate: the site gave no timestamp at checkauth: not sent");
		return CML_END;
	}
	const char *params[] = { "timestamp", x->timestamp, NULL };
	return finishing(x, "deactivate", params);
}

cml_status
cml_exchange_complete(cml_exchange *x)
{
	return finishing(x, "complete", NULL);
}

cml_status
cml_exchange_query(cml_exchange *x, FILE *out)
{
	enum answer a;

	x->sink = out;
	cml_status st = request(x, "query", "query", NULL, &a);
	bool xml = x->sink_state == 1;
	x->sink = NULL;
	if (st != CML_OK)
		return st;
	if (!xml && x->body.len > 0 && a == ANS_SUCCESS)
		return fail(x, CML_ERR_REFUSED, "query: the site answered success but sent no "
		                                "order document");
	if (!xml)
		return refused(x, "query", a == ANS_SUCCESS ? ANS_OTHER : a);
	if (fflush(out) != 0)
		return fail(x, CML_ERR_IO, "query: cannot write the answer: %s", strerror(errno));
	return CML_OK;
}

/* mode=success's answer. */
static cml_status
success_answer(cml_exchange *x, enum answer a)
{
	if (a == ANS_ERROR)
		return fail(x, CML_ERR_REFUSED,
		            "success: the site answered error: it did not take the confirmation "
		            "(its session changed?); it will send the same orders again");
	return refused(x, "success", a);
}

cml_status
cml_exchange_success(cml_exchange *x)
{
	enum answer a;
	cml_status st = request(x, "success", "success", NULL, &a);

	return st != CML_OK ? st : success_answer(x, a);
}
