/*
 * The supervisor's state, shared by its modules (main, proc, admin, crl,
 * listen, privdrop).  There is exactly one struct sup per takd instance.
 */
#ifndef TAKD_SUP_H
#define TAKD_SUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/ssl.h>

#include "api/api.h"
#include "cluster/cluster.h"
#include "ipc/ipc_msg.h"
#include "shared/config.h"
#include "shared/counters.h"
#include "shared/grouplist.h"
#include "shared/tlsctx.h"
#include "supervisor/signer_proc.h"

#define SUP_MAGIC		0x53555056u	/* "SUPV" */
/*
 * The api process's slot (sup->api): its id, TAKD_API_SLOT (api/api.h), is
 * one past the workers', so that rounds (round.c) index it like a
 * worker's; it is in no slots[].
 */
#define TAKD_SLOT_IDS		(TAKD_API_SLOT + 1)
/* The api process's listeners: [api] listen, enroll_listen, [metrics]. */
#define TAKD_API_LISTEN_MAX	12
#define TAKD_PIDFILE		"takd.pid"
#define TAKD_STORE_DIR		"store"	/* in state_dir: the service user's */

/* What an epoll event belongs to. */
enum sup_ev_kind {
	SUP_EV_SIGNAL,
	SUP_EV_ADMIN_LISTEN,
	SUP_EV_ADMIN_CLIENT,
	SUP_EV_WORKER,
	SUP_EV_CRL_WATCH,
	SUP_EV_CRL_PARSER,	/* the CRL parser's pidfd (crl.c) */
	SUP_EV_CRL_FETCH,	/* takd-crlfetch's pidfd (crl_fetch.c) */
	SUP_EV_OCSP_FETCH,	/* takd-ocspfetch's pidfd (ocsp.c) */
	SUP_EV_SIGNER,		/* takd-signer's revocation channel */
	SUP_EV_USERSD		/* takd-usersd's channel (usersd_proc.c) */
};

struct sup_ev {
	enum sup_ev_kind kind;
	void		*ptr;
};

enum slot_state {
	SLOT_EMPTY,		/* never started */
	SLOT_RUNNING,
	SLOT_RESPAWN_WAIT,	/* died; respawn at respawn_at */
	SLOT_GAVE_UP,		/* exited 2: not respawned */
	SLOT_STOPPED		/* exited during shutdown */
};

struct proc_slot {
	unsigned	 id;
	enum slot_state	 state;
	pid_t		 pid;
	struct ipc_chan	*chan;
	struct sup_ev	 ev;
	time_t		 started;	/* wall clock, for status */
	int64_t		 started_ms;	/* monotonic, for backoff */
	int64_t		 respawn_at_ms;
	unsigned	 backoff_ms;
	unsigned	 restarts;
	int		 last_status;	/* waitpid status of the last exit */
	bool		 hello;		/* this process said IPC_MSG_HELLO */
	struct counters	 stats;		/* as last reported (STATUS_REP) */
	/* Its groups and their sessions, as last reported (allocated). */
	struct grouplist_count *groups;
	size_t		 n_groups;
};

/*
 * One configured address.  A workers' listener ([tls], [tcp]) is a
 * SO_REUSEPORT group of one socket per worker slot, slot_fds[slot], which
 * the supervisor holds from start to stop and never accepts on; fd is the
 * first of them still open (-1 once all are closed).  The api process's
 * listeners ([api], [metrics]) are one socket, fd, and no slot_fds: the
 * supervisor holds them too and never accepts on them.
 */
struct listener {
	const char	*proto;		/* "tls" or "tcp" */
	int		 fd;
	int		*slot_fds;	/* n_slot_fds sockets, or NULL */
	unsigned	 n_slot_fds;
	char		 address[64];
	unsigned	 port;
};

/* The process that reads a new CRL (crl.c), while one runs. */
struct crl_parser {
	int		 pidfd;		/* -1: none running; readable: exited */
	int		 res_fd;	/* read end of its result pipe */
	int		 set_fd;	/* the memfd it writes the set into */
	struct sup_ev	 ev;
	bool		 polled;	/* pidfd is in the epoll set */
	int64_t		 started_ms;
	int64_t		 deadline_ms;
	int64_t		 number;	/* the cRLNumber it read, -1 none */
};

struct crlset;
struct crl_fetch;

#define CRL_NUMBER_MAX		80	/* hex of a CRL number, NUL included */

struct crl_state {
	struct crlset	*crl;		/* in force; NULL: crl_check = off */
	int		 set_fd;	/* its sealed memfd, for the workers */
	struct crl_info	 info;
	int		 dirfd;		/* the CRL's directory (trust.h) */
	char		 name[256];	/* file name inside dirfd */
	char		 last_error[512];
	time_t		 last_error_at;
	int		 watch_fd;	/* inotify, [tls] crl_watch = on */
	struct sup_ev	 watch_ev;
	int64_t		 watch_reload_ms; /* reload due (debounced), or 0 */
	time_t		 loaded_at;
	struct crl_parser parser;
	/*
	 * The CRL number in force, in hex ("" none or unknown), and a CRL
	 * another node accepted (docs/cluster.md, "Revocation"), read by
	 * the next reload instead of the file: taken only when its number
	 * is above the one in force.
	 */
	char		 number[CRL_NUMBER_MAX];
	uint8_t		*remote;
	size_t		 remote_len;
	bool		 parsing_remote;	/* this parse reads remote */
	struct crl_fetch *fetch;	/* [tls] crl_url (crl_fetch.c) */
};

struct users;

/* The users file in force (userfile.c). */
struct users_state {
	struct users	*set;		/* no password hashes */
	/*
	 * With enrollment on (api_proc_enrolls()), the same generation with
	 * its password hashes, for the api process only (HTTP Basic on
	 * 8446): the file's text in a sealed memfd, never parsed here.  -1
	 * otherwise.
	 */
	int		 api_fd;
	bool		 hashes;	/* api_fd is kept */
	uint32_t	 generation;	/* 1 at start, +1 a reload that read it */
	int		 dirfd;		/* the file's directory (trust.h) */
	char		 name[256];	/* file name inside dirfd */
	bool		 missing;	/* no file: the empty set */
	time_t		 loaded_at;
	char		 last_error[512];
	time_t		 last_error_at;
};

struct admin_client;
struct ocsp_state;
struct console_ops;
struct usersd_proc;
struct reload;
struct round;
struct store;
struct ticket_ring;

struct sup {
	unsigned	 magic;
	struct config	*cfg;
	bool		 foreground;
	int		 epfd;
	int		 sigfd;
	struct sup_ev	 sig_ev;
	int		 admin_fd;
	struct sup_ev	 admin_ev;
	int		 run_dirfd;	/* run_dir: pidfile, unlinkat at exit */
	bool		 dropped;	/* root is gone: run_dir is not ours */
	char		 user[64];	/* who the processes run as */
	time_t		 started;

	SSL_CTX		*ssl_ctx;
	STACK_OF(X509)	*ca;
	struct crl_state crl;
	struct users_state users;

	struct listener	 listeners[2 * TAKD_MAX_LISTEN];
	size_t		 n_listeners;

	struct proc_slot slots[TAKD_MAX_WORKERS];
	unsigned	 n_slots;

	/*
	 * The api process (supervisor/api_proc.c, api/): runs when [api]
	 * enabled or [metrics] listen.  Its listeners are bound here as
	 * root, one socket each, and handed to it at every fork.
	 */
	bool		 api_run;
	struct proc_slot api;
	struct listener	 api_lis[TAKD_API_LISTEN_MAX];
	size_t		 n_api_lis;
	/*
	 * takd-signer (signer_proc.h), the key holder of enrollment: on when
	 * the api process serves [api] enroll_listen.  One signer per api
	 * process: started before each fork of it (signer_fd is the api's
	 * end of their channel until the fork took it) and again after a
	 * death of its own (IPC_MSG_SIGNER_FD to the running api).
	 */
	bool		 signer_on;
	struct signer_proc signer;
	int		 signer_fd;

	/*
	 * The cluster process (supervisor/cluster_proc.c, cluster/): runs
	 * when [cluster] nats is set; its last report (cluster/cstatus.h).
	 */
	bool		 cluster_run;
	struct proc_slot cluster;
	struct cluster_secrets cluster_secrets;
	uint64_t	 cluster_instance;
	struct cluster_status *cluster_status;
	int64_t		 cluster_status_ms;

	bool		 stopping;
	int64_t		 stop_deadline_ms;

	/* READY=1 at start: sent, or due at ready_deadline_ms (proc.c). */
	bool		 ready;
	int64_t		 ready_deadline_ms;

	struct admin_client *admin_clients;
	uint64_t	 admin_refused;		/* peer not allowed, or no room */
	uint64_t	 admin_idle_closed;	/* idle, closed for a newcomer */
	uint32_t	 next_req_id;
	struct round	*rounds;	/* requests to the workers (round.c) */
	struct console_ops *cops;	/* the console's revocations */
	struct usersd_proc *usersd;	/* the console's user changes */
	struct reload	*reload;	/* the reload round (reload.c) */

	struct store	*store;		/* shared state (state.c) */
	struct ticket_ring *tickets;	/* session ticket keys (ticket.c) */
	struct ocsp_state *ocsp;	/* [ocsp] staple (ocsp.c) */
	int64_t		 state_purge_ms;	/* next SA purge, monotonic */
};


/* mesh.c: connect a worker just spawned to every other running worker. */
void	 mesh_connect(struct sup *, struct proc_slot *);

#endif
