/*
 * test-embcache.c - the embedding cache: put then bulk lookup, persistence,
 * the model recorded with each vector, malformed rows treated as misses.
 * The bulk lookup rate over 100k vectors is a benchmark: bench/embcache-bulk.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "ai/embcache.h"
#include "testlib.h"
#include "util/error.h"

struct fx {
	char *dir, *db;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->dir = tl_scratch("embcache");
	if (!f->dir)
		return -1;
	f->db = xasprintf("%s/sub/embed-cache.db", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int ret = tl_unscratch(f->dir);

	free(f->db);
	free(f);
	return ret;
}

static void key_of(unsigned i, unsigned char key[EMBCACHE_KEY])
{
	char text[32];

	snprintf(text, sizeof(text), "text %u", i);
	embcache_key("local", "m", 4, NULL, text, strlen(text), key);
}

struct hits {
	size_t n;
	float sum;
	char model[32];
	unsigned dim;
	unsigned char *seen;
};

static int on_hit(void *ctx, size_t i, const char *provider, const char *model, unsigned dim,
		  const float *vec)
{
	struct hits *h = ctx;

	(void)provider;
	h->n++;
	h->dim = dim;
	snprintf(h->model, sizeof(h->model), "%s", model);
	if (h->seen)
		h->seen[i] = 1;
	for (unsigned k = 0; k < dim; k++)
		h->sum += vec[k];
	return 0;
}

static void put_then_lookup_finds_exactly_what_was_stored(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };
	struct embcache *c = embcache_open(f->db, &err);
	unsigned char keys[3][EMBCACHE_KEY];
	const float vecs[8] = { 1, 2, 3, 4, 10, 20, 30, 40 };
	unsigned char seen[3] = { 0 };
	struct hits h = { .seen = seen };

	assert_non_null(c);
	for (unsigned i = 0; i < 3; i++)
		key_of(i, keys[i]);
	assert_int_equal(embcache_put(c, (const unsigned char (*)[EMBCACHE_KEY])keys, 2, "local", "m", 4,
				      vecs, &err), 0);
	assert_int_equal(embcache_lookup(c, (const unsigned char (*)[EMBCACHE_KEY])keys, 3, on_hit, &h,
					 &err), 0);
	assert_int_equal(h.n, 2);
	assert_true(seen[0] && seen[1] && !seen[2]);
	assert_true(h.sum == 110.0f);
	assert_string_equal(h.model, "m");
	assert_int_equal(h.dim, 4);
	embcache_close(c);

	/* it persists, and a second lookup on one handle works too */
	c = embcache_open(f->db, &err);
	memset(&h, 0, sizeof(h));
	assert_int_equal(embcache_lookup(c, (const unsigned char (*)[EMBCACHE_KEY])keys, 3, on_hit, &h,
					 &err), 0);
	assert_int_equal(embcache_lookup(c, (const unsigned char (*)[EMBCACHE_KEY])keys, 3, on_hit, &h,
					 &err), 0);
	assert_int_equal(h.n, 4);
	embcache_close(c);
}

static void malformed_rows_are_misses(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };
	struct embcache *c = embcache_open(f->db, &err);
	unsigned char key[1][EMBCACHE_KEY];
	struct hits h = { 0 };
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_non_null(c);
	key_of(7, key[0]);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO embeddings VALUES(?, 'local', 'm', 4, x'0000')",
					    -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_blob(st, 1, key[0], EMBCACHE_KEY, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
	assert_int_equal(embcache_lookup(c, (const unsigned char (*)[EMBCACHE_KEY])key, 1, on_hit, &h,
					 &err), 0);
	assert_int_equal(h.n, 0);
	embcache_close(c);
}

static void an_unwritable_path_is_an_error(void **state)
{
	(void)state;
	struct rp_err err = { 0 };

	assert_null(embcache_open("/proc/no/such/embed-cache.db", &err));
	assert_int_equal(err.kind, RP_ERR_IO);
}

static void the_cache_key_encoding_never_changes(void **state)
{
	(void)state;
	unsigned char k[EMBCACHE_KEY];
	char hex[2 * EMBCACHE_KEY + 1];

	/* a changed encoding would orphan every cache entry, or worse, alias them;
	 * the digests were also computed apart from this code, from embcache.h */
	embcache_key("local", "rp-lexical-v1", 0, NULL, "hello world", 11, k);
	for (int i = 0; i < EMBCACHE_KEY; i++)
		snprintf(hex + 2 * i, 3, "%02x", k[i]);
	assert_string_equal(hex, "2efc027d1b07b5d81148babe73f9829b640a7ae959569aa609639cdb68a0e65b");
	embcache_key("openai", "text-embedding-3-small", 256, "query", "hello world", 11, k);
	for (int i = 0; i < EMBCACHE_KEY; i++)
		snprintf(hex + 2 * i, 3, "%02x", k[i]);
	assert_string_equal(hex, "e769c3c1e0f0139ad0d6d4f8ef07a96c510ae06ad34bd3b01f2db31e795c1099");
}

static void the_server_is_in_the_key_except_for_local_and_openai_itself(void **state)
{
	char *ns[6];
	unsigned char k[3][EMBCACHE_KEY];

	(void)state;
	ns[0] = embcache_namespace("local", "http://127.0.0.1:8080/v1");
	ns[1] = embcache_namespace("openai", "https://api.openai.com/v1");
	ns[2] = embcache_namespace("openai", "HTTPS://API.OpenAI.com/v1/");
	ns[3] = embcache_namespace("openai", "http://127.0.0.1:8080/v1");
	ns[4] = embcache_namespace("openai", "http://127.0.0.1:8081/v1");
	ns[5] = embcache_namespace("openai", "http://Gpu-Box:8080/V1/");
	/* the keys of before: the local embedder's and OpenAI's entries stay valid */
	assert_string_equal(ns[0], "local");
	assert_string_equal(ns[1], "openai");
	assert_string_equal(ns[2], "openai");
	/* another server is another model, whatever its name */
	assert_string_equal(ns[3], "openai@http://127.0.0.1:8080/v1");
	assert_string_equal(ns[4], "openai@http://127.0.0.1:8081/v1");
	assert_string_equal(ns[5], "openai@http://gpu-box:8080/V1");
	embcache_key(ns[1], "m1", 0, NULL, "hello", 5, k[0]);
	embcache_key(ns[3], "m1", 0, NULL, "hello", 5, k[1]);
	embcache_key(ns[4], "m1", 0, NULL, "hello", 5, k[2]);
	assert_memory_not_equal(k[0], k[1], EMBCACHE_KEY);
	assert_memory_not_equal(k[1], k[2], EMBCACHE_KEY);
	for (int i = 0; i < 6; i++)
		free(ns[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(put_then_lookup_finds_exactly_what_was_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_rows_are_misses, setup, teardown),
		cmocka_unit_test(an_unwritable_path_is_an_error),
		cmocka_unit_test(the_cache_key_encoding_never_changes),
		cmocka_unit_test(the_server_is_in_the_key_except_for_local_and_openai_itself),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
