/*
 * test-eval.c - recall@k, MRR and nDCG@k on ranked lists whose numbers are
 * worked out by hand in the comments, the set means, the verdict against a
 * baseline, METRICS.json's exact text, and the query-set reader's errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "index/eval.h"
#include "util/error.h"

#define TOL 1e-6

/* hit("doc", "chunk"): a result with those ids */
static struct eval_hit hit(const char *doc, const char *chunk)
{
	struct eval_hit h = { doc, strlen(doc), chunk, chunk ? strlen(chunk) : 0 };

	return h;
}

static void assert_near(double got, double want)
{
	if (fabs(got - want) > TOL)
		fail_msg("got %.9f, want %.9f", got, want);
}

/* Scores h[0..nh) at k against rel[0..nrel) and checks the three metrics. */
static void expect(const char *const *rel, size_t nrel, const struct eval_hit *h, size_t nh, size_t k,
		   double recall, double mrr, double ndcg)
{
	struct eval_scores s;

	eval_score(rel, nrel, h, nh, k, &s);
	assert_near(s.recall, recall);
	assert_near(s.mrr, mrr);
	assert_near(s.ndcg, ndcg);
}

static void test_a_relevant_document_first_scores_one(void **state)
{
	const char *rel[] = { "a.md" };
	struct eval_hit h[] = { hit("a.md", "a.md#0"), hit("b.md", "b.md#0") };

	(void)state;
	expect(rel, 1, h, 2, 10, 1, 1, 1);
}

static void test_a_relevant_document_third_scores_a_third_and_a_half(void **state)
{
	/* rank 3: MRR 1/3; DCG 1/log2(4) = 0.5, IDCG 1: nDCG 0.5 */
	const char *rel[] = { "c.md" };
	struct eval_hit h[] = { hit("a.md", "a.md#0"), hit("b.md", "b.md#0"), hit("c.md", "c.md#1") };

	(void)state;
	expect(rel, 1, h, 3, 10, 1, 1.0 / 3, 0.5);
}

static void test_a_document_found_twice_counts_once(void **state)
{
	/*
	 * relevant A, B; ranks: X, A, A (another chunk), B.
	 * gains 0 1 0 1: DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677 = 1.061606
	 * IDCG = 1 + 1/log2(3) = 1.630930; nDCG = 0.650920; MRR 1/2; recall 2/2.
	 * (Counting A twice would add 1/log2(4) = 0.5 and give 0.957502.)
	 */
	const char *rel[] = { "A", "B" };
	struct eval_hit h[] = { hit("X", "X#0"), hit("A", "A#0"), hit("A", "A#3"), hit("B", "B#1") };

	(void)state;
	expect(rel, 2, h, 4, 10, 1, 0.5, 0.650920);
}

static void test_results_past_k_do_not_count(void **state)
{
	const char *rel[] = { "D" };
	struct eval_hit h[] = { hit("A", "A#0"), hit("B", "B#0"), hit("C", "C#0"), hit("D", "D#0") };

	(void)state;
	expect(rel, 1, h, 4, 3, 0, 0, 0);
	expect(rel, 1, h, 4, 4, 1, 0.25, 1 / log2(5.0)); /* 0.430677 */
}

static void test_a_chunk_id_is_judged_like_a_document(void **state)
{
	/* relevant: chunk B#2 and document C. ranks: B#1, B#2, C#0 */
	const char *rel[] = { "B#2", "C" };
	struct eval_hit h[] = { hit("B", "B#1"), hit("B", "B#2"), hit("C", "C#0") };

	(void)state;
	/* DCG = 1/log2(3) + 1/log2(4) = 0.630930 + 0.5; IDCG 1.630930: 0.693426 */
	expect(rel, 2, h, 3, 10, 1, 0.5, 0.693426);
}

static void test_more_relevant_ids_than_k(void **state)
{
	/* relevant A, B, C at k 2, ranks A, B: recall 2/3; IDCG over 2 ranks, so nDCG 1 */
	const char *rel[] = { "A", "B", "C" };
	struct eval_hit h[] = { hit("A", "A#0"), hit("B", "B#0") };

	(void)state;
	expect(rel, 3, h, 2, 2, 2.0 / 3, 1, 1);
}

static void test_no_results_and_no_match_score_zero(void **state)
{
	const char *rel[] = { "A" };
	struct eval_hit h[] = { hit("B", "B#0") };

	(void)state;
	expect(rel, 1, h, 0, 10, 0, 0, 0);
	expect(rel, 1, h, 1, 10, 0, 0, 0);
}

static const char two_queries[] =
	"{\"query\": \"first\", \"relevant\": [\"A\"]}\n"
	"\n"
	"{\"query\": \"second\", \"relevant\": [\"C\", \"C\", \"D\"], \"note\": \"ignored\"}\n";

static void test_set_means_are_rounded_to_six_places(void **state)
{
	/*
	 * q1 (A): A first: 1, 1, 1.
	 * q2 (C, D): X, C, Y: recall 1/2, MRR 1/2, nDCG (1/log2(3)) / (1 + 1/log2(3))
	 *   = 0.630930 / 1.630930 = 0.386853.
	 * means: recall 0.75, MRR 0.75, nDCG 0.6934264 -> 0.693426.
	 */
	struct eval_set qs;
	struct rp_err err = { 0 };
	struct eval_hit h1[] = { hit("A", "A#0") };
	struct eval_hit h2[] = { hit("X", "X#0"), hit("C", "C#0"), hit("Y", "Y#0") };
	const struct eval_hit *hits[] = { h1, h2 };
	size_t nhits[] = { 1, 3 };
	struct eval_scores m;

	(void)state;
	assert_int_equal(eval_set_load_mem(&qs, "q.jsonl", two_queries, strlen(two_queries), &err), 0);
	assert_int_equal(qs.n, 2);
	assert_string_equal(qs.q[1].text, "second");
	assert_int_equal(qs.q[1].line, 3);
	assert_int_equal(qs.q[1].nrel, 2); /* C once */
	eval_set_score(&qs, hits, nhits, 10, &m);
	assert_true(m.recall == 0.75);
	assert_true(m.mrr == 0.75);
	assert_true(m.ndcg == 0.693426);
	eval_set_release(&qs);
}

static void test_verdict_fails_a_drop_beyond_max_drop_only(void **state)
{
	struct eval_scores s[] = {
		{ 0.8, 0.6, 0.7 },    /* blue, the baseline */
		{ 0.79, 0.6, 0.75 },  /* green: recall drops by exactly 0.01: passes */
		{ 0.78, 0.62, 0.65 }, /* red: recall -0.02 and nDCG -0.05 regress */
	};
	struct eval_regression regs[6];
	size_t n;

	(void)state;
	n = eval_verdict(s, 2, 0, 0.01, regs);
	assert_int_equal(n, 0);
	n = eval_verdict(s, 3, 0, 0.01, regs);
	assert_int_equal(n, 2);
	assert_int_equal(regs[0].index, 2);
	assert_int_equal(regs[0].metric, EVAL_RECALL);
	assert_true(regs[0].baseline == 0.8 && regs[0].value == 0.78);
	assert_int_equal(regs[1].index, 2);
	assert_int_equal(regs[1].metric, EVAL_NDCG);
	/* max drop 0: any loss regresses, and green's recall now does */
	n = eval_verdict(s, 2, 0, 0, regs);
	assert_int_equal(n, 1);
	assert_int_equal(regs[0].metric, EVAL_RECALL);
	/* the baseline is never its own candidate, whichever it is */
	n = eval_verdict(s, 3, 2, 0.5, regs);
	assert_int_equal(n, 0);
}

static void test_metrics_json_has_the_shape_promote_reads(void **state)
{
	struct eval_report_index ix[] = {
		{ "blue", "build/blue/index", "aa", "rp-lexical-v1", { 0.8, 0.6, 0.7 } },
		{ "green", "build/green/index", "bb", "rp-lexical-v1", { 0.78, 0.6, 0.7 } },
	};
	struct eval_scores s[] = { ix[0].s, ix[1].s };
	struct eval_regression regs[3];
	struct eval_report r = { .k = 10, .queries = 50, .n = 2, .ix = ix, .has_baseline = 1,
				 .baseline = 0, .max_drop = 0.01 };
	json_t *o;
	char *text;

	(void)state;
	r.nregs = eval_verdict(s, 2, 0, 0.01, regs);
	r.regs = regs;
	o = eval_report_json(&r);
	text = eval_report_dump(o);
	assert_string_equal(text,
		"{\"baseline\":\"blue\",\"indexes\":{"
		"\"blue\":{\"digest\":\"aa\",\"model\":\"rp-lexical-v1\",\"mrr\":0.6,\"ndcg@10\":0.7,"
		"\"path\":\"build/blue/index\",\"recall@10\":0.8},"
		"\"green\":{\"digest\":\"bb\",\"model\":\"rp-lexical-v1\",\"mrr\":0.6,\"ndcg@10\":0.7,"
		"\"path\":\"build/green/index\",\"recall@10\":0.78}},"
		"\"k\":10,\"max_drop\":0.01,\"queries\":50,"
		"\"verdict\":{\"baseline\":\"blue\",\"candidates\":[\"green\"],\"pass\":false,"
		"\"regressions\":[{\"baseline\":0.8,\"index\":\"green\",\"metric\":\"recall@10\","
		"\"value\":0.78}]}}\n");
	free(text);
	json_decref(o);

	/* no baseline: no verdict */
	r.has_baseline = 0;
	r.k = 5;
	o = eval_report_json(&r);
	text = eval_report_dump(o);
	assert_non_null(strstr(text, "\"baseline\":null"));
	assert_non_null(strstr(text, "\"verdict\":null"));
	assert_non_null(strstr(text, "\"recall@5\":0.8"));
	free(text);
	json_decref(o);
}

static void expect_load_error(const char *text, const char *msg)
{
	struct eval_set qs;
	struct rp_err err = { 0 };

	assert_int_equal(eval_set_load_mem(&qs, "q.jsonl", text, strlen(text), &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	if (!strstr(err.msg, msg))
		fail_msg("message '%s' lacks '%s'", err.msg, msg);
	eval_set_release(&qs);
}

static void test_bad_query_lines_are_named_by_line(void **state)
{
	(void)state;
	expect_load_error("{\"query\": \"a\", \"relevant\": [\"A\"]}\n{\"relevant\": [\"A\"]}\n",
			  "q.jsonl:2:");
	expect_load_error("{\"query\": \"a\", \"relevant\": []}\n", "q.jsonl:1:1: field 'relevant'");
	expect_load_error("{\"query\": \"a\", \"relevant\": \"A\"}\n", "q.jsonl:1:1: field 'relevant'");
	expect_load_error("{\"query\": \"a\", \"relevant\": [\"A\", 3]}\n", "item 2");
	expect_load_error("{\"query\": \"\", \"relevant\": [\"A\"]}\n", "q.jsonl:1:1: field 'query' is empty");
	expect_load_error("\n\n{\"query\": \"a\",\n", "q.jsonl:3:");
	expect_load_error("\n", "q.jsonl: no queries");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_relevant_document_first_scores_one),
		cmocka_unit_test(test_a_relevant_document_third_scores_a_third_and_a_half),
		cmocka_unit_test(test_a_document_found_twice_counts_once),
		cmocka_unit_test(test_results_past_k_do_not_count),
		cmocka_unit_test(test_a_chunk_id_is_judged_like_a_document),
		cmocka_unit_test(test_more_relevant_ids_than_k),
		cmocka_unit_test(test_no_results_and_no_match_score_zero),
		cmocka_unit_test(test_set_means_are_rounded_to_six_places),
		cmocka_unit_test(test_verdict_fails_a_drop_beyond_max_drop_only),
		cmocka_unit_test(test_metrics_json_has_the_shape_promote_reads),
		cmocka_unit_test(test_bad_query_lines_are_named_by_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
