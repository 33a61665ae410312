/*
 * cmd.h - the subcommands of rp(1), one file each (cmd-NAME.c).
 *
 * Each takes the arguments after the subcommand name (argv[0] is the name)
 * and returns the process exit code (enum rp_exit). Global options parsed by
 * main() are in `rp_opts`.
 */
#ifndef RP_CMD_H
#define RP_CMD_H

#include <stddef.h>

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
int cmd_stage(int argc, char **argv);
int cmd_status(int argc, char **argv);

/* Prints "usage: ..." help text to stdout (help) or stderr (error) and returns the code. */
int cmd_usage(const char *text, int is_error);
/* Prints "rp: error: <fmt>" and then the usage `text` to stderr; returns RP_EXIT_USAGE. */
int cmd_usage_error(const char *text, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * `word` is not one of the subcommands subs[0..nsubs) of `rp cmd`: says so,
 * with "did you mean" when one is close, then the usage; RP_EXIT_USAGE.
 */
int cmd_unknown_subcommand(const char *text, const char *cmd, const char *word,
			   const char *const *subs, size_t nsubs);

#endif
