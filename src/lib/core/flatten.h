/*
 * flatten.h - a YAML/JSON value as a list of leaves, "a.b[0].c" = value.
 *
 * Used by `rp params diff` and `rp metrics`, which compare values leaf by leaf.
 */
#ifndef RP_FLATTEN_H
#define RP_FLATTEN_H

#include <stddef.h>
#include "yaml/doc.h"

struct leaf {
	char *key;      /* dotted path; `prefix` itself for a scalar root */
	char *value;    /* display text of the scalar (node_to_display) */
	int numeric;    /* value reads as an int or a float */
	double num;
	const struct node *node;   /* the leaf in the tree given to flatten() (borrowed) */
};

struct leaves {
	struct leaf *l;
	size_t n, alloc;
};

/* Appends the leaves of `n` under `prefix` (may be "" or NULL) to `out`. */
void flatten(const struct node *n, const char *prefix, struct leaves *out);
/* The leaf with `key`, or NULL. */
const struct leaf *leaves_find(const struct leaves *ls, const char *key);
void leaves_release(struct leaves *ls);

#endif
