/*
 * agg.c - every aggregation, offline and online, as one sweep (agg.h).
 *
 * fgroups_build() buckets the events by entity with a counting pass and
 * sorts each bucket by (event time, created time, index): the order in
 * which events leave a sliding window, and the order of "last".
 *
 * A sweep of one entity keeps two cursors over that bucket:
 * - entry: the bucket's positions sorted by the time each event becomes
 *   known, max(event time, created time); fsweep_at(T) enters every event
 *   known at T. An event that becomes known when it is already outside the
 *   window (a late arrival older than T - w) never enters; it still counts
 *   for the entity's newest known event (the ttl and NOT_FOUND rules look at
 *   every known event, the window only at values).
 * - exit: the bucket itself, in event-time order; fsweep_at(T) passes every
 *   event whose time is <= T - w, removing those that had entered and
 *   marking the others gone so that they never enter.
 * Exits are applied before entries, so nothing is added only to be removed.
 *
 * State for the values in the window, each update O(1) or O(log n):
 * count, sum, avg: running totals, exact: integers below 2^53 in an int64,
 * other numbers in a fixed-point accumulator wide enough for any double
 * (struct xsum), so a sum is the correctly rounded exact sum of the values
 * in the window, whatever events came and went before (an offline row and
 * an online value at the same time agree to the bit); min, max: a binary heap of positions with lazy deletion (a top
 * that has left is popped when seen); count_distinct: value -> count in an
 * hmap (strings, numbers and booleans in separate maps, so 1 and "1" differ),
 * with the number of keys whose count is > 0; last: the greatest position
 * among entered non-null events, dropped when the exit cursor passes it
 * (then every entered event before it has left too).
 *
 * Invariant: positions are indexes into the bucket (rows[0..n)); `state`
 * says whether each is waiting, in the window, or gone.
 */
#include "features/agg.h"
#include "util/error.h"
#include "util/hmap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *fstatus_name(enum fstatus s)
{
	switch (s) {
	case FSTATUS_OK:
		return "OK";
	case FSTATUS_NOT_FOUND:
		return "NOT_FOUND";
	default:
		return "EXPIRED";
	}
}

int ffeature_expired(const struct ffeature *f, ftime_t newest_ts, ftime_t T)
{
	if (f->ttl == FTIME_NONE || newest_ts == FTIME_NONE)
		return 0;
	/* newest_ts <= T - ttl, without overflow near the ends of the range */
	return newest_ts <= T && (uint64_t)T - (uint64_t)newest_ts >= (uint64_t)f->ttl;
}

/* ---- groups ------------------------------------------------------------------------ */

struct gkey {
	ftime_t ts, created;
	uint32_t idx;
};

static int gkey_cmp(const void *a, const void *b)
{
	const struct gkey *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static ftime_t created_of(const struct fevents *ev, uint32_t i)
{
	return ev->created ? ev->created[i] : ev->ts[i];
}

void fgroups_build(struct fgroups *g, const struct fevents *ev)
{
	size_t nk = ev->keys.n, maxlen = 0;
	uint32_t *fill;
	struct gkey *tmp;

	g->start = xcalloc(nk + 1, sizeof(*g->start));
	g->rows = xmalloc((ev->n ? ev->n : 1) * sizeof(*g->rows));
	for (size_t i = 0; i < ev->n; i++)
		g->start[ev->entity[i] + 1]++;
	for (size_t k = 0; k < nk; k++) {
		if (g->start[k + 1] > maxlen)
			maxlen = g->start[k + 1];
		g->start[k + 1] += g->start[k];
	}
	fill = xmalloc((nk ? nk : 1) * sizeof(*fill));
	if (nk)
		memcpy(fill, g->start, nk * sizeof(*fill));
	for (size_t i = 0; i < ev->n; i++)
		g->rows[fill[ev->entity[i]]++] = (uint32_t)i;
	free(fill);
	tmp = xmalloc((maxlen ? maxlen : 1) * sizeof(*tmp));
	for (size_t k = 0; k < nk; k++) {
		uint32_t *r = g->rows + g->start[k];
		size_t n = g->start[k + 1] - g->start[k], sorted = 1;

		for (size_t j = 0; j < n; j++) {
			tmp[j] = (struct gkey){ ev->ts[r[j]], created_of(ev, r[j]), r[j] };
			if (j && gkey_cmp(&tmp[j - 1], &tmp[j]) > 0)
				sorted = 0;
		}
		if (sorted)   /* sources are often in time order already */
			continue;
		qsort(tmp, n, sizeof(*tmp), gkey_cmp);
		for (size_t j = 0; j < n; j++)
			r[j] = tmp[j].idx;
	}
	free(tmp);
}

void fgroups_release(struct fgroups *g)
{
	free(g->start);
	free(g->rows);
	g->start = NULL;
	g->rows = NULL;
}

/* ---- exact sums ------------------------------------------------------------------- */

/*
 * The exact sum of doubles: 32-bit digits in int64 limbs, the digit of limb
 * i weighing 2^(32 i - XSUM_BASE). A double is m * 2^e with |m| < 2^53 and
 * e >= -1126 (frexp of the smallest subnormal), so it lands on at most
 * three limbs; limbs take < 2^32 per add and are carried every 2^30 adds.
 */
#define XSUM_BASE 1126
#define XSUM_LIMBS 72

struct xsum {
	int64_t d[XSUM_LIMBS];
	uint32_t ops;
};

static void xsum_carry(struct xsum *x)
{
	for (size_t i = 0; i + 1 < XSUM_LIMBS; i++) {
		int64_t c = x->d[i] >> 32;   /* floor: the remainder is in [0, 2^32) */

		x->d[i] -= (int64_t)((uint64_t)c << 32);
		x->d[i + 1] += c;
	}
	x->ops = 0;
}

/* Adds sign * u * 2^(q - XSUM_BASE). */
static void xsum_add_bits(struct xsum *x, int sign, uint64_t u, int q)
{
	unsigned __int128 t = (unsigned __int128)u << (q % 32);
	size_t l = (size_t)q / 32;
	int64_t d0 = (int64_t)(t & 0xffffffffu), d1 = (int64_t)((t >> 32) & 0xffffffffu);
	int64_t d2 = (int64_t)((t >> 64) & 0xffffffffu);

	x->d[l] += sign * d0;
	x->d[l + 1] += sign * d1;
	x->d[l + 2] += sign * d2;
	if (++x->ops >= (1u << 30))
		xsum_carry(x);
}

static void xsum_add(struct xsum *x, double v, int sign)
{
	int e;
	double fr = frexp(v, &e);
	int64_t m = (int64_t)ldexp(fr, 53);

	if (!m)
		return;
	xsum_add_bits(x, m < 0 ? -sign : sign, m < 0 ? (uint64_t)-m : (uint64_t)m,
		      e - 53 + XSUM_BASE);
}

/* The correctly rounded value of x + i (x is left as it was). */
static double xsum_value(const struct xsum *x0, int64_t i)
{
	struct xsum x = *x0;
	int neg = 0, h, sh = 0;
	unsigned __int128 top;
	uint64_t lo, sticky = 0;

	if (i)
		xsum_add_bits(&x, i < 0 ? -1 : 1, i < 0 ? -(uint64_t)i : (uint64_t)i, XSUM_BASE);
	xsum_carry(&x);
	if (x.d[XSUM_LIMBS - 1] < 0) {
		neg = 1;
		for (size_t k = 0; k < XSUM_LIMBS; k++)
			x.d[k] = -x.d[k];
		xsum_carry(&x);
	}
	for (h = XSUM_LIMBS - 1; h >= 0 && !x.d[h]; h--)
		;
	if (h < 0)
		return 0;
	top = (unsigned __int128)(uint64_t)x.d[h] << 64;
	if (h >= 1)
		top |= (unsigned __int128)(uint64_t)x.d[h - 1] << 32;
	if (h >= 2)
		top |= (uint64_t)x.d[h - 2];
	for (int k = h - 3; k >= 0; k--)
		sticky |= (uint64_t)x.d[k];
	/* the top 64 significant bits, the rest folded into the last one (sticky) */
	while (!(top >> 95))
		top <<= 1, sh++;
	lo = (uint64_t)(top & (((unsigned __int128)1 << 32) - 1));
	{
		uint64_t m = (uint64_t)(top >> 32) | (lo || sticky ? 1 : 0);
		double r = ldexp((double)m, 32 * (h - 2) + 32 - sh - XSUM_BASE);

		return neg ? -r : r;
	}
}

/* ---- the sweep ---------------------------------------------------------------------- */

enum { WAITING = 0, IN = 1, GONE = 2 };

struct ekey {
	ftime_t known;
	uint32_t pos;
};

struct fsweep {
	const struct fevents *ev;
	const struct ffeature *f;
	const struct fval *col;    /* the feature's column, or NULL (count) */
	/* the entity */
	const uint32_t *rows;
	size_t n, alloc;
	uint32_t *enter;           /* [n] positions in the order they become known */
	struct ekey *ekeys;        /* [n] scratch for sorting enter */
	unsigned char *state;      /* [n] WAITING, IN, GONE */
	size_t ein, eout;          /* cursors: next to enter, next to leave */
	ftime_t last_T;
	int started;
	/* the newest known event */
	ftime_t newest_ts, newest_created;
	/* the window's values */
	int64_t count;             /* events in the window (count) or non-null values */
	int64_t nonint;            /* non-integer values among them */
	int64_t isum;              /* sum of the integer values */
	struct xsum dsum;          /* exact sum of the other values */
	int64_t last;              /* position of the last value, or -1 */
	uint32_t *heap;            /* min / max: positions */
	size_t nheap;
	struct hmap strs, nums;    /* count_distinct: value -> count */
	int64_t bools[2];
	int64_t distinct;
};

struct fsweep *fsweep_new(const struct fevents *ev, size_t feature)
{
	struct fsweep *s = xcalloc(1, sizeof(*s));

	if (feature >= ev->view->nfeatures)
		BUG("fsweep_new: feature %zu of view '%s'", feature, ev->view->name);
	s->ev = ev;
	s->f = &ev->view->features[feature];
	s->col = s->f->agg == FAGG_COUNT ? NULL : ev->col[feature];
	if (s->f->agg == FAGG_COUNT_DISTINCT) {
		hmap_init(&s->strs, 64);
		hmap_init(&s->nums, 64);
	}
	return s;
}

void fsweep_free(struct fsweep *s)
{
	if (!s)
		return;
	free(s->enter);
	free(s->ekeys);
	free(s->state);
	free(s->heap);
	if (s->f->agg == FAGG_COUNT_DISTINCT) {
		hmap_free(&s->strs);
		hmap_free(&s->nums);
	}
	free(s);
}

static int ekey_cmp(const void *a, const void *b)
{
	const struct ekey *x = a, *y = b;

	if (x->known != y->known)
		return x->known < y->known ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

void fsweep_start(struct fsweep *s, const uint32_t *rows, size_t n)
{
	const struct fevents *ev = s->ev;
	int sorted = 1;

	if (n > s->alloc) {
		s->alloc = n;
		s->enter = xrealloc(s->enter, n * sizeof(*s->enter));
		s->ekeys = xrealloc(s->ekeys, n * sizeof(*s->ekeys));
		s->state = xrealloc(s->state, n);
		s->heap = xrealloc(s->heap, n * sizeof(*s->heap));
	}
	s->rows = rows;
	s->n = n;
	if (n)
		memset(s->state, WAITING, n);
	for (size_t j = 0; j < n; j++) {
		uint32_t i = rows[j];
		ftime_t c = created_of(ev, i);

		s->ekeys[j] = (struct ekey){ c > ev->ts[i] ? c : ev->ts[i], (uint32_t)j };
		if (j && ekey_cmp(&s->ekeys[j - 1], &s->ekeys[j]) > 0)
			sorted = 0;
	}
	if (!sorted)
		qsort(s->ekeys, n, sizeof(*s->ekeys), ekey_cmp);
	for (size_t j = 0; j < n; j++)
		s->enter[j] = s->ekeys[j].pos;
	s->ein = s->eout = 0;
	s->started = 0;
	s->newest_ts = s->newest_created = FTIME_NONE;
	if (s->nonint)
		memset(&s->dsum, 0, sizeof(s->dsum));
	s->count = s->nonint = s->isum = 0;
	s->last = -1;
	s->nheap = 0;
	if (s->f->agg == FAGG_COUNT_DISTINCT) {
		hmap_clear(&s->strs);
		hmap_clear(&s->nums);
		s->bools[0] = s->bools[1] = 0;
		s->distinct = 0;
	}
}

static const struct fval *val(const struct fsweep *s, size_t pos)
{
	return &s->col[s->rows[pos]];
}

/* heap order: for min the smaller value on top, for max the larger */
static int above(const struct fsweep *s, uint32_t a, uint32_t b)
{
	double x = val(s, a)->num, y = val(s, b)->num;

	return s->f->agg == FAGG_MIN ? x < y : x > y;
}

static void heap_push(struct fsweep *s, uint32_t pos)
{
	size_t i = s->nheap++;

	while (i) {
		size_t p = (i - 1) / 2;

		if (!above(s, pos, s->heap[p]))
			break;
		s->heap[i] = s->heap[p];
		i = p;
	}
	s->heap[i] = pos;
}

static void heap_pop(struct fsweep *s)
{
	uint32_t x = s->heap[--s->nheap];
	size_t i = 0, n = s->nheap;

	if (!n)
		return;
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && above(s, s->heap[c + 1], s->heap[c]))
			c++;
		if (!above(s, s->heap[c], x))
			break;
		s->heap[i] = s->heap[c];
		i = c;
	}
	s->heap[i] = x;
}

/* The count slot of a count_distinct value (inserted at 0 when new). */
static int64_t *distinct_slot(struct fsweep *s, const struct fval *v)
{
	static const double zero = 0.0;
	int found;

	switch (v->kind) {
	case FVAL_STR:
		return (int64_t *)hmap_put(&s->strs, v->str, v->len, &found);
	case FVAL_NUM:   /* -0 and 0 are one value */
		return (int64_t *)hmap_put(&s->nums, v->num == 0 ? &zero : &v->num, sizeof(double),
					   &found);
	default:
		return &s->bools[v->num != 0];
	}
}

static int is_exact_int(const struct fval *v)
{
	return v->is_int && fabs(v->num) < 9007199254740992.0;
}

static void add(struct fsweep *s, size_t pos)
{
	const struct fval *v;

	s->state[pos] = IN;
	if (!s->col) {
		s->count++;
		return;
	}
	v = val(s, pos);
	if (v->kind == FVAL_NULL)
		return;
	s->count++;
	switch (s->f->agg) {
	case FAGG_SUM:
	case FAGG_AVG:
		if (is_exact_int(v))
			s->isum += (int64_t)v->num;
		else {
			s->nonint++;
			xsum_add(&s->dsum, v->num, 1);
		}
		break;
	case FAGG_MIN:
	case FAGG_MAX:
		heap_push(s, (uint32_t)pos);
		break;
	case FAGG_LAST:
		if ((int64_t)pos > s->last)
			s->last = (int64_t)pos;
		break;
	case FAGG_COUNT_DISTINCT: {
		int64_t *c = distinct_slot(s, v);

		if ((*c)++ == 0)
			s->distinct++;
		break;
	}
	default:
		break;
	}
}

static void drop(struct fsweep *s, size_t pos)
{
	const struct fval *v;

	if (!s->col) {
		s->count--;
		return;
	}
	v = val(s, pos);
	if (v->kind == FVAL_NULL)
		return;
	s->count--;
	switch (s->f->agg) {
	case FAGG_SUM:
	case FAGG_AVG:
		if (is_exact_int(v))
			s->isum -= (int64_t)v->num;
		else {
			s->nonint--;
			xsum_add(&s->dsum, v->num, -1);
		}
		break;
	case FAGG_COUNT_DISTINCT: {
		int64_t *c = distinct_slot(s, v);

		if (--(*c) == 0)
			s->distinct--;
		break;
	}
	default:   /* min, max: lazy (the heap skips GONE tops); last: see fsweep_at */
		break;
	}
}

static void result_num(struct fresult *out, double num, int is_int)
{
	out->status = FSTATUS_OK;
	out->v = (struct fval){ FVAL_NUM, is_int, num, NULL, 0 };
}

void fsweep_at(struct fsweep *s, ftime_t T, struct fresult *out)
{
	const struct fevents *ev = s->ev;
	const struct ffeature *f = s->f;

	if (s->started && T < s->last_T)
		BUG("fsweep_at: time went backwards");
	s->started = 1;
	s->last_T = T;
	/* leave: every event at or before T - w */
	if (f->window != FTIME_NONE) {
		ftime_t edge = T - f->window;   /* windows are at most 100 years: no overflow */

		while (s->eout < s->n && ev->ts[s->rows[s->eout]] <= edge) {
			if (s->state[s->eout] == IN)
				drop(s, s->eout);
			s->state[s->eout++] = GONE;
		}
		if (s->last >= 0 && (size_t)s->last < s->eout)
			s->last = -1;
	}
	/* enter: every event known at T */
	while (s->ein < s->n && s->ekeys[s->ein].known <= T) {
		size_t pos = s->enter[s->ein++];
		uint32_t i = s->rows[pos];
		ftime_t c = created_of(ev, i);

		if (s->newest_ts == FTIME_NONE || ev->ts[i] > s->newest_ts ||
		    (ev->ts[i] == s->newest_ts && c > s->newest_created)) {
			s->newest_ts = ev->ts[i];
			s->newest_created = c;
		}
		if (s->state[pos] == WAITING)
			add(s, pos);
	}
	out->newest_ts = s->newest_ts;
	out->newest_created = s->newest_created;
	out->v = (struct fval){ FVAL_NULL, 0, 0, NULL, 0 };
	if (s->newest_ts == FTIME_NONE) {
		out->status = FSTATUS_NOT_FOUND;
		return;
	}
	if (ffeature_expired(f, s->newest_ts, T)) {
		out->status = FSTATUS_EXPIRED;
		return;
	}
	out->status = FSTATUS_NOT_FOUND;
	switch (f->agg) {
	case FAGG_COUNT:
	case FAGG_COUNT_DISTINCT:
		result_num(out, (double)(f->agg == FAGG_COUNT ? s->count : s->distinct), 1);
		break;
	case FAGG_SUM:
		if (!s->nonint)
			result_num(out, (double)s->isum, 1);
		else
			result_num(out, xsum_value(&s->dsum, s->isum), 0);
		break;
	case FAGG_AVG:
		if (s->count)
			result_num(out, (s->nonint ? xsum_value(&s->dsum, s->isum) : (double)s->isum) /
					(double)s->count, 0);
		break;
	case FAGG_MIN:
	case FAGG_MAX:
		while (s->nheap && s->state[s->heap[0]] != IN)
			heap_pop(s);
		if (s->nheap)
			result_num(out, val(s, s->heap[0])->num, val(s, s->heap[0])->is_int);
		break;
	case FAGG_LAST:
		if (s->last >= 0) {
			out->status = FSTATUS_OK;
			out->v = *val(s, (size_t)s->last);
		}
		break;
	}
}
