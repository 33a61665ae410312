/*
 * embed.c - rp-embed: chunks.jsonl into vectors.rpv, through a cache.
 *
 * Embedding is treated as a pure function of (provider, model, dimensions,
 * input type, text): each chunk's cache key is the SHA-256 of those
 * (embcache_key), never of its id or position. The run:
 *   1. reads the chunks (jansson, a line at a time from the input read
 *      whole), checks content_hash == sha256(text), computes the keys, and
 *      checks that ids are unique;
 *   2. folds equal keys together (a text embedded once however often it
 *      occurs);
 *   3. looks every key up in the cache in one bulk read;
 *   4. embeds only the misses: the local model in-process on all cores, or the OpenAI
 *      protocol in batches bounded by --batch inputs and --max-batch-tokens
 *      (estimated as ceil(bytes / 4) per text), --concurrency requests in
 *      flight, retried per http.h. Received vectors are committed to the
 *      cache at least every COMMIT_SECONDS (one transaction for the answers
 *      of that time: keys are random, so every commit rewrites pages all
 *      over the B-tree, and one per answer wrote most of it again each
 *      time), once the last requests are all in flight, and when the run
 *      ends or fails;
 *   5. writes vectors.rpv (vectors.h) atomically, in input order, while
 *      another thread closes the cache.
 * Any failure in 4 stops the run with exit 1 and writes no output file;
 * what was committed stays, so a re-run pays only for the rest.
 *
 * The API key is read from the environment variable that --api-key-env
 * names and handed to http.c only, which registers it as a secret: every
 * message (rp_error, rp_err_set) is redacted (error.h), so no part of the
 * key, or of the base URL's credentials, is ever printed.
 *
 * Bounds: each request is limited to --timeout seconds (default 60), the
 * whole HTTP phase to --deadline (default 1h), a Retry-After wait to 60 s,
 * and a response body to 64 MiB after decompression (http.h). An answer
 * whose dimension differs from --dimensions, or from the run's first
 * answer (or cached vector) when none was asked, is refused whole: nothing
 * of it reaches the cache.
 */
#include "util/buf.h"
#include "core/config.h"
#include "ai/embcache.h"
#include "ai/embed_local.h"
#include "ai/embed_openai.h"
#include "ai/provider.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/hmap.h"
#include "util/http.h"
#include "util/jsonl.h"
#include "util/numopt.h"
#include "util/progress.h"
#include "core/userconfig.h"
#include "ai/vectors.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage_text[] =
	"usage: rp-embed CHUNKS.jsonl -o VECTORS.rpv --model ID [--provider local|openai]\n"
	"                [--batch N] [--max-batch-tokens N] [--concurrency N] [--max-retries N]\n"
	"                [--dimensions N] [--input-type document|query] [--base-url URL]\n"
	"                [--api-key-env NAME] [--cache PATH] [--stats FILE]\n"
	"                [--timeout SECONDS] [--deadline SECONDS]\n"
	"\n"
	"Embeds the \"text\" of each chunk, sending only the texts that are not in the\n"
	"embedding cache, and writes the vectors in chunk order.\n"
	"\n"
	"  -o, --output FILE        the vectors file to write (format in rp-embed(1))\n"
	"  -m, --model ID           model id ('rp-lexical-v1' for the local provider)\n"
	"      --provider NAME      local (offline, default) or openai (any server that\n"
	"                           speaks the OpenAI embeddings API)\n"
	"      --batch N            at most N texts per request (default 100)\n"
	"      --max-batch-tokens N at most N estimated tokens per request (default 100000)\n"
	"      --concurrency N      requests in flight at once (default 4)\n"
	"      --max-retries N      retries of a request after 429, 408, 5xx (default 6)\n"
	"      --timeout SECONDS    limit of one request, 1..86400 (default 60)\n"
	"      --deadline SECONDS   limit of all requests, retries included; suffixes\n"
	"                           s, m, h (default 1h)\n"
	"      --dimensions N       vector dimension (local default 384; openai: the model's)\n"
	"      --input-type TYPE    document or query, sent as input_type (default: none)\n"
	"      --base-url URL       openai server (default https://api.openai.com/v1)\n"
	"      --api-key-env NAME   environment variable holding the API key\n"
	"                           (default OPENAI_API_KEY)\n"
	"      --cache PATH         embedding cache (default .rp/embed-cache.db)\n"
	"      --stats FILE         write run statistics as JSON\n"
	"  -h, --help               show this help\n";

struct chunk {
	char *id;
	char *text;
	size_t len;
	char hash[HASH_HEX];
	size_t line;
	size_t u;                 /* index of its unique text */
	unsigned char key[EMBCACHE_KEY];
};

struct uniq {
	unsigned char key[EMBCACHE_KEY];
	size_t first;             /* first chunk with this key */
	size_t mult;              /* chunks with this key */
	int have;                 /* its vector is in run.vecs */
};

struct run {
	/* options */
	const char *input, *output, *model, *provider, *input_type;
	const char *stats_path;
	char *cache_path, *base_url, *api_key_env;
	int explicit_key_env;
	unsigned dims_opt;        /* --dimensions, 0 unset */
	long batch, max_tokens, concurrency, max_retries;
	long timeout, deadline;   /* --timeout, --deadline (seconds) */
	/* data */
	struct buf in;            /* the input, read whole */
	struct chunk *chunks;
	size_t nchunks, calloc_;
	struct uniq *uniq;
	size_t nuniq;
	unsigned dim;             /* of every vector of the run; 0 until known */
	float *vecs;              /* nuniq * dim, allocated once dim is known */
	struct embcache *cache;
	/* batches of misses: miss[bstart[b] .. bstart[b+1]) */
	size_t *miss, nmiss;
	size_t *bstart, nbatch;
	char *url;
	const char *secret;
	/* received vectors not yet committed: unique texts pend[0..npend) */
	size_t *pend, npend;
	double last_commit;
	/* counters */
	size_t hits, done, embedded, stored;
	long long tokens;
	struct http_stats hs;
	struct progress prog;
	double t0;
};

static int usage(int is_error)
{
	fputs(usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return rp_error_input("option '--%s': '%s' is not a number in %ld..%ld", opt, s, lo, hi);
	*out = v;
	return 0;
}

/* ---- input ------------------------------------------------------------------ */

/* Reads the line (line number `line`) of `len` bytes at `p` with jansson; 0, or -1 + err. */
static int read_chunk_json(struct run *r, const char *name, const char *p, size_t len, size_t line,
			   struct rp_err *err)
{
	struct jsonl_reader rd;
	json_t *obj = NULL;
	const char *id, *text, *hash;
	struct chunk *c;
	int rc, ret = -1;

	if (jsonl_open_mem(&rd, name, p, len, err) < 0)
		return -1;
	rd.line = line - 1;
	rc = jsonl_next(&rd, &obj, err);
	if (!rc)
		BUG("a line that is not blank has no JSON value");
	if (rc < 0)
		goto out;
	id = jsonl_get_str(&rd, obj, "chunk_id", err);
	text = id ? jsonl_get_str(&rd, obj, "text", err) : NULL;
	hash = text ? jsonl_get_str(&rd, obj, "content_hash", err) : NULL;
	if (!hash)
		goto out;
	if (!*id) {
		rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: field 'chunk_id' is empty", rd.path, rd.line);
		goto out;
	}
	ALLOC_GROW(r->chunks, r->nchunks + 1, r->calloc_);
	c = &r->chunks[r->nchunks];
	c->len = json_string_length(json_object_get(obj, "text"));
	hash_buf(text, c->len, c->hash);
	if (strcmp(c->hash, hash)) {
		rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: chunk '%s': content_hash %.12s... is not the "
			   "SHA-256 of its text (%.12s...); the chunk file was edited or is corrupt, "
			   "re-run the stage that made it", rd.path, rd.line, id, hash, c->hash);
		goto out;
	}
	c->id = xstrdup(id);
	c->text = xstrndup(text, c->len);
	c->line = rd.line;
	r->nchunks++;
	ret = 0;
out:
	json_decref(obj);
	jsonl_close(&rd);
	return ret;
}

/*
 * Reads and checks the chunks into r->chunks, with their cache keys: the
 * input whole, then each line with jansson (jsonl_next()). Stops at the
 * first bad line.
 */
static int read_chunks(struct run *r)
{
	struct jsonl_reader rd;
	struct rp_err err = { 0 };
	struct buf *in = &r->in;
	unsigned kdim = !strcmp(r->provider, "local") ? r->dim : r->dims_opt;
	size_t line = 0, got;
	struct stat st;
	int ret = 0;

	if (jsonl_open(&rd, r->input, &err) < 0)
		return rp_err_report(&err);
	if (!fstat(fileno(rd.f), &st) && S_ISREG(st.st_mode) && st.st_size > 0 &&
	    (uintmax_t)st.st_size < SIZE_MAX / 2)
		buf_grow(in, (size_t)st.st_size + 1);
	do {
		buf_grow(in, 1 << 16);
		got = fread(in->s + in->len, 1, in->alloc - in->len - 1, rd.f);
		in->len += got;
		in->s[in->len] = '\0';
	} while (got);
	if (ferror(rd.f)) {
		rp_err_set(&err, RP_ERR_IO, "cannot read '%s': %s", rd.path, strerror(errno));
		jsonl_close(&rd);
		return rp_err_report(&err);
	}
	for (char *p = in->s, *end = in->s + in->len; p < end && !ret; line++) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		const char *q;
		size_t n = r->nchunks;

		for (q = p; q < le && (*q == ' ' || *q == '\t' || *q == '\r'); q++)
			;
		if (q < le)
			ret = read_chunk_json(r, rd.path, p, (size_t)(le - p), line + 1, &err);
		if (r->nchunks > n) {
			struct chunk *c = &r->chunks[n];

			embcache_key(r->provider, r->model, kdim, r->input_type, c->text, c->len, c->key);
		}
		p = nl ? nl + 1 : end;
	}
	if (ret < 0) {
		jsonl_close(&rd);
		return rp_err_report(&err);
	}
	/* unique chunk ids */
	{
		struct hmap m;

		hmap_init(&m, r->nchunks);
		for (size_t i = 0; i < r->nchunks && !ret; i++) {
			int found;
			size_t *first = hmap_put(&m, r->chunks[i].id, strlen(r->chunks[i].id), &found);

			if (found)
				ret = rp_error_input("%s:%zu:1: chunk_id '%s' also appears on line %zu; chunk "
						     "ids must be unique", rd.path, r->chunks[i].line,
						     r->chunks[i].id, r->chunks[*first].line);
			*first = found ? *first : i;
		}
		hmap_free(&m);
	}
	jsonl_close(&rd);
	return ret;
}

/* Folds equal keys of the chunks into r->uniq. */
static void fold_keys(struct run *r)
{
	struct hmap m;

	hmap_init(&m, r->nchunks);
	r->uniq = xcalloc(r->nchunks ? r->nchunks : 1, sizeof(*r->uniq));
	for (size_t i = 0; i < r->nchunks; i++) {
		struct chunk *c = &r->chunks[i];
		int found;
		size_t *u;

		memcpy(r->uniq[r->nuniq].key, c->key, EMBCACHE_KEY);
		u = hmap_put(&m, r->uniq[r->nuniq].key, EMBCACHE_KEY, &found);
		if (!found) {
			*u = r->nuniq;
			r->uniq[r->nuniq].first = i;
			r->nuniq++;
		}
		c->u = *u;
		r->uniq[c->u].mult++;
	}
	hmap_free(&m);
}

/* ---- progress --------------------------------------------------------------- */

static void show(struct run *r)
{
	char extra[128];

	if (!r->prog.enabled)
		return;
	snprintf(extra, sizeof(extra), "%zu cache hits, %zu requests, %zu retries", r->hits,
		 r->hs.requests, r->hs.retries);
	progress_update(&r->prog, r->done, extra);
}

/* Records the vector of unique text u (copied; r->dim must be set). */
static void set_vec(struct run *r, size_t u, const float *vec)
{
	if (!r->vecs)
		r->vecs = xmalloc((r->nuniq ? r->nuniq : 1) * (size_t)r->dim * sizeof(float));
	memcpy(r->vecs + u * (size_t)r->dim, vec, r->dim * sizeof(float));
	r->uniq[u].have = 1;
	r->done += r->uniq[u].mult;
}

/* ---- cache ------------------------------------------------------------------ */

struct hit_ctx {
	struct run *r;
	struct rp_err *err;
};

static int on_hit(void *ctx, size_t u, const char *provider, const char *model, unsigned dim,
		  const float *vec)
{
	struct hit_ctx *h = ctx;
	struct run *r = h->r;

	if (strcmp(provider, r->provider) || strcmp(model, r->model) || r->uniq[u].have)
		return 0;      /* cannot happen for a sound key; a miss then */
	if (!r->dim)
		r->dim = dim;
	if (dim != r->dim) {
		rp_err_set(h->err, RP_ERR_IO, "the embedding cache holds vectors of model '%s' with %u and "
			   "%u dimensions; pass --dimensions N, or use a fresh --cache", model, r->dim, dim);
		return -1;
	}
	set_vec(r, u, vec);
	r->hits += r->uniq[u].mult;
	return 0;
}

static int lookup(struct run *r)
{
	unsigned char (*keys)[EMBCACHE_KEY] = xmalloc((r->nuniq ? r->nuniq : 1) * EMBCACHE_KEY);
	struct rp_err err = { 0 };
	struct hit_ctx h = { r, &err };
	int ret;

	for (size_t u = 0; u < r->nuniq; u++)
		memcpy(keys[u], r->uniq[u].key, EMBCACHE_KEY);
	ret = embcache_lookup(r->cache, (const unsigned char (*)[EMBCACHE_KEY])keys, r->nuniq, on_hit,
			      &h, &err);
	free(keys);
	if (ret < 0)
		return rp_err_report(&err);
	return 0;
}

/* Commits vectors vecs[0..n) of unique texts us[0..n) to the cache. */
static int store(struct run *r, const size_t *us, size_t n, const float *vecs, struct rp_err *err)
{
	unsigned char (*keys)[EMBCACHE_KEY] = xmalloc((n ? n : 1) * EMBCACHE_KEY);
	int ret;

	for (size_t k = 0; k < n; k++)
		memcpy(keys[k], r->uniq[us[k]].key, EMBCACHE_KEY);
	ret = embcache_put(r->cache, (const unsigned char (*)[EMBCACHE_KEY])keys, n, r->provider,
			   r->model, r->dim, vecs, err);
	free(keys);
	if (!ret)
		r->stored += n;
	return ret;
}

/*
 * Commits the received vectors not yet in the cache, in one transaction.
 * 0, or -1 + err (they stay pending).
 */
static int flush(struct run *r, struct rp_err *err)
{
	float *vecs;
	int ret;

	r->last_commit = progress_now();
	if (!r->npend)
		return 0;
	vecs = xmalloc(r->npend * (size_t)r->dim * sizeof(float));
	for (size_t k = 0; k < r->npend; k++)
		memcpy(vecs + k * r->dim, r->vecs + r->pend[k] * r->dim, r->dim * sizeof(float));
	ret = store(r, r->pend, r->npend, vecs, err);
	free(vecs);
	if (!ret)
		r->npend = 0;
	return ret;
}

/* ---- the local provider ----------------------------------------------------- */

struct local_job {
	struct run *r;
	size_t s, n;              /* misses s .. s+n */
	float *vecs;
	unsigned k, nthreads;     /* this thread does items k, k + nthreads, ... */
};

static void *local_worker(void *arg)
{
	struct local_job *j = arg;
	struct run *r = j->r;

	for (size_t k = j->k; k < j->n; k += j->nthreads) {
		const struct chunk *c = &r->chunks[r->uniq[r->miss[j->s + k]].first];

		embed_local(c->text, c->len, j->vecs + k * r->dim, r->dim);
	}
	return NULL;
}

/* Embeds the misses on all cores, committing every 1024 vectors. */
static int embed_local_misses(struct run *r)
{
	const size_t per_commit = 1024;
	float *vecs = xmalloc(per_commit * r->dim * sizeof(float));
	unsigned nthreads = (unsigned)hash_ncores();
	pthread_t tid[64];
	struct local_job jobs[64];
	struct rp_err err = { 0 };

	if (nthreads > 64)
		nthreads = 64;
	for (size_t s = 0; s < r->nmiss; s += per_commit) {
		size_t n = r->nmiss - s < per_commit ? r->nmiss - s : per_commit;
		int running[64] = { 0 };

		/* thread 0 is this one; a thread that cannot start has its share done here */
		for (unsigned t = 0; t < nthreads; t++) {
			jobs[t] = (struct local_job){ r, s, n, vecs, t, nthreads };
			if (t && n >= 64)
				running[t] = !pthread_create(&tid[t], NULL, local_worker, &jobs[t]);
		}
		for (unsigned t = 0; t < nthreads; t++)
			if (!running[t])
				local_worker(&jobs[t]);
		for (unsigned t = 1; t < nthreads; t++)
			if (running[t])
				pthread_join(tid[t], NULL);
		if (store(r, r->miss + s, n, vecs, &err) < 0) {
			free(vecs);
			return rp_err_report(&err);
		}
		for (size_t k = 0; k < n; k++)
			set_vec(r, r->miss[s + k], vecs + k * r->dim);
		r->embedded += n;
		show(r);
	}
	free(vecs);
	return 0;
}

/* ---- the openai provider ---------------------------------------------------- */

/* Received vectors are committed to the cache at least this often. */
#define COMMIT_SECONDS 0.5

static void plan_batches(struct run *r)
{
	long tokens = 0, count = 0;

	r->bstart = xmalloc((r->nmiss + 1) * sizeof(size_t));
	for (size_t k = 0; k < r->nmiss; k++) {
		long t = (long)((r->chunks[r->uniq[r->miss[k]].first].len + 3) / 4);

		if (count && (count >= r->batch || tokens + t > r->max_tokens)) {
			count = 0;
			tokens = 0;
		}
		if (!count)
			r->bstart[r->nbatch++] = k;
		count++;
		tokens += t;
	}
	r->bstart[r->nbatch] = r->nmiss;
}

static void make_body(void *ctx, size_t b, struct buf *body)
{
	struct run *r = ctx;
	size_t s = r->bstart[b], n = r->bstart[b + 1] - s;
	const char **texts = xmalloc(n * sizeof(*texts));

	for (size_t k = 0; k < n; k++)
		texts[k] = r->chunks[r->uniq[r->miss[s + k]].first].text;
	embed_openai_body(body, r->model, r->dims_opt, r->input_type, texts, n);
	free(texts);
}

static int on_response(void *ctx, size_t b, const struct http_result *res, struct rp_err *err)
{
	struct run *r = ctx;
	size_t s = r->bstart[b], n = r->bstart[b + 1] - s;
	unsigned dim = r->dim;
	float *vecs = NULL;
	struct buf msg = BUF_INIT;
	char *clean;

	if (res->status != 200) {
		if (!res->status)
			buf_addf(&msg, "cannot reach '%s': %s", r->url, res->error ? res->error : "no response");
		else {
			buf_addf(&msg, "'%s' answered HTTP %ld", r->url, res->status);
			if (res->attempts > 1)
				buf_addf(&msg, " after %d attempts", res->attempts);
			buf_adds(&msg, ": ");
			embed_openai_error(res->body, res->body_len, &msg);
		}
		if (res->status == 401 || res->status == 403)
			buf_addf(&msg, " (check the key in $%s)", r->api_key_env);
		else if (res->status == 429 || res->status >= 500 || !res->status)
			buf_adds(&msg, "; the vectors received so far are cached, re-run to go on");
		/* rp_err_set redacts the key and the URL's credentials */
		rp_err_set(err, RP_ERR_IO, "%s", msg.s);
		buf_release(&msg);
		return -1;
	}
	if (embed_openai_parse(res->body, res->body_len, n, &dim, &vecs, &r->tokens, err) < 0) {
		clean = xstrdup(err->msg);
		rp_err_set(err, RP_ERR_IO, "bad answer from '%s' to a batch of %zu texts: %s%s; nothing of "
			   "this answer was cached", r->url, n, clean, r->dims_opt ? " (asked with --dimensions)"
			   : r->dim ? " (the dimension of this run's first vectors)" : "");
		free(clean);
		return -1;
	}
	if (r->dims_opt && dim != r->dims_opt) {
		rp_err_set(err, RP_ERR_IO, "bad answer from '%s': vectors of %u dimensions, but --dimensions "
			   "is %u", r->url, dim, r->dims_opt);
		free(vecs);
		return -1;
	}
	r->dim = dim;
	for (size_t k = 0; k < n; k++) {
		set_vec(r, r->miss[s + k], vecs + k * (size_t)dim);
		r->pend[r->npend++] = r->miss[s + k];
	}
	r->embedded += n;
	free(vecs);
	show(r);
	/* the last batches are all in flight: the loop has time to spare */
	if (progress_now() - r->last_commit >= COMMIT_SECONDS ||
	    r->nbatch - r->hs.requests < (size_t)r->concurrency)
		return flush(r, err);
	return 0;
}

static int embed_remote_misses(struct run *r)
{
	struct http_opts o = HTTP_OPTS_INIT;
	struct rp_err err = { 0 };
	const char *env;
	int ret;

	o.concurrency = (int)r->concurrency;
	o.max_retries = (int)r->max_retries;
	o.timeout_ms = r->timeout * 1000;
	o.deadline_ms = r->deadline * 1000;
	o.user_agent = "rp-embed";
	env = getenv("RP_HTTP_BACKOFF_MS");
	if (env && *env)
		o.backoff_base_ms = atol(env);
	o.bearer = r->secret;
	plan_batches(r);
	r->pend = xmalloc(r->nmiss * sizeof(*r->pend));
	r->last_commit = progress_now();
	ret = http_post_all(r->url, &o, r->nbatch, make_body, on_response, r, &r->hs, &err);
	if (ret < 0) {
		struct rp_err ferr = { 0 };

		rp_err_report(&err);
		/* keep what was received */
		if (flush(r, &ferr) < 0)
			rp_err_report(&ferr);
		return -1;
	}
	if (flush(r, &err) < 0)
		return rp_err_report(&err);
	return 0;
}

/* ---- output ----------------------------------------------------------------- */

static void *close_cache(void *cache)
{
	embcache_close(cache);
	return NULL;
}

static int write_output(struct run *r)
{
	struct rpv v;
	struct rp_err err = { 0 };
	int ret;

	rpv_init(&v, r->provider, r->model, r->dim);
	rpv_reserve(&v, r->nchunks);
	for (size_t i = 0; i < r->nchunks; i++) {
		const struct chunk *c = &r->chunks[i];

		if (!r->uniq[c->u].have)
			BUG("chunk '%s' has no vector", c->id);
		rpv_add(&v, c->id, c->hash, r->vecs + c->u * (size_t)r->dim);
	}
	ret = rpv_write(&v, r->output, &err);
	rpv_release(&v);
	if (ret < 0)
		return rp_err_report(&err);
	return 0;
}

static int write_stats(struct run *r, double seconds)
{
	json_t *o = json_object();
	struct buf b = BUF_INIT;
	char *text;
	int ret;

	json_object_set_new(o, "chunks", json_integer((json_int_t)r->nchunks));
	json_object_set_new(o, "hits", json_integer((json_int_t)r->hits));
	json_object_set_new(o, "misses", json_integer((json_int_t)(r->nchunks - r->hits)));
	json_object_set_new(o, "embedded", json_integer((json_int_t)r->embedded));
	json_object_set_new(o, "requests", json_integer((json_int_t)r->hs.requests));
	json_object_set_new(o, "retries", json_integer((json_int_t)r->hs.retries));
	json_object_set_new(o, "tokens", json_integer((json_int_t)r->tokens));
	json_object_set_new(o, "seconds", json_real(seconds));
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(4));
	json_decref(o);
	if (!text)
		BUG("json_dumps failed");
	buf_adds(&b, text);
	buf_addch(&b, '\n');
	free(text);
	if (fs_mkdir_parent(r->stats_path) < 0) {
		buf_release(&b);
		return -1;
	}
	ret = fs_write_output(r->stats_path, b.s, b.len);
	buf_release(&b);
	return ret;
}

/* ---- options and main ------------------------------------------------------- */

static char *default_cache(const char *root, const struct config *cfg)
{
	const char *home, *embed_cache = config_get(cfg, "embed", "cache");

	if (embed_cache) {
		if (embed_cache[0] == '/' || !root)
			return xstrdup(embed_cache);
		return xasprintf("%s/%s", root, embed_cache);
	}
	if (root)
		return xasprintf("%s/.rp/embed-cache.db", root);
	home = getenv("XDG_CACHE_HOME");
	if (home && *home == '/')
		return xasprintf("%s/rp/embed-cache.db", home);
	home = getenv("HOME");
	return xasprintf("%s/.cache/rp/embed-cache.db", home && *home ? home : "/tmp");
}

static void free_run(struct run *r)
{
	for (size_t i = 0; i < r->nchunks; i++) {
		free(r->chunks[i].id);
		free(r->chunks[i].text);
	}
	buf_release(&r->in);
	free(r->vecs);
	free(r->chunks);
	free(r->uniq);
	free(r->miss);
	free(r->bstart);
	free(r->pend);
	free(r->url);
	free(r->cache_path);
	free(r->base_url);
	free(r->api_key_env);
	embcache_close(r->cache);
}

/*
 * 0 when the user config lets the value of r->api_key_env go to r->url's
 * host; else -1, reported, before anything is sent. `cfg_root` is the
 * workspace whose .rp/config named the variable (NULL: the command line or
 * the default).
 */
static int check_key_consent(const struct run *r, const char *cfg_root)
{
	struct user_config uc;
	struct rp_err err = { 0 };
	char *origin;
	int ret;

	if (user_config_load(&uc, &err) < 0) {
		user_config_release(&uc);
		return rp_err_report(&err);
	}
	if (!r->explicit_key_env)
		origin = xstrdup("the default");
	else if (cfg_root)
		origin = xasprintf("embed.api_key_env in '%s/.rp/config'", cfg_root);
	else
		origin = xstrdup("--api-key-env");
	ret = user_config_check_send(&uc, r->api_key_env, origin, r->url, &err);
	if (ret < 0)
		rp_err_report(&err);
	free(origin);
	user_config_release(&uc);
	return ret;
}

enum { O_PROVIDER = 256, O_BATCH, O_MAXTOK, O_CONC, O_DIMS, O_ITYPE, O_BASE, O_KEYENV, O_CACHE,
       O_STATS, O_RETRIES, O_TIMEOUT, O_DEADLINE };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "model", required_argument, NULL, 'm' },
		{ "provider", required_argument, NULL, O_PROVIDER },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "max-batch-tokens", required_argument, NULL, O_MAXTOK },
		{ "concurrency", required_argument, NULL, O_CONC },
		{ "max-retries", required_argument, NULL, O_RETRIES },
		{ "dimensions", required_argument, NULL, O_DIMS },
		{ "input-type", required_argument, NULL, O_ITYPE },
		{ "base-url", required_argument, NULL, O_BASE },
		{ "api-key-env", required_argument, NULL, O_KEYENV },
		{ "cache", required_argument, NULL, O_CACHE },
		{ "stats", required_argument, NULL, O_STATS },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "deadline", required_argument, NULL, O_DEADLINE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r = { 0 };
	struct config cfg;
	struct rp_err err = { 0 };
	const char *opt_cache = NULL, *opt_base = NULL, *opt_keyenv = NULL, *opt_provider = NULL;
	char *root = NULL;
	long v;
	int c, ret = RP_EXIT_FAIL, have_cfg = 0;

	rp_progname = "rp-embed";
	buf_init(&r.in);
	r.batch = 100;
	r.max_tokens = 100000;
	r.concurrency = 4;
	r.max_retries = 6;
	r.timeout = HTTP_TIMEOUT_MS / 1000;
	r.deadline = HTTP_DEADLINE_MS / 1000;
	while ((c = getopt_long(argc, argv, "o:m:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': r.output = optarg; break;
		case 'm': r.model = optarg; break;
		case O_PROVIDER: opt_provider = optarg; break;
		case O_BATCH:
			if (parse_long("batch", optarg, 1, 100000, &r.batch) < 0)
				return usage(1);
			break;
		case O_MAXTOK:
			if (parse_long("max-batch-tokens", optarg, 1, LONG_MAX, &r.max_tokens) < 0)
				return usage(1);
			break;
		case O_CONC:
			if (parse_long("concurrency", optarg, 1, 256, &r.concurrency) < 0)
				return usage(1);
			break;
		case O_RETRIES:
			if (parse_long("max-retries", optarg, 0, 100, &r.max_retries) < 0)
				return usage(1);
			break;
		case O_TIMEOUT:
			if (parse_long("timeout", optarg, 1, 86400, &r.timeout) < 0)
				return usage(1);
			break;
		case O_DEADLINE: {
			uint64_t secs;

			if (numopt_seconds(optarg, &secs) < 0 || !secs || secs > 7 * 86400) {
				rp_error_input("option '--deadline': '%s' is not a duration of 1 s to 7 days "
					       "(seconds, or with a suffix s, m, h, d)", optarg);
				return usage(1);
			}
			r.deadline = (long)secs;
			break;
		}
		case O_DIMS:
			if (parse_long("dimensions", optarg, 1, RPV_MAX_DIM, &v) < 0)
				return usage(1);
			r.dims_opt = (unsigned)v;
			break;
		case O_ITYPE:
			if (strcmp(optarg, "document") && strcmp(optarg, "query")) {
				rp_error_input("option '--input-type': '%s' is not 'document' or 'query'", optarg);
				return usage(1);
			}
			r.input_type = optarg;
			break;
		case O_BASE: opt_base = optarg; break;
		case O_KEYENV: opt_keyenv = optarg; break;
		case O_CACHE: opt_cache = optarg; break;
		case O_STATS: r.stats_path = optarg; break;
		case 'h': return usage(0);
		default: return usage(1);
		}
	}
	if (optind + 1 != argc || !r.output || !r.model) {
		if (optind + 1 != argc)
			rp_error_input("expected one input file (chunks JSONL, '-' for standard input)");
		else
			rp_error_input("%s is required", !r.output ? "-o FILE" : "--model ID");
		return usage(1);
	}
	r.input = argv[optind];
	r.t0 = progress_now();

	/* settings: command line, else .rp/config (of a workspace of the user's), else defaults */
	provider_config_declare();
	if (config_find_root(NULL, &root, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_USAGE;
		goto out;
	}
	if (root) {
		if (config_load_workspace(&cfg, root, NULL, &err) < 0) {
			rp_err_report(&err);
			ret = RP_EXIT_USAGE;
			goto out;
		}
		have_cfg = 1;
	} else {
		memset(&cfg, 0, sizeof(cfg));
	}
	{
		const char *p = config_get(&cfg, "embed", "provider");

		r.provider = opt_provider ? opt_provider : p ? p : "local";
	}
	if (strcmp(r.provider, "local") && strcmp(r.provider, "openai")) {
		rp_error_input("unknown provider '%s' (expected 'local' or 'openai')", r.provider);
		ret = RP_EXIT_USAGE;
		goto out;
	}
	r.cache_path = opt_cache ? xstrdup(opt_cache) : default_cache(root, &cfg);
	{
		const char *base = config_get(&cfg, "embed", "base_url");
		const char *kenv = config_get(&cfg, "embed", "api_key_env");

		r.base_url = xstrdup(opt_base ? opt_base : base ? base : "https://api.openai.com/v1");
		r.explicit_key_env = opt_keyenv || kenv;
		r.api_key_env = xstrdup(opt_keyenv ? opt_keyenv : kenv ? kenv : "OPENAI_API_KEY");
	}
	if (!strcmp(r.provider, "local")) {
		if (embed_local_check_model(r.model, &err) < 0) {
			rp_err_report(&err);
			ret = RP_EXIT_USAGE;
			goto out;
		}
		r.dim = r.dims_opt ? r.dims_opt : EMBED_LOCAL_DIM;
	} else {
		r.dim = r.dims_opt;
		r.url = embed_openai_url(r.base_url);
		if (strncmp(r.url, "http://", 7) && strncmp(r.url, "https://", 8)) {
			rp_error_input("base URL '%s' is not an http:// or https:// URL", r.base_url);
			ret = RP_EXIT_USAGE;
			goto out;
		}
		r.secret = getenv(r.api_key_env);
		if ((!r.secret || !*r.secret) && r.explicit_key_env) {
			rp_error_input("the environment variable '%s' (named by --api-key-env or embed.api_key_env) "
				       "is not set; export it with the API key", r.api_key_env);
			ret = RP_EXIT_USAGE;
			goto out;
		}
		if (r.secret && !*r.secret)
			r.secret = NULL;
		/* which variable goes to which host is the user's decision, not the repository's */
		if (r.secret && check_key_consent(&r, opt_keyenv ? NULL : root) < 0) {
			ret = RP_EXIT_USAGE;
			goto out;
		}
	}

	if (read_chunks(&r) < 0) {
		ret = rp_error_exit_code();
		goto out;
	}
	fold_keys(&r);
	progress_init(&r.prog, "rp-embed", r.nchunks);
	r.cache = embcache_open(r.cache_path, &err);
	if (!r.cache) {
		rp_err_report(&err);
		goto out;
	}
	if (lookup(&r) < 0)
		goto out;
	show(&r);
	r.miss = xmalloc((r.nuniq ? r.nuniq : 1) * sizeof(size_t));
	for (size_t u = 0; u < r.nuniq; u++)
		if (!r.uniq[u].have)
			r.miss[r.nmiss++] = u;
	if (r.nmiss && (!strcmp(r.provider, "local") ? embed_local_misses(&r) : embed_remote_misses(&r)) < 0) {
		progress_end(&r.prog);
		if (r.stored)
			fprintf(stderr, "rp-embed: %zu new vectors were received and cached; a re-run embeds "
				"only the other %zu texts\n", r.stored, r.nmiss - r.stored);
		if (r.stats_path)
			write_stats(&r, progress_now() - r.t0);
		goto out;
	}
	progress_end(&r.prog);
	{
		/* the cache is done with; its closing (a WAL checkpoint) overlaps the output */
		pthread_t closer;
		int closing = !pthread_create(&closer, NULL, close_cache, r.cache);
		int wrote;

		if (closing)
			r.cache = NULL;
		wrote = write_output(&r);
		if (closing)
			pthread_join(closer, NULL);
		if (wrote < 0)
			goto out;
	}
	{
		double secs = progress_now() - r.t0;

		if (r.stats_path && write_stats(&r, secs) < 0)
			goto out;
		if (!strcmp(r.provider, "local"))
			fprintf(stderr, "rp-embed: %zu chunks, %zu cache hits, %zu embedded locally, %.1fs\n",
				r.nchunks, r.hits, r.embedded, secs);
		else
			fprintf(stderr, "rp-embed: %zu chunks, %zu cache hits, %zu embedded in %zu request%s, "
				"%zu retr%s, %lld tokens, %.1fs\n", r.nchunks, r.hits, r.embedded,
				r.hs.requests, r.hs.requests == 1 ? "" : "s", r.hs.retries,
				r.hs.retries == 1 ? "y" : "ies", r.tokens, secs);
	}
	ret = RP_EXIT_OK;
out:
	free_run(&r);
	if (have_cfg)
		config_release(&cfg);
	free(root);
	return ret;
}
