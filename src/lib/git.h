/*
 * git.h - reading files of other revisions through the git command.
 *
 * rp does not link libgit2: it runs `git show REV:./PATH` (PATH relative to
 * the current directory, so workspaces in a subdirectory of a repository
 * work) and `git rev-list`. Errors carry git's own message.
 */
#ifndef RP_GIT_H
#define RP_GIT_H

#include "buf.h"
#include "error.h"

/*
 * Reads PATH as of git revision REV into `out`. Returns 0; 1 when the
 * revision exists but has no such file; -1 + err when git fails (not a
 * repository, unknown revision: RP_ERR_INPUT with git's message).
 */
int git_show(const char *rev, const char *path, struct buf *out, struct rp_err *err);
/*
 * Lists the commits (hex, one per line in `out`) on any ref that changed
 * PATH. 0 or -1 + err.
 */
int git_revs_touching(const char *path, struct buf *out, struct rp_err *err);

#endif
