/*
 * cml-check: validate and summarise CommerceML files.
 *
 * Everything is checked in one streaming pass over the inputs. What has
 * to be remembered across items (which Ид were seen) is kept as 64-bit
 * hashes, so a million products cost a few megabytes.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cml/attach.h>
#include <cml/dump.h>
#include <cml/idset.h>

#include "check.h"
#include "cmdutil.h"
#include "seen.h"
#include "source.h"

enum problem_kind {
	P_UNREADABLE,
	P_DUPLICATE,
	P_NO_PRODUCT,
	P_UNKNOWN_PRICE_TYPE,
	P_MISSING_ID,
	P_NO_GOODS,
	P_WARNING,
	P_BAD_ITEM,
	P_MISSING_FILE,
	P_UNSAFE_FILE,
	P_KIND_COUNT
};

static const char *const problem_names[P_KIND_COUNT] = {
	"unreadable files", "duplicate ids", "offers without product",
	"prices with unknown price type", "items without id",
	"whole catalogs without goods", "warnings", "unreadable items",
	"missing files", "unsafe file references",
};

/* An offer read before any product: checked at the end. */
struct deferred {
	uint64_t product;
	uint32_t file;
	uint32_t line;
};

/* A price type id that was not known when a price used it. */
struct unknown_type {
	char *id;
	uint32_t file;
	uint32_t line;
	unsigned long uses;
};

/* An element the reader has no place for, by its path from the item. */
struct unmodeled {
	char *path;
	char *file;
	unsigned long line;
	unsigned long count;
};

struct file_stats {
	const char *name;
	char *version, *declared, *encoding, *ns;
	bool bom, csv, readable, opened;
	unsigned long count[CML_ITEM_KIND_COUNT];
};

struct check {
	struct check_opts *o;
	int status;
	struct file_stats *files;
	size_t n_files;
	uint32_t cur;

	cml_idset *ids[CML_ITEM_KIND_COUNT];
	cmd_seen *seen;         /* classifier items: a repeat is checked by content */
	cml_idset *file_offers; /* offers of the current file: duplicates */
	cml_idset *price_types;
	cml_attach *attach;     /* the files products name */
	bool any_products;
	bool any_price_types;
	bool partial_catalog; /* a Каталог said СодержитТолькоИзменения */
	/* the first Каталог (ПакетПредложений) that said it was whole: a set
	 * holding no product (offer) under it has lost its goods file */
	struct header_at {
		bool seen;
		uint32_t file;
		uint32_t line;
	} whole_catalog, whole_package;

	struct deferred *deferred;
	size_t n_deferred, cap_deferred;
	struct unknown_type *unknown;
	size_t n_unknown, cap_unknown;

	struct unmodeled *unmodeled;
	size_t n_unmodeled, cap_unmodeled;

	unsigned long problems[P_KIND_COUNT];
	unsigned long listed;
	bool oom;
};



static void
problem(struct check *c, enum problem_kind k, const char *file, unsigned long line,
        const char *fmt, ...) CMD_PRINTF(5, 6);

static void
problem(struct check *c, enum problem_kind k, const char *file, unsigned long line,
        const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	c->problems[k]++;
	if (k != P_WARNING && k != P_UNREADABLE)
		cmd_raise(&c->status, EXIT_ATTENTION);
	if (c->o->max_problems != 0 && c->listed >= c->o->max_problems)
		return;
	if (k == P_WARNING && cmd_verbosity < 1)
		return;
	c->listed++;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cmd_verbosity < 1)
		return;
	if (line > 0)
		fprintf(stderr, "%s: %s:%lu: %s\n", cmd_progname, file, line, msg);
	else
		fprintf(stderr, "%s: %s: %s\n", cmd_progname, file, msg);
}

/* An item the reader skipped (a value out of its domain): the file is
 * bad data, but the rest of it is still worth checking. */
static void
bad_item(struct check *c, const char *msg)
{
	c->problems[P_BAD_ITEM]++;
	cmd_raise(&c->status, EXIT_DATA);
	if (c->o->max_problems != 0 && c->listed >= c->o->max_problems)
		return;
	c->listed++;
	cmd_error("%s: item skipped", msg);
}

/* The files a product names (Картинка, ОписаниеФайла, Файл): a missing
 * one needs attention; an unsafe one is bad input, which the exporters
 * refuse. */
static void
check_files(struct check *c, const cml_item *it)
{
	const cml_ref *refs;
	size_t n;
	bool first = true;
	char at[600];
	cml_status st = cml_attach_item(c->attach, it, &refs, &n);

	if (st != CML_OK && st != CML_ERR_VALUE) {
		cmd_error("%s", cml_attach_errmsg(c->attach));
		cmd_raise(&c->status, cmd_exit_for(st));
		return;
	}
	snprintf(at, sizeof(at), "%s:%lu: ", it->origin.file, it->origin.line);
	for (size_t i = 0; i < n; i++) {
		const cml_ref *r = &refs[i];

		if (r->state == CML_REF_MISSING) {
			problem(c, P_MISSING_FILE, it->origin.file, it->origin.line,
			        "<%s> '%s': no such file", r->element, r->written);
		} else if (r->state == CML_REF_UNSAFE) {
			const char *msg = cml_attach_errmsg(c->attach);

			/* the message names the first unsafe reference of the item */
			if (first && strncmp(msg, at, strlen(at)) == 0)
				msg += strlen(at);
			else
				msg = NULL;
			if (msg != NULL)
				problem(c, P_UNSAFE_FILE, it->origin.file, it->origin.line,
				        "%s: refused", msg);
			else
				problem(c, P_UNSAFE_FILE, it->origin.file, it->origin.line,
				        "<%s> '%s': refused: it leads outside the input's "
				        "directory", r->element, r->written);
			cmd_raise(&c->status, EXIT_DATA);
			first = false;
		}
	}
}

static void
on_warning(void *ud, const char *msg)
{
	struct check *c = ud;

	c->problems[P_WARNING]++;
	if (cmd_verbosity >= 1 && (c->o->max_problems == 0 || c->listed < c->o->max_problems)) {
		c->listed++;
		fprintf(stderr, "%s: warning: %s\n", cmd_progname, msg);
	}
}

static void
on_unmodeled(void *ud, const char *path, const char *file, unsigned long line)
{
	struct check *c = ud;

	for (size_t i = 0; i < c->n_unmodeled; i++)
		if (strcmp(c->unmodeled[i].path, path) == 0) {
			c->unmodeled[i].count++;
			return;
		}
	if (c->n_unmodeled == c->cap_unmodeled) {
		size_t cap = c->cap_unmodeled ? c->cap_unmodeled * 2 : 8;
		struct unmodeled *u = realloc(c->unmodeled, cap * sizeof(*u));
		if (u == NULL) {
			c->oom = true;
			return;
		}
		c->unmodeled = u;
		c->cap_unmodeled = cap;
	}
	struct unmodeled *u = &c->unmodeled[c->n_unmodeled];
	u->path = strdup(path);
	u->file = strdup(file);
	if (u->path == NULL || u->file == NULL) {
		free(u->path);
		free(u->file);
		c->oom = true;
		return;
	}
	u->line = line;
	u->count = 1;
	c->n_unmodeled++;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static void
note_unknown_type(struct check *c, const char *id, unsigned long line)
{
	for (size_t i = 0; i < c->n_unknown; i++)
		if (strcmp(c->unknown[i].id, id) == 0) {
			c->unknown[i].uses++;
			return;
		}
	if (c->n_unknown == c->cap_unknown) {
		size_t cap = c->cap_unknown ? c->cap_unknown * 2 : 8;
		struct unknown_type *u = realloc(c->unknown, cap * sizeof(*u));
		if (u == NULL) {
			c->oom = true;
			return;
		}
		c->unknown = u;
		c->cap_unknown = cap;
	}
	struct unknown_type *u = &c->unknown[c->n_unknown];
	u->id = strdup(id);
	if (u->id == NULL) {
		c->oom = true;
		return;
	}
	u->file = c->cur;
	u->line = (uint32_t)line;
	u->uses = 1;
	c->n_unknown++;
}

static void
defer_offer(struct check *c, uint64_t product, unsigned long line)
{
	if (c->n_deferred == c->cap_deferred) {
		size_t cap = c->cap_deferred ? c->cap_deferred * 2 : 1024;
		struct deferred *d = realloc(c->deferred, cap * sizeof(*d));
		if (d == NULL) {
			c->oom = true;
			return;
		}
		c->deferred = d;
		c->cap_deferred = cap;
	}
	c->deferred[c->n_deferred++] = (struct deferred){ product, c->cur, (uint32_t)line };
}

static const char *
item_id(const cml_item *it)
{
	switch (it->kind) {
	case CML_ITEM_GROUP: return it->u.group.id;
	case CML_ITEM_PROPERTY: return it->u.property.id;
	case CML_ITEM_PRICE_TYPE: return it->u.price_type.id;
	case CML_ITEM_WAREHOUSE: return it->u.warehouse.id;
	case CML_ITEM_UNIT: return it->u.unit.id;
	case CML_ITEM_PRODUCT: return it->u.product.id;
	case CML_ITEM_OFFER: return it->u.offer.id;
	case CML_ITEM_DOCUMENT: return it->u.document.id;
	case CML_ITEM_COUNTERPARTY: return it->u.counterparty.id;
	default: return NULL;
	}
}

/* Kinds whose Ид must be unique across all inputs. Offers are checked
 * per file: a split package repeats each offer in offers, prices and
 * rests. Documents may be repeated by later status updates. */
static bool
unique_kind(cml_kind k)
{
	return k == CML_ITEM_GROUP || k == CML_ITEM_PROPERTY || k == CML_ITEM_PRICE_TYPE ||
	       k == CML_ITEM_WAREHOUSE || k == CML_ITEM_PRODUCT || k == CML_ITEM_COUNTERPARTY;
}

static void
check_item(struct check *c, const cml_item *it)
{
	struct file_stats *fs = &c->files[c->cur];
	const char *id = item_id(it);
	const char *file = it->origin.file;
	unsigned long line = it->origin.line;
	bool dup;

	fs->count[it->kind]++;
	if (it->kind == CML_ITEM_FILE) {
		fs->version = dup_or_null(it->u.file.schema_version);
		fs->declared = dup_or_null(it->u.file.declared_encoding);
		fs->encoding = dup_or_null(it->u.file.encoding);
		fs->bom = it->u.file.bom;
		fs->ns = dup_or_null(it->u.file.namespace_uri);
		return;
	}
	if (id == NULL && (unique_kind(it->kind) || it->kind == CML_ITEM_OFFER)) {
		problem(c, P_MISSING_ID, file, line, "%s without Ид", cml_kind_name(it->kind));
		return;
	}
	if (cmd_seen_kind(it->kind) && id != NULL) {
		const char *ffile;
		unsigned long fline;

		switch (cmd_seen_add(c->seen, it, id, &ffile, &fline)) {
		case SEEN_NEW:
		case SEEN_SAME: /* a split package repeats its classifier */
			break;
		case SEEN_CONFLICT:
			problem(c, P_DUPLICATE, file, line,
			        "%s Ид '%s' given again with other content (first at %s:%lu)",
			        cml_kind_name(it->kind), id, ffile, fline);
			break;
		case SEEN_NOMEM:
			c->oom = true;
			break;
		}
	} else if (unique_kind(it->kind)) {
		if (cml_idset_add(c->ids[it->kind], cml_id_hash(id), &dup) != CML_OK)
			c->oom = true;
		else if (dup)
			problem(c, P_DUPLICATE, file, line, "duplicate %s Ид '%s'",
			        cml_kind_name(it->kind), id);
	}
	if (it->kind == CML_ITEM_PRODUCT)
		c->any_products = true;
	if (it->kind == CML_ITEM_CATALOG && it->u.catalog.only_changes == CML_TRUE)
		c->partial_catalog = true;
	if (it->kind == CML_ITEM_CATALOG && it->u.catalog.only_changes != CML_TRUE &&
	    !c->whole_catalog.seen)
		c->whole_catalog = (struct header_at){ true, c->cur, (uint32_t)line };
	if (it->kind == CML_ITEM_OFFERS_PACKAGE && it->u.package.only_changes != CML_TRUE &&
	    !c->whole_package.seen)
		c->whole_package = (struct header_at){ true, c->cur, (uint32_t)line };
	if (it->kind == CML_ITEM_PRICE_TYPE) {
		c->any_price_types = true;
		if (cml_idset_add(c->price_types, cml_id_hash(id), &dup) != CML_OK)
			c->oom = true;
	}
	if (it->kind != CML_ITEM_OFFER)
		return;

	const cml_offer *o = &it->u.offer;
	if (cml_idset_add(c->file_offers, cml_id_hash(id), &dup) != CML_OK)
		c->oom = true;
	else if (dup)
		problem(c, P_DUPLICATE, file, line, "duplicate offer Ид '%s' in one file", id);
	if (o->product_id != NULL && !c->partial_catalog) {
		uint64_t h = cml_id_hash(o->product_id);
		if (c->any_products) {
			if (!cml_idset_has(c->ids[CML_ITEM_PRODUCT], h))
				problem(c, P_NO_PRODUCT, file, line,
				        "offer '%s': product '%s' is not in the catalog", id,
				        o->product_id);
		} else {
			defer_offer(c, h, line);
		}
	}
	for (size_t i = 0; i < o->n_prices; i++) {
		const char *t = o->prices[i].type_id;
		if (t == NULL) {
			problem(c, P_UNKNOWN_PRICE_TYPE, file, line, "offer '%s': a price without ИдТипаЦены", id);
			continue;
		}
		if (!cml_idset_has(c->price_types, cml_id_hash(t)))
			note_unknown_type(c, t, line);
	}
}

/* Checks what could only be checked once every input was read. */
static void
check_end(struct check *c)
{
	unsigned long offers = 0;

	for (size_t i = 0; i < c->n_files; i++)
		offers += c->files[i].count[CML_ITEM_OFFER];
	/* 1C's split layout: the classifier's file carries the Каталог
	 * header, the goods file its products; without that file the header
	 * promises a whole catalog of nothing, and an exporter deletes all */
	if (c->whole_catalog.seen && !c->any_products)
		problem(c, P_NO_GOODS, c->files[c->whole_catalog.file].name,
		        c->whole_catalog.line,
		        "the Каталог says it is the whole catalog (СодержитТолькоИзменения not "
		        "\"true\") but the set holds no product: is a goods file (such as "
		        "import___goods.xml) missing?");
	if (c->whole_package.seen && offers == 0)
		problem(c, P_NO_GOODS, c->files[c->whole_package.file].name,
		        c->whole_package.line,
		        "the ПакетПредложений says it holds all offers (СодержитТолькоИзменения "
		        "not \"true\") but the set holds no offer: is an offers file missing?");
	if (c->any_products && !c->partial_catalog) {
		for (size_t i = 0; i < c->n_deferred; i++) {
			struct deferred *d = &c->deferred[i];
			if (!cml_idset_has(c->ids[CML_ITEM_PRODUCT], d->product))
				problem(c, P_NO_PRODUCT, c->files[d->file].name, d->line,
				        "offer: its product is not in the catalog");
		}
	}
	if (c->any_price_types) {
		for (size_t i = 0; i < c->n_unknown; i++) {
			struct unknown_type *u = &c->unknown[i];
			if (cml_idset_has(c->price_types, cml_id_hash(u->id)))
				continue;
			c->problems[P_UNKNOWN_PRICE_TYPE] += u->uses - 1;
			problem(c, P_UNKNOWN_PRICE_TYPE, c->files[u->file].name, u->line,
			        "price type '%s' is not declared (%lu prices use it)", u->id, u->uses);
		}
	}
}

static void
json_str(FILE *fp, const char *s)
{
	fputc('"', fp);
	for (; s != NULL && *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(fp, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(fp, "\\u%04x", ch);
		else
			fputc(ch, fp);
	}
	fputc('"', fp);
}

static const char *const plural[CML_ITEM_KIND_COUNT] = {
	[CML_ITEM_CLASSIFIER] = "classifiers", [CML_ITEM_GROUP] = "groups",
	[CML_ITEM_PROPERTY] = "properties",   [CML_ITEM_PRICE_TYPE] = "price types",
	[CML_ITEM_WAREHOUSE] = "warehouses",  [CML_ITEM_UNIT] = "units",
	[CML_ITEM_CATALOG] = "catalogs",      [CML_ITEM_PRODUCT] = "products",
	[CML_ITEM_OFFERS_PACKAGE] = "offers packages", [CML_ITEM_OFFER] = "offers",
	[CML_ITEM_DOCUMENT] = "documents",    [CML_ITEM_COUNTERPARTY] = "counterparties",
};

static void
print_counts(FILE *fp, const unsigned long *count, bool json)
{
	bool first = true;

	for (int k = CML_ITEM_CLASSIFIER; k < CML_ITEM_KIND_COUNT; k++) {
		if (count[k] == 0)
			continue;
		if (json)
			fprintf(fp, "%s\"%s\":%lu", first ? "" : ",", cml_kind_name((cml_kind)k),
			        count[k]);
		else
			fprintf(fp, "%s%lu %s", first ? "" : ", ", count[k], plural[k]);
		first = false;
	}
	if (first && !json)
		fputs("no items", fp);
}

static void
print_summary(struct check *c)
{
	unsigned long total[CML_ITEM_KIND_COUNT] = { 0 };
	unsigned long n_problems = 0;

	for (size_t i = 0; i < c->n_files; i++)
		for (int k = 0; k < CML_ITEM_KIND_COUNT; k++)
			total[k] += c->files[i].count[k];
	for (int k = 0; k < P_KIND_COUNT; k++)
		if (k != P_WARNING)
			n_problems += c->problems[k];

	if (c->o->json) {
		printf("{\"files\":[");
		for (size_t i = 0; i < c->n_files; i++) {
			struct file_stats *f = &c->files[i];
			printf("%s{\"name\":", i ? "," : "");
			json_str(stdout, f->name);
			printf(",\"readable\":%s", f->readable ? "true" : "false");
			if (f->csv)
				printf(",\"format\":\"csv\"");
			if (f->version) {
				printf(",\"version\":");
				json_str(stdout, f->version);
			}
			if (f->ns) {
				printf(",\"namespace\":");
				json_str(stdout, f->ns);
			}
			if (f->declared) {
				printf(",\"declared_encoding\":");
				json_str(stdout, f->declared);
			}
			if (f->encoding) {
				printf(",\"encoding\":");
				json_str(stdout, f->encoding);
			}
			if (f->bom)
				printf(",\"bom\":true");
			printf(",\"counts\":{");
			print_counts(stdout, f->count, true);
			printf("}}");
		}
		printf("],\"total\":{");
		print_counts(stdout, total, true);
		printf("},\"problems\":{");
		for (int k = 0; k < P_KIND_COUNT; k++) {
			printf("%s", k ? "," : "");
			json_str(stdout, problem_names[k]);
			printf(":%lu", c->problems[k]);
		}
		printf("}");
		if (c->n_unmodeled > 0) {
			printf(",\"unmodeled\":[");
			for (size_t i = 0; i < c->n_unmodeled; i++) {
				struct unmodeled *u = &c->unmodeled[i];
				printf("%s{\"element\":", i ? "," : "");
				json_str(stdout, u->path);
				printf(",\"count\":%lu,\"file\":", u->count);
				json_str(stdout, u->file);
				printf(",\"line\":%lu}", u->line);
			}
			printf("]");
		}
		printf(",\"usable\":%s}\n", c->status == EXIT_OK ? "true" : "false");
		return;
	}
	for (size_t i = 0; i < c->n_files; i++) {
		struct file_stats *f = &c->files[i];
		printf("%s: ", f->name);
		if (!f->opened) {
			printf("not opened\n");
			continue;
		}
		if (!f->readable && f->count[CML_ITEM_FILE] == 0 && !f->csv) {
			printf("unreadable\n");
			continue;
		}
		if (f->csv)
			printf("CSV, ");
		else
			printf("version %s%s%s%s, encoding %s (declared %s%s), ",
			       f->version ? f->version : "(none)", f->ns ? " (namespace " : "",
			       f->ns ? f->ns : "", f->ns ? ")" : "",
			       f->encoding ? f->encoding : "(unknown)",
			       f->declared ? f->declared : "none", f->bom ? ", BOM" : "");
		print_counts(stdout, f->count, false);
		printf("%s\n", f->readable ? "" : " (unreadable)");
	}
	printf("total: %zu file%s, ", c->n_files, c->n_files == 1 ? "" : "s");
	print_counts(stdout, total, false);
	printf("\nproblems: %lu", n_problems);
	const char *sep = " (";
	for (int k = 0; k < P_KIND_COUNT; k++)
		if (c->problems[k]) {
			printf("%s%lu %s", sep, c->problems[k], problem_names[k]);
			sep = ", ";
		}
	printf("%s\n", sep[0] == ',' ? ")" : "");
	if (!c->any_products && total[CML_ITEM_OFFER] > 0)
		printf("note: no catalog among the inputs: offers were not matched to products\n");
	else if (c->partial_catalog && total[CML_ITEM_OFFER] > 0)
		printf("note: the catalog holds changes only: offers were not matched to products\n");
	if (!c->any_price_types && total[CML_ITEM_OFFER] > 0)
		printf("note: no price types among the inputs: prices were not checked\n");
	for (size_t i = 0; i < c->n_unmodeled; i++)
		printf("note: <%s> has no place in the model and is not read "
		       "(%lu time%s, first at %s:%lu)\n",
		       c->unmodeled[i].path, c->unmodeled[i].count,
		       c->unmodeled[i].count == 1 ? "" : "s", c->unmodeled[i].file,
		       c->unmodeled[i].line);
	printf("%s\n", c->status == EXIT_OK ? "usable" : "NOT usable as it is");
}

static int
run(struct check_opts *o)
{
	struct check c = { .o = o };
	char **inputs = NULL;
	size_t n_inputs = 0;
	cmd_source *src = NULL;


	if (!cmd_expand_inputs(o->inputs, o->n_inputs, &inputs, &n_inputs)) {
		c.status = EXIT_LOCAL;
		goto out;
	}
	/* an empty directory is no usable set */
	if (n_inputs == 0) {
		cmd_error("no input file: %s holds no file to check (hidden files are skipped)",
		          o->n_inputs == 1 ? o->inputs[0] : "the directories given");
		c.status = EXIT_DATA;
		goto out;
	}
	c.files = calloc(n_inputs ? n_inputs : 1, sizeof(*c.files));
	src = cmd_source_new(o->format, on_warning, &c);
	bool sets_ok = (c.seen = cmd_seen_new()) != NULL &&
	               (c.file_offers = cml_idset_new()) != NULL &&
	               (c.price_types = cml_idset_new()) != NULL;
	for (int k = 0; k < CML_ITEM_KIND_COUNT && sets_ok; k++)
		sets_ok = (c.ids[k] = cml_idset_new()) != NULL;
	sets_ok = sets_ok && (c.attach = cml_attach_new(NULL)) != NULL;
	if (c.files == NULL || src == NULL || !sets_ok ||
	    !cmd_source_report_unmodeled(src, on_unmodeled, &c)) {
		cmd_error("out of memory");
		c.status = EXIT_LOCAL;
		goto out;
	}
	for (size_t i = 0; i < n_inputs; i++) {
		struct file_stats *fs = &c.files[i];
		const cml_item *it;
		cml_status st;

		c.cur = (uint32_t)i;
		c.n_files = i + 1;
		fs->name = strcmp(inputs[i], "-") == 0 ? "(stdin)" : inputs[i];
		cml_idset_clear(c.file_offers);
		st = cmd_source_open(src, inputs[i]);
		fs->csv = cmd_source_is_csv(src);
		if (st != CML_OK) {
			cmd_error("%s", cmd_source_errmsg(src));
			cmd_raise(&c.status, cmd_exit_for(st));
			c.problems[P_UNREADABLE]++;
			continue;
		}
		fs->opened = true;
		while ((st = cmd_source_next(src, &it)) == CML_OK || st == CML_ERR_ITEM) {
			if (st == CML_ERR_ITEM) {
				bad_item(&c, cmd_source_errmsg(src));
				continue;
			}
			check_item(&c, it);
			if (it->kind == CML_ITEM_PRODUCT)
				check_files(&c, it);
			if (o->dump && it->kind != CML_ITEM_FILE &&
			    cml_item_dump_json(it, stdout) != CML_OK) {
				st = CML_ERR_IO;
				break;
			}
		}
		if (st < 0) {
			if (st == CML_ERR_IO && o->dump && ferror(stdout)) {
				cmd_error("write error on standard output");
				cmd_raise(&c.status, EXIT_LOCAL);
				goto out;
			}
			cmd_error("%s", cmd_source_errmsg(src));
			cmd_raise(&c.status, cmd_exit_for(st));
			c.problems[P_UNREADABLE]++;
			continue;
		}
		fs->readable = true;
		cmd_verbose("%s: read", fs->name);
	}
	check_end(&c);
	if (c.oom) {
		cmd_error("out of memory: some checks are incomplete");
		cmd_raise(&c.status, EXIT_LOCAL);
	}
	if (!o->dump && cmd_verbosity >= 1)
		print_summary(&c);
out:
	cmd_source_free(src);
	for (size_t i = 0; i < c.n_files; i++) {
		free(c.files[i].version);
		free(c.files[i].declared);
		free(c.files[i].encoding);
		free(c.files[i].ns);
	}
	free(c.files);
	for (int k = 0; k < CML_ITEM_KIND_COUNT; k++)
		cml_idset_free(c.ids[k]);
	cml_idset_free(c.file_offers);
	cmd_seen_free(c.seen);
	cml_idset_free(c.price_types);
	cml_attach_free(c.attach);
	free(c.deferred);
	for (size_t i = 0; i < c.n_unknown; i++)
		free(c.unknown[i].id);
	free(c.unknown);
	for (size_t i = 0; i < c.n_unmodeled; i++) {
		free(c.unmodeled[i].path);
		free(c.unmodeled[i].file);
	}
	free(c.unmodeled);
	cmd_free_list(inputs);
	return c.status;
}

int
main(int argc, char **argv)
{
	struct check_opts o = { 0 };
	int status;

	cmd_init(argv[0]);
	status = check_parse_options(argc, argv, &o);
	if (status == EXIT_OK)
		status = run(&o);
	return cmd_finish(status);
}
