/*
 * orders-push: send the order progress not yet delivered to a site as one
 * CommerceML document (type=sale&mode=file), or write it to a file, and
 * mark it delivered.
 *
 * The order of things is what keeps "nothing lost, nothing sent twice
 * once delivered" true:
 *  1. the settings first (the site, its password, the document's form),
 *     then the database: a bad URL or no password is found before the
 *     database is touched, a database that cannot be opened before the
 *     site is asked anything;
 *  2. the run lock is taken before the pending orders are read and held
 *     to the end: a second push waits and then finds what the first
 *     delivered marked, so two pushes never send the same version; a
 *     step recorded meanwhile (orders-status waits for the lock) is a
 *     new version, pending for the next push;
 *  3. nothing pending: the run ends there, the site is not contacted;
 *  4. the document is written whole before anything is sent: each order
 *     its state at the version read in 2 (cml_statusdoc_build over the
 *     ledger's latest revision), to a temporary file in $TMPDIR whose
 *     name is removed as soon as it is created (no run, killed or not,
 *     leaves it behind), or to --output (a temporary file renamed over
 *     FILE once complete, or standard output, flushed and checked);
 *  5. checkauth, init, the upload (mode=file), and with --exchange-version
 *     mode=import until the site says success. Any failure ends the run
 *     with nothing marked: the next run sends the same again. (An old
 *     client's document larger than the site's file_limit goes as
 *     halves, each its own file: what the site took of them is marked);
 *  6. only after the site's success (or the file written in full) each
 *     order's version sent is marked delivered, with the site's words
 *     when its answer names the order as one it cannot change, and the
 *     run commits. A run killed between the site's success and the
 *     commit has marked nothing, so the next run sends those versions a
 *     second time: the one case of a double delivery, and harmless (the
 *     site applies the same state again). Once committed, a version is
 *     never sent again.
 * --dry-run does 4 to standard output (or --output) and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cml/exchange.h>
#include <cml/ledger.h>
#include <cml/orderfmt.h>
#include <cml/orderstate.h>
#include <cml/progress.h>
#include <cml/statusdoc.h>
#include <cml/store.h>
#include <cml/writer.h>

#include "cmdutil.h"
#include "dbrun.h"
#include "opush.h"
#include "siteopts.h"

/* One order that goes out: which, at which version, and the site's
 * words when it refused it. */
struct sent {
	char *id;
	char *number;
	int64_t version;
	char *refusal;
	bool sent;     /* the site (or the file) took it */
};

/* The map's code for each lifecycle state on this site, with its name. */
struct code {
	char *code;   /* NULL: none sent for the state */
	char *name;   /* NULL: none */
};

struct push {
	const struct opush_opts *o;
	const char *site;
	cml_store *store;
	struct sent *orders;
	size_t n;
	long more;                 /* pending beyond --limit */
	struct code codes[4];      /* by cml_os_life */
	char today[11];            /* YYYY-MM-DD */
	int parts;                 /* documents sent so far */
	long refused;              /* orders the site named as refused */
	bool unclaimed;            /* refusal words naming no order sent */
	const char *words;         /* the site's last words */
};

static void
push_free(struct push *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->orders[i].id);
		free(p->orders[i].number);
		free(p->orders[i].refusal);
	}
	free(p->orders);
	for (size_t i = 0; i < sizeof(p->codes) / sizeof(p->codes[0]); i++) {
		free(p->codes[i].code);
		free(p->codes[i].name);
	}
}

static int
store_failed(struct push *p)
{
	cmd_error("%s", cml_store_errmsg(p->store));
	return EXIT_LOCAL;
}

static int
no_memory(void)
{
	cmd_error("out of memory");
	return EXIT_LOCAL;
}

/* "order 132", or its Ид when it has no Номер, for messages. */
static const char *
order_name(const struct sent *e, char *buf, size_t cap)
{
	if (e->number[0] != '\0')
		snprintf(buf, cap, "order %s", e->number);
	else
		snprintf(buf, cap, "order without Номер (Ид %s)", e->id);
	return buf;
}

/* ---- what goes out ---- */

/*
 * The pending orders of the site, the oldest first, at most --limit.
 * Their ids are copied: the cursor's strings last until the next
 * progress call.
 */
static int
collect(struct push *p)
{
	cml_progress_filter f = { .site = p->site, .pending = true };
	cml_progress_order po;
	void *cur = NULL;
	size_t cap = 0;
	cml_status st;
	int status = EXIT_OK;

	while ((st = cml_progress_next(p->store, &f, &cur, &po)) == CML_OK) {
		if (p->o->limit > 0 && p->n >= (size_t)p->o->limit) {
			p->more++;
			continue;
		}
		if (p->n == cap) {
			size_t ncap = cap == 0 ? 16 : cap * 2;
			struct sent *v = realloc(p->orders, ncap * sizeof(*v));
			if (v == NULL) {
				status = no_memory();
				goto out;
			}
			p->orders = v;
			cap = ncap;
		}
		struct sent *e = &p->orders[p->n];
		memset(e, 0, sizeof(*e));
		e->id = strdup(po.id);
		e->number = strdup(po.number != NULL ? po.number : "");
		e->version = po.version;
		p->n++;
		if (e->id == NULL || e->number == NULL) {
			status = no_memory();
			goto out;
		}
	}
	if (st != CML_END)
		status = store_failed(p);
out:
	cml_progress_end(p->store, &cur);
	return status;
}

static bool
same_site(const char *entry_site, const char *site)
{
	return entry_site == NULL || entry_site[0] == '\0' || strcmp(entry_site, site) == 0;
}

/*
 * The code the map sends for each state on this site (cml_status_map_code)
 * and the site's name for it (the entry of this site, else of every site).
 */
static int
load_codes(struct push *p)
{
	cml_status_map_entry me;
	void *cur = NULL;
	cml_status st;

	for (int life = CML_OS_NEW; life <= CML_OS_CANCELLED; life++) {
		const char *code = NULL;
		st = cml_status_map_code(p->store, p->site, (cml_os_life)life, &code);
		if (st == CML_END)
			continue;
		if (st != CML_OK)
			return store_failed(p);
		if ((p->codes[life].code = strdup(code)) == NULL)
			return no_memory();
	}
	while ((st = cml_status_map_next(p->store, &cur, &me)) == CML_OK) {
		if (me.life > CML_OS_CANCELLED || !same_site(me.site, p->site))
			continue;
		struct code *c = &p->codes[me.life];
		if (c->code == NULL || strcmp(c->code, me.code) != 0 || me.name == NULL ||
		    me.name[0] == '\0')
			continue;
		/* this site's own entry wins over the one for every site */
		if (c->name != NULL && (me.site == NULL || me.site[0] == '\0'))
			continue;
		free(c->name);
		if ((c->name = strdup(me.name)) == NULL) {
			cml_progress_end(p->store, &cur);
			return no_memory();
		}
	}
	cml_progress_end(p->store, &cur);
	return st == CML_END ? EXIT_OK : store_failed(p);
}

/* One order's document: its state now, over its latest revision. */
static int
add_order(struct push *p, struct sent *e, cml_statusdoc *sd, cml_orderfmt *fmt)
{
	cml_progress_order po;
	cml_ledger_order lo;
	cml_order_state st;
	cml_os_line *lines = NULL;
	const cml_document *doc;
	char name[160];
	cml_status rc;
	int status = EXIT_OK;

	if ((rc = cml_progress_load(p->store, p->site, e->id, &po)) != CML_OK) {
		if (rc != CML_END)
			return store_failed(p);
		cmd_error("%s: not in the ledger any more", order_name(e, name, sizeof(name)));
		return EXIT_LOCAL;
	}
	/* the lines point into the store's memory until the next call */
	st = po.state;
	if (st.n_lines > 0) {
		if ((lines = calloc(st.n_lines, sizeof(*lines))) == NULL)
			return no_memory();
		memcpy(lines, po.state.lines, st.n_lines * sizeof(*lines));
	}
	st.lines = lines;
	e->version = po.version;
	if ((rc = cml_ledger_get(p->store, p->site, e->id, 0, &lo)) != CML_OK) {
		status = rc == CML_END ? EXIT_LOCAL : store_failed(p);
		if (rc == CML_END)
			cmd_error("%s: no revision in the ledger", order_name(e, name, sizeof(name)));
		goto out;
	}
	const struct code *c = &p->codes[st.life];
	if (cml_statusdoc_build(sd, lo.doc, &st, e->version, c->code, c->name, p->today, &doc) !=
	    CML_OK) {
		cmd_error("%s: cannot make its document", order_name(e, name, sizeof(name)));
		status = EXIT_LOCAL;
		goto out;
	}
	if (cml_orderfmt_add(fmt, doc, NULL) != CML_OK) {
		status = EXIT_LOCAL;
		cmd_error("the document: %s", cml_orderfmt_errmsg(fmt));
		goto out;
	}
	cmd_verbose("%s: version %" PRId64 ": %s, invoice %s, payment %s, shipment %s",
	            order_name(e, name, sizeof(name)), e->version, cml_os_life_name(st.life),
	            cml_os_invoice_name(st.invoice), cml_os_payment_name(st.payment),
	            cml_os_shipment_name(st.shipment));
out:
	free(lines);
	return status;
}

/* The document of orders a to b (not included) to out, flushed and
 * checked; where names it in messages. */
static int
write_range(struct push *p, size_t a, size_t b, FILE *out, const char *where)
{
	cml_orderfmt *fmt = cml_orderfmt_new(out, CML_ORDERFMT_XML, &p->o->xml);
	cml_statusdoc *sd = cml_statusdoc_new();
	int status = EXIT_OK;

	if (fmt == NULL || sd == NULL) {
		status = no_memory();
		goto out;
	}
	for (size_t i = a; i < b && status == EXIT_OK; i++)
		status = add_order(p, &p->orders[i], sd, fmt);
	if (status != EXIT_OK)
		goto out;
	if (cml_orderfmt_finish(fmt) != CML_OK || fflush(out) != 0 || ferror(out)) {
		cmd_error("%s: %s", where,
		          cml_orderfmt_errmsg(fmt)[0] != '\0' ? cml_orderfmt_errmsg(fmt)
		                                               : strerror(errno));
		status = EXIT_LOCAL;
	}
out:
	cml_statusdoc_free(sd);
	cml_orderfmt_free(fmt);
	return status;
}

/* Every order of the run in one document. */
static int
write_document(struct push *p, FILE *out, const char *where)
{
	return write_range(p, 0, p->n, out, where);
}

/* ---- where it goes ---- */

/*
 * A temporary file in dir, named like the writer's (so the signal
 * cleanup and cml_writer_recover know it) after base; its name in path.
 */
static FILE *
temp_file(const char *dir, const char *base, char *path, size_t cap)
{
	FILE *f;
	int fd;
	int w = snprintf(path, cap, "%s/%s%ld.%s.XXXXXX", dir, CML_WRITER_TMP_PREFIX,
	                 (long)getpid(), base);

	if (w < 0 || (size_t)w >= cap) {
		cmd_error("%s: the directory's name is too long", dir);
		return NULL;
	}
	cmd_clean_on_signal(dir);
	if ((fd = mkstemp(path)) < 0) {
		cmd_error("%s: cannot create a temporary file: %s", dir, strerror(errno));
		return NULL;
	}
	if ((f = fdopen(fd, "w+")) == NULL) {
		cmd_error("%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
	}
	return f;
}

/* --output that is not a regular file (a device, a pipe): written into
 * as it is, closed and checked; never replaced. */
static int
write_special(struct push *p, const char *file)
{
	FILE *f = fopen(file, "w");
	int status;

	if (f == NULL) {
		cmd_error("%s: %s", file, strerror(errno));
		return EXIT_LOCAL;
	}
	status = write_range(p, 0, p->n, f, file);
	if (fclose(f) != 0 && status == EXIT_OK) {
		cmd_error("%s: %s", file, strerror(errno));
		status = EXIT_LOCAL;
	}
	return status;
}

/* --output FILE: written beside it, synced, renamed over it. */
static int
write_file(struct push *p, const char *file)
{
	char dir[4096], path[4096 + 64];
	const char *slash = strrchr(file, '/');
	const char *base = slash != NULL ? slash + 1 : file;
	struct stat sb;
	int status;

	if (stat(file, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		if (S_ISDIR(sb.st_mode)) {
			cmd_error("%s: a directory, not a file", file);
			return EXIT_USAGE;
		}
		return write_special(p, file);
	}

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == file)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	if (base[0] == '\0') {
		cmd_error("%s: a directory, not a file", file);
		return EXIT_USAGE;
	}
	FILE *f = temp_file(dir, base, path, sizeof(path));
	if (f == NULL)
		return EXIT_LOCAL;
	status = write_document(p, f, file);
	if (status == EXIT_OK && fsync(fileno(f)) != 0) {
		cmd_error("%s: %s", file, strerror(errno));
		status = EXIT_LOCAL;
	}
	if (fclose(f) != 0 && status == EXIT_OK) {
		cmd_error("%s: %s", file, strerror(errno));
		status = EXIT_LOCAL;
	}
	if (status == EXIT_OK && rename(path, file) != 0) {
		cmd_error("%s: %s", file, strerror(errno));
		status = EXIT_LOCAL;
	}
	if (status != EXIT_OK)
		unlink(path);
	return status;
}

/* The bounds of the sentence of msg around at: from the line's start or
 * the end of the sentence before, to the first full stop that ends one
 * (". ", ".\n", end) or the line's end. */
static void
sentence(const char *msg, const char *at, size_t len, const char **from, const char **to)
{
	const char *a = at, *b = at + len;

	while (a > msg && a[-1] != '\n' && !(a - msg >= 2 && a[-2] == '.' && a[-1] == ' '))
		a--;
	while (*b != '\0' && *b != '\n' && !(*b == '.' && (b[1] == ' ' || b[1] == '\n' ||
	                                                   b[1] == '\0')))
		b++;
	if (*b == '.')
		b++;
	while (*a == ' ' || *a == '\t')
		a++;
	*from = a;
	*to = b;
}

static bool
key_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       c == '-' || c == '_';
}

/* The words a site uses for an order it cannot change (Bitrix's
 * sale.export.1c texts). */
static const char *const refusal_words[] = { "не может быть изменен", "не найден" };

/*
 * The sentence of the site's answer msg that names key (an order's Номер
 * or Ид, bounded as a whole word) as an order it cannot change; NULL when
 * none does. malloc'd.
 */
static char *
refusal_for(const char *msg, const char *key)
{
	size_t len = strlen(key);

	if (len == 0)
		return NULL;
	for (const char *at = strstr(msg, key); at != NULL; at = strstr(at + 1, key)) {
		const char *from, *to;

		if ((at > msg && key_char((unsigned char)at[-1])) || key_char((unsigned char)at[len]))
			continue;
		sentence(msg, at, len, &from, &to);
		for (size_t i = 0; i < sizeof(refusal_words) / sizeof(refusal_words[0]); i++) {
			const char *w = strstr(from, refusal_words[i]);
			if (w != NULL && w < to)
				return strndup(from, (size_t)(to - from));
		}
	}
	return NULL;
}

/* The site's answer to the document of orders a to b: which of them it
 * says it cannot change (counted in p->refused); p->unclaimed when it
 * has such words that name no order sent. */
static void
read_answer(struct push *p, const char *msg, size_t a, size_t b)
{
	long refused = 0;

	if (msg == NULL || msg[0] == '\0')
		return;
	for (size_t i = a; i < b; i++) {
		struct sent *e = &p->orders[i];
		free(e->refusal);
		e->refusal = refusal_for(msg, e->number);
		if (e->refusal == NULL)
			e->refusal = refusal_for(msg, e->id);
		if (e->refusal != NULL)
			refused++;
	}
	p->refused += refused;
	if (refused == 0)
		for (size_t i = 0; i < sizeof(refusal_words) / sizeof(refusal_words[0]); i++)
			if (strstr(msg, refusal_words[i]) != NULL)
				p->unclaimed = true;
}

/*
 * One document of orders a to b to the site, in a file whose name is
 * gone at once (the upload reads it through /proc/self/fd): the upload,
 * and the import in the newer form. An old client's upload is imported
 * at once and 1C-Bitrix parses what it has after every piece, so there a
 * document larger than the site's file_limit is split in halves, each
 * sent as its own file, down to one order.
 */
static int
send_range(struct push *p, cml_exchange *x, size_t a, size_t b)
{
	const char *dir = getenv("TMPDIR");
	int64_t limit = cml_exchange_file_limit(x);
	char path[4096], fdpath[64], name[96];
	FILE *f = NULL;
	long size;
	cml_status st;
	int status;

	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	if ((f = temp_file(dir, "push", path, sizeof(path))) == NULL)
		return EXIT_LOCAL;
	unlink(path);
	if ((status = write_range(p, a, b, f, "the document")) != EXIT_OK)
		goto out;
	if ((size = ftell(f)) < 0) {
		cmd_error("the document: %s", strerror(errno));
		status = EXIT_LOCAL;
		goto out;
	}
	if (p->o->version == NULL && limit > 0 && size > limit) {
		if (b - a > 1) {
			size_t mid = a + (b - a) / 2;
			fclose(f);
			f = NULL;
			if ((status = send_range(p, x, a, mid)) == EXIT_OK)
				status = send_range(p, x, mid, b);
			goto out;
		}
		cmd_warn("order %s alone is larger than the site's file_limit (%ld > %" PRId64
		         " bytes): sent in pieces, each of which the site reads on its own",
		         p->orders[a].number[0] != '\0' ? p->orders[a].number : p->orders[a].id,
		         size, limit);
	}
	/* a fresh name for each document: the site appends an upload to a
	 * file of the same name */
	snprintf(name, sizeof(name), "orders-%" PRId64 "-%ld-%d.xml", cml_store_run_id(p->store),
	         (long)getpid(), ++p->parts);
	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", fileno(f));
	if ((st = cml_exchange_upload(x, name, fdpath)) != CML_OK)
		goto failed;
	p->words = cml_exchange_message(x);
	if (p->o->version != NULL) {
		if ((st = cml_exchange_import(x, name)) != CML_OK)
			goto failed;
		p->words = cml_exchange_message(x);
	}
	cmd_verbose("the site took %s (%zu order%s)%s%s", name, b - a, b - a == 1 ? "" : "s",
	            p->words[0] != '\0' ? ": " : "", p->words);
	read_answer(p, p->words, a, b);
	for (size_t i = a; i < b; i++)
		p->orders[i].sent = true;
	goto out;
failed:
	cmd_error("%s", st == CML_ERR_NOMEM && cml_exchange_errmsg(x)[0] == '\0'
	                        ? "out of memory"
	                        : cml_exchange_errmsg(x));
	status = cmd_exit_for(st);
out:
	if (f != NULL)
		fclose(f);
	return status;
}

/* To the site: checkauth, init, then the document (or its halves). */
static int
send_site(struct push *p, cml_exchange *x)
{
	cml_status st;
	int status;

	if ((st = cml_exchange_checkauth(x)) != CML_OK || (st = cml_exchange_init(x)) != CML_OK) {
		cmd_error("%s", st == CML_ERR_NOMEM && cml_exchange_errmsg(x)[0] == '\0'
		                        ? "out of memory"
		                        : cml_exchange_errmsg(x));
		return cmd_exit_for(st);
	}
	status = send_range(p, x, 0, p->n);
	return status;
}

/* Inside the run: each order's version the site (or the file) took,
 * delivered (with the site's words when it refused it), then the
 * commit. Nothing taken: nothing to do. */
static int
mark(struct push *p)
{
	char counts[160], name[160];
	size_t taken = 0;
	int status;

	for (size_t i = 0; i < p->n; i++) {
		struct sent *e = &p->orders[i];
		if (!e->sent)
			continue;
		taken++;
		if (cml_progress_delivered(p->store, p->site, e->id, e->version, e->refusal) !=
		    CML_OK)
			return store_failed(p);
		if (e->refusal != NULL)
			cmd_error("%s: the site cannot change it: %s", order_name(e, name, sizeof(name)),
			          e->refusal);
	}
	if (taken == 0)
		return EXIT_OK;
	snprintf(counts, sizeof(counts),
	         "{\"orders\":%zu,\"refused\":%ld,\"documents\":%d,\"pending\":%zu}", taken,
	         p->refused, p->parts, p->n - taken + (size_t)p->more);
	if ((status = db_commit(p->store, p->refused > 0 ? "partial" : "ok", counts)) != EXIT_OK) {
		cmd_error("the site has the orders, but the database could not record it: the "
		          "next run sends them again (harmless)");
		return status;
	}
	cmd_verbose("%zu order%s marked delivered", taken, taken == 1 ? "" : "s");
	return p->refused > 0 ? EXIT_ATTENTION : EXIT_OK;
}

/* ---- the run ---- */

static void
set_today(struct push *p)
{
	const char *g = p->o->xml.generated;
	time_t now = time(NULL);
	struct tm tm;

	if (g != NULL) {
		snprintf(p->today, sizeof(p->today), "%.10s", g);
		return;
	}
	if (localtime_r(&now, &tm) == NULL || strftime(p->today, sizeof(p->today), "%Y-%m-%d",
	                                               &tm) == 0)
		snprintf(p->today, sizeof(p->today), "1970-01-01");
}

static int
run(struct opush_opts *o)
{
	struct push p = { .o = o };
	cml_exchange_opts xo = { .type = "sale", .version = o->version };
	cml_exchange *x = NULL;
	bool to_site = o->output == NULL && !o->dry_run;
	int status;

	if ((p.site = site_name(&o->site)) == NULL) {
		cmd_error(o->site.url != NULL ? "the URL's host makes no site name: give --site NAME"
		                              : "which site's orders? give --site NAME (or "
		                                "$CMLKIT_SITE), or --url");
		return EXIT_USAGE;
	}
	if (to_site && o->site.url == NULL) {
		cmd_error("no site: give --url (or $CMLKIT_URL) to send the orders, or --output to "
		          "write them");
		cmd_error("Try '%s --help' for more information.", cmd_progname);
		return EXIT_USAGE;
	}
	set_today(&p);
	if (to_site && o->xml.schema != NULL &&
	    (strcmp(o->xml.schema, "2.10") == 0 || strcmp(o->xml.schema, "3.1") == 0))
		cmd_warn("--schema %s: 1C-Bitrix reads order documents of 2.10 and later with "
		         "another importer, which makes new orders of those it does not know and "
		         "does not ship by the shipment date; 2.05 to 2.09 are read as 1C sends "
		         "order updates",
		         o->xml.schema);
	/* 1: the site's settings, then the database */
	if (to_site && (status = site_open(&o->site, &xo, &x)) != EXIT_OK)
		goto out;
	if ((status = db_open(&o->db, o->dry_run, &p.store)) != EXIT_OK)
		goto out;
	/* 2: the lock, held to the end; a dry run waits for no one */
	if (!o->dry_run && (status = db_begin(p.store, "orders-push")) != EXIT_OK)
		goto out;
	if ((status = collect(&p)) != EXIT_OK || (status = load_codes(&p)) != EXIT_OK)
		goto out;
	/* 3 */
	if (p.n == 0) {
		cmd_verbose("%s: nothing pending", p.site);
		goto out;
	}
	if (p.more > 0)
		cmd_verbose("%ld more pending order%s beyond --limit: the next run sends them",
		            p.more, p.more == 1 ? "" : "s");
	/* 4, and 5 for a file or standard output */
	if ((o->output == NULL && o->dry_run) || (o->output != NULL && strcmp(o->output, "-") == 0))
		status = write_document(&p, stdout, "standard output");
	else if (o->output != NULL)
		status = write_file(&p, o->output);
	if (status != EXIT_OK || o->dry_run)
		goto out;
	if (to_site) {
		status = send_site(&p, x);
		bool some = false;
		for (size_t i = 0; i < p.n; i++)
			some = some || p.orders[i].sent;
		if (status != EXIT_OK && some)
			cmd_error("the documents the site took are marked; the others wait for the "
			          "next run");
		else if (status != EXIT_OK)
			cmd_error("nothing marked delivered: the next run sends the same again");
	} else {
		for (size_t i = 0; i < p.n; i++)
			p.orders[i].sent = true;
	}
	/* 6 */
	cmd_raise(&status, mark(&p));
	if (p.unclaimed) {
		cmd_warn("the site's answer names no order sent, yet says: %s", p.words);
		cmd_raise(&status, EXIT_ATTENTION);
	}
out:
	db_rollback(p.store);
	db_close(p.store);
	cml_exchange_free(x);
	site_release(&o->site);
	push_free(&p);
	return status;
}

int
main(int argc, char **argv)
{
	struct opush_opts o = { 0 };
	int status;

	cmd_init(argv[0]);
	status = opush_parse_options(argc, argv, &o);
	if (status == EXIT_OK)
		status = run(&o);
	return cmd_finish(status);
}
