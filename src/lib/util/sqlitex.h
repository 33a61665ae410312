/*
 * sqlitex.h - opening rp's sqlite databases (state, embedding and context
 * caches) so that several processes can open one at the same time.
 *
 * Switching a new database to WAL takes an exclusive lock, and sqlite may
 * answer SQLITE_BUSY for it without calling the busy handler; sqlitex_open()
 * therefore retries its setup SQL itself, with a short jittered sleep, until
 * the timeout.
 */
#ifndef RP_SQLITEX_H
#define RP_SQLITEX_H

#include <sqlite3.h>
#include "util/error.h"

/*
 * Opens (creating) the database at `path` with a busy timeout of
 * `timeout_ms`, then runs `setup` (PRAGMAs, CREATE TABLE IF NOT EXISTS ...),
 * retrying while the database is busy. Returns the handle (close with
 * sqlite3_close) or NULL with err filled ("cannot open WHAT 'path': ...").
 */
sqlite3 *sqlitex_open(const char *path, const char *what, const char *setup, int timeout_ms,
		      struct rp_err *err);

#endif
