/*
 * config.c - loading .rp/config (format in config.h) through doc.c.
 */
#include "config.h"
#include "doc.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *config_gitignore_text(void)
{
	return "# written by rp: what in .rp/ is local, not for git\n"
	       "/cache\n/state.db\n/state.db-*\n/lock\n/lock.journal\n/lock.snap\n/parsed\n/tmp\n"
	       "/embed-cache.db\n/embed-cache.db-*\n/context-cache.db\n/context-cache.db-*\n";
}

const char *config_default_text(void)
{
	return "# rp settings; see rp(1)\n"
	       "cache:\n"
	       "  dir: .rp/cache\n"
	       "  type: reflink,copy\n"
	       "  save_sources: true\n"
	       "core:\n"
	       "  jobs: 0\n";
}

static int bad(struct rp_err *err, const struct node *n, const char *msg)
{
	return rp_err_set(err, RP_ERR_INPUT, "%s:%d:%d: %s", n->file, n->line, n->col, msg);
}

static int get_bool(const struct node *v, int *out, struct rp_err *err)
{
	if (v->kind != NODE_SCALAR || node_scalar_type(v) != SCALAR_BOOL)
		return bad(err, v, "expected true or false");
	*out = v->str[0] == 't' || v->str[0] == 'T';
	return 0;
}

static int get_str(const struct node *v, char **out, struct rp_err *err)
{
	if (v->kind != NODE_SCALAR || !*v->str)
		return bad(err, v, "expected a non-empty string");
	free(*out);
	*out = xstrdup(v->str);
	return 0;
}

int config_load(struct config *c, const char *path, struct rp_err *err)
{
	struct doc *d;
	const struct node *root;
	int ret = -1;

	memset(c, 0, sizeof(*c));
	c->cache_dir = xstrdup(".rp/cache");
	c->cache_type = xstrdup("reflink,copy");
	c->save_sources = 1;
	c->jobs = 0;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	d = doc_load_file(path, err);
	if (!d)
		return -1;
	root = d->root;
	if (!root) {
		ret = 0;
		goto out;
	}
	if (root->kind != NODE_MAP) {
		bad(err, root, "expected a mapping with 'cache' and 'core' sections");
		goto out;
	}
	for (size_t i = 0; i < root->n; i++) {
		const char *sec = root->keys[i]->str;
		const struct node *m = root->items[i];

		if (strcmp(sec, "cache") && strcmp(sec, "core") && strcmp(sec, "embed") &&
		    strcmp(sec, "llm")) {
			rp_err_set(err, RP_ERR_INPUT, "%s:%d:%d: unknown section '%s' "
				   "(expected cache, core, embed or llm)",
				   root->keys[i]->file, root->keys[i]->line, root->keys[i]->col, sec);
			goto out;
		}
		if (m->kind != NODE_MAP) {
			bad(err, m, "expected a mapping");
			goto out;
		}
		for (size_t j = 0; j < m->n; j++) {
			const char *k = m->keys[j]->str;
			const struct node *v = m->items[j];
			int r;

			if (!strcmp(sec, "cache") && !strcmp(k, "dir"))
				r = get_str(v, &c->cache_dir, err);
			else if (!strcmp(sec, "cache") && !strcmp(k, "type"))
				r = get_str(v, &c->cache_type, err);
			else if (!strcmp(sec, "cache") && !strcmp(k, "save_sources"))
				r = get_bool(v, &c->save_sources, err);
			else if (!strcmp(sec, "embed") && !strcmp(k, "provider"))
				r = get_str(v, &c->embed_provider, err);
			else if (!strcmp(sec, "embed") && !strcmp(k, "base_url"))
				r = get_str(v, &c->embed_base_url, err);
			else if (!strcmp(sec, "embed") && !strcmp(k, "api_key_env"))
				r = get_str(v, &c->embed_api_key_env, err);
			else if (!strcmp(sec, "embed") && !strcmp(k, "cache"))
				r = get_str(v, &c->embed_cache, err);
			else if (!strcmp(sec, "llm") && !strcmp(k, "base_url"))
				r = get_str(v, &c->llm_base_url, err);
			else if (!strcmp(sec, "llm") && !strcmp(k, "api_key_env"))
				r = get_str(v, &c->llm_api_key_env, err);
			else if (!strcmp(sec, "llm") && !strcmp(k, "model"))
				r = get_str(v, &c->llm_model, err);
			else if (!strcmp(sec, "core") && !strcmp(k, "jobs")) {
				char *end;
				long n = v->kind == NODE_SCALAR ? strtol(v->str, &end, 10) : -1;

				if (v->kind != NODE_SCALAR || *end || n < 0 || n > 1024)
					r = bad(err, v, "'jobs' must be a number from 0 to 1024");
				else {
					c->jobs = (int)n;
					r = 0;
				}
			} else {
				r = rp_err_set(err, RP_ERR_INPUT, "%s:%d:%d: unknown setting '%s.%s'",
					       m->keys[j]->file, m->keys[j]->line, m->keys[j]->col, sec, k);
			}
			if (r < 0)
				goto out;
		}
	}
	ret = 0;
out:
	doc_free(d);
	return ret;
}

void config_release(struct config *c)
{
	free(c->cache_dir);
	free(c->cache_type);
	free(c->embed_provider);
	free(c->embed_base_url);
	free(c->embed_api_key_env);
	free(c->embed_cache);
	free(c->llm_base_url);
	free(c->llm_api_key_env);
	free(c->llm_model);
	memset(c, 0, sizeof(*c));
}

char *config_find_root(void)
{
	char dir[PATH_MAX];

	if (!getcwd(dir, sizeof(dir)))
		return NULL;
	for (;;) {
		char *probe = xasprintf("%s/.rp", *dir ? dir : "/");
		struct stat st;
		int found = stat(probe, &st) == 0 && S_ISDIR(st.st_mode);
		char *slash;

		free(probe);
		if (found)
			return xstrdup(*dir ? dir : "/");
		slash = strrchr(dir, '/');
		if (!slash || !*dir)
			return NULL;
		*slash = '\0';
	}
}
