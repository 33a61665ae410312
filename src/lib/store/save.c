/*
 * save.c - writing objects (copy into tmp/, chmod, fsync, rename) and
 * placing them in the workspace as links or copies (design in store.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "store/store.h"
#include "store/internal.h"
#include "util/statid.h"
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


/* 1 when stats `a` and `b` show the same version of a file (util/statid). */
static int same_file_version(const struct stat *a, const struct stat *b)
{
	struct statid x, y;

	statid_of(&x, a);
	statid_of(&y, b);
	return statid_same(&x, &y);
}

/* ---- writing objects ---------------------------------------------------------- */

/*
 * Renames the finished temp `tmp` (fd still open) into place as object `obj`,
 * read-only: 0444, or 0400 when `private` (made from an owner-only file).
 */
static int finish_object(struct store *st, int fd, char *tmp, const char *obj,
			 int private, struct rp_err *err)
{
	if (fchmod(fd, private ? 0400 : 0444) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot chmod '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	/* no fsync here: store_sync() flushes every new object at once */
	if (close(fd) < 0) {
		fd = -1;
		rp_err_set(err, RP_ERR_IO, "cannot close '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	/*
	 * Never replace an object that another process put there meanwhile: its
	 * inode may be getting hardlinked into a workspace right now, and link(2)
	 * of an inode that a rename just unlinked fails with ENOENT. An object
	 * of that name already there is success (same name, same bytes).
	 */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, obj, RENAME_NOREPLACE) < 0) {
		if (errno == EINVAL || errno == ENOSYS) {
			/* a file system without RENAME_NOREPLACE: link(2) does not replace either */
			if (link(tmp, obj) < 0 && errno != EEXIST) {
				rp_err_set(err, RP_ERR_IO, "cannot link '%s' to '%s': %s", tmp, obj,
					   strerror(errno));
				goto fail;
			}
			unlink(tmp);
		} else if (errno == EEXIST) {
			unlink(tmp);
		} else {
			rp_err_set(err, RP_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, obj,
				   strerror(errno));
			goto fail;
		}
	}
	fs_temp_forget(tmp);
	store_note_written(st, obj);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	fs_temp_forget(tmp);
	return -1;
}

/* store_put_buf(), the object owner-only when `private`. */
static int put_buf(struct store *st, const void *data, size_t len, char hex[HASH_HEX],
		   int private, struct rp_err *err)
{
	char *obj, *tmp = NULL;
	int fd = -1, ret = -1;

	hash_buf(data, len, hex);
	obj = store_object_path(st, hex);
	if (store_object_exists(st, hex)) {
		ret = 0;
		goto out;
	}
	if (fs_mkdir_parent(obj, err) < 0)
		goto out;
	tmp = store_temp(st, &fd, 0, err);
	if (!tmp)
		goto out;
	if (fs_write_all(fd, data, len) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		fs_temp_forget(tmp);
		goto out;
	}
	ret = finish_object(st, fd, tmp, obj, private, err);
out:
	free(tmp);
	free(obj);
	return ret;
}

int store_put_buf(struct store *st, const void *data, size_t len, char hex[HASH_HEX],
		  struct rp_err *err)
{
	return put_buf(st, data, len, hex, 0, err);
}

/* Copies the workspace file f into its object unless that exists. */
static int save_file(struct store *st, const struct tfile *f, struct rp_err *err)
{
	char *obj = store_object_path(st, f->hex);
	char *tmp = NULL;
	struct stat sb;
	int srcfd = -1, fd = -1, ret = -1;

	if (store_object_exists(st, f->hex)) {
		ret = 0;
		goto out;
	}
	srcfd = open(f->full, O_RDONLY | O_CLOEXEC);
	if (srcfd < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s", f->full, strerror(errno));
		goto out;
	}
	if (fstat(srcfd, &sb) < 0 || !same_file_version(&sb, &f->st)) {
		rp_err_set(err, RP_ERR_IO, "'%s' changed while it was being saved", f->full);
		goto out;
	}
	if (fs_mkdir_parent(obj, err) < 0)
		goto out;
	tmp = store_temp(st, &fd, 0, err);
	if (!tmp)
		goto out;
	if (fs_copy_fd(srcfd, fd, 0) < 0) {
		/* named after the object: the temp's name means nothing to the user */
		rp_err_set(err, RP_ERR_IO, "cannot copy '%s' to '%s': %s",
			   f->full, obj, strerror(errno));
		close(fd);
		unlink(tmp);
		fs_temp_forget(tmp);
		goto out;
	}
	ret = finish_object(st, fd, tmp, obj, store_mode_private(store_norm_mode(f->st.st_mode)), err);
out:
	if (srcfd >= 0)
		close(srcfd);
	free(tmp);
	free(obj);
	return ret;
}

/* Whether a failed link/reflink just means "not possible here, try the next type". */
static int unsupported(int e)
{
	return e == EXDEV || e == EPERM || e == EMLINK || e == EOPNOTSUPP ||
	       e == ENOSYS || e == ENOTSUP || e == EINVAL;
}

/*
 * Creates `dst` (which must not exist) from object `obj` with link type
 * `type`; copies get `mode`, and are fsynced when `sync`. 0 on success, 1 if
 * the type is not possible here, -1 + err on failure.
 */
static int make_link(const char *obj, const char *dst, enum link_type type, mode_t mode,
		     int sync, struct rp_err *err)
{
	int srcfd, fd, ret = 0;
	char *abs;

	switch (type) {
	case LINK_REFLINK:
	case LINK_COPY:
		srcfd = open(obj, O_RDONLY | O_CLOEXEC);
		if (srcfd < 0)
			return rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s", obj, strerror(errno));
		fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			ret = rp_err_set(err, RP_ERR_IO, "cannot create '%s': %s", dst, strerror(errno));
			close(srcfd);
			return ret;
		}
		if (fs_copy_fd(srcfd, fd, type == LINK_REFLINK) < 0) {
			if (type == LINK_REFLINK)
				ret = 1;
			else
				ret = rp_err_set(err, RP_ERR_IO, "cannot copy '%s' to '%s': %s",
						 obj, dst, strerror(errno));
		} else if (fchmod(fd, mode) < 0) {
			ret = rp_err_set(err, RP_ERR_IO, "cannot chmod '%s': %s", dst, strerror(errno));
		} else if (sync && fsync(fd) < 0) {
			ret = rp_err_set(err, RP_ERR_IO, "cannot fsync '%s': %s", dst, strerror(errno));
		}
		if (close(fd) < 0 && !ret)
			ret = rp_err_set(err, RP_ERR_IO, "cannot close '%s': %s", dst, strerror(errno));
		close(srcfd);
		if (ret)
			unlink(dst);
		return ret;
	case LINK_HARDLINK:
		if (link(obj, dst) < 0) {
			if (unsupported(errno))
				return 1;
			return rp_err_set(err, RP_ERR_IO, "cannot link '%s' to '%s': %s",
					  dst, obj, strerror(errno));
		}
		return 0;
	case LINK_SYMLINK:
		abs = realpath(obj, NULL);
		if (!abs)
			return rp_err_set(err, RP_ERR_IO, "cannot resolve '%s': %s", obj, strerror(errno));
		if (symlink(abs, dst) < 0) {
			ret = unsupported(errno) ? 1 :
				rp_err_set(err, RP_ERR_IO, "cannot symlink '%s' to '%s': %s",
					   dst, abs, strerror(errno));
		}
		free(abs);
		return ret;
	}
	BUG("unknown link type %d", (int)type);
}

/* make_link() with each configured type in turn; -1 + err if none works. */
int store_materialize(const struct store *st, const char *obj, const char *dst,
		      const char *path, mode_t mode, int sync, struct rp_err *err)
{
	size_t i;

	for (i = 0; i < st->nlinks; i++) {
		int r = make_link(obj, dst, st->links[i], mode, sync, err);

		if (r <= 0)
			return r;
	}
	return rp_err_set(err, RP_ERR_IO,
			  "cannot check out '%s': none of the configured link types works here", path);
}

/* Replaces the workspace file f by a hardlink/symlink to its object, if so configured. */
static int relink_file(struct store *st, const struct tfile *f, struct rp_err *err)
{
	char *obj = store_object_path(st, f->hex);
	char *tmp = NULL;
	struct stat sb;
	size_t i;
	int ret = 0;

	for (i = 0; i < st->nlinks; i++) {
		enum link_type type = st->links[i];
		int r;

		if (type == LINK_REFLINK || type == LINK_COPY)
			break;  /* the workspace file is already a private copy */
		tmp = store_temp_name_for(st, f->full, err);
		if (!tmp) {
			ret = -1;
			break;
		}
		r = make_link(obj, tmp, type, 0, 0, err);
		if (r > 0) {
			fs_temp_forget(tmp);
			free(tmp);
			tmp = NULL;
			continue;
		}
		if (r < 0) {
			ret = -1;
			break;
		}
		if (rename(tmp, f->full) < 0) {
			ret = rp_err_set(err, RP_ERR_IO, "cannot rename '%s' to '%s': %s",
					 tmp, f->full, strerror(errno));
			unlink(tmp);
			break;
		}
		if (!stat(f->full, &sb))
			state_put(st->state, f->full, &sb, f->hex);
		break;
	}
	if (tmp) {
		fs_temp_forget(tmp);
		free(tmp);
	}
	free(obj);
	return ret;
}

/* A relinked file's new stat is recorded by relink_file(), so the memo stays true. */
int store_save(struct store *st, const char *path, const struct objinfo *oi,
	       int relink, struct rp_err *err)
{
	char *p = store_clean_path(path);
	struct tree t = { 0 };
	struct buf manifest = BUF_INIT;
	struct objinfo now;
	int isdir = 0, ret = -1;
	size_t i;

	if (store_collect(st, p, &isdir, &t, err) < 0)
		goto out;
	store_tree_info(&t, isdir, &now, &manifest);
	if (now.isdir != oi->isdir || strcmp(now.hash, oi->hash)) {
		rp_err_set(err, RP_ERR_IO, "'%s' changed since it was hashed", p);
		goto out;
	}
	for (i = 0; i < t.n; i++)
		if (save_file(st, &t.v[i], err) < 0)
			goto out;
	if (isdir) {
		char hex[HASH_HEX];
		int private = 0;

		/* the names of an owner-only file are no one else's business either */
		for (i = 0; i < t.n; i++)
			private |= store_mode_private(store_norm_mode(t.v[i].st.st_mode));
		if (put_buf(st, manifest.s, manifest.len, hex, private, err) < 0)
			goto out;
	}
	if (relink)
		for (i = 0; i < t.n; i++)
			if (relink_file(st, &t.v[i], err) < 0)
				goto out;
	ret = 0;
out:
	buf_release(&manifest);
	store_tree_release(&t);
	free(p);
	return ret;
}

