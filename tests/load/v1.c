/*
 * takload (see takload.c): TAK protocol v1 for the fan-out's v1 clients
 * (--v1 PCT).  A client's SA is encoded once with takd's codec
 * (takp_from_xml()) when it switches; each send copies that frame and
 * patches what changes (the three times, lat and lon, the <takload>
 * marker's digits) in place, so that the generator costs no more per event
 * in v1 than in XML.  The patched fields keep their sizes: times are
 * 6-byte varints from 2004 to 2039, doubles 8 bytes, the marker's numbers
 * zero-padded.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/takp.h"
#include "cot/takp_frame.h"
#include "tests/load/takload.h"

/* Times whose varints take 6 bytes: 2^35 .. 2^42 - 1 ms. */
#define TL_V1_TIME_MIN	(INT64_C(1) << 35)
#define TL_V1_TIME_MAX	((INT64_C(1) << 42) - 1)

const char tl_v1_request[] =
    "<event version=\"2.0\" uid=\"protouid\" type=\"t-x-takp-q\" "
    "time=\"2026-01-01T00:00:00.000Z\" start=\"2026-01-01T00:00:00.000Z\" "
    "stale=\"2099-01-01T00:00:00.000Z\" how=\"m-g\"><point lat=\"0.0\" "
    "lon=\"0.0\" hae=\"0.0\" ce=\"999999\" le=\"999999\"/><detail>"
    "<TakControl><TakRequest version=\"1\"/></TakControl></detail>"
    "</event>";

/* A varint at p[0..n): its length, 0 when truncated or too long. */
static size_t
tl_v1_varint(const uint8_t *p, size_t n, uint64_t *v)
{
	size_t	 used;

	if (takp_varint_decode(p, n, v, &used, NULL) != 1)
		return (0);
	return (used);
}

/*
 * The CotEvent of the frame: the offsets of sendTime, startTime, staleTime
 * (fields 6, 7, 8, varints) and lat, lon (10, 11, fixed64).
 */
static int
tl_v1_locate(struct tl_v1 *t)
{
	const uint8_t	*p = t->frame, *end = t->frame + t->len, *ev;
	uint64_t	 v, key, n;
	size_t		 k, field;

	/* 0xBF, the length, then TakMessage field 2 (cotEvent), length. */
	if ((k = tl_v1_varint(p + 1, t->len - 1, &v)) == 0)
		return (-1);
	p += 1 + k;
	if (p >= end || *p != 0x12 || (k = tl_v1_varint(p + 1,
	    (size_t)(end - p - 1), &n)) == 0 || n != (uint64_t)(end - p - 1 -
	    k))
		return (-1);
	ev = p + 1 + k;
	for (p = ev; p < end; ) {
		if ((k = tl_v1_varint(p, (size_t)(end - p), &key)) == 0)
			return (-1);
		p += k;
		field = (size_t)(key >> 3);
		switch (key & 7) {
		case 0:
			if ((k = tl_v1_varint(p, (size_t)(end - p), &v)) == 0)
				return (-1);
			if (field >= 6 && field <= 8) {
				if (k != 6)
					return (-1);
				t->time_off[field - 6] = (size_t)(p - t->frame);
			}
			p += k;
			break;
		case 1:
			if (end - p < 8)
				return (-1);
			if (field == 10)
				t->lat_off = (size_t)(p - t->frame);
			else if (field == 11)
				t->lon_off = (size_t)(p - t->frame);
			p += 8;
			break;
		case 2:
			if ((k = tl_v1_varint(p, (size_t)(end - p), &n)) ==
			    0 || n > (uint64_t)(end - p) - k)
				return (-1);
			p += k + n;
			break;
		case 5:
			p += 4;
			break;
		default:
			return (-1);
		}
	}
	return (t->time_off[0] && t->time_off[1] && t->time_off[2] &&
	    t->lat_off && t->lon_off ? 0 : -1);
}

int
tl_v1_template(struct tl_v1 *t, const char *xml, size_t len, char *err,
    size_t errlen)
{
	const uint8_t	*m;

	memset(t, 0, sizeof(*t));
	if (takp_from_xml(xml, len, &t->frame, &t->len, err, errlen) == -1)
		return (-1);
	if (tl_v1_locate(t) == -1 ||
	    (m = memmem(t->frame, t->len, TL_V1_MARK,
	    sizeof(TL_V1_MARK) - 1)) == NULL ||
	    (size_t)(m - t->frame) + TL_V1_MARK_LEN > t->len) {
		snprintf(err, errlen, "the SA's v1 frame has no field where "
		    "expected");
		free(t->frame);
		t->frame = NULL;
		return (-1);
	}
	t->mark_off = (size_t)(m - t->frame);
	return (0);
}

void
tl_v1_free(struct tl_v1 *t)
{
	free(t->frame);
	t->frame = NULL;
}

/* v as the 6-byte varint at p. */
static void
tl_v1_put_time(uint8_t *p, int64_t v)
{
	int	 i;

	if (v < TL_V1_TIME_MIN || v > TL_V1_TIME_MAX)
		tl_fail("time %lld out of the 6-byte varint range",
		    (long long)v);
	for (i = 0; i < 6; i++, v >>= 7)
		p[i] = (uint8_t)((v & 0x7f) | (i < 5 ? 0x80 : 0));
}

size_t
tl_v1_fill(const struct tl_v1 *t, uint8_t *out, size_t cap, int64_t ms,
    int64_t stale_ms, double lat, double lon, unsigned s, unsigned q,
    int64_t t_us)
{
	char	 mark[TL_V1_MARK_LEN + 1];

	if (t->len > cap)
		tl_fail("v1 SA of %zu bytes does not fit in %zu", t->len, cap);
	memcpy(out, t->frame, t->len);
	tl_v1_put_time(out + t->time_off[0], ms);
	tl_v1_put_time(out + t->time_off[1], ms);
	tl_v1_put_time(out + t->time_off[2], stale_ms);
	/* fixed64: little-endian, as the CPUs takload runs on. */
	memcpy(out + t->lat_off, &lat, 8);
	memcpy(out + t->lon_off, &lon, 8);
	snprintf(mark, sizeof(mark), TL_V1_MARK_FMT, s, q, t_us);
	memcpy(out + t->mark_off, mark, TL_V1_MARK_LEN);
	return (t->len);
}

int
tl_v1_cut(const uint8_t *p, size_t n, size_t *hlen, size_t *plen)
{
	uint64_t	 v;
	size_t		 used;
	int		 r;

	if (n == 0)
		return (0);
	if (p[0] != TAKP_FRAME_LEAD)
		return (-1);
	if ((r = takp_varint_decode(p + 1, n - 1, &v, &used, NULL)) != 1)
		return (r);
	if (v > n - 1 - used)
		return (0);
	*hlen = 1 + used;
	*plen = (size_t)v;
	return (1);
}
