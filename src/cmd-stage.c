/*
 * cmd-stage.c - `rp stage list`: the stages of the pipeline, one a line;
 * `rp stage add`: a stage written into the pipeline file, as DVC's.
 *
 * As DVC's `dvc stage list`: the name, then the stage's `desc` (its first
 * line) or, without one, what it makes: "Outputs a, b; Reports m.json"
 * (metrics are reported), "Depends on x" for a stage without outputs, "No
 * outputs or dependencies" for neither. --name-only prints the names.
 *
 * `rp stage add -n NAME [options] COMMAND...` takes DVC's options; the
 * first word that is not an option starts the command (options after it are
 * the command's). The file is the current directory's rp.yaml, else its
 * dvc.yaml, else a new rp.yaml (or -f FILE given before `stage`); the
 * editing and every check are core/stageadd.c's.
 */
#include "cmd.h"
#include "util/buf.h"
#include "util/error.h"
#include "core/project.h"
#include "core/stageadd.h"
#include "table.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char stage_usage[] =
	"usage: rp stage list [--name-only]\n"
	"       rp stage add -n NAME [-f] [-d PATH] [-p [FILE:]KEYS] [-o PATH] [-O PATH]\n"
	"                    [--outs-persist PATH] [--outs-persist-no-cache PATH]\n"
	"                    [-m PATH] [-M PATH] [--plots PATH] [--plots-no-cache PATH]\n"
	"                    [-w DIR] [--always-changed] [--desc TEXT] COMMAND...\n"
	"\n"
	"'list' lists the stages of the pipeline with their description ('desc'), or\n"
	"what they output, as 'dvc stage list' does. 'add' writes a stage into the\n"
	"current directory's rp.yaml (or dvc.yaml), keeping the rest of the file, as\n"
	"'dvc stage add' does.\n"
	"\n"
	"  --name-only   list: only the stage names\n"
	"  -n, --name NAME            add: the stage's name\n"
	"  -f, --force                replace the stage of that name\n"
	"  -d, --deps PATH            a dependency (repeat for several)\n"
	"  -p, --params [FILE:]KEYS   parameters, KEYS comma-separated (FILE: params.yaml)\n"
	"  -o, --outs PATH            an output, cached\n"
	"  -O, --outs-no-cache PATH   an output, not cached\n"
	"      --outs-persist[-no-cache] PATH  an output kept while the stage runs\n"
	"  -m, --metrics PATH         a metrics file, cached\n"
	"  -M, --metrics-no-cache PATH  a metrics file, not cached\n"
	"      --plots[-no-cache] PATH  a plots file\n"
	"  -w, --wdir DIR             the directory the command runs in\n"
	"      --always-changed       run the stage on every repro\n"
	"      --desc TEXT            the stage's description\n";

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

enum { O_PERSIST = 256, O_PERSIST_NC, O_PLOTS, O_PLOTS_NC, O_ALWAYS, O_DESC };

/* Records output option `c` (-o, -O, -m, ...) with path `path` in sa. */
static void add_out(struct stage_add *sa, size_t *alloc, int c, const char *path)
{
	struct stage_add_out *o;

	ALLOC_GROW(sa->outs, sa->nouts + 1, *alloc);
	o = &sa->outs[sa->nouts++];
	o->path = path;
	o->field = c == 'm' || c == 'M' ? SA_METRICS : c == O_PLOTS || c == O_PLOTS_NC ? SA_PLOTS
									: SA_OUTS;
	o->cache = !(c == 'O' || c == 'M' || c == O_PERSIST_NC || c == O_PLOTS_NC);
	o->persist = c == O_PERSIST || c == O_PERSIST_NC;
}

/* `rp stage add` (argv[0] is "add"). */
static int stage_add(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'f' },
		{ "deps", required_argument, NULL, 'd' },
		{ "params", required_argument, NULL, 'p' },
		{ "outs", required_argument, NULL, 'o' },
		{ "outs-no-cache", required_argument, NULL, 'O' },
		{ "outs-persist", required_argument, NULL, O_PERSIST },
		{ "outs-persist-no-cache", required_argument, NULL, O_PERSIST_NC },
		{ "metrics", required_argument, NULL, 'm' },
		{ "metrics-no-cache", required_argument, NULL, 'M' },
		{ "plots", required_argument, NULL, O_PLOTS },
		{ "plots-no-cache", required_argument, NULL, O_PLOTS_NC },
		{ "wdir", required_argument, NULL, 'w' },
		{ "always-changed", no_argument, NULL, O_ALWAYS },
		{ "desc", required_argument, NULL, O_DESC },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct stage_add sa = { 0 };
	struct project pr;
	struct rp_err err = { 0 };
	size_t dalloc = 0, palloc = 0, oalloc = 0;
	const char *file;
	char *cmd = NULL, *rel = NULL;
	int c, ret = RP_EXIT_USAGE, replaced;

	/* "+": the first word that is not an option starts the command */
	while ((c = getopt_long(argc, argv, "+n:fd:p:o:O:m:M:w:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': sa.name = optarg; break;
		case 'f': sa.force = 1; break;
		case 'd':
			ALLOC_GROW(sa.deps, sa.ndeps + 1, dalloc);
			sa.deps[sa.ndeps++] = optarg;
			break;
		case 'p':
			ALLOC_GROW(sa.params, sa.nparams + 1, palloc);
			sa.params[sa.nparams++] = optarg;
			break;
		case 'o': case 'O': case 'm': case 'M':
		case O_PERSIST: case O_PERSIST_NC: case O_PLOTS: case O_PLOTS_NC:
			add_out(&sa, &oalloc, c, optarg);
			break;
		case 'w': sa.wdir = optarg; break;
		case O_ALWAYS: sa.always_changed = 1; break;
		case O_DESC: sa.desc = optarg; break;
		case 'h': ret = cmd_usage(stage_usage, 0); goto out;
		default: ret = cmd_usage(stage_usage, 1); goto out;
		}
	}
	if (!sa.name) {
		ret = cmd_usage_error(stage_usage, "'rp stage add' needs a name: -n NAME");
		goto out;
	}
	if (optind >= argc) {
		ret = cmd_usage_error(stage_usage, "'rp stage add' needs the stage's command "
				      "after the options");
		goto out;
	}
	if (stage_add_check_name(sa.name, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	sa.cmd = cmd = stage_add_command(argc - optind, argv + optind);
	/* the current directory's file, chosen before the project makes the root the cwd */
	file = rp_opts.pipeline_file ? NULL : access("rp.yaml", F_OK) == 0 ? "rp.yaml" :
	       access("dvc.yaml", F_OK) == 0 ? "dvc.yaml" : "rp.yaml";
	if (project_open(&pr, rp_opts.pipeline_file, PROJECT_LOCK | PROJECT_NO_PIPELINE, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	if (!file)
		rel = xstrdup(pr.ws.pipeline_file);
	else if (!strcmp(pr.ws.prefix, "."))
		rel = xstrdup(file);
	else
		rel = xasprintf("%s/%s", pr.ws.prefix, file);
	if (stage_add_write(&pr, rel, &sa, &replaced, &err) < 0) {
		ret = rp_err_exit(&err);
	} else {
		if (!rp_opts.quiet)
			printf("%s stage '%s' %s %s\n", replaced ? "replaced" : "added", sa.name,
			       replaced ? "in" : "to", rp_opts.pipeline_file ? rp_opts.pipeline_file
									: file);
		ret = RP_EXIT_OK;
	}
	project_close(&pr);
out:
	free(rel);
	free(cmd);
	free(sa.deps);
	free(sa.params);
	free(sa.outs);
	return ret;
}

int cmd_stage(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "name-only", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const subs[] = { "add", "list" };
	struct project pr;
	struct rp_err err = { 0 };
	struct table t;
	int c, name_only = 0, is_add;

	if (argc < 2)
		return cmd_usage_error(stage_usage, "'rp stage' needs a subcommand: add or list");
	if (!strcmp(argv[1], "-h"))
		return cmd_usage(stage_usage, 0);
	if (strcmp(argv[1], "list") && strcmp(argv[1], "add"))
		return cmd_unknown_subcommand(stage_usage, "stage", argv[1], subs, 2);
	is_add = !strcmp(argv[1], "add");
	argv[1] = argv[0];   /* getopt's messages keep their "rp: error" */
	argc--;
	argv++;
	if (is_add)
		return stage_add(argc, argv);
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
