/*
 * http.c - JSON POSTs with retries over curl multi (see http.h).
 *
 * Each request i has a slot: its body (built once), the number of attempts
 * so far, the time before which it may not be retried, and, while it runs,
 * its easy handle and response buffer. The loop keeps up to `concurrency`
 * easy handles in the multi handle, preferring due retries over requests
 * not yet started, and sleeps in curl_multi_poll() until a transfer moves
 * or the next retry is due. A server-given delay (429 or 503 with
 * Retry-After) also sets a gate before which nothing new starts.
 *
 * The place of a finished request is filled before anything else is done
 * for it: the bodies of the next `concurrency` new requests are built while
 * the loop would otherwise sleep, a finished transfer is only collected
 * (S_READY), the next requests are started and sent, and only then does
 * on_done() see the answers. The caller's work on an answer thus overlaps
 * the requests in flight instead of delaying the next one. A final answer
 * that is not 2xx is handed over before anything new starts, as it usually
 * stops the run.
 *
 * Bounds: the call's deadline (o->deadline_ms from its start) caps each
 * attempt's curl timeout, keeps retries from being scheduled after it and
 * ends the loop when it passes; on_write refuses a body past
 * o->max_response (the attempt ends with CURLE_WRITE_ERROR and a message
 * that names the bound, not curl's "failure writing output").
 *
 * One easy handle is made per attempt; connections are reused through the
 * multi handle's pool (keep-alive; curl sets TCP_NODELAY). The
 * Authorization header lives only in the curl header list: no message built
 * here contains it, CURLOPT_VERBOSE is never set, and redirects are
 * refused, so the key is never sent to another host. The key and the
 * URL's credentials are registered as secrets (rp_secret_add) before the
 * first request, so that every message printed after it is redacted.
 */
#include "util/http.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

enum slot_state { S_NEW, S_WAIT, S_RUN, S_READY, S_DONE };

struct slot {
	enum slot_state state;
	int built;                /* body holds the request body */
	int attempts;
	long status;              /* S_READY: the final status, 0 none */
	CURLcode rc;              /* S_READY: the transfer's result */
	double not_before;        /* S_WAIT: seconds (monotonic) */
	struct buf body;
	struct buf resp;
	long retry_after_ms;      /* from the last response's headers; -1 none */
	size_t max_response;      /* o->max_response */
	int too_big;              /* the attempt's body passed max_response */
	CURL *easy;
	char errbuf[CURL_ERROR_SIZE];
};

struct run {
	const char *url;
	const struct http_opts *o;
	size_t n;
	struct slot *slots;
	struct curl_slist *headers;
	CURLM *multi;
	http_body_fn make_body;
	void *ctx;
	size_t next_new;          /* first request never started */
	size_t running, waiting, done;
	size_t *ready, nready;    /* final answers (S_READY) not yet given to on_done */
	double gate;              /* nothing new starts before this */
	double t_end;             /* the deadline (monotonic seconds); 0: none */
	char expired[256];        /* why the deadline stops the call; "" while it does not */
	unsigned short rng[3];
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

long http_retry_delay_ms(const struct http_opts *o, int retry, long retry_after_ms, double rnd)
{
	double cap;

	if (retry_after_ms >= 0)
		return retry_after_ms < o->max_server_delay_ms ? retry_after_ms : o->max_server_delay_ms;
	cap = (double)o->backoff_base_ms * pow(2.0, retry > 0 ? retry - 1 : 0);
	if (cap > o->backoff_max_ms)
		cap = o->backoff_max_ms;
	return (long)(rnd * cap);
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *data)
{
	struct slot *s = data;
	size_t n = size * nmemb;

	if (s->resp.len + n > s->max_response) {
		s->too_big = 1;
		return 0;
	}
	buf_add(&s->resp, p, n);
	return n;
}

/* Parses a Retry-After value: seconds (maybe fractional) or an HTTP date. */
static long parse_retry_after(const char *v, int is_ms)
{
	char *end;
	double x = strtod(v, &end);

	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	if (end != v && !*end && x >= 0 && isfinite(x))
		return x * (is_ms ? 1.0 : 1000.0) < 1e12 ? (long)(x * (is_ms ? 1.0 : 1000.0)) : 1000000000000L;
	if (!is_ms) {
		time_t t = curl_getdate(v, NULL);

		if (t != -1) {
			time_t now = time(NULL);

			return t > now ? (t - now < 1000000000 ? (long)(t - now) * 1000 : 1000000000000L) : 0;
		}
	}
	return -1;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *data)
{
	struct slot *s = data;
	size_t n = size * nmemb;
	char line[256];
	const char *v;
	size_t l = n < sizeof(line) - 1 ? n : sizeof(line) - 1;

	memcpy(line, p, l);
	line[l] = '\0';
	if (!strncasecmp(line, "HTTP/", 5)) {
		s->retry_after_ms = -1;     /* a new response (after 100-continue, say) */
		return n;
	}
	if (!strncasecmp(line, "retry-after-ms:", 15)) {
		for (v = line + 15; *v == ' ' || *v == '\t'; v++)
			;
		s->retry_after_ms = parse_retry_after(v, 1);
	} else if (!strncasecmp(line, "retry-after:", 12) && s->retry_after_ms < 0) {
		for (v = line + 12; *v == ' ' || *v == '\t'; v++)
			;
		s->retry_after_ms = parse_retry_after(v, 0);
	}
	return n;
}

/* Builds the body of request i unless it is built. */
static void build(struct run *r, size_t i)
{
	struct slot *s = &r->slots[i];

	if (s->built)
		return;
	buf_init(&s->body);
	r->make_body(r->ctx, i, &s->body);
	s->built = 1;
}

static int start(struct run *r, size_t i, struct rp_err *err)
{
	struct slot *s = &r->slots[i];
	CURL *e = curl_easy_init();

	if (!e)
		return rp_err_set(err, RP_ERR_IO, "cannot start an HTTP request (curl_easy_init failed)");
	if (s->state == S_NEW)
		build(r, i);
	else
		r->waiting--;
	buf_init(&s->resp);
	s->retry_after_ms = -1;
	s->max_response = r->o->max_response;
	s->too_big = 0;
	s->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->body.s);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (void *)(uintptr_t)i);
	{
		/* no attempt outlives the call's deadline */
		long t = r->o->timeout_ms > 0 ? r->o->timeout_ms : HTTP_TIMEOUT_MS;

		if (r->t_end) {
			double left = (r->t_end - now_s()) * 1000.0 + 1;

			if (left < t)
				t = left > 1 ? (long)left : 1;
		}
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, t);
		curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r->o->connect_timeout_ms < t ?
				 r->o->connect_timeout_ms : t);
	}
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->o->max_response);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 0L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, r->o->user_agent ? r->o->user_agent : "rp");
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	if (curl_multi_add_handle(r->multi, e) != CURLM_OK) {
		curl_easy_cleanup(e);
		return rp_err_set(err, RP_ERR_IO, "cannot start an HTTP request (curl_multi_add_handle failed)");
	}
	s->easy = e;
	s->state = S_RUN;
	s->attempts++;
	r->running++;
	return 0;
}

static int retryable_status(long status)
{
	return status == 429 || status == 408 || (status >= 500 && status <= 599);
}

static int retryable_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/*
 * Collects the end of an attempt: a retry is scheduled, a final answer is
 * queued for on_done (S_READY).
 */
static void finish(struct run *r, CURL *e, CURLcode rc, struct http_stats *st)
{
	uintptr_t pi = 0;
	struct slot *s;
	long status = 0;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&pi);
	s = &r->slots[pi];
	if (rc == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(r->multi, e);
	curl_easy_cleanup(e);
	s->easy = NULL;
	r->running--;
	st->attempts++;
	if (((rc == CURLE_OK && retryable_status(status)) || (rc != CURLE_OK && retryable_curl(rc))) &&
	    s->attempts <= r->o->max_retries) {
		long ms = http_retry_delay_ms(r->o, s->attempts, s->retry_after_ms, erand48(r->rng));
		double now = now_s();

		if (r->t_end && now + ms / 1000.0 >= r->t_end && !r->expired[0]) {
			if (s->retry_after_ms >= 0)
				snprintf(r->expired, sizeof(r->expired), "the server asked to wait %.0f s before "
					 "retrying (Retry-After, capped at %.0f s), past the deadline of %.0f s",
					 s->retry_after_ms / 1000.0, r->o->max_server_delay_ms / 1000.0,
					 r->o->deadline_ms / 1000.0);
			else
				snprintf(r->expired, sizeof(r->expired), "the deadline of %.0f s passed",
					 r->o->deadline_ms / 1000.0);
		}
		s->state = S_WAIT;
		s->not_before = now + ms / 1000.0;
		if (s->retry_after_ms >= 0 && s->not_before > r->gate)
			r->gate = s->not_before;
		r->waiting++;
		st->retries++;
		buf_release(&s->resp);
		return;
	}
	s->state = S_READY;
	s->rc = rc;
	s->status = rc == CURLE_OK ? status : 0;
	r->ready[r->nready++] = pi;
	r->done++;
	st->requests++;
}

/* Gives the queued final answers to on_done; 0, or -1 + err to stop everything. */
static int deliver(struct run *r, http_done_fn on_done, struct rp_err *err)
{
	for (size_t k = 0; k < r->nready; k++) {
		size_t i = r->ready[k];
		struct slot *s = &r->slots[i];
		struct http_result res;
		int ret;

		res.status = s->status;
		res.body = s->resp.s;
		res.body_len = s->resp.len;
		res.error = NULL;
		res.attempts = s->attempts;
		if (s->rc != CURLE_OK)
			res.error = s->errbuf[0] ? s->errbuf : curl_easy_strerror(s->rc);
		if (s->too_big || s->rc == CURLE_FILESIZE_EXCEEDED) {
			snprintf(s->errbuf, sizeof(s->errbuf), "the response is larger than %zu MiB "
				 "(decompressed); refused", r->o->max_response >> 20);
			res.error = s->errbuf;
		}
		s->state = S_DONE;
		ret = on_done(r->ctx, i, &res, err);
		buf_release(&s->resp);
		buf_release(&s->body);
		if (ret < 0)
			return -1;  /* the answers after it are released with the run */
	}
	r->nready = 0;
	return 0;
}

/* Whether every queued answer is a 2xx (so that more requests are welcome). */
static int ready_all_ok(const struct run *r)
{
	for (size_t k = 0; k < r->nready; k++) {
		long status = r->slots[r->ready[k]].status;

		if (status < 200 || status > 299)
			return 0;
	}
	return 1;
}

/* The waiting request that is due first, or n. */
static size_t next_due(struct run *r, double *when)
{
	size_t best = r->n;

	*when = 0;
	if (!r->waiting)
		return best;
	for (size_t i = 0; i < r->next_new; i++) {
		if (r->slots[i].state != S_WAIT)
			continue;
		if (best == r->n || r->slots[i].not_before < *when) {
			best = i;
			*when = r->slots[i].not_before;
		}
	}
	return best;
}

/* Starts requests in the free places: due retries first, then new ones after the gate. */
static int fill(struct run *r, size_t conc, struct rp_err *err)
{
	double now = now_s(), when;

	while (r->running < conc) {
		size_t i = next_due(r, &when);

		if (i < r->n && when <= now) {
			if (start(r, i, err) < 0)
				return -1;
			continue;
		}
		if (r->next_new < r->n && now >= r->gate) {
			if (start(r, r->next_new++, err) < 0)
				return -1;
			continue;
		}
		break;
	}
	return 0;
}

/* Moves the transfers on and collects the finished ones; 0, or -1 + err. */
static int perform(struct run *r, struct http_stats *st, struct rp_err *err)
{
	CURLMsg *m;
	CURLMcode mc;
	int still;

	mc = curl_multi_perform(r->multi, &still);
	if (mc != CURLM_OK)
		return rp_err_set(err, RP_ERR_IO, "HTTP transfer failed: %s", curl_multi_strerror(mc));
	while ((m = curl_multi_info_read(r->multi, &still)))
		if (m->msg == CURLMSG_DONE)
			finish(r, m->easy_handle, m->data.result, st);
	return 0;
}

int http_post_all(const char *url, const struct http_opts *o, size_t n, http_body_fn make_body,
		  http_done_fn on_done, void *ctx, struct http_stats *st, struct rp_err *err)
{
	static int curl_ready;
	struct http_stats dummy;
	struct run r = { 0 };
	struct buf auth = BUF_INIT;
	int ret = -1, conc = o->concurrency > 0 ? o->concurrency : 1;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	if (!n)
		return 0;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return rp_err_set(err, RP_ERR_IO, "cannot initialise libcurl");
		curl_ready = 1;
	}
	/* from here on, no message of rp prints the key or the URL's password */
	rp_secret_add(o->bearer);
	rp_secret_add_url(url);
	r.url = url;
	r.o = o;
	r.n = n;
	if (o->deadline_ms > 0)
		r.t_end = now_s() + o->deadline_ms / 1000.0;
	r.make_body = make_body;
	r.ctx = ctx;
	r.slots = xcalloc(n, sizeof(*r.slots));
	r.rng[0] = (unsigned short)getpid();
	r.rng[1] = (unsigned short)time(NULL);
	r.rng[2] = (unsigned short)((uintptr_t)&r >> 4);
	r.headers = curl_slist_append(NULL, "Content-Type: application/json");
	r.headers = curl_slist_append(r.headers, "Accept: application/json");
	r.headers = curl_slist_append(r.headers, "Expect:");
	if (o->bearer && *o->bearer) {
		buf_addf(&auth, "Authorization: Bearer %s", o->bearer);
		r.headers = curl_slist_append(r.headers, auth.s);
		/* curl copied it; wipe ours */
		memset(auth.s, 0, auth.len);
		buf_release(&auth);
	}
	r.multi = curl_multi_init();
	if (!r.multi || !r.headers) {
		rp_err_set(err, RP_ERR_IO, "cannot initialise libcurl");
		goto out;
	}
	curl_multi_setopt(r.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)conc);
	r.ready = xmalloc(n * sizeof(*r.ready));
	while (r.done < n) {
		double now, when;
		int timeout_ms = 1000;
		CURLMcode mc;

		if (r.t_end && !r.expired[0] && now_s() >= r.t_end)
			snprintf(r.expired, sizeof(r.expired), "the deadline of %.0f s passed",
				 o->deadline_ms / 1000.0);
		if (r.expired[0]) {
			rp_err_set(err, RP_ERR_IO, "POST %s: gave up: %s, with %zu of %zu requests answered; "
				   "raise --deadline or try again later", url, r.expired, r.done, n);
			goto out;
		}
		if (fill(&r, (size_t)conc, err) < 0 || perform(&r, st, err) < 0)
			goto out;
		if (r.nready) {
			/* refill the freed places and send, then hand the answers over */
			if (ready_all_ok(&r) && (fill(&r, (size_t)conc, err) < 0 || perform(&r, st, err) < 0))
				goto out;
			if (deliver(&r, on_done, err) < 0)
				goto out;
			continue;
		}
		/* idle: build the next bodies now rather than when a place frees */
		for (size_t i = r.next_new; i < n && i < r.next_new + (size_t)conc; i++)
			build(&r, i);
		/* sleep until a transfer moves or the next retry / the gate is due */
		now = now_s();
		if (next_due(&r, &when) < n || (r.next_new < n && r.gate > now)) {
			double t = r.waiting ? when : r.gate;

			if (r.next_new < n && r.gate > now && (!r.waiting || r.gate < t))
				t = r.gate;
			if (t - now < timeout_ms / 1000.0)
				timeout_ms = t > now ? (int)((t - now) * 1000.0) + 1 : 0;
		}
		if (r.t_end && (r.t_end - now) * 1000.0 < timeout_ms)
			timeout_ms = r.t_end > now ? (int)((r.t_end - now) * 1000.0) + 1 : 0;
		if (r.running || timeout_ms > 0) {
			mc = curl_multi_poll(r.multi, NULL, 0, timeout_ms, NULL);
			if (mc != CURLM_OK) {
				rp_err_set(err, RP_ERR_IO, "HTTP transfer failed: %s", curl_multi_strerror(mc));
				goto out;
			}
		}
	}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &r.slots[i];

		if (s->easy) {
			curl_multi_remove_handle(r.multi, s->easy);
			curl_easy_cleanup(s->easy);
		}
		if (s->state != S_DONE && s->built) {
			buf_release(&s->body);
			buf_release(&s->resp);
		}
	}
	free(r.ready);
	free(r.slots);
	if (r.multi)
		curl_multi_cleanup(r.multi);
	curl_slist_free_all(r.headers);
	return ret;
}
