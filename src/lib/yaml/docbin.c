/*
 * docbin.c - a document in binary form (util/bin.h encoding), the form in
 * which the parsed-YAML cache (doccache.h) keeps documents.
 *
 * Format: a u8 that is 1 when the document has a root, then the root node.
 * A node is a u8 kind (enum node_kind, | 4 when quoted), u32 line, u32 col,
 * then a scalar's text (bin_put_str) or a collection's u32 count followed by
 * its items, each map item preceded by its key node.
 *
 * Decoding trusts nothing: a cache file may be truncated or corrupt. Kinds,
 * positions, counts (against the bytes left), depth (DOC_MAX_DEPTH), node
 * total (DOC_MAX_NODES) and scalar keys are checked, so a decoded document
 * keeps every invariant of a parsed one; anything else sets r->bad.
 */
#include <stdint.h>
#include <stdlib.h>

#include "yaml/doc.h"
#include "yaml/doc-internal.h"
#include "util/bin.h"

static void encode_node(const struct node *n, struct buf *b)
{
	bin_put_u8(b, (unsigned)n->kind | (n->quoted ? 4u : 0u));
	bin_put_u32(b, (uint32_t)n->line);
	bin_put_u32(b, (uint32_t)n->col);
	if (n->kind == NODE_SCALAR) {
		bin_put_str(b, n->str);
		return;
	}
	bin_put_u32(b, (uint32_t)n->n);
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			encode_node(n->keys[i], b);
		encode_node(n->items[i], b);
	}
}

void doc_encode(const struct doc *d, struct buf *b)
{
	bin_put_u8(b, d->root != NULL);
	if (d->root)
		encode_node(d->root, b);
}

/* The smallest encoded node: kind, line, col and an empty string or count. */
#define MIN_NODE_BYTES (1 + 4 + 4 + 4)

static struct node *decode_node(struct bin_reader *r, const char *file, int depth, size_t *left)
{
	unsigned k = bin_get_u8(r);
	enum node_kind kind = (enum node_kind)(k & 3);
	struct node *n;
	size_t count;
	int line, col;

	line = (int)bin_get_u32(r);
	col = (int)bin_get_u32(r);
	if (r->bad || k > 6 || (k & 3) > NODE_MAP || depth > DOC_MAX_DEPTH || !*left ||
	    line < 0 || col < 0) {
		r->bad = 1;
		return NULL;
	}
	--*left;
	n = node_alloc(kind, file, line, col);
	n->quoted = (k & 4) != 0;
	if (kind == NODE_SCALAR) {
		n->str = bin_get_str(r);
		return n;
	}
	count = bin_get_count(r, kind == NODE_MAP ? 2 * MIN_NODE_BYTES : MIN_NODE_BYTES);
	if (!count)
		return n;
	n->items = xcalloc(node_cap(count), sizeof(*n->items));
	if (kind == NODE_MAP)
		n->keys = xcalloc(node_cap(count), sizeof(*n->keys));
	for (size_t i = 0; i < count && !r->bad; i++) {
		struct node *key = NULL, *val;

		if (kind == NODE_MAP) {
			key = decode_node(r, file, depth + 1, left);
			if (!key || key->kind != NODE_SCALAR) {
				node_free(key);
				r->bad = 1;
				break;
			}
		}
		val = decode_node(r, file, depth + 1, left);
		if (!val) {
			node_free(key);
			break;
		}
		if (n->keys)
			n->keys[i] = key;
		n->items[i] = val;
		n->n = i + 1;
	}
	return n;
}

struct doc *doc_decode(const char *name, struct bin_reader *r)
{
	struct doc *d = xcalloc(1, sizeof(*d));
	size_t left = DOC_MAX_NODES;

	d->file = xstrdup(name);
	if (bin_get_u8(r))
		d->root = decode_node(r, d->file, 0, &left);
	if (r->bad) {
		doc_free(d);
		return NULL;
	}
	return d;
}
