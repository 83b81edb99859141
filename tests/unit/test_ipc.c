/*
 * Unit tests for ipc/ipc.c: payload helpers, framing checks on receive,
 * descriptor passing, the bounded out-queue and descriptor hygiene.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/unit.h"

#include "ipc/ipc.h"
#include "shared/log.h"

#define BIG_QUEUE	(1024 * 1024)
#define SEQ_PAYLOAD	1000	/* bytes of pattern after the sequence number */

static void
chan_pair(struct ipc_chan **a, struct ipc_chan **b, size_t maxq)
{
	int	 sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	*a = ipc_chan_new(sv[0], maxq);
	assert_non_null(*a);
	*b = ipc_chan_new(sv[1], maxq);
	assert_non_null(*b);
}

/* A channel and the raw (blocking) socket of its peer. */
static struct ipc_chan *
chan_raw(int *raw)
{
	struct ipc_chan	*c;
	int		 sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	c = ipc_chan_new(sv[0], BIG_QUEUE);
	assert_non_null(c);
	*raw = sv[1];
	return (c);
}

static void
raw_send(int s, const void *buf, size_t len, const int *fds, int nfds)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	struct cmsghdr	*cmsg;
	char		*cbuf = NULL;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = (void *)(uintptr_t)buf;
	iov.iov_len = len;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		cbuf = calloc(1, CMSG_SPACE(sizeof(int) * nfds));
		assert_non_null(cbuf);
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(s, &mh, MSG_NOSIGNAL), (ssize_t)len);
	free(cbuf);
}

static void
raw_frame(int s, uint32_t type, uint32_t hdrlen, size_t len)
{
	uint8_t		 buf[256];
	struct ipc_hdr	 h;

	assert_true(len <= sizeof(buf));
	memset(buf, 0xa5, sizeof(buf));
	memset(&h, 0, sizeof(h));
	h.type = type;
	h.len = hdrlen;
	memcpy(buf, &h, len < sizeof(h) ? len : sizeof(h));
	raw_send(s, buf, len, NULL, 0);
}

static void
expect_bad_frame(struct ipc_chan *c)
{
	struct ipc_msg	 m;

	errno = 0;
	assert_int_equal(ipc_recv(c, &m), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(m.fd, -1);
}

static void
test_roundtrip_types(void **state)
{
	struct ipc_chan	*a, *b;
	struct ipc_buf	*buf;
	struct ipc_msg	 m;
	struct ipc_rd	 rd;
	const uint8_t	 bin[] = { 0x00, 0xff, 0x00, 0x7f, 0x80 };
	const uint8_t	*p;
	char		 s[64];
	size_t		 n;
	int		 fl;

	chan_pair(&a, &b, BIG_QUEUE);
	fl = fcntl(a->fd, F_GETFL);
	assert_true(fl != -1 && (fl & O_NONBLOCK));
	fl = fcntl(a->fd, F_GETFD);
	assert_true(fl != -1 && (fl & FD_CLOEXEC));
	assert_int_equal(ipc_recv(b, &m), 0);	/* nothing yet */

	buf = malloc(sizeof(*buf));
	assert_non_null(buf);
	ipc_buf_init(buf);
	ipc_put_u32(buf, 0);
	ipc_put_u32(buf, 0xdeadbeefu);
	ipc_put_u32(buf, UINT32_MAX);
	ipc_put_u64(buf, UINT64_MAX);
	ipc_put_u64(buf, 0x0123456789abcdefULL);
	ipc_put_bytes(buf, bin, sizeof(bin));
	ipc_put_bytes(buf, NULL, 0);
	ipc_put_str(buf, "worker 3 says hello");
	ipc_put_str(buf, "");
	assert_int_equal(buf->err, 0);
	assert_int_equal(buf->len, 3 * 4 + 2 * 8 + (4 + 5) + 4 + (4 + 19) + 4);
	assert_int_equal(ipc_send(a, IPC_MSG_STATUS_REP, 77, 3, buf->data,
	    buf->len, -1), 0);
	assert_false(ipc_pending(a));

	assert_int_equal(ipc_recv(b, &m), 1);
	assert_int_equal(m.hdr.type, IPC_MSG_STATUS_REP);
	assert_int_equal(m.hdr.len, sizeof(struct ipc_hdr) + buf->len);
	assert_int_equal(m.hdr.gen_or_peer, 77);
	assert_int_equal(m.hdr.src_worker, 3);
	assert_int_equal(m.len, buf->len);
	assert_int_equal(m.fd, -1);

	ipc_rd_init(&rd, &m);
	assert_int_equal(ipc_get_u32(&rd), 0);
	assert_int_equal(ipc_get_u32(&rd), 0xdeadbeefu);
	assert_int_equal(ipc_get_u32(&rd), UINT32_MAX);
	assert_true(ipc_get_u64(&rd) == UINT64_MAX);
	assert_true(ipc_get_u64(&rd) == 0x0123456789abcdefULL);
	p = ipc_get_bytes(&rd, &n);
	assert_non_null(p);
	assert_int_equal(n, sizeof(bin));
	assert_memory_equal(p, bin, sizeof(bin));
	p = ipc_get_bytes(&rd, &n);
	assert_non_null(p);
	assert_int_equal(n, 0);
	ipc_get_str(&rd, s, sizeof(s));
	assert_string_equal(s, "worker 3 says hello");
	assert_int_equal(ipc_rd_done(&rd), -1);	/* one string left */
	ipc_get_str(&rd, s, sizeof(s));
	assert_string_equal(s, "");
	assert_int_equal(ipc_rd_done(&rd), 0);
	assert_int_equal(ipc_recv(b, &m), 0);

	/* A frame with no payload at all. */
	assert_int_equal(ipc_send(b, IPC_MSG_STATUS_REQ, 9, 0, NULL, 0, -1),
	    0);
	assert_int_equal(ipc_recv(a, &m), 1);
	assert_int_equal(m.hdr.type, IPC_MSG_STATUS_REQ);
	assert_int_equal(m.hdr.len, sizeof(struct ipc_hdr));
	assert_int_equal(m.len, 0);
	ipc_rd_init(&rd, &m);
	assert_int_equal(ipc_rd_done(&rd), 0);

	free(buf);
	ipc_chan_free(a);
	ipc_chan_free(b);
}

static void
test_frame_limits(void **state)
{
	struct ipc_chan	*a, *b;
	struct ipc_buf	*buf;
	struct ipc_msg	 m;
	struct ipc_rd	 rd;
	const uint8_t	*p;
	uint8_t		*pat;
	size_t		 n, i;

	chan_pair(&a, &b, BIG_QUEUE);
	buf = malloc(sizeof(*buf));
	assert_non_null(buf);

	/* Exactly IPC_FRAME_MAX on the wire. */
	ipc_buf_init(buf);
	n = sizeof(buf->data) - 4;
	pat = malloc(n);
	assert_non_null(pat);
	for (i = 0; i < n; i++)
		pat[i] = (uint8_t)(i * 7 + 1);
	ipc_put_bytes(buf, pat, n);
	assert_int_equal(buf->err, 0);
	assert_int_equal(buf->len, sizeof(buf->data));
	assert_int_equal(ipc_send(a, IPC_MSG_CRL_ACK, 1, 2, buf->data,
	    buf->len, -1), 0);
	assert_int_equal(ipc_recv(b, &m), 1);
	assert_int_equal(m.hdr.len, IPC_FRAME_MAX);
	ipc_rd_init(&rd, &m);
	p = ipc_get_bytes(&rd, &n);
	assert_non_null(p);
	assert_int_equal(n, sizeof(buf->data) - 4);
	for (i = 0; i < n; i++)
		if (p[i] != (uint8_t)(i * 7 + 1))
			fail_msg("byte %zu differs", i);
	assert_int_equal(ipc_rd_done(&rd), 0);

	/* One byte more is refused before anything is written or queued. */
	errno = 0;
	assert_int_equal(ipc_send(a, IPC_MSG_CRL_ACK, 1, 2, buf->data,
	    sizeof(buf->data) + 1, -1), -1);
	assert_int_equal(errno, EMSGSIZE);
	assert_int_equal(a->dropped, 0);
	assert_false(ipc_pending(a));
	assert_int_equal(ipc_recv(b, &m), 0);

	/* Types outside ipc_msg.h. */
	errno = 0;
	assert_int_equal(ipc_send(a, IPC_MSG_NONE, 0, 0, NULL, 0, -1), -1);
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_int_equal(ipc_send(a, IPC_MSG_MAX, 0, 0, NULL, 0, -1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ipc_recv(b, &m), 0);

	/* The builder refuses to grow past one frame and stays failed. */
	ipc_buf_init(buf);
	ipc_put_bytes(buf, pat, sizeof(buf->data) - 4);
	assert_int_equal(buf->err, 0);
	ipc_put_u32(buf, 1);
	assert_int_equal(buf->err, EMSGSIZE);
	assert_int_equal(buf->len, sizeof(buf->data));
	/* Three bytes short of room for a u32, seven for a u64. */
	ipc_buf_init(buf);
	ipc_put_bytes(buf, pat, sizeof(buf->data) - 4 - 3);
	ipc_put_u32(buf, 1);
	assert_int_equal(buf->err, EMSGSIZE);
	assert_int_equal(buf->len, sizeof(buf->data) - 3);
	ipc_buf_init(buf);
	ipc_put_bytes(buf, pat, sizeof(buf->data) - 4 - 7);
	ipc_put_u64(buf, 1);
	assert_int_equal(buf->err, EMSGSIZE);
	ipc_buf_init(buf);
	ipc_put_bytes(buf, pat, sizeof(buf->data) - 4 - 4);
	ipc_put_u32(buf, 1);			/* exactly fits */
	assert_int_equal(buf->err, 0);
	assert_int_equal(buf->len, sizeof(buf->data));
	ipc_buf_init(buf);
	ipc_put_u32(buf, 1);
	ipc_put_bytes(buf, pat, sizeof(buf->data) - 4);
	assert_int_not_equal(buf->err, 0);
	assert_int_equal(buf->len, 4);		/* no half-written prefix */
	ipc_put_u32(buf, 2);			/* sticky */
	assert_int_equal(buf->len, 4);
	ipc_buf_init(buf);
	ipc_put_str(buf, NULL);
	assert_int_not_equal(buf->err, 0);

	free(pat);
	free(buf);
	ipc_chan_free(a);
	ipc_chan_free(b);
}

static void
test_fd_pass(void **state)
{
	struct ipc_chan	*a, *b;
	struct ipc_msg	 m;
	char		 rbuf[16];
	int		 p[2], before, fl;

	before = unit_count_fds();
	chan_pair(&a, &b, BIG_QUEUE);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);

	assert_int_equal(ipc_send(a, IPC_MSG_LOG_FD, 0, 0, NULL, 0, p[1]), 0);
	/* The caller keeps its descriptor: it must still be open. */
	assert_int_not_equal(fcntl(p[1], F_GETFD), -1);
	close(p[1]);

	assert_int_equal(ipc_recv(b, &m), 1);
	assert_int_equal(m.hdr.type, IPC_MSG_LOG_FD);
	assert_true(m.fd >= 0);
	fl = fcntl(m.fd, F_GETFD);
	assert_true(fl != -1 && (fl & FD_CLOEXEC));
	assert_int_equal(write(m.fd, "ping", 4), 4);
	close(m.fd);
	assert_int_equal(read(p[0], rbuf, sizeof(rbuf)), 4);
	assert_memory_equal(rbuf, "ping", 4);
	/* Every write end is gone: no copy was left behind anywhere. */
	assert_int_equal(read(p[0], rbuf, sizeof(rbuf)), 0);
	close(p[0]);

	ipc_chan_free(a);
	ipc_chan_free(b);
	assert_int_equal(unit_count_fds(), before);
}

static void
test_fd_extra(void **state)
{
	struct ipc_chan	*c;
	struct ipc_msg	 m;
	struct ipc_hdr	 h;
	int		 raw, p1[2], p2[2], many[16], before, during, i;
	char		 ch;

	before = unit_count_fds();
	c = chan_raw(&raw);
	assert_int_equal(pipe2(p1, O_NONBLOCK), 0);
	assert_int_equal(pipe2(p2, O_NONBLOCK), 0);

	/* Two descriptors: the first is kept, the second closed. */
	memset(&h, 0, sizeof(h));
	h.type = IPC_MSG_LOG_FD;
	h.len = sizeof(h);
	many[0] = p1[1];
	many[1] = p2[1];
	raw_send(raw, &h, sizeof(h), many, 2);
	close(p1[1]);
	close(p2[1]);
	during = unit_count_fds();
	assert_int_equal(ipc_recv(c, &m), 1);
	assert_true(m.fd >= 0);
	assert_int_equal(write(m.fd, "x", 1), 1);
	assert_int_equal(read(p1[0], &ch, 1), 1);
	assert_int_equal(ch, 'x');
	assert_int_equal(unit_count_fds(), during + 1);
	/* p2's only write end travelled as the extra one and was closed. */
	assert_int_equal(read(p2[0], &ch, 1), 0);
	close(m.fd);
	close(p1[0]);
	close(p2[0]);

	/* Too many to fit the control buffer: malformed, none leak. */
	assert_int_equal(pipe2(p1, O_NONBLOCK), 0);
	for (i = 0; i < 16; i++)
		many[i] = p1[1];
	raw_send(raw, &h, sizeof(h), many, 16);
	close(p1[1]);
	expect_bad_frame(c);
	assert_int_equal(read(p1[0], &ch, 1), 0);
	close(p1[0]);

	/* A malformed frame's descriptor is closed too. */
	assert_int_equal(pipe2(p1, O_NONBLOCK), 0);
	h.len = sizeof(h) + 1;
	raw_send(raw, &h, sizeof(h), &p1[1], 1);
	close(p1[1]);
	expect_bad_frame(c);
	assert_int_equal(read(p1[0], &ch, 1), 0);
	close(p1[0]);

	ipc_chan_free(c);
	close(raw);
	assert_int_equal(unit_count_fds(), before);
}

static void
test_malformed(void **state)
{
	struct ipc_chan	*c;
	struct ipc_msg	 m;
	uint8_t		*big;
	struct ipc_hdr	 h;
	int		 raw;

	c = chan_raw(&raw);

	/* Length field larger, then smaller than what arrived. */
	raw_frame(raw, IPC_MSG_HELLO, 40, 32);
	expect_bad_frame(c);
	raw_frame(raw, IPC_MSG_HELLO, 24, 32);
	expect_bad_frame(c);
	raw_frame(raw, IPC_MSG_HELLO, 0, 32);
	expect_bad_frame(c);
	/* Shorter than a header. */
	raw_frame(raw, IPC_MSG_HELLO, 8, 8);
	expect_bad_frame(c);
	raw_frame(raw, IPC_MSG_HELLO, 15, 15);
	expect_bad_frame(c);
	/* Unknown types. */
	raw_frame(raw, IPC_MSG_NONE, 16, 16);
	expect_bad_frame(c);
	raw_frame(raw, IPC_MSG_MAX, 20, 20);
	expect_bad_frame(c);
	raw_frame(raw, 0xffffffffu, 16, 16);
	expect_bad_frame(c);

	/* Oversized: the kernel truncates it into our buffer. */
	big = calloc(1, IPC_FRAME_MAX + 16);
	assert_non_null(big);
	memset(&h, 0, sizeof(h));
	h.type = IPC_MSG_HELLO;
	h.len = IPC_FRAME_MAX + 16;
	memcpy(big, &h, sizeof(h));
	raw_send(raw, big, IPC_FRAME_MAX + 16, NULL, 0);
	expect_bad_frame(c);
	/* Even when the length field matches what fits in the buffer. */
	h.len = IPC_FRAME_MAX;
	memcpy(big, &h, sizeof(h));
	raw_send(raw, big, IPC_FRAME_MAX + 1, NULL, 0);
	expect_bad_frame(c);
	free(big);

	/* Each bad frame was consumed alone: a good one still reads. */
	raw_frame(raw, IPC_MSG_HELLO, 24, 24);
	assert_int_equal(ipc_recv(c, &m), 1);
	assert_int_equal(m.hdr.type, IPC_MSG_HELLO);
	assert_int_equal(m.len, 8);
	assert_int_equal(ipc_recv(c, &m), 0);

	ipc_chan_free(c);
	close(raw);
}

static void
test_eof(void **state)
{
	struct ipc_chan	*a, *b;
	struct ipc_msg	 m;
	uint32_t	 v = 1;

	chan_pair(&a, &b, BIG_QUEUE);
	assert_int_equal(ipc_send(a, IPC_MSG_SHUTDOWN, 0, 0, &v, sizeof(v),
	    -1), 0);
	ipc_chan_free(a);

	/* Frames written before the close are still delivered... */
	assert_int_equal(ipc_recv(b, &m), 1);
	assert_int_equal(m.hdr.type, IPC_MSG_SHUTDOWN);
	/* ...then EOF, reported with errno 0. */
	errno = EINVAL;
	assert_int_equal(ipc_recv(b, &m), -1);
	assert_int_equal(errno, 0);
	assert_int_equal(m.fd, -1);

	/* Writing to a closed peer fails (EPIPE), is not a drop. */
	errno = 0;
	assert_int_equal(ipc_send(b, IPC_MSG_HELLO, 0, 0, &v, sizeof(v), -1),
	    -1);
	assert_int_not_equal(errno, 0);
	assert_int_not_equal(errno, ENOBUFS);
	assert_int_equal(b->dropped, 0);
	ipc_chan_free(b);
}

static void
seq_frame(uint8_t *buf, uint32_t seq)
{
	size_t	 i;

	memcpy(buf, &seq, sizeof(seq));
	for (i = 0; i < SEQ_PAYLOAD; i++)
		buf[4 + i] = (uint8_t)(seq * 31 + i);
}

static void
small_sndbuf(struct ipc_chan *c)
{
	int	 sz = 4096;

	assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &sz,
	    sizeof(sz)), 0);
}

/*
 * Send sequence frames from seq on until the socket is full and one waits in
 * the out-queue; returns the next sequence number.
 */
static uint32_t
fill_socket(struct ipc_chan *a, uint32_t seq)
{
	uint8_t	 buf[4 + SEQ_PAYLOAD];

	while (!ipc_pending(a)) {
		if (seq > 10000)
			fail_msg("socket never filled up");
		seq_frame(buf, seq);
		assert_int_equal(ipc_send(a, IPC_MSG_STATUS_REP, seq, 0, buf,
		    sizeof(buf), -1), 0);
		seq++;
	}
	return (seq);
}

/* Check one received frame against the next expected sequence number. */
static void
check_seq(const struct ipc_msg *m, uint32_t want, int *fdp)
{
	uint8_t	 exp[4 + SEQ_PAYLOAD];
	uint32_t seq;

	assert_int_equal(m->hdr.type, IPC_MSG_STATUS_REP);
	assert_int_equal(m->len, sizeof(exp));
	memcpy(&seq, m->payload, sizeof(seq));
	if (seq != want)
		fail_msg("frame %u arrived, expected %u", seq, want);
	assert_int_equal(m->hdr.gen_or_peer, want);
	seq_frame(exp, want);
	assert_memory_equal(m->payload, exp, sizeof(exp));
	if (m->fd != -1) {
		assert_non_null(fdp);
		*fdp = m->fd;
	}
}

static void
test_queue(void **state)
{
	struct ipc_chan	*a, *b;
	struct ipc_msg	 m;
	uint8_t		 buf[4 + SEQ_PAYLOAD];
	const size_t	 flen = sizeof(struct ipc_hdr) + sizeof(buf);
	uint32_t	 seq = 0, next = 0, fdseq = UINT32_MAX;
	int		 p[2], r, got_fd = -1, rounds, before;
	char		 ch;

	before = unit_count_fds();
	chan_pair(&a, &b, 4 * flen);
	small_sndbuf(a);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);

	/* Fill the socket until frames start waiting in the queue. */
	seq = fill_socket(a, seq);
	assert_int_equal(a->queued_bytes, flen);
	assert_int_equal(ipc_flush(a), 1);	/* still no room */

	/* Queue up to the cap; one frame carries a descriptor. */
	while (a->queued_bytes + flen <= a->max_queued_bytes) {
		seq_frame(buf, seq);
		if (fdseq == UINT32_MAX)
			fdseq = seq;
		assert_int_equal(ipc_send(a, IPC_MSG_STATUS_REP, seq, 0, buf,
		    sizeof(buf), seq == fdseq ? p[1] : -1), 0);
		seq++;
	}
	assert_true(ipc_pending(a));
	assert_int_equal(a->queued_bytes, 4 * flen);
	close(p[1]);		/* the queue holds its own copy */

	/* The cap: the next frames are dropped and counted. */
	seq_frame(buf, 99999);
	errno = 0;
	assert_int_equal(ipc_send(a, IPC_MSG_STATUS_REP, 99999, 0, buf,
	    sizeof(buf), -1), -1);
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(a->dropped, 1);
	assert_int_equal(ipc_send(a, IPC_MSG_STATUS_REP, 99999, 0, buf,
	    sizeof(buf), -1), -1);
	assert_int_equal(a->dropped, 2);
	assert_int_equal(a->queued_bytes, 4 * flen);

	/*
	 * Drain.  Halfway, send more without an explicit flush: it must go
	 * out behind the queued frames, never ahead of them.
	 */
	for (rounds = 0; rounds < 1000; rounds++) {
		while ((r = ipc_recv(b, &m)) == 1) {
			check_seq(&m, next, &got_fd);
			if (m.fd != -1)
				assert_int_equal(next, fdseq);
			next++;
		}
		assert_int_equal(r, 0);
		if (rounds == 0) {
			seq_frame(buf, seq);
			assert_int_equal(ipc_send(a, IPC_MSG_STATUS_REP, seq,
			    0, buf, sizeof(buf), -1), 0);
			seq++;
			continue;
		}
		if ((r = ipc_flush(a)) == 0 && next == seq)
			break;
		assert_int_not_equal(r, -1);
	}
	assert_int_equal(next, seq);
	assert_false(ipc_pending(a));
	assert_int_equal(a->queued_bytes, 0);
	assert_int_equal(a->dropped, 2);

	/* The queued descriptor arrived and works. */
	assert_true(got_fd >= 0);
	assert_int_equal(write(got_fd, "q", 1), 1);
	assert_int_equal(read(p[0], &ch, 1), 1);
	assert_int_equal(ch, 'q');
	close(got_fd);
	assert_int_equal(read(p[0], &ch, 1), 0);
	close(p[0]);

	ipc_chan_free(a);
	ipc_chan_free(b);
	assert_int_equal(unit_count_fds(), before);
}

static void
test_queue_zero_cap(void **state)
{
	struct ipc_chan	*a, *b;
	uint8_t		 buf[4 + SEQ_PAYLOAD];
	uint32_t	 seq;

	/* No queue at all: a full socket means an immediate drop. */
	chan_pair(&a, &b, 0);
	small_sndbuf(a);
	for (seq = 0; seq < 10000; seq++) {
		seq_frame(buf, seq);
		if (ipc_send(a, IPC_MSG_STATUS_REP, seq, 0, buf, sizeof(buf),
		    -1) == -1)
			break;
	}
	assert_int_equal(errno, ENOBUFS);
	assert_int_equal(a->dropped, 1);
	assert_false(ipc_pending(a));
	ipc_chan_free(a);
	ipc_chan_free(b);
}

static void
test_queue_fds_closed_on_free(void **state)
{
	struct ipc_chan	*a, *b;
	int		 p[3][2], before, i;
	char		 ch;

	before = unit_count_fds();
	chan_pair(&a, &b, BIG_QUEUE);
	small_sndbuf(a);
	(void)fill_socket(a, 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(pipe2(p[i], O_NONBLOCK), 0);
		assert_int_equal(ipc_send(a, IPC_MSG_LOG_FD, 0, 0, NULL, 0,
		    p[i][1]), 0);
		close(p[i][1]);
	}
	assert_true(ipc_pending(a));
	/* Each queued frame holds the only write end of its pipe. */
	assert_int_equal(unit_count_fds(), before + 2 + 3 + 3);

	ipc_chan_free(a);
	for (i = 0; i < 3; i++) {
		assert_int_equal(read(p[i][0], &ch, 1), 0);
		close(p[i][0]);
	}
	ipc_chan_free(b);
	assert_int_equal(unit_count_fds(), before);
}

static void
test_flush_error(void **state)
{
	struct ipc_chan	*a, *b;
	uint8_t		 buf[4 + SEQ_PAYLOAD];
	uint32_t	 seq = 0;

	chan_pair(&a, &b, BIG_QUEUE);
	small_sndbuf(a);
	seq = fill_socket(a, seq);
	ipc_chan_free(b);
	errno = 0;
	assert_int_equal(ipc_flush(a), -1);
	assert_int_not_equal(errno, 0);
	assert_true(ipc_pending(a));
	/* A send behind a dead queue fails too instead of queueing. */
	assert_int_equal(ipc_send(a, IPC_MSG_STATUS_REP, seq, 0, buf,
	    sizeof(buf), -1), -1);
	assert_int_equal(a->dropped, 0);
	ipc_chan_free(a);
}

static struct ipc_msg
payload_msg(const void *p, size_t len)
{
	struct ipc_msg	 m;

	memset(&m, 0, sizeof(m));
	m.payload = p;
	m.len = len;
	m.fd = -1;
	return (m);
}

static void
test_reader_errors(void **state)
{
	struct ipc_msg	 m;
	struct ipc_rd	 rd;
	struct ipc_buf	*b;
	uint8_t		 raw[32];
	uint32_t	 n32;
	size_t		 n;
	char		 s[8];

	memset(raw, 0x11, sizeof(raw));

	/* Truncated u32 and u64. */
	m = payload_msg(raw, 3);
	ipc_rd_init(&rd, &m);
	assert_int_equal(ipc_get_u32(&rd), 0);
	assert_int_not_equal(rd.err, 0);
	assert_int_equal(ipc_rd_done(&rd), -1);
	m = payload_msg(raw, 7);
	ipc_rd_init(&rd, &m);
	assert_true(ipc_get_u64(&rd) == 0);
	assert_int_not_equal(rd.err, 0);
	assert_int_equal(ipc_rd_done(&rd), -1);

	/* Sticky: once failed, valid data after it still reads as failure. */
	m = payload_msg(raw, 11);
	ipc_rd_init(&rd, &m);
	assert_true(ipc_get_u64(&rd) == 0x1111111111111111ULL);
	assert_int_equal(ipc_get_u32(&rd), 0);	/* only 3 left */
	assert_int_not_equal(rd.err, 0);
	m = payload_msg(raw, 8);
	ipc_rd_init(&rd, &m);
	(void)ipc_get_u64(&rd);
	(void)ipc_get_u32(&rd);			/* fails: nothing left */
	assert_int_equal(ipc_rd_done(&rd), -1);

	/* Trailing bytes. */
	m = payload_msg(raw, 5);
	ipc_rd_init(&rd, &m);
	assert_int_equal(ipc_get_u32(&rd), 0x11111111u);
	assert_int_equal(rd.err, 0);
	assert_int_equal(ipc_rd_done(&rd), -1);

	/* Truncated length prefix, then truncated body. */
	m = payload_msg(raw, 2);
	ipc_rd_init(&rd, &m);
	assert_null(ipc_get_bytes(&rd, &n));
	assert_int_equal(n, 0);
	assert_int_equal(ipc_rd_done(&rd), -1);
	n32 = 10;
	memcpy(raw, &n32, 4);
	memcpy(raw + 4, "hello", 5);
	m = payload_msg(raw, 9);
	ipc_rd_init(&rd, &m);
	strcpy(s, "junk");
	ipc_get_str(&rd, s, sizeof(s));
	assert_string_equal(s, "");
	assert_int_not_equal(rd.err, 0);
	assert_int_equal(ipc_rd_done(&rd), -1);
	/* A huge length prefix must not wrap the bounds check. */
	n32 = UINT32_MAX;
	memcpy(raw, &n32, 4);
	ipc_rd_init(&rd, &m);
	assert_null(ipc_get_bytes(&rd, &n));
	assert_int_equal(ipc_rd_done(&rd), -1);

	/* Strings: fit exactly, one too long, embedded NUL. */
	b = malloc(sizeof(*b));
	assert_non_null(b);
	ipc_buf_init(b);
	ipc_put_str(b, "hello");
	ipc_put_str(b, "hello!");
	ipc_put_bytes(b, "ab\0cd", 5);
	assert_int_equal(b->err, 0);
	m = payload_msg(b->data, b->len);
	ipc_rd_init(&rd, &m);
	ipc_get_str(&rd, s, 6);
	assert_int_equal(rd.err, 0);
	assert_string_equal(s, "hello");
	ipc_get_str(&rd, s, 6);
	assert_int_not_equal(rd.err, 0);
	assert_string_equal(s, "");
	assert_int_equal(ipc_rd_done(&rd), -1);

	m = payload_msg(b->data + 9, b->len - 9);
	ipc_rd_init(&rd, &m);
	ipc_get_str(&rd, s, 7);
	assert_int_equal(rd.err, 0);
	assert_string_equal(s, "hello!");
	ipc_get_str(&rd, s, 6);			/* "ab\0cd" fits, has NUL */
	assert_int_not_equal(rd.err, 0);
	assert_string_equal(s, "");
	assert_int_equal(ipc_rd_done(&rd), -1);

	/* The same bytes are fine through ipc_get_bytes. */
	ipc_rd_init(&rd, &m);
	assert_non_null(ipc_get_bytes(&rd, &n));
	assert_non_null(ipc_get_bytes(&rd, &n));
	assert_int_equal(n, 5);
	assert_int_equal(ipc_rd_done(&rd), 0);
	free(b);

	/* An empty payload. */
	m = payload_msg(NULL, 0);
	ipc_rd_init(&rd, &m);
	assert_int_equal(ipc_rd_done(&rd), 0);
	assert_int_equal(ipc_get_u32(&rd), 0);
	assert_int_equal(ipc_rd_done(&rd), -1);
}

static void
test_chan_new(void **state)
{
	int	 sv[2], p[2], before;

	before = unit_count_fds();
	ipc_chan_free(NULL);

	/* A stream socket would lose frame boundaries: refused, closed. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	errno = 0;
	assert_null(ipc_chan_new(sv[0], BIG_QUEUE));
	assert_int_equal(errno, EPROTOTYPE);
	assert_int_equal(fcntl(sv[0], F_GETFD), -1);
	close(sv[1]);

	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	errno = 0;
	assert_null(ipc_chan_new(p[0], BIG_QUEUE));
	assert_int_equal(errno, ENOTSOCK);
	assert_int_equal(fcntl(p[0], F_GETFD), -1);
	close(p[1]);

	errno = 0;
	assert_null(ipc_chan_new(-1, BIG_QUEUE));
	assert_int_equal(errno, EBADF);
	assert_int_equal(unit_count_fds(), before);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_types),
		cmocka_unit_test(test_frame_limits),
		cmocka_unit_test(test_fd_pass),
		cmocka_unit_test(test_fd_extra),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_eof),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_queue_zero_cap),
		cmocka_unit_test(test_queue_fds_closed_on_free),
		cmocka_unit_test(test_flush_error),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_chan_new),
	};

	/* Malformed-frame tests log on purpose; TEST_VERBOSE shows it. */
	if (getenv("TEST_VERBOSE") == NULL)
		log_setlevel(LOG_ERR);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
