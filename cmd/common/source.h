/*
 * source.h: one stream of items over the inputs of a program, whatever
 * their format (CommerceML through cml_reader, CSV through
 * cml_csv_reader), so that every program reads inputs the same way.
 */
#ifndef CMLKIT_SOURCE_H
#define CMLKIT_SOURCE_H

#include <stdbool.h>

#include <cml/csv.h>
#include <cml/reader.h>

enum cmd_format { CMD_FMT_AUTO = 0, CMD_FMT_CML, CMD_FMT_CSV };

/* Parses "auto", "cml", "csv"; false for anything else. */
bool cmd_format_parse(const char *s, enum cmd_format *out);

typedef struct cmd_source cmd_source;

cmd_source *cmd_source_new(enum cmd_format fmt, cml_warn_fn *warn, void *warn_ud);
/* Before the first open: fn hears of every CommerceML element with content
 * the model has no place for (see cml_reader_opts). False when out of memory. */
bool cmd_source_report_unmodeled(cmd_source *s, cml_unmodeled_fn *fn, void *ud);
void cmd_source_free(cmd_source *s);

/* Opens one input ("-" is stdin). */
cml_status cmd_source_open(cmd_source *s, const char *path);
/* True when the open input is read as CSV. */
bool cmd_source_is_csv(const cmd_source *s);
cml_status cmd_source_next(cmd_source *s, const cml_item **item);
const char *cmd_source_errmsg(const cmd_source *s);

/* What a program does with each item; it prints its own message and
 * returns an error to stop. */
typedef cml_status cmd_item_fn(void *ud, const cml_item *item);

/*
 * Streams every item of every input (file items included) into fn, in
 * order. A reader error is printed with what_not ("no package written").
 * Returns the exit status: EXIT_OK, or that of the first error.
 */
int cmd_source_run(cmd_source *s, char **inputs, size_t n_inputs, cmd_item_fn *fn, void *ud,
                   const char *what_not);

#endif /* CMLKIT_SOURCE_H */
