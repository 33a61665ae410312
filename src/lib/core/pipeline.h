/*
 * pipeline.h - rp.yaml (or dvc.yaml) loaded, validated and fully expanded.
 *
 * pipeline_load() reads the pipeline file, loads `vars:` (files and inline
 * maps; params.yaml beside the pipeline is loaded first when it exists, as DVC
 * does), expands foreach/do and matrix into concrete stages, interpolates
 * ${...} in cmd, wdir, deps, params, outs and metrics, normalises every path
 * to be relative to the pipeline file's directory (the workspace root), and
 * resolves each listed parameter to its value in its params file.
 *
 * Every error is reported as "file:line:col: message" with the fix, and makes
 * pipeline_load() fail with err->kind == RP_ERR_INPUT.
 *
 * The design is at the top of pipeline.c; vars live in pipevars.c and
 * foreach/matrix in expand.c (pipeline-internal.h says who holds what).
 */
#ifndef RP_PIPELINE_H
#define RP_PIPELINE_H

#include <stddef.h>
#include "yaml/doc.h"

struct dep {
	char *path;               /* workspace-relative, normalised ("a/b", never "./a") */
	int cache;                /* save this source into the store (default 1; `cache: false`) */
	const struct node *where; /* for messages */
};

struct out {
	char *path;               /* workspace-relative, normalised */
	int cache;                /* store in .rp/cache (default 1) */
	int persist;              /* keep the old copy while the stage runs (default 0) */
	int metric;               /* declared under `metrics:` */
	int plot;                 /* declared under the stage's `plots:` */
	const struct node *where;
};

struct param {
	char *file;               /* workspace-relative params file ("params.yaml") */
	char *key;                /* dotted key ("chunker.size"); NULL = the whole file */
	const struct node *value; /* its value, borrowed from the pipeline's params docs;
				     NULL when the file or key is missing and a stage
				     writes the file (read when the stage is evaluated,
				     freshness_read_params(), as is any file a stage writes) */
	const struct node *where;
};

struct stage {
	char *name;               /* "chunk", "embed@small", "train@0.1-adam" */
	char **cmds;              /* interpolated commands, run in order by `sh -c` */
	size_t ncmds;
	char *wdir;               /* workspace-relative, "." when not given */
	struct dep *deps;
	size_t ndeps;
	struct param *params;     /* in file order; duplicates removed */
	size_t nparams;
	struct out *outs;         /* outs, then metrics, then plots, in file order */
	size_t nouts;
	char **urls;              /* deps that are URLs ("https://...", "s3://..."): never
				     hashed or read; the stage is always changed */
	size_t nurls;
	int always_changed;       /* `always_changed: true`, a callback stage, or URL deps */
	int callback;             /* only a command: no deps, params or outs (DVC's
				     callback stage, run on every repro) */
	int frozen;
	char *desc;               /* NULL when absent */
	const struct node *where; /* the stage's key in the pipeline file */
};

struct pipeline {
	char *file;               /* the pipeline file as given */
	char *dir;                /* on-disk prefix of workspace-relative paths ("." but
				     for an absolute path: then its directory is the root) */
	char *base;               /* the file's directory, workspace-relative: its paths
				     and wdir start there and may reach the whole root */
	struct stage *stages;     /* in file order (foreach/matrix items in order) */
	size_t nstages;
	/* private: docs kept alive for the node pointers above */
	struct doc **docs;
	size_t ndocs, docs_alloc;
	struct node *vars;        /* merged vars context (owned) */
	size_t *by_name;          /* stage indexes sorted by name, for pipeline_find */
	struct node *empty;       /* an empty map: the value of an empty whole params file */
};

/*
 * Loads and expands the pipeline at `path`. Relative params and vars files
 * are read relative to the pipeline file's directory. Returns a pipeline
 * (free with pipeline_free) or NULL with `err` filled.
 */
struct pipeline *pipeline_load(const char *path, struct rp_err *err);
/*
 * As pipeline_load(), with the pipeline, vars and params files parsed
 * through `cache` (doccache.h; NULL: parsed directly, as pipeline_load()).
 */
struct doccache;
struct pipeline *pipeline_load_cached(const char *path, struct doccache *cache,
				      struct rp_err *err);
/* Frees everything. pipeline_free(NULL) does nothing. */
void pipeline_free(struct pipeline *p);
/* The stage called `name`, or NULL (binary search). Borrowed from p. */
struct stage *pipeline_find(const struct pipeline *p, const char *name);
/*
 * Stages matching `target`: an exact name, or a foreach/matrix group name
 * ("embed" matches "embed@small" and "embed@large"). Fills `idx` (room for
 * p->nstages) and returns the count (0 when none match).
 */
size_t pipeline_match(const struct pipeline *p, const char *target, size_t *idx);

#endif
