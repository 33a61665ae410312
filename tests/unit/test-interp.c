/*
 * test-interp.c - ${...} interpolation against a vars tree.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "yaml/doc.h"
#include "util/error.h"
#include "core/interp.h"

static const char vars_yaml[] =
	"chunker:\n"
	"  strategy: sentence\n"
	"  size: 512\n"
	"models: [mini, large]\n"
	"item: {name: docs, n: 3}\n"
	"empty: ''\n"
	"cmd: \"run ${x}\"\n"
	"typed: {t: True, f: false, n: ~, e: 1e-5, s: 0.001, one: 1.0, big: 1e16, i: 007,\n"
	"        m: 123456789012345678.0, neg: -2.5e-7, inf: -.inf, q: 'true'}\n"
	"train: {lr: 0.01, epochs: 10, layers: [64, 32], shuffle: true, dropout: false,\n"
	"        name: my model, none: ~, empty: [], nested: {depth: 2, act: relu},\n"
	"        quote: \"it's\", mixed: [a b, true, 1e-5]}\n"
	"bad: {grid: [[1, 2]]}\n";

static int setup(void **state)
{
	struct rp_err err = { 0 };
	struct doc *d = doc_load_buf("params.yaml", vars_yaml, strlen(vars_yaml), &err);

	if (!d)
		return -1;
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	doc_free(*state);
	return 0;
}

/* Expands `s` and checks the result. */
static void assert_expands(const struct node *ctx, const char *s, const char *want)
{
	struct rp_err err = { 0 };
	char *got = interp_string(s, ctx, NULL, &err);

	if (!got)
		fail_msg("'%s' failed: %s", s, err.msg);
	assert_string_equal(got, want);
	free(got);
}

/* Expands `s` expecting failure; returns the message in a static buffer. */
static const char *expand_err(const struct node *ctx, const char *s, const struct node *where)
{
	static struct rp_err err;
	char *got;

	memset(&err, 0, sizeof(err));
	got = interp_string(s, ctx, where, &err);
	if (got) {
		free(got);
		fail_msg("'%s' expanded but should have failed", s);
	}
	assert_int_equal(err.kind, RP_ERR_INPUT);
	return err.msg;
}

static void references_are_replaced_by_scalar_text(void **state)
{
	struct doc *d = *state;

	assert_expands(d->root, "rp chunk --strategy ${chunker.strategy} --size ${chunker.size}",
		       "rp chunk --strategy sentence --size 512");
	assert_expands(d->root, "${models[1]}", "large");
	assert_expands(d->root, "${item.name}-${item.n}.jsonl", "docs-3.jsonl");
	assert_expands(d->root, "x${empty}y", "xy");
	assert_expands(d->root, "no references here", "no references here");
	assert_expands(d->root, "", "");
}

static void whitespace_inside_braces_is_trimmed(void **state)
{
	struct doc *d = *state;

	assert_expands(d->root, "${ chunker.size }", "512");
	assert_expands(d->root, "a${\tmodels[0] }b", "aminib");
}

static void values_are_not_expanded_again(void **state)
{
	struct doc *d = *state;

	assert_expands(d->root, "${cmd}", "run ${x}");
}

static void a_backslash_escapes_a_reference_as_in_dvc(void **state)
{
	struct doc *d = *state;

	assert_expands(d->root, "echo \\${HOME} ${item.n}", "echo ${HOME} 3");
	assert_expands(d->root, "\\${unterminated", "${unterminated");
	/* DVC reads "$${x}" as '$' and then ${x} */
	assert_expands(d->root, "echo $${item.n}", "echo $3");
	assert_expands(d->root, "cost $5 and $$ and $", "cost $5 and $$ and $");
}

static void values_are_written_as_dvc_writes_them(void **state)
{
	struct doc *d = *state;

	assert_expands(d->root, "${typed.t} ${typed.f} ${typed.n} ${typed.q}",
		       "true false None true");
	assert_expands(d->root, "${typed.e} ${typed.s} ${typed.one} ${typed.big} ${typed.i}",
		       "1e-05 0.001 1.0 1e+16 7");
	assert_expands(d->root, "${typed.m} ${typed.neg} ${typed.inf}",
		       "1.2345678901234568e+17 -2.5e-07 -inf");
}

static void lists_and_maps_are_indexed_with_dots_or_brackets(void **state)
{
	struct doc *d = *state;

	assert_expands(d->root, "${models.0} ${models[1]} ${item[name]} ${chunker[size]}",
		       "mini large docs 512");
	assert_expands(d->root, "${models.-1} ${train.layers.1}", "large 32");
	assert_non_null(strstr(expand_err(d->root, "${models.2}", NULL),
			       "undefined variable 'models.2'"));
}

static void a_mapping_in_a_command_becomes_flags_as_in_dvc(void **state)
{
	struct doc *d = *state;
	struct rp_err err = { 0 };
	char *got;

	got = interp_string_flags("python train.py ${train} --seed 1", d->root, NULL,
				  INTERP_CMD, &err);
	assert_non_null(got);
	assert_string_equal(got, "python train.py --lr 0.01 --epochs 10 --layers 64 32 "
			    "--shuffle --name 'my model' --none None --nested.depth 2 "
			    "--nested.act relu --quote 'it'\"'\"'s' --mixed 'a b' True 1e-05 "
			    "--seed 1");
	free(got);
	got = interp_string_flags("${bad}", d->root, NULL, INTERP_CMD, &err);
	assert_null(got);
	assert_string_equal(err.msg, "'${bad}': cannot interpolate nested iterable in "
			    "'grid' (a list inside a list); make it a flat list");
}

static void undefined_variable_names_the_place_and_the_fix(void **state)
{
	struct doc *d = *state;
	struct node *where = node_get(d->root, "cmd");

	assert_string_equal(expand_err(d->root, "python ${nope.x} go", where),
			    "params.yaml:7:6: undefined variable 'nope.x' in 'python ${nope.x} go'; "
			    "define it under vars: or in params.yaml");
	assert_string_equal(expand_err(d->root, "${models[2]}", NULL),
			    "undefined variable 'models[2]' in '${models[2]}'; "
			    "define it under vars: or in params.yaml");
	assert_non_null(strstr(expand_err(d->root, "${chunker.size.x}", NULL),
			       "undefined variable 'chunker.size.x'"));
}

static void unterminated_reference_is_an_error(void **state)
{
	struct doc *d = *state;

	assert_string_equal(expand_err(d->root, "run ${chunker.size", NULL),
			    "unterminated '${' in 'run ${chunker.size'; close it with '}', "
			    "or write '\\${' for a literal '${'");
	assert_non_null(strstr(expand_err(d->root, "${item.n} then ${", NULL), "unterminated"));
}

static void empty_reference_is_an_error(void **state)
{
	struct doc *d = *state;

	assert_string_equal(expand_err(d->root, "a ${ } b", NULL), "empty '${}' in 'a ${ } b'");
}

static void lists_and_maps_cannot_be_part_of_a_string(void **state)
{
	struct doc *d = *state;
	struct node *where = node_get(d->root, "item");

	assert_string_equal(expand_err(d->root, "embed ${models}", NULL),
			    "'${models}' is a list and cannot be part of a string");
	assert_string_equal(expand_err(d->root, "${item}/x", where),
			    "params.yaml:5:7: '${item}' is a mapping and cannot be part of a string "
			    "(only in 'cmd', where it becomes --flags)");
}

static void a_lone_reference_to_a_list_expands_to_json(void **state)
{
	struct doc *d = *state;

	assert_expands(d->root, "${models}", "[\"mini\",\"large\"]");
	assert_expands(d->root, "${ item }", "{\"n\":3,\"name\":\"docs\"}");
}

static void generated_where_node_gives_the_file_only(void **state)
{
	struct doc *d = *state;
	struct node *where = node_new_scalar("x", 0);

	assert_string_equal(expand_err(d->root, "${zzz}", where),
			    "<generated>: undefined variable 'zzz' in '${zzz}'; "
			    "define it under vars: or in params.yaml");
	node_free(where);
}

static void lone_reference_returns_the_node(void **state)
{
	struct doc *d = *state;
	struct rp_err err = { 0 };
	const struct node *n;

	n = interp_node("${models}", d->root, NULL, &err);
	assert_ptr_equal(n, node_get(d->root, "models"));
	assert_int_equal(n->kind, NODE_SEQ);
	n = interp_node("${ item }", d->root, NULL, &err);
	assert_int_equal(n->kind, NODE_MAP);
	n = interp_node("${chunker.size}", d->root, NULL, &err);
	assert_string_equal(n->str, "512");
}

static void non_lone_reference_returns_null_without_error(void **state)
{
	struct doc *d = *state;
	struct rp_err err = { 0 };

	err.kind = RP_ERR_IO;
	assert_null(interp_node("x ${models}", d->root, NULL, &err));
	assert_int_equal(err.kind, RP_ERR_NONE);
	assert_null(interp_node("${models} ${item}", d->root, NULL, &err));
	assert_int_equal(err.kind, RP_ERR_NONE);
	assert_null(interp_node("${models}x", d->root, NULL, &err));
	assert_int_equal(err.kind, RP_ERR_NONE);
	assert_null(interp_node("plain", d->root, NULL, &err));
	assert_int_equal(err.kind, RP_ERR_NONE);
	assert_null(interp_node("${", d->root, NULL, &err));
	assert_int_equal(err.kind, RP_ERR_NONE);
}

static void lone_undefined_reference_fails(void **state)
{
	struct doc *d = *state;
	struct node *where = node_get(d->root, "models");
	struct rp_err err = { 0 };

	assert_null(interp_node("${missing}", d->root, where, &err));
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_string_equal(err.msg, "params.yaml:4:9: undefined variable 'missing' in '${missing}'; "
			    "define it under vars: or in params.yaml");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(references_are_replaced_by_scalar_text, setup, teardown),
		cmocka_unit_test_setup_teardown(whitespace_inside_braces_is_trimmed, setup, teardown),
		cmocka_unit_test_setup_teardown(values_are_not_expanded_again, setup, teardown),
		cmocka_unit_test_setup_teardown(a_backslash_escapes_a_reference_as_in_dvc, setup, teardown),
		cmocka_unit_test_setup_teardown(values_are_written_as_dvc_writes_them, setup, teardown),
		cmocka_unit_test_setup_teardown(lists_and_maps_are_indexed_with_dots_or_brackets, setup, teardown),
		cmocka_unit_test_setup_teardown(a_mapping_in_a_command_becomes_flags_as_in_dvc, setup, teardown),
		cmocka_unit_test_setup_teardown(undefined_variable_names_the_place_and_the_fix, setup, teardown),
		cmocka_unit_test_setup_teardown(unterminated_reference_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_reference_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(lists_and_maps_cannot_be_part_of_a_string, setup, teardown),
		cmocka_unit_test_setup_teardown(a_lone_reference_to_a_list_expands_to_json, setup, teardown),
		cmocka_unit_test_setup_teardown(generated_where_node_gives_the_file_only, setup, teardown),
		cmocka_unit_test_setup_teardown(lone_reference_returns_the_node, setup, teardown),
		cmocka_unit_test_setup_teardown(non_lone_reference_returns_null_without_error, setup, teardown),
		cmocka_unit_test_setup_teardown(lone_undefined_reference_fails, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
