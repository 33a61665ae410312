/*
 * doccache.h - parsed YAML files kept in binary form, so an unchanged
 * rp.yaml (or params file) is not parsed again by every command.
 *
 * libyaml parses at about 300 instructions a byte: a 1,000-stage rp.yaml
 * (120 KB) cost 3 ms of every no-op `rp repro`. When a cache directory is set
 * (the workspace sets .rp/parsed), doc_load_file() looks for the file
 * "<dir>/<sha256 of the path>" holding
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

/* Sets the cache directory (copied; created when first written); NULL turns caching off. */
void doccache_set_dir(const char *dir);
/*
 * doc_load_buf() of the bytes data[0..len) of `path`, through the cache when
 * one is set: a valid entry is decoded instead of parsed, and a parse is
 * recorded (failures to record are ignored: it is a cache). Same result and
 * errors as doc_load_buf(); free with doc_free().
 */
struct doc *doccache_load(const char *path, const char *data, size_t len, struct rp_err *err);

#endif
