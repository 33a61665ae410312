/*
 * cmd-status.c - `rp status`: which stages `rp repro` would run, and why.
 *
 * Every stage is planned in topological order without running anything,
 * by the same function `rp repro` and `rp repro -n` use (core/plan.h); a
 * stage with a dirty upstream is listed with "upstream stage 'x' will run"
 * and its own reasons. A dep that does not exist (a checkout before its data
 * was fetched) is "dep 'x' deleted" under its stage, as DVC says it, and
 * status goes on with every other stage; downstream of such a stage, which
 * cannot run, each stage shows its own reasons.
 * Exit 0 when everything is up to date, 1 when something is dirty (a
 * missing dep too), 2 for an invalid pipeline or a symlink leading out.
 */
#include "cmd.h"
#include "util/error.h"
#include "core/freshness.h"
#include "core/plan.h"
#include "core/project.h"
#include "core/targets.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char status_usage[] =
	"usage: rp status [TARGET...] [--json] [--rehash]\n"
	"\n"
	"Lists every stage that 'rp repro' would run and why: never run, cmd changed,\n"
	"dep changed or deleted, param NAME OLD -> NEW (a mapping by its leaves, a\n"
	"${} in cmd as that param), out missing or modified, upstream will run.\n"
	"Exit status: 0 when everything is up to date, 1 when a stage is dirty.\n"
	"\n"
	"  --json     print {\"dirty\": N, \"stages\": {NAME: [{\"reason\": ..., ...}]}}\n"
	"  -v         under a directory dep that changed, name its files that did\n"
	"  --rehash   re-read every file instead of trusting .rp/state.db\n";

static void print_dir_change(void *ctx, const char *file, const char *what)
{
	printf("\t\t%s: %s/%s\n", what, (const char *)ctx, file);
}

/*
 * Prints a dirty stage and its reasons, one a line; with -v, a directory
 * dep that changed is followed by its files that changed, one a line
 * ("modified: data/images/3.png"), from its manifest in the store.
 */
static void print_verdict(struct store *s, const struct stage *st, const struct lock_stage *ls,
			  const struct verdict *v)
{
	printf("%s:\n", st->name);
	for (size_t r = 0; r < v->n; r++) {
		char *t = freshness_reason_text(&v->r[r]);

		printf("\t%s\n", t);
		free(t);
		if (!rp_opts.verbose || v->r[r].kind != R_DEP_CHANGED || !ls)
			continue;
		for (size_t k = 0; k < ls->ndeps; k++)
			if (ls->deps[k].oi.isdir && !strcmp(ls->deps[k].path, v->r[r].subject)) {
				freshness_dir_changes(s, v->r[r].subject, ls->deps[k].oi.hash,
						      print_dir_change, v->r[r].subject);
				break;
			}
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "rehash", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct project pr;
	struct rp_err err = { 0 };
	unsigned char *sel, *will_run;
	json_t *root = NULL, *stages = NULL;
	size_t ndirty = 0;
	int c, as_json = 0, rehash = 0, ret;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J': as_json = 1; break;
		case 'R': rehash = 1; break;
		case 'h': return cmd_usage(status_usage, 0);
		default: return cmd_usage(status_usage, 1);
		}
	}
	if (project_open(&pr, rp_opts.pipeline_file, 0, &err) < 0)
		return rp_err_exit(&err);
	if (rehash)
		state_clear(pr.ws.state);
	store_memo_enable(pr.ws.store);     /* status changes no file */
	sel = xcalloc(pr.dag->n + 1, 1);
	will_run = xcalloc(pr.dag->n + 1, 1);
	if (targets_select(pr.dag, (const char **)argv + optind, (size_t)(argc - optind), 0, sel, &err) < 0 ||
	    dag_check_links(pr.dag, store_memo_stat, pr.ws.store, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_USAGE;
		goto out;
	}
	if (as_json) {
		root = json_object();
		stages = json_object();
		json_object_set_new(root, "stages", stages);
	}
	for (size_t k = 0; k < pr.dag->n; k++) {
		size_t i = pr.dag->order[k];
		const struct stage *st = &pr.p->stages[i];
		struct eval ev = { 0 };
		struct verdict v = { 0 };
		enum plan_action a;

		if (!sel[i])
			continue;
		a = plan_stage(&pr, i, will_run, 0, &ev, &v);
		if (a != PLAN_FROZEN && a != PLAN_UPTODATE) {
			/* a stage that cannot run makes nothing: downstream keeps its own reasons */
			will_run[i] = a != PLAN_BROKEN;
			ndirty++;
			if (as_json)
				json_object_set_new(stages, st->name, freshness_verdict_json(&v));
			else
				print_verdict(pr.ws.store, st, lock_find(pr.lock, st->name), &v);
		}
		freshness_verdict_release(&v);
		freshness_eval_release(&ev);
	}
	if (as_json) {
		json_object_set_new(root, "dirty", json_integer((json_int_t)ndirty));
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(root);
	} else if (!ndirty && !rp_opts.quiet) {
		printf("Everything is up to date.\n");
	}
	ret = ndirty ? RP_EXIT_FAIL : RP_EXIT_OK;
out:
	free(sel);
	free(will_run);
	project_close_for_exit(&pr);
	return ret;
}
