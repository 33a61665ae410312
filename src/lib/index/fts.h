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
#include <stdint.h>
#include "util/error.h"

/*
 * Writes a new FTS5 file at `path` (through a temp file, fsync and rename)
 * holding texts[0..n) (lens[i] bytes each) as rows 1..n. 0 or -1 + err.
 */
int fts_write(const char *path, const char *const *texts, const size_t *lens, size_t n,
	      struct rp_err *err);

/* An open FTS file (read-only); fts_close() it. */
struct fts;

/* One full-text hit: the segment's row (0-based) and its BM25 score (higher is better). */
struct fts_hit {
	size_t row;
	double score;
};

/*
 * Opens the FTS file `path` read-only (immutable: no locks, nothing written).
 * 0 and *out, or -1 + err. Safe to search from one thread at a time.
 */
int fts_open(struct fts **out, const char *path, struct rp_err *err);

/* Closes it; NULL does nothing. */
void fts_close(struct fts *f);

/*
 * The best `limit` live rows for the words of `query` (any text: it is cut
 * into words, never parsed as FTS5 syntax), best first, into hits[0..*nhits).
 * `rows` is the segment's row count (a rowid outside it is an error: a
 * damaged file), `dead` its bitmap (NULL: none dead; dead rows are skipped).
 * `path` is for messages. 0 or -1 + err.
 */
int fts_search(struct fts *f, const char *path, const char *query, size_t rows,
	       const uint8_t *dead, size_t limit, struct fts_hit *hits, size_t *nhits,
	       struct rp_err *err);

#endif
