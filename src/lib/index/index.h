/*
 * index.h - an rp index directory, read side (the format: rp-index(5)).
 *
 * An index is a directory whose MANIFEST.json names immutable segment files
 * (segment.h), their dead-row bitmaps and the tombstone log. index_open()
 * reads and validates the manifest, maps every segment and checks its
 * structure (every offset in bounds, the model and dimension equal to the
 * manifest's), so that a hostile index can make rp fail but never read out
 * of bounds. It does not hash the segments (index_verify_files does), so a
 * query costs one mmap per segment, not a pass over the data.
 *
 *     struct index *ix;
 *     if (index_open(&ix, "build/green/index", 0, &err) < 0) ...
 *     for (size_t s = 0; s < ix->nseg; s++)
 *         ... ix->segs[s].vecs, ix->segs[s].rows, index_row_live(&ix->segs[s], r)
 *     index_close(ix);
 *
 * Rows are addressed by (segment, row). A row is live unless its bit is set
 * in the segment's dead bitmap.
 */
#ifndef RP_INDEX_INDEX_H
#define RP_INDEX_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"
#include "util/hash.h"

#define INDEX_MANIFEST "MANIFEST.json"

/* One mapped segment; every pointer is into the mapping, owned by the index. */
struct index_seg {
	char *file;              /* "seg-<16hex>.rps", owned */
	char sha256[HASH_HEX];   /* the file's SHA-256, from the manifest */
	size_t rows;             /* rows in the file, live or dead */
	size_t dead_rows;        /* rows whose dead bit is set */
	const float *vecs;       /* rows * dim floats, row r at vecs + r * dim, 64-byte aligned */
	const int8_t *qvecs;     /* rows * dim int8, v ~= q * qscale[r] */
	const float *qscale;     /* rows scales */
	const uint8_t *dead;     /* ceil(rows / 8) bytes, bit r = row r dead; NULL: none dead */
	const void *map;         /* the segment mapping (private to index.c) */
	size_t map_len;
	const void *dead_map;    /* the bitmap mapping (private to index.c) */
	size_t dead_len;
};

struct index {
	char *path;              /* the directory, as given, owned */
	char *provider;          /* owned */
	char *model;             /* owned */
	unsigned dim;
	char *distance;          /* "cosine" or "ip", owned */
	unsigned long long generation;
	char digest[HASH_HEX];   /* the logical digest, from the manifest */
	size_t nseg;
	struct index_seg *segs;  /* nseg, owned */
	size_t live;             /* live rows (chunks) */
	size_t documents;        /* distinct doc_ids of the live rows */
	size_t tombstones;       /* entries of the tombstone log */
	size_t ntomb_files;
	char **tomb_files;       /* ntomb_files file names, owned */
	char **fts_files;        /* nseg names or NULL (no hybrid table), owned; NULL: none */
	unsigned long long bytes;/* total size of the files the manifest names */
};

/* The metadata of one row, borrowed from the mapping (not NUL-terminated). */
struct index_row {
	const char *chunk_id;
	size_t chunk_id_len;
	const char *doc_id;
	size_t doc_id_len;
	const char *text;
	size_t text_len;
	char content_hash[HASH_HEX]; /* lowercase hex, NUL-terminated */
	const unsigned char *line_fp; /* 32 raw bytes: SHA-256 of the chunk file line (segment.h) */
};

/*
 * Opens the index in directory `dir`. 0 and *out (index_close it), or -1 +
 * err: RP_ERR_INPUT for an invalid index ("DIR/MANIFEST.json: ..." naming what
 * is wrong and how to fix it), RP_ERR_IO when the system fails. A directory
 * without a manifest is an error unless `allow_empty`, which gives an empty
 * index (no segments, no model: provider/model NULL, dim 0).
 */
int index_open(struct index **out, const char *dir, int allow_empty, struct rp_err *err);

/* Unmaps and frees everything. index_close(NULL) does nothing. */
void index_close(struct index *ix);

/* 1 when row r of segment s is live, 0 when it is dead. */
static inline int index_row_live(const struct index_seg *s, size_t r)
{
	return !s->dead || !(s->dead[r >> 3] & (1u << (r & 7)));
}

/*
 * Fills *row with the metadata of row r of segment s (pointers into the
 * mapping, valid until index_close). 0, or -1 + err (RP_ERR_INPUT) when the
 * row's record is out of bounds or malformed (a damaged segment).
 */
int index_row(const struct index *ix, size_t s, size_t r, struct index_row *row, struct rp_err *err);

#endif
