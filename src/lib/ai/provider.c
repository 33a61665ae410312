/*
 * provider.c - the one resolver of a provider's settings (provider.h). The
 * embed and llm sections it reads are declared in provider_config.c.
 */
#include "ai/provider.h"
#include "ai/provider_config.h"
#include "core/config.h"
#include "core/userconfig.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_BASE_URL "https://api.openai.com/v1"
#define DEFAULT_KEY_ENV "OPENAI_API_KEY"

/* Step 4 of the cache rule: the user's cache directory, or NULL. */
static char *user_cache(const char *file)
{
	const char *home = getenv("XDG_CACHE_HOME");

	if (home && *home == '/')
		return xasprintf("%s/rp/%s", home, file);
	home = getenv("HOME");
	if (home && *home == '/')
		return xasprintf("%s/.cache/rp/%s", home, file);
	return NULL;
}

static char *pick(const char *opt, const struct config *cfg, const char *section, const char *key,
		  const char *dflt)
{
	const char *v = opt ? opt : config_get(cfg, section, key);

	return v ? xstrdup(v) : dflt ? xstrdup(dflt) : NULL;
}

int provider_settings_resolve(struct provider_settings *s, const char *section,
			      const struct provider_opts *o, const char *cache_file, struct rp_err *err)
{
	struct config cfg;
	const char *cache, *kenv;
	int ret = 0;

	memset(s, 0, sizeof(*s));
	memset(&cfg, 0, sizeof(cfg));
	s->section = xstrdup(section);
	provider_config_declare();
	if (config_find_root(NULL, &s->root, err) < 0)
		return -1;
	if (s->root && config_load_workspace(&cfg, s->root, NULL, err) < 0) {
		config_release(&cfg);
		return -1;
	}
	s->provider = pick(o->provider, &cfg, section, "provider", strcmp(section, "llm") ? "local" : "openai");
	s->model = pick(o->model, &cfg, section, "model", NULL);
	s->base_url = pick(o->base_url, &cfg, section, "base_url", DEFAULT_BASE_URL);
	kenv = o->api_key_env ? o->api_key_env : config_get(&cfg, section, "api_key_env");
	s->key_env_explicit = kenv != NULL;
	s->api_key_env = xstrdup(kenv ? kenv : DEFAULT_KEY_ENV);
	if (o->api_key_env)
		s->key_origin = xstrdup("--api-key-env");
	else if (kenv)
		s->key_origin = xasprintf("%s.api_key_env in '%s/.rp/config'", section, s->root);
	else
		s->key_origin = xstrdup("the default");
	cache = config_get(&cfg, section, "cache");
	if (o->cache)
		s->cache_path = xstrdup(o->cache);
	else if (cache && s->root && cache[0] != '/')
		s->cache_path = xasprintf("%s/%s", s->root, cache);
	else if (cache)
		s->cache_path = xstrdup(cache);
	else if (s->root)
		s->cache_path = xasprintf("%s/.rp/%s", s->root, cache_file);
	else if (!(s->cache_path = user_cache(cache_file)))
		ret = rp_err_set(err, RP_ERR_INPUT, "not inside an rp workspace (no .rp/ here or above) and "
				 "no $XDG_CACHE_HOME or $HOME for a user cache: pass --cache PATH");
	config_release(&cfg);
	return ret;
}

void provider_settings_release(struct provider_settings *s)
{
	free(s->root);
	free(s->section);
	free(s->provider);
	free(s->model);
	free(s->base_url);
	free(s->api_key_env);
	free(s->key_origin);
	free(s->cache_path);
	memset(s, 0, sizeof(*s));
}

int provider_settings_key(const struct provider_settings *s, const char **key, struct rp_err *err)
{
	struct user_config uc;
	int r;

	*key = getenv(s->api_key_env);
	if (*key && !**key)
		*key = NULL;
	if (!*key && s->key_env_explicit)
		return rp_err_set(err, RP_ERR_INPUT, "the environment variable '%s' (named by --api-key-env "
				  "or %s.api_key_env) is not set; export it with the API key", s->api_key_env,
				  s->section);
	if (!*key)
		return 0;
	/* which variable goes to which host is the user's decision, not the repository's */
	r = user_config_load(&uc, err);
	if (r == 0)
		r = user_config_check_send(&uc, s->api_key_env, s->key_origin, s->base_url, err);
	user_config_release(&uc);
	return r < 0 ? -1 : 0;
}
