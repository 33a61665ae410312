/*
 * alias.h - blue-green aliases of indexes: a name ("live") that serves one
 * index of the workspace, switched atomically, with its history kept so
 * that a rollback is one command (rp-index(1), ALIASES).
 *
 *     char *dir;
 *     if (alias_resolve(argv[1], &dir, &err) == 0) index_open(&ix, dir, 0, &err);
 *     alias_promote("live", "build/green/index", "build/METRICS.json", &ev, &err);
 *     alias_rollback("live", &ev, &err);
 *     alias_history("live", &evs, &n, &err);
 *
 * Aliases live in the workspace (core/config.h finds it; outside one they
 * are an error) under .rp/index/NAME/:
 *     <16hex>/        an immutable served copy of a promoted index: its
 *                     MANIFEST.json and every file it names (hard links when
 *                     possible, else copies); <16hex> is the start of the
 *                     SHA-256 of that MANIFEST.json
 *     current         "<16hex>\n": the copy served now, replaced by rename
 *     history.jsonl   one line per switch: {"at","action":"promote"|"rollback",
 *                     "target","digest","model","gate","copy"}
 *     lock            taken (flock) while an alias is switched
 * A copy is never changed or removed by rp, so rebuilding the promoted
 * index's directory does not change what the alias serves, and rollback
 * finds the previous one where it was.
 *
 * Trust: .rp/ may come from someone else (a repository). Names are
 * [A-Za-z0-9._-]+ (not "." or ".."); a `current` that is not a regular file
 * holding 16 hex digits, or a directory on the way that is a symlink, is
 * refused, so an alias can only serve a copy inside its own directory. A
 * promoted index must lie inside the workspace (its real path), outside
 * .git and .rp.
 */
#ifndef RP_INDEX_ALIAS_H
#define RP_INDEX_ALIAS_H

#include <stddef.h>
#include "util/error.h"

/* One line of an alias's history; every string owned (alias_events_free). */
struct alias_event {
	char *at;          /* "2026-12-05T12:00:00Z", UTC */
	char *action;      /* "promote" or "rollback" */
	char *target;      /* the promoted index, workspace-relative */
	char *digest;      /* its logical digest */
	char *model;       /* its embedding model */
	char *gate;        /* the METRICS.json that allowed it, or NULL */
	char *copy;        /* the served copy's directory name (16 hex) */
};

/* 1 when `name` is a valid alias name, else 0. */
int alias_name_valid(const char *name);

/*
 * Resolves a command line's INDEX (rp-index query, info and verify, rp-eval
 * --index NAME=INDEX: every reader of an index by name goes through here).
 * `arg` names an alias when it is not an index directory (no
 * ARG/MANIFEST.json), is a valid alias name, and the workspace has
 * .rp/index/ARG/current; the directory to read is then the alias's served
 * copy, else `arg` itself (whose reader then says whether it is an index).
 * Returns 0 with *dir set to that directory (newly allocated: the caller
 * frees it). -1 + err, *dir NULL, when the alias is broken or
 * hostile (RP_ERR_INPUT) or its served copy is missing or holds no
 * MANIFEST.json (RP_ERR_INPUT "alias 'NAME' resolves to 'COPY', which ..."),
 * or the system fails (RP_ERR_IO).
 */
int alias_resolve(const char *arg, char **dir, struct rp_err *err);

/*
 * Serves the index at `target` (a directory inside the workspace) as alias
 * `name`: copies it (verifying every file against its manifest), checks the
 * gate when `gate` (a METRICS.json of rp-eval) is not NULL, appends to the
 * history, then switches `current`. Fills *ev (alias_event_release it) with
 * the new history line. 0, or -1 + err: RP_ERR_INPUT for a usage problem
 * (a bad name, outside a workspace, a target outside it, an invalid index
 * or METRICS.json), RP_ERR_IO when the gate refuses or the system fails.
 */
int alias_promote(const char *name, const char *target, const char *gate, struct alias_event *ev,
		  struct rp_err *err);

/*
 * Switches alias `name` back to the copy served before the last promote
 * still in effect (history is a stack: a promote pushes, a rollback pops).
 * Fills *ev. 0, or -1 + err (RP_ERR_IO "nothing to roll back to").
 */
int alias_rollback(const char *name, struct alias_event *ev, struct rp_err *err);

/*
 * The history of alias `name`, oldest first, into *evs (alias_events_free)
 * and *n; *current (if not NULL) receives the copy served now (caller
 * frees). 0, or -1 + err (an unknown alias is RP_ERR_INPUT).
 */
int alias_history(const char *name, struct alias_event **evs, size_t *n, char **current,
		  struct rp_err *err);

void alias_event_release(struct alias_event *ev);
void alias_events_free(struct alias_event *evs, size_t n);

#endif
