/*
 * dedupe.c: the merge plan of a counterparty register (the contract is in
 * cml/dedupe.h), for cp-match --self.
 *
 * A few bulk scans of the register's tables, each one statement prepared
 * here and finalized before the next (the register's kept statements are
 * not disturbed), feed a union-find over card numbers: the cards are
 * numbered in Ид order by the first scan, and every later scan maps the
 * card's row number (cid) to its number by binary search. Nothing per
 * card is a string but its Ид in one pool, so a million cards take a few
 * tens of megabytes and a few seconds.
 *
 *  1. cards, in Ид order: branch, deleted, origin (and their cid, which
 *     the other tables use, mapped to card numbers by binary search);
 *  2. INN+KPP: the cards of one valid INN and one KPP ("" included) are
 *     joined;
 *  3. contact persons by their Ид: one Ид on two cards joins them (and
 *     every person counts for the survivor);
 *  4. aliases whose Ид is a live card's Ид join the two cards;
 *  5. contacts: each counts for the survivor; by key, an email or phone
 *     key on cards of two clusters is a proposal, never a join.
 *
 * A branch is never merged into its head: a union that would put a
 * branch (a card with a head) and a card without a head into one cluster
 * is refused and written as a proposal with its strong key instead, so
 * only duplicates of one branch are merged together. Weak links between
 * a branch and its head, or two branches of one head, are no proposal:
 * they are one company already linked.
 *
 * The survivor: no branch, then (an addition to the header's order) not
 * marked deleted, since a deleted card is never found and its aliases
 * would find nothing; then origin "register", then the most persons and
 * contacts, then the smallest Ид.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cml/dedupe.h"
#include "cml/register.h"
#include "store_private.h"

/* The register's tables as migration 5 made them (lib/store.c): cards
 * numbered by cid, which the persons, contacts and aliases refer to. */
#define SQL_CARDS                                                                        \
	"SELECT cid, id, head_id <> '', deleted, origin = 'register' FROM cp_cards ORDER BY id"
#define SQL_INN                                                                          \
	"SELECT inn_key, kpp, cid FROM cp_cards WHERE inn_key IS NOT NULL ORDER BY inn_key, kpp"
#define SQL_HEADS "SELECT cid, head_id FROM cp_cards WHERE head_id <> ''"
#define SQL_PERSONS "SELECT id, card FROM cp_persons ORDER BY id, card"
#define SQL_ALIASES                                                                      \
	"SELECT a.card, c.cid, a.id FROM cp_aliases a JOIN cp_cards c ON c.id = a.id"
#define SQL_WEIGHT "SELECT card, count(*) FROM cp_contacts GROUP BY card"
#define SQL_CONTACTS                                                                     \
	"SELECT key, kind, card FROM cp_contacts WHERE key <> '' ORDER BY kind, key, card"

enum {
	F_BRANCH = 1,
	F_DELETED = 2,
	F_REGISTER = 4,
	F_HAS_BRANCH = 8, /* on a root: the cluster holds a branch */
	F_HAS_PLAIN = 16, /* on a root: the cluster holds a card without a head */
};

enum kkind { K_INNKPP, K_INN, K_ID, K_EMAIL, K_PHONE };

static const char *const kind_names[] = {"inn+kpp", "inn", "id", "email", "phone"};

struct edge {
	uint32_t key;  /* offset in keys */
	uint8_t kind;
};

struct prop {
	int32_t a, b;  /* two cards of different clusters */
	int32_t edge;
};

struct row {
	int32_t surv;  /* the survivor of the cluster (card number) */
	int32_t card;
	int32_t edge;
	bool merge;
};

struct dd {
	cml_store *s;
	size_t n, cap;
	cml_buf ids;           /* the Ид, each with its NUL */
	uint32_t *off;         /* card -> offset in ids */
	int64_t *cid;          /* card -> cid */
	struct cidmap {
		int64_t cid;
		int32_t card;
	} *bycid;              /* sorted by cid */
	int32_t *parent, *size, *head, *join, *surv;
	uint32_t *weight;
	uint32_t *stamp, group; /* weak_group's roots seen, by group */
	uint8_t *flags;
	cml_buf keys;          /* the keys of edges */
	struct edge *edges;
	size_t ne, cap_e;
	struct prop *props;
	size_t np, cap_p;
};

static const char *
id_of(const struct dd *d, int32_t c)
{
	return d->ids.data + d->off[c];
}

static int32_t
card_of_cid(const struct dd *d, int64_t cid)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->bycid[mid].cid == cid)
			return d->bycid[mid].card;
		if (d->bycid[mid].cid < cid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int
cmp_cid(const void *x, const void *y)
{
	const struct cidmap *a = x, *b = y;

	return a->cid < b->cid ? -1 : a->cid > b->cid;
}

static int32_t
card_of(const struct dd *d, const char *id)
{
	size_t lo = 0, hi = d->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(id_of(d, (int32_t)mid), id);

		if (c == 0)
			return (int32_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int32_t
find(struct dd *d, int32_t c)
{
	while (d->parent[c] != c) {
		d->parent[c] = d->parent[d->parent[c]];
		c = d->parent[c];
	}
	return c;
}

static cml_status
nomem(struct dd *d)
{
	return store_fail(d->s, CML_ERR_NOMEM, "dedupe: out of memory");
}

static int32_t
new_edge(struct dd *d, enum kkind kind, const char *key)
{
	if (d->ne == d->cap_e) {
		size_t cap = d->cap_e ? d->cap_e * 2 : 1024;
		struct edge *e = cml_realloc(d->edges, cap * sizeof(*e));

		if (e == NULL)
			return -1;
		d->edges = e;
		d->cap_e = cap;
	}
	d->edges[d->ne].key = (uint32_t)d->keys.len;
	d->edges[d->ne].kind = (uint8_t)kind;
	if (!cml_buf_append(&d->keys, key, strlen(key) + 1))
		return -1;
	return (int32_t)d->ne++;
}

static cml_status
propose(struct dd *d, int32_t a, int32_t b, int32_t edge)
{
	if (d->np == d->cap_p) {
		size_t cap = d->cap_p ? d->cap_p * 2 : 256;
		struct prop *p = cml_realloc(d->props, cap * sizeof(*p));

		if (p == NULL)
			return nomem(d);
		d->props = p;
		d->cap_p = cap;
	}
	d->props[d->np++] = (struct prop){a, b, edge};
	return CML_OK;
}

/* Joins the clusters of a and b by a strong key, unless that would put a
 * branch and a card without a head together (then a proposal). */
static cml_status
join(struct dd *d, int32_t a, int32_t b, enum kkind kind, const char *key)
{
	int32_t ra = find(d, a), rb = find(d, b), e;
	uint8_t fa, fb;

	if (ra == rb)
		return CML_OK;
	fa = d->flags[ra] & (F_HAS_BRANCH | F_HAS_PLAIN);
	fb = d->flags[rb] & (F_HAS_BRANCH | F_HAS_PLAIN);
	e = new_edge(d, kind, key);
	if (e < 0)
		return nomem(d);
	if ((fa | fb) == (F_HAS_BRANCH | F_HAS_PLAIN))
		return propose(d, a, b, e);
	if (d->size[ra] < d->size[rb]) {
		int32_t t = ra;
		ra = rb;
		rb = t;
	}
	d->parent[rb] = ra;
	d->size[ra] += d->size[rb];
	d->flags[ra] |= d->flags[rb] & (F_HAS_BRANCH | F_HAS_PLAIN);
	if (d->join[a] < 0)
		d->join[a] = e;
	if (d->join[b] < 0)
		d->join[b] = e;
	return CML_OK;
}

static cml_status
prepare(struct dd *d, const char *sql, sqlite3_stmt **q)
{
	if (sqlite3_prepare_v2(d->s->db, sql, -1, q, NULL) != SQLITE_OK)
		return store_db_fail(d->s, "dedupe: reading the register");
	return CML_OK;
}

static const char *
col(sqlite3_stmt *q, int k)
{
	const unsigned char *t = sqlite3_column_text(q, k);

	return t ? (const char *)t : "";
}

static cml_status
grow(struct dd *d)
{
	size_t cap = d->cap ? d->cap * 2 : 4096;
	uint32_t *off = cml_realloc(d->off, cap * sizeof(*off));

	if (off == NULL)
		return nomem(d);
	d->off = off;
	int64_t *cid = cml_realloc(d->cid, cap * sizeof(*cid));
	if (cid == NULL)
		return nomem(d);
	d->cid = cid;
	uint8_t *fl = cml_realloc(d->flags, cap);
	if (fl == NULL)
		return nomem(d);
	d->flags = fl;
	d->cap = cap;
	return CML_OK;
}

/* 1: the cards in Ид order, and the per-card arrays. */
static cml_status
scan_cards(struct dd *d)
{
	sqlite3_stmt *q = NULL;
	cml_status st = prepare(d, SQL_CARDS, &q);
	int rc;

	while (st == CML_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *id = col(q, 1);

		if (d->n == d->cap && (st = grow(d)) != CML_OK)
			break;
		if (d->ids.len > UINT32_MAX - 64) {
			st = store_fail(d->s, CML_ERR_NOMEM, "dedupe: too many cards");
			break;
		}
		d->off[d->n] = (uint32_t)d->ids.len;
		d->cid[d->n] = sqlite3_column_int64(q, 0);
		if (!cml_buf_append(&d->ids, id, strlen(id) + 1)) {
			st = nomem(d);
			break;
		}
		d->flags[d->n] = (uint8_t)((sqlite3_column_int(q, 2) ? F_BRANCH | F_HAS_BRANCH
		                                                      : F_HAS_PLAIN) |
		                           (sqlite3_column_int(q, 3) ? F_DELETED : 0) |
		                           (sqlite3_column_int(q, 4) ? F_REGISTER : 0));
		d->n++;
	}
	if (st == CML_OK && rc != SQLITE_DONE)
		st = store_db_fail(d->s, "dedupe: reading the cards");
	sqlite3_finalize(q);
	if (st != CML_OK)
		return st;
	d->parent = cml_malloc((d->n ? d->n : 1) * sizeof(int32_t));
	d->size = cml_malloc((d->n ? d->n : 1) * sizeof(int32_t));
	d->head = cml_malloc((d->n ? d->n : 1) * sizeof(int32_t));
	d->join = cml_malloc((d->n ? d->n : 1) * sizeof(int32_t));
	d->surv = cml_malloc((d->n ? d->n : 1) * sizeof(int32_t));
	d->weight = cml_calloc(d->n ? d->n : 1, sizeof(uint32_t));
	d->bycid = cml_malloc((d->n ? d->n : 1) * sizeof(*d->bycid));
	d->stamp = cml_calloc(d->n ? d->n : 1, sizeof(uint32_t));
	if (!d->parent || !d->size || !d->head || !d->join || !d->surv || !d->weight ||
	    !d->bycid || !d->stamp)
		return nomem(d);
	for (size_t c = 0; c < d->n; c++)
		d->bycid[c] = (struct cidmap){d->cid[c], (int32_t)c};
	qsort(d->bycid, d->n, sizeof(*d->bycid), cmp_cid);
	for (size_t c = 0; c < d->n; c++) {
		d->parent[c] = (int32_t)c;
		d->size[c] = 1;
		d->head[c] = -1;
		d->join[c] = -1;
		d->surv[c] = -1;
	}
	return CML_OK;
}

static cml_status
scan_heads(struct dd *d)
{
	sqlite3_stmt *q = NULL;
	cml_status st = prepare(d, SQL_HEADS, &q);
	int rc = SQLITE_DONE;

	while (st == CML_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		int32_t c = card_of_cid(d, sqlite3_column_int64(q, 0));

		if (c >= 0)
			d->head[c] = card_of(d, col(q, 1));
	}
	if (st == CML_OK && rc != SQLITE_DONE)
		st = store_db_fail(d->s, "dedupe: reading the branches");
	sqlite3_finalize(q);
	return st;
}

/* 2: one valid INN and one KPP: the first card of the group joins each. */
static cml_status
scan_inn(struct dd *d)
{
	sqlite3_stmt *q = NULL;
	cml_status st = prepare(d, SQL_INN, &q);
	char inn[16] = "", kpp[16] = "", key[40];
	int32_t first = -1;
	int rc = SQLITE_DONE;

	while (st == CML_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *ci = col(q, 0), *ck = col(q, 1);
		int32_t c = card_of_cid(d, sqlite3_column_int64(q, 2));

		if (c < 0)
			continue;
		if (first < 0 || strcmp(ci, inn) != 0 || strcmp(ck, kpp) != 0) {
			cml_msg_set(inn, sizeof(inn), "%s", ci);
			cml_msg_set(kpp, sizeof(kpp), "%s", ck);
			first = c;
			continue;
		}
		if (kpp[0] != '\0')
			cml_msg_set(key, sizeof(key), "%s/%s", inn, kpp);
		else
			cml_msg_set(key, sizeof(key), "%s", inn);
		st = join(d, first, c, kpp[0] ? K_INNKPP : K_INN, key);
	}
	if (st == CML_OK && rc != SQLITE_DONE)
		st = store_db_fail(d->s, "dedupe: reading the INN");
	sqlite3_finalize(q);
	return st;
}

/* 3: one contact person Ид on several cards. */
static cml_status
scan_persons(struct dd *d)
{
	sqlite3_stmt *q = NULL;
	cml_status st = prepare(d, SQL_PERSONS, &q);
	cml_buf last = {0};
	int32_t first = -1;
	int rc = SQLITE_DONE;

	while (st == CML_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *pid = col(q, 0);
		int32_t c = card_of_cid(d, sqlite3_column_int64(q, 1));

		if (c < 0)
			continue;
		d->weight[c]++;
		if (first < 0 || strcmp(pid, last.data) != 0) {
			cml_buf_clear(&last);
			if (!cml_buf_append(&last, pid, strlen(pid) + 1)) {
				st = nomem(d);
				break;
			}
			first = c;
			continue;
		}
		if (c != first && pid[0] != '\0')
			st = join(d, first, c, K_ID, pid);
	}
	if (st == CML_OK && rc != SQLITE_DONE)
		st = store_db_fail(d->s, "dedupe: reading the contact persons");
	sqlite3_finalize(q);
	cml_buf_free(&last);
	return st;
}

/* 4: an alias of one card that is another card's Ид. */
static cml_status
scan_aliases(struct dd *d)
{
	sqlite3_stmt *q = NULL;
	cml_status st = prepare(d, SQL_ALIASES, &q);
	int rc = SQLITE_DONE;

	while (st == CML_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		int32_t a = card_of_cid(d, sqlite3_column_int64(q, 0));
		int32_t b = card_of_cid(d, sqlite3_column_int64(q, 1));

		if (a >= 0 && b >= 0 && a != b)
			st = join(d, a, b, K_ID, col(q, 2));
	}
	if (st == CML_OK && rc != SQLITE_DONE)
		st = store_db_fail(d->s, "dedupe: reading the aliases");
	sqlite3_finalize(q);
	return st;
}

/* 5a: the contacts of each card count for the survivor. */
static cml_status
scan_weight(struct dd *d)
{
	sqlite3_stmt *q = NULL;
	cml_status st = prepare(d, SQL_WEIGHT, &q);
	int rc = SQLITE_DONE;

	while (st == CML_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		int32_t c = card_of_cid(d, sqlite3_column_int64(q, 0));

		if (c >= 0)
			d->weight[c] += (uint32_t)sqlite3_column_int64(q, 1);
	}
	if (st == CML_OK && rc != SQLITE_DONE)
		st = store_db_fail(d->s, "dedupe: counting the contacts");
	sqlite3_finalize(q);
	return st;
}

/* One company already: a branch and its head, or two branches of one. */
static bool
related(const struct dd *d, int32_t a, int32_t b)
{
	int32_t ta = d->head[a] >= 0 ? d->head[a] : a;
	int32_t tb = d->head[b] >= 0 ? d->head[b] : b;

	return ta == tb;
}

/* The cards of one key group of the contacts scan. */
struct group {
	int32_t *card;
	size_t n, cap;
};

/* A weak key on cards of several clusters: each other cluster is proposed
 * to the first card's (a star, not every pair), once: the roots seen in
 * this group carry its stamp. */
static cml_status
weak_group(struct dd *d, struct group *g, enum kkind kind, const char *key)
{
	int32_t e = -1, a = g->card[0];

	d->group++;
	d->stamp[find(d, a)] = d->group;
	for (size_t j = 1; j < g->n; j++) {
		int32_t b = g->card[j], rb = find(d, b);

		if (d->stamp[rb] == d->group || related(d, a, b))
			continue;
		d->stamp[rb] = d->group;
		if (e < 0 && (e = new_edge(d, kind, key)) < 0)
			return nomem(d);
		cml_status st = propose(d, a, b, e);
		if (st != CML_OK)
			return st;
	}
	return CML_OK;
}

/* 5: the contacts by key. */
static cml_status
scan_contacts(struct dd *d)
{
	sqlite3_stmt *q = NULL;
	cml_status st = prepare(d, SQL_CONTACTS, &q);
	cml_buf last = {0};
	struct group g = {0};
	enum kkind kind = K_EMAIL;
	int rc = SQLITE_DONE;

	while (st == CML_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *key = col(q, 0);
		int k2 = sqlite3_column_int(q, 1);
		int32_t c = card_of_cid(d, sqlite3_column_int64(q, 2));

		if (c < 0 || key[0] == '\0')
			continue;
		if (last.data == NULL || strcmp(key, last.data) != 0 ||
		    (k2 == CML_CONTACT_PHONE) != (kind == K_PHONE)) {
			if (g.n > 1 && (st = weak_group(d, &g, kind, last.data)) != CML_OK)
				break;
			g.n = 0;
			cml_buf_clear(&last);
			if (!cml_buf_append(&last, key, strlen(key) + 1)) {
				st = nomem(d);
				break;
			}
			kind = k2 == CML_CONTACT_PHONE ? K_PHONE : K_EMAIL;
		}
		if (g.n > 0 && g.card[g.n - 1] == c)
			continue;
		if (g.n == g.cap) {
			size_t cap = g.cap ? g.cap * 2 : 16;
			int32_t *v = cml_realloc(g.card, cap * sizeof(*v));

			if (v == NULL) {
				st = nomem(d);
				break;
			}
			g.card = v;
			g.cap = cap;
		}
		g.card[g.n++] = c;
	}
	if (st == CML_OK && rc != SQLITE_DONE)
		st = store_db_fail(d->s, "dedupe: reading the contacts");
	if (st == CML_OK && g.n > 1)
		st = weak_group(d, &g, kind, last.data);
	sqlite3_finalize(q);
	cml_buf_free(&last);
	cml_free(g.card);
	return st;
}

/* Whether card a makes a better survivor than card b. */
static bool
better(const struct dd *d, int32_t a, int32_t b)
{
	uint8_t fa = d->flags[a], fb = d->flags[b];

	if ((fa & F_BRANCH) != (fb & F_BRANCH))
		return !(fa & F_BRANCH);
	if ((fa & F_DELETED) != (fb & F_DELETED))
		return !(fa & F_DELETED);
	if ((fa & F_REGISTER) != (fb & F_REGISTER))
		return (fa & F_REGISTER) != 0;
	if (d->weight[a] != d->weight[b])
		return d->weight[a] > d->weight[b];
	return a < b;
}

static int
cmp_row(const void *x, const void *y)
{
	const struct row *a = x, *b = y;

	if (a->surv != b->surv)
		return a->surv < b->surv ? -1 : 1;
	if (a->merge != b->merge)
		return a->merge ? -1 : 1;
	if (a->card != b->card)
		return a->card < b->card ? -1 : 1;
	return a->edge < b->edge ? -1 : a->edge > b->edge;
}

static void
dd_free(struct dd *d)
{
	cml_buf_free(&d->ids);
	cml_buf_free(&d->keys);
	cml_free(d->off);
	cml_free(d->cid);
	cml_free(d->bycid);
	cml_free(d->flags);
	cml_free(d->parent);
	cml_free(d->size);
	cml_free(d->head);
	cml_free(d->join);
	cml_free(d->surv);
	cml_free(d->weight);
	cml_free(d->stamp);
	cml_free(d->edges);
	cml_free(d->props);
}

cml_status
cml_dedupe(cml_store *s, bool apply, cml_dedupe_fn *fn, void *ud, cml_dedupe_stats *stp)
{
	struct dd d;
	struct row *rows = NULL;
	size_t nr = 0;
	cml_dedupe_stats st0;
	cml_status st;

	memset(&d, 0, sizeof(d));
	memset(&st0, 0, sizeof(st0));
	d.s = s;
	if (apply && (st = store_need_run(s, "dedupe")) != CML_OK)
		goto out;
	if ((st = scan_cards(&d)) != CML_OK || (st = scan_heads(&d)) != CML_OK ||
	    (st = scan_inn(&d)) != CML_OK || (st = scan_persons(&d)) != CML_OK ||
	    (st = scan_aliases(&d)) != CML_OK || (st = scan_weight(&d)) != CML_OK ||
	    (st = scan_contacts(&d)) != CML_OK)
		goto out;
	st0.cards = (int64_t)d.n;

	/* the survivor of every cluster of more than one card */
	for (size_t c = 0; c < d.n; c++) {
		int32_t r = find(&d, (int32_t)c);

		if (d.size[r] < 2)
			continue;
		if (d.surv[r] < 0 || better(&d, (int32_t)c, d.surv[r]))
			d.surv[r] = (int32_t)c;
	}
	rows = cml_malloc((d.n + d.np + 1) * sizeof(*rows));
	if (rows == NULL) {
		st = nomem(&d);
		goto out;
	}
	for (size_t c = 0; c < d.n; c++) {
		int32_t r = find(&d, (int32_t)c);

		if (d.size[r] < 2)
			continue;
		if (d.surv[r] == (int32_t)c) {
			st0.clusters++;
			continue;
		}
		rows[nr++] = (struct row){d.surv[r], (int32_t)c, d.join[c], true};
	}
	for (size_t k = 0; k < d.np; k++) {
		int32_t ra = find(&d, d.props[k].a), rb = find(&d, d.props[k].b);
		int32_t sa = d.surv[ra] >= 0 ? d.surv[ra] : ra, sb = d.surv[rb] >= 0 ? d.surv[rb] : rb;

		if (ra == rb)
			continue;
		rows[nr++] = sa < sb ? (struct row){sa, sb, d.props[k].edge, false}
		                     : (struct row){sb, sa, d.props[k].edge, false};
	}
	qsort(rows, nr, sizeof(*rows), cmp_row);

	int64_t cluster = 0;
	for (size_t k = 0; k < nr; k++) {
		const struct row *w = &rows[k];
		static const struct edge none = {0, K_ID};
		const struct edge *e = w->edge >= 0 ? &d.edges[w->edge] : &none;
		cml_dedupe_row out;

		/* the same link through a second key of one kind is one proposal */
		if (!w->merge && k > 0 && !rows[k - 1].merge && rows[k - 1].surv == w->surv &&
		    rows[k - 1].card == w->card && rows[k - 1].edge >= 0 && w->edge >= 0 &&
		    d.edges[rows[k - 1].edge].kind == e->kind &&
		    strcmp(d.keys.data + d.edges[rows[k - 1].edge].key, d.keys.data + e->key) == 0)
			continue;
		if (k == 0 || rows[k - 1].surv != w->surv)
			cluster++;
		out.cluster = cluster;
		out.survivor = id_of(&d, w->surv);
		out.card_id = id_of(&d, w->card);
		out.merge = w->merge;
		out.key_kind = kind_names[e->kind];
		out.key = w->edge >= 0 ? d.keys.data + e->key : "";
		if (w->merge)
			st0.merged++;
		else
			st0.proposals++;
		if (fn != NULL && fn(ud, &out) != 0) {
			st = store_fail(s, CML_ERR_IO, "dedupe: writing the plan failed");
			goto out;
		}
	}
	if (apply)
		for (size_t k = 0; k < nr; k++) {
			if (!rows[k].merge)
				continue;
			st = cml_register_merge(s, id_of(&d, rows[k].surv), id_of(&d, rows[k].card));
			if (st != CML_OK)
				goto out;
		}
	st = CML_OK;
out:
	if (stp != NULL)
		*stp = st0;
	cml_free(rows);
	dd_free(&d);
	return st;
}
