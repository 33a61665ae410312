/*
 * chat.h - one OpenAI-compatible chat completion at a time, with retries.
 *
 *     struct chat c;
 *     if (chat_init(&c, "http://127.0.0.1:8080/v1", "gpt-4o-mini", key, &err) < 0) ...
 *     char *answer = chat_complete(&c, system, user, &err);   (caller frees)
 *     chat_release(&c);
 *
 * POSTs {"model","messages":[system,user],"temperature":0} to
 * BASE_URL/chat/completions through http.h (which retries 429, 408, 5xx
 * and transport failures with backoff and jitter, honouring retry-after-ms
 * and Retry-After) and returns choices[0].message.content; any other status
 * fails at once with the provider's message. The API key is sent as
 * "Authorization: Bearer KEY" and never appears in any message: error texts
 * show it, and any part of it, as "[REDACTED]" (rp_redact, error.h).
 * Each request is bounded by `timeout`, all of them together by `deadline`
 * (from chat_init); the response body by HTTP_MAX_RESPONSE.
 */
#ifndef RP_CHAT_H
#define RP_CHAT_H

#include "util/error.h"

struct chat {
	char *url;              /* BASE_URL/chat/completions */
	char *model;
	char *api_key;          /* NULL: no Authorization header */
	int max_retries;        /* default 5 */
	long timeout;           /* seconds per request, > 0, default 120 */
	long deadline;          /* seconds for all requests from chat_init(), default 3600 */
	double t0;              /* when chat_init() ran (monotonic seconds) */
	unsigned long requests; /* HTTP requests sent */
	unsigned long retries;  /* of which retries */
};

/* Sets up `c`; copies the strings (api_key may be NULL). Release with chat_release(). */
int chat_init(struct chat *c, const char *base_url, const char *model, const char *api_key,
	      struct rp_err *err);
/* Frees what `c` holds and wipes the key from memory. */
void chat_release(struct chat *c);

/*
 * Asks for one completion. Returns the message content, newly allocated
 * (the caller frees), or NULL + err (RP_ERR_IO) after the retries are spent
 * or on a permanent error.
 */
char *chat_complete(struct chat *c, const char *system, const char *user, struct rp_err *err);

#endif
