/*
 * takhttp (tests/load/takhttp.c): what its modes share.  takhttp.c holds
 * the connections, the reader of the replies, the figures and the modes
 * status, get and enroll; takhttp_pkg.c the mode packages.
 */
#ifndef TAKD_TESTS_LOAD_TAKHTTP_H
#define TAKD_TESTS_LOAD_TAKHTTP_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define TH_MAX_PIDS		8
#define TH_MAX_USERS		64

struct th_pid {
	char		 name[32];
	pid_t		 pid;
	double		 cpu0;
	double		 cpu1;
};

struct th_opts {
	const char	*mode;
	char		*host;
	char		*port;
	const char	*ca;
	const char	*cert;
	const char	*key;
	const char	*method;
	const char	*path;
	const char	*o;
	const char	*ou;
	const char	*file;		/* packages: what each upload sends */
	unsigned	 requests;
	unsigned	 expect;
	double		 wait;
	struct th_pid	 pids[TH_MAX_PIDS];
	unsigned	 npids;
	char		*users[TH_MAX_USERS];	/* NAME:PASSWORD */
	unsigned	 nusers;
};

/* One connection, and what a reply left in it. */
struct th_conn {
	int		 fd;
	SSL		*ssl;
	char		*rx;
	size_t		 rx_len;
	size_t		 rx_cap;
};

/* One reply. */
struct th_reply {
	int		 status;
	bool		 close;		/* Connection: close */
	size_t		 head_len;
	char		*body;		/* NUL-terminated, owned */
	size_t		 body_len;
};

void	 th_fail(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* A new connection with a full handshake; -1 with why. */
int	 th_connect(struct th_conn *, char *why, size_t);
void	 th_close(struct th_conn *);
/* Write buf[0..len) whole; -1 with why. */
int	 th_write(struct th_conn *, const void *buf, size_t len, char *why,
	    size_t);
/*
 * Read a reply's head into r (status, close, head_len) and its
 * Content-Length into *clen; the bytes after the head stay in c->rx from
 * c->rx[r->head_len] on.  -1 with why (no Content-Length is an error).
 */
int	 th_head(struct th_conn *, struct th_reply *r, size_t *clen,
	    char *why, size_t);
/*
 * Send req[0..len) (len may be 0) and read its reply into r, the body
 * whole (at most 256 MiB); -1 with why when the connection failed or the
 * reply cannot be read.
 */
int	 th_exchange(struct th_conn *, const char *req, size_t len,
	    struct th_reply *r, char *why, size_t);
void	 th_reply_free(struct th_reply *);

int	 th_cmp_i64(const void *, const void *);
/* The q quantile of v[0..n) (sorted), in ms; nearest rank. */
double	 th_pct(const int64_t *v, size_t n, double q);
/* The CPU time of every --pid, at the start (end false) or the end. */
void	 th_cpu_mark(struct th_opts *, bool end);

/* takhttp_pkg.c: the mode packages. */
int	 th_packages(struct th_opts *);

#endif
