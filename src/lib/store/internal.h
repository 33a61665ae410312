/*
 * internal.h - what the store's modules share, not for use outside
 * src/lib/store/ (the public interface is store.h).
 *
 * The store is one design (described at the top of store.c) in five files:
 *     store.c     opening, temp files, syncing, walking the objects
 *     manifest.c  directory manifests: text, parsing, reading
 *     tree.c      hashing a file or directory into a tree (with the state)
 *     save.c      writing objects and linking or copying them out
 *     checkout.c  checkout: staging in tmp/, verifying, renaming into place
 */
#ifndef RP_STORE_INTERNAL_H
#define RP_STORE_INTERNAL_H

#include "util/buf.h"
#include "util/error.h"
#include "util/hash.h"

#include <stdint.h>
#include <sys/stat.h>

struct store;
struct objinfo;

/* One regular file of a tree being hashed or saved. */
struct tfile {
	char *rel;            /* path below the top; "" for a lone file */
	char *full;           /* the path as the state knows it */
	struct stat st;       /* identity when listed (symlinks followed) */
	char hex[HASH_HEX];
};

struct tree {
	struct tfile *v;
	size_t n, alloc;
};

/* One line of a manifest. */
struct mentry {
	char hex[HASH_HEX];
	uint64_t size;
	unsigned mode;
	char *rel;
};

struct manifest {
	struct mentry *v;
	size_t n, alloc;
};

/* ---- store.c */

/* Frees the files of `t` and leaves it empty. */
void store_tree_release(struct tree *t);

/* Frees the entries of `m` and leaves it empty. */
void store_manifest_release(struct manifest *m);

/* A file's manifest mode (see the header): 644, 755, 600 or 700. */
unsigned store_norm_mode(mode_t m);

/* Whether manifest mode `m` is owner-only. */
int store_mode_private(unsigned m);

/* Fills err: object `hex` (for workspace `path`, if not NULL) is missing. Returns -1. */
int store_missing_err(struct rp_err *err, const char *hex, const char *path);

/* Fills err: object `hex` (for `path`, if not NULL) hashes to `actual`. Returns -1. */
int store_corrupt_err(struct rp_err *err, const char *hex, const char *path, const char *actual);

/*
 * A new temp file (open in *fd) or directory (`dir`) in STORE/tmp, named
 * after this process; registered (fs_temp_register). NULL + err; the caller
 * frees.
 */
char *store_temp(struct store *st, int *fd, int dir, struct rp_err *err);

/*
 * A fresh unused name for what will be renamed to workspace path `path`:
 * in STORE/tmp when it is on the same file system, else beside `path`.
 * Registered as a temp; the caller frees.
 */
char *store_temp_name_for(struct store *st, const char *path, struct rp_err *err);

/* As store_temp_name_for(), a new directory. */
char *store_tempdir_for(struct store *st, const char *path, struct rp_err *err);

/*
 * Notes a file written into the store ("<dir>/<2 hex>/<62 hex>"): the file,
 * its fan-out directory and that directory's parent, which may have just
 * gained the fan-out directory.
 */
void store_note_written(struct store *st, const char *file);

/* 1 if the object `hex` is in the store, else 0. */
int store_object_exists(const struct store *st, const char *hex);

/* ---- manifest.c */

/* Appends the manifest text of the collected directory tree `t` to b. */
void store_manifest_text(const struct tree *t, struct buf *b);

/* Reads (and with `verify`, checks the bytes of) the manifest `hex` into m. */
int store_read_manifest(const struct store *st, const char *hex, const char *path,
			int verify, struct manifest *m, struct rp_err *err);

/* ---- tree.c */

/*
 * Lists `path` (a file, or a directory's files sorted by relative path) into
 * t and fills every hex: from the state when it vouches, otherwise by
 * hashing the misses on many threads and recording them in the state.
 */
int store_collect(struct store *st, const char *path, int *isdir, struct tree *t,
		  struct rp_err *err);

/* Strips trailing slashes ("out/" and "out" are one path); the caller frees. */
char *store_clean_path(const char *path);

/* Fills oi from a collected tree; `manifest` (if non-NULL) gets the manifest text. */
void store_tree_info(const struct tree *t, int isdir, struct objinfo *oi, struct buf *manifest);

/* ---- save.c */

/*
 * Places object `obj` at `dst` (workspace `path`) with each configured link
 * type in turn (links, reflink, copy); 0, or -1 + err if none works.
 */
int store_materialize(const struct store *st, const char *obj, const char *dst,
		      const char *path, mode_t mode, int sync, struct rp_err *err);

#endif
