/*
 * full-export: read a whole catalog and write a complete CommerceML
 * package. Items stream from the reader straight into the writer, which
 * spools each section to a temporary file and renames the finished
 * files into place only when everything was read: bad input leaves no
 * half-written package behind.
 */
#include <string.h>

#include <cml/writer.h>

#include "cmdutil.h"
#include "export.h"
#include "merge.h"
#include "source.h"

static void
on_warning(void *ud, const char *msg)
{
	(void)ud;
	cmd_warn("warning: %s", msg);
}

static int
run(struct export_opts *o)
{
	int status = EXIT_OK;
	char **inputs = NULL;
	size_t n_inputs = 0;
	cmd_source *src = NULL;
	cml_writer *w = NULL;
	offer_merge *parts = NULL;
	unsigned long n_items = 0;
	cml_status st;

	if (!cmd_expand_inputs(o->inputs, o->n_inputs, &inputs, &n_inputs)) {
		status = EXIT_LOCAL;
		goto out;
	}
	if (!pkg_make_dir(o->pkg.output)) {
		status = EXIT_LOCAL;
		goto out;
	}
	src = cmd_source_new(o->pkg.format, on_warning, NULL);
	w = cml_writer_new(o->pkg.output, &o->pkg.w);
	parts = offer_merge_new();
	if (src == NULL || w == NULL || parts == NULL) {
		cmd_error("%s: cannot start the package (out of memory, or the "
		          "directory is not writable)", o->pkg.output);
		status = EXIT_LOCAL;
		goto out;
	}
	for (size_t i = 0; i < n_inputs; i++) {
		const cml_item *it;

		cmd_verbose("reading %s", inputs[i]);
		st = cmd_source_open(src, inputs[i]);
		while (st == CML_OK && (st = cmd_source_next(src, &it)) == CML_OK) {
			if (it->kind == CML_ITEM_FILE)
				continue;
			n_items++;
			if (it->kind == CML_ITEM_OFFER && it->u.offer.id != NULL &&
			    !offer_is_whole(&it->u.offer)) {
				/* a part of a split offer: joined at the end */
				if (!offer_merge_add(parts, &it->u.offer)) {
					cmd_error("out of memory joining split offers");
					status = EXIT_LOCAL;
					goto out;
				}
				continue;
			}
			st = cml_writer_add(w, it);
			if (st != CML_OK) {
				cmd_error("%s", cml_writer_errmsg(w));
				status = cmd_exit_for(st);
				goto out;
			}
		}
		if (st < 0) {
			cmd_error("%s", cmd_source_errmsg(src));
			cmd_error("no package written");
			status = cmd_exit_for(st);
			goto out;
		}
	}
	if (n_items == 0) {
		cmd_error("no items in the input: no package written");
		status = EXIT_DATA;
		goto out;
	}
	if (offer_merge_count(parts) > 0) {
		cmd_verbose("%zu offers joined from their parts", offer_merge_count(parts));
		st = offer_merge_flush(parts, w);
		if (st != CML_OK) {
			cmd_error("%s", cml_writer_errmsg(w));
			status = cmd_exit_for(st);
			goto out;
		}
	}
	st = cml_writer_finish(w);
	if (st != CML_OK) {
		cmd_error("%s", cml_writer_errmsg(w));
		status = cmd_exit_for(st);
		goto out;
	}
	for (const char *const *f = cml_writer_files(w); f != NULL && *f != NULL; f++)
		if (printf("%s/%s\n", o->pkg.output, *f) < 0)
			break;
	cmd_verbose("%lu items written to %s", n_items, o->pkg.output);
out:
	offer_merge_free(parts);
	cml_writer_free(w);
	cmd_source_free(src);
	cmd_free_list(inputs);
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
