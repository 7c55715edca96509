/*
 * cmdutil.c: the one place where the programs print messages, map
 * library statuses to exit statuses, expand input operands and check
 * that what they wrote to stdout really got out.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cml/writer.h>

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
cmd_lib_warning(void *ud, const char *msg)
{
	(void)ud;
	cmd_warn("warning: %s", msg);
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

/* ---- SIGTERM, SIGINT, SIGHUP: no temporary files left ---- */

static int sig_dirfd = -1;
static char sig_prefix[64]; /* ".cmlkit-tmp.PID." */
static size_t sig_prefix_len;

/* Removes this process's temporary files from the output directory and
 * dies of the signal. Only async-signal-safe calls: the directory is read
 * with getdents64 on a descriptor opened beforehand. While the package is
 * being put in place (the install journal exists) nothing is removed: the
 * next run completes the package from the files the journal names. */
static void
on_signal(int sig)
{
	char buf[4096];
	int saved = errno;

	if (sig_dirfd >= 0 &&
	    faccessat(sig_dirfd, CML_WRITER_JOURNAL, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
		/* unlinking while reading may make getdents skip an entry:
		 * read again until a pass removes nothing */
		for (int pass = 0; pass < 8; pass++) {
			bool any = false;
			long n;

			if (lseek(sig_dirfd, 0, SEEK_SET) != 0)
				break;
			while ((n = syscall(SYS_getdents64, sig_dirfd, buf, sizeof(buf))) > 0) {
				for (long off = 0; off < n;) {
					/* struct linux_dirent64: ino 8, off 8,
					 * reclen 2, type 1, name */
					unsigned short reclen;
					const char *name = buf + off + 19;

					memcpy(&reclen, buf + off + 16, sizeof(reclen));
					if (reclen == 0)
						break;
					if (strncmp(name, sig_prefix, sig_prefix_len) == 0 &&
					    unlinkat(sig_dirfd, name, 0) == 0)
						any = true;
					off += reclen;
				}
			}
			if (!any)
				break;
		}
	}
	errno = saved;
	signal(sig, SIG_DFL);
	raise(sig);
}

void
cmd_clean_on_signal(const char *dir)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa;

	if (sig_dirfd < 0)
		sig_dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sig_dirfd < 0)
		return; /* the writer will say what is wrong with dir */
	snprintf(sig_prefix, sizeof(sig_prefix), "%s%ld.", CML_WRITER_TMP_PREFIX,
	         (long)getpid());
	sig_prefix_len = strlen(sig_prefix);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;

		/* a signal ignored by whoever started us stays ignored
		 * (nohup) */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}
