/*
 * test-index.c - the index directory: segment files (round trip, hostile
 * offsets refused), index_open over what index_update writes, and the
 * logical digest, equal for an incremental and a from-scratch build, with
 * and without compaction.
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

#include "util/buf.h"
#include "testlib.h"
#include "util/error.h"
#include "util/hash.h"
#include "ai/vectors.h"
#include "index/index.h"
#include "index/manifest.h"
#include "index/segment.h"
#include "index/update.h"

#define DIM 4

/* Three rows of dimension 4, sorted by chunk_id. */
static const float vecs[3][DIM] = { { 3, 4, 0, 0 }, { 0, 0, 0, 0 }, { -1, 2, -2, 4 } };
static const char *const ids[3] = { "a#0", "a#1", "b#0" };
static const char *const texts[3] = { "alpha text", "", "beta text, longer" };
/* the line fingerprints of rows 0 and 2 (row 1 has none: zeros) */
static const unsigned char fps[3][SEG_FP] = { { 1, 2, 3 }, { 0 }, { [31] = 0xff } };

static void rows3(struct seg_in in[3], char hashes[3][HASH_HEX])
{
	for (int i = 0; i < 3; i++) {
		hash_buf(texts[i], strlen(texts[i]), hashes[i]);
		in[i] = (struct seg_in){ ids[i], strlen(ids[i]), ids[i], 1, texts[i], strlen(texts[i]),
					 hashes[i], vecs[i], NULL, 0, i == 1 ? NULL : fps[i] };
	}
}

/* The encoding of rows3(), copied to 64-byte aligned memory as a mapping would be. */
static unsigned char *encoded(size_t *len)
{
	struct seg_in in[3];
	char hashes[3][HASH_HEX];
	struct buf b = BUF_INIT;
	struct rp_err err = { 0 };
	unsigned char *p;

	rows3(in, hashes);
	assert_int_equal(segment_encode(&b, "local", "m1", DIM, in, 3, 1, &err), 0);
	*len = b.len;
	p = aligned_alloc(64, (b.len + 63) / 64 * 64);
	memcpy(p, b.s, b.len);
	buf_release(&b);
	return p;
}

static void segment_round_trips(void **state)
{
	size_t len, len2;
	unsigned char *p = encoded(&len), *q = encoded(&len2);
	struct segment s;
	struct seg_row row;
	struct rp_err err = { 0 };
	char hashes[3][HASH_HEX];
	struct seg_in in[3];

	(void)state;
	rows3(in, hashes);
	assert_int_equal(len, len2);
	assert_memory_equal(p, q, len);       /* deterministic */
	assert_int_equal(segment_parse(&s, p, len, "seg", &err), 0);
	assert_int_equal(s.rows, 3);
	assert_int_equal(s.dim, DIM);
	assert_int_equal(s.model_len, 2);
	assert_memory_equal(s.model, "m1", 2);
	assert_int_equal((uintptr_t)s.vecs % 64, 0);
	/* normalised: (3,4) -> (0.6, 0.8); the zero vector stays zero */
	assert_float_equal(s.vecs[0], 0.6f, 1e-6);
	assert_float_equal(s.vecs[1], 0.8f, 1e-6);
	assert_float_equal(s.vecs[DIM], 0.0f, 0);
	assert_float_equal(s.vecs[2 * DIM + 3], 0.8f, 1e-6);
	/* int8: max |v| maps to 127 */
	assert_int_equal(s.qvecs[1], 127);
	assert_float_equal(s.qscale[0], 0.8f / 127, 1e-6);
	for (size_t r = 0; r < 3; r++) {
		assert_int_equal(segment_row(&s, r, &row, "seg", &err), 0);
		assert_int_equal(row.chunk_id_len, strlen(ids[r]));
		assert_memory_equal(row.chunk_id, ids[r], row.chunk_id_len);
		assert_int_equal(row.text_len, strlen(texts[r]));
		assert_memory_equal(row.text, texts[r], row.text_len);
		assert_string_equal(row.content_hash, hashes[r]);
		assert_memory_equal(row.line_fp, fps[r], SEG_FP);
	}
	assert_int_equal(segment_check_trailer(&s, "seg", &err), 0);
	p[len - 40] ^= 1;                     /* a byte of the last text */
	assert_int_equal(segment_check_trailer(&s, "seg", &err), -1);
	assert_non_null(strstr(err.msg, "checksum mismatch"));
	/* unsorted rows are refused */
	{
		struct seg_in sw[2] = { in[2], in[0] };
		struct buf b = BUF_INIT;

		assert_int_equal(segment_encode(&b, "local", "m1", DIM, sw, 2, 1, &err), -1);
		buf_release(&b);
	}
	free(p);
	free(q);
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Parsing `p` (modified by the caller) fails with an RP_ERR_INPUT naming the file. */
static void refused(const unsigned char *p, size_t len)
{
	struct segment s;
	struct rp_err err = { 0 };

	assert_int_equal(segment_parse(&s, p, len, "seg-x.rps", &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(err.msg, "seg-x.rps: not a valid index segment"));
}

static void hostile_segments_are_refused(void **state)
{
	size_t len;
	unsigned char *p = encoded(&len), *c = malloc(len + 64), *a;
	uint64_t table, meta;
	struct segment s;
	struct seg_row row;
	struct rp_err err = { 0 };

	(void)state;
	a = (unsigned char *)(((uintptr_t)c + 63) & ~(uintptr_t)63);
	table = get64(p + 48);
	meta = get64(p + 56);
	for (size_t cut = 0; cut < len; cut += 7)   /* every truncation */
		refused(p, cut);
	for (int field = 16; field <= 64; field += 8) {  /* each count or offset, off by some */
		const uint64_t deltas[] = { 1, 64, (uint64_t)1 << 40, ~(uint64_t)0 };

		for (size_t d = 0; d < 4; d++) {
			memcpy(a, p, len);
			put64(a + field, get64(p + field) + deltas[d]);
			refused(a, len);
		}
	}
	memcpy(a, p, len);                          /* a row table entry past the records */
	put64(a + table + 8, get64(p + 64) + 100);
	refused(a, len);
	memcpy(a, p, len);                          /* a row table going backwards */
	put64(a + table + 16, 1);
	refused(a, len);
	memcpy(a, p, len);                          /* a provider length past the file */
	a[72] = 0xff;
	a[73] = 0xff;
	refused(a, len);
	memcpy(a, p, len);                          /* a record's inner length out of bounds */
	a[meta] = 0xff;
	a[meta + 3] = 0x7f;
	assert_int_equal(segment_parse(&s, a, len, "seg-x.rps", &err), 0);
	assert_int_equal(segment_row(&s, 0, &row, "seg-x.rps", &err), -1);
	assert_non_null(strstr(err.msg, "seg-x.rps: row 1: record out of bounds"));
	assert_int_equal(segment_row(&s, 1, &row, "seg-x.rps", &err), 0);
	free(c);
	free(p);
}

/* ---- index_update and the digest ---------------------------------------------------- */

/* corpus() writes the vectors in the reverse order of the chunks (rp-embed keeps it). */
static int reverse_vectors;

/* Writes DIR/NAME.jsonl and DIR/NAME.rpv holding docs "d0".."d<ndocs-1>" of 3 chunks each. */
static void corpus(const char *dir, const char *name, int ndocs, int edit_doc, int skip_doc)
{
	struct buf j = BUF_INIT;
	struct rpv v;
	struct rp_err err = { 0 };
	char *path;

	rpv_init(&v, "local", "m1", DIM);
	for (int d = 0; d < ndocs; d++) {
		if (d == skip_doc)
			continue;
		for (int k = 0; k < 3; k++) {
			char *id = xasprintf("d%d#%d", d, k);
			char *text = xasprintf("doc %d chunk %d%s", d, k, d == edit_doc && k == 1 ? " edited" : "");
			char h[HASH_HEX];
			float vec[DIM] = { (float)d, (float)k, 1, (float)strlen(text) };

			hash_buf(text, strlen(text), h);
			buf_addf(&j, "{\"chunk_id\":\"%s\",\"content_hash\":\"%s\",\"doc_id\":\"d%d\","
				 "\"text\":\"%s\"}\n", id, h, d, text);
			rpv_add(&v, id, h, vec);
			free(id);
			free(text);
		}
	}
	path = xasprintf("%s/%s.jsonl", dir, name);
	tl_write_path(path, j.s, j.len);
	free(path);
	if (reverse_vectors) {
		struct rpv r;

		rpv_init(&r, "local", "m1", DIM);
		for (size_t i = v.count; i-- > 0;)
			rpv_add(&r, v.ids[i], v.hashes[i], rpv_vec(&v, i));
		rpv_release(&v);
		v = r;
	}
	path = xasprintf("%s/%s.rpv", dir, name);
	assert_int_equal(rpv_write(&v, path, &err), 0);
	free(path);
	rpv_release(&v);
	buf_release(&j);
}

static void update(const char *dir, const char *index, const char *name, struct update_stats *st)
{
	struct update_opts o = UPDATE_OPTS_INIT;
	char *ix = xasprintf("%s/%s", dir, index), *c = xasprintf("%s/%s.jsonl", dir, name);
	char *v = xasprintf("%s/%s.rpv", dir, name);
	struct rp_err err = { 0 };

	o.dir = ix;
	o.chunks = c;
	o.vectors = v;
	o.no_fts = 1;
	if (index_update(&o, st, &err) < 0)
		fail_msg("%s", err.msg);
	free(ix);
	free(c);
	free(v);
}

static struct index *open_ix(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	struct index *ix;
	struct rp_err err = { 0 };

	if (index_open(&ix, p, 0, &err) < 0)
		fail_msg("%s", err.msg);
	free(p);
	return ix;
}

static void digest_is_equal_incremental_and_from_scratch(void **state)
{
	const char *dir = *state;
	struct update_stats st;
	struct index *inc, *scratch;
	struct index_row row;
	struct rp_err err = { 0 };

	corpus(dir, "v1", 10, -1, -1);
	corpus(dir, "v2", 11, 4, 7);      /* d4#1 edited, d7 deleted, d10 added */
	update(dir, "inc", "v1", &st);
	assert_int_equal(st.added, 30);
	update(dir, "inc", "v2", &st);
	assert_int_equal(st.added, 3);
	assert_int_equal(st.updated, 1);
	assert_int_equal(st.deleted, 3);
	assert_int_equal(st.unchanged, 26);
	update(dir, "inc", "v2", &st);    /* nothing to do: nothing written */
	assert_int_equal(st.committed, 0);
	assert_int_equal(st.unchanged, 30);
	reverse_vectors = 1;              /* the vectors in another order: the same index */
	corpus(dir, "v2r", 11, 4, 7);
	reverse_vectors = 0;
	update(dir, "scratch", "v2r", &st);
	assert_int_equal(st.added, 30);
	inc = open_ix(dir, "inc");
	scratch = open_ix(dir, "scratch");
	assert_string_equal(inc->digest, scratch->digest);
	assert_int_equal(inc->live, 30);
	assert_int_equal(inc->documents, 10);
	assert_int_equal(inc->tombstones, 3);
	assert_int_equal(inc->nseg, 2);
	assert_int_equal(inc->segs[0].dead_rows, 4);
	assert_int_equal(scratch->nseg, 1);
	assert_int_equal(scratch->tombstones, 0);
	/* the new segment holds the added and updated rows, sorted */
	assert_int_equal(inc->segs[1].rows, 4);
	assert_int_equal(index_row(inc, 1, 0, &row, &err), 0);
	assert_memory_equal(row.chunk_id, "d10#0", 5);
	assert_int_equal(index_row(inc, 1, 3, &row, &err), 0);
	assert_memory_equal(row.chunk_id, "d4#1", 4);
	assert_memory_equal(row.text, "doc 4 chunk 1 edited", row.text_len);
	index_close(inc);
	index_close(scratch);
}

static void compaction_keeps_the_digest(void **state)
{
	const char *dir = *state;
	struct update_stats st;
	struct index *inc, *scratch;

	/* twelve updates, each adding a document: never more than 8 segments */
	for (int n = 1; n <= 12; n++) {
		char name[16];

		snprintf(name, sizeof(name), "c%d", n);
		corpus(dir, name, n, -1, -1);
		update(dir, "inc", name, &st);
		assert_int_equal(st.added, 3);
		assert_true(st.segments <= UPDATE_MAX_SEGMENTS);
	}
	inc = open_ix(dir, "inc");
	assert_int_equal(inc->nseg, UPDATE_MAX_SEGMENTS);
	index_close(inc);
	/* deleting 5 of 12 documents leaves no segment more than 30% dead */
	corpus(dir, "few", 7, -1, -1);
	update(dir, "inc", "few", &st);
	assert_int_equal(st.deleted, 15);
	update(dir, "scratch", "few", &st);
	inc = open_ix(dir, "inc");
	scratch = open_ix(dir, "scratch");
	for (size_t s = 0; s < inc->nseg; s++)
		assert_true(inc->segs[s].dead_rows * 100 <= inc->segs[s].rows * UPDATE_MAX_DEAD_PCT);
	assert_string_equal(inc->digest, scratch->digest);
	assert_int_equal(inc->live, 21);
	index_close(inc);
	index_close(scratch);
}

static void manifest_digest_is_the_documented_hash(void **state)
{
	struct digest_row rows[2] = {
		{ "b", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "a", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	};
	const char *text = "a\tba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\tp:m@3\n"
			   "b\te3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\tp:m@3\n";
	char got[HASH_HEX], want[HASH_HEX], other[HASH_HEX];

	(void)state;
	digest_rows_sort(rows, 2);
	manifest_digest(rows, 2, "p", "m", 3, got);
	hash_buf(text, strlen(text), want);
	assert_string_equal(got, want);
	/* the same chunks and model at another dimension, or of another provider */
	manifest_digest(rows, 2, "p", "m", 4, other);
	assert_string_not_equal(got, other);
	manifest_digest(rows, 2, "q", "m", 3, other);
	assert_string_not_equal(got, other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(segment_round_trips),
		cmocka_unit_test(hostile_segments_are_refused),
		cmocka_unit_test(manifest_digest_is_the_documented_hash),
		cmocka_unit_test_setup_teardown(digest_is_equal_incremental_and_from_scratch,
						tl_dir_setup, tl_dir_teardown),
		cmocka_unit_test_setup_teardown(compaction_keeps_the_digest, tl_dir_setup,
						tl_dir_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
