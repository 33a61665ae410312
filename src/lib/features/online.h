/*
 * online.h - the online feature store: one record per (entity, feature).
 *
 * A STORE is a path to an SQLite file (the embedded default, created on
 * first write) or redis://HOST:PORT[/DB] (online_redis.c). Both backends
 * keep the same records and obey the same rules; the tests run each
 * behaviour against both.
 *
 * A record, per (entity key text as events.h interns it, feature full name
 * "view:feature"): its status at as_of, its value as JSON text ("null"
 * unless OK), the entity's newest known event (newest_ts, newest_created)
 * and as_of, the materialization time the value was computed at. Its
 * version is the triple (as_of, newest_ts, newest_created), compared
 * lexicographically: a write replaces a record only when its version is
 * greater, atomically (SQLite: one UPSERT with a WHERE on the version;
 * Redis: a Lua compare-and-set), so a newer value never loses to an older
 * one whatever the order of writes, and a killed writer leaves each record
 * either old or new, never older than it was.
 *
 * The store also keeps its materialization watermark: the latest --at
 * applied and the greatest "known" time (max of event and created time) of
 * the events consumed then. Both only ever grow.
 */
#ifndef RP_FEATURES_ONLINE_H
#define RP_FEATURES_ONLINE_H
#include <stddef.h>
#include <stdint.h>
#include "features/agg.h"
#include "features/ftime.h"
#include "util/error.h"

/* A record to write; every pointer is borrowed. value: JSON text, "null" unless OK. */
struct owrite {
	const char *key;          /* entity key text (may hold FKEY_SEP) */
	const char *feature;      /* "view:feature" */
	enum fstatus status;
	const char *value;
	ftime_t newest_ts;        /* FTIME_NONE when NOT_FOUND */
	ftime_t newest_created;
	ftime_t as_of;
};

/* A record read back. value is owned by the record (free with orec_release). */
struct orec {
	int found;                /* 0: no record for this (key, feature) */
	enum fstatus status;
	char *value;
	ftime_t newest_ts, newest_created, as_of;
};
void orec_release(struct orec *r);

/* The watermark; FTIME_NONE when the store was never materialized. */
struct omark {
	ftime_t at;               /* the latest --at applied */
	ftime_t known;            /* the greatest known time of the events consumed */
	uint64_t defs;            /* a hash of the definitions materialized then (0: none) */
};

struct ostore;

/*
 * Opens the store named by `url` (an SQLite path or redis://HOST:PORT[/DB]).
 * An SQLite file is created when `create` is set, else a missing one is
 * RP_ERR_INPUT. A bad URL is RP_ERR_INPUT, an unreachable server or an
 * unreadable file RP_ERR_IO; messages name the store and the fix.
 * Returns the store (free with ostore_free) or NULL + err.
 */
struct ostore *ostore_open(const char *url, int create, struct rp_err *err);
void ostore_free(struct ostore *s);

/* 1 when the store is Redis (the batch paths pipeline), else 0. */
int ostore_is_redis(const struct ostore *s);

/*
 * Writes the n records of `w` as one batch (SQLite: one transaction),
 * each replacing the stored one only when its version is greater. Adds to
 * *written (if non-NULL) the number of records replaced or created.
 * 0, or -1 + err (RP_ERR_IO); on failure some records of the batch may be
 * written (Redis) or none (SQLite), never a record made older.
 */
int ostore_put(struct ostore *s, const struct owrite *w, size_t n, size_t *written,
	       struct rp_err *err);

/*
 * Reads the records of (keys[i], features[i]) for i < n into out[i]
 * (zeroed first; found = 0 when absent). Redis pipelines the n reads.
 * 0, or -1 + err; the caller releases each out[i] in both cases.
 */
int ostore_get(struct ostore *s, const char *const *keys, const char *const *features, size_t n,
	       struct orec *out, struct rp_err *err);

/* Reads the watermark into *m. 0, or -1 + err. */
int ostore_mark_get(struct ostore *s, struct omark *m, struct rp_err *err);
/* Raises the watermark to m (at and known become the max of old and new; defs is set). 0, or -1 + err. */
int ostore_mark_raise(struct ostore *s, const struct omark *m, struct rp_err *err);

/*
 * Calls fn(key, feature, arg) for every record of the store (in no given
 * order; for check-skew and the tests). A non-zero return of fn stops and
 * is returned. -1 + err on a store failure.
 */
int ostore_each(struct ostore *s, int (*fn)(const char *key, const char *feature, void *arg),
		void *arg, struct rp_err *err);

/* ---- private: the backends (online.c dispatches) ---- */
struct ostore_ops {
	void (*free)(struct ostore *s);
	int (*put)(struct ostore *s, const struct owrite *w, size_t n, size_t *written,
		   struct rp_err *err);
	int (*get)(struct ostore *s, const char *const *keys, const char *const *features, size_t n,
		   struct orec *out, struct rp_err *err);
	int (*mark_get)(struct ostore *s, struct omark *m, struct rp_err *err);
	int (*mark_raise)(struct ostore *s, const struct omark *m, struct rp_err *err);
	int (*each)(struct ostore *s, int (*fn)(const char *, const char *, void *), void *arg,
		    struct rp_err *err);
};
struct ostore {
	const struct ostore_ops *ops;
	int redis;
	char *url;
};
struct ostore *ostore_redis_open(const char *url, struct rp_err *err);
#endif
