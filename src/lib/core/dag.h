/*
 * dag.h - the stage graph: who produces what, in what order to run.
 *
 * An edge A -> B exists when a dep of B is an out of A, lies inside an out
 * directory of A, or is a directory that contains an out of A, and when a
 * params file of B is (or lies inside) an out of A. dag_build()
 * rejects two stages writing one output, an output inside another output, and
 * cycles (the message prints the cycle: "a -> b -> a").
 */
#ifndef RP_DAG_H
#define RP_DAG_H

#include <stddef.h>
#include <sys/stat.h>
#include "core/pipeline.h"

struct dag_index;

struct dag {
	const struct pipeline *p; /* borrowed */
	size_t n;                 /* == p->nstages */
	size_t **up;              /* up[i]: stages that i depends on (sorted, unique) */
	size_t *nup;
	size_t **down;            /* down[i]: stages that depend on i */
	size_t *ndown;
	size_t *order;            /* a topological order; ties keep file order */
	/* private: every out of every stage, sorted by path ('/' before any byte) */
	struct dag_out {
		const char *path;         /* borrowed from the pipeline */
		size_t stage;
		const struct out *out;
	} *outs;
	size_t nouts;
	struct dag_index *index;  /* hash of out paths and their parent dirs */
	size_t *up_pool, *down_pool; /* storage of up[] and down[] */
	/* set by the caller (project.c), borrowed; NULL means "." and p->file */
	const char *prefix;       /* the directory rp started in, root-relative */
	const char *root_file;    /* the pipeline file whose stages have plain names */
};

/* Builds the graph of `p` (borrowed; must outlive the dag). NULL + err on a
 * conflict or a cycle (RP_ERR_INPUT, with file:line:col of the culprit). */
struct dag *dag_build(const struct pipeline *p, struct rp_err *err);
/* Frees the dag (not the pipeline). dag_free(NULL) does nothing. */
void dag_free(struct dag *d);

/* Index of the stage whose out is `path` or contains it, or -1. */
long dag_producer(const struct dag *d, const char *path);

/*
 * Checks that every dep that no stage produces exists on disk (lstat relative
 * to the current directory, which must be the workspace root). Fails with
 * "file:line:col: stage 'x': dependency 'p' does not exist and no stage
 * produces it" (RP_ERR_INPUT), or names a dangling symlink as such. Also
 * fails (RP_ERR_INPUT) when such a dep, or the directory of any out, goes
 * through a symlink that points outside the workspace or into its .rp/.
 * `seen` (may be NULL) is told the lstat of each source dep that is a
 * regular file, so the caller need not stat it again.
 */
int dag_check_sources(const struct dag *d,
		      void (*seen)(void *ctx, const char *path, const struct stat *sb),
		      void *ctx, struct rp_err *err);
/*
 * As dag_check_sources(), but a dep that does not exist is no error: `rp
 * status` lists it under its stage instead. The symlink rules still apply.
 */
int dag_check_links(const struct dag *d,
		    void (*seen)(void *ctx, const char *path, const struct stat *sb),
		    void *ctx, struct rp_err *err);

/*
 * The stages that target `t` names, as DVC reads a target, with file paths
 * relative to d->prefix (the directory rp was started in):
 *   - "path/to/dvc.yaml:stage" (or a foreach/matrix group after the ':'): that
 *     file's stage, whose address is "path/to/dvc.yaml:stage" (root-relative)
 *     or plain "stage" for the root's own file;
 *   - "path/to/dvc.yaml" (or rp.yaml): every stage of that file;
 *   - a stage or group name: in a subfolder that holds a pipeline file, that
 *     file's stage when it has one, else the name as pipeline_match() finds it.
 * Fills `idx` (room for d->n) and returns the count, 0 when none matches.
 */
size_t dag_match(const struct dag *d, const char *t, size_t *idx);

enum dag_select_flags {
	DAG_SELECT_DOWNSTREAM = 1 << 0, /* targets and everything that depends on them */
	DAG_SELECT_SINGLE = 1 << 1,     /* only the targets, not their upstream */
};
/*
 * Marks in `sel` (n bytes, set to 0/1) the stages that `rp repro TARGET...`
 * considers: by default each target and all its upstream stages. No targets
 * means every stage. Targets as dag_match() reads them. Unknown target: -1
 * with err (RP_ERR_INPUT).
 */
int dag_select(const struct dag *d, const char **targets, size_t ntargets,
	       unsigned flags, unsigned char *sel, struct rp_err *err);

struct buf;
/*
 * Appends "a, b, embed, ..." to `list` (the caller's): the first ten stage
 * names of `p`, a foreach/matrix group once by its group name, for "no such
 * stage" messages.
 */
void dag_list_stages(const struct pipeline *p, struct buf *list);

#endif
