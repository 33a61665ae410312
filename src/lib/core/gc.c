/*
 * gc.c - garbage collection of the store (see gc.h).
 *
 * Marks are hex strings collected from the kept locks, sorted once, and
 * looked up by binary search while walking objects/<2>/<62> and
 * runs/<2>/<62>. An object referenced through a directory manifest is kept
 * with its manifest. Objects that are not named like a hash are left alone.
 *
 * Who may sweep which store is gc_check_store()'s rule; that nothing is
 * swept from under a writer in another workspace is the store's lease
 * (storelock.h), which the caller turns exclusive before it reads the locks
 * of other workspaces and sweeps.
 */
#include "core/gc.h"
#include "core/userconfig.h"
#include "util/strv.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * 0 when `dir` (objects/ or runs/ of a store) is a real directory, or
 * absent, and none of its fan-out entries is a symbolic link: the sweep
 * opens them by name and would follow a link into another directory.
 */
static int no_links_below(const char *dir, struct rp_err *err)
{
	struct stat sb;
	struct dirent *e;
	DIR *d;
	int ret = 0;

	if (lstat(dir, &sb) < 0)
		return errno == ENOENT ? 0 : rp_err_set(err, RP_ERR_IO, "cannot stat '%s': %s", dir,
							 strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return rp_err_set(err, RP_ERR_INPUT,
				  "'%s' is not a directory; 'rp gc' deletes nothing through it", dir);
	if (!(d = opendir(dir)))
		return rp_err_set(err, RP_ERR_IO, "cannot list '%s': %s", dir, strerror(errno));
	while (!ret && (e = readdir(d))) {
		char *p;

		if (strlen(e->d_name) != 2 || (e->d_type != DT_LNK && e->d_type != DT_UNKNOWN))
			continue;
		p = xasprintf("%s/%s", dir, e->d_name);
		if (lstat(p, &sb) == 0 && S_ISLNK(sb.st_mode))
			ret = rp_err_set(err, RP_ERR_INPUT,
					 "'%s' is a symbolic link; 'rp gc' deletes nothing through it", p);
		free(p);
	}
	closedir(d);
	return ret;
}

int gc_check_store(const struct store *st, const char *ws_root, struct rp_err *err)
{
	char *abs = realpath(st->root, NULL), *ws = realpath(ws_root, NULL);
	char *own = NULL, *creator = NULL, *sub = NULL;
	struct user_config uc = { 0 };
	struct stat sb;
	int ret = -1;

	if (!abs || !ws) {
		rp_err_set(err, RP_ERR_IO, "cannot resolve '%s': %s", abs ? ws_root : st->root,
			   strerror(errno));
		goto out;
	}
	own = xasprintf("%s/.rp/cache", ws);
	creator = store_creator(st);
	if (strcmp(abs, own) && !(creator && (!strcmp(creator, ws_root) || !strcmp(creator, ws)))) {
		if (user_config_load(&uc, err) < 0)
			goto out;
		if (!user_config_may_gc(&uc, abs)) {
			rp_err_set(err, RP_ERR_INPUT,
				   "refusing to delete from the store '%s': it is not this workspace's "
				   ".rp/cache and %s%s%s; if 'rp gc' may delete from it, list '%s' under "
				   "'stores: gc:' in your own config '%s'", abs,
				   creator ? "it was created by the workspace '" : "rp did not create it for this workspace",
				   creator ? creator : "", creator ? "'" : "", abs,
				   uc.path ? uc.path : "~/.config/rp/config");
			goto out;
		}
	}
	sub = xasprintf("%s/objects", abs);
	if (no_links_below(sub, err) < 0)
		goto out;
	free(sub);
	sub = xasprintf("%s/runs", abs);
	if (no_links_below(sub, err) < 0)
		goto out;
	free(sub);
	sub = xasprintf("%s/runs.db", abs);
	if (lstat(sub, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		rp_err_set(err, RP_ERR_INPUT, "'%s' is not a regular file; 'rp gc' deletes nothing through it", sub);
		goto out;
	}
	ret = 0;
out:
	user_config_release(&uc);
	free(sub);
	free(creator);
	free(own);
	free(ws);
	free(abs);
	return ret;
}

void gc_init(struct gc *g, struct store *s)
{
	memset(g, 0, sizeof(*g));
	g->store = s;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void gc_release(struct gc *g)
{
	free_list(g->keep, g->nkeep);
	free_list(g->runs, g->nruns);
	memset(g, 0, sizeof(*g));
}

static int keep_one(const char *hex, void *ctx)
{
	struct gc *g = ctx;

	ALLOC_GROW(g->keep, g->nkeep + 1, g->keep_alloc);
	g->keep[g->nkeep++] = xstrdup(hex);
	return 0;
}

static int mark_item(struct gc *g, const struct lock_item *it, struct rp_err *err)
{
	keep_one(it->oi.hash, g);
	if (!it->oi.isdir)
		return 0;
	/* a manifest that is not in the store has nothing to keep */
	if (!store_has(g->store, &it->oi)) {
		char *p = store_object_path(g->store, it->oi.hash);
		int present = access(p, F_OK) == 0;

		free(p);
		if (!present)
			return 0;
	}
	return store_manifest_each(g->store, it->oi.hash, keep_one, g, err);
}

int gc_mark_lock(struct gc *g, const struct lock *l, struct rp_err *err)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct lock_stage *s = l->stages[i];

		ALLOC_GROW(g->runs, g->nruns + 1, g->runs_alloc);
		g->runs[g->nruns++] = xstrdup(s->key);
		for (size_t k = 0; k < s->ndeps; k++)
			if (mark_item(g, &s->deps[k], err) < 0)
				return -1;
		for (size_t k = 0; k < s->nouts; k++)
			if (mark_item(g, &s->outs[k], err) < 0)
				return -1;
	}
	return 0;
}

static int marked(char **list, size_t n, const char *hex)
{
	return strv_has(list, n, hex);
}

struct sweep {
	char **list;
	size_t n;
	int dry_run;
	uint64_t *count, *bytes, *kept;
	void (*report)(const char *, uint64_t, void *);
	void *ctx;
	struct rp_err *err;
};

static int sweep_one(const char *path, const char *hex, void *data)
{
	struct sweep *sw = data;
	struct stat st;

	if (marked(sw->list, sw->n, hex)) {
		(*sw->kept)++;
		return 0;
	}
	if (lstat(path, &st) < 0)
		return 0;
	(*sw->count)++;
	*sw->bytes += (uint64_t)st.st_size;
	if (sw->report)
		sw->report(path, (uint64_t)st.st_size, sw->ctx);
	if (!sw->dry_run && unlink(path) < 0 && errno != ENOENT)
		return rp_err_set(sw->err, RP_ERR_IO, "cannot delete '%s': %s", path, strerror(errno));
	if (!sw->dry_run) {
		/* the <2 hex> directory goes when it is empty */
		char *dir = xstrdup(path);

		*strrchr(dir, '/') = '\0';
		rmdir(dir);
		free(dir);
	}
	return 0;
}

static int sweep_dir(const char *root, char **list, size_t n, int dry_run,
		     uint64_t *count, uint64_t *bytes, uint64_t *kept,
		     void (*report)(const char *, uint64_t, void *), void *ctx, struct rp_err *err)
{
	struct sweep sw = { list, n, dry_run, count, bytes, kept, report, ctx, err };

	return store_walk(root, sweep_one, &sw, err);
}

int gc_sweep(struct gc *g, int dry_run, struct gc_stats *st,
	     void (*report)(const char *path, uint64_t size, void *ctx), void *ctx,
	     struct rp_err *err)
{
	char *objects = xasprintf("%s/objects", g->store->root);
	char *runs = xasprintf("%s/runs", g->store->root);
	uint64_t kept_runs = 0;
	int ret;

	memset(st, 0, sizeof(*st));
	strv_sort(g->keep, g->nkeep);
	strv_sort(g->runs, g->nruns);
	ret = sweep_dir(objects, g->keep, g->nkeep, dry_run, &st->objects, &st->object_bytes,
			&st->kept, report, ctx, err);
	if (!ret)
		ret = store_run_sweep(g->store, g->runs, g->nruns, dry_run, &st->runs,
				      &st->run_bytes, report, ctx, err);
	/* entries in the layout of earlier rp versions, one file each */
	if (!ret)
		ret = sweep_dir(runs, g->runs, g->nruns, dry_run, &st->runs, &st->run_bytes,
				&kept_runs, report, ctx, err);
	free(objects);
	free(runs);
	return ret;
}
