/*
 * The messages takd nodes exchange over NATS (docs/cluster.md, "Messages"):
 * their binary form and the subjects they go on.  Pure: no I/O, no clock,
 * no NATS; tests/unit/test_cluster_wire.c and the hostile-input test check
 * it.
 *
 * Every message starts with the same header: the magic "TKC1", a type, the
 * sending node's id and its instance (a random number per start of its
 * cluster process).  Integers are big-endian; a string is a u16 length and
 * its bytes (no NUL inside); an event's bytes a u32 length and the bytes.
 * A message is decoded whole, every length and count against its cap,
 * before anything acts on it: one that fails is dropped and counted, with
 * the reason.
 */
#ifndef TAKD_CLUSTER_WIRE_H
#define TAKD_CLUSTER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/config.h"
#include "shared/grouplist.h"
#include "shared/store.h"
#include "worker/deliver.h"

#define WIRE_MAGIC		"TKC1"
/* Subject prefix: takd.<cluster>.<kind>... */
#define WIRE_SUBJECT_MAX	256
/* Clients in one presence message, SAs in one snapshot message. */
#define WIRE_PRES_MAX		4096
#define WIRE_SA_MAX		4096
/* A snapshot's messages are cut at about this size. */
#define WIRE_CHUNK_BYTES	(256 * 1024)
/* A group token on a subject: 'g' + name, or 'h' + 16 hex digits. */
#define WIRE_GTOKEN_MAX		(GROUPLIST_NAME_MAX + 2)
#define WIRE_GTOKEN_MULTI	"m"	/* a sender of several groups */

enum wire_type {
	WIRE_EVENT = 1,		/* an event a session sent, or a notice */
	WIRE_HEARTBEAT,		/* I am alive; or, with bye, I am leaving */
	WIRE_PRESENCE,		/* clients that came, changed or left */
	WIRE_SA,		/* latest SAs of a snapshot */
	WIRE_SYNC,		/* send me your snapshot (reply subject) */
	WIRE_CRL,		/* a CRL one node accepted */
	WIRE_TYPE_MAX
};

/* A growing buffer that encoders write into. */
struct wbuf {
	uint8_t		*p;
	size_t		 len;
	size_t		 cap;
	size_t		 max;	/* never grows beyond: err = EMSGSIZE */
	int		 err;
};
void	 wbuf_init(struct wbuf *, size_t max);
void	 wbuf_reset(struct wbuf *);
void	 wbuf_free(struct wbuf *);

struct wire_hdr {
	enum wire_type	 type;
	char		 node[TAKD_CLUSTER_TOKEN_MAX];
	uint64_t	 instance;
};

/* A decoded event: strings copied, bytes borrowed from the message. */
struct wire_event {
	struct deliver	 d;		/* d.ev NULL, d.in NULL */
	enum evbuf_enc	 enc;
	struct cot_dest	 dest[COT_MAX_DEST];
	char		 groups[GROUPLIST_STR_MAX];
	const uint8_t	*bytes;
	size_t		 len;
};

struct wire_heartbeat {
	uint64_t	 pres_seq;	/* its last presence message */
	uint32_t	 clients;
	uint32_t	 interval_ms;
	bool		 bye;		/* it is stopping */
};

/* One client of a node, as presence carries it. */
struct wire_client {
	bool		 up;		/* false: it left */
	char		 uid[STORE_UID_SIZE];
	char		 callsign[STORE_CALLSIGN_SIZE];
	char		 groups_in[STORE_GROUPS_SIZE];
	char		 groups_out[STORE_GROUPS_SIZE];
	char		 subject[STORE_SUBJECT_SIZE];
	char		 serial[STORE_SERIAL_SIZE];
	char		 user[STORE_USER_SIZE];
	char		 peer[STORE_PEER_SIZE];
	uint64_t	 connected_ms;
	bool		 v1;
};

#define WIRE_PRES_FIRST	0x1	/* a snapshot's first: forget what you had */
#define WIRE_PRES_LAST	0x2	/* a snapshot's last */

/* One latest SA of a snapshot: strings copied, bytes borrowed. */
struct wire_sa {
	char		 uid[STORE_UID_SIZE];
	char		 type[STORE_TYPE_SIZE];
	char		 owner[STORE_OWNER_SIZE];
	char		 serial[STORE_SERIAL_SIZE];
	char		 groups[STORE_GROUPS_SIZE];
	uint64_t	 stale_ms;
	uint64_t	 time_ms;
	unsigned	 flags;
	const uint8_t	*bytes;
	size_t		 len;
};

/* Encoders: 0, or -1 with b->err set (EMSGSIZE, ENOMEM, EINVAL). */
void	 wire_put_hdr(struct wbuf *, enum wire_type, const char *node,
	    uint64_t instance);
int	 wire_put_event(struct wbuf *, const struct deliver *,
	    enum evbuf_enc, const void *bytes, size_t len);
int	 wire_put_heartbeat(struct wbuf *, const struct wire_heartbeat *);
/* Presence: the header of a list, then its clients. */
void	 wire_put_pres_head(struct wbuf *, uint64_t seq, unsigned flags);
int	 wire_put_client(struct wbuf *, const struct wire_client *);
/* Patch the count of clients (or SAs) at offset at, once known. */
void	 wire_put_count_at(struct wbuf *, size_t at, uint32_t n);
void	 wire_put_sa_head(struct wbuf *);
int	 wire_put_sa(struct wbuf *, const struct wire_sa *);
int	 wire_put_crl(struct wbuf *, const void *der, size_t len);

/*
 * Decoding, each function taking the whole message and checking all of it
 * (its header included); err says why it failed.  max_event is the largest
 * event accepted ([cot] max_event_bytes).
 */
int	 wire_get_hdr(const uint8_t *, size_t, struct wire_hdr *,
	    char *err, size_t errlen);
int	 wire_get_event(const uint8_t *, size_t, size_t max_event,
	    struct wire_event *, char *err, size_t errlen);
int	 wire_get_heartbeat(const uint8_t *, size_t, struct wire_heartbeat *,
	    char *err, size_t errlen);
/*
 * Presence and snapshot SAs: cb is called for each entry, only once the
 * whole message was checked (two passes).  *seq and *flags of presence.
 */
int	 wire_get_presence(const uint8_t *, size_t, uint64_t *seq,
	    unsigned *flags, void (*cb)(const struct wire_client *, void *),
	    void *arg, char *err, size_t errlen);
int	 wire_get_sa(const uint8_t *, size_t, size_t max_event,
	    void (*cb)(const struct wire_sa *, void *), void *arg, char *err,
	    size_t errlen);
int	 wire_get_crl(const uint8_t *, size_t, const uint8_t **der,
	    size_t *len, char *err, size_t errlen);

/*
 * Subjects.  The group token of a sender's IN groups: one group gives
 * 'g' + its name when the name is a safe token, else 'h' + 16 hex digits
 * of its SHA-256; several give WIRE_GTOKEN_MULTI.  -1 for no group.
 */
int	 wire_group_token(const char *groups, char *tok, size_t toklen);
/* The token of one group name. */
void	 wire_name_token(const char *name, size_t len, char *tok,
	    size_t toklen);
/* The class's token: sa, chat, other; NULL for a ping (never sent). */
const char *wire_class_token(enum ipc_ev_class);
/* Whether s is a node id or a cluster name (a safe subject token). */
bool	 wire_token_ok(const char *s);

#endif
