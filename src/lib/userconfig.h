/*
 * userconfig.h - the user's own settings: what no repository may decide.
 *
 * A repository (rp.yaml, rp.lock, params, a committed .rp/config) is someone
 * else's input. Three decisions are the user's alone, so they live in a file
 * the user owns, never in a workspace:
 *
 *     ${RP_USER_CONFIG:-${XDG_CONFIG_HOME:-$HOME/.config}/rp/config}
 *
 *     safe:
 *       directories:              # workspaces owned by another user whose
 *         - /srv/team/project     # .rp/config rp may read ("*": any), as
 *                                 # git's safe.directory
 *     credentials:                # which variable's value may go to which host
 *       OPENAI_API_KEY: [api.openai.com]
 *       MY_GATEWAY_TOKEN: ["llm.internal:8443", 127.0.0.1]
 *     stores:
 *       gc:                       # stores outside a workspace that 'rp gc'
 *         - /mnt/shared/rp-store  # may delete from
 *
 * A host entry is "host" (any port) or "host:port"; hosts compare without
 * case. With no file (or no credentials section), OPENAI_API_KEY may go to
 * api.openai.com and nothing else may go anywhere.
 *
 * The file is refused (RP_ERR_INPUT, nothing of it used) when it is not a
 * regular file owned by the user or by root, or when it is writable by group
 * or others. A missing file is an empty configuration. Unknown keys are
 * errors with file:line:col, as in every other rp file.
 */
#ifndef RP_USERCONFIG_H
#define RP_USERCONFIG_H

#include <stddef.h>
#include "error.h"

struct user_credential {
	char *env;             /* the variable's NAME, never its value */
	char **hosts;          /* "host" or "host:port", as written */
	size_t nhosts;
};

struct user_config {
	char *path;            /* the file read (or that would be); for messages */
	char **safe_dirs;      /* absolute paths, or "*" */
	size_t nsafe;
	struct user_credential *creds;
	size_t ncreds;
	int creds_set;         /* the file had a credentials section */
	char **gc_stores;      /* absolute paths, as written */
	size_t ngc_stores;
};

/*
 * Fills `uc` from the user's file (see above). 0 on success, also when the
 * file is missing; -1 + err on an unreadable, untrusted or invalid file, with
 * `uc` left empty (user_config_release() is still safe). The caller releases.
 */
int user_config_load(struct user_config *uc, struct rp_err *err);
/* Frees what `uc` holds and empties it. */
void user_config_release(struct user_config *uc);

/*
 * 1 when the workspace directory `abs_dir` (absolute, no trailing slash),
 * owned by another user, is listed in safe.directories (or "*" is), else 0.
 */
int user_config_dir_is_safe(const struct user_config *uc, const char *abs_dir);

/*
 * 1 when the value of the environment variable named `env` may be sent to
 * `host` on `port` (the credentials section, or the built-in default), else 0.
 */
int user_config_may_send(const struct user_config *uc, const char *env, const char *host,
			 int port);

/*
 * 1 when `abs_store` (an absolute, normalised path) is listed in stores.gc,
 * so that 'rp gc' may delete from it although no workspace of the user's
 * created it, else 0.
 */
int user_config_may_gc(const struct user_config *uc, const char *abs_store);

#endif
