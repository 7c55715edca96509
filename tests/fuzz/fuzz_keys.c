/*
 * fuzz_keys.c: libFuzzer target over the matching keys (cml/keys.h):
 * the input, up to its first NUL, goes through every key function.
 * Besides crashes it traps when an error comes without a reason, when a
 * key is not of its documented form, or when a key given back to its
 * own function does not come out the same.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cml/keys.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_email(const char *in)
{
	cml_email e, again;
	char sug[CML_EMAIL_MAX + 1], sug2[CML_EMAIL_MAX + 1], dom[CML_EMAIL_MAX + 3];
	const char *why = NULL, *at, *at2;
	cml_status st = cml_email_norm(in, &e, &why);

	if (st == CML_ERR_VALUE && (why == NULL || why[0] == '\0' || e.key[0] != '\0'))
		__builtin_trap();
	if (st != CML_OK)
		return;
	at = strrchr(e.key, '@');
	at2 = strrchr(e.address, '@');
	if (at == NULL || at2 == NULL || at == e.key || strlen(e.key) != strlen(e.address) ||
	    at - e.key != at2 - e.address || strcmp(at, at2) != 0)
		__builtin_trap();
	/* the domain is ASCII lower case and normalises to itself */
	for (const char *p = at + 1; *p; p++)
		if ((unsigned char)*p >= 0x80 || (*p >= 'A' && *p <= 'Z'))
			__builtin_trap();
	dom[0] = 'x';
	memcpy(dom + 1, at, strlen(at) + 1);
	if (cml_email_norm(dom, &again, NULL) != CML_OK || strcmp(again.key, dom) != 0)
		__builtin_trap();
	/* the suggest key is a fixed point */
	cml_email_suggest(e.key, sug);
	cml_email_suggest(sug, sug2);
	if (strchr(sug, '@') == NULL || strcmp(sug, sug2) != 0)
		__builtin_trap();
}

static void
check_requisites(const char *in)
{
	char inn[13], inn2[13], kpp[10], phone[13], phone2[13];
	cml_inn_kind kind;
	const char *why = NULL;
	cml_status st;

	st = cml_inn_check(in, inn, &kind, &why);
	if (st == CML_ERR_VALUE && (why == NULL || why[0] == '\0'))
		__builtin_trap();
	if (st == CML_OK && (strlen(inn) != (size_t)kind || strspn(inn, "0123456789") != strlen(inn) ||
	                     cml_inn_check(inn, inn2, NULL, NULL) != CML_OK || strcmp(inn, inn2) != 0))
		__builtin_trap();
	why = NULL;
	st = cml_kpp_check(in, kpp, &why);
	if ((st == CML_ERR_VALUE && (why == NULL || why[0] == '\0')) ||
	    (st == CML_OK && strlen(kpp) != 9))
		__builtin_trap();
	why = NULL;
	st = cml_phone_key(in, phone, &why);
	if (st == CML_ERR_VALUE && (why == NULL || why[0] == '\0'))
		__builtin_trap();
	if (st == CML_OK &&
	    (strlen(phone) != 12 || strncmp(phone, "+7", 2) != 0 ||
	     strspn(phone + 1, "0123456789") != 11 || cml_phone_key(phone, phone2, NULL) != CML_OK ||
	     strcmp(phone, phone2) != 0))
		__builtin_trap();
	(void)cml_ogrn_valid(in);
	(void)cml_contact_type(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	char id[37];

	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	check_email(in);
	check_requisites(in);
	cml_stable_id(in, in, id);
	if (strlen(id) != 36 || id[14] != '8')
		__builtin_trap();
	free(in);
	return 0;
}
