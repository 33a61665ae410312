/*
 * embed_openai.c - request bodies and response checks of the OpenAI
 * embeddings protocol (see embed_openai.h), with jansson.
 *
 * A response is accepted only when it is a JSON object whose "data" array
 * has exactly one item per input, each item's "index" is an integer in
 * 0..n-1 seen once, each "embedding" is an array of finite numbers (or the
 * base64 of little-endian float32, as encoding_format=base64 returns) of
 * the one dimension of the run. Anything else is an error that names the
 * item, so a half-broken server can never put a wrong vector in the cache.
 */
#include "ai/embed_openai.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <openssl/evp.h>

char *embed_openai_url(const char *base_url)
{
	size_t l = strlen(base_url);

	while (l && base_url[l - 1] == '/')
		l--;
	if (l >= 11 && !strncmp(base_url + l - 11, "/embeddings", 11))
		return xstrndup(base_url, l);
	return xasprintf("%.*s/embeddings", (int)l, base_url);
}

void embed_openai_body(struct buf *out, const char *model, unsigned dims, const char *input_type,
		       const char *const *texts, size_t n)
{
	json_t *o = json_object(), *in = json_array();
	char *s;

	for (size_t i = 0; i < n; i++)
		json_array_append_new(in, json_stringn(texts[i], strlen(texts[i])));
	json_object_set_new(o, "model", json_string(model));
	json_object_set_new(o, "input", in);
	if (dims)
		json_object_set_new(o, "dimensions", json_integer(dims));
	if (input_type)
		json_object_set_new(o, "input_type", json_string(input_type));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		BUG("json_dumps failed (invalid UTF-8 in a text?)");
	buf_adds(out, s);
	free(s);
	json_decref(o);
}

/* Decodes base64 float32 data; returns the number of floats, or -1. */
static long decode_b64(const char *s, float **out)
{
	size_t l = strlen(s), pad = 0;
	unsigned char *raw;
	int got;

	if (!l || l % 4)
		return -1;
	if (s[l - 1] == '=')
		pad++;
	if (l > 1 && s[l - 2] == '=')
		pad++;
	raw = xmalloc(l / 4 * 3 + 1);
	got = EVP_DecodeBlock(raw, (const unsigned char *)s, (int)l);
	if (got < 0 || (size_t)got < pad || (got - pad) % 4) {
		free(raw);
		return -1;
	}
	got -= (int)pad;
	*out = xmalloc((size_t)got + sizeof(float));
	for (int i = 0; i < got / 4; i++) {
		uint32_t u = (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
			     (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;

		memcpy(&(*out)[i], &u, 4);
	}
	free(raw);
	return got / 4;
}

/*
 * Checks data[k]'s "index" against the n inputs and the indexes seen so far,
 * and marks it seen. Returns the index, or -1 + err.
 */
static long long item_index(json_t *item, size_t k, size_t n, unsigned char *seen,
			    struct rp_err *err)
{
	json_t *idx = json_object_get(item, "index");
	json_int_t i;

	if (!json_is_integer(idx)) {
		rp_err_set(err, RP_ERR_IO, "data[%zu] of the response has no integer \"index\"", k);
		return -1;
	}
	i = json_integer_value(idx);
	if (i < 0 || (size_t)i >= n || seen[i]) {
		rp_err_set(err, RP_ERR_IO, "data[%zu] of the response has index %lld, %s", k,
			   (long long)i, i < 0 || (size_t)i >= n ? "out of range" : "seen twice");
		return -1;
	}
	seen[i] = 1;
	return i;
}

/*
 * Sets *d to the number of numbers in data[k]'s "embedding" `emb`: an
 * array's size, or for a base64 string the number of floats it decodes to,
 * which *floats then holds (the caller frees it; NULL for an array).
 * Returns 0, or -1 + err (*floats NULL).
 */
static int item_length(json_t *emb, size_t k, float **floats, size_t *d, struct rp_err *err)
{
	*floats = NULL;
	if (json_is_array(emb)) {
		*d = json_array_size(emb);
	} else if (json_is_string(emb)) {
		long m = decode_b64(json_string_value(emb), floats);

		if (m < 0) {
			rp_err_set(err, RP_ERR_IO, "data[%zu] of the response: \"embedding\" is a string "
				   "but not base64 float32 data", k);
			return -1;
		}
		*d = (size_t)m;
	} else {
		rp_err_set(err, RP_ERR_IO, "data[%zu] of the response has no \"embedding\" array", k);
		return -1;
	}
	return 0;
}

/*
 * Checks that data[k]'s d numbers make a vector of dimension *dim; when
 * *dim is 0 (not known yet), d becomes it if it is a plausible dimension.
 * Returns 0, or -1 + err.
 */
static int check_dim(size_t k, size_t d, unsigned *dim, struct rp_err *err)
{
	if (!*dim) {
		if (!d || d > 65536) {
			rp_err_set(err, RP_ERR_IO, "data[%zu] of the response has an embedding of %zu numbers",
				   k, d);
			return -1;
		}
		*dim = (unsigned)d;
	}
	if (d != *dim) {
		rp_err_set(err, RP_ERR_IO, "data[%zu] of the response has %zu dimensions, expected %u "
			   "(every vector of a model must have the same dimension)", k, d, *dim);
		return -1;
	}
	return 0;
}

/*
 * Stores data[k]'s d numbers in row[0..d): from `floats` when the embedding
 * was base64, else from the array `emb`, whose every item must be a number.
 * Each must be a finite float32. Returns 0, or -1 + err.
 */
static int store_row(json_t *emb, const float *floats, size_t k, size_t d, float *row,
		     struct rp_err *err)
{
	for (size_t j = 0; j < d; j++) {
		float f;

		if (floats) {
			f = floats[j];
		} else {
			json_t *v = json_array_get(emb, j);

			if (!json_is_number(v)) {
				rp_err_set(err, RP_ERR_IO, "data[%zu].embedding[%zu] of the response is not a number",
					   k, j);
				return -1;
			}
			f = (float)json_number_value(v);
		}
		if (!isfinite(f)) {
			rp_err_set(err, RP_ERR_IO, "data[%zu].embedding[%zu] of the response is not a finite "
				   "float32", k, j);
			return -1;
		}
		row[j] = f;
	}
	return 0;
}

/*
 * Checks data[k] of a response to n inputs and stores its vector in the
 * row of *vecs that its "index" names; *vecs (n rows of *dim floats, owned
 * by the caller) is allocated at the first vector. Returns 0, or -1 + err.
 */
static int parse_item(json_t *item, size_t k, size_t n, unsigned char *seen, unsigned *dim,
		      float **vecs, struct rp_err *err)
{
	json_t *emb = json_object_get(item, "embedding");
	float *floats = NULL;
	long long i;
	size_t d;
	int ret = -1;

	i = item_index(item, k, n, seen, err);
	if (i < 0 || item_length(emb, k, &floats, &d, err) < 0)
		return -1;
	if (check_dim(k, d, dim, err) < 0)
		goto out;
	if (!*vecs)
		*vecs = xmalloc(n * (size_t)*dim * sizeof(float));
	ret = store_row(emb, floats, k, d, *vecs + (size_t)i * *dim, err);
out:
	free(floats);
	return ret;
}

/* Adds the response's usage.total_tokens (else prompt_tokens) to *tokens when it is above 0. */
static void add_usage(json_t *root, long long *tokens)
{
	json_t *usage = json_object_get(root, "usage"), *t;

	if (!json_is_object(usage))
		return;
	t = json_object_get(usage, "total_tokens");
	if (!json_is_integer(t))
		t = json_object_get(usage, "prompt_tokens");
	if (json_is_integer(t) && json_integer_value(t) > 0)
		*tokens += json_integer_value(t);
}

int embed_openai_parse(const char *body, size_t len, size_t n, unsigned *dim, float **out,
		       long long *tokens, struct rp_err *err)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, 0, &je), *data, *item;
	unsigned char *seen = NULL;
	float *vecs = NULL;
	size_t k;
	int ret = -1;

	*out = NULL;
	if (!root) {
		rp_err_set(err, RP_ERR_IO, "the response is not valid JSON (%s at line %d, column %d)",
			   je.text, je.line, je.column);
		return -1;
	}
	data = json_object_get(root, "data");
	if (!json_is_array(data)) {
		rp_err_set(err, RP_ERR_IO, "the response has no \"data\" array");
		goto out;
	}
	if (json_array_size(data) != n) {
		rp_err_set(err, RP_ERR_IO, "the response has %zu embeddings for %zu inputs",
			   json_array_size(data), n);
		goto out;
	}
	seen = xcalloc(n ? n : 1, 1);
	json_array_foreach(data, k, item) {
		if (parse_item(item, k, n, seen, dim, &vecs, err) < 0)
			goto out;
	}
	add_usage(root, tokens);
	if (!vecs && n)
		BUG("no vectors after a checked response");
	*out = vecs;
	vecs = NULL;
	ret = 0;
out:
	free(vecs);
	free(seen);
	json_decref(root);
	return ret;
}

/* Bytes beyond a shown prefix that are redacted with it, so that no secret crossing the cut survives. */
#define REDACT_SLACK 4096

void embed_openai_error(const char *body, size_t len, struct buf *out)
{
	json_t *root = len ? json_loadb(body, len, 0, NULL) : NULL;
	const char *msg = NULL;
	char *clean;

	if (json_is_object(root)) {
		json_t *e = json_object_get(root, "error");

		if (json_is_object(e))
			msg = json_string_value(json_object_get(e, "message"));
		else if (json_is_string(e))
			msg = json_string_value(e);
		if (!msg)
			msg = json_string_value(json_object_get(root, "detail"));
		if (!msg)
			msg = json_string_value(json_object_get(root, "message"));
	}
	/* redaction first: a cut or a rewritten byte must not split a secret */
	if (msg) {
		size_t ml = strlen(msg);

		clean = rp_redact(msg, ml < 500 + REDACT_SLACK ? ml : 500 + REDACT_SLACK);
		for (const char *p = clean; *p && p - clean < 500; p++)
			buf_addch(out, (unsigned char)*p < 32 ? ' ' : *p);
		free(clean);
	} else if (!len) {
		buf_adds(out, "(empty body)");
	} else {
		size_t i, cl;

		clean = rp_redact(body, len < 200 + REDACT_SLACK ? len : 200 + REDACT_SLACK);
		cl = strlen(clean);
		buf_adds(out, "body: ");
		for (i = 0; i < cl && i < 200; i++)
			buf_addch(out, (unsigned char)clean[i] < 32 ? ' ' : clean[i]);
		if (i < cl || len > 200 + REDACT_SLACK)
			buf_adds(out, "...");
		free(clean);
	}
	json_decref(root);
}
