/*
 * progress.h - a one-line progress display on stderr, only on a terminal,
 * and the one summary line a stage program ends with.
 *
 *     struct progress p; progress_init(&p, "rp embed", total);
 *     progress_update(&p, done, "hits 120, requests 3");   (throttled to ~10/s)
 *     progress_end(&p);                                     (clears the line)
 *     progress_summary("rp embed", "%zu chunk%s, ...", n, plural_s(n), ...);
 *
 * When stderr is not a TTY no progress is drawn, so logs stay clean.
 *
 * One label style: a label is the command as the user types it, "rp embed",
 * "rp context", "rp extract", "rp index update", "rp cache verify", and a
 * program's progress line and summary line carry the same label. A stage
 * program ends a successful run with exactly one summary line, "LABEL:
 * counts" ("rp chunk: 1 chunk from 1 doc"), and prints none with -q.
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
/*
 * Prints "LABEL: MSG\n" to stderr, MSG formatted from `fmt`: a stage
 * program's one summary line (see above). Nothing is kept.
 */
void progress_summary(const char *label, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "" when n == 1, else "s": "%zu chunk%s" reads "1 chunk", "2 chunks". */
const char *plural_s(size_t n);
/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
double progress_now(void);

#endif
