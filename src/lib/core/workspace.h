/*
 * workspace.h - the directory rp works in: pipeline files, .rp/, lock, store.
 *
 * The workspace root is found as git and DVC find a repository: upwards from
 * the current directory (from the directory of the file given with -f), the
 * nearest directory that holds .rp/, .dvc/ or .git; when none does, the
 * nearest that holds rp.yaml or dvc.yaml; when none does either, the
 * starting directory. The search stops where config_find_up() stops
 * (config.h): never past a directory of another user, never onto another
 * file system. An old workspace (rp.yaml beside its .rp/) is found as it
 * was. workspace_open() makes the root the current directory (every path rp
 * handles is relative to it), keeps one .rp/ there, loads .rp/config, opens
 * .rp/state.db and the store, and with WS_LOCK takes an exclusive flock on
 * .rp/lock so that a second `rp repro` fails at once.
 *
 * workspace_walk() lists the pipeline files of the repository below the
 * root (see there); project.c loads them into one graph.
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
	/*
	 * Root-relative: the file given with -f, else the root's own rp.yaml
	 * (or dvc.yaml when only that exists), whose stages keep plain names;
	 * it may not exist (a repository with pipelines in subfolders only).
	 */
	char *pipeline_file;
	int pipeline_given;    /* -f FILE: only that file is loaded */
	char *prefix;          /* the directory rp started in, root-relative ("." at
				  the root, and when it lies outside the workspace) */
	struct config cfg;
	struct state *state;
	struct store *store;
	struct doccache *parsed; /* the parse cache on WS_PARSED, for the pipeline's files */
	int lock_fd;
};

/*
 * Opens the workspace around the current directory, or around
 * `pipeline_path` (-f FILE, relative to the current directory) when not
 * NULL; creates .rp/ when missing. 0, or -1 + err: no pipeline file in the
 * whole workspace (unless WS_NO_PIPELINE), a -f FILE outside it, or bad
 * config is RP_ERR_INPUT; a held lock is RP_ERR_IO with "another rp process
 * is running in this workspace (pid N)".
 */
int workspace_open(struct workspace *ws, const char *pipeline_path, unsigned flags,
		   struct rp_err *err);
/*
 * Walks the directories below the current directory (the workspace root),
 * depth first in byte order of names, and calls found() with the
 * root-relative path of each pipeline file: a directory's rp.yaml, or its
 * dvc.yaml when it has no rp.yaml, before its subdirectories. Like DVC it
 * never follows a symlink, never enters .git, .dvc, .hg or .rp (nor any
 * other directory whose name starts with '.', nor a directory that holds
 * its own .rp/, .dvc/ or .git: that is a workspace of its own), and skips a
 * directory for which skip() (may be NULL) says 1: the caller's outputs.
 * found() returns 0 to go on, 1 to stop the walk (the walk then returns 1),
 * -1 to fail (the walk returns -1; found() filled err). An unreadable
 * directory below the root is skipped; 0 when the walk went through.
 */
int workspace_walk(int (*skip)(void *ctx, const char *dir),
		   int (*found)(void *ctx, const char *file), void *ctx);

/* Saves the state cache, releases the lock and frees everything. */
void workspace_close(struct workspace *ws);
/*
 * A path given on rp's command line (a LOCK, a --keep) means a file relative
 * to the directory rp started in, while the process now works in the root:
 * returns it root-relative when it lies inside the workspace, else absolute
 * (an absolute `arg` is returned as it is). Caller frees.
 */
char *workspace_arg_path(const struct workspace *ws, const char *arg);

#endif
