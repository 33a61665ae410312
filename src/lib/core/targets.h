/*
 * targets.h - what the TARGET arguments of `rp repro` (and of status and dag)
 * name, in one place.
 *
 * A target is, in this order of preference:
 *   1. a stage name or a foreach/matrix group ("embed" for embed@a, embed@b),
 *      as pipeline_match() knows them;
 *   2. an address `path/dvc.yaml:stage` (helper W's: see the hook in
 *      targets.c; until then such a target goes to dag_select() as written);
 *   3. an output path: the stage that produces it (or the output directory
 *      holding it), or, for a directory holding outputs, every stage that
 *      produces one inside it ("./" and a final "/" are ignored);
 * and anything else is an input error that names the closest stage or group
 * ("did you mean 'embed'?", util/suggest.h).
 *
 * Calling sequence: targets_select() in place of dag_select().
 */
#ifndef RP_TARGETS_H
#define RP_TARGETS_H

#include <stddef.h>

#include "core/dag.h"
#include "util/error.h"

/*
 * As dag_select() (same flags, `sel` of d->n bytes), with targets resolved
 * as above. 0, or -1 + err (RP_ERR_INPUT: "'x' is no stage, group or output
 * of rp.yaml; did you mean 'y'?", else the list of stages).
 */
int targets_select(const struct dag *d, const char **targets, size_t ntargets,
		   unsigned flags, unsigned char *sel, struct rp_err *err);

/*
 * The closest stage or foreach/matrix group name of `p` to `word`, newly
 * allocated (the caller frees), or NULL when none is close. For messages of
 * commands that resolve targets themselves.
 */
char *targets_suggest(const struct pipeline *p, const char *word);

#endif
