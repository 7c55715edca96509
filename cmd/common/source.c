/*
 * source.c: items from CommerceML or CSV inputs behind one interface.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmdutil.h"
#include "source.h"

struct cmd_source {
	enum cmd_format fmt;
	bool csv;
	cml_reader *xml;
	cml_csv_reader *tab;
	cml_reader_opts opts;
	char msg[1024];
};

bool
cmd_format_parse(const char *s, enum cmd_format *out)
{
	if (strcmp(s, "auto") == 0)
		*out = CMD_FMT_AUTO;
	else if (strcmp(s, "cml") == 0 || strcmp(s, "xml") == 0)
		*out = CMD_FMT_CML;
	else if (strcmp(s, "csv") == 0)
		*out = CMD_FMT_CSV;
	else
		return false;
	return true;
}

cmd_source *
cmd_source_new(enum cmd_format fmt, cml_warn_fn *warn, void *warn_ud)
{
	cmd_source *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->fmt = fmt;
	s->opts = (cml_reader_opts){ .warn = warn, .warn_ud = warn_ud };
	s->xml = cml_reader_new(&s->opts);
	s->tab = cml_csv_reader_new();
	if (s->xml == NULL || s->tab == NULL) {
		cmd_source_free(s);
		return NULL;
	}
	return s;
}

bool
cmd_source_report_unmodeled(cmd_source *s, cml_unmodeled_fn *fn, void *ud)
{
	cml_reader_opts o = s->opts;

	o.unmodeled = fn;
	o.unmodeled_ud = ud;
	cml_reader *r = cml_reader_new(&o);
	if (r == NULL)
		return false;
	cml_reader_free(s->xml);
	s->xml = r;
	s->opts = o;
	return true;
}

void
cmd_source_free(cmd_source *s)
{
	if (s == NULL)
		return;
	cml_reader_free(s->xml);
	cml_csv_reader_free(s->tab);
	free(s);
}

cml_status
cmd_source_open(cmd_source *s, const char *path)
{
	bool stdin_ = strcmp(path, "-") == 0;

	s->csv = s->fmt == CMD_FMT_CSV || (s->fmt == CMD_FMT_AUTO && cmd_is_csv_name(path));
	if (s->csv)
		return stdin_ ? cml_csv_reader_open_fd(s->tab, STDIN_FILENO, "(stdin)")
		              : cml_csv_reader_open_file(s->tab, path);
	return cml_reader_open_file(s->xml, path);
}

bool
cmd_source_is_csv(const cmd_source *s)
{
	return s->csv;
}

cml_status
cmd_source_next(cmd_source *s, const cml_item **item)
{
	return s->csv ? cml_csv_reader_next(s->tab, item) : cml_reader_next(s->xml, item);
}

const char *
cmd_source_errmsg(const cmd_source *s)
{
	return s->csv ? cml_csv_reader_errmsg(s->tab) : cml_reader_errmsg(s->xml);
}

int
cmd_source_run(cmd_source *s, char **inputs, size_t n_inputs, cmd_item_fn *fn, void *ud,
               const char *what_not)
{
	for (size_t i = 0; i < n_inputs; i++) {
		const cml_item *it;
		cml_status st;

		cmd_verbose("reading %s", inputs[i]);
		st = cmd_source_open(s, inputs[i]);
		while (st == CML_OK && (st = cmd_source_next(s, &it)) == CML_OK)
			if ((st = fn(ud, it)) != CML_OK)
				return cmd_exit_for(st);
		if (st < 0) {
			cmd_error("%s", cmd_source_errmsg(s));
			cmd_error("%s", what_not);
			return cmd_exit_for(st);
		}
	}
	return EXIT_OK;
}
