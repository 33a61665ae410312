/*
 * interp.h - ${...} interpolation of strings against a vars tree.
 *
 * "${a.b}", "${a.l[0]}", "${item}", "${key}" are looked up with node_lookup()
 * in the context map. "$${" is a literal "${". A string that is exactly one
 * "${x}" may resolve to a whole seq or map (interp_node), which foreach uses.
 */
#ifndef RP_INTERP_H
#define RP_INTERP_H

#include "yaml/doc.h"

/*
 * Replaces every ${...} in `s` with the scalar it names in `ctx` (a map).
 * Returns a new string (caller frees) or NULL with `err` filled: an undefined
 * name ("undefined variable 'x'"), a non-scalar used inside a longer string,
 * or an unterminated "${". `where` is the node the string came from, for
 * file:line:col in the message (may be NULL).
 */
char *interp_string(const char *s, const struct node *ctx, const struct node *where,
		    struct rp_err *err);

/*
 * If `s` is exactly "${path}", returns the node it names (borrowed from ctx)
 * or NULL with err filled when undefined; if `s` is not a lone reference,
 * returns NULL with err->kind == RP_ERR_NONE.
 */
const struct node *interp_node(const char *s, const struct node *ctx,
			       const struct node *where, struct rp_err *err);

#endif
