/*
 * freshness.c - dirty-stage detection and its reasons (see freshness.h).
 *
 * A stage is up to date when its key equals the lock's key and every out
 * hashes to what the lock says. The reasons are computed separately from the
 * key (the key says *whether*, the reasons say *why*), so a change the key
 * catches but no reason names still shows up as "definition changed".
 */
#include "core/freshness.h"
#include "core/key.h"
#include "util/strv.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

void freshness_eval_deps(struct store *s, const struct stage *st, struct eval *ev)
{
	const char **hashes = xcalloc(st->ndeps ? st->ndeps : 1, sizeof(*hashes));

	ev->deps = xcalloc(st->ndeps ? st->ndeps : 1, sizeof(*ev->deps));
	ev->dep_ok = xcalloc(st->ndeps ? st->ndeps : 1, 1);
	ev->nmissing = 0;
	for (size_t i = 0; i < st->ndeps; i++) {
		struct rp_err err = { 0 };

		if (store_hash_path(s, st->deps[i].path, &ev->deps[i], &err) < 0) {
			if (!ev->nmissing++)
				ev->errmsg = xstrdup(err.msg);
			continue;
		}
		ev->dep_ok[i] = 1;
		hashes[i] = ev->deps[i].hash;
	}
	if (!ev->nmissing)
		key_compute(st, hashes, ev->key);
	free(hashes);
}

void freshness_eval_release(struct eval *ev)
{
	free(ev->deps);
	free(ev->dep_ok);
	free(ev->outs);
	free(ev->out_ok);
	free(ev->errmsg);
	memset(ev, 0, sizeof(*ev));
}

void freshness_verdict_add(struct verdict *v, enum reason_kind kind, const char *subject,
		 const char *old, const char *new)
{
	struct reason *r;

	ALLOC_GROW(v->r, v->n + 1, v->alloc);
	r = &v->r[v->n++];
	r->kind = kind;
	r->subject = subject ? xstrdup(subject) : NULL;
	r->old = old ? xstrdup(old) : NULL;
	r->new = new ? xstrdup(new) : NULL;
}

void freshness_verdict_release(struct verdict *v)
{
	for (size_t i = 0; i < v->n; i++) {
		free(v->r[i].subject);
		free(v->r[i].old);
		free(v->r[i].new);
	}
	free(v->r);
	memset(v, 0, sizeof(*v));
}

static int same_cmds(const struct stage *st, const struct lock_stage *ls)
{
	if (st->ncmds != ls->ncmds)
		return 0;
	for (size_t i = 0; i < st->ncmds; i++)
		if (strcmp(st->cmds[i], ls->cmds[i]))
			return 0;
	return 1;
}

static int cmp_item_path(const void *a, const void *b)
{
	return strcmp((*(const struct lock_item *const *)a)->path,
		      (*(const struct lock_item *const *)b)->path);
}

/*
 * found[i] = the item of it[0..n) whose path is want[i], or NULL; *all_same
 * is set when both list the same paths in the same order (as rp writes them).
 * O(n log n), not O(n^2): a gather stage may have thousands of deps. Caller
 * frees.
 */
static const struct lock_item **match_items(const struct lock_item *it, size_t n,
					    const char *const *want, size_t nwant, int *all_same)
{
	const struct lock_item **found = xcalloc(nwant ? nwant : 1, sizeof(*found));
	const struct lock_item **sorted;
	size_t i;

	for (i = 0; i < nwant && i < n && !strcmp(it[i].path, want[i]); i++)
		found[i] = &it[i];
	*all_same = i == nwant && n == nwant;
	if (i == nwant)
		return found;
	sorted = xcalloc(n ? n : 1, sizeof(*sorted));
	for (size_t k = 0; k < n; k++)
		sorted[k] = &it[k];
	qsort(sorted, n, sizeof(*sorted), cmp_item_path);
	for (; i < nwant; i++) {
		struct lock_item key = { .path = (char *)want[i] };
		const struct lock_item *kp = &key, **hit;

		hit = bsearch(&kp, sorted, n, sizeof(*sorted), cmp_item_path);
		found[i] = hit ? *hit : NULL;
	}
	free(sorted);
	return found;
}

char *freshness_param_name(const char *file, const char *key)
{
	if (!key || !*key)
		return xstrdup(file);
	if (!strcmp(file, "params.yaml"))
		return xstrdup(key);
	return xasprintf("%s:%s", file, key);
}

char *freshness_value_display(const char *canonical)
{
	json_t *v = json_loads(canonical, JSON_DECODE_ANY, NULL);
	char *s;

	if (v && json_is_string(v))
		s = xstrdup(json_string_value(v));
	else
		s = xstrdup(canonical);
	json_decref(v);
	return s;
}

static void compare_params(const struct stage *st, const struct lock_stage *ls, struct verdict *v)
{
	struct buf val = BUF_INIT;
	size_t i, j;

	for (i = 0; i < st->nparams; i++) {
		const struct param *p = &st->params[i];
		const char *key = p->key ? p->key : "";
		const struct lock_param *lp = NULL;
		char *name = freshness_param_name(p->file, key);

		for (j = 0; j < ls->nparams; j++)
			if (!strcmp(ls->params[j].file, p->file) && !strcmp(ls->params[j].key, key)) {
				lp = &ls->params[j];
				break;
			}
		buf_reset(&val);
		node_canonical(p->value, &val);
		if (!lp) {
			char *nv = freshness_value_display(val.s);

			freshness_verdict_add(v, R_PARAM_NEW, name, NULL, nv);
			free(nv);
		} else if (strcmp(lp->value, val.s)) {
			char *ov = freshness_value_display(lp->value), *nv = freshness_value_display(val.s);

			freshness_verdict_add(v, R_PARAM_CHANGED, name, ov, nv);
			free(ov);
			free(nv);
		}
		free(name);
	}
	for (j = 0; j < ls->nparams; j++) {
		int found = 0;

		for (i = 0; i < st->nparams && !found; i++)
			found = !strcmp(ls->params[j].file, st->params[i].file) &&
				!strcmp(ls->params[j].key, st->params[i].key ? st->params[i].key : "");
		if (!found) {
			char *name = freshness_param_name(ls->params[j].file, ls->params[j].key);

			freshness_verdict_add(v, R_PARAM_GONE, name, NULL, NULL);
			free(name);
		}
	}
	buf_release(&val);
}

void freshness_compare(struct store *s, const struct stage *st, struct eval *ev,
		  const struct lock_stage *ls, struct verdict *v)
{
	const struct lock_item **items;
	const char **paths;
	size_t i;
	size_t before = v->n;
	int same;

	ev->outs = xcalloc(st->nouts ? st->nouts : 1, sizeof(*ev->outs));
	ev->out_ok = xcalloc(st->nouts ? st->nouts : 1, 1);
	for (i = 0; i < st->nouts; i++) {
		struct rp_err err = { 0 };

		ev->out_ok[i] = store_hash_path(s, st->outs[i].path, &ev->outs[i], &err) == 0;
	}
	v->key_matches = ls && !ev->nmissing && !strcmp(ls->key, ev->key);
	if (!ls) {
		freshness_verdict_add(v, R_NEVER_RUN, NULL, NULL, NULL);
		for (i = 0; i < st->ndeps; i++)
			if (!ev->dep_ok[i])
				freshness_verdict_add(v, R_DEP_MISSING, st->deps[i].path, NULL, NULL);
		v->outs_differ = 1;
		return;
	}
	if (st->always_changed)
		freshness_verdict_add(v, R_ALWAYS_CHANGED, NULL, NULL, NULL);
	if (!same_cmds(st, ls))
		freshness_verdict_add(v, R_CMD, NULL, NULL, NULL);
	if (strcmp(st->wdir ? st->wdir : ".", ls->wdir))
		freshness_verdict_add(v, R_WDIR, NULL, ls->wdir, st->wdir);
	paths = xcalloc(st->ndeps + st->nouts + 1, sizeof(*paths));
	for (i = 0; i < st->ndeps; i++)
		paths[i] = st->deps[i].path;
	items = match_items(ls->deps, ls->ndeps, paths, st->ndeps, &same);
	for (i = 0; i < st->ndeps; i++) {
		const struct lock_item *li = items[i];

		if (!ev->dep_ok[i])
			freshness_verdict_add(v, R_DEP_MISSING, st->deps[i].path, NULL, NULL);
		else if (!li)
			freshness_verdict_add(v, R_DEP_NEW, st->deps[i].path, NULL, NULL);
		else if (strcmp(li->oi.hash, ev->deps[i].hash))
			freshness_verdict_add(v, R_DEP_CHANGED, st->deps[i].path, NULL, NULL);
	}
	free(items);
	if (!same) {
		strv_sort(paths, st->ndeps);
		for (i = 0; i < ls->ndeps; i++)
			if (!strv_has(paths, st->ndeps, ls->deps[i].path))
				freshness_verdict_add(v, R_DEP_GONE, ls->deps[i].path, NULL, NULL);
	}
	compare_params(st, ls, v);
	for (i = 0; i < st->nouts; i++)
		paths[i] = st->outs[i].path;
	items = match_items(ls->outs, ls->nouts, paths, st->nouts, &same);
	free(paths);
	for (i = 0; i < st->nouts; i++) {
		const struct lock_item *li = items[i];

		if (!li) {
			freshness_verdict_add(v, R_OUTS_DECLARED, st->outs[i].path, NULL, NULL);
			v->outs_differ = 1;
		} else if (!ev->out_ok[i]) {
			freshness_verdict_add(v, R_OUT_MISSING, st->outs[i].path, NULL, NULL);
			v->outs_differ = 1;
		} else if (strcmp(li->oi.hash, ev->outs[i].hash)) {
			freshness_verdict_add(v, R_OUT_MODIFIED, st->outs[i].path, NULL, NULL);
			v->outs_differ = 1;
		}
	}
	free(items);
	if (ls->nouts != st->nouts && !v->outs_differ) {
		freshness_verdict_add(v, R_OUTS_DECLARED, NULL, NULL, NULL);
		v->outs_differ = 1;
	}
	if (v->n == before && !v->key_matches)
		freshness_verdict_add(v, R_OUTS_DECLARED, NULL, NULL, NULL);
}

const char *freshness_reason_name(enum reason_kind k)
{
	static const char *names[] = {
		[R_NEVER_RUN] = "never-run", [R_ALWAYS_CHANGED] = "always-changed",
		[R_CMD] = "cmd-changed", [R_WDIR] = "wdir-changed",
		[R_DEP_MISSING] = "dep-missing", [R_DEP_CHANGED] = "dep-changed",
		[R_DEP_NEW] = "dep-added", [R_DEP_GONE] = "dep-removed",
		[R_PARAM_CHANGED] = "param-changed", [R_PARAM_NEW] = "param-added",
		[R_PARAM_GONE] = "param-removed", [R_OUTS_DECLARED] = "definition-changed",
		[R_OUT_MISSING] = "out-missing", [R_OUT_MODIFIED] = "out-modified",
		[R_UPSTREAM] = "upstream-dirty",
	};
	return names[k];
}

char *freshness_reason_text(const struct reason *r)
{
	switch (r->kind) {
	case R_NEVER_RUN: return xstrdup("never run");
	case R_ALWAYS_CHANGED: return xstrdup("always changed");
	case R_CMD: return xstrdup("cmd changed");
	case R_WDIR: return xasprintf("wdir changed: %s -> %s", r->old, r->new);
	case R_DEP_MISSING: return xasprintf("dep '%s' missing", r->subject);
	case R_DEP_CHANGED: return xasprintf("dep '%s' changed", r->subject);
	case R_DEP_NEW: return xasprintf("dep '%s' added", r->subject);
	case R_DEP_GONE: return xasprintf("dep '%s' removed", r->subject);
	case R_PARAM_CHANGED: return xasprintf("param %s %s -> %s", r->subject, r->old, r->new);
	case R_PARAM_NEW: return xasprintf("param %s added (%s)", r->subject, r->new);
	case R_PARAM_GONE: return xasprintf("param %s removed", r->subject);
	case R_OUTS_DECLARED:
		return r->subject ? xasprintf("out '%s' added", r->subject)
				  : xstrdup("outs changed in the pipeline file");
	case R_OUT_MISSING: return xasprintf("out '%s' missing", r->subject);
	case R_OUT_MODIFIED: return xasprintf("out '%s' modified", r->subject);
	case R_UPSTREAM: return xasprintf("upstream stage '%s' will run", r->subject);
	}
	return xstrdup("?");
}
