/*
 * test-freshness.c - the reasons `rp status` and `rp repro` give for a dirty
 * stage, through core/freshness.h.
 *
 * Each test writes one stage 'train' (a dep in.txt and extra.txt, a param
 * chunker.size, an out out.txt) into a scratch workspace, records it as a
 * run would (the lock entry holds the key, commands, deps, params and outs
 * as evaluated then), changes one thing, and asserts the one reason that
 * the change gives: its kind, its machine name and its text. A test fails
 * when the detection it covers is gone: the stage then shows no reason, or
 * the catch-all "outs changed in the pipeline file", or another kind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "testlib.h"
#include "core/freshness.h"
#include "core/pipeline.h"
#include "lock/model.h"
#include "yaml/doc.h"

struct fixture {
	char *dir;
	struct state *state;
	struct store *st;
	struct pipeline *p;
	struct lock_stage *ls;   /* the entry of the last record(), or NULL */
};

static const char base_yaml[] =
	"stages:\n"
	"  train:\n"
	"    cmd: cp in.txt out.txt\n"
	"    deps: [in.txt, extra.txt]\n"
	"    params: [chunker.size]\n"
	"    outs: [out.txt]\n";

/* Loads `yaml` (and the params.yaml in the directory) as the pipeline of `f`. */
static void load(struct fixture *f, const char *yaml)
{
	struct rp_err err = { 0 };

	if (!tl_pipeline(f->dir, yaml, &f->p, &err))
		fail_msg("pipeline_load: %s", err.msg);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	*state = f;
	f->dir = tl_scratch("freshness");
	if (!f->dir || tl_store_open(f->dir, &f->state, &f->st) < 0)
		return -1;
	tl_enter(f->dir);
	tl_put(f->dir, "in.txt", "hello\n");
	tl_put(f->dir, "extra.txt", "extra\n");
	tl_put(f->dir, "out.txt", "hello\n");
	tl_put(f->dir, "params.yaml", "chunker:\n  size: 800\n");
	load(f, base_yaml);
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int ret;

	lock_stage_free(f->ls);
	pipeline_free(f->p);
	tl_store_close(f->state, f->st);
	ret = tl_unscratch(f->dir);
	free(f);
	return ret;
}

static const struct stage *train(const struct fixture *f)
{
	const struct stage *st = pipeline_find(f->p, "train");

	assert_non_null(st);
	return st;
}

/*
 * Evaluates stage 'train' against f->ls into `v` (released by the caller);
 * returns the number of deps that could not be hashed.
 */
static size_t check(struct fixture *f, struct verdict *v)
{
	struct eval ev = { 0 };
	size_t nmissing;

	memset(v, 0, sizeof(*v));
	freshness_eval_deps(f->st, train(f), &ev);
	freshness_compare(f->st, train(f), &ev, f->ls, v);
	nmissing = ev.nmissing;
	freshness_eval_release(&ev);
	return nmissing;
}

/* Records stage 'train' as it is now into f->ls, as a successful run would. */
static void record(struct fixture *f)
{
	const struct stage *st = train(f);
	struct eval ev = { 0 };
	struct verdict v = { 0 };
	struct buf canon = BUF_INIT;
	struct lock_stage *ls = lock_stage_new(st->name);

	freshness_eval_deps(f->st, st, &ev);
	freshness_compare(f->st, st, &ev, NULL, &v);   /* hashes the outs */
	assert_int_equal(ev.nmissing, 0);
	memcpy(ls->key, ev.key, HASH_HEX);
	for (size_t i = 0; i < st->ncmds; i++)
		lock_stage_add_cmd(ls, st->cmds[i]);
	for (size_t i = 0; i < st->ndeps; i++)
		lock_stage_add_dep(ls, st->deps[i].path, &ev.deps[i]);
	for (size_t i = 0; i < st->nparams; i++) {
		buf_reset(&canon);
		node_canonical(st->params[i].value, &canon);
		lock_stage_add_param(ls, st->params[i].file, st->params[i].key, canon.s);
	}
	for (size_t i = 0; i < st->nouts; i++) {
		assert_true(ev.out_ok[i]);
		lock_stage_add_out(ls, st->outs[i].path, &ev.outs[i], 1);
	}
	buf_release(&canon);
	freshness_verdict_release(&v);
	freshness_eval_release(&ev);
	lock_stage_free(f->ls);
	f->ls = ls;
}

/* Asserts that `v` holds exactly one reason, of `kind`, named `name`, reading `text`. */
static void expect_one(const struct verdict *v, enum reason_kind kind, const char *name,
		       const char *text)
{
	char *t;

	if (v->n != 1) {
		for (size_t i = 0; i < v->n; i++) {
			t = freshness_reason_text(&v->r[i]);
			print_message("reason %zu: %s\n", i, t);
			free(t);
		}
		fail_msg("expected 1 reason, got %zu", v->n);
	}
	assert_int_equal(v->r[0].kind, kind);
	assert_string_equal(freshness_reason_name(v->r[0].kind), name);
	t = freshness_reason_text(&v->r[0]);
	assert_string_equal(t, text);
	free(t);
}

static void a_new_stage_was_never_run(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	assert_int_equal(check(f, &v), 0);
	expect_one(&v, R_NEVER_RUN, "never-run", "never run");
	assert_false(v.key_matches);
	assert_true(v.outs_differ);
	freshness_verdict_release(&v);
}

static void a_stage_just_recorded_is_up_to_date(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	record(f);
	assert_int_equal(check(f, &v), 0);
	assert_int_equal(v.n, 0);
	assert_true(v.key_matches);
	assert_false(v.outs_differ);
	freshness_verdict_release(&v);
}

static void a_changed_dep_is_named(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	record(f);
	tl_put(f->dir, "in.txt", "hello, changed\n");
	assert_int_equal(check(f, &v), 0);
	expect_one(&v, R_DEP_CHANGED, "dep-changed", "dep 'in.txt' changed");
	assert_false(v.key_matches);
	freshness_verdict_release(&v);
}

static void a_deleted_dep_file_is_missing(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	record(f);
	assert_int_equal(unlink("in.txt"), 0);
	assert_int_equal(check(f, &v), 1);
	expect_one(&v, R_DEP_MISSING, "dep-missing", "dep 'in.txt' deleted");
	assert_false(v.key_matches);
	freshness_verdict_release(&v);
}

static void a_dep_dropped_from_the_pipeline_is_removed(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	record(f);
	load(f, "stages:\n  train:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n"
		"    params: [chunker.size]\n    outs: [out.txt]\n");
	assert_int_equal(check(f, &v), 0);
	expect_one(&v, R_DEP_GONE, "dep-removed", "dep 'extra.txt' removed");
	assert_false(v.key_matches);
	freshness_verdict_release(&v);
}

static void a_dep_added_to_the_pipeline_is_named(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	load(f, "stages:\n  train:\n    cmd: cp in.txt out.txt\n    deps: [in.txt]\n"
		"    params: [chunker.size]\n    outs: [out.txt]\n");
	record(f);
	load(f, base_yaml);
	assert_int_equal(check(f, &v), 0);
	expect_one(&v, R_DEP_NEW, "dep-added", "dep 'extra.txt' added");
	freshness_verdict_release(&v);
}

static void a_changed_param_value_shows_both_values(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	record(f);
	tl_put(f->dir, "params.yaml", "chunker:\n  size: 600\n");
	load(f, base_yaml);
	assert_int_equal(check(f, &v), 0);
	expect_one(&v, R_PARAM_CHANGED, "param-changed", "param chunker.size 800 -> 600");
	assert_string_equal(v.r[0].subject, "chunker.size");
	assert_false(v.key_matches);
	freshness_verdict_release(&v);
}

static void a_changed_cmd_is_named(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	record(f);
	load(f, "stages:\n  train:\n    cmd: cp -p in.txt out.txt\n    deps: [in.txt, extra.txt]\n"
		"    params: [chunker.size]\n    outs: [out.txt]\n");
	assert_int_equal(check(f, &v), 0);
	expect_one(&v, R_CMD, "cmd-changed", "cmd changed");
	assert_false(v.key_matches);
	freshness_verdict_release(&v);
}

static void a_missing_out_is_named(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	record(f);
	assert_int_equal(unlink("out.txt"), 0);
	assert_int_equal(check(f, &v), 0);
	expect_one(&v, R_OUT_MISSING, "out-missing", "out 'out.txt' missing");
	assert_true(v.key_matches);   /* the inputs did not change: a restore will do */
	assert_true(v.outs_differ);
	freshness_verdict_release(&v);
}

static void a_changed_out_is_modified(void **state)
{
	struct fixture *f = *state;
	struct verdict v;

	record(f);
	tl_put(f->dir, "out.txt", "edited by hand\n");
	assert_int_equal(check(f, &v), 0);
	expect_one(&v, R_OUT_MODIFIED, "out-modified", "out 'out.txt' modified");
	assert_true(v.key_matches);
	assert_true(v.outs_differ);
	freshness_verdict_release(&v);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(a_new_stage_was_never_run),
		T(a_stage_just_recorded_is_up_to_date),
		T(a_changed_dep_is_named),
		T(a_deleted_dep_file_is_missing),
		T(a_dep_dropped_from_the_pipeline_is_removed),
		T(a_dep_added_to_the_pipeline_is_named),
		T(a_changed_param_value_shows_both_values),
		T(a_changed_cmd_is_named),
		T(a_missing_out_is_named),
		T(a_changed_out_is_modified),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
