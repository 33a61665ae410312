/*
 * progver.c - the table of algorithm versions and the reading of a
 * command's words (progver.h).
 *
 * Bump a version here whenever the program would write different output
 * for the same input and options; the stages that apply it run again
 * after the upgrade. Version 1 is what every algorithm was before versions
 * entered stage keys (key.h: a version 1 adds nothing to the key).
 *
 * The word reader is a small subset of sh: words split at blanks, '...'
 * and "..." quote (the quotes removed, a backslash escapes the next
 * character outside single quotes), and ; | & ( ) and a newline end a
 * command. It runs for every stage on every status, so it allocates
 * nothing: words are compared in place, in a fixed buffer.
 */
#include "core/progver.h"
#include "util/buf.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *program, *algo;
	int version;
} table[] = {
	{ "chunk", "fixed", 1 },
	{ "chunk", "recursive", 1 },
	{ "chunk", "markdown", 1 },
	{ "chunk", "sentence", 1 },
	{ "context", "headings", 1 },
	{ "context", "llm", 1 },
	{ "embed", "local", 1 },       /* the local embedder (embed_local.h) */
	{ "extract", "extractor", 1 }, /* the text of markdown, plain text and HTML */
};

#define NTABLE (sizeof(table) / sizeof(table[0]))

/* The version RP_TEST_ALGO_VERSIONS gives PROGRAM:ALGO, or 0. */
static int test_override(const char *program, const char *algo)
{
	const char *s = getenv("RP_TEST_ALGO_VERSIONS");
	size_t pl = strlen(program), al = strlen(algo);

	while (s && *s) {
		const char *end = s + strcspn(s, ",");

		if ((size_t)(end - s) > pl + al + 2 && !strncmp(s, program, pl) && s[pl] == ':' &&
		    !strncmp(s + pl + 1, algo, al) && s[pl + 1 + al] == '=')
			return atoi(s + pl + al + 2);
		s = *end ? end + 1 : end;
	}
	return 0;
}

int progver_get(const char *program, const char *algo)
{
	int v = test_override(program, algo);

	if (v > 0)
		return v;
	for (size_t i = 0; i < NTABLE; i++)
		if (!strcmp(table[i].program, program) && !strcmp(table[i].algo, algo))
			return table[i].version;
	return 0;
}

char *progver_text(const char *program)
{
	struct buf b = BUF_INIT;

	buf_addf(&b, "rp-%s (rp) %s\n", program, PACKAGE_VERSION);
	for (size_t i = 0; i < NTABLE; i++)
		if (!strcmp(table[i].program, program))
			buf_addf(&b, "%s@%d\n", table[i].algo, progver_get(program, table[i].algo));
	return buf_detach(&b);
}

/* ---- reading a command --------------------------------------------------- */

#define WORD_MAX 256

struct words {
	const char *p;          /* the next character to read */
	char w[WORD_MAX];       /* the current word (truncated to WORD_MAX - 1) */
	int end;                /* the word ended a command (or none was read) */
};

/*
 * Reads the next word into r->w: 1, or 0 at the end of the text. A command
 * separator gives the empty word with r->end set.
 */
static int next_word(struct words *r)
{
	const char *p = r->p;
	size_t n = 0;
	char q = 0;

	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (!*p)
		return 0;
	r->end = 0;
	if (strchr(";|&()\n", *p)) {
		while (*p && strchr(";|&()\n", *p))
			p++;
		r->p = p;
		r->w[0] = '\0';
		r->end = 1;
		return 1;
	}
	for (; *p; p++) {
		char c = *p;

		if (q) {
			if (c == q) {
				q = 0;
				continue;
			}
			if (c == '\\' && q == '"' && p[1])
				c = *++p;
		} else if (c == '\'' || c == '"') {
			q = c;
			continue;
		} else if (c == '\\' && p[1]) {
			c = *++p;
		} else if (strchr(" \t\r;|&()\n", c)) {
			break;
		}
		if (n + 1 < WORD_MAX)
			r->w[n++] = c;
	}
	r->w[n] = '\0';
	r->p = p;
	return 1;
}

/* The program a word starts: "chunk" for "rp-chunk" or ".../rp-chunk", else NULL. */
static const char *dashed_program(const char *w)
{
	static const char *const progs[] = { "chunk", "context", "embed", "eval", "extract" };
	const char *base = strrchr(w, '/');

	base = base ? base + 1 : w;
	if (strncmp(base, "rp-", 3))
		return NULL;
	for (size_t i = 0; i < sizeof(progs) / sizeof(*progs); i++)
		if (!strcmp(base + 3, progs[i]))
			return progs[i];
	return NULL;
}

/* Whether word `w` is rp itself ("rp", ".../rp"). */
static int is_rp(const char *w)
{
	const char *base = strrchr(w, '/');

	return !strcmp(base ? base + 1 : w, "rp");
}

/*
 * The value of option `lng` ("--strategy") or `shrt` ("-s", or NULL) when
 * word r->w is one: its "=VALUE" part, or the next word (read). NULL when
 * the word is not that option.
 */
static const char *option_value(struct words *r, const char *lng, const char *shrt, char *val)
{
	size_t n = strlen(lng);

	if (!strncmp(r->w, lng, n) && r->w[n] == '=') {
		memmove(val, r->w + n + 1, strlen(r->w + n + 1) + 1);
		return val;
	}
	if (strcmp(r->w, lng) && (!shrt || strcmp(r->w, shrt))) {
		if (shrt && !strncmp(r->w, shrt, 2) && r->w[2]) {
			memmove(val, r->w + 2, strlen(r->w + 2) + 1);
			return val;
		}
		return NULL;
	}
	if (!next_word(r) || r->end)
		return NULL;
	memcpy(val, r->w, WORD_MAX);
	return val;
}

static void add_use(struct progver_use *out, size_t *n, const char *program, const char *algo,
		    int version)
{
	size_t i;

	if (!version)
		return;
	for (i = 0; i < *n; i++)
		if (!strcmp(out[i].program, program) && !strcmp(out[i].algo, algo))
			return;
	if (*n == PROGVER_MAX)
		return;
	out[*n].program = program;
	out[*n].algo = algo;
	out[*n].version = version;
	(*n)++;
}

/* The table's static name of `algo` of `program`, or NULL. */
static const char *table_algo(const char *program, const char *algo)
{
	for (size_t i = 0; i < NTABLE; i++)
		if (!strcmp(table[i].program, program) && !strcmp(table[i].algo, algo))
			return table[i].algo;
	return NULL;
}

/* Reads the options of `program` up to the end of its command; adds what it applies. */
static void read_program(struct words *r, const char *program, struct progver_use *out, size_t *n)
{
	char val[WORD_MAX], choice[WORD_MAX];
	const char *v, *algo;
	int is_chunk = !strcmp(program, "chunk"), is_context = !strcmp(program, "context");
	int is_embed = !strcmp(program, "embed");

	/* the program's defaults (chunk.c, context.c, embed.c) */
	strcpy(choice, is_chunk ? "recursive" : is_context ? "headings" : "local");
	while (next_word(r) && !r->end) {
		v = NULL;
		if (is_chunk)
			v = option_value(r, "--strategy", "-s", val);
		else if (is_context)
			v = option_value(r, "--method", "-m", val);
		else if (is_embed)
			v = option_value(r, "--provider", NULL, val);
		if (v)
			memcpy(choice, v, WORD_MAX);
		if (r->end)
			break;
	}
	if (!strcmp(program, "extract")) {
		add_use(out, n, "extract", "extractor", progver_get("extract", "extractor"));
	} else if (!strcmp(program, "eval")) {
		/* rp eval embeds its queries; only the local embedder is rp's */
		add_use(out, n, "eval", "local", progver_get("embed", "local"));
	} else if ((algo = table_algo(program, choice))) {
		add_use(out, n, program, algo, progver_get(program, algo));
	}
}

static int cmp_use(const void *a, const void *b)
{
	const struct progver_use *x = a, *y = b;
	int c = strcmp(x->program, y->program);

	return c ? c : strcmp(x->algo, y->algo);
}

size_t progver_detect(const char *const *cmds, size_t ncmds, struct progver_use *out)
{
	size_t n = 0;

	for (size_t i = 0; i < ncmds; i++) {
		struct words r = { .p = cmds[i], .end = 1 };
		int after_rp = 0;

		/* cheap exit: no "rp" anywhere in the command */
		if (!strstr(cmds[i], "rp"))
			continue;
		while (next_word(&r)) {
			const char *prog = NULL;

			if (r.end) {
				after_rp = 0;
				continue;
			}
			if (after_rp) {
				static const char *const progs[] = { "chunk", "context", "embed", "eval",
								     "extract" };

				for (size_t k = 0; k < sizeof(progs) / sizeof(*progs); k++)
					if (!strcmp(r.w, progs[k]))
						prog = progs[k];
			} else {
				prog = dashed_program(r.w);
			}
			after_rp = !prog && is_rp(r.w);
			if (prog)
				read_program(&r, prog, out, &n);
		}
	}
	if (n > 1)
		qsort(out, n, sizeof(*out), cmp_use);
	return n;
}
