/*
 * common.c: status strings, item kind names and number canonicalisation.
 */
#include <string.h>

#include "cml/cml.h"
#include "cml/model.h"
#include "cml_private.h"

const char *
cml_version(void)
{
	return CML_VERSION_STRING;
}

const char *
cml_status_str(cml_status st)
{
	switch (st) {
	case CML_OK: return "ok";
	case CML_END: return "end of data";
	case CML_ERR_NOMEM: return "out of memory";
	case CML_ERR_IO: return "input/output error";
	case CML_ERR_SYNTAX: return "syntax error";
	case CML_ERR_ENCODING: return "encoding error";
	case CML_ERR_HOSTILE: return "refused as hostile";
	case CML_ERR_FORMAT: return "not CommerceML that can be read";
	case CML_ERR_VALUE: return "bad value";
	case CML_ERR_USAGE: return "bad use of the library";
	case CML_ERR_STATE: return "call out of order";
	case CML_ERR_BUSY: return "in use by another run";
	case CML_ERR_NET: return "site or network failure";
	case CML_ERR_REFUSED: return "refused by the site";
	case CML_ERR_ITEM: return "bad item (skipped)";
	}
	return "unknown status";
}

static const char *const kind_names[CML_ITEM_KIND_COUNT] = {
	[CML_ITEM_NONE] = "none",
	[CML_ITEM_FILE] = "file",
	[CML_ITEM_CLASSIFIER] = "classifier",
	[CML_ITEM_GROUP] = "group",
	[CML_ITEM_PROPERTY] = "property",
	[CML_ITEM_PRICE_TYPE] = "price_type",
	[CML_ITEM_WAREHOUSE] = "warehouse",
	[CML_ITEM_UNIT] = "unit",
	[CML_ITEM_CATALOG] = "catalog",
	[CML_ITEM_PRODUCT] = "product",
	[CML_ITEM_OFFERS_PACKAGE] = "offers_package",
	[CML_ITEM_OFFER] = "offer",
	[CML_ITEM_DOCUMENT] = "document",
	[CML_ITEM_COUNTERPARTY] = "counterparty",
};

const char *
cml_kind_name(cml_kind kind)
{
	if ((unsigned)kind >= CML_ITEM_KIND_COUNT)
		return NULL;
	return kind_names[kind];
}

/*
 * Spaces, tabs and no-break spaces (U+00A0 as C2 A0, U+202F as E2 80 AF)
 * are thousands separators inside a number and padding around it.
 */
static size_t
skip_space(const unsigned char *s)
{
	if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		return 1;
	if (s[0] == 0xC2 && s[1] == 0xA0)
		return 2;
	if (s[0] == 0xE2 && s[1] == 0x80 && s[2] == 0xAF)
		return 3;
	return 0;
}

bool
cml_num_canon(const char *text, char *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *)text;
	char intpart[64], frac[64];
	size_t ni = 0, nf = 0, k;
	bool neg = false, seen_point = false, seen_digit = false;

	if (cap == 0)
		return false;
	out[0] = '\0';
	while ((k = skip_space(s)) != 0)
		s += k;
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	for (;;) {
		if (*s >= '0' && *s <= '9') {
			seen_digit = true;
			if (seen_point) {
				if (nf >= sizeof(frac))
					return false;
				frac[nf++] = (char)*s;
			} else {
				if (ni == 0 && *s == '0')
					; /* leading zero */
				else if (ni >= sizeof(intpart))
					return false;
				else
					intpart[ni++] = (char)*s;
			}
			s++;
		} else if ((*s == '.' || *s == ',') && !seen_point) {
			seen_point = true;
			s++;
		} else if ((k = skip_space(s)) != 0) {
			/* a separator between digit groups, or trailing padding */
			const unsigned char *t = s + k;
			size_t k2;

			while ((k2 = skip_space(t)) != 0)
				t += k2;
			if (*t == '\0') {
				s = t;
				break;
			}
			if (seen_point || !seen_digit)
				return false;
			s = t;
		} else {
			break;
		}
	}
	if (*s != '\0' || !seen_digit)
		return false;
	while (nf > 0 && frac[nf - 1] == '0')
		nf--;
	if (ni == 0 && nf == 0)
		neg = false; /* -0 */

	size_t need = (neg ? 1 : 0) + (ni ? ni : 1) + (nf ? nf + 1 : 0) + 1;
	if (need > cap)
		return false;
	char *o = out;
	if (neg)
		*o++ = '-';
	if (ni == 0)
		*o++ = '0';
	memcpy(o, intpart, ni);
	o += ni;
	if (nf) {
		*o++ = '.';
		memcpy(o, frac, nf);
		o += nf;
	}
	*o = '\0';
	return true;
}

size_t
cml_utf8_decode(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned long c = s[0];
	size_t k;

	if (n == 0)
		return 0;
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		k = 2;
		c &= 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		k = 3;
		c &= 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		k = 4;
		c &= 0x07;
	} else {
		return 0;
	}
	if (n < k)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xC0) != 0x80) /* a NUL stops here too */
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	if ((k == 3 && c < 0x800) || (k == 4 && c < 0x10000) || c > 0x10FFFF ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return k;
}

bool
cml_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;

	for (size_t i = 0; i < n;) {
		if (p[i] < 0x80) { /* NUL included: it is the caller's to judge */
			i++;
			continue;
		}
		size_t k = cml_utf8_decode(p + i, n - i, &cp);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}
