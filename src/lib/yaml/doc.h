/*
 * doc.h - a YAML document as a tree of nodes that remember where they came from.
 *
 * Every pipeline-facing file (rp.yaml, params files, rp.lock, .rp/config) is
 * loaded with doc_load_file() into a tree of struct node. The parser is
 * chosen by the file name's extension, as DVC chooses it: "*.toml" is TOML
 * 1.0, "*.py" is refused (Python params files are not read), anything else
 * (.yaml, .yml, .json, no extension) is YAML, which reads JSON too. Each node keeps the
 * file name and the 1-based line and column of its first character, so that
 * errors read "rp.yaml:12:5: stage 'train': 'deps' must be a list".
 *
 * Anchors and aliases are resolved (an alias node is a deep copy of its anchor,
 * with a limit on total nodes so alias bombs fail cleanly). Merge keys (<<) are
 * supported. Map keys keep their file order; duplicates are an error.
 *
 * Limits, each a clean RP_ERR_INPUT: a file of at most 32 MiB (larger ones,
 * or endless ones such as /dev/zero, are refused after reading 32 MiB), at
 * most 1,000,000 nodes (aliases expanded) and 256 levels of nesting.
 *
 * Implemented in five files (doc-internal.h says what they share): doc.c
 * (the node model, access, scalar typing, the loader by extension), load.c
 * (parsing YAML and reading files), toml.c (parsing TOML), docbin.c (the
 * binary form for doccache.h) and json.c (canonical JSON and display text).
 */
#ifndef RP_DOC_H
#define RP_DOC_H

#include <stddef.h>
#include "util/buf.h"
#include "util/error.h"

enum node_kind { NODE_SCALAR, NODE_SEQ, NODE_MAP };

/* How a plain scalar reads as a value (YAML 1.2 core schema). */
enum scalar_type { SCALAR_STR, SCALAR_NULL, SCALAR_BOOL, SCALAR_INT, SCALAR_FLOAT };

struct node {
	enum node_kind kind;
	char *str;              /* scalar text (NODE_SCALAR) */
	int quoted;             /* scalar was quoted or block (so always a string) */
	size_t n;               /* number of items (seq) or pairs (map) */
	struct node **items;    /* seq items; map values */
	struct node **keys;     /* map keys (scalars), parallel to items; NULL for seq */
	const char *file;       /* borrowed: the name given to doc_load_*; lives with the doc */
	int line, col;          /* 1-based position of the node's start */
};

struct doc {
	char *file;             /* the name used in messages */
	struct node *root;      /* NULL for an empty document */
};

/*
 * Parses the file at `path` (YAML, or TOML by extension); no cache is involved (doccache.h wraps
 * this for the callers that want one). Returns a new doc (free with doc_free) or
 * NULL with `err` filled ("path:line:col: message", kind RP_ERR_INPUT for bad
 * YAML, RP_ERR_IO when the file cannot be read).
 */
struct doc *doc_load_file(const char *path, struct rp_err *err);
/*
 * Reads the file at `path` into `b` (appended), as doc_load_file() does
 * before parsing: a file over the size limit is read only one byte past it,
 * so that the parse refuses it at once. 0, or -1 + err (RP_ERR_IO).
 */
int doc_read_file(const char *path, struct buf *b, struct rp_err *err);
/*
 * As doc_load_file() for `len` bytes at `data`, named `name` in messages;
 * `name`'s extension picks the parser as for doc_load_file(). A TOML
 * document's root is always a map (an empty one for an empty file); its
 * strings and date-times are quoted scalars, its integers decimal text, its
 * floats plain text that reads as a float (inf and nan as .inf and .nan).
 */
struct doc *doc_load_buf(const char *name, const char *data, size_t len, struct rp_err *err);
/* Appends the binary form of `d` (bin.h encoding; for doccache.h). */
void doc_encode(const struct doc *d, struct buf *b);
struct bin_reader;
/*
 * A doc read back from doc_encode()'s bytes at `r`, named `name`, or NULL
 * (with r->bad set) when they are malformed; limits as for parsing.
 */
struct doc *doc_decode(const char *name, struct bin_reader *r);
/* Frees the doc and every node in it. doc_free(NULL) does nothing. */
void doc_free(struct doc *d);

/*
 * Fills `err` (RP_ERR_INPUT; may be NULL) with the formatted message placed
 * at `at`: "FILE:LINE:COL: MSG", "FILE: MSG" for a node without a position,
 * "MSG" for no node or a node without a file. Returns -1. rp's one way of
 * saying where in a user's YAML file the problem is.
 */
int node_fail(struct rp_err *err, const struct node *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Map lookup by key; returns a node owned by the map, or NULL. */
struct node *node_get(const struct node *map, const char *key);
/*
 * Follows a dotted path with indexes, "a.b", "a.l[0]", "models.small.id",
 * from `root`. Returns a node owned by the tree, or NULL if any step is missing.
 */
struct node *node_lookup(const struct node *root, const char *path);
/* The type a scalar reads as (quoted scalars are always SCALAR_STR). */
enum scalar_type node_scalar_type(const struct node *n);
/* Deep copy; the caller frees with node_free(). File names stay borrowed. */
struct node *node_dup(const struct node *n);
/* Frees a node tree made by node_dup/node_new_*. */
void node_free(struct node *n);
/* Builders for synthesized trees (file "<generated>", line 0). Caller owns. */
struct node *node_new_scalar(const char *s, int quoted);
struct node *node_new_seq(void);
struct node *node_new_map(void);
/* Appends to a seq (key NULL) or map; takes ownership of `key` copy and `val`. */
void node_append(struct node *parent, const char *key, struct node *val);

/*
 * Appends the canonical JSON encoding of `n` to `out`: map keys sorted
 * bytewise, no whitespace, plain scalars typed (null, true/false, integers
 * normalised to decimal, floats to %.17g), everything else a JSON string.
 * Two YAML texts that mean the same value encode identically; this is what
 * enters cache keys and the lock.
 */
void node_canonical(const struct node *n, struct buf *out);
/*
 * Writes the shortest decimal text of `v` that reads back as the same double
 * (%.15g to %.17g), with ".0" added when it would look like an integer.
 */
void format_double(double v, char *out, size_t n);
/* A short human text for a value: the scalar itself, else canonical JSON. Caller frees. */
char *node_to_display(const struct node *n);

#endif
