/*
 * What the files of the TAK protocol v1 codec share (cot/takp_*.c); not
 * for other callers, which want cot/takp.h.
 */
#ifndef TAKD_TAKP_INT_H
#define TAKD_TAKP_INT_H

#include <stddef.h>
#include <stdint.h>

#include "takmessage.pb-c.h"

#include "cot/takp.h"

/* protoc-c's names, shortened. */
typedef Atakmap__Commoncommo__Protobuf__V1__TakMessage	 TakpMessage;
typedef Atakmap__Commoncommo__Protobuf__V1__TakControl	 TakpControl;
typedef Atakmap__Commoncommo__Protobuf__V1__CotEvent	 TakpEvent;
typedef Atakmap__Commoncommo__Protobuf__V1__Detail	 TakpDetail;
typedef Atakmap__Commoncommo__Protobuf__V1__Contact	 TakpContact;
typedef Atakmap__Commoncommo__Protobuf__V1__Group	 TakpGroup;
typedef Atakmap__Commoncommo__Protobuf__V1__PrecisionLocation TakpPrecision;
typedef Atakmap__Commoncommo__Protobuf__V1__Status	 TakpStatus;
typedef Atakmap__Commoncommo__Protobuf__V1__Takv	 TakpTakv;
typedef Atakmap__Commoncommo__Protobuf__V1__Track	 TakpTrack;

/*
 * The typed detail messages, by the element each stands for; the bit of
 * each in a "seen" mask (cot_parse_detail()).
 */
enum takp_typed {
	TAKP_T_CONTACT,
	TAKP_T_GROUP,
	TAKP_T_PRECISION,
	TAKP_T_STATUS,
	TAKP_T_TAKV,
	TAKP_T_TRACK,
	TAKP_T_COUNT
};
/* Element names, indexed by enum takp_typed, NULL-terminated. */
extern const char *const takp_typed_names[TAKP_T_COUNT + 1];

/* A payload unpacked and checked (takp_unpack()). */
struct takp_msg {
	TakpMessage	*m;
	TakpEvent	*ev;		/* NULL: a control message */
	unsigned	 xml_seen;	/* typed names present in xmlDetail */
};

/*
 * takp_decode()'s work, keeping the message for takp_to_xml(): returns
 * TAKP_EVENT or TAKP_CONTROL with *msg to release with takp_msg_free(),
 * or -1 with err (nothing to release).
 */
int	 takp_unpack(const uint8_t *payload, size_t len, struct cot_view *v,
	    struct takp_control *ctl, struct takp_msg *msg, char *err,
	    size_t errlen);
void	 takp_msg_free(struct takp_msg *);

#endif
