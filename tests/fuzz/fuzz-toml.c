/*
 * fuzz-toml.c - libFuzzer target for TOML params and vars files (toml.c),
 * loaded as doc_load_buf("params.toml", ...) loads them.
 *
 * Input: the TOML text. A failure must come with a message of the form
 * "params.toml:LINE:COL: what; how to fix", LINE within the text. A document
 * must be a tree that the rest of rp can rely on: a map at the root; every
 * node named params.toml, at a line within the text and a column >= 1;
 * collections with no parse flag left in `quoted`; map keys unique quoted
 * scalars; every plain scalar typed as TOML meant it (a bool, an integer in
 * canonical decimal, a float), never a string or null. The tree must also
 * survive node_dup(), the binary form of the parse cache (doc_encode and
 * doc_decode, positions included) and a second parse unchanged, and its
 * canonical JSON, read back as YAML, must be the same value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bin.h"
#include "yaml/doc.h"

/* Same kinds, text, quoting and positions everywhere. */
static int same_tree(const struct node *x, const struct node *y)
{
	if (x->kind != y->kind || x->quoted != y->quoted || x->line != y->line ||
	    x->col != y->col || x->n != y->n || !x->keys != !y->keys)
		return 0;
	if (x->kind == NODE_SCALAR)
		return !strcmp(x->str, y->str);
	for (size_t i = 0; i < x->n; i++)
		if ((x->keys && !same_tree(x->keys[i], y->keys[i])) ||
		    !same_tree(x->items[i], y->items[i]))
			return 0;
	return 1;
}

static void check_node(const struct doc *d, const struct node *n, int lines)
{
	if (n->file != d->file || n->line < 1 || n->line > lines || n->col < 1)
		BUG("node at %s:%d:%d is outside the text (%d lines)", n->file, n->line, n->col,
		    lines);
	if (n->kind == NODE_SCALAR) {
		enum scalar_type t = node_scalar_type(n);

		if (!n->str || n->n || n->items || n->keys)
			BUG("malformed scalar at %d:%d", n->line, n->col);
		if (!n->quoted && (t == SCALAR_STR || t == SCALAR_NULL))
			BUG("plain scalar '%s' at %d:%d is not a bool or a number", n->str,
			    n->line, n->col);
		if (!n->quoted && t == SCALAR_INT) {
			char back[32];

			snprintf(back, sizeof(back), "%lld", strtoll(n->str, NULL, 10));
			if (strcmp(back, n->str))
				BUG("integer '%s' is not in canonical decimal", n->str);
		}
		return;
	}
	if (n->quoted)
		BUG("collection at %d:%d kept parse flags %d", n->line, n->col, n->quoted);
	if ((n->kind == NODE_MAP) != (n->keys != NULL) && n->n)
		BUG("map without keys or seq with keys at %d:%d", n->line, n->col);
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys) {
			if (n->keys[i]->kind != NODE_SCALAR || !n->keys[i]->quoted)
				BUG("key at %d:%d is not a quoted scalar", n->keys[i]->line,
				    n->keys[i]->col);
			check_node(d, n->keys[i], lines);
			for (size_t j = 0; j < i; j++)
				if (!strcmp(n->keys[i]->str, n->keys[j]->str))
					BUG("duplicate key '%s' in a loaded table", n->keys[i]->str);
		}
		check_node(d, n->items[i], lines);
	}
}

static void check_error(const struct rp_err *err, int lines)
{
	int line = 0, col = 0, used = 0;

	if (err->kind != RP_ERR_INPUT || !err->msg[0])
		BUG("doc_load_buf failed without an input error");
	if (sscanf(err->msg, "params.toml:%d:%d: %n", &line, &col, &used) != 2 || !used ||
	    line < 1 || line > lines || col < 1)
		BUG("error without a valid position: %s", err->msg);
	if (!strstr(err->msg + used, "; "))
		BUG("error without a way to fix it: %s", err->msg);
}

static void check_binary_form(const struct doc *d)
{
	struct buf b = BUF_INIT;
	struct bin_reader r;
	struct doc *back;

	doc_encode(d, &b);
	r.p = (const unsigned char *)b.s;
	r.end = r.p + b.len;
	r.bad = 0;
	back = doc_decode(d->file, &r);
	if (!back || r.p != r.end || !back->root || !same_tree(d->root, back->root))
		BUG("doc_decode(doc_encode(d)) differs from d");
	doc_free(back);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct rp_err err = { 0 };
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct doc *d, *again, *yaml;
	struct node *copy;
	int lines = 1;

	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	d = doc_load_buf("params.toml", text, size, &err);
	if (!d) {
		check_error(&err, lines);
		return 0;
	}
	if (!d->root || d->root->kind != NODE_MAP)
		BUG("a TOML document's root is not a map");
	check_node(d, d->root, lines);
	check_binary_form(d);

	node_canonical(d->root, &a);
	copy = node_dup(d->root);
	node_canonical(copy, &b);
	if (a.len != b.len || memcmp(a.s, b.s, a.len))
		BUG("node_dup changed the value:\n%s\n%s", a.s, b.s);
	node_free(copy);

	again = doc_load_buf("params.toml", text, size, &err);
	if (!again || !same_tree(d->root, again->root))
		BUG("a second parse of the same text differs");
	doc_free(again);

	/*
	 * the canonical JSON is a YAML text of the same value (unless a string
	 * holds a character that YAML does not allow unescaped, such as U+FFFF
	 * or a C1 control, which TOML and canonical JSON take as they are)
	 */
	buf_reset(&b);
	yaml = doc_load_buf("params.json", a.s, a.len, &err);
	if (!yaml && !strstr(err.msg, "control characters are not allowed"))
		BUG("the canonical JSON of a TOML document is not YAML: %s\n%s", err.msg, a.s);
	if (yaml) {
		node_canonical(yaml->root, &b);
		if (a.len != b.len || memcmp(a.s, b.s, a.len))
			BUG("TOML and its JSON read as YAML differ:\n%s\n%s", a.s, b.s);
		doc_free(yaml);
	}

	buf_release(&a);
	buf_release(&b);
	free(node_to_display(d->root));
	doc_free(d);
	return 0;
}
