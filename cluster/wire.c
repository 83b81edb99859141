/*
 * The messages between takd nodes: see wire.h and docs/cluster.md.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cluster/wire.h"

#define WIRE_TOKEN_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"0123456789_-"
#define WIRE_STR_MAX	0xffffU

/* ---- the buffer ---- */

void
wbuf_init(struct wbuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void
wbuf_reset(struct wbuf *b)
{
	b->len = 0;
	b->err = 0;
}

void
wbuf_free(struct wbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void
wbuf_put(struct wbuf *b, const void *v, size_t n)
{
	size_t	 cap;
	uint8_t	*p;

	if (b->err != 0)
		return;
	if (n > b->max - b->len) {
		b->err = EMSGSIZE;
		return;
	}
	if (b->len + n > b->cap) {
		cap = b->cap == 0 ? 4096 : b->cap;
		while (cap < b->len + n)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->err = ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, v, n);
	b->len += n;
}

static void
put_u8(struct wbuf *b, unsigned v)
{
	uint8_t	 c = (uint8_t)v;

	wbuf_put(b, &c, 1);
}

static void
put_u32(struct wbuf *b, uint32_t v)
{
	uint8_t	 c[4] = { v >> 24, v >> 16, v >> 8, v };

	wbuf_put(b, c, sizeof(c));
}

static void
put_u64(struct wbuf *b, uint64_t v)
{
	put_u32(b, (uint32_t)(v >> 32));
	put_u32(b, (uint32_t)v);
}

static void
put_str(struct wbuf *b, const char *s)
{
	size_t	 n = strlen(s);
	uint8_t	 c[2];

	if (n > WIRE_STR_MAX) {
		b->err = EINVAL;
		return;
	}
	c[0] = (uint8_t)(n >> 8);
	c[1] = (uint8_t)n;
	wbuf_put(b, c, 2);
	wbuf_put(b, s, n);
}

static void
put_bytes(struct wbuf *b, const void *v, size_t n)
{
	if (n > UINT32_MAX) {
		b->err = EINVAL;
		return;
	}
	put_u32(b, (uint32_t)n);
	wbuf_put(b, v, n);
}

void
wire_put_count_at(struct wbuf *b, size_t at, uint32_t n)
{
	if (b->err != 0 || at + 4 > b->len)
		return;
	b->p[at] = (uint8_t)(n >> 24);
	b->p[at + 1] = (uint8_t)(n >> 16);
	b->p[at + 2] = (uint8_t)(n >> 8);
	b->p[at + 3] = (uint8_t)n;
}

/* ---- the reader ---- */

struct wrd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	bool		 bad;
	char		*err;
	size_t		 errlen;
};

static void __attribute__((format(printf, 2, 3)))
rd_fail(struct wrd *r, const char *fmt, ...)
{
	va_list	 ap;

	if (r->bad)
		return;
	r->bad = true;
	va_start(ap, fmt);
	vsnprintf(r->err, r->errlen, fmt, ap);
	va_end(ap);
}

static const uint8_t *
rd_take(struct wrd *r, size_t n, const char *what)
{
	const uint8_t	*p;

	if (r->bad)
		return (NULL);
	if (n > r->len - r->off) {
		rd_fail(r, "truncated at %s (byte %zu of %zu)", what, r->off,
		    r->len);
		return (NULL);
	}
	p = r->p + r->off;
	r->off += n;
	return (p);
}

static unsigned
get_u8(struct wrd *r, const char *what)
{
	const uint8_t	*p = rd_take(r, 1, what);

	return (p != NULL ? p[0] : 0);
}

static uint32_t
get_u32(struct wrd *r, const char *what)
{
	const uint8_t	*p = rd_take(r, 4, what);

	if (p == NULL)
		return (0);
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static uint64_t
get_u64(struct wrd *r, const char *what)
{
	uint64_t	 hi = get_u32(r, what);

	return (hi << 32 | get_u32(r, what));
}

/* A string into dst: shorter than dstlen, no NUL, no control character. */
static void
get_str(struct wrd *r, char *dst, size_t dstlen, const char *what)
{
	const uint8_t	*p, *s;
	size_t		 n, i;

	dst[0] = '\0';
	if ((p = rd_take(r, 2, what)) == NULL)
		return;
	n = (size_t)p[0] << 8 | p[1];
	if ((s = rd_take(r, n, what)) == NULL)
		return;
	if (n >= dstlen) {
		rd_fail(r, "%s of %zu bytes (at most %zu)", what, n,
		    dstlen - 1);
		return;
	}
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f) {
			rd_fail(r, "%s holds a control character", what);
			return;
		}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static const uint8_t *
get_bytes(struct wrd *r, size_t *len, size_t max, const char *what)
{
	uint32_t	 n = get_u32(r, what);
	const uint8_t	*p;

	*len = 0;
	if (r->bad)
		return (NULL);
	if (n == 0 || n > max) {
		rd_fail(r, "%s of %u bytes (1 to %zu)", what, n, max);
		return (NULL);
	}
	if ((p = rd_take(r, n, what)) != NULL)
		*len = n;
	return (p);
}

static void
get_groups(struct wrd *r, char *dst, size_t dstlen, const char *what)
{
	get_str(r, dst, dstlen, what);
	if (!r->bad && grouplist_check(dst, strlen(dst)) == -1)
		rd_fail(r, "%s \"%.64s\" are no list of group names", what,
		    dst);
}

static int
rd_end(struct wrd *r)
{
	if (!r->bad && r->off != r->len)
		rd_fail(r, "%zu bytes after the message", r->len - r->off);
	return (r->bad ? -1 : 0);
}

/* ---- header ---- */

bool
wire_token_ok(const char *s)
{
	size_t	 n = strlen(s);

	return (n > 0 && n < TAKD_CLUSTER_TOKEN_MAX &&
	    strspn(s, WIRE_TOKEN_CHARS) == n);
}

void
wire_put_hdr(struct wbuf *b, enum wire_type type, const char *node,
    uint64_t instance)
{
	wbuf_reset(b);
	wbuf_put(b, WIRE_MAGIC, 4);
	put_u8(b, type);
	put_str(b, node);
	put_u64(b, instance);
}

static void
rd_hdr(struct wrd *r, struct wire_hdr *h)
{
	const uint8_t	*m;
	unsigned	 t;

	memset(h, 0, sizeof(*h));
	if ((m = rd_take(r, 4, "magic")) != NULL &&
	    memcmp(m, WIRE_MAGIC, 4) != 0)
		rd_fail(r, "not a takd cluster message (bad magic)");
	t = get_u8(r, "type");
	if (!r->bad && (t == 0 || t >= WIRE_TYPE_MAX))
		rd_fail(r, "unknown message type %u", t);
	h->type = (enum wire_type)t;
	get_str(r, h->node, sizeof(h->node), "node id");
	if (!r->bad && !wire_token_ok(h->node))
		rd_fail(r, "node id \"%.64s\" is not a subject token",
		    h->node);
	h->instance = get_u64(r, "instance");
}

static void
rd_init(struct wrd *r, const uint8_t *p, size_t len, char *err,
    size_t errlen)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->len = len;
	r->err = err;
	r->errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
}

int
wire_get_hdr(const uint8_t *p, size_t len, struct wire_hdr *h, char *err,
    size_t errlen)
{
	struct wrd	 r;

	rd_init(&r, p, len, err, errlen);
	rd_hdr(&r, h);
	return (r.bad ? -1 : 0);
}

/* A whole message's header, which must be of type t. */
static void
rd_begin(struct wrd *r, const uint8_t *p, size_t len, enum wire_type t,
    char *err, size_t errlen)
{
	struct wire_hdr	 h;

	rd_init(r, p, len, err, errlen);
	rd_hdr(r, &h);
	if (!r->bad && h.type != t)
		rd_fail(r, "message of type %u, not %u", h.type, t);
}

/* ---- events ---- */

int
wire_put_event(struct wbuf *b, const struct deliver *d, enum evbuf_enc enc,
    const void *bytes, size_t len)
{
	size_t	 i, n = d->kind == DELIVER_DIRECTED ? d->n_dest : 0;

	if (len == 0 || n > COT_MAX_DEST || (d->kind == DELIVER_DIRECTED &&
	    n == 0)) {
		b->err = EINVAL;
		return (-1);
	}
	put_u8(b, d->kind);
	put_u8(b, d->flags);
	put_u8(b, d->cls);
	put_u8(b, enc);
	put_str(b, d->uid);
	put_str(b, d->groups != NULL ? d->groups : "");
	put_u8(b, (unsigned)n);
	for (i = 0; i < n; i++) {
		put_u8(b, d->dest[i].kind);
		put_str(b, d->dest[i].value);
	}
	put_bytes(b, bytes, len);
	return (b->err != 0 ? -1 : 0);
}

int
wire_get_event(const uint8_t *p, size_t len, size_t max_event,
    struct wire_event *e, char *err, size_t errlen)
{
	struct wrd	 r;
	struct deliver	*d = &e->d;
	unsigned	 kind, flags, cls, enc, n, i, dk;

	memset(e, 0, sizeof(*e));
	rd_begin(&r, p, len, WIRE_EVENT, err, errlen);
	kind = get_u8(&r, "kind");
	flags = get_u8(&r, "flags");
	cls = get_u8(&r, "class");
	enc = get_u8(&r, "encoding");
	get_str(&r, d->uid, sizeof(d->uid), "uid");
	get_groups(&r, e->groups, sizeof(e->groups), "groups");
	n = get_u8(&r, "recipients");
	if (r.bad)
		return (-1);
	if (kind != DELIVER_BROADCAST && kind != DELIVER_DIRECTED)
		rd_fail(&r, "unknown kind %u", kind);
	/* A takeover is for the node it happened on, never the cluster. */
	else if ((flags & ~(unsigned)(DELIVER_F_SA | DELIVER_F_SYSTEM)) != 0)
		rd_fail(&r, "unknown flags %#x", flags);
	else if (cls >= IPC_EV_UNPARSED || cls == IPC_EV_PING)
		rd_fail(&r, "event class %u is never sent", cls);
	else if (enc >= EVBUF_ENC_MAX)
		rd_fail(&r, "unknown encoding %u", enc);
	else if (kind == DELIVER_BROADCAST ? n != 0 : n == 0 ||
	    n > COT_MAX_DEST)
		rd_fail(&r, "%s event with %u recipients", kind ==
		    DELIVER_BROADCAST ? "broadcast" : "directed", n);
	else if (e->groups[0] == '\0')
		rd_fail(&r, "an event for no group");
	for (i = 0; i < n && !r.bad; i++) {
		dk = get_u8(&r, "recipient kind");
		get_str(&r, e->dest[i].value, sizeof(e->dest[i].value),
		    "recipient");
		if (r.bad)
			break;
		if (dk != COT_DEST_CALLSIGN && dk != COT_DEST_UID)
			rd_fail(&r, "recipient %u: unknown kind %u", i, dk);
		else if (e->dest[i].value[0] == '\0')
			rd_fail(&r, "recipient %u: empty", i);
		e->dest[i].kind = (enum cot_dest_kind)dk;
	}
	e->bytes = get_bytes(&r, &e->len, max_event, "event");
	if (rd_end(&r) == -1)
		return (-1);
	d->kind = (enum deliver_kind)kind;
	d->flags = flags;
	d->cls = (enum ipc_ev_class)cls;
	d->n_dest = n;
	d->dest = n > 0 ? e->dest : NULL;
	d->groups = e->groups;
	e->enc = (enum evbuf_enc)enc;
	return (0);
}

/* ---- heartbeat ---- */

int
wire_put_heartbeat(struct wbuf *b, const struct wire_heartbeat *hb)
{
	put_u64(b, hb->pres_seq);
	put_u32(b, hb->clients);
	put_u32(b, hb->interval_ms);
	put_u8(b, hb->bye ? 1 : 0);
	return (b->err != 0 ? -1 : 0);
}

int
wire_get_heartbeat(const uint8_t *p, size_t len, struct wire_heartbeat *hb,
    char *err, size_t errlen)
{
	struct wrd	 r;
	unsigned	 bye;

	memset(hb, 0, sizeof(*hb));
	rd_begin(&r, p, len, WIRE_HEARTBEAT, err, errlen);
	hb->pres_seq = get_u64(&r, "presence sequence");
	hb->clients = get_u32(&r, "clients");
	hb->interval_ms = get_u32(&r, "interval");
	bye = get_u8(&r, "bye");
	if (!r.bad && bye > 1)
		rd_fail(&r, "bye flag %u", bye);
	if (!r.bad && (hb->interval_ms < 100 || hb->interval_ms > 600000))
		rd_fail(&r, "heartbeat interval of %u ms", hb->interval_ms);
	hb->bye = bye == 1;
	return (rd_end(&r));
}

/* ---- presence ---- */

void
wire_put_pres_head(struct wbuf *b, uint64_t seq, unsigned flags)
{
	put_u64(b, seq);
	put_u8(b, flags);
	put_u32(b, 0);		/* the count, wire_put_count_at() */
}

int
wire_put_client(struct wbuf *b, const struct wire_client *c)
{
	put_u8(b, c->up ? 1 : 0);
	put_str(b, c->uid);
	put_str(b, c->callsign);
	put_str(b, c->groups_in);
	put_str(b, c->groups_out);
	put_str(b, c->subject);
	put_str(b, c->serial);
	put_str(b, c->user);
	put_str(b, c->peer);
	put_u64(b, c->connected_ms);
	put_u8(b, c->v1 ? 1 : 0);
	return (b->err != 0 ? -1 : 0);
}

static void
rd_client(struct wrd *r, struct wire_client *c)
{
	unsigned	 up, v1;

	up = get_u8(r, "client op");
	get_str(r, c->uid, sizeof(c->uid), "uid");
	get_str(r, c->callsign, sizeof(c->callsign), "callsign");
	get_groups(r, c->groups_in, sizeof(c->groups_in), "IN groups");
	get_groups(r, c->groups_out, sizeof(c->groups_out), "OUT groups");
	get_str(r, c->subject, sizeof(c->subject), "subject");
	get_str(r, c->serial, sizeof(c->serial), "serial");
	get_str(r, c->user, sizeof(c->user), "user");
	get_str(r, c->peer, sizeof(c->peer), "peer");
	c->connected_ms = get_u64(r, "connected");
	v1 = get_u8(r, "v1");
	if (r->bad)
		return;
	if (up > 1 || v1 > 1)
		rd_fail(r, "client flags %u %u", up, v1);
	else if (c->uid[0] == '\0')
		rd_fail(r, "a client without a uid");
	c->up = up == 1;
	c->v1 = v1 == 1;
}

int
wire_get_presence(const uint8_t *p, size_t len, uint64_t *seq,
    unsigned *flags, void (*cb)(const struct wire_client *, void *),
    void *arg, char *err, size_t errlen)
{
	struct wrd		 r;
	struct wire_client	*c;
	uint32_t		 n, i;
	int			 pass;

	if ((c = malloc(sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (pass = 0; pass < 2; pass++) {
		rd_begin(&r, p, len, WIRE_PRESENCE, err, errlen);
		*seq = get_u64(&r, "presence sequence");
		*flags = get_u8(&r, "presence flags");
		n = get_u32(&r, "clients");
		if (!r.bad && (*flags & ~(WIRE_PRES_FIRST | WIRE_PRES_LAST)))
			rd_fail(&r, "presence flags %#x", *flags);
		if (!r.bad && n > WIRE_PRES_MAX)
			rd_fail(&r, "%u clients (at most %d)", n,
			    WIRE_PRES_MAX);
		for (i = 0; i < n && !r.bad; i++) {
			memset(c, 0, sizeof(*c));
			rd_client(&r, c);
			if (pass == 1 && !r.bad)
				cb(c, arg);
		}
		if (rd_end(&r) == -1)
			break;
	}
	free(c);
	return (r.bad ? -1 : 0);
}

/* ---- snapshot SAs ---- */

void
wire_put_sa_head(struct wbuf *b)
{
	put_u32(b, 0);		/* the count, wire_put_count_at() */
}

int
wire_put_sa(struct wbuf *b, const struct wire_sa *s)
{
	put_str(b, s->uid);
	put_str(b, s->type);
	put_str(b, s->owner);
	put_str(b, s->serial);
	put_str(b, s->groups);
	put_u64(b, s->stale_ms);
	put_u64(b, s->time_ms);
	put_u8(b, s->flags);
	put_bytes(b, s->bytes, s->len);
	return (b->err != 0 ? -1 : 0);
}

int
wire_get_sa(const uint8_t *p, size_t len, size_t max_event,
    void (*cb)(const struct wire_sa *, void *), void *arg, char *err,
    size_t errlen)
{
	struct wrd	 r;
	struct wire_sa	*s;
	uint32_t	 n, i;
	int		 pass;

	if ((s = malloc(sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (pass = 0; pass < 2; pass++) {
		rd_begin(&r, p, len, WIRE_SA, err, errlen);
		n = get_u32(&r, "SAs");
		if (!r.bad && n > WIRE_SA_MAX)
			rd_fail(&r, "%u SAs (at most %d)", n, WIRE_SA_MAX);
		for (i = 0; i < n && !r.bad; i++) {
			memset(s, 0, sizeof(*s));
			get_str(&r, s->uid, sizeof(s->uid), "uid");
			get_str(&r, s->type, sizeof(s->type), "type");
			get_str(&r, s->owner, sizeof(s->owner), "owner");
			get_str(&r, s->serial, sizeof(s->serial), "serial");
			get_groups(&r, s->groups, sizeof(s->groups),
			    "groups");
			s->stale_ms = get_u64(&r, "stale");
			s->time_ms = get_u64(&r, "time");
			s->flags = get_u8(&r, "SA flags");
			s->bytes = get_bytes(&r, &s->len, max_event, "SA");
			if (!r.bad && (s->uid[0] == '\0' ||
			    (s->flags & ~STORE_SA_F_CLAMPED) != 0))
				rd_fail(&r, "SA %u: no uid, or flags %#x", i,
				    s->flags);
			if (pass == 1 && !r.bad)
				cb(s, arg);
		}
		if (rd_end(&r) == -1)
			break;
	}
	free(s);
	return (r.bad ? -1 : 0);
}

/* ---- CRL ---- */

int
wire_put_crl(struct wbuf *b, const void *der, size_t len)
{
	put_bytes(b, der, len);
	return (b->err != 0 ? -1 : 0);
}

int
wire_get_crl(const uint8_t *p, size_t len, const uint8_t **der,
    size_t *derlen, char *err, size_t errlen)
{
	struct wrd	 r;

	rd_begin(&r, p, len, WIRE_CRL, err, errlen);
	*der = get_bytes(&r, derlen, len, "CRL");
	return (rd_end(&r));
}

/* ---- subjects ---- */

void
wire_name_token(const char *name, size_t len, char *tok, size_t toklen)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	size_t		 i;

	if (len > 0 && len + 2 <= toklen && len < GROUPLIST_NAME_MAX) {
		for (i = 0; i < len; i++)
			if (strchr(WIRE_TOKEN_CHARS, name[i]) == NULL)
				break;
		if (i == len) {
			snprintf(tok, toklen, "g%.*s", (int)len, name);
			return;
		}
	}
	/* Dots, blanks, UTF-8: a digest, the same on every node. */
	if (EVP_Digest(name, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		memset(md, 0, sizeof(md));
	snprintf(tok, toklen, "h%02x%02x%02x%02x%02x%02x%02x%02x", md[0],
	    md[1], md[2], md[3], md[4], md[5], md[6], md[7]);
}

int
wire_group_token(const char *groups, char *tok, size_t toklen)
{
	const char	*pos = groups, *end = groups + strlen(groups), *name;
	size_t		 len;

	if ((name = grouplist_next(&pos, end, &len)) == NULL)
		return (-1);
	if (grouplist_next(&pos, end, &len) != NULL) {
		snprintf(tok, toklen, "%s", WIRE_GTOKEN_MULTI);
		return (0);
	}
	wire_name_token(name, len, tok, toklen);
	return (0);
}

const char *
wire_class_token(enum ipc_ev_class cls)
{
	switch (cls) {
	case IPC_EV_SA:
		return ("sa");
	case IPC_EV_CHAT:
		return ("chat");
	case IPC_EV_OTHER:
		return ("other");
	default:
		return (NULL);
	}
}
