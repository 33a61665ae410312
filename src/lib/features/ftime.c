/*
 * ftime.c - RFC 3339 timestamps and durations for the feature store
 * (ftime.h).
 *
 * Parsing is strict and by hand, byte by byte: strptime() knows neither
 * fractions nor "+01:00" offsets, and a feature store must never guess a
 * time. Dates go to days since the epoch through the proleptic Gregorian
 * calendar (days_from_civil, H. Hinnant's algorithm), so no time zone
 * database and no environment variable (TZ) can change a result.
 */
#include "features/ftime.h"
#include "util/numopt.h"

#include <stdio.h>
#include <string.h>

#define USEC 1000000LL
#define DAY_US (86400LL * USEC)

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;

	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

static int leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly n digits at s[*i]; -1 when they are not all digits. */
static int digits(const char *s, size_t len, size_t *i, int n)
{
	int v = 0;

	if (*i + (size_t)n > len)
		return -1;
	for (int k = 0; k < n; k++) {
		char c = s[*i + k];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (c - '0');
	}
	*i += n;
	return v;
}

static int expect(const char *s, size_t len, size_t *i, char c)
{
	if (*i >= len || s[*i] != c)
		return -1;
	(*i)++;
	return 0;
}

int ftime_parse(const char *s, size_t len, int assume_utc, ftime_t *out)
{
	static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	size_t i = 0;
	int y, mo, d, h, mi, sec, off = 0;
	int64_t frac = 0;

	y = digits(s, len, &i, 4);
	if (y < 1 || expect(s, len, &i, '-') < 0 || (mo = digits(s, len, &i, 2)) < 1 || mo > 12 ||
	    expect(s, len, &i, '-') < 0 || (d = digits(s, len, &i, 2)) < 1)
		return FTIME_BAD;
	if (d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return FTIME_BAD;
	if (i >= len || (s[i] != 'T' && s[i] != 't' && s[i] != ' '))
		return FTIME_BAD;
	i++;
	if ((h = digits(s, len, &i, 2)) < 0 || h > 23 || expect(s, len, &i, ':') < 0 ||
	    (mi = digits(s, len, &i, 2)) < 0 || mi > 59 || expect(s, len, &i, ':') < 0 ||
	    (sec = digits(s, len, &i, 2)) < 0 || sec > 59)   /* no leap second: UTC arithmetic */
		return FTIME_BAD;
	if (i < len && s[i] == '.') {
		int n = 0;

		i++;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			if (++n > 6)
				return FTIME_BAD;
			frac = frac * 10 + (s[i++] - '0');
		}
		if (!n)
			return FTIME_BAD;
		for (; n < 6; n++)
			frac *= 10;
	}
	if (i == len) {
		if (!assume_utc)
			return FTIME_NAIVE;
	} else if (s[i] == 'Z' || s[i] == 'z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		int sign = s[i++] == '-' ? -1 : 1, oh, om;

		if ((oh = digits(s, len, &i, 2)) < 0 || oh > 23 || expect(s, len, &i, ':') < 0 ||
		    (om = digits(s, len, &i, 2)) < 0 || om > 59)
			return FTIME_BAD;
		off = sign * (oh * 60 + om);
	} else {
		return FTIME_BAD;
	}
	if (i != len)
		return FTIME_BAD;
	*out = days_from_civil(y, (unsigned)mo, (unsigned)d) * DAY_US +
	       ((int64_t)h * 3600 + mi * 60 + sec - (int64_t)off * 60) * USEC + frac;
	return FTIME_OK;
}

void ftime_format(ftime_t t, char out[FTIME_TEXT])
{
	int64_t days = t / DAY_US, rest = t % DAY_US;
	unsigned m, d;
	int y, n;

	if (rest < 0) {
		rest += DAY_US;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	int64_t secs = rest / USEC, us = rest % USEC;

	n = snprintf(out, FTIME_TEXT, "%04d-%02u-%02uT%02d:%02d:%02d", y, m, d, (int)(secs / 3600),
		     (int)(secs / 60 % 60), (int)(secs % 60));
	if (us) {
		char f[8];
		int k = 6;

		snprintf(f, sizeof(f), "%06lld", (long long)us);
		while (f[k - 1] == '0')
			k--;
		n += snprintf(out + n, FTIME_TEXT - (size_t)n, ".%.*s", k, f);
	}
	snprintf(out + n, FTIME_TEXT - (size_t)n, "Z");
}

int fdur_parse(const char *s, ftime_t *out)
{
	uint64_t secs;

	if (numopt_seconds(s, &secs) < 0 || !secs || secs > 100ULL * 365 * 86400)
		return -1;   /* zero is no window; beyond a century, a typo */
	*out = (ftime_t)secs * USEC;
	return 0;
}

void fdur_format(ftime_t d, char out[FTIME_TEXT])
{
	static const struct {
		char c;
		int64_t us;
	} units[] = { { 'd', DAY_US }, { 'h', 3600 * USEC }, { 'm', 60 * USEC }, { 's', USEC } };

	for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++)
		if (d % units[u].us == 0) {
			snprintf(out, FTIME_TEXT, "%lld%c", (long long)(d / units[u].us), units[u].c);
			return;
		}
	snprintf(out, FTIME_TEXT, "%lldus", (long long)d);   /* not from fdur_parse */
}
