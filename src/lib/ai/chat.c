/*
 * chat.c - OpenAI-compatible chat completions (see chat.h).
 *
 * The transport, retries and Retry-After handling are http.h's (one request
 * per call, concurrency 1); the provider's error text is read as for the
 * embeddings protocol (embed_openai_error). Secrets: the key only goes to
 * http.h as the bearer and is registered with rp_secret_add() by
 * chat_init(), so every message (rp_err_set redacts) shows it, or any part
 * of it a provider echoes back, as "[REDACTED]".
 *
 * Bounds: each request is limited to c->timeout seconds, and all requests
 * of one struct chat together to c->deadline seconds from chat_init().
 */
#include "ai/chat.h"
#include "util/buf.h"
#include "ai/embed_openai.h"
#include "util/http.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int chat_init(struct chat *c, const char *base_url, const char *model, const char *api_key,
	      struct rp_err *err)
{
	size_t bl = strlen(base_url);

	(void)err;
	memset(c, 0, sizeof(*c));
	while (bl && base_url[bl - 1] == '/')
		bl--;
	c->url = xasprintf("%.*s/chat/completions", (int)bl, base_url);
	c->model = xstrdup(model);
	c->api_key = api_key && *api_key ? xstrdup(api_key) : NULL;
	c->max_retries = 5;
	c->timeout = 120;
	c->deadline = HTTP_DEADLINE_MS / 1000;
	c->t0 = now_s();
	rp_secret_add(c->api_key);
	rp_secret_add_url(c->url);
	return 0;
}

void chat_release(struct chat *c)
{
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

/* Fills err with `msg` (freed; rp_err_set redacts the key). Returns -1. */
static int fail(const struct chat *c, struct rp_err *err, char *msg)
{
	(void)c;
	rp_err_set(err, RP_ERR_IO, "%s", msg);
	free(msg);
	return -1;
}

struct call {
	struct chat *c;
	const char *system, *user;
	char *out;
};

static void make_body(void *ctx, size_t i, struct buf *body)
{
	struct call *k = ctx;
	json_t *o = json_object(), *msgs = json_array();
	char *s;

	(void)i;
	json_object_set_new(o, "model", json_string(k->c->model));
	json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "system", "content", k->system));
	json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "user", "content", k->user));
	json_object_set_new(o, "messages", msgs);
	json_object_set_new(o, "temperature", json_real(0));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!s)
		BUG("json_dumps failed");
	buf_adds(body, s);
	free(s);
}

/* choices[0].message.content of a 2xx answer, else the provider's message. */
static int on_done(void *ctx, size_t i, const struct http_result *res, struct rp_err *err)
{
	struct call *k = ctx;
	const char *url = k->c->url;
	json_error_t je;
	json_t *j, *choices, *content = NULL;

	(void)i;
	if (res->status == 0)
		return fail(k->c, err, xasprintf("POST %s: %s (gave up after %d attempts)", url,
						 res->error, res->attempts));
	if (res->status < 200 || res->status >= 300) {
		struct buf msg = BUF_INIT;
		int retryable = res->status == 429 || res->status == 408 || res->status >= 500;

		embed_openai_error(res->body, res->body_len, &msg);
		if (retryable)
			buf_addf(&msg, " (gave up after %d attempts)", res->attempts);
		fail(k->c, err, xasprintf("POST %s: HTTP %ld: %s", url, res->status, msg.s));
		buf_release(&msg);
		return -1;
	}
	j = json_loadb(res->body, res->body_len, 0, &je);
	if (!j)
		return fail(k->c, err, xasprintf("POST %s: response is not JSON: %s", url, je.text));
	choices = json_object_get(j, "choices");
	if (json_is_array(choices) && json_array_size(choices) > 0)
		content = json_object_get(json_object_get(json_array_get(choices, 0), "message"),
					  "content");
	if (json_is_string(content))
		k->out = xstrdup(json_string_value(content));
	json_decref(j);
	if (!k->out)
		return fail(k->c, err, xasprintf("POST %s: response has no choices[0].message.content "
						 "string", url));
	return 0;
}

char *chat_complete(struct chat *c, const char *system, const char *user, struct rp_err *err)
{
	struct http_opts o = HTTP_OPTS_INIT;
	struct http_stats st = { 0 };
	struct call k = { c, system, user, NULL };

	o.concurrency = 1;
	o.max_retries = c->max_retries;
	o.timeout_ms = c->timeout * 1000;
	/* what is left of the deadline of all requests */
	o.deadline_ms = (long)((c->t0 + (double)c->deadline - now_s()) * 1000.0);
	if (o.deadline_ms <= 0) {
		rp_err_set(err, RP_ERR_IO, "POST %s: gave up: the deadline of %ld s passed; raise "
			   "--deadline or try again later", c->url, c->deadline);
		return NULL;
	}
	o.bearer = c->api_key;
	o.user_agent = "rp-context";
	if (http_post_all(c->url, &o, 1, make_body, on_done, &k, &st, err) < 0) {
		free(k.out);
		k.out = NULL;
	}
	c->requests += st.attempts;
	c->retries += st.retries;
	return k.out;
}
