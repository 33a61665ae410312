/*
 * materialize.h - computing the online store's records from the sources.
 *
 * materialize() loads each selected view's events (events.h), groups them
 * by entity and computes each feature's value as of T through agg.h's
 * sweep (the one implementation, the same historical uses), then writes
 * the records to the store (online.h) in batches, each replacing a record
 * only when its version is greater.
 *
 * Incremental rule: with a watermark (at0, known0) in the store and
 * T > at0, an entity is recomputed only when one of its events
 *   - became known since: known time (max of event and created time) in
 *     (known0, T];
 *   - left a window between at0 and T: event time in (at0 - w, T - w] for
 *     the window w of one of the view's selected features;
 *   - crossed a ttl: event time in (at0 - ttl, T - ttl].
 * No other entity's value can differ at T from the one stored at at0, so
 * its record stays. Without a watermark, with T <= at0 or with `full`,
 * every entity is computed (records with a greater version still win).
 * Events added to a source with a known time <= known0 are not seen by an
 * incremental run: run with full. The store also keeps a hash of the
 * definitions: under other definitions (a feature added, a window changed)
 * every entity is computed.
 * The watermark is raised (to T and the greatest known time <= T of the
 * events read) only after every record is written, and only when every
 * feature was selected; a killed run leaves the old watermark, and the next
 * run recomputes at least what it would have.
 */
#ifndef RP_FEATURES_MATERIALIZE_H
#define RP_FEATURES_MATERIALIZE_H
#include <stddef.h>
#include "features/defs.h"
#include "features/ftime.h"
#include "features/online.h"
#include "util/error.h"

struct mat_stats {
	size_t entities;        /* entities in the sources (per view, summed) */
	size_t computed;        /* entities recomputed */
	size_t written;         /* records replaced or created */
	int incremental;        /* 1 when the watermark limited the work */
};

/*
 * Materializes the features of `sel` (of `d`) as of T into `s`. `all` says
 * that sel holds every feature (the watermark is raised only then).
 * 0, or -1 + err (RP_ERR_INPUT for a bad source, RP_ERR_IO for a store or
 * read failure).
 */
int materialize(const struct fdefs *d, const struct fsel *sel, int all, struct ostore *s,
		ftime_t T, int full, int assume_utc, struct mat_stats *st, struct rp_err *err);

/*
 * The default time of a command: SOURCE_DATE_EPOCH (whole seconds) when
 * set, else now. 0, or -1 + err (RP_ERR_INPUT: a bad SOURCE_DATE_EPOCH).
 */
int ftime_default_now(ftime_t *T, struct rp_err *err);

/* Parses a --at argument (RFC 3339; naive only with assume_utc): 0, or -1 + err naming it. */
int ftime_parse_opt(const char *opt, const char *s, int assume_utc, ftime_t *T, struct rp_err *err);
#endif
