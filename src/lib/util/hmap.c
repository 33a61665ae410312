/*
 * hmap.c - open addressing with linear probing; see hmap.h.
 *
 * Invariant: m->n <= 70% of the capacity after every put, so a probe always
 * ends at an empty slot.
 */
#include "util/hmap.h"
#include "util/error.h"

#include <stdlib.h>

static size_t capacity_for(size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	return cap;
}

void hmap_init(struct hmap *m, size_t n)
{
	size_t cap = capacity_for(n);

	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->mask = cap - 1;
	m->n = 0;
}

void hmap_free(struct hmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->mask = 0;
	m->n = 0;
}

void hmap_clear(struct hmap *m)
{
	memset(m->slots, 0, (m->mask + 1) * sizeof(*m->slots));
	m->n = 0;
}

/* The slot of the key, or the empty slot where it would go. */
static struct hmap_slot *find(const struct hmap *m, const void *key, size_t len, uint32_t h)
{
	size_t i = h & m->mask;

	for (;; i = (i + 1) & m->mask) {
		struct hmap_slot *sl = &m->slots[i];

		if (!sl->key || (sl->hash == h && sl->len == len && !memcmp(sl->key, key, len)))
			return sl;
	}
}

size_t *hmap_get(const struct hmap *m, const void *key, size_t len)
{
	struct hmap_slot *sl = find(m, key, len, (uint32_t)hmap_hash(key, len));

	return sl->key ? &sl->val : NULL;
}

static void grow(struct hmap *m)
{
	struct hmap old = *m;

	hmap_init(m, old.mask + 1);  /* twice the capacity */
	m->n = old.n;
	for (size_t i = 0; i <= old.mask; i++)
		if (old.slots[i].key)
			*find(m, old.slots[i].key, old.slots[i].len, old.slots[i].hash) = old.slots[i];
	free(old.slots);
}

size_t *hmap_put(struct hmap *m, const void *key, size_t len, int *found)
{
	uint32_t h = (uint32_t)hmap_hash(key, len);
	struct hmap_slot *sl;

	if ((m->n + 1) * 10 > (m->mask + 1) * 7)
		grow(m);
	sl = find(m, key, len, h);
	*found = sl->key != NULL;
	if (!sl->key) {
		sl->key = key;
		sl->len = len;
		sl->hash = h;
		sl->val = 0;
		m->n++;
	}
	return &sl->val;
}
