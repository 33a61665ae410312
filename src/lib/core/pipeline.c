/*
 * pipeline.c - rp.yaml (or dvc.yaml) loaded into concrete, validated stages.
 *
 * pipeline_load() works in three passes over the parsed document:
 *
 *   1. vars: params.yaml beside the pipeline file (when it exists), then each
 *      `vars:` entry in order (a file, "file:key1,key2", or an inline map),
 *      merged into one context map, p->vars. Maps merge recursively; the same
 *      leaf defined twice is an error, as in DVC. A file already merged (such
 *      as params.yaml named again) is skipped. This pass is pipevars.c.
 *   2. stages: each entry of `stages:` becomes one stage, or several when it
 *      has foreach/do or matrix. Expanded stages interpolate ${...} against an
 *      overlay map that puts `item` and `key` in front of the vars (the overlay
 *      borrows every node and only owns its arrays); expand.c makes them and
 *      calls back here to build each. Every path is normalised to be relative
 *      to the pipeline file's directory (the workspace root), and each
 *      parameter is resolved in its params file.
 *   3. names: a sorted index of stage names (p->by_name) finds duplicates and
 *      serves pipeline_find().
 *
 * What a dvc.yaml may hold is read as DVC reads it: outs, metrics and plots
 * alike are outputs (DVC's output options are accepted, see add_out()); a
 * dep that is a URL ("https://", "s3://") is kept in st->urls, never hashed
 * or read, and makes the stage always changed (rp has no way to ask a
 * server whether it changed); a stage with only a command is a callback
 * stage, always changed; a params key with '*' or '?' is a glob over the
 * params file's keys; a file without stages is a pipeline of 0 stages.
 * Stage names may hold '/' (DVC projects make them, from paths).
 *
 * Invariants: every file loaded (the pipeline, vars and params files) stays in
 * p->docs until pipeline_free(), because stages point at their nodes (`where`
 * for messages, `value` of parameters). Docs are looked up by the on-disk
 * path they were loaded from, so each file is read at most once. Every error
 * is "file:line:col: message" with kind RP_ERR_INPUT (or the doc layer's
 * RP_ERR_IO when a file exists but cannot be read).
 *
 * Which file holds which pass, and what they share (struct loader, the pl_*
 * helpers defined here), is in pipeline-internal.h.
 */
#include "core/pipeline.h"
#include "core/pipeline-internal.h"
#include "util/fs.h"
#include "util/wspath.h"
#include "core/expand.h"
#include "core/interp.h"
#include "yaml/doccache.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One stage being built: what messages and interpolation need. */
struct sctx {
	struct loader *ld;
	struct stage *st;          /* in p->stages; its name is set */
	const struct node *ctx;    /* interpolation context (a map) */
	struct node *own_ctx;      /* ctx with the stage's own vars (owned), or NULL */
};

static const char stage_fields[] =
	"cmd, wdir, deps, params, outs, metrics, plots, always_changed, frozen, desc, "
	"vars, meta, foreach, do, matrix";

/* The path of workspace-relative (or absolute) `rel` as seen from the cwd. Caller frees. */
char *pl_on_disk(const struct pipeline *p, const char *rel)
{
	if (rel[0] == '/' || !strcmp(p->dir, "."))
		return xstrdup(rel);
	return xasprintf("%s/%s", p->dir, rel);
}

static struct doc *find_doc(const struct pipeline *p, const char *path)
{
	size_t i;

	for (i = 0; i < p->ndocs; i++)
		if (!strcmp(p->docs[i]->file, path))
			return p->docs[i];
	return NULL;
}

static void keep_doc(struct pipeline *p, struct doc *d)
{
	ALLOC_GROW(p->docs, p->ndocs + 1, p->docs_alloc);
	p->docs[p->ndocs++] = d;
}

/* The doc of the file at `path` (on disk), loaded once. NULL + err when unreadable. */
struct doc *pl_get_doc(struct loader *ld, const char *path, struct rp_err *err)
{
	struct pipeline *p = ld->p;
	struct doc *d = find_doc(p, path);

	if (d)
		return d;
	d = doccache_load_file(ld->cache, path, err);
	if (d)
		keep_doc(p, d);
	return d;
}

int pl_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int pl_is_null(const struct node *n)
{
	return !n || (n->kind == NODE_SCALAR && node_scalar_type(n) == SCALAR_NULL);
}

const struct node *pl_key_node(const struct node *map, const char *key)
{
	size_t i;

	for (i = 0; map && map->kind == NODE_MAP && i < map->n; i++)
		if (!strcmp(map->keys[i]->str, key))
			return map->keys[i];
	return NULL;
}

/* ---- one stage -------------------------------------------------------- */

static char *interp_flags(struct sctx *s, const struct node *n, unsigned flags)
{
	if (!strchr(n->str, '$'))
		return xstrdup(n->str);
	return interp_string_flags(n->str, s->ctx, n, flags, s->ld->err);
}

static char *interp(struct sctx *s, const struct node *n)
{
	return interp_flags(s, n, 0);
}

/*
 * Whether `s` is a URL ("https://host/x", "s3://bucket/key", "remote://r/x"):
 * a scheme of letters, digits, '+', '-', '.' and then "://". Such a dep is
 * never a workspace path.
 */
static int is_url(const char *s)
{
	const char *p = s;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	       (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	return !strncmp(p, "://", 3);
}

static int get_bool(struct sctx *s, const struct node *n, const char *what, int *out)
{
	const struct node *at = n;
	const char *v;

	/* "${flag}" alone takes the value's own type, as in DVC */
	if (n->kind == NODE_SCALAR && strstr(n->str, "${")) {
		const struct node *r = interp_node(n->str, s->ctx, n, s->ld->err);

		if (r)
			n = r;
		else if (s->ld->err && s->ld->err->kind != RP_ERR_NONE)
			return -1;
	}
	v = n->kind == NODE_SCALAR ? n->str : NULL;
	if (!v || node_scalar_type(n) != SCALAR_BOOL)
		return node_fail(s->ld->err, at, "stage '%s': '%s' must be true or false",
			       s->st->name, what);
	*out = v[0] == 't' || v[0] == 'T';
	return 0;
}

/* The path that scalar `n` names, interpolated and normalised against the stage's wdir. */
static char *stage_path(struct sctx *s, const struct node *n, const char *field)
{
	char *raw, *norm;

	if (n->kind != NODE_SCALAR || pl_is_null(n)) {
		node_fail(s->ld->err, n, "stage '%s': each entry of '%s' must be a path",
			s->st->name, field);
		return NULL;
	}
	if (!(raw = interp(s, n)))
		return NULL;
	if (!*raw) {
		node_fail(s->ld->err, n, "stage '%s': empty path in '%s'", s->st->name, field);
		free(raw);
		return NULL;
	}
	norm = wspath_normalize(s->st->wdir ? s->st->wdir : ".", raw);
	if (!norm)
		node_fail(s->ld->err, n, "stage '%s': path '%s' leaves the workspace; paths "
			"must stay inside the workspace of %s (rp(1), FILES)", s->st->name, raw,
			s->ld->p->file);
	/*
	 * .rp/ holds the store and the state: an out there would be removed
	 * before its stage runs. A .git (the workspace's or a nested one) holds
	 * hooks that git runs: rp never reads, writes or restores either, in any
	 * letter case (wspath_name_reserved()); the lock parser refuses them too.
	 */
	else if (wspath_reserved(norm)) {
		if (wspath_reserved(norm) == WSPATH_RESERVED_RP)
			node_fail(s->ld->err, n, "stage '%s': path '%s' is in rp's own directory "
				"'.rp', which holds the store; use a path outside it",
				s->st->name, raw);
		else
			node_fail(s->ld->err, n, "stage '%s': path '%s' is in a '.git' (in any "
				"letter case), where git keeps its hooks and history; rp never "
				"reads or writes there", s->st->name, raw);
		free(norm);
		norm = NULL;
	}
	free(raw);
	return norm;
}

/* Splits a deps/outs entry into its path node and options map (or NULL). */
static int split_entry(struct sctx *s, const struct node *e, const char *field,
		       const char *example, const struct node **pathn,
		       const struct node **opts)
{
	*opts = NULL;
	if (e->kind == NODE_SCALAR && !pl_is_null(e)) {
		*pathn = e;
		return 0;
	}
	if (e->kind == NODE_MAP && e->n == 1) {
		*pathn = e->keys[0];
		if (!pl_is_null(e->items[0])) {
			if (e->items[0]->kind != NODE_MAP)
				return node_fail(s->ld->err, e->items[0], "stage '%s': the options "
					       "of '%s' in '%s' must be a mapping like %s",
					       s->st->name, e->keys[0]->str, field, example);
			*opts = e->items[0];
		}
		return 0;
	}
	return node_fail(s->ld->err, e, "stage '%s': each entry of '%s' must be a path or a "
		       "one-key mapping like {path: %s}", s->st->name, field, example);
}

/* An option of a deps/outs entry: true/false into *out, or (out NULL) ignored. */
struct entry_opt {
	const char *name;
	int *out;
};

/*
 * Reads the options map `opts` (NULL: none) of the entry at `pathn`, each
 * one of `known` (ended by a NULL name). `what` ("dependency", "output")
 * and `expected` (the names in `known`) are for the message.
 */
static int read_options(struct sctx *s, const struct node *opts, const struct node *pathn,
			const char *what, const char *expected,
			const struct entry_opt *known)
{
	const struct entry_opt *o;
	size_t i;

	for (i = 0; opts && i < opts->n; i++) {
		const char *k = opts->keys[i]->str;

		for (o = known; o->name && strcmp(o->name, k); o++)
			;
		if (!o->name)
			return node_fail(s->ld->err, opts->keys[i], "stage '%s': unknown option "
				       "'%s' for %s '%s' (expected %s)", s->st->name, k, what,
				       pathn->str, expected);
		if (o->out && get_bool(s, opts->items[i], k, o->out) < 0)
			return -1;
	}
	return 0;
}

static int add_dep(struct sctx *s, const struct node *e)
{
	const struct node *pathn, *opts;
	struct stage *st = s->st;
	struct dep *d;
	int cache = 1;
	const struct entry_opt known[] = { { "cache", &cache }, { NULL, NULL } };
	char *path;

	if (split_entry(s, e, "deps", "{cache: false}", &pathn, &opts) < 0 ||
	    read_options(s, opts, pathn, "dependency", "cache", known) < 0)
		return -1;
	if (pathn->kind == NODE_SCALAR && strstr(pathn->str, "://")) {
		char *url = interp(s, pathn);

		if (!url)
			return -1;
		if (is_url(url)) {
			/* recorded, never hashed: rp cannot tell when it changed */
			st->urls = xrealloc(st->urls, (st->nurls + 1) * sizeof(*st->urls));
			st->urls[st->nurls++] = url;
			return 0;
		}
		free(url);
	}
	if (!(path = stage_path(s, pathn, "deps")))
		return -1;
	st->deps = xrealloc(st->deps, (st->ndeps + 1) * sizeof(*st->deps));
	d = &st->deps[st->ndeps++];
	d->path = path;
	d->cache = cache;
	d->where = pathn;
	return 0;
}

/* What an entry of outs, metrics or plots is (add_out()'s `kind`). */
enum out_kind { OUT_OUT, OUT_METRIC, OUT_PLOT };

/*
 * Adds an entry of outs, metrics or plots: DVC treats all three alike as
 * outputs (cached, checked, ordered in the graph). The options DVC accepts
 * are accepted: cache and persist are used; DVC 2's `checkpoint: true`
 * keeps the old copy while the stage runs, as DVC 2 did (it is persist);
 * desc, type, labels, meta (DVC 3's annotations), remote and push, and a
 * plot's template, x, y, x_label, y_label, title and header mean nothing to
 * rp and are ignored. A plot's options may also be a list of such maps.
 */
static int add_out(struct sctx *s, const struct node *e, int kind)
{
	static const char *const fields[] = { "outs", "metrics", "plots" };
	const char *field = fields[kind];
	const struct node *pathn, *opts;
	struct stage *st = s->st;
	int cache = 1, persist = 0, checkpoint = 0;
	const struct entry_opt known[] = {
		{ "cache", &cache }, { "persist", &persist }, { "checkpoint", &checkpoint },
		/* DVC's, nothing for rp to do */
		{ "desc", NULL }, { "type", NULL }, { "labels", NULL }, { "meta", NULL },
		{ "remote", NULL }, { "push", NULL },
		/* a plot's (DVC ignores them on outs and metrics: so does rp) */
		{ "template", NULL }, { "x", NULL }, { "y", NULL }, { "x_label", NULL },
		{ "y_label", NULL }, { "title", NULL }, { "header", NULL },
		{ NULL, NULL }
	};
	const char *expected = kind == OUT_PLOT
		? "cache, persist, checkpoint, desc, type, labels, meta, remote, push, "
		  "template, x, y, x_label, y_label, title or header"
		: "cache, persist, checkpoint, desc, type, labels, meta, remote or push";
	struct out *o;
	char *path;

	if (kind == OUT_PLOT && e->kind == NODE_MAP && e->n == 1 &&
	    e->items[0]->kind == NODE_SEQ) {
		/* plots: [{file.csv: [{x: a}, {y: b}]}] */
		const struct node *list = e->items[0];

		pathn = e->keys[0];
		for (size_t i = 0; i < list->n; i++) {
			if (list->items[i]->kind != NODE_MAP)
				return node_fail(s->ld->err, list->items[i], "stage '%s': the "
					       "options of plot '%s' must be a mapping like "
					       "{x: step, y: loss}", st->name, pathn->str);
			if (read_options(s, list->items[i], pathn, "plot", expected, known) < 0)
				return -1;
		}
	} else if (split_entry(s, e, field, "{cache: false, persist: true}", &pathn,
			       &opts) < 0 ||
		   read_options(s, opts, pathn, kind == OUT_PLOT ? "plot" : "output",
				expected, known) < 0) {
		return -1;
	}
	if (pathn->kind == NODE_SCALAR && strstr(pathn->str, "://")) {
		char *url = interp(s, pathn);

		if (url && is_url(url))
			node_fail(s->ld->err, pathn, "stage '%s': output '%s' is a URL; rp "
				"writes outputs only inside the workspace (DVC's external "
				"outputs are not supported): write it to a workspace path and "
				"upload it in the command", st->name, url);
		if (!url || is_url(url)) {
			free(url);
			return -1;
		}
		free(url);
	}
	if (!(path = stage_path(s, pathn, field)))
		return -1;
	if (!strcmp(path, ".")) {
		node_fail(s->ld->err, pathn, "stage '%s': output '%s' is the whole workspace; "
			"name a file or directory inside it", st->name, pathn->str);
		free(path);
		return -1;
	}
	st->outs = xrealloc(st->outs, (st->nouts + 1) * sizeof(*st->outs));
	o = &st->outs[st->nouts++];
	o->path = path;
	o->cache = cache;
	o->persist = persist || checkpoint;
	o->metric = kind == OUT_METRIC;
	o->plot = kind == OUT_PLOT;
	o->where = pathn;
	return 0;
}

/*
 * Appends to `out` the dotted keys under `n` that glob `pat` matches, one
 * fnmatch() pattern per '.'-separated part, as DVC's dpath does: a part
 * matches map keys, or list indexes written "[i]". `prefix` is the key of
 * `n` (NULL at the root).
 */
static void glob_keys(const struct node *n, const char *pat, const char *prefix,
		      char ***out, size_t *nout, size_t *alloc)
{
	const char *dot = strchr(pat, '.');
	char *part = dot ? xstrndup(pat, dot - pat) : xstrdup(pat);

	for (size_t i = 0; n && n->kind != NODE_SCALAR && i < n->n; i++) {
		char idx[32], *full;

		if (n->kind == NODE_MAP) {
			if (fnmatch(part, n->keys[i]->str, 0))
				continue;
			full = prefix ? xasprintf("%s.%s", prefix, n->keys[i]->str)
				      : xstrdup(n->keys[i]->str);
		} else {
			snprintf(idx, sizeof(idx), "%zu", i);
			if (!prefix || fnmatch(part, idx, 0))
				continue;
			full = xasprintf("%s[%zu]", prefix, i);
		}
		if (dot) {
			glob_keys(n->items[i], dot + 1, full, out, nout, alloc);
			free(full);
		} else {
			ALLOC_GROW(*out, *nout + 1, *alloc);
			(*out)[(*nout)++] = full;
		}
	}
	free(part);
}

static int add_param_key(struct sctx *s, char *file, char *key, const struct node *where,
			 int glob);

/* Adds parameter `key` (NULL: the whole file) of params file `file`; takes both strings. */
static int add_param(struct sctx *s, char *file, char *key, const struct node *where)
{
	return add_param_key(s, file, key, where, 1);
}

/*
 * A key with '*' or '?' ("dataset_kwargs.moons*") is a glob, as in DVC:
 * each key of the params file it matches is added as a parameter of its
 * own, named by its full key. None matching is an error.
 */
static int add_param_glob(struct sctx *s, char *file, char *key, const struct node *where,
			  const struct doc *d)
{
	char **keys = NULL;
	size_t n = 0, alloc = 0, i;
	int ret = 0;

	glob_keys(d->root, key, NULL, &keys, &n, &alloc);
	if (!n)
		ret = node_fail(s->ld->err, where, "stage '%s': parameter pattern '%s' matches "
			      "no key of '%s'; fix the pattern or remove it from 'params'",
			      s->st->name, key, file);
	for (i = 0; i < n; i++) {
		if (!ret)
			ret = add_param_key(s, xstrdup(file), keys[i], where, 0);
		else
			free(keys[i]);
	}
	free(keys);
	free(file);
	free(key);
	return ret;
}

static int add_param_key(struct sctx *s, char *file, char *key, const struct node *where,
			 int glob)
{
	struct pipeline *p = s->ld->p;
	struct stage *st = s->st;
	const struct node *value;
	struct param *pa;
	struct doc *d;
	char *path;
	size_t i;

	for (i = 0; i < st->nparams; i++) {
		pa = &st->params[i];
		if (!strcmp(pa->file, file) &&
		    (key ? pa->key && !strcmp(pa->key, key) : !pa->key)) {
			free(file);
			free(key);
			return 0;
		}
	}
	path = pl_on_disk(p, file);
	d = find_doc(p, path);
	value = NULL;           /* missing: maybe a stage writes it (check_params()) */
	if (!d && !pl_exists(path))
		goto add;
	if (!d && !(d = pl_get_doc(s->ld, path, s->ld->err)))
		goto fail;
	if (key && glob && strpbrk(key, "*?")) {
		free(path);
		return add_param_glob(s, file, key, where, d);
	}
	if (key)
		value = d->root ? node_lookup(d->root, key) : NULL;
	else
		value = d->root ? d->root : p->empty;
add:
	free(path);
	st->params = xrealloc(st->params, (st->nparams + 1) * sizeof(*st->params));
	pa = &st->params[st->nparams++];
	pa->file = file;
	pa->key = key;
	pa->value = value;
	pa->where = where;
	return 0;
fail:
	free(path);
	free(file);
	free(key);
	return -1;
}

static int add_params_entry(struct sctx *s, const struct node *e)
{
	struct stage *st = s->st;
	size_t i, j;

	if (e->kind == NODE_SCALAR && !pl_is_null(e)) {
		char *file = wspath_normalize(st->wdir, "params.yaml");
		char *key = interp(s, e);

		if (!file || !key) {
			free(file);
			free(key);
			return -1;
		}
		return add_param(s, file, key, e);
	}
	if (e->kind != NODE_MAP)
		return node_fail(s->ld->err, e, "stage '%s': each entry of 'params' must be a "
			       "key of params.yaml or a mapping {file.yaml: [key, ...]}", st->name);
	for (i = 0; i < e->n; i++) {
		const struct node *fn = e->keys[i], *keys = e->items[i];
		char *file = stage_path(s, fn, "params");

		if (!file)
			return -1;
		if (pl_is_null(keys) || (keys->kind == NODE_SEQ && !keys->n)) {
			if (add_param(s, file, NULL, fn) < 0)
				return -1;
			continue;
		}
		if (keys->kind != NODE_SEQ) {
			free(file);
			return node_fail(s->ld->err, keys, "stage '%s': the keys of params file "
				       "'%s' must be a list (or empty for the whole file)",
				       st->name, fn->str);
		}
		for (j = 0; j < keys->n; j++) {
			const struct node *kn = keys->items[j];
			char *key;

			if (kn->kind != NODE_SCALAR || pl_is_null(kn)) {
				free(file);
				return node_fail(s->ld->err, kn, "stage '%s': each key of params "
					       "file '%s' must be a name like 'train.lr'",
					       st->name, fn->str);
			}
			if (!(key = interp(s, kn))) {
				free(file);
				return -1;
			}
			if (add_param(s, xstrdup(file), key, kn) < 0) {
				free(file);
				return -1;
			}
		}
		free(file);
	}
	return 0;
}

/* Runs `add` on each entry of list field `n` (null means empty). */
static int each_entry(struct sctx *s, const struct node *n, const char *field,
		      int (*add)(struct sctx *, const struct node *, int), int arg)
{
	size_t i;

	if (!n || pl_is_null(n))
		return 0;
	if (n->kind != NODE_SEQ)
		return node_fail(s->ld->err, n, "stage '%s': '%s' must be a list",
			       s->st->name, field);
	for (i = 0; i < n->n; i++)
		if (add(s, n->items[i], arg) < 0)
			return -1;
	return 0;
}

static int add_dep_cb(struct sctx *s, const struct node *e, int arg)
{
	(void)arg;
	return add_dep(s, e);
}

static int add_out_cb(struct sctx *s, const struct node *e, int kind)
{
	return add_out(s, e, kind);
}

static int add_params_cb(struct sctx *s, const struct node *e, int arg)
{
	(void)arg;
	return add_params_entry(s, e);
}

static int add_cmd(struct sctx *s, const struct node *n)
{
	struct stage *st = s->st;
	char *c;

	if (n->kind != NODE_SCALAR || pl_is_null(n))
		return node_fail(s->ld->err, n, "stage '%s': 'cmd' must be a string or a list "
			       "of strings", st->name);
	if (!(c = interp_flags(s, n, INTERP_CMD)))
		return -1;
	if (!*c) {
		free(c);
		return node_fail(s->ld->err, n, "stage '%s': 'cmd' is empty; give the command "
			       "to run", st->name);
	}
	st->cmds = xrealloc(st->cmds, (st->ncmds + 1) * sizeof(*st->cmds));
	st->cmds[st->ncmds++] = c;
	return 0;
}

/* ---- the fields of a stage --------------------------------------------- */

struct stage_field {
	const char *name;
	/*
	 * applies the field, whose value is `v` (NULL when the stage has none);
	 * NULL for a field of DVC's that rp accepts and ignores
	 */
	int (*set)(struct sctx *s, const struct stage_field *f, const struct node *v);
	/* set_list(): adds one entry of the list */
	int (*add)(struct sctx *s, const struct node *e, int arg);
	size_t arg;                /* add()'s `arg`, or set_flag()'s offset in the stage */
};

static int set_wdir(struct sctx *s, const struct stage_field *f, const struct node *v)
{
	struct stage *st = s->st;
	char *raw;

	(void)f;
	if (!v) {
		st->wdir = xstrdup(s->ld->p->base);
		return 0;
	}
	if (v->kind != NODE_SCALAR || pl_is_null(v))
		return node_fail(s->ld->err, v, "stage '%s': 'wdir' must be a directory "
			       "path", st->name);
	if (!(raw = interp(s, v)))
		return -1;
	st->wdir = wspath_normalize(s->ld->p->base, raw);
	if (!st->wdir || wspath_reserved(st->wdir)) {
		node_fail(s->ld->err, v, "stage '%s': path '%s' leaves the workspace or is "
			"in '.git' or '.rp'; paths must stay inside the workspace of %s",
			st->name, raw, s->ld->p->file);
		free(raw);
		return -1;
	}
	free(raw);
	return 0;
}

/* A stage's own vars: merged into a copy of its context, for it alone. */
static int set_vars(struct sctx *s, const struct stage_field *f, const struct node *v)
{
	(void)f;
	if (pl_is_null(v))
		return 0;
	s->own_ctx = node_dup(s->ctx);
	if (pipevars_merge(s->ld, s->own_ctx, v, s->st->wdir, 0) < 0)
		return -1;
	s->ctx = s->own_ctx;
	return 0;
}

static int set_cmd(struct sctx *s, const struct stage_field *f, const struct node *v)
{
	size_t i;

	(void)f;
	if (!v)
		return node_fail(s->ld->err, s->st->where, "stage '%s': missing 'cmd'; give "
			       "the command to run", s->st->name);
	if (v->kind != NODE_SEQ)
		return add_cmd(s, v);
	if (!v->n)
		return node_fail(s->ld->err, v, "stage '%s': 'cmd' is empty; give the command "
			       "to run", s->st->name);
	for (i = 0; i < v->n; i++)
		if (add_cmd(s, v->items[i]) < 0)
			return -1;
	return 0;
}

static int set_list(struct sctx *s, const struct stage_field *f, const struct node *v)
{
	return each_entry(s, v, f->name, f->add, (int)f->arg);
}

/* A true/false field: sets the int at offset f->arg of the stage. */
static int set_flag(struct sctx *s, const struct stage_field *f, const struct node *v)
{
	if (!v)
		return 0;
	return get_bool(s, v, f->name, (int *)((char *)s->st + f->arg));
}

static int set_desc(struct sctx *s, const struct stage_field *f, const struct node *v)
{
	(void)f;
	if (pl_is_null(v))
		return 0;
	if (v->kind != NODE_SCALAR)
		return node_fail(s->ld->err, v, "stage '%s': 'desc' must be a string",
			       s->st->name);
	return (s->st->desc = interp(s, v)) ? 0 : -1;
}

/*
 * Every field a stage may have, in the order they are applied, which is
 * also the order of their errors: wdir first, as paths are relative to it,
 * then vars, the context of everything after. Each set() runs once per
 * stage, with NULL when the field is absent. `foreach`, `do` and `matrix`
 * are not here: load_stage_entry() and expand.c handle them.
 */
static const struct stage_field stage_field_table[] = {
	{ "wdir", set_wdir, NULL, 0 },
	{ "vars", set_vars, NULL, 0 },
	{ "cmd", set_cmd, NULL, 0 },
	{ "deps", set_list, add_dep_cb, 0 },
	{ "params", set_list, add_params_cb, 0 },
	{ "outs", set_list, add_out_cb, OUT_OUT },
	{ "metrics", set_list, add_out_cb, OUT_METRIC },
	{ "plots", set_list, add_out_cb, OUT_PLOT },
	{ "always_changed", set_flag, NULL, offsetof(struct stage, always_changed) },
	{ "frozen", set_flag, NULL, offsetof(struct stage, frozen) },
	{ "desc", set_desc, NULL, 0 },
	{ "meta", NULL, NULL, 0 },   /* DVC's; nothing for rp to do */
	{ "live", NULL, NULL, 0 },   /* DVC 2's dvclive section */
};

#define NFIELDS (sizeof(stage_field_table) / sizeof(*stage_field_table))

/*
 * Sorts the pairs of `body` into vals[], by their index in the table.
 * `matrix` says the body's `matrix` key was already expanded by the caller.
 */
static int collect_fields(struct sctx *s, const struct node *body, int matrix,
			  const struct node *vals[NFIELDS])
{
	size_t i, j;

	for (i = 0; i < body->n; i++) {
		const struct node *k = body->keys[i];
		const char *name = k->str;

		for (j = 0; j < NFIELDS; j++)
			if (!strcmp(name, stage_field_table[j].name))
				break;
		if (j < NFIELDS)
			vals[j] = body->items[i];
		else if (matrix && !strcmp(name, "matrix"))
			continue;
		else if (!strcmp(name, "foreach") || !strcmp(name, "do") ||
			 !strcmp(name, "matrix"))
			return node_fail(s->ld->err, k, "stage '%s': '%s' cannot be nested "
				       "inside 'do' or next to 'matrix'", s->st->name, name);
		else
			return node_fail(s->ld->err, k, "stage '%s': unknown field '%s' "
				       "(expected one of %s)", s->st->name, name, stage_fields);
	}
	return 0;
}

/* Appends an empty stage called `name` (taken) to the pipeline. */
static struct stage *new_stage(struct loader *ld, char *name, const struct node *where)
{
	struct pipeline *p = ld->p;
	struct stage *st;

	ALLOC_GROW(p->stages, p->nstages + 1, ld->stages_alloc);
	st = &p->stages[p->nstages++];
	memset(st, 0, sizeof(*st));
	st->name = name;
	st->where = where;
	return st;
}

/*
 * Appends the stage `name` (taken, even on failure: the stage is appended
 * first, and pipeline_free() frees it) built from the fields of `body`
 * with context `ctx`. `matrix` says the body's `matrix` key was already
 * expanded by the caller.
 */
static int build_stage(struct loader *ld, char *name, const struct node *where,
		       const struct node *body, const struct node *ctx, int matrix)
{
	const struct node *vals[NFIELDS] = { 0 };
	struct sctx s = { ld, new_stage(ld, name, where), ctx, NULL };
	size_t i;
	int ret = 0;

	if (collect_fields(&s, body, matrix, vals) < 0)
		return -1;
	for (i = 0; i < NFIELDS && !ret; i++)
		if (stage_field_table[i].set)
			ret = stage_field_table[i].set(&s, &stage_field_table[i], vals[i]);
	node_free(s.own_ctx);
	/*
	 * DVC's callback stage: a command and nothing else (no deps, params,
	 * outs, metrics or plots) runs on every repro.
	 */
	if (!ret && !s.st->ndeps && !s.st->nparams && !s.st->nouts && !s.st->nurls) {
		s.st->callback = 1;
		s.st->always_changed = 1;
	}
	/* a URL dep: rp cannot tell when it changed, so the stage always runs */
	if (!ret && s.st->nurls)
		s.st->always_changed = 1;
	return ret;
}

/* ---- one entry of `stages:` -------------------------------------------- */

/* expand.h's callback: builds one stage of a foreach or matrix entry. */
static int build_expanded(void *arg, char *name, const struct node *key,
			  const struct node *body, const struct node *ctx, int matrix)
{
	return build_stage(arg, name, key, body, ctx, matrix);
}

static int load_stage_entry(struct loader *ld, const struct node *key, const struct node *body)
{
	const char *name = key->str;
	const char *bad = strpbrk(name, "@:\\,");
	struct expand ex = { ld->p->vars, ld->p->nstages, ld->err, build_expanded, ld };

	if (!*name)
		return node_fail(ld->err, key, "a stage needs a name");
	if (bad)
		return node_fail(ld->err, key, "stage name '%s' may not contain '%c'; use "
			       "letters, digits, '-', '_', '.' and '/'", name, *bad);
	if (body->kind != NODE_MAP)
		return node_fail(ld->err, body, "stage '%s' must be a mapping of fields (%s)",
			       name, stage_fields);
	if (node_get(body, "foreach"))
		return expand_foreach(&ex, key, body);
	if (node_get(body, "do"))
		return node_fail(ld->err, pl_key_node(body, "do"), "stage '%s': 'do' needs "
			       "'foreach' beside it", name);
	if (node_get(body, "matrix"))
		return expand_matrix(&ex, key, body);
	return build_stage(ld, xstrdup(name), key, body, ld->p->vars, 0);
}

/* ---- the file ---------------------------------------------------------- */

static const struct pipeline *sort_p;

static int by_name_cmp(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(sort_p->stages[i].name, sort_p->stages[j].name);

	if (c)
		return c;
	return i < j ? -1 : i > j;
}

static int index_names(struct pipeline *p, struct rp_err *err)
{
	size_t i;

	p->by_name = xmalloc((p->nstages ? p->nstages : 1) * sizeof(*p->by_name));
	for (i = 0; i < p->nstages; i++)
		p->by_name[i] = i;
	sort_p = p;
	qsort(p->by_name, p->nstages, sizeof(*p->by_name), by_name_cmp);
	sort_p = NULL;
	for (i = 1; i < p->nstages; i++) {
		const struct stage *a = &p->stages[p->by_name[i - 1]];
		const struct stage *b = &p->stages[p->by_name[i]];

		if (!strcmp(a->name, b->name))
			return node_fail(err, b->where, "stage '%s' is defined twice (also at "
				       "line %d); foreach and matrix names must be unique",
				       b->name, a->where ? a->where->line : 0);
	}
	return 0;
}

/* Whether workspace-relative `file` is, or lies inside, an out of a stage of `p`. */
static int written_by_stage(const struct pipeline *p, const char *file)
{
	for (size_t i = 0; i < p->nstages; i++)
		for (size_t j = 0; j < p->stages[i].nouts; j++) {
			const char *o = p->stages[i].outs[j].path;
			size_t len = strlen(o);

			if (!strncmp(file, o, len) && (!file[len] || file[len] == '/'))
				return 1;
		}
	return 0;
}

/*
 * A parameter whose file or key was missing at parse time (value NULL) is
 * an error, as before, unless a stage writes that file: then it is read
 * when the stage is evaluated (freshness_read_params()), as DVC does.
 */
static int check_params(struct loader *ld)
{
	struct pipeline *p = ld->p;

	for (size_t i = 0; i < p->nstages; i++)
		for (size_t k = 0; k < p->stages[i].nparams; k++) {
			const struct param *pa = &p->stages[i].params[k];
			char *path;
			int exists;

			if (pa->value || written_by_stage(p, pa->file))
				continue;
			path = pl_on_disk(p, pa->file);
			exists = pl_exists(path);
			free(path);
			if (!exists)
				return node_fail(ld->err, pa->where, "stage '%s': params file '%s' "
					"does not exist; create it or remove the entry",
					p->stages[i].name, pa->file);
			return node_fail(ld->err, pa->where, "stage '%s': parameter '%s' is not "
				"defined in '%s'; add it there or remove it from 'params'",
				p->stages[i].name, pa->key, pa->file);
		}
	return 0;
}

struct pipeline *pipeline_load(const char *path, struct rp_err *err)
{
	return pipeline_load_cached(path, NULL, err);
}

struct pipeline *pipeline_load_cached(const char *path, struct doccache *cache,
				      struct rp_err *err)
{
	struct pipeline *p = xcalloc(1, sizeof(*p));
	struct loader ld = { p, cache, err, 0, NULL, 0, 0 };
	const char *slash = strrchr(path, '/');
	const struct node *root, *stages = NULL, *vars = NULL;
	struct doc *d;
	size_t i;

	p->file = xstrdup(path);
	/*
	 * A relative path is relative to the workspace root, the current
	 * directory (a dvc.yaml in a subfolder: its paths start in its folder);
	 * an absolute one is read as before, its directory being the root.
	 */
	if (!slash) {
		p->dir = xstrdup(".");
		p->base = xstrdup(".");
	} else if (path[0] != '/') {
		char *sub = xstrndup(path, slash - path);

		p->dir = xstrdup(".");
		p->base = wspath_normalize(".", sub);
		free(sub);
		if (!p->base) {
			rp_err_set(err, RP_ERR_INPUT, "pipeline file '%s' is outside the workspace",
				   path);
			goto fail;
		}
	} else {
		p->dir = slash == path ? xstrdup("/") : xstrndup(path, slash - path);
		p->base = xstrdup(".");
	}
	p->empty = node_new_map();

	if (!(d = doccache_load_file(cache, path, err)))
		goto fail;
	keep_doc(p, d);
	root = d->root;
	if (!root || pl_is_null(root)) /* an empty file: no stages, as in DVC */
		goto done;
	if (root->kind != NODE_MAP) {
		node_fail(err, root, "the pipeline must be a mapping with a 'stages:' key");
		goto fail;
	}
	for (i = 0; i < root->n; i++) {
		const char *k = root->keys[i]->str;

		if (!strcmp(k, "stages"))
			stages = root->items[i];
		else if (!strcmp(k, "vars"))
			vars = root->items[i];
		else if (strcmp(k, "plots") && strcmp(k, "metrics") && strcmp(k, "params") &&
			 strcmp(k, "artifacts") && strcmp(k, "datasets")) {
			node_fail(err, root->keys[i], "unknown top-level key '%s' (expected vars "
				"or stages)", k);
			goto fail;
		}
	}
	/*
	 * No `stages:` (a dvc.yaml of top-level metrics and plots only) or an
	 * empty one: a pipeline of 0 stages, as DVC reads it, not an error.
	 */
	if (stages && !pl_is_null(stages) && stages->kind != NODE_MAP) {
		node_fail(err, stages, "'stages' must be a mapping of stage names to stages");
		goto fail;
	}
	if (pipevars_load(&ld, vars) < 0)
		goto fail;
	for (i = 0; stages && stages->kind == NODE_MAP && i < stages->n; i++)
		if (load_stage_entry(&ld, stages->keys[i], stages->items[i]) < 0)
			goto fail;
	if (check_params(&ld) < 0)
		goto fail;
done:
	if (!p->vars)
		p->vars = node_new_map();
	if (index_names(p, err) < 0)
		goto fail;
	pipevars_release(&ld);
	return p;
fail:
	if (err && err->kind == RP_ERR_NONE)
		err->kind = RP_ERR_INPUT;
	pipevars_release(&ld);
	pipeline_free(p);
	return NULL;
}

static void stage_release(struct stage *st)
{
	size_t i;

	free(st->name);
	for (i = 0; i < st->ncmds; i++)
		free(st->cmds[i]);
	free(st->cmds);
	free(st->wdir);
	for (i = 0; i < st->ndeps; i++)
		free(st->deps[i].path);
	free(st->deps);
	for (i = 0; i < st->nparams; i++) {
		free(st->params[i].file);
		free(st->params[i].key);
	}
	free(st->params);
	for (i = 0; i < st->nouts; i++)
		free(st->outs[i].path);
	free(st->outs);
	for (i = 0; i < st->nurls; i++)
		free(st->urls[i]);
	free(st->urls);
	free(st->desc);
}

void pipeline_free(struct pipeline *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nstages; i++)
		stage_release(&p->stages[i]);
	free(p->stages);
	node_free(p->vars);
	node_free(p->empty);
	for (i = 0; i < p->ndocs; i++)
		doc_free(p->docs[i]);
	free(p->docs);
	free(p->by_name);
	free(p->file);
	free(p->dir);
	free(p->base);
	free(p);
}

struct stage *pipeline_find(const struct pipeline *p, const char *name)
{
	size_t lo = 0, hi = p->nstages;

	if (!p->by_name)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct stage *st = &p->stages[p->by_name[mid]];
		int c = strcmp(name, st->name);

		if (!c)
			return st;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

size_t pipeline_match(const struct pipeline *p, const char *target, size_t *idx)
{
	struct stage *st = pipeline_find(p, target);
	size_t i, n = 0, len = strlen(target);

	if (st) {
		idx[0] = st - p->stages;
		return 1;
	}
	if (strchr(target, '@'))
		return 0;
	for (i = 0; i < p->nstages; i++) {
		const char *name = p->stages[i].name;

		if (!strncmp(name, target, len) && name[len] == '@')
			idx[n++] = i;
	}
	return n;
}
