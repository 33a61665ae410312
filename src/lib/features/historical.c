/*
 * historical.c - the point-in-time join (historical.h).
 *
 * 1. The entity rows are read once: each row's raw line text (kept to be
 *    written back unchanged), its time, and the key text of each entity the
 *    selected features need (events.h's fkey_from_json, so that a row's
 *    "42" and a source's 42 are the same user). A bad row stops everything.
 * 2. Per selected view: its events are loaded and grouped by entity
 *    (fgroups), the rows are sorted by (entity, time, row number) once, and
 *    each of the view's selected features sweeps each entity's rows in that
 *    order (agg.h): O((events + rows) log) per feature, no nested loop.
 *    Values are turned into their JSON text before the events are freed.
 * 3. The output lines are assembled in row order: the input line without
 *    its closing brace, the features, "rp_status".
 * Rows sharing keys and time are separate queries that get equal values.
 */
#include "features/historical.h"
#include "features/agg.h"
#include "features/events.h"
#include "util/jsonl.h"

#include <stdlib.h>
#include <string.h>

struct hrow {
	size_t line_off, line_len;   /* the raw line in rows.text */
	size_t line;                 /* its line number */
	ftime_t T;
};

struct hjob {
	struct hrow *rows;
	size_t n, alloc;
	struct buf text;             /* the raw lines */
	const struct fentity **ents; /* the distinct entities of the selection */
	size_t nents;
	struct buf keys;             /* key texts */
	size_t *koff, *klen;         /* [n * nents] */
	char **val;                  /* [n * nsel] JSON text of each value (NULL: null) */
	enum fstatus *status;        /* [n * nsel] */
};

struct qkey {
	int64_t ent;                 /* entity id in the events, or -1 */
	ftime_t T;
	size_t row;
};

static int qkey_cmp(const void *a, const void *b)
{
	const struct qkey *x = a, *y = b;

	if (x->ent != y->ent)
		return x->ent < y->ent ? -1 : 1;
	if (x->T != y->T)
		return x->T < y->T ? -1 : 1;
	return x->row < y->row ? -1 : x->row > y->row;
}

static size_t entity_slot(const struct hjob *j, const struct fentity *e)
{
	for (size_t i = 0; i < j->nents; i++)
		if (j->ents[i] == e)
			return i;
	BUG("entity '%s' not in the selection", e->name);
}

static int read_rows(struct hjob *j, const struct fsel *sel, const struct fhist_opts *o,
		     struct rp_err *err)
{
	const char *tcol = o->ts_column ? o->ts_column : "event_timestamp";
	struct jsonl_reader r;
	json_t *obj = NULL;
	size_t kalloc = 0;
	int rc, ret = -1;

	if (jsonl_open(&r, o->entities, err) < 0)
		return -1;
	while ((rc = jsonl_next(&r, &obj, err)) > 0) {
		struct hrow *h;
		json_t *t = json_object_get(obj, tcol);
		size_t len = strlen(r.line_buf);

		ALLOC_GROW(j->rows, j->n + 1, j->alloc);
		h = &j->rows[j->n];
		h->line = r.line;
		while (len && (r.line_buf[len - 1] == '\r' || r.line_buf[len - 1] == ' ' ||
			       r.line_buf[len - 1] == '\t'))
			len--;
		h->line_off = j->text.len;
		h->line_len = len;
		buf_add(&j->text, r.line_buf, len);
		if (!t || json_is_null(t)) {
			rp_err_set(err, RP_ERR_INPUT, "%s:%zu: no timestamp column '%s' in the entity "
				   "row; add it, or name the row's time column with "
				   "--timestamp-column", r.path, r.line, tcol);
			goto out;
		}
		if (!json_is_string(t)) {
			rp_err_set(err, RP_ERR_INPUT, "%s:%zu: column '%s' must hold an RFC 3339 "
				   "timestamp string such as \"2026-12-05T12:00:00Z\"", r.path, r.line,
				   tcol);
			goto out;
		}
		rc = ftime_parse(json_string_value(t), json_string_length(t), o->assume_utc, &h->T);
		if (rc == FTIME_NAIVE) {
			rp_err_set(err, RP_ERR_INPUT, "%s:%zu: column '%s': '%.64s' has no UTC offset; "
				   "add 'Z' or '+HH:MM', or pass --assume-utc", r.path, r.line, tcol,
				   json_string_value(t));
			goto out;
		}
		if (rc != FTIME_OK) {
			rp_err_set(err, RP_ERR_INPUT, "%s:%zu: column '%s': '%.64s' is not an RFC 3339 "
				   "timestamp (expected YYYY-MM-DDTHH:MM:SS[.ffffff]Z or +HH:MM)",
				   r.path, r.line, tcol, json_string_value(t));
			goto out;
		}
		for (size_t k = 0; k <= sel->n; k++) {
			const char *name = k < sel->n ? sel->f[k]->full : "rp_status";

			if (json_object_get(obj, name)) {
				rp_err_set(err, RP_ERR_INPUT, "%s:%zu: the entity row already has a column "
					   "'%s', which the output adds; rename or drop it", r.path,
					   r.line, name);
				goto out;
			}
		}
		ALLOC_GROW(j->koff, (j->n + 1) * j->nents, kalloc);
		j->klen = xrealloc(j->klen, kalloc * sizeof(*j->klen));
		for (size_t e = 0; e < j->nents; e++) {
			const char *missing = NULL;
			size_t at = j->keys.len;

			if (fkey_from_json(j->ents[e], obj, &j->keys, &missing) < 0) {
				const char *feat = "";

				for (size_t k = 0; k < sel->n && !*feat; k++)
					if (sel->view[k]->entity == j->ents[e])
						feat = sel->f[k]->full;
				rp_err_set(err, RP_ERR_INPUT, "%s:%zu: join key '%s' of entity '%s' (for "
					   "'%s') is missing, null, empty or not a string or number",
					   r.path, r.line, missing, j->ents[e]->name, feat);
				goto out;
			}
			j->koff[j->n * j->nents + e] = at;
			j->klen[j->n * j->nents + e] = j->keys.len - at;
		}
		j->n++;
		json_decref(obj);
		obj = NULL;
	}
	ret = rc < 0 ? -1 : 0;
out:
	json_decref(obj);
	jsonl_close(&r);
	return ret;
}

/* Evaluates the selected features of view v for every row into j->val / j->status. */
static int join_view(struct hjob *j, const struct fsel *sel, const struct fview *v,
		     const struct fhist_opts *o, struct fhist_stats *st, struct rp_err *err)
{
	struct fevents ev;
	struct fgroups g = { 0 };
	struct qkey *q = NULL;
	struct buf b = BUF_INIT;
	size_t slot = entity_slot(j, v->entity);
	ftime_t now = FTIME_NONE;
	int ret = -1;

	if (fevents_load(&ev, v, o->assume_utc, err) < 0)
		goto out;
	st->events += ev.n;
	fgroups_build(&g, &ev);
	if (o->as_of_now)
		for (size_t i = 0; i < ev.n; i++) {
			ftime_t k = ev.created && ev.created[i] > ev.ts[i] ? ev.created[i] : ev.ts[i];

			if (k > now)
				now = k;
		}
	q = xmalloc((j->n ? j->n : 1) * sizeof(*q));
	for (size_t r = 0; r < j->n; r++) {
		size_t at = r * j->nents + slot;

		q[r].ent = fkeys_find(&ev.keys, j->keys.s + j->koff[at], j->klen[at]);
		q[r].T = o->as_of_now ? now : j->rows[r].T;
		q[r].row = r;
	}
	if (j->n)
		qsort(q, j->n, sizeof(*q), qkey_cmp);
	for (size_t k = 0; k < sel->n; k++) {
		struct fsweep *s;
		size_t fi;

		if (sel->view[k] != v)
			continue;
		fi = (size_t)(sel->f[k] - v->features);
		s = fsweep_new(&ev, fi);
		for (size_t a = 0; a < j->n;) {
			size_t e = a;

			while (e < j->n && q[e].ent == q[a].ent)
				e++;
			if (q[a].ent < 0) {
				for (size_t x = a; x < e; x++)
					j->status[q[x].row * sel->n + k] = FSTATUS_NOT_FOUND;
				a = e;
				continue;
			}
			fsweep_start(s, g.rows + g.start[q[a].ent],
				     g.start[q[a].ent + 1] - g.start[q[a].ent]);
			for (; a < e; a++) {
				struct fresult res;
				size_t cell = q[a].row * sel->n + k;

				fsweep_at(s, q[a].T, &res);
				j->status[cell] = res.status;
				if (res.status == FSTATUS_OK) {
					buf_reset(&b);
					fval_json(&res.v, &b);
					j->val[cell] = xstrdup(b.s);
				}
			}
		}
		fsweep_free(s);
	}
	ret = 0;
out:
	free(q);
	buf_release(&b);
	if (g.start)
		fgroups_release(&g);
	fevents_release(&ev);
	return ret;
}

int fhist_run(const struct fdefs *d, const struct fsel *sel, const struct fhist_opts *o,
	      struct buf *out, struct fhist_stats *st, struct rp_err *err)
{
	struct hjob j = { 0 };
	int ret = -1;

	(void)d;
	memset(st, 0, sizeof(*st));
	buf_init(&j.text);
	buf_init(&j.keys);
	j.ents = xcalloc(sel->n ? sel->n : 1, sizeof(*j.ents));
	for (size_t k = 0; k < sel->n; k++) {
		size_t e = 0;

		while (e < j.nents && j.ents[e] != sel->view[k]->entity)
			e++;
		if (e == j.nents)
			j.ents[j.nents++] = sel->view[k]->entity;
	}
	if (read_rows(&j, sel, o, err) < 0)
		goto out;
	j.val = xcalloc(j.n * sel->n + 1, sizeof(*j.val));
	j.status = xcalloc(j.n * sel->n + 1, sizeof(*j.status));
	for (size_t k = 0; k < sel->n; k++) {
		size_t first = 0;

		while (sel->view[first] != sel->view[k])
			first++;
		if (first == k && join_view(&j, sel, sel->view[k], o, st, err) < 0)
			goto out;
	}
	for (size_t r = 0; r < j.n; r++) {
		const char *line = j.text.s + j.rows[r].line_off;
		size_t len = j.rows[r].line_len, nulls = 0;

		/* the object's text without its closing brace (jsonl_next checked it is one) */
		while (len && line[len - 1] != '}')
			len--;
		len--;
		buf_add(out, line, len);
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			len--;
		for (size_t k = 0; k < sel->n; k++) {
			const char *v = j.val[r * sel->n + k];

			buf_adds(out, k || line[len - 1] != '{' ? "," : "");
			buf_add_json_str(out, sel->f[k]->full);
			buf_addch(out, ':');
			buf_adds(out, v ? v : "null");
		}
		buf_adds(out, sel->n || line[len - 1] != '{' ? ",\"rp_status\":{" : "\"rp_status\":{");
		for (size_t k = 0; k < sel->n; k++) {
			enum fstatus s = j.status[r * sel->n + k];

			if (s == FSTATUS_OK)
				continue;
			if (s == FSTATUS_EXPIRED)
				st->expired++;
			else
				st->not_found++;
			buf_adds(out, nulls++ ? "," : "");
			buf_add_json_str(out, sel->f[k]->full);
			buf_addf(out, ":\"%s\"", fstatus_name(s));
		}
		buf_adds(out, "}}\n");
	}
	st->rows = j.n;
	st->features = sel->n;
	ret = 0;
out:
	if (j.val)
		for (size_t i = 0; i < j.n * sel->n; i++)
			free(j.val[i]);
	free(j.val);
	free(j.status);
	free(j.rows);
	free(j.ents);
	free(j.koff);
	free(j.klen);
	buf_release(&j.text);
	buf_release(&j.keys);
	return ret;
}
