/*
 * utf8.h - bounding text that comes from untrusted input.
 *
 *     char *t = utf8_clip(title, UTF8_TITLE_MAX);   (caller frees)
 *
 * A title or a heading is one line of someone else's document and is copied
 * into every chunk's context: a 240 KB first line made every vector of a
 * document the same. Titles and headings are therefore clipped to
 * UTF8_TITLE_MAX code points, at a word boundary when there is one in the
 * second half of the allowance, else at a code point boundary, with "…"
 * (U+2026) as the last character to show the cut.
 */
#ifndef RP_UTF8_H
#define RP_UTF8_H

#include <stddef.h>

/* The longest title or heading, in code points, that rp-extract and rp-context keep. */
#define UTF8_TITLE_MAX 200

/*
 * A copy of the valid UTF-8 string `s`, of at most `max` (>= 2) code
 * points: `s` itself when it fits, else its start cut at the last blank
 * (space or tab) in its second half, or at a code point boundary when there
 * is none, trailing blanks removed and "…" appended. Caller frees.
 */
char *utf8_clip(const char *s, size_t max);

/* The number of code points of the valid UTF-8 string `s`. */
size_t utf8_len(const char *s);

#endif
