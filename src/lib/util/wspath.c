/*
 * wspath.c - the workspace path policy (see wspath.h): lexical checks on
 * workspace-relative paths, reserved names, and symlinks that lead out.
 *
 * Everything here is pure string work except wspath_link_outside(), which
 * lstat()s and realpath()s the components of a path that exist. Nothing
 * prints; every function answers and leaves the message to its caller, which
 * knows whether the path came from rp.yaml, rp.lock or a manifest.
 */
#include "util/wspath.h"
#include "util/buf.h"
#include "util/error.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *wspath_normalize(const char *base, const char *path)
{
	struct buf out = BUF_INIT;
	const char *parts[2] = { base ? base : ".", path };
	int i;

	if (!path || path[0] == '/' || parts[0][0] == '/')
		return NULL;
	for (i = 0; i < 2; i++) {
		const char *s = parts[i];

		while (*s) {
			const char *e = strchr(s, '/');
			size_t len = e ? (size_t)(e - s) : strlen(s);

			if (len == 0 || (len == 1 && s[0] == '.')) {
				/* skip */
			} else if (len == 2 && s[0] == '.' && s[1] == '.') {
				char *slash;

				if (!out.len) {
					buf_release(&out);
					return NULL;
				}
				slash = strrchr(out.s, '/');
				out.len = slash ? (size_t)(slash - out.s) : 0;
				out.s[out.len] = '\0';
			} else {
				if (out.len)
					buf_addch(&out, '/');
				buf_add(&out, s, len);
			}
			s += len;
			if (*s == '/')
				s++;
		}
	}
	if (!out.len)
		buf_adds(&out, ".");
	return buf_detach(&out);
}

int wspath_is_safe(const char *path, int allow_root)
{
	char *norm = wspath_normalize(".", path);
	int ok = norm && (allow_root || strcmp(norm, ".")) && !wspath_reserved(norm);

	free(norm);
	return ok;
}

int wspath_rel_is_safe(const char *rel)
{
	const char *p = rel;

	if (!*rel || *rel == '/')
		return 0;
	while (*p) {
		const char *slash = strchr(p, '/');
		const char *end = slash ? slash : p + strlen(p);
		size_t len = (size_t)(end - p);

		if (!len || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.') ||
		    wspath_name_reserved(p, len))
			return 0;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return 0;  /* trailing slash */
	}
	return 1;
}

/* ---- reserved names -------------------------------------------------------- */

/* Whether the UTF-8 sequence at `p` (`n` bytes left) is a code point HFS+ ignores; its length or 0. */
static size_t hfs_ignorable(const unsigned char *p, size_t n)
{
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x80 &&
	    ((p[2] >= 0x8c && p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae)))
		return 3;       /* U+200C..U+200F, U+202A..U+202E */
	if (n >= 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xaa && p[2] <= 0xaf)
		return 3;       /* U+206A..U+206F */
	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		return 3;       /* U+FEFF */
	return 0;
}

int wspath_name_reserved(const char *name, size_t len)
{
	const unsigned char *p = (const unsigned char *)name;
	char fold[8];
	size_t n = 0, i = 0;

	while (i < len) {
		size_t skip = hfs_ignorable(p + i, len - i);

		if (skip) {
			i += skip;
			continue;
		}
		if (n == sizeof(fold))
			return 0;       /* longer than any reserved name */
		fold[n++] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] - 'A' + 'a' : p[i]);
		i++;
	}
	while (n && (fold[n - 1] == '.' || fold[n - 1] == ' '))
		n--;
	if ((n == 4 && !memcmp(fold, ".git", 4)) || (n == 5 && !memcmp(fold, "git~1", 5)))
		return WSPATH_RESERVED_GIT;
	return n == 3 && !memcmp(fold, ".rp", 3) ? WSPATH_RESERVED_RP : 0;
}

int wspath_reserved(const char *path)
{
	while (*path) {
		size_t len = strcspn(path, "/");
		int r = wspath_name_reserved(path, len);

		if (r)
			return r;
		path += len;
		if (*path)
			path++;
	}
	return 0;
}

/* ---- symlinks that leave the workspace ------------------------------------ */

/*
 * Whether real path `real` lies in the first `rootlen` bytes of `root` and
 * below it in no .git or .rp (wspath_name_reserved()).
 */
static int inside_root(const char *real, const char *root, size_t rootlen)
{
	const char *rest = real + rootlen;

	if (strncmp(real, root, rootlen) || (*rest && *rest != '/'))
		return 0;
	return !wspath_reserved(*rest ? rest + 1 : rest);
}

char *wspath_link_outside(const char *root, const char *path, size_t skip, int last,
			  char **target)
{
	size_t rootlen = strlen(root);
	char *p = xstrdup(path), *s = p + (skip && skip < strlen(p) ? skip + 1 : 0);

	*target = NULL;
	if (rootlen == 1 && root[0] == '/')
		rootlen = 0; /* "/" + "/etc" */
	for (;;) {
		char *slash = strchr(s, '/'), *real;
		struct stat st;

		if (!slash && !last)
			break;
		if (slash)
			*slash = '\0';
		if (lstat(p, &st) < 0)
			break; /* nothing below a missing component exists yet */
		if (S_ISLNK(st.st_mode)) {
			/* a dangling link is left to the caller: nothing can be read or
			 * created through it (mkdir and rename do not follow it) */
			real = realpath(p, NULL);
			if (real && !inside_root(real, root, rootlen)) {
				*target = real;
				return p;
			}
			free(real);
		}
		if (!slash)
			break;
		*slash = '/';
		s = slash + 1;
	}
	free(p);
	return NULL;
}
