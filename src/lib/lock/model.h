/*
 * model.h - rp.lock in memory: what every stage last ran with and produced.
 *
 * A lock is a set of stage entries sorted by name; each entry records the
 * stage's key, commands, wdir, deps, params (canonical JSON values) and outs.
 * This is the part of lock/ that everything else builds on: the YAML text
 * (format.h), the journal (journal.h), the file (file.h) and the binary
 * image (locksnap.h) all read and write these structures, and nothing here
 * knows about any of them.
 */
#ifndef RP_LOCK_MODEL_H
#define RP_LOCK_MODEL_H

#include <stddef.h>
#include <stdint.h>
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

/* An empty lock; free with lock_free(). */
struct lock *lock_new(void);
/* Frees the lock, its entries and its mapped image. lock_free(NULL) does nothing. */
void lock_free(struct lock *l);

/* The entry for stage `name`, borrowed from l, or NULL. O(log n). */
struct lock_stage *lock_find(const struct lock *l, const char *name);
/* Inserts or replaces the entry for s->name; takes ownership of `s`. */
void lock_set(struct lock *l, struct lock_stage *s);
/* Removes the entry for `name` if present. */
void lock_remove(struct lock *l, const char *name);

/* A new zeroed stage entry named `name` (wdir "."); free with lock_stage_free(). */
struct lock_stage *lock_stage_new(const char *name);
/* Deep copy (without text and image ranges); the caller frees with lock_stage_free(). */
struct lock_stage *lock_stage_dup(const struct lock_stage *s);
/* Frees the entry and everything in it. lock_stage_free(NULL) does nothing. */
void lock_stage_free(struct lock_stage *s);
/* Appends a command/dep/out/param to `s` (strings are copied). */
void lock_stage_add_cmd(struct lock_stage *s, const char *cmd);
void lock_stage_add_dep(struct lock_stage *s, const char *path, const struct objinfo *oi);
void lock_stage_add_out(struct lock_stage *s, const char *path, const struct objinfo *oi, int cache);
void lock_stage_add_param(struct lock_stage *s, const char *file, const char *key, const char *value);

/* Appends a copy of (path, oi, cache) to the array *arr of *n items. */
void lock_items_add(struct lock_item **arr, size_t *n, const char *path,
		    const struct objinfo *oi, int cache);
/* Frees an array of `n` items and their paths. */
void lock_items_free(struct lock_item *it, size_t n);

#endif
