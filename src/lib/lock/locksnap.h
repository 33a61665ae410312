/*
 * locksnap.h - a binary image of a parsed rp.lock, so commands need not parse
 * the YAML again while rp.lock is unchanged.
 *
 * Parsing rp.lock with libyaml costs about 300 instructions a byte: at 1,000
 * stages (0.5 MB) it was 58% of a no-op `rp repro`. Whenever rp writes or
 * parses rp.lock it also writes .rp/lock.snap, which holds the SHA-256 of the
 * rp.lock bytes it was made from, rp.lock's stat identity when they were
 * verified, the lock in a length-prefixed binary form, and the SHA-256 of
 * that body. A reader uses the image
 *   - without reading rp.lock, when rp.lock's device, inode, size, mtime and
 *     ctime are those recorded and it had not changed for 10 ms when its
 *     bytes were verified (the racy-git rule of state.c); or else
 *   - when the bytes of rp.lock it read hash to the recorded SHA-256;
 * and only when the body's own hash matches. So a hand-edited, checked-out or
 * merged rp.lock is parsed from its YAML, and a torn or corrupt image is
 * ignored. The image is a cache: deleting it is always safe.
 *
 * Layout (integers little-endian, strings as in bin.h):
 *     "rplsnap5"  8 bytes of magic
 *     identity    u64 dev, ino, size, mtime_ns, ctime_ns of rp.lock, and
 *                 u64 verified_ns, when its bytes were known to hash to base
 *     base        64 hex digits: sha256 of the rp.lock bytes
 *     stages      u32, then that many stages
 *     text        for each stage, u64 text_off and text_len (lock.h)
 *     check       64 hex digits: sha256 of base, stages and text
 * The identity is outside the check so that locksnap_touch() can rewrite it
 * in place; a damaged identity can only fail to match (a miss).
 * A stage is: name, key, u32 ncmds and the cmds, wdir, u32 ndeps and the
 * deps, u32 nparams and (file, key, value) each, u32 nouts and the outs. A
 * dep or out is: path, hash, u64 size, u64 nfiles, u8 isdir, u8 cache.
 */
#ifndef RP_LOCKSNAP_H
#define RP_LOCKSNAP_H

#include <stddef.h>
#include <stdint.h>
#include "lock/model.h"

/*
 * The lock whose image `snap` holds, if that image was made from rp.lock
 * bytes that hash to `base` and is intact; else NULL (quietly: the caller
 * parses the YAML). The result's base is `base`; free with lock_free().
 */
struct lock *locksnap_read(const char *snap, const char base[HASH_HEX]);
/*
 * The lock whose image `snap` holds, if it was recorded for the rp.lock now
 * at `lockpath` (same stat identity, not racy) and is intact; else NULL.
 * Reads no byte of rp.lock. Free with lock_free().
 */
struct lock *locksnap_read_unchanged(const char *snap, const char *lockpath);

/*
 * The time to pass as `verified_ns` below: taken before rp.lock's bytes are
 * read or written, so that a change made while they were being read is
 * within the racy window and never trusted by its stat.
 */
uint64_t locksnap_clock(void);
/*
 * Writes the image of `l` (made from the bytes of the rp.lock at `lockpath`,
 * whose hash is l->base, read or written since `verified_ns`) to `snap`
 * atomically, without fsync, with rp.lock's stat identity. Failures are
 * ignored: the image is a cache, and a missing one only costs a parse.
 */
void locksnap_write(const struct lock *l, const char *snap, const char *lockpath,
		    uint64_t verified_ns);
/*
 * Records, in the image at `snap` (whose base matched the bytes of
 * `lockpath` read since `verified_ns`), rp.lock's stat identity, so the next
 * load can skip reading it. Failures are ignored.
 */
void locksnap_touch(const char *snap, const char *lockpath, uint64_t verified_ns);
/*
 * 1 when the image at `snap` was made from bytes hashing to `base` and
 * records the rp.lock now at `lockpath` as unchanged since they were
 * verified (so that file holds those bytes); reads only the image's header.
 */
int locksnap_base_holds(const char *snap, const char *lockpath, const char base[HASH_HEX]);

#endif
