/*
 * events.c - loading a feature view's events from JSONL, CSV or SQLite
 * (events.h).
 *
 * Each format is read by its own small reader that yields rows of cells
 * (struct cell: a typed scalar borrowed from the reader) for a fixed list
 * of wanted columns; one function, add_event(), turns a row of cells into
 * an event, so that the three formats obey the same rules (timestamps,
 * keys, numbers, nulls) and name the row the same way in errors.
 *
 * Strings (keys aside) are copied into an arena of blocks that never move,
 * so an fval can point at its text for the life of the load. Keys are
 * interned in struct fkeys.
 */
#include "features/events.h"
#include "util/buf.h"
#include "yaml/doc.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- keys ----------------------------------------------------------------------- */

uint32_t fkeys_intern(struct fkeys *ks, const char *k, size_t len)
{
	int found;
	size_t *v;

	if (!ks->map.slots)
		hmap_init(&ks->map, 1024);
	if ((v = hmap_get(&ks->map, k, len)))
		return (uint32_t)*v;
	if (ks->n == ks->alloc) {
		ks->alloc = ks->alloc ? 2 * ks->alloc : 1024;
		ks->text = xrealloc(ks->text, ks->alloc * sizeof(*ks->text));
	}
	ks->text[ks->n] = xstrndup(k, len);
	v = hmap_put(&ks->map, ks->text[ks->n], len, &found);
	*v = ks->n;
	return (uint32_t)ks->n++;
}

int64_t fkeys_find(const struct fkeys *ks, const char *k, size_t len)
{
	const size_t *v = ks->map.slots ? hmap_get(&ks->map, k, len) : NULL;

	return v ? (int64_t)*v : -1;
}

void fkeys_release(struct fkeys *ks)
{
	for (size_t i = 0; i < ks->n; i++)
		free(ks->text[i]);
	free(ks->text);
	if (ks->map.slots)
		hmap_free(&ks->map);
	memset(ks, 0, sizeof(*ks));
}

/* ---- values --------------------------------------------------------------------- */

/* A number as key text and JSON: integral values (|v| < 2^53) as integers. */
static void add_number(struct buf *out, double num, int is_int)
{
	char t[40];

	if (is_int || (num == floor(num) && fabs(num) < 9007199254740992.0)) {
		buf_addf(out, "%lld", (long long)num);
		return;
	}
	format_double(num, t, sizeof(t));
	buf_adds(out, t);
}

void fval_json(const struct fval *v, struct buf *out)
{
	switch (v->kind) {
	case FVAL_NULL:
		buf_adds(out, "null");
		break;
	case FVAL_BOOL:
		buf_adds(out, v->num ? "true" : "false");
		break;
	case FVAL_NUM:
		add_number(out, v->num, v->is_int);
		break;
	case FVAL_STR:
		buf_add_json_str(out, v->str);
		break;
	}
}

json_t *fval_to_json(const struct fval *v)
{
	switch (v->kind) {
	case FVAL_BOOL:
		return json_boolean(v->num != 0);
	case FVAL_NUM:
		if (v->is_int || (v->num == floor(v->num) && fabs(v->num) < 9007199254740992.0))
			return json_integer((json_int_t)v->num);
		return json_real(v->num);
	case FVAL_STR:
		return json_stringn(v->str, v->len);
	default:
		return json_null();
	}
}

/* ---- cells: one wanted column of one row, as a reader saw it -------------------- */

enum cell_kind { CELL_ABSENT, CELL_NULL, CELL_NUM, CELL_STR, CELL_BOOL, CELL_OTHER };

struct cell {
	enum cell_kind kind;
	int is_int;
	double num;
	const char *s;       /* CELL_STR: borrowed, len bytes (not always NUL-terminated) */
	size_t len;
	int text;            /* CELL_STR from CSV or SQLite text: may be read as a number */
};

/* Appends the key text of one join-key cell; -1 when it cannot be a key. */
static int key_text(const struct cell *c, struct buf *out)
{
	switch (c->kind) {
	case CELL_STR:
		if (memchr(c->s, FKEY_SEP, c->len) || (c->text && !c->len))
			return -1;
		buf_add(out, c->s, c->len);
		return 0;
	case CELL_NUM:
		add_number(out, c->num, c->is_int);
		return 0;
	case CELL_BOOL:
		buf_adds(out, c->num ? "true" : "false");
		return 0;
	default:
		return -1;
	}
}

static void cell_from_json(json_t *j, struct cell *c)
{
	memset(c, 0, sizeof(*c));
	if (!j)
		c->kind = CELL_ABSENT;
	else if (json_is_null(j))
		c->kind = CELL_NULL;
	else if (json_is_integer(j))
		*c = (struct cell){ CELL_NUM, 1, (double)json_integer_value(j), NULL, 0, 0 };
	else if (json_is_real(j))
		*c = (struct cell){ CELL_NUM, 0, json_real_value(j), NULL, 0, 0 };
	else if (json_is_boolean(j))
		*c = (struct cell){ CELL_BOOL, 0, json_is_true(j), NULL, 0, 0 };
	else if (json_is_string(j))
		*c = (struct cell){ CELL_STR, 0, 0, json_string_value(j), json_string_length(j), 0 };
	else
		c->kind = CELL_OTHER;
}

int fkey_from_json(const struct fentity *e, json_t *row, struct buf *out, const char **missing)
{
	for (size_t k = 0; k < e->nkeys; k++) {
		struct cell c;

		cell_from_json(json_object_get(row, e->keys[k]), &c);
		if (k)
			buf_addch(out, FKEY_SEP);
		if (key_text(&c, out) < 0) {
			*missing = e->keys[k];
			return -1;
		}
	}
	return 0;
}

/* ---- the loader ----------------------------------------------------------------- */

#define ARENA_BLOCK (1u << 20)

struct arena {
	char **blocks;
	size_t n, used;      /* used: bytes of the last block */
};

static const char *arena_copy(struct arena *a, const char *s, size_t len)
{
	char *p;

	if (!a->n || a->used + len + 1 > ARENA_BLOCK) {
		size_t size = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;

		a->blocks = xrealloc(a->blocks, (a->n + 1) * sizeof(*a->blocks));
		a->blocks[a->n++] = xmalloc(size);
		a->used = 0;
		if (size > ARENA_BLOCK) {   /* a block of its own; the next string starts a new one */
			memcpy(a->blocks[a->n - 1], s, len);
			a->blocks[a->n - 1][len] = '\0';
			a->used = ARENA_BLOCK;
			return a->blocks[a->n - 1];
		}
	}
	p = a->blocks[a->n - 1] + a->used;
	memcpy(p, s, len);
	p[len] = '\0';
	a->used += len + 1;
	return p;
}

/* The wanted columns: 0 the event time, 1 the created time (may be unused), then keys, then features. */
struct load {
	struct fevents *ev;
	const struct fview *v;
	const struct fsource *src;
	int assume_utc;
	size_t ncols;
	const char **cols;       /* [ncols] names */
	size_t key0;             /* index of the first join key */
	size_t *fcol;            /* [nfeatures] column index of each feature, or 0 for count */
	struct cell *cells;      /* [ncols] the current row */
	unsigned char *seen;     /* [ncols] JSONL: some row has the column */
	size_t alloc;
	struct buf key;
	struct arena arena;
	char where[64];          /* "LINE" or "row N", for messages */
};

static size_t want(struct load *l, const char *name)
{
	for (size_t i = 0; i < l->ncols; i++)
		if (l->cols[i] && !strcmp(l->cols[i], name))
			return i;
	l->cols[l->ncols] = name;
	return l->ncols++;
}

static void plan_columns(struct load *l)
{
	const struct fview *v = l->v;

	l->cols = xcalloc(2 + v->entity->nkeys + v->nfeatures, sizeof(*l->cols));
	l->fcol = xcalloc(v->nfeatures ? v->nfeatures : 1, sizeof(*l->fcol));
	l->cols[0] = l->src->timestamp;
	l->cols[1] = l->src->created;   /* NULL: never matched by want() */
	l->ncols = 2;
	l->key0 = 2;
	for (size_t k = 0; k < v->entity->nkeys; k++)
		l->cols[l->ncols++] = v->entity->keys[k];   /* distinct: defs.c checks */
	for (size_t f = 0; f < v->nfeatures; f++)
		l->fcol[f] = v->features[f].column ? want(l, v->features[f].column) : 0;
	l->cells = xcalloc(l->ncols, sizeof(*l->cells));
	l->seen = xcalloc(l->ncols, 1);
}

static int ev_has_rows(const struct load *l)
{
	return l->ev->n > 0;
}

static int row_fail(struct load *l, struct rp_err *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int row_fail(struct load *l, struct rp_err *err, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	rp_err_set(err, RP_ERR_INPUT, "%s:%s: %s (source '%s' of view '%s')", l->src->resolved,
		   l->where, msg, l->src->name, l->v->name);
	free(msg);
	return -1;
}

static int read_time(struct load *l, const struct cell *c, const char *col, ftime_t *out,
		     struct rp_err *err)
{
	int rc;

	if (c->kind == CELL_ABSENT || c->kind == CELL_NULL || (c->kind == CELL_STR && c->text && !c->len))
		return row_fail(l, err, "no value in column '%s'; every event needs one", col);
	if (c->kind != CELL_STR)
		return row_fail(l, err, "column '%s' must hold an RFC 3339 timestamp string such as "
				"\"2026-12-05T12:00:00Z\"", col);
	rc = ftime_parse(c->s, c->len, l->assume_utc, out);
	if (rc == FTIME_NAIVE)
		return row_fail(l, err, "column '%s': '%.*s' has no UTC offset; add 'Z' or '+HH:MM', "
				"or pass --assume-utc", col, (int)(c->len > 64 ? 64 : c->len), c->s);
	if (rc != FTIME_OK)
		return row_fail(l, err, "column '%s': '%.*s' is not an RFC 3339 timestamp (expected "
				"YYYY-MM-DDTHH:MM:SS[.ffffff]Z or +HH:MM)", col,
				(int)(c->len > 64 ? 64 : c->len), c->s);
	return 0;
}

static int numeric(enum fagg a)
{
	return a == FAGG_SUM || a == FAGG_AVG || a == FAGG_MIN || a == FAGG_MAX;
}

/* Converts cell c into *out for feature f (numbers for numeric aggregations). */
static int read_value(struct load *l, const struct ffeature *f, const struct cell *c,
		      struct fval *out, struct rp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (c->kind == CELL_ABSENT || c->kind == CELL_NULL || (c->kind == CELL_STR && c->text && !c->len))
		return 0;
	if (c->kind == CELL_OTHER)
		return row_fail(l, err, "column '%s' holds an array or object; feature '%s' needs a "
				"scalar", f->column, f->full);
	if (numeric(f->agg)) {
		if (c->kind == CELL_STR && c->text) {
			char *end, tmp[64];

			if (c->len < sizeof(tmp)) {
				memcpy(tmp, c->s, c->len);
				tmp[c->len] = '\0';
				errno = 0;
				out->num = strtod(tmp, &end);
				if (!*end && end != tmp && !errno && isfinite(out->num)) {
					out->kind = FVAL_NUM;
					out->is_int = !strpbrk(tmp, ".eE");
					return 0;
				}
			}
		}
		if (c->kind != CELL_NUM)
			return row_fail(l, err, "column '%s': feature '%s' (%s) needs a number, not %.*s",
					f->column, f->full, fagg_name(f->agg),
					c->kind == CELL_STR ? (int)(c->len > 40 ? 40 : c->len) : 7,
					c->kind == CELL_STR ? c->s : "boolean");
	}
	switch (c->kind) {
	case CELL_NUM:
		*out = (struct fval){ FVAL_NUM, c->is_int, c->num, NULL, 0 };
		break;
	case CELL_BOOL:
		*out = (struct fval){ FVAL_BOOL, 0, c->num, NULL, 0 };
		break;
	default:
		*out = (struct fval){ FVAL_STR, 0, 0, arena_copy(&l->arena, c->s, c->len), c->len };
		break;
	}
	return 0;
}

static void grow(struct load *l)
{
	struct fevents *ev = l->ev;

	l->alloc = l->alloc ? 2 * l->alloc : 4096;
	ev->entity = xrealloc(ev->entity, l->alloc * sizeof(*ev->entity));
	ev->ts = xrealloc(ev->ts, l->alloc * sizeof(*ev->ts));
	if (l->src->created)
		ev->created = xrealloc(ev->created, l->alloc * sizeof(*ev->created));
	for (size_t f = 0; f < l->v->nfeatures; f++)
		if (l->v->features[f].column)
			ev->col[f] = xrealloc(ev->col[f], l->alloc * sizeof(**ev->col));
}

/* Turns the current row of cells into event ev->n. */
static int add_event(struct load *l, struct rp_err *err)
{
	struct fevents *ev = l->ev;
	const struct fentity *e = l->v->entity;
	size_t i = ev->n;

	if (i == l->alloc)
		grow(l);
	if (read_time(l, &l->cells[0], l->src->timestamp, &ev->ts[i], err) < 0)
		return -1;
	if (l->src->created && read_time(l, &l->cells[1], l->src->created, &ev->created[i], err) < 0)
		return -1;
	buf_reset(&l->key);
	for (size_t k = 0; k < e->nkeys; k++) {
		if (k)
			buf_addch(&l->key, FKEY_SEP);
		if (key_text(&l->cells[l->key0 + k], &l->key) < 0)
			return row_fail(l, err, "join key '%s' of entity '%s' is missing, empty or not a "
					"string or number", e->keys[k], e->name);
	}
	ev->entity[i] = fkeys_intern(&ev->keys, l->key.s, l->key.len);
	for (size_t f = 0; f < l->v->nfeatures; f++)
		if (l->v->features[f].column &&
		    read_value(l, &l->v->features[f], &l->cells[l->fcol[f]], &ev->col[f][i], err) < 0)
			return -1;
	ev->n++;
	return 0;
}

/* ---- JSONL ---------------------------------------------------------------------- */

static int load_jsonl(struct load *l, struct rp_err *err)
{
	FILE *f = fopen(l->src->resolved, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int ret = -1;

	if (!f)
		return rp_err_set(err, RP_ERR_IO, "cannot open source '%s' (%s): %s", l->src->name,
				  l->src->resolved, strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		json_error_t je;
		json_t *obj;

		lineno++;
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (!n)
			continue;
		snprintf(l->where, sizeof(l->where), "%zu", lineno);
		obj = json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
		if (!obj || !json_is_object(obj)) {
			json_decref(obj);
			if (!obj)
				rp_err_set(err, RP_ERR_INPUT, "%s:%zu:%d: %s (source '%s')", l->src->resolved,
					   lineno, je.column, je.text, l->src->name);
			else
				row_fail(l, err, "the line is not a JSON object");
			goto out;
		}
		for (size_t c = 0; c < l->ncols; c++) {
			cell_from_json(l->cols[c] ? json_object_get(obj, l->cols[c]) : NULL, &l->cells[c]);
			l->seen[c] |= l->cells[c].kind != CELL_ABSENT;
		}
		if (add_event(l, err) < 0) {
			json_decref(obj);
			goto out;
		}
		json_decref(obj);
	}
	for (size_t c = l->key0 + l->v->entity->nkeys; c < l->ncols && ev_has_rows(l); c++)
		if (!l->seen[c]) {
			rp_err_set(err, RP_ERR_INPUT, "%s: no event has column '%s' (source '%s' of view "
				   "'%s'); check the column name in the definitions", l->src->resolved,
				   l->cols[c], l->src->name, l->v->name);
			goto out;
		}
	if (ferror(f)) {
		rp_err_set(err, RP_ERR_IO, "cannot read source '%s' (%s): %s", l->src->name,
			   l->src->resolved, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(line);
	fclose(f);
	return ret;
}

/* ---- CSV (RFC 4180) ------------------------------------------------------------- */

struct csv {
	const char *p, *end;
	size_t line;             /* the line the current record starts on */
	size_t next_line;
	struct buf field;        /* the current field, unquoted */
	char **fields;           /* the record's fields (owned copies) */
	size_t *lens;
	size_t n, alloc;
};

/* Reads one record into c->fields; 1, 0 at the end, -1 on a quoting error. */
static int csv_record(struct csv *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->fields[i]);
	c->n = 0;
	if (c->p >= c->end)
		return 0;
	c->line = c->next_line;
	for (;;) {
		int quoted = 0;

		buf_reset(&c->field);
		if (c->p < c->end && *c->p == '"') {
			quoted = 1;
			c->p++;
			for (;;) {
				if (c->p >= c->end)
					return -1;
				if (*c->p == '"') {
					if (c->p + 1 < c->end && c->p[1] == '"') {
						buf_addch(&c->field, '"');
						c->p += 2;
						continue;
					}
					c->p++;
					break;
				}
				if (*c->p == '\n')
					c->next_line++;
				buf_addch(&c->field, *c->p++);
			}
		}
		while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
			if (quoted || *c->p == '"')
				return -1;
			buf_addch(&c->field, *c->p++);
		}
		if (c->n == c->alloc) {
			c->alloc = c->alloc ? 2 * c->alloc : 16;
			c->fields = xrealloc(c->fields, c->alloc * sizeof(*c->fields));
			c->lens = xrealloc(c->lens, c->alloc * sizeof(*c->lens));
		}
		c->lens[c->n] = c->field.len;
		c->fields[c->n++] = xstrndup(c->field.s, c->field.len);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n')
			c->p++;
		c->next_line++;
		return 1;
	}
}

static void csv_release(struct csv *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->fields[i]);
	free(c->fields);
	free(c->lens);
	buf_release(&c->field);
}

static int load_csv(struct load *l, struct rp_err *err)
{
	struct buf data = BUF_INIT;
	struct csv c = { 0 };
	size_t *pos = NULL;
	int rc, ret = -1;

	if (buf_read_file(&data, l->src->resolved) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot read source '%s' (%s): %s", l->src->name,
			   l->src->resolved, strerror(errno));
		goto out;
	}
	c.p = data.s;
	c.end = data.s + data.len;
	c.next_line = 1;
	if (data.len >= 3 && !memcmp(data.s, "\xef\xbb\xbf", 3))
		c.p += 3;   /* a UTF-8 byte order mark, as spreadsheets write */
	strcpy(l->where, "1");
	if ((rc = csv_record(&c)) <= 0) {
		row_fail(l, err, rc ? "bad quoting in the header line" : "the file is empty; a CSV "
			 "source needs a header line naming its columns");
		goto out;
	}
	pos = xcalloc(l->ncols, sizeof(*pos));
	for (size_t k = 0; k < l->ncols; k++) {
		pos[k] = (size_t)-1;
		for (size_t h = 0; l->cols[k] && h < c.n; h++)
			if (!strcmp(c.fields[h], l->cols[k]))
				pos[k] = h;
		if (l->cols[k] && pos[k] == (size_t)-1) {
			row_fail(l, err, "the header has no column '%s'; the definitions name it", l->cols[k]);
			goto out;
		}
	}
	while ((rc = csv_record(&c)) > 0) {
		snprintf(l->where, sizeof(l->where), "%zu", c.line);
		if (c.n == 1 && !c.lens[0])
			continue;   /* an empty line */
		for (size_t k = 0; k < l->ncols; k++) {
			struct cell *cl = &l->cells[k];

			memset(cl, 0, sizeof(*cl));
			if (pos[k] == (size_t)-1 || pos[k] >= c.n)
				cl->kind = CELL_ABSENT;
			else
				*cl = (struct cell){ CELL_STR, 0, 0, c.fields[pos[k]], c.lens[pos[k]], 1 };
		}
		if (add_event(l, err) < 0)
			goto out;
	}
	if (rc < 0) {
		snprintf(l->where, sizeof(l->where), "%zu", c.line);
		row_fail(l, err, "bad quoting: a quoted field must end with '\"' followed by ',' or the "
			 "end of the line (write a quote inside as \"\")");
		goto out;
	}
	ret = 0;
out:
	free(pos);
	csv_release(&c);
	buf_release(&data);
	return ret;
}

/* ---- SQLite --------------------------------------------------------------------- */

/* Appends `name` as an SQL identifier: in double quotes, quotes doubled. */
static void sql_ident(struct buf *b, const char *name)
{
	buf_addch(b, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			buf_addch(b, '"');
		buf_addch(b, *p);
	}
	buf_addch(b, '"');
}

static int load_sqlite(struct load *l, struct rp_err *err)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	struct buf sql = BUF_INIT;
	size_t *pos = NULL, row = 0;
	int rc, ret = -1, ncol;

	if (sqlite3_open_v2(l->src->resolved, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		rp_err_set(err, RP_ERR_IO, "cannot open source '%s' (%s): %s", l->src->name,
			   l->src->resolved, db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	buf_adds(&sql, "SELECT * FROM ");
	sql_ident(&sql, l->src->table);
	if (sqlite3_prepare_v2(db, sql.s, -1, &st, NULL) != SQLITE_OK) {
		rp_err_set(err, RP_ERR_INPUT, "%s: source '%s': cannot read table '%s': %s; check "
			   "'table' in the definitions", l->src->resolved, l->src->name, l->src->table,
			   sqlite3_errmsg(db));
		goto out;
	}
	ncol = sqlite3_column_count(st);
	pos = xcalloc(l->ncols, sizeof(*pos));
	for (size_t k = 0; k < l->ncols; k++) {
		pos[k] = (size_t)-1;
		for (int h = 0; l->cols[k] && h < ncol; h++)
			if (!strcmp(sqlite3_column_name(st, h), l->cols[k]))
				pos[k] = (size_t)h;
		if (l->cols[k] && pos[k] == (size_t)-1) {
			snprintf(l->where, sizeof(l->where), " table '%s'", l->src->table);
			row_fail(l, err, "no column '%s'; the definitions name it", l->cols[k]);
			goto out;
		}
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(l->where, sizeof(l->where), " table '%s', row %zu", l->src->table, ++row);
		for (size_t k = 0; k < l->ncols; k++) {
			struct cell *c = &l->cells[k];
			int h = (int)pos[k];

			memset(c, 0, sizeof(*c));
			if (pos[k] == (size_t)-1) {
				c->kind = CELL_ABSENT;
				continue;
			}
			switch (sqlite3_column_type(st, h)) {
			case SQLITE_INTEGER:
				*c = (struct cell){ CELL_NUM, 1, (double)sqlite3_column_int64(st, h), NULL, 0, 0 };
				break;
			case SQLITE_FLOAT:
				*c = (struct cell){ CELL_NUM, 0, sqlite3_column_double(st, h), NULL, 0, 0 };
				break;
			case SQLITE_TEXT:
				c->s = (const char *)sqlite3_column_text(st, h);
				*c = (struct cell){ CELL_STR, 0, 0, c->s, (size_t)sqlite3_column_bytes(st, h), 1 };
				break;
			case SQLITE_NULL:
				c->kind = CELL_NULL;
				break;
			default:
				c->kind = CELL_OTHER;
			}
		}
		if (add_event(l, err) < 0)
			goto out;
	}
	if (rc != SQLITE_DONE) {
		rp_err_set(err, RP_ERR_IO, "%s: source '%s': reading table '%s': %s", l->src->resolved,
			   l->src->name, l->src->table, sqlite3_errmsg(db));
		goto out;
	}
	ret = 0;
out:
	free(pos);
	buf_release(&sql);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ret;
}

/* ---- the entry points ----------------------------------------------------------- */

int fevents_load(struct fevents *ev, const struct fview *v, int assume_utc, struct rp_err *err)
{
	struct load l = { 0 };
	int ret;

	memset(ev, 0, sizeof(*ev));
	ev->view = v;
	ev->col = xcalloc(v->nfeatures ? v->nfeatures : 1, sizeof(*ev->col));
	l.ev = ev;
	l.v = v;
	l.src = v->source;
	l.assume_utc = assume_utc;
	plan_columns(&l);
	switch (l.src->kind) {
	case FSOURCE_JSONL:
		ret = load_jsonl(&l, err);
		break;
	case FSOURCE_CSV:
		ret = load_csv(&l, err);
		break;
	default:
		ret = load_sqlite(&l, err);
		break;
	}
	{
		struct arena *a = xmalloc(sizeof(*a));

		*a = l.arena;
		ev->arena = a;
	}
	free(l.cols);
	free(l.fcol);
	free(l.cells);
	free(l.seen);
	buf_release(&l.key);
	return ret;
}

void fevents_release(struct fevents *ev)
{
	struct arena *a = ev->arena;

	if (ev->col && ev->view)
		for (size_t f = 0; f < ev->view->nfeatures; f++)
			free(ev->col[f]);
	free(ev->col);
	free(ev->entity);
	free(ev->ts);
	free(ev->created);
	fkeys_release(&ev->keys);
	if (a) {
		for (size_t i = 0; i < a->n; i++)
			free(a->blocks[i]);
		free(a->blocks);
		free(a);
	}
	memset(ev, 0, sizeof(*ev));
}
