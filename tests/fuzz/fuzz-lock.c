/*
 * fuzz-lock.c - libFuzzer target for the rp.lock parser (lock_parse).
 *
 * The input is parsed as an rp.lock from memory. When it parses, the lock is
 * formatted (lock_format), the text parsed again and formatted again: the two
 * texts must be equal, since lock_format() is what rp.lock is written with
 * and a lock that rp wrote must read back as the same lock. The run-cache
 * JSON of each stage's outs is round-tripped the same way, and so is the
 * binary image of the lock (locksnap.h), through a file.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lock/lock.h"
#include "lock/locksnap.h"

#include <stdio.h>
#include <unistd.h>

/* The image written and read back gives the lock formatted as `want`. */
static void check_image(const struct lock *l, const struct buf *want)
{
	char snap[64], lockpath[64];
	struct buf got = BUF_INIT;
	struct lock *back;

	snprintf(snap, sizeof(snap), "/tmp/fuzz-lock-%ld.snap", (long)getpid());
	snprintf(lockpath, sizeof(lockpath), "/tmp/fuzz-lock-%ld.none", (long)getpid());
	locksnap_write(l, snap, lockpath, locksnap_clock());
	back = locksnap_read(snap, l->base);
	unlink(snap);
	if (!back)
		BUG("the image of a parsed lock does not read back");
	lock_format(back, &got);
	if (got.len != want->len || memcmp(got.s, want->s, got.len))
		BUG("the image changed the lock:\n%s---\n%s", want->s, got.s);
	buf_release(&got);
	lock_free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_err err = { 0 };
	struct lock *l, *l2;
	struct buf a = BUF_INIT, b = BUF_INIT;

	l = lock_parse("rp.lock", (const char *)data, size, &err);
	if (!l)
		return 0;
	lock_format(l, &a);
	l2 = lock_parse("rp.lock", a.s ? a.s : "", a.len, &err);
	if (!l2)
		BUG("a formatted lock does not parse: %s\n%s", err.msg, a.s);
	lock_format(l2, &b);
	if (a.len != b.len || memcmp(a.s, b.s, a.len))
		BUG("lock_format is not stable:\n%s---\n%s", a.s, b.s);
	check_image(l, &a);
	for (size_t i = 0; i < l->n; i++) {
		char *json = lock_outs_to_json(l->stages[i]);
		struct lock_stage *s = lock_stage_new(l->stages[i]->name);

		if (lock_outs_from_json(s, json) < 0)
			BUG("run-cache outs do not parse back: %s", json);
		if (s->nouts != l->stages[i]->nouts)
			BUG("run-cache outs: %zu outs became %zu", l->stages[i]->nouts, s->nouts);
		lock_stage_free(s);
		free(json);
	}
	buf_release(&a);
	buf_release(&b);
	lock_free(l2);
	lock_free(l);
	return 0;
}
