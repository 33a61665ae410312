/*
 * materialize.c - the online store's records, computed through agg.h.
 *
 * See materialize.h for the incremental rule. Per view: load its events,
 * group them by entity (fgroups), decide per entity whether it must be
 * recomputed (one pass over its events), and for those run one sweep per
 * selected feature at the single time T. Records go to the store in
 * batches of MAT_BATCH (one SQLite transaction or one Redis pipeline);
 * their value texts live in one buf per batch, so pointers into it are
 * taken only once the batch is complete.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include "features/agg.h"
#include "features/events.h"
#include "features/materialize.h"
#include "util/buf.h"

#define MAT_BATCH 2000

int ftime_default_now(ftime_t *T, struct rp_err *err)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	struct timeval tv;

	if (sde && *sde) {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(sde, &end, 10);
		if (*end || end == sde || errno || v < 0 || v > 253402300799LL)
			return rp_err_set(err, RP_ERR_INPUT,
					  "SOURCE_DATE_EPOCH: '%s' is not a whole number of seconds since 1970: "
					  "fix or unset it, or pass --at", sde);
		*T = (ftime_t)v * 1000000;
		return 0;
	}
	gettimeofday(&tv, NULL);
	*T = (ftime_t)tv.tv_sec * 1000000 + tv.tv_usec;
	return 0;
}

int ftime_parse_opt(const char *opt, const char *s, int assume_utc, ftime_t *T, struct rp_err *err)
{
	int rc = ftime_parse(s, strlen(s), assume_utc, T);

	if (rc == FTIME_NAIVE)
		return rp_err_set(err, RP_ERR_INPUT,
				  "%s '%s': the time has no offset: add Z or +HH:MM, or pass --assume-utc",
				  opt, s);
	if (rc != FTIME_OK)
		return rp_err_set(err, RP_ERR_INPUT,
				  "%s '%s': not an RFC 3339 time: write e.g. 2026-12-05T12:00:00Z", opt, s);
	return 0;
}

/* t in (base0 - d, base1 - d]: times (years 1-9999) plus a duration (<= 100 years) cannot overflow */
static int in_range(ftime_t t, ftime_t base0, ftime_t base1, ftime_t d)
{
	return t + d > base0 && t + d <= base1;
}

struct batch {
	struct owrite *w;
	size_t *voff;
	size_t n;
	struct buf vals;
};

static int flush(struct batch *b, struct ostore *s, struct mat_stats *st, struct rp_err *err)
{
	int ret;

	for (size_t i = 0; i < b->n; i++)
		b->w[i].value = b->vals.s + b->voff[i];
	ret = ostore_put(s, b->w, b->n, &st->written, err);
	b->n = 0;
	buf_reset(&b->vals);
	return ret;
}

static int view_materialize(const struct fview *v, const size_t *feat, size_t nfeat,
			    const struct omark *m, int incremental, struct ostore *s, ftime_t T,
			    int assume_utc, struct batch *b, ftime_t *maxknown, struct mat_stats *st,
			    struct rp_err *err)
{
	struct fevents ev;
	struct fgroups g = { 0 };
	struct fsweep **sw = NULL;
	int ret = -1;

	if (fevents_load(&ev, v, assume_utc, err) < 0)
		goto out;
	fgroups_build(&g, &ev);
	sw = xcalloc(nfeat, sizeof(*sw));
	for (size_t j = 0; j < nfeat; j++)
		sw[j] = fsweep_new(&ev, feat[j]);
	for (size_t k = 0; k < ev.keys.n; k++) {
		const uint32_t *rows = g.rows + g.start[k];
		size_t n = g.start[k + 1] - g.start[k];
		int changed = !incremental;

		for (size_t i = 0; i < n; i++) {
			uint32_t r = rows[i];
			ftime_t ts = ev.ts[r];
			ftime_t known = ev.created && ev.created[r] > ts ? ev.created[r] : ts;

			if (known <= T && (*maxknown == FTIME_NONE || known > *maxknown))
				*maxknown = known;
			if (changed)
				continue;
			if (known <= T && known > m->known) {
				changed = 1;
				continue;
			}
			for (size_t j = 0; j < nfeat && !changed; j++) {
				const struct ffeature *f = &v->features[feat[j]];

				if (f->window != FTIME_NONE && in_range(ts, m->at, T, f->window))
					changed = 1;
				if (f->ttl != FTIME_NONE && in_range(ts, m->at, T, f->ttl))
					changed = 1;
			}
		}
		st->entities++;
		if (!changed)
			continue;
		st->computed++;
		for (size_t j = 0; j < nfeat; j++) {
			struct fresult res;
			struct owrite *w;

			fsweep_start(sw[j], rows, n);
			fsweep_at(sw[j], T, &res);
			w = &b->w[b->n];
			w->key = ev.keys.text[k];
			w->feature = v->features[feat[j]].full;
			w->status = res.status;
			w->newest_ts = res.newest_ts;
			w->newest_created = res.newest_created;
			w->as_of = T;
			b->voff[b->n] = b->vals.len;
			if (res.status == FSTATUS_OK)
				fval_json(&res.v, &b->vals);
			else
				buf_adds(&b->vals, "null");
			buf_addch(&b->vals, '\0');
			if (++b->n == MAT_BATCH && flush(b, s, st, err) < 0)
				goto out;
		}
	}
	/* the keys' texts die with the events: write what points at them now */
	if (flush(b, s, st, err) < 0)
		goto out;
	ret = 0;
out:
	b->n = 0;
	for (size_t j = 0; sw && j < nfeat; j++)
		fsweep_free(sw[j]);
	free(sw);
	fgroups_release(&g);
	fevents_release(&ev);
	return ret;
}

/*
 * A hash of everything a record's value depends on in the definitions: a
 * store materialized under other definitions (a feature added, a window
 * changed) is recomputed in full.
 */
static uint64_t defs_hash(const struct fdefs *d)
{
	struct buf b = BUF_INIT;
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t vi = 0; vi < d->nviews; vi++) {
		const struct fview *v = &d->views[vi];
		const struct fsource *src = v->source;

		buf_addf(&b, "%s|%s|%d|%s|%s|%s|%s|", v->name, src->resolved, (int)src->kind,
			 src->table ? src->table : "", src->timestamp, src->created ? src->created : "",
			 v->entity->name);
		for (size_t k = 0; k < v->entity->nkeys; k++)
			buf_addf(&b, "%s,", v->entity->keys[k]);
		for (size_t f = 0; f < v->nfeatures; f++) {
			const struct ffeature *ft = &v->features[f];

			buf_addf(&b, "%s|%d|%s|%lld|%lld|", ft->full, (int)ft->agg,
				 ft->column ? ft->column : "", (long long)ft->window, (long long)ft->ttl);
		}
	}
	for (size_t i = 0; i < b.len; i++)
		h = (h ^ (unsigned char)b.s[i]) * UINT64_C(1099511628211);
	buf_release(&b);
	return h ? h : 1;
}

int materialize(const struct fdefs *d, const struct fsel *sel, int all, struct ostore *s,
		ftime_t T, int full, int assume_utc, struct mat_stats *st, struct rp_err *err)
{
	struct omark m;
	struct batch b = { 0 };
	size_t *feat = xcalloc(sel->n ? sel->n : 1, sizeof(*feat));
	ftime_t maxknown = FTIME_NONE;
	int incremental, ret = -1;

	memset(st, 0, sizeof(*st));
	if (ostore_mark_get(s, &m, err) < 0)
		goto out;
	incremental = !full && m.at != FTIME_NONE && T > m.at && m.defs == defs_hash(d);
	st->incremental = incremental;
	b.w = xcalloc(MAT_BATCH, sizeof(*b.w));
	b.voff = xcalloc(MAT_BATCH, sizeof(*b.voff));
	buf_init(&b.vals);
	for (size_t vi = 0; vi < d->nviews; vi++) {
		const struct fview *v = &d->views[vi];
		size_t nfeat = 0;

		for (size_t i = 0; i < sel->n; i++)
			if (sel->view[i] == v)
				feat[nfeat++] = (size_t)(sel->f[i] - v->features);
		if (!nfeat)
			continue;
		if (view_materialize(v, feat, nfeat, &m, incremental, s, T, assume_utc, &b, &maxknown,
				     st, err) < 0)
			goto out;
	}
	if (all) {
		struct omark nm = { T, maxknown, defs_hash(d) };

		if (ostore_mark_raise(s, &nm, err) < 0)
			goto out;
	}
	ret = 0;
out:
	buf_release(&b.vals);
	free(b.w);
	free(b.voff);
	free(feat);
	return ret;
}
