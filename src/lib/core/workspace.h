/*
 * workspace.h - the directory rp works in: pipeline file, .rp/, lock, store.
 *
 * workspace_open() finds the pipeline file (the one given with -f, else
 * rp.yaml, else dvc.yaml in the current directory), makes its directory the
 * current directory (every path rp handles is relative to it), loads
 * .rp/config, opens .rp/state.db and the store, and with WS_LOCK takes an
 * exclusive flock on .rp/lock so that a second `rp repro` fails at once.
 */
#ifndef RP_WORKSPACE_H
#define RP_WORKSPACE_H

#include "core/config.h"
#include "store/state.h"
#include "store/store.h"

#define WS_DIR ".rp"
#define WS_LOCK_FILE "rp.lock"
#define WS_JOURNAL ".rp/lock.journal"
#define WS_LOCK_SNAP ".rp/lock.snap"  /* binary image of rp.lock (locksnap.h) */
#define WS_PARSED ".rp/parsed"       /* parsed YAML files (doccache.h) */
#define WS_CONFIG ".rp/config"
#define WS_STATE ".rp/state.db"

struct doccache;

enum ws_flags {
	WS_LOCK = 1 << 0,      /* take the exclusive workspace lock */
	WS_NO_PIPELINE = 1 << 1, /* a missing pipeline file is fine (checkout, gc) */
};

struct workspace {
	char *root;            /* absolute path of the workspace root (now the cwd) */
	char *pipeline_file;   /* relative to root, e.g. "rp.yaml" */
	struct config cfg;
	struct state *state;
	struct store *store;
	struct doccache *parsed; /* the parse cache on WS_PARSED, for the pipeline's files */
	int lock_fd;
};

/*
 * Opens the workspace of `pipeline_path` (NULL: the default file in the
 * current directory); creates .rp/ when missing. 0, or -1 + err: a missing
 * pipeline file or bad config is RP_ERR_INPUT; a held lock is RP_ERR_IO with
 * "another rp process is running in this workspace (pid N)".
 */
int workspace_open(struct workspace *ws, const char *pipeline_path, unsigned flags,
		   struct rp_err *err);
/* Saves the state cache, releases the lock and frees everything. */
void workspace_close(struct workspace *ws);

#endif
