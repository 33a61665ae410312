/*
 * test-doc.c - loading YAML into nodes, lookups, scalar types, canonical JSON.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "util/buf.h"
#include "yaml/doc.h"
#include "yaml/doccache.h"
#include "util/error.h"

/* Loads `text` as "t.yaml"; the test fails if it does not load. */
static struct doc *load_ok(const char *text)
{
	struct rp_err err = { 0 };
	struct doc *d = doc_load_buf("t.yaml", text, strlen(text), &err);

	if (!d)
		fail_msg("unexpected error: %s", err.msg);
	return d;
}

/* Loads `text` expecting failure; returns the message in a static buffer. */
static const char *load_err(const char *text)
{
	static struct rp_err err;
	struct doc *d;

	memset(&err, 0, sizeof(err));
	d = doc_load_buf("t.yaml", text, strlen(text), &err);
	if (d) {
		doc_free(d);
		fail_msg("'%s' loaded but should have failed", text);
	}
	assert_int_equal(err.kind, RP_ERR_INPUT);
	return err.msg;
}

/* Canonical JSON of a whole document; caller frees. */
static char *canon(const char *text)
{
	struct doc *d = load_ok(text);
	struct buf b = BUF_INIT;

	node_canonical(d->root, &b);
	doc_free(d);
	return buf_detach(&b);
}

static void assert_same_canon(const char *a, const char *b)
{
	char *x = canon(a), *y = canon(b);

	assert_string_equal(x, y);
	free(x);
	free(y);
}

static void assert_diff_canon(const char *a, const char *b)
{
	char *x = canon(a), *y = canon(b);

	assert_string_not_equal(x, y);
	free(x);
	free(y);
}

static void assert_canon(const char *text, const char *want)
{
	char *got = canon(text);

	assert_string_equal(got, want);
	free(got);
}

static void nodes_record_one_based_line_and_column(void **state)
{
	struct doc *d = load_ok("stages:\n  train:\n    deps: [a, b]\n");
	struct node *train, *deps;

	(void)state;
	assert_string_equal(d->file, "t.yaml");
	assert_int_equal(d->root->kind, NODE_MAP);
	assert_int_equal(d->root->line, 1);
	assert_int_equal(d->root->col, 1);
	train = node_lookup(d->root, "stages.train");
	assert_non_null(train);
	assert_int_equal(train->line, 3);
	assert_int_equal(train->col, 5);
	deps = node_get(train, "deps");
	assert_int_equal(deps->kind, NODE_SEQ);
	assert_int_equal(deps->n, 2);
	assert_int_equal(deps->line, 3);
	assert_int_equal(deps->col, 11);
	assert_int_equal(deps->items[1]->line, 3);
	assert_int_equal(deps->items[1]->col, 15);
	assert_ptr_equal(deps->items[1]->file, d->file);
	doc_free(d);
}

static void map_keys_keep_file_order(void **state)
{
	struct doc *d = load_ok("z: 1\na: 2\nm: 3\n");

	(void)state;
	assert_int_equal(d->root->n, 3);
	assert_string_equal(d->root->keys[0]->str, "z");
	assert_string_equal(d->root->keys[1]->str, "a");
	assert_string_equal(d->root->keys[2]->str, "m");
	assert_string_equal(node_get(d->root, "a")->str, "2");
	assert_null(node_get(d->root, "b"));
	doc_free(d);
}

static void bad_yaml_reports_file_line_and_column(void **state)
{
	(void)state;
	assert_true(strncmp(load_err("stages: [\n"), "t.yaml:2:", 9) == 0);
	assert_true(strncmp(load_err("a: 1\nb: [1, 2\nc: 3\n"), "t.yaml:3:", 9) == 0);
	assert_true(strncmp(load_err("a: 1\n  b: 2\n"), "t.yaml:2:", 9) == 0);
	assert_non_null(strstr(load_err("a: 'unterminated\n"), "t.yaml:"));
}

static void invalid_utf8_reports_its_line(void **state)
{
	(void)state;
	assert_true(strncmp(load_err("a: 1\nb: \xff\n"), "t.yaml:2:", 9) == 0);
}

static void unreadable_file_is_an_io_error(void **state)
{
	struct rp_err err = { 0 };

	(void)state;
	assert_null(doc_load_file("/nonexistent/rp.yaml", &err));
	assert_int_equal(err.kind, RP_ERR_IO);
	assert_string_equal(err.msg, "cannot read '/nonexistent/rp.yaml': No such file or directory");
}

static void load_file_names_the_path_in_nodes(void **state)
{
	char path[] = "/tmp/rp-test-doc.XXXXXX";
	int fd = mkstemp(path);
	struct rp_err err = { 0 };
	struct doc *d;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a:\n  b: c\n", 10), 10);
	close(fd);
	d = doc_load_file(path, &err);
	assert_non_null(d);
	assert_string_equal(d->root->file, path);
	assert_string_equal(node_lookup(d->root, "a.b")->str, "c");
	doc_free(d);
	unlink(path);
}

/* "line:col=value" of every scalar, in order: what positions a cached doc must keep. */
static void positions(const struct node *n, struct buf *out)
{
	if (n->kind == NODE_SCALAR) {
		buf_addf(out, "%d:%d=%s%s;", n->line, n->col, n->quoted ? "'" : "", n->str);
		return;
	}
	buf_addf(out, "%d:%d%c%zu;", n->line, n->col, n->kind == NODE_MAP ? '{' : '[', n->n);
	for (size_t i = 0; i < n->n; i++) {
		if (n->keys)
			positions(n->keys[i], out);
		positions(n->items[i], out);
	}
}

static char *describe(const struct doc *d)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "%s|", d->root ? d->root->file : "-");
	if (d->root) {
		node_canonical(d->root, &b);
		buf_addch(&b, '|');
		positions(d->root, &b);
	}
	return buf_detach(&b);
}

static void the_parse_cache_gives_the_same_doc_and_never_a_stale_one(void **state)
{
	char *dir = tl_scratch("doccache");
	char path[128], cache[128], *first, *again;
	struct rp_err err = { 0 };
	struct buf b = BUF_INIT;
	struct doccache *c;
	struct doc *d;
	int nentries = 0;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/rp.yaml", dir);
	snprintf(cache, sizeof(cache), "%s/parsed", dir);
	tl_put(dir, "rp.yaml", "stages:\n  a:\n    cmd: \"echo 'x'\"\n    deps: [in.txt, 2]\n"
	       "    params:\n      - lr\n  b: {cmd: true, n: ~}\nlist:\n- |\n  block\n");
	c = doccache_open(cache);
	assert_int_equal(access(cache, F_OK), -1);  /* opening writes nothing */

	d = doccache_load_file(c, path, &err);   /* parsed, and written to the cache */
	assert_non_null(d);
	first = describe(d);
	doc_free(d);
	assert_int_equal(access(cache, F_OK), 0);
	d = doccache_load_file(c, path, &err);           /* from the cache */
	assert_non_null(d);
	again = describe(d);
	assert_string_equal(again, first);
	free(again);
	doc_free(d);

	/* an edited file is parsed again, never served from the old entry */
	tl_put(dir, "rp.yaml", "stages:\n  a:\n    cmd: changed\n");
	d = doccache_load_file(c, path, &err);
	assert_non_null(d);
	assert_string_equal(node_lookup(d->root, "stages.a.cmd")->str, "changed");
	assert_int_equal(node_lookup(d->root, "stages.a.cmd")->line, 3);
	doc_free(d);

	/* bad YAML still fails with its position, whatever the cache holds */
	tl_put(dir, "rp.yaml", "stages:\n  a: [unclosed\n");
	assert_null(doccache_load_file(c, path, &err));
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(err.msg, "rp.yaml:"));

	/* a corrupt entry is a miss: flip bytes in the one entry there is */
	tl_put(dir, "rp.yaml", "k: v\n");
	d = doccache_load_file(c, path, &err);
	assert_non_null(d);
	free(first);
	first = describe(d);
	doc_free(d);
	{
		char *entry = NULL;
		DIR *dp = opendir(cache);
		struct dirent *de;

		assert_non_null(dp);
		while ((de = readdir(dp)))
			if (de->d_name[0] != '.') {
				nentries++;
				free(entry);
				entry = xasprintf("%s/%s", cache, de->d_name);
			}
		closedir(dp);
		assert_int_equal(nentries, 1);   /* one entry per path, not per version */
		assert_int_equal(buf_read_file(&b, entry), 0);
		for (size_t i = 0; i < b.len; i++) {
			b.s[i] ^= 0x01;
			tl_write_path(entry, b.s, b.len);
			d = doccache_load_file(c, path, &err);
			assert_non_null(d);
			again = describe(d);
			assert_string_equal(again, first);   /* value and positions */
			free(again);
			doc_free(d);
			b.s[i] ^= 0x01;
		}
		free(entry);
	}
	buf_release(&b);
	doccache_close(c);
	free(first);
	assert_int_equal(tl_unscratch(dir), 0);
}

/*
 * doc.c parses with no cache at all, and a cache is used only by the caller
 * that passes one: doc_load_file() and doccache_load_file(NULL, ...) write
 * nothing, even while another caller holds a cache open.
 */
static void the_parse_cache_is_used_only_when_passed(void **state)
{
	char *dir = tl_scratch("doccache");
	char path[128], cache[128];
	struct rp_err err = { 0 };
	struct doccache *c;
	struct doc *d;

	(void)state;
	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/params.yaml", dir);
	snprintf(cache, sizeof(cache), "%s/parsed", dir);
	tl_put(dir, "params.yaml", "lr: 0.1\n");
	c = doccache_open(cache);

	d = doc_load_file(path, &err);
	assert_non_null(d);
	assert_string_equal(node_lookup(d->root, "lr")->str, "0.1");
	doc_free(d);
	d = doccache_load_file(NULL, path, &err);
	assert_non_null(d);
	doc_free(d);
	assert_int_equal(access(cache, F_OK), -1);

	d = doccache_load_file(c, path, &err);
	assert_non_null(d);
	doc_free(d);
	assert_int_equal(access(cache, F_OK), 0);
	doccache_close(c);
	doccache_close(NULL);
	assert_int_equal(tl_unscratch(dir), 0);
}

static void duplicate_keys_are_an_error(void **state)
{
	(void)state;
	assert_string_equal(load_err("a: 1\nb: 2\na: 3\n"), "t.yaml:3:1: duplicate key 'a'");
	assert_string_equal(load_err("x:\n  k: 1\n  k: 2\n"), "t.yaml:3:3: duplicate key 'k'");
	assert_string_equal(load_err("{a: 1, 'a': 2}"), "t.yaml:1:8: duplicate key 'a'");
}

static void mapping_keys_must_be_scalars(void **state)
{
	(void)state;
	assert_string_equal(load_err("? [a, b]\n: 1\n"), "t.yaml:1:3: mapping keys must be scalars");
}

static void several_documents_are_an_error(void **state)
{
	(void)state;
	assert_string_equal(load_err("a: 1\n---\nb: 2\n"),
			    "t.yaml:2:1: multiple documents in one file are not supported");
}

static void empty_input_has_no_root(void **state)
{
	struct doc *d;

	(void)state;
	d = load_ok("");
	assert_null(d->root);
	doc_free(d);
	d = load_ok("# only a comment\n");
	assert_null(d->root);
	doc_free(d);
	d = load_ok("---\n");
	assert_null(d->root);
	doc_free(d);
}

static void aliases_are_deep_copies_of_anchors(void **state)
{
	struct doc *d = load_ok("base: &b {x: 1, l: [p, q]}\nother: *b\n");
	struct node *base, *other;

	(void)state;
	base = node_get(d->root, "base");
	other = node_get(d->root, "other");
	assert_non_null(other);
	assert_ptr_not_equal(base, other);
	assert_int_equal(other->kind, NODE_MAP);
	assert_string_equal(node_lookup(other, "l[1]")->str, "q");
	assert_ptr_not_equal(node_lookup(other, "l[1]"), node_lookup(base, "l[1]"));
	assert_int_equal(other->line, 2);
	assert_int_equal(other->col, 8);
	doc_free(d);
}

static void unknown_alias_is_an_error(void **state)
{
	(void)state;
	assert_string_equal(load_err("a: *nope\n"), "t.yaml:1:4: unknown anchor 'nope'");
}

static void alias_bomb_is_rejected_cleanly(void **state)
{
	const char *bomb =
		"a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	const char *msg;

	(void)state;
	msg = load_err(bomb);
	assert_true(strncmp(msg, "t.yaml:", 7) == 0);
	assert_non_null(strstr(msg, "document too large (alias expansion exceeds 1000000 nodes)"));
}

static void deep_nesting_is_rejected(void **state)
{
	struct buf b = BUF_INIT;
	struct doc *d;
	int i;

	(void)state;
	for (i = 0; i < 256; i++)
		buf_addch(&b, '[');
	for (i = 0; i < 256; i++)
		buf_addch(&b, ']');
	d = load_ok(b.s);
	doc_free(d);

	buf_reset(&b);
	for (i = 0; i < 10000; i++)
		buf_addch(&b, '[');
	for (i = 0; i < 10000; i++)
		buf_addch(&b, ']');
	assert_string_equal(load_err(b.s), "t.yaml:1:257: nested too deeply (more than 256 levels)");
	buf_release(&b);
}

static void merge_keys_do_not_override_explicit_keys(void **state)
{
	struct doc *d = load_ok(
		"base: &base {a: 1, b: 2}\n"
		"more: &more {b: 20, c: 30}\n"
		"x:\n"
		"  a: 10\n"
		"  <<: *base\n"
		"  d: 4\n"
		"y:\n"
		"  <<: [*more, *base]\n");
	struct node *x, *y;

	(void)state;
	x = node_get(d->root, "x");
	assert_int_equal(x->n, 3);
	assert_string_equal(node_get(x, "a")->str, "10");
	assert_string_equal(node_get(x, "b")->str, "2");
	assert_string_equal(node_get(x, "d")->str, "4");
	assert_null(node_get(x, "<<"));
	y = node_get(d->root, "y");
	assert_int_equal(y->n, 3);
	assert_string_equal(node_get(y, "a")->str, "1");
	assert_string_equal(node_get(y, "b")->str, "20");
	assert_string_equal(node_get(y, "c")->str, "30");
	doc_free(d);
}

static void merge_of_a_scalar_is_an_error(void **state)
{
	(void)state;
	assert_non_null(strstr(load_err("a:\n  <<: 3\n"), "merge key '<<' needs a mapping"));
}

static void anchored_merge_value_survives_the_merge(void **state)
{
	struct doc *d = load_ok("x:\n  <<: &m {a: 1}\n  b: 2\ny: *m\n");

	(void)state;
	assert_string_equal(node_lookup(d->root, "x.a")->str, "1");
	assert_string_equal(node_lookup(d->root, "y.a")->str, "1");
	doc_free(d);
}

static enum scalar_type type_of(const char *text)
{
	struct doc *d = load_ok(text);
	enum scalar_type t = node_scalar_type(d->root);

	doc_free(d);
	return t;
}

static void plain_scalars_are_typed_and_quoted_ones_are_strings(void **state)
{
	(void)state;
	assert_int_equal(type_of("null"), SCALAR_NULL);
	assert_int_equal(type_of("~"), SCALAR_NULL);
	assert_int_equal(type_of("[NULL]") , SCALAR_STR);   /* a seq is not a scalar */
	assert_int_equal(type_of("True"), SCALAR_BOOL);
	assert_int_equal(type_of("FALSE"), SCALAR_BOOL);
	assert_int_equal(type_of("yes"), SCALAR_STR);
	assert_int_equal(type_of("42"), SCALAR_INT);
	assert_int_equal(type_of("-7"), SCALAR_INT);
	assert_int_equal(type_of("+007"), SCALAR_INT);
	assert_int_equal(type_of("0x1F"), SCALAR_INT);
	assert_int_equal(type_of("0o17"), SCALAR_INT);
	assert_int_equal(type_of("0x"), SCALAR_STR);
	assert_int_equal(type_of("1.5"), SCALAR_FLOAT);
	assert_int_equal(type_of("-.5e3"), SCALAR_FLOAT);
	assert_int_equal(type_of("1e10"), SCALAR_FLOAT);
	assert_int_equal(type_of("2."), SCALAR_FLOAT);
	assert_int_equal(type_of(".inf"), SCALAR_FLOAT);
	assert_int_equal(type_of("-.Inf"), SCALAR_FLOAT);
	assert_int_equal(type_of(".NaN"), SCALAR_FLOAT);
	assert_int_equal(type_of("1.2.3"), SCALAR_STR);
	assert_int_equal(type_of("e5"), SCALAR_STR);
	assert_int_equal(type_of("hello"), SCALAR_STR);
	assert_int_equal(type_of("'42'"), SCALAR_STR);
	assert_int_equal(type_of("\"true\""), SCALAR_STR);
	assert_int_equal(type_of("!!str 42"), SCALAR_STR);
	assert_int_equal(type_of("|\n  42\n"), SCALAR_STR);
	assert_int_equal(type_of("a: \n"), SCALAR_STR);    /* the root is a map */
}

static void empty_plain_value_reads_as_null(void **state)
{
	struct doc *d = load_ok("a:\nb: ''\n");

	(void)state;
	assert_int_equal(node_scalar_type(node_get(d->root, "a")), SCALAR_NULL);
	assert_int_equal(node_scalar_type(node_get(d->root, "b")), SCALAR_STR);
	doc_free(d);
}

static void lookup_follows_keys_and_indexes(void **state)
{
	struct doc *d = load_ok(
		"models:\n"
		"  small-v2: {id: mini, dims: [384, 768]}\n"
		"l:\n"
		"  - {x: 1}\n"
		"  - [a, b, {y_z: deep}]\n");
	const struct node *r;

	(void)state;
	r = d->root;
	assert_string_equal(node_lookup(r, "models.small-v2.id")->str, "mini");
	assert_string_equal(node_lookup(r, "models.small-v2.dims[1]")->str, "768");
	assert_string_equal(node_lookup(r, "l[0].x")->str, "1");
	assert_string_equal(node_lookup(r, "l[1][2].y_z")->str, "deep");
	assert_int_equal(node_lookup(r, "l")->kind, NODE_SEQ);
	assert_null(node_lookup(r, "l[2]"));
	assert_null(node_lookup(r, "models[0]"));
	assert_null(node_lookup(r, "l.x"));
	assert_null(node_lookup(r, "models.nope"));
	assert_null(node_lookup(r, "models..small-v2"));
	assert_null(node_lookup(r, "models."));
	assert_null(node_lookup(r, "l[x]"));
	assert_null(node_lookup(r, "l[0"));
	assert_null(node_lookup(r, "l[-1]"));
	assert_null(node_lookup(r, ""));
	assert_null(node_lookup(NULL, "a"));
	doc_free(d);
}

static void canonical_json_sorts_keys_and_types_scalars(void **state)
{
	(void)state;
	assert_canon("b: 1\na: [x, 'y', null, true, 2.5]\n",
		     "{\"a\":[\"x\",\"y\",null,true,2.5],\"b\":1}");
	assert_canon("n: +007\nh: 0x1F\no: 0o17\nm: -0\n", "{\"h\":31,\"m\":0,\"n\":7,\"o\":15}");
	assert_canon("99999999999999999999999", "99999999999999999999999");
	assert_canon("+000099999999999999999999999", "99999999999999999999999");
	assert_canon("-99999999999999999999999", "-99999999999999999999999");
	assert_canon("[.inf, -.inf, .nan, 1e400]", "[\"inf\",\"-inf\",\"nan\",\"inf\"]");
	assert_canon("0.1", "0.1");
	assert_canon("1.0", "1.0");
	assert_canon("1e3", "1000.0");
	assert_canon("\"a\\\"b\\n\"", "\"a\\\"b\\n\"");
	assert_canon("{}", "{}");
	assert_canon("[]", "[]");
	assert_canon("~", "null");
}

static void canonical_json_ignores_order_layout_and_quoting_style(void **state)
{
	(void)state;
	assert_same_canon("a: 1\nb: {c: x, d: [1, 2]}\n",
			  "b:\n  d:\n    - 1\n    - 2\n  c: \"x\"\na:   1\n");
	assert_same_canon("s: hello world", "s: 'hello world'");
	assert_same_canon("s: hello", "s: |-\n  hello\n");
	assert_same_canon("n: 7", "n: +007");
	assert_same_canon("t: true", "t: True");
	assert_same_canon("base: &b {x: 1}\nuse: *b\n", "base: {x: 1}\nuse: {x: 1}\n");
}

static void canonical_json_is_sensitive_to_type_and_value(void **state)
{
	(void)state;
	assert_diff_canon("p: 800", "p: '800'");
	assert_diff_canon("p: true", "p: 'true'");
	assert_diff_canon("p: null", "p: 'null'");
	assert_diff_canon("p: 1", "p: 1.0");
	assert_diff_canon("p: 1", "p: 2");
	assert_diff_canon("p: [a, b]", "p: [b, a]");
	assert_diff_canon("p: {a: 1}", "q: {a: 1}");
}

static void display_is_the_scalar_or_its_json(void **state)
{
	struct doc *d = load_ok("s: hello\nl: [b, 1]\nm: {z: 1, a: x}\n");
	char *s;

	(void)state;
	s = node_to_display(node_get(d->root, "s"));
	assert_string_equal(s, "hello");
	free(s);
	s = node_to_display(node_get(d->root, "l"));
	assert_string_equal(s, "[\"b\",1]");
	free(s);
	s = node_to_display(node_get(d->root, "m"));
	assert_string_equal(s, "{\"a\":\"x\",\"z\":1}");
	free(s);
	doc_free(d);
}

static void built_trees_append_dup_and_free(void **state)
{
	struct node *m = node_new_map(), *l = node_new_seq(), *c;
	struct buf b = BUF_INIT;
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		char *s = xasprintf("%d", i);

		node_append(l, NULL, node_new_scalar(s, 0));
		free(s);
	}
	node_append(m, "list", l);
	node_append(m, "name", node_new_scalar("42", 1));
	assert_string_equal(m->file, "<generated>");
	assert_int_equal(m->line, 0);
	assert_int_equal(m->n, 2);
	assert_int_equal(l->n, 100);
	assert_string_equal(node_lookup(m, "list[99]")->str, "99");

	c = node_dup(m);
	node_append(node_get(c, "list"), NULL, node_new_scalar("x", 0));
	assert_int_equal(node_get(c, "list")->n, 101);
	assert_int_equal(l->n, 100);
	node_canonical(c, &b);
	assert_non_null(strstr(b.s, "\"name\":\"42\""));
	assert_non_null(strstr(b.s, "98,99,\"x\"]"));
	buf_release(&b);
	node_free(c);
	node_free(m);
	node_free(NULL);
	doc_free(NULL);
}

static void loaded_trees_can_be_appended_to(void **state)
{
	struct doc *d = load_ok("l: [a, b, c, d, e]\nm: {k: v}\n");
	struct node *l, *m;

	(void)state;
	l = node_get(d->root, "l");
	node_append(l, NULL, node_new_scalar("f", 0));
	assert_string_equal(node_lookup(d->root, "l[5]")->str, "f");
	m = node_get(d->root, "m");
	node_append(m, "k2", node_new_scalar("v2", 0));
	assert_string_equal(node_lookup(d->root, "m.k2")->str, "v2");
	doc_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nodes_record_one_based_line_and_column),
		cmocka_unit_test(map_keys_keep_file_order),
		cmocka_unit_test(bad_yaml_reports_file_line_and_column),
		cmocka_unit_test(invalid_utf8_reports_its_line),
		cmocka_unit_test(unreadable_file_is_an_io_error),
		cmocka_unit_test(load_file_names_the_path_in_nodes),
		cmocka_unit_test(the_parse_cache_gives_the_same_doc_and_never_a_stale_one),
		cmocka_unit_test(the_parse_cache_is_used_only_when_passed),
		cmocka_unit_test(duplicate_keys_are_an_error),
		cmocka_unit_test(mapping_keys_must_be_scalars),
		cmocka_unit_test(several_documents_are_an_error),
		cmocka_unit_test(empty_input_has_no_root),
		cmocka_unit_test(aliases_are_deep_copies_of_anchors),
		cmocka_unit_test(unknown_alias_is_an_error),
		cmocka_unit_test(alias_bomb_is_rejected_cleanly),
		cmocka_unit_test(deep_nesting_is_rejected),
		cmocka_unit_test(merge_keys_do_not_override_explicit_keys),
		cmocka_unit_test(merge_of_a_scalar_is_an_error),
		cmocka_unit_test(anchored_merge_value_survives_the_merge),
		cmocka_unit_test(plain_scalars_are_typed_and_quoted_ones_are_strings),
		cmocka_unit_test(empty_plain_value_reads_as_null),
		cmocka_unit_test(lookup_follows_keys_and_indexes),
		cmocka_unit_test(canonical_json_sorts_keys_and_types_scalars),
		cmocka_unit_test(canonical_json_ignores_order_layout_and_quoting_style),
		cmocka_unit_test(canonical_json_is_sensitive_to_type_and_value),
		cmocka_unit_test(display_is_the_scalar_or_its_json),
		cmocka_unit_test(built_trees_append_dup_and_free),
		cmocka_unit_test(loaded_trees_can_be_appended_to),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
