/*
 * fuzz-segment.c - libFuzzer target for the index segment reader
 * (segment_parse, segment_row): an index directory is input from someone
 * else (a store, a remote, a bundle), and its segments are mapped and read
 * in place, so a hostile one must fail cleanly, never read outside the file.
 *
 * Each input is parsed twice: as it is, and with its last 32 bytes replaced
 * by the SHA-256 of the rest, so that mutations get past the trailer check.
 * The bytes are copied into a 64-byte aligned buffer, as a mapping is. A
 * segment that parses, with every row readable, must encode back to the
 * very same bytes (segment.h: the same rows always give the same bytes),
 * unless the writer refuses its rows (out of order).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "util/buf.h"
#include "index/segment.h"

static void check(const uint8_t *data, size_t size)
{
	struct rp_err err = { 0 };
	struct segment s;
	struct seg_in *in;
	struct buf b = BUF_INIT;

	if (segment_parse(&s, data, size, "seg.rps", &err) < 0) {
		if (err.kind != RP_ERR_INPUT || !err.msg[0])
			BUG("segment_parse failed without an input error");
		return;
	}
	if (segment_check_trailer(&s, "seg.rps", &err) < 0)
		return;
	in = calloc(s.rows ? s.rows : 1, sizeof(*in));
	for (size_t r = 0; r < s.rows; r++) {
		struct seg_row row;

		if (segment_row(&s, r, &row, "seg.rps", &err) < 0) {
			if (err.kind != RP_ERR_INPUT || !err.msg[0])
				BUG("segment_row failed without an input error");
			for (size_t k = 0; k < r; k++)
				free((char *)in[k].content_hash);
			free(in);
			return;
		}
		in[r] = (struct seg_in){ row.chunk_id, row.chunk_id_len, row.doc_id, row.doc_id_len,
					 row.text, row.text_len, NULL, s.vecs + r * (size_t)s.dim,
					 s.qvecs + r * (size_t)s.dim, s.qscale[r], row.line_fp };
		/* content_hash must outlive the loop: keep a copy */
		in[r].content_hash = strdup(row.content_hash);
	}
	{
		char *provider = strndup(s.provider, s.provider_len);
		char *model = strndup(s.model, s.model_len);

		/*
		 * The writer is stricter than the reader: rows out of chunk_id
		 * order parse (the order is checked by `rp-index verify`, not on
		 * every query) but do not encode. Whatever encodes must round-trip.
		 */
		if (segment_encode(&b, provider, model, s.dim, in, s.rows, 0, &err) == 0 &&
		    (b.len != size || memcmp(b.s, data, size)))
			BUG("parse/encode round trip changed %zu bytes into %zu", size, b.len);
		free(provider);
		free(model);
	}
	for (size_t r = 0; r < s.rows; r++)
		free((char *)in[r].content_hash);
	free(in);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* aligned_alloc wants a multiple of the alignment */
	uint8_t *copy = aligned_alloc(64, (size / 64 + 1) * 64);

	memcpy(copy, data, size);
	check(copy, size);
	if (size >= 32) {
		SHA256(copy, size - 32, copy + size - 32);
		check(copy, size);
	}
	free(copy);
	return 0;
}
