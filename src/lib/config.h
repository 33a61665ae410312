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
 */
#ifndef RP_CONFIG_H
#define RP_CONFIG_H

#include "error.h"

struct config {
	char *cache_dir;       /* workspace-relative or absolute */
	char *cache_type;      /* comma list for store_set_links() */
	int save_sources;
	int jobs;
	/* embed.* and llm.*: NULL when not set */
	char *embed_provider, *embed_base_url, *embed_api_key_env, *embed_cache;
	char *llm_base_url, *llm_api_key_env, *llm_model;
};

/* Fills `c` with defaults, then the settings in `path` if it exists. 0 or -1 + err. */
int config_load(struct config *c, const char *path, struct rp_err *err);
/* Frees the strings in `c`. */
void config_release(struct config *c);
/*
 * Finds the workspace a stage program runs in: the nearest directory at or
 * above the current one that holds .rp/. Returns its path (caller frees), or
 * NULL when there is none.
 */
char *config_find_root(void);

/* The .rp/.gitignore rp writes: what in .rp/ is local, not for git. Static storage. */
const char *config_gitignore_text(void);
/* The text `rp init` writes: the defaults, commented. Static storage. */
const char *config_default_text(void);

#endif
