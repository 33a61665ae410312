/*
 * hmap.h - the one hash table: open addressing over borrowed keys.
 *
 * A key is `len` bytes at a pointer the caller keeps alive and unchanged for
 * as long as it is in the map (typically a string stored in the caller's own
 * records); the value is a size_t, usually an index into the caller's array
 * of records. The map owns only its slot array. Keys are hashed with FNV-1a
 * (64 bits), probed linearly, and the table doubles past 70% full; each slot
 * keeps 32 bits of the hash so that a probe compares bytes only on a likely
 * match. Lookups allocate nothing. There is no removal: callers that forget
 * rebuild or hmap_clear(). To visit every key (to free keys the caller
 * allocated, say), walk slots[0..mask] and skip those whose key is NULL.
 *
 *     struct hmap m;
 *     hmap_init(&m, n);
 *     for (i = 0; i < n; i++) {
 *         int found;
 *         size_t *v = hmap_put(&m, ids[i], strlen(ids[i]), &found);
 *         if (found) return dup(i, *v);
 *         *v = i;
 *     }
 *     hmap_free(&m);
 */
#ifndef RP_HMAP_H
#define RP_HMAP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct hmap_slot {
	const void *key;   /* NULL: empty */
	size_t len;
	size_t val;
	uint32_t hash;     /* low 32 bits of hmap_hash(key, len) */
};

struct hmap {
	struct hmap_slot *slots;
	size_t mask;       /* capacity - 1; capacity is a power of two */
	size_t n;          /* keys in the map */
};

/* FNV-1a, 64 bits, of `len` bytes at `p`: rp's one non-cryptographic hash. */
static inline uint64_t hmap_hash(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = 14695981039346656037ULL;  /* the FNV offset basis */

	for (size_t i = 0; i < len; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	return h;
}

/* An empty map sized to take `n` keys without growing; dies on OOM. */
void hmap_init(struct hmap *m, size_t n);
/* Frees the slot array (never the keys) and leaves the map empty and unusable until hmap_init(). */
void hmap_free(struct hmap *m);
/* Forgets every key, keeping the capacity. */
void hmap_clear(struct hmap *m);
/* The value stored for the key, or NULL when it is absent. The pointer lives until the next put. */
size_t *hmap_get(const struct hmap *m, const void *key, size_t len);
/*
 * The value slot of the key, inserted if absent (*found = 0, value 0) or the
 * one already there (*found = 1). The key is borrowed (see above). The
 * pointer lives until the next put.
 */
size_t *hmap_put(struct hmap *m, const void *key, size_t len, int *found);

/* hmap_get() of a NUL-terminated string key. */
static inline size_t *hmap_get_str(const struct hmap *m, const char *key)
{
	return hmap_get(m, key, strlen(key));
}

#endif
