/*
 * cmd.h - the subcommands of rp(1), one file each (cmd-NAME.c).
 *
 * Each takes the arguments after the subcommand name (argv[0] is the name)
 * and returns the process exit code (enum rp_exit). Global options parsed by
 * main() are in `rp_opts`.
 */
#ifndef RP_CMD_H
#define RP_CMD_H

struct rp_opts {
	const char *pipeline_file;  /* -f FILE; NULL: rp.yaml (or dvc.yaml) */
	int quiet;                  /* -q */
	int verbose;                /* -v */
};
extern struct rp_opts rp_opts;

int cmd_cache(int argc, char **argv);
int cmd_checkout(int argc, char **argv);
int cmd_dag(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_params(int argc, char **argv);
int cmd_repro(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* Prints "usage: ..." help text to stdout (help) or stderr (error) and returns the code. */
int cmd_usage(const char *text, int is_error);

#endif
