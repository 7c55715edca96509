/*
 * siteopts.h: the options of every program that talks to a site (--url,
 * --user, --password-file, --netrc-file, TLS, timeouts, retries), as an
 * argp child parser, and where the password comes from: a file,
 * $CMLKIT_PASSWORD or netrc, never the command line.
 */
#ifndef CMLKIT_SITEOPTS_H
#define CMLKIT_SITEOPTS_H

#include <argp.h>
#include <stdbool.h>

#include <cml/exchange.h>

struct site_opts {
	const char *url;
	const char *user;
	const char *password_file;
	const char *netrc_file;
	const char *cacert;
	bool insecure;
	double timeout, connect_timeout, retry_wait, import_time; /* seconds */
	long retries, import_steps;
	char *password; /* resolved by site_prepare; wiped by site_release */
	char *netrc_user; /* the login netrc gave, when no --user */
};

/* The child parser; its input is a struct site_opts * (state->child_inputs).
 * Defaults for --url and --user come from $CMLKIT_URL and $CMLKIT_USER. */
extern const struct argp site_argp;

/*
 * Checks that a site was given, reads the password and fills *x for
 * cml_exchange_new: the site, the limits, and the log under --verbose
 * (the type and the progress callback are the caller's). Prints the
 * reason and returns an exit status other than EXIT_OK on failure.
 */
int site_prepare(struct site_opts *s, cml_exchange_opts *x);

/* Wipes and frees the password. */
void site_release(struct site_opts *s);

#endif /* CMLKIT_SITEOPTS_H */
