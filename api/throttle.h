/*
 * Failed logins on the enrollment port, counted per user name and per
 * source address, turned into a delay before the next answer
 * (docs/enrollment.md, "Brute force").
 *
 * The schedule: a user name gets THROTTLE_USER_FREE failures without delay,
 * a source address THROTTLE_ADDR_FREE (one address may be a NAT with many
 * users); each failure past that doubles the delay from
 * THROTTLE_DELAY_FIRST seconds up to THROTTLE_DELAY_MAX.  The delay of a
 * request is the larger of its name's and its address's.  THROTTLE_QUIET
 * seconds without a failure forget a name or an address; a successful
 * login forgets both of its own.  IPv6 addresses count by their /64 (one
 * host usually holds a whole /64); IPv4-mapped IPv6 addresses as IPv4.
 *
 * Memory is fixed at throttle_new(): two tables (names, addresses) of a
 * given number of slots each.  When one is full, the slot least recently
 * failed is reused: an attacker with many addresses or names evicts only
 * the oldest entries, and pays a password hash (api/basic_auth.h) for each
 * failure it makes to do so.  The caller passes the name that was tried
 * whether or not such a user exists, so that the delays do not tell which
 * names exist.
 *
 * Time comes from the caller (seconds, any monotonic origin), so that
 * tests are deterministic.  Pure: no logging, no timers; the caller waits
 * the delay (a timer of its event loop) before it answers.
 */
#ifndef TAKD_API_THROTTLE_H
#define TAKD_API_THROTTLE_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define THROTTLE_SLOTS		4096	/* per table, the default */
#define THROTTLE_SLOTS_MAX	(1u << 20)
#define THROTTLE_USER_FREE	3	/* failures of a name without delay */
#define THROTTLE_ADDR_FREE	10	/* failures of an address without delay */
#define THROTTLE_DELAY_FIRST	1	/* seconds, the first delay */
#define THROTTLE_DELAY_MAX	60	/* seconds, the longest */
#define THROTTLE_QUIET		900	/* seconds without failure: forgotten */

struct throttle;

struct throttle_counters {
	uint64_t	 checks;	/* throttle_check calls */
	uint64_t	 delayed;	/* ... that gave a delay */
	uint64_t	 failures;	/* throttle_fail calls */
	uint64_t	 successes;	/* throttle_ok calls */
	uint64_t	 evictions;	/* slots reused while still counting */
	uint64_t	 users;		/* names counted now (a gauge) */
	uint64_t	 addrs;		/* addresses counted now (a gauge) */
};

/* slots per table: 0 for THROTTLE_SLOTS; NULL when out of memory or above
 * THROTTLE_SLOTS_MAX. */
struct throttle	*throttle_new(size_t slots);
void		 throttle_free(struct throttle *);
/*
 * A peer's address as evhttp gives it (api_req_addr(): dotted or IPv6
 * text) into a sockaddr for the throttle's per-address key; false when it
 * is neither.
 */
bool		 throttle_addr(const char *addr, struct sockaddr_storage *ss);

/*
 * The delay in seconds (0 to THROTTLE_DELAY_MAX) to wait before answering
 * a login attempt from addr (may be NULL: counted as one unknown address)
 * for user (may be NULL or "" when no name could be parsed: the address
 * alone counts).  Names longer than 63 bytes count by their first 63.
 */
unsigned	 throttle_check(struct throttle *, time_t now,
		    const struct sockaddr *addr, const char *user);
/* A failed login: one more for the name and for the address. */
void		 throttle_fail(struct throttle *, time_t now,
		    const struct sockaddr *addr, const char *user);
/* A successful login: the name and the address are forgotten. */
void		 throttle_ok(struct throttle *, time_t now,
		    const struct sockaddr *addr, const char *user);
void		 throttle_counters(const struct throttle *,
		    struct throttle_counters *);

/* The delay after n failures when free of them are free (the schedule). */
unsigned	 throttle_delay(unsigned n, unsigned free);

#endif
