/*
 * storelock.h - the store's lease: what keeps gc from deleting what another
 * rp process has just written or is about to record.
 *
 * A store may be shared by several workspaces (cache.dir). An object is safe
 * once a lock file (rp.lock or .rp/lock.journal) that gc keeps names it; in
 * between, only this protocol protects it. Two flock(2) files in the store:
 *
 *     STORE/lock      every rp process that opens the store (repro, checkout,
 *                     status, gc ...) holds it shared from store_open() to
 *                     store_free(), i.e. for as long as it may write objects,
 *                     link workspace files to them or record a lock naming
 *                     them; 'rp gc' holds it exclusively while it reads the
 *                     locks it keeps and deletes.
 *     STORE/gc.lock   the gate, holding the pid of the gc that holds it.
 *                     gc takes it exclusively before it waits for STORE/lock
 *                     and keeps it until it is done; an opener holds it
 *                     shared only while it takes STORE/lock. Once gc waits,
 *                     new openers queue behind it (gc is not starved) and say
 *                     that they wait for it.
 *
 * Whoever has to wait says so on stderr first, never silently. flock is
 * released by the kernel when its holder dies, so a killed rp never leaves
 * the store locked. Stage commands inherit RP_STORE_LEASE ("dev:ino:pid" of
 * the held STORE/lock): an rp started by a stage on the same store passes
 * the gate without waiting (its parent's lease keeps gc out anyway; waiting
 * would deadlock behind a gc that waits for that parent), and refuses to gc.
 *
 *     struct store_lease l;
 *     store_lease_take(&l, root, err);   shared; 1 when root does not exist
 *     store_lease_exclusive(&l, root, err);   gc only
 *     store_lease_release(&l);
 */
#ifndef RP_STORELOCK_H
#define RP_STORELOCK_H

#include "util/error.h"

struct store_lease {
	int fd;          /* STORE/lock, held shared (exclusive after _exclusive()); -1: none */
	int gate_fd;     /* STORE/gc.lock, held exclusively by gc; else -1 */
	int inherited;   /* the gate was skipped: an ancestor rp holds this store */
};

/*
 * Takes the shared lease on the store at `root` (creating STORE/lock). 0 on
 * success; 1 when `root` does not exist (nothing held; create it and call
 * again); -1 + err. A store the user cannot write (a read-only mount, another
 * user's store) is leased through a read-only descriptor, or, when not even
 * STORE/lock exists there, opened without a lease (l->fd -1): rp cannot add
 * to such a store, and this user's gc cannot delete from it. Waits, with a
 * message, while a gc runs.
 */
int store_lease_take(struct store_lease *l, const char *root, struct rp_err *err);
/*
 * Turns the shared lease into gc's exclusive one: gives up the shared lease,
 * takes the gate (waiting for another gc, with a message), writes this pid in
 * it, then takes STORE/lock exclusively (waiting, with a message naming their
 * pids, for the processes that use the store). Whatever was read under the
 * shared lease that another workspace may change must be read again after.
 * 0, or -1 + err (RP_ERR_INPUT when called from a stage of an rp that holds
 * this store, which would wait forever).
 */
int store_lease_exclusive(struct store_lease *l, const char *root, struct rp_err *err);
/* Releases what is held (closing the files). Safe on a released lease. */
void store_lease_release(struct store_lease *l);

#endif
