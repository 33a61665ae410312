/*
 * doccache.h - parsed YAML files kept in binary form, so an unchanged
 * rp.yaml (or params file) is not parsed again by every command.
 *
 * libyaml parses at about 300 instructions a byte: a 1,000-stage rp.yaml
 * (120 KB) cost 3 ms of every no-op `rp repro`. The cache is a handle
 * (doccache_open) that its user passes explicitly: the workspace opens one
 * on .rp/parsed and loads the pipeline and its params files through it;
 * doc.c itself knows nothing of this cache. doccache_load() looks for the
 * file "<dir>/<sha256 of the path>" holding
 *     "rpydoc1\n"   magic
 *     path          bin.h string: the path it was made for
 *     source        64 hex digits: sha256 of the YAML bytes it was parsed from
 *     doc           doc_encode()
 *     check         64 hex digits: sha256 of everything before it
 * and uses it only when path, source hash and check all match; otherwise it
 * parses and rewrites the entry. A torn, stale or corrupt entry is thus a
 * miss, never a wrong document; deleting the directory is always safe.
 */
#ifndef RP_DOCCACHE_H
#define RP_DOCCACHE_H

#include <stddef.h>
#include "yaml/doc.h"

struct doccache;

/*
 * A cache of parsed files in directory `dir` (copied; created when first
 * written). Opening touches nothing on disk. Free with doccache_close().
 */
struct doccache *doccache_open(const char *dir);
/* Frees the handle; doccache_close(NULL) does nothing. */
void doccache_close(struct doccache *c);
/*
 * doc_load_buf() of the bytes data[0..len) of `path`, through cache `c`
 * (NULL: no cache, a plain parse): a valid entry is decoded instead of
 * parsed, and a parse is recorded (failures to record are ignored: it is a
 * cache). Same result and errors as doc_load_buf(); free with doc_free().
 */
struct doc *doccache_load(struct doccache *c, const char *path, const char *data, size_t len,
			  struct rp_err *err);
/* As doc_load_file() (same limits and errors), through cache `c` (NULL: none). */
struct doc *doccache_load_file(struct doccache *c, const char *path, struct rp_err *err);

#endif
