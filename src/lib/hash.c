/*
 * hash.c - SHA-256 of buffers and files through OpenSSL's EVP interface.
 *
 * Digests are lowercase hex, 64 characters and a NUL. Files are read in
 * 1 MiB blocks (small files in one 64 KiB stack block) with sequential
 * read-ahead advice. hash_files() spreads a list of files over a small
 * pthread pool: each worker takes the next index from one atomic counter, so
 * big and small files balance themselves; no worker touches another's slot
 * of the output array. After a failure the workers stop taking new files
 * and the failure with the lowest index is reported.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#define READ_BLOCK (1 << 20)
#define SMALL_BLOCK (1 << 16)

struct hash_ctx {
	EVP_MD_CTX *md;
};

static void to_hex(const unsigned char *md, unsigned len, char hex[HASH_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned i;

	for (i = 0; i < len && i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[2 * i] = '\0';
}

struct hash_ctx *hash_begin(void)
{
	struct hash_ctx *c = xmalloc(sizeof(*c));

	c->md = EVP_MD_CTX_new();
	if (!c->md || !EVP_DigestInit_ex(c->md, EVP_sha256(), NULL))
		BUG("cannot initialise SHA-256 in libcrypto");
	return c;
}

void hash_update(struct hash_ctx *c, const void *data, size_t len)
{
	if (len && !EVP_DigestUpdate(c->md, data, len))
		BUG("EVP_DigestUpdate failed");
}

void hash_final(struct hash_ctx *c, char hex[HASH_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	if (!EVP_DigestFinal_ex(c->md, md, &len))
		BUG("EVP_DigestFinal_ex failed");
	to_hex(md, len, hex);
	EVP_MD_CTX_free(c->md);
	free(c);
}

void hash_buf(const void *data, size_t len, char hex[HASH_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		BUG("EVP_Digest failed");
	to_hex(md, mdlen, hex);
}

int hash_file(const char *path, char hex[HASH_HEX], struct rp_err *err)
{
	char small[SMALL_BLOCK];
	char *block = small;
	size_t blocksize = sizeof(small);
	struct hash_ctx *c;
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && st.st_size >= SMALL_BLOCK) {
		block = xmalloc(READ_BLOCK);
		blocksize = READ_BLOCK;
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	c = hash_begin();
	while ((n = read(fd, block, blocksize)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			char dummy[HASH_HEX];
			hash_final(c, dummy);
			if (block != small)
				free(block);
			close(fd);
			errno = e;
			return rp_err_set(err, RP_ERR_IO, "cannot read '%s': %s",
					  path, strerror(e));
		}
		hash_update(c, block, (size_t)n);
	}
	hash_final(c, hex);
	if (block != small)
		free(block);
	close(fd);
	return 0;
}

int hash_is_hex(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 64;
}

int hash_ncores(void)
{
	/* sysconf reads /sys each time: ask once per process */
	static atomic_int cached;
	int c = atomic_load(&cached);

	if (!c) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		c = n < 1 ? 1 : (int)n;
		atomic_store(&cached, c);
	}
	return c;
}

struct pool {
	const char *const *paths;
	char (*hex)[HASH_HEX];
	size_t n;
	atomic_size_t next;
	atomic_int failed;
	pthread_mutex_t lock;
	size_t err_index;      /* lowest failing index, n if none */
	struct rp_err err;
};

static void *worker(void *arg)
{
	struct pool *p = arg;
	struct rp_err err;

	while (!atomic_load(&p->failed)) {
		size_t i = atomic_fetch_add(&p->next, 1);

		if (i >= p->n)
			break;
		if (hash_file(p->paths[i], p->hex[i], &err) < 0) {
			pthread_mutex_lock(&p->lock);
			if (i < p->err_index) {
				p->err_index = i;
				p->err = err;
			}
			pthread_mutex_unlock(&p->lock);
			atomic_store(&p->failed, 1);
		}
	}
	return NULL;
}

int hash_files(const char *const *paths, size_t n, char (*hex)[HASH_HEX],
	       int nthreads, struct rp_err *err)
{
	struct pool p;
	pthread_t *tids;
	size_t i, started = 0;

	if (nthreads <= 0)
		nthreads = hash_ncores();
	if ((size_t)nthreads > n)
		nthreads = (int)n;
	if (nthreads <= 1) {
		for (i = 0; i < n; i++)
			if (hash_file(paths[i], hex[i], err) < 0)
				return -1;
		return 0;
	}

	p.paths = paths;
	p.hex = hex;
	p.n = n;
	atomic_init(&p.next, 0);
	atomic_init(&p.failed, 0);
	pthread_mutex_init(&p.lock, NULL);
	p.err_index = n;

	/* The calling thread works too; threads that fail to start are not needed. */
	tids = xcalloc((size_t)nthreads - 1, sizeof(*tids));
	for (i = 0; i + 1 < (size_t)nthreads; i++) {
		if (pthread_create(&tids[i], NULL, worker, &p) != 0)
			break;
		started++;
	}
	worker(&p);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	pthread_mutex_destroy(&p.lock);

	if (p.err_index < n) {
		if (err)
			*err = p.err;
		return -1;
	}
	return 0;
}
