/*
 * fuzz_reader.c: libFuzzer target over the streaming reader. Built as a
 * real fuzzer with -DCMLKIT_FUZZ=ON (clang), and always as a replay
 * driver (replay.c) that runs the seed corpus under plain ctest.
 */
#include <stddef.h>
#include <stdint.h>

#include <cml/reader.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	cml_status st;

	if (r == NULL)
		return 0;
	st = cml_reader_open_memory(r, data, size, "fuzz.xml");
	/* an item error skips one item: read on, as cml-check does */
	while ((st == CML_OK || st == CML_ERR_ITEM) &&
	       ((st = cml_reader_next(r, &it)) == CML_OK || st == CML_ERR_ITEM))
		if ((st == CML_ERR_ITEM) != (it == NULL) ||
		    (st == CML_ERR_ITEM && cml_reader_errmsg(r)[0] == '\0'))
			__builtin_trap();
	/* an error must come with a message */
	if (st < 0 && cml_reader_errmsg(r)[0] == '\0')
		__builtin_trap();
	cml_reader_free(r);
	return 0;
}
