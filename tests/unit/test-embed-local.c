/*
 * test-embed-local.c - the "rp-lexical-v1" embedder: deterministic, unit
 * length, and good enough that similar texts are close and unrelated texts
 * far apart; plus the embedding cache key that goes with it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ai/embcache.h"
#include "ai/embed_local.h"
#include "util/error.h"
#include "util/hash.h"

#define D EMBED_LOCAL_DIM

static float *emb(const char *text, unsigned dim)
{
	float *v = xmalloc(dim * sizeof(float));

	embed_local(text, strlen(text), v, dim);
	return v;
}

static double sim(const char *a, const char *b)
{
	float *x = emb(a, D), *y = emb(b, D);
	double c = embed_cosine(x, y, D);

	free(x);
	free(y);
	return c;
}

static void the_same_text_gives_the_same_bytes(void **state)
{
	(void)state;
	const char *t = "Content addressing everywhere: identity comes from the fingerprint.";
	float *a = emb(t, D), *b = emb(t, D);

	assert_memory_equal(a, b, D * sizeof(float));
	free(a);
	free(b);
}

static void vectors_have_unit_length(void **state)
{
	(void)state;
	const char *texts[] = { "a b c d", "Embedding caches save money.", "ünïcödé wörds äre wörds",
				"x", "1234 5678" };

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		float *v = emb(texts[i], D);
		double n = 0;

		for (unsigned k = 0; k < D; k++) {
			assert_true(isfinite(v[k]));
			n += (double)v[k] * v[k];
		}
		assert_true(fabs(sqrt(n) - 1.0) < 1e-5);
		free(v);
	}
}

static void a_text_without_words_is_the_zero_vector(void **state)
{
	(void)state;
	const char *texts[] = { "", "  ,;- !? ", "the of and" };

	for (size_t i = 0; i < 3; i++) {
		float *v = emb(texts[i], D);

		for (unsigned k = 0; k < D; k++)
			assert_true(v[k] == 0.0f);
		free(v);
	}
}

static void case_and_punctuation_do_not_matter(void **state)
{
	(void)state;
	assert_true(sim("Hello, World!", "hello world") > 0.999);
}

static void similar_texts_are_close_and_unrelated_far(void **state)
{
	(void)state;
	double near1 = sim("How do I cache embedding vectors between pipeline runs?",
			   "Caching the embedding vectors of a pipeline between runs saves API calls.");
	double near2 = sim("The river flooded the valley after the storm.",
			   "After a storm, the river flooded the whole valley.");
	double morph = sim("retrieval", "retrieving");
	double far1 = sim("How do I cache embedding vectors between pipeline runs?",
			  "The orchestra played a violin concerto in the old castle.");
	double far2 = sim("The river flooded the valley after the storm.",
			  "Compile the library with optimisation flags enabled.");

	printf("# near %.3f %.3f morph %.3f far %.3f %.3f\n", near1, near2, morph, far1, far2);
	assert_true(near1 > 0.3);
	assert_true(near2 > 0.6);
	assert_true(morph > 0.2);      /* character n-grams share the stem */
	assert_true(fabs(far1) < 0.12);
	assert_true(fabs(far2) < 0.12);
}

static void retrieval_ranks_the_relevant_document_first(void **state)
{
	(void)state;
	const char *docs[] = {
		"Stages run only when the hash of their command, inputs and parameters changed.",
		"The embedding cache is keyed by the hash of the model and the embedded text.",
		"Deleted documents leave tombstones so the index forgets them.",
		"Recall at k and nDCG measure the quality of an index on an evaluation set.",
	};
	const char *queries[] = {
		"when does a stage run again",
		"what is the key of the embedding cache",
		"how are deleted documents removed from the index",
		"which metrics evaluate an index",
	};

	for (size_t q = 0; q < 4; q++) {
		size_t best = 0;
		double bs = -2;

		for (size_t d = 0; d < 4; d++) {
			double s = sim(queries[q], docs[d]);

			if (s > bs) {
				bs = s;
				best = d;
			}
		}
		assert_int_equal(best, q);
	}
}

static void the_dimension_is_a_parameter(void **state)
{
	(void)state;
	float *v = emb("one two three four", 64);
	double n = 0;

	for (unsigned k = 0; k < 64; k++)
		n += (double)v[k] * v[k];
	assert_true(fabs(n - 1.0) < 1e-5);
	free(v);
}

static void only_the_known_model_id_is_accepted(void **state)
{
	(void)state;
	struct rp_err err = { 0 };

	assert_int_equal(embed_local_check_model("rp-lexical-v1", &err), 0);
	assert_int_equal(embed_local_check_model("text-embedding-3-small", &err), -1);
	assert_non_null(strstr(err.msg, "valid: 'rp-lexical-v1'"));
}

static void the_cache_key_depends_on_every_field_and_nothing_else(void **state)
{
	(void)state;
	unsigned char k[7][EMBCACHE_KEY];

	embcache_key("local", "m", 384, NULL, "text", 4, k[0]);
	embcache_key("local", "m", 384, NULL, "text", 4, k[1]);
	assert_memory_equal(k[0], k[1], EMBCACHE_KEY);
	embcache_key("openai", "m", 384, NULL, "text", 4, k[1]);
	embcache_key("local", "m2", 384, NULL, "text", 4, k[2]);
	embcache_key("local", "m", 128, NULL, "text", 4, k[3]);
	embcache_key("local", "m", 384, "query", "text", 4, k[4]);
	embcache_key("local", "m", 384, NULL, "text!", 5, k[5]);
	/* length prefixes: moving a byte between fields changes the key */
	embcache_key("local", "m3", 84, NULL, "text", 4, k[6]);
	for (int i = 0; i < 7; i++)
		for (int j = i + 1; j < 7; j++)
			assert_memory_not_equal(k[i], k[j], EMBCACHE_KEY);
	/* "" and NULL input type are the same request */
	embcache_key("local", "m", 384, "", "text", 4, k[1]);
	assert_memory_equal(k[0], k[1], EMBCACHE_KEY);
}

/*
 * Golden values: rp-lexical-v1 is defined by its output. A change to the
 * features, the hashing or the weights changes these digests; it must then
 * get a new model id (embed_local.h), never a new expected value here,
 * because caches shared between versions would mix two embedding spaces.
 * The floats are hashed as IEEE-754 binary32, little-endian.
 */
static void hash_vectors(const char *const *texts, size_t n, unsigned dim, char hex[HASH_HEX])
{
	unsigned char *bytes = xmalloc(n * dim * 4);
	float *v = xmalloc(dim * sizeof(float));

	for (size_t i = 0; i < n; i++) {
		embed_local(texts[i], strlen(texts[i]), v, dim);
		for (unsigned k = 0; k < dim; k++) {
			uint32_t u;

			memcpy(&u, &v[k], 4);
			for (int b = 0; b < 4; b++)
				bytes[(i * dim + k) * 4 + b] = (unsigned char)(u >> (8 * b));
		}
	}
	hash_buf(bytes, n * dim * 4, hex);
	free(v);
	free(bytes);
}

static void the_model_rp_lexical_v1_never_changes(void **state)
{
	(void)state;
	static const char *const texts[] = {
		"Content addressing everywhere: identity comes from the fingerprint.",
		"The quick brown fox jumps over the lazy dog",
		"ünïcödé wörds äre wörds, 1234 5678",
		"",
		"x",
	};
	char hex[HASH_HEX];

	hash_vectors(texts, sizeof(texts) / sizeof(*texts), D, hex);
	assert_string_equal(hex, "cc90c0eae9123db5fd6f49b66e079446dcd2eaa96167b26d363b9d766edc4525");
	hash_vectors(texts, sizeof(texts) / sizeof(*texts), 64, hex);
	assert_string_equal(hex, "4fe4057d540b1e92325ceb8c45ecf9bd4d30b7a9d10d5fd3bdadb08b525e6f93");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_same_text_gives_the_same_bytes),
		cmocka_unit_test(vectors_have_unit_length),
		cmocka_unit_test(a_text_without_words_is_the_zero_vector),
		cmocka_unit_test(case_and_punctuation_do_not_matter),
		cmocka_unit_test(similar_texts_are_close_and_unrelated_far),
		cmocka_unit_test(retrieval_ranks_the_relevant_document_first),
		cmocka_unit_test(the_dimension_is_a_parameter),
		cmocka_unit_test(only_the_known_model_id_is_accepted),
		cmocka_unit_test(the_cache_key_depends_on_every_field_and_nothing_else),
		cmocka_unit_test(the_model_rp_lexical_v1_never_changes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
