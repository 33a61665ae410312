/*
 * test-config.c - .rp/config as a store of declared sections: defaults,
 * values with their positions, named sections (remote.NAME.*), and errors
 * that name file:line:col.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "core/config.h"
#include "util/error.h"
#include "yaml/doc.h"

static const struct config_key remote_keys[] = {
	{ "url", CONFIG_STR, 0, NULL, NULL },
	{ "push", CONFIG_BOOL, 0, "false", NULL },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct config_section remote_section = { "remote", 1, remote_keys };

/* Parses `text` as the file "cfg" into c; the result of config_parse(). */
static int parse(struct config *c, const char *text, struct rp_err *err)
{
	struct doc *d = doc_load_buf("cfg", text, strlen(text), err);
	int r;

	if (!d)
		return -1;
	r = config_parse(c, d, err);
	doc_free(d);
	return r;
}

static void an_empty_file_means_the_defaults(void **state)
{
	(void)state;
	struct config c;
	struct rp_err err = { 0 };

	assert_int_equal(parse(&c, "", &err), 0);
	assert_string_equal(c.cache_dir, ".rp/cache");
	assert_string_equal(c.cache_type, "reflink,copy");
	assert_int_equal(c.save_sources, 1);
	assert_int_equal(c.jobs, 0);
	assert_int_equal(c.nvals, 0);
	assert_string_equal(config_get(&c, "cache", "dir"), ".rp/cache");
	assert_null(config_get(&c, "cache", "nothing"));
	assert_null(config_find(&c, "cache", "dir"));
	config_release(&c);
}

static void sections_hold_their_values_and_positions(void **state)
{
	(void)state;
	struct config c;
	struct rp_err err = { 0 };
	const struct config_value *v;

	assert_int_equal(parse(&c, "cache:\n  dir: /s\n  save_sources: false\ncore:\n  jobs: 7\n", &err), 0);
	assert_string_equal(c.cache_dir, "/s");
	assert_int_equal(c.save_sources, 0);
	assert_int_equal(c.jobs, 7);
	assert_string_equal(config_get(&c, "cache", "save_sources"), "false");
	assert_string_equal(config_get(&c, "core", "jobs"), "7");
	v = config_find(&c, "core", "jobs");
	assert_non_null(v);
	assert_string_equal(v->file, "cfg");
	assert_int_equal(v->line, 5);
	assert_int_equal(v->col, 3);
	config_release(&c);
}

static void an_unknown_key_is_an_error_at_its_position(void **state)
{
	(void)state;
	struct config c;
	struct rp_err err = { 0 };

	assert_int_equal(parse(&c, "cache:\n  type: copy\n  colour: blue\n", &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_string_equal(err.msg, "cfg:3:3: unknown setting 'cache.colour'");
	config_release(&c);
	assert_int_equal(parse(&c, "cache:\n  dir: x\nnope:\n  a: 1\n", &err), -1);
	assert_non_null(strstr(err.msg, "cfg:3:1: unknown section 'nope' (expected cache or core)"));
	config_release(&c);
}

static void a_bad_value_is_an_error_at_its_position(void **state)
{
	(void)state;
	struct config c;
	struct rp_err err = { 0 };

	assert_int_equal(parse(&c, "cache:\n  save_sources: maybe\n", &err), -1);
	assert_string_equal(err.msg, "cfg:2:17: expected true or false");
	config_release(&c);
	assert_int_equal(parse(&c, "core:\n  jobs: 1025\n", &err), -1);
	assert_string_equal(err.msg, "cfg:2:9: 'jobs' must be a number from 0 to 1024");
	config_release(&c);
	assert_int_equal(parse(&c, "cache:\n  dir: ''\n", &err), -1);
	assert_string_equal(err.msg, "cfg:2:8: expected a non-empty string");
	config_release(&c);
	assert_int_equal(parse(&c, "cache: 3\n", &err), -1);
	assert_string_equal(err.msg, "cfg:1:8: expected a mapping");
	config_release(&c);
	assert_int_equal(parse(&c, "- a\n", &err), -1);
	assert_non_null(strstr(err.msg, "cfg:1:1: expected a mapping"));
	config_release(&c);
}

static void named_sections_hold_one_set_of_keys_per_name(void **state)
{
	(void)state;
	struct config c;
	struct rp_err err = { 0 };

	/* undeclared, a section is unknown (as remotes are today) */
	assert_int_equal(parse(&c, "remote:\n  origin:\n    url: x\n", &err), -1);
	assert_non_null(strstr(err.msg, "cfg:1:1: unknown section 'remote'"));
	config_release(&c);
	config_declare(&remote_section);
	config_declare(&remote_section);
	assert_int_equal(parse(&c, "remote:\n  origin:\n    url: s3://a\n    push: true\n"
			       "  backup:\n    url: /mnt/b\n", &err), 0);
	assert_string_equal(config_get(&c, "remote.origin", "url"), "s3://a");
	assert_string_equal(config_get(&c, "remote.origin", "push"), "true");
	assert_string_equal(config_get(&c, "remote.backup", "url"), "/mnt/b");
	assert_string_equal(config_get(&c, "remote.backup", "push"), "false");
	assert_null(config_get(&c, "remote.other", "url"));
	assert_int_equal(config_find(&c, "remote.backup", "url")->line, 6);
	config_release(&c);
	/* keys and shapes are checked per name */
	assert_int_equal(parse(&c, "remote:\n  origin:\n    branch: x\n", &err), -1);
	assert_string_equal(err.msg, "cfg:3:5: unknown setting 'remote.origin.branch'");
	config_release(&c);
	assert_int_equal(parse(&c, "remote:\n  url: x\n", &err), -1);
	assert_string_equal(err.msg, "cfg:2:8: expected a mapping");
	config_release(&c);
	assert_int_equal(parse(&c, "x:\n  a: 1\n", &err), -1);
	assert_non_null(strstr(err.msg, "(expected cache, core or remote)"));
	config_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(an_empty_file_means_the_defaults),
		cmocka_unit_test(sections_hold_their_values_and_positions),
		cmocka_unit_test(an_unknown_key_is_an_error_at_its_position),
		cmocka_unit_test(a_bad_value_is_an_error_at_its_position),
		cmocka_unit_test(named_sections_hold_one_set_of_keys_per_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
