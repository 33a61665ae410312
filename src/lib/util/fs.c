/*
 * fs.c - file system helpers: atomic writes, mkdir -p, rm -rf, clones.
 *
 * Atomic replacement (fs_write_atomic, fs_clone_file): the new bytes go to a
 * temp file ".<base>.tmp.<pid>.XXXXXX" in the target's directory (so
 * rename() stays on one file system), are flushed and fsynced, then renamed
 * over the target; finally the directory is fsynced so the rename itself
 * survives a crash. A reader sees either the old file or the new one, never a
 * mix. A process killed mid-write (no atexit hook runs) leaves its temp; the
 * next atomic write of the same file removes the temps whose <pid> is gone.
 *
 * A stage program's output (fs_write_output) goes the same way when it is a
 * regular file or absent; a FIFO, a character device or a /proc descriptor
 * link the user named (-o /dev/null, -o /dev/stdout) is written in place, as
 * a shell redirection would, because renaming over it would replace the
 * device node or the link with a regular file.
 *
 * Temp paths are kept in a registry (a plain array, not thread-safe) from
 * creation until they are renamed (fs_temp_forget) or unlinked; an atexit
 * hook removes whatever is still registered, so an error path or an exit()
 * in the middle of a write leaves no ".tmp." litter behind.
 *
 * Invariant: every temp file or directory this module creates is either
 * registered, renamed into place, or already removed.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "util/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#define COPY_BLOCK (1 << 20)

/* ---- temp registry ---------------------------------------------------- */

static char **temps;
static size_t ntemps, temps_alloc;
static int atexit_registered;

static int remove_tree(const char *path, struct rp_err *err);

static void remove_temps_at_exit(void)
{
	size_t i;

	for (i = 0; i < ntemps; i++) {
		struct stat st;

		if (!lstat(temps[i], &st)) {
			if (S_ISDIR(st.st_mode))
				remove_tree(temps[i], NULL);
			else
				unlink(temps[i]);
		}
		free(temps[i]);
	}
	free(temps);
	temps = NULL;
	ntemps = temps_alloc = 0;
}

void fs_temp_register(const char *path)
{
	if (!atexit_registered) {
		atexit(remove_temps_at_exit);
		atexit_registered = 1;
	}
	ALLOC_GROW(temps, ntemps + 1, temps_alloc);
	temps[ntemps++] = xstrdup(path);
}

void fs_temp_forget(const char *path)
{
	size_t i;

	for (i = ntemps; i-- > 0; ) {
		if (!strcmp(temps[i], path)) {
			free(temps[i]);
			temps[i] = temps[--ntemps];
			return;
		}
	}
}

/* Unlinks a registered temp file and forgets it; keeps errno. */
static void drop_temp(const char *path)
{
	int e = errno;

	unlink(path);
	fs_temp_forget(path);
	errno = e;
}

/* ---- paths -------------------------------------------------------------- */

/* Splits `path` into a newly allocated directory ("." if none) and its base (borrowed). */
static char *split_dir(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*base = path;
		return xstrdup(".");
	}
	*base = slash + 1;
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

/* The template ".<base>.tmp.<pid>.XXXXXX" beside `path`; the caller frees. */
static char *temp_template(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	int baselen = (int)strlen(base);

	if (baselen > 200)  /* stay under NAME_MAX */
		baselen = 200;
	return xasprintf("%.*s.%.*s.tmp.%ld.XXXXXX", dirlen, path, baselen, base,
			 (long)getpid());
}

void fs_lock_pid_write(int fd)
{
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%-20ld\n", (long)getpid());

	if (pwrite(fd, pid, (size_t)n, 0) < 0) {
		/* the pid is only for messages */
	}
}

void fs_lock_pid_read(int fd, char *pid, size_t size)
{
	ssize_t n = pread(fd, pid, size - 1, 0);

	pid[n > 0 ? n : 0] = '\0';
	pid[strcspn(pid, " \n")] = '\0';
}

int fs_pid_is_gone(long pid)
{
	return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

void fs_sweep_dead_temps(const char *dir, const char *prefix, char sep)
{
	size_t plen = strlen(prefix);
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char *end, *p;
		long pid;

		if (strncmp(de->d_name, prefix, plen))
			continue;
		pid = strtol(de->d_name + plen, &end, 10);
		if (end == de->d_name + plen || *end != sep || pid == (long)getpid() ||
		    !fs_pid_is_gone(pid))
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		(void)fs_remove_tree(p, NULL);
		free(p);
	}
	if (d)
		closedir(d);
}

/*
 * Removes the temp files of `path` (".<base>.tmp.<pid>.XXXXXX" beside it)
 * that a process that is gone left behind: it was killed mid-write. A live
 * pid's temp (another process writing the same file) is left alone.
 */
static void sweep_stale_temps(const char *path)
{
	const char *base;
	char *dir = split_dir(path, &base);
	char *prefix = xasprintf(".%.200s.tmp.", base);

	fs_sweep_dead_temps(dir, prefix, '.');
	free(prefix);
	free(dir);
}

char *fs_temp_beside(const char *path, int *fd, struct rp_err *err)
{
	char *tmp = temp_template(path);

	*fd = mkostemp(tmp, O_CLOEXEC);
	if (*fd < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot create temp file '%s': %s", tmp, strerror(errno));
		free(tmp);
		return NULL;
	}
	fs_temp_register(tmp);
	return tmp;
}

char *fs_tempdir_beside(const char *path, struct rp_err *err)
{
	char *tmp = temp_template(path);

	if (!mkdtemp(tmp)) {
		rp_err_set(err, RP_ERR_IO, "cannot create temp directory '%s': %s", tmp, strerror(errno));
		free(tmp);
		return NULL;
	}
	fs_temp_register(tmp);
	return tmp;
}

int fs_exists(const char *path)
{
	struct stat st;

	return !lstat(path, &st);
}

const char *fs_map(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	void *p;

	*len = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0) {
		close(fd);
		errno = 0;
		return NULL;
	}
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	*len = (size_t)sb.st_size;
	return p;
}

void fs_unmap(const char *data, size_t len)
{
	if (data)
		munmap((void *)data, len);
}

void fs_fsync_parent_quiet(const char *path)
{
	const char *base;
	char *dir = split_dir(path, &base);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

/* ---- mkdir -p / rm -rf -------------------------------------------------- */

int fs_mkdir_p(const char *path, mode_t mode, struct rp_err *err)
{
	struct stat st;
	char *p, *slash;
	int ret = 0;

	if (!*path)
		return 0;
	/* the common case costs one call: the directory is there already */
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		return rp_err_set(err, RP_ERR_IO, "cannot create directory '%s': %s",
				  path, strerror(ENOTDIR));
	}
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		goto check;
	if (errno != ENOENT)
		return rp_err_set(err, RP_ERR_IO, "cannot create directory '%s': %s",
				  path, strerror(errno));
	/* a parent is missing: make it, then this one */
	p = xstrdup(path);
	while ((slash = strrchr(p, '/')) && slash[1] == '\0')
		*slash = '\0';
	slash = strrchr(p, '/');
	if (slash && slash != p) {
		*slash = '\0';
		ret = fs_mkdir_p(p, mode, err);
	}
	free(p);
	if (ret < 0)
		return ret;
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return rp_err_set(err, RP_ERR_IO, "cannot create directory '%s': %s",
				  path, strerror(errno));
check:
	if (stat(path, &st) < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot create directory '%s': %s",
				  path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return rp_err_set(err, RP_ERR_IO, "cannot create directory '%s': %s",
				  path, strerror(ENOTDIR));
	return 0;
}

int fs_mkdir_parent(const char *path, struct rp_err *err)
{
	const char *base;
	char *dir = split_dir(path, &base);
	int ret = fs_mkdir_p(dir, 0777, err);

	free(dir);
	return ret;
}

/*
 * rm -rf `path`; `err` may be NULL (the atexit hook). Directories without
 * owner rwx are made accessible first, so read-only trees (hardlinked
 * objects, checked-out read-only dirs) can be removed.
 */
static int remove_tree(const char *path, struct rp_err *err)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int ret = 0;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return rp_err_set(err, RP_ERR_IO, "cannot remove '%s': %s", path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlink(path) < 0 && errno != ENOENT)
			return rp_err_set(err, RP_ERR_IO, "cannot remove '%s': %s",
					  path, strerror(errno));
		return 0;
	}
	if ((st.st_mode & S_IRWXU) != S_IRWXU)
		chmod(path, (st.st_mode & 07777) | S_IRWXU);
	d = opendir(path);
	if (!d)
		return rp_err_set(err, RP_ERR_IO, "cannot open directory '%s': %s",
				  path, strerror(errno));
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *sub = xasprintf("%s/%s", path, de->d_name);
		ret = remove_tree(sub, err);
		free(sub);
		if (ret < 0)
			break;
	}
	if (!de && errno && !ret)
		ret = rp_err_set(err, RP_ERR_IO, "cannot read directory '%s': %s",
				 path, strerror(errno));
	closedir(d);
	if (!ret && rmdir(path) < 0 && errno != ENOENT)
		ret = rp_err_set(err, RP_ERR_IO, "cannot remove directory '%s': %s",
				 path, strerror(errno));
	return ret;
}

int fs_remove_tree(const char *path, struct rp_err *err)
{
	return remove_tree(path, err);
}

/* ---- atomic writes -------------------------------------------------------- */

/* The process umask, read once (umask() can only be read by setting it). */
static mode_t current_umask(void)
{
	static int known;
	static mode_t mask;

	if (!known) {
		mask = umask(022);
		umask(mask);
		known = 1;
	}
	return mask;
}

mode_t fs_umask(void)
{
	return current_umask();
}

static int write_replace(const char *path, const void *data, size_t len, int durable,
			 struct rp_err *err)
{
	int fd;
	char *tmp = fs_temp_beside(path, &fd, err);
	FILE *fp;
	int ret = -1;

	if (!tmp)
		return -1;
	if (fchmod(fd, 0644 & ~current_umask()) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot chmod '%s': %s", tmp, strerror(errno));
		close(fd);
		goto fail;
	}
	fp = fdopen(fd, "wb");
	if (!fp) {
		rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s", tmp, strerror(errno));
		close(fd);
		goto fail;
	}
	if (len && fwrite(data, 1, len, fp) != len) {
		rp_err_set(err, RP_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
		fclose(fp);
		goto fail;
	}
	if (fflush(fp) != 0) {
		rp_err_set(err, RP_ERR_IO, "cannot flush '%s': %s", tmp, strerror(errno));
		fclose(fp);
		goto fail;
	}
	if (durable && fsync(fileno(fp)) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot fsync '%s': %s", tmp, strerror(errno));
		fclose(fp);
		goto fail;
	}
	if (fclose(fp) != 0) {
		rp_err_set(err, RP_ERR_IO, "cannot close '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot rename '%s' to '%s': %s",
			   tmp, path, strerror(errno));
		goto fail;
	}
	fs_temp_forget(tmp);
	if (durable)
		fs_fsync_parent_quiet(path);
	sweep_stale_temps(path);
	ret = 0;
	goto out;
fail:
	drop_temp(tmp);
out:
	free(tmp);
	return ret;
}

int fs_write_atomic(const char *path, const void *data, size_t len, struct rp_err *err)
{
	return write_replace(path, data, len, 1, err);
}

int fs_write_replace(const char *path, const void *data, size_t len, struct rp_err *err)
{
	return write_replace(path, data, len, 0, err);
}

/* ---- stage outputs: replace a file, never a device -------------------------- */

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Whether the link `path` leads through /proc (/dev/stdout -> /proc/self/fd/1,
 * /dev/fd/N): a file descriptor of the caller, to be written, not replaced.
 */
static int through_proc(const char *path)
{
	char *cur = xstrdup(path);
	int ret = 0;

	for (int hop = 0; hop < 16 && !ret; hop++) {
		const char *base;
		char *dir = split_dir(cur, &base), *real = realpath(dir, NULL), *next;
		char target[PATH_MAX];
		ssize_t n;

		ret = real && !strncmp(real, "/proc/", 6);
		n = ret ? -1 : readlink(cur, target, sizeof(target) - 1);
		if (n < 0) {
			free(real);
			free(dir);
			break;
		}
		target[n] = '\0';
		next = target[0] == '/' ? xstrdup(target) : xasprintf("%s/%s", real ? real : dir, target);
		free(real);
		free(dir);
		free(cur);
		cur = next;
	}
	free(cur);
	return ret;
}

int fs_write_output(const char *path, const void *data, size_t len, struct rp_err *err)
{
	struct stat lst, st;
	int fd;

	if (lstat(path, &lst) < 0 || stat(path, &st) < 0 ||
	    (S_ISREG(st.st_mode) && !(S_ISLNK(lst.st_mode) && through_proc(path))))
		return write_replace(path, data, len, 1, err);
	if (S_ISDIR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISSOCK(st.st_mode))
		return rp_err_set(err, RP_ERR_IO, "cannot write '%s': it is %s, not a file; name a "
				  "file, or a pipe or character device to write in place", path,
				  S_ISDIR(st.st_mode) ? "a directory" : S_ISBLK(st.st_mode) ?
				  "a block device" : "a socket");
	/* a FIFO, a character device (/dev/null, a terminal) or a descriptor link */
	fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC | (S_ISREG(st.st_mode) ? O_TRUNC : 0));
	if (fd < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot open '%s' for writing: %s", path, strerror(errno));
	if (fs_write_all(fd, data, len) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot close '%s': %s", path, strerror(errno));
	return 0;
}

/* ---- copies and clones ------------------------------------------------------ */

static int copy_read_write(int srcfd, int dstfd)
{
	char *block = xmalloc(COPY_BLOCK);
	int ret = 0;

	for (;;) {
		ssize_t n = read(srcfd, block, COPY_BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -1 : 0;
			break;
		}
		if (fs_write_all(dstfd, block, (size_t)n) < 0) {
			ret = -1;
			break;
		}
	}
	free(block);
	return ret;
}

int fs_copy_fd(int srcfd, int dstfd, int reflink_only)
{
	ssize_t n;
	int first = 1;

	if (ioctl(dstfd, FICLONE, srcfd) == 0)
		return 0;
	if (reflink_only) {
		errno = EOPNOTSUPP;
		return -1;
	}
	for (;;) {
		n = copy_file_range(srcfd, NULL, dstfd, NULL, COPY_BLOCK * 64, 0);
		if (n > 0) {
			first = 0;
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (first && (errno == ENOSYS || errno == EXDEV || errno == EINVAL ||
			      errno == EOPNOTSUPP || errno == EBADF || errno == EPERM))
			break;
		return -1;
	}
	return copy_read_write(srcfd, dstfd);
}

int fs_clone_file(const char *src, const char *dst, mode_t mode, int reflink_only,
		  struct rp_err *err)
{
	int srcfd, dstfd;
	char *tmp = NULL;
	int ret = -1;

	srcfd = open(src, O_RDONLY | O_CLOEXEC);
	if (srcfd < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s", src, strerror(errno));
	tmp = fs_temp_beside(dst, &dstfd, err);
	if (!tmp)
		goto out;
	if (fs_copy_fd(srcfd, dstfd, reflink_only) < 0) {
		if (reflink_only) {
			close(dstfd);
			drop_temp(tmp);
			rp_err_set(err, RP_ERR_IO, "cannot clone '%s': %s", src, strerror(EOPNOTSUPP));
			errno = EOPNOTSUPP;
			goto out;
		}
		rp_err_set(err, RP_ERR_IO, "cannot copy '%s' to '%s': %s", src, tmp, strerror(errno));
		goto fail;
	}
	if (fchmod(dstfd, mode) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot chmod '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (fsync(dstfd) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot fsync '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(dstfd) < 0) {
		dstfd = -1;
		rp_err_set(err, RP_ERR_IO, "cannot close '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	dstfd = -1;
	if (rename(tmp, dst) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, dst, strerror(errno));
		goto fail;
	}
	fs_temp_forget(tmp);
	fs_fsync_parent_quiet(dst);
	ret = 0;
	goto out;
fail:
	if (dstfd >= 0)
		close(dstfd);
	drop_temp(tmp);
out:
	{
		int e = errno;
		free(tmp);
		close(srcfd);
		errno = e;
	}
	return ret;
}
