/*
 * IPC framing shared by supervisor<->worker control channels and, later, the
 * worker<->worker mesh.  Every channel is a SOCK_SEQPACKET socket, so one
 * send is one frame and frame boundaries come from the kernel.
 *
 * Frame: struct ipc_hdr (host order; len includes the header) + payload, at
 * most IPC_FRAME_MAX bytes, optionally with one descriptor (SCM_RIGHTS).
 * A frame whose length field disagrees with what was received, that is larger
 * than IPC_FRAME_MAX, or whose type is unknown is malformed: ipc_recv() returns
 * -1 and the owner closes the channel.
 *
 * Sending never blocks: frames that cannot be written now wait in a bounded
 * out-queue; when the queue is full the frame is dropped and counted.
 */
#ifndef TAKD_IPC_H
#define TAKD_IPC_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc_msg.h"

#define IPC_FRAME_MAX		(64 * 1024)
#define IPC_CHAN_MAGIC		0x49504343u	/* "IPCC" */

struct ipc_hdr {
	uint32_t	 type;
	uint32_t	 len;		/* header + payload */
	uint32_t	 gen_or_peer;
	uint32_t	 src_worker;
};

/* A received frame.  payload borrows the channel's buffer until the next recv. */
struct ipc_msg {
	struct ipc_hdr	 hdr;
	const uint8_t	*payload;
	size_t		 len;		/* payload length */
	int		 fd;		/* passed descriptor, -1 if none; caller owns */
};

struct ipc_frame;			/* queued outgoing frame (ipc.c) */

struct ipc_chan {
	unsigned	 magic;
	int		 fd;
	struct ipc_frame *head, *tail;
	size_t		 queued_bytes;
	size_t		 max_queued_bytes;
	unsigned long	 dropped;	/* frames dropped because the queue was full */
	uint8_t		*rbuf;		/* IPC_FRAME_MAX bytes */
};

/*
 * Takes ownership of fd (made non-blocking and close-on-exec), even when it
 * fails: then fd is closed and NULL returned with errno set (EPROTOTYPE when
 * fd is not a SOCK_SEQPACKET socket).
 */
struct ipc_chan	*ipc_chan_new(int fd, size_t max_queued_bytes);
/* Closes the descriptor, frees queued frames (and their descriptors). */
void		 ipc_chan_free(struct ipc_chan *);

/*
 * Queue a frame and try to write it.  pass_fd >= 0 is duplicated for the queue,
 * the caller keeps its own.  Returns 0 when sent or queued, -1 when dropped
 * (queue full: counted in dropped, errno ENOBUFS; too large: EMSGSIZE; type
 * not in ipc_msg.h: EINVAL) or the channel failed (errno from sendmsg()).
 */
int		 ipc_send(struct ipc_chan *, uint32_t type, uint32_t gen,
		    uint32_t src, const void *payload, size_t len, int pass_fd);
/* Write queued frames.  0 = queue empty, 1 = more pending (wait EPOLLOUT), -1 = error. */
int		 ipc_flush(struct ipc_chan *);
int		 ipc_pending(const struct ipc_chan *);

/*
 * 1 = a frame in *msg, 0 = nothing to read now, -1 = EOF, error or malformed
 * frame.  On -1, errno is 0 for EOF (the peer closed), EBADMSG for a
 * malformed frame (detail logged, any descriptor that came with it closed),
 * else the recvmsg() error.
 */
int		 ipc_recv(struct ipc_chan *, struct ipc_msg *);

/* Building a payload: every put checks room; err sticks once set. */
struct ipc_buf {
	uint8_t		 data[IPC_FRAME_MAX - sizeof(struct ipc_hdr)];
	size_t		 len;
	int		 err;
};
void	 ipc_buf_init(struct ipc_buf *);
void	 ipc_put_u32(struct ipc_buf *, uint32_t);
void	 ipc_put_u64(struct ipc_buf *, uint64_t);
/* u32 length + bytes (no terminator). */
void	 ipc_put_bytes(struct ipc_buf *, const void *, size_t);
void	 ipc_put_str(struct ipc_buf *, const char *);

/* Reading a payload: every get checks length; err sticks once set. */
struct ipc_rd {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	int		 err;
};
void	 ipc_rd_init(struct ipc_rd *, const struct ipc_msg *);
uint32_t ipc_get_u32(struct ipc_rd *);
uint64_t ipc_get_u64(struct ipc_rd *);
/* Borrow bytes: returns a pointer into the payload and sets *len. */
const uint8_t *ipc_get_bytes(struct ipc_rd *, size_t *len);
/* Copy a string into dst (NUL-terminated); err when it does not fit. */
void	 ipc_get_str(struct ipc_rd *, char *dst, size_t dstlen);
/* 0 when every get succeeded and the whole payload was consumed. */
int	 ipc_rd_done(const struct ipc_rd *);

#endif
