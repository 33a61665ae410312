/*
 * format.c - rp.lock's YAML text: parsing it and emitting it (format in
 * format.h).
 *
 * Parsing goes through yaml/doc (libyaml's parser, with positions for
 * messages); every path is checked against the workspace path policy
 * (util/wspath.h) as it is read, so a crafted lock is refused before rp
 * acts on it. Emitting uses libyaml's emitter, one stage per document, so a
 * stage's text does not depend on its neighbours and an unchanged stage can
 * be copied from the previous rp.lock instead of emitted again.
 */
#include "lock/format.h"
#include "util/wspath.h"
#include "yaml/doc.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define LOCK_SCHEMA "rp.lock/1"

/* ---- parsing ---------------------------------------------------------- */

static int bad(struct rp_err *err, const struct node *n, const char *what)
{
	return node_fail(err, n, "%s; the lock file is written by rp: restore it from git "
			 "or delete it and run 'rp repro'", what);
}

static int parse_u64(const struct node *n, uint64_t *v, struct rp_err *err)
{
	char *end;

	if (n->kind != NODE_SCALAR)
		return bad(err, n, "expected a number");
	errno = 0;
	*v = strtoull(n->str, &end, 10);
	if (errno || end == n->str || *end)
		return bad(err, n, "expected a number");
	return 0;
}

static int parse_items(const struct node *seq, struct lock_item **arr, size_t *n,
		       int is_out, struct rp_err *err)
{
	if (seq->kind != NODE_SEQ)
		return bad(err, seq, "expected a list of {path, hash, size}");
	for (size_t i = 0; i < seq->n; i++) {
		const struct node *m = seq->items[i], *v;
		struct objinfo oi;
		int cache = 1;

		memset(&oi, 0, sizeof(oi));
		if (m->kind != NODE_MAP)
			return bad(err, m, "expected a mapping with path, hash and size");
		v = node_get(m, "path");
		if (!v || v->kind != NODE_SCALAR || !*v->str)
			return bad(err, m, "missing 'path'");
		const char *path = v->str;
		if (!wspath_is_safe(path, !is_out)) {
			char *norm = wspath_normalize(".", path);
			char *msg = norm && wspath_reserved(norm) == WSPATH_RESERVED_GIT ?
				xasprintf("path '%s' is in a '.git' (in any letter case), where "
					  "git keeps its hooks; rp will not touch it", path) :
				xasprintf("path '%s' leaves the workspace or names rp's own "
					  "'.rp'; rp will not touch it", path);

			free(norm);

			bad(err, v, msg);
			free(msg);
			return -1;
		}
		v = node_get(m, "hash");
		if (!v || v->kind != NODE_SCALAR || !hash_is_hex(v->str))
			return bad(err, v ? v : m, "'hash' must be 64 lowercase hex digits");
		memcpy(oi.hash, v->str, HASH_HEX);
		v = node_get(m, "size");
		if (v && parse_u64(v, &oi.size, err) < 0)
			return -1;
		v = node_get(m, "nfiles");
		if (v) {
			if (parse_u64(v, &oi.nfiles, err) < 0)
				return -1;
			oi.isdir = 1;
		}
		v = node_get(m, "cache");
		if (v && is_out)
			cache = !(v->kind == NODE_SCALAR && node_scalar_type(v) == SCALAR_BOOL &&
				  (v->str[0] == 'f' || v->str[0] == 'F'));
		lock_items_add(arr, n, path, &oi, cache);
	}
	return 0;
}

static int parse_stage(const struct node *name, const struct node *m,
		       struct lock_stage **out, struct rp_err *err)
{
	struct lock_stage *s;
	const struct node *v;

	if (m->kind != NODE_MAP)
		return bad(err, m, "a stage entry must be a mapping");
	s = lock_stage_new(name->str);
	v = node_get(m, "key");
	if (!v || v->kind != NODE_SCALAR || !hash_is_hex(v->str)) {
		bad(err, v ? v : m, "'key' must be 64 lowercase hex digits");
		goto fail;
	}
	memcpy(s->key, v->str, HASH_HEX);
	v = node_get(m, "cmd");
	if (v && v->kind == NODE_SCALAR) {
		lock_stage_add_cmd(s, v->str);
	} else if (v && v->kind == NODE_SEQ) {
		for (size_t i = 0; i < v->n; i++) {
			if (v->items[i]->kind != NODE_SCALAR) {
				bad(err, v->items[i], "'cmd' items must be strings");
				goto fail;
			}
			lock_stage_add_cmd(s, v->items[i]->str);
		}
	} else {
		bad(err, v ? v : m, "'cmd' must be a string or a list of strings");
		goto fail;
	}
	v = node_get(m, "wdir");
	if (v) {
		if (v->kind != NODE_SCALAR) {
			bad(err, v, "'wdir' must be a string");
			goto fail;
		}
		/* checkout --rebuild runs the commands there */
		if (!wspath_is_safe(v->str, 1)) {
			bad(err, v, "'wdir' must be a directory inside the workspace");
			goto fail;
		}
		free(s->wdir);
		s->wdir = xstrdup(v->str);
	}
	if ((v = node_get(m, "deps")) && parse_items(v, &s->deps, &s->ndeps, 0, err) < 0)
		goto fail;
	if ((v = node_get(m, "outs")) && parse_items(v, &s->outs, &s->nouts, 1, err) < 0)
		goto fail;
	v = node_get(m, "params");
	if (v) {
		struct buf val = BUF_INIT;

		if (v->kind != NODE_MAP) {
			bad(err, v, "'params' must map params files to their values");
			goto fail;
		}
		for (size_t i = 0; i < v->n; i++) {
			const struct node *f = v->items[i];

			if (f->kind != NODE_MAP) {
				bad(err, f, "expected a mapping of parameter names to values");
				buf_release(&val);
				goto fail;
			}
			/* checkout --rebuild --rev writes the params file there */
			if (!wspath_is_safe(v->keys[i]->str, 0)) {
				bad(err, v->keys[i], "a params file must be inside the workspace");
				buf_release(&val);
				goto fail;
			}
			for (size_t j = 0; j < f->n; j++) {
				buf_reset(&val);
				node_canonical(f->items[j], &val);
				lock_stage_add_param(s, v->keys[i]->str, f->keys[j]->str, val.s);
			}
		}
		buf_release(&val);
	}
	*out = s;
	return 0;
fail:
	lock_stage_free(s);
	return -1;
}

struct lock *lock_parse_hashed(const char *name, const char *data, size_t len,
				 const char base[HASH_HEX], struct rp_err *err)
{
	struct doc *d = doc_load_buf(name, data, len, err);
	struct lock *l;
	const struct node *root, *v;

	if (!d)
		return NULL;
	l = lock_new();
	memcpy(l->base, base, HASH_HEX);
	root = d->root;
	if (!root)
		goto ok;
	if (root->kind != NODE_MAP) {
		bad(err, root, "expected a mapping with 'schema' and 'stages'");
		goto fail;
	}
	v = node_get(root, "schema");
	if (!v || v->kind != NODE_SCALAR || strcmp(v->str, LOCK_SCHEMA)) {
		bad(err, v ? v : root, "unsupported lock schema (expected 'schema: " LOCK_SCHEMA "')");
		goto fail;
	}
	v = node_get(root, "stages");
	if (v && v->kind == NODE_MAP) {
		for (size_t i = 0; i < v->n; i++) {
			struct lock_stage *s = NULL;

			if (parse_stage(v->keys[i], v->items[i], &s, err) < 0)
				goto fail;
			lock_set(l, s);
		}
	} else if (v && !(v->kind == NODE_SCALAR && node_scalar_type(v) == SCALAR_NULL)) {
		bad(err, v, "'stages' must be a mapping of stage names");
		goto fail;
	}
ok:
	doc_free(d);
	return l;
fail:
	doc_free(d);
	lock_free(l);
	return NULL;
}

struct lock *lock_parse(const char *name, const char *data, size_t len, struct rp_err *err)
{
	char base[HASH_HEX];

	hash_buf(data, len, base);
	return lock_parse_hashed(name, data, len, base, err);
}

/* ---- writing ------------------------------------------------------------ */

static int emit_handler(void *data, unsigned char *buffer, size_t size)
{
	buf_add(data, buffer, size);
	return 1;
}

static void emit(yaml_emitter_t *e, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(e, ev))
		BUG("yaml emitter: %s", e->problem ? e->problem : "unknown error");
}

static void emit_scalar(yaml_emitter_t *e, const char *s, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s),
				     style != YAML_DOUBLE_QUOTED_SCALAR_STYLE, 1, style);
	emit(e, &ev);
}

static void emit_str(yaml_emitter_t *e, const char *s)
{
	emit_scalar(e, s, YAML_ANY_SCALAR_STYLE);
}

static void emit_u64(yaml_emitter_t *e, uint64_t v)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	emit_scalar(e, tmp, YAML_PLAIN_SCALAR_STYLE);
}

static void map_start(yaml_emitter_t *e, int flow)
{
	yaml_event_t ev;

	yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
		flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
	emit(e, &ev);
}

static void map_end(yaml_emitter_t *e)
{
	yaml_event_t ev;

	yaml_mapping_end_event_initialize(&ev);
	emit(e, &ev);
}

static void seq_start(yaml_emitter_t *e, int flow)
{
	yaml_event_t ev;

	yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
		flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
	emit(e, &ev);
}

static void seq_end(yaml_emitter_t *e)
{
	yaml_event_t ev;

	yaml_sequence_end_event_initialize(&ev);
	emit(e, &ev);
}

/* Emits a canonical JSON value as YAML flow: strings double-quoted, others plain. */
static void emit_json(yaml_emitter_t *e, json_t *v)
{
	char tmp[64];
	const char *k;
	json_t *x;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		map_start(e, 1);
		json_object_foreach(v, k, x) {
			emit_scalar(e, k, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
			emit_json(e, x);
		}
		map_end(e);
		break;
	case JSON_ARRAY:
		seq_start(e, 1);
		json_array_foreach(v, i, x)
			emit_json(e, x);
		seq_end(e);
		break;
	case JSON_STRING:
		emit_scalar(e, json_string_value(v), YAML_DOUBLE_QUOTED_SCALAR_STYLE);
		break;
	case JSON_INTEGER:
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		emit_scalar(e, tmp, YAML_PLAIN_SCALAR_STYLE);
		break;
	case JSON_REAL:
		format_double(json_real_value(v), tmp, sizeof(tmp));
		emit_scalar(e, tmp, YAML_PLAIN_SCALAR_STYLE);
		break;
	case JSON_TRUE:
		emit_scalar(e, "true", YAML_PLAIN_SCALAR_STYLE);
		break;
	case JSON_FALSE:
		emit_scalar(e, "false", YAML_PLAIN_SCALAR_STYLE);
		break;
	case JSON_NULL:
		emit_scalar(e, "null", YAML_PLAIN_SCALAR_STYLE);
		break;
	}
}

static void emit_items(yaml_emitter_t *e, const char *name, const struct lock_item *it,
		       size_t n, int is_out)
{
	if (!n)
		return;
	emit_str(e, name);
	seq_start(e, 0);
	for (size_t i = 0; i < n; i++) {
		map_start(e, 0);
		emit_str(e, "path");
		emit_str(e, it[i].path);
		emit_str(e, "hash");
		emit_scalar(e, it[i].oi.hash, YAML_PLAIN_SCALAR_STYLE);
		emit_str(e, "size");
		emit_u64(e, it[i].oi.size);
		if (it[i].oi.isdir) {
			emit_str(e, "nfiles");
			emit_u64(e, it[i].oi.nfiles);
		}
		if (is_out && !it[i].cache) {
			emit_str(e, "cache");
			emit_scalar(e, "false", YAML_PLAIN_SCALAR_STYLE);
		}
		map_end(e);
	}
	seq_end(e);
}

static int cmp_param(const void *a, const void *b)
{
	const struct lock_param *x = a, *y = b;
	int c = strcmp(x->file, y->file);

	return c ? c : strcmp(x->key, y->key);
}

static void emit_params(yaml_emitter_t *e, const struct lock_stage *s)
{
	struct lock_param *p;
	size_t i;

	if (!s->nparams)
		return;
	p = xmalloc(s->nparams * sizeof(*p));
	memcpy(p, s->params, s->nparams * sizeof(*p));
	qsort(p, s->nparams, sizeof(*p), cmp_param);
	emit_str(e, "params");
	map_start(e, 0);
	for (i = 0; i < s->nparams; i++) {
		json_t *v;

		if (i == 0 || strcmp(p[i].file, p[i - 1].file)) {
			if (i)
				map_end(e);
			emit_str(e, p[i].file);
			map_start(e, 0);
		}
		emit_str(e, p[i].key);
		v = json_loads(p[i].value, JSON_DECODE_ANY, NULL);
		if (v) {
			emit_json(e, v);
			json_decref(v);
		} else {
			/* a number jansson cannot hold (an integer beyond 64 bits): keep it a number */
			emit_scalar(e, p[i].value, strspn(p[i].value, "-0123456789") == strlen(p[i].value)
				    ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
		}
	}
	map_end(e);
	map_end(e);
	free(p);
}

/* Starts a document whose top-level mapping is open, emitting into `out`. */
static void doc_begin(yaml_emitter_t *e, struct buf *out)
{
	yaml_event_t ev;

	if (!yaml_emitter_initialize(e))
		BUG("yaml_emitter_initialize failed");
	yaml_emitter_set_output(e, emit_handler, out);
	yaml_emitter_set_width(e, -1);
	yaml_emitter_set_unicode(e, 1);
	yaml_emitter_set_indent(e, 2);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	emit(e, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	emit(e, &ev);
	map_start(e, 0);
}

/* Closes the top-level mapping and the document, and frees the emitter. */
static void doc_end(yaml_emitter_t *e)
{
	yaml_event_t ev;

	map_end(e);
	yaml_document_end_event_initialize(&ev, 1);
	emit(e, &ev);
	yaml_stream_end_event_initialize(&ev);
	emit(e, &ev);
	yaml_emitter_flush(e);
	yaml_emitter_delete(e);
}

static void emit_stage(yaml_emitter_t *e, const struct lock_stage *s)
{
	emit_str(e, s->name);
	map_start(e, 0);
	emit_str(e, "key");
	emit_scalar(e, s->key, YAML_PLAIN_SCALAR_STYLE);
	emit_str(e, "cmd");
	if (s->ncmds == 1) {
		emit_str(e, s->cmds[0]);
	} else {
		seq_start(e, 0);
		for (size_t j = 0; j < s->ncmds; j++)
			emit_str(e, s->cmds[j]);
		seq_end(e);
	}
	if (strcmp(s->wdir, ".")) {
		emit_str(e, "wdir");
		emit_str(e, s->wdir);
	}
	emit_items(e, "deps", s->deps, s->ndeps, 0);
	emit_params(e, s);
	emit_items(e, "outs", s->outs, s->nouts, 1);
	map_end(e);
}

#define LOCK_HEAD "schema: " LOCK_SCHEMA "\nstages:\n"

/*
 * Appends one stage's lines as they stand under "stages:". Each stage is
 * emitted as a document of its own ("stages:" and the stage, then the first
 * line dropped), so its text does not depend on its neighbours and can be
 * copied from the previous rp.lock when the stage did not change.
 */
static void format_stage(const struct lock_stage *s, struct buf *out)
{
	struct buf one = BUF_INIT;
	yaml_emitter_t e;

	doc_begin(&e, &one);
	emit_str(&e, "stages");
	map_start(&e, 0);
	emit_stage(&e, s);
	map_end(&e);
	doc_end(&e);
	if (one.len < 8 || memcmp(one.s, "stages:\n", 8))
		BUG("yaml emitter: unexpected output for stage '%s'", s->name);
	buf_add(out, one.s + 8, one.len - 8);
	buf_release(&one);
}

void lock_format_reusing(const struct lock *l, const char *old, size_t oldlen,
			 struct buf *out, uint64_t (*ranges)[2])
{
	yaml_emitter_t e;

	if (!l->n) {
		doc_begin(&e, out);
		emit_str(&e, "schema");
		emit_str(&e, LOCK_SCHEMA);
		emit_str(&e, "stages");
		map_start(&e, 0);
		map_end(&e);
		doc_end(&e);
		return;
	}
	buf_adds(out, LOCK_HEAD);
	for (size_t i = 0; i < l->n; i++) {
		const struct lock_stage *s = l->stages[i];
		size_t start = out->len;

		if (old && s->text_len && s->text_off <= oldlen && s->text_len <= oldlen - s->text_off)
			buf_add(out, old + s->text_off, s->text_len);
		else
			format_stage(s, out);
		if (ranges) {
			ranges[i][0] = start;
			ranges[i][1] = out->len - start;
		}
	}
}

void lock_format(const struct lock *l, struct buf *out)
{
	lock_format_reusing(l, NULL, 0, out, NULL);
}
