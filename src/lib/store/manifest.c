/*
 * manifest.c - directory manifests: their text, strict parsing and reading
 * from the store (format and rules at the top of store.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "store/store.h"
#include "store/internal.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/wspath.h"
#include "store/state.h"

#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* ---- manifests ---------------------------------------------------------- */

void store_manifest_text(const struct tree *t, struct buf *b)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		buf_addf(b, "%s %llu %03o %s\n", t->v[i].hex,
			 (unsigned long long)t->v[i].st.st_size,
			 store_norm_mode(t->v[i].st.st_mode), t->v[i].rel);
}

/* Whether an earlier entry of m (sorted) is a directory of `rel`: "a" and "a/b". */
static int under_file(const struct manifest *m, const char *rel)
{
	for (const char *slash = strchr(rel, '/'); slash; slash = strchr(slash + 1, '/')) {
		size_t lo = 0, hi = m->n, plen = (size_t)(slash - rel);

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strncmp(m->v[mid].rel, rel, plen);

			if (!c && m->v[mid].rel[plen])
				c = 1;
			if (!c)
				return 1;
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	return 0;
}

/*
 * Parses manifest text into m, refusing anything but the exact form
 * store_manifest_text() writes (see the header). -1 + err naming the line.
 */
static int manifest_parse(const char *text, size_t len, const char *hex,
			  struct manifest *m, struct rp_err *err)
{
	const char *p = text, *end = text + len, *why = "expected '<sha256> <size> <mode> <path>'";
	size_t line = 0;

	if (memchr(text, '\0', len))
		return rp_err_set(err, RP_ERR_IO, "manifest %s contains a NUL byte", hex);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		struct mentry e;
		const char *q, *digits;
		unsigned long long size = 0;

		line++;
		why = "expected '<sha256> <size> <mode> <path>'";
		if (!nl || nl - p < HASH_HEX + 6 || p[HASH_HEX - 1] != ' ')
			goto bad;
		memcpy(e.hex, p, HASH_HEX - 1);
		e.hex[HASH_HEX - 1] = '\0';
		if (!hash_is_hex(e.hex))
			goto bad;
		q = digits = p + HASH_HEX;
		while (q < nl && *q >= '0' && *q <= '9') {
			if (size > (UINT64_MAX - (unsigned)(*q - '0')) / 10) {
				why = "the size is out of range";
				goto bad;
			}
			size = size * 10 + (unsigned)(*q++ - '0');
		}
		if (q == digits || *q != ' ' || (*digits == '0' && q - digits > 1))
			goto bad;
		q++;
		if (nl - q < 5 || q[3] != ' ') {
			why = "the mode must be 644, 755, 600 or 700";
			goto bad;
		}
		if (!strncmp(q, "644", 3))
			e.mode = 0644;
		else if (!strncmp(q, "755", 3))
			e.mode = 0755;
		else if (!strncmp(q, "600", 3))
			e.mode = 0600;
		else if (!strncmp(q, "700", 3))
			e.mode = 0700;
		else {
			why = "the mode must be 644, 755, 600 or 700";
			goto bad;
		}
		q += 4;
		e.size = size;
		e.rel = xstrndup(q, (size_t)(nl - q));
		if (!wspath_rel_is_safe(e.rel)) {
			why = "the path is not a plain relative path inside the directory, or "
			      "names a '.git' or '.rp'";
			free(e.rel);
			goto bad;
		}
		if ((m->n && strcmp(m->v[m->n - 1].rel, e.rel) >= 0) || under_file(m, e.rel)) {
			why = "paths must be sorted, each once, and none inside another";
			free(e.rel);
			goto bad;
		}
		ALLOC_GROW(m->v, m->n + 1, m->alloc);
		m->v[m->n++] = e;
		p = nl + 1;
	}
	return 0;
bad:
	store_manifest_release(m);
	return rp_err_set(err, RP_ERR_IO,
			  "manifest %s is malformed at line %zu (%s); run 'rp cache verify --repair', then 'rp repro' or 'rp checkout --rebuild' to make it again",
			  hex, line, why);
}

/* Reads (and with `verify`, checks the bytes of) the manifest `hex` into m. */
int store_read_manifest(const struct store *st, const char *hex, const char *path,
			int verify, struct manifest *m, struct rp_err *err)
{
	char *obj = store_object_path(st, hex);
	struct buf b = BUF_INIT;
	int ret = -1;

	if (buf_read_file(&b, obj) < 0) {
		if (errno == ENOENT)
			store_missing_err(err, hex, path);
		else
			rp_err_set(err, RP_ERR_IO, "cannot read '%s': %s", obj, strerror(errno));
		goto out;
	}
	if (verify) {
		char actual[HASH_HEX];

		hash_buf(b.s, b.len, actual);
		if (strcmp(actual, hex)) {
			store_corrupt_err(err, hex, path, actual);
			goto out;
		}
	}
	ret = manifest_parse(b.s, b.len, hex, m, err);
out:
	buf_release(&b);
	free(obj);
	return ret;
}

int store_manifest_each(const struct store *st, const char *dirhash,
			int (*fn)(const char *hex, void *ctx), void *ctx, struct rp_err *err)
{
	struct manifest m = { 0 };
	size_t i;
	int ret = 0;

	if (!hash_is_hex(dirhash))
		return rp_err_set(err, RP_ERR_IO, "'%s' is not a sha256 hex digest", dirhash);
	if (store_read_manifest(st, dirhash, NULL, 1, &m, err) < 0)
		return -1;
	for (i = 0; i < m.n; i++) {
		int r = fn(m.v[i].hex, ctx);

		if (r < 0) {
			ret = rp_err_set(err, RP_ERR_IO, "stopped at object %s of manifest %s",
					 m.v[i].hex, dirhash);
			break;
		}
		if (r > 0)
			break;
	}
	store_manifest_release(&m);
	return ret;
}

int store_has_err(const struct store *st, const struct objinfo *oi, struct rp_err *err)
{
	struct manifest m = { 0 };
	size_t i;
	int ret = 1;

	if (!hash_is_hex(oi->hash) || !store_object_exists(st, oi->hash))
		return 0;
	if (!oi->isdir)
		return 1;
	if (store_read_manifest(st, oi->hash, NULL, 0, &m, err) < 0)
		return -1;
	for (i = 0; i < m.n && ret; i++)
		ret = store_object_exists(st, m.v[i].hex);
	store_manifest_release(&m);
	return ret;
}

int store_has(const struct store *st, const struct objinfo *oi)
{
	return store_has_err(st, oi, NULL) > 0;
}

