/*
 * error.c - error reporting and allocation helpers.
 *
 * Messages go to stderr only, as "PROG: error: ..." in the style of git.
 * Allocation failures are fatal (exit 1 after a message); nothing else here exits.
 *
 * Redaction: a message is formatted whole (no fixed buffer), passed through
 * rp_redact(), and only then cut to the size of a struct rp_err or printed.
 * Redacting after a cut or after control characters were rewritten would
 * let the part of a key that crosses the cut, or a key with a stray CR in
 * it, through. rp_redact() marks the bytes to hide in a map of the message
 * (URL credentials, runs of a registered secret, masked words, the mask
 * characters next to them), then copies the message with each marked span
 * replaced by one REDACT_MARK. The registered secrets are copies, wiped at
 * exit.
 */
#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *rp_progname = "rp";

static void vreport(const char *prefix, const char *fmt, va_list ap, const char *suffix)
{
	char *msg = xvasprintf(fmt, ap), *clean = rp_redact(msg, strlen(msg));

	fprintf(stderr, "%s: %s%s%s%s\n", rp_progname, prefix, clean,
		suffix ? ": " : "", suffix ? suffix : "");
	free(clean);
	free(msg);
}

int rp_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, NULL);
	va_end(ap);
	return -1;
}

int rp_error_errno(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vreport("error: ", fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
	return -1;
}

void rp_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap, NULL);
	va_end(ap);
}

int rp_err_set(struct rp_err *err, enum rp_err_kind kind, const char *fmt, ...)
{
	va_list ap;

	char *msg, *clean;

	int saved = errno;

	if (!err)
		return -1;
	err->kind = kind;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	clean = rp_redact(msg, strlen(msg));
	snprintf(err->msg, sizeof(err->msg), "%s", clean);
	free(clean);
	free(msg);
	errno = saved;
	return -1;
}

/* ---- secrets ------------------------------------------------------------ */

static char **secrets;
static size_t nsecrets, asecrets;

static void wipe_secrets(void)
{
	for (size_t i = 0; i < nsecrets; i++) {
		volatile char *p = secrets[i];

		while (*p)
			*p++ = 0;
		free(secrets[i]);
	}
	free(secrets);
	secrets = NULL;
	nsecrets = asecrets = 0;
}

void rp_secret_add(const char *secret)
{
	if (!secret || !*secret)
		return;
	for (size_t i = 0; i < nsecrets; i++)
		if (!strcmp(secrets[i], secret))
			return;
	if (!asecrets)
		atexit(wipe_secrets);
	ALLOC_GROW(secrets, nsecrets + 1, asecrets);
	secrets[nsecrets++] = xstrdup(secret);
}

/* Ends an authority ("user:pass@host:port") and a word: blanks, quotes, brackets. */
static int ends_word(char c)
{
	return strchr(" \t\r\n\"'`<>()[]{},;", c) != NULL || !c;
}

void rp_secret_add_url(const char *url)
{
	const char *a = url ? strstr(url, "://") : NULL, *at = NULL, *colon;
	char *info;

	if (!a)
		return;
	a += 3;
	for (const char *q = a; *q && !strchr("/?#", *q) && !ends_word(*q); q++)
		if (*q == '@')
			at = q;
	if (!at)
		return;
	info = xstrndup(a, (size_t)(at - a));
	colon = strchr(info, ':');
	/* the password; a user name alone is a token ("https://TOKEN@host") */
	rp_secret_add(colon ? colon + 1 : info);
	free(info);
}

/* The width of the mask character at s[i] ('*', a run of 2+ '.', U+2022, U+2026), or 0. */
static size_t mask_at(const char *s, size_t len, size_t i)
{
	if (s[i] == '*')
		return 1;
	if (s[i] == '.' && ((i + 1 < len && s[i + 1] == '.') || (i && s[i - 1] == '.')))
		return 1;
	if (i + 3 <= len && (!memcmp(s + i, "\xe2\x80\xa2", 3) || !memcmp(s + i, "\xe2\x80\xa6", 3)))
		return 3;
	return 0;
}

char *rp_redact(const char *s, size_t len)
{
	unsigned char *mark;
	char *out, *o;
	size_t i, nmarks = 0;

	if (!s)
		return xstrdup("");
	mark = xcalloc(len + 1, 1);
	/* URL credentials: "scheme://[REDACTED]@host", whoever's they are */
	for (i = 0; i + 3 <= len; i++) {
		size_t j, at = 0;

		if (memcmp(s + i, "://", 3))
			continue;
		for (j = i + 3; j < len && !strchr("/?#", s[j]) && !ends_word(s[j]); j++)
			if (s[j] == '@')
				at = j;
		if (at)
			memset(mark + i + 3, 1, at - i - 3);
	}
	/* runs of a secret's characters */
	for (size_t k = 0; k < nsecrets; k++) {
		const char *sec = secrets[k];
		size_t m = strlen(sec), min = m < REDACT_MIN_RUN ? m : REDACT_MIN_RUN;

		for (i = 0; i + min <= len; i++) {
			size_t best = 0;

			for (size_t j = 0; j + min <= m && best < m - j; j++) {
				size_t l = 0;

				while (i + l < len && j + l < m && s[i + l] == sec[j + l])
					l++;
				if (l > best)
					best = l;
			}
			if (best >= min)
				memset(mark + i, 1, best);
		}
	}
	/* masked words: three mask characters in a row, while there is a key to mask */
	for (i = 0; nsecrets && i < len; i++) {
		size_t j = i, n = 0, w, a, b;

		while (j < len && (w = mask_at(s, len, j)) && s[j] != '.') {
			j += w;
			n++;
		}
		if (n < 3) {
			continue;
		}
		for (a = i; a > 0 && !ends_word(s[a - 1]); a--)
			;
		for (b = j; b < len && !ends_word(s[b]); b++)
			;
		memset(mark + a, 1, b - a);
		i = b;
	}
	/* mask characters next to a redacted run belong to it */
	for (i = 0; i < len; i++) {
		size_t w;

		if (!mark[i] && i && mark[i - 1] && (w = mask_at(s, len, i)))
			memset(mark + i, 1, w);
	}
	for (i = len; i-- > 0; ) {
		if (!mark[i] && mark[i + 1] && i + 1 < len) {
			/* a mask character ending just before a mark: find its first byte */
			size_t st = i;

			while (st && ((unsigned char)s[st] & 0xc0) == 0x80)
				st--;
			if (mask_at(s, len, st))
				memset(mark + st, 1, i - st + 1), i = st;
		}
	}
	for (i = 0; i < len; i++)
		nmarks += mark[i] && (!i || !mark[i - 1]);
	out = o = xmalloc(len + nmarks * sizeof(REDACT_MARK) + 1);
	for (i = 0; i < len; i++) {
		if (!mark[i]) {
			*o++ = s[i];
		} else if (!i || !mark[i - 1]) {
			memcpy(o, REDACT_MARK, sizeof(REDACT_MARK) - 1);
			o += sizeof(REDACT_MARK) - 1;
		}
	}
	*o = '\0';
	free(mark);
	return out;
}

int rp_err_report(const struct rp_err *err)
{
	int saved = errno;

	rp_error("%s", err->msg);
	errno = saved;
	return -1;
}

int rp_err_exit(const struct rp_err *err)
{
	rp_err_report(err);
	return err->kind == RP_ERR_INPUT ? RP_EXIT_USAGE : RP_EXIT_FAIL;
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
