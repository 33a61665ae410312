/*
 * journal.h - .rp/lock.journal and run-cache entries: lock entries as JSON.
 *
 * Writing the whole rp.lock after each stage would cost O(stages) per stage,
 * so `rp repro` appends each finished stage to .rp/lock.journal (one JSON
 * object per line after a header naming the hash of the rp.lock it extends)
 * and rewrites rp.lock atomically at the end of the run and at most once a
 * second during it. lock_load() (file.h) replays a journal whose base
 * matches rp.lock, so a killed run keeps every stage that finished.
 *
 * The run cache (store/runcache) keeps a stage's outs in the same JSON form.
 */
#ifndef RP_LOCK_JOURNAL_H
#define RP_LOCK_JOURNAL_H

#include "lock/model.h"
#include "util/error.h"

/* Starts (replaces atomically) `journal` with a header naming l->base. 0, or -1 + err. */
int lock_journal_start(const struct lock *l, const char *journal, struct rp_err *err);
/* Appends one finished stage to `journal` (one write(2)). 0, or -1 + err (RP_ERR_IO). */
int lock_journal_append(const char *journal, const struct lock_stage *s, struct rp_err *err);
/*
 * Applies the entries of `journal` to `l` when its header names l->base,
 * counting them in l->replayed. A missing, stale or torn journal applies
 * what it can (nothing when stale) and is not an error.
 */
void lock_journal_replay(struct lock *l, const char *journal);

/* Serialises a stage's outs for the run-cache (JSON); caller frees. */
char *lock_outs_to_json(const struct lock_stage *s);
/* Parses a run-cache entry into s->outs (replacing them). 0, or -1 if malformed (quiet). */
int lock_outs_from_json(struct lock_stage *s, const char *json);

#endif
