/*
 * The api process <-> signer channel (docs/security.md, "The signer"): one
 * SOCK_SEQPACKET socketpair, the framing of ipc.h (one frame a record),
 * two message types of ipc_msg.h:
 *
 *   IPC_MSG_SIGN_REQ  api -> signer
 *	u32 id			chosen by the api, echoed in the reply
 *	str user		the authenticated user: a users-file name
 *	str client_uid		ATAK's clientUid: "" or 1..SIGN_UID_MAX
 *				bytes of printable ASCII (0x21..0x7e)
 *	bytes csr		DER, 1..SIGN_CSR_MAX bytes
 *   IPC_MSG_SIGN_REP  signer -> api
 *	u32 id
 *	u32 status		enum sign_status
 *	str reason		"" when ok, else 1..SIGN_REASON_MAX - 1
 *				bytes of printable ASCII
 *	bytes cert		ok: the issued certificate, DER; else empty
 *	u32 n			ok: 1..SIGN_CHAIN_MAX; else 0
 *	n x bytes		the CA chain, DER, issuer first
 *
 * Decoding is strict: every length is checked against what is left and
 * against its own cap, strings carry no NUL and only the characters
 * above, nothing may follow the last field, and the combinations are
 * checked (an ok reply has a certificate and a chain, a refusal has a
 * reason and neither).  A frame that fails is malformed: its owner closes
 * the channel.  Decoded byte fields borrow the frame's payload.
 */
#ifndef TAKD_SIGN_MSG_H
#define TAKD_SIGN_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "ipc/ipc.h"
#include "shared/csr_check.h"

#define SIGN_USER_MAX		64	/* bytes with the NUL: USERS_NAME_MAX */
#define SIGN_UID_MAX		128	/* bytes of a clientUid */
#define SIGN_REASON_MAX		256	/* bytes with the NUL */
#define SIGN_CSR_MAX		CSR_CHECK_DER_MAX
#define SIGN_CERT_MAX		8192	/* DER of one certificate */
#define SIGN_CHAIN_MAX		4

/*
 * Descriptors takd-signer finds open when it starts (signer/signer.c,
 * supervisor/signer_proc.c): everything it may use, opened by root before
 * the privilege drop.
 */
#define SIGN_FD_SOCK		3	/* the channel to the api */
#define SIGN_FD_CA		4	/* [pki] dir/ca.pem, read only */
#define SIGN_FD_KEY		5	/* [pki] dir/ca.key, read only */
#define SIGN_FD_PKIDIR		6	/* [pki] dir: flock with takctl */
#define SIGN_FD_JOURNAL		7	/* [pki] dir/enrolled.txt, O_APPEND */
#define SIGN_FD_USERSDIR	8	/* the users file's directory */
#define SIGN_FD_LOG		9	/* the log file, with "-l file" */
/* Revocation for the admin console (docs/console.md): */
#define SIGN_FD_CTL		10	/* the channel to the supervisor */
#define SIGN_FD_REVJOURNAL	11	/* [pki] dir/revoked.txt, append */
#define SIGN_FD_CRLDIR		12	/* [tls] crl's directory */
#define SIGN_FD_STOREDIR	13	/* STATE_DIR/store: the CRL copy */
#define SIGN_FD_LAST		SIGN_FD_STOREDIR

#define SIGN_SERIAL_MAX		41	/* hex of 20 octets, the NUL */
#define SIGN_REVJOURNAL_NAME	"revoked.txt"	/* pki.h PKI_REVJOURNAL */
#define SIGN_CRL_COPY_NAME	"crl-fetched.crl" /* crl_fetch.h's copy */
#define SIGN_CRL_MAX		(64u * 1024 * 1024)	/* DER, crl.h's */

enum sign_status {
	SIGN_OK = 0,		/* signed: cert and chain */
	SIGN_REFUSED = 1,	/* the request breaks the policy: a 4xx */
	SIGN_BUSY = 2,		/* rate limit: retry later (503) */
	SIGN_ERROR = 3,		/* the signer failed (500) */
	SIGN_STATUS_MAX
};

struct sign_req {
	uint32_t	 id;
	char		 user[SIGN_USER_MAX];
	char		 client_uid[SIGN_UID_MAX + 1];
	const uint8_t	*csr;		/* borrowed */
	size_t		 csr_len;
};

struct sign_rep {
	uint32_t	 id;
	enum sign_status status;
	char		 reason[SIGN_REASON_MAX];
	const uint8_t	*cert;		/* borrowed */
	size_t		 cert_len;
	const uint8_t	*chain[SIGN_CHAIN_MAX];	/* borrowed */
	size_t		 chain_len[SIGN_CHAIN_MAX];
	size_t		 n_chain;
};

/*
 * The supervisor <-> signer channel (SIGN_FD_CTL): revoke a certificate
 * for the admin console.
 *
 *   IPC_MSG_SIGN_REVOKE_REQ  supervisor -> signer
 *	u32 id, str serial (upper-case hex, 1..40 digits), u32 reason (a
 *	CRL_REASON_* code, or 0xffffffff for none), str admin (a users-file
 *	name: the console user, for the journal and the log)
 *   IPC_MSG_SIGN_REVOKE_REP  signer -> supervisor
 *	u32 id, u32 status (enum sign_status), str reason ("" when ok),
 *	u64 the new CRL's number, u32 its entries; ok: SCM_RIGHTS fd = a
 *	sealed memfd of the new CRL (DER), signed by the CA
 */
struct sign_revoke_req {
	uint32_t	 id;
	char		 serial[SIGN_SERIAL_MAX];
	int		 reason;	/* CRL_REASON_*, -1 none */
	char		 admin[SIGN_USER_MAX];
};

struct sign_revoke_rep {
	uint32_t	 id;
	enum sign_status status;
	char		 reason[SIGN_REASON_MAX];
	uint64_t	 number;
	uint32_t	 entries;
};

/* Whether s is a serial of the channel's form. */
int	 sign_serial_ok(const char *s);
int	 sign_revoke_req_encode(const struct sign_revoke_req *,
	    struct ipc_buf *);
int	 sign_revoke_req_decode(const uint8_t *p, size_t len,
	    struct sign_revoke_req *, char *why, size_t whylen);
int	 sign_revoke_rep_encode(const struct sign_revoke_rep *,
	    struct ipc_buf *);
int	 sign_revoke_rep_decode(const uint8_t *p, size_t len,
	    struct sign_revoke_rep *, char *why, size_t whylen);

/* Whether s is a clientUid the channel carries ("" included). */
int	 sign_uid_ok(const char *s);
/* "ok", "refused", "busy", "error". */
const char *sign_status_name(enum sign_status);

/*
 * Encode into b (ipc_buf_init first): 0, or -1 when a field breaks the
 * rules above (nothing useful is left in b).
 */
int	 sign_req_encode(const struct sign_req *, struct ipc_buf *b);
int	 sign_rep_encode(const struct sign_rep *, struct ipc_buf *b);

/*
 * Decode a payload (len bytes at p): 0, or -1 with the first broken rule
 * in why (for the log line).
 */
int	 sign_req_decode(const uint8_t *p, size_t len, struct sign_req *,
	    char *why, size_t whylen);
int	 sign_rep_decode(const uint8_t *p, size_t len, struct sign_rep *,
	    char *why, size_t whylen);

/* Encode and ipc_send() with the message's type: 0 or -1 (errno). */
int	 sign_req_send(struct ipc_chan *, const struct sign_req *);
int	 sign_rep_send(struct ipc_chan *, const struct sign_rep *);

#endif
