/*
 * An event in the encoding of its recipient (docs/takproto.md, "In the
 * worker"): the XML event of an XML sender for a v1 session, the v1 frame
 * of a v1 sender for an XML session, and the events takd makes (in XML)
 * for v1 sessions.
 *
 * The conversion is made once per event per worker, by the first recipient
 * that needs it, and kept with the event (struct evbuf's other): every
 * later recipient of that encoding takes a reference to the same bytes.
 * An event the codec cannot convert is remembered as such (unconvertible):
 * counted once, never tried again, and no recipient of the other encoding
 * gets it.  Pure but for the counters: no sockets, no clock.
 */
#ifndef TAKD_WORKER_EVCONV_H
#define TAKD_WORKER_EVCONV_H

#include "shared/counters.h"
#include "worker/deliver.h"

/*
 * ev as enc: ev itself when it is in enc, else its counterpart, made now
 * when it is the first call (counted in cnt's takp_xml_to_v1 or
 * takp_v1_to_xml).  NULL when ev cannot be converted (counted once in
 * takp_*_failed, logged at a limited rate).  Borrowed from ev: take a
 * reference to keep it.
 */
struct evbuf	*evconv_get0(struct evbuf *ev, enum evbuf_enc enc,
		    struct counters *cnt);

#endif
