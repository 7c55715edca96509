/*
 * seen.h: the classifier items (groups, properties, price types,
 * warehouses, units) already read, by kind and Ид, with a hash of their
 * content and where they were first: a split package repeats its
 * classifier in several files (1C УТ 11 puts it in the offers file too),
 * and an identical repeat is the same item, while a repeat with other
 * content is a conflict to report with both places. A property's values
 * (ВариантыЗначений) are not part of the comparison: 1C УТ 11 lists in
 * each file the values its own items use, and the values of all the
 * repeats together are the property's.
 */
#ifndef CMLKIT_SEEN_H
#define CMLKIT_SEEN_H

#include <stdbool.h>

#include <cml/model.h>

typedef struct cmd_seen cmd_seen;

enum cmd_seen_result {
	SEEN_NEW,      /* first time: recorded */
	SEEN_SAME,     /* the same kind, Ид and content as before */
	SEEN_CONFLICT, /* the same kind and Ид, other content */
	SEEN_NOMEM,
};

cmd_seen *cmd_seen_new(void);
void cmd_seen_free(cmd_seen *s);

/* The kinds this applies to. */
bool cmd_seen_kind(cml_kind kind);

/* Records item (of a cmd_seen_kind, with Ид id); for SAME and CONFLICT,
 * *file and *line say where the first one was (valid until free). */
enum cmd_seen_result cmd_seen_add(cmd_seen *s, const cml_item *item, const char *id,
                                  const char **file, unsigned long *line);

#endif /* CMLKIT_SEEN_H */
