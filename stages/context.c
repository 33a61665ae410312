/*
 * context.c - rp-context: contextual retrieval, a short context prepended to
 * the text of each chunk before it is embedded.
 *
 * Reads chunks.jsonl (as rp-chunk writes it) and writes the same lines, in
 * the same order, with these fields added or replaced:
 *
 *   context          the context (no trailing whitespace)
 *   original_text    the chunk's text as it came in (an input line that
 *                    has one already keeps it, so running twice is safe)
 *   text             context + "\n\n" + original_text (original_text alone
 *                    when the context is empty)
 *   content_hash     SHA-256 of the new text: what gets embedded
 *   context_method   "headings@1" or "llm@1"
 *   prompt_version, llm_model   (llm only)
 *
 * Methods:
 *   headings  offline: "Document: TITLE. Section: H1 > H2." from the chunk's
 *             title (its doc_id when the title is empty) and heading path;
 *             the title and each heading clipped to UTF8_TITLE_MAX code
 *             points (utf8.h), the path to its innermost HEADINGS_MAX.
 *   llm       an OpenAI-compatible chat completion per chunk (chat.c), with
 *             a prompt in which {{document}}, {{chunk}} and {{title}} are
 *             replaced; the document text comes from --docs docs.jsonl.
 *
 * LLM cache (llmcache.h; default <workspace>/.rp/context-cache.db, outside
 * a workspace the user's cache, by provider.h's one rule): the key is the
 * SHA-256 of "llm@1", model, prompt version, document sha256 and chunk
 * text. The prompt text itself is not in
 * the key: its version stands for it (bump the version when the text
 * changes; a hit whose stored prompt hash differs draws a warning). Each
 * generated context is committed at once, so a failed run keeps what it
 * paid for and the re-run asks only for the rest. The output file is
 * written atomically at the end, so a failed run leaves none.
 *
 * Secrets: the API key is read from the environment variable named by
 * --api-key-env (or llm.api_key_env in .rp/config) only when a request is
 * needed, goes only into the Authorization header, and is never written to
 * the output, the cache or a message.
 *
 * Bounds: each chat request is limited to --timeout seconds (1..86400,
 * default 120; 0, which curl reads as "no limit", is refused), all of them
 * to --deadline (default 1h), a Retry-After wait to 60 s and an answer to
 * 64 MiB decompressed (chat.h, http.h).
 *
 * Versions: bump "headings" or "llm" of "context" in core/progver.c's table
 * whenever this file would produce a different context or text for the
 * same input; the stages that run that method then run again (key.h).
 */
#include "ai/chat.h"
#include "ai/llmcache.h"
#include "ai/provider.h"
#include "core/progver.h"
#include "yaml/doc.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"
#include "util/http.h"
#include "util/jsonl.h"
#include "util/numopt.h"
#include "util/progress.h"
#include "util/utf8.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADINGS_VERSION progver_get("context", "headings")
#define LLM_VERSION progver_get("context", "llm")
/* headings of a chunk that its "Section:" context names (the innermost) */
#define HEADINGS_MAX 6

static const char usage_text[] =
	"usage: rp-context CHUNKS.jsonl -o CONTEXTUAL.jsonl [--method headings|llm] [--docs DOCS.jsonl]\n"
	"                  [--prompt-file FILE [--prompt-key KEY] --prompt-version V] [--model M]\n"
	"                  [--base-url URL] [--api-key-env NAME] [--cache PATH]\n"
	"                  [--max-retries N] [--timeout SECONDS] [--deadline SECONDS] [-q]\n"
	"\n"
	"  -o, --output FILE     where to write the chunks with context (\"-\": standard output)\n"
	"  -m, --method M        headings (offline, default) or llm\n"
	"      --docs FILE       the documents the chunks came from (llm: required)\n"
	"      --prompt-file F   the user prompt; {{document}}, {{chunk}} and {{title}} are replaced\n"
	"      --prompt-key KEY  the prompt is the string at dotted KEY of the YAML prompt file\n"
	"                        (e.g. --prompt-file params.yaml --prompt-key context.prompt)\n"
	"      --prompt-version V  the prompt's version, part of the cache key (with --prompt-file)\n"
	"      --model M         the chat model (required with --method llm)\n"
	"      --base-url URL    OpenAI-compatible API root (default: llm.base_url, else OpenAI)\n"
	"      --api-key-env NAME  environment variable holding the API key\n"
	"                        (default: llm.api_key_env, else OPENAI_API_KEY if set)\n"
	"      --cache PATH      context cache (default: .rp/context-cache.db of the workspace,\n"
	"                        else ~/.cache/rp/context-cache.db)\n"
	"      --max-retries N   retries of a request on 429, 408, 5xx (default 5)\n"
	"      --timeout SECONDS per request, 1..86400 (default 120)\n"
	"      --deadline SECONDS  for all requests, retries included; suffixes s, m, h\n"
	"                        (default 1h)\n"
	"  -q, --quiet           no summary line\n"
	"  -h, --help            show this help\n"
	"      --version         rp's version and the methods' (part of a stage's key)\n";

static const char default_system[] =
	"You situate a chunk of a document within the whole document, to improve "
	"search retrieval of the chunk. Answer only with the succinct context and nothing else.";

static const char default_prompt[] =
	"<document>\n{{document}}\n</document>\n"
	"Here is the chunk we want to situate within the whole document\n"
	"<chunk>\n{{chunk}}\n</chunk>\n"
	"Please give a short succinct context to situate this chunk within the overall "
	"document for the purposes of improving search retrieval of the chunk. "
	"Answer only with the succinct context and nothing else.";
static const char default_prompt_version[] = "builtin@1";

struct srcdoc {
	char *doc_id, *sha256, *text, *title;
};

struct opts {
	const char *input, *output, *method, *docs, *prompt_file, *prompt_key, *prompt_version;
	const char *model, *base_url, *api_key_env, *cache;
	int max_retries, quiet;
	long timeout, deadline;
};

struct llm {
	struct opts *o;
	struct srcdoc *docs;
	size_t ndocs;
	char *prompt, *prompt_sha;
	const char *version, *model;
	struct provider_settings ps;  /* model, base URL, key variable, cache path */
	struct llmcache *cache;
	struct chat chat;
	int chat_ready, warned_prompt;
	size_t hits, misses;
	struct rp_err err;            /* why the last llm_* call failed, for main() */
};

static int usage(int is_error)
{
	fputs(usage_text, is_error ? stderr : stdout);
	return is_error ? RP_EXIT_USAGE : RP_EXIT_OK;
}

static int cmp_doc(const void *a, const void *b)
{
	return strcmp(((const struct srcdoc *)a)->doc_id, ((const struct srcdoc *)b)->doc_id);
}

static const struct srcdoc *find_doc(const struct llm *l, const char *id)
{
	struct srcdoc key = { (char *)id, NULL, NULL, NULL };

	return bsearch(&key, l->docs, l->ndocs, sizeof(*l->docs), cmp_doc);
}

/*
 * The chunk's heading path as "A > B"; empty when it has none. Each heading
 * is clipped to UTF8_TITLE_MAX code points, and the path keeps the last
 * HEADINGS_MAX of them (the nearest to the chunk). Caller frees.
 */
static char *heading_path(json_t *chunk)
{
	json_t *h = json_object_get(chunk, "headings"), *v;
	struct buf b = BUF_INIT;
	size_t i, n = json_array_size(h);

	json_array_foreach(h, i, v) {
		char *clipped;

		if (!json_is_string(v) || !*json_string_value(v) || (n > HEADINGS_MAX && i < n - HEADINGS_MAX))
			continue;
		if (b.len)
			buf_adds(&b, " > ");
		clipped = utf8_clip(json_string_value(v), UTF8_TITLE_MAX);
		buf_adds(&b, clipped);
		free(clipped);
	}
	return buf_detach(&b);
}

/* Appends `s` and a period unless it already ends a sentence. */
static void add_sentence(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	buf_adds(b, s);
	if (!n || !strchr(".!?", s[n - 1]))
		buf_addch(b, '.');
}

static char *headings_context(json_t *chunk, const char *doc_id)
{
	const char *title = json_string_value(json_object_get(chunk, "title"));
	char *path = heading_path(chunk), *clipped;
	struct buf b = BUF_INIT;

	if (!title || !*title)
		title = doc_id;
	/* a title is someone else's first line: bounded, or it drowns every chunk */
	clipped = utf8_clip(title, UTF8_TITLE_MAX);
	buf_adds(&b, "Document: ");
	add_sentence(&b, clipped);
	free(clipped);
	if (*path) {
		buf_adds(&b, " Section: ");
		add_sentence(&b, path);
	}
	free(path);
	return buf_detach(&b);
}

/* ---- llm ------------------------------------------------------------- */

static int load_docs(struct llm *l, const char *path)
{
	struct jsonl_reader r;
	struct rp_err *err = &l->err;
	size_t alloc = 0;
	json_t *obj;
	int rc;

	if (jsonl_open(&r, path, err) < 0)
		return -1;
	while ((rc = jsonl_next(&r, &obj, err)) > 0) {
		const char *id = jsonl_get_str(&r, obj, "doc_id", err);
		const char *text = id ? jsonl_get_str(&r, obj, "text", err) : NULL;
		json_t *sha = json_object_get(obj, "sha256"), *title = json_object_get(obj, "title");
		struct srcdoc *d;

		if (!text) {
			json_decref(obj);
			rc = -1;
			break;
		}
		ALLOC_GROW(l->docs, l->ndocs + 1, alloc);
		d = &l->docs[l->ndocs++];
		d->doc_id = xstrdup(id);
		d->text = xstrdup(text);
		d->title = xstrdup(json_is_string(title) ? json_string_value(title) : "");
		if (json_is_string(sha) && *json_string_value(sha)) {
			d->sha256 = xstrdup(json_string_value(sha));
		} else {
			char hex[HASH_HEX];

			hash_buf(text, json_string_length(json_object_get(obj, "text")), hex);
			d->sha256 = xstrdup(hex);
		}
		json_decref(obj);
	}
	jsonl_close(&r);
	if (rc < 0)
		return -1;
	qsort(l->docs, l->ndocs, sizeof(*l->docs), cmp_doc);
	return 0;
}

/* Replaces {{document}}, {{chunk}} and {{title}} in the prompt. Caller frees. */
static char *fill_prompt(const char *prompt, const struct srcdoc *d, const char *chunk)
{
	struct buf b = BUF_INIT;
	const char *p = prompt;

	for (;;) {
		const char *q = strstr(p, "{{");

		if (!q) {
			buf_adds(&b, p);
			break;
		}
		buf_add(&b, p, q - p);
		if (!strncmp(q, "{{document}}", 12)) {
			buf_adds(&b, d->text);
			p = q + 12;
		} else if (!strncmp(q, "{{chunk}}", 9)) {
			buf_adds(&b, chunk);
			p = q + 9;
		} else if (!strncmp(q, "{{title}}", 9)) {
			char *title = utf8_clip(d->title, UTF8_TITLE_MAX);

			buf_adds(&b, title);
			free(title);
			p = q + 9;
		} else {
			buf_add(&b, q, 2);
			p = q + 2;
		}
	}
	return buf_detach(&b);
}

static int start_chat(struct llm *l)
{
	const char *key;

	if (provider_settings_key(&l->ps, &key, &l->err) < 0 ||
	    chat_init(&l->chat, l->ps.base_url, l->model, key, &l->err) < 0)
		return -1;
	l->chat.max_retries = l->o->max_retries;
	l->chat.timeout = l->o->timeout;
	l->chat.deadline = l->o->deadline;
	l->chat_ready = 1;
	return 0;
}

/* The context of one chunk from the cache or the model. Caller frees; NULL (l->err filled). */
static char *llm_context(struct llm *l, const struct srcdoc *d, const char *chunk, size_t clen)
{
	char key[HASH_HEX], method[32];
	char *ctx = NULL, *user, *stored;
	int rc;

	snprintf(method, sizeof(method), "llm@%d", LLM_VERSION);
	llmcache_key(method, l->model, l->version, d->sha256, chunk, clen, key);
	rc = llmcache_get(l->cache, key, &ctx, &stored, &l->err);
	if (rc < 0) {
		return NULL;
	}
	if (rc > 0 && stored && strcmp(stored, l->prompt_sha) && !l->warned_prompt) {
		rp_warn("the prompt text changed but its version '%s' did not: cached contexts "
			"of the old text are reused; bump --prompt-version to regenerate them", l->version);
		l->warned_prompt = 1;
	}
	free(stored);
	if (ctx) {
		l->hits++;
		return ctx;
	}
	if (!l->chat_ready && start_chat(l) < 0)
		return NULL;
	user = fill_prompt(l->prompt, d, chunk);
	ctx = chat_complete(&l->chat, default_system, user, &l->err);
	free(user);
	if (!ctx) {
		return NULL;
	}
	/* trim: the model's surrounding whitespace is not part of the context */
	{
		size_t a = strspn(ctx, " \t\r\n"), n = strlen(ctx);

		while (n > a && strchr(" \t\r\n", ctx[n - 1]))
			n--;
		memmove(ctx, ctx + a, n - a);
		ctx[n - a] = '\0';
	}
	l->misses++;
	if (llmcache_put(l->cache, key, ctx, l->model, l->version, l->prompt_sha, &l->err) < 0) {
		free(ctx);
		return NULL;
	}
	return ctx;
}

/*
 * The prompt text: the whole file, or with `key` the string at that dotted
 * path of the YAML file. Caller frees; NULL with `err` filled.
 */
static char *read_prompt(const char *path, const char *key, struct rp_err *err)
{
	struct buf b = BUF_INIT;
	struct doc *d;
	struct node *n;
	char *s;

	if (!key) {
		if (buf_read_file(&b, path) < 0) {
			int e = errno;

			buf_release(&b);
			rp_err_set(err, e == ENOENT ? RP_ERR_INPUT : RP_ERR_IO,
				   "cannot read prompt file '%s': %s", path, strerror(e));
			return NULL;
		}
		return buf_detach(&b);
	}
	if (!(d = doc_load_file(path, err)))
		return NULL;
	n = d->root ? node_lookup(d->root, key) : NULL;
	if (!n || n->kind != NODE_SCALAR) {
		if (n)
			node_fail(err, n, "'%s' must be a string (the prompt text)", key);
		else
			rp_err_set(err, RP_ERR_INPUT, "%s: no key '%s' (the prompt text; see "
				   "--prompt-key)", path, key);
		doc_free(d);
		return NULL;
	}
	s = xstrdup(n->str);
	doc_free(d);
	return s;
}

/* Settles options, config, prompt, docs and cache for --method llm. 0 or -1 (l->err filled). */
static int llm_setup(struct llm *l, struct opts *o)
{
	struct provider_opts po = { NULL, o->model, o->base_url, o->api_key_env, o->cache };
	char hex[HASH_HEX];

	l->o = o;
	/* .rp/config of a workspace of the user's only (config.h) */
	if (provider_settings_resolve(&l->ps, "llm", &po, "context-cache.db", &l->err) < 0)
		return -1;
	l->model = l->ps.model;
	if (!l->model || !*l->model)
		return rp_err_set(&l->err, RP_ERR_INPUT, "--method llm needs a model: pass --model "
				  "ID in the stage's command (it is part of the stage's key)");
	if (!o->docs)
		return rp_err_set(&l->err, RP_ERR_INPUT, "--method llm needs the documents: pass "
				  "--docs DOCS.jsonl");
	if (!!o->prompt_file != !!o->prompt_version)
		return rp_err_set(&l->err, RP_ERR_INPUT, "--prompt-file and --prompt-version go "
				  "together: the version names the prompt text in the cache key");
	if (o->prompt_key && !o->prompt_file)
		return rp_err_set(&l->err, RP_ERR_INPUT, "--prompt-key needs --prompt-file (the "
				  "YAML file that holds the key)");
	if (o->prompt_file) {
		l->prompt = read_prompt(o->prompt_file, o->prompt_key, &l->err);
		if (!l->prompt)
			return -1;
		l->version = o->prompt_version;
		if (!*l->version)
			return rp_err_set(&l->err, RP_ERR_INPUT, "--prompt-version must not be empty");
	} else {
		l->prompt = xstrdup(default_prompt);
		l->version = default_prompt_version;
	}
	hash_buf(l->prompt, strlen(l->prompt), hex);
	l->prompt_sha = xstrdup(hex);
	if (load_docs(l, o->docs) < 0)
		return -1;
	if (!(l->cache = llmcache_open(l->ps.cache_path, &l->err)))
		return -1;
	return 0;
}

static void llm_release(struct llm *l)
{
	for (size_t i = 0; i < l->ndocs; i++) {
		free(l->docs[i].doc_id);
		free(l->docs[i].sha256);
		free(l->docs[i].text);
		free(l->docs[i].title);
	}
	free(l->docs);
	free(l->prompt);
	free(l->prompt_sha);
	llmcache_close(l->cache);
	provider_settings_release(&l->ps);
	if (l->chat_ready)
		chat_release(&l->chat);
}

/*
 * Reads the options into `o`; -1 to go on, else the exit code (after
 * --help, or a usage error reported).
 */
static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_DOCS = 256, O_PFILE, O_PKEY, O_PVER, O_MODEL, O_URL, O_KEYENV, O_CACHE, O_RETRIES, O_TIMEOUT,
	       O_DEADLINE };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "method", required_argument, NULL, 'm' },
		{ "docs", required_argument, NULL, O_DOCS },
		{ "prompt-file", required_argument, NULL, O_PFILE },
		{ "prompt-key", required_argument, NULL, O_PKEY },
		{ "prompt-version", required_argument, NULL, O_PVER },
		{ "model", required_argument, NULL, O_MODEL },
		{ "base-url", required_argument, NULL, O_URL },
		{ "api-key-env", required_argument, NULL, O_KEYENV },
		{ "cache", required_argument, NULL, O_CACHE },
		{ "max-retries", required_argument, NULL, O_RETRIES },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "deadline", required_argument, NULL, O_DEADLINE },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct rp_err err = { 0 };
	long num;
	int c;

	while ((c = getopt_long(argc, argv, "o:m:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case 'm': o->method = optarg; break;
		case 'q': o->quiet = 1; break;
		case O_DOCS: o->docs = optarg; break;
		case O_PFILE: o->prompt_file = optarg; break;
		case O_PKEY: o->prompt_key = optarg; break;
		case O_PVER: o->prompt_version = optarg; break;
		case O_MODEL: o->model = optarg; break;
		case O_URL: o->base_url = optarg; break;
		case O_KEYENV: o->api_key_env = optarg; break;
		case O_CACHE: o->cache = optarg; break;
		case O_RETRIES:
			if (numopt_long("--max-retries", optarg, 0, 1000000, &num, &err) < 0) {
				rp_err_report(&err);
				return RP_EXIT_USAGE;
			}
			o->max_retries = num;
			break;
		case O_TIMEOUT:
			/* 0 would be curl's "no limit": a stalled server would hold the run forever */
			if (numopt_parse_long(optarg, 1, 86400, &num) < 0) {
				rp_error("--timeout '%s' is not a number of seconds in 1..86400", optarg);
				return RP_EXIT_USAGE;
			}
			o->timeout = num;
			break;
		case O_DEADLINE: {
			uint64_t secs;

			if (numopt_seconds(optarg, &secs) < 0 || !secs || secs > 7 * 86400) {
				rp_error("--deadline '%s' is not a duration of 1 s to 7 days (seconds, or "
					 "with a suffix s, m, h, d)", optarg);
				return RP_EXIT_USAGE;
			}
			o->deadline = (long)secs;
			break;
		}
		case 'V': {
			/* rp's version and the algorithms': what enters a stage's key (progver.h) */
			char *v = progver_text("context");

			fputs(v, stdout);
			free(v);
			return RP_EXIT_OK;
		}
		case 'h': return usage(0);
		default: return usage(1);
		}
	}
	if (argc - optind != 1 || !o->output)
		return usage(1);
	o->input = argv[optind];
	if (strcmp(o->method, "headings") && strcmp(o->method, "llm")) {
		rp_error("unknown method '%s' (expected headings or llm)", o->method);
		return RP_EXIT_USAGE;
	}
	return -1;
}

/* The input lines: each chunk object (owned) and its line number in the input. */
struct chunk_set {
	json_t **v;
	size_t *lines;
	size_t n, alloc, lalloc;
};

/* Reads every chunk of `r` into cs, checking its fields: 0, or -1 + err. */
static int read_chunks(struct jsonl_reader *r, struct chunk_set *cs, struct rp_err *err)
{
	json_t *obj;
	int rc;

	while ((rc = jsonl_next(r, &obj, err)) > 0) {
		json_t *h = json_object_get(obj, "headings");

		ALLOC_GROW(cs->v, cs->n + 1, cs->alloc);
		ALLOC_GROW(cs->lines, cs->n + 1, cs->lalloc);
		cs->v[cs->n] = obj;
		cs->lines[cs->n++] = r->line;
		if (!jsonl_get_str(r, obj, "doc_id", err) || !jsonl_get_str(r, obj, "text", err))
			return -1;
		if (h && !json_is_array(h))
			return rp_err_set(err, RP_ERR_INPUT, "%s:%zu:1: field 'headings' is not an array of "
					  "strings", r->path, r->line);
	}
	return rc;
}

/*
 * Puts the context of chunk `ch` (line `line` of `path`) in front of its
 * text, records how it was made (`method_name`; with `l`, the prompt and
 * model) and appends the line to `out`: RP_EXIT_OK, or the exit code after
 * reporting why not.
 */
static int add_context(struct llm *l, const char *method_name, json_t *ch, const char *path,
		       size_t line, struct buf *out)
{
	const char *doc_id = json_string_value(json_object_get(ch, "doc_id"));
	json_t *tv = json_object_get(ch, "original_text");
	char *text, *ctx, hex[HASH_HEX];
	size_t tlen;
	struct buf nt = BUF_INIT;

	/* a line that already went through rp-context keeps its original text */
	if (!json_is_string(tv))
		tv = json_object_get(ch, "text");
	text = xstrndup(json_string_value(tv), json_string_length(tv));
	tlen = json_string_length(tv);
	if (l) {
		const struct srcdoc *d = find_doc(l, doc_id);

		if (!d) {
			rp_err_set(&l->err, RP_ERR_INPUT, "%s:%zu:1: doc_id '%s' is not in '%s'; pass "
				   "the docs.jsonl the chunks were made from", path, line, doc_id,
				   l->o->docs);
			free(text);
			return rp_err_exit(&l->err);
		}
		if (!(ctx = llm_context(l, d, text, tlen))) {
			free(text);
			return rp_err_exit(&l->err);
		}
	} else {
		ctx = headings_context(ch, doc_id);
	}
	if (*ctx) {
		buf_adds(&nt, ctx);
		buf_adds(&nt, "\n\n");
	}
	buf_add(&nt, text, tlen);
	hash_buf(nt.s, nt.len, hex);
	json_object_set_new(ch, "original_text", json_stringn(text, tlen));
	json_object_set_new(ch, "context", json_string(ctx));
	json_object_set_new(ch, "text", json_stringn(nt.s, nt.len));
	json_object_set_new(ch, "content_hash", json_string(hex));
	json_object_set_new(ch, "context_method", json_string(method_name));
	if (l) {
		json_object_set_new(ch, "prompt_version", json_string(l->version));
		json_object_set_new(ch, "llm_model", json_string(l->model));
	}
	jsonl_dump(ch, out);
	buf_release(&nt);
	free(ctx);
	free(text);
	return RP_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct opts o = { .method = "headings", .max_retries = 5, .timeout = 120,
			  .deadline = HTTP_DEADLINE_MS / 1000 };
	struct llm l = { 0 };
	struct jsonl_reader r;
	struct rp_err err = { 0 };
	struct buf out = BUF_INIT;
	struct progress pg;
	struct chunk_set cs = { 0 };
	char *method_name;
	int rc, is_llm, ret = RP_EXIT_FAIL;

	rp_progname = "rp-context";
	if ((ret = parse_args(argc, argv, &o)) >= 0)
		return ret;
	ret = RP_EXIT_FAIL;
	is_llm = !strcmp(o.method, "llm");
	method_name = xasprintf("%s@%d", o.method, is_llm ? LLM_VERSION : HEADINGS_VERSION);

	if (jsonl_open(&r, o.input, &err) < 0) {
		ret = rp_err_exit(&err);
		goto out;
	}
	if (read_chunks(&r, &cs, &err) < 0) {
		jsonl_close(&r);
		ret = rp_err_exit(&err);
		goto out;
	}
	if (is_llm && llm_setup(&l, &o) < 0) {
		jsonl_close(&r);
		ret = rp_err_exit(&l.err);
		goto out;
	}
	progress_init(&pg, "rp context", cs.n);
	for (size_t i = 0; i < cs.n; i++) {
		rc = add_context(is_llm ? &l : NULL, method_name, cs.v[i], r.path, cs.lines[i], &out);
		if (rc != RP_EXIT_OK) {
			progress_end(&pg);
			jsonl_close(&r);
			ret = rc;
			goto out;
		}
		if (is_llm && pg.enabled) {
			char extra[96];

			snprintf(extra, sizeof(extra), "cached %zu, generated %zu", l.hits, l.misses);
			progress_update(&pg, i + 1, extra);
		}
	}
	progress_end(&pg);
	jsonl_close(&r);
	if (jsonl_write_file(o.output, &out, &err) < 0) {
		rp_err_report(&err);
		goto out;
	}
	if (is_llm && !o.quiet) {
		unsigned long req = l.chat_ready ? l.chat.requests : 0UL;
		unsigned long retr = l.chat_ready ? l.chat.retries : 0UL;

		progress_summary("rp context", "%zu chunk%s, %zu cached, %zu generated (%lu request%s, "
				 "%lu retr%s)", cs.n, plural_s(cs.n), l.hits, l.misses, req,
				 plural_s(req), retr, retr == 1 ? "y" : "ies");
	} else if (!o.quiet) {
		progress_summary("rp context", "%zu chunk%s, method %s", cs.n, plural_s(cs.n),
				 method_name);
	}
	ret = RP_EXIT_OK;
out:
	if (is_llm && ret != RP_EXIT_OK && (l.hits || l.misses))
		fprintf(stderr, "rp context: failed; %zu contexts were generated and stay cached\n",
			l.misses);
	for (size_t i = 0; i < cs.n; i++)
		json_decref(cs.v[i]);
	free(cs.v);
	free(cs.lines);
	llm_release(&l);
	free(method_name);
	buf_release(&out);
	return ret;
}
