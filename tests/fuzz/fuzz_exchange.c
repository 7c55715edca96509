/*
 * fuzz_exchange.c: libFuzzer target over the exchange client's answer
 * parsing (cml_exchange_parse_answer: decoding, the status word, the
 * message, checkauth's session lines, init's parameters, HTML pages),
 * with no network. Built as a real fuzzer with -DCMLKIT_FUZZ=ON (clang),
 * and always as a replay driver (replay.c) over the seed corpus.
 *
 * Input: byte 0 picks the command (low 3 bits) and the Content-Type
 * (the rest, modulo the list); byte 1 picks the password; the rest is the
 * answer's body. Beyond not crashing, it checks what the client promises:
 * an error comes with a message, and neither the message, the site's
 * words nor a log line ever shows the password, raw or as base64 of
 * user:password, or a URL with user info.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cml/exchange.h>

#include "exchange_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define USER "exchange"

static const char *const modes[] = { "checkauth", "init",     "file",    "import",
	                             "deactivate", "complete", "success", "query" };
static const char *const types[] = { NULL, "text/html; charset=windows-1251",
	                             "text/plain; charset=UTF-8", "text/html; charset=koi8-r",
	                             "text/html; charset=\"no-such-charset\"" };
/* the odd bytes of URLs, forms and HTML; a short one; one of a letter */
static const char *const passwords[] = { "p@ss w:r/d%Пароль", "q7", "Z", "a&b<c>\"d'+e" };
/* base64 of USER ":" password, as an echoed Authorization header shows it */
static const char *const auths[] = { "ZXhjaGFuZ2U6cEBzcyB3OnIvZCXQn9Cw0YDQvtC70Yw=",
	                             "ZXhjaGFuZ2U6cTc=", "ZXhjaGFuZ2U6Wg==",
	                             "ZXhjaGFuZ2U6YSZiPGM+ImQnK2U=" };

static const char *password, *auth;

static void
shows_secret(const char *s)
{
	if (s == NULL)
		return;
	if (strstr(s, password) != NULL || strstr(s, auth) != NULL)
		__builtin_trap();
	/* "://user@" or "://user:password@": a URL with user info */
	for (const char *p = strstr(s, "://"); p != NULL; p = strstr(p + 1, "://")) {
		size_t n = strcspn(p + 3, "/?#<>\"' \t\r\n\v");
		if (memchr(p + 3, '@', n) != NULL)
			__builtin_trap();
	}
}

static void
on_log(void *ud, const char *line)
{
	(void)ud;
	shows_secret(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static cml_exchange *keeper; /* keeps libcurl initialised between inputs */
	cml_exchange_opts o = { .url = "http://127.0.0.1:9/bitrix/admin/1c_exchange.php",
		                .user = USER,
		                .log = on_log };
	cml_exchange *x;
	cml_status st;

	if (size < 2)
		return 0;
	size_t pi = data[1] % (sizeof(passwords) / sizeof(passwords[0]));
	password = passwords[pi];
	auth = auths[pi];
	o.password = password;
	if (keeper == NULL)
		keeper = cml_exchange_new(&o, &st, NULL, 0);
	x = cml_exchange_new(&o, &st, NULL, 0);
	if (x == NULL)
		return 0;
	st = cml_exchange_parse_answer(x, modes[data[0] & 7],
	                               data + 2, size - 2,
	                               types[(data[0] >> 3) % (sizeof(types) / sizeof(types[0]))]);
	if (st < 0 && cml_exchange_errmsg(x)[0] == '\0')
		__builtin_trap();
	shows_secret(cml_exchange_errmsg(x));
	shows_secret(cml_exchange_message(x));
	cml_exchange_free(x);
	return 0;
}
