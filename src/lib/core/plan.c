/*
 * plan.c - the one answer to "what would run and why" (see plan.h).
 *
 * The params a stage reads from a file another stage writes are read here,
 * when the stage is planned (after that stage ran, in a real run), never
 * from what the file held when the pipeline was parsed.
 */
#include "core/plan.h"

#include <stdlib.h>

/*
 * Whether v, from reason `from` on, names a change to the stage's definition
 * (cmd, wdir, deps, params). With a key that matches, that happens only when
 * rp.lock was edited by hand: the lock then does not describe how the outs
 * were made, so the stage runs, as `rp status` says it will.
 */
static int definition_changed(const struct verdict *v, size_t from)
{
	for (size_t k = from; k < v->n; k++)
		if (v->r[k].kind < R_OUTS_DECLARED && v->r[k].kind != R_ALWAYS_CHANGED)
			return 1;
	return 0;
}

/*
 * Drops the "dep 'x' deleted" reasons from `from` on whose path a stage in
 * `will_run` makes: the upstream stage will create it.
 */
static void drop_made_upstream(const struct dag *d, const unsigned char *will_run,
			       struct verdict *v, size_t from)
{
	size_t k = from;

	for (size_t r = from; r < v->n; r++) {
		long up = v->r[r].kind == R_DEP_MISSING ? dag_producer(d, v->r[r].subject) : -1;

		if (up >= 0 && will_run[up]) {
			free(v->r[r].subject);
			free(v->r[r].old);
			free(v->r[r].new);
			continue;
		}
		v->r[k++] = v->r[r];
	}
	v->n = k;
}

enum plan_action plan_stage(const struct project *pr, size_t i, const unsigned char *will_run,
			    int force, struct eval *ev, struct verdict *v)
{
	struct stage *st = &pr->p->stages[i];
	const struct lock_stage *ls = lock_find(pr->lock, st->name);
	const struct dag *d = pr->dag;
	size_t nupstream;

	if (st->frozen && ls)
		return PLAN_FROZEN;
	for (size_t k = 0; will_run && k < d->nup[i]; k++)
		if (will_run[d->up[i][k]])
			freshness_verdict_add(v, R_UPSTREAM, pr->p->stages[d->up[i][k]].name, NULL, NULL);
	nupstream = v->n;
	freshness_read_params(d, st, ev);
	freshness_eval_deps(pr->ws.store, st, ev);
	freshness_compare(pr->ws.store, st, ev, ls, v);
	if (nupstream) {
		drop_made_upstream(d, will_run, v, nupstream);
		return PLAN_RUN;     /* its deps will change */
	}
	if (ev->nmissing)
		return PLAN_BROKEN;
	if (force || st->always_changed || !v->key_matches || definition_changed(v, nupstream))
		return PLAN_RUN;
	return v->outs_differ ? PLAN_RESTORE : PLAN_UPTODATE;
}
