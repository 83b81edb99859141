/*
 * Unit tests for worker/fanout.c: the wire form of struct deliver (batches,
 * directed events, large events in a sealed memfd), rejection of malformed
 * frames, and two mesh ends in one process exchanging events over a real
 * socketpair: batching, order, the large-event credit, a full peer queue,
 * a replaced channel, EOF and a malformed frame from a peer.
 *
 * deliver_local() and evbuf_*() are the data path's; the doubles below record
 * deliveries and count live event buffers, so that fanout.o is linked without
 * the session code.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/unit.h"

#include "ipc/ipc.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "worker/deliver.h"
#include "worker/fanout.h"
#include "worker/worker_int.h"

#define MAX_EVENT	(16 * 1024 * 1024)
#define MAX_SEEN	1024

/* ---- data path doubles ---- */

static long	 evbufs_live;

/* A v1 event's double keeps a 2-byte stand-in for the frame header. */
static struct evbuf *
evbuf_make(enum evbuf_enc enc, size_t hlen, const void *bytes, size_t len)
{
	struct evbuf	*e;

	if ((e = calloc(1, sizeof(*e) + hlen + len)) == NULL)
		return (NULL);
	e->refs = 1;
	e->len = (uint32_t)(hlen + len);
	e->enc = (uint8_t)enc;
	e->hlen = (uint8_t)hlen;
	memset(e->data, 0xbf, hlen);
	memcpy(e->data + hlen, bytes, len);
	evbufs_live++;
	return (e);
}

struct evbuf *
evbuf_new(const void *bytes, size_t len)
{
	return (evbuf_make(EVBUF_XML, 0, bytes, len));
}

struct evbuf *
evbuf_new_v1(const void *msg, size_t len)
{
	return (evbuf_make(EVBUF_V1, 2, msg, len));
}

struct evbuf *
evbuf_ref(struct evbuf *e)
{
	e->refs++;
	return (e);
}

void
evbuf_unref(struct evbuf *e)
{
	if (e == NULL || --e->refs > 0)
		return;
	evbufs_live--;
	free(e);
}

/* What deliver_local() was handed, copied. */
struct seen {
	const struct worker *w;
	enum deliver_kind kind;
	enum evbuf_enc	 enc;
	uint32_t	 flags, src_worker;
	enum ipc_ev_class cls;
	uint64_t	 src_conn;
	char		 uid[COT_UID_MAX];
	char		 groups[GROUPLIST_STR_MAX];
	bool		 has_in;	/* d->in was set */
	size_t		 n_dest;
	struct cot_dest	 dest[COT_MAX_DEST];
	uint8_t		*bytes;
	size_t		 len;
};

static struct seen	 seen[MAX_SEEN];
static size_t		 n_seen;

static void
seen_add(const struct worker *w, const struct deliver *d, enum evbuf_enc enc,
    const uint8_t *b, size_t len)
{
	struct seen	*s;

	assert_true(n_seen < MAX_SEEN);
	s = &seen[n_seen++];
	s->w = w;
	s->enc = enc;
	s->kind = d->kind;
	s->flags = d->flags;
	s->cls = d->cls;
	s->src_worker = d->src_worker;
	s->src_conn = d->src_conn;
	memcpy(s->uid, d->uid, sizeof(s->uid));
	snprintf(s->groups, sizeof(s->groups), "%s", d->groups != NULL ?
	    d->groups : "(null)");
	s->has_in = d->in != NULL;
	s->n_dest = d->n_dest;
	if (d->n_dest > 0)
		memcpy(s->dest, d->dest, d->n_dest * sizeof(d->dest[0]));
	assert_non_null(s->bytes = malloc(len));
	memcpy(s->bytes, b, len);
	s->len = len;
}

static void
seen_clear(void)
{
	size_t	 i;

	for (i = 0; i < n_seen; i++)
		free(seen[i].bytes);
	n_seen = 0;
}

void
deliver_local(struct worker *w, const struct deliver *d)
{
	const uint8_t	*body;
	size_t		 len;

	assert_non_null(d->ev);
	assert_int_equal(d->ev->refs, 1);
	/* A v1 event is framed again on this side: its body is what came. */
	body = evbuf_body(d->ev, &len);
	seen_add(w, d, d->ev->enc, body, len);
}

/* The decoder's callback in the wire tests. */
static void
rec_cb(const struct fanout_rec *r, void *arg)
{
	assert_null(r->d.ev);
	seen_add(arg, &r->d, r->enc, r->bytes, r->len);
}

/* ---- helpers ---- */

/* A test event: len bytes of a pattern that depends on seed. */
static struct evbuf *
mkev_enc(enum evbuf_enc enc, size_t len, unsigned seed)
{
	struct evbuf	*e;
	size_t		 i, hlen = enc == EVBUF_V1 ? 2 : 0;

	/* Freed by hand, not counted in evbufs_live. */
	assert_non_null(e = calloc(1, sizeof(*e) + hlen + len));
	e->refs = 1;
	e->len = (uint32_t)(hlen + len);
	e->enc = (uint8_t)enc;
	e->hlen = (uint8_t)hlen;
	memset(e->data, 0xbf, hlen);
	for (i = 0; i < len; i++)
		e->data[hlen + i] = (uint8_t)(i * 31 + seed);
	return (e);
}

static struct evbuf *
mkev(size_t len, unsigned seed)
{
	return (mkev_enc(EVBUF_XML, len, seed));
}

static void
mkdeliver(struct deliver *d, struct evbuf *ev, const char *uid,
    uint64_t conn)
{
	memset(d, 0, sizeof(*d));
	d->kind = DELIVER_BROADCAST;
	d->flags = DELIVER_F_SA;
	d->cls = IPC_EV_SA;
	d->src_worker = 0;
	d->src_conn = conn;
	snprintf(d->uid, sizeof(d->uid), "%s", uid);
	d->groups = "Blue,HQ";
	d->ev = ev;
}

static void
check_seen(const struct seen *s, const struct deliver *d)
{
	size_t	 i;

	assert_int_equal(s->kind, d->kind);
	assert_int_equal(s->flags, d->flags);
	assert_int_equal(s->cls, d->cls);
	assert_int_equal(s->src_worker, d->src_worker);
	assert_true(s->src_conn == d->src_conn);
	assert_string_equal(s->uid, d->uid);
	/* The sender's IN groups by name; the ids are the receiver's to find. */
	assert_string_equal(s->groups, d->groups != NULL ? d->groups : "");
	assert_false(s->has_in);
	assert_int_equal(s->n_dest, d->kind == DELIVER_DIRECTED ?
	    d->n_dest : 0);
	for (i = 0; i < s->n_dest; i++) {
		assert_int_equal(s->dest[i].kind, d->dest[i].kind);
		assert_string_equal(s->dest[i].value, d->dest[i].value);
	}
	/* The event's encoding and bytes as they came, for v1 the body. */
	assert_int_equal(s->enc, d->ev->enc);
	assert_int_equal(s->len, d->ev->len - d->ev->hlen);
	assert_memory_equal(s->bytes, d->ev->data + d->ev->hlen, s->len);
}

static struct ipc_buf *
buf_new(void)
{
	struct ipc_buf	*b;

	assert_non_null(b = malloc(sizeof(*b)));
	ipc_buf_init(b);
	return (b);
}

/* A frame as ipc_recv() would hand it out. */
static struct ipc_msg
msg_of(uint32_t type, const struct ipc_buf *b, int fd)
{
	struct ipc_msg	 m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = type;
	m.hdr.len = (uint32_t)(sizeof(m.hdr) + b->len);
	m.payload = b->data;
	m.len = b->len;
	m.fd = fd;
	return (m);
}

/* Decode that must fail, with err containing want. */
static void
decode_bad(const struct ipc_msg *m, size_t max, const char *want)
{
	char	 err[256] = "";
	size_t	 large;

	n_seen = 0;
	assert_int_equal(fanout_decode(m, max, rec_cb, NULL, &large, err,
	    sizeof(err)), -1);
	assert_int_equal(n_seen, 0);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err, want);
}

/* ---- wire form ---- */

/* Broadcast and directed records in one frame, through a real socket. */
static void
test_roundtrip(void **state)
{
	struct ipc_chan	*a, *b;
	struct ipc_buf	*buf = buf_new();
	struct ipc_msg	 m;
	struct deliver	 d[3];
	struct cot_dest	 dest[COT_MAX_DEST];
	struct evbuf	*ev[3];
	char		 err[256], longest[GROUPLIST_STR_MAX];
	size_t		 i, large = 1;
	int		 sv[2], before = unit_count_fds();

	(void)state;
	ev[0] = mkev(700, 1);
	/* A v1 event goes as its TakMessage, and says so. */
	ev[1] = mkev_enc(EVBUF_V1, 1, 2);
	ev[2] = mkev(3000, 3);
	mkdeliver(&d[0], ev[0], "ANDROID-1234", 42);
	mkdeliver(&d[1], ev[1], "", 0);
	d[1].flags = DELIVER_F_SYSTEM;
	d[1].cls = IPC_EV_OTHER;
	d[1].src_worker = 7;
	/* No IN group (an observer): it travels as "" and reaches nobody. */
	d[1].groups = "";
	mkdeliver(&d[2], ev[2], "uid-\xc3\xa9", UINT64_MAX);
	d[2].kind = DELIVER_DIRECTED;
	d[2].flags = 0;
	d[2].cls = IPC_EV_CHAT;
	for (i = 0; i < COT_MAX_DEST; i++) {
		dest[i].kind = i % 2 ? COT_DEST_UID : COT_DEST_CALLSIGN;
		snprintf(dest[i].value, sizeof(dest[i].value), "dest-%zu", i);
	}
	/* The longest value that fits. */
	memset(dest[5].value, 'x', COT_UID_MAX - 1);
	dest[5].value[COT_UID_MAX - 1] = '\0';
	d[2].dest = dest;
	d[2].n_dest = COT_MAX_DEST;
	/* The most groups a session holds, each of the longest name. */
	longest[0] = '\0';
	for (i = 0; i < GROUPLIST_MAX; i++)
		snprintf(longest + strlen(longest), sizeof(longest) -
		    strlen(longest), "%s%02zu%.*s", i > 0 ? "," : "", i,
		    GROUPLIST_NAME_MAX - 3, "\xc3\xa9" "abcdefghijklmnopqrstuvwxyz"
		    "abcdefghijklmnopqrstuvwxyzabcdefghijklmn");
	assert_int_equal(grouplist_check(longest, strlen(longest)),
	    GROUPLIST_MAX);
	d[2].groups = longest;
	for (i = 0; i < 3; i++)
		assert_int_equal(fanout_encode(buf, &d[i]), 0);

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_non_null(a = ipc_chan_new(sv[0], 1 << 20));
	assert_non_null(b = ipc_chan_new(sv[1], 1 << 20));
	assert_int_equal(ipc_send(a, IPC_MSG_EVENT, 0, 3, buf->data, buf->len,
	    -1), 0);
	assert_int_equal(ipc_recv(b, &m), 1);
	n_seen = 0;
	assert_int_equal(fanout_decode(&m, MAX_EVENT, rec_cb, NULL, &large,
	    err, sizeof(err)), 3);
	assert_int_equal(large, 0);
	assert_int_equal(n_seen, 3);
	for (i = 0; i < 3; i++)
		check_seen(&seen[i], &d[i]);
	seen_clear();

	/* A broadcast keeps no recipients even if it was handed some. */
	ipc_buf_init(buf);
	d[0].dest = dest;
	d[0].n_dest = 3;
	assert_int_equal(fanout_encode(buf, &d[0]), 0);
	m = msg_of(IPC_MSG_EVENT, buf, -1);
	assert_int_equal(fanout_decode(&m, MAX_EVENT, rec_cb, NULL, &large,
	    err, sizeof(err)), 1);
	assert_int_equal(seen[0].n_dest, 0);
	seen_clear();

	ipc_chan_free(a);
	ipc_chan_free(b);
	for (i = 0; i < 3; i++)
		free(ev[i]);
	free(buf);
	assert_int_equal(unit_count_fds(), before);
}

/* A record that does not fit leaves the batch as it was. */
static void
test_batch_full(void **state)
{
	struct ipc_buf	*buf = buf_new();
	struct ipc_msg	 m;
	struct deliver	 d;
	struct evbuf	*ev = mkev(1000, 9);
	char		 err[256];
	size_t		 n = 0, len, large;

	(void)state;
	mkdeliver(&d, ev, "u", 1);
	for (;;) {
		len = buf->len;
		d.src_conn = n;
		if (fanout_encode(buf, &d) == -1)
			break;
		n++;
	}
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(buf->len, len);
	assert_int_equal(buf->err, 0);
	assert_true(n > 50);
	m = msg_of(IPC_MSG_EVENT, buf, -1);
	n_seen = 0;
	assert_int_equal(fanout_decode(&m, MAX_EVENT, rec_cb, NULL, &large,
	    err, sizeof(err)), (int)n);
	assert_int_equal(n_seen, n);
	assert_true(seen[n - 1].src_conn == n - 1);
	seen_clear();

	/* An event that cannot fit in any frame is refused the same way. */
	free(ev);
	ev = mkev(IPC_FRAME_MAX, 1);
	d.ev = ev;
	ipc_buf_init(buf);
	assert_int_equal(fanout_encode(buf, &d), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(buf->len, 0);
	free(ev);
	free(buf);
}

static void
test_encode_invalid(void **state)
{
	struct ipc_buf	*buf = buf_new();
	struct deliver	 d;
	struct cot_dest	 dest[COT_MAX_DEST + 1];
	struct evbuf	*ev = mkev(10, 1), *empty = mkev(0, 0);
	int		 fd;

	(void)state;
	memset(dest, 0, sizeof(dest));
	snprintf(dest[0].value, sizeof(dest[0].value), "x");
	mkdeliver(&d, NULL, "u", 1);
	assert_int_equal(fanout_encode(buf, &d), -1);		/* no event */
	assert_int_equal(errno, EINVAL);
	d.ev = empty;
	assert_int_equal(fanout_encode(buf, &d), -1);		/* empty */
	d.ev = ev;
	d.kind = (enum deliver_kind)5;
	assert_int_equal(fanout_encode(buf, &d), -1);
	d.kind = DELIVER_BROADCAST;
	d.flags = 0x80;
	assert_int_equal(fanout_encode(buf, &d), -1);
	d.flags = 0;
	d.cls = IPC_EV_CLASS_MAX;
	assert_int_equal(fanout_encode(buf, &d), -1);
	d.cls = IPC_EV_SA;
	memset(d.uid, 'u', sizeof(d.uid));			/* no NUL */
	assert_int_equal(fanout_encode(buf, &d), -1);
	snprintf(d.uid, sizeof(d.uid), "u");
	d.kind = DELIVER_DIRECTED;
	assert_int_equal(fanout_encode(buf, &d), -1);		/* no dest */
	d.dest = dest;
	d.n_dest = COT_MAX_DEST + 1;
	assert_int_equal(fanout_encode(buf, &d), -1);
	d.n_dest = 2;						/* dest[1] "" */
	assert_int_equal(fanout_encode(buf, &d), -1);
	snprintf(dest[1].value, sizeof(dest[1].value), "y");
	dest[1].kind = (enum cot_dest_kind)9;
	assert_int_equal(fanout_encode(buf, &d), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fanout_encode_large(buf, &d, &fd), -1);
	assert_int_equal(fd, -1);
	dest[1].kind = COT_DEST_UID;
	/* Groups that are no list of names are not sent. */
	d.groups = "Blue,";
	assert_int_equal(fanout_encode(buf, &d), -1);
	assert_int_equal(errno, EINVAL);
	d.groups = "Blue,HQ";
	assert_int_equal(buf->len, 0);
	assert_int_equal(fanout_encode(buf, &d), 0);
	free(ev);
	free(empty);
	free(buf);
}

/* Large events: a sealed memfd passed with the frame. */
static void
test_large(void **state)
{
	static const size_t sizes[] = { IPC_FRAME_MAX, 1 << 20, MAX_EVENT };
	struct ipc_chan	*a, *b;
	struct ipc_buf	*buf = buf_new();
	struct ipc_msg	 m;
	struct deliver	 d;
	struct cot_dest	 dest[2];
	struct evbuf	*ev;
	char		 err[256];
	size_t		 i, large;
	int		 sv[2], fd, before = unit_count_fds();

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_non_null(a = ipc_chan_new(sv[0], 1 << 20));
	assert_non_null(b = ipc_chan_new(sv[1], 1 << 20));
	memset(dest, 0, sizeof(dest));
	snprintf(dest[0].value, sizeof(dest[0].value), "Alpha");
	dest[1].kind = COT_DEST_UID;
	snprintf(dest[1].value, sizeof(dest[1].value), "uid-b");
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ev = mkev_enc(i == 1 ? EVBUF_V1 : EVBUF_XML, sizes[i],
		    (unsigned)i);
		mkdeliver(&d, ev, "big", 100 + i);
		d.kind = DELIVER_DIRECTED;
		d.dest = dest;
		d.n_dest = 2;
		assert_int_equal(fanout_encode_large(buf, &d, &fd), 0);
		assert_true(fd > STDERR_FILENO);
		/* Sealed: neither the sender nor anyone else can change it. */
		assert_int_equal(write(fd, "x", 1), -1);
		assert_int_equal(ftruncate(fd, 1), -1);
		assert_int_equal(ipc_send(a, IPC_MSG_EVENT_LARGE, 0, 0,
		    buf->data, buf->len, fd), 0);
		close(fd);
		assert_int_equal(ipc_recv(b, &m), 1);
		assert_true(m.fd != -1);
		n_seen = 0;
		assert_int_equal(fanout_decode(&m, MAX_EVENT, rec_cb, NULL,
		    &large, err, sizeof(err)), 1);
		assert_int_equal(large, sizes[i]);
		check_seen(&seen[0], &d);
		seen_clear();
		/* One byte over the receiver's limit. */
		decode_bad(&m, sizes[i] - 1, "limit");
		close(m.fd);
		free(ev);
	}
	ipc_chan_free(a);
	ipc_chan_free(b);
	free(buf);
	assert_int_equal(unit_count_fds(), before);
}

/* Payloads built by hand with what a broken or hostile peer could send. */
static void
test_malformed(void **state)
{
	struct ipc_buf	*b = buf_new();
	struct ipc_msg	 m;
	struct deliver	 d;
	struct evbuf	*ev = mkev(100, 1);
	char		 s[COT_UID_MAX + 1];
	int		 fd, fd2, before = unit_count_fds();
	unsigned	 i;

	(void)state;
	/*
	 * header fields: kind, flags, class, encoding, src_worker, src_conn,
	 * uid, n_dest
	 */
#define HDR_E(kind, flags, cls, enc, n) do {				\
	ipc_buf_init(b);						\
	ipc_put_u32(b, (kind));						\
	ipc_put_u32(b, (flags));					\
	ipc_put_u32(b, (cls));						\
	ipc_put_u32(b, (enc));						\
	ipc_put_u32(b, 1);						\
	ipc_put_u64(b, 5);						\
	ipc_put_str(b, "uid");						\
	ipc_put_str(b, GROUPLIST_ANON);					\
	ipc_put_u32(b, (n));						\
} while (0)
#define HDR_C(kind, flags, cls, n) HDR_E(kind, flags, cls, EVBUF_XML, n)
#define HDR(kind, flags, n)	HDR_C(kind, flags, IPC_EV_OTHER, n)

	ipc_buf_init(b);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "no event");
	ipc_put_u32(b, 0);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "truncated header");

	HDR(7, 0, 0);
	ipc_put_bytes(b, "x", 1);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "unknown kind 7");

	HDR(DELIVER_BROADCAST, 0x10, 0);
	ipc_put_bytes(b, "x", 1);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "unknown flags");

	HDR_C(DELIVER_BROADCAST, 0, IPC_EV_CLASS_MAX, 0);
	ipc_put_bytes(b, "x", 1);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "unknown event class");

	HDR_E(DELIVER_BROADCAST, 0, IPC_EV_OTHER, EVBUF_ENC_MAX, 0);
	ipc_put_bytes(b, "x", 1);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "unknown encoding 2");

	HDR(DELIVER_BROADCAST, 0, 1);
	ipc_put_u32(b, COT_DEST_UID);
	ipc_put_str(b, "a");
	ipc_put_bytes(b, "x", 1);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "broadcast event with 1 recipients");

	HDR(DELIVER_DIRECTED, 0, 0);
	ipc_put_bytes(b, "x", 1);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "directed event with 0 recipients");

	HDR(DELIVER_DIRECTED, 0, COT_MAX_DEST + 1);
	for (i = 0; i < COT_MAX_DEST + 1; i++) {
		ipc_put_u32(b, COT_DEST_UID);
		ipc_put_str(b, "a");
	}
	ipc_put_bytes(b, "x", 1);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "directed event with 33 recipients");

	/* A huge count must not be believed: the record runs out first. */
	HDR(DELIVER_DIRECTED, 0, 2);
	ipc_put_u32(b, COT_DEST_UID);
	ipc_put_str(b, "a");
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "recipient 1: truncated");

	HDR(DELIVER_DIRECTED, 0, 1);
	ipc_put_u32(b, 3);
	ipc_put_str(b, "a");
	ipc_put_bytes(b, "x", 1);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "recipient 0: unknown kind 3");

	HDR(DELIVER_DIRECTED, 0, 1);
	ipc_put_u32(b, COT_DEST_CALLSIGN);
	ipc_put_str(b, "");
	ipc_put_bytes(b, "x", 1);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "recipient 0: empty");

	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	HDR(DELIVER_DIRECTED, 0, 1);
	ipc_put_u32(b, COT_DEST_CALLSIGN);
	/* COT_UID_MAX characters: one more than fits with the NUL. */
	ipc_put_str(b, s);
	ipc_put_bytes(b, "x", 1);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "recipient 0: too long");

	ipc_buf_init(b);
	ipc_put_u32(b, DELIVER_BROADCAST);
	ipc_put_u32(b, 0);
	ipc_put_u32(b, IPC_EV_OTHER);
	ipc_put_u32(b, EVBUF_XML);
	ipc_put_u32(b, 1);
	ipc_put_u64(b, 5);
	ipc_put_str(b, s);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "uid too long");

	/* A NUL inside a string. */
	ipc_buf_init(b);
	ipc_put_u32(b, DELIVER_BROADCAST);
	ipc_put_u32(b, 0);
	ipc_put_u32(b, IPC_EV_OTHER);
	ipc_put_u32(b, EVBUF_XML);
	ipc_put_u32(b, 1);
	ipc_put_u64(b, 5);
	ipc_put_bytes(b, "a\0b", 3);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "uid truncated or not a string");

	HDR(DELIVER_BROADCAST, 0, 0);
	ipc_put_bytes(b, "", 0);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "event of 0 bytes");

	HDR(DELIVER_BROADCAST, 0, 0);
	ipc_put_bytes(b, "0123456789", 10);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, 9, "event of 10 bytes (limit 9)");

	/* The event's length says more than the frame holds. */
	HDR(DELIVER_BROADCAST, 0, 0);
	ipc_put_u32(b, 1000);
	ipc_put_u32(b, 0);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "truncated event");

	/* The sender's groups must be a list of group names. */
	{
		static const char *const bad_groups[] = { ",", "a,", ",a",
		    "a,,b", " a", "a:b", "a\001", "\xc3" };
		char	 many[GROUPLIST_STR_MAX + 8];

		for (i = 0; i < sizeof(bad_groups) / sizeof(bad_groups[0]);
		    i++) {
			ipc_buf_init(b);
			ipc_put_u32(b, DELIVER_BROADCAST);
			ipc_put_u32(b, 0);
			ipc_put_u32(b, IPC_EV_OTHER);
			ipc_put_u32(b, EVBUF_XML);
			ipc_put_u32(b, 1);
			ipc_put_u64(b, 5);
			ipc_put_str(b, "uid");
			ipc_put_str(b, bad_groups[i]);
			ipc_put_u32(b, 0);
			ipc_put_bytes(b, "x", 1);
			m = msg_of(IPC_MSG_EVENT, b, -1);
			decode_bad(&m, MAX_EVENT, "are no list of group names");
		}
		/* 65 names: one more than a session may hold. */
		many[0] = '\0';
		for (i = 0; i <= GROUPLIST_MAX; i++)
			snprintf(many + strlen(many), sizeof(many) -
			    strlen(many), "%sg%u", i > 0 ? "," : "", i);
		ipc_buf_init(b);
		ipc_put_u32(b, DELIVER_BROADCAST);
		ipc_put_u32(b, 0);
		ipc_put_u32(b, IPC_EV_OTHER);
		ipc_put_u32(b, EVBUF_XML);
		ipc_put_u32(b, 1);
		ipc_put_u64(b, 5);
		ipc_put_str(b, "uid");
		ipc_put_str(b, many);
		ipc_put_u32(b, 0);
		ipc_put_bytes(b, "x", 1);
		m = msg_of(IPC_MSG_EVENT, b, -1);
		decode_bad(&m, MAX_EVENT, "are no list of group names");
	}

	/* A good record, then a bad one: nothing may be delivered. */
	mkdeliver(&d, ev, "u", 1);
	ipc_buf_init(b);
	assert_int_equal(fanout_encode(b, &d), 0);
	ipc_put_u32(b, DELIVER_BROADCAST);
	m = msg_of(IPC_MSG_EVENT, b, -1);
	decode_bad(&m, MAX_EVENT, "(record 1)");

	/* Type and descriptor must match. */
	ipc_buf_init(b);
	assert_int_equal(fanout_encode(b, &d), 0);
	m = msg_of(IPC_MSG_PEER, b, -1);
	decode_bad(&m, MAX_EVENT, "not an event");
	assert_true((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
	m = msg_of(IPC_MSG_EVENT, b, fd);
	decode_bad(&m, MAX_EVENT, "with a descriptor");

	/* LARGE: no descriptor, not a memfd, unsealed, wrong size, extra. */
	assert_int_equal(fanout_encode_large(b, &d, &fd2), 0);
	m = msg_of(IPC_MSG_EVENT_LARGE, b, -1);
	decode_bad(&m, MAX_EVENT, "without a descriptor");
	m = msg_of(IPC_MSG_EVENT_LARGE, b, fd);
	decode_bad(&m, MAX_EVENT, "not a sealed memfd");
	close(fd);
	assert_true((fd = memfd_create("t", MFD_CLOEXEC)) >= 0);
	assert_int_equal(write(fd, ev->data, ev->len), (ssize_t)ev->len);
	m = msg_of(IPC_MSG_EVENT_LARGE, b, fd);
	decode_bad(&m, MAX_EVENT, "not a sealed memfd");
	close(fd);
	ev->len = 99;
	assert_int_equal(fanout_encode_large(b, &d, &fd), 0);
	ev->len = 100;
	m = msg_of(IPC_MSG_EVENT_LARGE, b, fd2);
	decode_bad(&m, MAX_EVENT, "holds 100 bytes, the frame says 99");
	close(fd);
	ipc_put_u32(b, 0);
	m = msg_of(IPC_MSG_EVENT_LARGE, b, fd2);
	decode_bad(&m, MAX_EVENT, "4 bytes after the record");
	close(fd2);
#undef HDR
#undef HDR_C
#undef HDR_E
	free(ev);
	free(b);
	assert_int_equal(unit_count_fds(), before);
}

/* ---- two mesh ends in one process ---- */

struct tworker {
	struct worker		 w;
	struct worker_args	 args;
};

static struct config	 tcfg;

static void
tw_init(struct tworker *t, unsigned id)
{
	memset(t, 0, sizeof(*t));
	t->args.id = id;
	t->args.cfg = &tcfg;
	t->w.magic = WORKER_MAGIC;
	t->w.args = &t->args;
	t->w.cfg = &tcfg;
	assert_true((t->w.epfd = epoll_create1(EPOLL_CLOEXEC)) >= 0);
	assert_int_equal(fanout_init(&t->w), 0);
}

static void
tw_free(struct tworker *t)
{
	fanout_free(&t->w);
	assert_null(t->w.fanout);
	close(t->w.epfd);
}

/* One turn of a worker's loop, as far as the mesh goes.  Events handled. */
static int
tw_turn(struct tworker *t)
{
	struct epoll_event	 evs[16];
	int			 i, n;

	fanout_before_sleep(&t->w);
	n = epoll_wait(t->w.epfd, evs, 16, 0);
	assert_true(n >= 0);
	for (i = 0; i < n; i++) {
		assert_int_equal(*(unsigned *)evs[i].data.ptr,
		    FANOUT_PEER_MAGIC);
		fanout_handle(&t->w, evs[i].data.ptr, evs[i].events);
	}
	fanout_before_sleep(&t->w);
	return (n);
}

static void
tw_pair(struct tworker *a, struct tworker *b)
{
	int	 sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
	    0, sv), 0);
	fanout_add_peer(&a->w, b->args.id, sv[0]);
	fanout_add_peer(&b->w, a->args.id, sv[1]);
}

static struct fanout_stats
tw_stats(const struct tworker *t)
{
	struct fanout_stats	 st;

	fanout_get_stats(&t->w, &st);
	return (st);
}

static void
test_mesh(void **state)
{
	struct tworker	 a, b, c;
	struct fanout_stats st;
	struct deliver	 d[300];
	struct evbuf	*ev[300];
	size_t		 i, nb, nc;
	int		 before = unit_count_fds();

	(void)state;
	tcfg.max_event_bytes = MAX_EVENT;
	tw_init(&a, 0);
	tw_init(&b, 1);
	tw_init(&c, 2);
	tw_pair(&a, &b);
	tw_pair(&a, &c);
	tw_pair(&b, &c);
	assert_int_equal(tw_stats(&a).peers, 2);

	/*
	 * 300 events of 1 KiB: several batches, in order, to both peers;
	 * every third one v1, which arrives as v1.
	 */
	for (i = 0; i < 300; i++) {
		ev[i] = mkev_enc(i % 3 == 1 ? EVBUF_V1 : EVBUF_XML, 1024,
		    (unsigned)i);
		mkdeliver(&d[i], ev[i], "a-uid", i + 1);
		fanout_send(&a.w, &d[i]);
	}
	tw_turn(&a);		/* the last, partial batch */
	st = tw_stats(&a);
	assert_int_equal(st.events_sent, 600);
	assert_true(st.sent >= 2 * 5 && st.sent <= 2 * 10);
	seen_clear();
	/* a too: what did not fit in the sockets waits in its queues. */
	while (tw_turn(&b) + tw_turn(&c) + tw_turn(&a) > 0)
		;
	assert_int_equal(n_seen, 600);
	assert_int_equal(tw_stats(&b).events_received, 300);
	assert_int_equal(tw_stats(&c).events_received, 300);
	/* Each receiver got them in the order they were sent. */
	for (i = nb = nc = 0; i < n_seen; i++) {
		if (seen[i].w == &b.w)
			check_seen(&seen[i], &d[nb++]);
		else {
			assert_ptr_equal(seen[i].w, &c.w);
			check_seen(&seen[i], &d[nc++]);
		}
	}
	assert_int_equal(nb, 300);
	assert_int_equal(nc, 300);
	seen_clear();
	assert_int_equal(evbufs_live, 0);

	/* A large event between two batched ones keeps its place. */
	free(ev[1]);
	ev[1] = mkev_enc(EVBUF_V1, 200000, 77);
	d[1].ev = ev[1];
	for (i = 0; i < 3; i++)
		fanout_send(&b.w, &d[i]);
	tw_turn(&b);
	assert_int_equal(tw_stats(&b).large_sent, 2);
	while (tw_turn(&a) + tw_turn(&c) + tw_turn(&b) > 0)
		;
	assert_int_equal(n_seen, 6);
	for (i = nb = nc = 0; i < n_seen; i++) {
		if (seen[i].w == &a.w)
			check_seen(&seen[i], &d[nb++]);
		else
			check_seen(&seen[i], &d[nc++]);
	}
	assert_int_equal(nb, 3);
	seen_clear();

	for (i = 0; i < 300; i++)
		free(ev[i]);
	tw_free(&a);
	tw_free(&b);
	tw_free(&c);
	assert_int_equal(evbufs_live, 0);
	assert_int_equal(unit_count_fds(), before);
}

/*
 * With [cot] sa_flush_delay, a batch of broadcast positions waits a quarter
 * of it before it goes; anything else takes it along at once, in order.
 */
static void
test_mesh_sa_hold(void **state)
{
	struct tworker	 a, b;
	struct deliver	 d[3];
	struct evbuf	*ev[3];
	int64_t		 now;
	size_t		 i;

	(void)state;
	tcfg.max_event_bytes = MAX_EVENT;
	tcfg.sa_flush_delay_ms = 4000;
	tw_init(&a, 0);
	tw_init(&b, 1);
	tw_pair(&a, &b);
	for (i = 0; i < 3; i++) {
		ev[i] = mkev_enc(EVBUF_XML, 100, (unsigned)i);
		mkdeliver(&d[i], ev[i], "a-uid", i + 1);
	}
	d[1].flags = 0;			/* a chat line */
	d[1].cls = IPC_EV_CHAT;
	assert_int_equal(fanout_wait(&a.w, clock_mono_ms()), -1);
	/* A position: held, the loop told how long. */
	now = clock_mono_ms();
	a.w.turn_ms = now;
	fanout_send(&a.w, &d[0]);
	tw_turn(&a);
	assert_int_equal(tw_stats(&a).events_sent, 0);
	assert_true(fanout_wait(&a.w, now) > 900 &&
	    fanout_wait(&a.w, now) <= 1000);
	assert_int_equal(fanout_wait(&a.w, now + 1000), 0);
	/* The chat takes it along, in order. */
	fanout_send(&a.w, &d[1]);
	assert_int_equal(fanout_wait(&a.w, now), 0);
	tw_turn(&a);
	assert_int_equal(tw_stats(&a).events_sent, 2);
	assert_int_equal(fanout_wait(&a.w, now), -1);
	/* A position whose quarter has passed goes at the end of the turn. */
	a.w.turn_ms = now - 1000;
	fanout_send(&a.w, &d[2]);
	tw_turn(&a);
	assert_int_equal(tw_stats(&a).events_sent, 3);
	seen_clear();
	while (tw_turn(&b) > 0)
		;
	assert_int_equal(n_seen, 3);
	for (i = 0; i < 3; i++)
		check_seen(&seen[i], &d[i]);
	seen_clear();
	tcfg.sa_flush_delay_ms = 0;
	for (i = 0; i < 3; i++)
		free(ev[i]);
	tw_free(&a);
	tw_free(&b);
	assert_int_equal(evbufs_live, 0);
}

/* Large events in flight are capped per peer and credited back. */
static void
test_mesh_credit(void **state)
{
	struct tworker	 a, b;
	struct deliver	 d;
	struct evbuf	*ev;
	int		 i, before = unit_count_fds();

	(void)state;
	tcfg.max_event_bytes = MAX_EVENT;
	tw_init(&a, 0);
	tw_init(&b, 1);
	tw_pair(&a, &b);
	/*
	 * A v1 event: what is in flight and credited back is its body, not
	 * its frame header (else four would not fit in 64 MiB).
	 */
	ev = mkev_enc(EVBUF_V1, MAX_EVENT, 5);
	mkdeliver(&d, ev, "big", 1);
	/* 64 MiB in flight: the fifth waits for the receiver. */
	for (i = 0; i < 5; i++)
		fanout_send(&a.w, &d);
	assert_int_equal(tw_stats(&a).large_sent, 4);
	assert_int_equal(tw_stats(&a).dropped_full, 1);
	seen_clear();
	while (tw_turn(&b) > 0)
		;
	assert_int_equal(n_seen, 4);
	seen_clear();
	while (tw_turn(&a) > 0)		/* the credits */
		;
	fanout_send(&a.w, &d);
	assert_int_equal(tw_stats(&a).large_sent, 5);
	assert_int_equal(tw_stats(&a).dropped_full, 1);
	while (tw_turn(&b) > 0)
		;
	assert_int_equal(n_seen, 1);
	seen_clear();
	free(ev);
	tw_free(&a);
	tw_free(&b);
	assert_int_equal(unit_count_fds(), before);
}

/* A peer that does not read costs drops, never a blocked sender. */
static void
test_mesh_full(void **state)
{
	struct tworker	 a, b;
	struct fanout_stats st;
	struct deliver	 d;
	struct evbuf	*ev;
	int		 i, before = unit_count_fds();

	(void)state;
	tcfg.max_event_bytes = MAX_EVENT;
	tw_init(&a, 0);
	tw_init(&b, 1);
	tw_pair(&a, &b);
	ev = mkev(4000, 5);
	mkdeliver(&d, ev, "chatty", 1);
	/* 40 MB: more than the socket and the 8 MiB queue together. */
	for (i = 0; i < 10000; i++)
		fanout_send(&a.w, &d);
	tw_turn(&a);
	st = tw_stats(&a);
	assert_true(st.dropped_full > 0);
	assert_int_equal(st.events_sent + st.dropped_full, 10000);
	assert_int_equal(st.peers, 1);
	/* Everything that was not dropped arrives. */
	seen_clear();
	while (tw_turn(&b) + tw_turn(&a) > 0)
		seen_clear();
	assert_int_equal(tw_stats(&b).events_received, st.events_sent);
	seen_clear();
	free(ev);
	tw_free(&a);
	tw_free(&b);
	assert_int_equal(unit_count_fds(), before);
}

/* Respawned peer, vanished peer, malformed peer, nonsense PEER ids. */
static void
test_mesh_lifecycle(void **state)
{
	struct tworker	 a, b, b2;
	struct deliver	 d;
	struct evbuf	*ev;
	struct ipc_chan	*raw;
	struct ipc_buf	*buf = buf_new();
	int		 sv[2], before = unit_count_fds();

	(void)state;
	tcfg.max_event_bytes = MAX_EVENT;
	tw_init(&a, 0);
	tw_init(&b, 1);
	tw_pair(&a, &b);
	ev = mkev(300, 5);
	mkdeliver(&d, ev, "u", 1);

	/* Worker 1 "respawned": a new channel replaces the old one. */
	tw_init(&b2, 1);
	tw_pair(&a, &b2);
	assert_int_equal(tw_stats(&a).peers, 1);
	fanout_send(&a.w, &d);
	tw_turn(&a);
	seen_clear();
	while (tw_turn(&b2) + tw_turn(&b) > 0)
		;
	assert_int_equal(n_seen, 1);
	assert_ptr_equal(seen[0].w, &b2.w);
	/* The old worker 1 saw its channel close. */
	assert_int_equal(tw_stats(&b).peers, 0);
	seen_clear();
	tw_free(&b);

	/* Worker 1 dies: EOF, then its events count as "peer down". */
	tw_free(&b2);
	while (tw_turn(&a) > 0)
		;
	assert_int_equal(tw_stats(&a).peers, 0);
	fanout_send(&a.w, &d);
	fanout_send(&a.w, &d);
	assert_int_equal(tw_stats(&a).dropped_down, 2);

	/* A peer sending garbage is cut off. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	fanout_add_peer(&a.w, 1, sv[0]);
	assert_non_null(raw = ipc_chan_new(sv[1], 1 << 20));
	ipc_put_u32(buf, 12345);
	assert_int_equal(ipc_send(raw, IPC_MSG_EVENT, 0, 1, buf->data,
	    buf->len, -1), 0);
	while (tw_turn(&a) > 0)
		;
	assert_int_equal(tw_stats(&a).malformed, 1);
	assert_int_equal(tw_stats(&a).peers, 0);
	assert_int_equal(n_seen, 0);
	ipc_chan_free(raw);

	/* A frame claiming another sender, and a frame of a wrong type. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	fanout_add_peer(&a.w, 1, sv[0]);
	assert_non_null(raw = ipc_chan_new(sv[1], 1 << 20));
	ipc_buf_init(buf);
	assert_int_equal(fanout_encode(buf, &d), 0);
	assert_int_equal(ipc_send(raw, IPC_MSG_EVENT, 0, 2, buf->data,
	    buf->len, -1), 0);
	while (tw_turn(&a) > 0)
		;
	assert_int_equal(tw_stats(&a).malformed, 2);
	ipc_chan_free(raw);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	fanout_add_peer(&a.w, 1, sv[0]);
	assert_non_null(raw = ipc_chan_new(sv[1], 1 << 20));
	assert_int_equal(ipc_send(raw, IPC_MSG_HELLO, 0, 1, buf->data,
	    buf->len, -1), 0);
	while (tw_turn(&a) > 0)
		;
	assert_int_equal(tw_stats(&a).malformed, 3);
	ipc_chan_free(raw);
	assert_int_equal(n_seen, 0);

	/* PEER for itself, out of range, or not a seqpacket socket. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	fanout_add_peer(&a.w, 0, sv[0]);
	fanout_add_peer(&a.w, TAKD_MAX_WORKERS, sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fanout_add_peer(&a.w, 3, sv[0]);
	close(sv[1]);
	assert_int_equal(tw_stats(&a).peers, 0);

	free(ev);
	free(buf);
	tw_free(&a);
	assert_int_equal(evbufs_live, 0);
	assert_int_equal(unit_count_fds(), before);
}

/* A single worker has no peer: nothing is encoded or counted. */
static void
test_mesh_alone(void **state)
{
	struct tworker	 a;
	struct deliver	 d;
	struct evbuf	*ev = mkev(10, 1);

	(void)state;
	tw_init(&a, 0);
	mkdeliver(&d, ev, "u", 1);
	fanout_send(&a.w, &d);
	tw_turn(&a);
	assert_int_equal(tw_stats(&a).events_sent, 0);
	assert_int_equal(tw_stats(&a).dropped_down, 0);
	assert_int_equal(tw_stats(&a).dropped_error, 0);
	free(ev);
	tw_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_batch_full),
		cmocka_unit_test(test_encode_invalid),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_mesh),
		cmocka_unit_test(test_mesh_sa_hold),
		cmocka_unit_test(test_mesh_credit),
		cmocka_unit_test(test_mesh_full),
		cmocka_unit_test(test_mesh_lifecycle),
		cmocka_unit_test(test_mesh_alone),
	};

	/* Malformed-frame tests log on purpose; TEST_VERBOSE shows it. */
	if (getenv("TEST_VERBOSE") == NULL)
		log_setlevel(LOG_ERR);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
