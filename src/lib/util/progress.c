/*
 * progress.c - terminal progress line (see progress.h). RP_PROGRESS=1 in the
 * environment forces it on (for tests), RP_PROGRESS=0 off.
 */
#include "util/progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void progress_summary(const char *label, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", label);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *plural_s(size_t n)
{
	return n == 1 ? "" : "s";
}

double progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void progress_init(struct progress *p, const char *what, size_t total)
{
	const char *force = getenv("RP_PROGRESS");

	p->what = what;
	p->total = total;
	p->enabled = force ? *force == '1' : isatty(2);
	p->start = progress_now();
	p->last = 0;
	p->drawn = 0;
}

void progress_update(struct progress *p, size_t done, const char *extra)
{
	double now, el, rate;

	if (!p->enabled)
		return;
	now = progress_now();
	if (p->drawn && now - p->last < 0.1 && done != p->total)
		return;
	p->last = now;
	el = now - p->start;
	rate = el > 0 ? done / el : 0;
	fprintf(stderr, "\r\033[K%s: %zu", p->what, done);
	if (p->total) {
		fprintf(stderr, "/%zu (%.0f%%)", p->total, 100.0 * done / p->total);
		if (rate > 0 && done < p->total)
			fprintf(stderr, ", ETA %.0fs", (p->total - done) / rate);
	}
	fprintf(stderr, ", %.0f/s", rate);
	if (extra && *extra)
		fprintf(stderr, ", %s", extra);
	fflush(stderr);
	p->drawn = 1;
}

void progress_end(struct progress *p)
{
	if (p->enabled && p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->drawn = 0;
}
