/*
 * features-materialize.c - `rp-features materialize`: writes each
 * entity's feature values as of T to the online store (materialize.h has
 * the incremental rule), then one progress line to stderr: entities,
 * entities recomputed, records written, seconds.
 */
#include "features-cmd.h"
#include "features/defs.h"
#include "features/materialize.h"
#include "features/online.h"
#include "util/error.h"
#include "util/progress.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char materialize_usage_text[] =
	"usage: rp-features materialize --defs FILE --online STORE [--at TIME]\n"
	"                               [--features VIEW:FEATURE,...] [--full] [--assume-utc]\n"
	"                               [-q]\n"
	"\n"
	"  Computes each entity's feature values as of TIME and writes them to the\n"
	"  online store; only entities whose values can have changed since the\n"
	"  store's last materialization are recomputed. A record is replaced only\n"
	"  by a newer version (as-of time, newest event time, created time).\n"
	"\n"
	"  --defs FILE       the definitions (features.yaml)\n"
	"  --online STORE    an SQLite file (created) or redis://HOST:PORT[/DB]\n"
	"  --at TIME         RFC 3339 (default: now, or SOURCE_DATE_EPOCH when set)\n"
	"  --features LIST   comma-separated VIEW:FEATURE names (default: all; a\n"
	"                    partial run does not advance the store's watermark)\n"
	"  --full            recompute every entity, not only the changed ones\n"
	"  --assume-utc      read timestamps without an offset as UTC\n"
	"  -q, --quiet       no summary line\n"
	"  -h, --help        show this help\n";

static int materialize_usage(int is_error)
{
	fputs(materialize_usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

static double mono_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int features_cmd_materialize(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "defs", required_argument, NULL, 'd' },
		{ "online", required_argument, NULL, 'o' },
		{ "at", required_argument, NULL, 'a' },
		{ "features", required_argument, NULL, 'f' },
		{ "full", no_argument, NULL, 'F' },
		{ "assume-utc", no_argument, NULL, 'u' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *defs = NULL, *online = NULL, *at = NULL, *features = NULL;
	int c, full = 0, assume_utc = 0, quiet = 0, ret = RP_EXIT_OK;
	struct fdefs d;
	struct fsel sel = { 0 };
	struct ostore *s = NULL;
	struct mat_stats st;
	struct rp_err err = { 0 };
	ftime_t T;
	double t0 = mono_seconds();

	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': defs = optarg; break;
		case 'o': online = optarg; break;
		case 'a': at = optarg; break;
		case 'f': features = optarg; break;
		case 'F': full = 1; break;
		case 'u': assume_utc = 1; break;
		case 'q': quiet = 1; break;
		case 'h': return materialize_usage(0);
		default: return materialize_usage(1);
		}
	}
	if (optind != argc || !defs || !online) {
		if (optind == argc)
			fprintf(stderr, "rp-features materialize: %s is required\n",
				!defs ? "--defs FILE" : "--online STORE");
		return materialize_usage(1);
	}
	if (at ? ftime_parse_opt("--at", at, assume_utc, &T, &err) : ftime_default_now(&T, &err))
		return rp_err_exit(&err);
	if (fdefs_load(&d, defs, &err) < 0 || fdefs_select(&d, features, &sel, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	s = ostore_open(online, 1, &err);
	if (!s || materialize(&d, &sel, features == NULL, s, T, full, assume_utc, &st, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	if (!quiet)
		progress_summary("rp features materialize", "%zu entit%s, %zu recomputed%s, %zu "
				 "record%s written, %.2f s", st.entities,
				 st.entities == 1 ? "y" : "ies", st.computed,
				 st.incremental ? " (incremental)" : "", st.written,
				 plural_s(st.written), mono_seconds() - t0);
out:
	ostore_free(s);
	fsel_release(&sel);
	fdefs_release(&d);
	return ret;
}
