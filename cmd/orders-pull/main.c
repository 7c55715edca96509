/*
 * orders-pull: fetch a site's new and changed orders (or read them from
 * files), store them in the order ledger, confirm them to the site, and
 * write them out for the accounting system.
 *
 * The order of things is what keeps "no order lost, none doubled" true:
 *  1. the settings first (the site, its password, the output options),
 *     then the database: a database that cannot be opened is found before
 *     the site is asked anything;
 *  2. checkauth and init (type=sale; &version= with --exchange-version);
 *  3. each query's answer goes whole to a temporary file (0600, in
 *     $TMPDIR, its name removed as soon as it is created, so not even
 *     kill -9 leaves it behind) and is read from there: a dropped
 *     connection is found before anything is stored;
 *  4. every order of the answer is checked (cml_order_check) and stored
 *     in one transaction: one run of the store per answer. The site's
 *     confirmation must follow the commit of what it confirms, and a run
 *     is one transaction, so a pull of several answers is several runs,
 *     each committed before its answer is confirmed. A rejected order
 *     (without --keep-going) or a broken document rolls the answer back;
 *  5. only after that commit, mode=success. If it fails (the site says
 *     error: its session changed) or the process dies before it, the site
 *     sends the same orders again and the ledger takes them as no change:
 *     no loss, no duplicate. An answer with rejected orders is not
 *     confirmed unless --ack-partial: the site would drop them;
 *  6. query again until an answer holds nothing new or changed (some
 *     sites return a handful per query, others repeat what they sent),
 *     at most --max-queries times;
 *  7. last, the orders this pull's runs stored new or changed go to
 *     stdout, read back from the ledger: what goes out is what was
 *     committed, and --replay can write it again.
 * Files (FILE... or "-") skip 2, 3 and 5: all of them are one transaction.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cml/exchange.h>
#include <cml/ledger.h>
#include <cml/order.h>
#include <cml/orderfmt.h>
#include <cml/reader.h>
#include <cml/store.h>
#include <cml/writer.h>

#include "cmdutil.h"
#include "dbrun.h"
#include "options.h"
#include "siteopts.h"

/* What one answer (or the files, or the whole pull) held. new, changed
 * and unchanged count orders stored; seen and rejected every order read. */
struct counts {
	long seen, fresh, changed, unchanged, rejected;
	long attached, attached_changed; /* payment and shipment documents */
};

struct pull {
	const struct pull_opts *o;
	const char *site;
	cml_store *store;
	cml_reader *reader;
	bool in_run;
	int64_t first_run;  /* the first run of this pull that committed */
	int runs;           /* how many committed */
	struct counts now;  /* the answer (or files) being read */
	struct counts all;  /* the whole pull */
};

static void
on_warning(void *ud, const char *msg)
{
	(void)ud;
	cmd_warn("warning: %s", msg);
}

static void
counts_add(struct counts *to, const struct counts *c, bool stored)
{
	to->seen += c->seen;
	to->rejected += c->rejected;
	to->attached += c->attached;
	if (!stored)
		return;
	to->fresh += c->fresh;
	to->changed += c->changed;
	to->unchanged += c->unchanged;
	to->attached_changed += c->attached_changed;
}

static bool
anything_new(const struct counts *c)
{
	return c->fresh + c->changed + c->attached_changed > 0;
}

/* The --summary line (orders-pull(1) documents it as a format). */
static void
print_summary(const struct counts *c)
{
	fprintf(stderr,
	        "%s: orders: %ld seen, %ld new, %ld changed, %ld unchanged, %ld rejected; "
	        "attachments: %ld seen, %ld new or changed\n",
	        cmd_progname, c->seen, c->fresh, c->changed, c->unchanged, c->rejected,
	        c->attached, c->attached_changed);
}

/* ---- storing what was read ---- */

/* "order 132", "order without Номер (Ид 7f3c)", for messages. */
static void
order_name(const cml_document *d, char *buf, size_t cap)
{
	const char *what = cml_order_is_attachment(d) ? "document" : "order";

	if (d->number != NULL)
		snprintf(buf, cap, "%s %s", what, d->number);
	else if (d->id != NULL)
		snprintf(buf, cap, "%s without Номер (Ид %s)", what, d->id);
	else
		snprintf(buf, cap, "%s without Номер or Ид", what);
}

static int
begin(struct pull *p)
{
	int status;

	if (p->in_run)
		return EXIT_OK;
	if ((status = db_begin(p->store, "orders-pull")) == EXIT_OK)
		p->in_run = true;
	return status;
}

static int
commit(struct pull *p)
{
	char counts[256];
	const struct counts *c = &p->now;
	const char *outcome = c->rejected > 0 ? "partial" : anything_new(c) ? "ok" : "nothing";
	int64_t run = cml_store_run_id(p->store);
	int status;

	snprintf(counts, sizeof(counts),
	         "{\"seen\":%ld,\"new\":%ld,\"changed\":%ld,\"unchanged\":%ld,\"rejected\":%ld,"
	         "\"attachments\":%ld,\"attachments_changed\":%ld}",
	         c->seen, c->fresh, c->changed, c->unchanged, c->rejected, c->attached,
	         c->attached_changed);
	p->in_run = false;
	if ((status = db_commit(p->store, outcome, counts)) != EXIT_OK)
		return status;
	if (p->runs++ == 0)
		p->first_run = run;
	cmd_verbose("run %" PRId64 " committed: %s", run, outcome);
	return EXIT_OK;
}

static void
rollback(struct pull *p)
{
	if (p->in_run)
		db_rollback(p->store);
	p->in_run = false;
}

static int
take_document(struct pull *p, const cml_item *it)
{
	const cml_document *d = &it->u.document;
	bool attachment = cml_order_is_attachment(d);
	char why[512], name[160];
	cml_status st;
	int status;

	if (attachment)
		p->now.attached++;
	else
		p->now.seen++;
	if (cml_order_check(d, why, sizeof(why)) != CML_OK) {
		order_name(d, name, sizeof(name));
		cmd_error("%s:%lu: %s rejected: %s", it->origin.file, it->origin.line, name, why);
		p->now.rejected++;
		return EXIT_OK;
	}
	/* without --keep-going nothing of this input is kept once one order
	 * is rejected: the rest are only checked, to report them all */
	if (p->now.rejected > 0 && !p->o->keep_going)
		return EXIT_OK;
	if ((status = begin(p)) != EXIT_OK)
		return status;
	if (attachment) {
		cml_ledger_change ch = CML_LEDGER_UNCHANGED;
		if ((st = cml_ledger_attach(p->store, p->site, d, &ch)) != CML_OK)
			goto fail;
		if (ch != CML_LEDGER_UNCHANGED)
			p->now.attached_changed++;
		return EXIT_OK;
	}
	cml_ledger_put_result res;
	if ((st = cml_ledger_put(p->store, p->site, d, &res)) != CML_OK)
		goto fail;
	if (res.change == CML_LEDGER_NEW)
		p->now.fresh++;
	else if (res.change == CML_LEDGER_CHANGED)
		p->now.changed++;
	else
		p->now.unchanged++;
	if (res.change != CML_LEDGER_UNCHANGED) {
		order_name(d, name, sizeof(name));
		cmd_verbose("%s: %s%s%s", name, cml_ledger_change_name(res.change),
		            res.changed[0] != '\0' ? ": " : "", res.changed);
	}
	return EXIT_OK;
fail:
	order_name(d, name, sizeof(name));
	cmd_error("%s:%lu: %s: %s", it->origin.file, it->origin.line, name,
	          cml_store_errmsg(p->store));
	return cmd_exit_for(st);
}

/*
 * Reads the input the reader has open and stores its documents in the
 * current run (begun at the first one). A rejected order is counted and
 * reported, not an error here; what is returned is an error that ends
 * the input: a broken document, a catalog instead of orders, the
 * database.
 */
static int
take_input(struct pull *p)
{
	const cml_item *it;
	cml_status st;
	int status;

	while ((st = cml_reader_next(p->reader, &it)) != CML_END) {
		if (st == CML_ERR_ITEM) {
			/* a document the reader could not read: an order all
			 * the same, and so a rejected one */
			cmd_error("%s: rejected", cml_reader_errmsg(p->reader));
			p->now.seen++;
			p->now.rejected++;
			continue;
		}
		if (st != CML_OK) {
			cmd_error("%s", cml_reader_errmsg(p->reader));
			return cmd_exit_for(st);
		}
		switch (it->kind) {
		case CML_ITEM_FILE:
			break;
		case CML_ITEM_DOCUMENT:
			if ((status = take_document(p, it)) != EXIT_OK)
				return status;
			break;
		default:
			cmd_error("%s:%lu: a %s: not an orders document (a query answer, or "
			          "Документ elements)",
			          it->origin.file, it->origin.line, cml_kind_name(it->kind));
			return EXIT_DATA;
		}
	}
	return EXIT_OK;
}

/* ---- the output ---- */

/*
 * Writes the orders f selects (each once, its latest revision, then its
 * payment and shipment documents) to stdout. Nothing at all when there
 * is none.
 */
static int
write_orders(cml_store *s, const cml_ledger_filter *f, const struct pull_opts *o)
{
	cml_orderfmt *fmt = cml_orderfmt_new(stdout, o->format, &o->xml);
	void *cur = NULL, *acur = NULL;
	cml_ledger_order lo;
	const cml_document *ad;
	char *id = NULL, *site = NULL;
	int status = EXIT_OK;
	long n = 0;
	cml_status st;

	if (fmt == NULL) {
		cmd_error("out of memory");
		return EXIT_LOCAL;
	}
	while ((st = cml_ledger_next(s, f, &cur, &lo)) == CML_OK) {
		cml_orderfmt_meta m = { .site = lo.site,
			                .revision = lo.revision,
			                .change = cml_ledger_change_name(lo.revision == 1
			                                                         ? CML_LEDGER_NEW
			                                                         : CML_LEDGER_CHANGED),
			                .changed = lo.changed };
		if (cml_orderfmt_add(fmt, lo.doc, &m) != CML_OK)
			goto fmt_fail;
		n++;
		/* lo's strings last until the next ledger call */
		free(id);
		free(site);
		id = strdup(lo.id);
		site = strdup(lo.site);
		if (id == NULL || site == NULL) {
			cmd_error("out of memory");
			status = EXIT_LOCAL;
			goto out;
		}
		while ((st = cml_ledger_attachments(s, site, id, &acur, &ad)) == CML_OK)
			if (cml_orderfmt_add_attachment(fmt, ad) != CML_OK)
				goto fmt_fail;
		cml_ledger_end(s, &acur);
		if (st != CML_END)
			break;
	}
	if (st != CML_END) {
		cmd_error("%s", cml_store_errmsg(s));
		status = EXIT_LOCAL;
		goto out;
	}
	if (cml_orderfmt_finish(fmt) != CML_OK)
		goto fmt_fail;
	cmd_verbose("%ld order%s written", n, n == 1 ? "" : "s");
	goto out;
fmt_fail:
	cmd_error("standard output: %s", cml_orderfmt_errmsg(fmt));
	status = EXIT_LOCAL;
out:
	cml_ledger_end(s, &acur);
	cml_ledger_end(s, &cur);
	cml_orderfmt_free(fmt);
	free(id);
	free(site);
	return status;
}

/* What this pull stored new or changed: its runs (usually one). */
static int
write_pulled(struct pull *p)
{
	cml_ledger_filter f = { .site = p->site };

	if (p->runs == 0 || !anything_new(&p->all))
		return EXIT_OK;
	if (p->runs == 1)
		f.run = p->first_run;
	else
		f.since_run = p->first_run;
	int status = write_orders(p->store, &f, p->o);
	if (status != EXIT_OK)
		cmd_error("the orders are stored: '%s --site %s --replay %" PRId64 "' writes them "
		          "again",
		          cmd_progname, p->site, p->first_run);
	return status;
}

/* ---- files ---- */

static int
pull_files(struct pull *p)
{
	char **inputs = NULL;
	size_t n = 0;
	int status = EXIT_OK;

	if (!cmd_expand_inputs(p->o->inputs, p->o->n_inputs, &inputs, &n))
		return EXIT_LOCAL;
	for (size_t i = 0; i < n && status == EXIT_OK; i++) {
		cml_status st = cml_reader_open_file(p->reader, inputs[i]);
		if (st != CML_OK) {
			cmd_error("%s", cml_reader_errmsg(p->reader));
			status = cmd_exit_for(st);
			break;
		}
		cmd_verbose("reading %s", strcmp(inputs[i], "-") == 0 ? "(stdin)" : inputs[i]);
		status = take_input(p);
	}
	if (status == EXIT_OK && p->now.rejected > 0 && !p->o->keep_going) {
		cmd_error("%ld order%s rejected: nothing stored (--keep-going stores the others)",
		          p->now.rejected, p->now.rejected == 1 ? "" : "s");
		status = EXIT_DATA;
	}
	if (status != EXIT_OK) {
		rollback(p);
		counts_add(&p->all, &p->now, false);
		if (status == EXIT_DATA && p->now.rejected == 0)
			cmd_error("nothing stored");
		goto out;
	}
	if (p->in_run && (status = commit(p)) != EXIT_OK) {
		counts_add(&p->all, &p->now, false);
		goto out;
	}
	counts_add(&p->all, &p->now, true);
	if (p->now.rejected > 0)
		status = EXIT_ATTENTION;
out:
	cmd_free_list(inputs);
	return status;
}

/* ---- the site ---- */

/*
 * A file for one query answer: 0600 (mkstemp) in $TMPDIR, its name
 * removed at once, so that no run leaves it behind, killed or not; the
 * signal cleanup of cmdutil covers the moment in between.
 */
static FILE *
answer_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	FILE *f = NULL;
	int fd;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	int w = snprintf(path, sizeof(path), "%s/%s%ld.query.XXXXXX", dir, CML_WRITER_TMP_PREFIX,
	                 (long)getpid());
	if (w < 0 || (size_t)w >= sizeof(path)) {
		cmd_error("%s: TMPDIR is too long", dir);
		return NULL;
	}
	cmd_clean_on_signal(dir);
	if ((fd = mkstemp(path)) < 0) {
		cmd_error("%s: cannot create a file for the site's answer: %s", dir,
		          strerror(errno));
		return NULL;
	}
	unlink(path);
	if ((f = fdopen(fd, "w+")) == NULL) {
		cmd_error("out of memory");
		close(fd);
	}
	return f;
}

/* One query: its answer read, checked, stored and committed. *confirm
 * says whether success may follow; *more whether to query again. */
static int
one_answer(struct pull *p, cml_exchange *x, FILE *ans, int q, bool *confirm, bool *more)
{
	char name[32];
	cml_status st;
	int status;

	*confirm = *more = false;
	memset(&p->now, 0, sizeof(p->now));
	if (fflush(ans) != 0 || ftruncate(fileno(ans), 0) != 0 || fseek(ans, 0, SEEK_SET) != 0) {
		cmd_error("the file for the site's answer: %s", strerror(errno));
		return EXIT_LOCAL;
	}
	if ((st = cml_exchange_query(x, ans)) != CML_OK) {
		cmd_error("%s", cml_exchange_errmsg(x));
		return cmd_exit_for(st);
	}
	if (lseek(fileno(ans), 0, SEEK_SET) != 0) {
		cmd_error("the file for the site's answer: %s", strerror(errno));
		return EXIT_LOCAL;
	}
	snprintf(name, sizeof(name), "(query %d)", q);
	if ((st = cml_reader_open_fd(p->reader, fileno(ans), name)) != CML_OK) {
		cmd_error("%s", cml_reader_errmsg(p->reader));
		return cmd_exit_for(st);
	}
	status = take_input(p);
	if (status == EXIT_OK && p->now.rejected > 0 && !p->o->keep_going) {
		cmd_error("%ld order%s rejected: nothing of the answer stored or confirmed "
		          "(--keep-going stores the others)",
		          p->now.rejected, p->now.rejected == 1 ? "" : "s");
		status = EXIT_DATA;
	}
	if (status != EXIT_OK) {
		rollback(p);
		counts_add(&p->all, &p->now, false);
		if (p->now.rejected == 0)
			cmd_error("%s: nothing of the answer stored or confirmed: the site sends it "
			          "again",
			          name);
		return status;
	}
	if (p->in_run && (status = commit(p)) != EXIT_OK) {
		counts_add(&p->all, &p->now, false);
		return status;
	}
	counts_add(&p->all, &p->now, true);
	cmd_verbose("%s: %ld order%s: %ld new, %ld changed, %ld unchanged, %ld rejected", name,
	            p->now.seen, p->now.seen == 1 ? "" : "s", p->now.fresh, p->now.changed,
	            p->now.unchanged, p->now.rejected);
	if (p->now.seen + p->now.attached == 0)
		return EXIT_OK; /* an empty answer: nothing to confirm, nothing more */
	if (p->now.rejected > 0 && !p->o->ack_partial) {
		cmd_warn("%s: not confirmed to the site because of the rejected orders: it sends "
		         "them again (--ack-partial confirms such an answer)",
		         name);
		return EXIT_ATTENTION;
	}
	*confirm = true;
	*more = anything_new(&p->now);
	return p->now.rejected > 0 ? EXIT_ATTENTION : EXIT_OK;
}

/* The site's settings and the session's handle; nothing is sent yet. */
static int
site_connect(struct pull_opts *o, cml_exchange **x)
{
	char errbuf[1024] = "";
	cml_exchange_opts xo = { 0 };
	cml_status st;
	int status;

	if ((status = site_prepare(&o->site, &xo)) != EXIT_OK)
		return status;
	xo.type = "sale";
	xo.version = o->version;
	if ((*x = cml_exchange_new(&xo, &st, errbuf, sizeof(errbuf))) == NULL) {
		cmd_error("%s", errbuf);
		return cmd_exit_for(st);
	}
	return EXIT_OK;
}

static int
pull_site(struct pull *p, cml_exchange *x)
{
	FILE *ans = NULL;
	int status = EXIT_OK, q = 0;
	bool confirm, more = true;
	cml_status st;

	if ((ans = answer_file()) == NULL)
		return EXIT_LOCAL;
	if ((st = cml_exchange_checkauth(x)) != CML_OK || (st = cml_exchange_init(x)) != CML_OK) {
		cmd_error("%s", cml_exchange_errmsg(x));
		status = cmd_exit_for(st);
		goto out;
	}
	while (more && q < p->o->max_queries) {
		int rc = one_answer(p, x, ans, ++q, &confirm, &more);
		cmd_raise(&status, rc);
		if (!confirm)
			break;
		if ((st = cml_exchange_success(x)) != CML_OK) {
			/* whatever the site said, the orders are in the ledger and
			 * it sends them again: a later run confirms them */
			cmd_error("%s", cml_exchange_errmsg(x));
			cmd_error("the orders are stored; the site did not take the confirmation "
			          "and sends them again (taken as no change)");
			cmd_raise(&status, st == CML_ERR_NOMEM ? EXIT_LOCAL : EXIT_RETRY);
			break;
		}
		cmd_verbose("(query %d): confirmed", q);
	}
	if (more && q == p->o->max_queries && status == EXIT_OK)
		cmd_warn("stopped after %d quer%s with the site still sending new or changed "
		         "orders: the next run goes on",
		         q, q == 1 ? "y" : "ies");
out:
	fclose(ans);
	return status;
}

/* ---- the run ---- */

static int
replay(struct pull_opts *o)
{
	cml_ledger_filter f = { .site = site_name(&o->site) };
	cml_store *s = NULL;
	int status;

	if (o->replay_run > 0)
		f.since_run = o->replay_run;
	else
		f.since = o->replay_since;
	if ((status = db_open(&o->db, true, &s)) == EXIT_OK)
		status = write_orders(s, &f, o);
	db_close(s);
	return status;
}

static int
run(struct pull_opts *o)
{
	struct pull p = { .o = o };
	cml_reader_opts ro = { .warn = on_warning };
	cml_exchange *x = NULL;
	int status;

	if (o->replay != NULL)
		return replay(o);
	if (o->n_inputs == 0 && o->site.url == NULL) {
		cmd_error("no site and no files: give --url (or $CMLKIT_URL) to pull from a site, "
		          "or FILEs to read");
		cmd_error("Try '%s --help' for more information.", cmd_progname);
		return EXIT_USAGE;
	}
	if ((p.site = site_name(&o->site)) == NULL) {
		cmd_error(o->n_inputs > 0 ? "which site are the orders from? give --site NAME (or "
		                            "$CMLKIT_SITE)"
		                          : "the URL's host makes no site name: give --site NAME");
		return EXIT_USAGE;
	}
	if (o->n_inputs == 0 && (status = site_connect(o, &x)) != EXIT_OK)
		goto out;
	if ((p.reader = cml_reader_new(&ro)) == NULL) {
		cmd_error("out of memory");
		status = EXIT_LOCAL;
		goto out;
	}
	if ((status = db_open(&o->db, false, &p.store)) != EXIT_OK)
		goto out;
	status = x != NULL ? pull_site(&p, x) : pull_files(&p);
	/* what was committed goes out, whatever failed after it */
	cmd_raise(&status, write_pulled(&p));
	if (o->summary)
		print_summary(&p.all);
out:
	rollback(&p);
	db_close(p.store);
	cml_reader_free(p.reader);
	cml_exchange_free(x);
	site_release(&o->site);
	return status;
}

int
main(int argc, char **argv)
{
	struct pull_opts o = { 0 };
	int status;

	cmd_init(argv[0]);
	status = pull_parse_options(argc, argv, &o);
	if (status == EXIT_OK)
		status = run(&o);
	return cmd_finish(status);
}
