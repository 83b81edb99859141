/*
 * CoT event parser: one event's bytes (as cot_framer_next() hands them out)
 * to a small view of the fields routing needs, with libxml2's SAX2 interface
 * under safe options.  Pure: no sockets, no globals beyond libxml2's own
 * initialisation.  See docs/cot.md.
 *
 * Safety: no DTD at all (a DOCTYPE is rejected before libxml2 sees the
 * bytes, so no entity is ever declared, expanded or fetched), no network,
 * no XML_PARSE_NOENT/DTDLOAD/DTDATTR/HUGE, nesting at most COT_PARSE_DEPTH,
 * at most COT_PARSE_ATTRS attributes per element, input at most
 * COT_PARSE_MAX_BYTES, UTF-8 only (a declaration before the event must pass
 * cot_scan_decl(), the framer's check; its encoding is ignored), and
 * libxml2's messages come back in err, never on stderr.
 */
#ifndef TAKD_COT_PARSE_H
#define TAKD_COT_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Field sizes, the terminating NUL included.  A value that does not fit is
 * an error, never truncated: an identity must not be silently cut.
 */
#define COT_UID_MAX		256
#define COT_TYPE_MAX		128
#define COT_HOW_MAX		32
#define COT_CALLSIGN_MAX	128
#define COT_ENDPOINT_MAX	128
#define COT_GROUP_MAX		64
#define COT_MAX_DEST		32
#define COT_URL_MAX		1024

#define COT_PARSE_DEPTH		64	/* element nesting, <event> is 1 */
#define COT_PARSE_ATTRS		64	/* attributes of one element */
#define COT_PARSE_MAX_BYTES	(16 * 1024 * 1024 + 4096)
#define COT_ERR_MAX		256	/* a useful size for err */

#define COT_TIME_UNSET		INT64_MIN

/* Highest TAK protocol version a <TakRequest> may name (docs/takproto.md). */
#define COT_TAKP_VERSION_MAX	1000000

enum cot_dest_kind {
	COT_DEST_CALLSIGN,
	COT_DEST_UID
};

struct cot_dest {
	enum cot_dest_kind kind;
	char		 value[COT_UID_MAX];
};

/*
 * What routing needs from one event.  Strings are NUL-terminated UTF-8
 * without control characters; "" when absent.  Times are Unix ms, or
 * COT_TIME_UNSET when missing or invalid (stale is never unset: an event
 * without a valid stale is rejected).
 */
struct cot_view {
	size_t		 event_off;	/* offset of "<event" in the input */
	char		 uid[COT_UID_MAX];
	char		 type[COT_TYPE_MAX];
	char		 how[COT_HOW_MAX];
	int64_t		 time_ms;
	int64_t		 start_ms;
	int64_t		 stale_ms;

	/* <point>: lat, lon valid and in range; hae, ce, le default 9999999 */
	bool		 has_point;
	double		 lat, lon, hae, ce, le;

	/* <detail><contact callsign endpoint/> */
	bool		 has_contact;
	char		 callsign[COT_CALLSIGN_MAX];
	char		 endpoint[COT_ENDPOINT_MAX];

	/* <detail><__group name role/>: display only, not a routing key */
	char		 group_name[COT_GROUP_MAX];
	char		 group_role[COT_GROUP_MAX];

	/*
	 * <detail><marti><dest callsign|uid/>.  A callsign "All Streaming"
	 * sets dest_all instead of taking a slot.  n_dest_other counts dest
	 * elements with neither (mission or group dests takd cannot resolve):
	 * has_marti with n_dest == 0 and !dest_all still means "restricted".
	 */
	bool		 has_marti;
	bool		 dest_all;
	size_t		 n_dest;
	size_t		 n_dest_other;
	struct cot_dest	 dest[COT_MAX_DEST];

	/* First <detail><link> with a uid (t-x-d-d: the departed uid). */
	char		 link_uid[COT_UID_MAX];
	char		 link_type[COT_TYPE_MAX];

	/*
	 * <detail><fileshare senderUrl/> (a b-f-t-r: where the recipients
	 * download the data package, docs/datapackages.md): the first
	 * one's.  "" when absent, and when longer than COT_URL_MAX - 1
	 * bytes, with a control character or a character reference: a
	 * senderUrl is only looked at, it never makes an event refused.
	 */
	char		 fileshare_url[COT_URL_MAX];

	/*
	 * <detail><TakControl><TakRequest version/> (a t-x-takp-q, the
	 * client's choice of TAK protocol version): 0 when there is none,
	 * the version (1 .. COT_TAKP_VERSION_MAX) of the first one, -1 when
	 * it names none or not a plain decimal.
	 */
	int		 takp_request;
};

/*
 * Initialise libxml2 once, in the parent before any fork or parse.  Installs
 * nothing global besides libxml2's own state.
 */
void	 cot_parse_init(void);

/*
 * Parse one event: optional whitespace and XML declaration (refused unless
 * cot_scan_decl() accepts it), then exactly one <event> element.  Returns 0
 * and fills v, or -1 with a one-line reason in err (e.g. "malformed XML at
 * line 1, column 57: ...", "event without uid").
 * v is clobbered either way.
 */
int	 cot_parse(const void *buf, size_t len, struct cot_view *v,
	    char *err, size_t errlen);

/*
 * TAK protocol request "t-x-takp-q": answered with cot_make_takp_response(),
 * never forwarded; the version asked for is v->takp_request.
 */
bool	 cot_is_takp_request(const struct cot_view *);
/* Ping "t-x-c-t": answered with a pong, never forwarded. */
bool	 cot_is_ping(const struct cot_view *);
/* SA (position report): type "a-...". */
bool	 cot_is_sa(const struct cot_view *);
/* Disconnect notice "t-x-d-d" naming the departed uid in a link. */
bool	 cot_is_disconnect(const struct cot_view *);
/*
 * The uid this event announces as its sender's identity, or NULL: it needs
 * a <contact> with a callsign and an endpoint, and a uid that does not end
 * in "-ping".
 */
const char *cot_identity_uid(const struct cot_view *);

/*
 * ISO 8601 "2026-11-23T08:00:00.000Z" (fraction optional, any number of
 * digits, 'Z', "+hh:mm", "+hhmm", "+hh", or no zone meaning UTC) to Unix ms;
 * -1 when invalid.  Years 0001-9999.
 */
int	 cot_time_parse(const char *, int64_t *ms);
/* Unix ms to "2026-11-23T08:00:00.000Z"; returns the length, 0 if no room. */
size_t	 cot_time_format(int64_t ms, char *buf, size_t len);

/*
 * Server-made events, written to buf NUL-terminated; each returns its length,
 * or 0 when buf is too small or an argument cannot be written.
 *
 * Pong: uid "takPong", type "t-x-c-t-r", time/start now, stale now+20 s.
 */
size_t	 cot_make_pong(char *buf, size_t len, int64_t now_ms);
/*
 * Disconnect: type "t-x-d-d", a fresh random uid, stale now+20 s, and a
 * link to departed_uid with last_type (its last SA type; NULL or "" gives
 * "a-f-G-U-C").
 */
size_t	 cot_make_disconnect(char *buf, size_t len, const char *departed_uid,
	    const char *last_type, int64_t now_ms);
/*
 * Group change (a client's groups changed, docs/groups.md): type "t-x-g-c",
 * a fresh random uid, how "h-g-i-g-o", stale now+20 s, and a link
 * relation="p-p" to the client's own uid (NULL or "": none yet, the link
 * has no uid).  The client re-reads its groups when it comes.
 */
size_t	 cot_make_group_change(char *buf, size_t len, const char *uid,
	    int64_t now_ms);
/*
 * TAK protocol negotiation (docs/takproto.md), the shape of
 * tests/data/cot/takp-offer.xml: uid "protouid", how "m-g", time/start
 * now, stale now+60 s (the offer is answered for 60 s), zero point with
 * ce/le 999999.
 *
 * Offer: type "t-x-takp-v" with <TakControl><TakProtocolSupport
 * version="1"/></TakControl>, sent once after connect.
 */
size_t	 cot_make_takp_offer(char *buf, size_t len, int64_t now_ms);
/*
 * Response to a t-x-takp-q: type "t-x-takp-r" with <TakControl>
 * <TakResponse status="true|false"/></TakControl>, under the request's uid
 * (the negotiation's; NULL or "" gives "protouid").
 */
size_t	 cot_make_takp_response(char *buf, size_t len, const char *uid,
	    bool status, int64_t now_ms);

#endif
