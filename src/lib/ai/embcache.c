/*
 * embcache.c - the embedding cache (see embcache.h).
 *
 * On disk, one sqlite database (WAL mode, synchronous=NORMAL, 10 s busy
 * timeout, so several processes and workspaces may share it):
 *     meta(name TEXT PRIMARY KEY, value TEXT)      -- ('schema', '1')
 *     embeddings(key BLOB PRIMARY KEY,             -- 32 bytes, embcache_key()
 *                provider TEXT NOT NULL,           -- e.g. 'local', 'openai'
 *                model TEXT NOT NULL,              -- the model that made it
 *                dims INTEGER NOT NULL,            -- number of floats
 *                vector BLOB NOT NULL)             -- dims little-endian float32
 *                WITHOUT ROWID
 * Nothing else is stored: no text, no chunk ids, no credentials.
 *
 * Lookups do not run one query per key: the wanted keys go into an
 * in-memory temp table in one transaction, and a single SELECT joins it with
 * embeddings, all inside one read transaction (one WAL snapshot). Writes are
 * one BEGIN IMMEDIATE..COMMIT per batch, so a crash or a concurrent writer
 * can never leave half a batch, and each committed vector survives the
 * failure of anything after it.
 *
 * The provider column holds the provider's name ("openai"); the server it
 * was asked of is only in the key (embcache_namespace()).
 *
 * Invariant: a row's vector has dims * 4 bytes and was returned, for exactly
 * the request its key describes, by the provider and model it names.
 */
#include "ai/embcache.h"
#include "util/sqlitex.h"
#include "util/fs.h"
#include "util/hash.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "embcache.c stores float32 blobs in host order and needs a little-endian host"
#endif

#define BUSY_TIMEOUT_MS 10000
#define SCHEMA "1"

struct embcache {
	sqlite3 *db;
	char *path;
	sqlite3_stmt *put;
};

static void add_field(struct hash_ctx *h, const void *p, size_t n)
{
	unsigned char len[8];

	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)n >> (8 * i));
	hash_update(h, len, 8);
	hash_update(h, p, n);
}

void embcache_key(const char *provider, const char *model, unsigned dims, const char *input_type,
		  const char *text, size_t len, unsigned char key[EMBCACHE_KEY])
{
	struct hash_ctx *h = hash_begin();
	char hex[HASH_HEX], d[16];

	add_field(h, "rp-embed-key-v1", 15);
	add_field(h, provider, strlen(provider));
	add_field(h, model, strlen(model));
	snprintf(d, sizeof(d), "%u", dims);
	add_field(h, d, strlen(d));
	input_type = input_type ? input_type : "";
	add_field(h, input_type, strlen(input_type));
	add_field(h, text, len);
	hash_final(h, hex);
	for (int i = 0; i < EMBCACHE_KEY; i++) {
		unsigned hi = hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10;
		unsigned lo = hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10;

		key[i] = (unsigned char)(hi << 4 | lo);
	}
}

char *embcache_namespace(const char *provider, const char *base_url)
{
	const char *host = base_url ? strstr(base_url, "://") : NULL;
	size_t len, i, path;
	char *url, *ns;

	if (!strcmp(provider, "local") || !base_url)
		return xstrdup(provider);
	url = xstrdup(base_url);
	len = strlen(url);
	while (len && url[len - 1] == '/')
		url[--len] = '\0';
	/* scheme and host are case-insensitive; the path is not */
	path = host ? (size_t)(host - base_url) + 3 : 0;
	path += strcspn(url + path, "/");
	for (i = 0; i < path && i < len; i++)
		if (url[i] >= 'A' && url[i] <= 'Z')
			url[i] = (char)(url[i] - 'A' + 'a');
	if (!strcmp(provider, "openai") && !strcmp(url, "https://api.openai.com/v1"))
		ns = xstrdup(provider);
	else
		ns = xasprintf("%s@%s", provider, url);
	free(url);
	return ns;
}

static int db_fail(struct embcache *c, struct rp_err *err, const char *what)
{
	return rp_err_set(err, RP_ERR_IO, "embedding cache '%s': cannot %s: %s", c->path, what,
			  c->db ? sqlite3_errmsg(c->db) : "out of memory");
}

void embcache_close(struct embcache *c)
{
	if (!c)
		return;
	sqlite3_finalize(c->put);
	sqlite3_close(c->db);
	free(c->path);
	free(c);
}

struct embcache *embcache_open(const char *path, struct rp_err *err)
{
	static const char *pragmas =
		"PRAGMA page_size=16384;"
		"PRAGMA journal_mode=WAL;"
		"PRAGMA synchronous=NORMAL;"
		"PRAGMA temp_store=MEMORY;"
		"PRAGMA cache_size=-65536;"
		"PRAGMA mmap_size=1073741824;";
	static const char *schema =
		"BEGIN IMMEDIATE;"
		"CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT);"
		"INSERT OR IGNORE INTO meta VALUES('schema', '" SCHEMA "');"
		"CREATE TABLE IF NOT EXISTS embeddings(key BLOB PRIMARY KEY, provider TEXT NOT NULL,"
		" model TEXT NOT NULL, dims INTEGER NOT NULL, vector BLOB NOT NULL) WITHOUT ROWID;"
		"COMMIT;";
	struct embcache *c = xcalloc(1, sizeof(*c));
	sqlite3_stmt *st = NULL;
	int rc;

	c->path = xstrdup(path);
	if (fs_mkdir_parent(path, err) < 0)
		goto fail;
	c->db = sqlitex_open(path, "embedding cache", pragmas, BUSY_TIMEOUT_MS, err);
	if (!c->db)
		goto fail;
	if (sqlite3_exec(c->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(c, err, "create its tables");
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		goto fail;
	}
	if (sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE name = 'schema'", -1, &st,
			       NULL) != SQLITE_OK) {
		db_fail(c, err, "read its schema version");
		goto fail;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), SCHEMA)) {
		rp_err_set(err, RP_ERR_IO, "embedding cache '%s' has schema version '%s', this rp-embed "
			   "reads version " SCHEMA "; use another --cache PATH or a matching rp",
			   path, rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "?");
		sqlite3_finalize(st);
		goto fail;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(c->db, "INSERT INTO embeddings(key, provider, model, dims, vector)"
			       " VALUES(?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING", -1, &c->put,
			       NULL) != SQLITE_OK) {
		db_fail(c, err, "prepare an insert");
		goto fail;
	}
	return c;
fail:
	embcache_close(c);
	return NULL;
}

int embcache_lookup(struct embcache *c, const unsigned char (*keys)[EMBCACHE_KEY], size_t n,
		    embcache_hit_fn fn, void *ctx, struct rp_err *err)
{
	sqlite3_stmt *ins = NULL, *sel = NULL;
	float *vec = NULL;
	size_t vecalloc = 0;
	int rc, ret = -1;

	if (!n)
		return 0;
	if (sqlite3_exec(c->db, "CREATE TEMP TABLE IF NOT EXISTS want(key BLOB PRIMARY KEY, i INTEGER)"
			 " WITHOUT ROWID; DELETE FROM temp.want; BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(c, err, "start a lookup");
		return -1;
	}
	if (sqlite3_prepare_v2(c->db, "INSERT OR IGNORE INTO temp.want(key, i) VALUES(?, ?)", -1, &ins,
			       NULL) != SQLITE_OK) {
		db_fail(c, err, "prepare a lookup");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_blob(ins, 1, keys[i], EMBCACHE_KEY, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, (sqlite3_int64)i);
		if (sqlite3_step(ins) != SQLITE_DONE) {
			db_fail(c, err, "stage keys for a lookup");
			goto out;
		}
		sqlite3_reset(ins);
	}
	if (sqlite3_prepare_v2(c->db, "SELECT w.i, e.provider, e.model, e.dims, e.vector"
			       " FROM temp.want AS w CROSS JOIN main.embeddings AS e ON e.key = w.key",
			       -1, &sel, NULL) != SQLITE_OK) {
		db_fail(c, err, "prepare a lookup");
		goto out;
	}
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		size_t i = (size_t)sqlite3_column_int64(sel, 0);
		const char *provider = (const char *)sqlite3_column_text(sel, 1);
		const char *model = (const char *)sqlite3_column_text(sel, 2);
		sqlite3_int64 dims = sqlite3_column_int64(sel, 3);
		const void *blob = sqlite3_column_blob(sel, 4);
		size_t bytes = (size_t)sqlite3_column_bytes(sel, 4);
		int bad = 0;

		if (i >= n || !provider || !model || dims <= 0 || dims > 65536 ||
		    bytes != (size_t)dims * sizeof(float))
			continue;
		if (vecalloc < (size_t)dims) {
			vecalloc = (size_t)dims;
			vec = xrealloc(vec, vecalloc * sizeof(float));
		}
		memcpy(vec, blob, bytes);
		for (sqlite3_int64 k = 0; k < dims && !bad; k++)
			bad = !isfinite(vec[k]);
		if (bad)
			continue;
		if (fn(ctx, i, provider, model, (unsigned)dims, vec) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		db_fail(c, err, "read");
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	sqlite3_exec(c->db, "DELETE FROM temp.want", NULL, NULL, NULL);
	free(vec);
	return ret;
}

int embcache_put(struct embcache *c, const unsigned char (*keys)[EMBCACHE_KEY], size_t n,
		 const char *provider, const char *model, unsigned dim, const float *vecs,
		 struct rp_err *err)
{
	if (!n)
		return 0;
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(c, err, "start a write");
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_blob(c->put, 1, keys[i], EMBCACHE_KEY, SQLITE_STATIC);
		sqlite3_bind_text(c->put, 2, provider, -1, SQLITE_STATIC);
		sqlite3_bind_text(c->put, 3, model, -1, SQLITE_STATIC);
		sqlite3_bind_int64(c->put, 4, dim);
		sqlite3_bind_blob(c->put, 5, vecs + i * (size_t)dim, (int)(dim * sizeof(float)),
				  SQLITE_STATIC);
		if (sqlite3_step(c->put) != SQLITE_DONE) {
			db_fail(c, err, "write");
			sqlite3_reset(c->put);
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		sqlite3_reset(c->put);
	}
	if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		db_fail(c, err, "commit");
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}
