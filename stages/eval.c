/*
 * eval.c - rp-eval: recall@k, MRR and nDCG@k of one or more indexes on a
 * fixed set of judged queries, and a gate against a baseline (rp-eval(1)).
 *
 * The run: read the query set (index/eval.h: errors name the file and
 * line); for each --index NAME=INDEX, open the index (index/index.h; INDEX
 * may be an alias of the workspace, index/alias.h: its served copy is read),
 * search every query at once through index/query.h (the query embedded by
 * the same code and cache as the corpus, with the model the index records)
 * and score the top k of each (eval.h defines the metrics); with
 * --baseline, compare every other index with it; write METRICS.json
 * (canonical JSON, atomically) and print a table. The file is written
 * before the exit code says whether a candidate regressed, so a pipeline's
 * metrics and `rp-index promote --gate` always see the numbers that failed.
 *
 * Exit: 0, or 1 when a candidate fell more than --max-drop below the
 * baseline (or an index could not be searched), 2 for usage or invalid
 * input (a query line, an index directory, a model the index refuses).
 */
#include "index/alias.h"
#include "index/eval.h"
#include "index/index.h"
#include "index/query.h"
#include "util/error.h"
#include "util/jsonl.h"
#include "util/numopt.h"
#include "util/progress.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: rp-eval --queries Q.jsonl --index NAME=INDEX... -o METRICS.json [-k N]\n"
	"               [--baseline NAME [--max-drop X]] [--hybrid] [--cache PATH] [--quiet]\n"
	"\n"
	"Searches every index with every query of Q.jsonl ({\"query\": \"...\",\n"
	"\"relevant\": [\"doc_id or chunk_id\", ...]} per line) and writes recall@k,\n"
	"MRR and nDCG@k of each index to METRICS.json.\n"
	"\n"
	"  -q, --queries FILE     the judged queries (JSON Lines)\n"
	"  -i, --index NAME=DIR   an index (a directory or an alias) to evaluate,\n"
	"                         named NAME in the output; repeat for several\n"
	"  -o, --output FILE      the metrics file (JSON; '-' is standard output)\n"
	"  -k N                   results per query that count, 1..1000 (default 10)\n"
	"      --baseline NAME    compare every other index with this one; exit 1\n"
	"                         when one falls more than --max-drop below it\n"
	"      --max-drop X       largest drop allowed on any metric, 0..1\n"
	"                         (default 0.01)\n"
	"      --hybrid           search vectors and BM25, fused by reciprocal rank\n"
	"      --cache PATH       embedding cache (default .rp/embed-cache.db)\n"
	"      --quiet            no summary line (-q is --queries)\n"
	"  -h, --help             show this help\n";

/* One --index NAME=DIR and what was measured of it. */
struct target {
	char *name;               /* owned */
	const char *path;         /* borrowed from argv */
	char *model;              /* owned, from the index */
	char digest[HASH_HEX];
	struct eval_scores s;
};

struct opts {
	const char *queries, *output, *baseline_name, *cache;
	size_t k;
	double max_drop;
	int has_max_drop, hybrid, quiet;
	struct target *t;
	size_t nt;
	size_t baseline;          /* with baseline_name: its index in t */
};

static int usage(int is_error)
{
	fputs(usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

/* Adds --index `arg` (NAME=DIR) to o: 0, or -1 after reporting why not. */
static int add_target(struct opts *o, char *arg, size_t *alloc)
{
	char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : 0;

	if (!eq || !len || !eq[1])
		return rp_error("--index '%s': expected NAME=INDEX, e.g. blue=build/blue/index", arg);
	if (strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != len)
		return rp_error("--index '%s': a name is made of letters, digits, '.', '_' and '-'", arg);
	for (size_t i = 0; i < o->nt; i++)
		if (strlen(o->t[i].name) == len && !memcmp(o->t[i].name, arg, len))
			return rp_error("--index '%s': the name '%.*s' is given twice", arg, (int)len, arg);
	ALLOC_GROW(o->t, o->nt + 1, *alloc);
	memset(&o->t[o->nt], 0, sizeof(o->t[0]));
	o->t[o->nt].name = xstrndup(arg, len);
	o->t[o->nt++].path = eq + 1;
	return 0;
}

/* Checks what the options say together: -1 to go on, else the exit code. */
static int check_opts(struct opts *o, int argc, char **argv)
{
	if (optind < argc) {
		rp_error("unexpected argument '%s'", argv[optind]);
		return usage(1);
	}
	if (!o->queries || !o->output || !o->nt) {
		rp_error("--queries, --index and -o are required");
		return usage(1);
	}
	if (o->has_max_drop && !o->baseline_name) {
		rp_error("--max-drop needs --baseline NAME: the index the others are compared with");
		return RP_EXIT_USAGE;
	}
	if (o->baseline_name) {
		for (o->baseline = 0; o->baseline < o->nt; o->baseline++)
			if (!strcmp(o->t[o->baseline].name, o->baseline_name))
				break;
		if (o->baseline == o->nt) {
			rp_error("--baseline '%s' is not the name of an --index", o->baseline_name);
			return RP_EXIT_USAGE;
		}
	}
	return -1;
}

/* Reads the options into o: -1 to go on, else the exit code (after --help or a usage error). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_BASELINE = 256, O_MAXDROP, O_HYBRID, O_CACHE, O_QUIET };
	static const struct option longopts[] = {
		{ "queries", required_argument, NULL, 'q' },
		{ "index", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "baseline", required_argument, NULL, O_BASELINE },
		{ "max-drop", required_argument, NULL, O_MAXDROP },
		{ "hybrid", no_argument, NULL, O_HYBRID },
		{ "cache", required_argument, NULL, O_CACHE },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rp_err err = { 0 };
	size_t alloc = 0;
	long num;
	int c;

	while ((c = getopt_long(argc, argv, "q:i:o:k:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'q': o->queries = optarg; break;
		case 'i':
			if (add_target(o, optarg, &alloc) < 0)
				return RP_EXIT_USAGE;
			break;
		case 'o': o->output = optarg; break;
		case 'k':
			if (numopt_long("-k", optarg, 1, 1000, &num, &err) < 0)
				return rp_err_exit(&err);
			o->k = (size_t)num;
			break;
		case O_BASELINE: o->baseline_name = optarg; break;
		case O_MAXDROP:
			if (numopt_parse_double(optarg, 0, 1, &o->max_drop) < 0) {
				rp_error("--max-drop '%s' is not a number in 0..1", optarg);
				return RP_EXIT_USAGE;
			}
			o->has_max_drop = 1;
			break;
		case O_HYBRID: o->hybrid = 1; break;
		case O_CACHE: o->cache = optarg; break;
		case O_QUIET: o->quiet = 1; break;
		case 'h': return usage(0);
		default: return usage(1);
		}
	}
	return check_opts(o, argc, argv);
}

/*
 * Searches index t with every query of qs and scores the results into
 * t->s, recording the index's model and digest: 0, or -1 + err.
 */
static int eval_target(const struct opts *o, const struct eval_set *qs, struct target *t,
		       struct rp_err *err)
{
	struct index_query_opts qo = INDEX_QUERY_OPTS_INIT;
	struct index *ix = NULL;
	struct index_searcher *s = NULL;
	struct index_result *res = xcalloc(qs->n * o->k, sizeof(*res));
	struct eval_hit *hits = xcalloc(qs->n * o->k, sizeof(*hits));
	const struct eval_hit **lists = xcalloc(qs->n, sizeof(*lists));
	const char **texts = xcalloc(qs->n, sizeof(*texts));
	size_t *nres = xcalloc(qs->n, sizeof(*nres));
	char *dir = NULL;
	int ret = -1;

	qo.k = o->k;
	qo.hybrid = o->hybrid;
	qo.provider.cache = o->cache;
	if (alias_resolve(t->path, &dir, err) < 0 || index_open(&ix, dir, 0, err) < 0)
		goto out;
	t->model = xstrdup(ix->model ? ix->model : "");
	memcpy(t->digest, ix->digest, sizeof(t->digest));
	if (!(s = index_searcher_new(ix, &qo, err)))
		goto out;
	for (size_t i = 0; i < qs->n; i++)
		texts[i] = qs->q[i].text;
	if (index_searcher_run(s, texts, qs->n, res, nres, err) < 0)
		goto out;
	for (size_t i = 0; i < qs->n; i++) {
		lists[i] = &hits[i * o->k];
		for (size_t j = 0; j < nres[i]; j++) {
			const struct index_result *r = &res[i * o->k + j];
			struct index_row row;
			struct eval_hit *h = &hits[i * o->k + j];

			if (index_row(ix, r->seg, r->row, &row, err) < 0)
				goto out;
			h->doc_id = row.doc_id;
			h->doc_id_len = row.doc_id_len;
			h->chunk_id = row.chunk_id;
			h->chunk_id_len = row.chunk_id_len;
		}
	}
	/* the hits point into the index's mapping: score before closing it */
	eval_set_score(qs, lists, nres, o->k, &t->s);
	ret = 0;
out:
	index_searcher_free(s);
	index_close(ix);
	free(dir);
	free(res);
	free(hits);
	free(lists);
	free(texts);
	free(nres);
	return ret;
}

/* Prints the table of what was measured, and the verdict, to f. */
static void print_table(FILE *f, const struct opts *o, const struct eval_set *qs,
			const struct eval_regression *regs, size_t nregs)
{
	int w = 5;
	char rk[32], nk[32];

	for (size_t i = 0; i < o->nt; i++)
		if ((int)strlen(o->t[i].name) > w)
			w = (int)strlen(o->t[i].name);
	snprintf(rk, sizeof(rk), "recall@%zu", o->k);
	snprintf(nk, sizeof(nk), "ndcg@%zu", o->k);
	fprintf(f, "%zu quer%s, k %zu\n", qs->n, qs->n == 1 ? "y" : "ies", o->k);
	fprintf(f, "%-*s  %10s  %8s  %10s  %s\n", w, "index", rk, "mrr", nk, "model");
	for (size_t i = 0; i < o->nt; i++)
		fprintf(f, "%-*s  %10.4f  %8.4f  %10.4f  %s\n", w, o->t[i].name, o->t[i].s.recall,
			o->t[i].s.mrr, o->t[i].s.ndcg, o->t[i].model);
	if (!o->baseline_name)
		return;
	if (!nregs) {
		fprintf(f, "verdict: pass (no candidate more than %g below %s on any metric)\n",
			o->max_drop, o->baseline_name);
		return;
	}
	fprintf(f, "verdict: FAIL\n");
	for (size_t i = 0; i < nregs; i++) {
		char *m = eval_metric_name(regs[i].metric, o->k);

		fprintf(f, "  %s: %s %.4f, %s %.4f: a drop of %.4f, more than %g\n",
			o->t[regs[i].index].name, m, regs[i].value, o->baseline_name, regs[i].baseline,
			regs[i].baseline - regs[i].value, o->max_drop);
		free(m);
	}
}

/* Writes METRICS.json for what was measured: 0, or -1 + err. */
static int write_metrics(const struct opts *o, const struct eval_set *qs,
			 const struct eval_regression *regs, size_t nregs, struct rp_err *err)
{
	struct eval_report_index *ri = xcalloc(o->nt, sizeof(*ri));
	struct eval_report r = { .k = o->k, .queries = qs->n, .n = o->nt, .ix = ri,
				 .has_baseline = o->baseline_name != NULL, .baseline = o->baseline,
				 .max_drop = o->max_drop, .regs = regs, .nregs = nregs };
	struct buf text = BUF_INIT;
	json_t *obj;
	char *s;
	int rc;

	for (size_t i = 0; i < o->nt; i++) {
		ri[i].name = o->t[i].name;
		ri[i].path = o->t[i].path;
		ri[i].digest = o->t[i].digest;
		ri[i].model = o->t[i].model;
		ri[i].s = o->t[i].s;
	}
	obj = eval_report_json(&r);
	s = eval_report_dump(obj);
	buf_adds(&text, s);
	rc = jsonl_write_file(o->output, &text, err);
	buf_release(&text);
	free(s);
	json_decref(obj);
	free(ri);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { .k = 10, .max_drop = 0.01 };
	struct eval_set qs = { 0 };
	struct eval_scores *scores = NULL;
	struct eval_regression *regs = NULL;
	struct rp_err err = { 0 };
	size_t nregs = 0;
	int ret;

	rp_progname = "rp-eval";
	if ((ret = parse_args(argc, argv, &o)) >= 0)
		goto out;
	if (eval_set_load(&qs, o.queries, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	scores = xcalloc(o.nt, sizeof(*scores));
	for (size_t i = 0; i < o.nt; i++) {
		if (eval_target(&o, &qs, &o.t[i], &err) < 0) {
			ret = rp_err_exit(&err);
			goto out;
		}
		scores[i] = o.t[i].s;
	}
	if (o.baseline_name) {
		regs = xcalloc(o.nt * EVAL_NMETRICS, sizeof(*regs));
		nregs = eval_verdict(scores, o.nt, o.baseline, o.max_drop, regs);
	}
	if (write_metrics(&o, &qs, regs, nregs, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	print_table(strcmp(o.output, "-") ? stdout : stderr, &o, &qs, regs, nregs);
	ret = RP_EXIT_OK;
	fflush(stdout); /* the table before the error, when both go to one pipe */
	if (nregs) {
		rp_error("a candidate fell more than --max-drop %g below the baseline '%s'; see '%s'",
			 o.max_drop, o.baseline_name, o.output);
		ret = RP_EXIT_FAIL;
	} else if (!o.quiet) {
		progress_summary("rp eval", "%zu quer%s, %zu index%s, k %zu%s", qs.n,
				 qs.n == 1 ? "y" : "ies", o.nt, o.nt == 1 ? "" : "es", o.k,
				 o.baseline_name ? ", verdict pass" : "");
	}
out:
	for (size_t i = 0; i < o.nt; i++) {
		free(o.t[i].name);
		free(o.t[i].model);
	}
	free(o.t);
	free(scores);
	free(regs);
	eval_set_release(&qs);
	return ret;
}
