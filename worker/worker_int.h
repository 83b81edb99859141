/*
 * State of one worker process, shared by the worker modules (worker.c: loop,
 * signals, drain; accept.c: listeners; conn.c: sessions; ctl.c: control
 * channel; tls.c: OpenSSL calls).  There is exactly one struct worker per
 * process and nothing outside worker/ sees it.
 */
#ifndef TAKD_WORKER_INT_H
#define TAKD_WORKER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "shared/config.h"
#include "shared/counters.h"
#include "ipc/ipc_msg.h"
#include "shared/log.h"
#include "worker/admit.h"
#include "worker/budget.h"
#include "worker/receivers.h"
#include "worker/worker.h"

#define WORKER_MAGIC		0x574b5253u	/* "WKRS" */
#define ACCEPTOR_MAGIC		0x41434350u	/* "ACCP" */

/*
 * epoll data of the two singletons.  Everything else registered in the epoll
 * set is a heap pointer to a struct that starts with its magic, and no heap
 * pointer is this small.
 */
#define WORKER_EV_SIGNAL	1
#define WORKER_EV_CTL		2

/* Upper bound of one epoll sleep, so that getppid() is rechecked this often. */
#define WORKER_TICK_MS		1000

struct conn;
struct groups;
struct ipc_buf;
struct registry;
TAILQ_HEAD(conn_list, conn);

/* One inherited listening socket. */
struct acceptor {
	unsigned	 magic;
	int		 fd;		/* -1 once closed (drain) */
	bool		 in_epoll;
	char		 name[64];	/* "ADDR:PORT" it listens on */
	bool		 plain;		/* [tcp] listener: CoT without TLS */
	/*
	 * Every session of this listener is in this group, both halves
	 * ([tcp] group; NULL or "": none): the first source of a session's
	 * groups (docs/groups.md).
	 */
	const char	*group;
	struct log_ratelimit rl;	/* handshake failures and timeouts */
};

enum worker_state {
	WORKER_RUN,
	WORKER_DRAIN,		/* listeners closed, sessions closing */
	WORKER_EXIT
};

struct worker {
	unsigned	 magic;
	const struct worker_args *args;
	const struct config *cfg;
	SSL_CTX		*ctx;
	enum worker_state state;
	int		 exit_status;
	int64_t		 drain_deadline_ms;
	pid_t		 ppid;		/* the supervisor, at start */
	int64_t		 parent_check_ms; /* next look at getppid() */

	int		 epfd;
	int		 sigfd;
	int		 spare_fd;	/* /dev/null, given up on EMFILE */

	struct ipc_chan	*ctl;
	bool		 ctl_out;	/* EPOLLOUT armed on the channel */
	struct fanout	*fanout;	/* the mesh to the other workers (fanout.c) */

	struct acceptor	*acceptors;
	size_t		 n_acceptors;
	bool		 accept_paused;
	int64_t		 accept_resume_ms;

	struct conn_list handshaking;	/* ordered by deadline */
	struct admit	 admit;		/* handshake limits (admit.h) */
	struct conn_list live;		/* established and closing */
	struct conn_list ready;		/* to run again without an fd event */
	struct conn_list dead;		/* closed, freed at the end of the turn */
	struct conn_list outlist;	/* sessions with output to write */
	struct conn_list written;	/* within [cot] flush_delay, oldest first */
	struct conn_list sawait;	/* only SA queued, by deadline */
	int64_t		 turn_ms;	/* when this turn's epoll_wait returned */
	uint64_t	 next_conn_id;

	struct budget_mem mem;		/* buffers held for sessions (budget.c) */
	struct registry	*reg;		/* local index and LMDB (registry.c) */
	struct groups	*groups;	/* group names and ids (groups.c) */
	uint64_t	 deliver_seq;	/* marks of directed deliveries */
	struct receivers rcv;		/* broadcast receivers (receivers.c) */
	struct fileshare *fileshare;	/* b-f-t-r to this server (fileshare.h) */
	int64_t		 next_sweep_ms;	/* idle and unclosed-event checks */

	uint32_t	 crl_generation;
	struct crlset	*crl;		/* in force; NULL when crl_check = off */
	struct users	*users;		/* the users file in force (auth.c) */
	uint32_t	 users_generation;
	struct counters	 cnt;	/* shared/counters.h */
	struct log_ratelimit rl_full;
	struct log_ratelimit rl_emfile;
	struct log_ratelimit rl_accept;
	struct log_ratelimit rl_admit;	/* max_handshakes_per_address */
	struct log_ratelimit rl_hs;	/* max_handshakes */
	struct log_ratelimit rl_cert;	/* max_sessions_per_cert */
};

/* worker.c */
/* Stop accepting and close sessions gracefully; exit by now + ms. */
void	 worker_drain(struct worker *, unsigned ms, const char *why);
/* Close everything at once and leave the loop with status. */
void	 worker_stop(struct worker *, int status, const char *why);

/* accept.c */
int	 accept_init(struct worker *);
void	 accept_handle(struct worker *, struct acceptor *);
void	 accept_close_all(struct worker *);
/* Stop accepting until ms, e.g. when even the spare descriptor is gone. */
void	 accept_pause(struct worker *, int64_t until_ms);
void	 accept_resume(struct worker *);

/* ctl.c */
int	 ctl_init(struct worker *);
void	 ctl_handle(struct worker *, uint32_t events);
/*
 * IPC_MSG_HELLO, once initialization is done: the supervisor tells the
 * service manager that takd is ready once every worker said hello, so it
 * must mean that the listeners are armed and the store is open.  A failure
 * stops the worker.
 */
void	 ctl_hello(struct worker *);
/*
 * Send a frame to the supervisor (gen in the header, b the payload or
 * NULL).  A full queue drops it with a log line; any other failure means
 * the supervisor is gone and stops the worker.
 */
void	 ctl_send(struct worker *, uint32_t type, uint32_t gen,
	    const struct ipc_buf *);
/* Before each sleep: arm or disarm EPOLLOUT according to the out-queue. */
void	 ctl_update_interest(struct worker *);
void	 ctl_free(struct worker *);

#endif
