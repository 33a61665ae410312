/*
 * events.h - one feature view's events, loaded from its source.
 *
 * A source is a JSONL file (one object per line), a CSV file (a header
 * line, RFC 4180 quoting) or a table of an SQLite database. Loading a view
 * reads, per event: the entity's join keys, the event time, the created
 * time (when the source has that column) and the column of each feature
 * of the view, into arrays (columns, not rows: 10 million events are a few
 * hundred MiB).
 *
 * Values are JSON scalars (struct fval). A CSV cell is text, except that a
 * numeric aggregation (sum, avg, min, max) reads it as a number. Null or
 * missing values are kept as FVAL_NULL: every aggregation but count skips
 * them. A non-numeric value in a column a numeric aggregation reads, an
 * event without a join key, or a timestamp that is missing, unparsable or
 * naive (unless assume_utc) is an error naming FILE:LINE (JSONL, CSV) or
 * FILE: table TABLE, row ROWID (SQLite), the column and the fix.
 *
 * Entities are interned: the key text of an entity is the text of each
 * join key value (a string as is, a number in its shortest form) joined by
 * FKEY_SEP, in the entity's join-key order, so that the JSON string "42",
 * the number 42 and the CSV cell 42 are the same user.
 */
#ifndef RP_FEATURES_EVENTS_H
#define RP_FEATURES_EVENTS_H
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include "features/defs.h"
#include "features/ftime.h"
#include "util/error.h"
#include "util/hmap.h"

/* Separates the join key values in an entity's key text. */
#define FKEY_SEP '\x1f'

enum fval_kind { FVAL_NULL, FVAL_NUM, FVAL_STR, FVAL_BOOL };

/* A scalar. str points into the owner's storage (NUL-terminated, len bytes). */
struct fval {
	enum fval_kind kind;
	int is_int;          /* FVAL_NUM: the value was written as an integer */
	double num;          /* FVAL_NUM; FVAL_BOOL: 0 or 1 */
	const char *str;     /* FVAL_STR */
	size_t len;
};

/* The entities of a load: key text <-> dense id. */
struct fkeys {
	struct hmap map;     /* key text -> id */
	char **text;         /* id -> key text (owned) */
	size_t n, alloc;
};

/* Interns the key text `k` (len bytes); returns its id. */
uint32_t fkeys_intern(struct fkeys *ks, const char *k, size_t len);
/* The id of `k`, or -1 when no event had it. */
int64_t fkeys_find(const struct fkeys *ks, const char *k, size_t len);
void fkeys_release(struct fkeys *ks);

/*
 * Appends to `out` the key text of entity `e` read from the JSON object
 * `row` (join key columns by name). 0, or -1 with *missing set to the
 * first join key that is absent, null or not a scalar.
 */
struct buf;
int fkey_from_json(const struct fentity *e, json_t *row, struct buf *out, const char **missing);

/* Appends the value to `out` as JSON (a number in its shortest exact form). */
void fval_json(const struct fval *v, struct buf *out);
/* A new jansson value for `v` (caller owns). */
json_t *fval_to_json(const struct fval *v);

struct fevents {
	const struct fview *view;
	size_t n;                /* events */
	uint32_t *entity;        /* [n] entity ids (keys) */
	ftime_t *ts;             /* [n] event times */
	ftime_t *created;        /* [n] created times, or NULL when the source has no such column */
	struct fval **col;       /* [view->nfeatures][n]; col[f] is NULL for count */
	struct fkeys keys;
	void *arena;             /* private: the storage of the string values */
};

/*
 * Loads view `v`'s events from its source (v->source->resolved) into *ev
 * (zeroed first), in the source's order. 0, or -1 + err (RP_ERR_INPUT for a
 * bad source, RP_ERR_IO when it cannot be read). Release *ev with
 * fevents_release, even on failure.
 */
int fevents_load(struct fevents *ev, const struct fview *v, int assume_utc, struct rp_err *err);
void fevents_release(struct fevents *ev);
#endif
