/*
 * One client connection of a worker, from accept to close: the TLS handshake
 * under a deadline, the established session, and the graceful close.
 *
 * A conn is on exactly one of the worker's lists (handshaking, live, dead) and
 * maybe also on the ready list.  conn_close() never frees: the conn goes to the
 * dead list with a dead magic, because later events of the same epoll batch may
 * still point at it, and conn_reap() frees the dead at the end of the turn.
 */
#ifndef TAKD_WORKER_CONN_H
#define TAKD_WORKER_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "worker/tls.h"
#include "worker/worker_int.h"

#define CONN_MAGIC		0x434f4e4eu	/* "CONN" */
#define CONN_DEAD_MAGIC		0x44454144u	/* "DEAD": closed, not yet freed */

/* "ADDR:PORT" or "[v6]:PORT" */
#define CONN_ADDR_MAX		(46 + 8)

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
	bool		 shutdown_sent;	/* our close_notify is out */
	bool		 on_ready;

	int64_t		 accepted_ms;
	int64_t		 deadline_ms;	/* handshake deadline, 0 = none */
	int64_t		 established_ms;
	uint64_t	 rx_bytes;	/* application data read */
	struct tls_peer	 tls;		/* after the handshake */

	TAILQ_ENTRY(conn) entry;	/* handshaking, live or dead */
	TAILQ_ENTRY(conn) ready_entry;
};

/*
 * Take over an accepted socket and start the handshake.  On failure fd is
 * closed, the reason logged and NULL returned.
 */
struct conn *conn_new(struct worker *, struct acceptor *, int fd,
	    const struct sockaddr *, socklen_t);
/* An epoll event for c. */
void	 conn_handle(struct worker *, struct conn *, uint32_t events);
/* Run the conns that yielded with work left (ready list). */
void	 conn_run_ready(struct worker *);
/* Close handshakes past their deadline; returns ms to the next one, -1 none. */
int64_t	 conn_expire(struct worker *, int64_t now_ms);
/* Start the graceful close of every conn (drain). */
void	 conn_drain_all(struct worker *);
/* Close every conn at once; with close_notify, try to send one first. */
void	 conn_close_all(struct worker *, bool close_notify, const char *why);
/* Free the conns closed during this turn. */
void	 conn_reap(struct worker *);

/* Format a socket address as "ADDR:PORT" or "[v6]:PORT". */
void	 conn_addr_format(const struct sockaddr *, socklen_t, char *, size_t);

#endif
