/*
 * lockcheck.h - the rule for the paths a lock may make rp write, checked
 * against the pipeline before `rp checkout` writes anything.
 *
 * A lock (rp.lock, or one read from a git revision) names the paths that
 * checkout restores. Since a lock can be hand-edited or crafted, only the
 * paths the current pipeline names are trusted; the lexical and reserved-name
 * rules are the workspace path policy's (util/wspath.h).
 */
#ifndef RP_LOCKCHECK_H
#define RP_LOCKCHECK_H

#include "lock/lock.h"
#include "util/error.h"

struct pipeline;

/*
 * The rule for the paths a lock may make rp write (rp.lock(5), PATHS A LOCK
 * MAY NAME), whatever file or git revision the lock came from: every dep and
 * out path of every stage entry must be a dep or out of some stage of the
 * pipeline `p`, and every params file a params file of some stage of `p`
 * (compared normalised); none may be the workspace root, leave it, lie in a
 * .git or .rp in any letter case (wspath_name_reserved()), or be, hold or lie in
 * the store directory `store_dir` (config cache.dir; NULL or one outside the
 * workspace: not compared). `lockname` is used in messages. 0, or -1 + err
 * (RP_ERR_INPUT) naming the lock, the stage and the first path that breaks
 * the rule. Symlinks on the way are the caller's to check (wspath_link_outside()).
 */
int lock_check_paths(const struct lock *l, const char *lockname, const struct pipeline *p,
		     const char *store_dir, struct rp_err *err);

#endif
