/*
 * doccache.c - the parsed-YAML cache (format in doccache.h).
 */
#include "yaml/doccache.h"
#include "util/bin.h"
#include "util/fs.h"
#include "util/hash.h"

#include <stdlib.h>
#include <string.h>

#define MAGIC "rpydoc1\n"
#define MAGIC_LEN 8
#define HEX_LEN (HASH_HEX - 1)

struct doccache {
	char *dir;
};

struct doccache *doccache_open(const char *dir)
{
	struct doccache *c = xcalloc(1, sizeof(*c));

	c->dir = xstrdup(dir);
	return c;
}

void doccache_close(struct doccache *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c);
}

/* The entry's file for `path` in `c`; the caller frees. */
static char *entry_path(const struct doccache *c, const char *path)
{
	char hex[HASH_HEX];

	hash_buf(path, strlen(path), hex);
	return xasprintf("%s/%s", c->dir, hex);
}

/* The cached doc in `file` for `path` parsed from bytes whose sha256 is `src`, or NULL. */
static struct doc *get(const char *file, const char *path, const char src[HASH_HEX])
{
	struct { const char *s; size_t len; } b = { NULL, 0 };
	struct bin_reader r;
	struct doc *d = NULL;
	char check[HASH_HEX];
	char *name;

	if (!(b.s = fs_map(file, &b.len)) || b.len < MAGIC_LEN + 4 + 2 * HEX_LEN ||
	    memcmp(b.s, MAGIC, MAGIC_LEN))
		goto out;
	hash_buf(b.s, b.len - HEX_LEN, check);
	if (memcmp(b.s + b.len - HEX_LEN, check, HEX_LEN))
		goto out;
	r.p = (const unsigned char *)b.s + MAGIC_LEN;
	r.end = (const unsigned char *)b.s + b.len - HEX_LEN;
	r.bad = 0;
	name = bin_get_str(&r);
	if (r.bad || strcmp(name, path) || r.end - r.p < HEX_LEN) {
		free(name);
		goto out;
	}
	free(name);
	if (memcmp(r.p, src, HEX_LEN))
		goto out;
	r.p += HEX_LEN;
	d = doc_decode(path, &r);
	if (d && r.p != r.end) {
		doc_free(d);
		d = NULL;
	}
out:
	fs_unmap(b.s, b.len);
	return d;
}

/* Records `d`, parsed from bytes whose sha256 is `src`, in `file`. Failures are ignored. */
static void put(const struct doccache *c, const char *file, const char *path,
		const char src[HASH_HEX], const struct doc *d)
{
	struct buf b = BUF_INIT;
	struct rp_err err = { 0 };
	char check[HASH_HEX];

	buf_add(&b, MAGIC, MAGIC_LEN);
	bin_put_str(&b, path);
	buf_add(&b, src, HEX_LEN);
	doc_encode(d, &b);
	hash_buf(b.s, b.len, check);
	buf_add(&b, check, HEX_LEN);
	if (fs_mkdir_p(c->dir, 0777, &err) == 0)
		(void)fs_write_replace(file, b.s, b.len, &err);
	buf_release(&b);
}

struct doc *doccache_load(struct doccache *c, const char *path, const char *data, size_t len,
			  struct rp_err *err)
{
	char src[HASH_HEX];
	struct doc *d;
	char *file;

	if (!c)
		return doc_load_buf(path, data, len, err);
	file = entry_path(c, path);
	hash_buf(data, len, src);
	d = get(file, path, src);
	if (!d) {
		d = doc_load_buf(path, data, len, err);
		if (d)
			put(c, file, path, src, d);
	}
	free(file);
	return d;
}

struct doc *doccache_load_file(struct doccache *c, const char *path, struct rp_err *err)
{
	struct buf b = BUF_INIT;
	struct doc *d = NULL;

	if (doc_read_file(path, &b, err) == 0)
		d = doccache_load(c, path, b.s, b.len, err);
	buf_release(&b);
	return d;
}
