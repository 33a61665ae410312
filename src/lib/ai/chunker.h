/*
 * chunker.h - splitting one document's text into chunks: pure functions,
 * no I/O, the same text and parameters always give the same chunks.
 *
 *     struct chunk_params p = { CHUNK_RECURSIVE, 800, 100, CHUNK_CHARS };
 *     struct chunk_list l;
 *     if (chunker_check(&p, &err) < 0) ...            (size > 0, overlap < size)
 *     chunker_split(&p, text, len, &l);
 *     for (size_t i = 0; i < l.n; i++)
 *         use text + l.v[i].off, l.v[i].len and l.v[i].headings
 *     chunk_list_release(&l);
 *
 * Every chunk is a span of the input (never a copy), so its text is
 * exactly bytes [off, off + len) of `text`; the chunk never depends on
 * anything but this one text. Empty (all-whitespace) chunks are never
 * produced. `text` must be valid UTF-8 (jansson guarantees it for JSON
 * strings); sizes in CHUNK_CHARS count code points, never bytes, and no
 * span starts or ends inside a UTF-8 sequence.
 */
#ifndef RP_CHUNKER_H
#define RP_CHUNKER_H

#include <stddef.h>
#include "util/error.h"

enum chunk_strategy {
	CHUNK_FIXED,
	CHUNK_RECURSIVE,
	CHUNK_MARKDOWN,
	CHUNK_SENTENCE,
};

enum chunk_unit {
	CHUNK_CHARS,            /* Unicode code points */
	CHUNK_WORDS,            /* maximal runs of non-whitespace (ASCII whitespace) */
};

struct chunk_params {
	enum chunk_strategy strategy;
	size_t size;            /* most units in a chunk (> 0) */
	size_t overlap;         /* units shared by neighbouring chunks (< size) */
	enum chunk_unit unit;
};

struct chunk {
	size_t off, len;        /* the chunk's text: bytes [off, off + len) of the input */
	size_t nheadings;
	/* The heading path the chunk sits under, outermost first; owned by the list. */
	const char *const *headings;
};

struct chunk_heading;

struct chunk_list {
	struct chunk *v;
	size_t n, alloc;
	/* private: the document's headings, which own the strings chunks point to */
	struct chunk_heading *h;
	size_t nh;
};

/* Name of a strategy ("fixed", ...) and its version (progver.h's table); static storage. */
const char *chunker_name(enum chunk_strategy s);
int chunker_version(enum chunk_strategy s);
/* Parses "fixed", "recursive", "markdown" or "sentence"; 0 or -1. */
int chunker_parse_strategy(const char *name, enum chunk_strategy *s);
/* Parses "chars" or "words"; 0 or -1. */
int chunker_parse_unit(const char *name, enum chunk_unit *u);
/* "chars" or "words"; static storage. */
const char *chunker_unit_name(enum chunk_unit u);

/* Checks 0 < size and 0 <= overlap < size; 0, or -1 + err (RP_ERR_INPUT). */
int chunker_check(const struct chunk_params *p, struct rp_err *err);

/*
 * Splits `len` bytes of `text` into `out`, which it initialises; the caller
 * releases it with chunk_list_release() (also when there are no chunks).
 * The parameters must have passed chunker_check() (BUG otherwise).
 */
void chunker_split(const struct chunk_params *p, const char *text, size_t len,
		   struct chunk_list *out);
void chunk_list_release(struct chunk_list *l);

/* Units of [s, s + len) in `u`: code points or words. */
size_t chunker_count(enum chunk_unit u, const char *s, size_t len);

#endif
