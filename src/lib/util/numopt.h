/*
 * numopt.h - sizes and durations given as command-line options.
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
 */
#ifndef RP_NUMOPT_H
#define RP_NUMOPT_H

#include <stdint.h>

/* Parses a size into *out (bytes); 0, or -1 (nothing reported) when `s` is not one. */
int numopt_size(const char *s, uint64_t *out);
/* Parses a duration into *out (seconds); 0, or -1 (nothing reported) when `s` is not one. */
int numopt_seconds(const char *s, uint64_t *out);

#endif
