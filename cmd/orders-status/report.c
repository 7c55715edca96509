/*
 * report.c: what orders-status shows without writing: one order (show,
 * text or JSON), the orders (list, CSV or JSON Lines) and the status map.
 * The formats are a contract (orders-status(1) documents them).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cml/ledger.h>
#include <cml/progress.h>

#include "cmdutil.h"
#include "dbrun.h"
#include "ostatus.h"
#include "records.h"

/* ---- show ---- */

/* The order's progress, copied out of the store's memory: the ledger and
 * the step log are read after it. */
struct snap {
	char *site, *id, *number, *date, *currency, *delivered_at, *site_refusal, *updated,
		*src_version, *src_changed, *status_code;
	cml_order_state st;
	cml_os_line *lines;
	int64_t version, delivered;
};

static void
snap_free(struct snap *p)
{
	char **s[] = { &p->site,    &p->id,           &p->number,       &p->date,
		       &p->currency, &p->delivered_at, &p->site_refusal, &p->updated,
		       &p->src_version, &p->src_changed, &p->status_code };

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
	free(p->lines);
	p->lines = NULL;
}

static bool
snap_take(struct snap *p, const cml_progress_order *po)
{
	struct {
		char **to;
		const char *from;
	} s[] = { { &p->site, po->site },
		  { &p->id, po->id },
		  { &p->number, po->number },
		  { &p->date, po->date },
		  { &p->currency, po->currency },
		  { &p->delivered_at, po->delivered_at },
		  { &p->site_refusal, po->site_refusal },
		  { &p->updated, po->updated },
		  { &p->src_version, po->src_version },
		  { &p->src_changed, po->src_changed },
		  { &p->status_code, po->status_code } };
	bool ok = true;

	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		ok &= (*s[i].to = strdup(s[i].from != NULL ? s[i].from : "")) != NULL;
	p->st = po->state;
	p->version = po->version;
	p->delivered = po->delivered;
	p->lines = malloc((po->state.n_lines + 1) * sizeof(*p->lines));
	if (p->lines != NULL && po->state.n_lines > 0)
		memcpy(p->lines, po->state.lines, po->state.n_lines * sizeof(*p->lines));
	p->st.lines = p->lines;
	return ok && p->lines != NULL;
}

static const char *
amt(int64_t v, char *buf, size_t cap)
{
	cml_os_amount_format(v, buf, cap);
	return buf;
}

static void
json_kv(FILE *f, const char *k, const char *v, bool comma)
{
	if (comma)
		fputc(',', f);
	rec_json_string(f, k);
	fputc(':', f);
	rec_json_string(f, v != NULL ? v : "");
}

static void
json_ki(FILE *f, const char *k, int64_t v)
{
	fputc(',', f);
	rec_json_string(f, k);
	fprintf(f, ":%" PRId64, v);
}

static void
json_kb(FILE *f, const char *k, bool v)
{
	fputc(',', f);
	rec_json_string(f, k);
	fputs(v ? ":true" : ":false", f);
}

static void
show_head_text(const struct snap *p)
{
	char a[40], b[40], c[40];
	const cml_order_state *st = &p->st;

	printf("order %s (Ид %s, site %s)\n", p->number[0] != '\0' ? p->number : p->id, p->id,
	       p->site);
	printf("date      %s\n", p->date);
	printf("total     %s %s\n", amt(st->total, a, sizeof(a)), p->currency);
	printf("state     %s\n", cml_os_life_name(st->life));
	printf("invoice   %s", cml_os_invoice_name(st->invoice));
	if (st->invoice_number[0] != '\0')
		printf(" %s", st->invoice_number);
	if (st->invoice_date[0] != '\0')
		printf(" %s", st->invoice_date);
	printf("\npayment   %s: paid %s of %s, refunded %s", cml_os_payment_name(st->payment),
	       amt(st->paid, a, sizeof(a)), amt(st->total, b, sizeof(b)),
	       amt(st->refunded, c, sizeof(c)));
	if (st->payment_number[0] != '\0')
		printf(", number %s", st->payment_number);
	if (st->payment_date[0] != '\0')
		printf(", date %s", st->payment_date);
	printf("\nshipment  %s", cml_os_shipment_name(st->shipment));
	if (st->shipment_number[0] != '\0')
		printf(", number %s", st->shipment_number);
	if (st->shipment_date[0] != '\0')
		printf(", date %s", st->shipment_date);
	printf("\nterms     %s\n", st->postpaid ? "postpaid" : "prepaid");
	if (st->cancel_reason[0] != '\0')
		printf("cancelled %s\n", st->cancel_reason);
	if (p->status_code[0] != '\0')
		printf("status    %s (the last code the accounting system sent)\n", p->status_code);
	if (p->version == 0)
		printf("delivery  nothing to deliver (no step yet)\n");
	else if (p->version > p->delivered)
		printf("delivery  pending: version %" PRId64 ", delivered %" PRId64 "%s%s\n",
		       p->version, p->delivered, p->delivered_at[0] != '\0' ? " at " : "",
		       p->delivered_at);
	else
		printf("delivery  delivered: version %" PRId64 " at %s\n", p->delivered,
		       p->delivered_at);
	if (p->site_refusal[0] != '\0')
		printf("refused   by the site: %s\n", p->site_refusal);
}

static void
show_head_json(const struct snap *p)
{
	char a[40];
	const cml_order_state *st = &p->st;

	fputc('{', stdout);
	json_kv(stdout, "site", p->site, false);
	json_kv(stdout, "id", p->id, true);
	json_kv(stdout, "number", p->number, true);
	json_kv(stdout, "date", p->date, true);
	json_kv(stdout, "currency", p->currency, true);
	json_kv(stdout, "total", amt(st->total, a, sizeof(a)), true);
	json_kv(stdout, "state", cml_os_life_name(st->life), true);
	json_kv(stdout, "invoice", cml_os_invoice_name(st->invoice), true);
	json_kv(stdout, "invoice_number", st->invoice_number, true);
	json_kv(stdout, "invoice_date", st->invoice_date, true);
	json_kv(stdout, "payment", cml_os_payment_name(st->payment), true);
	json_kv(stdout, "paid", amt(st->paid, a, sizeof(a)), true);
	json_kv(stdout, "refunded", amt(st->refunded, a, sizeof(a)), true);
	json_kv(stdout, "payment_number", st->payment_number, true);
	json_kv(stdout, "payment_date", st->payment_date, true);
	json_kv(stdout, "shipment", cml_os_shipment_name(st->shipment), true);
	json_kv(stdout, "shipment_number", st->shipment_number, true);
	json_kv(stdout, "shipment_date", st->shipment_date, true);
	json_kb(stdout, "postpaid", st->postpaid);
	json_kv(stdout, "cancel_reason", st->cancel_reason, true);
	json_kv(stdout, "status_code", p->status_code, true);
	json_ki(stdout, "version", p->version);
	json_ki(stdout, "delivered", p->delivered);
	json_kv(stdout, "delivered_at", p->delivered_at, true);
	json_kb(stdout, "pending", p->version > p->delivered);
	json_kv(stdout, "site_refusal", p->site_refusal, true);
	json_kv(stdout, "updated", p->updated, true);
}

/* The lines: the ledger's latest revision gives their Ид and name, the
 * progress their quantities (by position). */
static int
show_lines(struct ost *c, const struct snap *p)
{
	cml_ledger_order lo;
	cml_status st = cml_ledger_get(c->s, p->site, p->id, 0, &lo);
	char a[40], b[40];

	if (st != CML_OK) {
		cmd_error("order %s: %s", p->id, st == CML_END ? "gone from the ledger"
		                                               : cml_store_errmsg(c->s));
		return EXIT_LOCAL;
	}
	if (c->o->json)
		fputs(",\"lines\":[", stdout);
	else
		printf("lines\n");
	for (size_t i = 0; i < p->st.n_lines; i++) {
		const cml_doc_line *l = i < lo.doc->n_lines ? &lo.doc->lines[i] : NULL;
		const char *lid = l != NULL && l->id != NULL ? l->id : "";
		const char *name = l != NULL && l->name != NULL ? l->name : "";

		amt(p->lines[i].ordered, a, sizeof(a));
		amt(p->lines[i].shipped, b, sizeof(b));
		if (c->o->json) {
			fputs(i > 0 ? ",{" : "{", stdout);
			json_kv(stdout, "id", lid, false);
			json_kv(stdout, "name", name, true);
			json_kv(stdout, "ordered", a, true);
			json_kv(stdout, "shipped", b, true);
			json_kb(stdout, "service", p->lines[i].service);
			fputc('}', stdout);
		} else if (p->lines[i].service) {
			printf("  %zu  %s  %s: %s, a service\n", i + 1, lid, name, a);
		} else {
			printf("  %zu  %s  %s: ordered %s, shipped %s\n", i + 1, lid, name, a, b);
		}
	}
	if (c->o->json)
		fputc(']', stdout);
	return EXIT_OK;
}

static int
show_steps(struct ost *c, const struct snap *p)
{
	void *cur = NULL;
	cml_progress_step ps;
	cml_status st;
	size_t n = 0;

	if (c->o->json)
		fputs(",\"steps\":[", stdout);
	else
		printf("steps\n");
	while ((st = cml_progress_steps(c->s, p->site, p->id, &cur, &ps)) == CML_OK) {
		if (c->o->json) {
			fputs(n > 0 ? ",{" : "{", stdout);
			rec_json_string(stdout, "seq");
			printf(":%" PRId64, ps.seq);
			json_kv(stdout, "step", cml_step_name(ps.kind), true);
			json_kv(stdout, "args", ps.args, true);
			json_kv(stdout, "source", ps.source, true);
			json_kv(stdout, "at", ps.at, true);
			json_ki(stdout, "run", ps.run);
			json_ki(stdout, "version", ps.version);
			fputc('}', stdout);
		} else {
			printf("  %" PRId64 "  %s  %s%s%s  (%s, run %" PRId64 ")\n", ps.seq, ps.at,
			       cml_step_name(ps.kind), ps.args[0] != '\0' ? " " : "", ps.args,
			       ps.source, ps.run);
		}
		n++;
	}
	cml_progress_end(c->s, &cur);
	if (st != CML_END) {
		cmd_error("%s", cml_store_errmsg(c->s));
		return EXIT_LOCAL;
	}
	if (c->o->json)
		fputs("]}\n", stdout);
	else if (n == 0)
		printf("  none\n");
	return EXIT_OK;
}

int
ost_run_show(struct ost *c)
{
	const char *key = c->o->args[0];
	struct snap p = { 0 };
	char *site = NULL, *id = NULL;
	cml_progress_order po;
	cml_status st;
	int status;

	if ((status = db_open(&c->o->db, true, &c->s)) != EXIT_OK)
		return status;
	st = ost_find(c, c->o->site, key, &site, &id);
	if (st == CML_OK)
		st = cml_progress_load(c->s, site, id, &po);
	if (st == CML_END) {
		cmd_error("order %s: no order of the ledger%s%s has that Номер or Ид", key,
		          c->o->site != NULL ? " of site " : "", c->o->site != NULL ? c->o->site : "");
		status = EXIT_DATA;
	} else if (st == CML_ERR_VALUE) {
		cmd_error("order %s: %s; say which with --site or the Ид", key,
		          cml_store_errmsg(c->s));
		status = EXIT_USAGE;
	} else if (st != CML_OK) {
		cmd_error("%s", st == CML_ERR_NOMEM ? "out of memory" : cml_store_errmsg(c->s));
		status = EXIT_LOCAL;
	} else if (!snap_take(&p, &po)) {
		cmd_error("out of memory");
		status = EXIT_LOCAL;
	} else {
		if (c->o->json)
			show_head_json(&p);
		else
			show_head_text(&p);
		if ((status = show_lines(c, &p)) == EXIT_OK)
			status = show_steps(c, &p);
	}
	snap_free(&p);
	free(site);
	free(id);
	return status;
}

/* ---- list ---- */

static const struct rec_field list_fields[] = {
	{ "site", REC_STR },       { "order_id", REC_STR },  { "number", REC_STR },
	{ "date", REC_STR },       { "total", REC_STR },     { "currency", REC_STR },
	{ "state", REC_STR },      { "invoice", REC_STR },   { "payment", REC_STR },
	{ "shipment", REC_STR },   { "postpaid", REC_BOOL }, { "paid", REC_STR },
	{ "refunded", REC_STR },   { "version", REC_INT },   { "delivered", REC_INT },
	{ "pending", REC_BOOL },   { "updated", REC_STR },   { "site_refusal", REC_STR },
};
#define N_LIST_FIELDS (sizeof(list_fields) / sizeof(list_fields[0]))

int
ost_run_list(struct ost *c)
{
	struct rec_out rec = { .f = stdout,
		               .fmt = c->o->recfmt,
		               .fields = list_fields,
		               .n = N_LIST_FIELDS };
	cml_progress_filter f = { .site = c->o->site,
		                  .life_mask = c->o->life_mask,
		                  .pending = c->o->pending };
	cml_progress_order po;
	void *cur = NULL;
	cml_status st;
	int status;

	if ((status = db_open(&c->o->db, true, &c->s)) != EXIT_OK)
		return status;
	while ((st = cml_progress_next(c->s, &f, &cur, &po)) == CML_OK) {
		const cml_order_state *s = &po.state;
		char total[40], paid[40], refunded[40], version[24], delivered[24];

		snprintf(version, sizeof(version), "%" PRId64, po.version);
		snprintf(delivered, sizeof(delivered), "%" PRId64, po.delivered);
		const char *v[N_LIST_FIELDS] = {
			po.site,
			po.id,
			po.number,
			po.date,
			amt(s->total, total, sizeof(total)),
			po.currency,
			cml_os_life_name(s->life),
			cml_os_invoice_name(s->invoice),
			cml_os_payment_name(s->payment),
			cml_os_shipment_name(s->shipment),
			s->postpaid ? "true" : "false",
			amt(s->paid, paid, sizeof(paid)),
			amt(s->refunded, refunded, sizeof(refunded)),
			version,
			delivered,
			po.version > po.delivered ? "true" : "false",
			po.updated,
			po.site_refusal,
		};
		if (!rec_write(&rec, v))
			break; /* found by cmd_finish */
	}
	cml_progress_end(c->s, &cur);
	if (st != CML_OK && st != CML_END) {
		cmd_error("%s", cml_store_errmsg(c->s));
		return EXIT_LOCAL;
	}
	(void)rec_finish(&rec);
	return EXIT_OK;
}

/* ---- map ---- */

static const struct rec_field map_fields[] = {
	{ "site", REC_STR }, { "code", REC_STR }, { "state", REC_STR },
	{ "send", REC_BOOL }, { "name", REC_STR },
};
#define N_MAP_FIELDS (sizeof(map_fields) / sizeof(map_fields[0]))

int
ost_run_map(struct ost *c)
{
	struct rec_out rec = { .f = stdout,
		               .fmt = c->o->recfmt,
		               .fields = map_fields,
		               .n = N_MAP_FIELDS };
	cml_status_map_entry e;
	void *cur = NULL;
	cml_status st;
	int status;

	if ((status = db_open(&c->o->db, true, &c->s)) != EXIT_OK)
		return status;
	while ((st = cml_status_map_next(c->s, &cur, &e)) == CML_OK) {
		const char *v[N_MAP_FIELDS] = { e.site, e.code, cml_os_life_name(e.life),
			                        e.send ? "true" : "false", e.name };
		if (!rec_write(&rec, v))
			break;
	}
	cml_progress_end(c->s, &cur);
	if (st != CML_OK && st != CML_END) {
		cmd_error("%s", cml_store_errmsg(c->s));
		return EXIT_LOCAL;
	}
	(void)rec_finish(&rec);
	return EXIT_OK;
}
