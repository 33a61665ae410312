/*
 * runner.h - the engine of `rp repro`: schedule the selected stages, and for
 * each one restore, take from the run-cache, or run it and record its outs.
 *
 * Stages are scheduled in dependency order; a stage becomes ready when every
 * selected upstream stage has finished, and ready stages start in
 * topological order (ties in pipeline-file order). A ready stage is planned
 * (plan.h: evaluated against rp.lock) and then, in this order of preference:
 *   up to date      key equals the lock's and its outs are what the lock says;
 *   restored        key equals the lock's, outs differ, and the lock's outs
 *                   are in the store: they are checked out;
 *   run-cache       another run produced this key before: its outs are
 *                   checked out from the store;
 *   run             its commands run (up to `jobs` at once), then its outs
 *                   are hashed, saved into the store, the run-cache entry and
 *                   the lock journal are written.
 * rp.lock is rewritten at the end and at most once a second during the run;
 * a kill loses nothing that finished (see lock.h).
 *
 * The runner prints nothing of its own: every stage's fate goes to the
 * caller's event callback, which prints. (The commands' own output goes,
 * line-prefixed, to the FILE the caller names, through util/exec.)
 *
 * The run-hash-verify step (runner_job_*) is shared with `rp checkout
 * --rebuild` (rebuild.h): prepare a stage's outs, run its commands, hash the
 * outs, check them against what a lock says when asked, save them into the
 * store and add them to a lock entry.
 */
#ifndef RP_RUNNER_H
#define RP_RUNNER_H

#include <stdio.h>

#include "core/freshness.h"
#include "core/project.h"
#include "util/error.h"
#include "util/exec.h"

enum runner_event {
	RUNNER_FROZEN,      /* frozen and run before: skipped */
	RUNNER_UPTODATE,    /* nothing to do */
	RUNNER_WOULD_RUN,   /* dry run: would run; v says why */
	RUNNER_RESTORED,    /* the lock's outs were checked out; v says why */
	RUNNER_CACHED,      /* outs checked out from the run-cache */
	RUNNER_RUNNING,     /* its commands start; v says why */
	RUNNER_FAILED,      /* err says why (err->kind may be RP_ERR_NONE when the
			     * message was printed already) */
	RUNNER_ERROR,       /* not about a stage (st is NULL): err, reported, not counted */
};

/* Called for each event; v and err may be NULL; all borrowed for the call. */
typedef void runner_event_fn(void *ctx, enum runner_event e, const struct stage *st,
			     const struct verdict *v, const struct rp_err *err);

struct runner_opts {
	int jobs;           /* >= 1 */
	int dry_run, force, keep_going;
	int all_stages;     /* no targets: stages gone from the pipeline leave the lock */
	FILE *out;          /* where the commands' prefixed output goes */
	int quiet;          /* -q: no "[stage] $ cmd" line (the output still shows) */
	runner_event_fn *event;
	void *ctx;
};

struct runner_counts {
	size_t ran, restored, cached, uptodate, failed, blocked;
	int interrupted;    /* SIGINT or SIGTERM stopped the run */
};

/*
 * Runs (or with dry_run, plans) the stages marked in `sel` (pr->dag->n
 * bytes). SIGINT and SIGTERM are caught for the length of the call and
 * passed on to the running commands. Returns 0 when the lock was written as
 * needed (counts tell whether stages failed), 1 when the run happened but
 * rp.lock could not be written at the end, -1 when nothing ran because the
 * journal of a killed run could not be folded into rp.lock first. Errors
 * reach opts->event.
 */
int runner_run(struct project *pr, const unsigned char *sel, const struct runner_opts *opts,
	       struct runner_counts *counts);

/* ---- the run-hash-verify step ------------------------------------------ */

struct runner_out {
	const char *path;   /* relative to the job's root */
	int cache;          /* save into the store */
	int persist;        /* keep the old copy while the commands run */
	const char *expect; /* the hash a lock recorded, or NULL: anything goes */
};

struct runner_job {
	const char *name;   /* the stage's name, for messages */
	const char *prefix; /* the prefix of the commands' output lines */
	char **cmds;
	size_t ncmds;
	const char *wdir;   /* where the commands run (NULL: the current directory) */
	const char *root;   /* NULL: paths are the workspace's; else a scratch copy's */
	const struct runner_out *outs;
	size_t nouts;
	int relink;         /* replace each saved out by a link to the store */
};

/*
 * Prepares the outs (removed, unless persist; a persisted out that is the
 * store's copy made a private writable one; parents created) and starts the
 * commands in `ex` under `id`. 0, or -1 + err (err->kind may stay
 * RP_ERR_NONE when util/exec printed the reason).
 */
int runner_job_start(struct exec *ex, long id, const struct runner_job *j, struct rp_err *err);
/*
 * After the commands succeeded: hashes every out, checks it against its
 * `expect` ("stage 'x' is nondeterministic" when it differs), saves the
 * cached ones into the store and, when `record` is given, adds them to it.
 * 0, or -1 + err.
 */
int runner_job_collect(struct store *s, const struct runner_job *j, struct lock_stage *record,
		       struct rp_err *err);
/* runner_job_start, wait, runner_job_collect: one stage, synchronously. 0 or -1 + err. */
int runner_job_run(struct store *s, const struct runner_job *j, FILE *out,
		   struct lock_stage *record, struct rp_err *err);

#endif
