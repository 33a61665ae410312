/*
 * cmd-checkout.c - `rp checkout [LOCK] [--rev REV] [--rebuild]`.
 *
 * Makes every cached output a lock names, and every source dep it saved,
 * match that lock, from the store, all or nothing: a missing or corrupt
 * object, or a path whose current bytes are in no store (without --force),
 * leaves the workspace as it was. --rebuild re-runs, in a scratch copy, the
 * stages whose outputs are in no store. A lock is untrusted input: the paths
 * it names are held to the current pipeline file before anything is touched.
 *
 * The engine is core/wscheckout.h (and core/rebuild.h for --rebuild); this
 * file parses the options, calls it step by step and prints what it reports.
 */
#include "cmd.h"
#include "util/buf.h"
#include "util/error.h"
#include "core/project.h"
#include "core/wscheckout.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char checkout_usage[] =
	"usage: rp checkout [LOCK] [--rev GITREV] [--rebuild] [-f|--force]\n"
	"\n"
	"Makes the workspace's outputs (and the source data the lock saved) match\n"
	"LOCK (default rp.lock), taking their bytes from the store.\n"
	"\n"
	"  --rev GITREV   use the rp.lock of that git revision\n"
	"  --rebuild      re-run stages whose outputs are in no store, in a scratch\n"
	"                 copy of the workspace, and check they give the same bytes\n"
	"  -f, --force    overwrite paths whose current bytes are in no store\n"
	"\n"
	"A path whose current content is in no store (an edit) is never overwritten\n"
	"without --force; nothing changes then. Note that 'rp repro' replaces an\n"
	"edited output too (it saves edited sources): copy an edit to keep it.\n";

/* The unsaved paths seen, one "  path (...)" line each, and how many of each kind. */
static struct buf unsaved = BUF_INIT;
static size_t unsaved_outs, unsaved_sources;

/* Prints what the checkout reports per path; ctx is the struct wscheckout. */
static void on_event(void *ctx, enum wscheckout_event e, const struct wscheckout_item *it)
{
	const struct wscheckout *c = ctx;

	switch (e) {
	case WSCHECKOUT_UNSAVED:
		(void)c;
		buf_addf(&unsaved, "  %s (%s of stage '%s')\n", it->path,
			 it->is_out ? "an output" : "a source", it->stage);
		if (it->is_out)
			unsaved_outs++;
		else
			unsaved_sources++;
		break;
	case WSCHECKOUT_NO_SOURCE:
		rp_warn("source '%s' (%.12s) of stage '%s' is not in the store; leaving the "
			"workspace copy as it is", it->path, it->oi->hash, it->stage);
		break;
	case WSCHECKOUT_RESTORED:
		if (rp_opts.verbose)
			printf("restored %s\n", it->path);
		break;
	}
}

static void say_rebuilding(void *ctx, const char *stage, const char *scratch)
{
	(void)ctx;
	if (!rp_opts.quiet)
		printf("Rebuilding stage '%s' in '%s'\n", stage, scratch);
	fflush(stdout);
}

/* The checkout of an opened `c`, step by step (wscheckout.h); the exit code. */
static int restore(struct wscheckout *c, int rebuild)
{
	struct rp_err err = { 0 };

	if (wscheckout_lookup(c, &err) < 0) {
		rp_err_report(&err);
		fprintf(stderr, "Nothing in the workspace was changed.\n");
		return err.kind == RP_ERR_INPUT ? RP_EXIT_USAGE : RP_EXIT_FAIL;
	}
	if (c->nunsaved) {
		/* say what each way out does to the bytes: 'rp repro' rewrites outputs */
		if (c->nunsaved == 1)
			rp_error("this path holds changes that are in no store; checking out "
				 "would lose them:");
		else
			rp_error("these %zu paths hold changes that are in no store; checking out "
				 "would lose them:", c->nunsaved);
		fputs(unsaved.s, stderr);
		buf_release(&unsaved);
		fprintf(stderr, "Nothing was changed.\n");
		if (unsaved_outs)
			fprintf(stderr, "To keep an edited output, copy it elsewhere first: 'rp repro' "
				"would also replace it, with what its stage makes.\n");
		if (unsaved_sources)
			fprintf(stderr, "To keep an edited source, run 'rp repro' first: it saves the "
				"source into the store (and runs the stages that use it).\n");
		fprintf(stderr, "'rp checkout --force' replaces %s with the lock's bytes: the edits "
			"are lost.\n", c->nunsaved == 1 ? "this path" : "these paths");
		return RP_EXIT_FAIL;
	}
	if (c->nmissing && !rebuild) {
		rp_error("these objects are in no store, so nothing was changed:");
		for (size_t i = 0; i < c->n; i++)
			if (c->items[i].missing)
				fprintf(stderr, "  %s (%.12s), made by stage '%s'\n", c->items[i].path,
					c->items[i].oi->hash, c->items[i].stage);
		fprintf(stderr, "Run 'rp checkout --rebuild' to re-run those stages, or 'rp repro'.\n");
		return RP_EXIT_FAIL;
	}
	if (wscheckout_rebuild(c, &err) < 0) {
		if (err.kind)
			rp_err_report(&err);
		return RP_EXIT_FAIL;
	}
	/* build and verify every path beside its place first, then rename them all */
	if (wscheckout_stage(c, &err) < 0) {
		rp_err_report(&err);
		fprintf(stderr, "Nothing in the workspace was changed.\n");
		return RP_EXIT_FAIL;
	}
	if (wscheckout_commit(c, &err) < 0) {
		rp_err_report(&err);
		return RP_EXIT_FAIL;
	}
	if (!rp_opts.quiet)
		printf("%zu path%s restored, %zu already matched\n", c->nchanged,
		       c->nchanged == 1 ? "" : "s", c->n - c->nchanged);
	return RP_EXIT_OK;
}

int cmd_checkout(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "rev", required_argument, NULL, 'r' },
		{ "rebuild", no_argument, NULL, 'b' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct project pr;
	struct wscheckout c;
	struct wscheckout_opts o = { .out = stdout, .event = on_event,
				     .rebuilding = say_rebuilding, .ctx = &c };
	struct rp_err err = { 0 };
	struct lock *lock;
	const char *file = WS_LOCK_FILE;
	char *owned = NULL;
	int ch, ret;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': o.rev = optarg; break;
		case 'b': o.rebuild = 1; break;
		case 'f': o.force = 1; break;
		case 'h': return cmd_usage(checkout_usage, 0);
		default: return cmd_usage(checkout_usage, 1);
		}
	}
	if (argc - optind > 1)
		return cmd_usage_error(checkout_usage, "one lock at most, not '%s' and '%s'",
				       argv[optind], argv[optind + 1]);
	if (optind < argc)
		file = argv[optind];
	if (project_open(&pr, rp_opts.pipeline_file, PROJECT_LOCK | PROJECT_NO_PIPELINE, &err) < 0)
		return rp_err_exit(&err);
	if (optind < argc && !o.rev)
		file = owned = workspace_arg_path(&pr.ws, file);
	lock = wscheckout_load_lock(file, o.rev, &err);
	if (!lock) {
		ret = rp_err_exit(&err);
	} else if (wscheckout_open(&c, &pr, lock, file, &o, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_USAGE;
	} else {
		ret = restore(&c, o.rebuild);
	}
	wscheckout_release(&c);
	lock_free(lock);
	project_close(&pr);
	free(owned);
	return ret;
}
