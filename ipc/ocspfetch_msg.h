/*
 * The supervisor -> takd-ocspfetch interface (fetch/ocspfetch.c,
 * supervisor/ocsp.c; docs/revocation.md, "OCSP stapling").
 *
 * One process per request, exec'ed like takd-crlfetch (ipc/crlfetch_msg.h):
 * through a descriptor of its binary opened before the privilege drop, as
 * the service user, with an empty environment and only these descriptors:
 *
 *	OCSPFETCH_FD_RES	the write end of a pipe: one struct ocspfetch_res
 *	OCSPFETCH_FD_CERTS	a memfd, PEM: the server certificate, then its
 *				issuer, then the CA certificates ([tls] ca)
 *	OCSPFETCH_FD_OUT	an empty memfd: the verified OCSPResponse, DER
 *
 * Command line: takd-ocspfetch -t TIMEOUT_MS -u THIS_UPDATE URL, where
 * THIS_UPDATE is the thisUpdate of the response in force (0: none): an
 * older answer is refused, so that a replayed response cannot take the
 * place of a newer one.
 *
 * The supervisor trusts none of it beyond what it checks: the result's
 * fields are bounded and its err NUL-terminated there, the response's
 * size is capped at OCSPFETCH_RESP_MAX, and the workers staple it only
 * until the next_update said here.
 */
#ifndef TAKD_OCSPFETCH_MSG_H
#define TAKD_OCSPFETCH_MSG_H

#include <limits.h>
#include <stdint.h>

#define OCSPFETCH_EXE		"takd-ocspfetch"
#define OCSPFETCH_MAGIC		0x5053434fu	/* "OCSP" */
#define OCSPFETCH_FD_RES	3
#define OCSPFETCH_FD_CERTS	4
#define OCSPFETCH_FD_OUT	5
#define OCSPFETCH_FD_EXE	6	/* the binary itself: close-on-exec */
/* A response travels to the workers in one IPC frame (64 KiB). */
#define OCSPFETCH_RESP_MAX	(32 * 1024)
/* Clock skew allowed on thisUpdate (OCSP_check_validity). */
#define OCSPFETCH_LEEWAY_S	300

enum ocspfetch_status {
	OCSPFETCH_GOOD = 0,	/* a verified response in OCSPFETCH_FD_OUT */
	OCSPFETCH_REVOKED = 1,	/* the same, saying revoked */
	OCSPFETCH_UNKNOWN = 2,	/* verified, but "unknown": not stapled */
	OCSPFETCH_FAILED = 3	/* err says why */
};

struct ocspfetch_res {
	uint32_t	 magic;
	uint32_t	 status;	/* enum ocspfetch_status */
	int32_t		 reason;	/* revocation reason, -1: none */
	uint32_t	 zero;
	int64_t		 this_update;
	int64_t		 next_update;	/* 0: the response has none */
	int64_t		 revoked_at;	/* 0: not revoked */
	uint64_t	 bytes;		/* DER in OCSPFETCH_FD_OUT */
	char		 err[1024];
};

_Static_assert(sizeof(struct ocspfetch_res) <= PIPE_BUF, "one write");

#endif
