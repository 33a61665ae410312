/*
 * index-info.c - `rp-index info INDEX [--json]`: what an index holds.
 *
 * Opens the index (index_open: the manifest read and validated, every
 * segment mapped and its structure checked, nothing hashed) and prints what
 * the manifest and the segments say: the embedding provider and model, the
 * dimension and distance, the counts (live chunks, documents, tombstones,
 * segments, dead rows), the size in bytes of the files the manifest names,
 * the generation and the logical digest. Cheap: it reads no vector. Whether
 * the files still match the manifest is `rp-index verify`'s question.
 * INDEX may be an alias of the workspace (alias_resolve): its served copy is
 * read, and "index" stays the name given.
 *
 * Text output is one "key: value" line per field; --json prints one
 * canonical JSON object (sorted keys) on one line:
 *   {"bytes":N,"chunks":N,"dead_rows":N,"digest":"<64 hex>","dim":N,
 *    "distance":"cosine","documents":N,"format":"rp-index","generation":N,
 *    "index":"PATH","model":"M","provider":"P","segments":N,"tombstones":N,
 *    "version":1}
 */
#include "index.h"
#include "index/alias.h"
#include "index/index.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/jsonl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char info_usage_text[] =
	"usage: rp-index info INDEX [--json]\n"
	"\n"
	"  Prints the index's embedding provider and model, dimension, distance,\n"
	"  counts (chunks, documents, tombstones, segments, dead rows), size in\n"
	"  bytes, generation and logical digest. INDEX may be an alias.\n"
	"\n"
	"  --json       one JSON object instead of text\n"
	"  -h, --help   show this help\n";

static int info_usage(int is_error)
{
	fputs(info_usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

/* The rows of all segments whose dead bit is set. */
static size_t dead_rows(const struct index *ix)
{
	size_t n = 0;

	for (size_t s = 0; s < ix->nseg; s++)
		n += ix->segs[s].dead_rows;
	return n;
}

static void print_json(const char *dir, const struct index *ix)
{
	json_t *o = json_object();
	struct buf b;

	json_object_set_new(o, "index", json_string(dir));
	json_object_set_new(o, "format", json_string("rp-index"));
	json_object_set_new(o, "version", json_integer(1));
	json_object_set_new(o, "provider", json_string(ix->provider));
	json_object_set_new(o, "model", json_string(ix->model));
	json_object_set_new(o, "dim", json_integer(ix->dim));
	json_object_set_new(o, "distance", json_string(ix->distance));
	json_object_set_new(o, "generation", json_integer((json_int_t)ix->generation));
	json_object_set_new(o, "chunks", json_integer((json_int_t)ix->live));
	json_object_set_new(o, "documents", json_integer((json_int_t)ix->documents));
	json_object_set_new(o, "tombstones", json_integer((json_int_t)ix->tombstones));
	json_object_set_new(o, "segments", json_integer((json_int_t)ix->nseg));
	json_object_set_new(o, "dead_rows", json_integer((json_int_t)dead_rows(ix)));
	json_object_set_new(o, "bytes", json_integer((json_int_t)ix->bytes));
	json_object_set_new(o, "digest", json_string(ix->digest));
	buf_init(&b);
	jsonl_dump(o, &b);
	fwrite(b.s, 1, b.len, stdout);
	buf_release(&b);
	json_decref(o);
}

static void print_text(const char *dir, const struct index *ix)
{
	printf("index:       %s\n", dir);
	printf("provider:    %s\n", ix->provider ? ix->provider : "-");
	printf("model:       %s\n", ix->model ? ix->model : "-");
	printf("dimension:   %u\n", ix->dim);
	printf("distance:    %s\n", ix->distance ? ix->distance : "-");
	printf("chunks:      %zu\n", ix->live);
	printf("documents:   %zu\n", ix->documents);
	printf("tombstones:  %zu\n", ix->tombstones);
	printf("segments:    %zu\n", ix->nseg);
	printf("dead rows:   %zu\n", dead_rows(ix));
	printf("size:        %llu bytes\n", ix->bytes);
	printf("generation:  %llu\n", ix->generation);
	printf("digest:      %s\n", ix->digest);
}

int index_cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rp_err err = { 0 };
	struct index *ix;
	char *dir;
	int c, json = 0, r;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'h': return info_usage(0);
		default: return info_usage(1);
		}
	}
	if (argc - optind != 1)
		return info_usage(1);
	if (alias_resolve(argv[optind], &dir, &err) < 0)
		return rp_err_exit(&err);
	r = index_open(&ix, dir, 0, &err);
	free(dir);
	if (r < 0)
		return rp_err_exit(&err);
	if (json)
		print_json(argv[optind], ix);
	else
		print_text(argv[optind], ix);
	index_close(ix);
	if (fflush(stdout) == EOF || ferror(stdout))
		return rp_error_errno("cannot write to standard output"), RP_EXIT_FAIL;
	return RP_EXIT_OK;
}
