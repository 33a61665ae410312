/*
 * sqlitex.c - opening sqlite databases shared between processes (sqlitex.h).
 */
#include "util/sqlitex.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

sqlite3 *sqlitex_open(const char *path, const char *what, const char *setup, int timeout_ms,
		      struct rp_err *err)
{
	sqlite3 *db = NULL;
	long deadline = now_ms() + timeout_ms;
	unsigned seed = (unsigned)getpid();
	int rc;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		rp_err_set(err, RP_ERR_IO, "cannot open %s '%s': %s", what, path,
			   db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, timeout_ms);
	for (;;) {
		rc = sqlite3_exec(db, setup, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return db;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		if (now_ms() >= deadline)
			break;
		usleep(5000 + (unsigned)(rand_r(&seed) % 20000));
	}
	rp_err_set(err, RP_ERR_IO, "cannot open %s '%s': %s", what, path, sqlite3_errmsg(db));
	sqlite3_close(db);
	return NULL;
}
