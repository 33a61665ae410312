/*
 * fs.h - file system helpers: atomic writes, directories, copies, links.
 *
 * fs_write_atomic() is the only way rp rewrites a file that must survive a
 * crash (rp.lock, config, store objects): temp file in the same directory,
 * write, fflush/fsync/fclose checked one by one, rename, fsync the directory.
 * Temp files are named ".<base>.tmp.<pid>.XXXXXX" and removed on failure, by
 * an atexit hook, and (when a kill left them) by the next atomic write of the
 * same file.
 *
 * Errors: the functions that can fail fill a struct rp_err (RP_ERR_IO) and
 * return -1 (or NULL); they print nothing. `err` may be NULL: the error is
 * then dropped (cleanup, best effort).
 */
#ifndef RP_FS_H
#define RP_FS_H

#include <stddef.h>
#include <sys/types.h>
#include "util/error.h"

/* Atomically replaces `path` with `len` bytes of `data`, mode 0644 & ~umask. 0 or -1 + err. */
int fs_write_atomic(const char *path, const void *data, size_t len, struct rp_err *err);
/*
 * As fs_write_atomic() (temp file and rename: readers never see half a
 * file, a killed process leaves the old or the new) but without the fsyncs:
 * durable against a power cut only after a later syncfs (store_sync()).
 */
int fs_write_replace(const char *path, const void *data, size_t len, struct rp_err *err);
/*
 * Writes what a stage program was asked to write (-o, --stats) at `path`.
 * A regular file, or a path that does not exist, is replaced atomically as by
 * fs_write_atomic() (a symlink to a file is replaced, never written through:
 * it may be a link into the store). Anything else is never replaced: a FIFO,
 * a character device (/dev/null, a terminal) or a link through /proc
 * (/dev/stdout, /dev/fd/N) is opened and written in place; a directory, a
 * socket or a block device is refused. 0 or -1 + err.
 */
int fs_write_output(const char *path, const void *data, size_t len, struct rp_err *err);
/* mkdir -p; 0 or -1 + err. */
int fs_mkdir_p(const char *path, mode_t mode, struct rp_err *err);
/* mkdir -p of the directory part of `path`; 0 or -1 + err. */
int fs_mkdir_parent(const char *path, struct rp_err *err);
/*
 * rm -rf; a missing path is success; 0 or -1 + err. Directories without
 * owner rwx are made accessible first (read-only trees of store objects).
 */
int fs_remove_tree(const char *path, struct rp_err *err);
/* Whether `path` exists (lstat). */
int fs_exists(const char *path);
/*
 * Maps the regular file `path` read-only, its pages populated at once: for
 * reading big caches without copying them out of the page cache. Returns the
 * bytes and their count in *len, or NULL (errno set; an empty file is NULL
 * with errno 0). Release with fs_unmap(). A file truncated while mapped
 * raises SIGBUS: only for rp's own files, which are replaced by rename.
 */
const char *fs_map(const char *path, size_t *len);
void fs_unmap(const char *data, size_t len);
/* fsync of the directory containing `path`: best effort, no errors. */
void fs_fsync_parent_quiet(const char *path);

/*
 * Makes `dst` a copy of `src`, sharing blocks when the file system supports
 * reflinks (FICLONE) and copying bytes otherwise; written through a temp file
 * and renamed, so `dst` is never half-written. `mode` is applied to dst.
 * `reflink_only` fails (errno EOPNOTSUPP) instead of copying.
 * 0 or -1 + err.
 */
int fs_clone_file(const char *src, const char *dst, mode_t mode, int reflink_only,
		  struct rp_err *err);

/*
 * Creates a unique temp file ".<base>.tmp.<pid>.XXXXXX" next to `path`,
 * registered for removal at exit; returns its path (caller frees) with an
 * open fd in *fd, or NULL + err.
 */
char *fs_temp_beside(const char *path, int *fd, struct rp_err *err);
/* Registers `path` (copied) for removal at exit; fs_temp_forget() when it was renamed. */
void fs_temp_register(const char *path);
void fs_temp_forget(const char *path);

/*
 * A lock file's holder: fs_lock_pid_write() writes this process's pid at
 * the start of the file `fd`, padded to a fixed width so that the file need
 * not be truncated first (an ftruncate cost as much as the rest of taking a
 * lock); fs_lock_pid_read() reads it back into pid[size] ("" if none).
 * The pid is only for messages: a failed write is ignored.
 */
void fs_lock_pid_write(int fd);
void fs_lock_pid_read(int fd, char *pid, size_t size);
/* Writes all `len` bytes to `fd`, again after EINTR; 0, or -1 with errno set. */
int fs_write_all(int fd, const void *data, size_t len);
/* 1 when no process `pid` exists (kill(pid, 0) fails with ESRCH), else 0. */
int fs_pid_is_gone(long pid);
/*
 * Removes the entries of `dir` named "<prefix><pid><sep>..." (files or whole
 * trees) whose process <pid> is gone: the temps a killed process left. The
 * entries of live pids and of this process stay. Best effort, no errors.
 */
void fs_sweep_dead_temps(const char *dir, const char *prefix, char sep);
/*
 * Creates a unique empty directory ".<base>.tmp.<pid>.XXXXXX" next to `path`,
 * registered for removal at exit (fs_temp_forget() once renamed). Returns its
 * path (caller frees), or NULL + err.
 */
char *fs_tempdir_beside(const char *path, struct rp_err *err);
/*
 * Copies all of `srcfd` (from offset 0) into `dstfd` (empty, offset 0):
 * FICLONE first, then copy_file_range, then read/write. With `reflink_only`
 * only FICLONE is tried. 0, or -1 with errno set (no message; EOPNOTSUPP when
 * a reflink is impossible).
 */
int fs_copy_fd(int srcfd, int dstfd, int reflink_only);

/* The process umask (read once and cached; not thread-safe on first call). */
mode_t fs_umask(void);

#endif
