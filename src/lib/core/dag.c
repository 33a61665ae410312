/*
 * dag.c - the stage graph: edges from outputs to the deps that read them.
 *
 * Every out of every stage goes into one array sorted by path, where '/'
 * compares lower than any other byte. In that order a directory is followed
 * directly by everything inside it ("a", "a/b", "a/c", "a-x"), so two equal
 * outs, or an out inside another, are neighbours, and one pass over
 * neighbours finds every conflict. Then a hash index maps each out path to
 * its place, and each parent directory of an out to the contiguous run of
 * outs inside it, so:
 *   - the producer of a dep is a lookup of the dep and of each of its parent
 *     directories (outs never nest, so at most one matches);
 *   - the outs inside a dep directory are one lookup.
 * dag_build() is therefore O(outs log outs + deps * depth), about a
 * millisecond for thousands of stages. up[] and down[] point into two pools.
 *
 * The order is Kahn's algorithm with a min-heap of ready stages keyed by file
 * index, so independent stages keep file order. When stages are left over,
 * they contain a cycle: walking up-edges among them from the first one must
 * revisit a stage, and the loop found is printed in data-flow order.
 *
 * Invariants: up[i] is sorted and unique; down[i] is sorted (built from up in
 * stage order); d->outs borrows paths from the pipeline, which outlives d.
 */
#include "core/dag.h"

#include "util/fs.h"
#include "util/wspath.h"
#include "util/hmap.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* strcmp with '/' below every other byte; NUL still ends the string first. */
static int path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned char x = *a, y = *b;

		if (x != y) {
			if (!x || !y)
				return x ? 1 : -1;
			if (x == '/')
				return -1;
			if (y == '/')
				return 1;
			return x < y ? -1 : 1;
		}
		if (!x)
			return 0;
	}
}

static int out_cmp(const void *a, const void *b)
{
	const struct dag_out *x = a, *y = b;
	int c = path_cmp(x->path, y->path);

	if (c)
		return c;
	if (x->stage != y->stage)
		return x->stage < y->stage ? -1 : 1;
	return x->out < y->out ? -1 : x->out > y->out;
}

/*
 * The index: util/hmap over (path prefix, length), borrowing the bytes of the
 * out paths. An entry is an out (out >= 0: its place in d->outs) or a
 * directory that holds outs ([first, end) of d->outs, contiguous thanks to
 * the sort order), never both, since outs do not nest once check_outs() has
 * passed.
 */
struct dag_entry {
	long out;
	size_t first, end;
};

struct dag_index {
	struct hmap map;          /* prefix -> index into ents */
	struct dag_entry *ents;
	size_t n;
};

static const struct dag_entry *index_find(const struct dag *d, const char *s, size_t len)
{
	const size_t *v = hmap_get(&d->index->map, s, len);

	return v ? &d->index->ents[*v] : NULL;
}

/* The entry of `len` bytes at `s`, added as a directory if new. */
static struct dag_entry *index_put(struct dag_index *x, const char *s, size_t len, size_t i)
{
	int found;
	size_t *v = hmap_put(&x->map, s, len, &found);

	if (!found) {
		*v = x->n++;
		x->ents[*v].out = -1;
		x->ents[*v].first = i;
	}
	return &x->ents[*v];
}

static void index_build(struct dag *d)
{
	struct dag_index *x = xcalloc(1, sizeof(*x));
	size_t i, need = 0;

	for (i = 0; i < d->nouts; i++) {
		const char *p;

		need++;
		for (p = d->outs[i].path; *p; p++)
			need += *p == '/';
	}
	hmap_init(&x->map, need);
	x->ents = xcalloc(need ? need : 1, sizeof(*x->ents));
	for (i = 0; i < d->nouts; i++) {
		const char *path = d->outs[i].path, *p;

		index_put(x, path, strlen(path), i)->out = i;
		for (p = strchr(path, '/'); p; p = strchr(p + 1, '/'))
			index_put(x, path, p - path, i)->end = i + 1;
	}
	d->index = x;
}

static void index_free(struct dag_index *x)
{
	if (!x)
		return;
	hmap_free(&x->map);
	free(x->ents);
	free(x);
}

/* Index into d->outs of the out that is `path` or contains it, or -1. */
static long find_producing_out(const struct dag *d, const char *path)
{
	size_t len = strlen(path);

	if (!strcmp(path, "."))
		return -1;
	for (;;) {
		const struct dag_entry *sl = index_find(d, path, len);

		if (sl && sl->out >= 0)
			return sl->out;
		while (len > 0 && path[len - 1] != '/')
			len--;
		if (!len)
			return -1;
		len--; /* drop the '/' */
	}
}

/*
 * The run [*first, return) of d->outs that lie inside directory `dir` ("."
 * holds everything).
 */
static size_t outs_inside(const struct dag *d, const char *dir, size_t *first)
{
	const struct dag_entry *sl;

	*first = 0;
	if (!strcmp(dir, "."))
		return d->nouts;
	sl = index_find(d, dir, strlen(dir));
	if (!sl || sl->out >= 0)
		return 0;
	*first = sl->first;
	return sl->end;
}

long dag_producer(const struct dag *d, const char *path)
{
	long i = find_producing_out(d, path);

	return i < 0 ? -1 : (long)d->outs[i].stage;
}

static int size_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

static int fail_at(struct rp_err *err, const struct node *at, const char *file,
		   const char *msg)
{
	if (at && at->file)
		return node_fail(err, at, "%s", msg);
	return rp_err_set(err, RP_ERR_INPUT, "%s: %s", file, msg);
}

static int check_outs(struct dag *d, struct rp_err *err)
{
	const struct stage *st = d->p->stages;
	size_t i;

	for (i = 1; i < d->nouts; i++) {
		const struct dag_out *a = &d->outs[i - 1], *b = &d->outs[i];
		size_t alen = strlen(a->path);
		char *msg;

		if (!strcmp(a->path, b->path)) {
			if (a->stage == b->stage)
				msg = xasprintf("stage '%s' lists output '%s' twice",
						st[a->stage].name, b->path);
			else
				msg = xasprintf("output '%s' is produced by both stage '%s' "
						"and stage '%s'; each output needs exactly one "
						"stage", b->path, st[a->stage].name,
						st[b->stage].name);
		} else if (!strncmp(b->path, a->path, alen) && b->path[alen] == '/') {
			msg = xasprintf("output '%s' of stage '%s' is inside output '%s' "
					"of stage '%s'; outputs may not overlap",
					b->path, st[b->stage].name, a->path,
					st[a->stage].name);
		} else {
			continue;
		}
		fail_at(err, b->out->where, d->p->file, msg);
		free(msg);
		return -1;
	}
	return 0;
}

static int report_cycle(struct dag *d, const unsigned char *done, struct rp_err *err)
{
	const struct stage *st = d->p->stages;
	size_t *path = xmalloc(d->n * sizeof(*path));
	size_t *pos = xmalloc(d->n * sizeof(*pos));
	size_t i, n = 0, cur, start, lo;
	struct buf msg = BUF_INIT;

	for (i = 0; i < d->n; i++)
		pos[i] = (size_t)-1;
	for (cur = 0; cur < d->n && done[cur]; cur++)
		;
	/* walk against the edges until a stage repeats */
	while (pos[cur] == (size_t)-1) {
		pos[cur] = n;
		path[n++] = cur;
		for (i = 0; i < d->nup[cur] && done[d->up[cur][i]]; i++)
			;
		if (i == d->nup[cur])
			BUG("stage '%s' is left by Kahn's algorithm without a pending input",
			    st[cur].name);
		cur = d->up[cur][i];
	}
	start = pos[cur];
	/* path[start..n) walks upstream; print it downstream from its lowest stage */
	lo = start;
	for (i = start; i < n; i++)
		if (path[i] < path[lo])
			lo = i;
	buf_adds(&msg, "the pipeline has a cycle: ");
	i = lo;
	do {
		buf_addf(&msg, "%s -> ", st[path[i]].name);
		i = i == start ? n - 1 : i - 1;
	} while (i != lo);
	buf_adds(&msg, st[path[lo]].name);
	buf_adds(&msg, "; remove one of these dependencies");
	fail_at(err, st[path[lo]].where, d->p->file, msg.s);
	buf_release(&msg);
	free(pos);
	free(path);
	return -1;
}

/* Binary min-heap of stage indexes. */
static void heap_push(size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;

	while (i > 0 && h[(i - 1) / 2] > v) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static size_t heap_pop(size_t *h, size_t *n)
{
	size_t top = h[0], v = h[--(*n)], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] < h[c])
			c++;
		if (h[c] >= v)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
	return top;
}

static int topo_sort(struct dag *d, struct rp_err *err)
{
	size_t *indeg = xmalloc((d->n + 1) * sizeof(*indeg));
	size_t *heap = xmalloc((d->n + 1) * sizeof(*heap));
	unsigned char *done = xcalloc(d->n + 1, 1);
	size_t i, nheap = 0, norder = 0;
	int ret = 0;

	for (i = 0; i < d->n; i++) {
		indeg[i] = d->nup[i];
		if (!indeg[i])
			heap_push(heap, &nheap, i);
	}
	while (nheap) {
		size_t s = heap_pop(heap, &nheap);

		done[s] = 1;
		d->order[norder++] = s;
		for (i = 0; i < d->ndown[s]; i++)
			if (!--indeg[d->down[s][i]])
				heap_push(heap, &nheap, d->down[s][i]);
	}
	if (norder < d->n)
		ret = report_cycle(d, done, err);
	free(done);
	free(heap);
	free(indeg);
	return ret;
}

struct dag *dag_build(const struct pipeline *p, struct rp_err *err)
{
	struct dag *d = xcalloc(1, sizeof(*d));
	size_t i, j, k, total = 0, nup_all = 0, up_alloc = 0, *off;

	d->p = p;
	d->n = p->nstages;
	d->up = xcalloc(d->n + 1, sizeof(*d->up));
	d->nup = xcalloc(d->n + 1, sizeof(*d->nup));
	d->down = xcalloc(d->n + 1, sizeof(*d->down));
	d->ndown = xcalloc(d->n + 1, sizeof(*d->ndown));
	d->order = xcalloc(d->n + 1, sizeof(*d->order));
	off = xcalloc(d->n + 1, sizeof(*off));

	for (i = 0; i < d->n; i++)
		total += p->stages[i].nouts;
	d->outs = xmalloc((total + 1) * sizeof(*d->outs));
	for (i = 0; i < d->n; i++) {
		for (j = 0; j < p->stages[i].nouts; j++) {
			struct dag_out *o = &d->outs[d->nouts++];

			o->path = p->stages[i].outs[j].path;
			o->stage = i;
			o->out = &p->stages[i].outs[j];
		}
	}
	qsort(d->outs, d->nouts, sizeof(*d->outs), out_cmp);
	if (check_outs(d, err) < 0)
		goto fail;
	index_build(d);

	/* up lists, one after another in up_pool; off[i] is where i's starts */
	for (i = 0; i < d->n; i++) {
		const struct stage *st = &p->stages[i];
		size_t *mine, n = 0;

		off[i] = nup_all;
		for (j = 0; j < st->ndeps; j++) {
			const struct dep *dep = &st->deps[j];
			long o = find_producing_out(d, dep->path);
			size_t first, end;

			if (o >= 0) {
				ALLOC_GROW(d->up_pool, nup_all + n + 1, up_alloc);
				d->up_pool[nup_all + n++] = d->outs[o].stage;
			}
			end = outs_inside(d, dep->path, &first);
			ALLOC_GROW(d->up_pool, nup_all + n + (end - first), up_alloc);
			for (k = first; k < end; k++)
				d->up_pool[nup_all + n++] = d->outs[k].stage;
		}
		/* a params file another stage writes orders that stage first, as in DVC */
		for (j = 0; j < st->nparams; j++) {
			long o = find_producing_out(d, st->params[j].file);

			if (o >= 0) {
				ALLOC_GROW(d->up_pool, nup_all + n + 1, up_alloc);
				d->up_pool[nup_all + n++] = d->outs[o].stage;
			}
		}
		if (!n)
			continue;
		mine = d->up_pool + nup_all;
		if (n > 1)
			qsort(mine, n, sizeof(*mine), size_cmp);
		for (j = k = 0; j < n; j++)
			if (!k || mine[k - 1] != mine[j])
				mine[k++] = mine[j];
		for (j = 0; j < k; j++) {
			if (mine[j] == i) {
				char *msg = xasprintf("the pipeline has a cycle: %s -> %s; a "
						      "stage cannot depend on its own output",
						      st->name, st->name);

				fail_at(err, st->where, p->file, msg);
				free(msg);
				goto fail;
			}
			d->ndown[mine[j]]++;
		}
		d->nup[i] = k;
		nup_all += k;
	}
	for (i = 0; i < d->n; i++)
		d->up[i] = d->nup[i] ? d->up_pool + off[i] : NULL;

	/* down lists: counted above; filled in stage order, so sorted */
	d->down_pool = xmalloc((nup_all + 1) * sizeof(*d->down_pool));
	for (i = k = 0; i < d->n; i++) {
		d->down[i] = d->ndown[i] ? d->down_pool + k : NULL;
		k += d->ndown[i];
		d->ndown[i] = 0;
	}
	for (i = 0; i < d->n; i++)
		for (j = 0; j < d->nup[i]; j++) {
			size_t u = d->up[i][j];

			d->down[u][d->ndown[u]++] = i;
		}
	if (topo_sort(d, err) < 0)
		goto fail;
	free(off);
	return d;
fail:
	free(off);
	dag_free(d);
	return NULL;
}

void dag_free(struct dag *d)
{
	if (!d)
		return;
	free(d->up);
	free(d->nup);
	free(d->down);
	free(d->ndown);
	free(d->order);
	free(d->outs);
	index_free(d->index);
	free(d->up_pool);
	free(d->down_pool);
	free(d);
}

/*
 * Directories already walked by check_link() and found to stay inside: a set
 * of strings (util/hmap; the keys are copies owned by the set, slots NULL
 * until the first add), so that a thousand deps spread over a few directories
 * cost a few walks, not a thousand.
 */
struct dirset {
	struct hmap m;
};

static int dirset_has(const struct dirset *ds, const char *s, size_t len)
{
	return ds->m.slots && hmap_get(&ds->m, s, len);
}

static void dirset_add(struct dirset *ds, const char *s, size_t len)
{
	char *key;
	int found;

	if (!ds->m.slots)
		hmap_init(&ds->m, 32);
	if (hmap_get(&ds->m, s, len))
		return;
	key = xstrndup(s, len);
	hmap_put(&ds->m, key, len, &found);
}

static void dirset_release(struct dirset *ds)
{
	for (size_t i = 0; ds->m.slots && i <= ds->m.mask; i++)
		free((void *)ds->m.slots[i].key);
	hmap_free(&ds->m);
}

/*
 * Fails when `path` reaches outside the workspace through a symlink (see
 * wspath_link_outside); its last component counts with `last` (a dep that is a
 * symlink itself). Only the directories not in `ok` are walked; those that
 * pass are added.
 */
static int check_link(const struct dag *d, const char *root, const char *stage,
		      const char *path, const struct node *where, int is_dep, int last,
		      struct dirset *ok, struct rp_err *err)
{
	size_t skip = strlen(path), len;
	char *link, *target, *msg;

	/* the longest directory prefix known to pass */
	do {
		while (skip > 0 && path[skip - 1] != '/')
			skip--;
		if (skip)
			skip--;
	} while (skip && !dirset_has(ok, path, skip));
	len = strrchr(path, '/') ? (size_t)(strrchr(path, '/') - path) : 0;
	if (!last && skip == len)
		return 0;
	link = wspath_link_outside(root, path, skip, last, &target);
	if (!link) {
		for (size_t i = skip + 1; i <= len; i++)
			if (path[i] == '/' || i == len)
				dirset_add(ok, path, i);
		return 0;
	}
	if (is_dep)
		msg = xasprintf("stage '%s': dependency '%s' is read through the symlink '%s', "
				"which leads outside the workspace (or into '.rp'), to '%s'; copy "
				"the data into the workspace or make the link point inside it",
				stage, path, link, target);
	else
		msg = xasprintf("stage '%s': output '%s' would be written through the symlink "
				"'%s', which leads outside the workspace (or into '.rp'), to '%s'; "
				"rp never writes there: remove the link or make it point inside",
				stage, path, link, target);
	fail_at(err, where, d->p->file, msg);
	free(msg);
	free(link);
	free(target);
	return -1;
}

static int check_sources(const struct dag *d, int missing_ok,
			 void (*seen)(void *ctx, const char *path, const struct stat *sb),
			 void *ctx, struct rp_err *err)
{
	const struct pipeline *p = d->p;
	char root[PATH_MAX];
	struct dirset ok = { 0 };
	size_t i, j;
	int ret = -1;

	/* symlinks are resolved against the real path of the workspace */
	if (!getcwd(root, sizeof(root)))
		return rp_err_set(err, RP_ERR_IO, "cannot get the current directory: %s",
				  strerror(errno));
	for (i = 0; i < d->nouts; i++)
		if (check_link(d, root, p->stages[d->outs[i].stage].name, d->outs[i].path,
			       d->outs[i].out->where, 0, 0, &ok, err) < 0)
			goto out;
	for (i = 0; i < d->n; i++) {
		const struct stage *st = &p->stages[i];

		for (j = 0; j < st->ndeps; j++) {
			const struct dep *dep = &st->deps[j];
			struct stat sb;
			size_t first;
			char *msg, target[PATH_MAX];
			ssize_t n;
			int islink;

			if (find_producing_out(d, dep->path) >= 0 ||
			    outs_inside(d, dep->path, &first) > first)
				continue;
			islink = lstat(dep->path, &sb) == 0 ? S_ISLNK(sb.st_mode) : -1;
			if (islink == 0 && seen && S_ISREG(sb.st_mode))
				seen(ctx, dep->path, &sb);
			if (islink == 0 || (islink == 1 && stat(dep->path, &sb) == 0)) {
				/* a source read through a link: the link must stay inside */
				if (check_link(d, root, st->name, dep->path, dep->where, 1,
					       islink, &ok, err) < 0)
					goto out;
				continue;
			}
			if (missing_ok)
				continue;
			/* say so when it is a symlink to nowhere, not a missing file */
			if (islink == 1 &&
			    (n = readlink(dep->path, target, sizeof(target) - 1)) >= 0) {
				target[n] = '\0';
				msg = xasprintf("stage '%s': dependency '%s' does not exist: it is "
						"a dangling symlink to '%s'; fix the link or remove "
						"the dependency", st->name, dep->path, target);
			} else {
				msg = xasprintf("stage '%s': dependency '%s' does not exist and no "
						"stage produces it", st->name, dep->path);
			}
			fail_at(err, dep->where, p->file, msg);
			free(msg);
			goto out;
		}
	}
	ret = 0;
out:
	dirset_release(&ok);
	return ret;
}

int dag_check_sources(const struct dag *d,
		      void (*seen)(void *ctx, const char *path, const struct stat *sb),
		      void *ctx, struct rp_err *err)
{
	return check_sources(d, 0, seen, ctx, err);
}

int dag_check_links(const struct dag *d,
		    void (*seen)(void *ctx, const char *path, const struct stat *sb),
		    void *ctx, struct rp_err *err)
{
	return check_sources(d, 1, seen, ctx, err);
}

static void mark_closure(size_t **adj, const size_t *nadj, unsigned char *sel,
			 size_t *stack, size_t nstack)
{
	while (nstack) {
		size_t s = stack[--nstack], i;

		for (i = 0; i < nadj[s]; i++) {
			size_t t = adj[s][i];

			if (!sel[t]) {
				sel[t] = 1;
				stack[nstack++] = t;
			}
		}
	}
}

void dag_list_stages(const struct pipeline *p, struct buf *list)
{
	size_t i, shown = 0;

	for (i = 0; i < p->nstages && shown < 10; i++) {
		const char *name = p->stages[i].name;
		const char *at = strchr(name, '@');
		size_t len = at ? (size_t)(at - name) : strlen(name);

		/* list a foreach/matrix group once, by its group name */
		if (at && i > 0 && !strncmp(p->stages[i - 1].name, name, len) &&
		    p->stages[i - 1].name[len] == '@')
			continue;
		buf_addf(list, "%s%.*s", shown ? ", " : "", (int)len, name);
		shown++;
	}
	if (i < p->nstages)
		buf_adds(list, ", ...");
}

static int unknown_target(const struct dag *d, const char *target, struct rp_err *err)
{
	const struct pipeline *p = d->p;
	struct buf list = BUF_INIT;

	dag_list_stages(p, &list);
	rp_err_set(err, RP_ERR_INPUT, "stage '%s' not found in %s (stages: %s)", target,
		   p->file, list.s);
	buf_release(&list);
	return -1;
}

/* Whether root-relative `file` is the one whose stages have plain names. */
static int is_root_file(const struct dag *d, const char *file)
{
	return !strcmp(file, d->root_file ? d->root_file : d->p->file);
}

/* Whether `t` names a pipeline file: "rp.yaml", "dvc.yaml" or ".../rp.yaml", ".../dvc.yaml". */
static int is_pipeline_name(const char *t)
{
	const char *base = strrchr(t, '/') ? strrchr(t, '/') + 1 : t;

	return !strcmp(base, "rp.yaml") || !strcmp(base, "dvc.yaml");
}

/* The stages of root-relative `file` called `name` (or of group `name`). */
static size_t match_in_file(const struct dag *d, const char *file, const char *name,
			    size_t *idx)
{
	char *addr;
	size_t n;

	if (is_root_file(d, file))
		return strchr(name, ':') ? 0 : pipeline_match(d->p, name, idx);
	addr = xasprintf("%s:%s", file, name);
	n = pipeline_match(d->p, addr, idx);
	free(addr);
	return n;
}

/* Every stage of root-relative `file`. */
static size_t stages_of_file(const struct dag *d, const char *file, size_t *idx)
{
	size_t n = 0, len = strlen(file);

	for (size_t i = 0; i < d->n; i++) {
		const struct stage *st = &d->p->stages[i];
		const char *from = st->where && st->where->file ? st->where->file : d->p->file;

		if (is_root_file(d, file) ? is_root_file(d, from)
					  : !strncmp(st->name, file, len) && st->name[len] == ':')
			idx[n++] = i;
	}
	return n;
}

size_t dag_match(const struct dag *d, const char *t, size_t *idx)
{
	const char *prefix = d->prefix ? d->prefix : ".";
	const char *colon = strrchr(t, ':');
	char *file;
	size_t n = 0;

	if (colon) {
		char *given = xstrndup(t, (size_t)(colon - t));

		file = wspath_normalize(prefix, given);
		free(given);
		if (file && is_pipeline_name(file))
			n = match_in_file(d, file, colon + 1, idx);
		free(file);
		/* a name with a ':' of its own (a generated one) */
		return n ? n : pipeline_match(d->p, t, idx);
	}
	if (is_pipeline_name(t) && (file = wspath_normalize(prefix, t))) {
		n = stages_of_file(d, file, idx);
		free(file);
		if (n)
			return n;
	}
	if (strcmp(prefix, ".")) {
		/* a plain name in a subfolder: the stage of the pipeline file there */
		static const char *const names[] = { "rp.yaml", "dvc.yaml" };

		for (size_t i = 0; i < 2 && !n; i++) {
			file = xasprintf("%s/%s", prefix, names[i]);
			if (!access(file, F_OK))
				n = match_in_file(d, file, t, idx);
			free(file);
		}
		if (n)
			return n;
	}
	return pipeline_match(d->p, t, idx);
}

int dag_select(const struct dag *d, const char **targets, size_t ntargets,
	       unsigned flags, unsigned char *sel, struct rp_err *err)
{
	size_t *idx, *stack, nstack = 0, i, j;
	int ret = 0;

	if (!ntargets) {
		memset(sel, 1, d->n);
		return 0;
	}
	memset(sel, 0, d->n);
	idx = xmalloc((d->n + 1) * sizeof(*idx));
	stack = xmalloc((d->n + 1) * sizeof(*stack));
	for (i = 0; i < ntargets; i++) {
		size_t n = dag_match(d, targets[i], idx);

		if (!n) {
			ret = unknown_target(d, targets[i], err);
			goto out;
		}
		for (j = 0; j < n; j++)
			if (!sel[idx[j]]) {
				sel[idx[j]] = 1;
				stack[nstack++] = idx[j];
			}
	}
	if (flags & DAG_SELECT_DOWNSTREAM)
		mark_closure(d->down, d->ndown, sel, stack, nstack);
	else if (!(flags & DAG_SELECT_SINGLE))
		mark_closure(d->up, d->nup, sel, stack, nstack);
out:
	free(stack);
	free(idx);
	return ret;
}
