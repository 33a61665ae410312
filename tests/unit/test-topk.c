/*
 * test-topk.c - the top-k search kernels (index/topk.h): every kernel this
 * CPU can run, and the portable one, returns the top-k of a brute-force
 * double-precision reference (dimensions not multiples of 16, rows not
 * multiples of a panel, several blocks, dead rows, k above the live rows,
 * ties by lower row, one thread and two); the int8 scan with re-ranking
 * returns the exact top-10 on random and on clustered data; the quantiser's
 * scale; and RP_TOPK_KERNEL naming an unknown kernel is an input error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "index/topk.h"
#include "index/topk-internal.h"

static const char *const kernel_names[] = { "portable", "avx2", "avx512" };

static uint64_t rng = 88172645463325252ull;

static double urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static float grand(void)
{
	double u = urand() + 1e-12, v = urand();
	return (float)(sqrt(-2 * log(u)) * cos(2 * M_PI * v));
}

static void normalise(float *v, unsigned dim)
{
	double n = 0;
	for (unsigned d = 0; d < dim; d++)
		n += (double)v[d] * v[d];
	n = sqrt(n);
	for (unsigned d = 0; d < dim && n > 0; d++)
		v[d] = (float)(v[d] / n);
}

static float *random_rows(size_t n, unsigned dim)
{
	float *v = malloc(n * dim * sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		for (unsigned d = 0; d < dim; d++)
			v[i * dim + d] = grand();
		normalise(v + i * dim, dim);
	}
	return v;
}

/* A block with its int8 copy; the caller frees with free_block(). */
static struct topk_rows make_block(float *vecs, size_t rows, unsigned dim, uint8_t *dead)
{
	struct topk_rows b = { vecs, NULL, NULL, dead, rows };
	int8_t *q = malloc(rows * dim + 1);
	float *s = malloc(rows * sizeof(float) + 1);

	topk_quantise(vecs, rows, dim, q, s);
	b.qvecs = q;
	b.qscale = s;
	return b;
}

static void free_block(struct topk_rows *b)
{
	free((void *)b->vecs);
	free((void *)b->qvecs);
	free((void *)b->qscale);
	free((void *)b->dead);
}

/* Brute force: double precision, every live row, ties by lower row. */
static size_t reference(const float *q, unsigned dim, const struct topk_rows *blocks, size_t nb,
			size_t k, size_t *rows)
{
	double best[64];
	size_t n = 0, g = 0;

	for (size_t b = 0; b < nb; b++)
		for (size_t r = 0; r < blocks[b].rows; r++, g++) {
			if (blocks[b].dead && (blocks[b].dead[r / 8] >> (r % 8) & 1))
				continue;
			double s = 0;
			for (unsigned d = 0; d < dim; d++)
				s += (double)q[d] * blocks[b].vecs[r * dim + d];
			size_t i = n < k ? n++ : k;
			if (i == k && !(s > best[k - 1]))
				continue;
			if (i == k)
				i = k - 1;
			while (i > 0 && s > best[i - 1]) {
				best[i] = best[i - 1];
				rows[i] = rows[i - 1];
				i--;
			}
			best[i] = s;
			rows[i] = g;
		}
	return n;
}

/* 1 when kernel `name` was chosen, 0 when this CPU cannot run it. */
static int use_kernel(const char *name)
{
	struct rp_err err = { 0 };

	setenv("RP_TOPK_KERNEL", name, 1);
	topk_reset();
	if (topk_init(&err) < 0) {
		assert_non_null(strstr(err.msg, "this CPU cannot run"));
		assert_string_not_equal(name, "portable");
		return 0;
	}
	assert_string_equal(topk_kernel_name(), name);
	return 1;
}

static void done_kernels(void)
{
	unsetenv("RP_TOPK_KERNEL");
	topk_reset();
}

/* Searches nq random queries and compares every query's rows with the reference. */
static void check_search(const struct topk_rows *blocks, size_t nb, unsigned dim, size_t nq,
			 const struct topk_opts *o, const float *queries)
{
	struct topk_hit *hits = malloc(nq * o->k * sizeof(*hits));
	size_t *nhits = malloc(nq * sizeof(*nhits)), ref[64];
	struct rp_err err = { 0 };

	assert_int_equal(topk_search(queries, nq, dim, blocks, nb, o, hits, nhits, &err), 0);
	for (size_t i = 0; i < nq; i++) {
		size_t n = reference(queries + i * dim, dim, blocks, nb, o->k, ref);
		assert_int_equal(nhits[i], n);
		for (size_t j = 0; j < n; j++) {
			if (hits[i * o->k + j].row != ref[j])
				print_message("kernel %s query %zu rank %zu: row %zu, expected %zu\n",
					      topk_kernel_name(), i, j, hits[i * o->k + j].row, ref[j]);
			assert_int_equal(hits[i * o->k + j].row, ref[j]);
			if (j)
				assert_true(hits[i * o->k + j].score <= hits[i * o->k + j - 1].score);
		}
	}
	free(nhits);
	free(hits);
}

struct shape {
	size_t rows[3];          /* per block; 0 ends */
	unsigned dim;
	size_t nq, k;
	int dead_every;          /* 0: no dead rows */
	int threads;
};

static const struct shape shapes[] = {
	{ { 1000 }, 384, 1, 10, 0, 1 },          /* one query: the dot kernels */
	{ { 1000 }, 384, 30, 10, 0, 1 },         /* a batch: the packed kernels, a query tail */
	{ { 777, 301 }, 100, 13, 10, 3, 1 },     /* dim % 16 != 0, panel tails, two blocks, dead rows */
	{ { 45, 2, 19 }, 17, 9, 10, 0, 1 },      /* tiny blocks, batch of 9 */
	{ { 5, 3 }, 33, 3, 10, 2, 1 },           /* k above the live rows */
	{ { 20011 }, 70, 20, 7, 5, 2 },          /* two threads, rows not multiple of 64 */
	{ { 300 }, 1024, 2, 20, 0, 1 },          /* 1024 dims, two queries */
	{ { 300 }, 1024, 14, 10, 0, 1 },         /* 1024 dims batched: slices of the dimension */
	{ { 129 }, 777, 9, 10, 7, 1 },           /* uneven slices, dead rows */
	{ { 100 }, 3, 1, 5, 0, 1 },              /* dims below one vector */
	{ { 70 }, 8, 4100, 3, 0, 1 },            /* more queries than one pass takes */
};

static void run_shapes(int quantised)
{
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		const struct shape *sh = &shapes[s];
		struct topk_rows b[3];
		size_t nb = 0;
		struct topk_opts o = TOPK_OPTS_INIT;
		float *queries = random_rows(sh->nq, sh->dim);

		for (; nb < 3 && sh->rows[nb]; nb++) {
			uint8_t *dead = NULL;
			if (sh->dead_every) {
				dead = calloc((sh->rows[nb] + 7) / 8, 1);
				for (size_t r = 0; r < sh->rows[nb]; r += sh->dead_every)
					dead[r / 8] |= 1 << (r % 8);
			}
			b[nb] = make_block(random_rows(sh->rows[nb], sh->dim), sh->rows[nb], sh->dim, dead);
		}
		o.k = sh->k;
		o.threads = sh->threads;
		o.quantised = quantised;
		for (size_t i = 0; i < sizeof(kernel_names) / sizeof(kernel_names[0]); i++)
			if (use_kernel(kernel_names[i]))
				check_search(b, nb, sh->dim, sh->nq, &o, queries);
		for (size_t i = 0; i < nb; i++)
			free_block(&b[i]);
		free(queries);
	}
	done_kernels();
}

static void every_kernel_returns_the_reference_top_k(void **state)
{
	(void)state;
	run_shapes(0);
}

static void quantised_search_returns_the_exact_top_k_on_random_data(void **state)
{
	(void)state;
	run_shapes(1);
}

static void quantised_search_returns_the_exact_top_k_on_clustered_data(void **state)
{
	(void)state;
	const unsigned dim = 96;
	const size_t clusters = 40, per = 100, n = clusters * per, nq = 25;
	float *centres = random_rows(clusters, dim), *v = malloc(n * dim * sizeof(*v));
	float *queries = malloc(nq * dim * sizeof(*queries));
	struct topk_opts o = TOPK_OPTS_INIT;

	for (size_t i = 0; i < n; i++) {
		for (unsigned d = 0; d < dim; d++)
			v[i * dim + d] = centres[(i % clusters) * dim + d] + 0.05f * grand();
		normalise(v + i * dim, dim);
	}
	for (size_t i = 0; i < nq; i++) {
		for (unsigned d = 0; d < dim; d++)
			queries[i * dim + d] = centres[(i * 7 % clusters) * dim + d] + 0.05f * grand();
		normalise(queries + i * dim, dim);
	}
	struct topk_rows b = make_block(v, n, dim, NULL);
	o.quantised = 1;
	o.threads = 1;
	for (size_t i = 0; i < sizeof(kernel_names) / sizeof(kernel_names[0]); i++)
		if (use_kernel(kernel_names[i])) {
			check_search(&b, 1, dim, nq, &o, queries);
			check_search(&b, 1, dim, 1, &o, queries);
		}
	done_kernels();
	free_block(&b);
	free(queries);
	free(centres);
}

static void ties_are_broken_by_the_lower_row(void **state)
{
	(void)state;
	const unsigned dim = 40;
	const size_t n[2] = { 150, 90 };
	float *a = random_rows(n[0], dim), *c = random_rows(n[1], dim);
	float *q = random_rows(10, dim);
	const size_t dup[5] = { 3, 64, 149, 150 + 7, 150 + 77 };   /* global rows */
	struct topk_hit hits[10 * 4];
	size_t nhits[10];
	struct rp_err err = { 0 };
	struct topk_opts o = TOPK_OPTS_INIT;

	for (size_t j = 0; j < 5; j++) {
		float *dst = dup[j] < n[0] ? a + dup[j] * dim : c + (dup[j] - n[0]) * dim;
		memcpy(dst, q, dim * sizeof(float));     /* the best row for query 0, five times */
	}
	struct topk_rows b[2] = { make_block(a, n[0], dim, NULL), make_block(c, n[1], dim, NULL) };
	o.k = 4;
	for (int quantised = 0; quantised <= 1; quantised++)
		for (size_t i = 0; i < sizeof(kernel_names) / sizeof(kernel_names[0]); i++) {
			if (!use_kernel(kernel_names[i]))
				continue;
			o.quantised = quantised;
			for (size_t nq = 1; nq <= 10; nq += 9) {   /* the dot and the packed kernels */
				assert_int_equal(topk_search(q, nq, dim, b, 2, &o, hits, nhits, &err), 0);
				assert_int_equal(nhits[0], 4);
				for (size_t j = 0; j < 4; j++)
					assert_int_equal(hits[j].row, dup[j]);
				assert_true(hits[0].score == hits[3].score);
			}
		}
	done_kernels();
	free_block(&b[0]);
	free_block(&b[1]);
	free(q);
}

static void quantiser_scale_is_max_over_127(void **state)
{
	(void)state;
	const float v[2][5] = { { 0.5f, -31.75f, 0.375f, 0, 0.125f }, { 0, 0, 0, 0, 0 } };
	int8_t q[10];
	float s[2];

	topk_quantise(&v[0][0], 2, 5, q, s);
	assert_true(s[0] == 0.25f);     /* 31.75 / 127 */
	assert_int_equal(q[0], 2);
	assert_int_equal(q[1], -127);
	assert_int_equal(q[2], 2);      /* 1.5 rounds to even */
	assert_int_equal(q[3], 0);
	assert_int_equal(q[4], 0);      /* 0.5 rounds to even */
	assert_true(s[1] == 0);
	for (int d = 5; d < 10; d++)
		assert_int_equal(q[d], 0);
}

static void an_unknown_kernel_is_an_input_error(void **state)
{
	(void)state;
	float q[4] = { 1, 0, 0, 0 }, v[8] = { 1, 0, 0, 0, 0, 1, 0, 0 };
	struct topk_rows b = { v, NULL, NULL, NULL, 2 };
	struct topk_opts o = TOPK_OPTS_INIT;
	struct topk_hit hits[10];
	size_t nhits[1];
	struct rp_err err = { 0 };

	setenv("RP_TOPK_KERNEL", "bogus", 1);
	topk_reset();
	assert_int_equal(topk_search(q, 1, 4, &b, 1, &o, hits, nhits, &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_string_equal(err.msg,
			    "RP_TOPK_KERNEL: unknown kernel 'bogus' (expected avx512, avx2 or portable)");
	assert_string_equal(topk_kernel_name(), "none");
	done_kernels();

	/* and a quantised search needs the int8 copy */
	o.quantised = 1;
	memset(&err, 0, sizeof(err));
	assert_int_equal(topk_search(q, 1, 4, &b, 1, &o, hits, nhits, &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(err.msg, "quantised search needs int8 vectors"));
	o.quantised = 0;
	assert_int_equal(topk_search(q, 1, 4, &b, 1, &o, hits, nhits, &err), 0);
	assert_int_equal(nhits[0], 2);
	assert_int_equal(hits[0].row, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kernel_returns_the_reference_top_k),
		cmocka_unit_test(quantised_search_returns_the_exact_top_k_on_random_data),
		cmocka_unit_test(quantised_search_returns_the_exact_top_k_on_clustered_data),
		cmocka_unit_test(ties_are_broken_by_the_lower_row),
		cmocka_unit_test(quantiser_scale_is_max_over_127),
		cmocka_unit_test(an_unknown_kernel_is_an_input_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
