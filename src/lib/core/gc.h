/*
 * gc.h - mark and sweep of the store: what no kept lock references goes.
 *
 *     struct gc g; gc_init(&g, store);
 *     gc_mark_lock(&g, lock) ...;       for every lock to keep
 *     gc_sweep(&g, dry_run, &stats);
 *     gc_release(&g);
 */
#ifndef RP_GC_H
#define RP_GC_H

#include <stdint.h>
#include "lock/lock.h"
#include "store/store.h"

struct gc {
	struct store *store;     /* borrowed */
	char **keep;             /* object hashes to keep (sorted before sweep) */
	size_t nkeep, keep_alloc;
	char **runs;             /* run-cache keys to keep */
	size_t nruns, runs_alloc;
};

struct gc_stats {
	uint64_t objects, object_bytes;   /* deleted (or that would be) */
	uint64_t runs, run_bytes;
	uint64_t kept;
};

/*
 * Whether 'rp gc' in the workspace `ws_root` (absolute, as getcwd gives it)
 * may delete from the store `st`: a cache.dir comes from .rp/config, which a
 * cloned repository may have written, so it may name another project's
 * store. Allowed when the store is the workspace's own .rp/cache (after
 * resolving symbolic links), when STORE/creator names `ws_root` (rp wrote it
 * when this workspace made the store), or when the user's own config lists
 * it under stores.gc (userconfig.h). Refused as well when a fan-out
 * directory or runs.db of the store is a symbolic link (it would lead the
 * sweep elsewhere). 0, or -1 + err (RP_ERR_INPUT, saying how to allow it).
 */
int gc_check_store(const struct store *st, const char *ws_root, struct rp_err *err);

void gc_init(struct gc *g, struct store *s);
void gc_release(struct gc *g);
/* Marks every object (dir manifests and their files included) and stage key of `l`. 0 or -1. */
int gc_mark_lock(struct gc *g, const struct lock *l, struct rp_err *err);
/*
 * Deletes unmarked objects and run-cache entries (or only counts them when
 * dry_run), calling `report` (may be NULL) for each with its path and size.
 */
int gc_sweep(struct gc *g, int dry_run, struct gc_stats *st,
	     void (*report)(const char *path, uint64_t size, void *ctx), void *ctx,
	     struct rp_err *err);

#endif
