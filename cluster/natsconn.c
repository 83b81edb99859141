/*
 * The NATS connection of the cluster process (docs/cluster.md, "Threads").
 *
 * libnats runs threads of its own whatever the event loop: the socket's
 * reader (or an external loop's callbacks), timers, the asynchronous
 * callbacks, the message delivery.  We let it keep them, inside this
 * process only, and give them one job: put what arrives on a bounded queue
 * and wake the loop through an eventfd.  Everything else (decoding, the
 * node table, the store, the mesh, every log line) happens on the loop's
 * thread, which publishes too (natsConnection_Publish() only appends to
 * the connection's buffer; libnats's flusher writes it).
 *
 * Messages of every subscription are delivered by one thread (the global
 * delivery pool of size 1), so the loop sees them in the order NATS sent
 * them: an event before the presence that follows it.
 */
#include <sys/eventfd.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nats/nats.h>
#include <openssl/crypto.h>

#include "cluster/cluster_int.h"
#include "shared/clock.h"

#define CNATS_MAGIC		0x434e4154u	/* "CNAT" */
/* What the loop has not taken yet; beyond, messages are dropped. */
#define CNATS_QUEUE_BYTES	((size_t)64 * 1024 * 1024)
#define CNATS_QUEUE_MSGS	65536
/*
 * The environment may lower the message limit of that queue (tests: a
 * node that cannot keep up, docs/testing.md); never raise it.
 */
#define CNATS_QUEUE_ENV		"TAKD_CLUSTER_QUEUE_MAX"
/* libnats's own limits per subscription (its slow consumer). */
#define CNATS_SUB_MSGS		65536
#define CNATS_SUB_BYTES		(64 * 1024 * 1024)
#define CNATS_RECONNECT_WAIT_MS	500
#define CNATS_PING_MS		2000
#define CNATS_URLS_MAX		16

enum cq_kind {
	CQ_MSG,
	CQ_CONNECTED,
	CQ_DISCONNECTED,
	CQ_RECONNECTED,
	CQ_CLOSED,
	CQ_ERROR
};

struct cq_item {
	struct cq_item	*next;
	enum cq_kind	 kind;
	natsMsg		*msg;
	natsStatus	 status;
};

struct cnats {
	unsigned	 magic;
	int		 evfd;
	natsOptions	*opts;
	natsConnection	*conn;
	/* The queue, shared with libnats's threads. */
	pthread_mutex_t	 mu;
	struct cq_item	*head, *tail;
	size_t		 q_bytes;
	size_t		 q_msgs;
	size_t		 q_max;		/* messages, CNATS_QUEUE_MSGS or less */
	uint64_t	 q_dropped;	/* under mu */
	uint64_t	 slow;		/* libnats said slow consumer, under mu */
	/* The loop's own. */
	bool		 connected;
	bool		 ever;
	uint64_t	 dropped_seen;
	uint64_t	 slow_seen;
	char		 jwt[4096];
	char		 seed[128];
};

/* ---- libnats's threads: queue and wake, nothing else ---- */

static void
cq_push(struct cnats *n, enum cq_kind kind, natsMsg *msg, natsStatus s)
{
	struct cq_item	*it;
	uint64_t	 one = 1;
	size_t		 bytes = msg != NULL ?
			    (size_t)natsMsg_GetDataLength(msg) : 0;

	pthread_mutex_lock(&n->mu);
	if (msg != NULL && (n->q_bytes + bytes > CNATS_QUEUE_BYTES ||
	    n->q_msgs >= n->q_max)) {
		n->q_dropped++;
		pthread_mutex_unlock(&n->mu);
		natsMsg_Destroy(msg);
		return;
	}
	if ((it = calloc(1, sizeof(*it))) == NULL) {
		n->q_dropped++;
		pthread_mutex_unlock(&n->mu);
		natsMsg_Destroy(msg);
		return;
	}
	it->kind = kind;
	it->msg = msg;
	it->status = s;
	if (n->tail != NULL)
		n->tail->next = it;
	else
		n->head = it;
	n->tail = it;
	n->q_bytes += bytes;
	if (msg != NULL)
		n->q_msgs++;
	pthread_mutex_unlock(&n->mu);
	(void)write(n->evfd, &one, sizeof(one));
}

static void
cnats_on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
    void *arg)
{
	cq_push(arg, CQ_MSG, msg, NATS_OK);
}

static void
cnats_on_connected(natsConnection *nc, void *arg)
{
	cq_push(arg, CQ_CONNECTED, NULL, NATS_OK);
}

static void
cnats_on_disconnected(natsConnection *nc, void *arg)
{
	cq_push(arg, CQ_DISCONNECTED, NULL, NATS_OK);
}

static void
cnats_on_reconnected(natsConnection *nc, void *arg)
{
	cq_push(arg, CQ_RECONNECTED, NULL, NATS_OK);
}

static void
cnats_on_closed(natsConnection *nc, void *arg)
{
	cq_push(arg, CQ_CLOSED, NULL, NATS_OK);
}

static void
cnats_on_error(natsConnection *nc, natsSubscription *sub, natsStatus s,
    void *arg)
{
	struct cnats	*n = arg;

	if (s == NATS_SLOW_CONSUMER) {
		pthread_mutex_lock(&n->mu);
		n->slow++;
		pthread_mutex_unlock(&n->mu);
		return;
	}
	cq_push(n, CQ_ERROR, NULL, s);
}

/* The credentials file's JWT, and the nonce signed with its seed. */
static natsStatus
cnats_jwt(char **jwt, char **errtxt, void *arg)
{
	struct cnats	*n = arg;

	if ((*jwt = strdup(n->jwt)) == NULL)
		return (NATS_NO_MEMORY);
	return (NATS_OK);
}

static natsStatus
cnats_sign(char **errtxt, unsigned char **sig, int *siglen,
    const char *nonce, void *arg)
{
	struct cnats	*n = arg;

	return (nats_Sign(n->seed, nonce, sig, siglen));
}

/* ---- setting up ---- */

static struct cnats *
cnats_get(const struct cluster *c)
{
	return (c->nats);
}

/*
 * The text between a "-----BEGIN ...WHAT...-----" line and the next
 * "-----" line of a creds file (nsc's layout), trimmed.
 */
static int
cnats_creds_part(const char *text, const char *what, char *out,
    size_t outlen)
{
	const char	*p, *b, *e;
	size_t		 n;

	if ((p = strstr(text, what)) == NULL || (b = strchr(p, '\n')) ==
	    NULL)
		return (-1);
	b += strspn(b, " \t\r\n");
	if ((e = strstr(b, "---")) == NULL)
		return (-1);
	n = (size_t)(e - b);
	while (n > 0 && strchr(" \t\r\n", b[n - 1]) != NULL)
		n--;
	if (n == 0 || n >= outlen)
		return (-1);
	memcpy(out, b, n);
	out[n] = '\0';
	return (0);
}

static int
cnats_options(struct cluster *c, struct cnats *n)
{
	const struct cluster_secrets *sec = c->args->secrets;
	char		 urls[sizeof(c->cfg->cluster_nats)], name[160];
	const char	*list[CNATS_URLS_MAX];
	char		*p, *tok, *save = NULL;
	int		 count = 0;
	natsStatus	 s;

	snprintf(urls, sizeof(urls), "%s", c->cfg->cluster_nats);
	for (p = urls; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		tok += strspn(tok, " \t");
		tok[strcspn(tok, " \t")] = '\0';
		if (*tok != '\0' && count < CNATS_URLS_MAX)
			list[count++] = tok;
	}
	snprintf(name, sizeof(name), "takd %s/%s", c->cfg->cluster_name,
	    c->cfg->cluster_node);
	if ((s = natsOptions_Create(&n->opts)) != NATS_OK ||
	    (s = natsOptions_SetServers(n->opts, list, count)) != NATS_OK ||
	    (s = natsOptions_SetName(n->opts, name)) != NATS_OK ||
	    /* Our own messages never come back: nothing is delivered twice. */
	    (s = natsOptions_SetNoEcho(n->opts, true)) != NATS_OK ||
	    (s = natsOptions_SetAllowReconnect(n->opts, true)) != NATS_OK ||
	    (s = natsOptions_SetMaxReconnect(n->opts, -1)) != NATS_OK ||
	    (s = natsOptions_SetReconnectWait(n->opts,
	    CNATS_RECONNECT_WAIT_MS)) != NATS_OK ||
	    (s = natsOptions_SetPingInterval(n->opts, CNATS_PING_MS)) !=
	    NATS_OK ||
	    (s = natsOptions_SetMaxPingsOut(n->opts, 2)) != NATS_OK ||
	    /* NATS down at start: serve, and join when it comes. */
	    (s = natsOptions_SetRetryOnFailedConnect(n->opts, true,
	    cnats_on_connected, n)) != NATS_OK ||
	    (s = natsOptions_SetDisconnectedCB(n->opts, cnats_on_disconnected,
	    n)) != NATS_OK ||
	    (s = natsOptions_SetReconnectedCB(n->opts, cnats_on_reconnected,
	    n)) != NATS_OK ||
	    (s = natsOptions_SetClosedCB(n->opts, cnats_on_closed, n)) !=
	    NATS_OK ||
	    (s = natsOptions_SetErrorHandler(n->opts, cnats_on_error, n)) !=
	    NATS_OK ||
	    (s = natsOptions_UseGlobalMessageDelivery(n->opts, true)) !=
	    NATS_OK)
		goto fail;
	if (sec->tls_ca != NULL || sec->tls_cert != NULL) {
		if ((s = natsOptions_SetSecure(n->opts, true)) != NATS_OK)
			goto fail;
		if (sec->tls_ca != NULL && (s =
		    natsOptions_SetCATrustedCertificates(n->opts,
		    sec->tls_ca)) != NATS_OK)
			goto fail;
		if (sec->tls_cert != NULL && (s =
		    natsOptions_SetCertificatesChain(n->opts, sec->tls_cert,
		    sec->tls_key)) != NATS_OK)
			goto fail;
	}
	if (sec->creds != NULL) {
		if (cnats_creds_part(sec->creds, "NATS USER JWT", n->jwt,
		    sizeof(n->jwt)) == -1 || cnats_creds_part(sec->creds,
		    "USER NKEY SEED", n->seed, sizeof(n->seed)) == -1) {
			log_warnx("cluster: [cluster] creds %s: no user JWT "
			    "and NKey seed in it", c->cfg->cluster_creds);
			return (-1);
		}
		if ((s = natsOptions_SetUserCredentialsCallbacks(n->opts,
		    cnats_jwt, n, cnats_sign, n)) != NATS_OK)
			goto fail;
	}
	return (0);
fail:
	log_warnx("cluster: NATS options: %s (%s)", natsStatus_GetText(s),
	    nats_GetLastError(NULL));
	return (-1);
}

/* CNATS_QUEUE_MSGS, or the lower limit the environment sets. */
static size_t
cnats_queue_max(void)
{
	const char	*v = getenv(CNATS_QUEUE_ENV);
	char		*end;
	unsigned long	 max;

	if (v == NULL || *v == '\0')
		return (CNATS_QUEUE_MSGS);
	errno = 0;
	max = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || max == 0 ||
	    max > CNATS_QUEUE_MSGS) {
		log_warnx("cluster: %s=%s: not a number from 1 to %d, "
		    "ignored", CNATS_QUEUE_ENV, v, CNATS_QUEUE_MSGS);
		return (CNATS_QUEUE_MSGS);
	}
	log_warnx("cluster: %s: at most %lu messages from NATS wait for "
	    "this process, the rest are dropped", CNATS_QUEUE_ENV, max);
	return ((size_t)max);
}

int
cnats_start(struct cluster *c)
{
	struct cnats	*n;
	natsStatus	 s;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return (-1);
	n->magic = CNATS_MAGIC;
	n->q_max = cnats_queue_max();
	pthread_mutex_init(&n->mu, NULL);
	if ((n->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1) {
		log_warn("cluster: eventfd");
		free(n);
		return (-1);
	}
	c->nats = n;
	/* One delivery thread for every subscription: their order holds. */
	if ((s = nats_SetMessageDeliveryPoolSize(1)) != NATS_OK ||
	    cnats_options(c, n) == -1) {
		if (s != NATS_OK)
			log_warnx("cluster: libnats: %s", natsStatus_GetText(s));
		return (-1);
	}
	s = natsConnection_Connect(&n->conn, n->opts);
	if (s == NATS_NOT_YET_CONNECTED) {
		log_warnx("cluster: no NATS server of %s answers yet: serving "
		    "this node's clients alone, trying again every %d ms",
		    c->cfg->cluster_nats, CNATS_RECONNECT_WAIT_MS);
		return (0);
	}
	if (s != NATS_OK) {
		log_warnx("cluster: NATS %s: %s (%s)", c->cfg->cluster_nats,
		    natsStatus_GetText(s), nats_GetLastError(NULL));
		return (-1);
	}
	/* Connected at once: RetryOnFailedConnect calls no callback then. */
	cq_push(n, CQ_CONNECTED, NULL, NATS_OK);
	return (0);
}

void
cnats_stop(struct cluster *c)
{
	struct cnats	*n = cnats_get(c);
	struct cq_item	*it;

	if (n == NULL)
		return;
	if (n->conn != NULL) {
		/* What was published goes before we leave (bounded). */
		(void)natsConnection_FlushTimeout(n->conn, 500);
		natsConnection_Close(n->conn);
		natsConnection_Destroy(n->conn);
	}
	natsOptions_Destroy(n->opts);
	/* Its threads stop here; nothing calls us back after. */
	(void)nats_CloseAndWait(2000);
	while ((it = n->head) != NULL) {
		n->head = it->next;
		if (it->msg != NULL)
			natsMsg_Destroy(it->msg);
		free(it);
	}
	OPENSSL_cleanse(n->seed, sizeof(n->seed));
	close(n->evfd);
	pthread_mutex_destroy(&n->mu);
	n->magic = 0;
	free(n);
	c->nats = NULL;
}

int
cnats_eventfd(const struct cluster *c)
{
	return (c->nats != NULL ? c->nats->evfd : -1);
}

bool
cnats_connected(const struct cluster *c)
{
	return (c->nats != NULL && c->nats->connected);
}

void
cnats_server(const struct cluster *c, char *buf, size_t len)
{
	buf[0] = '\0';
	if (c->nats == NULL || c->nats->conn == NULL || !c->nats->connected ||
	    natsConnection_GetConnectedUrl(c->nats->conn, buf, len) !=
	    NATS_OK)
		buf[0] = '\0';
}

uint64_t
cnats_slow_consumers(const struct cluster *c)
{
	return (c->nats != NULL ? c->nats->slow_seen : 0);
}

int
cnats_publish(struct cluster *c, const char *subject, const char *reply,
    const void *data, size_t len)
{
	struct cnats	*n = cnats_get(c);
	natsStatus	 s;

	if (n == NULL || n->conn == NULL || len > INT32_MAX) {
		c->st.publish_failed++;
		return (-1);
	}
	s = reply != NULL ? natsConnection_PublishRequest(n->conn, subject,
	    reply, data, (int)len) : natsConnection_Publish(n->conn, subject,
	    data, (int)len);
	if (s != NATS_OK) {
		c->st.publish_failed++;
		log_limited(&c->rl_drop, LOG_WARNING, "cluster: publish on %s "
		    "(%zu bytes) failed: %s", subject, len,
		    natsStatus_GetText(s));
		return (-1);
	}
	c->st.published++;
	return (0);
}

int
cnats_subscribe(struct cluster *c, const char *subject, void **out)
{
	struct cnats		*n = cnats_get(c);
	natsSubscription	*sub = NULL;
	natsStatus		 s;

	*out = NULL;
	if (n == NULL || n->conn == NULL)
		return (-1);
	if ((s = natsConnection_Subscribe(&sub, n->conn, subject,
	    cnats_on_msg, n)) != NATS_OK ||
	    (s = natsSubscription_SetPendingLimits(sub, CNATS_SUB_MSGS,
	    CNATS_SUB_BYTES)) != NATS_OK) {
		log_warnx("cluster: subscribe to %s: %s", subject,
		    natsStatus_GetText(s));
		natsSubscription_Destroy(sub);
		return (-1);
	}
	*out = sub;
	log_debug("cluster: subscribed to %s", subject);
	return (0);
}

void
cnats_unsubscribe(struct cluster *c, void *sub)
{
	if (sub == NULL)
		return;
	(void)natsSubscription_Unsubscribe(sub);
	natsSubscription_Destroy(sub);
}

/* ---- the loop's side ---- */

static void
cnats_state(struct cluster *c, struct cnats *n, const struct cq_item *it)
{
	char	 url[256];

	switch (it->kind) {
	case CQ_CONNECTED:
	case CQ_RECONNECTED:
		n->connected = true;
		cnats_server(c, url, sizeof(url));
		if (it->kind == CQ_RECONNECTED)
			c->st.reconnects++;
		log_info("cluster: %s NATS %s as node %s of cluster %s",
		    n->ever ? "reconnected to" : "connected to", url,
		    c->cfg->cluster_node, c->cfg->cluster_name);
		n->ever = true;
		/* Who is there, and what we have: both sides catch up. */
		local_resubscribe(c);
		nodes_resync(c);
		break;
	case CQ_DISCONNECTED:
		if (!n->connected)
			break;
		n->connected = false;
		c->st.disconnects++;
		log_warnx("cluster: lost NATS: serving this node's clients "
		    "alone until it is back");
		break;
	case CQ_CLOSED:
		n->connected = false;
		if (c->state == CLUSTER_RUN)
			log_warnx("cluster: NATS connection closed");
		break;
	case CQ_ERROR:
		log_warnx("cluster: NATS: %s", natsStatus_GetText(it->status));
		break;
	case CQ_MSG:
		break;
	}
}

void
cnats_drain(struct cluster *c)
{
	struct cnats	*n = cnats_get(c);
	struct cq_item	*it, *list;
	uint64_t	 v, dropped, slow;
	const char	*data;
	int		 len;

	if (n == NULL)
		return;
	(void)read(n->evfd, &v, sizeof(v));
	pthread_mutex_lock(&n->mu);
	list = n->head;
	n->head = n->tail = NULL;
	n->q_bytes = 0;
	n->q_msgs = 0;
	dropped = n->q_dropped;
	slow = n->slow;
	pthread_mutex_unlock(&n->mu);
	if (dropped != n->dropped_seen || slow != n->slow_seen) {
		c->st.drop_slow += (dropped - n->dropped_seen);
		log_limited(&c->rl_in, LOG_WARNING, "cluster: slow consumer: "
		    "%llu messages dropped by takd, %llu slow-consumer "
		    "events of libnats so far", (unsigned long long)dropped,
		    (unsigned long long)slow);
		n->dropped_seen = dropped;
		n->slow_seen = slow;
	}
	while ((it = list) != NULL) {
		list = it->next;
		if (it->kind == CQ_MSG && natsMsg_IsNoResponders(it->msg)) {
			/* A snapshot asked of a node nobody answers for. */
			log_debug("cluster: no responder on %s",
			    natsMsg_GetSubject(it->msg));
			natsMsg_Destroy(it->msg);
		} else if (it->kind == CQ_MSG) {
			c->st.received++;
			data = natsMsg_GetData(it->msg);
			len = natsMsg_GetDataLength(it->msg);
			nodes_message(c, natsMsg_GetSubject(it->msg),
			    natsMsg_GetReply(it->msg), (const uint8_t *)data,
			    len > 0 ? (size_t)len : 0);
			natsMsg_Destroy(it->msg);
		} else
			cnats_state(c, n, it);
		free(it);
	}
}
