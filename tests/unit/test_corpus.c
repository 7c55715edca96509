/*
 * test_corpus.c: every real file of shared/corpus either reads
 * completely, with the item counts recorded in corpus-expect.tsv, or is
 * refused with the recorded status and reason. Files are looked for in
 * CORPUS (shared/corpus) and then in tests/data/corpus (the hard cases,
 * copied); a file in neither place is skipped, and the test is skipped
 * (77) when nothing at all could be checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cml/reader.h>

#include "harness.h"

static int checked;

static void
check_file(cml_reader *r, const char *name, const char *want, const char *arg1,
           const char *arg2)
{
	char path[4096], got[4096];
	unsigned long cnt[CML_ITEM_KIND_COUNT] = { 0 };
	const cml_item *it;
	cml_status st;

	snprintf(path, sizeof(path), "%s/%s", CORPUS, name);
	if (access(path, R_OK) != 0)
		snprintf(path, sizeof(path), "%s/corpus/%s", TESTDATA, name);
	if (access(path, R_OK) != 0)
		return;
	checked++;
	harness_current = name;
	st = cml_reader_open_file(r, path);
	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK)
		cnt[it->kind]++;
	if (strcmp(want, "read") == 0) {
		size_t n = 0;
		got[0] = '\0';
		for (int k = 1; k < CML_ITEM_KIND_COUNT; k++)
			if (cnt[k])
				n += (size_t)snprintf(got + n, sizeof(got) - n, "%s%s=%lu",
				                      n ? " " : "", cml_kind_name((cml_kind)k), cnt[k]);
		if (st != CML_END)
			fprintf(stderr, "  %s\n", cml_reader_errmsg(r));
		CHECK_INT(st, CML_END);
		CHECK_STR(got, arg1);
	} else {
		const char *msg = cml_reader_errmsg(r);
		const char *p = strstr(msg, name);
		CHECK(st < 0);
		CHECK_STR(cml_status_str(st), arg1);
		CHECK(p != NULL);
		CHECK_STR(p ? p + strlen(name) : msg, arg2);
	}
}

int
main(void)
{
	FILE *fp = fopen(TESTDATA "/corpus-expect.tsv", "r");
	cml_reader *r = cml_reader_new(NULL);
	char line[2048];

	if (fp == NULL || r == NULL) {
		perror("corpus-expect.tsv");
		return 1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		static char empty[] = "";
		char *f[4] = { NULL, NULL, empty, empty };
		char *s = line;
		int n = 0;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		while (n < 4) {
			char *tab = strchr(s, '\t');
			f[n++] = s;
			if (tab == NULL)
				break;
			*tab = '\0';
			s = tab + 1;
		}
		if (n < 3) {
			fprintf(stderr, "corpus-expect.tsv: bad line\n");
			return 1;
		}
		check_file(r, f[0], f[1], f[2], f[3]);
	}
	fclose(fp);
	cml_reader_free(r);
	printf("%d corpus files checked\n", checked);
	if (checked == 0)
		return 77;
	return harness_done();
}
