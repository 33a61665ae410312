/*
 * runner.c - the scheduler and the run/commit/restore steps of `rp repro`
 * (see runner.h for the design).
 *
 * The scheduler keeps, per stage, a state and the number of selected
 * upstream stages not finished yet; ready stages wait in a min-heap on their
 * topological position, so that with -j 1 the order is the graph's. A
 * finished stage releases its downstream stages; a failed one blocks them.
 */
#include "core/runner.h"

#include "core/plan.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/hash.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum stage_state { ST_WAIT, ST_READY, ST_RUNNING, ST_DONE, ST_FAILED, ST_BLOCKED };

struct runner {
	struct project *pr;
	const struct runner_opts *o;
	struct runner_counts *c;
	struct exec ex;
	const unsigned char *sel;
	enum stage_state *state;
	size_t *nwait;              /* selected upstream stages not finished yet */
	size_t *ready;              /* min-heap of topological positions */
	size_t nready;
	size_t *pos;                /* stage index -> topological position */
	struct eval *evals;         /* for running stages */
	unsigned char *would_run;   /* dry run: the stage would run */
	int stop;
	struct timespec last_lock_write;
	int lock_dirty;
	int journal_started;        /* the journal's header names the current rp.lock */
};

static volatile sig_atomic_t interrupted;
static struct exec *signal_exec;

static void on_signal(int sig)
{
	interrupted = sig;
	if (signal_exec)
		exec_signal(signal_exec, sig);
}

static void event(struct runner *r, enum runner_event e, const struct stage *st,
		  const struct verdict *v, const struct rp_err *err)
{
	if (r->o->event)
		r->o->event(r->o->ctx, e, st, v, err);
}

/* ---- the ready queue: a min-heap on topological position --------------- */

static void heap_swap(size_t *a, size_t *b)
{
	size_t t = *a;

	*a = *b;
	*b = t;
}

static void ready_push(struct runner *r, size_t stage)
{
	size_t i = r->nready++;

	r->ready[i] = stage;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (r->pos[r->ready[parent]] <= r->pos[r->ready[i]])
			break;
		heap_swap(&r->ready[parent], &r->ready[i]);
		i = parent;
	}
	r->state[stage] = ST_READY;
}

static size_t ready_pop(struct runner *r)
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
		heap_swap(&r->ready[m], &r->ready[i]);
		i = m;
	}
	return top;
}

/* ---- the lock ------------------------------------------------------------ */

/* Writes rp.lock (after syncing the objects it names) and restarts the journal. */
static int write_lock(struct runner *r, struct rp_err *err)
{
	/* the objects the lock names reach the disk before the lock does */
	if (store_sync_written(r->pr->ws.store, err) < 0)
		return -1;
	if (lock_write(r->pr->lock, WS_LOCK_FILE, WS_LOCK_SNAP, err) < 0)
		return -1;
	if (lock_journal_start(r->pr->lock, WS_JOURNAL, err) < 0)
		return -1;
	r->journal_started = 1;
	r->lock_dirty = 0;
	clock_gettime(CLOCK_MONOTONIC, &r->last_lock_write);
	return 0;
}

/* Records a finished stage (takes `ls`): journal now, the lock at most once a second. */
static int record_stage(struct runner *r, struct lock_stage *ls, struct rp_err *err)
{
	struct timespec now;
	int ret;

	if (!r->journal_started) {
		if (lock_journal_start(r->pr->lock, WS_JOURNAL, err) < 0) {
			lock_stage_free(ls);
			return -1;
		}
		r->journal_started = 1;
		clock_gettime(CLOCK_MONOTONIC, &r->last_lock_write);
	}
	ret = lock_journal_append(WS_JOURNAL, ls, err);
	lock_set(r->pr->lock, ls);
	r->lock_dirty = 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec - r->last_lock_write.tv_sec >= 1 && write_lock(r, err) < 0)
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

/* Ends a run: drops stages gone from the pipeline, writes rp.lock, removes the journal. */
static int finish_lock(struct runner *r)
{
	struct lock *l = r->pr->lock;
	struct rp_err err = { 0 };

	/* stages no longer in the pipeline leave the lock on a full run */
	if (r->o->all_stages && !r->c->failed && !interrupted) {
		for (size_t k = l->n; k-- > 0;)
			if (!pipeline_find(r->pr->p, l->stages[k]->name)) {
				lock_remove(l, l->stages[k]->name);
				r->lock_dirty = 1;
			}
	}
	if (!r->lock_dirty && l->base[0])
		return 0;
	if (store_sync_written(r->pr->ws.store, &err) < 0 ||
	    lock_write(l, WS_LOCK_FILE, WS_LOCK_SNAP, &err) < 0) {
		if (err.kind)
			event(r, RUNNER_ERROR, NULL, NULL, &err);
		return 1;
	}
	/* rp.lock now holds all the journal had */
	if (r->journal_started && unlink(WS_JOURNAL) < 0 && errno != ENOENT) {
		rp_err_set(&err, RP_ERR_IO, "cannot remove '%s': %s", WS_JOURNAL, strerror(errno));
		event(r, RUNNER_ERROR, NULL, NULL, &err);
	}
	return 0;
}

/* ---- .gitignore of the outputs ------------------------------------------- */

/*
 * As DVC does, each cached output (metrics aside: 'rp metrics diff' reads their
 * old values from git) is kept out of git by a line "/PATH" (*, ?,
 * [ and \ escaped) in a .gitignore: here the one at the workspace root, so
 * that no .gitignore lands inside a directory a stage depends on. An output
 * that a line already covers is left as it is: the root's "/build/" or
 * "build" covers build/x.txt, and so does the "/x.txt" DVC writes in
 * build/.gitignore. Lines are only ever added, never twice, and nothing the
 * user wrote is touched; the file is rewritten (atomically) only when a line
 * is added. Only in a git work tree (a .git at or above the workspace root),
 * unless core.gitignore is false; a .gitignore that is not a regular file (a
 * symlink, say) is left alone.
 */

/* 1 if the current directory (the workspace root) lies in a git work tree. */
static int in_git_work_tree(void)
{
	char *dir = getcwd(NULL, 0);
	int found = 0;

	while (dir && !found) {
		char *git = xasprintf("%s/.git", dir);
		char *slash;

		found = access(git, F_OK) == 0;
		free(git);
		slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = '\0';
	}
	if (!found && dir && access("/.git", F_OK) == 0)
		found = 1;
	free(dir);
	return found;
}

/* `path` with gitignore's special characters escaped; newly allocated. */
static char *ignore_escape(const char *path)
{
	struct buf b = BUF_INIT;

	for (; *path; path++) {
		if (strchr("*?[\\", *path))
			buf_adds(&b, "\\");
		buf_addf(&b, "%c", *path);
	}
	return buf_detach(&b);
}

/*
 * 1 if a line of `text` ignores `esc` (an escaped workspace-relative path)
 * or a directory above it: "/a/b" anchored, or a bare name "b" anywhere
 * (a final '/' and blanks aside; globs are not read).
 */
static int ignored_by(const char *text, const char *esc)
{
	for (const char *p = text; *p;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *l = p;

		while (len && (l[len - 1] == '\r' || l[len - 1] == ' ' || l[len - 1] == '\t'))
			len--;
		if (len && l[len - 1] == '/')
			len--;
		if (len && *l != '#' && *l != '!') {
			int anchored = *l == '/' || memchr(l, '/', len);

			if (*l == '/') {
				l++;
				len--;
			}
			for (const char *c = esc; len && *c; c = strchr(c, '/') ? strchr(c, '/') + 1 : "") {
				/* l matches the component(s) starting at c, up to a '/' or the end */
				if ((!anchored || c == esc) && !strncmp(c, l, len) &&
				    (c[len] == '/' || !c[len]))
					return 1;
				if (anchored)
					break;
			}
		}
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

/* 1 if the .gitignore of the directory of `path` (escaped: `esc`) ignores its name. */
static int ignored_beside(const char *esc, const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *eslash = strrchr(esc, '/');
	struct buf text = BUF_INIT;
	char *file;
	int r;

	if (!slash || !eslash)
		return 0;
	file = xasprintf("%.*s/.gitignore", (int)(slash - path), path);
	r = buf_read_file(&text, file) == 0 && ignored_by(text.s, eslash + 1);
	buf_release(&text);
	free(file);
	return r;
}

/* After a run: ignores the cached outputs of the stages that ended well. */
static void ignore_outputs(struct runner *r)
{
	const char *on = config_get(&r->pr->ws.cfg, "core", "gitignore");
	const struct pipeline *p = r->pr->p;
	struct buf text = BUF_INIT;
	struct rp_err err = { 0 };
	struct stat sb;
	size_t len0;

	if ((on && strcmp(on, "true")) || !in_git_work_tree())
		return;
	if (lstat(".gitignore", &sb) == 0 && !S_ISREG(sb.st_mode))
		return;
	if (buf_read_file(&text, ".gitignore") < 0 && errno != ENOENT) {
		rp_err_set(&err, RP_ERR_IO, "cannot read '.gitignore': %s", strerror(errno));
		event(r, RUNNER_ERROR, NULL, NULL, &err);
		buf_release(&text);
		return;
	}
	len0 = text.len;
	for (size_t i = 0; i < p->nstages; i++) {
		if (!r->sel[i] || r->state[i] != ST_DONE)
			continue;
		for (size_t k = 0; k < p->stages[i].nouts; k++) {
			const char *path = p->stages[i].outs[k].path;
			char *esc;

			/* metrics stay in git: rp metrics diff reads old values from it */
			if (!p->stages[i].outs[k].cache || p->stages[i].outs[k].metric)
				continue;
			esc = ignore_escape(path);
			if (!ignored_by(text.s, esc) && !ignored_beside(esc, path)) {
				if (text.len && text.s[text.len - 1] != '\n')
					buf_adds(&text, "\n");
				buf_addf(&text, "/%s\n", esc);
			}
			free(esc);
		}
	}
	if (text.len != len0 && fs_write_atomic(".gitignore", text.s, text.len, &err) < 0)
		event(r, RUNNER_ERROR, NULL, NULL, &err);
	buf_release(&text);
}

/* ---- "command not found" ------------------------------------------------- */

/* sh's reserved words and special builtins, and the usual builtins: never "not found". */
static const char *const shell_words[] = {
	"!", ".", ":", "[", "alias", "break", "case", "cd", "command", "continue", "do",
	"done", "echo", "elif", "else", "esac", "eval", "exec", "exit", "export", "false",
	"fi", "for", "getopts", "if", "kill", "local", "printf", "pwd", "read", "readonly",
	"return", "set", "shift", "test", "then", "times", "trap", "true", "type", "ulimit",
	"umask", "unalias", "unset", "until", "wait", "while", "{", "}", NULL,
};

/* 1 if the program `name` would be found: a path (relative to `wdir`), a shell word, on PATH. */
static int command_exists(const char *name, const char *wdir)
{
	const char *path = getenv("PATH");
	char *p, *dir, *save = NULL;
	int found = 0;

	for (size_t i = 0; shell_words[i]; i++)
		if (!strcmp(name, shell_words[i]))
			return 1;
	if (strchr(name, '/')) {
		p = name[0] == '/' || !wdir || !strcmp(wdir, ".") ? xstrdup(name)
								   : xasprintf("%s/%s", wdir, name);
		found = access(p, F_OK) == 0;
		free(p);
		return found;
	}
	p = xstrdup(path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(p, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *f = xasprintf("%s/%s", *dir ? dir : ".", name);

		found = access(f, X_OK) == 0;
		free(f);
	}
	free(p);
	return found;
}

/*
 * After a command ended with 127 (sh's "not found"): the first program named
 * at the start of a simple command of `cmds` (split at ; & | and newlines,
 * outside quotes; NAME=value words skipped) that does not exist, newly
 * allocated, or NULL when each seems to exist (the 127 came from elsewhere)
 * or a name is not plain (quotes, $, globs: not guessed at).
 */
static char *missing_command(char *const *cmds, size_t ncmds, const char *wdir)
{
	for (size_t c = 0; c < ncmds; c++) {
		const char *s = cmds[c];

		while (*s) {
			const char *w;
			char *name;
			size_t len;

			/* the start of a simple command: skip blanks and NAME=value words */
			for (;;) {
				s += strspn(s, " \t");
				w = s;
				len = strcspn(w, " \t\n;&|<>()`'\"$");
				if (len && memchr(w, '=', len) && (w[0] == '_' ||
				    (w[0] >= 'A' && w[0] <= 'Z') || (w[0] >= 'a' && w[0] <= 'z'))) {
					s += len;
					continue;
				}
				break;
			}
			if (len && strchr(" \t\n;&|<>)", w[len] ? w[len] : ' ')) {
				name = xstrndup(w, len);
				if (!strpbrk(name, "*?[]{}~\\") && !command_exists(name, wdir))
					return name;
				free(name);
			}
			/* on to the next simple command, quotes kept whole */
			for (char q = 0; *s; s++) {
				if (q) {
					if (*s == q)
						q = 0;
				} else if (*s == '\'' || *s == '"') {
					q = *s;
				} else if (*s == '\\' && s[1]) {
					s++;
				} else if (strchr(";&|\n", *s)) {
					s += strspn(s, ";&|\n");
					break;
				}
			}
		}
	}
	return NULL;
}

/* "stage 'x' failed: command not found: NAME", or "... exited with status N". */
static int command_failed(struct rp_err *err, const char *what, const char *name,
			  char *const *cmds, size_t ncmds, const char *wdir, int code)
{
	char *missing = code == 127 ? missing_command(cmds, ncmds, wdir) : NULL;

	if (missing)
		rp_err_set(err, RP_ERR_IO, "%s '%s' failed: command not found: %s", what, name,
			   missing);
	else
		rp_err_set(err, RP_ERR_IO, "%s '%s' failed: its command exited with status %d%s",
			   what, name, code, code == 127 ? " (a command was not found)" : "");
	free(missing);
	return -1;
}

/* ---- the run-hash-verify step -------------------------------------------- */

/* Where out `k` of job `j` is: its path, or under the job's root. Caller frees. */
static char *job_path(const struct runner_job *j, size_t k)
{
	return j->root ? xasprintf("%s/%s", j->root, j->outs[k].path) : xstrdup(j->outs[k].path);
}

/* Why unprotect_one() failed (nftw passes no context to its callback). */
static struct rp_err unprotect_err;

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
		return fs_clone_file(path, path, (st.st_mode & 0777) | S_IWUSR, 0, &unprotect_err);
	return 0;
}

/* Makes the files under out `p` (`path` in messages) private and writable; 0 or -1 + err. */
static int unprotect(const char *p, const char *path, struct rp_err *err)
{
	unprotect_err.kind = RP_ERR_NONE;
	if (nftw(p, unprotect_one, 16, FTW_PHYS) == 0)
		return 0;
	if (unprotect_err.kind && err) {
		*err = unprotect_err;
		return -1;
	}
	return rp_err_set(err, RP_ERR_IO, "cannot make a writable copy of output '%s'", path);
}

/* Prepares outs for a run: removes them unless persist, creates their parents. */
static int prepare_outs(const struct runner_job *j, struct rp_err *err)
{
	int ret = 0;

	for (size_t i = 0; i < j->nouts && !ret; i++) {
		char *p = job_path(j, i);

		if (!j->outs[i].persist && fs_remove_tree(p, err) < 0)
			ret = -1;
		/* a persisted out is edited in place: it must not be the store's copy */
		else if (j->outs[i].persist && fs_exists(p) && unprotect(p, j->outs[i].path, err) < 0)
			ret = -1;
		else if (fs_mkdir_parent(p, err) < 0)
			ret = -1;
		free(p);
	}
	return ret;
}

int runner_job_start(struct exec *ex, long id, const struct runner_job *j, struct rp_err *err)
{
	if (prepare_outs(j, err) < 0)
		return -1;
	return exec_start(ex, id, j->prefix, j->cmds, j->ncmds, j->wdir, err);
}

/* Hashes out `k` of `j` into `oi` and checks it against its expected hash. 0 or -1 + err. */
static int hash_out(struct store *s, const struct runner_job *j, size_t k, const char *p,
		    struct objinfo *oi, struct rp_err *err)
{
	const struct runner_out *o = &j->outs[k];

	if (store_hash_path(s, p, oi, err) < 0) {
		if (j->root)
			return rp_err_set(err, RP_ERR_IO, "rebuilding stage '%s' did not create '%s'",
					  j->name, o->path);
		if (err->kind == RP_ERR_INPUT)   /* it is there, but holds what rp never stores */
			return rp_err_set(err, RP_ERR_IO, "stage '%s': %s", j->name, err->msg);
		return rp_err_set(err, RP_ERR_IO, "stage '%s' did not create its output '%s'; check "
				  "that its command writes to that path", j->name, o->path);
	}
	if (o->expect && strcmp(oi->hash, o->expect))
		return rp_err_set(err, RP_ERR_IO, "stage '%s' is nondeterministic: rebuilding '%s' "
				  "gave %.12s, the lock says %.12s", j->name, o->path, oi->hash,
				  o->expect);
	return 0;
}

int runner_job_collect(struct store *s, const struct runner_job *j, struct lock_stage *record,
		       struct rp_err *err)
{
	for (size_t k = 0; k < j->nouts; k++) {
		char *p = job_path(j, k);
		struct objinfo oi;
		int r = hash_out(s, j, k, p, &oi, err);

		if (r == 0 && j->outs[k].cache)
			r = store_save(s, p, &oi, j->relink, err);
		free(p);
		if (r < 0)
			return -1;
		if (record)
			lock_stage_add_out(record, j->outs[k].path, &oi, j->outs[k].cache);
	}
	return 0;
}

int runner_job_run(struct store *s, const struct runner_job *j, FILE *out,
		   struct lock_stage *record, struct rp_err *err)
{
	struct exec ex;
	long id;
	int code = 0, ret;

	exec_init(&ex, out);
	ret = runner_job_start(&ex, 0, j, err);
	if (ret == 0 && exec_wait(&ex, &id, &code, err) < 0)
		code = -1;
	exec_release(&ex);
	/* an error of exec_wait() comes first: it says why the command failed */
	if (ret < 0 || (err && err->kind))
		return -1;
	if (code)
		return command_failed(err, "rebuilding stage", j->name, j->cmds, j->ncmds, j->wdir,
				      code);
	return runner_job_collect(s, j, record, err);
}

/* The job that runs stage `st` in the workspace; free job->outs. */
static void stage_job(const struct stage *st, struct runner_job *j)
{
	struct runner_out *outs = xcalloc(st->nouts + 1, sizeof(*outs));

	for (size_t k = 0; k < st->nouts; k++)
		outs[k] = (struct runner_out){ st->outs[k].path, st->outs[k].cache,
					       st->outs[k].persist, NULL };
	*j = (struct runner_job){ st->name, st->name, st->cmds, st->ncmds, st->wdir, NULL,
				  outs, st->nouts, 1 };
}

/* ---- the stages ---------------------------------------------------------- */

static void finish(struct runner *r, size_t i, int ok);

/* Reports stage i as failed (err may be empty: already printed) and finishes it. */
static void fail(struct runner *r, size_t i, const struct rp_err *err)
{
	event(r, RUNNER_FAILED, &r->pr->p->stages[i], NULL, err);
	r->c->failed++;
	finish(r, i, 0);
}

/* Saves deps that no stage produces into the store (source data). */
static int save_sources(struct runner *r, const struct stage *st, const struct eval *ev,
			struct rp_err *err)
{
	struct store *s = r->pr->ws.store;

	if (!r->pr->ws.cfg.save_sources)
		return 0;
	for (size_t i = 0; i < st->ndeps; i++) {
		if (!st->deps[i].cache || dag_producer(r->pr->dag, st->deps[i].path) >= 0)
			continue;
		if (store_has(s, &ev->deps[i]))
			continue;
		if (store_save(s, st->deps[i].path, &ev->deps[i], 0, err) < 0)
			return -1;
	}
	return 0;
}

/* Checks out the lock entry's outs that differ from the workspace. 1 done, 0 not possible, -1 + err. */
static int restore_outs(struct runner *r, const struct stage *st, const struct eval *ev,
			const struct lock_stage *ls, struct rp_err *err)
{
	struct store *s = r->pr->ws.store;
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
		if (ev->out_ok[i] && !strcmp(ev->outs[i].hash, ls->outs[i].oi.hash))
			continue;
		if (store_checkout(s, &ls->outs[i].oi, ls->outs[i].path, err) < 0)
			return -1;
	}
	return 1;
}

/* After a successful run: hash and store outs, write run-cache and lock. 0 or -1 + err. */
static int commit_run(struct runner *r, size_t i, struct rp_err *err)
{
	const struct stage *st = &r->pr->p->stages[i];
	struct store *s = r->pr->ws.store;
	struct lock_stage *ls = entry_for(st, &r->evals[i]);
	struct runner_job j;
	int all_cached = 1, ret;

	stage_job(st, &j);
	ret = runner_job_collect(s, &j, ls, err);
	free((void *)j.outs);
	if (ret < 0) {
		lock_stage_free(ls);
		return -1;
	}
	for (size_t k = 0; k < st->nouts; k++)
		all_cached &= st->outs[k].cache != 0;
	/* a stage without outs has nothing to restore: no run-cache entry */
	if (all_cached && st->nouts && !st->always_changed) {
		struct rp_err perr = { 0 };
		char *text = lock_outs_to_json(ls);

		if (store_run_put(s, ls->key, text, &perr) < 0)
			event(r, RUNNER_ERROR, NULL, NULL, &perr);
		free(text);
	}
	return record_stage(r, ls, err);
}

/* Tries the run-cache for `st`. 1 restored, 0 no entry, -1 + err. */
static int from_run_cache(struct runner *r, const struct stage *st, struct eval *ev,
			  struct rp_err *err)
{
	char *text = store_run_get(r->pr->ws.store, ev->key);
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
	ret = restore_outs(r, st, ev, ls, err);
	if (ret <= 0) {
		lock_stage_free(ls);
		return ret;
	}
	return record_stage(r, ls, err) < 0 ? -1 : 1;
}

/* Runs stage i whose plan says it must run: the run-cache first, then its commands. */
static void run_stage(struct runner *r, size_t i, const struct verdict *v)
{
	const struct stage *st = &r->pr->p->stages[i];
	struct eval *ev = &r->evals[i];
	struct rp_err err = { 0 };
	struct runner_job j;
	int rc;

	if (save_sources(r, st, ev, &err) < 0) {
		fail(r, i, &err);
		return;
	}
	if (!r->o->force && !st->always_changed && st->nouts) {
		rc = from_run_cache(r, st, ev, &err);
		if (rc < 0) {
			fail(r, i, &err);
			return;
		}
		if (rc > 0) {
			event(r, RUNNER_CACHED, st, v, NULL);
			r->c->cached++;
			finish(r, i, 1);
			return;
		}
	}
	event(r, RUNNER_RUNNING, st, v, NULL);
	store_memo_clear(r->pr->ws.store);
	stage_job(st, &j);
	rc = runner_job_start(&r->ex, (long)i, &j, &err);
	free((void *)j.outs);
	if (rc < 0) {
		fail(r, i, &err);
		return;
	}
	r->state[i] = ST_RUNNING;
}

/* Finishes stage i as "would run" in a dry run. */
static void would_run(struct runner *r, size_t i, const struct verdict *v)
{
	event(r, RUNNER_WOULD_RUN, &r->pr->p->stages[i], v, NULL);
	r->would_run[i] = 1;
	r->c->ran++;
	finish(r, i, 1);
}

/* Plans ready stage i (plan.h) and either finishes it or starts its commands. */
static void start(struct runner *r, size_t i)
{
	const struct stage *st = &r->pr->p->stages[i];
	struct eval *ev = &r->evals[i];
	struct verdict v = { 0 };
	struct rp_err err = { 0 };
	enum plan_action a;
	int rc = 0;

	/* in a real run the upstream stages have run by now: only a dry run marks them */
	a = plan_stage(r->pr, i, r->o->dry_run ? r->would_run : NULL, r->o->force, ev, &v);
	switch (a) {
	case PLAN_FROZEN:
	case PLAN_UPTODATE:
		event(r, a == PLAN_FROZEN ? RUNNER_FROZEN : RUNNER_UPTODATE, st, &v, NULL);
		r->c->uptodate++;
		finish(r, i, 1);
		break;
	case PLAN_BROKEN:
		/* the first failure says what is wrong; the others are likely the same */
		rp_err_set(&err, RP_ERR_IO, "stage '%s': %s%s", st->name, ev->errmsg,
			   ev->nmissing > 1 ? " (and more of its dependencies)" : "");
		fail(r, i, &err);
		break;
	case PLAN_RESTORE:
		if (!r->o->dry_run && (rc = restore_outs(r, st, ev, lock_find(r->pr->lock, st->name),
							 &err)) != 0) {
			if (rc < 0) {
				fail(r, i, &err);
				break;
			}
			event(r, RUNNER_RESTORED, st, &v, NULL);
			r->c->restored++;
			finish(r, i, 1);
			break;
		}
		/* the store cannot restore them: run it */
		/* fall through */
	case PLAN_RUN:
		if (r->o->dry_run)
			would_run(r, i, &v);
		else
			run_stage(r, i, &v);
		break;
	}
	freshness_verdict_release(&v);
}

/* Marks every selected stage downstream of i as blocked. */
static void block_downstream(struct runner *r, size_t i)
{
	const struct dag *d = r->pr->dag;

	for (size_t k = 0; k < d->ndown[i]; k++) {
		size_t j = d->down[i][k];

		if (!r->sel[j] || r->state[j] == ST_BLOCKED)
			continue;
		r->state[j] = ST_BLOCKED;
		r->c->blocked++;
		block_downstream(r, j);
	}
}

static void finish(struct runner *r, size_t i, int ok)
{
	const struct dag *d = r->pr->dag;

	freshness_eval_release(&r->evals[i]);
	if (!ok) {
		r->state[i] = ST_FAILED;
		block_downstream(r, i);
		if (!r->o->keep_going)
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

/* Called when the commands of stage `id` ended with `code`. */
static void ended(struct runner *r, size_t id, int code)
{
	const struct stage *st = &r->pr->p->stages[id];
	struct rp_err err = { 0 };

	if (code == 0 && !interrupted) {
		if (commit_run(r, id, &err) < 0) {
			fail(r, id, &err);
		} else {
			r->c->ran++;
			finish(r, id, 1);
		}
		return;
	}
	if (interrupted)
		rp_err_set(&err, RP_ERR_IO, "stage '%s' was interrupted", st->name);
	else
		command_failed(&err, "stage", st->name, st->cmds, st->ncmds, st->wdir, code);
	fail(r, id, &err);
}

/* Queues the selected stages that wait for nothing, then runs until all ended. */
static void schedule(struct runner *r)
{
	const struct dag *d = r->pr->dag;
	size_t n = d->n;

	for (size_t k = 0; k < n; k++)
		r->pos[d->order[k]] = k;
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
		struct rp_err err;
		long id;
		int code;

		while (!r->stop && !interrupted && r->nready &&
		       exec_running(&r->ex) < (size_t)r->o->jobs)
			start(r, ready_pop(r));
		if (!exec_running(&r->ex))
			break;
		if (exec_wait(&r->ex, &id, &code, &err) < 0)
			break;
		if (err.kind)
			event(r, RUNNER_ERROR, NULL, NULL, &err);
		store_memo_clear(r->pr->ws.store);
		ended(r, (size_t)id, code);
	}
}

/* Runs the scheduler with SIGINT and SIGTERM passed on to the commands. */
static void schedule_catching_signals(struct runner *r)
{
	struct sigaction sa, old_int, old_term;

	interrupted = 0;
	exec_init(&r->ex, r->o->out);
	r->ex.echo = !r->o->quiet;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	signal_exec = &r->ex;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	schedule(r);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	signal_exec = NULL;
	exec_release(&r->ex);
}

int runner_run(struct project *pr, const unsigned char *sel, const struct runner_opts *opts,
	       struct runner_counts *counts)
{
	size_t n = pr->dag->n;
	struct runner r = { .pr = pr, .o = opts, .c = counts, .sel = sel };
	int ret = 0;

	memset(counts, 0, sizeof(*counts));
	/* fold what a killed run left in the journal into rp.lock first */
	if (!opts->dry_run && pr->lock->replayed) {
		struct rp_err err = { 0 };

		if (write_lock(&r, &err) < 0) {
			if (err.kind)
				event(&r, RUNNER_ERROR, NULL, NULL, &err);
			return -1;
		}
	}
	r.state = xcalloc(n + 1, sizeof(*r.state));
	r.nwait = xcalloc(n + 1, sizeof(*r.nwait));
	r.ready = xcalloc(n + 1, sizeof(*r.ready));
	r.pos = xcalloc(n + 1, sizeof(*r.pos));
	r.evals = xcalloc(n + 1, sizeof(*r.evals));
	r.would_run = xcalloc(n + 1, 1);
	schedule_catching_signals(&r);
	counts->interrupted = interrupted != 0;
	if (!opts->dry_run) {
		ret = finish_lock(&r);
		ignore_outputs(&r);
	}
	free(r.state);
	free(r.nwait);
	free(r.ready);
	free(r.pos);
	for (size_t k = 0; k < n; k++)
		freshness_eval_release(&r.evals[k]);
	free(r.evals);
	free(r.would_run);
	return ret;
}
