/*
 * targets.c - resolving TARGET arguments into stage names (see targets.h).
 *
 * Each target becomes one or more exact stage names, which dag_select()
 * then closes over (upstream, downstream or single), so the graph walk stays
 * in dag.c and names stay matched by pipeline_match() alone. A target that
 * resolves to nothing is reported here, with a suggestion, before
 * dag_select() sees it.
 */
#include "core/targets.h"
#include "util/buf.h"
#include "util/suggest.h"
#include "util/wspath.h"

#include <stdlib.h>
#include <string.h>

/* The names of p's stages and of its foreach/matrix groups, all newly allocated. */
static size_t candidate_names(const struct pipeline *p, char ***out)
{
	char **names = xcalloc(2 * p->nstages + 1, sizeof(*names));
	size_t n = 0;

	for (size_t i = 0; i < p->nstages; i++) {
		const char *name = p->stages[i].name;
		const char *at = strchr(name, '@');

		names[n++] = xstrdup(name);
		if (at)
			names[n++] = xstrndup(name, (size_t)(at - name));
	}
	*out = names;
	return n;
}

char *targets_suggest(const struct pipeline *p, const char *word)
{
	char **names;
	size_t n = candidate_names(p, &names);

	return suggest_take(word, names, n);
}

/* `t` without a leading "./" (repeated) and trailing '/'s; newly allocated. */
static char *as_path(const char *t)
{
	size_t len;

	while (t[0] == '.' && t[1] == '/')
		t += 2;
	len = strlen(t);
	while (len > 1 && t[len - 1] == '/')
		len--;
	return xstrndup(t, len);
}

/* Adds the name of stage i to names unless it is there. */
static void add_name(const struct dag *d, size_t i, const char ***names, size_t *n,
		     size_t *alloc)
{
	for (size_t k = 0; k < *n; k++)
		if ((*names)[k] == d->p->stages[i].name)
			return;
	ALLOC_GROW(*names, *n + 1, *alloc);
	(*names)[(*n)++] = d->p->stages[i].name;
}

/* Adds the stages that output path `t` (or inside it) to names; how many. */
static size_t by_output(const struct dag *d, const char *t, const char ***names, size_t *n,
			size_t *alloc)
{
	char *path = as_path(t);
	size_t len, found = 0;
	long i;

	/* relative to the directory rp was started in (core/dag.h) */
	if (d->prefix && strcmp(d->prefix, ".")) {
		char *rel = wspath_normalize(d->prefix, path);

		free(path);
		path = rel ? rel : xstrdup("");
	}
	len = strlen(path);
	i = dag_producer(d, path);

	if (i >= 0) {
		add_name(d, (size_t)i, names, n, alloc);
		found = 1;
	} else if (strcmp(path, ".")) {
		/* a directory that holds outputs: every stage with one inside */
		for (size_t k = 0; k < d->nouts; k++)
			if (!strncmp(d->outs[k].path, path, len) && d->outs[k].path[len] == '/') {
				add_name(d, d->outs[k].stage, names, n, alloc);
				found++;
			}
	}
	free(path);
	return found;
}

static int not_found(const struct dag *d, const char *t, struct rp_err *err)
{
	char *best = targets_suggest(d->p, t);
	struct buf list = BUF_INIT;

	if (best) {
		rp_err_set(err, RP_ERR_INPUT, "'%s' is no stage, group or output of %s; did you "
			   "mean '%s'?", t, d->p->file, best);
	} else {
		dag_list_stages(d->p, &list);
		rp_err_set(err, RP_ERR_INPUT, "'%s' is no stage, group or output of %s (stages: %s)",
			   t, d->p->file, d->p->nstages ? list.s : "none");
	}
	buf_release(&list);
	free(best);
	return -1;
}

int targets_select(const struct dag *d, const char **targets, size_t ntargets,
		   unsigned flags, unsigned char *sel, struct rp_err *err)
{
	const char **names = NULL;
	size_t n = 0, alloc = 0;
	size_t *idx = xmalloc((d->n + 1) * sizeof(*idx));
	int ret = 0;

	for (size_t t = 0; t < ntargets && !ret; t++) {
		const char *target = targets[t];

		/* 1. stage names and groups */
		if (dag_match(d, target, idx)) {
			ALLOC_GROW(names, n + 1, alloc);
			names[n++] = target;
			continue;
		}
		/*
		 * 2. HOOK (helper W): an address `path/dvc.yaml:stage`. Resolve
		 * it to stage names here; until then dag_select() gets it as
		 * written and says what it makes of it.
		 */
		if (strchr(target, ':')) {
			ALLOC_GROW(names, n + 1, alloc);
			names[n++] = target;
			continue;
		}
		/* 3. output paths */
		if (by_output(d, target, &names, &n, &alloc))
			continue;
		ret = not_found(d, target, err);
	}
	free(idx);
	if (!ret && (n || !ntargets))
		ret = dag_select(d, names, n, flags, sel, err);
	free(names);
	return ret;
}
