/*
 * cmd-init.c - `rp init`: create .rp/ with its config and .gitignore.
 */
#include "cmd.h"
#include "util/error.h"
#include "util/fs.h"
#include "core/workspace.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char init_usage[] =
	"usage: rp init [-f|--force]\n"
	"\n"
	"Creates .rp/ in the current directory: .rp/config (settings, for git) and\n"
	".rp/.gitignore (the store, state and locks stay out of git).\n"
	"\n"
	"  -f, --force   re-create .rp/config even if .rp/ exists\n";

int cmd_init(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfg = config_default_text();
	struct rp_err err;
	int c, force = 0;

	while ((c = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': force = 1; break;
		case 'h': return cmd_usage(init_usage, 0);
		default: return cmd_usage(init_usage, 1);
		}
	}
	if (optind < argc)
		return cmd_usage_error(init_usage, "unexpected argument '%s'", argv[optind]);
	if (access(WS_CONFIG, F_OK) == 0 && !force) {
		rp_error("'%s' already exists; this directory is an rp workspace "
			 "(use 'rp init --force' to reset its config)", WS_CONFIG);
		return RP_EXIT_USAGE;
	}
	if (fs_mkdir_p(WS_DIR, 0755, &err) < 0 ||
	    fs_write_atomic(WS_CONFIG, cfg, strlen(cfg), &err) < 0 ||
	    fs_write_atomic(WS_DIR "/.gitignore", config_gitignore_text(),
			    strlen(config_gitignore_text()), &err) < 0) {
		rp_err_report(&err);
		return RP_EXIT_FAIL;
	}
	if (!rp_opts.quiet)
		printf("Initialized rp workspace in .rp/\n"
		       "Next: describe stages in rp.yaml (see rp.yaml(5)), then run 'rp repro'\n"
		       "and commit rp.yaml, rp.lock and .rp/config.\n");
	return RP_EXIT_OK;
}
