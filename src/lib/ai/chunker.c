/*
 * chunker.c - the chunking strategies of rp-chunk (see chunker.h).
 *
 * Every strategy works on spans of the one input text, measured in the
 * chosen unit (code points or words):
 *
 *   fixed      windows of `size` units, each starting `size - overlap` units
 *              after the previous one; the last window ends at the end of
 *              the text. Windows are exact (not trimmed); chars windows are
 *              cut at code point boundaries, words windows run from the
 *              first byte of their first word to the last byte of their
 *              last word. All-whitespace windows are skipped.
 *   recursive  LangChain's RecursiveCharacterTextSplitter: the first of the
 *              separators "\n\n", "\n", ". ", " ", "" that occurs in the
 *              text splits it into pieces (each separator stays at the end
 *              of the piece it closes; "" splits into code points, or into
 *              words with their trailing whitespace for --unit words).
 *              Pieces of at most `size` units are merged greedily into
 *              chunks of at most `size` units, the next chunk starting with
 *              the trailing pieces of the previous one that fit in
 *              `overlap` units; a piece larger than `size` is split again
 *              with the remaining separators. Chunks are trimmed of
 *              surrounding whitespace.
 *   markdown   the text is cut at ATX headings (up to three spaces, 1-6 '#',
 *              then a blank or the end of the line; not inside ``` or ~~~
 *              fences). Each section's body (without its heading line) is
 *              one chunk when it fits in `size`, else it is split as
 *              `recursive` does. Sections are never merged, so an edit
 *              changes the chunks of its own section only.
 *   sentence   the text is cut into sections at ATX headings (as for
 *              markdown, but the heading line stays, as a sentence of its
 *              own). Sentences end at '.', '!' or '?' (with any closing
 *              quotes or brackets) followed by whitespace or the end, and
 *              at blank lines. The whole sentences of a section are packed
 *              into chunks of at most `size` units with the same merge as
 *              `recursive` (so the overlap is made of whole sentences); a
 *              sentence larger than `size` is split as `recursive` does.
 *
 * Every chunk also gets the heading path it sits under: the path of the
 * last ATX heading that starts at or before the chunk's first byte, for
 * every strategy.
 *
 * Versions: each strategy has a version number that rp-chunk writes into
 * every output line ("recursive@1"). Whenever a change to this file would
 * make a strategy produce different chunks (text, boundaries or headings)
 * for the same input and parameters, bump that strategy's version in the
 * table of core/progver.c, so that every downstream cache key changes with
 * it and the runner sees the stages that run it dirty (key.h).
 */
#include "ai/chunker.h"
#include "core/progver.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
} strategies[] = {
	[CHUNK_FIXED] = { "fixed" },
	[CHUNK_RECURSIVE] = { "recursive" },
	[CHUNK_MARKDOWN] = { "markdown" },
	[CHUNK_SENTENCE] = { "sentence" },
};

#define NSTRATEGIES (sizeof(strategies) / sizeof(strategies[0]))

/* The recursive separators, in order; the last ("") means code points / words. */
static const char *const separators[] = { "\n\n", "\n", ". ", " ", "" };
#define NSEP (sizeof(separators) / sizeof(separators[0]))

struct chunk_heading {
	size_t off;             /* first byte of the heading line */
	size_t body;            /* first byte after the heading line */
	int level;
	char *title;
	const char **path;      /* titles of the enclosing headings and this one */
	size_t depth;
};

struct piece {
	size_t off, len, units;
	size_t trail;           /* units of its trailing whitespace */
};

struct pieces {
	struct piece *v;
	size_t n, alloc;
};

struct ctx {
	const struct chunk_params *p;
	const char *t;
	size_t tlen;
	struct chunk_list *out;
};

const char *chunker_name(enum chunk_strategy s)
{
	return (size_t)s < NSTRATEGIES ? strategies[s].name : "?";
}

int chunker_version(enum chunk_strategy s)
{
	return (size_t)s < NSTRATEGIES ? progver_get("chunk", strategies[s].name) : 0;
}

int chunker_parse_strategy(const char *name, enum chunk_strategy *s)
{
	for (size_t i = 0; i < NSTRATEGIES; i++)
		if (!strcmp(name, strategies[i].name)) {
			*s = i;
			return 0;
		}
	return -1;
}

int chunker_parse_unit(const char *name, enum chunk_unit *u)
{
	if (!strcmp(name, "chars"))
		*u = CHUNK_CHARS;
	else if (!strcmp(name, "words"))
		*u = CHUNK_WORDS;
	else
		return -1;
	return 0;
}

const char *chunker_unit_name(enum chunk_unit u)
{
	return u == CHUNK_WORDS ? "words" : "chars";
}

int chunker_check(const struct chunk_params *p, struct rp_err *err)
{
	if (p->size == 0)
		return rp_err_set(err, RP_ERR_INPUT, "chunk size must be greater than 0");
	if (p->overlap >= p->size)
		return rp_err_set(err, RP_ERR_INPUT,
				  "overlap %zu must be smaller than the chunk size %zu",
				  p->overlap, p->size);
	return 0;
}

static int is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

size_t chunker_count(enum chunk_unit u, const char *s, size_t len)
{
	size_t n = 0;

	if (u == CHUNK_CHARS) {
		for (size_t i = 0; i < len; i++)
			n += !is_cont(s[i]);
	} else {
		int in = 0;

		for (size_t i = 0; i < len; i++) {
			int w = !is_ws(s[i]);

			n += w && !in;
			in = w;
		}
	}
	return n;
}

/* ---- output ---------------------------------------------------------- */

static void push_chunk(struct ctx *c, size_t off, size_t end)
{
	struct chunk_list *l = c->out;

	ALLOC_GROW(l->v, l->n + 1, l->alloc);
	l->v[l->n].off = off;
	l->v[l->n].len = end - off;
	l->v[l->n].nheadings = 0;
	l->v[l->n].headings = NULL;
	l->n++;
}

/* Emits [off, end) trimmed of whitespace, unless nothing is left. */
static void emit_trimmed(struct ctx *c, size_t off, size_t end)
{
	while (off < end && is_ws(c->t[off]))
		off++;
	while (end > off && is_ws(c->t[end - 1]))
		end--;
	if (off < end)
		push_chunk(c, off, end);
}

/* Emits [off, end) as it is, unless it is all whitespace. */
static void emit_exact(struct ctx *c, size_t off, size_t end)
{
	for (size_t i = off; i < end; i++)
		if (!is_ws(c->t[i])) {
			push_chunk(c, off, end);
			return;
		}
}

/* ---- fixed ----------------------------------------------------------- */

static void split_fixed(struct ctx *c)
{
	size_t step = c->p->size - c->p->overlap, n = 0, alloc = 0;
	size_t *start = NULL, *end = NULL;   /* unit i is [start[i], end[i]) */
	size_t ealloc = 0;

	if (c->p->unit == CHUNK_CHARS) {
		for (size_t i = 0; i < c->tlen; i++) {
			if (is_cont(c->t[i]))
				continue;
			ALLOC_GROW(start, n + 1, alloc);
			ALLOC_GROW(end, n + 1, ealloc);
			if (n)
				end[n - 1] = i;
			start[n++] = i;
		}
		if (n)
			end[n - 1] = c->tlen;
	} else {
		for (size_t i = 0; i < c->tlen; ) {
			size_t j;

			if (is_ws(c->t[i])) {
				i++;
				continue;
			}
			for (j = i; j < c->tlen && !is_ws(c->t[j]); j++)
				;
			ALLOC_GROW(start, n + 1, alloc);
			ALLOC_GROW(end, n + 1, ealloc);
			start[n] = i;
			end[n++] = j;
			i = j;
		}
	}
	for (size_t k = 0; k < n; k += step) {
		size_t e = k + c->p->size < n ? k + c->p->size : n;

		emit_exact(c, start[k], end[e - 1]);
		if (e == n)
			break;
	}
	free(start);
	free(end);
}

/* ---- pieces and the merge shared by recursive, markdown, sentence ------ */

static void add_piece(struct ctx *c, struct pieces *ps, size_t off, size_t end)
{
	if (end <= off)
		return;
	ALLOC_GROW(ps->v, ps->n + 1, ps->alloc);
	ps->v[ps->n].off = off;
	ps->v[ps->n].len = end - off;
	ps->v[ps->n].units = chunker_count(c->p->unit, c->t + off, end - off);
	ps->v[ps->n].trail = 0;
	if (c->p->unit == CHUNK_CHARS)
		while (end > off && is_ws(c->t[end - 1])) {
			ps->v[ps->n].trail++;
			end--;
		}
	ps->n++;
}

/*
 * LangChain's _merge_splits over the contiguous pieces v[a..b), each at most
 * `size` units: greedy chunks of at most `size` units; after each chunk the
 * window keeps its trailing pieces that fit in `overlap` (and leave room for
 * the next piece). Lengths leave out the trailing whitespace of the last
 * piece, which trimming removes.
 */
static void merge(struct ctx *c, const struct piece *v, size_t a, size_t b)
{
	size_t size = c->p->size, overlap = c->p->overlap;
	size_t head = a, total = 0;

	for (size_t i = a; i < b; i++) {
		size_t need = v[i].units - v[i].trail;

		if (i > head && total + need > size) {
			emit_trimmed(c, v[head].off, v[i - 1].off + v[i - 1].len);
			while (head < i && (total - v[i - 1].trail > overlap ||
					    (total + need > size && total > 0))) {
				total -= v[head].units;
				head++;
			}
		}
		total += v[i].units;
	}
	if (head < b)
		emit_trimmed(c, v[head].off, v[b - 1].off + v[b - 1].len);
}

static void split_rec(struct ctx *c, size_t off, size_t end, size_t level);

/*
 * Runs of pieces that fit are merged; a piece larger than `size` is split
 * again from separator `next` on (or emitted as it is when none is left).
 */
static void merge_or_split(struct ctx *c, const struct pieces *ps, size_t next)
{
	size_t good = 0;

	for (size_t j = 0; j < ps->n; j++) {
		const struct piece *pc = &ps->v[j];

		if (pc->units - pc->trail <= c->p->size)
			continue;
		merge(c, ps->v, good, j);
		if (next < NSEP)
			split_rec(c, pc->off, pc->off + pc->len, next);
		else
			emit_trimmed(c, pc->off, pc->off + pc->len);
		good = j + 1;
	}
	merge(c, ps->v, good, ps->n);
}

/* The last level: code points, or words with their trailing whitespace. */
static void split_last(struct ctx *c, struct pieces *ps, size_t off, size_t end)
{
	size_t start = off;

	for (size_t i = off + 1; i < end; i++) {
		int cut = c->p->unit == CHUNK_CHARS ? !is_cont(c->t[i])
			: (!is_ws(c->t[i]) && is_ws(c->t[i - 1]));

		if (cut) {
			add_piece(c, ps, start, i);
			start = i;
		}
	}
	add_piece(c, ps, start, end);
}

static void split_rec(struct ctx *c, size_t off, size_t end, size_t level)
{
	struct pieces ps = { 0 };
	size_t i;

	for (i = level; i < NSEP - 1; i++)
		if (memmem(c->t + off, end - off, separators[i], strlen(separators[i])))
			break;
	if (i < NSEP - 1) {
		const char *sep = separators[i];
		size_t sl = strlen(sep), start = off, pos = off;
		const char *q;

		while (pos < end && (q = memmem(c->t + pos, end - pos, sep, sl))) {
			pos = (size_t)(q - c->t) + sl;
			add_piece(c, &ps, start, pos);
			start = pos;
		}
		add_piece(c, &ps, start, end);
	} else {
		split_last(c, &ps, off, end);
	}
	merge_or_split(c, &ps, i + 1);
	free(ps.v);
}

/* ---- headings -------------------------------------------------------- */

/* Length of a run of `ch` at s[0..len). */
static size_t run_of(const char *s, size_t len, char ch)
{
	size_t n = 0;

	while (n < len && s[n] == ch)
		n++;
	return n;
}

static void scan_headings(struct chunk_list *l, const char *t, size_t len)
{
	size_t alloc = 0, *stack = NULL, depth = 0, salloc = 0;
	char fence = 0;
	size_t fence_len = 0;

	for (size_t ls = 0; ls < len; ) {
		const char *nl = memchr(t + ls, '\n', len - ls);
		size_t le = nl ? (size_t)(nl - t) : len;       /* end of line */
		size_t next = nl ? le + 1 : len;
		size_t i = ls, n;

		while (i < le && i - ls < 3 && t[i] == ' ')
			i++;
		if (i < le && (t[i] == '`' || t[i] == '~')) {
			n = run_of(t + i, le - i, t[i]);
			if (n >= 3) {
				if (!fence) {
					fence = t[i];
					fence_len = n;
				} else if (t[i] == fence && n >= fence_len) {
					fence = 0;
				}
			}
		} else if (!fence && i < le && t[i] == '#') {
			n = run_of(t + i, le - i, '#');
			if (n <= 6 && (i + n == le || t[i + n] == ' ' || t[i + n] == '\t' ||
				       t[i + n] == '\r')) {
				size_t a = i + n, b = le;
				struct chunk_heading *h;

				while (a < b && is_ws(t[a]))
					a++;
				while (b > a && is_ws(t[b - 1]))
					b--;
				/* a closing sequence of '#' preceded by a blank */
				if (b > a && t[b - 1] == '#') {
					size_t k = b;

					while (k > a && t[k - 1] == '#')
						k--;
					if (k == a || is_ws(t[k - 1])) {
						b = k;
						while (b > a && is_ws(t[b - 1]))
							b--;
					}
				}
				while (depth && l->h[stack[depth - 1]].level >= (int)n)
					depth--;
				ALLOC_GROW(l->h, l->nh + 1, alloc);
				ALLOC_GROW(stack, depth + 1, salloc);
				stack[depth++] = l->nh;
				h = &l->h[l->nh++];
				h->off = ls;
				h->body = next;
				h->level = n;
				h->title = xstrndup(t + a, b - a);
				h->path = xmalloc(depth * sizeof(*h->path));
				h->depth = depth;
				/* titles are separate allocations: stable while l->h grows */
				for (size_t d = 0; d < depth; d++)
					h->path[d] = l->h[stack[d]].title;
			}
		}
		ls = next;
	}
	free(stack);
}

static void assign_headings(struct chunk_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		size_t lo = 0, hi = l->nh;

		/* the last heading with off <= chunk off */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (l->h[mid].off <= l->v[i].off)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo) {
			l->v[i].headings = l->h[lo - 1].path;
			l->v[i].nheadings = l->h[lo - 1].depth;
		}
	}
}

/* ---- markdown and sentence --------------------------------------------- */

static void split_section(struct ctx *c, size_t off, size_t end)
{
	if (off >= end)
		return;
	if (chunker_count(c->p->unit, c->t + off, end - off) <= c->p->size)
		emit_trimmed(c, off, end);
	else
		split_rec(c, off, end, 0);
}

static void split_markdown(struct ctx *c)
{
	const struct chunk_list *l = c->out;
	size_t off = 0;

	for (size_t k = 0; k < l->nh; k++) {
		split_section(c, off, l->h[k].off);
		off = l->h[k].body;
	}
	split_section(c, off, c->tlen);
}

static int closes_sentence(unsigned char ch)
{
	return ch == '"' || ch == '\'' || ch == ')' || ch == ']';
}

/*
 * Sentences of [off, end) into ps; `head` is the end of a heading line at
 * the start of the range (or 0), which closes a sentence of its own.
 */
static void sentences(struct ctx *c, struct pieces *ps, size_t off, size_t end, size_t head)
{
	const char *t = c->t;
	size_t start = off, i = off;

	while (i < end) {
		size_t cut = 0;

		if (i == head && i > start) {
			cut = i;
		} else if (t[i] == '.' || t[i] == '!' || t[i] == '?') {
			size_t j = i + 1;

			while (j < end && (t[j] == '.' || t[j] == '!' || t[j] == '?'))
				j++;
			for (;;) {
				if (j < end && closes_sentence(t[j]))
					j++;
				else if (j + 2 < end && (unsigned char)t[j] == 0xE2 &&
					 (unsigned char)t[j + 1] == 0x80 &&
					 ((unsigned char)t[j + 2] == 0x9D || (unsigned char)t[j + 2] == 0x99))
					j += 3;          /* closing curly quotes */
				else
					break;
			}
			if (j < end && !is_ws(t[j])) {
				i = j;
				continue;
			}
			while (j < end && is_ws(t[j]) && t[j] != '\n')
				j++;
			if (j < end && t[j] == '\n')
				j++;
			cut = j;
		} else if (t[i] == '\n') {
			size_t j = i + 1;

			while (j < end && (t[j] == ' ' || t[j] == '\t' || t[j] == '\r'))
				j++;
			if (j < end && t[j] == '\n') {
				while (j < end && is_ws(t[j]))
					j++;
				cut = j;
			}
		}
		if (cut) {
			add_piece(c, ps, start, cut);
			start = i = cut;
		} else {
			i++;
		}
	}
	add_piece(c, ps, start, end);
}

/* Sections start at heading lines; sentences are packed within a section. */
static void split_sentence(struct ctx *c)
{
	const struct chunk_list *l = c->out;

	for (size_t k = 0; k <= l->nh; k++) {
		size_t off = k ? l->h[k - 1].off : 0;
		size_t end = k < l->nh ? l->h[k].off : c->tlen;
		struct pieces ps = { 0 };

		sentences(c, &ps, off, end, k ? l->h[k - 1].body : 0);
		merge_or_split(c, &ps, 0);
		free(ps.v);
	}
}

void chunker_split(const struct chunk_params *p, const char *text, size_t len,
		   struct chunk_list *out)
{
	struct ctx c = { p, text, len, out };

	if (chunker_check(p, NULL) < 0)
		BUG("chunker_split: invalid parameters");
	memset(out, 0, sizeof(*out));
	scan_headings(out, text, len);
	switch (p->strategy) {
	case CHUNK_FIXED: split_fixed(&c); break;
	case CHUNK_RECURSIVE: split_rec(&c, 0, len, 0); break;
	case CHUNK_MARKDOWN: split_markdown(&c); break;
	case CHUNK_SENTENCE: split_sentence(&c); break;
	default: BUG("unknown chunk strategy %d", (int)p->strategy);
	}
	assign_headings(out);
}

void chunk_list_release(struct chunk_list *l)
{
	for (size_t k = 0; k < l->nh; k++) {
		free(l->h[k].title);
		free(l->h[k].path);
	}
	free(l->h);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
