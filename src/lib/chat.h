/*
 * chat.h - one OpenAI-compatible chat completion at a time, with retries.
 *
 *     struct chat c;
 *     if (chat_init(&c, "http://127.0.0.1:8080/v1", "gpt-4o-mini", key, &err) < 0) ...
 *     char *answer = chat_complete(&c, system, user, &err);   (caller frees)
 *     chat_release(&c);
 *
 * POSTs {"model","messages":[system,user],"temperature":0} to
 * BASE_URL/chat/completions and returns choices[0].message.content.
 * 429, 408, 5xx and transport failures are retried up to max_retries times
 * with exponential backoff and jitter, waiting at least what retry-after-ms
 * or Retry-After asks; any other status fails at once with the provider's
 * message. The API key is sent as "Authorization: Bearer KEY" and never
 * appears in any message: error texts are scrubbed of it.
 */
#ifndef RP_CHAT_H
#define RP_CHAT_H

#include "error.h"

struct chat {
	char *url;              /* BASE_URL/chat/completions */
	char *model;
	char *api_key;          /* NULL: no Authorization header */
	int max_retries;        /* default 5 */
	long timeout;           /* seconds per request, default 120 */
	double base_delay;      /* seconds before the first retry, default 0.5 */
	unsigned long requests; /* HTTP requests sent */
	unsigned long retries;  /* of which retries */
	void *curl;             /* private: the CURL easy handle */
};

/*
 * Sets up `c`; copies the strings (api_key may be NULL). 0, or -1 + err
 * (RP_ERR_IO) when curl cannot be initialised. Release with chat_release().
 */
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

/*
 * Seconds a "Retry-After" (delta-seconds or HTTP-date) or "retry-after-ms"
 * header value asks to wait; `ms` selects the latter. -1 when unparsable.
 */
double chat_parse_retry_after(const char *value, int ms);

#endif
