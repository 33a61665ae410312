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

#include "ai/embed_openai.h"
#include "util/buf.h"
#include "util/error.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_good_answer_is_put_in_index_order),
		cmocka_unit_test(a_wrong_count_is_refused),
		cmocka_unit_test(a_bad_index_is_refused),
		cmocka_unit_test(a_non_numeric_value_is_refused),
		cmocka_unit_test(an_error_object_is_refused_and_described),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
