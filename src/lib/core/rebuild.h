/*
 * rebuild.h - `rp checkout --rebuild`: re-make a lock's outputs that are in
 * no store by re-running their stages, and check they give the same bytes.
 *
 * A stage is re-run in a scratch copy of the workspace
 * (.rp/tmp/rebuild-<pid>-*, removed by the next rebuild when its process was
 * killed), with its deps restored there from the store (rebuilding upstream
 * stages first when needed) and, with a git revision, the params files of
 * that revision. It runs through the runner's run-hash-verify step
 * (runner_job_run): its outputs must hash to what the lock says, else the
 * stage is named as nondeterministic; they are then saved into the store,
 * from where checkout takes them. The user's own sources are never
 * overwritten by a rebuild.
 *
 * Which lock stage makes a path is asked of a core/dag graph built from the
 * lock's outs, with dag_producer().
 */
#ifndef RP_REBUILD_H
#define RP_REBUILD_H

#include <stdio.h>

#include "core/dag.h"
#include "lock/lock.h"
#include "store/store.h"

struct rebuild {
	struct store *store;       /* borrowed */
	const struct lock *lock;   /* borrowed: the lock to make true */
	const char *rev;           /* params files come from this git revision, or NULL */
	FILE *out;                 /* where the commands' prefixed output goes */
	/* told each time a stage starts being rebuilt, in `scratch`; may be NULL */
	void (*started)(void *ctx, const char *stage, const char *scratch);
	void *ctx;
	/* private */
	struct pipeline *outs_only; /* the lock's stages with their outs only */
	struct dag *dag;
	unsigned char *state;      /* per lock stage: 1 rebuilt, 2 in progress */
};

/*
 * Sets up `rb` for lock `l` (borrowed; outlives rb): builds the graph of its
 * outs. 0, or -1 + err (RP_ERR_INPUT) when two of its stages claim one
 * output, or an output lies inside another. Free with rebuild_release().
 */
int rebuild_init(struct rebuild *rb, struct store *s, const struct lock *l, const char *rev,
		 FILE *out, struct rp_err *err);
void rebuild_release(struct rebuild *rb);

/*
 * The lock stage whose out is `path` or contains it, with that out in *out
 * (may be NULL); or -1. With `holding`, also a stage with an out inside
 * directory `path` (then *out is that out).
 */
long rebuild_producer(const struct rebuild *rb, const char *path, int holding,
		      const struct lock_item **out);

/* Rebuilds lock stage `si` (and first what it needs); see above. 0 or -1 + err. */
int rebuild_stage(struct rebuild *rb, size_t si, struct rp_err *err);

#endif
