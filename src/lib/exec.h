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
 */
#ifndef RP_EXEC_H
#define RP_EXEC_H

#include <stdio.h>
#include <stddef.h>
#include <sys/types.h>
#include "buf.h"

struct exec_job {
	long id;
	pid_t pid;
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
};

/* Sets up an empty runner printing to `out`. */
void exec_init(struct exec *ex, FILE *out);
/* Kills (SIGTERM) and reaps what still runs, frees everything. */
void exec_release(struct exec *ex);
/*
 * Starts job `id`: cmds[0..ncmds) (borrowed; must outlive the job) in `wdir`.
 * 0, or -1 (reported) if the first command cannot be started.
 */
int exec_start(struct exec *ex, long id, const char *prefix, char **cmds, size_t ncmds,
	       const char *wdir);
/* Number of jobs still running. */
size_t exec_running(const struct exec *ex);
/*
 * Streams output until one job ends; sets *id and *code (0 success, the exit
 * status of the failing command, or 128+signal). Returns 0, or -1 with
 * nothing running.
 */
int exec_wait(struct exec *ex, long *id, int *code);
/* Sends `sig` to every running job's process group. */
void exec_signal(struct exec *ex, int sig);

#endif
