/*
 * test-key.c - the stage cache key: every input counts, formatting does not.
 *
 * Each test writes a pipeline and params file into a scratch directory
 * (testlib.h), loads it with pipeline_load(), and computes the key of stage 'train' with
 * fixed dep hashes, so the key depends only on what the YAML says.
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
#include "core/key.h"
#include "core/pipeline.h"
#include "core/progver.h"

static char *dir;

static int setup(void **state)
{
	(void)state;
	dir = tl_scratch("key");
	return dir ? 0 : -1;
}

static int teardown(void **state)
{
	int ret = tl_unscratch(dir);

	(void)state;
	dir = NULL;
	return ret;
}

/* Writes rp.yaml and params.yaml and loads them (caller frees); fails the test if they do not load. */
static struct pipeline *load(const char *yaml, const char *params)
{
	struct rp_err err = { 0 };
	struct pipeline *p = NULL;

	tl_put(dir, "params.yaml", params);
	if (!tl_pipeline(dir, yaml, &p, &err))
		fail_msg("pipeline_load: %s", err.msg);
	return p;
}

static const char *const hashes_a[] = {
	"1111111111111111111111111111111111111111111111111111111111111111",
	"2222222222222222222222222222222222222222222222222222222222222222",
};

/* The key of stage 'train' in `yaml` with `params`, deps hashed as `hashes`. */
static void key_of(const char *yaml, const char *params, const char *const *hashes,
		   char hex[HASH_HEX])
{
	struct pipeline *p = load(yaml, params);
	const struct stage *st;
	const char *h[8];

	st = pipeline_find(p, "train");
	assert_non_null(st);
	assert_true(st->ndeps <= 2);
	/* hashes are given per dep path, so reordering deps keeps each dep's hash */
	for (size_t i = 0; i < st->ndeps; i++)
		h[i] = hashes[strcmp(st->deps[i].path, "a.txt") == 0 ? 0 : 1];
	key_compute(st, h, hex);
	pipeline_free(p);
}

static const char base_yaml[] =
	"stages:\n"
	"  train:\n"
	"    cmd: python train.py --lr ${lr}\n"
	"    deps: [a.txt, b.txt]\n"
	"    params: [lr, model]\n"
	"    outs: [model.bin]\n";
static const char base_params[] =
	"lr: 0.1\n"
	"model:\n"
	"  name: small\n"
	"  layers: 4\n"
	"unused: 1\n";

static void expect_differs(const char *yaml, const char *params, const char *const *hashes)
{
	char a[HASH_HEX], b[HASH_HEX];

	key_of(base_yaml, base_params, hashes_a, a);
	key_of(yaml, params, hashes, b);
	assert_string_not_equal(a, b);
}

static void expect_same(const char *yaml, const char *params)
{
	char a[HASH_HEX], b[HASH_HEX];

	key_of(base_yaml, base_params, hashes_a, a);
	key_of(yaml, params, hashes_a, b);
	assert_string_equal(a, b);
}

static void the_same_inputs_give_the_same_key(void **state)
{
	(void)state;
	expect_same(base_yaml, base_params);
}

static void the_key_is_64_hex_digits(void **state)
{
	(void)state;
	char a[HASH_HEX];

	key_of(base_yaml, base_params, hashes_a, a);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(strspn(a, "0123456789abcdef"), 64);
}

static void changing_the_command_changes_the_key(void **state)
{
	(void)state;
	expect_differs("stages:\n  train:\n    cmd: python train.py  --lr ${lr}\n"
		       "    deps: [a.txt, b.txt]\n    params: [lr, model]\n    outs: [model.bin]\n",
		       base_params, hashes_a);
}

static void changing_a_dep_hash_changes_the_key(void **state)
{
	(void)state;
	static const char *const other[] = {
		"1111111111111111111111111111111111111111111111111111111111111111",
		"3333333333333333333333333333333333333333333333333333333333333333",
	};
	expect_differs(base_yaml, base_params, other);
}

static void adding_a_dep_changes_the_key(void **state)
{
	(void)state;
	expect_differs("stages:\n  train:\n    cmd: python train.py --lr ${lr}\n"
		       "    deps: [a.txt]\n    params: [lr, model]\n    outs: [model.bin]\n",
		       base_params, hashes_a);
}

static void renaming_a_dep_changes_the_key(void **state)
{
	(void)state;
	expect_differs("stages:\n  train:\n    cmd: python train.py --lr ${lr}\n"
		       "    deps: [a.txt, c.txt]\n    params: [lr, model]\n    outs: [model.bin]\n",
		       base_params, hashes_a);
}

static void changing_a_listed_param_changes_the_key(void **state)
{
	(void)state;
	/* the cmd does not use model.layers: only the params entry carries it */
	expect_differs(base_yaml, "lr: 0.1\nmodel:\n  name: small\n  layers: 5\nunused: 1\n", hashes_a);
}

static void changing_a_param_type_changes_the_key(void **state)
{
	(void)state;
	expect_differs(base_yaml, "lr: 0.1\nmodel:\n  name: small\n  layers: '4'\nunused: 1\n", hashes_a);
}

static void changing_an_unlisted_param_keeps_the_key(void **state)
{
	(void)state;
	expect_same(base_yaml, "lr: 0.1\nmodel:\n  name: small\n  layers: 4\nunused: 2\n");
}

static void changing_the_outs_changes_the_key(void **state)
{
	(void)state;
	expect_differs("stages:\n  train:\n    cmd: python train.py --lr ${lr}\n"
		       "    deps: [a.txt, b.txt]\n    params: [lr, model]\n    outs: [model2.bin]\n",
		       base_params, hashes_a);
}

static void changing_the_wdir_changes_the_key(void **state)
{
	(void)state;
	tl_put(dir, "sub/params.yaml", base_params);
	expect_differs("stages:\n  train:\n    cmd: python train.py --lr ${lr}\n    wdir: sub\n"
		       "    deps: [../a.txt, ../b.txt]\n    params: [lr, model]\n    outs: [../model.bin]\n",
		       base_params, hashes_a);
}

static void reordering_params_keys_keeps_the_key(void **state)
{
	(void)state;
	expect_same(base_yaml, "unused: 1\nmodel:\n  layers: 4\n  name: small\nlr: 0.1\n");
}

static void whitespace_comments_and_flow_style_keep_the_key(void **state)
{
	(void)state;
	expect_same("# the pipeline\nstages:\n\n  train:\n    cmd:   python train.py --lr ${lr}\n"
		    "    deps:\n      - a.txt\n      - b.txt\n    params:\n    - lr\n    - model\n"
		    "    outs: [ model.bin ]\n",
		    "lr:    0.1   # learning rate\nmodel: {layers: 4, name: \"small\"}\nunused: 1\n");
}

static void reordering_deps_params_and_outs_keeps_the_key(void **state)
{
	(void)state;
	expect_same("stages:\n  train:\n    outs: [model.bin]\n    params: [model, lr]\n"
		    "    deps: [b.txt, a.txt]\n    cmd: python train.py --lr ${lr}\n",
		    base_params);
}

static void quoting_style_of_a_string_keeps_the_key(void **state)
{
	(void)state;
	expect_same(base_yaml, "lr: 0.1\nmodel:\n  name: 'small'\n  layers: 4\nunused: 1\n");
}

static void the_encoding_is_length_prefixed(void **state)
{
	(void)state;
	struct pipeline *p = load(base_yaml, base_params);
	struct buf b = BUF_INIT;
	const char *h[] = { hashes_a[0], hashes_a[1] };

	key_encode(pipeline_find(p, "train"), h, &b);
	assert_non_null(strstr(b.s, "rp-stage-key 1\n"));
	assert_non_null(strstr(b.s, "cmd 24:python train.py --lr 0.1\n"));
	assert_non_null(strstr(b.s, "dep 5:a.txt 1111"));
	assert_non_null(strstr(b.s, "param 11:params.yaml 2:lr 3:0.1\n"));
	assert_non_null(strstr(b.s, "param 11:params.yaml 5:model 27:{\"layers\":4,\"name\":\"small\"}\n"));
	assert_non_null(strstr(b.s, "out 9:model.bin\n"));
	buf_release(&b);
	pipeline_free(p);
}

/*
 * The golden stage key. rp.lock files, shared run caches and remotes hold
 * these keys: a change to the encoding (or to the canonical JSON of params,
 * or to the hash) silently orphans every cached run. If this test fails,
 * the change must bump "rp-stage-key 1" and say so in rp.lock(5), not
 * update the expected bytes.
 */
static const char golden_encoding[] =
	"rp-stage-key 1\n"
	"cmd 24:python train.py --lr 0.1\n"
	"wdir 1:.\n"
	"dep 5:a.txt 1111111111111111111111111111111111111111111111111111111111111111\n"
	"dep 5:b.txt 2222222222222222222222222222222222222222222222222222222222222222\n"
	"param 11:params.yaml 2:lr 3:0.1\n"
	"param 11:params.yaml 5:model 27:{\"layers\":4,\"name\":\"small\"}\n"
	"out 9:model.bin\n";
/* sha256sum of exactly those bytes */
static const char golden_hex[] =
	"78bf57f653f07e5f761ff3ce2ed0f6320934d393ad49186dd9bcdd216fbf870a";

static void the_encoding_and_key_of_a_fixed_stage_never_change(void **state)
{
	(void)state;
	struct pipeline *p = load(base_yaml, base_params);
	const struct stage *st;
	struct buf b = BUF_INIT;
	char hex[HASH_HEX];

	st = pipeline_find(p, "train");
	assert_non_null(st);
	key_encode(st, hashes_a, &b);
	key_compute(st, hashes_a, hex);
	assert_int_equal(b.len, sizeof(golden_encoding) - 1);
	assert_memory_equal(b.s, golden_encoding, b.len);
	assert_string_equal(hex, golden_hex);
	buf_release(&b);
	pipeline_free(p);
}

/* The key of a stage 'train' whose command is `cmd`, no deps, under RP_TEST_ALGO_VERSIONS=`over`. */
static void key_of_cmd(const char *cmd, const char *over, char hex[HASH_HEX])
{
	char *yaml = NULL;

	if (asprintf(&yaml, "stages:\n  train:\n    cmd: %s\n    outs: [o]\n", cmd) < 0)
		fail();
	if (over)
		setenv("RP_TEST_ALGO_VERSIONS", over, 1);
	else
		unsetenv("RP_TEST_ALGO_VERSIONS");
	key_of(yaml, "x: 1\n", hashes_a, hex);
	unsetenv("RP_TEST_ALGO_VERSIONS");
	free(yaml);
}

/* "program:algo@version ..." of what progver_detect() finds in `cmd`. */
static void detected(const char *cmd, char *out, size_t size)
{
	struct progver_use u[PROGVER_MAX];
	size_t n = progver_detect(&cmd, 1, u), len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s:%s@%d", i ? " " : "", u[i].program,
					u[i].algo, u[i].version);
}

static void the_algorithms_of_rp_programs_are_read_from_the_command_words(void **state)
{
	char got[256];

	(void)state;
	detected("rp chunk in.jsonl -o out.jsonl --strategy markdown --size 800", got, sizeof(got));
	assert_string_equal(got, "chunk:markdown@1");
	detected("rp-chunk --strategy=sentence a -o b", got, sizeof(got));
	assert_string_equal(got, "chunk:sentence@1");
	detected("/usr/local/bin/rp-chunk -s fixed a -o b", got, sizeof(got));
	assert_string_equal(got, "chunk:fixed@1");
	detected("rp chunk a -o b", got, sizeof(got));
	assert_string_equal(got, "chunk:recursive@1");   /* the program's default */
	detected("rp extract corpus -o d && rp context c -o x --method 'llm' --model m; "
		 "rp embed x -o v.rpv --model rp-lexical-v1", got, sizeof(got));
	assert_string_equal(got, "context:llm@1 embed:local@1 extract:extractor@1");
	detected("rp embed x -o v.rpv --provider openai --model m1", got, sizeof(got));
	assert_string_equal(got, "");                     /* the server's model is not rp's */
	detected("python train.py --strategy markdown | grep rp", got, sizeof(got));
	assert_string_equal(got, "");
	detected("rp chunk a -o b --strategy nonsense", got, sizeof(got));
	assert_string_equal(got, "");                     /* rp-chunk refuses it anyway */
	setenv("RP_TEST_ALGO_VERSIONS", "chunk:markdown=2", 1);
	detected("rp chunk a -o b --strategy markdown", got, sizeof(got));
	unsetenv("RP_TEST_ALGO_VERSIONS");
	assert_string_equal(got, "chunk:markdown@2");
}

static void an_algorithm_at_version_1_keeps_the_key_of_before(void **state)
{
	char plain[HASH_HEX], now[HASH_HEX];
	struct progver_use none[1];
	struct pipeline *p;

	(void)state;
	/* the key read with no algorithm at all is the key rp chunk's stage has today */
	key_of_cmd("rp chunk a -o b --strategy markdown", NULL, now);
	p = load("stages:\n  train:\n    cmd: rp chunk a -o b --strategy markdown\n    outs: [o]\n",
		 "x: 1\n");
	key_compute_uses(pipeline_find(p, "train"), NULL, none, 0, plain);
	pipeline_free(p);
	assert_string_equal(plain, now);
}

static void a_bumped_algorithm_changes_the_key_of_the_stages_that_apply_it(void **state)
{
	char a[HASH_HEX], b[HASH_HEX];

	(void)state;
	key_of_cmd("rp chunk a -o b --strategy markdown", NULL, a);
	key_of_cmd("rp chunk a -o b --strategy markdown", "chunk:markdown=2", b);
	assert_string_not_equal(a, b);
	/* another strategy's bump leaves it alone */
	key_of_cmd("rp chunk a -o b --strategy markdown", "chunk:fixed=2", b);
	assert_string_equal(a, b);
	key_of_cmd("rp context c -o x --method llm --model m", NULL, a);
	key_of_cmd("rp context c -o x --method llm --model m", "context:llm=2", b);
	assert_string_not_equal(a, b);
	key_of_cmd("rp embed x -o v --model rp-lexical-v1", NULL, a);
	key_of_cmd("rp embed x -o v --model rp-lexical-v1", "embed:local=2", b);
	assert_string_not_equal(a, b);
	key_of_cmd("rp-extract corpus -o d", NULL, a);
	key_of_cmd("rp-extract corpus -o d", "extract:extractor=2", b);
	assert_string_not_equal(a, b);
	/* a stage that runs no rp program never sees a version */
	key_of_cmd("python train.py --strategy markdown", NULL, a);
	key_of_cmd("python train.py --strategy markdown", "chunk:markdown=2,embed:local=3", b);
	assert_string_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(the_same_inputs_give_the_same_key),
		T(the_key_is_64_hex_digits),
		T(changing_the_command_changes_the_key),
		T(changing_a_dep_hash_changes_the_key),
		T(adding_a_dep_changes_the_key),
		T(renaming_a_dep_changes_the_key),
		T(changing_a_listed_param_changes_the_key),
		T(changing_a_param_type_changes_the_key),
		T(changing_an_unlisted_param_keeps_the_key),
		T(changing_the_outs_changes_the_key),
		T(changing_the_wdir_changes_the_key),
		T(reordering_params_keys_keeps_the_key),
		T(whitespace_comments_and_flow_style_keep_the_key),
		T(reordering_deps_params_and_outs_keeps_the_key),
		T(quoting_style_of_a_string_keeps_the_key),
		T(the_encoding_is_length_prefixed),
		T(the_encoding_and_key_of_a_fixed_stage_never_change),
		T(the_algorithms_of_rp_programs_are_read_from_the_command_words),
		T(an_algorithm_at_version_1_keeps_the_key_of_before),
		T(a_bumped_algorithm_changes_the_key_of_the_stages_that_apply_it),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
