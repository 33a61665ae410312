/*
 * runcache.c - the run-cache: for each stage key that ran, the outs it made
 * (the text of lock_outs_to_json()), so a key seen before is restored from
 * the store instead of run again.
 *
 * Entries are rows of one sqlite table in <store>/runs.db
 *     runs(key TEXT PRIMARY KEY, outs TEXT NOT NULL) WITHOUT ROWID
 * in WAL mode with a busy timeout, so workspaces that share a store share
 * their run-cache. They used to be files runs/<2 hex>/<62 hex>: one new file
 * (and, early on, one new directory) per stage run, which on a first run of a
 * long pipeline cost as much as the stage itself. Such files are still read
 * when a key has no row, and rp gc still sweeps them.
 *
 * A row is a cache entry, not a record: it is committed without fsync and a
 * crash may lose the newest ones, which only means running those stages
 * again. The database is opened on first use.
 */
#include "store/store.h"
#include "util/buf.h"
#include "util/sqlitex.h"
#include "util/strv.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BUSY_TIMEOUT_MS 5000

/* The database, opened now if needed; NULL + err. */
static sqlite3 *db(struct store *st, struct rp_err *err)
{
	static const char *setup =
		"PRAGMA journal_mode=WAL;"
		"PRAGMA synchronous=NORMAL;"
		"CREATE TABLE IF NOT EXISTS runs(key TEXT PRIMARY KEY, outs TEXT NOT NULL)"
		" WITHOUT ROWID;";
	char *path;

	if (st->runs_db)
		return st->runs_db;
	path = xasprintf("%s/runs.db", st->root);
	st->runs_db = sqlitex_open(path, "run-cache database", setup, BUSY_TIMEOUT_MS, err);
	free(path);
	return st->runs_db;
}

static int db_fail(struct store *st, const char *what, struct rp_err *err)
{
	return rp_err_set(err, RP_ERR_IO, "cannot %s the run-cache '%s/runs.db': %s", what,
			  st->root, sqlite3_errmsg(st->runs_db));
}

int store_run_put(struct store *st, const char *key, const char *text, struct rp_err *err)
{
	sqlite3_stmt *stmt = NULL;
	sqlite3 *d;
	int rc;

	if (!hash_is_hex(key))
		return rp_err_set(err, RP_ERR_IO, "run-cache key '%s' is not a sha256 hex digest", key);
	if (!(d = db(st, err)))
		return -1;
	if (sqlite3_prepare_v2(d, "INSERT OR REPLACE INTO runs(key, outs) VALUES (?, ?)", -1,
			       &stmt, NULL) != SQLITE_OK)
		return db_fail(st, "write", err);
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : db_fail(st, "write", err);
}

/* An entry in the old layout, a file runs/<2>/<62>; NULL if none. */
static char *legacy_get(struct store *st, const char *key)
{
	struct buf b = BUF_INIT;
	char *path;

	/* asked once per store: most stores never had the old layout */
	if (!st->runs_legacy) {
		char *dir = xasprintf("%s/runs", st->root);

		st->runs_legacy = access(dir, F_OK) == 0 ? 1 : -1;
		free(dir);
	}
	if (st->runs_legacy < 0)
		return NULL;
	path = xasprintf("%s/runs/%.2s/%s", st->root, key, key + 2);

	if (buf_read_file(&b, path) < 0) {
		buf_release(&b);
		free(path);
		return NULL;
	}
	free(path);
	return buf_detach(&b);
}

char *store_run_get(struct store *st, const char *key)
{
	struct rp_err err = { 0 };
	sqlite3_stmt *stmt = NULL;
	char *text = NULL;
	sqlite3 *d;

	if (!hash_is_hex(key))
		return NULL;
	/* an unreadable run-cache is an empty one: the stage runs */
	if ((d = db(st, &err)) &&
	    sqlite3_prepare_v2(d, "SELECT outs FROM runs WHERE key = ?", -1, &stmt,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
			text = xstrdup((const char *)sqlite3_column_text(stmt, 0));
		sqlite3_finalize(stmt);
	}
	return text ? text : legacy_get(st, key);
}

int store_run_sweep(struct store *st, char **keep, size_t nkeep, int dry_run,
		    uint64_t *count, uint64_t *bytes,
		    void (*report)(const char *what, uint64_t size, void *ctx), void *ctx,
		    struct rp_err *err)
{
	sqlite3_stmt *list = NULL, *del = NULL;
	sqlite3 *d = db(st, err);
	int rc, ret = -1;

	if (!d)
		return -1;
	if (sqlite3_exec(d, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(st, "lock", err);
	if (sqlite3_prepare_v2(d, "SELECT key, length(outs) FROM runs", -1, &list, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(d, "DELETE FROM runs WHERE key = ?", -1, &del, NULL) != SQLITE_OK) {
		db_fail(st, "read", err);
		goto out;
	}
	while ((rc = sqlite3_step(list)) == SQLITE_ROW) {
		const char *key = (const char *)sqlite3_column_text(list, 0);
		uint64_t size = (uint64_t)sqlite3_column_int64(list, 1);

		if (!key || strv_has(keep, nkeep, key))
			continue;
		(*count)++;
		*bytes += size;
		if (report) {
			char *what = xasprintf("run-cache entry %s", key);

			report(what, size, ctx);
			free(what);
		}
		if (dry_run)
			continue;
		sqlite3_bind_text(del, 1, key, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(del) != SQLITE_DONE) {
			db_fail(st, "delete from", err);
			goto out;
		}
		sqlite3_reset(del);
	}
	if (rc != SQLITE_DONE) {
		db_fail(st, "read", err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(list);
	sqlite3_finalize(del);
	if (sqlite3_exec(d, ret ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL) != SQLITE_OK && !ret)
		ret = db_fail(st, "commit", err);
	return ret;
}

void store_run_close(struct store *st)
{
	sqlite3_close(st->runs_db);
	st->runs_db = NULL;
}
