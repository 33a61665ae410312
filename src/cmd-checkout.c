/*
 * cmd-checkout.c - `rp checkout [LOCK] [--rev REV] [--rebuild]`.
 *
 * Makes every cached output a lock names, and every source dep it saved,
 * match that lock, from the store. All objects are looked up before anything
 * is touched: when one is missing, the workspace is left as it was and the
 * missing objects are listed with the stages that made them. Then every path
 * is built and verified beside its place, and only when all are ready are
 * they renamed into place, so a corrupt object changes nothing either.
 *
 * A path whose current bytes are in no store (say, a source edited since the
 * last `rp repro`) would be lost by the overwrite: without --force, checkout
 * then lists such paths and changes nothing.
 *
 * --rebuild: a stage whose outputs are in no store is re-run in a scratch
 * copy of the workspace (.rp/tmp/rebuild-<pid>-*, removed by the next rebuild
 * when its process was killed), with its deps restored there from
 * the store (rebuilding upstream stages first when needed); its outputs must
 * hash to what the lock says, else the stage is named as nondeterministic.
 * The user's own sources are never overwritten by a rebuild.
 *
 * A lock is untrusted input (a cloned repository's, or any LOCK or --rev
 * given): before anything is touched, every path it names must pass
 * lock_check_paths() against the current pipeline file (a dep, out or params
 * file the pipeline names; never .git, .rp, the workspace root or the store),
 * and no symlink on the way may lead outside the workspace, into a .git or
 * .rp, or into the store. A --rev lock is held to the current pipeline file
 * too. The --rebuild scratch copy is written only at those same paths.
 */
#include "cmd.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/wspath.h"
#include "core/git.h"
#include "core/project.h"
#include "core/rebuild.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	"A path whose current content is in no store (an edit not yet saved by\n"
	"'rp repro') is never overwritten without --force; nothing changes then.\n";

struct item {
	const char *path;
	const struct objinfo *oi;
	const char *stage;
	int is_out;
	int needed;      /* the workspace differs */
	int missing;     /* and the object is in no store */
};

struct checkout {
	struct project pr;
	struct lock *lock;
	const char *rev;
	struct item *items;
	size_t n, alloc;
	struct rebuild rb;       /* who made what, and --rebuild */
};

static void add_item(struct checkout *c, const char *path, const struct objinfo *oi,
		     const char *stage, int is_out)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->items[i].path, path))
			return;
	ALLOC_GROW(c->items, c->n + 1, c->alloc);
	c->items[c->n++] = (struct item){ path, oi, stage, is_out, 0, 0 };
}

static void say_rebuilding(void *ctx, const char *stage, const char *scratch)
{
	(void)ctx;
	if (!rp_opts.quiet)
		printf("Rebuilding stage '%s' in '%s'\n", stage, scratch);
	fflush(stdout);
}

static void short_hash(const char *h, char out[13])
{
	memcpy(out, h, 12);
	out[12] = '\0';
}

/*
 * Whether writing `path` (a workspace-relative path whose last component is
 * replaced, not followed) would land in the store `store_real` (a real path)
 * or replace a directory holding it: resolves the deepest existing directory
 * on its way. Returns NULL when not, else where it lands (the caller frees).
 */
static char *lands_in_store(const char *store_real, const char *path)
{
	char *dir = xstrdup(path), *slash, *real = NULL, *where;
	const char *rest = path;
	size_t len = strlen(store_real), wlen;

	for (;;) {
		slash = strrchr(dir, '/');
		if (!slash) {
			real = realpath(".", NULL);
			break;
		}
		*slash = '\0';
		if ((real = realpath(dir, NULL))) {
			rest = path + (slash - dir) + 1;
			break;
		}
	}
	free(dir);
	if (!real)
		return NULL;
	where = xasprintf("%s/%s", real, rest);
	free(real);
	wlen = strlen(where);
	if ((!strncmp(where, store_real, len) && (!where[len] || where[len] == '/')) ||
	    (!strncmp(store_real, where, wlen) && store_real[wlen] == '/'))
		return where;
	free(where);
	return NULL;
}

/*
 * The symlink half of the rule (the lexical half is lock_check_paths()):
 * every dep and out the lock names is written (here or in a --rebuild
 * scratch copy, which keeps the links), and with `rebuild` its params files
 * too (in the scratch copy), so none may go through a symlink that leads
 * outside the workspace or into a .git or .rp, nor land in the store.
 * 0, or -1 reported.
 */
static int check_links(struct checkout *c, const char *file, int rebuild)
{
	char *store_real = realpath(c->pr.ws.store->root, NULL);
	int ret = 0;

	for (size_t i = 0; i < c->lock->n && !ret; i++) {
		const struct lock_stage *ls = c->lock->stages[i];
		size_t n = ls->ndeps + ls->nouts;

		for (size_t k = 0; k < n + (rebuild ? ls->nparams : 0) && !ret; k++) {
			const char *path = k < ls->ndeps ? ls->deps[k].path :
					   k < n ? ls->outs[k - ls->ndeps].path : ls->params[k - n].file;
			char *target, *link = wspath_link_outside(c->pr.ws.root, path, 0, 0, &target);

			if (link) {
				ret = rp_error_input("%s: stage '%s': path '%s' goes through the "
						     "symlink '%s', which leads outside the workspace "
						     "(or into '.rp'), to '%s'; nothing was changed: "
						     "remove the link or make it point inside",
						     file, ls->name, path, link, target);
				free(link);
				free(target);
			} else if (store_real && (target = lands_in_store(store_real, path))) {
				ret = rp_error_input("%s: stage '%s': path '%s' leads into the store "
						     "('%s'); rp never writes there, so nothing was changed",
						     file, ls->name, path, target);
				free(target);
			}
		}
	}
	free(store_real);
	return ret;
}

static struct lock *load_target(const char *file, const char *rev)
{
	struct rp_err err = { 0 };
	struct lock *l;

	if (rev) {
		struct buf b = BUF_INIT;
		char *name = xasprintf("%s:%s", rev, file);
		int r = git_show(rev, file, &b, &err);

		if (r == 1)
			rp_error_input("revision '%s' has no '%s'", rev, file);
		else if (r < 0)
			rp_err_report(&err);
		l = r == 0 ? lock_parse(name, b.s, b.len, &err) : NULL;
		if (r == 0 && !l)
			rp_err_report(&err);
		free(name);
		buf_release(&b);
		return l;
	}
	/* the workspace's own lock includes what a killed run left in the journal */
	if (!strcmp(file, WS_LOCK_FILE)) {
		l = lock_load(file, WS_JOURNAL, WS_LOCK_SNAP, &err);
		if (!l) {
			rp_err_report(&err);
		} else if (!l->base[0] && !l->replayed) {
			rp_error_input("no lock file '%s'; run 'rp repro' first", file);
			lock_free(l);
			l = NULL;
		}
		return l;
	}
	if (access(file, F_OK) < 0) {
		rp_error_input("no lock file '%s'", file);
		return NULL;
	}
	l = lock_load(file, NULL, NULL, &err);
	if (!l)
		rp_err_report(&err);
	return l;
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
	struct checkout c;
	const char *file = WS_LOCK_FILE;
	int ch, rebuild = 0, ret = RP_EXIT_OK;
	size_t nmissing = 0, nchanged = 0, nunsaved = 0;
	int force = 0;
	struct store_staged **staged = NULL;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt_long(argc, argv, "fh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'r': c.rev = optarg; break;
		case 'b': rebuild = 1; break;
		case 'f': force = 1; break;
		case 'h': return cmd_usage(checkout_usage, 0);
		default: return cmd_usage(checkout_usage, 1);
		}
	}
	if (argc - optind > 1)
		return cmd_usage(checkout_usage, 1);
	if (optind < argc)
		file = argv[optind];
	if (project_open(&c.pr, rp_opts.pipeline_file, PROJECT_LOCK | PROJECT_NO_PIPELINE) < 0)
		return rp_error_exit_code();
	c.lock = load_target(file, c.rev);
	if (!c.lock) {
		ret = rp_error_exit_code();
		goto out;
	}
	{
		struct rp_err err = { 0 };

		if (rebuild_init(&c.rb, c.pr.ws.store, c.lock, c.rev, stdout, &err) < 0) {
			rp_err_report(&err);
			ret = RP_EXIT_USAGE;
			goto out;
		}
		c.rb.started = say_rebuilding;
	}
	/* a lock may only make rp write what the pipeline names: check it all first */
	{
		struct rp_err err = { 0 };
		char *name = c.rev ? xasprintf("%s:%s", c.rev, file) : xstrdup(file);
		int r;

		if (!c.pr.p)
			r = rp_error_input("%s: no pipeline file '%s' here; rp checks out only the "
					   "paths a pipeline names, so nothing was changed", name,
					   c.pr.ws.pipeline_file);
		else if ((r = lock_check_paths(c.lock, name, c.pr.p, c.pr.ws.cfg.cache_dir, &err)) < 0)
			rp_err_report(&err);
		else
			r = check_links(&c, name, rebuild);
		free(name);
		if (r < 0) {
			ret = RP_EXIT_USAGE;
			goto out;
		}
	}
	for (size_t i = 0; i < c.lock->n; i++) {
		const struct lock_stage *ls = c.lock->stages[i];

		for (size_t k = 0; k < ls->nouts; k++)
			if (ls->outs[k].cache)
				add_item(&c, ls->outs[k].path, &ls->outs[k].oi, ls->name, 1);
	}
	for (size_t i = 0; i < c.lock->n; i++) {
		const struct lock_stage *ls = c.lock->stages[i];

		for (size_t k = 0; k < ls->ndeps; k++)
			if (rebuild_producer(&c.rb, ls->deps[k].path, 1, NULL) < 0)
				add_item(&c, ls->deps[k].path, &ls->deps[k].oi, ls->name, 0);
	}
	/* look everything up before touching anything */
	for (size_t i = 0; i < c.n; i++) {
		struct item *it = &c.items[i];
		struct objinfo now;
		struct rp_err err = { 0 };
		char h[13];

		if (store_hash_path(c.pr.ws.store, it->path, &now, &err) == 0) {
			if (!strcmp(now.hash, it->oi->hash))
				continue;
			/* bytes that are in no store would be lost for good */
			if (!force && !store_has(c.pr.ws.store, &now)) {
				if (!nunsaved++)
					rp_error("these paths hold changes that are in no store; checking "
						 "out would lose them:");
				fprintf(stderr, "  %s\n", it->path);
			}
		} else if (err.kind == RP_ERR_INPUT) {
			/* it holds what rp never stores (a nested .git): replacing would lose it */
			rp_err_report(&err);
			fprintf(stderr, "Nothing in the workspace was changed.\n");
			ret = RP_EXIT_USAGE;
			goto out;
		}
		it->needed = 1;
		switch (store_has_err(c.pr.ws.store, it->oi, &err)) {
		case 1:
			continue;
		case -1:
			rp_err_report(&err);
			fprintf(stderr, "Nothing in the workspace was changed.\n");
			ret = RP_EXIT_FAIL;
			goto out;
		}
		short_hash(it->oi->hash, h);
		if (!it->is_out) {
			rp_warn("source '%s' (%s) of stage '%s' is not in the store; leaving the "
				"workspace copy as it is", it->path, h, it->stage);
			it->needed = 0;
			continue;
		}
		it->missing = 1;
		nmissing++;
	}
	if (nunsaved) {
		fprintf(stderr, "Nothing was changed. Run 'rp repro' to save them, or 'rp checkout --force' "
			"to overwrite them.\n");
		ret = RP_EXIT_FAIL;
		goto out;
	}
	if (nmissing && !rebuild) {
		rp_error("these objects are in no store, so nothing was changed:");
		for (size_t i = 0; i < c.n; i++)
			if (c.items[i].missing)
				fprintf(stderr, "  %s (%.12s), made by stage '%s'\n", c.items[i].path,
					c.items[i].oi->hash, c.items[i].stage);
		fprintf(stderr, "Run 'rp checkout --rebuild' to re-run those stages, or 'rp repro'.\n");
		ret = RP_EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		struct rp_err err = { 0 };
		long p;

		if (!c.items[i].missing)
			continue;
		p = rebuild_producer(&c.rb, c.items[i].path, 1, NULL);
		if (p < 0 || rebuild_stage(&c.rb, (size_t)p, &err) < 0) {
			if (err.kind)
				rp_err_report(&err);
			ret = RP_EXIT_FAIL;
			goto out;
		}
	}
	/* build and verify every path beside its place first, then rename them all */
	staged = xcalloc(c.n + 1, sizeof(*staged));
	for (size_t i = 0; i < c.n; i++) {
		struct rp_err err = { 0 };

		if (!c.items[i].needed)
			continue;
		staged[i] = store_checkout_prepare(c.pr.ws.store, c.items[i].oi, c.items[i].path, &err);
		if (!staged[i]) {
			rp_err_report(&err);
			fprintf(stderr, "Nothing in the workspace was changed.\n");
			ret = RP_EXIT_FAIL;
			goto out;
		}
	}
	for (size_t i = 0; i < c.n; i++) {
		struct rp_err err = { 0 };
		struct store_staged *s = staged[i];

		if (!s)
			continue;
		staged[i] = NULL;
		if (store_checkout_commit(c.pr.ws.store, s, &err) < 0) {
			rp_err_report(&err);
			ret = RP_EXIT_FAIL;
			goto out;
		}
		nchanged++;
		if (rp_opts.verbose)
			printf("restored %s\n", c.items[i].path);
	}
	{
		struct rp_err serr = { 0 };

		if (nchanged && store_sync(c.pr.ws.store, &serr) < 0) {
			rp_err_report(&serr);
			ret = RP_EXIT_FAIL;
			goto out;
		}
	}
	if (!rp_opts.quiet)
		printf("%zu paths restored, %zu already matched\n", nchanged, c.n - nchanged);
out:
	for (size_t i = 0; staged && i < c.n; i++)
		store_checkout_abort(staged[i]);
	free(staged);
	if (c.rb.lock)
		rebuild_release(&c.rb);
	free(c.items);
	lock_free(c.lock);
	project_close(&c.pr);
	return ret;
}
