/*
 * verify.c - rp-index verify: an index checked against itself, then against
 * the chunks it should hold (verify.h says what is checked).
 *
 * The index is read without index_open(), which refuses a damaged index as
 * a whole: verify wants to name every problem, so it reads MANIFEST.json
 * (manifest_read: a manifest it refuses is one issue, and the end of the
 * check) and then opens each segment on its own with segment_parse(). A file
 * that is missing or whose SHA-256 differs from the manifest's is reported
 * and not read further; a segment that cannot be read leaves its rows out,
 * and the digest and counts are then not compared (they would only repeat
 * the problem). Every row read is kept as a struct vrow (pointers into the
 * segment's mapping, which lives until the end), sorted by chunk_id; the
 * logical digest is recomputed from them by the writer's own function
 * (manifest_digest).
 *
 * Drift is found by one pass over the sorted rows with the source chunks in
 * a hash map, then one pass over the source for the chunks never seen.
 */
#include "index/verify.h"
#include "index/index.h"
#include "index/manifest.h"
#include "index/segment.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/hmap.h"
#include "util/jsonl.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const kind_names[VERIFY_NKINDS] = {
	[VERIFY_MANIFEST] = "manifest",
	[VERIFY_FILE_MISSING] = "missing-file",
	[VERIFY_FILE_CORRUPT] = "corrupt-file",
	[VERIFY_SEGMENT] = "bad-segment",
	[VERIFY_TOMBSTONES] = "bad-tombstones",
	[VERIFY_DUPLICATE] = "duplicate",
	[VERIFY_COUNTS] = "counts",
	[VERIFY_DIGEST] = "digest",
	[VERIFY_GHOST] = "ghost",
	[VERIFY_MISSING] = "missing",
	[VERIFY_STALE] = "stale",
	[VERIFY_WRONG_MODEL] = "wrong-model",
};

const char *verify_kind_name(enum verify_kind k)
{
	return k < VERIFY_NKINDS ? kind_names[k] : "?";
}

/* One live row as read from a segment; the strings point into its mapping. */
struct vrow {
	const char *id;
	size_t id_len;
	const char *doc;
	size_t doc_len;
	char hash[HASH_HEX];
	const char *model;       /* the segment's model, model_len bytes */
	size_t model_len;
	int wrong_model;         /* the segment's model is not the manifest's */
};

struct vmap {
	const char *data;
	size_t len;
};

struct vctx {
	const char *dir;
	struct verify_report *rep;
	struct manifest m;       /* read by manifest_read(); valid when have_manifest */
	int have_manifest;
	int all_read;            /* every segment and bitmap was read */
	int tombs_read;          /* every tombstone file was read */
	size_t tombstones;       /* lines of the tombstone files read */
	struct vrow *rows;
	size_t nrows, rows_alloc;
	struct vmap *maps;       /* segment and bitmap mappings, unmapped at the end */
	size_t nmaps, maps_alloc;
};

/* ---- the report ---------------------------------------------------------------- */

static char *dupn(const char *s, size_t len)
{
	return s ? xstrndup(s, len) : NULL;
}

/* Adds an issue; id/doc (of the given lengths) and file may be NULL. */
__attribute__((format(printf, 8, 9)))
static void add_issue(struct verify_report *rep, enum verify_kind kind, const char *id,
		      size_t id_len, const char *doc, size_t doc_len, const char *file,
		      const char *fmt, ...)
{
	struct verify_issue *is;
	va_list ap;

	ALLOC_GROW(rep->v, rep->n + 1, rep->alloc);
	is = &rep->v[rep->n++];
	is->kind = kind;
	is->chunk_id = dupn(id, id_len);
	is->doc_id = dupn(doc, doc_len);
	is->file = file ? xstrdup(file) : NULL;
	va_start(ap, fmt);
	is->detail = xvasprintf(fmt, ap);
	va_end(ap);
	rep->count[kind]++;
	if (kind >= VERIFY_FIRST_DRIFT)
		rep->drift++;
	else
		rep->integrity++;
}

void verify_report_release(struct verify_report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		free(rep->v[i].chunk_id);
		free(rep->v[i].doc_id);
		free(rep->v[i].file);
		free(rep->v[i].detail);
	}
	free(rep->v);
	memset(rep, 0, sizeof(*rep));
}

/* ---- the manifest and its files ------------------------------------------------ */

/*
 * Reads MANIFEST.json into ctx->m. 0 (a manifest manifest_read() refuses is
 * an issue, and have_manifest stays 0), or -1 + err when there is none or
 * the system fails.
 */
static int read_manifest(struct vctx *ctx, struct rp_err *err)
{
	struct rp_err merr = { 0 };
	int rc = manifest_read(&ctx->m, ctx->dir, 1, &merr);

	if (rc == 1)
		return rp_err_set(err, RP_ERR_INPUT, "%s/%s: no such file: '%s' is not an index (make "
				  "one with 'rp-index update')", ctx->dir, INDEX_MANIFEST, ctx->dir);
	if (rc < 0 && merr.kind != RP_ERR_INPUT)
		return *err = merr, -1;
	if (rc < 0) {
		add_issue(ctx->rep, VERIFY_MANIFEST, NULL, 0, NULL, 0, INDEX_MANIFEST, "%s", merr.msg);
		return 0;
	}
	ctx->have_manifest = 1;
	memcpy(ctx->rep->manifest_digest, ctx->m.digest, HASH_HEX);
	return 0;
}

/*
 * Checks one file the manifest names (manifest_read() checked its name):
 * its presence and its SHA-256. 1 when it can be read, 0 after adding the
 * issue, -1 + err when the system fails.
 */
static int check_file(struct vctx *ctx, const char *name, const char *sha, struct rp_err *err)
{
	char hex[HASH_HEX], *path = xasprintf("%s/%s", ctx->dir, name);
	struct stat st;
	int ret = 0;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			add_issue(ctx->rep, VERIFY_FILE_MISSING, NULL, 0, NULL, 0, name,
				  "the manifest names it, but it is not in the index");
		else
			ret = rp_err_set(err, RP_ERR_IO, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		add_issue(ctx->rep, VERIFY_FILE_CORRUPT, NULL, 0, NULL, 0, name, "not a regular file");
		goto out;
	}
	if (hash_file(path, hex, err) < 0) {
		ret = -1;
		goto out;
	}
	if (strcmp(hex, sha))
		add_issue(ctx->rep, VERIFY_FILE_CORRUPT, NULL, 0, NULL, 0, name,
			  "its sha256 is %.16s..., the manifest says %.16s...", hex, sha);
	else
		ret = 1;
out:
	free(path);
	return ret;
}

/* Maps `name` of the index, kept until the end; NULL + an issue when that fails. */
static const char *map_file(struct vctx *ctx, const char *name, size_t *len)
{
	char *path = xasprintf("%s/%s", ctx->dir, name);
	const char *data = fs_map(path, len);

	free(path);
	if (!data) {
		if (errno == 0)
			add_issue(ctx->rep, VERIFY_SEGMENT, NULL, 0, NULL, 0, name, "the file is empty");
		else
			add_issue(ctx->rep, VERIFY_SEGMENT, NULL, 0, NULL, 0, name, "cannot map it: %s",
				  strerror(errno));
		return NULL;
	}
	ALLOC_GROW(ctx->maps, ctx->nmaps + 1, ctx->maps_alloc);
	ctx->maps[ctx->nmaps].data = data;
	ctx->maps[ctx->nmaps++].len = *len;
	return data;
}

/* ---- segments ------------------------------------------------------------------ */

/*
 * Reads and checks the dead bitmap of segment `ms` of `rows` rows. The
 * bitmap with *ok = 1; NULL with *ok = 1 when no row is dead; NULL with
 * *ok = 0 after an issue, or -1 + err when the system fails.
 */
static const unsigned char *read_dead(struct vctx *ctx, const struct manifest_seg *ms,
				      size_t rows, int *ok, struct rp_err *err)
{
	const unsigned char *bits;
	size_t len, dead = 0;
	int rc;

	*ok = 1;
	if (!ms->dead)
		return NULL;
	if ((rc = check_file(ctx, ms->dead, ms->dead_sha256, err)) <= 0) {
		*ok = rc;
		return NULL;
	}
	*ok = 0;
	if (!(bits = (const unsigned char *)map_file(ctx, ms->dead, &len)))
		return NULL;
	if (len != (rows + 7) / 8) {
		add_issue(ctx->rep, VERIFY_SEGMENT, NULL, 0, NULL, 0, ms->dead, "%zu bytes, a bitmap "
			  "of %zu rows has %zu", len, rows, (rows + 7) / 8);
		return NULL;
	}
	for (size_t i = 0; i < len; i++)
		dead += (size_t)__builtin_popcount(bits[i]);
	if (rows % 8 && (bits[len - 1] >> (rows % 8))) {
		add_issue(ctx->rep, VERIFY_SEGMENT, NULL, 0, NULL, 0, ms->dead, "bits are set past "
			  "row %zu", rows);
		return NULL;
	}
	if (dead != ms->dead_rows)
		add_issue(ctx->rep, VERIFY_SEGMENT, NULL, 0, NULL, 0, ms->dead, "%zu rows are dead, "
			  "the manifest says %zu", dead, ms->dead_rows);
	*ok = 1;
	return bits;
}

/*
 * Appends the live rows of the parsed segment `s` (file `name`); 0, or -1
 * after an issue. Every row, dead or live, must sort after the one before
 * it by chunk_id (manifest_id_cmp), as the searcher and update assume; the
 * first that does not is an issue, and the rows are still taken.
 */
static int take_rows(struct vctx *ctx, const struct segment *s, const unsigned char *dead,
		     const char *name)
{
	int wrong = s->model_len != strlen(ctx->m.model) || memcmp(s->model, ctx->m.model, s->model_len);
	struct rp_err rerr = { 0 };
	struct seg_row prev = { 0 };
	int in_order = 1;

	for (size_t r = 0; r < s->rows; r++) {
		struct seg_row row;
		struct vrow *v;

		if (segment_row(s, r, &row, name, &rerr) < 0) {
			add_issue(ctx->rep, VERIFY_SEGMENT, NULL, 0, NULL, 0, name, "%s", rerr.msg);
			return -1;
		}
		if (r && in_order && manifest_id_cmp(prev.chunk_id, prev.chunk_id_len, row.chunk_id,
						     row.chunk_id_len) >= 0) {
			add_issue(ctx->rep, VERIFY_SEGMENT, NULL, 0, NULL, 0, name, "rows out of order at "
				  "row %zu: chunk_id '%.*s' does not sort after row %zu's '%.*s'", r,
				  (int)row.chunk_id_len, row.chunk_id, r - 1, (int)prev.chunk_id_len,
				  prev.chunk_id);
			in_order = 0;
		}
		prev = row;
		if (dead && (dead[r >> 3] & (1u << (r & 7))))
			continue;
		ALLOC_GROW(ctx->rows, ctx->nrows + 1, ctx->rows_alloc);
		v = &ctx->rows[ctx->nrows++];
		v->id = row.chunk_id;
		v->id_len = row.chunk_id_len;
		v->doc = row.doc_id;
		v->doc_len = row.doc_id_len;
		memcpy(v->hash, row.content_hash, HASH_HEX);
		v->model = s->model;
		v->model_len = s->model_len;
		v->wrong_model = wrong;
	}
	return 0;
}

/*
 * Checks segment `ms` (its file, structure, trailer, header against the
 * manifest, dead bitmap) and takes its live rows. 0 (problems are issues;
 * ctx->all_read is cleared when its rows could not be read), or -1 + err
 * when the system fails.
 */
static int check_segment(struct vctx *ctx, const struct manifest_seg *ms, struct rp_err *err)
{
	const char *name = ms->file, *prov = ctx->m.provider, *data;
	struct rp_err serr = { 0 };
	struct segment s;
	const unsigned char *dead;
	size_t len;
	int rc, dead_ok;

	if ((rc = check_file(ctx, name, ms->sha256, err)) <= 0) {
		ctx->all_read = 0;
		return rc;
	}
	if (!(data = map_file(ctx, name, &len)) || segment_parse(&s, data, len, name, &serr) < 0 ||
	    segment_check_trailer(&s, name, &serr) < 0) {
		if (data)
			add_issue(ctx->rep, VERIFY_SEGMENT, NULL, 0, NULL, 0, name, "%s", serr.msg);
		ctx->all_read = 0;
		return 0;
	}
	if (s.rows != ms->rows)
		add_issue(ctx->rep, VERIFY_SEGMENT, NULL, 0, NULL, 0, name, "it holds %zu rows, the "
			  "manifest says %zu", s.rows, ms->rows);
	if (s.dim != ctx->m.dim)
		add_issue(ctx->rep, VERIFY_SEGMENT, NULL, 0, NULL, 0, name, "its vectors have %u "
			  "dimensions, the manifest says %u", s.dim, ctx->m.dim);
	if (s.provider_len != strlen(prov) || memcmp(s.provider, prov, s.provider_len))
		add_issue(ctx->rep, VERIFY_SEGMENT, NULL, 0, NULL, 0, name, "provider '%.*s', the "
			  "manifest says '%s'", (int)s.provider_len, s.provider, prov);
	dead = read_dead(ctx, ms, s.rows, &dead_ok, err);
	if (dead_ok < 0)
		return -1;
	if (!dead_ok || take_rows(ctx, &s, dead, name) < 0)
		ctx->all_read = 0;
	if (ms->fts && check_file(ctx, ms->fts, ms->fts_sha256, err) < 0)
		return -1;
	return 0;
}

/* ---- tombstones ---------------------------------------------------------------- */

/* Counts the tombstones of file `mt` into ctx->tombstones; 0, or -1 + err. */
static int check_tomb_file(struct vctx *ctx, const struct manifest_tomb *mt, struct rp_err *err)
{
	struct jsonl_reader r;
	struct rp_err jerr = { 0 };
	json_t *o;
	size_t n = 0;
	char *path;
	int rc;

	if ((rc = check_file(ctx, mt->file, mt->sha256, err)) <= 0) {
		ctx->tombs_read = 0;
		return rc;
	}
	path = xasprintf("%s/%s", ctx->dir, mt->file);
	rc = jsonl_open(&r, path, &jerr);
	free(path);
	if (rc < 0)
		return *err = jerr, -1;
	while ((rc = jsonl_next(&r, &o, &jerr)) > 0) {
		if (!json_is_string(json_object_get(o, "chunk_id")) ||
		    !json_is_string(json_object_get(o, "doc_id")))
			rc = rp_err_set(&jerr, RP_ERR_INPUT, "line %zu lacks 'chunk_id' or 'doc_id'", r.line);
		json_decref(o);
		if (rc < 0)
			break;
		n++;
	}
	jsonl_close(&r);
	if (rc < 0) {
		add_issue(ctx->rep, VERIFY_TOMBSTONES, NULL, 0, NULL, 0, mt->file, "%s", jerr.msg);
		ctx->tombs_read = 0;
		return 0;
	}
	if (n != mt->count)
		add_issue(ctx->rep, VERIFY_TOMBSTONES, NULL, 0, NULL, 0, mt->file, "it holds %zu "
			  "tombstones, the manifest says %zu", n, mt->count);
	ctx->tombstones += n;
	return 0;
}

/* ---- rows: duplicates, digest, counts ------------------------------------------ */

/* qsort() order of rows: by chunk_id (the index's order), then content_hash. */
static int cmp_row(const void *a, const void *b)
{
	const struct vrow *x = a, *y = b;
	int c = manifest_id_cmp(x->id, x->id_len, y->id, y->id_len);

	return c ? c : strcmp(x->hash, y->hash);
}

static int same_id(const struct vrow *x, const struct vrow *y)
{
	return !manifest_id_cmp(x->id, x->id_len, y->id, y->id_len);
}

/* Sorts the rows, reports duplicates, computes the digest and counts the documents. */
static void check_rows(struct vctx *ctx)
{
	struct verify_report *rep = ctx->rep;
	struct digest_row *d = xcalloc(ctx->nrows + 1, sizeof(*d));
	struct hmap docs;

	if (ctx->nrows)	/* rows is NULL when no segment could be read */
		qsort(ctx->rows, ctx->nrows, sizeof(*ctx->rows), cmp_row);
	hmap_init(&docs, ctx->nrows);
	for (size_t i = 0; i < ctx->nrows; i++) {
		const struct vrow *v = &ctx->rows[i];
		int found;

		if (i && same_id(v, v - 1))
			add_issue(rep, VERIFY_DUPLICATE, v->id, v->id_len, v->doc, v->doc_len, NULL,
				  "the chunk is live in more than one row");
		d[i].chunk_id = v->id;
		d[i].chunk_id_len = v->id_len;
		d[i].content_hash = v->hash;
		hmap_put(&docs, v->doc, v->doc_len, &found);
	}
	manifest_digest(d, ctx->nrows, ctx->m.provider, ctx->m.model, ctx->m.dim,
			rep->digest);
	rep->chunks = ctx->nrows;
	rep->documents = docs.n;
	hmap_free(&docs);
	free(d);
}

/* Compares the manifest's counts and digest with what the rows gave. */
static void check_counts(struct vctx *ctx)
{
	struct verify_report *rep = ctx->rep;
	const struct manifest *m = &ctx->m;

	if (ctx->all_read) {
		rep->digest_known = 1;
		if (strcmp(rep->digest, m->digest))
			add_issue(rep, VERIFY_DIGEST, NULL, 0, NULL, 0, INDEX_MANIFEST, "the live rows "
				  "give %s, the manifest says %s", rep->digest, m->digest);
		if (m->chunks != rep->chunks || m->documents != rep->documents)
			add_issue(rep, VERIFY_COUNTS, NULL, 0, NULL, 0, INDEX_MANIFEST, "the live rows "
				  "are %zu chunks of %zu documents, the manifest says %zu of %zu",
				  rep->chunks, rep->documents, m->chunks, m->documents);
	}
	if (ctx->tombs_read && m->tombstones != ctx->tombstones)
		add_issue(rep, VERIFY_COUNTS, NULL, 0, NULL, 0, INDEX_MANIFEST, "the tombstone files "
			  "hold %zu tombstones, the manifest says %zu", ctx->tombstones, m->tombstones);
}

/* Checks every file the manifest names and the rows of the segments. 0 or -1 + err. */
static int check_index(struct vctx *ctx, struct rp_err *err)
{
	ctx->rep->segments = ctx->m.nseg;
	for (size_t i = 0; i < ctx->m.nseg; i++)
		if (check_segment(ctx, &ctx->m.segs[i], err) < 0)
			return -1;
	for (size_t i = 0; i < ctx->m.ntomb; i++)
		if (check_tomb_file(ctx, &ctx->m.tombs[i], err) < 0)
			return -1;
	check_rows(ctx);
	check_counts(ctx);
	return 0;
}

/* ---- drift against the source chunks ------------------------------------------- */

struct src_chunk {
	char *id;
	char *doc;
	char hash[HASH_HEX];
	size_t seen;             /* read_source: its line; find_drift: 1 once a row matched */
};

struct source {
	struct src_chunk *v;
	size_t n, alloc;
	struct hmap ids;
};

static void source_release(struct source *src)
{
	for (size_t i = 0; i < src->n; i++) {
		free(src->v[i].id);
		free(src->v[i].doc);
	}
	free(src->v);
	hmap_free(&src->ids);
}

/* Reads the chunk file `path` into src (hmap set up here); 0 or -1 + err. */
static int read_source(const char *path, struct source *src, struct rp_err *err)
{
	struct jsonl_reader r;
	json_t *o;
	int rc;

	memset(src, 0, sizeof(*src));
	hmap_init(&src->ids, 1024);
	if (jsonl_open(&r, path, err) < 0)
		return -1;
	while ((rc = jsonl_next(&r, &o, err)) > 0) {
		const char *id, *doc, *hash;
		struct src_chunk *c;
		size_t *slot;
		int found;

		if (!(id = jsonl_get_str(&r, o, "chunk_id", err)) ||
		    !(doc = jsonl_get_str(&r, o, "doc_id", err)) ||
		    !(hash = jsonl_get_str(&r, o, "content_hash", err)))
			rc = -1;
		else if (!hash_is_hex(hash))
			rc = rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: 'content_hash' is not 64 lowercase "
					"hex digits", r.path, r.line);
		if (rc < 0) {
			json_decref(o);
			break;
		}
		ALLOC_GROW(src->v, src->n + 1, src->alloc);
		c = &src->v[src->n];
		c->id = xstrdup(id);
		c->doc = xstrdup(doc);
		strcpy(c->hash, hash);
		c->seen = 0;
		json_decref(o);
		slot = hmap_put(&src->ids, c->id, strlen(c->id), &found);
		if (found) {
			rc = rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: duplicate chunk_id '%s' (also on "
					"line %zu)", r.path, r.line, c->id, src->v[*slot].seen);
			free(c->id);
			free(c->doc);
			break;
		}
		*slot = src->n++;
		c->seen = r.line;   /* the line, for the message above, until the drift pass */
	}
	jsonl_close(&r);
	return rc < 0 ? -1 : 0;
}

/* Finds ghosts, stale rows and wrong-model rows, then the missing chunks. */
static void find_drift(struct vctx *ctx, struct source *src)
{
	struct verify_report *rep = ctx->rep;

	for (size_t i = 0; i < src->n; i++)
		src->v[i].seen = 0;
	for (size_t i = 0; i < ctx->nrows; i++) {
		const struct vrow *v = &ctx->rows[i];
		size_t *slot = hmap_get(&src->ids, v->id, v->id_len);
		struct src_chunk *c = slot ? &src->v[*slot] : NULL;

		if (c)
			c->seen = 1;
		if (v->wrong_model)
			add_issue(rep, VERIFY_WRONG_MODEL, v->id, v->id_len, v->doc, v->doc_len, NULL,
				  "its vector is from '%.*s', the index's model is '%s'",
				  (int)v->model_len, v->model, ctx->m.model);
		else if (!c)
			add_issue(rep, VERIFY_GHOST, v->id, v->id_len, v->doc, v->doc_len, NULL,
				  "live in the index, not in the source");
		else if (strcmp(c->hash, v->hash))
			add_issue(rep, VERIFY_STALE, v->id, v->id_len, v->doc, v->doc_len, NULL,
				  "the index has content_hash %.12s, the source %.12s", v->hash, c->hash);
	}
	for (size_t i = 0; i < src->n; i++)
		if (!src->v[i].seen)
			add_issue(rep, VERIFY_MISSING, src->v[i].id, strlen(src->v[i].id), src->v[i].doc,
				  strlen(src->v[i].doc), NULL, "in the source, not live in the index");
	rep->source_checked = 1;
	rep->source_chunks = src->n;
}

/* qsort() order of drift issues: by chunk_id, then kind. */
static int cmp_drift(const void *a, const void *b)
{
	const struct verify_issue *x = a, *y = b;
	int c;

	if ((c = manifest_id_cmp(x->chunk_id, strlen(x->chunk_id), y->chunk_id, strlen(y->chunk_id))))
		return c;
	return (int)x->kind - (int)y->kind;
}

/* ---- the whole check ----------------------------------------------------------- */

int index_verify(const char *dir, const char *chunks, struct verify_report *rep,
		 struct rp_err *err)
{
	struct vctx ctx = { .dir = dir, .rep = rep, .all_read = 1, .tombs_read = 1 };
	struct source src;
	int ret = -1, have_src = 0;

	memset(rep, 0, sizeof(*rep));
	if (chunks) {
		have_src = 1;
		if (read_source(chunks, &src, err) < 0)
			goto out;
	}
	if (read_manifest(&ctx, err) < 0)
		goto out;
	if (ctx.have_manifest) {
		if (check_index(&ctx, err) < 0)
			goto out;
		if (have_src)
			find_drift(&ctx, &src);
	}
	/* find_drift() comes last: the drift issues are the tail, sorted here */
	if (rep->drift)
		qsort(rep->v + rep->integrity, rep->drift, sizeof(*rep->v), cmp_drift);
	ret = 0;
out:
	if (have_src)
		source_release(&src);
	for (size_t i = 0; i < ctx.nmaps; i++)
		fs_unmap(ctx.maps[i].data, ctx.maps[i].len);
	free(ctx.maps);
	free(ctx.rows);
	manifest_release(&ctx.m);
	if (ret < 0)
		verify_report_release(rep);
	return ret;
}
