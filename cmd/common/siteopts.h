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

/* A site name: what the ledger keys a site's orders by. */
#define SITE_NAME_MAX 64

struct site_opts {
	const char *site;   /* --site NAME, else $CMLKIT_SITE; NULL: from the URL */
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
	char url_site[SITE_NAME_MAX + 1]; /* the name the URL gives; "" when none */
};

/* The child parser; its input is a struct site_opts * (state->child_inputs).
 * Defaults for --site, --url and --user come from $CMLKIT_SITE,
 * $CMLKIT_URL and $CMLKIT_USER. A site name given (option or variable)
 * that is not 1..SITE_NAME_MAX of [A-Za-z0-9._-] is a usage error. */
extern const struct argp site_argp;

/* 1..SITE_NAME_MAX of [A-Za-z0-9._-]: what a site name may be, for a
 * program that takes --site without the other site options. */
bool site_name_valid(const char *name);

/*
 * The site's name (after parsing): --site, else $CMLKIT_SITE, else the
 * URL's host, lower-cased, with "_PORT" when the port is not the scheme's
 * default: https://Shop.Example:8443/x gives "shop.example_8443", a name
 * that --site can give where there is no URL (file mode). NULL when there
 * is no --site and no URL, or the URL's host makes no valid name (an IPv6
 * address, an international name not in punycode, more than
 * SITE_NAME_MAX characters).
 */
const char *site_name(const struct site_opts *s);

/*
 * Checks that a site was given, reads the password and fills *x for
 * cml_exchange_new: the site, the limits, and the log under --verbose
 * (the type and the progress callback are the caller's). Prints the
 * reason and returns an exit status other than EXIT_OK on failure.
 */
int site_prepare(struct site_opts *s, cml_exchange_opts *x);

/*
 * site_prepare, then the exchange client on *x (cml_exchange_new): what
 * every program that talks to a site does first, so a bad URL or no
 * password is found before anything else is touched. The caller's type,
 * version, progress and ud in *x are kept. EXIT_OK with *out set, or the
 * exit status with the reason said.
 */
int site_open(struct site_opts *s, cml_exchange_opts *x, cml_exchange **out);

/* Wipes and frees the password. */
void site_release(struct site_opts *s);

#endif /* CMLKIT_SITEOPTS_H */
