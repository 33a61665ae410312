/*
 * cmd-cache.c - `rp cache verify [--repair]`: rehash every object in the store.
 *
 * Every file under .rp/cache/objects/<2>/<62> is hashed (on all cores) and
 * compared with its name. A mismatch is reported; with --repair it is moved
 * to .rp/cache/quarantine/<name> (never deleted: it may be someone's only
 * copy of something), so rp can no longer serve it and the next `rp repro`
 * or `rp checkout --rebuild` makes it again. Exit 1 when a bad object was
 * found (even when repaired: the store was not sound).
 *
 * --json prints {"checked": N, "corrupt": [{"id": NAME, "actual": HASH,
 * "quarantined": PATH}]} (the last with --repair, once moved) instead of
 * the summary line, also when objects were corrupt.
 */
#include "cmd.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/progress.h"
#include "core/project.h"
#include "jsonout.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char cache_usage[] =
	"usage: rp cache verify [--repair] [--json]\n"
	"\n"
	"Rehashes every object in the store and reports those whose bytes do not\n"
	"match their name. Exit status 1 when any was found.\n"
	"\n"
	"  --repair   move bad objects to .rp/cache/quarantine/ so they are never served\n"
	"  --json     print {\"checked\": N, \"corrupt\": [{\"id\": NAME, \"actual\": HASH,\n"
	"             \"quarantined\": PATH}]}\n";

struct objects {
	char **paths;
	char **names;      /* the hash each should have */
	size_t n, alloc;
};

static int add_object(const char *path, const char *hex, void *data)
{
	struct objects *o = data;

	ALLOC_GROW(o->paths, o->n + 1, o->alloc);
	o->names = xrealloc(o->names, o->alloc * sizeof(*o->names));
	o->paths[o->n] = xstrdup(path);
	o->names[o->n] = xstrdup(hex);
	o->n++;
	return 0;
}

static int list_objects(const char *root, struct objects *o)
{
	char *dir = xasprintf("%s/objects", root);
	struct rp_err err = { 0 };
	int ret = store_walk(dir, add_object, o, &err);

	if (ret < 0)
		rp_err_report(&err);
	free(dir);
	return ret;
}

int cmd_cache(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct project pr;
	struct objects o = { 0 };
	char (*hex)[HASH_HEX] = NULL;
	struct rp_err err = { 0 };
	size_t bad = 0, chunk = 256;
	int c, repair = 0, as_json = 0, ret = RP_EXIT_OK;
	json_t *corrupt = NULL;
	struct progress prog;

	static const char *const subs[] = { "verify" };

	if (argc < 2)
		return cmd_usage_error(cache_usage, "'rp cache' needs a subcommand: verify");
	if (!strcmp(argv[1], "-h"))
		return cmd_usage(cache_usage, 0);
	if (strcmp(argv[1], "verify"))
		return cmd_unknown_subcommand(cache_usage, "cache", argv[1], subs, 1);
	argv[1] = argv[0];   /* getopt's messages keep their "rp: error" */
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': repair = 1; break;
		case 'J': as_json = 1; break;
		case 'h': return cmd_usage(cache_usage, 0);
		default: return cmd_usage(cache_usage, 1);
		}
	}
	if (optind < argc)
		return cmd_usage_error(cache_usage, "unexpected argument '%s'", argv[optind]);
	if (project_open(&pr, rp_opts.pipeline_file, PROJECT_LOCK | PROJECT_NO_PIPELINE, &err) < 0)
		return rp_err_exit(&err);
	if (list_objects(pr.ws.store->root, &o) < 0) {
		ret = RP_EXIT_FAIL;
		goto out;
	}
	hex = xcalloc(o.n + 1, sizeof(*hex));
	progress_init(&prog, "rp cache verify", o.n);
	if (rp_opts.quiet)
		prog.enabled = 0;
	/* in slices, so the progress line moves and an unreadable file is named */
	for (size_t i = 0; i < o.n; i += chunk) {
		size_t n = o.n - i < chunk ? o.n - i : chunk;

		if (hash_files((const char *const *)o.paths + i, n, hex + i, 0, &err) < 0) {
			progress_end(&prog);
			rp_err_report(&err);
			ret = RP_EXIT_FAIL;
			goto out;
		}
		progress_update(&prog, i + n, NULL);
	}
	progress_end(&prog);
	corrupt = json_array();
	for (size_t i = 0; i < o.n; i++) {
		json_t *entry;
		char *q;

		if (!strcmp(hex[i], o.names[i]))
			continue;
		bad++;
		rp_error("object %s is corrupt: its bytes hash to %.12s", o.names[i], hex[i]);
		entry = json_pack("{s:s, s:s}", "id", o.names[i], "actual", hex[i]);
		json_array_append_new(corrupt, entry);
		if (!repair)
			continue;
		q = xasprintf("%s/quarantine/%s", pr.ws.store->root, o.names[i]);
		/* a failed mkdir is told, then the move it made fail (errno kept) */
		if ((fs_mkdir_parent(q, &err) < 0 && rp_err_report(&err)) ||
		    rename(o.paths[i], q) < 0) {
			rp_error_errno("cannot move '%s' to '%s'", o.paths[i], q);
			ret = RP_EXIT_FAIL;
		} else {
			fprintf(stderr, "  moved to %s\n", q);
			json_object_set_new(entry, "quarantined", json_out_str(q));
		}
		free(q);
	}
	if (as_json) {
		if (json_out_print(json_pack("{s:I, s:O}", "checked", (json_int_t)o.n,
					     "corrupt", corrupt)) < 0)
			ret = RP_EXIT_FAIL;
	} else if (!rp_opts.quiet) {
		printf("%zu object%s checked, %zu corrupt%s\n", o.n, o.n == 1 ? "" : "s", bad,
		       bad && repair ? " (quarantined; run 'rp repro' or 'rp checkout --rebuild' "
				       "to make them again)" : bad ? " (run 'rp cache verify --repair')" : "");
	}
	if (bad)
		ret = RP_EXIT_FAIL;
out:
	json_decref(corrupt);
	for (size_t i = 0; i < o.n; i++) {
		free(o.paths[i]);
		free(o.names[i]);
	}
	free(o.paths);
	free(o.names);
	free(hex);
	project_close(&pr);
	return ret;
}
