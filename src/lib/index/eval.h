/*
 * eval.h - retrieval metrics of ranked result lists against a fixed set of
 * judged queries (rp-eval(1)), and the verdict of candidates against a
 * baseline. Pure functions: nothing here searches, prints or exits.
 *
 *     struct eval_set qs;
 *     if (eval_set_load(&qs, "eval/questions.jsonl", &err) < 0) ...
 *     // for each index: search every qs.q[i].text, turn the top k of each
 *     // query into an array of struct eval_hit, then
 *     eval_set_score(&qs, hits, nhits, k, &mean);
 *     // with every index scored:
 *     nreg = eval_verdict(means, nindexes, baseline, max_drop, regs);
 *     eval_set_release(&qs);
 *
 * Relevance is binary. A relevant id matches a result when it equals the
 * result's doc_id or its chunk_id, so a query set may judge documents,
 * chunks, or both. Each relevant id is found at most once, at the first
 * (best) result that matches it: when a document has several chunks in the
 * top k, its first one counts and the later ones are not relevant again (a
 * document id cannot be "found twice"). A result that matches no relevant
 * id that is still unfound has gain 0. With R the distinct relevant ids of
 * a query and the top k results ranked 1..k:
 *
 *   recall@k = (relevant ids found in the top k) / |R|
 *   MRR      = 1 / (rank of the first result with gain 1), 0 when none
 *   nDCG@k   = DCG / IDCG, DCG = sum over results with gain 1 of
 *              1 / log2(rank + 1), IDCG = sum over ranks 1..min(|R|, k)
 *              of 1 / log2(rank + 1)
 *
 * (A result whose doc_id and chunk_id are both judged finds both ids but
 * has gain 1 once: relevance stays binary.) A set's metrics are the means
 * over its queries, rounded to 6 decimal places, so that the numbers
 * written to METRICS.json are the very numbers the verdict compared.
 */
#ifndef RP_INDEX_EVAL_H
#define RP_INDEX_EVAL_H

#include <stddef.h>
#include <jansson.h>
#include "util/error.h"

/* One judged query of a set. */
struct eval_query {
	char *text;           /* the query, owned */
	char **relevant;      /* nrel distinct, non-empty ids, owned */
	size_t nrel;
	size_t line;          /* its line in the file, for messages */
};

struct eval_set {
	char *path;           /* the file it was read from, owned */
	struct eval_query *q; /* n queries, in file order, owned */
	size_t n;
};

/*
 * Reads a query set: JSON Lines, one object per line,
 * {"query": "text", "relevant": ["doc_id or chunk_id", ...]}; other fields
 * are ignored and a repeated relevant id counts once. 0, or -1 + err
 * (RP_ERR_INPUT "PATH:LINE:COL: ..." for a line that is not such an object
 * or a file without any query; RP_ERR_IO when it cannot be read). `qs` is
 * to be released either way.
 */
int eval_set_load(struct eval_set *qs, const char *path, struct rp_err *err);
/* As eval_set_load() from `len` bytes at `data` (borrowed), named `name`. */
int eval_set_load_mem(struct eval_set *qs, const char *name, const char *data, size_t len,
		      struct rp_err *err);
/* Frees what `qs` holds and zeroes it. */
void eval_set_release(struct eval_set *qs);

/* One ranked result: ids borrowed (e.g. from an index mapping), not NUL-terminated. */
struct eval_hit {
	const char *doc_id;
	size_t doc_id_len;
	const char *chunk_id;
	size_t chunk_id_len;
};

struct eval_scores {
	double recall;        /* recall@k */
	double mrr;
	double ndcg;          /* nDCG@k */
};

/*
 * Scores one query's ranked results hits[0..nhits) (best first; only the
 * first k count) against its nrel relevant ids, as the header comment
 * defines. nrel 0 gives all zeros.
 */
void eval_score(const char *const *relevant, size_t nrel, const struct eval_hit *hits,
		size_t nhits, size_t k, struct eval_scores *out);

/*
 * The means over the set: hits[i][0..nhits[i]) are query i's results.
 * Rounded to 6 decimal places; all zeros for an empty set.
 */
void eval_set_score(const struct eval_set *qs, const struct eval_hit *const *hits,
		    const size_t *nhits, size_t k, struct eval_scores *mean);

enum eval_metric { EVAL_RECALL, EVAL_MRR, EVAL_NDCG, EVAL_NMETRICS };

/* The value of metric m in s. */
double eval_metric_value(const struct eval_scores *s, enum eval_metric m);
/* The metric's name in METRICS.json ("recall@10", "mrr", "ndcg@10"): newly allocated, caller frees. */
char *eval_metric_name(enum eval_metric m, size_t k);

/* A candidate's metric that fell more than max_drop below the baseline's. */
struct eval_regression {
	size_t index;         /* the candidate, an index into the scores array */
	enum eval_metric metric;
	double baseline, value;
};

/*
 * The verdict: every index but `baseline` is a candidate, and a candidate
 * regresses on metric m when baseline's m - its m > max_drop (a drop of
 * exactly max_drop passes; differences within 1e-9, float noise of the
 * subtraction, count as equal). Fills regs (room for (n - 1) *
 * EVAL_NMETRICS entries), in candidate order then metric order; returns how
 * many. 0 regressions: the verdict passes.
 */
size_t eval_verdict(const struct eval_scores *s, size_t n, size_t baseline, double max_drop,
		    struct eval_regression *regs);

/* What rp-eval measured, for eval_report_json(); everything borrowed. */
struct eval_report_index {
	const char *name, *path, *digest, *model;
	struct eval_scores s;
};

struct eval_report {
	size_t k, queries;
	size_t n;                          /* indexes */
	const struct eval_report_index *ix;
	int has_baseline;                  /* 0: no baseline, no verdict (null) */
	size_t baseline;                   /* with has_baseline: an index into ix */
	double max_drop;
	const struct eval_regression *regs;
	size_t nregs;
};

/*
 * The METRICS.json object (a new reference, the caller decrefs):
 *   {"k":10,"queries":N,
 *    "indexes":{NAME:{"path","digest","model","recall@K","mrr","ndcg@K"}, ...},
 *    "baseline":NAME,"max_drop":0.01,
 *    "verdict":{"pass":bool,"baseline":NAME,"candidates":[NAME, ...],
 *               "regressions":[{"index","metric","baseline","value"}, ...]}}
 * Without a baseline, "baseline", "max_drop" and "verdict" are null.
 * `rp-index promote --gate` reads this shape: change both together.
 */
json_t *eval_report_json(const struct eval_report *r);

/*
 * The canonical text of a report object (sorted keys, compact, one line and
 * '\n'; reals with at most 15 significant digits, so 0.6 is "0.6"). Newly
 * allocated, caller frees.
 */
char *eval_report_dump(json_t *report);

#endif
