/*
 * jsonout.h - what the commands' --json options share: printing the one
 * document, and values of params and metrics files as typed JSON.
 */
#ifndef RP_JSONOUT_H
#define RP_JSONOUT_H

#include <jansson.h>

#include "core/flatten.h"
#include "yaml/doc.h"

/*
 * Prints `root` on stdout as one JSON document: keys sorted, indented by
 * two spaces, reals to 15 significant digits, then a newline. Takes
 * ownership of `root` (NULL prints nothing). 0, or -1 when stdout could not
 * be written (reported).
 */
int json_out_print(json_t *root);

/*
 * A JSON string of `s` (NULL: null). JSON text is UTF-8 and a path or a
 * stage name may not be: each byte that does not belong to a valid UTF-8
 * sequence becomes U+FFFD. A new reference.
 */
json_t *json_out_str(const char *s);
/* Sets obj[key] = v (stolen), the key made valid UTF-8 as json_out_str does. */
void json_out_set(json_t *obj, const char *key, json_t *v);
/* obj[key], made an empty object when absent (borrowed; key as json_out_set). */
json_t *json_out_child(json_t *obj, const char *key);

/*
 * The value of node `n` as JSON, typed as the lock types it (yaml/doc.h,
 * node_canonical: numbers, true/false, null, strings, arrays, objects); an
 * integer beyond 64 bits, or inf/nan, as its text. NULL gives JSON null. A
 * new reference.
 */
json_t *json_out_node(const struct node *n);

/*
 * What `rp metrics diff` and `rp params diff` say about one leaf, in DVC's
 * shape: {"old": OLD, "new": NEW, "diff": NEW - OLD}, where a missing side
 * (NULL) is null and "diff" is there only when both are numbers. A new
 * reference.
 */
json_t *json_out_change(const struct leaf *old, const struct leaf *new);

#endif
