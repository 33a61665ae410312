/*
 * cmd-stage.c - `rp stage list`: the stages of the pipeline, one a line.
 *
 * As DVC's `dvc stage list`: the name, then the stage's `desc` (its first
 * line) or, without one, what it makes: "Outputs a, b; Reports m.json"
 * (metrics are reported), "Depends on x" for a stage without outputs, "No
 * outputs or dependencies" for neither. --name-only prints the names.
 */
#include "cmd.h"
#include "util/buf.h"
#include "util/error.h"
#include "core/project.h"
#include "table.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char stage_usage[] =
	"usage: rp stage list [--name-only]\n"
	"\n"
	"Lists the stages of the pipeline with their description ('desc'), or what\n"
	"they output, as 'dvc stage list' does.\n"
	"\n"
	"  --name-only   only the stage names\n";

/* The text after the stage's name; the caller frees it. */
static char *describe(const struct stage *st)
{
	struct buf b = BUF_INIT;
	size_t nouts = 0, nreports = 0;

	if (st->desc && *st->desc) {
		buf_addf(&b, "%.*s", (int)strcspn(st->desc, "\n"), st->desc);
		return buf_detach(&b);
	}
	if (!st->nouts && !st->ndeps)
		return xstrdup("No outputs or dependencies");
	if (!st->nouts) {
		buf_adds(&b, "Depends on ");
		for (size_t k = 0; k < st->ndeps; k++)
			buf_addf(&b, "%s%s", k ? ", " : "", st->deps[k].path);
		return buf_detach(&b);
	}
	for (size_t k = 0; k < st->nouts; k++)
		if (!st->outs[k].metric)
			buf_addf(&b, "%s%s", nouts++ ? ", " : "Outputs ", st->outs[k].path);
	for (size_t k = 0; k < st->nouts; k++)
		if (st->outs[k].metric)
			buf_addf(&b, "%s%s", nreports++ ? ", " : nouts ? "; Reports " : "Reports ",
				 st->outs[k].path);
	return buf_detach(&b);
}

int cmd_stage(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name-only", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const subs[] = { "list" };
	struct project pr;
	struct rp_err err = { 0 };
	struct table t;
	int c, name_only = 0;

	if (argc < 2)
		return cmd_usage_error(stage_usage, "'rp stage' needs a subcommand: list");
	if (!strcmp(argv[1], "-h"))
		return cmd_usage(stage_usage, 0);
	if (strcmp(argv[1], "list"))
		return cmd_unknown_subcommand(stage_usage, "stage", argv[1], subs, 1);
	argv[1] = argv[0];   /* getopt's messages keep their "rp: error" */
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': name_only = 1; break;
		case 'h': return cmd_usage(stage_usage, 0);
		default: return cmd_usage(stage_usage, 1);
		}
	}
	if (optind < argc)
		return cmd_usage_error(stage_usage, "unexpected argument '%s'", argv[optind]);
	if (project_open(&pr, rp_opts.pipeline_file, 0, &err) < 0)
		return rp_err_exit(&err);
	table_init(&t, 2, NULL);
	for (size_t i = 0; i < pr.p->nstages; i++) {
		const struct stage *st = &pr.p->stages[i];
		char *d;

		if (name_only) {
			printf("%s\n", st->name);
			continue;
		}
		d = describe(st);
		const char *row[] = { st->name, d };
		table_add(&t, row);
		free(d);
	}
	table_print(&t, stdout);
	table_release(&t);
	project_close(&pr);
	return RP_EXIT_OK;
}
