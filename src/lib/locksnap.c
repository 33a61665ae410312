/*
 * locksnap.c - the binary image of a parsed rp.lock (format in locksnap.h).
 */
#include "locksnap.h"
#include "bin.h"
#include "fs.h"
#include "hash.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_MAGIC "rplsnap1"
#define SNAP_MAGIC_LEN 8
#define HEX_LEN (HASH_HEX - 1)

/* ---- writing ------------------------------------------------------------ */

static void put_items(struct buf *b, const struct lock_item *it, size_t n)
{
	bin_put_u32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		bin_put_str(b, it[i].path);
		bin_put_str(b, it[i].oi.hash);
		bin_put_u64(b, it[i].oi.size);
		bin_put_u64(b, it[i].oi.nfiles);
		bin_put_u8(b, it[i].oi.isdir ? 1 : 0);
		bin_put_u8(b, it[i].cache ? 1 : 0);
	}
}

static void put_stage(struct buf *b, const struct lock_stage *s)
{
	size_t i;

	bin_put_str(b, s->name);
	bin_put_str(b, s->key);
	bin_put_u32(b, (uint32_t)s->ncmds);
	for (i = 0; i < s->ncmds; i++)
		bin_put_str(b, s->cmds[i]);
	bin_put_str(b, s->wdir);
	put_items(b, s->deps, s->ndeps);
	bin_put_u32(b, (uint32_t)s->nparams);
	for (i = 0; i < s->nparams; i++) {
		bin_put_str(b, s->params[i].file);
		bin_put_str(b, s->params[i].key);
		bin_put_str(b, s->params[i].value);
	}
	put_items(b, s->outs, s->nouts);
}

void locksnap_write(const struct lock *l, const char *snap)
{
	struct buf b = BUF_INIT;
	struct rp_err err = { 0 };
	char check[HASH_HEX];

	if (!hash_is_hex(l->base))
		return;         /* not made from rp.lock bytes */
	buf_add(&b, SNAP_MAGIC, SNAP_MAGIC_LEN);
	buf_add(&b, l->base, HEX_LEN);
	bin_put_u32(&b, (uint32_t)l->n);
	for (size_t i = 0; i < l->n; i++)
		put_stage(&b, l->stages[i]);
	hash_buf(b.s, b.len, check);
	buf_add(&b, check, HEX_LEN);
	(void)fs_write_replace_err(snap, b.s, b.len, &err);
	buf_release(&b);
}

/* ---- reading ------------------------------------------------------------ */

static void get_items(struct bin_reader *r, struct lock_item **arr, size_t *n)
{
	size_t count = bin_get_count(r, 4 + 4 + 8 + 8 + 1 + 1);

	if (!count)
		return;
	*arr = xcalloc(count, sizeof(**arr));
	for (size_t i = 0; i < count && !r->bad; i++) {
		struct lock_item *it = &(*arr)[i];

		it->path = bin_get_str(r);
		*n = i + 1;     /* counted as soon as it owns a path */
		bin_get_strbuf(r, it->oi.hash, HASH_HEX);
		it->oi.size = bin_get_u64(r);
		it->oi.nfiles = bin_get_u64(r);
		it->oi.isdir = bin_get_u8(r);
		it->cache = bin_get_u8(r);
	}
}

static struct lock_stage *get_stage(struct bin_reader *r)
{
	struct lock_stage *s = xcalloc(1, sizeof(*s));
	size_t i, n;

	s->name = bin_get_str(r);
	bin_get_strbuf(r, s->key, HASH_HEX);
	n = bin_get_count(r, 4);
	if (n) {
		s->cmds = xcalloc(n, sizeof(*s->cmds));
		for (i = 0; i < n && !r->bad; i++)
			s->cmds[s->ncmds++] = bin_get_str(r);
	}
	s->wdir = bin_get_str(r);
	get_items(r, &s->deps, &s->ndeps);
	n = bin_get_count(r, 12);
	if (n) {
		s->params = xcalloc(n, sizeof(*s->params));
		for (i = 0; i < n && !r->bad; i++) {
			s->params[i].file = bin_get_str(r);
			s->params[i].key = bin_get_str(r);
			s->params[i].value = bin_get_str(r);
			s->nparams++;
		}
	}
	get_items(r, &s->outs, &s->nouts);
	return s;
}

struct lock *locksnap_read(const char *snap, const char base[HASH_HEX])
{
	struct buf b = BUF_INIT;
	struct bin_reader r;
	struct lock *l = NULL;
	char check[HASH_HEX];
	size_t n;

	if (buf_read_file(&b, snap) < 0)
		goto out;
	if (b.len < SNAP_MAGIC_LEN + 2 * HEX_LEN + 4 ||
	    memcmp(b.s, SNAP_MAGIC, SNAP_MAGIC_LEN) ||
	    memcmp(b.s + SNAP_MAGIC_LEN, base, HEX_LEN))
		goto out;
	hash_buf(b.s, b.len - HEX_LEN, check);
	if (memcmp(b.s + b.len - HEX_LEN, check, HEX_LEN))
		goto out;

	r.p = (const unsigned char *)b.s + SNAP_MAGIC_LEN + HEX_LEN;
	r.end = (const unsigned char *)b.s + b.len - HEX_LEN;
	r.bad = 0;
	l = lock_new();
	memcpy(l->base, base, HASH_HEX);
	n = bin_get_count(&r, 8);
	for (size_t i = 0; i < n && !r.bad; i++) {
		struct lock_stage *s = get_stage(&r);

		/* stages were written sorted and unique: keep it that way */
		if (r.bad || (l->n && strcmp(l->stages[l->n - 1]->name, s->name) >= 0)) {
			r.bad = 1;
			lock_stage_free(s);
			break;
		}
		lock_set(l, s);
	}
	if (r.bad || r.p != r.end) {
		lock_free(l);
		l = NULL;
	}
out:
	buf_release(&b);
	return l;
}
