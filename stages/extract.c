/*
 * extract.c - rp-extract: documents from folders, files and archives into
 * docs.jsonl.
 *
 * Every CORPUS argument is walked in turn: a folder recursively (entries in
 * byte order, names starting with '.' ignored), an archive through
 * libarchive (every format and filter it reads), a plain file on its own.
 * Each file is classified by its extension:
 *
 *     .txt .text               text; title = first non-empty line, trimmed
 *     .md .markdown            text; title = first "# " heading (or setext
 *                              "===" heading) outside fenced code blocks
 *     .html .htm .xhtml        visible text and title (html-text.h)
 *     .jsonl .ndjson           one document per line, fields named by
 *                              --id-field/--text-field/--title-field
 *     .tar .tgz .zip ...       an archive, read with libarchive (inside a
 *                              folder too, but not inside another archive)
 *     anything else            skipped as unsupported
 *
 * doc_id rule: for a folder, the path relative to that folder
 * ("guides/intro.md"); for an archive, "ARCHIVE_BASENAME/path/inside"
 * (leading "./" and "/" dropped; an archive found in a folder is named by
 * its path in that folder); for a plain file, its basename; for a JSONL
 * record, the value of its id field. Two documents with the same doc_id are
 * an error that names both sources.
 *
 * Text is repaired before use: a file that starts with a UTF-16 byte-order
 * mark is decoded from UTF-16 (iconv), invalid UTF-8 bytes become U+FFFD, a
 * leading byte-order mark is dropped and CRLF becomes LF. A text file that
 * still holds a NUL byte is binary and skipped (it would put "\u0000" in
 * docs.jsonl, which no reader of rp accepts). sha256 is the SHA-256 of the
 * text. A document whose text is only white space is skipped as empty.
 * Titles (and JSONL titles) are clipped to UTF8_TITLE_MAX code points at a
 * word boundary (utf8.h): a title is copied into every chunk's context.
 *
 * Bounds: the input is someone else's, and a 257 KB .tar.zst may expand to
 * 8 GiB. A file or member is read block by block (libarchive's read loop)
 * and never beyond --max-file-size (default 64 MiB): a bigger one is
 * skipped as "too large" as soon as its declared size or its bytes pass the
 * bound, the rest of it left unread. The kept bytes of all files together
 * stay under --max-total-size (default 1 GiB); files past that bound are
 * skipped as "too large" too. Memory thus stays near 2-3 times the total
 * bound (the documents, then their JSON), whatever the archive claims.
 *
 * Nothing is dropped silently: unsupported, unreadable, empty, too large
 * and binary files are counted in the summary line and listed with
 * --verbose; --strict makes any of them an error. Output: {"doc_id","sha256","text","title"} per line,
 * sorted by doc_id (bytewise), written atomically, so equal inputs give equal
 * bytes and a failed run leaves no file. Exit: 0 ok, 1 a corrupt archive, an
 * IO error or --strict, 2 bad usage, a missing CORPUS or invalid input
 * (bad JSONL, a duplicate doc_id).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* memmem, fmemopen */
#endif
#include "util/buf.h"
#include "core/progver.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"
#include "html-text.h"
#include "util/jsonl.h"
#include "util/numopt.h"
#include "util/progress.h"
#include "util/strv.h"
#include "util/utf8.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <iconv.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_MAX_FILE (64ULL << 20)
#define DEFAULT_MAX_TOTAL (1ULL << 30)

static const char extract_usage[] =
	"usage: rp-extract CORPUS... -o FILE [--text-field F] [--id-field F] [--title-field F]\n"
	"                  [--max-file-size SIZE] [--max-total-size SIZE]\n"
	"                  [--strict] [-v|--verbose] [-q|--quiet]\n"
	"\n"
	"Extracts documents from folders, files and archives (tar, tar.gz, tar.zst, zip, ...)\n"
	"into JSON Lines {\"doc_id\",\"sha256\",\"text\",\"title\"}, sorted by doc_id.\n"
	"Reads .txt, .md, .html/.htm and .jsonl; other files are skipped and counted.\n"
	"\n"
	"  -o, --output FILE    where to write the documents ('-': standard output)\n"
	"  --text-field F       JSONL input: field with the text (default: text)\n"
	"  --id-field F         JSONL input: field with the doc_id (default: doc_id)\n"
	"  --title-field F      JSONL input: field with the title, if present (default: title)\n"
	"  --max-file-size SIZE skip (as too large) a file or archive member bigger than\n"
	"                       SIZE bytes; suffixes K, M, G (default 64M)\n"
	"  --max-total-size SIZE  skip the files past SIZE bytes in all (default 1G)\n"
	"  --strict             fail (exit 1) if any file is skipped\n"
	"  -v, --verbose        list every skipped file\n"
	"  -q, --quiet          no summary line\n"
	"  -h, --help           show this help\n"
	"      --version        rp's version and the extractor's (part of a stage's key)\n";

enum kind { K_UNKNOWN, K_TXT, K_MD, K_HTML, K_JSONL, K_ARCHIVE };

/* Why a file gave no document; SKIP_NWHY: ignored by design (hidden, the output), not counted. */
enum skip_why { SKIP_UNSUPPORTED, SKIP_UNREADABLE, SKIP_EMPTY, SKIP_TOOBIG, SKIP_BINARY, SKIP_NWHY };
static const char *const why_name[SKIP_NWHY] = { "unsupported", "unreadable", "empty", "too large",
						 "binary" };

struct doc {
	char *id;
	char *source;           /* where it came from, for messages */
	char *text;
	size_t text_len;
	char *title;
};

struct skip {
	char *source;
	enum skip_why why;
	char *detail;           /* may be NULL */
};

struct extract {
	const char *text_field, *id_field, *title_field;
	struct doc *docs;
	size_t ndocs, adocs;
	struct skip *skips;
	size_t nskips, askips;
	size_t count[SKIP_NWHY];
	uint64_t max_file;      /* --max-file-size */
	uint64_t max_total;     /* --max-total-size */
	uint64_t total;         /* bytes of the files kept so far */
	struct stat out_st;     /* the output file, never read as input */
	int have_out_st;
	struct progress prog;
	size_t seen;
	struct rp_err err;      /* the error that stopped the run, for main() to report */
};

static const struct {
	const char *ext;
	enum kind kind;
} extensions[] = {
	{ ".txt", K_TXT }, { ".text", K_TXT },
	{ ".md", K_MD }, { ".markdown", K_MD },
	{ ".html", K_HTML }, { ".htm", K_HTML }, { ".xhtml", K_HTML },
	{ ".jsonl", K_JSONL }, { ".ndjson", K_JSONL },
	{ ".tar", K_ARCHIVE }, { ".tgz", K_ARCHIVE }, { ".tar.gz", K_ARCHIVE },
	{ ".tbz", K_ARCHIVE }, { ".tbz2", K_ARCHIVE }, { ".tar.bz2", K_ARCHIVE },
	{ ".txz", K_ARCHIVE }, { ".tar.xz", K_ARCHIVE }, { ".tzst", K_ARCHIVE },
	{ ".tar.zst", K_ARCHIVE }, { ".tar.lz", K_ARCHIVE }, { ".tar.lz4", K_ARCHIVE },
	{ ".tar.lzma", K_ARCHIVE }, { ".zip", K_ARCHIVE }, { ".7z", K_ARCHIVE },
	{ ".cpio", K_ARCHIVE }, { ".iso", K_ARCHIVE }, { ".rar", K_ARCHIVE },
};

static enum kind classify(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++) {
		size_t e = strlen(extensions[i].ext);

		if (n > e && !strcasecmp(name + n - e, extensions[i].ext))
			return extensions[i].kind;
	}
	return K_UNKNOWN;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/*
 * Appends `len` bytes of `s` to `out` as valid UTF-8: each byte that does not
 * start a well-formed sequence (overlong forms, surrogates and code points
 * above U+10FFFF are not well-formed) becomes U+FFFD. With `text` set, a
 * leading byte-order mark is dropped and CRLF becomes LF.
 */
static void utf8_repair(const char *s, size_t len, struct buf *out, int text)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	if (text && len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		p += 3;
	buf_grow(out, len);
	while (p < end) {
		unsigned c = *p;
		size_t n = 0;
		unsigned long cp = 0, min = 0;

		if (c < 0x80) {
			if (!(text && c == '\r' && p + 1 < end && p[1] == '\n'))
				buf_addch(out, (int)c);
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; min = 0x80; }
		else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; min = 0x800; }
		else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; min = 0x10000; }
		if (n && (size_t)(end - p) > n) {
			size_t i;

			for (i = 1; i <= n && (p[i] & 0xc0) == 0x80; i++)
				cp = (cp << 6) | (p[i] & 0x3f);
			if (i > n && cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
				buf_add(out, p, n + 1);
				p += n + 1;
				continue;
			}
		}
		buf_adds(out, "\xef\xbf\xbd");
		p++;
	}
}

static int all_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\n\r\f\v", s[i]) || !s[i])
			return 0;
	return 1;
}

/* Copies [s, s+n) without leading and trailing blanks into a new string. */
static char *trimmed(const char *s, size_t n)
{
	while (n && strchr(" \t\r\f\v", *s)) {
		s++;
		n--;
	}
	while (n && strchr(" \t\r\f\v", s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* .txt title: the first non-empty line, trimmed. Caller frees. */
static char *txt_title(const char *s, size_t len)
{
	const char *p = s, *end = s + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		char *t = trimmed(p, (size_t)(le - p));

		if (*t)
			return t;
		free(t);
		p = le + 1;
	}
	return xstrdup("");
}

/*
 * .md title: the first ATX "# " heading, or a line underlined with "===",
 * outside fenced code blocks (``` or ~~~) and YAML front matter. Caller frees.
 */
static char *md_title(const char *s, size_t len)
{
	const char *p = s, *end = s + len;
	char fence = 0;
	int line = 0, front = 0;
	const char *prev = NULL, *prev_end = NULL;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *q = p;
		size_t indent = 0;

		line++;
		while (q < le && *q == ' ' && indent < 4) {
			q++;
			indent++;
		}
		if (line == 1 && le - p >= 3 && !memcmp(p, "---", 3) && all_space(p + 3, (size_t)(le - p - 3))) {
			front = 1;
		} else if (front) {
			if (le - p >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "...", 3)))
				front = 0;
		} else if (indent < 4 && le - q >= 3 && (*q == '`' || *q == '~') && q[1] == *q && q[2] == *q) {
			if (!fence)
				fence = *q;
			else if (*q == fence)
				fence = 0;
			prev = NULL;
		} else if (!fence && indent < 4 && q < le && *q == '#' &&
			   (q + 1 == le || q[1] == ' ' || q[1] == '\t')) {
			const char *t = q + 1, *te = le;

			/* drop a closing sequence of '#' preceded by a blank */
			while (te > t && strchr(" \t\r", te[-1]))
				te--;
			while (te > t && te[-1] == '#')
				te--;
			if (te > t && !strchr(" \t", te[-1]))
				te = le;
			return trimmed(t, (size_t)(te - t));
		} else if (!fence && indent < 4 && prev && q < le && *q == '=') {
			const char *t = q;

			while (t < le && *t == '=')
				t++;
			if (all_space(t, (size_t)(le - t)))
				return trimmed(prev, (size_t)(prev_end - prev));
			prev = NULL;
		} else if (!fence && !all_space(p, (size_t)(le - p)) && *q != '#') {
			prev = p;
			prev_end = le;
		} else {
			prev = NULL;
		}
		p = le + 1;
	}
	return xstrdup("");
}

static void add_skip(struct extract *ex, const char *source, enum skip_why why, const char *detail)
{
	struct skip *s;

	ALLOC_GROW(ex->skips, ex->nskips + 1, ex->askips);
	s = &ex->skips[ex->nskips++];
	s->source = xstrdup(source);
	s->why = why;
	s->detail = detail ? xstrdup(detail) : NULL;
	if (why < SKIP_NWHY)
		ex->count[why]++;
}

/* Adds a document; takes ownership of `text` and `title`. */
static void add_doc(struct extract *ex, const char *id, const char *source, char *text,
		    size_t text_len, char *title)
{
	struct doc *d;

	if (all_space(text, text_len)) {
		add_skip(ex, source, SKIP_EMPTY, "no text");
		free(text);
		free(title);
		return;
	}
	ALLOC_GROW(ex->docs, ex->ndocs + 1, ex->adocs);
	d = &ex->docs[ex->ndocs++];
	d->id = xstrdup(id);
	d->source = xstrdup(source);
	d->text = text;
	d->text_len = text_len;
	d->title = utf8_clip(title, UTF8_TITLE_MAX);
	free(title);
}

/* One record per line of JSONL data; -1 (reported, input error) on bad input. */
static int add_jsonl(struct extract *ex, const char *source, const char *data, size_t len)
{
	struct jsonl_reader r;
	struct rp_err *err = &ex->err;
	json_t *obj;
	int rc, ret = 0;

	if (jsonl_open_mem(&r, source, data, len, err) < 0)
		return -1;
	while ((rc = jsonl_next(&r, &obj, err)) > 0) {
		const char *id = jsonl_get_str(&r, obj, ex->id_field, err);
		const char *text = id ? jsonl_get_str(&r, obj, ex->text_field, err) : NULL;
		json_t *tv = json_object_get(obj, ex->title_field);
		char *src;

		if (!id || !text) {
			json_decref(obj);
			rc = -1;
			break;
		}
		if (tv && !json_is_string(tv) && !json_is_null(tv)) {
			rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: field '%s' is not a string",
				   source, r.line, ex->title_field);
			json_decref(obj);
			rc = -1;
			break;
		}
		src = xasprintf("%s:%zu", source, r.line);
		add_doc(ex, id, src, xstrndup(text, json_string_length(json_object_get(obj, ex->text_field))),
			json_string_length(json_object_get(obj, ex->text_field)),
			xstrdup(json_is_string(tv) ? json_string_value(tv) : ""));
		free(src);
		json_decref(obj);
	}
	if (rc < 0) {
		if (err->kind == RP_ERR_NONE)
			rp_err_set(err, RP_ERR_INPUT, "%s: invalid JSONL", source);
		ret = -1;
	}
	jsonl_close(&r);
	return ret;
}

/*
 * Appends UTF-16 text `s` (with its byte-order mark, which says the byte
 * order) to `out` as UTF-8; a unit that is not valid UTF-16 (a lone
 * surrogate, an odd last byte) becomes U+FFFD. -1 when iconv cannot start.
 */
static int utf16_decode(const char *s, size_t len, struct buf *out)
{
	iconv_t cd = iconv_open("UTF-8", "UTF-16");
	char *in = (char *)s;
	size_t left = len;

	if (cd == (iconv_t)-1)
		return -1;
	buf_grow(out, len / 2 * 3 + 8);
	while (left) {
		char *o = out->s + out->len;
		size_t room = out->alloc - out->len - 1, before = room;
		size_t rc = iconv(cd, &in, &left, &o, &room);

		out->len += before - room;
		out->s[out->len] = '\0';
		if (rc != (size_t)-1)
			break;
		if (errno == E2BIG) {
			buf_grow(out, left * 2 + 8);
		} else {
			/* EILSEQ or EINVAL: one unit is bad (or cut short) */
			buf_adds(out, "\xef\xbf\xbd");
			in += left < 2 ? left : 2;
			left -= left < 2 ? left : 2;
		}
	}
	iconv_close(cd);
	return 0;
}

/*
 * Turns the bytes of one file of a known text kind into a document.
 * `id` and `source` are borrowed. -1 (ex->err filled) on invalid JSONL.
 */
static int add_content(struct extract *ex, enum kind kind, const char *id, const char *source,
		       const char *data, size_t len)
{
	struct buf fixed = BUF_INIT, wide = BUF_INIT;
	char *title;

	if (kind == K_JSONL)
		return add_jsonl(ex, source, data, len);
	if (len >= 2 && (!memcmp(data, "\xff\xfe", 2) || !memcmp(data, "\xfe\xff", 2))) {
		if (utf16_decode(data, len, &wide) < 0) {
			add_skip(ex, source, SKIP_UNREADABLE, "UTF-16 text, and iconv cannot decode it");
			return 0;
		}
		data = wide.s;
		len = wide.len;
	}
	if (memchr(data, '\0', len)) {
		add_skip(ex, source, SKIP_BINARY, "it holds NUL bytes");
		buf_release(&wide);
		return 0;
	}
	utf8_repair(data, len, &fixed, 1);
	buf_release(&wide);
	if (kind == K_HTML) {
		struct buf text = BUF_INIT, t = BUF_INIT;

		html_text(fixed.s, fixed.len, &text, &t);
		buf_release(&fixed);
		title = buf_detach(&t);
		len = text.len;
		add_doc(ex, id, source, buf_detach(&text), len, title);
		return 0;
	}
	title = kind == K_MD ? md_title(fixed.s, fixed.len) : txt_title(fixed.s, fixed.len);
	len = fixed.len;
	add_doc(ex, id, source, buf_detach(&fixed), len, title);
	return 0;
}

/* Valid UTF-8 form of a path name, for doc_ids. Caller frees. */
static char *utf8_name(const char *name)
{
	struct buf b = BUF_INIT;

	utf8_repair(name, strlen(name), &b, 0);
	return buf_detach(&b);
}

/* "./a//b/" -> "a/b"; caller frees. */
static char *clean_member(const char *name)
{
	struct buf b = BUF_INIT;
	const char *p = name;

	while (*p) {
		size_t n = strcspn(p, "/");

		if (n && !(n == 1 && *p == '.')) {
			if (b.len)
				buf_addch(&b, '/');
			buf_add(&b, p, n);
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return buf_detach(&b);
}

static void tick(struct extract *ex)
{
	char extra[64];

	ex->seen++;
	snprintf(extra, sizeof(extra), "%zu docs", ex->ndocs);
	progress_update(&ex->prog, ex->seen, extra);
}

static int has_hidden_part(const char *path)
{
	const char *p = path;

	while (*p) {
		if (*p == '.')
			return 1;
		p += strcspn(p, "/");
		while (*p == '/')
			p++;
	}
	return 0;
}

/* The most bytes the next file may have: the file bound, or what is left of the total. */
static uint64_t room_for(const struct extract *ex)
{
	uint64_t left = ex->total < ex->max_total ? ex->max_total - ex->total : 0;

	return left < ex->max_file ? left : ex->max_file;
}

/* Skips a file of `size` bytes (or more, with `at_least`) as too large, saying which bound it passed. */
static void skip_too_large(struct extract *ex, const char *source, uint64_t size, int at_least)
{
	char detail[160];

	if (at_least ? room_for(ex) == ex->max_file : size > ex->max_file)
		snprintf(detail, sizeof(detail), "%s%" PRIu64 " bytes, over --max-file-size %" PRIu64,
			 at_least ? "more than " : "", at_least ? ex->max_file : size, ex->max_file);
	else
		snprintf(detail, sizeof(detail), "%" PRIu64 " bytes%s would pass --max-total-size %" PRIu64,
			 size, at_least ? " or more" : "", ex->max_total);
	add_skip(ex, source, SKIP_TOOBIG, detail);
}

/*
 * Reads the current archive member into `data` (reset first), at most
 * `max` bytes: 0 when it all fit, 1 when it holds more (the rest is left
 * for archive_read_next_header() to skip), -1 on a read error.
 */
static int read_member(struct archive *a, struct buf *data, uint64_t max)
{
	char block[65536];
	la_ssize_t n;

	buf_reset(data);
	while ((n = archive_read_data(a, block, sizeof(block))) > 0) {
		if ((uint64_t)data->len + (uint64_t)n > max)
			return 1;
		buf_add(data, block, (size_t)n);
	}
	return n < 0 ? -1 : 0;
}

/*
 * Reads the file at `path` into `data`, at most `max` bytes: 0 when it all
 * fit, 1 when it holds more, -1 with errno set when it cannot be read. A
 * pipe or a device is read the same way, never further than the bound.
 */
static int read_file_bounded(const char *path, struct buf *data, uint64_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int ret = 0;

	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t n;

		buf_grow(data, 65536);
		n = read(fd, data->s + data->len, data->alloc - data->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -1;
			break;
		}
		if (!n)
			break;
		data->len += (size_t)n;
		data->s[data->len] = '\0';
		if (data->len > max) {
			ret = 1;
			break;
		}
	}
	if (ret < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	return ret;
}

/*
 * Reads the archive at `path`; doc_ids are `prefix`/member. A corrupt or
 * unreadable archive is an error (reported, -1). Members are read through
 * read_member(), so none costs more memory than the bounds allow.
 */
static int read_archive(struct extract *ex, const char *path, const char *prefix)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct buf data = BUF_INIT;
	int rc, ret = 0;

	archive_read_support_filter_all(a);
	archive_read_support_format_all(a);
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		ret = rp_err_set(&ex->err, RP_ERR_IO, "cannot read archive '%s': %s; is it a "
				 "complete archive of a format libarchive reads?", path,
				 archive_error_string(a));
		goto out;
	}
	while ((rc = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		const char *raw;
		char *member, *id, *source;
		enum kind kind;

		if (rc == ARCHIVE_FATAL || rc == ARCHIVE_RETRY || rc == ARCHIVE_FAILED) {
			ret = rp_err_set(&ex->err, RP_ERR_IO, "corrupt archive '%s': %s", path,
					 archive_error_string(a));
			goto out;
		}
		/* mtree reads almost any text as a list of names: not a corpus format */
		if ((archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_MTREE) {
			ret = rp_err_set(&ex->err, RP_ERR_IO, "cannot read archive '%s': unrecognized "
					 "archive format; is it a complete archive of a format "
					 "libarchive reads?", path);
			goto out;
		}
		raw = archive_entry_pathname_utf8(e);
		if (!raw)
			raw = archive_entry_pathname(e);
		if (!raw)
			raw = "";
		member = clean_member(raw);
		{
			char *u = utf8_name(member);

			free(member);
			member = u;
		}
		id = xasprintf("%s/%s", prefix, member);
		source = xasprintf("%s:%s", path, member);
		kind = classify(member);
		if (archive_entry_filetype(e) == AE_IFDIR || !*member) {
			/* folders carry no text */
		} else if (has_hidden_part(member)) {
			add_skip(ex, source, SKIP_NWHY, "hidden");
		} else if (archive_entry_filetype(e) != AE_IFREG) {
			add_skip(ex, source, SKIP_UNSUPPORTED, "not a regular file");
		} else if (kind == K_UNKNOWN) {
			add_skip(ex, source, SKIP_UNSUPPORTED, "unknown file type");
		} else if (kind == K_ARCHIVE) {
			add_skip(ex, source, SKIP_UNSUPPORTED, "archive inside an archive");
		} else if (archive_entry_is_encrypted(e)) {
			add_skip(ex, source, SKIP_UNREADABLE, "encrypted");
		} else if (archive_entry_size_is_set(e) && archive_entry_size(e) >= 0 &&
			   (uint64_t)archive_entry_size(e) > room_for(ex)) {
			/* its header says so: not a byte of it is read */
			skip_too_large(ex, source, (uint64_t)archive_entry_size(e), 0);
		} else {
			int rm = read_member(a, &data, room_for(ex));

			if (rm < 0) {
				ret = rp_err_set(&ex->err, RP_ERR_IO, "corrupt archive '%s': cannot "
						 "read '%s': %s", path, member, archive_error_string(a));
			} else if (rm > 0) {
				skip_too_large(ex, source, room_for(ex), 1);
			} else {
				ex->total += data.len;
				if (add_content(ex, kind, id, source, data.s, data.len) < 0)
					ret = -1;
			}
		}
		if (archive_entry_filetype(e) != AE_IFDIR && *member)
			tick(ex);
		free(member);
		free(id);
		free(source);
		if (ret < 0)
			goto out;
	}
out:
	buf_release(&data);
	archive_read_free(a);
	return ret;
}

/*
 * One file: `path` to open, `id` its doc_id (or archive prefix), `st` its
 * stat (following links). -1 (ex->err filled) on a fatal error.
 */
static int do_file(struct extract *ex, const char *path, const char *id, const struct stat *st)
{
	enum kind kind = classify(path);
	struct buf data = BUF_INIT;
	int ret;

	if (ex->have_out_st && st->st_dev == ex->out_st.st_dev && st->st_ino == ex->out_st.st_ino) {
		add_skip(ex, path, SKIP_NWHY, "the output file");
		return 0;
	}
	if (kind == K_ARCHIVE)
		return read_archive(ex, path, id);
	if (kind == K_UNKNOWN) {
		add_skip(ex, path, SKIP_UNSUPPORTED, "unknown file type");
		tick(ex);
		return 0;
	}
	if (S_ISREG(st->st_mode) && (uint64_t)st->st_size > room_for(ex)) {
		skip_too_large(ex, path, (uint64_t)st->st_size, 0);
		tick(ex);
		return 0;
	}
	ret = read_file_bounded(path, &data, room_for(ex));
	if (ret != 0) {
		if (ret < 0)
			add_skip(ex, path, SKIP_UNREADABLE, strerror(errno));
		else
			skip_too_large(ex, path, room_for(ex), 1);
		buf_release(&data);
		tick(ex);
		return 0;
	}
	ex->total += data.len;
	ret = add_content(ex, kind, id, path, data.s, data.len);
	buf_release(&data);
	tick(ex);
	return ret;
}

/* Walks folder `dir`; `rel` is its path inside the corpus ("" at the top). */
static int walk(struct extract *ex, const char *dir, const char *rel)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0;
	int ret = 0;

	if (!d) {
		add_skip(ex, dir, SKIP_UNREADABLE, strerror(errno));
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ALLOC_GROW(names, n + 1, alloc);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	strv_sort(names, n);
	for (size_t i = 0; i < n && ret == 0; i++) {
		char *path = xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", names[i]);
		char *uname = utf8_name(names[i]);
		char *id = *rel ? xasprintf("%s/%s", rel, uname) : xstrdup(uname);
		struct stat st, lst;

		if (names[i][0] == '.') {
			add_skip(ex, path, SKIP_NWHY, "hidden");
		} else if (stat(path, &st) < 0) {
			add_skip(ex, path, SKIP_UNREADABLE, strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
				add_skip(ex, path, SKIP_UNSUPPORTED, "link to a folder, not followed");
			else
				ret = walk(ex, path, id);
		} else if (!S_ISREG(st.st_mode)) {
			add_skip(ex, path, SKIP_UNSUPPORTED, "not a regular file");
		} else {
			ret = do_file(ex, path, id, &st);
		}
		free(path);
		free(uname);
		free(id);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

static int cmp_doc(const void *a, const void *b)
{
	return strcmp(((const struct doc *)a)->id, ((const struct doc *)b)->id);
}

static int cmp_skip(const void *a, const void *b)
{
	return strcmp(((const struct skip *)a)->source, ((const struct skip *)b)->source);
}

/* The docs as canonical JSONL into `out`; -1 (ex->err filled) on a duplicate doc_id. */
static int render(struct extract *ex, struct buf *out)
{
	if (ex->ndocs)
		qsort(ex->docs, ex->ndocs, sizeof(*ex->docs), cmp_doc);
	for (size_t i = 0; i < ex->ndocs; i++) {
		struct doc *d = &ex->docs[i];
		char hex[HASH_HEX];
		json_t *o;

		if (i && !strcmp(d->id, ex->docs[i - 1].id))
			return rp_err_set(&ex->err, RP_ERR_INPUT, "duplicate doc_id '%s' from '%s' and "
					  "'%s'; extract them separately or rename one", d->id,
					  ex->docs[i - 1].source, d->source);
		hash_buf(d->text, d->text_len, hex);
		o = json_object();
		json_object_set_new(o, "doc_id", json_string(d->id));
		json_object_set_new(o, "sha256", json_string(hex));
		json_object_set_new(o, "text", json_stringn_nocheck(d->text, d->text_len));
		json_object_set_new(o, "title", json_string(d->title));
		jsonl_dump(o, out);
		json_decref(o);
	}
	return 0;
}

static void summary(struct extract *ex, int nargs, int verbose)
{
	size_t total = 0;
	struct buf b = BUF_INIT;

	for (int w = 0; w < SKIP_NWHY; w++)
		total += ex->count[w];
	buf_addf(&b, "%zu doc%s from %d input%s", ex->ndocs, plural_s(ex->ndocs), nargs,
		 plural_s((size_t)nargs));
	if (total) {
		const char *sep = "";

		buf_addf(&b, " (%zu skipped: ", total);
		for (int w = 0; w < SKIP_NWHY; w++) {
			if (ex->count[w]) {
				buf_addf(&b, "%s%zu %s", sep, ex->count[w], why_name[w]);
				sep = ", ";
			}
		}
		buf_adds(&b, verbose ? ")" : "; --verbose lists them)");
	}
	progress_summary("rp extract", "%s", b.s);
	buf_release(&b);
}

static void list_skips(struct extract *ex, int as_errors)
{
	if (ex->nskips)
		qsort(ex->skips, ex->nskips, sizeof(*ex->skips), cmp_skip);
	for (size_t i = 0; i < ex->nskips; i++) {
		struct skip *s = &ex->skips[i];

		if (s->why == SKIP_NWHY) {
			if (!as_errors)
				fprintf(stderr, "%s: ignored '%s' (%s)\n", rp_progname, s->source, s->detail);
			continue;
		}
		if (as_errors)
			rp_error("skipped '%s': %s%s%s", s->source, why_name[s->why],
				 s->detail ? ", " : "", s->detail ? s->detail : "");
		else
			fprintf(stderr, "%s: skipped '%s': %s%s%s\n", rp_progname, s->source,
				why_name[s->why], s->detail ? ", " : "", s->detail ? s->detail : "");
	}
}

static void extract_release(struct extract *ex)
{
	for (size_t i = 0; i < ex->ndocs; i++) {
		free(ex->docs[i].id);
		free(ex->docs[i].source);
		free(ex->docs[i].text);
		free(ex->docs[i].title);
	}
	free(ex->docs);
	for (size_t i = 0; i < ex->nskips; i++) {
		free(ex->skips[i].source);
		free(ex->skips[i].detail);
	}
	free(ex->skips);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "text-field", required_argument, NULL, 'T' },
		{ "id-field", required_argument, NULL, 'I' },
		{ "title-field", required_argument, NULL, 'L' },
		{ "strict", no_argument, NULL, 'S' },
		{ "max-file-size", required_argument, NULL, 'F' },
		{ "max-total-size", required_argument, NULL, 'M' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct extract ex = { 0 };
	const char *out = NULL;
	int c, strict = 0, verbose = 0, quiet = 0, ret = RP_EXIT_OK, nargs;
	struct buf text = BUF_INIT;
	struct rp_err err;
	size_t nskipped;

	rp_progname = "rp-extract";
	ex.text_field = "text";
	ex.id_field = "doc_id";
	ex.title_field = "title";
	ex.max_file = DEFAULT_MAX_FILE;
	ex.max_total = DEFAULT_MAX_TOTAL;
	while ((c = getopt_long(argc, argv, "o:vqh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'T': ex.text_field = optarg; break;
		case 'I': ex.id_field = optarg; break;
		case 'L': ex.title_field = optarg; break;
		case 'S': strict = 1; break;
		case 'F':
		case 'M':
			if (numopt_size(optarg, c == 'F' ? &ex.max_file : &ex.max_total) < 0) {
				rp_error("option '--%s': '%s' is not a size (bytes, with an optional "
					 "K, M or G suffix)", c == 'F' ? "max-file-size" : "max-total-size",
					 optarg);
				fputs(extract_usage, stderr);
				return RP_EXIT_USAGE;
			}
			break;
		case 'v': verbose = 1; break;
		case 'q': quiet = 1; break;
		case 'V': {
			/* rp's version and the algorithms': what enters a stage's key (progver.h) */
			char *v = progver_text("extract");

			fputs(v, stdout);
			free(v);
			return RP_EXIT_OK;
		}
		case 'h': fputs(extract_usage, stdout); return RP_EXIT_OK;
		default: fputs(extract_usage, stderr); return RP_EXIT_USAGE;
		}
	}
	nargs = argc - optind;
	if (!nargs || !out || !*out) {
		rp_error("%s", !nargs ? "no CORPUS given" : "no output file given (-o FILE)");
		fputs(extract_usage, stderr);
		return RP_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			if (errno == ENOENT)
				rp_error("corpus '%s' does not exist; check the path", argv[i]);
			else
				rp_error("cannot read corpus '%s': %s", argv[i], strerror(errno));
			return RP_EXIT_USAGE;
		}
	}
	if (strcmp(out, "-") && stat(out, &ex.out_st) == 0)
		ex.have_out_st = 1;

	progress_init(&ex.prog, "rp extract", 0);
	for (int i = optind; i < argc && ret == RP_EXIT_OK; i++) {
		const char *arg = argv[i];
		struct stat st;
		int rc;

		if (stat(arg, &st) < 0) {
			rp_error_errno("cannot read corpus '%s'", arg);
			ret = RP_EXIT_FAIL;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = walk(&ex, arg, "");
		} else {
			char *id = utf8_name(base_name(arg));

			rc = do_file(&ex, arg, id, &st);
			free(id);
		}
		if (rc < 0)
			ret = rp_err_exit(&ex.err);
	}
	progress_end(&ex.prog);
	if (ret == RP_EXIT_OK && render(&ex, &text) < 0)
		ret = rp_err_exit(&ex.err);
	nskipped = 0;
	for (int w = 0; w < SKIP_NWHY; w++)
		nskipped += ex.count[w];
	if (ret == RP_EXIT_OK && strict && nskipped) {
		list_skips(&ex, 1);
		rp_error("%zu file%s skipped and --strict is set; remove them from the corpus or "
			 "drop --strict", nskipped, nskipped == 1 ? "" : "s");
		ret = RP_EXIT_FAIL;
	}
	if (ret == RP_EXIT_OK && jsonl_write_file(out, &text, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_FAIL;
	}
	if (ret == RP_EXIT_OK) {
		if (verbose)
			list_skips(&ex, 0);
		if (!quiet)
			summary(&ex, nargs, verbose);
	}
	buf_release(&text);
	extract_release(&ex);
	return ret;
}
