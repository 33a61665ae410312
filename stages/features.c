/*
 * features.c - rp-features: the feature store (rp-features(1), and its
 * definitions file rp-features.yaml(5)).
 *
 * main() only dispatches: `rp-features SUBCOMMAND ARGS` calls the
 * subcommand's function (features-cmd.h), which lives in its own file, as
 * rp-index's do.
 */
#include "features-cmd.h"
#include "util/error.h"

#include <stdio.h>
#include <string.h>

static const struct subcommand {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} subcommands[] = {
	{ "check-skew", features_cmd_check_skew, "compare online values with offline ones" },
	{ "get", features_cmd_get, "look up entities' values in the online store" },
	{ "historical", features_cmd_historical, "a point-in-time training set for entity rows" },
	{ "materialize", features_cmd_materialize, "write feature values as of a time to the online store" },
	{ "validate", features_cmd_validate, "check a features.yaml and list its features" },
	{ NULL, NULL, NULL }
};

static int usage(int is_error)
{
	FILE *f = is_error ? stderr : stdout;

	fputs("usage: rp-features SUBCOMMAND [ARGS...]\n"
	      "       rp-features --help | --version\n"
	      "\n"
	      "subcommands:\n", f);
	for (const struct subcommand *s = subcommands; s->name; s++)
		fprintf(f, "  %-12s %s\n", s->name, s->help);
	fputs("\n'rp-features SUBCOMMAND -h' shows its options. See rp-features(1) and\n"
	      "rp-features.yaml(5).\n", f);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

int main(int argc, char **argv)
{
	rp_progname = "rp-features";
	if (argc < 2)
		return usage(1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return usage(0);
	if (!strcmp(argv[1], "--version")) {
		printf("rp-features %s\n", PACKAGE_VERSION);
		return RP_EXIT_OK;
	}
	for (const struct subcommand *s = subcommands; s->name; s++)
		if (!strcmp(argv[1], s->name))
			return s->fn(argc - 1, argv + 1);
	fprintf(stderr, "rp-features: unknown subcommand '%s'; see 'rp-features --help'\n", argv[1]);
	return RP_EXIT_USAGE;
}
