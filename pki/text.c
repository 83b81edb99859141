/*
 * Serial numbers, dates and reason names as text: the index's own forms, and
 * the forms operators type and other tools (OpenSSL, FreeTAKServer's Python)
 * write, which revocation and the imports read.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "pki/pki.h"

#define PKI_SERIAL_OCTETS	20	/* RFC 5280 4.1.2.2 */
#define PKI_SERIAL_TEXT_MAX	128	/* a serial as text, separators too */
#define PKI_DATE_MIN_YEAR	1950	/* dates read from other tools */

int
pki_serial_hex(const ASN1_INTEGER *ai, char *buf, size_t len)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*p;
	int			 n, i;

	/* The content octets are the magnitude: no BIGNUM needed. */
	if (ASN1_STRING_type(ai) != V_ASN1_INTEGER &&
	    ASN1_STRING_type(ai) != V_ASN1_NEG_INTEGER)
		return (-1);
	p = ASN1_STRING_get0_data(ai);
	n = ASN1_STRING_length(ai);
	while (n > 0 && *p == 0) {
		p++;
		n--;
	}
	if (n > PKI_SERIAL_HEX / 2 || len < (size_t)(2 * (n == 0 ? 1 : n) + 1))
		return (-1);
	if (n == 0) {
		snprintf(buf, len, "00");
		return (0);
	}
	for (i = 0; i < n; i++) {
		buf[2 * i] = hex[p[i] >> 4];
		buf[2 * i + 1] = hex[p[i] & 0x0f];
	}
	buf[2 * n] = '\0';
	return (0);
}

ASN1_INTEGER *
pki_serial_asn1(const char *hex)
{
	unsigned char	 b[PKI_SERIAL_HEX / 2 + 1];
	ASN1_INTEGER	*ai;
	size_t		 len = strlen(hex), n = 0, i = 0;
	int		 hi, lo;

	while (len > 1 && *hex == '0') {
		hex++;
		len--;
	}
	if (len == 0 || (len + 1) / 2 > sizeof(b))
		return (NULL);
	if (len % 2 == 1) {	/* "ABC" is 0x0A 0xBC */
		if ((lo = OPENSSL_hexchar2int((unsigned char)hex[0])) < 0)
			return (NULL);
		b[n++] = (unsigned char)lo;
		i = 1;
	}
	for (; i < len; i += 2) {
		hi = OPENSSL_hexchar2int((unsigned char)hex[i]);
		lo = OPENSSL_hexchar2int((unsigned char)hex[i + 1]);
		if (hi < 0 || lo < 0)
			return (NULL);
		b[n++] = (unsigned char)(hi << 4 | lo);
	}
	if ((ai = ASN1_INTEGER_new()) == NULL)
		return (NULL);
	/* Zero has one content octet; others none of leading zeros. */
	if (!ASN1_STRING_set(ai, b[0] == 0 && n > 1 ? b + 1 : b,
	    (int)(b[0] == 0 && n > 1 ? n - 1 : n))) {
		ASN1_INTEGER_free(ai);
		return (NULL);
	}
	return (ai);
}

/* The index's form of a BIGNUM: positive, at most 20 octets. */
static int
pki_bn_serial(const BIGNUM *bn, char *buf, size_t len)
{
	ASN1_INTEGER	*ai;
	int		 rc;

	if (BN_is_negative(bn) || BN_num_bytes(bn) > PKI_SERIAL_OCTETS)
		return (-1);
	if ((ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		return (-1);
	rc = pki_serial_hex(ai, buf, len);
	ASN1_INTEGER_free(ai);
	return (rc);
}

/* digits: decimal or hex digits only, nothing else. */
static int
pki_serial_digits(const char *digits, bool hex, char *buf, size_t len)
{
	BIGNUM	*bn = NULL;
	size_t	 n = strlen(digits);
	int	 rc = -1;

	if (n == 0 || n > 2 * PKI_SERIAL_OCTETS + 16)
		return (-1);
	if ((hex ? BN_hex2bn(&bn, digits) : BN_dec2bn(&bn, digits)) ==
	    (int)n)
		rc = pki_bn_serial(bn, buf, len);
	BN_free(bn);
	ERR_clear_error();
	return (rc);
}

int
pki_serial_parse(const char *s, char *buf, size_t len)
{
	char	 digits[PKI_SERIAL_TEXT_MAX];
	size_t	 n = 0, group = 0;
	bool	 colons;

	if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0)
		s += 2;
	/* Hex digits, or groups of one or two between colons (7c:d8:..). */
	colons = strchr(s, ':') != NULL;
	for (; *s != '\0'; s++) {
		if (*s == ':') {
			if (group == 0 || s[1] == '\0')
				return (-1);
			group = 0;
			continue;
		}
		if (!isxdigit((unsigned char)*s) || (colons && ++group > 2) ||
		    n >= sizeof(digits) - 2)
			return (-1);
		/* "a:bc" is 0A BC: a lone digit of a group is its low half. */
		if (colons && group == 1 && (s[1] == ':' || s[1] == '\0'))
			digits[n++] = '0';
		digits[n++] = *s;
	}
	digits[n] = '\0';
	return (pki_serial_digits(digits, true, buf, len));
}

int
pki_serial_decimal(const char *s, char *buf, size_t len)
{
	return (pki_serial_digits(s, false, buf, len));
}

int
pki_serial_cmp(const char *a, const char *b)
{
	size_t	 la, lb;

	while (*a == '0')
		a++;
	while (*b == '0')
		b++;
	la = strlen(a);
	lb = strlen(b);
	if (la != lb)
		return (la < lb ? -1 : 1);
	return (strcasecmp(a, b));
}

/* Exactly n digits at *p into *v. */
static int
pki_num(const char **p, int n, int *v)
{
	*v = 0;
	for (; n > 0; n--, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return (-1);
		*v = *v * 10 + (**p - '0');
	}
	return (0);
}

/*
 * tm (UTC) to time_t, refusing dates that do not exist (Feb 30) and years
 * outside min_year..9999.
 */
static int
pki_tm_time(struct tm *tm, int min_year, long offset, time_t *t)
{
	struct tm	 check;
	int		 mon = tm->tm_mon, mday = tm->tm_mday;
	time_t		 v;

	if (tm->tm_year < min_year - 1900 || tm->tm_year > 9999 - 1900 ||
	    mon < 0 || mon > 11 || mday < 1 || mday > 31 ||
	    tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
		return (-1);
	if (tm->tm_sec == 60)		/* a leap second */
		tm->tm_sec = 59;
	v = timegm(tm);
	if (gmtime_r(&v, &check) == NULL || check.tm_mon != mon ||
	    check.tm_mday != mday)
		return (-1);
	*t = v - offset;
	return (0);
}

/* "Z", "+HH:MM", "+HHMM", "+HH", " UTC", "UTC", " GMT" or nothing. */
static int
pki_zone(const char *p, long *offset)
{
	int	 h, m = 0, sign;
	bool	 blank = false;

	*offset = 0;
	if (*p == ' ') {
		blank = true;
		p++;
	}
	if (*p == '\0')
		return (blank ? -1 : 0);
	if (strcmp(p, "Z") == 0 || strcmp(p, "z") == 0 ||
	    strcmp(p, "UTC") == 0 || strcmp(p, "GMT") == 0)
		return (0);
	if (*p != '+' && *p != '-')
		return (-1);
	sign = *p++ == '-' ? -1 : 1;
	if (pki_num(&p, 2, &h) == -1)
		return (-1);
	if (*p == ':')
		p++;
	if (*p != '\0' && pki_num(&p, 2, &m) == -1)
		return (-1);
	if (*p != '\0' || h > 23 || m > 59)
		return (-1);
	*offset = sign * (h * 3600L + m * 60L);
	return (0);
}

int
pki_date_parse(const char *s, time_t *t)
{
	struct tm	 tm;
	const char	*p = s, *end;
	long		 offset, v;
	int		 y, mo, d, h = 0, mi = 0, sec = 0;
	char		*ep;

	memset(&tm, 0, sizeof(tm));
	/* Unix seconds, a fraction allowed (Python's timestamp()). */
	if (isdigit((unsigned char)*p) && strspn(p, "0123456789") > 4 &&
	    p[strspn(p, "0123456789")] != '-') {
		v = strtol(p, &ep, 10);
		if (*ep == '.' && isdigit((unsigned char)ep[1]))
			for (ep++; isdigit((unsigned char)*ep); ep++)
				;
		if (*ep != '\0' || v < -631152000L || v > 253402300799L)
			return (-1);	/* 1950-01-01 .. 9999-12-31 */
		*t = (time_t)v;
		return (0);
	}
	if (pki_num(&p, 4, &y) == 0 && *p++ == '-' &&
	    pki_num(&p, 2, &mo) == 0 && *p++ == '-' &&
	    pki_num(&p, 2, &d) == 0) {
		if (*p == 'T' || *p == 't' || (*p == ' ' &&
		    isdigit((unsigned char)p[1]))) {
			p++;
			if (pki_num(&p, 2, &h) == -1 || *p++ != ':' ||
			    pki_num(&p, 2, &mi) == -1)
				return (-1);
			if (*p == ':') {
				p++;
				if (pki_num(&p, 2, &sec) == -1)
					return (-1);
				if (*p == '.' || *p == ',') {
					if (!isdigit((unsigned char)*++p))
						return (-1);
					while (isdigit((unsigned char)*p))
						p++;
				}
			}
		}
		if (pki_zone(p, &offset) == -1)
			return (-1);
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
		return (pki_tm_time(&tm, PKI_DATE_MIN_YEAR, offset, t));
	}
	/* OpenSSL's "May  1 12:34:56 2023 GMT" (openssl crl -text). */
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%b %d %H:%M:%S %Y", &tm);
	if (end == NULL || (*end != '\0' && strcmp(end, " GMT") != 0 &&
	    strcmp(end, " UTC") != 0))
		return (-1);
	return (pki_tm_time(&tm, PKI_DATE_MIN_YEAR, 0, t));
}

/*
 * Exactly "YYYY-MM-DDTHH:MM:SSZ": twice per index line, so no strptime.  A
 * date that does not exist (Feb 30) is refused, not moved to March.
 */
int
pki_time_parse(const char *s, time_t *t)
{
	struct tm	 tm;
	const char	*p = s;
	int		 mon;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 20 ||
	    pki_num(&p, 4, &tm.tm_year) == -1 || *p++ != '-' ||
	    pki_num(&p, 2, &mon) == -1 || *p++ != '-' ||
	    pki_num(&p, 2, &tm.tm_mday) == -1 || *p++ != 'T' ||
	    pki_num(&p, 2, &tm.tm_hour) == -1 || *p++ != ':' ||
	    pki_num(&p, 2, &tm.tm_min) == -1 || *p++ != ':' ||
	    pki_num(&p, 2, &tm.tm_sec) == -1 || *p != 'Z')
		return (-1);
	tm.tm_year -= 1900;
	tm.tm_mon = mon - 1;
	/* Any year the index may hold: what takctl wrote, it must read. */
	return (pki_tm_time(&tm, 0, 0, t));
}

const char *
pki_kind_name(enum pki_kind kind)
{
	switch (kind) {
	case PKI_KIND_CA:
		return ("ca");
	case PKI_KIND_SERVER:
		return ("server");
	case PKI_KIND_CLIENT:
		return ("client");
	case PKI_KIND_EXTERNAL:
		return ("external");
	}
	return ("?");
}
