/*
 * test-userconfig.c - the user's own settings: the built-in default when
 * there is no file, host and host:port matching, hosts without case, safe
 * directories (also "*" and "DIR/" + "*"), gc stores, and the refusals: a file
 * writable by group, one owned by another user, an unknown key (with its
 * line and column), a base URL whose host is not the one it seems to name.
 *
 * Every test points RP_USER_CONFIG at a file in its own scratch directory.
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
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"
#include "util/error.h"
#include "core/userconfig.h"

struct fx {
	char *dir, *path;
	struct user_config uc;
};

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));

	f->dir = tl_scratch("userconfig");
	if (!f->dir)
		return -1;
	f->path = xasprintf("%s/config", f->dir);
	setenv("RP_USER_CONFIG", f->path, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int ret = tl_unscratch(f->dir);

	user_config_release(&f->uc);
	unsetenv("RP_USER_CONFIG");
	free(f->path);
	free(f);
	return ret;
}

/* Writes `text` as the user config with `mode`, then loads it. */
static int load(struct fx *f, const char *text, mode_t mode, struct rp_err *err)
{
	tl_write_path(f->path, text, strlen(text));
	assert_int_equal(chmod(f->path, mode), 0);
	user_config_release(&f->uc);
	return user_config_load(&f->uc, err);
}

static void missing_file_allows_only_openai_key_to_openai(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };

	assert_int_equal(user_config_load(&f->uc, &err), 0);
	assert_string_equal(f->uc.path, f->path);
	assert_int_equal(f->uc.creds_set, 0);
	assert_true(user_config_may_send(&f->uc, "OPENAI_API_KEY", "api.openai.com", 443));
	assert_true(user_config_may_send(&f->uc, "OPENAI_API_KEY", "API.OpenAI.COM", 443));
	assert_false(user_config_may_send(&f->uc, "OPENAI_API_KEY", "api.openai.com.evil.example", 443));
	assert_false(user_config_may_send(&f->uc, "OPENAI_API_KEY", "127.0.0.1", 8080));
	assert_false(user_config_may_send(&f->uc, "AWS_SECRET_ACCESS_KEY", "api.openai.com", 443));
	assert_int_equal(user_config_check_send(&f->uc, "OPENAI_API_KEY", "the default",
						"https://api.openai.com/v1", &err), 0);
	/* the default holds over https only: a plain-text URL would expose the key */
	assert_int_equal(user_config_check_send(&f->uc, "OPENAI_API_KEY", "the default",
						"http://api.openai.com/v1", &err), -1);
	assert_false(user_config_dir_is_safe(&f->uc, "/srv/team/project"));
	assert_false(user_config_may_gc(&f->uc, "/mnt/shared/rp-store"));
}

static void host_and_host_port_entries_match_as_written(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };

	assert_int_equal(load(f, "credentials:\n"
			      "  MY_GATEWAY_TOKEN: [\"llm.internal:8443\", 127.0.0.1, \"[::1]:9000\"]\n"
			      "  OTHER: [fe80::1]\n", 0600, &err), 0);
	assert_int_equal(f->uc.creds_set, 1);
	assert_int_equal(f->uc.ncreds, 2);
	assert_true(user_config_may_send(&f->uc, "MY_GATEWAY_TOKEN", "llm.internal", 8443));
	assert_false(user_config_may_send(&f->uc, "MY_GATEWAY_TOKEN", "llm.internal", 443));
	assert_true(user_config_may_send(&f->uc, "MY_GATEWAY_TOKEN", "127.0.0.1", 1));
	assert_true(user_config_may_send(&f->uc, "MY_GATEWAY_TOKEN", "127.0.0.1", 65535));
	assert_true(user_config_may_send(&f->uc, "MY_GATEWAY_TOKEN", "[::1]", 9000));
	assert_true(user_config_may_send(&f->uc, "MY_GATEWAY_TOKEN", "::1", 9000));
	assert_false(user_config_may_send(&f->uc, "MY_GATEWAY_TOKEN", "::1", 9001));
	assert_true(user_config_may_send(&f->uc, "OTHER", "fe80::1", 80));
	/* names are exact: the variable, not a prefix or another case of it */
	assert_false(user_config_may_send(&f->uc, "my_gateway_token", "127.0.0.1", 80));
	assert_false(user_config_may_send(&f->uc, "MY_GATEWAY", "127.0.0.1", 80));
	/* a credentials section replaces the built-in default */
	assert_false(user_config_may_send(&f->uc, "OPENAI_API_KEY", "api.openai.com", 443));
	/* an entry the user wrote holds for http too */
	assert_int_equal(user_config_check_send(&f->uc, "MY_GATEWAY_TOKEN", "--api-key-env",
						"http://127.0.0.1:8080/v1", &err), 0);
}

static void hosts_compare_without_case(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };

	assert_int_equal(load(f, "credentials:\n  TOKEN: [LLM.Internal.Example]\n", 0600, &err), 0);
	assert_true(user_config_may_send(&f->uc, "TOKEN", "llm.internal.example", 443));
	assert_true(user_config_may_send(&f->uc, "TOKEN", "LLM.INTERNAL.EXAMPLE", 80));
	assert_int_equal(user_config_check_send(&f->uc, "TOKEN", "x",
						"https://llm.INTERNAL.example/v1", &err), 0);
}

static void check_send_names_variable_host_and_fix_but_not_value(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };

	assert_int_equal(user_config_load(&f->uc, &err), 0);
	setenv("RP_TEST_SECRET", "s3cr3t-value", 1);
	assert_int_equal(user_config_check_send(&f->uc, "RP_TEST_SECRET",
						"embed.api_key_env in '/x/.rp/config'",
						"http://127.0.0.1:8080/v1", &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(err.msg, "$RP_TEST_SECRET"));
	assert_non_null(strstr(err.msg, "127.0.0.1 port 8080"));
	assert_non_null(strstr(err.msg, "embed.api_key_env in '/x/.rp/config'"));
	assert_non_null(strstr(err.msg, "credentials:\n  RP_TEST_SECRET: [\"127.0.0.1:8080\"]"));
	assert_non_null(strstr(err.msg, f->path));
	assert_null(strstr(err.msg, "s3cr3t"));
	unsetenv("RP_TEST_SECRET");
}

static void check_send_reads_the_host_as_curl_does(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };

	/* the user part is not the host: this goes to evil.example */
	assert_int_equal(user_config_check_send(&f->uc, "OPENAI_API_KEY", "x",
						"https://api.openai.com@evil.example/v1", &err), -1);
	assert_non_null(strstr(err.msg, "evil.example"));
	assert_int_equal(user_config_check_send(&f->uc, "OPENAI_API_KEY", "x",
						"https://api.openai.com.evil.example/v1", &err), -1);
	assert_int_equal(user_config_check_send(&f->uc, "OPENAI_API_KEY", "x", "not a url", &err), -1);
}

static void safe_directories_list_paths_below_and_star(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };

	assert_int_equal(load(f, "safe:\n  directories:\n    - /srv/team/project/\n"
			      "    - /srv/shared/*\n", 0644, &err), 0);
	assert_int_equal(f->uc.nsafe, 2);
	assert_true(user_config_dir_is_safe(&f->uc, "/srv/team/project"));
	assert_true(user_config_dir_is_safe(&f->uc, "/srv/team/project/"));
	assert_false(user_config_dir_is_safe(&f->uc, "/srv/team/project/sub"));
	assert_false(user_config_dir_is_safe(&f->uc, "/srv/team/projectx"));
	assert_false(user_config_dir_is_safe(&f->uc, "/srv/team"));
	assert_true(user_config_dir_is_safe(&f->uc, "/srv/shared/a"));
	assert_true(user_config_dir_is_safe(&f->uc, "/srv/shared/a/b"));
	assert_false(user_config_dir_is_safe(&f->uc, "/srv/shared"));
	assert_false(user_config_dir_is_safe(&f->uc, "/srv/sharedx/a"));
	assert_true(user_config_dir_is_below_safe(&f->uc, "/srv/team/project/sub"));
	assert_false(user_config_dir_is_below_safe(&f->uc, "/srv/team/project"));
	assert_false(user_config_dir_is_below_safe(&f->uc, "/srv/team"));
	/* the default credentials still hold: the file has no credentials section */
	assert_true(user_config_may_send(&f->uc, "OPENAI_API_KEY", "api.openai.com", 443));

	assert_int_equal(load(f, "safe:\n  directories: ['*']\n", 0600, &err), 0);
	assert_true(user_config_dir_is_safe(&f->uc, "/anything/at/all"));
	assert_true(user_config_dir_is_below_safe(&f->uc, "/anything/at/all"));

	assert_int_equal(load(f, "safe:\n  directories: [relative/dir]\n", 0600, &err), -1);
	assert_non_null(strstr(err.msg, ":2:17: expected an absolute path"));
}

static void gc_stores_are_stored_normalised(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };

	assert_int_equal(load(f, "stores:\n  gc:\n    - /mnt/shared/rp-store/\n    - /data/store\n",
			      0600, &err), 0);
	assert_int_equal(f->uc.ngc_stores, 2);
	assert_string_equal(f->uc.gc_stores[0], "/mnt/shared/rp-store");
	assert_true(user_config_may_gc(&f->uc, "/mnt/shared/rp-store"));
	assert_true(user_config_may_gc(&f->uc, "/data/store/"));
	assert_false(user_config_may_gc(&f->uc, "/mnt/shared"));
	assert_false(user_config_may_gc(&f->uc, "/mnt/shared/rp-store/sub"));
}

static void group_writable_file_is_refused_whole(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };

	assert_int_equal(load(f, "credentials:\n  AWS_SECRET_ACCESS_KEY: [evil.example]\n", 0664,
			      &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(err.msg, "writable by its group"));
	assert_non_null(strstr(err.msg, f->path));
	assert_int_equal(f->uc.ncreds, 0);
	assert_false(user_config_may_send(&f->uc, "AWS_SECRET_ACCESS_KEY", "evil.example", 443));

	assert_int_equal(load(f, "stores:\n  gc: [/x]\n", 0602, &err), -1);
	assert_non_null(strstr(err.msg, "writable by others"));
	assert_int_equal(f->uc.ngc_stores, 0);
}

static void file_of_another_user_is_refused(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };

	if (geteuid() != 0)
		skip();        /* only root can give a file away */
	unsetenv("SUDO_UID");
	assert_int_equal(load(f, "safe:\n  directories: ['*']\n", 0600, &err), 0);
	assert_int_equal(chown(f->path, 65534, 65534), 0);
	user_config_release(&f->uc);
	assert_int_equal(user_config_load(&f->uc, &err), -1);
	assert_non_null(strstr(err.msg, "owned by another user (uid 65534)"));
	assert_int_equal(f->uc.nsafe, 0);
	/* through sudo, root trusts the invoking user's file, as git does */
	setenv("SUDO_UID", "65534", 1);
	user_config_release(&f->uc);
	assert_int_equal(user_config_load(&f->uc, &err), 0);
	assert_int_equal(f->uc.nsafe, 1);
	unsetenv("SUDO_UID");
}

static void unknown_key_is_refused_with_line_and_column(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };

	assert_int_equal(load(f, "safe:\n  directory: [/x]\n", 0600, &err), -1);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_non_null(strstr(err.msg, ":2:3: unknown setting 'safe.directory'"));

	assert_int_equal(load(f, "# mine\ncredential:\n  X: [h]\n", 0600, &err), -1);
	assert_non_null(strstr(err.msg, ":2:1: unknown setting 'credential'"));

	assert_int_equal(load(f, "credentials:\n  X: [\"h:0\"]\n", 0600, &err), -1);
	assert_non_null(strstr(err.msg, ":2:7:"));

	assert_int_equal(load(f, "credentials:\n  X: h\n", 0600, &err), -1);
	assert_non_null(strstr(err.msg, ":2:6: expected a list of hosts"));

	assert_int_equal(load(f, "credentials:\n  NOT-A-NAME: [h]\n", 0600, &err), -1);
	assert_non_null(strstr(err.msg, ":2:3:"));

	assert_int_equal(load(f, "credentials: [1, 2\n", 0600, &err), -1);
	assert_non_null(strstr(err.msg, f->path));
}

static void empty_credentials_section_allows_nothing(void **state)
{
	struct fx *f = *state;
	struct rp_err err = { 0 };

	assert_int_equal(load(f, "credentials:\n", 0600, &err), 0);
	assert_int_equal(f->uc.creds_set, 1);
	assert_false(user_config_may_send(&f->uc, "OPENAI_API_KEY", "api.openai.com", 443));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(missing_file_allows_only_openai_key_to_openai, setup, teardown),
		cmocka_unit_test_setup_teardown(host_and_host_port_entries_match_as_written, setup, teardown),
		cmocka_unit_test_setup_teardown(hosts_compare_without_case, setup, teardown),
		cmocka_unit_test_setup_teardown(check_send_names_variable_host_and_fix_but_not_value, setup, teardown),
		cmocka_unit_test_setup_teardown(check_send_reads_the_host_as_curl_does, setup, teardown),
		cmocka_unit_test_setup_teardown(safe_directories_list_paths_below_and_star, setup, teardown),
		cmocka_unit_test_setup_teardown(gc_stores_are_stored_normalised, setup, teardown),
		cmocka_unit_test_setup_teardown(group_writable_file_is_refused_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(file_of_another_user_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_key_is_refused_with_line_and_column, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_credentials_section_allows_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
