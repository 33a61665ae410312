/*
 * embedder.c - the local and openai backends behind struct embedder
 * (embedder.h). Each backend's state embeds struct embedder first, so a
 * struct embedder * is also a pointer to its backend.
 *
 * local: the texts go in ranges of LOCAL_RANGE; each range is embedded on
 * all cores (thread k does items k, k + nthreads, ...; a thread that cannot
 * start has its share done by the caller's) and handed to the sink.
 *
 * openai: the texts are cut into contiguous batches (at most p.batch texts
 * and p.max_tokens estimated tokens each), sent by http_post_all(); each
 * answer is checked by embed_openai_parse() against the known dimension
 * and handed to the sink.
 */
#include "ai/embedder.h"
#include "ai/embed_local.h"
#include "ai/embed_openai.h"
#include "util/buf.h"
#include "util/hash.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- local ------------------------------------------------------------------ */

#define LOCAL_RANGE 1024
#define LOCAL_THREADS 64

struct local {
	struct embedder e;
	char *model;
};

struct local_job {
	const char *const *texts;
	const size_t *lens;
	size_t n;
	float *vecs;
	unsigned dim, k, nthreads;   /* this thread does items k, k + nthreads, ... */
};

static void *local_worker(void *arg)
{
	struct local_job *j = arg;

	for (size_t k = j->k; k < j->n; k += j->nthreads)
		embed_local(j->texts[k], j->lens[k], j->vecs + k * j->dim, j->dim);
	return NULL;
}

static int local_embed(struct embedder *e, const char *const *texts, const size_t *lens, size_t n,
		       embedder_sink_fn sink, void *ctx, struct rp_err *err)
{
	float *vecs = xmalloc(LOCAL_RANGE * (size_t)e->dim * sizeof(float));
	unsigned nthreads = (unsigned)hash_ncores();
	pthread_t tid[LOCAL_THREADS];
	struct local_job jobs[LOCAL_THREADS];
	int ret = 0;

	if (nthreads > LOCAL_THREADS)
		nthreads = LOCAL_THREADS;
	e->batches = (n + LOCAL_RANGE - 1) / LOCAL_RANGE;
	e->batches_done = 0;
	for (size_t s = 0; s < n && !ret; s += LOCAL_RANGE) {
		size_t m = n - s < LOCAL_RANGE ? n - s : LOCAL_RANGE;
		int running[LOCAL_THREADS] = { 0 };

		for (unsigned t = 0; t < nthreads; t++) {
			jobs[t] = (struct local_job){ texts + s, lens + s, m, vecs, e->dim, t, nthreads };
			if (t && m >= 64)
				running[t] = !pthread_create(&tid[t], NULL, local_worker, &jobs[t]);
		}
		for (unsigned t = 0; t < nthreads; t++)
			if (!running[t])
				local_worker(&jobs[t]);
		for (unsigned t = 1; t < nthreads; t++)
			if (running[t])
				pthread_join(tid[t], NULL);
		e->batches_done++;
		ret = sink(ctx, s, m, vecs, e->dim, err);
	}
	free(vecs);
	return ret;
}

static const char *local_model(const struct embedder *e)
{
	return ((const struct local *)e)->model;
}

static unsigned any_dim(const struct embedder *e)
{
	return e->dim;
}

static void local_release(struct embedder *e)
{
	free(((struct local *)e)->model);
}

static const struct embedder_ops local_ops = { "local", 0, local_embed, local_model, any_dim,
					       local_release };

static struct embedder *local_open(const struct embedder_params *p, struct rp_err *err)
{
	struct local *l;

	if (embed_local_check_model(p->model, err) < 0)
		return NULL;
	l = xcalloc(1, sizeof(*l));
	l->e.ops = &local_ops;
	l->e.dim = p->dims ? p->dims : EMBED_LOCAL_DIM;
	l->e.in_flight = 1;
	l->model = xstrdup(p->model);
	return &l->e;
}

/* ---- openai ----------------------------------------------------------------- */

struct openai {
	struct embedder e;
	char *model, *input_type, *url, *key_env;
	unsigned dims;               /* asked; 0: the model's */
	long batch, max_tokens;
	struct http_opts http;
	/* the current call */
	const char *const *texts;
	const size_t *lens;
	size_t *bstart;              /* batch b is texts bstart[b] .. bstart[b+1] */
	embedder_sink_fn sink;
	void *ctx;
};

static void plan_batches(struct openai *o, size_t n)
{
	long tokens = 0, count = 0;

	o->bstart = xmalloc((n + 1) * sizeof(size_t));
	o->e.batches = 0;
	for (size_t k = 0; k < n; k++) {
		long t = (long)((o->lens[k] + 3) / 4);

		if (count && (count >= o->batch || tokens + t > o->max_tokens)) {
			count = 0;
			tokens = 0;
		}
		if (!count)
			o->bstart[o->e.batches++] = k;
		count++;
		tokens += t;
	}
	o->bstart[o->e.batches] = n;
}

static void make_body(void *ctx, size_t b, struct buf *body)
{
	struct openai *o = ctx;
	size_t s = o->bstart[b];

	embed_openai_body(body, o->model, o->dims, o->input_type, o->texts + s, o->bstart[b + 1] - s);
}

/* Fills err for a non-200 result; returns -1. */
static int failed(const struct openai *o, const struct http_result *res, struct rp_err *err)
{
	struct buf msg = BUF_INIT;

	if (!res->status) {
		buf_addf(&msg, "cannot reach '%s': %s", o->url, res->error ? res->error : "no response");
	} else {
		buf_addf(&msg, "'%s' answered HTTP %ld", o->url, res->status);
		if (res->attempts > 1)
			buf_addf(&msg, " after %d attempts", res->attempts);
		buf_adds(&msg, ": ");
		embed_openai_error(res->body, res->body_len, &msg);
	}
	if (res->status == 401 || res->status == 403)
		buf_addf(&msg, " (check the key in $%s)", o->key_env);
	else if (res->status == 429 || res->status >= 500 || !res->status)
		buf_adds(&msg, "; the vectors received so far are cached, re-run to go on");
	/* rp_err_set redacts the key and the URL's credentials */
	rp_err_set(err, RP_ERR_IO, "%s", msg.s);
	buf_release(&msg);
	return -1;
}

static int on_response(void *ctx, size_t b, const struct http_result *res, struct rp_err *err)
{
	struct openai *o = ctx;
	size_t s = o->bstart[b], n = o->bstart[b + 1] - s;
	unsigned dim = o->e.dim;
	float *vecs = NULL;
	char *clean;
	int ret;

	if (res->status != 200)
		return failed(o, res, err);
	if (embed_openai_parse(res->body, res->body_len, n, &dim, &vecs, &o->e.tokens, err) < 0) {
		clean = xstrdup(err->msg);
		rp_err_set(err, RP_ERR_IO, "bad answer from '%s' to a batch of %zu texts: %s%s; nothing of "
			   "this answer was cached", o->url, n, clean, o->dims ? " (asked with --dimensions)"
			   : o->e.dim ? " (the dimension of this run's first vectors)" : "");
		free(clean);
		return -1;
	}
	if (o->dims && dim != o->dims) {
		rp_err_set(err, RP_ERR_IO, "bad answer from '%s': vectors of %u dimensions, but --dimensions "
			   "is %u", o->url, dim, o->dims);
		free(vecs);
		return -1;
	}
	o->e.dim = dim;
	o->e.batches_done++;
	ret = o->sink(o->ctx, s, n, vecs, dim, err);
	free(vecs);
	return ret;
}

static int openai_embed(struct embedder *e, const char *const *texts, const size_t *lens, size_t n,
			embedder_sink_fn sink, void *ctx, struct rp_err *err)
{
	struct openai *o = (struct openai *)e;
	int ret;

	o->texts = texts;
	o->lens = lens;
	o->sink = sink;
	o->ctx = ctx;
	e->batches_done = 0;
	o->http.bearer = e->key;
	plan_batches(o, n);
	ret = http_post_all(o->url, &o->http, e->batches, make_body, on_response, o, &e->http, err);
	free(o->bstart);
	o->bstart = NULL;
	return ret;
}

static const char *openai_model(const struct embedder *e)
{
	return ((const struct openai *)e)->model;
}

static void openai_release(struct embedder *e)
{
	struct openai *o = (struct openai *)e;

	free(o->model);
	free(o->input_type);
	free(o->url);
	free(o->key_env);
}

static const struct embedder_ops openai_ops = { "openai", 1, openai_embed, openai_model, any_dim,
						openai_release };

static struct embedder *openai_open(const struct embedder_params *p, struct rp_err *err)
{
	char *url = embed_openai_url(p->base_url);
	struct openai *o;

	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		free(url);
		rp_err_set(err, RP_ERR_INPUT, "base URL '%s' is not an http:// or https:// URL", p->base_url);
		return NULL;
	}
	o = xcalloc(1, sizeof(*o));
	o->e.ops = &openai_ops;
	o->e.dim = p->dims;
	o->e.in_flight = p->http.concurrency;
	o->model = xstrdup(p->model);
	o->input_type = p->input_type ? xstrdup(p->input_type) : NULL;
	o->url = url;
	o->key_env = xstrdup(p->key_env ? p->key_env : "");
	o->dims = p->dims;
	o->batch = p->batch;
	o->max_tokens = p->max_tokens;
	o->http = p->http;
	return &o->e;
}

/* ---- the interface ---------------------------------------------------------- */

struct embedder *embedder_open(const struct embedder_params *p, struct rp_err *err)
{
	static const struct {
		const char *name;
		struct embedder *(*open)(const struct embedder_params *, struct rp_err *);
	} backends[] = { { "local", local_open }, { "openai", openai_open } };

	for (size_t i = 0; i < sizeof(backends) / sizeof(*backends); i++)
		if (!strcmp(p->provider, backends[i].name))
			return backends[i].open(p, err);
	rp_err_set(err, RP_ERR_INPUT, "unknown provider '%s' (expected 'local' or 'openai')", p->provider);
	return NULL;
}

int embedder_embed(struct embedder *e, const char *const *texts, const size_t *lens, size_t n,
		   embedder_sink_fn sink, void *ctx, struct rp_err *err)
{
	return e->ops->embed(e, texts, lens, n, sink, ctx, err);
}

const char *embedder_model(const struct embedder *e)
{
	return e->ops->model(e);
}

unsigned embedder_dim(const struct embedder *e)
{
	return e->ops->dim(e);
}

void embedder_free(struct embedder *e)
{
	if (!e)
		return;
	e->ops->release(e);
	free(e);
}
