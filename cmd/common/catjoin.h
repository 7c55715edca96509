/*
 * catjoin.h: the catalog as a package is made from it, one item per Ид,
 * shared by full-export and delta-export so that both write the same
 * package from the same input.
 *
 * Between the source and what takes the items (the writer, the diff):
 *  - a group, property, price type, warehouse, product, offer or
 *    counterparty without an Ид stops the run (it cannot be written);
 *  - a classifier item an earlier file already gave (a split package
 *    repeats its classifier) goes on once, or stops the run when its
 *    content differs (seen.h);
 *  - a property is held to the end, its values joined over its repeats;
 *    a part of a split offer (card, prices or stock) is held and joined
 *    with the other parts of the same offer (cml/offerjoin.h);
 *  - everything else goes straight on.
 * At the end, cmd_catjoin_flush hands on the properties, then the joined
 * offers, in first-seen order.
 */
#ifndef CMLKIT_CATJOIN_H
#define CMLKIT_CATJOIN_H

#include <cml/offerjoin.h>

typedef struct cmd_catjoin cmd_catjoin;

/* next: where items go; it prints its own message when it fails.
 * what_not ends the messages of a stopped run ("no package written").
 * NULL when out of memory. */
cmd_catjoin *cmd_catjoin_new(cml_item_sink_fn *next, void *ud, const char *what_not);
void cmd_catjoin_free(cmd_catjoin *j);

/* A cmd_item_fn (source.h): its ud is the cmd_catjoin. */
cml_status cmd_catjoin_item(void *j, const cml_item *item);

/* Properties, then joined offers, into next. */
cml_status cmd_catjoin_flush(cmd_catjoin *j);

/* Items read and taken (a repeat of a classifier item is not counted
 * again; each part of a split offer is); offers joined from parts. */
unsigned long cmd_catjoin_items(const cmd_catjoin *j);
size_t cmd_catjoin_joined(const cmd_catjoin *j);

#endif /* CMLKIT_CATJOIN_H */
