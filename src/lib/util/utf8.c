/*
 * utf8.c - clipping titles and headings (see utf8.h).
 *
 * Code points are counted as the bytes that do not continue a sequence
 * (10xxxxxx), so a cut never splits one; the input is valid UTF-8 (rp-extract
 * repairs every text before, jansson checks every string it reads).
 */
#include "util/utf8.h"
#include "util/error.h"

#include <string.h>

#define ELLIPSIS "\xe2\x80\xa6"

size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

char *utf8_clip(const char *s, size_t max)
{
	size_t keep, chars = 0, half, i, cut = 0, blank = 0;
	char *out;

	if (max < 2)
		BUG("utf8_clip: max %zu is too small", max);
	if (utf8_len(s) <= max)
		return xstrdup(s);
	keep = max - 1;          /* room for the ellipsis */
	half = keep / 2;
	/* cut: the byte offset of code point `keep`; blank: the last blank after `half` code points */
	for (i = 0; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) == 0x80)
			continue;
		if (chars == keep) {
			cut = i;
			break;
		}
		if ((s[i] == ' ' || s[i] == '\t') && chars >= half)
			blank = i;
		chars++;
	}
	if (blank)
		cut = blank;
	while (cut && (s[cut - 1] == ' ' || s[cut - 1] == '\t'))
		cut--;
	out = xmalloc(cut + sizeof(ELLIPSIS));
	memcpy(out, s, cut);
	memcpy(out + cut, ELLIPSIS, sizeof(ELLIPSIS));
	return out;
}
