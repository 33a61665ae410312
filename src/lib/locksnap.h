/*
 * locksnap.h - a binary image of a parsed rp.lock, so commands need not parse
 * the YAML again while rp.lock is unchanged.
 *
 * Parsing rp.lock with libyaml costs about 300 instructions a byte: at 1,000
 * stages (0.5 MB) it was 58% of a no-op `rp repro`. Whenever rp writes or
 * parses rp.lock it also writes .rp/lock.snap, which holds the SHA-256 of the
 * rp.lock bytes it was made from, the lock in a length-prefixed binary form,
 * and the SHA-256 of that body. A reader hashes the rp.lock bytes it read
 * (about 0.3 ms a MB with SHA-NI) and uses the image only when both hashes
 * match, so a hand-edited, checked-out or merged rp.lock is always parsed
 * from its YAML, and a torn or corrupt image is ignored. The image is a
 * cache: deleting it is always safe.
 *
 * Layout (integers little-endian):
 *     "rplsnap1"  8 bytes of magic
 *     base        64 hex digits: sha256 of the rp.lock bytes
 *     stages      u32, then that many stages
 *     check       64 hex digits: sha256 of everything before it
 * A string is a u32 length and that many bytes (no NUL; NUL bytes are
 * refused). A stage is: name, key, u32 ncmds and the cmds, wdir, u32 ndeps
 * and the deps, u32 nparams and (file, key, value) each, u32 nouts and the
 * outs. A dep or out is: path, hash, u64 size, u64 nfiles, u8 isdir, u8 cache.
 */
#ifndef RP_LOCKSNAP_H
#define RP_LOCKSNAP_H

#include <stddef.h>
#include "lock.h"

/*
 * The lock whose image `snap` holds, if that image was made from rp.lock
 * bytes that hash to `base` and is intact; else NULL (quietly: the caller
 * parses the YAML). The result's base is `base`; free with lock_free().
 */
struct lock *locksnap_read(const char *snap, const char base[HASH_HEX]);

/*
 * Writes the image of `l` (made from rp.lock bytes whose hash is l->base)
 * to `snap` atomically, without fsync. Failures are ignored: the image is a
 * cache, and a missing one only costs a parse.
 */
void locksnap_write(const struct lock *l, const char *snap);

#endif
