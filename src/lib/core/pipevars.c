/*
 * pipevars.c - the vars of a pipeline: one context map for ${...}.
 *
 * pipevars_load() builds p->vars for the whole pipeline: params.yaml beside
 * the pipeline file (when it exists), then each entry of the top-level
 * `vars:` in order. An entry is a file ("file.yaml", or "file.yaml:k1,k2"
 * for some of its keys; a dotted key "a.b" merges as {a: {b: value}}) or an
 * inline map. A stage's own `vars:` merges the same way (pipevars_merge())
 * into a copy of p->vars that only that stage sees, with its files relative
 * to the stage's wdir.
 *
 * Merging copies: maps under one name merge recursively; the same leaf
 * defined twice is an error, as in DVC. A file already merged into p->vars
 * (such as params.yaml named again) is skipped; the loader remembers their
 * on-disk names (ld->merged) until pipevars_release(). Files are read
 * through pl_get_doc(), so each is parsed once and its nodes live as long
 * as the pipeline. A "file:keys" entry is a file name when a file of that
 * whole name exists.
 */
#include "core/pipeline.h"
#include "core/pipeline-internal.h"
#include "util/wspath.h"

#include <stdlib.h>
#include <string.h>

/*
 * Merges the pairs of map `src` into map `dst` (deep copies). Two maps under
 * one name merge; any other redefinition is an error at src's key.
 */
static int merge_vars(struct node *dst, const struct node *src, const char *prefix,
		      struct rp_err *err)
{
	size_t i;

	for (i = 0; i < src->n; i++) {
		const struct node *k = src->keys[i], *v = src->items[i];
		struct node *old = node_get(dst, k->str);
		char *full;
		int ret;

		if (!old) {
			node_append(dst, k->str, node_dup(v));
			continue;
		}
		full = prefix ? xasprintf("%s.%s", prefix, k->str) : xstrdup(k->str);
		if (old->kind == NODE_MAP && v->kind == NODE_MAP) {
			ret = merge_vars(old, v, full, err);
		} else {
			const char *also = old->file;

			if (old->kind == NODE_MAP && old->n)
				also = old->items[0]->file;
			ret = node_fail(err, k, "variable '%s' is defined twice (also in %s); "
				      "rename one of them", full,
				      also ? also : "an earlier vars entry");
		}
		free(full);
		if (ret < 0)
			return -1;
	}
	return 0;
}

static int merged_already(struct loader *ld, const char *path)
{
	size_t i;

	for (i = 0; i < ld->nmerged; i++)
		if (!strcmp(ld->merged[i], path))
			return 1;
	return 0;
}

static void note_merged(struct loader *ld, const char *path)
{
	ALLOC_GROW(ld->merged, ld->nmerged + 1, ld->merged_alloc);
	ld->merged[ld->nmerged++] = xstrdup(path);
}

/*
 * Merges the keys listed in `keys` ("k1,k2"; cut up in place) of vars file
 * `d` into `ctx`. `entry` and `rel` (the file's name) are for messages.
 */
static int merge_vars_keys(struct loader *ld, struct node *ctx, const struct doc *d,
			   char *keys, const struct node *entry, const char *rel)
{
	for (char *k = strtok(keys, ","); k; k = strtok(NULL, ",")) {
		const struct node *v;
		struct node *wrap, *leaf;
		char *dot;
		int ret;

		while (*k == ' ')
			k++;
		if (!*k)
			continue;
		v = d->root ? node_lookup(d->root, k) : NULL;
		if (!v)
			return node_fail(ld->err, entry, "variable '%s' is not defined in '%s'",
				       k, rel);
		/* "a.b" becomes {a: {b: value}} before merging */
		wrap = node_new_map();
		leaf = wrap;
		while ((dot = strchr(k, '.'))) {
			struct node *m = node_new_map();

			*dot = '\0';
			node_append(leaf, k, m);
			leaf = m;
			k = dot + 1;
		}
		node_append(leaf, k, node_dup(v));
		ret = merge_vars(ctx, wrap, NULL, ld->err);
		node_free(wrap);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/*
 * Merges the vars file named by `entry` ("file.yaml" or "file.yaml:k1,k2",
 * relative to `base`, workspace-relative) into `ctx`. With `global`, notes
 * the file so that stage-level vars naming it again are skipped.
 */
static int merge_vars_file(struct loader *ld, struct node *ctx, const struct node *entry,
			   const char *base, int global)
{
	struct pipeline *p = ld->p;
	char *name = xstrdup(entry->str), *keys = NULL, *rel = NULL, *path = NULL;
	const char *colon = strrchr(name, ':');
	struct doc *d;
	int ret = -1;

	if (colon) {
		char *whole_rel = name[0] != '/' && strcmp(base, ".")
			? xasprintf("%s/%s", base, name) : xstrdup(name);
		char *whole = pl_on_disk(p, whole_rel);

		free(whole_rel);
		if (!pl_exists(whole)) {
			keys = name + (colon - name) + 1;
			name[colon - name] = '\0';
		}
		free(whole);
	}
	rel = name[0] == '/' ? xstrdup(name) : wspath_normalize(base, name);
	if (!rel) /* vars may live above the workspace */
		rel = strcmp(base, ".") ? xasprintf("%s/%s", base, name) : xstrdup(name);
	path = pl_on_disk(p, rel);
	if (merged_already(ld, path)) {
		ret = 0;
		goto out;
	}
	if (!pl_exists(path)) {
		node_fail(ld->err, entry, "vars file '%s' does not exist; create it or remove "
			"the entry from 'vars'", rel);
		goto out;
	}
	if (!(d = pl_get_doc(ld, path, ld->err)))
		goto out;
	if (d->root && d->root->kind != NODE_MAP) {
		node_fail(ld->err, d->root, "vars file '%s' must be a mapping of names to "
			"values", rel);
		goto out;
	}
	if (keys) {
		ret = merge_vars_keys(ld, ctx, d, keys, entry, rel);
		goto out;
	}
	if (d->root && merge_vars(ctx, d->root, NULL, ld->err) < 0)
		goto out;
	if (global)
		note_merged(ld, path);
	ret = 0;
out:
	free(path);
	free(rel);
	free(name);
	return ret;
}

/* Merges a `vars:` list (or a lone entry) into `ctx`. */
int pipevars_merge(struct loader *ld, struct node *ctx, const struct node *vars,
		   const char *base, int global)
{
	size_t i, n;

	if (pl_is_null(vars))
		return 0;
	n = vars->kind == NODE_SEQ ? vars->n : 1;
	for (i = 0; i < n; i++) {
		const struct node *e = vars->kind == NODE_SEQ ? vars->items[i] : vars;

		if (e->kind == NODE_MAP) {
			if (merge_vars(ctx, e, NULL, ld->err) < 0)
				return -1;
		} else if (e->kind == NODE_SCALAR && !pl_is_null(e)) {
			if (merge_vars_file(ld, ctx, e, base, global) < 0)
				return -1;
		} else {
			return node_fail(ld->err, e, "each entry of 'vars' must be a file name "
				       "(\"params.yaml\", \"file.yaml:key1,key2\") or a mapping "
				       "of names to values");
		}
	}
	return 0;
}

int pipevars_load(struct loader *ld, const struct node *vars)
{
	struct pipeline *p = ld->p;
	char *auto_rel = wspath_normalize(p->base, "params.yaml");
	char *auto_path = pl_on_disk(p, auto_rel);
	int ret = -1;

	p->vars = node_new_map();
	if (pl_exists(auto_path)) {
		struct doc *d = pl_get_doc(ld, auto_path, ld->err);

		if (!d)
			goto out;
		if (d->root && d->root->kind == NODE_MAP) {
			if (merge_vars(p->vars, d->root, NULL, ld->err) < 0)
				goto out;
		} else if (d->root && !pl_is_null(d->root)) {
			node_fail(ld->err, d->root, "params file 'params.yaml' must be a mapping "
				"of names to values");
			goto out;
		}
		note_merged(ld, auto_path);
	}
	ret = pipevars_merge(ld, p->vars, vars, p->base, 1);
out:
	free(auto_path);
	free(auto_rel);
	return ret;
}

void pipevars_release(struct loader *ld)
{
	size_t i;

	for (i = 0; i < ld->nmerged; i++)
		free(ld->merged[i]);
	free(ld->merged);
	ld->merged = NULL;
	ld->nmerged = ld->merged_alloc = 0;
}
