/*
 * register.c: the counterparty register (cmlkit-db(5)), over the store's
 * connection and inside its runs; the contract is in cml/register.h.
 *
 * cp-match looks a buyer up 3-4 times against a register of a million
 * cards, so every lookup is one kept statement on an index (cp_cards'
 * Ид, cp_cards_inn, cp_contacts_key) and its result is copied into
 * memory of the handle that is reused from call to call. Loading a
 * register file puts a card and then adds its persons and contacts: the
 * card's row number is remembered from the put, so those adds look
 * nothing up again. What is remembered is forgotten when a run ends
 * (a rolled-back run may have made the row) and on a merge.
 *
 * Cursors (next, persons, contacts, review_next) hand out the strings
 * of their statement's current row: valid until the cursor moves on.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cml/register.h"
#include "store_private.h"

struct store_register {
	/* the card (and person) the last write named, by Ид: its row */
	cml_buf cache_id;
	int64_t cache_cid;
	cml_buf cache_person;
	int64_t cache_person_cid;
	/* the register has no alias (known in this run): a new Ид is no
	 * merged one, without asking; 0 unknown, 1 none, -1 some */
	int no_aliases;
	/* cml_register_get's card */
	cml_arena get_arena;
	/* cml_register_find's hits */
	cml_arena find_arena;
	cml_register_hit *hits;
	size_t hits_cap;
	/* cml_register_resolution's card */
	cml_buf resolution;
	/* the kept cursor statements in use */
	bool persons_busy, contacts_busy;
};

enum cursor_kind { CUR_CARDS, CUR_PERSONS, CUR_CONTACTS, CUR_REVIEWS };

struct register_cursor {
	enum cursor_kind kind;
	sqlite3_stmt *stmt;
	bool kept;   /* s->q[...]: reset, not finalized, at the end */
	bool done;
	char *card_id;
};

/* The card columns, in this order, for card_row(). */
#define CARD_COLS                                                                     \
	"id, name, full_name, kind, inn, kpp, okpo, head_id, reg_address, legal_address, " \
	"deleted, marketplace, origin"

/* The card named by Ид ?1 or by an alias ?1. */
#define CID_OF_SQL                                                                   \
	"coalesce((SELECT cid FROM cp_cards WHERE id = ?1), (SELECT card FROM cp_aliases " \
	"WHERE id = ?1))"

#define REVIEW_COLS                                                                  \
	"rid, site, order_id, order_number, email, inn, kpp, phone, candidates, booked, " \
	"rule, reason, created, resolved_card, resolved"

static const char *const queries[SQ_COUNT] = {
	[SQ_RG_CID] = "SELECT " CID_OF_SQL,
	/* ?1 NULL: whether there is any alias at all */
	[SQ_RG_ALIAS_HAS] = "SELECT card FROM cp_aliases WHERE ?1 IS NULL OR id = ?1 LIMIT 1",
	[SQ_RG_CARD_ROW] = "SELECT cid, " CARD_COLS " FROM cp_cards WHERE id = ?1",
	[SQ_RG_CARD_NEW] = "INSERT INTO cp_cards(" CARD_COLS ", inn_key, run, created, updated) "
	                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
	                   "?14, ?15, " STORE_NOW_SQL ", " STORE_NOW_SQL ")",
	[SQ_RG_CARD_SET] = "UPDATE cp_cards SET name = ?2, full_name = ?3, kind = ?4, inn = ?5, "
	                   "kpp = ?6, okpo = ?7, head_id = ?8, reg_address = ?9, "
	                   "legal_address = ?10, deleted = ?11, marketplace = ?12, origin = ?13, "
	                   "inn_key = ?14, run = ?15, updated = " STORE_NOW_SQL " WHERE cid = ?1",
	[SQ_RG_GET] = "SELECT " CARD_COLS " FROM cp_cards WHERE cid = " CID_OF_SQL
	              " AND deleted = 0",
	[SQ_RG_FILL_INN] = "UPDATE cp_cards SET inn = ?2, inn_key = ?2, "
	                   "kpp = coalesce(?3, kpp), run = ?4, updated = " STORE_NOW_SQL
	                   " WHERE cid = ?1 AND inn = ''",
	[SQ_RG_PERSON_ADD] = "INSERT OR IGNORE INTO cp_persons(card, id, name) VALUES (?1, ?2, ?3)",
	[SQ_RG_PERSON_HAS] = "SELECT 1 FROM cp_persons WHERE card = ?1 AND id = ?2",
	[SQ_RG_CONTACT_ADD] = "INSERT OR IGNORE INTO cp_contacts(card, person, kind, value, key) "
	                      "VALUES (?1, ?2, ?3, ?4, ?5)",
	/* sorted by cml_register_find, not here: a sorter per lookup costs
	 * more than the few rows it would sort */
	[SQ_RG_FIND_CONTACT] = "SELECT c.id, t.person, coalesce(p.name, ''), "
	                       "coalesce(c.inn_key, ''), c.kpp, c.head_id, c.kind, "
	                       "c.marketplace FROM cp_contacts t "
	                       "JOIN cp_cards c ON c.cid = t.card "
	                       "LEFT JOIN cp_persons p ON p.card = t.card AND p.id = t.person "
	                       "WHERE t.kind = ?1 AND t.key = ?2 AND t.key <> '' "
	                       "AND c.deleted = 0",
	[SQ_RG_FIND_INN] = "SELECT id, '', '', inn_key, kpp, head_id, kind, marketplace "
	                   "FROM cp_cards WHERE inn_key = ?1 AND deleted = 0 ORDER BY id",
	[SQ_RG_M_PERSONS_COPY] = "INSERT OR IGNORE INTO cp_persons(card, id, name) "
	                         "SELECT ?1, id, name FROM cp_persons WHERE card = ?2",
	[SQ_RG_M_PERSONS_DEL] = "DELETE FROM cp_persons WHERE card = ?1",
	[SQ_RG_M_CONTACTS_COPY] = "INSERT OR IGNORE INTO cp_contacts(card, person, kind, value, "
	                          "key) SELECT ?1, person, kind, value, key FROM cp_contacts "
	                          "WHERE card = ?2 ORDER BY seq",
	[SQ_RG_M_CONTACTS_DEL] = "DELETE FROM cp_contacts WHERE card = ?1",
	/* KPP goes with the INN: filled only when the survivor's INN is
	 * empty or the same, so a card never gets another company's KPP */
	[SQ_RG_M_FILL] =
		"UPDATE cp_cards SET "
		"inn = CASE WHEN cp_cards.inn = '' THEN m.inn ELSE cp_cards.inn END, "
		"inn_key = CASE WHEN cp_cards.inn = '' THEN m.inn_key ELSE cp_cards.inn_key END, "
		"kpp = CASE WHEN cp_cards.kpp = '' AND (cp_cards.inn = '' OR "
		"cp_cards.inn_key IS m.inn_key) THEN m.kpp ELSE cp_cards.kpp END, "
		"okpo = CASE WHEN cp_cards.okpo = '' THEN m.okpo ELSE cp_cards.okpo END, "
		"reg_address = CASE WHEN cp_cards.reg_address = '' THEN m.reg_address "
		"ELSE cp_cards.reg_address END, "
		"legal_address = CASE WHEN cp_cards.legal_address = '' THEN m.legal_address "
		"ELSE cp_cards.legal_address END, "
		"run = ?3, updated = " STORE_NOW_SQL " "
		"FROM (SELECT inn, inn_key, kpp, okpo, reg_address, legal_address FROM cp_cards "
		"WHERE cid = ?2) AS m WHERE cp_cards.cid = ?1",
	/* a survivor that was a branch of the merged card heads itself: none */
	[SQ_RG_M_HEADS] = "UPDATE cp_cards SET head_id = CASE WHEN cid = ?1 THEN '' ELSE ?2 END, "
	                  "run = ?4, updated = " STORE_NOW_SQL
	                  " WHERE head_id = ?3 AND head_id <> ''",
	[SQ_RG_M_ALIASES] = "UPDATE cp_aliases SET card = ?1 WHERE card = ?2",
	[SQ_RG_M_ALIAS_NEW] = "INSERT INTO cp_aliases(id, card, run, merged) VALUES (?1, ?2, ?3, "
	                      STORE_NOW_SQL ")",
	[SQ_RG_M_CARD_DEL] = "DELETE FROM cp_cards WHERE cid = ?1",
	[SQ_RG_PERSONS_OF] = "SELECT id, name FROM cp_persons WHERE card = " CID_OF_SQL
	                     " ORDER BY id",
	[SQ_RG_CONTACTS_OF] = "SELECT person, kind, value, key FROM cp_contacts WHERE card = "
	                      CID_OF_SQL " ORDER BY person, seq",
	[SQ_RG_COUNT] = "SELECT (SELECT count(*) FROM cp_cards), "
	                "(SELECT count(*) FROM cp_cards WHERE head_id <> ''), "
	                "(SELECT count(*) FROM cp_persons), (SELECT count(*) FROM cp_contacts), "
	                "(SELECT count(*) FROM cp_aliases), "
	                "(SELECT count(*) FROM cp_reviews WHERE resolved = '')",
	[SQ_RG_REVIEW_GET] = "SELECT rid, order_number, email, inn, kpp, phone, candidates, "
	                     "booked, rule, reason, resolved FROM cp_reviews "
	                     "WHERE site = ?1 AND order_id = ?2",
	[SQ_RG_REVIEW_NEW] = "INSERT INTO cp_reviews(site, order_id, order_number, email, inn, "
	                     "kpp, phone, candidates, booked, rule, reason, run, created) "
	                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
	                     STORE_NOW_SQL ")",
	[SQ_RG_REVIEW_SET] = "UPDATE cp_reviews SET order_number = ?3, email = ?4, inn = ?5, "
	                     "kpp = ?6, phone = ?7, candidates = ?8, booked = ?9, rule = ?10, "
	                     "reason = ?11, run = ?12 WHERE rid = ?1",
	[SQ_RG_REVIEW_BY_ID] = "SELECT rid, site, order_id, order_number FROM cp_reviews "
	                       "WHERE order_id = ?2 AND (?1 IS NULL OR site = ?1) ORDER BY rid",
	[SQ_RG_REVIEW_BY_NUMBER] = "SELECT rid, site, order_id, order_number FROM cp_reviews "
	                           "WHERE order_number = ?2 AND order_number <> '' "
	                           "AND (?1 IS NULL OR site = ?1) ORDER BY rid",
	[SQ_RG_REVIEW_RESOLVE] = "UPDATE cp_reviews SET resolved_card = ?2, resolved = "
	                         STORE_NOW_SQL ", run = ?3 WHERE rid = ?1",
	/* on the (site, order_id) key */
	[SQ_RG_REVIEW_OPEN] = "SELECT 1 FROM cp_reviews WHERE site = ?1 AND order_id = ?2 AND "
	                      "resolved = ''",
	[SQ_RG_RESOLUTION] = "SELECT resolved_card FROM cp_reviews WHERE site = ?1 AND "
	                     "order_id = ?2 AND resolved <> ''",
	[SQ_RG_MATCHED_GET] = "SELECT revision FROM cp_matched WHERE site = ?1 AND order_id = ?2",
	[SQ_RG_MATCHED_SET] = "INSERT INTO cp_matched(site, order_id, revision, card, run, "
	                      "updated) VALUES (?1, ?2, ?3, ?4, ?5, " STORE_NOW_SQL ") "
	                      "ON CONFLICT(site, order_id) DO UPDATE SET "
	                      "revision = excluded.revision, card = excluded.card, "
	                      "run = excluded.run, updated = excluded.updated "
	                      "WHERE revision <> excluded.revision OR card <> excluded.card",
};

static sqlite3_stmt *
query(cml_store *s, enum store_q q, cml_status *st)
{
	return store_query(s, q, queries[q], st);
}

/* Resets a kept statement and clears its bindings. */
static void
done_with(sqlite3_stmt *q)
{
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
}

void
store_register_free(struct store_register *r)
{
	if (r == NULL)
		return;
	cml_buf_free(&r->cache_id);
	cml_buf_free(&r->cache_person);
	cml_buf_free(&r->resolution);
	cml_arena_destroy(&r->get_arena);
	cml_arena_destroy(&r->find_arena);
	cml_free(r->hits);
	cml_free(r);
}

static void
forget(struct store_register *r)
{
	r->cache_cid = 0;
	r->cache_person_cid = 0;
	cml_buf_clear(&r->cache_id);
	cml_buf_clear(&r->cache_person);
	r->no_aliases = 0;
}

void
store_register_run_end(struct store_register *r)
{
	if (r != NULL)
		forget(r);
}

static struct store_register *
reg_of(cml_store *s, cml_status *st)
{
	*st = CML_OK;
	if (s->reg == NULL) {
		s->reg = cml_calloc(1, sizeof(*s->reg));
		if (s->reg == NULL) {
			*st = store_fail(s, CML_ERR_NOMEM, "out of memory");
			return NULL;
		}
		cml_arena_init(&s->reg->get_arena);
		cml_arena_init(&s->reg->find_arena);
	}
	return s->reg;
}

static bool
has_text(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static const char *
or_empty(const char *s)
{
	return s != NULL ? s : "";
}

static const char *
col_text(sqlite3_stmt *q, int col)
{
	const unsigned char *t = sqlite3_column_text(q, col);

	return t != NULL ? (const char *)t : "";
}

/* ---- kinds ---- */

const char *
cml_cp_kind_name(cml_cp_kind k)
{
	switch (k) {
	case CML_CP_LEGAL:
		return "legal";
	case CML_CP_ENTREPRENEUR:
		return "entrepreneur";
	case CML_CP_PERSON:
		return "person";
	case CML_CP_UNKNOWN:
		break;
	}
	return "";
}

bool
cml_cp_kind_parse(const char *name, cml_cp_kind *k)
{
	static const cml_cp_kind all[] = { CML_CP_UNKNOWN, CML_CP_LEGAL, CML_CP_ENTREPRENEUR,
		                           CML_CP_PERSON };

	if (name == NULL)
		return false;
	for (size_t i = 0; i < CML_ARRAY_LEN(all); i++) {
		if (strcmp(name, cml_cp_kind_name(all[i])) == 0) {
			*k = all[i];
			return true;
		}
	}
	return false;
}

/*
 * Bitrix's rule (cml/register.h). A valid 12-digit INN is a person's or
 * an entrepreneur's, never a legal entity's: "ОфициальноеНаименование
 * with an INN" is read as with an INN that is not one, so an
 * entrepreneur that writes an official name stays an entrepreneur.
 */
cml_cp_kind
cml_cp_kind_of(const cml_counterparty *c)
{
	char digits[13];
	cml_inn_kind ik = CML_INN_LEGAL;
	bool valid = cml_inn_check(c->inn, digits, &ik, NULL) == CML_OK;
	bool official = has_text(c->official_name);
	const char *full = has_text(c->full_name) ? c->full_name : or_empty(c->name);

	if (valid && ik == CML_INN_LEGAL)
		return CML_CP_LEGAL;
	if (valid)
		return official || strncmp(full, "ИП ", strlen("ИП ")) == 0 ? CML_CP_ENTREPRENEUR
		                                                            : CML_CP_PERSON;
	/* with an INN that is none, a KPP, or no INN at all: the official
	 * name decides */
	return official ? CML_CP_LEGAL : CML_CP_PERSON;
}

/* ---- finding a card's row ---- */

/* The row of the card named by id or an alias of it: CML_OK with *cid,
 * CML_END when there is none. */
static cml_status
card_cid(cml_store *s, struct store_register *r, const char *id, int64_t *cid)
{
	cml_status st;
	size_t n = strlen(id);

	if (r->cache_cid != 0 && r->cache_id.len == n && memcmp(r->cache_id.data, id, n) == 0) {
		*cid = r->cache_cid;
		return CML_OK;
	}
	sqlite3_stmt *q = query(s, SQ_RG_CID, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_text(q, 1, id, (int)n, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
		*cid = sqlite3_column_int64(q, 0);
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		st = CML_END;
	else
		st = store_db_fail(s, "cannot read the register");
	done_with(q);
	if (st == CML_OK) {
		cml_buf_clear(&r->cache_id);
		if (cml_buf_append(&r->cache_id, id, n))
			r->cache_cid = *cid;
		else
			r->cache_cid = 0;
	}
	return st;
}

static void
remember(struct store_register *r, const char *id, int64_t cid)
{
	cml_buf_clear(&r->cache_id);
	r->cache_cid = cml_buf_append(&r->cache_id, id, strlen(id)) ? cid : 0;
}

/* The card a write names, for its message. */
static cml_status
need_card(cml_store *s, struct store_register *r, const char *card_id, const char *what,
          int64_t *cid)
{
	if (!has_text(card_id))
		return store_fail(s, CML_ERR_VALUE, "%s: no card Ид", what);
	cml_status st = card_cid(s, r, card_id, cid);
	if (st == CML_END)
		store_fail(s, CML_END, "%s: no card %s in the register", what, card_id);
	return st;
}

/* ---- cards ---- */

static int
kind_int(cml_cp_kind k)
{
	return k >= CML_CP_UNKNOWN && k <= CML_CP_PERSON ? (int)k : 0;
}

static void
bind_card(sqlite3_stmt *q, int first, const cml_cp_card *c, const char *origin)
{
	sqlite3_bind_text(q, first, or_empty(c->name), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, first + 1, or_empty(c->full_name), -1, SQLITE_STATIC);
	sqlite3_bind_int(q, first + 2, kind_int(c->kind));
	sqlite3_bind_text(q, first + 3, or_empty(c->inn), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, first + 4, or_empty(c->kpp), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, first + 5, or_empty(c->okpo), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, first + 6, or_empty(c->head_id), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, first + 7, or_empty(c->reg_address), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, first + 8, or_empty(c->legal_address), -1, SQLITE_STATIC);
	sqlite3_bind_int(q, first + 9, c->deleted ? 1 : 0);
	sqlite3_bind_int(q, first + 10, c->marketplace ? 1 : 0);
	sqlite3_bind_text(q, first + 11, origin, -1, SQLITE_STATIC);
}

/* Whether the row (CARD_COLS from column 1) holds card c. */
static bool
card_same(sqlite3_stmt *q, const cml_cp_card *c, const char *origin)
{
	const char *text[] = { or_empty(c->name),    or_empty(c->full_name),
		               NULL,                 or_empty(c->inn),
		               or_empty(c->kpp),     or_empty(c->okpo),
		               or_empty(c->head_id), or_empty(c->reg_address),
		               or_empty(c->legal_address) };

	for (int i = 0; i < (int)CML_ARRAY_LEN(text); i++)
		if (text[i] != NULL && strcmp(col_text(q, 2 + i), text[i]) != 0)
			return false;
	return sqlite3_column_int(q, 4) == kind_int(c->kind) &&
	       sqlite3_column_int(q, 11) == (c->deleted ? 1 : 0) &&
	       sqlite3_column_int(q, 12) == (c->marketplace ? 1 : 0) &&
	       strcmp(col_text(q, 13), origin) == 0;
}

static void
bind_inn_key(sqlite3_stmt *q, int col, const char *inn, char digits[13])
{
	if (cml_inn_check(inn, digits, NULL, NULL) == CML_OK)
		sqlite3_bind_text(q, col, digits, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, col);
}

/* CML_ERR_VALUE when id is an alias. While the register has no alias at
 * all (a load of a million cards into a fresh one), that is asked once
 * per run, not once per card. */
static cml_status
alias_check(cml_store *s, struct store_register *r, const char *id)
{
	cml_status st;

	for (int pass = 0; r->no_aliases <= 0 && pass < 2; pass++) {
		bool any = r->no_aliases == 0; /* unknown: is there any alias? */
		sqlite3_stmt *q = query(s, SQ_RG_ALIAS_HAS, &st);

		if (q == NULL)
			return st;
		if (!any)
			sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
		int rc = sqlite3_step(q);
		done_with(q);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_db_fail(s, "cannot read the register");
		if (any)
			r->no_aliases = rc == SQLITE_DONE ? 1 : -1;
		else if (rc == SQLITE_ROW)
			return store_fail(s, CML_ERR_VALUE,
			                  "storing a counterparty: %s was merged into another "
			                  "card; it names that card now",
			                  id);
		else
			break;
	}
	return CML_OK;
}

cml_status
cml_register_put(cml_store *s, const cml_cp_card *card, cml_register_change *change)
{
	cml_register_change none;
	struct store_register *r;
	const char *origin;
	char digits[13];
	int64_t cid = 0;
	bool same = false;
	cml_status st;

	if (change == NULL)
		change = &none;
	*change = CML_REGISTER_UNCHANGED;
	if ((st = store_need_run(s, "storing a counterparty")) != CML_OK)
		return st;
	if (card == NULL || !has_text(card->id))
		return store_fail(s, CML_ERR_VALUE, "storing a counterparty: a card without Ид");
	if ((r = reg_of(s, &st)) == NULL)
		return st;
	origin = has_text(card->origin) ? card->origin : "register";

	sqlite3_stmt *q = query(s, SQ_RG_CARD_ROW, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_text(q, 1, card->id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		cid = sqlite3_column_int64(q, 0);
		same = card_same(q, card, origin);
	} else if (rc != SQLITE_DONE) {
		st = store_db_fail(s, "cannot read the register");
	}
	done_with(q);
	if (st != CML_OK)
		return st;
	if (cid != 0) {
		remember(r, card->id, cid);
		if (same)
			return CML_OK;
		if ((q = query(s, SQ_RG_CARD_SET, &st)) == NULL)
			return st;
		sqlite3_bind_int64(q, 1, cid);
		bind_card(q, 2, card, origin);
		bind_inn_key(q, 14, card->inn, digits);
		sqlite3_bind_int64(q, 15, s->run_id);
		if ((st = store_step_done(s, q, "cannot store a counterparty")) == CML_OK)
			*change = CML_REGISTER_CHANGED;
		return st;
	}

	/* a new Ид, unless it is one merged away */
	if ((st = alias_check(s, r, card->id)) != CML_OK)
		return st;
	if ((q = query(s, SQ_RG_CARD_NEW, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, card->id, -1, SQLITE_STATIC);
	bind_card(q, 2, card, origin);
	bind_inn_key(q, 14, card->inn, digits);
	sqlite3_bind_int64(q, 15, s->run_id);
	if ((st = store_step_done(s, q, "cannot store a counterparty")) != CML_OK)
		return st;
	remember(r, card->id, sqlite3_last_insert_rowid(s->db));
	*change = CML_REGISTER_NEW;
	return CML_OK;
}

cml_status
cml_register_fill_inn(cml_store *s, const char *card_id, const char *inn, const char *kpp,
                      bool *filled)
{
	struct store_register *r;
	char digits[13];
	const char *why = "empty";
	int64_t cid;
	bool none;
	cml_status st;

	if (filled == NULL)
		filled = &none;
	*filled = false;
	if ((st = store_need_run(s, "filling a card's INN")) != CML_OK)
		return st;
	if ((r = reg_of(s, &st)) == NULL)
		return st;
	if (cml_inn_check(inn, digits, NULL, &why) != CML_OK)
		return store_fail(s, CML_ERR_VALUE, "filling a card's INN: \"%s\" is no INN (%s)",
		                  or_empty(inn), why);
	if ((st = need_card(s, r, card_id, "filling a card's INN", &cid)) != CML_OK)
		return st;
	sqlite3_stmt *q = query(s, SQ_RG_FILL_INN, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_int64(q, 1, cid);
	sqlite3_bind_text(q, 2, digits, -1, SQLITE_STATIC);
	if (kpp != NULL)
		sqlite3_bind_text(q, 3, kpp, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, s->run_id);
	if ((st = store_step_done(s, q, "cannot fill a card's INN")) == CML_OK)
		*filled = sqlite3_changes(s->db) > 0;
	return st;
}

cml_status
cml_register_add_person(cml_store *s, const char *card_id, const char *person_id,
                        const char *name, bool *added)
{
	struct store_register *r;
	int64_t cid;
	bool none;
	cml_status st;

	if (added == NULL)
		added = &none;
	*added = false;
	if ((st = store_need_run(s, "adding a contact person")) != CML_OK)
		return st;
	if ((r = reg_of(s, &st)) == NULL)
		return st;
	if (!has_text(person_id))
		return store_fail(s, CML_ERR_VALUE, "adding a contact person to %s: no Ид",
		                  or_empty(card_id));
	if ((st = need_card(s, r, card_id, "adding a contact person", &cid)) != CML_OK)
		return st;
	sqlite3_stmt *q = query(s, SQ_RG_PERSON_ADD, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_int64(q, 1, cid);
	sqlite3_bind_text(q, 2, person_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, or_empty(name), -1, SQLITE_STATIC);
	if ((st = store_step_done(s, q, "cannot add a contact person")) != CML_OK)
		return st;
	*added = sqlite3_changes(s->db) > 0;
	r->cache_person_cid = 0;
	cml_buf_clear(&r->cache_person);
	if (cml_buf_append(&r->cache_person, person_id, strlen(person_id)))
		r->cache_person_cid = cid;
	return CML_OK;
}

/* Whether card cid has the contact person person_id. */
static cml_status
person_has(cml_store *s, struct store_register *r, int64_t cid, const char *person_id)
{
	size_t n = strlen(person_id);
	cml_status st;

	if (r->cache_person_cid == cid && r->cache_person.len == n &&
	    memcmp(r->cache_person.data, person_id, n) == 0)
		return CML_OK;
	sqlite3_stmt *q = query(s, SQ_RG_PERSON_HAS, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_int64(q, 1, cid);
	sqlite3_bind_text(q, 2, person_id, (int)n, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_DONE)
		st = CML_END;
	else if (rc != SQLITE_ROW)
		st = store_db_fail(s, "cannot read the register");
	done_with(q);
	if (st == CML_OK) {
		cml_buf_clear(&r->cache_person);
		r->cache_person_cid = cml_buf_append(&r->cache_person, person_id, n) ? cid : 0;
	}
	return st;
}

cml_status
cml_register_add_contact(cml_store *s, const char *card_id, const char *person_id,
                         cml_contact_kind kind, const char *value, bool *added)
{
	struct store_register *r;
	char key[CML_EMAIL_MAX + 1] = "";
	int64_t cid;
	bool none;
	cml_status st;

	if (added == NULL)
		added = &none;
	*added = false;
	if ((st = store_need_run(s, "adding a contact")) != CML_OK)
		return st;
	if ((r = reg_of(s, &st)) == NULL)
		return st;
	if ((st = need_card(s, r, card_id, "adding a contact", &cid)) != CML_OK)
		return st;
	person_id = or_empty(person_id);
	if (person_id[0] != '\0' && (st = person_has(s, r, cid, person_id)) != CML_OK) {
		if (st == CML_END)
			store_fail(s, CML_END, "adding a contact: card %s has no contact person %s",
			           card_id, person_id);
		return st;
	}
	if (value == NULL)
		return CML_OK;
	size_t n = strlen(value);
	while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
		n--;
	if (n == 0)
		return CML_OK; /* nothing to add */
	if (kind == CML_CONTACT_EMAIL) {
		cml_email e;

		if (cml_email_norm(value, &e, NULL) == CML_OK)
			memcpy(key, e.key, strlen(e.key) + 1);
	} else if (kind == CML_CONTACT_PHONE) {
		char p[13];

		if (cml_phone_key(value, p, NULL) == CML_OK)
			memcpy(key, p, strlen(p) + 1);
	} else {
		kind = CML_CONTACT_OTHER;
	}
	sqlite3_stmt *q = query(s, SQ_RG_CONTACT_ADD, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_int64(q, 1, cid);
	sqlite3_bind_text(q, 2, person_id, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 3, (int)kind);
	sqlite3_bind_text(q, 4, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, key, -1, SQLITE_STATIC);
	if ((st = store_step_done(s, q, "cannot add a contact")) == CML_OK)
		*added = sqlite3_changes(s->db) > 0;
	return st;
}

/* The row (CARD_COLS from column first) into out, its strings in a. */
static cml_status
card_row(cml_store *s, sqlite3_stmt *q, int first, cml_arena *a, cml_cp_card *out)
{
	const char **text[] = { &out->id,      &out->name,        &out->full_name,
		                NULL,          &out->inn,         &out->kpp,
		                &out->okpo,    &out->head_id,     &out->reg_address,
		                &out->legal_address };

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < (int)CML_ARRAY_LEN(text); i++) {
		if (text[i] == NULL)
			continue;
		if (a == NULL) {
			*text[i] = col_text(q, first + i);
		} else {
			*text[i] = cml_arena_strndup(a, col_text(q, first + i),
			                             (size_t)sqlite3_column_bytes(q, first + i));
			if (*text[i] == NULL)
				return store_fail(s, CML_ERR_NOMEM, "out of memory");
		}
	}
	int k = sqlite3_column_int(q, first + 3);
	out->kind = k >= 0 && k <= CML_CP_PERSON ? (cml_cp_kind)k : CML_CP_UNKNOWN;
	out->deleted = sqlite3_column_int(q, first + 10) != 0;
	out->marketplace = sqlite3_column_int(q, first + 11) != 0;
	if (a == NULL) {
		out->origin = col_text(q, first + 12);
	} else {
		out->origin = cml_arena_strdup(a, col_text(q, first + 12));
		if (out->origin == NULL)
			return store_fail(s, CML_ERR_NOMEM, "out of memory");
	}
	return CML_OK;
}

cml_status
cml_register_get(cml_store *s, const char *id, cml_cp_card *out)
{
	struct store_register *r;
	cml_status st;

	memset(out, 0, sizeof(*out));
	if (id == NULL)
		return store_fail(s, CML_ERR_USAGE, "reading a counterparty: no Ид");
	if ((r = reg_of(s, &st)) == NULL)
		return st;
	sqlite3_stmt *q = query(s, SQ_RG_GET, &st);
	if (q == NULL)
		return st;
	cml_arena_reset(&r->get_arena);
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		st = card_row(s, q, 0, &r->get_arena, out);
	else if (rc == SQLITE_DONE)
		st = CML_END;
	else
		st = store_db_fail(s, "cannot read the register");
	done_with(q);
	if (st != CML_OK)
		memset(out, 0, sizeof(*out));
	return st;
}

static int
hit_cmp(const void *a, const void *b)
{
	const cml_register_hit *x = a, *y = b;
	int c = strcmp(x->card_id, y->card_id);

	return c != 0 ? c : strcmp(x->person_id, y->person_id);
}

cml_status
cml_register_find(cml_store *s, cml_register_key key, const char *value,
                  const cml_register_hit **hits, size_t *n)
{
	struct store_register *r;
	cml_status st;
	sqlite3_stmt *q;
	size_t k = 0;

	*hits = NULL;
	*n = 0;
	if ((r = reg_of(s, &st)) == NULL)
		return st;
	if (!has_text(value))
		return CML_OK;
	switch (key) {
	case CML_REGKEY_EMAIL:
	case CML_REGKEY_PHONE:
		if ((q = query(s, SQ_RG_FIND_CONTACT, &st)) == NULL)
			return st;
		sqlite3_bind_int(q, 1, key == CML_REGKEY_EMAIL ? CML_CONTACT_EMAIL
		                                               : CML_CONTACT_PHONE);
		sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
		break;
	case CML_REGKEY_INN:
		if ((q = query(s, SQ_RG_FIND_INN, &st)) == NULL)
			return st;
		sqlite3_bind_text(q, 1, value, -1, SQLITE_STATIC);
		break;
	default:
		return store_fail(s, CML_ERR_USAGE, "finding a counterparty: unknown key %d",
		                  (int)key);
	}
	cml_arena_reset(&r->find_arena);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (k == r->hits_cap) {
			size_t cap = r->hits_cap ? r->hits_cap * 2 : 8;
			cml_register_hit *h = cml_realloc(r->hits, cap * sizeof(*h));

			if (h == NULL) {
				st = store_fail(s, CML_ERR_NOMEM, "out of memory");
				break;
			}
			r->hits = h;
			r->hits_cap = cap;
		}
		cml_register_hit *h = &r->hits[k];
		const char **text[] = { &h->card_id, &h->person_id, &h->person_name,
			                &h->inn,     &h->kpp,       &h->head_id };
		bool ok = true;

		for (int i = 0; i < (int)CML_ARRAY_LEN(text) && ok; i++) {
			*text[i] = cml_arena_strndup(&r->find_arena, col_text(q, i),
			                             (size_t)sqlite3_column_bytes(q, i));
			ok = *text[i] != NULL;
		}
		if (!ok) {
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
			break;
		}
		int kind = sqlite3_column_int(q, 6);
		h->kind = kind >= 0 && kind <= CML_CP_PERSON ? (cml_cp_kind)kind : CML_CP_UNKNOWN;
		h->marketplace = sqlite3_column_int(q, 7) != 0;
		k++;
	}
	if (st == CML_OK && rc != SQLITE_DONE)
		st = store_db_fail(s, "cannot read the register");
	done_with(q);
	if (st != CML_OK)
		return st;
	if (k > 1 && key != CML_REGKEY_INN) {
		/* by card, the card's own contact ('' sorts first) before its
		 * persons': one hit per card, the first */
		qsort(r->hits, k, sizeof(*r->hits), hit_cmp);
		size_t w = 1;
		for (size_t i = 1; i < k; i++)
			if (strcmp(r->hits[i].card_id, r->hits[w - 1].card_id) != 0)
				r->hits[w++] = r->hits[i];
		k = w;
	}
	*hits = k > 0 ? r->hits : NULL;
	*n = k;
	return CML_OK;
}

/* ---- merging ---- */

/* Runs kept statement slot with integers a (?1) and b (?2, when not 0). */
static cml_status
run_ii(cml_store *s, enum store_q slot, int64_t a, int64_t b)
{
	cml_status st;
	sqlite3_stmt *q = query(s, slot, &st);

	if (q == NULL)
		return st;
	sqlite3_bind_int64(q, 1, a);
	if (b != 0)
		sqlite3_bind_int64(q, 2, b);
	return store_step_done(s, q, "cannot merge cards");
}

/* The steps of a merge of card mc (Ид mid) into sc (Ид sid). */
static cml_status
merge_rows(cml_store *s, int64_t sc, const char *sid, int64_t mc, const char *mid)
{
	cml_status st;
	sqlite3_stmt *q;

	if ((st = run_ii(s, SQ_RG_M_PERSONS_COPY, sc, mc)) != CML_OK ||
	    (st = run_ii(s, SQ_RG_M_PERSONS_DEL, mc, 0)) != CML_OK ||
	    (st = run_ii(s, SQ_RG_M_CONTACTS_COPY, sc, mc)) != CML_OK ||
	    (st = run_ii(s, SQ_RG_M_CONTACTS_DEL, mc, 0)) != CML_OK)
		return st;
	if ((q = query(s, SQ_RG_M_FILL, &st)) == NULL)
		return st;
	sqlite3_bind_int64(q, 1, sc);
	sqlite3_bind_int64(q, 2, mc);
	sqlite3_bind_int64(q, 3, s->run_id);
	if ((st = store_step_done(s, q, "cannot merge cards")) != CML_OK)
		return st;
	if ((q = query(s, SQ_RG_M_HEADS, &st)) == NULL)
		return st;
	sqlite3_bind_int64(q, 1, sc);
	sqlite3_bind_text(q, 2, sid, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, mid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, s->run_id);
	if ((st = store_step_done(s, q, "cannot merge cards")) != CML_OK)
		return st;
	if ((st = run_ii(s, SQ_RG_M_ALIASES, sc, mc)) != CML_OK ||
	    (st = run_ii(s, SQ_RG_M_CARD_DEL, mc, 0)) != CML_OK)
		return st;
	if ((q = query(s, SQ_RG_M_ALIAS_NEW, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, mid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, sc);
	sqlite3_bind_int64(q, 3, s->run_id);
	return store_step_done(s, q, "cannot merge cards");
}

/* The own Ид of card cid, into buf. */
static cml_status
card_id_of(cml_store *s, int64_t cid, cml_buf *buf)
{
	sqlite3_stmt *q = NULL;
	cml_status st = CML_OK;

	if (sqlite3_prepare_v2(s->db, "SELECT id FROM cp_cards WHERE cid = ?1", -1, &q, NULL) !=
	    SQLITE_OK)
		return store_db_fail(s, "cannot read the register");
	sqlite3_bind_int64(q, 1, cid);
	cml_buf_clear(buf);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *id = col_text(q, 0);
		if (!cml_buf_append(buf, id, strlen(id)))
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
	} else {
		st = store_db_fail(s, "cannot read the register");
	}
	sqlite3_finalize(q);
	return st;
}

cml_status
cml_register_merge(cml_store *s, const char *survivor, const char *merged)
{
	struct store_register *r;
	int64_t sc, mc;
	cml_buf sid = { 0 }, mid = { 0 };
	cml_status st;

	if ((st = store_need_run(s, "merging cards")) != CML_OK)
		return st;
	if ((r = reg_of(s, &st)) == NULL)
		return st;
	if ((st = need_card(s, r, survivor, "merging cards", &sc)) != CML_OK)
		return st;
	if ((st = need_card(s, r, merged, "merging cards", &mc)) != CML_OK)
		return st;
	if (sc == mc)
		return store_fail(s, CML_ERR_VALUE, "merging cards: %s and %s are the same card",
		                  survivor, merged);
	if ((st = card_id_of(s, sc, &sid)) != CML_OK || (st = card_id_of(s, mc, &mid)) != CML_OK)
		goto out;
	forget(r);
	/* several statements: all or none of them */
	if ((st = store_exec(s, "SAVEPOINT register_merge", "cannot merge cards")) != CML_OK)
		goto out;
	st = merge_rows(s, sc, sid.data, mc, mid.data);
	if (st == CML_OK) {
		st = store_exec(s, "RELEASE register_merge", "cannot merge cards");
	} else if (!sqlite3_get_autocommit(s->db)) {
		(void)sqlite3_exec(s->db, "ROLLBACK TO register_merge", NULL, NULL, NULL);
		(void)sqlite3_exec(s->db, "RELEASE register_merge", NULL, NULL, NULL);
	}
out:
	cml_buf_free(&sid);
	cml_buf_free(&mid);
	return st;
}

/* ---- cursors ---- */

static cml_status
cursor_new(cml_store *s, enum cursor_kind kind, const char *sql, enum store_q slot,
           bool *busy, void **cursor, struct register_cursor **out)
{
	struct register_cursor *c = cml_calloc(1, sizeof(*c));
	cml_status st = CML_OK;

	*out = NULL;
	if (c == NULL)
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	c->kind = kind;
	if (busy != NULL && !*busy) {
		/* the common case: one card's persons or contacts at a time */
		c->stmt = query(s, slot, &st);
		c->kept = c->stmt != NULL;
		if (c->kept)
			*busy = true;
	} else if (sqlite3_prepare_v2(s->db, sql, -1, &c->stmt, NULL) != SQLITE_OK) {
		st = store_db_fail(s, "cannot read the register");
	}
	if (c->stmt == NULL) {
		cml_free(c);
		return st != CML_OK ? st : store_fail(s, CML_ERR_IO, "cannot read the register");
	}
	*cursor = c;
	*out = c;
	return CML_OK;
}

void
cml_register_end(cml_store *s, void **cursor)
{
	if (cursor == NULL || *cursor == NULL)
		return;
	struct register_cursor *c = *cursor;
	if (c->kept) {
		done_with(c->stmt);
		if (s != NULL && s->reg != NULL) {
			if (c->kind == CUR_PERSONS)
				s->reg->persons_busy = false;
			else if (c->kind == CUR_CONTACTS)
				s->reg->contacts_busy = false;
		}
	} else {
		sqlite3_finalize(c->stmt);
	}
	cml_free(c->card_id);
	cml_free(c);
	*cursor = NULL;
}

cml_status
cml_register_next(cml_store *s, void **cursor, cml_cp_card *out)
{
	struct register_cursor *c = *cursor;
	cml_status st;

	memset(out, 0, sizeof(*out));
	if (c == NULL &&
	    (st = cursor_new(s, CUR_CARDS, "SELECT " CARD_COLS " FROM cp_cards ORDER BY id", 0,
	                     NULL, cursor, &c)) != CML_OK)
		return st;
	if ((st = store_cursor_step(s, c->stmt, &c->done, "cannot read the register")) != CML_OK)
		return st;
	return card_row(s, c->stmt, 0, NULL, out);
}

/* A persons or contacts cursor of one card. */
static cml_status
card_cursor(cml_store *s, enum cursor_kind kind, const char *card_id, void **cursor,
            struct register_cursor **out)
{
	struct store_register *r;
	enum store_q slot = kind == CUR_PERSONS ? SQ_RG_PERSONS_OF : SQ_RG_CONTACTS_OF;
	cml_status st;

	if (card_id == NULL)
		return store_fail(s, CML_ERR_USAGE, "listing a card's persons or contacts: no Ид");
	if ((r = reg_of(s, &st)) == NULL)
		return st;
	st = cursor_new(s, kind, queries[slot], slot,
	                kind == CUR_PERSONS ? &r->persons_busy : &r->contacts_busy, cursor, out);
	if (st != CML_OK)
		return st;
	(*out)->card_id = cml_strdup(card_id);
	if ((*out)->card_id == NULL) {
		cml_register_end(s, cursor);
		return store_fail(s, CML_ERR_NOMEM, "out of memory");
	}
	sqlite3_bind_text((*out)->stmt, 1, (*out)->card_id, -1, SQLITE_STATIC);
	return CML_OK;
}

cml_status
cml_register_persons(cml_store *s, const char *card_id, void **cursor, cml_cp_person *out)
{
	struct register_cursor *c = *cursor;
	cml_status st;

	memset(out, 0, sizeof(*out));
	if (c == NULL && (st = card_cursor(s, CUR_PERSONS, card_id, cursor, &c)) != CML_OK)
		return st;
	if ((st = store_cursor_step(s, c->stmt, &c->done, "cannot read the register")) != CML_OK)
		return st;
	out->card_id = c->card_id;
	out->id = col_text(c->stmt, 0);
	out->name = col_text(c->stmt, 1);
	return CML_OK;
}

cml_status
cml_register_contacts(cml_store *s, const char *card_id, void **cursor, cml_cp_contact *out)
{
	struct register_cursor *c = *cursor;
	cml_status st;

	memset(out, 0, sizeof(*out));
	if (c == NULL && (st = card_cursor(s, CUR_CONTACTS, card_id, cursor, &c)) != CML_OK)
		return st;
	if ((st = store_cursor_step(s, c->stmt, &c->done, "cannot read the register")) != CML_OK)
		return st;
	int k = sqlite3_column_int(c->stmt, 1);
	out->card_id = c->card_id;
	out->person_id = col_text(c->stmt, 0);
	out->kind = k == CML_CONTACT_EMAIL || k == CML_CONTACT_PHONE ? (cml_contact_kind)k
	                                                            : CML_CONTACT_OTHER;
	out->value = col_text(c->stmt, 2);
	out->key = col_text(c->stmt, 3);
	return CML_OK;
}

cml_status
cml_register_count(cml_store *s, cml_register_counts *out)
{
	cml_status st;
	sqlite3_stmt *q = query(s, SQ_RG_COUNT, &st);

	memset(out, 0, sizeof(*out));
	if (q == NULL)
		return st;
	if (sqlite3_step(q) == SQLITE_ROW) {
		out->cards = sqlite3_column_int64(q, 0);
		out->branches = sqlite3_column_int64(q, 1);
		out->persons = sqlite3_column_int64(q, 2);
		out->contacts = sqlite3_column_int64(q, 3);
		out->aliases = sqlite3_column_int64(q, 4);
		out->reviews_open = sqlite3_column_int64(q, 5);
	} else {
		st = store_db_fail(s, "cannot count the register");
	}
	done_with(q);
	return st;
}

/* ---- the review queue ---- */

cml_status
cml_register_review_put(cml_store *s, const cml_review *rv, bool *added)
{
	const char *text[11];
	int64_t rid = 0;
	bool none, same = false, settled = false;
	cml_status st;

	if (added == NULL)
		added = &none;
	*added = false;
	if ((st = store_need_run(s, "storing a review")) != CML_OK)
		return st;
	if (rv == NULL || !has_text(rv->order_id))
		return store_fail(s, CML_ERR_VALUE, "storing a review: an order without Ид");
	/* the columns after (site, order_id), in the statements' order */
	text[0] = or_empty(rv->order_number);
	text[1] = or_empty(rv->email);
	text[2] = or_empty(rv->inn);
	text[3] = or_empty(rv->kpp);
	text[4] = or_empty(rv->phone);
	text[5] = or_empty(rv->candidates);
	text[6] = or_empty(rv->booked);
	text[7] = or_empty(rv->rule);
	text[8] = or_empty(rv->reason);

	sqlite3_stmt *q = query(s, SQ_RG_REVIEW_GET, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_text(q, 1, or_empty(rv->site), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, rv->order_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		rid = sqlite3_column_int64(q, 0);
		same = true;
		for (int i = 0; i < 9 && same; i++)
			same = strcmp(col_text(q, 1 + i), text[i]) == 0;
		settled = col_text(q, 10)[0] != '\0';
	} else if (rc != SQLITE_DONE) {
		st = store_db_fail(s, "cannot read the review queue");
	}
	done_with(q);
	if (st != CML_OK || same || settled)
		return st;
	if ((q = query(s, rid == 0 ? SQ_RG_REVIEW_NEW : SQ_RG_REVIEW_SET, &st)) == NULL)
		return st;
	if (rid == 0) {
		sqlite3_bind_text(q, 1, or_empty(rv->site), -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, rv->order_id, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_int64(q, 1, rid);
	}
	for (int i = 0; i < 9; i++)
		sqlite3_bind_text(q, 3 + i, text[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 12, s->run_id);
	if ((st = store_step_done(s, q, "cannot store a review")) == CML_OK)
		*added = rid == 0;
	return st;
}

cml_status
cml_register_review_next(cml_store *s, bool open_only, void **cursor, cml_review *out)
{
	struct register_cursor *c = *cursor;
	cml_status st;

	memset(out, 0, sizeof(*out));
	if (c == NULL) {
		const char *sql = open_only ? "SELECT " REVIEW_COLS " FROM cp_reviews "
		                              "WHERE resolved = '' ORDER BY rid"
		                            : "SELECT " REVIEW_COLS " FROM cp_reviews ORDER BY rid";
		if ((st = cursor_new(s, CUR_REVIEWS, sql, 0, NULL, cursor, &c)) != CML_OK)
			return st;
	}
	if ((st = store_cursor_step(s, c->stmt, &c->done, "cannot read the register")) != CML_OK)
		return st;
	const char **text[] = { &out->site,       &out->order_id, &out->order_number,
		                &out->email,      &out->inn,      &out->kpp,
		                &out->phone,      &out->candidates, &out->booked,
		                &out->rule,       &out->reason,   &out->created,
		                &out->resolved_card, &out->resolved };
	out->id = sqlite3_column_int64(c->stmt, 0);
	for (int i = 0; i < (int)CML_ARRAY_LEN(text); i++)
		*text[i] = col_text(c->stmt, 1 + i);
	return CML_OK;
}

/* The reviews naming order by Ид (slot SQ_RG_REVIEW_BY_ID) or Номер:
 * *n of them (counted to 3), the first in *rid, a list in names. */
static cml_status
reviews_naming(cml_store *s, enum store_q slot, const char *site, const char *order,
               int64_t *rid, int *n, cml_buf *names)
{
	cml_status st;
	sqlite3_stmt *q = query(s, slot, &st);

	*n = 0;
	if (q == NULL)
		return st;
	if (has_text(site))
		sqlite3_bind_text(q, 1, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, order, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < 3) {
		if (*n == 0)
			*rid = sqlite3_column_int64(q, 0);
		if (!cml_buf_appendf(names, "%sorder %s of site \"%s\" (Номер %s)",
		                     *n > 0 ? ", " : "", col_text(q, 2), col_text(q, 1),
		                     col_text(q, 3)[0] != '\0' ? col_text(q, 3) : "none")) {
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
			break;
		}
		(*n)++;
	}
	if (st == CML_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		st = store_db_fail(s, "cannot read the review queue");
	done_with(q);
	return st;
}

cml_status
cml_register_resolve(cml_store *s, const char *site, const char *order, const char *card_id)
{
	cml_buf names = { 0 };
	cml_cp_card card;
	int64_t rid = 0;
	int n = 0;
	cml_status st;

	if ((st = store_need_run(s, "settling a review")) != CML_OK)
		return st;
	if (!has_text(order))
		return store_fail(s, CML_ERR_VALUE, "settling a review: no order named");
	st = reviews_naming(s, SQ_RG_REVIEW_BY_ID, site, order, &rid, &n, &names);
	if (st == CML_OK && n == 0)
		st = reviews_naming(s, SQ_RG_REVIEW_BY_NUMBER, site, order, &rid, &n, &names);
	if (st != CML_OK)
		goto out;
	if (n == 0) {
		st = store_fail(s, CML_END, "no review names order %s", order);
		goto out;
	}
	if (n > 1) {
		st = store_fail(s, CML_ERR_VALUE,
		                "order %s is named by more than one review: %s%s; name the site",
		                order, names.data, n > 2 ? ", ..." : "");
		goto out;
	}
	if (!has_text(card_id) || (st = cml_register_get(s, card_id, &card)) == CML_END) {
		st = store_fail(s, CML_ERR_VALUE, "settling order %s: no card %s in the register",
		                order, or_empty(card_id));
		goto out;
	}
	if (st != CML_OK)
		goto out;
	sqlite3_stmt *q = query(s, SQ_RG_REVIEW_RESOLVE, &st);
	if (q != NULL) {
		sqlite3_bind_int64(q, 1, rid);
		sqlite3_bind_text(q, 2, card.id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, s->run_id);
		st = store_step_done(s, q, "cannot settle a review");
	}
out:
	cml_buf_free(&names);
	return st;
}

cml_status
cml_register_resolution(cml_store *s, const char *site, const char *order_id,
                        const char **card_id)
{
	struct store_register *r;
	cml_status st;

	*card_id = NULL;
	if (order_id == NULL)
		return store_fail(s, CML_ERR_USAGE, "reading a review: no order Ид");
	if ((r = reg_of(s, &st)) == NULL)
		return st;
	sqlite3_stmt *q = query(s, SQ_RG_RESOLUTION, &st);
	if (q == NULL)
		return st;
	sqlite3_bind_text(q, 1, or_empty(site), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, order_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *c = col_text(q, 0);

		cml_buf_clear(&r->resolution);
		if (!cml_buf_append(&r->resolution, c, strlen(c)))
			st = store_fail(s, CML_ERR_NOMEM, "out of memory");
	} else if (rc == SQLITE_DONE) {
		st = CML_END;
	} else {
		st = store_db_fail(s, "cannot read the review queue");
	}
	done_with(q);
	if (st == CML_OK)
		*card_id = r->resolution.len > 0 ? r->resolution.data : "";
	return st;
}

cml_status
store_register_review_open(cml_store *s, const char *site, const char *order_id, bool *open)
{
	cml_status st;
	sqlite3_stmt *q;

	*open = false;
	if ((q = query(s, SQ_RG_REVIEW_OPEN, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, or_empty(site), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, or_empty(order_id), -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*open = true;
	else if (rc != SQLITE_DONE)
		st = store_db_fail(s, "cannot read the review queue");
	done_with(q);
	return st;
}

/* ---- ledger orders already matched ---- */

cml_status
cml_register_matched(cml_store *s, const char *site, const char *order_id, int64_t *revision)
{
	cml_status st;
	sqlite3_stmt *q;

	*revision = 0;
	if (order_id == NULL)
		return store_fail(s, CML_ERR_USAGE, "reading a matched order: no Ид");
	if ((q = query(s, SQ_RG_MATCHED_GET, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, or_empty(site), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, order_id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		*revision = sqlite3_column_int64(q, 0);
	else if (rc == SQLITE_DONE)
		st = CML_END;
	else
		st = store_db_fail(s, "cannot read the matched orders");
	done_with(q);
	return st;
}

cml_status
cml_register_set_matched(cml_store *s, const char *site, const char *order_id,
                         int64_t revision, const char *card_id)
{
	cml_status st;
	sqlite3_stmt *q;

	if ((st = store_need_run(s, "recording a matched order")) != CML_OK)
		return st;
	if (!has_text(order_id))
		return store_fail(s, CML_ERR_VALUE, "recording a matched order: no Ид");
	if ((q = query(s, SQ_RG_MATCHED_SET, &st)) == NULL)
		return st;
	sqlite3_bind_text(q, 1, or_empty(site), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, order_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, revision);
	sqlite3_bind_text(q, 4, or_empty(card_id), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, s->run_id);
	return store_step_done(s, q, "cannot record a matched order");
}
