/*
 * online_redis.c - the online store's Redis backend (hiredis).
 *
 * Layout, in database DB of redis://HOST:PORT/DB:
 *   "rpf:e:" + entity key text: a hash, field = feature full name,
 *       value = VERSION STATUS VALUE: VERSION is 48 hex digits, the three
 *       int64 of (as_of, newest_ts, newest_created), each as 16 lowercase hex
 *       digits of its bits with the sign bit flipped, so that comparing two
 *       versions as byte strings orders them as the triples do (FTIME_NONE
 *       first); STATUS is one digit (enum fstatus); VALUE the JSON text.
 *   "rpf:m": a hash, fields "at" and "known" (the watermark, only raised)
 *       and "defs" (a hash of the definitions), each 16 hex digits as above.
 * A write is an EVAL of a Lua script that compares the stored version with
 * the new one and sets the field only when the new one is greater: Redis
 * runs a script atomically, so the compare-and-set cannot interleave with
 * another writer. A batch's scripts are pipelined (appended, then their
 * replies read), one round trip per batch; reads are pipelined HGETs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <hiredis/hiredis.h>
#include "features/online.h"
#include "util/buf.h"

struct ostore_redis {
	struct ostore base;
	redisContext *c;
};

#define RD(s) ((struct ostore_redis *)(s))
#define VLEN 48

static const char cas_script[] =
	"local cur = redis.call('HGET', KEYS[1], ARGV[1])\n"
	"if cur and string.sub(cur, 1, 48) >= string.sub(ARGV[2], 1, 48) then return 0 end\n"
	"redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])\n"
	"return 1\n";

static const char mark_script[] =
	"for i = 1, 2 do\n"
	"  local f = ARGV[2 * i - 1]\n"
	"  local cur = redis.call('HGET', KEYS[1], f)\n"
	"  if not cur or cur < ARGV[2 * i] then redis.call('HSET', KEYS[1], f, ARGV[2 * i]) end\n"
	"end\n"
	"redis.call('HSET', KEYS[1], 'defs', ARGV[5])\n"
	"return 1\n";

static void hex64(ftime_t t, char *out)
{
	static const char hx[] = "0123456789abcdef";
	uint64_t u = (uint64_t)t ^ (UINT64_C(1) << 63);

	for (int i = 15; i >= 0; i--, u >>= 4)
		out[i] = hx[u & 15];
}

static int unhex64(const char *s, ftime_t *out)
{
	uint64_t u = 0;

	for (int i = 0; i < 16; i++) {
		int c = s[i], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		u = u << 4 | (uint64_t)d;
	}
	*out = (ftime_t)(u ^ (UINT64_C(1) << 63));
	return 0;
}

static int rd_fail(struct ostore *s, struct rp_err *err, const char *what, const redisReply *r)
{
	redisContext *c = RD(s)->c;

	if (r && r->type == REDIS_REPLY_ERROR)
		return rp_err_set(err, RP_ERR_IO, "online store '%s': cannot %s: %s", s->url, what,
				  r->str);
	return rp_err_set(err, RP_ERR_IO,
			  "online store '%s': cannot %s: %s: check that redis-server is running there",
			  s->url, what, c->err ? c->errstr : "unexpected reply");
}

static void rd_free(struct ostore *s)
{
	if (RD(s)->c)
		redisFree(RD(s)->c);
}

static void entity_key(struct buf *b, const char *key)
{
	buf_reset(b);
	buf_adds(b, "rpf:e:");
	buf_adds(b, key);
}

static int rd_put(struct ostore *s, const struct owrite *w, size_t n, size_t *written,
		  struct rp_err *err)
{
	redisContext *c = RD(s)->c;
	struct buf k, v;
	size_t done = 0, sent = 0;
	int ret = 0;

	buf_init(&k);
	buf_init(&v);
	for (size_t i = 0; i < n; i++) {
		char ver[VLEN];

		hex64(w[i].as_of, ver);
		hex64(w[i].newest_ts, ver + 16);
		hex64(w[i].newest_created, ver + 32);
		entity_key(&k, w[i].key);
		buf_reset(&v);
		buf_add(&v, ver, VLEN);
		buf_addch(&v, '0' + (int)w[i].status);
		buf_adds(&v, w[i].value ? w[i].value : "null");
		if (redisAppendCommand(c, "EVAL %s 1 %b %s %b", cas_script, k.s, k.len,
				       w[i].feature, v.s, v.len) != REDIS_OK) {
			ret = rd_fail(s, err, "write a record", NULL);
			break;
		}
		sent++;
	}
	/* read every reply sent, even after a failure, to keep the connection in step */
	for (size_t i = 0; i < sent; i++) {
		redisReply *r = NULL;

		if (redisGetReply(c, (void **)&r) != REDIS_OK) {
			ret = rd_fail(s, err, "write a record", NULL);
			break;
		}
		if (r->type == REDIS_REPLY_INTEGER)
			done += r->integer == 1;
		else if (!ret)
			ret = rd_fail(s, err, "write a record", r);
		freeReplyObject(r);
	}
	buf_release(&k);
	buf_release(&v);
	if (written)
		*written += done;
	return ret;
}

static int parse_rec(const char *str, size_t len, struct orec *o)
{
	if (len < VLEN + 1 || unhex64(str, &o->as_of) < 0 || unhex64(str + 16, &o->newest_ts) < 0 ||
	    unhex64(str + 32, &o->newest_created) < 0 || str[VLEN] < '0' || str[VLEN] > '2')
		return -1;
	o->found = 1;
	o->status = (enum fstatus)(str[VLEN] - '0');
	o->value = xmalloc(len - VLEN);
	memcpy(o->value, str + VLEN + 1, len - VLEN - 1);
	o->value[len - VLEN - 1] = '\0';
	return 0;
}

static int rd_get(struct ostore *s, const char *const *keys, const char *const *features, size_t n,
		  struct orec *out, struct rp_err *err)
{
	redisContext *c = RD(s)->c;
	struct buf k;
	size_t sent = 0;
	int ret = 0;

	buf_init(&k);
	for (size_t i = 0; i < n; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		entity_key(&k, keys[i]);
		if (redisAppendCommand(c, "HGET %b %s", k.s, k.len, features[i]) != REDIS_OK) {
			ret = rd_fail(s, err, "read a record", NULL);
			break;
		}
		sent++;
	}
	for (size_t i = 0; i < sent; i++) {
		redisReply *r = NULL;

		if (redisGetReply(c, (void **)&r) != REDIS_OK) {
			ret = rd_fail(s, err, "read a record", NULL);
			break;
		}
		if (r->type == REDIS_REPLY_STRING) {
			if (parse_rec(r->str, r->len, &out[i]) < 0 && !ret)
				ret = rp_err_set(err, RP_ERR_IO,
						 "online store '%s': the record of '%s' is not an rp-features record: "
						 "use a database of its own for the store",
						 s->url, features[i]);
		} else if (r->type != REDIS_REPLY_NIL && !ret) {
			ret = rd_fail(s, err, "read a record", r);
		}
		freeReplyObject(r);
	}
	buf_release(&k);
	return ret;
}

static int rd_mark_get(struct ostore *s, struct omark *m, struct rp_err *err)
{
	redisReply *r = redisCommand(RD(s)->c, "HMGET rpf:m at known defs");
	ftime_t *dst[2] = { &m->at, &m->known }, defs = 0;

	m->at = m->known = FTIME_NONE;
	m->defs = 0;
	if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
		rd_fail(s, err, "read its watermark", r);
		if (r)
			freeReplyObject(r);
		return -1;
	}
	for (int i = 0; i < 2; i++)
		if (r->element[i]->type == REDIS_REPLY_STRING && r->element[i]->len == 16)
			unhex64(r->element[i]->str, dst[i]);
	if (r->element[2]->type == REDIS_REPLY_STRING && r->element[2]->len == 16 &&
	    unhex64(r->element[2]->str, &defs) == 0)
		m->defs = (uint64_t)defs;
	freeReplyObject(r);
	return 0;
}

static int rd_mark_raise(struct ostore *s, const struct omark *m, struct rp_err *err)
{
	char at[17] = { 0 }, known[17] = { 0 }, defs[17] = { 0 };
	redisReply *r;
	int ret = 0;

	hex64(m->at, at);
	hex64(m->known, known);
	hex64((ftime_t)m->defs, defs);
	r = redisCommand(RD(s)->c, "EVAL %s 1 rpf:m at %s known %s %s", mark_script, at, known, defs);
	if (!r || r->type != REDIS_REPLY_INTEGER)
		ret = rd_fail(s, err, "record its watermark", r);
	if (r)
		freeReplyObject(r);
	return ret;
}

static int rd_each(struct ostore *s, int (*fn)(const char *, const char *, void *), void *arg,
		   struct rp_err *err)
{
	redisContext *c = RD(s)->c;
	char cursor[32] = "0";
	int ret = 0;

	do {
		redisReply *r = redisCommand(c, "SCAN %s MATCH rpf:e:* COUNT 1000", cursor);

		if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
			ret = rd_fail(s, err, "list its records", r);
			if (r)
				freeReplyObject(r);
			return ret;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (size_t i = 0; !ret && i < r->element[1]->elements; i++) {
			redisReply *key = r->element[1]->element[i];
			redisReply *f = redisCommand(c, "HKEYS %b", key->str, key->len);

			if (!f || f->type != REDIS_REPLY_ARRAY) {
				ret = rd_fail(s, err, "list its records", f);
			} else {
				for (size_t j = 0; !ret && j < f->elements; j++)
					ret = fn(key->str + 6, f->element[j]->str, arg);
			}
			if (f)
				freeReplyObject(f);
		}
		freeReplyObject(r);
	} while (!ret && strcmp(cursor, "0"));
	return ret;
}

static const struct ostore_ops rd_ops = {
	rd_free, rd_put, rd_get, rd_mark_get, rd_mark_raise, rd_each,
};

struct ostore *ostore_redis_open(const char *url, struct rp_err *err)
{
	const char *h = url + 8, *colon, *slash;
	char host[256];
	long port, db = 0;
	char *end;
	struct timeval tv = { 5, 0 };
	struct ostore_redis *q;
	redisReply *r;

	colon = strchr(h, ':');
	if (!colon || colon == h || (size_t)(colon - h) >= sizeof(host))
		goto bad;
	memcpy(host, h, (size_t)(colon - h));
	host[colon - h] = '\0';
	port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || port < 1 || port > 65535)
		goto bad;
	slash = end;
	if (*slash == '/' && slash[1]) {
		db = strtol(slash + 1, &end, 10);
		if (end == slash + 1 || *end || db < 0 || db > 1000000)
			goto bad;
	} else if (*slash && strcmp(slash, "/")) {
		goto bad;
	}
	q = xcalloc(1, sizeof(*q));
	q->base.ops = &rd_ops;
	q->base.redis = 1;
	q->base.url = xstrdup(url);
	q->c = redisConnectWithTimeout(host, (int)port, tv);
	if (!q->c || q->c->err) {
		rp_err_set(err, RP_ERR_IO,
			   "online store '%s': cannot connect: %s: start redis-server there or pass another --online",
			   url, q->c ? q->c->errstr : "out of memory");
		ostore_free(&q->base);
		return NULL;
	}
	redisSetTimeout(q->c, (struct timeval){ 60, 0 });
	if (db) {
		r = redisCommand(q->c, "SELECT %ld", db);
		if (!r || r->type == REDIS_REPLY_ERROR) {
			rd_fail(&q->base, err, "select its database", r);
			if (r)
				freeReplyObject(r);
			ostore_free(&q->base);
			return NULL;
		}
		freeReplyObject(r);
	}
	return &q->base;
bad:
	rp_err_set(err, RP_ERR_INPUT,
		   "online store '%s' is not a Redis URL: write redis://HOST:PORT or redis://HOST:PORT/DB",
		   url);
	return NULL;
}
