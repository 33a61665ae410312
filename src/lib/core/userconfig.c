/*
 * userconfig.c - the user's own settings (format and rules in userconfig.h).
 *
 * The file is opened once and every check is made on the open descriptor
 * (fstat), so what is checked is what is read: a file swapped between a
 * stat() and an open() cannot slip through. It is refused whole, never in
 * part, when it is not a regular file, not owned by the user (or root), or
 * writable by group or others; a missing file is the empty configuration.
 *
 * The built-in default, used when the file has no credentials section, lets
 * OPENAI_API_KEY go to api.openai.com over https and nothing else anywhere.
 * A credentials section replaces the default rather than adding to it, so
 * that what the user wrote is the whole list.
 *
 * Hosts are compared without case and without the brackets of an IPv6
 * literal. Reading a URL's host for that check is in usersend.c, apart,
 * so that rp itself, which sends nothing, does not load libcurl.
 */
#include "core/userconfig.h"
#include "yaml/doc.h"
#include "util/numopt.h"

#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define USER_CONFIG_MAX_BYTES (1u << 20)

int user_config_is_own_uid(uid_t owner)
{
	uid_t me = geteuid();
	const char *sudo;
	long v;

	if (owner == me)
		return 1;
	if (me != 0)
		return 0;
	/* as git does: root through sudo also owns what the invoking user owns */
	sudo = getenv("SUDO_UID");
	return sudo && !numopt_parse_long(sudo, 0, LONG_MAX, &v) &&
	       (uid_t)v == owner && (long)(uid_t)v == v;
}

char *user_config_path(void)
{
	const char *p = getenv("RP_USER_CONFIG");
	const char *home;

	if (p && *p)
		return xstrdup(p);
	p = getenv("XDG_CONFIG_HOME");
	if (p && *p == '/')
		return xasprintf("%s/rp/config", p);
	home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(geteuid());

		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || !*home)
		return NULL;
	return xasprintf("%s/.config/rp/config", home);
}

static int bad(struct rp_err *err, const struct node *n, const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	return node_fail(err, n, "%s", msg);
}

/* A copy of absolute path `s` without trailing slashes ("/" stays). */
static char *norm_dir(const char *s)
{
	size_t n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		n--;
	return xstrndup(s, n);
}

/*
 * Splits a host entry "host", "host:port", "[v6]" or "[v6]:port" into the
 * bare host (into h[hsize], brackets dropped) and the port (-1: any).
 * 0, or -1 when it is not of that shape.
 */
static int split_host(const char *e, char *h, size_t hsize, long *port)
{
	const char *colon, *end;
	size_t n;

	*port = -1;
	if (*e == '[') {
		end = strchr(e, ']');
		if (!end)
			return -1;
		n = (size_t)(end - e - 1);
		if (n == 0 || n >= hsize)
			return -1;
		memcpy(h, e + 1, n);
		h[n] = '\0';
		colon = end[1] == ':' ? end + 1 : NULL;
		if (!colon && end[1])
			return -1;
	} else {
		colon = strchr(e, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;          /* a bare IPv6 literal: no port */
		n = colon ? (size_t)(colon - e) : strlen(e);
		if (n == 0 || n >= hsize)
			return -1;
		memcpy(h, e, n);
		h[n] = '\0';
	}
	for (const char *p = h; *p; p++)
		if (strchr("/@?#\\ \t\r\n", *p) || (unsigned char)*p < 0x20)
			return -1;
	if (colon) {
		if (numopt_parse_long(colon + 1, 1, 65535, port) < 0)
			return -1;
	}
	return 0;
}

static int env_name_ok(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/*
 * The strings of sequence `v` (a null value is an empty list) into a new
 * array *out of *n; `what` names an item for messages. Each item goes
 * through `check` (may be NULL), which returns a message or NULL.
 */
static int get_list(const struct node *v, char ***out, size_t *n, const char *what,
		    const char *(*check)(const char *), struct rp_err *err)
{
	if (v->kind == NODE_SCALAR && !v->quoted && node_scalar_type(v) == SCALAR_NULL)
		return 0;
	if (v->kind != NODE_SEQ)
		return bad(err, v, "expected a list of %s", what);
	*out = xcalloc(v->n ? v->n : 1, sizeof(char *));
	for (size_t i = 0; i < v->n; i++) {
		const struct node *it = v->items[i];
		const char *msg;

		if (it->kind != NODE_SCALAR || !*it->str)
			return bad(err, it, "expected %s", what);
		if (check && (msg = check(it->str)))
			return bad(err, it, "%s", msg);
		(*out)[(*n)++] = it->str[0] == '/' ? norm_dir(it->str) : xstrdup(it->str);
	}
	return 0;
}

static const char *check_safe_dir(const char *s)
{
	if (!strcmp(s, "*"))
		return NULL;
	return s[0] == '/' ? NULL : "expected an absolute path or \"*\"";
}

static const char *check_abs(const char *s)
{
	return s[0] == '/' ? NULL : "expected an absolute path";
}

static const char *check_host(const char *s)
{
	char h[256];
	long port;

	return split_host(s, h, sizeof(h), &port) < 0
		? "expected \"host\" or \"host:port\" (port 1 to 65535)" : NULL;
}

static int unknown(struct rp_err *err, const struct node *k, const char *sec, const char *expected)
{
	return node_fail(err, k, "unknown setting '%s%s%s' (expected %s)", sec, *sec ? "." : "",
			 k->str, expected);
}

static int parse(struct user_config *uc, const struct node *root, struct rp_err *err)
{
	if (!root)
		return 0;
	if (root->kind != NODE_MAP)
		return bad(err, root, "expected a mapping with %s sections",
			   "'safe', 'credentials' and 'stores'");
	for (size_t i = 0; i < root->n; i++) {
		const struct node *k = root->keys[i], *v = root->items[i];
		int null = v->kind == NODE_SCALAR && !v->quoted && node_scalar_type(v) == SCALAR_NULL;

		if (!strcmp(k->str, "credentials")) {
			uc->creds_set = 1;
			if (null)
				continue;
			if (v->kind != NODE_MAP)
				return bad(err, v, "expected a mapping of %s",
					   "environment variable names to lists of hosts");
			uc->creds = xcalloc(v->n ? v->n : 1, sizeof(*uc->creds));
			for (size_t j = 0; j < v->n; j++) {
				struct user_credential *c = &uc->creds[uc->ncreds];

				if (!env_name_ok(v->keys[j]->str))
					return bad(err, v->keys[j], "'%s' is not an environment variable name",
						   v->keys[j]->str);
				c->env = xstrdup(v->keys[j]->str);
				uc->ncreds++;
				if (get_list(v->items[j], &c->hosts, &c->nhosts,
					     "hosts (\"host\" or \"host:port\")", check_host, err) < 0)
					return -1;
			}
		} else if (!strcmp(k->str, "safe") || !strcmp(k->str, "stores")) {
			int safe = k->str[0] == 's' && k->str[1] == 'a';

			if (null)
				continue;
			if (v->kind != NODE_MAP)
				return bad(err, v, "expected a mapping with '%s'", safe ? "directories" : "gc");
			for (size_t j = 0; j < v->n; j++) {
				const struct node *sk = v->keys[j];
				int r;

				if (safe && !strcmp(sk->str, "directories"))
					r = get_list(v->items[j], &uc->safe_dirs, &uc->nsafe,
						     "absolute paths (or \"*\")", check_safe_dir, err);
				else if (!safe && !strcmp(sk->str, "gc"))
					r = get_list(v->items[j], &uc->gc_stores, &uc->ngc_stores,
						     "absolute paths", check_abs, err);
				else
					r = unknown(err, sk, k->str, safe ? "safe.directories" : "stores.gc");
				if (r < 0)
					return -1;
			}
		} else {
			return unknown(err, k, "", "safe, credentials or stores");
		}
	}
	return 0;
}

int user_config_read_file(const char *path, const char *what, struct buf *b, struct stat *st,
			  struct rp_err *err)
{
	char tmp[8192];
	ssize_t n;
	int fd, ret = -1;

	/* O_NONBLOCK: a FIFO put in its place must not hang the open */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return rp_err_set(err, RP_ERR_IO, "cannot read %s '%s': %s", what, path,
				  strerror(errno));
	}
	if (fstat(fd, st) < 0) {
		rp_err_set(err, RP_ERR_IO, "cannot stat %s '%s': %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		rp_err_set(err, RP_ERR_INPUT, "%s '%s' is not a regular file; not read", what, path);
		goto out;
	}
	while (b->len <= USER_CONFIG_MAX_BYTES && (n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rp_err_set(err, RP_ERR_IO, "cannot read %s '%s': %s", what, path,
				   strerror(errno));
			goto out;
		}
		buf_add(b, tmp, (size_t)n);
	}
	if (b->len > USER_CONFIG_MAX_BYTES) {
		rp_err_set(err, RP_ERR_INPUT, "%s '%s' is larger than 1 MiB", what, path);
		goto out;
	}
	ret = 0;
out:
	close(fd);
	return ret;
}

int user_config_load(struct user_config *uc, struct rp_err *err)
{
	struct buf b = BUF_INIT;
	struct stat st;
	struct doc *d = NULL;
	int r, ret = -1;

	memset(uc, 0, sizeof(*uc));
	uc->path = user_config_path();
	if (!uc->path)
		return 0;
	r = user_config_read_file(uc->path, "the user config", &b, &st, err);
	if (r != 0) {
		buf_release(&b);
		return r > 0 ? 0 : -1;
	}
	if (!user_config_is_own_uid(st.st_uid) && st.st_uid != 0) {
		rp_err_set(err, RP_ERR_INPUT, "the user config '%s' is owned by another user (uid %lu); "
			   "not read: it decides where your keys go (chown it or remove it)",
			   uc->path, (unsigned long)st.st_uid);
		goto out;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		rp_err_set(err, RP_ERR_INPUT, "the user config '%s' is writable by %s; not read: "
			   "it decides where your keys go (chmod go-w '%s')", uc->path,
			   st.st_mode & S_IWOTH ? "others" : "its group", uc->path);
		goto out;
	}
	d = doc_load_buf(uc->path, b.s, b.len, err);
	if (!d)
		goto out;
	ret = parse(uc, d->root, err);
out:
	doc_free(d);
	buf_release(&b);
	if (ret < 0) {
		char *path = uc->path;

		uc->path = NULL;
		user_config_release(uc);
		uc->path = path;
	}
	return ret;
}

static void free_list(char **l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void user_config_release(struct user_config *uc)
{
	free(uc->path);
	free_list(uc->safe_dirs, uc->nsafe);
	for (size_t i = 0; i < uc->ncreds; i++) {
		free(uc->creds[i].env);
		free_list(uc->creds[i].hosts, uc->creds[i].nhosts);
	}
	free(uc->creds);
	free_list(uc->gc_stores, uc->ngc_stores);
	memset(uc, 0, sizeof(*uc));
}

int user_config_dir_is_safe(const struct user_config *uc, const char *abs_dir)
{
	char *dir = norm_dir(abs_dir);
	int ok = 0;

	for (size_t i = 0; i < uc->nsafe && !ok; i++) {
		const char *s = uc->safe_dirs[i];
		size_t n = strlen(s);

		if (!strcmp(s, "*") || !strcmp(s, dir))
			ok = 1;
		/* "/srv/team/" + "*": any directory below /srv/team, as git's safe.directory */
		else if (n >= 2 && !strcmp(s + n - 2, "/*") && !strncmp(dir, s, n - 1) && dir[n - 1])
			ok = 1;
	}
	free(dir);
	return ok;
}

int user_config_dir_is_below_safe(const struct user_config *uc, const char *abs_dir)
{
	char *dir = norm_dir(abs_dir);
	size_t dn = strlen(dir);
	int ok = 0;

	for (size_t i = 0; i < uc->nsafe && !ok; i++) {
		const char *s = uc->safe_dirs[i];
		size_t n = strlen(s);

		if (n >= 2 && !strcmp(s + n - 2, "/*"))
			n -= 2;
		if (!strcmp(s, "*"))
			ok = 1;
		else if (n == 0)              /* "/", or "/" + "*" */
			ok = 1;
		else if (dn > n && !strncmp(dir, s, n) && dir[n] == '/')
			ok = 1;
	}
	free(dir);
	return ok;
}

/* Host names compare without case, IPv6 literals without their brackets. */
static int host_eq(const char *a, const char *b)
{
	size_t an = strlen(a), bn = strlen(b);

	if (an >= 2 && a[0] == '[' && a[an - 1] == ']') {
		a++;
		an -= 2;
	}
	if (bn >= 2 && b[0] == '[' && b[bn - 1] == ']') {
		b++;
		bn -= 2;
	}
	return an == bn && !strncasecmp(a, b, an);
}

int user_config_may_send(const struct user_config *uc, const char *env, const char *host,
			 int port)
{
	if (!uc->creds_set)
		return !strcmp(env, "OPENAI_API_KEY") && host_eq(host, "api.openai.com");
	for (size_t i = 0; i < uc->ncreds; i++) {
		const struct user_credential *c = &uc->creds[i];

		if (strcmp(c->env, env))
			continue;
		for (size_t j = 0; j < c->nhosts; j++) {
			char h[256];
			long p;

			if (split_host(c->hosts[j], h, sizeof(h), &p) < 0)
				continue;
			if (host_eq(h, host) && (p < 0 || p == port))
				return 1;
		}
	}
	return 0;
}

int user_config_may_gc(const struct user_config *uc, const char *abs_store)
{
	char *s = norm_dir(abs_store);
	int ok = 0;

	for (size_t i = 0; i < uc->ngc_stores && !ok; i++)
		ok = !strcmp(uc->gc_stores[i], s);
	free(s);
	return ok;
}
