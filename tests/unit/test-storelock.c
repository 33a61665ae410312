/*
 * test-storelock.c - the store's lease: shared for every command, exclusive
 * for gc, never granted exclusively beside a shared one.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"
#include "util/error.h"
#include "store/storelock.h"

static int setup(void **state)
{
	char *dir = tl_scratch("storelock");

	if (!dir)
		return -1;
	unsetenv("RP_STORE_LEASE");
	*state = dir;
	return 0;
}

static int teardown(void **state)
{
	int ret = tl_unscratch(*state);

	unsetenv("RP_STORE_LEASE");
	return ret;
}

/* 1 when another open file description of ROOT/lock can be locked with `op` now. */
static int could_lock(const char *root, int op)
{
	char *p = xasprintf("%s/lock", root);
	int fd = open(p, O_RDONLY | O_CLOEXEC), ok;

	free(p);
	assert_true(fd >= 0);
	ok = flock(fd, op | LOCK_NB) == 0;
	close(fd);
	return ok;
}

static void a_missing_store_is_reported_for_the_caller_to_create(void **state)
{
	char *root = xasprintf("%s/nope", (char *)*state);
	struct store_lease l;
	struct rp_err err = { 0 };

	assert_int_equal(store_lease_take(&l, root, &err), 1);
	assert_int_equal(l.fd, -1);
	free(root);
}

static void shared_leases_coexist_and_keep_gc_out(void **state)
{
	const char *root = *state;
	struct store_lease a, b;
	struct rp_err err = { 0 };

	assert_int_equal(store_lease_take(&a, root, &err), 0);
	assert_int_equal(store_lease_take(&b, root, &err), 0);
	assert_false(could_lock(root, LOCK_EX));
	assert_true(could_lock(root, LOCK_SH));
	store_lease_release(&a);
	assert_false(could_lock(root, LOCK_EX));
	store_lease_release(&b);
	assert_true(could_lock(root, LOCK_EX));
	/* stage commands learn which store their rp holds */
	assert_non_null(getenv("RP_STORE_LEASE"));
}

static void the_exclusive_lease_shuts_out_every_other(void **state)
{
	const char *root = *state;
	struct store_lease g;
	struct rp_err err = { 0 };
	char *gate = xasprintf("%s/gc.lock", root);
	char pid[32];
	int fd;
	ssize_t n;

	assert_int_equal(store_lease_take(&g, root, &err), 0);
	assert_int_equal(store_lease_exclusive(&g, root, &err), 0);
	assert_false(could_lock(root, LOCK_SH));
	/* the gate names this gc */
	fd = open(gate, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_not_equal(flock(fd, LOCK_SH | LOCK_NB), 0);
	n = read(fd, pid, sizeof(pid) - 1);
	assert_true(n > 0);
	pid[n] = '\0';
	assert_int_equal(atol(pid), (long)getpid());
	close(fd);
	store_lease_release(&g);
	assert_true(could_lock(root, LOCK_EX));
	free(gate);
}

static void gc_started_under_its_parents_lease_refuses(void **state)
{
	const char *root = *state;
	struct store_lease parent, child;
	struct rp_err err = { 0 };
	char *p = xasprintf("%s/lock", root);
	struct stat sb;
	char v[80];

	assert_int_equal(store_lease_take(&parent, root, &err), 0);
	assert_int_equal(stat(p, &sb), 0);
	/* as a stage command of a live rp (our parent process) would see it */
	snprintf(v, sizeof(v), "%llu:%llu:%ld", (unsigned long long)sb.st_dev,
		 (unsigned long long)sb.st_ino, (long)getppid());
	setenv("RP_STORE_LEASE", v, 1);
	assert_int_equal(store_lease_take(&child, root, &err), 0);
	assert_int_equal(child.inherited, 1);
	assert_int_equal(store_lease_exclusive(&child, root, &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(err.msg, "from a stage of an rp that uses it"));
	store_lease_release(&child);
	store_lease_release(&parent);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_missing_store_is_reported_for_the_caller_to_create, setup, teardown),
		cmocka_unit_test_setup_teardown(shared_leases_coexist_and_keep_gc_out, setup, teardown),
		cmocka_unit_test_setup_teardown(the_exclusive_lease_shuts_out_every_other, setup, teardown),
		cmocka_unit_test_setup_teardown(gc_started_under_its_parents_lease_refuses, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
