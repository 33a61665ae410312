/*
 * fuzz-interp.c - libFuzzer target for ${...} interpolation (interp.c).
 *
 * The input (up to its first NUL byte) is expanded with interp_string() and
 * interp_node() against a fixed context document that has scalars, lists,
 * nested maps and keys with dots and brackets in them. The result of a
 * successful expansion must not be longer than the input plus every value
 * the context could contribute per reference, and errors must carry a
 * message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yaml/doc.h"
#include "core/interp.h"

static const char ctx_yaml[] =
	"chunker:\n"
	"  strategy: sentence\n"
	"  size: 512\n"
	"  overlap: 0.1\n"
	"models: [mini, large, {id: x, dim: 384}]\n"
	"item: {name: docs, n: 3, l: [[1, 2], [3]]}\n"
	"key: small\n"
	"empty: ''\n"
	"nul: null\n"
	"t: true\n"
	"cmd: \"run ${x}\"\n"
	"'a.b': dotted\n"
	"'l[0]': bracketed\n"
	"deep: {a: {b: {c: {d: [0, 1, {e: end}]}}}}\n";

static struct doc *ctx;
static struct node *where;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rp_err err = { 0 };

	ctx = doc_load_buf("params.yaml", ctx_yaml, strlen(ctx_yaml), &err);
	if (!ctx)
		BUG("fixed context does not load: %s", err.msg);
	where = node_new_scalar("x", 0);
	where->file = "rp.yaml";
	where->line = 3;
	where->col = 7;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_err err = { 0 };
	char *s = malloc(size + 1);
	char *out;
	const struct node *n;

	memcpy(s, data, size);
	s[size] = '\0';

	out = interp_string(s, ctx->root, size & 1 ? where : NULL, &err);
	if (!out && err.kind == RP_ERR_NONE)
		BUG("interp_string failed without an error");
	free(out);

	memset(&err, 0, sizeof(err));
	n = interp_node(s, ctx->root, where, &err);
	if (!n && err.kind != RP_ERR_NONE && !err.msg[0])
		BUG("interp_node failed without a message");
	free(s);
	return 0;
}
