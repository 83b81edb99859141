/*
 * Configuration loading: see config.h.  inih calls config_handler() once per
 * key; every key has a row in config_keys[] (config_keys.c) that says how its
 * value is checked and where it is stored, and the value syntaxes are in
 * config_value.c.  This file holds the reader and the callback, the FILE:LINE
 * errors, the defaults (config_init), and what config_finish() derives and
 * checks once the whole file is read.  Parsing stops at the first error so
 * that the message names the one line to fix.
 *
 * inih is fed through config_read_line() rather than by file name, for four
 * reasons: the reader counts lines, so the handler knows the line it is
 * looking at (Debian's inih passes no line number); it sees section headers,
 * which inih never reports, so an unknown section is an error even when it
 * holds no key; it measures each physical line, because inih silently cuts a
 * line longer than its buffer and parses the rest as the next line; and it
 * strips leading blanks, so that an indented "key = value" is a key and not
 * the continuation of the previous value (inih's multi-line values).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "shared/config.h"
#include "shared/config_int.h"
#include "shared/log.h"

#define CONFIG_VALUE_SHOWN	60	/* longer values are cut in messages */

/*
 * The admin socket lives in run_dir and sun_path holds 108 bytes: keep room
 * for "/" and a socket name, so that a long run_dir fails here, with the key
 * named, rather than at bind time.
 */
#define CONFIG_SUN_PATH		108
#define CONFIG_SOCKNAME_ROOM	17
#define CONFIG_RUN_DIR_MAX	(CONFIG_SUN_PATH - 1 - CONFIG_SOCKNAME_ROOM)
_Static_assert(sizeof(TAKD_ADMIN_SOCKET) <= CONFIG_SOCKNAME_ROOM,
    "the admin socket's name must fit in the room kept for it");

static void	 ctx_error(struct load_ctx *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Record the first error only: it is the one the operator must fix first. */
static void
ctx_error(struct load_ctx *ctx, int line, const char *fmt, ...)
{
	va_list	 ap;

	if (ctx->failed)
		return;
	ctx->failed = true;
	ctx->err_line = line;
	va_start(ap, fmt);
	vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
	va_end(ap);
}

/* "[section] key: <what>, got "value"" at the current line. */
int
config_key_error(struct load_ctx *ctx, const struct config_key *kd,
    const char *value, const char *fmt, ...)
{
	char	 what[CONFIG_MSG_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (value == NULL || (kd->flags & KEY_SECRET))
		ctx_error(ctx, ctx->lineno, "[%s] %s: %s", kd->section,
		    kd->name, what);
	else	/* control characters were refused before */
		ctx_error(ctx, ctx->lineno, "[%s] %s: %s, got \"%.*s%s\"",
		    kd->section, kd->name, what, CONFIG_VALUE_SHOWN, value,
		    strlen(value) > CONFIG_VALUE_SHOWN ? "..." : "");
	return (-1);
}

/* Strip one pair of double quotes; -1 when only one side has one. */
static int
value_unquote(const char *v, char *out, size_t outlen)
{
	size_t	 n = strlen(v);

	if (n >= outlen)
		return (-1);
	if (v[0] != '"') {
		memcpy(out, v, n + 1);
		return (0);
	}
	if (n < 2 || v[n - 1] != '"')
		return (-1);
	memcpy(out, v + 1, n - 2);
	out[n - 2] = '\0';
	return (0);
}

static int
config_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct load_ctx		*ctx = arg;
	const struct config_key	*kd;
	char			 v[CONFIG_LINE_BUF];
	const char		*p;
	size_t			 i;
	int			 ok;

	if (ctx->failed)
		return (0);
	if (*section == '\0') {
		ctx_error(ctx, ctx->lineno, "key \"%s\" before any [section]",
		    name);
		return (0);
	}
	if (*name == '\0') {
		ctx_error(ctx, ctx->lineno, "[%s] missing key name before "
		    "'='", section);
		return (0);
	}
	if ((kd = config_key_find(section, name, &i)) == NULL) {
		if (config_section_known(section))
			ctx_error(ctx, ctx->lineno, "[%s] %s: unknown key",
			    section, name);
		else
			ctx_error(ctx, ctx->lineno, "unknown section [%s]",
			    section);
		return (0);
	}
	if (ctx->seen[i] != 0 && !(kd->flags & KEY_MULTI)) {
		ctx_error(ctx, ctx->lineno, "[%s] %s: given twice (first on "
		    "line %d)", kd->section, kd->name, ctx->seen[i]);
		return (0);
	}
	for (p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f) {
			config_key_error(ctx, kd, NULL, "control character "
			    "in value");
			return (0);
		}
	}
	if (value_unquote(value, v, sizeof(v)) == -1) {
		config_key_error(ctx, kd, NULL, "unbalanced double quote "
		    "(note: a ';' after a blank starts a comment, even inside "
		    "quotes)");
		return (0);
	}
	ctx->first = ctx->seen[i] == 0;
	if (ctx->first)
		ctx->seen[i] = ctx->lineno;
	ok = kd->set(ctx, kd, v) == 0;
	OPENSSL_cleanse(v, sizeof(v));
	return (ok);
}

/*
 * Section headers are checked here: inih reports none, and an unknown
 * section with no key in it would otherwise pass unnoticed.
 */
static void
config_check_section(struct load_ctx *ctx, const char *line)
{
	char		 name[CONFIG_LINE_BUF];
	const char	*rb, *p;
	size_t		 n;

	if ((rb = strchr(line, ']')) == NULL) {
		ctx_error(ctx, ctx->lineno, "missing ']' in section header");
		return;
	}
	for (p = rb + 1; *p == ' ' || *p == '\t'; p++)
		;
	if (*p != '\0' && *p != ';' && *p != '#') {
		ctx_error(ctx, ctx->lineno, "unexpected text after the "
		    "section header");
		return;
	}
	n = (size_t)(rb - line - 1);
	memcpy(name, line + 1, n);
	name[n] = '\0';
	if (!config_section_known(name))
		ctx_error(ctx, ctx->lineno, "unknown section [%s] (expected "
		    "server, tls, tcp, cot, pki, metrics, auth or api)", name);
}

/* inih's fgets-style reader: see the comment at the top of this file. */
static char *
config_read_line(char *out, int num, void *arg)
{
	struct load_ctx	*ctx = arg;
	size_t		 len = 0, max;
	bool		 nul = false;
	char		*p;
	int		 c;

	if (ctx->failed || num < 4)
		return (NULL);
	max = (size_t)num - 3;	/* inih's rule: room for \r, \n and \0 */
	if (max > sizeof(ctx->buf) - 1)
		max = sizeof(ctx->buf) - 1;
	while ((c = getc(ctx->fp)) != EOF && c != '\n') {
		if (c == '\0')
			nul = true;
		if (len < sizeof(ctx->buf) - 1)
			ctx->buf[len] = (char)c;
		len++;
	}
	if (c == EOF && ferror(ctx->fp)) {
		ctx_error(ctx, 0, "cannot read: %s", strerror(errno));
		return (NULL);
	}
	if (c == EOF && len == 0)
		return (NULL);
	ctx->lineno++;
	if (len > 0 && len <= max + 1 && ctx->buf[len - 1] == '\r')
		len--;
	if (len > max) {
		ctx_error(ctx, ctx->lineno, "line too long (%zu characters, "
		    "at most %zu)", len, max);
		return (NULL);
	}
	if (nul) {
		ctx_error(ctx, ctx->lineno, "NUL byte in line");
		return (NULL);
	}
	ctx->buf[len] = '\0';
	p = ctx->buf;
	if (ctx->lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '[')
		config_check_section(ctx, p);
	if (ctx->failed)
		return (NULL);
	snprintf(out, (size_t)num, "%s\n", p);
	return (out);
}

static void
config_set_err(char *err, size_t errlen, const char *file, int line,
    const char *msg)
{
	if (err == NULL || errlen == 0)
		return;
	if (line > 0)
		snprintf(err, errlen, "%s:%d: %s", file, line, msg);
	else
		snprintf(err, errlen, "%s: %s", file, msg);
}

void
config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->user, sizeof(cfg->user), "takd");
	cfg->workers = 0;
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "./var");
	cfg->nofile = 65536;
	cfg->max_sessions = 10000;
	cfg->drain_timeout_ms = 5 * MS_SECOND;
	/*
	 * A peer gone without FIN or RST (a phone out of coverage): probed
	 * after a minute of silence, closed when a minute passes without an
	 * acknowledgement, probe or data (docs/operations.md, "Dead peers").
	 */
	cfg->keepalive_ms = 60 * MS_SECOND;
	cfg->keepalive_interval_ms = 15 * MS_SECOND;
	cfg->keepalive_count = 4;
	cfg->user_timeout_ms = 60 * MS_SECOND;
	snprintf(cfg->log, sizeof(cfg->log), "stderr");
	cfg->log_level = LOG_INFO;

	snprintf(cfg->tls_listen[0].host, sizeof(cfg->tls_listen[0].host),
	    "0.0.0.0");
	snprintf(cfg->tls_listen[0].port, sizeof(cfg->tls_listen[0].port),
	    "%s", TAKD_DEFAULT_TLS_PORT);
	snprintf(cfg->tls_listen[1].host, sizeof(cfg->tls_listen[1].host),
	    "::");
	snprintf(cfg->tls_listen[1].port, sizeof(cfg->tls_listen[1].port),
	    "%s", TAKD_DEFAULT_TLS_PORT);
	cfg->n_tls_listen = 2;
	cfg->crl_check = CRL_CHECK_LEAF;
	cfg->crl_stale = CRL_STALE_ENFORCE_LISTED;
	cfg->crl_warn_days = 7;
	cfg->crl_watch = false;
	cfg->crl_refresh_ms = 15 * 60 * 1000;
	cfg->crl_fetch_timeout_ms = 15 * 1000;
	cfg->crl_fetch_max = 16 * 1024 * 1024;
	cfg->cert_warn_days = 30;
	cfg->ocsp_staple = false;
	cfg->ocsp_responder[0] = '\0';
	cfg->ocsp_refresh_ms = 60 * 60 * 1000;
	cfg->ocsp_timeout_ms = 15 * 1000;
	/*
	 * Two round trips of TLS 1.2 at 1.5 s each plus one lost segment's
	 * retransmission (docs/security.md, "Before authentication").
	 */
	cfg->handshake_timeout_ms = 5 * MS_SECOND;
	/* About a second of full handshakes of one worker. */
	cfg->max_handshakes = 1000;
	cfg->max_handshakes_per_address = 32;
	cfg->max_sessions_per_cert = 8;
	cfg->min_protocol = TLS1_2_VERSION;
	cfg->ticket_key_rotation_ms = MS_DAY;

	cfg->n_tcp_listen = 0;
	cfg->tcp_group[0] = '\0';

	cfg->max_event_bytes = 65536;
	/*
	 * ATAK sends its position every 3 minutes when stationary over a
	 * stream, and pings after 15 s without hearing from the server.
	 */
	cfg->idle_timeout_ms = 10 * MS_MINUTE;
	/*
	 * Budgets a real client never meets, far below what a reader on a
	 * slow link drains (docs/configuration.md, "Budgets").
	 */
	cfg->max_events_per_second = 50;
	cfg->max_bytes_per_second = 8 * 1024;
	cfg->max_sa_bytes = 8 * 1024;
	cfg->max_chat_bytes = 8 * 1024;
	cfg->max_buffered_bytes = 0;	/* auto: from max_sessions */
	cfg->max_queue_bytes = 1024 * 1024;
	cfg->partial_timeout_ms = 30 * MS_SECOND;
	cfg->write_timeout_ms = 60 * MS_SECOND;
	/*
	 * Enough for several events a write at a few hundred events a second
	 * per recipient (docs/performance.md), far below what a person notices
	 * on a map or in chat.
	 */
	cfg->flush_delay_ms = 20;
	cfg->sa_flush_delay_ms = 100;
	/*
	 * A stored position outlives its sender by an hour at most: a client
	 * cannot pin a marker on every map for good (docs/state.md).
	 */
	cfg->sa_max_stale_ms = MS_HOUR;
	cfg->sa_uids_per_cert = 8;
	cfg->sa_store_max = 64 * 1024 * 1024;
	cfg->relay_certs[0] = '\0';
	cfg->relay_max_uids = 1000;
	/* What the official server does: clients that want v1 get it. */
	cfg->protocol_offer = true;

	cfg->metrics_on = false;

	/*
	 * Off in the embedded defaults for now: on, every instance would
	 * bind 8443 and 8446 on all addresses (`make run` turns it on with
	 * etc/takd-dev.ini; docs/api.md).
	 */
	cfg->api_on = false;
	(void)config_listen_parse(TAKD_DEFAULT_API_LISTEN, &cfg->api_listen);
	(void)config_listen_parse(TAKD_DEFAULT_ENROLL_LISTEN,
	    &cfg->api_enroll_listen);
	cfg->api_max_body = 64 * 1024;		/* a CSR is a few KiB */
	cfg->api_max_upload = 100 * 1024 * 1024;	/* docs/datapackages.md */
	cfg->api_max_headers = 8 * 1024;
	cfg->api_timeout_ms = 10 * 1000;
	cfg->api_max_conns = 1024;
	cfg->api_max_conns_per_address = 64;
	cfg->api_packages_dir[0] = '\0';	/* STATE_DIR/packages */
	cfg->api_quota = (size_t)10 << 30;
	cfg->api_user_quota = 0;

	cfg->console_on = false;
	cfg->console_login = true;
	snprintf(cfg->console_tiles, sizeof(cfg->console_tiles), "%s",
	    TAKD_DEFAULT_CONSOLE_TILES);
	cfg->console_idle_ms = 30 * 60 * 1000;
	cfg->console_max_ms = 12 * 3600 * 1000;
	snprintf(cfg->console_www, sizeof(cfg->console_www), "%s",
	    TAKD_DEFAULT_CONSOLE_WWW);
	snprintf(cfg->console_leaflet, sizeof(cfg->console_leaflet), "%s",
	    TAKD_DEFAULT_CONSOLE_LEAFLET);

	cfg->users[0] = '\0';		/* STATE_DIR/users */
	snprintf(cfg->user_rdn, sizeof(cfg->user_rdn), "CN");
	cfg->user_rdn_nid = NID_commonName;
	cfg->ou_groups = false;

	/* What TAK Server's example CoreConfig has as nameEntries. */
	cfg->cert_days = 365;
	cfg->enroll_rate = 60;
	cfg->enroll_burst = 20;
	snprintf(cfg->cert_o, sizeof(cfg->cert_o), "TAK");
	snprintf(cfg->cert_ou, sizeof(cfg->cert_ou), "TAK");

	/* Off; a node's id is its host name unless set (docs/cluster.md). */
	snprintf(cfg->cluster_name, sizeof(cfg->cluster_name), "takd");
	cfg->cluster_node_timeout_ms = 15 * MS_SECOND;
}

/* Make one path absolute, or derive it from dir/name when empty. */
static int
finish_path(const char *file, const char *cwd, const char *what, char *path,
    size_t pathlen, const char *dir, const char *name, char *err,
    size_t errlen)
{
	char	 tmp[PATH_MAX], msg[CONFIG_MSG_MAX];
	int	 n;

	if (path[0] == '\0' && dir != NULL) {
		n = snprintf(tmp, sizeof(tmp), "%s/%s", dir, name);
		if (n < 0 || (size_t)n >= sizeof(tmp) ||
		    config_path_resolve(cwd, tmp, path, pathlen) == -1) {
			snprintf(msg, sizeof(msg), "%s: the default %.40s.../%s "
			    "is too long (at most %zu characters)", what, dir,
			    name, pathlen - 1);
			goto fail;
		}
		return (0);
	}
	if (config_path_resolve(cwd, path, tmp, sizeof(tmp)) == -1 ||
	    config_str_copy(path, pathlen, tmp) == -1) {
		snprintf(msg, sizeof(msg), "%s: path too long once made "
		    "absolute (at most %zu characters)", what, pathlen - 1);
		goto fail;
	}
	return (0);
 fail:
	config_set_err(err, errlen, file, 0, msg);
	return (-1);
}

static int
finish_listeners(const struct config *cfg, const char *file, char *err,
    size_t errlen)
{
	const struct config_listen	*all[2 * TAKD_MAX_LISTEN + 3];
	const char			*key[2 * TAKD_MAX_LISTEN + 3];
	char				 a[300], msg[CONFIG_MSG_MAX];
	size_t				 i, j, n = 0;

	if (cfg->n_tls_listen == 0 || cfg->n_tls_listen > TAKD_MAX_LISTEN ||
	    cfg->n_tcp_listen > TAKD_MAX_LISTEN) {
		config_set_err(err, errlen, file, 0, "[tls] listen: expected "
		    "1 to 8 addresses, [tcp] listen at most 8");
		return (-1);
	}
	for (i = 0; i < cfg->n_tls_listen; i++) {
		all[n] = &cfg->tls_listen[i];
		key[n++] = "[tls] listen";
	}
	for (i = 0; i < cfg->n_tcp_listen; i++) {
		all[n] = &cfg->tcp_listen[i];
		key[n++] = "[tcp] listen";
	}
	if (cfg->metrics_listen.port[0] != '\0') {
		all[n] = &cfg->metrics_listen;
		key[n++] = "[metrics] listen";
	}
	if (cfg->api_on && cfg->api_listen.port[0] != '\0') {
		all[n] = &cfg->api_listen;
		key[n++] = "[api] listen";
	}
	if (cfg->api_on && cfg->api_enroll_listen.port[0] != '\0') {
		all[n] = &cfg->api_enroll_listen;
		key[n++] = "[api] enroll_listen";
	}
	/* Clashes inside one list were caught while parsing. */
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			if (strcmp(key[i], key[j]) == 0 ||
			    !config_listen_clash(all[i], all[j]))
				continue;
			config_listen_fmt(a, sizeof(a), all[j]);
			if (all[i]->line > 0)
				snprintf(msg, sizeof(msg), "%s: %s clashes "
				    "with %s on line %d", key[j], a, key[i],
				    all[i]->line);
			else
				snprintf(msg, sizeof(msg), "%s: %s clashes "
				    "with the default %s", key[j], a, key[i]);
			config_set_err(err, errlen, file, all[j]->line, msg);
			return (-1);
		}
	}
	return (0);
}

/*
 * [console] tiles goes into the page as JSON and into Leaflet's template:
 * a URL of printable ASCII with the three placeholders, nothing a page
 * could read as markup or a script.
 */
static bool
config_tiles_ok(const char *t)
{
	const char	*p;

	if (*t == '\0')
		return (true);
	if (strncmp(t, "https://", 8) != 0 && strncmp(t, "http://", 7) != 0)
		return (false);
	for (p = t; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("\"'<>\\`", *p) != NULL)
			return (false);
	return (strstr(t, "{z}") != NULL && strstr(t, "{x}") != NULL &&
	    strstr(t, "{y}") != NULL);
}

static int
config_finish_file(struct config *cfg, const char *file, char *err,
    size_t errlen)
{
	char	 cwd[PATH_MAX], msg[CONFIG_MSG_MAX];

	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		snprintf(msg, sizeof(msg), "cannot resolve relative paths: "
		    "getcwd: %s", strerror(errno));
		config_set_err(err, errlen, file, 0, msg);
		return (-1);
	}
	if (cfg->state_dir[0] == '\0') {
		config_set_err(err, errlen, file, 0, "[server] state_dir: "
		    "empty path");
		return (-1);
	}
	/* Order matters: each default derives from a path made absolute. */
	if (finish_path(file, cwd, "[server] state_dir", cfg->state_dir,
	    sizeof(cfg->state_dir), NULL, NULL, err, errlen) == -1 ||
	    finish_path(file, cwd, "[server] run_dir", cfg->run_dir,
	    sizeof(cfg->run_dir), cfg->state_dir, "run", err, errlen) == -1 ||
	    finish_path(file, cwd, "[pki] dir", cfg->pki_dir,
	    sizeof(cfg->pki_dir), cfg->state_dir, "pki", err, errlen) == -1 ||
	    finish_path(file, cwd, "[tls] cert", cfg->cert, sizeof(cfg->cert),
	    cfg->pki_dir, "server.pem", err, errlen) == -1 ||
	    finish_path(file, cwd, "[tls] key", cfg->key, sizeof(cfg->key),
	    cfg->pki_dir, "server.key", err, errlen) == -1 ||
	    finish_path(file, cwd, "[tls] ca", cfg->ca, sizeof(cfg->ca),
	    cfg->pki_dir, "ca.pem", err, errlen) == -1 ||
	    finish_path(file, cwd, "[tls] crl", cfg->crl, sizeof(cfg->crl),
	    cfg->pki_dir, "crl.pem", err, errlen) == -1 ||
	    finish_path(file, cwd, "[auth] users", cfg->users,
	    sizeof(cfg->users), cfg->state_dir, "users", err, errlen) == -1 ||
	    finish_path(file, cwd, "[api] packages_dir", cfg->api_packages_dir,
	    sizeof(cfg->api_packages_dir), cfg->state_dir, "packages", err,
	    errlen) == -1)
		return (-1);
	if (cfg->log[0] == '\0') {
		config_set_err(err, errlen, file, 0, "[server] log: empty "
		    "value");
		return (-1);
	}
	if (strcmp(cfg->log, "stderr") != 0 && strcmp(cfg->log, "syslog") != 0 &&
	    finish_path(file, cwd, "[server] log", cfg->log, sizeof(cfg->log),
	    NULL, NULL, err, errlen) == -1)
		return (-1);
	if (strlen(cfg->run_dir) > CONFIG_RUN_DIR_MAX) {
		snprintf(msg, sizeof(msg), "[server] run_dir: %.60s... is too "
		    "long to hold the admin socket (at most %d characters); "
		    "set a shorter run_dir", cfg->run_dir, CONFIG_RUN_DIR_MAX);
		config_set_err(err, errlen, file, 0, msg);
		return (-1);
	}
	if (cfg->workers > TAKD_MAX_WORKERS) {
		snprintf(msg, sizeof(msg), "[server] workers: at most %d",
		    TAKD_MAX_WORKERS);
		config_set_err(err, errlen, file, 0, msg);
		return (-1);
	}
	if (finish_listeners(cfg, file, err, errlen) == -1)
		return (-1);
	if (config_finish_cluster(cfg, cwd, msg, sizeof(msg)) == -1) {
		config_set_err(err, errlen, file, 0, msg);
		return (-1);
	}
	cfg->metrics_on = cfg->metrics_listen.port[0] != '\0';
	if (!config_tiles_ok(cfg->console_tiles)) {
		config_set_err(err, errlen, file, 0, "[console] tiles: "
		    "expected empty or an http:// or https:// URL with {z}, "
		    "{x} and {y}, without quotes, blanks or <>");
		return (-1);
	}
	if ((cfg->n_crl_url > 0 || cfg->crl_url_cdp) &&
	    cfg->crl_check == CRL_CHECK_OFF) {
		config_set_err(err, errlen, file, 0, "[tls] crl_url: set, but "
		    "crl_check = off: no CRL would be used");
		return (-1);
	}
	return (0);
}

int
config_finish(struct config *cfg, char *err, size_t errlen)
{
	return (config_finish_file(cfg, cfg->path[0] != '\0' ? cfg->path :
	    "(built-in defaults)", err, errlen));
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct load_ctx	 ctx;
	int		 seen[CONFIG_MAX_KEYS];
	int		 r, rc = -1;

	config_init(cfg);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL)
		return (config_finish(cfg, err, errlen));

	memset(&ctx, 0, sizeof(ctx));
	memset(seen, 0, sizeof(seen));
	ctx.cfg = cfg;
	ctx.seen = seen;
	if (*path == '\0') {
		config_set_err(err, errlen, "(empty file name)", 0,
		    "cannot open: empty configuration file name");
		return (-1);
	}
	if (getcwd(ctx.cwd, sizeof(ctx.cwd)) == NULL) {
		ctx_error(&ctx, 0, "cannot resolve relative paths: getcwd: %s",
		    strerror(errno));
		goto done;
	}
	if (config_path_resolve(ctx.cwd, path, cfg->path,
	    sizeof(cfg->path)) == -1) {
		ctx_error(&ctx, 0, "file name too long");
		goto done;
	}
	if ((ctx.fp = fopen(path, "re")) == NULL) {
		ctx_error(&ctx, 0, "cannot open: %s", strerror(errno));
		goto done;
	}
	r = ini_parse_stream(config_read_line, &ctx, config_handler, &ctx);
	/*
	 * inih returns the first line it rejected: our handler's, or one of
	 * its own syntax errors, which come without a message.
	 */
	if (r > 0 && (!ctx.failed || ctx.err_line == 0 || r < ctx.err_line)) {
		ctx.failed = false;
		ctx_error(&ctx, r, "syntax error: expected \"key = value\", "
		    "\"[section]\" or a ; comment");
	} else if (r < 0 && !ctx.failed)
		ctx_error(&ctx, 0, "cannot parse (inih error %d)", r);
	if (!ctx.failed)
		rc = config_finish_file(cfg, path, err, errlen);
 done:
	if (ctx.failed)
		config_set_err(err, errlen, path, ctx.err_line, ctx.msg);
	if (rc == -1)
		config_clear_secrets(cfg);
	if (ctx.fp != NULL)
		fclose(ctx.fp);
	OPENSSL_cleanse(ctx.buf, sizeof(ctx.buf));
	return (rc);
}

void
config_clear_secrets(struct config *cfg)
{
	OPENSSL_cleanse(cfg->key_password, sizeof(cfg->key_password));
	OPENSSL_cleanse(cfg->client_password, sizeof(cfg->client_password));
	OPENSSL_cleanse(cfg->metrics_token, sizeof(cfg->metrics_token));
}
