/*
 * fts.c - the full-text side of a hybrid index (fts.h).
 *
 * One sqlite database per segment, holding one FTS5 table:
 *     CREATE VIRTUAL TABLE fts USING fts5(text, tokenize = 'unicode61')
 * whose rowid is the segment's row number + 1. Nothing else is stored.
 *
 * Writing: the database is built in a temp file beside `path` (no journal,
 * no syncs while building: the temp file is thrown away on any failure),
 * all rows in one transaction, then merged into one b-tree ('optimize'),
 * then the file is fsynced and renamed over `path`, and the directory
 * fsynced. The same rows give the same bytes, so the file may be named by
 * its content.
 *
 * Reading: the file is immutable, so it is opened read-only with sqlite's
 * "immutable" flag (no locks, no journal lookups, nothing written beside
 * it, even in a read-only directory). A hostile file can make sqlite fail
 * (SQLITE_CORRUPT, reported), and a rowid outside the segment is refused.
 * The query text is never handed to FTS5's query syntax: it is cut into
 * words (letters, digits and any non-ASCII byte), each quoted, joined by OR,
 * so "C++ (draft)" cannot be a syntax error and BM25 rewards rows holding
 * more of the words.
 */
#include "index/fts.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/sqlitex.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sqlite3.h>

#define FTS_SETUP \
	"PRAGMA journal_mode = OFF;" \
	"PRAGMA synchronous = OFF;" \
	"PRAGMA temp_store = MEMORY;" \
	"CREATE VIRTUAL TABLE fts USING fts5(text, tokenize = 'unicode61');"

static int db_fail(sqlite3 *db, const char *what, const char *path, struct rp_err *err)
{
	return rp_err_set(err, RP_ERR_IO, "cannot %s full-text table '%s': %s", what, path,
			  sqlite3_errmsg(db));
}

static int fill(sqlite3 *db, const char *path, const char *const *texts, const size_t *lens,
		size_t n, struct rp_err *err)
{
	sqlite3_stmt *ins = NULL;
	int ret = -1;

	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO fts(rowid, text) VALUES (?1, ?2)", -1, &ins,
			       NULL) != SQLITE_OK) {
		db_fail(db, "write", path, err);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(ins, 1, (sqlite3_int64)i + 1);
		sqlite3_bind_text(ins, 2, texts[i], (int)lens[i], SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			db_fail(db, "write", path, err);
			goto out;
		}
		sqlite3_reset(ins);
	}
	if (sqlite3_exec(db, "INSERT INTO fts(fts) VALUES ('optimize'); COMMIT", NULL, NULL,
			 NULL) != SQLITE_OK) {
		db_fail(db, "write", path, err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(ins);
	return ret;
}

int fts_write(const char *path, const char *const *texts, const size_t *lens, size_t n,
	      struct rp_err *err)
{
	int fd = -1, ret = -1;
	char *tmp = fs_temp_beside(path, &fd, err);
	sqlite3 *db;

	if (!tmp)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (lens[i] > 0x7fffffff) {
			rp_err_set(err, RP_ERR_INPUT, "'%s': row %zu: text too long for the full-text table",
				   path, i);
			goto out;
		}
	db = sqlitex_open(tmp, "full-text table", FTS_SETUP, 10000, err);
	if (!db)
		goto out;
	if (fill(db, tmp, texts, lens, n, err) < 0) {
		sqlite3_close(db);
		goto out;
	}
	if (sqlite3_close(db) != SQLITE_OK) {
		rp_err_set(err, RP_ERR_IO, "cannot close full-text table '%s'", tmp);
		goto out;
	}
	if (fchmod(fd, 0644 & ~fs_umask()) < 0 || fsync(fd) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot chmod or fsync '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (rename(tmp, path) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path,
			   strerror(errno));
		goto out;
	}
	fs_temp_forget(tmp);
	fs_fsync_parent_quiet(path);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0) {
		unlink(tmp);
		fs_temp_forget(tmp);
	}
	free(tmp);
	return ret;
}

/* Appends the words of `q` to `m` as '"w1" OR "w2" ...'; returns how many. */
static size_t match_expr(const char *q, struct buf *m)
{
	size_t words = 0;
	const unsigned char *p = (const unsigned char *)q;

	while (*p) {
		if (!isalnum(*p) && *p < 0x80) {
			p++;
			continue;
		}
		if (words++)
			buf_adds(m, " OR ");
		buf_addch(m, '"');
		while (*p && (isalnum(*p) || *p >= 0x80))
			buf_addch(m, (char)*p++);
		buf_addch(m, '"');
	}
	return words;
}

int fts_open(struct fts **out, const char *path, struct rp_err *err)
{
	char *uri;
	sqlite3 *db = NULL;
	int rc;

	*out = NULL;
	uri = sqlite3_mprintf("file:%s?immutable=1", path);
	if (!uri)
		return rp_err_set(err, RP_ERR_IO, "out of memory");
	/* a path holding '?' or '#' would cut the URI: refuse rather than open another file */
	if (strpbrk(path, "?#%")) {
		sqlite3_free(uri);
		return rp_err_set(err, RP_ERR_INPUT, "full-text table '%s': unusable file name", path);
	}
	rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	sqlite3_free(uri);
	if (rc != SQLITE_OK) {
		rp_err_set(err, RP_ERR_IO, "cannot open full-text table '%s': %s", path,
			   db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	*out = (struct fts *)db;
	return 0;
}

void fts_close(struct fts *f)
{
	sqlite3_close((sqlite3 *)f);
}

int fts_search(struct fts *f, const char *path, const char *query, size_t rows,
	       const uint8_t *dead, size_t limit, struct fts_hit *hits, size_t *nhits,
	       struct rp_err *err)
{
	sqlite3 *db = (sqlite3 *)f;
	sqlite3_stmt *st = NULL;
	struct buf m = BUF_INIT;
	int rc = SQLITE_DONE, ret = -1;

	*nhits = 0;
	if (!match_expr(query, &m) || !limit)
		{
		buf_release(&m);
		return 0;
	}
	if (sqlite3_prepare_v2(db, "SELECT rowid, bm25(fts) FROM fts WHERE fts MATCH ?1 ORDER BY rank",
			       -1, &st, NULL) != SQLITE_OK) {
		db_fail(db, "read", path, err);
		goto out;
	}
	sqlite3_bind_text(st, 1, m.s, (int)m.len, SQLITE_STATIC);
	while (*nhits < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(st, 0);
		size_t r;

		if (id < 1 || (unsigned long long)id > rows) {
			rp_err_set(err, RP_ERR_INPUT,
				   "full-text table '%s': row %lld is not in its segment (%zu rows)",
				   path, (long long)id, rows);
			goto out;
		}
		r = (size_t)id - 1;
		if (dead && (dead[r >> 3] & (1u << (r & 7))))
			continue;
		hits[*nhits].row = r;
		hits[*nhits].score = -sqlite3_column_double(st, 1);
		(*nhits)++;
	}
	if (*nhits < limit && rc != SQLITE_DONE) {
		db_fail(db, "read", path, err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	buf_release(&m);
	return ret;
}
