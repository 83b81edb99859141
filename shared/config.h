/*
 * takd configuration: one INI file parsed with inih into struct config, then
 * validated.  No file at all is valid too: config_init() fills the embedded
 * defaults, which run a development instance with state under ./var.
 *
 * Relative paths (in the file or in the defaults) are resolved against the working
 * directory at load time, so that every path in a loaded struct config is absolute
 * and the daemon may chdir later.  Paths left empty derive from others:
 *   run_dir  = state_dir/run        pki dir  = state_dir/pki
 *   users    = state_dir/users      packages = state_dir/packages
 *   tls cert = pki_dir/server.pem   tls key  = pki_dir/server.key
 *   tls ca   = pki_dir/ca.pem       tls crl  = pki_dir/crl.pem
 *
 * Implemented in config.c (loading, defaults, derived values), config_keys.c
 * (the key table and setters) and config_value.c (the value syntaxes), which
 * share config_int.h.
 */
#ifndef TAKD_CONFIG_H
#define TAKD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TAKD_EX_CONFIG		78	/* sysexits EX_CONFIG */
/* The admin socket in [server] run_dir: takd serves it, takctl talks to it. */
#define TAKD_ADMIN_SOCKET	"takd.sock"
#define TAKD_MAX_LISTEN		8
#define TAKD_MAX_WORKERS	256

/* [cluster] name and node: one token of a NATS subject, NUL included. */
#define TAKD_CLUSTER_TOKEN_MAX	64

#define TAKD_DEFAULT_TLS_PORT	"8089"
#define TAKD_DEFAULT_TCP_PORT	"8087"
#define TAKD_DEFAULT_API_LISTEN		"0.0.0.0:8443"
/* [console] (docs/console.md) */
#define TAKD_DEFAULT_CONSOLE_TILES \
	"https://tile.openstreetmap.org/{z}/{x}/{y}.png"
#define TAKD_DEFAULT_CONSOLE_WWW	"/usr/share/takd/console"
#define TAKD_DEFAULT_CONSOLE_LEAFLET	"/usr/share/javascript/leaflet"
#define TAKD_DEFAULT_ENROLL_LISTEN	"0.0.0.0:8446"

/* [tls] crl_url: how many, how long each. */
#define CONFIG_CRL_URL_MAX	4
#define CONFIG_CRL_URL_LEN	512
/*
 * [tls] crl_refresh is at least a minute; the integration tests lower that
 * floor to a second by setting this variable in takd's environment
 * (docs/testing.md).  No operator needs it: it is not a config key.
 */
#define CONFIG_CRL_REFRESH_TEST_ENV "TAKD_TEST_CRL_REFRESH_MIN_1S"

enum crl_check {
	CRL_CHECK_LEAF,		/* X509_V_FLAG_CRL_CHECK: the client cert only */
	CRL_CHECK_CHAIN,	/* X509_V_FLAG_CRL_CHECK_ALL: needs CRLs for every CA */
	CRL_CHECK_OFF
};

enum crl_stale {
	CRL_STALE_ENFORCE_LISTED,	/* listed serials stay rejected, others admitted */
	CRL_STALE_STRICT		/* everybody rejected while stale */
};

/* A listener address as written ("HOST:PORT", "[v6]:PORT", ":PORT" = any). */
struct config_listen {
	char	 host[256];	/* "" for the wildcard address */
	char	 port[8];	/* "0" asks the kernel for a free port (tests) */
	int	 line;		/* line in the config file, 0 for defaults */
};

struct config {
	char		 path[PATH_MAX];	/* "" when running on embedded defaults */

	/* [server] */
	char		 user[64];	/* used only when started as root */
	char		 group[64];	/* "" = the user's primary group */
	unsigned	 workers;	/* 0 = auto: one per online CPU */
	char		 state_dir[PATH_MAX];
	char		 run_dir[PATH_MAX];
	unsigned long	 nofile;
	unsigned	 max_sessions;	/* established, per worker */
	/*
	 * Dead peers: SO_KEEPALIVE idle time (0 = no keepalive), probe
	 * interval and count, and TCP_USER_TIMEOUT (0 = the kernel's own,
	 * about 15 minutes of retransmissions).
	 */
	unsigned	 keepalive_ms;
	unsigned	 keepalive_interval_ms;
	unsigned	 keepalive_count;
	unsigned	 user_timeout_ms;
	unsigned	 drain_timeout_ms;
	char		 log[PATH_MAX];	/* "stderr", "syslog" or a file path */
	int		 log_level;	/* LOG_ERR .. LOG_DEBUG */

	/* [tls] */
	struct config_listen tls_listen[TAKD_MAX_LISTEN];
	size_t		 n_tls_listen;
	char		 cert[PATH_MAX];
	char		 key[PATH_MAX];
	char		 key_password[256];
	char		 ca[PATH_MAX];
	char		 crl[PATH_MAX];
	enum crl_check	 crl_check;
	enum crl_stale	 crl_stale;
	unsigned	 crl_warn_days;
	bool		 crl_watch;
	/*
	 * [tls] crl_url (docs/revocation.md, "CRL from a URL"): http(s) URLs
	 * tried in order, or the server certificate's CRL distribution
	 * points (crl_url = cdp); none: the file only.
	 */
	char		 crl_url[CONFIG_CRL_URL_MAX][CONFIG_CRL_URL_LEN];
	size_t		 n_crl_url;
	bool		 crl_url_cdp;
	unsigned	 crl_refresh_ms;
	unsigned	 crl_fetch_timeout_ms;
	size_t		 crl_fetch_max;		/* response size cap */
	/* Warn this many days before a certificate expires (0: never). */
	unsigned	 cert_warn_days;
	/*
	 * [ocsp] (docs/revocation.md, "OCSP stapling"): staple the server
	 * certificate's OCSP response; responder "" = the certificate's AIA.
	 */
	bool		 ocsp_staple;
	char		 ocsp_responder[CONFIG_CRL_URL_LEN];
	unsigned	 ocsp_refresh_ms;
	unsigned	 ocsp_timeout_ms;
	unsigned	 handshake_timeout_ms;
	/* Admission before authentication, per worker; 0 = no limit. */
	unsigned	 max_handshakes;
	unsigned	 max_handshakes_per_address;
	/* Sessions of one client certificate, all workers; 0 = no limit. */
	unsigned	 max_sessions_per_cert;
	int		 min_protocol;	/* TLS1_2_VERSION or TLS1_3_VERSION */
	unsigned	 ticket_key_rotation_ms; /* session ticket key life */

	/* [tcp] */
	struct config_listen tcp_listen[TAKD_MAX_LISTEN];
	size_t		 n_tcp_listen;	/* 0: the plain listener is off */
	/* Every plain session's group, both halves; "" none (groups.md). */
	char		 tcp_group[64];

	/* [cot] */
	size_t		 max_event_bytes;
	unsigned	 idle_timeout_ms;	/* 0 = off */
	unsigned	 max_events_per_second;	/* 0 = unlimited */
	size_t		 max_bytes_per_second;	/* per session; 0 = unlimited */
	size_t		 max_sa_bytes;		/* SA events; 0 = no own cap */
	size_t		 max_chat_bytes;	/* chat events; 0 = no own cap */
	size_t		 max_buffered_bytes;	/* per worker; 0 = auto */
	size_t		 max_queue_bytes;	/* per session output queue */
	unsigned	 partial_timeout_ms;	/* an event left unfinished */
	unsigned	 write_timeout_ms;	/* output not read; 0 = off */
	unsigned	 flush_delay_ms;	/* output held to batch; 0 = off */
	unsigned	 sa_flush_delay_ms;	/* SA-only output held; 0 = off */
	unsigned	 sa_max_stale_ms;	/* stored SA: stale at most */
	unsigned	 sa_uids_per_cert;	/* stored SAs of one certificate */
	size_t		 sa_store_max;		/* all stored SAs together */
	/* CNs that may publish identities besides their own, space-separated */
	char		 relay_certs[1024];
	unsigned	 relay_max_uids;	/* stored SAs of such a certificate */
	/* Offer TAK protocol v1 to every session (docs/takproto.md). */
	bool		 protocol_offer;

	/* [pki] */
	char		 pki_dir[PATH_MAX];
	char		 client_password[256];	/* "" = random per bundle */
	char		 server_host[256];

	/* [metrics] */
	struct config_listen metrics_listen;	/* host "" and port "" = off */
	bool		 metrics_on;
	char		 metrics_token[256];

	/*
	 * [api] (docs/api.md): the HTTPS process.  Its listeners are used
	 * only when api_on; the process also runs for [metrics] listen.
	 */
	bool		 api_on;
	struct config_listen api_listen;	/* 8443, mutual TLS; "" off */
	struct config_listen api_enroll_listen;	/* 8446, server TLS; "" off */
	size_t		 api_max_body;		/* request body, bytes */
	uint64_t	 api_max_upload;	/* a data package upload */
	size_t		 api_max_headers;	/* request line and headers */
	unsigned	 api_timeout_ms;	/* a client that stalls */
	unsigned	 api_max_conns;		/* per listener kind */
	unsigned	 api_max_conns_per_address;
	/*
	 * Data packages (docs/datapackages.md): the store's directory and
	 * its limits in bytes, 0 none (shared/pkgstore.h).
	 */
	char		 api_packages_dir[PATH_MAX];
	size_t		 api_quota;		/* all packages together */
	size_t		 api_user_quota;	/* charged to one user */

	/* [auth] (docs/groups.md) */
	char		 users[PATH_MAX];	/* the users file (users.h) */
	/* The RDN of a client certificate's subject that names its user. */
	char		 user_rdn[16];	/* CN, UID, emailAddress, serialNumber */
	int		 user_rdn_nid;		/* its OpenSSL NID */
	bool		 ou_groups;		/* O/OU name a group */

	/* [api]: certificates issued to enrolled devices (docs/pki.md) */
	unsigned	 cert_days;		/* their validity */
	/* takd-signer's rate limit: signatures a minute, and at once */
	unsigned	 enroll_rate;
	unsigned	 enroll_burst;
	char		 cert_o[256];		/* the O their CSR must carry */
	char		 cert_ou[256];		/* the OU; "" none */

	/*
	 * [cluster] (docs/cluster.md): nodes linked over NATS.  nats ""
	 * is off: no cluster process.
	 */
	char		 cluster_nats[1024];	/* server URLs, ',' between */
	char		 cluster_name[TAKD_CLUSTER_TOKEN_MAX];
	char		 cluster_node[TAKD_CLUSTER_TOKEN_MAX]; /* "" hostname */
	unsigned	 cluster_node_timeout_ms;
	char		 cluster_tls_ca[PATH_MAX];
	char		 cluster_tls_cert[PATH_MAX];
	char		 cluster_tls_key[PATH_MAX];
	char		 cluster_creds[PATH_MAX];
	/* [console] (docs/console.md): the admin web console on 8443. */
	bool		 console_on;
	bool		 console_login;		/* password form: 8443 takes */
						/* handshakes without a cert */
	char		 console_tiles[512];	/* "" a plain grid */
	unsigned	 console_idle_ms;	/* a session unused this long */
	unsigned	 console_max_ms;	/* a session's whole life */
	char		 console_www[PATH_MAX];	/* the page's files */
	char		 console_leaflet[PATH_MAX]; /* libjs-leaflet's */
};

/* Fill the embedded defaults (derived paths still empty). */
void	 config_init(struct config *);

/*
 * Load FILE over the defaults, then resolve and validate.  path NULL means
 * embedded defaults only.  Starts with config_init() itself; on error the
 * secrets already read are wiped.  On error returns -1 and writes "FILE:LINE: message"
 * (or "FILE: message" when no line applies) into err.
 */
int	 config_load(struct config *, const char *path, char *err, size_t errlen);

/* Resolve derived/relative paths and cross-check keys.  Called by config_load. */
int	 config_finish(struct config *, char *err, size_t errlen);

/* Parse a duration with a unit ("500ms", "10s", "5m", "2h", "7d") into ms. */
int	 config_parse_duration(const char *, unsigned *ms);
/* Parse a size ("65536", "64k", "1m") into bytes. */
int	 config_parse_size(const char *, size_t *);
/* Parse "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT". */
int	 config_parse_listen(const char *, struct config_listen *);

/* Wipe secrets (key password, client password). */
void	 config_clear_secrets(struct config *);

/* Names as written in the file, for status output ("leaf", "strict"). */
const char *config_crl_check_name(enum crl_check);
const char *config_crl_stale_name(enum crl_stale);

#endif
