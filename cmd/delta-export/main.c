/*
 * delta-export: write only what changed since the baseline the site
 * acknowledged.
 *
 * One run is one transaction of the database: the generation and its
 * parts are recorded, the package is written to temporary names and
 * renamed into place, and only then is the run committed. A crash or a
 * kill at any moment leaves the database as before the run; a package
 * renamed into place whose run did not commit is simply written again
 * (with the same changes) by the next run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cml/attach.h>
#include <cml/diff.h>
#include <cml/generations.h>
#include <cml/store.h>
#include <cml/writer.h>

#include "catjoin.h"
#include "cmdutil.h"
#include "dbrun.h"
#include "delta.h"
#include "source.h"

static void
print_summary(FILE *fp, const cml_diff_counts *c, int64_t gen, const char *kind,
              const char *where)
{
	if (gen > 0)
		fprintf(fp, "generation %lld (%s): %s\n", (long long)gen, kind, where);
	fprintf(fp, "%-14s %9s %9s %9s %9s\n", "part", "new", "changed", "deleted", "same");
	for (int p = 1; p < CML_PART_COUNT; p++) {
		if (!c->added[p] && !c->changed[p] && !c->deleted[p] && !c->same[p])
			continue;
		fprintf(fp, "%-14s %9lu %9lu %9lu %9lu\n", cml_part_name((cml_part)p), c->added[p],
		        c->changed[p], c->deleted[p], c->same[p]);
	}
}

/* The counts as a short JSON object for the run log. */
static void
counts_json(char *buf, size_t cap, const cml_diff_counts *c)
{
	unsigned long add = 0, chg = 0, del = 0, same = 0;
	for (int p = 0; p < CML_PART_COUNT; p++) {
		add += c->added[p];
		chg += c->changed[p];
		del += c->deleted[p];
		same += c->same[p];
	}
	snprintf(buf, cap, "{\"new\":%lu,\"changed\":%lu,\"deleted\":%lu,\"same\":%lu,\"written\":%lu}",
	         add, chg, del, same, c->written);
}

static cml_status
diff_item(void *ud, const cml_item *it)
{
	cml_diff *d = ud;
	cml_status st = cml_diff_add(d, it);

	if (st != CML_OK)
		cmd_error("%s", cml_diff_errmsg(d));
	return st;
}

static int
ack(cml_store *s, int64_t gen)
{
	int status = db_begin(s, "delta-export");

	if (status != EXIT_OK)
		return status;
	cml_status st = cml_store_gen_ack(s, gen);
	if (st == CML_END) {
		db_rollback(s);
		cmd_verbose("generation %lld: already acknowledged or older than the baseline",
		            (long long)gen);
		return EXIT_OK;
	}
	if (st != CML_OK) {
		cmd_error("%s", cml_store_errmsg(s));
		db_rollback(s);
		if (st == CML_ERR_STATE) /* superseded: its package is stale */
			return EXIT_ATTENTION;
		return st == CML_ERR_VALUE ? EXIT_USAGE : EXIT_LOCAL;
	}
	if ((status = db_commit(s, "ack", NULL)) != EXIT_OK)
		return status;
	cmd_verbose("generation %lld acknowledged: it is the baseline", (long long)gen);
	return EXIT_OK;
}

/* How many of one kind --max-delete lets a run delete. */
static long long
delete_limit(const struct delta_opts *o, int64_t in_baseline)
{
	if (!o->max_delete_pct)
		return o->max_delete;
	return (long long)(in_baseline * o->max_delete / 100);
}

static void
print_limit(FILE *fp, const struct delta_opts *o)
{
	if (o->max_delete_pct && o->max_delete == 100)
		fprintf(fp, "all");
	else
		fprintf(fp, "%lld%s", o->max_delete, o->max_delete_pct ? "%" : "");
}

/* What a run deletes of the baseline's products [0] and offers [1]. */
struct deletions {
	unsigned long deleted[2];
	int64_t base[2];
};

static const char *const deletion_kinds[2] = { "products", "offers" };

/* Counts the baseline only when something is deleted: EXIT_OK, or
 * EXIT_LOCAL on a store failure (said). */
static int
count_deletions(cml_store *store, const cml_diff_counts *c, struct deletions *dl)
{
	static const cml_kind kinds[2] = { CML_ITEM_PRODUCT, CML_ITEM_OFFER };

	memset(dl, 0, sizeof(*dl));
	dl->deleted[0] = c->deleted[CML_PART_PRODUCT];
	dl->deleted[1] = c->deleted_offers;
	for (int k = 0; k < 2; k++) {
		if (dl->deleted[k] == 0)
			continue;
		if (cml_store_baseline_items(store, kinds[k], &dl->base[k]) != CML_OK) {
			cmd_error("%s", cml_store_errmsg(store));
			return EXIT_LOCAL;
		}
	}
	return EXIT_OK;
}

static void
print_deletions(FILE *fp, const struct delta_opts *o, const struct deletions *dl)
{
	if (dl->deleted[0] == 0 && dl->deleted[1] == 0)
		return;
	fprintf(fp, "deleted:");
	for (int k = 0; k < 2; k++)
		if (dl->deleted[k] > 0)
			fprintf(fp, " %lu of the baseline's %lld %s;", dl->deleted[k],
			        (long long)dl->base[k], deletion_kinds[k]);
	fprintf(fp, " --max-delete ");
	print_limit(fp, o);
	fputc('\n', fp);
}

/*
 * The guard against mass deletion: a run that deletes more products or
 * more offers than --max-delete allows is refused (EXIT_ATTENTION, said
 * why). An input that lost a file, or a source caught mid-upload, looks
 * like a catalog that lost its goods.
 */
static int
guard_deletions(const struct delta_opts *o, const struct deletions *dl)
{
	int status = EXIT_OK;

	for (int k = 0; k < 2; k++) {
		long long limit = delete_limit(o, dl->base[k]);
		bool all = (int64_t)dl->deleted[k] == dl->base[k];
		if ((long long)dl->deleted[k] <= limit)
			continue;
		char allowed[64];
		if (o->max_delete_pct)
			snprintf(allowed, sizeof(allowed), "%lld%%: %lld", o->max_delete, limit);
		else
			snprintf(allowed, sizeof(allowed), "%lld", limit);
		cmd_error("refused: the run would delete %lu of the baseline's %lld %s%s, more "
		          "than --max-delete allows (%s); an input missing a file (the goods "
		          "of a split package, a source still uploading) looks like this; if "
		          "the deletions are meant, run again with --max-delete=%s",
		          dl->deleted[k], (long long)dl->base[k], deletion_kinds[k],
		          all ? " (all of them)" : "", allowed, all ? "all" : "N or N%");
		status = EXIT_ATTENTION;
	}
	return status;
}

/* Says when a header promised a whole catalog it did not hold. */
static void
warn_empty_whole(const cml_diff *d)
{
	if (cml_diff_empty_whole(d, CML_ITEM_PRODUCT))
		cmd_warn("warning: the input's Каталог says it is the whole catalog "
		         "(СодержитТолькоИзменения=\"false\") but holds no product: taken as "
		         "partial, no product is deleted by absence (is a goods file, "
		         "such as import___goods.xml, missing?)");
	if (cml_diff_empty_whole(d, CML_ITEM_OFFER))
		cmd_warn("warning: the input's ПакетПредложений says it holds all offers but "
		         "holds no offer: taken as partial, no offer is deleted by absence");
	if (cml_diff_part_missing(d, CML_PART_OFFER_PRICES))
		cmd_warn("warning: the input's offers are whole but none has prices: taken as "
		         "a missing prices file (such as prices___prices.xml), no price is "
		         "removed");
	if (cml_diff_part_missing(d, CML_PART_OFFER_STOCK))
		cmd_warn("warning: the input's offers are whole but none has stock: taken as "
		         "a missing stock file (such as rests___rests.xml), no stock is set "
		         "to 0");
}

static int
run(struct delta_opts *o)
{
	int status = EXIT_OK;
	char **inputs = NULL;
	size_t n_inputs = 0;
	cml_store *store = NULL;
	cmd_source *src = NULL;
	cml_writer *w = NULL;
	cml_attach *att = NULL;
	cml_diff *d = NULL;
	cmd_catjoin *join = NULL;
	char *package = NULL;
	int64_t base = 0;
	cml_status st;
	const char *db = db_path(&o->dbo);

	if (o->ack == 0 && o->pkg.output != NULL &&
	    !pkg_check_output(o->pkg.output, o->inputs, o->n_inputs)) {
		status = EXIT_USAGE;
		goto out;
	}
	if (o->ack == 0) {
		if (!cmd_expand_inputs(o->inputs, o->n_inputs, &inputs, &n_inputs)) {
			status = EXIT_LOCAL;
			goto out;
		}
		/* an empty directory is no catalog: neither "nothing changed" (which
		 * would supersede what is pending) nor "everything is gone" */
		if (n_inputs == 0) {
			cmd_error("no input file: %s holds no file to read (hidden files are skipped); "
			          "nothing written or recorded",
			          o->n_inputs == 1 ? o->inputs[0] : "the directories given");
			status = EXIT_DATA;
			goto out;
		}
	}

	/* A dry run writes nothing: the database is read, never created or
	 * upgraded; without one there is no baseline (an empty one in
	 * memory stands for it) and the run shows a first run. */
	const struct db_opts memory = { .db = ":memory:" };
	bool no_db = o->dry_run && access(db, F_OK) != 0 && errno == ENOENT;
	if ((status = db_open(no_db ? &memory : &o->dbo, o->dry_run && !no_db, &store)) !=
	    EXIT_OK)
		goto out;
	if (o->ack != 0) {
		status = ack(store, o->ack);
		goto out;
	}
	if (!o->dry_run && (status = db_begin(store, "delta-export")) != EXIT_OK)
		goto out;
	if ((st = cml_store_baseline_gen(store, &base)) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(store));
		status = EXIT_LOCAL;
		goto out;
	}
	if (base == 0) {
		if (o->require_baseline) {
			cmd_error("%s: no acknowledged baseline yet: write and push a full "
			          "package first (full-export, or delta-export without "
			          "--require-baseline)", db);
			status = EXIT_ATTENTION;
			goto out;
		}
		if (no_db)
			cmd_warn("%s: no database, so no baseline yet (a dry run does not "
			         "create it): a first run would write the whole catalog",
			         db);
		else
			cmd_warn("%s: no baseline yet: %s the whole catalog", db,
			         o->dry_run ? "it would write" : "writing");
	}

	/* No baseline: a full package, and its generation holds every part. */
	o->pkg.w.only_changes = base == 0 ? CML_FALSE : CML_TRUE;
	/* the catalog identity; a dry run checks it, remembers nothing */
	if ((status = pkg_ident_resolve(&o->pkg, store, !o->dry_run)) != EXIT_OK)
		goto out;
	/* the files products name: in their cards' fingerprints and the package */
	if ((att = cml_attach_new(&(cml_attach_opts){ .warn = cmd_lib_warning })) == NULL) {
		cmd_error("out of memory");
		status = EXIT_LOCAL;
		goto out;
	}
	o->pkg.w.attach = att;
	if (!o->dry_run) {
		if (!pkg_make_dir(o->pkg.output) ||
		    (package = pkg_abs_dir(o->pkg.output)) == NULL || !pkg_recover(o->pkg.output)) {
			status = EXIT_LOCAL;
			goto out;
		}
		w = cml_writer_new(o->pkg.output, &o->pkg.w);
		if (w == NULL) {
			cmd_error("%s: cannot start the package (out of memory, or the "
			          "directory is not writable)", o->pkg.output);
			status = EXIT_LOCAL;
			goto out;
		}
	}
	cml_diff_opts dopt = {
		.store = store,
		.record = !o->dry_run,
		.kind = base == 0 ? CML_GEN_FULL : CML_GEN_DELTA,
		.package = package,
		.writer = w,
		.record_all = base == 0,
		.preload = base != 0,
		.attach = att,
	};
	src = cmd_source_new(o->pkg.format, cmd_lib_warning, NULL);
	d = cml_diff_new(&dopt);
	/* the same items full-export writes: one per Ид, split offers joined
	 * (so a first run writes what full-export would, and a later one
	 * compares whole offers, writing one Предложение with what changed) */
	if (d != NULL)
		join = cmd_catjoin_new(diff_item, d, "nothing written or recorded");
	if (src == NULL || d == NULL || join == NULL) {
		cmd_error("out of memory");
		status = EXIT_LOCAL;
		goto out;
	}
	status = cmd_source_run(src, inputs, n_inputs, cmd_catjoin_item, join,
	                        "nothing written or recorded");
	if (status != EXIT_OK)
		goto out;
	if ((st = cmd_catjoin_flush(join)) != CML_OK) {
		status = cmd_exit_for(st);
		goto out;
	}
	if ((st = cml_diff_finish(d, o->whole)) != CML_OK) {
		cmd_error("%s", cml_diff_errmsg(d));
		status = cmd_exit_for(st);
		goto out;
	}

	warn_empty_whole(d);

	const cml_diff_counts *c = cml_diff_get_counts(d);
	int64_t gen = cml_diff_gen(d);
	const char *kind = base == 0 ? "full" : "delta";
	/* a first run records every part: none means no catalog item at all */
	if (base == 0 && !o->dry_run && gen == 0) {
		cmd_error("no catalog items in the input: nothing written or recorded");
		status = EXIT_DATA;
		goto out;
	}
	struct deletions dl;
	if ((status = count_deletions(store, c, &dl)) != EXIT_OK)
		goto out;
	if (o->dry_run) {
		print_summary(stdout, c, 0, kind, NULL);
		print_deletions(stdout, o, &dl);
		if ((status = guard_deletions(o, &dl)) != EXIT_OK)
			cmd_error("a real run would be refused");
		goto out; /* nothing was recorded */
	}
	/* before anything is committed: a refused run leaves all as it was */
	if ((status = guard_deletions(o, &dl)) != EXIT_OK)
		goto out;
	/* what earlier runs left pending: this run's view of the source replaces theirs */
	if ((status = pkg_supersede(store)) != EXIT_OK)
		goto out;
	if (!cml_diff_changed(d) && base != 0) {
		cmd_verbose("no changes since generation %lld: nothing written", (long long)base);
		char counts[256];
		counts_json(counts, sizeof(counts), c);
		status = db_commit(store, "nothing", counts);
		goto out;
	}
	if ((st = cml_writer_finish(w)) != CML_OK) {
		cmd_error("%s", cml_writer_errmsg(w));
		status = cmd_exit_for(st);
		goto out;
	}
	if (gen > 0 &&
	    (status = pkg_record_files(store, gen, package, cml_writer_files(w))) != EXIT_OK)
		goto out;
	if (o->ack_on_write && gen > 0 && (st = cml_store_gen_ack(store, gen)) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(store));
		status = EXIT_LOCAL;
		goto out;
	}
	char counts[256];
	counts_json(counts, sizeof(counts), c);
	if ((status = db_commit(store, "ok", counts)) != EXIT_OK) {
		cmd_error("the package in %s is not recorded: the next run writes it again",
		          o->pkg.output);
		goto out;
	}
	pkg_print_files(o->pkg.output, cml_writer_files(w));
	if (o->summary) {
		print_summary(stdout, c, gen, kind, o->pkg.output);
		print_deletions(stdout, o, &dl);
	}
	cmd_verbose("generation %lld (%s) written to %s%s", (long long)gen, kind,
	            o->pkg.output, o->ack_on_write ? ", acknowledged" : ", pending");
out:
	cmd_catjoin_free(join);
	cml_diff_free(d);
	cml_writer_free(w); /* without a finish: removes the temporary files */
	cml_attach_free(att);
	cmd_source_free(src);
	cmd_free_list(inputs);
	free(package);
	pkg_ident_free(&o->pkg);
	db_close(store); /* a run not committed is rolled back */
	return status;
}

int
main(int argc, char **argv)
{
	struct delta_opts o = { 0 };
	int status;

	cmd_init(argv[0]);
	status = delta_parse_options(argc, argv, &o);
	if (status == EXIT_OK)
		status = run(&o);
	return cmd_finish(status);
}
