/*
 * git.c - running git to read other revisions (see git.h).
 *
 * Commands run with fork/exec (no shell), stdout captured, stderr captured
 * for the message. GIT_* variables of the caller apply as usual.
 */
#include "core/git.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs git with argv; stdout into out, stderr into errb. Returns exit code or -1. */
static int run_git(char *const argv[], struct buf *out, struct buf *errb)
{
	int po[2], pe[2], status;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execvp("git", argv);
		dprintf(2, "cannot run git: %s", strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	struct pollfd fds[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
	int open_fds = 2;
	while (open_fds) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			char tmp[65536];
			ssize_t n;

			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			n = read(fds[i].fd, tmp, sizeof(tmp));
			if (n > 0) {
				buf_add(i ? errb : out, tmp, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void trim(struct buf *b)
{
	while (b->len && (b->s[b->len - 1] == '\n' || b->s[b->len - 1] == ' '))
		b->s[--b->len] = '\0';
}

int git_show(const char *rev, const char *path, struct buf *out, struct rp_err *err)
{
	struct buf errb = BUF_INIT;
	char *spec = xasprintf("%s:./%s", rev, path);
	char *verify = xasprintf("%s^{commit}", rev);
	char *argv_v[] = { "git", "rev-parse", "--verify", "--quiet", verify, NULL };
	char *argv_s[] = { "git", "show", spec, NULL };
	struct buf dummy = BUF_INIT;
	int rc, ret = -1;

	rc = run_git(argv_v, &dummy, &errb);
	if (rc != 0) {
		trim(&errb);
		rp_err_set(err, RP_ERR_INPUT, "'%s' is not a git revision here%s%s",
			   rev, errb.len ? ": " : "", errb.s);
		goto out;
	}
	buf_reset(&errb);
	rc = run_git(argv_s, out, &errb);
	if (rc == 0) {
		ret = 0;
	} else if (strstr(errb.s, "does not exist") || strstr(errb.s, "exists on disk, but not in")) {
		ret = 1;
	} else {
		trim(&errb);
		rp_err_set(err, RP_ERR_IO, "git show '%s' failed: %s", spec, errb.s);
	}
out:
	buf_release(&dummy);
	buf_release(&errb);
	free(spec);
	free(verify);
	return ret;
}

int git_revs_touching(const char *path, struct buf *out, struct rp_err *err)
{
	struct buf errb = BUF_INIT;
	/*
	 * --full-history: without it git simplifies history by following one
	 * TREESAME parent, so the side of a '-s ours' merge, whose rp.lock
	 * versions no ref names any more, would be skipped. --reflog: what git
	 * itself keeps (a rewritten branch's old commits) is kept here too.
	 */
	char *argv[] = { "git", "rev-list", "--all", "--reflog", "--full-history", "--",
			 (char *)path, NULL };
	int rc = run_git(argv, out, &errb);

	if (rc != 0) {
		trim(&errb);
		rp_err_set(err, RP_ERR_INPUT, "git rev-list failed: %s", errb.s);
		buf_release(&errb);
		return -1;
	}
	buf_release(&errb);
	return 0;
}

struct doc *git_load_doc(const char *rev, const char *path, int *absent, struct rp_err *err)
{
	struct buf b = BUF_INIT;
	struct doc *d = NULL;
	char *name = xasprintf("%s:%s", rev, path);
	int r = git_show(rev, path, &b, err);

	*absent = r == 1;
	if (r == 0)
		d = doc_load_buf(name, b.s, b.len, err);
	free(name);
	buf_release(&b);
	return d;
}

struct doc *git_load_doc_or_report(const char *rev, const char *path, int *failed)
{
	struct rp_err err = { 0 };
	int absent;
	struct doc *d = git_load_doc(rev, path, &absent, &err);

	if (!d && !absent) {
		rp_err_report(&err);
		*failed = 1;
	}
	return d;
}
