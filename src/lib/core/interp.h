/*
 * interp.h - ${...} interpolation of strings against a vars tree, as DVC does.
 *
 * "${a.b}", "${a.l[0]}", "${a.l.0}", "${a.m[key]}", "${item}", "${key}" are
 * looked up in the context map (interp_lookup()). "\${" is a literal "${";
 * "$${x}" is a '$' followed by the value of x, as DVC reads it. A scalar is
 * written as DVC writes it (interp_scalar_text()): true/false, None, 1e-05.
 * A string that is exactly one "${x}" may resolve to a whole seq or map
 * (interp_node), which foreach uses; in a command a mapping becomes
 * command-line flags (--lr 0.01 --layers 64 32 --shuffle).
 */
#ifndef RP_INTERP_H
#define RP_INTERP_H

#include "yaml/doc.h"

enum interp_flags {
	INTERP_CMD = 1 << 0,      /* the string is a command: a mapping becomes flags */
};

/*
 * Replaces every ${...} in `s` with the value it names in `ctx` (a map).
 * Returns a new string (caller frees) or NULL with `err` filled: an undefined
 * name ("undefined variable 'x'"), a list or (outside a command) a mapping
 * used inside a longer string, a list nested in a list in a command's
 * mapping, or an unterminated "${". `where` is the node the string came
 * from, for file:line:col in the message (may be NULL).
 */
char *interp_string_flags(const char *s, const struct node *ctx, const struct node *where,
			  unsigned flags, struct rp_err *err);
/* interp_string_flags() with no flags. */
char *interp_string(const char *s, const struct node *ctx, const struct node *where,
		    struct rp_err *err);

/*
 * If `s` is exactly "${path}", returns the node it names (borrowed from ctx)
 * or NULL with err filled when undefined; if `s` is not a lone reference,
 * returns NULL with err->kind == RP_ERR_NONE.
 */
const struct node *interp_node(const char *s, const struct node *ctx,
			       const struct node *where, struct rp_err *err);

/*
 * The node that `name` names in `ctx`, as DVC selects it: "[k]" is read as
 * ".k", the name is cut at each '.', each part trimmed of blanks; a part
 * indexes a map by key and a list by a decimal index (negative from the
 * end). NULL when any step is missing. Borrowed from ctx.
 */
const struct node *interp_lookup(const struct node *ctx, const char *name);

/*
 * A scalar as DVC's to_str() writes it: a string as is, a boolean as
 * "true"/"false", null as "None", an integer in decimal, a float as
 * Python's repr ("0.001", "1e-05", "1.0", "inf"). A seq or map is its
 * canonical JSON. Newly allocated; the caller frees it.
 */
char *interp_scalar_text(const struct node *n);

#endif
