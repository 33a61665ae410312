/*
 * index-query.c - `rp-index query INDEX|ALIAS "text"`: search an index
 * (rp-index(1)).
 *
 * INDEX is an index directory, or the name of an alias of the workspace
 * (alias.h) when no such directory holds a MANIFEST.json. The query is
 * embedded and searched by query.h (model guard first, then the embedder
 * and cache, then exact, int8 or hybrid search over all segments). With
 * --batch FILE every {"query": ...} line is answered in one call, which
 * embeds them together and searches them on --threads threads.
 *
 * Output: a table "rank score chunk_id doc_id text" with the text on one
 * line and shortened; with --json one object per result
 * {"rank","score","chunk_id","doc_id","text"} (the text whole), or with
 * --batch one object per query {"query","results":[...]}.
 */
#include "index.h"
#include "index/alias.h"
#include "index/index.h"
#include "index/query.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/jsonl.h"
#include "util/numopt.h"
#include "util/utf8.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_SHOWN 72    /* code points of a result's text in the table */
#define ID_WIDTH 40      /* ids longer than this are printed whole, unaligned */

static const char query_usage_text[] =
	"usage: rp-index query INDEX|ALIAS (TEXT | --batch QUERIES.jsonl) [-k N] [--json]\n"
	"                [--hybrid] [--quantised] [--model M] [--threads N] [--provider P]\n"
	"                [--base-url URL] [--api-key-env NAME] [--cache PATH]\n"
	"\n"
	"  Embeds TEXT with the index's model (through the embedding cache, input\n"
	"  type query) and prints the k nearest chunks: rank, score, chunk_id,\n"
	"  doc_id, text. ALIAS is an alias of the workspace (rp-index promote).\n"
	"  Another model or provider than the index's is refused (exit 2).\n"
	"\n"
	"  -k N                 results per query (default 10)\n"
	"      --json           one JSON object per result (per query with --batch)\n"
	"      --hybrid         fuse BM25 (the index's full-text tables) with the\n"
	"                       vector ranks by reciprocal rank\n"
	"      --quantised      int8 scan, float32 re-rank of the candidates\n"
	"      --model M        refuse unless the index was built with model M\n"
	"      --batch FILE     answer every {\"query\": ...} line of FILE ('-': stdin)\n"
	"      --threads N      search threads (default: one per core for batches)\n"
	"      --provider P     embedding provider; must be the index's\n"
	"      --base-url URL   openai: the server (default: embed.base_url)\n"
	"      --api-key-env NAME  openai: the variable holding the API key\n"
	"      --cache PATH     embedding cache (default .rp/embed-cache.db)\n"
	"  -h, --help           show this help\n";

static int query_usage(int is_error)
{
	fputs(query_usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

struct qargs {
	const char *index, *text, *batch;
	int json;
	struct index_query_opts o;
};

enum { O_JSON = 256, O_HYBRID, O_QUANT, O_MODEL, O_BATCH, O_THREADS, O_PROVIDER, O_BASE, O_KEYENV,
       O_CACHE };

/* -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, struct qargs *a)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "hybrid", no_argument, NULL, O_HYBRID },
		{ "quantised", no_argument, NULL, O_QUANT },
		{ "quantized", no_argument, NULL, O_QUANT },
		{ "model", required_argument, NULL, O_MODEL },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "provider", required_argument, NULL, O_PROVIDER },
		{ "base-url", required_argument, NULL, O_BASE },
		{ "api-key-env", required_argument, NULL, O_KEYENV },
		{ "cache", required_argument, NULL, O_CACHE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rp_err err = { 0 };
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "k:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (numopt_long("-k", optarg, 1, 10000, &v, &err) < 0)
				return rp_err_report(&err), query_usage(1);
			a->o.k = (size_t)v;
			break;
		case O_THREADS:
			if (numopt_long("--threads", optarg, 1, 1024, &v, &err) < 0)
				return rp_err_report(&err), query_usage(1);
			a->o.threads = (int)v;
			break;
		case O_JSON: a->json = 1; break;
		case O_HYBRID: a->o.hybrid = 1; break;
		case O_QUANT: a->o.quantised = 1; break;
		case O_MODEL: a->o.model = optarg; break;
		case O_BATCH: a->batch = optarg; break;
		case O_PROVIDER: a->o.provider.provider = optarg; break;
		case O_BASE: a->o.provider.base_url = optarg; break;
		case O_KEYENV: a->o.provider.api_key_env = optarg; break;
		case O_CACHE: a->o.provider.cache = optarg; break;
		case 'h': return query_usage(0);
		default: return query_usage(1);
		}
	}
	if (argc - optind != (a->batch ? 1 : 2)) {
		rp_error(a->batch ? "expected INDEX and no query text with --batch"
			 : "expected INDEX and one query TEXT (or --batch FILE)");
		return query_usage(1);
	}
	a->index = argv[optind];
	a->text = a->batch ? NULL : argv[optind + 1];
	return -1;
}

/* Reads the "query" of every line of `path` into *texts (each and the array: caller frees). */
static int read_batch(const char *path, char ***texts, size_t *n, struct rp_err *err)
{
	struct jsonl_reader rd;
	size_t alloc = 0;
	json_t *o;
	int rc;

	*texts = NULL;
	*n = 0;
	if (jsonl_open(&rd, path, err) < 0)
		return -1;
	while ((rc = jsonl_next(&rd, &o, err)) > 0) {
		const char *q = jsonl_get_str(&rd, o, "query", err);

		if (q) {
			ALLOC_GROW(*texts, *n + 1, alloc);
			(*texts)[(*n)++] = xstrdup(q);
		}
		json_decref(o);
		if (!q) {
			rc = -1;
			break;
		}
	}
	if (!rc && !*n)
		rc = rp_err_set(err, RP_ERR_INPUT, "%s: no query in the file", rd.path);
	jsonl_close(&rd);
	return rc < 0 ? -1 : 0;
}

/* A JSON string of `len` bytes at `s`; bytes that are not UTF-8 become '?'. */
static json_t *json_text(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	char *copy;

	if (j)
		return j;
	copy = xstrndup(s, len);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	j = json_stringn(copy, len);
	free(copy);
	return j ? j : json_string("");
}

/* The text on one line (blanks and controls collapsed to one space), clipped. Caller frees. */
static char *one_line(const char *s, size_t len)
{
	json_t *j = json_text(s, len);
	const char *t = json_string_value(j);
	struct buf b = BUF_INIT;
	char *clipped;

	for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
		if (*p <= ' ' || *p == 0x7f) {
			if (b.len && b.s[b.len - 1] != ' ')
				buf_addch(&b, ' ');
		} else {
			buf_addch(&b, *p);
		}
	}
	while (b.len && b.s[b.len - 1] == ' ')
		b.s[--b.len] = '\0';
	json_decref(j);
	clipped = utf8_clip(b.s, TEXT_SHOWN);
	buf_release(&b);
	return clipped;
}

static json_t *result_json(size_t rank, const struct index_result *r, const struct index_row *row)
{
	json_t *o = json_object();

	json_object_set_new(o, "rank", json_integer((json_int_t)rank));
	json_object_set_new(o, "score", json_real(r->score));
	json_object_set_new(o, "chunk_id", json_text(row->chunk_id, row->chunk_id_len));
	json_object_set_new(o, "doc_id", json_text(row->doc_id, row->doc_id_len));
	json_object_set_new(o, "text", json_text(row->text, row->text_len));
	return o;
}

static void put_json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));

	if (!s)
		BUG("json_dumps failed");
	puts(s);
	free(s);
}

/* Prints one query's results; 0 or -1 + err (a damaged row). */
static int print_results(const struct qargs *a, const struct index *ix, const char *text,
			 const struct index_result *res, size_t n, struct rp_err *err)
{
	json_t *list = a->json && a->batch ? json_array() : NULL;
	struct index_row row;
	int wc = 8, wd = 6;   /* the widths of the id columns: their longest, up to ID_WIDTH */

	for (size_t i = 0; i < n && !a->json; i++) {
		if (index_row(ix, res[i].seg, res[i].row, &row, err) < 0)
			return -1;
		if ((int)row.chunk_id_len > wc)
			wc = row.chunk_id_len < ID_WIDTH ? (int)row.chunk_id_len : ID_WIDTH;
		if ((int)row.doc_id_len > wd)
			wd = row.doc_id_len < ID_WIDTH ? (int)row.doc_id_len : ID_WIDTH;
	}
	if (!a->json && a->batch)
		printf("query: %s\n", text);
	if (!a->json)
		printf("%4s  %-6s  %-*s  %-*s  %s\n", "rank", "score", wc, "chunk_id", wd, "doc_id", "text");
	for (size_t i = 0; i < n; i++) {
		if (index_row(ix, res[i].seg, res[i].row, &row, err) < 0) {
			json_decref(list);
			return -1;
		}
		if (a->json) {
			json_t *o = result_json(i + 1, &res[i], &row);

			if (list)
				json_array_append_new(list, o);
			else
				put_json(o), json_decref(o);
		} else {
			char *line = one_line(row.text, row.text_len);

			printf("%4zu  %.4f  %-*.*s  %-*.*s  %s\n", i + 1, res[i].score, wc,
			       (int)row.chunk_id_len, row.chunk_id, wd, (int)row.doc_id_len, row.doc_id,
			       line);
			free(line);
		}
	}
	if (list) {
		json_t *o = json_object();

		json_object_set_new(o, "query", json_string(text));
		json_object_set_new(o, "results", list);
		put_json(o);
		json_decref(o);
	}
	if (!a->json && a->batch)
		putchar('\n');
	return 0;
}

/* Opens INDEX or the alias it names (alias_resolve) into *ix; 0 or -1 + err. */
static int open_target(const char *arg, struct index **ix, struct rp_err *err)
{
	char *dir;
	int r;

	if (alias_resolve(arg, &dir, err) < 0)
		return -1;
	r = index_open(ix, dir, 0, err);
	free(dir);
	return r;
}

int index_cmd_query(int argc, char **argv)
{
	struct qargs a = { .o = INDEX_QUERY_OPTS_INIT };
	struct rp_err err = { 0 };
	struct index *ix = NULL;
	struct index_searcher *s = NULL;
	struct index_result *res = NULL;
	size_t *nres = NULL, n = 0;
	char **texts = NULL;
	int ret;

	if ((ret = parse_args(argc, argv, &a)) >= 0)
		return ret;
	if (a.batch) {
		if (read_batch(a.batch, &texts, &n, &err) < 0)
			goto fail;
	} else {
		texts = xmalloc(sizeof(*texts));
		texts[n++] = xstrdup(a.text);
	}
	if (open_target(a.index, &ix, &err) < 0 || !(s = index_searcher_new(ix, &a.o, &err)))
		goto fail;
	res = xmalloc(n * a.o.k * sizeof(*res));
	nres = xmalloc(n * sizeof(*nres));
	if (index_searcher_run(s, (const char *const *)texts, n, res, nres, &err) < 0)
		goto fail;
	for (size_t q = 0; q < n; q++)
		if (print_results(&a, ix, texts[q], res + q * a.o.k, nres[q], &err) < 0)
			goto fail;
	ret = RP_EXIT_OK;
	if (fflush(stdout) == EOF || ferror(stdout))
		ret = (rp_error_errno("cannot write to standard output"), RP_EXIT_FAIL);
	goto out;
fail:
	ret = rp_err_exit(&err);
out:
	index_searcher_free(s);
	index_close(ix);
	for (size_t q = 0; q < n; q++)
		free(texts[q]);
	free(texts);
	free(res);
	free(nres);
	return ret;
}
