/*
 * test-hmap.c - util/hmap: insert, find, growth, byte keys, clear.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/hmap.h"

/* FNV-1a 64 of "a" and of "", the published test vectors. */
static void test_hash_vectors(void **state)
{
	(void)state;
	assert_true(hmap_hash("", 0) == 0xcbf29ce484222325ULL);
	assert_true(hmap_hash("a", 1) == 0xaf63dc4c8601ec8cULL);
	assert_true(hmap_hash("foobar", 6) == 0x85944171f73967e8ULL);
}

static void test_put_get_grow(void **state)
{
	enum { N = 5000 };
	static char keys[N][16];
	struct hmap m;
	int found;

	(void)state;
	hmap_init(&m, 0);
	for (size_t i = 0; i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		*hmap_put(&m, keys[i], strlen(keys[i]), &found) = i;
		assert_false(found);
	}
	assert_int_equal(m.n, N);
	assert_true(m.n * 10 <= (m.mask + 1) * 7);
	for (size_t i = 0; i < N; i++) {
		size_t *v = hmap_get_str(&m, keys[i]);

		assert_non_null(v);
		assert_int_equal(*v, i);
		assert_int_equal(*hmap_put(&m, keys[i], strlen(keys[i]), &found), i);
		assert_true(found);
	}
	assert_null(hmap_get_str(&m, "k5000"));
	assert_null(hmap_get_str(&m, "k"));
	hmap_clear(&m);
	assert_int_equal(m.n, 0);
	assert_null(hmap_get_str(&m, "k1"));
	hmap_free(&m);
}

/* Keys are bytes with a length: prefixes, NULs and the empty key are distinct. */
static void test_byte_keys(void **state)
{
	static const char buf[] = "dir/sub/file\0x";
	struct hmap m;
	int found;

	(void)state;
	hmap_init(&m, 4);
	*hmap_put(&m, buf, 3, &found) = 1;        /* "dir" */
	*hmap_put(&m, buf, 7, &found) = 2;        /* "dir/sub" */
	*hmap_put(&m, buf, 14, &found) = 3;       /* with the NUL and the x */
	*hmap_put(&m, buf, 0, &found) = 4;        /* the empty key */
	assert_false(found);
	assert_int_equal(*hmap_get(&m, "dir", 3), 1);
	assert_int_equal(*hmap_get(&m, "dir/sub", 7), 2);
	assert_int_equal(*hmap_get(&m, "dir/sub/file\0x", 14), 3);
	assert_int_equal(*hmap_get(&m, "", 0), 4);
	assert_null(hmap_get(&m, "dir/sub/file", 12));
	assert_null(hmap_get(&m, "di", 2));
	hmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_put_get_grow),
		cmocka_unit_test(test_byte_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
