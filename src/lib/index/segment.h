/*
 * segment.h - one immutable segment file of an rp index ("seg-<16hex>.rps",
 * rp-index(5)): rows of (chunk_id, doc_id, content_hash, text, vector),
 * sorted by chunk_id, with their float32 vectors contiguous and 64-byte
 * aligned, int8 copies of them with per-row scales, and a SHA-256 trailer.
 * Each row also records the SHA-256 of the chunk file line it was made
 * from (its line fingerprint), so that an update recognises an unchanged
 * line by its bytes without parsing it (update.c).
 *
 * Layout (integers little-endian; the floats are IEEE-754 binary32 in the
 * host's order, which rp requires to be little-endian):
 *
 *     offset  size  field
 *     0       8     magic "RPSEG1\0\0"
 *     8       4     u32 version (2)
 *     12      4     u32 dimension D (1 .. 65536)
 *     16      8     u64 rows N
 *     24      8     u64 vec_off    float32 vectors, N * D, 64-byte aligned
 *     32      8     u64 qvec_off   = vec_off + 4ND: int8 vectors, N * D
 *     40      8     u64 scale_off  = align4(qvec_off + ND): N float32 scales
 *     48      8     u64 table_off  = align8(scale_off + 4N): N + 1 u64 offsets
 *     56      8     u64 meta_off   = table_off + 8(N + 1): the row records
 *     64      8     u64 meta_len   = file size - 32 - meta_off
 *     72      2     u16 length P of the provider, then P bytes
 *     ..      2     u16 length M of the model id, then M bytes
 *     ..            zero bytes up to vec_off = align64(the header's end)
 *     row r's record is meta[table[r] .. table[r + 1]) (table[0] = 0,
 *     table[N] = meta_len, never decreasing):
 *             4     u32 length, then the chunk_id (UTF-8, 1 .. 2^20 bytes)
 *             4     u32 length, then the doc_id
 *             32    content_hash, raw
 *             32    line fingerprint: SHA-256 of the chunk file line, raw
 *                   (without its newline; zeros when the row was not
 *                   made from a line)
 *             4     u32 length, then the text
 *     end-32  32    SHA-256 of every byte before it
 *
 * Every offset is fixed by (N, D, P, M), so a reader recomputes the layout
 * and refuses a file whose stored offsets differ: a hostile file can make
 * segment_parse() fail, never make a reader leave the mapping. The same
 * rows always give the same bytes.
 */
#ifndef RP_INDEX_SEGMENT_H
#define RP_INDEX_SEGMENT_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"

#define SEG_MAGIC "RPSEG1\0\0"
#define SEG_VERSION 2
#define SEG_FP 32                 /* bytes of a line fingerprint */
#define SEG_MAX_DIM 65536
#define SEG_MAX_ID (1u << 20)
#define SEG_HEADER 72            /* the fixed part, before provider and model */
#define SEG_TRAILER 32

/* One row to write. Strings are borrowed, of the given lengths (no NUL needed). */
struct seg_in {
	const char *chunk_id;
	size_t chunk_id_len;
	const char *doc_id;
	size_t doc_id_len;
	const char *text;
	size_t text_len;
	const char *content_hash;  /* 64 lowercase hex */
	const float *vec;          /* dim floats */
	const int8_t *qvec;        /* dim int8 already quantised from vec, or NULL: quantise here */
	float qscale;              /* with qvec */
	const unsigned char *line_fp; /* SEG_FP raw bytes, or NULL: zeros */
};

/*
 * Appends the bytes of a segment holding rows[0..n) (which the caller has
 * sorted by chunk_id, bytewise, without duplicates) to `out`. With
 * `normalise`, each vector is scaled to unit L2 norm first (a zero vector
 * stays zero) and quantised from that (a row's qvec is then ignored).
 * 0, or -1 + err (RP_ERR_INPUT: an id too long or empty, rows unsorted).
 */
int segment_encode(struct buf *out, const char *provider, const char *model, unsigned dim,
		   const struct seg_in *rows, size_t n, int normalise, struct rp_err *err);

/* Scales v[0..dim) to unit L2 norm (as segment_encode does); a zero vector stays zero. */
void segment_normalise(float *v, unsigned dim);

/* A parsed segment: every pointer is into the caller's bytes, which must outlive it. */
struct segment {
	const unsigned char *data;
	size_t len;
	unsigned dim;
	size_t rows;
	const char *provider;      /* not NUL-terminated: provider_len bytes */
	size_t provider_len;
	const char *model;
	size_t model_len;
	const float *vecs;
	const int8_t *qvecs;
	const float *qscale;
	const unsigned char *table;/* rows + 1 little-endian u64 */
	const unsigned char *meta;
	size_t meta_len;
};

/*
 * Checks the structure of the `len` bytes at `data` (64-byte aligned, as a
 * mapping is) and fills *s. Does not hash the trailer (segment_check_trailer).
 * `name` names the file in messages. 0, or -1 + err (RP_ERR_INPUT).
 */
int segment_parse(struct segment *s, const void *data, size_t len, const char *name,
		  struct rp_err *err);

/* 0 when the trailer is the SHA-256 of the rest, else -1 + err naming `name`. */
int segment_check_trailer(const struct segment *s, const char *name, struct rp_err *err);

/* One row's metadata, borrowed from the segment's bytes (strings not NUL-terminated). */
struct seg_row {
	const char *chunk_id;
	size_t chunk_id_len;
	const char *doc_id;
	size_t doc_id_len;
	const char *text;
	size_t text_len;
	char content_hash[HASH_HEX]; /* lowercase hex, NUL-terminated */
	const unsigned char *line_fp; /* SEG_FP raw bytes, in the segment */
};

/*
 * Fills *row with row r's metadata (pointers into the segment's bytes).
 * 0, or -1 + err (RP_ERR_INPUT naming `name` and the row) when the record
 * is out of bounds or malformed.
 */
int segment_row(const struct segment *s, size_t r, struct seg_row *row, const char *name,
		struct rp_err *err);

#endif
