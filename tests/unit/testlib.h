/*
 * testlib.h - the fixtures every unit test shares: a scratch directory per
 * test, and writing and reading files in it.
 *
 * Include after <cmocka.h> (the helpers fail the running test with cmocka's
 * assertions). Everything is static inline, so a test that uses only some of
 * the helpers compiles without warnings and links nothing extra.
 *
 *     char *dir = tl_scratch("store");        setup: /tmp/rp-test-store.XXXXXX
 *     tl_put(dir, "sub/a.txt", "text");       parents are created
 *     char *s = tl_read_file(path);           caller frees; NULL if unreadable
 *     return tl_unscratch(dir);               teardown: removes and frees
 */
#ifndef RP_TESTLIB_H
#define RP_TESTLIB_H

#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"

/*
 * A new empty directory /tmp/rp-test-NAME.XXXXXX (caller frees, or passes it
 * to tl_unscratch()); NULL when it cannot be made, so a setup can return -1.
 */
static inline char *tl_scratch(const char *name)
{
	char *dir = xasprintf("/tmp/rp-test-%s.XXXXXX", name);

	if (!mkdtemp(dir)) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* Removes the tree `dir` and frees the string: 0, or -1 (a teardown's result). */
static inline int tl_unscratch(char *dir)
{
	int ret = dir ? fs_remove_tree(dir, NULL) : 0;

	free(dir);
	return ret;
}

/* DIR/REL, newly allocated. */
static inline char *tl_path(const char *dir, const char *rel)
{
	return xasprintf("%s/%s", dir, rel);
}

/*
 * Writes `len` bytes at `data` to DIR/REL (its parent directories created),
 * failing the test when it cannot; returns the path (caller frees).
 */
static inline char *tl_write(const char *dir, const char *rel, const void *data, size_t len)
{
	char *path = tl_path(dir, rel);

	if (fs_mkdir_parent(path, NULL) < 0 || fs_write_atomic(path, data, len, NULL) < 0)
		fail_msg("cannot write '%s'", path);
	return path;
}

/* Writes the string `text` to DIR/REL, as tl_write(). */
static inline void tl_put(const char *dir, const char *rel, const char *text)
{
	free(tl_write(dir, rel, text, strlen(text)));
}

/* The bytes of `path`, NUL-terminated (caller frees), or NULL when unreadable. */
static inline char *tl_read_file(const char *path)
{
	struct buf b = BUF_INIT;

	if (buf_read_file(&b, path) < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

#endif
