/*
 * lockcheck.c - which paths a lock may make rp write (see lockcheck.h).
 *
 * The pipeline's dep, out and params paths are gathered into one sorted
 * array (each path once, with every role it has); each path of each lock
 * entry is then normalised, checked against the workspace path policy
 * (util/wspath.h) and looked up by binary search. This lives in core/, not
 * lock/, because the rule is stated in terms of the pipeline.
 */
#include "core/lockcheck.h"
#include "core/pipeline.h"
#include "util/wspath.h"

#include <stdlib.h>
#include <string.h>

enum { NAMED_PATH = 1, NAMED_PARAMS = 2 };

/* A path the pipeline names: a dep or out (NAMED_PATH), a params file (NAMED_PARAMS). */
struct named {
	const char *path;
	unsigned role;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->path, ((const struct named *)b)->path);
}

/* Whether `a` and `b` are one path or one lies inside the other. */
static int overlaps(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;

	if (!strcmp(a, ".") || !strcmp(b, "."))
		return 1;
	return !strncmp(a, b, n) && (la == lb || (la < lb ? b[la] : a[lb]) == '/');
}

/* Checks one path of a lock entry; 0 or -1 + err. */
static int check_one(const char *lockname, const char *stage, const char *what,
		     const char *path, unsigned role, const struct named *v, size_t n,
		     const struct pipeline *p, const char *store, struct rp_err *err)
{
	char *norm = wspath_normalize(".", path);
	struct named key = { norm, 0 }, *hit;
	int ret = 0;

	if (!norm || wspath_reserved(norm))
		ret = rp_err_set(err, RP_ERR_INPUT, "%s: stage '%s': %s '%s' leaves the workspace "
				 "or is in '.git' or '.rp' (in any letter case); rp never writes "
				 "there, so nothing was changed", lockname, stage, what, path);
	else if (!strcmp(norm, "."))
		ret = rp_err_set(err, RP_ERR_INPUT, "%s: stage '%s': %s '%s' is the workspace "
				 "itself, which holds '.git' and '.rp'; rp never writes it, so "
				 "nothing was changed", lockname, stage, what, path);
	else if (!(hit = bsearch(&key, v, n, sizeof(*v), cmp_named)) || !(hit->role & role))
		ret = rp_err_set(err, RP_ERR_INPUT, "%s: stage '%s': %s '%s' is not %s of any "
				 "stage in '%s'; a lock may only name paths the pipeline names, so "
				 "nothing was changed", lockname, stage, what, path,
				 role == NAMED_PARAMS ? "a params file" : "a dependency or output",
				 p->file);
	else if (store && overlaps(norm, store))
		ret = rp_err_set(err, RP_ERR_INPUT, "%s: stage '%s': %s '%s' is, holds or lies in "
				 "the store '%s'; rp never writes there, so nothing was changed",
				 lockname, stage, what, path, store);
	free(norm);
	return ret;
}

int lock_check_paths(const struct lock *l, const char *lockname, const struct pipeline *p,
		     const char *store_dir, struct rp_err *err)
{
	struct named *v = NULL;
	size_t n = 0, alloc = 0, k = 0;
	char *store = store_dir ? wspath_normalize(".", store_dir) : NULL;
	int ret = 0;

	for (size_t i = 0; i < p->nstages; i++) {
		const struct stage *st = &p->stages[i];

		for (size_t j = 0; j < st->ndeps + st->nouts + st->nparams; j++) {
			ALLOC_GROW(v, n + 1, alloc);
			if (j < st->ndeps)
				v[n++] = (struct named){ st->deps[j].path, NAMED_PATH };
			else if (j < st->ndeps + st->nouts)
				v[n++] = (struct named){ st->outs[j - st->ndeps].path, NAMED_PATH };
			else
				v[n++] = (struct named){ st->params[j - st->ndeps - st->nouts].file,
							 NAMED_PARAMS };
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_named);
	/* one entry per path, with every role it has */
	for (size_t i = 0; i < n; i++) {
		if (k && !strcmp(v[k - 1].path, v[i].path))
			v[k - 1].role |= v[i].role;
		else
			v[k++] = v[i];
	}
	n = k;
	for (size_t i = 0; i < l->n && !ret; i++) {
		const struct lock_stage *s = l->stages[i];

		for (size_t j = 0; j < s->ndeps && !ret; j++)
			ret = check_one(lockname, s->name, "dependency", s->deps[j].path, NAMED_PATH,
					v, n, p, store, err);
		for (size_t j = 0; j < s->nouts && !ret; j++)
			ret = check_one(lockname, s->name, "output", s->outs[j].path, NAMED_PATH,
					v, n, p, store, err);
		for (size_t j = 0; j < s->nparams && !ret; j++)
			if (j == 0 || strcmp(s->params[j].file, s->params[j - 1].file))
				ret = check_one(lockname, s->name, "params file", s->params[j].file,
						NAMED_PARAMS, v, n, p, store, err);
	}
	free(store);
	free(v);
	return ret;
}
