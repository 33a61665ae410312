/*
 * online.c - the online store's interface and its SQLite backend.
 *
 * ostore_open() picks the backend from the URL (redis:// is online_redis.c,
 * anything else a path to an SQLite file) and the public functions dispatch
 * through struct ostore_ops.
 *
 * SQLite layout (WAL, so readers never wait for a materialization):
 *   rp_online(entity TEXT, feature TEXT, status INTEGER, value TEXT,
 *             newest_ts INTEGER, newest_created INTEGER, as_of INTEGER,
 *             PRIMARY KEY (entity, feature)) WITHOUT ROWID
 *   rp_online_meta(name TEXT PRIMARY KEY, value INTEGER): "at", "known"
 *   (the watermark, only raised) and "defs" (a hash of the definitions)
 * FTIME_NONE is stored as INT64_MIN, so that it orders first. A batch is
 * one transaction of UPSERTs whose DO UPDATE has a WHERE comparing the row
 * values (as_of, newest_ts, newest_created): a write replaces a record only
 * when its version is greater, and a killed writer rolls the batch back.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sqlite3.h>
#include "features/online.h"
#include "util/sqlitex.h"

void orec_release(struct orec *r)
{
	free(r->value);
	memset(r, 0, sizeof(*r));
}

struct ostore_sqlite {
	struct ostore base;
	sqlite3 *db;
	sqlite3_stmt *put, *get;
};

#define SQ(s) ((struct ostore_sqlite *)(s))

static const char sq_setup[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS rp_online(entity TEXT NOT NULL, feature TEXT NOT NULL,"
	" status INTEGER NOT NULL, value TEXT NOT NULL, newest_ts INTEGER NOT NULL,"
	" newest_created INTEGER NOT NULL, as_of INTEGER NOT NULL,"
	" PRIMARY KEY (entity, feature)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS rp_online_meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);";

static const char sql_put[] =
	"INSERT INTO rp_online(entity, feature, status, value, newest_ts, newest_created, as_of)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
	" ON CONFLICT(entity, feature) DO UPDATE SET status = excluded.status,"
	" value = excluded.value, newest_ts = excluded.newest_ts,"
	" newest_created = excluded.newest_created, as_of = excluded.as_of"
	" WHERE (excluded.as_of, excluded.newest_ts, excluded.newest_created)"
	" > (rp_online.as_of, rp_online.newest_ts, rp_online.newest_created)";

static const char sql_get[] =
	"SELECT status, value, newest_ts, newest_created, as_of FROM rp_online"
	" WHERE entity = ?1 AND feature = ?2";

static int sq_fail(struct ostore *s, struct rp_err *err, const char *what)
{
	return rp_err_set(err, RP_ERR_IO, "online store '%s': cannot %s: %s", s->url, what,
			  sqlite3_errmsg(SQ(s)->db));
}

static void sq_free(struct ostore *s)
{
	sqlite3_finalize(SQ(s)->put);
	sqlite3_finalize(SQ(s)->get);
	sqlite3_close(SQ(s)->db);
}

static int sq_exec(struct ostore *s, const char *sql, struct rp_err *err)
{
	if (sqlite3_exec(SQ(s)->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(s, err, "update it");
	return 0;
}

static int sq_put(struct ostore *s, const struct owrite *w, size_t n, size_t *written,
		  struct rp_err *err)
{
	sqlite3_stmt *st = SQ(s)->put;
	size_t done = 0;

	if (sq_exec(s, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, w[i].key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, w[i].feature, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, (int)w[i].status);
		sqlite3_bind_text(st, 4, w[i].value ? w[i].value : "null", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, w[i].newest_ts);
		sqlite3_bind_int64(st, 6, w[i].newest_created);
		sqlite3_bind_int64(st, 7, w[i].as_of);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sq_fail(s, err, "write a record");
			sqlite3_reset(st);
			sqlite3_exec(SQ(s)->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		done += (size_t)sqlite3_changes(SQ(s)->db);
	}
	sqlite3_reset(st);
	if (sq_exec(s, "COMMIT", err) < 0) {
		sqlite3_exec(SQ(s)->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (written)
		*written += done;
	return 0;
}

static int sq_get(struct ostore *s, const char *const *keys, const char *const *features, size_t n,
		  struct orec *out, struct rp_err *err)
{
	sqlite3_stmt *st = SQ(s)->get;
	int ret = 0;

	/* one read transaction for the batch: one shared lock, not one per lookup */
	if (n > 1 && sq_exec(s, "BEGIN", err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int rc;

		memset(&out[i], 0, sizeof(out[i]));
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, keys[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, features[i], -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			out[i].found = 1;
			out[i].status = (enum fstatus)sqlite3_column_int(st, 0);
			out[i].value = xstrdup((const char *)sqlite3_column_text(st, 1));
			out[i].newest_ts = sqlite3_column_int64(st, 2);
			out[i].newest_created = sqlite3_column_int64(st, 3);
			out[i].as_of = sqlite3_column_int64(st, 4);
		} else if (rc != SQLITE_DONE) {
			ret = sq_fail(s, err, "read a record");
			break;
		}
	}
	sqlite3_reset(st);
	if (n > 1)
		sqlite3_exec(SQ(s)->db, "COMMIT", NULL, NULL, NULL);
	return ret;
}

static int sq_mark_get(struct ostore *s, struct omark *m, struct rp_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	m->at = m->known = FTIME_NONE;
	m->defs = 0;
	if (sqlite3_prepare_v2(SQ(s)->db, "SELECT name, value FROM rp_online_meta", -1, &st, NULL) !=
	    SQLITE_OK)
		return sq_fail(s, err, "read its watermark");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (name && !strcmp(name, "at"))
			m->at = sqlite3_column_int64(st, 1);
		else if (name && !strcmp(name, "known"))
			m->known = sqlite3_column_int64(st, 1);
		else if (name && !strcmp(name, "defs"))
			m->defs = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sq_fail(s, err, "read its watermark");
	return 0;
}

static int sq_mark_raise(struct ostore *s, const struct omark *m, struct rp_err *err)
{
	sqlite3_stmt *st = NULL;
	const char *names[3] = { "at", "known", "defs" };
	ftime_t vals[3] = { m->at, m->known, (ftime_t)m->defs };

	if (sqlite3_prepare_v2(SQ(s)->db,
			       "INSERT INTO rp_online_meta(name, value) VALUES (?1, ?2)"
			       " ON CONFLICT(name) DO UPDATE SET value = excluded.value"
			       " WHERE excluded.value > rp_online_meta.value OR name = 'defs'",
			       -1, &st, NULL) != SQLITE_OK)
		return sq_fail(s, err, "record its watermark");
	if (sq_exec(s, "BEGIN IMMEDIATE", err) < 0) {
		sqlite3_finalize(st);
		return -1;
	}
	for (int i = 0; i < 3; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, names[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, vals[i]);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sq_fail(s, err, "record its watermark");
			sqlite3_finalize(st);
			sqlite3_exec(SQ(s)->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	sqlite3_finalize(st);
	if (sq_exec(s, "COMMIT", err) < 0) {
		sqlite3_exec(SQ(s)->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static int sq_each(struct ostore *s, int (*fn)(const char *, const char *, void *), void *arg,
		   struct rp_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc, ret = 0;

	if (sqlite3_prepare_v2(SQ(s)->db, "SELECT entity, feature FROM rp_online", -1, &st, NULL) !=
	    SQLITE_OK)
		return sq_fail(s, err, "list its records");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = fn((const char *)sqlite3_column_text(st, 0),
			 (const char *)sqlite3_column_text(st, 1), arg);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = sq_fail(s, err, "list its records");
	sqlite3_finalize(st);
	return ret;
}

static const struct ostore_ops sq_ops = {
	sq_free, sq_put, sq_get, sq_mark_get, sq_mark_raise, sq_each,
};

static struct ostore *sqlite_open(const char *path, int create, struct rp_err *err)
{
	struct ostore_sqlite *q;
	struct stat sb;
	sqlite3 *db;

	if (!*path) {
		rp_err_set(err, RP_ERR_INPUT,
			   "empty online store: pass --online PATH.sqlite or redis://HOST:PORT[/DB]");
		return NULL;
	}
	if (!create && stat(path, &sb) < 0) {
		rp_err_set(err, RP_ERR_INPUT,
			   "online store '%s' does not exist: run 'rp-features materialize --online %s' first",
			   path, path);
		return NULL;
	}
	db = sqlitex_open(path, "online store", sq_setup, 10000, err);
	if (!db)
		return NULL;
	q = xcalloc(1, sizeof(*q));
	q->base.ops = &sq_ops;
	q->base.url = xstrdup(path);
	q->db = db;
	if (sqlite3_prepare_v2(db, sql_put, -1, &q->put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, sql_get, -1, &q->get, NULL) != SQLITE_OK) {
		rp_err_set(err, RP_ERR_IO,
			   "online store '%s' is not an rp-features store (%s): pass another path",
			   path, sqlite3_errmsg(db));
		ostore_free(&q->base);
		return NULL;
	}
	return &q->base;
}

struct ostore *ostore_open(const char *url, int create, struct rp_err *err)
{
	if (!strncmp(url, "redis://", 8))
		return ostore_redis_open(url, err);
	if (strstr(url, "://")) {
		rp_err_set(err, RP_ERR_INPUT,
			   "online store '%s': unknown scheme: pass a path to an SQLite file or redis://HOST:PORT[/DB]",
			   url);
		return NULL;
	}
	return sqlite_open(url, create, err);
}

void ostore_free(struct ostore *s)
{
	if (!s)
		return;
	s->ops->free(s);
	free(s->url);
	free(s);
}

int ostore_is_redis(const struct ostore *s)
{
	return s->redis;
}

int ostore_put(struct ostore *s, const struct owrite *w, size_t n, size_t *written,
	       struct rp_err *err)
{
	if (!n)
		return 0;
	return s->ops->put(s, w, n, written, err);
}

int ostore_get(struct ostore *s, const char *const *keys, const char *const *features, size_t n,
	       struct orec *out, struct rp_err *err)
{
	if (!n)
		return 0;
	return s->ops->get(s, keys, features, n, out, err);
}

int ostore_mark_get(struct ostore *s, struct omark *m, struct rp_err *err)
{
	return s->ops->mark_get(s, m, err);
}

int ostore_mark_raise(struct ostore *s, const struct omark *m, struct rp_err *err)
{
	return s->ops->mark_raise(s, m, err);
}

int ostore_each(struct ostore *s, int (*fn)(const char *key, const char *feature, void *arg),
		void *arg, struct rp_err *err)
{
	return s->ops->each(s, fn, arg, err);
}
