/*
 * locksnap.c - the binary image of a parsed rp.lock (format in locksnap.h).
 */
#include "lock/locksnap.h"
#include "util/bin.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/statid.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define IDENTITY_BYTES (6 * 8)
/* The identity is outside the check, so locksnap_touch() can rewrite it in place. */
#define CHECKED_FROM (SNAP_MAGIC_LEN + IDENTITY_BYTES)

/* What identifies one version of rp.lock without reading it. */
struct identity {
	struct statid st;
	uint64_t verified_ns;   /* when its bytes were known to hash to base */
};

uint64_t locksnap_clock(void)
{
	return (uint64_t)statid_now();
}

/* Fills `id` from a stat of `path`, verified at `verified_ns`; -1 if it cannot be stat'ed. */
static int identity_of(const char *path, uint64_t verified_ns, struct identity *id)
{
	struct stat sb;

	if (stat(path, &sb) < 0 || !S_ISREG(sb.st_mode))
		return -1;
	statid_of(&id->st, &sb);
	id->verified_ns = verified_ns;
	return 0;
}

#define SNAP_MAGIC "rplsnap5"
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

static void put_identity(struct buf *b, const struct identity *id)
{
	bin_put_u64(b, (uint64_t)id->st.dev);
	bin_put_u64(b, (uint64_t)id->st.ino);
	bin_put_u64(b, (uint64_t)id->st.size);
	bin_put_u64(b, (uint64_t)id->st.mtime_ns);
	bin_put_u64(b, (uint64_t)id->st.ctime_ns);
	bin_put_u64(b, id->verified_ns);
}

void locksnap_touch(const char *snap, const char *lockpath, uint64_t verified_ns)
{
	struct buf b = BUF_INIT;
	struct identity id;
	int fd;

	if (identity_of(lockpath, verified_ns, &id) < 0)
		return;
	put_identity(&b, &id);
	fd = open(snap, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		/* a torn write only makes the identity not match: a miss */
		if (pwrite(fd, b.s, b.len, SNAP_MAGIC_LEN) < 0) {
			/* a cache: the next load verifies by hash again */
		}
		close(fd);
	}
	buf_release(&b);
}

void locksnap_write(const struct lock *l, const char *snap, const char *lockpath,
		    uint64_t verified_ns)
{
	struct buf b = BUF_INIT;
	struct rp_err err = { 0 };
	struct identity id = { 0 };
	char check[HASH_HEX];

	if (!hash_is_hex(l->base))
		return;         /* not made from rp.lock bytes */
	if (identity_of(lockpath, verified_ns, &id) < 0)
		memset(&id, 0, sizeof(id));     /* never matches: only the hash path */
	buf_grow(&b, l->n * 512);       /* about what a stage takes: one allocation */
	buf_add(&b, SNAP_MAGIC, SNAP_MAGIC_LEN);
	put_identity(&b, &id);
	buf_add(&b, l->base, HEX_LEN);
	bin_put_u32(&b, (uint32_t)l->n);
	for (size_t i = 0; i < l->n; i++) {
		const struct lock_stage *s = l->stages[i];

		/* an entry that came from an image is copied from it: it never changes */
		if (l->img && s->img_len && s->img_off <= l->img_len &&
		    s->img_len <= l->img_len - s->img_off)
			buf_add(&b, l->img + s->img_off, s->img_len);
		else
			put_stage(&b, s);
	}
	/* the text ranges move whenever an earlier stage changes: kept apart */
	for (size_t i = 0; i < l->n; i++) {
		bin_put_u64(&b, l->stages[i]->text_off);
		bin_put_u64(&b, l->stages[i]->text_len);
	}
	hash_buf(b.s + CHECKED_FROM, b.len - CHECKED_FROM, check);
	buf_add(&b, check, HEX_LEN);
	(void)fs_write_replace(snap, b.s, b.len, &err);
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

/* Reads an identity from 48 bytes at `p`. */
static void get_identity(const unsigned char *p, struct identity *id)
{
	struct bin_reader r = { p, p + IDENTITY_BYTES, 0 };

	id->st.dev = (int64_t)bin_get_u64(&r);
	id->st.ino = (int64_t)bin_get_u64(&r);
	id->st.size = (int64_t)bin_get_u64(&r);
	id->st.mtime_ns = (int64_t)bin_get_u64(&r);
	id->st.ctime_ns = (int64_t)bin_get_u64(&r);
	id->verified_ns = bin_get_u64(&r);
}

/*
 * 1 when `now` (a fresh stat) is the version `was` recorded, and that
 * version had not changed for STATID_RACY_NS when its bytes were verified:
 * a later change within the same timestamp tick could otherwise keep every
 * field (the racy rule of util/statid.h).
 */
static int identity_holds(const struct identity *was, const struct identity *now)
{
	return statid_same(&was->st, &now->st) && was->st.ctime_ns == now->st.ctime_ns &&
	       !statid_racy(was->st.mtime_ns, (int64_t)was->verified_ns) &&
	       !statid_racy(was->st.ctime_ns, (int64_t)was->verified_ns);
}

int locksnap_base_holds(const char *snap, const char *lockpath, const char base[HASH_HEX])
{
	unsigned char head[CHECKED_FROM + HEX_LEN];
	struct identity was, now;
	int fd, ok = 0;

	if (identity_of(lockpath, 0, &now) < 0 || (fd = open(snap, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	if (pread(fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
	    !memcmp(head, SNAP_MAGIC, SNAP_MAGIC_LEN) &&
	    !memcmp(head + CHECKED_FROM, base, HEX_LEN)) {
		get_identity(head + SNAP_MAGIC_LEN, &was);
		ok = identity_holds(&was, &now);
	}
	close(fd);
	return ok;
}

/*
 * The image at `snap` if it is intact and either made from bytes hashing to
 * `base` or, with base NULL, recorded for the rp.lock `lockpath` that is
 * there now, untouched since its bytes were verified.
 */
static struct lock *read_image(const char *snap, const char *base, const char *lockpath)
{
	struct { const char *s; size_t len; } b = { NULL, 0 };
	struct bin_reader r;
	struct identity was, now;
	struct lock *l = NULL;
	char check[HASH_HEX];
	size_t n;

	if (!base && identity_of(lockpath, 0, &now) < 0)
		return NULL;
	if (!(b.s = fs_map(snap, &b.len)))
		goto out;
	if (b.len < CHECKED_FROM + 2 * HEX_LEN + 4 ||
	    memcmp(b.s, SNAP_MAGIC, SNAP_MAGIC_LEN) ||
	    (base && memcmp(b.s + CHECKED_FROM, base, HEX_LEN)))
		goto out;
	r.end = (const unsigned char *)b.s + b.len - HEX_LEN;
	r.bad = 0;
	get_identity((const unsigned char *)b.s + SNAP_MAGIC_LEN, &was);
	if (!base && !identity_holds(&was, &now))
		goto out;
	hash_buf(b.s + CHECKED_FROM, b.len - HEX_LEN - CHECKED_FROM, check);
	if (memcmp(b.s + b.len - HEX_LEN, check, HEX_LEN))
		goto out;
	r.p = (const unsigned char *)b.s + CHECKED_FROM + HEX_LEN;

	l = lock_new();
	memcpy(l->base, b.s + CHECKED_FROM, HEX_LEN);
	l->base[HEX_LEN] = '\0';
	n = bin_get_count(&r, 8 + 16);
	for (size_t i = 0; i < n && !r.bad; i++) {
		const unsigned char *start = r.p;
		struct lock_stage *s = get_stage(&r);

		/* stages were written sorted and unique: keep it that way */
		if (r.bad || (l->n && strcmp(l->stages[l->n - 1]->name, s->name) >= 0)) {
			r.bad = 1;
			lock_stage_free(s);
			break;
		}
		s->img_off = (uint64_t)(start - (const unsigned char *)b.s);
		s->img_len = (uint64_t)(r.p - start);
		lock_set(l, s);
	}
	for (size_t i = 0; i < l->n && !r.bad; i++) {
		l->stages[i]->text_off = bin_get_u64(&r);
		l->stages[i]->text_len = bin_get_u64(&r);
	}
	if (r.bad || r.p != r.end || l->n != n) {
		lock_free(l);
		l = NULL;
	} else {
		/* kept mapped: the next image copies unchanged entries from it */
		l->img = b.s;
		l->img_len = b.len;
		b.s = NULL;
	}
out:
	fs_unmap(b.s, b.len);
	return l;
}

struct lock *locksnap_read(const char *snap, const char base[HASH_HEX])
{
	return read_image(snap, base, NULL);
}

struct lock *locksnap_read_unchanged(const char *snap, const char *lockpath)
{
	return read_image(snap, NULL, lockpath);
}
