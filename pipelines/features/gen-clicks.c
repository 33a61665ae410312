/* gen-clicks.c - a deterministic synthetic click log for the rp-features example.
 *
 * Design: U users and D docs over DAYS days from 2026-01-01T00:00:00Z. A user
 * has an activity rate (sessions per day, heavy-tailed) and a session is a
 * burst of 1-6 clicks minutes apart. A click either returns to a doc the user
 * clicked before (habit) or follows the docs' popularity at that moment; each
 * doc's popularity rises and falls around its own peak day (drift), so "popular
 * now" is a real signal and "popular at the end of the log" is not. 10% of the
 * events arrive late: created = ts + 1h..48h, instead of a few seconds.
 *
 * Outputs: clicks.jsonl (user_id, doc_id, ts, created, dwell) in created order,
 * labels.jsonl (user_id, doc_id, event_timestamp, label): label 1 when the
 * user clicks that doc in (event_timestamp, event_timestamp + 24h]. Candidates
 * are half docs the user clicked before event_timestamp, half popular docs.
 * Everything comes from one xorshift seed: same arguments, same bytes.
 *
 * Usage: gen-clicks [-u USERS] [-d DOCS] [-n DAYS] [-l LABELS_PER_DAY] [-s SEED] CLICKS LABELS
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double unif(void) { return (double)(rnd() >> 11) / 9007199254740992.0; }
static double gauss(void) { double u = unif() + 1e-12, v = unif(); return sqrt(-2 * log(u)) * cos(6.283185307179586 * v); }

struct ev { int user, doc; int64_t ts, created; int dwell; };

static struct ev *evs;
static size_t nev, cap;

static void push(int u, int d, int64_t ts, int64_t created, int dwell)
{
	if (nev == cap) {
		cap = cap ? cap * 2 : 65536;
		evs = realloc(evs, cap * sizeof *evs);
		if (!evs) { perror("gen-clicks"); exit(1); }
	}
	evs[nev++] = (struct ev){u, d, ts, created, dwell};
}

static int by_user_ts(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	if (x->user != y->user) return x->user < y->user ? -1 : 1;
	if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
	return x->doc - y->doc;
}

static int by_created(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	if (x->created != y->created) return x->created < y->created ? -1 : 1;
	return by_user_ts(a, b);
}

static void fmt(int64_t t, char *buf)
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

#define START 1767225600LL /* 2026-01-01T00:00:00Z */
#define DAY 86400LL

static int U = 1500, D = 400, DAYS = 60, LPD = 400;
static double *cum; /* per day and hour slot: cumulative popularity over docs */
static double *peak, *width, *base;

static double popularity(int d, double day)
{
	double z = (day - peak[d]) / width[d];
	return base[d] * (0.03 + exp(-0.5 * z * z));
}

static int pick_doc(int64_t t)
{
	int slot = (int)((t - START) / (DAY / 4));
	double *c = cum + (size_t)slot * D;
	double r = unif() * c[D - 1];
	int lo = 0, hi = D - 1;
	while (lo < hi) { int m = (lo + hi) / 2; if (c[m] < r) lo = m + 1; else hi = m; }
	return lo;
}

int main(int argc, char **argv)
{
	int opt;
	unsigned long long seed = 42;
	while ((opt = getopt(argc, argv, "u:d:n:l:s:")) != -1) {
		switch (opt) {
		case 'u': U = atoi(optarg); break;
		case 'd': D = atoi(optarg); break;
		case 'n': DAYS = atoi(optarg); break;
		case 'l': LPD = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		default: goto usage;
		}
	}
	if (argc - optind != 2 || U < 1 || D < 2 || DAYS < 10 || LPD < 1) {
usage:
		fprintf(stderr, "usage: gen-clicks [-u USERS] [-d DOCS] [-n DAYS] [-l LABELS_PER_DAY] [-s SEED] CLICKS LABELS\n");
		return 2;
	}
	rng_state ^= seed * 0x9E3779B97F4A7C15ULL;
	if (!rng_state) rng_state = 1;

	peak = malloc(D * sizeof *peak); width = malloc(D * sizeof *width); base = malloc(D * sizeof *base);
	int slots = DAYS * 4 + 8;
	cum = malloc((size_t)slots * D * sizeof *cum);
	if (!peak || !width || !base || !cum) { perror("gen-clicks"); return 1; }
	for (int d = 0; d < D; d++) {
		peak[d] = unif() * (DAYS + 20) - 10;
		width[d] = 2 + unif() * 6;
		base[d] = exp(gauss());
	}
	for (int s = 0; s < slots; s++) {
		double acc = 0;
		for (int d = 0; d < D; d++) {
			acc += popularity(d, (s + 0.5) / 4.0);
			cum[(size_t)s * D + d] = acc;
		}
	}

	/* clicks: per user, sessions as a Poisson process; habit picks a past doc */
	int *hist = NULL;
	size_t hcap = 0;
	for (int u = 0; u < U; u++) {
		double rate = 0.35 * exp(0.9 * gauss());     /* sessions per day */
		double habit = 0.2 + 0.5 * unif();
		size_t nh = 0;
		double t = -log(unif() + 1e-12) / rate * DAY;
		while (t < (double)DAYS * DAY) {
			int64_t ts = START + (int64_t)t;
			int n = 1 + (int)(rnd() % 6);
			for (int k = 0; k < n && ts < START + DAYS * DAY; k++) {
				int d = (nh && unif() < habit) ? hist[rnd() % nh] : pick_doc(ts);
				if (nh == hcap) { hcap = hcap ? hcap * 2 : 64; hist = realloc(hist, hcap * sizeof *hist); }
				hist[nh++] = d;
				int64_t delay = unif() < 0.1 ? 3600 + (int64_t)(unif() * 47 * 3600) : (int64_t)(unif() * 30);
				int dwell = 5 + (int)(30 * exp(0.8 * gauss()));
				push(u, d, ts, ts + delay, dwell);
				ts += 20 + (int64_t)(unif() * 300);
			}
			t += -log(unif() + 1e-12) / rate * DAY;
		}
	}
	qsort(evs, nev, sizeof *evs, by_user_ts);
	size_t *first = calloc((size_t)U + 1, sizeof *first);
	for (size_t i = 0; i < nev; i++) first[evs[i].user + 1] = i + 1;
	for (int u = 1; u <= U; u++) if (first[u] < first[u - 1]) first[u] = first[u - 1];

	FILE *lf = fopen(argv[optind + 1], "w");
	if (!lf) { perror(argv[optind + 1]); return 1; }
	char b1[32], b2[32];
	long pos = 0, rows = 0;
	for (int day = 7; day < DAYS - 1; day++) {
		for (int k = 0; k < LPD; k++) {
			int u = (int)(rnd() % U);
			int64_t T = START + day * DAY + (int64_t)(unif() * DAY);
			size_t a = first[u], b = first[u + 1], past = a;
			while (past < b && evs[past].ts <= T) past++;
			int d = (past > a && unif() < 0.5) ? evs[a + rnd() % (past - a)].doc : pick_doc(T);
			int label = 0;
			for (size_t i = past; i < b && evs[i].ts <= T + DAY; i++)
				if (evs[i].doc == d) { label = 1; break; }
			fmt(T, b1);
			fprintf(lf, "{\"user_id\":\"u%d\",\"doc_id\":\"d%d\",\"event_timestamp\":\"%s\",\"label\":%d}\n", u, d, b1, label);
			pos += label; rows++;
		}
	}
	if (fclose(lf)) { perror(argv[optind + 1]); return 1; }

	qsort(evs, nev, sizeof *evs, by_created);
	FILE *cf = fopen(argv[optind], "w");
	if (!cf) { perror(argv[optind]); return 1; }
	for (size_t i = 0; i < nev; i++) {
		fmt(evs[i].ts, b1); fmt(evs[i].created, b2);
		fprintf(cf, "{\"user_id\":\"u%d\",\"doc_id\":\"d%d\",\"ts\":\"%s\",\"created\":\"%s\",\"dwell\":%d}\n",
		        evs[i].user, evs[i].doc, b1, b2, evs[i].dwell);
	}
	if (fclose(cf)) { perror(argv[optind]); return 1; }
	fprintf(stderr, "gen-clicks: %zu clicks, %ld label rows (%ld positive)\n", nev, rows, pos);
	free(evs); free(first); free(hist); free(cum); free(peak); free(width); free(base);
	return 0;
}
