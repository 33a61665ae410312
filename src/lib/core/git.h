/*
 * git.h - reading files of other revisions through the git command.
 *
 * rp does not link libgit2: it runs `git show REV:./PATH` (PATH relative to
 * the current directory, so workspaces in a subdirectory of a repository
 * work) and `git rev-list`. Errors carry git's own message.
 */
#ifndef RP_GIT_H
#define RP_GIT_H

#include "util/buf.h"
#include "yaml/doc.h"
#include "util/error.h"

/*
 * Reads PATH as of git revision REV into `out`. Returns 0; 1 when the
 * revision exists but has no such file; -1 + err when git fails (not a
 * repository, unknown revision: RP_ERR_INPUT with git's message).
 */
int git_show(const char *rev, const char *path, struct buf *out, struct rp_err *err);
/*
 * Loads PATH as of REV as a YAML document named "REV:PATH" in messages.
 * Returns the doc (caller frees with doc_free), or NULL: with *absent set
 * when REV has no such file (err untouched), else with err filled.
 */
struct doc *git_load_doc(const char *rev, const char *path, int *absent, struct rp_err *err);
/*
 * As git_load_doc(), for a file that may be absent: NULL with err->kind
 * RP_ERR_NONE when REV has no such file, NULL with err filled on a failure.
 */
struct doc *git_load_doc_opt(const char *rev, const char *path, struct rp_err *err);
/*
 * Lists the commits (hex, one per line in `out`) reachable from any ref or
 * reflog entry that changed PATH, with the full history (no simplification:
 * the side branches of merges that kept one parent's PATH are walked too),
 * so every version of PATH that git holds is the version at one of them.
 * 0 or -1 + err.
 */
int git_revs_touching(const char *path, struct buf *out, struct rp_err *err);

#endif
