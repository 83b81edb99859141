/*
 * The OCSP staple of the server certificate in a worker ([ocsp] staple,
 * docs/revocation.md "OCSP stapling"): the response the supervisor
 * verified and pushed (IPC_MSG_OCSP_STAPLE, supervisor/ocsp.c), sent in
 * the handshake of every client that asks for it (status_request) until
 * its nextUpdate, never after.
 */
#ifndef TAKD_WORKER_STAPLE_H
#define TAKD_WORKER_STAPLE_H

#include <stdint.h>

#include <openssl/ssl.h>

#include "ipc/ipc.h"

/* Check an IPC_MSG_OCSP_STAPLE frame: 0 when well formed. */
int	 staple_check(const struct ipc_msg *);
/*
 * Make the frame's response the staple of ctx's handshakes from now on
 * (the status callback is set the first time); stapled counts them.
 * The frame was checked.  0, or -1 when the callback cannot be set.
 */
int	 staple_install(SSL_CTX *, const struct ipc_msg *, uint64_t *stapled);

#endif
