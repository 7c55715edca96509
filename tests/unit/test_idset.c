/*
 * test_idset.c: the hash set of Ид: adds, lookups, growth, clearing,
 * allocation failures.
 */
#include <stdio.h>

#include <cml/idset.h>

#include "harness.h"

static void
test_basic(void)
{
	cml_idset *s = cml_idset_new();
	bool was = true;

	CHECK(s != NULL);
	CHECK_INT(cml_idset_add(s, cml_id_hash("a"), &was), CML_OK);
	CHECK(!was);
	CHECK_INT(cml_idset_add(s, cml_id_hash("a"), &was), CML_OK);
	CHECK(was);
	CHECK(cml_idset_has(s, cml_id_hash("a")));
	CHECK(!cml_idset_has(s, cml_id_hash("b")));
	CHECK(cml_id_hash("") != 0);
	CHECK(cml_id_hash("a") != cml_id_hash("b"));
	CHECK_INT(cml_idset_len(s), 1);
	cml_idset_clear(s);
	CHECK_INT(cml_idset_len(s), 0);
	CHECK(!cml_idset_has(s, cml_id_hash("a")));
	cml_idset_free(s);
	cml_idset_free(NULL);
}

static void
test_many(void)
{
	cml_idset *s = cml_idset_new();
	char id[64];
	int missing = 0, dups = 0;

	for (int i = 0; i < 200000; i++) {
		bool was;
		snprintf(id, sizeof(id), "93a6bf94-c4b7-11e9-81ee-%012d", i);
		if (cml_idset_add(s, cml_id_hash(id), &was) != CML_OK || was)
			dups++;
	}
	for (int i = 0; i < 200000; i++) {
		snprintf(id, sizeof(id), "93a6bf94-c4b7-11e9-81ee-%012d", i);
		if (!cml_idset_has(s, cml_id_hash(id)))
			missing++;
	}
	CHECK_INT(dups, 0);
	CHECK_INT(missing, 0);
	CHECK_INT(cml_idset_len(s), 200000);
	cml_idset_free(s);
}

static void
test_nomem(void)
{
	cml_alloc_fail_after(1);
	CHECK(cml_idset_new() == NULL);
	cml_alloc_fail_after(0);
	cml_idset *s = cml_idset_new();
	cml_alloc_fail_after(1);
	CHECK_INT(cml_idset_add(s, 42, NULL), CML_ERR_NOMEM);
	cml_alloc_fail_after(0);
	CHECK_INT(cml_idset_add(s, 42, NULL), CML_OK);
	cml_idset_free(s);
}

int
main(void)
{
	RUN(test_basic);
	RUN(test_many);
	RUN(test_nomem);
	return harness_done();
}
