/*
 * hash.c - SHA-256 of buffers and files through OpenSSL's EVP interface.
 *
 * Digests are lowercase hex, 64 characters and a NUL. Files are read with
 * sequential read-ahead advice. Small files are read in one 64 KiB stack
 * block, mid-sized ones in 1 MiB blocks, by the calling thread. Files above
 * HASH_BIG_FILE are read by a helper thread into a ring of RING_SLOTS blocks
 * of RING_BLOCK bytes while the caller hashes the blocks before, so the copy
 * out of the page cache overlaps the hashing: 98-100% of OpenSSL's one-core
 * rate against ~80% for read-then-hash (bench/README.md, "Big file"). The
 * reader is the faster side; once the ring is full it sleeps until only
 * RING_LOW blocks are left, so it is woken once per several blocks, not for
 * each. The ring's counters live under its mutex: the reader owns block
 * head % RING_SLOTS while head - tail < RING_SLOTS, the hasher owns block
 * tail % RING_SLOTS while tail < head; no block is touched by both at once.
 * The reader stops at end of file or at the first read error, which the
 * caller reports after joining it.
 *
 * hash_files() spreads a list of files over a small pthread pool: each worker
 * takes the next index from one atomic counter, so big and small files
 * balance themselves; no worker touches another's slot of the output array.
 * After a failure the workers stop taking new files and the failure with the
 * lowest index is reported.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "util/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define READ_BLOCK (1 << 20)
#define SMALL_BLOCK (1 << 16)
#define RING_BLOCK (256 << 10)
#define RING_SLOTS 8
#define RING_LOW 2              /* a full ring's reader wakes with this many left */

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

/*
 * SHA-256, fetched once per process. OpenSSL's start-up reads openssl.cnf
 * (about 0.35 ms) and EVP_sha256() is looked up again on every digest, which
 * for rp's thousands of small digests (stage keys) doubled their cost; rp uses
 * no configurable OpenSSL feature, so the configuration file is not read.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!sha256_md)
		BUG("OpenSSL has no SHA256");
}

static const EVP_MD *sha256(void)
{
	pthread_once(&sha256_once, fetch_sha256);
	return sha256_md;
}

struct hash_ctx *hash_begin(void)
{
	struct hash_ctx *c = xmalloc(sizeof(*c));

	c->md = EVP_MD_CTX_new();
	if (!c->md || !EVP_DigestInit_ex(c->md, sha256(), NULL))
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

	if (!EVP_Digest(data, len, md, &mdlen, sha256(), NULL))
		BUG("EVP_Digest failed");
	to_hex(md, mdlen, hex);
}

/* Hashes the rest of `fd` read in blocks of `size` at `block`; 0 or an errno. */
static int hash_fd(int fd, struct hash_ctx *c, char *block, size_t size)
{
	ssize_t n;

	while ((n = read(fd, block, size)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		hash_update(c, block, (size_t)n);
	}
	return 0;
}

struct ring {
	int fd;
	char *buf;                      /* RING_SLOTS blocks of RING_BLOCK */
	size_t len[RING_SLOTS];         /* bytes in each filled block */
	pthread_mutex_t lock;
	pthread_cond_t filled, drained;
	unsigned long head, tail;       /* blocks read, blocks hashed */
	int done;                       /* the reader has stopped */
	int error;                      /* errno of the failed read, or 0 */
};

static void *ring_reader(void *arg)
{
	struct ring *r = arg;

	pthread_mutex_lock(&r->lock);
	while (!r->done) {
		size_t slot, got = 0;
		char *p;
		int e = 0;

		/* when full, sleep until the hasher is nearly out of blocks */
		if (r->head - r->tail == RING_SLOTS)
			while (r->head - r->tail > RING_LOW)
				pthread_cond_wait(&r->drained, &r->lock);
		slot = r->head % RING_SLOTS;
		pthread_mutex_unlock(&r->lock);

		/* fill the block whole: short blocks only at end of file */
		p = r->buf + slot * RING_BLOCK;
		while (got < RING_BLOCK) {
			ssize_t n = read(r->fd, p + got, RING_BLOCK - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				e = errno;
			if (n <= 0)
				break;
			got += (size_t)n;
		}

		pthread_mutex_lock(&r->lock);
		if (!e && got) {
			r->len[slot] = got;
			r->head++;
		}
		r->error = e;
		r->done = e || got < RING_BLOCK;
		pthread_cond_signal(&r->filled);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* As hash_fd(), reading on a helper thread; falls back to hash_fd() without one. */
static int hash_fd_ring(int fd, struct hash_ctx *c)
{
	struct ring r = { .fd = fd };
	pthread_t tid;
	int e;

	r.buf = xmalloc((size_t)RING_SLOTS * RING_BLOCK);
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.filled, NULL);
	pthread_cond_init(&r.drained, NULL);
	if (pthread_create(&tid, NULL, ring_reader, &r) != 0) {
		e = hash_fd(fd, c, r.buf, (size_t)RING_SLOTS * RING_BLOCK);
		goto out;
	}

	pthread_mutex_lock(&r.lock);
	for (;;) {
		size_t slot;

		while (r.tail == r.head && !r.done)
			pthread_cond_wait(&r.filled, &r.lock);
		if (r.error || r.tail == r.head)
			break;
		slot = r.tail % RING_SLOTS;
		pthread_mutex_unlock(&r.lock);
		hash_update(c, r.buf + slot * RING_BLOCK, r.len[slot]);
		pthread_mutex_lock(&r.lock);
		r.tail++;
		if (r.head - r.tail <= RING_LOW)
			pthread_cond_signal(&r.drained);
	}
	e = r.error;
	pthread_mutex_unlock(&r.lock);
	pthread_join(tid, NULL);
out:
	pthread_cond_destroy(&r.drained);
	pthread_cond_destroy(&r.filled);
	pthread_mutex_destroy(&r.lock);
	free(r.buf);
	return e;
}

int hash_file(const char *path, char hex[HASH_HEX], struct rp_err *err)
{
	char small[SMALL_BLOCK];
	struct hash_ctx *c;
	struct stat st;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
	c = hash_begin();
	if (fstat(fd, &st) < 0 || st.st_size < SMALL_BLOCK) {
		e = hash_fd(fd, c, small, sizeof(small));
	} else if (st.st_size <= HASH_BIG_FILE) {
		char *block = xmalloc(READ_BLOCK);

		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		e = hash_fd(fd, c, block, READ_BLOCK);
		free(block);
	} else {
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		e = hash_fd_ring(fd, c);
	}
	close(fd);
	if (e) {
		char dummy[HASH_HEX];

		hash_final(c, dummy);
		errno = e;
		return rp_err_set(err, RP_ERR_IO, "cannot read '%s': %s", path, strerror(e));
	}
	hash_final(c, hex);
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

/* sysconf reads /sys each time: ask once per process */
static int ncores;
static pthread_once_t ncores_once = PTHREAD_ONCE_INIT;

static void count_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	ncores = n < 1 ? 1 : (int)n;
}

int hash_ncores(void)
{
	pthread_once(&ncores_once, count_cores);
	return ncores;
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
