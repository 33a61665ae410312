/*
 * pipeline-internal.h - what the pipeline loader's files share, not for use
 * outside them (the public interface is pipeline.h).
 *
 * Loading a pipeline is one design, described at the top of pipeline.c, in
 * these files:
 *     pipeline.c  the file: top-level keys, the docs kept alive, one stage
 *                 (a table of its fields), the name index, lookups
 *     pipevars.c  vars: params.yaml and `vars:` merged into one context map
 *     expand.c    foreach/do and matrix: one entry as many stages; it has a
 *                 header of its own, expand.h, as it needs nothing of struct
 *                 pipeline or struct loader, only node_fail() and pl_key_node()
 *
 * They share one struct loader for the duration of pipeline_load_cached()
 * and the pl_* helpers below (defined in pipeline.c). Every pl_* helper and
 * every function declared here reports an error as pipeline.c's header
 * says: "file:line:col: message" in the loader's rp_err, kind RP_ERR_INPUT
 * (RP_ERR_IO from the doc layer when a file exists but cannot be read).
 *
 * This header declares struct pipeline instead of including pipeline.h:
 * build-aux/check-layering.sh counts a header as a module, and pipeline.c
 * includes this one, so an include back would be a cycle.
 */
#ifndef RP_PIPELINE_INTERNAL_H
#define RP_PIPELINE_INTERNAL_H

#include <stddef.h>
#include "util/error.h"
#include "yaml/doc.h"

struct pipeline;
struct doccache;

/* The state of one pipeline_load_cached() call. */
struct loader {
	struct pipeline *p;
	struct doccache *cache;    /* the parse cache for every file loaded, or NULL */
	struct rp_err *err;
	size_t stages_alloc;
	char **merged;             /* on-disk names of vars files merged into p->vars */
	size_t nmerged, merged_alloc;
};

/* ---- helpers (pipeline.c) ------------------------------------------------ */

/* Whether `n` is absent or a null scalar ("", "~", "null"). */
int pl_is_null(const struct node *n);
/* The key node of `key` in `map` (for messages), or NULL; borrowed from map. */
const struct node *pl_key_node(const struct node *map, const char *key);
/* Whether a file is at `path` (stat(), so links are followed). */
int pl_exists(const char *path);
/*
 * The path of workspace-relative (or absolute) `rel` as seen from the cwd:
 * newly allocated, the caller frees it.
 */
char *pl_on_disk(const struct pipeline *p, const char *rel);
/*
 * The doc of the file at on-disk `path`, parsed once per pipeline and kept
 * in p->docs (owned by the pipeline until pipeline_free()). NULL with `err`
 * filled when it cannot be read or parsed.
 */
struct doc *pl_get_doc(struct loader *ld, const char *path, struct rp_err *err);

/* ---- vars (pipevars.c) ---------------------------------------------------- */

/*
 * Sets ld->p->vars (owned by the pipeline) to params.yaml beside the
 * pipeline file, when it exists, merged with the top-level `vars` list
 * (NULL or null: none). 0, or -1 with ld->err filled.
 */
int pipevars_load(struct loader *ld, const struct node *vars);
/*
 * Merges a `vars:` list (or a lone entry) into map `ctx` (deep copies:
 * `ctx` owns what is added). Files are named relative to `base`, a
 * workspace-relative directory. With `global`, remembers each file merged
 * so that a stage's `vars` naming it again is skipped. 0, or -1 with
 * ld->err filled (`ctx` may then hold part of the list).
 */
int pipevars_merge(struct loader *ld, struct node *ctx, const struct node *vars,
		   const char *base, int global);
/* Frees what pipevars_load() remembered in `ld`; ld->p->vars stays. */
void pipevars_release(struct loader *ld);

#endif
