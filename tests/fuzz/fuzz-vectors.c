/*
 * fuzz-vectors.c - libFuzzer target for the vectors-file reader (rpv_decode).
 *
 * Each input is decoded twice: as it is, and with its last 32 bytes replaced
 * by the SHA-256 of the rest, so that mutations get past the trailer check
 * and reach the record checks. A file that decodes must encode back to the
 * very same bytes (vectors.h: the same chunks and vectors always give the
 * same bytes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "util/buf.h"
#include "ai/vectors.h"

static void decode(const uint8_t *data, size_t size)
{
	struct rp_err err = { 0 };
	struct rpv v;
	struct buf b = BUF_INIT;

	if (rpv_decode(&v, data, size, "vectors.rpv", &err) < 0) {
		if (err.kind != RP_ERR_INPUT || !err.msg[0])
			BUG("rpv_decode failed without an input error");
		rpv_release(&v);
		return;
	}
	if (rpv_encode(&v, &b, &err) < 0)
		BUG("a decoded file does not encode: %s", err.msg);
	if (b.len != size || memcmp(b.s, data, size))
		BUG("decode/encode round trip changed %zu bytes into %zu", size, b.len);
	buf_release(&b);
	rpv_release(&v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;

	decode(data, size);
	if (size < 32)
		return 0;
	fixed = malloc(size);
	memcpy(fixed, data, size);
	SHA256(fixed, size - 32, fixed + size - 32);
	decode(fixed, size);
	free(fixed);
	return 0;
}
