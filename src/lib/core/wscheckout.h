/*
 * wscheckout.h - the engine of `rp checkout`: make the workspace match a
 * lock, all or nothing, from the store (the store's own store_checkout()
 * puts one object at one path; this module decides which paths, checks
 * them, and changes them together).
 *
 * The items are every cached out the lock names, and every source dep it
 * saved (a dep no lock stage makes), each path once. A checkout goes in
 * steps, each of which the caller may stop after:
 *   open     the lock is held to the trust rule before anything is read:
 *            lock_check_paths() against the current pipeline (lexical), and
 *            no symlink on the way of a path it would write may lead outside
 *            the workspace, into a .git or .rp, or into the store;
 *   lookup   every item is hashed and looked up in the store, nothing is
 *            touched: which differ (needed), which outs are in no store
 *            (missing), which paths hold bytes that are in no store and
 *            would be lost by the overwrite (unsaved, unless force);
 *   rebuild  with --rebuild, the stages of the missing outs are re-run in a
 *            scratch copy (core/rebuild.h), which saves their outs;
 *   stage    every needed item is built and verified beside its place
 *            (store_checkout_prepare()): a corrupt object changes nothing;
 *   commit   all are renamed into place, and the store synced.
 *
 * The module prints nothing: what the command shows per item comes through
 * an event callback, and the counts are in struct wscheckout.
 */
#ifndef RP_WSCHECKOUT_H
#define RP_WSCHECKOUT_H

#include <stdio.h>

#include "core/project.h"
#include "core/rebuild.h"
#include "lock/lock.h"
#include "store/store.h"
#include "util/error.h"

struct wscheckout_item {
	const char *path;          /* borrowed from the lock */
	const struct objinfo *oi;  /* what the lock says the path holds */
	const char *stage;         /* the lock stage that names it */
	int is_out;                /* an out, else a source dep the lock saved */
	int needed;                /* the workspace differs (set by lookup) */
	int missing;               /* an out whose object is in no store (lookup) */
};

enum wscheckout_event {
	WSCHECKOUT_UNSAVED,        /* the path holds bytes that are in no store */
	WSCHECKOUT_NO_SOURCE,      /* a source in no store: left as it is */
	WSCHECKOUT_RESTORED,       /* the path now holds what the lock says */
};

/* Called for each event; `it` is borrowed for the call. Counts are updated first. */
typedef void wscheckout_event_fn(void *ctx, enum wscheckout_event e,
				 const struct wscheckout_item *it);

struct wscheckout_opts {
	const char *rev;           /* the lock came from this git revision, or NULL */
	int force;                 /* overwrite paths whose bytes are in no store */
	int rebuild;               /* also check the params files a rebuild writes */
	FILE *out;                 /* where rebuilt stages' prefixed output goes */
	wscheckout_event_fn *event;                  /* may be NULL */
	/* told each time a stage starts being rebuilt (rebuild.h); may be NULL */
	void (*rebuilding)(void *ctx, const char *stage, const char *scratch);
	void *ctx;                 /* passed to both */
};

struct wscheckout {
	struct wscheckout_item *items;
	size_t n;
	size_t nunsaved;           /* paths whose current bytes are in no store */
	size_t nmissing;           /* outs whose objects are in no store */
	size_t nchanged;           /* paths renamed into place by commit */
	/* private */
	struct project *pr;
	const struct lock *lock;
	struct wscheckout_opts o;
	size_t alloc;
	struct store_staged **staged;
	struct rebuild rb;         /* who made what, and --rebuild */
};

/*
 * Loads the lock to check out: `file` (the workspace's rp.lock with what a
 * killed run left in its journal), or with `rev` the `file` of that git
 * revision. Returns it (the caller frees with lock_free()), or NULL + err
 * (RP_ERR_INPUT: no such lock, no such file in `rev`, a malformed lock).
 */
struct lock *wscheckout_load_lock(const char *file, const char *rev, struct rp_err *err);

/*
 * Sets up `c` to make the workspace of `pr` match lock `l` (`file` names it
 * in messages, as "REV:FILE" with o->rev): builds the graph of who made
 * what, holds every path to the trust rule (see above), and lists the items.
 * `pr`, `l` and `o`'s strings are borrowed and must outlive `c`. 0, or
 * -1 + err (RP_ERR_INPUT: no pipeline, a path the lock may not name, a
 * symlink leading out, two stages claiming one out). In both cases free
 * with wscheckout_release().
 */
int wscheckout_open(struct wscheckout *c, struct project *pr, const struct lock *l,
		    const char *file, const struct wscheckout_opts *o, struct rp_err *err);

/*
 * Looks every item up, touching nothing; sets each item's needed and
 * missing, and the counts nunsaved and nmissing (events UNSAVED and
 * NO_SOURCE). A source in no store is not needed: its copy stays. 0, or
 * -1 + err when a path holds what rp never stores (RP_ERR_INPUT: a nested
 * .git) or the store cannot tell (RP_ERR_IO: a malformed manifest).
 */
int wscheckout_lookup(struct wscheckout *c, struct rp_err *err);

/*
 * Rebuilds the stage (and first what it needs) of every missing out; see
 * rebuild.h. 0, or -1 + err (err->kind may be RP_ERR_NONE when the reason
 * was printed by the commands' output already).
 */
int wscheckout_rebuild(struct wscheckout *c, struct rp_err *err);

/*
 * Builds and verifies every needed item beside its place, changing nothing
 * in the workspace. 0, or -1 + err (a missing or corrupt object).
 */
int wscheckout_stage(struct wscheckout *c, struct rp_err *err);

/*
 * Renames every staged item into place (event RESTORED, nchanged), then
 * makes it durable (store_sync()). 0, or -1 + err: the paths before the
 * failing one were changed.
 */
int wscheckout_commit(struct wscheckout *c, struct rp_err *err);

/* Discards what is staged and not committed, and frees what `c` holds (not the lock). */
void wscheckout_release(struct wscheckout *c);

#endif
