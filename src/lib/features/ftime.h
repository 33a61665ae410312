/*
 * ftime.h - the feature store's times and durations.
 *
 * A time is an int64 count of microseconds since 1970-01-01T00:00:00Z
 * (UTC): every timestamp read is converted to UTC on input, compared as an
 * integer and written back in UTC. Text form: RFC 3339, "2026-12-05T12:00:00Z",
 * "2026-12-05T13:00:00.25+01:00"; 'T' or a space between date and time,
 * 'Z'/'z' or +HH:MM/-HH:MM, up to 6 fraction digits (more is an error: the
 * store keeps microseconds and would silently round). A timestamp without an
 * offset is naive: refused unless the caller assumes UTC (--assume-utc).
 * Durations are numopt.h's ("90", "90s", "15m", "24h", "7d"), in
 * microseconds here.
 */
#ifndef RP_FEATURES_FTIME_H
#define RP_FEATURES_FTIME_H
#include <stddef.h>
#include <stdint.h>

typedef int64_t ftime_t;

/* No time: a source without a created-time column, a feature without a window or ttl. */
#define FTIME_NONE INT64_MIN

enum ftime_rc {
	FTIME_OK = 0,
	FTIME_BAD = -1,    /* not an RFC 3339 timestamp (or out of range: years 0001-9999) */
	FTIME_NAIVE = -2,  /* a valid timestamp without an offset, and assume_utc is 0 */
};

/*
 * Parses the `len` bytes at `s` as an RFC 3339 timestamp into *out (UTC
 * microseconds). A naive timestamp is read as UTC when assume_utc is set,
 * else FTIME_NAIVE. Returns an enum ftime_rc; *out is set only on FTIME_OK.
 */
int ftime_parse(const char *s, size_t len, int assume_utc, ftime_t *out);

/* Length of ftime_format()'s longest text, with its NUL. */
#define FTIME_TEXT 32

/*
 * Writes `t` as "YYYY-MM-DDTHH:MM:SSZ", with ".ffffff" (trailing zeros
 * dropped) before the Z when t has a fraction of a second. Deterministic:
 * ftime_parse(ftime_format(t)) == t.
 */
void ftime_format(ftime_t t, char out[FTIME_TEXT]);

/*
 * Parses a duration (numopt_seconds(): "7d", "24h", "30m", "90s", "90")
 * into *out microseconds, > 0 and at most 100 years. Returns 0, or -1 when
 * `s` is not one.
 */
int fdur_parse(const char *s, ftime_t *out);

/* Writes a duration as fdur_parse() reads it, in the largest unit that divides it ("7d", "36h"). */
void fdur_format(ftime_t d, char out[FTIME_TEXT]);
#endif
