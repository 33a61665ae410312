/*
 * defs.c - reading and checking features.yaml (defs.h, rp-features.yaml(5)).
 *
 * One pass over the YAML tree (doc.h) per section: entities, then sources,
 * then views, whose entity and source must name an earlier definition.
 * Every map is checked for unknown keys (a typo such as "windw" is an error
 * naming the allowed keys, never silently a feature without a window), and
 * every error goes through node_fail(), so it reads FILE:LINE:COL. Duplicate
 * names in one map are already refused by the YAML layer.
 */
#include "features/defs.h"
#include "util/buf.h"
#include "util/wspath.h"
#include "yaml/doc.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_LEN 64

static const char *const agg_names[] = {
	[FAGG_COUNT] = "count", [FAGG_SUM] = "sum", [FAGG_AVG] = "avg", [FAGG_MIN] = "min",
	[FAGG_MAX] = "max", [FAGG_LAST] = "last", [FAGG_COUNT_DISTINCT] = "count_distinct",
};

const char *fagg_name(enum fagg a)
{
	return a <= FAGG_COUNT_DISTINCT ? agg_names[a] : "?";
}

/* A name: [A-Za-z_][A-Za-z0-9_.-]*, at most NAME_MAX_LEN bytes (no ':' : it joins view:feature). */
static int check_name(const struct node *at, const char *what, struct rp_err *err)
{
	const char *s = at->str;
	size_t n = strlen(s);

	if (!n || n > NAME_MAX_LEN || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		goto bad;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			goto bad;
	}
	return 0;
bad:
	return node_fail(err, at, "%s name '%s' is not valid: use letters, digits, '_', '-' and '.', "
			 "starting with a letter or '_', at most %d characters", what, s, NAME_MAX_LEN);
}

/* `n` must be a map whose keys are all in `allowed` (NULL-terminated). */
static int check_map(const struct node *n, const char *what, const char *const *allowed,
		     struct rp_err *err)
{
	if (!n || n->kind != NODE_MAP)
		return node_fail(err, n, "%s must be a mapping", what);
	for (size_t i = 0; i < n->n; i++) {
		size_t k;
		struct buf list = BUF_INIT;

		for (k = 0; allowed[k] && strcmp(allowed[k], n->keys[i]->str); k++)
			;
		if (allowed[k])
			continue;
		for (k = 0; allowed[k]; k++)
			buf_addf(&list, "%s'%s'", k ? ", " : "", allowed[k]);
		node_fail(err, n->keys[i], "%s: unknown key '%s'; expected one of %s", what,
			  n->keys[i]->str, list.s);
		buf_release(&list);
		return -1;
	}
	return 0;
}

/* The non-empty string scalar at key `key` of map `m` into *out (owned); required or optional. */
static int get_str(const struct node *m, const char *key, const char *what, int required,
		   char **out, struct rp_err *err)
{
	const struct node *v = node_get(m, key);

	*out = NULL;
	if (!v) {
		if (required)
			return node_fail(err, m, "%s: '%s' is missing; add it", what, key);
		return 0;
	}
	if (v->kind != NODE_SCALAR || (!v->quoted && node_scalar_type(v) == SCALAR_NULL) || !*v->str)
		return node_fail(err, v, "%s: '%s' must be a non-empty string", what, key);
	if (strlen(v->str) > 1024)
		return node_fail(err, v, "%s: '%s' is longer than 1024 bytes", what, key);
	*out = xstrdup(v->str);
	return 0;
}

static int get_dur(const struct node *m, const char *key, const char *what, ftime_t *out,
		   struct rp_err *err)
{
	const struct node *v = node_get(m, key);

	*out = FTIME_NONE;
	if (!v)
		return 0;
	if (v->kind != NODE_SCALAR || fdur_parse(v->str, out) < 0)
		return node_fail(err, v, "%s: '%s' must be a duration such as 90s, 15m, 24h or 7d "
				 "(a whole number and a unit s, m, h or d; at most 100 years)", what, key);
	return 0;
}

static int load_entities(struct fdefs *d, const struct node *sec, struct rp_err *err)
{
	static const char *const keys[] = { "join_keys", "description", NULL };

	if (!sec || sec->kind != NODE_MAP || !sec->n)
		return node_fail(err, sec ? sec : d->doc->root, "'entities' must be a non-empty mapping "
				 "of entity names to {join_keys: [COLUMN, ...]}");
	d->entities = xcalloc(sec->n, sizeof(*d->entities));
	for (size_t i = 0; i < sec->n; i++) {
		struct fentity *e = &d->entities[d->nentities++];
		const struct node *v = sec->items[i], *jk;
		char *what = xasprintf("entity '%s'", sec->keys[i]->str);
		int bad = check_name(sec->keys[i], "entity", err) < 0 ||
			  check_map(v, what, keys, err) < 0;

		e->name = xstrdup(sec->keys[i]->str);
		if (!bad && (!(jk = node_get(v, "join_keys")) || jk->kind != NODE_SEQ || !jk->n))
			bad = node_fail(err, jk ? jk : v, "%s: 'join_keys' must be a non-empty list of "
					"column names", what) < 0;
		free(what);
		if (bad)
			return -1;
		e->keys = xcalloc(jk->n, sizeof(*e->keys));
		for (size_t k = 0; k < jk->n; k++) {
			if (jk->items[k]->kind != NODE_SCALAR || !*jk->items[k]->str)
				return node_fail(err, jk->items[k], "entity '%s': a join key must be a "
						 "column name", e->name);
			for (size_t j = 0; j < k; j++)
				if (!strcmp(e->keys[j], jk->items[k]->str))
					return node_fail(err, jk->items[k], "entity '%s': join key '%s' "
							 "is listed twice", e->name, e->keys[j]);
			e->keys[e->nkeys++] = xstrdup(jk->items[k]->str);
		}
	}
	return 0;
}

/* "a/b" for dir "a" and path "b"; the path alone for dir "" or ".". */
static char *join_dir(const char *dir, const char *path)
{
	return !*dir || !strcmp(dir, ".") ? xstrdup(path) : xasprintf("%s/%s", dir, path);
}

static int source_kind(struct fsource *s, const struct node *v, const char *fmt, struct rp_err *err)
{
	const char *dot = strrchr(s->path, '.');
	const char *ext = fmt ? fmt : dot && !strchr(dot, '/') ? dot + 1 : "";

	if (!strcmp(ext, "jsonl") || !strcmp(ext, "ndjson"))
		s->kind = FSOURCE_JSONL;
	else if (!strcmp(ext, "csv"))
		s->kind = FSOURCE_CSV;
	else if (!strcmp(ext, "sqlite") || !strcmp(ext, "sqlite3") || !strcmp(ext, "db"))
		s->kind = FSOURCE_SQLITE;
	else
		return node_fail(err, fmt ? node_get(v, "format") : node_get(v, "path"),
				 "source '%s': cannot tell the format of '%s'; name it with "
				 "'format: jsonl', 'format: csv' or 'format: sqlite'", s->name,
				 fmt ? fmt : s->path);
	if (s->kind == FSOURCE_SQLITE && !s->table)
		return node_fail(err, v, "source '%s': an sqlite source needs 'table: NAME'", s->name);
	if (s->kind != FSOURCE_SQLITE && s->table)
		return node_fail(err, node_get(v, "table"), "source '%s': 'table' is only for sqlite "
				 "sources", s->name);
	return 0;
}

static int load_source(struct fsource *s, const struct node *key, const struct node *v,
		       const char *dir, struct rp_err *err)
{
	static const char *const keys[] = { "path", "format", "table", "timestamp",
					    "created_timestamp", "description", NULL };
	char *what = xasprintf("source '%s'", key->str), *fmt = NULL, *norm;
	int ret = -1;

	s->name = xstrdup(key->str);
	s->at = v;
	if (check_name(key, "source", err) < 0 || check_map(v, what, keys, err) < 0 ||
	    get_str(v, "path", what, 1, &s->path, err) < 0 ||
	    get_str(v, "format", what, 0, &fmt, err) < 0 ||
	    get_str(v, "table", what, 0, &s->table, err) < 0 ||
	    get_str(v, "timestamp", what, 1, &s->timestamp, err) < 0 ||
	    get_str(v, "created_timestamp", what, 0, &s->created, err) < 0)
		goto out;
	norm = wspath_normalize(".", s->path);
	if (!norm || !strcmp(norm, ".") || wspath_reserved(norm)) {
		free(norm);
		node_fail(err, node_get(v, "path"), "%s: path '%s' must be a file inside the folder of "
			  "the definitions file (relative, no '..' above it, not in .git or .rp)",
			  what, s->path);
		goto out;
	}
	s->resolved = join_dir(dir, norm);
	free(norm);
	if (source_kind(s, v, fmt, err) < 0)
		goto out;
	if (s->created && !strcmp(s->created, s->timestamp)) {
		node_fail(err, node_get(v, "created_timestamp"), "%s: 'created_timestamp' names the "
			  "event-time column '%s'; name the column that says when a row became "
			  "known, or leave it out", what, s->timestamp);
		goto out;
	}
	ret = 0;
out:
	free(fmt);
	free(what);
	return ret;
}

static int load_sources(struct fdefs *d, const struct node *sec, const char *dir, struct rp_err *err)
{
	if (!sec || sec->kind != NODE_MAP || !sec->n)
		return node_fail(err, sec ? sec : d->doc->root, "'sources' must be a non-empty mapping "
				 "of source names to {path: FILE, timestamp: COLUMN}");
	d->sources = xcalloc(sec->n, sizeof(*d->sources));
	for (size_t i = 0; i < sec->n; i++)
		if (load_source(&d->sources[d->nsources++], sec->keys[i], sec->items[i], dir, err) < 0)
			return -1;
	return 0;
}

static int parse_agg(const struct node *v, enum fagg *out, struct rp_err *err)
{
	struct buf list = BUF_INIT;

	for (size_t a = 0; a <= FAGG_COUNT_DISTINCT; a++)
		if (v && v->kind == NODE_SCALAR && !strcmp(v->str, agg_names[a])) {
			*out = (enum fagg)a;
			return 0;
		}
	for (size_t a = 0; a <= FAGG_COUNT_DISTINCT; a++)
		buf_addf(&list, "%s%s", a ? ", " : "", agg_names[a]);
	node_fail(err, v, "unknown aggregation '%s'; expected one of %s",
		  v && v->kind == NODE_SCALAR ? v->str : "(not a scalar)", list.s);
	buf_release(&list);
	return -1;
}

static int load_feature(struct ffeature *f, const struct fview *view, const struct node *key,
			const struct node *v, struct rp_err *err)
{
	static const char *const keys[] = { "agg", "column", "window", "ttl", "description", NULL };
	const struct node *agg;
	char *what;
	int ret = -1;

	f->name = xstrdup(key->str);
	f->full = xasprintf("%s:%s", view->name, key->str);
	f->at = v;
	what = xasprintf("feature '%s'", f->full);
	if (check_name(key, "feature", err) < 0 || check_map(v, what, keys, err) < 0)
		goto out;
	if (!(agg = node_get(v, "agg"))) {
		node_fail(err, v, "%s: 'agg' is missing; add one of count, sum, avg, min, max, last, "
			  "count_distinct", what);
		goto out;
	}
	if (parse_agg(agg, &f->agg, err) < 0 || get_str(v, "column", what, 0, &f->column, err) < 0 ||
	    get_dur(v, "window", what, &f->window, err) < 0 || get_dur(v, "ttl", what, &f->ttl, err) < 0)
		goto out;
	if (f->agg == FAGG_COUNT && f->column) {
		node_fail(err, node_get(v, "column"), "%s: count counts events and takes no 'column'; "
			  "use count_distinct to count distinct values of a column", what);
		goto out;
	}
	if (f->agg != FAGG_COUNT && !f->column) {
		node_fail(err, v, "%s: '%s' needs 'column: NAME', the source column it aggregates", what,
			  fagg_name(f->agg));
		goto out;
	}
	if (f->column && !strcmp(f->column, view->source->timestamp)) {
		node_fail(err, node_get(v, "column"), "%s: 'column' names the event-time column '%s'",
			  what, f->column);
		goto out;
	}
	ret = 0;
out:
	free(what);
	return ret;
}

/* The entity or source named by the string at key `key` of view map `v`. */
static int find_ref(const struct fdefs *d, const struct node *v, const char *key, const char *view,
		    const void **out, struct rp_err *err)
{
	const struct node *r = node_get(v, key);
	int ent = !strcmp(key, "entity");
	size_t n = ent ? d->nentities : d->nsources;
	struct buf list = BUF_INIT;

	if (!r || r->kind != NODE_SCALAR)
		return node_fail(err, r ? r : v, "view '%s': '%s' must name one of the %s defined above",
				 view, key, ent ? "entities" : "sources");
	for (size_t i = 0; i < n; i++) {
		const char *name = ent ? d->entities[i].name : d->sources[i].name;

		if (!strcmp(name, r->str)) {
			*out = ent ? (const void *)&d->entities[i] : (const void *)&d->sources[i];
			buf_release(&list);
			return 0;
		}
		buf_addf(&list, "%s'%s'", i ? ", " : "", name);
	}
	node_fail(err, r, "view '%s': unknown %s '%s'; defined: %s", view, key, r->str, list.s);
	buf_release(&list);
	return -1;
}

static int load_view(struct fdefs *d, struct fview *w, const struct node *key, const struct node *v,
		     struct rp_err *err)
{
	static const char *const keys[] = { "entity", "source", "features", "description", NULL };
	const struct node *fs;
	const void *p;
	char *what = xasprintf("view '%s'", key->str);
	int bad;

	w->name = xstrdup(key->str);
	w->at = v;
	bad = check_name(key, "view", err) < 0 || check_map(v, what, keys, err) < 0;
	free(what);
	if (bad || find_ref(d, v, "entity", w->name, &p, err) < 0)
		return -1;
	w->entity = p;
	if (find_ref(d, v, "source", w->name, &p, err) < 0)
		return -1;
	w->source = p;
	fs = node_get(v, "features");
	if (!fs || fs->kind != NODE_MAP || !fs->n)
		return node_fail(err, fs ? fs : v, "view '%s': 'features' must be a non-empty mapping of "
				 "feature names to {agg: ..., window: ...}", w->name);
	w->features = xcalloc(fs->n, sizeof(*w->features));
	for (size_t i = 0; i < fs->n; i++)
		if (load_feature(&w->features[w->nfeatures++], w, fs->keys[i], fs->items[i], err) < 0)
			return -1;
	for (size_t k = 0; k < w->entity->nkeys; k++)
		if (!strcmp(w->entity->keys[k], w->source->timestamp))
			return node_fail(err, v, "view '%s': join key '%s' is the event-time column of "
					 "source '%s'", w->name, w->entity->keys[k], w->source->name);
	return 0;
}

int fdefs_load(struct fdefs *d, const char *path, struct rp_err *err)
{
	static const char *const keys[] = { "entities", "sources", "views", NULL };
	const struct node *root, *views;
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path) + (slash == path)) : xstrdup(".");
	int ret = -1;

	memset(d, 0, sizeof(*d));
	d->file = xstrdup(path);
	if (!(d->doc = doc_load_file(path, err)))
		goto out;
	root = d->doc->root;
	if (!root || root->kind != NODE_MAP) {
		rp_err_set(err, RP_ERR_INPUT, "%s:1:1: the definitions must be a mapping with "
			   "'entities', 'sources' and 'views' (see rp-features.yaml(5))", path);
		goto out;
	}
	if (check_map(root, "the definitions file", keys, err) < 0 ||
	    load_entities(d, node_get(root, "entities"), err) < 0 ||
	    load_sources(d, node_get(root, "sources"), dir, err) < 0)
		goto out;
	views = node_get(root, "views");
	if (!views || views->kind != NODE_MAP || !views->n) {
		node_fail(err, views ? views : root, "'views' must be a non-empty mapping of view names "
			  "to {entity: E, source: S, features: {...}}");
		goto out;
	}
	d->views = xcalloc(views->n, sizeof(*d->views));
	for (size_t i = 0; i < views->n; i++)
		if (load_view(d, &d->views[d->nviews++], views->keys[i], views->items[i], err) < 0)
			goto out;
	ret = 0;
out:
	free(dir);
	return ret;
}

void fdefs_release(struct fdefs *d)
{
	for (size_t i = 0; i < d->nentities; i++) {
		for (size_t k = 0; k < d->entities[i].nkeys; k++)
			free(d->entities[i].keys[k]);
		free(d->entities[i].keys);
		free(d->entities[i].name);
	}
	for (size_t i = 0; i < d->nsources; i++) {
		struct fsource *s = &d->sources[i];

		free(s->name);
		free(s->path);
		free(s->resolved);
		free(s->table);
		free(s->timestamp);
		free(s->created);
	}
	for (size_t i = 0; i < d->nviews; i++) {
		for (size_t f = 0; f < d->views[i].nfeatures; f++) {
			struct ffeature *ft = &d->views[i].features[f];

			free(ft->name);
			free(ft->full);
			free(ft->column);
		}
		free(d->views[i].features);
		free(d->views[i].name);
	}
	free(d->entities);
	free(d->sources);
	free(d->views);
	doc_free(d->doc);
	free(d->file);
	memset(d, 0, sizeof(*d));
}

const struct ffeature *fdefs_find(const struct fdefs *d, const char *full, const struct fview **view)
{
	for (size_t i = 0; i < d->nviews; i++)
		for (size_t f = 0; f < d->views[i].nfeatures; f++)
			if (!strcmp(d->views[i].features[f].full, full)) {
				if (view)
					*view = &d->views[i];
				return &d->views[i].features[f];
			}
	return NULL;
}

static void sel_add(struct fsel *sel, const struct ffeature *f, const struct fview *v, size_t *alloc)
{
	if (sel->n == *alloc) {
		*alloc = *alloc ? 2 * *alloc : 8;
		sel->f = xrealloc(sel->f, *alloc * sizeof(*sel->f));
		sel->view = xrealloc(sel->view, *alloc * sizeof(*sel->view));
	}
	sel->f[sel->n] = f;
	sel->view[sel->n++] = v;
}

static int unknown_feature(const struct fdefs *d, const char *name, struct rp_err *err)
{
	struct buf list = BUF_INIT;

	for (size_t i = 0; i < d->nviews; i++)
		for (size_t f = 0; f < d->views[i].nfeatures; f++)
			buf_addf(&list, "%s%s", list.len ? ", " : "", d->views[i].features[f].full);
	rp_err_set(err, RP_ERR_INPUT, "unknown feature '%s' in --features; %s defines: %s", name,
		   d->file, list.s);
	buf_release(&list);
	return -1;
}

int fdefs_select(const struct fdefs *d, const char *list, struct fsel *sel, struct rp_err *err)
{
	size_t alloc = 0;
	char *copy, *save = NULL;

	memset(sel, 0, sizeof(*sel));
	if (!list) {
		for (size_t i = 0; i < d->nviews; i++)
			for (size_t f = 0; f < d->views[i].nfeatures; f++)
				sel_add(sel, &d->views[i].features[f], &d->views[i], &alloc);
		return 0;
	}
	copy = xstrdup(list);
	for (const char *p = copy;; p = NULL) {
		char *item = strtok_r((char *)p, ",", &save);
		const struct ffeature *f;
		const struct fview *v;

		if (!item)
			break;
		if (!(f = fdefs_find(d, item, &v))) {
			unknown_feature(d, item, err);
			goto bad;
		}
		for (size_t i = 0; i < sel->n; i++)
			if (sel->f[i] == f) {
				rp_err_set(err, RP_ERR_INPUT, "feature '%s' is named twice in --features",
					   item);
				goto bad;
			}
		sel_add(sel, f, v, &alloc);
	}
	if (!sel->n || strstr(list, ",,") || *list == ',' || list[strlen(list) - 1] == ',') {
		rp_err_set(err, RP_ERR_INPUT, "--features '%s' has an empty item; give VIEW:FEATURE "
			   "names separated by commas", list);
		goto bad;
	}
	free(copy);
	return 0;
bad:
	free(copy);
	fsel_release(sel);
	return -1;
}

void fsel_release(struct fsel *sel)
{
	free(sel->f);
	free(sel->view);
	memset(sel, 0, sizeof(*sel));
}
