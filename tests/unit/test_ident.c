/*
 * test_ident.c: the catalog identity (lib/ident.c): the first source
 * filled wins, the identity derived from a shop's name is UUID-shaped and
 * the same in every run, differences are named, and the database
 * remembers what was saved (in a run) and nothing of a rolled-back one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cml/ident.h"
#include "harness.h"

static bool
uuid_shaped(const char *s)
{
	static const char form[] = "xxxxxxxx-xxxx-8xxx-Vxxx-xxxxxxxxxxxx";

	if (s == NULL || strlen(s) != sizeof(form) - 1)
		return false;
	for (size_t i = 0; form[i] != '\0'; i++) {
		char c = s[i];
		bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');

		if (form[i] == '-' ? c != '-' : form[i] == '8' ? c != '8' :
		    form[i] == 'V' ? strchr("89ab", c) == NULL : !hex)
			return false;
	}
	return true;
}

static void
test_derive(void)
{
	cml_ident *a = cml_ident_new(), *b = cml_ident_new(), *c = cml_ident_new();
	const cml_catalog_ident *x, *y, *z;

	CHECK(a != NULL && b != NULL && c != NULL);
	if (a == NULL || b == NULL || c == NULL)
		goto out;
	CHECK(cml_ident_is_empty(a));
	CHECK_INT(cml_ident_derive(a, NULL), CML_OK);
	CHECK_INT(cml_ident_derive(b, CML_IDENT_SHOP_DEFAULT), CML_OK);
	CHECK_INT(cml_ident_derive(c, "Другой магазин"), CML_OK);
	x = cml_ident_get(a), y = cml_ident_get(b), z = cml_ident_get(c);
	CHECK(uuid_shaped(x->classifier_id));
	CHECK(uuid_shaped(x->catalog_id));
	CHECK(strcmp(x->classifier_id, x->catalog_id) != 0);
	CHECK_STR(x->catalog_name, "Каталог товаров");
	CHECK_STR(x->classifier_name, "Классификатор (Каталог товаров)");
	CHECK_STR(x->offers_name, "Пакет предложений (Каталог товаров)");
	/* the same shop, the same identity; another shop, another */
	CHECK(cml_ident_differs(x, y) == NULL);
	CHECK_STR(y->catalog_id, x->catalog_id);
	CHECK_STR(cml_ident_differs(x, z), "Классификатор Ид");
	CHECK(strcmp(z->catalog_id, x->catalog_id) != 0);
	/* fixed: a change of the hash moves every shop to a new catalog */
	CHECK_STR(x->catalog_id, "e93a186f-0da2-8f85-bb49-abad392c1187");
	char want[64];
	snprintf(want, sizeof(want), "%s#", x->catalog_id);
	CHECK_STR(x->offers_id, want);
out:
	cml_ident_free(a);
	cml_ident_free(b);
	cml_ident_free(c);
}

static void
test_fill(void)
{
	cml_catalog_ident opts = { .catalog_id = "cat-1", .catalog_name = "" };
	cml_catalog_ident later = { .catalog_id = "cat-2", .classifier_id = "cls-2" };
	cml_ident *id = cml_ident_new();

	CHECK(id != NULL);
	if (id == NULL)
		return;
	CHECK_INT(cml_ident_fill(id, &opts), CML_OK);
	CHECK(!cml_ident_is_empty(id));
	CHECK_INT(cml_ident_fill(id, &later), CML_OK);
	CHECK_INT(cml_ident_derive(id, "Магазин"), CML_OK);
	const cml_catalog_ident *f = cml_ident_get(id);
	CHECK_STR(f->catalog_id, "cat-1");        /* the first source wins */
	CHECK_STR(f->classifier_id, "cls-2");     /* filled where empty */
	CHECK_STR(f->catalog_name, "Магазин");    /* an empty value is none */
	CHECK_STR(f->offers_id, "cat-1#");        /* after the catalog's Ид */
	/* a field empty in either is not compared */
	cml_catalog_ident part = { .catalog_id = "cat-1" };
	CHECK(cml_ident_differs(f, &part) == NULL);
	part.catalog_name = "Другое";
	CHECK_STR(cml_ident_differs(f, &part), "Каталог Наименование");
	CHECK_INT(cml_ident_fill(NULL, &opts), CML_ERR_USAGE);
	cml_ident_free(id);
	cml_ident_free(NULL);
}

static void
test_store(void)
{
	char dir[] = "/tmp/cmlkit-ident-XXXXXX", path[128], err[256];
	cml_ident *id = cml_ident_new(), *got = cml_ident_new();
	cml_store *s = NULL;
	cml_status st;
	bool found = true;

	if (mkdtemp(dir) == NULL || id == NULL || got == NULL) {
		CHECK(!"setup");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/t.db", dir);
	s = cml_store_open(path, NULL, &st, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		goto out;
	CHECK_INT(cml_ident_load(s, got, &found), CML_OK);
	CHECK(!found && cml_ident_is_empty(got));
	CHECK_INT(cml_ident_derive(id, "Магазин"), CML_OK);
	/* outside a run: refused */
	CHECK(cml_ident_save(s, id) != CML_OK);
	/* a rolled-back run remembers nothing */
	CHECK_INT(cml_store_run_begin(s, "test"), CML_OK);
	CHECK_INT(cml_ident_save(s, id), CML_OK);
	cml_store_run_rollback(s);
	CHECK_INT(cml_ident_load(s, got, &found), CML_OK);
	CHECK(!found);
	CHECK_INT(cml_store_run_begin(s, "test"), CML_OK);
	CHECK_INT(cml_ident_save(s, id), CML_OK);
	CHECK_INT(cml_store_run_commit(s, "ok", NULL), CML_OK);
	cml_store_close(s);
	s = cml_store_open(path, NULL, &st, err, sizeof(err));
	CHECK(s != NULL);
	if (s == NULL)
		goto out;
	CHECK_INT(cml_ident_load(s, got, &found), CML_OK);
	CHECK(found);
	CHECK(cml_ident_differs(cml_ident_get(got), cml_ident_get(id)) == NULL);
	CHECK_STR(cml_ident_get(got)->offers_name, "Пакет предложений (Магазин)");
out:
	cml_store_close(s);
	cml_ident_free(id);
	cml_ident_free(got);
	snprintf(path, sizeof(path), "%s/t.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db-shm", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db.lock", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	RUN(test_derive);
	RUN(test_fill);
	RUN(test_store);
	return harness_done();
}
