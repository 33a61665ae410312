/*
 * file.h - rp.lock on disk: loading it (with its journal) and writing it.
 *
 * A load reads rp.lock, or skips even that when its binary image
 * (locksnap.h) records the file as unchanged; the parse is skipped when the
 * image was made from the same bytes. A write replaces rp.lock atomically
 * (util/fs.h), copying the text of unchanged stages from the old file, and
 * records the new image.
 */
#ifndef RP_LOCK_FILE_H
#define RP_LOCK_FILE_H

#include "lock/model.h"
#include "util/error.h"

/*
 * Loads `path` (a missing file is an empty lock) and, when `journal` is not
 * NULL and its header names the loaded bytes, replays it. With `snap` (may be
 * NULL) the parse is skipped when that binary image (locksnap.h) was made
 * from the same bytes, and the image is rewritten after a parse. NULL + err
 * on a malformed lock ("rp.lock:L:C: ...", RP_ERR_INPUT). Free with lock_free().
 */
struct lock *lock_load(const char *path, const char *journal, const char *snap,
		       struct rp_err *err);
/*
 * Writes the lock atomically to `path` and records its hash in l->base; with
 * `snap` (may be NULL) also its binary image there (best effort). 0, or
 * -1 + err (RP_ERR_IO) with the old rp.lock left as it was.
 */
int lock_write(struct lock *l, const char *path, const char *snap, struct rp_err *err);

#endif
