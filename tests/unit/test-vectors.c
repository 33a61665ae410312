/*
 * test-vectors.c - the vectors.rpv writer and reader: exact layout, round
 * trips, determinism, and clear errors for damaged files.
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
#include <unistd.h>

#include "util/buf.h"
#include "testlib.h"
#include "util/error.h"
#include "ai/vectors.h"

#define H1 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define H2 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Two records of dimension 3. */
static void sample(struct rpv *v)
{
	const float a[3] = { 1.0f, -0.5f, 0.25f }, b[3] = { 0.0f, 2.0f, -3.0f };

	rpv_init(v, "local", "rp-lexical-v1", 3);
	rpv_add(v, "doc#0", H1, a);
	rpv_add(v, "doc#1", H2, b);
}

static void encode(const struct rpv *v, struct buf *b)
{
	struct rp_err err = { 0 };

	buf_init(b);
	assert_int_equal(rpv_encode(v, b, &err), 0);
}

static void layout_is_the_documented_one(void **state)
{
	(void)state;
	struct rpv v;
	struct buf b;
	const unsigned char *p;
	size_t rec = 4 + 5 + 32 + 12;

	sample(&v);
	encode(&v, &b);
	p = (const unsigned char *)b.s;
	assert_int_equal(b.len, 20 + 2 + 5 + 2 + 13 + 2 * rec + 32);
	assert_memory_equal(p, "RPV1", 4);
	assert_int_equal(p[4], 1);            /* version, LE */
	assert_int_equal(p[5] | p[6] | p[7], 0);
	assert_int_equal(p[8], 3);            /* dim */
	assert_int_equal(p[12], 2);           /* count */
	assert_int_equal(p[20], 5);           /* provider length */
	assert_memory_equal(p + 22, "local", 5);
	assert_int_equal(p[27], 13);
	assert_memory_equal(p + 29, "rp-lexical-v1", 13);
	p += 42;
	assert_int_equal(p[0], 5);            /* id length */
	assert_memory_equal(p + 4, "doc#0", 5);
	assert_int_equal(p[9], 0xba);         /* raw hash */
	assert_int_equal(p[40], 0xad);
	/* 1.0f = 0x3f800000 little-endian */
	assert_int_equal(p[41], 0x00);
	assert_int_equal(p[44], 0x3f);
	buf_release(&b);
	rpv_release(&v);
}

static void encode_decode_round_trips_and_is_deterministic(void **state)
{
	(void)state;
	struct rpv v, w;
	struct buf a, b;
	struct rp_err err = { 0 };

	sample(&v);
	encode(&v, &a);
	encode(&v, &b);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.s, b.s, a.len);
	assert_int_equal(rpv_decode(&w, a.s, a.len, "mem", &err), 0);
	assert_string_equal(w.provider, "local");
	assert_string_equal(w.model, "rp-lexical-v1");
	assert_int_equal(w.dim, 3);
	assert_int_equal(w.count, 2);
	assert_string_equal(w.ids[1], "doc#1");
	assert_string_equal(w.hashes[0], H1);
	assert_memory_equal(w.vecs, v.vecs, 6 * sizeof(float));
	rpv_release(&w);
	buf_release(&a);
	buf_release(&b);
	rpv_release(&v);
}

static void write_then_read_from_a_file(void **state)
{
	char *path = xasprintf("%s/sub/v.rpv", (char *)*state);
	struct rpv v, w;
	struct rp_err err = { 0 };

	sample(&v);
	assert_int_equal(rpv_write(&v, path, &err), 0);
	assert_int_equal(rpv_read(&w, path, &err), 0);
	assert_int_equal(w.count, 2);
	assert_memory_equal(w.vecs, v.vecs, 6 * sizeof(float));
	rpv_release(&w);
	rpv_release(&v);
	free(path);
	path = xasprintf("%s/missing.rpv", (char *)*state);
	assert_int_equal(rpv_read(&w, path, &err), -1);
	assert_non_null(strstr(err.msg, "cannot read"));
	rpv_release(&w);
	free(path);
}

static void decode_err(const void *data, size_t len, const char *want)
{
	struct rpv w;
	struct rp_err err = { 0 };

	assert_int_equal(rpv_decode(&w, data, len, "v.rpv", &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("message '%s' lacks '%s'", err.msg, want);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	rpv_release(&w);
}

static void truncated_files_are_named_as_such(void **state)
{
	(void)state;
	struct rpv v;
	struct buf b;

	sample(&v);
	encode(&v, &b);
	decode_err(b.s, 3, "not a vectors file");
	decode_err(b.s, 30, "truncated");
	decode_err(b.s, b.len - 40, "truncated at byte");
	decode_err("XXXX", 4, "no 'RPV1' magic");
	buf_release(&b);
	rpv_release(&v);
}

static void a_wrong_count_is_an_error(void **state)
{
	(void)state;
	struct rpv v;
	struct buf b;

	sample(&v);
	encode(&v, &b);
	b.s[12] = 3;
	decode_err(b.s, b.len, "truncated");
	b.s[12] = 1;
	decode_err(b.s, b.len, "bytes after the 1 records");
	buf_release(&b);
	rpv_release(&v);
}

static void nan_and_corruption_are_caught(void **state)
{
	(void)state;
	struct rpv v;
	struct buf b;
	uint32_t nan_bits = 0x7fc00000;
	size_t first_float = 42 + 4 + 5 + 32;

	sample(&v);
	encode(&v, &b);
	b.s[first_float + 4] ^= 1;           /* flip a bit in a vector */
	decode_err(b.s, b.len, "checksum mismatch");
	memcpy(b.s + first_float, &nan_bits, 4);
	decode_err(b.s, b.len, "component 0 is not finite");
	buf_release(&b);
	/* the writer refuses NaN too */
	rpv_vec(&v, 1)[2] = NAN;
	{
		struct rp_err err = { 0 };
		struct buf c = BUF_INIT;

		assert_int_equal(rpv_encode(&v, &c, &err), -1);
		assert_non_null(strstr(err.msg, "not finite"));
		buf_release(&c);
	}
	rpv_release(&v);
}

static void duplicate_ids_are_rejected(void **state)
{
	(void)state;
	struct rpv v;
	struct buf b;
	const float a[3] = { 1, 2, 3 };

	rpv_init(&v, "local", "m", 3);
	rpv_add(&v, "x", H1, a);
	rpv_add(&v, "x", H2, a);
	encode(&v, &b);
	decode_err(b.s, b.len, "chunk id 'x' appears twice (records 1 and 2)");
	buf_release(&b);
	rpv_release(&v);
}

static void an_empty_set_round_trips(void **state)
{
	(void)state;
	struct rpv v, w;
	struct buf b;
	struct rp_err err = { 0 };

	rpv_init(&v, "openai", "m", 0);
	encode(&v, &b);
	assert_int_equal(rpv_decode(&w, b.s, b.len, "mem", &err), 0);
	assert_int_equal(w.count, 0);
	rpv_release(&w);
	buf_release(&b);
	rpv_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_is_the_documented_one),
		cmocka_unit_test(encode_decode_round_trips_and_is_deterministic),
		cmocka_unit_test_setup_teardown(write_then_read_from_a_file, tl_dir_setup, tl_dir_teardown),
		cmocka_unit_test(truncated_files_are_named_as_such),
		cmocka_unit_test(a_wrong_count_is_an_error),
		cmocka_unit_test(nan_and_corruption_are_caught),
		cmocka_unit_test(duplicate_ids_are_rejected),
		cmocka_unit_test(an_empty_set_round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
