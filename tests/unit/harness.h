/*
 * harness.h: the unit tests' whole framework. A test file defines
 * test functions, lists them in main() with RUN(), and returns
 * harness_done(). Failures print "file:line: what" and the run goes on.
 */
#ifndef CMLKIT_HARNESS_H
#define CMLKIT_HARNESS_H

#include <stdio.h>
#include <string.h>
#include <time.h>

static int harness_failures;
static int harness_checks;
static const char *harness_current;

#define CHECK(cond)                                                          \
	do {                                                                 \
		harness_checks++;                                            \
		if (!(cond)) {                                               \
			harness_failures++;                                  \
			fprintf(stderr, "%s:%d: %s: check failed: %s\n",     \
			        __FILE__, __LINE__, harness_current, #cond); \
		}                                                            \
	} while (0)

#define CHECK_STR(got, want)                                                  \
	do {                                                                  \
		const char *g_ = (got), *w_ = (want);                         \
		harness_checks++;                                             \
		if ((g_ == NULL) != (w_ == NULL) ||                           \
		    (g_ != NULL && strcmp(g_, w_) != 0)) {                    \
			harness_failures++;                                   \
			fprintf(stderr, "%s:%d: %s: %s is \"%s\", want \"%s\"\n", \
			        __FILE__, __LINE__, harness_current, #got,    \
			        g_ ? g_ : "(null)", w_ ? w_ : "(null)");       \
		}                                                             \
	} while (0)

#define CHECK_INT(got, want)                                                 \
	do {                                                                 \
		long long g_ = (long long)(got), w_ = (long long)(want);     \
		harness_checks++;                                            \
		if (g_ != w_) {                                              \
			harness_failures++;                                  \
			fprintf(stderr, "%s:%d: %s: %s is %lld, want %lld\n", \
			        __FILE__, __LINE__, harness_current, #got,   \
			        g_, w_);                                     \
		}                                                            \
	} while (0)

#define RUN(fn)                          \
	do {                             \
		harness_current = #fn;   \
		fn();                    \
	} while (0)

static inline int
harness_done(void)
{
	printf("%d checks, %d failed\n", harness_checks, harness_failures);
	return harness_failures ? 1 : 0;
}

/* Seconds on the monotonic clock, for the --bench modes. */
static inline double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif /* CMLKIT_HARNESS_H */
