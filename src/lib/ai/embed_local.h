/*
 * embed_local.h - the offline embedder of provider "local": a deterministic
 * lexical model written in C, no weights and no network.
 *
 * Model "rp-lexical-v1": signed feature hashing of lowercase word unigrams,
 * word bigrams and character 3..5-grams of words, sublinear term weights
 * (1 + ln tf), L2-normalised. The same text, model and dimension always
 * give the same floats. Any change to the features or weights must get a
 * new model id, because the id is part of every embedding cache key.
 */
#ifndef RP_EMBED_LOCAL_H
#define RP_EMBED_LOCAL_H

#include <stddef.h>
#include "util/error.h"

#define EMBED_LOCAL_MODEL "rp-lexical-v1"
#define EMBED_LOCAL_DIM 384

/* 0 when `model` is a model id of the local provider, else -1 + err listing the valid ids. */
int embed_local_check_model(const char *model, struct rp_err *err);

/*
 * Writes the embedding of `len` bytes of UTF-8 `text` into out[0..dim).
 * The vector has unit length, or is all zeros for a text with no word.
 * Thread-safe (no shared state).
 */
void embed_local(const char *text, size_t len, float *out, unsigned dim);

/* Cosine similarity of two dim-vectors (dot product over the norms; 0 for a zero vector). */
double embed_cosine(const float *a, const float *b, unsigned dim);

#endif
