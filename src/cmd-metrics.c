/*
 * cmd-metrics.c - `rp metrics show` and `rp metrics diff [REV]`.
 *
 * Metrics files are the outs declared under `metrics:` (JSON or YAML, read
 * with the YAML loader, which reads JSON too). Values are compared leaf by
 * leaf; numeric leaves get a Change column.
 *
 * --json prints DVC's shapes: `show` {"workspace": {"data": {PATH: {"data":
 * CONTENT}}}} (a file that cannot be read: {"error": {"msg": ...}} in place
 * of "data"), `diff` {PATH: {METRIC: {"old", "new", "diff"}}} with the
 * dotted keys of the table. --md prints the table as Markdown.
 */
#include "cmd.h"
#include "util/error.h"
#include "core/flatten.h"
#include "core/git.h"
#include "core/project.h"
#include "jsonout.h"
#include "table.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char metrics_usage[] =
	"usage: rp metrics show [--json | --md]\n"
	"       rp metrics diff [REV] [--all] [--json | --md]\n"
	"\n"
	"show: every metric of every metrics file the pipeline declares.\n"
	"diff: metrics in the workspace against git revision REV (default HEAD);\n"
	"      --all also shows unchanged ones.\n"
	"\n"
	"  --json   show: {\"workspace\": {\"data\": {PATH: {\"data\": CONTENT}}}}\n"
	"           diff: {PATH: {METRIC: {\"old\": V, \"new\": V, \"diff\": NEW - OLD}}}\n"
	"  --md     the table in Markdown\n";

enum out_format { FMT_TEXT, FMT_JSON, FMT_MD };

/*
 * Loads metrics file `path`. A malformed one sets *failed (reported); one
 * that cannot be read (not made yet) gives NULL with the reason in `err`.
 */
static struct doc *load_now(const char *path, int *failed, struct rp_err *err)
{
	struct doc *d = doc_load_file(path, err);

	if (!d) {
		if (err->kind == RP_ERR_INPUT)
			*failed = rp_err_exit(err);
	}
	return d;
}

int cmd_metrics(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'J' },
		{ "md", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct project pr;
	const char *rev = "HEAD";
	int c, all = 0, diff, failed = 0, ret = RP_EXIT_OK;
	struct table t;
	struct rp_err err = { 0 };
	enum out_format fmt = FMT_TEXT;
	json_t *root = NULL, *files = NULL;

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
		case 'J': fmt = FMT_JSON; break;
		case 'M': fmt = FMT_MD; break;
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
	if (fmt == FMT_JSON) {
		root = json_object();
		files = diff ? root : json_out_child(json_out_child(root, "workspace"), "data");
	}
	for (size_t i = 0; i < pr.p->nstages && !failed; i++)
		for (size_t k = 0; k < pr.p->stages[i].nouts && !failed; k++) {
			const struct out *o = &pr.p->stages[i].outs[k];
			struct doc *now, *then = NULL;
			struct leaves ln = { 0 }, lt = { 0 };

			if (!o->metric)
				continue;
			memset(&err, 0, sizeof(err));
			now = load_now(o->path, &failed, &err);
			if (files && !diff && !failed) {
				json_t *f = json_object();

				if (now)
					json_object_set_new(f, "data", json_out_node(now->root));
				else
					json_object_set_new(f, "error", json_pack("{s:o}", "msg",
										  json_out_str(err.msg)));
				json_out_set(files, o->path, f);
			}
			memset(&err, 0, sizeof(err));
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
				if (files)
					json_out_set(json_out_child(files, o->path), ln.l[j].key,
							    json_out_change(old, &ln.l[j]));
			}
			for (size_t j = 0; diff && j < lt.n; j++)
				if (!leaves_find(&ln, lt.l[j].key)) {
					const char *row[] = { o->path, lt.l[j].key, lt.l[j].value, NULL, NULL };
					table_add(&t, row);
					if (files)
						json_out_set(json_out_child(files, o->path), lt.l[j].key,
								    json_out_change(&lt.l[j], NULL));
				}
			leaves_release(&ln);
			leaves_release(&lt);
			doc_free(now);
			doc_free(then);
		}
	if (failed)
		ret = failed;
	else if (fmt == FMT_JSON)
		ret = json_out_print(json_incref(root)) < 0 ? RP_EXIT_FAIL : RP_EXIT_OK;
	else if (t.nrows > 1 && fmt == FMT_MD)
		table_print_md(&t, stdout);
	else if (t.nrows > 1)
		table_print(&t, stdout);
	else if (!rp_opts.quiet)
		printf(diff ? "No metric changed since %s.\n" : "No metrics.\n", rev);
	json_decref(root);
	table_release(&t);
	project_close(&pr);
	return ret;
}
