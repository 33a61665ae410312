/*
 * cmd-gc.c - `rp gc`: delete objects and run-cache entries no kept lock uses.
 *
 * Kept: rp.lock (and its journal) always, each --keep LOCK, and with
 * --all-revs every version of rp.lock in the git history (all refs).
 */
#include "cmd.h"
#include "error.h"
#include "gc.h"
#include "git.h"
#include "project.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char gc_usage[] =
	"usage: rp gc [--keep LOCK]... [--all-revs] [-n|--dry-run]\n"
	"\n"
	"Deletes store objects and run-cache entries that no kept lock references.\n"
	"rp.lock is always kept.\n"
	"\n"
	"  --keep LOCK   also keep what this lock file references (repeatable)\n"
	"  --all-revs    also keep every version of rp.lock in the git history\n"
	"  -n, --dry-run list what would be deleted and how many bytes, delete nothing\n";

static void report(const char *path, uint64_t size, void *ctx)
{
	if (*(int *)ctx)
		printf("would delete %s (%" PRIu64 " bytes)\n", path, size);
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

int cmd_gc(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keep", required_argument, NULL, 'k' },
		{ "all-revs", no_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char **keep = xcalloc((size_t)argc + 1, sizeof(*keep));
	size_t nkeep = 0;
	int c, all_revs = 0, dry_run = 0, ret = RP_EXIT_OK;
	struct project pr;
	struct gc g;
	struct gc_stats st;
	struct rp_err err = { 0 };

	while ((c = getopt_long(argc, argv, "nh", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': keep[nkeep++] = optarg; break;
		case 'a': all_revs = 1; break;
		case 'n': dry_run = 1; break;
		case 'h': free(keep); return cmd_usage(gc_usage, 0);
		default: free(keep); return cmd_usage(gc_usage, 1);
		}
	}
	if (optind < argc) {
		free(keep);
		return cmd_usage(gc_usage, 1);
	}
	if (project_open(&pr, rp_opts.pipeline_file, PROJECT_LOCK | PROJECT_NO_PIPELINE) < 0) {
		free(keep);
		return rp_error_exit_code();
	}
	gc_init(&g, pr.ws.store);
	if (gc_mark_lock(&g, pr.lock, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < nkeep; i++) {
		struct lock *l = lock_load(keep[i], NULL, NULL, &err);

		if (!l || !l->base[0]) {
			if (l)
				rp_error_input("--keep '%s': no such lock file", keep[i]);
			else
				rp_err_report(&err);
			lock_free(l);
			ret = RP_EXIT_USAGE;
			goto out;
		}
		if (gc_mark_lock(&g, l, &err) < 0) {
			rp_err_report(&err);
			lock_free(l);
			ret = RP_EXIT_FAIL;
			goto out;
		}
		lock_free(l);
	}
	if (all_revs) {
		struct buf revs = BUF_INIT;
		char *line, *next;

		if (git_revs_touching(WS_LOCK_FILE, &revs, &err) < 0) {
			rp_err_report(&err);
			buf_release(&revs);
			ret = RP_EXIT_FAIL;
			goto out;
		}
		for (line = revs.s; *line; line = next) {
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

				if (mark_text(&g, name, text.s, text.len) < 0)
					ret = RP_EXIT_FAIL;
				free(name);
			}
			buf_release(&text);
			if (ret)
				break;
		}
		buf_release(&revs);
		if (ret)
			goto out;
	}
	if (gc_sweep(&g, dry_run, &st, report, &dry_run, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_FAIL;
		goto out;
	}
	printf("%s %" PRIu64 " objects (%" PRIu64 " bytes) and %" PRIu64 " run-cache entries; "
	       "kept %" PRIu64 " objects\n", dry_run ? "would delete" : "deleted",
	       st.objects, st.object_bytes, st.runs, st.kept);
out:
	gc_release(&g);
	project_close(&pr);
	free(keep);
	return ret;
}
