/*
 * topk-avx512.c - the AVX-512 kernel of topk (topk-internal.h).
 *
 * Compiled for AVX-512F/BW/VL/VNNI + AVX2/FMA (#pragma GCC target); runs
 * only when the CPU has AVX-512F, BW, VL, AVX2 and FMA (supported()). The
 * VNNI instructions run only when the CPU has AVX512_VNNI; without it the
 * int8 scan is the AVX2 one.
 *
 * - f32_dot (single queries, re-ranking): one query against 8 rows at a
 *   time, 16 floats per step with 8 independent accumulators; the
 *   dimension's tail is a masked load. The 8 sums come out of a transposing
 *   reduction (4 accumulators -> one 128-bit vector of 4 sums).
 * - f32_packed (batches): panels of 32 rows stored dimension-major
 *   (topk_pack_rows). The micro-kernel holds 12 queries x 32 rows of scores
 *   in 24 zmm registers; per dimension it loads the panel's 2 vectors once
 *   and broadcasts each query's value: 24 FMAs per 2 vector loads, no
 *   horizontal sums, the panel read from L1/L2 once per 12 queries.
 * - i8_packed (batches, VNNI): panels of 32 int8 rows in groups of 4
 *   dimensions (topk_pack_i8, bytes already flipped to r + 128); 12 queries
 *   x 32 rows of int32 sums in 24 registers, per group 2 loads, 12
 *   broadcasts of 4 query bytes and 24 vpdpbusd.
 * - i8_dot: 4 queries x 4 rows, 64 bytes per step through vpdpbusd. The
 *   instruction multiplies unsigned by signed bytes, so each row byte is
 *   flipped to r + 128 (xor 0x80, once per row load, shared by the 4
 *   queries) and 128 * sum(q) is subtracted from each query's sums.
 */
#ifdef __clang__   /* the fuzz build (tests/fuzz/run.sh) uses clang */
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")
#endif
#include <immintrin.h>

#include "index/topk-internal.h"

#define PANEL 32
/* vpdpbusd on __v16si: GCC keeps an __m512i accumulator array on the stack */
#ifdef __clang__
#define DPBUSD(a, b, c) ((__v16si)_mm512_dpbusd_epi32((__m512i)(a), (__m512i)(b), (__m512i)(c)))
#else
#define DPBUSD(a, b, c) __builtin_ia32_vpdpbusd_v16si(a, b, c)
#endif
#define QMAX 12
#define PF_I8_ROWS 32     /* int8 rows prefetched ahead (the pattern defeats the hardware) */

void topk_i8_dot_avx2(const int8_t *q, size_t nq, const int8_t *rows, size_t nr, unsigned dim,
		      int32_t *s, size_t ld);

static int have_vnni;

static int supported(void)
{
	__builtin_cpu_init();
	if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
	      __builtin_cpu_supports("fma")))
		return 0;
	have_vnni = __builtin_cpu_supports("avx512vnni");
	return 1;
}

/* The sums of a, b, c, d, in that order. */
static inline __m128 hsum4(__m512 a, __m512 b, __m512 c, __m512 d)
{
	__m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
	__m512 cd = _mm512_add_ps(_mm512_unpacklo_ps(c, d), _mm512_unpackhi_ps(c, d));
	__m512d abd = _mm512_castps_pd(ab), cdd = _mm512_castps_pd(cd);
	__m512 x = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(abd, cdd)),
				 _mm512_castpd_ps(_mm512_unpackhi_pd(abd, cdd)));
	__m256 h = _mm256_add_ps(_mm512_castps512_ps256(x),
				 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(x), 1)));
	return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

static inline __m128i hsum4i(__m512i a, __m512i b, __m512i c, __m512i d)
{
	__m512i ab = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
	__m512i cd = _mm512_add_epi32(_mm512_unpacklo_epi32(c, d), _mm512_unpackhi_epi32(c, d));
	__m512i x = _mm512_add_epi32(_mm512_unpacklo_epi64(ab, cd), _mm512_unpackhi_epi64(ab, cd));
	__m256i h = _mm256_add_epi32(_mm512_castsi512_si256(x), _mm512_extracti64x4_epi64(x, 1));
	return _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
}

static void f32_dot(const float *q, size_t nq, const float *rows, size_t nr, unsigned dim,
		    float *s, size_t ld)
{
	unsigned dv = dim & ~15u;
	__mmask16 tm = (__mmask16)((1u << (dim & 15)) - 1);

	for (size_t i = 0; i < nq; i++) {
		const float *qi = q + i * dim;
		size_t r = 0;

		for (; r + 8 <= nr; r += 8) {
			const float *a = rows + r * dim;
			__m512 c[8];
			for (int k = 0; k < 8; k++)
				c[k] = _mm512_setzero_ps();
			for (unsigned d = 0; d < dv; d += 16) {
				__m512 x = _mm512_loadu_ps(qi + d);
#pragma GCC unroll 8
				for (int k = 0; k < 8; k++)
					c[k] = _mm512_fmadd_ps(x, _mm512_loadu_ps(a + k * dim + d), c[k]);
			}
			if (tm) {
				__m512 x = _mm512_maskz_loadu_ps(tm, qi + dv);
#pragma GCC unroll 8
				for (int k = 0; k < 8; k++)
					c[k] = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(tm, a + k * dim + dv), c[k]);
			}
			_mm_storeu_ps(s + i * ld + r, hsum4(c[0], c[1], c[2], c[3]));
			_mm_storeu_ps(s + i * ld + r + 4, hsum4(c[4], c[5], c[6], c[7]));
		}
		for (; r < nr; r++) {
			const float *a = rows + r * dim;
			__m512 c0 = _mm512_setzero_ps();
			for (unsigned d = 0; d < dv; d += 16)
				c0 = _mm512_fmadd_ps(_mm512_loadu_ps(qi + d), _mm512_loadu_ps(a + d), c0);
			if (tm)
				c0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tm, qi + dv),
						     _mm512_maskz_loadu_ps(tm, a + dv), c0);
			__m512 z = _mm512_setzero_ps();
			s[i * ld + r] = _mm_cvtss_f32(hsum4(c0, z, z, z));   /* the 8-row path's order */
		}
	}
}

/* topk_pack_rows' layout, by gathers: 16 rows' value of one dimension at once. */
static void f32_pack(const float *rows, size_t nr, unsigned dim, float *packed)
{
	const __m512i idx = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
								 4, 3, 2, 1, 0),
					       _mm512_set1_epi32((int)dim));
	size_t np = (nr + PANEL - 1) / PANEL;

	if ((size_t)dim * PANEL > 0x7fffffff / sizeof(float)) {
		topk_pack_rows(rows, nr, dim, PANEL, packed);
		return;
	}
	for (size_t p = 0; p < np; p++) {
		const float *r0 = rows + p * PANEL * (size_t)dim, *r1 = r0 + 16 * (size_t)dim;
		float *pp = packed + p * PANEL * (size_t)dim;
		size_t n = nr - p * PANEL < PANEL ? nr - p * PANEL : PANEL;
		__mmask16 m0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
		__mmask16 m1 = n >= 32 ? 0xffff : n <= 16 ? 0 : (__mmask16)((1u << (n - 16)) - 1);

		for (unsigned d = 0; d < dim; d++) {
			__m512 a = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m0, idx, r0 + d, 4);
			__m512 b = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m1, idx, r1 + d, 4);
			_mm512_store_ps(pp + (size_t)d * PANEL, a);
			_mm512_store_ps(pp + (size_t)d * PANEL + 16, b);
		}
	}
}

/*
 * qn queries (a constant after inlining) x one panel of 32 rows (n valid),
 * over dimensions [0, dlen) of q (stride dim) and pp; adds to s when `add`.
 */
static inline __attribute__((always_inline)) void micro(int qn, const float *q, unsigned dim,
							unsigned dlen, const float *pp, float *s,
							size_t ld, size_t n, int add)
{
	__m512 acc[QMAX][2];
	__mmask16 m0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
	__mmask16 m1 = n >= 32 ? 0xffff : n <= 16 ? 0 : (__mmask16)((1u << (n - 16)) - 1);

#pragma GCC unroll 12
	for (int i = 0; i < qn; i++) {
		acc[i][0] = add ? _mm512_maskz_loadu_ps(m0, s + i * ld) : _mm512_setzero_ps();
		acc[i][1] = add ? _mm512_maskz_loadu_ps(m1, s + i * ld + 16) : _mm512_setzero_ps();
	}
	for (unsigned d = 0; d < dlen; d++) {
		__m512 b0 = _mm512_load_ps(pp + (size_t)d * PANEL);
		__m512 b1 = _mm512_load_ps(pp + (size_t)d * PANEL + 16);
#pragma GCC unroll 12
		for (int i = 0; i < qn; i++) {
			__m512 a = _mm512_set1_ps(q[(size_t)i * dim + d]);
			acc[i][0] = _mm512_fmadd_ps(a, b0, acc[i][0]);
			acc[i][1] = _mm512_fmadd_ps(a, b1, acc[i][1]);
		}
	}
#pragma GCC unroll 12
	for (int i = 0; i < qn; i++) {
		_mm512_mask_storeu_ps(s + i * ld, m0, acc[i][0]);
		_mm512_mask_storeu_ps(s + i * ld + 16, m1, acc[i][1]);
	}
}

/*
 * Dimensions are taken in slices of at most DSLICE (equal slices), so that
 * 12 queries' slice (16 KiB at most) stays in L1 while the panels stream
 * from L2; a slice after the first adds to the scores.
 */
#define DSLICE 384

static void f32_packed(const float *q, size_t nq, const float *packed, size_t nr, unsigned dim,
		       float *s, size_t ld)
{
	size_t np = (nr + PANEL - 1) / PANEL;
	unsigned nsl = (dim + DSLICE - 1) / DSLICE, sl = (dim + nsl - 1) / nsl;

	for (unsigned d0 = 0; d0 < dim; d0 += sl) {
		unsigned dl = dim - d0 < sl ? dim - d0 : sl;
		int add = d0 > 0;

		for (size_t i0 = 0; i0 < nq; i0 += QMAX) {
			size_t qn = nq - i0 < QMAX ? nq - i0 : QMAX;
			const float *qb = q + i0 * dim + d0;
			float *sb = s + i0 * ld;

			for (size_t p = 0; p < np; p++) {
				const float *pp = packed + p * PANEL * (size_t)dim + (size_t)d0 * PANEL;
				size_t n = nr - p * PANEL < PANEL ? nr - p * PANEL : PANEL;
				float *sp = sb + p * PANEL;

				switch (qn) {
				case 12: micro(12, qb, dim, dl, pp, sp, ld, n, add); break;
				case 11: micro(11, qb, dim, dl, pp, sp, ld, n, add); break;
				case 10: micro(10, qb, dim, dl, pp, sp, ld, n, add); break;
				case 9: micro(9, qb, dim, dl, pp, sp, ld, n, add); break;
				case 8: micro(8, qb, dim, dl, pp, sp, ld, n, add); break;
				case 7: micro(7, qb, dim, dl, pp, sp, ld, n, add); break;
				case 6: micro(6, qb, dim, dl, pp, sp, ld, n, add); break;
				case 5: micro(5, qb, dim, dl, pp, sp, ld, n, add); break;
				case 4: micro(4, qb, dim, dl, pp, sp, ld, n, add); break;
				case 3: micro(3, qb, dim, dl, pp, sp, ld, n, add); break;
				case 2: micro(2, qb, dim, dl, pp, sp, ld, n, add); break;
				default: micro(1, qb, dim, dl, pp, sp, ld, n, add); break;
				}
			}
		}
	}
}

/* qn queries x rn rows (constants after inlining), raw int8 dot products. */
static inline __attribute__((always_inline)) void i8_micro(int qn, int rn, const int8_t *q,
							   const int32_t *corr, const int8_t *a,
							   unsigned dim, int32_t *s, size_t ld)
{
	const __m512i flip = _mm512_set1_epi8((char)0x80);
	unsigned dv = dim & ~63u;
	__mmask64 tm = (dim & 63) ? (((__mmask64)1 << (dim & 63)) - 1) : 0;
	__v16si acc[4][4];   /* the builtin's type: with __m512i, GCC spills the array */

	for (int i = 0; i < qn; i++)
		for (int k = 0; k < rn; k++)
			acc[i][k] = (__v16si)_mm512_setzero_si512();
	for (unsigned d = 0; d <= dv; d += 64) {
		__mmask64 m = d < dv ? ~(__mmask64)0 : tm;
		__v16si r[4];

		if (!m)
			break;
#pragma GCC unroll 4
		for (int k = 0; k < rn; k++) {
			_mm_prefetch((const char *)(a + (size_t)(k + PF_I8_ROWS) * dim + d), _MM_HINT_T0);
			r[k] = (__v16si)_mm512_xor_si512(_mm512_maskz_loadu_epi8(m, a + (size_t)k * dim + d), flip);
		}
#pragma GCC unroll 4
		for (int i = 0; i < qn; i++) {
			__v16si x = (__v16si)_mm512_maskz_loadu_epi8(m, q + (size_t)i * dim + d);
#pragma GCC unroll 4
			for (int k = 0; k < rn; k++)
				acc[i][k] = DPBUSD(acc[i][k], r[k], x);
		}
	}
	for (int i = 0; i < qn; i++) {
		if (rn == 4) {
			__m128i t = hsum4i((__m512i)acc[i][0], (__m512i)acc[i][1], (__m512i)acc[i][2],
					   (__m512i)acc[i][3]);
			_mm_storeu_si128((__m128i *)(s + i * ld), _mm_sub_epi32(t, _mm_set1_epi32(corr[i])));
		} else {
			for (int k = 0; k < rn; k++)
				s[i * ld + k] = _mm512_reduce_add_epi32((__m512i)acc[i][k]) - corr[i];
		}
	}
}

static void i8_dot(const int8_t *q, size_t nq, const int8_t *rows, size_t nr, unsigned dim,
		   int32_t *s, size_t ld)
{
	if (!have_vnni) {
		topk_i8_dot_avx2(q, nq, rows, nr, dim, s, ld);
		return;
	}
	for (size_t i0 = 0; i0 < nq; i0 += 4) {
		size_t qn = nq - i0 < 4 ? nq - i0 : 4;
		const int8_t *qb = q + i0 * dim;
		int32_t corr[4];

		for (size_t i = 0; i < qn; i++) {
			int32_t sum = 0;
			for (unsigned d = 0; d < dim; d++)
				sum += qb[i * dim + d];
			corr[i] = 128 * sum;
		}
		for (size_t r = 0; r < nr;) {
			const int8_t *a = rows + r * dim;
			int32_t *sp = s + i0 * ld + r;
			int four = nr - r >= 4;

			switch (qn * 2 + four) {
			case 9: i8_micro(4, 4, qb, corr, a, dim, sp, ld); break;
			case 8: i8_micro(4, 1, qb, corr, a, dim, sp, ld); break;
			case 7: i8_micro(3, 4, qb, corr, a, dim, sp, ld); break;
			case 6: i8_micro(3, 1, qb, corr, a, dim, sp, ld); break;
			case 5: i8_micro(2, 4, qb, corr, a, dim, sp, ld); break;
			case 4: i8_micro(2, 1, qb, corr, a, dim, sp, ld); break;
			case 3: i8_micro(1, 4, qb, corr, a, dim, sp, ld); break;
			default: i8_micro(1, 1, qb, corr, a, dim, sp, ld); break;
			}
			r += four ? 4 : 1;
		}
	}
}

/* qn queries (a constant after inlining) x one int8 panel of 32 rows (n valid). */
static inline __attribute__((always_inline)) void i8_pmicro(int qn, const int8_t *q, const int32_t *corr,
							    const float *qsc, unsigned groups,
							    const int8_t *pp, const float *rsc,
							    float *s, size_t ld, size_t n)
{
	/* __v16si, the builtin's own type: with __m512i, GCC keeps the array on the stack */
	__v16si acc[QMAX][2];
	__mmask16 m0 = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
	__mmask16 m1 = n >= 32 ? 0xffff : n <= 16 ? 0 : (__mmask16)((1u << (n - 16)) - 1);
	const int32_t *q32 = (const int32_t *)(const void *)q;
	size_t qs = groups;

#pragma GCC unroll 12
	for (int i = 0; i < qn; i++)
		acc[i][0] = acc[i][1] = (__v16si)_mm512_setzero_si512();
	for (unsigned g = 0; g < groups; g++) {
		__v16si b0 = (__v16si)_mm512_load_si512(pp + (size_t)g * PANEL * 4);
		__v16si b1 = (__v16si)_mm512_load_si512(pp + (size_t)g * PANEL * 4 + 64);
#pragma GCC unroll 12
		for (int i = 0; i < qn; i++) {
			__v16si a = (__v16si)_mm512_set1_epi32(q32[i * qs + g]);
			acc[i][0] = DPBUSD(acc[i][0], b0, a);
			acc[i][1] = DPBUSD(acc[i][1], b1, a);
		}
	}
	__m512 r0 = _mm512_maskz_loadu_ps(m0, rsc), r1 = _mm512_maskz_loadu_ps(m1, rsc + 16);
#pragma GCC unroll 12
	for (int i = 0; i < qn; i++) {
		__m512i c = _mm512_set1_epi32(corr[i]);
		__m512 w0 = _mm512_mul_ps(r0, _mm512_set1_ps(qsc[i]));
		__m512 w1 = _mm512_mul_ps(r1, _mm512_set1_ps(qsc[i]));
		_mm512_mask_storeu_ps(s + i * ld, m0,
				      _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32((__m512i)acc[i][0], c)), w0));
		_mm512_mask_storeu_ps(s + i * ld + 16, m1,
				      _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32((__m512i)acc[i][1], c)), w1));
	}
}

static void i8_packed(const int8_t *q, const int32_t *qsum, const float *qsc, size_t nq,
		      const int8_t *packed, const float *rsc, size_t nr, unsigned dim, float *s, size_t ld)
{
	unsigned groups = topk_dim4(dim) / 4;
	size_t np = (nr + PANEL - 1) / PANEL;

	for (size_t i0 = 0; i0 < nq; i0 += QMAX) {
		size_t qn = nq - i0 < QMAX ? nq - i0 : QMAX;
		const int8_t *qb = q + i0 * groups * 4;
		int32_t corr[QMAX];

		for (size_t i = 0; i < qn; i++)
			corr[i] = 128 * qsum[i0 + i];
		for (size_t p = 0; p < np; p++) {
			const int8_t *pp = packed + p * PANEL * (size_t)groups * 4;
			size_t n = nr - p * PANEL < PANEL ? nr - p * PANEL : PANEL;
			float *sp = s + i0 * ld + p * PANEL;
			const float *rp = rsc + p * PANEL;

			switch (qn) {
			case 12: i8_pmicro(12, qb, corr, qsc + i0, groups, pp, rp, sp, ld, n); break;
			case 11: i8_pmicro(11, qb, corr, qsc + i0, groups, pp, rp, sp, ld, n); break;
			case 10: i8_pmicro(10, qb, corr, qsc + i0, groups, pp, rp, sp, ld, n); break;
			case 9: i8_pmicro(9, qb, corr, qsc + i0, groups, pp, rp, sp, ld, n); break;
			case 8: i8_pmicro(8, qb, corr, qsc + i0, groups, pp, rp, sp, ld, n); break;
			case 7: i8_pmicro(7, qb, corr, qsc + i0, groups, pp, rp, sp, ld, n); break;
			case 6: i8_pmicro(6, qb, corr, qsc + i0, groups, pp, rp, sp, ld, n); break;
			case 5: i8_pmicro(5, qb, corr, qsc + i0, groups, pp, rp, sp, ld, n); break;
			case 4: i8_pmicro(4, qb, corr, qsc + i0, groups, pp, rp, sp, ld, n); break;
			case 3: i8_pmicro(3, qb, corr, qsc + i0, groups, pp, rp, sp, ld, n); break;
			case 2: i8_pmicro(2, qb, corr, qsc + i0, groups, pp, rp, sp, ld, n); break;
			default: i8_pmicro(1, qb, corr, qsc + i0, groups, pp, rp, sp, ld, n); break;
			}
		}
	}
}

static size_t at_least(const float *s, size_t n, float thr)
{
	__m512 t = _mm512_set1_ps(thr);
	size_t r = 0;

	for (; r + 16 <= n; r += 16) {
		__mmask16 m = _mm512_cmp_ps_mask(_mm512_loadu_ps(s + r), t, _CMP_GE_OQ);
		if (m)
			return r + (size_t)__builtin_ctz(m);
	}
	if (r < n) {
		__mmask16 tail = (__mmask16)((1u << (n - r)) - 1);
		__mmask16 m = _mm512_mask_cmp_ps_mask(tail, _mm512_maskz_loadu_ps(tail, s + r), t, _CMP_GE_OQ);
		if (m)
			return r + (size_t)__builtin_ctz(m);
	}
	return n;
}

static int vnni(void)
{
	return have_vnni;
}

const struct topk_kernel topk_kernel_avx512 = {
	.name = "avx512",
	.supported = supported,
	.f32_dot = f32_dot,
	.panel = PANEL,
	.f32_pack = f32_pack,
	.f32_packed = f32_packed,
	.i8_dot = i8_dot,
	.i8_panel = PANEL,
	.i8_packed_ok = vnni,
	.i8_packed = i8_packed,
	.at_least = at_least,
};

#ifdef __clang__
#pragma clang attribute pop
#endif
