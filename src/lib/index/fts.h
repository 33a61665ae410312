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
 * Cuts any text into the words a search looks for: runs of ASCII letters
 * and digits and of non-ASCII bytes, ASCII lowercased (as the tables'
 * unicode61 tokenizer folds them). Nothing of FTS5's query syntax survives
 * ('"', '*', parentheses are separators). Returns how many; *words (each
 * word and the array) is the caller's to free.
 */
size_t fts_words(const char *query, char ***words);

/*
 * Opens the FTS file `path` read-only (immutable: no locks, nothing written).
 * 0 and *out, or -1 + err. One thread at a time may use it.
 */
int fts_open(struct fts **out, const char *path, struct rp_err *err);

/* Closes it; NULL does nothing. */
void fts_close(struct fts *f);

/*
 * The number of rows (dead ones too) of the table holding `word` (as
 * fts_words() gives it) into *df: 0, or -1 when the table cannot tell.
 */
int fts_doc_freq(struct fts *f, const char *word, long long *df);

/*
 * The best `limit` live rows holding any of words[0..nwords) (fts_words()),
 * by BM25, best first, into hits[0..*nhits). `rows` is the segment's row
 * count (a rowid outside it is an error: a damaged file), `dead` its bitmap
 * (NULL: none dead; dead rows are skipped). `path` is for messages.
 * 0 or -1 + err.
 */
int fts_search(struct fts *f, const char *path, const char *const *words, size_t nwords,
	       size_t rows, const uint8_t *dead, size_t limit, struct fts_hit *hits, size_t *nhits,
	       struct rp_err *err);

#endif
