/*
 * html-text.c - HTML to visible text and title (see html-text.h).
 *
 * One left-to-right pass over the bytes. At '<' we try to read a comment, a
 * declaration, a processing instruction, an end tag or a start tag (with
 * quoted attribute values, which may contain '>'); anything else is text.
 * Raw-text elements (script, style, template) are skipped up to their end
 * tag, found case-insensitively; <title> is read the same way but its
 * content, entities decoded, becomes the title.
 *
 * Text goes through put_byte(), which owns the layout: white space and
 * breaks are only remembered (st->space, st->brk) and written just before
 * the next visible byte, so the output never starts or ends with white space
 * and never has a space before a newline. Invariant: brk is 0, 1 (new line)
 * or 2 (blank line), and a pending break wins over a pending space.
 * Inside <pre>, brk counts literal new lines and prews holds literal blanks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* memmem, fmemopen */
#endif
#include "html-text.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

struct state {
	struct buf *text;
	struct buf title;       /* raw title text, collapsed at the end */
	struct buf heading;     /* raw text of the first h1..h6 */
	int space;              /* a space is pending */
	int brk;                /* pending break: 1 new line, 2 blank line (more in <pre>) */
	struct buf prews;       /* pending literal spaces and tabs in <pre> */
	int pre;                /* depth of <pre> */
	int pre_start;          /* just after <pre>: a first new line is dropped */
	int in_heading;         /* inside the first heading (capturing) */
	int heading_done;       /* the first heading has been captured */
};

static const struct {
	const char *name;
	const char *utf8;
} entities[] = {
	{ "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" },
	{ "apos", "'" }, { "nbsp", " " },
	{ "mdash", "\xe2\x80\x94" }, { "ndash", "\xe2\x80\x93" },
	{ "hellip", "\xe2\x80\xa6" }, { "copy", "\xc2\xa9" }, { "reg", "\xc2\xae" },
	{ "trade", "\xe2\x84\xa2" }, { "lsquo", "\xe2\x80\x98" },
	{ "rsquo", "\xe2\x80\x99" }, { "ldquo", "\xe2\x80\x9c" },
	{ "rdquo", "\xe2\x80\x9d" }, { "middot", "\xc2\xb7" }, { "bull", "\xe2\x80\xa2" },
	{ "rarr", "\xe2\x86\x92" }, { "larr", "\xe2\x86\x90" }, { "times", "\xc3\x97" },
	{ "deg", "\xc2\xb0" }, { "euro", "\xe2\x82\xac" }, { "shy", "" },
	{ "laquo", "\xc2\xab" }, { "raquo", "\xc2\xbb" }, { "lsaquo", "\xe2\x80\xb9" },
	{ "rsaquo", "\xe2\x80\xba" }, { "divide", "\xc3\xb7" }, { "asymp", "\xe2\x89\x88" },
	{ "ne", "\xe2\x89\xa0" }, { "le", "\xe2\x89\xa4" }, { "ge", "\xe2\x89\xa5" },
	{ "minus", "\xe2\x88\x92" }, { "plusmn", "\xc2\xb1" }, { "sect", "\xc2\xa7" },
	{ "para", "\xc2\xb6" }, { "eacute", "\xc3\xa9" }, { "egrave", "\xc3\xa8" },
	{ "uuml", "\xc3\xbc" }, { "ouml", "\xc3\xb6" }, { "auml", "\xc3\xa4" }, { "szlig", "\xc3\x9f" },
};

/* Elements that start a paragraph (blank line) when opened or closed. */
static const char *const para_tags[] = {
	"address", "article", "aside", "blockquote", "body", "caption", "center",
	"details", "dialog", "dir", "div", "dl", "fieldset", "figcaption", "figure",
	"footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
	"hr", "html", "main", "menu", "nav", "ol", "p", "pre", "section", "summary",
	"table", "tbody", "tfoot", "thead", "ul",
};
/* Elements that start a new line. */
static const char *const line_tags[] = { "br", "dd", "dt", "li", "option", "tr" };
/* Elements followed by a space (table cells). */
static const char *const space_tags[] = { "td", "th" };

void html_put_utf8(struct buf *b, unsigned long cp)
{
	if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		buf_addch(b, (int)cp);
	} else if (cp < 0x800) {
		buf_addch(b, 0xc0 | (int)(cp >> 6));
		buf_addch(b, 0x80 | (int)(cp & 0x3f));
	} else if (cp < 0x10000) {
		buf_addch(b, 0xe0 | (int)(cp >> 12));
		buf_addch(b, 0x80 | (int)((cp >> 6) & 0x3f));
		buf_addch(b, 0x80 | (int)(cp & 0x3f));
	} else {
		buf_addch(b, 0xf0 | (int)(cp >> 18));
		buf_addch(b, 0x80 | (int)((cp >> 12) & 0x3f));
		buf_addch(b, 0x80 | (int)((cp >> 6) & 0x3f));
		buf_addch(b, 0x80 | (int)(cp & 0x3f));
	}
}

static int in_list(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return 1;
	return 0;
}

#define IN_LIST(name, list) in_list((name), (list), sizeof(list) / sizeof((list)[0]))

static int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static void put_break(struct state *st, int n)
{
	if (n > st->brk)
		st->brk = n;
	st->space = 0;
	buf_reset(&st->prews);
	if (st->in_heading)
		buf_addch(&st->heading, ' ');
}

static void put_space(struct state *st)
{
	if (!st->brk)
		st->space = 1;
}

/* Writes one visible byte, preceded by whatever break or space is pending. */
static void put_byte(struct state *st, int c)
{
	if (st->text->len) {
		for (int i = 0; i < st->brk; i++)
			buf_addch(st->text, '\n');
		if (!st->brk && st->space && !st->prews.len)
			buf_addch(st->text, ' ');
	}
	buf_add(st->text, st->prews.s, st->prews.len);
	buf_reset(&st->prews);
	st->brk = st->space = 0;
	buf_addch(st->text, c);
	if (st->in_heading)
		buf_addch(&st->heading, c);
}

/* Text byte `c` outside markup (or decoded from an entity). */
static void put_text(struct state *st, int c)
{
	if (st->pre) {
		int first = st->pre_start;

		st->pre_start = 0;
		if (first && c == '\n')
			return;
		/* white space is kept, but only written before the next visible byte */
		if (c == '\n') {
			st->brk++;
			st->space = 0;
			buf_reset(&st->prews);
		} else if (c == ' ' || c == '\t') {
			buf_addch(&st->prews, c);
		} else if (c != '\r') {
			put_byte(st, c);
		}
		return;
	}
	if (is_ws(c)) {
		put_space(st);
		if (st->in_heading)
			buf_addch(&st->heading, ' ');
		return;
	}
	put_byte(st, c);
}

static void put_text_str(struct state *st, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_text(st, (unsigned char)s[i]);
}

/*
 * Decodes the entity at p[0] == '&' (end at `end`) into `out`; returns the
 * number of bytes consumed, or 0 when it is not an entity we know.
 */
static size_t decode_entity(const char *p, const char *end, struct buf *out)
{
	const char *q = p + 1;
	size_t n;

	if (q < end && *q == '#') {
		unsigned long cp = 0;
		int hex = 0, digits = 0;

		q++;
		if (q < end && (*q == 'x' || *q == 'X')) {
			hex = 1;
			q++;
		}
		while (q < end && (hex ? isxdigit((unsigned char)*q) : isdigit((unsigned char)*q))) {
			int d = isdigit((unsigned char)*q) ? *q - '0' : (tolower((unsigned char)*q) - 'a' + 10);

			if (cp <= 0x10ffff)
				cp = cp * (hex ? 16 : 10) + (unsigned long)d;
			digits++;
			q++;
		}
		if (!digits || q >= end || *q != ';')
			return 0;
		html_put_utf8(out, cp);
		return (size_t)(q + 1 - p);
	}
	for (n = 0; q + n < end && n < 10 && isalnum((unsigned char)q[n]); n++)
		;
	if (!n || q + n >= end || q[n] != ';')
		return 0;
	for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
		if (strlen(entities[i].name) == n && !memcmp(entities[i].name, q, n)) {
			buf_adds(out, entities[i].utf8);
			return n + 2;
		}
	}
	return 0;
}

/* Finds "</name" (case-insensitive) in [p, end); returns it or NULL. */
static const char *find_end_tag(const char *p, const char *end, const char *name)
{
	size_t n = strlen(name);

	for (; p + 2 + n <= end; p++) {
		if (p[0] == '<' && p[1] == '/' && !strncasecmp(p + 2, name, n) &&
		    (p + 2 + n == end || !isalnum((unsigned char)p[2 + n])))
			return p;
	}
	return NULL;
}

/* Skips past the next '>' from p, honouring quoted attribute values. */
static const char *skip_tag_rest(const char *p, const char *end)
{
	char quote = 0;

	for (; p < end; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '"' || *p == '\'') {
			quote = *p;
		} else if (*p == '>') {
			return p + 1;
		}
	}
	return end;
}

/* Appends [p, q) to `out` with entities decoded (RCDATA such as <title>). */
static void decode_run(const char *p, const char *q, struct buf *out)
{
	while (p < q) {
		size_t used = *p == '&' ? decode_entity(p, q, out) : 0;

		if (used) {
			p += used;
		} else {
			buf_addch(out, (unsigned char)*p);
			p++;
		}
	}
}

/* Collapses white space of `in` into `out` (reset first), trimmed. */
static void collapse(const struct buf *in, struct buf *out)
{
	int space = 0;

	buf_reset(out);
	for (size_t i = 0; i < in->len; i++) {
		int c = (unsigned char)in->s[i];

		if (is_ws(c)) {
			space = 1;
			continue;
		}
		if (space && out->len)
			buf_addch(out, ' ');
		space = 0;
		buf_addch(out, c);
	}
}

static void start_tag(struct state *st, const char *name)
{
	if (IN_LIST(name, para_tags))
		put_break(st, 2);
	else if (IN_LIST(name, line_tags))
		put_break(st, 1);
	else if (IN_LIST(name, space_tags))
		put_space(st);
	if (!strcmp(name, "pre")) {
		st->pre++;
		st->pre_start = 1;
	}
	if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2] && !st->heading_done)
		st->in_heading = 1;
}

static void end_tag(struct state *st, const char *name)
{
	if (!strcmp(name, "pre") && st->pre > 0)
		st->pre--;
	if (IN_LIST(name, para_tags))
		put_break(st, 2);
	else if (IN_LIST(name, line_tags) && strcmp(name, "br"))
		put_break(st, 1);
	else if (IN_LIST(name, space_tags))
		put_space(st);
	if (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && !name[2] && st->in_heading) {
		st->in_heading = 0;
		st->heading_done = 1;
	}
}

/* Reads a tag name at p into name[32] (lowercased); returns the end of it. */
static const char *read_name(const char *p, const char *end, char name[32])
{
	size_t n = 0;

	while (p < end && (isalnum((unsigned char)*p) || *p == '-' || *p == ':' || *p == '_')) {
		if (n < 31)
			name[n++] = (char)tolower((unsigned char)*p);
		p++;
	}
	name[n] = '\0';
	return p;
}

/* Markup at p[0] == '<'; returns where to continue, or NULL if it is text. */
static const char *markup(struct state *st, const char *p, const char *end)
{
	char name[32];
	const char *q;

	if (p + 1 >= end)
		return NULL;
	if (end - p >= 4 && !memcmp(p, "<!--", 4)) {
		q = memmem(p + 4, (size_t)(end - p - 4), "-->", 3);
		return q ? q + 3 : end;
	}
	if (end - p >= 9 && !memcmp(p, "<![CDATA[", 9)) {
		q = memmem(p + 9, (size_t)(end - p - 9), "]]>", 3);
		put_text_str(st, p + 9, (size_t)((q ? q : end) - (p + 9)));
		return q ? q + 3 : end;
	}
	if (p[1] == '!' || p[1] == '?') {
		q = memchr(p, '>', (size_t)(end - p));
		return q ? q + 1 : end;
	}
	if (p[1] == '/' && p + 2 < end && isalpha((unsigned char)p[2])) {
		q = read_name(p + 2, end, name);
		end_tag(st, name);
		return skip_tag_rest(q, end);
	}
	if (!isalpha((unsigned char)p[1]))
		return NULL;
	q = read_name(p + 1, end, name);
	q = skip_tag_rest(q, end);
	if (!strcmp(name, "script") || !strcmp(name, "style") || !strcmp(name, "template") ||
	    !strcmp(name, "title")) {
		const char *close = find_end_tag(q, end, name);

		if (!strcmp(name, "title") && !st->title.len)
			decode_run(q, close ? close : end, &st->title);
		return close ? skip_tag_rest(close + 2, end) : end;
	}
	start_tag(st, name);
	return q;
}

void html_text(const char *html, size_t len, struct buf *text, struct buf *title)
{
	struct state st = { 0 };
	const char *p = html, *end = html + len;
	struct buf dec = BUF_INIT;

	buf_reset(text);
	buf_reset(title);
	st.text = text;
	buf_init(&st.title);
	buf_init(&st.heading);
	buf_init(&st.prews);
	while (p < end) {
		if (*p == '<') {
			const char *q = markup(&st, p, end);

			if (q) {
				p = q;
				continue;
			}
		} else if (*p == '&') {
			size_t used;

			buf_reset(&dec);
			used = decode_entity(p, end, &dec);
			if (used) {
				put_text_str(&st, dec.s, dec.len);
				p += used;
				continue;
			}
		}
		put_text(&st, (unsigned char)*p);
		p++;
	}
	collapse(&st.title, title);
	if (!title->len)
		collapse(&st.heading, title);
	buf_release(&dec);
	buf_release(&st.title);
	buf_release(&st.heading);
	buf_release(&st.prews);
}
