/*
 * test-gc.c - gc's mark phase and its sweep: what a lock references stays.
 *
 * Each test fills a scratch store with a few files and two directories
 * (objects: a, b, old, the manifests of kept/ and gone/, and their members),
 * parses a lock that references a (a dep), kept/ (a directory out) and one
 * stage key, marks it, and checks what the sweep keeps and deletes. The CLI
 * tests (gc.bats) cover the command; these pin the library's rules.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "core/gc.h"
#include "lock/lock.h"
#include "store/state.h"
#include "store/store.h"

#define KEY_KEPT "1111111111111111111111111111111111111111111111111111111111111111"
#define KEY_GONE "2222222222222222222222222222222222222222222222222222222222222222"

struct fx {
	char *dir;
	struct state *state;
	struct store *st;
	struct objinfo a, b, old, kept, gone;
	char *kept_members[2], *gone_members[2];
	struct lock *lock;
};

static char *hash_of_text(const char *text)
{
	char hex[HASH_HEX];

	hash_buf(text, strlen(text), hex);
	return xstrdup(hex);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct rp_err err = { 0 };
	char *lock;

	f->dir = tl_scratch("gc");
	if (!f->dir || tl_store_open(f->dir, &f->state, &f->st) < 0)
		return -1;
	tl_put(f->dir, "a.txt", "alpha\n");
	tl_put(f->dir, "b.txt", "beta\n");
	tl_put(f->dir, "old.txt", "old\n");
	tl_put(f->dir, "kept/x", "kept x\n");
	tl_put(f->dir, "kept/sub/y", "kept y\n");
	tl_put(f->dir, "gone/z", "gone z\n");
	tl_put(f->dir, "gone/w", "gone w\n");
	tl_save(f->st, f->dir, "a.txt", &f->a, 0);
	tl_save(f->st, f->dir, "b.txt", &f->b, 0);
	tl_save(f->st, f->dir, "old.txt", &f->old, 0);
	tl_save(f->st, f->dir, "kept", &f->kept, 0);
	tl_save(f->st, f->dir, "gone", &f->gone, 0);
	f->kept_members[0] = hash_of_text("kept x\n");
	f->kept_members[1] = hash_of_text("kept y\n");
	f->gone_members[0] = hash_of_text("gone z\n");
	f->gone_members[1] = hash_of_text("gone w\n");
	lock = xasprintf("schema: rp.lock/1\nstages:\n  s:\n    key: " KEY_KEPT "\n"
			 "    cmd: x\n"
			 "    deps:\n    - path: a.txt\n      hash: %s\n      size: 6\n"
			 "    outs:\n    - path: kept\n      hash: %s\n      size: %llu\n"
			 "      nfiles: 2\n",
			 f->a.hash, f->kept.hash, (unsigned long long)f->kept.size);
	f->lock = lock_parse("rp.lock", lock, strlen(lock), &err);
	free(lock);
	if (!f->lock)
		fail_msg("lock_parse: %s", err.msg);
	if (store_run_put(f->st, KEY_KEPT, "{}", &err) < 0 ||
	    store_run_put(f->st, KEY_GONE, "{}", &err) < 0)
		fail_msg("store_run_put: %s", err.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	lock_free(f->lock);
	tl_store_close(f->state, f->st);
	for (int i = 0; i < 2; i++) {
		free(f->kept_members[i]);
		free(f->gone_members[i]);
	}
	int ret = tl_unscratch(f->dir);
	free(f);
	return ret;
}

static int object_exists(struct fx *f, const char *hex)
{
	char *p = store_object_path(f->st, hex);
	int ok = access(p, F_OK) == 0;

	free(p);
	return ok;
}

static int is_marked(const struct gc *g, const char *hex)
{
	for (size_t i = 0; i < g->nkeep; i++)
		if (!strcmp(g->keep[i], hex))
			return 1;
	return 0;
}

static void marks_the_objects_a_lock_references_and_its_directories_members(void **state)
{
	struct fx *f = *state;
	struct gc g;
	struct rp_err err = { 0 };

	gc_init(&g, f->st);
	assert_int_equal(gc_mark_lock(&g, f->lock, &err), 0);
	assert_true(is_marked(&g, f->a.hash));
	assert_true(is_marked(&g, f->kept.hash));
	assert_true(is_marked(&g, f->kept_members[0]));
	assert_true(is_marked(&g, f->kept_members[1]));
	assert_false(is_marked(&g, f->b.hash));
	assert_false(is_marked(&g, f->old.hash));
	assert_false(is_marked(&g, f->gone.hash));
	assert_false(is_marked(&g, f->gone_members[0]));
	assert_int_equal(g.nruns, 1);
	assert_string_equal(g.runs[0], KEY_KEPT);
	gc_release(&g);
}

static void the_sweep_deletes_what_is_not_marked_and_keeps_the_rest(void **state)
{
	struct fx *f = *state;
	struct gc g;
	struct gc_stats stats;
	struct rp_err err = { 0 };
	char *run;

	gc_init(&g, f->st);
	assert_int_equal(gc_mark_lock(&g, f->lock, &err), 0);
	assert_int_equal(gc_sweep(&g, 0, &stats, NULL, NULL, &err), 0);
	gc_release(&g);
	/* kept: a, kept/'s manifest and its two files */
	assert_true(object_exists(f, f->a.hash));
	assert_true(object_exists(f, f->kept.hash));
	assert_true(object_exists(f, f->kept_members[0]));
	assert_true(object_exists(f, f->kept_members[1]));
	assert_int_equal(stats.kept, 4);
	/* deleted: b, old, gone/'s manifest and its two files; one run */
	assert_false(object_exists(f, f->b.hash));
	assert_false(object_exists(f, f->old.hash));
	assert_false(object_exists(f, f->gone.hash));
	assert_false(object_exists(f, f->gone_members[0]));
	assert_false(object_exists(f, f->gone_members[1]));
	assert_int_equal(stats.objects, 5);
	assert_int_equal(stats.runs, 1);
	run = store_run_get(f->st, KEY_KEPT);
	assert_non_null(run);
	free(run);
	assert_null(store_run_get(f->st, KEY_GONE));
	/* what the lock names still checks out */
	assert_int_equal(store_has(f->st, &f->kept), 1);
}

static void report_count(const char *path, uint64_t size, void *ctx)
{
	(void)path, (void)size;
	(*(int *)ctx)++;
}

static void a_dry_run_counts_the_same_and_removes_nothing(void **state)
{
	struct fx *f = *state;
	struct gc g;
	struct gc_stats stats;
	struct rp_err err = { 0 };
	int reported = 0;
	char *run;

	gc_init(&g, f->st);
	assert_int_equal(gc_mark_lock(&g, f->lock, &err), 0);
	assert_int_equal(gc_sweep(&g, 1, &stats, report_count, &reported, &err), 0);
	gc_release(&g);
	assert_int_equal(stats.objects, 5);
	assert_int_equal(stats.runs, 1);
	assert_int_equal(reported, 6);
	assert_true(object_exists(f, f->b.hash));
	assert_true(object_exists(f, f->old.hash));
	assert_true(object_exists(f, f->gone.hash));
	assert_true(object_exists(f, f->gone_members[0]));
	assert_true(object_exists(f, f->gone_members[1]));
	run = store_run_get(f->st, KEY_GONE);
	assert_non_null(run);
	free(run);
}

static void nothing_marked_sweeps_everything(void **state)
{
	struct fx *f = *state;
	struct gc g;
	struct gc_stats stats;
	struct rp_err err = { 0 };

	gc_init(&g, f->st);
	assert_int_equal(gc_sweep(&g, 0, &stats, NULL, NULL, &err), 0);
	gc_release(&g);
	assert_int_equal(stats.objects, 9);
	assert_int_equal(stats.kept, 0);
	assert_int_equal(stats.runs, 2);
	assert_false(object_exists(f, f->a.hash));
}

static void a_directory_whose_manifest_is_gone_marks_only_its_hash(void **state)
{
	struct fx *f = *state;
	struct gc g;
	struct rp_err err = { 0 };
	char *p = store_object_path(f->st, f->kept.hash);

	assert_int_equal(unlink(p), 0);
	free(p);
	gc_init(&g, f->st);
	assert_int_equal(gc_mark_lock(&g, f->lock, &err), 0);
	assert_true(is_marked(&g, f->kept.hash));
	assert_false(is_marked(&g, f->kept_members[0]));
	gc_release(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(marks_the_objects_a_lock_references_and_its_directories_members),
		T(the_sweep_deletes_what_is_not_marked_and_keeps_the_rest),
		T(a_dry_run_counts_the_same_and_removes_nothing),
		T(nothing_marked_sweeps_everything),
		T(a_directory_whose_manifest_is_gone_marks_only_its_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
