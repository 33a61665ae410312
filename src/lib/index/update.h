/*
 * update.h - bringing an index directory in step with a chunk file and its
 * vectors (`rp-index update`; the format and the commit order: rp-index(5)).
 *
 *     struct update_opts o = UPDATE_OPTS_INIT;
 *     struct update_stats st;
 *     o.dir = "build/index"; o.vectors = "build/vectors.rpv"; o.chunks = "build/chunks.jsonl";
 *     if (index_update(&o, &st, &err) < 0) ... rp_err_exit(&err)
 *
 * The diff is by chunk_id: a new id is added, a known id whose content_hash
 * (or doc_id) differs is updated (its old row marked dead, a new row
 * written), an id that is gone is deleted (marked dead and logged as a
 * tombstone), and the rest are unchanged and not rewritten. New rows go
 * into one new segment; then compaction; then the manifest, the commit
 * point; then files no longer named are removed. A kill at any moment
 * leaves the previous version or the new one, both complete. The update
 * holds an exclusive flock on the directory; a second one at the same time
 * fails (RP_ERR_IO) instead of waiting.
 */
#ifndef RP_INDEX_UPDATE_H
#define RP_INDEX_UPDATE_H

#include <stddef.h>
#include "util/error.h"
#include "util/progress.h"

/* Compaction: more segments than this are merged, smallest first. */
#define UPDATE_MAX_SEGMENTS 8
/* Compaction: a segment with more than this percentage of dead rows is rewritten. */
#define UPDATE_MAX_DEAD_PCT 30

struct update_opts {
	const char *dir;          /* the index directory (made when missing) */
	const char *vectors;      /* the .rpv file (ai/vectors.h) */
	const char *chunks;       /* chunks.jsonl */
	const char *distance;     /* "cosine" or "ip"; NULL: the index's (cosine for a new one) */
	int rebuild;              /* an old version of another model or provider or
				     dimension or distance, or damaged (a file not
				     matching its hash), is replaced by a new one
				     built from empty instead of refused; a sound
				     one of the same space is updated as usual */
	int no_fts;               /* write no full-text tables (and drop the old ones) */
	struct progress *progress;/* NULL, or a display to update (borrowed) */
};
#define UPDATE_OPTS_INIT { NULL, NULL, NULL, NULL, 0, 0, NULL }

struct update_stats {
	size_t added, updated, deleted, unchanged;
	size_t segments;          /* segments of the new version */
	size_t compacted;         /* old segments merged or rewritten by compaction */
	unsigned long long bytes_written;  /* bytes of the files this update wrote */
	unsigned long long bytes_total;    /* bytes of the files of the new version */
	int committed;            /* 1 when a new version was written, 0 when nothing changed */
};

/*
 * Updates the index o->dir from o->chunks and o->vectors. 0 with *st filled,
 * or -1 + err: RP_ERR_INPUT for invalid input (a chunk line, a chunk
 * without its vector or with another content_hash, vectors of another
 * model, provider or dimension than the index's: then nothing is written),
 * RP_ERR_IO when the system fails (then the previous version stays).
 */
int index_update(const struct update_opts *o, struct update_stats *st, struct rp_err *err);

#endif
