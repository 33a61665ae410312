/*
 * eval.c - retrieval metrics and the baseline verdict (see eval.h for the
 * definitions of recall@k, MRR and nDCG@k and of what counts as relevant).
 *
 * Scoring a query walks its top k once and, per result, the relevant ids
 * still unfound (a query judges a handful of ids, so a linear scan beats
 * any table): the first result that matches an id finds it, and no later
 * result can find it again. Set means are rounded to 6 decimal places
 * before anything compares them, and the report prints reals with 15
 * significant digits, so METRICS.json shows 0.6, not 0.59999999999999998,
 * and a reader of the file recomputes the verdict from what it sees.
 */
#include "index/eval.h"
#include "util/jsonl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Float noise of a subtraction of two rounded means: smaller than this is equal. */
#define EVAL_EPSILON 1e-9

void eval_set_release(struct eval_set *qs)
{
	for (size_t i = 0; i < qs->n; i++) {
		free(qs->q[i].text);
		for (size_t j = 0; j < qs->q[i].nrel; j++)
			free(qs->q[i].relevant[j]);
		free(qs->q[i].relevant);
	}
	free(qs->q);
	free(qs->path);
	memset(qs, 0, sizeof(*qs));
}

/* Fills q from one line's object `obj` (line r->line): 0, or -1 + err. */
static int parse_query(const struct jsonl_reader *r, json_t *obj, struct eval_query *q,
		       struct rp_err *err)
{
	const char *text = jsonl_get_str(r, obj, "query", err);
	json_t *rel = json_object_get(obj, "relevant"), *v;
	size_t i, alloc = 0;

	if (!text)
		return -1;
	if (!*text)
		return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: field 'query' is empty", r->path, r->line);
	if (!json_is_array(rel) || !json_array_size(rel))
		return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: field 'relevant' is not a non-empty array "
				  "of doc_id or chunk_id strings", r->path, r->line);
	q->text = xstrdup(text);
	q->line = r->line;
	json_array_foreach(rel, i, v) {
		const char *id = json_string_value(v);
		size_t j;

		if (!id || !*id)
			return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: field 'relevant', item %zu: not a "
					  "non-empty doc_id or chunk_id string", r->path, r->line, i + 1);
		for (j = 0; j < q->nrel && strcmp(q->relevant[j], id); j++)
			;
		if (j < q->nrel)
			continue;
		ALLOC_GROW(q->relevant, q->nrel + 1, alloc);
		q->relevant[q->nrel++] = xstrdup(id);
	}
	return 0;
}

/* Reads every line of r into qs: 0, or -1 + err. */
static int read_set(struct eval_set *qs, struct jsonl_reader *r, struct rp_err *err)
{
	size_t alloc = 0;
	json_t *obj;
	int rc;

	qs->path = xstrdup(r->path);
	while ((rc = jsonl_next(r, &obj, err)) > 0) {
		ALLOC_GROW(qs->q, qs->n + 1, alloc);
		memset(&qs->q[qs->n], 0, sizeof(qs->q[0]));
		rc = parse_query(r, obj, &qs->q[qs->n++], err);
		json_decref(obj);
		if (rc < 0)
			break;
	}
	if (rc == 0 && !qs->n)
		rc = rp_err_set(err, RP_ERR_INPUT, "%s: no queries: expected one JSON object per line, "
				"{\"query\": \"...\", \"relevant\": [\"doc_id\", ...]}", r->path);
	jsonl_close(r);
	return rc < 0 ? -1 : 0;
}

int eval_set_load(struct eval_set *qs, const char *path, struct rp_err *err)
{
	struct jsonl_reader r;

	memset(qs, 0, sizeof(*qs));
	if (jsonl_open(&r, path, err) < 0)
		return -1;
	return read_set(qs, &r, err);
}

int eval_set_load_mem(struct eval_set *qs, const char *name, const char *data, size_t len,
		      struct rp_err *err)
{
	struct jsonl_reader r;

	memset(qs, 0, sizeof(*qs));
	if (jsonl_open_mem(&r, name, data, len, err) < 0)
		return -1;
	return read_set(qs, &r, err);
}

static int id_eq(const char *id, const char *s, size_t len)
{
	return s && strlen(id) == len && !memcmp(id, s, len);
}

void eval_score(const char *const *relevant, size_t nrel, const struct eval_hit *hits,
		size_t nhits, size_t k, struct eval_scores *out)
{
	unsigned char *found;
	size_t nfound = 0, n = nhits < k ? nhits : k;
	double dcg = 0, idcg = 0;

	memset(out, 0, sizeof(*out));
	if (!nrel || !k)
		return;
	found = xcalloc(nrel, 1);
	for (size_t i = 0; i < n; i++) {
		int gain = 0;

		for (size_t j = 0; j < nrel; j++) {
			if (found[j] || (!id_eq(relevant[j], hits[i].doc_id, hits[i].doc_id_len) &&
					 !id_eq(relevant[j], hits[i].chunk_id, hits[i].chunk_id_len)))
				continue;
			found[j] = 1;
			nfound++;
			gain = 1;
		}
		if (!gain)
			continue;
		dcg += 1.0 / log2((double)i + 2);
		if (out->mrr == 0)
			out->mrr = 1.0 / ((double)i + 1);
	}
	for (size_t i = 0; i < nrel && i < k; i++)
		idcg += 1.0 / log2((double)i + 2);
	out->recall = (double)nfound / (double)nrel;
	out->ndcg = dcg / idcg;
	free(found);
}

static double round6(double x)
{
	return round(x * 1e6) / 1e6;
}

void eval_set_score(const struct eval_set *qs, const struct eval_hit *const *hits,
		    const size_t *nhits, size_t k, struct eval_scores *mean)
{
	struct eval_scores sum = { 0 }, s;

	memset(mean, 0, sizeof(*mean));
	if (!qs->n)
		return;
	for (size_t i = 0; i < qs->n; i++) {
		eval_score((const char *const *)qs->q[i].relevant, qs->q[i].nrel, hits[i], nhits[i], k, &s);
		sum.recall += s.recall;
		sum.mrr += s.mrr;
		sum.ndcg += s.ndcg;
	}
	mean->recall = round6(sum.recall / (double)qs->n);
	mean->mrr = round6(sum.mrr / (double)qs->n);
	mean->ndcg = round6(sum.ndcg / (double)qs->n);
}

double eval_metric_value(const struct eval_scores *s, enum eval_metric m)
{
	switch (m) {
	case EVAL_RECALL: return s->recall;
	case EVAL_MRR: return s->mrr;
	case EVAL_NDCG: return s->ndcg;
	default: BUG("unknown metric %d", (int)m);
	}
}

char *eval_metric_name(enum eval_metric m, size_t k)
{
	switch (m) {
	case EVAL_RECALL: return xasprintf("recall@%zu", k);
	case EVAL_MRR: return xstrdup("mrr");
	case EVAL_NDCG: return xasprintf("ndcg@%zu", k);
	default: BUG("unknown metric %d", (int)m);
	}
}

size_t eval_verdict(const struct eval_scores *s, size_t n, size_t baseline, double max_drop,
		    struct eval_regression *regs)
{
	size_t nregs = 0;

	for (size_t i = 0; i < n; i++) {
		if (i == baseline)
			continue;
		for (int m = 0; m < EVAL_NMETRICS; m++) {
			double b = eval_metric_value(&s[baseline], m), v = eval_metric_value(&s[i], m);

			if (b - v <= max_drop + EVAL_EPSILON)
				continue;
			regs[nregs].index = i;
			regs[nregs].metric = m;
			regs[nregs].baseline = b;
			regs[nregs++].value = v;
		}
	}
	return nregs;
}

/* {"pass","baseline","candidates","regressions"} of r (which has a baseline). */
static json_t *verdict_json(const struct eval_report *r)
{
	const char *base = r->ix[r->baseline].name;
	json_t *cands = json_array(), *regs = json_array();

	for (size_t i = 0; i < r->n; i++)
		if (i != r->baseline)
			json_array_append_new(cands, json_string(r->ix[i].name));
	for (size_t i = 0; i < r->nregs; i++) {
		const struct eval_regression *g = &r->regs[i];
		char *metric = eval_metric_name(g->metric, r->k);

		json_array_append_new(regs, json_pack("{s:s,s:s,s:f,s:f}", "index", r->ix[g->index].name,
						      "metric", metric, "baseline", g->baseline,
						      "value", g->value));
		free(metric);
	}
	return json_pack("{s:b,s:s,s:o,s:o}", "pass", r->nregs == 0, "baseline", base,
			 "candidates", cands, "regressions", regs);
}

json_t *eval_report_json(const struct eval_report *r)
{
	json_t *ixs = json_object(), *o;

	for (size_t i = 0; i < r->n; i++) {
		const struct eval_report_index *e = &r->ix[i];
		json_t *v = json_pack("{s:s,s:s,s:s?}", "path", e->path, "digest", e->digest,
				      "model", e->model);

		for (int m = 0; m < EVAL_NMETRICS; m++) {
			char *name = eval_metric_name(m, r->k);

			json_object_set_new(v, name, json_real(eval_metric_value(&e->s, m)));
			free(name);
		}
		json_object_set_new(ixs, e->name, v);
	}
	o = json_pack("{s:I,s:I,s:o}", "k", (json_int_t)r->k, "queries", (json_int_t)r->queries,
		      "indexes", ixs);
	if (r->has_baseline) {
		json_object_set_new(o, "baseline", json_string(r->ix[r->baseline].name));
		json_object_set_new(o, "max_drop", json_real(r->max_drop));
		json_object_set_new(o, "verdict", verdict_json(r));
	} else {
		json_object_set_new(o, "baseline", json_null());
		json_object_set_new(o, "max_drop", json_null());
		json_object_set_new(o, "verdict", json_null());
	}
	return o;
}

char *eval_report_dump(json_t *report)
{
	char *s = json_dumps(report, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	char *line;

	if (!s)
		BUG("json_dumps failed");
	line = xasprintf("%s\n", s);
	free(s);
	return line;
}
