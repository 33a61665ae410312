/*
 * features-validate.c - `rp-features validate --defs D [--no-sources]`:
 * checks a features.yaml and, unless told not to, reads every view's
 * source with the same loader historical and materialize use, so that a
 * bad timestamp or a misspelled column is found before a long join.
 *
 * Prints one line per feature, "VIEW:FEATURE\tAGG\tCOLUMN\twindow W\tttl T",
 * then, per view whose source was read, "view V: N events, M entities
 * (SOURCE)". Exit 0 when everything is valid, 2 when the definitions or a
 * source is not (the message names FILE:LINE[:COL] and the fix), 1 when a
 * source cannot be read.
 */
#include "features-cmd.h"
#include "features/defs.h"
#include "features/events.h"
#include "util/error.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char validate_usage_text[] =
	"usage: rp-features validate --defs FILE [--no-sources] [--assume-utc]\n"
	"\n"
	"  Checks the feature definitions and reads every view's source, reporting\n"
	"  the first problem with its file, line and column.\n"
	"\n"
	"  --defs FILE    the definitions (features.yaml; see rp-features.yaml(5))\n"
	"  --no-sources   check the definitions only, do not read the sources\n"
	"  --assume-utc   read timestamps without an offset as UTC\n"
	"  -h, --help     show this help\n";

static int validate_usage(int is_error)
{
	fputs(validate_usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

static void print_feature(const struct ffeature *f)
{
	char w[FTIME_TEXT] = "-", t[FTIME_TEXT] = "-";

	if (f->window != FTIME_NONE)
		fdur_format(f->window, w);
	if (f->ttl != FTIME_NONE)
		fdur_format(f->ttl, t);
	printf("%s\t%s\t%s\twindow %s\tttl %s\n", f->full, fagg_name(f->agg),
	       f->column ? f->column : "-", w, t);
}

int features_cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "defs", required_argument, NULL, 'd' },
		{ "no-sources", no_argument, NULL, 'n' },
		{ "assume-utc", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *defs = NULL;
	int c, sources = 1, assume_utc = 0, ret = RP_EXIT_OK;
	struct fdefs d;
	struct rp_err err = { 0 };

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			defs = optarg;
			break;
		case 'n':
			sources = 0;
			break;
		case 'u':
			assume_utc = 1;
			break;
		case 'h':
			return validate_usage(0);
		default:
			return validate_usage(1);
		}
	}
	if (optind != argc || !defs) {
		if (!defs)
			fputs("rp-features validate: --defs FILE is required\n", stderr);
		return validate_usage(1);
	}
	if (fdefs_load(&d, defs, &err) < 0) {
		fdefs_release(&d);
		return rp_err_exit(&err);
	}
	for (size_t v = 0; v < d.nviews; v++)
		for (size_t f = 0; f < d.views[v].nfeatures; f++)
			print_feature(&d.views[v].features[f]);
	for (size_t v = 0; sources && v < d.nviews && ret == RP_EXIT_OK; v++) {
		struct fevents ev;

		if (fevents_load(&ev, &d.views[v], assume_utc, &err) < 0)
			ret = rp_err_exit(&err);
		else
			printf("view %s: %zu events, %zu entities (%s)\n", d.views[v].name, ev.n,
			       ev.keys.n, d.views[v].source->path);
		fevents_release(&ev);
	}
	fdefs_release(&d);
	return ret;
}
