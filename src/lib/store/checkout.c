/*
 * checkout.c - checkout: building a file or a directory in tmp/, hashing
 * what was built, and renaming it into place (design in store.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "store/store.h"
#include "store/internal.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/wspath.h"
#include "store/state.h"

#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* ---- checkout ------------------------------------------------------------------ */

/* Renames `tmp` to `path`, moving whatever is at `path` aside first if needed. */
static int replace_path(struct store *st, const char *tmp, const char *path,
			struct rp_err *err)
{
	struct stat sb, tsb;
	char *trash;

	if (lstat(path, &sb) < 0) {
		if (errno != ENOENT)
			return rp_err_set(err, RP_ERR_IO, "cannot check out '%s': %s",
					  path, strerror(errno));
	} else if (S_ISDIR(sb.st_mode) || (!lstat(tmp, &tsb) && S_ISDIR(tsb.st_mode))) {
		trash = store_temp_name_for(st, path, err);
		if (!trash)
			return -1;
		if (rename(path, trash) < 0) {
			rp_err_set(err, RP_ERR_IO, "cannot rename '%s' to '%s': %s",
				   path, trash, strerror(errno));
			fs_temp_forget(trash);
			free(trash);
			return -1;
		}
		if (rename(tmp, path) < 0) {
			rp_err_set(err, RP_ERR_IO, "cannot rename '%s' to '%s': %s",
				   tmp, path, strerror(errno));
			rename(trash, path);
			fs_temp_forget(trash);
			free(trash);
			return -1;
		}
		/* a leftover stays registered and is removed at exit */
		if (!fs_remove_tree(trash, NULL))
			fs_temp_forget(trash);
		free(trash);
		fs_fsync_parent_quiet(path);
		return 0;
	}
	if (rename(tmp, path) < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot rename '%s' to '%s': %s",
				  tmp, path, strerror(errno));
	fs_fsync_parent_quiet(path);
	return 0;
}

/* A checkout built and verified beside its path, not yet renamed into place. */
struct store_staged {
	char *tmp;              /* the built file or directory */
	char *path;             /* where it goes */
	struct objinfo oi;
	struct manifest m;      /* a directory's files, for the state cache */
};

/* Builds and verifies a file object beside `path` into s->tmp. */
static int stage_file(struct store *st, struct store_staged *s, struct rp_err *err)
{
	char *obj = store_object_path(st, s->oi.hash);
	char actual[HASH_HEX];
	struct stat sb;
	int ret = -1;

	if (lstat(obj, &sb) < 0) {
		if (errno == ENOENT)
			store_missing_err(err, s->oi.hash, s->path);
		else
			rp_err_set(err, RP_ERR_IO, "cannot stat '%s': %s", obj, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rp_err_set(err, RP_ERR_IO, "object %s for '%s' is not a regular file", s->oi.hash,
			   s->path);
		goto out;
	}
	if (fs_mkdir_parent(s->path, err) < 0)
		goto out;
	s->tmp = store_temp_name_for(st, s->path, err);
	if (!s->tmp)
		goto out;
	/* an owner-only object (saved from an owner-only file) stays owner-only */
	if (store_materialize(st, obj, s->tmp, s->path, (sb.st_mode & 0044) == 0044 ? 0644 : 0600,
			0, err) < 0)
		goto out;
	if (hash_file(s->tmp, actual, err) < 0)
		goto out;
	if (strcmp(actual, s->oi.hash)) {
		store_corrupt_err(err, s->oi.hash, s->path, actual);
		goto out;
	}
	ret = 0;
out:
	free(obj);
	return ret;
}

/* Builds and verifies a directory object beside `path` into s->tmp. */
static int stage_dir(struct store *st, struct store_staged *s, struct rp_err *err)
{
	struct manifest *m = &s->m;
	const char *path = s->path;
	char *lastdir = NULL;
	char **dsts = NULL;
	char (*hexes)[HASH_HEX] = NULL;
	size_t i, ndst = 0;
	mode_t dirmode = 0777;
	int fd, ret = -1;

	if (store_read_manifest(st, s->oi.hash, path, 1, m, err) < 0)
		return -1;
	for (i = 0; i < m->n; i++) {
		char *obj = store_object_path(st, m->v[i].hex);
		struct stat sb;
		int r = lstat(obj, &sb);

		free(obj);
		if (r < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != m->v[i].size) {
			char *fp = xasprintf("%s/%s", path, m->v[i].rel);

			if (r < 0)
				store_missing_err(err, m->v[i].hex, fp);
			else
				rp_err_set(err, RP_ERR_IO, "manifest %s says '%s' (%s) has %llu bytes, "
					   "but its object is not a regular file of that size; run 'rp "
					   "cache verify --repair', then 'rp repro' or 'rp checkout "
					   "--rebuild' to make it again", s->oi.hash, fp, m->v[i].hex,
					   (unsigned long long)m->v[i].size);
			free(fp);
			goto out;
		}
		if (store_mode_private(m->v[i].mode))
			dirmode = 0700;
	}
	if (fs_mkdir_parent(path, err) < 0)
		goto out;
	s->tmp = store_tempdir_for(st, path, err);
	if (!s->tmp)
		goto out;
	if (chmod(s->tmp, dirmode & ~fs_umask()) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot chmod '%s': %s", s->tmp, strerror(errno));
		goto out;
	}

	dsts = xcalloc(m->n ? m->n : 1, sizeof(*dsts));
	for (i = 0; i < m->n; i++) {
		char *obj = store_object_path(st, m->v[i].hex);
		char *dst = xasprintf("%s/%s", s->tmp, m->v[i].rel);
		char *slash = strrchr(dst, '/');
		int r;

		dsts[ndst++] = dst;
		*slash = '\0';
		if (!lastdir || strcmp(lastdir, dst)) {
			free(lastdir);
			lastdir = xstrdup(dst);
			if (fs_mkdir_p(dst, dirmode, err) < 0) {
				*slash = '/';
				free(obj);
				goto out;
			}
		}
		*slash = '/';
		r = store_materialize(st, obj, dst, path, (mode_t)m->v[i].mode, 0, err);
		free(obj);
		if (r < 0)
			goto out;
	}

	/* one flush for every file instead of an fsync each */
	fd = open(s->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		syncfs(fd);
		close(fd);
	}

	hexes = xcalloc(ndst ? ndst : 1, sizeof(*hexes));
	if (hash_files((const char *const *)dsts, ndst, hexes, st->nthreads, err) < 0)
		goto out;
	for (i = 0; i < m->n; i++) {
		if (strcmp(hexes[i], m->v[i].hex)) {
			char *fp = xasprintf("%s/%s", path, m->v[i].rel);

			store_corrupt_err(err, m->v[i].hex, fp, hexes[i]);
			free(fp);
			goto out;
		}
	}
	ret = 0;
out:
	for (i = 0; i < ndst; i++)
		free(dsts[i]);
	free(dsts);
	free(hexes);
	free(lastdir);
	return ret;
}

void store_checkout_abort(struct store_staged *s)
{
	if (!s)
		return;
	if (s->tmp) {
		fs_remove_tree(s->tmp, NULL);
		fs_temp_forget(s->tmp);
		free(s->tmp);
	}
	free(s->path);
	store_manifest_release(&s->m);
	free(s);
}

struct store_staged *store_checkout_prepare(struct store *st, const struct objinfo *oi,
					    const char *path, struct rp_err *err)
{
	struct store_staged *s;

	if (!hash_is_hex(oi->hash)) {
		rp_err_set(err, RP_ERR_IO, "cannot check out '%s': '%s' is not a sha256 digest",
			   path, oi->hash);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->path = store_clean_path(path);
	s->oi = *oi;
	if ((oi->isdir ? stage_dir(st, s, err) : stage_file(st, s, err)) < 0) {
		store_checkout_abort(s);
		return NULL;
	}
	return s;
}

int store_checkout_commit(struct store *st, struct store_staged *s, struct rp_err *err)
{
	struct stat sb;
	int ret = -1;

	store_memo_clear(st);
	if (replace_path(st, s->tmp, s->path, err) < 0)
		goto out;
	fs_temp_forget(s->tmp);
	free(s->tmp);
	s->tmp = NULL;
	if (!s->oi.isdir) {
		if (!stat(s->path, &sb))
			state_put(st->state, s->path, &sb, s->oi.hash);
	} else {
		for (size_t i = 0; i < s->m.n; i++) {
			char *fp = xasprintf("%s/%s", s->path, s->m.v[i].rel);

			if (!stat(fp, &sb))
				state_put(st->state, fp, &sb, s->m.v[i].hex);
			free(fp);
		}
	}
	ret = 0;
out:
	store_checkout_abort(s);
	return ret;
}

int store_checkout(struct store *st, const struct objinfo *oi, const char *path,
		   struct rp_err *err)
{
	struct store_staged *s = store_checkout_prepare(st, oi, path, err);

	if (!s)
		return -1;
	return store_checkout_commit(st, s, err);
}

int store_verify_object(const struct store *st, const char *hex, char actual[HASH_HEX],
			struct rp_err *err)
{
	char *obj;
	char got[HASH_HEX];
	struct rp_err herr;
	int ret = 0;

	if (actual)
		actual[0] = '\0';
	if (!hash_is_hex(hex))
		return rp_err_set(err, RP_ERR_IO, "'%s' is not a sha256 hex digest", hex);
	obj = store_object_path(st, hex);
	if (!store_object_exists(st, hex))
		ret = store_missing_err(err, hex, NULL);
	else if (hash_file(obj, got, &herr) < 0)
		ret = rp_err_set(err, RP_ERR_IO, "%s", herr.msg);
	else if (strcmp(got, hex)) {
		if (actual)
			memcpy(actual, got, HASH_HEX);
		ret = store_corrupt_err(err, hex, NULL, got);
	}
	free(obj);
	return ret;
}

