/*
 * topk-bench.c - times topk_search() (src/lib/index/topk.h) on vectors
 * given as raw float32 files; bench/index-search.py drives it and compares
 * it with faiss on the same files.
 *
 *     make bench/topk-bench
 *     bench/topk-bench ROWS.f32 DIM QUERIES.f32 MODE [options]
 *
 * ROWS.f32 holds N x DIM float32 (N from the file size), QUERIES.f32 NQ x
 * DIM. MODE is `batch` (all queries in one call) or `single` (one call per
 * query). Options: -k K (10), --threads T (1), --int8 (the quantised scan
 * with re-ranking; the int8 copy is made once, untimed, as a segment holds
 * it), --runs R (3; the median is reported), --hits FILE (write the rows of
 * the last run, NQ x K int32, -1 past nhits). Prints one JSON object:
 * {"kernel","mode","rows","dim","queries","k","threads","int8","seconds"
 * (median of the runs, the whole batch), "runs":[...]}.
 * Exits 1 when a call fails, 2 on bad usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "index/topk.h"
#include "util/error.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static float *load(const char *path, unsigned dim, size_t *n)
{
	FILE *f = fopen(path, "rb");
	long len;
	float *v;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
		fprintf(stderr, "topk-bench: cannot read '%s'\n", path);
		exit(2);
	}
	*n = (size_t)len / (dim * sizeof(float));
	v = aligned_alloc(64, ((size_t)len + 63) / 64 * 64);
	if (!v || fread(v, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "topk-bench: cannot read '%s'\n", path);
		exit(2);
	}
	fclose(f);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: topk-bench ROWS.f32 DIM QUERIES.f32 batch|single [-k K] "
		"[--threads T] [--int8] [--runs R] [--hits FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct topk_opts o = TOPK_OPTS_INIT;
	const char *hits_path = NULL;
	int runs = 3, single;
	unsigned dim;
	size_t n, nq;
	struct rp_err err = { 0 };

	if (argc < 5)
		usage();
	dim = (unsigned)strtoul(argv[2], NULL, 10);
	single = !strcmp(argv[4], "single");
	if (!dim || (!single && strcmp(argv[4], "batch")))
		usage();
	o.threads = 1;
	for (int i = 5; i < argc; i++) {
		if (!strcmp(argv[i], "-k") && i + 1 < argc)
			o.k = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			o.threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--int8"))
			o.quantised = 1;
		else if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			runs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--hits") && i + 1 < argc)
			hits_path = argv[++i];
		else
			usage();
	}
	if (runs < 1 || runs > 100 || o.k < 1)
		usage();

	float *rows = load(argv[1], dim, &n), *queries = load(argv[3], dim, &nq);
	int8_t *q8 = malloc(n * dim);
	float *qs = malloc(n * sizeof(float));
	topk_quantise(rows, n, dim, q8, qs);
	struct topk_rows blk = { rows, q8, qs, NULL, n };
	struct topk_hit *hits = malloc(nq * o.k * sizeof(*hits));
	size_t *nhits = malloc(nq * sizeof(*nhits));
	double *t = malloc(runs * sizeof(double));

	if (topk_init(&err) < 0) {
		fprintf(stderr, "topk-bench: %s\n", err.msg);
		return 1;
	}
	for (int r = 0; r < runs; r++) {
		double t0 = now();
		for (size_t i = 0; i < (single ? nq : 1); i++) {
			size_t m = single ? 1 : nq;
			if (topk_search(queries + i * dim * single, m, dim, &blk, 1, &o, hits + i * o.k * single,
					nhits + i * single, &err) < 0) {
				fprintf(stderr, "topk-bench: %s\n", err.msg);
				return 1;
			}
		}
		t[r] = now() - t0;
	}
	if (hits_path) {
		FILE *f = fopen(hits_path, "wb");
		for (size_t i = 0; f && i < nq; i++)
			for (size_t j = 0; j < o.k; j++) {
				int32_t row = j < nhits[i] ? (int32_t)hits[i * o.k + j].row : -1;
				fwrite(&row, sizeof(row), 1, f);
			}
		if (!f || fclose(f) != 0) {
			fprintf(stderr, "topk-bench: cannot write '%s'\n", hits_path);
			return 1;
		}
	}
	printf("{\"kernel\":\"%s\",\"mode\":\"%s\",\"rows\":%zu,\"dim\":%u,\"queries\":%zu,\"k\":%zu,"
	       "\"threads\":%d,\"int8\":%s,\"runs\":[", topk_kernel_name(), argv[4], n, dim, nq, o.k,
	       o.threads, o.quantised ? "true" : "false");
	for (int r = 0; r < runs; r++)
		printf("%s%.6f", r ? "," : "", t[r]);
	qsort(t, runs, sizeof(double), cmp_double);
	printf("],\"seconds\":%.6f}\n", t[runs / 2]);
	free(t);
	free(nhits);
	free(hits);
	free(qs);
	free(q8);
	free(queries);
	free(rows);
	return 0;
}
