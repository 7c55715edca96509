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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cml/diff.h>
#include <cml/store.h>
#include <cml/writer.h>

#include "cmdutil.h"
#include "delta.h"
#include "source.h"

static void
on_warning(void *ud, const char *msg)
{
	(void)ud;
	cmd_warn("warning: %s", msg);
}

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
	cml_status st = cml_store_run_begin(s, "delta-export");

	if (st == CML_OK)
		st = cml_store_gen_ack(s, gen);
	if (st == CML_END) {
		cml_store_run_rollback(s);
		cmd_verbose("generation %lld: already acknowledged or older than the baseline",
		            (long long)gen);
		return EXIT_OK;
	}
	if (st == CML_OK)
		st = cml_store_run_commit(s, "ack", NULL);
	if (st != CML_OK) {
		cmd_error("%s", cml_store_errmsg(s));
		cml_store_run_rollback(s);
		return st == CML_ERR_VALUE ? EXIT_USAGE : EXIT_LOCAL;
	}
	cmd_verbose("generation %lld acknowledged: it is the baseline", (long long)gen);
	return EXIT_OK;
}

static int
run(struct delta_opts *o)
{
	int status = EXIT_OK;
	char errbuf[1024] = "";
	char **inputs = NULL;
	size_t n_inputs = 0;
	cml_store *store = NULL;
	cmd_source *src = NULL;
	cml_writer *w = NULL;
	cml_diff *d = NULL;
	char *package = NULL;
	bool in_run = false;
	int64_t base = 0;
	cml_status st;
	const char *db = o->db != NULL ? o->db : cml_store_default_path();
	cml_store_opts so = { 0 };

	if (o->ack == 0 && o->pkg.output != NULL &&
	    !pkg_check_output(o->pkg.output, o->inputs, o->n_inputs))
		return EXIT_USAGE;
	store = cml_store_open(db, &so, &st, errbuf, sizeof(errbuf));
	if (store == NULL) {
		cmd_error("%s", errbuf);
		return EXIT_LOCAL;
	}
	if (o->ack != 0) {
		status = ack(store, o->ack);
		goto out;
	}
	if (!cmd_expand_inputs(o->inputs, o->n_inputs, &inputs, &n_inputs)) {
		status = EXIT_LOCAL;
		goto out;
	}
	if ((st = cml_store_run_begin(store, "delta-export")) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(store));
		status = cmd_exit_for(st);
		goto out;
	}
	in_run = true;
	if (cml_store_errmsg(store)[0] != '\0')
		cmd_warn("%s", cml_store_errmsg(store)); /* it waited for another run */
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
		cmd_warn("%s: no baseline yet: %s the whole catalog", db,
		         o->dry_run ? "it would write" : "writing");
	}

	/* No baseline: a full package, and its generation holds every part. */
	o->pkg.w.only_changes = base == 0 ? CML_FALSE : CML_TRUE;
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
	};
	src = cmd_source_new(o->pkg.format, on_warning, NULL);
	d = cml_diff_new(&dopt);
	if (src == NULL || d == NULL) {
		cmd_error("out of memory");
		status = EXIT_LOCAL;
		goto out;
	}
	status = cmd_source_run(src, inputs, n_inputs, diff_item, d, "nothing written or recorded");
	if (status != EXIT_OK)
		goto out;
	if ((st = cml_diff_finish(d, o->whole)) != CML_OK) {
		cmd_error("%s", cml_diff_errmsg(d));
		status = cmd_exit_for(st);
		goto out;
	}

	const cml_diff_counts *c = cml_diff_get_counts(d);
	int64_t gen = cml_diff_gen(d);
	const char *kind = base == 0 ? "full" : "delta";
	if (o->dry_run) {
		print_summary(stdout, c, 0, kind, NULL);
		goto out; /* rolled back below */
	}
	if (!cml_diff_changed(d) && base != 0) {
		cmd_verbose("no changes since generation %lld: nothing written", (long long)base);
		char counts[256];
		counts_json(counts, sizeof(counts), c);
		if ((st = cml_store_run_commit(store, "nothing", counts)) != CML_OK) {
			cmd_error("%s", cml_store_errmsg(store));
			status = EXIT_LOCAL;
		}
		in_run = false;
		goto out;
	}
	if ((st = cml_writer_finish(w)) != CML_OK) {
		cmd_error("%s", cml_writer_errmsg(w));
		status = cmd_exit_for(st);
		goto out;
	}
	if (gen > 0) {
		char *stamp = pkg_stamp(package, cml_writer_files(w));
		if (stamp == NULL) {
			status = EXIT_LOCAL;
			goto out;
		}
		st = cml_store_gen_set_files(store, gen, stamp);
		free(stamp);
		if (st != CML_OK) {
			cmd_error("%s", cml_store_errmsg(store));
			status = EXIT_LOCAL;
			goto out;
		}
	}
	if (o->ack_on_write && gen > 0 && (st = cml_store_gen_ack(store, gen)) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(store));
		status = EXIT_LOCAL;
		goto out;
	}
	char counts[256];
	counts_json(counts, sizeof(counts), c);
	if ((st = cml_store_run_commit(store, "ok", counts)) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(store));
		cmd_error("the package in %s is not recorded: the next run writes it again",
		          o->pkg.output);
		status = EXIT_LOCAL;
		goto out;
	}
	in_run = false;
	for (const char *const *f = cml_writer_files(w); f != NULL && *f != NULL; f++)
		printf("%s/%s\n", o->pkg.output, *f);
	if (o->summary)
		print_summary(stdout, c, gen, kind, o->pkg.output);
	cmd_verbose("generation %lld (%s) written to %s%s", (long long)gen, kind,
	            o->pkg.output, o->ack_on_write ? ", acknowledged" : ", pending");
out:
	if (in_run)
		cml_store_run_rollback(store);
	cml_diff_free(d);
	cml_writer_free(w); /* without a finish: removes the temporary files */
	cmd_source_free(src);
	cmd_free_list(inputs);
	free(package);
	cml_store_close(store);
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
