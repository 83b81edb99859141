/*
 * The supervisor -> takd-crlfetch interface (fetch/crlfetch.c,
 * supervisor/crl_fetch.c; docs/revocation.md, "CRL from a URL").
 *
 * One process per fetch, exec'ed by the supervisor through a descriptor
 * of its binary opened before the privilege drop, as the service user,
 * with an empty environment and only these descriptors:
 *
 *	CRLFETCH_FD_RES	the write end of a pipe: one struct crlfetch_res
 *	CRLFETCH_FD_CA	a memfd: the CA certificates, PEM ([tls] ca)
 *	CRLFETCH_FD_OUT	an empty memfd: the verified CRL, DER, on success
 *
 * Command line: takd-crlfetch -t TIMEOUT_MS -m MAX_BYTES -n NUMBER
 * -u LAST_UPDATE URL...  where NUMBER (-1: none) and LAST_UPDATE are the
 * CRL in force's, for the order check (tlsctx_crl_cmp).  The URLs are
 * tried in order until one gives a CRL that passes every check.
 *
 * The supervisor trusts none of it: the result's fields are bounded and
 * its err NUL-terminated there, and the CRL is parsed and verified again
 * by the CRL parser process (supervisor/crl.c) before it is used.
 */
#ifndef TAKD_CRLFETCH_MSG_H
#define TAKD_CRLFETCH_MSG_H

#include <limits.h>
#include <stdint.h>

#define CRLFETCH_EXE		"takd-crlfetch"
#define CRLFETCH_MAGIC		0x46435243u	/* "CRCF" */
#define CRLFETCH_FD_RES		3
#define CRLFETCH_FD_CA		4
#define CRLFETCH_FD_OUT		5
#define CRLFETCH_FD_EXE		6	/* the binary itself: close-on-exec */
/* Redirects followed, each to the scheme of the URL configured. */
#define CRLFETCH_MAX_REDIRS	3

enum crlfetch_status {
	CRLFETCH_NEW = 0,	/* a newer CRL is in CRLFETCH_FD_OUT */
	CRLFETCH_SAME = 1,	/* the CRL in force again: nothing to do */
	CRLFETCH_FAILED = 2	/* err says why for every URL */
};

struct crlfetch_res {
	uint32_t	 magic;
	uint32_t	 status;	/* enum crlfetch_status */
	uint32_t	 url;		/* index of the URL that answered */
	uint32_t	 zero;
	int64_t		 number;	/* the fetched CRL's, -1: none */
	int64_t		 last_update;
	int64_t		 next_update;
	uint64_t	 entries;
	uint64_t	 bytes;		/* DER in CRLFETCH_FD_OUT */
	char		 err[2048];
};

_Static_assert(sizeof(struct crlfetch_res) <= PIPE_BUF, "one write");

#endif
