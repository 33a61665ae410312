/*
 * freshness.h - is a stage up to date, and if not, why.
 *
 * `rp status` and `rp repro` share this: freshness_eval_deps() hashes a stage's deps
 * (through the state cache) and computes its key; freshness_compare() holds the
 * stage against its rp.lock entry and lists every reason it is dirty, in a
 * fixed order: never run, always_changed, cmd, wdir, deps, params, outs.
 * The reasons are written for people: a parameter used through ${} in the
 * command is named as that parameter ("param chunker.size 800 -> 500 (in
 * cmd)"), a mapping parameter by its changed leaves, as `rp params diff`
 * shows them; a dep that does not exist is "deleted", as DVC says it; an
 * algorithm of rp's stage programs at another version than when the lock
 * was written is "rp chunk: markdown@1 -> markdown@2" (key.h, progver.h).
 */
#ifndef RP_FRESHNESS_H
#define RP_FRESHNESS_H

#include <jansson.h>

#include "lock/lock.h"
#include "core/dag.h"
#include "core/pipeline.h"
#include "store/store.h"

struct eval {
	struct objinfo *deps;     /* one per stage dep */
	unsigned char *dep_ok;    /* dep i exists and was hashed */
	size_t nmissing;          /* deps and params that do not exist or cannot be read */
	char *errmsg;             /* why the first of them could not be read (owned) */
	/* set by freshness_read_params(), NULL before */
	const struct pipeline *p; /* the pipeline (borrowed), for the commands' ${} */
	unsigned char *param_ok;  /* param i has a value (its file and key exist) */
	unsigned char *param_nofile; /* param i's file does not exist or cannot be read */
	struct stage *pstage;     /* the stage whose param values were set (borrowed) */
	const struct node **pold; /* their values before, restored on release */
	struct doc **pdocs;       /* the params files read (owned) */
	size_t npdocs;
	char key[HASH_HEX];       /* valid when nmissing == 0 */
	struct objinfo *outs;     /* filled by freshness_compare: one per stage out */
	unsigned char *out_ok;    /* out i exists and was hashed */
};

enum reason_kind {
	R_NEVER_RUN, R_ALWAYS_CHANGED, R_CMD, R_CMD_PARAM, R_WDIR,
	R_DEP_MISSING, R_DEP_CHANGED, R_DEP_NEW, R_DEP_GONE,
	R_PARAM_CHANGED, R_PARAM_NEW, R_PARAM_GONE, R_PARAM_MISSING,
	R_OUTS_DECLARED, R_OUT_MISSING, R_OUT_MODIFIED,
	R_UPSTREAM,
	R_PROGVER,            /* an algorithm of an rp stage program changed version */
};

struct reason {
	enum reason_kind kind;
	char *subject;            /* path, parameter or stage name; may be NULL */
	char *old, *new;          /* parameter values for display; may be NULL */
};

struct verdict {
	struct reason *r;
	size_t n, alloc;
	int key_matches;          /* the stage key equals the lock's */
	int outs_differ;          /* some out is missing or not what the lock says */
};

/*
 * Reads, now, the params of `st` whose file a stage of `d` writes (a params
 * file made upstream), and those the pipeline could not read when it was
 * loaded (value NULL): the value a stage runs with is the file's content
 * when the stage is evaluated, not when the pipeline was parsed. Sets each
 * such st->params[i].value to a node of a doc owned by `ev` (zeroed by the
 * caller); freshness_eval_release() puts the old values back, so the values
 * are valid exactly as long as `ev`. A params file that does not exist or a
 * key it lacks counts in ev->nmissing (ev->param_ok says which), with
 * ev->errmsg naming the first. Call before freshness_eval_deps().
 */
void freshness_read_params(const struct dag *d, struct stage *st, struct eval *ev);
/*
 * Hashes the deps of `st` into `ev` (zeroed by the caller, or filled only by
 * freshness_read_params(); freed by freshness_eval_release) and, when every
 * dep and param could be read, computes the key.
 */
void freshness_eval_deps(struct store *s, const struct stage *st, struct eval *ev);
/*
 * Compares `st` (with ev from freshness_eval_deps) against its lock entry `ls` (NULL:
 * never run), hashing its outs into ev->outs. Adds reasons to `v`.
 */
void freshness_compare(struct store *s, const struct stage *st, struct eval *ev,
		  const struct lock_stage *ls, struct verdict *v);
void freshness_eval_release(struct eval *ev);

/* Appends a reason (strings copied; NULLs allowed). */
void freshness_verdict_add(struct verdict *v, enum reason_kind kind, const char *subject,
		 const char *old, const char *new);
void freshness_verdict_release(struct verdict *v);
/* A one-line human text for a reason, e.g. "param chunker.size 800 -> 600". Caller frees. */
char *freshness_reason_text(const struct reason *r);
/*
 * For `rp status -v`: compares directory `path` (a dep) file by file with
 * the directory manifest `old_hash` in the store (what rp.lock recorded)
 * and calls fn(ctx, file, what) for each file, relative to the directory,
 * that was "added", "deleted" or "modified", in path order. 0, or -1 when
 * the old manifest is not in the store (nothing is called).
 */
int freshness_dir_changes(struct store *s, const char *path, const char *old_hash,
			  void (*fn)(void *ctx, const char *file, const char *what), void *ctx);
/*
 * The reasons of `v` as a JSON array, one object per reason: "reason" (its
 * freshness_reason_name), "text" (freshness_reason_text), the subject as
 * "path", "param", "stage" or "program", and "old"/"new" when set. `rp status --json`
 * and `rp repro --json` print it. A new reference; the caller decrefs.
 */
json_t *freshness_verdict_json(const struct verdict *v);
/* A short machine name for a reason kind, e.g. "param-changed". Static. */
const char *freshness_reason_name(enum reason_kind k);
/* The parameter's display name: "chunker.size", or "other.yaml:k" outside params.yaml. Caller frees. */
char *freshness_param_name(const char *file, const char *key);
/* Canonical JSON shown to people: strings without their quotes. Caller frees. */
char *freshness_value_display(const char *canonical_json);

#endif
