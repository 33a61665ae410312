/*
 * numopt.c - parsing of size and duration options (see numopt.h).
 *
 * Both are a run of decimal digits and a unit looked up in a table; the
 * product is checked against UINT64_MAX before it is formed. Plain numbers
 * are strtol's and fractions strtod's, with what they would also accept
 * (blanks, '+', an empty string; for strtod hexadecimal, "inf", "nan")
 * refused first. Nothing here prints: numopt_long() fills a struct rp_err
 * for its caller to report.
 */
#include "util/numopt.h"
#include "util/error.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include <stddef.h>
#include <string.h>
#include <strings.h>

struct unit {
	const char *name;
	uint64_t mult;
};

static const struct unit size_units[] = {
	{ "", 1 }, { "b", 1 },
	{ "k", 1ULL << 10 }, { "kb", 1ULL << 10 }, { "kib", 1ULL << 10 },
	{ "m", 1ULL << 20 }, { "mb", 1ULL << 20 }, { "mib", 1ULL << 20 },
	{ "g", 1ULL << 30 }, { "gb", 1ULL << 30 }, { "gib", 1ULL << 30 },
	{ "t", 1ULL << 40 }, { "tb", 1ULL << 40 }, { "tib", 1ULL << 40 },
	{ NULL, 0 },
};

static const struct unit time_units[] = {
	{ "", 1 }, { "s", 1 }, { "m", 60 }, { "h", 3600 }, { "d", 86400 },
	{ NULL, 0 },
};

static int parse(const char *s, const struct unit *units, uint64_t *out)
{
	uint64_t v = 0;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	for (size_t i = 0; units[i].name; i++) {
		if (strcasecmp(p, units[i].name))
			continue;
		if (v && units[i].mult > UINT64_MAX / v)
			return -1;
		*out = v * units[i].mult;
		return 0;
	}
	return -1;
}

int numopt_size(const char *s, uint64_t *out)
{
	return parse(s, size_units, out);
}

int numopt_seconds(const char *s, uint64_t *out)
{
	return parse(s, time_units, out);
}

int numopt_parse_long(const char *s, long lo, long hi, long *out)
{
	const char *d = s && *s == '-' && lo < 0 ? s + 1 : s;
	char *end;
	long v;

	if (!d || *d < '0' || *d > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int numopt_long(const char *opt, const char *s, long lo, long hi, long *out, struct rp_err *err)
{
	if (!numopt_parse_long(s, lo, hi, out))
		return 0;
	if (hi == LONG_MAX)
		return rp_err_set(err, RP_ERR_INPUT, "option '%s': '%s' is not a whole number of at least %ld",
				  opt, s ? s : "", lo);
	return rp_err_set(err, RP_ERR_INPUT, "option '%s': '%s' is not a whole number in %ld..%ld", opt,
			  s ? s : "", lo, hi);
}

int numopt_parse_double(const char *s, double lo, double hi, double *out)
{
	const char *d = s && *s == '-' && lo < 0 ? s + 1 : s;
	char *end;
	double v;

	if (!d || !((*d >= '0' && *d <= '9') || *d == '.') ||
	    strspn(d, "0123456789.eE+-") != strlen(d))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || !(v >= lo) || !(v <= hi))
		return -1;
	*out = v;
	return 0;
}
