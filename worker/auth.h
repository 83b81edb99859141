/*
 * The users file in a worker (docs/groups.md): who a session's certificate
 * names, and that user's groups, at the handshake and at every reload.
 * The set is the supervisor's (inherited at fork, then IPC_MSG_USERS);
 * the routing by groups is session.c's and deliver.c's.
 */
#ifndef TAKD_WORKER_AUTH_H
#define TAKD_WORKER_AUTH_H

#include <stdint.h>

#include "worker/worker_int.h"

/*
 * A TLS session just established: give it its user's groups, if its
 * certificate names a user of the file (session_set_groups()); before
 * session_start(), which falls back to the other sources.
 */
void	 auth_session(struct worker *, struct conn *);
/*
 * A new generation from the supervisor (fd: users_memfd()): parse it, make
 * it the set of the handshakes to come, give every live session its user's
 * groups now, close those of users deleted, and answer IPC_MSG_USERS_ACK.
 * An invalid set changes nothing (the ack says why).
 */
void	 auth_install(struct worker *, int fd, uint32_t gen);
/*
 * IPC_MSG_CHANNELS: user's channels changed (in LMDB); give its live
 * sessions their groups under them now, with no t-x-g-c to the session of
 * uid (it asked), and answer IPC_MSG_CHANNELS_ACK gen.
 */
void	 auth_channels(struct worker *, uint32_t gen, const char *user,
	    const char *uid);
void	 auth_free(struct worker *);

#endif
