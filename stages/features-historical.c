/*
 * features-historical.c - `rp-features historical`: a point-in-time
 * correct training set (historical.h does the join).
 *
 * Writes -o atomically (nothing on error) and prints one summary line to
 * stderr: rows, features, nulls by status, seconds. --as-of-now, the
 * deliberate leaky control, also warns that the set leaks future values.
 */
#include "features-cmd.h"
#include "features/defs.h"
#include "features/historical.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/jsonl.h"
#include "util/progress.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char historical_usage_text[] =
	"usage: rp-features historical --defs FILE --entities ROWS.jsonl -o OUT.jsonl\n"
	"                              [--features VIEW:FEATURE,...] [--timestamp-column NAME]\n"
	"                              [--assume-utc] [--as-of-now] [-q]\n"
	"\n"
	"  Adds to each entity row every selected feature's value as of the row's\n"
	"  time (point in time: only events known by then), and \"rp_status\".\n"
	"\n"
	"  --defs FILE               the definitions (features.yaml)\n"
	"  --entities FILE           entity rows: JSONL with the join keys and a time\n"
	"  -o, --output FILE         the training set to write (JSONL, atomically)\n"
	"  --features LIST           comma-separated VIEW:FEATURE names (default: all)\n"
	"  --timestamp-column NAME   the rows' time column (default: event_timestamp)\n"
	"  --assume-utc              read timestamps without an offset as UTC\n"
	"  --as-of-now               LEAKY control: every row as of the latest known time\n"
	"  -q, --quiet               no summary line\n"
	"  -h, --help                show this help\n";

static int historical_usage(int is_error)
{
	fputs(historical_usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int features_cmd_historical(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "defs", required_argument, NULL, 'd' },
		{ "entities", required_argument, NULL, 'e' },
		{ "output", required_argument, NULL, 'o' },
		{ "features", required_argument, NULL, 'f' },
		{ "timestamp-column", required_argument, NULL, 't' },
		{ "assume-utc", no_argument, NULL, 'u' },
		{ "as-of-now", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *defs = NULL, *output = NULL, *features = NULL;
	struct fhist_opts o = { 0 };
	struct fhist_stats st;
	struct fdefs d;
	struct fsel sel = { 0 };
	struct buf out = BUF_INIT;
	struct rp_err err = { 0 };
	double t0 = now_seconds();
	int c, ret, quiet = 0;

	while ((c = getopt_long(argc, argv, "hqo:", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			defs = optarg;
			break;
		case 'e':
			o.entities = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'f':
			features = optarg;
			break;
		case 't':
			o.ts_column = optarg;
			break;
		case 'u':
			o.assume_utc = 1;
			break;
		case 'n':
			o.as_of_now = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			return historical_usage(0);
		default:
			return historical_usage(1);
		}
	}
	if (optind != argc || !defs || !o.entities || !output) {
		if (optind != argc)
			fprintf(stderr, "rp-features historical: unexpected argument '%s'\n", argv[optind]);
		else
			fprintf(stderr, "rp-features historical: %s is required\n",
				!defs ? "--defs FILE" : !o.entities ? "--entities FILE" : "-o FILE");
		return historical_usage(1);
	}
	if (fdefs_load(&d, defs, &err) < 0 || fdefs_select(&d, features, &sel, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	if (fhist_run(&d, &sel, &o, &out, &st, &err) < 0 ||
	    jsonl_write_file(output, &out, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	if (o.as_of_now)
		rp_warn("--as-of-now: every row got the values as of the latest time in the sources; "
			"'%s' leaks future values and is only a control for measuring leakage", output);
	if (!quiet)
		progress_summary("rp features historical", "%zu row%s, %zu feature%s, %zu event%s, "
				 "nulls: %zu NOT_FOUND, %zu EXPIRED, %.3f s", st.rows,
				 plural_s(st.rows), st.features, plural_s(st.features), st.events,
				 plural_s(st.events), st.not_found, st.expired, now_seconds() - t0);
	ret = RP_EXIT_OK;
out:
	buf_release(&out);
	fsel_release(&sel);
	fdefs_release(&d);
	return ret;
}
