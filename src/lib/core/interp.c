/*
 * interp.c - ${...} interpolation of strings against a vars tree.
 *
 * The string is scanned once from left to right. "$${" emits a literal "${";
 * "${name}" emits the scalar text of node_lookup(ctx, name), where `name` is
 * the text up to the next '}' with surrounding whitespace trimmed; any other
 * '$' is copied as is. There is no nesting: "${a${b}}" looks up "a${b".
 *
 * A seq or map may only be used by a string that is exactly one reference:
 * interp_node() returns it, and interp_string() spells it as canonical JSON.
 * Inside a longer string it is an error, since there is no single obvious way
 * to write a list into a command line.
 *
 * Error messages start with "FILE:LINE:COL: " of the `where` node, when one
 * with a position is given, and quote the whole string being expanded.
 */
#include <stdlib.h>
#include <string.h>

#include "core/interp.h"

/* "FILE:LINE:COL: " for `where`, or "" when there is no position; caller frees. */
static char *where_prefix(const struct node *where)
{
	if (!where || !where->file)
		return xstrdup("");
	if (where->line <= 0)
		return xasprintf("%s: ", where->file);
	return xasprintf("%s:%d:%d: ", where->file, where->line, where->col);
}

/* Returns the name inside "${...}" at `start` (just after "${"), trimmed; caller frees. */
static char *ref_name(const char *start, const char *end)
{
	while (start < end && strchr(" \t\n\r", *start))
		start++;
	while (end > start && strchr(" \t\n\r", end[-1]))
		end--;
	return xstrndup(start, end - start);
}

static int undefined(struct rp_err *err, const struct node *where, const char *name,
		     const char *s)
{
	char *pre = where_prefix(where);

	rp_err_set(err, RP_ERR_INPUT,
		   "%sundefined variable '%s' in '%s'; define it under vars: or in params.yaml",
		   pre, name, s);
	free(pre);
	return -1;
}

char *interp_string(const char *s, const struct node *ctx, const struct node *where,
		    struct rp_err *err)
{
	struct buf out = BUF_INIT;
	const char *p = s;
	char *pre;

	while (*p) {
		const char *close;
		const struct node *val;
		char *name;

		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			buf_adds(&out, "${");
			p += 3;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			buf_addch(&out, *p++);
			continue;
		}
		close = strchr(p + 2, '}');
		if (!close) {
			pre = where_prefix(where);
			rp_err_set(err, RP_ERR_INPUT, "%sunterminated '${' in '%s'", pre, s);
			goto fail;
		}
		name = ref_name(p + 2, close);
		if (!*name) {
			pre = where_prefix(where);
			rp_err_set(err, RP_ERR_INPUT, "%sempty '${}' in '%s'", pre, s);
			free(name);
			goto fail;
		}
		val = node_lookup(ctx, name);
		if (!val) {
			undefined(err, where, name, s);
			free(name);
			buf_release(&out);
			return NULL;
		}
		if (val->kind != NODE_SCALAR) {
			if (p != s || close[1]) {
				pre = where_prefix(where);
				rp_err_set(err, RP_ERR_INPUT,
					   "%s'${%s}' is a %s and cannot be part of a string",
					   pre, name, val->kind == NODE_SEQ ? "list" : "mapping");
				free(name);
				goto fail;
			}
			node_canonical(val, &out);
		} else {
			buf_adds(&out, val->str);
		}
		free(name);
		p = close + 1;
	}
	return buf_detach(&out);
fail:
	free(pre);
	buf_release(&out);
	return NULL;
}

const struct node *interp_node(const char *s, const struct node *ctx,
			       const struct node *where, struct rp_err *err)
{
	size_t len = strlen(s);
	const struct node *val;
	char *name;

	if (err) {
		err->kind = RP_ERR_NONE;
		err->msg[0] = '\0';
	}
	if (len < 3 || s[0] != '$' || s[1] != '{' || s[len - 1] != '}' ||
	    strchr(s + 2, '}') != s + len - 1)
		return NULL;
	name = ref_name(s + 2, s + len - 1);
	if (!*name) {
		char *pre = where_prefix(where);

		rp_err_set(err, RP_ERR_INPUT, "%sempty '${}' in '%s'", pre, s);
		free(pre);
		free(name);
		return NULL;
	}
	val = node_lookup(ctx, name);
	if (!val)
		undefined(err, where, name, s);
	free(name);
	return val;
}
