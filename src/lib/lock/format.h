/*
 * format.h - rp.lock's YAML text: parsing and emitting it.
 *
 * Format (YAML, written by libyaml's emitter; stages sorted by name, fields
 * in a fixed order, so a re-run that changes nothing rewrites the same bytes):
 *
 *     schema: rp.lock/1
 *     stages:
 *       chunk:
 *         key: <stage key, see key.h>
 *         cmd: <string, or a list when the stage has several>
 *         wdir: <only when not ".">
 *         deps:
 *         - path: build/docs.jsonl
 *           hash: <sha256>
 *           size: <bytes>
 *           nfiles: <only for a directory>
 *         params:
 *           params.yaml:
 *             chunker.size: 800          (values in canonical form)
 *         outs:
 *         - path: ...   (as deps; plus `cache: false` when not stored)
 *
 * Paths are checked as they are parsed (util/wspath.h): a dep, out, wdir or
 * params file that leaves the workspace or lies in a .git or .rp is an error.
 */
#ifndef RP_LOCK_FORMAT_H
#define RP_LOCK_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include "lock/model.h"
#include "util/buf.h"
#include "util/error.h"

/* Parses a lock from memory; `name` is used in messages. NULL + err. */
struct lock *lock_parse(const char *name, const char *data, size_t len, struct rp_err *err);
/* As lock_parse() for bytes whose sha256 (the new lock's base) is `base`. */
struct lock *lock_parse_hashed(const char *name, const char *data, size_t len,
			       const char base[HASH_HEX], struct rp_err *err);

/* Appends the YAML text of the whole lock to `out` (deterministic). */
void lock_format(const struct lock *l, struct buf *out);
/*
 * As lock_format(), but a stage whose text range (text_off, text_len) is
 * known is copied from `old` (the `oldlen` bytes of the rp.lock those ranges
 * are in; NULL: none) instead of emitted: the same bytes, for a fraction of
 * the cost. With `ranges` (room for l->n pairs), records where each stage's
 * text went in `out`.
 */
void lock_format_reusing(const struct lock *l, const char *old, size_t oldlen,
			 struct buf *out, uint64_t (*ranges)[2]);

#endif
