/*
 * vectors.h - vectors.rpv, the embeddings of a chunk file (rp-embed writes
 * it, rp-index reads it).
 *
 * Layout (all integers little-endian, no padding, no alignment):
 *
 *     offset  size  field
 *     0       4     magic "RPV1"
 *     4       4     u32 format version (1)
 *     8       4     u32 dimension D (1 .. 65536; 0 only when N is 0)
 *     12      8     u64 count N of records
 *     20      2     u16 length P of the provider name, then P bytes (UTF-8)
 *     ..      2     u16 length M of the model id, then M bytes (UTF-8)
 *     then N records, in the order of the input chunks:
 *             4     u32 length L of the chunk_id (1 .. 2^20), then L bytes (UTF-8)
 *             32    content_hash: the SHA-256 of the embedded text, raw bytes
 *             4*D   D IEEE-754 binary32 floats, the vector, all finite
 *     end-32  32    SHA-256 of every byte before it (the trailer)
 *
 * The same chunks and vectors always give the same bytes. Chunk ids are
 * unique within a file. Every vector of a file was made by the one provider
 * and model named in the header.
 *
 * Writing: fill a struct rpv (rpv_init, rpv_add for each chunk) and call
 * rpv_write(), which writes through a temp file and rename (a FIFO or a
 * device in place: fs_write_output). Reading:
 * rpv_read() validates everything (magic, version, sizes, count, trailer,
 * finite numbers, unique ids) and fails with a message naming the file;
 * rpv_map_open() checks the structure only, in place (see below).
 */
#ifndef RP_VECTORS_H
#define RP_VECTORS_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"
#include "util/hash.h"

#define RPV_MAGIC "RPV1"
#define RPV_VERSION 1
#define RPV_MAX_DIM 65536
#define RPV_MAX_ID (1u << 20)

struct rpv {
	char *provider;          /* owned */
	char *model;             /* owned */
	uint32_t dim;
	size_t count, alloc;
	char **ids;              /* count owned strings */
	char (*hashes)[HASH_HEX];/* count lowercase hex digests */
	float *vecs;             /* count * dim floats, row i at vecs + i * dim */
};

/* Sets up an empty set of `dim`-dimensional vectors; copies provider and model. */
void rpv_init(struct rpv *v, const char *provider, const char *model, uint32_t dim);
/* Frees everything `v` owns and leaves it empty. */
void rpv_release(struct rpv *v);
/* Makes room for n records in all (an optimisation; rpv_add grows as needed). */
void rpv_reserve(struct rpv *v, size_t n);
/*
 * Appends a record: copies `id`, the 64-hex `content_hash` and dim floats
 * from `vec`. Returns the row index.
 */
size_t rpv_add(struct rpv *v, const char *id, const char *content_hash, const float *vec);
/* Row i's vector (owned by v). */
static inline float *rpv_vec(const struct rpv *v, size_t i) { return v->vecs + i * (size_t)v->dim; }

/* Appends the .rpv bytes of `v` to `out`; 0, or -1 + err (RP_ERR_INPUT) for an invalid record. */
struct buf;
int rpv_encode(const struct rpv *v, struct buf *out, struct rp_err *err);
/* Writes `v` to `path` atomically; 0, or -1 + err. */
int rpv_write(const struct rpv *v, const char *path, struct rp_err *err);
/*
 * Parses `len` bytes of .rpv data into `v` (set up here; rpv_release it
 * even on failure). `name` names the source in messages. 0, or -1 + err
 * (RP_ERR_INPUT: "NAME: truncated at byte 1234 (record 7 of 10)" and so on).
 */
int rpv_decode(struct rpv *v, const void *data, size_t len, const char *name, struct rp_err *err);
/* Reads and validates the file at `path` into `v` (rpv_release it even on failure). */
int rpv_read(struct rpv *v, const char *path, struct rp_err *err);

/*
 * A .rpv file read in place, for a reader that needs few of its vectors
 * (rp-index update): the header and every record's bounds are checked (as
 * rpv_decode does), but neither the trailer digest, nor the floats, nor the
 * uniqueness of the ids; rpv_map_vec() checks the one vector it copies.
 * The ids and hashes point into the file's bytes.
 */
struct rpv_map {
	char *provider;          /* owned */
	char *model;             /* owned */
	uint32_t dim;
	size_t count;
	const unsigned char **recs; /* count pointers to each record's id (after its length) */
	uint32_t *id_lens;       /* count id lengths */
	const void *data;        /* the file's bytes: a mapping, or `owned` */
	size_t len;
	void *owned;             /* when the file could not be mapped (a FIFO): read here */
};

/*
 * Maps (or, for a FIFO, reads) the file at `path` into `m` and checks its
 * structure; 0, or -1 + err. rpv_map_release it even on failure.
 */
int rpv_map_open(struct rpv_map *m, const char *path, struct rp_err *err);
/* Record i's content hash: 32 raw bytes, in the file. */
static inline const unsigned char *rpv_map_hash(const struct rpv_map *m, size_t i)
{
	return m->recs[i] + m->id_lens[i];
}
/*
 * Copies record i's vector into out[0..dim); 0, or -1 + err (naming the
 * file `name`) when a component is not finite.
 */
int rpv_map_vec(const struct rpv_map *m, size_t i, float *out, const char *name,
		struct rp_err *err);
/* Unmaps and frees; leaves `m` empty. */
void rpv_map_release(struct rpv_map *m);

#endif
