/*
 * config.h - .rp/config, the workspace's settings (YAML, in git).
 *
 *     cache:
 *       dir: .rp/cache          # the store; may be shared between workspaces
 *       type: reflink,copy      # how workspace copies are made (also hardlink, symlink)
 *       save_sources: true      # save deps that no stage produces into the store
 *     core:
 *       jobs: 0                 # default for -j (0: number of cores)
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
};

/* Fills `c` with defaults, then the settings in `path` if it exists. 0 or -1 + err. */
int config_load(struct config *c, const char *path, struct rp_err *err);
/* Frees the strings in `c`. */
void config_release(struct config *c);
/* The text `rp init` writes: the defaults, commented. Static storage. */
const char *config_default_text(void);

#endif
