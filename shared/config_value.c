/*
 * Configuration values: the syntaxes of config.h's values, free of any key
 * (the keys and their bounds are in config_keys.c).  Numbers, durations with
 * a unit and sizes with a suffix tell a syntax error from a value out of
 * range, so that the message can say which; durations and sizes are spelled
 * back the way the file would write them.  Host names, listen addresses and
 * their clashes, and paths made absolute without asking the file system.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shared/config.h"
#include "shared/config_int.h"

/* Copy into a field; -1 rather than a silently shortened value. */
int
config_str_copy(char *dst, size_t dstlen, const char *src)
{
	size_t	 len = strlen(src);

	if (len >= dstlen)
		return (-1);
	memcpy(dst, src, len + 1);
	return (0);
}

enum num_result
config_number_parse(const char *s, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long	 v = 0;
	unsigned		 d;

	if (*s == '\0')
		return (NUM_SYNTAX);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (NUM_SYNTAX);
		d = (unsigned)(*s - '0');
		if (d > max || v > (max - d) / 10)
			goto range;
		v = v * 10 + d;
	}
	*out = v;
	return (NUM_OK);
 range:
	/* Tell "12x" (syntax) from a long run of digits (range). */
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return (NUM_SYNTAX);
	return (NUM_RANGE);
}

/* "<digits><unit>" or "0", in ms; NUM_RANGE past UINT_MAX ms. */
enum num_result
config_duration_parse(const char *s, unsigned long long *ms)
{
	static const struct {
		const char		*unit;
		unsigned long long	 ms;
	} units[] = {
		{ "ms", 1 }, { "s", MS_SECOND }, { "m", MS_MINUTE },
		{ "h", MS_HOUR }, { "d", MS_DAY }
	};
	char			 digits[32];
	unsigned long long	 v;
	enum num_result		 r;
	size_t			 i, n;

	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return (NUM_OK);
	}
	if ((n = strspn(s, "0123456789")) == 0)
		return (NUM_SYNTAX);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(s + n, units[i].unit) == 0)
			break;
	if (i == sizeof(units) / sizeof(units[0]))
		return (NUM_SYNTAX);
	if (n >= sizeof(digits))
		return (NUM_RANGE);
	memcpy(digits, s, n);
	digits[n] = '\0';
	if ((r = config_number_parse(digits, UINT_MAX, &v)) != NUM_OK)
		return (r);
	if (v > UINT_MAX / units[i].ms)
		return (NUM_RANGE);
	*ms = v * units[i].ms;
	return (NUM_OK);
}

/* The shortest exact spelling of a duration, for messages. */
void
config_duration_fmt(char *out, size_t outlen, unsigned long long ms)
{
	if (ms == 0)
		snprintf(out, outlen, "0");
	else if (ms % MS_DAY == 0)
		snprintf(out, outlen, "%llud", ms / MS_DAY);
	else if (ms % MS_HOUR == 0)
		snprintf(out, outlen, "%lluh", ms / MS_HOUR);
	else if (ms % MS_MINUTE == 0)
		snprintf(out, outlen, "%llum", ms / MS_MINUTE);
	else if (ms % MS_SECOND == 0)
		snprintf(out, outlen, "%llus", ms / MS_SECOND);
	else
		snprintf(out, outlen, "%llums", ms);
}

/* Bytes, or binary kilo, mega, giga or terabytes: a k, M, G or T suffix. */
enum num_result
config_size_parse(const char *s, unsigned long long max,
    unsigned long long *out)
{
	char			 digits[32];
	unsigned long long	 mult = 1, v;
	enum num_result		 r;
	size_t			 n;

	if ((n = strspn(s, "0123456789")) == 0)
		return (NUM_SYNTAX);
	if (s[n] == 'k' || s[n] == 'K')
		mult = 1024;
	else if (s[n] == 'm' || s[n] == 'M')
		mult = 1024 * 1024;
	else if (s[n] == 'g' || s[n] == 'G')
		mult = 1024ULL << 20;
	else if (s[n] == 't' || s[n] == 'T')
		mult = 1024ULL << 30;
	else if (s[n] != '\0')
		return (NUM_SYNTAX);
	if (mult != 1 && s[n + 1] != '\0')
		return (NUM_SYNTAX);
	if (n >= sizeof(digits))
		return (NUM_RANGE);
	memcpy(digits, s, n);
	digits[n] = '\0';
	if ((r = config_number_parse(digits, max, &v)) != NUM_OK)
		return (r);
	if (v > max / mult)
		return (NUM_RANGE);
	*out = v * mult;
	return (NUM_OK);
}

void
config_size_fmt(char *out, size_t outlen, unsigned long long n)
{
	if (n != 0 && n % (1024ULL << 30) == 0)
		snprintf(out, outlen, "%lluT", n >> 40);
	else if (n != 0 && n % (1024ULL << 20) == 0)
		snprintf(out, outlen, "%lluG", n >> 30);
	else if (n != 0 && n % (1024 * 1024) == 0)
		snprintf(out, outlen, "%lluM", n / (1024 * 1024));
	else if (n != 0 && n % 1024 == 0)
		snprintf(out, outlen, "%lluk", n / 1024);
	else
		snprintf(out, outlen, "%llu", n);
}

/* Host name labels, a dotted quad or a bare IPv6 address; no port. */
bool
config_host_valid(const char *h)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	size_t		 label = 0, len = strlen(h);
	bool		 numeric = true;
	const char	*p;

	if (len == 0 || len > 253)
		return (false);
	if (strchr(h, ':') != NULL)
		return (inet_pton(AF_INET6, h, &a6) == 1);
	for (p = h; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-')
				return (false);
			label = 0;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-'))
			return (false);
		if (*p == '-' && label == 0)
			return (false);
		if (*p < '0' || *p > '9')
			numeric = false;
		if (++label > 63)
			return (false);
	}
	if (p[-1] == '-')
		return (false);
	/* "tak.example.org." is a fully qualified name, "10.0.0.1." is not. */
	if (numeric)
		return (label != 0 && inet_pton(AF_INET, h, &a4) == 1);
	return (true);
}

/* An IPv6 literal as written in brackets, with an optional %zone. */
static bool
host6_valid(const char *h)
{
	char		 addr[INET6_ADDRSTRLEN];
	struct in6_addr	 a6;
	const char	*zone, *p;
	size_t		 n;

	if ((zone = strchr(h, '%')) == NULL)
		zone = h + strlen(h);
	n = (size_t)(zone - h);
	if (n == 0 || n >= sizeof(addr))
		return (false);
	memcpy(addr, h, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET6, addr, &a6) != 1)
		return (false);
	if (*zone == '\0')
		return (true);
	if (zone[1] == '\0')
		return (false);
	for (p = zone + 1; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' ||
		    *p == '.'))
			return (false);
	return (true);
}

static const char *
port_parse(const char *s, char *port, size_t portlen)
{
	unsigned long long	 v;

	if (*s == '\0')
		return ("missing port number");
	if (config_number_parse(s, 65535, &v) != NUM_OK)
		return ("port must be a number from 0 to 65535");
	snprintf(port, portlen, "%llu", v);
	return (NULL);
}

/* NULL on success, else why the address is not one. */
const char *
config_listen_parse(const char *s, struct config_listen *la)
{
	struct config_listen	 tmp;
	const char		*rb, *colon, *why;
	size_t			 n;

	memset(&tmp, 0, sizeof(tmp));
	if (*s == '\0')
		return ("empty address");
	if (*s == '[') {
		if ((rb = strchr(s, ']')) == NULL)
			return ("missing ']' after the IPv6 address");
		n = (size_t)(rb - s - 1);
		if (n == 0)
			return ("empty IPv6 address in brackets");
		if (n >= sizeof(tmp.host))
			return ("address too long");
		memcpy(tmp.host, s + 1, n);
		tmp.host[n] = '\0';
		if (!host6_valid(tmp.host))
			return ("not an IPv6 address in brackets");
		if (rb[1] != ':')
			return ("expected :PORT after the ']'");
		if ((why = port_parse(rb + 2, tmp.port,
		    sizeof(tmp.port))) != NULL)
			return (why);
	} else if ((colon = strchr(s, ':')) != NULL) {
		if (strchr(colon + 1, ':') != NULL)
			return ("write IPv6 addresses in brackets, "
			    "as in [::1]:8089");
		n = (size_t)(colon - s);
		if (n >= sizeof(tmp.host))
			return ("address too long");
		memcpy(tmp.host, s, n);
		tmp.host[n] = '\0';
		if (n > 0 && !config_host_valid(tmp.host))
			return ("not a host name or IPv4 address");
		if ((why = port_parse(colon + 1, tmp.port,
		    sizeof(tmp.port))) != NULL)
			return (why);
	} else {
		if (strspn(s, "0123456789") != strlen(s))
			return ("expected HOST:PORT, [IPV6]:PORT, :PORT "
			    "or PORT");
		if ((why = port_parse(s, tmp.port, sizeof(tmp.port))) != NULL)
			return (why);
	}
	*la = tmp;
	return (NULL);
}

void
config_listen_fmt(char *out, size_t outlen, const struct config_listen *la)
{
	if (strchr(la->host, ':') != NULL)
		snprintf(out, outlen, "[%s]:%s", la->host, la->port);
	else
		snprintf(out, outlen, "%s:%s", la->host, la->port);
}

/*
 * Two listeners that cannot both bind.  Port 0 never clashes; the wildcard
 * ("") covers both unspecified addresses.
 */
bool
config_listen_clash(const struct config_listen *a,
    const struct config_listen *b)
{
	if (strcmp(a->port, b->port) != 0 || strcmp(a->port, "0") == 0)
		return (false);
	if (strcmp(a->host, b->host) == 0)
		return (true);
	if (a->host[0] == '\0')
		return (strcmp(b->host, "0.0.0.0") == 0 ||
		    strcmp(b->host, "::") == 0);
	if (b->host[0] == '\0')
		return (strcmp(a->host, "0.0.0.0") == 0 ||
		    strcmp(a->host, "::") == 0);
	return (false);
}

/*
 * Lexically clean an absolute or cwd-relative path: no "//", no "." parts, no
 * trailing "/".  ".." is kept, since only the file system knows where it goes
 * through a symbolic link.
 */
int
config_path_resolve(const char *cwd, const char *in, char *out, size_t outlen)
{
	char		 full[2 * PATH_MAX + 2];
	const char	*p, *end;
	size_t		 o = 0, n;

	if (in[0] == '/')
		n = (size_t)snprintf(full, sizeof(full), "%s", in);
	else
		n = (size_t)snprintf(full, sizeof(full), "%s/%s", cwd, in);
	if (n >= sizeof(full))
		return (-1);
	for (p = full; *p != '\0'; p = end) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		if ((end = strchr(p, '/')) == NULL)
			end = p + strlen(p);
		n = (size_t)(end - p);
		if (n == 1 && p[0] == '.')
			continue;
		if (o + 1 + n >= outlen)
			return (-1);
		out[o++] = '/';
		memcpy(out + o, p, n);
		o += n;
	}
	if (o == 0) {
		if (outlen < 2)
			return (-1);
		out[o++] = '/';
	}
	out[o] = '\0';
	return (0);
}

int
config_parse_duration(const char *s, unsigned *ms)
{
	unsigned long long	 v;

	if (config_duration_parse(s, &v) != NUM_OK || v > UINT_MAX)
		return (-1);
	*ms = (unsigned)v;
	return (0);
}

int
config_parse_size(const char *s, size_t *out)
{
	unsigned long long	 v;

	if (config_size_parse(s, SIZE_MAX, &v) != NUM_OK)
		return (-1);
	*out = (size_t)v;
	return (0);
}

int
config_parse_listen(const char *s, struct config_listen *la)
{
	return (config_listen_parse(s, la) == NULL ? 0 : -1);
}
