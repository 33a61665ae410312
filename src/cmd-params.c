/*
 * cmd-params.c - `rp params diff [REV]`: parameters now against a git revision.
 *
 * Only the parameters that stages list are compared, leaf by leaf: a stage
 * listing `chunker` shows chunker.size and chunker.strategy separately. The
 * old values come from the params files as committed in REV (default HEAD).
 * A params file that a stage writes is read as it is now (a missing one,
 * not made yet, shows nothing).
 *
 * --json prints DVC's shape, {FILE: {PARAM: {"old", "new", "diff"}}}, with
 * the same rows as the table; --md prints the table as Markdown.
 */
#include "cmd.h"
#include "util/error.h"
#include "core/flatten.h"
#include "core/freshness.h"
#include "core/git.h"
#include "core/project.h"
#include "jsonout.h"
#include "table.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char params_usage[] =
	"usage: rp params diff [REV] [--all] [--json | --md]\n"
	"\n"
	"Shows the parameters the stages use whose values differ between the\n"
	"workspace and git revision REV (default HEAD).\n"
	"\n"
	"  --all    also show unchanged parameters\n"
	"  --json   print {FILE: {PARAM: {\"old\": V, \"new\": V, \"diff\": NEW - OLD}}}\n"
	"  --md     the table in Markdown\n";

struct pkey {
	const char *file;
	const char *key;      /* NULL: whole file */
	const struct node *value;
};

/* Adds {"old", "new", "diff"} of `key` under root[file] (root NULL: nothing). */
static void add_change(json_t *root, const char *file, const char *key,
		       const struct leaf *old, const struct leaf *new)
{
	if (root)
		json_out_set(json_out_child(root, file), key, json_out_change(old, new));
}

int cmd_params(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'J' },
		{ "md", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *rev = "HEAD";
	struct project pr;
	struct pkey *keys = NULL;
	size_t nkeys = 0, alloc = 0, nchanged = 0;
	int c, all = 0, failed = 0, ret = RP_EXIT_OK, as_json = 0, md = 0;
	json_t *root = NULL;
	struct table t;
	struct eval *evs;
	struct rp_err err = { 0 };

	static const char *const subs[] = { "diff" };

	if (argc < 2)
		return cmd_usage_error(params_usage, "'rp params' needs a subcommand: diff");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return cmd_usage(params_usage, 0);
	if (strcmp(argv[1], "diff"))
		return cmd_unknown_subcommand(params_usage, "params", argv[1], subs, 1);
	argv[1] = argv[0];   /* getopt's messages keep their "rp: error" */
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "ah", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': all = 1; break;
		case 'J': as_json = 1; md = 0; break;
		case 'M': md = 1; as_json = 0; break;
		case 'h': return cmd_usage(params_usage, 0);
		default: return cmd_usage(params_usage, 1);
		}
	}
	if (argc - optind > 1)
		return cmd_usage(params_usage, 1);
	if (optind < argc)
		rev = argv[optind];
	if (project_open(&pr, rp_opts.pipeline_file, 0, &err) < 0)
		return rp_err_exit(&err);
	/* a params file a stage writes is read now, as the stage will read it */
	evs = xcalloc(pr.p->nstages + 1, sizeof(*evs));
	for (size_t i = 0; i < pr.p->nstages; i++)
		freshness_read_params(pr.dag, &pr.p->stages[i], &evs[i]);
	for (size_t i = 0; i < pr.p->nstages; i++)
		for (size_t k = 0; k < pr.p->stages[i].nparams; k++) {
			const struct param *p = &pr.p->stages[i].params[k];
			size_t j;

			if (!p->value)
				continue;      /* its file or key does not exist (yet) */

			for (j = 0; j < nkeys; j++)
				if (!strcmp(keys[j].file, p->file) &&
				    !strcmp(keys[j].key ? keys[j].key : "", p->key ? p->key : ""))
					break;
			if (j < nkeys)
				continue;
			ALLOC_GROW(keys, nkeys + 1, alloc);
			keys[nkeys++] = (struct pkey){ p->file, p->key, p->value };
		}
	const char *hdr[] = { "Path", "Param", rev, "Workspace" };
	table_init(&t, 4, hdr);
	if (as_json)
		root = json_object();
	for (size_t j = 0; j < nkeys && !failed; j++) {
		struct doc *old = git_load_doc_opt(rev, keys[j].file, &err);
		const struct node *ov = old && old->root
			? (keys[j].key ? node_lookup(old->root, keys[j].key) : old->root) : NULL;
		struct leaves now = { 0 }, then = { 0 };

		if (!old && err.kind)
			failed = rp_err_exit(&err);
		flatten(keys[j].value, keys[j].key, &now);
		flatten(ov, keys[j].key, &then);
		for (size_t i = 0; i < now.n; i++) {
			const struct leaf *o = leaves_find(&then, now.l[i].key);
			int changed = !o || strcmp(o->value, now.l[i].value);
			const char *row[] = { keys[j].file, now.l[i].key, o ? o->value : NULL, now.l[i].value };

			if (changed)
				nchanged++;
			if (changed || all) {
				table_add(&t, row);
				add_change(root, keys[j].file, now.l[i].key, o, &now.l[i]);
			}
		}
		for (size_t i = 0; i < then.n; i++)
			if (!leaves_find(&now, then.l[i].key)) {
				const char *row[] = { keys[j].file, then.l[i].key, then.l[i].value, NULL };

				nchanged++;
				table_add(&t, row);
				add_change(root, keys[j].file, then.l[i].key, &then.l[i], NULL);
			}
		leaves_release(&now);
		leaves_release(&then);
		doc_free(old);
	}
	if (failed)
		ret = failed;
	else if (root)
		ret = json_out_print(json_incref(root)) < 0 ? RP_EXIT_FAIL : RP_EXIT_OK;
	else if (t.nrows > 1 && md)
		table_print_md(&t, stdout);
	else if (t.nrows > 1)
		table_print(&t, stdout);
	else if (!rp_opts.quiet)
		printf("No parameter changed since %s.\n", rev);
	json_decref(root);
	table_release(&t);
	free(keys);
	for (size_t i = 0; i < pr.p->nstages; i++)
		freshness_eval_release(&evs[i]);
	free(evs);
	project_close(&pr);
	return ret;
}
