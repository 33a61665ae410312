/*
 * key.c - canonical encoding and hash of a stage's inputs (see key.h).
 *
 * Deps, params and outs are sorted here, so the order in which rp.yaml lists
 * them does not change the key; params enter through node_canonical(), so
 * YAML formatting and key order inside a params value do not either.
 * The algorithms of rp's stage programs come from progver_detect(), which
 * reads the commands' words without starting anything.
 */
#include "core/key.h"
#include "util/strv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "<length>:<bytes>" (decimal length; no printf: this runs for every stage on every run). */
static void add_field(struct buf *out, const char *s)
{
	size_t len = strlen(s), n = len;
	char digits[24];
	int i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	buf_add(out, digits + i, sizeof(digits) - (size_t)i);
	buf_addch(out, ':');
	buf_add(out, s, len);
}

struct sorted_dep {
	const char *path;
	const char *hash;
};

static int cmp_dep(const void *a, const void *b)
{
	return strcmp(((const struct sorted_dep *)a)->path, ((const struct sorted_dep *)b)->path);
}

static int cmp_param(const void *a, const void *b)
{
	const struct param *x = *(const struct param *const *)a;
	const struct param *y = *(const struct param *const *)b;
	int c = strcmp(x->file, y->file);

	if (c)
		return c;
	return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

static void encode(const struct stage *st, const char *const *dep_hashes,
		   const struct progver_use *uses, size_t nuses, struct buf *out)
{
	struct sorted_dep *deps = xcalloc(st->ndeps, sizeof(*deps));
	const struct param **params = xcalloc(st->nparams, sizeof(*params));
	const char **outs = xcalloc(st->nouts, sizeof(*outs));
	struct buf val = BUF_INIT;
	size_t i;

	buf_adds(out, "rp-stage-key 1\n");
	for (i = 0; i < st->ncmds; i++) {
		buf_adds(out, "cmd ");
		add_field(out, st->cmds[i]);
		buf_addch(out, '\n');
	}
	buf_adds(out, "wdir ");
	add_field(out, st->wdir ? st->wdir : ".");
	buf_addch(out, '\n');

	for (i = 0; i < st->ndeps; i++) {
		deps[i].path = st->deps[i].path;
		deps[i].hash = dep_hashes[i];
	}
	qsort(deps, st->ndeps, sizeof(*deps), cmp_dep);
	for (i = 0; i < st->ndeps; i++) {
		buf_adds(out, "dep ");
		add_field(out, deps[i].path);
		buf_addch(out, ' ');
		buf_adds(out, deps[i].hash);
		buf_addch(out, '\n');
	}

	for (i = 0; i < st->nparams; i++)
		params[i] = &st->params[i];
	qsort(params, st->nparams, sizeof(*params), cmp_param);
	for (i = 0; i < st->nparams; i++) {
		buf_reset(&val);
		node_canonical(params[i]->value, &val);
		buf_adds(out, "param ");
		add_field(out, params[i]->file);
		buf_addch(out, ' ');
		add_field(out, params[i]->key ? params[i]->key : "");
		buf_addch(out, ' ');
		add_field(out, val.s);
		buf_addch(out, '\n');
	}

	for (i = 0; i < st->nouts; i++)
		outs[i] = st->outs[i].path;
	strv_sort(outs, st->nouts);
	for (i = 0; i < st->nouts; i++) {
		buf_adds(out, "out ");
		add_field(out, outs[i]);
		buf_addch(out, '\n');
	}

	/* version 1 is implicit: see key.h */
	for (i = 0; i < nuses; i++) {
		char ver[64];

		if (uses[i].version <= 1)
			continue;
		snprintf(ver, sizeof(ver), "%s@%d", uses[i].algo, uses[i].version);
		buf_adds(out, "algo ");
		add_field(out, uses[i].program);
		buf_addch(out, ' ');
		add_field(out, ver);
		buf_addch(out, '\n');
	}

	buf_release(&val);
	free(outs);
	free(params);
	free(deps);
}

void key_encode(const struct stage *st, const char *const *dep_hashes, struct buf *out)
{
	struct progver_use uses[PROGVER_MAX];
	size_t n = progver_detect((const char *const *)st->cmds, st->ncmds, uses);

	encode(st, dep_hashes, uses, n, out);
}

void key_compute_uses(const struct stage *st, const char *const *dep_hashes,
		      const struct progver_use *uses, size_t nuses, char hex[HASH_HEX])
{
	struct buf b = BUF_INIT;

	encode(st, dep_hashes, uses, nuses, &b);
	hash_buf(b.s, b.len, hex);
	buf_release(&b);
}

void key_compute(const struct stage *st, const char *const *dep_hashes, char hex[HASH_HEX])
{
	struct buf b = BUF_INIT;

	key_encode(st, dep_hashes, &b);
	hash_buf(b.s, b.len, hex);
	buf_release(&b);
}
