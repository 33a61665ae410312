/*
 * file.c - rp.lock on disk: loaded through its binary image when unchanged,
 * verified by hash, written atomically (see file.h).
 *
 * The parts are: the YAML text (format.h), the journal replayed on load
 * (journal.h) and the image that lets a load skip the parse (locksnap.h).
 * l->base, the sha256 of the rp.lock bytes the lock was read from or last
 * written as, ties them together: the journal and the image are only
 * trusted when they name that base.
 */
#include "lock/file.h"
#include "util/buf.h"
#include "lock/format.h"
#include "lock/journal.h"
#include "lock/locksnap.h"
#include "util/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct lock *lock_load(const char *path, const char *journal, const char *snap,
		       struct rp_err *err)
{
	struct buf b = BUF_INIT;
	struct lock *l;
	char base[HASH_HEX];
	uint64_t verified;

	if (snap && (l = locksnap_read_unchanged(snap, path)))
		goto replay;
	verified = locksnap_clock();
	if (buf_read_file(&b, path) < 0) {
		if (errno != ENOENT) {
			rp_err_set(err, RP_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
			buf_release(&b);
			return NULL;
		}
		l = lock_new();
	} else {
		hash_buf(b.s, b.len, base);
		/* verified now: the next load need not read rp.lock */
		if (snap && (l = locksnap_read(snap, base))) {
			locksnap_touch(snap, path, verified);
		} else {
			l = lock_parse_hashed(path, b.s, b.len, base, err);
			if (l && snap)
				locksnap_write(l, snap, path, verified);
		}
	}
	buf_release(&b);
replay:
	if (l && journal)
		lock_journal_replay(l, journal);
	return l;
}

int lock_write(struct lock *l, const char *path, const char *snap, struct rp_err *err)
{
	struct buf b = BUF_INIT;
	uint64_t (*ranges)[2] = xcalloc(l->n ? l->n : 1, sizeof(*ranges));
	const char *old = NULL;
	size_t oldlen = 0;
	uint64_t written;
	int ret;

	/* the stages' text ranges point into the rp.lock whose hash is l->base */
	if (hash_is_hex(l->base) && (old = fs_map(path, &oldlen)) &&
	    !(snap && locksnap_base_holds(snap, path, l->base))) {
		char now[HASH_HEX];

		hash_buf(old, oldlen, now);
		if (strcmp(now, l->base)) {
			fs_unmap(old, oldlen);
			old = NULL;
		}
	}
	lock_format_reusing(l, old, oldlen, &b, ranges);
	fs_unmap(old, oldlen);
	written = locksnap_clock();
	ret = fs_write_atomic(path, b.s, b.len, err);
	if (!ret) {
		hash_buf(b.s, b.len, l->base);
		for (size_t i = 0; i < l->n; i++) {
			l->stages[i]->text_off = ranges[i][0];
			l->stages[i]->text_len = ranges[i][1];
		}
		if (snap)
			locksnap_write(l, snap, path, written);
	}
	free(ranges);
	buf_release(&b);
	return ret;
}
