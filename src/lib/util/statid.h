/*
 * statid.h - the stat identity of a file version, and the racy-timestamp rule.
 *
 * rp trusts what it once learnt of a file (its hash, in store/state.c; the
 * parse of rp.lock, in lock/locksnap.c) while the file's stat identity is
 * unchanged. The identity is (dev, ino, size, mtime, ctime), times in
 * nanoseconds since the epoch.
 *
 * The racy rule (git's "racy git" problem): file times come from the
 * kernel's coarse clock, which lags the real clock by up to one tick (10 ms
 * at HZ=100), so a file rewritten right after it was read can keep every
 * field while its bytes change. What was learnt at time T of a file is
 * trusted only if the file's times were older than T - STATID_RACY_NS.
 * (File systems with timestamps coarser than 10 ms, such as FAT, are not
 * covered.)
 */
#ifndef RP_STATID_H
#define RP_STATID_H

#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define STATID_RACY_NS 10000000LL   /* 10 ms */

struct statid {
	int64_t dev, ino, size, mtime_ns, ctime_ns;
};

/* Nanoseconds since the epoch of `ts`. */
static inline int64_t statid_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* The identity of the file `st` describes. */
static inline void statid_of(struct statid *id, const struct stat *st)
{
	id->dev = (int64_t)st->st_dev;
	id->ino = (int64_t)st->st_ino;
	id->size = (int64_t)st->st_size;
	id->mtime_ns = statid_ns(&st->st_mtim);
	id->ctime_ns = statid_ns(&st->st_ctim);
}

/*
 * 1 when `a` and `b` name the same content version: same dev, ino, size and
 * mtime. ctime is compared by the callers that record it (it changes on
 * chmod and rename too, and state.db does not keep it).
 */
static inline int statid_same(const struct statid *a, const struct statid *b)
{
	return a->mtime_ns == b->mtime_ns && a->size == b->size &&
	       a->ino == b->ino && a->dev == b->dev;
}

/* 1 when a file time `t_ns` is too recent, at `at_ns`, to be trusted (see above). */
static inline int statid_racy(int64_t t_ns, int64_t at_ns)
{
	return t_ns + STATID_RACY_NS >= at_ns;
}

/* The wall clock (CLOCK_REALTIME), the clock file times are set from, in nanoseconds. */
int64_t statid_now(void);

#endif
