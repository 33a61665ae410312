/*
 * wspath.h - the workspace path policy: which paths rp may read, write,
 * store or restore.
 *
 * Every path rp handles on behalf of a pipeline, a lock, a journal, a
 * run-cache entry or a store manifest is relative to the workspace root (the
 * current directory). The trust-boundary rules (rp.yaml(5), rp.lock(5)) are
 * the same wherever such a path comes from, so they live here once:
 *   - lexically, a path is normalised (wspath_normalize) and must not be
 *     absolute, leave the workspace through "..", or lie in a ".git" or rp's
 *     own ".rp" in any spelling a file system treats as the same name
 *     (wspath_name_reserved);
 *   - on disk, no symlink on the way may lead outside the workspace or into
 *     such a directory (wspath_link_outside).
 * Pipeline loading (core/pipeline), the lock and journal readers (lock/),
 * store manifests (store/) and checkout all ask these functions; none keeps
 * a rule of its own.
 */
#ifndef RP_WSPATH_H
#define RP_WSPATH_H

#include <stddef.h>

/*
 * Normalises `path` relative to `base` ("." or a relative dir): joins, removes
 * "." and "x/.." components and duplicate slashes. Returns a new string (caller
 * frees; "." for the root itself), or NULL if the result is absolute or
 * escapes the workspace via "..".
 */
char *wspath_normalize(const char *base, const char *path);

/*
 * Whether `path`, as a lock, journal or run-cache entry names it, normalises
 * to a path inside the workspace and in no .git or .rp (wspath_reserved());
 * the root itself (".") is allowed only with `allow_root`.
 */
int wspath_is_safe(const char *path, int allow_root);

/*
 * Whether `rel`, a path inside a stored directory (a manifest line), is one
 * rp may restore: not empty, not absolute, no empty, "." or ".." component,
 * no trailing slash, and no reserved component (wspath_name_reserved()).
 * Unlike wspath_is_safe() nothing is normalised: a manifest rp wrote has
 * none of these, so one that does is refused.
 */
int wspath_rel_is_safe(const char *rel);

/*
 * Whether the file name of `len` bytes at `name` is one rp never writes,
 * stores or restores: git's ".git" (WSPATH_RESERVED_GIT) or rp's ".rp"
 * (WSPATH_RESERVED_RP), compared as any file system would: case-insensitively
 * (".GIT", ".Git"), without the trailing dots and spaces Windows file systems
 * drop (".git."), as the 8.3 short name "GIT~1", and without the code points
 * HFS+ ignores (U+200C..U+200F, U+202A..U+202E, U+206A..U+206F, U+FEFF), as
 * git's own verify_path() does. 0 when it is neither.
 */
enum { WSPATH_RESERVED_GIT = 1, WSPATH_RESERVED_RP = 2 };
int wspath_name_reserved(const char *name, size_t len);
/* The first reserved '/'-separated component of `path` (wspath_name_reserved()), or 0. */
int wspath_reserved(const char *path);

/*
 * Whether normalised workspace-relative `path` reaches outside the workspace
 * through a symlink. The current directory is the workspace root, whose real
 * path is `root`. Each existing component but the last (and the last too with
 * `last`: a dep is read through it, while an out is replaced, never followed)
 * that is a symlink must resolve inside `root` and into no .git or .rp
 * there (wspath_name_reserved(): the workspace's own, a nested repository's);
 * the directory prefix of `skip` bytes (0: none) is known to pass and not
 * looked at. Returns NULL when it stays inside, else the offending symlink's
 * path (a prefix of `path`) with its resolved target in *target; the caller
 * frees both.
 */
char *wspath_link_outside(const char *root, const char *path, size_t skip, int last,
			  char **target);

#endif
