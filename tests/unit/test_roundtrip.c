/*
 * test_roundtrip.c: for every corpus file that reads, reading it, writing
 * it with the writer and reading the result back gives the same canonical
 * dump (as a multiset of lines: the writer may put items in other files
 * and another order, e.g. price types of a 3.1 classifier go into the
 * 2.05 offers package). Each file goes through three single-file writer
 * set-ups: 2.05 UTF-8 (the default), 2.05 windows-1251, and 2.10 UTF-8
 * with a BOM. (The split layouts cut an offer into parts on purpose and
 * 3.1 keeps only unit codes: test_writer.c checks those.) The 3.1
 * Контейнер number is packaging and is not compared.
 *
 * Header items (classifier, catalog, offers package) are compared too,
 * but only those that carry something: a writer may need an empty
 * container element that the source did not have.
 *
 * Documents and counterparties also go through the stream writer (one
 * document to a FILE *, as orders-pull writes them) in 2.05 UTF-8, 2.10
 * windows-1251 and 3.1 with a BOM, and are read back from memory: every
 * field of every order (the dump has them all) survives each.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cml/dump.h>
#include <cml/reader.h>
#include <cml/writer.h>

#include "harness.h"

struct lines {
	char **v;
	size_t n, cap;
};

static void
lines_add(struct lines *l, const char *s, size_t len)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = strndup(s, len);
}

static void
lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A header item whose every field is empty says nothing. */
static bool
empty_header(const cml_item *it)
{
	switch (it->kind) {
	case CML_ITEM_CLASSIFIER:
		return it->u.classifier.id == NULL && it->u.classifier.name == NULL &&
		       it->u.classifier.owner_id == NULL && it->u.classifier.owner_name == NULL;
	case CML_ITEM_CATALOG:
		return it->u.catalog.id == NULL && it->u.catalog.name == NULL &&
		       it->u.catalog.classifier_id == NULL && it->u.catalog.description == NULL &&
		       it->u.catalog.owner_id == NULL && it->u.catalog.owner_name == NULL;
	case CML_ITEM_OFFERS_PACKAGE:
		return it->u.package.id == NULL && it->u.package.name == NULL &&
		       it->u.package.catalog_id == NULL && it->u.package.classifier_id == NULL &&
		       it->u.package.owner_id == NULL && it->u.package.owner_name == NULL;
	default:
		return false;
	}
}

static bool
is_header(cml_kind k)
{
	return k == CML_ITEM_CLASSIFIER || k == CML_ITEM_CATALOG || k == CML_ITEM_OFFERS_PACKAGE;
}

/*
 * Dumps one file's items into l (and, when w is given, writes them).
 * Headers are dumped without only_changes: the writer sets that flag for
 * the whole package.
 */
static cml_status
read_file(const char *path, struct lines *l, cml_writer *w, char *err, size_t errcap)
{
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	cml_status st = cml_reader_open_file(r, path);

	while (st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK) {
		if (it->kind == CML_ITEM_FILE)
			continue;
		if (w != NULL && cml_writer_add(w, it) != CML_OK) {
			snprintf(err, errcap, "writer: %s", cml_writer_errmsg(w));
			st = CML_ERR_IO;
			break;
		}
		if (is_header(it->kind) && empty_header(it))
			continue;
		cml_item copy = *it;
		if (copy.kind == CML_ITEM_CLASSIFIER)
			copy.u.classifier.only_changes = CML_UNSET;
		else if (copy.kind == CML_ITEM_CATALOG)
			copy.u.catalog.only_changes = CML_UNSET;
		else if (copy.kind == CML_ITEM_OFFERS_PACKAGE)
			copy.u.package.only_changes = CML_UNSET;
		else if (copy.kind == CML_ITEM_COUNTERPARTY)
			copy.u.counterparty.only_changes = CML_UNSET;
		else if (copy.kind == CML_ITEM_DOCUMENT)
			copy.u.document.container = 0; /* packaging, like the file */
		char *buf = NULL;
		size_t len = 0;
		FILE *fp = open_memstream(&buf, &len);
		if (cml_item_dump_json(&copy, fp) != CML_OK)
			st = CML_ERR_IO;
		fclose(fp);
		lines_add(l, buf, len);
		free(buf);
		if (st != CML_OK)
			break;
	}
	if (st < 0 && err[0] == '\0')
		snprintf(err, errcap, "%s", cml_reader_errmsg(r));
	cml_reader_free(r);
	return st;
}

/* Headers: the writer writes one of each per package, so compare them as
 * a set; items: as a multiset. */
static void
dedupe_headers(struct lines *l)
{
	size_t k = 0;

	if (l->n > 0) /* qsort(NULL, 0, ...) is undefined */
		qsort(l->v, l->n, sizeof(*l->v), cmp);
	for (size_t i = 0; i < l->n; i++) {
		bool header = strncmp(l->v[i], "{\"kind\":\"classifier\"", 20) == 0 ||
		              strncmp(l->v[i], "{\"kind\":\"catalog\"", 17) == 0 ||
		              strncmp(l->v[i], "{\"kind\":\"offers_package\"", 24) == 0;
		if (header && k > 0 && strcmp(l->v[k - 1], l->v[i]) == 0) {
			free(l->v[i]);
			continue;
		}
		l->v[k++] = l->v[i];
	}
	l->n = k;
}

static int roundtrips;
static int stream_roundtrips;

#define DOC_PREFIX "{\"kind\":\"document\","
#define CP_PREFIX "{\"kind\":\"counterparty\","

/* Documents and counterparties of path through the stream writer and
 * back; nothing to do for a file without any. */
static void
stream_roundtrip(const char *path, const char *name, const cml_writer_opts *wo,
                 const char *variant)
{
	struct lines a = { 0 }, b = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	cml_stream_writer *sw = cml_stream_writer_new(fp, wo);
	cml_reader *r = cml_reader_new(NULL);
	const cml_item *it;
	cml_status st = cml_reader_open_file(r, path);

	harness_current = name;
	CHECK(sw != NULL);
	while (sw != NULL && st == CML_OK && (st = cml_reader_next(r, &it)) == CML_OK) {
		if (it->kind != CML_ITEM_DOCUMENT && it->kind != CML_ITEM_COUNTERPARTY)
			continue;
		if (cml_stream_writer_add(sw, it) != CML_OK) {
			fprintf(stderr, "  %s (%s): %s\n", name, variant,
			        cml_stream_writer_errmsg(sw));
			st = CML_ERR_IO;
			break;
		}
	}
	CHECK_INT(st, CML_END);
	cml_reader_free(r);
	CHECK_INT(cml_stream_writer_finish(sw), CML_OK);
	cml_stream_writer_free(sw);
	fclose(fp);
	if (len == 0)
		goto out;

	/* what the source said, then what the stream says */
	char err[1024] = "";
	CHECK_INT(read_file(path, &a, NULL, err, sizeof(err)), CML_END);
	char tmp[] = "/tmp/cmlkit-rt-stream.XXXXXX";
	int fd = mkstemp(tmp);
	CHECK(fd >= 0 && write(fd, buf, len) == (ssize_t)len);
	if (fd >= 0)
		close(fd);
	err[0] = '\0';
	st = read_file(tmp, &b, NULL, err, sizeof(err));
	if (st != CML_END)
		fprintf(stderr, "  %s (%s) reread: %s\n", name, variant, err);
	CHECK_INT(st, CML_END);
	unlink(tmp);
	size_t k = 0;
	for (size_t i = 0; i < a.n; i++) /* the stream carries these two kinds */
		if (strncmp(a.v[i], DOC_PREFIX, strlen(DOC_PREFIX)) == 0 ||
		    strncmp(a.v[i], CP_PREFIX, strlen(CP_PREFIX)) == 0)
			a.v[k++] = a.v[i];
		else
			free(a.v[i]);
	a.n = k;
	CHECK_INT(b.n, a.n);
	for (size_t i = 0; i < a.n && i < b.n; i++)
		if (strcmp(a.v[i], b.v[i]) != 0) {
			fprintf(stderr, "  %s (%s) item %zu:\n   want %.3000s   got  %.3000s", name,
			        variant, i + 1, a.v[i], b.v[i]);
			CHECK(!"the same item");
			break;
		}
	stream_roundtrips++;
out:
	free(buf);
	lines_free(&a);
	lines_free(&b);
}

static void
roundtrip(const char *path, const char *name, const cml_writer_opts *wo, const char *variant)
{
	char dir[] = "/tmp/cmlkit-rt.XXXXXX";
	char err[1024] = "";
	struct lines a = { 0 }, b = { 0 };

	harness_current = name;
	if (mkdtemp(dir) == NULL) {
		CHECK(!"mkdtemp");
		return;
	}
	cml_writer *w = cml_writer_new(dir, wo);
	CHECK(w != NULL);
	if (w == NULL)
		goto out;
	cml_status st = read_file(path, &a, w, err, sizeof(err));
	if (st != CML_END)
		fprintf(stderr, "  %s (%s): %s\n", name, variant, err);
	CHECK_INT(st, CML_END);
	st = cml_writer_finish(w);
	if (st != CML_OK)
		fprintf(stderr, "  %s (%s): %s\n", name, variant, cml_writer_errmsg(w));
	CHECK_INT(st, CML_OK);
	for (const char *const *f = cml_writer_files(w); f != NULL && *f != NULL; f++) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", dir, *f);
		err[0] = '\0';
		st = read_file(p, &b, NULL, err, sizeof(err));
		if (st != CML_END)
			fprintf(stderr, "  %s (%s) reread %s: %s\n", name, variant, *f, err);
		CHECK_INT(st, CML_END);
	}
	dedupe_headers(&a);
	dedupe_headers(&b);
	size_t i = 0, j = 0, shown = 0;
	bool same = true;
	while (i < a.n || j < b.n) {
		int c = i == a.n ? 1 : j == b.n ? -1 : strcmp(a.v[i], b.v[j]);
		if (c == 0) {
			i++;
			j++;
			continue;
		}
		same = false;
		if (shown++ < 4)
			fprintf(stderr, "  %s (%s) %s %.*s\n", name, variant,
			        c < 0 ? "lost:" : "extra:", 3000, c < 0 ? a.v[i] : b.v[j]);
		if (c < 0)
			i++;
		else
			j++;
	}
	CHECK(same);
	roundtrips++;
out:
	cml_writer_free(w);
	{
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d != NULL && (de = readdir(d)) != NULL) {
			char p[4096];
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
		if (d != NULL)
			closedir(d);
		rmdir(dir);
	}
	lines_free(&a);
	lines_free(&b);
}

int
main(void)
{
	FILE *fp = fopen(TESTDATA "/corpus-expect.tsv", "r");
	char line[2048];
	const cml_writer_opts v205 = { .schema = "2.05", .generated = "2026-01-01T00:00:00" };
	const cml_writer_opts v1251 = { .schema = "2.05", .encoding = CML_ENC_WINDOWS_1251,
		                        .generated = "2026-01-01T00:00:00" };
	const cml_writer_opts v210 = { .schema = "2.10", .bom = true,
		                       .generated = "2026-01-01T00:00:00" };
	const cml_writer_opts s210 = { .schema = "2.10", .encoding = CML_ENC_WINDOWS_1251 };
	const cml_writer_opts s31 = { .schema = "3.1", .bom = true, .indent = true };

	if (fp == NULL) {
		perror("corpus-expect.tsv");
		return 1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char path[4096];
		char *tab;

		if (line[0] == '#' || (tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		if (strncmp(tab + 1, "read", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", CORPUS, line);
		if (access(path, R_OK) != 0)
			snprintf(path, sizeof(path), "%s/corpus/%s", TESTDATA, line);
		if (access(path, R_OK) != 0)
			continue;
		roundtrip(path, line, &v205, "2.05");
		roundtrip(path, line, &v1251, "2.05 windows-1251");
		roundtrip(path, line, &v210, "2.10 bom");
		stream_roundtrip(path, line, &v205, "stream 2.05");
		stream_roundtrip(path, line, &s210, "stream 2.10 windows-1251");
		stream_roundtrip(path, line, &s31, "stream 3.1 bom");
	}
	fclose(fp);
	/* the order shapes no corpus file has together */
	const char *own = TESTDATA "/reader/fidelity-orders-210.xml";
	roundtrip(own, "fidelity-orders-210.xml", &v205, "2.05");
	roundtrip(own, "fidelity-orders-210.xml", &v1251, "2.05 windows-1251");
	stream_roundtrip(own, "fidelity-orders-210.xml", &v205, "stream 2.05");
	stream_roundtrip(own, "fidelity-orders-210.xml", &s210, "stream 2.10 windows-1251");
	stream_roundtrip(own, "fidelity-orders-210.xml", &s31, "stream 3.1 bom");
	printf("%d round trips, %d through the stream writer\n", roundtrips, stream_roundtrips);
	if (roundtrips == 0)
		return 77;
	return harness_done();
}
