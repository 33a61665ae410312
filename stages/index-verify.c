/*
 * index-verify.c - `rp-index verify INDEX [--chunks C.jsonl] [--json]`.
 *
 * Runs index_verify() (verify.h: the index's own integrity, then, with
 * --chunks, the drift against the chunks' fingerprints) and prints every
 * problem, one per line, tab-separated so that scripts can cut it:
 *
 *   KIND<TAB>CHUNK_ID<TAB>DOC_ID       drift: ghost, missing, stale, wrong-model
 *   KIND<TAB>FILE<TAB>WHAT             integrity: manifest, missing-file,
 *                                      corrupt-file, bad-segment, bad-tombstones,
 *                                      duplicate, counts, digest
 *
 * then one summary line. --json prints one object instead:
 *   {"chunks":N,"counts":{"ghost":N,...},"digest":"<hex>"|null,
 *    "documents":N,"index":"INDEX","issues":[{"chunk_id","detail","doc_id",
 *    "file","kind"},...],"manifest_digest":"<hex>"|null,"ok":BOOL,
 *    "segments":N,"source":"C.jsonl"|null,"source_chunks":N|null}
 * INDEX may be an alias of the workspace (alias_resolve): its served copy
 * is checked, and the output names INDEX as given.
 * Exit 0 when nothing is wrong, 1 when anything is, 2 for a usage error, a
 * directory that is no index, a broken alias, or an invalid chunk file.
 */
#include "index.h"
#include "index/alias.h"
#include "index/verify.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/jsonl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char verify_usage_text[] =
	"usage: rp-index verify INDEX [--chunks CHUNKS.jsonl] [--json]\n"
	"\n"
	"  Checks the index's integrity (every file the manifest names is there with\n"
	"  its SHA-256, the segments are sound, the logical digest and the counts\n"
	"  agree with the live rows) and, with --chunks, reconciles it with the\n"
	"  chunks' fingerprints: ghost (in the index, gone from the source), missing\n"
	"  (in the source, not in the index), stale (content_hash differs),\n"
	"  wrong-model (a segment of another embedding model). Prints one line per\n"
	"  problem (KIND, CHUNK_ID, DOC_ID); exit 1 when there is any, 0 when none.\n"
	"  INDEX may be an alias (its served copy is checked).\n"
	"\n"
	"  -c, --chunks FILE   the chunks the index should hold (chunk_id, doc_id,\n"
	"                      content_hash per line)\n"
	"  --json              one JSON object instead of text\n"
	"  -h, --help          show this help\n";

static int verify_usage(int is_error)
{
	fputs(verify_usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void print_json(const char *dir, const char *chunks, const struct verify_report *rep)
{
	json_t *o = json_object(), *counts = json_object(), *issues = json_array();
	struct buf b;

	for (int k = 0; k < VERIFY_NKINDS; k++)
		json_object_set_new(counts, verify_kind_name(k), json_integer((json_int_t)rep->count[k]));
	for (size_t i = 0; i < rep->n; i++) {
		const struct verify_issue *is = &rep->v[i];
		json_t *e = json_object();

		json_object_set_new(e, "kind", json_string(verify_kind_name(is->kind)));
		json_object_set_new(e, "chunk_id", str_or_null(is->chunk_id));
		json_object_set_new(e, "doc_id", str_or_null(is->doc_id));
		json_object_set_new(e, "file", str_or_null(is->file));
		json_object_set_new(e, "detail", json_string(is->detail));
		json_array_append_new(issues, e);
	}
	json_object_set_new(o, "index", json_string(dir));
	json_object_set_new(o, "ok", json_boolean(rep->n == 0));
	json_object_set_new(o, "chunks", json_integer((json_int_t)rep->chunks));
	json_object_set_new(o, "documents", json_integer((json_int_t)rep->documents));
	json_object_set_new(o, "segments", json_integer((json_int_t)rep->segments));
	json_object_set_new(o, "digest", str_or_null(rep->digest_known ? rep->digest : NULL));
	json_object_set_new(o, "manifest_digest",
			    str_or_null(*rep->manifest_digest ? rep->manifest_digest : NULL));
	json_object_set_new(o, "source", str_or_null(chunks));
	json_object_set_new(o, "source_chunks", rep->source_checked ?
			    json_integer((json_int_t)rep->source_chunks) : json_null());
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "issues", issues);
	buf_init(&b);
	jsonl_dump(o, &b);
	fwrite(b.s, 1, b.len, stdout);
	buf_release(&b);
	json_decref(o);
}

static void print_text(const char *dir, const char *chunks, const struct verify_report *rep)
{
	const char *sep = "";

	for (size_t i = 0; i < rep->n; i++) {
		const struct verify_issue *is = &rep->v[i];

		if (is->kind >= VERIFY_FIRST_DRIFT)
			printf("%s\t%s\t%s\n", verify_kind_name(is->kind), is->chunk_id, is->doc_id);
		else
			printf("%s\t%s\t%s\n", verify_kind_name(is->kind),
			       is->chunk_id ? is->chunk_id : is->file ? is->file : "-", is->detail);
	}
	if (!rep->n) {
		printf("%s: ok: %zu chunks of %zu documents in %zu segment%s, digest %s%s%s\n", dir,
		       rep->chunks, rep->documents, rep->segments, rep->segments == 1 ? "" : "s",
		       rep->digest, chunks ? ", in step with " : "", chunks ? chunks : "");
		return;
	}
	printf("%s: %zu problem%s: ", dir, rep->n, rep->n == 1 ? "" : "s");
	for (int k = 0; k < VERIFY_NKINDS; k++)
		if (rep->count[k]) {
			printf("%s%zu %s", sep, rep->count[k], verify_kind_name(k));
			sep = ", ";
		}
	putchar('\n');
}

int index_cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "chunks", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rp_err err = { 0 };
	struct verify_report rep;
	const char *chunks = NULL, *dir;
	char *path;
	int c, json = 0, code, r;

	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': chunks = optarg; break;
		case 'j': json = 1; break;
		case 'h': return verify_usage(0);
		default: return verify_usage(1);
		}
	}
	if (argc - optind != 1)
		return verify_usage(1);
	dir = argv[optind];
	if (alias_resolve(dir, &path, &err) < 0)
		return rp_err_exit(&err);
	r = index_verify(path, chunks, &rep, &err);
	free(path);
	if (r < 0)
		return rp_err_exit(&err);
	if (json)
		print_json(dir, chunks, &rep);
	else
		print_text(dir, chunks, &rep);
	code = rep.n ? RP_EXIT_FAIL : RP_EXIT_OK;
	verify_report_release(&rep);
	if (fflush(stdout) == EOF || ferror(stdout))
		return rp_error_errno("cannot write to standard output"), RP_EXIT_FAIL;
	return code;
}
