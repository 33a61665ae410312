/*
 * verify.h - checking an index directory: its own integrity, then its
 * agreement with the chunks it was built from (rp-index verify).
 *
 *     struct verify_report rep;
 *     if (index_verify("build/green/index", "build/chunks.jsonl", &rep, &err) < 0)
 *         return rp_err_exit(&err);          // not an index, unreadable chunks
 *     for (size_t i = 0; i < rep.n; i++) ... rep.v[i].kind, .chunk_id, .file, .detail
 *     verify_report_release(&rep);
 *
 * Integrity (always): every file MANIFEST.json names exists, is named by
 * its content (seg-<16 hex of its SHA-256>.rps and so on) and has the
 * SHA-256 the manifest records; every segment opens with its structure
 * intact and its own SHA-256 trailer right, with the rows, dead rows and
 * model the manifest says, and its rows strictly sorted by chunk_id
 * (manifest_id_cmp: the order the searcher and update rely on); the
 * tombstone files hold the counts listed; no chunk_id is live twice; the
 * counts (chunks, documents, tombstones) and the logical digest recomputed
 * from the live rows equal the manifest's.
 *
 * Drift (with a chunk file): each live row is compared, by chunk_id, with
 * the chunks' fingerprints: a row whose chunk is gone is a ghost, a chunk
 * with no live row is missing, a row whose content_hash differs is stale,
 * and every row of a segment built with another model than the manifest's
 * is wrong-model.
 *
 * Problems are collected, not raised: index_verify() returns 0 with the
 * report filled whatever it found; -1 only when it cannot check at all.
 */
#ifndef RP_INDEX_VERIFY_H
#define RP_INDEX_VERIFY_H

#include <stddef.h>
#include "util/error.h"
#include "util/hash.h"

enum verify_kind {
	/* integrity: the index disagrees with itself */
	VERIFY_MANIFEST,        /* "manifest": MANIFEST.json unreadable or malformed */
	VERIFY_FILE_MISSING,    /* "missing-file": a file it names is absent */
	VERIFY_FILE_CORRUPT,    /* "corrupt-file": its SHA-256 or name disagrees with the manifest */
	VERIFY_SEGMENT,         /* "bad-segment": structure, trailer, rows, row order or bitmap wrong */
	VERIFY_TOMBSTONES,      /* "bad-tombstones": a tombstone file unreadable or miscounted */
	VERIFY_DUPLICATE,       /* "duplicate": a chunk_id live in two rows */
	VERIFY_COUNTS,          /* "counts": the manifest's counts differ from the rows */
	VERIFY_DIGEST,          /* "digest": the recomputed logical digest differs */
	/* drift: the index disagrees with the source chunks */
	VERIFY_GHOST,           /* "ghost": live in the index, gone from the source */
	VERIFY_MISSING,         /* "missing": in the source, not live in the index */
	VERIFY_STALE,           /* "stale": live, but its content_hash differs */
	VERIFY_WRONG_MODEL,     /* "wrong-model": in a segment of another model */
	VERIFY_NKINDS
};

/* The first drift kind: kinds below it are integrity problems. */
#define VERIFY_FIRST_DRIFT VERIFY_GHOST

struct verify_issue {
	enum verify_kind kind;
	char *chunk_id;         /* drift and duplicate: the chunk; else NULL. Owned */
	char *doc_id;           /* with chunk_id: its document; else NULL. Owned */
	char *file;             /* the index file concerned, or NULL. Owned */
	char *detail;           /* what is wrong, one line, no final period. Owned */
};

struct verify_report {
	struct verify_issue *v; /* n issues, integrity ones first, then drift by chunk_id */
	size_t n, alloc;
	size_t count[VERIFY_NKINDS];
	size_t integrity;       /* issues of integrity kinds */
	size_t drift;           /* issues of drift kinds */
	int source_checked;     /* 1 when a chunk file was compared */
	size_t source_chunks;   /* chunks in the chunk file */
	size_t chunks;          /* live rows read */
	size_t documents;       /* distinct doc_ids of the live rows */
	size_t segments;        /* segments the manifest names */
	int digest_known;       /* 1 when every segment was read, so `digest` is the index's */
	char digest[HASH_HEX];  /* the logical digest recomputed from the live rows */
	char manifest_digest[HASH_HEX]; /* the digest the manifest records ("" if none) */
};

/* "ghost", "missing-file", ...: the name of a kind in rp-index verify's output. */
const char *verify_kind_name(enum verify_kind k);

/*
 * Checks the index in `dir`, and, when `chunks` is not NULL, compares it
 * with that chunk file (JSONL: chunk_id, doc_id, content_hash per line).
 * Fills *rep (set up here; verify_report_release it on success).
 * 0 whatever the report says; -1 + err, *rep released, when `dir` holds no
 * MANIFEST.json (RP_ERR_INPUT), the chunk file is unreadable or invalid
 * (RP_ERR_INPUT naming file and line: a missing field, a duplicate chunk_id)
 * or the system fails (RP_ERR_IO).
 */
int index_verify(const char *dir, const char *chunks, struct verify_report *rep,
		 struct rp_err *err);

/* Frees every issue and leaves the report empty. */
void verify_report_release(struct verify_report *rep);

#endif
