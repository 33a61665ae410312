/*
 * exec.c - the process side of `rp repro` and `rp checkout --rebuild` (see
 * exec.h).
 *
 * Two processes. rp multiplexes the jobs' output pipes with poll(2) and
 * prints their lines; a job's command ends when its pipe reaches EOF and
 * its exit status has arrived. The commands themselves are started, reaped
 * and killed by the runner: a small watchdog process that rp forks when the
 * first command starts, connected to rp by a SOCK_SEQPACKET socket pair:
 *
 *     rp -> runner   SPAWN  cmd, wdir, and the pipe's write end (SCM_RIGHTS)
 *                    SIGNAL sig (from rp's SIGINT/SIGTERM handler)
 *     runner -> rp   STARTED pid (or errno), in reply to each SPAWN
 *                    EXITED pid, wait status, when a command has exited
 *
 * The runner is a PR_SET_CHILD_SUBREAPER: every command is its child, in
 * its own process group, and whatever a command leaves behind (background
 * jobs, double forks, processes that setsid() away into their own session)
 * is re-parented to the runner when its parent dies, never to init. So the
 * runner can always find every process a stage started among its own
 * children (/proc/PID/task/PID/children, or a scan of /proc). It kills them
 * all with SIGKILL, and reaps until it has no child left (or none has died
 * for 5 s: a process stuck in the kernel is not worth a hung rp):
 *   - when its socket reaches EOF: rp called exec_release(), or rp died, by
 *     any signal including SIGKILL, since the kernel closes a dead process's
 *     descriptors and nothing else holds rp's end (SOCK_CLOEXEC);
 *   - on a second SIGNAL, or when the grace period (RP_KILL_GRACE, default
 *     5 s) after the first SIGNAL has passed; the first SIGNAL only forwards
 *     the signal to every running command's process group.
 * When a command exits, the runner kills (SIGKILL) what is left of its
 * process group before reaping it (the unreaped zombie keeps the group's id
 * from being reused), so nothing a finished stage started keeps writing to
 * its outputs while they are hashed and linked into the store.
 * The runner ignores SIGINT, SIGTERM, SIGHUP and SIGQUIT (a Ctrl-C reaches
 * rp's whole process group) so that it is still there to clean up when they
 * kill rp; it exits only after its cleanup, and exec_release() waits for it,
 * so once rp has returned from exec_release() no process it started runs.
 * While the runner lives it holds the descriptors it inherited from rp, the
 * workspace lock and the store's lease among them: a killed rp's workspace
 * stays locked (and its store safe from gc) until its stages are dead.
 *
 * Why this and not the alternatives: PR_SET_PDEATHSIG reaches only the
 * direct child (the shell) and is cleared by fork; killing process groups
 * misses setsid(); rp itself as the subreaper takes its orphans down with it
 * when it is SIGKILLed (they go to init); a cgroup v2 with cgroup.kill would
 * be exact but needs a delegated, writable cgroup, which these machines and
 * most containers do not give, and still needs someone alive to write to
 * it after rp's SIGKILL. A subreaper watchdog needs only prctl and fork.
 *
 * Cost: the runner is forked once per struct exec, only when a command is
 * actually started (a no-op run starts none). A command costs one message
 * each way and a vfork in the runner, which is small and single-threaded,
 * instead of a vfork in rp: tens of microseconds.
 *
 * Why vfork: fork copies the page tables and every page written afterwards
 * takes a copy-on-write fault; the vfork child shares the runner's memory
 * until it execs, so it only makes system calls (no stdio, no malloc, no
 * return): its error messages are prepared before.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "util/exec.h"
#include "util/error.h"
#include "util/numopt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

enum msg_type { MSG_SPAWN = 1, MSG_SIGNAL, MSG_STARTED, MSG_EXITED };

struct msg {
	int type;
	int value;          /* SIGNAL: the signal; STARTED: 0 or errno; EXITED: wait status */
	pid_t pid;          /* STARTED, EXITED */
	uint32_t cmdlen;    /* SPAWN: the command and the wdir follow, each with its NUL */
	uint32_t wdirlen;
};

#define CMD_MAX (128 * 1024)    /* MAX_ARG_STRLEN: the longest argument execve takes */
#define WDIR_MAX 4096
#define MSG_MAX (sizeof(struct msg) + CMD_MAX + WDIR_MAX)

/* ---- the runner (the watchdog process) --------------------------------- */

struct runner {
	int sock;
	int sfd;                /* signalfd for SIGCHLD */
	int devnull;
	pid_t self;
	pid_t *stages;          /* the commands' shells not reaped yet */
	size_t nstages, alloc;
	int signals;            /* SIGNAL messages so far */
	int killed;             /* everything was killed after the signals */
	double grace;
	struct timespec deadline;
	int parent_gone;
	sigset_t mask;          /* the signal mask the commands get */
	int reset_hup, reset_quit;
	char *buf;
};

static void say(int fd, const char *s)
{
	ssize_t r = write(fd, s, strlen(s));

	(void)r;
}

static void runner_send(struct runner *r, int type, pid_t pid, int value)
{
	struct msg m = { type, value, pid, 0, 0 };

	if (r->parent_gone)
		return;
	while (send(r->sock, &m, sizeof(m), MSG_NOSIGNAL) < 0) {
		if (errno == EINTR)
			continue;
		r->parent_gone = 1;
		return;
	}
}

static ssize_t stage_index(const struct runner *r, pid_t pid)
{
	for (size_t k = 0; k < r->nstages; k++)
		if (r->stages[k] == pid)
			return (ssize_t)k;
	return -1;
}

/* Reaped `pid` with `status`: if it is a command's shell, tell rp. */
static void reaped(struct runner *r, pid_t pid, int status)
{
	ssize_t k = stage_index(r, pid);

	if (k < 0)
		return;   /* something a command left behind */
	r->stages[k] = r->stages[--r->nstages];
	runner_send(r, MSG_EXITED, pid, status);
}

/* SIGKILLs every child of the runner and the process group each one leads. */
static void kill_children(struct runner *r)
{
	char path[64], buf[4096];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)r->self, (int)r->self);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		long pid = 0;
		ssize_t n;

		while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
			for (ssize_t i = 0; i < n; i++) {
				if (buf[i] >= '0' && buf[i] <= '9') {
					pid = pid * 10 + (buf[i] - '0');
				} else if (pid) {
					kill((pid_t)pid, SIGKILL);
					kill(-(pid_t)pid, SIGKILL);
					pid = 0;
				}
			}
		}
		if (pid) {
			kill((pid_t)pid, SIGKILL);
			kill(-(pid_t)pid, SIGKILL);
		}
		close(fd);
		return;
	}
	/* a kernel without CONFIG_PROC_CHILDREN: look for our pid as a parent */
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *end, *close_paren;
		long pid = strtol(e->d_name, &end, 10);
		ssize_t n;
		int ppid;

		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "pid (comm) state ppid ...": comm may hold ')' itself */
		close_paren = strrchr(buf, ')');
		if (close_paren && sscanf(close_paren + 1, " %*c %d", &ppid) == 1 &&
		    ppid == (int)r->self) {
			kill((pid_t)pid, SIGKILL);
			kill(-(pid_t)pid, SIGKILL);
		}
	}
	closedir(d);
}

/*
 * Kills every process the commands started and reaps until the runner has
 * no child left. A process whose parent is killed is re-parented to the
 * runner (a subreaper), so each round finds the next generation.
 */
static void kill_all(struct runner *r)
{
	int idle = 0;

	for (;;) {
		pid_t pid;
		int status;

		for (size_t k = 0; k < r->nstages; k++)
			kill(-r->stages[k], SIGKILL);
		kill_children(r);
		pid = waitpid(-1, &status, WNOHANG);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;          /* ECHILD: nothing is left */
		}
		if (pid > 0) {
			reaped(r, pid, status);
			idle = 0;
			continue;
		}
		/*
		 * Children left, none dead yet. SIGKILL takes effect within
		 * moments; a child still there after 5 s (stuck in the kernel,
		 * or out of reach without /proc) is left rather than have rp
		 * wait for it forever.
		 */
		if (++idle > 1000)
			break;
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
	r->killed = 1;
}

/* Reaps what has exited; a command's leftovers in its group die first. */
static void reap(struct runner *r)
{
	struct signalfd_siginfo si;

	while (r->sfd >= 0 && read(r->sfd, &si, sizeof(si)) > 0)
		;
	for (;;) {
		siginfo_t info;
		pid_t pid;
		int status;

		memset(&info, 0, sizeof(info));
		if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || !info.si_pid)
			break;
		pid = info.si_pid;
		/* the zombie keeps its group's id from being reused until it is reaped */
		if (stage_index(r, pid) >= 0)
			kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		reaped(r, pid, status);
	}
}

/* Starts `cmd` in `wdir` ("" for here) with stdout and stderr on `outfd` (closed). */
static void runner_spawn(struct runner *r, const char *cmd, const char *wdir, int outfd)
{
	static const int reset[] = { SIGPIPE, SIGINT, SIGTERM, SIGXFSZ };
	char *wdir_msg = *wdir ? xasprintf("rp: error: cannot enter wdir '%s': ", wdir) : NULL;
	pid_t pid, self = r->self;
	int saved_errno;

	pid = vfork();
	if (pid == 0) {
		struct sigaction dfl;

		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		for (size_t k = 0; k < sizeof(reset) / sizeof(*reset); k++)
			sigaction(reset[k], &dfl, NULL);
		if (r->reset_hup)
			sigaction(SIGHUP, &dfl, NULL);
		if (r->reset_quit)
			sigaction(SIGQUIT, &dfl, NULL);
		setpgid(0, 0);
		/* should the runner itself be killed, its commands go with it */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != self)
			_exit(128 + SIGKILL);
		sigprocmask(SIG_SETMASK, &r->mask, NULL);
		if (r->devnull >= 0)
			dup2(r->devnull, 0);    /* dup2 clears O_CLOEXEC on the copy */
		dup2(outfd, 1);
		dup2(outfd, 2);
		if (*wdir && chdir(wdir) < 0) {
			say(2, wdir_msg);
			say(2, strerror(errno));
			say(2, "\n");
			_exit(127);
		}
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		say(2, "rp: error: cannot run /bin/sh: ");
		say(2, strerror(errno));
		say(2, "\n");
		_exit(127);
	}
	saved_errno = errno;
	free(wdir_msg);
	close(outfd);
	if (pid > 0) {
		setpgid(pid, pid);
		ALLOC_GROW(r->stages, r->nstages + 1, r->alloc);
		r->stages[r->nstages++] = pid;
	}
	runner_send(r, MSG_STARTED, pid > 0 ? pid : 0, pid > 0 ? 0 : saved_errno);
	/* a command started after the signals is killed at once */
	if (pid > 0 && r->killed)
		kill(-pid, SIGKILL);
}

/* Handles one message from rp; 0, or -1 when rp is gone. */
static int runner_read(struct runner *r)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { r->buf, MSG_MAX };
	struct msghdr mh;
	struct msg m;
	ssize_t n;
	int fd = -1;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	n = recvmsg(r->sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(c), sizeof(int));
	if ((size_t)n < sizeof(m)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	memcpy(&m, r->buf, sizeof(m));
	if (m.type == MSG_SPAWN) {
		const char *cmd = r->buf + sizeof(m);
		const char *wdir = cmd + m.cmdlen;

		if (fd < 0 || m.cmdlen < 1 || m.wdirlen < 1 ||
		    (size_t)n != sizeof(m) + m.cmdlen + m.wdirlen ||
		    cmd[m.cmdlen - 1] || wdir[m.wdirlen - 1]) {
			if (fd >= 0)
				close(fd);
			runner_send(r, MSG_STARTED, 0, EINVAL);
			return 0;
		}
		runner_spawn(r, cmd, wdir, fd);
		return 0;
	}
	if (fd >= 0)
		close(fd);
	if (m.type == MSG_SIGNAL) {
		if (++r->signals == 1 && r->grace > 0) {
			for (size_t k = 0; k < r->nstages; k++)
				kill(-r->stages[k], m.value);
			clock_gettime(CLOCK_MONOTONIC, &r->deadline);
			r->deadline.tv_sec += (time_t)r->grace;
			r->deadline.tv_nsec += (long)((r->grace - (double)(time_t)r->grace) * 1e9);
			if (r->deadline.tv_nsec >= 1000000000L) {
				r->deadline.tv_sec++;
				r->deadline.tv_nsec -= 1000000000L;
			}
		} else {
			kill_all(r);
		}
	}
	return 0;
}

/* Milliseconds until the grace period ends (rounded up), 0 when it has. */
static int ms_left(const struct timespec *deadline)
{
	struct timespec now;
	double left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left = (double)(deadline->tv_sec - now.tv_sec) * 1e3 +
	       (double)(deadline->tv_nsec - now.tv_nsec) / 1e6;
	return left <= 0 ? 0 : (int)left + 1;
}

/* The runner's life; never returns. `mask` is the mask rp had before the fork. */
static void runner_main(int sock, double grace, const sigset_t *mask)
{
	struct runner r;
	struct sigaction ign, old;
	sigset_t chld;

	memset(&r, 0, sizeof(r));
	r.sock = sock;
	r.self = getpid();
	r.grace = grace;
	r.mask = *mask;
	r.buf = xmalloc(MSG_MAX);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGTERM, &ign, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	/* reset in the commands only what rp did not ignore itself (nohup rp ...) */
	sigaction(SIGHUP, &ign, &old);
	r.reset_hup = old.sa_handler != SIG_IGN;
	sigaction(SIGQUIT, &ign, &old);
	r.reset_quit = old.sa_handler != SIG_IGN;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	r.sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	{
		sigset_t m = *mask;

		sigaddset(&m, SIGCHLD);
		sigprocmask(SIG_SETMASK, &m, NULL);
	}
	r.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (;;) {
		struct pollfd pfd[2] = { { r.sock, POLLIN, 0 }, { r.sfd, POLLIN, 0 } };
		int timeout = -1;

		if (r.signals == 1 && !r.killed) {
			timeout = ms_left(&r.deadline);
			if (!timeout) {
				kill_all(&r);
				continue;
			}
		}
		/* without a signalfd, look for exited children every 50 ms */
		if (r.sfd < 0 && (timeout < 0 || timeout > 50))
			timeout = 50;
		if (poll(pfd, r.sfd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR)
			break;
		if (r.sfd < 0 || pfd[1].revents)
			reap(&r);
		if ((pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) && runner_read(&r) < 0)
			break;
	}
	r.parent_gone = 1;
	kill_all(&r);
	_exit(0);
}

/* ---- rp's side ------------------------------------------------------------ */

static double grace_from_env(void)
{
	const char *s = getenv(EXEC_GRACE_ENV);
	double g;

	if (!s || !*s)
		return EXEC_GRACE_DEFAULT;
	if (numopt_parse_double(s, 0, 86400, &g) < 0) {
		rp_warn("%s='%s' is not a number of seconds from 0 to 86400; using %g",
			   EXEC_GRACE_ENV, s, EXEC_GRACE_DEFAULT);
		return EXEC_GRACE_DEFAULT;
	}
	return g;
}

void exec_init(struct exec *ex, FILE *out)
{
	memset(ex, 0, sizeof(*ex));
	ex->out = out;
	ex->echo = 1;
	ex->sock = -1;
	ex->grace = grace_from_env();
}

static void job_free(struct exec_job *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->prefix);
	free(j->wdir);
	buf_release(&j->partial);
}

/*
 * Closes rp's end of the runner's socket and reaps the runner. The EOF makes
 * a live runner kill whatever still runs, then exit.
 */
static void runner_stop(struct exec *ex)
{
	int sock = ex->sock;

	ex->sock = -1;
	if (sock >= 0)
		close(sock);
	if (ex->runner > 0)
		while (waitpid(ex->runner, NULL, 0) < 0 && errno == EINTR)
			;
	ex->runner = 0;
}

void exec_release(struct exec *ex)
{
	runner_stop(ex);
	for (size_t i = 0; i < ex->n; i++)
		job_free(&ex->jobs[i]);
	free(ex->jobs);
	memset(ex, 0, sizeof(*ex));
	ex->sock = -1;
}

void exec_signal(struct exec *ex, int sig)
{
	struct msg m = { MSG_SIGNAL, sig, 0, 0, 0 };
	int sock = ex->sock, saved = errno;

	ex->signalled = sig;
	if (sock >= 0)
		(void)send(sock, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
	errno = saved;
}

static void flush_line(struct exec *ex, struct exec_job *j, const char *s, size_t len)
{
	fprintf(ex->out, "[%s] %.*s\n", j->prefix, (int)len, s);
}

/* Forks the runner; 0 or -1 + err. */
static int start_runner(struct exec *ex, struct rp_err *err)
{
	int sv[2], size = 1 << 20, saved_errno;
	sigset_t all, old;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot create a socket to run stage commands: %s",
				  strerror(errno));
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	fflush(NULL);
	/* no handler of rp's may run in the runner before it set its own */
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		runner_main(sv[1], ex->grace, &old);
	}
	saved_errno = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return rp_err_set(err, RP_ERR_IO, "cannot start the process that runs stage "
				  "commands: %s", strerror(saved_errno));
	}
	ex->runner = pid;
	ex->sock = sv[0];
	return 0;
}

static struct exec_job *job_by_pid(struct exec *ex, pid_t pid)
{
	for (size_t i = 0; i < ex->n; i++)
		if (ex->jobs[i].pid == pid)
			return &ex->jobs[i];
	return NULL;
}

/* The runner is gone (killed from outside): what ran under it is dead too. Fills err. */
static void runner_lost(struct exec *ex, struct rp_err *err)
{
	runner_stop(ex);
	for (size_t i = 0; i < ex->n; i++) {
		struct exec_job *j = &ex->jobs[i];

		if (j->pid > 0) {
			j->status = SIGKILL;    /* a wait status: killed by SIGKILL */
			j->exited = 1;
			j->pid = 0;
		}
	}
	rp_err_set(err, RP_ERR_IO, "the process that ran the stage commands died; they were killed");
}

/*
 * Reads one message from the runner into *m, waiting for it when `block`.
 * An EXITED message is applied to its job. 1 read, 0 none, -1 the runner is
 * gone (handled; err says so).
 */
static int recv_msg(struct exec *ex, struct msg *m, int block, struct rp_err *err)
{
	for (;;) {
		ssize_t n = recv(ex->sock, m, sizeof(*m), block ? 0 : MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			runner_lost(ex, err);
			return -1;
		}
		if (m->type == MSG_EXITED) {
			struct exec_job *j = job_by_pid(ex, m->pid);

			if (j) {
				j->status = m->value;
				j->exited = 1;
				j->pid = 0;
			}
		}
		return 1;
	}
}

/* Starts the next command of `j`; 0 or -1 + err. */
static int spawn(struct exec *ex, struct exec_job *j, struct rp_err *err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	const char *cmd = j->cmds[j->next++];
	const char *wdir = j->wdir && strcmp(j->wdir, ".") ? j->wdir : "";
	size_t clen = strlen(cmd) + 1, wlen = strlen(wdir) + 1;
	struct msg m = { MSG_SPAWN, 0, 0, (uint32_t)clen, (uint32_t)wlen };
	struct iovec iov[3] = { { &m, sizeof(m) }, { (void *)cmd, clen }, { (void *)wdir, wlen } };
	struct msghdr mh;
	struct cmsghdr *c;
	int p[2];
	ssize_t r;

	if (ex->echo) {
		/* a command may name a URL with credentials: shown redacted (error.h) */
		char *shown = rp_redact(cmd, clen - 1);

		fprintf(ex->out, "[%s] $ %s\n", j->prefix, shown);
		fflush(ex->out);
		free(shown);
	}
	if (clen > CMD_MAX)
		return rp_err_set(err, RP_ERR_IO, "cannot start stage '%s': its command is %zu bytes "
				  "long, more than the %d a program can be given", j->prefix, clen - 1,
				  CMD_MAX - 1);
	if (wlen > WDIR_MAX)
		return rp_err_set(err, RP_ERR_IO, "cannot start stage '%s': its wdir is too long",
				  j->prefix);
	if (ex->sock < 0 && start_runner(ex, err) < 0)
		return -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot create a pipe for stage '%s': %s",
				  j->prefix, strerror(errno));
	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	mh.msg_iov = iov;
	mh.msg_iovlen = 3;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &p[1], sizeof(int));
	while ((r = sendmsg(ex->sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	close(p[1]);
	if (r < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot start stage '%s': %s", j->prefix, strerror(errno));
		close(p[0]);
		return -1;
	}
	/* EXITED messages of other jobs may come first */
	do {
		if (recv_msg(ex, &m, 1, err) < 0) {
			/* err says that the runner died: the cause, told alone */
			close(p[0]);
			return -1;
		}
	} while (m.type != MSG_STARTED);
	if (m.value) {
		close(p[0]);
		return rp_err_set(err, RP_ERR_IO, "cannot start stage '%s': %s", j->prefix,
				  strerror(m.value));
	}
	if (j->fd >= 0)
		close(j->fd);
	j->fd = p[0];
	j->pid = m.pid;
	j->exited = 0;
	return 0;
}

int exec_start(struct exec *ex, long id, const char *prefix, char **cmds, size_t ncmds,
	       const char *wdir, struct rp_err *err)
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
	if (spawn(ex, j, err) < 0) {
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

int exec_wait(struct exec *ex, long *id, int *code, struct rp_err *err)
{
	struct pollfd *pfd = NULL;
	size_t alloc = 0;

	if (err)
		err->kind = RP_ERR_NONE;
	if (!ex->n)
		return -1;
	for (;;) {
		size_t i, np = 0;
		struct msg m;

		/* a job whose pipe is closed and whose command has exited: next command, or done */
		for (i = 0; i < ex->n; i++) {
			struct exec_job *j = &ex->jobs[i];

			if (j->fd >= 0 || !j->exited)
				continue;
			/* after a signal, a job's next command is not started */
			if (status_code(j->status) == 0 && j->next < j->ncmds && ex->signalled)
				j->status = (128 + ex->signalled) << 8;
			if (status_code(j->status) == 0 && j->next < j->ncmds) {
				if (spawn(ex, j, err) == 0)
					continue;
				j->status = 127 << 8;
			}
			*id = j->id;
			*code = status_code(j->status);
			remove_job(ex, i);
			free(pfd);
			return 0;
		}
		ALLOC_GROW(pfd, ex->n + 1, alloc);
		for (i = 0; i < ex->n; i++) {
			pfd[np].fd = ex->jobs[i].fd;   /* a closed pipe (-1) is skipped by poll */
			pfd[np].events = POLLIN;
			pfd[np].revents = 0;
			np++;
		}
		pfd[np].fd = ex->sock;
		pfd[np].events = POLLIN;
		pfd[np].revents = 0;
		if (poll(pfd, np + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			BUG("poll failed: %s", strerror(errno));
		}
		for (i = 0; i < np; i++) {
			struct exec_job *j = &ex->jobs[i];

			if (!pfd[i].revents || j->fd < 0)
				continue;
			if (!pump(ex, j)) {
				close(j->fd);
				j->fd = -1;
			}
		}
		if (pfd[np].revents && ex->sock >= 0)
			while (recv_msg(ex, &m, 0, err) > 0)
				;
	}
}

/* ---- one command, output captured ------------------------------------------- */

/* Reads `fds` (stdout, stderr pipes) into out and errout until both close. */
static void capture(struct pollfd fds[2], struct buf *out, struct buf *errout)
{
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
				buf_add(i ? errout : out, tmp, (size_t)n);
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
}

int exec_capture(char *const argv[], struct buf *out, struct buf *errout, struct rp_err *err)
{
	int po[2], pe[2], status;
	pid_t pid;

	if (pipe2(po, O_CLOEXEC) < 0)
		return rp_err_set(err, RP_ERR_IO, "cannot run %s: %s", argv[0], strerror(errno));
	if (pipe2(pe, O_CLOEXEC) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot run %s: %s", argv[0], strerror(errno));
		close(po[0]);
		close(po[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot run %s: %s", argv[0], strerror(errno));
		close(po[0]); close(po[1]); close(pe[0]); close(pe[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	capture((struct pollfd[2]){ { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } }, out, errout);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return rp_err_set(err, RP_ERR_IO, "cannot wait for %s: %s", argv[0], strerror(errno));
	if (!WIFEXITED(status))
		return rp_err_set(err, RP_ERR_IO, "%s was killed by signal %d", argv[0], WTERMSIG(status));
	return WEXITSTATUS(status);
}
