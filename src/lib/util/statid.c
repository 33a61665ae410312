/*
 * statid.c - the clock the racy rule compares file times with; see statid.h.
 */
#include "util/statid.h"

int64_t statid_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return statid_ns(&ts);
}
