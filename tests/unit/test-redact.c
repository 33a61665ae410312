/*
 * test-redact.c - secrets never leak, also in part (error.h: rp_redact,
 * rp_secret_add, and the redaction of rp_err_set before its cut), and a
 * server's Retry-After is capped, not ignored (http.h: http_retry_delay_ms).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/http.h"

#define KEY "sk-proj-Zq81KmW3xYtP0aVb7Lc2Nd9RfE4uGh6J"

static void check(const char *in, const char *want)
{
	char *out = rp_redact(in, strlen(in));

	assert_string_equal(out, want);
	free(out);
}

static void the_whole_key_is_redacted(void **state)
{
	(void)state;
	rp_secret_add(KEY);
	check("Incorrect API key provided: " KEY ".", "Incorrect API key provided: [REDACTED].");
}

static void a_masked_echo_is_redacted_whole(void **state)
{
	(void)state;
	rp_secret_add(KEY);
	check("key sk-proj-****************6J is wrong", "key [REDACTED] is wrong");
	check("key sk-p***Gh6J is wrong", "key [REDACTED] is wrong");
	check("key \xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2h6J!", "key [REDACTED]");
	check("key sk-proj-Zq81...Gh6J", "key [REDACTED]");
}

static void any_run_of_four_key_characters_is_redacted(void **state)
{
	(void)state;
	rp_secret_add(KEY);
	check("the key ends in uGh6J", "the key ends in [REDACTED]");
	check("prefix Zq81KmW3 seen", "prefix [REDACTED] seen");
	/* three characters in a row are too few to be told from text */
	check("Gh6 and xYt stay", "Gh6 and xYt stay");
}

static void url_credentials_are_redacted_whoever_they_are(void **state)
{
	(void)state;
	check("cannot reach 'https://bob:pw@example.com:8443/v1/embeddings': refused",
	      "cannot reach 'https://[REDACTED]@example.com:8443/v1/embeddings': refused");
	check("no creds http://example.com/a@b", "no creds http://example.com/a@b");
	rp_secret_add_url("https://carol:Secr3tPw@h/");
	check("password Secr3tPw again", "password [REDACTED] again");
}

static void a_message_is_redacted_before_it_is_cut(void **state)
{
	struct rp_err err;
	char *msg = xmalloc(2000);

	(void)state;
	rp_secret_add(KEY);
	/* the key straddles the 1023-byte limit of err.msg */
	memset(msg, 'x', 1010);
	strcpy(msg + 1010, KEY);
	rp_err_set(&err, RP_ERR_IO, "%s", msg);
	assert_null(strstr(err.msg, "sk-proj"));
	assert_non_null(strstr(err.msg, "[REDA"));
	free(msg);
}

static void a_retry_after_over_the_cap_waits_the_cap(void **state)
{
	struct http_opts o = HTTP_OPTS_INIT;

	(void)state;
	assert_int_equal(http_retry_delay_ms(&o, 1, 2000, 0.5), 2000);
	assert_int_equal(http_retry_delay_ms(&o, 1, 100000000L, 0.5), HTTP_MAX_SERVER_DELAY_MS);
	o.max_server_delay_ms = 5000;
	assert_int_equal(http_retry_delay_ms(&o, 3, 6000, 0.9), 5000);
	/* no server delay: full jitter below the backoff bound */
	assert_true(http_retry_delay_ms(&o, 1, -1, 0.5) <= o.backoff_base_ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(the_whole_key_is_redacted),
		cmocka_unit_test(a_masked_echo_is_redacted_whole),
		cmocka_unit_test(any_run_of_four_key_characters_is_redacted),
		cmocka_unit_test(url_credentials_are_redacted_whoever_they_are),
		cmocka_unit_test(a_message_is_redacted_before_it_is_cut),
		cmocka_unit_test(a_retry_after_over_the_cap_waits_the_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
