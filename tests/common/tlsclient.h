/*
 * tlsclient: the TLS client side the test client (tests/tools/takclient.c)
 * and the load generator (tests/load/) share.  A client SSL_CTX with the
 * client certificate, key and CA; a non-blocking connect; a non-blocking
 * handshake; session tickets, noticed (in TLS 1.3 the server's ticket is
 * its "accepted") and kept for resumption; reads and writes that say what
 * to wait for; and the words for why a call failed.  A connection without
 * an SSL object is plain TCP (takclient --plain and --raw).
 *
 * The caller owns the event loop (poll, epoll): every call that would
 * block returns TLSCLIENT_WANT_READ or TLSCLIENT_WANT_WRITE and is made
 * again once the socket is ready.
 */
#ifndef TLSCLIENT_H
#define TLSCLIENT_H

#include <sys/socket.h>
#include <sys/types.h>

#include <netdb.h>

#include <openssl/ssl.h>

#define TLSCLIENT_MAGIC		0x7c1c5e55U

/* What tlsclient_ctx_new() makes a context with. */
struct tlsclient_conf {
	const char	*cert;		/* client certificate (chain), or NULL */
	const char	*key;		/* its key, with cert */
	const char	*pass;		/* the key's pass phrase, or NULL */
	const char	*ca;		/* verify the server against it, or NULL */
	int		 read_ahead;	/* one read() for every record there */
	int		 release_buffers; /* idle sessions hold no buffers */
};

/* Socket options of tlsclient_connect(). */
struct tlsclient_sock {
	int		 rcvbuf;	/* SO_RCVBUF, 0: the kernel's default */
	int		 nodelay;	/* TCP_NODELAY */
	const struct sockaddr *bind;	/* local address (port 0), or NULL */
	socklen_t	 bind_len;
};

/*
 * One connection, embedded in the caller's own.  tlsclient_init() before
 * the first use; tlsclient_close() ends a connection and leaves the struct
 * ready for the next one (the kept ticket stays); tlsclient_free() also
 * drops the ticket.
 */
struct tlsclient {
	unsigned	 magic;
	int		 fd;
	SSL		*ssl;		/* NULL: plain TCP */
	int		 ticket;	/* the server sent a session ticket */
	int		 keep_ticket;	/* keep the newest one in sess */
	SSL_SESSION	*sess;		/* owned: offered by tlsclient_tls() */
};

enum tlsclient_io {
	TLSCLIENT_OK,		/* done, or some bytes moved */
	TLSCLIENT_WANT_READ,	/* call again once the socket is readable */
	TLSCLIENT_WANT_WRITE,	/* call again once it is writable */
	TLSCLIENT_CLOSED	/* closed by the server, or failed: see reason */
};

SSL_CTX	*tlsclient_ctx_new(const struct tlsclient_conf *, char *, size_t);
int	 tlsclient_hostport(char *, char **, char **);
void	 tlsclient_init(struct tlsclient *, int);
int	 tlsclient_connect(struct tlsclient *, const struct addrinfo *,
	    const struct tlsclient_sock *, const char **);
int	 tlsclient_connected(struct tlsclient *);
int	 tlsclient_tls(struct tlsclient *, SSL_CTX *, char *);
enum tlsclient_io tlsclient_handshake(struct tlsclient *, char *, size_t);
enum tlsclient_io tlsclient_read(struct tlsclient *, void *, size_t,
	    size_t *, char *, size_t);
enum tlsclient_io tlsclient_write(struct tlsclient *, const void *, size_t,
	    size_t *, char *, size_t);
void	 tlsclient_close(struct tlsclient *, int);
void	 tlsclient_free(struct tlsclient *);

#endif /* TLSCLIENT_H */
