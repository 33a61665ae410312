/*
 * test-embedder.c - the embedders (embedder.h) and the checks of the
 * OpenAI protocol's answers (embed_openai_parse): a good answer in any
 * order, and each way an answer can be wrong, refused whole with a message
 * that says what is wrong.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ai/embed_local.h"
#include "ai/embed_openai.h"
#include "ai/embedder.h"
#include "ai/llmcache.h"
#include "util/buf.h"
#include "util/error.h"
#include "testlib.h"

/* embed_openai_parse of `body` for n inputs; the message lands in err */
static int parse(const char *body, size_t n, unsigned *dim, float **out, long long *tokens,
		 struct rp_err *err)
{
	return embed_openai_parse(body, strlen(body), n, dim, out, tokens, err);
}

static void a_good_answer_is_put_in_index_order(void **state)
{
	(void)state;
	struct rp_err err = { 0 };
	unsigned dim = 0;
	float *v = NULL;
	long long tokens = 5;

	assert_int_equal(parse("{\"data\":[{\"index\":1,\"embedding\":[3,4]},"
			       "{\"index\":0,\"embedding\":[1.5,-2]}],\"usage\":{\"total_tokens\":7}}",
			       2, &dim, &v, &tokens, &err), 0);
	assert_int_equal(dim, 2);
	assert_non_null(v);
	assert_true(v[0] == 1.5f && v[1] == -2.0f && v[2] == 3.0f && v[3] == 4.0f);
	assert_int_equal(tokens, 12);
	free(v);
	/* prompt_tokens when there is no total; base64 float32 (1.0f = 0000803f) */
	dim = 1;
	assert_int_equal(parse("{\"data\":[{\"index\":0,\"embedding\":\"AACAPw==\"}],"
			       "\"usage\":{\"prompt_tokens\":3}}", 1, &dim, &v, &tokens, &err), 0);
	assert_true(v[0] == 1.0f);
	assert_int_equal(tokens, 15);
	free(v);
}

static void a_wrong_count_is_refused(void **state)
{
	(void)state;
	struct rp_err err = { 0 };
	unsigned dim = 0;
	float *v = (float *)&dim;
	long long tokens = 0;

	assert_int_equal(parse("{\"data\":[{\"index\":0,\"embedding\":[1]}]}", 2, &dim, &v, &tokens, &err),
			 -1);
	assert_null(v);
	assert_string_equal(err.msg, "the response has 1 embeddings for 2 inputs");
}

static void a_bad_index_is_refused(void **state)
{
	(void)state;
	struct rp_err err = { 0 };
	unsigned dim = 0;
	float *v;
	long long tokens = 0;

	assert_int_equal(parse("{\"data\":[{\"index\":0,\"embedding\":[1]},{\"index\":0,\"embedding\":[2]}]}",
			       2, &dim, &v, &tokens, &err), -1);
	assert_string_equal(err.msg, "data[1] of the response has index 0, seen twice");
	assert_int_equal(parse("{\"data\":[{\"index\":2,\"embedding\":[1]},{\"index\":0,\"embedding\":[2]}]}",
			       2, &dim, &v, &tokens, &err), -1);
	assert_string_equal(err.msg, "data[0] of the response has index 2, out of range");
	assert_int_equal(parse("{\"data\":[{\"index\":\"0\",\"embedding\":[1]}]}", 1, &dim, &v, &tokens,
			       &err), -1);
	assert_string_equal(err.msg, "data[0] of the response has no integer \"index\"");
	assert_null(v);
}

static void a_non_numeric_value_is_refused(void **state)
{
	(void)state;
	struct rp_err err = { 0 };
	unsigned dim = 0;
	float *v;
	long long tokens = 0;

	assert_int_equal(parse("{\"data\":[{\"index\":0,\"embedding\":[1,\"2\"]}]}", 1, &dim, &v, &tokens,
			       &err), -1);
	assert_string_equal(err.msg, "data[0].embedding[1] of the response is not a number");
	dim = 0;
	assert_int_equal(parse("{\"data\":[{\"index\":0,\"embedding\":[1e39]}]}", 1, &dim, &v, &tokens,
			       &err), -1);
	assert_string_equal(err.msg, "data[0].embedding[0] of the response is not a finite float32");
	dim = 3;
	assert_int_equal(parse("{\"data\":[{\"index\":0,\"embedding\":[1,2]}]}", 1, &dim, &v, &tokens,
			       &err), -1);
	assert_non_null(strstr(err.msg, "has 2 dimensions, expected 3"));
	assert_int_equal(parse("not json", 1, &dim, &v, &tokens, &err), -1);
	assert_non_null(strstr(err.msg, "not valid JSON"));
	assert_null(v);
	assert_int_equal(tokens, 0);
}

static void an_error_object_is_refused_and_described(void **state)
{
	(void)state;
	static const char body[] = "{\"error\":{\"message\":\"quota exceeded\",\"type\":\"x\"}}";
	struct rp_err err = { 0 };
	struct buf msg = BUF_INIT;
	unsigned dim = 0;
	float *v;
	long long tokens = 0;

	assert_int_equal(parse(body, 1, &dim, &v, &tokens, &err), -1);
	assert_string_equal(err.msg, "the response has no \"data\" array");
	embed_openai_error(body, strlen(body), &msg);
	assert_string_equal(msg.s, "quota exceeded");
	buf_reset(&msg);
	embed_openai_error("{\"error\":\"plain text\"}", 22, &msg);
	assert_string_equal(msg.s, "plain text");
	buf_release(&msg);
}

/* A sink that copies the vectors into ctx (n * dim floats) and counts its calls. */
struct collect {
	float *vecs;
	unsigned dim;
	size_t calls, got;
};

static int collect(void *ctx, size_t first, size_t n, const float *vecs, unsigned dim, struct rp_err *err)
{
	struct collect *c = ctx;

	(void)err;
	c->dim = dim;
	memcpy(c->vecs + first * dim, vecs, n * dim * sizeof(float));
	c->calls++;
	c->got += n;
	return 0;
}

static void the_local_embedder_gives_the_local_model(void **state)
{
	(void)state;
	struct embedder_params p = EMBEDDER_PARAMS_INIT;
	struct rp_err err = { 0 };
	enum { N = 1500, DIM = 32 };
	const char **texts = xmalloc(N * sizeof(*texts));
	size_t *lens = xmalloc(N * sizeof(*lens));
	struct collect c = { xcalloc(N * DIM, sizeof(float)), 0, 0, 0 };
	float want[DIM];
	struct embedder *e;

	p.model = "rp-lexical-v1";
	p.dims = DIM;
	e = embedder_open(&p, &err);
	assert_non_null(e);
	assert_string_equal(embedder_model(e), "rp-lexical-v1");
	assert_int_equal(embedder_dim(e), DIM);
	assert_false(e->ops->remote);
	for (size_t i = 0; i < N; i++) {
		texts[i] = i % 2 ? "odd words here" : "even words there";
		lens[i] = strlen(texts[i]);
	}
	assert_int_equal(embedder_embed(e, texts, lens, N, collect, &c, &err), 0);
	assert_int_equal(c.got, N);
	assert_int_equal(c.calls, 2);          /* ranges of 1024 */
	assert_int_equal(c.dim, DIM);
	embed_local(texts[1499], lens[1499], want, DIM);
	assert_memory_equal(c.vecs + 1499 * DIM, want, sizeof(want));
	embedder_free(e);
	free(c.vecs);
	free(texts);
	free(lens);
}

static void a_bad_provider_model_or_url_is_refused(void **state)
{
	(void)state;
	struct embedder_params p = EMBEDDER_PARAMS_INIT;
	struct rp_err err = { 0 };
	struct embedder *e;

	p.provider = "magic";
	p.model = "m";
	assert_null(embedder_open(&p, &err));
	assert_string_equal(err.msg, "unknown provider 'magic' (expected 'local' or 'openai')");
	p.provider = "local";
	assert_null(embedder_open(&p, &err));
	assert_non_null(strstr(err.msg, "rp-lexical-v1"));
	p.provider = "openai";
	p.base_url = "ftp://example.org/v1";
	assert_null(embedder_open(&p, &err));
	assert_non_null(strstr(err.msg, "is not an http:// or https:// URL"));
	p.base_url = "http://127.0.0.1:9/v1";
	e = embedder_open(&p, &err);
	assert_non_null(e);
	assert_true(e->ops->remote);
	assert_int_equal(embedder_dim(e), 0);
	embedder_free(e);
}

static void the_llm_cache_keeps_contexts_under_a_pinned_key(void **state)
{
	(void)state;
	char *dir = tl_scratch("llmcache"), *path, *ctx, *sha, key[HASH_HEX];
	struct rp_err err = { 0 };
	struct llmcache *c;

	assert_non_null(dir);
	path = xasprintf("%s/sub/context-cache.db", dir);
	/* the key encoding is part of every shared cache: pinned */
	llmcache_key("llm@1", "m", "builtin@1", "abc", "chunk text", 10, key);
	assert_string_equal(key, "70769efeb017dffc62a6cd5f5fe0e9d0ec56d97cf44339367a856e3fa736b24f");
	c = llmcache_open(path, &err);
	assert_non_null(c);
	assert_int_equal(llmcache_get(c, key, &ctx, &sha, &err), 0);
	assert_null(ctx);
	assert_int_equal(llmcache_put(c, key, "the context", "m", "builtin@1", "p1", &err), 0);
	assert_int_equal(llmcache_get(c, key, &ctx, &sha, &err), 1);
	assert_string_equal(ctx, "the context");
	assert_string_equal(sha, "p1");
	free(ctx);
	free(sha);
	llmcache_close(c);
	free(path);
	assert_int_equal(tl_unscratch(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_good_answer_is_put_in_index_order),
		cmocka_unit_test(a_wrong_count_is_refused),
		cmocka_unit_test(a_bad_index_is_refused),
		cmocka_unit_test(a_non_numeric_value_is_refused),
		cmocka_unit_test(an_error_object_is_refused_and_described),
		cmocka_unit_test(the_local_embedder_gives_the_local_model),
		cmocka_unit_test(a_bad_provider_model_or_url_is_refused),
		cmocka_unit_test(the_llm_cache_keeps_contexts_under_a_pinned_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
