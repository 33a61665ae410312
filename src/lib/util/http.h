/*
 * http.h - JSON POSTs over libcurl's multi interface, several in flight,
 * with retries.
 *
 *     struct http_opts o = HTTP_OPTS_INIT;
 *     o.concurrency = 4; o.bearer = key;
 *     http_post_all(url, &o, n, make_body, on_done, ctx, &stats, &err);
 *
 * Request i's body is built by make_body(ctx, i, buf) shortly before it is
 * first sent (at most o.concurrency requests ahead, while the loop would
 * wait anyway; so n may be large) and kept for its retries. Each request is attempted
 * until it gets a final answer: a 429, 408 or 5xx status, or a transport
 * error (connection refused or reset, timeout), is retried up to
 * o.max_retries times, after the delay the server asks for (retry-after-ms,
 * else Retry-After in seconds or as an HTTP date; capped at
 * o.max_server_delay_ms, 60 s: a longer wait is cut to the cap, never
 * ignored) or else an exponential backoff with full jitter:
 *     delay = uniform(0, min(backoff_max_ms, backoff_base_ms * 2^(retry-1)))
 * A server-given delay also holds back every request not yet started, so a
 * rate limit slows the whole run instead of being hit n times. Any other
 * answer (2xx, other 4xx, or a retryable one after the last retry) goes to
 * on_done(ctx, i, result, err), in completion order, on the calling thread;
 * a 2xx answer only after the requests that take its place were sent, so
 * that the work of on_done overlaps them.
 *
 * Bounds: each attempt is limited to o.timeout_ms (connecting included),
 * the whole call to o.deadline_ms: no attempt runs past it, no retry is
 * scheduled after it (a server-given wait that would end after it fails the
 * call at once), and when it passes, the call fails with RP_ERR_IO and the
 * requests in flight are abandoned. A response body is kept only up to
 * o.max_response bytes after decompression (gzip, deflate, br, zstd are
 * accepted): a bigger one ends that attempt as a failure that says so, so
 * memory stays near concurrency x max_response whatever the server sends.
 *
 * Secrets: o.bearer is sent only as "Authorization: Bearer ..." and is never
 * copied into a message, a result or a log; curl's verbose mode stays off
 * and redirects are not followed. http_post_all() registers o.bearer and
 * the credentials of `url` with rp_secret_add() (error.h), so that no
 * message of rp prints them, in whole or in part.
 */
#ifndef RP_HTTP_H
#define RP_HTTP_H

#include <stddef.h>
#include "util/buf.h"
#include "util/error.h"

struct http_opts {
	int concurrency;         /* requests in flight at once, >= 1 */
	int max_retries;         /* retries of one request after its first attempt */
	long timeout_ms;         /* limit of one attempt, > 0 */
	long connect_timeout_ms;
	long backoff_base_ms;    /* bound of the first retry's random delay */
	long backoff_max_ms;     /* bound of any backoff delay */
	const char *bearer;      /* borrowed; NULL: no Authorization header */
	const char *user_agent;  /* borrowed; NULL: "rp" */
	long deadline_ms;        /* limit of the whole call, retries included; 0: none */
	size_t max_response;     /* most bytes of one response body, decompressed */
	long max_server_delay_ms;  /* cap of a Retry-After wait */
};

#define HTTP_TIMEOUT_MS 60000L               /* one attempt */
#define HTTP_DEADLINE_MS 3600000L            /* one run of a stage */
#define HTTP_MAX_RESPONSE ((size_t)64 << 20) /* 64 MiB */
#define HTTP_MAX_SERVER_DELAY_MS 60000L

#define HTTP_OPTS_INIT { 4, 6, HTTP_TIMEOUT_MS, 30000, 500, 30000, NULL, NULL, \
			 HTTP_DEADLINE_MS, HTTP_MAX_RESPONSE, HTTP_MAX_SERVER_DELAY_MS }

struct http_result {
	long status;             /* HTTP status; 0 when there was no response */
	const char *body;        /* response body (NUL-terminated), borrowed for the call */
	size_t body_len;
	const char *error;       /* transport error text when status is 0, else NULL */
	int attempts;            /* 1 + retries made */
};

struct http_stats {
	size_t requests;         /* requests that got a final answer */
	size_t attempts;         /* HTTP attempts made, retries included */
	size_t retries;          /* attempts - first attempts */
};

/* Writes the JSON body of request i into `body` (empty on entry). */
typedef void (*http_body_fn)(void *ctx, size_t i, struct buf *body);
/*
 * Receives the final result of request i (borrowed for the call). Return 0
 * to go on, or -1 with `err` filled to stop: requests in flight are
 * abandoned and http_post_all() returns -1 with that err.
 */
typedef int (*http_done_fn)(void *ctx, size_t i, const struct http_result *res, struct rp_err *err);

/*
 * POSTs n JSON bodies to `url` as described above. Returns 0 when every
 * on_done returned 0, else -1 with err filled (by on_done, or RP_ERR_IO for
 * a failure of curl itself). `st` (may be NULL) is filled in either case.
 */
int http_post_all(const char *url, const struct http_opts *o, size_t n, http_body_fn make_body,
		  http_done_fn on_done, void *ctx, struct http_stats *st, struct rp_err *err);

/*
 * The delay before retry number `retry` (1-based) of a request: the
 * server's `retry_after_ms` when it gave one (>= 0), capped at
 * o->max_server_delay_ms, else the full-jitter backoff of the options.
 * `rnd` is uniform in [0, 1). Exposed for tests.
 */
long http_retry_delay_ms(const struct http_opts *o, int retry, long retry_after_ms, double rnd);

#endif
