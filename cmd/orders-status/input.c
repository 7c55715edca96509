/*
 * input.c: orders-status apply: the steps of a CSV file (one step a
 * row, cmlkit-csv(5) "Order progress") or of the accounting system's
 * CommerceML order documents (cml/statusdoc.h), applied in the caller's
 * one run. Which of the two a file is, its content says: XML starts with
 * '<' after a byte-order mark and blanks.
 *
 * A broken file is refused whole (the caller rolls the run back); a step
 * the rules refuse, an update not newer than the last (stale), an order
 * the ledger does not have and a status code the map does not know are
 * listed on standard error with FILE:LINE and the rest goes on.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cml/csv.h>
#include <cml/ledger.h>
#include <cml/progress.h>
#include <cml/reader.h>
#include <cml/statusdoc.h>

#include "cmdutil.h"
#include "dbrun.h"
#include "ostatus.h"

/* The input: a file by name, or standard input read to its end before
 * the database is opened (a writer up the pipe may hold the run lock). */
struct input {
	const char *name;   /* as given; "-" for stdin */
	char *buf;          /* stdin's bytes */
	size_t len;
	bool xml;
};

static bool
looks_xml(const unsigned char *p, size_t n)
{
	size_t i = 0;

	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i < n && p[i] == '<';
}

static int
read_input(struct input *in)
{
	unsigned char head[4096];
	size_t n;

	if (strcmp(in->name, "-") != 0) {
		FILE *f = fopen(in->name, "rb");
		if (f == NULL) {
			cmd_error("%s: %s", in->name, strerror(errno));
			return EXIT_DATA;
		}
		n = fread(head, 1, sizeof(head), f);
		fclose(f);
		in->xml = looks_xml(head, n);
		return EXIT_OK;
	}
	size_t cap = 0;
	for (;;) {
		if (in->len + 65536 > cap) {
			char *b = realloc(in->buf, cap = in->len + 65536 * 2);
			if (b == NULL) {
				cmd_error("out of memory");
				return EXIT_LOCAL;
			}
			in->buf = b;
		}
		n = fread(in->buf + in->len, 1, cap - in->len, stdin);
		in->len += n;
		if (n == 0)
			break;
	}
	if (ferror(stdin)) {
		cmd_error("reading standard input: %s", strerror(errno));
		return EXIT_DATA;
	}
	in->xml = looks_xml((const unsigned char *)in->buf, in->len);
	return EXIT_OK;
}

/* ---- updates ---- */

/* The update the last rows belong to: rows of one order with the same
 * version and change time, one after the other, are one update. */
struct update {
	char *site, *id, *version, *changed;
	const char *name;
	unsigned long line;
	bool open;
};

static bool
same(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") == 0;
}

static int
update_close(struct ost *c, struct update *u)
{
	int status = EXIT_OK;

	if (u->open && (u->version != NULL || u->changed != NULL)) {
		cml_progress_source src = { .kind = "csv",
			                    .name = u->name,
			                    .line = (int64_t)u->line,
			                    .version = u->version,
			                    .changed = u->changed };
		cml_status st = cml_progress_update_done(c->s, u->site, u->id, &src, NULL);
		if (st != CML_OK) {
			cmd_error("%s", cml_store_errmsg(c->s));
			status = EXIT_LOCAL;
		}
	}
	free(u->site);
	free(u->id);
	free(u->version);
	free(u->changed);
	memset(u, 0, sizeof(*u));
	return status;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Finds the order key names, listing it when there is none or several.
 * EXIT_OK with site and id NULL when listed. */
static int
find_listed(struct ost *c, const char *where, const char *site, const char *key, char **so,
            char **io)
{
	cml_status st = ost_find(c, site, key, so, io);

	if (st == CML_OK)
		return EXIT_OK;
	if (st == CML_END) {
		cmd_error("%sorder %s: not in the ledger%s%s: skipped", where, key,
		          site != NULL ? " of site " : "", site != NULL ? site : "");
		c->unknown++;
		return EXIT_OK;
	}
	if (st == CML_ERR_VALUE) {
		cmd_error("%sorder %s: %s: skipped (a site column says which)", where, key,
		          cml_store_errmsg(c->s));
		c->unknown++;
		return EXIT_OK;
	}
	cmd_error("%s", st == CML_ERR_NOMEM ? "out of memory" : cml_store_errmsg(c->s));
	return EXIT_LOCAL;
}

/* ---- CSV ---- */

static int
csv_row(struct ost *c, cml_csv_reader *r, const char *name, unsigned long line,
        struct update *u)
{
	struct ost_cells cells = {
		.step = cml_csv_reader_cell(r, "step"),
		.number = cml_csv_reader_cell(r, "number"),
		.date = cml_csv_reader_cell(r, "date"),
		.amount = cml_csv_reader_cell(r, "amount"),
		.qty = cml_csv_reader_cell(r, "qty"),
		.reason = cml_csv_reader_cell(r, "reason"),
	};
	const char *key = cml_csv_reader_cell(r, "order");
	const char *site = cml_csv_reader_cell(r, "site");
	const char *version = cml_csv_reader_cell(r, "version");
	const char *changed = cml_csv_reader_cell(r, "changed");
	struct ost_step step;
	char where[512], why[512], *so = NULL, *io = NULL;
	cml_progress_outcome oc;
	int status;

	snprintf(where, sizeof(where), "%s:%lu: ", name, line);
	if (!ost_step_cells(&cells, &step, why, sizeof(why))) {
		cmd_error("%s%s", where, why);
		return EXIT_DATA;
	}
	if (changed != NULL && !ost_date_valid(changed)) {
		cmd_error("%scolumn changed: '%s' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS", where,
		          changed);
		return EXIT_DATA;
	}
	if (site == NULL)
		site = c->o->site;
	if ((status = find_listed(c, where, site, key, &so, &io)) != EXIT_OK || so == NULL)
		return status;
	if (!(u->open && same(u->site, so) && same(u->id, io) && same(u->version, version) &&
	      same(u->changed, changed))) {
		if ((status = update_close(c, u)) != EXIT_OK)
			goto out;
		u->site = so;
		u->id = io;
		so = io = NULL;
		u->version = dup_or_null(version);
		u->changed = dup_or_null(changed);
		u->name = name;
		u->line = line;
		u->open = true;
		if ((version != NULL && u->version == NULL) || (changed != NULL && u->changed == NULL)) {
			cmd_error("out of memory");
			status = EXIT_LOCAL;
			goto out;
		}
	}
	cml_progress_source src = { .kind = "csv",
		                    .name = name,
		                    .line = (int64_t)line,
		                    .version = version,
		                    .changed = changed };
	status = ost_apply_step(c, where, key, u->site, u->id, &step, &src, &oc);
out:
	free(so);
	free(io);
	return status;
}

static int
apply_csv(struct ost *c, const struct input *in)
{
	cml_csv_reader *r = cml_csv_reader_new();
	struct update u = { 0 };
	unsigned long line;
	cml_status st;
	int status = EXIT_OK;

	if (r == NULL) {
		cmd_error("out of memory");
		return EXIT_LOCAL;
	}
	st = in->buf != NULL || strcmp(in->name, "-") == 0
	             ? cml_csv_reader_open_memory(r, in->buf, in->len, "-")
	             : cml_csv_reader_open_file(r, in->name);
	if (st != CML_OK) {
		cmd_error("%s", cml_csv_reader_errmsg(r));
		status = cmd_exit_for(st);
		goto out;
	}
	if (cml_csv_reader_table(r) != CML_CSV_PROGRESS) {
		cmd_error("%s: not an order progress table (its first column is order, see "
		          "cmlkit-csv(5))", in->name);
		status = EXIT_DATA;
		goto out;
	}
	while ((st = cml_csv_reader_row(r, &line)) == CML_OK)
		if ((status = csv_row(c, r, in->name, line, &u)) != EXIT_OK)
			goto out;
	if (st != CML_END) {
		cmd_error("%s", cml_csv_reader_errmsg(r));
		status = cmd_exit_for(st);
		goto out;
	}
	status = update_close(c, &u);
out:
	if (status != EXIT_OK)
		u.open = false; /* the run rolls back: nothing to record */
	(void)update_close(c, &u);
	cml_csv_reader_free(r);
	return status;
}

/* ---- CommerceML ---- */

struct map_ud {
	struct ost *c;
	const char *site;
};

static bool
map_code(void *ud, const char *code, cml_os_life *life)
{
	struct map_ud *m = ud;

	return cml_status_map_lookup(m->c->s, m->site != NULL ? m->site : "", code, life) ==
	       CML_OK;
}

static void
on_reader_warning(void *ud, const char *msg)
{
	(void)ud;
	cmd_warn("warning: %s", msg);
}

/* One Документ: the order it names, the steps it asks for. */
static int
apply_document(struct ost *c, const char *name, const cml_item *it, cml_statusdoc_update *u)
{
	const cml_document *doc = &it->u.document;
	struct map_ud mu = { c, c->o->site };
	char where[512], why[512], label[256], *so = NULL, *io = NULL;
	const char *key;
	cml_ledger_order lo;
	cml_status st;
	int status;

	snprintf(where, sizeof(where), "%s:%lu: ", name, it->origin.line);
	if (cml_statusdoc_read(doc, NULL, 0, map_code, &mu, u, why, sizeof(why)) != CML_OK) {
		cmd_error("%s%s", where, why);
		return EXIT_DATA;
	}
	/* the order by its Ид (an attachment: its Основание), else its Номер */
	key = u->order_id != NULL && u->order_id[0] != '\0' ? u->order_id : u->order_number;
	st = key != NULL ? ost_find(c, c->o->site, key, &so, &io) : CML_END;
	if (st == CML_END && u->order_number != NULL && u->order_number[0] != '\0' &&
	    key != u->order_number) {
		key = u->order_number;
		st = ost_find(c, c->o->site, key, &so, &io);
	}
	if (st != CML_OK) {
		if (st == CML_END) {
			cmd_error("%sorder %s: not in the ledger%s%s: skipped", where,
			          key != NULL ? key : "(none)", c->o->site != NULL ? " of site " : "",
			          c->o->site != NULL ? c->o->site : "");
			c->unknown++;
			return EXIT_OK;
		}
		if (st == CML_ERR_VALUE) {
			cmd_error("%sorder %s: %s: skipped (--site says which)", where, key,
			          cml_store_errmsg(c->s));
			c->unknown++;
			return EXIT_OK;
		}
		cmd_error("%s", st == CML_ERR_NOMEM ? "out of memory" : cml_store_errmsg(c->s));
		return EXIT_LOCAL;
	}
	/* read again with the order's site (its map) and its lines (a
	 * shipment document's lines are matched to them by Ид) */
	if ((st = cml_ledger_get(c->s, so, io, 0, &lo)) != CML_OK) {
		cmd_error("%sorder %s: %s", where, key,
		          st == CML_END ? "gone from the ledger" : cml_store_errmsg(c->s));
		status = EXIT_LOCAL;
		goto out;
	}
	/* messages name the order as the site numbered it, whatever named it */
	snprintf(label, sizeof(label), "%s", lo.number[0] != '\0' ? lo.number : key);
	key = label;
	mu.site = so;
	if (cml_statusdoc_read(doc, lo.doc->lines, lo.doc->n_lines, map_code, &mu, u, why,
	                       sizeof(why)) != CML_OK) {
		cmd_error("%s%s", where, why);
		status = EXIT_DATA;
		goto out;
	}
	if (u->status_unmapped) {
		cmd_error("%sorder %s: the status code %s is not in the map: nothing done for it "
		          "(orders-status map set %s STATE)",
		          where, key, u->status_code, u->status_code);
		c->unmapped++;
	}
	cml_progress_source src = { .kind = "cml",
		                    .name = name,
		                    .line = (int64_t)it->origin.line,
		                    .version = u->version,
		                    .changed = u->changed };
	status = EXIT_OK;
	for (size_t i = 0; i < u->n_steps && status == EXIT_OK; i++) {
		struct ost_step s = { .st = u->steps[i] };
		cml_progress_outcome oc;
		s.word = u->steps[i].kind == CML_STEP_TERMS
		                 ? (u->steps[i].postpaid ? "postpaid" : "prepaid")
		                 : cml_step_name(u->steps[i].kind);
		status = ost_apply_step(c, where, key, so, io, &s, &src, &oc);
	}
	if (status == EXIT_OK && (st = cml_progress_update_done(c->s, so, io, &src,
	                                                        u->status_code)) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(c->s));
		status = EXIT_LOCAL;
	}
	if (status == EXIT_OK && u->n_steps == 0)
		cmd_verbose("%sorder %s: the document asks for no step", where, key);
out:
	free(so);
	free(io);
	return status;
}

static int
apply_cml(struct ost *c, const struct input *in)
{
	cml_reader_opts ro = { .warn = on_reader_warning };
	cml_reader *rd = cml_reader_new(&ro);
	cml_statusdoc_update *u = malloc(sizeof(*u));
	const cml_item *it;
	cml_status st;
	int status = EXIT_OK;

	if (rd == NULL || u == NULL) {
		cmd_error("out of memory");
		status = EXIT_LOCAL;
		goto out;
	}
	st = in->buf != NULL || strcmp(in->name, "-") == 0
	             ? cml_reader_open_memory(rd, in->buf, in->len, "-")
	             : cml_reader_open_file(rd, in->name);
	while (st == CML_OK && (st = cml_reader_next(rd, &it)) == CML_OK) {
		if (it->kind == CML_ITEM_FILE)
			continue;
		if (it->kind != CML_ITEM_DOCUMENT) {
			cmd_error("%s:%lu: a %s: not an order document", it->origin.file,
			          it->origin.line, cml_kind_name(it->kind));
			status = EXIT_DATA;
			goto out;
		}
		if ((status = apply_document(c, in->name, it, u)) != EXIT_OK)
			goto out;
	}
	if (st != CML_END) {
		cmd_error("%s", cml_reader_errmsg(rd));
		status = cmd_exit_for(st);
	}
out:
	free(u);
	cml_reader_free(rd);
	return status;
}

int
ost_run_apply(struct ost *c)
{
	struct input in = { .name = c->o->args[0] };
	char counts[256];
	int status;

	if ((status = read_input(&in)) != EXIT_OK)
		goto out;
	if ((status = db_open(&c->o->db, false, &c->s)) != EXIT_OK ||
	    (status = db_begin(c->s, "orders-status")) != EXIT_OK)
		goto out;
	status = in.xml ? apply_cml(c, &in) : apply_csv(c, &in);
	if (status != EXIT_OK) {
		db_rollback(c->s);
		cmd_error("%s: nothing applied, the ledger's progress is as it was", in.name);
		goto out;
	}
	snprintf(counts, sizeof(counts),
	         "{\"applied\":%ld,\"noop\":%ld,\"refused\":%ld,\"stale\":%ld,\"unknown\":%ld,"
	         "\"unmapped\":%ld}",
	         c->applied, c->noop, c->refused, c->stale, c->unknown, c->unmapped);
	if ((status = db_commit(c->s, "ok", counts)) != EXIT_OK)
		goto out;
	cmd_verbose("%s: %ld applied, %ld already so, %ld refused, %ld stale, %ld orders not in "
	            "the ledger, %ld status codes not in the map",
	            in.name, c->applied, c->noop, c->refused, c->stale, c->unknown, c->unmapped);
	if (c->refused + c->stale + c->unknown + c->unmapped > 0)
		status = EXIT_ATTENTION;
out:
	free(in.buf);
	return status;
}
