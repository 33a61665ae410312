/*
 * doc.c - the node tree of a YAML document: its model, access by key and
 * dotted path, and how plain scalars read as values.
 *
 * A document (struct doc) owns its file name and its root; every node of the
 * tree borrows that name, so positions survive copies (node_dup) and merges
 * without allocating per node. Nodes built by node_new_* name "<generated>".
 * The tree is made by load.c (from YAML text) or docbin.c (from the parse
 * cache), and encoded by json.c; doc-internal.h lists what they share.
 *
 * Invariants: a map's keys[] and items[] are parallel, and every key is a
 * scalar; keys is NULL for a seq. Arrays of n > 0 elements have room for
 * node_cap(n) elements, so that node_append() can grow them by doubling
 * without storing a capacity. A scalar always has a str (possibly "").
 *
 * Loading picks the parser by the file name's extension, as DVC does
 * (dvc/utils/serialize: LOADERS, keyed by the lowercased suffix): ".toml" is
 * TOML (toml.c), ".py" is refused with a message naming the file (DVC reads
 * Python constants; rp does not run or parse Python), and everything else,
 * ".yaml", ".yml", ".json" and names with no or another extension, is YAML
 * (load.c); JSON is read as the YAML 1.2 it is a subset of.
 *
 * Scalar typing follows the YAML 1.2 core schema: quoted and block scalars
 * are strings; a plain scalar is null, a bool, an int (decimal, 0x, 0o), a
 * float (including .inf and .nan) or else a string.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "yaml/doc.h"
#include "yaml/doc-internal.h"

static const char generated_file[] = "<generated>";

/* Capacity that an array of `n` node pointers is allocated with. */
size_t node_cap(size_t n)
{
	size_t c = 4;

	if (!n)
		return 0;
	while (c < n)
		c *= 2;
	return c;
}

struct node *node_alloc(enum node_kind kind, const char *file, int line, int col)
{
	struct node *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->file = file;
	n->line = line;
	n->col = col;
	return n;
}

/* Frees a node's arrays and the node itself, but not its children. */
void node_free_shell(struct node *n)
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

void doc_free(struct doc *d)
{
	if (!d)
		return;
	node_free(d->root);
	free(d->file);
	free(d);
}

/* ---- loading: the parser by the file name's extension ---- */

enum doc_format { FORMAT_YAML, FORMAT_TOML, FORMAT_PYTHON };

/* The format of the file `name` (a path) by its lowercased extension. */
static enum doc_format format_of(const char *name)
{
	const char *base = strrchr(name, '/');
	const char *dot;

	base = base ? base + 1 : name;
	dot = strrchr(base, '.');
	if (!dot || dot == base)        /* ".toml" alone is a hidden file, no suffix */
		return FORMAT_YAML;
	if (!strcasecmp(dot, ".toml"))
		return FORMAT_TOML;
	if (!strcasecmp(dot, ".py"))
		return FORMAT_PYTHON;
	return FORMAT_YAML;
}

struct doc *doc_load_buf(const char *name, const char *data, size_t len, struct rp_err *err)
{
	switch (format_of(name)) {
	case FORMAT_TOML:
		return toml_load_buf(name, data, len, err);
	case FORMAT_PYTHON:
		rp_err_set(err, RP_ERR_INPUT, "%s: Python params files are not supported (rp "
			   "reads YAML, JSON and TOML); write the values to a params.yaml, "
			   "params.json or params.toml and name that file instead", name);
		return NULL;
	case FORMAT_YAML:
		break;
	}
	return yaml_load_buf(name, data, len, err);
}

/* ---- access ---- */

int node_fail(struct rp_err *err, const struct node *at, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at && at->file && at->line > 0)
		return rp_err_set(err, RP_ERR_INPUT, "%s:%d:%d: %s", at->file, at->line, at->col,
				  msg);
	if (at && at->file)
		return rp_err_set(err, RP_ERR_INPUT, "%s: %s", at->file, msg);
	return rp_err_set(err, RP_ERR_INPUT, "%s", msg);
}

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

int scalar_is_special_float(const char *s)
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

	if (scalar_is_special_float(s))
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
