/*
 * chat.c - OpenAI-compatible chat completions over libcurl (see chat.h).
 *
 * One easy handle, reused, so the connection is kept alive between calls.
 * Each attempt collects the body and the Retry-After headers; the retry
 * policy is:
 *
 *   429, 408, 5xx, transport errors   retry, up to max_retries times
 *   anything else that is not 2xx     fail now with the provider's message
 *
 * The wait before retry n (from 0) is base_delay * 2^n (capped at 60 s),
 * with "equal jitter" (half fixed, half random), and never less than the
 * server's retry-after-ms / Retry-After (capped at 300 s).
 *
 * Secrets: the key only goes into the Authorization header list. Every
 * message built here passes through scrub(), which replaces the key with
 * "***" should a provider echo it back. curl's verbose mode is never on.
 */
#include "chat.h"
#include "buf.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct reply {
	struct buf body;
	double retry_after;     /* seconds; -1 when the server gave none */
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;

	buf_add(&r->body, p, size * n);
	return size * n;
}

double chat_parse_retry_after(const char *v, int ms)
{
	char *end;
	double d;
	time_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	d = strtod(v, &end);
	if (end != v) {
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (!*end && d >= 0 && isfinite(d))
			return ms ? d / 1000.0 : d;
		return -1;
	}
	if (ms)
		return -1;
	t = curl_getdate(v, NULL);
	if (t < 0)
		return -1;
	d = difftime(t, time(NULL));
	return d > 0 ? d : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	size_t len = size * n;
	char *line = xstrndup(p, len), *colon = strchr(line, ':');

	if (colon) {
		*colon = '\0';
		if (!strcasecmp(line, "retry-after-ms")) {
			double d = chat_parse_retry_after(colon + 1, 1);

			if (d >= 0)
				r->retry_after = d;  /* wins over Retry-After */
		} else if (!strcasecmp(line, "retry-after") && r->retry_after < 0) {
			r->retry_after = chat_parse_retry_after(colon + 1, 0);
		}
	}
	free(line);
	return len;
}

/* Returns `s` with every occurrence of the key replaced by "***"; frees `s`. */
static char *scrub(const struct chat *c, char *s)
{
	struct buf b = BUF_INIT;
	const char *p = s, *q;
	size_t kl;

	if (!c->api_key || !(kl = strlen(c->api_key)))
		return s;
	while ((q = strstr(p, c->api_key))) {
		buf_add(&b, p, q - p);
		buf_adds(&b, "***");
		p = q + kl;
	}
	buf_adds(&b, p);
	free(s);
	return buf_detach(&b);
}

static int fail(const struct chat *c, struct rp_err *err, char *msg)
{
	msg = scrub(c, msg);
	rp_err_set(err, RP_ERR_IO, "%s", msg);
	free(msg);
	return -1;
}

/* The provider's error message from a JSON error body, else the body itself. */
static char *provider_message(const struct buf *body)
{
	json_t *j = json_loadb(body->s, body->len, 0, NULL), *e, *m = NULL;
	char *s;

	if (j) {
		e = json_object_get(j, "error");
		if (json_is_object(e))
			m = json_object_get(e, "message");
		else if (json_is_string(e))
			m = e;
		else
			m = json_object_get(j, "message");
	}
	if (json_is_string(m))
		s = xstrdup(json_string_value(m));
	else if (body->len)
		s = xstrndup(body->s, body->len > 300 ? 300 : body->len);
	else
		s = xstrdup("(empty body)");
	json_decref(j);
	for (char *p = s; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return s;
}

int chat_init(struct chat *c, const char *base_url, const char *model, const char *api_key,
	      struct rp_err *err)
{
	size_t bl = strlen(base_url);
	static int global_done;

	memset(c, 0, sizeof(*c));
	while (bl && base_url[bl - 1] == '/')
		bl--;
	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return rp_err_set(err, RP_ERR_IO, "cannot initialise libcurl");
		global_done = 1;
	}
	c->curl = curl_easy_init();
	if (!c->curl)
		return rp_err_set(err, RP_ERR_IO, "cannot initialise libcurl");
	c->url = xasprintf("%.*s/chat/completions", (int)bl, base_url);
	c->model = xstrdup(model);
	c->api_key = api_key && *api_key ? xstrdup(api_key) : NULL;
	c->max_retries = 5;
	c->timeout = 120;
	c->base_delay = 0.5;
	srand48((long)time(NULL) ^ (long)getpid());
	return 0;
}

void chat_release(struct chat *c)
{
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->api_key) {
		volatile char *p = c->api_key;

		while (*p)
			*p++ = 0;
		free(c->api_key);
	}
	free(c->url);
	free(c->model);
	memset(c, 0, sizeof(*c));
}

static void sleep_seconds(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0)
		;
}

static char *request_body(const struct chat *c, const char *system, const char *user)
{
	json_t *o = json_object(), *msgs = json_array(), *m;
	char *s;

	json_object_set_new(o, "model", json_string(c->model));
	m = json_object();
	json_object_set_new(m, "role", json_string("system"));
	json_object_set_new(m, "content", json_string(system));
	json_array_append_new(msgs, m);
	m = json_object();
	json_object_set_new(m, "role", json_string("user"));
	json_object_set_new(m, "content", json_string(user));
	json_array_append_new(msgs, m);
	json_object_set_new(o, "messages", msgs);
	json_object_set_new(o, "temperature", json_real(0));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		BUG("json_dumps failed");
	return s;
}

/* choices[0].message.content of a 2xx body; NULL + err. */
static char *parse_content(const struct chat *c, const struct buf *body, struct rp_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(body->s, body->len, 0, &je), *choices, *content = NULL;
	char *s = NULL;

	if (!j) {
		fail(c, err, xasprintf("POST %s: response is not JSON: %s", c->url, je.text));
		return NULL;
	}
	choices = json_object_get(j, "choices");
	if (json_is_array(choices) && json_array_size(choices) > 0)
		content = json_object_get(json_object_get(json_array_get(choices, 0), "message"),
					  "content");
	if (!json_is_string(content))
		fail(c, err, xasprintf("POST %s: response has no choices[0].message.content string",
				       c->url));
	else
		s = xstrdup(json_string_value(content));
	json_decref(j);
	return s;
}

char *chat_complete(struct chat *c, const char *system, const char *user, struct rp_err *err)
{
	struct curl_slist *hdrs = NULL;
	char *body = request_body(c, system, user), *auth = NULL, *out = NULL;
	char cerr[CURL_ERROR_SIZE];
	struct reply r;

	buf_init(&r.body);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (c->api_key) {
		auth = xasprintf("Authorization: Bearer %s", c->api_key);
		hdrs = curl_slist_append(hdrs, auth);
	}
	for (int attempt = 0;; attempt++) {
		CURL *h = c->curl;
		CURLcode cc;
		long status = 0;
		int retry;
		double wait;

		buf_reset(&r.body);
		r.retry_after = -1;
		cerr[0] = '\0';
		curl_easy_reset(h);
		curl_easy_setopt(h, CURLOPT_URL, c->url);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
		curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
		curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout);
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
		curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(h, CURLOPT_USERAGENT, "rp-context");
		curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
		c->requests++;
		cc = curl_easy_perform(h);
		if (cc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (cc == CURLE_OK && status >= 200 && status < 300) {
			out = parse_content(c, &r.body, err);
			break;
		}
		retry = cc != CURLE_OK || status == 429 || status == 408 || status >= 500;
		if (!retry || attempt >= c->max_retries) {
			char *what;

			if (cc != CURLE_OK) {
				what = xstrdup(*cerr ? cerr : curl_easy_strerror(cc));
			} else {
				char *pm = provider_message(&r.body);

				what = xasprintf("HTTP %ld: %s", status, pm);
				free(pm);
			}
			if (retry)
				fail(c, err, xasprintf("POST %s: %s (gave up after %d attempts)", c->url,
						       what, attempt + 1));
			else
				fail(c, err, xasprintf("POST %s: %s", c->url, what));
			free(what);
			break;
		}
		wait = c->base_delay;
		for (int k = 0; k < attempt && wait < 60; k++)
			wait *= 2;
		if (wait > 60)
			wait = 60;
		wait = wait / 2 + drand48() * wait / 2;
		if (r.retry_after >= 0) {
			double ra = r.retry_after > 300 ? 300 : r.retry_after;

			if (wait < ra)
				wait = ra + drand48() * 0.1;
		}
		c->retries++;
		sleep_seconds(wait);
	}
	curl_slist_free_all(hdrs);
	if (auth) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	free(body);
	buf_release(&r.body);
	return out;
}
