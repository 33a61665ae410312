/*
 * embcache.h - the embedding cache: sqlite, key -> vector.
 *
 * The key of a vector is the SHA-256 of everything that decides it and of
 * nothing else (never a chunk id or a position): see embcache_key(). The
 * file (default .rp/embed-cache.db) may be shared by any number of
 * workspaces and processes at once.
 *
 *     struct embcache *c = embcache_open(path, &err);
 *     embcache_lookup(c, keys, n, on_hit, ctx, &err);    one bulk read
 *     embcache_put(c, keys, n, provider, model, dim, vecs, &err);  one transaction
 *     embcache_close(c);
 */
#ifndef RP_EMBCACHE_H
#define RP_EMBCACHE_H

#include <stddef.h>
#include "util/error.h"

#define EMBCACHE_KEY 32

struct embcache;

/*
 * Computes the cache key of one embedding request: SHA-256 over the
 * length-prefixed (u64 little-endian length, then the bytes) fields
 *     "rp-embed-key-v1", provider namespace (embcache_namespace()), model,
 *     dimensions (decimal; "0" when the model's own dimension is used),
 *     input type ("" when none), text
 * into key[32]. All strings are borrowed; `text` is `len` bytes.
 */
void embcache_key(const char *provider, const char *model, unsigned dims, const char *input_type,
		  const char *text, size_t len, unsigned char key[EMBCACHE_KEY]);

/*
 * The provider namespace of the key: who answers for `model`. A model name
 * says nothing about the server: "m1" on api.openai.com and "m1" on a
 * self-hosted server are two models, and must not share vectors. So:
 *   - "local": the local embedder, wherever it runs (its version is in its
 *     model name, rp-lexical-v1);
 *   - a remote provider at its default server (https://api.openai.com/v1):
 *     the provider's name alone, "openai";
 *   - a remote provider at any other server: "openai@URL", URL the base URL
 *     with its scheme and host in lower case and no final '/'.
 * The first two are what the key held before servers were in it, so the
 * entries of the local embedder and of OpenAI itself stay valid; entries
 * of a self-hosted server made before are no longer found (made once more).
 * Caller frees.
 */
char *embcache_namespace(const char *provider, const char *base_url);

/*
 * Opens (creating it and its directory if needed) the cache at `path`,
 * in WAL mode with a busy timeout. Returns a handle (free with
 * embcache_close) or NULL + err.
 */
struct embcache *embcache_open(const char *path, struct rp_err *err);
/* Closes the database; NULL does nothing. */
void embcache_close(struct embcache *c);

/*
 * Called by embcache_lookup() for each key found: `i` indexes the keys
 * array; the strings and `vec` (dim floats) are borrowed for the call only.
 * Return 0 to go on, -1 to stop the lookup (it then returns -1; fill err
 * yourself via ctx).
 */
typedef int (*embcache_hit_fn)(void *ctx, size_t i, const char *provider, const char *model,
			       unsigned dim, const float *vec);

/*
 * Looks up n distinct keys in one read transaction (the keys go to a temp
 * table that is joined with the cache), calling `fn` for each one found,
 * in no particular order. Rows whose stored vector is malformed are
 * skipped (treated as misses). 0, or -1 + err.
 */
int embcache_lookup(struct embcache *c, const unsigned char (*keys)[EMBCACHE_KEY], size_t n,
		    embcache_hit_fn fn, void *ctx, struct rp_err *err);

/*
 * Stores n vectors (row i: vecs + i * dim) under keys[i], made by
 * provider/model, in one transaction (BEGIN IMMEDIATE .. COMMIT). A key
 * already present keeps its vector. 0, or -1 + err (nothing stored).
 */
int embcache_put(struct embcache *c, const unsigned char (*keys)[EMBCACHE_KEY], size_t n,
		 const char *provider, const char *model, unsigned dim, const float *vecs,
		 struct rp_err *err);

#endif
