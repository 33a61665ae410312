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
 *         - /srv/team/project     # .rp/config rp may read, as git's
 *                                 # safe.directory; "*" is any directory,
 *                                 # and "DIR/" followed by "*" any below DIR
 *     credentials:                # which variable's value may go to which host
 *       OPENAI_API_KEY: [api.openai.com]
 *       MY_GATEWAY_TOKEN: ["llm.internal:8443", 127.0.0.1]
 *     stores:
 *       gc:                       # stores outside a workspace that 'rp gc'
 *         - /mnt/shared/rp-store  # may delete from
 *
 * A host entry is "host" (any port), "host:port", "[v6]" or "[v6]:port";
 * hosts compare without case. With no file (or no credentials section),
 * OPENAI_API_KEY may go to api.openai.com over https and nothing else may go
 * anywhere; a credentials section replaces that default (it is the whole
 * list). An entry the user writes allows http and https alike.
 *
 * The file is refused (RP_ERR_INPUT, nothing of it used) when it is not a
 * regular file owned by the user (user_config_is_own_uid) or by root, or
 * when it is writable by group or others; the checks are made with fstat on
 * the descriptor that is read. A missing file is an empty configuration.
 * Unknown keys are errors with file:line:col, as in every other rp file.
 */
#ifndef RP_USERCONFIG_H
#define RP_USERCONFIG_H

#include <stddef.h>
#include <sys/types.h>
#include "util/error.h"

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

/* The path of the user's file (see above), newly allocated; NULL without a home. */
char *user_config_path(void);

struct buf;
struct stat;
/*
 * Reads a small settings file the way user_config_load() does: one open()
 * (a FIFO does not block it), fstat() of that descriptor into *st, regular
 * files only, at most 1 MiB, appended to `b`. The caller checks *st (owner,
 * mode) before it uses the bytes. 0; 1 when `path` does not exist; -1 + err
 * (`what` names the file in messages, e.g. "the user config").
 */
int user_config_read_file(const char *path, const char *what, struct buf *b, struct stat *st,
			  struct rp_err *err);

/*
 * 1 when files owned by `owner` are the user's own: owner is the effective
 * uid, or rp runs as root and owner is SUDO_UID (as git trusts the invoking
 * user's repositories under sudo). Root's own files count for root only.
 */
int user_config_is_own_uid(uid_t owner);

/*
 * 1 when the workspace directory `abs_dir` (absolute, no trailing slash),
 * owned by another user, is listed in safe.directories (or "*" is), else 0.
 */
int user_config_dir_is_safe(const struct user_config *uc, const char *abs_dir);

/*
 * 1 when safe.directories lets rp look through `abs_dir` for a workspace
 * above it: an entry "*", or `abs_dir` lies strictly below an entry (the
 * subdirectories of a safe workspace belong to it).
 */
int user_config_dir_is_below_safe(const struct user_config *uc, const char *abs_dir);

/*
 * 1 when the value of the environment variable named `env` may be sent to
 * `host` on `port` (the credentials section, or the built-in default), else 0.
 * The scheme is not looked at here; see user_config_check_send().
 */
int user_config_may_send(const struct user_config *uc, const char *env, const char *host,
			 int port);

/*
 * The check an HTTP stage makes before it reads the key: 0 when the value
 * of `env` may go with requests to `url` (host and port as libcurl reads
 * them; the built-in default only over https). Otherwise -1 + err
 * (RP_ERR_INPUT) naming the variable (never its value), `origin` (what named
 * it, e.g. "--api-key-env" or "embed.api_key_env in '.rp/config'"), the
 * host and port, and the exact lines to add to the user's file.
 */
int user_config_check_send(const struct user_config *uc, const char *env, const char *origin,
			   const char *url, struct rp_err *err);

/*
 * 1 when `abs_store` (an absolute, normalised path) is listed in stores.gc,
 * so that 'rp gc' may delete from it although no workspace of the user's
 * created it, else 0.
 */
int user_config_may_gc(const struct user_config *uc, const char *abs_store);

#endif
