/*
 * orderfmt.c: orders written for whoever takes them next (see orderfmt.h
 * and cmlkit-orders(5)).
 *
 * XML goes through the stream writer: an order and the payment and
 * shipment documents attached to it share one 3.1 Контейнер. CSV rows
 * are quoted by libcsv and written one fwrite a row. A JSON Lines object
 * is the canonical dump of the document (dump.c: keys are model.h's
 * names, escaping done once there) with the ledger's fields in front and
 * the attachments behind; it is kept until the next order or finish, as
 * attachments arrive after their order.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "cml/orderfmt.h"
#include "cml_private.h"

struct cml_orderfmt {
	FILE *out;
	cml_orderfmt_kind kind;
	cml_stream_writer *sw;    /* xml */
	unsigned container;       /* xml: of the last order */
	size_t orders;
	bool failed;              /* a write failed: nothing more is written */
	bool finished;
	cml_buf row;              /* csv: the row being built */
	cml_buf field;            /* csv: a field made valid UTF-8 */
	char *q;                  /* csv: the field quoted */
	size_t qcap;
	cml_buf obj;              /* jsonl: the pending order's object, open */
	cml_buf dump;             /* jsonl: a document's dump line */
	size_t attachments;       /* jsonl: in obj */
	char errmsg[CML_ERRMSG_MAX];
};

bool
cml_orderfmt_parse(const char *name, cml_orderfmt_kind *kind)
{
	static const struct {
		const char *name;
		cml_orderfmt_kind kind;
	} names[] = {
		{ "xml", CML_ORDERFMT_XML },
		{ "csv", CML_ORDERFMT_CSV },
		{ "jsonl", CML_ORDERFMT_JSONL },
	};

	for (size_t i = 0; name != NULL && i < CML_ARRAY_LEN(names); i++)
		if (strcmp(name, names[i].name) == 0) {
			if (kind != NULL)
				*kind = names[i].kind;
			return true;
		}
	return false;
}

static cml_status set_err(cml_orderfmt *f, cml_status st, const char *fmt, ...)
    CML_PRINTF(3, 4);

static cml_status
set_err(cml_orderfmt *f, cml_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cml_msg_vset(f->errmsg, sizeof(f->errmsg), fmt, ap);
	va_end(ap);
	if (st == CML_ERR_IO || st == CML_ERR_NOMEM)
		f->failed = true;
	return st;
}

static cml_status
nomem(cml_orderfmt *f)
{
	return set_err(f, CML_ERR_NOMEM, "out of memory");
}

static cml_status
put_bytes(cml_orderfmt *f, const char *s, size_t n)
{
	errno = 0;
	if (n > 0 && fwrite(s, 1, n, f->out) != n)
		return set_err(f, CML_ERR_IO, "output: %s", strerror(errno ? errno : EIO));
	return CML_OK;
}

cml_orderfmt *
cml_orderfmt_new(FILE *out, cml_orderfmt_kind kind, const cml_writer_opts *xml)
{
	cml_orderfmt *f;

	if (out == NULL || (kind != CML_ORDERFMT_XML && kind != CML_ORDERFMT_CSV &&
	                    kind != CML_ORDERFMT_JSONL))
		return NULL;
	if ((f = cml_calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->out = out;
	f->kind = kind;
	if (kind == CML_ORDERFMT_XML && (f->sw = cml_stream_writer_new(out, xml)) == NULL) {
		cml_free(f);
		return NULL;
	}
	return f;
}

/* ---- CSV ---- */

/* The columns, in order; cmlkit-orders(5) says what each holds. */
static const char *const csv_columns[] = {
	"site", "revision", "change", "order_id", "number", "date", "time",
	"operation", "currency", "rate", "order_sum", "comment", "version",
	"number_1c", "date_1c", "deleted",
	"buyer_id", "buyer_name", "buyer_inn", "buyer_kpp", "buyer_email",
	"buyer_phone", "buyer_address",
	"status_id", "status", "paid", "delivery_allowed", "cancelled",
	"final_status", "payment_method", "delivery_method", "delivery_address",
	"line", "product_id", "article", "name", "unit", "unit_name", "price",
	"quantity", "sum", "discount", "tax_name", "tax_rate", "tax_sum",
	"characteristics",
};

/* One field, made valid UTF-8 (a byte that is not becomes U+FFFD), quoted
 * by libcsv, and a comma or the row's end after it. */
static bool
csv_field(cml_orderfmt *f, const char *s, bool last)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t n = strlen((const char *)p), need;
	const char *src;

	cml_buf_clear(&f->field);
	for (size_t i = 0; i < n;) {
		unsigned long cp;
		size_t k = p[i] < 0x80 ? 1 : cml_utf8_decode(p + i, n - i, &cp);

		if (k == 0) {
			if (!cml_buf_append(&f->field, "\xEF\xBF\xBD", 3))
				return false;
			i++;
			continue;
		}
		if (!cml_buf_append(&f->field, (const char *)p + i, k))
			return false;
		i += k;
	}
	src = f->field.data != NULL ? f->field.data : "";
	need = csv_write(NULL, 0, src, f->field.len);
	if (need > f->qcap) {
		char *q = cml_realloc(f->q, need);

		if (q == NULL)
			return false;
		f->q = q;
		f->qcap = need;
	}
	csv_write(f->q, need, src, f->field.len);
	if (!cml_buf_append(&f->row, f->q, need))
		return false;
	return cml_buf_append(&f->row, last ? "\r\n" : ",", last ? 2 : 1);
}

static const char *
requisite(const cml_document *d, const char *name)
{
	for (size_t i = 0; i < d->n_requisites; i++)
		if (d->requisites[i].name != NULL && strcmp(d->requisites[i].name, name) == 0)
			return d->requisites[i].value;
	return NULL;
}

/* The first of the contact types given, of a counterparty. */
static const char *
contact(const cml_counterparty *c, const char *const *types)
{
	for (; c != NULL && *types != NULL; types++)
		for (size_t i = 0; i < c->n_contacts; i++)
			if (c->contacts[i].name != NULL && strcmp(c->contacts[i].name, *types) == 0)
				return c->contacts[i].value;
	return NULL;
}

/* The buyer: the counterparty whose Роль is Покупатель, else the first. */
static const cml_counterparty *
buyer(const cml_document *d)
{
	for (size_t i = 0; i < d->n_counterparties; i++)
		if (d->counterparties[i].role != NULL &&
		    strcmp(d->counterparties[i].role, "Покупатель") == 0)
			return &d->counterparties[i];
	return d->n_counterparties > 0 ? &d->counterparties[0] : NULL;
}

/* A line's discounts as one sum, when each says its sum. */
static bool
line_discount(const cml_doc_line *l, char *out, size_t cap)
{
	long double d = 0;
	char buf[160];

	out[0] = '\0';
	if (l->n_discounts == 0)
		return true;
	for (size_t i = 0; i < l->n_discounts; i++) {
		if (l->discounts[i].sum == NULL || !cml_num_canon(l->discounts[i].sum, buf, sizeof(buf)))
			return true; /* a percent only: left to the JSON form */
		d += strtold(buf, NULL);
	}
	snprintf(buf, sizeof(buf), "%.6Lf", d);
	return cml_num_canon(buf, out, cap);
}

static cml_status
csv_row(cml_orderfmt *f, const cml_document *d, const cml_orderfmt_meta *m, size_t li)
{
	static const char *const email[] = { "Электронная почта", "Почта", "E-mail", "Email", NULL };
	static const char *const phone[] = { "Телефон рабочий", "ТелефонРабочий", "Телефон",
		                             "Телефон мобильный", NULL };
	const cml_counterparty *b = buyer(d);
	const cml_doc_line *l = li < d->n_lines ? &d->lines[li] : NULL;
	const cml_tax *tax = l == NULL ? NULL : l->n_taxes > 0 ? &l->taxes[0] :
	                     l->n_tax_rates > 0 ? &l->tax_rates[0] : NULL;
	char rev[32] = "", lineno[32] = "", disc[160] = "";
	cml_buf chars = { 0 };
	bool ok = true;

	if (m != NULL && m->revision != 0)
		snprintf(rev, sizeof(rev), "%" PRId64, m->revision);
	if (l != NULL) {
		snprintf(lineno, sizeof(lineno), "%zu", li + 1);
		line_discount(l, disc, sizeof(disc));
		for (size_t i = 0; ok && i < l->n_characteristics; i++) {
			const cml_pair *c = &l->characteristics[i];

			ok = cml_buf_appendf(&chars, "%s%s=%s", i > 0 ? "; " : "",
			                     c->name != NULL ? c->name : "",
			                     c->value != NULL ? c->value : "");
		}
	}
	const char *addr = b == NULL ? NULL : b->reg_address.presentation != NULL ?
	                   b->reg_address.presentation : b->legal_address.presentation;
	const char *bname = b == NULL ? NULL : b->name != NULL ? b->name :
	                    b->full_name != NULL ? b->full_name : b->official_name;
	const char *v[] = {
		m != NULL ? m->site : NULL, rev, m != NULL ? m->change : NULL,
		d->id, d->number, d->date, d->time, d->operation, d->currency, d->rate,
		d->sum, d->comment, d->version, d->number_1c, d->date_1c,
		d->deleted ? "true" : NULL,
		b != NULL ? b->id : NULL, bname, b != NULL ? b->inn : NULL,
		b != NULL ? b->kpp : NULL, contact(b, email), contact(b, phone), addr,
		requisite(d, "Статуса заказа ИД"), requisite(d, "Статус заказа"),
		requisite(d, "Заказ оплачен"), requisite(d, "Доставка разрешена"),
		requisite(d, "Отменен"), requisite(d, "Финальный статус"),
		requisite(d, "Метод оплаты"), requisite(d, "Способ доставки"),
		requisite(d, "Адрес доставки"),
		l != NULL ? lineno : NULL, l != NULL ? l->id : NULL,
		l != NULL ? l->article : NULL, l != NULL ? l->name : NULL,
		l != NULL ? (l->line_unit.code != NULL ? l->line_unit.code : l->unit.code) : NULL,
		l != NULL ? (l->line_unit.name != NULL ? l->line_unit.name : l->unit.name) : NULL,
		l != NULL ? l->price : NULL, l != NULL ? l->quantity : NULL,
		l != NULL ? l->sum : NULL, disc,
		tax != NULL ? tax->name : NULL, tax != NULL ? tax->rate : NULL,
		tax != NULL ? tax->sum : NULL, chars.data,
	};
	_Static_assert(CML_ARRAY_LEN(v) == CML_ARRAY_LEN(csv_columns), "a value per column");

	cml_buf_clear(&f->row);
	for (size_t i = 0; ok && i < CML_ARRAY_LEN(v); i++)
		ok = csv_field(f, v[i], i + 1 == CML_ARRAY_LEN(v));
	cml_buf_free(&chars);
	if (!ok)
		return nomem(f);
	return put_bytes(f, f->row.data, f->row.len);
}

static cml_status
csv_add(cml_orderfmt *f, const cml_document *d, const cml_orderfmt_meta *m)
{
	cml_status st;

	if (f->orders == 0) {
		bool ok = true;

		cml_buf_clear(&f->row);
		for (size_t i = 0; ok && i < CML_ARRAY_LEN(csv_columns); i++)
			ok = csv_field(f, csv_columns[i], i + 1 == CML_ARRAY_LEN(csv_columns));
		if (!ok)
			return nomem(f);
		if ((st = put_bytes(f, f->row.data, f->row.len)) != CML_OK)
			return st;
	}
	for (size_t i = 0; i == 0 || i < d->n_lines; i++)
		if ((st = csv_row(f, d, m, i)) != CML_OK)
			return st;
	return CML_OK;
}

/* ---- JSON Lines ---- */

/* The dump of d, without its braces and newline, after what b holds. */
static cml_status
json_document(cml_orderfmt *f, cml_buf *b, const cml_document *d)
{
	cml_item it;
	cml_status st;

	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_DOCUMENT;
	it.u.document = *d;
	it.u.document.container = 0; /* packaging of one file, not content */
	cml_buf_clear(&f->dump);
	if ((st = cml_item_dump_buf(&it, &f->dump)) != CML_OK)
		return st == CML_ERR_NOMEM ? nomem(f) : set_err(f, st, "order: %s",
		                                                cml_status_str(st));
	/* "{...}\n": the members only */
	if (f->dump.len < 3 || !cml_buf_append(b, f->dump.data + 1, f->dump.len - 3))
		return nomem(f);
	return CML_OK;
}

/* Writes the pending order's object, closed. */
static cml_status
json_flush(cml_orderfmt *f)
{
	cml_status st;

	if (f->obj.len == 0)
		return CML_OK;
	const char *end = f->attachments > 0 ? "]}\n" : "}\n";

	if (!cml_buf_append(&f->obj, end, strlen(end)))
		return nomem(f);
	st = put_bytes(f, f->obj.data, f->obj.len);
	cml_buf_clear(&f->obj);
	f->attachments = 0;
	return st;
}

static bool
json_member(cml_buf *b, const char *key, const char *v)
{
	if (v == NULL)
		return true;
	return cml_buf_appendf(b, "\"%s\":", key) && cml_json_string(b, v) &&
	       cml_buf_append(b, ",", 1);
}

static cml_status
json_add(cml_orderfmt *f, const cml_document *d, const cml_orderfmt_meta *m)
{
	cml_status st;
	bool ok = true;

	if ((st = json_flush(f)) != CML_OK)
		return st;
	ok = cml_buf_append(&f->obj, "{", 1);
	if (m != NULL) {
		ok = ok && json_member(&f->obj, "site", m->site);
		if (m->revision != 0)
			ok = ok && cml_buf_appendf(&f->obj, "\"revision\":%" PRId64 ",", m->revision);
		ok = ok && json_member(&f->obj, "change", m->change) &&
		     json_member(&f->obj, "changed", m->changed);
	}
	if (!ok)
		return nomem(f);
	return json_document(f, &f->obj, d);
}

static cml_status
json_attach(cml_orderfmt *f, const cml_document *d)
{
	const char *open = f->attachments == 0 ? ",\"attachments\":[{" : ",{";

	if (!cml_buf_append(&f->obj, open, strlen(open)))
		return nomem(f);
	cml_status st = json_document(f, &f->obj, d);
	if (st != CML_OK)
		return st;
	if (!cml_buf_append(&f->obj, "}", 1))
		return nomem(f);
	f->attachments++;
	return CML_OK;
}

/* ---- the handle ---- */

static cml_status
usable(cml_orderfmt *f)
{
	if (f->finished)
		return set_err(f, CML_ERR_STATE, "the output is finished");
	if (f->failed)
		return CML_ERR_STATE;
	return CML_OK;
}

static cml_status
xml_doc(cml_orderfmt *f, const cml_document *d)
{
	cml_item it;
	cml_status st;

	memset(&it, 0, sizeof(it));
	it.kind = CML_ITEM_DOCUMENT;
	it.u.document = *d;
	it.u.document.container = f->container; /* an order and its attachments: one */
	if ((st = cml_stream_writer_add(f->sw, &it)) != CML_OK)
		return set_err(f, st, "%s", cml_stream_writer_errmsg(f->sw));
	return CML_OK;
}

cml_status
cml_orderfmt_add(cml_orderfmt *f, const cml_document *doc, const cml_orderfmt_meta *meta)
{
	cml_status st;

	if (f == NULL || doc == NULL)
		return CML_ERR_USAGE;
	if ((st = usable(f)) != CML_OK)
		return st;
	switch (f->kind) {
	case CML_ORDERFMT_XML:
		f->container++;
		st = xml_doc(f, doc);
		break;
	case CML_ORDERFMT_CSV:
		st = csv_add(f, doc, meta);
		break;
	case CML_ORDERFMT_JSONL:
		st = json_add(f, doc, meta);
		break;
	}
	if (st == CML_OK)
		f->orders++;
	return st;
}

cml_status
cml_orderfmt_add_attachment(cml_orderfmt *f, const cml_document *doc)
{
	cml_status st;

	if (f == NULL || doc == NULL)
		return CML_ERR_USAGE;
	if ((st = usable(f)) != CML_OK)
		return st;
	if (f->orders == 0)
		return set_err(f, CML_ERR_STATE, "an attachment (Ид %.60s) before any order",
		               doc->id != NULL ? doc->id : "?");
	switch (f->kind) {
	case CML_ORDERFMT_XML:
		return xml_doc(f, doc);
	case CML_ORDERFMT_JSONL:
		return json_attach(f, doc);
	case CML_ORDERFMT_CSV:
		break;
	}
	return CML_OK;
}

cml_status
cml_orderfmt_finish(cml_orderfmt *f)
{
	cml_status st;

	if (f == NULL)
		return CML_ERR_USAGE;
	if ((st = usable(f)) != CML_OK)
		return st;
	if (f->kind == CML_ORDERFMT_XML) {
		if ((st = cml_stream_writer_finish(f->sw)) != CML_OK)
			return set_err(f, st, "%s", cml_stream_writer_errmsg(f->sw));
	} else {
		if (f->kind == CML_ORDERFMT_JSONL && (st = json_flush(f)) != CML_OK)
			return st;
		errno = 0;
		if (fflush(f->out) != 0 || ferror(f->out))
			return set_err(f, CML_ERR_IO, "output: %s", strerror(errno ? errno : EIO));
	}
	f->finished = true;
	return CML_OK;
}

const char *
cml_orderfmt_errmsg(const cml_orderfmt *f)
{
	return f != NULL ? f->errmsg : "no order output";
}

void
cml_orderfmt_free(cml_orderfmt *f)
{
	if (f == NULL)
		return;
	cml_stream_writer_free(f->sw);
	cml_buf_free(&f->row);
	cml_buf_free(&f->field);
	cml_free(f->q);
	cml_buf_free(&f->obj);
	cml_buf_free(&f->dump);
	cml_free(f);
}
