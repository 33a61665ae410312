/*
 * test-features-agg.c - the aggregations (agg.h) against a brute-force
 * reference: thousands of random small event sets (fixed seed) with ties
 * in time, created times later than event times, nulls, strings, numbers
 * and booleans, windows and ttls, and query times on the exact edges
 * (T - w == an event's time, T - ttl == the newest event's time). The
 * reference evaluates the header's semantics directly, one pass over every
 * event per query; the sweep must give the same status, value and newest
 * event for every query.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "features/agg.h"
#include "features/defs.h"
#include "features/events.h"
#include "util/error.h"

#define NFEAT 7
#define MAXEV 40

static const enum fagg aggs[NFEAT] = { FAGG_COUNT, FAGG_SUM, FAGG_AVG, FAGG_MIN, FAGG_MAX,
				       FAGG_LAST, FAGG_COUNT_DISTINCT };
static const char *const strs[] = { "a", "b", "c", "1" };

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* A hand-built view and its events; every case fills it anew. */
struct fixture {
	struct fentity entity;
	struct fsource source;
	struct ffeature feat[NFEAT];
	struct fview view;
	struct fevents ev;
	ftime_t ts[MAXEV], created[MAXEV];
	uint32_t entity_of[MAXEV];
	struct fval vals[NFEAT][MAXEV];
	struct fval *cols[NFEAT];
};

static void fixture_init(struct fixture *fx, int with_created)
{
	static char *keys[] = { "user_id" };

	memset(fx, 0, sizeof(*fx));
	fx->entity = (struct fentity){ "user", keys, 1 };
	fx->source.name = "clicks";
	fx->source.timestamp = "ts";
	fx->source.created = with_created ? "created" : NULL;
	for (size_t f = 0; f < NFEAT; f++) {
		fx->feat[f].name = (char *)fagg_name(aggs[f]);
		fx->feat[f].full = (char *)fagg_name(aggs[f]);
		fx->feat[f].agg = aggs[f];
		fx->feat[f].column = aggs[f] == FAGG_COUNT ? NULL : "v";
		fx->feat[f].window = FTIME_NONE;
		fx->feat[f].ttl = FTIME_NONE;
		fx->cols[f] = aggs[f] == FAGG_COUNT ? NULL : fx->vals[f];
	}
	fx->view = (struct fview){ "user", &fx->entity, &fx->source, fx->feat, NFEAT, NULL };
	fx->ev.view = &fx->view;
	fx->ev.entity = fx->entity_of;
	fx->ev.ts = fx->ts;
	fx->ev.created = with_created ? fx->created : NULL;
	fx->ev.col = fx->cols;
}

static void add_event(struct fixture *fx, const char *key, ftime_t ts, ftime_t created)
{
	size_t i = fx->ev.n++;

	fx->entity_of[i] = fkeys_intern(&fx->ev.keys, key, strlen(key));
	fx->ts[i] = ts;
	fx->created[i] = created;
}

/* ---- the reference: the header's words, one pass per query ---------------------- */

static ftime_t cr(const struct fixture *fx, size_t i)
{
	return fx->ev.created ? fx->created[i] : fx->ts[i];
}

static int known(const struct fixture *fx, size_t i, ftime_t T)
{
	return fx->ts[i] <= T && cr(fx, i) <= T;
}

static int same_value(const struct fval *a, const struct fval *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == FVAL_STR)
		return a->len == b->len && !memcmp(a->str, b->str, a->len);
	return a->num == b->num;
}

static void reference(const struct fixture *fx, size_t f, uint32_t ent, ftime_t T,
		      struct fresult *out)
{
	const struct ffeature *ft = &fx->feat[f];
	const struct fval *col = fx->cols[f];
	int64_t newest = -1, last = -1, count = 0, distinct = 0;
	double sum = 0, best = 0;
	int all_int = 1, have_best = 0;

	memset(out, 0, sizeof(*out));
	out->newest_ts = out->newest_created = FTIME_NONE;
	for (size_t i = 0; i < fx->ev.n; i++) {
		if (fx->entity_of[i] != ent || !known(fx, i, T))
			continue;
		if (newest < 0 || fx->ts[i] > fx->ts[newest] ||
		    (fx->ts[i] == fx->ts[newest] && cr(fx, i) > cr(fx, newest)))
			newest = (int64_t)i;
		if (ft->window != FTIME_NONE && fx->ts[i] <= T - ft->window)
			continue;
		if (col && col[i].kind == FVAL_NULL)
			continue;
		count++;
		if (!col)
			continue;
		sum += col[i].num;
		if (!col[i].is_int)
			all_int = 0;
		if ((ft->agg == FAGG_MIN && (!have_best || col[i].num < best)) ||
		    (ft->agg == FAGG_MAX && (!have_best || col[i].num > best))) {
			best = col[i].num;
			have_best = 1;
		}
		if (last < 0 || fx->ts[i] > fx->ts[last] ||
		    (fx->ts[i] == fx->ts[last] && cr(fx, i) >= cr(fx, last)))
			last = (int64_t)i;   /* i > last: the later index wins a full tie */
		if (ft->agg == FAGG_COUNT_DISTINCT) {
			int seen = 0;

			for (size_t j = 0; j < i && !seen; j++)
				seen = fx->entity_of[j] == ent && known(fx, j, T) &&
				       (ft->window == FTIME_NONE || fx->ts[j] > T - ft->window) &&
				       col[j].kind != FVAL_NULL && same_value(&col[j], &col[i]);
			distinct += !seen;
		}
	}
	out->status = FSTATUS_NOT_FOUND;
	out->v.kind = FVAL_NULL;
	if (newest < 0)
		return;
	out->newest_ts = fx->ts[newest];
	out->newest_created = cr(fx, (size_t)newest);
	if (ft->ttl != FTIME_NONE && fx->ts[newest] <= T - ft->ttl) {
		out->status = FSTATUS_EXPIRED;
		return;
	}
	switch (ft->agg) {
	case FAGG_COUNT:
	case FAGG_COUNT_DISTINCT:
		out->status = FSTATUS_OK;
		out->v = (struct fval){ FVAL_NUM, 1, (double)(ft->agg == FAGG_COUNT ? count : distinct),
					NULL, 0 };
		break;
	case FAGG_SUM:
		out->status = FSTATUS_OK;
		out->v = (struct fval){ FVAL_NUM, all_int, sum, NULL, 0 };
		break;
	case FAGG_AVG:
		if (count) {
			out->status = FSTATUS_OK;
			out->v = (struct fval){ FVAL_NUM, 0, sum / (double)count, NULL, 0 };
		}
		break;
	case FAGG_MIN:
	case FAGG_MAX:
		if (have_best) {
			out->status = FSTATUS_OK;
			out->v = (struct fval){ FVAL_NUM, 0, best, NULL, 0 };
		}
		break;
	case FAGG_LAST:
		if (last >= 0) {
			out->status = FSTATUS_OK;
			out->v = col[last];
		}
		break;
	}
}

static void check_same(const struct fresult *got, const struct fresult *want, const char *what)
{
	int ok = got->status == want->status && got->newest_ts == want->newest_ts &&
		 got->newest_created == want->newest_created && got->v.kind == want->v.kind &&
		 (got->v.kind == FVAL_NULL || same_value(&got->v, &want->v));

	/* sums of integers stay integers; other numbers print as doubles */
	if (ok && !strcmp(what, "sum"))
		ok = got->v.is_int == want->v.is_int;
	if (!ok)
		fail_msg("%s: got status %s value %g (kind %d) newest %lld, want %s %g (kind %d) newest %lld",
			 what, fstatus_name(got->status), got->v.num, got->v.kind,
			 (long long)got->newest_ts, fstatus_name(want->status), want->v.num,
			 want->v.kind, (long long)want->newest_ts);
}

/* Sweeps every entity of fx with the sorted query times q[0..nq) and compares. */
static size_t sweep_and_compare(struct fixture *fx, const ftime_t *q, size_t nq)
{
	struct fgroups g;
	size_t checks = 0;

	fgroups_build(&g, &fx->ev);
	for (size_t f = 0; f < NFEAT; f++) {
		struct fsweep *s = fsweep_new(&fx->ev, f);

		for (uint32_t k = 0; k < fx->ev.keys.n; k++) {
			fsweep_start(s, g.rows + g.start[k], g.start[k + 1] - g.start[k]);
			for (size_t j = 0; j < nq; j++) {
				struct fresult got, want;

				fsweep_at(s, q[j], &got);
				reference(fx, f, k, q[j], &want);
				check_same(&got, &want, fagg_name(aggs[f]));
				checks++;
			}
		}
		fsweep_free(s);
	}
	fgroups_release(&g);
	return checks;
}

static int cmp_time(const void *a, const void *b)
{
	ftime_t x = *(const ftime_t *)a, y = *(const ftime_t *)b;

	return x < y ? -1 : x > y;
}

static void random_value(struct fval *v, int numeric)
{
	unsigned r = rnd(10);

	if (r < 2) {
		*v = (struct fval){ FVAL_NULL, 0, 0, NULL, 0 };
	} else if (numeric || r < 6) {
		/* integers, and quarters (exact in any summation order) */
		if (rnd(2))
			*v = (struct fval){ FVAL_NUM, 1, (double)rnd(7) - 2, NULL, 0 };
		else
			*v = (struct fval){ FVAL_NUM, 0, ((double)rnd(13) - 4) / 4, NULL, 0 };
	} else if (r < 9) {
		const char *s = strs[rnd(4)];

		*v = (struct fval){ FVAL_STR, 0, 0, s, strlen(s) };
	} else {
		*v = (struct fval){ FVAL_BOOL, 0, (double)rnd(2), NULL, 0 };
	}
}

#define CASES 5000

static void test_sweep_equals_brute_force_reference(void **state)
{
	static const char *const ents[] = { "u1", "u2", "u3" };
	size_t checks = 0;
	clock_t t0 = clock();

	(void)state;
	for (int c = 0; c < CASES; c++) {
		struct fixture fx;
		ftime_t q[64];
		size_t nq = 0, n = rnd(MAXEV + 1);
		ftime_t span = 4 + rnd(30);

		fixture_init(&fx, rnd(3) != 0);
		for (size_t i = 0; i < n; i++) {
			ftime_t ts = (ftime_t)rnd((unsigned)span);
			ftime_t created = ts + (rnd(3) ? 0 : (ftime_t)rnd(8));   /* late arrivals */

			add_event(&fx, ents[rnd(1 + rnd(3))], ts, created);
		}
		for (size_t f = 0; f < NFEAT; f++) {
			if (rnd(4))
				fx.feat[f].window = 1 + rnd(10);
			if (rnd(3) == 0)
				fx.feat[f].ttl = 1 + rnd(10);
			if (aggs[f] == FAGG_COUNT)
				continue;
			for (size_t i = 0; i < n; i++)
				random_value(&fx.vals[f][i], aggs[f] != FAGG_LAST &&
						       aggs[f] != FAGG_COUNT_DISTINCT);
		}
		/* query times: random, and on every edge an event and the windows make */
		while (nq < 24)
			q[nq++] = (ftime_t)rnd((unsigned)span + 16) - 2;
		for (size_t i = 0; i < n && nq < 64; i++) {
			size_t f = rnd(NFEAT);

			q[nq++] = fx.ts[i] + (fx.feat[f].window != FTIME_NONE ? fx.feat[f].window : 0);
			if (nq < 64)
				q[nq++] = fx.ts[i] + (fx.feat[f].ttl != FTIME_NONE ? fx.feat[f].ttl : 0);
		}
		qsort(q, nq, sizeof(*q), cmp_time);
		checks += sweep_and_compare(&fx, q, nq);
		fkeys_release(&fx.ev.keys);
	}
	printf("# %d random cases, %zu comparisons with the reference, %.2f s\n", CASES, checks,
	       (double)(clock() - t0) / CLOCKS_PER_SEC);
}

/* The cases the header names, by hand: each a sentence a user relies on. */
static void test_window_covers_t_minus_w_exclusive_to_t_inclusive(void **state)
{
	struct fixture fx;
	struct fgroups g;
	struct fsweep *s;
	struct fresult r;

	(void)state;
	fixture_init(&fx, 0);
	fx.feat[0].window = 10;
	add_event(&fx, "u", 100, 0);
	add_event(&fx, "u", 105, 0);
	fgroups_build(&g, &fx.ev);
	s = fsweep_new(&fx.ev, 0);
	fsweep_start(s, g.rows, 2);
	fsweep_at(s, 99, &r);
	assert_int_equal(r.status, FSTATUS_NOT_FOUND);
	fsweep_at(s, 105, &r);
	assert_true(r.status == FSTATUS_OK && r.v.num == 2);
	fsweep_at(s, 109, &r);
	assert_true(r.v.num == 2);
	fsweep_at(s, 110, &r);   /* T - w == 100: the event at 100 has left */
	assert_true(r.status == FSTATUS_OK && r.v.num == 1);
	fsweep_at(s, 115, &r);   /* empty window: count is 0, not null */
	assert_true(r.status == FSTATUS_OK && r.v.num == 0 && r.v.is_int);
	fsweep_free(s);
	fgroups_release(&g);
	fkeys_release(&fx.ev.keys);
}

static void test_late_event_counts_only_once_known(void **state)
{
	struct fixture fx;
	struct fgroups g;
	struct fsweep *s;
	struct fresult r;

	(void)state;
	fixture_init(&fx, 1);
	fx.feat[5].ttl = 50;
	fx.vals[5][0] = (struct fval){ FVAL_STR, 0, 0, "old", 3 };
	fx.vals[5][1] = (struct fval){ FVAL_STR, 0, 0, "late", 4 };
	add_event(&fx, "u", 100, 100);
	add_event(&fx, "u", 110, 130);   /* happened at 110, known at 130 */
	fgroups_build(&g, &fx.ev);
	s = fsweep_new(&fx.ev, 5);
	fsweep_start(s, g.rows, 2);
	fsweep_at(s, 120, &r);
	assert_true(r.status == FSTATUS_OK && !strcmp(r.v.str, "old") && r.newest_ts == 100);
	fsweep_at(s, 130, &r);
	assert_true(r.status == FSTATUS_OK && !strcmp(r.v.str, "late") && r.newest_ts == 110);
	fsweep_at(s, 159, &r);
	assert_int_equal(r.status, FSTATUS_OK);
	fsweep_at(s, 160, &r);   /* newest (110) <= T - ttl: expired exactly on the edge */
	assert_int_equal(r.status, FSTATUS_EXPIRED);
	assert_int_equal(r.v.kind, FVAL_NULL);
	fsweep_free(s);
	fgroups_release(&g);
	fkeys_release(&fx.ev.keys);
}

/* Sums are exact: what left the window leaves no rounding behind, and the
 * order the values came in does not change the last bit. */
static void test_sums_are_exact_whatever_came_and_went(void **state)
{
	static const double vals[] = { 1e20, 0.1, 0.2, 0.3, -1e20 };
	struct fixture fx;
	struct fgroups g;
	struct fsweep *s;
	struct fresult r;

	(void)state;
	fixture_init(&fx, 0);
	fx.feat[1].window = 10;
	for (size_t i = 0; i < 5; i++) {
		add_event(&fx, "u", i == 0 ? 100 : 105, 0);
		fx.vals[1][i] = (struct fval){ FVAL_NUM, 0, vals[i], NULL, 0 };
	}
	fx.ev.n = 4;   /* without the -1e20 */
	fgroups_build(&g, &fx.ev);
	s = fsweep_new(&fx.ev, 1);
	fsweep_start(s, g.rows, 4);
	fsweep_at(s, 105, &r);
	assert_true(r.status == FSTATUS_OK && r.v.num == 1e20);
	fsweep_at(s, 110, &r);   /* 1e20 left: 0.1 + 0.2 + 0.3 rounded once */
	assert_true(r.v.num == 0.6);
	assert_false(r.v.is_int);
	fsweep_free(s);
	fgroups_release(&g);
	fx.ev.n = 5;   /* 1e20 and -1e20 both in the window: they cancel exactly */
	fgroups_build(&g, &fx.ev);
	s = fsweep_new(&fx.ev, 1);
	fsweep_start(s, g.rows + g.start[0], 5);
	fsweep_at(s, 105, &r);
	assert_true(r.v.num == 0.6);
	fsweep_free(s);
	fgroups_release(&g);
	fkeys_release(&fx.ev.keys);
}

/* Random sums of values 2^-60 to 2^60 apart, against an exact 128-bit reference. */
static void test_sums_equal_an_exact_reference(void **state)
{
	(void)state;
	for (int c = 0; c < 2000; c++) {
		struct fixture fx;
		struct fgroups g;
		struct fsweep *s;
		size_t n = 1 + rnd(30);

		fixture_init(&fx, 0);
		fx.feat[1].window = 1 + rnd(8);
		for (size_t i = 0; i < n; i++) {
			int e = (int)rnd(100) - 60;
			double m = (double)rnd(1u << 21) - (double)(1u << 20);

			add_event(&fx, "u", rnd(20), 0);
			fx.vals[1][i] = (struct fval){ FVAL_NUM, 0, ldexp(m, e), NULL, 0 };
		}
		fgroups_build(&g, &fx.ev);
		s = fsweep_new(&fx.ev, 1);
		fsweep_start(s, g.rows, n);
		for (ftime_t T = 0; T < 30; T += 1 + rnd(3)) {
			struct fresult r;
			__int128 exact = 0;

			for (size_t i = 0; i < n; i++)
				if (fx.ts[i] <= T && fx.ts[i] > T - fx.feat[1].window)
					exact += (__int128)ldexp(fx.vals[1][i].num, 60);
			fsweep_at(s, T, &r);
			if (r.status == FSTATUS_OK && r.v.num != ldexp((double)exact, -60))
				fail_msg("case %d at %lld: got %a, want %a", c, (long long)T, r.v.num,
					 ldexp((double)exact, -60));
		}
		fsweep_free(s);
		fgroups_release(&g);
		fkeys_release(&fx.ev.keys);
	}
}

static void test_groups_are_sorted_by_time_created_and_index(void **state)
{
	struct fixture fx;
	struct fgroups g;

	(void)state;
	fixture_init(&fx, 1);
	add_event(&fx, "a", 5, 9);
	add_event(&fx, "b", 1, 1);
	add_event(&fx, "a", 5, 6);
	add_event(&fx, "a", 2, 2);
	add_event(&fx, "a", 5, 6);
	fgroups_build(&g, &fx.ev);
	assert_int_equal(g.start[0], 0);
	assert_int_equal(g.start[1], 4);
	assert_int_equal(g.start[2], 5);
	assert_int_equal(g.rows[0], 3);
	assert_int_equal(g.rows[1], 2);
	assert_int_equal(g.rows[2], 4);
	assert_int_equal(g.rows[3], 0);
	assert_int_equal(g.rows[4], 1);
	fgroups_release(&g);
	fkeys_release(&fx.ev.keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sweep_equals_brute_force_reference),
		cmocka_unit_test(test_window_covers_t_minus_w_exclusive_to_t_inclusive),
		cmocka_unit_test(test_late_event_counts_only_once_known),
		cmocka_unit_test(test_sums_are_exact_whatever_came_and_went),
		cmocka_unit_test(test_sums_equal_an_exact_reference),
		cmocka_unit_test(test_groups_are_sorted_by_time_created_and_index),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
