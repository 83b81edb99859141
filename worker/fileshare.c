/*
 * File transfer requests (b-f-t-r) that point at this server: see
 * fileshare.h and docs/datapackages.md, "What the b-f-t-r carries".
 *
 * The senderUrl is taken apart by libevent's URI parser (takd links it
 * for the api process); host names are compared, never resolved: a
 * worker does not wait on DNS.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "shared/clock.h"
#include "shared/config.h"
#include "shared/log.h"
#include "shared/pkgstore.h"
#include "worker/conn.h"
#include "worker/fileshare.h"
#include "worker/worker_int.h"

#define FILESHARE_MAGIC		0x66736872U	/* "fshr" */
#define FILESHARE_RETRY_MS	10000	/* a store that would not open */
#define FILESHARE_ADDRS_MS	60000	/* our addresses, read again after */
#define FILESHARE_ADDRS_MAX	64
#define FILESHARE_TYPE		"b-f-t-r"
#define FILESHARE_PATH		"/Marti/sync/content"	/* datapkg_get.c */

struct fileshare_addr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 a[16];
};

struct fileshare {
	unsigned	 magic;
	const struct config *cfg;
	unsigned	 api_port;
	char		 hostname[256];	/* gethostname(), as marti_hostname() */
	struct pkgstore	*store;		/* read-only, opened on first need */
	int64_t		 open_after_ms;	/* no new try before (monotonic) */
	struct fileshare_addr addrs[FILESHARE_ADDRS_MAX];
	size_t		 n_addrs;
	int64_t		 addrs_ms;	/* when read (monotonic); 0: never */
	struct log_ratelimit rl_unknown;
	struct log_ratelimit rl_store;
};

struct fileshare *
fileshare_new(const struct config *cfg, unsigned api_port)
{
	struct fileshare	*fs;

	if ((fs = calloc(1, sizeof(*fs))) == NULL)
		return (NULL);
	fs->magic = FILESHARE_MAGIC;
	fs->cfg = cfg;
	fs->api_port = api_port;
	if (gethostname(fs->hostname, sizeof(fs->hostname)) == -1)
		fs->hostname[0] = '\0';
	fs->hostname[sizeof(fs->hostname) - 1] = '\0';
	/* A sender that keeps announcing a gone package: a line a minute. */
	fs->rl_unknown.burst = 10;
	fs->rl_unknown.window = 60;
	fs->rl_store.burst = 1;
	fs->rl_store.window = 60;
	return (fs);
}

void
fileshare_free(struct fileshare *fs)
{
	if (fs == NULL)
		return;
	pkgstore_close(fs->store);
	fs->magic = 0;
	free(fs);
}

/* Names are equal regardless of case and of a trailing dot. */
static bool
fileshare_name_eq(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return (la > 0 && la == lb && strncasecmp(a, b, la) == 0);
}

static void
fileshare_addrs_read(struct fileshare *fs, int64_t now)
{
	struct ifaddrs		*ifa, *i;
	struct fileshare_addr	*a;

	fs->n_addrs = 0;
	fs->addrs_ms = now;
	if (getifaddrs(&ifa) == -1) {
		log_warn("fileshare: getifaddrs");
		return;
	}
	for (i = ifa; i != NULL && fs->n_addrs < FILESHARE_ADDRS_MAX;
	    i = i->ifa_next) {
		if (i->ifa_addr == NULL)
			continue;
		a = &fs->addrs[fs->n_addrs];
		memset(a, 0, sizeof(*a));
		if (i->ifa_addr->sa_family == AF_INET) {
			a->family = AF_INET;
			memcpy(a->a, &((struct sockaddr_in *)(void *)
			    i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a->family = AF_INET6;
			memcpy(a->a, &((struct sockaddr_in6 *)(void *)
			    i->ifa_addr)->sin6_addr, 16);
		} else
			continue;
		fs->n_addrs++;
	}
	freeifaddrs(ifa);
}

/*
 * An address literal of this host: loopback, unspecified (a connect to it
 * reaches this host) or one of its interfaces' (read again when older
 * than FILESHARE_ADDRS_MS and the address is not among them).
 */
static bool
fileshare_addr_ours(struct fileshare *fs, const char *host)
{
	struct fileshare_addr	 a;
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const unsigned char zero[16], lo6[16] = { [15] = 1 };
	int64_t			 now;
	size_t			 i;
	int			 pass;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, host, a.a) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, host, a.a) == 1) {
		a.family = AF_INET6;
		if (memcmp(a.a, mapped, sizeof(mapped)) == 0) {
			a.family = AF_INET;
			memmove(a.a, a.a + 12, 4);
			memset(a.a + 4, 0, 12);
		}
	} else
		return (false);
	if (memcmp(a.a, zero, sizeof(zero)) == 0 ||
	    (a.family == AF_INET && a.a[0] == 127) ||
	    (a.family == AF_INET6 && memcmp(a.a, lo6, sizeof(lo6)) == 0))
		return (true);
	now = clock_mono_ms();
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < fs->n_addrs; i++)
			if (fs->addrs[i].family == a.family &&
			    memcmp(fs->addrs[i].a, a.a, sizeof(a.a)) == 0)
				return (true);
		if (fs->addrs_ms != 0 && now - fs->addrs_ms < FILESHARE_ADDRS_MS)
			break;
		fileshare_addrs_read(fs, now);
	}
	return (false);
}

/* Does uri name this server's api (scheme https, host, port)? */
static bool
fileshare_uri_ours(struct fileshare *fs, const struct evhttp_uri *uri)
{
	const char	*scheme, *h;
	char		 host[256];
	size_t		 len;
	int		 port;

	scheme = evhttp_uri_get_scheme(uri);
	h = evhttp_uri_get_host(uri);
	if (scheme == NULL || strcasecmp(scheme, "https") != 0 || h == NULL)
		return (false);
	port = evhttp_uri_get_port(uri);
	if ((port == -1 ? 443 : port) != (int)fs->api_port)
		return (false);
	/* An IPv6 literal comes in its brackets. */
	len = strlen(h);
	if (h[0] == '[' && len > 2 && h[len - 1] == ']') {
		h++;
		len -= 2;
	}
	if (len >= sizeof(host))
		return (false);
	memcpy(host, h, len);
	host[len] = '\0';
	if (fs->cfg->server_host[0] != '\0' &&
	    fileshare_name_eq(host, fs->cfg->server_host))
		return (true);
	if (fileshare_name_eq(host, fs->hostname) ||
	    fileshare_name_eq(host, "localhost"))
		return (true);
	return (fileshare_addr_ours(fs, host));
}

/* The hash= of a content URL, lowercased into hex; false when none. */
static bool
fileshare_uri_hash(const struct evhttp_uri *uri, char hex[PKG_HASH_HEX])
{
	struct evkeyvalq	 q;
	const char		*path, *query, *h;
	bool			 ok = false;

	path = evhttp_uri_get_path(uri);
	query = evhttp_uri_get_query(uri);
	if (path == NULL || strcmp(path, FILESHARE_PATH) != 0 ||
	    query == NULL)
		return (false);
	TAILQ_INIT(&q);
	if (evhttp_parse_query_str(query, &q) == 0 &&
	    (h = evhttp_find_header(&q, "hash")) != NULL &&
	    pkgstore_hash_ok(h)) {
		memcpy(hex, h, PKG_HASH_HEX - 1);
		hex[PKG_HASH_HEX - 1] = '\0';
		pkgstore_hash_lower(hex);
		ok = true;
	}
	evhttp_clear_headers(&q);
	return (ok);
}

/* The read-only handle, opened now if need be; NULL while it cannot be. */
static struct pkgstore *
fileshare_store(struct fileshare *fs)
{
	char	 err[PATH_MAX + 256];
	int64_t	 now;

	if (fs->store != NULL)
		return (fs->store);
	now = clock_mono_ms();
	if (fs->open_after_ms != 0 && now < fs->open_after_ms)
		return (NULL);
	fs->store = pkgstore_open(fs->cfg->api_packages_dir, PKGSTORE_RDONLY,
	    err, sizeof(err));
	if (fs->store == NULL) {
		fs->open_after_ms = now + FILESHARE_RETRY_MS;
		log_limited(&fs->rl_store, LOG_WARNING, "fileshare: data "
		    "package store: %s: file transfer requests to this server "
		    "are not checked (next try in %d s)", err,
		    FILESHARE_RETRY_MS / 1000);
		return (NULL);
	}
	log_info("fileshare: data package store %s open read-only",
	    fs->cfg->api_packages_dir);
	return (fs->store);
}

static void
fileshare_unknown(struct worker *w, struct conn *c,
    const struct cot_view *v, const char *what)
{
	char	 who[CONN_WHO_MAX];

	w->cnt.fs_unknown++;
	log_limited(&w->fileshare->rl_unknown, LOG_WARNING, "session %" PRIu64
	    ": file transfer request \"%s\" from uid \"%s\": its senderUrl %s "
	    "points at this server, but %s: its recipients cannot download "
	    "it (%s)", c->id, v->uid, c->s.uid[0] != '\0' ? c->s.uid : v->uid,
	    v->fileshare_url, what, conn_who(c, who, sizeof(who)));
}

void
fileshare_check(struct worker *w, struct conn *c, const struct cot_view *v)
{
	struct fileshare	*fs = w->fileshare;
	struct evhttp_uri	*uri;
	struct pkgstore		*store;
	struct pkg_meta		 m;
	char			 hex[PKG_HASH_HEX];
	int			 rc;

	if (fs == NULL || fs->api_port == 0 || v->fileshare_url[0] == '\0' ||
	    strcmp(v->type, FILESHARE_TYPE) != 0)
		return;
	if (fs->magic != FILESHARE_MAGIC)
		fatalx("fileshare: bad magic");
	/* Not a URL: nothing that could point at us. */
	if ((uri = evhttp_uri_parse(v->fileshare_url)) == NULL)
		return;
	if (!fileshare_uri_ours(fs, uri))
		goto done;
	if (!fileshare_uri_hash(uri, hex)) {
		fileshare_unknown(w, c, v, "names no data package (not "
		    FILESHARE_PATH "?hash= and a SHA-256)");
		goto done;
	}
	if ((store = fileshare_store(fs)) == NULL) {
		w->cnt.fs_unchecked++;
		goto done;
	}
	rc = pkgstore_get(store, hex, &m);
	if (rc == 0)
		w->cnt.fs_held++;
	else if (rc == PKG_ERR_NOTFOUND) {
		fileshare_unknown(w, c, v, "the data package store does not "
		    "hold that package");
	} else {
		/* Logged by the store; a fresh handle at the next try. */
		w->cnt.fs_unchecked++;
		pkgstore_close(fs->store);
		fs->store = NULL;
		fs->open_after_ms = clock_mono_ms() + FILESHARE_RETRY_MS;
	}
 done:
	evhttp_uri_free(uri);
}
