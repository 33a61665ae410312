/*
 * topk-internal.h - the kernel table behind topk.h (topk.c, topk-avx2.c,
 * topk-avx512.c), and the test hooks that force a kernel.
 *
 * A kernel computes blocks of scores; topk.c does everything else (threads,
 * chunking rows so they stay in cache, dead rows, the bounded selection,
 * the int8 re-rank). Scores of query i and row r go to s[i * ld + r].
 *
 * - f32_dot: nq queries against nr contiguous rows (no preparation); used
 *   for small batches and for re-ranking.
 * - f32_pack / f32_packed (optional, NULL in the portable kernel): the
 *   register-blocked path for batches. f32_pack copies nr rows into panels
 *   of `panel` rows stored dimension-major (panel p, dimension d: `panel`
 *   floats, zero past nr) in a buffer of f32_pack_floats() floats;
 *   f32_packed then computes a block of queries against the panels.
 * - i8_dot: raw int32 inner products of int8 queries and int8 rows
 *   (symmetric, values in [-127, 127]).
 * - i8_packed (optional): the same for batches, on rows that
 *   topk_pack_i8() packed into panels of `i8_panel` rows: per group of 4
 *   dimensions, `i8_panel` x 4 bytes, each byte flipped to r + 128 (xor
 *   0x80, so vpdpbusd can take it as unsigned), padding 0x80; queries
 *   given with a stride of topk_dim4(dim) bytes, zero past dim, with the
 *   sum of each query's bytes (qsum). It writes
 *   the approximate float scores, raw * qscale[i] * rscale[r].
 */
#ifndef RP_INDEX_TOPK_INTERNAL_H
#define RP_INDEX_TOPK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

struct topk_kernel {
	const char *name;
	int (*supported)(void);
	void (*f32_dot)(const float *q, size_t nq, const float *rows, size_t nr, unsigned dim,
			float *s, size_t ld);
	unsigned panel;
	void (*f32_pack)(const float *rows, size_t nr, unsigned dim, float *packed);
	void (*f32_packed)(const float *q, size_t nq, const float *packed, size_t nr, unsigned dim,
			   float *s, size_t ld);
	void (*i8_dot)(const int8_t *q, size_t nq, const int8_t *rows, size_t nr, unsigned dim,
		       int32_t *s, size_t ld);
	unsigned i8_panel;
	int (*i8_packed_ok)(void);   /* NULL: i8_packed runs wherever the kernel does */
	void (*i8_packed)(const int8_t *q, const int32_t *qsum, const float *qscale, size_t nq,
			  const int8_t *packed, const float *rscale, size_t nr, unsigned dim, float *s,
			  size_t ld);
	/* The index of the first of s[0..n) that is >= thr (not NaN), or n. */
	size_t (*at_least)(const float *s, size_t n, float thr);
};

extern const struct topk_kernel topk_kernel_portable;
extern const struct topk_kernel topk_kernel_avx2;
extern const struct topk_kernel topk_kernel_avx512;

/* Floats a packed copy of nr rows takes with panels of `panel` rows. */
static inline size_t topk_pack_floats(size_t nr, unsigned dim, unsigned panel)
{
	return (nr + panel - 1) / panel * panel * (size_t)dim;
}

/* Portable packing (any panel width); the SIMD kernels may use it. */
void topk_pack_rows(const float *rows, size_t nr, unsigned dim, unsigned panel, float *packed);

size_t topk_at_least_portable(const float *s, size_t n, float thr);

/* dim rounded up to a multiple of 4: the int8 packed layout's row length. */
static inline unsigned topk_dim4(unsigned dim)
{
	return (dim + 3) & ~3u;
}

/* Packs nr int8 rows for i8_packed (layout above); panel * topk_dim4(dim) bytes per panel. */
void topk_pack_i8(const int8_t *rows, size_t nr, unsigned dim, unsigned panel, int8_t *packed);

/*
 * Tests and benchmarks: forget the chosen kernel, so that the next
 * topk_init() reads RP_TOPK_KERNEL again. Not thread-safe: call it when no
 * search runs.
 */
void topk_reset(void);

#endif
