/*
 * suggest.c - "did you mean": the closest name to a mistyped word (suggest.h).
 *
 * The distance is computed with three rows of the usual dynamic-programming
 * table (the row before the previous one is needed for swaps), so memory is
 * O(length of b). Names are short (commands, stage names), so no cut-off is
 * needed for speed.
 */
#include "util/suggest.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

size_t suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *prev2 = xcalloc(lb + 1, sizeof(*prev2));
	size_t *prev = xcalloc(lb + 1, sizeof(*prev));
	size_t *cur = xcalloc(lb + 1, sizeof(*cur));
	size_t d;

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	d = prev[lb];
	free(prev2);
	free(prev);
	free(cur);
	return d;
}

long suggest_best(const char *word, const char *const *names, size_t n)
{
	size_t wl = strlen(word), limit = wl / 3, best_d = (size_t)-1;
	long best = -1;

	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d;

		if (!names[i])
			continue;
		if (!strcmp(names[i], word))
			return -1;
		if (wl >= 2 && !strncmp(names[i], word, wl))
			d = 1;
		else
			d = suggest_distance(word, names[i]);
		if (d <= limit && d < best_d) {
			best_d = d;
			best = (long)i;
		}
	}
	return best;
}

char *suggest_take(const char *word, char **names, size_t n)
{
	long i = suggest_best(word, (const char *const *)names, n);
	char *best = i >= 0 ? names[i] : NULL;

	for (size_t k = 0; k < n; k++)
		if ((long)k != i)
			free(names[k]);
	free(names);
	return best;
}
