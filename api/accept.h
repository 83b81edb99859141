/*
 * Content negotiation for POST /Marti/api/tls/signClient/v2: JSON or XML
 * from the request's Accept header (RFC 9110 section 12.5.1), as
 * ../shared/protocol.md says: no header, an empty one, * / * or
 * application/json give JSON; application/xml (or text/xml) XML; anything
 * else a 400.
 *
 * The header is parsed as a list of media ranges with parameters and
 * q-values: each representation gets the q of the most specific range
 * that matches it (exact, then type/ *, then * / *), and the one with the
 * highest q above 0 wins; JSON on a tie, as the official server prefers
 * it.  So "application/xml;q=0.9, application/json" is JSON and
 * "application/json;q=0, * / *" is XML.  Pure; the caller logs the reason
 * of a refusal.
 */
#ifndef TAKD_API_ACCEPT_H
#define TAKD_API_ACCEPT_H

#include <stddef.h>

#define ACCEPT_VALUE_MAX	2048	/* bytes of the header taken */
#define ACCEPT_RANGES_MAX	32	/* media ranges in it */

enum accept_format {
	ACCEPT_JSON,
	ACCEPT_XML
};

struct accept_choice {
	enum accept_format	 format;
	/* What to send as Content-Type: the type the client named. */
	const char		*content_type;
};

/*
 * value: the header's value (len bytes), or NULL when there is no Accept
 * header.  0 with *out set, or -1 with a static reason in *why: a
 * malformed header or one that accepts neither JSON nor XML (answer 400).
 */
int	 accept_choose(const char *value, size_t len, struct accept_choice *out,
	    const char **why);

#endif
