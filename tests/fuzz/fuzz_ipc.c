/*
 * libFuzzer target for the IPC receive path (ipc/ipc.h) and the payload
 * decoders behind it: the typed readers (ipc_get_*), fanout_decode(),
 * which turns mesh frames into events, tls_ticket_decode(), which checks
 * the session ticket keys a worker is sent, and crlset_map(), the worker's
 * check of the revoked-serial set an IPC_MSG_CRL brings in a memfd.
 *
 * ipc_recv() only reads from a socket, so every input is sent as one
 * datagram over a SOCK_SEQPACKET socketpair, with descriptors when the
 * input asks, and received by a real channel.  Input layout:
 *
 *	byte 0	bits 0-1: descriptors sent along: 0, 1, 2 or 9 (more
 *		than ipc_recv() has room for); bit 2: the first one is a memfd
 *		(else /dev/null), bit 3: sealed; bit 4: pad the frame past
 *		IPC_FRAME_MAX; bit 5: a small event cap (64 bytes) for the
 *		mesh decoder; bit 6: set the header's len to the real
 *		length; bit 7: make the header's type a known one
 *	with bit 2: u16 (little endian) memfd size, then that many bytes
 *	the rest: the frame as it goes on the wire (header + payload)
 *
 * Checked: ipc_recv() accepts exactly the frames whose header matches what
 * arrived (STATUS_REP's sessions per group encode back to what was
 * accepted, every name a group name), hands out the payload in bounds, keeps one descriptor and closes
 * the others (no descriptor outlives an input); the readers never read
 * past the payload and keep an error once set; fanout_decode() calls back
 * only for a frame it accepts whole, and the records it accepts encode
 * back (fanout_encode()) to the very bytes received; tls_ticket_decode()
 * accepts only a frame of the exact size for 1 or 2 keys of distinct names,
 * and what it accepts encodes back (tls_ticket_encode()) to the same bytes;
 * crlset_map() refuses with a reason or accepts a set whose every entry a
 * lookup finds where it is (the order a binary search needs holds).
 */
#include <sys/mman.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "ipc/ipc_msg.h"
#include "ipc/users_msg.h"
#include "shared/counters.h"
#include "shared/crlset.h"
#include "shared/grouplist.h"
#include "shared/log.h"
#include "worker/deliver.h"
#include "worker/fanout.h"
#include "worker/tls.h"

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FZ_SEND_FDS	9	/* more than ipc_recv() keeps room for */
#define FZ_FD_WINDOW	32	/* descriptors checked for leaks */
#define FZ_SMALL_CAP	64
#define FZ_BIG_CAP	(16 * 1024 * 1024)

static int		 fz_peer = -1;	/* our sending end */
static struct ipc_chan	*fz_chan;	/* the receiving end */
static uint8_t		*fz_frame;	/* room for a padded frame */

static void
fz_fail(const char *what, long a, long b)
{
	fprintf(stderr, "fuzz_ipc: %s (%ld, %ld)\n", what, a, b);
	abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int	 sv[2], sz = 4 * IPC_FRAME_MAX;

	/* ipc_recv() logs every malformed frame: millions of lines. */
	if (getenv("FUZZ_IPC_LOG") == NULL)
		log_setlevel(LOG_CRIT);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		fz_fail("socketpair", errno, 0);
	if (setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) == -1)
		fz_fail("SO_SNDBUF", errno, 0);
	fz_peer = sv[1];
	if ((fz_chan = ipc_chan_new(sv[0], IPC_FRAME_MAX)) == NULL)
		fz_fail("ipc_chan_new", errno, 0);
	if ((fz_frame = malloc(2 * IPC_FRAME_MAX)) == NULL)
		fz_fail("malloc", 0, 0);
	return (0);
}

/*
 * Which of the first FZ_FD_WINDOW descriptors from the lowest free one on
 * are open (libFuzzer keeps a few of its own there): the same ones must be
 * open when the input is done.
 */
static uint64_t
fz_fd_open(int *low)
{
	uint64_t	 set = 0;
	int		 fd, i;

	if (*low == -1) {
		if ((fd = fcntl(fz_peer, F_DUPFD, 0)) == -1)
			fz_fail("F_DUPFD", errno, 0);
		close(fd);
		*low = fd;
	}
	for (i = 0; i < FZ_FD_WINDOW; i++)
		if (fcntl(*low + i, F_GETFD) != -1)
			set |= (uint64_t)1 << i;
	return (set);
}

static void
fz_fd_check(int low, uint64_t before)
{
	uint64_t	 after = fz_fd_open(&low);

	if (after != before)
		fz_fail("descriptor left open (or closed)", low,
		    (long)(after ^ before));
}

static int
fz_memfd(const uint8_t *p, size_t len, int seal)
{
	int	 fd;

	if ((fd = memfd_create("fuzz-ipc", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		fz_fail("memfd_create", errno, 0);
	if (len > 0 && write(fd, p, len) != (ssize_t)len)
		fz_fail("write memfd", errno, (long)len);
	if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1)
		fz_fail("F_ADD_SEALS", errno, 0);
	return (fd);
}

/* One datagram with nfds descriptors. */
static void
fz_send(const uint8_t *p, size_t len, const int *fds, int nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * FZ_SEND_FDS)];
	}		 cm;
	struct cmsghdr	*c;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)(uintptr_t)p;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	if (sendmsg(fz_peer, &mh, MSG_DONTWAIT) != (ssize_t)len)
		fz_fail("sendmsg", errno, (long)len);
}

/* A reader that failed stays failed and never moves. */
static void
rd_step(struct ipc_rd *rd, const struct ipc_rd *before)
{
	if (rd->off > rd->len)
		fz_fail("reader past the payload", (long)rd->off,
		    (long)rd->len);
	if (before->err != 0 && (rd->err != before->err ||
	    rd->off != before->off))
		fz_fail("reader moved after an error", (long)before->off,
		    (long)rd->off);
	if (rd->err == 0 && rd->off < before->off)
		fz_fail("reader went back", (long)before->off, (long)rd->off);
}

/*
 * Walk the payload with a sequence of reads picked by the header's
 * gen_or_peer, two bits a read: u32, u64, bytes, string.
 */
static void
walk_payload(const struct ipc_msg *m)
{
	struct ipc_rd	 rd, before;
	const uint8_t	*p;
	char		 str[40];
	size_t		 len;
	uint32_t	 ops = m->hdr.gen_or_peer ^ m->hdr.src_worker;
	int		 i;

	ipc_rd_init(&rd, m);
	for (i = 0; i < 24; i++, ops = (ops >> 2) | (ops << 30)) {
		before = rd;
		switch (ops & 3) {
		case 0:
			if (ipc_get_u32(&rd) != 0 && rd.err != 0)
				fz_fail("failed u32 read not 0", i, 0);
			break;
		case 1:
			if (ipc_get_u64(&rd) != 0 && rd.err != 0)
				fz_fail("failed u64 read not 0", i, 0);
			break;
		case 2:
			p = ipc_get_bytes(&rd, &len);
			if (p == NULL && (len != 0 || rd.err == 0))
				fz_fail("bytes: NULL without an error", i,
				    (long)len);
			if (p != NULL && (p < m->payload ||
			    p + len > m->payload + m->len))
				fz_fail("bytes outside the payload", i,
				    (long)len);
			break;
		default:
			memset(str, 'x', sizeof(str));
			ipc_get_str(&rd, str, sizeof(str));
			if (memchr(str, '\0', sizeof(str)) == NULL)
				fz_fail("string read not terminated", i, 0);
			break;
		}
		rd_step(&rd, &before);
	}
	if (ipc_rd_done(&rd) == 0 && (rd.err != 0 || rd.off != rd.len))
		fz_fail("ipc_rd_done() says done too early", (long)rd.off,
		    (long)rd.len);
}

/*
 * The session ticket key ring, by the worker's own decoder (any frame, as
 * if it were one): accepted means the exact layout of ipc_msg.h, and it
 * encodes back to the bytes received.  The decoder never changes its
 * output on refusal.
 */
static void
decode_ticket_keys(const struct ipc_msg *m)
{
	static struct ipc_buf	 b;
	struct tls_ticket_ring	 ring;
	unsigned		 i;

	memset(&ring, 0xa5, sizeof(ring));
	if (tls_ticket_decode(m, &ring) == -1) {
		if (ring.n != 0xa5a5a5a5u)
			fz_fail("refused ticket keys changed the ring", 0, 0);
		return;
	}
	if (tls_ticket_decode(m, NULL) == -1)
		fz_fail("ticket keys accepted once, refused once", 0, 0);
	if (ring.n == 0 || ring.n > IPC_TICKET_KEYS_MAX ||
	    m->len != 4 + ring.n * (8 + 4 + IPC_TICKET_KEY_LEN))
		fz_fail("ticket keys of a wrong count or size accepted",
		    (long)ring.n, (long)m->len);
	if (ring.generation != m->hdr.gen_or_peer)
		fz_fail("ticket ring generation", (long)ring.generation, 0);
	for (i = 0; i < ring.n; i++)
		if (ring.keys[i].expires_ms <= 0)
			fz_fail("ticket key expiry out of range", i, 0);
	if (ring.n == 2 && memcmp(ring.keys[0].name, ring.keys[1].name,
	    IPC_TICKET_NAME_LEN) == 0)
		fz_fail("two ticket keys of one name accepted", 0, 0);
	ipc_buf_init(&b);
	tls_ticket_encode(&b, &ring);
	if (b.err != 0 || b.len != m->len ||
	    memcmp(b.data, m->payload, m->len) != 0)
		fz_fail("accepted ticket keys do not encode back", (long)b.len,
		    (long)m->len);
}

/*
 * The sessions per group after STATUS_REP's counters: accepted, every name
 * is one and they encode back to the bytes received.
 */
static void
decode_group_counts(struct ipc_rd *rd)
{
	static struct ipc_buf	 b;
	struct grouplist_count	*v;
	struct ipc_rd		 before = *rd;
	size_t			 n, i;

	if (grouplist_get_counts(rd, &v, &n) == -1)
		return;
	if (n > GROUPLIST_TABLE_MAX || (n == 0) != (v == NULL))
		fz_fail("group counts of a wrong number", (long)n, 0);
	for (i = 0; i < n; i++)
		if (!grouplist_name_ok(v[i].name, strlen(v[i].name)))
			fz_fail("group count of no group name", (long)i, 0);
	ipc_buf_init(&b);
	grouplist_put_counts(&b, v, n);
	if (b.err != 0 || b.len != rd->off - before.off ||
	    memcmp(b.data, before.p + before.off, b.len) != 0)
		fz_fail("accepted group counts do not encode back", (long)b.len,
		    (long)(rd->off - before.off));
	free(v);
}

/*
 * The console's user changes (ipc/users_msg.h), as the supervisor and
 * takd-usersd decode them: an accepted request encodes back to the very
 * bytes received.
 */
static void
decode_user_edit(const struct ipc_msg *m)
{
	struct users_req	*r;
	struct ipc_buf		*b;
	char			 msg[USERS_MSG_TEXT_MAX];
	uint32_t		 st;

	if (m->hdr.type == IPC_MSG_USER_EDIT_ACK) {
		if (users_rep_decode(m, &st, msg, sizeof(msg)) == 0 &&
		    (st >= USERS_ST_MAX || strlen(msg) >= sizeof(msg)))
			fz_fail("accepted user edit answer out of range", st, 0);
		return;
	}
	if ((r = malloc(sizeof(*r))) == NULL || (b = malloc(sizeof(*b))) ==
	    NULL) {
		free(r);
		return;
	}
	if (users_req_decode(m, r) == 0) {
		ipc_buf_init(b);
		if (users_req_encode(r, b) == -1 || b->len != m->len ||
		    memcmp(b->data, m->payload, m->len) != 0)
			fz_fail("accepted user edit does not encode back",
			    (long)b->len, (long)m->len);
		users_req_clear(r);
	}
	free(b);
	free(r);
}

/* The fixed layouts of the control messages, as their handlers read them. */
static void
decode_ctl(const struct ipc_msg *m)
{
	struct ipc_rd	 rd;
	struct counters	 cnt;
	char		 err[200], uid[512], groups[GROUPLIST_STR_MAX];
	int		 i;

	ipc_rd_init(&rd, m);
	switch (m->hdr.type) {
	case IPC_MSG_HELLO:
		ipc_get_u32(&rd);
		ipc_get_u32(&rd);
		break;
	case IPC_MSG_SHUTDOWN:
		ipc_get_u32(&rd);
		break;
	case IPC_MSG_CRL_ACK:
		ipc_get_u32(&rd);
		ipc_get_u32(&rd);
		ipc_get_str(&rd, err, sizeof(err));
		if (rd.err == 0 && strlen(err) >= sizeof(err))
			fz_fail("CRL ack error not terminated", 0, 0);
		break;
	case IPC_MSG_STATUS_REP:
		/* The supervisor's decoders (shared/counters.c, grouplist.c). */
		if (counters_decode(&rd, &cnt) == 0)
			decode_group_counts(&rd);
		break;
	case IPC_MSG_EVENT_CREDIT:
		ipc_get_u64(&rd);
		break;
	case IPC_MSG_USER_EDIT:
	case IPC_MSG_USER_EDIT_ACK:
		decode_user_edit(m);
		break;
	case IPC_MSG_DEPARTED:
		/* str uid, str type, str groups, until the payload ends. */
		for (i = 0; rd.err == 0 && rd.off < rd.len; i++) {
			ipc_get_str(&rd, uid, sizeof(uid));
			ipc_get_str(&rd, err, sizeof(err));
			ipc_get_str(&rd, groups, sizeof(groups));
			if (rd.err == 0 && (strlen(uid) >= sizeof(uid) ||
			    strlen(err) >= sizeof(err) ||
			    strlen(groups) >= sizeof(groups)))
				fz_fail("departed string not terminated", i,
				    0);
			if (rd.err == 0)
				(void)grouplist_check(groups, strlen(groups));
		}
		break;
	default:
		break;
	}
	(void)ipc_rd_done(&rd);
}

/*
 * The memfd of an IPC_MSG_CRL, as the worker checks it (worker/revoke.c).
 * Accepted, each entry's own serial must lead a lookup to that entry.
 */
static void
decode_crl(const struct ipc_msg *m)
{
	struct crlset		*s;
	const struct crlset_entry *hit;
	struct crlset_entry	 e;
	ASN1_INTEGER		*ai;
	char			 err[256];
	size_t			 i, n;

	if (m->hdr.type != IPC_MSG_CRL || m->fd == -1)
		return;
	err[0] = '\0';
	if ((s = crlset_map(m->fd, err, sizeof(err))) == NULL) {
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			fz_fail("set refused without a reason", 0, 0);
		return;
	}
	n = crlset_count(s);
	if (crlset_crl_entries(s) < n || crlset_issuer(s) == NULL)
		fz_fail("accepted set with a bad header", (long)n, 0);
	if ((ai = ASN1_INTEGER_new()) == NULL)
		fz_fail("ASN1_INTEGER_new", 0, 0);
	for (i = 0; i < n; i++) {
		if (pread(m->fd, &e, sizeof(e), (off_t)(CRLSET_HDR_SIZE +
		    i * sizeof(e))) != (ssize_t)sizeof(e))
			fz_fail("entry unreadable", (long)i, errno);
		if (e.len == CRLSET_HASHED)
			continue;	/* a digest: no serial to look up */
		if (!ASN1_STRING_set(ai, e.serial, e.len))
			fz_fail("ASN1_STRING_set", (long)i, 0);
		ai->type = e.neg ? V_ASN1_NEG_INTEGER : V_ASN1_INTEGER;
		if (crlset_find(s, ai, &hit) != 1 || hit->revoked_at !=
		    e.revoked_at || hit->reason != e.reason)
			fz_fail("accepted entry not found", (long)i, (long)n);
	}
	ASN1_INTEGER_free(ai);
	crlset_free(s);
}

/* What the mesh decoder called back with, re-encoded as it came. */
struct recode {
	struct ipc_buf	 buf;
	int		 calls;
	int		 large;
	int		 large_fd;
	size_t		 large_len;
};

/* The memfd fanout_encode_large() made holds exactly these bytes. */
static void
check_memfd(int fd, const uint8_t *bytes, size_t len)
{
	void	*p;

	if ((p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0)) ==
	    MAP_FAILED)
		fz_fail("mmap of the re-encoded memfd", errno, (long)len);
	if (memcmp(p, bytes, len) != 0)
		fz_fail("large event bytes changed", 0, (long)len);
	munmap(p, len);
}

static void
rec_cb(const struct fanout_rec *r, void *arg)
{
	struct recode	*rc = arg;
	struct deliver	 d = r->d;
	struct evbuf	*ev;
	size_t		 i, sum = 0;

	rc->calls++;
	if (r->d.ev != NULL)
		fz_fail("record with an event buffer", 0, 0);
	if (r->bytes == NULL || r->len == 0)
		fz_fail("record without event bytes", 0, (long)r->len);
	/* Every byte must be readable (ASan checks the bounds). */
	for (i = 0; i < r->len; i++)
		sum += r->bytes[i];
	(void)sum;
	if (d.kind == DELIVER_DIRECTED &&
	    (d.n_dest == 0 || d.n_dest > COT_MAX_DEST || d.dest == NULL))
		fz_fail("directed record without recipients", 0,
		    (long)d.n_dest);
	if (d.kind == DELIVER_BROADCAST && d.n_dest != 0)
		fz_fail("broadcast record with recipients", 0,
		    (long)d.n_dest);
	/* In its encoding: a v1 event's body is the TakMessage received. */
	ev = r->enc == EVBUF_V1 ? evbuf_new_v1(r->bytes, r->len) :
	    evbuf_new(r->bytes, r->len);
	if (ev == NULL)
		fz_fail("evbuf_new", 0, (long)r->len);
	d.ev = ev;
	if (rc->large) {
		if (fanout_encode_large(&rc->buf, &d, &rc->large_fd) == -1)
			fz_fail("accepted large record does not encode",
			    errno, 0);
		rc->large_len = r->len;
		check_memfd(rc->large_fd, r->bytes, r->len);
	} else if (fanout_encode(&rc->buf, &d) == -1)
		fz_fail("accepted record does not encode", errno, 0);
	evbuf_unref(ev);
}

static void
decode_mesh(const struct ipc_msg *m, size_t cap)
{
	static struct recode	 rc;
	char			 err[256];
	size_t			 large_len;
	int			 n;

	ipc_buf_init(&rc.buf);
	rc.calls = 0;
	rc.large = m->hdr.type == IPC_MSG_EVENT_LARGE;
	rc.large_fd = -1;
	err[0] = '\0';
	n = fanout_decode(m, cap, rec_cb, &rc, &large_len, err, sizeof(err));
	if (rc.large_fd != -1)
		close(rc.large_fd);
	if (n != -1 && m->hdr.type != IPC_MSG_EVENT && !rc.large)
		fz_fail("not an event frame, decoded", (long)m->hdr.type, n);
	if (n == -1) {
		if (rc.calls != 0)
			fz_fail("rejected frame was delivered in part",
			    rc.calls, 0);
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			fz_fail("rejected frame without a reason", 0, 0);
		return;
	}
	if (n <= 0 || n != rc.calls)
		fz_fail("records returned and called back differ", n,
		    rc.calls);
	if (rc.large && (n != 1 || large_len != rc.large_len))
		fz_fail("large frame length", (long)large_len,
		    (long)rc.large_len);
	if (!rc.large && large_len != 0)
		fz_fail("large length set for a batch", (long)large_len, 0);
	/* Canonical: what was accepted is exactly what we would send. */
	if (rc.buf.len != m->len || memcmp(rc.buf.data, m->payload,
	    m->len) != 0)
		fz_fail("accepted frame does not encode back to itself",
		    (long)rc.buf.len, (long)m->len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipc_msg	 m;
	struct ipc_hdr	 h;
	const uint8_t	*p = data + 1;
	size_t		 left, mlen = 0, flen;
	int		 fds[FZ_SEND_FDS], nfds, i, r, low = -1, null_fd;
	uint64_t	 open_fds;
	uint8_t		 ctl;
	static const int nfd_pick[4] = { 0, 1, 2, FZ_SEND_FDS };

	if (size < 1)
		return (0);
	ctl = data[0];
	left = size - 1;
	memset(&h, 0, sizeof(h));
	open_fds = fz_fd_open(&low);

	/* The descriptors to pass. */
	nfds = nfd_pick[ctl & 3];
	if ((null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
		fz_fail("open /dev/null", errno, 0);
	for (i = 0; i < nfds; i++)
		fds[i] = null_fd;
	if ((ctl & 4) && left >= 2) {
		mlen = (size_t)p[0] | (size_t)p[1] << 8;
		p += 2;
		left -= 2;
		if (mlen > left)
			mlen = left;
		if (nfds > 0)
			fds[0] = fz_memfd(p, mlen, ctl & 8);
		p += mlen;
		left -= mlen;
	}

	/* The frame, fixed up as asked. */
	flen = left;
	if (flen > IPC_FRAME_MAX + 1)
		flen = IPC_FRAME_MAX + 1;
	memcpy(fz_frame, p, flen);
	if ((ctl & 16) && flen <= IPC_FRAME_MAX) {
		memset(fz_frame + flen, 0, IPC_FRAME_MAX + 1 - flen);
		flen = IPC_FRAME_MAX + 1;
	}
	if (flen >= sizeof(h)) {
		memcpy(&h, fz_frame, sizeof(h));
		if (ctl & 64)
			h.len = (uint32_t)flen;
		if (ctl & 128)
			h.type = IPC_MSG_NONE + 1 + h.type %
			    (IPC_MSG_MAX - IPC_MSG_NONE - 1);
		memcpy(fz_frame, &h, sizeof(h));
	}

	fz_send(fz_frame, flen, fds, nfds);
	if (nfds > 0 && fds[0] != null_fd)
		close(fds[0]);
	close(null_fd);

	r = ipc_recv(fz_chan, &m);
	if (r == 0)
		fz_fail("a datagram was waiting but ipc_recv() saw none", 0,
		    0);
	if (r == -1) {
		if (m.fd != -1)
			fz_fail("failed receive left a descriptor", m.fd, 0);
		if (flen == 0 ? errno != 0 : errno != EBADMSG)
			fz_fail("unexpected errno", errno, (long)flen);
		/* Would it have been a valid frame? Then recv was wrong. */
		if (flen >= sizeof(h) && flen <= IPC_FRAME_MAX &&
		    nfds <= 8 && h.len == flen && h.type > IPC_MSG_NONE &&
		    h.type < IPC_MSG_MAX)
			fz_fail("valid frame refused", (long)h.type,
			    (long)flen);
		fz_fd_check(low, open_fds);
		return (0);
	}
	if (flen < sizeof(h) || flen > IPC_FRAME_MAX || h.len != flen ||
	    h.type <= IPC_MSG_NONE || h.type >= IPC_MSG_MAX || nfds > 8)
		fz_fail("malformed frame accepted", (long)h.type, (long)flen);
	if (memcmp(&m.hdr, &h, sizeof(h)) != 0)
		fz_fail("header changed on the way", 0, 0);
	if (m.len != flen - sizeof(h) ||
	    memcmp(m.payload, fz_frame + sizeof(h), m.len) != 0)
		fz_fail("payload changed on the way", (long)m.len,
		    (long)flen);
	if ((nfds > 0) != (m.fd != -1))
		fz_fail("descriptor lost or invented", nfds, m.fd);

	walk_payload(&m);
	decode_ctl(&m);
	decode_ticket_keys(&m);
	decode_crl(&m);
	/* Any frame may come from a peer: the others are refused. */
	decode_mesh(&m, (ctl & 32) ? FZ_SMALL_CAP : FZ_BIG_CAP);
	if (m.fd != -1)
		close(m.fd);
	fz_fd_check(low, open_fds);
	return (0);
}
