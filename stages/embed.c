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
 *   4. embeds only the misses through embedder.h (the local model
 *      in-process on all cores, or the OpenAI protocol in batches bounded
 *      by --batch inputs and --max-batch-tokens, --concurrency requests in
 *      flight, retried per http.h); the settings come from provider.h's
 *      resolver (options, .rp/config, defaults). Received vectors are committed to the
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
#include "ai/embcache.h"
#include "ai/embedder.h"
#include "ai/provider.h"
#include "core/progver.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/hmap.h"
#include "util/http.h"
#include "util/jsonl.h"
#include "util/numopt.h"
#include "util/progress.h"
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
	"                [--api-key-env NAME] [--cache PATH] [--stats FILE] [--timings FILE]\n"
	"                [--timeout SECONDS] [--deadline SECONDS] [-q]\n"
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
	"      --stats FILE         write run statistics as JSON (counts only: a cacheable metric)\n"
	"      --timings FILE       write the run's seconds as JSON (never an out: it differs each run)\n"
	"  -q, --quiet              no summary line\n"
	"  -h, --help               show this help\n"
	"      --version            rp's version and the local embedder's (part of a stage's key)\n";

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
	const char *input, *output, *model, *provider;
	const char *stats_path;
	const char *timings_path;   /* --timings: the run time, kept out of --stats */
	int quiet;                  /* -q: no summary line */
	struct embedder_params ep;  /* --provider, --dimensions, --batch, ... */
	struct provider_settings ps;
	char *key_ns;             /* the cache key's provider namespace (embcache_namespace) */
	struct embedder *emb;
	/* data */
	struct buf in;            /* the input, read whole */
	struct chunk *chunks;
	size_t nchunks, calloc_;
	struct uniq *uniq;
	size_t nuniq;
	unsigned dim;             /* of every vector of the run; 0 until known */
	float *vecs;              /* nuniq * dim, allocated once dim is known */
	struct embcache *cache;
	/* unique texts without a cached vector */
	size_t *miss, nmiss;
	/* received vectors not yet committed: unique texts pend[0..npend) */
	size_t *pend, npend;
	double last_commit;
	/* counters */
	size_t hits, done, embedded, stored;
	struct progress prog;
	double t0;
};

static int usage(int is_error)
{
	fputs(usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

/* numopt_long() for option `opt` ("--batch"), reporting a bad value: 0, or -1. */
static int parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
	struct rp_err err = { 0 };

	if (numopt_long(opt, s, lo, hi, out, &err) < 0)
		return rp_err_report(&err);
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
 * first bad line: -1 with `err` filled.
 */
static int read_chunks(struct run *r, struct rp_err *err)
{
	struct jsonl_reader rd;
	struct buf *in = &r->in;
	/* the embedder's dimension before any answer: the asked one, or the local model's */
	unsigned kdim = r->dim;
	size_t line = 0, got;
	struct stat st;
	int ret = 0;

	if (jsonl_open(&rd, r->input, err) < 0)
		return -1;
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
		rp_err_set(err, RP_ERR_IO, "cannot read '%s': %s", rd.path, strerror(errno));
		jsonl_close(&rd);
		return -1;
	}
	for (char *p = in->s, *end = in->s + in->len; p < end && !ret; line++) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
		const char *q;
		size_t n = r->nchunks;

		for (q = p; q < le && (*q == ' ' || *q == '\t' || *q == '\r'); q++)
			;
		if (q < le)
			ret = read_chunk_json(r, rd.path, p, (size_t)(le - p), line + 1, err);
		if (r->nchunks > n) {
			struct chunk *c = &r->chunks[n];

			embcache_key(r->key_ns, r->model, kdim, r->ep.input_type, c->text, c->len, c->key);
		}
		p = nl ? nl + 1 : end;
	}
	if (ret < 0) {
		jsonl_close(&rd);
		return -1;
	}
	/* unique chunk ids */
	{
		struct hmap m;

		hmap_init(&m, r->nchunks);
		for (size_t i = 0; i < r->nchunks && !ret; i++) {
			int found;
			size_t *first = hmap_put(&m, r->chunks[i].id, strlen(r->chunks[i].id), &found);

			if (found)
				ret = rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: chunk_id '%s' also appears "
						 "on line %zu; chunk ids must be unique", rd.path,
						 r->chunks[i].line, r->chunks[i].id, r->chunks[*first].line);
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
		 r->emb->http.requests, r->emb->http.retries);
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

/* ---- embedding the misses --------------------------------------------------- */

/* Received vectors are committed to the cache at least this often. */
#define COMMIT_SECONDS 0.5

/* The embedder's sink: vectors of misses first .. first+n. */
static int on_vectors(void *ctx, size_t first, size_t n, const float *vecs, unsigned dim,
		      struct rp_err *err)
{
	struct run *r = ctx;
	const struct embedder *e = r->emb;

	r->dim = dim;
	for (size_t k = 0; k < n; k++) {
		set_vec(r, r->miss[first + k], vecs + k * (size_t)dim);
		r->pend[r->npend++] = r->miss[first + k];
	}
	r->embedded += n;
	show(r);
	/* the last batches are all in flight: the loop has time to spare */
	if (progress_now() - r->last_commit >= COMMIT_SECONDS ||
	    e->batches - e->batches_done < (size_t)e->in_flight)
		return flush(r, err);
	return 0;
}

/* Embeds the misses through r->emb, committing as vectors come; 0 or -1 (reported). */
static int embed_misses(struct run *r)
{
	const char **texts = xmalloc(r->nmiss * sizeof(*texts));
	size_t *lens = xmalloc(r->nmiss * sizeof(*lens));
	struct rp_err err = { 0 };
	int ret;

	for (size_t k = 0; k < r->nmiss; k++) {
		const struct chunk *c = &r->chunks[r->uniq[r->miss[k]].first];

		texts[k] = c->text;
		lens[k] = c->len;
	}
	/* the dimension of the cached vectors binds the answers too */
	if (r->dim && !r->emb->dim)
		r->emb->dim = r->dim;
	r->pend = xmalloc(r->nmiss * sizeof(*r->pend));
	r->last_commit = progress_now();
	ret = embedder_embed(r->emb, texts, lens, r->nmiss, on_vectors, r, &err);
	free(texts);
	free(lens);
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

/* Writes the JSON object `o` (taken) as one line to `path`: 0, or -1 reported. */
static int write_json_line(const char *path, json_t *o)
{
	struct buf b = BUF_INIT;
	struct rp_err err;
	char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(4));
	int ret = 0;

	json_decref(o);
	if (!text)
		BUG("json_dumps failed");
	buf_adds(&b, text);
	buf_addch(&b, '\n');
	free(text);
	if (fs_mkdir_parent(path, &err) < 0 || fs_write_output(path, b.s, b.len, &err) < 0)
		ret = rp_err_report(&err);
	buf_release(&b);
	return ret;
}

/*
 * --stats: counts only, so that the same inputs and cache give the same
 * bytes and the file can be a cached metric (a stage with an uncached out
 * is never restored from the run-cache). The run time goes to --timings.
 */
static int write_stats(struct run *r, double seconds)
{
	json_t *o = json_object();

	json_object_set_new(o, "chunks", json_integer((json_int_t)r->nchunks));
	json_object_set_new(o, "hits", json_integer((json_int_t)r->hits));
	json_object_set_new(o, "misses", json_integer((json_int_t)(r->nchunks - r->hits)));
	json_object_set_new(o, "embedded", json_integer((json_int_t)r->embedded));
	json_object_set_new(o, "requests", json_integer((json_int_t)r->emb->http.requests));
	json_object_set_new(o, "retries", json_integer((json_int_t)r->emb->http.retries));
	json_object_set_new(o, "tokens", json_integer((json_int_t)r->emb->tokens));
	if (r->stats_path && write_json_line(r->stats_path, o) < 0)
		return -1;
	if (!r->stats_path)
		json_decref(o);
	if (r->timings_path) {
		o = json_object();
		json_object_set_new(o, "seconds", json_real(seconds));
		return write_json_line(r->timings_path, o);
	}
	return 0;
}

/* ---- options and main ------------------------------------------------------- */

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
	free(r->pend);
	embcache_close(r->cache);
	embedder_free(r->emb);
	provider_settings_release(&r->ps);
	free(r->key_ns);
}

enum { O_PROVIDER = 256, O_BATCH, O_MAXTOK, O_CONC, O_DIMS, O_ITYPE, O_BASE, O_KEYENV, O_CACHE,
       O_STATS, O_RETRIES, O_TIMEOUT, O_DEADLINE, O_TIMINGS };

/*
 * Reads the options into r->ep and po; -1 to go on, else the exit code
 * (after --help, or a usage error reported).
 */
static int parse_args(int argc, char **argv, struct run *r, struct provider_opts *po)
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
		{ "timings", required_argument, NULL, O_TIMINGS },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "deadline", required_argument, NULL, O_DEADLINE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "o:m:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': r->output = optarg; break;
		case 'm': r->model = optarg; break;
		case 'q': r->quiet = 1; break;
		case O_PROVIDER: po->provider = optarg; break;
		case O_BATCH:
			if (parse_long("--batch", optarg, 1, 100000, &r->ep.batch) < 0)
				return usage(1);
			break;
		case O_MAXTOK:
			if (parse_long("--max-batch-tokens", optarg, 1, LONG_MAX, &r->ep.max_tokens) < 0)
				return usage(1);
			break;
		case O_CONC:
			if (parse_long("--concurrency", optarg, 1, 256, &v) < 0)
				return usage(1);
			r->ep.http.concurrency = (int)v;
			break;
		case O_RETRIES:
			if (parse_long("--max-retries", optarg, 0, 100, &v) < 0)
				return usage(1);
			r->ep.http.max_retries = (int)v;
			break;
		case O_TIMEOUT:
			if (parse_long("--timeout", optarg, 1, 86400, &v) < 0)
				return usage(1);
			r->ep.http.timeout_ms = v * 1000;
			break;
		case O_DEADLINE: {
			uint64_t secs;

			if (numopt_seconds(optarg, &secs) < 0 || !secs || secs > 7 * 86400) {
				rp_error("option '--deadline': '%s' is not a duration of 1 s to 7 days "
					 "(seconds, or with a suffix s, m, h, d)", optarg);
				return usage(1);
			}
			r->ep.http.deadline_ms = (long)secs * 1000;
			break;
		}
		case O_DIMS:
			if (parse_long("--dimensions", optarg, 1, RPV_MAX_DIM, &v) < 0)
				return usage(1);
			r->ep.dims = (unsigned)v;
			break;
		case O_ITYPE:
			if (strcmp(optarg, "document") && strcmp(optarg, "query")) {
				rp_error("option '--input-type': '%s' is not 'document' or 'query'", optarg);
				return usage(1);
			}
			r->ep.input_type = optarg;
			break;
		case O_BASE: po->base_url = optarg; break;
		case O_KEYENV: po->api_key_env = optarg; break;
		case O_CACHE: po->cache = optarg; break;
		case O_STATS: r->stats_path = optarg; break;
		case O_TIMINGS: r->timings_path = optarg; break;
		case 'V': {
			/* rp's version and the algorithms': what enters a stage's key (progver.h) */
			char *vt = progver_text("embed");

			fputs(vt, stdout);
			free(vt);
			return RP_EXIT_OK;
		}
		case 'h': return usage(0);
		default: return usage(1);
		}
	}
	if (optind + 1 != argc || !r->output || !r->model) {
		if (optind + 1 != argc)
			rp_error("expected one input file (chunks JSONL, '-' for standard input)");
		else
			rp_error("%s is required", !r->output ? "-o FILE" : "--model ID");
		return usage(1);
	}
	r->input = argv[optind];
	return -1;
}

/* Writes the output (while the cache closes) and the summary; 0 or -1 (reported). */
static int finish(struct run *r)
{
	progress_end(&r->prog);
	{
		/* the cache is done with; its closing (a WAL checkpoint) overlaps the output */
		pthread_t closer;
		int closing = !pthread_create(&closer, NULL, close_cache, r->cache);
		int wrote;

		if (closing)
			r->cache = NULL;
		wrote = write_output(r);
		if (closing)
			pthread_join(closer, NULL);
		if (wrote < 0)
			return -1;
	}
	{
		double secs = progress_now() - r->t0;
		const struct http_stats *hs = &r->emb->http;

		if ((r->stats_path || r->timings_path) && write_stats(r, secs) < 0)
			return -1;
		if (r->quiet)
			;
		else if (!r->emb->ops->remote)
			progress_summary("rp embed", "%zu chunk%s, %zu cache hit%s, %zu embedded locally, "
					 "%.1fs", r->nchunks, plural_s(r->nchunks), r->hits,
					 plural_s(r->hits), r->embedded, secs);
		else
			progress_summary("rp embed", "%zu chunk%s, %zu cache hit%s, %zu embedded in %zu "
					 "request%s, %zu retr%s, %lld token%s, %.1fs", r->nchunks,
					 plural_s(r->nchunks), r->hits, plural_s(r->hits), r->embedded,
					 hs->requests, plural_s(hs->requests), hs->retries,
					 hs->retries == 1 ? "y" : "ies", r->emb->tokens,
					 plural_s((size_t)r->emb->tokens), secs);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct run r = { .ep = EMBEDDER_PARAMS_INIT };
	struct provider_opts po = { 0 };
	struct rp_err err = { 0 };
	const char *env;
	int ret = RP_EXIT_FAIL;

	rp_progname = "rp-embed";
	buf_init(&r.in);
	if ((ret = parse_args(argc, argv, &r, &po)) >= 0)
		return ret;
	ret = RP_EXIT_FAIL;
	r.t0 = progress_now();

	/* settings: command line, else .rp/config (of a workspace of the user's), else defaults */
	po.model = r.model;
	if (provider_settings_resolve(&r.ps, "embed", &po, "embed-cache.db", &err) < 0)
		goto usage_error;
	r.provider = r.ps.provider;
	r.key_ns = embcache_namespace(r.ps.provider, r.ps.base_url);
	r.ep.provider = r.ps.provider;
	r.ep.model = r.model;
	r.ep.base_url = r.ps.base_url;
	r.ep.key_env = r.ps.api_key_env;
	r.ep.http.user_agent = "rp-embed";
	env = getenv("RP_HTTP_BACKOFF_MS");
	if (env && *env && numopt_long("RP_HTTP_BACKOFF_MS", env, 0, 3600000,
				       &r.ep.http.backoff_base_ms, &err) < 0)
		goto usage_error;
	if (!(r.emb = embedder_open(&r.ep, &err)))
		goto usage_error;
	/* which variable goes to which host is the user's decision, not the repository's */
	if (r.emb->ops->remote && provider_settings_key(&r.ps, &r.emb->key, &err) < 0)
		goto usage_error;
	r.dim = embedder_dim(r.emb);

	if (read_chunks(&r, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	fold_keys(&r);
	progress_init(&r.prog, "rp embed", r.nchunks);
	r.cache = embcache_open(r.ps.cache_path, &err);
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
	if (r.nmiss && embed_misses(&r) < 0) {
		progress_end(&r.prog);
		if (r.stored)
			fprintf(stderr, "rp embed: %zu new vectors were received and cached; a re-run embeds "
				"only the other %zu texts\n", r.stored, r.nmiss - r.stored);
		if (r.stats_path || r.timings_path)
			write_stats(&r, progress_now() - r.t0);
		goto out;
	}
	if (finish(&r) < 0)
		goto out;
	ret = RP_EXIT_OK;
	goto out;
usage_error:
	rp_err_report(&err);
	ret = RP_EXIT_USAGE;
out:
	free_run(&r);
	return ret;
}
