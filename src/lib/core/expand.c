/*
 * expand.c - foreach/do and matrix entries expanded into stages.
 *
 * foreach: the collection is the `foreach` value itself, or a "${var}" that
 * names a list or map in the pipeline's vars. One stage per item, in order,
 * named "NAME@SUFFIX" as DVC names them (dvc/parsing/__init__.py): the map
 * key; for a list, the item itself when every item is a scalar, else every
 * item's index (one list or mapping among the items makes them all indexes).
 * matrix: each axis is a list (or a "${var}" naming one); one stage per
 * combination, named "NAME@V1-V2-...", the last axis moving fastest, like
 * nested loops in the order the axes are written; a value that is a list or
 * a mapping is written AXIS<index> ("model0"), as DVC does. Scalars in names
 * are written as DVC's to_str() writes them (interp_scalar_text(): true,
 * None, 1e-05), so stage names match DVC's.
 *
 * Each stage is interpolated against an overlay: a map that shows `item` and
 * `key` in front of the pairs of the pipeline's vars. The overlay borrows
 * every node (the vars, the item, the matrix's keys) and owns only its
 * arrays and the three scalars it makes, so making one costs two arrays the
 * size of the vars, not a copy of them; it lives for one ex->stage() call.
 *
 * Invariant: a pipeline holds at most PIPELINE_MAX_STAGES stages. The count
 * is checked before the first stage of an entry is made (the matrix's
 * product computed without overflow), so a few lines of YAML cannot ask for
 * billions of stages.
 */
#include "core/expand.h"
#include "core/pipeline-internal.h"
#include "core/interp.h"
#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

/* A map that shows `item` and `key` in front of the pairs of another map. */
struct overlay {
	struct node map;
	struct node *k_item, *k_key, *v_key;
};

/* Sets up `o` as `base` with item = `item` and key = `key` in front. */
static void overlay_init(struct overlay *o, const struct node *base,
			 const struct node *item, const char *key)
{
	size_t i, n = 0, cap = (base ? base->n : 0) + 2;

	memset(o, 0, sizeof(*o));
	o->k_item = node_new_scalar("item", 0);
	o->k_key = node_new_scalar("key", 0);
	o->v_key = node_new_scalar(key, 1);
	o->map.kind = NODE_MAP;
	o->map.file = "<generated>";
	o->map.keys = xmalloc(cap * sizeof(*o->map.keys));
	o->map.items = xmalloc(cap * sizeof(*o->map.items));
	o->map.keys[n] = o->k_item;
	o->map.items[n++] = (struct node *)item;
	o->map.keys[n] = o->k_key;
	o->map.items[n++] = o->v_key;
	for (i = 0; base && i < base->n; i++) {
		const char *k = base->keys[i]->str;

		if (!strcmp(k, "item") || !strcmp(k, "key"))
			continue;
		o->map.keys[n] = base->keys[i];
		o->map.items[n++] = base->items[i];
	}
	o->map.n = n;
}

static void overlay_release(struct overlay *o)
{
	free(o->map.keys);
	free(o->map.items);
	node_free(o->k_item);
	node_free(o->k_key);
	node_free(o->v_key);
}

/* The seq or map that `n` is, or names as "${var}"; NULL + err otherwise. */
static const struct node *resolve_collection(const struct expand *ex, const struct node *n,
					     const char *stage, const char *what)
{
	const struct node *r = n;

	if (n->kind == NODE_SCALAR) {
		ex->err->kind = RP_ERR_NONE;
		r = interp_node(n->str, ex->vars, n, ex->err);
		if (!r && ex->err->kind != RP_ERR_NONE)
			return NULL;
	}
	if (!r || r->kind == NODE_SCALAR) {
		node_fail(ex->err, n, "stage '%s': %s must be a list, a mapping or a "
			"\"${var}\" naming one", stage, what);
		return NULL;
	}
	return r;
}

/*
 * At most this many stages in one pipeline. A few lines of foreach or matrix
 * over aliased lists would otherwise ask for billions of stages and hang rp
 * until it runs out of memory, instead of failing with a message.
 */
#define PIPELINE_MAX_STAGES 100000

/* Fails when `count` more stages, made by stage `name`, would pass the cap. */
static int check_stage_count(const struct expand *ex, const struct node *at,
			     const char *name, size_t count)
{
	if (count <= PIPELINE_MAX_STAGES - ex->nstages)
		return 0;
	return node_fail(ex->err, at, "stage '%s' expands to too many stages (more than %d "
		       "in the pipeline)", name, PIPELINE_MAX_STAGES);
}

int expand_foreach(const struct expand *ex, const struct node *key, const struct node *body)
{
	const char *name = key->str;
	const struct node *fe = node_get(body, "foreach"), *dob = node_get(body, "do");
	const struct node *coll;
	size_t i;
	int by_index = 0;

	for (i = 0; i < body->n; i++) {
		const char *f = body->keys[i]->str;

		if (strcmp(f, "foreach") && strcmp(f, "do"))
			return node_fail(ex->err, body->keys[i], "stage '%s': '%s' cannot stand "
				       "beside 'foreach'; move it under 'do'", name, f);
	}
	if (!dob)
		return node_fail(ex->err, pl_key_node(body, "foreach"), "stage '%s': 'foreach' "
			       "needs a 'do' mapping with the stage's fields", name);
	if (dob->kind != NODE_MAP)
		return node_fail(ex->err, dob, "stage '%s': 'do' must be a mapping of stage "
			       "fields (cmd, deps, outs, ...)", name);
	if (!(coll = resolve_collection(ex, fe, name, "'foreach'")))
		return -1;
	if (check_stage_count(ex, fe, name, coll->n) < 0)
		return -1;
	for (i = 0; coll->kind == NODE_SEQ && i < coll->n; i++)
		if (coll->items[i]->kind != NODE_SCALAR)
			by_index = 1;
	for (i = 0; i < coll->n; i++) {
		const struct node *item = coll->items[i];
		struct overlay o;
		char *suffix, *full;
		int ret;

		if (coll->kind == NODE_MAP)
			suffix = interp_scalar_text(coll->keys[i]);
		else if (!by_index)
			suffix = interp_scalar_text(item);
		else
			suffix = xasprintf("%zu", i);
		full = xasprintf("%s@%s", name, suffix);
		overlay_init(&o, ex->vars, item, suffix);
		ret = ex->stage(ex->arg, full, key, dob, &o.map, 0);
		overlay_release(&o);
		free(suffix);
		if (ret < 0)
			return -1;
	}
	return 0;
}

/*
 * Resolves the axes of matrix `mx` into axes[] and sets *total to the
 * number of combinations: 0 at the first empty axis (the later ones are not
 * looked at), PIPELINE_MAX_STAGES + 1 when past the cap.
 */
static int matrix_axes(const struct expand *ex, const char *name, const struct node *mx,
		       const struct node **axes, size_t *total)
{
	size_t i;

	for (i = 0; i < mx->n; i++) {
		char *what = xasprintf("matrix axis '%s'", mx->keys[i]->str);

		axes[i] = resolve_collection(ex, mx->items[i], name, what);
		free(what);
		if (!axes[i])
			return -1;
		if (axes[i]->kind != NODE_SEQ)
			return node_fail(ex->err, mx->items[i], "stage '%s': matrix axis '%s' "
				       "must be a list", name, mx->keys[i]->str);
		if (!axes[i]->n) { /* an empty axis: no stages */
			*total = 0;
			return 0;
		}
	}
	for (i = 0, *total = 1; i < mx->n; i++) {
		if (*total > PIPELINE_MAX_STAGES / axes[i]->n) {
			*total = (size_t)PIPELINE_MAX_STAGES + 1;
			break;
		}
		*total *= axes[i]->n;
	}
	return 0;
}

/*
 * Builds the stage of combination at[] (an index into each axis). `item`
 * maps each axis's name to its value; its values are set here.
 */
static int matrix_stage(const struct expand *ex, const struct node *key,
			const struct node *body, const struct node **axes,
			const size_t *at, struct node *item)
{
	struct buf suffix = BUF_INIT;
	struct overlay o;
	char *full;
	size_t i;
	int r;

	for (i = 0; i < item->n; i++) {
		const struct node *v = axes[i]->items[at[i]];

		item->items[i] = (struct node *)v;
		if (i)
			buf_addch(&suffix, '-');
		if (v->kind == NODE_SCALAR) {
			char *t = interp_scalar_text(v);

			buf_adds(&suffix, t);
			free(t);
		} else {
			buf_addf(&suffix, "%s%zu", item->keys[i]->str, at[i]);
		}
	}
	full = xasprintf("%s@%s", key->str, suffix.s);
	overlay_init(&o, ex->vars, item, suffix.s);
	r = ex->stage(ex->arg, full, key, body, &o.map, 1);
	overlay_release(&o);
	buf_release(&suffix);
	return r;
}

int expand_matrix(const struct expand *ex, const struct node *key, const struct node *body)
{
	const char *name = key->str;
	const struct node *mx = node_get(body, "matrix");
	const struct node **axes;
	size_t *at, i, naxes, total = 0;
	struct node item = { 0 };
	int ret = -1;

	if (mx->kind != NODE_MAP || !mx->n)
		return node_fail(ex->err, mx, "stage '%s': 'matrix' must be a mapping of names "
			       "to lists of values", name);
	naxes = mx->n;
	axes = xcalloc(naxes, sizeof(*axes));
	at = xcalloc(naxes, sizeof(*at));
	item.kind = NODE_MAP;
	item.file = mx->file;
	item.line = mx->line;
	item.col = mx->col;
	item.n = naxes;
	item.keys = mx->keys;
	item.items = xcalloc(naxes, sizeof(*item.items));
	if (matrix_axes(ex, name, mx, axes, &total) < 0)
		goto out;
	if (!total) { /* an empty axis */
		ret = 0;
		goto out;
	}
	if (check_stage_count(ex, mx, name, total) < 0)
		goto out;
	do {
		if (matrix_stage(ex, key, body, axes, at, &item) < 0)
			goto out;
		/* next combination; the last axis moves fastest */
		for (i = naxes; i-- > 0;) {
			if (++at[i] < axes[i]->n)
				break;
			at[i] = 0;
		}
	} while (i != (size_t)-1);
	ret = 0;
out:
	free(item.items);
	free(at);
	free(axes);
	return ret;
}
