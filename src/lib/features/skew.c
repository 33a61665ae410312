/*
 * skew.c - check-skew: online records against offline values (skew.h).
 *
 * Per view with selected features: load the events, group them, score
 * every entity by a 64-bit FNV-1a hash of (seed, view name, key text) and
 * keep those whose score is among the n smallest over all views (a first
 * pass collects the scores, qsort picks the threshold); then for each kept
 * entity run the sweeps at the watermark's time and read its records in
 * one ostore_get.
 */
#include <stdlib.h>
#include <string.h>
#include "features/agg.h"
#include "features/events.h"
#include "features/skew.h"

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h ^ 0xff;
}

static uint64_t score(uint64_t seed, const char *view, const char *key)
{
	uint64_t h = UINT64_C(14695981039346656037) ^ seed;

	h = fnv(h * UINT64_C(1099511628211), view);
	return fnv(h, key);
}

static int u64cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void entity_text(const struct fentity *e, const char *key, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < e->nkeys; i++) {
		const char *sep = strchr(key, FKEY_SEP);
		size_t len = sep ? (size_t)(sep - key) : strlen(key);

		if (i)
			buf_addch(out, ',');
		buf_addf(out, "%s=%.*s", e->keys[i], (int)len, key);
		key += len + (sep ? 1 : 0);
	}
}

static int view_check(const struct fview *v, const size_t *feat, size_t nfeat,
		      uint64_t threshold, int limit, uint64_t seed, struct ostore *s,
		      int assume_utc, struct buf *diffs, struct skew_stats *st, struct rp_err *err)
{
	struct fevents ev;
	struct fgroups g = { 0 };
	struct fsweep **sw = NULL;
	const char **keys = xcalloc(nfeat, sizeof(*keys));
	const char **feats = xcalloc(nfeat, sizeof(*feats));
	struct orec *recs = xcalloc(nfeat, sizeof(*recs));
	struct buf off = BUF_INIT, who = BUF_INIT;
	int ret = -1;

	if (fevents_load(&ev, v, assume_utc, err) < 0)
		goto out;
	fgroups_build(&g, &ev);
	sw = xcalloc(nfeat, sizeof(*sw));
	for (size_t j = 0; j < nfeat; j++) {
		sw[j] = fsweep_new(&ev, feat[j]);
		feats[j] = v->features[feat[j]].full;
	}
	for (size_t k = 0; k < ev.keys.n; k++) {
		const uint32_t *rows = g.rows + g.start[k];
		size_t n = g.start[k + 1] - g.start[k];

		if (limit && score(seed, v->name, ev.keys.text[k]) > threshold)
			continue;
		st->entities++;
		for (size_t j = 0; j < nfeat; j++)
			keys[j] = ev.keys.text[k];
		if (ostore_get(s, keys, feats, nfeat, recs, err) < 0) {
			for (size_t j = 0; j < nfeat; j++)
				orec_release(&recs[j]);
			goto out;
		}
		for (size_t j = 0; j < nfeat; j++) {
			const struct ffeature *f = &v->features[feat[j]];
			struct fresult res;
			enum fstatus on = recs[j].found ? recs[j].status : FSTATUS_NOT_FOUND;
			const char *onv = recs[j].found ? recs[j].value : "null";

			if (on == FSTATUS_OK && ffeature_expired(f, recs[j].newest_ts, st->at))
				on = FSTATUS_EXPIRED;
			if (on != FSTATUS_OK)
				onv = "null";
			fsweep_start(sw[j], rows, n);
			fsweep_at(sw[j], st->at, &res);
			buf_reset(&off);
			if (res.status == FSTATUS_OK)
				fval_json(&res.v, &off);
			else
				buf_adds(&off, "null");
			st->compared++;
			if (on != res.status || strcmp(onv, off.s)) {
				st->differences++;
				entity_text(v->entity, ev.keys.text[k], &who);
				buf_addf(diffs, "%s\t%s\tonline %s %s\toffline %s %s\n", who.s, f->full,
					 onv, fstatus_name(on), off.s, fstatus_name(res.status));
			}
			orec_release(&recs[j]);
		}
	}
	ret = 0;
out:
	for (size_t j = 0; sw && j < nfeat; j++)
		fsweep_free(sw[j]);
	free(sw);
	free(keys);
	free(feats);
	free(recs);
	buf_release(&off);
	buf_release(&who);
	fgroups_release(&g);
	fevents_release(&ev);
	return ret;
}

/* The keys of view v's entities, for the threshold pass (loads the view once more). */
static int view_scores(const struct fview *v, uint64_t seed, int assume_utc, uint64_t **sc,
		       size_t *nsc, size_t *alloc, struct rp_err *err)
{
	struct fevents ev;
	int ret = -1;

	if (fevents_load(&ev, v, assume_utc, err) < 0)
		goto out;
	for (size_t k = 0; k < ev.keys.n; k++) {
		if (*nsc == *alloc) {
			*alloc = *alloc ? 2 * *alloc : 1024;
			*sc = xrealloc(*sc, *alloc * sizeof(**sc));
		}
		(*sc)[(*nsc)++] = score(seed, v->name, ev.keys.text[k]);
	}
	ret = 0;
out:
	fevents_release(&ev);
	return ret;
}

int skew_check(const struct fdefs *d, const struct fsel *sel, struct ostore *s, size_t n,
	       uint64_t seed, int assume_utc, struct buf *diffs, struct skew_stats *st,
	       struct rp_err *err)
{
	struct omark m;
	size_t *feat = xcalloc(sel->n ? sel->n : 1, sizeof(*feat));
	uint64_t *sc = NULL, threshold = UINT64_MAX;
	size_t nsc = 0, alloc = 0;
	int ret = -1;

	memset(st, 0, sizeof(*st));
	if (ostore_mark_get(s, &m, err) < 0)
		goto out;
	if (m.at == FTIME_NONE) {
		rp_err_set(err, RP_ERR_INPUT,
			   "online store '%s' was never materialized in full: run rp-features materialize "
			   "(without --features) first", s->url);
		goto out;
	}
	st->at = m.at;
	if (n) {
		for (size_t vi = 0; vi < d->nviews; vi++) {
			int used = 0;

			for (size_t i = 0; i < sel->n; i++)
				used |= sel->view[i] == &d->views[vi];
			if (used && view_scores(&d->views[vi], seed, assume_utc, &sc, &nsc, &alloc, err) < 0)
				goto out;
		}
		if (nsc > n) {
			qsort(sc, nsc, sizeof(*sc), u64cmp);
			threshold = sc[n - 1];
		}
	}
	for (size_t vi = 0; vi < d->nviews; vi++) {
		const struct fview *v = &d->views[vi];
		size_t nfeat = 0;

		for (size_t i = 0; i < sel->n; i++)
			if (sel->view[i] == v)
				feat[nfeat++] = (size_t)(sel->f[i] - v->features);
		if (nfeat && view_check(v, feat, nfeat, threshold, n != 0, seed, s, assume_utc, diffs,
					st, err) < 0)
			goto out;
	}
	ret = 0;
out:
	free(sc);
	free(feat);
	return ret;
}
