/*
 * libFuzzer target for api/accept.c: the Accept header of signClient/v2.
 *
 * Checked on every input:
 * - a refusal has a reason;
 * - a choice is one of the three types, with the format that goes with
 *   it;
 * - JSON is chosen only when the header is blank or names "json" or a
 *   '*' somewhere; XML only when it names "xml" or a '*';
 * - the same header with blanks around it chooses the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/accept.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_accept: %s\n", what);
	abort();
}

static int
fz_has(const uint8_t *d, size_t n, const char *word)
{
	size_t	 i, wl = strlen(word);

	for (i = 0; i + wl <= n; i++)
		if (strncasecmp((const char *)d + i, word, wl) == 0)
			return (1);
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct accept_choice	 c, c2;
	const char		*why, *why2;
	char			 padded[ACCEPT_VALUE_MAX + 3];
	int			 rc, rc2, blank = 1;
	size_t			 i;

	rc = accept_choose((const char *)data, size, &c, &why);
	if (rc == -1) {
		if (why == NULL)
			fz_fail("refused without a reason");
	} else {
		for (i = 0; i < size; i++)
			if (data[i] != ' ' && data[i] != '\t')
				blank = 0;
		if (c.format == ACCEPT_JSON && (strcmp(c.content_type,
		    "application/json") != 0 || (!blank &&
		    !fz_has(data, size, "json") &&
		    memchr(data, '*', size) == NULL)))
			fz_fail("JSON chosen from a header without it");
		if (c.format == ACCEPT_XML && ((strcmp(c.content_type,
		    "application/xml") != 0 && strcmp(c.content_type,
		    "text/xml") != 0) || (!fz_has(data, size, "xml") &&
		    memchr(data, '*', size) == NULL)))
			fz_fail("XML chosen from a header without it");
	}
	if (size + 2 <= ACCEPT_VALUE_MAX) {
		padded[0] = ' ';
		memcpy(padded + 1, data, size);
		padded[size + 1] = '\t';
		rc2 = accept_choose(padded, size + 2, &c2, &why2);
		if (rc2 != rc || (rc == 0 && (c.format != c2.format ||
		    strcmp(c.content_type, c2.content_type) != 0)))
			fz_fail("blanks around the header change the choice");
	}
	return (0);
}
