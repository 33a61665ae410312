/*
 * main.c - rp's entry point: global options, the command table, and running
 * external commands `rp NAME` as the program rp-NAME (as git runs git-NAME),
 * looked up next to the rp binary first, then on PATH.
 */
#include "cmd.h"
#include "ai/provider_config.h"
#include "util/error.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rp_opts rp_opts;

static const struct command {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "cache", cmd_cache, "check the store: 'rp cache verify [--repair]'" },
	{ "checkout", cmd_checkout, "make workspace outputs match a lock, from the store" },
	{ "dag", cmd_dag, "print the stage graph (text, --dot, --mermaid)" },
	{ "gc", cmd_gc, "delete store objects that no kept lock references" },
	{ "init", cmd_init, "make this directory an rp workspace (.rp/)" },
	{ "metrics", cmd_metrics, "show metrics, or diff them against a git revision" },
	{ "params", cmd_params, "diff parameters against a git revision" },
	{ "repro", cmd_repro, "run the stages whose inputs changed" },
	{ "status", cmd_status, "list dirty stages and why (exit 1 when any)" },
};

static const char usage_text[] =
	"usage: rp [-f FILE] [-q] [-v] COMMAND [ARGS...]\n"
	"       rp --help | --version\n"
	"\n"
	"  -f, --file FILE   pipeline file (default: rp.yaml, else dvc.yaml)\n"
	"  -q, --quiet       print no per-stage status lines (commands and their output still show)\n"
	"  -v, --verbose     say more\n"
	"\n"
	"commands:\n";

int cmd_usage(const char *text, int is_error)
{
	fputs(text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

static int usage(int is_error)
{
	FILE *f = is_error ? stderr : stdout;

	fputs(usage_text, f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fputs("\n'rp NAME ARGS' runs the program rp-NAME (a stage program such as rp-chunk).\n"
	      "See rp(1), rp.yaml(5) and rp.lock(5).\n", f);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

/* Runs rp-NAME from the directory of this executable, else from PATH. */
static int run_external(const char *name, int argc, char **argv)
{
	char self[PATH_MAX];
	char *prog = xasprintf("rp-%s", name);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	argv[0] = prog;
	if (n > 0) {
		char *slash, *path;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			path = xasprintf("%s/%s", self, prog);
			if (access(path, X_OK) == 0)
				execv(path, argv);
			free(path);
		}
	}
	execvp(prog, argv);
	if (errno == ENOENT)
		rp_error("'%s' is not an rp command and no program '%s' was found "
			 "next to rp or on PATH; see 'rp --help'", name, prog);
	else
		rp_error_errno("cannot run '%s'", prog);
	free(prog);
	(void)argc;
	return RP_EXIT_USAGE;
}

/*
 * As git and jq do: output that did not all reach stdout is a failure
 * (`rp dag > /dev/full`). Pipes and sockets are left alone (a reader that
 * stops early, as head(1) does, is not an error), and so is a closed
 * stdout. `ret` is the command's exit code; the result is 1 on a failure.
 * stdout is line-buffered, so the failing write may be long past: its
 * errno, saved by the caller right after the command, is the best reason.
 */
static int check_stdout(int ret, int saved_errno)
{
	struct stat st;
	int e;

	if (fstat(fileno(stdout), &st) < 0 || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
		return ret;
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		e = errno ? errno : saved_errno;
		if (e)
			rp_error("write failure on standard output: %s", strerror(e));
		else
			rp_error("write failure on standard output");
		return RP_EXIT_FAIL;
	}
	if (fclose(stdout) != 0) {
		rp_error_errno("close failed on standard output");
		return RP_EXIT_FAIL;
	}
	return ret;
}

/* Runs the command of argv[0] (built in, else external) and checks stdout after it. */
static int run_command(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[0], commands[i].name)) {
			int ret, e;

			optind = 0;   /* 0, not 1: also resets glibc's "+" mode */
			ret = commands[i].fn(argc, argv);
			e = errno;
			return check_stdout(ret, e);
		}
	return run_external(argv[0], argc, argv);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	rp_progname = "rp";
	/* .rp/config may hold the stage programs' sections: declare their keys */
	provider_config_declare();
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* "+": stop at the first non-option, the command name */
	while ((c = getopt_long(argc, argv, "+f:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': rp_opts.pipeline_file = optarg; break;
		case 'q': rp_opts.quiet = 1; break;
		case 'v': rp_opts.verbose = 1; break;
		case 'h': return usage(0);
		case 'V': printf("rp %s\n", PACKAGE_VERSION); return RP_EXIT_OK;
		default: return usage(1);
		}
	}
	if (optind >= argc)
		return usage(1);
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "help"))
		return usage(0);
	return run_command(argc, argv);
}
