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
 *
 * --json prints, once every path was looked up (also when the checkout then
 * refuses or fails), {"restored": [PATH], "unchanged": [PATH], "missing":
 * [{"path", "hash", "stage"}], "unsaved": [{"path", "stage", "out"}],
 * "not_in_store": [{"path", "hash", "stage"}], "rebuilt": [STAGE]}.
 */
#include "cmd.h"
#include "util/buf.h"
#include "util/error.h"
#include "core/project.h"
#include "core/wscheckout.h"
#include "jsonout.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char checkout_usage[] =
	"usage: rp checkout [LOCK] [--rev GITREV] [--rebuild] [-f|--force] [--json]\n"
	"\n"
	"Makes the workspace's outputs (and the source data the lock saved) match\n"
	"LOCK (default rp.lock), taking their bytes from the store.\n"
	"\n"
	"  --rev GITREV   use the rp.lock of that git revision\n"
	"  --rebuild      re-run stages whose outputs are in no store, in a scratch\n"
	"                 copy of the workspace, and check they give the same bytes\n"
	"  -f, --force    overwrite paths whose current bytes are in no store\n"
	"  --json         print {\"restored\": [PATH], \"unchanged\": [PATH], \"missing\": [...],\n"
	"                 \"unsaved\": [...], \"not_in_store\": [...], \"rebuilt\": [STAGE]}\n"
	"\n"
	"A path whose current content is in no store (an edit) is never overwritten\n"
	"without --force; nothing changes then. Note that 'rp repro' replaces an\n"
	"edited output too (it saves edited sources): copy an edit to keep it.\n";

/* The unsaved paths seen, one "  path (...)" line each, and how many of each kind. */
static struct buf unsaved = BUF_INIT;
static size_t unsaved_outs, unsaved_sources;

/* --json: what became of each item (by index), and the stages rebuilt */
enum { ITEM_UNSAVED = 1 << 0, ITEM_NO_SOURCE = 1 << 1, ITEM_RESTORED = 1 << 2 };
static int as_json;
static unsigned char *item_flags;
static json_t *rebuilt;

static void flag_item(const struct wscheckout *c, const struct wscheckout_item *it, int flag)
{
	if (item_flags && it >= c->items && it < c->items + c->n)
		item_flags[it - c->items] |= (unsigned char)flag;
}

/* The --json document of `c` after its lookup (see the top of the file). */
static json_t *checkout_json(const struct wscheckout *c)
{
	json_t *restored = json_array(), *unchanged = json_array(), *missing = json_array();
	json_t *unsaved_a = json_array(), *no_source = json_array();

	for (size_t i = 0; i < c->n; i++) {
		const struct wscheckout_item *it = &c->items[i];
		json_t *obj = json_pack("{s:o, s:o}", "path", json_out_str(it->path),
					"stage", json_out_str(it->stage));

		if (item_flags[i] & ITEM_RESTORED)
			json_array_append_new(restored, json_out_str(it->path));
		else if (!it->needed && !(item_flags[i] & ITEM_NO_SOURCE))
			json_array_append_new(unchanged, json_out_str(it->path));
		if (it->missing || (item_flags[i] & ITEM_NO_SOURCE)) {
			json_object_set_new(obj, "hash", json_string(it->oi->hash));
			json_array_append(it->missing ? missing : no_source, obj);
		} else if (item_flags[i] & ITEM_UNSAVED) {
			json_object_set_new(obj, "out", json_boolean(it->is_out));
			json_array_append(unsaved_a, obj);
		}
		json_decref(obj);
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:O}", "restored", restored,
			 "unchanged", unchanged, "missing", missing, "unsaved", unsaved_a,
			 "not_in_store", no_source, "rebuilt", rebuilt);
}

/* Prints what the checkout reports per path; ctx is the struct wscheckout. */
static void on_event(void *ctx, enum wscheckout_event e, const struct wscheckout_item *it)
{
	const struct wscheckout *c = ctx;

	switch (e) {
	case WSCHECKOUT_UNSAVED:
		flag_item(c, it, ITEM_UNSAVED);
		buf_addf(&unsaved, "  %s (%s of stage '%s')\n", it->path,
			 it->is_out ? "an output" : "a source", it->stage);
		if (it->is_out)
			unsaved_outs++;
		else
			unsaved_sources++;
		break;
	case WSCHECKOUT_NO_SOURCE:
		flag_item(c, it, ITEM_NO_SOURCE);
		rp_warn("source '%s' (%.12s) of stage '%s' is not in the store; leaving the "
			"workspace copy as it is", it->path, it->oi->hash, it->stage);
		break;
	case WSCHECKOUT_RESTORED:
		flag_item(c, it, ITEM_RESTORED);
		if (rp_opts.verbose && !as_json)
			printf("restored %s\n", it->path);
		break;
	}
}

static void say_rebuilding(void *ctx, const char *stage, const char *scratch)
{
	(void)ctx;
	if (as_json) {
		json_array_append_new(rebuilt, json_out_str(stage));
		fprintf(stderr, "Rebuilding stage '%s' in '%s'\n", stage, scratch);
		return;
	}
	if (!rp_opts.quiet)
		printf("Rebuilding stage '%s' in '%s'\n", stage, scratch);
	fflush(stdout);
}

/*
 * The checkout of an opened `c`, step by step (wscheckout.h); the exit code.
 * *looked_up tells whether every path was looked up (--json has results).
 */
static int restore(struct wscheckout *c, int rebuild, int *looked_up)
{
	struct rp_err err = { 0 };

	item_flags = xcalloc(c->n + 1, 1);
	if (wscheckout_lookup(c, &err) < 0) {
		rp_err_report(&err);
		fprintf(stderr, "Nothing in the workspace was changed.\n");
		return err.kind == RP_ERR_INPUT ? RP_EXIT_USAGE : RP_EXIT_FAIL;
	}
	*looked_up = 1;
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
	if (!rp_opts.quiet && !as_json)
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
		{ "json", no_argument, NULL, 'J' },
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
	int ch, ret, looked_up = 0;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': o.rev = optarg; break;
		case 'b': o.rebuild = 1; break;
		case 'f': o.force = 1; break;
		case 'J': as_json = 1; o.out = stderr; break;
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
		if (as_json)
			rebuilt = json_array();
		ret = restore(&c, o.rebuild, &looked_up);
		if (looked_up && as_json && json_out_print(checkout_json(&c)) < 0 && !ret)
			ret = RP_EXIT_FAIL;
	}
	json_decref(rebuilt);
	free(item_flags);
	wscheckout_release(&c);
	lock_free(lock);
	project_close(&pr);
	free(owned);
	return ret;
}
