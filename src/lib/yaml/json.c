/*
 * json.c - a node tree as canonical JSON, the text that enters cache keys
 * and the lock, and as display text.
 *
 * Canonical means that two YAML texts with the same meaning encode to the
 * same bytes: map keys sorted bytewise (by strcmp), no whitespace, plain
 * scalars typed by node_scalar_type() (null, true/false, integers in decimal,
 * floats in the shortest %.15g..%.17g text that reads back, with ".0" when
 * it would look like an integer; infinities and NaN as the strings "inf",
 * "-inf" and "nan"), everything else a JSON string. An integer too large for
 * 64 bits keeps its decimal digits (hex and octal ones become a string).
 *
 * Any change here changes every stage key and lock entry: the unit tests pin
 * the encoding.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yaml/doc.h"
#include "yaml/doc-internal.h"

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

	if (scalar_is_special_float(s)) {
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
