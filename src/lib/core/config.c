/*
 * config.c - loading .rp/config (format in config.h) through doc.c, and
 * deciding whose workspace may be read.
 *
 * Ownership: a directory or file is the user's when user_config_is_own_uid()
 * says so. The user config is read only when an owner check fails (to look
 * up safe.directories), so the common case costs two stat()s and no extra
 * file. .rp/config itself is checked with fstat on the descriptor that is
 * parsed, so a file replaced between the check and the read is still caught.
 *
 * Discovery (config_find_root) walks up from getcwd(), a physical path: at
 * each directory D it looks for D/.rp; else it moves to D's parent, but
 * not past a D that is not the user's (unless D lies below a safe
 * directory) and not into a parent on another device (st_dev; git's
 * GIT_DISCOVERY_ACROSS_FILESYSTEM is RP_DISCOVERY_ACROSS_FILESYSTEM here).
 * A .rp/ found is then checked as a workspace: another user's is an error,
 * never a silent skip, so nobody works with settings they did not expect.
 */
#include "core/config.h"
#include "util/buf.h"
#include "yaml/doc.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
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

static void set_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->cache_dir = xstrdup(".rp/cache");
	c->cache_type = xstrdup("reflink,copy");
	c->save_sources = 1;
	c->jobs = 0;
}

/* Fills `c` (defaults set) from the parsed document `d`. 0 or -1 + err. */
static int parse(struct config *c, struct doc *d, struct rp_err *err)
{
	const struct node *root;
	int ret = -1;

	root = d->root;
	if (!root)
		return 0;
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

/* The user's name for uid `u`, into name[size] ("uid N" when unknown). */
static void owner_name(uid_t u, char *name, size_t size)
{
	struct passwd *pw = getpwuid(u);

	if (pw && pw->pw_name)
		snprintf(name, size, "'%s', uid %lu", pw->pw_name, (unsigned long)u);
	else
		snprintf(name, size, "uid %lu", (unsigned long)u);
}

/*
 * `uc`, or the user config read into `tmp` when `uc` is NULL. NULL + err
 * when it cannot be read (the caller releases `tmp` either way).
 */
static const struct user_config *user_cfg(const struct user_config *uc, struct user_config *tmp,
					  struct rp_err *err)
{
	if (uc)
		return uc;
	return user_config_load(tmp, err) < 0 ? NULL : tmp;
}

/*
 * `path` of the workspace at `abs_root` is owned by `owner`, not the user:
 * 0 when abs_root is in safe.directories, else -1 + err saying how to
 * allow it.
 */
static int foreign(const char *path, uid_t owner, const char *abs_root,
		   const struct user_config *uc, struct rp_err *err)
{
	struct user_config tmp = { 0 };
	const struct user_config *u = user_cfg(uc, &tmp, err);
	char who[128];
	int ret = 0;

	if (!u) {
		user_config_release(&tmp);
		return -1;
	}
	if (!user_config_dir_is_safe(u, abs_root)) {
		owner_name(owner, who, sizeof(who));
		ret = rp_err_set(err, RP_ERR_INPUT,
				 "'%s' is owned by another user (%s): rp does not read a workspace "
				 "of another user (its settings choose stores, servers and keys). "
				 "If you trust it, add to '%s':\n"
				 "safe:\n  directories:\n    - %s",
				 path, who, u->path ? u->path : "~/.config/rp/config", abs_root);
	}
	user_config_release(&tmp);
	return ret;
}

int config_check_owner(const char *abs_root, const struct user_config *uc, struct rp_err *err)
{
	static const char *const parts[] = { "", "/.rp", "/.rp/config" };
	struct stat st;

	for (size_t i = 0; i < sizeof(parts) / sizeof(*parts); i++) {
		char *p = xasprintf("%s%s", strcmp(abs_root, "/") || !*parts[i] ? abs_root : "",
				    parts[i]);
		int r = 0;

		if (stat(p, &st) < 0) {
			if (errno != ENOENT)
				r = rp_err_set(err, RP_ERR_IO, "cannot stat '%s': %s", p, strerror(errno));
		} else if (!user_config_is_own_uid(st.st_uid)) {
			r = foreign(p, st.st_uid, abs_root, uc, err);
			free(p);
			/* one answer covers the workspace: safe, or refused */
			return r;
		}
		free(p);
		if (r < 0)
			return -1;
	}
	return 0;
}

int config_load_workspace(struct config *c, const char *abs_root, const struct user_config *uc,
			  struct rp_err *err)
{
	char *path = xasprintf("%s/.rp/config", strcmp(abs_root, "/") ? abs_root : "");
	struct buf b = BUF_INIT;
	struct stat st;
	struct doc *d = NULL;
	int r, ret = -1;

	set_defaults(c);
	r = user_config_read_file(path, "the config", &b, &st, err);
	if (r != 0) {
		ret = r > 0 ? 0 : -1;
		goto out;
	}
	if (!user_config_is_own_uid(st.st_uid) && foreign(path, st.st_uid, abs_root, uc, err) < 0)
		goto out;
	d = doc_load_buf(path, b.s, b.len, err);
	if (!d)
		goto out;
	ret = parse(c, d, err);
out:
	doc_free(d);
	buf_release(&b);
	free(path);
	return ret;
}

static int across_filesystems(void)
{
	const char *v = getenv("RP_DISCOVERY_ACROSS_FILESYSTEM");

	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"));
}

int config_find_root(const struct user_config *uc, char **root, struct rp_err *err)
{
	struct user_config tmp = { 0 };
	char dir[PATH_MAX], cwd[PATH_MAX];
	struct stat cur;
	int ret = 0, loaded = 0;

	*root = NULL;
	if (!getcwd(dir, sizeof(dir)) || dir[0] != '/')
		return 0;
	memcpy(cwd, dir, sizeof(cwd));
	if (stat(dir, &cur) < 0)
		return 0;
	for (;;) {
		char *probe = xasprintf("%s/.rp", strcmp(dir, "/") ? dir : "");
		struct stat st, up;
		char *slash;
		int found = stat(probe, &st) == 0 && S_ISDIR(st.st_mode);

		free(probe);
		if (found) {
			if (config_check_owner(dir, uc, err) < 0) {
				/* not the user's own directory: listing it may be the wrong fix */
				if (err && strcmp(dir, cwd)) {
					size_t n = strlen(err->msg);

					snprintf(err->msg + n, sizeof(err->msg) - n,
						 "\n(it was found above the current directory; to work "
						 "without it, run 'rp init' in your own project directory)");
				}
				ret = -1;
				break;
			}
			*root = xstrdup(dir);
			ret = 1;
			break;
		}
		if (!strcmp(dir, "/"))
			break;
		/* not past a directory of another user, unless it is in a safe workspace */
		if (!user_config_is_own_uid(cur.st_uid)) {
			if (!uc && !loaded) {
				/* an unreadable user config only means: nothing is safe */
				struct rp_err ignored = { 0 };

				loaded = 1;
				if (user_config_load(&tmp, &ignored) == 0)
					uc = &tmp;
			}
			if (!uc || (!user_config_dir_is_safe(uc, dir) &&
				    !user_config_dir_is_below_safe(uc, dir)))
				break;
		}
		slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &up) < 0)
			break;
		if (up.st_dev != cur.st_dev && !across_filesystems())
			break;
		cur = up;
	}
	user_config_release(&tmp);
	return ret;
}
