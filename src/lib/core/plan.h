/*
 * plan.h - what `rp repro` would do with a stage, and why.
 *
 * `rp status`, `rp repro -n` and `rp repro` itself decide with this one
 * function. A stage downstream of one that will run is listed with
 * "upstream stage 'x' will run" and is evaluated as well, so that its own
 * reasons (a changed param, a modified out) are shown beside it; it will
 * run whatever its own evaluation says, and a dep that does not exist yet is
 * no error when an upstream stage will run and make it.
 *
 * A dep that does not exist, when no upstream stage will run to make it,
 * leaves the stage PLAN_BROKEN, with "dep 'x' deleted" among its reasons:
 * `rp status` lists it and goes on, `rp repro` refuses to run it. A dep an
 * upstream stage that will run makes is not named as deleted.
 *
 * A stage is up to date exactly when it has no reason to be dirty: its key
 * equals the lock's, its outs are what the lock says, and the lock's entry
 * names the same cmd, wdir, deps and params (a hand-edited entry does not).
 */
#ifndef RP_PLAN_H
#define RP_PLAN_H

#include "core/freshness.h"
#include "core/project.h"

enum plan_action {
	PLAN_FROZEN,    /* frozen and run before: left alone */
	PLAN_UPTODATE,  /* key and outs match the lock */
	PLAN_RESTORE,   /* key matches, outs differ: restore them if the store can */
	PLAN_RUN,       /* must run (v says why) */
	PLAN_BROKEN,    /* a dep is missing and no upstream stage will make it:
			 * ev->errmsg says why */
};

/*
 * Plans stage i of pr: hashes its deps into `ev` and its outs (both zeroed
 * by the caller, freed with freshness_eval_release) and lists in `v`
 * (zeroed; freed with freshness_verdict_release) every reason it is dirty:
 * first "upstream stage 'x' will run" for each upstream stage marked in
 * `will_run` (pr->dag->n bytes; NULL: none), then its own. With `force`, a
 * stage that is not frozen always runs. PLAN_FROZEN leaves ev and v empty.
 * The params whose file a stage writes are read now (freshness_read_params()):
 * their values in the stage are valid until freshness_eval_release(ev).
 */
enum plan_action plan_stage(const struct project *pr, size_t i, const unsigned char *will_run,
			    int force, struct eval *ev, struct verdict *v);

#endif
