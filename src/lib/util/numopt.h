/*
 * numopt.h - numbers, sizes and durations given as command-line options.
 *
 *     long jobs;
 *     if (numopt_long("-j", optarg, 1, 1024, &jobs) < 0)
 *         return RP_EXIT_USAGE;     (reported: "option '-j': 'x' is not ...")
 *
 *     uint64_t max;
 *     if (numopt_size(optarg, &max) < 0)
 *         return rp_error_input("option '--max-file-size': '%s' is not a size ...", optarg);
 *
 * Sizes: a whole number of bytes with an optional suffix K, M, G or T
 * (powers of 1024; "KiB", "KB", "k" and the like mean the same): "4096",
 * "64M", "1G". Durations: a whole number of seconds with an optional
 * suffix s, m, h or d: "90", "30m", "1h". Nothing else is accepted (no
 * sign, no fraction, no blanks), and a value that overflows is refused.
 * Plain numbers: decimal digits, with a leading '-' only where the range
 * allows negative values; no '+', no blanks, nothing after the digits.
 */
#ifndef RP_NUMOPT_H
#define RP_NUMOPT_H

#include <stdint.h>

/* Parses a plain number in lo..hi into *out; 0, or -1 (nothing reported) when `s` is not one. */
int numopt_parse_long(const char *s, long lo, long hi, long *out);
/*
 * numopt_parse_long() for the option `opt` (as the user spells it: "--size",
 * "-j"): 0, or -1 after reporting with rp_error_input() that `s` is not a
 * whole number in lo..hi. For commands, which own stderr.
 */
int numopt_long(const char *opt, const char *s, long lo, long hi, long *out);

/* Parses a size into *out (bytes); 0, or -1 (nothing reported) when `s` is not one. */
int numopt_size(const char *s, uint64_t *out);
/* Parses a duration into *out (seconds); 0, or -1 (nothing reported) when `s` is not one. */
int numopt_seconds(const char *s, uint64_t *out);

#endif
