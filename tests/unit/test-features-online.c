/*
 * test-features-online.c - the online store's two backends behave alike:
 * a record round-trips, a write replaces a record only with a greater
 * version (as_of, newest_ts, newest_created) whatever the order of writes,
 * the watermark only grows (the definitions' hash is replaced), and bad or unreachable stores are clear errors.
 *
 * Every behaviour runs against SQLite and, when a redis-server can be
 * started ($REDIS_SERVER, else redis-server on PATH), against a private
 * Redis on 127.0.0.1 (its own port and dir, killed at the end); without one
 * the Redis group is skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>

#include "features/online.h"
#include "testlib.h"

static char *scratch;
static pid_t redis_pid;
static int redis_port;

struct backend {
	const char *name;
	char url[256];
	struct ostore *s;
};

static struct backend sqlite_be = { "sqlite", "", NULL };
static struct backend redis_be = { "redis", "", NULL };

static int start_redis(void)
{
	const char *prog = getenv("REDIS_SERVER");
	char port[16];

	if (!prog || !*prog)
		prog = "redis-server";
	redis_port = 20000 + (int)(getpid() % 20000);
	snprintf(port, sizeof(port), "%d", redis_port);
	redis_pid = fork();
	if (redis_pid < 0)
		return -1;
	if (!redis_pid) {
		freopen("/dev/null", "w", stdout);
		execlp(prog, prog, "--port", port, "--bind", "127.0.0.1", "--save", "",
		       "--appendonly", "no", "--dir", scratch, "--daemonize", "no", (char *)NULL);
		_exit(127);
	}
	snprintf(redis_be.url, sizeof(redis_be.url), "redis://127.0.0.1:%d", redis_port);
	for (int i = 0; i < 100; i++) {
		struct rp_err err = { 0 };
		struct ostore *s = ostore_open(redis_be.url, 1, &err);
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		int status;

		if (s) {
			ostore_free(s);
			return 0;
		}
		if (waitpid(redis_pid, &status, WNOHANG) == redis_pid) {
			redis_pid = 0;
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return -1;
}

static int group_setup(void **state)
{
	(void)state;
	scratch = tl_scratch("online");
	return scratch ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	if (redis_pid > 0) {
		kill(redis_pid, SIGKILL);
		waitpid(redis_pid, NULL, 0);
	}
	return tl_unscratch(scratch);
}

static int open_sqlite(void **state)
{
	static int n;
	struct rp_err err = { 0 };

	snprintf(sqlite_be.url, sizeof(sqlite_be.url), "%s/store%d.sqlite", scratch, n++);
	sqlite_be.s = ostore_open(sqlite_be.url, 1, &err);
	if (!sqlite_be.s)
		fprintf(stderr, "%s\n", err.msg);
	*state = &sqlite_be;
	return sqlite_be.s ? 0 : -1;
}

static int open_redis(void **state)
{
	static int db;
	struct rp_err err = { 0 };

	if (!redis_pid && start_redis() < 0)
		redis_pid = -1;
	if (redis_pid < 0) {
		*state = NULL;
		return 0;
	}
	/* a fresh database for every test (Redis has 16) */
	snprintf(redis_be.url, sizeof(redis_be.url), "redis://127.0.0.1:%d/%d", redis_port,
		 1 + db++ % 15);
	redis_be.s = ostore_open(redis_be.url, 1, &err);
	if (!redis_be.s)
		fprintf(stderr, "%s\n", err.msg);
	*state = &redis_be;
	return redis_be.s ? 0 : -1;
}

static int close_store(void **state)
{
	struct backend *b = *state;

	if (b) {
		ostore_free(b->s);
		b->s = NULL;
	}
	return 0;
}

#define BACKEND(state)                                 \
	struct backend *be = *(state);                 \
	if (!be) {                                     \
		skip();                                \
		return;                                \
	}

static struct owrite wr(const char *key, const char *feature, enum fstatus st, const char *value,
			ftime_t ts, ftime_t created, ftime_t as_of)
{
	struct owrite w = { key, feature, st, value, ts, created, as_of };

	return w;
}

static void get1(struct ostore *s, const char *key, const char *feature, struct orec *r)
{
	struct rp_err err = { 0 };

	assert_int_equal(ostore_get(s, &key, &feature, 1, r, &err), 0);
}

static void test_round_trip(void **state)
{
	BACKEND(state);
	struct rp_err err = { 0 };
	char key2[] = "u1\x1f" "d9";
	struct owrite w[3] = {
		wr("42", "user:clicks_7d", FSTATUS_OK, "17", 1000, 1200, 5000),
		wr(key2, "pair:last", FSTATUS_OK, "\"caf\xc3\xa9 \\\"x\\\"\"", -5, -5, 5000),
		wr("43", "user:last_doc", FSTATUS_NOT_FOUND, "null", FTIME_NONE, FTIME_NONE, 5000),
	};
	size_t written = 0;
	const char *keys[4] = { "42", key2, "43", "44" };
	const char *feats[4] = { "user:clicks_7d", "pair:last", "user:last_doc", "user:clicks_7d" };
	struct orec r[4];

	assert_int_equal(ostore_put(be->s, w, 3, &written, &err), 0);
	assert_int_equal(written, 3);
	assert_int_equal(ostore_get(be->s, keys, feats, 4, r, &err), 0);
	assert_true(r[0].found);
	assert_int_equal(r[0].status, FSTATUS_OK);
	assert_string_equal(r[0].value, "17");
	assert_int_equal(r[0].newest_ts, 1000);
	assert_int_equal(r[0].newest_created, 1200);
	assert_int_equal(r[0].as_of, 5000);
	assert_string_equal(r[1].value, "\"caf\xc3\xa9 \\\"x\\\"\"");
	assert_int_equal(r[1].newest_ts, -5);
	assert_true(r[2].found);
	assert_int_equal(r[2].status, FSTATUS_NOT_FOUND);
	assert_true(r[2].newest_ts == FTIME_NONE);
	assert_false(r[3].found);
	for (int i = 0; i < 4; i++)
		orec_release(&r[i]);
}

static void test_only_a_greater_version_replaces(void **state)
{
	BACKEND(state);
	struct rp_err err = { 0 };
	struct orec r;
	size_t written = 0;
	struct owrite w;

	w = wr("7", "user:n", FSTATUS_OK, "2", 100, 100, 2000);
	assert_int_equal(ostore_put(be->s, &w, 1, &written, &err), 0);
	/* older as_of, even with newer events: kept */
	w = wr("7", "user:n", FSTATUS_OK, "1", 900, 900, 1000);
	assert_int_equal(ostore_put(be->s, &w, 1, &written, &err), 0);
	/* same version: not a write */
	w = wr("7", "user:n", FSTATUS_OK, "9", 100, 100, 2000);
	assert_int_equal(ostore_put(be->s, &w, 1, &written, &err), 0);
	assert_int_equal(written, 1);
	get1(be->s, "7", "user:n", &r);
	assert_string_equal(r.value, "2");
	assert_int_equal(r.as_of, 2000);
	orec_release(&r);
	/* same as_of, a later created time of the newest event: replaces */
	w = wr("7", "user:n", FSTATUS_OK, "3", 100, 150, 2000);
	assert_int_equal(ostore_put(be->s, &w, 1, &written, &err), 0);
	/* newer as_of with no event at all (FTIME_NONE orders first): replaces */
	w = wr("7", "user:n", FSTATUS_EXPIRED, "null", 100, 150, 3000);
	assert_int_equal(ostore_put(be->s, &w, 1, &written, &err), 0);
	assert_int_equal(written, 3);
	get1(be->s, "7", "user:n", &r);
	assert_int_equal(r.status, FSTATUS_EXPIRED);
	assert_string_equal(r.value, "null");
	assert_int_equal(r.as_of, 3000);
	orec_release(&r);
}

/* writes of random versions in random order leave each record at its greatest */
static void test_random_order_keeps_the_greatest(void **state)
{
	BACKEND(state);
	struct rp_err err = { 0 };
	enum { K = 20, V = 30 };
	struct owrite w[K * V];
	char keys[K][16], vals[K * V][16];
	ftime_t best[K][3];
	unsigned seed = 12345;

	for (int k = 0; k < K; k++) {
		snprintf(keys[k], sizeof(keys[k]), "k%d", k);
		best[k][0] = best[k][1] = best[k][2] = INT64_MIN;
	}
	for (int i = 0; i < K * V; i++) {
		int k = i % K;
		ftime_t v[3] = { rand_r(&seed) % 4, (rand_r(&seed) % 5) - 2, rand_r(&seed) % 3 };

		if (rand_r(&seed) % 7 == 0)
			v[1] = FTIME_NONE;
		snprintf(vals[i], sizeof(vals[i]), "%d", i);
		w[i] = wr(keys[k], "v:f", FSTATUS_OK, vals[i], v[1], v[2], v[0]);
		if (v[0] > best[k][0] || (v[0] == best[k][0] && (v[1] > best[k][1] ||
		    (v[1] == best[k][1] && v[2] > best[k][2])))) {
			best[k][0] = v[0];
			best[k][1] = v[1];
			best[k][2] = v[2];
		}
	}
	for (int i = 0; i < K * V; i += 37)
		assert_int_equal(ostore_put(be->s, w + i, i + 37 <= K * V ? 37 : K * V - i, NULL, &err), 0);
	for (int k = 0; k < K; k++) {
		struct orec r;

		get1(be->s, keys[k], "v:f", &r);
		assert_true(r.found);
		assert_true(r.as_of == best[k][0]);
		assert_true(r.newest_ts == best[k][1]);
		assert_true(r.newest_created == best[k][2]);
		orec_release(&r);
	}
}

static void test_watermark_only_grows(void **state)
{
	BACKEND(state);
	struct rp_err err = { 0 };
	struct omark m, m2 = { 5000, 4000, 7 }, m3 = { 3000, 4500, UINT64_C(0xfedcba9876543210) };

	assert_int_equal(ostore_mark_get(be->s, &m, &err), 0);
	assert_true(m.at == FTIME_NONE && m.known == FTIME_NONE && m.defs == 0);
	assert_int_equal(ostore_mark_raise(be->s, &m2, &err), 0);
	assert_int_equal(ostore_mark_raise(be->s, &m3, &err), 0);
	assert_int_equal(ostore_mark_get(be->s, &m, &err), 0);
	assert_int_equal(m.at, 5000);
	assert_int_equal(m.known, 4500);
	/* the definitions' hash is set, not raised */
	assert_true(m.defs == UINT64_C(0xfedcba9876543210));
	m2.defs = 5;
	assert_int_equal(ostore_mark_raise(be->s, &m2, &err), 0);
	assert_int_equal(ostore_mark_get(be->s, &m, &err), 0);
	assert_true(m.defs == 5);
}

static int count_rec(const char *key, const char *feature, void *arg)
{
	(void)key;
	(void)feature;
	++*(int *)arg;
	return 0;
}

static void test_each_lists_every_record(void **state)
{
	BACKEND(state);
	struct rp_err err = { 0 };
	struct owrite w[3] = {
		wr("1", "a:x", FSTATUS_OK, "1", 1, 1, 1),
		wr("1", "a:y", FSTATUS_OK, "1", 1, 1, 1),
		wr("2", "a:x", FSTATUS_OK, "1", 1, 1, 1),
	};
	int n = 0;

	assert_int_equal(ostore_put(be->s, w, 3, NULL, &err), 0);
	assert_int_equal(ostore_each(be->s, count_rec, &n, &err), 0);
	assert_int_equal(n, 3);
}

static void test_bad_stores(void **state)
{
	struct rp_err err = { 0 };
	char path[512];

	(void)state;
	assert_null(ostore_open("redis://localhost", 1, &err));
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(err.msg, "redis://HOST:PORT"));
	assert_null(ostore_open("redis://127.0.0.1:99999", 1, &err));
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_null(ostore_open("http://x/y", 1, &err));
	assert_int_equal(err.kind, RP_ERR_INPUT);
	/* port 1 on the loopback: nothing listens there */
	assert_null(ostore_open("redis://127.0.0.1:1", 1, &err));
	assert_int_equal(err.kind, RP_ERR_IO);
	assert_non_null(strstr(err.msg, "start redis-server"));
	snprintf(path, sizeof(path), "%s/missing.sqlite", scratch);
	assert_null(ostore_open(path, 0, &err));
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(err.msg, "materialize"));
}

#define BOTH(fn) \
	cmocka_unit_test_setup_teardown(fn, open_sqlite, close_store), \
	cmocka_unit_test_setup_teardown(fn, open_redis, close_store)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_round_trip),
		BOTH(test_only_a_greater_version_replaces),
		BOTH(test_random_order_keeps_the_greatest),
		BOTH(test_watermark_only_grows),
		BOTH(test_each_lists_every_record),
		cmocka_unit_test(test_bad_stores),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
