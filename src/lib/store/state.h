/*
 * state.h - .rp/state.db: (path, device, inode, mtime_ns, size) -> sha256.
 *
 * A file whose stat matches its row is never read again. state_open() loads
 * the whole table in one query into a hash table; lookups are in memory;
 * state_save() writes only changed rows, in one transaction. Not thread-safe:
 * look up and record from one thread, hash misses on many.
 */
#ifndef RP_STATE_H
#define RP_STATE_H

#include <stdint.h>
#include <sys/stat.h>
#include "util/hash.h"

struct state;

/* Opens (creating if needed) the database at `dbpath` and loads it. NULL + err. */
struct state *state_open(const char *dbpath, struct rp_err *err);
/* The recorded hash of `path` if `st` matches its row, else NULL. Borrowed from s. */
const char *state_get(struct state *s, const char *path, const struct stat *st);
/* Records `hex` for `path` with `st`'s identity (kept in memory until state_save). */
void state_put(struct state *s, const char *path, const struct stat *st, const char *hex);
/*
 * Confirmation within a run. After state_track(), every state_get() match and
 * state_put() marks the path as confirmed in the current generation, and
 * state_get_seen() returns its hash (and size) with no stat at all, until
 * state_next_generation(), which the caller calls whenever files may have
 * changed. A NULL `s` is ignored.
 */
void state_track(struct state *s);
void state_next_generation(struct state *s);
/* The hash of `path` if confirmed in the current generation (borrowed), else NULL. */
const char *state_get_seen(struct state *s, const char *path, int64_t *size);
/*
 * As state_get(), and also returns a racy entry (a file hashed right after
 * it was written) when it was confirmed in the current generation: within a
 * generation nothing rewrites files, so its hash still holds.
 */
const char *state_get_current(struct state *s, const char *path, const struct stat *st);
/* Forgets everything: the next lookups all miss (`--rehash`). */
void state_clear(struct state *s);
/* Writes changed rows in one transaction. 0 or -1 (reported). */
int state_save(struct state *s);
/* Saves nothing; frees. state_close(NULL) does nothing. */
void state_close(struct state *s);

#endif
