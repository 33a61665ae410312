/*
 * jsonl.c - reading and writing JSON Lines (see jsonl.h) with jansson.
 *
 * Output is canonical: keys sorted, no insignificant whitespace, real numbers
 * with jansson's shortest round-trip form, so equal content gives equal bytes
 * and an equal hash downstream.
 */
#include "util/jsonl.h"
#include "util/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int jsonl_open(struct jsonl_reader *r, const char *path, struct rp_err *err)
{
	memset(r, 0, sizeof(*r));
	r->path = xstrdup(path);
	if (!strcmp(path, "-")) {
		r->f = stdin;
		return 0;
	}
	r->f = fopen(path, "re");
	if (!r->f) {
		rp_err_set(err, errno == ENOENT ? RP_ERR_INPUT : RP_ERR_IO, "cannot open '%s': %s",
			   path, strerror(errno));
		free(r->path);
		r->path = NULL;
		return -1;
	}
	return 0;
}

int jsonl_open_mem(struct jsonl_reader *r, const char *name, const char *data, size_t len,
		   struct rp_err *err)
{
	memset(r, 0, sizeof(*r));
	r->f = len ? fmemopen((void *)data, len, "r") : fopen("/dev/null", "re");
	if (!r->f)
		return rp_err_set(err, RP_ERR_IO, "cannot read '%s': %s", name, strerror(errno));
	r->path = xstrdup(name);
	return 0;
}

int jsonl_next(struct jsonl_reader *r, json_t **obj, struct rp_err *err)
{
	for (;;) {
		json_error_t je;
		ssize_t n;

		errno = 0;
		n = getline(&r->line_buf, &r->line_alloc, r->f);
		if (n < 0) {
			if (ferror(r->f))
				return rp_err_set(err, RP_ERR_IO, "cannot read '%s': %s", r->path,
						  strerror(errno));
			return 0;
		}
		r->line++;
		if (n && r->line_buf[n - 1] == '\n')
			r->line_buf[--n] = '\0';
		if (strspn(r->line_buf, " \t\r") == (size_t)n)
			continue;
		*obj = json_loadb(r->line_buf, (size_t)n, JSON_REJECT_DUPLICATES, &je);
		if (!*obj)
			return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:%d: invalid JSON: %s", r->path,
					  r->line, je.column > 0 ? je.column : 1, je.text);
		if (!json_is_object(*obj)) {
			json_decref(*obj);
			*obj = NULL;
			return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: expected a JSON object on each line",
					  r->path, r->line);
		}
		return 1;
	}
}

void jsonl_close(struct jsonl_reader *r)
{
	if (r->f && r->f != stdin)
		fclose(r->f);
	free(r->path);
	free(r->line_buf);
	memset(r, 0, sizeof(*r));
}

const char *jsonl_get_str(const struct jsonl_reader *r, json_t *obj, const char *field,
			  struct rp_err *err)
{
	json_t *v = json_object_get(obj, field);

	if (!json_is_string(v)) {
		rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: field '%s' %s (expected a string)", r->path,
			   r->line, field, v ? "is not a string" : "is missing");
		return NULL;
	}
	return json_string_value(v);
}

void jsonl_dump(json_t *obj, struct buf *out)
{
	char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);

	if (!s)
		BUG("json_dumps failed");
	buf_adds(out, s);
	buf_addch(out, '\n');
	free(s);
}

int jsonl_write_file(const char *path, const struct buf *text, struct rp_err *err)
{
	if (!strcmp(path, "-")) {
		if (fwrite(text->s, 1, text->len, stdout) != text->len || fflush(stdout) != 0)
			return rp_err_set(err, RP_ERR_IO, "cannot write to standard output: %s",
					  strerror(errno));
		return 0;
	}
	if (fs_mkdir_parent(path, err) < 0)
		return -1;
	return fs_write_output(path, text->s, text->len, err);
}
