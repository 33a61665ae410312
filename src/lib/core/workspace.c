/*
 * workspace.c - opening a workspace (see workspace.h).
 *
 * .rp/lock holds the pid of the process that has the flock, for the message
 * a second process prints. The flock goes away with the process, so a killed
 * run never leaves the workspace locked.
 */
#include "core/workspace.h"
#include "yaml/doccache.h"
#include "util/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

int workspace_open(struct workspace *ws, const char *pipeline_path, unsigned flags,
		   struct rp_err *err)
{
	char cwd[PATH_MAX];
	const char *file = pipeline_path;
	char *dir = NULL, *slash;
	struct sigaction sa;

	memset(ws, 0, sizeof(*ws));
	ws->lock_fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_xfsz;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGXFSZ, &sa, NULL);
	if (!file)
		file = access("rp.yaml", F_OK) == 0 || access("dvc.yaml", F_OK) != 0
			? "rp.yaml" : "dvc.yaml";
	slash = strrchr(file, '/');
	if (slash) {
		dir = xstrndup(file, (size_t)(slash - file) + (slash == file));
		ws->pipeline_file = xstrdup(slash + 1);
		if (chdir(dir) < 0) {
			rp_err_set(err, RP_ERR_INPUT, "cannot enter '%s': %s", dir, strerror(errno));
			free(dir);
			goto fail;
		}
		free(dir);
	} else {
		ws->pipeline_file = xstrdup(file);
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		rp_err_set(err, RP_ERR_IO, "cannot get the current directory: %s", strerror(errno));
		goto fail;
	}
	ws->root = xstrdup(cwd);
	/* another user's workspace is refused unless in safe.directories (config.h) */
	if (config_check_owner(ws->root, NULL, err) < 0)
		goto fail;
	if (!(flags & WS_NO_PIPELINE) && access(ws->pipeline_file, F_OK) < 0) {
		rp_err_set(err, RP_ERR_INPUT,
			   "no pipeline file '%s' in '%s'; write one (see rp.yaml(5)) or name it with -f FILE",
			   ws->pipeline_file, ws->root);
		goto fail;
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
	memset(ws, 0, sizeof(*ws));
	ws->lock_fd = -1;
}
