/*
 * freshness.c - dirty-stage detection and its reasons (see freshness.h).
 *
 * A stage is up to date when its key equals the lock's key and every out
 * hashes to what the lock says. The reasons are computed separately from the
 * key (the key says *whether*, the reasons say *why*), so a change the key
 * catches but no reason names still shows up as "definition changed".
 */
#include "core/freshness.h"
#include "core/flatten.h"
#include "core/key.h"
#include "core/progver.h"
#include "util/strv.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

/* Counts one dep or param that cannot be read; the first one's message is kept. */
static void missing(struct eval *ev, char *msg)
{
	if (!ev->nmissing++)
		ev->errmsg = msg;
	else
		free(msg);
}

void freshness_read_params(const struct dag *d, struct stage *st, struct eval *ev)
{
	struct doc *doc = NULL;
	const char *docfile = NULL;
	int doc_failed = 0;
	size_t n = st->nparams ? st->nparams : 1;

	ev->p = d->p;
	ev->param_ok = xcalloc(n, 1);
	ev->param_nofile = xcalloc(n, 1);
	for (size_t i = 0; i < st->nparams; i++) {
		struct param *pa = &st->params[i];
		const struct node *value;

		ev->param_ok[i] = 1;
		if (pa->value && dag_producer(d, pa->file) < 0)
			continue;      /* read with the pipeline, and no stage writes it */
		if (!ev->pold) {
			ev->pstage = st;
			ev->pold = xcalloc(n, sizeof(*ev->pold));
			for (size_t k = 0; k < st->nparams; k++)
				ev->pold[k] = st->params[k].value;
		}
		/* params of one file are listed together: read it once for them */
		if (!docfile || strcmp(docfile, pa->file)) {
			struct rp_err err = { 0 };

			docfile = pa->file;
			doc = doc_load_file(pa->file, &err);
			doc_failed = !doc;
			if (doc) {
				ev->pdocs = xrealloc(ev->pdocs, (ev->npdocs + 1) * sizeof(*ev->pdocs));
				ev->pdocs[ev->npdocs++] = doc;
			} else {
				missing(ev, err.kind == RP_ERR_IO && access(pa->file, F_OK) < 0
					? xasprintf("params file '%s' does not exist", pa->file)
					: xstrdup(err.msg));
			}
		}
		pa->value = NULL;
		ev->param_ok[i] = 0;
		if (doc_failed) {
			ev->param_nofile[i] = 1;
			continue;
		}
		if (!pa->key) {
			static struct node empty = { .kind = NODE_MAP };

			value = doc->root ? doc->root : &empty;
		} else if (!(value = doc->root ? node_lookup(doc->root, pa->key) : NULL)) {
			missing(ev, xasprintf("parameter '%s' is not defined in '%s'", pa->key,
					      pa->file));
			continue;
		}
		pa->value = value;
		ev->param_ok[i] = 1;
	}
}

void freshness_eval_deps(struct store *s, const struct stage *st, struct eval *ev)
{
	const char **hashes = xcalloc(st->ndeps ? st->ndeps : 1, sizeof(*hashes));

	ev->deps = xcalloc(st->ndeps ? st->ndeps : 1, sizeof(*ev->deps));
	ev->dep_ok = xcalloc(st->ndeps ? st->ndeps : 1, 1);
	for (size_t i = 0; i < st->ndeps; i++) {
		struct rp_err err = { 0 };

		if (store_hash_path(s, st->deps[i].path, &ev->deps[i], &err) < 0) {
			missing(ev, xstrdup(err.msg));
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
	for (size_t k = 0; ev->pold && k < ev->pstage->nparams; k++)
		ev->pstage->params[k].value = ev->pold[k];
	for (size_t k = 0; k < ev->npdocs; k++)
		doc_free(ev->pdocs[k]);
	free(ev->pdocs);
	free(ev->pold);
	free(ev->param_ok);
	free(ev->param_nofile);
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

/*
 * A mapping or list parameter that changed, leaf by leaf as `rp params diff`
 * shows it: "param chunker.size 800 -> 500". 0 when the old value cannot be
 * read back (the caller then names the parameter as a whole).
 */
static int compare_leaves(const struct param *p, const char *old_json, struct verdict *v)
{
	struct rp_err err = { 0 };
	struct doc *old = doc_load_buf("rp.lock.json", old_json, strlen(old_json), &err);
	const char *prefix = p->key ? p->key : "";
	struct leaves now = { 0 }, then = { 0 };
	size_t before = v->n;

	if (!old || !old->root) {
		doc_free(old);
		return 0;
	}
	flatten(p->value, prefix, &now);
	flatten(old->root, prefix, &then);
	for (size_t i = 0; i < now.n; i++) {
		const struct leaf *o = leaves_find(&then, now.l[i].key);
		char *name = freshness_param_name(p->file, now.l[i].key);

		if (!o)
			freshness_verdict_add(v, R_PARAM_NEW, name, NULL, now.l[i].value);
		else if (strcmp(o->value, now.l[i].value))
			freshness_verdict_add(v, R_PARAM_CHANGED, name, o->value, now.l[i].value);
		free(name);
	}
	for (size_t i = 0; i < then.n; i++)
		if (!leaves_find(&now, then.l[i].key)) {
			char *name = freshness_param_name(p->file, then.l[i].key);

			freshness_verdict_add(v, R_PARAM_MISSING, name, then.l[i].value, NULL);
			free(name);
		}
	leaves_release(&now);
	leaves_release(&then);
	doc_free(old);
	return v->n > before;
}

static void compare_params(const struct stage *st, const struct lock_stage *ls,
			   struct verdict *v)
{
	struct buf val = BUF_INIT;
	size_t i, j;

	for (i = 0; i < st->nparams; i++) {
		const struct param *p = &st->params[i];
		const char *key = p->key ? p->key : "";
		const struct lock_param *lp = NULL;
		char *name;

		if (!p->value)
			continue;      /* not readable: freshness_compare() said so */
		name = freshness_param_name(p->file, key);
		for (j = 0; ls && j < ls->nparams; j++)
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
		} else if (strcmp(lp->value, val.s) &&
			   (p->value->kind == NODE_SCALAR || !compare_leaves(p, lp->value, v))) {
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

/* The reasons for the params of `st` that could not be read (freshness_read_params()). */
static void unreadable_params(const struct stage *st, const struct eval *ev, struct verdict *v)
{
	for (size_t i = 0; ev->param_ok && i < st->nparams; i++) {
		const struct param *p = &st->params[i];
		char *name;

		if (ev->param_ok[i])
			continue;
		if (ev->param_nofile[i]) {
			/* once per file: params of one file are listed together */
			if (i == 0 || !ev->param_nofile[i - 1] || strcmp(st->params[i - 1].file, p->file))
				freshness_verdict_add(v, R_DEP_MISSING, p->file, NULL, NULL);
			continue;
		}
		name = freshness_param_name(p->file, p->key);
		freshness_verdict_add(v, R_PARAM_MISSING, name, NULL, NULL);
		free(name);
	}
}

/* ---- a command's ${} --------------------------------------------------- */

/*
 * The `cmd` node (a string or a list) that stage `st` was built from, found
 * through the stage's key in the pipeline files `p` has loaded; NULL when it
 * cannot be found.
 */
static const struct node *cmd_template(const struct pipeline *p, const struct stage *st)
{
	for (size_t k = 0; p && k < p->ndocs; k++) {
		const struct node *root = p->docs[k]->root;
		const struct node *stages = root && root->kind == NODE_MAP ? node_get(root, "stages") : NULL;

		for (size_t i = 0; stages && stages->kind == NODE_MAP && i < stages->n; i++) {
			const struct node *body = stages->items[i];

			if (stages->keys[i] != st->where || body->kind != NODE_MAP)
				continue;
			if (node_get(body, "do"))
				body = node_get(body, "do");
			return body->kind == NODE_MAP ? node_get(body, "cmd") : NULL;
		}
	}
	return NULL;
}

/* One ${name} of a command template and the literal text after it. */
struct hole {
	char *name;
	const char *lit;     /* borrowed from the template */
	size_t litlen;
};

/*
 * Splits template `t` into its leading literal (*lead, *leadlen) and holes.
 * -1 when it holds an escaped "${" or an unterminated one (no attribution).
 */
static int split_template(const char *t, size_t *leadlen, struct hole **holes, size_t *n)
{
	const char *q = strstr(t, "${");
	size_t alloc = 0;

	*n = 0;
	*holes = NULL;
	*leadlen = q ? (size_t)(q - t) : strlen(t);
	while (q) {
		const char *close = strchr(q, '}'), *next;
		struct hole *h;

		if (!close || (q > t && (q[-1] == '\\' || q[-1] == '$')))
			return -1;
		ALLOC_GROW(*holes, *n + 1, alloc);
		h = &(*holes)[(*n)++];
		h->name = xstrndup(q + 2, (size_t)(close - q - 2));
		h->lit = close + 1;
		next = strstr(close + 1, "${");
		h->litlen = next ? (size_t)(next - h->lit) : strlen(h->lit);
		q = next;
	}
	return 0;
}

/*
 * The text each hole took in command `s` (vals[i], newly allocated), found
 * by the literal text around them. -1 when `s` does not fit the template.
 */
static int match_template(const char *t, size_t leadlen, const struct hole *h, size_t n,
			  const char *s, char **vals)
{
	size_t len = strlen(s), pos = leadlen;

	if (len < leadlen || strncmp(s, t, leadlen))
		return -1;
	for (size_t i = 0; i < n; i++) {
		size_t end;

		if (i + 1 == n) {
			if (len - pos < h[i].litlen || strncmp(s + len - h[i].litlen, h[i].lit, h[i].litlen))
				goto fail;
			end = len - h[i].litlen;
		} else {
			char *lit = xstrndup(h[i].lit, h[i].litlen);
			const char *at = h[i].litlen ? strstr(s + pos, lit) : NULL;

			free(lit);
			if (!at)
				goto fail;
			end = (size_t)(at - s);
		}
		if (end < pos)
			goto fail;
		vals[i] = xstrndup(s + pos, end - pos);
		pos = end + h[i].litlen;
	}
	return 0;
fail:
	for (size_t i = 0; i < n; i++) {
		free(vals[i]);
		vals[i] = NULL;
	}
	return -1;
}

/*
 * Whether `name` (as written in ${}) is, or lies inside, a listed param of
 * params.yaml: its change is named there already.
 */
static int listed_param(const struct stage *st, const char *name)
{
	for (size_t i = 0; i < st->nparams; i++) {
		const char *k = st->params[i].key;
		size_t len = k ? strlen(k) : 0;

		if (strcmp(st->params[i].file, "params.yaml"))
			continue;
		if (!k || (!strncmp(name, k, len) &&
			   (!name[len] || name[len] == '.' || name[len] == '[')))
			return 1;
	}
	return 0;
}

/*
 * Adds why the commands of `st` differ from the lock's: the values of the
 * ${} it uses ("param chunker.size 800 -> 500 (in cmd)"), or "cmd changed"
 * when the text around them changed (or the template cannot be found).
 */
static void compare_cmds(const struct pipeline *p, const struct stage *st,
			 const struct lock_stage *ls, struct verdict *v)
{
	const struct node *tn = cmd_template(p, st);
	struct verdict found = { 0 };
	int ok = tn && st->ncmds == ls->ncmds &&
		 (tn->kind == NODE_SCALAR ? st->ncmds == 1 : tn->kind == NODE_SEQ && tn->n == st->ncmds);

	for (size_t c = 0; ok && c < st->ncmds; c++) {
		const struct node *t = tn->kind == NODE_SCALAR ? tn : tn->items[c];
		struct hole *h = NULL;
		size_t nh = 0, lead;
		char **ov, **nv;

		if (!strcmp(st->cmds[c], ls->cmds[c]))
			continue;
		if (t->kind != NODE_SCALAR || split_template(t->str, &lead, &h, &nh) < 0 || !nh) {
			ok = 0;
		} else {
			ov = xcalloc(nh, sizeof(*ov));
			nv = xcalloc(nh, sizeof(*nv));
			if (match_template(t->str, lead, h, nh, ls->cmds[c], ov) < 0 ||
			    match_template(t->str, lead, h, nh, st->cmds[c], nv) < 0)
				ok = 0;
			for (size_t i = 0; ok && i < nh; i++) {
				int seen = 0;
				char *name = xstrdup(h[i].name);
				char *b = name, *e;

				while (*b == ' ')
					b++;
				for (e = b + strlen(b); e > b && e[-1] == ' ';)
					*--e = '\0';
				for (size_t k = 0; k < found.n && !seen; k++)
					seen = !strcmp(found.r[k].subject, b);
				if (!seen && strcmp(ov[i], nv[i]) && !listed_param(st, b))
					freshness_verdict_add(&found, R_CMD_PARAM, b, ov[i], nv[i]);
				free(name);
			}
			for (size_t i = 0; i < nh; i++) {
				free(ov[i]);
				free(nv[i]);
			}
			free(ov);
			free(nv);
		}
		for (size_t i = 0; i < nh; i++)
			free(h[i].name);
		free(h);
	}
	if (!ok) {
		freshness_verdict_add(v, R_CMD, NULL, NULL, NULL);
	} else {
		for (size_t k = 0; k < found.n; k++)
			freshness_verdict_add(v, R_CMD_PARAM, found.r[k].subject, found.r[k].old,
					      found.r[k].new);
	}
	freshness_verdict_release(&found);
}

/*
 * When the key differs from the lock's: whether it is an algorithm of rp's
 * stage programs that changed version since (an upgrade, or a downgrade,
 * of rp). The lock does not record versions; the key does, so each
 * algorithm in use is tried at the versions near its own, one at a time,
 * then all at 1, and a key that equals the lock's names the change. A few
 * hashes of a short encoding, only for a dirty stage that runs rp programs.
 */
static void compare_versions(const struct stage *st, const struct eval *ev,
			     const struct lock_stage *ls, struct verdict *v)
{
	struct progver_use uses[PROGVER_MAX], tried[PROGVER_MAX];
	size_t n = progver_detect((const char *const *)st->cmds, st->ncmds, uses), i;
	const char **hashes;
	char hex[HASH_HEX], was[64], now[64];

	if (!n || ev->nmissing)
		return;
	hashes = xcalloc(st->ndeps ? st->ndeps : 1, sizeof(*hashes));
	for (i = 0; i < st->ndeps; i++)
		hashes[i] = ev->deps[i].hash;
	for (i = 0; i < n; i++) {
		for (int w = 1; w <= uses[i].version + 4; w++) {
			if (w == uses[i].version)
				continue;
			memcpy(tried, uses, n * sizeof(*uses));
			tried[i].version = w;
			key_compute_uses(st, hashes, tried, n, hex);
			if (strcmp(hex, ls->key))
				continue;
			snprintf(was, sizeof(was), "%s@%d", uses[i].algo, w);
			snprintf(now, sizeof(now), "%s@%d", uses[i].algo, uses[i].version);
			freshness_verdict_add(v, R_PROGVER, uses[i].program, was, now);
			goto out;
		}
	}
	memcpy(tried, uses, n * sizeof(*uses));
	for (i = 0; i < n; i++)
		tried[i].version = 1;
	key_compute_uses(st, hashes, tried, n, hex);
	for (i = 0; !strcmp(hex, ls->key) && i < n; i++) {
		if (uses[i].version <= 1)
			continue;
		snprintf(was, sizeof(was), "%s@1", uses[i].algo);
		snprintf(now, sizeof(now), "%s@%d", uses[i].algo, uses[i].version);
		freshness_verdict_add(v, R_PROGVER, uses[i].program, was, now);
	}
out:
	free(hashes);
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
		unreadable_params(st, ev, v);
		v->outs_differ = 1;
		return;
	}
	if (st->always_changed)
		freshness_verdict_add(v, R_ALWAYS_CHANGED, NULL, NULL, NULL);
	if (!same_cmds(st, ls))
		compare_cmds(ev->p, st, ls, v);
	if (!v->key_matches)
		compare_versions(st, ev, ls, v);
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
	unreadable_params(st, ev, v);
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

/* ---- the files of a changed directory dep ------------------------------- */

struct dirfile {
	char *path;               /* relative to the directory */
	char hash[HASH_HEX];
};

static int cmp_dirfile(const void *a, const void *b)
{
	return strcmp(((const struct dirfile *)a)->path, ((const struct dirfile *)b)->path);
}

/* Appends every regular file under `dir` (relative names below `rel`) with its hash. */
static void walk_dir(struct store *s, const char *dir, const char *rel,
		     struct dirfile **v, size_t *n, size_t *alloc)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *full, *name;
		struct stat sb;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		full = xasprintf("%s/%s", dir, e->d_name);
		name = *rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		if (lstat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			walk_dir(s, full, name, v, n, alloc);
			free(name);
		} else {
			struct objinfo oi;
			struct rp_err err = { 0 };

			if (store_hash_path(s, full, &oi, &err) == 0) {
				ALLOC_GROW(*v, *n + 1, *alloc);
				(*v)[*n].path = name;
				memcpy((*v)[*n].hash, oi.hash, HASH_HEX);
				(*n)++;
			} else {
				free(name);
			}
		}
		free(full);
	}
	if (d)
		closedir(d);
}

int freshness_dir_changes(struct store *s, const char *path, const char *old_hash,
			  void (*fn)(void *ctx, const char *file, const char *what), void *ctx)
{
	char *obj = store_object_path(s, old_hash);
	struct buf b = BUF_INIT;
	struct rp_err err = { 0 };
	struct dirfile *old = NULL, *now = NULL;
	size_t nold = 0, aold = 0, nnow = 0, anow = 0, i = 0, j = 0;
	char *line, *save;

	if (doc_read_file(obj, &b, &err) < 0) {
		free(obj);
		buf_release(&b);
		return -1;
	}
	free(obj);
	/* <sha256 hex> <size> <mode octal> <relative/path>, sorted by path */
	for (line = b.s ? strtok_r(b.s, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
		char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
		char *sp3 = sp2 ? strchr(sp2 + 1, ' ') : NULL;

		if (!sp3 || sp1 - line != HASH_HEX - 1)
			continue;
		ALLOC_GROW(old, nold + 1, aold);
		memcpy(old[nold].hash, line, HASH_HEX - 1);
		old[nold].hash[HASH_HEX - 1] = '\0';
		old[nold++].path = xstrdup(sp3 + 1);
	}
	buf_release(&b);
	walk_dir(s, path, "", &now, &nnow, &anow);
	if (nold > 1)
		qsort(old, nold, sizeof(*old), cmp_dirfile);
	if (nnow > 1)
		qsort(now, nnow, sizeof(*now), cmp_dirfile);
	while (i < nold || j < nnow) {
		int c = i == nold ? 1 : j == nnow ? -1 : strcmp(old[i].path, now[j].path);

		if (c < 0) {
			fn(ctx, old[i++].path, "deleted");
		} else if (c > 0) {
			fn(ctx, now[j++].path, "added");
		} else {
			if (strcmp(old[i].hash, now[j].hash))
				fn(ctx, now[j].path, "modified");
			i++;
			j++;
		}
	}
	for (i = 0; i < nold; i++)
		free(old[i].path);
	for (j = 0; j < nnow; j++)
		free(now[j].path);
	free(old);
	free(now);
	return 0;
}

const char *freshness_reason_name(enum reason_kind k)
{
	static const char *names[] = {
		[R_NEVER_RUN] = "never-run", [R_ALWAYS_CHANGED] = "always-changed",
		[R_CMD] = "cmd-changed", [R_CMD_PARAM] = "cmd-param-changed",
		[R_WDIR] = "wdir-changed",
		[R_DEP_MISSING] = "dep-missing", [R_DEP_CHANGED] = "dep-changed",
		[R_DEP_NEW] = "dep-added", [R_DEP_GONE] = "dep-removed",
		[R_PARAM_CHANGED] = "param-changed", [R_PARAM_NEW] = "param-added",
		[R_PARAM_GONE] = "param-removed", [R_PARAM_MISSING] = "param-deleted",
		[R_OUTS_DECLARED] = "definition-changed",
		[R_OUT_MISSING] = "out-missing", [R_OUT_MODIFIED] = "out-modified",
		[R_UPSTREAM] = "upstream-dirty",
		[R_PROGVER] = "algorithm-changed",
	};
	return names[k];
}

/* What the subject of a reason of kind `k` is, as freshness_verdict_json() names it. */
static const char *subject_key(enum reason_kind k)
{
	switch (k) {
	case R_UPSTREAM: return "stage";
	case R_PROGVER: return "program";
	case R_CMD_PARAM: case R_PARAM_CHANGED: case R_PARAM_NEW: case R_PARAM_GONE:
	case R_PARAM_MISSING:
		return "param";
	default: return "path";
	}
}

json_t *freshness_verdict_json(const struct verdict *v)
{
	json_t *a = json_array();

	for (size_t i = 0; i < v->n; i++) {
		const struct reason *r = &v->r[i];
		json_t *o = json_object();
		char *text = freshness_reason_text(r);

		json_object_set_new(o, "reason", json_string(freshness_reason_name(r->kind)));
		if (r->subject)
			json_object_set_new(o, subject_key(r->kind), json_string(r->subject));
		if (r->old)
			json_object_set_new(o, "old", json_string(r->old));
		if (r->new)
			json_object_set_new(o, "new", json_string(r->new));
		json_object_set_new(o, "text", json_string(text));
		free(text);
		json_array_append_new(a, o);
	}
	return a;
}

char *freshness_reason_text(const struct reason *r)
{
	switch (r->kind) {
	case R_NEVER_RUN: return xstrdup("never run");
	case R_ALWAYS_CHANGED: return xstrdup("always changed");
	case R_CMD: return xstrdup("cmd changed");
	case R_CMD_PARAM:
		return xasprintf("param %s %s -> %s (in cmd)", r->subject, r->old, r->new);
	case R_WDIR: return xasprintf("wdir changed: %s -> %s", r->old, r->new);
	case R_DEP_MISSING: return xasprintf("dep '%s' deleted", r->subject);
	case R_DEP_CHANGED: return xasprintf("dep '%s' changed", r->subject);
	case R_DEP_NEW: return xasprintf("dep '%s' added", r->subject);
	case R_DEP_GONE: return xasprintf("dep '%s' removed", r->subject);
	case R_PARAM_CHANGED: return xasprintf("param %s %s -> %s", r->subject, r->old, r->new);
	case R_PARAM_NEW: return xasprintf("param %s added (%s)", r->subject, r->new);
	case R_PARAM_GONE: return xasprintf("param %s removed", r->subject);
	case R_PARAM_MISSING:
		return r->old ? xasprintf("param %s deleted (was %s)", r->subject, r->old)
			      : xasprintf("param %s deleted", r->subject);
	case R_OUTS_DECLARED:
		return r->subject ? xasprintf("out '%s' added", r->subject)
				  : xstrdup("outs changed in the pipeline file");
	case R_OUT_MISSING: return xasprintf("out '%s' missing", r->subject);
	case R_OUT_MODIFIED: return xasprintf("out '%s' modified", r->subject);
	case R_UPSTREAM: return xasprintf("upstream stage '%s' will run", r->subject);
	case R_PROGVER: return xasprintf("rp %s: %s -> %s", r->subject, r->old, r->new);
	}
	return xstrdup("?");
}
