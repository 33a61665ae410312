/*
 * test-fts.c - the full-text tables of hybrid indexes (index/fts.h):
 * written once, read-only, dead rows skipped, any query text accepted,
 * the same rows giving the same bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testlib.h"
#include "index/fts.h"
#include "util/hash.h"

#include <stdio.h>
#include <sys/stat.h>

static const char *const texts[] = {
	"the quick brown fox jumps over the lazy dog",
	"a slow green turtle swims in the pond",
	"the fox and the turtle race; the fox sleeps",
	"nothing to see here",
};
#define NTEXTS (sizeof(texts) / sizeof(texts[0]))

static int setup(void **state)
{
	*state = tl_scratch("fts");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	return tl_unscratch(*state);
}

static char *write_table(const char *dir, const char *name)
{
	size_t lens[NTEXTS];
	struct rp_err err = { 0 };
	char *path = xasprintf("%s/%s", dir, name);

	for (size_t i = 0; i < NTEXTS; i++)
		lens[i] = strlen(texts[i]);
	if (fts_write(path, texts, lens, NTEXTS, &err) < 0)
		fail_msg("%s", err.msg);
	return path;
}

static void search(const char *path, const char *q, const uint8_t *dead, size_t limit,
		   struct fts_hit *hits, size_t *n)
{
	struct fts *f;
	struct rp_err err = { 0 };

	char **words;
	size_t nw = fts_words(q, &words);

	assert_int_equal(fts_open(&f, path, &err), 0);
	if (fts_search(f, path, (const char *const *)words, nw, NTEXTS, dead, limit, hits, n, &err) < 0)
		fail_msg("%s", err.msg);
	fts_close(f);
	for (size_t i = 0; i < nw; i++)
		free(words[i]);
	free(words);
}

static void best_match_ranks_first_and_rows_are_zero_based(void **state)
{
	char *path = write_table(*state, "a.sqlite");
	struct fts_hit hits[4];
	size_t n;

	search(path, "fox", NULL, 4, hits, &n);
	assert_int_equal(n, 2);
	assert_int_equal(hits[0].row, 2); /* "fox" twice in a shorter row */
	assert_int_equal(hits[1].row, 0);
	assert_true(hits[0].score >= hits[1].score);
	assert_true(hits[1].score > 0);
	search(path, "turtle pond", NULL, 4, hits, &n);
	assert_int_equal(n, 2);
	assert_int_equal(hits[0].row, 1);
	free(path);
}

static void dead_rows_are_skipped_and_limit_counts_live_rows(void **state)
{
	char *path = write_table(*state, "a.sqlite");
	uint8_t dead = 1u << 2;
	struct fts_hit hits[4];
	size_t n;

	search(path, "fox turtle", &dead, 1, hits, &n);
	assert_int_equal(n, 1);
	assert_true(hits[0].row == 0 || hits[0].row == 1);
	search(path, "fox", &dead, 4, hits, &n);
	assert_int_equal(n, 1);
	assert_int_equal(hits[0].row, 0);
	free(path);
}

static void query_syntax_is_never_parsed(void **state)
{
	char *path = write_table(*state, "a.sqlite");
	struct fts_hit hits[4];
	size_t n;

	search(path, "\"fox* AND (NOT) NEAR(\"", NULL, 4, hits, &n);
	assert_int_equal(n, 2); /* words: fox AND NOT NEAR */
	search(path, "?!  ()", NULL, 4, hits, &n);
	assert_int_equal(n, 0);
	free(path);
}

static void words_are_lowercased_and_syntax_free(void **state)
{
	char **w;
	size_t n = fts_words("Fox*AND \"(Turtle)\" naïve-2", &w);

	(void)state;
	assert_int_equal(n, 5);
	assert_string_equal(w[0], "fox");
	assert_string_equal(w[1], "and");
	assert_string_equal(w[2], "turtle");
	assert_string_equal(w[3], "naïve");
	assert_string_equal(w[4], "2");
	for (size_t i = 0; i < n; i++)
		free(w[i]);
	free(w);
}

static void document_counts_are_per_word(void **state)
{
	char *path = write_table(*state, "a.sqlite");
	struct fts *f;
	struct rp_err err = { 0 };
	long long df;

	assert_int_equal(fts_open(&f, path, &err), 0);
	assert_int_equal(fts_doc_freq(f, "the", &df), 0);
	assert_int_equal(df, 3);
	assert_int_equal(fts_doc_freq(f, "turtle", &df), 0);
	assert_int_equal(df, 2);
	assert_int_equal(fts_doc_freq(f, "dog", &df), 0);
	assert_int_equal(df, 1);
	assert_int_equal(fts_doc_freq(f, "absent", &df), 0);
	assert_int_equal(df, 0);
	fts_close(f);
	free(path);
}

static void same_rows_give_same_bytes(void **state)
{
	char *a = write_table(*state, "a.sqlite"), *b = write_table(*state, "b.sqlite");
	char ha[HASH_HEX], hb[HASH_HEX];
	struct rp_err err = { 0 };

	assert_int_equal(hash_file(a, ha, &err), 0);
	assert_int_equal(hash_file(b, hb, &err), 0);
	assert_string_equal(ha, hb);
	free(a);
	free(b);
}

static void reading_writes_nothing_beside_a_read_only_file(void **state)
{
	char *path = write_table(*state, "a.sqlite");
	char *wal = xasprintf("%s-wal", path), *journal = xasprintf("%s-journal", path);
	struct fts_hit hits[4];
	size_t n;

	assert_int_equal(chmod(*state, 0555), 0);
	search(path, "dog", NULL, 4, hits, &n);
	assert_int_equal(chmod(*state, 0755), 0);
	assert_int_equal(n, 1);
	assert_false(fs_exists(wal));
	assert_false(fs_exists(journal));
	free(wal);
	free(journal);
	free(path);
}

static void a_missing_file_is_an_error(void **state)
{
	struct fts *f = NULL;
	struct rp_err err = { 0 };
	char *path = xasprintf("%s/none.sqlite", (char *)*state);

	assert_int_equal(fts_open(&f, path, &err), -1);
	assert_non_null(strstr(err.msg, "none.sqlite"));
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(best_match_ranks_first_and_rows_are_zero_based, setup, teardown),
		cmocka_unit_test_setup_teardown(dead_rows_are_skipped_and_limit_counts_live_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(query_syntax_is_never_parsed, setup, teardown),
		cmocka_unit_test(words_are_lowercased_and_syntax_free),
		cmocka_unit_test_setup_teardown(document_counts_are_per_word, setup, teardown),
		cmocka_unit_test_setup_teardown(same_rows_give_same_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(reading_writes_nothing_beside_a_read_only_file, setup, teardown),
		cmocka_unit_test_setup_teardown(a_missing_file_is_an_error, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
