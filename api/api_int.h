/*
 * The api process's state, shared by its modules (api.c: the loop and the
 * control channel; http.c and conn.c: the HTTP framework; marti.c,
 * enroll.c, metrics.c: what the listeners serve).  One struct api per
 * process.
 */
#ifndef TAKD_API_INT_H
#define TAKD_API_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/api.h"
#include "ipc/ipc.h"
#include "shared/counters.h"

#define API_MAGIC		0x41504950u	/* "APIP" */
#define API_TICK_MS		200		/* deadlines, parent check */
/* The metrics listener: its promises from before it moved here. */
#define API_METRICS_TIMEOUT_MS	5000	/* a request after the accept */
#define API_METRICS_MAX_CONNS	16
#define API_METRICS_PER_ADDRESS	8

enum api_state {
	API_RUN,
	API_DRAIN,		/* no new connection; exit when none is left */
	API_EXIT
};

struct event;
struct event_base;
struct api_channels;
struct api_http;
struct api_metrics;
struct channels_off;
struct console;
struct console_data;
struct console_enroll;
struct console_ops;
struct console_users;
struct crlset;
struct enroll;
struct pkgstore;
struct store;
struct users;

struct api {
	unsigned		 magic;
	const struct api_args	*args;
	const struct config	*cfg;
	struct event_base	*base;
	struct ipc_chan		*ctl;
	struct event		*ctl_ev;	/* readable, persistent */
	struct event		*ctl_wev;	/* writable, while queued */
	int			 sigfd;
	struct event		*sig_ev;
	struct event		*tick_ev;
	enum api_state		 state;
	int			 exit_status;
	int64_t			 drain_deadline_ms;
	pid_t			 ppid;
	struct counters		 cnt;
	/* The CRL set the verify callback checks (NULL: crl_check off). */
	struct crlset		*crl;
	uint32_t		 crl_generation;
	/*
	 * The users file in force: the groups of a user, and its password
	 * hash when this process serves enrollment (HTTP Basic).
	 */
	struct users		*users;
	uint32_t		 users_generation;
	/* The registry (read only): clientEndPoints.  NULL: unavailable. */
	struct store		*store;
	struct api_http		*http[API_PORT_MAX];
	struct api_metrics	*metrics;	/* scrapes waiting (metrics.c) */
	struct api_channels	*channels;	/* PUTs waiting (channels.c) */
	/* Enrollment on 8446 (enroll_routes.c); NULL: not served. */
	struct enroll		*enroll;
	/* The data package store (datapkg.c); NULL: answered 503. */
	struct pkgstore		*pkgs;
	/* The admin console on 8443 (console*.c); NULL: not served. */
	struct console		*console;
	struct console_data	*console_data;
	struct console_ops	*console_ops;
	struct console_enroll	*console_enroll;
	struct console_users	*console_users;
};

/* api.c */
/* Stop the loop: exit with status, saying why. */
void	 api_stop(struct api *, int status, const char *why);
/* A frame to the supervisor; a failure other than a full queue stops. */
void	 api_ctl_send(struct api *, uint32_t type, uint32_t gen,
	    const void *payload, size_t len);

/* metrics.c: /metrics on [metrics] listen. */
int	 api_metrics_init(struct api *, struct api_http *);
/* IPC_MSG_METRICS_REP: fd -1 when the supervisor could make none. */
void	 api_metrics_reply(struct api *, uint32_t id, uint32_t status,
	    int fd);
void	 api_metrics_free(struct api *);

/* marti.c: the Marti API on [api] listen (8443). */
int	 api_marti_init(struct api *, struct api_http *);

/* channels.c: PUT /Marti/api/groups/active (8443; marti.c calls init). */
int	 api_channels_init(struct api *, struct api_http *);
/*
 * IPC_MSG_CHANNELS_ACK: the supervisor recorded the choice (status 0) and
 * acked workers put it in force (unanswered did not answer), changing the
 * groups of changed live sessions.
 */
void	 api_channels_reply(struct api *, uint32_t id, uint32_t status,
	    uint32_t acked, uint32_t unanswered, uint32_t changed);
/*
 * The channels user turned off, from LMDB: 0 (off->n 0 for none), -1
 * logged when they cannot be read (off->n 0).
 */
int	 api_channels_off(struct api *, const char *user,
	    struct channels_off *off);
void	 api_channels_free(struct api *);

/* enroll.c: enrollment on [api] enroll_listen (8446). */
int	 api_enroll_init(struct api *, struct api_http *);
/*
 * A new channel to takd-signer (IPC_MSG_SIGNER_FD; takes fd): signings in
 * flight on the old one are answered 503.
 */
void	 api_enroll_signer(struct api *, int fd);
void	 api_enroll_free(struct api *);

#endif
