/*
 * expand.h - foreach/do and matrix: one entry of `stages:` as many stages.
 *
 * The pipeline loader (pipeline.c) calls expand_foreach() or expand_matrix()
 * for an entry that has `foreach` or `matrix`. They name each stage the entry
 * stands for and build the map its ${...} are interpolated against, then
 * hand both to the loader's callback, which builds the stage: expansion
 * knows nothing of struct stage, and the loader nothing of items and axes.
 * Both fail, before any stage is made, when the entry would take the
 * pipeline past its cap on stages (see expand.c).
 */
#ifndef RP_EXPAND_H
#define RP_EXPAND_H

#include <stddef.h>
#include "util/error.h"
#include "yaml/doc.h"

/* What expansion needs from the loader, for one entry. */
struct expand {
	const struct node *vars;  /* the pipeline's vars: what "${name}" names, and
				     what each stage's context holds behind item/key */
	size_t nstages;           /* stages already in the pipeline */
	struct rp_err *err;       /* filled on failure */
	/*
	 * Builds stage `name` (taken, even on failure) from the fields in `body`,
	 * interpolating against `ctx` (a map, borrowed for the call only). `key`
	 * is the entry's key, for messages. `matrix` says that body's `matrix`
	 * field is the one being expanded (not a field of the stage). 0, or -1
	 * with `err` filled; expansion then stops.
	 */
	int (*stage)(void *arg, char *name, const struct node *key,
		     const struct node *body, const struct node *ctx, int matrix);
	void *arg;                /* passed to stage() */
};

/*
 * Expands `body` (a map with `foreach` and `do`) of the entry at map key
 * `key`: one stage "NAME@SUFFIX" per item of the foreach list or map, in
 * order, built from `do`. SUFFIX is the map key, the scalar item, or (when
 * any item of the list is a list or mapping) every item's index, written as
 * DVC writes them; ${item} is the item and ${key} the suffix. 0, or -1 with
 * ex->err filled ("file:line:col: message", RP_ERR_INPUT).
 */
int expand_foreach(const struct expand *ex, const struct node *key, const struct node *body);
/*
 * Expands `body` (a map with `matrix` and the stage's fields) of the entry
 * at map key `key`: one stage "NAME@V1-V2-..." per combination of the axes'
 * values, the last axis moving fastest (a non-scalar value stands as
 * AXIS<index>, as in DVC). ${item.AXIS} is the value of that axis and
 * ${key} the suffix. An empty axis makes no stages. 0, or -1 with ex->err
 * filled.
 */
int expand_matrix(const struct expand *ex, const struct node *key, const struct node *body);

#endif
