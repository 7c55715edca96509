/*
 * cp-match: the buyer of every order matched to a counterparty card of
 * the register by "email OR INN" (cp-match(1), the decision table of
 * cml/match.h), the register updated, and the orders written on with
 * each matched buyer rewritten to its card, so that the accounting
 * system links the order to the card it already has.
 *
 * The order of things is what keeps a failed run from leaving anything
 * half done:
 *  1. the options; then the database, and one run of the store for
 *     everything that follows (a register file, the matching, the
 *     review queue, the ledger marks): a failure anywhere rolls it all
 *     back, and the register is as it was;
 *  2. every --register file is loaded into that run (cml_regfile_load);
 *     a broken one ends the run before any order is read;
 *  3. the orders are read (a document from FILE or stdin, or the
 *     ledger's orders not yet matched), each buyer matched and the
 *     document rewritten into a temporary file (0600 in $TMPDIR, its
 *     name removed as soon as it is made) and each decision into a
 *     temporary file beside --decisions: nothing reaches stdout before
 *     the whole input has been read and matched, so a broken document
 *     leaves stdout empty;
 *  4. the output is copied to stdout and flushed; only then the run is
 *     committed (--dry-run: rolled back). A run that dies between the
 *     two wrote an output the next run writes again, the same bytes: the
 *     matching is deterministic, and what it creates has stable Ид;
 *  5. last, the decisions file is put in place (renamed): it appears
 *     only for a run whose decisions stand (or a --dry-run's).
 * --review, --export read; --resolve, --self and --load-only are one run
 * each, the plan of --self buffered like the orders.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <cml/dedupe.h>
#include <cml/ledger.h>
#include <cml/match.h>
#include <cml/order.h>
#include <cml/reader.h>
#include <cml/regfile.h>
#include <cml/register.h>
#include <cml/store.h>
#include <cml/writer.h>

#include "cmdutil.h"
#include "cpmatch.h"
#include "dbrun.h"
#include "pkgopts.h"

#define CONTACT_PERSON "Контактное лицо"

static const struct rec_field decision_fields[] = {
	{ "site", REC_STR },         { "order_id", REC_STR },    { "order_number", REC_STR },
	{ "buyer_id", REC_STR },     { "email", REC_STR },       { "inn", REC_STR },
	{ "kpp", REC_STR },          { "phone", REC_STR },       { "rule", REC_STR },
	{ "card_id", REC_STR },      { "card_new", REC_BOOL },   { "person_id", REC_STR },
	{ "person_new", REC_BOOL },  { "inn_filled", REC_BOOL }, { "duplicate", REC_BOOL },
	{ "review", REC_BOOL },      { "candidates", REC_STR },  { "note", REC_STR },
};
#define N_DECISION_FIELDS (sizeof(decision_fields) / sizeof(decision_fields[0]))

static const struct rec_field review_fields[] = {
	{ "id", REC_INT },         { "site", REC_STR },          { "order_id", REC_STR },
	{ "order_number", REC_STR }, { "email", REC_STR },       { "inn", REC_STR },
	{ "kpp", REC_STR },        { "phone", REC_STR },         { "candidates", REC_STR },
	{ "booked", REC_STR },     { "rule", REC_STR },          { "reason", REC_STR },
	{ "created", REC_STR },    { "resolved_card", REC_STR }, { "resolved", REC_STR },
};
#define N_REVIEW_FIELDS (sizeof(review_fields) / sizeof(review_fields[0]))

static const struct rec_field plan_fields[] = {
	{ "cluster", REC_INT }, { "survivor", REC_STR }, { "card", REC_STR },
	{ "action", REC_STR },  { "key_kind", REC_STR }, { "key", REC_STR },
};
#define N_PLAN_FIELDS (sizeof(plan_fields) / sizeof(plan_fields[0]))

/* One matcher per site: the site goes into the review queue and the
 * stable Ид of what a matcher creates. */
struct site_matcher {
	char *site;
	cml_matcher *m;
};

/* A rewritten document's own arrays (the strings stay the reader's, the
 * ledger's or the register's until the document is written). */
struct scratch {
	cml_counterparty *cps;
	size_t cps_cap;
	cml_representative *reps;
	size_t reps_cap;
	cml_pair *contacts;
	size_t contacts_cap;
};

struct cpm {
	struct cpm_opts *o;
	cml_store *store;
	struct site_matcher *matchers;
	size_t n_matchers;
	FILE *out;                /* the buffered output */
	FILE *in;                 /* standard input, read to its end before
	                             the store is opened (see spool_stdin) */
	cml_stream_writer *sw;
	cml_writer_opts wo;       /* the options the writer got */
	char schema[16];          /* the input's schema, when --schema did not say */
	char generated[40];       /* the input's ДатаФормирования */
	FILE *dec;                /* the decisions, beside --decisions */
	char *dec_tmp;            /* its temporary name */
	struct rec_out dec_rec;
	struct scratch sc;
	long documents, passed, no_buyer, reviews;
};

static void
on_match_warning(void *ud, const char *msg)
{
	(void)ud;
	cmd_warn("%s", msg); /* "order NUMBER: ..." */
}

static void
on_file_warning(void *ud, const char *msg)
{
	(void)ud;
	cmd_warn("warning: %s", msg);
}

/* ---- the run ---- */

/* Commits, or under --dry-run rolls back, with what the run did. */
static int
finish_run(struct cpm *c, const char *outcome, const char *counts)
{
	if (c->o->dry_run) {
		db_rollback(c->store);
		cmd_verbose("--dry-run: rolled back, the register is as it was");
		return EXIT_OK;
	}
	return db_commit(c->store, outcome, counts);
}

static int
load_registers(struct cpm *c)
{
	cml_regfile_stats st = { 0 };
	char err[1024];

	for (size_t i = 0; i < c->o->n_registers; i++) {
		cml_status rc = cml_regfile_load(c->store, c->o->registers[i], on_file_warning, NULL,
		                                 &st, err, sizeof(err));
		if (rc != CML_OK) {
			cmd_error("%s", err);
			cmd_error("nothing loaded, nothing matched: the register is as it was");
			return cmd_exit_for(rc);
		}
		cmd_verbose("%s loaded", c->o->registers[i]);
	}
	if (c->o->summary && c->o->n_registers > 0)
		fprintf(stderr,
		        "%s: register files: %" PRId64 " cards read, %" PRId64 " new, %" PRId64
		        " changed, %" PRId64 " new contact persons, %" PRId64
		        " new contacts, %" PRId64 " values reported\n",
		        cmd_progname, st.cards, st.cards_new, st.cards_changed, st.persons_new,
		        st.contacts_new, st.bad_values);
	return EXIT_OK;
}

/* ---- temporary files ---- */

/* A file in $TMPDIR whose name is gone at once: the output, held until
 * the whole input has been read. */
static FILE *
hidden_tmp(const char *what)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	FILE *f;
	int fd;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	int w = snprintf(path, sizeof(path), "%s/%s%ld.%s.XXXXXX", dir, CML_WRITER_TMP_PREFIX,
	                 (long)getpid(), what);
	if (w < 0 || (size_t)w >= sizeof(path)) {
		cmd_error("%s: TMPDIR is too long", dir);
		return NULL;
	}
	if ((fd = mkstemp(path)) < 0) {
		cmd_error("%s: cannot create a temporary file: %s", dir, strerror(errno));
		return NULL;
	}
	unlink(path);
	if ((f = fdopen(fd, "w+")) == NULL) {
		cmd_error("out of memory");
		close(fd);
	}
	return f;
}

/* A temporary file beside path (same directory: the rename is atomic),
 * removed if a signal ends the run. *tmp is its name (malloc'd). */
static FILE *
beside_tmp(const char *path, const char *what, char **tmp)
{
	const char *slash = strrchr(path, '/');
	size_t dlen = slash == NULL ? 0 : (size_t)(slash - path) + 1;
	size_t cap = dlen + 96;
	char dir[4096];
	FILE *f = NULL;
	int fd;

	*tmp = NULL;
	if (dlen + 1 >= sizeof(dir)) {
		cmd_error("%s: the name is too long", path);
		return NULL;
	}
	memcpy(dir, slash == NULL ? "." : path, slash == NULL ? 1 : dlen);
	dir[slash == NULL ? 1 : dlen] = '\0';
	if ((*tmp = malloc(cap)) == NULL) {
		cmd_error("out of memory");
		return NULL;
	}
	snprintf(*tmp, cap, "%.*s%s%ld.%s.XXXXXX", (int)dlen, path, CML_WRITER_TMP_PREFIX,
	         (long)getpid(), what);
	cmd_clean_on_signal(dir);
	if ((fd = mkstemp(*tmp)) < 0) {
		cmd_error("%s: cannot create a file beside it: %s", path, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		cmd_error("out of memory");
		close(fd);
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
	return f;
}

/* Copies the buffered output to stdout and flushes it. */
static int
copy_out(FILE *from)
{
	char buf[65536];
	size_t n;

	if (fflush(from) != 0 || fseek(from, 0, SEEK_SET) != 0) {
		cmd_error("the temporary output: %s", strerror(errno));
		return EXIT_LOCAL;
	}
	while ((n = fread(buf, 1, sizeof(buf), from)) > 0)
		if (fwrite(buf, 1, n, stdout) != n)
			break;
	if (ferror(from)) {
		cmd_error("the temporary output: %s", strerror(errno));
		return EXIT_LOCAL;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			cmd_error("write error on standard output: %s", strerror(errno));
		return EXIT_LOCAL;
	}
	return EXIT_OK;
}

/*
 * Standard input read to its end into a hidden temporary file before the
 * store is opened: in the pipe `orders-pull | cp-match` over one
 * database, orders-pull holds the run lock until its output is written,
 * so a cp-match that took the lock first and then waited for its input
 * would wait for a writer that waits for it.
 */
static int
spool_stdin(struct cpm *c)
{
	char buf[65536];
	size_t n;

	if ((c->in = hidden_tmp("in")) == NULL)
		return EXIT_LOCAL;
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (fwrite(buf, 1, n, c->in) != n)
			break;
	if (ferror(stdin)) {
		cmd_error("reading standard input: %s", strerror(errno));
		return EXIT_DATA;
	}
	if (fflush(c->in) != 0 || ferror(c->in) || fseek(c->in, 0, SEEK_SET) != 0) {
		cmd_error("the temporary input: %s", strerror(errno));
		return EXIT_LOCAL;
	}
	return EXIT_OK;
}

/* ---- the rewrite ---- */

static bool
grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return true;
	size_t n = *cap == 0 ? 8 : *cap;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * size);
	if (q == NULL)
		return false;
	*p = q;
	*cap = n;
	return true;
}

static bool
is_contact_person(const cml_representative *r)
{
	return r->relation != NULL && strcmp(r->relation, CONTACT_PERSON) == 0;
}

static bool
email_or_phone(const cml_pair *p)
{
	cml_contact_kind k = cml_contact_type(p->name);

	return (k == CML_CONTACT_EMAIL || k == CML_CONTACT_PHONE) && p->value != NULL &&
	       p->value[0] != '\0';
}

/*
 * The contact person the match names, as the buyer's Представитель: its
 * Ид and name, and as its contacts the buyer's email and phones (those on
 * the Контрагент, else those the site wrote on its own representative).
 * The site's contact person gives way to it; other representatives stay.
 */
static bool
rewrite_persons(struct scratch *sc, const cml_counterparty *in, const cml_cp_person *person,
                cml_counterparty *out)
{
	size_t nr = 0, nc = 0;
	bool own;

	if (!grow((void **)&sc->reps, &sc->reps_cap, in->n_representatives + 1, sizeof(*sc->reps)))
		return false;
	for (size_t i = 0; i < in->n_contacts; i++)
		if (email_or_phone(&in->contacts[i])) {
			if (!grow((void **)&sc->contacts, &sc->contacts_cap, nc + 1,
			          sizeof(*sc->contacts)))
				return false;
			sc->contacts[nc++] = in->contacts[i];
		}
	own = nc > 0;
	for (size_t i = 0; i < in->n_representatives; i++) {
		const cml_representative *r = &in->representatives[i];
		if (!is_contact_person(r)) {
			sc->reps[nr++] = *r;
			continue;
		}
		if (own)
			continue;
		for (size_t j = 0; j < r->n_contacts; j++)
			if (email_or_phone(&r->contacts[j])) {
				if (!grow((void **)&sc->contacts, &sc->contacts_cap, nc + 1,
				          sizeof(*sc->contacts)))
					return false;
				sc->contacts[nc++] = r->contacts[j];
			}
	}
	sc->reps[nr++] = (cml_representative){ .relation = CONTACT_PERSON,
		                               .id = person->id,
		                               .name = person->name,
		                               .contacts = nc > 0 ? sc->contacts : NULL,
		                               .n_contacts = nc };
	out->representatives = sc->reps;
	out->n_representatives = nr;
	return true;
}

static bool
filled(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/*
 * The document with its buyer rewritten to the card the match booked it
 * to: Ид, name, the official (legal entity) or full name, INN and KPP
 * from the card, the contact person as its Представитель; everything
 * else (its own Контакты, addresses, accounts) as it came.
 */
static bool
rewrite(struct scratch *sc, const cml_document *d, const cml_counterparty *buyer,
        const cml_match_result *r, cml_document *out)
{
	const cml_cp_card *card = r->card;
	size_t at = (size_t)(buyer - d->counterparties);

	*out = *d;
	if (card == NULL)
		return true;
	if (!grow((void **)&sc->cps, &sc->cps_cap, d->n_counterparties, sizeof(*sc->cps)))
		return false;
	memcpy(sc->cps, d->counterparties, d->n_counterparties * sizeof(*sc->cps));
	cml_counterparty *b = &sc->cps[at];
	b->id = card->id;
	if (filled(card->name))
		b->name = card->name;
	if (filled(card->full_name)) {
		if (card->kind == CML_CP_LEGAL)
			b->official_name = card->full_name;
		else
			b->full_name = card->full_name;
	}
	if (filled(card->inn))
		b->inn = card->inn;
	if (filled(card->kpp))
		b->kpp = card->kpp;
	if (r->person != NULL && !rewrite_persons(sc, buyer, r->person, b))
		return false;
	out->counterparties = sc->cps;
	return true;
}

/* ---- matching ---- */

static cml_matcher *
matcher_for(struct cpm *c, const char *site)
{
	const char *key = site != NULL ? site : "";
	struct site_matcher *sm;

	for (size_t i = 0; i < c->n_matchers; i++)
		if (strcmp(c->matchers[i].site, key) == 0)
			return c->matchers[i].m;
	sm = realloc(c->matchers, (c->n_matchers + 1) * sizeof(*sm));
	if (sm == NULL)
		return NULL;
	c->matchers = sm;
	sm = &c->matchers[c->n_matchers];
	if ((sm->site = strdup(key)) == NULL)
		return NULL;
	cml_match_opts mo = { .rule = c->o->rule,
		              .kpp = c->o->kpp,
		              .site = sm->site,
		              .marketplaces = c->o->marketplaces,
		              .n_marketplaces = c->o->n_marketplaces,
		              .warn = on_match_warning };
	if ((sm->m = cml_matcher_new(c->store, &mo)) == NULL) {
		free(sm->site);
		return NULL;
	}
	c->n_matchers++;
	return sm->m;
}

static void
free_matchers(struct cpm *c)
{
	for (size_t i = 0; i < c->n_matchers; i++) {
		cml_matcher_free(c->matchers[i].m);
		free(c->matchers[i].site);
	}
	free(c->matchers);
	c->matchers = NULL;
	c->n_matchers = 0;
}

static int
write_decision(struct cpm *c, const char *site, const cml_document *d,
               const cml_match_result *r)
{
	if (c->dec == NULL)
		return EXIT_OK;
	const char *v[N_DECISION_FIELDS] = {
		site,
		d->id,
		d->number,
		r->buyer_id,
		r->email,
		r->inn,
		r->kpp,
		r->phone,
		cml_match_decision_name(r->decision),
		r->card != NULL ? r->card->id : "",
		r->card_new ? "true" : "false",
		r->person != NULL ? r->person->id : "",
		r->person_new ? "true" : "false",
		r->inn_filled ? "true" : "false",
		r->duplicate ? "true" : "false",
		r->review ? "true" : "false",
		r->candidates,
		r->note,
	};
	if (!rec_write(&c->dec_rec, v)) {
		cmd_error("%s: %s", c->dec_tmp, strerror(errno));
		return EXIT_LOCAL;
	}
	return EXIT_OK;
}

/* The stream writer, made at the first item so that the input's schema
 * and date (when the options do not say) are known. */
static int
writer_add(struct cpm *c, const cml_item *it)
{
	cml_status st;

	if (c->sw == NULL) {
		c->wo = c->o->xml;
		if (c->wo.schema == NULL)
			c->wo.schema = c->schema[0] != '\0' ? c->schema : "2.05";
		if (c->wo.generated == NULL && c->generated[0] != '\0')
			c->wo.generated = c->generated;
		if ((c->sw = cml_stream_writer_new(c->out, &c->wo)) == NULL) {
			cmd_error("out of memory");
			return EXIT_LOCAL;
		}
	}
	if ((st = cml_stream_writer_add(c->sw, it)) != CML_OK) {
		cmd_error("%s:%lu: %s", it->origin.file, it->origin.line,
		          cml_stream_writer_errmsg(c->sw));
		return st == CML_ERR_IO || st == CML_ERR_NOMEM ? EXIT_LOCAL : EXIT_DATA;
	}
	return EXIT_OK;
}

/* "order 132", "order without Номер (Ид 7f3c)", for messages. */
static void
order_name(const cml_document *d, char *buf, size_t cap)
{
	if (d->number != NULL && d->number[0] != '\0')
		snprintf(buf, cap, "order %s", d->number);
	else if (d->id != NULL)
		snprintf(buf, cap, "order without Номер (Ид %s)", d->id);
	else
		snprintf(buf, cap, "order without Номер or Ид");
}

/*
 * One order: its buyer matched, the decision recorded, the document
 * written rewritten (or as it came). *card is the card it was booked to
 * ("" when none); valid until the next register call.
 */
static int
match_order(struct cpm *c, const char *site, const cml_item *it, const char **card)
{
	const cml_document *d = &it->u.document;
	const cml_counterparty *buyer;
	cml_match_result r;
	cml_document rd;
	cml_item out;
	cml_matcher *m;
	char name[160];
	cml_status st;
	int status;

	*card = "";
	c->documents++;
	if (cml_order_is_attachment(d)) {
		c->passed++;
		return writer_add(c, it);
	}
	if ((buyer = cml_match_buyer_of(d)) == NULL) {
		order_name(d, name, sizeof(name));
		cmd_warn("%s: no buyer (no Контрагент with Роль Покупатель): passed as it came",
		         name);
		c->no_buyer++;
		c->passed++;
		return writer_add(c, it);
	}
	if ((m = matcher_for(c, site)) == NULL) {
		cmd_error("out of memory");
		return EXIT_LOCAL;
	}
	if ((st = cml_matcher_buyer(m, d, buyer, &r)) != CML_OK) {
		order_name(d, name, sizeof(name));
		cmd_error("%s:%lu: %s: %s", it->origin.file, it->origin.line, name,
		          cml_store_errmsg(c->store));
		return cmd_exit_for(st);
	}
	if (r.review)
		c->reviews++;
	if ((status = write_decision(c, site != NULL ? site : "", d, &r)) != EXIT_OK)
		return status;
	if (!rewrite(&c->sc, d, buyer, &r, &rd)) {
		cmd_error("out of memory");
		return EXIT_LOCAL;
	}
	if (r.card != NULL)
		*card = r.card->id;
	out = *it;
	out.u.document = rd;
	return writer_add(c, &out);
}

static void
take_file_info(struct cpm *c, const cml_file_info *f)
{
	if (c->sw != NULL)
		return;
	if (f->schema_version != NULL && pkg_schema_known(f->schema_version))
		snprintf(c->schema, sizeof(c->schema), "%s", f->schema_version);
	if (f->generated != NULL && strlen(f->generated) < sizeof(c->generated))
		snprintf(c->generated, sizeof(c->generated), "%s", f->generated);
}

/* The pipe: one document from FILE or stdin, every item in order. */
static int
match_input(struct cpm *c, cml_reader *rd)
{
	const char *input = c->o->input != NULL ? c->o->input : "-";
	struct stat sb;
	const char *card;
	const cml_item *it;
	cml_status st;
	int status;

	/* orders-pull writes nothing at all when there is no new order: an
	 * empty input is a run with no order, not a broken document */
	if (c->in != NULL ? fstat(fileno(c->in), &sb) == 0 && sb.st_size == 0
	                  : strcmp(input, "-") != 0 && stat(input, &sb) == 0 &&
	                            S_ISREG(sb.st_mode) && sb.st_size == 0)
		return EXIT_OK;
	st = c->in != NULL ? cml_reader_open_fd(rd, fileno(c->in), "-")
	                   : cml_reader_open_file(rd, input);
	if (st != CML_OK) {
		cmd_error("%s", cml_reader_errmsg(rd));
		return cmd_exit_for(st);
	}
	while ((st = cml_reader_next(rd, &it)) != CML_END) {
		if (st != CML_OK) {
			/* a document the reader could not read is a broken
			 * document: nothing of the input goes out */
			cmd_error("%s", cml_reader_errmsg(rd));
			return cmd_exit_for(st);
		}
		switch (it->kind) {
		case CML_ITEM_FILE:
			take_file_info(c, &it->u.file);
			break;
		case CML_ITEM_DOCUMENT:
			if ((status = match_order(c, c->o->site, it, &card)) != EXIT_OK)
				return status;
			break;
		case CML_ITEM_COUNTERPARTY:
			c->passed++;
			if ((status = writer_add(c, it)) != EXIT_OK)
				return status;
			break;
		default:
			cmd_error("%s:%lu: a %s: not an orders document (Документ elements, or a "
			          "counterparty package)",
			          it->origin.file, it->origin.line, cml_kind_name(it->kind));
			return EXIT_DATA;
		}
	}
	return EXIT_OK;
}

/* ---- the ledger ---- */

struct pending {
	char *site, *id;
	int64_t revision;
};

static void
free_pending(struct pending *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(p[i].site);
		free(p[i].id);
	}
	free(p);
}

/* The orders whose latest revision cp-match has not matched, in the
 * order they were first stored. The ledger's cursor is closed before
 * anything is written, as cml_ledger_next asks. */
static int
ledger_pending(struct cpm *c, struct pending **out, size_t *n_out)
{
	cml_ledger_filter f = { .site = c->o->site };
	struct pending *p = NULL;
	size_t n = 0, cap = 0;
	void *cur = NULL;
	cml_ledger_order lo;
	cml_status st;
	int status = EXIT_OK;

	while ((st = cml_ledger_next(c->store, &f, &cur, &lo)) == CML_OK) {
		int64_t done = 0;
		cml_status ms = cml_register_matched(c->store, lo.site, lo.id, &done);
		if (ms != CML_OK && ms != CML_END) {
			st = ms;
			break;
		}
		if (ms == CML_OK && done >= lo.revision)
			continue;
		if (!grow((void **)&p, &cap, n + 1, sizeof(*p)) ||
		    (p[n].site = strdup(lo.site)) == NULL) {
			status = EXIT_LOCAL;
			break;
		}
		if ((p[n].id = strdup(lo.id)) == NULL) {
			free(p[n].site);
			status = EXIT_LOCAL;
			break;
		}
		p[n++].revision = lo.revision;
	}
	cml_ledger_end(c->store, &cur);
	if (status != EXIT_OK)
		cmd_error("out of memory");
	else if (st != CML_END) {
		cmd_error("%s", cml_store_errmsg(c->store));
		status = EXIT_LOCAL;
	}
	if (status != EXIT_OK) {
		free_pending(p, n);
		return status;
	}
	*out = p;
	*n_out = n;
	return EXIT_OK;
}

/* One ledger order: matched, written with its payment and shipment
 * documents, and marked matched at its revision. */
static int
ledger_one(struct cpm *c, const struct pending *p)
{
	cml_ledger_order lo;
	const cml_document *ad;
	const char *card;
	char *booked = NULL;
	void *acur = NULL;
	cml_item it = { .kind = CML_ITEM_DOCUMENT };
	cml_status st;
	int status;

	if ((st = cml_ledger_get(c->store, p->site, p->id, p->revision, &lo)) != CML_OK) {
		cmd_error("ledger order %s of %s: %s", p->id, p->site,
		          st == CML_END ? "gone" : cml_store_errmsg(c->store));
		return st == CML_END ? EXIT_LOCAL : cmd_exit_for(st);
	}
	it.origin.file = "(ledger)";
	it.u.document = *lo.doc;
	if ((status = match_order(c, p->site, &it, &card)) != EXIT_OK)
		return status;
	if ((booked = strdup(card)) == NULL) {
		cmd_error("out of memory");
		return EXIT_LOCAL;
	}
	while ((st = cml_ledger_attachments(c->store, p->site, p->id, &acur, &ad)) == CML_OK) {
		cml_item at = { .kind = CML_ITEM_DOCUMENT, .origin = { "(ledger)", 0 } };
		at.u.document = *ad;
		if ((status = writer_add(c, &at)) != EXIT_OK)
			break;
	}
	cml_ledger_end(c->store, &acur);
	if (status == EXIT_OK && st != CML_END) {
		cmd_error("%s", cml_store_errmsg(c->store));
		status = EXIT_LOCAL;
	}
	if (status == EXIT_OK &&
	    cml_register_set_matched(c->store, p->site, p->id, p->revision, booked) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(c->store));
		status = EXIT_LOCAL;
	}
	free(booked);
	return status;
}

static int
match_ledger(struct cpm *c)
{
	struct pending *p = NULL;
	size_t n = 0;
	int status;

	if ((status = ledger_pending(c, &p, &n)) != EXIT_OK)
		return status;
	cmd_verbose("%zu ledger order%s not matched yet", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n && status == EXIT_OK; i++)
		status = ledger_one(c, &p[i]);
	free_pending(p, n);
	return status;
}

/* ---- matching: the pipe and the ledger ---- */

static void
stats_sum(const struct cpm *c, cml_match_stats *all)
{
	memset(all, 0, sizeof(*all));
	for (size_t i = 0; i < c->n_matchers; i++) {
		cml_match_stats s;
		cml_matcher_stats(c->matchers[i].m, &s);
		all->buyers += s.buyers;
		for (int d = 0; d < CML_DEC_COUNT; d++)
			all->by_decision[d] += s.by_decision[d];
		all->cards_new += s.cards_new;
		all->persons_new += s.persons_new;
		all->inn_filled += s.inn_filled;
		all->reviews += s.reviews;
		all->duplicates += s.duplicates;
		all->invalid_inn += s.invalid_inn;
		all->invalid_email += s.invalid_email;
		all->no_keys += s.no_keys;
	}
}

/* The --summary lines (cp-match(1) documents them as a format). */
static void
print_summary(const struct cpm *c, const cml_match_stats *s)
{
	const char *sep = "";

	fprintf(stderr, "%s: buyers: %" PRId64 "\n", cmd_progname, s->buyers);
	fprintf(stderr, "%s: rules:", cmd_progname);
	for (int d = 0; d < CML_DEC_COUNT; d++)
		if (s->by_decision[d] > 0) {
			fprintf(stderr, "%s %s %" PRId64, sep,
			        cml_match_decision_name((cml_match_decision)d), s->by_decision[d]);
			sep = ",";
		}
	fprintf(stderr, "%s\n", sep[0] == '\0' ? " none" : "");
	fprintf(stderr, "%s: new cards: %" PRId64 "\n", cmd_progname, s->cards_new);
	fprintf(stderr, "%s: new contact persons: %" PRId64 "\n", cmd_progname, s->persons_new);
	fprintf(stderr, "%s: INN filled: %" PRId64 "\n", cmd_progname, s->inn_filled);
	fprintf(stderr, "%s: reviews: %ld\n", cmd_progname, c->reviews);
	fprintf(stderr,
	        "%s: duplicates: %" PRId64
	        " (new cards for a buyer whose email or INN an existing card has)\n",
	        cmd_progname, s->duplicates);
	fprintf(stderr,
	        "%s: reported: %" PRId64 " invalid INN, %" PRId64 " invalid email, %" PRId64
	        " without keys, %ld without a buyer\n",
	        cmd_progname, s->invalid_inn, s->invalid_email, s->no_keys, c->no_buyer);
	fprintf(stderr, "%s: documents: %ld written, %ld passed as they came\n", cmd_progname,
	        c->documents, c->passed);
}

static int
open_decisions(struct cpm *c)
{
	if (c->o->decisions == NULL)
		return EXIT_OK;
	if ((c->dec = beside_tmp(c->o->decisions, "decisions", &c->dec_tmp)) == NULL)
		return EXIT_LOCAL;
	c->dec_rec = (struct rec_out){ .f = c->dec,
		                       .fmt = c->o->recfmt,
		                       .fields = decision_fields,
		                       .n = N_DECISION_FIELDS };
	return EXIT_OK;
}

/* The decisions in place: after the commit (or --dry-run's rollback). */
static int
put_decisions(struct cpm *c)
{
	int rc;

	if (c->dec == NULL)
		return EXIT_OK;
	rc = !rec_finish(&c->dec_rec) || fflush(c->dec) != 0 || fsync(fileno(c->dec)) != 0;
	rc |= fclose(c->dec) != 0;
	c->dec = NULL;
	if (rc != 0 || rename(c->dec_tmp, c->o->decisions) != 0) {
		cmd_error("%s: %s", c->o->decisions, strerror(errno));
		return EXIT_LOCAL;
	}
	free(c->dec_tmp);
	c->dec_tmp = NULL;
	return EXIT_OK;
}

static void
drop_decisions(struct cpm *c)
{
	if (c->dec != NULL)
		fclose(c->dec);
	c->dec = NULL;
	if (c->dec_tmp != NULL)
		unlink(c->dec_tmp);
	free(c->dec_tmp);
	c->dec_tmp = NULL;
}

static int
run_match(struct cpm *c)
{
	cml_reader_opts ro = { .warn = on_file_warning };
	cml_reader *rd = NULL;
	cml_match_stats s;
	char counts[256];
	int status;

	if ((c->out = hidden_tmp("out")) == NULL)
		return EXIT_LOCAL;
	if ((status = open_decisions(c)) != EXIT_OK)
		return status;
	if (c->o->mode == CPM_PIPE && (rd = cml_reader_new(&ro)) == NULL) {
		cmd_error("out of memory");
		return EXIT_LOCAL;
	}
	if (rd != NULL && (c->o->input == NULL || strcmp(c->o->input, "-") == 0) &&
	    (status = spool_stdin(c)) != EXIT_OK)
		goto out;
	if ((status = db_open(&c->o->db, false, &c->store)) != EXIT_OK ||
	    (status = db_begin(c->store, "cp-match")) != EXIT_OK || (status = load_registers(c)) != EXIT_OK)
		goto out;
	status = rd != NULL ? match_input(c, rd) : match_ledger(c);
	if (status == EXIT_OK && c->sw != NULL && cml_stream_writer_finish(c->sw) != CML_OK) {
		cmd_error("the temporary output: %s", cml_stream_writer_errmsg(c->sw));
		status = EXIT_LOCAL;
	}
	if (status != EXIT_OK) {
		cmd_error("nothing written, the register is as it was");
		goto out;
	}
	stats_sum(c, &s);
	/* the whole output first, then the commit: at least once */
	if ((status = copy_out(c->out)) != EXIT_OK)
		goto out;
	snprintf(counts, sizeof(counts),
	         "{\"buyers\":%" PRId64 ",\"new_cards\":%" PRId64 ",\"new_persons\":%" PRId64
	         ",\"reviews\":%ld,\"duplicates\":%" PRId64 "}",
	         s.buyers, s.cards_new, s.persons_new, c->reviews, s.duplicates);
	if ((status = finish_run(c, "ok", counts)) != EXIT_OK)
		goto out;
	if ((status = put_decisions(c)) != EXIT_OK)
		goto out;
	if (c->o->summary)
		print_summary(c, &s);
	if (c->reviews > 0 || s.invalid_inn > 0 || s.invalid_email > 0 || s.no_keys > 0 ||
	    c->no_buyer > 0)
		status = EXIT_ATTENTION;
out:
	db_rollback(c->store); /* nothing when no run is open */
	drop_decisions(c);
	cml_reader_free(rd);
	if (c->in != NULL)
		fclose(c->in);
	c->in = NULL;
	return status;
}

/* ---- the other modes ---- */

static int
run_load(struct cpm *c)
{
	int status;

	if ((status = db_open(&c->o->db, false, &c->store)) != EXIT_OK ||
	    (status = db_begin(c->store, "cp-match")) != EXIT_OK || (status = load_registers(c)) != EXIT_OK)
		return status;
	return finish_run(c, "ok", NULL);
}

static int
run_review(struct cpm *c)
{
	struct rec_out rec = { .f = stdout,
		               .fmt = c->o->recfmt,
		               .fields = review_fields,
		               .n = N_REVIEW_FIELDS };
	void *cur = NULL;
	cml_review r;
	cml_status st;
	char id[24];
	int status;

	if ((status = db_open(&c->o->db, true, &c->store)) != EXIT_OK)
		return status;
	while ((st = cml_register_review_next(c->store, !c->o->all, &cur, &r)) == CML_OK) {
		snprintf(id, sizeof(id), "%" PRId64, r.id);
		const char *v[N_REVIEW_FIELDS] = { id,         r.site,          r.order_id,
			                           r.order_number, r.email,     r.inn,
			                           r.kpp,          r.phone,     r.candidates,
			                           r.booked,       r.rule,      r.reason,
			                           r.created,      r.resolved_card, r.resolved };
		if (!rec_write(&rec, v))
			break;
	}
	cml_register_end(c->store, &cur);
	if (st != CML_OK && st != CML_END) {
		cmd_error("%s", cml_store_errmsg(c->store));
		return EXIT_LOCAL;
	}
	(void)rec_finish(&rec); /* the header of an empty queue; a write
	                           error is found by cmd_finish */
	return EXIT_OK;
}

static int
run_resolve(struct cpm *c)
{
	cml_status st;
	int status;

	if ((status = db_open(&c->o->db, false, &c->store)) != EXIT_OK ||
	    (status = db_begin(c->store, "cp-match")) != EXIT_OK)
		return status;
	st = cml_register_resolve(c->store, c->o->site, c->o->resolve_order, c->o->resolve_card);
	if (st == CML_END) {
		cmd_error("order %s: no review names it%s%s", c->o->resolve_order,
		          c->o->site != NULL ? " on site " : "", c->o->site != NULL ? c->o->site : "");
		return EXIT_DATA;
	}
	if (st != CML_OK) {
		cmd_error("order %s: %s", c->o->resolve_order, cml_store_errmsg(c->store));
		return cmd_exit_for(st);
	}
	cmd_verbose("order %s: booked to %s from now on", c->o->resolve_order, c->o->resolve_card);
	return finish_run(c, "ok", NULL);
}

static int
plan_row(void *ud, const cml_dedupe_row *row)
{
	struct rec_out *rec = ud;
	char cluster[24];

	snprintf(cluster, sizeof(cluster), "%" PRId64, row->cluster);
	const char *v[N_PLAN_FIELDS] = { cluster,     row->survivor,
		                         row->card_id, row->merge ? "merge" : "propose",
		                         row->key_kind, row->key };
	return rec_write(rec, v) ? 0 : -1;
}

static int
run_self(struct cpm *c)
{
	struct rec_out rec = { .fmt = REC_CSV, .fields = plan_fields, .n = N_PLAN_FIELDS };
	cml_dedupe_stats ds = { 0 };
	char counts[160], *tmp = NULL;
	cml_status st;
	int status;

	rec.f = c->o->plan != NULL ? beside_tmp(c->o->plan, "plan", &tmp) : (c->out = hidden_tmp("plan"));
	if (rec.f == NULL)
		return EXIT_LOCAL;
	if ((status = db_open(&c->o->db, false, &c->store)) != EXIT_OK ||
	    (status = db_begin(c->store, "cp-match")) != EXIT_OK || (status = load_registers(c)) != EXIT_OK)
		goto out;
	if ((st = cml_dedupe(c->store, c->o->apply, plan_row, &rec, &ds)) != CML_OK) {
		cmd_error("%s", st == CML_ERR_IO ? strerror(errno) : cml_store_errmsg(c->store));
		cmd_error("nothing merged");
		status = cmd_exit_for(st);
		goto out;
	}
	if (!rec_finish(&rec) || fflush(rec.f) != 0) {
		cmd_error("the plan: %s", strerror(errno));
		status = EXIT_LOCAL;
		goto out;
	}
	if (c->o->plan == NULL && (status = copy_out(c->out)) != EXIT_OK)
		goto out;
	snprintf(counts, sizeof(counts),
	         "{\"cards\":%" PRId64 ",\"clusters\":%" PRId64 ",\"merged\":%" PRId64
	         ",\"proposals\":%" PRId64 "}",
	         ds.cards, ds.clusters, ds.merged, ds.proposals);
	if (c->o->apply)
		status = db_commit(c->store, "merged", counts);
	else
		db_rollback(c->store);
	if (status == EXIT_OK && tmp != NULL) {
		int rc = fsync(fileno(rec.f));
		rc |= fclose(rec.f);
		rec.f = NULL;
		if (rc != 0 || rename(tmp, c->o->plan) != 0) {
			cmd_error("%s: %s", c->o->plan, strerror(errno));
			status = EXIT_LOCAL;
		}
	}
	if (status == EXIT_OK && c->o->summary)
		fprintf(stderr,
		        "%s: cards: %" PRId64 ", clusters: %" PRId64 ", %s: %" PRId64
		        ", proposed links: %" PRId64 "\n",
		        cmd_progname, ds.cards, ds.clusters, c->o->apply ? "merged" : "to merge",
		        ds.merged, ds.proposals);
out:
	db_rollback(c->store); /* nothing when no run is open */
	if (tmp != NULL) {
		if (rec.f != NULL) {
			fclose(rec.f);
			unlink(tmp);
		}
		free(tmp);
	}
	return status;
}

static int
run_export(struct cpm *c)
{
	char err[1024];
	cml_status st;
	int status;

	if ((status = db_open(&c->o->db, true, &c->store)) != EXIT_OK)
		return status;
	st = c->o->export_xml ? cml_regfile_write_cml(c->store, stdout, &c->o->xml, err, sizeof(err))
	                      : cml_regfile_write_csv(c->store, stdout, err, sizeof(err));
	if (st != CML_OK) {
		cmd_error("%s", err);
		return cmd_exit_for(st);
	}
	return EXIT_OK;
}

static int
run(struct cpm_opts *o)
{
	struct cpm c = { .o = o };
	int status;

	switch (o->mode) {
	case CPM_PIPE:
	case CPM_LEDGER:
		status = run_match(&c);
		break;
	case CPM_LOAD:
		status = run_load(&c);
		break;
	case CPM_REVIEW:
		status = run_review(&c);
		break;
	case CPM_RESOLVE:
		status = run_resolve(&c);
		break;
	case CPM_SELF:
		status = run_self(&c);
		break;
	case CPM_EXPORT:
	default:
		status = run_export(&c);
		break;
	}
	db_rollback(c.store);
	free_matchers(&c);
	cml_stream_writer_free(c.sw);
	if (c.out != NULL)
		fclose(c.out);
	db_close(c.store);
	free(c.sc.cps);
	free(c.sc.reps);
	free(c.sc.contacts);
	return status;
}

int
main(int argc, char **argv)
{
	struct cpm_opts o = { 0 };
	int status;

	cmd_init(argv[0]);
	status = cpm_parse_options(argc, argv, &o);
	if (status == EXIT_OK)
		status = run(&o);
	free(o.registers);
	free(o.marketplaces);
	return cmd_finish(status);
}
