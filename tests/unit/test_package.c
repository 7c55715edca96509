/*
 * test_package.c: what a package is (cml/package.h): its files from the
 * directory, from the names a writer gave and from a recorded stamp,
 * their order, links that leave the package, the stamp compared with the
 * disk, full or partial, and every allocation failing in turn.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cml/package.h>
#include <cml/writer.h>

#include "harness.h"

static char dir[256];

static void
make_dir(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/cmlkit-package-XXXXXX",
	         t != NULL && *t != '\0' ? t : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		exit(1);
	}
}

static void
remove_tree(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) != 0)
		return;
	if (S_ISDIR(sb.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		char sub[1024];
		while (d != NULL && (e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			remove_tree(sub);
		}
		if (d != NULL)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

/* DIR/name with text (its directories made). */
static void
put(const char *name, const char *text)
{
	char path[1024], *slash;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	FILE *fp = fopen(path, "w");
	if (fp == NULL) {
		perror(path);
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
}

static void
link_to(const char *name, const char *target)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (symlink(target, path) != 0)
		perror(path);
}

static const char catalog_xml[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<КоммерческаяИнформация ВерсияСхемы=\"2.05\">\n"
        "<Каталог СодержитТолькоИзменения=\"%s\"><Ид>c</Ид><Наименование>C</Наименование>\n"
        "<Товары><Товар><Ид>p1</Ид><Наименование>P</Наименование></Товар></Товары>\n"
        "</Каталог></КоммерческаяИнформация>\n";

static const char offers_xml[] = "<КоммерческаяИнформация/>\n";

static void
put_catalog(const char *name, const char *only)
{
	char text[1024];

	snprintf(text, sizeof(text), catalog_xml, only);
	put(name, text);
}

/* A package as the writer with pictures leaves it, plus what is not
 * part of it. */
static void
make_package(void)
{
	make_dir();
	put_catalog("import.xml", "false");
	put("offers.xml", offers_xml);
	put("import_files/ab/x.jpg", "0123456789");
	put("import_files/c.png", "abc");
	put("notes.txt", "not part of it");
	put(".cmlkit-tmp.1.import.xml.abc", "a temporary file");
	put("import_files/.hidden.jpg", "hidden");
	put("other/y.jpg", "not under import_files");
}

static const char *
names_of(const cml_package *p)
{
	static char buf[1024];

	buf[0] = '\0';
	for (const char *const *n = cml_package_names(p); *n != NULL; n++) {
		size_t l = strlen(buf);
		snprintf(buf + l, sizeof(buf) - l, "%s%s", l ? " " : "", *n);
	}
	return buf;
}

static void
test_rank(void)
{
	CHECK(cml_package_rank("import.xml") < cml_package_rank("offers.xml"));
	CHECK(cml_package_rank("import___classifier.xml") < cml_package_rank("import___goods.xml"));
	CHECK(cml_package_rank("classifier.xml") < cml_package_rank("groups.xml"));
	CHECK(cml_package_rank("groups.xml") < cml_package_rank("properties.xml"));
	CHECK(cml_package_rank("propertiesGoods_1.xml") < cml_package_rank("units.xml"));
	CHECK(cml_package_rank("priceLists.xml") < cml_package_rank("goods.xml"));
	CHECK(cml_package_rank("storages.xml") < cml_package_rank("goods.xml"));
	CHECK(cml_package_rank("goods.xml") < cml_package_rank("import___a499ca50.xml"));
	CHECK(cml_package_rank("import___a499ca50.xml") < cml_package_rank("offers___x.xml"));
	CHECK(cml_package_rank("offers.xml") < cml_package_rank("prices.xml"));
	CHECK(cml_package_rank("PRICES___p.xml") < cml_package_rank("rests___r.xml"));
	CHECK(cml_package_rank("rests.xml") < cml_package_rank("contragents.xml"));
	CHECK_INT(cml_package_rank("sub/offers.xml"), cml_package_rank("offers.xml"));
}

static void
test_read_dir(void)
{
	make_package();
	cml_package *p = cml_package_new(dir);

	CHECK(p != NULL);
	CHECK_INT(cml_package_read_dir(p), CML_OK);
	CHECK_STR(names_of(p), "import_files/ab/x.jpg import_files/c.png import.xml offers.xml");
	CHECK_INT(cml_package_count(p), 4);
	CHECK_INT(cml_package_attached(p), 2);
	CHECK_INT(cml_package_bytes(p),
	          10 + 3 + (int64_t)(strlen(catalog_xml) - 2 + 5) + (int64_t)strlen(offers_xml));
	CHECK(!cml_package_file(p, 0)->import);
	CHECK_INT(cml_package_file(p, 0)->size, 10);
	CHECK(!cml_package_file(p, 1)->import);
	CHECK(cml_package_file(p, 2)->import);
	CHECK(cml_package_file(p, 3)->import);
	CHECK(cml_package_file(p, 4) == NULL);
	CHECK_STR(cml_package_dir(p), dir);

	bool partial = true;
	CHECK_INT(cml_package_is_partial(p, &partial), CML_OK);
	CHECK(!partial);

	/* a link inside the package is followed; a dangling one is nothing */
	link_to("import_files/same.jpg", "c.png");
	link_to("import_files/gone.jpg", "no-such.png");
	CHECK_INT(cml_package_read_dir(p), CML_OK);
	CHECK_STR(names_of(p),
	          "import_files/ab/x.jpg import_files/c.png import_files/same.jpg import.xml "
	          "offers.xml");
	cml_package_free(p);
	remove_tree(dir);
}

static void
test_links_out(void)
{
	static const char *const cases[][2] = {
	        {"import_files/out.jpg", "/etc/hostname"},
	        {"import_files/up", "../.."},
	        {"prices.xml", "/etc/hostname"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_package();
		link_to(cases[i][0], cases[i][1]);
		cml_package *p = cml_package_new(dir);
		CHECK_INT(cml_package_read_dir(p), CML_ERR_VALUE);
		CHECK(strstr(cml_package_errmsg(p), cases[i][0]) != NULL);
		CHECK(strstr(cml_package_errmsg(p), "outside the package") != NULL);
		CHECK_INT(cml_package_count(p), 0);
		cml_package_free(p);
		remove_tree(dir);
	}
}

static void
test_not_a_package(void)
{
	make_dir();
	put("readme.txt", "x");
	put("import_files/a.jpg", "x");
	cml_package *p = cml_package_new(dir);
	CHECK_INT(cml_package_read_dir(p), CML_END);
	CHECK(strstr(cml_package_errmsg(p), "no .xml files") != NULL);

	/* a package being put in place is not read */
	put("import.xml", "<a/>");
	put(CML_WRITER_JOURNAL, "x");
	CHECK_INT(cml_package_read_dir(p), CML_ERR_VALUE);
	CHECK(strstr(cml_package_errmsg(p), "being put in place") != NULL);
	cml_package_free(p);
	remove_tree(dir);

	p = cml_package_new("/nonexistent/cmlkit-package");
	CHECK_INT(cml_package_read_dir(p), CML_ERR_IO);
	CHECK(strstr(cml_package_errmsg(p), "/nonexistent/cmlkit-package") != NULL);
	cml_package_free(p);
}

static void
touch_later(const char *name)
{
	char path[1024];
	struct timeval tv[2];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec += 100;
	tv[1] = tv[0];
	utimes(path, tv);
}

static void
test_stamp(void)
{
	static const char *const written[] = {"offers.xml", "import.xml", "import_files/c.png",
	                                      "import_files/ab/x.jpg", NULL};
	char *stamp = NULL, *again = NULL;

	make_package();
	cml_package *p = cml_package_new(dir), *q = cml_package_new(dir);

	/* the writer's names, in any order: the package's order */
	CHECK_INT(cml_package_read_names(p, written), CML_OK);
	CHECK_STR(names_of(p), "import_files/ab/x.jpg import_files/c.png import.xml offers.xml");
	CHECK_INT(cml_package_stamp(p, &stamp), CML_OK);
	CHECK(stamp != NULL && strncmp(stamp, "import_files/ab/x.jpg\t10\t", 25) == 0);
	CHECK(stamp != NULL && strstr(stamp, "\nimport_files/c.png\t3\t") != NULL);

	/* read back from the stamp: the same files, still as recorded */
	CHECK_INT(cml_package_read_stamp(q, stamp), CML_OK);
	CHECK_STR(names_of(q), names_of(p));
	CHECK_INT(cml_package_check(q), CML_OK);
	CHECK_INT(cml_package_stamp(q, &again), CML_OK);
	CHECK_STR(again, stamp);
	CHECK_INT(cml_package_attached(q), 2);

	/* a picture rewritten, the same size: its time tells */
	touch_later("import_files/c.png");
	CHECK_INT(cml_package_check(q), CML_ERR_STATE);
	CHECK(strstr(cml_package_errmsg(q), "import_files/c.png: changed") != NULL);
	CHECK_INT(cml_package_read_stamp(q, stamp), CML_OK);
	put("import_files/c.png", "abc"); /* restored? the time differs still */
	CHECK_INT(cml_package_check(q), CML_ERR_STATE);

	/* a missing file */
	CHECK_INT(cml_package_read_names(p, written), CML_OK);
	free(stamp);
	CHECK_INT(cml_package_stamp(p, &stamp), CML_OK);
	CHECK_INT(cml_package_read_stamp(q, stamp), CML_OK);
	CHECK_INT(cml_package_check(q), CML_OK);
	char path[1024];
	snprintf(path, sizeof(path), "%s/offers.xml", dir);
	unlink(path);
	CHECK_INT(cml_package_check(q), CML_ERR_STATE);
	CHECK(strstr(cml_package_errmsg(q), "offers.xml: missing") != NULL);
	/* names the writer gave that are not there */
	CHECK_INT(cml_package_read_names(p, written), CML_ERR_IO);
	CHECK(strstr(cml_package_errmsg(p), "offers.xml") != NULL);

	free(stamp);
	free(again);
	cml_package_free(p);
	cml_package_free(q);
	remove_tree(dir);
}

static void
test_bad_stamps(void)
{
	static const char *const bad[] = {
	        "",
	        "import.xml\t12\n",
	        "import.xml\t12\t34",
	        "import.xml\tx\t34\n",
	        "../import.xml\t1\t2\n",
	        "/etc/import.xml\t1\t2\n",
	        "import_files/../../x.jpg\t1\t2\n",
	        "other/y.jpg\t1\t2\n",
	        "import_files/.h.jpg\t1\t2\n",
	        "import.xml\t1\t2\nimport.xml\t1\t2\n",
	};
	cml_package *p = cml_package_new("/tmp");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(cml_package_read_stamp(p, bad[i]), CML_ERR_VALUE);
		CHECK_INT(cml_package_count(p), 0);
		CHECK(cml_package_errmsg(p)[0] != '\0');
	}
	static const char *const unsafe[] = {"../x.xml", NULL};
	CHECK_INT(cml_package_read_names(p, unsafe), CML_ERR_VALUE);
	cml_package_free(p);
}

static void
test_partial(void)
{
	static const struct {
		const char *only;
		bool partial;
	} cases[] = {{"true", true}, {"false", false}, {"", false}};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		make_dir();
		/* a delta's goods file may hold no header: the next file's says */
		put("import.xml", "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		                  "<КоммерческаяИнформация ВерсияСхемы=\"2.05\"/>\n");
		put_catalog("offers.xml", cases[i].only);
		cml_package *p = cml_package_new(dir);
		bool partial = !cases[i].partial;
		CHECK_INT(cml_package_read_dir(p), CML_OK);
		CHECK_INT(cml_package_is_partial(p, &partial), CML_OK);
		CHECK(partial == cases[i].partial);
		cml_package_free(p);
		remove_tree(dir);
	}
}

static void
test_alloc_failures(void)
{
	bool ok = false;

	make_package();
	for (long n = 1; n < 200 && !ok; n++) {
		cml_package *p;
		cml_status st = CML_ERR_NOMEM;
		char *stamp = NULL;

		cml_alloc_fail_after(n);
		p = cml_package_new(dir);
		if (p != NULL && (st = cml_package_read_dir(p)) == CML_OK &&
		    (st = cml_package_stamp(p, &stamp)) == CML_OK &&
		    (st = cml_package_read_stamp(p, stamp)) == CML_OK)
			st = cml_package_check(p);
		cml_alloc_fail_after(0);
		if (st == CML_OK) {
			ok = true;
			CHECK_INT(cml_package_count(p), 4);
		} else {
			CHECK_INT(st, CML_ERR_NOMEM);
		}
		free(stamp);
		cml_package_free(p);
	}
	CHECK(ok);
	remove_tree(dir);
}

int
main(void)
{
	RUN(test_rank);
	RUN(test_read_dir);
	RUN(test_links_out);
	RUN(test_not_a_package);
	RUN(test_stamp);
	RUN(test_bad_stamps);
	RUN(test_partial);
	RUN(test_alloc_failures);
	return harness_done();
}
