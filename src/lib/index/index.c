/*
 * index.c - opening an index directory for reading (index.h; the format:
 * rp-index(5)).
 *
 * index_open() reads MANIFEST.json (manifest.c), maps each segment it names
 * and checks its structure (segment.c) and that it agrees with the manifest
 * (row count, provider, model, dimension), maps each dead-row bitmap and
 * checks its size and its count of set bits, and sums the sizes of the
 * named files. It reads no file the manifest does not name, and hashes
 * nothing: a damaged file fails a check or, at worst, gives wrong answers
 * that `rp-index verify` reports; it never makes a reader go out of bounds.
 */
#include "index/index.h"
#include "index/manifest.h"
#include "index/segment.h"
#include "util/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The parsed segments, kept beside the public structs (index_row needs them). */
struct index_priv {
	struct index ix;
	struct segment *parsed;
};

static int file_size(const char *dir, const char *name, unsigned long long *sum, struct rp_err *err)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	int ret = 0;

	if (stat(path, &st) < 0)
		ret = rp_err_set(err, errno == ENOENT ? RP_ERR_INPUT : RP_ERR_IO, "cannot stat '%s' "
				 "(named by %s/%s): %s", path, dir, INDEX_MANIFEST, strerror(errno));
	else
		*sum += (unsigned long long)st.st_size;
	free(path);
	return ret;
}

/* Maps dir/name into *map, *len; refuses a missing or empty file. */
static int map_file(const char *dir, const char *name, const void **map, size_t *len,
		    struct rp_err *err)
{
	char *path = xasprintf("%s/%s", dir, name);

	*map = fs_map(path, len);
	if (!*map) {
		if (errno)
			rp_err_set(err, errno == ENOENT ? RP_ERR_INPUT : RP_ERR_IO, "cannot map '%s' "
				   "(named by %s/%s): %s", path, dir, INDEX_MANIFEST, strerror(errno));
		else
			rp_err_set(err, RP_ERR_INPUT, "'%s' (named by %s/%s) is empty or not a regular "
				   "file", path, dir, INDEX_MANIFEST);
	}
	free(path);
	return *map ? 0 : -1;
}

static size_t count_bits(const uint8_t *p, size_t rows)
{
	size_t n = 0;

	for (size_t r = 0; r < rows; r++)
		n += (p[r >> 3] >> (r & 7)) & 1;
	return n;
}

/* Maps and checks segment i (and its bitmap) of the manifest. */
static int open_seg(struct index_priv *p, const struct manifest *m, size_t i, struct rp_err *err)
{
	const struct manifest_seg *ms = &m->segs[i];
	struct index_seg *s = &p->ix.segs[i];
	struct segment *g = &p->parsed[i];
	char *name = xasprintf("%s/%s", p->ix.path, ms->file);
	int ret = -1;

	s->file = xstrdup(ms->file);
	memcpy(s->sha256, ms->sha256, HASH_HEX);
	s->rows = ms->rows;
	s->dead_rows = ms->dead_rows;
	if (map_file(p->ix.path, ms->file, &s->map, &s->map_len, err) < 0 ||
	    segment_parse(g, s->map, s->map_len, name, err) < 0)
		goto out;
	if (g->rows != ms->rows || g->dim != m->dim || g->model_len != strlen(m->model) ||
	    memcmp(g->model, m->model, g->model_len) || g->provider_len != strlen(m->provider) ||
	    memcmp(g->provider, m->provider, g->provider_len)) {
		rp_err_set(err, RP_ERR_INPUT, "%s: rows, dimension or model differ from %s/%s; the index "
			   "is damaged: rebuild it with 'rp-index update --rebuild'", name, p->ix.path,
			   INDEX_MANIFEST);
		goto out;
	}
	s->vecs = g->vecs;
	s->qvecs = g->qvecs;
	s->qscale = g->qscale;
	p->ix.bytes += s->map_len;
	if (ms->dead) {
		if (map_file(p->ix.path, ms->dead, &s->dead_map, &s->dead_len, err) < 0)
			goto out;
		s->dead = s->dead_map;
		p->ix.bytes += s->dead_len;
		if (s->dead_len != (s->rows + 7) / 8 || count_bits(s->dead, s->rows) != s->dead_rows) {
			rp_err_set(err, RP_ERR_INPUT, "%s/%s: size or count of dead rows differs from %s/%s",
				   p->ix.path, ms->dead, p->ix.path, INDEX_MANIFEST);
			goto out;
		}
	}
	p->ix.live += s->rows - s->dead_rows;
	ret = 0;
out:
	free(name);
	return ret;
}

static int open_files(struct index_priv *p, const struct manifest *m, struct rp_err *err)
{
	struct index *ix = &p->ix;

	ix->segs = xcalloc(m->nseg + 1, sizeof(*ix->segs));
	p->parsed = xcalloc(m->nseg + 1, sizeof(*p->parsed));
	for (size_t i = 0; i < m->nseg; i++, ix->nseg++)
		if (open_seg(p, m, i, err) < 0) {
			ix->nseg++;
			return -1;
		}
	if (m->has_fts) {
		ix->fts_files = xcalloc(m->nseg + 1, sizeof(char *));
		for (size_t i = 0; i < m->nseg; i++) {
			ix->fts_files[i] = xstrdup(m->segs[i].fts);
			if (file_size(ix->path, m->segs[i].fts, &ix->bytes, err) < 0)
				return -1;
		}
	}
	ix->tomb_files = xcalloc(m->ntomb + 1, sizeof(char *));
	for (size_t i = 0; i < m->ntomb; i++, ix->ntomb_files++) {
		ix->tomb_files[i] = xstrdup(m->tombs[i].file);
		if (file_size(ix->path, m->tombs[i].file, &ix->bytes, err) < 0) {
			ix->ntomb_files++;
			return -1;
		}
	}
	if (ix->live != m->chunks)
		return rp_err_set(err, RP_ERR_INPUT, "%s/%s: counts.chunks is %zu but the segments hold "
				  "%zu live rows; the index is damaged: rebuild it with 'rp-index "
				  "update --rebuild'", ix->path, INDEX_MANIFEST, m->chunks, ix->live);
	return 0;
}

int index_open(struct index **out, const char *dir, int allow_empty, struct rp_err *err)
{
	struct index_priv *p = xcalloc(1, sizeof(*p));
	struct index *ix = &p->ix;
	struct manifest m;
	int rc;

	*out = NULL;
	ix->path = xstrdup(dir);
	rc = manifest_read(&m, dir, allow_empty, err);
	if (rc < 0)
		goto fail;
	if (rc > 0) {
		manifest_release(&m);
		*out = ix;
		return 0;
	}
	ix->provider = xstrdup(m.provider);
	ix->model = xstrdup(m.model);
	ix->distance = xstrdup(m.distance);
	ix->dim = m.dim;
	ix->generation = m.generation;
	memcpy(ix->digest, m.digest, HASH_HEX);
	ix->documents = m.documents;
	ix->tombstones = m.tombstones;
	if (open_files(p, &m, err) < 0)
		goto fail;
	manifest_release(&m);
	*out = ix;
	return 0;
fail:
	manifest_release(&m);
	index_close(ix);
	return -1;
}

void index_close(struct index *ix)
{
	struct index_priv *p = (struct index_priv *)ix;

	if (!ix)
		return;
	for (size_t i = 0; i < ix->nseg; i++) {
		free(ix->segs[i].file);
		fs_unmap(ix->segs[i].map, ix->segs[i].map_len);
		fs_unmap(ix->segs[i].dead_map, ix->segs[i].dead_len);
		if (ix->fts_files)
			free(ix->fts_files[i]);
	}
	free(ix->segs);
	free(ix->fts_files);
	for (size_t i = 0; i < ix->ntomb_files; i++)
		free(ix->tomb_files[i]);
	free(ix->tomb_files);
	free(p->parsed);
	free(ix->path);
	free(ix->provider);
	free(ix->model);
	free(ix->distance);
	free(p);
}

int index_row(const struct index *ix, size_t s, size_t r, struct index_row *row, struct rp_err *err)
{
	const struct index_priv *p = (const struct index_priv *)ix;
	struct seg_row sr;

	if (s >= ix->nseg || r >= ix->segs[s].rows)
		BUG("row (%zu, %zu) out of range", s, r);
	if (segment_row(&p->parsed[s], r, &sr, ix->segs[s].file, err) < 0)
		return -1;
	row->chunk_id = sr.chunk_id;
	row->chunk_id_len = sr.chunk_id_len;
	row->doc_id = sr.doc_id;
	row->doc_id_len = sr.doc_id_len;
	row->text = sr.text;
	row->text_len = sr.text_len;
	memcpy(row->content_hash, sr.content_hash, HASH_HEX);
	row->line_fp = sr.line_fp;
	return 0;
}
