/*
 * provider.h - the settings of a model provider, for the stage programs
 * that call one (rp-embed, rp-context, and the index and eval stages).
 *
 * The sections of .rp/config they own are declared here, not in core/:
 *
 *     embed:                  # rp-embed and every program that embeds
 *       base_url: URL
 *       api_key_env: NAME     # the NAME of the variable, never the key
 *       cache: PATH           # workspace-relative or absolute
 *     llm:                    # rp-context --method llm
 *       base_url: URL
 *       api_key_env: NAME
 *
 * Where and how to connect only: the provider and the model decide what is
 * computed and come from the command line (provider_config.c refuses them
 * in .rp/config), so SECTION.provider and SECTION.model below are never set.
 *
 * A program that reads .rp/config calls provider_config_declare()
 * (provider_config.h) first, so that these sections are accepted and their
 * keys checked.
 *
 * provider_settings_resolve() is the one way a program settles its
 * provider: the workspace is found as config.h says (config_find_root),
 * its .rp/config read, and each setting is the command line's, else the
 * section's, else the default. The cache path, with one rule for every
 * cache:
 *   1. --cache PATH, as given;
 *   2. SECTION.cache of .rp/config, relative to the workspace;
 *   3. ROOT/.rp/FILE in a workspace;
 *   4. outside one, the user's cache: $XDG_CACHE_HOME/rp/FILE (an absolute
 *      $XDG_CACHE_HOME), else $HOME/.cache/rp/FILE (an absolute $HOME);
 *   5. else an error asking for --cache (never a shared directory like
 *      /tmp, where another user could plant a cache).
 * The key is read only by provider_settings_key(), when a request is due.
 */
#ifndef RP_PROVIDER_H
#define RP_PROVIDER_H

#include "util/error.h"

/* What the command line said; NULL: not given. Borrowed. */
struct provider_opts {
	const char *provider, *model, *base_url, *api_key_env, *cache;
};

/* The settled settings; every string owned (provider_settings_release). */
struct provider_settings {
	char *root;            /* the workspace, NULL outside one */
	char *section;         /* "embed" or "llm" */
	char *provider;        /* option, else SECTION.provider, else "local" ("openai" for llm) */
	char *model;           /* option, else SECTION.model, else NULL */
	char *base_url;        /* option, else SECTION.base_url, else https://api.openai.com/v1 */
	char *api_key_env;     /* option, else SECTION.api_key_env, else OPENAI_API_KEY */
	int key_env_explicit;  /* named by the option or the config, not by default */
	char *key_origin;      /* what named it: "--api-key-env", "embed.api_key_env in '...'", "the default" */
	char *cache_path;      /* by the rule above */
};

/*
 * Fills `s` for `section` ("embed" or "llm") from `o` and the workspace's
 * .rp/config, with the cache file `cache_file` ("embed-cache.db"). 0, or
 * -1 + err: a workspace that may not be read, a bad .rp/config, no cache
 * path (all RP_ERR_INPUT, or RP_ERR_IO for an unreadable file). `s` is to
 * be released either way.
 */
int provider_settings_resolve(struct provider_settings *s, const char *section,
			      const struct provider_opts *o, const char *cache_file, struct rp_err *err);
/* Frees the strings of `s`. */
void provider_settings_release(struct provider_settings *s);

/*
 * The API key: the value of $api_key_env, into *key (borrowed from the
 * environment; NULL when unset or empty). -1 + err (RP_ERR_INPUT) when the
 * variable was named explicitly but is unset, or when the user config does
 * not let it go to base_url's host (userconfig.h: the user decides, not
 * the repository); else 0.
 */
int provider_settings_key(const struct provider_settings *s, const char **key, struct rp_err *err);

#endif
