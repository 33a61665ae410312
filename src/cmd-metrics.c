/*
 * cmd-metrics.c - `rp metrics show` and `rp metrics diff [REV]`.
 *
 * Metrics files are the outs declared under `metrics:` (JSON or YAML, read
 * with the YAML loader, which reads JSON too). Values are compared leaf by
 * leaf; numeric leaves get a Change column.
 */
#include "cmd.h"
#include "util/error.h"
#include "core/flatten.h"
#include "core/git.h"
#include "core/project.h"
#include "table.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char metrics_usage[] =
	"usage: rp metrics show\n"
	"       rp metrics diff [REV] [--all]\n"
	"\n"
	"show: every metric of every metrics file the pipeline declares.\n"
	"diff: metrics in the workspace against git revision REV (default HEAD);\n"
	"      --all also shows unchanged ones.\n";

static struct doc *load_now(const char *path, int *failed)
{
	struct rp_err err = { 0 };
	struct doc *d = doc_load_file(path, &err);

	if (!d) {
		if (err.kind == RP_ERR_INPUT)
			*failed = rp_err_exit(&err);
	}
	return d;
}

int cmd_metrics(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct project pr;
	const char *rev = "HEAD";
	int c, all = 0, diff, failed = 0, ret = RP_EXIT_OK;
	struct table t;
	struct rp_err err = { 0 };

	static const char *const subs[] = { "show", "diff" };

	if (argc < 2)
		return cmd_usage_error(metrics_usage, "'rp metrics' needs a subcommand: show or diff");
	if (!strcmp(argv[1], "-h"))
		return cmd_usage(metrics_usage, 0);
	if (strcmp(argv[1], "show") && strcmp(argv[1], "diff"))
		return cmd_unknown_subcommand(metrics_usage, "metrics", argv[1], subs, 2);
	diff = !strcmp(argv[1], "diff");
	argv[1] = argv[0];   /* getopt's messages keep their "rp: error" */
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "ah", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': all = 1; break;
		case 'h': return cmd_usage(metrics_usage, 0);
		default: return cmd_usage(metrics_usage, 1);
		}
	}
	if (argc - optind > (diff ? 1 : 0))
		return cmd_usage_error(metrics_usage, "unexpected argument '%s'",
				       argv[optind + (diff ? 1 : 0)]);
	if (optind < argc)
		rev = argv[optind];
	if (project_open(&pr, rp_opts.pipeline_file, 0, &err) < 0)
		return rp_err_exit(&err);
	if (diff) {
		const char *hdr[] = { "Path", "Metric", rev, "Workspace", "Change" };
		table_init(&t, 5, hdr);
	} else {
		const char *hdr[] = { "Path", "Metric", "Value" };
		table_init(&t, 3, hdr);
	}
	for (size_t i = 0; i < pr.p->nstages && !failed; i++)
		for (size_t k = 0; k < pr.p->stages[i].nouts && !failed; k++) {
			const struct out *o = &pr.p->stages[i].outs[k];
			struct doc *now, *then = NULL;
			struct leaves ln = { 0 }, lt = { 0 };

			if (!o->metric)
				continue;
			now = load_now(o->path, &failed);
			if (diff && !(then = git_load_doc_opt(rev, o->path, &err)) && err.kind)
				failed = rp_err_exit(&err);
			if (now)
				flatten(now->root, "", &ln);
			if (then)
				flatten(then->root, "", &lt);
			for (size_t j = 0; j < ln.n; j++) {
				const struct leaf *old = diff ? leaves_find(&lt, ln.l[j].key) : NULL;
				char change[64] = "";

				if (!diff) {
					const char *row[] = { o->path, ln.l[j].key, ln.l[j].value };
					table_add(&t, row);
					continue;
				}
				if (old && !strcmp(old->value, ln.l[j].value) && !all)
					continue;
				if (old && old->numeric && ln.l[j].numeric)
					snprintf(change, sizeof(change), "%+.6g", ln.l[j].num - old->num);
				const char *row[] = { o->path, ln.l[j].key, old ? old->value : NULL,
						      ln.l[j].value, *change ? change : NULL };
				table_add(&t, row);
			}
			for (size_t j = 0; diff && j < lt.n; j++)
				if (!leaves_find(&ln, lt.l[j].key)) {
					const char *row[] = { o->path, lt.l[j].key, lt.l[j].value, NULL, NULL };
					table_add(&t, row);
				}
			leaves_release(&ln);
			leaves_release(&lt);
			doc_free(now);
			doc_free(then);
		}
	if (failed)
		ret = failed;
	else if (t.nrows > 1)
		table_print(&t, stdout);
	else if (!rp_opts.quiet)
		printf(diff ? "No metric changed since %s.\n" : "No metrics.\n", rev);
	table_release(&t);
	project_close(&pr);
	return ret;
}
