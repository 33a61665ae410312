/*
 * progress.h - a one-line progress display on stderr, only on a terminal.
 *
 *     struct progress p; progress_init(&p, "embed", total);
 *     progress_update(&p, done, "hits 120, requests 3");   (throttled to ~10/s)
 *     progress_end(&p);                                     (clears the line)
 *
 * When stderr is not a TTY nothing is printed, so logs stay clean.
 */
#ifndef RP_PROGRESS_H
#define RP_PROGRESS_H

#include <stddef.h>

struct progress {
	const char *what;       /* borrowed label */
	size_t total;           /* 0: unknown */
	int enabled;
	double start, last;
	int drawn;
};

/* Starts a display labelled `what` (borrowed) for `total` items. */
void progress_init(struct progress *p, const char *what, size_t total);
/* Shows done/total, percent, rate, ETA and `extra` (may be NULL); throttled. */
void progress_update(struct progress *p, size_t done, const char *extra);
/* Erases the line if one was drawn. */
void progress_end(struct progress *p);
/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
double progress_now(void);

#endif
