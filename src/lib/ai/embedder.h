/*
 * embedder.h - one interface to every embedding provider.
 *
 *     struct embedder_params p = EMBEDDER_PARAMS_INIT;
 *     p.provider = "local"; p.model = "rp-lexical-v1";
 *     struct embedder *e = embedder_open(&p, &err);
 *     embedder_embed(e, texts, lens, n, sink, ctx, &err);
 *     embedder_free(e);
 *
 * A backend is a table of operations (struct embedder_ops): embed a batch
 * of texts, its model id, its dimension, release. Two exist: "local"
 * (embed_local.h, in-process on all cores) and "openai" (embed_openai.h
 * over http.h: batches bounded by p.batch texts and p.max_tokens estimated
 * tokens, ceil(bytes / 4) per text, p.http.concurrency requests in flight,
 * retried as http.h says). A new provider is a new table and a line in
 * embedder_open(); callers never test the provider's name.
 *
 * Vectors are handed to the caller's sink as they come: a contiguous range
 * of the input per call, in any order, on the calling thread. An answer
 * that is wrong in any way (count, index, dimension, a number) is refused
 * whole and never reaches the sink, so a caller that caches what its sink
 * receives caches only checked vectors. Messages of a failed request name
 * the URL, never the key (http.h registers it as a secret).
 */
#ifndef RP_EMBEDDER_H
#define RP_EMBEDDER_H

#include <stddef.h>
#include "util/error.h"
#include "util/http.h"

struct embedder;

/*
 * Receives the vectors of texts first .. first+n (row i at vecs + i * dim,
 * borrowed for the call). Return 0 to go on, or -1 with err filled to stop
 * the call.
 */
typedef int (*embedder_sink_fn)(void *ctx, size_t first, size_t n, const float *vecs, unsigned dim,
				struct rp_err *err);

struct embedder_ops {
	const char *provider;  /* "local", "openai" */
	int remote;            /* 1: it sends texts over the network */
	/* embeds texts[0..n) (lens[i] bytes each), handing vectors to sink; 0 or -1 + err */
	int (*embed)(struct embedder *e, const char *const *texts, const size_t *lens, size_t n,
		     embedder_sink_fn sink, void *ctx, struct rp_err *err);
	const char *(*model)(const struct embedder *e);
	unsigned (*dim)(const struct embedder *e);
	void (*release)(struct embedder *e);
};

struct embedder_params {
	const char *provider;    /* "local" or "openai" */
	const char *model;       /* the model id */
	unsigned dims;           /* the dimension asked for; 0: the model's */
	const char *input_type;  /* "document", "query" or NULL (openai: sent as input_type) */
	const char *base_url;    /* openai: the API root */
	const char *key_env;     /* openai: its variable's name, for messages */
	long batch;              /* openai: texts per request */
	long max_tokens;         /* openai: estimated tokens per request */
	struct http_opts http;   /* openai: concurrency, retries, timeouts (bearer is set from key) */
};

#define EMBEDDER_PARAMS_INIT { "local", NULL, 0, NULL, "https://api.openai.com/v1", \
			       "OPENAI_API_KEY", 100, 100000, HTTP_OPTS_INIT }

/* Every embedder's common part; the backend's state follows it. */
struct embedder {
	const struct embedder_ops *ops;
	/*
	 * The API key a remote backend sends (as http.h says), borrowed; NULL:
	 * none. Set by the caller after embedder_open(), once ops->remote told
	 * it that a key is wanted (provider_settings_key()).
	 */
	const char *key;
	/*
	 * The dimension of every vector: the asked one, the local model's, or 0
	 * until the first answer. A caller that already knows it (from a cache)
	 * may set it before embedding; an answer of another is then refused.
	 */
	unsigned dim;
	struct http_stats http;  /* requests answered, attempts, retries (remote) */
	long long tokens;        /* tokens the server counted (remote) */
	size_t batches;          /* batches of the current or last call */
	size_t batches_done;     /* of those, answered */
	int in_flight;           /* batches at most in flight at once */
};

/*
 * A new embedder for `p` (copied), or NULL + err
 * (RP_ERR_INPUT): an unknown provider, a model the local provider does not
 * have, a base URL that is not http:// or https://. Free with embedder_free.
 */
struct embedder *embedder_open(const struct embedder_params *p, struct rp_err *err);

/* e->ops->embed(): see struct embedder_ops. */
int embedder_embed(struct embedder *e, const char *const *texts, const size_t *lens, size_t n,
		   embedder_sink_fn sink, void *ctx, struct rp_err *err);
/* The model id (borrowed from e). */
const char *embedder_model(const struct embedder *e);
/* The dimension, 0 while unknown. */
unsigned embedder_dim(const struct embedder *e);
/* Releases e; NULL does nothing. */
void embedder_free(struct embedder *e);

#endif
