/*
 * test-toml.c - params and vars files read by extension: TOML 1.0 into the
 * same node tree as YAML (values, types, positions, errors), the parse
 * cache, JSON through YAML, and the refusal of Python files.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "util/buf.h"
#include "util/error.h"
#include "yaml/doc.h"
#include "yaml/doccache.h"

/* Loads `text` as a file called `name`; the test fails if it does not load. */
static struct doc *load_as(const char *name, const char *text)
{
	struct rp_err err = { 0 };
	struct doc *d = doc_load_buf(name, text, strlen(text), &err);

	if (!d)
		fail_msg("unexpected error: %s", err.msg);
	return d;
}

/* The canonical JSON of `text` loaded as `name`, in a static buffer. */
static const char *canon_as(const char *name, const char *text)
{
	static char out[4096];
	struct doc *d = load_as(name, text);
	struct buf b = BUF_INIT;

	if (d->root)
		node_canonical(d->root, &b);
	snprintf(out, sizeof(out), "%s", b.s);
	buf_release(&b);
	doc_free(d);
	return out;
}

static const char *canon(const char *text)
{
	return canon_as("t.toml", text);
}

/* Loads `text` as t.toml expecting failure; the message, in a static buffer. */
static const char *load_err(const char *text)
{
	static struct rp_err err;
	struct doc *d;

	memset(&err, 0, sizeof(err));
	d = doc_load_buf("t.toml", text, strlen(text), &err);
	if (d) {
		doc_free(d);
		fail_msg("'%s' loaded but should have failed", text);
	}
	assert_int_equal(err.kind, RP_ERR_INPUT);
	return err.msg;
}

static void assert_has(const char *msg, const char *part)
{
	if (!strstr(msg, part))
		fail_msg("'%s' does not contain '%s'", msg, part);
}

static void every_kind_of_value_reads_as_its_json(void **state)
{
	(void)state;
	assert_string_equal(canon(
		"# params\n"
		"title = \"rag\"  # comment\n"
		"lit = 'C:\\path'\n"
		"esc = \"tab\\there \\u00e9 \\U0001F600 \\\"q\\\"\"\n"
		"ml = \"\"\"\nline1\nline2 \\\n    joined\"\"\"\n"
		"mll = '''\nraw \\n '' '''\n"
		"ints = [42, +7, -0, 1_000, 0xDEAD_beef, 0o17, 0b101, 9223372036854775807]\n"
		"floats = [3.14, -1e-5, 6.626E+34, 1_0.5_0, inf, -inf, nan]\n"
		"bools = [true, false]\n"
		"dates = [1979-05-27T07:32:00Z, 1979-05-27 07:32:00.5+01:00, 1979-05-27, 07:32:00]\n"
		"mixed = [1, \"a\", [2, {x = 3}], ]\n"
		"\"quoted key\" = 1\n"),
		"{\"bools\":[true,false],"
		"\"dates\":[\"1979-05-27T07:32:00Z\",\"1979-05-27 07:32:00.5+01:00\",\"1979-05-27\","
		"\"07:32:00\"],"
		"\"esc\":\"tab\\there \xc3\xa9 \xf0\x9f\x98\x80 \\\"q\\\"\","
		"\"floats\":[3.14,-1e-05,6.626e+34,10.5,"
		"\"inf\",\"-inf\",\"nan\"],"
		"\"ints\":[42,7,0,1000,3735928559,15,5,9223372036854775807],"
		"\"lit\":\"C:\\\\path\","
		"\"mixed\":[1,\"a\",[2,{\"x\":3}]],"
		"\"ml\":\"line1\\nline2 joined\","
		"\"mll\":\"raw \\\\n '' \","
		"\"quoted key\":1,"
		"\"title\":\"rag\"}");
}

static void tables_dotted_keys_and_arrays_of_tables_nest(void **state)
{
	(void)state;
	assert_string_equal(canon(
		"top = 1\n"
		"[train]\n"
		"lr = 0.5\n"
		"optim.name = \"adam\"\n"
		"optim.beta = [0.9, 0.99]\n"
		"[model.encoder]\n"
		"layers = 4\n"
		"[model]\n"
		"name = \"m\"\n"
		"[[models]]\n"
		"id = \"small\"\n"
		"[models.extra]\n"
		"k = 1\n"
		"[[models]]\n"
		"id = \"large\"\n"
		"[fruit]\n"
		"apple.color = \"red\"\n"
		"[fruit.apple.texture]\n"
		"smooth = true\n"),
		"{\"fruit\":{\"apple\":{\"color\":\"red\",\"texture\":{\"smooth\":true}}},"
		"\"model\":{\"encoder\":{\"layers\":4},\"name\":\"m\"},"
		"\"models\":[{\"extra\":{\"k\":1},\"id\":\"small\"},{\"id\":\"large\"}],"
		"\"top\":1,"
		"\"train\":{\"lr\":0.5,\"optim\":{\"beta\":[0.9,0.99],"
		"\"name\":\"adam\"}}}");
}

static void values_have_the_types_the_toml_file_meant(void **state)
{
	struct doc *d;

	(void)state;
	d = load_as("p.toml", "s = \"true\"\nb = true\ni = 0x10\nf = 1e3\nn = \"null\"\n"
		    "dt = 2024-01-02\ninf = -inf\n");
	assert_int_equal(node_scalar_type(node_get(d->root, "s")), SCALAR_STR);
	assert_int_equal(node_scalar_type(node_get(d->root, "b")), SCALAR_BOOL);
	assert_int_equal(node_scalar_type(node_get(d->root, "i")), SCALAR_INT);
	assert_string_equal(node_get(d->root, "i")->str, "16");
	assert_int_equal(node_scalar_type(node_get(d->root, "f")), SCALAR_FLOAT);
	assert_int_equal(node_scalar_type(node_get(d->root, "n")), SCALAR_STR);
	assert_int_equal(node_scalar_type(node_get(d->root, "dt")), SCALAR_STR);
	assert_int_equal(node_scalar_type(node_get(d->root, "inf")), SCALAR_FLOAT);
	assert_string_equal(node_get(d->root, "inf")->str, "-.inf");
	/* tables and arrays carry no parse flags out of the reader */
	assert_int_equal(d->root->quoted, 0);
	doc_free(d);
}

static void toml_and_yaml_of_the_same_data_are_the_same_value(void **state)
{
	char toml[4096];

	(void)state;
	snprintf(toml, sizeof(toml), "%s", canon(
		"[chunker]\nsize = 800\noverlap = 0.1\nstrategy = \"tokens\"\n"
		"[[models]]\nid = \"a\"\ndim = 384\n[[models]]\nid = \"b\"\ndim = 768\n"));
	assert_string_equal(toml, canon_as("params.yaml",
		"chunker: {size: 800, overlap: 0.1, strategy: tokens}\n"
		"models:\n  - {id: a, dim: 384}\n  - {id: b, dim: 768}\n"));
}

static void positions_count_lines_and_code_points(void **state)
{
	struct doc *d;
	struct node *n;
	size_t i;

	(void)state;
	d = load_as("p.toml", "# c\r\n[a.b]\n  x = [1,\n    \"\xc3\xa9\xc3\xa9\", 3]\n"
		    "\"\xc3\xa9\" = { y = 2 }\n");
	assert_string_equal(d->root->file, "p.toml");
	n = node_lookup(d->root, "a.b");
	assert_int_equal(n->line, 2);
	assert_int_equal(n->col, 1);
	n = node_lookup(d->root, "a.b.x");
	assert_int_equal(n->line, 3);
	assert_int_equal(n->col, 7);
	assert_int_equal(n->items[1]->line, 4);
	assert_int_equal(n->items[1]->col, 5);
	assert_int_equal(n->items[2]->line, 4);
	assert_int_equal(n->items[2]->col, 11);     /* code points, not bytes */
	n = node_lookup(d->root, "a.b");
	for (i = 0; i < n->n; i++)
		if (!strcmp(n->keys[i]->str, "\xc3\xa9"))
			break;
	assert_true(i < n->n);
	assert_int_equal(n->keys[i]->line, 5);
	assert_int_equal(n->keys[i]->col, 1);
	assert_int_equal(n->items[i]->items[0]->line, 5);
	assert_int_equal(n->items[i]->items[0]->col, 13);
	doc_free(d);
}

static void invalid_toml_names_line_column_and_fix(void **state)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "a = 1\na = 2\n", "t.toml:2:1: duplicate key 'a' (first at line 1, column 1)" },
		{ "[x]\n[x]\n", "t.toml:2:2: table 'x' is already defined (line 1)" },
		{ "[x.y]\n[x]\n[x]\n", "t.toml:3:2: table 'x' is already defined" },
		{ "a.b = 1\n[a]\n", "t.toml:2:1: table 'a' is already defined by dotted keys" },
		{ "[a.b.c]\n[a]\nb.c.t = 1\n", "t.toml:3:3: table 'b.c' is defined by its" },
		{ "[a]\nb.c = 1\n[a.b]\n", "t.toml:3:1: table 'a.b' is already defined by dotted" },
		{ "a = {}\n[a.b]\n", "t.toml:2:2: 'a' is an inline table (line 1)" },
		{ "a = {b = 1}\na.c = 2\n", "t.toml:2:1: 'a' is an inline table" },
		{ "a = []\n[[a]]\n", "t.toml:2:1: 'a' is already an array (line 1)" },
		{ "[[a]]\n[a]\n", "t.toml:2:2: 'a' is an array of tables (line 1)" },
		{ "a = 1\n[a]\n", "t.toml:2:2: 'a' is already a value (line 1, column 1)" },
		{ "a = 1\na.b = 2\n", "t.toml:2:1: 'a' is already a value" },
		{ "a = {b = 1, b = 2}\n", "t.toml:1:13: duplicate key 'b'" },
		{ "name = hello\n", "t.toml:1:8: expected a value, found 'hello'; put strings in quotes" },
		{ "a = \n", "t.toml:1:5: expected a value, found the end of the line" },
		{ "a 1\n", "t.toml:1:3: expected '=' after the key 'a', found '1'; write key = value" },
		{ "a = 1 b = 2\n", "t.toml:1:7: expected the end of the line after the value" },
		{ "a = \"open\n", "t.toml:1:5: unterminated string; close it with \"" },
		{ "a = \"\"\"open\n", "t.toml:1:5: unterminated multi-line string" },
		{ "a = \"\\q\"\n", "t.toml:1:6: invalid escape '\\q'" },
		{ "a = \"\\uD800\"\n", "is not a Unicode scalar value" },
		{ "a = \"\\u0000\"\n", "(NUL) cannot be used" },
		{ "a = 07\n", "t.toml:1:5: leading zeros are not allowed" },
		{ "a = 1__0\n", "t.toml:1:5: invalid number '1__0'" },
		{ "a = 1.\n", "invalid number '1.' (a '.' needs digits on both sides)" },
		{ "a = 9223372036854775808\n", "does not fit in 64 bits" },
		{ "a = 0x8000000000000000\n", "does not fit in 64 bits" },
		{ "a = 1979-02-29\n", "t.toml:1:5: invalid date or time" },
		{ "a = 1979-05-27T25:00:00\n", "invalid date or time" },
		{ "a = 07:32:60\n", "t.toml:1:5: invalid date or time" },    /* as Python's tomllib */
		{ "a = [1 2]\n", "t.toml:1:8: expected ',' or ']' in the array of line 1" },
		{ "a = [1,\n", "t.toml:1:5: unterminated array" },
		{ "a = {b = 1,}\n", "t.toml:1:12: a comma before '}' in an inline table" },
		{ "a = {b = 1\n", "t.toml:1:11: expected '}' to close the inline table" },
		{ "[a\n", "t.toml:1:3: expected ']' to close the table header" },
		{ "[[a]\n", "expected ']]' to close the table header" },
		{ "= 1\n", "t.toml:1:1: expected a key, found '='" },
		{ "\"\"\"k\"\"\" = 1\n", "a key cannot be a multi-line string" },
		{ "a = 1 # \x01\n", "t.toml:1:9: control character U+0001 in a comment" },
		{ "a = 1\rb = 2\n", "t.toml:1:6: expected the end of the line after the value, found a carriage return" },
		{ "a = \"\xff\"\n", "t.toml:1:6: invalid UTF-8 (byte 0xFF)" },
		{ "a = \"\xc0\x80\"\n", "invalid UTF-8" },
		{ "a = \"\"\"x\"\"\"\"\"\"\n", "too many quotes" },
		{ "a = \"x\ty\x01\"\n", "t.toml:1:9: control character U+0001 in a string; write it as the escape \\u0001" },
		{ "a = \'\'\'x\ry\'\'\'\n", "t.toml:1:9: a carriage return must be followed by a newline" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		const char *msg = load_err(cases[i].text);

		if (getenv("TEST_TOML_SHOW"))
			fprintf(stderr, "%s\n", msg);
		if (!strstr(msg, cases[i].msg))
			fail_msg("case %zu: '%s' does not contain '%s'", i, msg, cases[i].msg);
		assert_non_null(strchr(msg, ';'));      /* every message says how to fix it */
	}
}

static void a_long_token_is_clipped_and_the_fix_still_shown(void **state)
{
	/* found by fuzz-toml: a 1,000-byte number pushed the fix out of the message */
	static const char *const heads[] = { "a = 0x1", "a = 1", "a = 0", "a = 9", "a = x" };
	static const char *const tails[] = { "_", "__", "0", "9", "z" };
	static const char *const ends[] = { "\xc5\xbb", "", "", "", "\xc5\xbb" };
	static const char *const fixes[] = { "; write numbers as", "; write numbers as",
					     "; write 7, not 07", "; write it as a string",
					     "; put strings in quotes" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(heads) / sizeof(*heads); i++) {
		struct buf text = BUF_INIT;
		const char *msg;
		int k;

		buf_adds(&text, heads[i]);
		for (k = 0; k < 500; k++)
			buf_adds(&text, k % 7 ? "1" : tails[i]);
		buf_adds(&text, ends[i]);
		buf_addch(&text, '\n');
		msg = load_err(text.s);
		assert_has(msg, "t.toml:1:5: ");
		assert_has(msg, fixes[i]);
		if (strlen(msg) > 400)
			fail_msg("case %zu: the token is quoted whole: '%s'", i, msg);
		buf_release(&text);
	}
}

static void what_toml_allows_is_accepted(void **state)
{
	(void)state;
	/* a [table] may come after its sub-tables, sub-tables may go into dotted tables */
	assert_string_equal(canon("[a.b]\nc = 1\n[a]\nd = 2\n"),
			    "{\"a\":{\"b\":{\"c\":1},\"d\":2}}");
	assert_string_equal(canon("[a.b.c]\n[a]\nb.d = 1\n"),
			    "{\"a\":{\"b\":{\"c\":{},\"d\":1}}}");
	/* blanks around dots, quoted parts, keys that look like numbers */
	assert_string_equal(canon("a . \"b.c\" . 1 = true\n3.14 = 'pi'\n"),
			    "{\"3\":{\"14\":\"pi\"},\"a\":{\"b.c\":{\"1\":true}}}");
	/* up to two quotes before a closing triple quote belong to the text */
	assert_string_equal(canon("a = \"\"\"x\"\"\"\"\"\nb = '''y'''''\n"),
			    "{\"a\":\"x\\\"\\\"\",\"b\":\"y''\"}");
	/* arrays across lines, with comments and a trailing comma */
	assert_string_equal(canon("a = [\n  1, # one\n  2,\n]\n"), "{\"a\":[1,2]}");
	/* a nested inline table with dotted keys */
	assert_string_equal(canon("a = { b.c = 1, b.d = 2 }\n"),
			    "{\"a\":{\"b\":{\"c\":1,\"d\":2}}}");
	/* CRLF lines, a byte order mark, no newline at the end */
	assert_string_equal(canon("\xef\xbb\xbf" "a = 1\r\nb = 'x'"), "{\"a\":1,\"b\":\"x\"}");
	/* an empty file is an empty table */
	assert_string_equal(canon(""), "{}");
	assert_string_equal(canon("# nothing\n\n"), "{}");
}

static void nesting_is_limited(void **state)
{
	struct buf b = BUF_INIT;
	int i;

	(void)state;
	buf_adds(&b, "a = ");
	for (i = 0; i < 300; i++)
		buf_addch(&b, '[');
	for (i = 0; i < 300; i++)
		buf_addch(&b, ']');
	assert_has(load_err(b.s), "nested too deeply");
	buf_reset(&b);
	buf_addch(&b, '[');
	for (i = 0; i < 300; i++)
		buf_adds(&b, i ? ".a" : "a");
	buf_adds(&b, "]\n");
	assert_has(load_err(b.s), "nested too deeply");
	buf_release(&b);
}

static void the_parser_is_chosen_by_extension(void **state)
{
	struct rp_err err = { 0 };

	(void)state;
	/* TOML whatever the case of the extension */
	assert_string_equal(canon_as("dir/P.TOML", "a = 1\n"), "{\"a\":1}");
	/* JSON, YAML and no extension go through YAML */
	assert_string_equal(canon_as("params.json", "{\n\t\"a\": [1, 2.5, \"x\", null, true]\n}\n"),
			    "{\"a\":[1,2.5,\"x\",null,true]}");
	assert_string_equal(canon_as("params.yml", "a: 1\n"), "{\"a\":1}");
	assert_string_equal(canon_as("toml.d/params", "a: 1\n"), "{\"a\":1}");
	assert_string_equal(canon_as(".toml", "a: 1\n"), "{\"a\":1}");
	/* Python files are refused with the file's name, whatever the content */
	assert_null(doc_load_buf("conf/params.py", "LR = 0.1\n", 9, &err));
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_has(err.msg, "conf/params.py: Python params files are not supported");
	assert_has(err.msg, "params.yaml");
}

static void the_parse_cache_keeps_toml_trees(void **state)
{
	char dir[] = "/tmp/rp-test-toml.XXXXXX", path[256], cdir[300];
	const char *text = "[train]\nlr = 0.5\nlayers = [64, 32]\n";
	struct rp_err err = { 0 };
	struct doccache *c;
	struct doc *d;
	struct buf b1 = BUF_INIT, b2 = BUF_INIT;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/params.toml", dir);
	snprintf(cdir, sizeof(cdir), "%s/cache", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	c = doccache_open(cdir);
	d = doccache_load_file(c, path, &err);  /* parsed as TOML and recorded */
	assert_non_null(d);
	node_canonical(d->root, &b1);
	doc_free(d);
	d = doccache_load_file(c, path, &err);  /* decoded from the cache */
	assert_non_null(d);
	node_canonical(d->root, &b2);
	assert_string_equal(b1.s, b2.s);
	assert_string_equal(b1.s, "{\"train\":{\"layers\":[64,32],\"lr\":0.5}}");
	assert_int_equal(node_lookup(d->root, "train.layers")->line, 3);
	assert_int_equal(node_lookup(d->root, "train.layers")->col, 10);
	assert_int_equal(node_lookup(d->root, "train")->quoted, 0);
	doc_free(d);
	/* invalid TOML is an error through the cache too */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[train]\nlr = \n", f);
	fclose(f);
	assert_null(doccache_load_file(c, path, &err));
	assert_has(err.msg, "params.toml:2:6: expected a value");
	doccache_close(c);
	buf_release(&b1);
	buf_release(&b2);
	assert_int_equal(tl_rmtree(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind_of_value_reads_as_its_json),
		cmocka_unit_test(tables_dotted_keys_and_arrays_of_tables_nest),
		cmocka_unit_test(values_have_the_types_the_toml_file_meant),
		cmocka_unit_test(toml_and_yaml_of_the_same_data_are_the_same_value),
		cmocka_unit_test(positions_count_lines_and_code_points),
		cmocka_unit_test(invalid_toml_names_line_column_and_fix),
		cmocka_unit_test(a_long_token_is_clipped_and_the_fix_still_shown),
		cmocka_unit_test(what_toml_allows_is_accepted),
		cmocka_unit_test(nesting_is_limited),
		cmocka_unit_test(the_parser_is_chosen_by_extension),
		cmocka_unit_test(the_parse_cache_keeps_toml_trees),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
