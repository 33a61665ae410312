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
 *     algo <len>:<program> <len>:<name@version>\n
 *                                     for each algorithm of rp's stage programs
 *                                     the commands apply (progver.h) whose
 *                                     version is above 1, sorted
 *
 * <len> is the decimal byte length of the string that follows the colon, so
 * no choice of names can make two different stages encode the same.
 *
 * Algorithm versions: a stage whose command runs `rp chunk --strategy
 * markdown` applies markdown@N, and a release that bumps N must run it
 * again although its command text is the same. Version 1 of every
 * algorithm is what rp applied before versions entered the key, so it
 * adds no line: the key of every stage is what it was before (locks
 * written by older releases stay clean), and the first bump of an
 * algorithm changes exactly the keys of the stages that apply it.
 */
#ifndef RP_KEY_H
#define RP_KEY_H

#include "util/buf.h"
#include "util/hash.h"
#include "core/pipeline.h"
#include "core/progver.h"

/*
 * Appends the canonical encoding of `st` to `out`; dep_hashes[i] is the
 * content hash of st->deps[i]. Exposed for tests and `rp status --explain`.
 */
void key_encode(const struct stage *st, const char *const *dep_hashes, struct buf *out);
/* Writes the stage key (hex) of `st` with its deps' hashes into `hex`. */
void key_compute(const struct stage *st, const char *const *dep_hashes, char hex[HASH_HEX]);
/*
 * As key_compute(), with the algorithms uses[0..nuses) (as progver_detect()
 * reports them) in place of those of the stage's commands: freshness.c
 * asks which older version the lock's key was made with.
 */
void key_compute_uses(const struct stage *st, const char *const *dep_hashes,
		      const struct progver_use *uses, size_t nuses, char hex[HASH_HEX]);

#endif
