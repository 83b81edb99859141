/*
 * The only list of IPC message types.  Direction and payload of each, in the
 * order the typed helpers of ipc.h put and get them.  "gen" is the header's
 * gen_or_peer field.
 */
#ifndef TAKD_IPC_MSG_H
#define TAKD_IPC_MSG_H

enum ipc_msg_type {
	IPC_MSG_NONE = 0,

	/*
	 * worker -> supervisor, once after start, when its initialization is
	 * done and its loop is about to run (the supervisor's readiness waits
	 * for it).
	 * u32 worker id, u32 pid.
	 */
	IPC_MSG_HELLO,

	/*
	 * supervisor -> worker: gen = request id, no payload.
	 * worker -> supervisor: IPC_MSG_STATUS_REP, gen = request id,
	 *   u32 N, then N u64: struct counters of shared/counters.h, member
	 *   by member (counters_encode); N must be COUNTERS_N.  Then u32 G
	 *   (at most GROUPLIST_TABLE_MAX), G x (str group name, u64 sessions
	 *   holding it): the worker's groups in use (grouplist_put_counts,
	 *   shared/grouplist.h).
	 */
	IPC_MSG_STATUS_REQ,
	IPC_MSG_STATUS_REP,

	/* supervisor -> worker: stop.  u32 drain deadline in ms. */
	IPC_MSG_SHUTDOWN,

	/*
	 * supervisor -> worker: a new CRL generation, gen = generation number,
	 * SCM_RIGHTS fd = a sealed memfd holding the revoked-serial set of
	 * the CRL the supervisor verified (shared/crlset.h: header and
	 * sorted entries; the worker maps it and checks it whole).  No
	 * payload.
	 * worker -> supervisor: IPC_MSG_CRL_ACK, gen = generation,
	 *   u32 status (0 = in force), u32 live sessions closed, str error.
	 */
	IPC_MSG_CRL,
	IPC_MSG_CRL_ACK,

	/* supervisor -> worker: SCM_RIGHTS fd = the reopened log file. */
	IPC_MSG_LOG_FD,

	/*
	 * supervisor -> worker: gen = the peer worker's id, SCM_RIGHTS fd = this
	 * worker's end of the SOCK_SEQPACKET channel to that peer.  No payload.
	 */
	IPC_MSG_PEER,

	/*
	 * worker -> worker over the mesh: one or more events for the
	 * receiver's local sessions (a struct deliver each, see
	 * worker/deliver.h and fanout.h for the payload layout).
	 */
	IPC_MSG_EVENT,

	/*
	 * worker -> worker: one event too large for a frame.  The payload is
	 * one IPC_MSG_EVENT record with the event bytes replaced by u32
	 * length; SCM_RIGHTS fd = a sealed memfd holding exactly those bytes.
	 */
	IPC_MSG_EVENT_LARGE,

	/*
	 * worker -> worker: u64 bytes of IPC_MSG_EVENT_LARGE events consumed,
	 * which the sender may send again (its memfd bytes in flight are
	 * capped).
	 */
	IPC_MSG_EVENT_CREDIT,

	/*
	 * supervisor -> worker: clients of a worker that died left, gen = the
	 * dead worker's id.  One to IPC_DEPARTED_MAX records until the payload
	 * ends, each str uid (not empty), str type of its latest SA ("" when
	 * unknown), str groups: the IN groups of the connection that held it
	 * (a list of group names, shared/grouplist.h).  The worker tells its
	 * local sessions whose OUT groups meet those (t-x-d-d), as for a
	 * session that closed.  More uids take more frames.
	 */
	IPC_MSG_DEPARTED,

	/*
	 * supervisor -> worker: the session ticket key ring in force (the
	 * supervisor owns it and rotates it every [tls] ticket_key_rotation;
	 * sent at spawn and at each rotation), gen = ring generation (1 at
	 * start, one more per rotation).  u32 count (1 to
	 * IPC_TICKET_KEYS_MAX), then count keys, the current one first (it
	 * encrypts new tickets; the previous one only decrypts, and its
	 * tickets are renewed), each: u64 expires (CLOCK_MONOTONIC ms: no
	 * ticket is made or accepted with the key from then on), bytes key of
	 * exactly IPC_TICKET_KEY_LEN: 16-byte name, 32-byte AES-256-CBC key,
	 * 32-byte HMAC-SHA256 key.  Any other size, count or length, or two
	 * keys of the same name, is malformed.  Key material: never logged;
	 * both sides wipe it once used.
	 */
	IPC_MSG_TICKET_KEYS,

	/*
	 * supervisor -> worker: a new generation of the users file (a
	 * reload), gen = generation, SCM_RIGHTS fd = a sealed memfd holding
	 * its text without password hashes (shared/users.h, users_memfd).
	 * No payload.  The worker parses it, makes it the set its handshakes
	 * use and gives its live sessions their new groups.
	 * worker -> supervisor: IPC_MSG_USERS_ACK, gen = generation, u32
	 *   status (0 = in force), u32 live sessions whose groups changed,
	 *   u32 live sessions closed (their user was deleted), str error.
	 */
	IPC_MSG_USERS,
	IPC_MSG_USERS_ACK,

	/*
	 * api -> signer: sign an enrolled device's CSR; signer -> api:
	 * IPC_MSG_SIGN_REP, the certificate and its chain or why not.  Over
	 * their own socketpair, never a control channel; the payloads are
	 * ipc/sign_msg.h's (sign_req_decode, sign_rep_decode).  gen = 0.
	 */
	IPC_MSG_SIGN_REQ,
	IPC_MSG_SIGN_REP,

	/*
	 * api -> supervisor: a scrape of /metrics (api/metrics.c), gen =
	 * the api's request id, no payload.  The supervisor asks every
	 * process for fresh counters (a status round) and answers
	 * IPC_MSG_METRICS_REP, gen = that id: u32 status (0 = the
	 * exposition is in the memfd; else none could be made), SCM_RIGHTS
	 * fd = a sealed memfd holding the Prometheus text (status 0 only).
	 */
	IPC_MSG_METRICS_REQ,
	IPC_MSG_METRICS_REP,

	/*
	 * supervisor -> api: a new channel to takd-signer (the old signer
	 * died and a new one was started, or the log file was reopened),
	 * SCM_RIGHTS fd = the api's end of its SOCK_SEQPACKET pair.  No
	 * payload.  The api answers the signings in flight on the old
	 * channel 503 and uses the new one.  (At a fork the api inherits its
	 * channel instead.)
	 */
	IPC_MSG_SIGNER_FD,

	/*
	 * Channels (docs/groups.md): a user turned some of its groups' halves
	 * off or on (PUT /Marti/api/groups/active).
	 * api -> supervisor: gen = the api's request id; str user (the users
	 *   file's name), str clientUid (the requesting session's uid), str
	 *   the off set encoded (shared/channels.h, "" for none).  The
	 *   supervisor records it in LMDB (store_put_channels), then asks
	 *   every worker:
	 * supervisor -> worker: gen = round id; str user, str clientUid.  The
	 *   worker reads the user's off set from LMDB and gives the user's
	 *   live sessions their groups under it (as a reload does), with no
	 *   t-x-g-c to the session of clientUid, which asked.
	 * worker -> supervisor: IPC_MSG_CHANNELS_ACK, gen = round id, u32
	 *   status (0 = in force), u32 live sessions whose groups changed.
	 * supervisor -> api: IPC_MSG_CHANNELS_ACK, gen = the api's request
	 *   id, u32 status (0 = recorded and pushed; else not recorded), u32
	 *   workers that answered, u32 workers that did not, u32 live
	 *   sessions whose groups changed.
	 */
	IPC_MSG_CHANNELS,
	IPC_MSG_CHANNELS_ACK,

	/*
	 * cluster -> supervisor, once a second (docs/cluster.md): its
	 * report, cluster/cstatus.h (cstatus_encode).  gen = 0.
	 */
	IPC_MSG_CLUSTER_STATUS,

	/*
	 * supervisor -> cluster: the clients of the other nodes (takctl
	 * clients --cluster), gen = request id, no payload.
	 * cluster -> supervisor: IPC_MSG_CLUSTER_CLIENTS, gen = that id,
	 *   u32 status (0: the JSON array is in the memfd), SCM_RIGHTS fd =
	 *   a sealed memfd holding it (status 0 only).
	 */
	IPC_MSG_CLUSTER_CLIENTS,

	/*
	 * supervisor -> cluster: the CRL in force (docs/cluster.md,
	 * "Revocation"), no payload.  gen 0: its bytes (SCM_RIGHTS fd, a
	 * sealed memfd), to give nodes that join; gen 1: the same, just
	 * accepted here: publish it; gen 2, no fd: the one you handed over
	 * is in force now.
	 * cluster -> supervisor: a CRL another node published, gen = 0,
	 *   SCM_RIGHTS fd = a sealed memfd of its bytes: reload with it
	 *   (taken only when signed by the CA and of a CRL number above
	 *   the one in force).
	 */
	IPC_MSG_CLUSTER_CRL,

	/*
	 * supervisor -> worker: the OCSP response to staple ([ocsp] staple,
	 * supervisor/ocsp.c; verified by takd-ocspfetch), gen = staple
	 * generation.  u64 until (Unix time: its nextUpdate; not stapled
	 * from then on), u32 status (0 good, 1 revoked), bytes the DER
	 * OCSPResponse (1 to OCSPFETCH_RESP_MAX).  Sent at spawn and for
	 * every new response; no ack.
	 */
	IPC_MSG_OCSP_STAPLE,

	/*
	 * The admin console (docs/console.md): close one client's session.
	 * api -> supervisor: gen = the api's request id; u64 conn id (the
	 *   registry's, shared/store.h STORE_CONN_ID: the worker in its top
	 *   bits), str admin (the console user who asked, for the log).
	 * supervisor -> worker (the one the id names): gen = the same id;
	 *   u64 the worker's own connection number, str admin.
	 * worker -> supervisor: IPC_MSG_DISCONNECT_ACK, gen = that id, u32
	 *   status (0 closed, 1 no such session here).
	 * supervisor -> api: IPC_MSG_DISCONNECT_ACK, gen = that id, u32
	 *   status (0 closed, 1 no such session, 2 no such worker running).
	 * The supervisor keeps no state: an answer names its request.
	 */
	IPC_MSG_DISCONNECT,
	IPC_MSG_DISCONNECT_ACK,

	/*
	 * The admin console revokes a certificate (docs/console.md).
	 * api -> supervisor: gen = the api's request id; str serial (upper-
	 *   case hex), u32 reason (CRL_REASON_* or 0xffffffff), str admin.
	 * supervisor -> api: IPC_MSG_REVOKE_ACK, gen = that id, u32 status
	 *   (0 revoked and in force, 1 refused, 2 revoked but the reload
	 *   failed, 3 unavailable), u64 CRL number, u32 CRL generation,
	 *   u32 live sessions closed, str message (words for the admin).
	 * Between, supervisor <-> takd-signer over their own channel
	 * (SIGN_FD_CTL): IPC_MSG_SIGN_REVOKE_REQ and _REP, ipc/sign_msg.h.
	 */
	IPC_MSG_REVOKE,
	IPC_MSG_REVOKE_ACK,
	IPC_MSG_SIGN_REVOKE_REQ,
	IPC_MSG_SIGN_REVOKE_REP,

	/*
	 * The admin console changes a user (docs/console.md): api ->
	 * supervisor -> takd-usersd, and the answer back, the payloads of
	 * ipc/users_msg.h; gen is the sender's request id.  The supervisor
	 * reloads the users file after a change before it answers the api.
	 */
	IPC_MSG_USER_EDIT,
	IPC_MSG_USER_EDIT_ACK,

	IPC_MSG_MAX
};

/* IPC_MSG_DEPARTED: records per frame (128 of the largest take 41 KiB). */
#define IPC_DEPARTED_MAX	128

/* IPC_MSG_TICKET_KEYS: {current, previous}, and the layout of one key. */
#define IPC_TICKET_KEYS_MAX	2
#define IPC_TICKET_NAME_LEN	16	/* what OpenSSL's ticket format has */
#define IPC_TICKET_AES_LEN	32	/* AES-256-CBC */
#define IPC_TICKET_HMAC_LEN	32	/* HMAC-SHA256 */
#define IPC_TICKET_KEY_LEN	(IPC_TICKET_NAME_LEN + IPC_TICKET_AES_LEN + \
				    IPC_TICKET_HMAC_LEN)

/*
 * IPC_MSG_STATUS_REP: why handshakes failed, one counter each, in this
 * order.  Timeouts are counted here too (and in handshake_timeouts).
 */
enum ipc_hs_fail {
	IPC_HS_NO_CERT,		/* the client sent no certificate */
	IPC_HS_UNKNOWN_CA,	/* not issued by our CA (or a forged twin) */
	IPC_HS_REVOKED,		/* listed in the CRL, resumed sessions too */
	IPC_HS_EXPIRED,		/* certificate expired or not yet valid */
	IPC_HS_CRL,		/* CRL missing, expired (strict), bad */
	IPC_HS_OTHER_VERIFY,	/* any other certificate verification error */
	IPC_HS_PROTOCOL,	/* TLS protocol or socket error */
	IPC_HS_TIMEOUT,		/* [tls] handshake_timeout */
	IPC_HS_CLOSED,		/* the peer hung up during the handshake */
	IPC_HS_FAIL_MAX
};

/*
 * IPC_MSG_STATUS_REP: events by the class of their type, in this order.
 * UNPARSED counts events read but never parsed (over the rate limit) or
 * unparseable; it is never written out.
 */
enum ipc_ev_class {
	IPC_EV_SA,		/* "a-*": positions, markers */
	IPC_EV_CHAT,		/* "b-t-f*": GeoChat and its receipts */
	IPC_EV_PING,		/* "t-x-c-t*": pings and pongs */
	IPC_EV_OTHER,
	IPC_EV_UNPARSED,
	IPC_EV_CLASS_MAX
};

#endif
