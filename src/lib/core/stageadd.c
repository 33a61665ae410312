/*
 * stageadd.c - `rp stage add`: one stage written into a pipeline file whose
 * other bytes stay as they were (see stageadd.h).
 *
 * The text of the stage is laid out as DVC writes dvc.yaml: desc, cmd,
 * wdir, deps (sorted), params (keys of params.yaml first, then a mapping per
 * other file, keys sorted), outs, metrics and plots (sorted, with `cache:
 * false` / `persist: true` under a path that has them), always_changed.
 * The indentation of stage names, of their fields and of the dash of a list
 * under its key is the file's own (that of its first stage); in a new file 2,
 * 2 and 0, the dash at the level of its key, as DVC's writer puts it. A scalar is written
 * plain when YAML reads it back as the same string, else double-quoted.
 *
 * Where the text goes, by the positions the YAML layer keeps (1-based line
 * and column of each node's start): the `stages:` block ends where the next
 * top-level key starts, less the blank lines and the comments indented
 * less than a stage name just before it (those belong to that key); with
 * no next key, at the end of the file. A stage replaced with force spans
 * from its name's line to the next stage's name (less blank lines and
 * comments at stage level or less before it), or to the end of the block.
 *
 * Invariant, checked on the result before it is used: every other stage
 * and top-level key of the file reads exactly as before (canonical JSON),
 * and the new stage is there.
 */
#include "core/stageadd.h"
#include "core/dag.h"
#include "util/fs.h"
#include "yaml/doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int stage_add_check_name(const char *name, struct rp_err *err)
{
	const unsigned char *p;

	if (!*name)
		return rp_err_set(err, RP_ERR_INPUT, "the stage name is empty; give one with -n NAME");
	for (p = (const unsigned char *)name; *p; p++) {
		if (*p == '-' || *p == '_' || *p >= 0x80 ||
		    (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			continue;
		if (*p > ' ' && *p < 0x7f)
			return rp_err_set(err, RP_ERR_INPUT, "stage name '%s' is invalid: it holds '%c'; "
					  "use letters, digits, '-' and '_' (as DVC)", name, *p);
		return rp_err_set(err, RP_ERR_INPUT, "stage name '%s' is invalid: it holds a space "
				  "or a control character; use letters, digits, '-' and '_'", name);
	}
	return 0;
}

char *stage_add_command(int argc, char **argv)
{
	struct buf b = BUF_INIT;

	if (argc == 1)
		return xstrdup(argv[0]);
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (i)
			buf_adds(&b, " ");
		if (!*a)
			buf_adds(&b, "\"\"");
		else if (!strchr(a, ' '))
			buf_adds(&b, a);
		else if (!strchr(a, '"'))
			buf_addf(&b, "\"%s\"", a);
		else if (!strchr(a, '\''))
			buf_addf(&b, "'%s'", a);
		else
			buf_adds(&b, a);   /* as DVC: the user quotes such an argument */
	}
	return buf_detach(&b);
}

/* ---- the stage's text ------------------------------------------------- */

/* Whether `s` can be written as a plain scalar that reads back as the string `s`. */
static int plain_ok(const char *s)
{
	struct node *n;
	int ok;

	if (!*s || strchr("-?:,[]{}#&*!|>'\"%@` \t", *s))
		return 0;
	if (strstr(s, ": ") || strstr(s, " #") || s[strlen(s) - 1] == ' ' ||
	    s[strlen(s) - 1] == ':')
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < ' ' || *p == 0x7f)
			return 0;
	n = node_new_scalar(s, 0);
	ok = node_scalar_type(n) == SCALAR_STR;
	node_free(n);
	return ok;
}

static void add_scalar(struct buf *b, const char *s)
{
	if (plain_ok(s)) {
		buf_adds(b, s);
		return;
	}
	buf_adds(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_addf(b, "\\%c", *p);
		else if (*p == '\n')
			buf_adds(b, "\\n");
		else if (*p == '\t')
			buf_adds(b, "\\t");
		else if (*p < ' ' || *p == 0x7f)
			buf_addf(b, "\\x%02x", *p);
		else
			buf_addf(b, "%c", *p);
	}
	buf_adds(b, "\"");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_out(const void *a, const void *b)
{
	return strcmp(((const struct stage_add_out *)a)->path,
		      ((const struct stage_add_out *)b)->path);
}

/*
 * Layout: spaces before a stage name, from a stage name to its fields, and
 * from a field's key to the dash of its items.
 */
struct layout {
	int indent, step, dash;
	const char *nl;
};

static void pad(struct buf *b, int n)
{
	for (int i = 0; i < n; i++)
		buf_adds(b, " ");
}

/* "KEY:" NL then "- ITEM" NL for each of v[0..n) (sorted when asked). */
static void add_list(struct buf *b, const struct layout *l, const char *key, const char **v,
		     size_t n)
{
	int f = l->indent + l->step;

	if (!n)
		return;
	pad(b, f);
	buf_addf(b, "%s:%s", key, l->nl);
	for (size_t i = 0; i < n; i++) {
		pad(b, f + l->dash);
		buf_adds(b, "- ");
		add_scalar(b, v[i]);
		buf_adds(b, l->nl);
	}
}

/* One params file and its keys (for the params field). */
struct pfile {
	char *file;
	char **keys;
	size_t n, alloc;
};

static struct pfile *pfile_get(struct pfile **v, size_t *n, size_t *alloc, const char *file,
			       size_t len)
{
	for (size_t i = 0; i < *n; i++)
		if (strlen((*v)[i].file) == len && !strncmp((*v)[i].file, file, len))
			return &(*v)[i];
	ALLOC_GROW(*v, *n + 1, *alloc);
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].file = xstrndup(file, len);
	return &(*v)[(*n)++];
}

static void add_params(struct buf *b, const struct layout *l, const struct stage_add *sa)
{
	struct pfile *pf = NULL, *dflt;
	size_t npf = 0, alloc = 0;   /* pf[0] is params.yaml (pointers move as pf grows) */
	int f = l->indent + l->step;

	if (!sa->nparams)
		return;
	/* "[FILE:]K1,K2" split at its last ':' as DVC does; "params.yaml" first */
	pfile_get(&pf, &npf, &alloc, "params.yaml", strlen("params.yaml"));
	for (size_t i = 0; i < sa->nparams; i++) {
		const char *spec = sa->params[i], *colon = strrchr(spec, ':');
		const char *keys = colon ? colon + 1 : spec;
		/* "FILE:" alone (no keys) is the whole file: an entry with no keys */
		struct pfile *p = colon ? pfile_get(&pf, &npf, &alloc, spec, colon - spec) : &pf[0];

		while (*keys) {
			size_t k = strcspn(keys, ",");

			if (k) {
				int dup = 0;

				for (size_t j = 0; j < p->n; j++)
					dup |= strlen(p->keys[j]) == k && !strncmp(p->keys[j], keys, k);
				if (!dup) {
					ALLOC_GROW(p->keys, p->n + 1, p->alloc);
					p->keys[p->n++] = xstrndup(keys, k);
				}
			}
			keys += k + (keys[k] == ',');
		}
	}
	dflt = &pf[0];
	pad(b, f);
	buf_addf(b, "params:%s", l->nl);
	for (size_t i = 0; i < npf; i++)
		if (pf[i].n)
			qsort(pf[i].keys, pf[i].n, sizeof(*pf[i].keys), cmp_str);
	for (size_t j = 0; j < dflt->n; j++) {
		pad(b, f + l->dash);
		buf_adds(b, "- ");
		add_scalar(b, dflt->keys[j]);
		buf_adds(b, l->nl);
	}
	if (npf > 2)
		qsort(pf + 1, npf - 1, sizeof(*pf), cmp_str);   /* file is the first member */
	for (size_t i = 1; i < npf; i++) {
		pad(b, f + l->dash);
		buf_adds(b, "- ");
		add_scalar(b, pf[i].file);
		buf_addf(b, ":%s", l->nl);
		for (size_t j = 0; j < pf[i].n; j++) {
			pad(b, f + l->dash + 2 + l->dash);
			buf_adds(b, "- ");
			add_scalar(b, pf[i].keys[j]);
			buf_adds(b, l->nl);
		}
	}
	for (size_t i = 0; i < npf; i++) {
		for (size_t j = 0; j < pf[i].n; j++)
			free(pf[i].keys[j]);
		free(pf[i].keys);
		free(pf[i].file);
	}
	free(pf);
}

static void add_outs(struct buf *b, const struct layout *l, const struct stage_add_out *o,
		     size_t n, int field, const char *key)
{
	int f = l->indent + l->step, any = 0;

	for (size_t i = 0; i < n; i++) {
		if ((int)o[i].field != field)
			continue;
		if (!any++) {
			pad(b, f);
			buf_addf(b, "%s:%s", key, l->nl);
		}
		pad(b, f + l->dash);
		buf_adds(b, "- ");
		add_scalar(b, o[i].path);
		if (o[i].cache && !o[i].persist) {
			buf_adds(b, l->nl);
			continue;
		}
		buf_addf(b, ":%s", l->nl);
		if (!o[i].cache) {
			pad(b, f + l->dash + 2 + l->step);
			buf_addf(b, "cache: false%s", l->nl);
		}
		if (o[i].persist) {
			pad(b, f + l->dash + 2 + l->step);
			buf_addf(b, "persist: true%s", l->nl);
		}
	}
}

/* Appends the stage's whole text ("  name:\n    cmd: ...\n"). */
static void render(struct buf *b, const struct layout *l, const struct stage_add *sa)
{
	const char **deps = NULL;
	struct stage_add_out *outs = NULL;
	int f = l->indent + l->step;

	pad(b, l->indent);
	add_scalar(b, sa->name);
	buf_addf(b, ":%s", l->nl);
	if (sa->desc) {
		pad(b, f);
		buf_adds(b, "desc: ");
		add_scalar(b, sa->desc);
		buf_adds(b, l->nl);
	}
	pad(b, f);
	buf_adds(b, "cmd: ");
	add_scalar(b, sa->cmd);
	buf_adds(b, l->nl);
	if (sa->wdir && strcmp(sa->wdir, ".")) {
		pad(b, f);
		buf_adds(b, "wdir: ");
		add_scalar(b, sa->wdir);
		buf_adds(b, l->nl);
	}
	if (sa->ndeps) {
		deps = xmalloc(sa->ndeps * sizeof(*deps));
		memcpy(deps, sa->deps, sa->ndeps * sizeof(*deps));
		qsort(deps, sa->ndeps, sizeof(*deps), cmp_str);
	}
	add_list(b, l, "deps", deps, sa->ndeps);
	add_params(b, l, sa);
	if (sa->nouts) {
		outs = xmalloc(sa->nouts * sizeof(*outs));
		memcpy(outs, sa->outs, sa->nouts * sizeof(*outs));
		qsort(outs, sa->nouts, sizeof(*outs), cmp_out);
	}
	add_outs(b, l, outs, sa->nouts, SA_OUTS, "outs");
	add_outs(b, l, outs, sa->nouts, SA_METRICS, "metrics");
	add_outs(b, l, outs, sa->nouts, SA_PLOTS, "plots");
	if (sa->always_changed) {
		pad(b, f);
		buf_addf(b, "always_changed: true%s", l->nl);
	}
	free(deps);
	free(outs);
}

/* ---- where it goes ------------------------------------------------------ */

struct text {
	const char *s;
	size_t len;
	size_t *line;      /* line[i]: offset of the start of line i + 1 */
	size_t nlines;
};

static void text_init(struct text *t, const char *s, size_t len)
{
	size_t alloc = 0;

	t->s = s;
	t->len = len;
	t->line = NULL;
	t->nlines = 0;
	ALLOC_GROW(t->line, 1, alloc);
	t->line[t->nlines++] = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n' && i + 1 < len) {
			ALLOC_GROW(t->line, t->nlines + 1, alloc);
			t->line[t->nlines++] = i + 1;
		}
}

/* Offset of the start of 1-based line `ln` (len past the last line). */
static size_t line_at(const struct text *t, int ln)
{
	return ln >= 1 && (size_t)ln <= t->nlines ? t->line[ln - 1] : t->len;
}

/* Offset of node n's first character (columns count bytes: rp's files indent with spaces). */
static size_t node_at(const struct text *t, const struct node *n)
{
	size_t at = line_at(t, n->line) + (size_t)(n->col > 0 ? n->col - 1 : 0);

	return at < t->len ? at : t->len;
}

/*
 * Moves `end` (a line start) back over the lines just before it that are
 * blank or comments indented at most `max_indent`, never before `floor`.
 */
static size_t back_over_trailing(const struct text *t, size_t end, size_t floor, int max_indent)
{
	while (end > floor) {
		size_t start = end - 1, i;
		int ind = 0;

		while (start > floor && t->s[start - 1] != '\n')
			start--;
		for (i = start; i < end && t->s[i] == ' '; i++)
			ind++;
		if (i < end && t->s[i] != '\n' && t->s[i] != '\r' &&
		    !(t->s[i] == '#' && ind <= max_indent))
			break;
		end = start;
	}
	return end;
}

/* The end of the line holding offset `at`: just past its newline, or len. */
static size_t line_end(const struct text *t, size_t at)
{
	const char *nl = memchr(t->s + at, '\n', t->len - at);

	return nl ? (size_t)(nl - t->s) + 1 : t->len;
}

static int is_flow(const struct text *t, const struct node *n)
{
	size_t at = node_at(t, n);

	return at < t->len && (t->s[at] == '{' || t->s[at] == '[');
}

/* The canonical JSON of n, for comparing before and after. Caller frees. */
static char *canon(const struct node *n)
{
	struct buf b = BUF_INIT;

	if (n)
		node_canonical(n, &b);
	return buf_detach(&b);
}

static int same_node(const struct node *a, const struct node *b)
{
	char *x = canon(a), *y = canon(b);
	int same = !strcmp(x, y);

	free(x);
	free(y);
	return same;
}

/* The invariant of the top of this file on the result. 0 or -1 + err. */
static int check_result(const char *file, const struct doc *old, const char *res, size_t len,
			const char *name, struct rp_err *err)
{
	struct rp_err perr = { 0 };
	struct doc *nd = doc_load_buf(file, res, len, &perr);
	const struct node *os = old && old->root ? node_get(old->root, "stages") : NULL;
	const struct node *ns;
	int ok = 1;

	if (!nd || !nd->root || nd->root->kind != NODE_MAP ||
	    !(ns = node_get(nd->root, "stages")) || ns->kind != NODE_MAP || !node_get(ns, name))
		ok = 0;
	for (size_t i = 0; ok && old && old->root && old->root->kind == NODE_MAP &&
	     i < old->root->n; i++) {
		const char *k = old->root->keys[i]->str;

		if (strcmp(k, "stages"))
			ok = same_node(old->root->items[i], node_get(nd->root, k));
	}
	for (size_t i = 0; ok && os && os->kind == NODE_MAP && i < os->n; i++)
		if (strcmp(os->keys[i]->str, name))
			ok = node_get(ns, os->keys[i]->str) &&
			     same_node(os->items[i], node_get(ns, os->keys[i]->str));
	doc_free(nd);
	if (!ok)
		return rp_err_set(err, RP_ERR_INPUT, "%s: cannot add stage '%s' without changing "
				  "how the rest of the file reads; add it by hand", file, name);
	return 0;
}

int stage_add_edit(const char *file, const char *text, size_t len, const struct stage_add *sa,
		   struct buf *out, struct rp_err *err)
{
	struct layout l = { 2, 2, 0, "\n" };
	struct text t;
	struct doc *d = NULL;
	const struct node *root, *sv = NULL;
	const char *nlp = memchr(text, '\n', len);
	size_t at, cut_end, i, si = 0;
	int ret = -1;

	text_init(&t, text, len);
	if (nlp && nlp > text && nlp[-1] == '\r')
		l.nl = "\r\n";
	if (len && !(d = doc_load_buf(file, text, len, err)))
		goto out;
	root = d ? d->root : NULL;
	if (root && root->kind == NODE_SCALAR && node_scalar_type(root) == SCALAR_NULL)
		root = NULL;
	if (root && root->kind != NODE_MAP) {
		node_fail(err, root, "the pipeline must be a mapping with a 'stages:' key");
		goto out;
	}
	if (root && is_flow(&t, root)) {
		node_fail(err, root, "the file is written in flow style ({...}); rp stage add "
			  "edits block style only: add the stage by hand");
		goto out;
	}
	for (i = 0; root && i < root->n; i++)
		if (!strcmp(root->keys[i]->str, "stages")) {
			sv = root->items[i];
			si = i;
		}
	if (!sv) {
		/* no stages: a new block at the end */
		buf_add(out, text, len);
		if (len && text[len - 1] != '\n')
			buf_adds(out, l.nl);
		buf_addf(out, "stages:%s", l.nl);
		render(out, &l, sa);
		goto check;
	}
	if (sv->kind == NODE_SEQ || (sv->kind == NODE_SCALAR && node_scalar_type(sv) != SCALAR_NULL)) {
		node_fail(err, sv, "'stages' must be a mapping of stage names to stages");
		goto out;
	}
	if (sv->kind == NODE_SCALAR || !sv->n) {
		/* "stages:", "stages: ~", "stages: {}": the value goes, the block follows */
		size_t key_end = node_at(&t, root->keys[si]) + strlen("stages");
		size_t vend = key_end;

		while (vend < len && text[vend] != ':')
			vend++;
		vend++;   /* past the ':' */
		if (sv->line == root->keys[si]->line && (sv->kind == NODE_MAP || *sv->str)) {
			size_t v = node_at(&t, sv);

			if (sv->kind == NODE_MAP) {
				const char *close = memchr(text + v, '}', len - v);

				v = close ? (size_t)(close - text) + 1 : v;
			} else {
				v += strlen(sv->str);
			}
			buf_add(out, text, vend);
			at = v;
		} else {
			at = vend;
			buf_add(out, text, vend);
		}
		cut_end = line_end(&t, at);
		buf_add(out, text + at, cut_end - at);
		if (!cut_end || text[cut_end - 1] != '\n')
			buf_adds(out, l.nl);
		render(out, &l, sa);
		buf_add(out, text + cut_end, len - cut_end);
		goto check;
	}
	if (is_flow(&t, sv)) {
		node_fail(err, sv, "'stages' is written in flow style ({...}); rp stage add edits "
			  "block style only: add the stage by hand");
		goto out;
	}
	/* the file's own layout, from its first stage */
	l.indent = sv->keys[0]->col - 1;
	if (sv->items[0]->kind == NODE_MAP && sv->items[0]->n &&
	    sv->items[0]->keys[0]->line > sv->keys[0]->line &&
	    sv->items[0]->keys[0]->col > sv->keys[0]->col)
		l.step = sv->items[0]->keys[0]->col - sv->keys[0]->col;
	/* the dash of a block list of the first stage that has one: "deps:\n  - a" */
	for (i = 0; sv->items[0]->kind == NODE_MAP && i < sv->items[0]->n; i++) {
		const struct node *k = sv->items[0]->keys[i], *v = sv->items[0]->items[i];

		if (v->kind == NODE_SEQ && v->n && v->items[0]->line > k->line &&
		    v->items[0]->col >= k->col + 2 && !is_flow(&t, v)) {
			l.dash = v->items[0]->col - 2 - k->col;
			break;
		}
	}
	{
		size_t block_start = line_at(&t, sv->keys[0]->line), block_end;

		block_end = si + 1 < root->n ? line_at(&t, root->keys[si + 1]->line) : len;
		block_end = back_over_trailing(&t, block_end, block_start, l.indent - 1);
		for (i = 0; i < sv->n; i++)
			if (!strcmp(sv->keys[i]->str, sa->name))
				break;
		if (i < sv->n && !sa->force) {
			node_fail(err, sv->keys[i], "stage '%s' already exists; use -f to replace it",
				  sa->name);
			goto out;
		}
		if (i < sv->n) {
			size_t from = line_at(&t, sv->keys[i]->line), to;

			to = i + 1 < sv->n ? back_over_trailing(&t, line_at(&t, sv->keys[i + 1]->line),
								from, l.indent)
					   : block_end;
			if (to < from)
				to = from;
			buf_add(out, text, from);
			render(out, &l, sa);
			buf_add(out, text + to, len - to);
			goto check;
		}
		buf_add(out, text, block_end);
		if (block_end && text[block_end - 1] != '\n')
			buf_adds(out, l.nl);
		render(out, &l, sa);
		buf_add(out, text + block_end, len - block_end);
	}
check:
	ret = check_result(file, d, out->s, out->len, sa->name, err);
out:
	doc_free(d);
	free(t.line);
	return ret;
}

/* ---- checking against the workspace, and writing ----------------------- */

/* Replaces every `from` in err->msg by `to` (a temp file's name by the real one). */
static void rename_in_err(struct rp_err *err, const char *from, const char *to)
{
	struct buf b = BUF_INIT;
	const char *p = err->msg, *q;

	while ((q = strstr(p, from))) {
		buf_add(&b, p, q - p);
		buf_adds(&b, to);
		p = q + strlen(from);
	}
	buf_adds(&b, p);
	snprintf(err->msg, sizeof(err->msg), "%s", b.s);
	buf_release(&b);
}

/* Whether out paths a and b are one path, or one lies inside the other. */
static int paths_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > lb)
		return paths_overlap(b, a);
	return !strncmp(a, b, la) && (b[la] == '\0' || b[la] == '/');
}

/*
 * Fails when an output of `st` is one of, inside, or around an output of a
 * stage in others[0..n) (the message is placed at the other's output).
 */
static int check_outs(const struct stage *st, const struct stage *const *others, size_t n,
		      struct rp_err *err)
{
	for (size_t i = 0; i < st->nouts; i++)
		for (size_t j = 0; j < n; j++)
			for (size_t k = 0; k < others[j]->nouts; k++) {
				const struct out *o = &others[j]->outs[k];

				if (!paths_overlap(st->outs[i].path, o->path))
					continue;
				if (!strcmp(st->outs[i].path, o->path))
					return node_fail(err, o->where, "'%s' is already an output of "
						"stage '%s'; a file has one producer: pick another "
						"path, or remove it there first", o->path,
						others[j]->name);
				return node_fail(err, o->where, "'%s' of the new stage and '%s' of stage "
					"'%s' overlap (one lies inside the other); an output has one "
					"producer: pick another path", st->outs[i].path, o->path,
					others[j]->name);
			}
	return 0;
}

int stage_add_write(struct project *pr, const char *file, const struct stage_add *sa,
		    int *replaced, struct rp_err *err)
{
	struct buf old = BUF_INIT, res = BUF_INIT;
	struct pipeline *np = NULL, all = { 0 };
	struct dag *dag = NULL;
	const struct stage **others = NULL;
	struct stage *mine = NULL;
	size_t nothers = 0;
	char *tmp = NULL;
	int fd, ret = -1;

	*replaced = 0;
	if (stage_add_check_name(sa->name, err) < 0)
		return -1;
	if (access(file, F_OK) == 0 && doc_read_file(file, &old, err) < 0)
		goto out;
	if (stage_add_edit(file, old.s, old.len, sa, &res, err) < 0)
		goto out;
	{
		struct doc *od = old.len ? doc_load_buf(file, old.s, old.len, NULL) : NULL;
		const struct node *os = od && od->root && od->root->kind == NODE_MAP ?
					node_get(od->root, "stages") : NULL;

		*replaced = os && os->kind == NODE_MAP && node_get(os, sa->name);
		doc_free(od);
	}
	/* the new text, loaded as rp loads it: beside the file, so its paths resolve alike */
	if (!(tmp = fs_temp_beside(file, &fd, err)))
		goto out;
	if (fs_write_all(fd, res.s, res.len) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot write '%s': %s", tmp, strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	if (!(np = pipeline_load(tmp, err))) {
		rename_in_err(err, tmp, file);
		goto out;
	}
	/* every stage: the other files' (from the project), then this file's new ones */
	others = xcalloc((pr->p ? pr->p->nstages : 0) + np->nstages + 1, sizeof(*others));
	all.stages = xcalloc((pr->p ? pr->p->nstages : 0) + np->nstages + 1, sizeof(*all.stages));
	for (size_t i = 0; pr->p && i < pr->p->nstages; i++) {
		const struct stage *st = &pr->p->stages[i];

		if (st->where && st->where->file && !strcmp(st->where->file, file))
			continue;
		others[nothers++] = st;
		all.stages[all.nstages++] = *st;
	}
	for (size_t i = 0; i < np->nstages; i++) {
		struct stage *st = &np->stages[i];

		if (strchr(file, '/')) {   /* addressed as project.c addresses a subfolder's stages */
			char *addr = xasprintf("%s:%s", file, st->name);

			free(st->name);
			st->name = addr;
		}
		if (st->where && !strcmp(st->where->str, sa->name) && !mine)
			mine = st;
		else
			others[nothers++] = st;
		all.stages[all.nstages++] = *st;
	}
	if (!mine) {
		rp_err_set(err, RP_ERR_INPUT, "%s: stage '%s' was written but does not load; add it "
			   "by hand", file, sa->name);
		goto out;
	}
	if (check_outs(mine, others, nothers, err) < 0) {
		rename_in_err(err, tmp, file);
		goto out;
	}
	all.file = (char *)file;
	if (!(dag = dag_build(&all, err))) {
		rename_in_err(err, tmp, file);
		goto out;
	}
	if (fs_write_atomic(file, res.s, res.len, err) < 0)
		goto out;
	ret = 0;
out:
	dag_free(dag);
	free(all.stages);
	free(others);
	pipeline_free(np);
	if (tmp) {
		unlink(tmp);
		fs_temp_forget(tmp);
		free(tmp);
	}
	buf_release(&old);
	buf_release(&res);
	return ret;
}
