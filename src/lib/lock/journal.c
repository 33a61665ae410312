/*
 * journal.c - the JSON forms of lock entries: .rp/lock.journal and
 * run-cache entries (see journal.h).
 *
 * Both go through jansson. The journal is append-only: a header line naming
 * the rp.lock it extends, then one line per finished stage, each written
 * with one write(2), so a kill leaves at most a torn last line, which
 * replay ignores. Paths read back are checked against the workspace path
 * policy (util/wspath.h) like those of rp.lock itself.
 */
#include "lock/journal.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/jsonl.h"
#include "util/wspath.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *items_to_json(const struct lock_item *it, size_t n, int is_out)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "path", json_string(it[i].path));
		json_object_set_new(o, "hash", json_string(it[i].oi.hash));
		json_object_set_new(o, "size", json_integer((json_int_t)it[i].oi.size));
		if (it[i].oi.isdir)
			json_object_set_new(o, "nfiles", json_integer((json_int_t)it[i].oi.nfiles));
		if (is_out && !it[i].cache)
			json_object_set_new(o, "cache", json_false());
		json_array_append_new(a, o);
	}
	return a;
}

static int items_from_json(json_t *a, struct lock_item **arr, size_t *n)
{
	size_t i;
	json_t *o;

	if (!json_is_array(a))
		return -1;
	json_array_foreach(a, i, o) {
		struct objinfo oi;
		const char *path = json_string_value(json_object_get(o, "path"));
		const char *hash = json_string_value(json_object_get(o, "hash"));
		json_t *nf = json_object_get(o, "nfiles");

		if (!path || !hash || !hash_is_hex(hash) || !wspath_is_safe(path, 1))
			return -1;
		memset(&oi, 0, sizeof(oi));
		memcpy(oi.hash, hash, HASH_HEX);
		oi.size = (uint64_t)json_integer_value(json_object_get(o, "size"));
		if (nf) {
			oi.isdir = 1;
			oi.nfiles = (uint64_t)json_integer_value(nf);
		}
		lock_items_add(arr, n, path, &oi, !json_is_false(json_object_get(o, "cache")));
	}
	return 0;
}

static json_t *stage_to_json(const struct lock_stage *s)
{
	json_t *o = json_object(), *a;
	size_t i;

	json_object_set_new(o, "name", json_string(s->name));
	json_object_set_new(o, "key", json_string(s->key));
	a = json_array();
	for (i = 0; i < s->ncmds; i++)
		json_array_append_new(a, json_string(s->cmds[i]));
	json_object_set_new(o, "cmd", a);
	json_object_set_new(o, "wdir", json_string(s->wdir));
	json_object_set_new(o, "deps", items_to_json(s->deps, s->ndeps, 0));
	a = json_array();
	for (i = 0; i < s->nparams; i++)
		json_array_append_new(a, json_pack("{s:s,s:s,s:s}", "file", s->params[i].file,
						   "key", s->params[i].key, "value", s->params[i].value));
	json_object_set_new(o, "params", a);
	json_object_set_new(o, "outs", items_to_json(s->outs, s->nouts, 1));
	return o;
}

static struct lock_stage *stage_from_json(json_t *o)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const char *key = json_string_value(json_object_get(o, "key"));
	const char *wdir = json_string_value(json_object_get(o, "wdir"));
	struct lock_stage *s;
	json_t *a, *v;
	size_t i;

	if (!name || !key || !hash_is_hex(key) || !wdir)
		return NULL;
	s = lock_stage_new(name);
	memcpy(s->key, key, HASH_HEX);
	free(s->wdir);
	s->wdir = xstrdup(wdir);
	a = json_object_get(o, "cmd");
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			goto fail;
		lock_stage_add_cmd(s, json_string_value(v));
	}
	if (items_from_json(json_object_get(o, "deps"), &s->deps, &s->ndeps) < 0 ||
	    items_from_json(json_object_get(o, "outs"), &s->outs, &s->nouts) < 0)
		goto fail;
	a = json_object_get(o, "params");
	json_array_foreach(a, i, v) {
		const char *f = json_string_value(json_object_get(v, "file"));
		const char *k = json_string_value(json_object_get(v, "key"));
		const char *val = json_string_value(json_object_get(v, "value"));

		if (!f || !k || !val)
			goto fail;
		lock_stage_add_param(s, f, k, val);
	}
	return s;
fail:
	lock_stage_free(s);
	return NULL;
}

char *lock_outs_to_json(const struct lock_stage *s)
{
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, "outs", items_to_json(s->outs, s->nouts, 1));
	text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		BUG("json_dumps failed");
	char *copy = xstrdup(text);
	free(text);
	return copy;
}

int lock_outs_from_json(struct lock_stage *s, const char *text)
{
	json_t *o = json_loads(text, 0, NULL);
	struct lock_item *items = NULL;
	size_t n = 0;
	int ret = -1;

	if (!o)
		return -1;
	if (items_from_json(json_object_get(o, "outs"), &items, &n) == 0) {
		lock_items_free(s->outs, s->nouts);
		s->outs = items;
		s->nouts = n;
		items = NULL;
		n = 0;
		ret = 0;
	}
	lock_items_free(items, n);
	json_decref(o);
	return ret;
}

int lock_journal_start(const struct lock *l, const char *journal, struct rp_err *err)
{
	struct buf b = BUF_INIT;
	int ret;

	buf_addf(&b, "{\"base\":\"%s\"}\n", l->base);
	ret = fs_write_atomic(journal, b.s, b.len, err);
	buf_release(&b);
	return ret;
}

int lock_journal_append(const char *journal, const struct lock_stage *s, struct rp_err *err)
{
	json_t *o = stage_to_json(s);
	int fd, ret = 0;
	struct buf b = BUF_INIT;

	jsonl_dump(o, &b);
	json_decref(o);
	fd = open(journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = rp_err_set(err, RP_ERR_IO, "cannot open '%s': %s", journal, strerror(errno));
		goto out;
	}
	if (fs_write_all(fd, b.s, b.len) < 0)
		ret = rp_err_set(err, RP_ERR_IO, "cannot append to '%s': %s", journal,
				 strerror(errno));
	if (close(fd) < 0 && !ret)
		ret = rp_err_set(err, RP_ERR_IO, "cannot close '%s': %s", journal, strerror(errno));
out:
	buf_release(&b);
	return ret;
}

void lock_journal_replay(struct lock *l, const char *journal)
{
	struct buf b = BUF_INIT;
	char *line, *next;
	int first = 1;

	if (buf_read_file(&b, journal) < 0)
		goto out;
	for (line = b.s; line && *line; line = next) {
		json_t *o;

		next = strchr(line, '\n');
		if (!next)
			break;        /* a torn last line: the stage did not finish writing */
		*next++ = '\0';
		o = json_loads(line, 0, NULL);
		if (!o)
			break;
		if (first) {
			const char *base = json_string_value(json_object_get(o, "base"));

			first = 0;
			if (!base || strcmp(base, l->base)) {
				json_decref(o);
				break;        /* written for another rp.lock: stale */
			}
		} else {
			struct lock_stage *s = stage_from_json(o);

			if (s) {
				lock_set(l, s);
				l->replayed++;
			}
		}
		json_decref(o);
	}
out:
	buf_release(&b);
}
