/*
 * index-alias.c - `rp-index promote | rollback | history --alias NAME`:
 * blue-green serving of indexes through an alias (rp-index(1), ALIASES;
 * the design is in src/lib/index/alias.h).
 *
 * promote copies INDEX into the alias's immutable served copy and switches
 * the alias to it (after the gate, when --gate names rp-eval's METRICS.json);
 * rollback switches back to what served before; history lists every switch,
 * marking the copy that serves now.
 */
#include "index.h"
#include "index/alias.h"
#include "util/error.h"
#include "util/jsonl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char promote_usage_text[] =
	"usage: rp-index promote --alias NAME --to INDEX [--gate METRICS.json]\n"
	"\n"
	"  Serves INDEX (a directory inside the workspace) as alias NAME: an\n"
	"  immutable copy is made under .rp/index/NAME/ and the alias switched to it\n"
	"  atomically. 'rp-index query NAME TEXT' then searches it.\n"
	"\n"
	"  --alias NAME         the alias (letters, digits, '.', '_', '-')\n"
	"  --to INDEX           the index to serve\n"
	"  --gate METRICS.json  refuse (exit 1) unless rp-eval's verdict passes and\n"
	"                       evaluated INDEX (by its logical digest)\n"
	"  -h, --help           show this help\n";

static const char rollback_usage_text[] =
	"usage: rp-index rollback --alias NAME\n"
	"\n"
	"  Switches alias NAME back to the index it served before the last promote.\n"
	"\n"
	"  --alias NAME   the alias\n"
	"  -h, --help     show this help\n";

static const char history_usage_text[] =
	"usage: rp-index history --alias NAME [--json]\n"
	"\n"
	"  Lists every promote and rollback of alias NAME, oldest first; '*' marks\n"
	"  the line whose index serves now.\n"
	"\n"
	"  --alias NAME   the alias\n"
	"  --json         the history lines as stored (JSON Lines)\n"
	"  -h, --help     show this help\n";

static int alias_usage(const char *text, int is_error)
{
	fputs(text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

enum { O_ALIAS = 256, O_TO, O_GATE, O_JSON };

struct aargs {
	const char *alias, *to, *gate;
	int json;
};

/* Parses the options that `allowed` ("atgj": alias, to, gate, json) lists; -1 to go on, else the exit. */
static int parse_args(int argc, char **argv, const char *allowed, const char *usage, struct aargs *a)
{
	static const struct option longopts[] = {
		{ "alias", required_argument, NULL, O_ALIAS },
		{ "to", required_argument, NULL, O_TO },
		{ "gate", required_argument, NULL, O_GATE },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'h')
			return alias_usage(usage, 0);
		if (c < O_ALIAS || !strchr(allowed, "atgj"[c - O_ALIAS]))
			return alias_usage(usage, 1);
		switch (c) {
		case O_ALIAS: a->alias = optarg; break;
		case O_TO: a->to = optarg; break;
		case O_GATE: a->gate = optarg; break;
		case O_JSON: a->json = 1; break;
		}
	}
	if (optind != argc) {
		rp_error("unexpected argument '%s'", argv[optind]);
		return alias_usage(usage, 1);
	}
	if (!a->alias || (strchr(allowed, 't') && !a->to)) {
		rp_error("%s is required", !a->alias ? "--alias NAME" : "--to INDEX");
		return alias_usage(usage, 1);
	}
	return -1;
}

int index_cmd_promote(int argc, char **argv)
{
	struct aargs a = { 0 };
	struct alias_event ev;
	struct rp_err err = { 0 };
	int ret;

	if ((ret = parse_args(argc, argv, "atg", promote_usage_text, &a)) >= 0)
		return ret;
	if (alias_promote(a.alias, a.to, a.gate, &ev, &err) < 0) {
		alias_event_release(&ev);
		return rp_err_exit(&err);
	}
	printf("promoted %s to alias '%s' (model %s, digest %.16s, copy %s)%s%s\n", ev.target, a.alias,
	       ev.model, ev.digest, ev.copy, ev.gate ? ", gate passed: " : "", ev.gate ? ev.gate : "");
	alias_event_release(&ev);
	return RP_EXIT_OK;
}

int index_cmd_rollback(int argc, char **argv)
{
	struct aargs a = { 0 };
	struct alias_event ev;
	struct rp_err err = { 0 };
	int ret;

	if ((ret = parse_args(argc, argv, "a", rollback_usage_text, &a)) >= 0)
		return ret;
	if (alias_rollback(a.alias, &ev, &err) < 0) {
		alias_event_release(&ev);
		return rp_err_exit(&err);
	}
	printf("rolled alias '%s' back to %s (model %s, digest %.16s, copy %s)\n", a.alias,
	       ev.target ? ev.target : "-", ev.model ? ev.model : "-", ev.digest ? ev.digest : "-",
	       ev.copy);
	alias_event_release(&ev);
	return RP_EXIT_OK;
}

static void print_event_json(const struct alias_event *e)
{
	json_t *o = json_object();
	struct buf b = BUF_INIT;

	json_object_set_new(o, "at", e->at ? json_string(e->at) : json_null());
	json_object_set_new(o, "action", json_string(e->action));
	json_object_set_new(o, "target", e->target ? json_string(e->target) : json_null());
	json_object_set_new(o, "digest", e->digest ? json_string(e->digest) : json_null());
	json_object_set_new(o, "model", e->model ? json_string(e->model) : json_null());
	json_object_set_new(o, "gate", e->gate ? json_string(e->gate) : json_null());
	json_object_set_new(o, "copy", json_string(e->copy));
	jsonl_dump(o, &b);
	fwrite(b.s, 1, b.len, stdout);
	buf_release(&b);
	json_decref(o);
}

int index_cmd_history(int argc, char **argv)
{
	struct aargs a = { 0 };
	struct alias_event *evs;
	struct rp_err err = { 0 };
	char *cur = NULL;
	size_t n, last = (size_t)-1;
	int ret;

	if ((ret = parse_args(argc, argv, "aj", history_usage_text, &a)) >= 0)
		return ret;
	if (alias_history(a.alias, &evs, &n, &cur, &err) < 0)
		return rp_err_exit(&err);
	/* the line that made the current copy serve: the last one naming it */
	for (size_t i = 0; i < n; i++)
		if (cur && !strcmp(evs[i].copy, cur))
			last = i;
	for (size_t i = 0; i < n; i++) {
		const struct alias_event *e = &evs[i];

		if (a.json) {
			print_event_json(e);
			continue;
		}
		printf("%c %s  %-8s  %s  model %s  digest %.16s%s%s\n", i == last ? '*' : ' ',
		       e->at ? e->at : "-", e->action, e->target ? e->target : "-",
		       e->model ? e->model : "-", e->digest ? e->digest : "-",
		       e->gate ? "  gate " : "", e->gate ? e->gate : "");
	}
	alias_events_free(evs, n);
	free(cur);
	if (fflush(stdout) == EOF || ferror(stdout))
		return rp_error_errno("cannot write to standard output"), RP_EXIT_FAIL;
	return RP_EXIT_OK;
}
