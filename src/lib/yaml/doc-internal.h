/*
 * doc-internal.h - what the YAML document's files share, not for use
 * outside src/lib/yaml/ (the public interface is doc.h).
 *
 * The document is one design in five files:
 *     doc.c     the node model (allocation, copies, builders, invariants),
 *               access by key and path, and scalar typing
 *     load.c    loading: libyaml events into nodes, anchors, merge keys,
 *               the size, node and depth limits
 *     docbin.c  the binary form kept by the parsed-YAML cache (doccache.h)
 *     json.c    canonical JSON (what enters cache keys and the lock) and
 *               display text
 *     toml.c    loading TOML (params and vars files named *.toml) into the
 *               same tree; doc.c's doc_load_buf() picks the loader by the
 *               file name's extension
 * Parsing and decoding enforce the same limits, so that a cached document
 * can never be one that parsing would have refused.
 *
 * Include yaml/doc.h before this header. It does not include doc.h itself:
 * the layering check takes every header for a module of its own, and doc.c
 * includes this one, so an include of doc.h here would read as a cycle.
 */
#ifndef RP_DOC_INTERNAL_H
#define RP_DOC_INTERNAL_H

#ifndef RP_DOC_H
#error "include yaml/doc.h before yaml/doc-internal.h"
#endif

#include <stddef.h>

/* a file larger than this is refused before parsing (see doc.h) */
#define DOC_MAX_BYTES (32u << 20)
/* at most this many nodes in a document, aliases expanded (see doc.h) */
#define DOC_MAX_NODES 1000000
/* and at most this many levels of nested collections */
#define DOC_MAX_DEPTH 256

/*
 * The number of elements that an items[] or keys[] array of `n` > 0
 * elements has room for (0 for n = 0): every such array is allocated with
 * this capacity, so that node_append() can grow it without storing one.
 */
size_t node_cap(size_t n);
/*
 * A new empty node of `kind` at 1-based `line` and `col` of `file` (borrowed;
 * it must live as long as the node). The caller owns it (node_free()).
 */
struct node *node_alloc(enum node_kind kind, const char *file, int line, int col);
/*
 * Frees a node's text and arrays and the node itself, but not its children:
 * for a caller that has moved them elsewhere. NULL does nothing.
 */
void node_free_shell(struct node *n);
/*
 * The loaders behind doc_load_buf(), which picks one by the extension of
 * `name`: YAML (load.c; also JSON, which YAML 1.2 reads) and TOML (toml.c).
 * Same contract as doc_load_buf(): a new doc, or NULL with `err` filled
 * ("NAME:LINE:COL: ...", RP_ERR_INPUT).
 */
struct doc *yaml_load_buf(const char *name, const char *data, size_t len, struct rp_err *err);
struct doc *toml_load_buf(const char *name, const char *data, size_t len, struct rp_err *err);
/* Whether `s` is a YAML 1.2 infinity or NaN (".inf", "-.Inf", ".nan" ...). */
int scalar_is_special_float(const char *s);

#endif
