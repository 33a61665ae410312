/*
 * flatten.c - turning a value tree into dotted leaves (see flatten.h).
 * An empty map or list is a leaf of its own (shown as {} or []).
 */
#include "core/flatten.h"

#include <stdlib.h>
#include <string.h>

static void add_leaf(struct leaves *out, const char *key, const struct node *n)
{
	struct leaf *l;
	enum scalar_type t = n->kind == NODE_SCALAR ? node_scalar_type(n) : SCALAR_STR;

	ALLOC_GROW(out->l, out->n + 1, out->alloc);
	l = &out->l[out->n++];
	l->key = xstrdup(key);
	l->value = node_to_display(n);
	l->numeric = n->kind == NODE_SCALAR && (t == SCALAR_INT || t == SCALAR_FLOAT);
	l->num = l->numeric ? strtod(n->str, NULL) : 0;
	l->node = n;
}

void flatten(const struct node *n, const char *prefix, struct leaves *out)
{
	const char *p = prefix ? prefix : "";

	if (!n)
		return;
	if (n->kind == NODE_SCALAR || n->n == 0) {
		add_leaf(out, p, n);
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		char *k = n->kind == NODE_MAP
			? (*p ? xasprintf("%s.%s", p, n->keys[i]->str) : xstrdup(n->keys[i]->str))
			: xasprintf("%s[%zu]", p, i);

		flatten(n->items[i], k, out);
		free(k);
	}
}

const struct leaf *leaves_find(const struct leaves *ls, const char *key)
{
	for (size_t i = 0; i < ls->n; i++)
		if (!strcmp(ls->l[i].key, key))
			return &ls->l[i];
	return NULL;
}

void leaves_release(struct leaves *ls)
{
	for (size_t i = 0; i < ls->n; i++) {
		free(ls->l[i].key);
		free(ls->l[i].value);
	}
	free(ls->l);
	memset(ls, 0, sizeof(*ls));
}
