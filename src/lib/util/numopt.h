/*
 * numopt.h - numbers, sizes and durations given as command-line options
 * (or in a setting or environment variable the user writes).
 *
 * The library parses and, when asked, fills a struct rp_err; the caller
 * (a command, a stage program's main()) reports it:
 *
 *     long jobs;
 *     struct rp_err err = { 0 };
 *     if (numopt_long("-j", optarg, 1, 1024, &jobs, &err) < 0)
 *         return rp_err_report(&err), RP_EXIT_USAGE;
 *                       (reports: "option '-j': 'x' is not a whole number in 1..1024")
 *
 *     uint64_t max;
 *     if (numopt_size(optarg, &max) < 0)
 *         return rp_error("option '--max-file-size': '%s' is not a size ...", optarg);
 *
 * Sizes: a whole number of bytes with an optional suffix K, M, G or T
 * (powers of 1024; "KiB", "KB", "k" and the like mean the same): "4096",
 * "64M", "1G". Durations: a whole number of seconds with an optional
 * suffix s, m, h or d: "90", "30m", "1h". Nothing else is accepted (no
 * sign, no fraction, no blanks), and a value that overflows is refused.
 * Plain numbers: decimal digits, with a leading '-' only where the range
 * allows negative values; no '+', no blanks, nothing after the digits.
 * Decimal fractions (numopt_parse_double): the same, with an optional
 * fraction and exponent ("0.5", "2", "1e-3"); no hexadecimal, no "inf" or
 * "nan".
 */
#ifndef RP_NUMOPT_H
#define RP_NUMOPT_H

#include <stdint.h>

struct rp_err;

/* Parses a plain number in lo..hi into *out; 0, or -1 (nothing reported) when `s` is not one. */
int numopt_parse_long(const char *s, long lo, long hi, long *out);
/*
 * numopt_parse_long() for the option `opt` (as the user spells it: "--size",
 * "-j"): 0, or -1 with `err` (if non-NULL) filled as RP_ERR_INPUT saying
 * that `s` is not a whole number in lo..hi. Prints nothing; *out is left
 * untouched on failure.
 */
int numopt_long(const char *opt, const char *s, long lo, long hi, long *out, struct rp_err *err);

/* Parses a decimal fraction in lo..hi into *out; 0, or -1 (nothing reported) when `s` is not one. */
int numopt_parse_double(const char *s, double lo, double hi, double *out);

/* Parses a size into *out (bytes); 0, or -1 (nothing reported) when `s` is not one. */
int numopt_size(const char *s, uint64_t *out);
/* Parses a duration into *out (seconds); 0, or -1 (nothing reported) when `s` is not one. */
int numopt_seconds(const char *s, uint64_t *out);

#endif
