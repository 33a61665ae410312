/*
 * defs.h - features.yaml: entities, event sources and feature views.
 *
 * The file (rp-features.yaml(5)) is read through the YAML layer (doc.h), so
 * every error names FILE:LINE:COL, what was expected and how to fix it. It
 * is input from someone else's repository: a source's path is relative to
 * the folder of features.yaml and may not leave it lexically (no absolute
 * path, no ".." above it, nothing in .git or .rp: wspath_normalize and
 * wspath_reserved), names are short identifiers, and every duration is
 * range-checked. Sources are only read, never written.
 *
 * A feature's full name is "VIEW:FEATURE" (user:clicks_7d): its key in
 * every output, offline and online.
 */
#ifndef RP_FEATURES_DEFS_H
#define RP_FEATURES_DEFS_H
#include <stddef.h>
#include "features/ftime.h"
#include "util/error.h"

struct doc;
struct node;

/* The aggregations; one implementation of each (agg.h), offline and online. */
enum fagg {
	FAGG_COUNT,          /* events in the window (no column) */
	FAGG_SUM,            /* numeric column */
	FAGG_AVG,
	FAGG_MIN,
	FAGG_MAX,
	FAGG_LAST,           /* the latest event's value of the column: any JSON scalar */
	FAGG_COUNT_DISTINCT, /* distinct non-null values of the column */
};

/* "count", "sum", ... for messages and man pages. */
const char *fagg_name(enum fagg a);

struct fentity {
	char *name;
	char **keys;         /* join key column names, in file order */
	size_t nkeys;
};

enum fsource_kind { FSOURCE_JSONL, FSOURCE_CSV, FSOURCE_SQLITE };

struct fsource {
	char *name;
	enum fsource_kind kind;  /* from the path's extension, or `format:` */
	char *path;              /* as written in the file (relative) */
	char *resolved;          /* path to open: the defs file's folder + path */
	char *table;             /* FSOURCE_SQLITE: the table (or view) to read; else NULL */
	char *timestamp;         /* the event-time column */
	char *created;           /* the created-time column, or NULL */
	const struct node *at;   /* for messages */
};

struct ffeature {
	char *name;              /* "clicks_7d" */
	char *full;              /* "user:clicks_7d" */
	enum fagg agg;
	char *column;            /* NULL for count */
	ftime_t window;          /* > 0, or FTIME_NONE: all events known so far */
	ftime_t ttl;             /* > 0, or FTIME_NONE: never expires */
	const struct node *at;
};

struct fview {
	char *name;
	const struct fentity *entity;  /* points into fdefs.entities */
	const struct fsource *source;  /* points into fdefs.sources */
	struct ffeature *features;
	size_t nfeatures;
	const struct node *at;
};

struct fdefs {
	char *file;              /* the path loaded */
	struct doc *doc;         /* kept for the nodes' positions */
	struct fentity *entities;
	size_t nentities;
	struct fsource *sources;
	size_t nsources;
	struct fview *views;
	size_t nviews;
};

/*
 * Loads and checks the definitions file at `path` into *d (zeroed first).
 * 0, or -1 + err (RP_ERR_INPUT: "FILE:LINE:COL: ..." for a definition that
 * is wrong; RP_ERR_IO when the file cannot be read). Source files are not
 * opened here (events.h does). Release *d with fdefs_release, even on failure.
 */
int fdefs_load(struct fdefs *d, const char *path, struct rp_err *err);

/* Frees what *d owns and zeroes it. */
void fdefs_release(struct fdefs *d);

/* The feature named "view:feature", or NULL. */
const struct ffeature *fdefs_find(const struct fdefs *d, const char *full, const struct fview **view);

/* A selection of features, in the order asked for (or the file's order). */
struct fsel {
	const struct ffeature **f;
	const struct fview **view;   /* the view of each */
	size_t n;
};

/*
 * Fills *sel from the comma-separated list of full names `list`, or with
 * every feature in file order when `list` is NULL. An unknown name, a name
 * twice or an empty item is RP_ERR_INPUT naming it and the known features.
 * 0, or -1 + err. Free with fsel_release.
 */
int fdefs_select(const struct fdefs *d, const char *list, struct fsel *sel, struct rp_err *err);
void fsel_release(struct fsel *sel);
#endif
