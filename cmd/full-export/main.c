/*
 * full-export: read a whole catalog and write a complete CommerceML
 * package. Items stream from the reader straight into the writer, which
 * spools each section to a temporary file and renames the finished
 * files into place only when everything was read: bad input leaves no
 * half-written package behind.
 *
 * Unless told not to, the package is also recorded in the database as a
 * full generation: the fingerprint of every part written, in the run's
 * one transaction, committed only once the files are in place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cml/attach.h>
#include <cml/fingerprint.h>
#include <cml/generations.h>
#include <cml/store.h>
#include <cml/writer.h>

#include "catjoin.h"
#include "cmdutil.h"
#include "dbrun.h"
#include "export.h"
#include "pkgopts.h"
#include "source.h"

/* Where items go: the writer, and the generation's record. */
struct sink {
	cml_writer *w;
	cml_store *store;
	cml_fingerprinter *fpr;
	int64_t gen;
	char *package; /* the output directory's absolute name, as recorded */
	char msg[1024];
};

static cml_status
sink_put(struct sink *k, const cml_item *it)
{
	cml_part_fp parts[CML_MAX_PARTS];
	size_t n = 0;
	cml_status st = cml_writer_add(k->w, it);

	if (st != CML_OK) {
		snprintf(k->msg, sizeof(k->msg), "%s", cml_writer_errmsg(k->w));
		return st;
	}
	if (k->store == NULL)
		return CML_OK;
	if ((st = cml_fingerprint_item(k->fpr, it, parts, &n)) != CML_OK) {
		snprintf(k->msg, sizeof(k->msg), "fingerprint: %s", cml_status_str(st));
		return st;
	}
	for (size_t i = 0; i < n; i++) {
		st = cml_store_gen_put(k->store, k->gen, parts[i].part, parts[i].id, &parts[i].fp,
		                       false);
		if (st != CML_OK) {
			snprintf(k->msg, sizeof(k->msg), "%s", cml_store_errmsg(k->store));
			return st;
		}
	}
	return CML_OK;
}

/* Where every item goes; says why it failed. */
static cml_status
sink_add(void *ud, const cml_item *it)
{
	struct sink *k = ud;
	cml_status st = sink_put(k, it);

	if (st != CML_OK)
		cmd_error("%s", k->msg);
	return st;
}

/* Opens the database and starts the run and its generation. */
static int
start_record(struct export_opts *o, struct sink *k)
{
	int status;

	if ((status = db_open(&o->dbo, false, &k->store)) != EXIT_OK)
		return status;
	k->fpr = cml_fingerprinter_new();
	if (k->fpr == NULL) {
		cmd_error("out of memory");
		return EXIT_LOCAL;
	}
	if ((k->package = pkg_abs_dir(o->pkg.output)) == NULL)
		return EXIT_LOCAL;
	if ((status = db_begin(k->store, "full-export")) != EXIT_OK)
		return status;
	cml_status st = cml_store_gen_new(k->store, CML_GEN_FULL, k->package, &k->gen);
	if (st != CML_OK) {
		cmd_error("%s", cml_store_errmsg(k->store));
		return cmd_exit_for(st);
	}
	return EXIT_OK;
}

static int
run(struct export_opts *o)
{
	int status = EXIT_OK;
	char **inputs = NULL;
	size_t n_inputs = 0;
	cmd_source *src = NULL;
	cml_writer *w = NULL;
	cml_attach *att = NULL;
	cmd_catjoin *join = NULL;
	unsigned long n_items = 0;
	struct sink k = { 0 };
	cml_status st;

	if (!pkg_check_output(o->pkg.output, o->inputs, o->n_inputs)) {
		status = EXIT_USAGE;
		goto out;
	}
	if (!cmd_expand_inputs(o->inputs, o->n_inputs, &inputs, &n_inputs)) {
		status = EXIT_LOCAL;
		goto out;
	}
	if (!pkg_make_dir(o->pkg.output)) {
		status = EXIT_LOCAL;
		goto out;
	}
	if (!o->no_record && (status = start_record(o, &k)) != EXIT_OK)
		goto out;
	/* with the run lock held, when recording */
	if (!pkg_recover(o->pkg.output)) {
		status = EXIT_LOCAL;
		goto out;
	}
	/* the catalog identity, remembered with the package's generation */
	if ((status = pkg_ident_resolve(&o->pkg, k.store, k.store != NULL)) != EXIT_OK)
		goto out;
	src = cmd_source_new(o->pkg.format, cmd_lib_warning, NULL);
	/* the files products name: into the package and their cards' fingerprints */
	att = cml_attach_new(&(cml_attach_opts){ .warn = cmd_lib_warning });
	o->pkg.w.attach = att;
	cml_fingerprinter_set_attach(k.fpr, att);
	w = att != NULL ? cml_writer_new(o->pkg.output, &o->pkg.w) : NULL;
	join = cmd_catjoin_new(sink_add, &k, "no package written");
	k.w = w;
	if (src == NULL || w == NULL || join == NULL) {
		cmd_error("%s: cannot start the package (out of memory, or the "
		          "directory is not writable)", o->pkg.output);
		status = EXIT_LOCAL;
		goto out;
	}
	status = cmd_source_run(src, inputs, n_inputs, cmd_catjoin_item, join,
	                        "no package written");
	if (status != EXIT_OK)
		goto out;
	n_items = cmd_catjoin_items(join);
	if (n_items == 0) {
		cmd_error("no items in the input: no package written");
		status = EXIT_DATA;
		goto out;
	}
	/* the properties with all their values, the split offers joined */
	if ((st = cmd_catjoin_flush(join)) != CML_OK) {
		status = cmd_exit_for(st);
		goto out;
	}
	st = cml_writer_finish(w);
	if (st != CML_OK) {
		cmd_error("%s", cml_writer_errmsg(w));
		status = cmd_exit_for(st);
		goto out;
	}
	if (k.store != NULL) {
		char counts[64];
		snprintf(counts, sizeof(counts), "{\"items\":%lu}", n_items);
		status = pkg_record_files(k.store, k.gen, k.package, cml_writer_files(w));
		/* a newer whole catalog: what earlier runs left pending is stale */
		if (status == EXIT_OK)
			status = pkg_supersede(k.store);
		if (status == EXIT_OK)
			status = db_commit(k.store, "ok", counts);
		if (status != EXIT_OK) {
			cmd_error("the package in %s is written but not recorded",
			          o->pkg.output);
			goto out;
		}
		cmd_verbose("recorded as generation %lld, pending until acknowledged",
		            (long long)k.gen);
	}
	pkg_print_files(o->pkg.output, cml_writer_files(w));
	cmd_verbose("%lu items written to %s", n_items, o->pkg.output);
out:
	cml_fingerprinter_free(k.fpr);
	db_close(k.store); /* a run not committed is rolled back */
	free(k.package);
	cmd_catjoin_free(join);
	cml_writer_free(w);
	cml_attach_free(att);
	cmd_source_free(src);
	cmd_free_list(inputs);
	pkg_ident_free(&o->pkg);
	return status;
}

int
main(int argc, char **argv)
{
	struct export_opts o = { 0 };
	int status;

	cmd_init(argv[0]);
	status = export_parse_options(argc, argv, &o);
	if (status == EXIT_OK)
		status = run(&o);
	return cmd_finish(status);
}
