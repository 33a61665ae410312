/*
 * provider.h - the settings of a model provider, for the stage programs
 * that call one (rp-embed, rp-context, and the index and eval stages).
 *
 * The sections of .rp/config they own are declared here, not in core/:
 *
 *     embed:                  # rp-embed and every program that embeds
 *       provider: local | openai
 *       base_url: URL
 *       api_key_env: NAME     # the NAME of the variable, never the key
 *       cache: PATH           # workspace-relative or absolute
 *     llm:                    # rp-context --method llm
 *       base_url: URL
 *       api_key_env: NAME
 *       model: ID
 *
 * A program that reads .rp/config calls provider_config_declare() first,
 * so that these sections are accepted and their keys checked.
 */
#ifndef RP_PROVIDER_H
#define RP_PROVIDER_H

/* Declares the embed and llm sections (config_declare()). Idempotent. */
void provider_config_declare(void);

#endif
