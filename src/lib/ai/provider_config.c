/*
 * provider_config.c - the embed and llm sections of .rp/config, declared.
 *
 * Apart from provider.c on purpose: rp(1) declares these sections so that
 * it accepts and checks a .rp/config that holds them, and this file is all
 * it links for that. provider.c uses the user config's send rule and with
 * it libcurl's URL parser; linking it into rp made every rp command load
 * libcurl and its ~30 libraries, ~14 ms a run (bench/, issue 10).
 */
#include "ai/provider_config.h"
#include "core/config.h"

#include <stddef.h>

static const struct config_key embed_keys[] = {
	{ "provider", CONFIG_STR, 0, NULL },
	{ "base_url", CONFIG_STR, 0, NULL },
	{ "api_key_env", CONFIG_STR, 0, NULL },
	{ "cache", CONFIG_STR, 0, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct config_key llm_keys[] = {
	{ "base_url", CONFIG_STR, 0, NULL },
	{ "api_key_env", CONFIG_STR, 0, NULL },
	{ "model", CONFIG_STR, 0, NULL },
	{ NULL, 0, 0, NULL },
};
static const struct config_section embed_section = { "embed", 0, embed_keys };
static const struct config_section llm_section = { "llm", 0, llm_keys };

void provider_config_declare(void)
{
	config_declare(&embed_section);
	config_declare(&llm_section);
}
