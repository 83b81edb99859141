/*
 * IPC framing: see ipc.h and docs/ipc.md.
 *
 * The channel is a SOCK_SEQPACKET socket, so a frame is written by exactly
 * one sendmsg() and read by exactly one recvmsg(); the kernel keeps the
 * boundaries and never hands us half a frame.  What the peer claims in the
 * header is still checked against what actually arrived.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc/ipc.h"
#include "shared/log.h"

/*
 * Room for this many descriptors in one received frame.  We pass at most
 * one; a few more fit so that extras can be closed instead of being lost to
 * MSG_CTRUNC, which we treat as malformed.
 */
#define IPC_RECV_FDS	8

/* The kernel refuses a datagram bigger than the send buffer (EMSGSIZE). */
#define IPC_SNDBUF_MIN	(2 * IPC_FRAME_MAX)

struct ipc_frame {
	struct ipc_frame *next;
	int		 fd;		/* dup'ed descriptor to pass, or -1 */
	size_t		 len;		/* header + payload */
	uint8_t		 data[];
};

static void
ipc_chan_check(const struct ipc_chan *c)
{
	assert(c != NULL);
	assert(c->magic == IPC_CHAN_MAGIC);
	(void)c;
}

static int
ipc_type_valid(uint32_t type)
{
	return (type > IPC_MSG_NONE && type < IPC_MSG_MAX);
}

struct ipc_chan *
ipc_chan_new(int fd, size_t max_queued_bytes)
{
	struct ipc_chan	*c = NULL;
	socklen_t	 sl;
	int		 flags, type, sndbuf, saved;

	if (fd < 0) {
		errno = EBADF;
		return (NULL);
	}
	/* Framing relies on the kernel keeping record boundaries. */
	type = 0;
	sl = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == -1)
		goto fail;
	if (type != SOCK_SEQPACKET) {
		errno = EPROTOTYPE;
		goto fail;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1)
		goto fail;
	if ((flags = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == -1)
		goto fail;
	/*
	 * Best effort: a send buffer smaller than a frame would turn every
	 * large frame into EMSGSIZE.  The default (wmem_default) is larger.
	 */
	sndbuf = 0;
	sl = sizeof(sndbuf);
	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &sl) == 0 &&
	    sndbuf < IPC_SNDBUF_MIN) {
		sndbuf = IPC_SNDBUF_MIN;
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf,
		    sizeof(sndbuf));
	}

	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto fail;
	if ((c->rbuf = malloc(IPC_FRAME_MAX)) == NULL)
		goto fail;
	c->magic = IPC_CHAN_MAGIC;
	c->fd = fd;
	c->max_queued_bytes = max_queued_bytes;
	return (c);

fail:
	/* Ownership was taken: the descriptor is closed on failure too. */
	saved = errno;
	if (c != NULL)
		free(c->rbuf);
	free(c);
	close(fd);
	errno = saved;
	return (NULL);
}

static void
ipc_frame_free(struct ipc_frame *f)
{
	if (f == NULL)
		return;
	if (f->fd != -1)
		close(f->fd);
	free(f);
}

void
ipc_chan_free(struct ipc_chan *c)
{
	struct ipc_frame *f, *next;

	if (c == NULL)
		return;
	ipc_chan_check(c);
	for (f = c->head; f != NULL; f = next) {
		next = f->next;
		ipc_frame_free(f);
	}
	c->head = c->tail = NULL;
	c->queued_bytes = 0;
	if (c->fd != -1)
		close(c->fd);
	free(c->rbuf);
	c->magic = 0;
	free(c);
}

/*
 * One sendmsg() of a whole frame.  Returns 0 when written, 1 when the socket
 * has no room now, -1 on a channel error (errno set).
 */
static int
ipc_write_frame(int fd, struct iovec *iov, int iovcnt, size_t total,
    int pass_fd)
{
	struct msghdr	 mh;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int))];
	}		 cmsgbuf;
	struct cmsghdr	*cmsg;
	ssize_t		 n;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = iovcnt;
	if (pass_fd >= 0) {
		memset(&cmsgbuf, 0, sizeof(cmsgbuf));
		mh.msg_control = cmsgbuf.buf;
		mh.msg_controllen = sizeof(cmsgbuf.buf);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
	}
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
			return (1);
		return (-1);
	}
	if ((size_t)n != total) {
		/* A seqpacket send is all or nothing. */
		errno = EIO;
		return (-1);
	}
	return (0);
}

static struct ipc_frame *
ipc_frame_new(const struct ipc_hdr *hdr, const void *payload, size_t len,
    int pass_fd)
{
	struct ipc_frame *f;

	if ((f = malloc(sizeof(*f) + sizeof(*hdr) + len)) == NULL)
		return (NULL);
	f->next = NULL;
	f->fd = -1;
	f->len = sizeof(*hdr) + len;
	memcpy(f->data, hdr, sizeof(*hdr));
	if (len > 0)
		memcpy(f->data + sizeof(*hdr), payload, len);
	if (pass_fd >= 0 &&
	    (f->fd = fcntl(pass_fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		free(f);
		return (NULL);
	}
	return (f);
}

int
ipc_send(struct ipc_chan *c, uint32_t type, uint32_t gen, uint32_t src,
    const void *payload, size_t len, int pass_fd)
{
	struct ipc_hdr	 hdr;
	struct ipc_frame *f;
	struct iovec	 iov[2];
	size_t		 total;
	int		 r;

	ipc_chan_check(c);
	if (len > IPC_FRAME_MAX - sizeof(hdr)) {
		errno = EMSGSIZE;
		return (-1);
	}
	if (!ipc_type_valid(type) || (len > 0 && payload == NULL)) {
		errno = EINVAL;
		return (-1);
	}
	total = sizeof(hdr) + len;
	memset(&hdr, 0, sizeof(hdr));
	hdr.type = type;
	hdr.len = (uint32_t)total;
	hdr.gen_or_peer = gen;
	hdr.src_worker = src;

	/* Older frames go first: only write directly behind an empty queue. */
	if (c->head != NULL && ipc_flush(c) == -1)
		return (-1);
	if (c->head == NULL) {
		iov[0].iov_base = &hdr;
		iov[0].iov_len = sizeof(hdr);
		/* sendmsg() does not write through iov_base. */
		iov[1].iov_base = (void *)(uintptr_t)payload;
		iov[1].iov_len = len;
		r = ipc_write_frame(c->fd, iov, len > 0 ? 2 : 1, total,
		    pass_fd);
		if (r <= 0)
			return (r);
	}

	if (total > c->max_queued_bytes ||
	    c->queued_bytes > c->max_queued_bytes - total) {
		c->dropped++;
		errno = ENOBUFS;
		return (-1);
	}
	if ((f = ipc_frame_new(&hdr, payload, len, pass_fd)) == NULL)
		return (-1);
	if (c->tail != NULL)
		c->tail->next = f;
	else
		c->head = f;
	c->tail = f;
	c->queued_bytes += total;
	return (0);
}

int
ipc_flush(struct ipc_chan *c)
{
	struct ipc_frame *f;
	struct iovec	 iov;
	int		 r;

	ipc_chan_check(c);
	while ((f = c->head) != NULL) {
		iov.iov_base = f->data;
		iov.iov_len = f->len;
		if ((r = ipc_write_frame(c->fd, &iov, 1, f->len, f->fd)) != 0)
			return (r);
		c->head = f->next;
		if (c->head == NULL)
			c->tail = NULL;
		c->queued_bytes -= f->len;
		/* The peer holds its own reference now; drop ours. */
		ipc_frame_free(f);
	}
	return (0);
}

int
ipc_pending(const struct ipc_chan *c)
{
	ipc_chan_check(c);
	return (c->head != NULL);
}

/*
 * Collect the descriptors that arrived with a frame: the first is returned
 * in *fdp, the rest are closed.  Returns how many arrived.
 */
static int
ipc_recv_fds(struct msghdr *mh, int *fdp)
{
	struct cmsghdr	*cmsg;
	size_t		 i, nfds;
	int		 fd, count = 0;

	*fdp = -1;
	for (cmsg = CMSG_FIRSTHDR(mh); cmsg != NULL;
	    cmsg = CMSG_NXTHDR(mh, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS ||
		    cmsg->cmsg_len < CMSG_LEN(0))
			continue;
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++) {
			memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int),
			    sizeof(int));
			if (*fdp == -1)
				*fdp = fd;
			else
				close(fd);
			count++;
		}
	}
	return (count);
}

int
ipc_recv(struct ipc_chan *c, struct ipc_msg *msg)
{
	struct msghdr	 mh;
	struct iovec	 iov;
	union {
		struct cmsghdr	 hdr;
		char		 buf[CMSG_SPACE(sizeof(int) * IPC_RECV_FDS)];
	}		 cmsgbuf;
	ssize_t		 n;
	int		 nfds;

	ipc_chan_check(c);
	memset(msg, 0, sizeof(*msg));
	msg->fd = -1;

	memset(&mh, 0, sizeof(mh));
	iov.iov_base = c->rbuf;
	iov.iov_len = IPC_FRAME_MAX;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cmsgbuf.buf;
	mh.msg_controllen = sizeof(cmsgbuf.buf);
	do {
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return (0);
		return (-1);
	}
	/* Close whatever came along before deciding anything else. */
	nfds = ipc_recv_fds(&mh, &msg->fd);
	if (n == 0) {
		/* Our frames are never empty: zero bytes is the peer's EOF. */
		if (msg->fd != -1)
			close(msg->fd);
		msg->fd = -1;
		errno = 0;
		return (-1);
	}

	if (mh.msg_flags & MSG_TRUNC) {
		log_warnx("ipc fd %d: malformed frame: larger than %d bytes",
		    c->fd, IPC_FRAME_MAX);
		goto bad;
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		log_warnx("ipc fd %d: malformed frame: control data truncated "
		    "(more than %d descriptors?)", c->fd, IPC_RECV_FDS);
		goto bad;
	}
	if ((size_t)n < sizeof(msg->hdr)) {
		log_warnx("ipc fd %d: malformed frame: %zd bytes, shorter "
		    "than the %zu byte header", c->fd, n, sizeof(msg->hdr));
		goto bad;
	}
	memcpy(&msg->hdr, c->rbuf, sizeof(msg->hdr));
	if (msg->hdr.len != (size_t)n) {
		log_warnx("ipc fd %d: malformed frame: header says %u bytes, "
		    "received %zd", c->fd, msg->hdr.len, n);
		goto bad;
	}
	if (!ipc_type_valid(msg->hdr.type)) {
		log_warnx("ipc fd %d: malformed frame: unknown type %u "
		    "(%zd bytes)", c->fd, msg->hdr.type, n);
		goto bad;
	}
	if (nfds > 1)
		log_warnx("ipc fd %d: frame type %u carried %d descriptors, "
		    "kept the first", c->fd, msg->hdr.type, nfds);
	msg->payload = c->rbuf + sizeof(msg->hdr);
	msg->len = (size_t)n - sizeof(msg->hdr);
	return (1);

bad:
	if (msg->fd != -1)
		close(msg->fd);
	memset(msg, 0, sizeof(*msg));
	msg->fd = -1;
	errno = EBADMSG;
	return (-1);
}

/*
 * Payload builder.  Values are copied in host order: both ends are the same
 * binary on the same machine.
 */
void
ipc_buf_init(struct ipc_buf *b)
{
	b->len = 0;
	b->err = 0;
}

static void
ipc_put_raw(struct ipc_buf *b, const void *p, size_t len)
{
	if (b->err != 0)
		return;
	if (len > sizeof(b->data) - b->len) {
		b->err = EMSGSIZE;
		return;
	}
	if (len > 0)
		memcpy(b->data + b->len, p, len);
	b->len += len;
}

void
ipc_put_u32(struct ipc_buf *b, uint32_t v)
{
	ipc_put_raw(b, &v, sizeof(v));
}

void
ipc_put_u64(struct ipc_buf *b, uint64_t v)
{
	ipc_put_raw(b, &v, sizeof(v));
}

void
ipc_put_bytes(struct ipc_buf *b, const void *p, size_t len)
{
	if (b->err != 0)
		return;
	if ((len > 0 && p == NULL) ||
	    len > sizeof(b->data) - sizeof(uint32_t) ||
	    sizeof(uint32_t) + len > sizeof(b->data) - b->len) {
		/* Check both parts first so a failed put leaves no prefix. */
		b->err = EMSGSIZE;
		return;
	}
	ipc_put_u32(b, (uint32_t)len);
	ipc_put_raw(b, p, len);
}

void
ipc_put_str(struct ipc_buf *b, const char *s)
{
	if (s == NULL) {
		if (b->err == 0)
			b->err = EINVAL;
		return;
	}
	ipc_put_bytes(b, s, strlen(s));
}

/* Payload reader. */
void
ipc_rd_init(struct ipc_rd *r, const struct ipc_msg *msg)
{
	static const uint8_t empty[1];

	r->p = msg->payload != NULL ? msg->payload : empty;
	r->len = msg->payload != NULL ? msg->len : 0;
	r->off = 0;
	r->err = 0;
}

static const uint8_t *
ipc_get_raw(struct ipc_rd *r, size_t len)
{
	const uint8_t	*p;

	if (r->err != 0)
		return (NULL);
	if (len > r->len - r->off) {
		r->err = EBADMSG;
		return (NULL);
	}
	p = r->p + r->off;
	r->off += len;
	return (p);
}

uint32_t
ipc_get_u32(struct ipc_rd *r)
{
	const uint8_t	*p;
	uint32_t	 v;

	if ((p = ipc_get_raw(r, sizeof(v))) == NULL)
		return (0);
	memcpy(&v, p, sizeof(v));
	return (v);
}

uint64_t
ipc_get_u64(struct ipc_rd *r)
{
	const uint8_t	*p;
	uint64_t	 v;

	if ((p = ipc_get_raw(r, sizeof(v))) == NULL)
		return (0);
	memcpy(&v, p, sizeof(v));
	return (v);
}

const uint8_t *
ipc_get_bytes(struct ipc_rd *r, size_t *len)
{
	const uint8_t	*p;
	uint32_t	 n;

	*len = 0;
	n = ipc_get_u32(r);
	if (r->err != 0)
		return (NULL);
	if ((p = ipc_get_raw(r, n)) == NULL)
		return (NULL);
	*len = n;
	return (p);
}

void
ipc_get_str(struct ipc_rd *r, char *dst, size_t dstlen)
{
	const uint8_t	*p;
	size_t		 n;

	if (dst == NULL || dstlen == 0) {
		if (r->err == 0)
			r->err = EINVAL;
		return;
	}
	dst[0] = '\0';
	if ((p = ipc_get_bytes(r, &n)) == NULL)
		return;
	if (n >= dstlen) {
		r->err = ENAMETOOLONG;
		return;
	}
	if (n > 0 && memchr(p, '\0', n) != NULL) {
		r->err = EBADMSG;
		return;
	}
	if (n > 0)
		memcpy(dst, p, n);
	dst[n] = '\0';
}

int
ipc_rd_done(const struct ipc_rd *r)
{
	if (r->err != 0 || r->off != r->len)
		return (-1);
	return (0);
}
