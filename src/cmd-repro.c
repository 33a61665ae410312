/*
 * cmd-repro.c - `rp repro`: run the stages whose inputs changed.
 *
 * Parses the options, selects the stages and hands them to the runner
 * (core/runner.h), which schedules, restores and runs them; this file prints
 * what the runner reports and the summary line.
 *
 * With --json the same reports fill one JSON document instead, printed at
 * the end (also when a stage failed), and the commands' output goes to
 * stderr: {"dry_run": B, "interrupted": B, "stages": {NAME: {"status": S,
 * "reasons": [...], "error": TEXT}}, "counts": {...}}. S is what became of
 * the stage: ran, restored, run-cache, up-to-date, frozen, would-run (-n),
 * failed, or not-run (a selected stage the run never reached: upstream
 * failed, or the run stopped first); the reasons are `rp status --json`'s.
 */
#include "cmd.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/numopt.h"
#include "core/freshness.h"
#include "core/project.h"
#include "core/runner.h"
#include "core/targets.h"
#include "jsonout.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char repro_usage[] =
	"usage: rp repro [TARGET...] [-j N] [-n|--dry] [-f|--force] [-k|--keep-going]\n"
	"                [--downstream] [-s|--single-item] [--rehash] [--json] [-q] [-v]\n"
	"\n"
	"Runs the stages whose commands, deps, params or outs changed, and everything\n"
	"downstream of them, in dependency order. TARGET is a stage name, a\n"
	"foreach/matrix group or an output path (the stage that produces it); without\n"
	"one, every stage is considered.\n"
	"\n"
	"  -j, --jobs N       run up to N stages at once (default: number of cores)\n"
	"  -n, --dry, --dry-run  print what would run, run nothing\n"
	"  -f, --force        run the selected stages even if they are up to date\n"
	"  -k, --keep-going   after a failure, go on with stages that do not depend on it\n"
	"      --downstream   the targets and every stage that depends on them\n"
	"  -s, --single-item  only the targets, not their upstream stages\n"
	"      --rehash       re-read every file instead of trusting .rp/state.db\n"
	"      --json         print {\"stages\": {NAME: {\"status\": S, \"reasons\": [...]}},\n"
	"                     \"counts\": {\"ran\": N, ...}, \"dry_run\": B, \"interrupted\": B}\n";

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void say_reasons(const char *verb, const char *how, const struct stage *st,
			const struct verdict *v)
{
	if (rp_opts.quiet)
		return;
	printf("%s stage '%s'%s", verb, st->name, how);
	for (size_t k = 0; v && k < v->n; k++) {
		char *t = freshness_reason_text(&v->r[k]);

		printf("%s%s", k ? "; " : ": ", t);
		free(t);
	}
	putchar('\n');
}

/* The names of a stage's fate in --json, by runner event. */
static const char *const event_status[] = {
	[RUNNER_FROZEN] = "frozen", [RUNNER_UPTODATE] = "up-to-date",
	[RUNNER_WOULD_RUN] = "would-run", [RUNNER_RESTORED] = "restored",
	[RUNNER_CACHED] = "run-cache", [RUNNER_RUNNING] = "ran", [RUNNER_FAILED] = "failed",
};

/*
 * --json: records what the runner reports of stage `st` in `stages`. A
 * stage that starts running is "ran" until it fails; a failure keeps the
 * reasons it ran for.
 */
static void record_event(json_t *stages, enum runner_event e, const struct stage *st,
			 const struct verdict *v, const struct rp_err *err)
{
	json_t *o = json_out_child(stages, st->name);

	json_object_set_new(o, "status", json_string(event_status[e]));
	if (v)
		json_object_set_new(o, "reasons", freshness_verdict_json(v));
	else if (!json_object_get(o, "reasons"))
		json_object_set_new(o, "reasons", json_array());
	if (e == RUNNER_FAILED && err && err->kind)
		json_object_set_new(o, "error", json_out_str(err->msg));
}

/* Prints what the runner reports; with --json (ctx: the stages object), records it. */
static void on_event(void *ctx, enum runner_event e, const struct stage *st,
		     const struct verdict *v, const struct rp_err *err)
{
	if (ctx && st)
		record_event(ctx, e, st, v, err);
	if (ctx && e != RUNNER_FAILED && e != RUNNER_ERROR)
		return;
	switch (e) {
	case RUNNER_FROZEN:
		if (rp_opts.verbose)
			printf("Stage '%s' is frozen, skipping\n", st->name);
		break;
	case RUNNER_UPTODATE:
		if (rp_opts.verbose)
			printf("Stage '%s' is up to date\n", st->name);
		break;
	case RUNNER_WOULD_RUN: say_reasons("Would run", "", st, v); break;
	case RUNNER_RESTORED: say_reasons("Restored", " from the store", st, v); break;
	case RUNNER_CACHED:
		if (!rp_opts.quiet)
			printf("Restored stage '%s' from the run-cache\n", st->name);
		break;
	case RUNNER_RUNNING: say_reasons("Running", "", st, v); break;
	case RUNNER_FAILED:
	case RUNNER_ERROR:
		if (err && err->kind)
			rp_err_report(err);
		break;
	}
}

static void print_summary(const struct runner_counts *c, int dry_run, double t0)
{
	if (rp_opts.quiet)
		return;
	/* a dry run restores nothing: what the store could restore counts as would run */
	if (dry_run)
		printf("dry run: %zu would run, %zu up to date", c->ran + c->restored + c->cached,
		       c->uptodate);
	else
		printf("%zu ran, %zu restored, %zu from run-cache, %zu up to date, %zu failed",
		       c->ran, c->restored, c->cached, c->uptodate, c->failed);
	if (dry_run && c->failed)
		printf(", %zu failed", c->failed);
	if (c->blocked)
		printf(", %zu not run (upstream failed)", c->blocked);
	printf(" (%.2fs)\n", now_s() - t0);
}

/*
 * --json: marks the selected stages the run never reached "not-run" and
 * prints the document. 0, or -1 when stdout could not be written.
 */
static int print_json(const struct project *pr, const unsigned char *sel, json_t *stages,
		      const struct runner_counts *c, int dry_run)
{
	size_t not_run = 0;
	json_t *counts;

	for (size_t i = 0; i < pr->dag->n; i++) {
		if (!sel[i] || json_object_get(stages, pr->p->stages[i].name))
			continue;
		json_out_set(stages, pr->p->stages[i].name,
			     json_pack("{s:s, s:[]}", "status", "not-run", "reasons"));
		not_run++;
	}
	/* as the summary line: a dry run restores nothing, what it could counts as would run */
	counts = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			   "ran", (json_int_t)(dry_run ? 0 : c->ran),
			   "restored", (json_int_t)(dry_run ? 0 : c->restored),
			   "run_cache", (json_int_t)(dry_run ? 0 : c->cached),
			   "would_run", (json_int_t)(dry_run ? c->ran + c->restored + c->cached : 0),
			   "up_to_date", (json_int_t)c->uptodate,
			   "failed", (json_int_t)c->failed,
			   "not_run", (json_int_t)not_run);
	return json_out_print(json_pack("{s:O, s:o, s:b, s:b}", "stages", stages, "counts", counts,
					"dry_run", dry_run, "interrupted", c->interrupted));
}

int cmd_repro(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "dry", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'F' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "downstream", no_argument, NULL, 'D' },
		{ "single-item", no_argument, NULL, 's' },
		{ "rehash", no_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct project pr;
	json_t *stages = NULL;
	struct runner_opts o = { .out = stdout, .event = on_event, .quiet = rp_opts.quiet };
	struct runner_counts counts;
	unsigned selflags = 0;
	unsigned char *sel;
	int c, rehash = 0, as_json = 0, ret = RP_EXIT_OK, r;
	double t0 = now_s();
	struct rp_err err = { 0 };

	while ((c = getopt_long(argc, argv, "j:nkshf", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': {
			long j;

			if (numopt_long("-j", optarg, 1, 1024, &j, &err) < 0) {
				rp_err_report(&err);
				return RP_EXIT_USAGE;
			}
			o.jobs = (int)j;
			break;
		}
		case 'n': o.dry_run = 1; break;
		case 'F': case 'f': o.force = 1; break;
		case 'k': o.keep_going = 1; break;
		case 'D': selflags |= DAG_SELECT_DOWNSTREAM; break;
		case 's': selflags |= DAG_SELECT_SINGLE; break;
		case 'R': rehash = 1; break;
		case 'J': as_json = 1; break;
		case 'h': return cmd_usage(repro_usage, 0);
		default: return cmd_usage(repro_usage, 1);
		}
	}
	if (project_open(&pr, rp_opts.pipeline_file, PROJECT_LOCK, &err) < 0)
		return rp_err_exit(&err);
	if (as_json) {
		/* stdout is the document's: the commands' output goes to stderr */
		stages = json_object();
		o.out = stderr;
		o.ctx = stages;
	}
	if (rehash)
		state_clear(pr.ws.state);
	store_memo_enable(pr.ws.store);   /* cleared whenever a stage starts or ends */
	if (!o.jobs)
		o.jobs = pr.ws.cfg.jobs ? pr.ws.cfg.jobs : hash_ncores();
	o.all_stages = optind == argc;
	sel = xcalloc(pr.dag->n + 1, 1);
	if (targets_select(pr.dag, (const char **)argv + optind, (size_t)(argc - optind),
			   selflags, sel, &err) < 0 ||
	    dag_check_sources(pr.dag, store_memo_stat, pr.ws.store, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_USAGE;
		goto out;
	}
	r = runner_run(&pr, sel, &o, &counts);
	if (r < 0) {
		ret = RP_EXIT_FAIL;
		goto out;
	}
	if (r > 0 || counts.failed || counts.blocked || counts.interrupted)
		ret = RP_EXIT_FAIL;
	if (!stages)
		print_summary(&counts, o.dry_run, t0);
	else if (print_json(&pr, sel, stages, &counts, o.dry_run) < 0)
		ret = RP_EXIT_FAIL;
out:
	json_decref(stages);
	free(sel);
	project_close_for_exit(&pr);
	return ret;
}
