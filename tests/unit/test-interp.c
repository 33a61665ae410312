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
	"cmd: \"run ${x}\"\n";

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

static void double_dollar_escapes_a_reference(void **state)
{
	struct doc *d = *state;

	assert_expands(d->root, "echo $${HOME} ${item.n}", "echo ${HOME} 3");
	assert_expands(d->root, "$${unterminated", "${unterminated");
	assert_expands(d->root, "cost $5 and $$ and $", "cost $5 and $$ and $");
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
			    "unterminated '${' in 'run ${chunker.size'");
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
			    "params.yaml:5:7: '${item}' is a mapping and cannot be part of a string");
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
		cmocka_unit_test_setup_teardown(double_dollar_escapes_a_reference, setup, teardown),
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
