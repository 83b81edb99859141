/*
 * GET /metrics on [metrics] listen (docs/metrics.md): the Prometheus text
 * the supervisor makes from the counters of every process
 * (supervisor/metrics_text.c), asked for over the control channel
 * (IPC_MSG_METRICS_REQ) and handed back in a sealed memfd.  The request
 * waits for it outside the handler: the api process's loop goes on.
 *
 * [metrics] token: every request (whatever its path) must carry
 * "Authorization: Bearer TOKEN", compared by SHA-256 digest in constant
 * time; 401 with WWW-Authenticate otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api/http.h"
#include "shared/clock.h"
#include "shared/log.h"

#define API_METRICS_MAGIC	0x414d5452u	/* "AMTR" */
#define API_SCRAPE_MAGIC	0x41534352u	/* "ASCR" */
/* The supervisor answers within its METRICS_WAIT_MS (2 s): a backstop. */
#define API_SCRAPE_WAIT_MS	6000
#define API_SCRAPE_MAX		(64u << 20)	/* the exposition's bytes */
#define API_METRICS_CTYPE	"text/plain; version=0.0.4; charset=utf-8"

/* One scrape waiting for the supervisor. */
struct api_scrape {
	unsigned		 magic;
	struct api_scrape	*next;
	struct api_metrics	*m;
	uint32_t		 id;
	struct api_req		*req;
	struct event		*timer;
};

struct api_metrics {
	unsigned		 magic;
	struct api		*api;
	bool			 has_token;
	unsigned char		 token_md[EVP_MAX_MD_SIZE];
	unsigned		 token_mdlen;
	uint32_t		 next_id;
	struct api_scrape	*scrapes;
	struct log_ratelimit	 rl;
};

static void
api_scrape_unlink(struct api_metrics *m, struct api_scrape *s)
{
	struct api_scrape	**pp;

	for (pp = &m->scrapes; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	event_free(s->timer);
	s->magic = 0;
	free(s);
}

/* "Authorization: Bearer TOKEN", compared blindly. */
static bool
api_metrics_authorized(const struct api_metrics *m, const char *authz)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned	 mdlen = 0;
	const char	*v;
	size_t		 len;
	bool		 ok = false;

	if (!m->has_token)
		return (true);
	if (authz == NULL)
		return (false);
	for (v = authz; *v == ' ' || *v == '\t'; v++)
		;
	if (strncasecmp(v, "Bearer ", 7) != 0)
		return (false);
	for (v += 7; *v == ' ' || *v == '\t'; v++)
		;
	len = strcspn(v, " \t");
	if (EVP_Digest(v, len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
	    mdlen == m->token_mdlen)
		ok = CRYPTO_memcmp(md, m->token_md, mdlen) == 0;
	OPENSSL_cleanse(md, sizeof(md));
	return (ok);
}

static bool
api_metrics_guard(struct api_req *req, void *arg)
{
	struct api_metrics	*m = arg;

	if (api_metrics_authorized(m, api_req_authorization(req)))
		return (true);
	m->api->cnt.api_unauthorized++;
	log_limited(&m->rl, LOG_WARNING, "metrics: %s: request without the "
	    "right bearer token refused", api_req_peer(req));
	api_req_set_header(req, "WWW-Authenticate", "Bearer realm=\"takd\"");
	api_req_reply_text(req, 401, NULL);
	return (false);
}

static void
api_scrape_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct api_scrape	*s = arg;

	if (s->magic != API_SCRAPE_MAGIC)
		return;
	log_warnx("metrics: %s: the supervisor did not answer in %d ms",
	    api_req_peer(s->req), API_SCRAPE_WAIT_MS);
	api_req_reply_text(s->req, 503, NULL);
	api_scrape_unlink(s->m, s);
}

static void
api_metrics_get(struct api_req *req, void *arg)
{
	struct api_metrics	*m = arg;
	struct api_scrape	*s;
	struct timeval		 tv = { API_SCRAPE_WAIT_MS / 1000, 0 };

	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->timer = evtimer_new(m->api->base, api_scrape_timeout, s)) ==
	    NULL) {
		free(s);
		log_warnx("metrics: out of memory for a scrape");
		api_req_reply_text(req, 500, NULL);
		return;
	}
	s->magic = API_SCRAPE_MAGIC;
	s->m = m;
	s->req = req;
	if ((s->id = ++m->next_id) == 0)
		s->id = ++m->next_id;
	s->next = m->scrapes;
	m->scrapes = s;
	evtimer_add(s->timer, &tv);
	/* Fresh counters of every process first: the supervisor asks them. */
	api_ctl_send(m->api, IPC_MSG_METRICS_REQ, s->id, NULL, 0);
}

/* The exposition from the supervisor's memfd; NULL when unreadable. */
static char *
api_metrics_read(int fd, size_t *len)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;

	if (fstat(fd, &st) == -1 || st.st_size < 0 ||
	    (size_t)st.st_size > API_SCRAPE_MAX ||
	    (buf = malloc((size_t)st.st_size + 1)) == NULL)
		return (NULL);
	while (off < (size_t)st.st_size) {
		if ((n = pread(fd, buf + off, (size_t)st.st_size - off,
		    (off_t)off)) <= 0) {
			free(buf);
			return (NULL);
		}
		off += (size_t)n;
	}
	buf[off] = '\0';
	*len = off;
	return (buf);
}

void
api_metrics_reply(struct api *api, uint32_t id, uint32_t status, int fd)
{
	struct api_metrics	*m = api->metrics;
	struct api_scrape	*s = NULL;
	char			*text = NULL;
	size_t			 len = 0;

	if (m != NULL)
		for (s = m->scrapes; s != NULL; s = s->next)
			if (s->id == id)
				break;
	if (s == NULL) {
		/* Answered at its timeout already. */
		log_debug("metrics: a late answer (scrape %u)", id);
		goto done;
	}
	if (status == 0 && (text = api_metrics_read(fd, &len)) != NULL)
		api_req_reply(s->req, 200, API_METRICS_CTYPE, text, len);
	else {
		log_warnx("metrics: %s: no exposition from the supervisor",
		    api_req_peer(s->req));
		api_req_reply_text(s->req, 500, NULL);
	}
	api_scrape_unlink(m, s);
done:
	free(text);
	if (fd != -1)
		close(fd);
}

int
api_metrics_init(struct api *api, struct api_http *http)
{
	struct api_metrics	*m;
	const char		*token = api->cfg->metrics_token;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		log_warn("metrics");
		return (-1);
	}
	m->magic = API_METRICS_MAGIC;
	m->api = api;
	api->metrics = m;
	/* Only the digest is compared: no early exit, no length leak. */
	if (token[0] != '\0') {
		if (EVP_Digest(token, strlen(token), m->token_md,
		    &m->token_mdlen, EVP_sha256(), NULL) != 1) {
			log_warnx("metrics: cannot hash the token");
			return (-1);
		}
		m->has_token = true;
	}
	api_http_guard(http, api_metrics_guard, m);
	return (api_http_route(http, "/metrics", API_GET, api_metrics_get, m));
}

void
api_metrics_free(struct api *api)
{
	struct api_metrics	*m = api->metrics;

	if (m == NULL)
		return;
	/* Their connections are gone: the replies go nowhere. */
	while (m->scrapes != NULL) {
		api_req_reply_text(m->scrapes->req, 503, NULL);
		api_scrape_unlink(m, m->scrapes);
	}
	OPENSSL_cleanse(m->token_md, sizeof(m->token_md));
	m->magic = 0;
	free(m);
	api->metrics = NULL;
}
