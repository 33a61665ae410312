/*
 * state.c - .rp/state.db, the cache of file hashes keyed by stat identity.
 *
 * On disk, one sqlite table (WAL mode, 5 s busy timeout, so several rp
 * processes may share it):
 *     state(path TEXT PRIMARY KEY, dev INTEGER, ino INTEGER,
 *           mtime_ns INTEGER, size INTEGER, hash TEXT)
 * mtime_ns is st_mtim.tv_sec * 1e9 + tv_nsec; hash is 64 lowercase hex.
 *
 * state_open() reads the whole table with one SELECT into an in-memory
 * array of entries indexed by path with util/hmap; lookups never touch
 * sqlite. state_put() changes the table and
 * marks the entry dirty; state_save() writes the dirty rows with one prepared
 * INSERT OR REPLACE inside one BEGIN IMMEDIATE..COMMIT. state_clear() empties
 * the table and makes the next state_save() delete every row first.
 *
 * Racy entries (the "racy git" problem, util/statid.h): a file rewritten
 * right after it was hashed, within the timestamp granularity, may keep its
 * mtime and size while its bytes change. So an entry is racy when
 *     mtime_ns + STATID_RACY_NS >= time of the put        (10 ms)
 * A racy entry is never returned by state_get() and never written to the
 * database; the file is simply hashed again next time, by which point its
 * mtime is old enough to be trusted. Rows loaded from the database were not
 * racy when written, so they are trusted. (File systems with timestamps
 * coarser than 10 ms, such as FAT, are not covered.)
 *
 * Invariant: every stored (dev, ino, mtime_ns, size) -> hash pair was true at
 * some point at least STATID_RACY_NS after the file's last modification.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "store/state.h"
#include "util/sqlitex.h"
#include "util/fs.h"
#include "util/hmap.h"
#include "util/statid.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>

#define BUSY_TIMEOUT_MS 5000

struct entry {
	char *path;
	struct statid id;     /* ctime_ns unused (not stored) */
	char hex[HASH_HEX];
	uint32_t seen;        /* generation of the last confirmation (0: none) */
	unsigned dirty : 1;   /* changed since load/save */
	unsigned racy : 1;    /* not to be trusted nor saved */
};

struct state {
	sqlite3 *db;
	char *dbpath;
	struct entry *ents;   /* ents[0..n), in insertion order */
	size_t n, alloc;
	struct hmap idx;      /* path -> index into ents */
	int cleared;          /* next save deletes every row first */
	uint32_t gen;         /* current generation; 0 when not tracking */
};

/* The entry for `path`, inserted empty (path set, not dirty) if missing. */
static struct entry *lookup_or_insert(struct state *s, const char *path)
{
	size_t *v = hmap_get_str(&s->idx, path);
	struct entry *e;
	int found;

	if (v)
		return &s->ents[*v];
	ALLOC_GROW(s->ents, s->n + 1, s->alloc);
	e = &s->ents[s->n];
	memset(e, 0, sizeof(*e));
	e->path = xstrdup(path);
	*hmap_put(&s->idx, e->path, strlen(e->path), &found) = s->n++;
	return e;
}

/* The entry for `path`, or NULL. */
static struct entry *find(struct state *s, const char *path)
{
	size_t *v = hmap_get_str(&s->idx, path);

	return v ? &s->ents[*v] : NULL;
}

static void free_entries(struct state *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->ents[i].path);
	s->n = 0;
	hmap_clear(&s->idx);
}

static int db_fail(struct state *s, struct rp_err *err, const char *what)
{
	/* sqlite says "disk I/O error"; the OS error says why (disk full, file too large) */
	int e = s->db ? sqlite3_system_errno(s->db) : 0;

	return rp_err_set(err, RP_ERR_IO, "cannot %s state database '%s': %s%s%s%s",
			  what, s->dbpath, s->db ? sqlite3_errmsg(s->db) : "out of memory",
			  e ? " (" : "", e ? strerror(e) : "", e ? ")" : "");
}

static int load(struct state *s, struct rp_err *err)
{
	static const char *sql = "SELECT path, dev, ino, mtime_ns, size, hash FROM state";
	sqlite3_stmt *stmt = NULL;
	int rc;

	/*
	 * Size the table once: growing it by doubling touches (and page-faults)
	 * almost twice the memory, which was 10% of a no-op's system time.
	 */
	if (sqlite3_prepare_v2(s->db, "SELECT count(*) FROM state", -1, &stmt, NULL) == SQLITE_OK &&
	    sqlite3_step(stmt) == SQLITE_ROW) {
		sqlite3_int64 rows = sqlite3_column_int64(stmt, 0);

		if (rows > 0 && (uint64_t)rows < SIZE_MAX / 4 / sizeof(*s->ents)) {
			hmap_free(&s->idx);
			hmap_init(&s->idx, (size_t)rows);
			ALLOC_GROW(s->ents, (size_t)rows, s->alloc);
		}
	}
	sqlite3_finalize(stmt);
	stmt = NULL;
	if (sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return db_fail(s, err, "read");
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(stmt, 0);
		const char *hex = (const char *)sqlite3_column_text(stmt, 5);
		struct entry *e;

		if (!path || !hex || strlen(hex) != HASH_HEX - 1)
			continue;  /* a damaged row only costs a re-hash */
		e = lookup_or_insert(s, path);
		e->id.dev = sqlite3_column_int64(stmt, 1);
		e->id.ino = sqlite3_column_int64(stmt, 2);
		e->id.mtime_ns = sqlite3_column_int64(stmt, 3);
		e->id.size = sqlite3_column_int64(stmt, 4);
		memcpy(e->hex, hex, HASH_HEX);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return db_fail(s, err, "read");
	return 0;
}

struct state *state_open(const char *dbpath, struct rp_err *err)
{
	static const char *schema =
		"PRAGMA journal_mode=WAL;"
		"PRAGMA synchronous=NORMAL;"
		"CREATE TABLE IF NOT EXISTS state(path TEXT PRIMARY KEY, dev INTEGER,"
		" ino INTEGER, mtime_ns INTEGER, size INTEGER, hash TEXT);";
	struct state *s = xcalloc(1, sizeof(*s));

	hmap_init(&s->idx, 0);
	s->dbpath = xstrdup(dbpath);
	if (fs_mkdir_parent(dbpath, err) < 0)
		goto fail;
	s->db = sqlitex_open(dbpath, "state database", schema, BUSY_TIMEOUT_MS, err);
	if (!s->db)
		goto fail;
	if (load(s, err) < 0)
		goto fail;
	return s;
fail:
	state_close(s);
	return NULL;
}

/*
 * The hash recorded for `path` if `st` is the identity it was recorded with;
 * a racy entry counts only with `racy_ok` and a confirmation in the current
 * generation. A match confirms the path.
 */
static const char *lookup(struct state *s, const char *path, const struct stat *st, int racy_ok)
{
	struct statid now;
	struct entry *e;

	if (!s || !(e = find(s, path)))
		return NULL;
	if (!e->hex[0] || (e->racy && !(racy_ok && s->gen && e->seen == s->gen)))
		return NULL;
	statid_of(&now, st);
	if (!statid_same(&e->id, &now))
		return NULL;
	e->seen = s->gen;
	return e->hex;
}

const char *state_get(struct state *s, const char *path, const struct stat *st)
{
	return lookup(s, path, st, 0);
}

const char *state_get_current(struct state *s, const char *path, const struct stat *st)
{
	return lookup(s, path, st, 1);
}

void state_track(struct state *s)
{
	if (s && !s->gen)
		s->gen = 1;
}

void state_next_generation(struct state *s)
{
	if (!s || !s->gen || ++s->gen)
		return;
	/* wrapped: forget every confirmation so none looks current */
	for (size_t i = 0; i < s->n; i++)
		s->ents[i].seen = 0;
	s->gen = 1;
}

const char *state_get_seen(struct state *s, const char *path, int64_t *size)
{
	struct entry *e;

	if (!s || !s->gen || !(e = find(s, path)))
		return NULL;
	if (e->seen != s->gen || !e->hex[0])
		return NULL;
	*size = e->id.size;
	return e->hex;
}

void state_put(struct state *s, const char *path, const struct stat *st, const char *hex)
{
	struct entry *e;

	if (!s)
		return;
	if (strlen(hex) != HASH_HEX - 1)
		BUG("state_put: '%s' is not a sha256 hex digest", hex);
	e = lookup_or_insert(s, path);
	statid_of(&e->id, st);
	memcpy(e->hex, hex, HASH_HEX);
	e->racy = statid_racy(e->id.mtime_ns, statid_now());
	e->dirty = 1;
	e->seen = s->gen;
}

void state_clear(struct state *s)
{
	if (!s)
		return;
	free_entries(s);
	s->cleared = 1;
}

int state_save(struct state *s)
{
	static const char *sql = "INSERT OR REPLACE INTO state"
		"(path, dev, ino, mtime_ns, size, hash) VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *stmt = NULL;
	struct rp_err err;
	size_t i, ndirty = 0;
	int ret = -1;

	for (i = 0; i < s->n; i++)
		if (s->ents[i].dirty && !s->ents[i].racy)
			ndirty++;
	if (!ndirty && !s->cleared)
		return 0;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(s, &err, "lock");
		return rp_err_report(&err);
	}
	if (s->cleared && sqlite3_exec(s->db, "DELETE FROM state", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_prepare_v2(s->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < s->n; i++) {
		struct entry *e = &s->ents[i];

		if (!e->dirty || e->racy)
			continue;
		sqlite3_bind_text(stmt, 1, e->path, -1, SQLITE_STATIC);
		sqlite3_bind_int64(stmt, 2, e->id.dev);
		sqlite3_bind_int64(stmt, 3, e->id.ino);
		sqlite3_bind_int64(stmt, 4, e->id.mtime_ns);
		sqlite3_bind_int64(stmt, 5, e->id.size);
		sqlite3_bind_text(stmt, 6, e->hex, -1, SQLITE_STATIC);
		if (sqlite3_step(stmt) != SQLITE_DONE)
			goto out;
		sqlite3_reset(stmt);
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto out;
	for (i = 0; i < s->n; i++)
		if (!s->ents[i].racy)
			s->ents[i].dirty = 0;
	s->cleared = 0;
	ret = 0;
out:
	if (ret < 0) {
		db_fail(s, &err, "write");
		sqlite3_finalize(stmt);
		stmt = NULL;
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return rp_err_report(&err);
	}
	sqlite3_finalize(stmt);
	return ret;
}

void state_close(struct state *s)
{
	if (!s)
		return;
	free_entries(s);
	free(s->ents);
	hmap_free(&s->idx);
	sqlite3_close(s->db);
	free(s->dbpath);
	free(s);
}
