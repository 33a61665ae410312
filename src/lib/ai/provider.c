/*
 * provider.c - the embed and llm sections of .rp/config (provider.h).
 */
#include "ai/provider.h"
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
