/*
 * test-dag.c - edges, conflicts, cycles, order and selection of the stage graph.
 *
 * Each test writes a pipeline into a scratch directory (testlib.h), loads it
 * with pipeline_load() and builds the dag; teardown frees both and removes
 * the directory. Tests that touch sources chdir into the workspace (tl_enter),
 * and teardown goes back.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "testlib.h"
#include "core/dag.h"

struct ws {
	char *dir;
	struct pipeline *p;
	struct dag *d;
	struct rp_err err;
};

/* Loads `yaml` as rp.yaml and builds its dag; returns the dag or NULL (w->err). */
static struct dag *build(struct ws *w, const char *yaml)
{
	dag_free(w->d);
	w->d = NULL;
	if (!tl_pipeline(w->dir, yaml, &w->p, &w->err))
		fail_msg("pipeline did not load: %s", w->err.msg);
	w->d = dag_build(w->p, &w->err);
	return w->d;
}

static void expect_error(struct ws *w, const char *yaml, const char *want)
{
	assert_null(build(w, yaml));
	assert_int_equal(w->err.kind, RP_ERR_INPUT);
	if (!strstr(w->err.msg, want))
		fail_msg("error '%s' lacks '%s'", w->err.msg, want);
}

static size_t stage_index(struct ws *w, const char *name)
{
	struct stage *st = pipeline_find(w->p, name);

	assert_non_null(st);
	return st - w->p->stages;
}

/* The names of the stages in topological order, space-separated. Caller frees. */
static char *order_text(struct ws *w)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < w->d->n; i++)
		buf_addf(&b, "%s%s", i ? " " : "", w->p->stages[w->d->order[i]].name);
	return buf_detach(&b);
}

/* The names of the selected stages in file order. Caller frees. */
static char *sel_text(struct ws *w, const unsigned char *sel)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < w->d->n; i++)
		if (sel[i])
			buf_addf(&b, "%s%s", b.len ? " " : "", w->p->stages[i].name);
	return buf_detach(&b);
}

static int setup(void **state)
{
	struct ws *w = xcalloc(1, sizeof(*w));

	w->dir = tl_scratch("dag");
	if (!w->dir)
		return -1;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct ws *w = *state;
	int ret;

	dag_free(w->d);
	pipeline_free(w->p);
	ret = tl_unscratch(w->dir);
	free(w);
	return ret;
}

static const char diamond[] =
	"stages:\n"
	"  report:\n"
	"    cmd: r\n"
	"    deps: [out/left.txt, out/right.txt]\n"
	"    outs: [report.md]\n"
	"  left:\n"
	"    cmd: l\n"
	"    deps: [src/data.txt]\n"
	"    outs: [out/left.txt]\n"
	"  right:\n"
	"    cmd: r\n"
	"    deps: [src]\n"
	"    outs: [out/right.txt]\n"
	"  src:\n"
	"    cmd: s\n"
	"    outs: [src/data.txt]\n"
	"  lonely:\n"
	"    cmd: x\n";

/* ---- edges and order -------------------------------------------------- */

static void order_puts_producers_first_and_keeps_file_order(void **state)
{
	struct ws *w = *state;
	char *s;

	assert_non_null(build(w, diamond));
	s = order_text(w);
	assert_string_equal(s, "src left right report lonely");
	free(s);
}

static void edges_follow_exact_paths_and_directories(void **state)
{
	struct ws *w = *state;
	size_t report, left, right, src;

	assert_non_null(build(w, diamond));
	report = stage_index(w, "report");
	left = stage_index(w, "left");
	right = stage_index(w, "right");
	src = stage_index(w, "src");
	assert_int_equal(w->d->nup[report], 2);
	assert_int_equal(w->d->up[report][0], left);
	assert_int_equal(w->d->up[report][1], right);
	/* right's dep 'src' is a directory holding src's output */
	assert_int_equal(w->d->nup[right], 1);
	assert_int_equal(w->d->up[right][0], src);
	assert_int_equal(w->d->ndown[src], 2);
	assert_int_equal(w->d->down[src][0], left);
	assert_int_equal(w->d->down[src][1], right);
	assert_int_equal(w->d->nup[src], 0);
}

static void a_dep_inside_an_output_directory_finds_its_producer(void **state)
{
	struct ws *w = *state;
	size_t unpack;

	assert_non_null(build(w,
		"stages:\n"
		"  unpack:\n    cmd: u\n    outs: [corpus]\n"
		"  other:\n    cmd: o\n    outs: [corpus-2, corpus.txt]\n"
		"  read:\n    cmd: r\n    deps: [corpus/a/b.txt]\n"));
	unpack = stage_index(w, "unpack");
	assert_int_equal(dag_producer(w->d, "corpus/a/b.txt"), unpack);
	assert_int_equal(dag_producer(w->d, "corpus"), unpack);
	assert_int_equal(dag_producer(w->d, "corpus.txt"), stage_index(w, "other"));
	assert_int_equal(dag_producer(w->d, "corpus-3"), -1);
	assert_int_equal(dag_producer(w->d, "corp"), -1);
	assert_int_equal(w->d->nup[stage_index(w, "read")], 1);
	assert_int_equal(w->d->up[stage_index(w, "read")][0], unpack);
}

/* ---- conflicts and cycles --------------------------------------------- */

static void two_stages_with_one_output_is_an_error(void **state)
{
	struct ws *w = *state;

	expect_error(w,
		"stages:\n"
		"  a:\n    cmd: x\n    outs: [build/x.txt]\n"
		"  b:\n    cmd: y\n    outs: [./build/x.txt]\n",
		"rp.yaml:7:12: output 'build/x.txt' is produced by both stage 'a' and stage 'b'");
}

static void an_output_inside_another_is_an_error(void **state)
{
	struct ws *w = *state;

	expect_error(w,
		"stages:\n"
		"  y:\n    cmd: x\n    outs: [a, a-b]\n"
		"  x:\n    cmd: y\n    outs: [a/b]\n",
		"rp.yaml:7:12: output 'a/b' of stage 'x' is inside output 'a' of stage 'y'");
	expect_error(w,
		"stages:\n"
		"  y:\n    cmd: x\n    outs: [a/b/c, a]\n",
		"rp.yaml:4:12: output 'a/b/c' of stage 'y' is inside output 'a' of stage 'y'");
}

static void a_cycle_is_an_error_that_prints_the_cycle(void **state)
{
	struct ws *w = *state;

	expect_error(w,
		"stages:\n"
		"  a:\n    cmd: x\n    deps: [c.txt]\n    outs: [a.txt]\n"
		"  b:\n    cmd: x\n    deps: [a.txt]\n    outs: [b.txt]\n"
		"  c:\n    cmd: x\n    deps: [b.txt]\n    outs: [c.txt]\n"
		"  d:\n    cmd: x\n    deps: [c.txt]\n",
		"rp.yaml:2:3: the pipeline has a cycle: a -> b -> c -> a");
}

static void a_stage_reading_its_own_output_is_a_cycle(void **state)
{
	struct ws *w = *state;

	expect_error(w,
		"stages:\n"
		"  ok:\n    cmd: x\n"
		"  self:\n    cmd: x\n    deps: [data]\n    outs: [data/out.txt]\n",
		"rp.yaml:4:3: the pipeline has a cycle: self -> self");
}

/* ---- selection -------------------------------------------------------- */

static void select_takes_targets_and_their_upstream(void **state)
{
	struct ws *w = *state;
	const char *targets[] = { "left" };
	unsigned char sel[5];
	char *s;

	assert_non_null(build(w, diamond));
	assert_int_equal(dag_select(w->d, targets, 1, 0, sel, &w->err), 0);
	s = sel_text(w, sel);
	assert_string_equal(s, "left src");
	free(s);
	assert_int_equal(dag_select(w->d, NULL, 0, 0, sel, &w->err), 0);
	s = sel_text(w, sel);
	assert_string_equal(s, "report left right src lonely");
	free(s);
}

static void select_downstream_takes_targets_and_their_dependents(void **state)
{
	struct ws *w = *state;
	const char *targets[] = { "left" };
	const char *src[] = { "src" };
	unsigned char sel[5];
	char *s;

	assert_non_null(build(w, diamond));
	assert_int_equal(dag_select(w->d, targets, 1, DAG_SELECT_DOWNSTREAM, sel, &w->err), 0);
	s = sel_text(w, sel);
	assert_string_equal(s, "report left");
	free(s);
	assert_int_equal(dag_select(w->d, src, 1, DAG_SELECT_DOWNSTREAM, sel, &w->err), 0);
	s = sel_text(w, sel);
	assert_string_equal(s, "report left right src");
	free(s);
	assert_int_equal(dag_select(w->d, targets, 1, DAG_SELECT_SINGLE, sel, &w->err), 0);
	s = sel_text(w, sel);
	assert_string_equal(s, "left");
	free(s);
}

static void select_takes_a_whole_foreach_group(void **state)
{
	struct ws *w = *state;
	const char *targets[] = { "emb" };
	unsigned char sel[4];
	char *s;

	assert_non_null(build(w,
		"stages:\n"
		"  chunk:\n    cmd: c\n    outs: [chunks]\n"
		"  emb:\n    foreach: [s, l]\n    do:\n      cmd: e\n      deps: [chunks]\n"
		"  other:\n    cmd: o\n"));
	assert_int_equal(dag_select(w->d, targets, 1, 0, sel, &w->err), 0);
	s = sel_text(w, sel);
	assert_string_equal(s, "chunk emb@s emb@l");
	free(s);
}

static void select_of_an_unknown_stage_lists_the_stages(void **state)
{
	struct ws *w = *state;
	const char *targets[] = { "lefty" };
	unsigned char sel[5];

	assert_non_null(build(w, diamond));
	assert_int_equal(dag_select(w->d, targets, 1, 0, sel, &w->err), -1);
	assert_int_equal(w->err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(w->err.msg, "stage 'lefty' not found in "));
	assert_non_null(strstr(w->err.msg, "rp.yaml (stages: report, left, right, src, lonely)"));
}

/* ---- sources ---------------------------------------------------------- */

/* Records the paths dag_check_sources() reports as regular files. */
static void note_seen(void *ctx, const char *path, const struct stat *sb)
{
	struct buf *b = ctx;

	assert_true(S_ISREG(sb->st_mode));
	buf_addf(b, "%s;", path);
}

static void check_sources_accepts_existing_and_produced_deps(void **state)
{
	struct ws *w = *state;
	struct buf seen = BUF_INIT;

	tl_put(w->dir, "in/raw.txt", "x\n");
	assert_non_null(build(w,
		"stages:\n"
		"  a:\n    cmd: x\n    deps: [in/raw.txt, in]\n    outs: [mid/a.txt]\n"
		"  b:\n    cmd: x\n    deps: [mid/a.txt, mid]\n"));
	tl_enter(w->dir);
	assert_int_equal(dag_check_sources(w->d, note_seen, &seen, &w->err), 0);
	/* the source file, not the source directory nor what a stage makes */
	assert_string_equal(seen.s, "in/raw.txt;");
	buf_release(&seen);
}

static void check_sources_rejects_missing_and_dangling_deps(void **state)
{
	struct ws *w = *state;
	char *link = xasprintf("%s/dangling", w->dir);

	assert_int_equal(symlink("nowhere", link), 0);
	free(link);
	assert_non_null(build(w, "stages:\n  a:\n    cmd: x\n    deps: [missing.txt]\n"));
	tl_enter(w->dir);
	assert_int_equal(dag_check_sources(w->d, NULL, NULL, &w->err), -1);
	assert_int_equal(w->err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(w->err.msg, "rp.yaml:4:12: stage 'a': dependency 'missing.txt' "
			       "does not exist and no stage produces it"));
	assert_non_null(build(w, "stages:\n  a:\n    cmd: x\n    deps: [dangling]\n"));
	assert_int_equal(dag_check_sources(w->d, NULL, NULL, &w->err), -1);
	assert_non_null(strstr(w->err.msg, "dependency 'dangling' does not exist"));
}

/* ---- scale ------------------------------------------------------------ */

static void a_chain_of_5000_stages_builds_in_order(void **state)
{
	struct ws *w = *state;
	struct buf y = BUF_INIT;
	size_t i, n = 5000;

	buf_adds(&y, "stages:\n");
	/* declared last-first, so the order has to reverse the file */
	for (i = n; i-- > 0;) {
		buf_addf(&y, "  s%zu:\n    cmd: step %zu\n    outs: [d/%zu.txt]\n", i, i, i);
		if (i)
			buf_addf(&y, "    deps: [d/%zu.txt]\n", i - 1);
	}
	assert_non_null(build(w, y.s));
	buf_release(&y);
	assert_int_equal(w->d->n, n);
	for (i = 0; i < n; i++)
		assert_int_equal(w->d->order[i], n - 1 - i);
	assert_int_equal(dag_producer(w->d, "d/1234.txt"), n - 1 - 1234);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(order_puts_producers_first_and_keeps_file_order, setup, teardown),
		cmocka_unit_test_setup_teardown(edges_follow_exact_paths_and_directories, setup, teardown),
		cmocka_unit_test_setup_teardown(a_dep_inside_an_output_directory_finds_its_producer, setup, teardown),
		cmocka_unit_test_setup_teardown(two_stages_with_one_output_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(an_output_inside_another_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(a_cycle_is_an_error_that_prints_the_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(a_stage_reading_its_own_output_is_a_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(select_takes_targets_and_their_upstream, setup, teardown),
		cmocka_unit_test_setup_teardown(select_downstream_takes_targets_and_their_dependents, setup, teardown),
		cmocka_unit_test_setup_teardown(select_takes_a_whole_foreach_group, setup, teardown),
		cmocka_unit_test_setup_teardown(select_of_an_unknown_stage_lists_the_stages, setup, teardown),
		cmocka_unit_test_setup_teardown(check_sources_accepts_existing_and_produced_deps, setup, teardown),
		cmocka_unit_test_setup_teardown(check_sources_rejects_missing_and_dangling_deps, setup, teardown),
		cmocka_unit_test_setup_teardown(a_chain_of_5000_stages_builds_in_order, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
