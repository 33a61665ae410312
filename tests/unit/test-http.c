/*
 * test-http.c - the retry delay of http.h: a server-given wait is obeyed up
 * to the cap, and without one the backoff is full jitter below a doubling
 * bound. (Parsing the Retry-After header, seconds or an HTTP date, is
 * static in http.c and is covered by tests/cli/embed-http.bats.)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "util/http.h"

static void a_server_delay_is_obeyed(void **state)
{
	(void)state;
	struct http_opts o = HTTP_OPTS_INIT;

	/* Retry-After: 2 (seconds), as http.c hands it on: 2000 ms */
	assert_int_equal(http_retry_delay_ms(&o, 1, 2000, 0.99), 2000);
	/* an HTTP date 30 s ahead, converted the same way; rnd plays no part */
	assert_int_equal(http_retry_delay_ms(&o, 3, 30000, 0.0), 30000);
	/* a date in the past, or "Retry-After: 0": retry at once */
	assert_int_equal(http_retry_delay_ms(&o, 1, 0, 0.5), 0);
}

static void a_server_delay_is_capped_at_60_seconds(void **state)
{
	(void)state;
	struct http_opts o = HTTP_OPTS_INIT;

	assert_int_equal(HTTP_MAX_SERVER_DELAY_MS, 60000);
	assert_int_equal(http_retry_delay_ms(&o, 1, 60000, 0.5), 60000);
	assert_int_equal(http_retry_delay_ms(&o, 1, 60001, 0.5), 60000);
	assert_int_equal(http_retry_delay_ms(&o, 1, 3600L * 1000, 0.5), 60000);
	o.max_server_delay_ms = 100;
	assert_int_equal(http_retry_delay_ms(&o, 1, 5000, 0.5), 100);
}

static void without_a_server_delay_the_backoff_is_full_jitter(void **state)
{
	(void)state;
	struct http_opts o = HTTP_OPTS_INIT;

	o.backoff_base_ms = 500;
	o.backoff_max_ms = 30000;
	/* bound 500 * 2^(retry-1), scaled by rnd in [0, 1) */
	assert_int_equal(http_retry_delay_ms(&o, 1, -1, 0.0), 0);
	assert_int_equal(http_retry_delay_ms(&o, 1, -1, 0.5), 250);
	assert_int_equal(http_retry_delay_ms(&o, 2, -1, 0.5), 500);
	assert_int_equal(http_retry_delay_ms(&o, 4, -1, 0.5), 2000);
	assert_true(http_retry_delay_ms(&o, 1, -1, 0.999999) < 500);
	/* the bound stops at backoff_max_ms */
	assert_int_equal(http_retry_delay_ms(&o, 10, -1, 0.5), 15000);
	assert_int_equal(http_retry_delay_ms(&o, 60, -1, 0.5), 15000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_server_delay_is_obeyed),
		cmocka_unit_test(a_server_delay_is_capped_at_60_seconds),
		cmocka_unit_test(without_a_server_delay_the_backoff_is_full_jitter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
