/*
 * regfile.c: counterparty register files in and out (cml/regfile.h):
 * the accounting system's CommerceML counterparty package through the
 * reader, the CSV form of cmlkit-csv(5) on libcsv, and both written
 * back from the register.
 *
 * Both readers stream: a counterparty or a CSV row goes into the store
 * as soon as it is read, and what is kept in memory is one item or row
 * and, for CSV, the set of card Ид seen in the file (8 bytes each), so
 * that a later row of a card is told from its first.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include <csv.h>

#include "cml/idset.h"
#include "cml/regfile.h"
#include "cml_private.h"

#define READ_CHUNK (64 * 1024)
#define FIELD_MAX (1024 * 1024) /* longer CSV fields are refused */

/* ---- what both readers share ---- */

typedef struct loader {
	cml_store *s;
	const char *path;
	cml_warn_fn *warn;
	void *warn_ud;
	cml_regfile_stats *st;
	char *err;
	size_t errsz;
	cml_buf tmp;
} loader;

static cml_status fail(loader *l, cml_status st, unsigned long line, const char *fmt, ...)
	CML_PRINTF(4, 5);

/* "FILE:LINE: what" (line 0: "FILE: what") into the caller's err. */
static cml_status
fail(loader *l, cml_status st, unsigned long line, const char *fmt, ...)
{
	char what[CML_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	cml_msg_vset(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (l->err != NULL && l->errsz > 0) {
		if (line > 0)
			cml_msg_set(l->err, l->errsz, "%s:%lu: %s", l->path, line, what);
		else
			cml_msg_set(l->err, l->errsz, "%s: %s", l->path, what);
	}
	return st;
}

/* A store call failed: its message, at the line. */
static cml_status
fail_store(loader *l, cml_status st, unsigned long line)
{
	return fail(l, st, line, "%s", cml_store_errmsg(l->s));
}

static void warn(loader *l, unsigned long line, const char *fmt, ...) CML_PRINTF(3, 4);

static void
warn(loader *l, unsigned long line, const char *fmt, ...)
{
	char what[CML_ERRMSG_MAX], msg[CML_ERRMSG_MAX + 256];
	va_list ap;

	l->st->bad_values++;
	if (l->warn == NULL)
		return;
	va_start(ap, fmt);
	cml_msg_vset(what, sizeof(what), fmt, ap);
	va_end(ap);
	cml_msg_set(msg, sizeof(msg), "%s:%lu: %s", l->path, line, what);
	l->warn(l->warn_ud, msg);
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

/* Reports the INN and KPP of a card that are no keys. */
static void
check_requisites(loader *l, unsigned long line, const char *id, const char *inn,
                 const char *kpp)
{
	char digits[13], k[10];
	const char *why = NULL;

	if (cml_inn_check(inn, digits, NULL, &why) == CML_ERR_VALUE)
		warn(l, line, "card %s: INN \"%s\" is no INN (%s): kept as written, never a key",
		     id, inn, why != NULL ? why : "invalid");
	if (cml_kpp_check(kpp, k, &why) == CML_ERR_VALUE)
		warn(l, line, "card %s: KPP \"%s\" is no KPP (%s): kept as written", id, kpp,
		     why != NULL ? why : "invalid");
}

/* Puts a card; a card merged away is reported and its contacts and
 * persons go to the card it was merged into. */
static cml_status
put_card(loader *l, unsigned long line, const cml_cp_card *c)
{
	cml_register_change ch;
	cml_status st = cml_register_put(l->s, c, &ch);

	if (st == CML_ERR_VALUE) {
		cml_cp_card now;

		if (cml_register_get(l->s, c->id, &now) != CML_OK)
			return fail_store(l, st, line);
		warn(l, line, "card %s was merged into %s: its fields are not loaded, its "
		     "contacts and contact persons go to %s", c->id, now.id, now.id);
		return CML_OK;
	}
	if (st != CML_OK)
		return fail_store(l, st, line);
	l->st->cards++;
	if (ch == CML_REGISTER_NEW)
		l->st->cards_new++;
	else if (ch == CML_REGISTER_CHANGED)
		l->st->cards_changed++;
	return CML_OK;
}

/* Adds one contact, reporting an email that is none. */
static cml_status
add_contact(loader *l, unsigned long line, const char *card_id, const char *person_id,
            cml_contact_kind kind, const char *value)
{
	bool added = false;
	cml_status st;

	if (!has_text(value))
		return CML_OK;
	if (kind == CML_CONTACT_EMAIL) {
		cml_email e;
		const char *why = NULL;

		if (cml_email_norm(value, &e, &why) == CML_ERR_VALUE)
			warn(l, line, "card %s: \"%s\" is not an email (%s): kept, never a key",
			     card_id, value, why != NULL ? why : "invalid");
	}
	st = cml_register_add_contact(l->s, card_id, person_id, kind, value, &added);
	if (st != CML_OK)
		return fail_store(l, st, line);
	if (added)
		l->st->contacts_new++;
	return CML_OK;
}

static cml_status
add_person(loader *l, unsigned long line, const char *card_id, const char *person_id,
           const char *name)
{
	bool added = false;
	cml_status st = cml_register_add_person(l->s, card_id, person_id, name, &added);

	if (st != CML_OK)
		return fail_store(l, st, line);
	if (added)
		l->st->persons_new++;
	return CML_OK;
}

/* The Ид of a contact person that has none: stable, from the card and
 * the person's email key, else phone key, else name. */
static void
person_id_of(const char *card_id, const char *email, const char *phone, const char *name,
             cml_buf *b, char out[37])
{
	cml_email e;
	char p[13];
	const char *what = or_empty(name);

	if (has_text(email) && cml_email_norm(email, &e, NULL) == CML_OK)
		what = e.key;
	else if (has_text(phone) && cml_phone_key(phone, p, NULL) == CML_OK)
		what = p;
	cml_buf_clear(b);
	if (!cml_buf_appendf(b, "%s\n%s", card_id, what)) {
		/* out of memory: the name alone still gives a stable Ид */
		cml_stable_id("cmlkit-person", what, out);
		return;
	}
	cml_stable_id("cmlkit-person", b->data, out);
}

/* ---- CommerceML ---- */

/* "Контактное лицо" in any case, spaces around allowed; or nothing. */
static bool
is_contact_person(const char *relation)
{
	static const char want[] = "контактное лицо";
	const unsigned char *p = (const unsigned char *)or_empty(relation);
	size_t i = 0;

	while (*p == ' ')
		p++;
	if (*p == '\0')
		return true;
	for (; *p != '\0'; p++) {
		unsigned char c = *p;

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		/* Cyrillic capitals: U+0410..U+041F (D0 90..9F) -> D0 B0..BF,
		 * U+0420..U+042F (D0 A0..AF) -> D1 80..8F */
		if (c == 0xD0 && p[1] >= 0x90 && p[1] <= 0xAF) {
			unsigned char lo = p[1] <= 0x9F ? (unsigned char)(p[1] + 0x20)
			                                : (unsigned char)(p[1] - 0x20);
			unsigned char hi = p[1] <= 0x9F ? 0xD0 : 0xD1;

			if (i + 1 >= sizeof(want) - 1 || (unsigned char)want[i] != hi ||
			    (unsigned char)want[i + 1] != lo)
				return false;
			i += 2;
			p++;
			continue;
		}
		if (i >= sizeof(want) - 1 || (unsigned char)want[i] != c) {
			/* trailing spaces */
			while (*p == ' ')
				p++;
			return *p == '\0' && i == sizeof(want) - 1;
		}
		i++;
	}
	return i == sizeof(want) - 1;
}

static cml_status
load_counterparty(loader *l, const cml_item *it)
{
	const cml_counterparty *c = &it->u.counterparty;
	unsigned long line = it->origin.line;
	cml_cp_card card = { 0 }, had;
	cml_status st;

	if (!has_text(c->id))
		return fail(l, CML_ERR_VALUE, line, "a Контрагент without Ид");
	card.id = c->id;
	card.name = c->name;
	card.full_name = has_text(c->official_name) ? c->official_name : c->full_name;
	card.kind = cml_cp_kind_of(c);
	card.inn = c->inn;
	card.kpp = c->kpp;
	card.okpo = c->okpo;
	card.reg_address = c->reg_address.presentation;
	card.legal_address = c->legal_address.presentation;
	card.deleted = c->deleted;
	/* CommerceML has no place for the head card or the marketplace
	 * flag: a card keeps what the register has of them */
	if (cml_register_get(l->s, c->id, &had) == CML_OK && strcmp(had.id, c->id) == 0) {
		card.head_id = had.head_id;
		card.marketplace = had.marketplace;
	}
	check_requisites(l, line, c->id, or_empty(c->inn), or_empty(c->kpp));
	if ((st = put_card(l, line, &card)) != CML_OK)
		return st;
	for (size_t i = 0; i < c->n_contacts; i++) {
		const cml_pair *p = &c->contacts[i];

		st = add_contact(l, line, c->id, NULL, cml_contact_type(or_empty(p->name)),
		                 p->value);
		if (st != CML_OK)
			return st;
	}
	for (size_t i = 0; i < c->n_representatives; i++) {
		const cml_representative *r = &c->representatives[i];
		const char *email = NULL, *phone = NULL;
		char pid[37];

		if (!is_contact_person(r->relation))
			continue;
		for (size_t k = 0; k < r->n_contacts; k++) {
			cml_contact_kind kind = cml_contact_type(or_empty(r->contacts[k].name));

			if (kind == CML_CONTACT_EMAIL && email == NULL)
				email = r->contacts[k].value;
			else if (kind == CML_CONTACT_PHONE && phone == NULL)
				phone = r->contacts[k].value;
		}
		if (has_text(r->id))
			cml_msg_set(pid, sizeof(pid), "%s", r->id);
		else
			person_id_of(c->id, email, phone, r->name, &l->tmp, pid);
		const char *id = has_text(r->id) ? r->id : pid;
		if ((st = add_person(l, line, c->id, id, r->name)) != CML_OK)
			return st;
		for (size_t k = 0; k < r->n_contacts; k++) {
			const cml_pair *p = &r->contacts[k];

			st = add_contact(l, line, c->id, id, cml_contact_type(or_empty(p->name)),
			                 p->value);
			if (st != CML_OK)
				return st;
		}
	}
	return CML_OK;
}

static cml_status
load_cml(loader *l)
{
	cml_reader_opts ro = { .warn = l->warn, .warn_ud = l->warn_ud };
	cml_reader *r = cml_reader_new(&ro);
	const cml_item *it;
	int64_t n = 0;
	cml_status st;

	if (r == NULL)
		return fail(l, CML_ERR_NOMEM, 0, "out of memory");
	if ((st = cml_reader_open_file(r, l->path)) != CML_OK) {
		fail(l, st, 0, "%s", cml_reader_errmsg(r));
		goto out;
	}
	while ((st = cml_reader_next(r, &it)) == CML_OK) {
		if (it->kind != CML_ITEM_COUNTERPARTY)
			continue;
		n++;
		if ((st = load_counterparty(l, it)) != CML_OK)
			goto out;
	}
	if (st != CML_END) {
		/* a broken item too: nothing of a file is kept unless all of it reads */
		if (l->err != NULL && l->errsz > 0)
			cml_msg_set(l->err, l->errsz, "%s", cml_reader_errmsg(r));
		goto out;
	}
	st = CML_OK;
	if (n == 0)
		st = fail(l, CML_ERR_FORMAT, 0,
		          "not a counterparty register (no Контрагенты/Контрагент in it)");
out:
	cml_reader_free(r);
	return st;
}

/* ---- CSV ---- */

enum csv_col {
	K_ID,
	K_NAME,
	K_FULL_NAME,
	K_KIND,
	K_INN,
	K_KPP,
	K_OKPO,
	K_HEAD_ID,
	K_EMAIL,
	K_PHONE,
	K_PERSON_ID,
	K_PERSON_NAME,
	K_PERSON_EMAIL,
	K_PERSON_PHONE,
	K_REG_ADDRESS,
	K_LEGAL_ADDRESS,
	K_DELETED,
	K_MARKETPLACE,
	K_COUNT
};

/* The columns, in the order the register is written. */
static const char *const csv_names[K_COUNT] = {
	[K_ID] = "id",
	[K_NAME] = "name",
	[K_FULL_NAME] = "full_name",
	[K_KIND] = "kind",
	[K_INN] = "inn",
	[K_KPP] = "kpp",
	[K_OKPO] = "okpo",
	[K_HEAD_ID] = "head_id",
	[K_EMAIL] = "email",
	[K_PHONE] = "phone",
	[K_PERSON_ID] = "person_id",
	[K_PERSON_NAME] = "person_name",
	[K_PERSON_EMAIL] = "person_email",
	[K_PERSON_PHONE] = "person_phone",
	[K_REG_ADDRESS] = "reg_address",
	[K_LEGAL_ADDRESS] = "legal_address",
	[K_DELETED] = "deleted",
	[K_MARKETPLACE] = "marketplace",
};

typedef struct csvload {
	loader *l;
	struct csv_parser parser;
	cml_arena arena;           /* the fields of the row at hand */
	char **fields;
	size_t n_fields, cap_fields;
	bool header_done;
	int col_of[K_COUNT];       /* the field index of each column, -1 */
	size_t n_cols;
	unsigned long line;        /* of the next byte */
	unsigned long row_line;    /* where the row being parsed began */
	bool at_line_start, odd_quotes;
	cml_idset *seen;
	/* the card of the rows before: its first row's fields, so its later
	 * rows are checked without a lookup */
	cml_arena last_arena;
	cml_cp_card last;
	cml_status err;            /* sticky, from a callback */
} csvload;

static void
on_field(void *s, size_t len, void *data)
{
	csvload *c = data;
	char *f;

	if (c->err != CML_OK)
		return;
	if (c->header_done && c->n_fields >= c->n_cols) {
		c->err = fail(c->l, CML_ERR_FORMAT, c->row_line,
		              "the row has more fields than the header (%zu)", c->n_cols);
		return;
	}
	if (len > 0 && memchr(s, '\0', len) != NULL) {
		c->err = fail(c->l, CML_ERR_SYNTAX, c->row_line, "field %zu holds a NUL byte",
		              c->n_fields + 1);
		return;
	}
	if (!cml_utf8_valid(s, len)) {
		c->err = fail(c->l, CML_ERR_ENCODING, c->row_line, "field %zu is not UTF-8",
		              c->n_fields + 1);
		return;
	}
	if (c->n_fields == c->cap_fields) {
		size_t cap = c->cap_fields ? c->cap_fields * 2 : 32;
		char **nf = cml_realloc(c->fields, cap * sizeof(*nf));

		if (nf == NULL) {
			c->err = fail(c->l, CML_ERR_NOMEM, 0, "out of memory");
			return;
		}
		c->fields = nf;
		c->cap_fields = cap;
	}
	if ((f = cml_arena_alloc(&c->arena, len + 1)) == NULL) {
		c->err = fail(c->l, CML_ERR_NOMEM, 0, "out of memory");
		return;
	}
	/* a CR LF inside a quoted field is LF */
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = ((const char *)s)[i];

		if (ch == '\r' && i + 1 < len && ((const char *)s)[i + 1] == '\n')
			continue;
		f[o++] = ch;
	}
	f[o] = '\0';
	c->fields[c->n_fields++] = cml_trim(f);
}

static const char *
cell(const csvload *c, enum csv_col k)
{
	int i = c->col_of[k];

	if (i < 0 || (size_t)i >= c->n_fields || c->fields[i][0] == '\0')
		return NULL;
	return c->fields[i];
}

static cml_status
header(csvload *c)
{
	cml_buf unknown = { 0 };
	cml_status st = CML_OK;

	for (int k = 0; k < K_COUNT; k++)
		c->col_of[k] = -1;
	for (size_t i = 0; i < c->n_fields && st == CML_OK; i++) {
		const char *name = c->fields[i];
		int k;

		for (k = 0; k < K_COUNT; k++)
			if (strcmp(name, csv_names[k]) == 0)
				break;
		if (k == K_COUNT) {
			if (!cml_buf_appendf(&unknown, "%s\"%s\"", unknown.len > 0 ? ", " : "",
			                     name))
				st = fail(c->l, CML_ERR_NOMEM, 0, "out of memory");
		} else if (c->col_of[k] >= 0) {
			st = fail(c->l, CML_ERR_FORMAT, c->row_line, "the column %s appears twice",
			          name);
		} else {
			c->col_of[k] = (int)i;
		}
	}
	if (st == CML_OK && unknown.len > 0)
		st = fail(c->l, CML_ERR_FORMAT, c->row_line,
		          "not a counterparty register: unknown column%s %s (the columns are "
		          "in cmlkit-csv(5))",
		          strchr(unknown.data, ',') != NULL ? "s" : "", unknown.data);
	if (st == CML_OK && c->col_of[K_ID] < 0)
		st = fail(c->l, CML_ERR_FORMAT, c->row_line,
		          "not a counterparty register: no id column in the header row");
	cml_buf_free(&unknown);
	c->n_cols = c->n_fields;
	c->header_done = true;
	return st;
}

/* 1/0, true/false, yes/no, empty: no. */
static cml_status
flag(csvload *c, enum csv_col k, bool *out)
{
	static const char *const yes[] = { "1", "true", "yes" }, *const no[] = { "0", "false",
		                                                                 "no" };
	const char *v = cell(c, k);

	*out = false;
	if (v == NULL)
		return CML_OK;
	for (size_t i = 0; i < CML_ARRAY_LEN(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return CML_OK;
		}
		if (strcasecmp(v, no[i]) == 0)
			return CML_OK;
	}
	return fail(c->l, CML_ERR_VALUE, c->row_line,
	            "column %s: \"%s\" is not 1/0, true/false or yes/no", csv_names[k], v);
}

/* Each value of a cell of ";"-separated values. The cell is cut up in
 * place (it is the row's own copy). */
static cml_status
add_list(csvload *c, const char *card_id, const char *person_id, cml_contact_kind kind,
         enum csv_col k)
{
	char *p = (char *)(uintptr_t)cell(c, k);
	cml_status st = CML_OK;

	while (p != NULL && st == CML_OK) {
		char *semi = strchr(p, ';');

		if (semi != NULL)
			*semi = '\0';
		st = add_contact(c->l, c->row_line, card_id, person_id, kind, cml_trim(p));
		p = semi != NULL ? semi + 1 : NULL;
	}
	return st;
}

/* A later row of a card: its non-empty card fields must be the card's. */
static cml_status
same_card(csvload *c, const char *id, const cml_cp_card *had)
{
	const struct {
		enum csv_col k;
		const char *v;
	} text[] = { { K_NAME, had->name },           { K_FULL_NAME, had->full_name },
		     { K_KIND, cml_cp_kind_name(had->kind) },
		     { K_INN, had->inn },             { K_KPP, had->kpp },
		     { K_OKPO, had->okpo },           { K_HEAD_ID, had->head_id },
		     { K_REG_ADDRESS, had->reg_address },
		     { K_LEGAL_ADDRESS, had->legal_address } };
	cml_status st;

	for (size_t i = 0; i < CML_ARRAY_LEN(text); i++) {
		const char *v = cell(c, text[i].k);

		if (v != NULL && strcmp(v, text[i].v) != 0)
			return fail(c->l, CML_ERR_VALUE, c->row_line,
			            "card %s: column %s is \"%s\" here and \"%s\" on the card's "
			            "first row",
			            id, csv_names[text[i].k], v, text[i].v);
	}
	const struct {
		enum csv_col k;
		bool v;
	} flags[] = { { K_DELETED, had->deleted }, { K_MARKETPLACE, had->marketplace } };
	for (size_t i = 0; i < CML_ARRAY_LEN(flags); i++) {
		bool b;

		if ((st = flag(c, flags[i].k, &b)) != CML_OK)
			return st;
		if (cell(c, flags[i].k) != NULL && b != flags[i].v)
			return fail(c->l, CML_ERR_VALUE, c->row_line,
			            "card %s: column %s is \"%s\" here and %s on the card's first "
			            "row",
			            id, csv_names[flags[i].k], cell(c, flags[i].k),
			            flags[i].v ? "yes" : "no");
	}
	return CML_OK;
}

/* Keeps the card of a first row as the card of the rows before. */
static cml_status
keep_last(csvload *c, const cml_cp_card *card)
{
	cml_arena *a = &c->last_arena;
	const char **text[] = { &c->last.id,      &c->last.name,        &c->last.full_name,
		                &c->last.inn,     &c->last.kpp,         &c->last.okpo,
		                &c->last.head_id, &c->last.reg_address, &c->last.legal_address };

	cml_arena_reset(a);
	c->last = *card;
	for (size_t i = 0; i < CML_ARRAY_LEN(text); i++)
		if ((*text[i] = cml_arena_strdup(a, or_empty(*text[i]))) == NULL) {
			c->last.id = NULL;
			return fail(c->l, CML_ERR_NOMEM, 0, "out of memory");
		}
	return CML_OK;
}

static cml_status
first_row(csvload *c, const char *id)
{
	cml_cp_card card = { .id = id };
	cml_status st;

	card.name = cell(c, K_NAME);
	card.full_name = cell(c, K_FULL_NAME);
	card.inn = cell(c, K_INN);
	card.kpp = cell(c, K_KPP);
	card.okpo = cell(c, K_OKPO);
	card.head_id = cell(c, K_HEAD_ID);
	card.reg_address = cell(c, K_REG_ADDRESS);
	card.legal_address = cell(c, K_LEGAL_ADDRESS);
	if ((st = flag(c, K_DELETED, &card.deleted)) != CML_OK ||
	    (st = flag(c, K_MARKETPLACE, &card.marketplace)) != CML_OK)
		return st;
	const char *kind = cell(c, K_KIND);
	if (kind != NULL) {
		if (!cml_cp_kind_parse(kind, &card.kind))
			return fail(c->l, CML_ERR_VALUE, c->row_line,
			            "column kind: \"%s\" is not legal, entrepreneur, person or "
			            "empty",
			            kind);
	} else {
		cml_counterparty cp = { .id = id, .name = card.name, .full_name = card.full_name,
			                .inn = card.inn, .kpp = card.kpp };
		card.kind = cml_cp_kind_of(&cp);
	}
	check_requisites(c->l, c->row_line, id, or_empty(card.inn), or_empty(card.kpp));
	if ((st = put_card(c->l, c->row_line, &card)) != CML_OK)
		return st;
	return keep_last(c, &card);
}

/* One data row: its card (first row) or the card's fields checked
 * (a later row), then its contacts and its person. */
static cml_status
data_row(csvload *c)
{
	const char *id = cell(c, K_ID);
	cml_cp_card had;
	bool seen = false;
	cml_status st;

	if (id == NULL)
		return fail(c->l, CML_ERR_VALUE, c->row_line, "a row without id");
	if (cml_idset_add(c->seen, cml_id_hash(id), &seen) != CML_OK)
		return fail(c->l, CML_ERR_NOMEM, 0, "out of memory");
	if (seen && c->last.id != NULL && strcmp(c->last.id, id) == 0)
		st = same_card(c, id, &c->last);
	else if (seen && cml_register_get(c->l->s, id, &had) == CML_OK)
		/* rows of a card apart: compared with what its first row put (a
		 * card merged away was reported with its first row) */
		st = strcmp(had.id, id) == 0 ? same_card(c, id, &had) : CML_OK;
	else
		st = first_row(c, id);
	if (st != CML_OK)
		return st;
	if ((st = add_list(c, id, NULL, CML_CONTACT_EMAIL, K_EMAIL)) != CML_OK ||
	    (st = add_list(c, id, NULL, CML_CONTACT_PHONE, K_PHONE)) != CML_OK)
		return st;

	const char *pid = cell(c, K_PERSON_ID), *pname = cell(c, K_PERSON_NAME);
	const char *pemail = cell(c, K_PERSON_EMAIL), *pphone = cell(c, K_PERSON_PHONE);
	char made[37];
	if (pid == NULL && pname == NULL && pemail == NULL && pphone == NULL)
		return CML_OK;
	if (pid == NULL) {
		/* the first of several values names the person */
		char e[CML_EMAIL_MAX + 1] = "", p[64] = "";
		if (pemail != NULL)
			cml_msg_set(e, sizeof(e), "%.*s", (int)strcspn(pemail, ";"), pemail);
		if (pphone != NULL)
			cml_msg_set(p, sizeof(p), "%.*s", (int)strcspn(pphone, ";"), pphone);
		person_id_of(id, cml_trim(e), cml_trim(p), pname, &c->l->tmp, made);
		pid = made;
	}
	if ((st = add_person(c->l, c->row_line, id, pid, pname)) != CML_OK)
		return st;
	if ((st = add_list(c, id, pid, CML_CONTACT_EMAIL, K_PERSON_EMAIL)) != CML_OK)
		return st;
	return add_list(c, id, pid, CML_CONTACT_PHONE, K_PERSON_PHONE);
}

static void
on_row(int term, void *data)
{
	csvload *c = data;
	bool empty = true;

	(void)term;
	if (c->err != CML_OK)
		return;
	for (size_t i = 0; i < c->n_fields && empty; i++)
		empty = c->fields[i][0] == '\0';
	if (!empty)
		c->err = c->header_done ? data_row(c) : header(c);
	c->n_fields = 0;
	cml_arena_reset(&c->arena);
}

static cml_status
csv_fail(csvload *c)
{
	int e = csv_error(&c->parser);

	if (e == CSV_ENOMEM)
		return fail(c->l, CML_ERR_NOMEM, 0, "out of memory");
	if (e == CSV_EPARSE)
		return fail(c->l, CML_ERR_SYNTAX, c->line,
		            "malformed CSV: a quote inside an unquoted field or text after a "
		            "closing quote");
	return fail(c->l, CML_ERR_SYNTAX, c->line, "%s", csv_strerror(e));
}

/*
 * Feeds the file to libcsv a line at a time, so that the callbacks know
 * the line a row began on: a row begins at a line start with an even
 * number of quotes behind it (RFC 4180, and strict libcsv refuses any
 * other quote).
 */
static cml_status
feed(csvload *c, FILE *f)
{
	unsigned char *buf = cml_malloc(READ_CHUNK);
	bool bom_checked = false;
	cml_status st = CML_OK;
	size_t n;

	if (buf == NULL)
		return fail(c->l, CML_ERR_NOMEM, 0, "out of memory");
	while (st == CML_OK && (n = fread(buf, 1, READ_CHUNK, f)) > 0) {
		size_t pos = 0;

		if (!bom_checked) {
			if (n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
				pos = 3;
			bom_checked = true;
		}
		while (pos < n && st == CML_OK) {
			const unsigned char *seg = buf + pos;
			size_t k = 0, len;

			while (pos + k < n && seg[k] != '\n')
				k++;
			len = pos + k < n ? k + 1 : k;
			if (c->at_line_start) {
				if (!c->odd_quotes)
					c->row_line = c->line;
				c->at_line_start = false;
			}
			for (size_t i = 0; i < len; i++)
				if (seg[i] == '"')
					c->odd_quotes = !c->odd_quotes;
			if (csv_parse(&c->parser, seg, len, on_field, on_row, c) != len)
				st = c->err != CML_OK ? c->err : csv_fail(c);
			else if (c->err != CML_OK)
				st = c->err;
			else if (csv_get_buffer_size(&c->parser) > FIELD_MAX)
				st = fail(c->l, CML_ERR_HOSTILE, c->row_line,
				          "a field longer than %d MiB", FIELD_MAX / (1024 * 1024));
			pos += len;
			if (len > 0 && seg[len - 1] == '\n') {
				c->line++;
				c->at_line_start = true;
			}
		}
	}
	if (st == CML_OK && ferror(f))
		st = fail(c->l, CML_ERR_IO, 0, "%s", strerror(errno));
	if (st == CML_OK && csv_fini(&c->parser, on_field, on_row, c) != 0)
		st = csv_error(&c->parser) == CSV_EPARSE
		             ? fail(c->l, CML_ERR_SYNTAX, c->row_line, "unterminated quoted field")
		             : csv_fail(c);
	if (st == CML_OK && c->err != CML_OK)
		st = c->err;
	if (st == CML_OK && !c->header_done)
		st = fail(c->l, CML_ERR_FORMAT, 0, "not a counterparty register (no header row)");
	cml_free(buf);
	return st;
}

static cml_status
load_csv(loader *l, FILE *f)
{
	csvload c = { .l = l, .line = 1, .row_line = 1, .at_line_start = true };
	cml_status st;

	cml_arena_init(&c.arena);
	cml_arena_init(&c.last_arena);
	if ((c.seen = cml_idset_new()) == NULL)
		return fail(l, CML_ERR_NOMEM, 0, "out of memory");
	if (csv_init(&c.parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		cml_idset_free(c.seen);
		return fail(l, CML_ERR_NOMEM, 0, "out of memory");
	}
	csv_set_realloc_func(&c.parser, cml_realloc);
	csv_set_free_func(&c.parser, cml_free);
	st = feed(&c, f);
	csv_free(&c.parser);
	cml_arena_destroy(&c.arena);
	cml_arena_destroy(&c.last_arena);
	cml_free(c.fields);
	cml_idset_free(c.seen);
	return st;
}

cml_status
cml_regfile_load(cml_store *s, const char *path, cml_warn_fn *warn_fn, void *warn_ud,
                 cml_regfile_stats *st, char *err, size_t errsz)
{
	cml_regfile_stats none;
	loader l = { .s = s, .path = path, .warn = warn_fn, .warn_ud = warn_ud, .st = st,
		     .err = err, .errsz = errsz };
	unsigned char head[512];
	cml_status rst;
	FILE *f;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (st == NULL) {
		memset(&none, 0, sizeof(none));
		l.st = &none;
	}
	if (s == NULL || path == NULL) {
		l.path = "register";
		return fail(&l, CML_ERR_USAGE, 0, "no database or no file");
	}
	if (cml_store_run_id(s) == 0)
		return fail(&l, CML_ERR_STATE, 0,
		            "loading a register outside a run (cml_store_run_begin first)");
	if ((f = fopen(path, "rb")) == NULL)
		return fail(&l, CML_ERR_IO, 0, "%s", strerror(errno));
	/* CommerceML or CSV, by the first byte after a BOM and blanks */
	size_t n = fread(head, 1, sizeof(head), f), i = 0;
	if (n >= 3 && memcmp(head, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
		i++;
	if (ferror(f)) {
		rst = fail(&l, CML_ERR_IO, 0, "%s", strerror(errno));
	} else if (i < n && head[i] == '<') {
		rst = load_cml(&l);
	} else {
		rewind(f);
		rst = load_csv(&l, f);
	}
	fclose(f);
	cml_buf_free(&l.tmp);
	return rst;
}

/* ---- writing ---- */

/* One card with its persons and contacts, read from the register. */
typedef struct card_out {
	cml_cp_card card;
	cml_arena arena;       /* everything below */
	cml_pair *own;         /* the card's own contacts (Тип as the kind) */
	size_t n_own;
	struct person_out {
		const char *id, *name;
		cml_pair *contacts;
		size_t n_contacts;
	} *persons;
	size_t n_persons;
	cml_contact_kind *own_kinds; /* parallel to own */
	cml_contact_kind **person_kinds;
} card_out;

static cml_status
wfail(char *err, size_t errsz, cml_status st, const char *fmt, ...) CML_PRINTF(4, 5);

static cml_status
wfail(char *err, size_t errsz, cml_status st, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errsz > 0) {
		va_start(ap, fmt);
		cml_msg_vset(err, errsz, fmt, ap);
		va_end(ap);
	}
	return st;
}

/* Grows an array of n elements of size sz by one, in the arena. */
static void *
grow(cml_arena *a, void *old, size_t n, size_t sz)
{
	/* arenas do not free: double at powers of two */
	if (n > 0 && (n & (n - 1)) != 0)
		return old;
	size_t cap = n == 0 ? 4 : n * 2;
	void *p = cml_arena_alloc(a, cap * sz);

	if (p != NULL && n > 0)
		memcpy(p, old, n * sz);
	return p;
}

/* The persons and contacts of co->card, into co (its arena). */
static cml_status
card_read(cml_store *s, card_out *co, const char *other_type, char *err, size_t errsz)
{
	void *pc = NULL, *cc = NULL;
	cml_cp_person p;
	cml_cp_contact t;
	cml_status st;

	co->n_own = co->n_persons = 0;
	co->own = NULL;
	co->own_kinds = NULL;
	co->persons = NULL;
	co->person_kinds = NULL;
	while ((st = cml_register_persons(s, co->card.id, &pc, &p)) == CML_OK) {
		size_t n = co->n_persons;
		void *np = grow(&co->arena, co->persons, n, sizeof(*co->persons));
		void *nk = grow(&co->arena, co->person_kinds, n, sizeof(*co->person_kinds));

		if (np == NULL || nk == NULL) {
			st = CML_ERR_NOMEM;
			break;
		}
		co->persons = np;
		co->person_kinds = nk;
		co->persons[n].id = cml_arena_strdup(&co->arena, p.id);
		co->persons[n].name = cml_arena_strdup(&co->arena, p.name);
		co->persons[n].contacts = NULL;
		co->persons[n].n_contacts = 0;
		co->person_kinds[n] = NULL;
		if (co->persons[n].id == NULL || co->persons[n].name == NULL) {
			st = CML_ERR_NOMEM;
			break;
		}
		co->n_persons++;
	}
	cml_register_end(s, &pc);
	if (st != CML_END)
		goto bad;
	/* contacts come the card's own first, then by person in Ид order,
	 * as the persons did */
	size_t pi = 0;
	while ((st = cml_register_contacts(s, co->card.id, &cc, &t)) == CML_OK) {
		cml_pair **arr;
		cml_contact_kind **kinds;
		size_t *n;

		if (t.person_id[0] == '\0') {
			arr = &co->own;
			kinds = &co->own_kinds;
			n = &co->n_own;
		} else {
			while (pi < co->n_persons && strcmp(co->persons[pi].id, t.person_id) < 0)
				pi++;
			if (pi == co->n_persons || strcmp(co->persons[pi].id, t.person_id) != 0)
				continue; /* not possible: a person's contact without the person */
			arr = &co->persons[pi].contacts;
			kinds = &co->person_kinds[pi];
			n = &co->persons[pi].n_contacts;
		}
		cml_pair *na = grow(&co->arena, *arr, *n, sizeof(**arr));
		cml_contact_kind *nk = grow(&co->arena, *kinds, *n, sizeof(**kinds));
		if (na == NULL || nk == NULL) {
			st = CML_ERR_NOMEM;
			break;
		}
		*arr = na;
		*kinds = nk;
		na[*n].name = t.kind == CML_CONTACT_OTHER ? other_type : "";
		na[*n].value = cml_arena_strdup(&co->arena, t.value);
		nk[*n] = t.kind;
		if (na[*n].value == NULL) {
			st = CML_ERR_NOMEM;
			break;
		}
		(*n)++;
	}
	cml_register_end(s, &cc);
	if (st == CML_END)
		return CML_OK;
bad:
	if (st == CML_ERR_NOMEM)
		return wfail(err, errsz, st, "out of memory");
	return wfail(err, errsz, st, "%s", cml_store_errmsg(s));
}

/* Copies the card's strings into co's arena (the cursor's move on). */
static bool
card_keep(card_out *co, const cml_cp_card *c)
{
	cml_arena *a = &co->arena;

	co->card = *c;
	co->card.id = cml_arena_strdup(a, c->id);
	co->card.name = cml_arena_strdup(a, c->name);
	co->card.full_name = cml_arena_strdup(a, c->full_name);
	co->card.inn = cml_arena_strdup(a, c->inn);
	co->card.kpp = cml_arena_strdup(a, c->kpp);
	co->card.okpo = cml_arena_strdup(a, c->okpo);
	co->card.head_id = cml_arena_strdup(a, c->head_id);
	co->card.reg_address = cml_arena_strdup(a, c->reg_address);
	co->card.legal_address = cml_arena_strdup(a, c->legal_address);
	co->card.origin = cml_arena_strdup(a, c->origin);
	return co->card.id != NULL && co->card.name != NULL && co->card.full_name != NULL &&
	       co->card.inn != NULL && co->card.kpp != NULL && co->card.okpo != NULL &&
	       co->card.head_id != NULL && co->card.reg_address != NULL &&
	       co->card.legal_address != NULL && co->card.origin != NULL;
}

/*
 * Every card with its persons and contacts, in Ид order, handed to fn.
 * The cards cursor cannot stay open while persons and contacts are read
 * for the output (a cursor per card's lists is fine, but the store is
 * read, not written, so they may interleave): each card is copied out
 * first, then its lists are read.
 */
typedef cml_status card_fn(void *ud, const card_out *co);

static cml_status
each_card(cml_store *s, card_fn *fn, void *ud, const char *other_type, char *err,
          size_t errsz)
{
	card_out co;
	void *cur = NULL;
	cml_cp_card c;
	cml_status st;

	memset(&co, 0, sizeof(co));
	cml_arena_init(&co.arena);
	while ((st = cml_register_next(s, &cur, &c)) == CML_OK) {
		cml_arena_reset(&co.arena);
		if (!card_keep(&co, &c)) {
			st = wfail(err, errsz, CML_ERR_NOMEM, "out of memory");
			break;
		}
		if ((st = card_read(s, &co, other_type, err, errsz)) != CML_OK)
			break;
		if ((st = fn(ud, &co)) != CML_OK)
			break;
	}
	if (st != CML_OK && st != CML_END && err != NULL && err[0] == '\0')
		wfail(err, errsz, st, "%s", cml_store_errmsg(s));
	cml_register_end(s, &cur);
	cml_arena_destroy(&co.arena);
	return st == CML_END ? CML_OK : st;
}

/* ---- CSV out ---- */

typedef struct csvout {
	FILE *out;
	cml_buf list;   /* ";"-joined values */
	cml_buf row;
	char *err;
	size_t errsz;
} csvout;

/* A field, quoted as RFC 4180 says when it must be (a comma, quote, CR,
 * LF, or spaces at either end that a reader would trim). */
static bool
field(csvout *o, const char *v, bool last)
{
	size_t n = strlen(v);
	bool quote = n > 0 && (strpbrk(v, ",\"\r\n") != NULL || v[0] == ' ' || v[n - 1] == ' ');
	bool ok = true;

	if (!quote) {
		ok = cml_buf_append(&o->row, v, n);
	} else {
		ok = cml_buf_append(&o->row, "\"", 1);
		for (const char *p = v, *q; ok && *p != '\0'; p = q + 1) {
			q = strchr(p, '"');
			if (q == NULL) {
				ok = cml_buf_append(&o->row, p, strlen(p));
				break;
			}
			ok = cml_buf_append(&o->row, p, (size_t)(q - p)) &&
			     cml_buf_append(&o->row, "\"\"", 2);
		}
		ok = ok && cml_buf_append(&o->row, "\"", 1);
	}
	return ok && cml_buf_append(&o->row, last ? "\r\n" : ",", last ? 2 : 1);
}

/* The values of contacts of one kind joined by ";". */
static const char *
joined(csvout *o, const cml_pair *c, const cml_contact_kind *kinds, size_t n,
       cml_contact_kind kind)
{
	cml_buf_clear(&o->list);
	if (!cml_buf_append(&o->list, "", 0))
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (kinds[i] != kind)
			continue;
		if (o->list.len > 0 && !cml_buf_append(&o->list, ";", 1))
			return NULL;
		if (!cml_buf_append(&o->list, c[i].value, strlen(c[i].value)))
			return NULL;
	}
	return o->list.data;
}

static cml_status
csv_card(void *ud, const card_out *co)
{
	csvout *o = ud;
	const cml_cp_card *c = &co->card;
	size_t rows = co->n_persons > 0 ? co->n_persons : 1;

	for (size_t r = 0; r < rows; r++) {
		const struct person_out *p = r < co->n_persons ? &co->persons[r] : NULL;
		bool first = r == 0, ok = true;

		cml_buf_clear(&o->row);
		for (int k = 0; k < K_COUNT && ok; k++) {
			const char *v = "";

			switch ((enum csv_col)k) {
			case K_ID: v = c->id; break;
			case K_NAME: v = first ? c->name : ""; break;
			case K_FULL_NAME: v = first ? c->full_name : ""; break;
			case K_KIND: v = first ? cml_cp_kind_name(c->kind) : ""; break;
			case K_INN: v = first ? c->inn : ""; break;
			case K_KPP: v = first ? c->kpp : ""; break;
			case K_OKPO: v = first ? c->okpo : ""; break;
			case K_HEAD_ID: v = first ? c->head_id : ""; break;
			case K_REG_ADDRESS: v = first ? c->reg_address : ""; break;
			case K_LEGAL_ADDRESS: v = first ? c->legal_address : ""; break;
			case K_DELETED: v = first && c->deleted ? "1" : first ? "0" : ""; break;
			case K_MARKETPLACE:
				v = first && c->marketplace ? "1" : first ? "0" : "";
				break;
			case K_EMAIL:
			case K_PHONE:
				if (first)
					v = joined(o, co->own, co->own_kinds, co->n_own,
						k == K_EMAIL ? CML_CONTACT_EMAIL : CML_CONTACT_PHONE);
				break;
			case K_PERSON_ID: v = p != NULL ? p->id : ""; break;
			case K_PERSON_NAME: v = p != NULL ? p->name : ""; break;
			case K_PERSON_EMAIL:
			case K_PERSON_PHONE:
				if (p != NULL)
					v = joined(o, p->contacts, co->person_kinds[r],
					           p->n_contacts,
						k == K_PERSON_EMAIL ? CML_CONTACT_EMAIL
						                    : CML_CONTACT_PHONE);
				break;
			case K_COUNT: break;
			}
			if (v == NULL)
				ok = false;
			else
				ok = field(o, v, k == K_COUNT - 1);
		}
		if (!ok)
			return wfail(o->err, o->errsz, CML_ERR_NOMEM, "out of memory");
		if (fwrite(o->row.data, 1, o->row.len, o->out) != o->row.len)
			return wfail(o->err, o->errsz, CML_ERR_IO, "output: %s", strerror(errno));
	}
	return CML_OK;
}

cml_status
cml_regfile_write_csv(cml_store *s, FILE *out, char *err, size_t errsz)
{
	csvout o = { .out = out, .err = err, .errsz = errsz };
	cml_status st = CML_OK;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (s == NULL || out == NULL)
		return wfail(err, errsz, CML_ERR_USAGE, "no database or no output");
	for (int k = 0; k < K_COUNT && st == CML_OK; k++)
		if (!field(&o, csv_names[k], k == K_COUNT - 1))
			st = wfail(err, errsz, CML_ERR_NOMEM, "out of memory");
	if (st == CML_OK && fwrite(o.row.data, 1, o.row.len, out) != o.row.len)
		st = wfail(err, errsz, CML_ERR_IO, "output: %s", strerror(errno));
	if (st == CML_OK)
		st = each_card(s, csv_card, &o, "", err, errsz);
	if (st == CML_OK && (fflush(out) != 0 || ferror(out)))
		st = wfail(err, errsz, CML_ERR_IO, "output: %s", strerror(errno ? errno : EIO));
	cml_buf_free(&o.list);
	cml_buf_free(&o.row);
	return st;
}

/* ---- CommerceML out ---- */

typedef struct cmlout {
	cml_stream_writer *sw;
	const char *email_type, *phone_type;
	cml_arena arena;     /* the item of the card at hand */
	char *err;
	size_t errsz;
} cmlout;

/* Contacts with the Тип names of the schema written. */
static cml_pair *
typed(cmlout *o, const cml_pair *c, const cml_contact_kind *kinds, size_t n)
{
	cml_pair *t = n > 0 ? cml_arena_alloc(&o->arena, n * sizeof(*t)) : NULL;

	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		t[i] = c[i];
		if (kinds[i] == CML_CONTACT_EMAIL)
			t[i].name = o->email_type;
		else if (kinds[i] == CML_CONTACT_PHONE)
			t[i].name = o->phone_type;
	}
	return t;
}

static cml_status
cml_card(void *ud, const card_out *co)
{
	cmlout *o = ud;
	const cml_cp_card *c = &co->card;
	cml_item it;
	cml_counterparty *cp = &it.u.counterparty;
	cml_status st;

	memset(&it, 0, sizeof(it));
	cml_arena_reset(&o->arena);
	it.kind = CML_ITEM_COUNTERPARTY;
	cp->id = c->id;
	cp->name = c->name;
	cp->deleted = c->deleted;
	/* a legal entity's or an entrepreneur's name is official (the rule of
	 * cml_cp_kind_of reads it back as the same kind) */
	if (c->kind == CML_CP_LEGAL || c->kind == CML_CP_ENTREPRENEUR)
		cp->official_name = c->full_name[0] != '\0' ? c->full_name : NULL;
	else
		cp->full_name = c->full_name[0] != '\0' ? c->full_name : NULL;
	cp->inn = c->inn[0] != '\0' ? c->inn : NULL;
	cp->kpp = c->kpp[0] != '\0' ? c->kpp : NULL;
	cp->okpo = c->okpo[0] != '\0' ? c->okpo : NULL;
	cp->reg_address.presentation = c->reg_address[0] != '\0' ? c->reg_address : NULL;
	cp->legal_address.presentation = c->legal_address[0] != '\0' ? c->legal_address : NULL;
	cp->only_changes = CML_FALSE;
	if (co->n_own > 0 && (cp->contacts = typed(o, co->own, co->own_kinds, co->n_own)) == NULL)
		return wfail(o->err, o->errsz, CML_ERR_NOMEM, "out of memory");
	cp->n_contacts = co->n_own;
	if (co->n_persons > 0) {
		cp->representatives =
			cml_arena_alloc(&o->arena, co->n_persons * sizeof(*cp->representatives));
		if (cp->representatives == NULL)
			return wfail(o->err, o->errsz, CML_ERR_NOMEM, "out of memory");
		for (size_t i = 0; i < co->n_persons; i++) {
			cml_representative *r = &cp->representatives[i];
			const struct person_out *p = &co->persons[i];

			memset(r, 0, sizeof(*r));
			r->relation = "Контактное лицо";
			r->id = p->id;
			r->name = p->name;
			r->n_contacts = p->n_contacts;
			if (p->n_contacts > 0 &&
			    (r->contacts = typed(o, p->contacts, co->person_kinds[i],
			                         p->n_contacts)) == NULL)
				return wfail(o->err, o->errsz, CML_ERR_NOMEM, "out of memory");
		}
		cp->n_representatives = co->n_persons;
	}
	if ((st = cml_stream_writer_add(o->sw, &it)) != CML_OK)
		return wfail(o->err, o->errsz, st, "card %s: %s", c->id,
		             cml_stream_writer_errmsg(o->sw));
	return CML_OK;
}

cml_status
cml_regfile_write_cml(cml_store *s, FILE *out, const cml_writer_opts *opts, char *err,
                      size_t errsz)
{
	cmlout o = { .err = err, .errsz = errsz };
	const char *schema = opts != NULL && opts->schema != NULL ? opts->schema : "2.05";
	cml_status st;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	if (s == NULL || out == NULL)
		return wfail(err, errsz, CML_ERR_USAGE, "no database or no output");
	if ((o.sw = cml_stream_writer_new(out, opts)) == NULL)
		return wfail(err, errsz, CML_ERR_USAGE,
		             "cannot write CommerceML with these options (schema \"%s\")", schema);
	/* the contact types sites write: 2.05 and before, and after */
	bool old = strncmp(schema, "2.0", 3) == 0 && schema[3] >= '0' && schema[3] <= '5' &&
	           schema[4] == '\0';
	o.email_type = old ? "Почта" : "Электронная почта";
	o.phone_type = old ? "ТелефонРабочий" : "Телефон рабочий";
	cml_arena_init(&o.arena);
	st = each_card(s, cml_card, &o, "Прочее", err, errsz);
	if (st == CML_OK && (st = cml_stream_writer_finish(o.sw)) != CML_OK)
		wfail(err, errsz, st, "%s", cml_stream_writer_errmsg(o.sw));
	cml_stream_writer_free(o.sw);
	cml_arena_destroy(&o.arena);
	return st;
}
