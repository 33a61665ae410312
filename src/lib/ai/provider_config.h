/*
 * provider_config.h - the embed and llm sections of .rp/config (their keys
 * are described in provider.h), declared apart from the resolver so that a
 * program can accept them without linking the HTTP stack.
 */
#ifndef RP_PROVIDER_CONFIG_H
#define RP_PROVIDER_CONFIG_H

/* Declares the embed and llm sections (config_declare()). Idempotent. */
void provider_config_declare(void);

#endif
