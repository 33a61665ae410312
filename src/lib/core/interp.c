/*
 * interp.c - ${...} interpolation of strings against a vars tree, as DVC
 * (dvc/parsing/interpolate.py and context.py) does it.
 *
 * The string is scanned once from left to right. "\${" emits a literal "${"
 * (the backslash is dropped); "${name}" emits the text of the value that
 * interp_lookup(ctx, name) finds, where `name` is the text up to the next
 * '}' with surrounding whitespace trimmed; any other '$' is copied as is, so
 * "$${x}" is a '$' and then the value of x, as in DVC. There is no nesting:
 * "${a${b}}" looks up "a${b".
 *
 * Values are written as DVC's to_str() writes them (interp_scalar_text()):
 * booleans true/false, null None, floats as Python's repr. In a command
 * (INTERP_CMD) a mapping becomes command-line flags, as DVC's to_str(dict)
 * with its default parsing config (bool: store_true, list: nargs): nested
 * maps flattened with '.', `--k v` per leaf, strings quoted as shlex.quote
 * does, a true boolean `--k` and a false one nothing, a list `--k a b c`
 * (its items written as Python's str(), so a boolean in a list is True),
 * an empty list nothing, and a list inside a list an error.
 *
 * A seq or map may otherwise only be used by a string that is exactly one
 * reference: interp_node() returns it, and interp_string() spells it as
 * canonical JSON. Inside a longer string it is an error.
 *
 * Error messages start with "FILE:LINE:COL: " of the `where` node, when one
 * with a position is given, and quote the whole string being expanded.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* ---- lookup ------------------------------------------------------------- */

/* The item of seq `n` at index text `part` (decimal, negative from the end), or NULL. */
static const struct node *seq_index(const struct node *n, const char *part)
{
	char *end;
	long long i;

	if (!*part)
		return NULL;
	errno = 0;
	i = strtoll(part, &end, 10);
	if (errno || *end)
		return NULL;
	if (i < 0)
		i += (long long)n->n;
	if (i < 0 || (unsigned long long)i >= n->n)
		return NULL;
	return n->items[i];
}

const struct node *interp_lookup(const struct node *ctx, const char *name)
{
	char *norm = xmalloc(strlen(name) + 1), *part, *next, *q;
	const struct node *cur = ctx;
	const char *p;

	/* "a[0]" and "a[k]" read as "a.0" and "a.k" (DVC's normalize_key) */
	for (p = name, q = norm; *p; p++)
		if (*p != ']')
			*q++ = *p == '[' ? '.' : *p;
	*q = '\0';
	for (part = norm; cur && part; part = next) {
		char *end;
		size_t i;

		next = strchr(part, '.');
		if (next)
			*next++ = '\0';
		while (*part == ' ' || *part == '\t')
			part++;
		end = part + strlen(part);
		while (end > part && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (cur->kind == NODE_SEQ) {
			cur = seq_index(cur, part);
			continue;
		}
		if (cur->kind != NODE_MAP) {
			cur = NULL;
			break;
		}
		for (i = 0; i < cur->n && strcmp(cur->keys[i]->str, part); i++)
			;
		cur = i < cur->n ? cur->items[i] : NULL;
	}
	free(norm);
	return cur;
}

/* ---- how values are written --------------------------------------------- */

/* Python's repr() of a finite or infinite double (float_repr_style 'short'). */
static void add_py_float(struct buf *out, double v)
{
	char tmp[64], digits[32];
	int prec, exp, nd = 0;
	char *e, *p;

	if (isnan(v)) {
		buf_adds(out, "nan");
		return;
	}
	if (isinf(v)) {
		buf_adds(out, v < 0 ? "-inf" : "inf");
		return;
	}
	/* the shortest %.Ne that reads back as v: its digits and exponent */
	for (prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	e = strchr(tmp, 'e');
	exp = atoi(e + 1);
	for (p = tmp; p < e; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	if (signbit(v))
		buf_addch(out, '-');
	if (exp < -4 || exp >= 16) {
		buf_addch(out, digits[0]);
		if (nd > 1)
			buf_addf(out, ".%s", digits + 1);
		buf_addf(out, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	} else if (exp < 0) {
		buf_adds(out, "0.");
		for (int i = -1; i > exp; i--)
			buf_addch(out, '0');
		buf_adds(out, digits);
	} else {
		for (int i = 0; i <= exp; i++)
			buf_addch(out, i < nd ? digits[i] : '0');
		buf_addch(out, '.');
		buf_adds(out, nd > exp + 1 ? digits + exp + 1 : "0");
	}
}

/*
 * Appends scalar `n` as DVC writes it. With `py`, as Python's str() does
 * (True/False), which is how DVC writes the items of a list in a flag.
 */
static void add_scalar_text(struct buf *out, const struct node *n, int py)
{
	const char *s = n->str;

	switch (node_scalar_type(n)) {
	case SCALAR_NULL:
		buf_adds(out, "None");
		break;
	case SCALAR_BOOL:
		if (s[0] == 't' || s[0] == 'T')
			buf_adds(out, py ? "True" : "true");
		else
			buf_adds(out, py ? "False" : "false");
		break;
	case SCALAR_INT:
		node_canonical(n, out);
		break;
	case SCALAR_FLOAT: {
		const char *t = s + (*s == '+' || *s == '-');

		if (!strcasecmp(t, ".inf"))
			add_py_float(out, *s == '-' ? -INFINITY : INFINITY);
		else if (!strcasecmp(t, ".nan"))
			add_py_float(out, NAN);
		else
			add_py_float(out, strtod(s, NULL));
		break;
	}
	case SCALAR_STR:
		buf_adds(out, s);
		break;
	}
}

char *interp_scalar_text(const struct node *n)
{
	struct buf b = BUF_INIT;

	if (n->kind == NODE_SCALAR)
		add_scalar_text(&b, n, 0);
	else
		node_canonical(n, &b);
	return buf_detach(&b);
}

/* Appends `s` quoted for sh as Python's shlex.quote() does. */
static void add_shell_quoted(struct buf *out, const char *s)
{
	const char *p;

	if (!*s) {
		buf_adds(out, "''");
		return;
	}
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_@%+=:,./-", *p)))
			break;
	if (!*p) {
		buf_adds(out, s);
		return;
	}
	buf_addch(out, '\'');
	for (p = s; *p; p++) {
		if (*p == '\'')
			buf_adds(out, "'\"'\"'");
		else
			buf_addch(out, *p);
	}
	buf_addch(out, '\'');
}

static int is_str(const struct node *n)
{
	return n->kind == NODE_SCALAR && node_scalar_type(n) == SCALAR_STR;
}

/*
 * Appends the flags of map `m` (keys under `prefix`, NULL at the top) to
 * `out`, each followed by a space. Returns NULL, or the name of a flag
 * whose list holds a list or mapping (the caller frees it).
 */
static char *add_flags(struct buf *out, const struct node *m, const char *prefix)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct node *v = m->items[i];
		char *k = prefix ? xasprintf("%s.%s", prefix, m->keys[i]->str)
				 : xstrdup(m->keys[i]->str);
		char *bad = NULL;

		if (v->kind == NODE_MAP) {
			bad = add_flags(out, v, k);
		} else if (v->kind == NODE_SEQ) {
			for (size_t j = 0; j < v->n && !bad; j++) {
				const struct node *it = v->items[j];

				if (it->kind != NODE_SCALAR) {
					bad = xstrdup(k);
					break;
				}
				if (!j)
					buf_addf(out, "--%s ", k);
				if (is_str(it))
					add_shell_quoted(out, it->str);
				else
					add_scalar_text(out, it, 1);
				buf_addch(out, ' ');
			}
		} else if (node_scalar_type(v) == SCALAR_BOOL) {
			if (v->str[0] == 't' || v->str[0] == 'T')
				buf_addf(out, "--%s ", k);
		} else {
			buf_addf(out, "--%s ", k);
			if (is_str(v))
				add_shell_quoted(out, v->str);
			else
				add_scalar_text(out, v, 0);
			buf_addch(out, ' ');
		}
		if (bad) {
			free(k);
			return bad;
		}
		free(k);
	}
	return NULL;
}

/* ---- expansion ---------------------------------------------------------- */

char *interp_string(const char *s, const struct node *ctx, const struct node *where,
		    struct rp_err *err)
{
	return interp_string_flags(s, ctx, where, 0, err);
}

char *interp_string_flags(const char *s, const struct node *ctx, const struct node *where,
			  unsigned flags, struct rp_err *err)
{
	struct buf out = BUF_INIT;
	const char *p = s;
	char *pre;

	while (*p) {
		const char *close;
		const struct node *val;
		char *name;

		if (p[0] == '\\' && p[1] == '$' && p[2] == '{') {
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
			rp_err_set(err, RP_ERR_INPUT, "%sunterminated '${' in '%s'; close it with "
				   "'}', or write '\\${' for a literal '${'", pre, s);
			goto fail;
		}
		name = ref_name(p + 2, close);
		if (!*name) {
			pre = where_prefix(where);
			rp_err_set(err, RP_ERR_INPUT, "%sempty '${}' in '%s'", pre, s);
			free(name);
			goto fail;
		}
		val = interp_lookup(ctx, name);
		if (!val) {
			undefined(err, where, name, s);
			free(name);
			buf_release(&out);
			return NULL;
		}
		if (val->kind == NODE_MAP && (flags & INTERP_CMD)) {
			size_t len = out.len;
			char *bad = add_flags(&out, val, NULL);

			if (bad) {
				pre = where_prefix(where);
				rp_err_set(err, RP_ERR_INPUT, "%s'${%s}': cannot interpolate nested "
					   "iterable in '%s' (a list inside a list); make it a flat "
					   "list", pre, name, bad);
				free(bad);
				free(name);
				goto fail;
			}
			/* DVC strips the space after the last flag */
			while (out.len > len && out.s[out.len - 1] == ' ')
				out.s[--out.len] = '\0';
		} else if (val->kind != NODE_SCALAR) {
			if (p != s || close[1]) {
				pre = where_prefix(where);
				rp_err_set(err, RP_ERR_INPUT,
					   "%s'${%s}' is a %s and cannot be part of a string%s",
					   pre, name, val->kind == NODE_SEQ ? "list" : "mapping",
					   val->kind == NODE_MAP ? " (only in 'cmd', where it becomes "
					   "--flags)" : "");
				free(name);
				goto fail;
			}
			node_canonical(val, &out);
		} else {
			add_scalar_text(&out, val, 0);
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
	val = interp_lookup(ctx, name);
	if (!val)
		undefined(err, where, name, s);
	free(name);
	return val;
}
