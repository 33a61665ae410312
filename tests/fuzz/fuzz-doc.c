/*
 * fuzz-doc.c - libFuzzer target for YAML documents (doc.c), as params files,
 * vars files and every other pipeline-facing YAML is loaded.
 *
 * Input: the first line is a lookup path for node_lookup() ("a.b[0]"), the
 * rest is the YAML text. The document is loaded with doc_load_buf(), encoded
 * with node_canonical() and node_to_display(), deep-copied (node_dup) and the
 * copy must encode identically, as must the doc read back from its binary
 * form (doc_encode/doc_decode, the parsed-YAML cache), with every node's line
 * and column; the path and a few fixed ones are looked up and the nodes found
 * are encoded too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/bin.h"
#include "yaml/doc.h"

static const char *const fixed_paths[] = {
	"a", "a.b", "a[0]", "a.b[1].c", "[0]", "", ".", "a..b", "a[", "a[]", "a[-1]",
	"a[99999999999999999999]",
};

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
	if (!back || r.p != r.end || !!back->root != !!d->root ||
	    (d->root && !same_tree(d->root, back->root)))
		BUG("doc_decode(doc_encode(d)) differs from d");
	doc_free(back);
	/* every truncation is refused cleanly */
	for (size_t cut = 0; cut < b.len; cut += 1 + b.len / 16) {
		r.p = (const unsigned char *)b.s;
		r.end = r.p + cut;
		r.bad = 0;
		back = doc_decode(d->file, &r);
		if (back && r.p == r.end && cut < b.len && d->root)
			BUG("a truncated binary doc was read back whole");
		doc_free(back);
	}
	buf_release(&b);
}

static void visit(const struct node *n)
{
	struct buf b = BUF_INIT;
	char *s;

	node_canonical(n, &b);
	buf_release(&b);
	s = node_to_display(n);
	free(s);
	if (n->kind == NODE_SCALAR)
		(void)node_scalar_type(n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - (const char *)data) : 0;
	const char *yaml = nl ? nl + 1 : (const char *)data;
	size_t ylen = size - (nl ? plen + 1 : 0);
	struct rp_err err = { 0 };
	struct buf a = BUF_INIT, b = BUF_INIT;
	struct node *copy, *found;
	struct doc *d;
	char *path;

	/* the same bytes read as a binary doc (a corrupt parse cache) never crash */
	{
		struct bin_reader r = { data, data + size, 0 };
		struct doc *junk = doc_decode("junk", &r);

		doc_free(junk);
	}
	d = doc_load_buf("params.yaml", yaml, ylen, &err);
	if (!d) {
		if (err.kind == RP_ERR_NONE || !err.msg[0])
			BUG("doc_load_buf failed without a message");
		return 0;
	}
	check_binary_form(d);
	if (!d->root) {
		doc_free(d);
		return 0;
	}
	node_canonical(d->root, &a);
	copy = node_dup(d->root);
	node_canonical(copy, &b);
	if (a.len != b.len || memcmp(a.s, b.s, a.len))
		BUG("node_dup changed the value:\n%s\n%s", a.s, b.s);
	node_free(copy);
	buf_release(&a);
	buf_release(&b);
	visit(d->root);

	path = xstrndup((const char *)data, plen);
	if ((found = node_lookup(d->root, path)))
		visit(found);
	free(path);
	for (size_t i = 0; i < sizeof(fixed_paths) / sizeof(*fixed_paths); i++)
		if ((found = node_lookup(d->root, fixed_paths[i])))
			visit(found);
	doc_free(d);
	return 0;
}
