/*
 * cmd-repro.c - `rp repro`: run the stages whose inputs changed.
 *
 * Parses the options, selects the stages and hands them to the runner
 * (core/runner.h), which schedules, restores and runs them; this file prints
 * what the runner reports and the summary line.
 */
#include "cmd.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/numopt.h"
#include "core/freshness.h"
#include "core/project.h"
#include "core/runner.h"
#include "core/targets.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char repro_usage[] =
	"usage: rp repro [TARGET...] [-j N] [-n|--dry] [-f|--force] [-k|--keep-going]\n"
	"                [--downstream] [-s|--single-item] [--rehash] [-q] [-v]\n"
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
	"      --rehash       re-read every file instead of trusting .rp/state.db\n";

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

/* Prints what the runner reports. */
static void on_event(void *ctx, enum runner_event e, const struct stage *st,
		     const struct verdict *v, const struct rp_err *err)
{
	(void)ctx;
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct project pr;
	struct runner_opts o = { .out = stdout, .event = on_event, .quiet = rp_opts.quiet };
	struct runner_counts counts;
	unsigned selflags = 0;
	unsigned char *sel;
	int c, rehash = 0, ret = RP_EXIT_OK, r;
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
		case 'h': return cmd_usage(repro_usage, 0);
		default: return cmd_usage(repro_usage, 1);
		}
	}
	if (project_open(&pr, rp_opts.pipeline_file, PROJECT_LOCK, &err) < 0)
		return rp_err_exit(&err);
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
	print_summary(&counts, o.dry_run, t0);
out:
	free(sel);
	project_close_for_exit(&pr);
	return ret;
}
