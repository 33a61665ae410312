/*
 * key.h - a stage's cache key.
 *
 * The key is the SHA-256 of a canonical encoding of everything that decides a
 * stage's outputs, and of nothing else (rp.lock(5) documents it):
 *
 *     rp-stage-key 1\n
 *     cmd <len>:<command>\n           for each command, in order
 *     wdir <len>:<wdir>\n
 *     dep <len>:<path> <hash>\n       for each dep, sorted by path
 *     param <len>:<file> <len>:<key> <len>:<canonical JSON value>\n
 *                                     for each param, sorted by file then key
 *                                     (a whole-file param has key "")
 *     out <len>:<path>\n              for each out and metric, sorted by path
 *
 * <len> is the decimal byte length of the string that follows the colon, so
 * no choice of names can make two different stages encode the same.
 */
#ifndef RP_KEY_H
#define RP_KEY_H

#include "util/buf.h"
#include "util/hash.h"
#include "core/pipeline.h"

/*
 * Appends the canonical encoding of `st` to `out`; dep_hashes[i] is the
 * content hash of st->deps[i]. Exposed for tests and `rp status --explain`.
 */
void key_encode(const struct stage *st, const char *const *dep_hashes, struct buf *out);
/* Writes the stage key (hex) of `st` with its deps' hashes into `hex`. */
void key_compute(const struct stage *st, const char *const *dep_hashes, char hex[HASH_HEX]);

#endif
