/*
 * index.c - rp-index: the incremental vector index (rp-index(1), and its
 * directory format rp-index(5)).
 *
 * main() only dispatches: `rp-index SUBCOMMAND ARGS` calls the subcommand's
 * function (index.h), which lives in its own file, as rp's commands do.
 */
#include "index.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>

static const struct subcommand {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} subcommands[] = {
	{ "history", index_cmd_history, "list the promotes and rollbacks of an alias" },
	{ "info", index_cmd_info, "what an index holds: model, counts, size, digest" },
	{ "promote", index_cmd_promote, "serve an index through an alias, behind a gate" },
	{ "query", index_cmd_query, "search an index or alias with text" },
	{ "rollback", index_cmd_rollback, "switch an alias back to what it served before" },
	{ "update", index_cmd_update, "add, update and delete chunks from a chunk file and its vectors" },
	{ "verify", index_cmd_verify, "check an index's integrity and drift from its chunks" },
	{ NULL, NULL, NULL }
};

static int usage(int is_error)
{
	FILE *f = is_error ? stderr : stdout;

	fputs("usage: rp-index SUBCOMMAND [ARGS...]\n"
	      "       rp-index --help | --version\n"
	      "\n"
	      "subcommands:\n", f);
	for (const struct subcommand *s = subcommands; s->name; s++)
		fprintf(f, "  %-10s %s\n", s->name, s->help);
	fputs("\n'rp-index SUBCOMMAND -h' shows its options. See rp-index(1) and rp-index(5).\n", f);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

int main(int argc, char **argv)
{
	rp_progname = "rp-index";
	if (argc < 2)
		return usage(1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return usage(0);
	if (!strcmp(argv[1], "--version")) {
		printf("rp-index %s (index format 1)\n", PACKAGE_VERSION);
		return RP_EXIT_OK;
	}
	for (const struct subcommand *s = subcommands; s->name; s++)
		if (!strcmp(argv[1], s->name))
			return s->fn(argc - 1, argv + 1);
	fprintf(stderr, "rp-index: unknown subcommand '%s'; see 'rp-index --help'\n", argv[1]);
	return RP_EXIT_USAGE;
}
