/*
 * topk.h - exact and quantised top-k inner-product search over contiguous
 * float32 vectors, with kernels picked at run time for the CPU.
 *
 * The kernels: AVX-512F (register-blocked: a block of queries times a block
 * of rows, so each row is loaded once per query block), AVX2+FMA, and
 * portable C; topk_kernel_name() says which one runs. RP_TOPK_KERNEL=portable
 * (or avx2, avx512) forces one, for tests and benchmarks; asking for one the
 * CPU lacks is an error. All kernels give the same top-k (scores may differ in
 * the last bits of float rounding; ties are broken by the lower row number).
 *
 * The quantised path scans int8 vectors (v ~= q * scale per row) for
 * `candidates` rows per query, then re-ranks those by the exact float32
 * score, and returns the re-ranked top-k.
 *
 * Rows whose bit is set in `dead` are never returned. Results are sorted by
 * score, descending, then by row ascending.
 */
#ifndef RP_INDEX_TOPK_H
#define RP_INDEX_TOPK_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

/* One result: the row number within the searched block, and its score. */
struct topk_hit {
	size_t row;
	float score;
};

/* One block of rows to search: a segment, or any contiguous array. */
struct topk_rows {
	const float *vecs;       /* rows * dim floats */
	const int8_t *qvecs;     /* rows * dim int8, or NULL (then no quantised scan) */
	const float *qscale;     /* rows scales, with qvecs */
	const uint8_t *dead;     /* bitmap, bit r set = skip row r; NULL: none */
	size_t rows;
};

struct topk_opts {
	size_t k;                /* results per query, >= 1 */
	int quantised;           /* 1: int8 scan + float32 re-rank (needs qvecs) */
	size_t candidates;       /* quantised: candidates per query to re-rank; 0: max(10 * k, 100) */
	int threads;             /* 0: one per core for batches of >= 2 queries; 1: this thread only */
};
#define TOPK_OPTS_INIT { 10, 0, 0, 0 }

/* The name of the kernel that runs: "avx512", "avx2" or "portable". */
const char *topk_kernel_name(void);

/*
 * Checks RP_TOPK_KERNEL and picks the kernel once (thread-safe, idempotent).
 * 0, or -1 + err (RP_ERR_INPUT) when the variable names an unknown kernel or
 * one this CPU cannot run. topk_search() calls it.
 */
int topk_init(struct rp_err *err);

/*
 * Searches `nblocks` blocks of `dim`-dimensional rows for each of the `nq`
 * queries (query i at queries + i * dim). hits[i * k .. i * k + nhits[i])
 * receive query i's results; a hit's row is numbered across the blocks in
 * order (block b's row r is sum(rows of blocks before b) + r), so a caller
 * maps it back to (segment, row). nhits[i] < k when fewer live rows exist.
 * Both arrays are the caller's, of nq * k and nq entries.
 * 0, or -1 + err (a kernel that cannot run; opts.quantised without qvecs).
 */
int topk_search(const float *queries, size_t nq, unsigned dim, const struct topk_rows *blocks,
		size_t nblocks, const struct topk_opts *opts, struct topk_hit *hits, size_t *nhits,
		struct rp_err *err);

/*
 * Quantises n rows of dim floats into q (n * dim int8) and scale (n floats):
 * symmetric per row, scale = max|v| / 127 (0 for a zero row). The one
 * quantiser, used when segments are written.
 */
void topk_quantise(const float *vecs, size_t n, unsigned dim, int8_t *q, float *scale);

#endif
