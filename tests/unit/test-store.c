/*
 * test-store.c - objects, directory manifests, checkout and the run-cache.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"
#include "store/state.h"
#include "store/store.h"

#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct fixture {
	char *dir;
	struct state *state;
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	f->dir = tl_scratch("store");
	if (!f->dir || tl_store_open(f->dir, &f->state, &f->st) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int ret;

	tl_store_close(f->state, f->st);
	ret = tl_unscratch(f->dir);
	free(f);
	return ret;
}

/* Number of entries in `dir` whose name contains ".tmp.". */
static int count_temps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

static void put_buf_names_the_object_by_its_hash(void **state)
{
	struct fixture *f = *state;
	char hex[HASH_HEX];
	struct rp_err err;
	struct stat sb;
	char *obj, *text;

	assert_int_equal(store_put_buf(f->st, "abc", 3, hex, &err), 0);
	assert_string_equal(hex, ABC_SHA256);
	obj = store_object_path(f->st, hex);
	assert_non_null(strstr(obj, "/.rp/cache/objects/ba/7816bf8f01"));
	text = tl_read_file(obj);
	assert_string_equal(text, "abc");
	assert_int_equal(stat(obj, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0444);
	/* an existing object is success */
	assert_int_equal(store_put_buf(f->st, "abc", 3, hex, &err), 0);
	assert_int_equal(store_verify_object(f->st, hex, NULL, &err), 0);
	free(text);
	free(obj);
}

static void a_saved_file_checks_out_with_the_same_bytes(void **state)
{
	struct fixture *f = *state;
	struct objinfo oi;
	struct rp_err err;
	char *out = tl_path(f->dir, "elsewhere/copy.txt");
	char *text;

	tl_put(f->dir, "data.txt", "abc");
	tl_save(f->st, f->dir, "data.txt", &oi, 0);
	assert_string_equal(oi.hash, ABC_SHA256);
	assert_int_equal(oi.size, 3);
	assert_int_equal(oi.isdir, 0);
	assert_true(store_has(f->st, &oi));

	assert_int_equal(store_checkout(f->st, &oi, out, &err), 0);
	text = tl_read_file(out);
	assert_string_equal(text, "abc");
	assert_int_equal(count_temps(f->dir), 0);
	free(text);
	free(out);
}

static void checkout_replaces_an_existing_file_or_directory(void **state)
{
	struct fixture *f = *state;
	struct objinfo oi;
	struct rp_err err;
	char *p = tl_path(f->dir, "target");
	char *text;

	tl_put(f->dir, "src", "new bytes");
	tl_save(f->st, f->dir, "src", &oi, 0);
	tl_put(f->dir, "target", "old bytes");
	assert_int_equal(store_checkout(f->st, &oi, p, &err), 0);
	text = tl_read_file(p);
	assert_string_equal(text, "new bytes");
	free(text);

	assert_int_equal(tl_rmtree(p), 0);
	tl_put(f->dir, "target/inner/file", "x");
	assert_int_equal(store_checkout(f->st, &oi, p, &err), 0);
	text = tl_read_file(p);
	assert_string_equal(text, "new bytes");
	assert_int_equal(count_temps(f->dir), 0);
	free(text);
	free(p);
}

static void editing_the_checked_out_copy_leaves_the_object_intact(void **state)
{
	struct fixture *f = *state;
	struct objinfo oi;
	struct rp_err err;
	char *p = tl_path(f->dir, "data.txt");
	char *obj, *text;
	FILE *fp;

	tl_put(f->dir, "data.txt", "abc");
	tl_save(f->st, f->dir, "data.txt", &oi, 1);
	assert_int_equal(store_checkout(f->st, &oi, p, &err), 0);
	fp = fopen(p, "r+");
	assert_non_null(fp);
	fputs("XYZ", fp);
	fclose(fp);

	obj = store_object_path(f->st, oi.hash);
	text = tl_read_file(obj);
	assert_string_equal(text, "abc");
	assert_int_equal(store_verify_object(f->st, oi.hash, NULL, &err), 0);
	free(text);
	free(obj);
	free(p);
}

static void a_hardlinked_workspace_file_is_read_only_and_keeps_its_hash(void **state)
{
	struct fixture *f = *state;
	struct objinfo oi, again;
	struct rp_err err;
	char *dir = tl_path(f->dir, "out");
	char *file = tl_path(f->dir, "out/a.txt");
	char *obj;
	struct stat ws, os;

	assert_int_equal(store_set_links(f->st, "hardlink, copy", &err), 0);
	assert_int_equal(f->st->nlinks, 2);
	tl_put(f->dir, "out/a.txt", "alpha");
	tl_put(f->dir, "out/b.txt", "beta");
	tl_save(f->st, f->dir, "out", &oi, 1);

	assert_int_equal(stat(file, &ws), 0);
	assert_int_equal(ws.st_mode & 0222, 0);
	assert_int_equal(store_hash_path(f->st, dir, &again, &err), 0);
	assert_string_equal(again.hash, oi.hash);

	/* the workspace file is the object itself */
	{
		char hex[HASH_HEX];

		assert_int_equal(hash_file(file, hex, &err), 0);
		obj = store_object_path(f->st, hex);
		assert_int_equal(stat(obj, &os), 0);
		assert_int_equal(ws.st_ino, os.st_ino);
	}
	free(obj);
	free(file);
	free(dir);
}

static void a_directory_hashes_the_same_whatever_the_creation_order(void **state)
{
	struct fixture *f = *state;
	struct objinfo a, b;
	struct rp_err err;
	char *da = tl_path(f->dir, "a"), *db = tl_path(f->dir, "b");

	tl_put(f->dir, "a/z.txt", "zz");
	tl_put(f->dir, "a/sub/deep/x", "x");
	tl_put(f->dir, "a/a-b", "dash");
	tl_put(f->dir, "a/a/b", "slash");

	tl_put(f->dir, "b/a/b", "slash");
	tl_put(f->dir, "b/a-b", "dash");
	tl_put(f->dir, "b/sub/deep/x", "x");
	tl_put(f->dir, "b/z.txt", "zz");

	assert_int_equal(store_hash_path(f->st, da, &a, &err), 0);
	assert_int_equal(store_hash_path(f->st, db, &b, &err), 0);
	assert_int_equal(a.isdir, 1);
	assert_string_equal(a.hash, b.hash);
	assert_int_equal(a.nfiles, 4);
	assert_int_equal(a.size, 2 + 1 + 4 + 5);

	/* a trailing slash names the same directory */
	{
		char *slash = xasprintf("%s/", db);

		assert_int_equal(store_hash_path(f->st, slash, &b, &err), 0);
		assert_string_equal(a.hash, b.hash);
		free(slash);
	}

	/* content change changes the hash */
	tl_put(f->dir, "b/sub/deep/x", "y");
	assert_int_equal(store_hash_path(f->st, db, &b, &err), 0);
	assert_string_not_equal(a.hash, b.hash);
	free(da);
	free(db);
}

static void the_manifest_lists_sorted_paths_and_is_the_directory_hash(void **state)
{
	struct fixture *f = *state;
	struct objinfo oi;
	char *obj, *text, *exe;
	char hex[HASH_HEX], want[1024];
	char ha[HASH_HEX], hb[HASH_HEX], hc[HASH_HEX];

	tl_put(f->dir, "d/z.txt", "zz");
	tl_put(f->dir, "d/a/b", "slash");
	tl_put(f->dir, "d/a-b", "dash");
	exe = tl_path(f->dir, "d/a-b");
	assert_int_equal(chmod(exe, 0755), 0);
	tl_save(f->st, f->dir, "d", &oi, 0);

	obj = store_object_path(f->st, oi.hash);
	text = tl_read_file(obj);
	assert_non_null(text);
	hash_buf(text, strlen(text), hex);
	assert_string_equal(hex, oi.hash);
	hash_buf("dash", 4, ha);
	hash_buf("slash", 5, hb);
	hash_buf("zz", 2, hc);
	snprintf(want, sizeof(want), "%s 4 755 a-b\n%s 5 644 a/b\n%s 2 644 z.txt\n", ha, hb, hc);
	assert_string_equal(text, want);
	assert_true(store_has(f->st, &oi));
	free(text);
	free(obj);
	free(exe);
}

static int count_object(const char *hex, void *ctx)
{
	(void)hex;
	(*(int *)ctx)++;
	return 0;
}

static void a_directory_round_trips_through_the_store_with_modes(void **state)
{
	struct fixture *f = *state;
	struct objinfo oi, back;
	struct rp_err err;
	char *exe = tl_path(f->dir, "d/bin/run");
	char *out = tl_path(f->dir, "restored");
	char *p, *text;
	struct stat sb;
	int n = 0;

	tl_put(f->dir, "d/bin/run", "#!/bin/sh\n");
	assert_int_equal(chmod(exe, 0755), 0);
	tl_put(f->dir, "d/readme", "hello");
	tl_put(f->dir, "d/x/y/z", "deep");
	tl_save(f->st, f->dir, "d", &oi, 0);
	assert_int_equal(store_manifest_each(f->st, oi.hash, count_object, &n, &err), 0);
	assert_int_equal(n, 3);

	tl_put(f->dir, "restored/stale", "old");
	assert_int_equal(store_checkout(f->st, &oi, out, &err), 0);
	assert_int_equal(store_hash_path(f->st, out, &back, &err), 0);
	assert_string_equal(back.hash, oi.hash);
	p = tl_path(f->dir, "restored/stale");
	assert_false(fs_exists(p));
	free(p);
	p = tl_path(f->dir, "restored/bin/run");
	assert_int_equal(stat(p, &sb), 0);
	assert_true(sb.st_mode & S_IXUSR);
	free(p);
	p = tl_path(f->dir, "restored/x/y/z");
	text = tl_read_file(p);
	assert_string_equal(text, "deep");
	assert_int_equal(count_temps(f->dir), 0);
	free(text);
	free(p);
	free(out);
	free(exe);
}

/* Stores `manifest` (with "H" standing for the object of "abc") and checks it out at "out". */
static int checkout_manifest(struct fixture *f, const char *manifest, struct rp_err *err)
{
	struct buf text = BUF_INIT;
	struct objinfo oi = { .isdir = 1, .size = 3, .nfiles = 1 };
	char hex[HASH_HEX];
	char *out = tl_path(f->dir, "out");
	int r;

	assert_int_equal(store_put_buf(f->st, "abc", 3, hex, err), 0);
	for (const char *p = manifest; *p; p++)
		if (*p == 'H')
			buf_adds(&text, ABC_SHA256);
		else
			buf_addch(&text, *p);
	assert_int_equal(store_put_buf(f->st, text.s, text.len, oi.hash, err), 0);
	r = store_checkout(f->st, &oi, out, err);
	free(out);
	buf_release(&text);
	return r;
}

static void a_crafted_manifest_is_refused_and_creates_nothing(void **state)
{
	static const char *bad[] = {
		"H 3 4755 a\n", "H 3 2755 a\n", "H 3 1644 a\n", "H 3 777 a\n", "H 3 666 a\n",
		"H 3 664 a\n", "H 3 0644 a\n", "H 3 64 a\n", "H 3 6440 a\n",
		"H 4 644 a\n", "H 2 644 a\n", "H 03 644 a\n", "H -3 644 a\n", "H +3 644 a\n",
		"H 18446744073709551619 644 a\n", "H  3 644 a\n",
		"H 3 644 ../x\n", "H 3 644 /x\n", "H 3 644 a//b\n", "H 3 644 a/\n", "H 3 644 ./a\n",
		"H 3 644 .git/x\n", "H 3 644 a/.GIT/hooks/x\n", "H 3 644 .Git\n", "H 3 644 .rp/x\n",
		"H 3 644 GIT~1/x\n", "H 3 644 a\nH 3 644 a\n", "H 3 644 b\nH 3 644 a\n",
		"H 3 644 a\nH 3 644 a/b\n", "H 3 644 a\nH 3 644 a-b\nH 3 644 a/b\n", "H 3 644 a",
	};
	struct fixture *f = *state;
	char *out = tl_path(f->dir, "out");

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct rp_err err = { 0 };

		if (checkout_manifest(f, bad[i], &err) == 0)
			fail_msg("manifest '%s' was accepted", bad[i]);
		if (!strstr(err.msg, "manifest"))
			fail_msg("'%s': %s", bad[i], err.msg);
		assert_false(fs_exists(out));
	}
	free(out);
}

static void owner_only_modes_round_trip_and_nothing_more(void **state)
{
	struct fixture *f = *state;
	struct rp_err err = { 0 };
	struct stat sb;
	char *p;

	assert_int_equal(checkout_manifest(f, "H 3 600 a\nH 3 700 b/c\nH 3 755 d\n", &err), 0);
	p = tl_path(f->dir, "out/a");
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	free(p);
	p = tl_path(f->dir, "out/b/c");
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	free(p);
	p = tl_path(f->dir, "out/b");
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0077, 0);
	free(p);
	p = tl_path(f->dir, "out/d");
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);
	free(p);
}

static void a_corrupted_object_is_refused_by_checkout(void **state)
{
	struct fixture *f = *state;
	struct objinfo oi;
	struct rp_err err = { 0 };
	char *obj, *out = tl_path(f->dir, "out.txt"), *text;
	char actual[HASH_HEX];

	tl_put(f->dir, "data.txt", "abc");
	tl_save(f->st, f->dir, "data.txt", &oi, 0);
	tl_put(f->dir, "out.txt", "previous");
	obj = store_object_path(f->st, oi.hash);
	assert_int_equal(chmod(obj, 0644), 0);
	tl_write_path(obj, "abd", 3);

	assert_int_equal(store_checkout(f->st, &oi, out, &err), -1);
	assert_int_equal(err.kind, RP_ERR_IO);
	assert_non_null(strstr(err.msg, "object " ABC_SHA256));
	assert_non_null(strstr(err.msg, "is corrupt (bytes hash to "));
	assert_non_null(strstr(err.msg, "rp checkout --rebuild"));
	text = tl_read_file(out);
	assert_string_equal(text, "previous");
	assert_int_equal(count_temps(f->dir), 0);
	assert_int_equal(store_verify_object(f->st, oi.hash, actual, &err), -1);
	assert_string_not_equal(actual, oi.hash);
	assert_int_equal(strlen(actual), 64);
	free(text);
	free(obj);
	free(out);
}

static void a_corrupted_file_in_a_directory_is_refused(void **state)
{
	struct fixture *f = *state;
	struct objinfo oi;
	struct rp_err err = { 0 };
	char *obj, *out = tl_path(f->dir, "restored");
	char hex[HASH_HEX];

	tl_put(f->dir, "d/a", "one");
	tl_put(f->dir, "d/b", "two");
	tl_save(f->st, f->dir, "d", &oi, 0);
	hash_buf("two", 3, hex);
	obj = store_object_path(f->st, hex);
	assert_int_equal(chmod(obj, 0644), 0);
	tl_write_path(obj, "tw0", 3);

	assert_int_equal(store_checkout(f->st, &oi, out, &err), -1);
	assert_non_null(strstr(err.msg, "restored/b' is corrupt"));
	assert_false(fs_exists(out));
	assert_int_equal(count_temps(f->dir), 0);
	free(obj);
	free(out);
}

static void a_missing_object_is_an_error_naming_it(void **state)
{
	struct fixture *f = *state;
	struct objinfo oi = { 0 };
	struct rp_err err = { 0 };
	char *out = tl_path(f->dir, "out.txt");
	char want[256];

	hash_buf("never stored", 12, oi.hash);
	assert_false(store_has(f->st, &oi));
	assert_int_equal(store_checkout(f->st, &oi, out, &err), -1);
	snprintf(want, sizeof(want), "object %s for '%s' is missing from the store", oi.hash, out);
	assert_string_equal(err.msg, want);
	assert_false(fs_exists(out));

	oi.isdir = 1;
	assert_int_equal(store_checkout(f->st, &oi, out, &err), -1);
	assert_string_equal(err.msg, want);
	assert_int_equal(store_verify_object(f->st, oi.hash, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "is missing from the store"));
	free(out);
}

static void hashing_a_missing_path_says_no_such_file(void **state)
{
	struct fixture *f = *state;
	struct objinfo oi;
	struct rp_err err = { 0 };
	char *p = tl_path(f->dir, "nope");
	char want[256];

	assert_int_equal(store_hash_path(f->st, p, &oi, &err), -1);
	assert_int_equal(err.kind, RP_ERR_IO);
	snprintf(want, sizeof(want), "cannot hash '%s': No such file or directory", p);
	assert_string_equal(err.msg, want);
	free(p);
}

static void a_symlinked_directory_inside_is_refused_but_symlinked_files_count(void **state)
{
	struct fixture *f = *state;
	struct objinfo a, b;
	struct rp_err err = { 0 };
	char *target = tl_path(f->dir, "real.txt"), *link = tl_path(f->dir, "d/link.txt");
	char *dlink = tl_path(f->dir, "d/sub"), *d = tl_path(f->dir, "d");
	char *plain = tl_path(f->dir, "plain");

	tl_put(f->dir, "real.txt", "content");
	tl_put(f->dir, "d/other", "o");
	assert_int_equal(symlink(target, link), 0);
	tl_put(f->dir, "plain/other", "o");
	tl_put(f->dir, "plain/link.txt", "content");
	assert_int_equal(store_hash_path(f->st, d, &a, &err), 0);
	assert_int_equal(store_hash_path(f->st, plain, &b, &err), 0);
	assert_string_equal(a.hash, b.hash);

	assert_int_equal(symlink(plain, dlink), 0);
	assert_int_equal(store_hash_path(f->st, d, &a, &err), -1);
	assert_non_null(strstr(err.msg, "symlinks to directories are not followed"));
	free(target);
	free(link);
	free(dlink);
	free(d);
	free(plain);
}

static void the_state_spares_rehashing_unchanged_files(void **state)
{
	struct fixture *f = *state;
	struct objinfo oi;
	struct rp_err err;
	struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	char *p = tl_path(f->dir, "data.txt");
	struct stat sb;

	tl_put(f->dir, "data.txt", "abc");
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	assert_int_equal(store_hash_path(f->st, p, &oi, &err), 0);
	assert_int_equal(stat(p, &sb), 0);
	assert_string_equal(state_get(f->state, p, &sb), ABC_SHA256);
	free(p);
}

static void run_cache_put_then_get_round_trips(void **state)
{
	struct fixture *f = *state;
	struct rp_err err;
	char key[HASH_HEX], other[HASH_HEX];
	char *text, *dir;

	hash_buf("stage key", 9, key);
	hash_buf("other key", 9, other);
	assert_null(store_run_get(f->st, key));
	assert_int_equal(store_run_put(f->st, key, "outs:\n- path: a\n", &err), 0);
	text = store_run_get(f->st, key);
	assert_string_equal(text, "outs:\n- path: a\n");
	free(text);
	assert_int_equal(store_run_put(f->st, key, "replaced\n", &err), 0);
	text = store_run_get(f->st, key);
	assert_string_equal(text, "replaced\n");
	free(text);
	assert_null(store_run_get(f->st, other));
	assert_int_equal(store_run_put(f->st, "../../etc", "x", &err), -1);
	assert_null(store_run_get(f->st, "../../etc"));

	/* rows of one database, no file per entry */
	dir = xasprintf("%s/.rp/cache/runs", f->dir);
	assert_int_equal(access(dir, F_OK), -1);
	free(dir);
	dir = xasprintf("%s/.rp/cache/runs.db", f->dir);
	assert_int_equal(access(dir, F_OK), 0);
	free(dir);
	/* entries survive the store being closed and opened again */
	dir = xstrdup(f->st->root);
	store_free(f->st);
	f->st = store_open(dir, f->state, &err);
	free(dir);
	assert_non_null(f->st);
	text = store_run_get(f->st, key);
	assert_string_equal(text, "replaced\n");
	free(text);
}

static void fs_write_atomic_leaves_no_temp_files(void **state)
{
	struct fixture *f = *state;
	char *p = tl_path(f->dir, "file"), *d = tl_path(f->dir, "adir"), *text;
	int i;

	for (i = 0; i < 5; i++)
		assert_int_equal(fs_write_atomic(p, "v", 1, NULL), 0);
	text = tl_read_file(p);
	assert_string_equal(text, "v");
	free(text);

	/* a failed rename (the target is a non-empty directory) cleans up too */
	tl_put(f->dir, "adir/x", "x");
	assert_int_equal(fs_write_atomic(d, "v", 1, NULL), -1);
	assert_int_equal(count_temps(f->dir), 0);
	free(p);
	free(d);
}

static void fs_remove_tree_removes_read_only_directories(void **state)
{
	struct fixture *f = *state;
	char *d = tl_path(f->dir, "ro"), *sub = tl_path(f->dir, "ro/sub");

	tl_put(f->dir, "ro/sub/file", "x");
	assert_int_equal(chmod(sub, 0555), 0);
	assert_int_equal(chmod(d, 0555), 0);
	assert_int_equal(fs_remove_tree(d, NULL), 0);
	assert_false(fs_exists(d));
	assert_int_equal(fs_remove_tree(d, NULL), 0);
	free(d);
	free(sub);
}

static void fs_clone_file_copies_bytes_and_mode(void **state)
{
	struct fixture *f = *state;
	char *src = tl_path(f->dir, "src"), *dst = tl_path(f->dir, "dst"), *text;
	struct stat sb;

	tl_put(f->dir, "src", "clone me");
	assert_int_equal(fs_clone_file(src, dst, 0600, 0, NULL), 0);
	text = tl_read_file(dst);
	assert_string_equal(text, "clone me");
	assert_int_equal(stat(dst, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(count_temps(f->dir), 0);
	free(text);
	free(src);
	free(dst);
}

static void store_set_links_rejects_unknown_names(void **state)
{
	struct fixture *f = *state;
	struct rp_err err = { 0 };

	assert_int_equal(store_set_links(f->st, "symlink,copy", &err), 0);
	assert_int_equal(f->st->nlinks, 2);
	assert_int_equal(f->st->links[0], LINK_SYMLINK);
	assert_int_equal(f->st->links[1], LINK_COPY);
	assert_int_equal(store_set_links(f->st, "reflink,teleport", &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(err.msg, "'teleport'"));
	assert_int_equal(f->st->nlinks, 2);
}

static void a_symlink_checkout_points_at_the_object(void **state)
{
	struct fixture *f = *state;
	struct objinfo oi, back;
	struct rp_err err;
	char *out = tl_path(f->dir, "out.txt"), *text;
	struct stat sb;

	tl_put(f->dir, "data.txt", "abc");
	tl_save(f->st, f->dir, "data.txt", &oi, 0);
	assert_int_equal(store_set_links(f->st, "symlink", &err), 0);
	assert_int_equal(store_checkout(f->st, &oi, out, &err), 0);
	assert_int_equal(lstat(out, &sb), 0);
	assert_true(S_ISLNK(sb.st_mode));
	text = tl_read_file(out);
	assert_string_equal(text, "abc");
	assert_int_equal(store_hash_path(f->st, out, &back, &err), 0);
	assert_string_equal(back.hash, oi.hash);
	free(text);
	free(out);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(put_buf_names_the_object_by_its_hash),
		T(a_saved_file_checks_out_with_the_same_bytes),
		T(checkout_replaces_an_existing_file_or_directory),
		T(editing_the_checked_out_copy_leaves_the_object_intact),
		T(a_hardlinked_workspace_file_is_read_only_and_keeps_its_hash),
		T(a_directory_hashes_the_same_whatever_the_creation_order),
		T(the_manifest_lists_sorted_paths_and_is_the_directory_hash),
		T(a_directory_round_trips_through_the_store_with_modes),
		T(a_crafted_manifest_is_refused_and_creates_nothing),
		T(owner_only_modes_round_trip_and_nothing_more),
		T(a_corrupted_object_is_refused_by_checkout),
		T(a_corrupted_file_in_a_directory_is_refused),
		T(a_missing_object_is_an_error_naming_it),
		T(hashing_a_missing_path_says_no_such_file),
		T(a_symlinked_directory_inside_is_refused_but_symlinked_files_count),
		T(the_state_spares_rehashing_unchanged_files),
		T(run_cache_put_then_get_round_trips),
		T(fs_write_atomic_leaves_no_temp_files),
		T(fs_remove_tree_removes_read_only_directories),
		T(fs_clone_file_copies_bytes_and_mode),
		T(store_set_links_rejects_unknown_names),
		T(a_symlink_checkout_points_at_the_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
