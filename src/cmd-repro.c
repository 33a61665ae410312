/*
 * cmd-repro.c - `rp repro`: run the stages whose inputs changed.
 *
 * Stages are scheduled in dependency order; a stage becomes ready when every
 * selected upstream stage has finished. A ready stage is evaluated (its deps
 * hashed, its key computed) and then, in this order of preference:
 *   up to date      key equals the lock's and its outs are what the lock says;
 *   restored        key equals the lock's, outs differ, and the lock's outs
 *                   are in the store: they are checked out;
 *   run-cache       another run produced this key before: its outs are
 *                   checked out from the store;
 *   run             its commands run (up to -j at once), then its outs are
 *                   hashed, saved into the store, the run-cache entry and the
 *                   lock journal are written.
 * rp.lock is rewritten at the end and at most once a second during the run;
 * a kill loses nothing that finished (see lock.h).
 */
#include "cmd.h"
#include "util/error.h"
#include "util/exec.h"
#include "core/freshness.h"
#include "util/fs.h"
#include "util/hash.h"
#include "core/key.h"
#include "core/project.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char repro_usage[] =
	"usage: rp repro [TARGET...] [-j N] [-n|--dry-run] [-f|--force] [-k|--keep-going]\n"
	"                [--downstream] [-s|--single-item] [--rehash]\n"
	"\n"
	"Runs the stages whose commands, deps, params or outs changed, and everything\n"
	"downstream of them, in dependency order. TARGET is a stage name or a\n"
	"foreach/matrix group; without one, every stage is considered.\n"
	"\n"
	"  -j, --jobs N       run up to N stages at once (default: number of cores)\n"
	"  -n, --dry-run      print what would run, run nothing\n"
	"  -f, --force        run the selected stages even if they are up to date\n"
	"  -k, --keep-going   after a failure, go on with stages that do not depend on it\n"
	"      --downstream   the targets and every stage that depends on them\n"
	"  -s, --single-item  only the targets, not their upstream stages\n"
	"      --rehash       re-read every file instead of trusting .rp/state.db\n";

enum stage_state { ST_WAIT, ST_READY, ST_RUNNING, ST_DONE, ST_FAILED, ST_BLOCKED };

struct repro {
	struct project pr;
	struct exec ex;
	unsigned char *sel;
	enum stage_state *state;
	size_t *nwait;              /* selected upstream stages not finished yet */
	size_t *ready;              /* min-heap of topological positions */
	size_t nready;
	size_t *pos;                /* stage index -> topological position */
	struct eval *evals;         /* for running stages */
	unsigned char *would_run;   /* --dry-run: the stage would run */
	int jobs, dry_run, force, keep_going;
	int stop;
	size_t n_ran, n_restored, n_cached, n_uptodate, n_failed, n_blocked;
	struct timespec last_lock_write;
	int lock_dirty;
	int journal_started;        /* the journal's header names the current rp.lock */
	int io_error;
};

static volatile sig_atomic_t interrupted;
static struct exec *signal_exec;

static void on_signal(int sig)
{
	interrupted = sig;
	if (signal_exec)
		exec_signal(signal_exec, sig);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the ready queue: a min-heap on topological position --------------- */

static void ready_push(struct repro *r, size_t stage)
{
	size_t i = r->nready++;

	r->ready[i] = stage;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (r->pos[r->ready[parent]] <= r->pos[r->ready[i]])
			break;
		size_t t = r->ready[parent];
		r->ready[parent] = r->ready[i];
		r->ready[i] = t;
		i = parent;
	}
	r->state[stage] = ST_READY;
}

static size_t ready_pop(struct repro *r)
{
	size_t top = r->ready[0], i = 0;

	r->ready[0] = r->ready[--r->nready];
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < r->nready && r->pos[r->ready[l]] < r->pos[r->ready[m]])
			m = l;
		if (l + 1 < r->nready && r->pos[r->ready[l + 1]] < r->pos[r->ready[m]])
			m = l + 1;
		if (m == i)
			break;
		size_t t = r->ready[m];
		r->ready[m] = r->ready[i];
		r->ready[i] = t;
		i = m;
	}
	return top;
}

/* ---- the lock ------------------------------------------------------------ */

static int write_lock(struct repro *r)
{
	struct rp_err err = { 0 };

	/* the objects the lock names reach the disk before the lock does */
	if (store_sync_written(r->pr.ws.store, &err) < 0)
		return rp_err_report(&err);
	if (lock_write(r->pr.lock, WS_LOCK_FILE, WS_LOCK_SNAP) < 0)
		return -1;
	if (lock_journal_start(r->pr.lock, WS_JOURNAL) < 0)
		return -1;
	r->journal_started = 1;
	r->lock_dirty = 0;
	clock_gettime(CLOCK_MONOTONIC, &r->last_lock_write);
	return 0;
}

/* Records a finished stage: journal now, the lock itself at most once a second. */
static int record_stage(struct repro *r, struct lock_stage *ls)
{
	struct timespec now;
	int ret;

	if (!r->journal_started) {
		if (lock_journal_start(r->pr.lock, WS_JOURNAL) < 0)
			return -1;
		r->journal_started = 1;
		clock_gettime(CLOCK_MONOTONIC, &r->last_lock_write);
	}
	ret = lock_journal_append(WS_JOURNAL, ls);
	lock_set(r->pr.lock, ls);
	r->lock_dirty = 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - r->last_lock_write.tv_sec >= 1 && write_lock(r) < 0)
		ret = -1;
	return ret;
}

/* A lock entry for stage `st` as evaluated in `ev`, without outs. Caller owns. */
static struct lock_stage *entry_for(const struct stage *st, const struct eval *ev)
{
	struct lock_stage *ls = lock_stage_new(st->name);
	struct buf val = BUF_INIT;
	size_t i;

	memcpy(ls->key, ev->key, HASH_HEX);
	for (i = 0; i < st->ncmds; i++) {
		ls->cmds = xrealloc(ls->cmds, (ls->ncmds + 1) * sizeof(*ls->cmds));
		ls->cmds[ls->ncmds++] = xstrdup(st->cmds[i]);
	}
	free(ls->wdir);
	ls->wdir = xstrdup(st->wdir ? st->wdir : ".");
	for (i = 0; i < st->ndeps; i++)
		lock_stage_add_dep(ls, st->deps[i].path, &ev->deps[i]);
	for (i = 0; i < st->nparams; i++) {
		buf_reset(&val);
		node_canonical(st->params[i].value, &val);
		lock_stage_add_param(ls, st->params[i].file, st->params[i].key, val.s);
	}
	buf_release(&val);
	return ls;
}

/* ---- the stages ---------------------------------------------------------- */

static void finish(struct repro *r, size_t i, int ok);

static void say_reasons(const char *verb, const char *how, const struct stage *st,
			const struct verdict *v)
{
	if (rp_opts.quiet)
		return;
	printf("%s stage '%s'%s", verb, st->name, how);
	for (size_t k = 0; k < v->n; k++) {
		char *t = reason_text(&v->r[k]);

		printf("%s%s", k ? "; " : ": ", t);
		free(t);
	}
	putchar('\n');
}

/* Saves deps that no stage produces into the store (source data). */
static int save_sources(struct repro *r, const struct stage *st, const struct eval *ev)
{
	struct store *s = r->pr.ws.store;

	if (!r->pr.ws.cfg.save_sources)
		return 0;
	for (size_t i = 0; i < st->ndeps; i++) {
		struct rp_err err = { 0 };

		if (!st->deps[i].cache || dag_producer(r->pr.dag, st->deps[i].path) >= 0)
			continue;
		if (store_has(s, &ev->deps[i]))
			continue;
		if (store_save(s, st->deps[i].path, &ev->deps[i], 0, &err) < 0)
			return rp_err_report(&err);
	}
	return 0;
}

/* Checks out the lock entry's outs that differ from the workspace. 1 done, 0 not possible, -1 error. */
static int restore_outs(struct repro *r, const struct stage *st, const struct eval *ev,
			const struct lock_stage *ls)
{
	struct store *s = r->pr.ws.store;
	size_t i;

	if (ls->nouts != st->nouts)
		return 0;
	for (i = 0; i < ls->nouts; i++) {
		if (strcmp(ls->outs[i].path, st->outs[i].path))
			return 0;
		if (ev->out_ok[i] && !strcmp(ev->outs[i].hash, ls->outs[i].oi.hash))
			continue;
		if (!ls->outs[i].cache || !store_has(s, &ls->outs[i].oi))
			return 0;
	}
	for (i = 0; i < ls->nouts; i++) {
		struct rp_err err = { 0 };

		if (ev->out_ok[i] && !strcmp(ev->outs[i].hash, ls->outs[i].oi.hash))
			continue;
		if (store_checkout(s, &ls->outs[i].oi, ls->outs[i].path, &err) < 0) {
			rp_err_report(&err);
			return -1;
		}
	}
	return 1;
}

/*
 * nftw callback: replaces a file that is shared with the store (a symlink or
 * a hardlink, made read-only) by a private writable copy.
 */
static int unprotect_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	struct stat st;

	(void)ftw;
	if (type != FTW_F && type != FTW_SL)
		return 0;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (type == FTW_SL || sb->st_nlink > 1 || !(st.st_mode & S_IWUSR))
		return fs_clone_file(path, path, (st.st_mode & 0777) | S_IWUSR, 0) < 0 ? -1 : 0;
	return 0;
}

/* Prepares outs for a run: removes them unless persist, creates their parents. */
static int prepare_outs(const struct stage *st)
{
	for (size_t i = 0; i < st->nouts; i++) {
		if (!st->outs[i].persist && fs_remove_tree(st->outs[i].path) < 0)
			return -1;
		/* a persisted out is edited in place: it must not be the store's copy */
		if (st->outs[i].persist && fs_exists(st->outs[i].path) &&
		    nftw(st->outs[i].path, unprotect_one, 16, FTW_PHYS) != 0)
			return rp_error("cannot make a writable copy of output '%s'", st->outs[i].path);
		if (fs_mkdir_parent(st->outs[i].path) < 0)
			return -1;
	}
	return 0;
}

/* After a successful run: hash and store outs, write run-cache and lock. */
static int commit_run(struct repro *r, size_t i)
{
	const struct stage *st = &r->pr.p->stages[i];
	struct eval *ev = &r->evals[i];
	struct store *s = r->pr.ws.store;
	struct lock_stage *ls = entry_for(st, ev);
	int all_cached = 1;

	for (size_t k = 0; k < st->nouts; k++) {
		struct rp_err err = { 0 };
		struct objinfo oi;

		if (store_hash_path(s, st->outs[k].path, &oi, &err) < 0) {
			if (err.kind == RP_ERR_INPUT)   /* it is there, but holds what rp never stores */
				rp_error("stage '%s': %s", st->name, err.msg);
			else
				rp_error("stage '%s' did not create its output '%s'; check that its "
					 "command writes to that path", st->name, st->outs[k].path);
			lock_stage_free(ls);
			return -1;
		}
		if (st->outs[k].cache) {
			if (store_save(s, st->outs[k].path, &oi, 1, &err) < 0) {
				rp_err_report(&err);
				lock_stage_free(ls);
				return -1;
			}
		} else {
			all_cached = 0;
		}
		lock_stage_add_out(ls, st->outs[k].path, &oi, st->outs[k].cache);
	}
	/* a stage without outs has nothing to restore: no run-cache entry */
	if (all_cached && st->nouts && !st->always_changed) {
		struct rp_err err = { 0 };
		char *text = lock_outs_to_json(ls);

		if (store_run_put(s, ls->key, text, &err) < 0)
			rp_err_report(&err);
		free(text);
	}
	return record_stage(r, ls);
}

/* Tries the run-cache for `st`. 1 restored, 0 no entry, -1 error. */
static int from_run_cache(struct repro *r, const struct stage *st, struct eval *ev)
{
	struct store *s = r->pr.ws.store;
	char *text = store_run_get(s, ev->key);
	struct lock_stage *ls;
	int ret;

	if (!text)
		return 0;
	ls = entry_for(st, ev);
	if (lock_outs_from_json(ls, text) < 0) {
		free(text);
		lock_stage_free(ls);
		return 0;
	}
	free(text);
	ret = restore_outs(r, st, ev, ls);
	if (ret <= 0) {
		lock_stage_free(ls);
		return ret;
	}
	return record_stage(r, ls) < 0 ? -1 : 1;
}

/* Evaluates ready stage i and either finishes it or starts its commands. */
static void start(struct repro *r, size_t i)
{
	const struct stage *st = &r->pr.p->stages[i];
	struct eval *ev = &r->evals[i];
	const struct lock_stage *ls = lock_find(r->pr.lock, st->name);
	struct verdict v = { 0 };
	int rc;

	if (st->frozen && ls) {
		if (rp_opts.verbose)
			printf("Stage '%s' is frozen, skipping\n", st->name);
		r->n_uptodate++;
		finish(r, i, 1);
		return;
	}
	if (r->dry_run) {
		const struct dag *d = r->pr.dag;

		for (size_t k = 0; k < d->nup[i]; k++)
			if (r->would_run[d->up[i][k]])
				verdict_add(&v, R_UPSTREAM, r->pr.p->stages[d->up[i][k]].name, NULL, NULL);
		if (v.n) {
			/* its deps will change: nothing to compare yet */
			say_reasons("Would run", "", st, &v);
			r->would_run[i] = 1;
			r->n_ran++;
			verdict_release(&v);
			finish(r, i, 1);
			return;
		}
	}
	eval_deps(r->pr.ws.store, st, ev);
	if (ev->nmissing) {
		/* the first failure says what is wrong; the others are likely the same */
		rp_error("stage '%s': %s%s", st->name, ev->errmsg,
			 ev->nmissing > 1 ? " (and more of its dependencies)" : "");
		r->n_failed++;
		finish(r, i, 0);
		return;
	}
	eval_compare(r->pr.ws.store, st, ev, ls, &v);
	if (!r->force && !st->always_changed && v.key_matches) {
		if (!v.outs_differ) {
			if (rp_opts.verbose)
				printf("Stage '%s' is up to date\n", st->name);
			r->n_uptodate++;
			verdict_release(&v);
			finish(r, i, 1);
			return;
		}
		if (!r->dry_run && (rc = restore_outs(r, st, ev, ls)) != 0) {
			if (rc > 0) {
				say_reasons("Restored", " from the store", st, &v);
				r->n_restored++;
			} else {
				r->n_failed++;
			}
			verdict_release(&v);
			finish(r, i, rc > 0);
			return;
		}
	}
	if (r->dry_run) {
		say_reasons("Would run", "", st, &v);
		r->would_run[i] = 1;
		r->n_ran++;
		verdict_release(&v);
		finish(r, i, 1);
		return;
	}
	if (save_sources(r, st, ev) < 0) {
		verdict_release(&v);
		r->n_failed++;
		finish(r, i, 0);
		return;
	}
	if (!r->force && !st->always_changed && st->nouts) {
		rc = from_run_cache(r, st, ev);
		if (rc != 0) {
			if (rc > 0) {
				if (!rp_opts.quiet)
					printf("Restored stage '%s' from the run-cache\n", st->name);
				r->n_cached++;
			} else {
				r->n_failed++;
			}
			verdict_release(&v);
			finish(r, i, rc > 0);
			return;
		}
	}
	say_reasons("Running", "", st, &v);
	verdict_release(&v);
	store_memo_clear(r->pr.ws.store);
	if (prepare_outs(st) < 0 ||
	    exec_start(&r->ex, (long)i, st->name, st->cmds, st->ncmds, st->wdir) < 0) {
		r->n_failed++;
		finish(r, i, 0);
		return;
	}
	r->state[i] = ST_RUNNING;
}

/* Marks every selected stage downstream of i as blocked. */
static void block_downstream(struct repro *r, size_t i)
{
	const struct dag *d = r->pr.dag;

	for (size_t k = 0; k < d->ndown[i]; k++) {
		size_t j = d->down[i][k];

		if (!r->sel[j] || r->state[j] == ST_BLOCKED)
			continue;
		r->state[j] = ST_BLOCKED;
		r->n_blocked++;
		block_downstream(r, j);
	}
}

static void finish(struct repro *r, size_t i, int ok)
{
	const struct dag *d = r->pr.dag;

	eval_release(&r->evals[i]);
	if (!ok) {
		r->state[i] = ST_FAILED;
		block_downstream(r, i);
		if (!r->keep_going)
			r->stop = 1;
		return;
	}
	r->state[i] = ST_DONE;
	for (size_t k = 0; k < d->ndown[i]; k++) {
		size_t j = d->down[i][k];

		if (!r->sel[j] || r->state[j] != ST_WAIT)
			continue;
		if (--r->nwait[j] == 0)
			ready_push(r, j);
	}
}

static int run(struct repro *r)
{
	const struct dag *d = r->pr.dag;
	size_t n = d->n;

	for (size_t k = 0; k < n; k++) {
		size_t i = d->order[k];

		r->pos[i] = k;
	}
	for (size_t i = 0; i < n; i++) {
		if (!r->sel[i])
			continue;
		for (size_t k = 0; k < d->nup[i]; k++)
			if (r->sel[d->up[i][k]])
				r->nwait[i]++;
	}
	for (size_t k = 0; k < n; k++) {
		size_t i = d->order[k];

		if (r->sel[i] && !r->nwait[i])
			ready_push(r, i);
	}
	for (;;) {
		long id;
		int code;

		while (!r->stop && !interrupted && r->nready && exec_running(&r->ex) < (size_t)r->jobs)
			start(r, ready_pop(r));
		if (!exec_running(&r->ex))
			break;
		if (exec_wait(&r->ex, &id, &code) < 0)
			break;
		store_memo_clear(r->pr.ws.store);
		const struct stage *st = &r->pr.p->stages[id];
		if (code == 0 && !interrupted) {
			if (commit_run(r, (size_t)id) < 0) {
				r->n_failed++;
				finish(r, (size_t)id, 0);
			} else {
				r->n_ran++;
				finish(r, (size_t)id, 1);
			}
		} else {
			if (interrupted)
				rp_error("stage '%s' was interrupted", st->name);
			else
				rp_error("stage '%s' failed: its command exited with status %d", st->name, code);
			r->n_failed++;
			finish(r, (size_t)id, 0);
		}
	}
	return 0;
}

int cmd_repro(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "force", no_argument, NULL, 'F' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "downstream", no_argument, NULL, 'D' },
		{ "single-item", no_argument, NULL, 's' },
		{ "rehash", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct repro r;
	unsigned selflags = 0;
	int c, rehash = 0, ret = RP_EXIT_OK;
	double t0 = now_s();
	struct rp_err err = { 0 };
	struct sigaction sa, old_int, old_term;

	memset(&r, 0, sizeof(r));
	r.jobs = 0;
	while ((c = getopt_long(argc, argv, "j:nkshf", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': {
			char *end;
			long j = strtol(optarg, &end, 10);

			if (*end || j < 1 || j > 1024) {
				rp_error_input("-j takes a number of jobs from 1 to 1024, not '%s'", optarg);
				return RP_EXIT_USAGE;
			}
			r.jobs = (int)j;
			break;
		}
		case 'n': r.dry_run = 1; break;
		case 'F': case 'f': r.force = 1; break;
		case 'k': r.keep_going = 1; break;
		case 'D': selflags |= DAG_SELECT_DOWNSTREAM; break;
		case 's': selflags |= DAG_SELECT_SINGLE; break;
		case 'R': rehash = 1; break;
		case 'h': return cmd_usage(repro_usage, 0);
		default: return cmd_usage(repro_usage, 1);
		}
	}
	if (project_open(&r.pr, rp_opts.pipeline_file, PROJECT_LOCK) < 0)
		return rp_error_exit_code();
	if (rehash)
		state_clear(r.pr.ws.state);
	store_memo_enable(r.pr.ws.store);   /* cleared whenever a stage starts or ends */
	if (!r.jobs)
		r.jobs = r.pr.ws.cfg.jobs ? r.pr.ws.cfg.jobs : hash_ncores();
	size_t n = r.pr.p->nstages;
	r.sel = xcalloc(n + 1, 1);
	r.state = xcalloc(n + 1, sizeof(*r.state));
	r.nwait = xcalloc(n + 1, sizeof(*r.nwait));
	r.ready = xcalloc(n + 1, sizeof(*r.ready));
	r.pos = xcalloc(n + 1, sizeof(*r.pos));
	r.evals = xcalloc(n + 1, sizeof(*r.evals));
	r.would_run = xcalloc(n + 1, 1);
	if (dag_select(r.pr.dag, (const char **)argv + optind, (size_t)(argc - optind),
		       selflags, r.sel, &err) < 0 ||
	    dag_check_sources(r.pr.dag, store_memo_stat, r.pr.ws.store, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_USAGE;
		goto out;
	}
	/* fold what a killed run left in the journal into rp.lock first */
	if (!r.dry_run && r.pr.lock->replayed && write_lock(&r) < 0) {
		ret = RP_EXIT_FAIL;
		goto out;
	}
	exec_init(&r.ex, stdout);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	signal_exec = &r.ex;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	run(&r);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	signal_exec = NULL;
	exec_release(&r.ex);
	if (!r.dry_run) {
		/* stages no longer in the pipeline leave the lock on a full run */
		if (optind == argc && !r.n_failed && !interrupted) {
			for (size_t k = r.pr.lock->n; k-- > 0;)
				if (!pipeline_find(r.pr.p, r.pr.lock->stages[k]->name)) {
					lock_remove(r.pr.lock, r.pr.lock->stages[k]->name);
					r.lock_dirty = 1;
				}
		}
		/* rp.lock now holds everything the journal had */
		if (r.lock_dirty || !r.pr.lock->base[0]) {
			struct rp_err serr = { 0 };
			int ok = 0;

			if (store_sync_written(r.pr.ws.store, &serr) < 0)
				rp_err_report(&serr);
			else if (lock_write(r.pr.lock, WS_LOCK_FILE, WS_LOCK_SNAP) == 0)
				ok = 1;
			if (!ok) {
				ret = RP_EXIT_FAIL;
			} else {
				/* rp.lock now holds all the journal had */
				if (r.journal_started && unlink(WS_JOURNAL) < 0 && errno != ENOENT)
					rp_error_errno("cannot remove '%s'", WS_JOURNAL);
			}
		}
	}
	if (r.n_failed || r.n_blocked || interrupted)
		ret = RP_EXIT_FAIL;
	printf("%s%zu ran, %zu restored, %zu from run-cache, %zu up to date, %zu failed",
	       r.dry_run ? "dry run: " : "", r.n_ran, r.n_restored, r.n_cached, r.n_uptodate,
	       r.n_failed);
	if (r.n_blocked)
		printf(", %zu not run (upstream failed)", r.n_blocked);
	printf(" (%.2fs)\n", now_s() - t0);
out:
	free(r.sel);
	free(r.state);
	free(r.nwait);
	free(r.ready);
	free(r.pos);
	for (size_t k = 0; k < n; k++)
		eval_release(&r.evals[k]);
	free(r.evals);
	free(r.would_run);
	project_close_for_exit(&r.pr);
	return ret;
}
