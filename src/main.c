/*
 * main.c - rp's entry point: global options, the command table, and running
 * external commands `rp NAME` as the program rp-NAME (as git runs git-NAME),
 * looked up next to the rp binary first, then on PATH.
 *
 * The global options -q and -v are taken before the command and, for the
 * built-in commands, after it too (`rp repro -q`): they are removed from
 * the command's arguments (up to a "--") before it parses them. `rp help
 * CMD` is `rp CMD --help`. A name that is neither a command nor a program
 * rp-NAME gets the closest of both as "did you mean" (util/suggest.h).
 * Every command prints getopt's complaint ("rp: error: unrecognized option
 * '--x'") on the line before its usage: argv[0] is "rp: error" for getopt.
 */
#include "cmd.h"
#include "ai/provider_config.h"
#include "util/error.h"
#include "util/suggest.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct rp_opts rp_opts;

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct command {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{ "cache", cmd_cache, "check the store: 'rp cache verify [--repair]'" },
	{ "checkout", cmd_checkout, "make workspace outputs match a lock, from the store" },
	{ "dag", cmd_dag, "print the stage graph (text, --dot, --mermaid)" },
	{ "gc", cmd_gc, "delete store objects that no kept lock references" },
	{ "help", cmd_help, "print the usage of rp, or of a command: 'rp help COMMAND'" },
	{ "init", cmd_init, "make this directory an rp workspace (.rp/)" },
	{ "metrics", cmd_metrics, "show metrics, or diff them against a git revision" },
	{ "params", cmd_params, "diff parameters against a git revision" },
	{ "repro", cmd_repro, "run the stages whose inputs changed" },
	{ "stage", cmd_stage, "list or add stages: 'rp stage list', 'rp stage add'" },
	{ "status", cmd_status, "list dirty stages and why (exit 1 when any)" },
	{ "version", cmd_version, "print rp's version" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char usage_text[] =
	"usage: rp [-f FILE] [-q] [-v] COMMAND [ARGS...]\n"
	"       rp help COMMAND | rp COMMAND --help\n"
	"       rp --help | -V | --version\n"
	"\n"
	"  -f, --file FILE   pipeline file (default: rp.yaml, else dvc.yaml)\n"
	"  -q, --quiet       print only errors and the commands' own output\n"
	"  -v, --verbose     say more\n"
	"  -V, --version     print rp's version\n"
	"-q and -v may also follow the command: 'rp repro -q'.\n"
	"\n"
	"commands:\n";

int cmd_usage(const char *text, int is_error)
{
	fputs(text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

int cmd_usage_error(const char *text, const char *fmt, ...)
{
	va_list ap;

	fputs("rp: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return cmd_usage(text, 1);
}

int cmd_unknown_subcommand(const char *text, const char *cmd, const char *word,
			   const char *const *subs, size_t nsubs)
{
	long i = suggest_best(word, subs, nsubs);

	if (i >= 0)
		return cmd_usage_error(text, "'%s' is not an 'rp %s' subcommand; did you mean '%s'?",
				       word, cmd, subs[i]);
	return cmd_usage_error(text, "'%s' is not an 'rp %s' subcommand", word, cmd);
}

static int usage(int is_error)
{
	FILE *f = is_error ? stderr : stdout;

	fputs(usage_text, f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fputs("\n'rp NAME ARGS' runs the program rp-NAME (a stage program such as rp-chunk).\n"
	      "See rp(1), rp.yaml(5) and rp.lock(5).\n", f);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cmd_usage_error("usage: rp version\n", "'rp version' takes no arguments");
	printf("rp %s\n", PACKAGE_VERSION);
	return RP_EXIT_OK;
}

/* The directory of this executable into `dir` (PATH_MAX bytes); 0 or -1. */
static int self_dir(char *dir)
{
	ssize_t n = readlink("/proc/self/exe", dir, PATH_MAX - 1);
	char *slash;

	if (n <= 0)
		return -1;
	dir[n] = '\0';
	slash = strrchr(dir, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return 0;
}

/* Adds NAME for each executable rp-NAME in `dir` to `names`. */
static void add_programs(const char *dir, char ***names, size_t *n, size_t *alloc)
{
	DIR *d = opendir(*dir ? dir : ".");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *path;

		if (strncmp(e->d_name, "rp-", 3) || !e->d_name[3])
			continue;
		path = xasprintf("%s/%s", *dir ? dir : ".", e->d_name);
		if (access(path, X_OK) == 0) {
			ALLOC_GROW(*names, *n + 1, *alloc);
			(*names)[(*n)++] = xstrdup(e->d_name + 3);
		}
		free(path);
	}
	closedir(d);
}

/*
 * The closest to `word` of the built-in commands and the rp-NAME programs
 * next to rp and on PATH, as a newly allocated string, or NULL.
 */
static char *closest_command(const char *word)
{
	char **names = NULL, self[PATH_MAX], *path, *dir, *save = NULL;
	size_t n = 0, alloc = 0;

	for (size_t k = 0; k < NCOMMANDS; k++) {
		ALLOC_GROW(names, n + 1, alloc);
		names[n++] = xstrdup(commands[k].name);
	}
	if (self_dir(self) == 0)
		add_programs(self, &names, &n, &alloc);
	path = xstrdup(getenv("PATH") ? getenv("PATH") : "");
	for (dir = strtok_r(path, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
		add_programs(dir, &names, &n, &alloc);
	free(path);
	return suggest_take(word, names, n);
}

/* "'x' is not an rp command ...; did you mean 'y'?"; the usage exit code. */
static int unknown_command(const char *name)
{
	char *best = closest_command(name);

	if (best)
		rp_error("'%s' is not an rp command, nor a program 'rp-%s' next to rp or on "
			 "PATH; did you mean '%s'?", name, name, best);
	else
		rp_error("'%s' is not an rp command, nor a program 'rp-%s' next to rp or on "
			 "PATH; see 'rp --help'", name, name);
	free(best);
	return RP_EXIT_USAGE;
}

/* Runs rp-NAME from the directory of this executable, else from PATH. */
static int run_external(const char *name, int argc, char **argv)
{
	char self[PATH_MAX];
	char *prog = xasprintf("rp-%s", name);

	argv[0] = prog;
	if (self_dir(self) == 0) {
		char *path = xasprintf("%s/%s", self, prog);

		if (access(path, X_OK) == 0)
			execv(path, argv);
		free(path);
	}
	execvp(prog, argv);
	(void)argc;
	if (errno == ENOENT) {
		free(prog);
		return unknown_command(name);
	}
	rp_error_errno("cannot run '%s'", prog);
	free(prog);
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

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

/*
 * Takes -q/--quiet and -v/--verbose out of a built-in command's arguments
 * (up to "--"), into rp_opts; argc is the new count.
 */
static int take_global_options(int argc, char **argv)
{
	int i, j;

	for (i = j = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			while (i < argc)
				argv[j++] = argv[i++];
			break;
		}
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet"))
			rp_opts.quiet = 1;
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			rp_opts.verbose = 1;
		else
			argv[j++] = argv[i];
	}
	argv[j] = NULL;
	return j;
}

/* Runs the command of argv[0] (built in, else external) and checks stdout after it. */
static int run_command(int argc, char **argv)
{
	const struct command *cmd = find_command(argv[0]);
	int ret, e;

	if (!cmd)
		return run_external(argv[0], argc, argv);
	argc = take_global_options(argc, argv);
	/* every command knows -h; "--help" as the first word means it too */
	if (argc > 1 && !strcmp(argv[1], "--help"))
		argv[1] = "-h";
	/* getopt names the culprit as "ARGV0: unrecognized option '--x'" */
	argv[0] = "rp: error";
	optind = 0;   /* 0, not 1: also resets glibc's "+" mode */
	ret = cmd->fn(argc, argv);
	e = errno;
	return check_stdout(ret, e);
}

/* `rp help [COMMAND]`: rp's usage, or COMMAND's as `rp COMMAND --help` prints it. */
static int cmd_help(int argc, char **argv)
{
	char *args[] = { NULL, "-h", NULL };
	const struct command *cmd;

	if (argc < 2 || !strcmp(argv[1], "-h"))
		return usage(0);
	if (argc > 2)
		return cmd_usage_error("usage: rp help [COMMAND]\n", "'rp help' takes one command");
	args[0] = argv[1];
	cmd = find_command(argv[1]);
	if (cmd && cmd->fn == cmd_help)
		return usage(0);
	if (cmd) {
		optind = 0;
		args[0] = "rp: error";
		return cmd->fn(2, args);
	}
	return run_external(argv[1], 2, args);
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
	argv[0] = "rp: error";    /* getopt's messages: "rp: error: unrecognized option" */
	/* "+": stop at the first non-option, the command name */
	while ((c = getopt_long(argc, argv, "+f:qvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': rp_opts.pipeline_file = optarg; break;
		case 'q': rp_opts.quiet = 1; break;
		case 'v': rp_opts.verbose = 1; break;
		case 'h': return usage(0);
		case 'V': printf("rp %s\n", PACKAGE_VERSION); return RP_EXIT_OK;
		default: return usage(1);
		}
	}
	if (optind >= argc) {
		rp_error("no command given");
		return usage(1);
	}
	argc -= optind;
	argv += optind;
	return run_command(argc, argv);
}
