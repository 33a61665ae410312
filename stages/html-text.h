/*
 * html-text.h - the visible text and the title of an HTML page.
 *
 * A small, forgiving tag stripper for rp-extract (libxml2 is not one of
 * rp's dependencies). It never fails: whatever is not a well-formed tag,
 * comment or entity is kept as text.
 *
 *     struct buf text = BUF_INIT, title = BUF_INIT;
 *     html_text(html, len, &text, &title);
 *     ... use text.s, title.s ...
 *     buf_release(&text); buf_release(&title);
 *
 * What is dropped: tags, comments, <!DOCTYPE ...>, <?...?>, CDATA sections,
 * and the contents of <script>, <style>, <template> and <title> (the title
 * goes to `title` instead). Entities &amp; &lt; &gt; &quot; &apos; &#39;
 * &nbsp; (as a plain space), some typographic and Latin-1 ones (&mdash;
 * &hellip; &rsaquo; &divide; &eacute; ...)
 * and numeric &#NNN; / &#xHH; are decoded; a numeric reference to NUL, a
 * surrogate or a code point above U+10FFFF becomes U+FFFD; unknown entities
 * stay as written.
 *
 * Layout: runs of white space collapse to one space; block elements (p, div,
 * h1..h6, ul, table, blockquote, ...) start a new paragraph (a blank line),
 * <br>, <li>, <tr>, <dt>, <dd> a new line, <td>/<th> a space; inside <pre>
 * white space is kept as written. The text has no leading or trailing white
 * space and no trailing spaces on any line.
 *
 * Title: the text of the first <title>, white space collapsed and trimmed;
 * when there is none (or it is empty), the text of the first <h1>..<h6>.
 * Otherwise "".
 *
 * The input should be valid UTF-8 (rp-extract repairs it first); bytes
 * outside markup are copied through unchanged.
 */
#ifndef RP_HTML_TEXT_H
#define RP_HTML_TEXT_H

#include <stddef.h>
#include "util/buf.h"

/*
 * Extracts the visible text of `len` bytes of HTML at `html` (borrowed) into
 * `text` and its title into `title`; both buffers are owned by the caller
 * and are reset first. Never fails.
 */
void html_text(const char *html, size_t len, struct buf *text, struct buf *title);

/*
 * Appends the UTF-8 encoding of code point `cp` to `b`; NUL, surrogates and
 * values above U+10FFFF are written as U+FFFD.
 */
void html_put_utf8(struct buf *b, unsigned long cp);

#endif
