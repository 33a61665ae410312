/*
 * test-chunker.c - the chunking strategies on known texts: chunk texts,
 * counts, overlap, heading paths, units and UTF-8 boundaries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/chunker.h"

/* Chunks `text` and compares the chunk texts with the NULL-terminated `want`. */
static void check(enum chunk_strategy s, size_t size, size_t overlap, enum chunk_unit u,
		  const char *text, const char *const *want)
{
	struct chunk_params p = { s, size, overlap, u };
	struct chunk_list l;
	size_t n = 0;

	chunker_split(&p, text, strlen(text), &l);
	while (want[n])
		n++;
	for (size_t i = 0; i < l.n && i < n; i++) {
		char *got = strndup(text + l.v[i].off, l.v[i].len);

		if (strcmp(got, want[i]))
			fail_msg("chunk %zu: got '%s', want '%s'", i, got, want[i]);
		free(got);
	}
	assert_int_equal(l.n, n);
	chunk_list_release(&l);
}

static void fixed_chars_windows_step_by_size_minus_overlap(void **state)
{
	(void)state;
	const char *want[] = { "abcd", "cdef", "efgh", "ghij", NULL };

	check(CHUNK_FIXED, 4, 2, CHUNK_CHARS, "abcdefghij", want);
}

static void fixed_chars_never_cut_a_utf8_sequence(void **state)
{
	(void)state;
	/* 5 code points, 10 bytes */
	const char *want[] = { "\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa9", "\xc3\xa9", NULL };
	struct chunk_params p = { CHUNK_FIXED, 2, 0, CHUNK_CHARS };
	struct chunk_list l;

	check(CHUNK_FIXED, 2, 0, CHUNK_CHARS, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", want);
	chunker_split(&p, "\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 9, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[0].len, 6);
	assert_int_equal(l.v[1].off, 6);
	chunk_list_release(&l);
}

static void fixed_words_span_whole_words(void **state)
{
	(void)state;
	const char *want[] = { "one two\nthree", "three four  five", "five six", NULL };

	check(CHUNK_FIXED, 3, 1, CHUNK_WORDS, "one two\nthree four  five six", want);
}

static void recursive_prefers_paragraphs_then_sentences(void **state)
{
	(void)state;
	const char *text = "Alpha beta gamma.\n\nDelta epsilon. Zeta eta theta iota.";
	const char *want[] = { "Alpha beta gamma.", "Delta epsilon.", "Zeta eta theta iota.", NULL };

	check(CHUNK_RECURSIVE, 25, 0, CHUNK_CHARS, text, want);
}

static void recursive_merges_small_pieces_with_overlap(void **state)
{
	(void)state;
	const char *want[] = { "a b c d", "d e f g", "g h", NULL };

	check(CHUNK_RECURSIVE, 4, 1, CHUNK_WORDS, "a b c d e f g h", want);
}

static void recursive_splits_long_words_into_characters(void **state)
{
	(void)state;
	const char *want[] = { "abcde", "fghij", "k", NULL };

	check(CHUNK_RECURSIVE, 5, 0, CHUNK_CHARS, "abcdefghijk", want);
}

static void markdown_cuts_at_headings_and_tracks_the_path(void **state)
{
	(void)state;
	const char *text = "Intro.\n# Install\nGet it.\n## From source\nBuild it.\n"
		"```\n# code\n```\n# Usage ##\nRun it.\n";
	struct chunk_params p = { CHUNK_MARKDOWN, 100, 0, CHUNK_CHARS };
	struct chunk_list l;
	const char *want[] = { "Intro.", "Get it.", "Build it.\n```\n# code\n```", "Run it.", NULL };

	check(CHUNK_MARKDOWN, 100, 0, CHUNK_CHARS, text, want);
	chunker_split(&p, text, strlen(text), &l);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.v[0].nheadings, 0);
	assert_int_equal(l.v[1].nheadings, 1);
	assert_string_equal(l.v[1].headings[0], "Install");
	assert_int_equal(l.v[2].nheadings, 2);
	assert_string_equal(l.v[2].headings[0], "Install");
	assert_string_equal(l.v[2].headings[1], "From source");
	assert_int_equal(l.v[3].nheadings, 1);
	assert_string_equal(l.v[3].headings[0], "Usage");
	chunk_list_release(&l);
}

static void markdown_splits_a_large_section_recursively(void **state)
{
	(void)state;
	const char *want[] = { "one two three", "four five six", "seven", NULL };

	check(CHUNK_MARKDOWN, 3, 0, CHUNK_WORDS, "# H\none two three four five six seven\n", want);
}

static void sentence_packs_whole_sentences_with_overlap(void **state)
{
	(void)state;
	const char *text = "One. Two! Three? Four. \"Five.\" Six";
	const char *want[] = { "One. Two! Three?", "Three? Four. \"Five.\"", "\"Five.\" Six", NULL };

	check(CHUNK_SENTENCE, 20, 8, CHUNK_CHARS, text, want);
}

static void sentence_does_not_cut_decimals(void **state)
{
	(void)state;
	const char *want[] = { "Pi is 3.14 here.", "Yes.", NULL };

	check(CHUNK_SENTENCE, 16, 0, CHUNK_CHARS, "Pi is 3.14 here. Yes.", want);
}

static void whitespace_only_text_gives_no_chunks(void **state)
{
	(void)state;
	const char *want[] = { NULL };

	for (int s = CHUNK_FIXED; s <= CHUNK_SENTENCE; s++)
		check(s, 3, 1, CHUNK_CHARS, " \n\n\t \n", want);
	check(CHUNK_RECURSIVE, 3, 1, CHUNK_CHARS, "", want);
}

static void check_rejects_bad_sizes(void **state)
{
	(void)state;
	struct chunk_params p = { CHUNK_FIXED, 0, 0, CHUNK_CHARS };
	struct rp_err err = { 0 };

	assert_int_equal(chunker_check(&p, &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	p.size = 10;
	p.overlap = 10;
	assert_int_equal(chunker_check(&p, &err), -1);
	p.overlap = 9;
	assert_int_equal(chunker_check(&p, &err), 0);
}

static void names_and_versions_round_trip(void **state)
{
	(void)state;
	enum chunk_strategy s;
	enum chunk_unit u;

	assert_int_equal(chunker_parse_strategy("markdown", &s), 0);
	assert_int_equal(s, CHUNK_MARKDOWN);
	assert_string_equal(chunker_name(s), "markdown");
	assert_true(chunker_version(s) >= 1);
	assert_int_equal(chunker_parse_strategy("semantic", &s), -1);
	assert_int_equal(chunker_parse_unit("words", &u), 0);
	assert_string_equal(chunker_unit_name(u), "words");
	assert_int_equal(chunker_count(CHUNK_WORDS, " a  b\nc ", 8), 3);
	assert_int_equal(chunker_count(CHUNK_CHARS, "\xc3\xa9t\xc3\xa9", 5), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fixed_chars_windows_step_by_size_minus_overlap),
		cmocka_unit_test(fixed_chars_never_cut_a_utf8_sequence),
		cmocka_unit_test(fixed_words_span_whole_words),
		cmocka_unit_test(recursive_prefers_paragraphs_then_sentences),
		cmocka_unit_test(recursive_merges_small_pieces_with_overlap),
		cmocka_unit_test(recursive_splits_long_words_into_characters),
		cmocka_unit_test(markdown_cuts_at_headings_and_tracks_the_path),
		cmocka_unit_test(markdown_splits_a_large_section_recursively),
		cmocka_unit_test(sentence_packs_whole_sentences_with_overlap),
		cmocka_unit_test(sentence_does_not_cut_decimals),
		cmocka_unit_test(whitespace_only_text_gives_no_chunks),
		cmocka_unit_test(check_rejects_bad_sizes),
		cmocka_unit_test(names_and_versions_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
