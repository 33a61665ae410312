/*
 * historical.h - the point-in-time join: a training set of feature values,
 * each as of its entity row's time (rp-features historical).
 *
 * Every entity row (one JSON object per line of a JSONL file) holds the
 * join keys of the selected features' entities and a timestamp column.
 * For each row and feature, the value is agg.h's as of the row's time T:
 * only events known at T (event time <= T, created time <= T) count. One
 * output line per input line, in the same order, never merged or dropped:
 * the input line's text unchanged, then "VIEW:FEATURE": value (or null) per
 * selected feature, then "rp_status": {feature: "NOT_FOUND"|"EXPIRED"} for
 * each null value ({} when every value is there).
 *
 * As of now (the leaky control): every row is evaluated at the latest time
 * known in the view's source (the greatest max(event time, created time)
 * of its events) instead of its own time: values from its future leak in.
 */
#ifndef RP_FEATURES_HISTORICAL_H
#define RP_FEATURES_HISTORICAL_H
#include <stddef.h>
#include "features/defs.h"
#include "util/buf.h"
#include "util/error.h"

struct fhist_opts {
	const char *entities;        /* path of the entity rows (JSONL; "-": stdin) */
	const char *ts_column;       /* the rows' time column; NULL: "event_timestamp" */
	int assume_utc;              /* naive times (rows and sources) are UTC */
	int as_of_now;               /* evaluate every row at the source's latest known time */
};

struct fhist_stats {
	size_t rows, features;
	size_t not_found, expired;   /* null values by status */
	size_t events;               /* events loaded, over the selected views */
};

/*
 * Joins the features of `sel` (of `d`) onto the entity rows of o->entities
 * and appends the output lines to `out`. 0, or -1 + err: RP_ERR_INPUT
 * naming FILE:LINE and the column for a row without a join key or the time
 * column, or with a time that is unparsable or naive (unless assume_utc),
 * and for a bad source (events.h); RP_ERR_IO when a file cannot be read.
 * On failure `out` holds a partial text the caller must not write.
 */
int fhist_run(const struct fdefs *d, const struct fsel *sel, const struct fhist_opts *o,
	      struct buf *out, struct fhist_stats *st, struct rp_err *err);
#endif
