/*
 * An event in its recipient's encoding, converted once per event: see
 * evconv.h and docs/takproto.md ("In the worker").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/takp.h"
#include "cot/takp_frame.h"
#include "shared/log.h"
#include "worker/evconv.h"

/* A sender's events that cannot be converted come in runs: once a second. */
static struct log_ratelimit evconv_rl = { .burst = 1 };

/* The XML event of ev as a v1 event; NULL with err. */
static struct evbuf *
evconv_to_v1(const struct evbuf *ev, char *err, size_t errlen)
{
	struct evbuf	*out = NULL;
	const uint8_t	*body;
	uint8_t		*frame = NULL;
	uint64_t	 v;
	size_t		 len, flen, used;

	body = evbuf_body(ev, &len);
	if (takp_from_xml(body, len, &frame, &flen, err, errlen) == -1)
		return (NULL);
	/* A whole frame: the event keeps its message, behind its header. */
	if (flen < 2 || frame[0] != TAKP_FRAME_LEAD ||
	    takp_varint_decode(frame + 1, flen - 1, &v, &used, NULL) != 1 ||
	    v != flen - 1 - used) {
		snprintf(err, errlen, "the codec wrote no v1 frame");
		goto done;
	}
	if ((out = evbuf_new_v1(frame + 1 + used, (size_t)v)) == NULL)
		snprintf(err, errlen, "out of memory");
done:
	free(frame);
	return (out);
}

/* The v1 event of ev as an XML event; NULL with err. */
static struct evbuf *
evconv_to_xml(const struct evbuf *ev, char *err, size_t errlen)
{
	struct evbuf	*out;
	const uint8_t	*body;
	char		*xml;
	size_t		 len, xlen;

	body = evbuf_body(ev, &len);
	if (takp_to_xml(body, len, &xml, &xlen, err, errlen) == -1)
		return (NULL);
	if ((out = evbuf_new(xml, xlen)) == NULL)
		snprintf(err, errlen, "out of memory");
	free(xml);
	return (out);
}

struct evbuf *
evconv_get0(struct evbuf *ev, enum evbuf_enc enc, struct counters *cnt)
{
	char	 err[COT_ERR_MAX];
	bool	 to_v1 = enc == EVBUF_V1;

	if (ev->enc == enc)
		return (ev);
	if (ev->other != NULL || ev->unconvertible)
		return (ev->other);
	err[0] = '\0';
	ev->other = to_v1 ? evconv_to_v1(ev, err, sizeof(err)) :
	    evconv_to_xml(ev, err, sizeof(err));
	if (ev->other != NULL) {
		if (to_v1)
			cnt->takp_xml_to_v1++;
		else
			cnt->takp_v1_to_xml++;
		return (ev->other);
	}
	ev->unconvertible = true;
	if (to_v1)
		cnt->takp_xml_to_v1_failed++;
	else
		cnt->takp_v1_to_xml_failed++;
	log_limited(&evconv_rl, LOG_WARNING, "an event of %u bytes cannot be "
	    "written in %s for the %s clients: %s", ev->len, to_v1 ?
	    "TAK protocol v1" : "XML", to_v1 ? "v1" : "XML", err);
	return (NULL);
}
