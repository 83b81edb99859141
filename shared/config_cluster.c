/*
 * [cluster] (docs/cluster.md): the NATS server URLs, the cluster's name and
 * the node's id, both of which become tokens of NATS subjects, and what
 * config_finish() derives (the node id from the host name).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "shared/config.h"
#include "shared/config_int.h"

#define CLUSTER_URLS_MAX	16
#define CLUSTER_TOKEN_CHARS	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
				"0123456789_-"

/*
 * A NATS subject token takd may use: letters, digits, '_' and '-' (a '.'
 * would split it, '*' and '>' are wildcards, and the rest would need
 * quoting in every operator's ACL).
 */
static int
token_ok(const char *v)
{
	size_t	 n = strlen(v);

	return (n > 0 && n < TAKD_CLUSTER_TOKEN_MAX &&
	    strspn(v, CLUSTER_TOKEN_CHARS) == n);
}

int
config_set_subject_token(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	char	*dst = (char *)ctx->cfg + kd->off;

	if (*v == '\0' && (kd->flags & KEY_EMPTY_OK)) {
		dst[0] = '\0';
		return (0);
	}
	if (!token_ok(v))
		return (config_key_error(ctx, kd, v, "expected 1 to %d "
		    "letters, digits, '_' or '-' (it is a token of NATS "
		    "subjects)", TAKD_CLUSTER_TOKEN_MAX - 1));
	snprintf(dst, kd->size, "%s", v);
	return (0);
}

/* One URL: nats://HOST:PORT or tls://HOST:PORT, no user or password. */
static const char *
url_check(const char *u, size_t n)
{
	const char	*rest, *colon;
	size_t		 i;

	if (n > 7 && strncmp(u, "nats://", 7) == 0)
		rest = u + 7;
	else if (n > 6 && strncmp(u, "tls://", 6) == 0)
		rest = u + 6;
	else
		return ("expected nats://HOST:PORT or tls://HOST:PORT");
	for (i = 0; i < n; i++)
		if (u[i] == '@')
			return ("no user or password in a URL: use [cluster] "
			    "creds");
		else if ((unsigned char)u[i] <= ' ' || u[i] == 0x7f)
			return ("a blank or control character in a URL");
	colon = memchr(rest, ':', n - (size_t)(rest - u));
	if (colon == NULL || colon == rest || colon + 1 == u + n ||
	    strspn(colon + 1, "0123456789") != (size_t)(u + n - colon - 1))
		return ("expected a host and a port");
	return (NULL);
}

int
config_set_nats_urls(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	char		*dst = (char *)ctx->cfg + kd->off;
	const char	*p = v, *end, *why;
	size_t		 n, count = 0;

	if (strlen(v) >= kd->size)
		return (config_key_error(ctx, kd, v, "too long (at most %zu "
		    "characters)", kd->size - 1));
	while (*p != '\0') {
		p += strspn(p, " \t");
		end = p + strcspn(p, ",");
		n = (size_t)(end - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0)
			return (config_key_error(ctx, kd, v, "an empty URL"));
		if ((why = url_check(p, n)) != NULL)
			return (config_key_error(ctx, kd, v, "%.*s: %s",
			    (int)n, p, why));
		if (++count > CLUSTER_URLS_MAX)
			return (config_key_error(ctx, kd, v, "at most %d URLs",
			    CLUSTER_URLS_MAX));
		p = *end == ',' ? end + 1 : end;
	}
	snprintf(dst, kd->size, "%s", v);
	return (0);
}

int
config_finish_cluster(struct config *cfg, const char *cwd, char *msg,
    size_t msglen)
{
	char	 host[256];
	size_t	 i;

	(void)cwd;
	if (cfg->cluster_nats[0] == '\0')
		return (0);
	if ((cfg->cluster_tls_cert[0] == '\0') !=
	    (cfg->cluster_tls_key[0] == '\0')) {
		snprintf(msg, msglen, "[cluster] tls_cert and tls_key: give "
		    "both or neither");
		return (-1);
	}
	if (cfg->cluster_node[0] != '\0')
		return (0);
	/* The host name, made a subject token: "tak-1.example" -> "tak-1". */
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	for (i = 0; host[i] != '\0'; i++)
		if (strchr(CLUSTER_TOKEN_CHARS, host[i]) == NULL)
			host[i] = '-';
	if (!token_ok(host)) {
		snprintf(msg, msglen, "[cluster] node: the host name does "
		    "not make one; set node");
		return (-1);
	}
	memcpy(cfg->cluster_node, host, strlen(host) + 1);
	return (0);
}
