/*
 * llmcache.h - the LLM-context cache of rp-context: sqlite, key -> the
 * context a model wrote for one chunk. Next to embcache.h, and shareable
 * the same way (WAL mode, a busy timeout).
 *
 *   CREATE TABLE context(key TEXT PRIMARY KEY, context TEXT NOT NULL,
 *                        model TEXT NOT NULL, prompt_version TEXT NOT NULL,
 *                        prompt_sha256 TEXT NOT NULL) WITHOUT ROWID;
 *
 * key = SHA-256 over the length-prefixed ("LEN:" in decimal, then the
 * bytes) strings method ("llm@1"), model, prompt version, document sha256
 * and chunk text: llmcache_key(). The prompt text itself is not in the key:
 * its version stands for it, and the stored prompt_sha256 lets the caller
 * warn when a version's text changed.
 */
#ifndef RP_LLMCACHE_H
#define RP_LLMCACHE_H

#include <stddef.h>
#include "util/error.h"
#include "util/hash.h"

struct llmcache;

/* The cache key of one context, as above, into hex. Everything is borrowed; `chunk` is `clen` bytes. */
void llmcache_key(const char *method, const char *model, const char *version, const char *doc_sha256,
		  const char *chunk, size_t clen, char hex[HASH_HEX]);

/*
 * Opens (creating it and its directory if needed) the cache at `path`.
 * A handle (free with llmcache_close), or NULL + err.
 */
struct llmcache *llmcache_open(const char *path, struct rp_err *err);
/* Closes the cache; NULL does nothing. */
void llmcache_close(struct llmcache *c);

/*
 * Looks `key` up: 1 with *context and *prompt_sha256 set (new strings, the
 * caller frees; *prompt_sha256 may be NULL), 0 when absent, -1 + err.
 */
int llmcache_get(struct llmcache *c, const char *key, char **context, char **prompt_sha256,
		 struct rp_err *err);

/* Stores one context (committed at once, replacing a row of the same key). 0 or -1 + err. */
int llmcache_put(struct llmcache *c, const char *key, const char *context, const char *model,
		 const char *version, const char *prompt_sha256, struct rp_err *err);

#endif
