/*
 * jsonl.h - JSON Lines artifacts: one object per line, read with line
 * numbers for errors, written byte-deterministically and atomically.
 *
 * Reading:
 *     struct jsonl_reader r;
 *     if (jsonl_open(&r, "docs.jsonl", &err) < 0) ...
 *     while ((rc = jsonl_next(&r, &obj, &err)) > 0) { ...; json_decref(obj); }
 *     jsonl_close(&r);
 * Writing: collect json_t objects in a struct jsonl_out, then
 * jsonl_write_atomic() dumps each with sorted keys and no spaces, one per
 * line, through a temp file and rename: a failed run leaves no output.
 */
#ifndef RP_JSONL_H
#define RP_JSONL_H

#include <stdio.h>
#include <jansson.h>
#include "util/buf.h"
#include "util/error.h"

struct jsonl_reader {
	FILE *f;
	char *path;        /* for messages ("-" is stdin) */
	size_t line;       /* 1-based number of the line last read */
	char *line_buf;    /* getline(3) buffer */
	size_t line_alloc;
};

/* Opens `path` ("-": stdin) for reading. 0, or -1 + err (RP_ERR_IO). */
int jsonl_open(struct jsonl_reader *r, const char *path, struct rp_err *err);
/* As jsonl_open() for `len` bytes at `data` (borrowed until jsonl_close), named `name`. */
int jsonl_open_mem(struct jsonl_reader *r, const char *name, const char *data, size_t len,
		   struct rp_err *err);
/*
 * Reads the next non-empty line into *obj (a new reference: the caller
 * decrefs). Returns 1, 0 at the end, or -1 + err ("path:LINE:COL: ...",
 * RP_ERR_INPUT) when the line is not a JSON object.
 */
int jsonl_next(struct jsonl_reader *r, json_t **obj, struct rp_err *err);
void jsonl_close(struct jsonl_reader *r);

/*
 * Gets a string field of `obj`; NULL + err naming the file and line of the
 * reader when the field is missing or not a string. Borrowed from obj.
 */
const char *jsonl_get_str(const struct jsonl_reader *r, json_t *obj, const char *field,
			  struct rp_err *err);

/* Appends the canonical one-line text of `obj` (sorted keys, compact, UTF-8) and '\n'. */
void jsonl_dump(json_t *obj, struct buf *out);
/*
 * Writes `text` to `path` ("-": stdout) as fs_write_output() does: a file
 * atomically, a FIFO or device in place; the parent directories are made.
 * 0 or -1 + err.
 */
int jsonl_write_file(const char *path, const struct buf *text, struct rp_err *err);

#endif
