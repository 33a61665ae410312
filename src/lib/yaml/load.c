/*
 * load.c - load YAML into a tree of struct node (doc.h), with libyaml.
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
 * The map is built with node_cap()-sized arrays, as doc.c's invariant asks.
 *
 * Files are read whole before parsing, at most one byte past DOC_MAX_BYTES,
 * so that an endless or huge file is refused without filling memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "yaml/doc.h"
#include "yaml/doc-internal.h"

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

/* 1 if the line of `m` (at line m->line) holds `needle`. */
static int line_has(const struct loader *l, const yaml_mark_t *m, const char *needle)
{
	size_t start = m->index <= l->len ? m->index : l->len, end, n = strlen(needle);

	while (start > 0 && l->data[start - 1] != '\n')
		start--;
	for (end = start; end < l->len && l->data[end] != '\n'; end++)
		if (end + n <= l->len && !memcmp(l->data + end, needle, n))
			return 1;
	return 0;
}

/*
 * How to fix the usual mistakes behind libyaml's terse messages, as a second
 * line ("\nhint: ...") to append, or "". Static storage.
 */
static const char *parser_hint(const struct loader *l, const yaml_mark_t *m)
{
	const yaml_parser_t *p = &l->parser;
	const char *problem = p->problem ? p->problem : "";
	const char *context = p->context ? p->context : "";

	if (strstr(problem, "tab") || (m->index < l->len && l->data[m->index] == '\t'))
		return "\nhint: YAML indents with spaces only: replace the tab with spaces";
	if (strstr(context, "flow") && line_has(l, m, "${"))
		return "\nhint: inside [ ] or { } a value with ${...} must be quoted, as in "
		       "[\"build/${key}/x\"], or write a block list, one '- item' a line";
	if (strstr(problem, "mapping values are not allowed"))
		return "\nhint: ': ' inside a value starts a mapping: quote the whole value, "
		       "as in cmd: \"echo a: b\"";
	if (strstr(context, "flow"))
		return "\nhint: inside [ ] or { } quote values that hold ',', '[', ']', '{', '}' "
		       "or ': ', or write a block list, one '- item' a line";
	return "";
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
		load_error(l, &m, "%s (%s started at line %zu)%s", problem, p->context,
			   p->context_mark.line + 1, parser_hint(l, &m));
	else
		load_error(l, &m, "%s%s", problem, parser_hint(l, &m));
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

/*
 * Reads the next event and checks that it is of `type`, else fills l->err
 * with `what` at the event's position. Deletes the event either way.
 * Returns 0 or -1.
 */
static int expect_event(struct loader *l, yaml_event_type_t type, const char *what)
{
	yaml_event_t ev;
	int ret = 0;

	if (next_event(l, &ev) < 0)
		return -1;
	if (ev.type != type)
		ret = load_error(l, &ev.start_mark, "%s", what);
	yaml_event_delete(&ev);
	return ret;
}

/* Parses the stream; returns 0 and sets *root (NULL when empty), or -1. */
static int load_stream(struct loader *l, struct node **root)
{
	yaml_event_t ev;

	*root = NULL;
	if (expect_event(l, YAML_STREAM_START_EVENT, "expected the start of a YAML stream") < 0)
		return -1;

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

	if (expect_event(l, YAML_DOCUMENT_END_EVENT, "expected the end of the document") < 0 ||
	    expect_event(l, YAML_STREAM_END_EVENT,
			 "multiple documents in one file are not supported") < 0) {
		node_free(*root);
		*root = NULL;
		return -1;
	}
	return 0;
}

struct doc *yaml_load_buf(const char *name, const char *data, size_t len, struct rp_err *err)
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
