/* train.c - a small, deterministic logistic regression for the rp-features example.
 *
 * Design: read the rows of TRAIN.jsonl whose time column is before --split (the
 * early split) and the rows of LATER.jsonl at or after it (the later split).
 * Each named feature is read as a number (null or missing: 0), taken through
 * log1p (counts and durations are heavy-tailed) and standardised with the
 * early split's mean and deviation. Full-batch gradient descent from zero
 * weights, a fixed number of steps: no randomness, same input, same bytes.
 * Prints one JSON object: the AUC on the early split (offline: the rows the
 * model was fitted on) and on the later split, with row and positive counts.
 *
 * LATER.jsonl is how the model is judged in service: for the leaky control it
 * is the point-in-time file, because a serving system only ever knows the past.
 * Times compare as strings: both files hold RFC 3339 UTC times written by
 * rp-features, whose lexical order is time order.
 *
 * Usage: train --split TIME --features a,b,c [--time COL] [--label COL] TRAIN.jsonl LATER.jsonl
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct set { double *x; int *y; size_t n, cap; };

static int nf;
static char **fname;

/* the raw text of key's value in a flat JSON object line, or NULL */
static const char *find_value(const char *line, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = line; (p = strchr(p, '"')); p++) {
		if (!strncmp(p + 1, key, kl) && p[kl + 1] == '"') {
			const char *q = p + kl + 2;
			while (*q == ' ') q++;
			if (*q == ':') {
				q++;
				while (*q == ' ') q++;
				return q;
			}
		}
		/* skip this string */
		for (p++; *p && *p != '"'; p++)
			if (*p == '\\' && p[1]) p++;
		if (!*p) break;
	}
	return NULL;
}

static void load(const char *path, const char *tcol, const char *lcol, const char *split, int early, struct set *s)
{
	FILE *f = fopen(path, "r");
	if (!f) { perror(path); exit(1); }
	char *line = NULL;
	size_t lcap = 0;
	long lineno = 0;
	while (getline(&line, &lcap, f) > 0) {
		lineno++;
		const char *t = find_value(line, tcol);
		const char *l = find_value(line, lcol);
		if (!t || *t != '"' || !l) {
			fprintf(stderr, "%s:%ld: no \"%s\" time or \"%s\" label: pass --time/--label\n", path, lineno, tcol, lcol);
			exit(2);
		}
		int before = strncmp(t + 1, split, strlen(split)) < 0;
		if (before != early) continue;
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 1024;
			s->x = realloc(s->x, s->cap * nf * sizeof *s->x);
			s->y = realloc(s->y, s->cap * sizeof *s->y);
			if (!s->x || !s->y) { perror("train"); exit(1); }
		}
		for (int j = 0; j < nf; j++) {
			const char *v = find_value(line, fname[j]);
			double d = (v && *v != 'n' && *v != '"') ? strtod(v, NULL) : 0;
			s->x[s->n * nf + j] = log1p(d > 0 ? d : 0);
		}
		s->y[s->n++] = atoi(l) != 0 || !strncmp(l, "true", 4);
	}
	free(line);
	fclose(f);
}

static const double *g_score;

static int by_score(const void *a, const void *b)
{
	double x = g_score[*(const size_t *)a], y = g_score[*(const size_t *)b];
	return x < y ? -1 : x > y;
}

/* Mann-Whitney AUC, ties counted as one half */
static double auc(const double *score, const int *y, size_t n)
{
	size_t *ix = malloc((n ? n : 1) * sizeof *ix);
	if (!ix) { perror("train"); exit(1); }
	for (size_t i = 0; i < n; i++) ix[i] = i;
	g_score = score;
	if (n) qsort(ix, n, sizeof *ix, by_score);
	double ranksum = 0, npos = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && score[ix[j]] == score[ix[i]]) j++;
		double r = (i + 1 + j) / 2.0;
		for (size_t k = i; k < j; k++)
			if (y[ix[k]]) { ranksum += r; npos++; }
		i = j;
	}
	free(ix);
	double nneg = n - npos;
	if (npos == 0 || nneg == 0) return NAN;
	return (ranksum - npos * (npos + 1) / 2) / (npos * nneg);
}

static void score(const struct set *s, const double *w, const double *mu, const double *sd, double *out)
{
	for (size_t i = 0; i < s->n; i++) {
		double z = w[nf];
		for (int j = 0; j < nf; j++) z += w[j] * (s->x[i * nf + j] - mu[j]) / sd[j];
		out[i] = z;
	}
}

int main(int argc, char **argv)
{
	const char *split = NULL, *feats = NULL, *tcol = "event_timestamp", *lcol = "label";
	int steps = 2000;
	double rate = 0.5;
	int i = 1;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--split")) split = argv[i + 1];
		else if (!strcmp(argv[i], "--features")) feats = argv[i + 1];
		else if (!strcmp(argv[i], "--time")) tcol = argv[i + 1];
		else if (!strcmp(argv[i], "--label")) lcol = argv[i + 1];
		else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
		else break;
	}
	if (!split || !feats || argc - i != 2 || steps < 1) {
		fprintf(stderr, "usage: train --split TIME --features a,b,c [--time COL] [--label COL] [--steps N] TRAIN.jsonl LATER.jsonl\n");
		return 2;
	}
	char *fl = strdup(feats);
	fname = calloc(strlen(feats) + 1, sizeof *fname);
	for (char *tok = strtok(fl, ","); tok; tok = strtok(NULL, ",")) fname[nf++] = tok;

	struct set tr = {0}, te = {0};
	load(argv[i], tcol, lcol, split, 1, &tr);
	load(argv[i + 1], tcol, lcol, split, 0, &te);
	if (!tr.n || !te.n) { fprintf(stderr, "train: an empty split: move --split %s\n", split); return 1; }

	double *mu = calloc(nf, sizeof *mu), *sd = calloc(nf, sizeof *sd);
	double *w = calloc(nf + 1, sizeof *w), *g = calloc(nf + 1, sizeof *g);
	double *p = malloc(tr.n * sizeof *p), *q = malloc(te.n * sizeof *q);
	for (int j = 0; j < nf; j++) {
		for (size_t r = 0; r < tr.n; r++) mu[j] += tr.x[r * nf + j];
		mu[j] /= tr.n;
		for (size_t r = 0; r < tr.n; r++) sd[j] += pow(tr.x[r * nf + j] - mu[j], 2);
		sd[j] = sqrt(sd[j] / tr.n);
		if (sd[j] < 1e-12) sd[j] = 1;
	}
	for (int s = 0; s < steps; s++) {
		score(&tr, w, mu, sd, p);
		memset(g, 0, (nf + 1) * sizeof *g);
		for (size_t r = 0; r < tr.n; r++) {
			double e = 1 / (1 + exp(-p[r])) - tr.y[r];
			for (int j = 0; j < nf; j++) g[j] += e * (tr.x[r * nf + j] - mu[j]) / sd[j];
			g[nf] += e;
		}
		for (int j = 0; j <= nf; j++) w[j] -= rate * g[j] / tr.n;
	}
	score(&tr, w, mu, sd, p);
	score(&te, w, mu, sd, q);
	size_t ptr = 0, pte = 0;
	for (size_t r = 0; r < tr.n; r++) ptr += tr.y[r];
	for (size_t r = 0; r < te.n; r++) pte += te.y[r];
	printf("{\"offline_auc\": %.4f, \"later_auc\": %.4f, \"train_rows\": %zu, \"train_positive\": %zu, "
	       "\"later_rows\": %zu, \"later_positive\": %zu, \"weights\": {",
	       auc(p, tr.y, tr.n), auc(q, te.y, te.n), tr.n, ptr, te.n, pte);
	for (int j = 0; j < nf; j++) printf("%s\"%s\": %.4f", j ? ", " : "", fname[j], w[j]);
	printf("}}\n");
	free(fl); free(fname); free(mu); free(sd); free(w); free(g); free(p); free(q);
	free(tr.x); free(tr.y); free(te.x); free(te.y);
	return 0;
}
