/*
 * llmcache.c - the LLM-context cache (llmcache.h): one sqlite table, two
 * prepared statements; each put is its own (autocommit) transaction, so a
 * failed run keeps every context it paid for.
 */
#include "ai/llmcache.h"
#include "util/fs.h"
#include "util/sqlitex.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct llmcache {
	sqlite3 *db;
	sqlite3_stmt *get, *put;
};

static void hash_field(struct hash_ctx *h, const char *s, size_t len)
{
	char n[32];
	int k = snprintf(n, sizeof(n), "%zu:", len);

	hash_update(h, n, k);
	hash_update(h, s, len);
}

void llmcache_key(const char *method, const char *model, const char *version, const char *doc_sha256,
		  const char *chunk, size_t clen, char hex[HASH_HEX])
{
	struct hash_ctx *h = hash_begin();

	hash_field(h, method, strlen(method));
	hash_field(h, model, strlen(model));
	hash_field(h, version, strlen(version));
	hash_field(h, doc_sha256, strlen(doc_sha256));
	hash_field(h, chunk, clen);
	hash_final(h, hex);
}

struct llmcache *llmcache_open(const char *path, struct rp_err *err)
{
	static const char schema[] =
		"PRAGMA journal_mode=WAL;"
		"PRAGMA synchronous=NORMAL;"
		"CREATE TABLE IF NOT EXISTS context(key TEXT PRIMARY KEY, context TEXT NOT NULL,"
		" model TEXT NOT NULL, prompt_version TEXT NOT NULL,"
		" prompt_sha256 TEXT NOT NULL) WITHOUT ROWID;";
	struct llmcache *c;

	if (fs_mkdir_parent(path, err) < 0)
		return NULL;
	c = xcalloc(1, sizeof(*c));
	c->db = sqlitex_open(path, "context cache", schema, 10000, err);
	if (!c->db) {
		free(c);
		return NULL;
	}
	if (sqlite3_prepare_v2(c->db, "SELECT context, prompt_sha256 FROM context WHERE key = ?1", -1,
			       &c->get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "INSERT OR REPLACE INTO context VALUES (?1, ?2, ?3, ?4, ?5)", -1,
			       &c->put, NULL) != SQLITE_OK) {
		rp_err_set(err, RP_ERR_IO, "context cache '%s': %s", path, sqlite3_errmsg(c->db));
		llmcache_close(c);
		return NULL;
	}
	return c;
}

void llmcache_close(struct llmcache *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->get);
	sqlite3_finalize(c->put);
	sqlite3_close(c->db);
	free(c);
}

int llmcache_get(struct llmcache *c, const char *key, char **context, char **prompt_sha256,
		 struct rp_err *err)
{
	int rc;

	*context = *prompt_sha256 = NULL;
	sqlite3_bind_text(c->get, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(c->get);
	if (rc == SQLITE_ROW) {
		const char *stored = (const char *)sqlite3_column_text(c->get, 1);

		*context = xstrdup((const char *)sqlite3_column_text(c->get, 0));
		*prompt_sha256 = stored ? xstrdup(stored) : NULL;
	}
	sqlite3_reset(c->get);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return rp_err_set(err, RP_ERR_IO, "context cache: %s", sqlite3_errmsg(c->db));
	return rc == SQLITE_ROW;
}

int llmcache_put(struct llmcache *c, const char *key, const char *context, const char *model,
		 const char *version, const char *prompt_sha256, struct rp_err *err)
{
	int rc;

	sqlite3_bind_text(c->put, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(c->put, 2, context, -1, SQLITE_STATIC);
	sqlite3_bind_text(c->put, 3, model, -1, SQLITE_STATIC);
	sqlite3_bind_text(c->put, 4, version, -1, SQLITE_STATIC);
	sqlite3_bind_text(c->put, 5, prompt_sha256, -1, SQLITE_STATIC);
	rc = sqlite3_step(c->put);
	sqlite3_reset(c->put);
	sqlite3_clear_bindings(c->put);
	if (rc != SQLITE_DONE)
		return rp_err_set(err, RP_ERR_IO, "cannot store in the context cache: %s", sqlite3_errmsg(c->db));
	return 0;
}
