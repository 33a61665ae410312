/*
 * alias.c - blue-green aliases of indexes (alias.h; rp-index(1), ALIASES).
 *
 * Layout (under the workspace's .rp/index/NAME/): served copies <16hex>/,
 * `current` (which copy serves), history.jsonl (every switch) and `lock`.
 *
 * Promote, in an order that a crash at any point leaves usable:
 *   1. lock the alias (flock on its `lock` file: one switch at a time);
 *   2. write the target's MANIFEST.json bytes into a temp directory beside
 *      the copies (read once, so a rebuild of the target during the copy
 *      cannot mix versions);
 *   3. with a gate: METRICS.json must hold a passing verdict, and that
 *      manifest's logical digest must be that of an index the metrics
 *      evaluated (baseline or candidate) and that has no regression;
 *      then every file the manifest names is hard-linked when possible
 *      (the files are immutable, named by content), else copied; each is
 *      hashed and compared with the manifest, and the copy opened as an
 *      index (structure checked);
 *   4. the temp directory is renamed to <16hex> of its manifest's SHA-256
 *      (an existing copy of that name is the same index: kept as it is);
 *   5. the history line is appended (and fsynced), then `current` replaced
 *      by rename (fs_write_atomic). A crash between 5's two steps leaves a
 *      history line for a switch that did not happen; `history` shows which
 *      copy is current, and a rollback goes to the line before the last
 *      promote in effect, which is what served before it.
 * Rollback replays the history as a stack (promote pushes, rollback pops),
 * switches `current` to the new top, and appends its line.
 *
 * Nothing here follows a symlink of .rp/: .rp, .rp/index, the alias
 * directory and the served copy must be real directories and `current` a
 * regular file of 16 hex digits; anything else is refused as hostile.
 */
#include "index/alias.h"
#include "index/index.h"
#include "index/manifest.h"
#include "core/config.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/jsonl.h"
#include "util/wspath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COPY_HEX 16

int alias_name_valid(const char *name)
{
	if (!*name || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			return 0;
	return strlen(name) <= 255;
}

void alias_event_release(struct alias_event *ev)
{
	free(ev->at);
	free(ev->action);
	free(ev->target);
	free(ev->digest);
	free(ev->model);
	free(ev->gate);
	free(ev->copy);
	memset(ev, 0, sizeof(*ev));
}

void alias_events_free(struct alias_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		alias_event_release(&evs[i]);
	free(evs);
}

/* ---- the alias directory ---------------------------------------------------- */

/* The workspace root (caller frees), or NULL + err outside one. */
static char *ws_root(struct rp_err *err)
{
	char *root = NULL;
	int r = config_find_root(NULL, &root, err);

	if (r < 0)
		return NULL;
	if (!r) {
		rp_err_set(err, RP_ERR_INPUT, "not inside an rp workspace (no .rp/ here or above): "
			   "aliases live in the workspace's .rp/index/; run 'rp init' first");
		return NULL;
	}
	return root;
}

/* `path` must be a real directory (not a symlink); with `create`, made if absent. */
static int real_dir(const char *path, int create, struct rp_err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT && create && mkdir(path, 0755) == 0)
			return 0;
		return rp_err_set(err, errno == ENOENT ? RP_ERR_INPUT : RP_ERR_IO, "cannot use '%s': %s",
				  path, strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		return rp_err_set(err, RP_ERR_INPUT, "'%s' is %s, not a directory: refused (an alias "
				  "serves only a copy inside its own directory)", path,
				  S_ISLNK(st.st_mode) ? "a symlink" : "not a directory");
	return 0;
}

/* ROOT/.rp/index/NAME into *adir (caller frees), each level checked; 0 or -1 + err. */
static int alias_dir(const char *root, const char *name, int create, char **adir, struct rp_err *err)
{
	char *rp = xasprintf("%s/.rp", root), *ix = xasprintf("%s/.rp/index", root);
	int r;

	*adir = NULL;
	if (!alias_name_valid(name)) {
		free(rp);
		free(ix);
		return rp_err_set(err, RP_ERR_INPUT, "'%s' is not a valid alias name (letters, digits, "
				  "'.', '_' and '-')", name);
	}
	*adir = xasprintf("%s/.rp/index/%s", root, name);
	r = real_dir(rp, 0, err) < 0 || real_dir(ix, create, err) < 0 ||
	    real_dir(*adir, create, err) < 0 ? -1 : 0;
	if (r < 0 && !create && !fs_exists(*adir))
		rp_err_set(err, RP_ERR_INPUT, "no alias '%s' in this workspace ('%s' does not exist); "
			   "'rp-index promote --alias %s --to INDEX' makes it", name, *adir, name);
	free(rp);
	free(ix);
	return r;
}

static int is_copy_name(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == COPY_HEX;
}

/*
 * The copy `current` names, into *copy (caller frees): 1, 0 when the alias
 * has no `current`, -1 + err when it is not a regular file of 16 hex digits
 * naming a real directory beside it (hostile or damaged).
 */
static int read_current(const char *adir, const char *name, char **copy, struct rp_err *err)
{
	char *path = xasprintf("%s/current", adir), *dir = NULL;
	struct buf b = BUF_INIT;
	struct stat st;
	int ret = -1;

	*copy = NULL;
	if (lstat(path, &st) < 0 && errno == ENOENT) {
		ret = 0;
		goto out;
	}
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 64 ||
	    buf_read_file(&b, path) < 0) {
		rp_err_set(err, RP_ERR_INPUT, "alias '%s': '%s' is not a regular file naming a served "
			   "copy: refused", name, path);
		goto out;
	}
	while (b.len && (b.s[b.len - 1] == '\n'))
		b.s[--b.len] = '\0';
	if (!is_copy_name(b.s)) {
		rp_err_set(err, RP_ERR_INPUT, "alias '%s': '%s' points to '%.64s', which is not a "
			   "served copy of the alias (16 hex digits): refused", name, path, b.s);
		goto out;
	}
	dir = xasprintf("%s/%s", adir, b.s);
	if (lstat(dir, &st) < 0 && errno == ENOENT) {
		rp_err_set(err, RP_ERR_INPUT, "alias '%s' resolves to '%s', which does not exist: the "
			   "served copy was removed; promote an index again with 'rp-index promote "
			   "--alias %s --to INDEX'", name, dir, name);
		goto out;
	}
	if (real_dir(dir, 0, err) < 0)
		goto out;
	*copy = buf_detach(&b);
	ret = 1;
out:
	free(dir);
	free(path);
	buf_release(&b);
	return ret;
}

/* 1 when ARG/current exists in the workspace's alias ARG (a cheap probe), else 0 or -1 + err. */
static int has_alias(const char *arg, char **root, struct rp_err *err)
{
	char *cur;
	int r;

	*root = NULL;
	if (!alias_name_valid(arg))
		return 0;
	if (config_find_root(NULL, root, err) < 0)
		return -1;
	if (!*root)
		return 0;
	cur = xasprintf("%s/.rp/index/%s/current", *root, arg);
	r = fs_exists(cur);
	free(cur);
	return r == 1;
}

int alias_resolve(const char *arg, char **dir, struct rp_err *err)
{
	char *m = xasprintf("%s/%s", arg, INDEX_MANIFEST), *root = NULL, *adir = NULL, *copy = NULL;
	char *cm = NULL;
	int ret = -1, r;

	*dir = NULL;
	if (fs_exists(m) || !(r = has_alias(arg, &root, err))) {
		*dir = xstrdup(arg);
		ret = 0;
		goto out;
	}
	if (r < 0 || alias_dir(root, arg, 0, &adir, err) < 0 || read_current(adir, arg, &copy, err) < 0)
		goto out;
	if (!copy) {
		rp_err_set(err, RP_ERR_INPUT, "alias '%s': '%s/current' is gone: the alias serves "
			   "nothing; promote an index with 'rp-index promote --alias %s --to INDEX'",
			   arg, adir, arg);
		goto out;
	}
	*dir = xasprintf("%s/%s", adir, copy);
	cm = xasprintf("%s/%s", *dir, INDEX_MANIFEST);
	if (!fs_exists(cm)) {
		rp_err_set(err, RP_ERR_INPUT, "alias '%s' resolves to '%s', which holds no %s: the "
			   "served copy is damaged; promote an index again with 'rp-index promote "
			   "--alias %s --to INDEX'", arg, *dir, INDEX_MANIFEST, arg);
		free(*dir);
		*dir = NULL;
		goto out;
	}
	ret = 0;
out:
	free(cm);
	free(m);
	free(root);
	free(adir);
	free(copy);
	return ret;
}

/* ---- history ---------------------------------------------------------------- */

static char *opt_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? xstrdup(s) : NULL;
}

static int read_history(const char *adir, struct alias_event **evs, size_t *n, struct rp_err *err)
{
	char *path = xasprintf("%s/history.jsonl", adir);
	struct jsonl_reader rd;
	size_t alloc = 0;
	json_t *o;
	int rc = 0;

	*evs = NULL;
	*n = 0;
	if (!fs_exists(path)) {
		free(path);
		return 0;
	}
	if (jsonl_open(&rd, path, err) < 0) {
		free(path);
		return -1;
	}
	while ((rc = jsonl_next(&rd, &o, err)) > 0) {
		struct alias_event *e;

		ALLOC_GROW(*evs, *n + 1, alloc);
		e = &(*evs)[(*n)++];
		e->at = opt_str(o, "at");
		e->action = opt_str(o, "action");
		e->target = opt_str(o, "target");
		e->digest = opt_str(o, "digest");
		e->model = opt_str(o, "model");
		e->gate = opt_str(o, "gate");
		e->copy = opt_str(o, "copy");
		json_decref(o);
		if (!e->action || !e->copy || !is_copy_name(e->copy) ||
		    (strcmp(e->action, "promote") && strcmp(e->action, "rollback"))) {
			rc = rp_err_set(err, RP_ERR_INPUT, "%s:%zu: not a history line of rp-index "
					"(action promote or rollback, copy of 16 hex digits)", path, rd.line);
			break;
		}
	}
	jsonl_close(&rd);
	free(path);
	return rc < 0 ? -1 : 0;
}

static int append_history(const char *adir, const struct alias_event *e, struct rp_err *err)
{
	char *path = xasprintf("%s/history.jsonl", adir);
	json_t *o = json_pack("{s:s,s:s,s:s?,s:s?,s:s?,s:s?,s:s}", "at", e->at, "action", e->action,
			      "target", e->target, "digest", e->digest, "model", e->model,
			      "gate", e->gate, "copy", e->copy);
	struct buf b = BUF_INIT;
	int fd, ret = 0;

	if (!o)
		BUG("json_pack failed");
	if (!e->gate)
		json_object_set_new(o, "gate", json_null());
	jsonl_dump(o, &b);
	json_decref(o);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || fs_write_all(fd, b.s, b.len) < 0 || fsync(fd) < 0)
		ret = rp_err_set(err, RP_ERR_IO, "cannot append to '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	buf_release(&b);
	free(path);
	return ret;
}

static char *now_utc(void)
{
	char s[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(s);
}

static int switch_current(const char *adir, const char *copy, struct rp_err *err)
{
	char *path = xasprintf("%s/current", adir), *text = xasprintf("%s\n", copy);
	int r = fs_write_atomic(path, text, strlen(text), err);

	free(path);
	free(text);
	return r;
}

/*
 * The real path of `target` relative to `root` (caller frees), or NULL +
 * err when it is outside the workspace, in .git or .rp, or not a directory.
 */
static char *target_rel(const char *root, const char *target, struct rp_err *err)
{
	char *real = realpath(target, NULL), *rroot = realpath(root, NULL), *rel = NULL;
	size_t n = rroot ? strlen(rroot) : 0;

	if (!real || !rroot) {
		rp_err_set(err, RP_ERR_INPUT, "cannot resolve '%s': %s", real ? root : target,
			   strerror(errno));
		goto out;
	}
	if (strncmp(real, rroot, n) || (real[n] != '/' && real[n]) || !real[n] ||
	    !wspath_is_safe(real + n + 1, 0)) {
		rp_err_set(err, RP_ERR_INPUT, "'%s' (%s) is outside the workspace '%s' or in its .git "
			   "or .rp: an alias may point only to an index inside the workspace",
			   target, real, rroot);
		goto out;
	}
	rel = xstrdup(real + n + 1);
out:
	free(real);
	free(rroot);
	return rel;
}

/* An alias opened for a switch: its workspace, directory, and lock. */
struct alias_ctx {
	char *root, *adir;
	int fd;
};

/*
 * Finds the workspace and alias `name` (made when `create`), refusing a
 * `target` (if not NULL; its workspace-relative path into *rel, caller
 * frees) outside the workspace before anything is made, then locks the
 * alias: flock on its `lock` file, one switch at a time. 0, or -1 + err;
 * alias_close() either way.
 */
static int alias_open(struct alias_ctx *c, const char *name, int create, const char *target,
		      char **rel, struct rp_err *err)
{
	char *path;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (!(c->root = ws_root(err)))
		return -1;
	if (target && !alias_name_valid(name))
		return rp_err_set(err, RP_ERR_INPUT, "'%s' is not a valid alias name (letters, digits, "
				  "'.', '_' and '-')", name);
	if (target && !(*rel = target_rel(c->root, target, err)))
		return -1;
	if (alias_dir(c->root, name, create, &c->adir, err) < 0)
		return -1;
	path = xasprintf("%s/lock", c->adir);
	c->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (c->fd < 0 || flock(c->fd, LOCK_EX) < 0)
		rp_err_set(err, RP_ERR_IO, "cannot lock '%s': %s", path, strerror(errno));
	free(path);
	return c->fd < 0 ? -1 : 0;
}

static void alias_close(struct alias_ctx *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->root);
	free(c->adir);
}

/* Records the switch `ev` in the history, then makes it happen. 0 or -1 + err. */
static int record_switch(const struct alias_ctx *c, const struct alias_event *ev, struct rp_err *err)
{
	if (append_history(c->adir, ev, err) < 0)
		return -1;
	return switch_current(c->adir, ev->copy, err);
}

int alias_history(const char *name, struct alias_event **evs, size_t *n, char **current,
		  struct rp_err *err)
{
	char *root = ws_root(err), *adir = NULL;
	int ret = -1;

	*evs = NULL;
	*n = 0;
	if (current)
		*current = NULL;
	if (!root || alias_dir(root, name, 0, &adir, err) < 0)
		goto out;
	if (read_history(adir, evs, n, err) < 0)
		goto out;
	if (current && read_current(adir, name, current, err) < 0)
		goto out;
	ret = 0;
out:
	free(root);
	free(adir);
	return ret;
}

int alias_rollback(const char *name, struct alias_event *ev, struct rp_err *err)
{
	struct alias_ctx c;
	struct alias_event *evs = NULL;
	size_t n = 0, top = 0, *stack = NULL;
	int ret = -1;

	memset(ev, 0, sizeof(*ev));
	if (alias_open(&c, name, 0, NULL, NULL, err) < 0 || read_history(c.adir, &evs, &n, err) < 0)
		goto out;
	/* replay: a promote pushes its copy, a rollback pops */
	stack = xmalloc((n ? n : 1) * sizeof(*stack));
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(evs[i].action, "promote"))
			stack[top++] = i;
		else if (top)
			top--;
	}
	if (top < 2) {
		rp_err_set(err, RP_ERR_IO, "alias '%s': nothing to roll back to (%s)", name,
			   top ? "only one promote is in effect" : "no promote is in effect");
		goto out;
	}
	{
		const struct alias_event *prev = &evs[stack[top - 2]];
		char *dir = xasprintf("%s/%s", c.adir, prev->copy);
		int ok = real_dir(dir, 0, err);

		free(dir);
		if (ok < 0)
			goto out;
		ev->at = now_utc();
		ev->action = xstrdup("rollback");
		ev->target = prev->target ? xstrdup(prev->target) : NULL;
		ev->digest = prev->digest ? xstrdup(prev->digest) : NULL;
		ev->model = prev->model ? xstrdup(prev->model) : NULL;
		ev->copy = xstrdup(prev->copy);
	}
	if (record_switch(&c, ev, err) < 0)
		goto out;
	ret = 0;
out:
	alias_close(&c);
	free(stack);
	alias_events_free(evs, n);
	return ret;
}

/* ---- promote ---------------------------------------------------------------- */

/* Hard-links (else copies) SRC/name to DST/name. 0 or -1 + err. */
static int place_file(const char *src, const char *dst, const char *name, struct rp_err *err)
{
	char *from = xasprintf("%s/%s", src, name), *to = xasprintf("%s/%s", dst, name);
	struct stat st;
	int r = 0;

	if (lstat(from, &st) < 0 || !S_ISREG(st.st_mode))
		r = rp_err_set(err, RP_ERR_IO, "'%s' is missing or not a regular file (the index "
			       "changed while being promoted? promote again)", from);
	else if (link(from, to) < 0)
		r = fs_clone_file(from, to, 0644 & ~fs_umask(), 0, err);
	free(from);
	free(to);
	return r;
}

/* Copies the manifest's files into tmp and checks their hashes. 0 or -1 + err. */
static int copy_files(const char *src, const char *tmp, const struct manifest *m, struct rp_err *err)
{
	const char **names = xmalloc((3 * m->nseg + m->ntomb + 1) * sizeof(*names));
	const char **sums = xmalloc((3 * m->nseg + m->ntomb + 1) * sizeof(*sums));
	char **paths, (*hex)[HASH_HEX];
	size_t n = 0;
	int ret = -1;

	for (size_t i = 0; i < m->nseg; i++) {
		names[n] = m->segs[i].file, sums[n++] = m->segs[i].sha256;
		if (m->segs[i].dead)
			names[n] = m->segs[i].dead, sums[n++] = m->segs[i].dead_sha256;
		if (m->segs[i].fts)
			names[n] = m->segs[i].fts, sums[n++] = m->segs[i].fts_sha256;
	}
	for (size_t i = 0; i < m->ntomb; i++)
		names[n] = m->tombs[i].file, sums[n++] = m->tombs[i].sha256;
	paths = xcalloc(n + 1, sizeof(*paths));
	hex = xmalloc((n + 1) * sizeof(*hex));
	for (size_t i = 0; i < n; i++) {
		if (place_file(src, tmp, names[i], err) < 0)
			goto out;
		paths[i] = xasprintf("%s/%s", tmp, names[i]);
	}
	if (hash_files((const char *const *)paths, n, hex, 0, err) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (strcmp(hex[i], sums[i])) {
			rp_err_set(err, RP_ERR_INPUT, "%s/%s: its SHA-256 is not the one MANIFEST.json "
				   "records: the index is damaged ('rp-index verify' tells more)",
				   src, names[i]);
			goto out;
		}
	ret = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(hex);
	free(names);
	free(sums);
	return ret;
}

/* 1 when index NAME of the metrics is named by a regression of the verdict. */
static int regressed(json_t *verdict, const char *name)
{
	json_t *regs = json_object_get(verdict, "regressions"), *r;
	size_t i;

	json_array_foreach(regs, i, r) {
		const char *s = json_is_string(r) ? json_string_value(r)
			: json_string_value(json_object_get(r, "index"));

		if (s && !strcmp(s, name))
			return 1;
	}
	return 0;
}

/*
 * The gate: METRICS.json at `path` must pass, and have evaluated an index
 * of logical digest `digest` without regression. 0, or -1 + err
 * (RP_ERR_IO: refused; RP_ERR_INPUT: not a METRICS.json).
 */
static int check_gate(const char *path, const char *digest, struct rp_err *err)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *verdict, *ixs, *v;
	const char *name, *found = NULL;
	int ret = -1;

	if (!root)
		return rp_err_set(err, RP_ERR_INPUT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	verdict = json_object_get(root, "verdict");
	ixs = json_object_get(root, "indexes");
	if (!json_is_object(ixs) || !(json_is_object(verdict) || json_is_null(verdict))) {
		rp_err_set(err, RP_ERR_INPUT, "%s: not a METRICS.json of rp-eval (no \"indexes\" object "
			   "or \"verdict\")", path);
		goto out;
	}
	if (json_is_null(verdict) || !json_is_true(json_object_get(verdict, "pass"))) {
		rp_err_set(err, RP_ERR_IO, "gate '%s' refuses: %s", path, json_is_null(verdict)
			   ? "the metrics have no verdict (run rp-eval with --baseline)"
			   : "the verdict does not pass (a candidate regressed)");
		goto out;
	}
	json_object_foreach(ixs, name, v) {
		const char *d = json_string_value(json_object_get(v, "digest"));

		if (d && !strcmp(d, digest) && !regressed(verdict, name))
			found = name;
	}
	if (!found) {
		rp_err_set(err, RP_ERR_IO, "gate '%s' refuses: the index being promoted (digest %.16s...) "
			   "is not one that the metrics evaluated and passed; evaluate it with rp-eval "
			   "first", path, digest);
		goto out;
	}
	ret = 0;
out:
	json_decref(root);
	return ret;
}

/*
 * Makes the served copy of index `src` in adir: *copy (caller frees) its
 * name, *digest and *model from its manifest. 0 or -1 + err.
 */
static int make_copy(const char *adir, const char *src, const char *gate, char **copy,
		     char digest[HASH_HEX], char **model, struct rp_err *err)
{
	char *tmp = NULL, *mpath = xasprintf("%s/%s", src, INDEX_MANIFEST), *dst = NULL, *tm = NULL;
	struct buf b = BUF_INIT;
	struct manifest m = { 0 };
	struct index *ix = NULL;
	char sum[HASH_HEX];
	int ret = -1;

	if (buf_read_file(&b, mpath) < 0) {
		rp_err_set(err, RP_ERR_INPUT, "'%s' is not an index: cannot read '%s': %s", src, mpath,
			   strerror(errno));
		goto out;
	}
	hash_buf(b.s, b.len, sum);
	*copy = xstrndup(sum, COPY_HEX);
	dst = xasprintf("%s/%s", adir, *copy);
	if (!(tmp = fs_tempdir_beside(dst, err)))
		goto out;
	tm = xasprintf("%s/%s", tmp, INDEX_MANIFEST);
	if (fs_write_atomic(tm, b.s, b.len, err) < 0 || manifest_read(&m, tmp, 0, err) < 0 ||
	    (gate && check_gate(gate, m.digest, err) < 0) || copy_files(src, tmp, &m, err) < 0 ||
	    index_open(&ix, tmp, 0, err) < 0)
		goto out;
	if (!ix->model) {
		rp_err_set(err, RP_ERR_INPUT, "'%s' is an empty index: nothing to serve", src);
		goto out;
	}
	memcpy(digest, ix->digest, HASH_HEX);
	*model = xstrdup(ix->model);
	index_close(ix);
	ix = NULL;
	if (fs_exists(dst)) {
		if (real_dir(dst, 0, err) < 0)
			goto out;
	} else if (chmod(tmp, 0755 & ~fs_umask()) < 0 || rename(tmp, dst) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, dst, strerror(errno));
		goto out;
	} else {
		fs_temp_forget(tmp);
		fs_fsync_parent_quiet(dst);
	}
	ret = 0;
out:
	index_close(ix);
	manifest_release(&m);
	if (tmp && fs_exists(tmp)) {
		fs_remove_tree(tmp, NULL);
		fs_temp_forget(tmp);
	}
	buf_release(&b);
	free(tm);
	free(tmp);
	free(dst);
	free(mpath);
	return ret;
}

int alias_promote(const char *name, const char *target, const char *gate, struct alias_event *ev,
		  struct rp_err *err)
{
	struct alias_ctx c;
	char *rel = NULL, *copy = NULL, *model = NULL;
	char digest[HASH_HEX];
	int ret = -1;

	memset(ev, 0, sizeof(*ev));
	if (alias_open(&c, name, 1, target, &rel, err) < 0 ||
	    make_copy(c.adir, target, gate, &copy, digest, &model, err) < 0)
		goto out;
	ev->at = now_utc();
	ev->action = xstrdup("promote");
	ev->target = rel;
	rel = NULL;
	ev->digest = xstrdup(digest);
	ev->model = model;
	model = NULL;
	ev->gate = gate ? xstrdup(gate) : NULL;
	ev->copy = copy;
	copy = NULL;
	if (record_switch(&c, ev, err) < 0)
		goto out;
	ret = 0;
out:
	alias_close(&c);
	free(rel);
	free(copy);
	free(model);
	return ret;
}
