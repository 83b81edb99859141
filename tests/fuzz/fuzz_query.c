/*
 * libFuzzer target for api/query.c: the query string of the enrollment
 * calls.
 *
 * Checked on every input:
 * - a refusal has a reason and leaves nothing in the output;
 * - what is taken came from at most QUERY_MAX bytes; clientUid is at most
 *   QUERY_UID_MAX bytes of printable ASCII without space, version at most
 *   QUERY_VERSION_MAX of printable ASCII; absent means empty;
 * - a value taken appears in the input, literally or %-escaped: a
 *   clientUid with no '%' or '+' in the input is a substring of it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/query.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_query: %s\n", what);
	abort();
}

static void
fz_printable(const char *s, size_t max, unsigned char lo)
{
	size_t	 i, n = strnlen(s, max + 1);

	if (n > max)
		fz_fail("a value longer than its bound");
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < lo || (unsigned char)s[i] > '~')
			fz_fail("a value outside printable ASCII");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct query_enroll	 q;
	const char		*why;

	if (query_enroll_parse((const char *)data, size, &q, &why) == -1) {
		if (why == NULL)
			fz_fail("refused without a reason");
		if (q.has_client_uid || q.has_version ||
		    q.client_uid[0] != '\0' || q.version[0] != '\0')
			fz_fail("refused but values left");
		return (0);
	}
	if (size > QUERY_MAX)
		fz_fail("taken over the cap");
	fz_printable(q.client_uid, QUERY_UID_MAX, 0x21);
	fz_printable(q.version, QUERY_VERSION_MAX, 0x20);
	if ((!q.has_client_uid && q.client_uid[0] != '\0') ||
	    (!q.has_version && q.version[0] != '\0'))
		fz_fail("a value for an absent parameter");
	if (q.client_uid[0] != '\0' && memchr(data, '%', size) == NULL &&
	    memmem(data, size, q.client_uid, strlen(q.client_uid)) == NULL)
		fz_fail("a clientUid that is not in the input");
	return (0);
}
