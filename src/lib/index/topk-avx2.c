/*
 * topk-avx2.c - the AVX2+FMA kernel of topk (topk-internal.h).
 *
 * The whole file is compiled for AVX2+FMA (#pragma GCC target), and only
 * runs when the CPU has both (topk.c checks supported() first).
 *
 * - f32_dot: one query against 4 rows at a time, 8 floats per step, one
 *   accumulator per row; the tail of a dimension not a multiple of 8 is
 *   added in scalar code.
 * - f32_packed: panels of 16 rows, dimension-major (topk_pack_rows); a
 *   micro-kernel keeps 6 queries x 16 rows of scores in 12 registers, and
 *   for each dimension loads the panel's two vectors once and broadcasts
 *   each query's value, so a row value is loaded once per 6 queries.
 * - i8_dot: 32 bytes per step: |q| (unsigned) times sign(q) * r (signed)
 *   through vpmaddubsw, whose pairs cannot saturate since |values| <= 127,
 *   then vpmaddwd into int32.
 */
#ifdef __clang__   /* the fuzz build (tests/fuzz/run.sh) uses clang */
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,fma")
#endif
#include <immintrin.h>

#include "index/topk-internal.h"

#define PANEL 16
#define QMAX 6

static int supported(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static inline float hsum8(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

static void f32_dot(const float *q, size_t nq, const float *rows, size_t nr, unsigned dim,
		    float *s, size_t ld)
{
	unsigned dv = dim & ~7u;

	for (size_t i = 0; i < nq; i++) {
		const float *qi = q + i * dim;
		size_t r = 0;

		for (; r + 4 <= nr; r += 4) {
			const float *a = rows + r * dim;
			__m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
			for (unsigned d = 0; d < dv; d += 8) {
				__m256 x = _mm256_loadu_ps(qi + d);
				c0 = _mm256_fmadd_ps(x, _mm256_loadu_ps(a + d), c0);
				c1 = _mm256_fmadd_ps(x, _mm256_loadu_ps(a + dim + d), c1);
				c2 = _mm256_fmadd_ps(x, _mm256_loadu_ps(a + 2 * dim + d), c2);
				c3 = _mm256_fmadd_ps(x, _mm256_loadu_ps(a + 3 * dim + d), c3);
			}
			float t[4] = { hsum8(c0), hsum8(c1), hsum8(c2), hsum8(c3) };
			for (unsigned d = dv; d < dim; d++)
				for (int k = 0; k < 4; k++)
					t[k] += qi[d] * a[k * dim + d];
			for (int k = 0; k < 4; k++)
				s[i * ld + r + k] = t[k];
		}
		for (; r < nr; r++) {
			const float *a = rows + r * dim;
			__m256 c0 = _mm256_setzero_ps();
			for (unsigned d = 0; d < dv; d += 8)
				c0 = _mm256_fmadd_ps(_mm256_loadu_ps(qi + d), _mm256_loadu_ps(a + d), c0);
			float t = hsum8(c0);
			for (unsigned d = dv; d < dim; d++)
				t += qi[d] * a[d];
			s[i * ld + r] = t;
		}
	}
}

static void f32_pack(const float *rows, size_t nr, unsigned dim, float *packed)
{
	topk_pack_rows(rows, nr, dim, PANEL, packed);
}

/* QN queries (a constant after inlining) x one panel of 16 rows. */
static inline __attribute__((always_inline)) void micro(int qn, const float *q, unsigned dim,
							const float *pp, float *s, size_t ld, size_t n)
{
	__m256 acc[QMAX][2];

#pragma GCC unroll 6
	for (int i = 0; i < qn; i++)
		acc[i][0] = acc[i][1] = _mm256_setzero_ps();
	for (unsigned d = 0; d < dim; d++) {
		__m256 b0 = _mm256_load_ps(pp + (size_t)d * PANEL);
		__m256 b1 = _mm256_load_ps(pp + (size_t)d * PANEL + 8);
#pragma GCC unroll 6
		for (int i = 0; i < qn; i++) {
			__m256 a = _mm256_broadcast_ss(q + (size_t)i * dim + d);
			acc[i][0] = _mm256_fmadd_ps(a, b0, acc[i][0]);
			acc[i][1] = _mm256_fmadd_ps(a, b1, acc[i][1]);
		}
	}
	/* masked stores: copying acc out through memory makes GCC keep it there */
	const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	__m256i k0 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), lane);
	__m256i k1 = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n - 8), lane);
#pragma GCC unroll 6
	for (int i = 0; i < qn; i++) {
		_mm256_maskstore_ps(s + i * ld, k0, acc[i][0]);
		_mm256_maskstore_ps(s + i * ld + 8, k1, acc[i][1]);
	}
}

static void f32_packed(const float *q, size_t nq, const float *packed, size_t nr, unsigned dim,
		       float *s, size_t ld)
{
	size_t np = (nr + PANEL - 1) / PANEL;

	for (size_t i0 = 0; i0 < nq; i0 += QMAX) {
		size_t qn = nq - i0 < QMAX ? nq - i0 : QMAX;
		const float *qb = q + i0 * dim;
		float *sb = s + i0 * ld;

		for (size_t p = 0; p < np; p++) {
			const float *pp = packed + p * PANEL * (size_t)dim;
			size_t n = nr - p * PANEL < PANEL ? nr - p * PANEL : PANEL;
			float *sp = sb + p * PANEL;

			switch (qn) {
			case 6: micro(6, qb, dim, pp, sp, ld, n); break;
			case 5: micro(5, qb, dim, pp, sp, ld, n); break;
			case 4: micro(4, qb, dim, pp, sp, ld, n); break;
			case 3: micro(3, qb, dim, pp, sp, ld, n); break;
			case 2: micro(2, qb, dim, pp, sp, ld, n); break;
			default: micro(1, qb, dim, pp, sp, ld, n); break;
			}
		}
	}
}

static inline int32_t hsum8i(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
	return _mm_cvtsi128_si32(s);
}

/* Exported for the AVX-512 kernel on CPUs without VNNI. */
void topk_i8_dot_avx2(const int8_t *q, size_t nq, const int8_t *rows, size_t nr, unsigned dim,
		      int32_t *s, size_t ld);

void topk_i8_dot_avx2(const int8_t *q, size_t nq, const int8_t *rows, size_t nr, unsigned dim,
		      int32_t *s, size_t ld)
{
	unsigned dv = dim & ~31u;
	const __m256i ones = _mm256_set1_epi16(1);

	for (size_t i = 0; i < nq; i++) {
		const int8_t *qi = q + i * dim;
		size_t r = 0;

		for (; r + 2 <= nr; r += 2) {
			const int8_t *a = rows + r * dim, *b = a + dim;
			__m256i c0 = _mm256_setzero_si256(), c1 = c0;
			for (unsigned d = 0; d < dv; d += 32) {
				__m256i x = _mm256_loadu_si256((const __m256i *)(qi + d));
				__m256i ax = _mm256_abs_epi8(x);
				__m256i ra = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(a + d)), x);
				__m256i rb = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)(b + d)), x);
				c0 = _mm256_add_epi32(c0, _mm256_madd_epi16(_mm256_maddubs_epi16(ax, ra), ones));
				c1 = _mm256_add_epi32(c1, _mm256_madd_epi16(_mm256_maddubs_epi16(ax, rb), ones));
			}
			int32_t t0 = hsum8i(c0), t1 = hsum8i(c1);
			for (unsigned d = dv; d < dim; d++) {
				t0 += qi[d] * a[d];
				t1 += qi[d] * b[d];
			}
			s[i * ld + r] = t0;
			s[i * ld + r + 1] = t1;
		}
		for (; r < nr; r++) {
			const int8_t *a = rows + r * dim;
			int32_t t = 0;
			for (unsigned d = 0; d < dim; d++)
				t += qi[d] * a[d];
			s[i * ld + r] = t;
		}
	}
}

static size_t at_least(const float *s, size_t n, float thr)
{
	__m256 t = _mm256_set1_ps(thr);
	size_t r = 0;

	for (; r + 8 <= n; r += 8) {
		int m = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(s + r), t, _CMP_GE_OQ));
		if (m)
			return r + (size_t)__builtin_ctz((unsigned)m);
	}
	return r + topk_at_least_portable(s + r, n - r, thr);
}

const struct topk_kernel topk_kernel_avx2 = {
	.name = "avx2",
	.supported = supported,
	.f32_dot = f32_dot,
	.panel = PANEL,
	.f32_pack = f32_pack,
	.f32_packed = f32_packed,
	.i8_dot = topk_i8_dot_avx2,
	.at_least = at_least,
};

#ifdef __clang__
#pragma clang attribute pop
#endif
