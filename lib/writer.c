/*
 * writer.c: the streaming CommerceML package writer (see writer.h).
 *
 * Every item is written as soon as it is added, into a temporary file of
 * its own section beside the target (".cmlkit-tmp.PID.import.xml.XXXXXX",
so that what a dead run left can be told; cml_writer_recover). A section is
 * the content of one container element: the Товар elements of
 * Каталог/Товары, the Предложение elements of ПакетПредложений/Предложения,
 * the ТипЦены elements of ТипыЦен, and so on, so that items of different
 * kinds may arrive in any order. An item is serialised into a buffer by
 * the code here (escaping, checking and indenting it), then handed in one
 * raw write to the section's xmlTextWriter, set up with the final
 * encoding: the temporary file holds the final bytes. The XML declaration
 * that gives the writer its encoder is a prefix the assembly skips.
 *
 * cml_writer_finish() assembles each final file into another temporary
 * file: XML declaration, the root element, the container elements and,
 * between them, the section bodies copied byte for byte; then it renames
 * every assembled file into place, with a journal (".cmlkit-install")
 * listing the renames while they happen, so that a run killed between two
 * of them is completed by the next and never leaves a mix of packages.
 *
 * With an attach context (writer.h), a product card's files are resolved
 * before it is written (cml_attach_item; a missing one leaves the card)
 * and staged into DIR by pkgfiles.c as the card is written; finish puts
 * them into place under the same journal, before the XML that names them.
 *
 * Two things are kept in memory: the headers (Классификатор, Каталог,
 * ПакетПредложений: a few strings, the last one seen wins) and the groups.
 * With a catalog identity (opts.ident), the headers are completed at
 * finish: what the items' headers lack is taken from the other headers
 * first (a ПакетПредложений's ИдКаталога is the Каталог's Ид), then from
 * the identity, and every catalog file carries its header.
 * Groups may arrive in any order, yet they must be written as a tree
 * (Группа/Группы/Группа...), which needs all of them: there are thousands
 * at most, so they are stored and the tree is written at finish.
 *
 * Every string is checked (UTF-8, characters XML 1.0 allows) while the
 * item is serialised; only a clean item is written, so CML_ERR_VALUE leaves
 * the writer usable. Other errors make it unusable: later calls return
 * CML_ERR_STATE and the message of the first error stays.
 */
#define _GNU_SOURCE /* copy_file_range */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <libxml/encoding.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlwriter.h>

#include "cml/attach.h"
#include "cml/writer.h"
#include "cml_private.h"
#include "pkgfiles.h"

#define X(s) ((const xmlChar *)(s))
#define NONE SIZE_MAX

/* Sections: the temporary files items are streamed into. */
enum {
	SEC_CLS_HEAD,   /* Классификатор: Ид, Наименование, Владелец */
	SEC_GROUPS,     /* Группы (written at finish) */
	SEC_PROPS,      /* Свойства */
	SEC_PRICE_TYPES,/* ТипыЦен */
	SEC_WAREHOUSES, /* Склады */
	SEC_UNITS,      /* ЕдиницыИзмерения */
	SEC_CAT_HEAD,   /* Каталог: Ид, ИдКлассификатора, ... */
	SEC_PRODUCTS,   /* Товары */
	SEC_PKG_HEAD,   /* ПакетПредложений: Ид, Наименование, ... */
	SEC_OFFERS,     /* Предложения (without prices and stock when split) */
	SEC_PRICES,     /* split: Предложения with Ид and Цены */
	SEC_RESTS,      /* split: Предложения with Ид and Остатки */
	SEC_DOCS,       /* Документ (3.1: inside Контейнер) */
	SEC_CPS,        /* Контрагенты */
	SEC_COUNT
};

/* Final files, in the order a site imports them. */
enum {
	F_IMPORT,       /* import.xml, or the split classifier file */
	F_GOODS,        /* split only */
	F_OFFERS,
	F_PRICES,       /* split only */
	F_RESTS,        /* split only */
	F_ORDERS,
	F_CPS,
	F_COUNT
};

static const char *const names_single[F_COUNT] = {
	"import.xml", NULL, "offers.xml", NULL, NULL,
	"orders.xml", "contragents.xml",
};
static const char *const names_split[F_COUNT] = {
	"import___classifier.xml", "import___goods.xml", "offers___offers.xml",
	"prices___prices.xml", "rests___rests.xml",
	"orders.xml", "contragents.xml",
};
static const char *const names_31[F_COUNT] = {
	"classifier.xml", "goods.xml", "offers.xml", "prices.xml", "rests.xml",
	"orders.xml", "contragents.xml",
};

/* Depth of a section's items below the root, for indentation. */
static const size_t sec_depth[SEC_COUNT] = {
	[SEC_CLS_HEAD] = 2, [SEC_GROUPS] = 3, [SEC_PROPS] = 3,
	[SEC_PRICE_TYPES] = 3, [SEC_WAREHOUSES] = 3, [SEC_UNITS] = 3,
	[SEC_CAT_HEAD] = 2, [SEC_PRODUCTS] = 3, [SEC_PKG_HEAD] = 2,
	[SEC_OFFERS] = 3, [SEC_PRICES] = 3, [SEC_RESTS] = 3,
	[SEC_DOCS] = 1, [SEC_CPS] = 2,
};

static const struct {
	const char *name;
	int num;
} schemas[] = {
	{ "2.04", 204 }, { "2.05", 205 }, { "2.06", 206 }, { "2.07", 207 },
	{ "2.08", 208 }, { "2.09", 209 }, { "2.10", 210 }, { "3.1", 301 },
};

/* A temporary file and the XML writer streaming into it. */
typedef struct frag {
	char *path;
	FILE *fp;
	xmlTextWriterPtr x;   /* NULL once closed */
	off_t nbytes;         /* bytes handed to fp */
	off_t body_start;     /* after the declaration */
	off_t body_end;
	int err;              /* errno of the first failed write, or 0 */
	size_t count;         /* items written */
	bool in_container;    /* SEC_DOCS, 3.1: a Контейнер is open */
	unsigned container;
} frag;

/* A group kept for the tree. */
typedef struct gnode {
	cml_group g;
	size_t first;         /* first child, last child, next sibling */
	size_t last;
	size_t next;
	bool has_parent;
	bool done;
} gnode;

/* The names of the open elements, kept by the writer for every emit. */
typedef struct estack {
	const char **v;
	size_t n;
	size_t cap;
} estack;

enum { ST_OPEN, ST_FAILED, ST_DONE };

/* What both writers take from cml_writer_opts. */
typedef struct wconf {
	const char *schema;
	int ver;                      /* 204..210, 301 */
	cml_encoding enc;
	bool bom;
	bool indent;
	char generated[40];
} wconf;

#define ROOT_START_MAX 256
#define ROOT_END "</КоммерческаяИнформация>\n"

struct cml_writer {
	char *dir;
	wconf conf;
	bool split;
	cml_tristate only_changes;
	int state;
	const char *const *names;     /* final file names of the layout */

	frag sec[SEC_COUNT];

	cml_arena cls_arena, cat_arena, pkg_arena;
	cml_classifier cls;
	cml_catalog cat;
	cml_offers_package pkg;
	bool cls_set, cat_set, pkg_set;  /* a header item came */
	cml_tristate cps_only_changes;

	/* the catalog identity (opts.ident) and the headers it completes */
	cml_arena ident_arena;
	cml_catalog_ident ident;
	bool has_ident;
	bool cls_head, cat_head, pkg_head; /* written, from an item or ident */

	cml_arena group_arena;
	gnode *groups;
	size_t n_groups, cap_groups;

	bool any_catalog;             /* a non-document item was added */
	cml_buf scratch;              /* an offer id made of its parts */
	cml_buf item;                 /* the item being serialised */
	estack stk;                   /* its open elements */

	cml_attach *attach;           /* not owned; NULL: files not looked at */
	cml_pkgfiles *pf;             /* the files staged, with attach */
	cml_arena attach_arena;       /* a card copied without missing files */

	char *final_tmp[F_COUNT];     /* assembled, not yet renamed */
	const char *files[F_COUNT + 1];
	const char **all_files;       /* with attach: the files, then the XML */
	char errmsg[CML_ERRMSG_MAX];
};

/* ---- errors ---- */

static cml_status set_err(cml_writer *w, cml_status st, const char *fmt, ...)
    CML_PRINTF(3, 4);

static cml_status
set_err(cml_writer *w, cml_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cml_msg_vset(w->errmsg, sizeof(w->errmsg), fmt, ap);
	va_end(ap);
	return st;
}

static cml_status
io_err(cml_writer *w, const char *path, int err)
{
	return set_err(w, CML_ERR_IO, "%s: %s", path, strerror(err ? err : EIO));
}

/* libxml2 refused a write: out of memory, or a bug of ours. */
static cml_status
xml_err(cml_writer *w, const char *path)
{
	return set_err(w, CML_ERR_IO, "%s: the XML writer failed", path);
}

static cml_status
nomem(cml_writer *w)
{
	return set_err(w, CML_ERR_NOMEM, "out of memory");
}

/* ---- strings ---- */

static bool
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/*
 * The UTF-8 sequence at p, whose lead byte is not ASCII: its length, or
 * 0 with *why set when it is not valid UTF-8 or not an XML 1.0 character.
 */
static size_t
utf8_seq(const unsigned char *p, const char **why)
{
	unsigned long cp;
	size_t n = cml_utf8_decode(p, SIZE_MAX, &cp);

	if (n == 0) {
		*why = "invalid UTF-8";
		return 0;
	}
	if (cp == 0xFFFE || cp == 0xFFFF) {
		*why = "character not allowed in XML";
		return 0;
	}
	return n;
}

static const char bad_control[] = "control character not allowed in XML";

/* NULL when s may be written as XML 1.0 text, else the reason why not. */
static const char *
check_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	const char *why = NULL;

	while (*p != '\0') {
		size_t n;

		if (*p < 0x80) {
			if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
				return bad_control;
			p++;
			continue;
		}
		if ((n = utf8_seq(p, &why)) == 0)
			return why;
		p += n;
	}
	return NULL;
}

/* dir + sep + name + suffix, allocated. */
static char *
path_join(const char *dir, const char *sep, const char *name, const char *suffix)
{
	size_t a = strlen(dir), b = strlen(sep), c = strlen(name);
	size_t d = strlen(suffix);
	char *p = cml_malloc(a + b + c + d + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, dir, a);
	memcpy(p + a, sep, b);
	memcpy(p + a + b, name, c);
	memcpy(p + a + b + c, suffix, d + 1);
	return p;
}

/* The name of a temporary file of this process in dir: DIR/.cmlkit-tmp.PID.NAME.XXXXXX,
 * so that a later run can tell the files of a dead run (cml_writer_recover) and a
 * signal handler those of its own process. */
static char *
tmp_name(const char *dir, const char *name)
{
	char mid[64];

	cml_msg_set(mid, sizeof(mid), "/%s%ld.", CML_WRITER_TMP_PREFIX, (long)getpid());
	return path_join(dir, mid, name, ".XXXXXX");
}

/* ---- emitting elements ----
 *
 * An item is serialised into a buffer, every string escaped and checked
 * (UTF-8, characters XML 1.0 allows) on the way; a clean item is then
 * handed to its section's xmlTextWriter in one raw write, which encodes
 * it. The escaping is the one libxml2's writer used: & < > " and CR in
 * text, TAB and LF too in attribute values; the encoder writes the
 * characters the code page lacks as character references.
 *
 * The emit functions never fail by return: the first failure is kept in
 * the emit and every later call does nothing. With b == NULL they only
 * check the strings.
 *
 * Layout: with indent, libxml2's: one element per line, a tab per level,
 * an element with text on one line. Without, an item is one line; in the
 * group tree each Группа starts a line and a Группы with children ends
 * on a line of its own, so that line numbers point at an item.
 */

typedef struct emit {
	cml_buf *b;           /* NULL: check the strings only */
	estack *stk;
	int ver;
	bool indent;
	size_t base;          /* indent: depth of the outer element */
	bool open;            /* a start tag waits for its '>' */
	bool doindent;        /* indent: an end tag goes on a line of its own */
	bool failed;
	bool nomem;           /* the buffer could not grow */
	const char *bad_elem; /* the element or attribute of a bad string */
	const char *bad_why;
} emit;

static inline void
e_put(emit *e, const char *s, size_t n)
{
	cml_buf *b = e->b;

	if (b->len + n < b->cap) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
	} else if (!cml_buf_append(b, s, n)) {
		e->failed = true;
		e->nomem = true;
	}
}

static void
e_name(emit *e, const char *name)
{
	e_put(e, name, strlen(name));
}

static void
e_indent(emit *e, size_t depth)
{
	static const char tabs[] = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";

	while (depth > 0) {
		size_t k = depth < sizeof(tabs) - 1 ? depth : sizeof(tabs) - 1;

		e_put(e, tabs, k);
		depth -= k;
	}
}

static void
e_bad(emit *e, const char *name, const char *why)
{
	e->failed = true;
	e->bad_elem = name;
	e->bad_why = why;
}

static bool
e_check(emit *e, const char *name, const char *s)
{
	const char *why;

	if (e->failed)
		return false;
	if ((why = check_text(s)) != NULL) {
		e_bad(e, name, why);
		return false;
	}
	return true;
}

/* Byte classes for the escaping. */
enum {
	C_END = 1,      /* NUL */
	C_BAD = 2,      /* a control character XML 1.0 forbids */
	C_TEXT = 4,     /* escaped in text */
	C_ATTR = 8,     /* escaped in attribute values */
	C_HIGH = 16,    /* part of a multibyte character */
};

#define C_BOTH (C_TEXT | C_ATTR)
#define C_HIGH8 C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH
#define C_HIGH32 C_HIGH8, C_HIGH8, C_HIGH8, C_HIGH8

static const unsigned char byte_class[256] = {
	C_END, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD,
	C_BAD, C_ATTR, C_ATTR, C_BAD, C_BAD, C_BOTH, C_BAD, C_BAD,
	C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD,
	C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD, C_BAD,
	['"'] = C_BOTH, ['&'] = C_BOTH, ['<'] = C_BOTH, ['>'] = C_BOTH,
	[0x80] = C_HIGH32, C_HIGH32, C_HIGH32, C_HIGH32,
};

/* Appends s escaped, checking it; name is for the message. */
static void
e_escape(emit *e, const char *name, const char *s, bool attr)
{
	const unsigned char *p = (const unsigned char *)s;
	const unsigned char *run = p;
	const unsigned mask = C_END | C_BAD | C_HIGH | (attr ? C_ATTR : C_TEXT);
	const char *why = NULL;

	for (;;) {
		const char *ent;
		size_t n;

		while ((byte_class[*p] & mask) == 0)
			p++;
		if (*p >= 0x80) {
			/* Cyrillic, most of the text, without a call */
			if (*p >= 0xC2 && *p <= 0xDF && (p[1] & 0xC0) == 0x80) {
				p += 2;
				continue;
			}
			if ((n = utf8_seq(p, &why)) == 0) {
				e_bad(e, name, why);
				return;
			}
			p += n;
			continue;
		}
		if (p > run)
			e_put(e, (const char *)run, (size_t)(p - run));
		switch (*p) {
		case '\0':
			return;
		case '&': ent = "&amp;"; break;
		case '<': ent = "&lt;"; break;
		case '>': ent = "&gt;"; break;
		case '"': ent = "&quot;"; break;
		case '\r': ent = "&#13;"; break;
		case '\n': ent = "&#10;"; break;
		case '\t': ent = "&#9;"; break;
		default:
			e_bad(e, name, bad_control);
			return;
		}
		e_put(e, ent, strlen(ent));
		run = ++p;
	}
}

/* Ends a pending start tag: its content follows. */
static void
e_close_tag(emit *e)
{
	if (e->open) {
		e->open = false;
		e_put(e, e->indent ? ">\n" : ">", e->indent ? 2 : 1);
	}
}

/* <name, attributes to follow; nl: on a new line without indent. */
static void
e_start_nl(emit *e, const char *name, bool nl)
{
	estack *k = e->stk;

	if (e->b == NULL || e->failed)
		return;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		const char **v;

		if (cap > SIZE_MAX / sizeof(*v) ||
		    (v = cml_realloc(k->v, cap * sizeof(*v))) == NULL) {
			e->failed = true;
			e->nomem = true;
			return;
		}
		k->v = v;
		k->cap = cap;
	}
	e_close_tag(e);
	if (e->indent)
		e_indent(e, e->base + k->n);
	else if (nl)
		e_put(e, "\n", 1);
	e_put(e, "<", 1);
	e_name(e, name);
	k->v[k->n++] = name;
	e->open = true;
}

static void
e_start(emit *e, const char *name)
{
	e_start_nl(e, name, false);
}

/* The end of the open element; nl: without indent, on a new line if
 * the element has content. */
static void
e_end_nl(emit *e, bool nl)
{
	const char *name;

	if (e->b == NULL || e->failed)
		return;
	name = e->stk->v[--e->stk->n];
	if (e->open) {
		e->open = false;
		e_put(e, "/>", 2);
	} else {
		if (e->indent) {
			if (e->doindent)
				e_indent(e, e->base + e->stk->n);
		} else if (nl) {
			e_put(e, "\n", 1);
		}
		e_put(e, "</", 2);
		e_name(e, name);
		e_put(e, ">", 1);
	}
	if (e->indent)
		e_put(e, "\n", 1);
	e->doindent = true;
}

static void
e_end(emit *e)
{
	e_end_nl(e, false);
}

static void
e_attr(emit *e, const char *name, const char *v)
{
	if (empty(v) || e->failed)
		return;
	if (e->b == NULL) {
		e_check(e, name, v);
		return;
	}
	e_put(e, " ", 1);
	e_name(e, name);
	e_put(e, "=\"", 2);
	e_escape(e, name, v, true);
	e_put(e, "\"", 1);
}

/* Text content of the open element. */
static void
e_content(emit *e, const char *name, const char *v)
{
	if (empty(v) || e->failed)
		return;
	if (e->b == NULL) {
		e_check(e, name, v);
		return;
	}
	if (e->open) {
		e->open = false;
		e_put(e, ">", 1);
	}
	e_escape(e, name, v, false);
	e->doindent = false;
}

/* <name>v</name>, nothing for a NULL or empty v. */
static void
e_text(emit *e, const char *name, const char *v)
{
	size_t n;

	if (empty(v) || e->failed)
		return;
	if (e->b == NULL) {
		e_check(e, name, v);
		return;
	}
	e_close_tag(e);
	if (e->indent)
		e_indent(e, e->base + e->stk->n);
	n = strlen(name);
	e_put(e, "<", 1);
	e_put(e, name, n);
	e_put(e, ">", 1);
	e_escape(e, name, v, false);
	e_put(e, "</", 2);
	e_put(e, name, n);
	e_put(e, e->indent ? ">\n" : ">", e->indent ? 2 : 1);
	e->doindent = true;
}

static void
e_tristate(emit *e, const char *name, cml_tristate t)
{
	if (t == CML_TRUE)
		e_text(e, name, "true");
	else if (t == CML_FALSE)
		e_text(e, name, "false");
}

static void
e_flag(emit *e, const char *name, bool b)
{
	if (b)
		e_text(e, name, "true");
}

/* ---- the shapes ---- */

/* (name, value) pairs as list/elem(kname, vname). */
static void
put_pairs(emit *e, const char *list, const char *elem, const char *kname,
    const char *vname, const cml_pair *p, size_t n)
{
	if (n == 0)
		return;
	if (list != NULL)
		e_start(e, list);
	for (size_t i = 0; i < n; i++) {
		e_start(e, elem);
		e_text(e, kname, p[i].name);
		e_text(e, vname, p[i].value);
		e_end(e);
	}
	if (list != NULL)
		e_end(e);
}

static void
put_requisites(emit *e, const cml_pair *p, size_t n)
{
	put_pairs(e, "ЗначенияРеквизитов", "ЗначениеРеквизита", "Наименование",
	    "Значение", p, n);
}

static void
put_characteristics(emit *e, const cml_pair *p, size_t n)
{
	put_pairs(e, "ХарактеристикиТовара", "ХарактеристикаТовара",
	    "Наименование", "Значение", p, n);
}

static void
put_contacts(emit *e, const cml_pair *p, size_t n)
{
	put_pairs(e, "Контакты", "Контакт", "Тип", "Значение", p, n);
}

/* БазоваяЕдиница: attributes and text in 2.0x, the bare code in 3.1. */
static void
put_unit_ref(emit *e, const char *elem, const cml_unit_ref *u)
{
	if (e->ver >= 300) {
		e_text(e, elem, u->code);
		return;
	}
	if (empty(u->code) && empty(u->name) && empty(u->full_name) &&
	    empty(u->intl) && u->n_conversions == 0)
		return;
	e_start(e, elem);
	e_attr(e, "Код", u->code);
	e_attr(e, "НаименованиеПолное", u->full_name);
	e_attr(e, "МеждународноеСокращение", u->intl);
	e_content(e, elem, u->name);
	for (size_t i = 0; i < u->n_conversions; i++) {
		/* mixed content, as 1C writes it */
		e_start(e, "Пересчет");
		e_text(e, "Единица", u->conversions[i].unit);
		e_text(e, "Коэффициент", u->conversions[i].coefficient);
		e_end(e);
	}
	e_end(e);
}

static void
put_components(emit *e, const cml_component *c, size_t n)
{
	if (n == 0)
		return;
	e_start(e, "Комплектующие");
	for (size_t i = 0; i < n; i++) {
		e_start(e, "Комплектующее");
		e_text(e, "Ид", c[i].id);
		e_text(e, "Наименование", c[i].name);
		e_text(e, "Количество", c[i].quantity);
		e_end(e);
	}
	e_end(e);
}

static void
put_prop_values(emit *e, const cml_prop_value *v, size_t n)
{
	if (n == 0)
		return;
	e_start(e, "ЗначенияСвойств");
	for (size_t i = 0; i < n; i++) {
		e_start(e, "ЗначенияСвойства");
		e_text(e, "Ид", v[i].id);
		e_text(e, "Значение", v[i].value);
		e_end(e);
	}
	e_end(e);
}

static void
put_owner(emit *e, const char *id, const char *name)
{
	if (empty(id) && empty(name))
		return;
	e_start(e, "Владелец");
	e_text(e, "Ид", id);
	e_text(e, "Наименование", name);
	e_end(e);
}

static void
put_tax(emit *e, const char *elem, const cml_tax *t)
{
	e_start(e, elem);
	e_text(e, "Наименование", t->name);
	e_tristate(e, "УчтеноВСумме", t->in_sum);
	e_text(e, "Сумма", t->sum);
	e_text(e, "Ставка", t->rate);
	e_end(e);
}

/* A line's Налоги/Налог (the tax charged) and СтавкиНалогов/СтавкаНалога
 * (the rates), each as it was read. */
static void
put_line_taxes(emit *e, const cml_doc_line *l)
{
	if (l->n_taxes > 0) {
		e_start(e, "Налоги");
		for (size_t i = 0; i < l->n_taxes; i++)
			put_tax(e, "Налог", &l->taxes[i]);
		e_end(e);
	}
	if (l->n_tax_rates > 0) {
		e_start(e, "СтавкиНалогов");
		for (size_t i = 0; i < l->n_tax_rates; i++)
			put_tax(e, "СтавкаНалога", &l->tax_rates[i]);
		e_end(e);
	}
}

static void
put_discounts(emit *e, const cml_discount *d, size_t n)
{
	if (n == 0)
		return;
	e_start(e, "Скидки");
	for (size_t i = 0; i < n; i++) {
		e_start(e, "Скидка");
		e_text(e, "Наименование", d[i].name);
		e_text(e, "Сумма", d[i].sum);
		e_text(e, "Процент", d[i].percent);
		e_tristate(e, "УчтеноВСумме", d[i].in_sum);
		e_end(e);
	}
	e_end(e);
}

static void
put_address(emit *e, const char *elem, const cml_address *a)
{
	if (empty(a->presentation) && a->n_fields == 0)
		return;
	e_start(e, elem);
	e_text(e, "Представление", a->presentation);
	put_pairs(e, NULL, "АдресноеПоле", "Тип", "Значение", a->fields,
	    a->n_fields);
	e_end(e);
}

static void
put_counterparty(emit *e, const cml_counterparty *c)
{
	e_start(e, "Контрагент");
	e_text(e, "Ид", c->id);
	e_text(e, "НомерВерсии", c->version);
	e_flag(e, "ПометкаУдаления", c->deleted);
	e_text(e, "Наименование", c->name);
	e_text(e, "ОфициальноеНаименование", c->official_name);
	e_text(e, "ПолноеНаименование", c->full_name);
	e_text(e, "Фамилия", c->last_name);
	e_text(e, "Имя", c->first_name);
	e_text(e, "Отчество", c->middle_name);
	e_text(e, "Роль", c->role);
	e_text(e, "ИНН", c->inn);
	e_text(e, "КПП", c->kpp);
	e_text(e, "ОКПО", c->okpo);
	put_address(e, "АдресРегистрации", &c->reg_address);
	put_address(e, "ЮридическийАдрес", &c->legal_address);
	put_address(e, "Адрес", &c->address);
	put_contacts(e, c->contacts, c->n_contacts);
	if (c->n_representatives > 0) {
		e_start(e, "Представители");
		for (size_t i = 0; i < c->n_representatives; i++) {
			const cml_representative *r = &c->representatives[i];

			e_start(e, "Представитель");
			e_text(e, "Отношение", r->relation);
			e_text(e, "Ид", r->id);
			e_text(e, "Наименование", r->name);
			put_contacts(e, r->contacts, r->n_contacts);
			e_end(e);
		}
		e_end(e);
	}
	if (c->n_accounts > 0) {
		e_start(e, "РасчетныеСчета");
		for (size_t i = 0; i < c->n_accounts; i++) {
			const cml_bank_account *a = &c->accounts[i];

			e_start(e, "РасчетныйСчет");
			e_text(e, "НомерСчета", a->number);
			if (!empty(a->bank_name) || !empty(a->bank_corr_account) ||
			    !empty(a->bank_bik) || !empty(a->bank_address)) {
				e_start(e, "Банк");
				e_text(e, "Наименование", a->bank_name);
				e_text(e, "СчетКорреспондентский",
				    a->bank_corr_account);
				e_text(e, "БИК", a->bank_bik);
				if (!empty(a->bank_address)) {
					e_start(e, "Адрес");
					e_text(e, "Представление",
					    a->bank_address);
					e_end(e);
				}
				e_end(e);
			}
			e_end(e);
		}
		e_end(e);
	}
	e_end(e);
}

static void
put_cls_head(emit *e, const cml_classifier *c)
{
	e_text(e, "Ид", c->id);
	e_text(e, "Наименование", c->name);
	put_owner(e, c->owner_id, c->owner_name);
}

static void
put_cat_head(emit *e, const cml_catalog *c)
{
	e_text(e, "Ид", c->id);
	e_text(e, "ИдКлассификатора", c->classifier_id);
	e_text(e, "Наименование", c->name);
	put_owner(e, c->owner_id, c->owner_name);
	e_text(e, "Описание", c->description);
}

static void
put_pkg_head(emit *e, const cml_offers_package *p)
{
	e_text(e, "Ид", p->id);
	e_text(e, "Наименование", p->name);
	e_text(e, "ИдКаталога", p->catalog_id);
	e_text(e, "ИдКлассификатора", p->classifier_id);
	put_owner(e, p->owner_id, p->owner_name);
}

/* A group without its subgroups (the tree is made at finish). */
static void
put_group_fields(emit *e, const cml_group *g)
{
	e_text(e, "Ид", g->id);
	e_text(e, "НомерВерсии", g->version);
	e_flag(e, "ПометкаУдаления", g->deleted);
	e_text(e, "Наименование", g->name);
	e_text(e, "Описание", g->description);
}

static void
put_property(emit *e, const cml_property *p)
{
	e_start(e, "Свойство");
	e_text(e, "Ид", p->id);
	e_text(e, "НомерВерсии", p->version);
	e_flag(e, "ПометкаУдаления", p->deleted);
	e_text(e, "Наименование", p->name);
	e_text(e, "ТипЗначений", p->value_type);
	e_text(e, "Тип", p->type);
	e_tristate(e, "Обязательное", p->required);
	e_tristate(e, "Множественное", p->multiple);
	e_tristate(e, "ДляТоваров", p->for_products);
	e_tristate(e, "ДляПредложений", p->for_offers);
	e_tristate(e, "ДляДокументов", p->for_documents);
	if (p->n_variants > 0) {
		e_start(e, "ВариантыЗначений");
		for (size_t i = 0; i < p->n_variants; i++) {
			e_start(e, "Справочник");
			e_text(e, "ИдЗначения", p->variants[i].id);
			e_text(e, "Значение", p->variants[i].value);
			e_end(e);
		}
		e_end(e);
	}
	e_end(e);
}

static void
put_price_type(emit *e, const cml_price_type *p)
{
	e_start(e, "ТипЦены");
	e_text(e, "Ид", p->id);
	e_text(e, "Наименование", p->name);
	e_text(e, "Валюта", p->currency);
	if (!empty(p->tax_name) || p->tax_in_sum != CML_UNSET ||
	    !empty(p->tax_excise)) {
		e_start(e, "Налог");
		e_text(e, "Наименование", p->tax_name);
		e_tristate(e, "УчтеноВСумме", p->tax_in_sum);
		e_text(e, "Акциз", p->tax_excise);
		e_end(e);
	}
	e_end(e);
}

static void
put_warehouse(emit *e, const cml_warehouse *s)
{
	e_start(e, "Склад");
	e_text(e, "Ид", s->id);
	e_text(e, "Наименование", s->name);
	if (!empty(s->address)) {
		e_start(e, "Адрес");
		e_text(e, "Представление", s->address);
		e_end(e);
	}
	e_text(e, "Комментарий", s->comment);
	put_contacts(e, s->contacts, s->n_contacts);
	e_end(e);
}

static void
put_unit(emit *e, const cml_unit *u)
{
	e_start(e, "ЕдиницаИзмерения");
	e_text(e, "Ид", u->id);
	e_text(e, "Код", u->code);
	e_text(e, "НаименованиеКраткое", u->short_name);
	e_text(e, "НаименованиеПолное", u->full_name);
	e_text(e, "МеждународноеСокращение", u->intl);
	e_end(e);
}

/*
 * The deletion and status markers say what the item says, so that a
 * reader gets the same status and deleted flag back: a status is written
 * as Статус (an attribute of Товар, an element of Предложение, as 1C
 * writes them), a deletion without that status as ПометкаУдаления, and
 * in 2.09+ (where ПометкаУдаления is the form) every deletion gets it.
 * Bitrix reads both forms in every version.
 */
static const char *
status_str(cml_item_status st)
{
	switch (st) {
	case CML_STATUS_NEW: return "Новый";
	case CML_STATUS_CHANGED: return "Изменен";
	case CML_STATUS_DELETED: return "Удален";
	default: return NULL;
	}
}

static bool
delete_mark(const emit *e, bool deleted, cml_item_status st)
{
	return deleted && (st != CML_STATUS_DELETED || e->ver >= 209);
}

static void
put_product(emit *e, const cml_product *p)
{
	e_start(e, "Товар");
	e_attr(e, "Статус", status_str(p->status));
	e_text(e, "Ид", p->id);
	e_text(e, "НомерВерсии", p->version);
	e_flag(e, "ПометкаУдаления", delete_mark(e, p->deleted, p->status));
	e_text(e, "Штрихкод", p->barcode);
	e_text(e, "Артикул", p->article);
	e_text(e, "Наименование", p->name);
	e_text(e, "ПолноеНаименование", p->full_name);
	put_unit_ref(e, "БазоваяЕдиница", &p->unit);
	if (p->n_groups > 0) {
		e_start(e, "Группы");
		for (size_t i = 0; i < p->n_groups; i++)
			e_text(e, "Ид", p->groups[i]);
		e_end(e);
	}
	e_text(e, "Категория", p->category);
	e_text(e, "Описание", p->description);
	for (size_t i = 0; i < p->n_pictures; i++)
		e_text(e, "Картинка", p->pictures[i]);
	e_text(e, "Страна", p->country);
	if (!empty(p->manufacturer_id) || !empty(p->manufacturer_name)) {
		e_start(e, "Изготовитель");
		e_text(e, "Ид", p->manufacturer_id);
		e_text(e, "Наименование", p->manufacturer_name);
		e_end(e);
	}
	put_prop_values(e, p->props, p->n_props);
	if (p->n_taxes > 0) {
		e_start(e, "СтавкиНалогов");
		for (size_t i = 0; i < p->n_taxes; i++) {
			e_start(e, "СтавкаНалога");
			e_text(e, "Наименование", p->taxes[i].name);
			e_text(e, "Ставка", p->taxes[i].rate);
			e_tristate(e, "УчтеноВСумме", p->taxes[i].in_sum);
			e_text(e, "Сумма", p->taxes[i].sum);
			e_end(e);
		}
		e_end(e);
	}
	put_characteristics(e, p->characteristics, p->n_characteristics);
	put_requisites(e, p->requisites, p->n_requisites);
	e_text(e, "Вес", p->weight);
	put_components(e, p->components, p->n_components);
	e_text(e, "Геометка", p->geotag);
	e_end(e);
}

/* Which part of an offer goes where. */
enum { PART_ALL, PART_CARD, PART_PRICES, PART_RESTS };

static bool
offer_has_prices(const cml_offer *o)
{
	return o->has_prices || o->n_prices > 0;
}

static bool
offer_has_rests(const cml_offer *o)
{
	return !empty(o->quantity) || o->n_stocks > 0;
}

static bool
offer_has_card(const cml_offer *o)
{
	return !empty(o->version) || !empty(o->barcode) || !empty(o->article) ||
	    !empty(o->name) || !empty(o->unit.code) || !empty(o->unit.name) ||
	    !empty(o->unit.full_name) || !empty(o->unit.intl) ||
	    o->n_characteristics > 0 || o->n_props > 0 || o->deleted ||
	    o->n_components > 0 || o->unit.n_conversions > 0 ||
	    !empty(o->geotag) || o->status != CML_STATUS_NONE;
}

static void
put_offer(emit *e, const cml_offer *o, const char *id, int part)
{
	bool card = part == PART_ALL || part == PART_CARD;

	e_start(e, "Предложение");
	e_text(e, "Ид", id);
	if (card) {
		e_text(e, "НомерВерсии", o->version);
		e_flag(e, "ПометкаУдаления",
		    delete_mark(e, o->deleted, o->status));
		e_text(e, "Штрихкод", o->barcode);
		e_text(e, "Артикул", o->article);
		e_text(e, "Наименование", o->name);
		put_unit_ref(e, "БазоваяЕдиница", &o->unit);
		put_characteristics(e, o->characteristics,
		    o->n_characteristics);
		put_prop_values(e, o->props, o->n_props);
		put_components(e, o->components, o->n_components);
		e_text(e, "Геометка", o->geotag);
	}
	if ((part == PART_ALL || part == PART_PRICES) && offer_has_prices(o)) {
		e_start(e, "Цены");
		for (size_t i = 0; i < o->n_prices; i++) {
			const cml_price *p = &o->prices[i];

			e_start(e, "Цена");
			e_text(e, "Представление", p->presentation);
			e_text(e, "ИдТипаЦены", p->type_id);
			e_text(e, "ЦенаЗаЕдиницу", p->value);
			e_text(e, "Валюта", p->currency);
			e_text(e, "Единица", p->unit);
			e_text(e, "Коэффициент", p->coefficient);
			if (!empty(p->tax_name) || p->tax_in_sum != CML_UNSET) {
				e_start(e, "Налог");
				e_text(e, "Наименование", p->tax_name);
				e_tristate(e, "УчтеноВСумме", p->tax_in_sum);
				e_end(e);
			}
			e_end(e);
		}
		e_end(e);
	}
	if ((part == PART_ALL || part == PART_RESTS) && o->has_stocks && o->n_stocks == 0 &&
	    !empty(o->quantity)) {
		/* 3.1's bare total, <Остатки><Остаток><Количество>: written
		 * back in that form, so the offer still says it carries its
		 * stock (a plain <Количество> does not). */
		e_start(e, "Остатки");
		e_start(e, "Остаток");
		e_text(e, "Количество", o->quantity);
		e_end(e);
		e_end(e);
	} else if (part == PART_ALL) {
		e_text(e, "Количество", o->quantity);
		for (size_t i = 0; i < o->n_stocks; i++) {
			e_start(e, "Склад");
			e_attr(e, "ИдСклада", o->stocks[i].warehouse_id);
			e_attr(e, "КоличествоНаСкладе", o->stocks[i].quantity);
			e_end(e);
		}
	} else if (part == PART_RESTS) {
		e_text(e, "Количество", o->quantity);
		if (o->n_stocks > 0) {
			e_start(e, "Остатки");
			for (size_t i = 0; i < o->n_stocks; i++) {
				e_start(e, "Остаток");
				e_start(e, "Склад");
				e_text(e, "Ид", o->stocks[i].warehouse_id);
				e_text(e, "Количество", o->stocks[i].quantity);
				e_end(e);
				e_end(e);
			}
			e_end(e);
		}
	}
	if (card)
		e_text(e, "Статус", status_str(o->status));
	e_end(e);
}

/* A 3.1 document line's unit: the element form (Код,
 * НаименованиеКраткое, НаименованиеПолное, МеждународноеСокращение), for
 * a line carries its unit's names, unlike a product that refers to the
 * classifier's ЕдиницыИзмерения by code. */
static bool
unit_empty(const cml_unit_ref *u)
{
	return empty(u->code) && empty(u->name) && empty(u->full_name) &&
	    empty(u->intl) && u->n_conversions == 0;
}

static void
put_line_unit_31(emit *e, const char *elem, const cml_unit_ref *u)
{
	if (empty(u->name) && empty(u->full_name) && empty(u->intl) &&
	    u->n_conversions == 0) {
		e_text(e, elem, u->code);
		return;
	}
	e_start(e, elem);
	e_text(e, "Код", u->code);
	e_text(e, "НаименованиеКраткое", u->name);
	e_text(e, "НаименованиеПолное", u->full_name);
	e_text(e, "МеждународноеСокращение", u->intl);
	for (size_t i = 0; i < u->n_conversions; i++) {
		e_start(e, "Пересчет");
		e_text(e, "Единица", u->conversions[i].unit);
		e_text(e, "Коэффициент", u->conversions[i].coefficient);
		e_end(e);
	}
	e_end(e);
}

static void
put_doc_line(emit *e, const cml_doc_line *l)
{
	e_start(e, "Товар");
	e_text(e, "Ид", l->id);
	e_text(e, "ИдКаталога", l->catalog_id);
	e_text(e, "Артикул", l->article);
	e_text(e, "Наименование", l->name);
	if (e->ver >= 300 && unit_empty(&l->line_unit)) {
		/* 3.1 as 1C writes a line: one Единица with its names */
		put_line_unit_31(e, "Единица", &l->unit);
	} else if (e->ver >= 300) {
		put_line_unit_31(e, "БазоваяЕдиница", &l->unit);
		put_line_unit_31(e, "Единица", &l->line_unit);
	} else {
		put_unit_ref(e, "БазоваяЕдиница", &l->unit);
		put_unit_ref(e, "Единица", &l->line_unit);
	}
	if (l->n_groups > 0) {
		e_start(e, "Группы");
		for (size_t i = 0; i < l->n_groups; i++)
			e_text(e, "Ид", l->groups[i]);
		e_end(e);
	}
	e_text(e, e->ver >= 300 ? "Цена" : "ЦенаЗаЕдиницу", l->price);
	e_text(e, "Количество", l->quantity);
	e_text(e, "Сумма", l->sum);
	e_text(e, "Коэффициент", l->coefficient);
	put_characteristics(e, l->characteristics, l->n_characteristics);
	put_requisites(e, l->requisites, l->n_requisites);
	put_line_taxes(e, l);
	put_discounts(e, l->discounts, l->n_discounts);
	e_end(e);
}

static void
put_document(emit *e, const cml_document *d)
{
	e_start(e, "Документ");
	e_text(e, "Ид", d->id);
	e_text(e, "Номер", d->number);
	e_text(e, "Дата", d->date);
	e_text(e, "ХозОперация", d->operation);
	e_text(e, "Роль", d->role);
	e_text(e, "Валюта", d->currency);
	e_text(e, "Курс", d->rate);
	e_text(e, "Сумма", d->sum);
	if (d->n_counterparties > 0) {
		e_start(e, "Контрагенты");
		for (size_t i = 0; i < d->n_counterparties; i++)
			put_counterparty(e, &d->counterparties[i]);
		e_end(e);
	}
	e_text(e, "Время", d->time);
	e_text(e, "СрокПлатежа", d->due_date);
	e_text(e, "Комментарий", d->comment);
	e_text(e, "Основание", d->basis);
	e_text(e, "НомерВерсии", d->version);
	e_flag(e, "ПометкаУдаления", d->deleted);
	e_text(e, "Номер1С", d->number_1c);
	e_text(e, "Дата1С", d->date_1c);
	if (d->n_taxes > 0) {
		e_start(e, "Налоги");
		for (size_t i = 0; i < d->n_taxes; i++)
			put_tax(e, "Налог", &d->taxes[i]);
		e_end(e);
	}
	put_discounts(e, d->discounts, d->n_discounts);
	if (d->n_warehouses > 0) {
		e_start(e, "Склады");
		for (size_t i = 0; i < d->n_warehouses; i++) {
			e_start(e, "Склад");
			e_text(e, "Ид", d->warehouses[i].id);
			e_text(e, "Наименование", d->warehouses[i].name);
			e_end(e);
		}
		e_end(e);
	}
	if (d->n_lines > 0) {
		e_start(e, "Товары");
		for (size_t i = 0; i < d->n_lines; i++)
			put_doc_line(e, &d->lines[i]);
		e_end(e);
	}
	put_requisites(e, d->requisites, d->n_requisites);
	if (d->n_payments > 0) {
		e_start(e, "Оплаты");
		for (size_t i = 0; i < d->n_payments; i++) {
			const cml_payment *p = &d->payments[i];

			e_start(e, "Оплата");
			e_text(e, "НомерДокумента", p->number);
			e_text(e, "НомерТранзакции", p->transaction);
			e_text(e, "ДатаОплаты", p->date);
			e_text(e, "СуммаОплаты", p->sum);
			e_text(e, "СпособОплаты", p->method);
			e_text(e, "ИдСпособаОплаты", p->method_id);
			e_end(e);
		}
		e_end(e);
	}
	e_end(e);
}

/* ---- sections ---- */

static int
frag_write(void *ctx, const char *buf, int len)
{
	frag *f = ctx;

	/* Never report a failure to libxml2 (it would print it): the errno
	 * is kept and checked after each item. */
	if (len > 0 && f->err == 0) {
		errno = 0;
		if (fwrite(buf, 1, (size_t)len, f->fp) != (size_t)len)
			f->err = errno ? errno : EIO;
	}
	if (len > 0)
		f->nbytes += len;
	return len;
}

static int
frag_noclose(void *ctx)
{
	(void)ctx;
	return 0;
}

/* Closes and removes a section's file. */
static void
frag_discard(frag *f)
{
	if (f->x != NULL)
		xmlFreeTextWriter(f->x);
	if (f->fp != NULL)
		fclose(f->fp);
	if (f->path != NULL) {
		unlink(f->path);
		cml_free(f->path);
	}
	memset(f, 0, sizeof(*f));
}

static const char *
enc_name(const cml_writer *w)
{
	return w->conf.enc == CML_ENC_WINDOWS_1251 ? "windows-1251" : "UTF-8";
}

static int
sec_file(const cml_writer *w, int sec)
{
	switch (sec) {
	case SEC_PRICE_TYPES:
	case SEC_WAREHOUSES:
		return w->conf.ver >= 209 ? F_IMPORT : F_OFFERS;
	case SEC_CAT_HEAD:
	case SEC_PRODUCTS:
		return w->split ? F_GOODS : F_IMPORT;
	case SEC_PKG_HEAD:
	case SEC_OFFERS:
		return F_OFFERS;
	case SEC_PRICES:
		return F_PRICES;
	case SEC_RESTS:
		return F_RESTS;
	case SEC_DOCS:
		return F_ORDERS;
	case SEC_CPS:
		return F_CPS;
	default:
		return F_IMPORT;
	}
}

/* Opens a section's temporary file and writer, if not open yet. */
static cml_status
frag_open(cml_writer *w, int sec)
{
	frag *f = &w->sec[sec];
	xmlOutputBufferPtr ob;
	cml_status st = CML_OK;
	int fd;

	if (f->x != NULL)
		return CML_OK;
	f->path = tmp_name(w->dir, w->names[sec_file(w, sec)]);
	if (f->path == NULL) {
		st = nomem(w);
		goto out;
	}
	if ((fd = mkstemp(f->path)) < 0) {
		st = io_err(w, f->path, errno);
		cml_free(f->path);
		f->path = NULL;
		goto out;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if ((f->fp = fdopen(fd, "w+b")) == NULL) {
		st = io_err(w, f->path, errno);
		close(fd);
		goto out;
	}
	ob = xmlOutputBufferCreateIO(frag_write, frag_noclose, f, NULL);
	if (ob == NULL) {
		st = nomem(w);
		goto out;
	}
	if ((f->x = xmlNewTextWriter(ob)) == NULL) {
		xmlOutputBufferClose(ob);
		st = nomem(w);
		goto out;
	}
	/* The declaration gives the writer its encoder; it is not part of
	 * the body the assembly copies. */
	if (xmlTextWriterStartDocument(f->x, NULL, enc_name(w), NULL) < 0) {
		st = set_err(w, CML_ERR_ENCODING, "%s: cannot write %s",
		    f->path, enc_name(w));
		goto out;
	}
	if (xmlTextWriterFlush(f->x) < 0) {
		st = xml_err(w, f->path);
		goto out;
	}
	if (f->err != 0) {
		st = io_err(w, f->path, f->err);
		goto out;
	}
	f->body_start = f->nbytes;
out:
	if (st != CML_OK)
		frag_discard(f);
	return st;
}

/* Hands bytes to a section's writer, which encodes them. */
static cml_status
frag_raw(cml_writer *w, frag *f, const char *s, size_t n)
{
	while (n > 0) {
		int k = n > INT_MAX / 2 ? INT_MAX / 2 : (int)n;

		if (xmlTextWriterWriteRawLen(f->x, X(s), k) < 0)
			return xml_err(w, f->path);
		s += k;
		n -= (size_t)k;
	}
	if (f->err != 0)
		return io_err(w, f->path, f->err);
	return CML_OK;
}

/* 3.1 documents: a Контейнер start or end tag on a line of its own, at
 * depth 1 (sec_depth[SEC_DOCS]). */
static const char *
container_tag(bool indent, bool start)
{
	if (start)
		return indent ? "\t<Контейнер>\n" : "<Контейнер>\n";
	return indent ? "\t</Контейнер>\n" : "</Контейнер>\n";
}

/*
 * 3.1: the Контейнер tags a document needs before it, given the
 * container open (in, numbered cur). Documents of one container arrive
 * one after another; a document outside any (container 0) gets a
 * container of its own. True when a container is opened: the caller
 * records it once the document is written.
 */
static bool
container_before(emit *e, bool in, unsigned cur, const cml_document *d)
{
	if (in && (d->container == 0 || d->container != cur)) {
		e_name(e, container_tag(e->indent, false));
		in = false;
	}
	if (in)
		return false;
	e_name(e, container_tag(e->indent, true));
	return true;
}

/* Ends a section's writer and flushes its file, ready to be copied. */
static cml_status
frag_close(cml_writer *w, frag *f)
{
	if (f->x == NULL)
		return CML_OK;
	if (f->in_container) {
		const char *end = container_tag(w->conf.indent, false);
		cml_status st = frag_raw(w, f, end, strlen(end));

		if (st != CML_OK)
			return st;
		f->in_container = false;
	}
	if (xmlTextWriterFlush(f->x) < 0)
		return xml_err(w, f->path);
	f->body_end = f->nbytes;
	xmlFreeTextWriter(f->x);
	f->x = NULL;
	if (f->err == 0 && fflush(f->fp) != 0)
		f->err = errno ? errno : EIO;
	if (f->err != 0)
		return io_err(w, f->path, f->err);
	return CML_OK;
}

/* ---- adding items ---- */

static const char *
item_id(const cml_item *it)
{
	switch (it->kind) {
	case CML_ITEM_CLASSIFIER: return it->u.classifier.id;
	case CML_ITEM_GROUP: return it->u.group.id;
	case CML_ITEM_PROPERTY: return it->u.property.id;
	case CML_ITEM_PRICE_TYPE: return it->u.price_type.id;
	case CML_ITEM_WAREHOUSE: return it->u.warehouse.id;
	case CML_ITEM_UNIT: return it->u.unit.id;
	case CML_ITEM_CATALOG: return it->u.catalog.id;
	case CML_ITEM_PRODUCT: return it->u.product.id;
	case CML_ITEM_OFFERS_PACKAGE: return it->u.package.id;
	case CML_ITEM_OFFER: return it->u.offer.id;
	case CML_ITEM_DOCUMENT:
		return it->u.document.id ? it->u.document.id :
		    it->u.document.number;
	case CML_ITEM_COUNTERPARTY: return it->u.counterparty.id;
	default: return NULL;
	}
}

/* The message for a string the serialisation refused, into dst. */
static cml_status
value_msg(char *dst, size_t cap, const cml_item *it, const emit *e)
{
	const char *id = item_id(it);
	char where[256] = "";

	if (it->origin.file != NULL && check_text(it->origin.file) == NULL)
		cml_msg_set(where, sizeof(where), "%s:%lu: ", it->origin.file,
		    it->origin.line);
	if (id == NULL || check_text(id) != NULL)
		id = "?";
	cml_msg_set(dst, cap, "%s%s %s: %s: %s", where, cml_kind_name(it->kind), id,
	    e->bad_elem, e->bad_why);
	return CML_ERR_VALUE;
}

static cml_status
value_err(cml_writer *w, const cml_item *it, const emit *e)
{
	return value_msg(w->errmsg, sizeof(w->errmsg), it, e);
}

/* The offer's Ид: as given, else made of product and characteristic. */
static const char *
offer_id(cml_writer *w, const cml_offer *o, bool *oom)
{
	*oom = false;
	if (!empty(o->id) || empty(o->product_id))
		return o->id;
	cml_buf_clear(&w->scratch);
	if (!cml_buf_append(&w->scratch, o->product_id, strlen(o->product_id)) ||
	    (!empty(o->char_id) &&
	    (!cml_buf_append(&w->scratch, "#", 1) ||
	    !cml_buf_append(&w->scratch, o->char_id, strlen(o->char_id))))) {
		*oom = true;
		return NULL;
	}
	return w->scratch.data;
}

/* Serialises (or with e->b == NULL checks) one part of an item. */
static void
put_item(emit *e, const cml_item *it, const char *oid, int part)
{
	switch (it->kind) {
	case CML_ITEM_CLASSIFIER:
		put_cls_head(e, &it->u.classifier);
		break;
	case CML_ITEM_GROUP:
		put_group_fields(e, &it->u.group);
		e_check(e, "parent Ид", empty(it->u.group.parent_id) ? "" :
		    it->u.group.parent_id);
		break;
	case CML_ITEM_PROPERTY:
		put_property(e, &it->u.property);
		break;
	case CML_ITEM_PRICE_TYPE:
		put_price_type(e, &it->u.price_type);
		break;
	case CML_ITEM_WAREHOUSE:
		put_warehouse(e, &it->u.warehouse);
		break;
	case CML_ITEM_UNIT:
		put_unit(e, &it->u.unit);
		break;
	case CML_ITEM_CATALOG:
		put_cat_head(e, &it->u.catalog);
		break;
	case CML_ITEM_PRODUCT:
		put_product(e, &it->u.product);
		break;
	case CML_ITEM_OFFERS_PACKAGE:
		put_pkg_head(e, &it->u.package);
		break;
	case CML_ITEM_OFFER:
		put_offer(e, &it->u.offer, oid, part);
		break;
	case CML_ITEM_DOCUMENT:
		put_document(e, &it->u.document);
		break;
	case CML_ITEM_COUNTERPARTY:
		put_counterparty(e, &it->u.counterparty);
		break;
	default:
		break;
	}
}

/* One part of an item, serialised into w->item for a section. */
typedef struct piece {
	int sec;
	size_t off;
	size_t len;
	bool opens_container;  /* SEC_DOCS, 3.1: starts a Контейнер */
	unsigned container;
} piece;

static void
e_init(cml_writer *w, emit *e, bool check_only)
{
	memset(e, 0, sizeof(*e));
	e->b = check_only ? NULL : &w->item;
	e->stk = &w->stk;
	e->ver = w->conf.ver;
	e->indent = w->conf.indent;
}

/* Serialises one part of an item for a section after what w->item holds. */
static void
serialise(cml_writer *w, emit *e, piece *pc, int sec, const cml_item *it,
    const char *oid, int part)
{
	frag *f = &w->sec[sec];

	memset(pc, 0, sizeof(*pc));
	pc->sec = sec;
	pc->off = w->item.len;
	e->stk->n = 0;
	e->base = sec_depth[sec];
	e->open = false;
	e->doindent = false;
	if (sec == SEC_DOCS && w->conf.ver >= 300) {
		if (container_before(e, f->in_container, f->container,
		    &it->u.document)) {
			pc->opens_container = true;
			pc->container = it->u.document.container;
		}
		e->base++;
	}
	put_item(e, it, oid, part);
	if (!w->conf.indent)
		e_put(e, "\n", 1);
	pc->len = w->item.len - pc->off;
}

/* Writes serialised pieces into their sections. */
static cml_status
put_pieces(cml_writer *w, const piece *pc, size_t n)
{
	cml_status st;

	for (size_t i = 0; i < n; i++) {
		frag *f = &w->sec[pc[i].sec];

		if ((st = frag_open(w, pc[i].sec)) != CML_OK ||
		    (st = frag_raw(w, f, w->item.data + pc[i].off, pc[i].len)) !=
		    CML_OK)
			return st;
		if (pc[i].opens_container) {
			f->in_container = true;
			f->container = pc[i].container;
		}
		f->count++;
	}
	return CML_OK;
}

static bool
adup(cml_arena *a, const char **dst, const char *src)
{
	if (empty(src)) {
		*dst = NULL;
		return true;
	}
	*dst = cml_arena_strdup(a, src);
	return *dst != NULL;
}

static cml_status
keep_classifier(cml_writer *w, const cml_classifier *c)
{
	cml_arena *a = &w->cls_arena;

	cml_arena_reset(a);
	w->cls_set = false;
	memset(&w->cls, 0, sizeof(w->cls));
	if (!adup(a, &w->cls.id, c->id) || !adup(a, &w->cls.name, c->name) ||
	    !adup(a, &w->cls.owner_id, c->owner_id) ||
	    !adup(a, &w->cls.owner_name, c->owner_name))
		return nomem(w);
	w->cls.only_changes = c->only_changes;
	w->cls_set = true;
	return CML_OK;
}

static cml_status
keep_catalog(cml_writer *w, const cml_catalog *c)
{
	cml_arena *a = &w->cat_arena;

	cml_arena_reset(a);
	w->cat_set = false;
	memset(&w->cat, 0, sizeof(w->cat));
	if (!adup(a, &w->cat.id, c->id) ||
	    !adup(a, &w->cat.classifier_id, c->classifier_id) ||
	    !adup(a, &w->cat.name, c->name) ||
	    !adup(a, &w->cat.description, c->description) ||
	    !adup(a, &w->cat.owner_id, c->owner_id) ||
	    !adup(a, &w->cat.owner_name, c->owner_name))
		return nomem(w);
	w->cat.only_changes = c->only_changes;
	w->cat_set = true;
	return CML_OK;
}

static cml_status
keep_package(cml_writer *w, const cml_offers_package *p)
{
	cml_arena *a = &w->pkg_arena;

	cml_arena_reset(a);
	w->pkg_set = false;
	memset(&w->pkg, 0, sizeof(w->pkg));
	if (!adup(a, &w->pkg.id, p->id) || !adup(a, &w->pkg.name, p->name) ||
	    !adup(a, &w->pkg.catalog_id, p->catalog_id) ||
	    !adup(a, &w->pkg.classifier_id, p->classifier_id) ||
	    !adup(a, &w->pkg.owner_id, p->owner_id) ||
	    !adup(a, &w->pkg.owner_name, p->owner_name))
		return nomem(w);
	w->pkg.only_changes = p->only_changes;
	w->pkg_set = true;
	return CML_OK;
}

static cml_status
keep_group(cml_writer *w, const cml_group *g)
{
	cml_arena *a = &w->group_arena;
	gnode *n;

	if (w->n_groups == w->cap_groups) {
		size_t cap = w->cap_groups ? w->cap_groups * 2 : 64;
		gnode *p;

		if (cap > SIZE_MAX / sizeof(*p) ||
		    (p = cml_realloc(w->groups, cap * sizeof(*p))) == NULL)
			return nomem(w);
		w->groups = p;
		w->cap_groups = cap;
	}
	n = &w->groups[w->n_groups];
	memset(n, 0, sizeof(*n));
	if (!adup(a, &n->g.id, g->id) ||
	    !adup(a, &n->g.parent_id, g->parent_id) ||
	    !adup(a, &n->g.name, g->name) ||
	    !adup(a, &n->g.description, g->description) ||
	    !adup(a, &n->g.version, g->version))
		return nomem(w);
	n->g.deleted = g->deleted;
	w->n_groups++;
	return CML_OK;
}

/* Whether the reference s of element elem is to a missing file. */
static bool
is_missing(const cml_ref *refs, size_t n, const char *elem, const char *s)
{
	if (s == NULL || elem == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (refs[i].state == CML_REF_MISSING && strcmp(refs[i].element, elem) == 0 &&
		    strcmp(refs[i].written, s) == 0)
			return true;
	return false;
}

/*
 * Resolves the files of a product card (w->attach set) into *refs. *use
 * is the item to write: item itself, or a copy without the references to
 * missing files.
 */
static cml_status
attach_refs(cml_writer *w, const cml_item *item, const cml_item **use, const cml_ref **refs,
    size_t *n)
{
	const cml_product *p = &item->u.product;
	cml_status st = cml_attach_item(w->attach, item, refs, n);
	size_t missing = 0;

	*use = item;
	if (st != CML_OK)
		return set_err(w, st, "%s", cml_attach_errmsg(w->attach));
	for (size_t i = 0; i < *n; i++)
		missing += (*refs)[i].state == CML_REF_MISSING;
	if (missing == 0)
		return CML_OK;
	cml_arena_reset(&w->attach_arena);
	cml_item *c = cml_arena_alloc(&w->attach_arena, sizeof(*c));
	const char **pics = cml_arena_alloc(&w->attach_arena,
	    (p->n_pictures + 1) * sizeof(*pics));
	cml_pair *reqs = cml_arena_alloc(&w->attach_arena,
	    (p->n_requisites + 1) * sizeof(*reqs));

	if (c == NULL || pics == NULL || reqs == NULL)
		return nomem(w);
	*c = *item;
	c->u.product.n_pictures = 0;
	c->u.product.n_requisites = 0;
	for (size_t i = 0; i < p->n_pictures; i++)
		if (!is_missing(*refs, *n, "Картинка", p->pictures[i]))
			pics[c->u.product.n_pictures++] = p->pictures[i];
	for (size_t i = 0; i < p->n_requisites; i++)
		if (!is_missing(*refs, *n, p->requisites[i].name, p->requisites[i].value))
			reqs[c->u.product.n_requisites++] = p->requisites[i];
	c->u.product.pictures = pics;
	c->u.product.requisites = reqs;
	*use = c;
	return CML_OK;
}

/* Stages the present files of a card just written. */
static cml_status
attach_stage(cml_writer *w, const cml_ref *refs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cml_status st;

		if (refs[i].state != CML_REF_PRESENT)
			continue;
		st = cml_pkgfiles_add(w->pf, refs[i].path, refs[i].source, w->errmsg,
		    sizeof(w->errmsg));
		if (st != CML_OK)
			return st;
	}
	return CML_OK;
}

cml_status
cml_writer_add(cml_writer *w, const cml_item *item)
{
	cml_status st = CML_OK;
	const char *oid = NULL;

	if (w == NULL || item == NULL)
		return CML_ERR_USAGE;
	if (w->state != ST_OPEN)
		return w->state == ST_DONE ?
		    set_err(w, CML_ERR_STATE, "the writer is finished") :
		    CML_ERR_STATE;
	if (item->kind == CML_ITEM_FILE)
		return CML_OK;
	if (item->kind <= CML_ITEM_NONE || item->kind >= CML_ITEM_KIND_COUNT)
		return set_err(w, CML_ERR_USAGE, "item of unknown kind %d",
		    (int)item->kind);

	const cml_ref *refs = NULL;
	size_t n_refs = 0;

	if (item->kind == CML_ITEM_PRODUCT && w->attach != NULL) {
		st = attach_refs(w, item, &item, &refs, &n_refs);
		if (st == CML_ERR_VALUE)
			return st; /* an unsafe reference: the writer goes on */
		if (st != CML_OK)
			goto out;
	}
	if (item->kind == CML_ITEM_OFFER) {
		bool oom;

		oid = offer_id(w, &item->u.offer, &oom);
		if (oom) {
			st = nomem(w);
			goto out;
		}
	}

	/* Serialise first: an item with a bad string leaves nothing
	 * written, and the writer goes on. */
	emit e;
	piece pc[3];
	size_t np = 0;
	int sec = -1;

	cml_buf_clear(&w->item);
	switch (item->kind) {
	case CML_ITEM_CLASSIFIER:
	case CML_ITEM_GROUP:
	case CML_ITEM_CATALOG:
	case CML_ITEM_OFFERS_PACKAGE:
		/* kept, written at finish: only checked now */
		e_init(w, &e, true);
		put_item(&e, item, NULL, PART_ALL);
		break;
	case CML_ITEM_OFFER: {
		const cml_offer *o = &item->u.offer;

		e_init(w, &e, false);
		if (!w->split) {
			serialise(w, &e, &pc[np++], SEC_OFFERS, item, oid, PART_ALL);
			break;
		}
		if (offer_has_prices(o))
			serialise(w, &e, &pc[np++], SEC_PRICES, item, oid,
			    PART_PRICES);
		if (offer_has_rests(o))
			serialise(w, &e, &pc[np++], SEC_RESTS, item, oid,
			    PART_RESTS);
		if (offer_has_card(o) || np == 0)
			serialise(w, &e, &pc[np++], SEC_OFFERS, item, oid,
			    PART_CARD);
		if (e.failed && !e.nomem) {
			/* name the string as the whole offer would */
			e_init(w, &e, true);
			put_item(&e, item, oid, PART_ALL);
		}
		break;
	}
	case CML_ITEM_PROPERTY: sec = SEC_PROPS; break;
	case CML_ITEM_PRICE_TYPE: sec = SEC_PRICE_TYPES; break;
	case CML_ITEM_WAREHOUSE: sec = SEC_WAREHOUSES; break;
	case CML_ITEM_UNIT: sec = SEC_UNITS; break;
	case CML_ITEM_PRODUCT: sec = SEC_PRODUCTS; break;
	case CML_ITEM_DOCUMENT: sec = SEC_DOCS; break;
	case CML_ITEM_COUNTERPARTY: sec = SEC_CPS; break;
	default:
		return CML_OK;
	}
	if (sec >= 0) {
		e_init(w, &e, false);
		serialise(w, &e, &pc[np++], sec, item, NULL, PART_ALL);
	}
	if (e.nomem) {
		st = nomem(w);
		goto out;
	}
	if (e.failed)
		return value_err(w, item, &e);

	switch (item->kind) {
	case CML_ITEM_CLASSIFIER:
		st = keep_classifier(w, &item->u.classifier);
		break;
	case CML_ITEM_GROUP:
		st = keep_group(w, &item->u.group);
		break;
	case CML_ITEM_CATALOG:
		st = keep_catalog(w, &item->u.catalog);
		break;
	case CML_ITEM_OFFERS_PACKAGE:
		st = keep_package(w, &item->u.package);
		break;
	default:
		st = put_pieces(w, pc, np);
		if (st == CML_OK && n_refs > 0)
			st = attach_stage(w, refs, n_refs);
		break;
	}
	if (st == CML_OK && item->kind == CML_ITEM_COUNTERPARTY &&
	    item->u.counterparty.only_changes != CML_UNSET)
		w->cps_only_changes = item->u.counterparty.only_changes;
	if (st == CML_OK && item->kind != CML_ITEM_DOCUMENT &&
	    item->kind != CML_ITEM_COUNTERPARTY)
		w->any_catalog = true;
out:
	if (st != CML_OK)
		w->state = ST_FAILED;
	return st;
}

/* ---- finish ---- */

/* Sorts group indices by id (a merge sort: qsort has no context). */
static void
sort_idx(size_t *v, size_t *tmp, size_t n, const gnode *g)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	sort_idx(v, tmp, h, g);
	sort_idx(v + h, tmp, n - h, g);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = strcmp(g[v[j]].g.id, g[v[i]].g.id) < 0 ?
		    v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

static size_t
find_group(const gnode *g, const size_t *idx, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(g[idx[mid]].g.id, id);

		if (c == 0)
			return idx[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

/* Links each group to its parent; a group whose parent is unknown is
 * written at the top level. */
static cml_status
link_groups(cml_writer *w)
{
	gnode *g = w->groups;
	size_t n = w->n_groups, m = 0;
	size_t *idx = cml_calloc(n, sizeof(*idx));
	size_t *tmp = cml_calloc(n, sizeof(*tmp));
	cml_status st = CML_OK;

	if (idx == NULL || tmp == NULL) {
		st = nomem(w);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		g[i].first = g[i].last = g[i].next = NONE;
		g[i].has_parent = g[i].done = false;
		if (g[i].g.id != NULL)
			idx[m++] = i;
	}
	sort_idx(idx, tmp, m, g);
	for (size_t i = 0; i < n; i++) {
		size_t p;

		if (g[i].g.parent_id == NULL)
			continue;
		p = find_group(g, idx, m, g[i].g.parent_id);
		if (p == NONE || p == i)
			continue;
		g[i].has_parent = true;
		if (g[p].last == NONE)
			g[p].first = i;
		else
			g[g[p].last].next = i;
		g[p].last = i;
	}
out:
	cml_free(idx);
	cml_free(tmp);
	return st;
}

static void
open_group(emit *e, gnode *n, bool nested)
{
	n->done = true;
	e_start_nl(e, "Группа", nested);
	put_group_fields(e, &n->g);
	if (n->first != NONE)
		e_start(e, "Группы");
}

/* Starts a piece of a section that is not an added item. */
static void
e_begin(cml_writer *w, emit *e, int sec)
{
	e_init(w, e, false);
	cml_buf_clear(&w->item);
	w->stk.n = 0;
	e->base = sec_depth[sec];
}

/* Ends such a piece and writes it: its strings were checked when added. */
static cml_status
e_finish(cml_writer *w, emit *e, int sec)
{
	frag *f = &w->sec[sec];
	cml_status st;

	if (!w->conf.indent)
		e_put(e, "\n", 1);
	if (e->nomem)
		return nomem(w);
	if (e->failed)
		return xml_err(w, f->path);
	if ((st = frag_raw(w, f, w->item.data, w->item.len)) != CML_OK)
		return st;
	f->count++;
	return CML_OK;
}

/* The group tree, without recursion: chains of parents may be long. */
static cml_status
write_groups(cml_writer *w)
{
	gnode *g = w->groups;
	size_t n = w->n_groups, top;
	size_t *stack = NULL, *next = NULL;
	cml_status st;
	emit e;

	if ((st = link_groups(w)) != CML_OK || (st = frag_open(w, SEC_GROUPS)) != CML_OK)
		return st;
	stack = cml_calloc(n, sizeof(*stack));
	next = cml_calloc(n, sizeof(*next));
	if (stack == NULL || next == NULL) {
		st = nomem(w);
		goto out;
	}
	/* Roots first, then whatever a cycle of parents left out; each
	 * tree is a piece of its own. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t r = 0; r < n; r++) {
			if (g[r].done || (pass == 0 && g[r].has_parent))
				continue;
			e_begin(w, &e, SEC_GROUPS);
			open_group(&e, &g[r], false);
			top = 0;
			stack[top] = r;
			next[top] = g[r].first;
			top++;
			while (top > 0) {
				size_t c = next[top - 1];

				if (c == NONE) {
					if (g[stack[top - 1]].first != NONE)
						e_end_nl(&e, true);
					e_end(&e);
					top--;
					continue;
				}
				next[top - 1] = g[c].next;
				if (g[c].done)
					continue;
				open_group(&e, &g[c], true);
				stack[top] = c;
				next[top] = g[c].first;
				top++;
			}
			if ((st = e_finish(w, &e, SEC_GROUPS)) != CML_OK)
				goto out;
		}
	}
out:
	cml_free(stack);
	cml_free(next);
	return st;
}

/* The first of a, b, c that is not empty, or NULL. */
static const char *
first_of(const char *a, const char *b, const char *c)
{
	if (!empty(a))
		return a;
	if (!empty(b))
		return b;
	return empty(c) ? NULL : c;
}

/*
 * Completes the three headers of a catalog package from one another and
 * from the identity, so that every file names the same catalog and
 * classifier (PROTOCOL.md §10): the input's own Ид wins, then what its
 * other headers say, then the identity. The strings are the arenas' or
 * the identity's, both alive until the writer is freed. Checked like an
 * item's: the identity comes from options and tables.
 */
static cml_status
complete_heads(cml_writer *w)
{
	const cml_catalog_ident *id = &w->ident;
	const char *cls_id = first_of(w->cls.id, first_of(w->cat.classifier_id,
	    w->pkg.classifier_id, NULL), id->classifier_id);
	const char *cat_id = first_of(w->cat.id, w->pkg.catalog_id, id->catalog_id);
	emit e;

	w->cls.id = cls_id;
	w->cls.name = first_of(w->cls.name, id->classifier_name, NULL);
	w->cat.id = cat_id;
	w->cat.classifier_id = cls_id;
	w->cat.name = first_of(w->cat.name, id->catalog_name, NULL);
	w->pkg.id = first_of(w->pkg.id, id->offers_id, NULL);
	w->pkg.name = first_of(w->pkg.name, id->offers_name, NULL);
	w->pkg.catalog_id = cat_id;
	w->pkg.classifier_id = cls_id;
	w->cls_head = w->cls_head || !empty(cls_id);
	w->cat_head = w->cat_head || !empty(cat_id);
	w->pkg_head = w->pkg_head || !empty(w->pkg.id) || !empty(cat_id);

	e_init(w, &e, true);
	put_cls_head(&e, &w->cls);
	put_cat_head(&e, &w->cat);
	put_pkg_head(&e, &w->pkg);
	if (e.nomem)
		return nomem(w);
	if (e.failed)
		return set_err(w, CML_ERR_VALUE, "catalog identity: <%s>: %s",
		    e.bad_elem != NULL ? e.bad_elem : "?",
		    e.bad_why != NULL ? e.bad_why : "not valid");
	return CML_OK;
}

/* Writes a header kept in memory into its section. */
static cml_status
write_head(cml_writer *w, int sec)
{
	cml_status st;
	emit e;

	if ((st = frag_open(w, sec)) != CML_OK)
		return st;
	e_begin(w, &e, sec);
	if (sec == SEC_CLS_HEAD)
		put_cls_head(&e, &w->cls);
	else if (sec == SEC_CAT_HEAD)
		put_cat_head(&e, &w->cat);
	else
		put_pkg_head(&e, &w->pkg);
	return e_finish(w, &e, sec);
}

/* One final file being assembled. */
typedef struct asmb {
	cml_writer *w;
	frag f;                  /* the file: fp, path, err */
	xmlOutputBufferPtr out;  /* encodes the markup */
	bool failed;             /* libxml2 refused */
} asmb;

static void
a_str(asmb *a, const char *s)
{
	if (!a->failed && xmlOutputBufferWriteString(a->out, s) < 0)
		a->failed = true;
}

static void
a_indent(asmb *a, int depth)
{
	if (a->w->conf.indent)
		for (int i = 0; i < depth; i++)
			a_str(a, "\t");
}

/* Containers are on lines of their own, indented or not. */
static void
a_nl(asmb *a)
{
	a_str(a, "\n");
}

static const char *
tristate_str(cml_tristate t)
{
	return t == CML_TRUE ? "true" : "false";
}

/* <name> or <name СодержитТолькоИзменения="..."> on a line of its own. */
static void
a_open(asmb *a, int depth, const char *name, const char *only_changes)
{
	a_indent(a, depth);
	a_str(a, "<");
	a_str(a, name);
	if (only_changes != NULL) {
		a_str(a, " СодержитТолькоИзменения=\"");
		a_str(a, only_changes);
		a_str(a, "\"");
	}
	a_str(a, ">");
	a_nl(a);
}

static void
a_close(asmb *a, int depth, const char *name)
{
	a_indent(a, depth);
	a_str(a, "</");
	a_str(a, name);
	a_str(a, ">");
	a_nl(a);
}

/* Copies a section's body, already in the final encoding. */
static void
a_body(asmb *a, int sec)
{
	frag *s = &a->w->sec[sec];
	char buf[16384];
	off_t left;

	if (s->fp == NULL || s->count == 0 || a->failed)
		return;
	if (xmlOutputBufferFlush(a->out) < 0) {
		a->failed = true;
		return;
	}
	left = s->body_end - s->body_start;
	/* In-kernel copy first: the body is most of the package, and a copy
	 * through user space costs a read and a write of every byte. */
	if (fflush(s->fp) == 0 && a->f.err == 0 && fflush(a->f.fp) == 0) {
		off_t in = s->body_start;

		while (left > 0) {
			ssize_t n = copy_file_range(fileno(s->fp), &in, fileno(a->f.fp), NULL,
			    (size_t)left, 0);
			if (n <= 0)
				break;
			left -= n;
			a->f.nbytes += n;
		}
		if (left == 0)
			return;
		if (fseeko(a->f.fp, 0, SEEK_END) != 0) {
			a->f.err = errno ? errno : EIO;
			return;
		}
		/* not supported here (or failed half-way): go on by hand */
		if (fseeko(s->fp, s->body_end - left, SEEK_SET) != 0) {
			if (s->err == 0)
				s->err = errno ? errno : EIO;
			return;
		}
	} else if (fseeko(s->fp, s->body_start, SEEK_SET) != 0) {
		if (s->err == 0)
			s->err = errno ? errno : EIO;
		return;
	}
	while (left > 0) {
		size_t want = left < (off_t)sizeof(buf) ? (size_t)left : sizeof(buf);
		size_t got = fread(buf, 1, want, s->fp);

		if (got == 0) {
			if (s->err == 0)
				s->err = ferror(s->fp) && errno ? errno : EIO;
			return;
		}
		frag_write(&a->f, buf, (int)got);
		left -= (off_t)got;
	}
}

/* A container element around a section, when the section has items. */
static void
a_wrap(asmb *a, int depth, const char *name, int sec)
{
	if (a->w->sec[sec].count == 0)
		return;
	a_open(a, depth, name, NULL);
	a_body(a, sec);
	a_close(a, depth, name);
}

static const char *
only_changes(const cml_writer *w, cml_tristate from_item)
{
	if (w->only_changes != CML_UNSET)
		return tristate_str(w->only_changes);
	return tristate_str(from_item);
}

/*
 * The flag of a Каталог or ПакетПредложений that holds n items. A header
 * with none is changes-only whatever was decided: a real site deletes every
 * element a whole Каталог (or ПакетПредложений) lacks, so an empty one sent
 * as whole would empty the shop (PROTOCOL.md §10; УТ 11 writes its split
 * classifier file's empty Каталог header with the flag for that reason).
 */
static const char *
only_changes_of(const cml_writer *w, cml_tristate from_item, size_t n)
{
	return n == 0 ? "true" : only_changes(w, from_item);
}

static bool
has_classifier(const cml_writer *w)
{
	return w->cls_set || w->n_groups > 0 || w->sec[SEC_PROPS].count > 0 ||
	    w->sec[SEC_UNITS].count > 0 || (w->conf.ver >= 209 &&
	    (w->sec[SEC_PRICE_TYPES].count > 0 ||
	    w->sec[SEC_WAREHOUSES].count > 0));
}

static bool
has_catalog(const cml_writer *w)
{
	return w->cat_set || w->sec[SEC_PRODUCTS].count > 0;
}

static bool
has_package(const cml_writer *w)
{
	return w->pkg_set || w->sec[SEC_OFFERS].count > 0 || (w->conf.ver < 209 &&
	    (w->sec[SEC_PRICE_TYPES].count > 0 ||
	    w->sec[SEC_WAREHOUSES].count > 0));
}

static bool
file_needed(const cml_writer *w, int fi)
{
	switch (fi) {
	case F_IMPORT:
		/* a whole split package with an identity carries its
		 * classifier file, as 1C's does: the site sets the
		 * classifier up from it */
		return w->split ? has_classifier(w) || (w->has_ident &&
		    w->any_catalog && w->only_changes != CML_TRUE) : w->any_catalog;
	case F_GOODS:
		return w->split && has_catalog(w);
	case F_OFFERS:
		return w->split ? has_package(w) : w->any_catalog;
	case F_PRICES:
		return w->split && w->sec[SEC_PRICES].count > 0;
	case F_RESTS:
		return w->split && w->sec[SEC_RESTS].count > 0;
	case F_ORDERS:
		return w->sec[SEC_DOCS].count > 0;
	case F_CPS:
		return w->sec[SEC_CPS].count > 0;
	default:
		return false;
	}
}

static void
a_catalog(asmb *a, bool with_goods)
{
	cml_writer *w = a->w;

	a_open(a, 1, "Каталог", only_changes_of(w, w->cat.only_changes,
	    with_goods ? (size_t)w->sec[SEC_PRODUCTS].count : 0));
	a_body(a, SEC_CAT_HEAD);
	if (with_goods)
		a_wrap(a, 2, "Товары", SEC_PRODUCTS);
	a_close(a, 1, "Каталог");
}

static void
a_package(asmb *a, int sec, bool with_types)
{
	cml_writer *w = a->w;

	a_open(a, 1, "ПакетПредложений", only_changes_of(w, w->pkg.only_changes,
	    (size_t)w->sec[sec].count));
	a_body(a, SEC_PKG_HEAD);
	if (with_types && w->conf.ver < 209) {
		a_wrap(a, 2, "ТипыЦен", SEC_PRICE_TYPES);
		a_wrap(a, 2, "Склады", SEC_WAREHOUSES);
	}
	a_wrap(a, 2, "Предложения", sec);
	a_close(a, 1, "ПакетПредложений");
}

static void
a_content(asmb *a, int fi)
{
	cml_writer *w = a->w;

	switch (fi) {
	case F_IMPORT:
		if (has_classifier(w) || w->cls_head) {
			a_open(a, 1, "Классификатор",
			    only_changes(w, w->cls.only_changes));
			a_body(a, SEC_CLS_HEAD);
			a_wrap(a, 2, "Группы", SEC_GROUPS);
			a_wrap(a, 2, "Свойства", SEC_PROPS);
			if (w->conf.ver >= 209) {
				a_wrap(a, 2, "ТипыЦен", SEC_PRICE_TYPES);
				a_wrap(a, 2, "Склады", SEC_WAREHOUSES);
			}
			a_wrap(a, 2, "ЕдиницыИзмерения", SEC_UNITS);
			a_close(a, 1, "Классификатор");
		}
		/* The split classifier file carries the catalog header, as
		 * УТ 11 writes it: a site needs the catalog's Ид there. */
		if (w->split ? w->cat_head : has_catalog(w) || w->cat_head)
			a_catalog(a, !w->split);
		break;
	case F_GOODS:
		a_catalog(a, true);
		break;
	case F_OFFERS:
		if (has_package(w) || w->pkg_head)
			a_package(a, SEC_OFFERS, true);
		break;
	case F_PRICES:
		a_package(a, SEC_PRICES, false);
		break;
	case F_RESTS:
		a_package(a, SEC_RESTS, false);
		break;
	case F_ORDERS:
		a_body(a, SEC_DOCS);
		break;
	case F_CPS:
		/* the program's flag, when it gave one, on this element too */
		a_open(a, 1, "Контрагенты", w->only_changes != CML_UNSET ?
		    tristate_str(w->only_changes) : w->cps_only_changes == CML_UNSET ?
		    NULL : tristate_str(w->cps_only_changes));
		a_body(a, SEC_CPS);
		a_close(a, 1, "Контрагенты");
		break;
	default:
		break;
	}
}

/* Creates a temporary name for the file name with O_EXCL. Unlike mkstemp,
 * the mode is given: a file of documents or counterparties (names, INN,
 * addresses, phones) is 0600 whatever the umask, like the database; a
 * catalog file follows the umask, as for any file a program writes, since
 * a site reading the folder may run as another user. */
static cml_status
create_final(cml_writer *w, const char *name, mode_t mode, char **pathp, int *fdp)
{
	static const char chars[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static unsigned long counter;
	char *path = tmp_name(w->dir, name);
	size_t len;
	int fd = -1;

	if (path == NULL)
		return nomem(w);
	len = strlen(path);
	for (int tries = 0; tries < 100; tries++) {
		struct timespec ts;
		unsigned long long r;

		clock_gettime(CLOCK_REALTIME, &ts);
		r = (unsigned long long)ts.tv_nsec * 2654435761u ^
		    (unsigned long long)getpid() << 16 ^ ++counter * 40503u;
		for (size_t i = len - 6; i < len; i++) {
			path[i] = chars[r % (sizeof(chars) - 1)];
			r /= sizeof(chars) - 1;
		}
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		cml_status st = io_err(w, path, errno);

		cml_free(path);
		return st;
	}
	*pathp = path;
	*fdp = fd;
	return CML_OK;
}

/* The XML declaration and the root's start tag, on lines of their own. */
static void
root_start(char *out, size_t cap, const wconf *c)
{
	cml_msg_set(out, cap,
	    "<?xml version=\"1.0\" encoding=\"%s\"?>\n"
	    "<КоммерческаяИнформация xmlns=\"%s\" ВерсияСхемы=\"%s\" "
	    "ДатаФормирования=\"%s\">\n",
	    c->enc == CML_ENC_WINDOWS_1251 ? "windows-1251" : "UTF-8",
	    c->ver >= 300 ? "urn:1C.ru:commerceml_3" : "urn:1C.ru:commerceml_2",
	    c->schema, c->generated);
}

static cml_status
assemble(cml_writer *w, int fi)
{
	asmb a = { .w = w };
	xmlCharEncodingHandlerPtr enc = NULL;
	cml_status st = CML_OK;
	int fd = -1;

	mode_t mode = fi == F_ORDERS || fi == F_CPS ? 0600 : 0666;

	if ((st = create_final(w, w->names[fi], mode, &a.f.path, &fd)) != CML_OK)
		return st;
	w->final_tmp[fi] = a.f.path;
	if ((a.f.fp = fdopen(fd, "wb")) == NULL) {
		st = io_err(w, a.f.path, errno);
		close(fd);
		goto out;
	}
	if (w->conf.enc == CML_ENC_WINDOWS_1251 &&
	    (enc = xmlFindCharEncodingHandler("windows-1251")) == NULL) {
		st = set_err(w, CML_ERR_ENCODING, "%s: cannot write windows-1251",
		    a.f.path);
		goto out;
	}
	a.out = xmlOutputBufferCreateIO(frag_write, frag_noclose, &a.f, enc);
	if (a.out == NULL) {
		if (enc != NULL)
			xmlCharEncCloseFunc(enc);
		st = nomem(w);
		goto out;
	}
	if (w->conf.bom && w->conf.enc == CML_ENC_UTF8)
		frag_write(&a.f, "\xEF\xBB\xBF", 3);
	char root[ROOT_START_MAX];
	root_start(root, sizeof(root), &w->conf);
	a_str(&a, root);
	a_content(&a, fi);
	a_str(&a, ROOT_END);
	if (!a.failed && xmlOutputBufferFlush(a.out) < 0)
		a.failed = true;
	for (int s = 0; s < SEC_COUNT; s++)
		if (w->sec[s].err != 0) {
			st = io_err(w, w->sec[s].path, w->sec[s].err);
			goto out;
		}
	if (a.failed) {
		st = xml_err(w, a.f.path);
		goto out;
	}
	if (a.f.err == 0 && (fflush(a.f.fp) != 0 || fsync(fileno(a.f.fp)) != 0))
		a.f.err = errno ? errno : EIO;
out:
	if (a.out != NULL)
		xmlOutputBufferClose(a.out);
	if (a.f.fp != NULL && fclose(a.f.fp) != 0 && a.f.err == 0)
		a.f.err = errno ? errno : EIO;
	if (st == CML_OK && a.f.err != 0)
		st = io_err(w, a.f.path, a.f.err);
	return st;
}

static void
sync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
}

/*
 * Writes DIR/.cmlkit-install before the renames: the pairs of names about
 * to be renamed, so that a run killed between two renames (a new
 * import.xml beside the old offers.xml) is completed by the next one
 * (cml_writer_recover), and a site reading the folder can tell a package
 * being put in place. It is written under a temporary name, synced and
 * renamed, so it appears whole or not at all; the files it names are
 * already synced.
 */
static cml_status
journal_write(cml_writer *w, char *const *final, char **journalp)
{
	cml_buf buf = { 0 };
	char *tmp = NULL, *journal = NULL;
	cml_status st = CML_OK;
	int fd = -1;

	if (!cml_buf_appendf(&buf, "cmlkit-install %ld\n", (long)getpid())) {
		st = nomem(w);
		goto out;
	}
	/* the attached files first: in place before the XML naming them */
	if (w->pf != NULL &&
	    (st = cml_pkgfiles_prepare(w->pf, &buf, w->errmsg, sizeof(w->errmsg))) != CML_OK)
		goto out;
	for (int fi = 0; fi < F_COUNT; fi++) {
		if (final[fi] == NULL)
			continue;
		const char *t = strrchr(w->final_tmp[fi], '/') + 1;

		if (!cml_buf_appendf(&buf, "%s\t%s\n", t, w->names[fi])) {
			st = nomem(w);
			goto out;
		}
	}
	if (!cml_buf_append(&buf, "end\n", 4)) {
		st = nomem(w);
		goto out;
	}
	if ((journal = path_join(w->dir, "/", CML_WRITER_JOURNAL, "")) == NULL) {
		st = nomem(w);
		goto out;
	}
	if ((st = create_final(w, "install", 0600, &tmp, &fd)) != CML_OK)
		goto out;
	for (size_t off = 0; off < buf.len;) {
		ssize_t n = write(fd, buf.data + off, buf.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			st = io_err(w, tmp, errno);
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0) {
		st = io_err(w, tmp, errno);
		goto out;
	}
	if (rename(tmp, journal) != 0) {
		st = io_err(w, journal, errno);
		goto out;
	}
	sync_dir(w->dir);
	*journalp = journal;
	journal = NULL;
out:
	if (fd >= 0)
		close(fd);
	if (st != CML_OK && tmp != NULL)
		unlink(tmp);
	cml_free(tmp);
	cml_free(journal);
	cml_buf_free(&buf);
	return st;
}

/* Renames the assembled files into place. On a failure, the files
 * renamed so far that did not exist before are removed again. */
static cml_status
install(cml_writer *w)
{
	char *journal = NULL;
	char *final[F_COUNT] = { NULL };
	bool existed[F_COUNT] = { false };
	cml_status st = CML_OK;
	int fi, done;

	for (fi = 0; fi < F_COUNT; fi++) {
		struct stat sb;

		if (w->final_tmp[fi] == NULL)
			continue;
		if ((final[fi] = path_join(w->dir, "/", w->names[fi], "")) == NULL) {
			st = nomem(w);
			goto out;
		}
		existed[fi] = lstat(final[fi], &sb) == 0;
	}
	if ((st = journal_write(w, final, &journal)) != CML_OK)
		goto out;
	/* A failure among the attached files leaves the XML of the earlier
	 * package in place: it names none of the new files. */
	if (w->pf != NULL &&
	    (st = cml_pkgfiles_install(w->pf, w->errmsg, sizeof(w->errmsg))) != CML_OK)
		goto out;
	for (done = 0; done < F_COUNT; done++) {
		if (final[done] == NULL)
			continue;
		if (rename(w->final_tmp[done], final[done]) != 0) {
			st = io_err(w, final[done], errno);
			for (fi = 0; fi < done; fi++) {
				if (final[fi] == NULL)
					continue;
				if (!existed[fi])
					unlink(final[fi]);
				/* renamed: nothing left to remove */
				cml_free(w->final_tmp[fi]);
				w->final_tmp[fi] = NULL;
			}
			goto out;
		}
	}
	/* Make the renames durable before the journal goes; a failure here
	 * changes nothing. */
	sync_dir(w->dir);
	for (fi = 0, done = 0; fi < F_COUNT; fi++) {
		if (final[fi] == NULL)
			continue;
		cml_free(w->final_tmp[fi]);
		w->final_tmp[fi] = NULL;
		w->files[done++] = w->names[fi];
	}
	w->files[done] = NULL;
	if (w->pf != NULL) {
		size_t na = cml_pkgfiles_count(w->pf);

		if ((w->all_files = cml_calloc(na + (size_t)done + 1, sizeof(char *))) == NULL) {
			st = nomem(w);
			goto out;
		}
		for (size_t i = 0; i < na; i++)
			w->all_files[i] = cml_pkgfiles_name(w->pf, i);
		for (int i = 0; i <= done; i++)
			w->all_files[na + (size_t)i] = w->files[i];
	}
out:
	if (journal != NULL) {
		unlink(journal);
		cml_free(journal);
	}
	for (fi = 0; fi < F_COUNT; fi++)
		cml_free(final[fi]);
	return st;
}

cml_status
cml_writer_finish(cml_writer *w)
{
	cml_status st = CML_OK;

	if (w == NULL)
		return CML_ERR_USAGE;
	if (w->state != ST_OPEN)
		return w->state == ST_DONE ?
		    set_err(w, CML_ERR_STATE, "the writer is finished") :
		    CML_ERR_STATE;
	w->cls_head = w->cls_set;
	w->cat_head = w->cat_set;
	w->pkg_head = w->pkg_set;
	if (w->has_ident && w->any_catalog && (st = complete_heads(w)) != CML_OK)
		goto out;
	if (w->cls_head && (st = write_head(w, SEC_CLS_HEAD)) != CML_OK)
		goto out;
	if (w->cat_head && (st = write_head(w, SEC_CAT_HEAD)) != CML_OK)
		goto out;
	if (w->pkg_head && (st = write_head(w, SEC_PKG_HEAD)) != CML_OK)
		goto out;
	if (w->n_groups > 0 && (st = write_groups(w)) != CML_OK)
		goto out;
	for (int s = 0; s < SEC_COUNT; s++)
		if ((st = frag_close(w, &w->sec[s])) != CML_OK)
			goto out;
	for (int fi = 0; fi < F_COUNT; fi++)
		if (w->names[fi] != NULL && file_needed(w, fi) &&
		    (st = assemble(w, fi)) != CML_OK)
			goto out;
	if ((st = install(w)) != CML_OK)
		goto out;
	for (int s = 0; s < SEC_COUNT; s++)
		frag_discard(&w->sec[s]);
	w->state = ST_DONE;
out:
	if (st != CML_OK) {
		w->state = ST_FAILED;
		for (int fi = 0; fi < F_COUNT; fi++) {
			if (w->final_tmp[fi] != NULL)
				unlink(w->final_tmp[fi]);
			cml_free(w->final_tmp[fi]);
			w->final_tmp[fi] = NULL;
		}
	}
	return st;
}

/* ---- the handle ---- */

static bool
generated_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') || c == ':' || c == '-' ||
		    c == '+' || c == '.'))
			return false;
	}
	return n > 0 && n < 40;
}

/*
 * Returns NULL when out of memory, when dir is not a directory, and for
 * options that are not valid (an unknown schema, a bad generated stamp,
 * an unknown encoding, windows-1251 with a BOM, or an encoding libxml2
 * cannot write): the programs check their options before.
 */
/* The options both writers share, checked; false when they are not
 * usable (an unknown schema, a BOM on windows-1251, ...). */
static bool
conf_from(const cml_writer_opts *opts, wconf *c)
{
	static const cml_writer_opts defaults = { .schema = NULL };
	const char *schema;

	if (opts == NULL)
		opts = &defaults;
	memset(c, 0, sizeof(*c));
	schema = opts->schema != NULL ? opts->schema : "2.05";
	for (size_t i = 0; i < CML_ARRAY_LEN(schemas); i++)
		if (strcmp(schema, schemas[i].name) == 0) {
			c->ver = schemas[i].num;
			c->schema = schemas[i].name;
		}
	if (c->ver == 0)
		return false;
	if (opts->encoding != CML_ENC_UTF8 &&
	    opts->encoding != CML_ENC_WINDOWS_1251)
		return false;
	if (opts->bom && opts->encoding != CML_ENC_UTF8)
		return false;
	if (opts->generated != NULL && !generated_ok(opts->generated))
		return false;
	if (opts->encoding == CML_ENC_WINDOWS_1251) {
		xmlCharEncodingHandlerPtr h =
		    xmlFindCharEncodingHandler("windows-1251");

		if (h == NULL)
			return false;
		xmlCharEncCloseFunc(h);
	}
	c->enc = opts->encoding;
	c->bom = opts->bom;
	c->indent = opts->indent;
	if (opts->generated != NULL) {
		cml_msg_set(c->generated, sizeof(c->generated), "%s",
		    opts->generated);
	} else {
		time_t now = time(NULL);
		struct tm tm;

		if (localtime_r(&now, &tm) == NULL ||
		    strftime(c->generated, sizeof(c->generated),
		    "%Y-%m-%dT%H:%M:%S", &tm) == 0)
			cml_msg_set(c->generated, sizeof(c->generated),
			    "1970-01-01T00:00:00");
	}
	return true;
}

/* Copies the identity: the caller's strings need not outlive the call. */
static bool
keep_ident(cml_writer *w, const cml_catalog_ident *id)
{
	cml_arena *a = &w->ident_arena;

	if (!adup(a, &w->ident.classifier_id, id->classifier_id) ||
	    !adup(a, &w->ident.classifier_name, id->classifier_name) ||
	    !adup(a, &w->ident.catalog_id, id->catalog_id) ||
	    !adup(a, &w->ident.catalog_name, id->catalog_name) ||
	    !adup(a, &w->ident.offers_id, id->offers_id) ||
	    !adup(a, &w->ident.offers_name, id->offers_name))
		return false;
	w->has_ident = true;
	return true;
}

cml_writer *
cml_writer_new(const char *dir, const cml_writer_opts *opts)
{
	cml_writer *w = NULL;
	struct stat sb;
	wconf conf;

	if (!conf_from(opts, &conf))
		return NULL;
	if (dir == NULL || stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return NULL;
	if ((w = cml_calloc(1, sizeof(*w))) == NULL)
		return NULL;
	if ((w->dir = cml_strdup(dir)) == NULL) {
		cml_free(w);
		return NULL;
	}
	w->conf = conf;
	w->split = conf.ver >= 300 || (opts != NULL && opts->layout == CML_LAYOUT_SPLIT);
	w->names = conf.ver >= 300 ? names_31 : w->split ? names_split : names_single;
	w->only_changes = opts != NULL ? opts->only_changes : CML_UNSET;
	w->state = ST_OPEN;
	cml_arena_init(&w->ident_arena);
	cml_arena_init(&w->attach_arena);
	if (opts != NULL && opts->attach != NULL) {
		w->attach = opts->attach;
		if ((w->pf = cml_pkgfiles_new(dir)) == NULL) {
			cml_free(w->dir);
			cml_free(w);
			return NULL;
		}
	}
	cml_arena_init(&w->cls_arena);
	cml_arena_init(&w->cat_arena);
	cml_arena_init(&w->pkg_arena);
	cml_arena_init(&w->group_arena);
	if (opts != NULL && opts->ident != NULL && !keep_ident(w, opts->ident)) {
		cml_writer_free(w);
		return NULL;
	}
	return w;
}

void
cml_writer_free(cml_writer *w)
{
	if (w == NULL)
		return;
	for (int s = 0; s < SEC_COUNT; s++)
		frag_discard(&w->sec[s]);
	for (int fi = 0; fi < F_COUNT; fi++) {
		if (w->final_tmp[fi] != NULL)
			unlink(w->final_tmp[fi]);
		cml_free(w->final_tmp[fi]);
	}
	cml_arena_destroy(&w->ident_arena);
	cml_arena_destroy(&w->cls_arena);
	cml_arena_destroy(&w->cat_arena);
	cml_arena_destroy(&w->pkg_arena);
	cml_arena_destroy(&w->group_arena);
	cml_arena_destroy(&w->attach_arena);
	cml_pkgfiles_free(w->pf);
	cml_free(w->all_files);
	cml_free(w->groups);
	cml_buf_free(&w->scratch);
	cml_buf_free(&w->item);
	cml_free(w->stk.v);
	cml_free(w->dir);
	cml_free(w);
}

const char *
cml_writer_errmsg(const cml_writer *w)
{
	if (w == NULL)
		return "no writer";
	return w->errmsg;
}

const char *const *
cml_writer_files(const cml_writer *w)
{
	static const char *const none[1] = { NULL };

	if (w == NULL || w->state != ST_DONE)
		return none;
	return w->all_files != NULL ? w->all_files : w->files;
}

/* ---- what killed runs left ---- */

/* The process ID in a temporary file's name (".cmlkit-tmp.PID."), or 0. */
static long
tmp_pid(const char *name)
{
	size_t n = strlen(CML_WRITER_TMP_PREFIX);
	char *end;
	long pid;

	if (strncmp(name, CML_WRITER_TMP_PREFIX, n) != 0)
		return 0;
	errno = 0;
	pid = strtol(name + n, &end, 10);
	if (errno != 0 || end == name + n || *end != '.' || pid <= 0)
		return 0;
	return pid;
}

/* True unless the process is certainly gone; ours counts as alive. */
static bool
pid_alive(long pid)
{
	if (pid == (long)getpid())
		return true;
	return kill((pid_t)pid, 0) == 0 || errno != ESRCH;
}

static bool
plain_name(const char *s)
{
	return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

/* A journal line naming an attached file (a path with '/', or "-" and
 * a file to remove): done through pkgfiles.c, which never follows a link
 * out of DIR. 1: done, 0: nothing to do, -1: bad line, -2: error. */
static int
redo_attached(const char *dir, long pid, const char *from, const char *to, char *err,
    size_t cap)
{
	const char *base = strrchr(from, '/');
	bool renamed = false;
	cml_status st;

	if (strcmp(from, "-") == 0) {
		st = cml_pkgfiles_redo_remove(dir, to, err, cap);
		return st == CML_OK ? 0 : st == CML_ERR_VALUE ? -1 : -2;
	}
	if (base == NULL || tmp_pid(base + 1) != pid)
		return -1;
	st = cml_pkgfiles_redo_rename(dir, from, to, &renamed, err, cap);
	return st == CML_OK ? renamed : st == CML_ERR_VALUE ? -1 : -2;
}

/* One line of fp into b, with its newline if it had one; false at the
 * end or on OOM (*oom). */
static bool
read_line(FILE *fp, cml_buf *b, bool *oom)
{
	char chunk[512];

	cml_buf_clear(b);
	*oom = false;
	while (fgets(chunk, sizeof(chunk), fp) != NULL) {
		size_t n = strlen(chunk);

		if (!cml_buf_append(b, chunk, n)) {
			*oom = true;
			return false;
		}
		if (n > 0 && chunk[n - 1] == '\n')
			return true;
	}
	return b->len > 0;
}

/* Completes the renames DIR/.cmlkit-install lists (see journal_write). */
static cml_status
finish_install(const char *dir, size_t *completed, char *err, size_t cap)
{
	char *journal = path_join(dir, "/", CML_WRITER_JOURNAL, "");
	cml_buf lb = { 0 };
	char *line;
	bool oom = false;
	FILE *fp = NULL;
	cml_status st = CML_OK;
	long pid = 0;
	bool ended = false;

	if (journal == NULL) {
		cml_msg_set(err, cap, "out of memory");
		return CML_ERR_NOMEM;
	}
	if ((fp = fopen(journal, "re")) == NULL) {
		if (errno != ENOENT) {
			cml_msg_set(err, cap, "%s: %s", journal, strerror(errno));
			st = CML_ERR_IO;
		}
		goto out;
	}
	if (!read_line(fp, &lb, &oom) ||
	    sscanf(lb.data, "cmlkit-install %ld", &pid) != 1 || pid <= 0)
		goto bad;
	if (pid_alive(pid) && pid != (long)getpid())
		goto out; /* another run is putting its package in place now */
	while (read_line(fp, &lb, &oom)) {
		line = lb.data;
		char *nl = strchr(line, '\n'), *tab = strchr(line, '\t');
		char *from = NULL, *to = NULL;

		if (nl == NULL)
			goto bad;
		*nl = '\0';
		if (strcmp(line, "end") == 0) {
			ended = true;
			break;
		}
		if (tab == NULL)
			goto bad;
		*tab = '\0';
		if (strchr(tab + 1, '/') != NULL || strcmp(line, "-") == 0) {
			int r = redo_attached(dir, pid, line, tab + 1, err, cap);

			if (r == -1)
				goto bad;
			if (r == -2) {
				st = CML_ERR_IO;
				goto out;
			}
			*completed += (size_t)r;
			continue;
		}
		if (tmp_pid(line) != pid || !plain_name(tab + 1) || tab[1] == '.')
			goto bad;
		from = path_join(dir, "/", line, "");
		to = path_join(dir, "/", tab + 1, "");
		int r = from != NULL && to != NULL ? rename(from, to) : -2;
		int e = errno;

		cml_free(from);
		cml_free(to);
		if (r == -2) {
			cml_msg_set(err, cap, "out of memory");
			st = CML_ERR_NOMEM;
			goto out;
		}
		if (r == 0)
			(*completed)++;
		else if (e != ENOENT) { /* ENOENT: renamed before the kill */
			cml_msg_set(err, cap, "%s/%s: %s", dir, tab + 1, strerror(e));
			st = CML_ERR_IO;
			goto out;
		}
	}
	if (oom) {
		cml_msg_set(err, cap, "out of memory");
		st = CML_ERR_NOMEM;
		goto out;
	}
	if (!ended)
		goto bad;
	sync_dir(dir);
	if (unlink(journal) != 0) {
		cml_msg_set(err, cap, "%s: %s", journal, strerror(errno));
		st = CML_ERR_IO;
	}
	goto out;
bad:
	cml_msg_set(err, cap, "%s: not a cmlkit install journal; see what it is and remove it",
	    journal);
	st = CML_ERR_IO;
out:
	if (fp != NULL)
		fclose(fp);
	cml_buf_free(&lb);
	cml_free(journal);
	return st;
}

/* Whether name is a temporary file of a dead run. */
static bool
dead_tmp(const char *name)
{
	long pid = tmp_pid(name);

	return pid != 0 && !pid_alive(pid);
}

cml_status
cml_writer_recover(const char *dir, size_t *completed, size_t *removed, char *err,
    size_t cap)
{
	size_t c = 0, r = 0;
	cml_status st;
	DIR *d = NULL;
	struct dirent *de;
	char dummy[1];

	if (err == NULL || cap == 0) {
		err = dummy;
		cap = sizeof(dummy);
	}
	err[0] = '\0';
	if (dir == NULL)
		return CML_ERR_USAGE;
	if ((st = finish_install(dir, &c, err, cap)) != CML_OK)
		goto out;
	if ((d = opendir(dir)) == NULL) {
		cml_msg_set(err, cap, "%s: %s", dir, strerror(errno));
		st = CML_ERR_IO;
		goto out;
	}
	int dfd = dirfd(d);
	while ((errno = 0, de = readdir(d)) != NULL) {
		long pid = tmp_pid(de->d_name);

		if (pid == 0 || pid_alive(pid))
			continue;
		if (unlinkat(dfd, de->d_name, 0) == 0)
			r++;
		else if (errno != ENOENT) {
			cml_msg_set(err, cap, "%s/%s: %s", dir, de->d_name, strerror(errno));
			st = CML_ERR_IO;
			goto out;
		}
	}
	if (errno != 0) {
		cml_msg_set(err, cap, "%s: %s", dir, strerror(errno));
		st = CML_ERR_IO;
		goto out;
	}
	/* attached files staged in the subdirectories (import_files/5b/) */
	st = cml_pkgfiles_sweep(dir, dead_tmp, &r, err, cap);
out:
	if (d != NULL)
		closedir(d);
	if (completed != NULL)
		*completed = c;
	if (removed != NULL)
		*removed = r;
	return st;
}

/* ---- the stream writer ----
 *
 * One document to a FILE *. Items are serialised by the same code as a
 * package's orders.xml and contragents.xml (put_item, the Контейнер
 * choice, the checks), then handed to an xmlOutputBuffer with the final
 * encoding, which writes a character windows-1251 lacks as a character
 * reference. The declaration and the root go out with the first item, so
 * a run that adds nothing writes nothing.
 */

enum { CPS_NONE, CPS_OPEN, CPS_CLOSED };

struct cml_stream_writer {
	FILE *out;
	wconf conf;
	xmlOutputBufferPtr ob;   /* NULL until the first item */
	int err;                 /* errno of the first failed write, or 0 */
	int state;               /* ST_OPEN, ST_FAILED, ST_DONE */
	bool in_container;       /* 3.1: a Контейнер is open */
	unsigned container;
	int cps;                 /* Контрагенты: not yet, open, closed */
	cml_buf item;
	estack stk;
	char errmsg[CML_ERRMSG_MAX];
};

static cml_status sw_err(cml_stream_writer *sw, cml_status st, const char *fmt, ...)
    CML_PRINTF(3, 4);

static cml_status
sw_err(cml_stream_writer *sw, cml_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cml_msg_vset(sw->errmsg, sizeof(sw->errmsg), fmt, ap);
	va_end(ap);
	if (st == CML_ERR_IO || st == CML_ERR_NOMEM || st == CML_ERR_ENCODING)
		sw->state = ST_FAILED;
	return st;
}

static int
sw_write(void *ctx, const char *buf, int len)
{
	cml_stream_writer *sw = ctx;

	/* as frag_write: the failure is kept, never reported to libxml2 */
	if (len > 0 && sw->err == 0) {
		errno = 0;
		if (fwrite(buf, 1, (size_t)len, sw->out) != (size_t)len)
			sw->err = errno ? errno : EIO;
	}
	return len;
}

static const char *
cps_end(bool indent)
{
	return indent ? "\t</Контрагенты>\n" : "</Контрагенты>\n";
}

static cml_status
sw_io(cml_stream_writer *sw)
{
	return sw_err(sw, CML_ERR_IO, "output: %s", strerror(sw->err ? sw->err : EIO));
}

/* The bytes s..n through the encoder. */
static cml_status
sw_put(cml_stream_writer *sw, const char *s, size_t n)
{
	while (n > 0) {
		int k = n > INT_MAX / 2 ? INT_MAX / 2 : (int)n;

		if (xmlOutputBufferWrite(sw->ob, k, s) < 0)
			return sw->err != 0 ? sw_io(sw) :
			    sw_err(sw, CML_ERR_IO, "output: the XML encoder failed");
		s += k;
		n -= (size_t)k;
	}
	return sw->err != 0 ? sw_io(sw) : CML_OK;
}

/* Before the first item: the BOM, the declaration, the root. */
static cml_status
sw_begin(cml_stream_writer *sw)
{
	xmlCharEncodingHandlerPtr enc = NULL;
	char root[ROOT_START_MAX];

	if (sw->conf.enc == CML_ENC_WINDOWS_1251 &&
	    (enc = xmlFindCharEncodingHandler("windows-1251")) == NULL)
		return sw_err(sw, CML_ERR_ENCODING, "output: cannot write windows-1251");
	sw->ob = xmlOutputBufferCreateIO(sw_write, frag_noclose, sw, enc);
	if (sw->ob == NULL) {
		if (enc != NULL)
			xmlCharEncCloseFunc(enc);
		return sw_err(sw, CML_ERR_NOMEM, "out of memory");
	}
	if (sw->conf.bom && sw->conf.enc == CML_ENC_UTF8)
		sw_write(sw, "\xEF\xBB\xBF", 3);
	root_start(root, sizeof(root), &sw->conf);
	return sw_put(sw, root, strlen(root));
}

cml_stream_writer *
cml_stream_writer_new(FILE *out, const cml_writer_opts *opts)
{
	cml_stream_writer *sw;
	wconf conf;

	if (out == NULL || !conf_from(opts, &conf))
		return NULL;
	if ((sw = cml_calloc(1, sizeof(*sw))) == NULL)
		return NULL;
	sw->out = out;
	sw->conf = conf;
	sw->state = ST_OPEN;
	return sw;
}

cml_status
cml_stream_writer_add(cml_stream_writer *sw, const cml_item *item)
{
	cml_status st;
	emit e;
	bool is_doc, opens = false;
	int cps;

	if (sw == NULL || item == NULL)
		return CML_ERR_USAGE;
	if (sw->state != ST_OPEN)
		return sw->state == ST_DONE ?
		    sw_err(sw, CML_ERR_STATE, "the writer is finished") : CML_ERR_STATE;
	if (item->kind != CML_ITEM_DOCUMENT && item->kind != CML_ITEM_COUNTERPARTY)
		return sw_err(sw, CML_ERR_VALUE, "a %s has no place in an orders document",
		    cml_kind_name(item->kind) != NULL ? cml_kind_name(item->kind) : "item");
	is_doc = item->kind == CML_ITEM_DOCUMENT;
	if (!is_doc && sw->cps == CPS_CLOSED)
		return sw_err(sw, CML_ERR_USAGE, "counterparty %s: the counterparties of "
		    "a document come together, before or after its documents",
		    item->u.counterparty.id != NULL &&
		    check_text(item->u.counterparty.id) == NULL ?
		    item->u.counterparty.id : "?");

	/* Serialise first: a bad string leaves nothing written. */
	memset(&e, 0, sizeof(e));
	cml_buf_clear(&sw->item);
	e.b = &sw->item;
	e.stk = &sw->stk;
	e.stk->n = 0;
	e.ver = sw->conf.ver;
	e.indent = sw->conf.indent;
	cps = sw->cps;
	if (is_doc) {
		e.base = sec_depth[SEC_DOCS];
		if (cps == CPS_OPEN) {
			e_name(&e, cps_end(sw->conf.indent));
			cps = CPS_CLOSED;
		}
		if (sw->conf.ver >= 300) {
			opens = container_before(&e, sw->in_container, sw->container,
			    &item->u.document);
			e.base++;
		}
	} else {
		e.base = sec_depth[SEC_CPS];
		if (cps == CPS_NONE) {
			cml_tristate oc = item->u.counterparty.only_changes;

			if (sw->in_container)
				e_name(&e, container_tag(sw->conf.indent, false));
			e_name(&e, sw->conf.indent ? "\t<Контрагенты" : "<Контрагенты");
			if (oc != CML_UNSET)
				e_name(&e, oc == CML_TRUE ? " СодержитТолькоИзменения=\"true\"" :
				    " СодержитТолькоИзменения=\"false\"");
			e_name(&e, ">\n");
			cps = CPS_OPEN;
		}
	}
	put_item(&e, item, NULL, PART_ALL);
	if (!sw->conf.indent)
		e_put(&e, "\n", 1);
	if (e.nomem)
		return sw_err(sw, CML_ERR_NOMEM, "out of memory");
	if (e.failed)
		return value_msg(sw->errmsg, sizeof(sw->errmsg), item, &e);

	if (sw->ob == NULL && (st = sw_begin(sw)) != CML_OK)
		return st;
	if ((st = sw_put(sw, sw->item.data, sw->item.len)) != CML_OK)
		return st;
	sw->cps = cps;
	if (is_doc) {
		if (opens) {
			sw->in_container = true;
			sw->container = item->u.document.container;
		}
	} else {
		sw->in_container = false;
	}
	return CML_OK;
}

cml_status
cml_stream_writer_finish(cml_stream_writer *sw)
{
	cml_status st = CML_OK;

	if (sw == NULL)
		return CML_ERR_USAGE;
	if (sw->state != ST_OPEN)
		return sw->state == ST_DONE ?
		    sw_err(sw, CML_ERR_STATE, "the writer is finished") : CML_ERR_STATE;
	if (sw->ob != NULL) {
		if (sw->in_container) {
			const char *end = container_tag(sw->conf.indent, false);

			st = sw_put(sw, end, strlen(end));
		}
		if (st == CML_OK && sw->cps == CPS_OPEN) {
			const char *end = cps_end(sw->conf.indent);

			st = sw_put(sw, end, strlen(end));
		}
		if (st == CML_OK)
			st = sw_put(sw, ROOT_END, strlen(ROOT_END));
		if (st == CML_OK && xmlOutputBufferFlush(sw->ob) < 0 && sw->err == 0)
			st = sw_err(sw, CML_ERR_IO, "output: the XML encoder failed");
		if (st != CML_OK)
			return st;
		if (sw->err != 0)
			return sw_io(sw);
	}
	if (fflush(sw->out) != 0 || ferror(sw->out)) {
		sw->err = errno ? errno : EIO;
		return sw_io(sw);
	}
	sw->state = ST_DONE;
	return CML_OK;
}

const char *
cml_stream_writer_errmsg(const cml_stream_writer *sw)
{
	return sw != NULL ? sw->errmsg : "no stream writer";
}

void
cml_stream_writer_free(cml_stream_writer *sw)
{
	if (sw == NULL)
		return;
	if (sw->ob != NULL) {
		/* what an unfinished writer still buffers is dropped, not
		 * written after the caller gave up on the stream */
		if (sw->err == 0)
			sw->err = ECANCELED;
		xmlOutputBufferClose(sw->ob);
	}
	cml_buf_free(&sw->item);
	cml_free(sw->stk.v);
	cml_free(sw);
}
