/*
 * keys.h: the matching keys of a counterparty and the checks of its
 * Russian requisites (cmlkit(7), ../DESIGN "Counterparty matching").
 * Pure functions: no store, no allocation that outlives a call, no
 * global state; safe from any thread.
 *
 * Every function takes the value as a system wrote it (spaces, NBSP,
 * mixed case) and either gives the normalised key or says why the value
 * is not one. An empty or blank value is CML_END ("no key"), not an
 * error: most buyers have no INN.
 *
 *  - email: trimmed (spaces and NBSP), a "mailto:" prefix and the
 *    "Name <addr>" display form dropped, split on the last '@'; the domain
 *    lower-cased, a trailing dot dropped, IDN converted to punycode
 *    (UTS #46 / IDNA2008 through libidn2: пример.рф ->
 *    xn--e1afmkfd.xn--p1ai). The key lower-cases the local part too (the
 *    big providers do); the address keeps it as written. Provider folding
 *    (gmail dots and +tags, googlemail, Yandex aliases) is a separate,
 *    weak suggest key, never used to link cards automatically;
 *  - INN: 10 digits (legal entity) or 12 (individual, entrepreneur) with
 *    the right check digits (DOMAIN.md A2); all zeros is invalid although
 *    it passes the sum;
 *  - KPP: ^[0-9]{4}[0-9A-Z]{2}[0-9]{3}$ (Latin letters only);
 *  - OGRN (13 digits) and OGRNIP (15 digits): check digit; for 15 digits
 *    the last digit of N14 mod 13, so remainders 11 and 12 give 1 and 2;
 *  - phone: Russian numbers as +7XXXXXXXXXX (a weak key): digits only,
 *    11 digits from 7 or 8 -> +7 and the last 10, 10 digits -> +7 and
 *    them; an extension ("доб.", "ext", "#") is cut first.
 */
#ifndef CML_KEYS_H
#define CML_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "cml.h"

CML_BEGIN_DECLS

/* What a Контакт is by its Тип, case-insensitively: "Почта",
 * "Электронная почта", "email", "E-mail", anything with "mail" or
 * "почта" -> EMAIL; "Телефон", "ТелефонРабочий", "Телефон рабочий",
 * "Телефон мобильный", "phone", anything starting "телефон" or with
 * "phone" -> PHONE; the rest (Факс, Skype, ...) -> OTHER. */
typedef enum cml_contact_kind {
	CML_CONTACT_OTHER = 0,
	CML_CONTACT_EMAIL = 1,
	CML_CONTACT_PHONE = 2,
} cml_contact_kind;

cml_contact_kind cml_contact_type(const char *type);

/* The longest email key and address (64 + 1 + 255, NUL not counted). */
#define CML_EMAIL_MAX 320

typedef struct cml_email {
	char key[CML_EMAIL_MAX + 1];     /* local@domain, both lower-case, domain punycode */
	char address[CML_EMAIL_MAX + 1]; /* local part as written @ normalised domain */
} cml_email;

/*
 * Normalises an email. CML_OK with *out; CML_END when in is NULL, empty
 * or blank; CML_ERR_VALUE when it is not an email (no '@', an empty or
 * over-long local part or domain, a domain without a dot, a space or a
 * control character inside, a domain libidn2 refuses), with *why a
 * static English phrase ("no @", "empty local part", "domain without a
 * dot", "invalid international domain", ...). why may be NULL.
 */
CML_NODISCARD cml_status cml_email_norm(const char *in, cml_email *out, const char **why);

/* The provider-folded "suggest" key of a normalised key (gmail.com and
 * googlemail.com: dots and a +tag dropped from the local part, domain
 * gmail.com; ya.ru, yandex.com, yandex.by, yandex.kz, yandex.ua,
 * narod.ru -> yandex.ru; anything else: the key itself). out holds
 * CML_EMAIL_MAX + 1 bytes. */
void cml_email_suggest(const char *key, char out[CML_EMAIL_MAX + 1]);

typedef enum cml_inn_kind {
	CML_INN_LEGAL = 10,  /* 10 digits: a legal entity */
	CML_INN_PERSON = 12, /* 12 digits: an individual or an entrepreneur */
} cml_inn_kind;

/*
 * Checks an INN (surrounding spaces allowed, nothing else). CML_OK with
 * the digits in out and *kind; CML_END when empty or blank; CML_ERR_VALUE
 * with *why ("not 10 or 12 digits", "wrong check digit", "all zeros").
 * kind and why may be NULL.
 */
CML_NODISCARD cml_status cml_inn_check(const char *in, char out[13], cml_inn_kind *kind,
                                       const char **why);

/* Checks a KPP as above: CML_OK with the 9 characters in out, CML_END
 * when empty or blank, CML_ERR_VALUE with *why. */
CML_NODISCARD cml_status cml_kpp_check(const char *in, char out[10], const char **why);

/* True for a valid OGRN (13 digits) or OGRNIP (15 digits). */
bool cml_ogrn_valid(const char *s);

/* A Russian phone number as +7XXXXXXXXXX in out: CML_OK; CML_END when
 * empty or blank; CML_ERR_VALUE when it is no Russian number (wrong
 * length, another country code, letters) with *why. */
CML_NODISCARD cml_status cml_phone_key(const char *in, char out[13], const char **why);

/* A stable identifier made from a name: the XXH3-128 hash of ns, a NUL
 * and name, written as a lower-case UUID (8-4-4-4-12 hex digits, version
 * nibble 8, RFC 9562's custom form) in out. The same (ns, name) gives the
 * same Ид on every machine and run: what makes a card or contact person
 * that cp-match creates the same on a replay. */
void cml_stable_id(const char *ns, const char *name, char out[37]);

CML_END_DECLS

#endif /* CML_KEYS_H */
