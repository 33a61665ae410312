/*
 * manifest.h - MANIFEST.json, the commit point of an index directory, and
 * the index's logical digest (rp-index(5)).
 *
 * The manifest names every file of the index version it describes; readers
 * read only those. It is canonical JSON (sorted keys, compact, one line):
 *
 *   {"counts":{"chunks":N,"documents":N,"tombstones":N},"digest":"<64 hex>",
 *    "dim":384,"distance":"cosine","format":"rp-index","fts":null or
 *    [{"file":"fts-<16hex>.sqlite","sha256":"<64 hex>"}, ...one per segment],
 *    "generation":7,"model":"rp-lexical-v1","provider":"local",
 *    "segments":[{"dead":"del-<16hex>.bin" or null,"dead_rows":n,
 *                 "dead_sha256":"<64 hex>" or null,"file":"seg-<16hex>.rps",
 *                 "rows":N,"sha256":"<64 hex>"}, ...],
 *    "tombstones":[{"count":n,"file":"tomb-<16hex>.jsonl","sha256":"<64 hex>"}, ...],
 *    "version":1}
 *
 * Every file name is its prefix, the first 16 hex digits of its SHA-256
 * (which the manifest also records whole) and its suffix; a reader refuses
 * any other name, so a manifest can name nothing outside its directory.
 *
 * The logical digest is the SHA-256 of the lines "chunk_id\tcontent_hash\tspace\n"
 * of the live rows sorted by chunk_id (bytewise), where space is the
 * embedding space "provider:model@dim" (e.g. "local:rp-lexical-v1@384", the
 * three fields an embedding cache key names a model by, with the dimension
 * the vectors have): equal for any two indexes holding the same chunks
 * embedded in the same space, however they were built; different for the
 * same model at another dimension (rp-embed --dimensions).
 */
#ifndef RP_INDEX_MANIFEST_H
#define RP_INDEX_MANIFEST_H

#include <stddef.h>
#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"

#define MANIFEST_FORMAT "rp-index"
#define MANIFEST_VERSION 1

struct manifest_seg {
	char *file;                  /* "seg-<16hex>.rps", owned */
	char sha256[HASH_HEX];
	size_t rows;
	char *dead;                  /* "del-<16hex>.bin" or NULL (no row dead), owned */
	char dead_sha256[HASH_HEX];  /* "" without dead */
	size_t dead_rows;
	char *fts;                   /* "fts-<16hex>.sqlite" or NULL, owned */
	char fts_sha256[HASH_HEX];
};

struct manifest_tomb {
	char *file;                  /* "tomb-<16hex>.jsonl", owned */
	char sha256[HASH_HEX];
	size_t count;
};

struct manifest {
	char *provider, *model;      /* owned */
	unsigned dim;
	char *distance;              /* "cosine" or "ip", owned */
	unsigned long long generation;
	char digest[HASH_HEX];
	int has_fts;                 /* every segment has its fts file */
	size_t nseg, segs_alloc;
	struct manifest_seg *segs;
	size_t ntomb, tombs_alloc;
	struct manifest_tomb *tombs;
	size_t chunks, documents, tombstones;
};

/* Frees everything `m` owns and zeroes it. */
void manifest_release(struct manifest *m);

/*
 * Reads and validates DIR/MANIFEST.json into *m (zeroed first; release it
 * even on failure). When the file does not exist: 1 if `allow_absent` (m
 * stays empty), else -1 + err. 0 when read; -1 + err (RP_ERR_INPUT
 * "DIR/MANIFEST.json: ...", RP_ERR_IO) otherwise.
 */
int manifest_read(struct manifest *m, const char *dir, int allow_absent, struct rp_err *err);

/* Appends the canonical text of `m` (one line and '\n') to `out`. */
void manifest_encode(const struct manifest *m, struct buf *out);

/*
 * 1 when `name` is prefix + the first 16 hex digits of `sha256` + suffix,
 * else 0: the only file names a manifest may hold.
 */
int manifest_name_ok(const char *name, const char *prefix, const char *sha256, const char *suffix);

/* One live row for the digest: borrowed strings. */
struct digest_row {
	const char *chunk_id;
	size_t chunk_id_len;
	const char *content_hash;    /* 64 hex */
};

/*
 * The order of chunk_ids everywhere in an index (segment rows, the digest,
 * tombstones): bytewise, a prefix first. <0, 0 or >0 as memcmp.
 */
int manifest_id_cmp(const char *a, size_t alen, const char *b, size_t blen);

/* Sorts rows[0..n) by chunk_id, bytewise (qsort; ids must be unique). */
void digest_rows_sort(struct digest_row *rows, size_t n);

/*
 * The logical digest of rows[0..n), which must be sorted (digest_rows_sort),
 * embedded by `model` of `provider` with `dim` dimensions (the manifest's
 * fields; borrowed), into out (64 hex and a NUL).
 */
void manifest_digest(const struct digest_row *rows, size_t n, const char *provider,
		     const char *model, unsigned dim, char out[HASH_HEX]);

#endif
