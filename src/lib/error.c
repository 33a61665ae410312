/*
 * error.c - error reporting and allocation helpers.
 *
 * Messages go to stderr only, as "PROG: error: ..." in the style of git.
 * Allocation failures are fatal (exit 1 after a message); nothing else here exits.
 */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rp_progname = "rp";
enum rp_err_kind rp_last_error_kind = RP_ERR_NONE;

static void vreport(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
	char msg[4096];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s: %s%s%s%s\n", rp_progname, prefix, msg,
		suffix ? ": " : "", suffix ? suffix : "");
}

int rp_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, NULL);
	va_end(ap);
	if (rp_last_error_kind == RP_ERR_NONE)
		rp_last_error_kind = RP_ERR_IO;
	return -1;
}

int rp_error_errno(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, strerror(saved));
	va_end(ap);
	if (rp_last_error_kind == RP_ERR_NONE)
		rp_last_error_kind = RP_ERR_IO;
	errno = saved;
	return -1;
}

int rp_error_input(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, NULL);
	va_end(ap);
	rp_last_error_kind = RP_ERR_INPUT;
	return -1;
}

void rp_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap, NULL);
	va_end(ap);
}

void rp_error_clear(void)
{
	rp_last_error_kind = RP_ERR_NONE;
}

int rp_error_exit_code(void)
{
	return rp_last_error_kind == RP_ERR_INPUT ? RP_EXIT_USAGE : RP_EXIT_FAIL;
}

int rp_err_set(struct rp_err *err, enum rp_err_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int rp_err_report(const struct rp_err *err)
{
	if (err->kind == RP_ERR_INPUT)
		return rp_error_input("%s", err->msg);
	return rp_error("%s", err->msg);
}

void rp_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

static void oom(size_t n)
{
	fprintf(stderr, "%s: fatal: out of memory allocating %zu bytes\n", rp_progname, n);
	exit(RP_EXIT_FAIL);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		oom(strlen(s) + 1);
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		oom(n + 1);
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	char *s;

	if (vasprintf(&s, fmt, ap) < 0)
		oom(0);
	return s;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return s;
}
