/*
 * cmdutil.h: command-line plumbing shared by the cmlkit programs:
 * the exit status table, messages, reading inputs, checking stdout.
 * Linked into the programs, never into libcml.
 */
#ifndef CMLKIT_CMDUTIL_H
#define CMLKIT_CMDUTIL_H

#include <argp.h>
#include <stdbool.h>
#include <stdio.h>

#include <cml/cml.h>

/*
 * The exit statuses of every cmlkit program (cmlkit(7) documents them;
 * keep the two in step). A run's status only ever goes up.
 */
enum cmd_exit {
	EXIT_OK = 0,       /* success */
	EXIT_ATTENTION = 1,/* ran, but something needs a person */
	EXIT_USAGE = 2,    /* bad command line */
	EXIT_DATA = 3,     /* bad input data */
	EXIT_RETRY = 4,    /* site or network failure worth retrying */
	EXIT_REFUSED = 5,  /* the site refused */
	EXIT_LOCAL = 6,    /* local I/O or database failure */
};

#if defined(__GNUC__) || defined(__clang__)
#define CMD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CMD_PRINTF(f, a)
#endif

/* Set once from argv[0] by cmd_init(). */
extern const char *cmd_progname;
extern int cmd_verbosity; /* 0 quiet, 1 normal, 2 verbose */

void cmd_init(const char *argv0);

/* "prog: message" on stderr. */
void cmd_error(const char *fmt, ...) CMD_PRINTF(1, 2);
void cmd_warn(const char *fmt, ...) CMD_PRINTF(1, 2);
/* Only under --verbose. */
void cmd_verbose(const char *fmt, ...) CMD_PRINTF(1, 2);

/* A cml_warn_fn (reader.h) for the library's warnings: "prog: warning:
 * message", like cmd_warn (nothing under -q); ud is not used. */
void cmd_lib_warning(void *ud, const char *msg);

/* Raises *status to st (never lowers it). */
void cmd_raise(int *status, int st);

/* The exit status a library status maps to. */
int cmd_exit_for(cml_status st);

/* Flushes and checks stdout and stderr: a full disk or a closed pipe is
 * an error. Returns the final status (raised to EXIT_LOCAL on failure). */
int cmd_finish(int status);

/* -q/--quiet and -v/--verbose, the same in every program: an argp child
 * parser that sets cmd_verbosity. */
extern const struct argp cmd_common_argp;

/* The argp version hook prints "prog (cmlkit) VERSION". */
void cmd_print_version(FILE *fp, struct argp_state *state);

/* argp_parse with what every program shares: the version hook, usage
 * errors exiting EXIT_USAGE. Returns EXIT_OK or EXIT_USAGE. */
int cmd_parse_args(const struct argp *argp, int argc, char **argv, void *input);

/*
 * Expands the input operands: a directory becomes its regular files
 * (sorted by name, hidden files skipped), "-" stays "-" (stdin), no
 * operand at all means "-". *out is a NULL-terminated malloc'd array of
 * malloc'd strings; free it with cmd_free_list(). Returns false (with a
 * message printed) when an operand can't be read.
 */
bool cmd_expand_inputs(char **operands, int n, char ***out, size_t *n_out);
void cmd_free_list(char **list);

/* From now on SIGTERM, SIGINT and SIGHUP remove this process's temporary
 * files from dir (the package's output directory) before it dies of the
 * signal: a killed run leaves nothing but what kill -9 would. */
void cmd_clean_on_signal(const char *dir);

/* True when name ends in ".csv" (case-insensitive). */
bool cmd_is_csv_name(const char *name);

#endif /* CMLKIT_CMDUTIL_H */
