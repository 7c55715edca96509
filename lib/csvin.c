/*
 * csvin.c: the CSV tables of cmlkit-csv(5), read on libcsv.
 *
 * libcsv pushes fields and rows through callbacks; cml_csv_reader_next()
 * pulls one item. The bridge: input is fed to csv_parse() one segment at
 * a time, a segment ending at the first CR or LF, so that a call ends at
 * most one row and parsing stops right there. The reader then holds one
 * row (in an arena reset per row), one 64 KiB input buffer and libcsv's
 * field buffer: memory does not grow with the file.
 *
 * Line numbers count LF bytes. A row starts on the first line that
 * begins with an even number of quotes behind it: in RFC 4180 a newline
 * is inside a quoted field exactly when an odd number of quote characters
 * precede it in the row, and strict libcsv refuses any other quote.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <csv.h>

#include "cml/csv.h"
#include "cml_private.h"

#define READ_CHUNK (64 * 1024)
#define FIELD_MAX (16 * 1024 * 1024)  /* longer fields are refused */
#define NUM_MAX 136                   /* cml_num_canon's longest result */
#define COLUMNS_MAX 10000             /* a wider header is refused */
/* What one row may take in memory, its fields together: the per-item
 * limit of cmlkit(7), as for a CommerceML item. */
#define ROW_MAX ((size_t)64 * 1024 * 1024)

/* What a column means. C_ID is the table's first column. */
typedef enum col_id {
	C_ID,
	C_PARENT_ID,
	C_NAME,
	C_VALUE_TYPE,
	C_CURRENCY,
	C_TAX_NAME,
	C_TAX_IN_SUM,
	C_ADDRESS,
	C_ARTICLE,
	C_BARCODE,
	C_UNIT_CODE,
	C_UNIT,
	C_UNIT_FULL_NAME,
	C_GROUP_IDS,
	C_DESCRIPTION,
	C_MANUFACTURER,
	C_COUNTRY,
	C_PICTURES,
	C_TAX_RATE,
	C_DELETED,
	C_CHARACTERISTICS,
	C_QUANTITY,
	/* order progress: read by the caller through cml_csv_reader_cell */
	C_ORDER,
	C_SITE,
	C_STEP,
	C_NUMBER,
	C_DATE,
	C_AMOUNT,
	C_QTY,
	C_REASON,
	C_VERSION,
	C_CHANGED,
	C_NOTE,
	/* the catalog's identity */
	C_CLASSIFIER_ID,
	C_CLASSIFIER_NAME,
	C_OFFERS_ID,
	C_OFFERS_NAME,
	C_WHOLE,
	C_FIXED_COUNT,
	/* prefixed families: many columns each */
	C_PROP = C_FIXED_COUNT,
	C_REQ,
	C_PRICE,
	C_PRICE_CURRENCY,
	C_STOCK,
} col_id;

typedef struct colspec {
	const char *name;
	col_id id;
	bool required; /* in the header, and non-empty in every row */
} colspec;

static const colspec groups_cols[] = {
	{ "group_id", C_ID, true },
	{ "parent_id", C_PARENT_ID, false },
	{ "name", C_NAME, true },
	{ NULL, C_ID, false },
};

static const colspec properties_cols[] = {
	{ "property_id", C_ID, true },
	{ "name", C_NAME, true },
	{ "value_type", C_VALUE_TYPE, false },
	{ NULL, C_ID, false },
};

static const colspec price_types_cols[] = {
	{ "price_type_id", C_ID, true },
	{ "name", C_NAME, true },
	{ "currency", C_CURRENCY, false },
	{ "tax_name", C_TAX_NAME, false },
	{ "tax_in_sum", C_TAX_IN_SUM, false },
	{ NULL, C_ID, false },
};

static const colspec warehouses_cols[] = {
	{ "warehouse_id", C_ID, true },
	{ "name", C_NAME, true },
	{ "address", C_ADDRESS, false },
	{ NULL, C_ID, false },
};

static const colspec products_cols[] = {
	{ "product_id", C_ID, true },
	{ "name", C_NAME, true },
	{ "article", C_ARTICLE, false },
	{ "barcode", C_BARCODE, false },
	{ "unit_code", C_UNIT_CODE, false },
	{ "unit", C_UNIT, false },
	{ "unit_full_name", C_UNIT_FULL_NAME, false },
	{ "group_ids", C_GROUP_IDS, false },
	{ "description", C_DESCRIPTION, false },
	{ "manufacturer", C_MANUFACTURER, false },
	{ "country", C_COUNTRY, false },
	{ "pictures", C_PICTURES, false },
	{ "tax_name", C_TAX_NAME, false },
	{ "tax_rate", C_TAX_RATE, false },
	{ "deleted", C_DELETED, false },
	{ "prop:", C_PROP, false },
	{ "req:", C_REQ, false },
	{ NULL, C_ID, false },
};

static const colspec offers_cols[] = {
	{ "offer_id", C_ID, true },
	{ "name", C_NAME, false },
	{ "article", C_ARTICLE, false },
	{ "barcode", C_BARCODE, false },
	{ "unit_code", C_UNIT_CODE, false },
	{ "unit", C_UNIT, false },
	{ "characteristics", C_CHARACTERISTICS, false },
	{ "quantity", C_QUANTITY, false },
	{ "deleted", C_DELETED, false },
	{ "price:", C_PRICE, false },
	{ "currency:", C_PRICE_CURRENCY, false },
	{ "stock:", C_STOCK, false },
	{ NULL, C_ID, false },
};

/* Order progress (cmlkit-csv(5) "Order progress"): one step a row, the
 * cells read as text by the program that knows the steps. */
static const colspec progress_cols[] = {
	{ "order", C_ORDER, true },
	{ "step", C_STEP, true },
	{ "site", C_SITE, false },
	{ "number", C_NUMBER, false },
	{ "date", C_DATE, false },
	{ "amount", C_AMOUNT, false },
	{ "qty", C_QTY, false },
	{ "reason", C_REASON, false },
	{ "version", C_VERSION, false },
	{ "changed", C_CHANGED, false },
	{ "note", C_NOTE, false },
	{ NULL, C_ID, false },
};

/* The catalog's identity (cmlkit-csv(5) "Catalog"): one row, handed out
 * as the three headers a CommerceML catalog has. */
static const colspec catalog_cols[] = {
	{ "catalog_id", C_ID, true },
	{ "name", C_NAME, false },
	{ "classifier_id", C_CLASSIFIER_ID, false },
	{ "classifier_name", C_CLASSIFIER_NAME, false },
	{ "offers_id", C_OFFERS_ID, false },
	{ "offers_name", C_OFFERS_NAME, false },
	{ "whole", C_WHOLE, false },
	{ NULL, C_ID, false },
};

static const struct table {
	cml_csv_table table;
	const char *what; /* for messages */
	const colspec *cols;
} tables[] = {
	{ CML_CSV_GROUPS, "groups", groups_cols },
	{ CML_CSV_PROPERTIES, "properties", properties_cols },
	{ CML_CSV_PRICE_TYPES, "price types", price_types_cols },
	{ CML_CSV_WAREHOUSES, "warehouses", warehouses_cols },
	{ CML_CSV_PRODUCTS, "products", products_cols },
	{ CML_CSV_OFFERS, "offers", offers_cols },
	{ CML_CSV_PROGRESS, "progress", progress_cols },
	{ CML_CSV_CATALOG, "catalog", catalog_cols },
};

typedef struct column {
	char *name;      /* as in the header */
	col_id id;
	const char *arg; /* after the prefix, for the families */
} column;

struct cml_csv_reader {
	struct csv_parser parser;
	bool parser_live;  /* csv_init done, csv_free owed */
	bool open;

	/* input */
	int fd;            /* -1 for memory */
	bool own_fd;       /* opened by open_file: closed by the reader */
	unsigned char *rbuf;
	const unsigned char *data;
	size_t len, pos;
	bool eof;          /* nothing more to read into data */
	bool finished;     /* csv_fini done */
	bool bom_checked;
	char *name;

	/* position */
	unsigned long line;      /* physical line of the next byte */
	unsigned long row_line;  /* line the row being parsed started on */
	bool at_line_start;
	bool odd_quotes;         /* inside a quoted field at a line start */

	/* the row being parsed or handed out */
	cml_arena arena;
	char **fields;
	size_t n_fields, cap_fields;
	bool row_ready;
	unsigned long done_row_line;
	cml_status cb_err;       /* a callback failed; errmsg says why */

	/* the header */
	cml_csv_table table;
	const struct table *spec;
	column *cols;
	size_t n_cols;
	long fixed[C_FIXED_COUNT]; /* column index of each fixed column, or -1 */
	bool has_prices, has_stocks;

	cml_item item;
	int head_next;           /* catalog table: the next header of the row */
	cml_status err;          /* sticky */
	char errmsg[CML_ERRMSG_MAX];
};

static cml_status
fail(cml_csv_reader *r, cml_status st, const char *fmt, ...) CML_PRINTF(3, 4);

static cml_status
fail(cml_csv_reader *r, cml_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cml_msg_vset(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
	r->err = st;
	return st;
}

static cml_status
fail_nomem(cml_csv_reader *r)
{
	return fail(r, CML_ERR_NOMEM, "%s: out of memory", r->name ? r->name : "csv");
}

/* ---- libcsv callbacks ---- */

static void
on_field(void *s, size_t len, void *data)
{
	cml_csv_reader *r = data;
	char *f;

	if (r->cb_err != CML_OK)
		return;
	if (r->n_cols > 0 && r->n_fields >= r->n_cols) {
		fail(r, CML_ERR_FORMAT, "%s:%lu: row has more fields than the header (%zu)",
		     r->name, r->row_line, r->n_cols);
		r->cb_err = CML_ERR_FORMAT;
		return;
	}
	if (r->n_cols == 0 && r->n_fields >= COLUMNS_MAX) {
		fail(r, CML_ERR_HOSTILE, "%s:%lu: more than %d columns",
		     r->name, r->row_line, COLUMNS_MAX);
		r->cb_err = CML_ERR_HOSTILE;
		return;
	}
	if (len > 0 && memchr(s, '\0', len) != NULL) {
		fail(r, CML_ERR_SYNTAX, "%s:%lu: field %zu holds a NUL byte",
		     r->name, r->row_line, r->n_fields + 1);
		r->cb_err = CML_ERR_SYNTAX;
		return;
	}
	if (r->n_fields == r->cap_fields) {
		size_t cap = r->cap_fields ? r->cap_fields * 2 : 32;
		char **nf = cml_realloc(r->fields, cap * sizeof(*nf));

		if (nf == NULL)
			goto nomem;
		r->fields = nf;
		r->cap_fields = cap;
	}
	if (len + 1 > ROW_MAX - (r->arena.used < ROW_MAX ? r->arena.used : ROW_MAX)) {
		if (r->n_fields > 0 && r->fields[0][0] != '\0')
			fail(r, CML_ERR_HOSTILE,
			     "%s:%lu: the row of %s '%s' takes more than %zu MiB: refused (the "
			     "limit of one item, see cmlkit(7))",
			     r->name, r->row_line, r->n_cols ? r->cols[0].name : "id", r->fields[0],
			     ROW_MAX / (1024 * 1024));
		else
			fail(r, CML_ERR_HOSTILE,
			     "%s:%lu: the row takes more than %zu MiB: refused (the limit of one "
			     "item, see cmlkit(7))",
			     r->name, r->row_line, ROW_MAX / (1024 * 1024));
		r->cb_err = CML_ERR_HOSTILE;
		return;
	}
	f = cml_arena_alloc(&r->arena, len + 1);
	if (f == NULL)
		goto nomem;
	/* A CR LF inside a quoted field becomes LF, so values do not depend
	 * on the line ends of the file. */
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		char c = ((const char *)s)[i];

		if (c == '\r' && i + 1 < len && ((const char *)s)[i + 1] == '\n')
			continue;
		f[o++] = c;
	}
	f[o] = '\0';
	r->fields[r->n_fields++] = cml_trim(f);
	return;
nomem:
	fail_nomem(r);
	r->cb_err = CML_ERR_NOMEM;
}

static void
on_row(int c, void *data)
{
	cml_csv_reader *r = data;

	(void)c;
	if (r->cb_err != CML_OK)
		return;
	r->row_ready = true;
	r->done_row_line = r->row_line;
}

/* ---- input ---- */

static cml_status
refill(cml_csv_reader *r)
{
	size_t keep = r->len - r->pos;
	ssize_t n;

	if (r->fd < 0) {
		r->eof = true;
		return CML_OK;
	}
	if (keep > 0)
		memmove(r->rbuf, r->data + r->pos, keep);
	r->data = r->rbuf;
	r->pos = 0;
	r->len = keep;
	do
		n = read(r->fd, r->rbuf + keep, READ_CHUNK - keep);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail(r, CML_ERR_IO, "%s: %s", r->name, strerror(errno));
	if (n == 0)
		r->eof = true;
	r->len += (size_t)n;
	return CML_OK;
}

static cml_status
parse_error(cml_csv_reader *r)
{
	int e = csv_error(&r->parser);

	if (e == CSV_ENOMEM)
		return fail_nomem(r);
	if (e == CSV_EPARSE)
		return fail(r, CML_ERR_SYNTAX,
		            "%s:%lu: malformed CSV: a quote inside an unquoted field "
		            "or text after a closing quote", r->name, r->line);
	return fail(r, CML_ERR_SYNTAX, "%s:%lu: %s", r->name, r->line, csv_strerror(e));
}

/*
 * Feeds input until a row is complete (CML_OK, the row in r->fields) or
 * the input ends (CML_END). Rows whose fields are all empty are skipped.
 */
static cml_status
pump_row(cml_csv_reader *r)
{
	cml_status st;

	for (;;) {
		if (r->row_ready) {
			bool empty = true;

			for (size_t i = 0; i < r->n_fields && empty; i++)
				empty = r->fields[i][0] == '\0';
			if (!empty)
				return CML_OK;
			r->row_ready = false;
			r->n_fields = 0;
			cml_arena_reset(&r->arena);
		}
		if (r->finished)
			return CML_END;
		if (!r->bom_checked && r->len - r->pos < 3 && !r->eof) {
			if ((st = refill(r)) != CML_OK)
				return st;
			continue;
		}
		if (!r->bom_checked) {
			if (r->len - r->pos >= 3 && memcmp(r->data + r->pos, "\xEF\xBB\xBF", 3) == 0)
				r->pos += 3;
			r->bom_checked = true;
		}
		if (r->pos == r->len) {
			if (!r->eof) {
				if ((st = refill(r)) != CML_OK)
					return st;
				continue;
			}
			r->finished = true;
			if (csv_fini(&r->parser, on_field, on_row, r) != 0) {
				if (csv_error(&r->parser) == CSV_EPARSE)
					return fail(r, CML_ERR_SYNTAX,
					            "%s:%lu: unterminated quoted field",
					            r->name, r->row_line);
				return parse_error(r);
			}
			if (r->cb_err != CML_OK)
				return r->cb_err;
			continue;
		}

		const unsigned char *seg = r->data + r->pos;
		size_t n = r->len - r->pos, k;

		for (k = 0; k < n; k++)
			if (seg[k] == '\n' || seg[k] == '\r')
				break;
		if (k < n)
			n = k + 1;
		if (r->at_line_start) {
			if (!r->odd_quotes)
				r->row_line = r->line;
			r->at_line_start = false;
		}
		for (k = 0; k < n; k++)
			if (seg[k] == '"')
				r->odd_quotes = !r->odd_quotes;
		if (csv_parse(&r->parser, seg, n, on_field, on_row, r) != n) {
			if (r->cb_err != CML_OK)
				return r->cb_err;
			return parse_error(r);
		}
		if (r->cb_err != CML_OK)
			return r->cb_err;
		r->pos += n;
		if (seg[n - 1] == '\n') {
			r->line++;
			r->at_line_start = true;
		}
		if (csv_get_buffer_size(&r->parser) > FIELD_MAX)
			return fail(r, CML_ERR_HOSTILE, "%s:%lu: a field longer than %d MiB",
			            r->name, r->line, FIELD_MAX / (1024 * 1024));
	}
}

/* ---- values ---- */

/* The trimmed cell of column i, NULL when empty or missing. */
static char *
cell_at(const cml_csv_reader *r, size_t i)
{
	if (i >= r->n_fields || r->fields[i][0] == '\0')
		return NULL;
	return r->fields[i];
}

static char *
cell(const cml_csv_reader *r, col_id id)
{
	return r->fixed[id] < 0 ? NULL : cell_at(r, (size_t)r->fixed[id]);
}

static cml_status
bad_value(cml_csv_reader *r, size_t col, const char *what, const char *v)
{
	return fail(r, CML_ERR_VALUE, "%s:%lu: column %s: '%s' %s", r->name,
	            r->done_row_line, r->cols[col].name, v, what);
}

/* A canonical number in the arena; *out NULL for an empty cell. */
static cml_status
number_at(cml_csv_reader *r, size_t col, const char **out)
{
	char num[NUM_MAX];
	const char *v = cell_at(r, col);

	*out = NULL;
	if (v == NULL)
		return CML_OK;
	if (!cml_num_canon(v, num, sizeof(num)))
		return bad_value(r, col, "is not a number", v);
	if ((*out = cml_arena_strdup(&r->arena, num)) == NULL)
		return fail_nomem(r);
	return CML_OK;
}

static bool
word_is(const char *v, const char *w)
{
	return strcasecmp(v, w) == 0;
}

/* true/false/1/0/yes/no, any case; empty is unset. */
static cml_status
tristate(cml_csv_reader *r, col_id id, cml_tristate *out)
{
	const char *v = cell(r, id);

	*out = CML_UNSET;
	if (v == NULL)
		return CML_OK;
	if (word_is(v, "true") || word_is(v, "1") || word_is(v, "yes"))
		*out = CML_TRUE;
	else if (word_is(v, "false") || word_is(v, "0") || word_is(v, "no"))
		*out = CML_FALSE;
	else
		return bad_value(r, (size_t)r->fixed[id], "is not true or false", v);
	return CML_OK;
}

/* Grows an arena array by one element; old copies stay in the arena
 * until the row is done, which costs less than counting first. */
static void *
push(cml_arena *a, void *arr, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		void *na = cml_arena_alloc(a, ncap * size);

		if (na == NULL)
			return NULL;
		if (*n > 0)
			memcpy(na, arr, *n * size);
		arr = na;
		*cap = ncap;
	}
	(*n)++;
	return arr;
}

/*
 * Splits a cell (in place: it lives in the row's arena) at ';' into
 * trimmed non-empty parts, calling fn on each.
 */
typedef cml_status (*part_fn)(cml_csv_reader *r, size_t col, char *part, void *ctx);

static cml_status
split(cml_csv_reader *r, size_t col, char *v, part_fn fn, void *ctx)
{
	cml_status st = CML_OK;

	while (v != NULL && st == CML_OK) {
		char *semi = strchr(v, ';');

		if (semi != NULL)
			*semi = '\0';
		char *part = cml_trim(v);
		if (*part != '\0')
			st = fn(r, col, part, ctx);
		v = semi != NULL ? semi + 1 : NULL;
	}
	return st;
}

typedef struct strlist {
	const char **v;
	size_t n, cap;
} strlist;

static cml_status
add_string(cml_csv_reader *r, size_t col, char *part, void *ctx)
{
	strlist *l = ctx;
	const char **nv = push(&r->arena, l->v, &l->n, &l->cap, sizeof(*l->v));

	(void)col;
	if (nv == NULL)
		return fail_nomem(r);
	l->v = nv;
	l->v[l->n - 1] = part;
	return CML_OK;
}

typedef struct proplist {
	cml_prop_value *v;
	size_t n, cap;
	const char *id;
} proplist;

static cml_status
add_prop(cml_csv_reader *r, size_t col, char *part, void *ctx)
{
	proplist *l = ctx;
	cml_prop_value *nv = push(&r->arena, l->v, &l->n, &l->cap, sizeof(*l->v));

	(void)col;
	if (nv == NULL)
		return fail_nomem(r);
	l->v = nv;
	l->v[l->n - 1].id = l->id;
	l->v[l->n - 1].value = part;
	return CML_OK;
}

typedef struct pairlist {
	cml_pair *v;
	size_t n, cap;
} pairlist;

static cml_status
add_pair(cml_csv_reader *r, pairlist *l, const char *name, const char *value)
{
	cml_pair *nv = push(&r->arena, l->v, &l->n, &l->cap, sizeof(*l->v));

	if (nv == NULL)
		return fail_nomem(r);
	l->v = nv;
	l->v[l->n - 1].name = name;
	l->v[l->n - 1].value = value;
	return CML_OK;
}

/* "Размер=M": the name before the first '=', the value after it. */
static cml_status
add_characteristic(cml_csv_reader *r, size_t col, char *part, void *ctx)
{
	char *eq = strchr(part, '=');
	char *name, *value;

	if (eq == NULL)
		return bad_value(r, col, "has no '=' between name and value", part);
	*eq = '\0';
	name = cml_trim(part);
	value = cml_trim(eq + 1);
	if (*name == '\0') {
		*eq = '=';
		return bad_value(r, col, "has no name before '='", part);
	}
	return add_pair(r, ctx, name, *value != '\0' ? value : NULL);
}

/* A required column's cell, or an error naming it. */
static cml_status
required(cml_csv_reader *r, col_id id, const char **out)
{
	*out = cell(r, id);
	if (*out == NULL)
		return fail(r, CML_ERR_VALUE, "%s:%lu: column %s: required value is empty",
		            r->name, r->done_row_line, r->cols[r->fixed[id]].name);
	return CML_OK;
}

/* ---- items ---- */

static cml_status
build_group(cml_csv_reader *r, cml_group *g)
{
	cml_status st;

	if ((st = required(r, C_ID, &g->id)) != CML_OK ||
	    (st = required(r, C_NAME, &g->name)) != CML_OK)
		return st;
	g->parent_id = cell(r, C_PARENT_ID);
	return CML_OK;
}

static cml_status
build_property(cml_csv_reader *r, cml_property *p)
{
	cml_status st;

	if ((st = required(r, C_ID, &p->id)) != CML_OK ||
	    (st = required(r, C_NAME, &p->name)) != CML_OK)
		return st;
	p->value_type = cell(r, C_VALUE_TYPE);
	if (p->value_type == NULL)
		p->value_type = "Строка";
	return CML_OK;
}

static cml_status
build_price_type(cml_csv_reader *r, cml_price_type *p)
{
	cml_status st;

	if ((st = required(r, C_ID, &p->id)) != CML_OK ||
	    (st = required(r, C_NAME, &p->name)) != CML_OK)
		return st;
	p->currency = cell(r, C_CURRENCY);
	p->tax_name = cell(r, C_TAX_NAME);
	return tristate(r, C_TAX_IN_SUM, &p->tax_in_sum);
}

static cml_status
build_warehouse(cml_csv_reader *r, cml_warehouse *w)
{
	cml_status st;

	if ((st = required(r, C_ID, &w->id)) != CML_OK ||
	    (st = required(r, C_NAME, &w->name)) != CML_OK)
		return st;
	w->address = cell(r, C_ADDRESS);
	return CML_OK;
}

/* "PREFIX (NAME)" in the row's arena; NULL when name is NULL or out of
 * memory (*oom says which). */
static const char *
named_after(cml_csv_reader *r, const char *prefix, const char *name, bool *oom)
{
	size_t np = strlen(prefix), nn;
	char *p;

	if (name == NULL)
		return NULL;
	nn = strlen(name);
	if ((p = cml_arena_alloc(&r->arena, np + nn + 4)) == NULL) {
		*oom = true;
		return NULL;
	}
	memcpy(p, prefix, np);
	memcpy(p + np, " (", 2);
	memcpy(p + np + 2, name, nn);
	memcpy(p + np + 2 + nn, ")", 2);
	return p;
}

/*
 * The catalog table's row as header item number k: the Классификатор,
 * the Каталог, the ПакетПредложений. A catalog is changes only unless the
 * row says whole: CSV tables without a header never deleted by absence,
 * and a catalog table only to give the identity must not start to.
 */
static cml_status
build_header(cml_csv_reader *r, int k, cml_item *it)
{
	const char *cat_id, *cls_id = cell(r, C_CLASSIFIER_ID);
	const char *pkg_id = cell(r, C_OFFERS_ID);
	cml_tristate whole;
	cml_status st;

	if ((st = required(r, C_ID, &cat_id)) != CML_OK ||
	    (st = tristate(r, C_WHOLE, &whole)) != CML_OK)
		return st;
	if (pkg_id == NULL) {
		/* as 1C names its offers package: the catalog's Ид and '#' */
		char *p = cml_arena_alloc(&r->arena, strlen(cat_id) + 2);

		if (p == NULL)
			return fail_nomem(r);
		memcpy(p, cat_id, strlen(cat_id));
		memcpy(p + strlen(cat_id), "#", 2);
		pkg_id = p;
	}
	cml_tristate only_changes = whole == CML_TRUE ? CML_FALSE : CML_TRUE;
	bool oom = false;
	switch (k) {
	case 0:
		it->kind = CML_ITEM_CLASSIFIER;
		it->u.classifier.id = cls_id;
		it->u.classifier.name = cell(r, C_CLASSIFIER_NAME);
		/* named after the catalog, as 1C names it */
		if (it->u.classifier.name == NULL)
			it->u.classifier.name = named_after(r, "Классификатор", cell(r, C_NAME),
			                                    &oom);
		break;
	case 1:
		it->kind = CML_ITEM_CATALOG;
		it->u.catalog.id = cat_id;
		it->u.catalog.classifier_id = cls_id;
		it->u.catalog.name = cell(r, C_NAME);
		it->u.catalog.only_changes = only_changes;
		break;
	default:
		it->kind = CML_ITEM_OFFERS_PACKAGE;
		it->u.package.id = pkg_id;
		it->u.package.name = cell(r, C_OFFERS_NAME);
		if (it->u.package.name == NULL)
			it->u.package.name = named_after(r, "Пакет предложений", cell(r, C_NAME),
			                                 &oom);
		it->u.package.catalog_id = cat_id;
		it->u.package.classifier_id = cls_id;
		it->u.package.only_changes = only_changes;
		break;
	}
	return oom ? fail_nomem(r) : CML_OK;
}

static cml_status
build_product(cml_csv_reader *r, cml_product *p)
{
	strlist groups = { 0 }, pictures = { 0 };
	proplist props = { 0 };
	pairlist reqs = { 0 };
	cml_tristate del;
	char *v;
	cml_status st;

	if ((st = required(r, C_ID, &p->id)) != CML_OK ||
	    (st = required(r, C_NAME, &p->name)) != CML_OK ||
	    (st = tristate(r, C_DELETED, &del)) != CML_OK)
		return st;
	p->article = cell(r, C_ARTICLE);
	p->barcode = cell(r, C_BARCODE);
	p->description = cell(r, C_DESCRIPTION);
	p->unit.code = cell(r, C_UNIT_CODE);
	p->unit.name = cell(r, C_UNIT);
	p->unit.full_name = cell(r, C_UNIT_FULL_NAME);
	p->manufacturer_name = cell(r, C_MANUFACTURER);
	p->country = cell(r, C_COUNTRY);
	if ((v = cell(r, C_GROUP_IDS)) != NULL &&
	    (st = split(r, (size_t)r->fixed[C_GROUP_IDS], v, add_string, &groups)) != CML_OK)
		return st;
	if ((v = cell(r, C_PICTURES)) != NULL &&
	    (st = split(r, (size_t)r->fixed[C_PICTURES], v, add_string, &pictures)) != CML_OK)
		return st;
	for (size_t i = 0; i < r->n_cols; i++) {
		if ((v = cell_at(r, i)) == NULL)
			continue;
		if (r->cols[i].id == C_PROP) {
			props.id = r->cols[i].arg;
			if ((st = split(r, i, v, add_prop, &props)) != CML_OK)
				return st;
		} else if (r->cols[i].id == C_REQ) {
			if ((st = add_pair(r, &reqs, r->cols[i].arg, v)) != CML_OK)
				return st;
		}
	}
	if ((v = cell(r, C_TAX_RATE)) != NULL) {
		cml_tax *t = cml_arena_alloc(&r->arena, sizeof(*t));

		if (t == NULL)
			return fail_nomem(r);
		t->name = cell(r, C_TAX_NAME);
		if (t->name == NULL)
			t->name = "НДС";
		t->rate = v;
		t->sum = NULL;
		t->in_sum = CML_UNSET;
		p->taxes = t;
		p->n_taxes = 1;
	}
	p->groups = groups.v;
	p->n_groups = groups.n;
	p->pictures = pictures.v;
	p->n_pictures = pictures.n;
	p->props = props.v;
	p->n_props = props.n;
	p->requisites = reqs.v;
	p->n_requisites = reqs.n;
	if (del == CML_TRUE) {
		p->status = CML_STATUS_DELETED;
		p->deleted = true;
	}
	return CML_OK;
}

static cml_status
build_offer(cml_csv_reader *r, cml_offer *o)
{
	pairlist chars = { 0 };
	cml_price *prices = NULL;
	cml_stock *stocks = NULL;
	size_t n_prices = 0, cap_prices = 0, n_stocks = 0, cap_stocks = 0;
	cml_tristate del;
	char *v, *hash;
	cml_status st;

	if ((st = required(r, C_ID, &o->id)) != CML_OK ||
	    (st = tristate(r, C_DELETED, &del)) != CML_OK)
		return st;
	hash = strchr(o->id, '#');
	if (hash == NULL) {
		o->product_id = o->id;
	} else {
		char *pid = cml_arena_strndup(&r->arena, o->id, (size_t)(hash - o->id));

		if (pid == NULL)
			return fail_nomem(r);
		if (*pid == '\0')
			return bad_value(r, (size_t)r->fixed[C_ID],
			                 "has no product id before '#'", o->id);
		o->product_id = pid;
		o->char_id = hash[1] != '\0' ? hash + 1 : NULL;
	}
	o->name = cell(r, C_NAME);
	o->article = cell(r, C_ARTICLE);
	o->barcode = cell(r, C_BARCODE);
	o->unit.code = cell(r, C_UNIT_CODE);
	o->unit.name = cell(r, C_UNIT);
	if ((v = cell(r, C_CHARACTERISTICS)) != NULL &&
	    (st = split(r, (size_t)r->fixed[C_CHARACTERISTICS], v,
	                add_characteristic, &chars)) != CML_OK)
		return st;
	if (r->fixed[C_QUANTITY] >= 0 &&
	    (st = number_at(r, (size_t)r->fixed[C_QUANTITY], &o->quantity)) != CML_OK)
		return st;
	for (size_t i = 0; i < r->n_cols; i++) {
		const char *num;
		void *na;

		if (r->cols[i].id == C_PRICE) {
			if ((st = number_at(r, i, &num)) != CML_OK)
				return st;
			if (num == NULL)
				continue;
			na = push(&r->arena, prices, &n_prices, &cap_prices, sizeof(*prices));
			if (na == NULL)
				return fail_nomem(r);
			prices = na;
			memset(&prices[n_prices - 1], 0, sizeof(*prices));
			prices[n_prices - 1].type_id = r->cols[i].arg;
			prices[n_prices - 1].value = num;
		} else if (r->cols[i].id == C_STOCK) {
			if ((st = number_at(r, i, &num)) != CML_OK)
				return st;
			if (num == NULL)
				continue;
			na = push(&r->arena, stocks, &n_stocks, &cap_stocks, sizeof(*stocks));
			if (na == NULL)
				return fail_nomem(r);
			stocks = na;
			stocks[n_stocks - 1].warehouse_id = r->cols[i].arg;
			stocks[n_stocks - 1].quantity = num;
		}
	}
	/* Currencies last: a price exists only once its cell was seen. */
	for (size_t i = 0; i < r->n_cols; i++) {
		if (r->cols[i].id != C_PRICE_CURRENCY || (v = cell_at(r, i)) == NULL)
			continue;
		for (size_t j = 0; j < n_prices; j++)
			if (strcmp(prices[j].type_id, r->cols[i].arg) == 0)
				prices[j].currency = v;
	}
	o->characteristics = chars.v;
	o->n_characteristics = chars.n;
	o->prices = prices;
	o->n_prices = n_prices;
	o->has_prices = r->has_prices;
	o->stocks = stocks;
	o->n_stocks = n_stocks;
	o->has_stocks = r->has_stocks;
	if (del == CML_TRUE) {
		o->status = CML_STATUS_DELETED;
		o->deleted = true;
	}
	return CML_OK;
}

/* ---- the header ---- */

static cml_status
read_header(cml_csv_reader *r)
{
	unsigned long line;
	cml_status st;
	size_t i;

	st = pump_row(r);
	if (st == CML_END)
		return fail(r, CML_ERR_FORMAT, "%s: no header row", r->name);
	if (st != CML_OK)
		return st;
	line = r->done_row_line;
	for (i = 0; i < r->n_fields; i++)
		if (!cml_utf8_valid(r->fields[i], strlen(r->fields[i])))
			return fail(r, CML_ERR_ENCODING, "%s:%lu: header column %zu is not UTF-8",
			            r->name, line, i + 1);
	for (i = 0; i < CML_ARRAY_LEN(tables); i++)
		if (strcmp(r->fields[0], tables[i].cols[0].name) == 0)
			r->spec = &tables[i];
	if (r->spec == NULL)
		return fail(r, CML_ERR_FORMAT, "%s:%lu: unknown table: first column is '%s'",
		            r->name, line, r->fields[0]);
	r->table = r->spec->table;

	r->cols = cml_calloc(r->n_fields, sizeof(*r->cols));
	if (r->cols == NULL)
		return fail_nomem(r);
	for (i = 0; i < r->n_fields; i++) {
		const char *h = r->fields[i];
		const colspec *cs;
		column *c = &r->cols[i];

		r->n_cols = i + 1; /* what to free */
		if ((c->name = cml_strdup(h)) == NULL)
			return fail_nomem(r);
		if (*h == '\0')
			return fail(r, CML_ERR_FORMAT, "%s:%lu: column %zu has no name",
			            r->name, line, i + 1);
		for (size_t j = 0; j < i; j++)
			if (strcmp(r->cols[j].name, h) == 0)
				return fail(r, CML_ERR_FORMAT, "%s:%lu: duplicate column '%s'",
				            r->name, line, h);
		for (cs = r->spec->cols; cs->name != NULL; cs++) {
			size_t n = strlen(cs->name);

			if (cs->id >= C_FIXED_COUNT ? strncmp(h, cs->name, n) == 0
			                            : strcmp(h, cs->name) == 0)
				break;
		}
		if (cs->name == NULL)
			return fail(r, CML_ERR_FORMAT, "%s:%lu: unknown column '%s' in a %s table",
			            r->name, line, h, r->spec->what);
		c->id = cs->id;
		if (cs->id < C_FIXED_COUNT) {
			r->fixed[cs->id] = (long)i;
			continue;
		}
		c->arg = c->name + strlen(cs->name);
		if (*c->arg == '\0')
			return fail(r, CML_ERR_FORMAT, "%s:%lu: column '%s' names no id",
			            r->name, line, h);
		if (cs->id == C_PRICE)
			r->has_prices = true;
		else if (cs->id == C_STOCK)
			r->has_stocks = true;
	}
	for (const colspec *cs = r->spec->cols; cs->name != NULL; cs++)
		if (cs->required && r->fixed[cs->id] < 0)
			return fail(r, CML_ERR_FORMAT, "%s:%lu: no '%s' column in a %s table",
			            r->name, line, cs->name, r->spec->what);
	/* Each currency:ID needs its price:ID. */
	for (i = 0; i < r->n_cols; i++) {
		size_t j;

		if (r->cols[i].id != C_PRICE_CURRENCY)
			continue;
		for (j = 0; j < r->n_cols; j++)
			if (r->cols[j].id == C_PRICE && strcmp(r->cols[j].arg, r->cols[i].arg) == 0)
				break;
		if (j == r->n_cols)
			return fail(r, CML_ERR_FORMAT, "%s:%lu: column '%s' has no column 'price:%s'",
			            r->name, line, r->cols[i].name, r->cols[i].arg);
	}
	return CML_OK;
}

/* ---- the handle ---- */

cml_csv_reader *
cml_csv_reader_new(void)
{
	cml_csv_reader *r = cml_calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->fd = -1;
	cml_arena_init(&r->arena);
	return r;
}

/* Back to the state of a new reader, keeping the field array. */
static void
reader_close(cml_csv_reader *r)
{
	if (r->parser_live)
		csv_free(&r->parser);
	r->parser_live = false;
	if (r->own_fd && r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->own_fd = false;
	cml_free(r->rbuf);
	r->rbuf = NULL;
	r->data = NULL;
	r->len = r->pos = 0;
	cml_free(r->name);
	r->name = NULL;
	for (size_t i = 0; i < r->n_cols; i++)
		cml_free(r->cols[i].name);
	cml_free(r->cols);
	r->cols = NULL;
	r->n_cols = 0;
	r->n_fields = 0;
	cml_arena_reset(&r->arena);
	r->open = false;
}

void
cml_csv_reader_free(cml_csv_reader *r)
{
	if (r == NULL)
		return;
	reader_close(r);
	cml_arena_destroy(&r->arena);
	cml_free(r->fields);
	cml_free(r);
}

/* Common part of the three opens: data, fd or both are set by the caller. */
static cml_status
reader_start(cml_csv_reader *r, const char *name)
{
	cml_status st;

	r->open = true;
	r->eof = r->fd < 0;
	r->finished = false;
	r->bom_checked = false;
	r->line = 1;
	r->row_line = 1;
	r->at_line_start = true;
	r->odd_quotes = false;
	r->row_ready = false;
	r->cb_err = CML_OK;
	r->table = CML_CSV_UNKNOWN;
	r->spec = NULL;
	r->has_prices = r->has_stocks = false;
	for (size_t i = 0; i < C_FIXED_COUNT; i++)
		r->fixed[i] = -1;
	memset(&r->item, 0, sizeof(r->item));
	r->err = CML_OK;
	r->errmsg[0] = '\0';
	if ((r->name = cml_strdup(name)) == NULL)
		return fail(r, CML_ERR_NOMEM, "%s: out of memory", name);
	if (r->fd >= 0 && (r->rbuf = cml_malloc(READ_CHUNK)) == NULL)
		return fail_nomem(r);
	if (csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
		return fail_nomem(r);
	r->parser_live = true;
	csv_set_realloc_func(&r->parser, cml_realloc);
	csv_set_free_func(&r->parser, cml_free);
	csv_set_blk_size(&r->parser, 4096);
	if ((st = read_header(r)) != CML_OK) {
		r->table = CML_CSV_UNKNOWN; /* no table can be read */
		return st;
	}
	r->row_ready = false;
	return CML_OK;
}

cml_status
cml_csv_reader_open_file(cml_csv_reader *r, const char *path)
{
	int fd;

	if (r == NULL || path == NULL)
		return CML_ERR_USAGE;
	reader_close(r);
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		r->table = CML_CSV_UNKNOWN;
		return fail(r, CML_ERR_IO, "%s: %s", path, strerror(errno));
	}
	r->fd = fd;
	r->own_fd = true;
	return reader_start(r, path);
}

cml_status
cml_csv_reader_open_fd(cml_csv_reader *r, int fd, const char *name)
{
	if (r == NULL || fd < 0)
		return CML_ERR_USAGE;
	reader_close(r);
	r->fd = fd;
	r->own_fd = false;
	return reader_start(r, name != NULL ? name : "-");
}

cml_status
cml_csv_reader_open_memory(cml_csv_reader *r, const void *buf, size_t len,
                           const char *name)
{
	if (r == NULL || (buf == NULL && len > 0))
		return CML_ERR_USAGE;
	reader_close(r);
	r->data = buf;
	r->len = len;
	r->pos = 0;
	return reader_start(r, name != NULL ? name : "(memory)");
}

cml_csv_table
cml_csv_reader_table(const cml_csv_reader *r)
{
	return r != NULL ? r->table : CML_CSV_UNKNOWN;
}

cml_status
cml_csv_reader_next(cml_csv_reader *r, const cml_item **item)
{
	cml_status st;

	if (item != NULL)
		*item = NULL;
	if (r == NULL || item == NULL)
		return CML_ERR_USAGE;
	if (r->err != CML_OK)
		return r->err;
	if (!r->open)
		return fail(r, CML_ERR_STATE, "csv reader: next before open");
	/* A catalog row is three items: the row stays until the last. */
	if (r->table == CML_CSV_CATALOG && r->head_next > 0 && r->head_next < 3) {
		cml_item *it = &r->item;

		memset(it, 0, sizeof(*it));
		it->origin.file = r->name;
		it->origin.line = r->done_row_line;
		if ((st = build_header(r, r->head_next++, it)) != CML_OK)
			return st;
		*item = it;
		return CML_OK;
	}
	/* The previous row (and the item made of it) is done with. */
	r->row_ready = false;
	r->n_fields = 0;
	r->head_next = 0;
	cml_arena_reset(&r->arena);

	st = pump_row(r);
	if (st != CML_OK)
		return st; /* END, or an error already on r */
	for (size_t i = 0; i < r->n_fields; i++)
		if (!cml_utf8_valid(r->fields[i], strlen(r->fields[i])))
			return fail(r, CML_ERR_ENCODING,
			            "%s:%lu: the value in column '%s' is not valid UTF-8: a cmlkit "
			            "CSV file is UTF-8 (convert it, e.g. iconv -f windows-1251 -t "
			            "UTF-8)",
			            r->name, r->done_row_line, r->cols[i].name);

	cml_item *it = &r->item;
	memset(it, 0, sizeof(*it));
	it->origin.file = r->name;
	it->origin.line = r->done_row_line;
	switch (r->table) {
	case CML_CSV_GROUPS:
		it->kind = CML_ITEM_GROUP;
		st = build_group(r, &it->u.group);
		break;
	case CML_CSV_PROPERTIES:
		it->kind = CML_ITEM_PROPERTY;
		st = build_property(r, &it->u.property);
		break;
	case CML_CSV_PRICE_TYPES:
		it->kind = CML_ITEM_PRICE_TYPE;
		st = build_price_type(r, &it->u.price_type);
		break;
	case CML_CSV_WAREHOUSES:
		it->kind = CML_ITEM_WAREHOUSE;
		st = build_warehouse(r, &it->u.warehouse);
		break;
	case CML_CSV_PRODUCTS:
		it->kind = CML_ITEM_PRODUCT;
		st = build_product(r, &it->u.product);
		break;
	case CML_CSV_OFFERS:
		it->kind = CML_ITEM_OFFER;
		st = build_offer(r, &it->u.offer);
		break;
	case CML_CSV_CATALOG:
		st = build_header(r, 0, it);
		r->head_next = 1;
		break;
	case CML_CSV_PROGRESS:
		st = fail(r, CML_ERR_STATE, "%s: an order progress table holds no catalog items",
		          r->name);
		break;
	case CML_CSV_UNKNOWN:
		st = fail(r, CML_ERR_STATE, "%s: no table", r->name);
		break;
	}
	if (st != CML_OK)
		return st;
	*item = it;
	return CML_OK;
}

cml_status
cml_csv_reader_row(cml_csv_reader *r, unsigned long *line)
{
	cml_status st;

	if (r == NULL)
		return CML_ERR_USAGE;
	if (r->err != CML_OK)
		return r->err;
	if (!r->open || r->table != CML_CSV_PROGRESS)
		return fail(r, CML_ERR_STATE, "csv reader: a row of no order progress table");
	r->row_ready = false;
	r->n_fields = 0;
	cml_arena_reset(&r->arena);
	if ((st = pump_row(r)) != CML_OK)
		return st;
	for (size_t i = 0; i < r->n_fields; i++)
		if (!cml_utf8_valid(r->fields[i], strlen(r->fields[i])))
			return fail(r, CML_ERR_ENCODING,
			            "%s:%lu: the value in column '%s' is not valid UTF-8: a cmlkit "
			            "CSV file is UTF-8 (convert it, e.g. iconv -f windows-1251 -t "
			            "UTF-8)",
			            r->name, r->done_row_line, r->cols[i].name);
	for (const colspec *cs = r->spec->cols; cs->name != NULL; cs++)
		if (cs->required && cell(r, cs->id) == NULL)
			return fail(r, CML_ERR_VALUE, "%s:%lu: column %s: empty", r->name,
			            r->done_row_line, cs->name);
	if (line != NULL)
		*line = r->done_row_line;
	return CML_OK;
}

const char *
cml_csv_reader_cell(const cml_csv_reader *r, const char *name)
{
	if (r == NULL || name == NULL || !r->open || r->table != CML_CSV_PROGRESS)
		return NULL;
	for (size_t i = 0; i < r->n_cols; i++)
		if (strcmp(r->cols[i].name, name) == 0)
			return cell_at(r, i);
	return NULL;
}

const char *
cml_csv_reader_errmsg(const cml_csv_reader *r)
{
	return r != NULL ? r->errmsg : "no reader";
}
