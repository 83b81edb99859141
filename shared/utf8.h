/*
 * One UTF-8 decoder for every place that checks text it did not write:
 * CoT events (XML and TAK protocol v1), group names, the users file.  Each
 * caller decides which well-formed code points it refuses (controls,
 * U+FFFE...); what well-formed means is decided here only.
 */
#ifndef TAKD_UTF8_H
#define TAKD_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The code point at s (left > 0 bytes readable) in *cp and the length of
 * its sequence, or 0 when it is not well-formed UTF-8 (RFC 3629: shortest
 * form only, no surrogate, nothing past U+10FFFF, no truncated sequence).
 */
size_t	 utf8_decode(const uint8_t *s, size_t left, uint32_t *cp);

#endif
