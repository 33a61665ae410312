/*
 * agg.h - the one implementation of every aggregation, offline and online.
 *
 * rp-features historical (a point-in-time join) and rp-features
 * materialize (the online store) both compute a feature's value through
 * this module, so the two cannot drift (training-serving skew).
 *
 * Semantics, as of a time T, for one entity and one feature
 * (rp-features(1) states them for users):
 * - an event is known at T when its event time <= T and, if the source has
 *   a created-time column, its created time <= T (a value backfilled later
 *   was not known at T);
 * - a window w covers event times in (T - w, T]; no window: all known events;
 * - the entity's newest known event is the known event with the greatest
 *   (event time, created time); with a ttl, the value is EXPIRED (null)
 *   when that event's time is <= T - ttl (ffeature_expired);
 * - no known event at all: NOT_FOUND (null);
 * - otherwise, over the known events in the window whose column is not null
 *   (count: every event in the window): count, sum and count_distinct give
 *   0 on an empty window; avg, min, max and last give NOT_FOUND; last is the
 *   value of the event with the greatest (event time, created time, order
 *   in the source).
 *
 * A sweep evaluates one feature for one entity at nondecreasing times in
 * O((events + queries) log events): events enter in the order they become
 * known and leave in event-time order as the window slides, never a nested
 * loop over events.
 */
#ifndef RP_FEATURES_AGG_H
#define RP_FEATURES_AGG_H
#include <stddef.h>
#include <stdint.h>
#include "features/defs.h"
#include "features/events.h"
#include "features/ftime.h"

enum fstatus { FSTATUS_OK, FSTATUS_NOT_FOUND, FSTATUS_EXPIRED };

/* "OK", "NOT_FOUND", "EXPIRED". */
const char *fstatus_name(enum fstatus s);

struct fresult {
	enum fstatus status;
	struct fval v;             /* FVAL_NULL unless status is OK; str points into the events */
	ftime_t newest_ts;         /* the entity's newest known event, or FTIME_NONE */
	ftime_t newest_created;    /* its created time (its event time without that column) */
};

/* 1 when a value whose newest known event is at newest_ts has expired at T under f's ttl. */
int ffeature_expired(const struct ffeature *f, ftime_t newest_ts, ftime_t T);

/*
 * The events of a load grouped by entity: the events of entity k are
 * rows[start[k] .. start[k+1]), sorted by (event time, created time, index).
 * Built in O(n log n) with a counting pass and per-entity sorts.
 */
struct fgroups {
	uint32_t *start;           /* [keys.n + 1] */
	uint32_t *rows;            /* [n] */
};
void fgroups_build(struct fgroups *g, const struct fevents *ev);
void fgroups_release(struct fgroups *g);

struct fsweep;

/* A sweep of feature number `feature` of ev->view; caller frees with fsweep_free. */
struct fsweep *fsweep_new(const struct fevents *ev, size_t feature);
/* Starts over on one entity whose events are rows[0..n) (an fgroups slice). */
void fsweep_start(struct fsweep *s, const uint32_t *rows, size_t n);
/*
 * The value as of T into *out. T must not be less than the previous call's
 * since fsweep_start (a caller sorts its queries by time).
 */
void fsweep_at(struct fsweep *s, ftime_t T, struct fresult *out);
void fsweep_free(struct fsweep *s);
#endif
