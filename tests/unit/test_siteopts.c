/*
 * test_siteopts.c: cmd/common's site options: the site's name from
 * --site, $CMLKIT_SITE or the URL, and the names refused. Parsed through
 * the real child parser (site_argp), as the programs parse it.
 */
#include <argp.h>
#include <stdlib.h>

#include "harness.h"
#include "siteopts.h"

static error_t
parent_opt(int key, char *arg, struct argp_state *state)
{
	(void)arg;
	if (key == ARGP_KEY_INIT)
		state->child_inputs[0] = state->input;
	return ARGP_ERR_UNKNOWN;
}

static const struct argp_child children[] = { { &site_argp, 0, NULL, 0 }, { 0 } };
static const struct argp parent = { NULL, parent_opt, NULL, NULL, children, NULL, NULL };

/* Parses up to two options; false when argp refused them. */
static bool
parse(struct site_opts *s, const char *a1, const char *a2)
{
	static char prog[] = "test", b1[512], b2[512];
	char *argv[4] = { prog, b1, b2, NULL };
	int argc = a1 == NULL ? 1 : a2 == NULL ? 2 : 3;

	snprintf(b1, sizeof(b1), "%s", a1 != NULL ? a1 : "");
	snprintf(b2, sizeof(b2), "%s", a2 != NULL ? a2 : "");

	*s = (struct site_opts){ 0 };
	/* ARGP_SILENT: a refused name returns an error instead of exiting */
	return argp_parse(&parent, argc, argv, ARGP_SILENT, NULL, s) == 0;
}

/* The name a --url gives. */
static const char *
from_url(struct site_opts *s, const char *url)
{
	char opt[512];

	snprintf(opt, sizeof(opt), "--url=%s", url);
	if (!parse(s, opt, NULL))
		return "(refused)";
	return site_name(s);
}

static void
test_from_url(void)
{
	struct site_opts s;

	unsetenv("CMLKIT_SITE");
	unsetenv("CMLKIT_URL");
	CHECK_STR(from_url(&s, "https://Shop.Example/bitrix/admin/1c_exchange.php"),
	          "shop.example");
	CHECK_STR(from_url(&s, "https://shop.example:443/x"), "shop.example");
	CHECK_STR(from_url(&s, "http://shop.example:80/x"), "shop.example");
	CHECK_STR(from_url(&s, "http://shop.example:8080/x"), "shop.example_8080");
	CHECK_STR(from_url(&s, "https://shop.example:80/x"), "shop.example_80");
	CHECK_STR(from_url(&s, "http://127.0.0.1:41234/bitrix/admin/1c_exchange.php"),
	          "127.0.0.1_41234");
	/* an international name: as punycode, else no name (--site gives one) */
	CHECK_STR(from_url(&s, "https://xn--80aairftm.xn--p1ai/1c_exchange.php"),
	          "xn--80aairftm.xn--p1ai");
	CHECK_STR(from_url(&s, "https://магазин.рф/1c_exchange.php"), NULL);
	/* no valid name: an IPv6 address, a host too long, no URL at all */
	CHECK_STR(from_url(&s, "http://[::1]:8080/x"), NULL);
	CHECK_STR(from_url(&s, "https://a-very-long-host-name-that-goes-on"
	                       ".and-on-past.sixty-four.example/"),
	          NULL);
	CHECK_STR(from_url(&s, "not a url"), NULL);
	CHECK(parse(&s, NULL, NULL));
	CHECK_STR(site_name(&s), NULL);
	/* $CMLKIT_URL as the default --url */
	setenv("CMLKIT_URL", "https://env.example:8443/x", 1);
	CHECK(parse(&s, NULL, NULL));
	CHECK_STR(site_name(&s), "env.example_8443");
	unsetenv("CMLKIT_URL");
}

static void
test_given(void)
{
	struct site_opts s;

	unsetenv("CMLKIT_SITE");
	CHECK(parse(&s, "--site=Shop-1.main_x", "--url=https://other.example/"));
	CHECK_STR(site_name(&s), "Shop-1.main_x");
	/* the variable when no --site; --site over the variable */
	setenv("CMLKIT_SITE", "from-env", 1);
	CHECK(parse(&s, "--url=https://other.example/", NULL));
	CHECK_STR(site_name(&s), "from-env");
	CHECK(parse(&s, "--site=given", NULL));
	CHECK_STR(site_name(&s), "given");
	/* empty is not set */
	setenv("CMLKIT_SITE", "", 1);
	CHECK(parse(&s, "--url=https://other.example/", NULL));
	CHECK_STR(site_name(&s), "other.example");
	unsetenv("CMLKIT_SITE");
	/* 64 characters are a name, 65 are not */
	char name[80], opt[96];
	memset(name, 'a', 64);
	name[64] = '\0';
	snprintf(opt, sizeof(opt), "--site=%s", name);
	CHECK(parse(&s, opt, NULL));
	CHECK_STR(site_name(&s), name);
	snprintf(opt, sizeof(opt), "--site=%sa", name);
	CHECK(!parse(&s, opt, NULL));
}

static void
test_refused(void)
{
	struct site_opts s;
	static const char *const bad[] = { "--site=", "--site=a b", "--site=shop/1",
		                           "--site=shop:8080", "--site=магазин", "--site=a\tb" };

	unsetenv("CMLKIT_SITE");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool ok = parse(&s, bad[i], NULL);
		CHECK(!ok);
		if (ok)
			fprintf(stderr, "    %s was taken\n", bad[i]);
	}
	/* a bad variable is refused too, unless --site overrides it */
	setenv("CMLKIT_SITE", "bad name", 1);
	CHECK(!parse(&s, "--url=https://other.example/", NULL));
	CHECK(parse(&s, "--site=good", NULL));
	CHECK_STR(site_name(&s), "good");
	unsetenv("CMLKIT_SITE");
}

int
main(void)
{
	RUN(test_from_url);
	RUN(test_given);
	RUN(test_refused);
	return harness_done();
}
