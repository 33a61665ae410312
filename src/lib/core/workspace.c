/*
 * workspace.c - finding and opening a workspace, and listing its pipeline
 * files (see workspace.h).
 *
 * The root search is config_find_up() twice: first for .rp/, .dvc/ or .git,
 * then for a pipeline file; it shares the stops and the owner check of the
 * stage programs' own search, so rp and its stages agree on the workspace.
 *
 * .rp/lock holds the pid of the process that has the flock, for the message
 * a second process prints. The flock goes away with the process, so a killed
 * run never leaves the workspace locked.
 */
#include "core/workspace.h"
#include "yaml/doccache.h"
#include "util/fs.h"
#include "util/wspath.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * A write past a file-size limit (ulimit -f) raises SIGXFSZ, whose default
 * action kills rp in the middle of a write, with no message and temp files
 * left behind. With a handler the write fails with EFBIG instead and is
 * reported like a full disk. A handler, unlike SIG_IGN, is reset to the
 * default in the stage commands that rp starts.
 */
static void on_xfsz(int sig)
{
	(void)sig;
}

/*
 * 1 when the rp that wrote `pid` has exited. Its lock can outlive it for a
 * moment: a stage child forked just before rp was killed holds a copy of the
 * lock's descriptor until it execs the shell (where O_CLOEXEC closes it) or
 * dies of PR_SET_PDEATHSIG.
 */
static int holder_is_gone(const char *pid)
{
	char *end;
	long v = strtol(pid, &end, 10);

	return *pid && !*end && fs_pid_is_gone(v);
}

/*
 * Brings a .rp/.gitignore that an older rp wrote up to date, so the files
 * this version adds to .rp/ (lock.snap, parsed/) stay out of git. Only a file
 * that starts like rp's own is replaced; asked when .rp/lock.snap is missing,
 * which is the first run of this version in a workspace. Best effort.
 */
static void refresh_gitignore(void)
{
	const char *want = config_gitignore_text();
	const char *mark = "# written by rp";
	struct buf b = BUF_INIT;
	struct rp_err err = { 0 };

	if (buf_read_file(&b, WS_DIR "/.gitignore") == 0 && b.len >= strlen(mark) &&
	    !strncmp(b.s, mark, strlen(mark)) && strcmp(b.s, want))
		(void)fs_write_atomic(WS_DIR "/.gitignore", want, strlen(want), &err);
	buf_release(&b);
}

static int take_lock(struct workspace *ws, struct rp_err *err)
{
	char pid[32];
	int fd = open(WS_DIR "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	int tries = 0;

	if (fd < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot open '%s/lock': %s", WS_DIR, strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fs_lock_pid_read(fd, pid, sizeof(pid));
		/* a dead holder's children let go within moments: wait up to 2 s */
		if (holder_is_gone(pid) && tries++ < 200) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };

			nanosleep(&ts, NULL);
			continue;
		}
		close(fd);
		return rp_err_set(err, RP_ERR_IO,
			"another rp process%s%s%s is running in this workspace ('%s' is locked); "
			"wait for it to finish, or stop it",
			*pid ? " (pid " : "", pid, *pid ? ")" : "", ws->root);
	}
	fs_lock_pid_write(fd);
	ws->lock_fd = fd;
	return 0;
}

/* ---- finding the root --------------------------------------------------- */

static const char *const root_markers[] = { ".rp/", ".dvc/", ".git", NULL };
static const char *const pipeline_names[] = { "rp.yaml", "dvc.yaml", NULL };

/*
 * `abs` (a physical path) relative to `root`, newly allocated: "." for the
 * root itself, NULL when it lies outside.
 */
static char *relative_to(const char *abs, const char *root)
{
	size_t n = strlen(root);

	if (!strcmp(root, "/"))
		return xstrdup(abs[1] ? abs + 1 : ".");
	if (strncmp(abs, root, n) || (abs[n] && abs[n] != '/'))
		return NULL;
	return xstrdup(abs[n] ? abs + n + 1 : ".");
}

/* Whether the walk found a pipeline file (workspace_walk()'s found()). */
static int found_one(void *ctx, const char *file)
{
	(void)file;
	*(int *)ctx = 1;
	return 1;
}

/*
 * Finds the root from the current directory (see workspace.h) and enters
 * it; sets ws->root. 0 or -1 + err.
 */
static int enter_root(struct workspace *ws, struct rp_err *err)
{
	char *found = NULL;
	int r = config_find_up(NULL, root_markers, &found, err);

	if (r == 0)
		r = config_find_up(NULL, pipeline_names, &found, err);
	if (r < 0)
		return -1;
	if (!found) {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)))
			return rp_err_set(err, RP_ERR_IO, "cannot get the current directory: %s",
					  strerror(errno));
		found = xstrdup(cwd);
	}
	ws->root = found;
	if (chdir(found) < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot enter the workspace '%s': %s", found,
				  strerror(errno));
	return 0;
}

/* Sets ws->pipeline_file from -f `given` (NULL: the root's own file). 0 or -1 + err. */
static int name_pipeline_file(struct workspace *ws, const char *given, const char *start,
			      struct rp_err *err)
{
	char *dir, *rel;

	if (!given) {
		ws->pipeline_file = xstrdup(access("rp.yaml", F_OK) == 0 ||
					    access("dvc.yaml", F_OK) != 0 ? "rp.yaml" : "dvc.yaml");
		return 0;
	}
	/* start is the physical path of the file's directory: it lies inside the root */
	dir = relative_to(start, ws->root);
	rel = dir ? wspath_normalize(dir, strrchr(given, '/') ? strrchr(given, '/') + 1 : given)
		  : NULL;
	free(dir);
	if (!rel)
		return rp_err_set(err, RP_ERR_INPUT, "pipeline file '%s' is outside the workspace "
				  "'%s'", given, ws->root);
	ws->pipeline_file = rel;
	ws->pipeline_given = 1;
	return 0;
}

int workspace_open(struct workspace *ws, const char *pipeline_path, unsigned flags,
		   struct rp_err *err)
{
	char cwd[PATH_MAX], start[PATH_MAX];
	const char *slash = pipeline_path ? strrchr(pipeline_path, '/') : NULL;
	struct sigaction sa;

	memset(ws, 0, sizeof(*ws));
	ws->lock_fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_xfsz;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGXFSZ, &sa, NULL);
	if (!getcwd(cwd, sizeof(cwd))) {
		rp_err_set(err, RP_ERR_IO, "cannot get the current directory: %s", strerror(errno));
		goto fail;
	}
	if (slash) {
		/* -f DIR/FILE: the search starts in DIR */
		char *dir = xstrndup(pipeline_path, (size_t)(slash - pipeline_path) +
				     (slash == pipeline_path));

		if (chdir(dir) < 0) {
			rp_err_set(err, RP_ERR_INPUT, "cannot enter '%s': %s", dir, strerror(errno));
			free(dir);
			goto fail;
		}
		free(dir);
	}
	if (!getcwd(start, sizeof(start))) {
		rp_err_set(err, RP_ERR_IO, "cannot get the current directory: %s", strerror(errno));
		goto fail;
	}
	if (enter_root(ws, err) < 0)
		goto fail;
	ws->prefix = relative_to(cwd, ws->root);
	if (!ws->prefix)
		ws->prefix = xstrdup(".");
	/* another user's workspace is refused unless in safe.directories (config.h) */
	if (config_check_owner(ws->root, NULL, err) < 0)
		goto fail;
	if (name_pipeline_file(ws, pipeline_path, start, err) < 0)
		goto fail;
	if (!(flags & WS_NO_PIPELINE) && access(ws->pipeline_file, F_OK) < 0) {
		int any = 0;

		/* pipelines in subfolders only, as many DVC repositories have */
		if (ws->pipeline_given || workspace_walk(NULL, found_one, &any) < 0 || !any) {
			rp_err_set(err, RP_ERR_INPUT,
				   "no pipeline file '%s' in '%s'; write one (see rp.yaml(5)) or "
				   "name it with -f FILE", ws->pipeline_file, ws->root);
			goto fail;
		}
	}
	if (access(WS_DIR, F_OK) < 0) {
		const char *gi = config_gitignore_text();

		if (fs_mkdir_p(WS_DIR, 0755, err) < 0 ||
		    fs_write_atomic(WS_DIR "/.gitignore", gi, strlen(gi), err) < 0)
			goto fail;
	} else if (access(WS_LOCK_SNAP, F_OK) < 0) {
		refresh_gitignore();
	}
	if ((flags & WS_LOCK) && take_lock(ws, err) < 0)
		goto fail;
	{
		char *parsed = xasprintf("%s/%s", ws->root, WS_PARSED);

		ws->parsed = doccache_open(parsed);
		free(parsed);
	}
	if (config_load_workspace(&ws->cfg, ws->root, NULL, err) < 0)
		goto fail;
	ws->state = state_open(WS_STATE, err);
	if (!ws->state)
		goto fail;
	ws->store = store_open(ws->cfg.cache_dir, ws->state, err);
	if (!ws->store)
		goto fail;
	/* the mark that lets this workspace's gc delete from a store outside it */
	if (ws->store->created && store_set_creator(ws->store, ws->root, err) < 0)
		goto fail;
	if (store_set_links(ws->store, ws->cfg.cache_type, err) < 0)
		goto fail;
	return 0;
fail:
	workspace_close(ws);
	return -1;
}

/* ---- the pipeline files below the root ----------------------------------- */

struct walk {
	int (*skip)(void *ctx, const char *dir);
	int (*found)(void *ctx, const char *file);
	void *ctx;
};

struct entry {
	char *name;
	unsigned char type;   /* readdir's d_type */
};

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* The kind of entry `name` of `dir` (DT_DIR, DT_REG, ...), asking lstat when readdir did not say. */
static int entry_type(const char *dir, const struct entry *e)
{
	struct stat st;
	char *path;
	int r;

	if (e->type != DT_UNKNOWN)
		return e->type;
	path = strcmp(dir, ".") ? xasprintf("%s/%s", dir, e->name) : xstrdup(e->name);
	r = lstat(path, &st) < 0 ? DT_UNKNOWN : S_ISDIR(st.st_mode) ? DT_DIR :
	    S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
	free(path);
	return r;
}

/* `name` in `dir` as a root-relative path; newly allocated. */
static char *join(const char *dir, const char *name)
{
	return strcmp(dir, ".") ? xasprintf("%s/%s", dir, name) : xstrdup(name);
}

/* Walks directory `dir` (root-relative; "." is the root). */
static int walk_dir(struct walk *w, const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;
	struct entry *ents = NULL;
	size_t n = 0, alloc = 0, i;
	int ret = 0, nested = 0;

	if (!dh)
		return 0;
	while ((de = readdir(dh))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		/* a directory with its own .rp/, .dvc/ or .git is a workspace of its own */
		if (strcmp(dir, ".") && (!strcmp(de->d_name, ".rp") || !strcmp(de->d_name, ".dvc") ||
					 !strcmp(de->d_name, ".git")))
			nested = 1;
		/* only what may be a pipeline file or a directory to enter is kept */
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN &&
		    (de->d_type != DT_REG || (strcmp(de->d_name, "rp.yaml") &&
					      strcmp(de->d_name, "dvc.yaml"))))
			continue;
		if (de->d_type == DT_DIR && de->d_name[0] == '.')
			continue;
		ALLOC_GROW(ents, n + 1, alloc);
		ents[n].name = xstrdup(de->d_name);
		ents[n++].type = de->d_type;
	}
	closedir(dh);
	if (nested)
		goto out;
	if (n > 1)
		qsort(ents, n, sizeof(*ents), entry_cmp);
	for (i = 0; pipeline_names[i]; i++) {
		struct entry key = { (char *)pipeline_names[i], 0 };
		struct entry *hit = n ? bsearch(&key, ents, n, sizeof(*ents), entry_cmp) : NULL;

		if (hit && entry_type(dir, hit) == DT_REG) {
			char *file = join(dir, hit->name);

			ret = w->found(w->ctx, file);
			free(file);
			break;
		}
	}
	for (i = 0; i < n && !ret; i++) {
		char *sub;

		/* .git, .dvc, .hg, .rp and every other hidden directory; GIT~1 too */
		if (ents[i].name[0] == '.' ||
		    wspath_name_reserved(ents[i].name, strlen(ents[i].name)) ||
		    entry_type(dir, &ents[i]) != DT_DIR)
			continue;
		sub = join(dir, ents[i].name);
		if (!w->skip || !w->skip(w->ctx, sub))
			ret = walk_dir(w, sub);
		free(sub);
	}
out:
	for (i = 0; i < n; i++)
		free(ents[i].name);
	free(ents);
	return ret;
}

int workspace_walk(int (*skip)(void *ctx, const char *dir),
		   int (*found)(void *ctx, const char *file), void *ctx)
{
	struct walk w = { skip, found, ctx };

	return walk_dir(&w, ".");
}

char *workspace_arg_path(const struct workspace *ws, const char *arg)
{
	char *rel;

	if (arg[0] == '/' || !strcmp(ws->prefix, "."))
		return xstrdup(arg);
	rel = wspath_normalize(ws->prefix, arg);
	return rel ? rel : xasprintf("%s/%s/%s", ws->root, ws->prefix, arg);
}

void workspace_close(struct workspace *ws)
{
	doccache_close(ws->parsed);
	if (ws->state)
		state_save(ws->state);
	store_free(ws->store);
	state_close(ws->state);
	config_release(&ws->cfg);
	if (ws->lock_fd >= 0)
		close(ws->lock_fd);
	free(ws->root);
	free(ws->pipeline_file);
	free(ws->prefix);
	memset(ws, 0, sizeof(*ws));
	ws->lock_fd = -1;
}
