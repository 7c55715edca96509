/*
 * cmdutil.c: the one place where the programs print messages, map
 * library statuses to exit statuses, expand input operands and check
 * that what they wrote to stdout really got out.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cmdutil.h"

const char *cmd_progname = "cmlkit";
int cmd_verbosity = 1;

void
cmd_init(const char *argv0)
{
	const char *slash = argv0 != NULL ? strrchr(argv0, '/') : NULL;

	if (argv0 != NULL)
		cmd_progname = slash != NULL ? slash + 1 : argv0;
}

static void
vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", cmd_progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
cmd_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
cmd_warn(const char *fmt, ...)
{
	va_list ap;

	if (cmd_verbosity < 1)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
cmd_verbose(const char *fmt, ...)
{
	va_list ap;

	if (cmd_verbosity < 2)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void
cmd_raise(int *status, int st)
{
	if (st > *status)
		*status = st;
}

int
cmd_exit_for(cml_status st)
{
	switch (st) {
	case CML_OK:
	case CML_END:
		return EXIT_OK;
	case CML_ERR_SYNTAX:
	case CML_ERR_ENCODING:
	case CML_ERR_HOSTILE:
	case CML_ERR_FORMAT:
	case CML_ERR_VALUE:
	case CML_ERR_ITEM:
		return EXIT_DATA;
	case CML_ERR_USAGE:
		return EXIT_USAGE;
	case CML_ERR_NET:
		return EXIT_RETRY;
	case CML_ERR_REFUSED:
		return EXIT_REFUSED;
	case CML_ERR_NOMEM:
	case CML_ERR_IO:
	case CML_ERR_STATE:
	case CML_ERR_BUSY:
		return EXIT_LOCAL;
	}
	return EXIT_LOCAL;
}

int
cmd_finish(int status)
{
	/* A full disk or a closed pipe shows up here, not as success. */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		if (errno != EPIPE)
			cmd_error("write error on standard output: %s", strerror(errno));
		cmd_raise(&status, EXIT_LOCAL);
	}
	if (fclose(stdout) != 0) {
		cmd_error("write error on standard output: %s", strerror(errno));
		cmd_raise(&status, EXIT_LOCAL);
	}
	if (fflush(stderr) != 0)
		cmd_raise(&status, EXIT_LOCAL);
	return status;
}

static const struct argp_option common_options[] = {
	{ "quiet", 'q', NULL, 0, "Print nothing but errors", 0 },
	{ "verbose", 'v', NULL, 0, "Say what is read, found and written", 0 },
	{ 0 }
};

static error_t
common_parse(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	(void)state;
	switch (key) {
	case 'q':
		cmd_verbosity = 0;
		return 0;
	case 'v':
		cmd_verbosity = 2;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

const struct argp cmd_common_argp = { common_options, common_parse, NULL, NULL,
	                              NULL, NULL, NULL };

void
cmd_print_version(FILE *fp, struct argp_state *state)
{
	(void)state;
	fprintf(fp, "%s (cmlkit) %s\nlibcml %s\n", cmd_progname, CMLKIT_VERSION, cml_version());
}

static bool
push(char ***list, size_t *n, size_t *cap, const char *s)
{
	if (*n + 2 > *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		char **l = realloc(*list, nc * sizeof(*l));
		if (l == NULL)
			return false;
		*list = l;
		*cap = nc;
	}
	(*list)[*n] = strdup(s);
	if ((*list)[*n] == NULL)
		return false;
	(*n)++;
	(*list)[*n] = NULL;
	return true;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool
cmd_expand_inputs(char **operands, int n, char ***out, size_t *n_out)
{
	char **list = NULL;
	size_t len = 0, cap = 0;
	bool ok = false;

	if (n == 0 && !push(&list, &len, &cap, "-"))
		goto nomem;
	for (int i = 0; i < n; i++) {
		const char *op = operands[i];
		struct stat sb;

		if (strcmp(op, "-") == 0 || stat(op, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
			/* a missing file is reported when it is opened */
			if (!push(&list, &len, &cap, op))
				goto nomem;
			continue;
		}
		DIR *d = opendir(op);
		if (d == NULL) {
			cmd_error("%s: %s", op, strerror(errno));
			goto out;
		}
		size_t first = len;
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			char path[4096];
			struct stat fsb;

			if (de->d_name[0] == '.')
				continue;
			int w = snprintf(path, sizeof(path), "%s/%s", op, de->d_name);
			if (w < 0 || (size_t)w >= sizeof(path))
				continue;
			if (stat(path, &fsb) != 0 || !S_ISREG(fsb.st_mode))
				continue;
			if (!push(&list, &len, &cap, path)) {
				closedir(d);
				goto nomem;
			}
		}
		closedir(d);
		if (len > first)
			qsort(list + first, len - first, sizeof(*list), cmp_str);
	}
	ok = true;
	goto out;
nomem:
	cmd_error("out of memory");
out:
	if (!ok) {
		cmd_free_list(list);
		list = NULL;
		len = 0;
	}
	*out = list;
	*n_out = len;
	return ok;
}

void
cmd_free_list(char **list)
{
	if (list == NULL)
		return;
	for (char **p = list; *p != NULL; p++)
		free(*p);
	free(list);
}

bool
cmd_is_csv_name(const char *name)
{
	size_t n = strlen(name);

	return n >= 4 && strcasecmp(name + n - 4, ".csv") == 0;
}

int
cmd_parse_args(const struct argp *argp, int argc, char **argv, void *input)
{
	argp_program_version_hook = cmd_print_version;
	argp_err_exit_status = EXIT_USAGE;
	return argp_parse(argp, argc, argv, 0, NULL, input) == 0 ? EXIT_OK : EXIT_USAGE;
}
