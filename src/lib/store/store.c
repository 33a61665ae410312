/*
 * store.c - the content-addressed store under .rp/cache and the run-cache.
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

/* One regular file of a tree being hashed or saved. */
struct tfile {
	char *rel;            /* path below the top; "" for a lone file */
	char *full;           /* the path as the state knows it */
	struct stat st;       /* identity when listed (symlinks followed) */
	char hex[HASH_HEX];
};

struct tree {
	struct tfile *v;
	size_t n, alloc;
};

/* One line of a manifest. */
struct mentry {
	char hex[HASH_HEX];
	uint64_t size;
	unsigned mode;
	char *rel;
};

struct manifest {
	struct mentry *v;
	size_t n, alloc;
};

static void tree_release(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->v[i].rel);
		free(t->v[i].full);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static void manifest_release(struct manifest *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->v[i].rel);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* A file's manifest mode (see the header): 644, 755, 600 or 700. */
static unsigned norm_mode(mode_t m)
{
	unsigned x = (m & S_IXUSR) ? 0755 : 0644;

	return (m & 0044) == 0044 ? x : x & 0700;
}

/* Whether manifest mode `m` is owner-only. */
static int mode_private(unsigned m)
{
	return !(m & 0044);
}

static int same_identity(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int missing_err(struct rp_err *err, const char *hex, const char *path)
{
	if (!path)
		return rp_err_set(err, RP_ERR_IO, "object %s is missing from the store", hex);
	return rp_err_set(err, RP_ERR_IO, "object %s for '%s' is missing from the store", hex, path);
}

static int corrupt_err(struct rp_err *err, const char *hex, const char *path, const char *actual)
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
	if (fs_mkdir_p_err(dir, 0777, err) < 0)
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
static char *store_temp(struct store *st, int *fd, int dir, struct rp_err *err)
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
static char *temp_name_for(struct store *st, const char *path, struct rp_err *err)
{
	int fd;
	char *tmp = tmp_reaches(st, path) ? store_temp(st, &fd, 0, err)
					  : fs_temp_beside_err(path, &fd, err);

	if (!tmp)
		return NULL;
	close(fd);
	unlink(tmp);
	return tmp;
}

/* As temp_name_for(), a new directory. */
static char *tempdir_for(struct store *st, const char *path, struct rp_err *err)
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
static void note_written(struct store *st, const char *file)
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
		ret = fs_mkdir_parent_err(root, err);
		if (!ret && mkdir(root, 0777) == 0)
			st->created = 1;
		else if (!ret && errno != EEXIST)
			ret = rp_err_set(err, RP_ERR_IO, "cannot create '%s': %s", root,
					 strerror(errno));
		if (!ret)
			ret = store_lease_take(&st->lease, root, err);
	}
	if (!ret)
		ret = fs_mkdir_p_err(objects, 0777, err);
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
	int ret = fs_write_atomic_err(path, text, strlen(text), err);

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

static int object_exists(const struct store *st, const char *hex)
{
	char *obj = store_object_path(st, hex);
	struct stat sb;
	int ret = !lstat(obj, &sb);

	free(obj);
	return ret;
}

/* ---- manifests ---------------------------------------------------------- */

static void manifest_text(const struct tree *t, struct buf *b)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		buf_addf(b, "%s %llu %03o %s\n", t->v[i].hex,
			 (unsigned long long)t->v[i].st.st_size,
			 norm_mode(t->v[i].st.st_mode), t->v[i].rel);
}

/* Whether an earlier entry of m (sorted) is a directory of `rel`: "a" and "a/b". */
static int under_file(const struct manifest *m, const char *rel)
{
	for (const char *slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/')) {
		size_t lo = 0, hi = m->n, plen = (size_t)(slash - rel);

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strncmp(m->v[mid].rel, rel, plen);

			if (!c && m->v[mid].rel[plen])
				c = 1;
			if (!c)
				return 1;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return 0;
}

/*
 * Parses manifest text into m, refusing anything but the exact form
 * manifest_text() writes (see the header). -1 + err naming the line.
 */
static int manifest_parse(const char *text, size_t len, const char *hex,
			  struct manifest *m, struct rp_err *err)
{
	const char *p = text, *end = text + len, *why = "expected '<sha256> <size> <mode> <path>'";
	size_t line = 0;

	if (memchr(text, '\0', len))
		return rp_err_set(err, RP_ERR_IO, "manifest %s contains a NUL byte", hex);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct mentry e;
		const char *q, *digits;
		unsigned long long size = 0;

		line++;
		why = "expected '<sha256> <size> <mode> <path>'";
		if (!nl || nl - p < HASH_HEX + 6 || p[HASH_HEX - 1] != ' ')
			goto bad;
		memcpy(e.hex, p, HASH_HEX - 1);
		e.hex[HASH_HEX - 1] = '\0';
		if (!hash_is_hex(e.hex))
			goto bad;
		q = digits = p + HASH_HEX;
		while (q < nl && *q >= '0' && *q <= '9') {
			if (size > (UINT64_MAX - (unsigned)(*q - '0')) / 10) {
				why = "the size is out of range";
				goto bad;
			}
			size = size * 10 + (unsigned)(*q++ - '0');
		}
		if (q == digits || *q != ' ' || (*digits == '0' && q - digits > 1))
			goto bad;
		q++;
		if (nl - q < 5 || q[3] != ' ') {
			why = "the mode must be 644, 755, 600 or 700";
			goto bad;
		}
		if (!strncmp(q, "644", 3))
			e.mode = 0644;
		else if (!strncmp(q, "755", 3))
			e.mode = 0755;
		else if (!strncmp(q, "600", 3))
			e.mode = 0600;
		else if (!strncmp(q, "700", 3))
			e.mode = 0700;
		else {
			why = "the mode must be 644, 755, 600 or 700";
			goto bad;
		}
		q += 4;
		e.size = size;
		e.rel = xstrndup(q, (size_t)(nl - q));
		if (!wspath_rel_is_safe(e.rel)) {
			why = "the path is not a plain relative path inside the directory, or "
			      "names a '.git' or '.rp'";
			free(e.rel);
			goto bad;
		}
		if ((m->n && strcmp(m->v[m->n - 1].rel, e.rel) >= 0) || under_file(m, e.rel)) {
			why = "paths must be sorted, each once, and none inside another";
			free(e.rel);
			goto bad;
		}
		ALLOC_GROW(m->v, m->n + 1, m->alloc);
		m->v[m->n++] = e;
		p = nl + 1;
	}
	return 0;
bad:
	manifest_release(m);
	return rp_err_set(err, RP_ERR_IO,
			  "manifest %s is malformed at line %zu (%s); run 'rp cache verify --repair', then 'rp repro' or 'rp checkout --rebuild' to make it again",
			  hex, line, why);
}

/* Reads (and with `verify`, checks the bytes of) the manifest `hex` into m. */
static int read_manifest(const struct store *st, const char *hex, const char *path,
			 int verify, struct manifest *m, struct rp_err *err)
{
	char *obj = store_object_path(st, hex);
	struct buf b = BUF_INIT;
	int ret = -1;

	if (buf_read_file(&b, obj) < 0) {
		if (errno == ENOENT)
			missing_err(err, hex, path);
		else
			rp_err_set(err, RP_ERR_IO, "cannot read '%s': %s", obj, strerror(errno));
		goto out;
	}
	if (verify) {
		char actual[HASH_HEX];

		hash_buf(b.s, b.len, actual);
		if (strcmp(actual, hex)) {
			corrupt_err(err, hex, path, actual);
			goto out;
		}
	}
	ret = manifest_parse(b.s, b.len, hex, m, err);
out:
	buf_release(&b);
	free(obj);
	return ret;
}

int store_manifest_each(const struct store *st, const char *dirhash,
			int (*fn)(const char *hex, void *ctx), void *ctx, struct rp_err *err)
{
	struct manifest m = { 0 };
	size_t i;
	int ret = 0;

	if (!hash_is_hex(dirhash))
		return rp_err_set(err, RP_ERR_IO, "'%s' is not a sha256 hex digest", dirhash);
	if (read_manifest(st, dirhash, NULL, 1, &m, err) < 0)
		return -1;
	for (i = 0; i < m.n; i++) {
		int r = fn(m.v[i].hex, ctx);

		if (r < 0) {
			ret = rp_err_set(err, RP_ERR_IO, "stopped at object %s of manifest %s",
					 m.v[i].hex, dirhash);
			break;
		}
		if (r > 0)
			break;
	}
	manifest_release(&m);
	return ret;
}

int store_has_err(const struct store *st, const struct objinfo *oi, struct rp_err *err)
{
	struct manifest m = { 0 };
	size_t i;
	int ret = 1;

	if (!hash_is_hex(oi->hash) || !object_exists(st, oi->hash))
		return 0;
	if (!oi->isdir)
		return 1;
	if (read_manifest(st, oi->hash, NULL, 0, &m, err) < 0)
		return -1;
	for (i = 0; i < m.n && ret; i++)
		ret = object_exists(st, m.v[i].hex);
	manifest_release(&m);
	return ret;
}

int store_has(const struct store *st, const struct objinfo *oi)
{
	return store_has_err(st, oi, NULL) > 0;
}

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
static int collect(struct store *st, const char *path, int *isdir, struct tree *t,
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
static char *clean_path(const char *path)
{
	char *p = xstrdup(path);
	size_t len = strlen(p);

	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	return p;
}

/* Fills oi from a collected tree; `manifest` (if non-NULL) gets the manifest text. */
static void tree_info(const struct tree *t, int isdir, struct objinfo *oi, struct buf *manifest)
{
	size_t i;

	memset(oi, 0, sizeof(*oi));
	oi->isdir = isdir;
	if (!isdir) {
		memcpy(oi->hash, t->v[0].hex, HASH_HEX);
		oi->size = (uint64_t)t->v[0].st.st_size;
		return;
	}
	manifest_text(t, manifest);
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
	char *p = clean_path(path);
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
	ret = collect(st, p, &isdir, &t, err);
	if (!ret)
		tree_info(&t, isdir, oi, &manifest);
	buf_release(&manifest);
	tree_release(&t);
	free(p);
	return ret;
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
	note_written(st, obj);
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
	if (object_exists(st, hex)) {
		ret = 0;
		goto out;
	}
	if (fs_mkdir_parent_err(obj, err) < 0)
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

	if (object_exists(st, f->hex)) {
		ret = 0;
		goto out;
	}
	srcfd = open(f->full, O_RDONLY | O_CLOEXEC);
	if (srcfd < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s", f->full, strerror(errno));
		goto out;
	}
	if (fstat(srcfd, &sb) < 0 || !same_identity(&sb, &f->st)) {
		rp_err_set(err, RP_ERR_IO, "'%s' changed while it was being saved", f->full);
		goto out;
	}
	if (fs_mkdir_parent_err(obj, err) < 0)
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
	ret = finish_object(st, fd, tmp, obj, mode_private(norm_mode(f->st.st_mode)), err);
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
static int materialize(const struct store *st, const char *obj, const char *dst,
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
		tmp = temp_name_for(st, f->full, err);
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
	char *p = clean_path(path);
	struct tree t = { 0 };
	struct buf manifest = BUF_INIT;
	struct objinfo now;
	int isdir = 0, ret = -1;
	size_t i;

	if (collect(st, p, &isdir, &t, err) < 0)
		goto out;
	tree_info(&t, isdir, &now, &manifest);
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
			private |= mode_private(norm_mode(t.v[i].st.st_mode));
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
	tree_release(&t);
	free(p);
	return ret;
}

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
		trash = temp_name_for(st, path, err);
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
		if (!fs_remove_tree_err(trash, NULL))
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
			missing_err(err, s->oi.hash, s->path);
		else
			rp_err_set(err, RP_ERR_IO, "cannot stat '%s': %s", obj, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		rp_err_set(err, RP_ERR_IO, "object %s for '%s' is not a regular file", s->oi.hash,
			   s->path);
		goto out;
	}
	if (fs_mkdir_parent_err(s->path, err) < 0)
		goto out;
	s->tmp = temp_name_for(st, s->path, err);
	if (!s->tmp)
		goto out;
	/* an owner-only object (saved from an owner-only file) stays owner-only */
	if (materialize(st, obj, s->tmp, s->path, (sb.st_mode & 0044) == 0044 ? 0644 : 0600,
			0, err) < 0)
		goto out;
	if (hash_file(s->tmp, actual, err) < 0)
		goto out;
	if (strcmp(actual, s->oi.hash)) {
		corrupt_err(err, s->oi.hash, s->path, actual);
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

	if (read_manifest(st, s->oi.hash, path, 1, m, err) < 0)
		return -1;
	for (i = 0; i < m->n; i++) {
		char *obj = store_object_path(st, m->v[i].hex);
		struct stat sb;
		int r = lstat(obj, &sb);

		free(obj);
		if (r < 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size != m->v[i].size) {
			char *fp = xasprintf("%s/%s", path, m->v[i].rel);

			if (r < 0)
				missing_err(err, m->v[i].hex, fp);
			else
				rp_err_set(err, RP_ERR_IO, "manifest %s says '%s' (%s) has %llu bytes, "
					   "but its object is not a regular file of that size; run 'rp "
					   "cache verify --repair', then 'rp repro' or 'rp checkout "
					   "--rebuild' to make it again", s->oi.hash, fp, m->v[i].hex,
					   (unsigned long long)m->v[i].size);
			free(fp);
			goto out;
		}
		if (mode_private(m->v[i].mode))
			dirmode = 0700;
	}
	if (fs_mkdir_parent_err(path, err) < 0)
		goto out;
	s->tmp = tempdir_for(st, path, err);
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
			if (fs_mkdir_p_err(dst, dirmode, err) < 0) {
				*slash = '/';
				free(obj);
				goto out;
			}
		}
		*slash = '/';
		r = materialize(st, obj, dst, path, (mode_t)m->v[i].mode, 0, err);
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

			corrupt_err(err, m->v[i].hex, fp, hexes[i]);
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
		fs_remove_tree_err(s->tmp, NULL);
		fs_temp_forget(s->tmp);
		free(s->tmp);
	}
	free(s->path);
	manifest_release(&s->m);
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
	s->path = clean_path(path);
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
	if (!object_exists(st, hex))
		ret = missing_err(err, hex, NULL);
	else if (hash_file(obj, got, &herr) < 0)
		ret = rp_err_set(err, RP_ERR_IO, "%s", herr.msg);
	else if (strcmp(got, hex)) {
		if (actual)
			memcpy(actual, got, HASH_HEX);
		ret = corrupt_err(err, hex, NULL, got);
	}
	free(obj);
	return ret;
}

/* ---- run-cache ------------------------------------------------------------------ */

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
