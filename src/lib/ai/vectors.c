/*
 * vectors.c - writing and reading vectors.rpv (the layout is in vectors.h).
 *
 * The encoder writes fields in a fixed order with explicit little-endian
 * integers and floats, so equal records give equal bytes on any host. The
 * decoder trusts nothing: every length is checked against the bytes left
 * before it is used, the trailer digest must match, every float must be
 * finite and every chunk id unique. Invariant: rpv_decode(rpv_encode(v))
 * gives back v exactly. rpv_map_open() reads a file in place for a reader
 * that needs few of its vectors (rp-index update): the same header and
 * record bounds checks, no copy, and each vector checked when it is read.
 */
#include "ai/vectors.h"
#include "util/buf.h"
#include "util/hmap.h"
#include "util/fs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRAILER 32

void rpv_init(struct rpv *v, const char *provider, const char *model, uint32_t dim)
{
	memset(v, 0, sizeof(*v));
	v->provider = xstrdup(provider ? provider : "");
	v->model = xstrdup(model ? model : "");
	v->dim = dim;
}

void rpv_release(struct rpv *v)
{
	for (size_t i = 0; i < v->count; i++)
		free(v->ids[i]);
	free(v->ids);
	free(v->hashes);
	free(v->vecs);
	free(v->provider);
	free(v->model);
	memset(v, 0, sizeof(*v));
}

static void grow(struct rpv *v, size_t need)
{
	size_t n;

	if (need <= v->alloc)
		return;
	n = v->alloc ? v->alloc * 2 : 64;
	if (n < need)
		n = need;
	v->ids = xrealloc(v->ids, n * sizeof(*v->ids));
	v->hashes = xrealloc(v->hashes, n * sizeof(*v->hashes));
	v->vecs = xrealloc(v->vecs, n * (size_t)v->dim * sizeof(float) + 1);
	v->alloc = n;
}

void rpv_reserve(struct rpv *v, size_t n)
{
	grow(v, n);
}

size_t rpv_add(struct rpv *v, const char *id, const char *content_hash, const float *vec)
{
	size_t i = v->count;

	grow(v, i + 1);
	v->ids[i] = xstrdup(id);
	snprintf(v->hashes[i], HASH_HEX, "%s", content_hash);
	if (v->dim)
		memcpy(rpv_vec(v, i), vec, v->dim * sizeof(float));
	v->count++;
	return i;
}

/* ---- encoding ------------------------------------------------------------ */

static void put_u16(struct buf *b, uint16_t x)
{
	unsigned char p[2] = { x & 0xff, x >> 8 };

	buf_add(b, p, 2);
}

static void put_u32(struct buf *b, uint32_t x)
{
	unsigned char p[4] = { x & 0xff, (x >> 8) & 0xff, (x >> 16) & 0xff, x >> 24 };

	buf_add(b, p, 4);
}

static void put_u64(struct buf *b, uint64_t x)
{
	put_u32(b, (uint32_t)x);
	put_u32(b, (uint32_t)(x >> 32));
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Parses 64 lowercase hex digits into 32 bytes; 0 or -1. */
static int unhex(const char *hex, unsigned char out[32])
{
	for (int i = 0; i < 32; i++) {
		int hi = hexval((unsigned char)hex[2 * i]), lo;

		if (hi < 0)
			return -1;
		lo = hexval((unsigned char)hex[2 * i + 1]);
		if (lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return hex[64] ? -1 : 0;
}

static void tohex(const unsigned char in[32], char out[HASH_HEX])
{
	static const char d[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[64] = '\0';
}

static void digest(const void *data, size_t len, unsigned char out[32])
{
	char hex[HASH_HEX];

	hash_buf(data, len, hex);
	unhex(hex, out);
}

static unsigned char *le32(unsigned char *p, uint32_t x)
{
	p[0] = x & 0xff;
	p[1] = (x >> 8) & 0xff;
	p[2] = (x >> 16) & 0xff;
	p[3] = x >> 24;
	return p + 4;
}

int rpv_encode(const struct rpv *v, struct buf *out, struct rp_err *err)
{
	size_t start = out->len, plen = strlen(v->provider), mlen = strlen(v->model), total;
	unsigned char d[32], *p;

	if ((!v->dim && v->count) || v->dim > RPV_MAX_DIM)
		return rp_err_set(err, RP_ERR_INPUT, "invalid vector dimension %u (expected 1..%u)",
				  v->dim, RPV_MAX_DIM);
	if (plen > 65535 || mlen > 65535)
		return rp_err_set(err, RP_ERR_INPUT, "provider or model name longer than 65535 bytes");
	total = 24 + plen + mlen + TRAILER;
	for (size_t i = 0; i < v->count; i++) {
		size_t l = strlen(v->ids[i]);
		const float *x = rpv_vec(v, i);

		if (!l || l > RPV_MAX_ID)
			return rp_err_set(err, RP_ERR_INPUT, "chunk id of record %zu is empty or too long", i + 1);
		if (unhex(v->hashes[i], d) < 0)
			return rp_err_set(err, RP_ERR_INPUT, "chunk '%s': content_hash is not 64 lowercase hex digits",
					  v->ids[i]);
		for (uint32_t j = 0; j < v->dim; j++)
			if (!isfinite(x[j]))
				return rp_err_set(err, RP_ERR_INPUT, "chunk '%s': component %u is not finite",
						  v->ids[i], j);
		total += 4 + l + 32 + 4 * (size_t)v->dim;
	}
	buf_add(out, RPV_MAGIC, 4);
	put_u32(out, RPV_VERSION);
	put_u32(out, v->dim);
	put_u64(out, v->count);
	put_u16(out, (uint16_t)plen);
	buf_add(out, v->provider, plen);
	put_u16(out, (uint16_t)mlen);
	buf_add(out, v->model, mlen);
	/* the records, written in place: checked above, sized exactly */
	buf_grow(out, total - (out->len - start));
	p = (unsigned char *)out->s + out->len;
	for (size_t i = 0; i < v->count; i++) {
		size_t l = strlen(v->ids[i]);
		const float *x = rpv_vec(v, i);

		p = le32(p, (uint32_t)l);
		memcpy(p, v->ids[i], l);
		p += l;
		unhex(v->hashes[i], p);
		p += 32;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		memcpy(p, x, 4 * (size_t)v->dim);
		p += 4 * (size_t)v->dim;
#else
		for (uint32_t j = 0; j < v->dim; j++) {
			uint32_t u;

			memcpy(&u, &x[j], 4);
			p = le32(p, u);
		}
#endif
	}
	out->len = (size_t)((char *)p - out->s);
	out->s[out->len] = '\0';
	digest(out->s + start, out->len - start, d);
	buf_add(out, d, 32);
	if (out->len - start != total)
		BUG("rpv_encode: wrote %zu bytes, expected %zu", out->len - start, total);
	return 0;
}

int rpv_write(const struct rpv *v, const char *path, struct rp_err *err)
{
	struct buf b = BUF_INIT;
	int ret = -1;

	if (rpv_encode(v, &b, err) < 0)
		goto out;
	if (fs_mkdir_parent(path, err) < 0)
		goto out;
	ret = fs_write_output(path, b.s, b.len, err);
out:
	buf_release(&b);
	return ret;
}

/* ---- decoding ------------------------------------------------------------ */

struct cur {
	const unsigned char *p;
	size_t off, len;      /* len excludes the trailer */
};

static int need(struct cur *c, size_t n)
{
	return c->len - c->off >= n;
}

static uint32_t get_u32(struct cur *c)
{
	const unsigned char *p = c->p + c->off;

	c->off += 4;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get_u16(struct cur *c)
{
	const unsigned char *p = c->p + c->off;

	c->off += 2;
	return (uint16_t)(p[0] | p[1] << 8);
}

static char *get_str(struct cur *c, size_t n)
{
	char *s = xstrndup((const char *)c->p + c->off, n);

	c->off += n;
	return s;
}

static int check_unique(struct rpv *v, const char *name, struct rp_err *err)
{
	struct hmap m;
	int ret = 0;

	hmap_init(&m, v->count);
	for (size_t i = 0; i < v->count && !ret; i++) {
		int found;
		size_t *first = hmap_put(&m, v->ids[i], strlen(v->ids[i]), &found);

		if (found)
			ret = rp_err_set(err, RP_ERR_INPUT,
					 "%s: chunk id '%s' appears twice (records %zu and %zu)",
					 name, v->ids[i], *first + 1, i + 1);
		else
			*first = i;
	}
	hmap_free(&m);
	return ret;
}

/*
 * Checks the header of `len` bytes at `data` (named `name`): fills *c (past
 * the header, its len before the trailer), dim, count, and the provider and
 * model (caller frees). 0, or -1 + err.
 */
static int decode_header(struct cur *c, const void *data, size_t len, const char *name,
			 uint32_t *dimp, uint64_t *countp, char **providerp, char **modelp,
			 struct rp_err *err)
{
	uint32_t version, dim;
	uint64_t count;
	uint16_t l;
	char *provider, *model;

	*c = (struct cur){ data, 0, 0 };
	if (len < 4 || memcmp(data, RPV_MAGIC, 4))
		return rp_err_set(err, RP_ERR_INPUT, "%s: not a vectors file (no 'RPV1' magic)", name);
	if (len < 20 + 4 + TRAILER)
		return rp_err_set(err, RP_ERR_INPUT, "%s: truncated (%zu bytes is too short for a header)",
				  name, len);
	c->len = len - TRAILER;
	c->off = 4;
	version = get_u32(c);
	if (version != RPV_VERSION)
		return rp_err_set(err, RP_ERR_INPUT, "%s: format version %u is not supported (expected %u); "
				  "re-run rp-embed to rewrite it", name, version, RPV_VERSION);
	dim = get_u32(c);
	count = get_u32(c);
	count |= (uint64_t)get_u32(c) << 32;
	if ((!dim && count) || dim > RPV_MAX_DIM)
		return rp_err_set(err, RP_ERR_INPUT, "%s: invalid dimension %u (expected 1..%u)",
				  name, dim, RPV_MAX_DIM);
	l = get_u16(c);
	if (!need(c, l + 2))
		return rp_err_set(err, RP_ERR_INPUT, "%s: truncated in the header", name);
	provider = get_str(c, l);
	if (strlen(provider) != l) {
		free(provider);
		return rp_err_set(err, RP_ERR_INPUT, "%s: the provider name contains a NUL byte", name);
	}
	l = get_u16(c);
	if (!need(c, l)) {
		free(provider);
		return rp_err_set(err, RP_ERR_INPUT, "%s: truncated in the header", name);
	}
	model = get_str(c, l);
	if (strlen(model) != l) {
		free(provider);
		free(model);
		return rp_err_set(err, RP_ERR_INPUT, "%s: the model id contains a NUL byte", name);
	}
	*dimp = dim;
	*countp = count;
	*providerp = provider;
	*modelp = model;
	return 0;
}

int rpv_decode(struct rpv *v, const void *data, size_t len, const char *name, struct rp_err *err)
{
	struct cur c;
	unsigned char d[32];
	uint32_t dim;
	uint64_t count;
	char *provider, *model;

	memset(v, 0, sizeof(*v));
	if (decode_header(&c, data, len, name, &dim, &count, &provider, &model, err) < 0)
		return -1;
	rpv_init(v, provider, model, dim);
	free(provider);
	free(model);
	/* each record takes at least 4 + 1 + 32 + 4 * dim bytes: never trust count for memory */
	grow(v, count < len / (37 + 4 * (uint64_t)dim) ? count : len / (37 + 4 * (uint64_t)dim) + 1);
	for (size_t i = 0; i < count; i++) {
		uint32_t idlen;
		float *x;

		if (!need(&c, 4))
			goto truncated;
		grow(v, i + 1);
		idlen = get_u32(&c);
		if (!idlen || idlen > RPV_MAX_ID)
			return rp_err_set(err, RP_ERR_INPUT, "%s: record %zu at byte %zu: invalid chunk id length %u",
					  name, i + 1, c.off - 4, idlen);
		if (!need(&c, idlen + 32 + 4 * (size_t)dim))
			goto truncated;
		v->ids[i] = get_str(&c, idlen);
		if (strlen(v->ids[i]) != idlen) {
			v->count = i + 1;
			return rp_err_set(err, RP_ERR_INPUT, "%s: record %zu: chunk id contains a NUL byte",
					  name, i + 1);
		}
		tohex(c.p + c.off, v->hashes[i]);
		c.off += 32;
		v->count = i + 1;
		x = rpv_vec(v, i);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		memcpy(x, c.p + c.off, 4 * (size_t)dim);
		c.off += 4 * (size_t)dim;
#else
		for (uint32_t j = 0; j < dim; j++) {
			uint32_t u = get_u32(&c);

			memcpy(&x[j], &u, 4);
		}
#endif
		for (uint32_t j = 0; j < dim; j++) {
			if (!isfinite(x[j]))
				return rp_err_set(err, RP_ERR_INPUT, "%s: record %zu ('%s'): component %u is not "
						  "finite (NaN or infinity)", name, i + 1, v->ids[i], j);
		}
		continue;
truncated:
		return rp_err_set(err, RP_ERR_INPUT, "%s: truncated at byte %zu (record %zu of %llu); "
				  "the file is incomplete, re-run rp-embed", name, c.off, i + 1,
				  (unsigned long long)count);
	}
	if (c.off != c.len)
		return rp_err_set(err, RP_ERR_INPUT, "%s: %zu bytes after the %llu records that the header "
				  "announces (wrong count or corrupt file)", name, c.len - c.off,
				  (unsigned long long)count);
	digest(data, c.len, d);
	if (memcmp(d, c.p + c.len, 32))
		return rp_err_set(err, RP_ERR_INPUT, "%s: checksum mismatch: the file is corrupt; "
				  "re-run rp-embed to rewrite it", name);
	return check_unique(v, name, err);
}

int rpv_read(struct rpv *v, const char *path, struct rp_err *err)
{
	struct buf b = BUF_INIT;
	int ret;

	memset(v, 0, sizeof(*v));
	if (buf_read_file(&b, path) < 0) {
		ret = rp_err_set(err, errno == ENOENT ? RP_ERR_INPUT : RP_ERR_IO, "cannot read '%s': %s",
				 path, strerror(errno));
		buf_release(&b);
		return ret;
	}
	ret = rpv_decode(v, b.s, b.len, path, err);
	buf_release(&b);
	return ret;
}

/* ---- reading in place ------------------------------------------------------ */

void rpv_map_release(struct rpv_map *m)
{
	if (m->data && !m->owned)
		fs_unmap(m->data, m->len);
	free(m->owned);
	free(m->provider);
	free(m->model);
	free(m->recs);
	free(m->id_lens);
	memset(m, 0, sizeof(*m));
}

/* Walks the records of m->data: each one's id within the file, no NUL in it. */
static int map_records(struct rpv_map *m, const char *name, struct rp_err *err)
{
	struct cur c;
	uint64_t count;
	size_t cap;

	if (decode_header(&c, m->data, m->len, name, &m->dim, &count, &m->provider, &m->model,
			  err) < 0)
		return -1;
	/* each record takes at least 4 + 1 + 32 + 4 * dim bytes: never trust count for memory */
	cap = count < m->len / (37 + 4 * (uint64_t)m->dim) ? count
							    : m->len / (37 + 4 * (uint64_t)m->dim) + 1;
	m->recs = xmalloc((cap + 1) * sizeof(*m->recs));
	m->id_lens = xmalloc((cap + 1) * sizeof(*m->id_lens));
	for (size_t i = 0; i < count; i++) {
		uint32_t idlen;

		if (!need(&c, 4))
			goto truncated;
		idlen = get_u32(&c);
		if (!idlen || idlen > RPV_MAX_ID)
			return rp_err_set(err, RP_ERR_INPUT, "%s: record %zu at byte %zu: invalid chunk id length %u",
					  name, i + 1, c.off - 4, idlen);
		if (!need(&c, idlen + 32 + 4 * (size_t)m->dim))
			goto truncated;
		if (i >= cap)
			goto truncated;
		if (memchr(c.p + c.off, 0, idlen))
			return rp_err_set(err, RP_ERR_INPUT, "%s: record %zu: chunk id contains a NUL byte",
					  name, i + 1);
		m->recs[i] = c.p + c.off;
		m->id_lens[i] = idlen;
		m->count = i + 1;
		c.off += idlen + 32 + 4 * (size_t)m->dim;
		continue;
truncated:
		return rp_err_set(err, RP_ERR_INPUT, "%s: truncated at byte %zu (record %zu of %llu); "
				  "the file is incomplete, re-run rp-embed", name, c.off, i + 1,
				  (unsigned long long)count);
	}
	if (c.off != c.len)
		return rp_err_set(err, RP_ERR_INPUT, "%s: %zu bytes after the %llu records that the header "
				  "announces (wrong count or corrupt file)", name, c.len - c.off,
				  (unsigned long long)count);
	return 0;
}

int rpv_map_open(struct rpv_map *m, const char *path, struct rp_err *err)
{
	memset(m, 0, sizeof(*m));
	m->data = fs_map(path, &m->len);
	if (!m->data && errno)
		return rp_err_set(err, errno == ENOENT ? RP_ERR_INPUT : RP_ERR_IO, "cannot read '%s': %s",
				  path, strerror(errno));
	if (!m->data) {
		/* empty, or not a regular file: read it */
		struct buf b = BUF_INIT;

		if (buf_read_file(&b, path) < 0) {
			int ret = rp_err_set(err, errno == ENOENT ? RP_ERR_INPUT : RP_ERR_IO,
					     "cannot read '%s': %s", path, strerror(errno));

			buf_release(&b);
			return ret;
		}
		m->owned = b.s ? b.s : xmalloc(1);
		m->data = m->owned;
		m->len = b.len;
	}
	return map_records(m, path, err);
}

int rpv_map_vec(const struct rpv_map *m, size_t i, float *out, const char *name, struct rp_err *err)
{
	const unsigned char *p = m->recs[i] + m->id_lens[i] + 32;

	for (uint32_t j = 0; j < m->dim; j++) {
		uint32_t u = (uint32_t)p[4 * j] | (uint32_t)p[4 * j + 1] << 8 |
			     (uint32_t)p[4 * j + 2] << 16 | (uint32_t)p[4 * j + 3] << 24;

		memcpy(&out[j], &u, 4);
		if (!isfinite(out[j]))
			return rp_err_set(err, RP_ERR_INPUT, "%s: record %zu ('%.*s'): component %u is not "
					  "finite (NaN or infinity)", name, i + 1, (int)m->id_lens[i],
					  (const char *)m->recs[i], j);
	}
	return 0;
}
