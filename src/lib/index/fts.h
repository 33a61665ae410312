/*
 * fts.h - the full-text (BM25) side of a hybrid index: one sqlite FTS5
 * table per segment, in its own immutable file "fts-<16hex>.sqlite" beside
 * the segment, whose rowid is the segment's row number + 1.
 *
 * Segments are immutable, so their tables are too: a new segment gets a new
 * table and storage grows with the change. Dead rows are filtered by the
 * caller with the segment's bitmap.
 */
#ifndef RP_INDEX_FTS_H
#define RP_INDEX_FTS_H

#include <stddef.h>
#include "util/error.h"

/*
 * Writes a new FTS5 file at `path` (through a temp file, fsync and rename)
 * holding texts[0..n) (lens[i] bytes each) as rows 1..n. 0 or -1 + err.
 */
int fts_write(const char *path, const char *const *texts, const size_t *lens, size_t n,
	      struct rp_err *err);

#endif
