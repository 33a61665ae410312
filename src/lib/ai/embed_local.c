/*
 * embed_local.c - the "rp-lexical-v1" embedder (see embed_local.h).
 *
 * Words are maximal runs of ASCII letters and digits and of non-ASCII bytes
 * (so UTF-8 letters stay inside words); ASCII is lowercased. Each text gives
 * three kinds of features:
 *     unigram  "u" word                       weight 1.0
 *     bigram   "b" word1 0x1f word2           weight 0.7
 *     char     "c" n-gram of "<word>", n=3..5 weight 0.25 (code points, not
 *              bytes; only the first 64 code points of a word)
 * Unigrams and character n-grams of a short English stop-word list are
 * skipped, as are bigrams of two stop words, so that texts do not look alike
 * merely for sharing "of the".
 *
 * Feature counts are gathered in an open-addressing table keyed by the
 * feature's 64-bit hash (FNV-1a over the kind byte and the bytes, finished
 * with the splitmix64 mixer). Each feature then adds
 *     sign * weight * (1 + ln tf)
 * to component (h mod 2^32) mod dim, with sign + when bit 63 of h is 0.
 * The sum is L2-normalised. Features are added in the order of their first
 * appearance, so the floating-point sums, hence the bytes, are the same on
 * every run.
 */
#include "ai/embed_local.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define W_UNI 1.0
#define W_BI 0.7
#define W_CHAR 0.25
#define MAX_WORD_CP 64

static const char *const stopwords[] = {
	"a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be",
	"been", "but", "by", "can", "could", "did", "do", "does", "for", "from", "had", "has",
	"have", "he", "her", "his", "how", "i", "if", "in", "into", "is", "it", "its", "may",
	"more", "most", "no", "not", "of", "on", "one", "only", "or", "other", "our", "she",
	"so", "some", "such", "than", "that", "the", "their", "them", "then", "there", "these",
	"they", "this", "those", "to", "too", "up", "us", "was", "we", "were", "what", "when",
	"where", "which", "while", "who", "will", "with", "would", "you", "your",
};

int embed_local_check_model(const char *model, struct rp_err *err)
{
	if (model && !strcmp(model, EMBED_LOCAL_MODEL))
		return 0;
	return rp_err_set(err, RP_ERR_INPUT,
			  "unknown model '%s' for provider 'local' (valid: '%s'); use --model %s, "
			  "or --provider openai for a server's models", model ? model : "",
			  EMBED_LOCAL_MODEL, EMBED_LOCAL_MODEL);
}

static int is_stopword(const char *w, size_t n)
{
	size_t lo = 0, hi = sizeof(stopwords) / sizeof(stopwords[0]);

	if (n > 5)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strncmp(stopwords[mid], w, n);

		if (!c)
			c = stopwords[mid][n] ? 1 : 0;
		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* ---- feature table --------------------------------------------------------- */

struct feat {
	uint64_t h;
	float weight;
	uint32_t tf;       /* 0: empty slot */
};

struct table {
	struct feat *slots;
	uint32_t *order;   /* slot indices in order of first appearance */
	size_t n, cap;
};

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t fnv_start(int kind)
{
	return (1469598103934665603ULL ^ (unsigned char)kind) * 1099511628211ULL;
}

static uint64_t fnv_add(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

static void table_grow(struct table *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 1024;
	struct feat *ns = xcalloc(ncap, sizeof(*ns));
	t->order = xrealloc(t->order, ncap * sizeof(*t->order));
	for (size_t k = 0; k < t->n; k++) {
		struct feat *f = &t->slots[t->order[k]];
		size_t j = f->h & (ncap - 1);

		while (ns[j].tf)
			j = (j + 1) & (ncap - 1);
		ns[j] = *f;
		t->order[k] = (uint32_t)j;
	}
	free(t->slots);
	t->slots = ns;
	t->cap = ncap;
}

static void table_add(struct table *t, uint64_t h, float weight)
{
	size_t j;

	h = mix(h);
	if ((t->n + 1) * 10 > t->cap * 7)
		table_grow(t);
	for (j = h & (t->cap - 1); t->slots[j].tf; j = (j + 1) & (t->cap - 1)) {
		if (t->slots[j].h == h && t->slots[j].weight == weight) {
			t->slots[j].tf++;
			return;
		}
	}
	t->slots[j].h = h;
	t->slots[j].weight = weight;
	t->slots[j].tf = 1;
	t->order[t->n++] = (uint32_t)j;
}

/* ---- tokens ----------------------------------------------------------------- */

static int is_word_byte(unsigned char c)
{
	return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Adds the character 3..5-grams of "<w>", by code point. */
static void add_char_grams(struct table *t, const char *w, size_t n)
{
	char buf[4 * MAX_WORD_CP + 2];
	size_t starts[MAX_WORD_CP + 3], ncp = 0, len = 0;

	starts[ncp++] = len;
	buf[len++] = '<';
	for (size_t i = 0; i < n && ncp <= MAX_WORD_CP; ) {
		size_t k = 1;

		while (i + k < n && ((unsigned char)w[i + k] & 0xc0) == 0x80 && k < 4)
			k++;
		starts[ncp++] = len;
		memcpy(buf + len, w + i, k);
		len += k;
		i += k;
	}
	starts[ncp++] = len;
	buf[len++] = '>';
	starts[ncp] = len;    /* end sentinel */
	for (size_t g = 3; g <= 5; g++) {
		for (size_t s = 0; s + g <= ncp; s++) {
			uint64_t h = fnv_add(fnv_start('c'), buf + starts[s], starts[s + g] - starts[s]);

			table_add(t, h, W_CHAR);
		}
	}
}

void embed_local(const char *text, size_t len, float *out, unsigned dim)
{
	struct table t = { 0 };
	char *low = xmalloc(len + 1);
	const char *prev = NULL;
	size_t prevlen = 0, i = 0;
	int prevstop = 0;
	double norm = 0, *acc = xcalloc(dim, sizeof(double));

	for (size_t k = 0; k < len; k++) {
		unsigned char c = (unsigned char)text[k];

		low[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	low[len] = '\0';
	while (i < len) {
		size_t s, n;
		int stop;

		while (i < len && !is_word_byte((unsigned char)low[i]))
			i++;
		if (i >= len)
			break;
		s = i;
		while (i < len && is_word_byte((unsigned char)low[i]))
			i++;
		n = i - s;
		stop = is_stopword(low + s, n);
		if (!stop) {
			table_add(&t, fnv_add(fnv_start('u'), low + s, n), W_UNI);
			add_char_grams(&t, low + s, n);
		}
		if (prev && !(stop && prevstop)) {
			uint64_t h = fnv_add(fnv_start('b'), prev, prevlen);

			h = fnv_add(h, "\x1f", 1);
			table_add(&t, fnv_add(h, low + s, n), W_BI);
		}
		prev = low + s;
		prevlen = n;
		prevstop = stop;
	}
	for (size_t k = 0; k < t.n; k++) {
		const struct feat *f = &t.slots[t.order[k]];
		double v = f->weight * (1.0 + log((double)f->tf));
		size_t idx = (uint32_t)f->h % dim;

		acc[idx] += (f->h >> 63) ? -v : v;
	}
	for (unsigned k = 0; k < dim; k++)
		norm += acc[k] * acc[k];
	norm = sqrt(norm);
	for (unsigned k = 0; k < dim; k++)
		out[k] = norm > 0 ? (float)(acc[k] / norm) : 0.0f;
	free(acc);
	free(low);
	free(t.slots);
	free(t.order);
}

double embed_cosine(const float *a, const float *b, unsigned dim)
{
	double dot = 0, na = 0, nb = 0;

	for (unsigned i = 0; i < dim; i++) {
		dot += (double)a[i] * b[i];
		na += (double)a[i] * a[i];
		nb += (double)b[i] * b[i];
	}
	if (na == 0 || nb == 0)
		return 0;
	return dot / (sqrt(na) * sqrt(nb));
}
