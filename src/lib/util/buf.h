/*
 * buf.h - a growable byte buffer, always NUL-terminated.
 *
 * struct buf b = BUF_INIT; buf_addf(&b, ...); use b.s / b.len; buf_release(&b);
 * Appends never fail (they die on OOM). buf_detach() hands the string to the caller.
 */
#ifndef RP_BUF_H
#define RP_BUF_H

#include <stddef.h>
#include <stdarg.h>

struct buf {
	char *s;       /* NUL-terminated; "" (static) when empty and unallocated */
	size_t len;
	size_t alloc;
};

extern char buf_empty[];
#define BUF_INIT { buf_empty, 0, 0 }

/* Sets up an empty buffer. */
void buf_init(struct buf *b);
/* Frees the buffer's memory and leaves it empty. */
void buf_release(struct buf *b);
/* Returns the string (caller frees) and leaves the buffer empty. */
char *buf_detach(struct buf *b);
/* Makes room for `extra` more bytes. */
void buf_grow(struct buf *b, size_t extra);
/* Empties the buffer, keeping its memory. */
void buf_reset(struct buf *b);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addch(struct buf *b, int c);
void buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* Appends `s` as a double-quoted JSON string (also valid YAML). */
void buf_add_json_str(struct buf *b, const char *s);
/* Reads the whole file at `path` into `b`; returns 0 or -1 with errno set (no message). */
int buf_read_file(struct buf *b, const char *path);

#endif
