/*
 * rebuild.c - re-run a lock's stages in a scratch copy of the workspace
 * (see rebuild.h).
 *
 * The scratch copy is made file by file with fs_clone_file() (a reflink
 * where the file system can, else a copy), directories and symlinks
 * recreated as they are; .rp and .git are left out.
 */
#include "core/rebuild.h"

#include "core/git.h"
#include "core/runner.h"
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rebuild_init(struct rebuild *rb, struct store *s, const struct lock *l, const char *rev,
		 FILE *out, struct rp_err *err)
{
	struct pipeline *p = xcalloc(1, sizeof(*p));

	memset(rb, 0, sizeof(*rb));
	rb->store = s;
	rb->lock = l;
	rb->rev = rev;
	rb->out = out;
	p->file = (char *)"rp.lock";
	p->nstages = l->n;
	p->stages = xcalloc(l->n + 1, sizeof(*p->stages));
	for (size_t i = 0; i < l->n; i++) {
		const struct lock_stage *ls = l->stages[i];
		struct stage *st = &p->stages[i];

		st->name = ls->name;
		st->nouts = ls->nouts;
		st->outs = xcalloc(ls->nouts + 1, sizeof(*st->outs));
		for (size_t k = 0; k < ls->nouts; k++) {
			st->outs[k].path = ls->outs[k].path;
			st->outs[k].cache = ls->outs[k].cache;
		}
	}
	rb->outs_only = p;
	rb->state = xcalloc(l->n + 1, 1);
	rb->dag = dag_build(p, err);
	if (!rb->dag) {
		rebuild_release(rb);
		return -1;
	}
	return 0;
}

void rebuild_release(struct rebuild *rb)
{
	struct pipeline *p = rb->outs_only;

	dag_free(rb->dag);
	for (size_t i = 0; p && i < p->nstages; i++)
		free(p->stages[i].outs);
	if (p)
		free(p->stages);
	free(p);
	free(rb->state);
	memset(rb, 0, sizeof(*rb));
}

long rebuild_producer(const struct rebuild *rb, const char *path, int holding,
		      const struct lock_item **out)
{
	long p = dag_producer(rb->dag, path);
	size_t plen = strlen(path);

	if (p >= 0) {
		const struct lock_stage *ls = rb->lock->stages[p];

		for (size_t k = 0; out && k < ls->nouts; k++) {
			const char *o = ls->outs[k].path;
			size_t olen = strlen(o);

			if (!strncmp(path, o, olen) && (!path[olen] || path[olen] == '/'))
				*out = &ls->outs[k];
		}
		return p;
	}
	/* a dep that is a directory of other stages' outputs is not source data */
	for (size_t i = 0; holding && i < rb->lock->n; i++)
		for (size_t k = 0; k < rb->lock->stages[i]->nouts; k++) {
			const struct lock_item *o = &rb->lock->stages[i]->outs[k];

			if (!strncmp(o->path, path, plen) && o->path[plen] == '/') {
				if (out)
					*out = o;
				return (long)i;
			}
		}
	return -1;
}

/* Copies `src` (not followed if a symlink) to `dst`, recursively. 0 or -1 + err. */
static int copy_tree(const char *src, const char *dst, struct rp_err *err)
{
	struct stat sb;
	DIR *d;
	struct dirent *e;
	int ret = 0;

	if (lstat(src, &sb) < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot read '%s': %s", src, strerror(errno));
	if (S_ISREG(sb.st_mode))
		return fs_clone_file(src, dst, sb.st_mode & 07777, 0, err);
	if (S_ISLNK(sb.st_mode)) {
		char target[4096];
		ssize_t n = readlink(src, target, sizeof(target) - 1);

		if (n < 0 || (target[n] = '\0', symlink(target, dst) < 0))
			return rp_err_set(err, RP_ERR_IO, "cannot copy the symlink '%s': %s", src,
					  strerror(errno));
		return 0;
	}
	if (!S_ISDIR(sb.st_mode))
		return 0;   /* a FIFO or a device is no stage's input */
	if (mkdir(dst, (sb.st_mode & 07777) | S_IRWXU) < 0 || !(d = opendir(src)))
		return rp_err_set(err, RP_ERR_IO, "cannot copy the directory '%s': %s", src,
				  strerror(errno));
	while (ret == 0 && (e = readdir(d))) {
		char *s, *t;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		s = xasprintf("%s/%s", src, e->d_name);
		t = xasprintf("%s/%s", dst, e->d_name);
		ret = copy_tree(s, t, err);
		free(s);
		free(t);
	}
	closedir(d);
	if (ret == 0 && chmod(dst, sb.st_mode & 07777) < 0)
		ret = rp_err_set(err, RP_ERR_IO, "cannot set the mode of '%s': %s", dst, strerror(errno));
	return ret;
}

/* Copies every top-level entry of the workspace but .rp and .git into dir. */
static int copy_workspace(const char *dir, struct rp_err *err)
{
	DIR *d = opendir(".");
	struct dirent *e;
	struct rp_err why = { 0 };
	int ret = 0;

	if (!d)
		return rp_err_set(err, RP_ERR_IO, "cannot list the workspace: %s", strerror(errno));
	while (ret == 0 && (e = readdir(d))) {
		char *dst;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, ".rp") || !strcmp(e->d_name, ".git"))
			continue;
		dst = xasprintf("%s/%s", dir, e->d_name);
		if (copy_tree(e->d_name, dst, &why) < 0)
			ret = rp_err_set(err, RP_ERR_IO, "cannot copy '%s' into the scratch workspace "
					 "'%s': %s", e->d_name, dir, why.msg);
		free(dst);
	}
	closedir(d);
	return ret;
}

/* Puts dep `di` of lock stage `ls` into the scratch dir. 0 or -1 + err. */
static int place_dep(struct rebuild *rb, const struct lock_stage *ls, size_t di,
		     const char *scratch, struct rp_err *err)
{
	struct store *s = rb->store;
	const struct lock_item *dep = &ls->deps[di];
	char *dst = xasprintf("%s/%s", scratch, dep->path);
	int ret = 0;

	if (!store_has(s, &dep->oi)) {
		const struct lock_item *out = NULL;
		long p = rebuild_producer(rb, dep->path, 0, &out);

		if (p >= 0 && out && !strcmp(out->path, dep->path) &&
		    !strcmp(out->oi.hash, dep->oi.hash) && rebuild_stage(rb, (size_t)p, err) < 0) {
			free(dst);
			return -1;
		}
	}
	if (store_has(s, &dep->oi)) {
		if (fs_mkdir_parent(dst, err) < 0 || store_checkout(s, &dep->oi, dst, err) < 0)
			ret = -1;
	} else {
		struct objinfo now;

		/* the scratch copy already holds the workspace's version: fine if it is the same */
		if (store_hash_path(s, dst, &now, err) < 0 || strcmp(now.hash, dep->oi.hash))
			ret = rp_err_set(err, RP_ERR_IO, "cannot rebuild stage '%s': its dependency "
					 "'%s' (%.12s) is in no store and the workspace holds other "
					 "bytes", ls->name, dep->path, dep->oi.hash);
	}
	free(dst);
	return ret;
}

/* Restores the params files of the revision into the scratch dir and checks the values. */
static int place_params(struct rebuild *rb, const struct lock_stage *ls, const char *scratch,
			struct rp_err *err)
{
	for (size_t i = 0; i < ls->nparams; i++) {
		const struct lock_param *lp = &ls->params[i];
		char *dst = xasprintf("%s/%s", scratch, lp->file);
		struct rp_err ignored = { 0 };
		struct doc *d;
		const struct node *v;
		struct buf b = BUF_INIT;
		int ok;

		if (rb->rev) {
			if (git_show(rb->rev, lp->file, &b, &ignored) == 0)
				fs_write_atomic(dst, b.s, b.len, &ignored);
			buf_reset(&b);
		}
		d = doc_load_file(dst, &ignored);
		v = d && d->root ? (*lp->key ? node_lookup(d->root, lp->key) : d->root) : NULL;
		if (v)
			node_canonical(v, &b);
		ok = v && !strcmp(b.s, lp->value);
		doc_free(d);
		buf_release(&b);
		free(dst);
		if (!ok)
			return rp_err_set(err, RP_ERR_IO, "cannot rebuild stage '%s': parameter '%s' in "
					  "'%s' is not what the lock recorded (%s); use --rev with the "
					  "revision of that lock", ls->name,
					  *lp->key ? lp->key : "(whole file)", lp->file, lp->value);
	}
	return 0;
}

/* Sets up the scratch copy for `ls` and runs it there through the runner. */
static int rebuild_in(struct rebuild *rb, const struct lock_stage *ls, const char *scratch,
		      struct rp_err *err)
{
	struct runner_out *outs = xcalloc(ls->nouts + 1, sizeof(*outs));
	char *prefix = xasprintf("rebuild %s", ls->name);
	char *wdir = xasprintf("%s/%s", scratch, ls->wdir);
	struct runner_job j = { ls->name, prefix, ls->cmds, ls->ncmds, wdir, scratch,
				outs, ls->nouts, 0 };
	int ret = copy_workspace(scratch, err);

	for (size_t i = 0; ret == 0 && i < ls->ndeps; i++)
		ret = place_dep(rb, ls, i, scratch, err);
	if (ret == 0)
		ret = place_params(rb, ls, scratch, err);
	/* every out is saved, and must be the lock's bytes */
	for (size_t k = 0; k < ls->nouts; k++)
		outs[k] = (struct runner_out){ ls->outs[k].path, 1, 0, ls->outs[k].oi.hash };
	if (ret == 0)
		ret = runner_job_run(rb->store, &j, rb->out, NULL, err);
	free(outs);
	free(prefix);
	free(wdir);
	return ret;
}

int rebuild_stage(struct rebuild *rb, size_t si, struct rp_err *err)
{
	const struct lock_stage *ls = rb->lock->stages[si];
	char *scratch;
	int ret;

	if (rb->state[si] == 1)
		return 0;
	if (rb->state[si] == 2)
		return rp_err_set(err, RP_ERR_IO, "cannot rebuild stage '%s': it depends on itself",
				  ls->name);
	rb->state[si] = 2;
	if (fs_mkdir_p(".rp/tmp", 0755, err) < 0)
		return -1;
	/* the scratch copies of rebuilds that were killed go first */
	fs_sweep_dead_temps(".rp/tmp", "rebuild-", '-');
	scratch = xasprintf(".rp/tmp/rebuild-%ld-XXXXXX", (long)getpid());
	if (!mkdtemp(scratch)) {
		rp_err_set(err, RP_ERR_IO, "cannot create a scratch directory under '.rp/tmp': %s",
			   strerror(errno));
		free(scratch);
		return -1;
	}
	fs_temp_register(scratch);
	if (rb->started)
		rb->started(rb->ctx, ls->name, scratch);
	ret = rebuild_in(rb, ls, scratch, err);
	if (ret == 0)
		rb->state[si] = 1;
	/* best effort: a scratch copy left here is swept by the next rebuild */
	(void)fs_remove_tree(scratch, NULL);
	fs_temp_forget(scratch);
	free(scratch);
	return ret;
}
