/*
 * features-get.c - `rp-features get`: online lookups.
 *
 * Needs --defs as well as --online: the definitions say which view (and so
 * which join keys) each feature belongs to, and its ttl, which is enforced
 * here with ffeature_expired() exactly as historical does offline: a stored
 * OK value whose newest event is at or before T - ttl comes back null with
 * status EXPIRED. T is --at (default: now, or SOURCE_DATE_EPOCH).
 *
 * Entities: --entity KEY=VALUE (repeated, one row) or --entities FILE
 * (JSONL, one row a line). Without --features, the features of every view
 * whose join keys the first row holds. Lookups are made GET_CHUNK rows at a
 * time (one pipeline on Redis). Output to stdout: with --json one row per
 * input row (features.md: input keys, then each feature, then
 * "rp_status"); else per row and feature "FEATURE<TAB>VALUE<TAB>STATUS".
 */
#include "features-cmd.h"
#include "features/agg.h"
#include "features/defs.h"
#include "features/events.h"
#include "features/materialize.h"
#include "features/online.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/jsonl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GET_CHUNK 1024

static const char get_usage_text[] =
	"usage: rp-features get --defs FILE --online STORE (--entity KEY=VALUE... | --entities FILE)\n"
	"                       [--features VIEW:FEATURE,...] [--at TIME] [--json] [--assume-utc]\n"
	"\n"
	"  Looks up the materialized feature values of entities, null with status\n"
	"  EXPIRED when the ttl has passed at TIME (as offline), NOT_FOUND when the\n"
	"  store has no value.\n"
	"\n"
	"  --defs FILE       the definitions (for each feature's view and ttl)\n"
	"  --online STORE    an SQLite file or redis://HOST:PORT[/DB]\n"
	"  --entity K=V      a join key of the entity (repeat for several keys)\n"
	"  --entities FILE   entity rows, JSONL (batch form)\n"
	"  --features LIST   comma-separated VIEW:FEATURE names (default: every\n"
	"                    feature whose view's join keys the first row has)\n"
	"  --at TIME         RFC 3339 (default: now, or SOURCE_DATE_EPOCH when set)\n"
	"  --json            one JSON object a row, as historical writes them\n"
	"  --assume-utc      read --at without an offset as UTC\n"
	"  -h, --help        show this help\n";

static int get_usage(int is_error)
{
	fputs(get_usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

struct getctx {
	const struct fsel *sel;
	struct ostore *s;
	ftime_t T;
	int json;
	const char *src;           /* for messages */
	json_t *rows[GET_CHUNK];
	size_t lines[GET_CHUNK];
	size_t nrows;
	struct buf keytext;        /* NUL-separated key texts */
	size_t *koff;
	const char **keys, **feats;
	struct orec *recs;
	struct buf out;
};

static int has_keys(const struct fentity *e, json_t *row)
{
	for (size_t i = 0; i < e->nkeys; i++) {
		json_t *v = json_object_get(row, e->keys[i]);

		if (!v || json_is_null(v) || json_is_object(v) || json_is_array(v))
			return 0;
	}
	return 1;
}

static int flush_rows(struct getctx *g, struct rp_err *err)
{
	size_t nf = g->sel->n, n = g->nrows * nf;
	int ret = 0;

	buf_reset(&g->keytext);
	for (size_t r = 0; r < g->nrows; r++) {
		for (size_t j = 0; j < nf; j++) {
			const char *missing = NULL;

			g->koff[r * nf + j] = g->keytext.len;
			if (fkey_from_json(g->sel->view[j]->entity, g->rows[r], &g->keytext, &missing) < 0)
				return rp_err_set(err, RP_ERR_INPUT,
						  "%s:%zu: no join key '%s' for feature '%s': add it to the row or "
						  "select other --features", g->src, g->lines[r], missing,
						  g->sel->f[j]->full);
			buf_addch(&g->keytext, '\0');
			g->feats[r * nf + j] = g->sel->f[j]->full;
		}
	}
	for (size_t i = 0; i < n; i++)
		g->keys[i] = g->keytext.s + g->koff[i];
	if (ostore_get(g->s, g->keys, g->feats, n, g->recs, err) < 0)
		ret = -1;
	for (size_t r = 0; !ret && r < g->nrows; r++) {
		const char *k;
		json_t *v;
		int first = 1, nnull = 0;

		if (g->json) {
			buf_addch(&g->out, '{');
			json_object_foreach(g->rows[r], k, v) {
				char *t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

				if (!first)
					buf_addch(&g->out, ',');
				first = 0;
				buf_add_json_str(&g->out, k);
				buf_addch(&g->out, ':');
				buf_adds(&g->out, t);
				free(t);
			}
		}
		for (size_t j = 0; j < nf; j++) {
			struct orec *rec = &g->recs[r * nf + j];
			enum fstatus st = !rec->found ? FSTATUS_NOT_FOUND : rec->status;

			if (st == FSTATUS_OK && ffeature_expired(g->sel->f[j], rec->newest_ts, g->T))
				st = FSTATUS_EXPIRED;
			rec->status = st;
			if (st != FSTATUS_OK)
				nnull++;
			if (g->json) {
				if (!first)
					buf_addch(&g->out, ',');
				first = 0;
				buf_add_json_str(&g->out, g->sel->f[j]->full);
				buf_addch(&g->out, ':');
				buf_adds(&g->out, st == FSTATUS_OK ? rec->value : "null");
			} else {
				buf_addf(&g->out, "%s\t%s\t%s\n", g->sel->f[j]->full,
					 st == FSTATUS_OK ? rec->value : "null", fstatus_name(st));
			}
		}
		if (g->json) {
			if (!first)
				buf_addch(&g->out, ',');
			buf_adds(&g->out, "\"rp_status\":{");
			first = 1;
			for (size_t j = 0; j < nf; j++) {
				struct orec *rec = &g->recs[r * nf + j];

				if (rec->status == FSTATUS_OK)
					continue;
				if (!first)
					buf_addch(&g->out, ',');
				first = 0;
				buf_add_json_str(&g->out, g->sel->f[j]->full);
				buf_addf(&g->out, ":\"%s\"", fstatus_name(rec->status));
			}
			buf_adds(&g->out, "}}\n");
		}
		(void)nnull;
	}
	for (size_t i = 0; i < n; i++)
		orec_release(&g->recs[i]);
	for (size_t r = 0; r < g->nrows; r++)
		json_decref(g->rows[r]);
	g->nrows = 0;
	if (!ret && g->out.len) {
		if (fwrite(g->out.s, 1, g->out.len, stdout) != g->out.len)
			ret = rp_err_set(err, RP_ERR_IO, "cannot write to stdout");
		buf_reset(&g->out);
	}
	return ret;
}

/* Chooses the default features: those whose view's join keys `row` has. */
static int default_features(const struct fdefs *d, json_t *row, struct fsel *sel, struct rp_err *err)
{
	struct buf list = BUF_INIT;
	int ret;

	for (size_t v = 0; v < d->nviews; v++) {
		if (!has_keys(d->views[v].entity, row))
			continue;
		for (size_t f = 0; f < d->views[v].nfeatures; f++) {
			if (list.len)
				buf_addch(&list, ',');
			buf_adds(&list, d->views[v].features[f].full);
		}
	}
	if (!list.len) {
		buf_release(&list);
		return rp_err_set(err, RP_ERR_INPUT,
				  "the entity has no view's join keys: pass --entity KEY=VALUE with the keys "
				  "of a view in the definitions (rp-features validate lists them)");
	}
	ret = fdefs_select(d, list.s, sel, err);
	buf_release(&list);
	return ret;
}

int features_cmd_get(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "defs", required_argument, NULL, 'd' },
		{ "online", required_argument, NULL, 'o' },
		{ "entity", required_argument, NULL, 'e' },
		{ "entities", required_argument, NULL, 'E' },
		{ "features", required_argument, NULL, 'f' },
		{ "at", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "assume-utc", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *defs = NULL, *online = NULL, *entities = NULL, *features = NULL, *at = NULL;
	int c, json = 0, assume_utc = 0, ret = RP_EXIT_OK, rc, have_reader = 0;
	json_t *single = json_object(), *row = NULL;
	struct fdefs d;
	struct fsel sel = { 0 };
	struct getctx g;
	struct jsonl_reader rd;
	struct rp_err err = { 0 };

	memset(&g, 0, sizeof(g));
	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char *eq;

		switch (c) {
		case 'd': defs = optarg; break;
		case 'o': online = optarg; break;
		case 'E': entities = optarg; break;
		case 'f': features = optarg; break;
		case 'a': at = optarg; break;
		case 'j': json = 1; break;
		case 'u': assume_utc = 1; break;
		case 'e':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				fprintf(stderr, "rp-features get: --entity '%s': write KEY=VALUE (user_id=42)\n",
					optarg);
				json_decref(single);
				return RP_EXIT_USAGE;
			}
			{
				char *k = strndup(optarg, (size_t)(eq - optarg));

				json_object_set_new(single, k, json_string(eq + 1));
				free(k);
			}
			break;
		case 'h':
			json_decref(single);
			return get_usage(0);
		default:
			json_decref(single);
			return get_usage(1);
		}
	}
	if (optind != argc || !defs || !online || !entities == !json_object_size(single)) {
		if (optind == argc)
			fprintf(stderr, "rp-features get: %s\n",
				!defs ? "--defs FILE is required" :
				!online ? "--online STORE is required" :
				"pass either --entity KEY=VALUE or --entities FILE");
		json_decref(single);
		return get_usage(1);
	}
	if (at ? ftime_parse_opt("--at", at, assume_utc, &g.T, &err) : ftime_default_now(&g.T, &err)) {
		json_decref(single);
		return rp_err_exit(&err);
	}
	if (fdefs_load(&d, defs, &err) < 0)
		goto fail;
	if (features && fdefs_select(&d, features, &sel, &err) < 0)
		goto fail;
	g.s = ostore_open(online, 0, &err);
	if (!g.s)
		goto fail;
	g.json = json;
	g.sel = &sel;
	buf_init(&g.keytext);
	buf_init(&g.out);
	if (entities) {
		if (jsonl_open(&rd, entities, &err) < 0)
			goto fail;
		have_reader = 1;
		g.src = entities;
	} else {
		g.src = "--entity";
	}
	for (;;) {
		size_t line = 1;

		if (have_reader) {
			rc = jsonl_next(&rd, &row, &err);
			if (rc < 0)
				goto fail;
			if (rc == 0)
				break;
			line = rd.line;
		} else {
			if (!single)
				break;
			row = single;
			single = NULL;
		}
		if (!sel.n && default_features(&d, row, &sel, &err) < 0) {
			json_decref(row);
			goto fail;
		}
		if (!g.koff) {
			g.koff = xcalloc(GET_CHUNK * sel.n, sizeof(*g.koff));
			g.keys = xcalloc(GET_CHUNK * sel.n, sizeof(*g.keys));
			g.feats = xcalloc(GET_CHUNK * sel.n, sizeof(*g.feats));
			g.recs = xcalloc(GET_CHUNK * sel.n, sizeof(*g.recs));
		}
		g.lines[g.nrows] = line;
		g.rows[g.nrows++] = row;
		if (g.nrows == GET_CHUNK && flush_rows(&g, &err) < 0)
			goto fail;
	}
	if (g.nrows && flush_rows(&g, &err) < 0)
		goto fail;
	if (fflush(stdout) != 0) {
		rp_err_set(&err, RP_ERR_IO, "cannot write to stdout");
		goto fail;
	}
	goto out;
fail:
	ret = rp_err_exit(&err);
out:
	for (size_t r = 0; r < g.nrows; r++)
		json_decref(g.rows[r]);
	if (have_reader)
		jsonl_close(&rd);
	json_decref(single);
	free(g.koff);
	free(g.keys);
	free(g.feats);
	free(g.recs);
	buf_release(&g.keytext);
	buf_release(&g.out);
	ostore_free(g.s);
	fsel_release(&sel);
	fdefs_release(&d);
	return ret;
}
