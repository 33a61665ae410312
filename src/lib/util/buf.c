/*
 * buf.c - growable NUL-terminated byte buffer (after git's strbuf).
 *
 * Invariant: b->s[b->len] == '\0'; b->s points to buf_empty while alloc == 0.
 */
#include "util/buf.h"
#include "util/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <stdlib.h>

char buf_empty[1];

void buf_init(struct buf *b)
{
	b->s = buf_empty;
	b->len = 0;
	b->alloc = 0;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->s);
	buf_init(b);
}

char *buf_detach(struct buf *b)
{
	char *s = b->alloc ? b->s : xstrdup("");

	buf_init(b);
	return s;
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->alloc)
		return;
	if (!b->alloc) {
		b->s = NULL;
	}
	size_t n = b->alloc ? b->alloc * 2 : 64;
	while (n < need)
		n *= 2;
	b->s = xrealloc(b->s, n);
	if (!b->alloc)
		b->s[0] = '\0';
	b->alloc = n;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->alloc)
		b->s[0] = '\0';
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	memcpy(b->s + b->len, data, len);
	b->len += len;
	b->s[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, int c)
{
	buf_grow(b, 1);
	b->s[b->len++] = (char)c;
	b->s[b->len] = '\0';
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(b->s + b->len, b->alloc ? b->alloc - b->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		BUG("vsnprintf failed");
	if ((size_t)n >= (b->alloc ? b->alloc - b->len : 0)) {
		buf_grow(b, (size_t)n);
		n = vsnprintf(b->s + b->len, b->alloc - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void buf_add_json_str(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	buf_addch(b, '"');
	for (; *p; p++) {
		switch (*p) {
		case '"': buf_adds(b, "\\\""); break;
		case '\\': buf_adds(b, "\\\\"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\t': buf_adds(b, "\\t"); break;
		case '\r': buf_adds(b, "\\r"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				buf_addf(b, "\\u%04x", *p);
			else
				buf_addch(b, *p);
		}
	}
	buf_addch(b, '"');
}

int buf_read_file(struct buf *b, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	ssize_t n;
	int e;

	if (fd < 0)
		return -1;
	/* a regular file is read straight into the buffer, sized once */
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
		buf_grow(b, (size_t)sb.st_size);
	for (;;) {
		if (b->alloc <= b->len + 1)
			buf_grow(b, 65536);
		n = read(fd, b->s + b->len, b->alloc - b->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		b->len += (size_t)n;
	}
	b->s[b->len] = '\0';
	if (n < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return 0;
}
