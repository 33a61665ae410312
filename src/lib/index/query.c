/*
 * query.c - searching an index with text (query.h).
 *
 * index_searcher_new() settles everything that can refuse the search before
 * any text is embedded: the provider settings (section "embed": option,
 * else the index's own provider), then the model guard (a
 * --model or a provider that differs from the index's is refused), then the
 * embedder (the index's provider and model, input type "query") and the
 * embedding cache. Its dimension: the embedder's own when it knows one
 * before answering (local), asked to be the index's when that differs;
 * for a remote provider, the model's own, and an answer of another
 * dimension than the index's is refused ("different embedding spaces").
 *
 * index_searcher_run():
 *   1. computes each text's cache key exactly as rp-embed does
 *      (embcache_key(provider namespace, model, dims known before answering, "query",
 *      text)), so `rp-embed --input-type query` and a query share entries;
 *      equal keys are folded; the cache is read in one bulk lookup; the
 *      misses are embedded in one call and stored in one transaction;
 *   2. for distance "cosine", L2-normalises the query vectors (the rows are
 *      normalised on write), so a score is the cosine;
 *   3. searches every segment at once with topk_search() (a block per
 *      segment, its dead bitmap attached, so dead rows never come back),
 *      exact or int8 + re-rank; a hit's global row is mapped back to
 *      (segment, row) through the prefix sums of the segments' rows;
 *   4. with hybrid, takes max(4k, 50) candidates from each side: the vector
 *      hits, and the best BM25 rows of every segment's FTS5 table (dead rows
 *      skipped) merged by score, for the query's words less those that half
 *      the index's rows or more hold (no BM25 weight, all the cost); each row's fused score is the sum over the
 *      lists it is in of 1 / (RRF_K + rank), rank counted from 1; the best k
 *      by fused score (ties: lower segment, then lower row) are returned.
 *      BM25 scores of different segments come from tables with their own
 *      statistics, so the merge across segments is approximate; the fusion
 *      uses only ranks.
 *
 * A searcher is used by one thread at a time (its cache handle is not
 * shared); a batch is parallel inside index_searcher_run (the local
 * embedder on all cores, topk_search and the hybrid fusion on o.threads,
 * each fusion thread with its own handles on the full-text tables).
 *
 * A remote (openai) model is asked for its own dimension, as rp-embed
 * does without --dimensions; when its answer is not the index's dimension
 * (the index was built with rp-embed --dimensions N), it is asked again for
 * N, with the keys rp-embed --dimensions N uses, and refused only if that
 * fails too. Cached vectors under either key are found without a request.
 */
#include "index/query.h"
#include "index/fts.h"
#include "index/topk.h"
#include "ai/embcache.h"
#include "ai/embedder.h"
#include "util/hash.h"
#include "util/hmap.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RRF_K 60
#define HYBRID_MIN_DEPTH 50

struct index_searcher {
	const struct index *ix;
	struct index_query_opts o;
	struct provider_settings ps;
	struct embedder *emb;
	unsigned key_dims;           /* the dimension in the cache keys */
	struct embcache *cache;
	struct topk_rows *blocks;    /* one per segment */
	size_t *base;                /* nseg + 1 prefix sums of rows */
	struct fts **fts;            /* nseg, with hybrid */
	/* words' row counts over all segments, as counted (-1: unknown), for a batch */
	struct hmap df;              /* word -> index into dfs */
	char **dfword;
	long long *dfs;
	size_t ndf, dfalloc;
};

/* The guard's refusal of `what` ("model") `val`, named by `origin`; returns -1. */
static int refuse(const struct index *ix, struct rp_err *err, const char *what, const char *val,
		  const char *origin)
{
	return rp_err_set(err, RP_ERR_INPUT, "%s: index built with %s (provider %s, %u dims), query %s %s%s: "
			  "different embedding spaces; query with the index's model, or query an "
			  "index built with %s", ix->path, ix->model, ix->provider, ix->dim, what, val,
			  origin, val);
}

/*
 * The provider: the option's, else the index's (the resolver's default
 * "local" is not a setting, and .rp/config names none). 0 or -1 + err.
 */
static int settle_provider(struct index_searcher *s, struct rp_err *err)
{
	const struct index *ix = s->ix;
	struct provider_opts po = s->o.provider;

	po.model = ix->model;
	if (provider_settings_resolve(&s->ps, "embed", &po, "embed-cache.db", err) < 0)
		return -1;
	if (po.provider || !strcmp(s->ps.provider, ix->provider))
		return 0;
	free(s->ps.provider);
	s->ps.provider = xstrdup(ix->provider);
	return 0;
}

/* The model guard: -1 + err when the query would embed in another space. */
static int guard(struct index_searcher *s, struct rp_err *err)
{
	const struct index *ix = s->ix;

	if (s->o.model && strcmp(s->o.model, ix->model))
		return refuse(ix, err, "model", s->o.model, " (--model)");
	if (strcmp(s->ps.provider, ix->provider))
		return rp_err_set(err, RP_ERR_INPUT, "%s: index built with %s (provider %s, %u dims), "
				  "query provider %s (--provider): different embedding spaces; query with "
				  "provider %s", ix->path, ix->model, ix->provider, ix->dim,
				  s->ps.provider, ix->provider);
	return 0;
}

/*
 * (Re)opens the embedder asking for `dims` (0: the model's own). A local
 * model of another dimension than the index's is asked for the index's.
 * 0 or -1 + err.
 */
static int open_embedder(struct index_searcher *s, unsigned dims, struct rp_err *err)
{
	struct embedder_params p = EMBEDDER_PARAMS_INIT;

	p.provider = s->ps.provider;
	p.model = s->ix->model;
	p.dims = dims;
	p.input_type = "query";
	p.base_url = s->ps.base_url;
	p.key_env = s->ps.api_key_env;
	p.http.user_agent = "rp-index";
	embedder_free(s->emb);
	if (!(s->emb = embedder_open(&p, err)))
		return -1;
	if (!dims && embedder_dim(s->emb) && embedder_dim(s->emb) != s->ix->dim)
		return open_embedder(s, s->ix->dim, err);
	/*
	 * The dimension known before any answer is the one in rp-embed's keys
	 * (0 for a remote model asked for its own); a remote answer of another
	 * dimension than the index's is retried once asking for the index's
	 * (embed_queries()), as an index built with rp-embed --dimensions needs.
	 */
	s->key_dims = embedder_dim(s->emb);
	if (s->emb->ops->remote && provider_settings_key(&s->ps, &s->emb->key, err) < 0)
		return -1;
	return 0;
}

/* Opens a handle on every segment's full-text table into *out (nseg). 0 or -1 + err. */
static int open_fts_handles(const struct index *ix, struct fts ***out, struct rp_err *err)
{
	struct fts **fts;

	*out = NULL;
	if (ix->nseg && !ix->fts_files)
		return rp_err_set(err, RP_ERR_INPUT, "%s: the index has no full-text tables, so it "
				  "cannot be searched with --hybrid; rebuild it with a version of "
				  "rp-index that writes them", ix->path);
	*out = fts = xcalloc(ix->nseg ? ix->nseg : 1, sizeof(*fts));
	for (size_t i = 0; i < ix->nseg; i++) {
		char *path;
		int r;

		if (!ix->fts_files[i])
			return rp_err_set(err, RP_ERR_INPUT, "%s: segment '%s' has no full-text table; "
					  "--hybrid needs one for every segment", ix->path,
					  ix->segs[i].file);
		path = xasprintf("%s/%s", ix->path, ix->fts_files[i]);
		r = fts_open(&fts[i], path, err);
		free(path);
		if (r < 0)
			return -1;
	}
	return 0;
}

/* Closes and frees handles of open_fts_handles(); NULL does nothing. */
static void close_fts_handles(const struct index *ix, struct fts **fts)
{
	if (!fts)
		return;
	for (size_t i = 0; i < ix->nseg; i++)
		fts_close(fts[i]);
	free(fts);
}

struct index_searcher *index_searcher_new(const struct index *ix, const struct index_query_opts *o,
					  struct rp_err *err)
{
	struct index_searcher *s = xcalloc(1, sizeof(*s));

	s->ix = ix;
	s->o = *o;
	if (!o->k) {
		rp_err_set(err, RP_ERR_INPUT, "%s: k must be at least 1", ix->path);
		goto fail;
	}
	if (!ix->model) {
		rp_err_set(err, RP_ERR_INPUT, "%s: the index is empty (it has no model yet); "
			   "run 'rp-index update' first", ix->path);
		goto fail;
	}
	if (settle_provider(s, err) < 0 || guard(s, err) < 0)
		goto fail;
	if (topk_init(err) < 0 || open_embedder(s, 0, err) < 0)
		goto fail;
	if (!(s->cache = embcache_open(s->ps.cache_path, err)))
		goto fail;
	s->blocks = xcalloc(ix->nseg ? ix->nseg : 1, sizeof(*s->blocks));
	s->base = xcalloc(ix->nseg + 1, sizeof(*s->base));
	for (size_t i = 0; i < ix->nseg; i++) {
		const struct index_seg *g = &ix->segs[i];

		s->blocks[i] = (struct topk_rows){ g->vecs, g->qvecs, g->qscale, g->dead, g->rows };
		s->base[i + 1] = s->base[i] + g->rows;
	}
	hmap_init(&s->df, 64);
	if (o->hybrid && open_fts_handles(ix, &s->fts, err) < 0)
		goto fail;
	return s;
fail:
	index_searcher_free(s);
	return NULL;
}

void index_searcher_free(struct index_searcher *s)
{
	if (!s)
		return;
	close_fts_handles(s->ix, s->fts);
	hmap_free(&s->df);
	for (size_t i = 0; i < s->ndf; i++)
		free(s->dfword[i]);
	free(s->dfword);
	free(s->dfs);
	free(s->blocks);
	free(s->base);
	embcache_close(s->cache);
	embedder_free(s->emb);
	provider_settings_release(&s->ps);
	free(s);
}

/* ---- embedding the queries ------------------------------------------------- */

struct embed_job {
	struct index_searcher *s;
	float *vecs;                 /* nuniq * dim */
	char *have;                  /* nuniq */
	size_t *miss;                /* unique index of miss k */
	struct rp_err *err;
	unsigned wrong_dim;          /* an answer's dimension, when not the index's */
};

static int on_cached(void *ctx, size_t u, const char *provider, const char *model, unsigned dim,
		     const float *vec)
{
	struct embed_job *j = ctx;
	const struct index *ix = j->s->ix;

	/* a vector of another dimension (a remote model's own) is a miss: asked again */
	if (strcmp(provider, ix->provider) || strcmp(model, ix->model) || dim != ix->dim)
		return 0;
	memcpy(j->vecs + u * (size_t)dim, vec, dim * sizeof(float));
	j->have[u] = 1;
	return 0;
}

static int on_embedded(void *ctx, size_t first, size_t n, const float *vecs, unsigned dim,
		       struct rp_err *err)
{
	struct embed_job *j = ctx;
	const struct index *ix = j->s->ix;

	if (dim != ix->dim) {
		j->wrong_dim = dim;
		return rp_err_set(err, RP_ERR_INPUT, "%s: index built with %s (%u dims), query vectors "
				  "have %u dims: different embedding spaces", ix->path, ix->model,
				  ix->dim, dim);
	}
	for (size_t k = 0; k < n; k++)
		memcpy(j->vecs + j->miss[first + k] * (size_t)dim, vecs + k * (size_t)dim,
		       dim * sizeof(float));
	return 0;
}

/* Embeds the misses of j (nuniq unique texts) and stores them; 0 or -1 + err. */
static int embed_misses(struct embed_job *j, const char *const *utext, const size_t *ulen,
			const unsigned char (*keys)[EMBCACHE_KEY], size_t nuniq, struct rp_err *err)
{
	struct index_searcher *s = j->s;
	unsigned dim = s->ix->dim;
	size_t nmiss = 0;
	const char **texts = xmalloc((nuniq ? nuniq : 1) * sizeof(*texts));
	size_t *lens = xmalloc((nuniq ? nuniq : 1) * sizeof(*lens));
	unsigned char (*mkeys)[EMBCACHE_KEY] = xmalloc((nuniq ? nuniq : 1) * EMBCACHE_KEY);
	float *mvecs = NULL;
	int ret = -1;

	for (size_t u = 0; u < nuniq; u++)
		if (!j->have[u]) {
			j->miss[nmiss] = u;
			texts[nmiss] = utext[u];
			lens[nmiss] = ulen[u];
			memcpy(mkeys[nmiss], keys[u], EMBCACHE_KEY);
			nmiss++;
		}
	if (!nmiss) {
		ret = 0;
		goto out;
	}
	if (embedder_embed(s->emb, texts, lens, nmiss, on_embedded, j, err) < 0)
		goto out;
	mvecs = xmalloc(nmiss * (size_t)dim * sizeof(float));
	for (size_t k = 0; k < nmiss; k++)
		memcpy(mvecs + k * (size_t)dim, j->vecs + j->miss[k] * (size_t)dim, dim * sizeof(float));
	/* the cache saves a later call; failing to store in it does not fail this one */
	{
		struct rp_err perr = { 0 };

		embcache_put(s->cache, (const unsigned char (*)[EMBCACHE_KEY])mkeys, nmiss,
			     s->ix->provider, s->ix->model, dim, mvecs, &perr);
	}
	ret = 0;
out:
	free(mvecs);
	free(mkeys);
	free(texts);
	free(lens);
	return ret;
}

/* The cache keys of utext[0..nuniq) with the searcher's key dimension. */
static void query_keys(const struct index_searcher *s, const char *const *utext, const size_t *ulen,
		       size_t nuniq, unsigned char (*keys)[EMBCACHE_KEY])
{
	/* the server that answers is part of the key, as for rp-embed */
	char *ns = embcache_namespace(s->ix->provider, s->ps.base_url);

	for (size_t u = 0; u < nuniq; u++)
		embcache_key(ns, s->ix->model, s->key_dims, "query", utext[u], ulen[u], keys[u]);
	free(ns);
}

/*
 * Fills j->vecs for utext[0..nuniq): cache hits, then the misses embedded.
 * A remote model asked for its own dimension whose answer is not the
 * index's is asked again for the index's (keys and all), once per searcher.
 * 0 or -1 + err.
 */
static int fill_vectors(struct embed_job *j, const char *const *utext, const size_t *ulen,
			size_t nuniq, struct rp_err *err)
{
	struct index_searcher *s = j->s;
	unsigned char (*keys)[EMBCACHE_KEY] = xmalloc((nuniq ? nuniq : 1) * EMBCACHE_KEY);
	unsigned own = s->key_dims;
	int ret = -1;

	query_keys(s, utext, ulen, nuniq, keys);
	if (embcache_lookup(s->cache, (const unsigned char (*)[EMBCACHE_KEY])keys, nuniq, on_cached, j,
			    err) < 0)
		goto out;
	if (!own) {
		/* what an earlier query that asked for the index's dimension cached */
		unsigned char (*alt)[EMBCACHE_KEY] = xmalloc((nuniq ? nuniq : 1) * EMBCACHE_KEY);
		int r;

		s->key_dims = s->ix->dim;
		query_keys(s, utext, ulen, nuniq, alt);
		s->key_dims = own;
		r = embcache_lookup(s->cache, (const unsigned char (*)[EMBCACHE_KEY])alt, nuniq, on_cached,
				    j, err);
		free(alt);
		if (r < 0)
			goto out;
	}
	if (embed_misses(j, utext, ulen, (const unsigned char (*)[EMBCACHE_KEY])keys, nuniq, err) == 0) {
		ret = 0;
		goto out;
	}
	if (own || !j->wrong_dim || open_embedder(s, s->ix->dim, err) < 0)
		goto out;
	j->wrong_dim = 0;
	query_keys(s, utext, ulen, nuniq, keys);
	ret = embed_misses(j, utext, ulen, (const unsigned char (*)[EMBCACHE_KEY])keys, nuniq, err);
out:
	free(keys);
	return ret;
}

/*
 * The query vectors of texts[0..n) into qv (n * dim), through the cache.
 * 0 or -1 + err.
 */
static int embed_queries(struct index_searcher *s, const char *const *texts, size_t n, float *qv,
			 struct rp_err *err)
{
	const struct index *ix = s->ix;
	const char **utext = xmalloc((n ? n : 1) * sizeof(*utext));
	size_t *ulen = xmalloc((n ? n : 1) * sizeof(*ulen)), *which = xmalloc((n ? n : 1) * sizeof(*which));
	size_t nuniq = 0;
	struct embed_job j = { s, NULL, NULL, NULL, err, 0 };
	struct hmap m;
	int ret = -1;

	hmap_init(&m, n);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(texts[i]);
		int found;
		size_t *u = hmap_put(&m, texts[i], len, &found);

		if (!found) {
			*u = nuniq;
			utext[nuniq] = texts[i];
			ulen[nuniq] = len;
			nuniq++;
		}
		which[i] = *u;
	}
	j.vecs = xcalloc((nuniq ? nuniq : 1) * (size_t)ix->dim, sizeof(float));
	j.have = xcalloc(nuniq ? nuniq : 1, 1);
	j.miss = xmalloc((nuniq ? nuniq : 1) * sizeof(size_t));
	if (fill_vectors(&j, utext, ulen, nuniq, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		float *q = qv + i * (size_t)ix->dim;
		double norm = 0;

		memcpy(q, j.vecs + which[i] * (size_t)ix->dim, ix->dim * sizeof(float));
		if (strcmp(ix->distance, "cosine"))
			continue;
		for (unsigned d = 0; d < ix->dim; d++)
			norm += (double)q[d] * q[d];
		if (norm > 0)
			for (unsigned d = 0; d < ix->dim; d++)
				q[d] = (float)(q[d] / sqrt(norm));
	}
	ret = 0;
out:
	hmap_free(&m);
	free(j.vecs);
	free(j.have);
	free(j.miss);
	free(utext);
	free(ulen);
	free(which);
	return ret;
}

/* ---- searching -------------------------------------------------------------- */

/* The segment of global row g (base: prefix sums). */
static size_t seg_of(const struct index_searcher *s, size_t g)
{
	size_t lo = 0, hi = s->ix->nseg;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->base[mid] <= g)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

struct cand {
	size_t seg, row;
	double score;   /* bm25 while merging, then the fused score */
	size_t vrank;   /* 1-based rank in the vector list, 0: not in it */
	size_t brank;   /* 1-based rank in the BM25 list, 0: not in it */
};

static int cand_by_score(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? 1 : -1;
	if (x->seg != y->seg)
		return x->seg < y->seg ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

/*
 * Counts the rows of the whole index that hold each of words[0..n), once
 * per word and searcher (counting walks the word's rows), into s->df:
 * -1 when a table cannot tell. Not thread-safe: index_searcher_run() counts
 * every query's words before it searches on several threads.
 */
static void count_words(struct index_searcher *s, char *const *words, size_t n)
{
	const struct index *ix = s->ix;

	for (size_t w = 0; w < n; w++) {
		long long df = 0, total = 0;
		int found;

		if (hmap_get_str(&s->df, words[w]))
			continue;
		for (size_t g = 0; g < ix->nseg && total >= 0; g++)
			total = fts_doc_freq(s->fts[g], words[w], &df) == 0 ? total + df : -1;
		ALLOC_GROW(s->dfword, s->ndf + 1, s->dfalloc);
		s->dfs = xrealloc(s->dfs, s->dfalloc * sizeof(*s->dfs));
		s->dfword[s->ndf] = xstrdup(words[w]);   /* the map's key */
		s->dfs[s->ndf] = total;
		*hmap_put(&s->df, s->dfword[s->ndf], strlen(words[w]), &found) = s->ndf;
		s->ndf++;
	}
}

/*
 * Leaves out of words[0..*n) (freeing them) those that half the rows or
 * more of the whole index hold (count_words()): BM25 gives them no weight
 * (FTS5 clamps an idf <= 0 to 1e-6), yet searching them would score nearly
 * every row. Counted over all segments, so a word rare in the index is
 * kept in a small segment too. A word not counted, or whose count a table
 * cannot tell, is kept. Reads s->df only.
 */
static void drop_common_words(const struct index_searcher *s, char **words, size_t *n)
{
	size_t kept = 0;

	for (size_t w = 0; w < *n; w++) {
		const size_t *slot = hmap_get_str(&s->df, words[w]);
		long long total = slot ? s->dfs[*slot] : -1;

		if (total >= 0 && (unsigned long long)total * 2 >= s->base[s->ix->nseg])
			free(words[w]);
		else
			words[kept++] = words[w];
	}
	*n = kept;
}

/* Counts the words of every query of a hybrid batch (count_words()). */
static void count_query_words(struct index_searcher *s, const char *const *texts, size_t n)
{
	for (size_t q = 0; q < n; q++) {
		char **words;
		size_t nw = fts_words(texts[q], &words);

		count_words(s, words, nw);
		for (size_t w = 0; w < nw; w++)
			free(words[w]);
		free(words);
	}
}

/* The best `depth` live BM25 rows of all segments for `text`, merged; *nc set. */
static int bm25_candidates(const struct index_searcher *s, struct fts **fts, const char *text,
			   size_t depth, struct cand *c, size_t *nc, struct rp_err *err)
{
	const struct index *ix = s->ix;
	struct fts_hit *hits = xmalloc(depth * sizeof(*hits));
	struct cand *all = NULL;
	char **words;
	size_t nall = 0, alloc = 0, nw = fts_words(text, &words);
	int ret = -1;

	drop_common_words(s, words, &nw);
	for (size_t g = 0; g < ix->nseg && nw; g++) {
		size_t nh;
		char *path = xasprintf("%s/%s", ix->path, ix->fts_files[g]);
		int r = fts_search(fts[g], path, (const char *const *)words, nw, ix->segs[g].rows,
				   ix->segs[g].dead, depth, hits, &nh, err);

		free(path);
		if (r < 0)
			goto out;
		ALLOC_GROW(all, nall + nh, alloc);
		for (size_t h = 0; h < nh; h++)
			all[nall++] = (struct cand){ g, hits[h].row, hits[h].score, 0, 0 };
	}
	if (nall)
		qsort(all, nall, sizeof(*all), cand_by_score);
	*nc = nall < depth ? nall : depth;
	for (size_t i = 0; i < *nc; i++)
		c[i] = all[i];
	ret = 0;
out:
	for (size_t w = 0; w < nw; w++)
		free(words[w]);
	free(words);
	free(hits);
	free(all);
	return ret;
}

/*
 * Fuses query q's vector hits (hits[0..nh), global rows) with its BM25
 * candidates into res[0..*nres) (at most k). 0 or -1 + err.
 */
static int fuse(const struct index_searcher *s, struct fts **fts, const char *text,
		const struct topk_hit *hits, size_t nh, size_t depth, struct index_result *res,
		size_t *nres, struct rp_err *err)
{
	struct cand *c = xmalloc((nh + depth + 1) * sizeof(*c));
	size_t nb = 0, nc;

	if (bm25_candidates(s, fts, text, depth, c, &nb, err) < 0) {
		free(c);
		return -1;
	}
	/* ranks: BM25 list first, then vector hits joined to them */
	for (size_t i = 0; i < nb; i++) {
		c[i].brank = i + 1;
		c[i].vrank = 0;
	}
	nc = nb;
	for (size_t h = 0; h < nh; h++) {
		size_t g = seg_of(s, hits[h].row), r = hits[h].row - s->base[g], i;

		for (i = 0; i < nb; i++)
			if (c[i].seg == g && c[i].row == r)
				break;
		if (i == nb)
			c[i = nc++] = (struct cand){ g, r, 0, 0, 0 };
		c[i].vrank = h + 1;
	}
	for (size_t i = 0; i < nc; i++)
		c[i].score = (c[i].vrank ? 1.0 / (RRF_K + (double)c[i].vrank) : 0) +
			     (c[i].brank ? 1.0 / (RRF_K + (double)c[i].brank) : 0);
	if (nc)
		qsort(c, nc, sizeof(*c), cand_by_score);
	*nres = nc < s->o.k ? nc : s->o.k;
	for (size_t i = 0; i < *nres; i++)
		res[i] = (struct index_result){ c[i].seg, c[i].row, c[i].score };
	free(c);
	return 0;
}

/* The fusion of queries first, first + step, ... of a hybrid batch, on one thread. */
struct fuse_job {
	const struct index_searcher *s;
	struct fts **fts;            /* this thread's handles (nseg) */
	const char *const *texts;
	const struct topk_hit *hits;
	const size_t *nhits;
	size_t n, first, step, depth;
	struct index_result *res;
	size_t *nres;
	struct rp_err err;
	int ret;
};

static void *fuse_worker(void *arg)
{
	struct fuse_job *j = arg;
	size_t k = j->s->o.k;

	for (size_t q = j->first; q < j->n && !j->ret; q += j->step)
		j->ret = fuse(j->s, j->fts, j->texts[q], j->hits + q * j->depth, j->nhits[q], j->depth,
			      j->res + q * k, &j->nres[q], &j->err);
	return NULL;
}

/*
 * Fuses every query of a hybrid batch, on up to o.threads threads (0: one
 * per core), each with its own handles on the full-text tables (an sqlite
 * connection runs one statement at a time). 0 or -1 + err.
 */
static int fuse_all(struct index_searcher *s, const char *const *texts, size_t n,
		    const struct topk_hit *hits, const size_t *nhits, size_t depth,
		    struct index_result *res, size_t *nres, struct rp_err *err)
{
	size_t nt = s->o.threads > 0 ? (size_t)s->o.threads : (size_t)hash_ncores(), started = 0;
	struct fuse_job *jobs;
	pthread_t *tid;
	int ret = 0;

	count_query_words(s, texts, n);
	if (nt > n)
		nt = n;
	if (nt < 1)
		nt = 1;
	jobs = xcalloc(nt, sizeof(*jobs));
	tid = xcalloc(nt, sizeof(*tid));
	for (size_t t = 0; t < nt; t++) {
		jobs[t] = (struct fuse_job){ .s = s, .fts = s->fts, .texts = texts, .hits = hits,
					     .nhits = nhits, .n = n, .first = t, .step = nt,
					     .depth = depth, .res = res, .nres = nres };
		if (t && open_fts_handles(s->ix, &jobs[t].fts, &jobs[t].err) < 0) {
			jobs[t].ret = -1;
			break;
		}
		if (t && pthread_create(&tid[t], NULL, fuse_worker, &jobs[t]) != 0) {
			fuse_worker(&jobs[t]);   /* no thread: run it here */
			tid[t] = 0;
		}
		started = t + 1;
	}
	if (started == nt)
		fuse_worker(&jobs[0]);
	for (size_t t = 0; t < nt; t++) {
		if (t && t < started && tid[t])
			pthread_join(tid[t], NULL);
		if (jobs[t].ret && !ret) {
			*err = jobs[t].err;
			ret = -1;
		}
		if (t && jobs[t].fts)
			close_fts_handles(s->ix, jobs[t].fts);
	}
	free(jobs);
	free(tid);
	return ret;
}

int index_searcher_run(struct index_searcher *s, const char *const *texts, size_t n,
		       struct index_result *res, size_t *nres, struct rp_err *err)
{
	const struct index *ix = s->ix;
	size_t k = s->o.k, depth = s->o.hybrid ? (k * 4 > HYBRID_MIN_DEPTH ? k * 4 : HYBRID_MIN_DEPTH) : k;
	struct topk_opts to = TOPK_OPTS_INIT;
	float *qv = xmalloc((n ? n : 1) * (size_t)ix->dim * sizeof(float));
	struct topk_hit *hits = xmalloc((n ? n : 1) * depth * sizeof(*hits));
	size_t *nhits = xcalloc(n ? n : 1, sizeof(*nhits));
	int ret = -1;

	if (!n) {
		ret = 0;
		goto out;
	}
	if (embed_queries(s, texts, n, qv, err) < 0)
		goto out;
	to.k = depth;
	to.quantised = s->o.quantised;
	to.threads = s->o.threads;
	if (ix->nseg && topk_search(qv, n, ix->dim, s->blocks, ix->nseg, &to, hits, nhits, err) < 0)
		goto out;
	if (s->o.hybrid) {
		ret = fuse_all(s, texts, n, hits, nhits, depth, res, nres, err);
		goto out;
	}
	for (size_t q = 0; q < n; q++) {
		const struct topk_hit *h = hits + q * depth;
		struct index_result *r = res + q * k;

		nres[q] = nhits[q] < k ? nhits[q] : k;
		for (size_t i = 0; i < nres[q]; i++) {
			size_t g = seg_of(s, h[i].row);

			r[i] = (struct index_result){ g, h[i].row - s->base[g], h[i].score };
		}
	}
	ret = 0;
out:
	free(qv);
	free(hits);
	free(nhits);
	return ret;
}
