/*
 * exec.h - running stage commands, several at once, with prefixed output.
 *
 * Each job is a list of shell commands run in order with `sh -c` in a
 * working directory; the first that fails ends the job. A job's stdout and
 * stderr go through one pipe and are printed by the parent a line at a time
 * as "[prefix] line", so parallel stages never interleave within a line.
 *
 *     struct exec ex; exec_init(&ex, out);
 *     exec_start(&ex, id, "train", cmds, n, "src");
 *     while (exec_running(&ex)) { exec_wait(&ex, &id, &code); ... }
 *     exec_release(&ex);
 *
 * Nothing a job starts outlives the runner: the commands run under a small
 * watchdog process (see exec.c) that kills every process they started, with
 * SIGKILL, when exec_release() is called or when rp dies, even by SIGKILL.
 * When a command exits, what is left of its process group is killed too.
 *
 * Interrupting: exec_signal() (safe in a signal handler) forwards a signal
 * to every running command's process group; a second call, or the end of the
 * grace period (RP_KILL_GRACE seconds, default 5) after the first, kills
 * every process the jobs started with SIGKILL.
 */
#ifndef RP_EXEC_H
#define RP_EXEC_H

#include <signal.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/types.h>
#include "util/buf.h"
#include "util/error.h"

/* The grace period between a forwarded SIGINT/SIGTERM and SIGKILL, in seconds. */
#define EXEC_GRACE_DEFAULT 5.0
#define EXEC_GRACE_ENV "RP_KILL_GRACE"

struct exec_job {
	long id;
	pid_t pid;                /* the running command's shell (and process group); 0 when none */
	int fd;                   /* read end of the output pipe, -1 when closed */
	char *prefix;
	char **cmds;              /* borrowed */
	size_t ncmds, next;
	char *wdir;
	struct buf partial;       /* an unfinished output line */
	int status;               /* wait status of the last command */
	int exited;
};

struct exec {
	struct exec_job *jobs;
	size_t n, alloc;
	FILE *out;                /* where prefixed lines go (borrowed) */
	int echo;                 /* print "[prefix] $ cmd" before each command */
	double grace;             /* seconds from a forwarded signal to SIGKILL */
	pid_t runner;             /* the watchdog, started with the first command; 0 before */
	volatile sig_atomic_t sock; /* our end of the socket to the watchdog, -1 before */
	volatile sig_atomic_t signalled; /* the signal exec_signal() was given, or 0 */
};

/* Sets up an empty runner printing to `out`; reads RP_KILL_GRACE. */
void exec_init(struct exec *ex, FILE *out);
/*
 * Kills (SIGKILL) every process the jobs started that still runs, waits for
 * the watchdog to have reaped them all, frees everything.
 */
void exec_release(struct exec *ex);
/*
 * Starts job `id`: cmds[0..ncmds) (borrowed; must outlive the job) in `wdir`.
 * 0, or -1 + err if the first command cannot be started.
 */
int exec_start(struct exec *ex, long id, const char *prefix, char **cmds, size_t ncmds,
	       const char *wdir, struct rp_err *err);
/* Number of jobs still running. */
size_t exec_running(const struct exec *ex);
/*
 * Streams output until one job ends; sets *id and *code (0 success, the exit
 * status of the failing command, or 128+signal). Returns 0, or -1 with
 * nothing running. Something that went wrong on the way fills err, for the
 * caller to report before it handles the job (err->kind is RP_ERR_NONE
 * otherwise): the job's next command could not be started (*code is then
 * 127), or the watchdog died (every job was killed: 128+9).
 */
int exec_wait(struct exec *ex, long *id, int *code, struct rp_err *err);
/*
 * Forwards `sig` to every running command's process group; the second call,
 * or the end of the grace period after the first, kills every process the
 * jobs started with SIGKILL. Async-signal-safe: meant for a SIGINT/SIGTERM
 * handler. Does nothing before the first command started.
 */
void exec_signal(struct exec *ex, int sig);

/*
 * Runs argv[0] (looked up in PATH) with argv, no shell, and waits for it:
 * its stdout is appended to `out`, its stderr to `errout` (stdin and the
 * environment are the caller's). Returns its exit status (127 when it could
 * not be executed, with the reason in errout), or -1 with err filled when it
 * could not be started or was killed by a signal. A plain fork, without the
 * watchdog: for short helpers such as git, not for stage commands.
 */
int exec_capture(char *const argv[], struct buf *out, struct buf *errout, struct rp_err *err);

#endif
