/*
 * git.c - running git to read other revisions (see git.h).
 *
 * Commands run with exec_capture() (util/exec.h: no shell), stdout
 * captured, stderr captured for the message. GIT_* variables of the caller apply as usual.
 */
#include "core/git.h"
#include "util/exec.h"

#include <stdlib.h>
#include <string.h>

/* Runs git with argv; stdout into out, stderr into errb. Returns exit code or -1 (reason in errb). */
static int run_git(char *const argv[], struct buf *out, struct buf *errb)
{
	struct rp_err err = { 0 };
	int rc = exec_capture(argv, out, errb, &err);

	if (rc < 0)
		buf_adds(errb, err.msg);
	return rc;
}

static void trim(struct buf *b)
{
	while (b->len && (b->s[b->len - 1] == '\n' || b->s[b->len - 1] == ' '))
		b->s[--b->len] = '\0';
}

int git_show(const char *rev, const char *path, struct buf *out, struct rp_err *err)
{
	struct buf errb = BUF_INIT;
	char *spec = xasprintf("%s:./%s", rev, path);
	char *verify = xasprintf("%s^{commit}", rev);
	char *argv_v[] = { "git", "rev-parse", "--verify", "--quiet", verify, NULL };
	char *argv_s[] = { "git", "show", spec, NULL };
	struct buf dummy = BUF_INIT;
	int rc, ret = -1;

	rc = run_git(argv_v, &dummy, &errb);
	if (rc != 0) {
		trim(&errb);
		rp_err_set(err, RP_ERR_INPUT, "'%s' is not a git revision here%s%s",
			   rev, errb.len ? ": " : "", errb.s);
		goto out;
	}
	buf_reset(&errb);
	rc = run_git(argv_s, out, &errb);
	if (rc == 0) {
		ret = 0;
	} else if (strstr(errb.s, "does not exist") || strstr(errb.s, "exists on disk, but not in")) {
		ret = 1;
	} else {
		trim(&errb);
		rp_err_set(err, RP_ERR_IO, "git show '%s' failed: %s", spec, errb.s);
	}
out:
	buf_release(&dummy);
	buf_release(&errb);
	free(spec);
	free(verify);
	return ret;
}

int git_revs_touching(const char *path, struct buf *out, struct rp_err *err)
{
	struct buf errb = BUF_INIT;
	/*
	 * --full-history: without it git simplifies history by following one
	 * TREESAME parent, so the side of a '-s ours' merge, whose rp.lock
	 * versions no ref names any more, would be skipped. --reflog: what git
	 * itself keeps (a rewritten branch's old commits) is kept here too.
	 */
	char *argv[] = { "git", "rev-list", "--all", "--reflog", "--full-history", "--",
			 (char *)path, NULL };
	int rc = run_git(argv, out, &errb);

	if (rc != 0) {
		trim(&errb);
		rp_err_set(err, RP_ERR_INPUT, "git rev-list failed: %s", errb.s);
		buf_release(&errb);
		return -1;
	}
	buf_release(&errb);
	return 0;
}

struct doc *git_load_doc(const char *rev, const char *path, int *absent, struct rp_err *err)
{
	struct buf b = BUF_INIT;
	struct doc *d = NULL;
	char *name = xasprintf("%s:%s", rev, path);
	int r = git_show(rev, path, &b, err);

	*absent = r == 1;
	if (r == 0)
		d = doc_load_buf(name, b.s, b.len, err);
	free(name);
	buf_release(&b);
	return d;
}

struct doc *git_load_doc_opt(const char *rev, const char *path, struct rp_err *err)
{
	int absent;

	err->kind = RP_ERR_NONE;
	return git_load_doc(rev, path, &absent, err);
}
