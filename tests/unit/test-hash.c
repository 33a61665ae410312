/*
 * test-hash.c - SHA-256 of buffers, files and many files in parallel.
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
#include <unistd.h>

#include "testlib.h"
#include "util/error.h"
#include "util/hash.h"

#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Deterministic pseudo-random bytes. */
static unsigned char *make_bytes(size_t len, unsigned seed)
{
	unsigned char *p = xmalloc(len);
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	return p;
}

static void hash_of_abc_is_the_known_digest(void **state)
{
	(void)state;
	char hex[HASH_HEX];

	hash_buf("abc", 3, hex);
	assert_string_equal(hex, ABC_SHA256);
	hash_buf("", 0, hex);
	assert_string_equal(hex, EMPTY_SHA256);
}

static void streaming_in_pieces_equals_one_shot(void **state)
{
	(void)state;
	struct hash_ctx *c = hash_begin();
	char hex[HASH_HEX];

	hash_update(c, "a", 1);
	hash_update(c, "", 0);
	hash_update(c, "bc", 2);
	hash_final(c, hex);
	assert_string_equal(hex, ABC_SHA256);
}

static void hash_file_of_a_multi_megabyte_file_equals_hash_buf(void **state)
{
	size_t len = 5 * 1024 * 1024 + 123;
	unsigned char *data = make_bytes(len, 7);
	char *path = tl_write(*state, "big", data, len);
	char a[HASH_HEX], b[HASH_HEX];
	struct rp_err err;

	assert_int_equal(hash_file(path, a, &err), 0);
	hash_buf(data, len, b);
	assert_string_equal(a, b);
	free(path);
	free(data);
}

static void hash_file_of_a_small_file_equals_hash_buf(void **state)
{
	char *path = tl_write(*state, "small", "abc", 3);
	char hex[HASH_HEX];
	struct rp_err err;

	assert_int_equal(hash_file(path, hex, &err), 0);
	assert_string_equal(hex, ABC_SHA256);
	free(path);
}

static void hash_file_of_a_missing_file_names_it(void **state)
{
	char *path = xasprintf("%s/nope", (char *)*state);
	char hex[HASH_HEX];
	struct rp_err err = { 0 };

	assert_int_equal(hash_file(path, hex, &err), -1);
	assert_int_equal(err.kind, RP_ERR_IO);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "No such file or directory"));
	free(path);
}

static void hash_file_of_files_around_the_threaded_size_equals_hash_buf(void **state)
{
	/* at, just above and well above HASH_BIG_FILE; a whole number of blocks and not */
	const size_t sizes[] = {
		HASH_BIG_FILE, HASH_BIG_FILE + 1, 20 << 20, (20 << 20) + 12345,
	};
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	unsigned char *data = make_bytes(sizes[N - 1], 11);
	char *paths[N];
	char hex[N][HASH_HEX];
	struct rp_err err;
	size_t i;

	for (i = 0; i < N; i++) {
		char name[32], a[HASH_HEX], b[HASH_HEX];

		snprintf(name, sizeof(name), "big%zu", i);
		paths[i] = tl_write(*state, name, data, sizes[i]);
		assert_int_equal(hash_file(paths[i], a, &err), 0);
		hash_buf(data, sizes[i], b);
		assert_string_equal(a, b);
		strcpy(hex[i], a);
	}
	/* two big files at once: a reader thread under each pool thread */
	{
		char par[2][HASH_HEX];

		assert_int_equal(hash_files((const char *const *)paths + N - 2, 2, par, 2, &err), 0);
		assert_string_equal(par[0], hex[N - 2]);
		assert_string_equal(par[1], hex[N - 1]);
	}
	for (i = 0; i < N; i++) {
		assert_int_equal(unlink(paths[i]), 0);
		free(paths[i]);
	}
	free(data);
}

static void hash_file_of_a_directory_names_it(void **state)
{
	char hex[HASH_HEX];
	struct rp_err err = { 0 };

	assert_int_equal(hash_file(*state, hex, &err), -1);
	assert_int_equal(err.kind, RP_ERR_IO);
	assert_non_null(strstr(err.msg, (char *)*state));
	assert_non_null(strstr(err.msg, "Is a directory"));
}

static void hash_files_in_parallel_equals_serial(void **state)
{
	enum { N = 37 };
	char *paths[N];
	char par[N][HASH_HEX], ser[N][HASH_HEX];
	struct rp_err err;
	size_t i;

	for (i = 0; i < N; i++) {
		size_t len = (i * 7919) % 300000 + (i % 3 ? 0 : 2 * 1024 * 1024);
		unsigned char *data = make_bytes(len, (unsigned)i);
		char name[32];

		snprintf(name, sizeof(name), "f%zu", i);
		paths[i] = tl_write(*state, name, data, len);
		free(data);
	}
	assert_int_equal(hash_files((const char *const *)paths, N, par, 4, &err), 0);
	assert_int_equal(hash_files((const char *const *)paths, N, ser, 1, &err), 0);
	for (i = 0; i < N; i++) {
		char one[HASH_HEX];

		assert_string_equal(par[i], ser[i]);
		assert_int_equal(hash_file(paths[i], one, &err), 0);
		assert_string_equal(par[i], one);
	}
	/* 0 threads means all cores; more threads than files is fine */
	assert_int_equal(hash_files((const char *const *)paths, 2, par, 0, &err), 0);
	assert_int_equal(hash_files((const char *const *)paths, 2, par, 64, &err), 0);
	assert_string_equal(par[1], ser[1]);
	for (i = 0; i < N; i++)
		free(paths[i]);
}

static void hash_files_reports_the_first_failing_path(void **state)
{
	char *ok = tl_write(*state, "ok", "abc", 3);
	char *missing = xasprintf("%s/missing", (char *)*state);
	const char *paths[] = { ok, missing, ok, ok };
	char hex[4][HASH_HEX];
	struct rp_err err = { 0 };

	assert_int_equal(hash_files(paths, 4, hex, 3, &err), -1);
	assert_non_null(strstr(err.msg, missing));
	assert_int_equal(hash_files(paths, 0, hex, 3, &err), 0);
	free(ok);
	free(missing);
}

static void hash_ncores_is_at_least_one(void **state)
{
	(void)state;
	assert_true(hash_ncores() >= 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, tl_dir_setup, tl_dir_teardown)
		cmocka_unit_test(hash_of_abc_is_the_known_digest),
		cmocka_unit_test(streaming_in_pieces_equals_one_shot),
		T(hash_file_of_a_multi_megabyte_file_equals_hash_buf),
		T(hash_file_of_a_small_file_equals_hash_buf),
		T(hash_file_of_a_missing_file_names_it),
		T(hash_file_of_files_around_the_threaded_size_equals_hash_buf),
		T(hash_file_of_a_directory_names_it),
		T(hash_files_in_parallel_equals_serial),
		T(hash_files_reports_the_first_failing_path),
		cmocka_unit_test(hash_ncores_is_at_least_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
