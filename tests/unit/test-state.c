/*
 * test-state.c - the stat -> hash cache survives reopening and misses on change.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"
#include "util/error.h"
#include "util/hash.h"
#include "store/state.h"

#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

struct fixture {
	char *dir;
	char *db;
	char *file;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	f->dir = tl_scratch("state");
	if (!f->dir)
		return -1;
	f->db = xasprintf("%s/sub/state.db", f->dir);
	f->file = xasprintf("%s/file", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int ret = tl_unscratch(f->dir);

	free(f->db);
	free(f->file);
	free(f);
	return ret;
}

/* Writes `s` to `path` with an mtime `age` seconds in the past; fills *st. */
static void write_aged(const char *path, const char *s, int age, struct stat *st)
{
	struct timespec times[2];

	tl_write_path(path, s, strlen(s));
	clock_gettime(CLOCK_REALTIME, &times[0]);
	times[0].tv_sec -= age;
	times[1] = times[0];
	assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
	assert_int_equal(stat(path, st), 0);
}

static void a_recorded_hash_survives_close_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct rp_err err;
	struct stat st;
	struct state *s;

	write_aged(f->file, "abc", 10, &st);
	s = state_open(f->db, &err);
	assert_non_null(s);
	assert_null(state_get(s, f->file, &st));
	state_put(s, f->file, &st, ABC_SHA256);
	assert_string_equal(state_get(s, f->file, &st), ABC_SHA256);
	assert_int_equal(state_save(s), 0);
	state_close(s);

	s = state_open(f->db, &err);
	assert_non_null(s);
	assert_string_equal(state_get(s, f->file, &st), ABC_SHA256);
	assert_null(state_get(s, "other", &st));
	state_close(s);
}

static void a_confirmed_file_is_known_without_a_stat_until_the_next_generation(void **state)
{
	struct fixture *f = *state;
	struct rp_err err;
	struct stat st;
	struct state *s = state_open(f->db, &err);
	int64_t size = -1;

	assert_non_null(s);
	write_aged(f->file, "abc", 10, &st);
	state_put(s, f->file, &st, ABC_SHA256);
	/* not tracking: nothing is confirmed */
	assert_null(state_get_seen(s, f->file, &size));
	state_track(s);
	assert_null(state_get_seen(s, f->file, &size));   /* the put was before tracking */
	assert_string_equal(state_get(s, f->file, &st), ABC_SHA256);
	assert_string_equal(state_get_seen(s, f->file, &size), ABC_SHA256);
	assert_int_equal(size, 3);
	/* files may have changed: the confirmation is gone */
	state_next_generation(s);
	assert_null(state_get_seen(s, f->file, &size));
	/* a put confirms too */
	state_put(s, f->file, &st, ABC_SHA256);
	assert_string_equal(state_get_seen(s, f->file, &size), ABC_SHA256);
	/* a stat that does not match confirms nothing */
	state_next_generation(s);
	st.st_size++;
	assert_null(state_get(s, f->file, &st));
	assert_null(state_get_seen(s, f->file, &size));
	assert_null(state_get_seen(s, "never-seen", &size));
	state_close(s);
}

static void a_racy_hash_holds_within_its_generation_only(void **state)
{
	struct fixture *f = *state;
	struct rp_err err;
	struct stat st, other;
	struct state *s = state_open(f->db, &err);

	assert_non_null(s);
	write_aged(f->file, "abc", 0, &st);     /* just written: racy */
	state_put(s, f->file, &st, ABC_SHA256);
	assert_null(state_get(s, f->file, &st));
	assert_null(state_get_current(s, f->file, &st));        /* not tracking */
	state_track(s);
	state_put(s, f->file, &st, ABC_SHA256);
	assert_null(state_get(s, f->file, &st));
	assert_string_equal(state_get_current(s, f->file, &st), ABC_SHA256);
	other = st;
	other.st_size++;
	assert_null(state_get_current(s, f->file, &other));     /* another stat: no */
	state_next_generation(s);
	assert_null(state_get_current(s, f->file, &st));        /* a stage may have run */
	state_close(s);
}

static void a_changed_mtime_or_size_misses(void **state)
{
	struct fixture *f = *state;
	struct rp_err err;
	struct stat st, changed;
	struct state *s = state_open(f->db, &err);

	assert_non_null(s);
	write_aged(f->file, "abc", 10, &st);
	state_put(s, f->file, &st, ABC_SHA256);
	assert_non_null(state_get(s, f->file, &st));

	changed = st;
	changed.st_mtim.tv_nsec = (changed.st_mtim.tv_nsec + 1) % 1000000000;
	assert_null(state_get(s, f->file, &changed));
	changed = st;
	changed.st_size++;
	assert_null(state_get(s, f->file, &changed));
	changed = st;
	changed.st_ino++;
	assert_null(state_get(s, f->file, &changed));

	/* rewriting the file for real misses too */
	write_aged(f->file, "abcd", 5, &changed);
	assert_null(state_get(s, f->file, &changed));
	state_close(s);
}

static void state_clear_makes_lookups_miss_and_save_rewrites(void **state)
{
	struct fixture *f = *state;
	char *other = xasprintf("%s/other", f->dir);
	struct rp_err err;
	struct stat st, st2;
	struct state *s = state_open(f->db, &err);

	write_aged(f->file, "abc", 10, &st);
	write_aged(other, "x", 10, &st2);
	state_put(s, f->file, &st, ABC_SHA256);
	state_put(s, other, &st2, ABC_SHA256);
	assert_int_equal(state_save(s), 0);

	state_clear(s);
	assert_null(state_get(s, f->file, &st));
	assert_null(state_get(s, other, &st2));
	state_put(s, other, &st2, ABC_SHA256);
	assert_int_equal(state_save(s), 0);
	state_close(s);

	s = state_open(f->db, &err);
	assert_null(state_get(s, f->file, &st));
	assert_non_null(state_get(s, other, &st2));
	state_close(s);
	free(other);
}

static void a_file_put_right_after_its_modification_is_not_trusted(void **state)
{
	struct fixture *f = *state;
	struct rp_err err;
	struct stat st;
	struct state *s = state_open(f->db, &err);

	struct timespec now, times[2];

	tl_write_path(f->file, "abc", 3);
	/*
	 * "Right after" must not depend on how fast this machine is: give the
	 * file an mtime a little ahead of the clock, as a write that lands in
	 * the same timestamp tick as the put would look.
	 */
	clock_gettime(CLOCK_REALTIME, &now);
	times[0] = now;
	times[1] = now;
	times[1].tv_sec += 2;
	assert_int_equal(utimensat(AT_FDCWD, f->file, times, 0), 0);
	assert_int_equal(stat(f->file, &st), 0);
	state_put(s, f->file, &st, ABC_SHA256);
	assert_null(state_get(s, f->file, &st));
	assert_int_equal(state_save(s), 0);
	state_close(s);

	s = state_open(f->db, &err);
	assert_null(state_get(s, f->file, &st));
	state_close(s);
}

static void many_entries_round_trip(void **state)
{
	struct fixture *f = *state;
	struct rp_err err;
	struct stat st;
	struct state *s = state_open(f->db, &err);
	char path[64], hex[HASH_HEX];
	int i;

	write_aged(f->file, "abc", 10, &st);
	for (i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "dir/f%d", i);
		hash_buf(path, strlen(path), hex);
		state_put(s, path, &st, hex);
	}
	assert_int_equal(state_save(s), 0);
	state_close(s);

	s = state_open(f->db, &err);
	for (i = 0; i < 5000; i++) {
		snprintf(path, sizeof(path), "dir/f%d", i);
		hash_buf(path, strlen(path), hex);
		assert_string_equal(state_get(s, path, &st), hex);
	}
	state_close(s);
}

static void two_open_states_can_both_save(void **state)
{
	struct fixture *f = *state;
	struct rp_err err;
	struct stat st;
	struct state *a = state_open(f->db, &err);
	struct state *b = state_open(f->db, &err);

	write_aged(f->file, "abc", 10, &st);
	state_put(a, "a", &st, ABC_SHA256);
	state_put(b, "b", &st, ABC_SHA256);
	assert_int_equal(state_save(a), 0);
	assert_int_equal(state_save(b), 0);
	state_close(a);
	state_close(b);

	a = state_open(f->db, &err);
	assert_non_null(state_get(a, "a", &st));
	assert_non_null(state_get(a, "b", &st));
	state_close(a);
}

static void opening_an_unwritable_path_fails_with_a_message(void **state)
{
	struct rp_err err = { 0 };
	char *bad = xasprintf("%s/file/state.db", ((struct fixture *)*state)->dir);
	struct stat st;

	write_aged(((struct fixture *)*state)->file, "x", 0, &st);
	assert_null(state_open(bad, &err));
	assert_int_equal(err.kind, RP_ERR_IO);
	assert_non_null(strstr(err.msg, "file"));
	state_close(NULL);
	free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_recorded_hash_survives_close_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(a_changed_mtime_or_size_misses, setup, teardown),
		cmocka_unit_test_setup_teardown(a_confirmed_file_is_known_without_a_stat_until_the_next_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(a_racy_hash_holds_within_its_generation_only, setup, teardown),
		cmocka_unit_test_setup_teardown(state_clear_makes_lookups_miss_and_save_rewrites, setup, teardown),
		cmocka_unit_test_setup_teardown(a_file_put_right_after_its_modification_is_not_trusted, setup, teardown),
		cmocka_unit_test_setup_teardown(many_entries_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(two_open_states_can_both_save, setup, teardown),
		cmocka_unit_test_setup_teardown(opening_an_unwritable_path_fails_with_a_message, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
