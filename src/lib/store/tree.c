/*
 * tree.c - hashing a file or a directory into a tree of hashed files,
 * through the state cache (store/state.h); the manifest rules are in store.c.
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


/* ---- hashing ---------------------------------------------------------------- */

static void tree_add(struct tree *t, char *rel, char *full, const struct stat *sb)
{
	ALLOC_GROW(t->v, t->n + 1, t->alloc);
	t->v[t->n].rel = rel;
	t->v[t->n].full = full;
	t->v[t->n].st = *sb;
	t->v[t->n].hex[0] = '\0';
	t->n++;
}

/* Lists the regular files below top/rel into t (unsorted). */
static int walk(const char *top, const char *rel, struct tree *t, struct rp_err *err)
{
	char *dirpath = *rel ? xasprintf("%s/%s", top, rel) : xstrdup(top);
	DIR *d = opendir(dirpath);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		ret = rp_err_set(err, RP_ERR_IO, "cannot hash '%s': %s", dirpath, strerror(errno));
		free(dirpath);
		return ret;
	}
	while ((errno = 0, de = readdir(d))) {
		const char *name = de->d_name;
		struct stat sb;
		char *sub, *full;

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		full = xasprintf("%s/%s", dirpath, name);
		if (strchr(name, '\n')) {
			ret = rp_err_set(err, RP_ERR_IO,
					 "cannot hash '%s': file names with a newline are not supported", full);
			free(full);
			break;
		}
		/* a manifest naming one is refused on checkout: never make one */
		if (wspath_name_reserved(name, strlen(name))) {
			ret = rp_err_set(err, RP_ERR_INPUT,
					 "cannot hash '%s': rp never stores or restores a '.git' or "
					 "'.rp' (in any letter case); keep it out of the directory", full);
			free(full);
			break;
		}
		if (fstatat(dirfd(d), name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = rp_err_set(err, RP_ERR_IO, "cannot hash '%s': %s", full, strerror(errno));
			free(full);
			break;
		}
		if (S_ISLNK(sb.st_mode)) {
			if (stat(full, &sb) < 0) {
				ret = rp_err_set(err, RP_ERR_IO, "cannot hash '%s': %s",
						 full, strerror(errno));
				free(full);
				break;
			}
			if (S_ISDIR(sb.st_mode)) {
				ret = rp_err_set(err, RP_ERR_IO,
						 "cannot hash '%s': symlinks to directories are not followed",
						 full);
				free(full);
				break;
			}
			/* a workspace path must not read outside the workspace through a link */
			if (full[0] != '/') {
				char *root = realpath(".", NULL), *target = NULL, *bad = NULL;

				if (root)
					bad = wspath_link_outside(root, full, 0, 1, &target);
				if (bad)
					ret = rp_err_set(err, RP_ERR_INPUT,
							 "cannot hash '%s': the symlink '%s' leads outside the "
							 "workspace (to '%s'); copy the file in instead", full,
							 bad, target ? target : "?");
				free(bad);
				free(target);
				free(root);
				if (ret < 0) {
					free(full);
					break;
				}
			}
		}
		sub = *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
		if (S_ISDIR(sb.st_mode)) {
			ret = walk(top, sub, t, err);
			free(sub);
			free(full);
			if (ret < 0)
				break;
		} else if (S_ISREG(sb.st_mode)) {
			tree_add(t, sub, full, &sb);
		} else {
			ret = rp_err_set(err, RP_ERR_IO,
					 "cannot hash '%s': not a regular file or directory", full);
			free(sub);
			free(full);
			break;
		}
	}
	if (!de && errno && !ret)
		ret = rp_err_set(err, RP_ERR_IO, "cannot read directory '%s': %s",
				 dirpath, strerror(errno));
	closedir(d);
	free(dirpath);
	return ret;
}

static int cmp_rel(const void *a, const void *b)
{
	return strcmp(((const struct tfile *)a)->rel, ((const struct tfile *)b)->rel);
}

/*
 * Lists `path` (a file, or a directory's files sorted by relative path) into
 * t and fills every hex: from the state when it vouches, otherwise by
 * hashing the misses on many threads and recording them in the state.
 */
int store_collect(struct store *st, const char *path, int *isdir, struct tree *t,
		  struct rp_err *err)
{
	const char **miss = NULL;
	size_t *idx = NULL;
	char (*hexes)[HASH_HEX] = NULL;
	size_t i, nmiss = 0;
	struct stat sb;
	int ret = -1;

	if (stat(path, &sb) < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot hash '%s': %s", path, strerror(errno));
	if (S_ISREG(sb.st_mode)) {
		*isdir = 0;
		tree_add(t, xstrdup(""), xstrdup(path), &sb);
	} else if (S_ISDIR(sb.st_mode)) {
		*isdir = 1;
		if (walk(path, "", t, err) < 0)
			return -1;
		qsort(t->v, t->n, sizeof(*t->v), cmp_rel);
	} else {
		return rp_err_set(err, RP_ERR_IO, "cannot hash '%s': not a regular file or directory",
				  path);
	}

	miss = xcalloc(t->n, sizeof(*miss));
	idx = xcalloc(t->n, sizeof(*idx));
	for (i = 0; i < t->n; i++) {
		/* an out hashed a moment ago is racy, but not to be read twice in a run */
		const char *h = state_get_current(st->state, t->v[i].full, &t->v[i].st);

		if (h) {
			memcpy(t->v[i].hex, h, HASH_HEX);
		} else {
			miss[nmiss] = t->v[i].full;
			idx[nmiss++] = i;
		}
	}
	if (nmiss) {
		hexes = xcalloc(nmiss, sizeof(*hexes));
		if (hash_files(miss, nmiss, hexes, st->nthreads, err) < 0)
			goto out;
		for (i = 0; i < nmiss; i++) {
			struct tfile *f = &t->v[idx[i]];

			memcpy(f->hex, hexes[i], HASH_HEX);
			state_put(st->state, f->full, &f->st, f->hex);
		}
	}
	ret = 0;
out:
	free(hexes);
	free(idx);
	free(miss);
	return ret;
}

/* Strips trailing slashes ("out/" and "out" are one path); the caller frees. */
char *store_clean_path(const char *path)
{
	char *p = xstrdup(path);
	size_t len = strlen(p);

	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	return p;
}

/* Fills oi from a collected tree; `manifest` (if non-NULL) gets the manifest text. */
void store_tree_info(const struct tree *t, int isdir, struct objinfo *oi, struct buf *manifest)
{
	size_t i;

	memset(oi, 0, sizeof(*oi));
	oi->isdir = isdir;
	if (!isdir) {
		memcpy(oi->hash, t->v[0].hex, HASH_HEX);
		oi->size = (uint64_t)t->v[0].st.st_size;
		return;
	}
	store_manifest_text(t, manifest);
	hash_buf(manifest->s, manifest->len, oi->hash);
	for (i = 0; i < t->n; i++)
		oi->size += (uint64_t)t->v[i].st.st_size;
	oi->nfiles = t->n;
}

/* The memo is the state's confirmations (state.h); these only name them for callers. */
void store_memo_enable(struct store *st)
{
	state_track(st->state);
}

void store_memo_clear(struct store *st)
{
	state_next_generation(st->state);
}

void store_memo_stat(void *store, const char *path, const struct stat *sb)
{
	struct store *st = store;

	(void)state_get(st->state, path, sb);   /* a match confirms it, when tracking */
}

int store_hash_path(struct store *st, const char *path, struct objinfo *oi, struct rp_err *err)
{
	char *p = store_clean_path(path);
	struct tree t = { 0 };
	struct buf manifest = BUF_INIT;
	const char *seen;
	int64_t size;
	int isdir = 0, ret;

	/* a file confirmed by a stat since the workspace last changed */
	if ((seen = state_get_seen(st->state, p, &size))) {
		memset(oi, 0, sizeof(*oi));
		memcpy(oi->hash, seen, HASH_HEX);
		oi->size = (uint64_t)size;
		free(p);
		return 0;
	}
	ret = store_collect(st, p, &isdir, &t, err);
	if (!ret)
		store_tree_info(&t, isdir, oi, &manifest);
	buf_release(&manifest);
	store_tree_release(&t);
	free(p);
	return ret;
}

