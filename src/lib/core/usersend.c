/*
 * usersend.c - whether a key may go to a URL (user_config_check_send()).
 *
 * Apart from userconfig.c because it reads URLs with libcurl's own parser
 * (curl_url), the same one that later connects, so the host checked is the
 * host that gets the key ("https://api.openai.com@evil.example/" is
 * evil.example here too); only the stage programs that send requests link
 * it, and rp's own start-up loads no libcurl.
 */
#include "core/userconfig.h"
#include "util/buf.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int user_config_check_send(const struct user_config *uc, const char *env, const char *origin,
			   const char *url, struct rp_err *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port_s = NULL, *given_port = NULL;
	struct buf fix = BUF_INIT;
	const struct user_credential *have = NULL;
	int port, ret = -1;

	if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port_s, CURLU_DEFAULT_PORT) != CURLUE_OK) {
		rp_err_set(err, RP_ERR_INPUT, "cannot read the host of the base URL; no key is sent");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &given_port, 0) != CURLUE_OK)
		given_port = NULL;
	port = atoi(port_s);
	if (user_config_may_send(uc, env, host, port) &&
	    (uc->creds_set || !strcasecmp(scheme, "https"))) {
		ret = 0;
		goto out;
	}
	for (size_t i = 0; i < uc->ncreds; i++)
		if (!strcmp(uc->creds[i].env, env))
			have = &uc->creds[i];
	if (!uc->creds_set)
		buf_addf(&fix, "credentials:\n  %s: [\"%s%s%s\"]", env, host, given_port ? ":" : "",
			 given_port ? given_port : "");
	else if (!have)
		buf_addf(&fix, "  %s: [\"%s%s%s\"]        (under credentials:)", env, host,
			 given_port ? ":" : "", given_port ? given_port : "");
	else
		buf_addf(&fix, "\"%s%s%s\"        (to the list of %s under credentials:)", host,
			 given_port ? ":" : "", given_port ? given_port : "", env);
	rp_err_set(err, RP_ERR_INPUT,
		   "refusing to send the value of $%s (named by %s) to %s port %d: your user config "
		   "'%s' does not allow it, and a repository's settings cannot. If that host may "
		   "have it, add to '%s':\n%s",
		   env, origin, host, port, uc->path ? uc->path : "~/.config/rp/config",
		   uc->path ? uc->path : "~/.config/rp/config", fix.s);
out:
	buf_release(&fix);
	curl_free(scheme);
	curl_free(host);
	curl_free(port_s);
	curl_free(given_port);
	curl_url_cleanup(u);
	return ret;
}
