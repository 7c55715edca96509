/*
 * test_register.c: the counterparty register (lib/register.c): kinds,
 * put and its idempotency, fill_inn that never overwrites, persons and
 * contacts with their keys, find (order, one hit per card, the card's
 * own contact first, deleted and merged cards left out), merge and its
 * aliases, the cursors, the review queue (put, next, resolve by Ид and
 * by Номер, ambiguity, resolution), matched orders, counts, rollback,
 * allocation failures.
 *
 * "test_register --bench [N]" loads N cards (default 1000000) with an
 * email, a phone and every third a contact person, then times 100000
 * buyers of four lookups each (email, INN, phone, get).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cml/register.h"
#include "cml/store.h"
#include "harness.h"
#include "harness_db.h"

static char tmpdir[64];




static cml_store *
open_db(const char *path)
{
	char err[512];
	cml_status st;
	cml_store *s = cml_store_open(path, NULL, &st, err, sizeof(err));

	if (s == NULL)
		fprintf(stderr, "open %s: %s\n", path, err);
	return s;
}

static cml_store *
fresh(char *path, size_t cap)
{
	harness_db_path(tmpdir, path, cap);
	return open_db(path);
}

static cml_cp_card
card(const char *id, const char *name, const char *inn, const char *kpp)
{
	cml_cp_card c = { .id = id, .name = name, .inn = inn, .kpp = kpp,
		          .kind = CML_CP_LEGAL };
	return c;
}

static cml_register_change
put(cml_store *s, const cml_cp_card *c)
{
	cml_register_change ch = (cml_register_change)-1;
	cml_status st = cml_register_put(s, c, &ch);

	if (st != CML_OK)
		fprintf(stderr, "put %s: %s\n", c->id, cml_store_errmsg(s));
	return ch;
}

static bool
added_contact(cml_store *s, const char *cid, const char *pid, cml_contact_kind k,
              const char *v)
{
	bool added = false;
	cml_status st = cml_register_add_contact(s, cid, pid, k, v, &added);

	if (st != CML_OK)
		fprintf(stderr, "add_contact %s %s: %s\n", cid, v, cml_store_errmsg(s));
	return st == CML_OK && added;
}

/* The card Ид of the hits, space-separated, into out; "-" on error. */
static const char *
found(cml_store *s, cml_register_key k, const char *v, char *out, size_t cap)
{
	const cml_register_hit *h;
	size_t n, len = 0;

	out[0] = '\0';
	if (cml_register_find(s, k, v, &h, &n) != CML_OK) {
		snprintf(out, cap, "-");
		return out;
	}
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? " " : "", h[i].card_id);
	return out;
}

/* ---- kinds ---- */

static void
test_kinds(void)
{
	cml_cp_kind k = CML_CP_PERSON;

	CHECK_STR(cml_cp_kind_name(CML_CP_LEGAL), "legal");
	CHECK_STR(cml_cp_kind_name(CML_CP_ENTREPRENEUR), "entrepreneur");
	CHECK_STR(cml_cp_kind_name(CML_CP_PERSON), "person");
	CHECK_STR(cml_cp_kind_name(CML_CP_UNKNOWN), "");
	CHECK(cml_cp_kind_parse("entrepreneur", &k) && k == CML_CP_ENTREPRENEUR);
	CHECK(cml_cp_kind_parse("", &k) && k == CML_CP_UNKNOWN);
	CHECK(cml_cp_kind_parse("legal", &k) && k == CML_CP_LEGAL);
	CHECK(!cml_cp_kind_parse("Legal", &k));
	CHECK(!cml_cp_kind_parse("company", &k));
	CHECK(!cml_cp_kind_parse(NULL, &k));

	cml_counterparty c = { 0 };
	CHECK_INT(cml_cp_kind_of(&c), CML_CP_PERSON);
	c.inn = "7707083893"; /* a valid 10-digit INN */
	CHECK_INT(cml_cp_kind_of(&c), CML_CP_LEGAL);
	c.inn = "500100732259"; /* a valid 12-digit INN */
	CHECK_INT(cml_cp_kind_of(&c), CML_CP_PERSON);
	c.full_name = "ИП Петров Пётр Петрович";
	CHECK_INT(cml_cp_kind_of(&c), CML_CP_ENTREPRENEUR);
	c.full_name = NULL;
	c.name = "ИП Петров";
	CHECK_INT(cml_cp_kind_of(&c), CML_CP_ENTREPRENEUR);
	c.name = "Петров";
	c.official_name = "Индивидуальный предприниматель Петров";
	CHECK_INT(cml_cp_kind_of(&c), CML_CP_ENTREPRENEUR);
	c.inn = "7707083894"; /* wrong check digit: an INN, not a valid one */
	CHECK_INT(cml_cp_kind_of(&c), CML_CP_LEGAL);
	c.official_name = NULL;
	CHECK_INT(cml_cp_kind_of(&c), CML_CP_PERSON);
	c.inn = NULL;
	c.kpp = "773601001";
	c.official_name = "ООО Ромашка";
	CHECK_INT(cml_cp_kind_of(&c), CML_CP_LEGAL);
	c.kpp = NULL;
	CHECK_INT(cml_cp_kind_of(&c), CML_CP_LEGAL);
}

/* ---- cards ---- */

static void
test_put_get(void)
{
	char path[128];
	cml_store *s = fresh(path, sizeof(path));
	cml_cp_card c = card("A", "Ромашка", "7707083893", "773601001"), got;
	cml_register_change ch;

	if (s == NULL)
		return;
	/* outside a run nothing is written */
	CHECK_INT(cml_register_put(s, &c, &ch), CML_ERR_STATE);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	c.full_name = "ООО \"Ромашка\"";
	c.okpo = "12345678";
	c.reg_address = "Москва";
	c.legal_address = "Москва, Тверская 1";
	CHECK_INT(put(s, &c), CML_REGISTER_NEW);
	CHECK_INT(put(s, &c), CML_REGISTER_UNCHANGED);
	c.kpp = "773601002";
	CHECK_INT(put(s, &c), CML_REGISTER_CHANGED);
	CHECK_INT(put(s, &c), CML_REGISTER_UNCHANGED);
	/* the origin is part of the card */
	c.origin = "cp-match";
	CHECK_INT(put(s, &c), CML_REGISTER_CHANGED);
	c.origin = NULL;
	CHECK_INT(put(s, &c), CML_REGISTER_CHANGED);
	CHECK_INT(put(s, &c), CML_REGISTER_UNCHANGED);

	cml_cp_card bad = card("", "x", NULL, NULL);
	CHECK_INT(cml_register_put(s, &bad, NULL), CML_ERR_VALUE);
	bad.id = NULL;
	CHECK_INT(cml_register_put(s, &bad, NULL), CML_ERR_VALUE);

	CHECK(cml_register_get(s, "A", &got) == CML_OK);
	CHECK_STR(got.id, "A");
	CHECK_STR(got.name, "Ромашка");
	CHECK_STR(got.full_name, "ООО \"Ромашка\"");
	CHECK_INT(got.kind, CML_CP_LEGAL);
	CHECK_STR(got.inn, "7707083893");
	CHECK_STR(got.kpp, "773601002");
	CHECK_STR(got.okpo, "12345678");
	CHECK_STR(got.head_id, "");
	CHECK_STR(got.reg_address, "Москва");
	CHECK_STR(got.legal_address, "Москва, Тверская 1");
	CHECK_STR(got.origin, "register");
	CHECK(!got.deleted && !got.marketplace);
	CHECK_INT(cml_register_get(s, "B", &got), CML_END);

	/* a deleted card is never found; an invalid INN is no key */
	cml_cp_card d = card("D", "Удалённый", "7707083893", "");
	d.deleted = true;
	CHECK_INT(put(s, &d), CML_REGISTER_NEW);
	CHECK_INT(cml_register_get(s, "D", &got), CML_END);
	cml_cp_card e = card("E", "С ошибкой", " 7707083894 ", "");
	cml_cp_card m = card("M", "Маркетплейс", "7736207543", "");
	m.marketplace = true;
	CHECK_INT(put(s, &e), CML_REGISTER_NEW);
	CHECK_INT(put(s, &m), CML_REGISTER_NEW);
	char out[256];
	CHECK_STR(found(s, CML_REGKEY_INN, "7707083893", out, sizeof(out)), "A");
	CHECK_STR(found(s, CML_REGKEY_INN, "7707083894", out, sizeof(out)), "");
	CHECK(cml_register_get(s, "E", &got) == CML_OK);
	CHECK_STR(got.inn, " 7707083894 ");
	const cml_register_hit *h;
	size_t n;
	CHECK(cml_register_find(s, CML_REGKEY_INN, "7736207543", &h, &n) == CML_OK);
	CHECK(n == 1 && h[0].marketplace && strcmp(h[0].inn, "7736207543") == 0);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	/* the run that made or changed a card, and when */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cp_cards WHERE run = 1 AND created <> '' "
	                        "AND updated >= created"),
	          4);
	/* a second run: still unchanged */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK_INT(put(s, &c), CML_REGISTER_UNCHANGED);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cp_cards WHERE run = 2"), 0);
	cml_store_close(s);
}

static void
test_fill_inn(void)
{
	char path[128];
	cml_store *s = fresh(path, sizeof(path));
	cml_cp_card a = card("A", "Без ИНН", "", ""), b = card("B", "С ИНН", "7707083893", "");
	cml_cp_card got;
	bool filled = true;
	char out[64];

	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	put(s, &a);
	put(s, &b);
	CHECK(cml_register_fill_inn(s, "A", "7736207543", "773601001", &filled) == CML_OK);
	CHECK(filled);
	CHECK(cml_register_get(s, "A", &got) == CML_OK);
	CHECK_STR(got.inn, "7736207543");
	CHECK_STR(got.kpp, "773601001");
	CHECK_STR(found(s, CML_REGKEY_INN, "7736207543", out, sizeof(out)), "A");
	/* never again, not even the same INN */
	CHECK(cml_register_fill_inn(s, "A", "7736207543", NULL, &filled) == CML_OK);
	CHECK(!filled);
	CHECK(cml_register_fill_inn(s, "A", "7830002293", NULL, &filled) == CML_OK);
	CHECK(!filled);
	CHECK(cml_register_fill_inn(s, "B", "7830002293", "", &filled) == CML_OK);
	CHECK(!filled);
	CHECK(cml_register_get(s, "B", &got) == CML_OK);
	CHECK_STR(got.inn, "7707083893");
	/* an INN that is none is refused, an unknown card is the end */
	CHECK_INT(cml_register_fill_inn(s, "A", "7707083894", NULL, &filled), CML_ERR_VALUE);
	CHECK_INT(cml_register_fill_inn(s, "Z", "7707083893", NULL, &filled), CML_END);
	/* KPP NULL leaves the card's KPP */
	cml_cp_card c = card("C", "КПП без ИНН", "", "773601001");
	put(s, &c);
	CHECK(cml_register_fill_inn(s, "C", "500100732259", NULL, NULL) == CML_OK);
	CHECK(cml_register_get(s, "C", &got) == CML_OK);
	CHECK_STR(got.inn, "500100732259");
	CHECK_STR(got.kpp, "773601001");
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_store_close(s);
}

static void
test_persons_contacts(void)
{
	char path[128], out[256];
	cml_store *s = fresh(path, sizeof(path));
	cml_cp_card a = card("A", "Альфа", "", ""), b = card("B", "Бета", "", "");
	cml_cp_card z = card("Z", "Зета", "", ""), d = card("D", "Удалён", "", "");
	bool added = false;

	if (s == NULL)
		return;
	d.deleted = true;
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	put(s, &z);
	put(s, &b);
	put(s, &a);
	put(s, &d);
	CHECK(cml_register_add_person(s, "A", "p2", "Иван", &added) == CML_OK && added);
	CHECK(cml_register_add_person(s, "A", "p2", "Другое имя", &added) == CML_OK && !added);
	CHECK(cml_register_add_person(s, "A", "p1", "Мария", &added) == CML_OK && added);
	CHECK(cml_register_add_person(s, "B", "p1", "Мария", &added) == CML_OK && added);
	CHECK_INT(cml_register_add_person(s, "X", "p1", "Мария", &added), CML_END);
	CHECK_INT(cml_register_add_person(s, "A", "", "Без Ид", &added), CML_ERR_VALUE);

	/* the key is computed here: the same key once per card or person */
	CHECK(added_contact(s, "A", NULL, CML_CONTACT_EMAIL, "Shop@Example.RU"));
	CHECK(!added_contact(s, "A", "", CML_CONTACT_EMAIL, "shop@example.ru"));
	CHECK(added_contact(s, "A", "p2", CML_CONTACT_EMAIL, "ivan@example.ru"));
	CHECK(added_contact(s, "A", "p1", CML_CONTACT_EMAIL, "shop@example.ru"));
	CHECK(added_contact(s, "A", "p2", CML_CONTACT_PHONE, "+7 (912) 345-67-89"));
	CHECK(!added_contact(s, "A", "p2", CML_CONTACT_PHONE, "8 912 345 67 89"));
	CHECK(added_contact(s, "B", "p1", CML_CONTACT_EMAIL, "ivan@example.ru"));
	CHECK(added_contact(s, "Z", "", CML_CONTACT_EMAIL, "Ivan@Example.RU"));
	CHECK(added_contact(s, "D", "", CML_CONTACT_EMAIL, "ivan@example.ru"));
	/* no key: kept once per value */
	CHECK(added_contact(s, "B", "", CML_CONTACT_EMAIL, "not an email"));
	CHECK(!added_contact(s, "B", "", CML_CONTACT_EMAIL, "not an email"));
	CHECK(added_contact(s, "B", "", CML_CONTACT_OTHER, "skype:beta"));
	CHECK(!added_contact(s, "B", "", CML_CONTACT_OTHER, "skype:beta"));
	CHECK(!added_contact(s, "B", "", CML_CONTACT_OTHER, "  "));
	CHECK_INT(cml_register_add_contact(s, "B", "p9", CML_CONTACT_EMAIL, "x@y.ru", NULL),
	          CML_END);
	CHECK_INT(cml_register_add_contact(s, "Q", NULL, CML_CONTACT_EMAIL, "x@y.ru", NULL),
	          CML_END);

	/* one hit per card, by card Ид; the card's own contact wins */
	CHECK_STR(found(s, CML_REGKEY_EMAIL, "ivan@example.ru", out, sizeof(out)), "A B Z");
	const cml_register_hit *h;
	size_t n;
	CHECK(cml_register_find(s, CML_REGKEY_EMAIL, "shop@example.ru", &h, &n) == CML_OK);
	CHECK(n == 1 && strcmp(h[0].person_id, "") == 0 && strcmp(h[0].person_name, "") == 0);
	CHECK(cml_register_find(s, CML_REGKEY_EMAIL, "ivan@example.ru", &h, &n) == CML_OK);
	CHECK_INT(n, 3);
	if (n == 3) {
		CHECK_STR(h[0].person_id, "p2");
		CHECK_STR(h[0].person_name, "Иван");
		CHECK_STR(h[1].person_id, "p1");
		CHECK_STR(h[1].person_name, "Мария");
		CHECK_STR(h[2].person_id, "");
		CHECK_STR(h[2].inn, "");
		CHECK_INT(h[2].kind, CML_CP_LEGAL);
	}
	CHECK_STR(found(s, CML_REGKEY_PHONE, "+79123456789", out, sizeof(out)), "A");
	CHECK_STR(found(s, CML_REGKEY_EMAIL, "not an email", out, sizeof(out)), "");
	CHECK_STR(found(s, CML_REGKEY_EMAIL, "", out, sizeof(out)), "");
	CHECK_STR(found(s, CML_REGKEY_EMAIL, "nobody@example.ru", out, sizeof(out)), "");
	CHECK_STR(found(s, (cml_register_key)9, "x", out, sizeof(out)), "-");

	cml_register_counts k;
	CHECK(cml_register_count(s, &k) == CML_OK);
	CHECK_INT(k.cards, 4);
	CHECK_INT(k.persons, 3);
	CHECK_INT(k.contacts, 9);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	cml_store_close(s);
}

/* ---- iteration ---- */

static void
test_iteration(void)
{
	char path[128], list[512];
	cml_store *s = fresh(path, sizeof(path));
	cml_cp_card a = card("A", "Альфа", "", ""), b = card("B", "Бета", "", "");
	cml_cp_card c = card("C", "Цэ", "", "");
	void *cur = NULL, *pc = NULL, *cc = NULL;
	cml_cp_card got;
	cml_cp_person p;
	cml_cp_contact t;
	size_t len = 0;

	if (s == NULL)
		return;
	b.deleted = true;
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	put(s, &c);
	put(s, &b);
	put(s, &a);
	CHECK(cml_register_add_person(s, "A", "p2", "Второй", NULL) == CML_OK);
	CHECK(cml_register_add_person(s, "A", "p1", "Первый", NULL) == CML_OK);
	CHECK(added_contact(s, "A", "p2", CML_CONTACT_PHONE, "89123456789"));
	CHECK(added_contact(s, "A", "p1", CML_CONTACT_EMAIL, "one@example.ru"));
	CHECK(added_contact(s, "A", "", CML_CONTACT_EMAIL, "a@example.ru"));
	CHECK(added_contact(s, "A", "p2", CML_CONTACT_EMAIL, "two@example.ru"));
	CHECK(added_contact(s, "A", "", CML_CONTACT_OTHER, "факс 1"));
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);

	list[0] = '\0';
	while (cml_register_next(s, &cur, &got) == CML_OK) {
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s;", got.id,
		                        got.deleted ? "(deleted)" : "");
		/* the persons and contacts of the card at hand, in between */
		while (cml_register_persons(s, got.id, &pc, &p) == CML_OK)
			len += (size_t)snprintf(list + len, sizeof(list) - len, " %s=%s;", p.id,
			                        p.name);
		cml_register_end(s, &pc);
		while (cml_register_contacts(s, got.id, &cc, &t) == CML_OK)
			len += (size_t)snprintf(list + len, sizeof(list) - len, " %s:%d:%s:%s;",
			                        t.person_id, (int)t.kind, t.value, t.key);
		cml_register_end(s, &cc);
	}
	cml_register_end(s, &cur);
	CHECK(cur == NULL && pc == NULL && cc == NULL);
	CHECK_STR(list, "A; p1=Первый; p2=Второй; :1:a@example.ru:a@example.ru; :0:факс 1:;"
	                " p1:1:one@example.ru:one@example.ru; p2:2:89123456789:+79123456789;"
	                " p2:1:two@example.ru:two@example.ru;B(deleted);C;");

	/* two cursors of one kind at once: each its own */
	void *p1 = NULL, *p2 = NULL;
	cml_cp_person x, y;
	CHECK(cml_register_persons(s, "A", &p1, &x) == CML_OK);
	CHECK(cml_register_persons(s, "A", &p2, &y) == CML_OK);
	CHECK_STR(x.id, "p1");
	CHECK_STR(y.id, "p1");
	CHECK(cml_register_persons(s, "A", &p2, &y) == CML_OK);
	CHECK_STR(y.id, "p2");
	CHECK_STR(x.id, "p1");
	CHECK_STR(x.card_id, "A");
	cml_register_end(s, &p1);
	cml_register_end(s, &p2);
	/* a card with none, and one that does not exist */
	CHECK_INT(cml_register_persons(s, "C", &p1, &x), CML_END);
	cml_register_end(s, &p1);
	CHECK_INT(cml_register_contacts(s, "nope", &p1, &t), CML_END);
	cml_register_end(s, &p1);
	cml_register_end(s, NULL);
	cml_store_close(s);
}

/* ---- merge ---- */

static void
test_merge(void)
{
	char path[128], out[256];
	cml_store *s = fresh(path, sizeof(path));
	cml_cp_card a = card("A", "Выживший", "", ""), b = card("B", "Слитый", "7707083893", "773601001");
	cml_cp_card br = card("BR", "Филиал", "7707083893", "773602001"), got;
	cml_cp_card d = card("D", "Второй выживший", "7736207543", "");
	cml_register_counts k;

	if (s == NULL)
		return;
	b.okpo = "11111111";
	b.legal_address = "Москва";
	br.head_id = "B";
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	put(s, &a);
	put(s, &b);
	put(s, &br);
	put(s, &d);
	CHECK(cml_register_add_person(s, "A", "p1", "Общий", NULL) == CML_OK);
	CHECK(added_contact(s, "A", "p1", CML_CONTACT_EMAIL, "same@example.ru"));
	CHECK(cml_register_add_person(s, "B", "p1", "Общий у B", NULL) == CML_OK);
	CHECK(cml_register_add_person(s, "B", "p2", "Только у B", NULL) == CML_OK);
	CHECK(added_contact(s, "B", "p1", CML_CONTACT_EMAIL, "SAME@example.ru"));
	CHECK(added_contact(s, "B", "p2", CML_CONTACT_EMAIL, "only-b@example.ru"));
	CHECK(added_contact(s, "B", "", CML_CONTACT_PHONE, "+7 495 111 22 33"));

	CHECK_INT(cml_register_merge(s, "A", "A"), CML_ERR_VALUE);
	CHECK_INT(cml_register_merge(s, "A", "nope"), CML_END);
	CHECK_INT(cml_register_merge(s, "nope", "A"), CML_END);
	CHECK(cml_register_merge(s, "A", "B") == CML_OK);

	CHECK(cml_register_get(s, "B", &got) == CML_OK);
	CHECK_STR(got.id, "A");
	CHECK_STR(got.name, "Выживший");
	CHECK_STR(got.inn, "7707083893");
	CHECK_STR(got.kpp, "773601001");
	CHECK_STR(got.okpo, "11111111");
	CHECK_STR(got.legal_address, "Москва");
	CHECK_STR(found(s, CML_REGKEY_EMAIL, "only-b@example.ru", out, sizeof(out)), "A");
	CHECK_STR(found(s, CML_REGKEY_EMAIL, "same@example.ru", out, sizeof(out)), "A");
	CHECK_STR(found(s, CML_REGKEY_PHONE, "+74951112233", out, sizeof(out)), "A");
	CHECK_STR(found(s, CML_REGKEY_INN, "7707083893", out, sizeof(out)), "A BR");
	CHECK(cml_register_get(s, "BR", &got) == CML_OK);
	CHECK_STR(got.head_id, "A");
	CHECK(cml_register_count(s, &k) == CML_OK);
	CHECK_INT(k.cards, 3);
	CHECK_INT(k.persons, 2);   /* p1 not doubled */
	CHECK_INT(k.contacts, 3);  /* same@ not doubled */
	CHECK_INT(k.aliases, 1);
	CHECK_INT(k.branches, 1);
	/* p1 keeps the survivor's name */
	void *pc = NULL;
	cml_cp_person p;
	CHECK(cml_register_persons(s, "A", &pc, &p) == CML_OK);
	CHECK_STR(p.name, "Общий");
	cml_register_end(s, &pc);

	/* the merged Ид is no card to put, and names A for every write */
	CHECK_INT(cml_register_put(s, &b, NULL), CML_ERR_VALUE);
	CHECK(cml_register_add_person(s, "B", "p3", "Через алиас", NULL) == CML_OK);
	CHECK_INT(cml_register_merge(s, "A", "B"), CML_ERR_VALUE);

	/* A into D: B follows, A's INN stays D's; D's head... */
	CHECK(cml_register_merge(s, "D", "A") == CML_OK);
	CHECK(cml_register_get(s, "B", &got) == CML_OK);
	CHECK_STR(got.id, "D");
	CHECK_STR(got.inn, "7736207543");
	CHECK_STR(got.kpp, ""); /* A's KPP belongs to A's INN */
	CHECK(cml_register_get(s, "A", &got) == CML_OK);
	CHECK_STR(got.id, "D");
	CHECK(cml_register_get(s, "BR", &got) == CML_OK);
	CHECK_STR(got.head_id, "D");
	/* a survivor that was a branch of the merged card heads none */
	CHECK(cml_register_merge(s, "BR", "D") == CML_OK);
	CHECK(cml_register_get(s, "A", &got) == CML_OK);
	CHECK_STR(got.id, "BR");
	CHECK_STR(got.head_id, "");
	CHECK(cml_register_count(s, &k) == CML_OK);
	CHECK_INT(k.cards, 1);
	CHECK_INT(k.aliases, 3);
	CHECK_INT(k.persons, 3);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	/* outside a run: refused */
	CHECK_INT(cml_register_merge(s, "BR", "A"), CML_ERR_STATE);
	/* a later run knows the aliases too, after a new card or not */
	cml_cp_card e = card("E", "Новая", "", "");
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK_INT(put(s, &e), CML_REGISTER_NEW);
	CHECK_INT(cml_register_put(s, &b, NULL), CML_ERR_VALUE);
	CHECK_INT(cml_register_put(s, &d, NULL), CML_ERR_VALUE);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cp_aliases WHERE card = "
	                        "(SELECT cid FROM cp_cards WHERE id = 'BR')"),
	          3);
	cml_store_close(s);
}

/* ---- reviews ---- */

static void
test_reviews(void)
{
	char path[128];
	cml_store *s = fresh(path, sizeof(path));
	cml_cp_card a = card("A", "Альфа", "7707083893", ""), b = card("B", "Бета", "", "");
	cml_review r = { .site = "shop", .order_id = "o1", .order_number = "101",
		         .email = "x@example.ru", .inn = "7707083893", .candidates = "A B",
		         .booked = "A", .rule = "conflict", .reason = "Email and INN disagree." };
	cml_review got;
	cml_register_counts k;
	const char *cid;
	bool added = false;
	void *cur = NULL;

	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	put(s, &a);
	put(s, &b);
	CHECK(cml_register_review_put(s, &r, &added) == CML_OK && added);
	CHECK(cml_register_review_put(s, &r, &added) == CML_OK && !added);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cp_reviews"), 0); /* not committed */
	r.candidates = "A B C";
	CHECK(cml_register_review_put(s, &r, &added) == CML_OK && !added);
	cml_review r2 = r, r3 = r;
	r2.site = "other";
	r2.order_number = "202";
	r3.site = "";
	r3.order_id = "o3";
	r3.order_number = "101";
	CHECK(cml_register_review_put(s, &r2, &added) == CML_OK && added);
	CHECK(cml_register_review_put(s, &r3, &added) == CML_OK && added);
	cml_review bad = { .order_id = "" };
	CHECK_INT(cml_register_review_put(s, &bad, NULL), CML_ERR_VALUE);

	CHECK(cml_register_count(s, &k) == CML_OK);
	CHECK_INT(k.reviews_open, 3);
	CHECK(cml_register_review_next(s, true, &cur, &got) == CML_OK);
	CHECK_STR(got.site, "shop");
	CHECK_STR(got.order_id, "o1");
	CHECK_STR(got.candidates, "A B C");
	CHECK_STR(got.rule, "conflict");
	CHECK_STR(got.reason, "Email and INN disagree.");
	CHECK_STR(got.resolved_card, "");
	CHECK(got.created[0] == '2' && got.id > 0);
	cml_register_end(s, &cur);

	/* o1 is the Ид of two orders (two sites): name the site */
	CHECK_INT(cml_register_resolve(s, NULL, "o1", "A"), CML_ERR_VALUE);
	CHECK(strstr(cml_store_errmsg(s), "more than one review") != NULL);
	CHECK(strstr(cml_store_errmsg(s), "\"other\"") != NULL);
	CHECK_INT(cml_register_resolve(s, "shop", "o1", "nope"), CML_ERR_VALUE);
	CHECK_INT(cml_register_resolve(s, "shop", "o9", "A"), CML_END);
	CHECK_INT(cml_register_resolution(s, "shop", "o1", &cid), CML_END);
	CHECK(cml_register_resolve(s, "shop", "o1", "B") == CML_OK);
	CHECK(cml_register_resolution(s, "shop", "o1", &cid) == CML_OK);
	CHECK_STR(cid, "B");
	CHECK_INT(cml_register_resolution(s, "other", "o1", &cid), CML_END);
	/* by Номер: 202 names one order; 101 names two */
	CHECK(cml_register_resolve(s, "", "202", "A") == CML_OK);
	CHECK(cml_register_resolution(s, "other", "o1", &cid) == CML_OK);
	CHECK_STR(cid, "A");
	CHECK_INT(cml_register_resolve(s, NULL, "101", "A"), CML_ERR_VALUE);
	/* a settled record stays settled, whatever is put again */
	r.booked = "B";
	CHECK(cml_register_review_put(s, &r, &added) == CML_OK && !added);
	CHECK(cml_register_resolution(s, "shop", "o1", &cid) == CML_OK);
	CHECK_STR(cid, "B");

	int all = 0, open = 0;
	while (cml_register_review_next(s, false, &cur, &got) == CML_OK)
		all++;
	cml_register_end(s, &cur);
	while (cml_register_review_next(s, true, &cur, &got) == CML_OK) {
		open++;
		CHECK_STR(got.order_id, "o3");
	}
	cml_register_end(s, &cur);
	CHECK_INT(all, 3);
	CHECK_INT(open, 1);
	CHECK(cml_register_count(s, &k) == CML_OK);
	CHECK_INT(k.reviews_open, 1);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cp_reviews WHERE candidates = 'A B' "
	                        "OR booked = 'B'"),
	          0);
	CHECK_INT(cml_register_resolve(s, "", "o3", "A"), CML_ERR_STATE);
	cml_store_close(s);
}

static void
test_matched(void)
{
	char path[128];
	cml_store *s = fresh(path, sizeof(path));
	int64_t rev = -1;

	if (s == NULL)
		return;
	CHECK_INT(cml_register_matched(s, "shop", "o1", &rev), CML_END);
	CHECK_INT(cml_register_set_matched(s, "shop", "o1", 1, "A"), CML_ERR_STATE);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK(cml_register_set_matched(s, "shop", "o1", 1, "A") == CML_OK);
	CHECK(cml_register_set_matched(s, "shop", "o2", 3, "") == CML_OK);
	CHECK(cml_register_matched(s, "shop", "o1", &rev) == CML_OK);
	CHECK_INT(rev, 1);
	CHECK(cml_register_set_matched(s, "shop", "o1", 2, "A") == CML_OK);
	CHECK(cml_register_matched(s, "shop", "o1", &rev) == CML_OK);
	CHECK_INT(rev, 2);
	CHECK_INT(cml_register_matched(s, "other", "o1", &rev), CML_END);
	CHECK_INT(cml_register_set_matched(s, "shop", "", 1, "A"), CML_ERR_VALUE);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_register_matched(s, "shop", "o2", &rev) == CML_OK);
	CHECK_INT(rev, 3);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cp_matched"), 2);
	cml_store_close(s);
}

/* A rolled-back run leaves nothing, and nothing of it is remembered. */
static void
test_rollback(void)
{
	char path[128];
	cml_store *s = fresh(path, sizeof(path));
	cml_cp_card a = card("A", "Альфа", "7707083893", ""), b = card("B", "Бета", "", "");
	cml_review r = { .site = "shop", .order_id = "o1" };
	cml_register_counts k;
	cml_cp_card got;

	if (s == NULL)
		return;
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	put(s, &b);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	put(s, &a);
	CHECK(cml_register_add_person(s, "A", "p1", "Иван", NULL) == CML_OK);
	CHECK(added_contact(s, "A", "p1", CML_CONTACT_EMAIL, "ivan@example.ru"));
	CHECK(cml_register_fill_inn(s, "B", "7736207543", NULL, NULL) == CML_OK);
	CHECK(cml_register_review_put(s, &r, NULL) == CML_OK);
	CHECK(cml_register_set_matched(s, "shop", "o1", 1, "A") == CML_OK);
	CHECK(cml_register_merge(s, "B", "A") == CML_OK);
	cml_store_run_rollback(s);

	CHECK(cml_register_count(s, &k) == CML_OK);
	CHECK_INT(k.cards, 1);
	CHECK_INT(k.persons + k.contacts + k.aliases + k.reviews_open, 0);
	CHECK_INT(cml_register_get(s, "A", &got), CML_END);
	CHECK(cml_register_get(s, "B", &got) == CML_OK);
	CHECK_STR(got.inn, "");
	int64_t rev;
	CHECK_INT(cml_register_matched(s, "shop", "o1", &rev), CML_END);
	/* the next run finds no card A (the row of the rolled-back put is
	 * not remembered), even when a new card takes its row */
	CHECK(cml_store_run_begin(s, "t") == CML_OK);
	CHECK_INT(cml_register_add_person(s, "A", "p1", "Иван", NULL), CML_END);
	cml_cp_card c = card("C", "Цэ", "", "");
	put(s, &c);
	CHECK(cml_register_add_person(s, "C", "p1", "Иван", NULL) == CML_OK);
	CHECK_INT(cml_register_add_contact(s, "A", "p1", CML_CONTACT_EMAIL, "x@y.ru", NULL),
	          CML_END);
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM cp_persons"), 1);
	cml_store_close(s);
}

/* Every allocation failing in turn: an error, never a crash or a leak. */
static void
test_alloc_failures(void)
{
	char path[128];
	int ok_at = -1;

	for (long n = 0; n < 400 && ok_at < 0; n++) {
		cml_store *s = fresh(path, sizeof(path));
		cml_cp_card a = card("A", "Альфа", "7707083893", "");
		const cml_register_hit *h;
		size_t nh;
		cml_cp_card got;
		bool ok;

		if (s == NULL)
			return;
		CHECK(cml_store_run_begin(s, "t") == CML_OK);
		cml_alloc_fail_after(n);
		ok = cml_register_put(s, &a, NULL) == CML_OK &&
		     cml_register_add_person(s, "A", "p1", "Иван", NULL) == CML_OK &&
		     cml_register_add_contact(s, "A", "p1", CML_CONTACT_EMAIL, "i@example.ru",
		                              NULL) == CML_OK &&
		     cml_register_find(s, CML_REGKEY_EMAIL, "i@example.ru", &h, &nh) == CML_OK &&
		     cml_register_get(s, "A", &got) == CML_OK;
		cml_alloc_fail_after(-1);
		if (ok)
			ok_at = (int)n;
		cml_store_run_rollback(s);
		cml_store_close(s);
	}
	CHECK(ok_at >= 0);
}

/* ---- bench ---- */

static void
bench_card(long i, char *id, char *inn, char *email, char *phone)
{
	/* INN: 10 digits with a right check digit */
	static const int w[] = { 2, 4, 10, 3, 5, 9, 4, 6, 8 };
	int v = 100000000 + (int)(i % 800000000);
	int sum = 0;

	snprintf(id, 40, "card-%08ld", i);
	snprintf(inn, 16, "%09d", v);
	for (int k = 0; k < 9; k++)
		sum += (inn[k] - '0') * w[k];
	inn[9] = (char)('0' + sum % 11 % 10);
	inn[10] = '\0';
	snprintf(email, 64, "buyer%ld@example%ld.ru", i, i % 97);
	snprintf(phone, 32, "+7 912 %07ld", i % 10000000);
}

static long
peak_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

static void
bench(long n, long buyers, bool print)
{
	char path[128], id[40], inn[16], email[64], phone[32], pid[48];
	cml_store *s = fresh(path, sizeof(path));
	const cml_register_hit *h;
	size_t nh;
	long hits = 0;

	if (s == NULL)
		return;
	double t0 = now_s();
	CHECK(cml_store_run_begin(s, "bench") == CML_OK);
	for (long i = 0; i < n; i++) {
		bench_card(i, id, inn, email, phone);
		cml_cp_card c = card(id, "Покупатель", inn, i % 5 == 0 ? "773601001" : "");
		if (cml_register_put(s, &c, NULL) != CML_OK ||
		    cml_register_add_contact(s, id, NULL, CML_CONTACT_EMAIL, email, NULL) != CML_OK ||
		    cml_register_add_contact(s, id, NULL, CML_CONTACT_PHONE, phone, NULL) != CML_OK) {
			CHECK(false);
			break;
		}
		if (i % 3 == 0) {
			snprintf(pid, sizeof(pid), "%s-p", id);
			snprintf(email, sizeof(email), "person%ld@example.ru", i);
			if (cml_register_add_person(s, id, pid, "Контакт", NULL) != CML_OK ||
			    cml_register_add_contact(s, id, pid, CML_CONTACT_EMAIL, email, NULL) !=
			            CML_OK) {
				CHECK(false);
				break;
			}
		}
	}
	CHECK(cml_store_run_commit(s, "ok", NULL) == CML_OK);
	double t1 = now_s();
	/* buyers: half known, half not; looked up inside a run, as cp-match
	 * does (outside one, every statement takes SQLite's locks anew) */
	CHECK(cml_store_run_begin(s, "bench") == CML_OK);
	for (long b = 0; b < buyers; b++) {
		cml_cp_card got;
		long i = (b * 7919) % (2 * n);

		bench_card(i, id, inn, email, phone);
		CHECK(cml_register_find(s, CML_REGKEY_EMAIL, email, &h, &nh) == CML_OK);
		hits += (long)nh;
		CHECK(cml_register_find(s, CML_REGKEY_INN, inn, &h, &nh) == CML_OK);
		hits += (long)nh;
		CHECK(cml_register_find(s, CML_REGKEY_PHONE, "+79120000001", &h, &nh) == CML_OK);
		if (cml_register_get(s, id, &got) == CML_OK)
			hits++;
	}
	double t2 = now_s();
	cml_store_run_rollback(s);
	CHECK(hits > 0);
	if (print)
		printf("register: %ld cards loaded in %.2f s; %ld buyers x 4 lookups in %.2f s "
		       "(%.1f us a lookup); peak RSS %ld MiB\n",
		       n, t1 - t0, buyers, t2 - t1, (t2 - t1) * 1e6 / (double)(4 * buyers),
		       peak_kib() / 1024);
	cml_store_close(s);
}

static void
test_bench_small(void)
{
	bench(2000, 1000, false);
}

int
main(int argc, char **argv)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s", "/tmp/test_register.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
		long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
		harness_current = "bench";
		bench(n > 0 ? n : 1000000, 100000, true);
	} else {
		RUN(test_kinds);
		RUN(test_put_get);
		RUN(test_fill_inn);
		RUN(test_persons_contacts);
		RUN(test_iteration);
		RUN(test_merge);
		RUN(test_reviews);
		RUN(test_matched);
		RUN(test_rollback);
		RUN(test_alloc_failures);
		RUN(test_bench_small);
	}
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return harness_done();
}
