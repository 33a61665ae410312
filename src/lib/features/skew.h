/*
 * skew.h - comparing the online store with offline values.
 *
 * skew_check() takes a deterministic sample of the (view, entity) pairs of
 * the sources (the n with the smallest hash of seed and key text; n = 0:
 * every pair), computes each selected feature's value as of the store's
 * materialization time (its watermark "at") through agg.h's sweep, the same
 * code historical uses, and compares it with the online record read as get
 * serves it at that time (ttl applied with ffeature_expired): status and
 * value text must be equal.
 */
#ifndef RP_FEATURES_SKEW_H
#define RP_FEATURES_SKEW_H
#include <stddef.h>
#include <stdint.h>
#include "features/defs.h"
#include "features/online.h"
#include "util/buf.h"
#include "util/error.h"

struct skew_stats {
	ftime_t at;            /* the materialization time compared at */
	size_t entities;       /* sampled (view, entity) pairs */
	size_t compared;       /* records compared */
	size_t differences;
};

/*
 * Appends one line per difference to `diffs`:
 * "ENTITY<TAB>FEATURE<TAB>online VALUE STATUS<TAB>offline VALUE STATUS",
 * ENTITY as key=value pairs joined by ','. 0 (differences counted in st),
 * or -1 + err (RP_ERR_INPUT when the store was never materialized or a
 * source is bad, RP_ERR_IO on a read failure).
 */
int skew_check(const struct fdefs *d, const struct fsel *sel, struct ostore *s, size_t n,
	       uint64_t seed, int assume_utc, struct buf *diffs, struct skew_stats *st,
	       struct rp_err *err);
#endif
