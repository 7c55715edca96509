/*
 * pkgopts.c: the package-writing options shared by full-export and
 * delta-export.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <cml/package.h>

#include "cmdutil.h"
#include "pkgopts.h"

enum {
	OPT_SPLIT = 512,
	OPT_BOM,
	OPT_DATE,
	OPT_INDENT,
	OPT_SHOP,
	OPT_CATALOG_ID,
	OPT_CATALOG_NAME,
	OPT_CLASSIFIER_ID,
	OPT_NEW_CATALOG,
};

static const struct argp_option options[] = {
	{ "output", 'o', "DIR", 0, "Write the package into DIR", 0 },
	{ "schema", 's', "VERSION", 0,
	  "Schema version to write: 2.04 to 2.10 or 3.1 (default 2.05)", 0 },
	{ "split", OPT_SPLIT, NULL, 0, "Write the split 2.08+ file set (implied by 3.1)", 0 },
	{ "encoding", 'e', "ENC", 0, "utf-8 (default) or windows-1251", 0 },
	{ "bom", OPT_BOM, NULL, 0, "Start UTF-8 files with a byte-order mark", 0 },
	{ "format", 'f', "FMT", 0, "Input format: auto (default), cml or csv", 0 },
	{ "date", OPT_DATE, "DATETIME", 0,
	  "ДатаФормирования to write, YYYY-MM-DDTHH:MM:SS (default: now)", 0 },
	{ "indent", OPT_INDENT, NULL, 0, "Pretty-print the XML", 0 },
	{ "shop", OPT_SHOP, "NAME", 0,
	  "The shop's name: names the catalog and, when the input and the database "
	  "give none, makes its identity (default: the name 1C gives its catalog)", 0 },
	{ "catalog-id", OPT_CATALOG_ID, "ID", 0,
	  "The catalog's Id when the input gives none", 0 },
	{ "catalog-name", OPT_CATALOG_NAME, "NAME", 0,
	  "The catalog's name when the input gives none", 0 },
	{ "classifier-id", OPT_CLASSIFIER_ID, "ID", 0,
	  "The classifier's Id when the input gives none", 0 },
	{ "new-catalog", OPT_NEW_CATALOG, NULL, 0,
	  "Take the identity the options give though the database remembers another "
	  "(the site sees a new catalog)", 0 },
	{ 0 }
};

static const char *const schemas[] = { "2.04", "2.05", "2.06", "2.07", "2.08",
	                               "2.09", "2.10", "3.1" };

bool
pkg_schema_known(const char *s)
{
	for (size_t i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++)
		if (strcmp(s, schemas[i]) == 0)
			return true;
	return false;
}

bool
pkg_encoding_parse(const char *s, cml_encoding *enc)
{
	if (strcasecmp(s, "utf-8") == 0 || strcasecmp(s, "utf8") == 0)
		*enc = CML_ENC_UTF8;
	else if (strcasecmp(s, "windows-1251") == 0 || strcasecmp(s, "cp1251") == 0)
		*enc = CML_ENC_WINDOWS_1251;
	else
		return false;
	return true;
}

bool
pkg_datetime_valid(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0;

	return sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 &&
	       s[n] == '\0' && strlen(s) == 19 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 &&
	       h <= 23 && mi <= 59 && sec <= 60;
}

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct pkg_opts *o = state->input;

	switch (key) {
	case 'o':
		o->output = arg;
		break;
	case 's':
		if (!pkg_schema_known(arg))
			argp_error(state, "--schema: '%s' is not one of 2.04 ... 2.10, 3.1", arg);
		o->w.schema = arg;
		break;
	case OPT_SPLIT:
		o->w.layout = CML_LAYOUT_SPLIT;
		break;
	case 'e':
		if (!pkg_encoding_parse(arg, &o->w.encoding))
			argp_error(state, "--encoding: '%s' is not utf-8 or windows-1251", arg);
		break;
	case OPT_BOM:
		o->w.bom = true;
		break;
	case 'f':
		if (!cmd_format_parse(arg, &o->format))
			argp_error(state, "--format: '%s' is not auto, cml or csv", arg);
		break;
	case OPT_DATE:
		if (!pkg_datetime_valid(arg))
			argp_error(state, "--date: '%s' is not YYYY-MM-DDTHH:MM:SS", arg);
		o->w.generated = arg;
		break;
	case OPT_INDENT:
		o->w.indent = true;
		break;
	case OPT_SHOP:
	case OPT_CATALOG_ID:
	case OPT_CATALOG_NAME:
	case OPT_CLASSIFIER_ID:
		if (*arg == '\0')
			argp_error(state, "an empty value is no catalog identity");
		if (key == OPT_SHOP)
			o->shop = arg;
		else if (key == OPT_CATALOG_ID)
			o->ident_opts.catalog_id = arg;
		else if (key == OPT_CATALOG_NAME)
			o->ident_opts.catalog_name = arg;
		else
			o->ident_opts.classifier_id = arg;
		break;
	case OPT_NEW_CATALOG:
		o->new_catalog = true;
		break;
	case ARGP_KEY_END:
		if (o->output_required && o->output == NULL)
			argp_error(state, "no output directory: give -o DIR");
		if (o->w.bom && o->w.encoding != CML_ENC_UTF8)
			argp_error(state, "--bom goes with UTF-8 only");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp pkg_argp = { options, parse_opt, NULL, NULL, NULL, NULL, NULL };

static const char *
or_none(const char *s)
{
	return s != NULL ? s : "(none)";
}

int
pkg_ident_resolve(struct pkg_opts *o, cml_store *s, bool remember)
{
	cml_ident *given = cml_ident_new(), *kept = cml_ident_new();
	bool found = false, given_any;
	int status = EXIT_OK;
	cml_status st;

	pkg_ident_free(o);
	if ((o->ident = cml_ident_new()) == NULL || given == NULL || kept == NULL)
		goto nomem;
	/* what the options say: the ids and names given, and with --shop
	 * all the rest derived from it */
	if (cml_ident_fill(given, &o->ident_opts) != CML_OK ||
	    (o->shop != NULL && cml_ident_derive(given, o->shop) != CML_OK))
		goto nomem;
	given_any = !cml_ident_is_empty(given);
	if (s != NULL && (st = cml_ident_load(s, kept, &found)) != CML_OK) {
		if (st == CML_ERR_NOMEM)
			goto nomem;
		cmd_error("%s", cml_store_errmsg(s));
		status = EXIT_LOCAL;
		goto out;
	}
	const char *field = found && given_any ?
	        cml_ident_differs(cml_ident_get(given), cml_ident_get(kept)) : NULL;
	if (field != NULL && !o->new_catalog) {
		const cml_catalog_ident *k = cml_ident_get(kept), *g = cml_ident_get(given);
		cmd_error("refused: the database remembers the shop's catalog as '%s' (Каталог "
		          "Ид %s) and this run's options give another %s ('%s' Ид %s): a site "
		          "takes a package with another identity for another catalog, and "
		          "creates it or fills a fallback one; give the options of the first "
		          "run (or none), or --new-catalog to move the shop to the new identity",
		          or_none(k->catalog_name), or_none(k->catalog_id), field,
		          or_none(g->catalog_name), or_none(g->catalog_id));
		status = EXIT_ATTENTION;
		goto out;
	}
	if (cml_ident_fill(o->ident, cml_ident_get(given)) != CML_OK ||
	    (!o->new_catalog && cml_ident_fill(o->ident, cml_ident_get(kept)) != CML_OK) ||
	    cml_ident_derive(o->ident, o->shop) != CML_OK)
		goto nomem;
	if (field != NULL)
		cmd_warn("the shop moves to a new catalog identity (--new-catalog): %s "
		         "is now '%s'", field, or_none(cml_ident_get(o->ident)->catalog_id));
	if (remember && (st = cml_ident_save(s, o->ident)) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(s));
		status = EXIT_LOCAL;
		goto out;
	}
	o->w.ident = cml_ident_get(o->ident);
	goto out;
nomem:
	cmd_error("out of memory");
	status = EXIT_LOCAL;
out:
	cml_ident_free(given);
	cml_ident_free(kept);
	return status;
}

void
pkg_ident_free(struct pkg_opts *o)
{
	cml_ident_free(o->ident);
	o->ident = NULL;
	o->w.ident = NULL;
}

bool
pkg_make_dir(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);
	struct stat sb;

	if (n == 0 || n >= sizeof(buf)) {
		cmd_error("%s: bad directory name", path);
		return false;
	}
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
			cmd_error("%s: %s", buf, strerror(errno));
			return false;
		}
		*p = '/';
	}
	if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
		cmd_error("%s: %s", buf, strerror(errno));
		return false;
	}
	if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		cmd_error("%s: not a directory", buf);
		return false;
	}
	return true;
}

char *
pkg_abs_dir(const char *path)
{
	char *abs = realpath(path, NULL);

	if (abs == NULL)
		cmd_error("%s: %s", path, strerror(errno));
	return abs;
}

int
pkg_record_files(cml_store *s, int64_t gen, const char *dir, const char *const *names)
{
	cml_package *p = cml_package_new(dir);
	char *stamp = NULL;
	cml_status st = CML_ERR_NOMEM;
	int status = EXIT_LOCAL;

	if (p == NULL || (st = cml_package_read_names(p, names)) != CML_OK ||
	    (st = cml_package_stamp(p, &stamp)) != CML_OK) {
		cmd_error("%s", p != NULL && cml_package_errmsg(p)[0] != '\0'
		                        ? cml_package_errmsg(p)
		                        : "out of memory");
		goto out;
	}
	if (cml_store_gen_set_files(s, gen, stamp) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(s));
		goto out;
	}
	status = EXIT_OK;
out:
	free(stamp);
	cml_package_free(p);
	return status;
}

int
pkg_supersede(cml_store *s)
{
	int64_t n = 0;

	if (cml_store_gen_supersede(s, &n) != CML_OK) {
		cmd_error("%s", cml_store_errmsg(s));
		return EXIT_LOCAL;
	}
	if (n > 0)
		cmd_verbose("%lld pending generation%s of earlier runs superseded: catalog-push "
		            "will not send %s",
		            (long long)n, n == 1 ? "" : "s", n == 1 ? "it" : "them");
	return EXIT_OK;
}

void
pkg_print_files(const char *output, const char *const *names)
{
	for (const char *const *f = names; f != NULL && *f != NULL; f++)
		if (printf("%s/%s\n", output, *f) < 0)
			break;
}

bool
pkg_recover(const char *dir)
{
	char err[1024];
	size_t completed = 0, removed = 0;
	cml_status st = cml_writer_recover(dir, &completed, &removed, err, sizeof(err));

	if (completed > 0)
		cmd_warn("%s: completed the package a killed run was putting in place "
		         "(%zu files renamed)",
		         dir, completed);
	if (removed > 0)
		cmd_verbose("%s: removed %zu temporary files of killed runs", dir, removed);
	if (st != CML_OK) {
		cmd_error("%s", err);
		return false;
	}
	cmd_clean_on_signal(dir);
	return true;
}

/* The real name of path, which need not exist yet: the real name of its
 * longest existing prefix, the rest appended as written. malloc'd. */
static char *
real_name(const char *path)
{
	char buf[PATH_MAX], *tail = NULL, *abs = NULL, *out = NULL;
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return NULL;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (;;) {
		if ((abs = realpath(buf, NULL)) != NULL)
			break;
		char *slash = strrchr(buf, '/');
		if (slash == NULL) {
			tail = buf;
			abs = realpath(".", NULL);
			break;
		}
		if (tail != NULL)
			tail[-1] = '/';
		*slash = '\0';
		tail = slash + 1;
		if (slash == buf) {
			abs = strdup("/");
			break;
		}
	}
	if (abs == NULL)
		return NULL;
	if (tail == NULL)
		return abs;
	size_t a = strlen(abs), t = strlen(tail);
	if ((out = malloc(a + t + 2)) != NULL) {
		memcpy(out, abs, a);
		out[a] = '/';
		memcpy(out + (a > 0 && abs[a - 1] == '/' ? a : a + 1), tail, t + 1);
	}
	free(abs);
	return out;
}

/* a is b or below it */
static bool
path_within(const char *a, const char *b)
{
	size_t n = strlen(b);

	if (strcmp(b, "/") == 0)
		return true;
	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

bool
pkg_check_output(const char *output, char *const *inputs, int n_inputs)
{
	char *out = real_name(output);
	bool ok = true;

	if (out == NULL) {
		cmd_error("%s: %s", output, strerror(errno ? errno : ENAMETOOLONG));
		return false;
	}
	for (int i = 0; i < n_inputs && ok; i++) {
		const char *what = NULL;
		char *in;

		if (strcmp(inputs[i], "-") == 0 || (in = realpath(inputs[i], NULL)) == NULL)
			continue; /* stdin, or missing: reading says so */
		if (strcmp(in, out) == 0)
			what = "is";
		else if (path_within(in, out))
			what = "contains";
		else if (path_within(out, in))
			what = "is inside";
		if (what != NULL) {
			cmd_error("-o %s: the output directory %s the input %s: the package "
			          "would replace what it is made from; choose another directory",
			          output, what, inputs[i]);
			ok = false;
		}
		free(in);
	}
	free(out);
	return ok;
}
