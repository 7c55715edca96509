/*
 * test_common.c: number canonicalisation, the arena, status and kind names.
 */
#include <stdint.h>

#include <cml/model.h>

#include "cml_private.h"
#include "harness.h"

static const char *
canon(const char *in)
{
	static char buf[64];

	return cml_num_canon(in, buf, sizeof(buf)) ? buf : NULL;
}

static void
test_num_canon(void)
{
	CHECK_STR(canon("100"), "100");
	CHECK_STR(canon("100.00"), "100");
	CHECK_STR(canon("100,00"), "100");
	CHECK_STR(canon(" 1 200,50 "), "1200.5");
	CHECK_STR(canon("1\xc2\xa0" "200.5"), "1200.5");
	CHECK_STR(canon("-999 999 999,9"), "-999999999.9");
	CHECK_STR(canon("0.0000"), "0");
	CHECK_STR(canon("-0"), "0");
	CHECK_STR(canon("+7"), "7");
	CHECK_STR(canon("007.50"), "7.5");
	CHECK_STR(canon(".5"), "0.5");
	CHECK_STR(canon("231.7400"), "231.74");
	CHECK_STR(canon("45000.0"), "45000");
	CHECK(canon("") == NULL);
	CHECK(canon(" ") == NULL);
	CHECK(canon("abc") == NULL);
	CHECK(canon("1.2.3") == NULL);
	CHECK(canon("1,2,3") == NULL);
	CHECK(canon("12 руб") == NULL);
	CHECK(canon("1e5") == NULL);
	CHECK(canon("-") == NULL);
	CHECK(canon("1 2.5 3") == NULL);
	char small[3];
	CHECK(!cml_num_canon("12345", small, sizeof(small)));
	CHECK_STR(small, "");
}

static void
test_arena(void)
{
	cml_arena a;

	cml_arena_init(&a);
	char *s = cml_arena_strdup(&a, "hello");
	CHECK_STR(s, "hello");
	void *big = cml_arena_alloc(&a, 100000);
	CHECK(big != NULL);
	CHECK(((uintptr_t)big % _Alignof(max_align_t)) == 0);
	cml_arena_reset(&a);
	CHECK(a.used == 0);
	CHECK(cml_arena_alloc(&a, 50000) != NULL);
	cml_arena_destroy(&a);

	cml_alloc_fail_after(1);
	cml_arena_init(&a);
	CHECK(cml_arena_alloc(&a, 10) == NULL);
	cml_alloc_fail_after(0);
	cml_arena_destroy(&a);
}

static void
test_names(void)
{
	CHECK_STR(cml_kind_name(CML_ITEM_PRODUCT), "product");
	CHECK_STR(cml_kind_name(CML_ITEM_OFFERS_PACKAGE), "offers_package");
	CHECK(cml_kind_name(CML_ITEM_KIND_COUNT) == NULL);
	CHECK_STR(cml_status_str(CML_ERR_HOSTILE), "refused as hostile");
	CHECK_STR(cml_version(), CML_VERSION_STRING);
}

static void
test_trim(void)
{
	char a[] = "  796 \t";
	char b[] = "\xc2\xa0x\xc2\xa0";
	char c[] = "   ";

	CHECK_STR(cml_trim(a), "796");
	CHECK_STR(cml_trim(b), "x");
	CHECK_STR(cml_trim(c), "");
}

int
main(void)
{
	RUN(test_num_canon);
	RUN(test_arena);
	RUN(test_names);
	RUN(test_trim);
	return harness_done();
}
