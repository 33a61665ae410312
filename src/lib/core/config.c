/*
 * config.c - loading .rp/config (format in config.h) through doc.c, and
 * deciding whose workspace may be read.
 *
 * Settings: a registry of declared sections (tables of keys with their
 * type and default) and a flat store of the values read, each with its
 * position. The loader walks the document once, looking every section and
 * key up in the tables; it has no knowledge of any particular key beyond
 * core's own cache.* and core.*, which it copies into struct config's
 * fields for the runner.
 *
 * Ownership: a directory or file is the user's when user_config_is_own_uid()
 * says so. The user config is read only when an owner check fails (to look
 * up safe.directories), so the common case costs two stat()s and no extra
 * file. .rp/config itself is checked with fstat on the descriptor that is
 * parsed, so a file replaced between the check and the read is still caught.
 *
 * Discovery (config_find_up) walks up from getcwd(), a physical path: at
 * each directory D it looks for a marker (D/.rp for config_find_root; the
 * runner's workspace also takes .dvc/ and .git, core/workspace.c); else it
 * moves to D's parent, but
 * not past a D that is not the user's (unless D lies below a safe
 * directory) and not into a parent on another device (st_dev; git's
 * GIT_DISCOVERY_ACROSS_FILESYSTEM is RP_DISCOVERY_ACROSS_FILESYSTEM here).
 * A directory found is then checked as a workspace: another user's is an error,
 * never a silent skip, so nobody works with settings they did not expect.
 */
#include "core/config.h"
#include "util/buf.h"
#include "util/numopt.h"
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
	       "/embed-cache.db\n/embed-cache.db-*\n/context-cache.db\n/context-cache.db-*\n/index\n";
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

/* ---- sections, declared in tables ------------------------------------------ */

static const struct config_key cache_keys[] = {
	{ "dir", CONFIG_STR, 0, ".rp/cache", NULL },
	{ "type", CONFIG_STR, 0, "reflink,copy", NULL },
	{ "save_sources", CONFIG_BOOL, 0, "true", NULL },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct config_key core_keys[] = {
	{ "jobs", CONFIG_UINT, 1024, "0", NULL },
	{ "gitignore", CONFIG_BOOL, 0, "true", NULL },  /* list cached outputs in .gitignore */
	{ NULL, 0, 0, NULL, NULL },
};
static const struct config_section cache_section = { "cache", 0, cache_keys };
static const struct config_section core_section = { "core", 0, core_keys };

#define MAX_SECTIONS 32
static const struct config_section *sections[MAX_SECTIONS] = { &cache_section, &core_section };
static size_t nsections = 2;

void config_declare(const struct config_section *s)
{
	for (size_t i = 0; i < nsections; i++)
		if (sections[i] == s || !strcmp(sections[i]->name, s->name))
			return;
	if (nsections == MAX_SECTIONS)
		BUG("more than %d config sections", MAX_SECTIONS);
	sections[nsections++] = s;
}

/* The declared section called `name` (the part before the dot of "remote.NAME"), or NULL. */
static const struct config_section *find_section(const char *name, size_t len)
{
	for (size_t i = 0; i < nsections; i++)
		if (strlen(sections[i]->name) == len && !strncmp(sections[i]->name, name, len))
			return sections[i];
	return NULL;
}

static const struct config_key *find_key(const struct config_section *s, const char *key)
{
	for (const struct config_key *k = s ? s->keys : NULL; k && k->name; k++)
		if (!strcmp(k->name, key))
			return k;
	return NULL;
}

/* ---- the store ---------------------------------------------------------------- */

const struct config_value *config_find(const struct config *c, const char *section, const char *key)
{
	for (size_t i = 0; i < c->nvals; i++)
		if (!strcmp(c->vals[i].section, section) && !strcmp(c->vals[i].key, key))
			return &c->vals[i];
	return NULL;
}

const char *config_get(const struct config *c, const char *section, const char *key)
{
	const struct config_value *v = config_find(c, section, key);
	const struct config_key *k;

	if (v)
		return v->value;
	k = find_key(find_section(section, strcspn(section, ".")), key);
	return k ? k->dflt : NULL;
}

static int bad(struct rp_err *err, const struct node *n, const char *msg)
{
	return node_fail(err, n, "%s", msg);
}

/* Checks value `v` of key `k` and returns its stored text (caller frees); NULL + err. */
static char *check_value(const struct config_key *k, const struct node *v, struct rp_err *err)
{
	char msg[128];
	long n;

	switch (k->type) {
	case CONFIG_BOOL:
		if (v->kind != NODE_SCALAR || node_scalar_type(v) != SCALAR_BOOL)
			break;
		return xstrdup(v->str[0] == 't' || v->str[0] == 'T' ? "true" : "false");
	case CONFIG_UINT:
		if (v->kind == NODE_SCALAR && !numopt_parse_long(v->str, 0, k->max, &n))
			return xasprintf("%ld", n);
		snprintf(msg, sizeof(msg), "'%s' must be a number from 0 to %ld", k->name, k->max);
		bad(err, v, msg);
		return NULL;
	case CONFIG_STR:
		if (v->kind == NODE_SCALAR && *v->str)
			return xstrdup(v->str);
		bad(err, v, "expected a non-empty string");
		return NULL;
	}
	bad(err, v, "expected true or false");
	return NULL;
}

/* Reads the keys of mapping `m` into section `sec` (declared as `s`). 0 or -1 + err. */
static int parse_keys(struct config *c, const struct config_section *s, const char *sec,
		      const struct node *m, struct rp_err *err)
{
	if (m->kind != NODE_MAP)
		return bad(err, m, "expected a mapping");
	for (size_t j = 0; j < m->n; j++) {
		const struct node *kn = m->keys[j];
		const struct config_key *k = find_key(s, kn->str);
		struct config_value *v;
		char *text;

		if (!k)
			return node_fail(err, kn, "unknown setting '%s.%s'", sec, kn->str);
		if (k->refused)
			return node_fail(err, kn, "'%s.%s' %s", sec, kn->str, k->refused);
		if (!(text = check_value(k, m->items[j], err)))
			return -1;
		ALLOC_GROW(c->vals, c->nvals + 1, c->valloc);
		v = &c->vals[c->nvals++];
		v->section = xstrdup(sec);
		v->key = xstrdup(k->name);
		v->value = text;
		v->file = xstrdup(kn->file);
		v->line = kn->line;
		v->col = kn->col;
	}
	return 0;
}

/* "unknown section 'x' (expected cache, core, embed or llm)" at key node `kn`. */
static int unknown_section(const struct node *kn, struct rp_err *err)
{
	struct buf list = BUF_INIT;
	int r;

	for (size_t i = 0; i < nsections; i++)
		buf_addf(&list, "%s%s", !i ? "" : i + 1 < nsections ? ", " : " or ", sections[i]->name);
	r = node_fail(err, kn, "unknown section '%s' (expected %s)", kn->str, list.s);
	buf_release(&list);
	return r;
}

/* core's own settings into the fields of `c` (the values were checked). */
static void fill_core(struct config *c)
{
	long jobs = 0;

	free(c->cache_dir);
	free(c->cache_type);
	c->cache_dir = xstrdup(config_get(c, "cache", "dir"));
	c->cache_type = xstrdup(config_get(c, "cache", "type"));
	c->save_sources = !strcmp(config_get(c, "cache", "save_sources"), "true");
	/* check_value() stored a plain number in range: this cannot fail */
	numopt_parse_long(config_get(c, "core", "jobs"), 0, INT_MAX, &jobs);
	c->jobs = (int)jobs;
}

int config_parse(struct config *c, const struct doc *d, struct rp_err *err)
{
	const struct node *root = d->root;

	memset(c, 0, sizeof(*c));
	fill_core(c);
	if (!root)
		return 0;
	if (root->kind != NODE_MAP)
		return bad(err, root, "expected a mapping with 'cache' and 'core' sections");
	for (size_t i = 0; i < root->n; i++) {
		const char *name = root->keys[i]->str;
		const struct config_section *s = find_section(name, strlen(name));
		const struct node *m = root->items[i];
		int r = 0;

		if (!s)
			return unknown_section(root->keys[i], err);
		if (!s->named) {
			r = parse_keys(c, s, name, m, err);
		} else if (m->kind != NODE_MAP) {
			r = bad(err, m, "expected a mapping");
		} else {
			for (size_t j = 0; j < m->n && !r; j++) {
				char *sec = xasprintf("%s.%s", name, m->keys[j]->str);

				r = parse_keys(c, s, sec, m->items[j], err);
				free(sec);
			}
		}
		if (r < 0)
			return -1;
	}
	fill_core(c);
	return 0;
}

void config_release(struct config *c)
{
	free(c->cache_dir);
	free(c->cache_type);
	for (size_t i = 0; i < c->nvals; i++) {
		free(c->vals[i].section);
		free(c->vals[i].key);
		free(c->vals[i].value);
		free(c->vals[i].file);
	}
	free(c->vals);
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

	memset(c, 0, sizeof(*c));
	fill_core(c);
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
	config_release(c);
	ret = config_parse(c, d, err);
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

/* Whether directory `dir` holds one of `markers` (a final '/': a directory). */
static int has_marker(const char *dir, const char *const *markers)
{
	for (size_t i = 0; markers[i]; i++) {
		size_t len = strlen(markers[i]);
		int want_dir = len && markers[i][len - 1] == '/';
		char *probe = xasprintf("%s/%.*s", strcmp(dir, "/") ? dir : "",
					(int)(len - want_dir), markers[i]);
		struct stat st;
		int found = stat(probe, &st) == 0 && (!want_dir || S_ISDIR(st.st_mode));

		free(probe);
		if (found)
			return 1;
	}
	return 0;
}

int config_find_root(const struct user_config *uc, char **root, struct rp_err *err)
{
	static const char *const rp_dir[] = { ".rp/", NULL };

	return config_find_up(uc, rp_dir, root, err);
}

int config_find_up(const struct user_config *uc, const char *const *markers, char **root,
		   struct rp_err *err)
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
		struct stat up;
		char *slash;

		if (has_marker(dir, markers)) {
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
