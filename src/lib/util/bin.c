/*
 * bin.c - the binary encoding of rp's private caches (see bin.h).
 */
#include "util/bin.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

void bin_put_u8(struct buf *b, unsigned v)
{
	buf_addch(b, (int)(v & 0xff));
}

void bin_put_u32(struct buf *b, uint32_t v)
{
	unsigned char c[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

	buf_add(b, c, sizeof(c));
}

void bin_put_u64(struct buf *b, uint64_t v)
{
	bin_put_u32(b, (uint32_t)v);
	bin_put_u32(b, (uint32_t)(v >> 32));
}

void bin_put_str(struct buf *b, const char *s)
{
	size_t len = s ? strlen(s) : 0;

	bin_put_u32(b, (uint32_t)len);
	buf_add(b, s ? s : "", len);
}

unsigned bin_get_u8(struct bin_reader *r)
{
	if (r->bad || r->p >= r->end) {
		r->bad = 1;
		return 0;
	}
	return *r->p++;
}

uint32_t bin_get_u32(struct bin_reader *r)
{
	uint32_t v;

	if (r->bad || r->end - r->p < 4) {
		r->bad = 1;
		return 0;
	}
	v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
	    (uint32_t)r->p[3] << 24;
	r->p += 4;
	return v;
}

uint64_t bin_get_u64(struct bin_reader *r)
{
	uint64_t lo = bin_get_u32(r);

	return lo | (uint64_t)bin_get_u32(r) << 32;
}

/* The length of the next string, checked; the caller consumes it. */
static int next_str(struct bin_reader *r, uint32_t *len)
{
	*len = bin_get_u32(r);
	if (r->bad || (size_t)(r->end - r->p) < *len || memchr(r->p, '\0', *len)) {
		r->bad = 1;
		return -1;
	}
	return 0;
}

char *bin_get_str(struct bin_reader *r)
{
	uint32_t len;
	char *s;

	if (next_str(r, &len) < 0)
		return xstrdup("");
	s = xmalloc((size_t)len + 1);
	memcpy(s, r->p, len);
	s[len] = '\0';
	r->p += len;
	return s;
}

void bin_get_strbuf(struct bin_reader *r, char *out, size_t size)
{
	uint32_t len;

	if (next_str(r, &len) < 0 || len >= size) {
		r->bad = 1;
		out[0] = '\0';
		return;
	}
	memcpy(out, r->p, len);
	out[len] = '\0';
	r->p += len;
}

size_t bin_get_count(struct bin_reader *r, size_t min)
{
	uint32_t n = bin_get_u32(r);

	if (r->bad || (min && (size_t)(r->end - r->p) / min < n)) {
		r->bad = 1;
		return 0;
	}
	return n;
}
