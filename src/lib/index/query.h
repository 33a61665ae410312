/*
 * query.h - searching an index with text: the query is embedded by the
 * same code and cache that embedded the corpus, with the model the index
 * records, then searched exactly (topk.h), or int8 + re-rank, or hybrid.
 *
 *     struct index_query_opts o = INDEX_QUERY_OPTS_INIT;
 *     struct index_searcher *s = index_searcher_new(ix, &o, &err);
 *     index_searcher_run(s, texts, n, res, nres, &err);   // res: n * o.k
 *     index_searcher_free(s);
 *
 * Model guard: o.model (a --model option) or the embed section's provider
 * or model setting that differs from the index's is refused by
 * index_searcher_new(), before any text is embedded or any distance
 * computed: "INDEX: index built with M1, query model M2: different
 * embedding spaces" (RP_ERR_INPUT). A vector of another dimension is
 * refused the same way.
 *
 * Hybrid: BM25 ranks from the index's FTS5 tables (fts.h) fused with the
 * vector ranks by reciprocal rank fusion, score = sum 1 / (60 + rank).
 */
#ifndef RP_INDEX_QUERY_H
#define RP_INDEX_QUERY_H

#include <stddef.h>
#include "util/error.h"
#include "ai/provider.h"
#include "index/index.h"

struct index_query_opts {
	size_t k;                      /* results per query, >= 1 */
	int hybrid;                    /* 1: vectors + BM25, fused by reciprocal rank */
	int quantised;                 /* 1: int8 scan + float32 re-rank */
	int threads;                   /* as topk_opts.threads */
	const char *model;             /* --model: must equal the index's; NULL: not given */
	struct provider_opts provider; /* --base-url, --api-key-env, --cache ... (borrowed) */
};
#define INDEX_QUERY_OPTS_INIT { 10, 0, 0, 0, NULL, { 0 } }

/* One result: where the row is (index_row() gives its metadata) and its score. */
struct index_result {
	size_t seg, row;
	double score;                  /* inner product, or the fused score with hybrid */
};

struct index_searcher;

/*
 * Sets up searching `ix` (borrowed; it must outlive the searcher): resolves
 * the provider settings (section "embed"), checks the model guard, opens
 * the embedder and the embedding cache. NULL + err on failure.
 */
struct index_searcher *index_searcher_new(const struct index *ix, const struct index_query_opts *o,
					  struct rp_err *err);

/*
 * Embeds the n query texts (input type "query", through the cache) and
 * searches. res[i * k .. i * k + nres[i]) receive query i's results, best
 * first; both arrays are the caller's (n * k and n entries). 0 or -1 + err.
 */
int index_searcher_run(struct index_searcher *s, const char *const *texts, size_t n,
		       struct index_result *res, size_t *nres, struct rp_err *err);

/* Frees the searcher (not the index). NULL does nothing. */
void index_searcher_free(struct index_searcher *s);

#endif
