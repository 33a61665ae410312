/*
 * test-pipeline.c - loading, expanding and validating pipeline files.
 *
 * Each test gets a scratch directory (testlib.h) holding the pipeline file and
 * its params/vars files, written from the strings below; teardown removes it.
 * Error tests assert on the "file:line:col: message" text with strstr.
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
#include <cmocka.h>

#include "testlib.h"
#include "core/pipeline.h"
#include "util/wspath.h"

struct ws {
	char *dir;
	struct pipeline *p;
	struct rp_err err;
};

/* Writes rp.yaml and loads it; returns the pipeline or NULL (w->err filled). */
static struct pipeline *load(struct ws *w, const char *yaml)
{
	return tl_pipeline(w->dir, yaml, &w->p, &w->err);
}

/* Loads `yaml`, expects failure, and checks the message contains each string. */
static void expect_error(struct ws *w, const char *yaml, const char *want)
{
	assert_null(load(w, yaml));
	assert_int_equal(w->err.kind, RP_ERR_INPUT);
	if (!strstr(w->err.msg, want))
		fail_msg("error '%s' lacks '%s'", w->err.msg, want);
	/* every message starts with the pipeline or a params file name */
	if (strncmp(w->err.msg, w->dir, strlen(w->dir)))
		fail_msg("error '%s' does not start with a file name", w->err.msg);
}

static int setup(void **state)
{
	struct ws *w = xcalloc(1, sizeof(*w));

	w->dir = tl_scratch("pipeline");
	if (!w->dir)
		return -1;
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct ws *w = *state;
	int ret;

	pipeline_free(w->p);
	ret = tl_unscratch(w->dir);
	free(w);
	return ret;
}

static const struct param *find_param(const struct stage *st, const char *file, const char *key)
{
	size_t i;

	for (i = 0; i < st->nparams; i++)
		if (!strcmp(st->params[i].file, file) &&
		    (key ? st->params[i].key && !strcmp(st->params[i].key, key)
			 : !st->params[i].key))
			return &st->params[i];
	return NULL;
}

static void assert_value(const struct node *n, const char *json)
{
	struct buf b = BUF_INIT;

	assert_non_null(n);
	node_canonical(n, &b);
	assert_string_equal(b.s, json);
	buf_release(&b);
}

/* ---- loading ---------------------------------------------------------- */

static void a_full_pipeline_loads_every_field(void **state)
{
	struct ws *w = *state;
	const struct stage *st;
	const struct param *pa;

	tl_put(w->dir, "params.yaml", "chunker:\n  size: 512\n  strategy: fixed\nlr: 0.1\n");
	tl_put(w->dir, "sub/params.yaml", "depth: 3\n");
	tl_put(w->dir, "other.yaml", "a: {b: 1}\nc: [1, 2]\n");
	tl_put(w->dir, "whole.yaml", "x: 1\n");
	assert_non_null(load(w,
		"plots:\n  - loss.csv\n"
		"metrics: [m.json]\n"
		"stages:\n"
		"  prep:\n"
		"    desc: chunk at ${chunker.size}\n"
		"    cmd:\n"
		"      - echo one\n"
		"      - rp chunk --size ${chunker.size} --out ./build//chunks.jsonl\n"
		"    deps:\n"
		"      - data/docs.jsonl\n"
		"      - ./src/:\n"
		"          cache: false\n"
		"    params:\n"
		"      - chunker\n"
		"      - chunker.size\n"
		"      - chunker\n"
		"      - other.yaml: [a.b, c]\n"
		"      - whole.yaml:\n"
		"    outs:\n"
		"      - build/chunks.jsonl\n"
		"      - build/cache:\n"
		"          cache: false\n"
		"          persist: true\n"
		"          desc: scratch\n"
		"    metrics:\n"
		"      - scores.json: {cache: false}\n"
		"    always_changed: true\n"
		"    frozen: false\n"
		"    meta: {owner: me}\n"
		"  deep:\n"
		"    wdir: sub/./x/..\n"
		"    cmd: make ${lr}\n"
		"    deps: [../data/docs.jsonl]\n"
		"    params: [depth]\n"
		"    outs: [out.bin]\n"));
	assert_int_equal(w->p->nstages, 2);

	st = &w->p->stages[0];
	assert_string_equal(st->name, "prep");
	assert_string_equal(st->desc, "chunk at 512");
	assert_int_equal(st->ncmds, 2);
	assert_string_equal(st->cmds[0], "echo one");
	assert_string_equal(st->cmds[1], "rp chunk --size 512 --out ./build//chunks.jsonl");
	assert_string_equal(st->wdir, ".");
	assert_int_equal(st->ndeps, 2);
	assert_string_equal(st->deps[0].path, "data/docs.jsonl");
	assert_int_equal(st->deps[0].cache, 1);
	assert_string_equal(st->deps[1].path, "src");
	assert_int_equal(st->deps[1].cache, 0);
	assert_int_equal(st->deps[1].where->line, 12);
	assert_int_equal(st->nouts, 3);
	assert_string_equal(st->outs[0].path, "build/chunks.jsonl");
	assert_int_equal(st->outs[0].cache, 1);
	assert_int_equal(st->outs[0].persist, 0);
	assert_string_equal(st->outs[1].path, "build/cache");
	assert_int_equal(st->outs[1].cache, 0);
	assert_int_equal(st->outs[1].persist, 1);
	assert_string_equal(st->outs[2].path, "scores.json");
	assert_int_equal(st->outs[2].metric, 1);
	assert_int_equal(st->outs[2].cache, 0);
	assert_int_equal(st->always_changed, 1);
	assert_int_equal(st->frozen, 0);

	/* the duplicate "chunker" is dropped */
	assert_int_equal(st->nparams, 5);
	pa = find_param(st, "params.yaml", "chunker");
	assert_non_null(pa);
	assert_value(pa->value, "{\"size\":512,\"strategy\":\"fixed\"}");
	assert_value(find_param(st, "params.yaml", "chunker.size")->value, "512");
	assert_value(find_param(st, "other.yaml", "a.b")->value, "1");
	assert_value(find_param(st, "other.yaml", "c")->value, "[1,2]");
	pa = find_param(st, "whole.yaml", NULL);
	assert_non_null(pa);
	assert_value(pa->value, "{\"x\":1}");

	st = &w->p->stages[1];
	assert_string_equal(st->wdir, "sub");
	assert_string_equal(st->cmds[0], "make 0.1");
	assert_string_equal(st->deps[0].path, "data/docs.jsonl");
	assert_string_equal(st->outs[0].path, "sub/out.bin");
	assert_string_equal(st->params[0].file, "sub/params.yaml");
	assert_value(st->params[0].value, "3");
}

static void foreach_over_a_list_names_stages_by_item(void **state)
{
	struct ws *w = *state;

	assert_non_null(load(w,
		"stages:\n"
		"  fetch:\n"
		"    foreach: [alpha, beta]\n"
		"    do:\n"
		"      cmd: get ${item} as ${key}\n"
		"      outs:\n"
		"        - raw/${item}.txt\n"
		"  conf:\n"
		"    foreach:\n"
		"      - {n: a, v: 1}\n"
		"      - {n: b, v: 2}\n"
		"    do:\n"
		"      cmd: run ${item.n}=${item.v} ${key}\n"));
	assert_int_equal(w->p->nstages, 4);
	assert_string_equal(w->p->stages[0].name, "fetch@alpha");
	assert_string_equal(w->p->stages[0].cmds[0], "get alpha as alpha");
	assert_string_equal(w->p->stages[0].outs[0].path, "raw/alpha.txt");
	assert_string_equal(w->p->stages[1].name, "fetch@beta");
	assert_string_equal(w->p->stages[2].name, "conf@0");
	assert_string_equal(w->p->stages[2].cmds[0], "run a=1 0");
	assert_string_equal(w->p->stages[3].name, "conf@1");
	assert_string_equal(w->p->stages[3].cmds[0], "run b=2 1");
}

static void foreach_over_a_map_variable_uses_keys_and_values(void **state)
{
	struct ws *w = *state;

	tl_put(w->dir, "params.yaml",
		   "models:\n  small: {id: mini, dim: 384}\n  large: {id: big, dim: 1024}\n");
	assert_non_null(load(w,
		"stages:\n"
		"  embed:\n"
		"    foreach: ${models}\n"
		"    do:\n"
		"      cmd: rp embed --model ${item.id} --dim ${item.dim}\n"
		"      params:\n"
		"        - models.${key}\n"
		"      outs:\n"
		"        - build/${key}/vectors.rpv\n"));
	assert_int_equal(w->p->nstages, 2);
	assert_string_equal(w->p->stages[0].name, "embed@small");
	assert_string_equal(w->p->stages[0].cmds[0], "rp embed --model mini --dim 384");
	assert_string_equal(w->p->stages[0].outs[0].path, "build/small/vectors.rpv");
	assert_string_equal(w->p->stages[0].params[0].key, "models.small");
	assert_value(w->p->stages[0].params[0].value, "{\"dim\":384,\"id\":\"mini\"}");
	assert_string_equal(w->p->stages[1].name, "embed@large");
	assert_string_equal(w->p->stages[1].cmds[0], "rp embed --model big --dim 1024");
}

static void matrix_expands_the_cross_product_in_order(void **state)
{
	struct ws *w = *state;

	assert_non_null(load(w,
		"vars:\n"
		"  - opts: [adam, sgd]\n"
		"stages:\n"
		"  train:\n"
		"    matrix:\n"
		"      lr: [0.1, 0.01]\n"
		"      opt: ${opts}\n"
		"      cfg: [{a: 1}]\n"
		"    cmd: train --lr ${item.lr} --opt ${item.opt} --a ${item.cfg.a}\n"
		"    outs:\n"
		"      - models/${key}.bin\n"));
	assert_int_equal(w->p->nstages, 4);
	/* a mapping as an axis value is written AXIS<index>, as DVC does */
	assert_string_equal(w->p->stages[0].name, "train@0.1-adam-cfg0");
	assert_string_equal(w->p->stages[0].cmds[0], "train --lr 0.1 --opt adam --a 1");
	assert_string_equal(w->p->stages[0].outs[0].path, "models/0.1-adam-cfg0.bin");
	assert_string_equal(w->p->stages[1].name, "train@0.1-sgd-cfg0");
	assert_string_equal(w->p->stages[2].name, "train@0.01-adam-cfg0");
	assert_string_equal(w->p->stages[3].name, "train@0.01-sgd-cfg0");
	assert_string_equal(w->p->stages[3].cmds[0], "train --lr 0.01 --opt sgd --a 1");
}

static void vars_merge_files_selected_keys_and_inline_maps(void **state)
{
	struct ws *w = *state;

	tl_put(w->dir, "params.yaml", "seed: 7\n");
	tl_put(w->dir, "config/a.yaml", "model: {name: m1}\n");
	tl_put(w->dir, "config/b.yaml", "keep: yes-kept\ndrop: dropped\nnest: {x: {y: 5}}\n");
	assert_non_null(load(w,
		"vars:\n"
		"  - params.yaml\n"
		"  - config/a.yaml\n"
		"  - config/b.yaml:keep,nest.x\n"
		"  - model: {size: 3}\n"
		"    extra: e\n"
		"stages:\n"
		"  s:\n"
		"    cmd: ${seed} ${model.name} ${model.size} ${keep} ${nest.x.y} ${extra}\n"));
	assert_string_equal(w->p->stages[0].cmds[0], "7 m1 3 yes-kept 5 e");
	assert_non_null(node_get(w->p->vars, "keep"));
	assert_null(node_get(w->p->vars, "drop"));
}

static void stage_vars_add_to_the_context_of_their_stage_only(void **state)
{
	struct ws *w = *state;

	tl_put(w->dir, "params.yaml", "lr: 1\n");
	tl_put(w->dir, "sub/stage.yaml", "depth: 4\n");
	assert_non_null(load(w,
		"stages:\n"
		"  a:\n"
		"    wdir: sub\n"
		"    vars:\n"
		"      - stage.yaml\n"
		"      - {opt: adam}\n"
		"    cmd: run ${lr} ${depth} ${opt}\n"
		"  b:\n"
		"    foreach: [x]\n"
		"    do:\n"
		"      vars: [{z: 9}]\n"
		"      cmd: go ${item} ${z}\n"));
	assert_string_equal(w->p->stages[0].cmds[0], "run 1 4 adam");
	assert_string_equal(w->p->stages[1].cmds[0], "go x 9");
	assert_null(node_get(w->p->vars, "opt"));
}

static void escaped_dollar_braces_stay_literal(void **state)
{
	struct ws *w = *state;

	/* as DVC: "\${" is a literal "${", "$${x}" is '$' and x's value */
	assert_non_null(load(w, "vars: [{x: 1}]\nstages:\n  s:\n"
			     "    cmd: echo \\${HOME} $PATH $${x}\n"));
	assert_string_equal(w->p->stages[0].cmds[0], "echo ${HOME} $PATH $1");
}

static void plots_are_outputs_with_dvc_options(void **state)
{
	struct ws *w = *state;
	const struct stage *st;

	assert_non_null(load(w,
		"stages:\n"
		"  train:\n"
		"    cmd: t\n"
		"    outs:\n"
		"      - model.pt: {checkpoint: true, type: model, desc: d, labels: [a],\n"
		"                   meta: {k: 1}, remote: r, push: false}\n"
		"    metrics:\n"
		"      - m.json: {cache: false}\n"
		"    plots:\n"
		"      - loss.csv: {x: step, y: loss, template: linear, cache: false}\n"
		"      - acc.csv:\n"
		"          - {x: step}\n"
		"          - {y: acc, title: Acc, header: true}\n"
		"      - roc.json\n"
		"  report:\n"
		"    cmd: r\n"
		"    deps: [loss.csv]\n"
		"    outs: [report.md]\n"));
	st = pipeline_find(w->p, "train");
	assert_int_equal(st->nouts, 5);
	assert_string_equal(st->outs[0].path, "model.pt");
	assert_int_equal(st->outs[0].persist, 1);   /* DVC 2's checkpoint keeps the file */
	assert_int_equal(st->outs[1].metric, 1);
	assert_string_equal(st->outs[2].path, "loss.csv");
	assert_int_equal(st->outs[2].plot, 1);
	assert_int_equal(st->outs[2].cache, 0);
	assert_string_equal(st->outs[3].path, "acc.csv");
	assert_int_equal(st->outs[3].plot, 1);
	assert_int_equal(st->outs[3].cache, 1);
	assert_string_equal(st->outs[4].path, "roc.json");
	assert_int_equal(st->always_changed, 0);
	expect_error(w, "stages:\n  t:\n    cmd: x\n    plots:\n      - a.csv: {colour: red}\n",
		     "rp.yaml:5:17: stage 't': unknown option 'colour' for plot 'a.csv'");
}

static void a_stage_with_only_a_command_is_a_callback(void **state)
{
	struct ws *w = *state;

	tl_put(w->dir, "params.yaml", "lr: 1\n");
	assert_non_null(load(w,
		"stages:\n"
		"  notify:\n    cmd: date\n"
		"  p:\n    cmd: x\n    params: [lr]\n"
		"  o:\n    cmd: x\n    outs: [o.txt]\n"));
	assert_int_equal(pipeline_find(w->p, "notify")->callback, 1);
	assert_int_equal(pipeline_find(w->p, "notify")->always_changed, 1);
	assert_int_equal(pipeline_find(w->p, "p")->callback, 0);
	assert_int_equal(pipeline_find(w->p, "o")->callback, 0);
	assert_int_equal(pipeline_find(w->p, "o")->always_changed, 0);
}

static void url_deps_are_recorded_and_never_paths(void **state)
{
	struct ws *w = *state;
	const struct stage *st;

	assert_non_null(load(w,
		"vars: [{bucket: b1}]\n"
		"stages:\n"
		"  get:\n"
		"    cmd: fetch\n"
		"    deps:\n"
		"      - https://example.com/data.csv\n"
		"      - s3://${bucket}/raw\n"
		"      - local.txt\n"
		"    outs: [data.csv]\n"));
	st = pipeline_find(w->p, "get");
	assert_int_equal(st->nurls, 2);
	assert_string_equal(st->urls[0], "https://example.com/data.csv");
	assert_string_equal(st->urls[1], "s3://b1/raw");
	assert_int_equal(st->ndeps, 1);
	assert_string_equal(st->deps[0].path, "local.txt");
	assert_int_equal(st->always_changed, 1);
	assert_int_equal(st->callback, 0);
	expect_error(w, "stages:\n  t:\n    cmd: x\n    outs: [s3://b/out]\n",
		     "rp.yaml:4:12: stage 't': output 's3://b/out' is a URL");
}

static void a_params_key_with_a_wildcard_takes_every_match(void **state)
{
	struct ws *w = *state;
	const struct stage *st;

	tl_put(w->dir, "params.yaml",
	       "dataset_kwargs:\n  moons_noise: 0.1\n  moons_n: 100\n  circles: 3\n"
	       "layers: [8, 4]\n");
	assert_non_null(load(w,
		"stages:\n"
		"  s:\n"
		"    cmd: x\n"
		"    params:\n"
		"      - dataset_kwargs.moons*\n"
		"      - layers.?\n"));
	st = pipeline_find(w->p, "s");
	assert_int_equal(st->nparams, 4);
	assert_string_equal(st->params[0].key, "dataset_kwargs.moons_noise");
	assert_string_equal(st->params[0].value->str, "0.1");
	assert_string_equal(st->params[1].key, "dataset_kwargs.moons_n");
	assert_string_equal(st->params[2].key, "layers[0]");
	assert_string_equal(st->params[3].value->str, "4");
	expect_error(w, "stages:\n  s:\n    cmd: x\n    params: [stars*]\n",
		     "rp.yaml:4:14: stage 's': parameter pattern 'stars*' matches no key");
}

static void names_follow_dvc(void **state)
{
	struct ws *w = *state;

	assert_non_null(load(w,
		"vars:\n"
		"  - files: [data/a.csv, data/b.csv]\n"
		"stages:\n"
		"  prep/clean:\n"
		"    cmd: x\n"
		"  conv:\n"
		"    foreach: ${files}\n"
		"    do:\n"
		"      cmd: conv ${item}\n"
		"  mixed:\n"
		"    foreach: [a, [1, 2], {k: v}]\n"
		"    do:\n"
		"      cmd: m ${key}\n"
		"  typed:\n"
		"    foreach: [true, 1e-5, 0.001, null, 1.0, 0x1f]\n"
		"    do:\n"
		"      cmd: t ${item}\n"));
	assert_non_null(pipeline_find(w->p, "prep/clean"));
	assert_non_null(pipeline_find(w->p, "conv@data/a.csv"));
	assert_string_equal(pipeline_find(w->p, "conv@data/b.csv")->cmds[0], "conv data/b.csv");
	/* one list or mapping among the items: every item is named by index */
	assert_non_null(pipeline_find(w->p, "mixed@0"));
	assert_string_equal(pipeline_find(w->p, "mixed@2")->cmds[0], "m 2");
	assert_non_null(pipeline_find(w->p, "typed@true"));
	assert_string_equal(pipeline_find(w->p, "typed@1e-05")->cmds[0], "t 1e-05");
	assert_non_null(pipeline_find(w->p, "typed@0.001"));
	assert_string_equal(pipeline_find(w->p, "typed@None")->cmds[0], "t None");
	assert_non_null(pipeline_find(w->p, "typed@1.0"));
}

static void a_mapping_in_a_command_becomes_flags(void **state)
{
	struct ws *w = *state;

	tl_put(w->dir, "params.yaml",
	       "train:\n  lr: 0.01\n  epochs: 10\n  layers: [64, 32]\n  shuffle: true\n"
	       "  dropout: false\n  opt: {name: adam}\n");
	assert_non_null(load(w, "stages:\n  t:\n    cmd: python train.py ${train}\n"));
	assert_string_equal(w->p->stages[0].cmds[0],
			    "python train.py --lr 0.01 --epochs 10 --layers 64 32 --shuffle "
			    "--opt.name adam");
	expect_error(w, "stages:\n  t:\n    cmd: x\n    outs:\n      - a/${train}\n",
		     "rp.yaml:5:9: '${train}' is a mapping and cannot be part of a string");
}

static void a_lone_reference_gives_a_flag_its_boolean(void **state)
{
	struct ws *w = *state;

	tl_put(w->dir, "params.yaml", "always: true\nkeep: false\nword: yes\n");
	assert_non_null(load(w,
		"stages:\n"
		"  s:\n"
		"    cmd: x\n"
		"    always_changed: ${always}\n"
		"    outs:\n"
		"      - o.txt: {cache: '${keep}'}\n"));
	assert_int_equal(w->p->stages[0].always_changed, 1);
	assert_int_equal(w->p->stages[0].outs[0].cache, 0);
	expect_error(w, "stages:\n  s:\n    cmd: x\n    frozen: ${word}\n",
		     "rp.yaml:4:13: stage 's': 'frozen' must be true or false");
}

static void match_finds_names_and_groups(void **state)
{
	struct ws *w = *state;
	size_t idx[8];

	assert_non_null(load(w,
		"stages:\n"
		"  a:\n    cmd: x\n"
		"  emb:\n    foreach: [s, l]\n    do:\n      cmd: y ${item}\n"
		"  embx:\n    cmd: z\n"));
	assert_int_equal(pipeline_match(w->p, "a", idx), 1);
	assert_int_equal(idx[0], 0);
	assert_int_equal(pipeline_match(w->p, "emb", idx), 2);
	assert_int_equal(idx[0], 1);
	assert_int_equal(idx[1], 2);
	assert_int_equal(pipeline_match(w->p, "emb@l", idx), 1);
	assert_int_equal(idx[0], 2);
	assert_int_equal(pipeline_match(w->p, "em", idx), 0);
	assert_int_equal(pipeline_match(w->p, "nope", idx), 0);
	assert_ptr_equal(pipeline_find(w->p, "embx"), &w->p->stages[3]);
	assert_null(pipeline_find(w->p, "emb"));
}

static void path_normalize_joins_and_cleans(void **state)
{
	char *s;

	(void)state;
#define NORM(base, path, want) do { \
		s = wspath_normalize(base, path); \
		assert_non_null(s); \
		assert_string_equal(s, want); \
		free(s); \
	} while (0)
	NORM(".", "a/b", "a/b");
	NORM(".", "./a//b/", "a/b");
	NORM("sub", "../x", "x");
	NORM("a/b", "../../c/./d", "c/d");
	NORM(".", ".", ".");
	NORM("sub", "..", ".");
	NORM("", "a", "a");
#undef NORM
	assert_null(wspath_normalize(".", "../a"));
	assert_null(wspath_normalize("sub", "../../a"));
	assert_null(wspath_normalize(".", "/etc/passwd"));
	assert_null(wspath_normalize(".", "a/../../b"));
}

/* ---- errors ----------------------------------------------------------- */

static void an_unknown_top_level_key_is_an_error(void **state)
{
	struct ws *w = *state;

	expect_error(w, "stages:\n  a:\n    cmd: x\nstagse: {}\n",
		     "rp.yaml:4:1: unknown top-level key 'stagse' (expected vars or stages)");
}

static void a_pipeline_without_stages_has_no_stages(void **state)
{
	struct ws *w = *state;

	/* a dvc.yaml of top-level metrics and plots only: 0 stages, as in DVC */
	assert_non_null(load(w, "metrics: [m.json]\nplots: [p.csv]\n"));
	assert_int_equal(w->p->nstages, 0);
	assert_null(pipeline_find(w->p, "x"));
	pipeline_free(w->p);
	w->p = NULL;
	assert_non_null(load(w, "stages: {}\n"));
	assert_int_equal(w->p->nstages, 0);
	pipeline_free(w->p);
	w->p = NULL;
	assert_non_null(load(w, ""));
	assert_int_equal(w->p->nstages, 0);
	expect_error(w, "stages: [a]\n", "rp.yaml:1:9: 'stages' must be a mapping");
}

static void an_unknown_stage_field_is_an_error(void **state)
{
	struct ws *w = *state;

	expect_error(w, "stages:\n  train:\n    cmd: x\n    dep: [a]\n",
		     "rp.yaml:4:5: stage 'train': unknown field 'dep' (expected one of "
		     "cmd, wdir, deps, params, outs, metrics, plots, always_changed, frozen, "
		     "desc, vars, meta, foreach, do, matrix)");
}

static void a_field_of_the_wrong_type_is_an_error(void **state)
{
	struct ws *w = *state;

	expect_error(w, "stages:\n  train:\n    cmd: x\n    deps: a.txt\n",
		     "rp.yaml:4:11: stage 'train': 'deps' must be a list");
	expect_error(w, "stages:\n  train:\n    cmd: x\n    frozen: maybe\n",
		     "rp.yaml:4:13: stage 'train': 'frozen' must be true or false");
	expect_error(w, "stages:\n  train:\n    cmd: {a: b}\n",
		     "rp.yaml:3:10: stage 'train': 'cmd' must be a string or a list");
	expect_error(w, "stages:\n  train:\n    deps: [a]\n",
		     "rp.yaml:2:3: stage 'train': missing 'cmd'");
	expect_error(w, "stages:\n  train:\n    cmd: x\n    outs:\n      - a: {cache: false, keep: 1}\n",
		     "rp.yaml:5:27: stage 'train': unknown option 'keep' for output 'a'");
}

static void an_undefined_variable_is_an_error_at_its_string(void **state)
{
	struct ws *w = *state;

	expect_error(w, "vars:\n  - {a: 1}\nstages:\n  s:\n    cmd: echo ${a} ${b.c}\n",
		     "rp.yaml:5:10: undefined variable 'b.c'");
}

static void a_missing_params_key_is_an_error(void **state)
{
	struct ws *w = *state;

	tl_put(w->dir, "params.yaml", "chunker: {size: 1}\n");
	expect_error(w, "stages:\n  s:\n    cmd: x\n    params:\n      - chunker.overlap\n",
		     "rp.yaml:5:9: stage 's': parameter 'chunker.overlap' is not defined "
		     "in 'params.yaml'");
}

static void a_missing_params_file_is_an_error(void **state)
{
	struct ws *w = *state;

	expect_error(w, "stages:\n  s:\n    cmd: x\n    params: [lr]\n",
		     "rp.yaml:4:14: stage 's': params file 'params.yaml' does not exist; "
		     "create it or remove the entry");
}

static void a_path_leaving_the_workspace_is_an_error(void **state)
{
	struct ws *w = *state;
	char *want;

	want = xasprintf("rp.yaml:4:12: stage 's': path '../a' leaves the workspace; "
			 "paths must stay inside the ");
	expect_error(w, "stages:\n  s:\n    cmd: x\n    outs: [../a]\n", want);
	free(want);
	expect_error(w, "stages:\n  s:\n    cmd: x\n    wdir: sub\n    deps: [../../a]\n",
		     "rp.yaml:5:12: stage 's': path '../../a' leaves the workspace");
	expect_error(w, "stages:\n  s:\n    cmd: x\n    deps: [/etc/passwd]\n",
		     "path '/etc/passwd' leaves the workspace");
}

static void a_variable_defined_twice_is_an_error(void **state)
{
	struct ws *w = *state;

	tl_put(w->dir, "params.yaml", "lr: 0.1\n");
	expect_error(w, "vars:\n  - params.yaml\n  - {lr: 0.2}\nstages:\n  s:\n    cmd: x\n",
		     "rp.yaml:3:6: variable 'lr' is defined twice (also in ");
}

static void a_missing_vars_file_is_an_error(void **state)
{
	struct ws *w = *state;

	expect_error(w, "vars:\n  - nope.yaml\nstages:\n  s:\n    cmd: x\n",
		     "rp.yaml:2:5: vars file 'nope.yaml' does not exist");
}

static void foreach_needs_do_and_nothing_else(void **state)
{
	struct ws *w = *state;

	expect_error(w, "stages:\n  s:\n    foreach: [a]\n",
		     "rp.yaml:3:5: stage 's': 'foreach' needs a 'do'");
	expect_error(w, "stages:\n  s:\n    foreach: [a]\n    do: {cmd: x}\n    cmd: y\n",
		     "rp.yaml:5:5: stage 's': 'cmd' cannot stand beside 'foreach'");
	expect_error(w, "stages:\n  s:\n    foreach: ${nope}\n    do: {cmd: x}\n",
		     "rp.yaml:3:14: undefined variable 'nope'");
}

static void duplicate_expanded_names_are_an_error(void **state)
{
	struct ws *w = *state;

	expect_error(w, "stages:\n  s:\n    foreach: [a, b, a]\n    do: {cmd: x}\n",
		     "rp.yaml:2:3: stage 's@a' is defined twice");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(a_full_pipeline_loads_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(foreach_over_a_list_names_stages_by_item, setup, teardown),
		cmocka_unit_test_setup_teardown(foreach_over_a_map_variable_uses_keys_and_values, setup, teardown),
		cmocka_unit_test_setup_teardown(matrix_expands_the_cross_product_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(vars_merge_files_selected_keys_and_inline_maps, setup, teardown),
		cmocka_unit_test_setup_teardown(stage_vars_add_to_the_context_of_their_stage_only, setup, teardown),
		cmocka_unit_test_setup_teardown(escaped_dollar_braces_stay_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(match_finds_names_and_groups, setup, teardown),
		cmocka_unit_test(path_normalize_joins_and_cleans),
		cmocka_unit_test_setup_teardown(an_unknown_top_level_key_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(a_pipeline_without_stages_has_no_stages, setup, teardown),
		cmocka_unit_test_setup_teardown(an_unknown_stage_field_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(a_field_of_the_wrong_type_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(an_undefined_variable_is_an_error_at_its_string, setup, teardown),
		cmocka_unit_test_setup_teardown(a_missing_params_key_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(a_missing_params_file_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(a_path_leaving_the_workspace_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(a_variable_defined_twice_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(a_missing_vars_file_is_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(foreach_needs_do_and_nothing_else, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_expanded_names_are_an_error, setup, teardown),
		cmocka_unit_test_setup_teardown(plots_are_outputs_with_dvc_options, setup, teardown),
		cmocka_unit_test_setup_teardown(a_stage_with_only_a_command_is_a_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(url_deps_are_recorded_and_never_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(a_params_key_with_a_wildcard_takes_every_match, setup, teardown),
		cmocka_unit_test_setup_teardown(names_follow_dvc, setup, teardown),
		cmocka_unit_test_setup_teardown(a_mapping_in_a_command_becomes_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(a_lone_reference_gives_a_flag_its_boolean, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
