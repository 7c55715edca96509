/*
 * catalog-push: upload a package to a site over the 1C exchange protocol
 * and, once the site has imported all of it, acknowledge its generation.
 *
 * The order of things is what keeps "nothing is lost" true:
 *  1. the run lock is taken first and held to the end, so no delta-export
 *     rewrites the package while it is on its way;
 *  2. the package must be the one its generation recorded (same files,
 *     sizes and times): a directory rewritten by a run that did not
 *     record it is refused rather than acknowledged for the wrong state;
 *  3. checkauth, init, the attached files (pictures, import_files/...)
 *     uploaded first and never imported, then each XML file uploaded and
 *     imported in 1C's order (or one zip of them all, then each XML
 *     import), deactivate after a full package, complete; what the
 *     package holds and in which order is the library's (package.h);
 *  4. only then the acknowledgement, in the run's transaction. Any failure
 *     before it leaves the baseline as it was, and the next delta-export
 *     carries the same changes again.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cml/exchange.h>
#include <cml/generations.h>
#include <cml/package.h>
#include <cml/store.h>

#include "cmdutil.h"
#include "dbrun.h"
#include "pkgopts.h"
#include "push.h"

/* The package being sent: its files as the library reads them. */
struct package {
	char *dir;              /* absolute */
	cml_package *files;
	int64_t gen;            /* 0: not recorded (--no-record) */
	cml_gen_kind kind;
	bool full;
};

static void
package_free(struct package *p)
{
	cml_package_free(p->files);
	free(p->dir);
}

/* The exit status for a failed read of the package (said). */
static int
package_failed(const struct package *p, cml_status st)
{
	cmd_error("%s", cml_package_errmsg(p->files));
	return st == CML_ERR_NOMEM || st == CML_ERR_IO ? EXIT_LOCAL : EXIT_DATA;
}

/* ---- progress on a terminal ---- */

struct progress {
	bool on;
	int last;
	const char *file;
};

static void
on_progress(void *ud, const char *name, int64_t done, int64_t total)
{
	struct progress *pr = ud;
	int pct = total > 0 ? (int)(done * 100 / total) : 100;

	if (!pr->on || (pr->file == name && pct == pr->last))
		return;
	pr->file = name;
	pr->last = pct;
	fprintf(stderr, "\r%s: sending %s: %3d%% of %.1f MB\033[K", cmd_progname, name, pct,
	        (double)total / 1e6);
	fflush(stderr);
}

static void
progress_say(struct progress *pr, const char *what, const char *name)
{
	if (!pr->on)
		return;
	fprintf(stderr, "\r%s: %s %s\033[K", cmd_progname, what, name);
	fflush(stderr);
	pr->file = NULL;
}

static void
progress_end(struct progress *pr)
{
	if (pr->on)
		fprintf(stderr, "\r\033[K");
}

/* ---- the push ---- */

static void
print_plan(const struct push_opts *o, const struct package *p, const cml_gen_info *gi)
{
	if (p->gen > 0)
		printf("package %s: generation %" PRId64 ", %s, %s\n", o->package, p->gen,
		       p->full ? "full" : "delta", gi->acked != NULL ? "acknowledged" : "pending");
	else
		printf("package %s: not recorded, %s\n", o->package, p->full ? "full" : "partial");
	printf("checkauth\ninit\n");
	for (size_t i = 0; i < cml_package_count(p->files); i++) {
		const cml_pkg_file *f = cml_package_file(p->files, i);
		printf("upload %s %" PRId64 "\n", f->name, f->size);
		if (f->import)
			printf("import %s\n", f->name);
	}
	if (p->full && p->gen > 0 && !o->no_deactivate)
		printf("deactivate\n");
	printf("complete\n");
	if (p->gen > 0)
		printf("acknowledge %" PRId64 "\n", p->gen);
}

/* What the caller should know when the site part failed. */
static void
explain_failure(const struct package *p, cml_status st)
{
	const char *retry = st == CML_ERR_NET ? "a later retry may succeed"
	                    : st == CML_ERR_REFUSED
	                            ? "retrying will not help until the cause on the site or in "
	                              "the settings is fixed"
	                            : "fix the local problem and run again";
	if (p->gen > 0)
		cmd_error("generation %" PRId64 " is not acknowledged: the next delta-export "
		          "still carries its changes; %s",
		          p->gen, retry);
	else
		cmd_error("the package was not delivered; %s", retry);
}

/* Each file in the package's order: an attached file uploaded only, an
 * XML file uploaded and imported; or all of them in one zip, then each
 * XML file imported. */
static cml_status
send_package(const struct push_opts *o, const struct package *p, cml_exchange *x,
             struct progress *pr)
{
	char path[4096];
	size_t n = cml_package_count(p->files);
	cml_status st;

	if ((st = cml_exchange_checkauth(x)) != CML_OK || (st = cml_exchange_init(x)) != CML_OK)
		return st;
	/* known from init's answer */
	bool zip = cml_exchange_zip(x) && !o->no_zip;
	if (zip) {
		progress_say(pr, "packing", "package.zip");
		st = cml_exchange_upload_zip(x, "package.zip", p->dir,
		                             cml_package_names(p->files));
		if (st != CML_OK)
			return st;
		cmd_verbose("package.zip sent (%zu files, %zu of them attached)", n,
		            cml_package_attached(p->files));
	}
	for (size_t i = 0; i < n; i++) {
		const cml_pkg_file *f = cml_package_file(p->files, i);
		if (!zip) {
			snprintf(path, sizeof(path), "%s/%s", p->dir, f->name);
			if ((st = cml_exchange_upload(x, f->name, path)) != CML_OK)
				return st;
		}
		if (!f->import) {
			if (!zip)
				cmd_verbose("%s sent (attached: not imported)", f->name);
			continue;
		}
		progress_say(pr, "importing", f->name);
		if ((st = cml_exchange_import(x, f->name)) != CML_OK)
			return st;
		cmd_verbose("%s %s", f->name, zip ? "imported" : "sent and imported");
	}
	if (p->full && p->gen > 0 && !o->no_deactivate) {
		st = cml_exchange_deactivate(x);
		if (st != CML_OK && st != CML_END)
			return st;
	}
	st = cml_exchange_complete(x);
	return st == CML_END ? CML_OK : st;
}

/* Finds the package's generation and checks the directory still holds it.
 * EXIT_OK with p->gen = 0 and *skip when there is nothing to send. */
static int
find_generation(cml_store *store, struct package *p, const char *operand, cml_gen_info *gi,
                bool *skip)
{
	int64_t base = 0;
	cml_status st;

	*skip = false;
	st = cml_store_gen_find(store, p->dir, &p->gen);
	if (st == CML_END) {
		cmd_error("%s: no package written there is recorded in the database: write it "
		          "with full-export or delta-export (same --db), or push it with "
		          "--no-record",
		          operand);
		return EXIT_DATA;
	}
	if (st != CML_OK || (st = cml_store_gen_info(store, p->gen, gi)) != CML_OK ||
	    (st = cml_store_baseline_gen(store, &base)) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(store));
		return EXIT_LOCAL;
	}
	p->kind = gi->kind;
	p->full = gi->kind == CML_GEN_FULL;
	if (gi->acked != NULL || p->gen < base) {
		cmd_verbose("%s: generation %" PRId64 " is %s: nothing to send", operand, p->gen,
		            gi->acked != NULL ? "already acknowledged" : "older than the baseline");
		*skip = true;
		return EXIT_OK;
	}
	if (gi->superseded != NULL) {
		/* Not an error: the source moved on, and a later run decided
		 * what the site needs (when it wrote nothing, nothing). Said
		 * unless -q, so a person learns why nothing was sent. */
		cmd_warn("%s: refused: generation %" PRId64 " was superseded by a later %s run "
		         "(%s): the source may have changed back since it was written, so its "
		         "package is stale and is not sent; push the package the latest "
		         "delta-export or full-export wrote (when it wrote none, the site is "
		         "up to date)",
		         operand, p->gen, gi->superseded_by != NULL ? gi->superseded_by : "export",
		         gi->superseded);
		*skip = true;
		return EXIT_OK;
	}
	if (gi->files == NULL) {
		cmd_error("%s: generation %" PRId64 " has no record of its files (written by an "
		          "older cmlkit): write the package again",
		          operand, p->gen);
		return EXIT_DATA;
	}
	st = cml_package_read_stamp(p->files, gi->files);
	if (st != CML_OK) {
		cmd_error("%s: generation %" PRId64 ": %s: write the package again", operand, p->gen,
		          cml_package_errmsg(p->files));
		return st == CML_ERR_NOMEM ? EXIT_LOCAL : EXIT_DATA;
	}
	if ((st = cml_package_check(p->files)) != CML_OK) {
		cmd_error("%s: the files are not those generation %" PRId64 " recorded (changed, "
		          "missing, or rewritten by a run that did not record them: %s): write the "
		          "package again",
		          operand, p->gen, cml_package_errmsg(p->files));
		return EXIT_DATA;
	}
	return EXIT_OK;
}

static int
run(struct push_opts *o)
{
	int status = EXIT_OK;
	cml_store *store = NULL;
	cml_exchange *x = NULL;
	struct package p = { 0 };
	cml_gen_info gi = { 0 };
	bool skip = false;
	struct progress pr = { .on = isatty(STDERR_FILENO) && cmd_verbosity == 1, .last = -1 };
	cml_exchange_opts xo = { .type = "catalog", .version = o->version,
		                 .progress = on_progress, .ud = &pr };
	cml_status st;

	/* the site's settings first: a bad URL or no password is found
	 * before anything else is touched */
	if (!o->dry_run && (status = site_open(&o->site, &xo, &x)) != EXIT_OK)
		goto out;
	if ((p.dir = pkg_abs_dir(o->package)) == NULL) {
		status = EXIT_LOCAL;
		goto out;
	}
	if ((p.files = cml_package_new(p.dir)) == NULL) {
		cmd_error("out of memory");
		status = EXIT_LOCAL;
		goto out;
	}
	if (!o->no_record) {
		const char *db = db_path(&o->dbo);

		if (access(db, F_OK) != 0) {
			cmd_error("%s: no database: the package must be written by full-export or "
			          "delta-export with this --db first (or pushed with --no-record)",
			          db);
			status = EXIT_DATA;
			goto out;
		}
		/* a dry run changes nothing and waits for no one */
		if ((status = db_open(&o->dbo, o->dry_run, &store)) != EXIT_OK)
			goto out;
		/* held to the end: nothing rewrites the package meanwhile */
		if (!o->dry_run && (status = db_begin(store, "catalog-push")) != EXIT_OK)
			goto out;
		if ((status = find_generation(store, &p, o->package, &gi, &skip)) != EXIT_OK)
			goto out;
		if (skip) {
			if (!o->dry_run)
				status = db_commit(store, "nothing", NULL);
			goto out;
		}
	} else {
		bool partial = false;

		if ((st = cml_package_read_dir(p.files)) != CML_OK ||
		    (st = cml_package_is_partial(p.files, &partial)) != CML_OK) {
			status = package_failed(&p, st);
			goto out;
		}
		p.full = !partial;
	}

	if (o->dry_run) {
		print_plan(o, &p, &gi);
		goto out;
	}
	st = send_package(o, &p, x, &pr);
	progress_end(&pr);
	if (st != CML_OK) {
		cmd_error("%s", st == CML_ERR_NOMEM && cml_exchange_errmsg(x)[0] == '\0'
		                        ? "out of memory"
		                        : cml_exchange_errmsg(x));
		explain_failure(&p, st);
		status = cmd_exit_for(st);
		goto out;
	}
	if (store == NULL) {
		cmd_verbose("%s delivered (not recorded: nothing acknowledged)", o->package);
		goto out;
	}
	char counts[128 + SITE_NAME_MAX];
	int64_t bytes = cml_package_bytes(p.files);
	/* the name is [A-Za-z0-9._-]: nothing to escape */
	const char *site = site_name(&o->site);
	snprintf(counts, sizeof(counts),
	         "{\"gen\":%" PRId64 ",\"files\":%zu,\"bytes\":%" PRId64 ",\"site\":%s%s%s}", p.gen,
	         cml_package_count(p.files), bytes, site != NULL ? "\"" : "", site != NULL ? site : "null",
	         site != NULL ? "\"" : "");
	st = cml_store_gen_ack(store, p.gen);
	if (st != CML_OK && st != CML_END) {
		cmd_error("%s", cml_store_errmsg(store));
		status = EXIT_LOCAL;
	} else {
		status = db_commit(store, "ok", counts);
	}
	if (status != EXIT_OK) {
		cmd_error("the site has generation %" PRId64 ", but the database could not record "
		          "it: the next delta-export sends its changes again (harmless)",
		          p.gen);
		goto out;
	}
	cmd_verbose("generation %" PRId64 " delivered and acknowledged: it is the baseline now",
	            p.gen);
out:
	cml_exchange_free(x);
	db_close(store); /* a run not committed is rolled back */
	package_free(&p);
	site_release(&o->site);
	return status;
}

int
main(int argc, char **argv)
{
	struct push_opts o = { 0 };
	int status;

	cmd_init(argv[0]);
	status = push_parse_options(argc, argv, &o);
	if (status == EXIT_OK)
		status = run(&o);
	return cmd_finish(status);
}
