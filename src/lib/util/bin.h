/*
 * bin.h - a little-endian, length-prefixed binary encoding for rp's private
 * caches (the lock image, the parsed-YAML cache). Not an interchange format:
 * each cache names its own layout and version, and readers treat any
 * malformed input as a cache miss.
 *
 * A string is a u32 length and that many bytes, without NUL; readers refuse
 * NUL bytes inside, so every decoded string is an ordinary C string.
 */
#ifndef RP_BIN_H
#define RP_BIN_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

void bin_put_u8(struct buf *b, unsigned v);
void bin_put_u32(struct buf *b, uint32_t v);
void bin_put_u64(struct buf *b, uint64_t v);
/* Writes `s` (NULL is written as ""). */
void bin_put_str(struct buf *b, const char *s);

/* Reads from [p, end); `bad` is set by the first read past the end or bad value, after which every read returns 0 or "". */
struct bin_reader {
	const unsigned char *p, *end;
	int bad;
};

unsigned bin_get_u8(struct bin_reader *r);
uint32_t bin_get_u32(struct bin_reader *r);
uint64_t bin_get_u64(struct bin_reader *r);
/* A new string (caller frees); "" after an error. */
char *bin_get_str(struct bin_reader *r);
/* Reads a string of fewer than `size` bytes into `out` (a fixed field); "" after an error. */
void bin_get_strbuf(struct bin_reader *r, char *out, size_t size);
/*
 * A count of entries that take at least `min` bytes each, or 0 with r->bad
 * set when the rest of the input cannot hold them (so a corrupt count never
 * makes the caller allocate gigabytes).
 */
size_t bin_get_count(struct bin_reader *r, size_t min);

#endif
