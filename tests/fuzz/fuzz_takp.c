/*
 * libFuzzer target for the TAK protocol v1 codec (cot/takp.h).
 *
 * Input starting with '<' (after whitespace) is an XML event, anything
 * else a TakMessage payload.  Checked on every input:
 * - a payload: takp_decode() and takp_to_xml() agree on acceptance; what
 *   takp_to_xml() writes, cot_parse() accepts, with the view takp_decode()
 *   gave; and takp_from_xml() of it gives a frame that decodes to that
 *   view again (XML -> v1 -> XML -> v1 is stable);
 * - an XML event: takp_from_xml() accepts only what cot_parse() accepts,
 *   its frame header is 0xBF and the payload's length, and the payload
 *   takes the payload path above with the XML view to match.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/cot_parse.h"
#include "cot/takp.h"

int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct cot_view	 fz_a, fz_b, fz_c;

static void
fz_fail(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz_takp: %s%s%s\n", what,
	    detail != NULL ? ": " : "", detail != NULL ? detail : "");
	abort();
}

static void
fz_same(const struct cot_view *a, const struct cot_view *b, const char *what)
{
	size_t	 i;

	if (strcmp(a->uid, b->uid) != 0 || strcmp(a->type, b->type) != 0 ||
	    strcmp(a->how, b->how) != 0 || a->time_ms != b->time_ms ||
	    a->start_ms != b->start_ms || a->stale_ms != b->stale_ms ||
	    a->has_contact != b->has_contact ||
	    strcmp(a->callsign, b->callsign) != 0 ||
	    strcmp(a->endpoint, b->endpoint) != 0 ||
	    strcmp(a->group_name, b->group_name) != 0 ||
	    strcmp(a->group_role, b->group_role) != 0 ||
	    a->has_marti != b->has_marti || a->dest_all != b->dest_all ||
	    a->n_dest != b->n_dest || a->n_dest_other != b->n_dest_other ||
	    strcmp(a->link_uid, b->link_uid) != 0 ||
	    strcmp(a->link_type, b->link_type) != 0 ||
	    a->takp_request != b->takp_request)
		fz_fail("views differ", what);
	for (i = 0; i < a->n_dest; i++)
		if (a->dest[i].kind != b->dest[i].kind ||
		    strcmp(a->dest[i].value, b->dest[i].value) != 0)
			fz_fail("dests differ", what);
}

/* A frame's payload: 0xBF, a varint equal to the rest's length. */
static const uint8_t *
fz_payload(const uint8_t *f, size_t len, size_t *plen)
{
	uint64_t	 v = 0;
	size_t		 i = 1;
	unsigned	 shift = 0;

	if (len < 2 || f[0] != 0xbf)
		fz_fail("frame without 0xBF", NULL);
	for (;;) {
		if (i >= len || shift > 63)
			fz_fail("frame header runs out", NULL);
		v |= (uint64_t)(f[i] & 0x7f) << shift;
		if ((f[i++] & 0x80) == 0)
			break;
		shift += 7;
	}
	if (v != len - i)
		fz_fail("frame length is not the payload's", NULL);
	*plen = len - i;
	return (f + i);
}

/* The payload path; want: a view it must give (NULL: any). */
static void
fz_payload_path(const uint8_t *p, size_t len, const struct cot_view *want)
{
	char		 err[COT_ERR_MAX], *x = NULL;
	uint8_t		*f = NULL;
	const uint8_t	*q;
	size_t		 xlen, flen, qlen;
	int		 r, rx;

	r = takp_decode(p, len, &fz_a, NULL, err, sizeof(err));
	rx = takp_to_xml(p, len, &x, &xlen, err, sizeof(err));
	if ((r == TAKP_EVENT) != (rx == 0))
		fz_fail("takp_decode and takp_to_xml disagree", err);
	if (want != NULL && r != TAKP_EVENT)
		fz_fail("takp_from_xml's payload does not decode", err);
	if (rx != 0)
		return;
	if (want != NULL)
		fz_same(want, &fz_a, "XML and its v1");
	if (cot_parse(x, xlen, &fz_b, err, sizeof(err)) != 0)
		fz_fail("cot_parse refuses takp_to_xml's output", err);
	fz_same(&fz_a, &fz_b, "v1 and its XML");
	if (takp_from_xml(x, xlen, &f, &flen, err, sizeof(err)) != 0)
		fz_fail("takp_from_xml refuses takp_to_xml's output", err);
	q = fz_payload(f, flen, &qlen);
	if (takp_decode(q, qlen, &fz_c, NULL, err, sizeof(err)) != TAKP_EVENT)
		fz_fail("v1 -> XML -> v1 does not decode", err);
	fz_same(&fz_a, &fz_c, "v1 and v1 -> XML -> v1");
	free(f);
	free(x);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	cot_parse_init();
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct cot_view	 xv;
	char			 err[COT_ERR_MAX];
	uint8_t			*f = NULL;
	const uint8_t		*p;
	size_t			 i = 0, flen, plen;
	int			 parsed;

	while (i < len && (data[i] == ' ' || data[i] == '\n' ||
	    data[i] == '\r' || data[i] == '\t'))
		i++;
	if (i == len || data[i] != '<') {
		fz_payload_path(data, len, NULL);
		return (0);
	}
	parsed = cot_parse(data, len, &xv, err, sizeof(err)) == 0;
	if (takp_from_xml(data, len, &f, &flen, err, sizeof(err)) != 0)
		return (0);
	if (!parsed)
		fz_fail("takp_from_xml takes what cot_parse refuses", NULL);
	p = fz_payload(f, flen, &plen);
	fz_payload_path(p, plen, &xv);
	free(f);
	return (0);
}
