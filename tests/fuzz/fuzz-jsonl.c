/*
 * fuzz-jsonl.c - libFuzzer target for the JSON Lines reader (jsonl.c).
 *
 * The input is read with jsonl_open_mem() and jsonl_next() to the end, going
 * on past bad lines (as a reader reporting every error would); each object
 * has its "id", "text" and "doc_id" fields read with jsonl_get_str() and is
 * dumped canonically with jsonl_dump(), which must read back as one equal
 * object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/jsonl.h"

static const char *const fields[] = { "id", "text", "doc_id", "chunk_id", "" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonl_reader r;
	struct rp_err err = { 0 };
	json_t *obj;
	int rc, bad = 0;

	if (jsonl_open_mem(&r, "docs.jsonl", (const char *)data, size, &err) < 0)
		return 0;
	while ((rc = jsonl_next(&r, &obj, &err)) != 0) {
		struct buf b = BUF_INIT;
		json_t *back;

		if (rc < 0) {
			if (!err.msg[0] || ++bad > 64)
				break;
			continue;
		}
		for (size_t i = 0; i < sizeof(fields) / sizeof(*fields); i++)
			(void)jsonl_get_str(&r, obj, fields[i], &err);
		jsonl_dump(obj, &b);
		back = json_loadb(b.s, b.len - 1, JSON_REJECT_DUPLICATES, NULL);
		if (!back || !json_equal(back, obj))
			BUG("jsonl_dump does not read back: %s", b.s);
		json_decref(back);
		buf_release(&b);
		json_decref(obj);
	}
	jsonl_close(&r);
	return 0;
}
