/*
 * store.c - the content-addressed store under .rp/cache: the design of the
 * store's modules (see internal.h for which file holds what), and opening,
 * temp files, syncing and walking the objects.
 *
 * Layout under the root (".rp/cache"):
 *     objects/<2 hex>/<62 hex>   file bytes, or a directory manifest, mode 0444
 *                                (0400 when made from an owner-only file)
 *     runs.db                    the run-cache (runcache.c)
 *     runs/<2 hex>/<62 hex>      run-cache entries of earlier rp versions (still read)
 *     tmp/<pid>-<6 random>       temp files and directories of the process <pid>
 *
 * A directory's manifest has one line per regular file below it, sorted
 * bytewise (strcmp) by relative path:
 *     <sha256 hex> <size> <mode> <relative/path>\n
 * <mode> is octal, "644" or "755" (755 when the owner may execute), or
 * "600" and "700" when group or others may not read the file (an output
 * made under umask 077). It is normalised like git's instead of being
 * st_mode & 0777, so the hash does not change with a umask that only takes
 * write bits (022, 002) nor when files are relinked read-only. Empty
 * directories are not recorded; a symlink to a file counts as the file it
 * points to; a symlink to a directory below the top is refused, and so are
 * names containing a newline and names that rp never stores (.git, .rp in
 * any letter case: wspath_name_reserved()). The directory's hash is the SHA-256
 * of the manifest text, which is stored as an object of that name.
 *
 * A manifest read from the store is untrusted (a shared or copied store):
 * manifest_parse() takes only the exact form written here: 64 lowercase hex,
 * a decimal size without leading zeros, one of the four modes, a relative
 * path with no empty, ".", ".." or reserved component, paths strictly
 * increasing and none inside another; checkout also refuses a size that
 * differs from its object's. So checkout never creates a set-uid, set-gid,
 * sticky, group- or world-writable file, nor one outside the directory.
 *
 * Modes: an object is 0444, or 0400 when the file it was first saved from
 * was not readable by both group and others; a file checked out alone gets
 * 0644, or 0600 from an owner-only object; a directory's files get their
 * manifest mode and its directories 0777 & ~umask, or 0700 & ~umask when any
 * file in it is owner-only. A checkout is never more permissive than what
 * was saved.
 *
 * Writing an object: the bytes are copied (reflink when possible) into a
 * temp file in tmp/, chmod 0444, fsync, rename; an object that
 * already exists is left alone. The bytes were hashed just before from the
 * same file, and the source's stat identity must not change between the two
 * (else "changed while it was being saved").
 *
 * Checkout builds the file, or a whole temp directory, in tmp/, hashes what
 * it built (so a corrupt object is never served), then renames it into
 * place, moving any old directory aside (into tmp/) first. Workspace copies
 * are reflinks or copies by default, so editing them never touches the
 * store; hardlinks and symlinks point at read-only objects.
 *
 * Temp files: every temp this module makes lives in tmp/, never beside an
 * object (store_walk() would skip it there, so nothing would ever remove
 * what a killed save left) nor in a workspace directory (where a killed
 * checkout's leftovers would be counted in the directory's hash). Only when
 * a workspace path is on another file system than the store (rename(2)
 * cannot cross) is its temp made beside it, as fs_temp_beside() names it.
 * A temp is named after the pid of its process; store_open() removes those
 * whose process is gone, and leaves alone any whose pid lives (another rp
 * using the same store). Stores shared across pid namespaces (containers)
 * may see another namespace's live writer as gone: its rename then fails
 * with an error, and nothing is half-written.
 *
 * Invariant: an object's bytes hash to its name (checked on every checkout).
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


void store_tree_release(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].rel);
		free(t->v[i].full);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

void store_manifest_release(struct manifest *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].rel);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* A file's manifest mode (see the header): 644, 755, 600 or 700. */
unsigned store_norm_mode(mode_t m)
{
	unsigned x = (m & S_IXUSR) ? 0755 : 0644;

	return (m & 0044) == 0044 ? x : x & 0700;
}

/* Whether manifest mode `m` is owner-only. */
int store_mode_private(unsigned m)
{
	return !(m & 0044);
}

int store_missing_err(struct rp_err *err, const char *hex, const char *path)
{
	if (!path)
		return rp_err_set(err, RP_ERR_IO, "object %s is missing from the store", hex);
	return rp_err_set(err, RP_ERR_IO, "object %s for '%s' is missing from the store", hex, path);
}

int store_corrupt_err(struct rp_err *err, const char *hex, const char *path, const char *actual)
{
	if (!path)
		return rp_err_set(err, RP_ERR_IO,
				  "object %s is corrupt (bytes hash to %s); run 'rp cache verify --repair', then 'rp repro' or 'rp checkout --rebuild' to make it again",
				  hex, actual);
	return rp_err_set(err, RP_ERR_IO,
			  "object %s for '%s' is corrupt (bytes hash to %s); run 'rp cache verify --repair', then 'rp repro' or 'rp checkout --rebuild' to make it again",
			  hex, path, actual);
}

/* ---- temp files (see the header) ---------------------------------------- */

#define TMP_DIR "tmp"

/* Makes STORE/tmp and notes its device; 0, or -1 + err. */
static int tmp_ready(struct store *st, struct rp_err *err)
{
	char *dir;
	struct stat sb;
	int ret = 0;

	if (st->tmp_state)
		return st->tmp_state > 0 ? 0 : rp_err_set(err, RP_ERR_IO,
			"cannot create a temp file in '%s/" TMP_DIR "'", st->root);
	dir = xasprintf("%s/" TMP_DIR, st->root);
	if (fs_mkdir_p(dir, 0777, err) < 0)
		ret = -1;
	else if (stat(dir, &sb) < 0)
		ret = rp_err_set(err, RP_ERR_IO, "cannot stat '%s': %s", dir, strerror(errno));
	st->tmp_state = ret < 0 ? -1 : 1;
	if (!ret)
		st->tmp_dev = sb.st_dev;
	free(dir);
	return ret;
}

/*
 * A new temp file (open in *fd) or directory (`dir`) in STORE/tmp, named
 * after this process; registered (fs_temp_register). NULL + err; the caller
 * frees.
 */
char *store_temp(struct store *st, int *fd, int dir, struct rp_err *err)
{
	char *tmp;

	if (tmp_ready(st, err) < 0)
		return NULL;
	tmp = xasprintf("%s/" TMP_DIR "/%ld-XXXXXX", st->root, (long)getpid());
	if (dir ? !mkdtemp(tmp) : (*fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot create temp %s '%s': %s",
			   dir ? "directory" : "file", tmp, strerror(errno));
		free(tmp);
		return NULL;
	}
	fs_temp_register(tmp);
	return tmp;
}

/* Whether a temp in STORE/tmp can be renamed to `path`: same file system. */
static int tmp_reaches(struct store *st, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path) + (slash == path)) : xstrdup(".");
	struct stat sb;
	int ok = tmp_ready(st, NULL) == 0 && stat(dir, &sb) == 0 && sb.st_dev == st->tmp_dev;

	free(dir);
	return ok;
}

/*
 * A fresh unused name for what will be renamed to workspace path `path`:
 * in STORE/tmp when it is on the same file system, else beside `path`.
 * Registered as a temp; the caller frees.
 */
char *store_temp_name_for(struct store *st, const char *path, struct rp_err *err)
{
	int fd;
	char *tmp = tmp_reaches(st, path) ? store_temp(st, &fd, 0, err)
					  : fs_temp_beside(path, &fd, err);

	if (!tmp)
		return NULL;
	close(fd);
	unlink(tmp);
	return tmp;
}

/* As store_temp_name_for(), a new directory. */
char *store_tempdir_for(struct store *st, const char *path, struct rp_err *err)
{
	int fd;

	return tmp_reaches(st, path) ? store_temp(st, &fd, 1, err) : fs_tempdir_beside(path, err);
}

/*
 * Removes what processes that are gone left in STORE/tmp: a name "<pid>-..."
 * whose pid no longer exists. A live pid (another rp on a shared store, or
 * an unrelated process that reused the number) keeps its files.
 */
static void clean_stale_temps(struct store *st)
{
	char *dir = xasprintf("%s/" TMP_DIR, st->root);

	fs_sweep_dead_temps(dir, "", '-');
	free(dir);
}

/* ---- what the next sync must flush ------------------------------------ */

#define PENDING_MAX 64

static void pending_clear(struct store *st)
{
	for (size_t i = 0; i < st->npending; i++)
		free(st->pending[i]);
	free(st->pending);
	st->pending = NULL;
	st->npending = 0;
	st->pending_overflow = 0;
}

/* Adds `path` to what the next sync must flush, unless it is there already. */
static void pending_add(struct store *st, char *path)
{
	for (size_t i = 0; i < st->npending; i++)
		if (!strcmp(st->pending[i], path)) {
			free(path);
			return;
		}
	if (st->pending_overflow || st->npending >= PENDING_MAX) {
		st->pending_overflow = 1;
		free(path);
		return;
	}
	st->pending = xrealloc(st->pending, (st->npending + 1) * sizeof(*st->pending));
	st->pending[st->npending++] = path;
}

/*
 * Notes a file written into the store ("<dir>/<2 hex>/<62 hex>"): the file,
 * its fan-out directory and that directory's parent, which may have just
 * gained the fan-out directory.
 */
void store_note_written(struct store *st, const char *file)
{
	char *dir = xstrdup(file), *slash;

	pending_add(st, xstrdup(file));
	if ((slash = strrchr(dir, '/'))) {
		*slash = '\0';
		pending_add(st, xstrdup(dir));
		if ((slash = strrchr(dir, '/'))) {
			*slash = '\0';
			pending_add(st, xstrdup(dir));
		}
	}
	free(dir);
}

/* ---- opening ---------------------------------------------------------- */

struct store *store_open(const char *root, struct state *state, struct rp_err *err)
{
	struct store *st = xcalloc(1, sizeof(*st));
	char *objects = xasprintf("%s/objects", root);
	int ret;

	st->root = xstrdup(root);
	st->links[0] = LINK_REFLINK;
	st->links[1] = LINK_COPY;
	st->nlinks = 2;
	st->state = state;
	st->nthreads = 0;
	st->lease.fd = st->lease.gate_fd = -1;
	ret = store_lease_take(&st->lease, root, err);
	if (ret == 1) {
		/* a new store: whoever makes its root is its creator */
		ret = fs_mkdir_parent(root, err);
		if (!ret && mkdir(root, 0777) == 0)
			st->created = 1;
		else if (!ret && errno != EEXIST)
			ret = rp_err_set(err, RP_ERR_IO, "cannot create '%s': %s", root,
					 strerror(errno));
		if (!ret)
			ret = store_lease_take(&st->lease, root, err);
	}
	if (!ret)
		ret = fs_mkdir_p(objects, 0777, err);
	free(objects);
	if (ret != 0) {
		if (ret > 0)
			rp_err_set(err, RP_ERR_IO, "cannot open the store '%s'", root);
		store_free(st);
		return NULL;
	}
	/* what a killed rp left half-written */
	clean_stale_temps(st);
	return st;
}

#define STORE_CREATOR "creator"

int store_set_creator(struct store *st, const char *ws_root, struct rp_err *err)
{
	char *path = xasprintf("%s/" STORE_CREATOR, st->root);
	char *text = xasprintf("%s\n", ws_root);
	int ret = fs_write_atomic(path, text, strlen(text), err);

	free(text);
	free(path);
	return ret;
}

char *store_creator(const struct store *st)
{
	char *path = xasprintf("%s/" STORE_CREATOR, st->root);
	struct buf b = BUF_INIT;
	char *ret = NULL;

	if (buf_read_file(&b, path) == 0 && b.len && b.s[b.len - 1] == '\n' &&
	    !memchr(b.s, '\n', b.len - 1) && !memchr(b.s, '\0', b.len)) {
		b.s[b.len - 1] = '\0';
		ret = xstrdup(b.s);
	}
	buf_release(&b);
	free(path);
	return ret;
}

void store_free(struct store *st)
{
	if (!st)
		return;
	pending_clear(st);
	store_run_close(st);
	store_lease_release(&st->lease);
	free(st->root);
	free(st);
}

int store_set_links(struct store *st, const char *spec, struct rp_err *err)
{
	static const char *names[] = { "reflink", "copy", "hardlink", "symlink" };
	enum link_type links[4];
	size_t n = 0;
	const char *p = spec;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		size_t i, k;

		while (len && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		for (i = 0; i < 4; i++)
			if (strlen(names[i]) == len && !strncmp(names[i], p, len))
				break;
		if (i == 4)
			return rp_err_set(err, RP_ERR_INPUT,
					  "unknown link type '%.*s' (expected reflink, copy, hardlink or symlink)",
					  (int)len, p);
		for (k = 0; k < n; k++)
			if (links[k] == (enum link_type)i)
				break;
		if (k == n)
			links[n++] = (enum link_type)i;
		if (!end)
			break;
		p = end + 1;
	}
	if (!n)
		return rp_err_set(err, RP_ERR_INPUT, "no link type given in '%s'", spec);
	memcpy(st->links, links, n * sizeof(links[0]));
	st->nlinks = n;
	return 0;
}

char *store_object_path(const struct store *st, const char *hex)
{
	return xasprintf("%s/objects/%.2s/%s", st->root, hex, hex + 2);
}

int store_object_exists(const struct store *st, const char *hex)
{
	char *obj = store_object_path(st, hex);
	struct stat sb;
	int ret = !lstat(obj, &sb);

	free(obj);
	return ret;
}

/* ---- walking and syncing ------------------------------------------------------------------ */

int store_walk(const char *dir, int (*fn)(const char *path, const char *hex, void *ctx),
	       void *ctx, struct rp_err *err)
{
	DIR *top = opendir(dir);
	struct dirent *e;
	int ret = 0;

	if (!top)
		return errno == ENOENT ? 0 : rp_err_set(err, RP_ERR_IO, "cannot list '%s': %s", dir,
							 strerror(errno));
	while (!ret && (e = readdir(top))) {
		char *sub;
		DIR *d;
		struct dirent *f;

		if (strlen(e->d_name) != 2 || !isxdigit((unsigned char)e->d_name[0]) ||
		    !isxdigit((unsigned char)e->d_name[1]))
			continue;
		sub = xasprintf("%s/%s", dir, e->d_name);
		d = opendir(sub);
		while (!ret && d && (f = readdir(d))) {
			char hex[HASH_HEX], *path;

			if (strlen(f->d_name) != 62)
				continue;
			memcpy(hex, e->d_name, 2);
			memcpy(hex + 2, f->d_name, 63);   /* 62 characters and the NUL */
			if (!hash_is_hex(hex))
				continue;
			path = xasprintf("%s/%s", sub, f->d_name);
			ret = fn(path, hex, ctx);
			free(path);
		}
		if (d)
			closedir(d);
		free(sub);
	}
	closedir(top);
	return ret;
}

int store_sync(struct store *st, struct rp_err *err)
{
	int fd = open(st->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s", st->root, strerror(errno));
	if (syncfs(fd) < 0)
		ret = rp_err_set(err, RP_ERR_IO, "cannot sync the file system of '%s': %s",
				 st->root, strerror(errno));
	close(fd);
	if (!ret)
		pending_clear(st);
	return ret;
}

int store_sync_written(struct store *st, struct rp_err *err)
{
	if (st->pending_overflow)
		return store_sync(st, err);
	for (size_t i = 0; i < st->npending; i++) {
		int fd = open(st->pending[i], O_RDONLY | O_CLOEXEC);

		if (fd < 0 && errno == ENOENT)
			continue;       /* removed since (gc): nothing to flush */
		if (fd < 0 || fsync(fd) < 0) {
			rp_err_set(err, RP_ERR_IO, "cannot flush '%s' to disk: %s", st->pending[i],
				   strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	pending_clear(st);
	return 0;
}

