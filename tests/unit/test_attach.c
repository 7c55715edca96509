/*
 * test_attach.c: the files a catalog names (attach.c), their field in the
 * product card's fingerprint, and the writer staging them into a package
 * (pkgfiles.c): put in place with the XML, a missing one left out of the
 * card, files of an earlier package removed, never a byte outside the
 * package, and what a killed run left completed by cml_writer_recover.
 *
 * Each test builds a small input folder with files and symbolic links in
 * a fresh directory under the temporary directory and removes it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xxhash.h>

#include "cml/attach.h"
#include "cml/cml.h"
#include "cml/fingerprint.h"
#include "cml/writer.h"
#include "harness.h"

static char root[256];
static char input[300];

/* ---- fixtures ---- */

static void
put_file(const char *rel, const char *content)
{
	char path[600], dir[600];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		(void)mkdir(dir, 0777);
		*p = '/';
	}
	FILE *fp = fopen(path, "w");
	CHECK(fp != NULL);
	if (fp != NULL) {
		fputs(content, fp);
		fclose(fp);
	}
}

static void
put_link(const char *rel, const char *target)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	CHECK(symlink(target, path) == 0);
}

static bool
exists(const char *rel)
{
	char path[600];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return lstat(path, &sb) == 0;
}

static char *
slurp(const char *rel)
{
	static char buf[65536];
	char path[600];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
setup(void)
{
	snprintf(root, sizeof(root), "%s/cmlkit-attach-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	CHECK(mkdtemp(root) != NULL);
	snprintf(input, sizeof(input), "%s/in/import.xml", root);
	put_file("in/import.xml", "<КоммерческаяИнформация/>");
	put_file("out/.keep", "");
	put_file("secret/passwd", "outside");
}

static void
teardown(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
}

static const char *pics[4];
static cml_pair reqs[2];

static cml_item
product(const char *id, unsigned long line, size_t n_pics, size_t n_reqs)
{
	cml_item it;

	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_PRODUCT;
	it.origin.file = input;
	it.origin.line = line;
	it.u.product.id = id;
	it.u.product.name = id;
	it.u.product.pictures = pics;
	it.u.product.n_pictures = n_pics;
	it.u.product.requisites = reqs;
	it.u.product.n_requisites = n_reqs;
	return it;
}

static char warned[4096];
static int n_warned;

static void
on_warn(void *ud, const char *msg)
{
	(void)ud;
	n_warned++;
	snprintf(warned + strlen(warned), sizeof(warned) - strlen(warned), "%s\n", msg);
}

static cml_attach *
new_attach(void)
{
	cml_attach_opts o = { .warn = on_warn, .warn_ud = NULL };

	warned[0] = '\0';
	n_warned = 0;
	return cml_attach_new(&o);
}

/* ---- resolving ---- */

static void
test_present(void)
{
	setup();
	put_file("in/import_files/5b/pic.jpg", "JPEGDATA");
	put_file("in/docs/manual.pdf", "PDF");
	cml_attach *a = new_attach();
	const cml_ref *r;
	size_t n = 99;

	pics[0] = "import_files\\5b\\./pic.jpg";
	pics[1] = "https://shop.example/pic.jpg"; /* a URL: no file */
	reqs[0] = (cml_pair){ .name = "ОписаниеФайла", .value = "docs/manual.pdf#Инструкция" };
	reqs[1] = (cml_pair){ .name = "Вес", .value = "import_files/5b/pic.jpg" };
	cml_item it = product("p1", 7, 2, 2);
	CHECK_INT(cml_attach_item(a, &it, &r, &n), CML_OK);
	CHECK_INT(n, 2);
	if (n == 2) {
		XXH128_hash_t h = XXH3_128bits("JPEGDATA", 8);

		CHECK_STR(r[0].element, "Картинка");
		CHECK_STR(r[0].written, "import_files\\5b\\./pic.jpg");
		CHECK_STR(r[0].path, "import_files/5b/pic.jpg");
		CHECK_INT(r[0].state, CML_REF_PRESENT);
		CHECK_INT(r[0].size, 8);
		CHECK(r[0].hash.hi == h.high64 && r[0].hash.lo == h.low64);
		CHECK(r[0].source != NULL && strstr(r[0].source, "/in/import_files/5b/pic.jpg"));
		CHECK_STR(r[1].element, "ОписаниеФайла");
		CHECK_STR(r[1].written, "docs/manual.pdf#Инструкция");
		CHECK_STR(r[1].path, "docs/manual.pdf");
		CHECK_INT(r[1].state, CML_REF_PRESENT);
		CHECK_INT(r[1].size, 3);
	}
	/* hashed once per cml_attach: a change after the first look is not seen */
	put_file("in/import_files/5b/pic.jpg", "OTHER");
	pics[0] = "import_files/5b/pic.jpg";
	it = product("p2", 9, 1, 0);
	CHECK_INT(cml_attach_item(a, &it, &r, &n), CML_OK);
	CHECK(n == 1 && r[0].size == 8);
	cml_attach_free(a);
	/* a new one sees it */
	a = new_attach();
	CHECK_INT(cml_attach_item(a, &it, &r, &n), CML_OK);
	CHECK(n == 1 && r[0].size == 5);
	/* other kinds have none */
	cml_item g;
	memset(&g, 0, sizeof(g));
	g.kind = CML_ITEM_GROUP;
	CHECK_INT(cml_attach_item(a, &g, &r, &n), CML_OK);
	CHECK_INT(n, 0);
	CHECK_INT(n_warned, 0);
	cml_attach_free(a);
	teardown();
}

static void
test_missing(void)
{
	setup();
	put_file("in/import_files/dir/.keep", "");
	cml_attach *a = new_attach();
	const cml_ref *r;
	size_t n;

	char fifo[600];
	snprintf(fifo, sizeof(fifo), "%s/in/import_files/fifo.jpg", root);
	CHECK(mkfifo(fifo, 0600) == 0);
	pics[0] = "import_files/none.jpg";
	pics[1] = "import_files/dir";
	pics[2] = "import_files/fifo.jpg"; /* opened, never waited on */
	cml_item it = product("p1", 12, 3, 0);
	CHECK_INT(cml_attach_item(a, &it, &r, &n), CML_OK);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_INT(r[0].state, CML_REF_MISSING);
		CHECK_STR(r[0].path, "import_files/none.jpg");
		CHECK(r[0].source == NULL);
		CHECK_INT(r[1].state, CML_REF_MISSING);
		CHECK_INT(r[2].state, CML_REF_MISSING);
	}
	/* the writer asks again about the same item: told once */
	CHECK_INT(cml_attach_item(a, &it, &r, &n), CML_OK);
	CHECK_INT(n_warned, 3);
	char want[600];
	snprintf(want, sizeof(want),
	    "%s:12: <Картинка> 'import_files/none.jpg': no such file: the card goes without it\n",
	    input);
	CHECK(strstr(warned, want) != NULL);
	CHECK(strstr(warned, "'import_files/dir': not a regular file") != NULL);
	/* another card naming the same missing file: told again */
	it = product("p2", 20, 1, 0);
	CHECK_INT(cml_attach_item(a, &it, &r, &n), CML_OK);
	CHECK_INT(n_warned, 4);
	cml_attach_free(a);
	teardown();
}

/* One unsafe reference: CML_ERR_VALUE, the message naming FILE:LINE. */
static void
check_unsafe(const char *ref, const char *why)
{
	cml_attach *a = new_attach();
	const cml_ref *r;
	size_t n;
	char want[600];

	pics[0] = "import_files/ok.jpg";
	pics[1] = ref;
	cml_item it = product("p1", 33, 2, 0);
	CHECK_INT(cml_attach_item(a, &it, &r, &n), CML_ERR_VALUE);
	snprintf(want, sizeof(want), "%s:33: <Картинка> '%s': %s", input, ref, why);
	CHECK_STR(cml_attach_errmsg(a), want);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_INT(r[0].state, CML_REF_PRESENT);
		CHECK_INT(r[1].state, CML_REF_UNSAFE);
		CHECK(r[1].path == NULL);
	}
	cml_attach_free(a);
}

static void
test_unsafe(void)
{
	static const char outside[] =
	    "leads outside the input's directory through a symbolic link";

	setup();
	put_file("in/import_files/ok.jpg", "ok");
	put_file("in/inner/real.jpg", "inside");
	put_link("in/import_files/out", "../../secret");
	put_link("in/import_files/pw.jpg", "../../secret/passwd");
	put_link("in/import_files/in.jpg", "../inner/real.jpg");
	put_link("in/indir", "inner");
	check_unsafe("/etc/passwd", "an absolute path");
	check_unsafe("C:\\pics\\a.jpg", "an absolute path");
	check_unsafe("import_files/../../secret/passwd", "a '..' component");
	check_unsafe("import_files/../ok.jpg", "a '..' component");
	/* a symbolic link to a directory outside, in the middle */
	check_unsafe("import_files/out/passwd", outside);
	/* ... even when the file behind it does not exist */
	check_unsafe("import_files/out/nothing.jpg", outside);
	/* a symbolic link to a file outside */
	check_unsafe("import_files/pw.jpg", outside);
	CHECK_INT(n_warned, 0);

	/* links that stay inside are fine */
	cml_attach *a = new_attach();
	const cml_ref *r;
	size_t n;

	pics[0] = "import_files/in.jpg";
	pics[1] = "indir/real.jpg";
	cml_item it = product("p1", 40, 2, 0);
	CHECK_INT(cml_attach_item(a, &it, &r, &n), CML_OK);
	CHECK(n == 2 && r[0].state == CML_REF_PRESENT && r[1].state == CML_REF_PRESENT);
	CHECK(n == 2 && r[0].size == 6);
	CHECK_STR(n == 2 ? r[0].path : NULL, "import_files/in.jpg");
	cml_attach_free(a);
	teardown();
}

/* ---- the fingerprint ---- */

static cml_fp
card_fp(cml_attach *a, const cml_item *it)
{
	cml_fingerprinter *f = cml_fingerprinter_new();
	cml_part_fp out[CML_MAX_PARTS];
	size_t n = 0;
	cml_fp fp = { 0, 0 };

	cml_fingerprinter_set_attach(f, a);
	CHECK_INT(cml_fingerprint_item(f, it, out, &n), CML_OK);
	if (n == 1)
		fp = out[0].fp;
	cml_fingerprinter_free(f);
	return fp;
}

static void
test_fingerprint(void)
{
	setup();
	put_file("in/import_files/a.jpg", "one");
	put_file("in/import_files/b.jpg", "two");
	cml_attach *a = new_attach();

	/* no files: the fingerprint it always had */
	cml_item it = product("p1", 3, 0, 0);
	cml_fp plain = card_fp(NULL, &it);
	CHECK(cml_fp_equal(card_fp(a, &it), plain));

	pics[0] = "import_files/a.jpg";
	it = product("p1", 3, 1, 0);
	cml_fp without = card_fp(NULL, &it), with = card_fp(a, &it);
	CHECK(!cml_fp_equal(without, with));
	CHECK(cml_fp_equal(card_fp(a, &it), with));
	cml_attach_free(a);

	/* the same name, another content: another card */
	put_file("in/import_files/a.jpg", "ONE");
	a = new_attach();
	cml_fp changed = card_fp(a, &it);
	CHECK(!cml_fp_equal(changed, with));
	cml_attach_free(a);

	/* missing is a value of its own; back again, the same card */
	char p1[600], p2[600];
	snprintf(p1, sizeof(p1), "%s/in/import_files/a.jpg", root);
	snprintf(p2, sizeof(p2), "%s/in/a.jpg.away", root);
	CHECK(rename(p1, p2) == 0);
	a = new_attach();
	cml_fp missing = card_fp(a, &it);
	CHECK(!cml_fp_equal(missing, changed) && !cml_fp_equal(missing, without));
	cml_attach_free(a);
	CHECK(rename(p2, p1) == 0);
	a = new_attach();
	CHECK(cml_fp_equal(card_fp(a, &it), changed));

	/* the order the files are named in does not matter */
	pics[0] = "import_files/a.jpg";
	pics[1] = "import_files/b.jpg";
	it = product("p1", 3, 2, 0);
	cml_fp ab = card_fp(a, &it);
	pics[0] = "import_files/b.jpg";
	pics[1] = "import_files/a.jpg";
	CHECK(cml_fp_equal(card_fp(a, &it), ab));

	/* unsafe: the fingerprint fails */
	pics[0] = "../x.jpg";
	it = product("p1", 3, 1, 0);
	cml_fingerprinter *f = cml_fingerprinter_new();
	cml_part_fp out[CML_MAX_PARTS];
	size_t n = 9;
	cml_fingerprinter_set_attach(f, a);
	CHECK_INT(cml_fingerprint_item(f, &it, out, &n), CML_ERR_VALUE);
	CHECK_INT(n, 0);
	cml_fingerprinter_free(f);
	cml_attach_free(a);
	teardown();
}

/* ---- the writer ---- */

static cml_status
write_package(cml_attach *a, char ***files, int n_items, const char *const *p0,
    const char *const *p1)
{
	char out[400];
	cml_writer_opts o = { .attach = a };
	cml_writer *w;
	cml_status st;
	static char *names[16];

	names[0] = NULL;
	*files = names;
	snprintf(out, sizeof(out), "%s/out", root);
	if ((w = cml_writer_new(out, &o)) == NULL)
		return CML_ERR_NOMEM;
	for (int i = 0; i < n_items; i++) {
		const char *const *p = i == 0 ? p0 : p1;
		char id[16];

		snprintf(id, sizeof(id), "p%d", i);
		pics[0] = p[0];
		pics[1] = p[1];
		cml_item it = product(id, 10 + (unsigned long)i, p[1] != NULL ? 2 : 1, 0);
		if ((st = cml_writer_add(w, &it)) != CML_OK) {
			fprintf(stderr, "writer: %s\n", cml_writer_errmsg(w));
			cml_writer_free(w);
			return st;
		}
	}
	st = cml_writer_finish(w);
	if (st != CML_OK)
		fprintf(stderr, "writer: %s\n", cml_writer_errmsg(w));
	const char *const *f = cml_writer_files(w);
	size_t k = 0;
	for (; f[k] != NULL && k < 15; k++)
		names[k] = strdup(f[k]);
	names[k] = NULL;
	cml_writer_free(w);
	return st;
}

static void
free_names(char **names)
{
	for (size_t i = 0; names[i] != NULL; i++)
		free(names[i]);
}

static void
test_writer(void)
{
	setup();
	put_file("in/import_files/b/two.png", "PNG2");
	put_file("in/import_files/a/one.jpg", "JPG1");
	put_file("out/import_files/old/gone.jpg", "old");
	put_file("out/import_files/a/one.jpg", "earlier");
	cml_attach *a = new_attach();
	char **names;
	const char *c0[] = { "import_files/b/two.png", "import_files/missing.jpg" };
	const char *c1[] = { "import_files/a/one.jpg", "import_files/b/two.png" };

	CHECK_INT(write_package(a, &names, 2, c0, c1), CML_OK);
	/* the attached files first, by name, then the XML in import order */
	CHECK_STR(names[0], "import_files/a/one.jpg");
	CHECK_STR(names[1], "import_files/b/two.png");
	CHECK_STR(names[2], "import.xml");
	CHECK_STR(names[3], "offers.xml");
	CHECK(names[4] == NULL);
	free_names(names);
	CHECK_STR(slurp("out/import_files/a/one.jpg"), "JPG1");
	CHECK_STR(slurp("out/import_files/b/two.png"), "PNG2");
	CHECK(!exists("out/import_files/old/gone.jpg"));
	CHECK(!exists("out/import_files/old"));
	CHECK(!exists("out/.cmlkit-install"));
	const char *xml = slurp("out/import.xml");
	CHECK(xml != NULL && strstr(xml, "<Картинка>import_files/b/two.png</Картинка>") != NULL);
	CHECK(xml != NULL && strstr(xml, "missing.jpg") == NULL);
	CHECK_INT(n_warned, 1);
	cml_attach_free(a);

	/* an unsafe reference: refused, the writer goes on, nothing staged */
	a = new_attach();
	const char *bad[] = { "../secret/passwd", NULL };
	CHECK_INT(write_package(a, &names, 1, bad, NULL), CML_ERR_VALUE);
	free_names(names);
	CHECK_STR(slurp("out/import_files/a/one.jpg"), "JPG1");
	cml_attach_free(a);

	/* a package not finished leaves no file and no directory it made */
	a = new_attach();
	char outdir[600];
	snprintf(outdir, sizeof(outdir), "%s/out", root);
	cml_writer_opts wo = { .attach = a };
	cml_writer *w = cml_writer_new(outdir, &wo);
	pics[0] = "import_files/a/one.jpg";
	put_file("in/import_files/new/three.jpg", "JPG3");
	pics[1] = "import_files/new/three.jpg";
	cml_item it = product("p9", 50, 2, 0);
	CHECK(w != NULL && cml_writer_add(w, &it) == CML_OK);
	CHECK(exists("out/import_files/new"));
	cml_writer_free(w);
	CHECK(!exists("out/import_files/new"));
	CHECK(exists("out/import_files/a/one.jpg"));
	CHECK_STR(slurp("out/import_files/a/one.jpg"), "JPG1");
	cml_attach_free(a);

	/* a symbolic link put in the package's import_files: never followed */
	char out[600];
	snprintf(out, sizeof(out), "%s/out/import_files/a/one.jpg", root);
	CHECK(unlink(out) == 0);
	snprintf(out, sizeof(out), "%s/out/import_files/a", root);
	CHECK(rmdir(out) == 0);
	put_link("out/import_files/a", "../../secret");
	a = new_attach();
	CHECK_INT(write_package(a, &names, 2, c0, c1), CML_ERR_IO);
	free_names(names);
	CHECK(!exists("secret/one.jpg"));
	cml_attach_free(a);
	teardown();
}

static void
test_recover(void)
{
	setup();
	pid_t child = fork();

	if (child == 0)
		_exit(0);
	CHECK(child > 0 && waitpid(child, NULL, 0) == child);
	long dead = (long)child;
	char name[200], journal[600], buf[1024];

	/* a dead run killed between its renames */
	snprintf(name, sizeof(name), ".cmlkit-tmp.%ld.x.jpg.AbCdEf", dead);
	snprintf(buf, sizeof(buf), "out/import_files/ab/%s", name);
	put_file(buf, "new");
	put_file("out/import_files/ab/x.jpg", "old");
	put_file("out/import_files/stale.jpg", "stale");
	snprintf(buf, sizeof(buf), "out/import_files/cd/.cmlkit-tmp.%ld.y.jpg.ZzZzZz", dead);
	put_file(buf, "left");
	snprintf(journal, sizeof(journal),
	    "cmlkit-install %ld\nimport_files/ab/%s\timport_files/ab/x.jpg\n"
	    "-\timport_files/stale.jpg\nend\n", dead, name);
	put_file("out/.cmlkit-install", journal);

	char dir[400], err[512];
	size_t completed = 0, removed = 0;
	snprintf(dir, sizeof(dir), "%s/out", root);
	CHECK_INT(cml_writer_recover(dir, &completed, &removed, err, sizeof(err)), CML_OK);
	CHECK_INT(completed, 1);
	CHECK_INT(removed, 1);
	CHECK_STR(slurp("out/import_files/ab/x.jpg"), "new");
	CHECK(!exists("out/import_files/stale.jpg"));
	CHECK(!exists(buf));
	CHECK(!exists("out/.cmlkit-install"));

	/* a journal that leads out of the package is not obeyed */
	snprintf(journal, sizeof(journal),
	    "cmlkit-install %ld\n-\timport_files/../../secret/passwd\nend\n", dead);
	put_file("out/.cmlkit-install", journal);
	CHECK_INT(cml_writer_recover(dir, &completed, &removed, err, sizeof(err)), CML_ERR_IO);
	CHECK(strstr(err, "not a cmlkit install journal") != NULL);
	CHECK(exists("secret/passwd"));
	teardown();
}

int
main(void)
{
	RUN(test_present);
	RUN(test_missing);
	RUN(test_unsafe);
	RUN(test_fingerprint);
	RUN(test_writer);
	RUN(test_recover);
	return harness_done();
}
