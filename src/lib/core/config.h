/*
 * config.h - .rp/config, the workspace's settings (YAML, in git).
 *
 *     cache:
 *       dir: .rp/cache          # the store; may be shared between workspaces
 *       type: reflink,copy      # how workspace copies are made (also hardlink, symlink)
 *       save_sources: true      # save deps that no stage produces into the store
 *     core:
 *       jobs: 0                 # default for -j (0: number of cores)
 *     embed:                    # defaults for rp-embed (its options win)
 *       provider: local         # or openai (any OpenAI-compatible server)
 *       base_url: https://api.openai.com/v1
 *       api_key_env: OPENAI_API_KEY   # the NAME of the variable, never the key
 *       cache: .rp/embed-cache.db
 *     llm:                      # defaults for rp-context --method llm
 *       base_url: ...
 *       api_key_env: ...
 *       model: ...
 *
 * A missing file means the defaults. Unknown keys are errors with file:line:col.
 *
 * Whose config is read (see rp(1), FILES): a workspace is trusted when its
 * directory, its .rp/ and its .rp/config are owned by the user rp runs as
 * (user_config_is_own_uid: the effective uid, or under sudo the invoking
 * user), or when the user lists it in safe.directories of the user config
 * (userconfig.h). Another user's workspace is refused with an error that
 * names the path and the lines to add, never silently skipped. The stage
 * programs find their workspace as git finds a repository: upwards from the
 * current directory, never into a parent on another file system (unless
 * RP_DISCOVERY_ACROSS_FILESYSTEM=1) nor past a directory that is not the
 * user's (unless it lies below a safe directory).
 *
 * Where a key is sent is not a workspace setting: embed.api_key_env and
 * llm.api_key_env only name a variable, and userconfig.h decides whether
 * its value may go to the base URL's host.
 */
#ifndef RP_CONFIG_H
#define RP_CONFIG_H

#include "util/error.h"
#include "core/userconfig.h"

struct config {
	char *cache_dir;       /* workspace-relative or absolute */
	char *cache_type;      /* comma list for store_set_links() */
	int save_sources;
	int jobs;
	/* embed.* and llm.*: NULL when not set */
	char *embed_provider, *embed_base_url, *embed_api_key_env, *embed_cache;
	char *llm_base_url, *llm_api_key_env, *llm_model;
};

/*
 * Fills `c` with defaults, then the settings in ABS_ROOT/.rp/config if it
 * exists, for a workspace that config_check_owner() accepted; 0 or -1 + err.
 * The file's owner is checked again with
 * fstat on the descriptor that is read. `uc` may be NULL (the user config
 * is then read only if a safe.directories entry must be looked up).
 */
int config_load_workspace(struct config *c, const char *abs_root, const struct user_config *uc,
			  struct rp_err *err);
/* Frees the strings in `c`. */
void config_release(struct config *c);
/*
 * 0 when the workspace at `abs_root` may be read: abs_root, abs_root/.rp and
 * abs_root/.rp/config (those that exist) are the user's own, or abs_root is
 * in safe.directories. Otherwise -1 + err (RP_ERR_INPUT) naming the path,
 * its owner and the lines to add to the user config. `uc` as above.
 */
int config_check_owner(const char *abs_root, const struct user_config *uc, struct rp_err *err);
/*
 * Finds the workspace a stage program runs in (see above): 1 with *root
 * set to its absolute path (caller frees), 0 when there is none (*root
 * NULL), -1 + err when the nearest .rp/ is another user's and not safe.
 * `uc` as above.
 */
int config_find_root(const struct user_config *uc, char **root, struct rp_err *err);

/* The .rp/.gitignore rp writes: what in .rp/ is local, not for git. Static storage. */
const char *config_gitignore_text(void);
/* The text `rp init` writes: the defaults, commented. Static storage. */
const char *config_default_text(void);

#endif
