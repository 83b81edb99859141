/*
 * The query string of the enrollment calls, "?clientUid=U&version=V"
 * (signClient, signClient/v2, profile/enrollment): decoded strictly as
 * application/x-www-form-urlencoded (pairs split on '&', '+' a space,
 * %XX escapes), bounded, and checked.  Not an HTTP parser: the HTTP
 * library hands over the raw query (the part after '?', without the
 * fragment) and this reads two parameters out of it.
 *
 * - clientUid (ATAK, iTAK; some tools write clientUID: both are taken as
 *   one parameter): 0 to QUERY_UID_MAX bytes of printable ASCII without
 *   space, as the uids of TAK clients are ("ANDROID-0123abcd", a UUID,
 *   a Windows SID); it goes into the PKI index beside the certificate.
 *   Absent or empty is allowed (the official server defaults it to "").
 * - version: 0 to QUERY_VERSION_MAX bytes of printable ASCII, space
 *   included ("4.10.0.5 (1a2b3c4d)[playstore].1700000000-CIV").
 * - Any other parameter is ignored, but must be well-formed too.
 * - A parameter given twice, a malformed or NUL escape, a raw byte
 *   outside printable ASCII, or more than QUERY_MAX bytes: refused.
 */
#ifndef TAKD_API_QUERY_H
#define TAKD_API_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#define QUERY_MAX		2048	/* bytes of the raw query string */
#define QUERY_UID_MAX		255	/* bytes of clientUid, as cot/'s uids */
#define QUERY_VERSION_MAX	128	/* bytes of version */

struct query_enroll {
	char	 client_uid[QUERY_UID_MAX + 1];
	char	 version[QUERY_VERSION_MAX + 1];
	bool	 has_client_uid;
	bool	 has_version;	/* the official server: "supports channels" */
};

/*
 * q: the raw query (len bytes; NULL or empty when the URI has none).  0
 * with *out filled (absent parameters: "" and has_* false), or -1 with a
 * static reason in *why (answer 400).
 */
int	 query_enroll_parse(const char *q, size_t len, struct query_enroll *out,
	    const char **why);

#endif
