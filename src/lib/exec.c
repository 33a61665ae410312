/*
 * exec.c - the process side of `rp repro` (see exec.h).
 *
 * Children are started with vfork(2) with their stdout and stderr on one
 * pipe and run "/bin/sh -c CMD" in their own process group, so a failing or
 * interrupted run can stop a whole stage (its shell and what the shell
 * started). The parent multiplexes the pipes with poll(2); a job ends when its
 * pipe reaches EOF and its process has been reaped.
 *
 * Why vfork and not fork: fork copies rp's page tables and then every page
 * rp writes takes a copy-on-write fault; with a large pipeline loaded that
 * was ~0.4 ms and ~50 page faults a stage, more than the stage itself. The
 * vfork child shares rp's memory until it execs, so it only makes system
 * calls (no stdio, no malloc, no return): its error messages are prepared by
 * the parent, and all signals stay blocked until the child has reset their
 * handlers, so no rp handler ever runs on the child's side of that memory.
 */
#include "exec.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

void exec_init(struct exec *ex, FILE *out)
{
	memset(ex, 0, sizeof(*ex));
	ex->out = out;
	ex->echo = 1;
}

static void job_free(struct exec_job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->prefix);
	free(j->wdir);
	buf_release(&j->partial);
}

void exec_release(struct exec *ex)
{
	exec_signal(ex, SIGTERM);
	for (size_t i = 0; i < ex->n; i++) {
		if (ex->jobs[i].pid > 0)
			waitpid(ex->jobs[i].pid, NULL, 0);
		job_free(&ex->jobs[i]);
	}
	free(ex->jobs);
	memset(ex, 0, sizeof(*ex));
}

void exec_signal(struct exec *ex, int sig)
{
	for (size_t i = 0; i < ex->n; i++)
		if (ex->jobs[i].pid > 0)
			kill(-ex->jobs[i].pid, sig);
}

static void flush_line(struct exec *ex, struct exec_job *j, const char *s, size_t len)
{
	fprintf(ex->out, "[%s] %.*s\n", j->prefix, (int)len, s);
}

/* Writes `s` to stderr from a vfork child (no stdio there). */
static void child_say(const char *s)
{
	ssize_t r = write(2, s, strlen(s));

	(void)r;
}

/* Starts the next command of `j`; 0 or -1 (reported). */
static int spawn(struct exec *ex, struct exec_job *j)
{
	static const int reset[] = { SIGPIPE, SIGINT, SIGTERM, SIGXFSZ };
	int p[2], devnull, saved_errno;
	pid_t pid, parent;
	sigset_t all, old;
	const char *cmd = j->cmds[j->next++];
	const char *wdir = j->wdir && strcmp(j->wdir, ".") ? j->wdir : NULL;
	char *wdir_msg = wdir ? xasprintf("rp: error: cannot enter wdir '%s': ", wdir) : NULL;

	if (ex->echo) {
		fprintf(ex->out, "[%s] $ %s\n", j->prefix, cmd);
		fflush(ex->out);
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		free(wdir_msg);
		return rp_error_errno("cannot create a pipe for stage '%s'", j->prefix);
	}
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fflush(NULL);
	parent = getpid();
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = vfork();
	if (pid == 0) {
		struct sigaction dfl;

		/* signals are blocked: put back the defaults before letting them in */
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		for (size_t k = 0; k < sizeof(reset) / sizeof(*reset); k++)
			sigaction(reset[k], &dfl, NULL);
		setpgid(0, 0);
		/* if rp dies (even by SIGKILL), its stage shells go with it */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(128 + SIGTERM);
		sigprocmask(SIG_SETMASK, &old, NULL);
		if (devnull >= 0)
			dup2(devnull, 0);       /* dup2 clears O_CLOEXEC on the copy */
		dup2(p[1], 1);
		dup2(p[1], 2);
		if (wdir && chdir(wdir) < 0) {
			child_say(wdir_msg);
			child_say(strerror(errno));
			child_say("\n");
			_exit(127);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		child_say("rp: error: cannot run /bin/sh: ");
		child_say(strerror(errno));
		child_say("\n");
		_exit(127);
	}
	saved_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(wdir_msg);
	if (devnull >= 0)
		close(devnull);
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		errno = saved_errno;
		return rp_error_errno("cannot start stage '%s'", j->prefix);
	}
	setpgid(pid, pid);
	close(p[1]);
	if (j->fd >= 0)
		close(j->fd);
	j->fd = p[0];
	j->pid = pid;
	j->exited = 0;
	return 0;
}

int exec_start(struct exec *ex, long id, const char *prefix, char **cmds, size_t ncmds,
	       const char *wdir)
{
	struct exec_job *j;

	ALLOC_GROW(ex->jobs, ex->n + 1, ex->alloc);
	j = &ex->jobs[ex->n];
	memset(j, 0, sizeof(*j));
	j->id = id;
	j->fd = -1;
	j->prefix = xstrdup(prefix);
	j->cmds = cmds;
	j->ncmds = ncmds;
	j->wdir = xstrdup(wdir ? wdir : ".");
	buf_init(&j->partial);
	if (ncmds == 0) {
		/* nothing to run: report success at the next wait */
		j->pid = 0;
		j->exited = 1;
		ex->n++;
		return 0;
	}
	if (spawn(ex, j) < 0) {
		job_free(j);
		return -1;
	}
	ex->n++;
	return 0;
}

size_t exec_running(const struct exec *ex)
{
	return ex->n;
}

/* Reads what is available on j->fd; prints whole lines. Returns 0 on EOF. */
static int pump(struct exec *ex, struct exec_job *j)
{
	char tmp[65536];
	ssize_t n = read(j->fd, tmp, sizeof(tmp));
	size_t start = 0;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : 0;
	if (n == 0) {
		if (j->partial.len) {
			flush_line(ex, j, j->partial.s, j->partial.len);
			buf_reset(&j->partial);
		}
		fflush(ex->out);
		return 0;
	}
	for (ssize_t i = 0; i < n; i++) {
		if (tmp[i] != '\n')
			continue;
		if (j->partial.len) {
			buf_add(&j->partial, tmp + start, (size_t)i - start);
			flush_line(ex, j, j->partial.s, j->partial.len);
			buf_reset(&j->partial);
		} else {
			flush_line(ex, j, tmp + start, (size_t)i - start);
		}
		start = (size_t)i + 1;
	}
	buf_add(&j->partial, tmp + start, (size_t)n - start);
	fflush(ex->out);
	return 1;
}

static int status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 1;
}

static void remove_job(struct exec *ex, size_t i)
{
	job_free(&ex->jobs[i]);
	memmove(ex->jobs + i, ex->jobs + i + 1, (ex->n - i - 1) * sizeof(*ex->jobs));
	ex->n--;
}

int exec_wait(struct exec *ex, long *id, int *code)
{
	struct pollfd *pfd = NULL;
	size_t alloc = 0;

	if (!ex->n)
		return -1;
	for (;;) {
		size_t i, np = 0;

		/* a job whose pipe is closed: reap it, then start its next command */
		for (i = 0; i < ex->n; i++) {
			struct exec_job *j = &ex->jobs[i];

			if (j->fd >= 0)
				continue;
			if (!j->exited) {
				while (waitpid(j->pid, &j->status, 0) < 0 && errno == EINTR)
					;
				j->exited = 1;
				j->pid = 0;
			}
			if (status_code(j->status) == 0 && j->next < j->ncmds) {
				if (spawn(ex, j) == 0)
					continue;
				j->status = 127 << 8;
			}
			*id = j->id;
			*code = status_code(j->status);
			remove_job(ex, i);
			free(pfd);
			return 0;
		}
		ALLOC_GROW(pfd, ex->n, alloc);
		for (i = 0; i < ex->n; i++) {
			pfd[np].fd = ex->jobs[i].fd;
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			np++;
		}
		if (poll(pfd, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			BUG("poll failed: %s", strerror(errno));
		}
		for (i = 0; i < np; i++) {
			struct exec_job *j = &ex->jobs[i];

			if (!pfd[i].revents)
				continue;
			if (!pump(ex, j)) {
				close(j->fd);
				j->fd = -1;
			}
		}
	}
}
