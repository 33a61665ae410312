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
 * words (letters, digits and any non-ASCII byte; fts_words), each quoted,
 * joined by OR, so "C++ (draft)" cannot be a syntax error and BM25 rewards
 * rows holding more of the words. The search asks sqlite for the best
 * limit + (dead rows) rows only (its top-N sorter), skipping the dead ones.
 * A temp fts5vocab table answers a word's document count (fts_doc_freq),
 * so that a caller can leave out words too common to rank anything.
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

struct fts {
	sqlite3 *db;
	sqlite3_stmt *df;        /* a term's document count (fts5vocab), or NULL */
};

size_t fts_words(const char *query, char ***words)
{
	const unsigned char *p = (const unsigned char *)query;
	size_t n = 0, alloc = 0;

	*words = NULL;
	while (*p) {
		const unsigned char *w = p;
		char *word;

		if (!isalnum(*p) && *p < 0x80) {
			p++;
			continue;
		}
		while (*p && (isalnum(*p) || *p >= 0x80))
			p++;
		word = xstrndup((const char *)w, (size_t)(p - w));
		for (char *c = word; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		ALLOC_GROW(*words, n + 1, alloc);
		(*words)[n++] = word;
	}
	return n;
}

int fts_open(struct fts **out, const char *path, struct rp_err *err)
{
	char *uri;
	sqlite3 *db = NULL;
	int rc;

	*out = NULL;
	/* a path holding '?' or '#' would cut the URI: refuse rather than open another file */
	if (strpbrk(path, "?#%"))
		return rp_err_set(err, RP_ERR_INPUT, "full-text table '%s': unusable file name", path);
	uri = sqlite3_mprintf("file:%s?immutable=1", path);
	if (!uri)
		return rp_err_set(err, RP_ERR_IO, "out of memory");
	rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
	sqlite3_free(uri);
	if (rc != SQLITE_OK) {
		rp_err_set(err, RP_ERR_IO, "cannot open full-text table '%s': %s", path,
			   db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return -1;
	}
	*out = xcalloc(1, sizeof(**out));
	(*out)->db = db;
	/* document counts of terms: an optimisation, so its failure is no error */
	if (sqlite3_exec(db, "CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, fts, row)", NULL,
			 NULL, NULL) == SQLITE_OK)
		sqlite3_prepare_v2(db, "SELECT doc FROM temp.vocab WHERE term = ?1", -1, &(*out)->df, NULL);
	return 0;
}

void fts_close(struct fts *f)
{
	if (!f)
		return;
	sqlite3_finalize(f->df);
	sqlite3_close(f->db);
	free(f);
}

int fts_doc_freq(struct fts *f, const char *word, long long *df)
{
	int rc;

	*df = 0;
	if (!f->df)
		return -1;
	sqlite3_reset(f->df);
	sqlite3_bind_text(f->df, 1, word, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(f->df);
	if (rc == SQLITE_ROW)
		*df = sqlite3_column_int64(f->df, 0);
	sqlite3_reset(f->df);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Dead bits set in the first `rows` bits of `dead`. */
static size_t count_dead(const uint8_t *dead, size_t rows)
{
	size_t n = 0;

	for (size_t r = 0; dead && r < rows; r++)
		n += (dead[r >> 3] >> (r & 7)) & 1;
	return n;
}

int fts_search(struct fts *f, const char *path, const char *const *words, size_t nwords,
	       size_t rows, const uint8_t *dead, size_t limit, struct fts_hit *hits, size_t *nhits,
	       struct rp_err *err)
{
	sqlite3_stmt *st = NULL;
	struct buf m = BUF_INIT;
	int rc = SQLITE_DONE, ret = -1;

	*nhits = 0;
	if (!nwords || !limit)
		return 0;
	for (size_t i = 0; i < nwords; i++) {
		buf_adds(&m, i ? " OR \"" : "\"");
		buf_adds(&m, words[i]);   /* words hold no '"': fts_words() cut at it */
		buf_addch(&m, '"');
	}
	/* the best limit live rows are among the best limit + dead rows */
	if (sqlite3_prepare_v2(f->db, "SELECT rowid, bm25(fts) FROM fts WHERE fts MATCH ?1 "
			       "ORDER BY rank LIMIT ?2", -1, &st, NULL) != SQLITE_OK) {
		db_fail(f->db, "read", path, err);
		goto out;
	}
	sqlite3_bind_text(st, 1, m.s, (int)m.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)(limit + count_dead(dead, rows)));
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
		db_fail(f->db, "read", path, err);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	buf_release(&m);
	return ret;
}
