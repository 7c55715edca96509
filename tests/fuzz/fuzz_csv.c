/*
 * fuzz_csv.c: libFuzzer target over the CSV reader (cmlkit-csv(5)), the
 * twin of fuzz_reader.c. Built as a real fuzzer with -DCMLKIT_FUZZ=ON
 * (clang), and always as a replay driver (replay.c) that runs the seed
 * corpus under plain ctest.
 */
#include <stddef.h>
#include <stdint.h>

#include <cml/csv.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cml_csv_reader *r = cml_csv_reader_new();
	const cml_item *it;
	cml_status st;

	if (r == NULL)
		return 0;
	st = cml_csv_reader_open_memory(r, data, size, "fuzz.csv");
	while (st == CML_OK && (st = cml_csv_reader_next(r, &it)) == CML_OK)
		if (it == NULL)
			__builtin_trap(); /* OK always comes with an item */
	/* an error must come with a message, and it must stay */
	if (st < 0 && (cml_csv_reader_errmsg(r)[0] == '\0' || cml_csv_reader_next(r, &it) != st))
		__builtin_trap();
	cml_csv_reader_free(r);
	return 0;
}
