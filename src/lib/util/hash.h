/*
 * hash.h - SHA-256 through OpenSSL's EVP interface, as lowercase hex.
 *
 * Files are read in large blocks, those above HASH_BIG_FILE bytes by a helper
 * thread while the caller hashes; hash_files() spreads many files over
 * threads. Hex digests are 64 characters plus a NUL.
 */
#ifndef RP_HASH_H
#define RP_HASH_H

#include <stddef.h>
#include "util/error.h"

#define HASH_HEX 65  /* bytes for a hex digest and its NUL */
#define HASH_BIG_FILE (8 << 20)  /* hash_file() reads larger files on a second thread */

struct hash_ctx;

/* A new streaming context; never NULL (dies on OOM). Free with hash_final(). */
struct hash_ctx *hash_begin(void);
void hash_update(struct hash_ctx *c, const void *data, size_t len);
/* Writes the hex digest to `hex` and frees the context. */
void hash_final(struct hash_ctx *c, char hex[HASH_HEX]);

/* SHA-256 of `len` bytes at `data` into `hex`. */
void hash_buf(const void *data, size_t len, char hex[HASH_HEX]);
/*
 * SHA-256 of the file at `path`; 0, or -1 with err (RP_ERR_IO, naming the
 * path) filled. Starts and joins one thread for files above HASH_BIG_FILE.
 */
int hash_file(const char *path, char hex[HASH_HEX], struct rp_err *err);
/*
 * Hashes paths[0..n) into hex[0..n) on up to `nthreads` threads (0: number of
 * cores). Returns 0, or -1 with err describing the first failure.
 */
int hash_files(const char *const *paths, size_t n, char (*hex)[HASH_HEX],
	       int nthreads, struct rp_err *err);
/* 1 if `s` is exactly 64 lowercase hex digits (a digest hash_* writes), else 0. */
int hash_is_hex(const char *s);
/* Number of online cores, at least 1; asked of the system once per process. */
int hash_ncores(void);

#endif
