/*
 * lock.h - rp.lock: what every stage last ran with and produced.
 *
 * Format (YAML, written by libyaml's emitter; stages sorted by name, fields
 * in a fixed order, so a re-run that changes nothing rewrites the same bytes):
 *
 *     schema: rp.lock/1
 *     stages:
 *       chunk:
 *         key: <stage key, see key.h>
 *         cmd: <string, or a list when the stage has several>
 *         wdir: <only when not ".">
 *         deps:
 *         - path: build/docs.jsonl
 *           hash: <sha256>
 *           size: <bytes>
 *           nfiles: <only for a directory>
 *         params:
 *           params.yaml:
 *             chunker.size: 800          (values in canonical form)
 *         outs:
 *         - path: ...   (as deps; plus `cache: false` when not stored)
 *
 * Writing the whole lock after each stage would cost O(stages) per stage, so
 * `rp repro` appends each finished stage to .rp/lock.journal (one JSON object
 * per line after a header naming the hash of the rp.lock it extends) and
 * rewrites rp.lock atomically at the end of the run and at most once a second
 * during it. lock_load() replays a journal whose base matches rp.lock, so a
 * killed run keeps every stage that finished.
 */
#ifndef RP_LOCK_H
#define RP_LOCK_H

#include <stddef.h>
#include "util/buf.h"
#include "store/store.h"

struct lock_item {              /* a dep or an out */
	char *path;
	struct objinfo oi;
	int cache;              /* outs: stored in the cache (default 1) */
};

struct lock_param {
	char *file;
	char *key;              /* "" for a whole-file param */
	char *value;            /* canonical JSON (node_canonical) */
};

struct lock_stage {
	char *name;
	char key[HASH_HEX];
	char **cmds;
	size_t ncmds;
	char *wdir;             /* "." when the stage has none */
	struct lock_item *deps;
	size_t ndeps;
	struct lock_param *params;
	size_t nparams;
	struct lock_item *outs;
	size_t nouts;
	/*
	 * Where this entry's YAML is in the rp.lock whose hash is the lock's
	 * base (text_len 0: not known), so lock_write() can copy it instead of
	 * emitting it again. Set by lock_write() and kept in the lock image;
	 * an entry is never changed in place (lock_set() replaces it).
	 */
	uint64_t text_off, text_len;
	/* Where this entry's encoding is in the lock's image (lock->img; len 0: not there). */
	uint64_t img_off, img_len;
};

struct lock {
	struct lock_stage **stages;  /* sorted by name */
	size_t n, alloc;
	char base[HASH_HEX];         /* sha256 of the rp.lock bytes loaded ("" if none) */
	size_t replayed;             /* journal entries applied by lock_load() */
	const char *img;             /* the mapped image the entries came from (locksnap.h), or NULL */
	size_t img_len;
};

/*
 * Loads `path` (a missing file is an empty lock) and, when `journal` is not
 * NULL and its header names the loaded bytes, replays it. With `snap` (may be
 * NULL) the parse is skipped when that binary image (locksnap.h) was made
 * from the same bytes, and the image is rewritten after a parse. NULL + err
 * on a malformed lock ("rp.lock:L:C: ...", RP_ERR_INPUT). Free with lock_free().
 */
struct lock *lock_load(const char *path, const char *journal, const char *snap,
		       struct rp_err *err);
/* Parses a lock from memory; `name` is used in messages. NULL + err. */
struct lock *lock_parse(const char *name, const char *data, size_t len, struct rp_err *err);
/* An empty lock; free with lock_free(). */
struct lock *lock_new(void);
void lock_free(struct lock *l);

/* The entry for stage `name`, borrowed from l, or NULL. O(log n). */
struct lock_stage *lock_find(const struct lock *l, const char *name);
/* Inserts or replaces the entry for s->name; takes ownership of `s`. */
void lock_set(struct lock *l, struct lock_stage *s);
/* Removes the entry for `name` if present. */
void lock_remove(struct lock *l, const char *name);

/* Appends the YAML text of the whole lock to `out` (deterministic). */
void lock_format(const struct lock *l, struct buf *out);
/*
 * Writes the lock atomically to `path` and records its hash in l->base; with
 * `snap` (may be NULL) also its binary image there. 0 or -1 (reported).
 */
int lock_write(struct lock *l, const char *path, const char *snap);

/* Starts (truncates) `journal` with a header naming l->base. 0 or -1 (reported). */
int lock_journal_start(const struct lock *l, const char *journal);
/* Appends one finished stage to `journal` (one write(2)). 0 or -1 (reported). */
int lock_journal_append(const char *journal, const struct lock_stage *s);

/* A new zeroed stage entry named `name`; free with lock_stage_free(). */
struct lock_stage *lock_stage_new(const char *name);
/* Deep copy; the caller frees with lock_stage_free(). */
struct lock_stage *lock_stage_dup(const struct lock_stage *s);
void lock_stage_free(struct lock_stage *s);
/* Appends a dep/out/param to `s` (strings are copied). */
void lock_stage_add_dep(struct lock_stage *s, const char *path, const struct objinfo *oi);
void lock_stage_add_out(struct lock_stage *s, const char *path, const struct objinfo *oi, int cache);
void lock_stage_add_param(struct lock_stage *s, const char *file, const char *key, const char *value);

/* Serialises a stage's outs for the run-cache (JSON); caller frees. */
char *lock_outs_to_json(const struct lock_stage *s);
/* Parses a run-cache entry into s->outs (replacing them). 0, or -1 if malformed (quiet). */
int lock_outs_from_json(struct lock_stage *s, const char *json);

#endif
