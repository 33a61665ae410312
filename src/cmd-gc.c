/*
 * cmd-gc.c - `rp gc`: delete objects and run-cache entries no kept lock uses.
 *
 * What is kept is always said: --workspace (rp.lock and its journal), each
 * --keep LOCK (a lock file, or a workspace directory, with that workspace's
 * journal), --all-revs (every version of rp.lock in the git history), or
 * --force (as --workspace). Without one of them gc deletes nothing: it says
 * what --workspace would delete and exits 2, since older commits and other
 * workspaces on a shared store may still need those objects.
 *
 * Order (storelock.h): the git history is read under the shared lease (it
 * cannot change what a commit names); then the lease turns exclusive, the
 * --keep locks are read, and the sweep runs, so that no rp process in any
 * workspace writes or records an object between the reading and the deleting.
 * The workspace's own rp.lock cannot change meanwhile: gc holds its lock.
 *
 * --json prints, instead of the lines, {"dry_run": B, "objects": {"count",
 * "bytes", "ids"}, "run_cache": {"count", "bytes", "ids"}, "kept": N}: what
 * was deleted (or would be), ids sorted; also when gc refuses for want of a
 * scope (exit 2), since it has counted by then.
 */
#include "cmd.h"
#include "util/error.h"
#include "core/gc.h"
#include "core/git.h"
#include "core/project.h"
#include "jsonout.h"
#include "util/strv.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char gc_usage[] =
	"usage: rp gc (--workspace | --keep LOCK... | --all-revs | --force) [-n|--dry-run]\n"
	"             [--json]\n"
	"\n"
	"Deletes store objects and run-cache entries that no kept lock references.\n"
	"rp.lock (and its journal) is always kept; say what else is, or --workspace\n"
	"for nothing else. Without any of these, only says what --workspace would delete.\n"
	"\n"
	"  -w, --workspace  keep only what rp.lock uses\n"
	"  --keep LOCK      also keep what this lock file uses (a workspace directory:\n"
	"                   its rp.lock and .rp/lock.journal) (repeatable)\n"
	"  --all-revs       also keep every version of rp.lock in the git history\n"
	"  -f, --force      as --workspace\n"
	"  -n, --dry-run    list what would be deleted and how many bytes, delete nothing\n"
	"  --json           print {\"dry_run\": B, \"objects\": {\"count\": N, \"bytes\": N,\n"
	"                   \"ids\": [...]}, \"run_cache\": {...}, \"kept\": N}\n";

/* What gc_sweep() reports: printed (-n), or gathered for --json. */
struct sweep_report {
	int print;                  /* -n without --json: a line per path */
	int as_json;
	const char *objects;        /* "STORE/objects/": an object's path starts so */
	char **obj_ids, **run_ids;  /* --json: the hashes and run-cache keys */
	size_t nobj, obj_alloc, nrun, run_alloc;
};

/* A swept path's name without its fan-out slash: "ab/cdef" -> "abcdef". Caller frees. */
static char *sweep_id(const char *rel)
{
	char *id = xstrdup(rel), *slash = strchr(id, '/');

	if (slash)
		memmove(slash, slash + 1, strlen(slash));
	return id;
}

static void report(const char *path, uint64_t size, void *ctx)
{
	struct sweep_report *r = ctx;
	size_t olen = strlen(r->objects);

	if (r->print)
		printf("would delete %s (%" PRIu64 " byte%s)\n", path, size, size == 1 ? "" : "s");
	if (!r->as_json)
		return;
	if (!strncmp(path, r->objects, olen)) {
		ALLOC_GROW(r->obj_ids, r->nobj + 1, r->obj_alloc);
		r->obj_ids[r->nobj++] = sweep_id(path + olen);
	} else {
		/* "run-cache entry KEY", or STORE/runs/<2>/<62> of earlier versions */
		const char *p = !strncmp(path, "run-cache entry ", 16) ? path + 16 : path;
		const char *cut = p == path ? strrchr(path, '/') : NULL;

		if (cut)   /* back to the fan-out directory */
			while (cut > path && cut[-1] != '/')
				cut--;
		ALLOC_GROW(r->run_ids, r->nrun + 1, r->run_alloc);
		r->run_ids[r->nrun++] = sweep_id(cut ? cut : p);
	}
}

/* {"count", "bytes", "ids"} of `ids` (sorted, then freed). */
static json_t *swept_json(uint64_t count, uint64_t bytes, char **ids, size_t n)
{
	json_t *a = json_array();

	strv_sort(ids, n);
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(a, json_out_str(ids[i]));
		free(ids[i]);
	}
	free(ids);
	return json_pack("{s:I, s:I, s:o}", "count", (json_int_t)count, "bytes", (json_int_t)bytes,
			 "ids", a);
}

static int mark_text(struct gc *g, const char *name, const char *text, size_t len)
{
	struct rp_err err = { 0 };
	struct lock *l = lock_parse(name, text, len, &err);
	int ret;

	if (!l)
		return rp_err_report(&err);
	ret = gc_mark_lock(g, l, &err);
	if (ret < 0)
		rp_err_report(&err);
	lock_free(l);
	return ret;
}

/* Marks every version of rp.lock in the git history. 0 or -1 (reported). */
static int mark_revs(struct gc *g)
{
	struct buf revs = BUF_INIT;
	struct rp_err err = { 0 };
	char *line, *next;
	int ret = 0;

	if (git_revs_touching(WS_LOCK_FILE, &revs, &err) < 0) {
		buf_release(&revs);
		return rp_err_report(&err);
	}
	for (line = revs.s; *line && !ret; line = next) {
		struct buf text = BUF_INIT;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (!*line)
			continue;
		if (git_show(line, WS_LOCK_FILE, &text, &err) == 0) {
			char *name = xasprintf("%.12s:%s", line, WS_LOCK_FILE);

			ret = mark_text(g, name, text.s, text.len);
			free(name);
		}
		buf_release(&text);
	}
	buf_release(&revs);
	return ret;
}

/*
 * Marks what `path` (the user's `arg`, named in messages) keeps: a lock
 * file, with the journal of the workspace it is the rp.lock of (the stages
 * a running or killed run finished), or a workspace directory (its rp.lock
 * and journal). RP_EXIT_* .
 */
static int mark_keep(struct gc *g, const char *path, const char *arg)
{
	struct rp_err err = { 0 };
	struct stat sb;
	char *lockf, *journal = NULL, *slash;
	struct lock *l;
	int ret = RP_EXIT_OK;

	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		lockf = xasprintf("%s/%s", path, WS_LOCK_FILE);
		journal = xasprintf("%s/%s", path, WS_JOURNAL);
	} else {
		lockf = xstrdup(path);
		slash = strrchr(lockf, '/');
		if (!strcmp(slash ? slash + 1 : lockf, WS_LOCK_FILE))
			journal = xasprintf("%.*s%s", slash ? (int)(slash + 1 - lockf) : 0, lockf,
					    WS_JOURNAL);
	}
	if (access(lockf, F_OK) < 0 && !(journal && access(journal, F_OK) == 0)) {
		rp_error("--keep '%s': no such lock file", arg);
		ret = RP_EXIT_USAGE;
		goto out;
	}
	l = lock_load(lockf, journal, NULL, &err);
	if (!l) {
		ret = rp_err_exit(&err);
		goto out;
	}
	if (gc_mark_lock(g, l, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_FAIL;
	}
	lock_free(l);
out:
	free(journal);
	free(lockf);
	return ret;
}

int cmd_gc(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "workspace", no_argument, NULL, 'w' },
		{ "keep", required_argument, NULL, 'k' },
		{ "all-revs", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char **keep = xcalloc((size_t)argc + 1, sizeof(*keep));
	char *objects = NULL;
	size_t nkeep = 0;
	int c, all_revs = 0, dry_run = 0, scope = 0, as_json = 0, ret = RP_EXIT_OK;
	struct project pr;
	struct gc g;
	struct gc_stats st;
	struct sweep_report rep = { 0 };
	struct rp_err err = { 0 };

	while ((c = getopt_long(argc, argv, "wfnh", longopts, NULL)) != -1) {
		switch (c) {
		case 'w': scope = 1; break;
		case 'k': keep[nkeep++] = optarg; scope = 1; break;
		case 'a': all_revs = 1; scope = 1; break;
		case 'f': scope = 1; break;
		case 'n': dry_run = 1; break;
		case 'J': as_json = 1; break;
		case 'h': free(keep); return cmd_usage(gc_usage, 0);
		default: free(keep); return cmd_usage(gc_usage, 1);
		}
	}
	if (optind < argc) {
		free(keep);
		return cmd_usage_error(gc_usage, "unexpected argument '%s'", argv[optind]);
	}
	if (project_open(&pr, rp_opts.pipeline_file, PROJECT_LOCK | PROJECT_NO_PIPELINE, &err) < 0) {
		free(keep);
		return rp_err_exit(&err);
	}
	gc_init(&g, pr.ws.store);
	if (scope && !dry_run && gc_check_store(pr.ws.store, pr.ws.root, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	if (gc_mark_lock(&g, pr.lock, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_FAIL;
		goto out;
	}
	if (all_revs && mark_revs(&g) < 0) {
		ret = RP_EXIT_FAIL;
		goto out;
	}
	if (scope && !dry_run && store_lease_exclusive(&pr.ws.store->lease, pr.ws.store->root,
						       &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	for (size_t i = 0; i < nkeep && !ret; i++) {
		char *path = workspace_arg_path(&pr.ws, keep[i]);

		ret = mark_keep(&g, path, keep[i]);
		free(path);
	}
	if (ret)
		goto out;
	rep.print = dry_run && !as_json;
	rep.as_json = as_json;
	rep.objects = objects = xasprintf("%s/objects/", pr.ws.store->root);
	if (gc_sweep(&g, dry_run || !scope, &st, report, &rep, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_FAIL;
		goto out;
	}
	/* the others may go on as soon as the deleting is over */
	store_lease_release(&pr.ws.store->lease);
	if (as_json) {
		json_t *objs = swept_json(st.objects, st.object_bytes, rep.obj_ids, rep.nobj);
		json_t *runs = swept_json(st.runs, st.run_bytes, rep.run_ids, rep.nrun);

		rep.obj_ids = rep.run_ids = NULL;
		rep.nobj = rep.nrun = 0;
		if (json_out_print(json_pack("{s:b, s:o, s:o, s:I}", "dry_run", dry_run || !scope,
					     "objects", objs, "run_cache", runs,
					     "kept", (json_int_t)st.kept)) < 0)
			ret = RP_EXIT_FAIL;
	} else if (!rp_opts.quiet || (!scope && !dry_run))
		printf("%s %" PRIu64 " object%s (%" PRIu64 " byte%s) and %" PRIu64 " run-cache "
		       "entr%s; kept %" PRIu64 " object%s\n",
		       dry_run || !scope ? "would delete" : "deleted",
		       st.objects, st.objects == 1 ? "" : "s", st.object_bytes,
		       st.object_bytes == 1 ? "" : "s", st.runs, st.runs == 1 ? "y" : "ies",
		       st.kept, st.kept == 1 ? "" : "s");
	if (!scope && !dry_run) {
		rp_error("nothing deleted: say what to keep besides rp.lock: --workspace "
			 "(nothing else), --keep LOCK (another lock or workspace), --all-revs "
			 "(every rp.lock in git), or --force (as --workspace); -n lists the objects");
		ret = RP_EXIT_USAGE;
	}
out:
	for (size_t i = 0; i < rep.nobj; i++)
		free(rep.obj_ids[i]);
	for (size_t i = 0; i < rep.nrun; i++)
		free(rep.run_ids[i]);
	free(rep.obj_ids);
	free(rep.run_ids);
	free(objects);
	gc_release(&g);
	project_close(&pr);
	free(keep);
	return ret;
}
