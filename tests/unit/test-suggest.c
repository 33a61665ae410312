/*
 * test-suggest.c - the edit distance and the "did you mean" choice.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util/suggest.h"

static void test_distance_counts_edits_and_swaps(void **state)
{
	(void)state;
	assert_int_equal(suggest_distance("", ""), 0);
	assert_int_equal(suggest_distance("abc", ""), 3);
	assert_int_equal(suggest_distance("", "abc"), 3);
	assert_int_equal(suggest_distance("status", "status"), 0);
	assert_int_equal(suggest_distance("stauts", "status"), 1);      /* one swap */
	assert_int_equal(suggest_distance("chekout", "checkout"), 1);   /* one insert */
	assert_int_equal(suggest_distance("repor", "repro"), 1);
	assert_int_equal(suggest_distance("kitten", "sitting"), 3);
	assert_int_equal(suggest_distance("ca", "abc"), 3);             /* OSA, not Damerau */
}

static void test_typos_of_commands_find_them(void **state)
{
	static const char *const cmds[] = { "cache", "checkout", "dag", "gc", "init",
					    "metrics", "params", "repro", "status" };
	size_t n = sizeof(cmds) / sizeof(*cmds);

	(void)state;
	assert_int_equal(suggest_best("stauts", cmds, n), 8);
	assert_int_equal(suggest_best("chekout", cmds, n), 1);
	assert_int_equal(suggest_best("repor", cmds, n), 7);
	assert_int_equal(suggest_best("metric", cmds, n), 5);
	assert_int_equal(suggest_best("stat", cmds, n), 8);    /* a prefix */
}

static void test_far_words_and_exact_names_suggest_nothing(void **state)
{
	static const char *const cmds[] = { "cache", "checkout", "repro", "status" };

	(void)state;
	assert_int_equal(suggest_best("frobnicate", cmds, 4), -1);
	assert_int_equal(suggest_best("x", cmds, 4), -1);
	assert_int_equal(suggest_best("status", cmds, 4), -1);
	assert_int_equal(suggest_best("zz", cmds, 4), -1);
	assert_int_equal(suggest_best("word", NULL, 0), -1);
}

static void test_stage_prefix_and_ties_go_to_the_first(void **state)
{
	static const char *const stages[] = { "extract", NULL, "embed", "embed" };

	(void)state;
	assert_int_equal(suggest_best("emb", stages, 4), 2);
	assert_int_equal(suggest_best("e", stages, 4), -1);   /* one letter is no prefix */
	assert_int_equal(suggest_best("embde", stages, 4), 2);
}

/* suggest_take() hands back the best name and frees every other (ASan checks) */
static void test_take_keeps_the_best_and_frees_the_rest(void **state)
{
	char **names = malloc(3 * sizeof(*names));
	char *best;

	(void)state;
	names[0] = strdup("checkout");
	names[1] = strdup("status");
	names[2] = strdup("repro");
	best = suggest_take("stauts", names, 3);
	assert_string_equal(best, "status");
	free(best);
	names = malloc(2 * sizeof(*names));
	names[0] = strdup("checkout");
	names[1] = strdup("status");
	assert_null(suggest_take("zzzzzzzzzz", names, 2));
	assert_null(suggest_take("x", NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance_counts_edits_and_swaps),
		cmocka_unit_test(test_typos_of_commands_find_them),
		cmocka_unit_test(test_far_words_and_exact_names_suggest_nothing),
		cmocka_unit_test(test_stage_prefix_and_ties_go_to_the_first),
		cmocka_unit_test(test_take_keeps_the_best_and_frees_the_rest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
