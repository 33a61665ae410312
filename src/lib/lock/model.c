/*
 * model.c - rp.lock in memory: stage entries kept sorted by name
 * (see model.h).
 *
 * Invariant: l->stages is sorted by name and holds each name once, so
 * lookups are binary searches and the written file is deterministic.
 * An entry is never changed in place once in a lock: lock_set() replaces it
 * (the text and image ranges it carries describe the entry as it was).
 */
#include "lock/model.h"
#include "util/fs.h"

#include <stdlib.h>
#include <string.h>

struct lock *lock_new(void)
{
	return xcalloc(1, sizeof(struct lock));
}

struct lock_stage *lock_stage_new(const char *name)
{
	struct lock_stage *s = xcalloc(1, sizeof(*s));

	s->name = xstrdup(name);
	s->wdir = xstrdup(".");
	return s;
}

void lock_items_free(struct lock_item *it, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(it[i].path);
	free(it);
}

void lock_stage_free(struct lock_stage *s)
{
	size_t i;

	if (!s)
		return;
	free(s->name);
	for (i = 0; i < s->ncmds; i++)
		free(s->cmds[i]);
	free(s->cmds);
	free(s->wdir);
	lock_items_free(s->deps, s->ndeps);
	lock_items_free(s->outs, s->nouts);
	for (i = 0; i < s->nparams; i++) {
		free(s->params[i].file);
		free(s->params[i].key);
		free(s->params[i].value);
	}
	free(s->params);
	free(s);
}

void lock_free(struct lock *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		lock_stage_free(l->stages[i]);
	free(l->stages);
	fs_unmap(l->img, l->img_len);
	free(l);
}

void lock_items_add(struct lock_item **arr, size_t *n, const char *path,
		     const struct objinfo *oi, int cache)
{
	*arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
	(*arr)[*n].path = xstrdup(path);
	(*arr)[*n].oi = *oi;
	(*arr)[*n].cache = cache;
	(*n)++;
}

void lock_stage_add_dep(struct lock_stage *s, const char *path, const struct objinfo *oi)
{
	lock_items_add(&s->deps, &s->ndeps, path, oi, 1);
}

void lock_stage_add_out(struct lock_stage *s, const char *path, const struct objinfo *oi, int cache)
{
	lock_items_add(&s->outs, &s->nouts, path, oi, cache);
}

void lock_stage_add_param(struct lock_stage *s, const char *file, const char *key, const char *value)
{
	s->params = xrealloc(s->params, (s->nparams + 1) * sizeof(*s->params));
	s->params[s->nparams].file = xstrdup(file);
	s->params[s->nparams].key = xstrdup(key ? key : "");
	s->params[s->nparams].value = xstrdup(value);
	s->nparams++;
}

void lock_stage_add_cmd(struct lock_stage *s, const char *cmd)
{
	s->cmds = xrealloc(s->cmds, (s->ncmds + 1) * sizeof(*s->cmds));
	s->cmds[s->ncmds++] = xstrdup(cmd);
}

struct lock_stage *lock_stage_dup(const struct lock_stage *s)
{
	struct lock_stage *d = lock_stage_new(s->name);
	size_t i;

	memcpy(d->key, s->key, sizeof(d->key));
	free(d->wdir);
	d->wdir = xstrdup(s->wdir);
	for (i = 0; i < s->ncmds; i++)
		lock_stage_add_cmd(d, s->cmds[i]);
	for (i = 0; i < s->ndeps; i++)
		lock_stage_add_dep(d, s->deps[i].path, &s->deps[i].oi);
	for (i = 0; i < s->nparams; i++)
		lock_stage_add_param(d, s->params[i].file, s->params[i].key, s->params[i].value);
	for (i = 0; i < s->nouts; i++)
		lock_stage_add_out(d, s->outs[i].path, &s->outs[i].oi, s->outs[i].cache);
	return d;
}

/* Index where `name` is or would be inserted; *found set when present. */
static size_t search(const struct lock *l, const char *name, int *found)
{
	size_t lo = 0, hi = l->n;

	*found = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->stages[mid]->name, name);

		if (!c) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct lock_stage *lock_find(const struct lock *l, const char *name)
{
	int found;
	size_t i = search(l, name, &found);

	return found ? l->stages[i] : NULL;
}

void lock_set(struct lock *l, struct lock_stage *s)
{
	int found;
	size_t i = search(l, s->name, &found);

	if (found) {
		lock_stage_free(l->stages[i]);
		l->stages[i] = s;
		return;
	}
	ALLOC_GROW(l->stages, l->n + 1, l->alloc);
	memmove(l->stages + i + 1, l->stages + i, (l->n - i) * sizeof(*l->stages));
	l->stages[i] = s;
	l->n++;
}

void lock_remove(struct lock *l, const char *name)
{
	int found;
	size_t i = search(l, name, &found);

	if (!found)
		return;
	lock_stage_free(l->stages[i]);
	memmove(l->stages + i, l->stages + i + 1, (l->n - i - 1) * sizeof(*l->stages));
	l->n--;
}
