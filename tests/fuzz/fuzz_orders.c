/*
 * fuzz_orders.c: libFuzzer target over the order side of the library:
 * every document the reader hands out goes through cml_order_check and
 * is written as XML, CSV and JSON Lines. It traps when a rejection has
 * no reason, when an output is not valid UTF-8 where it must be, or when
 * the XML written cannot be read back as the same number of documents.
 * Built like fuzz_reader.c; the replay driver runs the reader's seeds.
 */
#define _GNU_SOURCE /* open_memstream, memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cml/order.h>
#include <cml/orderfmt.h>
#include <cml/reader.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether the n bytes at s are UTF-8 (a simple check of its own). */
static int
utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 :
		           (c & 0xF8) == 0xF0 ? 4 : 0;

		if (k == 0 || i + k > n || (k == 2 && c < 0xC2))
			return 0;
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xC0) != 0x80)
				return 0;
		i += k;
	}
	return 1;
}

static size_t
count_documents(const char *buf, size_t len)
{
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	size_t n = 0;
	cml_status st;

	if (r == NULL)
		return 0;
	st = cml_reader_open_memory(r, buf, len, "out.xml");
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		n += it->kind == CML_ITEM_DOCUMENT;
	if (st != CML_END)
		__builtin_trap();
	cml_reader_free(r);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const cml_writer_opts xml_opts[] = {
		{ .schema = "2.10", .encoding = CML_ENC_WINDOWS_1251 },
		{ .schema = "3.1" },
	};
	cml_reader *r = cml_reader_new(NULL);
	char *buf[3] = { NULL, NULL, NULL };
	size_t len[3] = { 0, 0, 0 };
	FILE *fp[3];
	cml_orderfmt *f[3];
	const cml_item *it;
	size_t written = 0;
	cml_status st;
	char why[256];

	if (r == NULL)
		return 0;
	for (int k = 0; k < 3; k++) {
		fp[k] = open_memstream(&buf[k], &len[k]);
		f[k] = cml_orderfmt_new(fp[k], (cml_orderfmt_kind)k,
		                        &xml_opts[size > 0 ? data[0] & 1 : 0]);
		if (f[k] == NULL)
			__builtin_trap();
	}
	st = cml_reader_open_memory(r, data, size, "fuzz.xml");
	while ((st == CML_OK || st == CML_ERR_ITEM) &&
	       ((st = cml_reader_next(r, &it)) == CML_OK || st == CML_ERR_ITEM)) {
		if (st != CML_OK || it->kind != CML_ITEM_DOCUMENT)
			continue;
		const cml_document *d = &it->u.document;
		why[0] = '\0';
		if (cml_order_check(d, why, sizeof(why)) != CML_OK && why[0] == '\0')
			__builtin_trap();
		int attach = cml_order_is_attachment(d) && written > 0;
		int xml_ok = 1;
		for (int k = 0; k < 3; k++) {
			cml_status s = attach ? cml_orderfmt_add_attachment(f[k], d) :
			                        cml_orderfmt_add(f[k], d, NULL);
			/* XML refuses a string XML cannot hold; the others take all */
			if (s != CML_OK && (k != CML_ORDERFMT_XML || s != CML_ERR_VALUE))
				__builtin_trap();
			if (k == CML_ORDERFMT_XML && s != CML_OK)
				xml_ok = 0;
		}
		written += xml_ok;
		if (!xml_ok)
			break; /* the formats would no longer hold the same orders */
	}
	for (int k = 0; k < 3; k++) {
		if (cml_orderfmt_finish(f[k]) != CML_OK)
			__builtin_trap();
		cml_orderfmt_free(f[k]);
		fclose(fp[k]);
	}
	if (len[CML_ORDERFMT_CSV] > 0 && !utf8((unsigned char *)buf[1], len[1]))
		__builtin_trap();
	if (len[CML_ORDERFMT_JSONL] > 0 && !utf8((unsigned char *)buf[2], len[2]))
		__builtin_trap();
	if (len[CML_ORDERFMT_XML] > 0 && count_documents(buf[0], len[0]) != written)
		__builtin_trap();
	if ((len[CML_ORDERFMT_XML] == 0) != (written == 0))
		__builtin_trap();
	for (int k = 0; k < 3; k++)
		free(buf[k]);
	cml_reader_free(r);
	return 0;
}
