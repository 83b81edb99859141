/*
 * Configuration keys: the sections, the table of every key (its bounds and
 * flags, and where in struct config it is stored) and the setters that check
 * a value and store it, with the message naming the key when it is wrong.
 * Adding a key is a row here, a field in config.h and a default in
 * config_init().
 */
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

#include "shared/config.h"
#include "shared/config_int.h"
#include "shared/csr_check.h"
#include "shared/grouplist.h"
#include "shared/log.h"

static void *
key_field(struct load_ctx *ctx, const struct config_key *kd)
{
	return ((char *)ctx->cfg + kd->off);
}

static int
set_string(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	if (config_str_copy(key_field(ctx, kd), kd->size, v) == -1)
		return (config_key_error(ctx, kd, v, "value too long "
		    "(at most %zu characters)", kd->size - 1));
	return (0);
}

/* A user or group name, or a numeric id. */
static int
set_name(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	size_t	 n = strlen(v), ok;

	if (n == 0)
		return ((kd->flags & KEY_EMPTY_OK) ? set_string(ctx, kd, v) :
		    config_key_error(ctx, kd, NULL, "empty value"));
	ok = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-");
	if (v[0] == '-' || (ok != n && !(ok == n - 1 && v[n - 1] == '$')))
		return (config_key_error(ctx, kd, v, "expected a user or "
		    "group name (letters, digits, '.', '_', '-')"));
	return (set_string(ctx, kd, v));
}

/* A group name (shared/grouplist.h), or "" for none. */
static int
set_group_name(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	if (*v != '\0' && !grouplist_name_ok(v, strlen(v)))
		return (config_key_error(ctx, kd, v, "expected a group name: "
		    "1 to %d bytes of UTF-8 without control characters, ',' "
		    "or ':', and no blank at either end", GROUPLIST_NAME_MAX -
		    1));
	return (set_string(ctx, kd, v));
}

static int
set_host(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	if (*v != '\0' && !config_host_valid(v))
		return (config_key_error(ctx, kd, v, "expected a host name "
		    "or an IP address (without a port)"));
	return (set_string(ctx, kd, v));
}

static int
set_path(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	char	*dst = key_field(ctx, kd);

	if (*v == '\0') {
		if (!(kd->flags & KEY_EMPTY_OK))
			return (config_key_error(ctx, kd, NULL, "empty path"));
		dst[0] = '\0';
		return (0);
	}
	if (config_path_resolve(ctx->cwd, v, dst, kd->size) == -1)
		return (config_key_error(ctx, kd, v, "path too long once made "
		    "absolute (at most %zu characters)", kd->size - 1));
	return (0);
}

static int
store_number(struct load_ctx *ctx, const struct config_key *kd,
    unsigned long long v)
{
	unsigned	 u = (unsigned)v;
	unsigned long	 ul = (unsigned long)v;
	size_t		 z = (size_t)v;

	/* memcpy: the field's own type is known only by its size here. */
	if (kd->size == sizeof(u) && v <= UINT_MAX)
		memcpy(key_field(ctx, kd), &u, sizeof(u));
	else if (kd->size == sizeof(ul) && v <= ULONG_MAX)
		memcpy(key_field(ctx, kd), &ul, sizeof(ul));
	else if (kd->size == sizeof(z) && v <= SIZE_MAX)
		memcpy(key_field(ctx, kd), &z, sizeof(z));
	else
		return (config_key_error(ctx, kd, NULL, "internal error: "
		    "field size %zu", kd->size));
	return (0);
}

static int
set_number(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	unsigned long long	 n;

	if (config_number_parse(v, ULLONG_MAX, &n) != NUM_OK || n < kd->min ||
	    n > kd->max)
		return (config_key_error(ctx, kd, v, "expected a number "
		    "from %llu to %llu", kd->min, kd->max));
	return (store_number(ctx, kd, n));
}

static int
set_duration(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	unsigned long long	 ms;
	char			 lo[32], hi[32];

	if ((kd->flags & KEY_OFF_OK) && strcmp(v, "off") == 0)
		return (store_number(ctx, kd, 0));
	config_duration_fmt(lo, sizeof(lo), kd->min);
	config_duration_fmt(hi, sizeof(hi), kd->max);
	switch (config_duration_parse(v, &ms)) {
	case NUM_OK:
		if (ms == 0 && (kd->flags & KEY_OFF_OK))
			return (store_number(ctx, kd, 0));
		if (ms >= kd->min && ms <= kd->max)
			return (store_number(ctx, kd, ms));
		/* FALLTHROUGH */
	case NUM_RANGE:
		return (config_key_error(ctx, kd, v, "expected a duration "
		    "from %s to %s", lo, hi));
	case NUM_SYNTAX:
		break;
	}
	return (config_key_error(ctx, kd, v, "expected a duration with a unit "
	    "(ms, s, m, h or d) such as \"10s\"%s",
	    (kd->flags & KEY_OFF_OK) ? ", or \"off\"" : ""));
}

static int
set_size(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	unsigned long long	 n;
	char			 lo[32], hi[32];
	const char		*alt = "";

	if (kd->flags & KEY_OFF_OK)
		alt = ", or \"off\"";
	else if (kd->flags & KEY_AUTO_OK)
		alt = ", or \"auto\"";
	if (((kd->flags & KEY_OFF_OK) && strcmp(v, "off") == 0) ||
	    ((kd->flags & KEY_AUTO_OK) && strcmp(v, "auto") == 0))
		return (store_number(ctx, kd, 0));
	config_size_fmt(lo, sizeof(lo), kd->min);
	config_size_fmt(hi, sizeof(hi), kd->max);
	switch (config_size_parse(v, ULLONG_MAX, &n)) {
	case NUM_OK:
		if ((n >= kd->min && n <= kd->max) ||
		    (n == 0 && (kd->flags & KEY_OFF_OK)))
			return (store_number(ctx, kd, n));
		/* FALLTHROUGH */
	case NUM_RANGE:
		return (config_key_error(ctx, kd, v, "expected a size from "
		    "%s to %s%s", lo, hi, alt));
	case NUM_SYNTAX:
		break;
	}
	return (config_key_error(ctx, kd, v, "expected a size in bytes, with "
	    "an optional k, M, G or T suffix%s", alt));
}

static int
set_bool(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	static const char *const yes[] = { "on", "true", "yes", "1" };
	static const char *const no[] = { "off", "false", "no", "0" };
	bool	*dst = key_field(ctx, kd);
	size_t	 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(v, yes[i]) == 0) {
			*dst = true;
			return (0);
		}
		if (strcmp(v, no[i]) == 0) {
			*dst = false;
			return (0);
		}
	}
	return (config_key_error(ctx, kd, v, "expected on or off (also "
	    "true/false, yes/no, 1/0)"));
}

static int
set_workers(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	unsigned long long	 n;

	if (strcmp(v, "auto") == 0)
		n = 0;
	else if (config_number_parse(v, ULLONG_MAX, &n) != NUM_OK ||
	    n < kd->min || n > kd->max)
		return (config_key_error(ctx, kd, v, "expected a number from "
		    "%llu to %llu or \"auto\"", kd->min, kd->max));
	ctx->cfg->workers = (unsigned)n;
	return (0);
}

static int
set_log(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	if (*v == '\0')
		return (config_key_error(ctx, kd, NULL, "empty value: expected "
		    "stderr, syslog or a file path"));
	if (strcmp(v, "stderr") == 0 || strcmp(v, "syslog") == 0)
		return (set_string(ctx, kd, v));
	return (set_path(ctx, kd, v));
}

static int
set_log_level(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	int	 level;

	if ((level = log_level_parse(v)) == -1 || level == LOG_NOTICE)
		return (config_key_error(ctx, kd, v, "expected error, "
		    "warning, info or debug"));
	ctx->cfg->log_level = level;
	return (0);
}

/* The names of enum crl_check and enum crl_stale, by value. */
static const char *const crl_check_names[] = {
	[CRL_CHECK_LEAF] = "leaf",
	[CRL_CHECK_CHAIN] = "chain",
	[CRL_CHECK_OFF] = "off"
};
static const char *const crl_stale_names[] = {
	[CRL_STALE_ENFORCE_LISTED] = "enforce-listed",
	[CRL_STALE_STRICT] = "strict"
};

/* The index of v in names, or -1. */
static int
name_index(const char *const *names, size_t n, const char *v)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return ((int)i);
	return (-1);
}

static int
set_crl_check(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	int	 i;

	if ((i = name_index(crl_check_names, NNAMES(crl_check_names),
	    v)) == -1)
		return (config_key_error(ctx, kd, v, "expected leaf, chain "
		    "or off"));
	ctx->cfg->crl_check = (enum crl_check)i;
	return (0);
}

static int
set_crl_stale(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	int	 i;

	if ((i = name_index(crl_stale_names, NNAMES(crl_stale_names),
	    v)) == -1)
		return (config_key_error(ctx, kd, v, "expected "
		    "enforce-listed or strict"));
	ctx->cfg->crl_stale = (enum crl_stale)i;
	return (0);
}

static int
set_min_protocol(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	if (strcmp(v, "TLSv1.2") == 0 || strcmp(v, "1.2") == 0)
		ctx->cfg->min_protocol = TLS1_2_VERSION;
	else if (strcmp(v, "TLSv1.3") == 0 || strcmp(v, "1.3") == 0)
		ctx->cfg->min_protocol = TLS1_3_VERSION;
	else
		return (config_key_error(ctx, kd, v, "expected TLSv1.2 or "
		    "TLSv1.3"));
	return (0);
}

/*
 * The RDNs that may name a certificate's user: attributes that name a
 * person or a device, one value each in the certificates TAK PKIs issue.
 * O and OU name organisations ([auth] ou_groups), not users.
 */
static const struct {
	const char	*name;
	int		 nid;
} user_rdns[] = {
	{ "CN",			NID_commonName },
	{ "UID",		NID_userId },
	{ "emailAddress",	NID_pkcs9_emailAddress },
	{ "serialNumber",	NID_serialNumber },
};

/* Case does not matter ("cn", "EMAILADDRESS"); the table's spelling is kept. */
static int
set_user_rdn(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	size_t	 i;

	for (i = 0; i < NNAMES(user_rdns); i++) {
		if (strcasecmp(v, user_rdns[i].name) != 0)
			continue;
		snprintf(ctx->cfg->user_rdn, sizeof(ctx->cfg->user_rdn), "%s",
		    user_rdns[i].name);
		ctx->cfg->user_rdn_nid = user_rdns[i].nid;
		return (0);
	}
	return (config_key_error(ctx, kd, v, "expected CN, UID, emailAddress "
	    "or serialNumber"));
}

/*
 * A list of listeners: the first "listen" of the file replaces the default
 * list, later ones append.  An empty value turns the list off, when allowed.
 */
static int
listen_add(struct load_ctx *ctx, const struct config_key *kd, const char *v,
    struct config_listen *list, size_t *n)
{
	struct config_listen	 la;
	const char		*why;
	char			 shown[300];
	size_t			 i;

	if (ctx->first)
		*n = 0;
	if (*v == '\0') {
		if (!(kd->flags & KEY_EMPTY_OK))
			return (config_key_error(ctx, kd, NULL, "empty "
			    "address: takd needs at least one TLS listener"));
		*n = 0;
		return (0);
	}
	if ((why = config_listen_parse(v, &la)) != NULL)
		return (config_key_error(ctx, kd, v, "%s", why));
	if (*n >= TAKD_MAX_LISTEN)
		return (config_key_error(ctx, kd, v, "too many addresses "
		    "(at most %d)", TAKD_MAX_LISTEN));
	for (i = 0; i < *n; i++) {
		if (!config_listen_clash(&list[i], &la))
			continue;
		config_listen_fmt(shown, sizeof(shown), &list[i]);
		return (config_key_error(ctx, kd, v, "clashes with %s on "
		    "line %d", shown, list[i].line));
	}
	la.line = ctx->lineno;
	list[(*n)++] = la;
	return (0);
}

static int
set_tls_listen(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	return (listen_add(ctx, kd, v, ctx->cfg->tls_listen,
	    &ctx->cfg->n_tls_listen));
}

static int
set_tcp_listen(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	return (listen_add(ctx, kd, v, ctx->cfg->tcp_listen,
	    &ctx->cfg->n_tcp_listen));
}

/* One address; a bare port binds loopback, since metrics are for the host. */
static int
set_metrics_listen(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	struct config_listen	*la = &ctx->cfg->metrics_listen;
	const char		*why;

	memset(la, 0, sizeof(*la));
	if (*v == '\0')
		return (0);
	if ((why = config_listen_parse(v, la)) != NULL) {
		memset(la, 0, sizeof(*la));
		return (config_key_error(ctx, kd, v, "%s", why));
	}
	if (strchr(v, ':') == NULL)
		snprintf(la->host, sizeof(la->host), "127.0.0.1");
	la->line = ctx->lineno;
	return (0);
}

/*
 * [api] cert_o, cert_ou: a value of an enrolled CSR's subject (csr_check.h),
 * 1 to 64 characters of UTF-8 without control characters, or "" for none.
 */
static int
set_rdn_value(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	if (!csr_rdn_value_ok(v))
		return (config_key_error(ctx, kd, v, "expected 1 to %d "
		    "characters of UTF-8 without control characters, or "
		    "nothing", CSR_RDN_MAX));
	return (set_string(ctx, kd, v));
}

/* One address of the api process ([api] listen, enroll_listen); "" off. */
static int
set_api_listen(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	struct config_listen	*la = (struct config_listen *)key_field(ctx,
				    kd);
	const char		*why;

	memset(la, 0, sizeof(*la));
	if (*v == '\0')
		return (0);
	if ((why = config_listen_parse(v, la)) != NULL) {
		memset(la, 0, sizeof(*la));
		return (config_key_error(ctx, kd, v, "%s", why));
	}
	la->line = ctx->lineno;
	return (0);
}

/*
 * [tls] crl_url: one http or https URL per line (KEY_MULTI), tried in
 * order, or "cdp"; "" none.  No user:password@ in it: the URL is shown in
 * status and logs.
 */
static int
set_crl_url(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	struct config	*cfg = ctx->cfg;
	const char	*host;

	if (ctx->first) {
		cfg->n_crl_url = 0;
		cfg->crl_url_cdp = false;
	}
	if (*v == '\0')
		return (0);
	if (strcmp(v, "cdp") == 0) {
		cfg->crl_url_cdp = true;
		return (0);
	}
	if (strncasecmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncasecmp(v, "https://", 8) == 0)
		host = v + 8;
	else
		return (config_key_error(ctx, kd, v, "expected an http:// or "
		    "https:// URL, or \"cdp\""));
	if (*host == '\0' || *host == '/' || strpbrk(v, " \t") != NULL)
		return (config_key_error(ctx, kd, v, "expected a URL with a "
		    "host and no blank"));
	if (strcspn(host, "/") > strcspn(host, "@"))
		return (config_key_error(ctx, kd, NULL, "no user or password "
		    "in the URL: it is shown in logs and status"));
	if (cfg->n_crl_url >= CONFIG_CRL_URL_MAX)
		return (config_key_error(ctx, kd, v, "too many URLs (at most "
		    "%d)", CONFIG_CRL_URL_MAX));
	if (config_str_copy(cfg->crl_url[cfg->n_crl_url], CONFIG_CRL_URL_LEN,
	    v) == -1)
		return (config_key_error(ctx, kd, NULL, "URL too long (at most "
		    "%d characters)", CONFIG_CRL_URL_LEN - 1));
	cfg->n_crl_url++;
	return (0);
}

/*
 * At least a minute: a CA's CRL server is somebody else's, and fetching it
 * more often buys nothing.  The tests lower the floor to a second through
 * the environment (CONFIG_CRL_REFRESH_TEST_ENV), never through the file.
 */
static int
set_crl_refresh(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	struct config_key	 k = *kd;

	if (getenv(CONFIG_CRL_REFRESH_TEST_ENV) != NULL)
		k.min = MS_SECOND;
	return (set_duration(ctx, &k, v));
}

/*
 * [ocsp] responder: one http or https URL, "" for the server certificate's
 * AIA; no user:password@ (it is shown in status and logs).
 */
static int
set_ocsp_responder(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	const char	*host;

	if (*v == '\0')
		return (set_string(ctx, kd, v));
	if (strncasecmp(v, "http://", 7) == 0)
		host = v + 7;
	else if (strncasecmp(v, "https://", 8) == 0)
		host = v + 8;
	else
		return (config_key_error(ctx, kd, v, "expected an http:// or "
		    "https:// URL, or nothing for the certificate's AIA"));
	if (*host == '\0' || *host == '/' || strpbrk(v, " \t") != NULL)
		return (config_key_error(ctx, kd, v, "expected a URL with a "
		    "host and no blank"));
	if (strcspn(host, "/") > strcspn(host, "@"))
		return (config_key_error(ctx, kd, NULL, "no user or password "
		    "in the URL: it is shown in logs and status"));
	return (set_string(ctx, kd, v));
}

#define FIELD(m)	offsetof(struct config, m), \
			sizeof(((struct config *)NULL)->m)

static const char *const config_sections[] = {
	"server", "tls", "tcp", "cot", "pki", "metrics", "auth", "api",
	"cluster", "console", "ocsp"
};

static const struct config_key config_keys[] = {
	{ "server", "user", set_name, FIELD(user), 0, 0, 0 },
	{ "server", "group", set_name, FIELD(group), 0, 0, KEY_EMPTY_OK },
	{ "server", "workers", set_workers, FIELD(workers),
	    1, TAKD_MAX_WORKERS, 0 },
	{ "server", "state_dir", set_path, FIELD(state_dir), 0, 0, 0 },
	{ "server", "run_dir", set_path, FIELD(run_dir), 0, 0, KEY_EMPTY_OK },
	{ "server", "nofile", set_number, FIELD(nofile), 64, 1U << 30, 0 },
	{ "server", "max_sessions", set_number, FIELD(max_sessions),
	    1, 1000000, 0 },
	{ "server", "drain_timeout", set_duration, FIELD(drain_timeout_ms),
	    0, MS_HOUR, 0 },
	/* The kernel takes whole seconds for these. */
	{ "server", "tcp_keepalive", set_duration, FIELD(keepalive_ms),
	    MS_SECOND, 2 * MS_HOUR, KEY_OFF_OK },
	{ "server", "tcp_keepalive_interval", set_duration,
	    FIELD(keepalive_interval_ms), MS_SECOND, MS_HOUR, 0 },
	{ "server", "tcp_keepalive_count", set_number, FIELD(keepalive_count),
	    1, 127, 0 },
	{ "server", "tcp_user_timeout", set_duration, FIELD(user_timeout_ms),
	    MS_SECOND, MS_HOUR, KEY_OFF_OK },
	{ "server", "log", set_log, FIELD(log), 0, 0, 0 },
	{ "server", "log_level", set_log_level, FIELD(log_level), 0, 0, 0 },

	{ "tls", "listen", set_tls_listen, FIELD(tls_listen), 0, 0, KEY_MULTI },
	{ "tls", "cert", set_path, FIELD(cert), 0, 0, KEY_EMPTY_OK },
	{ "tls", "key", set_path, FIELD(key), 0, 0, KEY_EMPTY_OK },
	{ "tls", "key_password", set_string, FIELD(key_password),
	    0, 0, KEY_EMPTY_OK | KEY_SECRET },
	{ "tls", "ca", set_path, FIELD(ca), 0, 0, KEY_EMPTY_OK },
	{ "tls", "crl", set_path, FIELD(crl), 0, 0, KEY_EMPTY_OK },
	{ "tls", "crl_check", set_crl_check, FIELD(crl_check), 0, 0, 0 },
	{ "tls", "crl_stale", set_crl_stale, FIELD(crl_stale), 0, 0, 0 },
	{ "tls", "crl_warn_days", set_number, FIELD(crl_warn_days),
	    0, 3650, 0 },
	{ "tls", "crl_watch", set_bool, FIELD(crl_watch), 0, 0, 0 },
	{ "tls", "crl_url", set_crl_url, FIELD(crl_url), 0, 0,
	    KEY_MULTI | KEY_EMPTY_OK },
	{ "tls", "crl_refresh", set_crl_refresh, FIELD(crl_refresh_ms),
	    MS_MINUTE, 7 * MS_DAY, 0 },
	{ "tls", "crl_fetch_timeout", set_duration,
	    FIELD(crl_fetch_timeout_ms), MS_SECOND, 10 * MS_MINUTE, 0 },
	{ "tls", "crl_fetch_max", set_size, FIELD(crl_fetch_max),
	    64 * 1024, 64 * 1024 * 1024, 0 },
	{ "tls", "cert_warn_days", set_number, FIELD(cert_warn_days),
	    0, 3650, 0 },
	{ "tls", "handshake_timeout", set_duration,
	    FIELD(handshake_timeout_ms), 10, MS_HOUR, 0 },
	{ "tls", "max_handshakes", set_number, FIELD(max_handshakes),
	    0, 1000000, 0 },
	{ "tls", "max_handshakes_per_address", set_number,
	    FIELD(max_handshakes_per_address), 0, 1000000, 0 },
	{ "tls", "max_sessions_per_cert", set_number,
	    FIELD(max_sessions_per_cert), 0, 1000000, 0 },
	{ "tls", "min_protocol", set_min_protocol, FIELD(min_protocol),
	    0, 0, 0 },
	/* Tickets live two periods: TLS 1.3 caps a ticket's life at 7 days. */
	{ "tls", "ticket_key_rotation", set_duration,
	    FIELD(ticket_key_rotation_ms), MS_SECOND, 3 * MS_DAY, 0 },

	{ "tcp", "listen", set_tcp_listen, FIELD(tcp_listen),
	    0, 0, KEY_MULTI | KEY_EMPTY_OK },
	{ "tcp", "group", set_group_name, FIELD(tcp_group),
	    0, 0, KEY_EMPTY_OK },

	{ "cot", "max_event_bytes", set_size, FIELD(max_event_bytes),
	    1024, 16 * 1024 * 1024, 0 },
	{ "cot", "idle_timeout", set_duration, FIELD(idle_timeout_ms),
	    0, 30 * MS_DAY, KEY_OFF_OK },
	{ "cot", "max_events_per_second", set_number,
	    FIELD(max_events_per_second), 0, 1000000, 0 },
	{ "cot", "max_bytes_per_second", set_size,
	    FIELD(max_bytes_per_second), 256, 1024 * 1024 * 1024, KEY_OFF_OK },
	{ "cot", "max_sa_bytes", set_size, FIELD(max_sa_bytes),
	    256, 16 * 1024 * 1024, KEY_OFF_OK },
	{ "cot", "max_chat_bytes", set_size, FIELD(max_chat_bytes),
	    256, 16 * 1024 * 1024, KEY_OFF_OK },
	{ "cot", "max_buffered_bytes", set_size, FIELD(max_buffered_bytes),
	    1024 * 1024, (unsigned long long)1 << 40, KEY_AUTO_OK },
	{ "cot", "max_queue_bytes", set_size, FIELD(max_queue_bytes),
	    64 * 1024, 1024 * 1024 * 1024, 0 },
	{ "cot", "partial_timeout", set_duration, FIELD(partial_timeout_ms),
	    100, MS_HOUR, 0 },
	{ "cot", "write_timeout", set_duration, FIELD(write_timeout_ms),
	    0, MS_HOUR, KEY_OFF_OK },
	{ "cot", "flush_delay", set_duration, FIELD(flush_delay_ms),
	    0, MS_SECOND, KEY_OFF_OK },
	{ "cot", "sa_flush_delay", set_duration, FIELD(sa_flush_delay_ms),
	    0, 5 * MS_SECOND, KEY_OFF_OK },
	{ "cot", "sa_max_stale", set_duration, FIELD(sa_max_stale_ms),
	    MS_SECOND, 30 * MS_DAY, 0 },
	{ "cot", "sa_uids_per_cert", set_number, FIELD(sa_uids_per_cert),
	    1, 1000000, 0 },
	{ "cot", "sa_store_max", set_size, FIELD(sa_store_max),
	    1024 * 1024, 16ULL * 1024 * 1024 * 1024, 0 },
	{ "cot", "relay_certs", set_string, FIELD(relay_certs),
	    0, 0, KEY_EMPTY_OK },
	{ "cot", "relay_max_uids", set_number, FIELD(relay_max_uids),
	    1, 1000000, 0 },
	{ "cot", "protocol_offer", set_bool, FIELD(protocol_offer), 0, 0, 0 },

	{ "pki", "dir", set_path, FIELD(pki_dir), 0, 0, KEY_EMPTY_OK },
	{ "pki", "client_password", set_string, FIELD(client_password),
	    0, 0, KEY_EMPTY_OK | KEY_SECRET },
	{ "pki", "server_host", set_host, FIELD(server_host),
	    0, 0, KEY_EMPTY_OK },

	{ "metrics", "listen", set_metrics_listen, FIELD(metrics_listen),
	    0, 0, KEY_EMPTY_OK },
	{ "metrics", "token", set_string, FIELD(metrics_token),
	    0, 0, KEY_EMPTY_OK | KEY_SECRET },

	{ "auth", "users", set_path, FIELD(users), 0, 0, KEY_EMPTY_OK },
	{ "auth", "user_rdn", set_user_rdn, FIELD(user_rdn), 0, 0, 0 },
	{ "auth", "ou_groups", set_bool, FIELD(ou_groups), 0, 0, 0 },

	{ "api", "cert_days", set_number, FIELD(cert_days), 1, 3650, 0 },
	{ "api", "cert_o", set_rdn_value, FIELD(cert_o), 0, 0, KEY_EMPTY_OK },
	{ "api", "cert_ou", set_rdn_value, FIELD(cert_ou), 0, 0,
	    KEY_EMPTY_OK },
	{ "api", "enabled", set_bool, FIELD(api_on), 0, 0, 0 },
	{ "api", "enroll_rate", set_number, FIELD(enroll_rate), 1, 100000,
	    0 },
	{ "api", "enroll_burst", set_number, FIELD(enroll_burst), 1, 100000,
	    0 },
	{ "api", "listen", set_api_listen, FIELD(api_listen),
	    0, 0, KEY_EMPTY_OK },
	{ "api", "enroll_listen", set_api_listen, FIELD(api_enroll_listen),
	    0, 0, KEY_EMPTY_OK },
	{ "api", "max_body", set_size, FIELD(api_max_body),
	    1024, 16 * 1024 * 1024, 0 },
	{ "api", "max_upload", set_size, FIELD(api_max_upload),
	    1024, 1024ULL * 1024 * 1024 * 1024, 0 },
	{ "api", "max_headers", set_size, FIELD(api_max_headers),
	    1024, 1024 * 1024, 0 },
	{ "api", "timeout", set_duration, FIELD(api_timeout_ms),
	    MS_SECOND, 10 * MS_MINUTE, 0 },
	{ "api", "max_connections", set_number, FIELD(api_max_conns),
	    1, 1000000, 0 },
	{ "api", "max_connections_per_address", set_number,
	    FIELD(api_max_conns_per_address), 1, 1000000, 0 },
	{ "api", "packages_dir", set_path, FIELD(api_packages_dir), 0, 0,
	    KEY_EMPTY_OK },
	{ "api", "quota", set_size, FIELD(api_quota), 1024 * 1024,
	    1024ULL << 40, KEY_OFF_OK },
	{ "api", "user_quota", set_size, FIELD(api_user_quota), 1024 * 1024,
	    1024ULL << 40, KEY_OFF_OK },

	/* docs/cluster.md; the values' checks are in config_cluster.c. */
	{ "cluster", "nats", config_set_nats_urls, FIELD(cluster_nats),
	    0, 0, KEY_EMPTY_OK },
	{ "cluster", "name", config_set_subject_token, FIELD(cluster_name),
	    0, 0, 0 },
	{ "cluster", "node", config_set_subject_token,
	    FIELD(cluster_node), 0, 0, KEY_EMPTY_OK },
	{ "cluster", "node_timeout", set_duration,
	    FIELD(cluster_node_timeout_ms), MS_SECOND, 10 * MS_MINUTE, 0 },
	{ "cluster", "tls_ca", set_path, FIELD(cluster_tls_ca), 0, 0,
	    KEY_EMPTY_OK },
	{ "cluster", "tls_cert", set_path, FIELD(cluster_tls_cert), 0, 0,
	    KEY_EMPTY_OK },
	{ "cluster", "tls_key", set_path, FIELD(cluster_tls_key), 0, 0,
	    KEY_EMPTY_OK },
	{ "cluster", "creds", set_path, FIELD(cluster_creds), 0, 0,
	    KEY_EMPTY_OK },

	{ "ocsp", "staple", set_bool, FIELD(ocsp_staple), 0, 0, 0 },
	{ "ocsp", "responder", set_ocsp_responder, FIELD(ocsp_responder),
	    0, 0, KEY_EMPTY_OK },
	/* The floor is lowered like crl_refresh's for the tests. */
	{ "ocsp", "refresh", set_crl_refresh, FIELD(ocsp_refresh_ms),
	    MS_MINUTE, 7 * MS_DAY, 0 },
	{ "ocsp", "timeout", set_duration, FIELD(ocsp_timeout_ms),
	    MS_SECOND, 10 * MS_MINUTE, 0 },

	{ "console", "enabled", set_bool, FIELD(console_on), 0, 0, 0 },
	{ "console", "password_login", set_bool, FIELD(console_login), 0, 0,
	    0 },
	{ "console", "tiles", set_string, FIELD(console_tiles), 0, 0,
	    KEY_EMPTY_OK },
	{ "console", "session_idle", set_duration, FIELD(console_idle_ms),
	    MS_SECOND, 24 * 60 * MS_MINUTE, 0 },
	{ "console", "session_max", set_duration, FIELD(console_max_ms),
	    MS_SECOND, 7 * 24 * 60 * MS_MINUTE, 0 },
	{ "console", "www_dir", set_path, FIELD(console_www), 0, 0, 0 },
	{ "console", "leaflet_dir", set_path, FIELD(console_leaflet), 0, 0,
	    0 },
};

_Static_assert(NNAMES(config_keys) <= CONFIG_MAX_KEYS, "config_load's seen[]");

/* The row of [section] name and its index in config_keys[], or NULL. */
const struct config_key *
config_key_find(const char *section, const char *name, size_t *idx)
{
	size_t	 i;

	for (i = 0; i < NNAMES(config_keys); i++) {
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0) {
			*idx = i;
			return (&config_keys[i]);
		}
	}
	return (NULL);
}

bool
config_section_known(const char *name)
{
	return (name_index(config_sections, NNAMES(config_sections), name) !=
	    -1);
}

const char *
config_crl_check_name(enum crl_check c)
{
	return ((size_t)c < NNAMES(crl_check_names) ? crl_check_names[c] :
	    "?");
}

const char *
config_crl_stale_name(enum crl_stale s)
{
	return ((size_t)s < NNAMES(crl_stale_names) ? crl_stale_names[s] :
	    "?");
}
