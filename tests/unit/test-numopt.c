/*
 * test-numopt.c - plain numbers with a range, decimal fractions, sizes and
 * durations; numopt_long() fills its error instead of printing it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "util/error.h"
#include "util/numopt.h"

static void test_plain_numbers_in_range(void **state)
{
	long v = 0;

	(void)state;
	assert_int_equal(numopt_parse_long("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(numopt_parse_long("1024", 1, 1024, &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(numopt_parse_long("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(numopt_parse_long("9223372036854775807", 0, LONG_MAX, &v), 0);
	assert_true(v == LONG_MAX);
}

static void test_what_is_not_a_plain_number(void **state)
{
	static const char *bad[] = {
		"", " 1", "+1", "1 ", "1x", "0x10", "1.5", "-", "-1", "1025", "0",
		"99999999999999999999", NULL,
	};
	long v = 42;

	(void)state;
	assert_int_equal(numopt_parse_long(NULL, 1, 1024, &v), -1);
	for (size_t i = 0; bad[i]; i++) {
		if (numopt_parse_long(bad[i], 1, 1024, &v) != -1)
			fail_msg("'%s' was accepted", bad[i]);
	}
	assert_int_equal(v, 42);   /* untouched on failure */
	assert_int_equal(numopt_parse_long("-11", -10, 10, &v), -1);
}

static void test_numopt_long_fills_an_input_error(void **state)
{
	struct rp_err err = { 0 };
	long v = 42;

	FILE *caught = tmpfile();
	int saved = dup(STDERR_FILENO);

	(void)state;
	assert_non_null(caught);
	/* filled, not reported: nothing reaches stderr */
	fflush(stderr);
	dup2(fileno(caught), STDERR_FILENO);
	assert_int_equal(numopt_long("-j", "many", 1, 1024, &v, &err), -1);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_int_equal(ftell(caught) + lseek(fileno(caught), 0, SEEK_END), 0);
	fclose(caught);
	assert_int_equal(err.kind, RP_ERR_INPUT);
	assert_string_equal(err.msg, "option '-j': 'many' is not a whole number in 1..1024");
	assert_int_equal(v, 42);
	assert_int_equal(numopt_long("--size", "-3", 0, LONG_MAX, &v, &err), -1);
	assert_string_equal(err.msg, "option '--size': '-3' is not a whole number of at least 0");
	assert_int_equal(numopt_long("-j", "x", 1, 1024, &v, NULL), -1);   /* err may be NULL */
	assert_int_equal(numopt_long("-j", "8", 1, 1024, &v, &err), 0);
	assert_int_equal(v, 8);
}

static void test_decimal_fractions(void **state)
{
	static const char *bad[] = {
		"", " 1", "+1", "1 ", "1x", "0x10", "inf", "nan", "-1", "1e400", "86400.5", "1..2",
		"e3", NULL,
	};
	double v = 42;

	(void)state;
	assert_int_equal(numopt_parse_double("0.5", 0, 86400, &v), 0);
	assert_true(v == 0.5);
	assert_int_equal(numopt_parse_double("2", 0, 86400, &v), 0);
	assert_true(v == 2);
	assert_int_equal(numopt_parse_double(".25", 0, 86400, &v), 0);
	assert_true(v == 0.25);
	assert_int_equal(numopt_parse_double("1e-3", 0, 86400, &v), 0);
	assert_true(v == 1e-3);
	assert_int_equal(numopt_parse_double("-1.5", -2, 2, &v), 0);
	assert_true(v == -1.5);
	v = 42;
	assert_int_equal(numopt_parse_double(NULL, 0, 86400, &v), -1);
	for (size_t i = 0; bad[i]; i++) {
		if (numopt_parse_double(bad[i], 0, 86400, &v) != -1)
			fail_msg("'%s' was accepted", bad[i]);
	}
	assert_true(v == 42);   /* untouched on failure */
}

static void test_sizes_and_durations(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(numopt_size("64M", &v), 0);
	assert_true(v == 64ULL << 20);
	assert_int_equal(numopt_size("1KiB", &v), 0);
	assert_true(v == 1024);
	assert_int_equal(numopt_size("-1", &v), -1);
	assert_int_equal(numopt_seconds("30m", &v), 0);
	assert_true(v == 1800);
	assert_int_equal(numopt_seconds("1w", &v), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_numbers_in_range),
		cmocka_unit_test(test_what_is_not_a_plain_number),
		cmocka_unit_test(test_numopt_long_fills_an_input_error),
		cmocka_unit_test(test_decimal_fractions),
		cmocka_unit_test(test_sizes_and_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
