/*
 * catjoin.c: one item per Ид between the source and the package
 * (catjoin.h).
 */
#include <stdlib.h>

#include "catjoin.h"
#include "cmdutil.h"
#include "seen.h"

struct cmd_catjoin {
	cml_item_sink_fn *next;
	void *ud;
	const char *what_not;
	cml_offerjoin *parts;
	cmd_seen *seen;
	unsigned long n_items;
};

cmd_catjoin *
cmd_catjoin_new(cml_item_sink_fn *next, void *ud, const char *what_not)
{
	cmd_catjoin *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->next = next;
	j->ud = ud;
	j->what_not = what_not;
	j->parts = cml_offerjoin_new();
	j->seen = cmd_seen_new();
	if (j->parts == NULL || j->seen == NULL) {
		cmd_catjoin_free(j);
		return NULL;
	}
	return j;
}

void
cmd_catjoin_free(cmd_catjoin *j)
{
	if (j == NULL)
		return;
	cml_offerjoin_free(j->parts);
	cmd_seen_free(j->seen);
	free(j);
}

/* The Ид of the kinds that cannot be written without one, and the element
 * they come from; NULL for the others (headers, units, documents). */
static const char *
required_id(const cml_item *it, const char **elem, bool *required)
{
	*required = true;
	switch (it->kind) {
	case CML_ITEM_GROUP: *elem = "Группа"; return it->u.group.id;
	case CML_ITEM_PROPERTY: *elem = "Свойство"; return it->u.property.id;
	case CML_ITEM_PRICE_TYPE: *elem = "ТипЦены"; return it->u.price_type.id;
	case CML_ITEM_WAREHOUSE: *elem = "Склад"; return it->u.warehouse.id;
	case CML_ITEM_PRODUCT: *elem = "Товар"; return it->u.product.id;
	case CML_ITEM_OFFER: *elem = "Предложение"; return it->u.offer.id;
	case CML_ITEM_COUNTERPARTY: *elem = "Контрагент"; return it->u.counterparty.id;
	case CML_ITEM_UNIT: *elem = "ЕдиницаИзмерения"; *required = false; return it->u.unit.id;
	default: *elem = NULL; *required = false; return NULL;
	}
}

cml_status
cmd_catjoin_item(void *ud, const cml_item *it)
{
	cmd_catjoin *j = ud;
	const char *elem, *first_file;
	unsigned long first_line;
	bool required, repeat = false;

	if (it->kind == CML_ITEM_FILE)
		return CML_OK;
	const char *id = required_id(it, &elem, &required);
	if (id == NULL && required) {
		cmd_error("%s:%lu: <%s>: no Ид: an item without one cannot be written",
		          it->origin.file, it->origin.line, elem);
		cmd_error("%s", j->what_not);
		return CML_ERR_VALUE;
	}
	if (id != NULL && cmd_seen_kind(it->kind)) {
		switch (cmd_seen_add(j->seen, it, id, &first_file, &first_line)) {
		case SEEN_NEW:
			break;
		case SEEN_SAME:
			repeat = true;
			if (it->kind == CML_ITEM_PROPERTY)
				break; /* its values are joined below */
			cmd_verbose("%s:%lu: <%s> '%s' as in %s:%lu: written once",
			            it->origin.file, it->origin.line, elem, id, first_file,
			            first_line);
			return CML_OK;
		case SEEN_CONFLICT:
			cmd_error("%s:%lu: <%s> '%s' differs from the one of the same Ид in %s:%lu",
			          it->origin.file, it->origin.line, elem, id, first_file,
			          first_line);
			cmd_error("%s", j->what_not);
			return CML_ERR_VALUE;
		case SEEN_NOMEM:
			cmd_error("out of memory");
			return CML_ERR_NOMEM;
		}
	}
	if (it->kind == CML_ITEM_PROPERTY && id != NULL) {
		/* held to the end: a repeat in a later file may add values */
		if (cml_offerjoin_add_property(j->parts, &it->u.property) != CML_OK) {
			cmd_error("out of memory joining properties");
			return CML_ERR_NOMEM;
		}
		if (!repeat)
			j->n_items++;
		return CML_OK;
	}
	j->n_items++;
	if (it->kind == CML_ITEM_OFFER && !cml_offer_is_whole(&it->u.offer)) {
		if (cml_offerjoin_add(j->parts, &it->u.offer) != CML_OK) {
			cmd_error("out of memory joining split offers");
			return CML_ERR_NOMEM;
		}
		return CML_OK;
	}
	return j->next(j->ud, it);
}

cml_status
cmd_catjoin_flush(cmd_catjoin *j)
{
	cml_status st = cml_offerjoin_flush_properties(j->parts, j->next, j->ud);

	if (st != CML_OK)
		return st;
	if (cml_offerjoin_count(j->parts) > 0)
		cmd_verbose("%zu offers joined from their parts", cml_offerjoin_count(j->parts));
	return cml_offerjoin_flush(j->parts, j->next, j->ud);
}

unsigned long
cmd_catjoin_items(const cmd_catjoin *j)
{
	return j->n_items;
}

size_t
cmd_catjoin_joined(const cmd_catjoin *j)
{
	return cml_offerjoin_count(j->parts);
}
