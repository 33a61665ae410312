/*
 * chunk.c - rp-chunk: documents (docs.jsonl) into chunks (chunks.jsonl).
 *
 * Reads one document per line ({"doc_id", "text", "title", ...}), splits
 * each text with a strategy of chunker.c, and writes one line per chunk,
 * sorted by (doc_id, ordinal), with sorted keys and no spaces:
 *
 *   {"chunk_id":"DOC#ORD","chunker":"recursive@1",
 *    "chunker_params":{"overlap":N,"size":N,"unit":"chars"},
 *    "content_hash":"<sha256 of text>","doc_id":"DOC","headings":[...],
 *    "ordinal":ORD,"text":"...","title":"..."}
 *
 * A chunk depends only on its own document's text and the parameters, so
 * editing one document changes only that document's lines. The chunker's
 * name, version and parameters are in every line, so changing any of them
 * changes the output bytes and every downstream cache key. The output is
 * written atomically and only when every document was read: a failed run
 * leaves no output file.
 */
#include "ai/chunker.h"
#include "core/progver.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/jsonl.h"
#include "util/numopt.h"
#include "util/progress.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"usage: rp-chunk DOCS.jsonl -o CHUNKS.jsonl [--strategy fixed|recursive|markdown|sentence]\n"
	"                [--size N] [--overlap N] [--unit chars|words] [-q]\n"
	"\n"
	"  -o, --output FILE   where to write the chunks (\"-\": standard output)\n"
	"  -s, --strategy S    fixed, recursive (default), markdown or sentence\n"
	"  -n, --size N        most units in a chunk (default 1000)\n"
	"  -l, --overlap N     units shared by neighbouring chunks, < size (default 0)\n"
	"  -u, --unit U        chars (code points, default) or words\n"
	"  -q, --quiet         no summary line\n"
	"  -h, --help          show this help\n"
	"      --version       rp's version and the strategies' (part of a stage's key)\n";

struct doc_out {
	char *doc_id;
	size_t line;
	struct buf lines;
};

struct doc_set {                /* the documents read, in input order until sorted */
	struct doc_out *v;
	size_t n, alloc;
};

static int usage(int is_error)
{
	fputs(usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

/* qsort() order of documents: by doc_id. */
static int cmp_doc(const void *a, const void *b)
{
	const struct doc_out *x = a, *y = b;

	return strcmp(x->doc_id, y->doc_id);
}

/* Appends the lines of one document's chunks to d->lines. */
static void chunk_doc(const struct chunk_params *p, const char *doc_id, const char *title,
		      const char *text, size_t len, struct doc_out *d)
{
	struct chunk_list l;
	char *chunker = xasprintf("%s@%d", chunker_name(p->strategy), chunker_version(p->strategy));

	chunker_split(p, text, len, &l);
	for (size_t i = 0; i < l.n; i++) {
		const struct chunk *c = &l.v[i];
		json_t *o = json_object(), *h = json_array(), *params = json_object();
		char hex[HASH_HEX];
		char *id = xasprintf("%s#%zu", doc_id, i);

		hash_buf(text + c->off, c->len, hex);
		for (size_t k = 0; k < c->nheadings; k++)
			json_array_append_new(h, json_string(c->headings[k]));
		json_object_set_new(params, "size", json_integer(p->size));
		json_object_set_new(params, "overlap", json_integer(p->overlap));
		json_object_set_new(params, "unit", json_string(chunker_unit_name(p->unit)));
		json_object_set_new(o, "chunk_id", json_string(id));
		json_object_set_new(o, "doc_id", json_string(doc_id));
		json_object_set_new(o, "ordinal", json_integer(i));
		json_object_set_new(o, "text", json_stringn(text + c->off, c->len));
		json_object_set_new(o, "title", json_string(title));
		json_object_set_new(o, "headings", h);
		json_object_set_new(o, "content_hash", json_string(hex));
		json_object_set_new(o, "chunker", json_string(chunker));
		json_object_set_new(o, "chunker_params", params);
		jsonl_dump(o, &d->lines);
		json_decref(o);
		free(id);
	}
	chunk_list_release(&l);
	free(chunker);
}

/*
 * Reads the options into `p`, `input` and `output`; -1 to go on, else the
 * exit code (after --help, or a usage error reported).
 */
static int parse_args(int argc, char **argv, struct chunk_params *p, const char **input,
		      const char **output, int *quiet)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "strategy", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'n' },
		{ "overlap", required_argument, NULL, 'l' },
		{ "unit", required_argument, NULL, 'u' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct rp_err err = { 0 };
	int c;
	long num;

	while ((c = getopt_long(argc, argv, "o:s:n:l:u:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': *output = optarg; break;
		case 's':
			if (chunker_parse_strategy(optarg, &p->strategy) < 0) {
				rp_error("unknown strategy '%s' (expected fixed, recursive, markdown or sentence)",
					 optarg);
				return RP_EXIT_USAGE;
			}
			break;
		case 'n':
		case 'l':
			if (numopt_long(c == 'n' ? "--size" : "--overlap", optarg, 0, LONG_MAX, &num, &err) < 0) {
				rp_err_report(&err);
				return RP_EXIT_USAGE;
			}
			*(c == 'n' ? &p->size : &p->overlap) = (size_t)num;
			break;
		case 'u':
			if (chunker_parse_unit(optarg, &p->unit) < 0) {
				rp_error("unknown unit '%s' (expected chars or words)", optarg);
				return RP_EXIT_USAGE;
			}
			break;
		case 'V': {
			/* rp's version and the algorithms': what enters a stage's key (progver.h) */
			char *v = progver_text("chunk");

			fputs(v, stdout);
			free(v);
			return RP_EXIT_OK;
		}
		case 'q': *quiet = 1; break;
		case 'h': return usage(0);
		default: return usage(1);
		}
	}
	if (argc - optind != 1 || !*output)
		return usage(1);
	*input = argv[optind];
	if (chunker_check(p, &err) < 0) {
		rp_error("%s (see --size and --overlap)", err.msg);
		return RP_EXIT_USAGE;
	}
	return -1;
}

/* Checks the document `obj` (line r->line) and adds its chunks to ds: 0, or -1 + err. */
static int add_doc(struct jsonl_reader *r, json_t *obj, const struct chunk_params *p,
		   struct doc_set *ds, struct rp_err *err)
{
	const char *doc_id, *text, *title = "";
	json_t *t = json_object_get(obj, "title"), *tv;
	struct doc_out *d;

	if (!(doc_id = jsonl_get_str(r, obj, "doc_id", err)) ||
	    !(text = jsonl_get_str(r, obj, "text", err)))
		return -1;
	if (!*doc_id)
		return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: field 'doc_id' is empty", r->path, r->line);
	if (t && !json_is_null(t) && !(title = jsonl_get_str(r, obj, "title", err)))
		return -1;
	tv = json_object_get(obj, "text");
	ALLOC_GROW(ds->v, ds->n + 1, ds->alloc);
	d = &ds->v[ds->n++];
	d->doc_id = xstrdup(doc_id);
	d->line = r->line;
	buf_init(&d->lines);
	chunk_doc(p, doc_id, title, text, json_string_length(tv), d);
	return 0;
}

/*
 * Sorts the documents by doc_id and appends their lines to `all`; 0, or -1
 * after reporting a doc_id that two lines of `path` share.
 */
static int join_docs(const char *path, struct doc_set *ds, struct buf *all)
{
	qsort(ds->v, ds->n, sizeof(*ds->v), cmp_doc);
	for (size_t i = 0; i < ds->n; i++) {
		if (i && !strcmp(ds->v[i].doc_id, ds->v[i - 1].doc_id)) {
			size_t a = ds->v[i - 1].line, b = ds->v[i].line;

			return rp_error("%s:%zu:1: duplicate doc_id '%s' (also on line %zu); doc ids "
					"must be unique", path, a > b ? a : b, ds->v[i].doc_id,
					a > b ? b : a);
		}
		buf_add(all, ds->v[i].lines.s, ds->v[i].lines.len);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct chunk_params p = { CHUNK_RECURSIVE, 1000, 0, CHUNK_CHARS };
	const char *input, *output = NULL;
	struct jsonl_reader r;
	struct rp_err err = { 0 };
	struct doc_set ds = { 0 };
	struct buf all = BUF_INIT;
	json_t *obj;
	int rc, ret = RP_EXIT_OK, quiet = 0;

	rp_progname = "rp-chunk";
	if ((ret = parse_args(argc, argv, &p, &input, &output, &quiet)) >= 0)
		return ret;
	ret = RP_EXIT_OK;
	if (jsonl_open(&r, input, &err) < 0)
		return rp_err_exit(&err);
	while ((rc = jsonl_next(&r, &obj, &err)) > 0) {
		rc = add_doc(&r, obj, &p, &ds, &err);
		json_decref(obj);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		ret = rp_err_exit(&err);
	} else if (join_docs(r.path, &ds, &all) < 0) {
		ret = RP_EXIT_USAGE;
	}
	jsonl_close(&r);
	if (ret == RP_EXIT_OK && jsonl_write_file(output, &all, &err) < 0) {
		rp_err_report(&err);
		ret = RP_EXIT_FAIL;
	}
	if (ret == RP_EXIT_OK && !quiet) {
		size_t n = 0;

		for (const char *q = all.s; q && (q = memchr(q, '\n', all.s + all.len - q)); q++)
			n++;
		progress_summary("rp chunk", "%zu chunk%s from %zu doc%s", n, plural_s(n), ds.n,
				 plural_s(ds.n));
	}
	for (size_t i = 0; i < ds.n; i++) {
		free(ds.v[i].doc_id);
		buf_release(&ds.v[i].lines);
	}
	free(ds.v);
	buf_release(&all);
	return ret;
}
