/*
 * Fixtures of tests/unit/test_takp.c: a protobuf wire writer of its own
 * (to make payloads that protobuf-c would never write: NUL in a string,
 * wrong wire types, lengths past the end) and a comparison of two XML
 * events as trees.  They fail the running cmocka test on error.
 */
#ifndef TAKD_TESTS_TAKP_FX_H
#define TAKD_TESTS_TAKP_FX_H

#include <stddef.h>
#include <stdint.h>

#include "cot/cot_parse.h"

/* A payload being written; pb_free() it. */
struct pb {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
};

void	 pb_free(struct pb *);
void	 pb_raw(struct pb *, const void *, size_t);
void	 pb_varint(struct pb *, uint64_t);
/* field key: number and wire type */
void	 pb_key(struct pb *, uint32_t field, unsigned wire);
void	 pb_u64(struct pb *, uint32_t field, uint64_t);
void	 pb_double(struct pb *, uint32_t field, double);
/* length-delimited: bytes, a C string, or a message written before */
void	 pb_bytes(struct pb *, uint32_t field, const void *, size_t);
void	 pb_str(struct pb *, uint32_t field, const char *);
void	 pb_msg(struct pb *, uint32_t field, const struct pb *);

/*
 * A CotEvent with uid, type "a-f-G-U-C", how "m-g", send/start/stale
 * times (2026-11-23T08:00:00Z, stale 6 min later) and a point, as fields
 * of ev; the caller adds more (a later field of the same number wins).
 */
void	 pb_event_base(struct pb *ev, const char *uid);
/* TakMessage { cotEvent = ev } */
void	 pb_wrap_event(struct pb *msg, const struct pb *ev);

/*
 * Payload of a v1 frame (takp_from_xml()'s output), after checking its
 * header independently of the codec: 0xBF, a minimal varint equal to the
 * rest's length.
 */
const uint8_t *takp_fx_payload(const uint8_t *frame, size_t len,
	    size_t *plen);

/*
 * Do two XML events say the same?  Elements, attributes and text compared
 * as trees: attribute values equal as strings, or as numbers (both plain
 * decimals), or as times (both cot_time_parse()); the children of <detail>
 * in any order, others in order; whitespace-only text ignored.  0 when
 * equivalent, else -1 with the first difference in why.
 */
int	 takp_fx_equiv(const char *a, size_t alen, const char *b, size_t blen,
	    char *why, size_t whylen);

/*
 * The codec through cmocka: the view the helpers below fill (a decoded
 * payload, or cot_parse() of what takp_to_xml() wrote) and the last
 * error.
 */
extern struct cot_view	 fx_view;
extern char		 fx_err[COT_ERR_MAX];

/* takp_from_xml() must take xml; its payload (header checked) into *pay */
void	 fx_encode_ok(const char *xml, size_t len, struct pb *pay);
/* takp_from_xml() must refuse xml with an error containing want */
void	 fx_encode_bad(const char *xml, const char *want);
/* takp_to_xml() must take pay, cot_parse() its output (into fx_view) */
char	*fx_to_xml_ok(const struct pb *pay, size_t *len);
/* takp_decode() into fx_view must accept pay */
void	 fx_decode_ok(const struct pb *pay);
/* takp_decode() and takp_to_xml() must both refuse pay with want */
void	 fx_decode_bad(const struct pb *pay, const char *want);
/* TakMessage { cotEvent = base event (pb_event_base) + extra } */
void	 fx_event_with(struct pb *msg, const char *uid,
	    const struct pb *extra);
/* an event whose Detail is det; whose Detail has xmlDetail s[0..n) */
void	 fx_event_detail(struct pb *msg, const struct pb *det);
void	 fx_event_xml_detail(struct pb *msg, const char *s, size_t n);
/* every field of two views equal (what: for the message) */
void	 fx_views_equal(const struct cot_view *, const struct cot_view *,
	    const char *what);

#endif
