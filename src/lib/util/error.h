/*
 * error.h - reporting errors, allocation that cannot fail, and exit codes.
 *
 * Library code (src/lib) that detects a failure fills a struct rp_err and
 * returns -1 (or NULL); it prints nothing, and callers pass the err up.
 * Commands and stage programs report it (rp_err_report, or rp_err_exit,
 * which also gives the exit code of its kind) or drop it. rp_error*() and
 * rp_warn print at once, for a program's own checks; the program then
 * returns its exit code itself. No exit code travels in a global.
 *
 * Secrets: every message that rp_error*, rp_warn and rp_err_set format is
 * passed through rp_redact() whole, before it is cut to size or printed,
 * so a secret registered with rp_secret_add() (an API key, the password of
 * a URL) never shows, in whole or in part. See rp_redact() for the rule.
 */
#ifndef RP_ERROR_H
#define RP_ERROR_H

#include <stddef.h>
#include <stdarg.h>

enum rp_exit {
	RP_EXIT_OK = 0,      /* success; `rp status`: clean */
	RP_EXIT_FAIL = 1,    /* a stage, check or operation failed; status: dirty */
	RP_EXIT_USAGE = 2,   /* usage error or invalid input */
};

/* What kind of failure a struct rp_err or the last rp_error() describes. */
enum rp_err_kind {
	RP_ERR_NONE = 0,
	RP_ERR_IO,           /* the system said no: exit 1 */
	RP_ERR_INPUT,        /* a file the user wrote is invalid: exit 2 */
};

struct rp_err {
	enum rp_err_kind kind;
	char msg[1024];
};

/* The name printed before messages ("rp", "rp-chunk"); borrowed, set once in main(). */
extern const char *rp_progname;

/* Prints "PROG: error: MSG" to stderr; always returns -1. */
int rp_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* As rp_error(), with ": strerror(errno)" appended. Keeps errno. */
int rp_error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "PROG: warning: MSG" to stderr. */
void rp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fills `err` (if non-NULL) with a formatted message of `kind`; returns -1. */
int rp_err_set(struct rp_err *err, enum rp_err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prints `err` as rp_error() does; returns -1. Keeps errno. */
int rp_err_report(const struct rp_err *err);
/*
 * Reports `err` as rp_err_report() does and returns the exit code of its
 * own kind: RP_EXIT_USAGE for RP_ERR_INPUT, else RP_EXIT_FAIL. For commands
 * (`return rp_err_exit(&err);`): the code comes from the err.
 */
int rp_err_exit(const struct rp_err *err);

/*
 * Registers `secret` (copied; NULL or "" does nothing) for rp_redact(). The
 * copies are wiped and freed at exit.
 */
void rp_secret_add(const char *secret);
/*
 * Registers the password of `url` ("https://user:pass@host/"), or its user
 * name when it has no password (a token: "https://TOKEN@host/"), if any.
 * (The URL form itself, user name and all, is redacted in any case.)
 */
void rp_secret_add_url(const char *url);
/*
 * A copy of s[0..len) that shows no secret (caller frees):
 *   - the credentials of any URL ("scheme://user:pass@") become
 *     "scheme://[REDACTED]@", registered or not;
 *   - every run of REDACT_MIN_RUN (4) or more characters that also occurs
 *     in a registered secret (the whole secret when it is shorter) becomes
 *     "[REDACTED]": a key cut short, or the prefix and suffix a server
 *     shows of it ("sk-abc1****wxyz");
 *   - a word (between blanks and quotes) with 3 or more mask characters in
 *     a row ('*', U+2022 '•') becomes "[REDACTED]" while a secret is
 *     registered: a masked echo of the key however little of it it shows;
 *   - mask characters next to a redacted run are taken into it.
 * At most 3 characters of a secret can thus remain in a row, never more.
 */
char *rp_redact(const char *s, size_t len);
#define REDACT_MIN_RUN 4
#define REDACT_MARK "[REDACTED]"

/* Prints "BUG: file:line: msg" and aborts. */
#define BUG(...) rp_bug(__FILE__, __LINE__, __VA_ARGS__)
void rp_bug(const char *file, int line, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 3, 4)));

/* Allocation that dies on OOM; the caller frees the result with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);

/* Grows *arr (of *alloc elements of `size`) so that it holds at least `need`. */
#define ALLOC_GROW(arr, need, alloc) do { \
	if ((size_t)(need) > (alloc)) { \
		size_t n_ = (alloc) ? (alloc) * 2 : 8; \
		if (n_ < (size_t)(need)) n_ = (need); \
		(arr) = xrealloc((arr), n_ * sizeof(*(arr))); \
		(alloc) = n_; \
	} \
} while (0)

#endif
