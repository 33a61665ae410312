/*
 * segment.c - the immutable segment files of an index: the writer
 * (segment_encode) and the structural reader (segment_parse, segment_row).
 * The format is specified in segment.h and rp-index(5).
 *
 * The reader trusts nothing: it recomputes the layout from the row count,
 * the dimension and the header strings, requires every stored offset to be
 * the computed one, checks the row table once (never decreasing, ending at
 * meta_len), and bounds-checks each record again when a row is read. All
 * size arithmetic is done after checking that it cannot overflow (the row
 * count is first bounded by the file's size).
 */
#include "index/segment.h"
#include "index/manifest.h"
#include "index/topk.h"
#include "util/hash.h"

#include <math.h>
#include <string.h>

/* ---- little-endian helpers ---------------------------------------------------- */

static void put_u16(unsigned char *p, unsigned v) { p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; }

static void put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (v >> (8 * i)) & 0xff;
}

static unsigned get_u16(const unsigned char *p) { return p[0] | (unsigned)p[1] << 8; }

static uint32_t get_u32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* the smallest record: three lengths, the content hash and the line fingerprint */
#define SEG_MIN_RECORD (4 + 4 + 32 + SEG_FP + 4)

static size_t align_up(size_t v, size_t a) { return (v + a - 1) / a * a; }

/* The offsets of a segment of `rows` x `dim` whose header strings take `strs` bytes. */
struct layout {
	size_t vec, qvec, scale, table, meta;
};

/* 1 when p[a..b) are all zero: the padding between sections, which the writer zeroes */
static int zero_pad(const unsigned char *p, size_t a, size_t b)
{
	for (; a < b; a++)
		if (p[a])
			return 0;
	return 1;
}

static void layout_of(struct layout *l, size_t rows, unsigned dim, size_t strs)
{
	l->vec = align_up(SEG_HEADER + strs, 64);
	l->qvec = l->vec + rows * dim * sizeof(float);
	l->scale = align_up(l->qvec + rows * dim, 4);
	l->table = align_up(l->scale + rows * sizeof(float), 8);
	l->meta = l->table + (rows + 1) * 8;
}

static int hex_to_raw(const char *hex, unsigned char raw[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned v = 0;

		for (int j = 0; j < 2; j++) {
			char c = hex[2 * i + j];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return -1;
		}
		raw[i] = (unsigned char)v;
	}
	return 0;
}

/* ---- writing ------------------------------------------------------------------ */

void segment_normalise(float *v, unsigned dim)
{
	double ss = 0;

	for (unsigned i = 0; i < dim; i++)
		ss += (double)v[i] * v[i];
	if (ss > 0) {
		double inv = 1.0 / sqrt(ss);

		for (unsigned i = 0; i < dim; i++)
			v[i] = (float)(v[i] * inv);
	}
}

/* Copies a vector into dst, scaled to unit norm when asked. */
static void put_vec(float *dst, const float *src, unsigned dim, int normalise)
{
	memcpy(dst, src, dim * sizeof(float));
	if (normalise)
		segment_normalise(dst, dim);
}

static void put_str32(struct buf *b, const char *s, size_t len)
{
	unsigned char n[4];

	put_u32(n, (uint32_t)len);
	buf_add(b, n, 4);
	buf_add(b, s, len);
}

/* Checks the rows' ids and order, and appends their records to meta with offsets to table. */
static int encode_meta(struct buf *meta, unsigned char *table, const struct seg_in *rows, size_t n,
		       struct rp_err *err)
{
	static const unsigned char no_fp[SEG_FP];

	for (size_t r = 0; r < n; r++) {
		const struct seg_in *in = &rows[r];
		unsigned char raw[32];

		if (!in->chunk_id_len || in->chunk_id_len > SEG_MAX_ID || in->doc_id_len > SEG_MAX_ID)
			return rp_err_set(err, RP_ERR_INPUT, "row %zu: chunk_id or doc_id empty or "
					  "longer than %u bytes", r + 1, SEG_MAX_ID);
		if (r && manifest_id_cmp(rows[r - 1].chunk_id, rows[r - 1].chunk_id_len, in->chunk_id,
					 in->chunk_id_len) >= 0) {
			const struct seg_in *p = &rows[r - 1];

			return rp_err_set(err, RP_ERR_INPUT, "row %zu: chunk_id '%.*s' is not after "
					  "'%.*s'", r + 1, (int)in->chunk_id_len, in->chunk_id,
					  (int)p->chunk_id_len, p->chunk_id);
		}
		if (hex_to_raw(in->content_hash, raw) < 0)
			return rp_err_set(err, RP_ERR_INPUT, "row %zu: content_hash is not 64 hex digits",
					  r + 1);
		put_u64(table + 8 * r, meta->len);
		put_str32(meta, in->chunk_id, in->chunk_id_len);
		put_str32(meta, in->doc_id, in->doc_id_len);
		buf_add(meta, raw, 32);
		buf_add(meta, in->line_fp ? in->line_fp : no_fp, SEG_FP);
		put_str32(meta, in->text, in->text_len);
	}
	put_u64(table + 8 * n, meta->len);
	return 0;
}

int segment_encode(struct buf *out, const char *provider, const char *model, unsigned dim,
		   const struct seg_in *rows, size_t n, int normalise, struct rp_err *err)
{
	size_t plen = strlen(provider), mlen = strlen(model), base = out->len, total;
	struct buf meta = BUF_INIT;
	struct layout l;
	unsigned char *p, digest[32];
	char hex[HASH_HEX];

	if (!dim || dim > SEG_MAX_DIM || !plen || plen > 0xffff || !mlen || mlen > 0xffff)
		return rp_err_set(err, RP_ERR_INPUT, "segment: bad dimension %u or model name", dim);
	layout_of(&l, n, dim, 4 + plen + mlen);
	buf_grow(out, l.meta + SEG_TRAILER);
	p = (unsigned char *)out->s + base;
	memset(p, 0, l.meta);
	if (encode_meta(&meta, p + l.table, rows, n, err) < 0) {
		buf_release(&meta);
		return -1;
	}
	memcpy(p, SEG_MAGIC, 8);
	put_u32(p + 8, SEG_VERSION);
	put_u32(p + 12, dim);
	put_u64(p + 16, n);
	put_u64(p + 24, l.vec);
	put_u64(p + 32, l.qvec);
	put_u64(p + 40, l.scale);
	put_u64(p + 48, l.table);
	put_u64(p + 56, l.meta);
	put_u64(p + 64, meta.len);
	put_u16(p + 72, (unsigned)plen);
	memcpy(p + 74, provider, plen);
	put_u16(p + 74 + plen, (unsigned)mlen);
	memcpy(p + 76 + plen, model, mlen);
	for (size_t r = 0; r < n; r++) {
		float *v = (float *)(p + l.vec) + r * dim;
		int8_t *q = (int8_t *)(p + l.qvec) + r * dim;
		float *sc = (float *)(p + l.scale) + r;

		put_vec(v, rows[r].vec, dim, normalise);
		if (rows[r].qvec && !normalise) {
			memcpy(q, rows[r].qvec, dim);
			memcpy(sc, &rows[r].qscale, sizeof(float));
		} else {
			float s;

			topk_quantise(v, 1, dim, q, &s);
			memcpy(sc, &s, sizeof(float));
		}
	}
	out->len = base + l.meta;
	buf_add(out, meta.s, meta.len);
	buf_release(&meta);
	total = out->len - base;
	hash_buf(out->s + base, total, hex);
	hex_to_raw(hex, digest);
	buf_add(out, digest, 32);
	return 0;
}

/* ---- reading ------------------------------------------------------------------ */

static int bad(struct rp_err *err, const char *name, const char *what)
{
	return rp_err_set(err, RP_ERR_INPUT, "%s: not a valid index segment (%s); the index is "
			  "damaged: rebuild it with 'rp-index update --rebuild'", name, what);
}

/* Checks the row table: starts at 0, never decreases, ends at meta_len. */
static int check_table(const struct segment *s, const char *name, struct rp_err *err)
{
	uint64_t prev = 0;

	if (get_u64(s->table) != 0)
		return bad(err, name, "row table does not start at 0");
	for (size_t r = 1; r <= s->rows; r++) {
		uint64_t o = get_u64(s->table + 8 * r);

		if (o < prev + SEG_MIN_RECORD || o > s->meta_len)
			return bad(err, name, "row table offset out of bounds");
		prev = o;
	}
	if (prev != s->meta_len)
		return bad(err, name, "row table does not end at the metadata's end");
	return 0;
}

int segment_parse(struct segment *s, const void *data, size_t len, const char *name,
		  struct rp_err *err)
{
	const unsigned char *p = data;
	struct layout l;
	uint64_t rows, per_row;
	size_t plen, mlen;

	memset(s, 0, sizeof(*s));
	if (len < SEG_HEADER + 4 + SEG_TRAILER || memcmp(p, SEG_MAGIC, 8))
		return bad(err, name, "no RPSEG1 magic");
	if (get_u32(p + 8) != SEG_VERSION)
		return bad(err, name, "unknown version");
	s->dim = get_u32(p + 12);
	rows = get_u64(p + 16);
	if (!s->dim || s->dim > SEG_MAX_DIM)
		return bad(err, name, "dimension out of range");
	/* each row takes 5 bytes per dimension, 4 of scale, 8 of table, 76 of record at least */
	per_row = 5ull * s->dim + 4 + 8 + SEG_MIN_RECORD;
	if (rows > len / per_row)
		return bad(err, name, "row count larger than the file");
	s->rows = (size_t)rows;
	plen = get_u16(p + 72);
	if (SEG_HEADER + 4 + plen > len)
		return bad(err, name, "header out of bounds");
	mlen = get_u16(p + 74 + plen);
	layout_of(&l, s->rows, s->dim, 4 + plen + mlen);
	if (!plen || !mlen || l.meta + SEG_TRAILER > len || memchr(p + 74, 0, plen) ||
	    memchr(p + 76 + plen, 0, mlen))
		return bad(err, name, "header out of bounds");
	if (get_u64(p + 24) != l.vec || get_u64(p + 32) != l.qvec || get_u64(p + 40) != l.scale ||
	    get_u64(p + 48) != l.table || get_u64(p + 56) != l.meta ||
	    get_u64(p + 64) != len - SEG_TRAILER - l.meta)
		return bad(err, name, "section offsets out of bounds");
	/* the same rows give the same bytes: padding other than zeroes is not ours */
	if (!zero_pad(p, SEG_HEADER + 4 + plen + mlen, l.vec) ||
	    !zero_pad(p, l.qvec + s->rows * s->dim, l.scale) ||
	    !zero_pad(p, l.scale + s->rows * sizeof(float), l.table))
		return bad(err, name, "non-zero padding between sections");
	s->data = p;
	s->len = len;
	s->provider = (const char *)p + 74;
	s->provider_len = plen;
	s->model = (const char *)p + 76 + plen;
	s->model_len = mlen;
	s->vecs = (const float *)(p + l.vec);
	s->qvecs = (const int8_t *)(p + l.qvec);
	s->qscale = (const float *)(p + l.scale);
	s->table = p + l.table;
	s->meta = p + l.meta;
	s->meta_len = len - SEG_TRAILER - l.meta;
	return check_table(s, name, err);
}

int segment_check_trailer(const struct segment *s, const char *name, struct rp_err *err)
{
	unsigned char digest[32];
	char hex[HASH_HEX];

	hash_buf(s->data, s->len - SEG_TRAILER, hex);
	hex_to_raw(hex, digest);
	if (memcmp(digest, s->data + s->len - SEG_TRAILER, 32))
		return rp_err_set(err, RP_ERR_INPUT, "%s: checksum mismatch: the segment was altered "
				  "or damaged; rebuild the index with 'rp-index update --rebuild'", name);
	return 0;
}

/* Reads a u32-prefixed string at *pos of the record [.., end); -1 when out of bounds. */
static int take_str(const unsigned char *m, size_t *pos, size_t end, const char **s, size_t *len)
{
	uint32_t n;

	if (end - *pos < 4)
		return -1;
	n = get_u32(m + *pos);
	*pos += 4;
	if (n > end - *pos)
		return -1;
	*s = (const char *)m + *pos;
	*len = n;
	*pos += n;
	return 0;
}

int segment_row(const struct segment *s, size_t r, struct seg_row *row, const char *name,
		struct rp_err *err)
{
	static const char hexd[] = "0123456789abcdef";
	size_t pos, end;
	const unsigned char *h;

	if (r >= s->rows)
		BUG("row %zu of %zu", r, s->rows);
	pos = (size_t)get_u64(s->table + 8 * r);
	end = (size_t)get_u64(s->table + 8 * (r + 1));
	if (pos > end || end > s->meta_len ||
	    take_str(s->meta, &pos, end, &row->chunk_id, &row->chunk_id_len) < 0 ||
	    take_str(s->meta, &pos, end, &row->doc_id, &row->doc_id_len) < 0 ||
	    end - pos < 32 + SEG_FP)
		goto bad_row;
	h = s->meta + pos;
	row->line_fp = s->meta + pos + 32;
	pos += 32 + SEG_FP;
	if (take_str(s->meta, &pos, end, &row->text, &row->text_len) < 0 || pos != end ||
	    !row->chunk_id_len || row->chunk_id_len > SEG_MAX_ID)
		goto bad_row;
	for (int i = 0; i < 32; i++) {
		row->content_hash[2 * i] = hexd[h[i] >> 4];
		row->content_hash[2 * i + 1] = hexd[h[i] & 15];
	}
	row->content_hash[64] = '\0';
	return 0;
bad_row:
	return rp_err_set(err, RP_ERR_INPUT, "%s: row %zu: record out of bounds or malformed; the "
			  "index is damaged: rebuild it with 'rp-index update --rebuild'", name, r + 1);
}
