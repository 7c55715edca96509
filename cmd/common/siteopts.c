/*
 * siteopts.c: the site options shared by catalog-push and the order
 * programs.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cmdutil.h"
#include "siteopts.h"

enum { OPT_SITE = 768, OPT_URL, OPT_USER, OPT_PASSWORD_FILE, OPT_NETRC_FILE, OPT_CACERT,
       OPT_INSECURE, OPT_TIMEOUT, OPT_CONNECT_TIMEOUT, OPT_RETRIES, OPT_RETRY_WAIT,
       OPT_IMPORT_STEPS, OPT_IMPORT_TIME };

static const struct argp_option options[] = {
	{ NULL, 0, NULL, 0, "The site:", 10 },
	{ "site", OPT_SITE, "NAME", 0,
	  "The site's name in the database: 1 to 64 of A-Z a-z 0-9 . _ - (default: "
	  "$CMLKIT_SITE, else the URL's host, and _PORT when the port is not the default)", 10 },
	{ "url", OPT_URL, "URL", 0,
	  "The site's exchange script, e.g. https://shop.example/bitrix/admin/1c_exchange.php "
	  "(default: $CMLKIT_URL)", 10 },
	{ "user", OPT_USER, "NAME", 0, "The exchange user (default: $CMLKIT_USER, else netrc)", 10 },
	{ "password-file", OPT_PASSWORD_FILE, "FILE", 0,
	  "Read the password from the first line of FILE (else $CMLKIT_PASSWORD, else netrc)",
	  10 },
	{ "netrc-file", OPT_NETRC_FILE, "FILE", 0, "The netrc file to use (default ~/.netrc)", 10 },
	{ "cacert", OPT_CACERT, "FILE", 0, "Verify the site's certificate against the CAs in FILE",
	  10 },
	{ "insecure", OPT_INSECURE, NULL, 0,
	  "Do not verify the site's TLS certificate (anyone on the way can read the password)",
	  10 },
	{ "timeout", OPT_TIMEOUT, "SECONDS", 0,
	  "Give up on an answer not whole within SECONDS (an upload's: after its body), or on an "
	  "upload that stalls for SECONDS (default 300)", 10 },
	{ "connect-timeout", OPT_CONNECT_TIMEOUT, "SECONDS", 0,
	  "Wait SECONDS at most for a connection (default 30)", 10 },
	{ "retries", OPT_RETRIES, "N", 0,
	  "Repeat a request that failed in a way worth retrying N times (default 3)", 10 },
	{ "retry-wait", OPT_RETRY_WAIT, "SECONDS", 0,
	  "Wait SECONDS before the first repeat, twice as long before each next (default 1)",
	  10 },
	{ "import-steps", OPT_IMPORT_STEPS, "N", 0,
	  "Stop waiting for one import after N progress answers (default 100000)", 10 },
	{ "import-time", OPT_IMPORT_TIME, "SECONDS", 0,
	  "Stop waiting for one import after SECONDS (default 14400)", 10 },
	{ 0 }
};

static double
seconds(struct argp_state *state, const char *opt, const char *arg, bool zero_ok)
{
	char *end;

	errno = 0;
	double v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(v) || v < 0 ||
	    (!zero_ok && v == 0) || v > 30 * 86400.0)
		argp_error(state, "%s: '%s' is not a number of seconds", opt, arg);
	return v;
}

static long
count(struct argp_state *state, const char *opt, const char *arg, long min)
{
	char *end;

	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || v < min || v > 100000000L)
		argp_error(state, "%s: '%s' is not a count (%ld or more)", opt, arg, min);
	return v;
}

/* 1..SITE_NAME_MAX of [A-Za-z0-9._-]: safe in a file name, a shell word
 * and a log line as it is. */
bool
site_name_valid(const char *name)
{
	size_t n = strlen(name);

	return n >= 1 && n <= SITE_NAME_MAX &&
	       strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

#define SITE_RULE "1 to 64 of the characters A-Z a-z 0-9 . _ -"

/*
 * The name the URL gives (site_name()), into out; "" when it gives none.
 * libcurl parses the URL as the exchange client will, and gives the port
 * only when it is not the scheme's default. (Its punycode conversion
 * depends on the locale, so an international host name gives no name.)
 */
static void
url_site(const char *url, char *out, size_t cap)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;

	out[0] = '\0';
	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_PORT, &port, CURLU_NO_DEFAULT_PORT) != CURLUE_OK)
		port = NULL; /* none, or the default */
	int n = snprintf(out, cap, "%s%s%s", host, port != NULL ? "_" : "", port != NULL ? port : "");
	if (n < 0 || (size_t)n >= cap) {
		out[0] = '\0';
		goto out;
	}
	for (char *p = out; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (!site_name_valid(out))
		out[0] = '\0'; /* an IPv6 address, an international name */
out:
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

static error_t
parse_opt(int key, char *arg, struct argp_state *state)
{
	struct site_opts *s = state->input;

	switch (key) {
	case ARGP_KEY_INIT:
		s->site = getenv("CMLKIT_SITE");
		if (s->site != NULL && s->site[0] == '\0')
			s->site = NULL;
		s->url = getenv("CMLKIT_URL");
		s->user = getenv("CMLKIT_USER");
		if (s->url != NULL && s->url[0] == '\0')
			s->url = NULL;
		if (s->user != NULL && s->user[0] == '\0')
			s->user = NULL;
		s->timeout = 300;
		s->connect_timeout = 30;
		s->retry_wait = 1;
		s->import_time = 14400;
		s->retries = 3;
		s->import_steps = 100000;
		break;
	case OPT_SITE:
		if (!site_name_valid(arg)) {
			argp_error(state, "--site: '%s' is not a site name: " SITE_RULE, arg);
			return EINVAL;
		}
		s->site = arg;
		break;
	case OPT_URL:
		s->url = arg;
		break;
	case OPT_USER:
		s->user = arg;
		break;
	case OPT_PASSWORD_FILE:
		s->password_file = arg;
		break;
	case OPT_NETRC_FILE:
		s->netrc_file = arg;
		break;
	case OPT_CACERT:
		s->cacert = arg;
		break;
	case OPT_INSECURE:
		s->insecure = true;
		break;
	case OPT_TIMEOUT:
		s->timeout = seconds(state, "--timeout", arg, false);
		break;
	case OPT_CONNECT_TIMEOUT:
		s->connect_timeout = seconds(state, "--connect-timeout", arg, false);
		break;
	case OPT_RETRIES:
		s->retries = count(state, "--retries", arg, 0);
		break;
	case OPT_RETRY_WAIT:
		s->retry_wait = seconds(state, "--retry-wait", arg, true);
		break;
	case OPT_IMPORT_STEPS:
		s->import_steps = count(state, "--import-steps", arg, 1);
		break;
	case OPT_IMPORT_TIME:
		s->import_time = seconds(state, "--import-time", arg, false);
		break;
	case ARGP_KEY_END:
		/* --site was checked when given: this one is the variable's */
		if (s->site != NULL && !site_name_valid(s->site)) {
			argp_error(state, "CMLKIT_SITE: '%s' is not a site name: " SITE_RULE,
			           s->site);
			return EINVAL;
		}
		s->url_site[0] = '\0';
		if (s->url != NULL)
			url_site(s->url, s->url_site, sizeof(s->url_site));
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const char *
site_name(const struct site_opts *s)
{
	if (s->site != NULL)
		return s->site;
	return s->url_site[0] != '\0' ? s->url_site : NULL;
}

const struct argp site_argp = { options, parse_opt, NULL, NULL, NULL, NULL, NULL };

static unsigned
ms(double s)
{
	double v = s * 1000.0;
	return v < 1 ? 1 : v > 4e9 ? 4000000000u : (unsigned)v;
}

/* The first line of the password file; never echoed anywhere. */
/* A file holding a secret that others may read: say so, once, the same
 * way for every kind (what: "password file", "netrc file"). */
static void
warn_if_shared(const char *path, const struct stat *sb, const char *what)
{
	if ((sb->st_mode & 0044) != 0)
		cmd_warn("%s: the %s is readable by others (chmod 600 it)", path, what);
}

static char *
read_password_file(const char *path)
{
	struct stat sb;
	FILE *fp = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;

	if (fp == NULL) {
		cmd_error("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &sb) == 0)
		warn_if_shared(path, &sb, "password file");
	ssize_t n = getline(&line, &cap, fp);
	if (n < 0) {
		if (ferror(fp))
			cmd_error("%s: %s", path, strerror(errno));
		else
			cmd_error("%s: the password file is empty", path);
		free(line);
		fclose(fp);
		return NULL;
	}
	fclose(fp);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n == 0) {
		cmd_error("%s: the first line, the password, is empty", path);
		free(line);
		return NULL;
	}
	return line;
}

/* The client's log, under --verbose. */
static void
site_log(void *ud, const char *line)
{
	(void)ud;
	cmd_verbose("%s", line);
}

int
site_prepare(struct site_opts *s, cml_exchange_opts *x)
{
	const char *env = getenv("CMLKIT_PASSWORD");

	if (s->url == NULL) {
		cmd_error("no site: give --url (or set CMLKIT_URL)");
		return EXIT_USAGE;
	}
	if (s->password_file != NULL) {
		if ((s->password = read_password_file(s->password_file)) == NULL)
			return EXIT_LOCAL;
	} else if (env != NULL && env[0] != '\0') {
		if ((s->password = strdup(env)) == NULL) {
			cmd_error("out of memory");
			return EXIT_LOCAL;
		}
	} else {
		char *login = NULL, *pw = NULL;
		cml_status st = cml_netrc_lookup(s->netrc_file, s->url, s->user, &login, &pw);

		if (st == CML_OK) {
			/* the same warning as for a password file */
			struct stat sb;
			const char *home = getenv("HOME");
			char path[4096];
			if (s->netrc_file != NULL)
				snprintf(path, sizeof(path), "%s", s->netrc_file);
			else
				snprintf(path, sizeof(path), "%s/.netrc", home != NULL ? home : "");
			if (stat(path, &sb) == 0)
				warn_if_shared(path, &sb, "netrc file");
			s->password = strdup(pw);
			s->netrc_user = login != NULL ? strdup(login) : NULL;
			cml_exchange_secret_free(pw);
			cml_exchange_secret_free(login);
			if (s->password == NULL || (login != NULL && s->netrc_user == NULL)) {
				cmd_error("out of memory");
				return EXIT_LOCAL;
			}
			if (s->user == NULL)
				s->user = s->netrc_user;
		} else if (st == CML_ERR_IO && s->netrc_file != NULL) {
			cmd_error("%s: %s", s->netrc_file, strerror(errno));
			return EXIT_LOCAL;
		} else if (st == CML_ERR_NOMEM) {
			cmd_error("out of memory");
			return EXIT_LOCAL;
		} else {
			cmd_error("no password: give --password-file FILE, set CMLKIT_PASSWORD, or "
			          "add the site's host%s%s with a password to %s",
			          s->user != NULL ? " and login " : "", s->user != NULL ? s->user : "",
			          s->netrc_file != NULL ? s->netrc_file : "~/.netrc");
			return EXIT_USAGE;
		}
	}
	if (s->password != NULL && s->user == NULL) {
		cmd_error("a password but no user: give --user (or set CMLKIT_USER)");
		return EXIT_USAGE;
	}
	x->url = s->url;
	x->user = s->user;
	x->password = s->password;
	x->netrc_file = s->netrc_file; /* already read: the password is set */
	x->progress_wait_ms = 100; /* a breath between repeats, as 1C takes */
	/* no log at all unless --verbose: nothing is formatted for nobody */
	x->log = cmd_verbosity >= 2 ? site_log : NULL;
	x->cacert = s->cacert;
	x->insecure = s->insecure;
	x->timeout_ms = ms(s->timeout);
	x->connect_timeout_ms = ms(s->connect_timeout);
	x->retries = (int)s->retries;
	x->retry_wait_ms = ms(s->retry_wait);
	x->import_steps = (unsigned)s->import_steps;
	x->import_ms = ms(s->import_time);
	if (s->insecure)
		cmd_warn("--insecure: the site's certificate is not checked");
	return EXIT_OK;
}

int
site_open(struct site_opts *s, cml_exchange_opts *x, cml_exchange **out)
{
	char errbuf[1024] = "";
	cml_status st;
	int status;

	*out = NULL;
	if ((status = site_prepare(s, x)) != EXIT_OK)
		return status;
	*out = cml_exchange_new(x, &st, errbuf, sizeof(errbuf));
	if (*out == NULL) {
		cmd_error("%s", errbuf[0] != '\0' ? errbuf : cml_status_str(st));
		return cmd_exit_for(st);
	}
	return EXIT_OK;
}

void
site_release(struct site_opts *s)
{
	free(s->netrc_user);
	s->netrc_user = NULL;
	if (s->password != NULL) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
		s->password = NULL;
	}
}

