/*
 * update.c - `rp-index update`: the diff of a chunk file against an index,
 * the new segment, dead bitmaps, tombstones, compaction and the commit
 * (update.h; the format: rp-index(5)).
 *
 * The run:
 *   1. opens the old version (manifest_read, index_open), maps the chunk
 *      file and maps its live rows by chunk_id and by line fingerprint (the
 *      SHA-256 of the chunk file line each row was made from, segment.h);
 *   2. reads the vectors in place (rpv_map_open: the header and every
 *      record's bounds) and fingerprints every chunk line on a second
 *      thread; then diffs the lines against the old live rows: a line whose
 *      fingerprint is a live row's is that row, unchanged, and is not
 *      parsed (its bytes were a valid chunk, checked in full when the row
 *      was written); every other line is parsed and checked as jsonl_next()
 *      would, and diffed by chunk_id, keeping the text of new rows only;
 *      a chunk_id read twice is refused either way; then refuses
 *      vectors of another provider, model or dimension than the old
 *      version's (--rebuild: such an old version, or one whose files do not
 *      match their hashes, is set aside and the chunks are diffed again
 *      against nothing; only its generation counts), and checks that every
 *      chunk has its vector (same chunk_id, same content_hash); only the
 *      vectors of new rows are read, and checked to be finite;
 *   3. plans compaction over the old segments (with their new dead rows)
 *      and the new rows: segments with more than UPDATE_MAX_DEAD_PCT % dead
 *      rows are rewritten, and while the version would have more than
 *      UPDATE_MAX_SEGMENTS segments the smallest (by live rows) are merged
 *      too; everything picked becomes one segment, the rest is untouched
 *      (tiered: small segments merge often, a big one only when the small
 *      ones have grown to its size or it has rotted);
 *   4. writes every new file (segments, full-text tables, dead bitmaps, the
 *      tombstone file of this update), each named by its content through a
 *      temp file, fsync and rename;
 *   5. writes MANIFEST.json the same way: the commit point;
 *   6. removes the files of the directory that the new manifest does not
 *      name (old versions' files, temps of killed runs).
 * Until 5 the old manifest and every file it names are untouched, so a
 * kill leaves the old version; after it, the new one. With nothing to
 * change (no row added, updated or deleted, no compaction, the same
 * full-text setting) nothing is written.
 */
#include "index/update.h"
#include "ai/vectors.h"
#include "index/fts.h"
#include "index/index.h"
#include "index/manifest.h"
#include "index/segment.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/hmap.h"
#include "util/jsonl.h"
#include "util/numopt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct chunk {
	char *id, *doc, *text;    /* owned, NUL-terminated; borrowed from the old version's
				     mapping (not terminated) when `borrowed` */
	size_t id_len, doc_len, text_len;
	char hash[HASH_HEX];
	const unsigned char *fp;  /* its line's fingerprint (u->lfp) */
	size_t line;
	size_t vec;               /* its row in the .rpv */
	int is_new;               /* added or updated: goes into a new segment */
	int borrowed;             /* an unchanged line, matched by its fingerprint */
};

/* One line of the chunk file: its bytes, without the newline. */
struct line {
	size_t off, len;
};

/* The old rows to tombstone: (segment, row). */
struct rowref {
	size_t seg, row;
};

/* An old live row, as an unchanged line takes it (strings in the old version's mapping). */
struct old_row {
	const char *id, *doc;
	size_t id_len, doc_len;
	char hash[HASH_HEX];
	unsigned char fp[SEG_FP];  /* its line's fingerprint */
};

/* One segment of the new version: kept from the old one, or written now. */
struct outseg {
	size_t old;               /* old segment number, or SIZE_MAX for a new one */
	struct seg_in *rows;      /* new: its rows, owned (strings borrowed) */
	size_t nrows;
};

struct upd {
	const struct update_opts *o;
	struct update_stats *st;
	struct rpv_map vm;
	const char *cdata;        /* the chunk file's bytes: a mapping, or cowned */
	size_t clen;
	char *cowned;
	struct line *lines;       /* every line, blank ones too: line n is lines[n - 1] */
	size_t nlines;
	unsigned char (*lfp)[SEG_FP]; /* per line: the SHA-256 of its bytes */
	struct chunk *chunks;
	size_t nchunks, calloc_;
	struct index *ix;         /* the old version, or &empty_ix */
	struct manifest old;
	int have_old;             /* the old version is updated (not a new index, not set aside) */
	uint8_t **dead;           /* ndead (the old segments) new bitmaps, owned, or NULL */
	size_t ndead;
	size_t *dead_rows;
	int *dead_changed;
	uint64_t *id_slots;       /* chunk_id of each old live row: its hash's top half << 32 |
				     1 + its number in old_live; 0: empty */
	size_t id_mask;
	struct old_row *old_rows; /* per old live row: what a line matching it needs */
	uint32_t *fp_slots;       /* line fingerprint of each old live row -> 1 + its number */
	size_t fp_mask;
	struct rowref *old_live;
	size_t *old_seen;         /* per old live row: the line of the chunk of its id, or 0 */
	size_t nold_live;
	struct rowref *tombs;
	size_t ntombs, talloc;
	float *nvecs;             /* the new rows' vectors, normalised for cosine */
	struct outseg *outs;
	size_t nouts;
	struct manifest next;
	const char *distance;
	struct index empty_ix;    /* u->ix for a new index or one set aside */
	int lock_fd;              /* the directory, flocked for this update; -1: none yet */
};

/* ---- writing content-named files ---------------------------------------------------- */

/* Writes data as dir/prefix<16hex>suffix; *name (caller frees) and sha receive its name and hash. */
static int write_named(struct upd *u, const char *prefix, const char *suffix, const void *data,
		       size_t len, char **name, char sha[HASH_HEX], struct rp_err *err)
{
	char *path;
	int rc;

	hash_buf(data, len, sha);
	*name = xasprintf("%s%.16s%s", prefix, sha, suffix);
	path = xasprintf("%s/%s", u->o->dir, *name);
	rc = fs_write_atomic(path, data, len, err);
	free(path);
	if (!rc)
		u->st->bytes_written += len;
	return rc;
}

/*
 * Takes the update lock: an exclusive flock on the directory itself (so no
 * file is added to the index), released by the kernel if this process dies.
 * Two updates at once would each remove the other's new files. 0 (also when
 * the directory does not exist yet: u->lock_fd stays -1), or -1 + err.
 */
static int lock_dir(struct upd *u, struct rp_err *err)
{
	int fd = open(u->o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s",
							u->o->dir, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(fd);
		if (e == EWOULDBLOCK)
			return rp_err_set(err, RP_ERR_IO, "%s: another 'rp-index update' is writing this "
					  "index; run again when it is done", u->o->dir);
		return rp_err_set(err, RP_ERR_IO, "cannot lock '%s': %s", u->o->dir, strerror(e));
	}
	u->lock_fd = fd;
	return 0;
}

/* ---- reading the inputs ----------------------------------------------------------- */

/* Marks row r of old segment s dead in its new bitmap. */
static void set_dead(struct upd *u, size_t s, size_t r)
{
	size_t nbytes = (u->ix->segs[s].rows + 7) / 8;

	if (!u->dead[s]) {
		u->dead[s] = xcalloc(nbytes, 1);
		if (u->ix->segs[s].dead)
			memcpy(u->dead[s], u->ix->segs[s].dead, nbytes);
	}
	if (u->dead[s][r >> 3] & (1u << (r & 7)))
		BUG("row %zu of segment %zu is dead twice", r, s);
	u->dead[s][r >> 3] |= (uint8_t)(1u << (r & 7));
	u->dead_rows[s]++;
	u->dead_changed[s] = 1;
}


/*
 * Diffs chunk c (parsed from its line) against old live row *v (NULL: no
 * old row has its id): unchanged (same content_hash and doc_id), updated
 * (its old row marked dead) or added. The text of an unchanged chunk is not
 * kept; a new one's must hash to its content_hash.
 */
static int classify(struct upd *u, struct chunk *c, const size_t *v, const char *text,
		    size_t text_len, struct rp_err *err)
{
	char h[HASH_HEX];

	c->is_new = 1;
	if (v) {
		const struct rowref *o = &u->old_live[*v];
		struct index_row row;

		if (index_row(u->ix, o->seg, o->row, &row, err) < 0)
			return -1;
		c->is_new = strcmp(row.content_hash, c->hash) || row.doc_id_len != c->doc_len ||
			    memcmp(row.doc_id, c->doc, c->doc_len);
		if (c->is_new)
			set_dead(u, o->seg, o->row);
	}
	if (!c->is_new) {
		u->st->unchanged++;
		return 0;
	}
	hash_buf(text, text_len, h);
	if (strcmp(h, c->hash))
		return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: chunk '%s': content_hash %.12s... is not "
				  "the SHA-256 of its text (%.12s...); re-run the stage that made it",
				  u->o->chunks, c->line, c->id, c->hash, h);
	c->text_len = text_len;
	c->text = xmalloc(text_len + 1);
	memcpy(c->text, text, text_len + 1);
	if (v)
		u->st->updated++;
	else
		u->st->added++;
	return 0;
}

/*
 * The slot of u->id_slots that holds chunk_id id (of len bytes), or the
 * empty one where it goes; *tag receives what the slot keeps of its hash.
 */
static uint64_t *id_slot(const struct upd *u, const char *id, size_t len, uint64_t *tag)
{
	uint64_t h = hmap_hash(id, len);

	*tag = h & 0xffffffff00000000ull;
	for (size_t i = (size_t)(h ^ h >> 29) & u->id_mask;; i = (i + 1) & u->id_mask) {
		uint64_t v = u->id_slots[i];
		const struct old_row *o;

		if (!v)
			return &u->id_slots[i];
		o = &u->old_rows[(v & 0xffffffffu) - 1];
		if ((v & 0xffffffff00000000ull) == *tag && o->id_len == len && !memcmp(o->id, id, len))
			return &u->id_slots[i];
	}
}

/* The old live row (its number in old_live) of chunk_id id, or SIZE_MAX. */
static size_t old_id(const struct upd *u, const char *id, size_t len)
{
	uint64_t tag, *slot;

	if (!u->id_slots)
		return SIZE_MAX;
	slot = id_slot(u, id, len, &tag);
	return *slot ? (size_t)(*slot & 0xffffffffu) - 1 : SIZE_MAX;
}

/* A new slot of u->chunks, zeroed. */
static struct chunk *new_chunk(struct upd *u)
{
	struct chunk *c;

	ALLOC_GROW(u->chunks, u->nchunks + 1, u->calloc_);
	c = &u->chunks[u->nchunks];
	memset(c, 0, sizeof(*c));
	return c;
}

/* Reads one parsed chunk line into u->chunks and diffs it (its vector is checked later). */
static int read_chunk(struct upd *u, struct jsonl_reader *r, json_t *obj, struct hmap *idmap,
		      const unsigned char *fp, struct rp_err *err)
{
	const char *id = jsonl_get_str(r, obj, "chunk_id", err), *doc, *text, *hash;
	size_t *first, *v, vi, id_len;
	struct chunk *c;
	int found;

	if (!id || !(doc = jsonl_get_str(r, obj, "doc_id", err)) ||
	    !(text = jsonl_get_str(r, obj, "text", err)) ||
	    !(hash = jsonl_get_str(r, obj, "content_hash", err)))
		return -1;
	if (!*id || strlen(id) != json_string_length(json_object_get(obj, "chunk_id")))
		return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: field 'chunk_id' is empty or holds a "
				  "NUL", r->path, r->line);
	if (!hash_is_hex(hash))
		return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: chunk '%s': content_hash is not 64 "
				  "lowercase hex digits", r->path, r->line, id);
	id_len = strlen(id);
	/* an id is an old live row's (u->old_seen says where it was read) or a new one (idmap) */
	vi = old_id(u, id, id_len);
	v = vi == SIZE_MAX ? NULL : &vi;
	if (v && u->old_seen[*v])
		return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: chunk_id '%s' appears twice (first on "
				  "line %zu)", r->path, r->line, id, u->old_seen[*v]);
	c = new_chunk(u);
	c->id_len = id_len;
	c->id = xstrdup(id);
	if (v) {
		u->old_seen[*v] = r->line;
	} else {
		first = hmap_put(idmap, c->id, c->id_len, &found);
		if (found) {
			free(c->id);
			return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: chunk_id '%s' appears twice (first "
					  "on line %zu)", r->path, r->line, id, u->chunks[*first].line);
		}
		*first = u->nchunks;
	}
	u->nchunks++;
	c->doc_len = json_string_length(json_object_get(obj, "doc_id"));
	c->doc = xstrndup(doc, c->doc_len);
	memcpy(c->hash, hash, HASH_HEX);
	c->line = r->line;
	c->fp = fp;
	return classify(u, c, v, text, json_string_length(json_object_get(obj, "text")), err);
}

/* The old live row (its number in old_live) whose line had fingerprint fp, or SIZE_MAX. */
static size_t fp_find(const struct upd *u, const unsigned char *fp)
{
	uint64_t h;

	if (!u->fp_slots)
		return SIZE_MAX;
	memcpy(&h, fp, sizeof(h));
	for (size_t i = (size_t)h & u->fp_mask;; i = (i + 1) & u->fp_mask) {
		uint32_t v = u->fp_slots[i];

		if (!v)
			return SIZE_MAX;
		if (!memcmp(u->old_rows[v - 1].fp, fp, SEG_FP))
			return v - 1;
	}
}

/*
 * A line whose bytes are an old live row's line (the same fingerprint) is
 * that row, unchanged: those bytes were a valid chunk, checked in full when
 * the row was written. The chunk takes its fields from the row.
 */
static int reuse_row(struct upd *u, size_t v, size_t line, struct rp_err *err)
{
	const struct old_row *o = &u->old_rows[v];
	struct chunk *c;

	if (u->old_seen[v])
		return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: chunk_id '%.*s' appears twice (first on "
				  "line %zu)", u->o->chunks, line, (int)o->id_len, o->id, u->old_seen[v]);
	u->old_seen[v] = line;
	c = new_chunk(u);
	u->nchunks++;
	c->id = (char *)o->id;
	c->id_len = o->id_len;
	c->doc = (char *)o->doc;
	c->doc_len = o->doc_len;
	memcpy(c->hash, o->hash, HASH_HEX);
	c->fp = o->fp;
	c->line = line;
	c->borrowed = 1;
	u->st->unchanged++;
	return 0;
}

/* 1 when the line holds only blanks (jsonl_next skips it). */
static int blank_line(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return 0;
	return 1;
}

/*
 * Diffs the chunk lines (read and fingerprinted by load_chunks), up to the
 * first bad line: 0, or -1 + err. A line that is an old row's by its
 * fingerprint is not parsed; the others are, as jsonl_next() would (the same
 * messages). The chunks read before a bad line (and the bad one, when it was
 * parsed) stay in u->chunks, for check_vectors() to report an earlier
 * problem first.
 */
static int read_chunks(struct upd *u, struct rp_err *err)
{
	struct jsonl_reader r;
	struct hmap idmap;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.path = (char *)u->o->chunks;
	hmap_init(&idmap, 1024);
	for (size_t i = 0; i < u->nlines && !rc; i++) {
		const char *p = u->cdata + u->lines[i].off;
		size_t n = u->lines[i].len, v;
		json_error_t je;
		json_t *obj;

		r.line = i + 1;
		if (blank_line(p, n))
			continue;
		v = fp_find(u, u->lfp[i]);
		if (v != SIZE_MAX) {
			rc = reuse_row(u, v, i + 1, err);
			continue;
		}
		obj = json_loadb(p, n, JSON_REJECT_DUPLICATES, &je);
		if (!obj) {
			rc = rp_err_set(err, RP_ERR_INPUT, "%s:%zu:%d: invalid JSON: %s", r.path, r.line,
					je.column > 0 ? je.column : 1, je.text);
			break;
		}
		if (!json_is_object(obj))
			rc = rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: expected a JSON object on each "
					"line", r.path, r.line);
		else
			rc = read_chunk(u, &r, obj, &idmap, u->lfp[i], err);
		json_decref(obj);
		if (u->o->progress && !(u->nchunks & 1023))
			progress_update(u->o->progress, u->nchunks, "reading chunks");
	}
	hmap_free(&idmap);
	return rc < 0 ? -1 : 0;
}

/* Reads the chunk file (mapped when it can be) and splits it into lines. 0, or -1 + err. */
static int load_chunks(struct upd *u, struct rp_err *err)
{
	const char *path = u->o->chunks;
	size_t len = 0;
	const char *p, *end, *nl;

	if (strcmp(path, "-"))
		u->cdata = fs_map(path, &len);
	if (!u->cdata && strcmp(path, "-") && errno)
		return rp_err_set(err, errno == ENOENT ? RP_ERR_INPUT : RP_ERR_IO, "cannot open '%s': "
				  "%s", path, strerror(errno));
	if (!u->cdata) {
		/* empty, standard input, or not a regular file: read it */
		struct buf b = BUF_INIT;
		int rc = buf_read_file(&b, strcmp(path, "-") ? path : "/dev/stdin");

		if (rc < 0) {
			rc = rp_err_set(err, errno == ENOENT ? RP_ERR_INPUT : RP_ERR_IO, "cannot read "
					"'%s': %s", path, strerror(errno));
			buf_release(&b);
			return rc;
		}
		u->cowned = b.s ? b.s : xcalloc(1, 1);
		u->cdata = u->cowned;
		len = b.len;
	}
	u->clen = len;
	size_t alloc = 0;

	for (p = u->cdata, end = u->cdata + len; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		ALLOC_GROW(u->lines, u->nlines + 1, alloc);
		u->lines[u->nlines++] = (struct line){ (size_t)(p - u->cdata), (size_t)(nl - p) };
	}
	u->lfp = xmalloc((u->nlines + 1) * sizeof(*u->lfp));
	u->chunks = xmalloc((u->nlines + 1) * sizeof(*u->chunks));
	u->calloc_ = u->nlines + 1;
	return 0;
}

/* 64 hex digits (a digest of hash.h) into 32 bytes. */
static void hex_raw(const char *hex, unsigned char raw[SEG_FP])
{
	for (int i = 0; i < SEG_FP; i++) {
		int hi = hex[2 * i], lo = hex[2 * i + 1];

		raw[i] = (unsigned char)((hi <= '9' ? hi - '0' : hi - 'a' + 10) << 4 |
					 (lo <= '9' ? lo - '0' : lo - 'a' + 10));
	}
}

/* Fingerprints lines [a, b) of the chunk file. */
static void hash_lines(struct upd *u, size_t a, size_t b)
{
	char hex[HASH_HEX];

	for (size_t i = a; i < b; i++) {
		hash_buf(u->cdata + u->lines[i].off, u->lines[i].len, hex);
		hex_raw(hex, u->lfp[i]);
	}
}

/* Lowercase hex of 32 raw bytes. */
static void raw_hex(const unsigned char *raw, char hex[HASH_HEX])
{
	static const char d[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = d[raw[i] >> 4];
		hex[2 * i + 1] = d[raw[i] & 15];
	}
	hex[64] = '\0';
}

/*
 * Every chunk read needs its vector: same chunk_id, same content_hash.
 * rp-embed writes the vectors in the order of the chunks, so record i is
 * tried first for chunk i; the others are found through a map of the ids,
 * made on the first miss (an id twice in the .rpv: its last record).
 */
static int check_vectors(struct upd *u, struct rp_err *err)
{
	const struct rpv_map *m = &u->vm;
	struct hmap vecmap = { 0 };
	char vh[HASH_HEX];
	int ret = 0;

	for (size_t i = 0; i < u->nchunks && !ret; i++) {
		struct chunk *c = &u->chunks[i];
		size_t *v = NULL, same = i;

		if (i < m->count && m->id_lens[i] == c->id_len && !memcmp(m->recs[i], c->id, c->id_len)) {
			v = &same;
		} else {
			if (!vecmap.slots) {
				hmap_init(&vecmap, m->count);
				for (size_t k = 0; k < m->count; k++) {
					int found;

					*hmap_put(&vecmap, m->recs[k], m->id_lens[k], &found) = k;
				}
			}
			v = hmap_get(&vecmap, c->id, c->id_len);
		}
		if (!v) {
			ret = rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: chunk '%.*s' has no vector in '%s'; "
					 "re-run the embed stage on this chunk file", u->o->chunks,
					 c->line, (int)c->id_len, c->id, u->o->vectors);
			break;
		}
		raw_hex(rpv_map_hash(m, *v), vh);
		if (strcmp(vh, c->hash))
			ret = rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: chunk '%.*s': content_hash %.12s... "
					 "differs from its vector's in '%s' (%.12s...): the vectors are "
					 "stale; re-run the embed stage", u->o->chunks, c->line,
					 (int)c->id_len, c->id, c->hash, u->o->vectors, vh);
		else
			c->vec = *v;
	}
	if (vecmap.slots)
		hmap_free(&vecmap);
	return ret;
}

/* Refuses vectors from another embedding space than the index's. */
static int check_space(struct upd *u, struct rp_err *err)
{
	const struct index *ix = u->ix;
	int same_dim = !ix->dim || !u->vm.dim || ix->dim == u->vm.dim;

	if (!u->have_old)
		return 0;
	if (strcmp(ix->model, u->vm.model) || strcmp(ix->provider, u->vm.provider) || !same_dim)
		return rp_err_set(err, RP_ERR_INPUT, "%s: index built with %s%s%s (%u dims), vectors "
				  "from %s%s%s (%u dims): different embedding spaces; build a new "
				  "index and promote it", u->o->dir,
				  strcmp(ix->provider, u->vm.provider) ? ix->provider : "",
				  strcmp(ix->provider, u->vm.provider) ? ":" : "", ix->model, ix->dim,
				  strcmp(ix->provider, u->vm.provider) ? u->vm.provider : "",
				  strcmp(ix->provider, u->vm.provider) ? ":" : "", u->vm.model,
				  u->vm.dim);
	if (u->o->distance && strcmp(u->o->distance, ix->distance))
		return rp_err_set(err, RP_ERR_INPUT, "%s: index uses distance '%s', not '%s'; build a "
				  "new index (or use --rebuild)", u->o->dir, ix->distance,
				  u->o->distance);
	return 0;
}

/* 1 when the file dir/name hashes to `sha`. */
static int file_is(const char *dir, const char *name, const char *sha)
{
	char *path = xasprintf("%s/%s", dir, name);
	char got[HASH_HEX];
	int ok = hash_file(path, got, NULL) == 0 && !strcmp(got, sha);

	free(path);
	return ok;
}

/* For --rebuild: 1 when every file of the old version matches its hash in the manifest. */
static int old_is_sound(const struct upd *u)
{
	const struct manifest *m = &u->old;
	char got[HASH_HEX];

	for (size_t s = 0; s < m->nseg; s++) {
		const struct index_seg *g = &u->ix->segs[s];

		hash_buf(g->map, g->map_len, got);
		if (strcmp(got, m->segs[s].sha256))
			return 0;
		if (g->dead_map) {
			hash_buf(g->dead_map, g->dead_len, got);
			if (strcmp(got, m->segs[s].dead_sha256))
				return 0;
		}
		if (m->segs[s].fts && !u->o->no_fts && !file_is(u->o->dir, m->segs[s].fts, m->segs[s].fts_sha256))
			return 0;
	}
	for (size_t t = 0; t < m->ntomb; t++)
		if (!file_is(u->o->dir, m->tombs[t].file, m->tombs[t].sha256))
			return 0;
	return 1;
}

/* Sets the old version aside: the update starts from empty; only its generation counts. */
static void set_aside(struct upd *u)
{
	if (u->ix && u->ix != &u->empty_ix)
		index_close(u->ix);
	u->ix = &u->empty_ix;
	u->have_old = 0;
	manifest_release(&u->old);
}

/*
 * Opens the old version, if any (u->ix is then it, else an empty one). A
 * version that cannot be read is an error, or with --rebuild set aside.
 */
static int open_old(struct upd *u, struct rp_err *err)
{
	int rc = manifest_read(&u->old, u->o->dir, 1, err);

	u->ix = &u->empty_ix;
	if (rc > 0)
		return 0;      /* a new index */
	u->next.generation = u->old.generation;
	if (rc == 0 && index_open(&u->ix, u->o->dir, 1, err) == 0) {
		u->have_old = 1;
		return 0;
	}
	if (!u->o->rebuild)
		return -1;
	set_aside(u);
	return 0;
}

/*
 * Once the vectors are read: refuses them when they are of another space
 * than the old version (-1 + err), or with --rebuild sets such an old
 * version aside, and one whose files do not match their hashes (1: the
 * chunks must be diffed again, against nothing). 0: go on.
 */
static int settle_space(struct upd *u, struct rp_err *err)
{
	if (!u->vm.model[0] || !u->vm.provider[0])
		return rp_err_set(err, RP_ERR_INPUT, "%s: the vectors name no provider or model",
				  u->o->vectors);
	if (!u->have_old)
		return 0;
	if (check_space(u, err) == 0 && (!u->o->rebuild || old_is_sound(u)))
		return 0;
	if (!u->o->rebuild)
		return -1;
	set_aside(u);
	return 1;
}

/* ---- the diff -------------------------------------------------------------------- */


/* Enters old live row v, whose line had fingerprint fp, in u->fp_slots (the first one stays). */
static void put_fp(struct upd *u, const unsigned char *fp, size_t v)
{
	static const unsigned char none[SEG_FP];
	uint64_t h;
	size_t i;

	if (!memcmp(fp, none, SEG_FP))
		return;     /* not made from a line */
	if (v >= UINT32_MAX)
		BUG("too many rows");
	memcpy(&h, fp, sizeof(h));
	for (i = (size_t)h & u->fp_mask; u->fp_slots[i]; i = (i + 1) & u->fp_mask)
		if (!memcmp(u->old_rows[u->fp_slots[i] - 1].fp, fp, SEG_FP))
			return;
	u->fp_slots[i] = (uint32_t)(v + 1);
}

/*
 * Maps the chunk_id (u->id_slots) and line fingerprint (u->fp_slots) of
 * every old live row, before the chunks are read.
 */
static int map_old_rows(struct upd *u, struct rp_err *err)
{
	struct index *ix = u->ix;

	size_t cap = 16;

	u->old_live = xmalloc((ix->live + 1) * sizeof(*u->old_live));
	u->old_seen = xcalloc(ix->live + 1, sizeof(*u->old_seen));
	u->old_rows = xmalloc((ix->live + 1) * sizeof(*u->old_rows));
	while (cap < 2 * ix->live)
		cap *= 2;
	u->fp_slots = xcalloc(cap, sizeof(*u->fp_slots));
	u->fp_mask = cap - 1;
	u->dead = xcalloc(ix->nseg + 1, sizeof(*u->dead));
	u->ndead = ix->nseg;
	u->dead_rows = xcalloc(ix->nseg + 1, sizeof(*u->dead_rows));
	u->dead_changed = xcalloc(ix->nseg + 1, sizeof(*u->dead_changed));
	u->id_slots = xcalloc(cap, sizeof(*u->id_slots));
	u->id_mask = cap - 1;
	for (size_t s = 0; s < ix->nseg; s++) {
		u->dead_rows[s] = ix->segs[s].dead_rows;
		for (size_t r = 0; r < ix->segs[s].rows; r++) {
			struct index_row row;
			struct old_row *o;
			uint64_t *slot, tag;

			if (!index_row_live(&ix->segs[s], r))
				continue;
			if (u->nold_live == ix->live)
				BUG("more live rows than counted");
			if (index_row(ix, s, r, &row, err) < 0)
				return -1;
			slot = id_slot(u, row.chunk_id, row.chunk_id_len, &tag);
			if (*slot)
				return rp_err_set(err, RP_ERR_INPUT, "%s/%s: chunk '%.*s' is live twice; the "
						  "index is damaged: rebuild it with 'rp-index update "
						  "--rebuild'", ix->path, ix->segs[s].file,
						  (int)row.chunk_id_len, row.chunk_id);
			*slot = tag | (u->nold_live + 1);
			u->old_live[u->nold_live].seg = s;
			u->old_live[u->nold_live].row = r;
			o = &u->old_rows[u->nold_live];
			*o = (struct old_row){ row.chunk_id, row.doc_id, row.chunk_id_len,
					       row.doc_id_len, { 0 }, { 0 } };
			memcpy(o->hash, row.content_hash, HASH_HEX);
			memcpy(o->fp, row.line_fp, SEG_FP);
			put_fp(u, o->fp, u->nold_live++);
		}
	}
	return 0;
}

/* After the chunks are read: the old live rows no chunk names are deleted. */
static void delete_unseen(struct upd *u)
{
	for (size_t i = 0; i < u->nold_live; i++)
		if (!u->old_seen[i]) {
			set_dead(u, u->old_live[i].seg, u->old_live[i].row);
			ALLOC_GROW(u->tombs, u->ntombs + 1, u->talloc);
			u->tombs[u->ntombs++] = u->old_live[i];
		}
	u->st->deleted = u->ntombs;
}

/* ---- compaction and the new segments ----------------------------------------------- */

static size_t live_of(const struct upd *u, size_t s)
{
	return u->ix->segs[s].rows - u->dead_rows[s];
}

/*
 * Picks the sources (old segments 0..nseg-1, and nseg for the new rows) to
 * merge into one segment: those with too many dead rows, then the smallest
 * while the version would have too many segments. pick[] receives 1 for each.
 */
static void plan(const struct upd *u, size_t nnew, char *pick)
{
	size_t nseg = u->ix->nseg, nsrc = nseg + (nnew > 0), npick = 0, picked_live = 0;

	for (size_t s = 0; s < nseg; s++) {
		size_t rows = u->ix->segs[s].rows;

		pick[s] = u->dead_rows[s] * 100 > rows * UPDATE_MAX_DEAD_PCT;
		npick += pick[s];
		picked_live += pick[s] ? live_of(u, s) : 0;
	}
	while (nsrc - npick + (picked_live > 0) > UPDATE_MAX_SEGMENTS) {
		size_t best = SIZE_MAX, best_live = SIZE_MAX;

		for (size_t s = 0; s < nsrc; s++) {
			size_t l = s < nseg ? live_of(u, s) : nnew;

			if (!pick[s] && l < best_live)
				best = s, best_live = l;
		}
		if (best == SIZE_MAX)
			BUG("nothing left to merge");
		pick[best] = 1;
		npick++;
		picked_live += best_live;
	}
}

static int cmp_in(const void *a, const void *b)
{
	const struct seg_in *x = a, *y = b;

	return manifest_id_cmp(x->chunk_id, x->chunk_id_len, y->chunk_id, y->chunk_id_len);
}

/* Appends the live rows of old segment s to out (hashes: their digests' storage). */
static int add_old_rows(struct upd *u, size_t s, struct outseg *out, char (*hashes)[HASH_HEX],
			struct rp_err *err)
{
	const struct index_seg *g = &u->ix->segs[s];
	unsigned dim = u->ix->dim;
	char sha[HASH_HEX];

	/* rows copied into a new file get a new checksum: check the old one first */
	hash_buf(g->map, g->map_len, sha);
	if (strcmp(sha, g->sha256))
		return rp_err_set(err, RP_ERR_INPUT, "%s/%s: checksum mismatch: the segment was altered "
				  "or damaged; rebuild the index with 'rp-index update --rebuild'",
				  u->o->dir, g->file);
	for (size_t r = 0; r < g->rows; r++) {
		struct index_row row;
		struct seg_in *in;

		if (u->dead[s] ? (u->dead[s][r >> 3] >> (r & 7)) & 1 : !index_row_live(g, r))
			continue;
		if (index_row(u->ix, s, r, &row, err) < 0)
			return -1;
		in = &out->rows[out->nrows];
		memcpy(hashes[out->nrows], row.content_hash, HASH_HEX);
		*in = (struct seg_in){ row.chunk_id, row.chunk_id_len, row.doc_id, row.doc_id_len,
				       row.text, row.text_len, hashes[out->nrows], g->vecs + r * dim,
				       g->qvecs + r * dim, g->qscale[r], row.line_fp };
		out->nrows++;
	}
	return 0;
}

/*
 * Appends the new rows (added and updated chunks) to out, normalising their
 * vectors: 0, or -1 + err when one of them is not finite.
 */
static int add_new_rows(struct upd *u, struct outseg *out, size_t nnew, struct rp_err *err)
{
	unsigned dim = u->vm.dim;
	int cosine = !strcmp(u->distance, "cosine");
	size_t k = 0;

	u->nvecs = xmalloc((nnew * dim + 1) * sizeof(float));
	for (size_t i = 0; i < u->nchunks; i++) {
		struct chunk *c = &u->chunks[i];
		float *v = u->nvecs + k * dim;

		if (!c->is_new)
			continue;
		if (rpv_map_vec(&u->vm, c->vec, v, u->o->vectors, err) < 0)
			return -1;
		if (cosine)
			segment_normalise(v, dim);
		out->rows[out->nrows++] = (struct seg_in){ c->id, c->id_len, c->doc, c->doc_len,
							   c->text, c->text_len, c->hash, v, NULL, 0,
							   c->fp };
		k++;
	}
	return 0;
}

/*
 * Decides the segments of the new version (u->outs): the old ones kept,
 * then at most one merged segment, then the new rows' segment unless merged.
 * hashes: storage for the merged rows' content hashes (caller frees).
 */
static int build_outs(struct upd *u, char (**hashes)[HASH_HEX], struct rp_err *err)
{
	size_t nseg = u->ix->nseg, nnew = u->st->added + u->st->updated, merged_rows = 0;
	char *pick = xcalloc(nseg + 2, 1);
	struct outseg *m = NULL;
	int ret = -1;

	plan(u, nnew, pick);
	u->outs = xcalloc(nseg + 3, sizeof(*u->outs));
	for (size_t s = 0; s < nseg; s++) {
		if (!pick[s] && live_of(u, s))
			u->outs[u->nouts++] = (struct outseg){ s, NULL, 0 };
		else if (!pick[s])
			pick[s] = 1;  /* every row dead: dropped */
		merged_rows += pick[s] ? live_of(u, s) : 0;
		u->st->compacted += pick[s];
	}
	*hashes = xmalloc((merged_rows + 1) * sizeof(**hashes));
	if (merged_rows || (nnew && pick[nseg])) {
		m = &u->outs[u->nouts++];
		*m = (struct outseg){ SIZE_MAX, xmalloc((merged_rows + nnew + 1) * sizeof(struct seg_in)), 0 };
		for (size_t s = 0; s < nseg; s++)
			if (pick[s] && add_old_rows(u, s, m, *hashes, err) < 0)
				goto out;
	}
	if (nnew && !pick[nseg]) {
		struct outseg *n = &u->outs[u->nouts++];

		*n = (struct outseg){ SIZE_MAX, xmalloc(nnew * sizeof(struct seg_in)), 0 };
		if (add_new_rows(u, n, nnew, err) < 0)
			goto out;
	} else if (nnew && add_new_rows(u, m, nnew, err) < 0) {
		goto out;
	}
	for (size_t i = 0; i < u->nouts; i++)
		if (u->outs[i].rows)
			qsort(u->outs[i].rows, u->outs[i].nrows, sizeof(struct seg_in), cmp_in);
	ret = 0;
out:
	free(pick);
	return ret;
}

/* ---- writing the new files ---------------------------------------------------------- */

/* Writes the full-text table of rows (texts[i], lens[i]) and records it in *ms. */
static int write_fts(struct upd *u, const char *const *texts, const size_t *lens, size_t n,
		     struct manifest_seg *ms, struct rp_err *err)
{
	char *tmp = xasprintf("%s/.fts.tmp.%ld.sqlite", u->o->dir, (long)getpid());
	char *path = NULL;
	struct stat st;
	int ret = -1;

	fs_temp_register(tmp);
	if (fts_write(tmp, texts, lens, n, err) < 0 || hash_file(tmp, ms->fts_sha256, err) < 0)
		goto out;
	ms->fts = xasprintf("fts-%.16s.sqlite", ms->fts_sha256);
	path = xasprintf("%s/%s", u->o->dir, ms->fts);
	if (rename(tmp, path) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		goto out;
	}
	fs_fsync_parent_quiet(path);
	if (!stat(path, &st))
		u->st->bytes_written += (unsigned long long)st.st_size;
	ret = 0;
out:
	unlink(tmp);
	fs_temp_forget(tmp);
	free(path);
	free(tmp);
	return ret;
}

/* The full-text table of a kept old segment that has none (the old index had no tables). */
static int write_old_fts(struct upd *u, size_t s, struct manifest_seg *ms, struct rp_err *err)
{
	size_t rows = u->ix->segs[s].rows;
	const char **texts = xcalloc(rows + 1, sizeof(char *));
	size_t *lens = xcalloc(rows + 1, sizeof(size_t));
	int ret = -1;

	for (size_t r = 0; r < rows; r++) {
		struct index_row row;

		if (index_row(u->ix, s, r, &row, err) < 0)
			goto out;
		texts[r] = row.text;
		lens[r] = row.text_len;
	}
	ret = write_fts(u, texts, lens, rows, ms, err);
out:
	free(texts);
	free(lens);
	return ret;
}

/* Writes a new segment (and its full-text table) and records it in *ms. */
static int write_seg(struct upd *u, const struct outseg *o, struct manifest_seg *ms,
		     struct rp_err *err)
{
	struct buf b = BUF_INIT;
	const char **texts = NULL;
	size_t *lens = NULL;
	int ret = -1;

	if (segment_encode(&b, u->next.provider, u->next.model, u->next.dim, o->rows, o->nrows, 0,
			   err) < 0 ||
	    write_named(u, "seg-", ".rps", b.s, b.len, &ms->file, ms->sha256, err) < 0)
		goto out;
	ms->rows = o->nrows;
	if (u->next.has_fts) {
		texts = xcalloc(o->nrows + 1, sizeof(char *));
		lens = xcalloc(o->nrows + 1, sizeof(size_t));
		for (size_t r = 0; r < o->nrows; r++) {
			texts[r] = o->rows[r].text;
			lens[r] = o->rows[r].text_len;
		}
		if (write_fts(u, texts, lens, o->nrows, ms, err) < 0)
			goto out;
	}
	ret = 0;
out:
	free(texts);
	free(lens);
	buf_release(&b);
	return ret;
}

/* Records kept old segment s in *ms, writing its new bitmap (and table) when needed. */
static int keep_seg(struct upd *u, size_t s, struct manifest_seg *ms, struct rp_err *err)
{
	const struct manifest_seg *old = &u->old.segs[s];

	ms->file = xstrdup(old->file);
	memcpy(ms->sha256, old->sha256, HASH_HEX);
	ms->rows = old->rows;
	ms->dead_rows = u->dead_rows[s];
	if (u->dead_changed[s]) {
		if (write_named(u, "del-", ".bin", u->dead[s], (old->rows + 7) / 8, &ms->dead,
				ms->dead_sha256, err) < 0)
			return -1;
	} else if (old->dead) {
		ms->dead = xstrdup(old->dead);
		memcpy(ms->dead_sha256, old->dead_sha256, HASH_HEX);
	}
	if (!u->next.has_fts)
		return 0;
	if (old->fts) {
		ms->fts = xstrdup(old->fts);
		memcpy(ms->fts_sha256, old->fts_sha256, HASH_HEX);
		return 0;
	}
	return write_old_fts(u, s, ms, err);
}

/* The time of the tombstones: SOURCE_DATE_EPOCH when set, else now, as UTC ISO 8601. */
static int deleted_at(char out[32], struct rp_err *err)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	long secs = (long)time(NULL);
	struct tm tm;
	time_t t;

	if (sde && *sde && numopt_parse_long(sde, 0, LONG_MAX, &secs) < 0)
		return rp_err_set(err, RP_ERR_INPUT, "SOURCE_DATE_EPOCH: '%s' is not a whole number of "
				  "seconds", sde);
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return rp_err_set(err, RP_ERR_INPUT, "SOURCE_DATE_EPOCH: '%s' is out of range", sde);
	return 0;
}

static int cmp_tomb(const void *a, const void *b)
{
	json_t *x = json_object_get(*(json_t *const *)a, "chunk_id");
	json_t *y = json_object_get(*(json_t *const *)b, "chunk_id");

	return manifest_id_cmp(json_string_value(x), json_string_length(x), json_string_value(y),
			       json_string_length(y));
}

/* Writes this update's tombstone file (sorted by chunk_id) and appends it to the log. */
static int write_tombs(struct upd *u, struct rp_err *err)
{
	json_t **objs;
	struct buf b = BUF_INIT;
	struct manifest_tomb *t;
	char when[32];
	int ret = -1;

	if (!u->ntombs)
		return 0;
	if (deleted_at(when, err) < 0)
		return -1;
	objs = xcalloc(u->ntombs, sizeof(*objs));
	for (size_t i = 0; i < u->ntombs; i++) {
		struct index_row row;

		if (index_row(u->ix, u->tombs[i].seg, u->tombs[i].row, &row, err) < 0)
			goto out;
		objs[i] = json_pack("{s:s%,s:s%,s:s,s:I}", "chunk_id", row.chunk_id, row.chunk_id_len,
				    "doc_id", row.doc_id, row.doc_id_len, "deleted_at", when,
				    "generation", (json_int_t)u->next.generation);
		if (!objs[i])
			BUG("cannot build a tombstone");
	}
	qsort(objs, u->ntombs, sizeof(*objs), cmp_tomb);
	for (size_t i = 0; i < u->ntombs; i++)
		jsonl_dump(objs[i], &b);
	ALLOC_GROW(u->next.tombs, u->next.ntomb + 1, u->next.tombs_alloc);
	t = &u->next.tombs[u->next.ntomb];
	memset(t, 0, sizeof(*t));
	if (write_named(u, "tomb-", ".jsonl", b.s, b.len, &t->file, t->sha256, err) < 0)
		goto out;
	t->count = u->ntombs;
	u->next.ntomb++;
	u->next.tombstones += u->ntombs;
	ret = 0;
out:
	for (size_t i = 0; i < u->ntombs; i++)
		json_decref(objs[i]);
	free(objs);
	buf_release(&b);
	return ret;
}

/* ---- the commit ----------------------------------------------------------------------- */

/* 1 when `name` is one the manifest names. */
static int named(const struct manifest *m, const char *name)
{
	for (size_t i = 0; i < m->nseg; i++)
		if (!strcmp(name, m->segs[i].file) || (m->segs[i].dead && !strcmp(name, m->segs[i].dead)) ||
		    (m->segs[i].fts && !strcmp(name, m->segs[i].fts)))
			return 1;
	for (size_t i = 0; i < m->ntomb; i++)
		if (!strcmp(name, m->tombs[i].file))
			return 1;
	return 0;
}

/* 1 for the name of an index file ("seg-...rps" and the like). */
static int index_file_name(const char *name)
{
	static const char *const kinds[][2] = {
		{ "seg-", ".rps" }, { "del-", ".bin" }, { "tomb-", ".jsonl" }, { "fts-", ".sqlite" },
	};
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t pl = strlen(kinds[i][0]), sl = strlen(kinds[i][1]);

		if (n == pl + 16 + sl && !strncmp(name, kinds[i][0], pl) && !strcmp(name + n - sl, kinds[i][1]))
			return 1;
	}
	return 0;
}

/* 1 for a temp file ".*.tmp.PID.*" whose process is gone. */
static int dead_temp(const char *name)
{
	const char *t = name[0] == '.' ? strstr(name, ".tmp.") : NULL;
	long pid = 0;

	if (!t)
		return 0;
	for (t += 5; *t >= '0' && *t <= '9' && pid < 1L << 30; t++)
		pid = pid * 10 + (*t - '0');
	return *t == '.' && pid > 0 && pid != (long)getpid() && fs_pid_is_gone(pid);
}

/* Removes the index files the new manifest does not name, and dead temps. Best effort. */
static void remove_unnamed(const char *dir, const struct manifest *m)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if ((index_file_name(e->d_name) && !named(m, e->d_name)) || dead_temp(e->d_name)) {
			char *p = xasprintf("%s/%s", dir, e->d_name);

			unlink(p);
			free(p);
		}
	}
	closedir(d);
	fs_fsync_parent_quiet(dir);
}

/* A chunk's place in chunk_id order: the first 8 bytes of the id, big-endian, zero-padded. */
struct id_key {
	uint64_t key;
	const struct chunk *c;
};

static int cmp_key(const void *a, const void *b)
{
	const struct id_key *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return manifest_id_cmp(x->c->id, x->c->id_len, y->c->id, y->c->id_len);
}

/*
 * Fills rows with the chunks sorted by chunk_id, bytewise (as
 * digest_rows_sort does; ids hold no NUL, so zero-padding the keys keeps
 * that order), comparing the ids themselves only when their keys tie.
 */
static void sort_chunks(const struct upd *u, struct digest_row *rows)
{
	struct id_key *k = xmalloc((u->nchunks + 1) * sizeof(*k));

	for (size_t i = 0; i < u->nchunks; i++) {
		const struct chunk *c = &u->chunks[i];
		uint64_t key = 0;

		for (size_t j = 0; j < 8; j++)
			key = key << 8 | (j < c->id_len ? (unsigned char)c->id[j] : 0);
		k[i] = (struct id_key){ key, c };
	}
	qsort(k, u->nchunks, sizeof(*k), cmp_key);
	for (size_t i = 0; i < u->nchunks; i++)
		rows[i] = (struct digest_row){ k[i].c->id, k[i].c->id_len, k[i].c->hash };
	free(k);
}

/* Fills the new manifest's header, digest and counts from the chunks. */
static void describe(struct upd *u)
{
	struct manifest *n = &u->next;
	struct digest_row *rows = xmalloc((u->nchunks + 1) * sizeof(*rows));
	struct hmap docs;

	n->provider = xstrdup(u->vm.provider);
	n->model = xstrdup(u->vm.model);
	n->dim = u->vm.dim ? u->vm.dim : u->ix->dim;
	n->distance = xstrdup(u->distance);
	n->generation++;
	n->has_fts = !u->o->no_fts;
	hmap_init(&docs, u->nchunks);
	for (size_t i = 0; i < u->nchunks; i++) {
		int found;

		hmap_put(&docs, u->chunks[i].doc, u->chunks[i].doc_len, &found);
	}
	sort_chunks(u, rows);
	manifest_digest(rows, u->nchunks, n->provider, n->model, n->dim, n->digest);
	n->chunks = u->nchunks;
	n->documents = docs.n;
	hmap_free(&docs);
	free(rows);
	if (u->have_old) {
		n->tombs = xcalloc(u->old.ntomb + 1, sizeof(*n->tombs));
		n->tombs_alloc = u->old.ntomb + 1;
		for (size_t i = 0; i < u->old.ntomb; i++) {
			n->tombs[i] = u->old.tombs[i];
			n->tombs[i].file = xstrdup(u->old.tombs[i].file);
		}
		n->ntomb = u->old.ntomb;
		n->tombstones = u->old.tombstones;
	}
}

/* Writes the new version: segments, bitmaps, tables, tombstones, then the manifest. */
static int commit(struct upd *u, struct rp_err *err)
{
	char (*hashes)[HASH_HEX] = NULL;
	struct buf b = BUF_INIT;
	char *path = NULL;
	int ret = -1;

	if (fs_mkdir_p(u->o->dir, 0777, err) < 0)
		return -1;
	if (u->lock_fd < 0) {
		/* a new index: made by another update since this one started? */
		char *m = xasprintf("%s/%s", u->o->dir, INDEX_MANIFEST);
		int raced = lock_dir(u, err) < 0 || fs_exists(m);

		free(m);
		if (raced)
			return u->lock_fd < 0 ? -1 : rp_err_set(err, RP_ERR_IO, "%s: another 'rp-index "
								"update' made this index meanwhile; "
								"run again", u->o->dir);
	}
	describe(u);
	if (build_outs(u, &hashes, err) < 0)
		goto out;
	u->next.segs = xcalloc(u->nouts + 1, sizeof(*u->next.segs));
	u->next.segs_alloc = u->nouts + 1;
	for (size_t i = 0; i < u->nouts; i++, u->next.nseg++) {
		struct manifest_seg *ms = &u->next.segs[i];

		if (u->o->progress)
			progress_update(u->o->progress, i, "writing segments");
		if (u->outs[i].old == SIZE_MAX ? write_seg(u, &u->outs[i], ms, err) < 0
					      : keep_seg(u, u->outs[i].old, ms, err) < 0) {
			u->next.nseg++;
			goto out;
		}
	}
	if (write_tombs(u, err) < 0)
		goto out;
	manifest_encode(&u->next, &b);
	path = xasprintf("%s/%s", u->o->dir, INDEX_MANIFEST);
	if (fs_write_atomic(path, b.s, b.len, err) < 0)
		goto out;
	u->st->bytes_written += b.len;
	u->st->committed = 1;
	ret = 0;
out:
	free(path);
	buf_release(&b);
	free(hashes);
	return ret;
}

/* The sizes of the files of version m, its manifest included. */
static unsigned long long version_bytes(const char *dir, const struct manifest *m)
{
	unsigned long long sum = 0;
	struct stat st;
	char *p = xasprintf("%s/%s", dir, INDEX_MANIFEST);

	if (!stat(p, &st))
		sum += (unsigned long long)st.st_size;
	free(p);
	for (size_t i = 0; i < m->nseg; i++) {
		const char *names[3] = { m->segs[i].file, m->segs[i].dead, m->segs[i].fts };

		for (int k = 0; k < 3; k++) {
			if (!names[k])
				continue;
			p = xasprintf("%s/%s", dir, names[k]);
			if (!stat(p, &st))
				sum += (unsigned long long)st.st_size;
			free(p);
		}
	}
	for (size_t i = 0; i < m->ntomb; i++) {
		p = xasprintf("%s/%s", dir, m->tombs[i].file);
		if (!stat(p, &st))
			sum += (unsigned long long)st.st_size;
		free(p);
	}
	return sum;
}

/* Frees the chunks and the diff (the old rows' map, the new bitmaps). */
static void reset_diff(struct upd *u)
{
	for (size_t i = 0; i < u->nchunks; i++) {
		if (u->chunks[i].borrowed)
			continue;
		free(u->chunks[i].id);
		free(u->chunks[i].doc);
		free(u->chunks[i].text);
	}
	free(u->chunks);
	u->chunks = NULL;
	u->nchunks = u->calloc_ = 0;
	for (size_t s = 0; u->dead && s < u->ndead; s++)
		free(u->dead[s]);
	free(u->dead);
	free(u->dead_rows);
	free(u->dead_changed);
	u->dead = NULL;
	u->dead_rows = NULL;
	u->dead_changed = NULL;
	free(u->old_live);
	free(u->old_seen);
	free(u->old_rows);
	free(u->fp_slots);
	u->old_live = NULL;
	u->old_seen = NULL;
	u->old_rows = NULL;
	u->fp_slots = NULL;
	u->nold_live = 0;
	free(u->id_slots);
	u->id_slots = NULL;
}

static void upd_release(struct upd *u)
{
	reset_diff(u);
	free(u->tombs);
	free(u->nvecs);
	for (size_t i = 0; i < u->nouts; i++)
		free(u->outs[i].rows);
	free(u->outs);
	if (u->ix != &u->empty_ix)
		index_close(u->ix);
	manifest_release(&u->old);
	manifest_release(&u->next);
	rpv_map_release(&u->vm);
	if (u->cdata && !u->cowned)
		fs_unmap(u->cdata, u->clen);
	free(u->cowned);
	free(u->lines);
	free(u->lfp);
	if (u->lock_fd >= 0)
		close(u->lock_fd);
}

/* The second thread: reads the vectors, then fingerprints the chunk lines. */
struct vec_job {
	struct upd *u;
	struct rp_err err;
	int rc;
};

static void *read_vectors_job(void *arg)
{
	struct vec_job *job = arg;

	job->rc = rpv_map_open(&job->u->vm, job->u->o->vectors, &job->err);
	hash_lines(job->u, 0, job->u->nlines);
	return NULL;
}

/*
 * Reads the chunk file, then the vectors and the fingerprints of the chunk
 * lines on a second thread while this one maps the old rows; then diffs the chunks against the old
 * version and checks them against the vectors. Problems are reported in
 * this order: the vectors file, the embedding space, the first chunk line
 * that is bad or lacks its vector.
 */
static int read_inputs(struct upd *u, struct rp_err *err)
{
	struct vec_job job = { u, { 0 }, 0 };
	struct rp_err cerr = { 0 };
	pthread_t th;
	int threaded, crc, sp;

	if (lock_dir(u, err) < 0 || open_old(u, err) < 0)
		return -1;
	crc = load_chunks(u, &cerr);
	threaded = !pthread_create(&th, NULL, read_vectors_job, &job);
	if (!crc)
		crc = map_old_rows(u, &cerr);
	if (threaded)
		pthread_join(th, NULL);
	else
		read_vectors_job(&job);
	if (job.rc < 0) {
		*err = job.err;
		return -1;
	}
	if (!crc)
		crc = read_chunks(u, &cerr);
	sp = settle_space(u, err);
	if (sp < 0)
		return -1;
	if (sp > 0 && !u->lfp) {
		crc = -1;   /* the chunk file could not be read: cerr says why */
	} else if (sp > 0) {
		reset_diff(u);
		u->st->added = u->st->updated = u->st->unchanged = 0;
		crc = map_old_rows(u, &cerr) < 0 || read_chunks(u, &cerr) < 0 ? -1 : 0;
	}
	if (check_vectors(u, err) < 0)
		return -1;
	if (crc < 0)
		*err = cerr;
	return crc;
}

int index_update(const struct update_opts *o, struct update_stats *st, struct rp_err *err)
{
	struct upd u;
	int ret = -1;

	memset(&u, 0, sizeof(u));
	memset(st, 0, sizeof(*st));
	u.lock_fd = -1;
	u.o = o;
	u.st = st;
	if (read_inputs(&u, err) < 0)
		goto out;
	u.distance = o->distance ? o->distance : u.have_old ? u.ix->distance : "cosine";
	delete_unseen(&u);
	if (u.have_old && !st->added && !st->updated && !st->deleted &&
	    u.old.has_fts == !o->no_fts) {
		char *pick = xcalloc(u.ix->nseg + 2, 1);
		size_t npick = 0;

		plan(&u, 0, pick);
		for (size_t s = 0; s < u.ix->nseg; s++)
			npick += pick[s];
		free(pick);
		if (!npick) {
			/* nothing to change: the old version stays as it is, byte for byte */
			st->segments = u.ix->nseg;
			st->bytes_total = version_bytes(o->dir, &u.old);
			remove_unnamed(o->dir, &u.old);
			ret = 0;
			goto out;
		}
	}
	if (commit(&u, err) < 0)
		goto out;
	remove_unnamed(o->dir, &u.next);
	st->segments = u.next.nseg;
	st->bytes_total = version_bytes(o->dir, &u.next);
	ret = 0;
out:
	upd_release(&u);
	return ret;
}
