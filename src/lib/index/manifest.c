/*
 * manifest.c - reading, validating and writing MANIFEST.json, and the
 * logical digest (the format: manifest.h and rp-index(5)).
 *
 * The reader validates every field it returns (types, ranges, file names
 * tied to their hashes) so that index.c and update.c can trust a struct
 * manifest. Writing is canonical (sorted keys, compact) so that the same
 * index version always gives the same bytes.
 */
#include "index/manifest.h"
#include "util/fs.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void manifest_release(struct manifest *m)
{
	free(m->provider);
	free(m->model);
	free(m->distance);
	for (size_t i = 0; i < m->nseg; i++) {
		free(m->segs[i].file);
		free(m->segs[i].dead);
		free(m->segs[i].fts);
	}
	free(m->segs);
	for (size_t i = 0; i < m->ntomb; i++)
		free(m->tombs[i].file);
	free(m->tombs);
	memset(m, 0, sizeof(*m));
}

int manifest_name_ok(const char *name, const char *prefix, const char *sha256, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);

	return strlen(name) == pl + 16 + sl && !strncmp(name, prefix, pl) &&
	       !strncmp(name + pl, sha256, 16) && !strcmp(name + pl + 16, suffix);
}

/* ---- reading ------------------------------------------------------------------ */

struct mctx {
	const char *path;            /* DIR/MANIFEST.json, for messages */
	struct rp_err *err;
};

static int fail(struct mctx *c, const char *what, const char *field)
{
	return rp_err_set(c->err, RP_ERR_INPUT, "%s: %s '%s'; the index is damaged: rebuild it "
			  "with 'rp-index update --rebuild'", c->path, what, field);
}

static int get_str(struct mctx *c, json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || !json_string_length(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return fail(c, "missing or invalid field", key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int get_hex(struct mctx *c, json_t *o, const char *key, char out[HASH_HEX])
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || !hash_is_hex(json_string_value(v)))
		return fail(c, "missing or invalid digest", key);
	memcpy(out, json_string_value(v), HASH_HEX);
	return 0;
}

static int get_size(struct mctx *c, json_t *o, const char *key, unsigned long long max,
		    unsigned long long *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (unsigned long long)json_integer_value(v) > max)
		return fail(c, "missing or invalid number", key);
	*out = (unsigned long long)json_integer_value(v);
	return 0;
}

/* A file entry {"file": name, "sha256": hex} whose name must be prefix<16hex>suffix. */
static int get_file(struct mctx *c, json_t *o, const char *fkey, const char *hkey,
		    const char *prefix, const char *suffix, char **file, char sha[HASH_HEX])
{
	if (get_str(c, o, fkey, file) < 0 || get_hex(c, o, hkey, sha) < 0)
		return -1;
	if (!manifest_name_ok(*file, prefix, sha, suffix))
		return fail(c, "file name does not match its hash", *file);
	return 0;
}

static int read_seg(struct mctx *c, json_t *o, json_t *fts, struct manifest_seg *s)
{
	unsigned long long v;
	json_t *dead = json_object_get(o, "dead");

	if (!json_is_object(o))
		return fail(c, "a segment is not an object in", "segments");
	if (get_file(c, o, "file", "sha256", "seg-", ".rps", &s->file, s->sha256) < 0 ||
	    get_size(c, o, "rows", (unsigned long long)1 << 40, &v) < 0)
		return -1;
	s->rows = (size_t)v;
	if (get_size(c, o, "dead_rows", s->rows, &v) < 0)
		return -1;
	s->dead_rows = (size_t)v;
	if (dead && !json_is_null(dead)) {
		if (get_file(c, o, "dead", "dead_sha256", "del-", ".bin", &s->dead, s->dead_sha256) < 0)
			return -1;
	} else if (s->dead_rows) {
		return fail(c, "dead rows without a bitmap in", s->file);
	}
	if (fts && get_file(c, fts, "file", "sha256", "fts-", ".sqlite", &s->fts, s->fts_sha256) < 0)
		return -1;
	return 0;
}

static int read_lists(struct mctx *c, json_t *root, struct manifest *m)
{
	json_t *segs = json_object_get(root, "segments"), *tombs = json_object_get(root, "tombstones");
	json_t *fts = json_object_get(root, "fts");
	unsigned long long v;

	if (!json_is_array(segs) || !json_is_array(tombs))
		return fail(c, "missing or invalid list", !json_is_array(segs) ? "segments" : "tombstones");
	m->has_fts = fts && !json_is_null(fts);
	if (m->has_fts && (!json_is_array(fts) || json_array_size(fts) != json_array_size(segs)))
		return fail(c, "the fts list does not match", "segments");
	m->segs = xcalloc(json_array_size(segs) + 1, sizeof(*m->segs));
	m->segs_alloc = json_array_size(segs) + 1;
	for (size_t i = 0; i < json_array_size(segs); i++, m->nseg++)
		if (read_seg(c, json_array_get(segs, i), m->has_fts ? json_array_get(fts, i) : NULL,
			     &m->segs[i]) < 0)
			return -1;
	m->tombs = xcalloc(json_array_size(tombs) + 1, sizeof(*m->tombs));
	m->tombs_alloc = json_array_size(tombs) + 1;
	for (size_t i = 0; i < json_array_size(tombs); i++, m->ntomb++) {
		json_t *t = json_array_get(tombs, i);
		struct manifest_tomb *mt = &m->tombs[i];

		if (!json_is_object(t))
			return fail(c, "an entry is not an object in", "tombstones");
		if (get_file(c, t, "file", "sha256", "tomb-", ".jsonl", &mt->file, mt->sha256) < 0 ||
		    get_size(c, t, "count", (unsigned long long)1 << 40, &v) < 0)
			return -1;
		mt->count = (size_t)v;
	}
	return 0;
}

static int read_root(struct mctx *c, json_t *root, struct manifest *m)
{
	json_t *counts = json_object_get(root, "counts"), *fmt = json_object_get(root, "format");
	unsigned long long v;

	if (!json_is_object(root) || !json_is_string(fmt) || strcmp(json_string_value(fmt), MANIFEST_FORMAT))
		return fail(c, "not an rp index manifest: no", "format");
	if (get_size(c, root, "version", ~0ull >> 1, &v) < 0)
		return -1;
	if (v != MANIFEST_VERSION)
		return rp_err_set(c->err, RP_ERR_INPUT, "%s: index format version %llu, this rp reads "
				  "version %d only", c->path, v, MANIFEST_VERSION);
	if (get_str(c, root, "provider", &m->provider) < 0 || get_str(c, root, "model", &m->model) < 0 ||
	    get_str(c, root, "distance", &m->distance) < 0 || get_size(c, root, "dim", 65536, &v) < 0)
		return -1;
	m->dim = (unsigned)v;
	if (strcmp(m->distance, "cosine") && strcmp(m->distance, "ip"))
		return fail(c, "unknown distance in", "distance");
	if (get_size(c, root, "generation", ~0ull >> 1, &m->generation) < 0 ||
	    get_hex(c, root, "digest", m->digest) < 0 || read_lists(c, root, m) < 0)
		return -1;
	if (!json_is_object(counts))
		return fail(c, "missing or invalid field", "counts");
	if (get_size(c, counts, "chunks", ~0ull >> 1, &v) < 0)
		return -1;
	m->chunks = (size_t)v;
	if (get_size(c, counts, "documents", m->chunks, &v) < 0)
		return -1;
	m->documents = (size_t)v;
	if (get_size(c, counts, "tombstones", ~0ull >> 1, &v) < 0)
		return -1;
	m->tombstones = (size_t)v;
	if (m->nseg && !m->dim)
		return fail(c, "segments with dimension 0:", "dim");
	return 0;
}

int manifest_read(struct manifest *m, const char *dir, int allow_absent, struct rp_err *err)
{
	char *path = xasprintf("%s/%s", dir, "MANIFEST.json");
	struct mctx c = { path, err };
	struct buf text = BUF_INIT;
	json_error_t jerr;
	json_t *root = NULL;
	int ret = -1;

	memset(m, 0, sizeof(*m));
	if (buf_read_file(&text, path) < 0) {
		if (errno == ENOENT && allow_absent)
			ret = 1;
		else if (errno == ENOENT)
			rp_err_set(err, RP_ERR_INPUT, "%s: no such file: '%s' is not an index (make one "
				   "with 'rp-index update')", path, dir);
		else
			rp_err_set(err, RP_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
		goto out;
	}
	root = json_loadb(text.s, text.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rp_err_set(err, RP_ERR_INPUT, "%s:%d:%d: %s; the index is damaged: rebuild it with "
			   "'rp-index update --rebuild'", path, jerr.line, jerr.column, jerr.text);
		goto out;
	}
	ret = read_root(&c, root, m);
out:
	json_decref(root);
	buf_release(&text);
	free(path);
	return ret;
}

/* ---- writing ------------------------------------------------------------------ */

static json_t *file_obj(const char *fkey, const char *file, const char *hkey, const char *sha)
{
	return json_pack("{s:s,s:s}", fkey, file, hkey, sha);
}

void manifest_encode(const struct manifest *m, struct buf *out)
{
	json_t *segs = json_array(), *tombs = json_array(), *fts = m->has_fts ? json_array() : json_null();
	json_t *root;
	char *text;

	for (size_t i = 0; i < m->nseg; i++) {
		const struct manifest_seg *s = &m->segs[i];
		json_t *o = file_obj("file", s->file, "sha256", s->sha256);

		json_object_set_new(o, "rows", json_integer((json_int_t)s->rows));
		json_object_set_new(o, "dead", s->dead ? json_string(s->dead) : json_null());
		json_object_set_new(o, "dead_sha256", s->dead ? json_string(s->dead_sha256) : json_null());
		json_object_set_new(o, "dead_rows", json_integer((json_int_t)s->dead_rows));
		json_array_append_new(segs, o);
		if (m->has_fts)
			json_array_append_new(fts, file_obj("file", s->fts, "sha256", s->fts_sha256));
	}
	for (size_t i = 0; i < m->ntomb; i++) {
		json_t *o = file_obj("file", m->tombs[i].file, "sha256", m->tombs[i].sha256);

		json_object_set_new(o, "count", json_integer((json_int_t)m->tombs[i].count));
		json_array_append_new(tombs, o);
	}
	root = json_pack("{s:s,s:i,s:s,s:s,s:i,s:s,s:I,s:s,s:o,s:o,s:o,s:{s:I,s:I,s:I}}",
			 "format", MANIFEST_FORMAT, "version", MANIFEST_VERSION,
			 "provider", m->provider, "model", m->model, "dim", (int)m->dim,
			 "distance", m->distance, "generation", (json_int_t)m->generation,
			 "digest", m->digest, "segments", segs, "tombstones", tombs, "fts", fts,
			 "counts", "chunks", (json_int_t)m->chunks, "documents", (json_int_t)m->documents,
			 "tombstones", (json_int_t)m->tombstones);
	if (!root)
		BUG("cannot build the manifest");
	text = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT);
	if (!text)
		BUG("cannot dump the manifest");
	buf_adds(out, text);
	buf_addch(out, '\n');
	free(text);
	json_decref(root);
}

/* ---- the logical digest ----------------------------------------------------------- */

int manifest_id_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int cmp_row(const void *a, const void *b)
{
	const struct digest_row *x = a, *y = b;

	return manifest_id_cmp(x->chunk_id, x->chunk_id_len, y->chunk_id, y->chunk_id_len);
}

void digest_rows_sort(struct digest_row *rows, size_t n)
{
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_row);
}

void manifest_digest(const struct digest_row *rows, size_t n, const char *provider,
		     const char *model, unsigned dim, char out[HASH_HEX])
{
	struct hash_ctx *h = hash_begin();
	char *space = xasprintf("%s:%s@%u", provider, model, dim);
	size_t slen = strlen(space);

	for (size_t i = 0; i < n; i++) {
		hash_update(h, rows[i].chunk_id, rows[i].chunk_id_len);
		hash_update(h, "\t", 1);
		hash_update(h, rows[i].content_hash, 64);
		hash_update(h, "\t", 1);
		hash_update(h, space, slen);
		hash_update(h, "\n", 1);
	}
	hash_final(h, out);
	free(space);
}
