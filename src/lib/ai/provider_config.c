/*
 * provider_config.c - the embed and llm sections of .rp/config, declared.
 *
 * Apart from provider.c on purpose: rp(1) declares these sections so that
 * it accepts and checks a .rp/config that holds them, and this file is all
 * it links for that. provider.c uses the user config's send rule and with
 * it libcurl's URL parser; linking it into rp made every rp command load
 * libcurl and its ~30 libraries, ~14 ms a run (bench/, issue 10).
 *
 * Only where and how to connect is a setting here: base URL, key variable,
 * cache file. The provider and the model decide what a stage computes, and
 * .rp/config is in no stage's key, so those keys are declared refused: the
 * loader names file:line:col and says where they go (rp(1), Stage keys).
 */
#include "ai/provider_config.h"
#include "core/config.h"

#include <stddef.h>

/* The hint of a refused key; OPT is the stage program's option for it. */
#define REFUSED(opt) \
	"decides what a stage computes, and .rp/config is in no stage's key: " \
	"pass " opt " in the stage's command (a ${} of params.yaml keeps it in one place) " \
	"and remove it here"

static const struct config_key embed_keys[] = {
	{ "provider", CONFIG_STR, 0, NULL, REFUSED("--provider") },
	{ "model", CONFIG_STR, 0, NULL, REFUSED("--model") },
	{ "dimensions", CONFIG_STR, 0, NULL, REFUSED("--dimensions") },
	{ "base_url", CONFIG_STR, 0, NULL, NULL },
	{ "api_key_env", CONFIG_STR, 0, NULL, NULL },
	{ "cache", CONFIG_STR, 0, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct config_key llm_keys[] = {
	{ "model", CONFIG_STR, 0, NULL, REFUSED("--model") },
	{ "base_url", CONFIG_STR, 0, NULL, NULL },
	{ "api_key_env", CONFIG_STR, 0, NULL, NULL },
	{ NULL, 0, 0, NULL, NULL },
};
static const struct config_section embed_section = { "embed", 0, embed_keys };
static const struct config_section llm_section = { "llm", 0, llm_keys };

void provider_config_declare(void)
{
	config_declare(&embed_section);
	config_declare(&llm_section);
}
