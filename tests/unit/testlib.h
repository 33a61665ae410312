/*
 * testlib.h - the fixtures every unit test shares: a scratch directory per
 * test, writing and reading files in it, working inside it, and loading a
 * pipeline written into it. Each helper exists here once; a test file keeps
 * only what is particular to the module it tests.
 *
 * Include after <cmocka.h> (the helpers fail the running test with cmocka's
 * assertions). Everything is static inline, so a test that uses only some of
 * the helpers compiles without warnings and links nothing extra.
 *
 *     char *dir = tl_scratch("store");        setup: /tmp/rp-test-store.XXXXXX
 *     tl_put(dir, "sub/a.txt", "text");       parents are created
 *     char *s = tl_read_file(path);           caller frees; NULL if unreadable
 *     tl_enter(dir);                          chdir in; tl_unscratch goes back
 *     tl_pipeline(dir, yaml, &p, &err);       writes DIR/rp.yaml and loads it
 *     tl_store_open(dir, &state, &st);        DIR/.rp/state.db and DIR/.rp/cache
 *     tl_save(st, dir, "a.txt", &oi, 0);      hashes DIR/a.txt into the store
 *     return tl_unscratch(dir);               teardown: removes and frees
 *
 * The tests reach util/fs.h through these helpers only (test-store.c, which
 * tests fs.h itself, aside), so a change to its signatures is made here.
 */
#ifndef RP_TESTLIB_H
#define RP_TESTLIB_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pipeline.h"
#include "store/state.h"
#include "store/store.h"
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

/* Removes the tree at `path` (fs_remove_tree()): 0, or -1. */
static inline int tl_rmtree(const char *path)
{
	struct rp_err err = { 0 };

	return fs_remove_tree(path, &err);
}

/* Where tl_enter() came from ("" when it has not been called): one per test program. */
static inline char *tl_oldcwd(void)
{
	static char cwd[4096];

	return cwd;
}

/*
 * Makes `dir` the working directory, failing the test when it cannot; the
 * first call remembers the directory to go back to in tl_unscratch().
 */
static inline void tl_enter(const char *dir)
{
	char *back = tl_oldcwd();

	if (!*back && !getcwd(back, 4096))
		fail_msg("getcwd failed");
	if (chdir(dir) < 0)
		fail_msg("cannot chdir to '%s'", dir);
}

/*
 * Goes back to where tl_enter() came from (if it was called), removes the
 * tree `dir` and frees the string: 0, or -1 (a teardown's result).
 */
static inline int tl_unscratch(char *dir)
{
	char *back = tl_oldcwd();
	int ret = 0;

	if (*back) {
		ret = chdir(back);
		*back = '\0';
	}
	if (dir && tl_rmtree(dir) < 0)
		ret = -1;
	free(dir);
	return ret;
}

/*
 * A cmocka setup whose state is a new scratch directory (/tmp/rp-test-unit.*),
 * and the teardown that removes it: for tests that need a directory and
 * nothing else.
 */
static inline int tl_dir_setup(void **state)
{
	*state = tl_scratch("unit");
	return *state ? 0 : -1;
}

static inline int tl_dir_teardown(void **state)
{
	return tl_unscratch(*state);
}

/* DIR/REL, newly allocated. */
static inline char *tl_path(const char *dir, const char *rel)
{
	return xasprintf("%s/%s", dir, rel);
}

/* Replaces the file `path` with `len` bytes at `data`, failing the test when it cannot. */
static inline void tl_write_path(const char *path, const void *data, size_t len)
{
	struct rp_err err = { 0 };

	if (fs_write_atomic(path, data, len, &err) < 0)
		fail_msg("%s", err.msg);
}

/* Makes the directory `path` and its parents (mode 0755), failing the test when it cannot. */
static inline void tl_mkdir(const char *path)
{
	struct rp_err err = { 0 };

	if (fs_mkdir_p(path, 0755, &err) < 0)
		fail_msg("%s", err.msg);
}

/*
 * Writes `len` bytes at `data` to DIR/REL (its parent directories created),
 * failing the test when it cannot; returns the path (caller frees).
 */
static inline char *tl_write(const char *dir, const char *rel, const void *data, size_t len)
{
	char *path = tl_path(dir, rel);
	struct rp_err err = { 0 };

	if (fs_mkdir_parent(path, &err) < 0)
		fail_msg("%s", err.msg);
	tl_write_path(path, data, len);
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

/*
 * Writes `yaml` to DIR/rp.yaml and loads it into *p (the pipeline there
 * before is freed; *err is cleared first): the new *p, or NULL with *err
 * filled. The caller frees *p with pipeline_free().
 */
static inline struct pipeline *tl_pipeline(const char *dir, const char *yaml,
					   struct pipeline **p, struct rp_err *err)
{
	char *path = tl_write(dir, "rp.yaml", yaml, strlen(yaml));

	pipeline_free(*p);
	memset(err, 0, sizeof(*err));
	*p = pipeline_load(path, err);
	free(path);
	return *p;
}

/*
 * Opens the state database DIR/.rp/state.db and the store DIR/.rp/cache, where
 * a workspace has them: 0, or -1 (a setup's result) with neither left open.
 * tl_store_close() closes both.
 */
static inline int tl_store_open(const char *dir, struct state **state, struct store **st)
{
	struct rp_err err = { 0 };
	char *p = tl_path(dir, ".rp/state.db");

	*st = NULL;
	*state = state_open(p, &err);
	free(p);
	if (!*state)
		return -1;
	p = tl_path(dir, ".rp/cache");
	*st = store_open(p, *state, &err);
	free(p);
	if (!*st) {
		state_close(*state);
		*state = NULL;
		return -1;
	}
	return 0;
}

static inline void tl_store_close(struct state *state, struct store *st)
{
	store_free(st);
	state_close(state);
}

/*
 * Hashes DIR/REL and saves it into `st` (`relink` as store_save() takes it),
 * filling `oi`; fails the test when either step fails.
 */
static inline void tl_save(struct store *st, const char *dir, const char *rel,
			   struct objinfo *oi, int relink)
{
	char *p = tl_path(dir, rel);
	struct rp_err err = { 0 };

	if (store_hash_path(st, p, oi, &err) < 0 || store_save(st, p, oi, relink, &err) < 0)
		fail_msg("%s: %s", rel, err.msg);
	free(p);
}

#endif
