/*
 * store.h - the content-addressed store under .rp/cache and the run-cache.
 *
 * Objects: .rp/cache/objects/<2 hex>/<62 hex>, read-only, named by the
 * SHA-256 of their bytes. A directory is stored as its files' objects plus a
 * manifest object listing them; the directory's hash is the manifest's hash.
 * Manifest format (text, one line per file, sorted bytewise by path):
 *     <sha256 hex> <size> <mode octal> <relative/path>\n
 * Invariant: an object's bytes hash to its name. Objects are written to a
 * temp file and renamed into place; an existing object of that name is success.
 *
 * Run-cache: the table of .rp/cache/runs.db (runcache.c), the outs a stage
 * key produced (the text is the caller's; rp writes the lock's outs as
 * JSON). Entries that earlier rp versions wrote one file each, in
 * .rp/cache/runs/<2 hex>/<62 hex>, are still read.
 *
 * The implementation is split by concern (store.c, manifest.c, tree.c,
 * save.c, checkout.c, runcache.c; see internal.h); the design is at the
 * top of store.c.
 */
#ifndef RP_STORE_H
#define RP_STORE_H

#include <stdint.h>
#include <stddef.h>
#include <sys/stat.h>
#include "util/hash.h"
#include "store/storelock.h"

struct state;

/* How workspace copies are made from objects, tried in the configured order. */
enum link_type { LINK_REFLINK, LINK_COPY, LINK_HARDLINK, LINK_SYMLINK };

/* What a path in the workspace is, by content. */
struct objinfo {
	char hash[HASH_HEX];  /* file: sha256 of bytes; dir: sha256 of its manifest */
	uint64_t size;        /* bytes (dir: sum of its files) */
	int isdir;
	uint64_t nfiles;      /* dir: number of files; file: 0 */
};

struct store {
	char *root;                /* ".rp/cache" */
	enum link_type links[4];   /* order to try; default reflink, copy */
	size_t nlinks;
	struct state *state;       /* borrowed; may be NULL (then always hash) */
	int nthreads;              /* for hashing many files; 0 = cores */
	/* files and directories written since the last sync (see store_sync()) */
	char **pending;
	size_t npending;
	int pending_overflow;      /* more than fit: the next sync is a syncfs() */
	struct sqlite3 *runs_db;   /* the run-cache, opened on first use (runcache.c) */
	int runs_legacy;           /* runs/ of earlier versions: 0 unknown, 1 there, -1 not */
	struct store_lease lease;  /* held from store_open() to store_free() (storelock.h) */
	int created;               /* store_open() made the root: see store_set_creator() */
	int tmp_state;             /* STORE/tmp: 0 not looked at, 1 there (tmp_dev), -1 unusable */
	dev_t tmp_dev;
};

/*
 * Opens the store rooted at `root` (created if missing) and takes its shared
 * lease (storelock.h): until store_free(), no gc deletes from it. May wait,
 * with a message on stderr, while a gc runs. NULL + err.
 */
struct store *store_open(const char *root, struct state *state, struct rp_err *err);
/* Releases the lease and frees everything. store_free(NULL) does nothing. */
void store_free(struct store *st);
/*
 * Records in STORE/creator the absolute path of the workspace `ws_root` whose
 * rp made the store (call when st->created): gc deletes from a store outside
 * the workspace only when it names the workspace (gc.h). 0 or -1 + err.
 */
int store_set_creator(struct store *st, const char *ws_root, struct rp_err *err);
/*
 * The workspace path recorded in STORE/creator (caller frees), or NULL when
 * there is none (a store made by an older rp, or not by rp).
 */
char *store_creator(const struct store *st);
/* Parses "reflink,copy" / "hardlink" etc. into st->links; -1 + err on an unknown name. */
int store_set_links(struct store *st, const char *spec, struct rp_err *err);

/* Path of the object `hex`; the caller frees. */
char *store_object_path(const struct store *st, const char *hex);
/* 1 if the object exists (and for a dir: its manifest and every file object), else 0. */
int store_has(const struct store *st, const struct objinfo *oi);
/*
 * As store_has(), but a directory manifest that is there and malformed (see
 * store.c) is an error, not a miss: 1 present, 0 missing, -1 + err.
 */
int store_has_err(const struct store *st, const struct objinfo *oi, struct rp_err *err);

/*
 * Hashes `path` (file or directory, following the state cache so unchanged
 * files are not re-read; a directory's files are hashed on many threads).
 * Fills `oi`. Does not store anything. -1 + err (RP_ERR_IO) if missing/unreadable.
 */
int store_hash_path(struct store *st, const char *path, struct objinfo *oi, struct rp_err *err);

/*
 * Turns on remembering which files a stat has confirmed (state_track()), so
 * a file that is one stage's out and the next stage's dep is stat'ed (and,
 * when just written, hashed) once per run, not twice. The caller promises to
 * call store_memo_clear() whenever workspace files may have changed (a stage
 * starts or ends); checkouts clear it themselves, and store_save(relink)
 * records the new stat of each file it relinks.
 */
void store_memo_enable(struct store *st);
/* Forgets every remembered result (no-op when the memo is off). */
void store_memo_clear(struct store *st);
/*
 * Tells the memo that `path` was just stat'ed (or lstat'ed: it is no link)
 * and is the regular file `sb`, so store_hash_path() need not stat it again.
 * `st` is a struct store (void * so it can be a dag_check_sources() callback).
 */
void store_memo_stat(void *st, const char *path, const struct stat *sb);

/*
 * Saves the bytes of `path` (already hashed into `oi`) into the store. When
 * `relink` is set, the workspace copy is then replaced by a link made with
 * the configured link type (read-only for hardlink/symlink). 0 or -1 + err.
 */
int store_save(struct store *st, const char *path, const struct objinfo *oi,
	       int relink, struct rp_err *err);

/*
 * Makes `path` hold exactly the object `oi` (file or directory), built beside
 * it and renamed into place so `path` is never half-written. Verifies that the
 * objects' bytes match their names before using them (a corrupt object is an
 * error, never served). -1 + err when an object is missing or corrupt.
 */
int store_checkout(struct store *st, const struct objinfo *oi, const char *path,
		   struct rp_err *err);

/*
 * The two halves of store_checkout(), for callers that must change several
 * paths all or nothing: prepare builds and verifies `oi` beside `path`
 * without touching it (NULL + err on a missing or corrupt object); commit
 * renames it into place and frees the handle, even on failure; abort
 * discards it. store_checkout_abort(NULL) does nothing.
 */
struct store_staged;
struct store_staged *store_checkout_prepare(struct store *st, const struct objinfo *oi,
					    const char *path, struct rp_err *err);
int store_checkout_commit(struct store *st, struct store_staged *s, struct rp_err *err);
void store_checkout_abort(struct store_staged *s);

/* Every object hash a dir manifest references (for gc): calls fn for each. 0 or -1. */
int store_manifest_each(const struct store *st, const char *dirhash,
			int (*fn)(const char *hex, void *ctx), void *ctx, struct rp_err *err);

/*
 * Calls fn(path, hex, ctx) for every file named like a hash under `dir`
 * laid out as <dir>/<2 hex>/<62 hex> (st->root + "/objects" or "/runs"); other
 * names are skipped. A missing dir is empty. fn returning -1 stops the walk
 * (its error is its own); 0 or -1 (err filled for a listing failure).
 */
int store_walk(const char *dir, int (*fn)(const char *path, const char *hex, void *ctx),
	       void *ctx, struct rp_err *err);

/*
 * Makes everything written so far durable against a power cut, with one
 * syncfs(2) of the store's file system (which, for rp's usual layout, also
 * holds the workspace). Objects, run-cache entries and checkouts are written
 * by rename but not fsynced one by one; rp calls this before every rp.lock
 * write, so a lock on disk never names bytes that are not. 0 or -1 + err.
 */
int store_sync(struct store *st, struct rp_err *err);
/*
 * As store_sync(), but when this store has written only a few files since
 * the last sync (at most 64: an incremental run), fsyncs just those and their
 * directories, so a one-stage change does not wait for everything else dirty
 * on the file system. Falls back to syncfs() otherwise.
 */
int store_sync_written(struct store *st, struct rp_err *err);

/* Records the run-cache entry for `key` (runcache.c). 0 or -1 + err. */
int store_run_put(struct store *st, const char *key, const char *text, struct rp_err *err);
/* The run-cache entry for `key` (caller frees), or NULL if there is none. */
char *store_run_get(struct store *st, const char *key);
/*
 * Deletes the run-cache entries whose key is not in keep[0..nkeep) (sorted
 * by strcmp), or only counts them with dry_run; adds to *count and *bytes
 * and calls `report` (may be NULL) with "run-cache entry KEY" and its size.
 * 0 or -1 + err.
 */
int store_run_sweep(struct store *st, char **keep, size_t nkeep, int dry_run,
		    uint64_t *count, uint64_t *bytes,
		    void (*report)(const char *what, uint64_t size, void *ctx), void *ctx,
		    struct rp_err *err);
/* Closes the run-cache database, if open (store_free() does). */
void store_run_close(struct store *st);

/*
 * Stores `len` bytes at `data` as an object (if absent) and writes its hash
 * to `hex`. 0 or -1 + err.
 */
int store_put_buf(struct store *st, const void *data, size_t len, char hex[HASH_HEX],
		  struct rp_err *err);

/*
 * Checks that object `hex` exists and that its bytes hash to its name.
 * 0 if so; -1 + err otherwise, with `actual` (if non-NULL) set to the hash
 * of the bytes for a corrupt object and to "" for a missing one.
 */
int store_verify_object(const struct store *st, const char *hex, char actual[HASH_HEX],
			struct rp_err *err);

#endif
