/* tap.h -- a tiny header-only TAP producer for the C unit tests */
#ifndef USHER_TAP_H
#define USHER_TAP_H

/*
 * Usage (cf. lighttpd's src/t): one ok() per check, or ok_at() from a
 * table whose rows record their own __LINE__, so a failure names the
 * case's line:
 *
 *	static const struct { int line; const char *in; int want; } t[] = {
 *		{ __LINE__, "abc", 1 },
 *	};
 *	for (i = 0; i < nitems(t); i++)
 *		ok_at(t[i].line, f(t[i].in) == t[i].want, "f(%s)", t[i].in);
 *	return done_testing();
 *
 * plan(n) is optional: without it done_testing() prints the plan at the end.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef nitems
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#endif

static int	tap_count;	/* tests run so far */
static int	tap_failures;	/* of which failed */
static int	tap_planned = -1;

static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline int
tap_vok(int cond, const char *file, int line, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static inline int
tap_vok(int cond, const char *file, int line, const char *fmt, va_list ap)
{
	tap_count++;
	printf("%sok %d - ", cond ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	printf("\n");
	if (!cond) {
		tap_failures++;
		printf("#   Failed test at %s line %d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

static inline int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static inline int
tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list	ap;
	int	r;

	va_start(ap, fmt);
	r = tap_vok(cond, file, line, fmt, ap);
	va_end(ap);
	return r;
}

/* ok(cond, "format", ...): one test; returns cond (0 or 1). */
#define ok(cond, ...)		tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* ok_at(line, cond, "format", ...): the same, naming a table row's line. */
#define ok_at(line, cond, ...)	tap_ok(!!(cond), __FILE__, (line), __VA_ARGS__)

static inline void
diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A comment line in the output ("# ..."), for context; never a secret. */
static inline void
diag(const char *fmt, ...)
{
	va_list	ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

/* Stop the whole test program (TAP "Bail out!"), e.g. when setup fails. */
static inline void
bail_out(const char *why)
{
	printf("Bail out! %s\n", why);
	fflush(stdout);
	exit(1);
}

/* Print the plan if none was given; the exit status main() should return. */
static inline int
done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_count);
	else if (tap_planned != tap_count) {
		printf("# planned %d tests but ran %d\n", tap_planned,
		    tap_count);
		fflush(stdout);
		return 1;
	}
	if (tap_failures > 0)
		printf("# failed %d of %d tests\n", tap_failures, tap_count);
	fflush(stdout);
	return tap_failures > 0;
}

#endif /* USHER_TAP_H */
