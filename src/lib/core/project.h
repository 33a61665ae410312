/*
 * project.h - everything a command needs about a workspace, loaded at once:
 * the workspace (config, state, store, lock), the expanded pipeline, its
 * graph and rp.lock with its journal replayed.
 *
 * The pipeline is every rp.yaml and dvc.yaml of the workspace in one graph,
 * as DVC collects a repository (workspace_walk()): the root's own file first,
 * its stages under their plain names, then each file below it in walk order,
 * its stages addressed as DVC addresses them, `path/to/dvc.yaml:stage`. A
 * directory that is an output of a stage already loaded is not walked (as
 * in DVC). With -f FILE only that file is loaded. One rp.lock at the root
 * holds every stage under its address.
 */
#ifndef RP_PROJECT_H
#define RP_PROJECT_H

#include "core/dag.h"
#include "core/lockcheck.h"
#include "lock/lock.h"
#include "core/pipeline.h"
#include "core/workspace.h"

struct project {
	struct workspace ws;
	struct pipeline *p;   /* NULL with PROJECT_NO_PIPELINE and no file */
	/* private: with several files, each file's pipeline (p holds their stages) */
	struct pipeline **parts;
	size_t nparts;
	struct dag *dag;
	struct lock *lock;
};

enum project_flags {
	PROJECT_LOCK = 1 << 0,        /* take the workspace lock (repro, checkout, gc) */
	PROJECT_NO_PIPELINE = 1 << 1, /* the pipeline file is optional */
};

/*
 * Opens and loads everything. 0, or -1 with `err` filled (RP_ERR_INPUT when
 * a file the user wrote is invalid) and nothing left open.
 */
int project_open(struct project *pr, const char *pipeline_file, unsigned flags,
		 struct rp_err *err);
/* Saves the state cache and frees everything. */
void project_close(struct project *pr);
/*
 * For a command about to return from main: saves the state cache and closes
 * the databases and the workspace lock, but leaves the memory of the
 * pipeline, graph and lock to the process's exit. Freeing 1,000 stages' worth
 * of small blocks was 6% of a no-op `rp repro`. The blocks stay reachable
 * from a static, so leak checkers do not report them.
 */
void project_close_for_exit(struct project *pr);

#endif
