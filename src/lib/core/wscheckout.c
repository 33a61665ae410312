/*
 * wscheckout.c - make the workspace match a lock from the store, all or
 * nothing (see wscheckout.h).
 *
 * All objects are looked up before anything is touched, and every path is
 * built and verified beside its place before any is renamed, so a missing
 * or corrupt object leaves the workspace as it was. A lock is untrusted
 * input (a cloned repository's, any LOCK or --rev given): the paths it names
 * are checked twice before anything is read, lexically by lock_check_paths()
 * and on disk here (check_links): every dep and out is written (here or in
 * a --rebuild scratch copy, which keeps the links), and with a rebuild its
 * params files too, so none may go through a symlink that leads outside the
 * workspace or into a .git or .rp, nor land in the store.
 */
#include "core/wscheckout.h"

#include "core/git.h"
#include "util/wspath.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *lock_name(const char *file, const char *rev)
{
	return rev ? xasprintf("%s:%s", rev, file) : xstrdup(file);
}

struct lock *wscheckout_load_lock(const char *file, const char *rev, struct rp_err *err)
{
	struct lock *l;

	if (rev) {
		struct buf b = BUF_INIT;
		char *name = lock_name(file, rev);
		int r = git_show(rev, file, &b, err);

		if (r == 1)
			rp_err_set(err, RP_ERR_INPUT, "revision '%s' has no '%s'", rev, file);
		l = r == 0 ? lock_parse(name, b.s, b.len, err) : NULL;
		free(name);
		buf_release(&b);
		return l;
	}
	/* the workspace's own lock includes what a killed run left in the journal */
	if (!strcmp(file, WS_LOCK_FILE)) {
		l = lock_load(file, WS_JOURNAL, WS_LOCK_SNAP, err);
		if (l && !l->base[0] && !l->replayed) {
			rp_err_set(err, RP_ERR_INPUT, "no lock file '%s'; run 'rp repro' first", file);
			lock_free(l);
			l = NULL;
		}
		return l;
	}
	if (access(file, F_OK) < 0) {
		rp_err_set(err, RP_ERR_INPUT, "no lock file '%s'", file);
		return NULL;
	}
	return lock_load(file, NULL, NULL, err);
}

/*
 * Whether writing `path` (a workspace-relative path whose last component is
 * replaced, not followed) would land in the store `store_real` (a real path)
 * or replace a directory holding it: resolves the deepest existing directory
 * on its way. Returns NULL when not, else where it lands (the caller frees).
 */
static char *lands_in_store(const char *store_real, const char *path)
{
	char *dir = xstrdup(path), *slash, *real = NULL, *where;
	const char *rest = path;
	size_t len = strlen(store_real), wlen;

	for (;;) {
		slash = strrchr(dir, '/');
		if (!slash) {
			real = realpath(".", NULL);
			break;
		}
		*slash = '\0';
		if ((real = realpath(dir, NULL))) {
			rest = path + (slash - dir) + 1;
			break;
		}
	}
	free(dir);
	if (!real)
		return NULL;
	where = xasprintf("%s/%s", real, rest);
	free(real);
	wlen = strlen(where);
	if ((!strncmp(where, store_real, len) && (!where[len] || where[len] == '/')) ||
	    (!strncmp(store_real, where, wlen) && store_real[wlen] == '/'))
		return where;
	free(where);
	return NULL;
}

/* The symlink half of the rule (see above); `name` names the lock. 0 or -1 + err. */
static int check_links(const struct wscheckout *c, const char *name, struct rp_err *err)
{
	const struct workspace *ws = &c->pr->ws;
	char *store_real = realpath(ws->store->root, NULL);
	int ret = 0;

	for (size_t i = 0; i < c->lock->n && !ret; i++) {
		const struct lock_stage *ls = c->lock->stages[i];
		size_t n = ls->ndeps + ls->nouts;

		for (size_t k = 0; k < n + (c->o.rebuild ? ls->nparams : 0) && !ret; k++) {
			const char *path = k < ls->ndeps ? ls->deps[k].path :
					   k < n ? ls->outs[k - ls->ndeps].path : ls->params[k - n].file;
			char *target, *link = wspath_link_outside(ws->root, path, 0, 0, &target);

			if (link) {
				ret = rp_err_set(err, RP_ERR_INPUT, "%s: stage '%s': path '%s' goes "
						 "through the symlink '%s', which leads outside the "
						 "workspace (or into '.rp'), to '%s'; nothing was "
						 "changed: remove the link or make it point inside",
						 name, ls->name, path, link, target);
				free(link);
				free(target);
			} else if (store_real && (target = lands_in_store(store_real, path))) {
				ret = rp_err_set(err, RP_ERR_INPUT, "%s: stage '%s': path '%s' leads "
						 "into the store ('%s'); rp never writes there, so "
						 "nothing was changed", name, ls->name, path, target);
				free(target);
			}
		}
	}
	free(store_real);
	return ret;
}

/* A lock may only make rp write what the pipeline names. 0 or -1 + err. */
static int check_paths(const struct wscheckout *c, const char *file, struct rp_err *err)
{
	const struct project *pr = c->pr;
	char *name = lock_name(file, c->o.rev);
	int r;

	if (!pr->p)
		r = rp_err_set(err, RP_ERR_INPUT, "%s: no pipeline file '%s' here; rp checks out "
			       "only the paths a pipeline names, so nothing was changed", name,
			       pr->ws.pipeline_file);
	else if ((r = lock_check_paths(c->lock, name, pr->p, pr->ws.cfg.cache_dir, err)) == 0)
		r = check_links(c, name, err);
	free(name);
	return r;
}

static void add_item(struct wscheckout *c, const char *path, const struct objinfo *oi,
		     const char *stage, int is_out)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->items[i].path, path))
			return;
	ALLOC_GROW(c->items, c->n + 1, c->alloc);
	c->items[c->n++] = (struct wscheckout_item){ path, oi, stage, is_out, 0, 0 };
}

/* The cached outs first, then the deps no lock stage makes (the sources it saved). */
static void list_items(struct wscheckout *c)
{
	const struct lock *l = c->lock;

	for (size_t i = 0; i < l->n; i++) {
		const struct lock_stage *ls = l->stages[i];

		for (size_t k = 0; k < ls->nouts; k++)
			if (ls->outs[k].cache)
				add_item(c, ls->outs[k].path, &ls->outs[k].oi, ls->name, 1);
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct lock_stage *ls = l->stages[i];

		for (size_t k = 0; k < ls->ndeps; k++)
			if (rebuild_producer(&c->rb, ls->deps[k].path, 1, NULL) < 0)
				add_item(c, ls->deps[k].path, &ls->deps[k].oi, ls->name, 0);
	}
}

int wscheckout_open(struct wscheckout *c, struct project *pr, const struct lock *l,
		    const char *file, const struct wscheckout_opts *o, struct rp_err *err)
{
	memset(c, 0, sizeof(*c));
	c->pr = pr;
	c->lock = l;
	c->o = *o;
	if (rebuild_init(&c->rb, pr->ws.store, l, o->rev, o->out, err) < 0)
		return -1;
	c->rb.started = o->rebuilding;
	c->rb.ctx = o->ctx;
	if (check_paths(c, file, err) < 0)
		return -1;
	list_items(c);
	return 0;
}

static void tell(const struct wscheckout *c, enum wscheckout_event e,
		 const struct wscheckout_item *it)
{
	if (c->o.event)
		c->o.event(c->o.ctx, e, it);
}

int wscheckout_lookup(struct wscheckout *c, struct rp_err *err)
{
	struct store *s = c->pr->ws.store;

	for (size_t i = 0; i < c->n; i++) {
		struct wscheckout_item *it = &c->items[i];
		struct objinfo now;
		struct rp_err herr = { 0 };

		if (store_hash_path(s, it->path, &now, &herr) == 0) {
			if (!strcmp(now.hash, it->oi->hash))
				continue;
			/* bytes that are in no store would be lost for good */
			if (!c->o.force && !store_has(s, &now)) {
				c->nunsaved++;
				tell(c, WSCHECKOUT_UNSAVED, it);
			}
		} else if (herr.kind == RP_ERR_INPUT) {
			/* it holds what rp never stores (a nested .git): replacing would lose it */
			*err = herr;
			return -1;
		}
		it->needed = 1;
		switch (store_has_err(s, it->oi, err)) {
		case 1:
			continue;
		case -1:
			return -1;
		}
		if (!it->is_out) {
			it->needed = 0;
			tell(c, WSCHECKOUT_NO_SOURCE, it);
			continue;
		}
		it->missing = 1;
		c->nmissing++;
	}
	return 0;
}

int wscheckout_rebuild(struct wscheckout *c, struct rp_err *err)
{
	for (size_t i = 0; i < c->n; i++) {
		long p;

		if (!c->items[i].missing)
			continue;
		p = rebuild_producer(&c->rb, c->items[i].path, 1, NULL);
		if (p < 0 || rebuild_stage(&c->rb, (size_t)p, err) < 0)
			return -1;
	}
	return 0;
}

int wscheckout_stage(struct wscheckout *c, struct rp_err *err)
{
	if (!c->staged)
		c->staged = xcalloc(c->n + 1, sizeof(*c->staged));
	for (size_t i = 0; i < c->n; i++) {
		if (!c->items[i].needed || c->staged[i])
			continue;
		c->staged[i] = store_checkout_prepare(c->pr->ws.store, c->items[i].oi,
						      c->items[i].path, err);
		if (!c->staged[i])
			return -1;
	}
	return 0;
}

int wscheckout_commit(struct wscheckout *c, struct rp_err *err)
{
	for (size_t i = 0; c->staged && i < c->n; i++) {
		struct store_staged *s = c->staged[i];

		if (!s)
			continue;
		c->staged[i] = NULL;
		if (store_checkout_commit(c->pr->ws.store, s, err) < 0)
			return -1;
		c->nchanged++;
		tell(c, WSCHECKOUT_RESTORED, &c->items[i]);
	}
	if (c->nchanged && store_sync(c->pr->ws.store, err) < 0)
		return -1;
	return 0;
}

void wscheckout_release(struct wscheckout *c)
{
	for (size_t i = 0; c->staged && i < c->n; i++)
		store_checkout_abort(c->staged[i]);
	free(c->staged);
	if (c->rb.lock)
		rebuild_release(&c->rb);
	free(c->items);
	memset(c, 0, sizeof(*c));
}
