/*
 * toml.c - load TOML 1.0 (params and vars files named *.toml) into the node
 * tree of doc.h, so that everything that reads params.yaml reads params.toml
 * the same way, positions included.
 *
 * A hand-written recursive-descent reader over the whole text (Debian 12
 * ships no C TOML library). The text must be valid UTF-8 (checked first, so
 * the rest may take it for granted); a leading BOM is skipped; lines end in
 * LF or CRLF. Every node records the 1-based line and column (in code
 * points) of its first character; errors read
 * "FILE:LINE:COL: what was expected; how to fix it" with kind RP_ERR_INPUT,
 * and the first error ends the parse.
 *
 * The tree: the root is always a map (empty for an empty file); tables and
 * inline tables are maps whose keys keep their order of first appearance;
 * arrays and arrays of tables are seqs. Scalars: strings (all four kinds) and
 * date-times (kept as written: rp has no date type) are quoted scalars;
 * integers (decimal, 0x, 0o, 0b, with underscores) become plain decimal
 * text; floats plain text without underscores, inf and nan as YAML's .inf,
 * -.inf and .nan; booleans plain true and false. node_scalar_type() thus
 * types every value as the TOML file meant it.
 *
 * What TOML forbids is an error, following the spec and tomli: a duplicate
 * key; a [table] defined twice; a [table] header for a table made by dotted
 * keys, or dotted keys adding to a table that a [header] defined; anything
 * added to an inline table or a static array after it is written ([[a]]
 * after a = [], [a.b] after a = {}); a key that is a value in one place and
 * a table in another. To tell these apart, each table and array carries
 * T_* flags in its node's `quoted` field while parsing (a collection has no
 * use for `quoted`); they are cleared before the document is returned, so
 * the tree is exactly what load.c would build for the same data.
 *
 * Lookups of a key in a table go through one hash table keyed by (table
 * node address, key text), so a table of n keys costs O(n), not O(n^2).
 * Limits as for YAML (doc-internal.h): DOC_MAX_BYTES of text, DOC_MAX_NODES
 * nodes (keys included), DOC_MAX_DEPTH levels of nested collections.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yaml/doc.h"
#include "yaml/doc-internal.h"
#include "util/buf.h"
#include "util/hmap.h"

/* what a table or array is, kept in its node's `quoted` field while parsing */
enum {
	T_IMPLICIT = 1 << 0,    /* named on the path of a [header], not itself defined */
	T_DEFINED = 1 << 1,     /* defined by a [header], or an element of a [[header]] */
	T_DOTTED = 1 << 2,      /* made or extended by a dotted key (a.b = 1 makes a) */
	T_FROZEN = 1 << 3,      /* an inline table or an array value: complete as written */
	T_AOT = 1 << 4,         /* an array of tables, made by [[header]] */
};

struct pos {
	int line, col;
};

struct key {
	char *s;
	struct pos at;
};

/* a dotted key: its parts */
struct dkey {
	struct key *parts;
	size_t n, alloc;
};

struct tp {
	const char *file;       /* doc->file */
	const char *p, *end;    /* the cursor and the end of the text */
	int line;               /* line of p */
	const char *colp;       /* a point on p's line whose column is col */
	int col;
	struct rp_err *err;
	int failed;
	size_t nodes;
	struct hmap index;      /* (table address, key) -> index of the key in the table */
	char **ikeys;           /* the index's keys, owned here */
	size_t nr_ikeys, alloc_ikeys;
	struct buf kb;          /* scratch: an index key */
	struct buf sb;          /* scratch: a string's value */
	char fb[48];            /* scratch: found() */
};

/* ---- positions and errors ---- */

#define STR_(x) #x
#define STR(x) STR_(x)
static const char too_deep[] = "nested too deeply (more than " STR(DOC_MAX_DEPTH) " levels); "
			       "flatten the data";

/* The position of the cursor; columns count code points. */
static struct pos here(struct tp *t)
{
	struct pos at;

	for (; t->colp < t->p; t->colp++)
		if ((*t->colp & 0xC0) != 0x80)
			t->col++;
	at.line = t->line;
	at.col = t->col;
	return at;
}

static int fail(struct tp *t, struct pos at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Records the first error, at `at`; returns -1. */
static int fail(struct tp *t, struct pos at, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (t->failed)
		return -1;
	t->failed = 1;
	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	rp_err_set(t->err, RP_ERR_INPUT, "%s:%d:%d: %s", t->file, at.line, at.col, msg);
	free(msg);
	return -1;
}

/* Length of the valid UTF-8 sequence at s (s < end), or 0 when it is not one. */
static int utf8_seq(const unsigned char *s, const unsigned char *end)
{
	unsigned c = s[0];
	int n, i;

	if (c < 0x80)
		return 1;
	if (c < 0xC2 || c > 0xF4)
		return 0;
	n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (end - s < n)
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0) ||
	    (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90))
		return 0;       /* overlong, a surrogate, or past U+10FFFF */
	return n;
}

/* What is at the cursor, for messages: "'x'", "the end of the line" ... */
static const char *found(struct tp *t)
{
	unsigned char c;

	if (t->p >= t->end)
		return "the end of the file";
	c = (unsigned char)*t->p;
	if (c == '\n' || (c == '\r' && t->p + 1 < t->end && t->p[1] == '\n'))
		return "the end of the line";
	if (c == '\r')
		return "a carriage return without a newline (save the file with LF or CRLF "
		       "line endings)";
	if (c < 0x20 || c == 0x7F)
		snprintf(t->fb, sizeof(t->fb), "control character U+%04X", c);
	else
		snprintf(t->fb, sizeof(t->fb), "'%.*s'",
			 utf8_seq((const unsigned char *)t->p, (const unsigned char *)t->end),
			 t->p);
	return t->fb;
}

/* ---- blanks, line ends, comments ---- */

static int at_newline(const struct tp *t)
{
	return t->p < t->end &&
	       (*t->p == '\n' || (*t->p == '\r' && t->p + 1 < t->end && t->p[1] == '\n'));
}

static void eat_newline(struct tp *t)
{
	if (*t->p == '\r')
		t->p++;
	t->p++;
	t->line++;
	t->colp = t->p;
	t->col = 1;
}

static void skip_ws(struct tp *t)
{
	while (t->p < t->end && (*t->p == ' ' || *t->p == '\t'))
		t->p++;
}

static int bad_control(struct tp *t, const char *where)
{
	unsigned char c = (unsigned char)*t->p;

	if (c == '\r')
		return fail(t, here(t), "a carriage return must be followed by a newline; "
			    "save the file with LF or CRLF line endings");
	if (strcmp(where, "a string"))
		return fail(t, here(t), "control character U+%04X in %s; remove it", c, where);
	return fail(t, here(t), "control character U+%04X in a string; write it as the "
		    "escape \\u%04X", c, c);
}

/* Skips a comment ('#' at the cursor) up to its line end. */
static int skip_comment(struct tp *t)
{
	for (; t->p < t->end && !at_newline(t); t->p++) {
		unsigned char c = (unsigned char)*t->p;

		if ((c < 0x20 && c != '\t') || c == 0x7F)
			return bad_control(t, "a comment");
	}
	return 0;
}

/* Skips blanks, comments and line ends (inside arrays and between lines). */
static int skip_ws_nl(struct tp *t)
{
	for (;;) {
		skip_ws(t);
		if (t->p >= t->end)
			return 0;
		if (*t->p == '#') {
			if (skip_comment(t) < 0)
				return -1;
		} else if (at_newline(t)) {
			eat_newline(t);
		} else {
			return 0;
		}
	}
}

/* After a key/value or a header: blanks, an optional comment, then a line end or the end. */
static int end_line(struct tp *t, const char *after)
{
	skip_ws(t);
	if (t->p < t->end && *t->p == '#' && skip_comment(t) < 0)
		return -1;
	if (t->p >= t->end)
		return 0;
	if (at_newline(t)) {
		eat_newline(t);
		return 0;
	}
	return fail(t, here(t), "expected the end of the line after %s, found %s; put each "
		    "key = value and each [table] header on a line of its own", after, found(t));
}

/* ---- nodes ---- */

static struct node *new_node(struct tp *t, enum node_kind kind, struct pos at)
{
	if (t->nodes >= DOC_MAX_NODES) {
		fail(t, at, "document too large (more than %d values and keys); keep bulk "
		     "data in files that stages read", DOC_MAX_NODES);
		return NULL;
	}
	t->nodes++;
	return node_alloc(kind, t->file, at.line, at.col);
}

static struct node *new_scalar(struct tp *t, struct pos at, const char *s, size_t len,
			       int quoted)
{
	struct node *n = new_node(t, NODE_SCALAR, at);

	if (n) {
		n->str = xstrndup(s, len);
		n->quoted = quoted;
	}
	return n;
}

/* Grows a collection's arrays by one slot, keeping the node_cap() invariant. */
static void grow(struct node *c)
{
	size_t n = c->n;

	if (n == node_cap(n)) {
		size_t cap = node_cap(n + 1);

		c->items = xrealloc(c->items, cap * sizeof(*c->items));
		if (c->kind == NODE_MAP)
			c->keys = xrealloc(c->keys, cap * sizeof(*c->keys));
	}
}

static void seq_add(struct node *seq, struct node *val)
{
	grow(seq);
	seq->items[seq->n++] = val;
}

static void index_key(struct tp *t, const struct node *map, const char *key)
{
	buf_reset(&t->kb);
	buf_add(&t->kb, &map, sizeof(map));
	buf_adds(&t->kb, key);
}

/* The value of `key` in table `map`, or NULL; *at gets the key's node when found. */
static struct node *lookup(struct tp *t, const struct node *map, const char *key,
			   const struct node **keynode)
{
	size_t *v;

	index_key(t, map, key);
	v = hmap_get(&t->index, t->kb.s, t->kb.len);
	if (!v)
		return NULL;
	if (keynode)
		*keynode = map->keys[*v];
	return map->items[*v];
}

/* Adds `val` under the key `k` (not yet in `map`); NULL + error past the node limit. */
static struct node *map_add(struct tp *t, struct node *map, const struct key *k,
			    struct node *val)
{
	struct node *kn = new_scalar(t, k->at, k->s, strlen(k->s), 1);
	size_t *v;
	char *ik;
	int found_;

	if (!kn) {
		node_free(val);
		return NULL;
	}
	grow(map);
	map->keys[map->n] = kn;
	map->items[map->n] = val;
	index_key(t, map, k->s);
	ik = xmalloc(t->kb.len);
	memcpy(ik, t->kb.s, t->kb.len);
	ALLOC_GROW(t->ikeys, t->nr_ikeys + 1, t->alloc_ikeys);
	t->ikeys[t->nr_ikeys++] = ik;
	v = hmap_put(&t->index, ik, t->kb.len, &found_);
	*v = map->n++;
	return val;
}

/* A new table under key `k` of `map`, with `flags`; NULL + error past a limit. */
static struct node *add_table(struct tp *t, struct node *map, const struct key *k,
			      struct pos at, int flags, int level)
{
	struct node *tab;

	if (level > DOC_MAX_DEPTH) {
		fail(t, k->at, "%s", too_deep);
		return NULL;
	}
	if (!(tab = new_node(t, NODE_MAP, at)))
		return NULL;
	tab->quoted = flags;
	return map_add(t, map, k, tab);
}

/* "a.b.c" for the first n parts of `k`, for messages. Caller frees. */
static char *key_text(const struct dkey *k, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i)
			buf_addch(&b, '.');
		buf_adds(&b, k->parts[i].s);
	}
	return buf_detach(&b);
}

static void dkey_release(struct dkey *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		free(k->parts[i].s);
	free(k->parts);
	memset(k, 0, sizeof(*k));
}

/*
 * Why the existing value `c`, under the first n parts of `k`, cannot be
 * treated as a table here. Returns -1.
 */
static int not_a_table(struct tp *t, const struct dkey *k, size_t n, const struct node *c,
		       const struct node *kn, int header)
{
	char *name = key_text(k, n);
	struct pos at = k->parts[n - 1].at;

	if (c->kind == NODE_MAP && (c->quoted & T_FROZEN))
		fail(t, at, "'%s' is an inline table (line %d), which is complete as written; "
		     "add the key inside its braces, or write it as a [%s] section", name,
		     c->line, name);
	else if (c->kind == NODE_MAP && header)
		fail(t, at, "table '%s' is already defined (line %d); merge the two into one "
		     "[%s] section", name, c->line, name);
	else if (c->kind == NODE_MAP)
		fail(t, at, "table '%s' is defined by its [%s] header (line %d); add the key in "
		     "that section instead", name, name, c->line);
	else if (c->kind == NODE_SEQ && (c->quoted & T_AOT))
		fail(t, at, "'%s' is an array of tables (line %d); write [[%s]] to add an "
		     "element, or [%s.KEY] for a table in its last element", name, c->line,
		     name, name);
	else if (c->kind == NODE_SEQ)
		fail(t, at, "'%s' is already an array (line %d), which is complete as written; "
		     "rename one of the two", name, c->line);
	else
		fail(t, at, "'%s' is already a value (line %d, column %d), so it cannot be a "
		     "table too; rename one of the two", name, kn->line, kn->col);
	free(name);
	return -1;
}

/* ---- strings ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
	char u[4];

	if (cp < 0x80) {
		buf_addch(b, (int)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
		buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
		buf_add(b, u, 3);
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
		buf_add(b, u, 4);
	}
}

/* An escape ('\\' at the cursor) of a basic string, appended to t->sb. */
static int parse_escape(struct tp *t)
{
	struct pos at = here(t);
	static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
	const char *e;
	int c, n, i;
	uint32_t cp = 0;

	t->p++;
	if (t->p >= t->end || at_newline(t))
		return fail(t, at, "a backslash at the end of a \"...\" string; write \\\\ for "
			    "a backslash, or use a '...' literal string");
	c = (unsigned char)*t->p;
	if (c && (e = strchr(from, c))) {
		buf_addch(&t->sb, to[e - from]);
		t->p++;
		return 0;
	}
	if (c != 'u' && c != 'U') {
		if (c > 0x20 && c < 0x7F)
			return fail(t, at, "invalid escape '\\%c'; TOML 1.0 knows \\b \\t \\n \\f "
				    "\\r \\\" \\\\ \\uXXXX and \\UXXXXXXXX (write \\\\ for a "
				    "backslash, or use a '...' literal string)", c);
		return fail(t, at, "invalid escape: a backslash before %s; write \\\\ for a "
			    "backslash, or use a '...' literal string", found(t));
	}
	n = c == 'u' ? 4 : 8;
	t->p++;
	for (i = 0; i < n; i++) {
		int h = t->p < t->end ? hexval((unsigned char)*t->p) : -1;

		if (h < 0)
			return fail(t, at, "\\%c needs %d hex digits; write it as \\%c%s", c, n, c,
				    n == 4 ? "00E9" : "0001F600");
		cp = cp * 16 + (uint32_t)h;
		t->p++;
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return fail(t, at, "\\%c%0*" PRIX32 " is not a Unicode scalar value; write the "
			    "character itself, or its code point (U+0000 to U+10FFFF, no "
			    "surrogates)", c, n, cp);
	if (!cp)
		return fail(t, at, "\\%c%0*d (NUL) cannot be used in rp's strings; remove it",
			    c, n, 0);
	put_utf8(&t->sb, cp);
	return 0;
}

/*
 * A string of any of the four kinds at the cursor, its value into t->sb.
 * `multi` 0 refuses the multi-line kinds (keys).
 */
static int parse_string(struct tp *t, int multi)
{
	struct pos at = here(t);
	char q = *t->p;
	int basic = q == '"';

	buf_reset(&t->sb);
	if (t->end - t->p >= 3 && t->p[1] == q && t->p[2] == q) {
		if (!multi)
			return fail(t, at, "a key cannot be a multi-line string; write it as "
				    "%c...%c on one line", q, q);
		t->p += 3;
		if (at_newline(t))
			eat_newline(t);         /* a newline right after the quotes is trimmed */
		for (;;) {
			unsigned char c;

			if (t->p >= t->end)
				return fail(t, at, "unterminated multi-line string; close it with "
					    "%c%c%c", q, q, q);
			c = (unsigned char)*t->p;
			if (c == (unsigned char)q && t->end - t->p >= 3 && t->p[1] == q &&
			    t->p[2] == q) {
				size_t run = 3;

				while (t->p + run < t->end && t->p[run] == q)
					run++;
				if (run > 5)
					return fail(t, here(t), "too many quotes at the end of a "
						    "multi-line string; escape the ones that belong "
						    "to the text, or use the other kind of quotes");
				buf_add(&t->sb, t->p, run - 3);
				t->p += run;
				return 0;
			}
			if (basic && c == '\\') {
				const char *r = t->p + 1;

				while (r < t->end && (*r == ' ' || *r == '\t'))
					r++;
				if (r < t->end && (*r == '\n' ||
						   (*r == '\r' && r + 1 < t->end && r[1] == '\n'))) {
					/* a line-ending backslash trims up to the next text */
					t->p = r;
					while (at_newline(t)) {
						eat_newline(t);
						skip_ws(t);
					}
					continue;
				}
				if (parse_escape(t) < 0)
					return -1;
				continue;
			}
			if (at_newline(t)) {
				buf_addch(&t->sb, '\n');
				eat_newline(t);
				continue;
			}
			if ((c < 0x20 && c != '\t') || c == 0x7F)
				return bad_control(t, "a string");
			buf_addch(&t->sb, c);
			t->p++;
		}
	}
	t->p++;
	for (;;) {
		unsigned char c;

		if (t->p >= t->end || at_newline(t))
			return fail(t, at, "unterminated string; close it with %c on the same line "
				    "(%c%c%c starts a string over several lines)", q, q, q, q);
		c = (unsigned char)*t->p;
		if (c == (unsigned char)q) {
			t->p++;
			return 0;
		}
		if (basic && c == '\\') {
			if (parse_escape(t) < 0)
				return -1;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7F)
			return bad_control(t, "a string");
		buf_addch(&t->sb, c);
		t->p++;
	}
}

/* ---- keys ---- */

static int is_bare(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static int parse_simple_key(struct tp *t, struct key *k)
{
	const char *s = t->p;

	k->at = here(t);
	if (s < t->end && (*s == '"' || *s == '\'')) {
		if (parse_string(t, 0) < 0)
			return -1;
		k->s = xstrndup(t->sb.s, t->sb.len);
		return 0;
	}
	while (t->p < t->end && is_bare((unsigned char)*t->p))
		t->p++;
	if (t->p == s)
		return fail(t, k->at, "expected a key, found %s; a key is a bare word of "
			    "A-Z a-z 0-9 _ - or a quoted string", found(t));
	k->s = xstrndup(s, (size_t)(t->p - s));
	return 0;
}

/* A dotted key: simple keys joined by '.', blanks allowed around the dots. */
static int parse_key(struct tp *t, struct dkey *k)
{
	for (;;) {
		ALLOC_GROW(k->parts, k->n + 1, k->alloc);
		k->parts[k->n].s = NULL;
		if (parse_simple_key(t, &k->parts[k->n]) < 0)
			return -1;
		k->n++;
		if (k->n > DOC_MAX_DEPTH)
			return fail(t, k->parts[k->n - 1].at, "nested too deeply (more than %d "
				    "levels); flatten the data", DOC_MAX_DEPTH);
		skip_ws(t);
		if (t->p >= t->end || *t->p != '.')
			return 0;
		t->p++;
		skip_ws(t);
	}
}

/* ---- scalars: numbers, booleans, dates ---- */

static int is_dec(int c) { return c >= '0' && c <= '9'; }
static int is_hex(int c) { return hexval(c) >= 0; }
static int is_oct(int c) { return c >= '0' && c <= '7'; }
static int is_bin(int c) { return c == '0' || c == '1'; }

/*
 * Reads digits that `ok` accepts, with single underscores between two
 * digits, from s[*i..n). Returns 0 when there is none or an underscore is
 * misplaced (then *i is at the offending character).
 */
static int digits(const char *s, size_t n, size_t *i, int (*ok)(int))
{
	size_t start = *i;

	while (*i < n) {
		if (ok((unsigned char)s[*i]))
			(*i)++;
		else if (s[*i] == '_' && *i > start && ok((unsigned char)s[*i - 1]) &&
			 *i + 1 < n && ok((unsigned char)s[*i + 1]))
			(*i)++;
		else
			break;
	}
	return *i > start && (*i >= n || s[*i] != '_');
}

/* How many bytes of a token of n bytes at s an error message quotes: at most
 * 40, cut at a character boundary, so that the message's way to fix it always
 * fits in struct rp_err's msg however long the token is. */
static int shown(const char *s, size_t n)
{
	if (n > 40) {
		n = 40;
		while (n && (s[n] & 0xC0) == 0x80)
			n--;
	}
	return (int)n;
}

static const char number_help[] = "write numbers as 42, -1_000, 0x1F, 0o17, 0b101, 3.14, "
				  "1e-5, inf or nan, and strings in quotes";

/* The number in s[0..n) (a token of the text at `at`) as a plain scalar. */
static struct node *parse_number(struct tp *t, struct pos at, const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	struct node *node = NULL;
	size_t i = 0, j;
	int is_float = 0;
	const char *m;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
		int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
		int (*ok)(int) = base == 16 ? is_hex : base == 8 ? is_oct : is_bin;
		uint64_t v = 0;

		i = 2;
		if (!digits(s, n, &i, ok) || i != n) {
			fail(t, at, "invalid number '%.*s'; %s", shown(s, n), s, number_help);
			return NULL;
		}
		for (j = 2; j < n; j++) {
			if (s[j] == '_')
				continue;
			if (v > ((uint64_t)INT64_MAX - (uint64_t)hexval(s[j])) / (uint64_t)base) {
				fail(t, at, "integer '%.*s' does not fit in 64 bits; write it as a "
				     "string in quotes", shown(s, n), s);
				return NULL;
			}
			v = v * (uint64_t)base + (uint64_t)hexval(s[j]);
		}
		buf_addf(&b, "%" PRIu64, v);
		goto out;
	}
	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if ((n - i == 3 && !memcmp(s + i, "inf", 3)) || (n - i == 3 && !memcmp(s + i, "nan", 3))) {
		buf_adds(&b, s[i] == 'n' ? ".nan" : s[0] == '-' ? "-.inf" : ".inf");
		is_float = 1;
		goto out;
	}
	if (i + 1 < n && s[i] == '0' && (is_dec((unsigned char)s[i + 1]) || s[i + 1] == '_')) {
		fail(t, at, "leading zeros are not allowed in TOML numbers ('%.*s'); write 7, not "
		     "07, or put the text in quotes", shown(s, n), s);
		return NULL;
	}
	m = "";
	if (!digits(s, n, &i, is_dec))
		goto bad;
	if (i < n && s[i] == '.') {
		i++;
		is_float = 1;
		if (!digits(s, n, &i, is_dec)) {
			m = " (a '.' needs digits on both sides)";
			goto bad;
		}
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		is_float = 1;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!digits(s, n, &i, is_dec))
			goto bad;
	}
	if (i != n)
		goto bad;
	for (j = 0; j < n; j++)
		if (s[j] != '_')
			buf_addch(&b, s[j]);
	if (!is_float) {
		long long v;
		char *end;

		errno = 0;
		v = strtoll(b.s, &end, 10);
		if (errno || *end) {
			fail(t, at, "integer '%.*s' does not fit in 64 bits; write it as a string "
			     "in quotes", shown(s, n), s);
			buf_release(&b);
			return NULL;
		}
		buf_reset(&b);
		buf_addf(&b, "%lld", v);
	}
out:
	node = new_scalar(t, at, b.s, b.len, 0);
	buf_release(&b);
	return node;
bad:
	fail(t, at, "invalid number '%.*s'%s; %s", shown(s, n), s, m, number_help);
	buf_release(&b);
	return NULL;
}

static int two(const char *s, const char *end, int *v)
{
	if (end - s < 2 || !is_dec((unsigned char)s[0]) || !is_dec((unsigned char)s[1]))
		return 0;
	*v = (s[0] - '0') * 10 + (s[1] - '0');
	return 1;
}

/* A time HH:MM:SS[.frac] at *s; advances. 0 when it is not a valid one. */
static int scan_time(const char **s, const char *end)
{
	const char *p = *s;
	int h, m, sec;

	if (!two(p, end, &h) || end - p < 8 || p[2] != ':' || !two(p + 3, end, &m) ||
	    p[5] != ':' || !two(p + 6, end, &sec) || h > 23 || m > 59 || sec > 59)
		return 0;
	p += 8;
	if (p < end && *p == '.') {
		p++;
		if (p >= end || !is_dec((unsigned char)*p))
			return 0;
		while (p < end && is_dec((unsigned char)*p))
			p++;
	}
	*s = p;
	return 1;
}

static int days_in(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/*
 * A date, a time or a date-time at the cursor, kept as written in a quoted
 * scalar (rp has no date type).
 */
static struct node *parse_datetime(struct tp *t, struct pos at)
{
	const char *s = t->p, *end = t->end, *p = s;
	int y = 0, mo, d, h, m;

	if (end - p >= 10 && two(p, end, &y) && two(p + 2, end, &h) && p[4] == '-') {
		y = y * 100 + h;
		if (!two(p + 5, end, &mo) || p[7] != '-' || !two(p + 8, end, &d) || mo < 1 ||
		    mo > 12 || d < 1 || d > days_in(y, mo))
			goto bad;
		p += 10;
		if (p < end && (*p == 'T' || *p == 't' ||
				(*p == ' ' && end - p > 3 && is_dec((unsigned char)p[1]) &&
				 is_dec((unsigned char)p[2]) && p[3] == ':'))) {
			p++;
			if (!scan_time(&p, end))
				goto bad;
			if (p < end && (*p == 'Z' || *p == 'z')) {
				p++;
			} else if (p < end && (*p == '+' || *p == '-')) {
				if (!two(p + 1, end, &h) || end - p < 6 || p[3] != ':' ||
				    !two(p + 4, end, &m) || h > 23 || m > 59)
					goto bad;
				p += 6;
			}
		}
	} else if (!scan_time(&p, end)) {
		goto bad;
	}
	if (p < end && (is_bare((unsigned char)*p) || *p == '.' || *p == ':' || *p == '+'))
		goto bad;
	t->p = p;
	return new_scalar(t, at, s, (size_t)(p - s), 1);
bad:
	fail(t, at, "invalid date or time; write 1979-05-27, 07:32:00, 1979-05-27T07:32:00 or "
	     "1979-05-27T07:32:00Z (or +01:00), with valid months, days and hours, or put the "
	     "text in quotes");
	return NULL;
}

/* ---- values ---- */

static struct node *parse_value(struct tp *t, int level);
static int keyval(struct tp *t, struct node *tab, int level);

static struct node *parse_array(struct tp *t, int level)
{
	struct pos at = here(t);
	struct node *seq;

	if (level > DOC_MAX_DEPTH) {
		fail(t, at, "%s", too_deep);
		return NULL;
	}
	if (!(seq = new_node(t, NODE_SEQ, at)))
		return NULL;
	seq->quoted = T_FROZEN;
	t->p++;
	for (;;) {
		struct node *v;

		if (skip_ws_nl(t) < 0)
			goto fail;
		if (t->p < t->end && *t->p == ']') {
			t->p++;
			return seq;
		}
		if (t->p >= t->end) {
			fail(t, at, "unterminated array; close it with ']'");
			goto fail;
		}
		if (!(v = parse_value(t, level + 1)))
			goto fail;
		seq_add(seq, v);
		if (skip_ws_nl(t) < 0)
			goto fail;
		if (t->p < t->end && *t->p == ',') {
			t->p++;
			continue;
		}
		if (t->p < t->end && *t->p == ']') {
			t->p++;
			return seq;
		}
		if (t->p >= t->end)
			fail(t, at, "unterminated array; close it with ']'");
		else
			fail(t, here(t), "expected ',' or ']' in the array of line %d, found %s; "
			     "separate the values with commas", at.line, found(t));
		goto fail;
	}
fail:
	node_free(seq);
	return NULL;
}

static struct node *parse_inline_table(struct tp *t, int level)
{
	struct pos at = here(t);
	struct node *map;

	if (level > DOC_MAX_DEPTH) {
		fail(t, at, "%s", too_deep);
		return NULL;
	}
	if (!(map = new_node(t, NODE_MAP, at)))
		return NULL;
	map->quoted = T_FROZEN;
	t->p++;
	skip_ws(t);
	if (t->p < t->end && *t->p == '}') {
		t->p++;
		return map;
	}
	for (;;) {
		skip_ws(t);
		if (t->p >= t->end || at_newline(t) || *t->p == '#')
			goto one_line;
		if (keyval(t, map, level) < 0)
			goto fail;
		skip_ws(t);
		if (t->p < t->end && *t->p == ',') {
			t->p++;
			skip_ws(t);
			if (t->p < t->end && *t->p == '}') {
				fail(t, here(t), "a comma before '}' in an inline table; remove it "
				     "(TOML 1.0 allows no trailing comma there)");
				goto fail;
			}
			continue;
		}
		if (t->p < t->end && *t->p == '}') {
			t->p++;
			return map;
		}
		if (t->p >= t->end || at_newline(t) || *t->p == '#')
			goto one_line;
		fail(t, here(t), "expected ',' or '}' in the inline table of line %d, found %s; "
		     "separate the pairs with commas", at.line, found(t));
		goto fail;
	}
one_line:
	fail(t, here(t), "expected '}' to close the inline table of line %d, found %s; an "
	     "inline table must be on one line (use a [table] section for a longer one)",
	     at.line, found(t));
fail:
	node_free(map);
	return NULL;
}

/* The end of the token at the cursor: the next blank, separator or line end. */
static const char *token_end(const struct tp *t)
{
	const char *q = t->p;

	while (q < t->end && !strchr(" \t\r\n,[]{}#=\"'", *q) && *q)
		q++;
	return q;
}

static struct node *parse_value(struct tp *t, int level)
{
	struct pos at = here(t);
	const char *s = t->p, *q;
	size_t n;
	unsigned char c;

	if (s >= t->end || at_newline(t) || *s == '#' || *s == ',' || *s == ']' || *s == '}') {
		fail(t, at, "expected a value, found %s; write a string in quotes, a number, "
		     "true or false, a date, an array [...] or an inline table {...}", found(t));
		return NULL;
	}
	c = (unsigned char)*s;
	if (c == '"' || c == '\'') {
		if (parse_string(t, 1) < 0)
			return NULL;
		return new_scalar(t, at, t->sb.s, t->sb.len, 1);
	}
	if (c == '[')
		return parse_array(t, level);
	if (c == '{')
		return parse_inline_table(t, level);
	q = token_end(t);
	n = (size_t)(q - s);
	if ((n == 4 && !memcmp(s, "true", 4)) || (n == 5 && !memcmp(s, "false", 5))) {
		t->p = q;
		return new_scalar(t, at, s, n, 0);
	}
	if (n >= 5 && is_dec(c) && is_dec((unsigned char)s[1]) && is_dec((unsigned char)s[2]) &&
	    is_dec((unsigned char)s[3]) && s[4] == '-')
		return parse_datetime(t, at);
	if (n >= 3 && is_dec(c) && is_dec((unsigned char)s[1]) && s[2] == ':')
		return parse_datetime(t, at);
	if (is_dec(c) || c == '+' || c == '-' || c == '.' || (n == 3 && !memcmp(s, "inf", 3)) ||
	    (n == 3 && !memcmp(s, "nan", 3))) {
		t->p = q;
		return parse_number(t, at, s, n);
	}
	if (c < 0x20 || c == 0x7F) {
		bad_control(t, "a value");
		return NULL;
	}
	fail(t, at, "expected a value, found '%.*s'; put strings in quotes (\"%.*s\"), and "
	     "write booleans as true or false", shown(s, n), s, shown(s, n), s);
	return NULL;
}

/* ---- key/value pairs and tables ---- */

/* One key = value into table `tab` (at nesting `level`). */
static int keyval(struct tp *t, struct node *tab, int level)
{
	struct dkey k = { 0 };
	const struct node *kn;
	struct node *c, *val;
	int ret = -1;
	size_t i;

	if (parse_key(t, &k) < 0)
		goto out;
	skip_ws(t);
	if (t->p >= t->end || *t->p != '=') {
		fail(t, here(t), "expected '=' after the key '%s', found %s; write key = value",
		     k.parts[k.n - 1].s, found(t));
		goto out;
	}
	t->p++;
	skip_ws(t);
	for (i = 0; i + 1 < k.n; i++) {
		c = lookup(t, tab, k.parts[i].s, &kn);
		level++;
		if (!c) {
			c = add_table(t, tab, &k.parts[i], k.parts[i].at, T_DOTTED, level);
			if (!c)
				goto out;
		} else if (c->kind != NODE_MAP || (c->quoted & (T_DEFINED | T_FROZEN))) {
			not_a_table(t, &k, i + 1, c, kn, 0);
			goto out;
		}
		c->quoted |= T_DOTTED;
		tab = c;
	}
	if ((c = lookup(t, tab, k.parts[k.n - 1].s, &kn))) {
		char *name = key_text(&k, k.n);

		fail(t, k.parts[k.n - 1].at, "duplicate key '%s' (first at line %d, column %d); "
		     "remove one of the two", name, kn->line, kn->col);
		free(name);
		goto out;
	}
	if (!(val = parse_value(t, level + 1)))
		goto out;
	if (map_add(t, tab, &k.parts[k.n - 1], val))
		ret = 0;
out:
	dkey_release(&k);
	return ret;
}

/*
 * A [table] or [[array of tables]] header at the cursor: makes *cur the
 * table that the next key/values go into, at nesting *level.
 */
static int header(struct tp *t, struct node *root, struct node **cur, int *level)
{
	struct pos at = here(t);
	int aot = t->p + 1 < t->end && t->p[1] == '[';
	struct dkey k = { 0 };
	const struct node *kn;
	struct node *tab = root, *c;
	int ret = -1, lv = 1;
	size_t i;

	t->p += aot ? 2 : 1;
	skip_ws(t);
	if (parse_key(t, &k) < 0)
		goto out;
	skip_ws(t);
	if (t->p >= t->end || *t->p != ']' || (aot && (t->end - t->p < 2 || t->p[1] != ']'))) {
		fail(t, here(t), "expected '%s' to close the table header, found %s; write "
		     "%s", aot ? "]]" : "]", found(t), aot ? "[[name]] or [[a.b]]" :
		     "[name] or [a.b]");
		goto out;
	}
	t->p += aot ? 2 : 1;
	for (i = 0; i + 1 < k.n; i++) {
		c = lookup(t, tab, k.parts[i].s, &kn);
		lv++;
		if (!c) {
			c = add_table(t, tab, &k.parts[i], k.parts[i].at, T_IMPLICIT, lv);
			if (!c)
				goto out;
		} else if (c->kind == NODE_SEQ && (c->quoted & T_AOT)) {
			c = c->items[c->n - 1];
			lv++;
		} else if (c->kind != NODE_MAP || (c->quoted & T_FROZEN)) {
			not_a_table(t, &k, i + 1, c, kn, 1);
			goto out;
		}
		tab = c;
	}
	c = lookup(t, tab, k.parts[k.n - 1].s, &kn);
	lv++;
	if (!aot) {
		if (!c) {
			c = add_table(t, tab, &k.parts[k.n - 1], at, T_DEFINED, lv);
			if (!c)
				goto out;
		} else if (c->kind == NODE_MAP && c->quoted == T_IMPLICIT) {
			c->quoted = T_DEFINED;
			c->line = at.line;
			c->col = at.col;
		} else if (c->kind == NODE_MAP && !(c->quoted & (T_DEFINED | T_FROZEN))) {
			char *name = key_text(&k, k.n);

			fail(t, at, "table '%s' is already defined by dotted keys (line %d); put "
			     "all of its keys under one [%s] header, or keep them all dotted",
			     name, c->line, name);
			free(name);
			goto out;
		} else {
			not_a_table(t, &k, k.n, c, kn, 1);
			goto out;
		}
		*cur = c;
		*level = lv;
	} else {
		struct node *el;

		if (!c) {
			if (lv > DOC_MAX_DEPTH) {
				fail(t, at, "%s", too_deep);
				goto out;
			}
			if (!(c = new_node(t, NODE_SEQ, at)))
				goto out;
			c->quoted = T_AOT;
			if (!map_add(t, tab, &k.parts[k.n - 1], c))
				goto out;
		} else if (c->kind != NODE_SEQ || !(c->quoted & T_AOT)) {
			char *name = key_text(&k, k.n);

			if (c->kind == NODE_SEQ)
				fail(t, at, "'%s' is already an array (line %d), which [[%s]] cannot "
				     "extend; write its tables inside that array, or use [[%s]] "
				     "for all of them", name, c->line, name, name);
			else if (c->kind == NODE_MAP)
				fail(t, at, "'%s' is already a table (line %d), so it cannot be an "
				     "array of tables too; rename one of the two", name, c->line);
			else
				fail(t, at, "'%s' is already a value (line %d, column %d), so it "
				     "cannot be an array of tables too; rename one of the two",
				     name, kn->line, kn->col);
			free(name);
			goto out;
		}
		lv++;
		if (lv > DOC_MAX_DEPTH) {
			fail(t, at, "%s", too_deep);
			goto out;
		}
		if (!(el = new_node(t, NODE_MAP, at)))
			goto out;
		el->quoted = T_DEFINED;
		seq_add(c, el);
		*cur = el;
		*level = lv;
	}
	ret = end_line(t, "the table header");
out:
	dkey_release(&k);
	return ret;
}

static int parse_doc(struct tp *t, struct node *root)
{
	struct node *cur = root;
	int level = 1;

	for (;;) {
		if (skip_ws_nl(t) < 0)
			return -1;
		if (t->p >= t->end)
			return 0;
		if (*t->p == '[') {
			if (header(t, root, &cur, &level) < 0)
				return -1;
			continue;
		}
		if (keyval(t, cur, level) < 0 || end_line(t, "the value") < 0)
			return -1;
	}
}

/* Clears the T_* flags that parsing kept in collections' `quoted` fields. */
static void clear_flags(struct node *n)
{
	size_t i;

	if (n->kind == NODE_SCALAR)
		return;
	n->quoted = 0;
	for (i = 0; i < n->n; i++)
		clear_flags(n->items[i]);
}

/* Checks that the text is UTF-8; an error names the first bad byte's position. */
static int check_utf8(struct tp *t)
{
	const unsigned char *s = (const unsigned char *)t->p, *end = (const unsigned char *)t->end;

	while (s < end) {
		int n = utf8_seq(s, end);

		if (!n) {
			const char *bad = (const char *)s;

			/* the position: count lines and code points up to it */
			while (t->p < bad) {
				if (at_newline(t))
					eat_newline(t);
				else
					t->p++;
			}
			t->p = bad;
			return fail(t, here(t), "invalid UTF-8 (byte 0x%02X); save the file as "
				    "UTF-8", *s);
		}
		s += n;
	}
	return 0;
}

struct doc *toml_load_buf(const char *name, const char *data, size_t len, struct rp_err *err)
{
	struct doc *d;
	struct node *root;
	struct tp t;
	size_t i;
	int ret;

	if (len > DOC_MAX_BYTES) {
		rp_err_set(err, RP_ERR_INPUT, "%s: file too large (more than %u MiB) for a "
			   "TOML file; keep bulk data in files that stages read", name,
			   DOC_MAX_BYTES >> 20);
		return NULL;
	}
	d = xcalloc(1, sizeof(*d));
	d->file = xstrdup(name);
	memset(&t, 0, sizeof(t));
	t.file = d->file;
	t.p = data ? data : "";
	t.end = t.p + (data ? len : 0);
	t.line = 1;
	t.col = 1;
	t.err = err;
	buf_init(&t.kb);
	buf_init(&t.sb);
	hmap_init(&t.index, 64);
	if (t.end - t.p >= 3 && !memcmp(t.p, "\xEF\xBB\xBF", 3))
		t.p += 3;               /* a byte order mark is not text */
	t.colp = t.p;
	root = node_alloc(NODE_MAP, d->file, 1, 1);
	t.nodes = 1;
	ret = check_utf8(&t);
	if (ret == 0)
		ret = parse_doc(&t, root);
	for (i = 0; i < t.nr_ikeys; i++)
		free(t.ikeys[i]);
	free(t.ikeys);
	hmap_free(&t.index);
	buf_release(&t.kb);
	buf_release(&t.sb);
	if (ret < 0) {
		if (!t.failed)
			BUG("toml: a parse failed without a message");
		node_free(root);
		doc_free(d);
		return NULL;
	}
	clear_flags(root);
	d->root = root;
	return d;
}
