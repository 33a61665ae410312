/*
 * embcache-bulk.c - the embedding cache's insert and bulk-lookup rates.
 *
 *     make bench/embcache-bulk && bench/embcache-bulk [N [DIM]]
 *
 * Fills a scratch cache ($TMPDIR or /tmp) with N vectors of DIM floats
 * (default 100,000 x 384, in transactions of 10,000 as rp-embed writes
 * them), then looks all N keys up in one embcache_lookup() call, and prints
 * both rates. It lived in the unit suite (test-embcache.c) until the suite
 * was made to hold only assertions; embedding.py measures the same lookups
 * inside rp-embed against peers, this measures the library alone.
 * Exits 1 when a call fails or a key is not found.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ai/embcache.h"
#include "util/error.h"
#include "util/fs.h"

#define BATCH 10000u

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int on_hit(void *ctx, size_t i, const char *provider, const char *model, unsigned dim,
		  const float *vec)
{
	(void)i, (void)provider, (void)model, (void)dim, (void)vec;
	(*(size_t *)ctx)++;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 100000;
	unsigned dim = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 384;
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/rp-bench-embcache.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	struct rp_err err = { 0 };
	struct embcache *c;
	unsigned char (*keys)[EMBCACHE_KEY];
	float *vecs;
	size_t hits = 0;
	double t0, t1, t2;
	int ret = 1;

	if (n == 0 || dim == 0) {
		fprintf(stderr, "usage: embcache-bulk [N [DIM]] (both positive)\n");
		return 2;
	}
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	char *db = xasprintf("%s/embed-cache.db", dir);
	keys = xmalloc((size_t)n * EMBCACHE_KEY);
	vecs = xcalloc((size_t)BATCH * dim, sizeof(float));
	for (unsigned i = 0; i < n; i++) {
		char text[32];

		snprintf(text, sizeof(text), "text %u", i);
		embcache_key("local", "m", dim, NULL, text, strlen(text), keys[i]);
	}
	c = embcache_open(db, &err);
	if (!c)
		goto out;
	t0 = now();
	for (unsigned s = 0; s < n; s += BATCH) {
		size_t k = n - s < BATCH ? n - s : BATCH;

		if (embcache_put(c, (const unsigned char (*)[EMBCACHE_KEY])keys + s, k,
				 "local", "m", dim, vecs, &err) < 0)
			goto out;
	}
	t1 = now();
	if (embcache_lookup(c, (const unsigned char (*)[EMBCACHE_KEY])keys, n, on_hit, &hits,
			    &err) < 0)
		goto out;
	t2 = now();
	if (hits != n) {
		fprintf(stderr, "embcache-bulk: %zu of %u keys found\n", hits, n);
		goto out;
	}
	printf("embcache %u x %u: insert %.0f/s, bulk lookup %.0f/s\n", n, dim,
	       n / (t1 - t0), n / (t2 - t1));
	ret = 0;
out:
	if (ret && err.msg[0])
		fprintf(stderr, "embcache-bulk: %s\n", err.msg);
	embcache_close(c);
	fs_remove_tree(dir, NULL);
	free(vecs);
	free(keys);
	free(db);
	free(dir);
	return ret;
}
