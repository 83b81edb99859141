/*
 * Admission of connections that have not authenticated yet: how many TLS
 * handshakes a worker holds at once, how many of them one source address
 * may hold, and which unauthenticated connection gives up its place when a
 * new one finds a limit reached.  See docs/security.md, "Before
 * authentication".
 *
 * Pure bookkeeping: no sockets, no OpenSSL, no clock.  A conn embeds a
 * struct admit_node; the worker (accept.c, conn.c) asks admit_check() what
 * to do with a new connection, closes the victim it names, and reports each
 * handshake's progress with admit_raise().
 *
 * Policy.  A connection is FRESH until its ClientHello has been answered,
 * HELLO while the server waits for the client's certificate, AUTH once the
 * certificate (or a resumption ticket) has been verified.
 *   - The source's limit reached: the source's oldest FRESH connection is
 *     the victim; with none, the new connection is refused.  A HELLO one
 *     is never evicted for its own address: a burst of phones behind one
 *     NAT would otherwise evict each other before any finishes.
 *   - The worker's limit reached: the oldest FRESH connection of any
 *     source, else the oldest HELLO one; with neither (every one is AUTH),
 *     the new connection is refused.  Evicting HELLO ones here makes a
 *     flood that answers ClientHello from many addresses churn instead of
 *     holding every place for the whole handshake timeout.
 *   - AUTH connections are never victims: they finish within a turn.
 */
#ifndef TAKD_WORKER_ADMIT_H
#define TAKD_WORKER_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#define ADMIT_MAGIC		0x41444d54u	/* "ADMT" */

/* Family byte, then the IPv4 address or the IPv6 /64. */
#define ADMIT_KEY_LEN		9
/* "2001:db8:aaaa:bbbb::/64" and the like */
#define ADMIT_KEY_STR		48

enum admit_level {
	ADMIT_FRESH,		/* no ClientHello answered yet */
	ADMIT_HELLO,		/* waiting for the client's certificate */
	ADMIT_AUTH		/* certificate verified: never a victim */
};

enum admit_verdict {
	ADMIT_OK,		/* room: admit_add() it */
	ADMIT_EVICT_ADDR,	/* close *victim (the source's limit) first */
	ADMIT_EVICT_FULL,	/* close *victim (the worker's limit) first */
	ADMIT_REFUSE_ADDR,	/* the source's limit, nobody to evict */
	ADMIT_REFUSE_FULL	/* the worker's limit, nobody to evict */
};

/* Where a source's connections are counted: an IPv4 address, an IPv6 /64. */
struct admit_key {
	unsigned char	 b[ADMIT_KEY_LEN];
};

struct admit_src;

/* Embedded in each handshaking connection. */
struct admit_node {
	TAILQ_ENTRY(admit_node) lvl_entry;	/* the worker's FRESH or HELLO */
	TAILQ_ENTRY(admit_node) src_entry;	/* its source's FRESH list */
	struct admit_src *src;			/* NULL: no per-source limit */
	enum admit_level level;
	bool		 linked;
};

TAILQ_HEAD(admit_list, admit_node);

struct admit {
	unsigned	 magic;
	unsigned	 max_total;	/* 0: no limit */
	unsigned	 max_per_src;	/* 0: no limit, sources not tracked */
	size_t		 n;		/* nodes linked */
	struct admit_list fresh;	/* oldest first */
	struct admit_list hello;	/* oldest first */
	struct admit_src **b;		/* sources by hash; nb a power of 2 */
	size_t		 nb;
	size_t		 nsrc;
	uint64_t	 seed;
};

/* 0, or -1 out of memory.  max 0: that limit is off. */
int	 admit_init(struct admit *, unsigned max_total, unsigned max_per_src,
	    uint64_t seed);
/* Every node must have been deleted.  A zeroed struct is fine. */
void	 admit_free(struct admit *);

/*
 * The source of a peer address: IPv4 (an IPv4-mapped IPv6 address too) as
 * is, IPv6 by its /64, anything else (a Unix socket) as one source.
 */
void	 admit_key_set(struct admit_key *, const struct sockaddr *, socklen_t);
/* "203.0.113.7" or "2001:db8:1:2::/64", for log lines. */
void	 admit_key_format(const struct admit_key *, char *, size_t);

/*
 * What to do with a new connection from key.  For the EVICT verdicts,
 * *victim is the node to close (admit_del() it) before asking again.
 */
enum admit_verdict admit_check(const struct admit *, const struct admit_key *,
	    struct admit_node **victim);
/* Count node as a FRESH connection from key; -1 out of memory. */
int	 admit_add(struct admit *, struct admit_node *,
	    const struct admit_key *);
/* The handshake progressed to level (never goes back). */
void	 admit_raise(struct admit *, struct admit_node *, enum admit_level);
/* The handshake ended (or the connection closed).  Unlinked: no-op. */
void	 admit_del(struct admit *, struct admit_node *);

/* Handshakes counted for key's source (0 when not tracked). */
unsigned admit_src_count(const struct admit *, const struct admit_key *);

#endif
