/*
 * config.h - .rp/config, the workspace's settings (YAML, in git).
 *
 *     cache:
 *       dir: .rp/cache          # the store; may be shared between workspaces
 *       type: reflink,copy      # how workspace copies are made (also hardlink, symlink)
 *       save_sources: true      # save deps that no stage produces into the store
 *     core:
 *       jobs: 0                 # default for -j (0: number of cores)
 *     embed:                    # declared by ai/provider.h: defaults for rp-embed
 *       base_url: https://api.openai.com/v1
 *       api_key_env: OPENAI_API_KEY   # the NAME of the variable, never the key
 *       cache: .rp/embed-cache.db
 *     llm:                      # declared by ai/provider.h: rp-context --method llm
 *       base_url: ...
 *       api_key_env: ...
 *
 * A missing file means the defaults. Unknown keys are errors with file:line:col.
 *
 * The rule (rp(1), Stage keys): .rp/config says where and how to connect
 * (base URL, key variable, cache file, jobs), never what is computed. It is
 * not part of any stage's key, so a setting that changes a stage's results
 * (embed.provider, llm.model) is refused with file:line:col and a hint to
 * move it to the stage's command or params (struct config_key.refused).
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

struct doc;

/*
 * The settings are a store of (section, key) -> value, filled from the file
 * and checked against tables of declared sections (struct config_section):
 * core/ declares cache and core, and each module declares its own (ai/
 * declares embed and llm: provider.h), so core/ knows no key of another
 * module. A program declares the sections of the modules it links before
 * it loads a config; a section nobody declared is an error, as is a key its
 * table does not list, both with file:line:col.
 *
 * A named section (named = 1) holds any number of NAME -> keys mappings,
 * as remotes will:
 *
 *     remote:
 *       origin:               # section "remote.origin"
 *         url: ...
 *
 * and is queried as config_get(c, "remote.origin", "url").
 */
enum config_type {
	CONFIG_STR,            /* a non-empty string */
	CONFIG_BOOL,           /* true or false; stored as "true" / "false" */
	CONFIG_UINT,           /* a whole number 0..max */
};

struct config_key {
	const char *name;      /* NULL ends a table */
	enum config_type type;
	long max;              /* CONFIG_UINT: the largest value */
	const char *dflt;      /* config_get()'s answer when unset; NULL: none */
	/*
	 * Non-NULL: the key is known but refused, with this hint after
	 * "file:line:col: 'SECTION.KEY' ...". For a setting that decides what a
	 * stage computes: such a setting belongs in the stage's command or
	 * params, where it is part of the stage's key (rp(1), Stage keys).
	 */
	const char *refused;
};

struct config_section {
	const char *name;      /* "cache"; a named section: "remote" */
	int named;             /* 1: NAME -> mapping of keys */
	const struct config_key *keys;
};

/* One setting read from the file; strings owned by the config. */
struct config_value {
	char *section;         /* "embed", or "remote.origin" for a named section */
	char *key;
	char *value;
	char *file;            /* where it was set, for messages */
	int line, col;
};

struct config {
	/* core's own settings, filled from cache.* and core.* after the load */
	char *cache_dir;       /* workspace-relative or absolute */
	char *cache_type;      /* comma list for store_set_links() */
	int save_sources;
	int jobs;
	/* every setting of the file, in file order */
	struct config_value *vals;
	size_t nvals, valloc;
};

/*
 * Declares section `s` (borrowed: static storage) for every later load.
 * Declaring the same table again does nothing; cache and core are always
 * declared. Not thread-safe: call it at start-up.
 */
void config_declare(const struct config_section *s);

/*
 * The value of `key` in `section` ("remote.origin" for a named section):
 * the file's, else the declared default, else NULL. Borrowed from `c`
 * (or static).
 */
const char *config_get(const struct config *c, const char *section, const char *key);
/* The setting as read from the file (with its position), or NULL when the file has none. */
const struct config_value *config_find(const struct config *c, const char *section, const char *key);

/*
 * Parses the YAML document `d` into `c` (set to the defaults first;
 * release with config_release) against the declared sections. 0, or
 * -1 + err (RP_ERR_INPUT, "file:line:col: ..."). config_load_workspace()
 * calls it; exposed for tests.
 */
int config_parse(struct config *c, const struct doc *d, struct rp_err *err);

/*
 * Fills `c` with defaults, then the settings in ABS_ROOT/.rp/config if it
 * exists, for a workspace that config_check_owner() accepted; 0 or -1 + err.
 * The file's owner is checked again with
 * fstat on the descriptor that is read. `uc` may be NULL (the user config
 * is then read only if a safe.directories entry must be looked up).
 */
int config_load_workspace(struct config *c, const char *abs_root, const struct user_config *uc,
			  struct rp_err *err);
/* Frees the settings in `c`. */
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
/*
 * As config_find_root(), for the nearest directory that holds one of
 * `markers` (a NULL-terminated list of names; a final '/' asks for a
 * directory: ".rp/", ".git"), with the same stops and owner check.
 */
int config_find_up(const struct user_config *uc, const char *const *markers, char **root,
		   struct rp_err *err);

/* The .rp/.gitignore rp writes: what in .rp/ is local, not for git. Static storage. */
const char *config_gitignore_text(void);
/* The text `rp init` writes: the defaults, commented. Static storage. */
const char *config_default_text(void);

#endif
