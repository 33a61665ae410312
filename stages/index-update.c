/*
 * index-update.c - `rp-index update INDEX --vectors V.rpv --chunks C.jsonl`:
 * brings the index directory in step with a chunk file and its vectors.
 *
 * The work is index_update() (index/update.h): the diff by chunk_id and
 * content_hash, one new segment for the added and updated rows, dead
 * bitmaps and tombstones for the rest, compaction, and the commit through
 * MANIFEST.json (rp-index(5)). This file parses the options, shows progress
 * on a terminal, and ends with the counts on stderr (none with -q):
 *     rp index update: added N, updated N, deleted N, unchanged N
 * and with --stats FILE writes them as one JSON object:
 *     {"added":N,"deleted":N,"unchanged":N,"updated":N}
 */
#include "index.h"
#include "index/update.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/jsonl.h"
#include "util/progress.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char update_usage_text[] =
	"usage: rp-index update INDEX --vectors V.rpv --chunks C.jsonl [--stats FILE]\n"
	"                       [--rebuild] [--no-fts] [--distance cosine|ip] [-q]\n"
	"\n"
	"  Adds the new chunks of C.jsonl to the index directory INDEX (made when\n"
	"  missing), replaces those whose content_hash changed, deletes those that\n"
	"  are gone (logging a tombstone for each) and leaves the rest untouched.\n"
	"  Every chunk needs its vector in V.rpv (same chunk_id and content_hash),\n"
	"  made by the index's embedding model.\n"
	"\n"
	"  --vectors FILE       the vectors of the chunks (rp-embed's output)\n"
	"  --chunks FILE        the chunks (rp-chunk's output)\n"
	"  --stats FILE         write the counts as JSON\n"
	"  --rebuild            when the index is of another provider, model,\n"
	"                       dimension or distance, or damaged, start from empty\n"
	"                       instead of refusing; else update it as usual (for a\n"
	"                       pipeline stage whose model is a parameter)\n"
	"  --no-fts             write no full-text tables (no --hybrid queries)\n"
	"  --distance D         cosine (default; vectors stored normalised) or ip;\n"
	"                       fixed when the index is made\n"
	"  -q, --quiet          no summary line\n"
	"  -h, --help           show this help\n";

static int update_usage(int is_error)
{
	fputs(update_usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

static int write_stats(const char *path, const struct update_stats *st)
{
	struct rp_err err = { 0 };
	struct buf b = BUF_INIT;
	json_t *o = json_pack("{s:I,s:I,s:I,s:I}", "added", (json_int_t)st->added,
			      "updated", (json_int_t)st->updated, "deleted", (json_int_t)st->deleted,
			      "unchanged", (json_int_t)st->unchanged);
	int rc;

	jsonl_dump(o, &b);
	json_decref(o);
	rc = jsonl_write_file(path, &b, &err);
	buf_release(&b);
	return rc < 0 ? rp_err_exit(&err) : RP_EXIT_OK;
}

int index_cmd_update(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "vectors", required_argument, NULL, 'v' },
		{ "chunks", required_argument, NULL, 'c' },
		{ "stats", required_argument, NULL, 's' },
		{ "rebuild", no_argument, NULL, 'r' },
		{ "no-fts", no_argument, NULL, 'n' },
		{ "distance", required_argument, NULL, 'd' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct update_opts o = UPDATE_OPTS_INIT;
	struct update_stats st;
	struct rp_err err = { 0 };
	struct progress prog;
	const char *stats = NULL;
	int c, quiet = 0;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'v': o.vectors = optarg; break;
		case 'c': o.chunks = optarg; break;
		case 's': stats = optarg; break;
		case 'r': o.rebuild = 1; break;
		case 'n': o.no_fts = 1; break;
		case 'd': o.distance = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': return update_usage(0);
		default:
			rp_error("update: unknown option or missing value: '%s'", argv[optind - 1]);
			return update_usage(1);
		}
	}
	if (optind + 1 != argc || !o.vectors || !o.chunks) {
		rp_error("update: %s", optind + 1 < argc ? "one INDEX only" :
			 optind == argc ? "missing INDEX" : "--vectors and --chunks are required");
		return update_usage(1);
	}
	if (o.distance && strcmp(o.distance, "cosine") && strcmp(o.distance, "ip")) {
		rp_error("update: --distance must be cosine or ip, not '%s'", o.distance);
		return RP_EXIT_USAGE;
	}
	o.dir = argv[optind];
	progress_init(&prog, "rp index update", 0);
	o.progress = &prog;
	c = index_update(&o, &st, &err);
	progress_end(&prog);
	if (c < 0)
		return rp_err_exit(&err);
	if (stats && (c = write_stats(stats, &st)) != RP_EXIT_OK)
		return c;
	if (!quiet)
		progress_summary("rp index update", "added %zu, updated %zu, deleted %zu, "
				 "unchanged %zu", st.added, st.updated, st.deleted, st.unchanged);
	return RP_EXIT_OK;
}
