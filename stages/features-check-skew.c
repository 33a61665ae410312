/*
 * features-check-skew.c - `rp-features check-skew`: compares a sample of
 * the online store's values with the offline values at its
 * materialization time (skew.h). Prints each difference to stdout
 * (ENTITY, FEATURE, online value and status, offline value and status)
 * and exits 1 when there is one; else a summary on stderr and exit 0.
 */
#include "features-cmd.h"
#include "features/defs.h"
#include "features/online.h"
#include "features/skew.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/progress.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char skew_usage_text[] =
	"usage: rp-features check-skew --defs FILE --online STORE [--sample N] [--seed S]\n"
	"                              [--features VIEW:FEATURE,...] [--assume-utc] [-q]\n"
	"\n"
	"  Recomputes offline, at the store's materialization time, the values of\n"
	"  a deterministic sample of entities and compares them with the online\n"
	"  records as get serves them. Exit 1 listing each difference.\n"
	"\n"
	"  --defs FILE       the definitions (features.yaml)\n"
	"  --online STORE    an SQLite file or redis://HOST:PORT[/DB]\n"
	"  --sample N        entities to compare (default 1000; 0: all)\n"
	"  --seed S          the sample's seed (default 0)\n"
	"  --features LIST   comma-separated VIEW:FEATURE names (default: all)\n"
	"  --assume-utc      read timestamps without an offset as UTC\n"
	"  -q, --quiet       no summary line\n"
	"  -h, --help        show this help\n";

static int skew_usage(int is_error)
{
	fputs(skew_usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

static int parse_u64(const char *opt, const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (!*s || *end || errno || *s == '-') {
		fprintf(stderr, "rp-features check-skew: %s '%s': write a whole number\n", opt, s);
		return -1;
	}
	return 0;
}

int features_cmd_check_skew(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "defs", required_argument, NULL, 'd' },
		{ "online", required_argument, NULL, 'o' },
		{ "sample", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "features", required_argument, NULL, 'f' },
		{ "assume-utc", no_argument, NULL, 'u' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *defs = NULL, *online = NULL, *features = NULL;
	uint64_t sample = 1000, seed = 0;
	int c, assume_utc = 0, quiet = 0, ret = RP_EXIT_OK;
	struct fdefs d;
	struct fsel sel = { 0 };
	struct ostore *s = NULL;
	struct skew_stats st;
	struct buf diffs = BUF_INIT;
	struct rp_err err = { 0 };
	char at[FTIME_TEXT];

	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': defs = optarg; break;
		case 'o': online = optarg; break;
		case 'n':
			if (parse_u64("--sample", optarg, &sample) < 0)
				return RP_EXIT_USAGE;
			break;
		case 's':
			if (parse_u64("--seed", optarg, &seed) < 0)
				return RP_EXIT_USAGE;
			break;
		case 'f': features = optarg; break;
		case 'u': assume_utc = 1; break;
		case 'q': quiet = 1; break;
		case 'h': return skew_usage(0);
		default: return skew_usage(1);
		}
	}
	if (optind != argc || !defs || !online) {
		if (optind == argc)
			fprintf(stderr, "rp-features check-skew: %s is required\n",
				!defs ? "--defs FILE" : "--online STORE");
		return skew_usage(1);
	}
	if (fdefs_load(&d, defs, &err) < 0 || fdefs_select(&d, features, &sel, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	s = ostore_open(online, 0, &err);
	if (!s || skew_check(&d, &sel, s, (size_t)sample, seed, assume_utc, &diffs, &st, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	fwrite(diffs.s, 1, diffs.len, stdout);
	ftime_format(st.at, at);
	if (!quiet)
		progress_summary("rp features check-skew", "%zu entit%s, %zu value%s compared at %s, "
				 "%zu difference%s", st.entities, st.entities == 1 ? "y" : "ies",
				 st.compared, plural_s(st.compared), at, st.differences,
				 plural_s(st.differences));
	if (st.differences)
		ret = RP_EXIT_FAIL;
out:
	buf_release(&diffs);
	ostore_free(s);
	fsel_release(&sel);
	fdefs_release(&d);
	return ret;
}
