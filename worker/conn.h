/*
 * One client connection of a worker, from accept to close: the TLS handshake
 * under a deadline, the established session, and the graceful close.
 *
 * A conn is on exactly one of the worker's lists (handshaking, live, dead) and
 * maybe also on the ready list (reads left), the outlist (output to write)
 * and the written list (written within [cot] flush_delay).  conn_close()
 * never frees: the conn goes to the dead list with a dead magic, because
 * later events of the same epoll batch may still point at it, and
 * conn_reap() frees the dead at the end of the turn.
 */
#ifndef TAKD_WORKER_CONN_H
#define TAKD_WORKER_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "worker/admit.h"
#include "worker/registry.h"
#include "worker/session.h"
#include "worker/tls.h"
#include "worker/worker_int.h"

#define CONN_MAGIC		0x434f4e4eu	/* "CONN" */
#define CONN_DEAD_MAGIC		0x44454144u	/* "DEAD": closed, not yet freed */

/* "ADDR:PORT" or "[v6]:PORT" */
#define CONN_ADDR_MAX		(46 + 8)
/* conn_who(): peer, subject and serial for log lines */
#define CONN_WHO_MAX		(CONN_ADDR_MAX + 512 + 68 + 40)

enum conn_state {
	CONN_HANDSHAKE,
	CONN_ESTABLISHED,
	CONN_CLOSING		/* close_notify being sent or awaited */
};

struct conn {
	unsigned	 magic;
	enum conn_state	 state;
	uint64_t	 id;		/* per worker, from 1 */
	int		 fd;
	SSL		*ssl;
	struct acceptor	*acceptor;	/* where it came from (rate limits) */
	char		 peer[CONN_ADDR_MAX];
	uint32_t	 events;	/* current epoll interest */
	uint32_t	 rd_wait;	/* what reading waits for: EPOLLIN/OUT */
	uint32_t	 wr_wait;	/* 0, or what a blocked write waits for */
	bool		 plain;		/* [tcp] listener: no TLS, ssl NULL */
	bool		 shutdown_sent;	/* our close_notify is out */
	bool		 draining;	/* stopping: close once the queue is out */
	bool		 on_ready;
	bool		 on_outlist;
	bool		 on_written;
	bool		 on_sawait;

	int64_t		 accepted_ms;
	int64_t		 deadline_ms;	/* handshake deadline, 0 = none */
	int64_t		 flushed_ms;	/* a record last went out: the delay */
	int64_t		 sa_due_ms;	/* queued SA must go by then; 0 = none */
	int64_t		 established_ms;
	uint64_t	 rx_bytes;	/* application data read */
	uint64_t	 tx_bytes;	/* application data written */
	struct tls_peer	 tls;		/* after the handshake; empty if plain */
	struct admit_node adm;		/* while handshaking (admit.h) */
	struct registry_node cert_node;	/* by certificate serial, established */

	TAILQ_ENTRY(conn) entry;	/* handshaking, live or dead */
	TAILQ_ENTRY(conn) ready_entry;
	TAILQ_ENTRY(conn) out_entry;	/* worker's outlist */
	TAILQ_ENTRY(conn) wr_entry;	/* worker's written list */
	TAILQ_ENTRY(conn) sa_entry;	/* worker's sawait list */

	struct session	 s;		/* the CoT side (session.c) */
};

/*
 * Take over an accepted socket (admitted by accept.c: room in the
 * handshake limits) and start the handshake.  On failure, or when the first
 * attempt at the handshake already ended it, fd is closed, the reason
 * logged and NULL returned.
 */
struct conn *conn_new(struct worker *, struct acceptor *, int fd,
	    const struct sockaddr *, socklen_t);
/* An epoll event for c. */
void	 conn_handle(struct worker *, struct conn *, uint32_t events);
/* Run the conns that yielded with work left (ready list). */
void	 conn_run_ready(struct worker *);
/*
 * Close a connection still in its handshake to make room for a new one
 * (the admission limits); why is logged by the caller.
 */
void	 conn_evict(struct worker *, struct conn *);
/* The connection whose admission node n is. */
struct conn *conn_of_admit(struct admit_node *n);
/* Close handshakes past their deadline; returns ms to the next one, -1 none. */
int64_t	 conn_expire(struct worker *, int64_t now_ms);
/* Start the graceful close of every conn (drain). */
void	 conn_drain_all(struct worker *);
/* Close every conn at once; with close_notify, try to send one first. */
void	 conn_close_all(struct worker *, bool close_notify, const char *why);
/* Free the conns closed during this turn. */
void	 conn_reap(struct worker *);

/*
 * Close an established session now; why is logged with the peer, subject
 * and serial, at info level (conn_close) or as a warning (conn_abort: the
 * peer did something wrong).
 */
void	 conn_close(struct worker *, struct conn *, const char *why);
void	 conn_abort(struct worker *, struct conn *, const char *why);
/*
 * c has new output (or was doomed): written by the output pass before the
 * loop sleeps, or the first one after [cot] flush_delay has passed since
 * its last write.
 */
void	 conn_output(struct worker *, struct conn *);
/* Write the output of the sessions that have some; close the doomed. */
void	 conn_flush_pending(struct worker *);
/* "peer ADDR subject "DN" serial HEX", or "peer ADDR, plain TCP". */
const char *conn_who(const struct conn *, char *, size_t);

/* Format a socket address as "ADDR:PORT" or "[v6]:PORT". */
void	 conn_addr_format(const struct sockaddr *, socklen_t, char *, size_t);

#endif
