/*
 * keys.c: the matching keys of a counterparty (email, INN, KPP, OGRN,
 * phone) and the stable identifiers cp-match makes (cml/keys.h).
 *
 * Pure functions over the caller's buffers: no allocation of ours, no
 * store, no global state. libidn2 is called only for a domain with a
 * non-ASCII byte: almost every address is ASCII, and these functions run
 * once per buyer and once per register row (a million of them).
 */
#include <stdint.h>
#include <string.h>

#include <idn2.h>
/* XXH3_state_t on the stack: no allocation for a stable Ид */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "cml/keys.h"

/* The longest local part and domain of an address (RFC 5321 4.5.3.1). */
#define LOCAL_MAX 64
#define DOMAIN_MAX 255

/* Contact types and phone numbers longer than this are not looked at
 * beyond it: a type is a word or two, a phone a few dozen bytes. */
#define FOLD_MAX 128

static bool
is_space_at(const char *p, const char *end, size_t *len)
{
	unsigned char c = (unsigned char)*p;

	if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
		*len = 1;
		return true;
	}
	/* U+00A0 NO-BREAK SPACE: what a copy from a web page or 1C gives */
	if (c == 0xC2 && end - p >= 2 && (unsigned char)p[1] == 0xA0) {
		*len = 2;
		return true;
	}
	return false;
}

/* Narrows [*b, *e) past leading and trailing spaces and NBSP. */
static void
trim(const char **b, const char **e)
{
	size_t n;

	while (*b < *e && is_space_at(*b, *e, &n))
		*b += n;
	while (*b < *e) {
		if ((unsigned char)(*e)[-1] == 0xA0 && *e - *b >= 2 &&
		    (unsigned char)(*e)[-2] == 0xC2)
			*e -= 2;
		else if (is_space_at(*e - 1, *e, &n) && n == 1)
			*e -= 1;
		else
			break;
	}
}

/* Lower-cases ASCII and Russian Cyrillic (А-Я, Ё) in place; a UTF-8
 * Cyrillic letter keeps its length in either case. */
static void
fold_lower(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z') {
			s[i] = (char)(c + 32);
		} else if (c == 0xD0 && i + 1 < n) {
			unsigned char d = (unsigned char)s[i + 1];

			if (d >= 0x90 && d <= 0x9F) { /* А..П -> а..п */
				s[i + 1] = (char)(d + 0x20);
			} else if (d >= 0xA0 && d <= 0xAF) { /* Р..Я -> р..я */
				s[i] = (char)0xD1;
				s[i + 1] = (char)(d - 0x20);
			} else if (d == 0x81) { /* Ё -> ё */
				s[i] = (char)0xD1;
				s[i + 1] = (char)0x91;
			}
			i++;
		}
	}
}

/* Copies [b, e) (at most FOLD_MAX bytes) lower-cased into buf. */
static size_t
fold_copy(const char *b, const char *e, char buf[FOLD_MAX + 1])
{
	size_t n = (size_t)(e - b);

	if (n > FOLD_MAX)
		n = FOLD_MAX;
	memcpy(buf, b, n);
	buf[n] = '\0';
	fold_lower(buf, n);
	return n;
}

cml_contact_kind
cml_contact_type(const char *type)
{
	char buf[FOLD_MAX + 1];
	const char *b = type, *e;

	if (type == NULL)
		return CML_CONTACT_OTHER;
	e = b + strlen(b);
	trim(&b, &e);
	fold_copy(b, e, buf);
	if (strstr(buf, "mail") != NULL || strstr(buf, "почта") != NULL)
		return CML_CONTACT_EMAIL;
	if (strncmp(buf, "телефон", strlen("телефон")) == 0 || strstr(buf, "phone") != NULL)
		return CML_CONTACT_PHONE;
	return CML_CONTACT_OTHER;
}

static bool
has_prefix_ci(const char *b, const char *e, const char *prefix)
{
	size_t n = strlen(prefix);

	if ((size_t)(e - b) < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		if (c != (unsigned char)prefix[i])
			return false;
	}
	return true;
}

static cml_status
email_fail(cml_email *out, const char **why, const char *reason)
{
	out->key[0] = '\0';
	out->address[0] = '\0';
	if (why != NULL)
		*why = reason;
	return CML_ERR_VALUE;
}

/* The domain [b, e) (no trailing dot) in dom as ASCII lower case:
 * punycode through libidn2 when it has a non-ASCII byte. NULL or the
 * reason it is not a domain. */
static const char *
domain_norm(const char *b, const char *e, char dom[DOMAIN_MAX + 1])
{
	size_t n = (size_t)(e - b);
	bool ascii = true;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)b[i] >= 0x80)
			ascii = false;
	if (ascii) {
		if (n > DOMAIN_MAX)
			return "domain too long";
		memcpy(dom, b, n);
		dom[n] = '\0';
		fold_lower(dom, n);
	} else {
		/* libidn2 wants a NUL-terminated string: the longest UTF-8
		 * domain worth converting is a few times the ASCII limit */
		char in[4 * DOMAIN_MAX + 1];
		char *p = NULL;
		int rc;

		if (n >= sizeof(in))
			return "domain too long";
		memcpy(in, b, n);
		in[n] = '\0';
		/* UTS #46 non-transitional (IDNA2008: ß and ς kept), falling
		 * back to transitional for what only that accepts, as
		 * libidn2's documentation advises */
		rc = idn2_to_ascii_8z(in, &p, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
		if (rc == IDN2_DISALLOWED)
			rc = idn2_to_ascii_8z(in, &p, IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
		if (rc != IDN2_OK || p == NULL) {
			idn2_free(p);
			return "invalid international domain";
		}
		n = strlen(p);
		if (n > DOMAIN_MAX) {
			idn2_free(p);
			return "domain too long";
		}
		memcpy(dom, p, n + 1);
		idn2_free(p);
		fold_lower(dom, n);
	}
	if (n == 0)
		return "empty domain";
	if (strchr(dom, '.') == NULL)
		return "domain without a dot";
	if (dom[0] == '.' || dom[n - 1] == '.' || strstr(dom, "..") != NULL)
		return "empty label in domain";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)dom[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '.' || c == '_'))
			return "invalid character in domain";
	}
	return NULL;
}

cml_status
cml_email_norm(const char *in, cml_email *out, const char **why)
{
	const char *b = in, *e, *at = NULL, *lt = NULL;
	char dom[DOMAIN_MAX + 1];
	const char *reason;
	size_t nl, nd;

	out->key[0] = '\0';
	out->address[0] = '\0';
	if (in == NULL)
		return CML_END;
	e = b + strlen(b);
	trim(&b, &e);
	if (b == e)
		return CML_END;
	/* "Иван <ivan@example.ru>": the address is inside the last <...> */
	if (e[-1] == '>') {
		for (const char *p = b; p < e - 1; p++)
			if (*p == '<')
				lt = p;
		if (lt != NULL) {
			b = lt + 1;
			e--;
			trim(&b, &e);
		}
	}
	if (has_prefix_ci(b, e, "mailto:")) {
		b += strlen("mailto:");
		trim(&b, &e);
	}
	if (b == e)
		return email_fail(out, why, "no address");
	for (const char *p = b; p < e; p++) {
		unsigned char c = (unsigned char)*p;
		size_t n;

		if (is_space_at(p, e, &n))
			return email_fail(out, why, "space inside");
		if (c < 0x20 || c == 0x7F)
			return email_fail(out, why, "control character inside");
		if (c == '@')
			at = p;
	}
	if (at == NULL)
		return email_fail(out, why, "no @");
	nl = (size_t)(at - b);
	if (nl == 0)
		return email_fail(out, why, "empty local part");
	if (nl > LOCAL_MAX)
		return email_fail(out, why, "local part too long");
	/* an @ in the local part is legal only quoted: "a@b"@example.ru */
	if (memchr(b, '@', nl) != NULL && !(nl >= 2 && b[0] == '"' && at[-1] == '"'))
		return email_fail(out, why, "more than one @");
	e -= (e - at > 1 && e[-1] == '.'); /* the root's dot: example.ru. */
	if (e - at <= 1)
		return email_fail(out, why, "empty domain");
	reason = domain_norm(at + 1, e, dom);
	if (reason != NULL)
		return email_fail(out, why, reason);
	nd = strlen(dom);
	/* nl <= 64, nd <= 255: both fit CML_EMAIL_MAX */
	memcpy(out->address, b, nl);
	out->address[nl] = '@';
	memcpy(out->address + nl + 1, dom, nd + 1);
	memcpy(out->key, out->address, nl + 1 + nd + 1);
	fold_lower(out->key, nl);
	return CML_OK;
}

void
cml_email_suggest(const char *key, char out[CML_EMAIL_MAX + 1])
{
	static const char *const yandex[] = { "ya.ru",    "yandex.com", "yandex.by",
		                              "yandex.kz", "yandex.ua",  "narod.ru" };
	const char *at;
	size_t n;

	out[0] = '\0';
	if (key == NULL)
		return;
	n = strnlen(key, CML_EMAIL_MAX + 1);
	if (n > CML_EMAIL_MAX)
		return;
	at = strrchr(key, '@');
	if (at != NULL && (strcmp(at + 1, "gmail.com") == 0 ||
	                   strcmp(at + 1, "googlemail.com") == 0)) {
		size_t o = 0;

		for (const char *p = key; p < at && *p != '+'; p++)
			if (*p != '.')
				out[o++] = *p;
		if (o > 0) {
			memcpy(out + o, "@gmail.com", sizeof("@gmail.com"));
			return;
		}
	} else if (at != NULL) {
		for (size_t i = 0; i < sizeof(yandex) / sizeof(yandex[0]); i++) {
			if (strcmp(at + 1, yandex[i]) == 0) {
				size_t o = (size_t)(at - key);

				memcpy(out, key, o);
				memcpy(out + o, "@yandex.ru", sizeof("@yandex.ru"));
				return;
			}
		}
	}
	memcpy(out, key, n + 1);
}

/* [*b, *e) trimmed and checked to be digits only: its length, or 0. */
static size_t
digits_trimmed(const char *in, const char **b, const char **e)
{
	*b = in;
	*e = in + strlen(in);
	trim(b, e);
	for (const char *p = *b; p < *e; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return (size_t)(*e - *b);
}

/* (Σ w[i] d[i] mod 11) mod 10 over the first n digits of s. */
static int
inn_digit(const char *s, const int *w, size_t n)
{
	int sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += w[i] * (s[i] - '0');
	return sum % 11 % 10;
}

cml_status
cml_inn_check(const char *in, char out[13], cml_inn_kind *kind, const char **why)
{
	static const int w10[] = { 2, 4, 10, 3, 5, 9, 4, 6, 8 };
	static const int w11[] = { 7, 2, 4, 10, 3, 5, 9, 4, 6, 8 };
	static const int w12[] = { 3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8 };
	const char *b, *e, *reason = NULL;
	size_t n;

	out[0] = '\0';
	if (in == NULL)
		return CML_END;
	n = digits_trimmed(in, &b, &e);
	if (b == e)
		return CML_END;
	if (n != 10 && n != 12)
		reason = "not 10 or 12 digits";
	else if (strspn(b, "0") >= n)
		reason = "all zeros";
	else if (n == 10 && inn_digit(b, w10, 9) != b[9] - '0')
		reason = "wrong check digit";
	else if (n == 12 && (inn_digit(b, w11, 10) != b[10] - '0' ||
	                     inn_digit(b, w12, 11) != b[11] - '0'))
		reason = "wrong check digit";
	if (reason != NULL) {
		if (why != NULL)
			*why = reason;
		return CML_ERR_VALUE;
	}
	memcpy(out, b, n);
	out[n] = '\0';
	if (kind != NULL)
		*kind = n == 10 ? CML_INN_LEGAL : CML_INN_PERSON;
	return CML_OK;
}

cml_status
cml_kpp_check(const char *in, char out[10], const char **why)
{
	const char *b, *e;

	out[0] = '\0';
	if (in == NULL)
		return CML_END;
	b = in;
	e = in + strlen(in);
	trim(&b, &e);
	if (b == e)
		return CML_END;
	if (e - b != 9) {
		if (why != NULL)
			*why = "not 9 characters";
		return CML_ERR_VALUE;
	}
	for (int i = 0; i < 9; i++) {
		char c = b[i];
		bool digit = c >= '0' && c <= '9';

		/* characters 5 and 6 (the reason code) may be Latin capitals */
		if (!digit && !((i == 4 || i == 5) && c >= 'A' && c <= 'Z')) {
			if (why != NULL)
				*why = "not 4 digits, 2 digits or Latin capitals, 3 digits";
			return CML_ERR_VALUE;
		}
	}
	memcpy(out, b, 9);
	out[9] = '\0';
	return CML_OK;
}

bool
cml_ogrn_valid(const char *s)
{
	const char *b, *e;
	uint64_t num = 0;
	size_t n;

	if (s == NULL)
		return false;
	n = digits_trimmed(s, &b, &e);
	if ((n != 13 && n != 15) || strspn(b, "0") >= n)
		return false;
	for (size_t i = 0; i + 1 < n; i++)
		num = num * 10 + (uint64_t)(b[i] - '0');
	/* N12 mod 11 or N14 mod 13, its last digit (13 -> remainder 11 or
	 * 12 gives 1 or 2, as 1C's Right(Format(N % 13), 1) does) */
	return (int)(num % (n == 13 ? 11 : 13) % 10) == b[n - 1] - '0';
}

static cml_status
phone_fail(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return CML_ERR_VALUE;
}

cml_status
cml_phone_key(const char *in, char out[13], const char **why)
{
	char buf[FOLD_MAX + 1], digits[FOLD_MAX + 1];
	const char *b, *e, *cut;
	size_t n, nd = 0;
	bool plus = false;

	out[0] = '\0';
	if (in == NULL)
		return CML_END;
	b = in;
	e = in + strlen(in);
	trim(&b, &e);
	if (b == e)
		return CML_END;
	if (e - b > FOLD_MAX)
		return phone_fail(why, "too long for a phone number");
	n = fold_copy(b, e, buf);
	/* an extension is not part of the number: "... доб. 123", "ext 5", "#5" */
	cut = buf + n;
	for (const char *const *m = (const char *const[]){ "доб", "ext", "#", NULL }; *m; m++) {
		const char *p = strstr(buf, *m);

		if (p != NULL && p < cut)
			cut = p;
	}
	for (const char *p = buf; p < cut; p++) {
		unsigned char c = (unsigned char)*p;
		size_t sp;

		if (c >= '0' && c <= '9') {
			digits[nd++] = (char)c;
		} else if (c == '+') {
			if (plus || nd > 0)
				return phone_fail(why, "a + inside the number");
			plus = true;
		} else if (is_space_at(p, cut, &sp)) {
			p += sp - 1;
		} else if (c != '(' && c != ')' && c != '-' && c != '.' && c != '/') {
			return phone_fail(why, "letters in the number");
		}
	}
	if (nd == 0)
		return phone_fail(why, "no digits");
	if (plus && digits[0] != '7')
		return phone_fail(why, "not a Russian number (country code other than 7)");
	if (nd == 11 && (digits[0] == '7' || (digits[0] == '8' && !plus))) {
		memcpy(out + 2, digits + 1, 10);
	} else if (nd == 10 && !plus) {
		memcpy(out + 2, digits, 10);
	} else {
		return phone_fail(why, "not 10 digits, or 11 from 7 or 8");
	}
	out[0] = '+';
	out[1] = '7';
	out[12] = '\0';
	return CML_OK;
}

void
cml_stable_id(const char *ns, const char *name, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	XXH3_state_t st;
	XXH128_canonical_t c;
	size_t o = 0;

	/* ns, a NUL, name: ("ab", "c") and ("a", "bc") never meet */
	XXH3_128bits_reset(&st);
	XXH3_128bits_update(&st, ns != NULL ? ns : "", ns != NULL ? strlen(ns) : 0);
	XXH3_128bits_update(&st, "", 1);
	XXH3_128bits_update(&st, name != NULL ? name : "", name != NULL ? strlen(name) : 0);
	XXH128_canonicalFromHash(&c, XXH3_128bits_digest(&st));
	/* RFC 9562 UUIDv8: version nibble 8, variant bits 10 */
	c.digest[6] = (unsigned char)((c.digest[6] & 0x0F) | 0x80);
	c.digest[8] = (unsigned char)((c.digest[8] & 0x3F) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[c.digest[i] >> 4];
		out[o++] = hex[c.digest[i] & 0x0F];
	}
	out[o] = '\0';
}
