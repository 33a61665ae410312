/*
 * lock.h - rp.lock: what every stage last ran with and produced.
 *
 * The lock module is split by concern; this header includes them all for
 * the commands and core/ modules that use the lock as a whole:
 *   lock/model.h     the entries in memory (struct lock, find, set, remove)
 *   lock/format.h    the YAML text of rp.lock (parse, format; the format)
 *   lock/journal.h   .rp/lock.journal and run-cache entries (JSON)
 *   lock/file.h      rp.lock on disk (load with journal replay, atomic write)
 *   lock/locksnap.h  the binary image that lets a load skip the parse
 * Dependencies run one way: locksnap, format and journal use only the
 * model; file uses all of them.
 */
#ifndef RP_LOCK_H
#define RP_LOCK_H

#include "lock/model.h"
#include "lock/format.h"
#include "lock/journal.h"
#include "lock/file.h"

#endif
