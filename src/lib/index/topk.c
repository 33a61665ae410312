/*
 * topk.c - exact and quantised top-k inner-product search (topk.h): the
 * driver, the portable kernel, the quantiser and the run-time dispatch.
 *
 * How a search runs. Queries go in passes of at most QPASS (which bounds
 * the heaps' memory). The rows of all blocks are numbered globally and cut
 * into one contiguous range per thread (boundaries multiples of 64 rows);
 * each thread keeps a bounded min-heap per query (k entries, or
 * `candidates` for the int8 scan) and walks its range in chunks of at most
 * CHUNK rows and CHUNK_BYTES bytes of vectors (256 rows at 384 dimensions),
 * so that a chunk stays in the L2 cache while every query of the
 * batch is scored against it, QBLOCK queries at a time, into a score tile.
 * The selection then reads the tile: scores below the query's current
 * k-th best (the heap's top) are skipped 16 at a time, so a full sort
 * never happens and the heap is touched only by rows that enter it. Dead
 * rows are checked only for the scores that would enter.
 *
 * Kernels (topk-internal.h) only compute score tiles. Batches of at least
 * PACK_MIN queries use the kernel's packed path when it has one: the chunk
 * is copied once into dimension-major panels, and a register-blocked
 * micro-kernel multiplies a block of queries by a panel, so each row value
 * is loaded once per query block. Smaller batches use the plain dot kernel.
 *
 * The int8 scan quantises the queries with the same quantiser as the rows
 * (topk_quantise), scores raw int8 dot products scaled by both scales,
 * keeps `candidates` per query, then re-ranks those with the exact float32
 * dot product (the same kernel's) and keeps k. With several threads each
 * thread re-ranks its own candidates, so the re-ranked set is a superset of
 * the single-thread one. Threads' results are merged under the same order:
 * score descending, then row ascending.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "index/topk.h"
#include "index/topk-internal.h"

#define CHUNK 256        /* most rows scored per pass over the batch */
#define CHUNK_BYTES (384 << 10)  /* a chunk's vectors: well inside L2 */
#define QBLOCK 48        /* queries per score tile */
#define PACK_MIN 8       /* smallest batch that uses the packed path */
#define QPASS 4096       /* queries per pass over the rows */
#define MIN_ROWS_PER_THREAD 8192

/* ---------------------------------------------------------------- quantiser */

void topk_quantise(const float *vecs, size_t n, unsigned dim, int8_t *q, float *scale)
{
	for (size_t r = 0; r < n; r++) {
		const float *v = vecs + r * dim;
		int8_t *o = q + r * dim;
		float m = 0;

		for (unsigned d = 0; d < dim; d++)
			m = fabsf(v[d]) > m ? fabsf(v[d]) : m;
		if (!(m > 0)) {
			memset(o, 0, dim);
			scale[r] = 0;
			continue;
		}
		float inv = 127.0f / m;
		for (unsigned d = 0; d < dim; d++) {
			/* round to nearest even (|x| <= 127 << 2^22), without a libm call */
			float x = (v[d] * inv + 12582912.0f) - 12582912.0f;
			o[d] = (int8_t)(x > 127 ? 127 : x < -127 ? -127 : x);
		}
		scale[r] = m / 127.0f;
	}
}

/* ---------------------------------------------------------------- portable kernel */

void topk_pack_rows(const float *rows, size_t nr, unsigned dim, unsigned panel, float *packed)
{
	size_t np = (nr + panel - 1) / panel;

	for (size_t p = 0; p < np; p++) {
		float *pp = packed + p * panel * (size_t)dim;
		size_t n = nr - p * panel < panel ? nr - p * panel : panel;

		for (size_t j = 0; j < n; j++) {
			const float *v = rows + (p * panel + j) * dim;
			for (unsigned d = 0; d < dim; d++)
				pp[(size_t)d * panel + j] = v[d];
		}
		for (size_t j = n; j < panel; j++)
			for (unsigned d = 0; d < dim; d++)
				pp[(size_t)d * panel + j] = 0;
	}
}

void topk_pack_i8(const int8_t *rows, size_t nr, unsigned dim, unsigned panel, int8_t *packed)
{
	size_t np = (nr + panel - 1) / panel, groups = topk_dim4(dim) / 4;

	memset(packed, 0x80, np * panel * groups * 4);
	for (size_t p = 0; p < np; p++) {
		int8_t *pp = packed + p * panel * groups * 4;
		size_t n = nr - p * panel < panel ? nr - p * panel : panel;

		for (size_t j = 0; j < n; j++) {
			const int8_t *v = rows + (p * panel + j) * dim;
			unsigned d = 0;
			for (; d + 4 <= dim; d += 4) {
				uint32_t w;
				memcpy(&w, v + d, 4);
				w ^= 0x80808080u;
				memcpy(pp + ((size_t)d / 4 * panel + j) * 4, &w, 4);
			}
			for (; d < dim; d++)
				pp[((size_t)d / 4 * panel + j) * 4 + d % 4] = (int8_t)(v[d] ^ 0x80);
		}
	}
}

static float dot_portable(const float *a, const float *b, unsigned dim)
{
	float s[4] = { 0, 0, 0, 0 };
	unsigned d = 0;

	for (; d + 4 <= dim; d += 4)
		for (unsigned j = 0; j < 4; j++)
			s[j] += a[d + j] * b[d + j];
	for (; d < dim; d++)
		s[0] += a[d] * b[d];
	return (s[0] + s[1]) + (s[2] + s[3]);
}

static void f32_dot_portable(const float *q, size_t nq, const float *rows, size_t nr, unsigned dim,
			     float *s, size_t ld)
{
	for (size_t i = 0; i < nq; i++)
		for (size_t r = 0; r < nr; r++)
			s[i * ld + r] = dot_portable(q + i * dim, rows + r * dim, dim);
}

static void i8_dot_portable(const int8_t *q, size_t nq, const int8_t *rows, size_t nr, unsigned dim,
			    int32_t *s, size_t ld)
{
	for (size_t i = 0; i < nq; i++)
		for (size_t r = 0; r < nr; r++) {
			const int8_t *a = q + i * dim, *b = rows + r * dim;
			int32_t acc = 0;

			for (unsigned d = 0; d < dim; d++)
				acc += a[d] * b[d];
			s[i * ld + r] = acc;
		}
}

size_t topk_at_least_portable(const float *s, size_t n, float thr)
{
	size_t r = 0;

	while (r < n && !(s[r] >= thr))
		r++;
	return r;
}

static int always(void)
{
	return 1;
}

const struct topk_kernel topk_kernel_portable = {
	.name = "portable",
	.supported = always,
	.f32_dot = f32_dot_portable,
	.i8_dot = i8_dot_portable,
	.at_least = topk_at_least_portable,
};

/* ---------------------------------------------------------------- dispatch */

static const struct topk_kernel *const kernels[] = {
	&topk_kernel_avx512, &topk_kernel_avx2, &topk_kernel_portable,
};
#define NKERNELS (sizeof(kernels) / sizeof(kernels[0]))

static pthread_mutex_t pick_lock = PTHREAD_MUTEX_INITIALIZER;
static int picked;
static int pick_rc;
static struct rp_err pick_err;
static const struct topk_kernel *kernel;

static int pick(struct rp_err *err)
{
	const char *want = getenv("RP_TOPK_KERNEL");

	if (!want || !*want) {
		for (size_t i = 0; i < NKERNELS; i++)
			if (kernels[i]->supported()) {
				kernel = kernels[i];
				return 0;
			}
		kernel = &topk_kernel_portable;
		return 0;
	}
	for (size_t i = 0; i < NKERNELS; i++) {
		if (strcmp(want, kernels[i]->name))
			continue;
		if (!kernels[i]->supported())
			return rp_err_set(err, RP_ERR_INPUT,
					  "RP_TOPK_KERNEL: this CPU cannot run the '%s' kernel", want);
		kernel = kernels[i];
		return 0;
	}
	return rp_err_set(err, RP_ERR_INPUT,
			  "RP_TOPK_KERNEL: unknown kernel '%s' (expected avx512, avx2 or portable)", want);
}

int topk_init(struct rp_err *err)
{
	pthread_mutex_lock(&pick_lock);
	if (!picked) {
		pick_err.kind = RP_ERR_NONE;
		pick_err.msg[0] = 0;
		kernel = NULL;
		pick_rc = pick(&pick_err);
		picked = 1;
	}
	int rc = pick_rc;
	if (rc < 0 && err)
		*err = pick_err;
	pthread_mutex_unlock(&pick_lock);
	return rc;
}

void topk_reset(void)
{
	pthread_mutex_lock(&pick_lock);
	picked = 0;
	kernel = NULL;
	pthread_mutex_unlock(&pick_lock);
}

const char *topk_kernel_name(void)
{
	if (topk_init(NULL) < 0)
		return "none";
	return kernel->name;
}

/* ---------------------------------------------------------------- selection */

#define PEND 15          /* offers a full heap takes at once */

/*
 * A bounded heap, and offers waiting to enter it. A batch scan touches each
 * query's heap a couple of times per chunk, by then out of cache; a pending
 * offer costs one line, and PEND of them enter the heap together.
 */
struct heap {
	struct topk_hit *h;
	size_t n, k;
	float thr;               /* the k-th best score when full, else -inf */
	unsigned npend;
	struct topk_hit pend[PEND];
};

/* 1 when a ranks after b: lower score, or the same score and a higher row. */
static int worse(const struct topk_hit *a, const struct topk_hit *b)
{
	return a->score < b->score || (a->score == b->score && a->row > b->row);
}

static void heap_init(struct heap *hp, struct topk_hit *h, size_t k)
{
	hp->h = h;
	hp->n = 0;
	hp->k = k;
	hp->thr = -INFINITY;
	hp->npend = 0;
}

/* Offers (row, score): kept when the heap has room or it beats the worst. */
static void heap_push(struct heap *hp, size_t row, float score)
{
	struct topk_hit x = { row, score };
	struct topk_hit *h = hp->h;
	size_t i;

	if (score != score)
		return;
	if (hp->n < hp->k) {
		for (i = hp->n++; i > 0 && worse(&x, &h[(i - 1) / 2]); i = (i - 1) / 2)
			h[i] = h[(i - 1) / 2];
		h[i] = x;
		if (hp->n == hp->k)
			hp->thr = h[0].score;
		return;
	}
	if (!worse(&h[0], &x))
		return;
	for (i = 0;;) {
		size_t c = 2 * i + 1;
		if (c >= hp->n)
			break;
		if (c + 1 < hp->n && worse(&h[c + 1], &h[c]))
			c++;
		if (!worse(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
	hp->thr = h[0].score;
}

static int cmp_hit(const void *pa, const void *pb)
{
	const struct topk_hit *a = pa, *b = pb;

	return worse(a, b) ? 1 : worse(b, a) ? -1 : 0;
}

/* Pushes the pending offers. */
static void heap_flush(struct heap *hp)
{
	for (unsigned i = 0; i < hp->npend; i++)
		heap_push(hp, hp->pend[i].row, hp->pend[i].score);
	hp->npend = 0;
}

/* Offers (row, score) through the pending list once the heap is full. */
static void heap_offer(struct heap *hp, size_t row, float score)
{
	if (hp->n < hp->k) {
		heap_push(hp, row, score);
		return;
	}
	hp->pend[hp->npend++] = (struct topk_hit){ row, score };
	if (hp->npend == PEND)
		heap_flush(hp);
}

/*
 * Offers the scores of a tile (nq queries x nr rows from local row c0); the
 * kernel's at_least() skips the scores below the query's threshold.
 */
static void select_tile(const struct topk_kernel *kn, struct heap *hs, size_t nq, const float *s,
			size_t ld, size_t nr, const uint8_t *dead, size_t c0, size_t gbase)
{
	for (size_t i = 0; i < nq; i++) {
		struct heap *hp = &hs[i];
		const float *si = s + i * ld;

		for (size_t r = 0; (r += kn->at_least(si + r, nr - r, hp->thr)) < nr; r++) {
			size_t lr = c0 + r;
			if (dead && (dead[lr >> 3] >> (lr & 7) & 1))
				continue;
			heap_offer(hp, gbase + lr, si[r]);
		}
	}
}

/* ---------------------------------------------------------------- one thread's scan */

struct job {
	const float *queries;
	size_t nq;
	unsigned dim;
	const struct topk_rows *blocks;
	const size_t *base;          /* global number of each block's first row */
	size_t nblocks;
	const struct topk_kernel *kern;
	size_t k, cand;              /* results per query; heap size of the scan */
	int quantised;
	const int8_t *qi8;           /* quantised queries, nq * dim */
	const float *qsc;
	const int8_t *qpad;          /* the same, stride topk_dim4(dim), for i8_packed; or NULL */
	const int32_t *qsum;         /* with qpad: the sum of each query's bytes */
	size_t g0, g1;               /* this thread's global rows */
	size_t chunk;                /* rows per chunk, <= CHUNK */
	struct topk_hit *out;        /* nq * k, this thread's results */
	size_t *nout;
	int nomem;
};

struct scratch {
	float *s;                    /* QBLOCK * CHUNK scores */
	int32_t *s32;                /* QBLOCK * CHUNK raw int8 scores */
	float *packed;               /* CHUNK rows, packed */
	int8_t *packed8;             /* CHUNK int8 rows, packed */
};

static void scan_chunk(struct job *j, struct scratch *sc, struct heap *hs,
		       const struct topk_rows *b, size_t c0, size_t nr, size_t gbase)
{
	const struct topk_kernel *kn = j->kern;
	unsigned dim = j->dim;
	int packed = !j->quantised && kn->f32_packed && j->nq >= PACK_MIN;

	if (packed)
		kn->f32_pack(b->vecs + c0 * dim, nr, dim, sc->packed);
	if (j->qpad)
		topk_pack_i8(b->qvecs + c0 * dim, nr, dim, kn->i8_panel, sc->packed8);
	/* a packed pass reads the next chunk from memory: ask for it meanwhile */
	const char *next = NULL;
	size_t nextlen = 0, r1 = j->g1 - gbase < b->rows ? j->g1 - gbase : b->rows;
	if ((packed || j->qpad) && c0 + nr < r1) {
		size_t nn = r1 - c0 - nr < j->chunk ? r1 - c0 - nr : j->chunk;
		next = j->qpad ? (const char *)(b->qvecs + (c0 + nr) * dim)
			       : (const char *)(b->vecs + (c0 + nr) * dim);
		nextlen = nn * dim * (j->qpad ? 1 : sizeof(float));
	}
	for (size_t i0 = 0; i0 < j->nq; i0 += QBLOCK) {
		size_t nqb = j->nq - i0 < QBLOCK ? j->nq - i0 : QBLOCK;

		for (size_t x = nextlen * i0 / j->nq & ~(size_t)63; next && x < nextlen * (i0 + nqb) / j->nq;
		     x += 64)
			__builtin_prefetch(next + x, 0, 2);
		if (j->qpad) {
			kn->i8_packed(j->qpad + i0 * topk_dim4(dim), j->qsum + i0, j->qsc + i0, nqb, sc->packed8,
				      b->qscale + c0, nr, dim, sc->s, CHUNK);
		} else if (j->quantised) {
			kn->i8_dot(j->qi8 + i0 * dim, nqb, b->qvecs + c0 * dim, nr, dim, sc->s32, CHUNK);
			for (size_t i = 0; i < nqb; i++) {
				float qs = j->qsc[i0 + i];
				for (size_t r = 0; r < nr; r++)
					sc->s[i * CHUNK + r] =
						(float)sc->s32[i * CHUNK + r] * qs * b->qscale[c0 + r];
			}
		} else if (packed) {
			kn->f32_packed(j->queries + i0 * dim, nqb, sc->packed, nr, dim, sc->s, CHUNK);
		} else {
			kn->f32_dot(j->queries + i0 * dim, nqb, b->vecs + c0 * dim, nr, dim, sc->s, CHUNK);
		}
		select_tile(kn, hs + i0, nqb, sc->s, CHUNK, nr, b->dead, c0, gbase);
	}
}

/* Re-ranks query i's candidates by the exact score into out (k entries). */
static void rerank(struct job *j, struct heap *cand, size_t i, struct heap *out)
{
	for (size_t c = 0; c < cand->n; c++) {
		size_t g = cand->h[c].row, b = 0;
		float s;

		while (b + 1 < j->nblocks && j->base[b + 1] <= g)
			b++;
		j->kern->f32_dot(j->queries + i * j->dim, 1, j->blocks[b].vecs + (g - j->base[b]) * j->dim,
				 1, j->dim, &s, 1);
		heap_push(out, g, s);
	}
}

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct scratch sc;
	size_t pk = j->kern->panel ? topk_pack_floats(CHUNK, j->dim, j->kern->panel) : 0;
	struct topk_hit *hbuf = malloc(j->nq * j->cand * sizeof(*hbuf));
	struct heap *hs = malloc(j->nq * sizeof(*hs));

	sc.s = malloc(QBLOCK * CHUNK * sizeof(float));
	sc.s32 = malloc(QBLOCK * CHUNK * sizeof(int32_t));
	size_t pk8 = j->qpad ? (CHUNK + j->kern->i8_panel - 1) / j->kern->i8_panel * j->kern->i8_panel *
				       (size_t)topk_dim4(j->dim) : 0;

	if (j->quantised || j->nq < PACK_MIN)
		pk = 0;
	sc.packed = pk ? aligned_alloc(64, (pk * sizeof(float) + 63) / 64 * 64) : NULL;
	sc.packed8 = pk8 ? aligned_alloc(64, (pk8 + 63) / 64 * 64) : NULL;
	if (!hbuf || !hs || !sc.s || !sc.s32 || (pk && !sc.packed) || (pk8 && !sc.packed8)) {
		j->nomem = 1;
		goto out;
	}
	for (size_t i = 0; i < j->nq; i++)
		heap_init(&hs[i], hbuf + i * j->cand, j->cand);
	for (size_t b = 0; b < j->nblocks; b++) {
		const struct topk_rows *blk = &j->blocks[b];
		size_t lo = j->base[b], hi = lo + blk->rows;
		size_t r0 = j->g0 > lo ? j->g0 - lo : 0, r1 = (j->g1 < hi ? j->g1 : hi) - lo;

		if (j->g0 >= hi || j->g1 <= lo)
			continue;
		for (size_t c = r0; c < r1; c += j->chunk)
			scan_chunk(j, &sc, hs, blk, c, r1 - c < j->chunk ? r1 - c : j->chunk, lo);
	}
	for (size_t i = 0; i < j->nq; i++) {
		struct heap res;

		heap_flush(&hs[i]);
		if (j->quantised) {
			heap_init(&res, j->out + i * j->k, j->k);
			rerank(j, &hs[i], i, &res);
		} else {
			res = hs[i];
			memcpy(j->out + i * j->k, res.h, res.n * sizeof(*res.h));
		}
		j->nout[i] = res.n;
	}
out:
	free(sc.packed8);
	free(sc.packed);
	free(sc.s32);
	free(sc.s);
	free(hs);
	free(hbuf);
	return NULL;
}

/* ---------------------------------------------------------------- search */

static int cores(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static int nthreads(const struct topk_opts *o, size_t nq, size_t rows)
{
	int t = o->threads > 0 ? o->threads : nq >= 2 ? cores() : 1;
	size_t most = rows / MIN_ROWS_PER_THREAD;

	if ((size_t)t > most)
		t = most > 0 ? (int)most : 1;
	return t > 64 ? 64 : t;
}

/* Merges the threads' per-query results into hits (sorted). */
static void merge(struct job *jobs, int nt, size_t nq, size_t k, struct topk_hit *hits, size_t *nhits)
{
	for (size_t i = 0; i < nq; i++) {
		struct heap hp;

		heap_init(&hp, hits + i * k, k);
		for (int t = 0; t < nt; t++)
			for (size_t c = 0; c < jobs[t].nout[i]; c++)
				heap_push(&hp, jobs[t].out[i * k + c].row, jobs[t].out[i * k + c].score);
		qsort(hp.h, hp.n, sizeof(*hp.h), cmp_hit);
		nhits[i] = hp.n;
	}
}

static int check_args(unsigned dim, const struct topk_rows *blocks, size_t nblocks,
		      const struct topk_opts *o, struct rp_err *err)
{
	if (o->k < 1)
		return rp_err_set(err, RP_ERR_INPUT, "top-k search: k must be at least 1");
	if (dim < 1)
		return rp_err_set(err, RP_ERR_INPUT, "top-k search: dimension must be at least 1");
	for (size_t b = 0; b < nblocks; b++) {
		if (blocks[b].rows && !blocks[b].vecs)
			return rp_err_set(err, RP_ERR_INPUT, "top-k search: block %zu has no vectors", b);
		if (o->quantised && blocks[b].rows && (!blocks[b].qvecs || !blocks[b].qscale))
			return rp_err_set(err, RP_ERR_INPUT,
					  "top-k search: quantised search needs int8 vectors (block %zu has none)",
					  b);
	}
	return 0;
}

/* The int8 forms of a pass's queries (struct job's qi8, qsc, qpad, qsum). */
struct qint8 {
	int8_t *qi8, *qpad;
	float *qsc;
	int32_t *qsum;
};

static void quantise_queries(const float *queries, size_t nq, unsigned dim, struct qint8 *q)
{
	q->qi8 = xmalloc(nq * dim);
	q->qsc = xmalloc(nq * sizeof(*q->qsc));
	topk_quantise(queries, nq, dim, q->qi8, q->qsc);
	if (!kernel->i8_packed || nq < PACK_MIN || (kernel->i8_packed_ok && !kernel->i8_packed_ok()))
		return;
	unsigned d4 = topk_dim4(dim);
	q->qpad = xmalloc(nq * d4);
	q->qsum = xmalloc(nq * sizeof(*q->qsum));
	memset(q->qpad, 0, nq * d4);
	for (size_t i = 0; i < nq; i++) {
		memcpy(q->qpad + i * d4, q->qi8 + i * dim, dim);
		q->qsum[i] = 0;
		for (unsigned d = 0; d < dim; d++)
			q->qsum[i] += q->qi8[i * dim + d];
	}
}

/* One pass: at most QPASS queries, every row, the threads of nthreads(). */
static int search_pass(const float *queries, size_t nq, unsigned dim, const struct topk_rows *blocks,
		       size_t nblocks, const size_t *base, size_t total, const struct topk_opts *o,
		       struct topk_hit *hits, size_t *nhits, struct rp_err *err)
{
	struct qint8 q = { NULL, NULL, NULL, NULL };
	pthread_t tid[64];
	int nt = nthreads(o, nq, total), rc = -1, started = 0;
	struct job *jobs = xmalloc(nt * sizeof(*jobs));

	if (o->quantised)
		quantise_queries(queries, nq, dim, &q);
	for (int t = 0; t < nt; t++) {
		struct job *j = &jobs[t];

		*j = (struct job){ .queries = queries, .nq = nq, .dim = dim, .blocks = blocks, .base = base,
				   .nblocks = nblocks, .kern = kernel, .k = o->k, .cand = o->k,
				   .quantised = o->quantised, .qi8 = q.qi8, .qsc = q.qsc, .qpad = q.qpad,
				   .qsum = q.qsum };
		if (o->quantised)
			j->cand = o->candidates ? o->candidates : (10 * o->k > 100 ? 10 * o->k : 100);
		if (j->cand < o->k)
			j->cand = o->k;
		j->chunk = CHUNK_BYTES / ((size_t)dim * (o->quantised ? 1 : sizeof(float))) & ~(size_t)31;
		j->chunk = j->chunk < 32 ? 32 : j->chunk > CHUNK ? CHUNK : j->chunk;
		j->g0 = t == 0 ? 0 : (total * t / nt) & ~(size_t)63;
		j->g1 = t == nt - 1 ? total : (total * (t + 1) / nt) & ~(size_t)63;
		j->out = xmalloc(nq * o->k * sizeof(*j->out));
		j->nout = xmalloc(nq * sizeof(*j->nout));
	}
	for (int t = 1; t < nt; t++, started++)
		if (pthread_create(&tid[t], NULL, run_job, &jobs[t]) != 0)
			break;
	run_job(&jobs[0]);
	for (int t = started + 1; t < nt; t++)
		run_job(&jobs[t]);
	for (int t = 1; t <= started; t++)
		pthread_join(tid[t], NULL);
	for (int t = 0; t < nt; t++)
		if (jobs[t].nomem) {
			rp_err_set(err, RP_ERR_IO, "top-k search: out of memory");
			goto out;
		}
	merge(jobs, nt, nq, o->k, hits, nhits);
	rc = 0;
out:
	for (int t = 0; t < nt; t++) {
		free(jobs[t].out);
		free(jobs[t].nout);
	}
	free(jobs);
	free(q.qsum);
	free(q.qpad);
	free(q.qsc);
	free(q.qi8);
	return rc;
}

int topk_search(const float *queries, size_t nq, unsigned dim, const struct topk_rows *blocks,
		size_t nblocks, const struct topk_opts *opts, struct topk_hit *hits, size_t *nhits,
		struct rp_err *err)
{
	struct topk_opts o = opts ? *opts : (struct topk_opts)TOPK_OPTS_INIT;
	size_t *base, total = 0;
	int rc = 0;

	if (topk_init(err) < 0 || check_args(dim, blocks, nblocks, &o, err) < 0)
		return -1;
	base = xmalloc((nblocks + 1) * sizeof(*base));
	for (size_t b = 0; b < nblocks; b++) {
		base[b] = total;
		total += blocks[b].rows;
	}
	/* passes of QPASS queries bound the heaps' memory, whatever nq is */
	for (size_t i0 = 0; i0 < nq && rc == 0; i0 += QPASS) {
		size_t n = nq - i0 < QPASS ? nq - i0 : QPASS;
		rc = search_pass(queries + i0 * dim, n, dim, blocks, nblocks, base, total, &o,
				 hits + i0 * o.k, nhits + i0, err);
	}
	free(base);
	return rc;
}
