/*
 * doc.c - load YAML into a tree of struct node, and encode values canonically.
 *
 * libyaml's event parser (yaml_parser_parse) drives a recursive loader: each
 * node start event becomes a struct node that records the file name (borrowed
 * from the doc) and the 1-based line and column of the event's start mark.
 * Errors read "FILE:LINE:COL: message" with kind RP_ERR_INPUT.
 *
 * Anchors: when a node with an anchor is complete, the loader keeps a private
 * deep copy of it (so that later merges, which move nodes around, cannot leave
 * the anchor dangling); an alias becomes a fresh deep copy of that. Every node
 * made, including copies, counts towards DOC_MAX_NODES, and collections may
 * nest at most DOC_MAX_DEPTH deep, so alias bombs and deep nesting fail cleanly
 * before using much memory or stack.
 *
 * Maps: a plain "<<" key merges the pairs of its value (a map, or a seq of
 * maps where earlier maps win) into the enclosing map after its explicit keys;
 * explicit keys always win. Duplicate explicit keys are an error. Keys must be
 * scalars; they are compared by their text, so `1` and "1" are the same key.
 *
 * Invariants: a map's keys[] and items[] are parallel; keys is NULL for a seq.
 * Arrays of n > 0 elements have room for node_cap(n) elements, so that
 * node_append() can grow them by doubling without storing a capacity.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "yaml/doc.h"
#include "util/bin.h"

#define DOC_MAX_NODES 1000000
#define DOC_MAX_DEPTH 256
/* a YAML file larger than this is refused before parsing (see doc.h) */
#define DOC_MAX_BYTES (32u << 20)

static const char generated_file[] = "<generated>";

/* Capacity that an array of `n` node pointers is allocated with. */
static size_t node_cap(size_t n)
{
	size_t c = 4;

	if (!n)
		return 0;
	while (c < n)
		c *= 2;
	return c;
}

static struct node *node_alloc(enum node_kind kind, const char *file, int line, int col)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->file = file;
	n->line = line;
	n->col = col;
	return n;
}

/* Frees a node's arrays and the node itself, but not its children. */
static void node_free_shell(struct node *n)
{
	if (!n)
		return;
	free(n->str);
	free(n->items);
	free(n->keys);
	free(n);
}

void node_free(struct node *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->n; i++) {
		node_free(n->items[i]);
		if (n->keys)
			node_free(n->keys[i]);
	}
	node_free_shell(n);
}

struct node *node_dup(const struct node *n)
{
	struct node *c;
	size_t i;

	if (!n)
		return NULL;
	c = node_alloc(n->kind, n->file, n->line, n->col);
	c->quoted = n->quoted;
	if (n->str)
		c->str = xstrdup(n->str);
	c->n = n->n;
	if (n->n) {
		c->items = xcalloc(node_cap(n->n), sizeof(*c->items));
		if (n->keys)
			c->keys = xcalloc(node_cap(n->n), sizeof(*c->keys));
	}
	for (i = 0; i < n->n; i++) {
		c->items[i] = node_dup(n->items[i]);
		if (n->keys)
			c->keys[i] = node_dup(n->keys[i]);
	}
	return c;
}

/* Number of nodes in the tree at `n`, keys included. */
static size_t node_count(const struct node *n)
{
	size_t i, total = 1;

	for (i = 0; i < n->n; i++) {
		total += node_count(n->items[i]);
		if (n->keys)
			total += node_count(n->keys[i]);
	}
	return total;
}

struct node *node_new_scalar(const char *s, int quoted)
{
	struct node *n = node_alloc(NODE_SCALAR, generated_file, 0, 0);

	n->str = xstrdup(s ? s : "");
	n->quoted = quoted;
	return n;
}

struct node *node_new_seq(void)
{
	return node_alloc(NODE_SEQ, generated_file, 0, 0);
}

struct node *node_new_map(void)
{
	return node_alloc(NODE_MAP, generated_file, 0, 0);
}

void node_append(struct node *parent, const char *key, struct node *val)
{
	size_t n = parent->n;

	if (parent->kind == NODE_SCALAR)
		BUG("node_append to a scalar");
	if ((parent->kind == NODE_MAP) != (key != NULL))
		BUG("node_append: a key is needed for a map and only for a map");
	if (n == node_cap(n)) {
		size_t c = node_cap(n + 1);

		parent->items = xrealloc(parent->items, c * sizeof(*parent->items));
		if (key)
			parent->keys = xrealloc(parent->keys, c * sizeof(*parent->keys));
	}
	parent->items[n] = val;
	if (key)
		parent->keys[n] = node_new_scalar(key, 0);
	parent->n = n + 1;
}

/* ---- loading ---- */

struct anchor {
	char *name;
	struct node *node;      /* private copy, owned by the loader */
	size_t size;            /* node_count(node) */
};

struct loader {
	yaml_parser_t parser;
	const char *file;       /* doc->file */
	const char *data;
	size_t len;
	struct rp_err *err;
	size_t nodes;
	int depth;
	struct anchor *anchors;
	size_t nr_anchors, alloc_anchors;
};

static int load_error(struct loader *l, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int load_error(struct loader *l, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	rp_err_set(l->err, RP_ERR_INPUT, "%s:%zu:%zu: %s", l->file,
		   m->line + 1, m->column + 1, msg);
	free(msg);
	return -1;
}

/* Fills l->err from a libyaml parser failure. */
static void parser_error(struct loader *l)
{
	yaml_parser_t *p = &l->parser;
	yaml_mark_t m = p->problem_mark;
	const char *problem = p->problem ? p->problem : "invalid YAML";

	if (p->error == YAML_MEMORY_ERROR) {
		rp_err_set(l->err, RP_ERR_INPUT, "%s: out of memory while parsing", l->file);
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		/* reader errors only have a byte offset */
		size_t i, off = p->problem_offset;

		memset(&m, 0, sizeof(m));
		for (i = 0; i < off && i < l->len; i++) {
			if (l->data[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
	}
	if (p->context)
		load_error(l, &m, "%s (%s started at line %zu)", problem, p->context,
			   p->context_mark.line + 1);
	else
		load_error(l, &m, "%s", problem);
}

static int next_event(struct loader *l, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&l->parser, ev)) {
		parser_error(l);
		return -1;
	}
	return 0;
}

/* Counts one more node made at `m`; fails past DOC_MAX_NODES. */
static int count_nodes(struct loader *l, const yaml_mark_t *m, size_t more, int alias)
{
	if (more > DOC_MAX_NODES || l->nodes + more > DOC_MAX_NODES) {
		if (alias)
			return load_error(l, m, "document too large (alias expansion exceeds %d nodes)",
					  DOC_MAX_NODES);
		return load_error(l, m, "document too large (more than %d nodes)", DOC_MAX_NODES);
	}
	l->nodes += more;
	return 0;
}

static const struct anchor *find_anchor(struct loader *l, const char *name)
{
	size_t i;

	for (i = l->nr_anchors; i > 0; i--)
		if (!strcmp(l->anchors[i - 1].name, name))
			return &l->anchors[i - 1];
	return NULL;
}

static void add_anchor(struct loader *l, const char *name, const struct node *n)
{
	struct anchor *a;

	ALLOC_GROW(l->anchors, l->nr_anchors + 1, l->alloc_anchors);
	a = &l->anchors[l->nr_anchors++];
	a->name = xstrdup(name);
	a->node = node_dup(n);
	a->size = node_count(n);
}

static struct node *load_node(struct loader *l, yaml_event_t *ev);

static struct node *load_seq(struct loader *l, yaml_event_t *start)
{
	yaml_mark_t m = start->start_mark;
	struct node *seq = node_alloc(NODE_SEQ, l->file, m.line + 1, m.column + 1);
	size_t alloc = 0;

	for (;;) {
		yaml_event_t ev;
		struct node *item;

		if (next_event(l, &ev) < 0)
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		item = load_node(l, &ev);
		if (!item)
			goto fail;
		ALLOC_GROW(seq->items, seq->n + 1, alloc);
		seq->items[seq->n++] = item;
	}
	return seq;
fail:
	node_free(seq);
	return NULL;
}

struct map_entry {
	struct node *key, *val;
	size_t ord;             /* explicit pairs first, then merged ones, in order */
};

static int cmp_entry(const void *a, const void *b)
{
	const struct map_entry *x = a, *y = b;
	int c = strcmp(x->key->str, y->key->str);

	if (c)
		return c;
	return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/*
 * Builds map->keys/items from the explicit pairs and the merge sources.
 * Takes ownership of all of them, even on failure.
 */
static int finish_map(struct loader *l, struct node *map,
		      struct node **keys, struct node **vals, size_t nr,
		      struct node **merges, size_t nr_merges)
{
	struct map_entry *e;
	struct node **shells = NULL;
	size_t nr_shells = 0, alloc_shells = 0;
	size_t total = nr, i, j, kept = 0;
	char *keep;
	struct node *dup = NULL;
	size_t dup_ord = 0;

	/* flatten merge sources into a list of maps, in priority order */
	for (i = 0; i < nr_merges; i++) {
		struct node *s = merges[i];

		if (s->kind == NODE_MAP) {
			ALLOC_GROW(shells, nr_shells + 1, alloc_shells);
			shells[nr_shells++] = s;
			total += s->n;
			continue;
		}
		for (j = 0; j < s->n; j++) {
			ALLOC_GROW(shells, nr_shells + 1, alloc_shells);
			shells[nr_shells++] = s->items[j];
			total += s->items[j]->n;
		}
		s->n = 0;       /* its maps are now listed in shells */
		node_free_shell(s);
	}
	free(merges);

	e = xcalloc(total ? total : 1, sizeof(*e));
	for (i = 0; i < nr; i++) {
		e[i].key = keys[i];
		e[i].val = vals[i];
		e[i].ord = i;
	}
	j = nr;
	for (i = 0; i < nr_shells; i++) {
		size_t k;

		for (k = 0; k < shells[i]->n; k++, j++) {
			e[j].key = shells[i]->keys[k];
			e[j].val = shells[i]->items[k];
			e[j].ord = j;
		}
		shells[i]->n = 0;
		node_free_shell(shells[i]);
	}
	free(shells);
	free(keys);
	free(vals);

	qsort(e, total, sizeof(*e), cmp_entry);
	keep = xcalloc(total ? total : 1, 1);
	for (i = 0; i < total; i++) {
		if (i && !strcmp(e[i - 1].key->str, e[i].key->str)) {
			/* a later duplicate: an error if explicit (report the first) */
			if (e[i].ord < nr && (!dup || e[i].ord < dup_ord)) {
				dup = e[i].key;
				dup_ord = e[i].ord;
			}
			continue;
		}
		keep[e[i].ord] = 1;
		kept++;
	}

	/* put entries back in file order, then move the kept ones into the map */
	{
		struct map_entry *by_ord = xcalloc(total ? total : 1, sizeof(*by_ord));

		for (i = 0; i < total; i++)
			by_ord[e[i].ord] = e[i];
		free(e);
		e = by_ord;
	}
	if (dup) {
		yaml_mark_t m;

		memset(&m, 0, sizeof(m));
		m.line = dup->line - 1;
		m.column = dup->col - 1;
		load_error(l, &m, "duplicate key '%s'", dup->str);
		for (i = 0; i < total; i++) {
			node_free(e[i].key);
			node_free(e[i].val);
		}
		free(e);
		free(keep);
		return -1;
	}
	if (kept) {
		map->keys = xcalloc(node_cap(kept), sizeof(*map->keys));
		map->items = xcalloc(node_cap(kept), sizeof(*map->items));
	}
	for (i = 0; i < total; i++) {
		if (keep[i]) {
			map->keys[map->n] = e[i].key;
			map->items[map->n++] = e[i].val;
		} else {
			node_free(e[i].key);
			node_free(e[i].val);
		}
	}
	free(e);
	free(keep);
	return 0;
}

static int is_merge_key(const struct node *k)
{
	return !k->quoted && !strcmp(k->str, "<<");
}

static int valid_merge_value(const struct node *v)
{
	size_t i;

	if (v->kind == NODE_MAP)
		return 1;
	if (v->kind != NODE_SEQ)
		return 0;
	for (i = 0; i < v->n; i++)
		if (v->items[i]->kind != NODE_MAP)
			return 0;
	return 1;
}

static struct node *load_map(struct loader *l, yaml_event_t *start)
{
	yaml_mark_t m = start->start_mark;
	struct node *map = node_alloc(NODE_MAP, l->file, m.line + 1, m.column + 1);
	struct node **keys = NULL, **vals = NULL, **merges = NULL;
	size_t nr = 0, alloc_keys = 0, alloc_vals = 0, nr_merges = 0, alloc_merges = 0;
	size_t i;

	for (;;) {
		yaml_event_t ev;
		yaml_mark_t km;
		struct node *key, *val;

		if (next_event(l, &ev) < 0)
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		km = ev.start_mark;
		key = load_node(l, &ev);
		if (!key)
			goto fail;
		if (key->kind != NODE_SCALAR) {
			node_free(key);
			load_error(l, &km, "mapping keys must be scalars");
			goto fail;
		}
		if (next_event(l, &ev) < 0) {
			node_free(key);
			goto fail;
		}
		val = load_node(l, &ev);
		if (!val) {
			node_free(key);
			goto fail;
		}
		if (is_merge_key(key)) {
			if (!valid_merge_value(val)) {
				yaml_mark_t vm;

				memset(&vm, 0, sizeof(vm));
				vm.line = val->line - 1;
				vm.column = val->col - 1;
				node_free(key);
				node_free(val);
				load_error(l, &vm, "merge key '<<' needs a mapping or a list of mappings");
				goto fail;
			}
			node_free(key);
			ALLOC_GROW(merges, nr_merges + 1, alloc_merges);
			merges[nr_merges++] = val;
			continue;
		}
		ALLOC_GROW(keys, nr + 1, alloc_keys);
		ALLOC_GROW(vals, nr + 1, alloc_vals);
		keys[nr] = key;
		vals[nr++] = val;
	}
	if (finish_map(l, map, keys, vals, nr, merges, nr_merges) < 0) {
		node_free(map);
		return NULL;
	}
	return map;
fail:
	for (i = 0; i < nr; i++) {
		node_free(keys[i]);
		node_free(vals[i]);
	}
	for (i = 0; i < nr_merges; i++)
		node_free(merges[i]);
	free(keys);
	free(vals);
	free(merges);
	node_free(map);
	return NULL;
}

/* Loads the node that starts with `ev`; always deletes `ev`. */
static struct node *load_node(struct loader *l, yaml_event_t *ev)
{
	yaml_mark_t m = ev->start_mark;
	struct node *n = NULL;
	char *anchor = NULL;

	switch (ev->type) {
	case YAML_ALIAS_EVENT: {
		const struct anchor *a = find_anchor(l, (const char *)ev->data.alias.anchor);

		if (!a) {
			load_error(l, &m, "unknown anchor '%s'", (const char *)ev->data.alias.anchor);
			break;
		}
		if (count_nodes(l, &m, a->size, 1) < 0)
			break;
		n = node_dup(a->node);
		n->line = m.line + 1;
		n->col = m.column + 1;
		break;
	}
	case YAML_SCALAR_EVENT: {
		const char *tag = (const char *)ev->data.scalar.tag;

		if (count_nodes(l, &m, 1, 0) < 0)
			break;
		n = node_alloc(NODE_SCALAR, l->file, m.line + 1, m.column + 1);
		n->str = xstrndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		if (tag && (!strcmp(tag, "!") || !strcmp(tag, YAML_STR_TAG)))
			n->quoted = 1;
		if (ev->data.scalar.anchor)
			anchor = xstrdup((const char *)ev->data.scalar.anchor);
		break;
	}
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		int is_seq = ev->type == YAML_SEQUENCE_START_EVENT;
		const yaml_char_t *a = is_seq ? ev->data.sequence_start.anchor
					      : ev->data.mapping_start.anchor;

		if (l->depth >= DOC_MAX_DEPTH) {
			load_error(l, &m, "nested too deeply (more than %d levels)", DOC_MAX_DEPTH);
			break;
		}
		if (count_nodes(l, &m, 1, 0) < 0)
			break;
		if (a)
			anchor = xstrdup((const char *)a);
		l->depth++;
		n = is_seq ? load_seq(l, ev) : load_map(l, ev);
		l->depth--;
		break;
	}
	default:
		load_error(l, &m, "unexpected YAML event");
		break;
	}
	yaml_event_delete(ev);
	if (n && anchor)
		add_anchor(l, anchor, n);
	free(anchor);
	return n;
}

/* Parses the stream; returns 0 and sets *root (NULL when empty), or -1. */
static int load_stream(struct loader *l, struct node **root)
{
	yaml_event_t ev;
	int ret = -1;

	*root = NULL;
	if (next_event(l, &ev) < 0)
		return -1;
	if (ev.type != YAML_STREAM_START_EVENT) {
		load_error(l, &ev.start_mark, "expected the start of a YAML stream");
		yaml_event_delete(&ev);
		return -1;
	}
	yaml_event_delete(&ev);

	if (next_event(l, &ev) < 0)
		return -1;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0;
	}
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		load_error(l, &ev.start_mark, "expected a YAML document");
		yaml_event_delete(&ev);
		return -1;
	}
	yaml_event_delete(&ev);

	if (next_event(l, &ev) < 0)
		return -1;
	*root = load_node(l, &ev);
	if (!*root)
		return -1;

	if (next_event(l, &ev) < 0)
		goto out;
	if (ev.type != YAML_DOCUMENT_END_EVENT) {
		load_error(l, &ev.start_mark, "expected the end of the document");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);

	if (next_event(l, &ev) < 0)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT) {
		load_error(l, &ev.start_mark, "multiple documents in one file are not supported");
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	ret = 0;
out:
	if (ret < 0) {
		node_free(*root);
		*root = NULL;
	}
	return ret;
}

struct doc *doc_load_buf(const char *name, const char *data, size_t len, struct rp_err *err)
{
	struct doc *d = xcalloc(1, sizeof(*d));
	struct loader l;
	struct node *root;
	size_t i;
	int ret;

	if (len > DOC_MAX_BYTES) {
		rp_err_set(err, RP_ERR_INPUT, "%s: file too large (more than %u MiB) for a "
			   "YAML file; keep bulk data in files that stages read", name,
			   DOC_MAX_BYTES >> 20);
		free(d);
		return NULL;
	}
	d->file = xstrdup(name);
	memset(&l, 0, sizeof(l));
	l.file = d->file;
	l.data = data;
	l.len = len;
	l.err = err;
	if (!yaml_parser_initialize(&l.parser)) {
		rp_err_set(err, RP_ERR_INPUT, "%s: cannot set up the YAML parser", name);
		doc_free(d);
		return NULL;
	}
	yaml_parser_set_input_string(&l.parser, (const unsigned char *)(data ? data : ""), len);
	ret = load_stream(&l, &root);
	yaml_parser_delete(&l.parser);
	for (i = 0; i < l.nr_anchors; i++) {
		free(l.anchors[i].name);
		node_free(l.anchors[i].node);
	}
	free(l.anchors);
	if (ret < 0) {
		doc_free(d);
		return NULL;
	}
	/* "---" alone or a lone empty scalar is an empty document */
	if (root && root->kind == NODE_SCALAR && !root->quoted && !*root->str) {
		node_free(root);
		root = NULL;
	}
	d->root = root;
	return d;
}

int doc_read_file(const char *path, struct buf *b, struct rp_err *err)
{
	char tmp[65536];
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	/* read at most one byte past the limit: /dev/zero or a 10 GB file named
	 * as a vars file must fail at once, not fill memory */
	while (fd >= 0 && b->len <= DOC_MAX_BYTES && (n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		buf_add(b, tmp, (size_t)n);
	}
	if (fd < 0 || n < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

struct doc *doc_load_file(const char *path, struct rp_err *err)
{
	struct buf b = BUF_INIT;
	struct doc *d = NULL;

	if (doc_read_file(path, &b, err) == 0)
		d = doc_load_buf(path, b.s, b.len, err);
	buf_release(&b);
	return d;
}

/* ---- binary form (the parsed-YAML cache, doccache.h) ---- */

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

void doc_free(struct doc *d)
{
	if (!d)
		return;
	node_free(d->root);
	free(d->file);
	free(d);
}

/* ---- access ---- */

struct node *node_get(const struct node *map, const char *key)
{
	size_t i;

	if (!map || map->kind != NODE_MAP || !key)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (!strcmp(map->keys[i]->str, key))
			return map->items[i];
	return NULL;
}

struct node *node_lookup(const struct node *root, const char *path)
{
	const struct node *cur = root;
	const char *p = path;

	if (!root || !path || !*path)
		return NULL;
	while (*p) {
		size_t len = strcspn(p, ".[]");
		size_t i;

		if (len) {
			const struct node *next = NULL;

			if (cur->kind != NODE_MAP)
				return NULL;
			for (i = 0; i < cur->n; i++) {
				const char *k = cur->keys[i]->str;

				if (!strncmp(k, p, len) && !k[len]) {
					next = cur->items[i];
					break;
				}
			}
			if (!next)
				return NULL;
			cur = next;
			p += len;
		} else if (*p != '[') {
			return NULL;    /* empty key, as in "a..b" or ".a" */
		}
		while (*p == '[') {
			char *end;
			unsigned long long idx;

			p++;
			if (*p < '0' || *p > '9')
				return NULL;
			errno = 0;
			idx = strtoull(p, &end, 10);
			if (errno || *end != ']')
				return NULL;
			if (cur->kind != NODE_SEQ || idx >= cur->n)
				return NULL;
			cur = cur->items[idx];
			p = end + 1;
		}
		if (*p == '.') {
			p++;
			if (!*p)
				return NULL;
		} else if (*p) {
			return NULL;
		}
	}
	return (struct node *)cur;
}

/* ---- scalar typing ---- */

static int all_in(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

static int is_int(const char *s)
{
	if (s[0] == '0' && s[1] == 'x')
		return all_in(s + 2, "0123456789abcdefABCDEF");
	if (s[0] == '0' && s[1] == 'o')
		return all_in(s + 2, "01234567");
	if (*s == '-' || *s == '+')
		s++;
	return all_in(s, "0123456789");
}

static int is_special_float(const char *s)
{
	static const char *const specials[] = {
		".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
		".nan", ".NaN", ".NAN",
	};
	size_t i;

	for (i = 0; i < sizeof(specials) / sizeof(*specials); i++)
		if (!strcmp(s, specials[i]))
			return 1;
	return 0;
}

static int is_float(const char *s)
{
	size_t digits = 0;

	if (is_special_float(s))
		return 1;
	if (*s == '-' || *s == '+')
		s++;
	while (*s >= '0' && *s <= '9')
		s++, digits++;
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9')
			s++, digits++;
	}
	if (!digits)
		return 0;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (*s < '0' || *s > '9')
			return 0;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return !*s;
}

enum scalar_type node_scalar_type(const struct node *n)
{
	static const char *const nulls[] = { "null", "Null", "NULL", "~", "" };
	static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE" };
	size_t i;

	if (!n)
		return SCALAR_NULL;
	if (n->kind != NODE_SCALAR || n->quoted)
		return SCALAR_STR;
	/* most scalars are names and paths: decide those on the first byte */
	if (!strchr("nN~tTfF+-.0123456789", n->str[0]))
		return SCALAR_STR;
	for (i = 0; i < sizeof(nulls) / sizeof(*nulls); i++)
		if (!strcmp(n->str, nulls[i]))
			return SCALAR_NULL;
	for (i = 0; i < sizeof(bools) / sizeof(*bools); i++)
		if (!strcmp(n->str, bools[i]))
			return SCALAR_BOOL;
	if (is_int(n->str))
		return SCALAR_INT;
	if (is_float(n->str))
		return SCALAR_FLOAT;
	return SCALAR_STR;
}

/* ---- canonical JSON ---- */

static void add_int(struct buf *out, const char *s)
{
	long long v;
	char *end;

	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		unsigned long long u = strtoull(s + 2, &end, s[1] == 'x' ? 16 : 8);

		if (errno == ERANGE)
			buf_add_json_str(out, s);   /* too big to say as a number */
		else
			buf_addf(out, "%llu", u);
		return;
	}
	v = strtoll(s, &end, 10);
	if (errno != ERANGE) {
		buf_addf(out, "%lld", v);
		return;
	}
	/* overflow: the decimal text without '+' and leading zeros */
	if (*s == '-')
		buf_addch(out, *s);
	if (*s == '-' || *s == '+')
		s++;
	while (*s == '0' && s[1])
		s++;
	buf_adds(out, s);
}

static void add_float(struct buf *out, const char *s)
{
	char tmp[64];
	double v;

	if (is_special_float(s)) {
		if (strpbrk(s, "aA"))
			buf_adds(out, "\"nan\"");
		else
			buf_adds(out, *s == '-' ? "\"-inf\"" : "\"inf\"");
		return;
	}
	v = strtod(s, NULL);
	if (isinf(v)) {
		buf_adds(out, v < 0 ? "\"-inf\"" : "\"inf\"");
		return;
	}
	format_double(v, tmp, sizeof(tmp));
	buf_adds(out, tmp);
}

void format_double(double v, char *out, size_t n)
{
	/* the shortest of %.15g..%.17g that reads back as the same double */
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, n, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
	/* keep floats apart from integers: 1.0 is not 1 */
	if (!strpbrk(out, ".eEn") && strlen(out) + 3 <= n)
		strcat(out, ".0");
}

static void add_scalar(struct buf *out, const struct node *n)
{
	switch (node_scalar_type(n)) {
	case SCALAR_NULL:
		buf_adds(out, "null");
		break;
	case SCALAR_BOOL:
		buf_adds(out, (n->str[0] == 't' || n->str[0] == 'T') ? "true" : "false");
		break;
	case SCALAR_INT:
		add_int(out, n->str);
		break;
	case SCALAR_FLOAT:
		add_float(out, n->str);
		break;
	case SCALAR_STR:
		buf_add_json_str(out, n->str);
		break;
	}
}

struct key_index {
	const char *key;
	size_t i;
};

static int cmp_key_index(const void *a, const void *b)
{
	const struct key_index *x = a, *y = b;

	return strcmp(x->key, y->key);
}

void node_canonical(const struct node *n, struct buf *out)
{
	struct key_index *order;
	size_t i;

	if (!n) {
		buf_adds(out, "null");
		return;
	}
	switch (n->kind) {
	case NODE_SCALAR:
		add_scalar(out, n);
		break;
	case NODE_SEQ:
		buf_addch(out, '[');
		for (i = 0; i < n->n; i++) {
			if (i)
				buf_addch(out, ',');
			node_canonical(n->items[i], out);
		}
		buf_addch(out, ']');
		break;
	case NODE_MAP:
		order = xcalloc(n->n ? n->n : 1, sizeof(*order));
		for (i = 0; i < n->n; i++) {
			order[i].key = n->keys[i]->str;
			order[i].i = i;
		}
		qsort(order, n->n, sizeof(*order), cmp_key_index);
		buf_addch(out, '{');
		for (i = 0; i < n->n; i++) {
			if (i)
				buf_addch(out, ',');
			buf_add_json_str(out, order[i].key);
			buf_addch(out, ':');
			node_canonical(n->items[order[i].i], out);
		}
		buf_addch(out, '}');
		free(order);
		break;
	}
}

char *node_to_display(const struct node *n)
{
	struct buf b = BUF_INIT;

	if (n && n->kind == NODE_SCALAR)
		return xstrdup(n->str);
	node_canonical(n, &b);
	return buf_detach(&b);
}
