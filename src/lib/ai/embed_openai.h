/*
 * embed_openai.h - the OpenAI embeddings protocol (POST {base}/embeddings),
 * spoken by OpenAI, Voyage, Ollama, vLLM, text-embeddings-inference,
 * llama.cpp and others.
 *
 * Request:  {"model": M, "input": [t0, t1, ...]
 *            [, "dimensions": D] [, "input_type": "document"|"query"]}
 * Response: {"data": [{"index": i, "embedding": [floats] | "base64"}, ...],
 *            "usage": {"total_tokens": N | "prompt_tokens": N}}
 * Errors:   any status, body {"error": {"message": "..."}} (or a string).
 *
 * This module only builds bodies and checks answers; http.h sends them.
 */
#ifndef RP_EMBED_OPENAI_H
#define RP_EMBED_OPENAI_H

#include <stddef.h>
#include "util/buf.h"
#include "util/error.h"

/* The endpoint for `base_url` ("https://api.openai.com/v1" -> ".../v1/embeddings"); caller frees. */
char *embed_openai_url(const char *base_url);

/*
 * Appends the request body for texts[0..n) to `out`. dims 0 and
 * input_type NULL leave those fields out. Everything is borrowed.
 */
void embed_openai_body(struct buf *out, const char *model, unsigned dims, const char *input_type,
		       const char *const *texts, size_t n);

/*
 * Checks a 200 response to a request of n inputs. *dim is the expected
 * dimension, or 0 when not known yet (it is then set from the first
 * vector). On success *out is a new array of n * *dim floats, row i holding
 * the vector whose "index" is i (the caller frees it), and usage.total_tokens
 * (else prompt_tokens) is added to *tokens. Returns 0, or -1 + err saying
 * exactly what is wrong (bad JSON, count, index, dimension, non-finite
 * number); *out is then NULL.
 */
int embed_openai_parse(const char *body, size_t len, size_t n, unsigned *dim, float **out,
		       long long *tokens, struct rp_err *err);

/*
 * A one-line description of a failed answer: the provider's
 * error.message when the body has one, else the start of the body.
 * Appended to `out`, redacted (rp_redact) before it is cut or its control
 * characters become spaces, so no part of a registered secret survives.
 */
void embed_openai_error(const char *body, size_t len, struct buf *out);

#endif
