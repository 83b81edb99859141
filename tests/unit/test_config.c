/*
 * Unit tests for shared/config*.c.  Config files are written into a
 * mkdtemp directory that the group teardown removes.  Run from the
 * repository root: two tests read etc/takd.ini.
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "tests/unit/unit.h"

#include "shared/config.h"
#include "shared/log.h"

#define TAKD_INI	"etc/takd.ini"

static char	 tmpdir[64];
static char	 cwd[PATH_MAX];

/* Every key of the contract in design.md, as "section.key". */
static const char *const contract_keys[] = {
	"server.user", "server.group", "server.workers", "server.state_dir",
	"server.run_dir", "server.nofile", "server.max_sessions",
	"server.drain_timeout", "server.log", "server.log_level",
	"tls.listen", "tls.cert", "tls.key", "tls.key_password", "tls.ca",
	"tls.crl", "tls.crl_check", "tls.crl_stale", "tls.crl_warn_days",
	"tls.crl_watch", "tls.handshake_timeout", "tls.min_protocol",
	"tcp.listen",
	"cot.max_event_bytes", "cot.idle_timeout", "cot.max_events_per_second",
	"cot.max_queue_bytes", "cot.partial_timeout", "cot.write_timeout",
	"pki.dir", "pki.client_password", "pki.server_host",
	"metrics.listen", "metrics.token",
	"auth.users", "auth.user_rdn", "auth.ou_groups",
	"api.cert_days",
};
#define N_CONTRACT_KEYS	(sizeof(contract_keys) / sizeof(contract_keys[0]))
/* Keys takd adds beside the contract's (design.md allows additions). */
static const char *const added_keys[] = {
	"cot.flush_delay", "cot.sa_flush_delay", "tls.ticket_key_rotation", "cot.sa_max_stale",
	"cot.sa_uids_per_cert", "cot.sa_store_max",
	"cot.relay_certs", "cot.relay_max_uids", "cot.max_bytes_per_second",
	"cot.max_sa_bytes", "cot.max_chat_bytes",
	"cot.max_buffered_bytes",
	"server.tcp_keepalive", "server.tcp_keepalive_interval",
	"server.tcp_keepalive_count", "server.tcp_user_timeout",
	"tls.max_handshakes", "tls.max_handshakes_per_address",
	"tls.max_sessions_per_cert",
	"tls.crl_url", "tls.crl_refresh", "tls.crl_fetch_timeout",
	"tls.crl_fetch_max", "tls.cert_warn_days",
	"tcp.group", "cot.protocol_offer",
	"api.cert_o", "api.cert_ou",
	"api.enabled", "api.listen", "api.enroll_listen", "api.max_body",
	"api.max_upload", "api.max_headers", "api.timeout", "api.max_connections",
	"api.max_connections_per_address", "api.enroll_rate",
	"api.enroll_burst", "api.packages_dir", "api.quota", "api.user_quota",
	"cluster.nats", "cluster.name", "cluster.node",
	"cluster.node_timeout", "cluster.tls_ca", "cluster.tls_cert",
	"cluster.tls_key", "cluster.creds",
	"ocsp.staple", "ocsp.responder", "ocsp.refresh", "ocsp.timeout",
	"console.enabled", "console.password_login", "console.tiles",
	"console.session_idle", "console.session_max", "console.www_dir",
	"console.leaflet_dir",
};
#define N_ADDED_KEYS	(sizeof(added_keys) / sizeof(added_keys[0]))
#define N_KEYS		(N_CONTRACT_KEYS + N_ADDED_KEYS)

/* "section.key" of index i over the contract's keys, then the added ones. */
static const char *
key_name(size_t i)
{
	return (i < N_CONTRACT_KEYS ? contract_keys[i] :
	    added_keys[i - N_CONTRACT_KEYS]);
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return (remove(path) == -1 ? -1 : 0);
}

static int
group_setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/takd-test-config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL || getcwd(cwd, sizeof(cwd)) == NULL)
		return (-1);
	return (0);
}

static int
group_teardown(void **state)
{
	return (nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS));
}

static struct config *
cfg_new(void)
{
	struct config	*cfg;

	cfg = calloc(1, sizeof(*cfg));
	assert_non_null(cfg);
	return (cfg);
}

/* Write name in the temp dir; the path goes to out. */
static void
write_bytes(const char *name, const char *data, size_t len, char *out,
    size_t outlen)
{
	FILE	*fp;

	assert_true((size_t)snprintf(out, outlen, "%s/%s", tmpdir, name) <
	    outlen);
	fp = fopen(out, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void
write_file(const char *name, const char *text, char *out, size_t outlen)
{
	write_bytes(name, text, strlen(text), out, outlen);
}

/* Load text as a config file; returns config_load's result. */
static int
load_text(struct config *cfg, const char *text, char *path, char *err,
    size_t errlen)
{
	write_file("t.ini", text, path, PATH_MAX);
	return (config_load(cfg, path, err, errlen));
}

static void
load_ok(struct config *cfg, const char *text)
{
	char	 path[PATH_MAX], err[1024];

	if (load_text(cfg, text, path, err, sizeof(err)) != 0)
		fail_msg("unexpected error: %s\nfor file:\n%s", err, text);
}

/* Expect an error whose message starts with "PATH:LINE: " and has want. */
static void
load_fail(const char *text, int line, const char *want)
{
	static struct config cfg_store;	/* no leak when an assert jumps */
	struct config	*cfg = &cfg_store;
	char		 path[PATH_MAX], err[1024], prefix[PATH_MAX + 32];

	if (load_text(cfg, text, path, err, sizeof(err)) != -1)
		fail_msg("loaded, but expected an error \"%s\" for:\n%s",
		    want, text);
	if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%d: ", path, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", path);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", err, prefix);
	assert_contains(err, want);
}

static void
cwd_path(char *out, size_t outlen, const char *rel)
{
	assert_true((size_t)snprintf(out, outlen, "%s/%s", cwd, rel) < outlen);
}

static void
test_defaults(void **state)
{
	struct config	*cfg = cfg_new();
	char		 err[512], p[PATH_MAX];

	assert_int_equal(config_load(cfg, NULL, err, sizeof(err)), 0);
	assert_string_equal(cfg->path, "");
	assert_string_equal(cfg->user, "takd");
	assert_string_equal(cfg->group, "");
	assert_int_equal(cfg->workers, 0);
	cwd_path(p, sizeof(p), "var");
	assert_string_equal(cfg->state_dir, p);
	cwd_path(p, sizeof(p), "var/run");
	assert_string_equal(cfg->run_dir, p);
	assert_int_equal(cfg->nofile, 65536);
	assert_int_equal(cfg->max_sessions, 10000);
	assert_int_equal(cfg->drain_timeout_ms, 5000);
	assert_int_equal(cfg->flush_delay_ms, 20);
	assert_int_equal(cfg->sa_flush_delay_ms, 100);
	assert_string_equal(cfg->log, "stderr");
	assert_int_equal(cfg->log_level, LOG_INFO);

	assert_int_equal(cfg->n_tls_listen, 2);
	assert_string_equal(cfg->tls_listen[0].host, "0.0.0.0");
	assert_string_equal(cfg->tls_listen[0].port, "8089");
	assert_string_equal(cfg->tls_listen[1].host, "::");
	assert_string_equal(cfg->tls_listen[1].port, "8089");
	assert_int_equal(cfg->tls_listen[0].line, 0);
	cwd_path(p, sizeof(p), "var/pki/server.pem");
	assert_string_equal(cfg->cert, p);
	cwd_path(p, sizeof(p), "var/pki/server.key");
	assert_string_equal(cfg->key, p);
	cwd_path(p, sizeof(p), "var/pki/ca.pem");
	assert_string_equal(cfg->ca, p);
	cwd_path(p, sizeof(p), "var/pki/crl.pem");
	assert_string_equal(cfg->crl, p);
	assert_string_equal(cfg->key_password, "");
	assert_int_equal(cfg->crl_check, CRL_CHECK_LEAF);
	assert_int_equal(cfg->crl_stale, CRL_STALE_ENFORCE_LISTED);
	assert_int_equal(cfg->crl_warn_days, 7);
	assert_false(cfg->crl_watch);
	assert_int_equal(cfg->n_crl_url, 0);
	assert_false(cfg->crl_url_cdp);
	assert_int_equal(cfg->crl_refresh_ms, 15 * 60 * 1000);
	assert_int_equal(cfg->crl_fetch_timeout_ms, 15000);
	assert_int_equal(cfg->crl_fetch_max, 16 * 1024 * 1024);
	assert_int_equal(cfg->cert_warn_days, 30);
	assert_false(cfg->ocsp_staple);
	assert_string_equal(cfg->ocsp_responder, "");
	assert_int_equal(cfg->ocsp_refresh_ms, 60 * 60 * 1000);
	assert_int_equal(cfg->ocsp_timeout_ms, 15000);
	assert_int_equal(cfg->handshake_timeout_ms, 5000);
	assert_int_equal(cfg->max_handshakes, 1000);
	assert_int_equal(cfg->max_handshakes_per_address, 32);
	assert_int_equal(cfg->max_sessions_per_cert, 8);
	assert_int_equal(cfg->keepalive_ms, 60000);
	assert_int_equal(cfg->keepalive_interval_ms, 15000);
	assert_int_equal(cfg->keepalive_count, 4);
	assert_int_equal(cfg->user_timeout_ms, 60000);
	assert_int_equal(cfg->min_protocol, TLS1_2_VERSION);
	assert_int_equal(cfg->ticket_key_rotation_ms, 24 * 3600 * 1000);

	assert_int_equal(cfg->n_tcp_listen, 0);

	assert_int_equal(cfg->max_event_bytes, 65536);
	assert_int_equal(cfg->idle_timeout_ms, 600000);
	assert_int_equal(cfg->max_events_per_second, 50);
	assert_int_equal(cfg->max_bytes_per_second, 8192);
	assert_int_equal(cfg->max_sa_bytes, 8192);
	assert_int_equal(cfg->max_chat_bytes, 8192);
	assert_int_equal(cfg->max_buffered_bytes, 0);

	cwd_path(p, sizeof(p), "var/pki");
	assert_string_equal(cfg->pki_dir, p);
	assert_string_equal(cfg->client_password, "");
	assert_string_equal(cfg->server_host, "");

	assert_false(cfg->metrics_on);
	assert_string_equal(cfg->metrics_listen.port, "");
	assert_string_equal(cfg->metrics_token, "");

	assert_false(cfg->api_on);
	assert_string_equal(cfg->api_listen.host, "0.0.0.0");
	assert_string_equal(cfg->api_listen.port, "8443");
	assert_string_equal(cfg->api_enroll_listen.host, "0.0.0.0");
	assert_string_equal(cfg->api_enroll_listen.port, "8446");
	assert_int_equal(cfg->api_max_body, 65536);
	assert_int_equal(cfg->api_max_upload, 100 * 1024 * 1024);
	assert_int_equal(cfg->api_max_headers, 8192);
	assert_int_equal(cfg->api_timeout_ms, 10000);
	assert_int_equal(cfg->api_max_conns, 1024);
	assert_int_equal(cfg->api_max_conns_per_address, 64);
	cwd_path(p, sizeof(p), "var/packages");
	assert_string_equal(cfg->api_packages_dir, p);
	assert_true(cfg->api_quota == (size_t)10 << 30);
	assert_int_equal(cfg->api_user_quota, 0);

	cwd_path(p, sizeof(p), "var/users");
	assert_string_equal(cfg->users, p);
	assert_string_equal(cfg->user_rdn, "CN");
	assert_int_equal(cfg->user_rdn_nid, NID_commonName);
	assert_false(cfg->ou_groups);
	assert_true(cfg->protocol_offer);
	assert_int_equal(cfg->cert_days, 365);
	assert_string_equal(cfg->cert_o, "TAK");
	assert_string_equal(cfg->cert_ou, "TAK");
	free(cfg);
}

/* config_init leaves the derived paths empty; config_finish fills them. */
static void
test_init_then_finish(void **state)
{
	struct config	*cfg = cfg_new();
	char		 err[512];

	config_init(cfg);
	assert_string_equal(cfg->state_dir, "./var");
	assert_string_equal(cfg->run_dir, "");
	assert_string_equal(cfg->cert, "");
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/srv/takd/");
	assert_int_equal(config_finish(cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->state_dir, "/srv/takd");
	assert_string_equal(cfg->run_dir, "/srv/takd/run");
	assert_string_equal(cfg->pki_dir, "/srv/takd/pki");
	assert_string_equal(cfg->ca, "/srv/takd/pki/ca.pem");
	assert_string_equal(cfg->users, "/srv/takd/users");
	/* A second pass changes nothing. */
	assert_int_equal(config_finish(cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->crl, "/srv/takd/pki/crl.pem");
	free(cfg);
}

static void
test_full_file(void **state)
{
	struct config	*cfg = cfg_new();
	char		 path[PATH_MAX], err[512];

	assert_int_equal(load_text(cfg,
	    "; every key, none at its default\n"
	    "[server]\n"
	    "user = takd\n"
	    "group = tak\n"
	    "workers = 3\n"
	    "state_dir = /var/lib/takd\n"
	    "run_dir = /run/takd\n"
	    "nofile = 200000\n"
	    "max_sessions = 500\n"
	    "drain_timeout = 1500ms\n"
	    "tcp_keepalive = 2m\n"
	    "tcp_keepalive_interval = 5s\n"
	    "tcp_keepalive_count = 9\n"
	    "tcp_user_timeout = off\n"
	    "log = /var/log/takd.log\n"
	    "log_level = debug\n"
	    "[tls]\n"
	    "listen = 127.0.0.1:9089\n"
	    "listen = [::1]:9089\n"
	    "cert = /etc/takd/cert.pem\n"
	    "key = /etc/takd/key.pem\n"
	    "key_password = \"pass phrase \"\n"
	    "ca = /etc/takd/ca.pem\n"
	    "crl = /etc/takd/crl.der\n"
	    "crl_check = chain\n"
	    "crl_stale = strict\n"
	    "crl_warn_days = 14\n"
	    "crl_watch = yes\n"
	    "handshake_timeout = 3s\n"
	    "max_handshakes = 0\n"
	    "max_handshakes_per_address = 7\n"
	    "max_sessions_per_cert = 0\n"
	    "min_protocol = 1.3\n"
	    "ticket_key_rotation = 6h\n"
	    "[tcp]\n"
	    "listen = :8087\n"
	    "group = Gate way/é\n"
	    "[cot]\n"
	    "max_event_bytes = 1M\n"
	    "idle_timeout = 2m\n"
	    "max_events_per_second = 80\n"
	    "max_bytes_per_second = 16k\n"
	    "max_sa_bytes = 4k\n"
	    "max_chat_bytes = off\n"
	    "max_buffered_bytes = 512M\n"
	    "protocol_offer = off\n"
	    "[pki]\n"
	    "dir = /etc/takd/pki\n"
	    "client_password = s3cret\n"
	    "server_host = tak.example.org\n"
	    "[metrics]\n"
	    "listen = 127.0.0.1:9100\n"
	    "token = abc123\n"
	    "[auth]\n"
	    "users = /etc/takd/users\n"
	    "user_rdn = emailaddress\n"
	    "ou_groups = yes\n"
	    "[api]\n"
	    "cert_days = 90\n"
	    "cert_o = \xc3\x89quipe\n"
	    "cert_ou =\n"
	    "enabled = yes\n"
	    "listen = 127.0.0.1:9443\n"
	    "enroll_listen =\n"
	    "max_body = 32k\n"
	    "max_upload = 2048M\n"
	    "max_headers = 16k\n"
	    "timeout = 5s\n"
	    "max_connections = 100\n"
	    "max_connections_per_address = 5\n"
	    "packages_dir = /srv/takd/packages\n"
	    "quota = 200G\n"
	    "user_quota = 1G\n", path, err, sizeof(err)), 0);
	assert_string_equal(cfg->path, path);
	assert_string_equal(cfg->user, "takd");
	assert_string_equal(cfg->group, "tak");
	assert_int_equal(cfg->workers, 3);
	assert_string_equal(cfg->state_dir, "/var/lib/takd");
	assert_string_equal(cfg->run_dir, "/run/takd");
	assert_int_equal(cfg->nofile, 200000);
	assert_int_equal(cfg->max_sessions, 500);
	assert_int_equal(cfg->drain_timeout_ms, 1500);
	assert_int_equal(cfg->keepalive_ms, 120000);
	assert_int_equal(cfg->keepalive_interval_ms, 5000);
	assert_int_equal(cfg->keepalive_count, 9);
	assert_int_equal(cfg->user_timeout_ms, 0);
	assert_string_equal(cfg->log, "/var/log/takd.log");
	assert_int_equal(cfg->log_level, LOG_DEBUG);
	assert_int_equal(cfg->n_tls_listen, 2);
	assert_string_equal(cfg->tls_listen[0].host, "127.0.0.1");
	assert_string_equal(cfg->tls_listen[0].port, "9089");
	assert_int_equal(cfg->tls_listen[0].line, 18);
	assert_string_equal(cfg->tls_listen[1].host, "::1");
	assert_int_equal(cfg->tls_listen[1].line, 19);
	assert_string_equal(cfg->cert, "/etc/takd/cert.pem");
	assert_string_equal(cfg->key, "/etc/takd/key.pem");
	assert_string_equal(cfg->key_password, "pass phrase ");
	assert_string_equal(cfg->ca, "/etc/takd/ca.pem");
	assert_string_equal(cfg->crl, "/etc/takd/crl.der");
	assert_int_equal(cfg->crl_check, CRL_CHECK_CHAIN);
	assert_int_equal(cfg->crl_stale, CRL_STALE_STRICT);
	assert_int_equal(cfg->crl_warn_days, 14);
	assert_true(cfg->crl_watch);
	assert_int_equal(cfg->handshake_timeout_ms, 3000);
	assert_int_equal(cfg->max_handshakes, 0);
	assert_int_equal(cfg->max_handshakes_per_address, 7);
	assert_int_equal(cfg->max_sessions_per_cert, 0);
	assert_int_equal(cfg->min_protocol, TLS1_3_VERSION);
	assert_int_equal(cfg->ticket_key_rotation_ms, 6 * 3600 * 1000);
	assert_int_equal(cfg->n_tcp_listen, 1);
	assert_string_equal(cfg->tcp_listen[0].host, "");
	assert_string_equal(cfg->tcp_listen[0].port, "8087");
	assert_string_equal(cfg->tcp_group, "Gate way/é");
	assert_int_equal(cfg->max_event_bytes, 1024 * 1024);
	assert_int_equal(cfg->idle_timeout_ms, 120000);
	assert_int_equal(cfg->max_events_per_second, 80);
	assert_int_equal(cfg->max_bytes_per_second, 16384);
	assert_int_equal(cfg->max_sa_bytes, 4096);
	assert_int_equal(cfg->max_chat_bytes, 0);
	assert_int_equal(cfg->max_buffered_bytes, (size_t)512 << 20);
	assert_false(cfg->protocol_offer);
	assert_string_equal(cfg->pki_dir, "/etc/takd/pki");
	assert_string_equal(cfg->client_password, "s3cret");
	assert_string_equal(cfg->server_host, "tak.example.org");
	assert_true(cfg->metrics_on);
	assert_string_equal(cfg->metrics_listen.host, "127.0.0.1");
	assert_string_equal(cfg->metrics_listen.port, "9100");
	assert_string_equal(cfg->metrics_token, "abc123");
	assert_string_equal(cfg->users, "/etc/takd/users");
	assert_string_equal(cfg->user_rdn, "emailAddress");
	assert_int_equal(cfg->user_rdn_nid, NID_pkcs9_emailAddress);
	assert_true(cfg->ou_groups);
	assert_int_equal(cfg->cert_days, 90);
	assert_string_equal(cfg->cert_o, "\xc3\x89quipe");
	assert_string_equal(cfg->cert_ou, "");
	assert_true(cfg->api_on);
	assert_string_equal(cfg->api_listen.host, "127.0.0.1");
	assert_string_equal(cfg->api_listen.port, "9443");
	assert_string_equal(cfg->api_enroll_listen.port, "");
	assert_int_equal(cfg->api_max_body, 32768);
	assert_int_equal(cfg->api_max_upload, 2048ULL * 1024 * 1024);
	assert_int_equal(cfg->api_max_headers, 16384);
	assert_int_equal(cfg->api_timeout_ms, 5000);
	assert_int_equal(cfg->api_max_conns, 100);
	assert_int_equal(cfg->api_max_conns_per_address, 5);
	assert_string_equal(cfg->api_packages_dir, "/srv/takd/packages");
	assert_true(cfg->api_quota == (size_t)200 << 30);
	assert_true(cfg->api_user_quota == (size_t)1 << 30);

	config_clear_secrets(cfg);
	assert_string_equal(cfg->key_password, "");
	assert_string_equal(cfg->client_password, "");
	assert_string_equal(cfg->metrics_token, "");
	assert_string_equal(cfg->user, "takd");
	free(cfg);
}

/* Derived paths follow state_dir and [pki] dir set in the file. */
static void
test_derived_after_file(void **state)
{
	struct config	*cfg = cfg_new();

	load_ok(cfg, "[server]\nstate_dir = /srv/takd\n");
	assert_string_equal(cfg->run_dir, "/srv/takd/run");
	assert_string_equal(cfg->pki_dir, "/srv/takd/pki");
	assert_string_equal(cfg->cert, "/srv/takd/pki/server.pem");
	assert_string_equal(cfg->key, "/srv/takd/pki/server.key");
	assert_string_equal(cfg->ca, "/srv/takd/pki/ca.pem");
	assert_string_equal(cfg->crl, "/srv/takd/pki/crl.pem");
	assert_string_equal(cfg->users, "/srv/takd/users");

	/* [pki] dir before state_dir in the file: order does not matter. */
	load_ok(cfg, "[pki]\ndir = /etc/takd/pki\n[tls]\ncrl = /tmp/x.crl\n"
	    "[server]\nstate_dir = /srv/takd\n");
	assert_string_equal(cfg->run_dir, "/srv/takd/run");
	assert_string_equal(cfg->pki_dir, "/etc/takd/pki");
	assert_string_equal(cfg->cert, "/etc/takd/pki/server.pem");
	assert_string_equal(cfg->ca, "/etc/takd/pki/ca.pem");
	assert_string_equal(cfg->crl, "/tmp/x.crl");

	/* An explicit empty value means "derive", as when absent. */
	load_ok(cfg, "[server]\nstate_dir = /a\nrun_dir =\n[tls]\ncert =\n"
	    "[auth]\nusers =\n");
	assert_string_equal(cfg->run_dir, "/a/run");
	assert_string_equal(cfg->cert, "/a/pki/server.pem");
	assert_string_equal(cfg->users, "/a/users");
	/* A relative one is made absolute; state_dir does not move it. */
	load_ok(cfg, "[auth]\nusers = etc/users\n[server]\nstate_dir = /a\n");
	assert_string_equal(cfg->users + strlen(cfg->users) - 10,
	    "/etc/users");
	assert_true(cfg->users[0] == '/');
	free(cfg);
}

static void
test_relative_paths(void **state)
{
	struct config	*cfg = cfg_new();
	char		 p[PATH_MAX];

	load_ok(cfg, "[server]\nstate_dir = rel/dir/\nlog = logs//takd.log\n"
	    "[tls]\ncert = ./certs/./a.pem\nkey = ../k.pem\n"
	    "ca = /etc//takd/ca.pem/\ncrl = /\n");
	cwd_path(p, sizeof(p), "rel/dir");
	assert_string_equal(cfg->state_dir, p);
	cwd_path(p, sizeof(p), "rel/dir/run");
	assert_string_equal(cfg->run_dir, p);
	cwd_path(p, sizeof(p), "rel/dir/pki");
	assert_string_equal(cfg->pki_dir, p);
	cwd_path(p, sizeof(p), "logs/takd.log");
	assert_string_equal(cfg->log, p);
	cwd_path(p, sizeof(p), "certs/a.pem");
	assert_string_equal(cfg->cert, p);
	/* ".." is kept: only the file system knows where it leads. */
	cwd_path(p, sizeof(p), "../k.pem");
	assert_string_equal(cfg->key, p);
	assert_string_equal(cfg->ca, "/etc/takd/ca.pem");
	assert_string_equal(cfg->crl, "/");
	free(cfg);
}

struct bad_case {
	const char	*section;
	const char	*line;
	const char	*want;	/* after "PATH:LINE: " */
};

static const struct bad_case bad_cases[] = {
	{ "server", "workers = lots", "[server] workers: expected a number "
	    "from 1 to 256 or \"auto\", got \"lots\"" },
	{ "server", "workers = 0", "[server] workers: expected a number" },
	{ "server", "workers = 257", "got \"257\"" },
	{ "server", "workers = 4 workers", "got \"4 workers\"" },
	{ "server", "user =", "[server] user: empty value" },
	{ "server", "user = bad user", "[server] user: expected a user or "
	    "group name" },
	{ "server", "group = -wheel", "[server] group: expected a user" },
	{ "server", "user = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaa", "[server] user: value too long (at most 63 "
	    "characters)" },
	{ "server", "nofile = 10", "[server] nofile: expected a number from "
	    "64 to 1073741824, got \"10\"" },
	{ "server", "nofile = 99999999999999999999999999", "[server] nofile: "
	    "expected a number from 64" },
	{ "server", "nofile = -1", "[server] nofile: expected a number" },
	{ "server", "max_sessions = 0", "[server] max_sessions: expected a "
	    "number from 1 to 1000000" },
	{ "server", "drain_timeout = 5", "[server] drain_timeout: expected a "
	    "duration with a unit" },
	{ "server", "drain_timeout = 2h", "[server] drain_timeout: expected a "
	    "duration from 0 to 1h, got \"2h\"" },
	{ "server", "tcp_keepalive = 500ms", "[server] tcp_keepalive: "
	    "expected a duration from 1s to 2h" },
	{ "server", "tcp_keepalive_count = 0", "[server] tcp_keepalive_count: "
	    "expected a number from 1 to 127" },
	{ "server", "tcp_user_timeout = 2h", "[server] tcp_user_timeout: "
	    "expected a duration from 1s to 1h" },
	{ "server", "log =", "[server] log: empty value" },
	{ "server", "log_level = verbose", "[server] log_level: expected "
	    "error, warning, info or debug, got \"verbose\"" },
	{ "server", "log_level = notice", "[server] log_level: expected" },
	{ "server", "state_dir =", "[server] state_dir: empty path" },
	{ "server", "user = a\001b", "[server] user: control character" },
	{ "tls", "listen = 0.0.0.0", "[tls] listen: expected HOST:PORT, "
	    "[IPV6]:PORT, :PORT or PORT, got \"0.0.0.0\"" },
	{ "tls", "listen = 1.2.3.4:99999", "[tls] listen: port must be a "
	    "number from 0 to 65535" },
	{ "tls", "listen = ::1:8089", "[tls] listen: write IPv6 addresses in "
	    "brackets" },
	{ "tls", "listen = [::1:8089", "[tls] listen: missing ']'" },
	{ "tls", "listen = []:8089", "[tls] listen: empty IPv6 address" },
	{ "tls", "listen = [::1]8089", "[tls] listen: expected :PORT" },
	{ "tls", "listen = bad host:80", "[tls] listen: not a host name" },
	{ "tls", "listen =", "[tls] listen: empty address" },
	{ "tls", "listen = \"\"", "[tls] listen: empty address" },
	{ "tls", "crl_check = all", "[tls] crl_check: expected leaf, chain "
	    "or off, got \"all\"" },
	{ "tls", "crl_stale = lenient", "[tls] crl_stale: expected "
	    "enforce-listed or strict" },
	{ "tls", "crl_warn_days = 4000", "[tls] crl_warn_days: expected a "
	    "number from 0 to 3650" },
	{ "tls", "crl_watch = maybe", "[tls] crl_watch: expected on or off" },
	{ "tls", "crl_url = ftp://ca.example/crl", "[tls] crl_url: expected "
	    "an http:// or https:// URL" },
	{ "tls", "crl_url = http://", "[tls] crl_url: expected a URL with a "
	    "host" },
	{ "tls", "crl_url = http://u:secret@ca.example/crl", "[tls] crl_url: "
	    "no user or password" },
	{ "tls", "crl_refresh = 30s", "[tls] crl_refresh: expected a duration "
	    "from 1m to 7d" },
	{ "tls", "crl_fetch_timeout = 0", "[tls] crl_fetch_timeout: expected "
	    "a duration from 1s to 10m" },
	{ "tls", "crl_fetch_max = 1k", "[tls] crl_fetch_max: expected a size" },
	{ "ocsp", "responder = ldap://ca.example/", "[ocsp] responder: "
	    "expected an http:// or https:// URL" },
	{ "ocsp", "responder = http://u:pw@ca.example/", "[ocsp] responder: "
	    "no user or password" },
	{ "ocsp", "refresh = 10s", "[ocsp] refresh: expected a duration "
	    "from 1m to 7d" },
	{ "tls", "cert_warn_days = 4000", "[tls] cert_warn_days: expected a "
	    "number from 0 to 3650" },
	{ "tls", "handshake_timeout = 0", "[tls] handshake_timeout: expected "
	    "a duration from 10ms to 1h" },
	{ "tls", "handshake_timeout = 10sec", "[tls] handshake_timeout: "
	    "expected a duration with a unit" },
	{ "tls", "max_handshakes = -1", "[tls] max_handshakes: expected a "
	    "number from 0 to 1000000" },
	{ "tls", "max_sessions_per_cert = many", "[tls] "
	    "max_sessions_per_cert: expected a number" },
	{ "tls", "min_protocol = TLSv1.1", "[tls] min_protocol: expected "
	    "TLSv1.2 or TLSv1.3" },
	{ "tls", "ticket_key_rotation = 500ms", "[tls] ticket_key_rotation: "
	    "expected a duration from 1s to 3d" },
	{ "tls", "ticket_key_rotation = 4d", "[tls] ticket_key_rotation: "
	    "expected a duration from 1s to 3d" },
	{ "tls", "ticket_key_rotation = off", "[tls] ticket_key_rotation: "
	    "expected a duration with a unit" },
	{ "tcp", "listen = :http", "[tcp] listen: port must be a number" },
	{ "tcp", "group = a,b", "[tcp] group: expected a group name" },
	{ "tcp", "group = a:b", "[tcp] group: expected a group name" },
	{ "tcp", "group = \" lead\"", "[tcp] group: expected a group name" },
	{ "tcp", "group = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaa", "[tcp] group: expected a group name" },
	{ "cot", "max_event_bytes = 512", "[cot] max_event_bytes: expected a "
	    "size from 1k to 16M, got \"512\"" },
	{ "cot", "max_event_bytes = 17M", "[cot] max_event_bytes: expected a "
	    "size from 1k to 16M" },
	{ "cot", "max_event_bytes = 64kb", "[cot] max_event_bytes: expected a "
	    "size in bytes" },
	{ "cot", "max_event_bytes = 99999999999999999999999k",
	    "[cot] max_event_bytes: expected a size from" },
	{ "cot", "sa_flush_delay = 6s", "[cot] sa_flush_delay: expected a "
	    "duration from 0 to 5s" },
	{ "cot", "sa_flush_delay = 100", "[cot] sa_flush_delay: expected a "
	    "duration with a unit" },
	{ "cot", "idle_timeout = 31d", "[cot] idle_timeout: expected a "
	    "duration from 0 to 30d" },
	{ "cot", "idle_timeout = 50d", "[cot] idle_timeout: expected a "
	    "duration from 0 to 30d" },
	{ "cot", "idle_timeout = never", "[cot] idle_timeout: expected a "
	    "duration with a unit (ms, s, m, h or d) such as \"10s\", or "
	    "\"off\"" },
	{ "cot", "max_events_per_second = -1", "[cot] max_events_per_second: "
	    "expected a number from 0 to 1000000" },
	{ "cot", "max_bytes_per_second = 100", "[cot] max_bytes_per_second: "
	    "expected a size from 256 to 1G, or \"off\", got \"100\"" },
	{ "cot", "max_bytes_per_second = auto", "[cot] max_bytes_per_second: "
	    "expected a size in bytes, with an optional k, M, G or T "
	    "suffix, or "
	    "\"off\"" },
	{ "cot", "max_sa_bytes = 17M", "[cot] max_sa_bytes: expected a size "
	    "from 256 to 16M, or \"off\"" },
	{ "cot", "max_chat_bytes = 1x", "[cot] max_chat_bytes: expected a "
	    "size in bytes" },
	{ "cot", "max_buffered_bytes = 512k", "[cot] max_buffered_bytes: "
	    "expected a size from 1M to 1T, or \"auto\"" },
	{ "cot", "max_buffered_bytes = off", "[cot] max_buffered_bytes: "
	    "expected a size in bytes, with an optional k, M, G or T "
	    "suffix, or "
	    "\"auto\"" },
	{ "pki", "server_host = tak.example.org:8089", "[pki] server_host: "
	    "expected a host name" },
	{ "metrics", "listen = localhost", "[metrics] listen: expected "
	    "HOST:PORT" },
	{ "api", "quota = 512k", "[api] quota: expected a size from 1M to "
	    "1024T, or \"off\", got \"512k\"" },
	{ "api", "quota = 1025T", "[api] quota: expected a size from 1M to "
	    "1024T" },
	{ "api", "user_quota = lots", "[api] user_quota: expected a size in "
	    "bytes, with an optional k, M, G or T suffix, or \"off\"" },
	{ "auth", "user_rdn = OU", "[auth] user_rdn: expected CN, UID, "
	    "emailAddress or serialNumber, got \"OU\"" },
	{ "auth", "user_rdn =", "[auth] user_rdn: expected CN" },
	{ "auth", "user_rdn = commonName", "[auth] user_rdn: expected CN" },
	{ "auth", "ou_groups = maybe", "[auth] ou_groups: expected on or off" },
	{ "cot", "protocol_offer = v1", "[cot] protocol_offer: expected on or "
	    "off" },
	{ "api", "cert_days = 0", "[api] cert_days: expected a number from 1 "
	    "to 3650" },
	{ "api", "cert_days = 3651", "[api] cert_days: expected a number" },
	{ "api", "cert_o = a\xc3(b", "[api] cert_o: expected 1 to 64 "
	    "characters of UTF-8 without control characters" },
	{ "api", "cert_ou = \xff", "[api] cert_ou: expected 1 to 64" },
	{ "api", "cert_ou = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxx", "[api] cert_ou: expected 1 to 64" },
};

/*
 * Each bad value is reported on its own line (6, after a valid section)
 * with its section and key.
 */
static void
test_bad_values(void **state)
{
	char	 text[512];
	size_t	 i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		snprintf(text, sizeof(text), "; bad value\n[metrics]\n"
		    "token = t\n\n[%s]\n%s\nuser = x y z\n",
		    bad_cases[i].section, bad_cases[i].line);
		load_fail(text, 6, bad_cases[i].want);
	}
}

/* Secrets never appear in a message, even when they are the bad value. */
static void
test_secret_not_shown(void **state)
{
	struct config	*cfg = cfg_new();
	char		 path[PATH_MAX], err[512];

	assert_int_equal(load_text(cfg, "[tls]\nkey_password = \"hunter2 ; x\"\n",
	    path, err, sizeof(err)), -1);
	assert_contains(err, ":2: [tls] key_password: unbalanced double quote");
	assert_null(strstr(err, "hunter2"));
	assert_string_equal(cfg->key_password, "");
	/* A secret read before a later error is wiped too. */
	assert_int_equal(load_text(cfg, "[pki]\nclient_password = hunter2\n"
	    "[tls]\ncrl_check = bogus\n", path, err, sizeof(err)), -1);
	assert_null(strstr(err, "hunter2"));
	assert_string_equal(cfg->client_password, "");
	free(cfg);
}

static void
test_structure_errors(void **state)
{
	load_fail("[server]\nuser = a\n[bogus]\n", 3, "unknown section "
	    "[bogus]");
	load_fail("[Server]\nuser = a\n", 1, "unknown section [Server]");
	load_fail("[server]\nwrkers = 3\n", 2, "[server] wrkers: unknown key");
	load_fail("[tls]\nworkers = 3\n", 2, "[tls] workers: unknown key");
	load_fail("; top\nuser = a\n[server]\n", 2, "key \"user\" before any "
	    "[section]");
	load_fail("[server]\nuser = a\njust some words\n", 3, "syntax error");
	load_fail("[server]\n= value\n", 2, "missing key name");
	load_fail("[server\nuser = a\n", 1, "missing ']'");
	load_fail("[server] user = a\n", 1, "unexpected text after the "
	    "section header");
	load_fail("[server]\nworkers = 2\nuser = a\nworkers = 3\n", 4,
	    "[server] workers: given twice (first on line 2)");
	load_fail("[server]\nworkers = 2\n[tls]\n[server]\nworkers = 3\n", 5,
	    "given twice (first on line 2)");
	/* The first error wins, whichever kind it is. */
	load_fail("[server]\nno equals here\nworkers = lots\n", 2,
	    "syntax error");
	load_fail("[server]\nworkers = lots\nno equals here\n", 2,
	    "[server] workers");
	load_fail("[server]\nworkers = 1\nnofile = 1\nuser = -x\n", 3,
	    "[server] nofile");
}

static void
test_open_errors(void **state)
{
	struct config	*cfg = cfg_new();
	char		 path[PATH_MAX], err[512], want[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/missing.ini", tmpdir);
	assert_int_equal(config_load(cfg, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
	    "directory", path);
	assert_string_equal(err, want);

	assert_int_equal(config_load(cfg, tmpdir, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: cannot read: Is a directory", tmpdir);
	assert_string_equal(err, want);

	assert_int_equal(config_load(cfg, "", err, sizeof(err)), -1);
	assert_contains(err, "empty configuration file name");
	free(cfg);
}

static void
test_listen_lists(void **state)
{
	struct config	*cfg = cfg_new();
	char		 text[1024];
	size_t		 i, n;

	/* The first listen replaces both defaults, the next ones append. */
	load_ok(cfg, "[tls]\nlisten = 127.0.0.1:0\n");
	assert_int_equal(cfg->n_tls_listen, 1);
	assert_string_equal(cfg->tls_listen[0].host, "127.0.0.1");
	assert_string_equal(cfg->tls_listen[0].port, "0");
	assert_int_equal(cfg->tls_listen[0].line, 2);
	load_ok(cfg, "[tls]\nlisten = 127.0.0.1:9000\n[cot]\n"
	    "max_events_per_second = 5\n[tls]\nlisten = [::1]:9000\n"
	    "listen = 9001\n");
	assert_int_equal(cfg->n_tls_listen, 3);
	assert_string_equal(cfg->tls_listen[1].host, "::1");
	assert_int_equal(cfg->tls_listen[1].line, 6);
	assert_string_equal(cfg->tls_listen[2].host, "");
	assert_string_equal(cfg->tls_listen[2].port, "9001");
	/* Port 0 may repeat: the kernel picks a different port each time. */
	load_ok(cfg, "[tls]\nlisten = 127.0.0.1:0\nlisten = 127.0.0.1:0\n");
	assert_int_equal(cfg->n_tls_listen, 2);

	/* At most TAKD_MAX_LISTEN. */
	n = (size_t)snprintf(text, sizeof(text), "[tls]\n");
	for (i = 0; i < TAKD_MAX_LISTEN; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
		    "listen = 127.0.0.1:%zu\n", 9000 + i);
	load_ok(cfg, text);
	assert_int_equal(cfg->n_tls_listen, TAKD_MAX_LISTEN);
	snprintf(text + n, sizeof(text) - n, "listen = 127.0.0.1:9999\n");
	load_fail(text, TAKD_MAX_LISTEN + 2, "[tls] listen: too many "
	    "addresses (at most 8)");

	load_fail("[tls]\nlisten = 127.0.0.1:9000\nlisten = 127.0.0.1:9000\n",
	    3, "[tls] listen: clashes with 127.0.0.1:9000 on line 2");
	load_fail("[tls]\nlisten = :9000\nlisten = 0.0.0.0:9000\n", 3,
	    "clashes with :9000 on line 2");

	/* crl_url: one per line, the first replaces, "cdp", at most 4. */
	load_ok(cfg, "[tls]\ncrl_url = http://ca.example/a.crl\n"
	    "crl_url = https://[::1]:8443/b.crl\ncrl_url = cdp\n");
	assert_int_equal(cfg->n_crl_url, 2);
	assert_string_equal(cfg->crl_url[1], "https://[::1]:8443/b.crl");
	assert_true(cfg->crl_url_cdp);
	load_ok(cfg, "[tls]\ncrl_url = http://a/1\ncrl_url = http://a/2\n"
	    "crl_url = http://a/3\ncrl_url = http://a/4\n");
	assert_int_equal(cfg->n_crl_url, CONFIG_CRL_URL_MAX);
	load_fail("[tls]\ncrl_url = http://a/1\ncrl_url = http://a/2\n"
	    "crl_url = http://a/3\ncrl_url = http://a/4\ncrl_url = http://a/5\n",
	    6, "[tls] crl_url: too many URLs (at most 4)");
	load_fail("[tls]\ncrl_check = off\ncrl_url = http://a/1\n", 0,
	    "[tls] crl_url: set, but crl_check = off");
	/* The tests' lower floor of crl_refresh comes from the environment. */
	load_fail("[tls]\ncrl_refresh = 2s\n", 2, "[tls] crl_refresh: "
	    "expected a duration from 1m to 7d");
	assert_int_equal(setenv(CONFIG_CRL_REFRESH_TEST_ENV, "1", 1), 0);
	load_ok(cfg, "[tls]\ncrl_refresh = 2s\n");
	assert_int_equal(unsetenv(CONFIG_CRL_REFRESH_TEST_ENV), 0);
	assert_int_equal(cfg->crl_refresh_ms, 2000);

	/* tcp: off by default, empty is off, listed like tls. */
	load_ok(cfg, "[tcp]\nlisten =\n");
	assert_int_equal(cfg->n_tcp_listen, 0);
	load_ok(cfg, "[tcp]\nlisten = 127.0.0.1:8087\nlisten = [::1]:8087\n");
	assert_int_equal(cfg->n_tcp_listen, 2);
	load_ok(cfg, "[tcp]\nlisten = 127.0.0.1:8087\nlisten =\n");
	assert_int_equal(cfg->n_tcp_listen, 0);
	load_fail("[tcp]\nlisten = 0.0.0.0:8089\n", 2, "[tcp] listen: "
	    "0.0.0.0:8089 clashes with the default [tls] listen");
	load_fail("[tls]\nlisten = :8000\n[tcp]\nlisten = [::]:8000\n", 4,
	    "[tcp] listen: [::]:8000 clashes with [tls] listen on line 2");

	/* metrics: one address, a bare port binds loopback. */
	load_ok(cfg, "[metrics]\nlisten = 9100\n");
	assert_true(cfg->metrics_on);
	assert_string_equal(cfg->metrics_listen.host, "127.0.0.1");
	assert_string_equal(cfg->metrics_listen.port, "9100");
	load_ok(cfg, "[metrics]\nlisten = :9100\n");
	assert_string_equal(cfg->metrics_listen.host, "");
	load_ok(cfg, "[metrics]\nlisten =\n");
	assert_false(cfg->metrics_on);
	load_fail("[metrics]\nlisten = 9100\nlisten = 9101\n", 3,
	    "[metrics] listen: given twice");
	load_fail("[tls]\nlisten = 127.0.0.1:9100\n[metrics]\n"
	    "listen = 9100\n", 4, "[metrics] listen: 127.0.0.1:9100 clashes");

	/* api: its addresses clash only when it is on. */
	load_ok(cfg, "[tls]\nlisten = 0.0.0.0:8443\n");
	load_fail("[tls]\nlisten = 0.0.0.0:8443\n[api]\nenabled = yes\n",
	    0, "[api] listen: 0.0.0.0:8443 clashes with [tls] listen");
	load_fail("[api]\nenabled = yes\nenroll_listen = 0.0.0.0:8443\n", 3,
	    "[api] enroll_listen: 0.0.0.0:8443 clashes with the default "
	    "[api] listen");
	load_ok(cfg, "[api]\nenabled = yes\nlisten =\nenroll_listen = :9446\n");
	assert_string_equal(cfg->api_listen.port, "");
	load_fail("[api]\ntimeout = 10\n", 2, "[api] timeout");
	free(cfg);
}

static void
test_durations(void **state)
{
	static const struct {
		const char	*s;
		unsigned	 ms;
	} good[] = {
		{ "0", 0 }, { "0s", 0 }, { "500ms", 500 }, { "10s", 10000 },
		{ "5m", 300000 }, { "2h", 7200000 }, { "7d", 604800000 },
		{ "007s", 7000 }, { "49d", 4233600000U },
		{ "4294967295ms", 4294967295U }, { "4294967s", 4294967000U },
	};
	static const char *const bad[] = {
		"", "10", "s", "ms", "10 s", " 10s", "10s ", "-1s", "+1s",
		"1.5s", "10S", "10sec", "1h30m", "0x10s", "00", "off",
		"50d", "4294967296ms", "4294968s", "71583m", "1194h",
		"99999999999999999999999999s", "18446744073709551616ms",
	};
	unsigned	 ms;
	size_t		 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 12345;
		if (config_parse_duration(good[i].s, &ms) != 0)
			fail_msg("\"%s\" rejected", good[i].s);
		assert_int_equal(ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 12345;
		if (config_parse_duration(bad[i], &ms) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(ms, 12345);
	}
}

static void
test_sizes(void **state)
{
	static const struct {
		const char	*s;
		size_t		 n;
	} good[] = {
		{ "0", 0 }, { "65536", 65536 }, { "64k", 65536 },
		{ "64K", 65536 }, { "1m", 1048576 }, { "16M", 16777216 },
		{ "18446744073709551615", SIZE_MAX },
		{ "17592186044415m", (size_t)17592186044415ULL << 20 },
		{ "1G", (size_t)1 << 30 }, { "10g", (size_t)10 << 30 },
		{ "2T", (size_t)2 << 40 },
		{ "17179869183G", (size_t)17179869183ULL << 30 },
	};
	static const char *const bad[] = {
		"", "k", "M", "64kb", "64KiB", "-1", "1.5k", "64 k", " 64",
		"1P", "1GB", "0x10", "18446744073709551616", "18014398509481984k",
		"17592186044416m", "999999999999999999999999999999999999m",
		"17179869184G", "16777216T",
	};
	size_t	 n, i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		n = 7;
		if (config_parse_size(good[i].s, &n) != 0)
			fail_msg("\"%s\" rejected", good[i].s);
		assert_true(n == good[i].n);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = 7;
		if (config_parse_size(bad[i], &n) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_int_equal(n, 7);
	}
}

static void
test_listen_forms(void **state)
{
	static const struct {
		const char	*s, *host, *port;
	} good[] = {
		{ "0.0.0.0:8089", "0.0.0.0", "8089" },
		{ "127.0.0.1:0", "127.0.0.1", "0" },
		{ "[::]:8089", "::", "8089" },
		{ "[::1]:65535", "::1", "65535" },
		{ "[fe80::1%eth0]:8089", "fe80::1%eth0", "8089" },
		{ "[::ffff:10.0.0.1]:1", "::ffff:10.0.0.1", "1" },
		{ ":8087", "", "8087" },
		{ "8089", "", "8089" },
		{ "08089", "", "8089" },
		{ "localhost:80", "localhost", "80" },
		{ "tak.example.org.:443", "tak.example.org.", "443" },
		{ "tak-1.example.org:443", "tak-1.example.org", "443" },
	};
	static const char *const bad[] = {
		"", ":", "[]:1", "[::1]", "[::1]:", "[::1]x:1", "[::1:80",
		"::1:8089", "::", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1",
		"1.2.3.4:80x", "1.2.3.4: 80", "host:80:90", "-bad:80",
		"bad-.example:80", "a..b:80", ".a:80", "1.2.3:80", "1.2.3.4.:80",
		"256.1.1.1:80", "a b:80", "a_b:80", "[1.2.3.4]:80", "[::1%]:80",
		"[::1%e/0]:80", "[zz::1]:80", "host", "65536", "-1",
		"123456789012345678901234567890",
	};
	struct config_listen	 la;
	char			 longhost[400];
	size_t			 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&la, 0x5a, sizeof(la));
		if (config_parse_listen(good[i].s, &la) != 0)
			fail_msg("\"%s\" rejected", good[i].s);
		assert_string_equal(la.host, good[i].host);
		assert_string_equal(la.port, good[i].port);
		assert_int_equal(la.line, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&la, 0, sizeof(la));
		if (config_parse_listen(bad[i], &la) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
		assert_string_equal(la.host, "");
		assert_string_equal(la.port, "");
	}
	memset(longhost, 'a', 300);
	snprintf(longhost + 300, sizeof(longhost) - 300, ":80");
	assert_int_equal(config_parse_listen(longhost, &la), -1);
	longhost[0] = '[';
	snprintf(longhost + 299, sizeof(longhost) - 299, "]:80");
	assert_int_equal(config_parse_listen(longhost, &la), -1);
}

/* Values: quotes, inline comments, CRLF, indentation, BOM. */
static void
test_value_forms(void **state)
{
	struct config	*cfg = cfg_new();

	load_ok(cfg, "[server]\nuser = \"alice\"\n[tls]\n"
	    "key_password = \"  two words  \"\n[pki]\nclient_password = \"\"\n"
	    "[metrics]\ntoken = x\"y\n");
	assert_string_equal(cfg->user, "alice");
	assert_string_equal(cfg->key_password, "  two words  ");
	assert_string_equal(cfg->client_password, "");
	assert_string_equal(cfg->metrics_token, "x\"y");

	/* ";" starts a comment only after a blank. */
	load_ok(cfg, "[server] ; the server\nworkers = 3 ; three\n"
	    "# a hash comment\n; workers = 9\n[metrics]\n"
	    "token = bob;not-a-comment\n");
	assert_int_equal(cfg->workers, 3);
	assert_string_equal(cfg->metrics_token, "bob;not-a-comment");
	assert_string_equal(cfg->key_password, "");
	load_fail("[server]\nuser = bob;not\n", 2, "[server] user: expected a "
	    "user or group name");

	load_ok(cfg, "[server]\r\nworkers = 4\r\nuser = carol\r\n");
	assert_int_equal(cfg->workers, 4);
	assert_string_equal(cfg->user, "carol");

	/* Indented keys are keys, not continuations of the previous value. */
	load_ok(cfg, "  [server]\n  user = dave\n\tworkers = 5\n");
	assert_string_equal(cfg->user, "dave");
	assert_int_equal(cfg->workers, 5);

	load_ok(cfg, "\xEF\xBB\xBF[server]\nworkers = 6\n");
	assert_int_equal(cfg->workers, 6);

	/* Every boolean spelling. */
	load_ok(cfg, "[tls]\ncrl_watch = on\n");
	assert_true(cfg->crl_watch);
	load_ok(cfg, "[tls]\ncrl_watch = 0\n");
	assert_false(cfg->crl_watch);
	load_ok(cfg, "[tls]\ncrl_watch = true\nmin_protocol = TLSv1.3\n"
	    "crl_check = off\n[cot]\nidle_timeout = off\n[server]\n"
	    "workers = auto\nlog = syslog\nlog_level = warning\n");
	assert_true(cfg->crl_watch);
	assert_int_equal(cfg->min_protocol, TLS1_3_VERSION);
	assert_int_equal(cfg->crl_check, CRL_CHECK_OFF);
	assert_int_equal(cfg->idle_timeout_ms, 0);
	assert_int_equal(cfg->workers, 0);
	assert_string_equal(cfg->log, "syslog");
	assert_int_equal(cfg->log_level, LOG_WARNING);
	free(cfg);
}

/* inih cuts lines at INI_MAX_LINE; takd refuses them with their line. */
static void
test_long_lines(void **state)
{
	struct config	*cfg = cfg_new();
	char		 text[1024], val[300];

	/* 197 characters is the longest line accepted. */
	memset(val, 'x', sizeof(val));
	val[197 - strlen("token = ")] = '\0';
	snprintf(text, sizeof(text), "[metrics]\ntoken = %s\n", val);
	load_ok(cfg, text);
	assert_int_equal(strlen(cfg->metrics_token), 197 - strlen("token = "));

	val[197 - strlen("token = ")] = 'x';
	val[198 - strlen("token = ")] = '\0';
	snprintf(text, sizeof(text), "[metrics]\ntoken = %s\n", val);
	load_fail(text, 2, "line too long (198 characters, at most 197)");

	/*
	 * A long comment hiding a key past the cut: inih alone would parse
	 * "workers = 9" as a line of its own.
	 */
	memset(val, ' ', 250);
	memcpy(val, "; comment", 9);
	snprintf(val + 250, sizeof(val) - 250, "workers = 9");
	snprintf(text, sizeof(text), "[server]\nuser = a\n%s\n", val);
	load_fail(text, 3, "line too long (261 characters");

	/* CR of CRLF does not count. */
	memset(val, 'x', sizeof(val));
	val[197 - strlen("token = ")] = '\0';
	snprintf(text, sizeof(text), "[metrics]\r\ntoken = %s\r\n", val);
	load_ok(cfg, text);

	{
		static const char nul[] = "[server]\nuser = a\nwor\0kers = 1\n";
		char	 path[PATH_MAX], err[512], want[PATH_MAX + 32];

		write_bytes("nul.ini", nul, sizeof(nul) - 1, path,
		    sizeof(path));
		assert_int_equal(config_load(cfg, path, err, sizeof(err)), -1);
		snprintf(want, sizeof(want), "%s:3: NUL byte in line", path);
		assert_string_equal(err, want);
	}
	free(cfg);
}

/* Paths that do not fit are errors, never shortened. */
static void
test_path_limits(void **state)
{
	struct config	*cfg = cfg_new();
	char		 err[512];

	config_init(cfg);
	memset(cfg->state_dir, 'a', sizeof(cfg->state_dir));
	cfg->state_dir[0] = '/';
	cfg->state_dir[4093] = '\0';
	assert_int_equal(config_finish(cfg, err, sizeof(err)), -1);
	assert_contains(err, "(built-in defaults): [server] run_dir: the "
	    "default");
	assert_contains(err, "is too long (at most 4095 characters)");

	config_init(cfg);
	memset(cfg->state_dir, 'a', sizeof(cfg->state_dir));
	cfg->state_dir[0] = '/';
	cfg->state_dir[100] = '\0';
	assert_int_equal(config_finish(cfg, err, sizeof(err)), -1);
	assert_contains(err, "[server] run_dir: ");
	assert_contains(err, "too long to hold the admin socket (at most 90 "
	    "characters)");

	config_init(cfg);
	snprintf(cfg->run_dir, sizeof(cfg->run_dir), "/run/takd");
	memset(cfg->pki_dir, 'b', sizeof(cfg->pki_dir));
	cfg->pki_dir[0] = '/';
	cfg->pki_dir[4090] = '\0';
	assert_int_equal(config_finish(cfg, err, sizeof(err)), -1);
	assert_contains(err, "[tls] cert: the default");
	free(cfg);
}

static void
test_names(void **state)
{
	assert_string_equal(config_crl_check_name(CRL_CHECK_LEAF), "leaf");
	assert_string_equal(config_crl_check_name(CRL_CHECK_CHAIN), "chain");
	assert_string_equal(config_crl_check_name(CRL_CHECK_OFF), "off");
	assert_string_equal(config_crl_stale_name(CRL_STALE_ENFORCE_LISTED),
	    "enforce-listed");
	assert_string_equal(config_crl_stale_name(CRL_STALE_STRICT), "strict");
}

static void
assert_listen_equal(const struct config_listen *a,
    const struct config_listen *b)
{
	assert_string_equal(a->host, b->host);
	assert_string_equal(a->port, b->port);
}

/* Field by field: the loaded file and the embedded defaults agree. */
static void
assert_config_equal(const struct config *a, const struct config *b)
{
	size_t	 i;

	assert_string_equal(a->user, b->user);
	assert_string_equal(a->group, b->group);
	assert_int_equal(a->workers, b->workers);
	assert_string_equal(a->state_dir, b->state_dir);
	assert_string_equal(a->run_dir, b->run_dir);
	assert_int_equal(a->nofile, b->nofile);
	assert_int_equal(a->max_sessions, b->max_sessions);
	assert_int_equal(a->drain_timeout_ms, b->drain_timeout_ms);
	assert_string_equal(a->log, b->log);
	assert_int_equal(a->log_level, b->log_level);
	assert_int_equal(a->n_tls_listen, b->n_tls_listen);
	for (i = 0; i < a->n_tls_listen; i++)
		assert_listen_equal(&a->tls_listen[i], &b->tls_listen[i]);
	assert_string_equal(a->cert, b->cert);
	assert_string_equal(a->key, b->key);
	assert_string_equal(a->key_password, b->key_password);
	assert_string_equal(a->ca, b->ca);
	assert_string_equal(a->crl, b->crl);
	assert_int_equal(a->crl_check, b->crl_check);
	assert_int_equal(a->crl_stale, b->crl_stale);
	assert_int_equal(a->crl_warn_days, b->crl_warn_days);
	assert_int_equal(a->crl_watch, b->crl_watch);
	assert_int_equal(a->handshake_timeout_ms, b->handshake_timeout_ms);
	assert_int_equal(a->max_handshakes, b->max_handshakes);
	assert_int_equal(a->max_handshakes_per_address,
	    b->max_handshakes_per_address);
	assert_int_equal(a->max_sessions_per_cert, b->max_sessions_per_cert);
	assert_int_equal(a->keepalive_ms, b->keepalive_ms);
	assert_int_equal(a->keepalive_interval_ms, b->keepalive_interval_ms);
	assert_int_equal(a->keepalive_count, b->keepalive_count);
	assert_int_equal(a->user_timeout_ms, b->user_timeout_ms);
	assert_int_equal(a->min_protocol, b->min_protocol);
	assert_int_equal(a->n_tcp_listen, b->n_tcp_listen);
	for (i = 0; i < a->n_tcp_listen; i++)
		assert_listen_equal(&a->tcp_listen[i], &b->tcp_listen[i]);
	assert_int_equal(a->max_event_bytes, b->max_event_bytes);
	assert_int_equal(a->idle_timeout_ms, b->idle_timeout_ms);
	assert_int_equal(a->max_events_per_second, b->max_events_per_second);
	assert_int_equal(a->sa_max_stale_ms, b->sa_max_stale_ms);
	assert_int_equal(a->sa_uids_per_cert, b->sa_uids_per_cert);
	assert_int_equal(a->sa_store_max, b->sa_store_max);
	assert_string_equal(a->relay_certs, b->relay_certs);
	assert_int_equal(a->relay_max_uids, b->relay_max_uids);
	assert_int_equal(a->protocol_offer, b->protocol_offer);
	assert_int_equal(a->max_bytes_per_second, b->max_bytes_per_second);
	assert_int_equal(a->max_sa_bytes, b->max_sa_bytes);
	assert_int_equal(a->max_chat_bytes, b->max_chat_bytes);
	assert_int_equal(a->max_buffered_bytes, b->max_buffered_bytes);
	assert_string_equal(a->tcp_group, b->tcp_group);
	assert_string_equal(a->pki_dir, b->pki_dir);
	assert_string_equal(a->client_password, b->client_password);
	assert_string_equal(a->server_host, b->server_host);
	assert_int_equal(a->metrics_on, b->metrics_on);
	assert_listen_equal(&a->metrics_listen, &b->metrics_listen);
	assert_string_equal(a->metrics_token, b->metrics_token);
	assert_string_equal(a->users, b->users);
	assert_string_equal(a->user_rdn, b->user_rdn);
	assert_int_equal(a->user_rdn_nid, b->user_rdn_nid);
	assert_int_equal(a->ou_groups, b->ou_groups);
}

static void
test_example_loads(void **state)
{
	struct config	*cfg = cfg_new(), *def = cfg_new();
	char		 err[512], want[PATH_MAX];

	if (config_load(cfg, TAKD_INI, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	cwd_path(want, sizeof(want), TAKD_INI);
	assert_string_equal(cfg->path, want);
	assert_int_equal(config_load(def, NULL, err, sizeof(err)), 0);
	assert_config_equal(cfg, def);
	free(cfg);
	free(def);
}

/*
 * A commented default is "; key = value" (or "; key =") with key a lower
 * case name.  Explanations never take that form, so every such line is a
 * key that the parser must know.
 */
static int
doc_key(const char *line, char *key, size_t keylen, const char **value)
{
	const char	*p;
	size_t		 n;

	if (strncmp(line, "; ", 2) != 0)
		return (0);
	p = line + 2;
	n = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
	if (n == 0 || strncmp(p + n, " =", 2) != 0 ||
	    (p[n + 2] != ' ' && p[n + 2] != '\n'))
		return (0);
	snprintf(key, keylen, "%.*s", (int)n, p);
	*value = p;
	return (1);
}

static void
test_example_documents_every_key(void **state)
{
	struct config	*cfg = cfg_new(), *def = cfg_new();
	char		 line[512], key[64], section[64] = "", full[160];
	char		 path[PATH_MAX], err[512];
	char		*out = NULL;
	size_t		 outlen = 0, i;
	bool		 documented[N_KEYS];
	const char	*value;
	FILE		*in, *mem;

	memset(documented, 0, sizeof(documented));
	in = fopen(TAKD_INI, "r");
	assert_non_null(in);
	mem = open_memstream(&out, &outlen);
	assert_non_null(mem);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (line[0] == '[')
			snprintf(section, sizeof(section), "%.*s",
			    (int)strcspn(line + 1, "]"), line + 1);
		if (!doc_key(line, key, sizeof(key), &value)) {
			fputs(line, mem);
			continue;
		}
		snprintf(full, sizeof(full), "%s.%s", section, key);
		for (i = 0; i < N_KEYS; i++)
			if (strcmp(full, key_name(i)) == 0)
				break;
		if (i == N_KEYS)
			fail_msg("%s documents %s, which is not a known key",
			    TAKD_INI, full);
		documented[i] = true;
		fputs(value, mem);	/* uncommented */
	}
	assert_int_equal(fclose(in), 0);
	assert_int_equal(fclose(mem), 0);
	for (i = 0; i < N_KEYS; i++)
		if (!documented[i])
			fail_msg("%s does not document %s", TAKD_INI,
			    key_name(i));

	/* Uncommented, every default is accepted and is the real default. */
	if (load_text(cfg, out, path, err, sizeof(err)) != 0)
		fail_msg("%s with every default uncommented: %s", TAKD_INI,
		    err);
	assert_int_equal(config_load(def, NULL, err, sizeof(err)), 0);
	assert_config_equal(cfg, def);
	assert_int_equal(cfg->tls_listen[0].line > 0, 1);
	free(out);
	free(cfg);
	free(def);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_init_then_finish),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_derived_after_file),
		cmocka_unit_test(test_relative_paths),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_secret_not_shown),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_listen_lists),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_listen_forms),
		cmocka_unit_test(test_value_forms),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_path_limits),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_example_loads),
		cmocka_unit_test(test_example_documents_every_key),
	};

	return (cmocka_run_group_tests(tests, group_setup, group_teardown));
}
