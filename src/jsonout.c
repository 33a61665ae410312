/*
 * jsonout.c - the one way rp's commands print a JSON document (jsonout.h).
 *
 * Each command's --json prints exactly one JSON value on stdout and nothing
 * else there (the commands' human lines and the stages' output go to stderr
 * or nowhere), so that stdout pipes into jq as it is. Keys are sorted, so the
 * same state gives the same bytes. Reals are printed to 15 significant
 * digits: a difference such as 0.801807 - 0.763981 then reads 0.037826,
 * without the tail of binary rounding that 17 digits show.
 */
#include "jsonout.h"
#include "util/buf.h"
#include "util/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int json_out_print(json_t *root)
{
	int ret = 0;

	if (!root)
		return 0;
	if (json_dumpf(root, stdout, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15)) < 0 ||
	    putchar('\n') == EOF || fflush(stdout) == EOF)
		ret = rp_error_errno("cannot write the JSON output");
	json_decref(root);
	return ret;
}

/* A copy of `s` with every byte outside a valid UTF-8 sequence as U+FFFD. Caller frees. */
static char *valid_utf8(const char *s)
{
	struct buf b = BUF_INIT;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t len = 1;
		json_t *t;

		if ((unsigned char)s[i] < 0x80) {
			buf_add(&b, s + i, 1);
			i++;
			continue;
		}
		/* the lead byte fixes the length: at most one of these is valid */
		for (len = 2; len <= 4 && i + len <= n; len++)
			if ((t = json_stringn(s + i, len))) {
				json_decref(t);
				break;
			}
		if (len <= 4 && i + len <= n) {
			buf_add(&b, s + i, len);
			i += len;
		} else {
			buf_add(&b, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	return buf_detach(&b);
}

json_t *json_out_str(const char *s)
{
	json_t *v;
	char *t;

	if (!s)
		return json_null();
	if ((v = json_string(s)))
		return v;
	t = valid_utf8(s);
	v = json_string(t);
	free(t);
	return v;
}

/* `key` if it is valid UTF-8 (*owned NULL), else a valid copy in *owned. */
static const char *valid_key(const char *key, char **owned)
{
	json_t *k = json_string(key);

	*owned = k ? NULL : valid_utf8(key);
	json_decref(k);
	return *owned ? *owned : key;
}

void json_out_set(json_t *obj, const char *key, json_t *v)
{
	char *owned;

	/* json_object_set_new() drops v for a key that is not UTF-8: mend it first */
	json_object_set_new(obj, valid_key(key, &owned), v);
	free(owned);
}

json_t *json_out_child(json_t *obj, const char *key)
{
	char *owned;
	const char *k = valid_key(key, &owned);
	json_t *o = json_object_get(obj, k);

	if (!o) {
		o = json_object();
		json_object_set_new(obj, k, o);
	}
	free(owned);
	return o;
}

json_t *json_out_node(const struct node *n)
{
	struct buf b = BUF_INIT;
	json_t *v;

	if (!n)
		return json_null();
	node_canonical(n, &b);
	v = json_loadb(b.s, b.len, JSON_DECODE_ANY, NULL);
	if (!v) {
		/* jansson refuses an integer beyond 64 bits: keep its digits as text */
		char *d = node_to_display(n);

		v = json_string(d);
		free(d);
	}
	buf_release(&b);
	return v;
}

json_t *json_out_change(const struct leaf *old, const struct leaf *new)
{
	json_t *o = json_object();
	json_t *ov = json_out_node(old ? old->node : NULL);
	json_t *nv = json_out_node(new ? new->node : NULL);

	if (json_is_integer(ov) && json_is_integer(nv)) {
		json_int_t d;

		if (!__builtin_sub_overflow(json_integer_value(nv), json_integer_value(ov), &d))
			json_object_set_new(o, "diff", json_integer(d));
		else
			json_object_set_new(o, "diff", json_real((double)json_integer_value(nv) -
							       (double)json_integer_value(ov)));
	} else if (json_is_number(ov) && json_is_number(nv)) {
		json_object_set_new(o, "diff", json_real(json_number_value(nv) - json_number_value(ov)));
	}
	json_object_set_new(o, "old", ov);
	json_object_set_new(o, "new", nv);
	return o;
}
