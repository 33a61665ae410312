/*
 * project.c - loading a workspace, its pipelines, graph and lock together.
 *
 * Collecting (see project.h): the walk calls load_file() for each pipeline
 * file, which loads it, renames its stages to their addresses unless it is
 * the root's own file, and adds its out paths to a set that the walk asks
 * before entering a directory. One file is the pipeline as loaded; several
 * are merged: p gets every stage (moved, so each part keeps its docs and
 * vars, which the stages point into, until project_close()) and a name index
 * of its own. A stage's address keeps the order of its file's names, since
 * one prefix is put before all of them.
 */
#include "core/project.h"
#include "util/hmap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct collect {
	struct project *pr;
	struct hmap outs;      /* out paths of the stages loaded so far (keys borrowed) */
	size_t parts_alloc;
	struct rp_err *err;
};

/* workspace_walk()'s skip(): an output directory is not searched, as in DVC. */
static int is_out(void *ctx, const char *dir)
{
	struct collect *c = ctx;

	return hmap_get_str(&c->outs, dir) != NULL;
}

/* Loads pipeline file `file` (root-relative) into c->pr->parts. */
static int load_file(struct collect *c, const char *file)
{
	struct project *pr = c->pr;
	struct pipeline *p = pipeline_load_cached(file, pr->ws.parsed, c->err);
	int found;

	if (!p)
		return -1;
	ALLOC_GROW(pr->parts, pr->nparts + 1, c->parts_alloc);
	pr->parts[pr->nparts++] = p;
	for (size_t i = 0; i < p->nstages; i++) {
		struct stage *st = &p->stages[i];

		/* the root's own file keeps plain names (-f sub/dvc.yaml does not) */
		if (strchr(file, '/')) {
			char *addr = xasprintf("%s:%s", file, st->name);

			free(st->name);
			st->name = addr;
		}
		for (size_t j = 0; j < st->nouts; j++)
			hmap_put(&c->outs, st->outs[j].path, strlen(st->outs[j].path), &found);
	}
	return 0;
}

/* workspace_walk()'s found(): every file but the root's own, loaded first. */
static int found_file(void *ctx, const char *file)
{
	struct collect *c = ctx;

	if (!strcmp(file, c->pr->ws.pipeline_file))
		return 0;
	return load_file(c, file) < 0 ? -1 : 0;
}

static const struct pipeline *sort_p;

static int by_name_cmp(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(sort_p->stages[i].name, sort_p->stages[j].name);

	return c ? c : i < j ? -1 : i > j;
}

/* One pipeline holding the stages of every part (moved: each part is left with none). */
static struct pipeline *merge_parts(struct project *pr)
{
	struct pipeline *m = xcalloc(1, sizeof(*m));
	size_t total = 0, k = 0;

	for (size_t i = 0; i < pr->nparts; i++)
		total += pr->parts[i]->nstages;
	m->file = xstrdup(pr->parts[0]->file);
	m->dir = xstrdup(".");
	m->stages = xmalloc((total ? total : 1) * sizeof(*m->stages));
	for (size_t i = 0; i < pr->nparts; i++) {
		struct pipeline *p = pr->parts[i];

		memcpy(m->stages + k, p->stages, p->nstages * sizeof(*p->stages));
		k += p->nstages;
		p->nstages = 0;
	}
	m->nstages = total;
	m->by_name = xmalloc((total ? total : 1) * sizeof(*m->by_name));
	for (size_t i = 0; i < total; i++)
		m->by_name[i] = i;
	sort_p = m;
	qsort(m->by_name, total, sizeof(*m->by_name), by_name_cmp);
	sort_p = NULL;
	return m;
}

/* Loads the pipeline files into pr->p (see project.h). 0 or -1 + err. */
static int load_pipelines(struct project *pr, struct rp_err *err)
{
	struct collect c = { pr, { 0 }, 0, err };
	int r;

	hmap_init(&c.outs, 64);
	/* a missing -f FILE was refused by workspace_open() unless it is optional */
	if (access(pr->ws.pipeline_file, F_OK) == 0)
		r = load_file(&c, pr->ws.pipeline_file);
	else
		r = 0;
	if (r == 0 && !pr->ws.pipeline_given)
		r = workspace_walk(is_out, found_file, &c);
	hmap_free(&c.outs);
	if (r < 0)
		return -1;
	if (pr->nparts == 1) {
		pr->p = pr->parts[0];
		free(pr->parts);
		pr->parts = NULL;
		pr->nparts = 0;
	} else if (pr->nparts > 1) {
		pr->p = merge_parts(pr);
	}
	return 0;
}

int project_open(struct project *pr, const char *pipeline_file, unsigned flags,
		 struct rp_err *err)
{
	unsigned wsflags = 0;

	memset(pr, 0, sizeof(*pr));
	if (flags & PROJECT_LOCK)
		wsflags |= WS_LOCK;
	if (flags & PROJECT_NO_PIPELINE)
		wsflags |= WS_NO_PIPELINE;
	if (workspace_open(&pr->ws, pipeline_file, wsflags, err) < 0)
		return -1;
	if (load_pipelines(pr, err) < 0)
		goto fail;
	if (!pr->p && !(flags & PROJECT_NO_PIPELINE)) {
		rp_err_set(err, RP_ERR_INPUT, "no pipeline file '%s' in '%s'; write one (see "
			   "rp.yaml(5)) or name it with -f FILE", pr->ws.pipeline_file,
			   pr->ws.root);
		goto fail;
	}
	if (pr->p) {
		pr->dag = dag_build(pr->p, err);
		if (!pr->dag)
			goto fail;
		pr->dag->prefix = pr->ws.prefix;
		pr->dag->root_file = strchr(pr->ws.pipeline_file, '/') ? "" : pr->ws.pipeline_file;
	}
	pr->lock = lock_load(WS_LOCK_FILE, WS_JOURNAL, WS_LOCK_SNAP, err);
	if (!pr->lock)
		goto fail;
	return 0;
fail:
	project_close(pr);
	return -1;
}

/* What project_close_for_exit() leaves to exit(): external, so the stores stay. */
struct project project_left_for_exit;

void project_close_for_exit(struct project *pr)
{
	project_left_for_exit.p = pr->p;
	project_left_for_exit.parts = pr->parts;
	project_left_for_exit.nparts = pr->nparts;
	project_left_for_exit.dag = pr->dag;
	project_left_for_exit.lock = pr->lock;
	pr->p = NULL;
	pr->parts = NULL;
	pr->nparts = 0;
	pr->dag = NULL;
	pr->lock = NULL;
	project_close(pr);
}

void project_close(struct project *pr)
{
	lock_free(pr->lock);
	dag_free(pr->dag);
	pipeline_free(pr->p);
	for (size_t i = 0; i < pr->nparts; i++)
		pipeline_free(pr->parts[i]);
	free(pr->parts);
	workspace_close(&pr->ws);
	memset(pr, 0, sizeof(*pr));
}
