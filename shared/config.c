/*
 * Configuration: see config.h.  inih calls config_handler() once per key; every
 * key has a row in config_keys[] that says how its value is checked and where
 * it is stored.  Parsing stops at the first error so that the message names
 * the one line to fix.
 *
 * inih is fed through config_read_line() rather than by file name, for four
 * reasons: the reader counts lines, so the handler knows the line it is
 * looking at (Debian's inih passes no line number); it sees section headers,
 * which inih never reports, so an unknown section is an error even when it
 * holds no key; it measures each physical line, because inih silently cuts a
 * line longer than its buffer and parses the rest as the next line; and it
 * strips leading blanks, so that an indented "key = value" is a key and not
 * the continuation of the previous value (inih's multi-line values).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "shared/config.h"
#include "shared/log.h"

#define CONFIG_LINE_BUF		256	/* > the longest line inih accepts */
#define CONFIG_MSG_MAX		512
#define CONFIG_VALUE_SHOWN	60	/* longer values are cut in messages */

/*
 * The admin socket lives in run_dir and sun_path holds 108 bytes: keep room
 * for "/" and a socket name, so that a long run_dir fails here, with the key
 * named, rather than at bind time.
 */
#define CONFIG_SUN_PATH		108
#define CONFIG_SOCKNAME_ROOM	17
#define CONFIG_RUN_DIR_MAX	(CONFIG_SUN_PATH - 1 - CONFIG_SOCKNAME_ROOM)

#define MS_SECOND		1000ULL
#define MS_MINUTE		(60 * MS_SECOND)
#define MS_HOUR			(60 * MS_MINUTE)
#define MS_DAY			(24 * MS_HOUR)

#define NNAMES(a)	(sizeof(a) / sizeof((a)[0]))

#define KEY_EMPTY_OK	0x01	/* "" is a valid value (off, derived) */
#define KEY_MULTI	0x02	/* may be given more than once */
#define KEY_SECRET	0x04	/* never shown in a message */
#define KEY_OFF_OK	0x08	/* duration: "off" means 0 */

struct load_ctx;
struct config_key;

typedef int (*config_set_fn)(struct load_ctx *, const struct config_key *,
    const char *);

struct config_key {
	const char		*section;
	const char		*name;
	config_set_fn		 set;
	size_t			 off;	/* of the field in struct config */
	size_t			 size;	/* of that field */
	unsigned long long	 min;
	unsigned long long	 max;
	unsigned		 flags;
};

struct load_ctx {
	struct config	*cfg;
	FILE		*fp;
	char		 cwd[PATH_MAX];
	char		 buf[CONFIG_LINE_BUF];
	int		 lineno;
	bool		 failed;
	int		 err_line;	/* 0 when no line applies */
	char		 msg[CONFIG_MSG_MAX];
	bool		 first;		/* this key's first occurrence */
	int		*seen;		/* line of each key's first occurrence */
};

enum num_result {
	NUM_OK,
	NUM_SYNTAX,
	NUM_RANGE
};

static void	 ctx_error(struct load_ctx *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static int	 key_error(struct load_ctx *, const struct config_key *,
		    const char *, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/* Record the first error only: it is the one the operator must fix first. */
static void
ctx_error(struct load_ctx *ctx, int line, const char *fmt, ...)
{
	va_list	 ap;

	if (ctx->failed)
		return;
	ctx->failed = true;
	ctx->err_line = line;
	va_start(ap, fmt);
	vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
	va_end(ap);
}

/* "[section] key: <what>, got "value"" at the current line. */
static int
key_error(struct load_ctx *ctx, const struct config_key *kd, const char *value,
    const char *fmt, ...)
{
	char	 what[CONFIG_MSG_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (value == NULL || (kd->flags & KEY_SECRET))
		ctx_error(ctx, ctx->lineno, "[%s] %s: %s", kd->section,
		    kd->name, what);
	else	/* control characters were refused before */
		ctx_error(ctx, ctx->lineno, "[%s] %s: %s, got \"%.*s%s\"",
		    kd->section, kd->name, what, CONFIG_VALUE_SHOWN, value,
		    strlen(value) > CONFIG_VALUE_SHOWN ? "..." : "");
	return (-1);
}

static void *
key_field(struct load_ctx *ctx, const struct config_key *kd)
{
	return ((char *)ctx->cfg + kd->off);
}

/* Copy into a field; -1 rather than a silently shortened value. */
static int
str_copy(char *dst, size_t dstlen, const char *src)
{
	size_t	 len = strlen(src);

	if (len >= dstlen)
		return (-1);
	memcpy(dst, src, len + 1);
	return (0);
}

static enum num_result
number_parse(const char *s, unsigned long long max, unsigned long long *out)
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
static enum num_result
duration_parse(const char *s, unsigned long long *ms)
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
	if ((r = number_parse(digits, UINT_MAX, &v)) != NUM_OK)
		return (r);
	if (v > UINT_MAX / units[i].ms)
		return (NUM_RANGE);
	*ms = v * units[i].ms;
	return (NUM_OK);
}

/* The shortest exact spelling of a duration, for messages. */
static void
duration_fmt(char *out, size_t outlen, unsigned long long ms)
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

/* Bytes, or binary kilobytes or megabytes with a k/K or m/M suffix. */
static enum num_result
size_parse(const char *s, unsigned long long max, unsigned long long *out)
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
	else if (s[n] != '\0')
		return (NUM_SYNTAX);
	if (mult != 1 && s[n + 1] != '\0')
		return (NUM_SYNTAX);
	if (n >= sizeof(digits))
		return (NUM_RANGE);
	memcpy(digits, s, n);
	digits[n] = '\0';
	if ((r = number_parse(digits, max, &v)) != NUM_OK)
		return (r);
	if (v > max / mult)
		return (NUM_RANGE);
	*out = v * mult;
	return (NUM_OK);
}

static void
size_fmt(char *out, size_t outlen, unsigned long long n)
{
	if (n != 0 && n % (1024 * 1024) == 0)
		snprintf(out, outlen, "%lluM", n / (1024 * 1024));
	else if (n != 0 && n % 1024 == 0)
		snprintf(out, outlen, "%lluk", n / 1024);
	else
		snprintf(out, outlen, "%llu", n);
}

/* Host name labels, a dotted quad or a bare IPv6 address; no port. */
static bool
host_valid(const char *h)
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
	if (number_parse(s, 65535, &v) != NUM_OK)
		return ("port must be a number from 0 to 65535");
	snprintf(port, portlen, "%llu", v);
	return (NULL);
}

/* NULL on success, else why the address is not one. */
static const char *
listen_parse(const char *s, struct config_listen *la)
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
		if (n > 0 && !host_valid(tmp.host))
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

static void
listen_fmt(char *out, size_t outlen, const struct config_listen *la)
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
static bool
listen_clash(const struct config_listen *a, const struct config_listen *b)
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
static int
path_resolve(const char *cwd, const char *in, char *out, size_t outlen)
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

static int
set_string(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	if (str_copy(key_field(ctx, kd), kd->size, v) == -1)
		return (key_error(ctx, kd, v, "value too long "
		    "(at most %zu characters)", kd->size - 1));
	return (0);
}

/* A user or group name, or a numeric id. */
static int
set_name(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	size_t	 n = strlen(v), ok;

	if (n == 0)
		return ((kd->flags & KEY_EMPTY_OK) ? set_string(ctx, kd, v) :
		    key_error(ctx, kd, NULL, "empty value"));
	ok = strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._-");
	if (v[0] == '-' || (ok != n && !(ok == n - 1 && v[n - 1] == '$')))
		return (key_error(ctx, kd, v, "expected a user or group name "
		    "(letters, digits, '.', '_', '-')"));
	return (set_string(ctx, kd, v));
}

static int
set_host(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	if (*v != '\0' && !host_valid(v))
		return (key_error(ctx, kd, v, "expected a host name or an IP "
		    "address (without a port)"));
	return (set_string(ctx, kd, v));
}

static int
set_path(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	char	*dst = key_field(ctx, kd);

	if (*v == '\0') {
		if (!(kd->flags & KEY_EMPTY_OK))
			return (key_error(ctx, kd, NULL, "empty path"));
		dst[0] = '\0';
		return (0);
	}
	if (path_resolve(ctx->cwd, v, dst, kd->size) == -1)
		return (key_error(ctx, kd, v, "path too long once made "
		    "absolute (at most %zu characters)", kd->size - 1));
	return (0);
}

static int
store_number(struct load_ctx *ctx, const struct config_key *kd,
    unsigned long long v)
{
	unsigned	 u = (unsigned)v;
	unsigned long	 ul = (unsigned long)v;
	size_t		 z = (size_t)v;

	/* memcpy: the field's own type is known only by its size here. */
	if (kd->size == sizeof(u) && v <= UINT_MAX)
		memcpy(key_field(ctx, kd), &u, sizeof(u));
	else if (kd->size == sizeof(ul) && v <= ULONG_MAX)
		memcpy(key_field(ctx, kd), &ul, sizeof(ul));
	else if (kd->size == sizeof(z) && v <= SIZE_MAX)
		memcpy(key_field(ctx, kd), &z, sizeof(z));
	else
		return (key_error(ctx, kd, NULL, "internal error: field size "
		    "%zu", kd->size));
	return (0);
}

static int
set_number(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	unsigned long long	 n;

	if (number_parse(v, ULLONG_MAX, &n) != NUM_OK || n < kd->min ||
	    n > kd->max)
		return (key_error(ctx, kd, v, "expected a number from %llu "
		    "to %llu", kd->min, kd->max));
	return (store_number(ctx, kd, n));
}

static int
set_duration(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	unsigned long long	 ms;
	char			 lo[32], hi[32];

	if ((kd->flags & KEY_OFF_OK) && strcmp(v, "off") == 0)
		return (store_number(ctx, kd, 0));
	duration_fmt(lo, sizeof(lo), kd->min);
	duration_fmt(hi, sizeof(hi), kd->max);
	switch (duration_parse(v, &ms)) {
	case NUM_OK:
		if (ms >= kd->min && ms <= kd->max)
			return (store_number(ctx, kd, ms));
		/* FALLTHROUGH */
	case NUM_RANGE:
		return (key_error(ctx, kd, v, "expected a duration from %s "
		    "to %s", lo, hi));
	case NUM_SYNTAX:
		break;
	}
	return (key_error(ctx, kd, v, "expected a duration with a unit "
	    "(ms, s, m, h or d) such as \"10s\"%s",
	    (kd->flags & KEY_OFF_OK) ? ", or \"off\"" : ""));
}

static int
set_size(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	unsigned long long	 n;
	char			 lo[32], hi[32];

	size_fmt(lo, sizeof(lo), kd->min);
	size_fmt(hi, sizeof(hi), kd->max);
	switch (size_parse(v, ULLONG_MAX, &n)) {
	case NUM_OK:
		if (n >= kd->min && n <= kd->max)
			return (store_number(ctx, kd, n));
		/* FALLTHROUGH */
	case NUM_RANGE:
		return (key_error(ctx, kd, v, "expected a size from %s to %s",
		    lo, hi));
	case NUM_SYNTAX:
		break;
	}
	return (key_error(ctx, kd, v, "expected a size in bytes, with an "
	    "optional k or M suffix"));
}

static int
set_bool(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	static const char *const yes[] = { "on", "true", "yes", "1" };
	static const char *const no[] = { "off", "false", "no", "0" };
	bool	*dst = key_field(ctx, kd);
	size_t	 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(v, yes[i]) == 0) {
			*dst = true;
			return (0);
		}
		if (strcmp(v, no[i]) == 0) {
			*dst = false;
			return (0);
		}
	}
	return (key_error(ctx, kd, v, "expected on or off (also true/false, "
	    "yes/no, 1/0)"));
}

static int
set_workers(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	unsigned long long	 n;

	if (strcmp(v, "auto") == 0)
		n = 0;
	else if (number_parse(v, ULLONG_MAX, &n) != NUM_OK || n < kd->min ||
	    n > kd->max)
		return (key_error(ctx, kd, v, "expected a number from %llu to "
		    "%llu or \"auto\"", kd->min, kd->max));
	ctx->cfg->workers = (unsigned)n;
	return (0);
}

static int
set_log(struct load_ctx *ctx, const struct config_key *kd, const char *v)
{
	if (*v == '\0')
		return (key_error(ctx, kd, NULL, "empty value: expected "
		    "stderr, syslog or a file path"));
	if (strcmp(v, "stderr") == 0 || strcmp(v, "syslog") == 0)
		return (set_string(ctx, kd, v));
	return (set_path(ctx, kd, v));
}

static int
set_log_level(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	int	 level;

	if ((level = log_level_parse(v)) == -1 || level == LOG_NOTICE)
		return (key_error(ctx, kd, v, "expected error, warning, info "
		    "or debug"));
	ctx->cfg->log_level = level;
	return (0);
}

/* The names of enum crl_check and enum crl_stale, by value. */
static const char *const crl_check_names[] = {
	[CRL_CHECK_LEAF] = "leaf",
	[CRL_CHECK_CHAIN] = "chain",
	[CRL_CHECK_OFF] = "off"
};
static const char *const crl_stale_names[] = {
	[CRL_STALE_ENFORCE_LISTED] = "enforce-listed",
	[CRL_STALE_STRICT] = "strict"
};

/* The index of v in names, or -1. */
static int
name_index(const char *const *names, size_t n, const char *v)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v, names[i]) == 0)
			return ((int)i);
	return (-1);
}

static int
set_crl_check(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	int	 i;

	if ((i = name_index(crl_check_names, NNAMES(crl_check_names),
	    v)) == -1)
		return (key_error(ctx, kd, v, "expected leaf, chain or off"));
	ctx->cfg->crl_check = (enum crl_check)i;
	return (0);
}

static int
set_crl_stale(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	int	 i;

	if ((i = name_index(crl_stale_names, NNAMES(crl_stale_names),
	    v)) == -1)
		return (key_error(ctx, kd, v, "expected enforce-listed or "
		    "strict"));
	ctx->cfg->crl_stale = (enum crl_stale)i;
	return (0);
}

static int
set_min_protocol(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	if (strcmp(v, "TLSv1.2") == 0 || strcmp(v, "1.2") == 0)
		ctx->cfg->min_protocol = TLS1_2_VERSION;
	else if (strcmp(v, "TLSv1.3") == 0 || strcmp(v, "1.3") == 0)
		ctx->cfg->min_protocol = TLS1_3_VERSION;
	else
		return (key_error(ctx, kd, v, "expected TLSv1.2 or TLSv1.3"));
	return (0);
}

/*
 * A list of listeners: the first "listen" of the file replaces the default
 * list, later ones append.  An empty value turns the list off, when allowed.
 */
static int
listen_add(struct load_ctx *ctx, const struct config_key *kd, const char *v,
    struct config_listen *list, size_t *n)
{
	struct config_listen	 la;
	const char		*why;
	char			 shown[300];
	size_t			 i;

	if (ctx->first)
		*n = 0;
	if (*v == '\0') {
		if (!(kd->flags & KEY_EMPTY_OK))
			return (key_error(ctx, kd, NULL, "empty address: "
			    "takd needs at least one TLS listener"));
		*n = 0;
		return (0);
	}
	if ((why = listen_parse(v, &la)) != NULL)
		return (key_error(ctx, kd, v, "%s", why));
	if (*n >= TAKD_MAX_LISTEN)
		return (key_error(ctx, kd, v, "too many addresses (at most %d)",
		    TAKD_MAX_LISTEN));
	for (i = 0; i < *n; i++) {
		if (!listen_clash(&list[i], &la))
			continue;
		listen_fmt(shown, sizeof(shown), &list[i]);
		return (key_error(ctx, kd, v, "clashes with %s on line %d",
		    shown, list[i].line));
	}
	la.line = ctx->lineno;
	list[(*n)++] = la;
	return (0);
}

static int
set_tls_listen(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	return (listen_add(ctx, kd, v, ctx->cfg->tls_listen,
	    &ctx->cfg->n_tls_listen));
}

static int
set_tcp_listen(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	return (listen_add(ctx, kd, v, ctx->cfg->tcp_listen,
	    &ctx->cfg->n_tcp_listen));
}

/* One address; a bare port binds loopback, since metrics are for the host. */
static int
set_metrics_listen(struct load_ctx *ctx, const struct config_key *kd,
    const char *v)
{
	struct config_listen	*la = &ctx->cfg->metrics_listen;
	const char		*why;

	memset(la, 0, sizeof(*la));
	if (*v == '\0')
		return (0);
	if ((why = listen_parse(v, la)) != NULL) {
		memset(la, 0, sizeof(*la));
		return (key_error(ctx, kd, v, "%s", why));
	}
	if (strchr(v, ':') == NULL)
		snprintf(la->host, sizeof(la->host), "127.0.0.1");
	la->line = ctx->lineno;
	return (0);
}

#define FIELD(m)	offsetof(struct config, m), \
			sizeof(((struct config *)NULL)->m)

static const char *const config_sections[] = {
	"server", "tls", "tcp", "cot", "pki", "metrics"
};

static const struct config_key config_keys[] = {
	{ "server", "user", set_name, FIELD(user), 0, 0, 0 },
	{ "server", "group", set_name, FIELD(group), 0, 0, KEY_EMPTY_OK },
	{ "server", "workers", set_workers, FIELD(workers),
	    1, TAKD_MAX_WORKERS, 0 },
	{ "server", "state_dir", set_path, FIELD(state_dir), 0, 0, 0 },
	{ "server", "run_dir", set_path, FIELD(run_dir), 0, 0, KEY_EMPTY_OK },
	{ "server", "nofile", set_number, FIELD(nofile), 64, 1U << 30, 0 },
	{ "server", "max_sessions", set_number, FIELD(max_sessions),
	    1, 1000000, 0 },
	{ "server", "drain_timeout", set_duration, FIELD(drain_timeout_ms),
	    0, MS_HOUR, 0 },
	{ "server", "log", set_log, FIELD(log), 0, 0, 0 },
	{ "server", "log_level", set_log_level, FIELD(log_level), 0, 0, 0 },

	{ "tls", "listen", set_tls_listen, FIELD(tls_listen), 0, 0, KEY_MULTI },
	{ "tls", "cert", set_path, FIELD(cert), 0, 0, KEY_EMPTY_OK },
	{ "tls", "key", set_path, FIELD(key), 0, 0, KEY_EMPTY_OK },
	{ "tls", "key_password", set_string, FIELD(key_password),
	    0, 0, KEY_EMPTY_OK | KEY_SECRET },
	{ "tls", "ca", set_path, FIELD(ca), 0, 0, KEY_EMPTY_OK },
	{ "tls", "crl", set_path, FIELD(crl), 0, 0, KEY_EMPTY_OK },
	{ "tls", "crl_check", set_crl_check, FIELD(crl_check), 0, 0, 0 },
	{ "tls", "crl_stale", set_crl_stale, FIELD(crl_stale), 0, 0, 0 },
	{ "tls", "crl_warn_days", set_number, FIELD(crl_warn_days),
	    0, 3650, 0 },
	{ "tls", "crl_watch", set_bool, FIELD(crl_watch), 0, 0, 0 },
	{ "tls", "handshake_timeout", set_duration,
	    FIELD(handshake_timeout_ms), 10, MS_HOUR, 0 },
	{ "tls", "min_protocol", set_min_protocol, FIELD(min_protocol),
	    0, 0, 0 },

	{ "tcp", "listen", set_tcp_listen, FIELD(tcp_listen),
	    0, 0, KEY_MULTI | KEY_EMPTY_OK },

	{ "cot", "max_event_bytes", set_size, FIELD(max_event_bytes),
	    1024, 16 * 1024 * 1024, 0 },
	{ "cot", "idle_timeout", set_duration, FIELD(idle_timeout_ms),
	    0, 30 * MS_DAY, KEY_OFF_OK },
	{ "cot", "max_events_per_second", set_number,
	    FIELD(max_events_per_second), 0, 1000000, 0 },
	{ "cot", "max_queue_bytes", set_size, FIELD(max_queue_bytes),
	    64 * 1024, 1024 * 1024 * 1024, 0 },
	{ "cot", "partial_timeout", set_duration, FIELD(partial_timeout_ms),
	    100, MS_HOUR, 0 },
	{ "cot", "write_timeout", set_duration, FIELD(write_timeout_ms),
	    0, MS_HOUR, KEY_OFF_OK },
	{ "cot", "flush_delay", set_duration, FIELD(flush_delay_ms),
	    0, MS_SECOND, KEY_OFF_OK },

	{ "pki", "dir", set_path, FIELD(pki_dir), 0, 0, KEY_EMPTY_OK },
	{ "pki", "client_password", set_string, FIELD(client_password),
	    0, 0, KEY_EMPTY_OK | KEY_SECRET },
	{ "pki", "server_host", set_host, FIELD(server_host),
	    0, 0, KEY_EMPTY_OK },

	{ "metrics", "listen", set_metrics_listen, FIELD(metrics_listen),
	    0, 0, KEY_EMPTY_OK },
	{ "metrics", "token", set_string, FIELD(metrics_token),
	    0, 0, KEY_EMPTY_OK | KEY_SECRET },
};

#define CONFIG_NKEYS	NNAMES(config_keys)

static bool
section_known(const char *name)
{
	return (name_index(config_sections, NNAMES(config_sections), name) !=
	    -1);
}

/* Strip one pair of double quotes; -1 when only one side has one. */
static int
value_unquote(const char *v, char *out, size_t outlen)
{
	size_t	 n = strlen(v);

	if (n >= outlen)
		return (-1);
	if (v[0] != '"') {
		memcpy(out, v, n + 1);
		return (0);
	}
	if (n < 2 || v[n - 1] != '"')
		return (-1);
	memcpy(out, v + 1, n - 2);
	out[n - 2] = '\0';
	return (0);
}

static int
config_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct load_ctx		*ctx = arg;
	const struct config_key	*kd = NULL;
	char			 v[CONFIG_LINE_BUF];
	const char		*p;
	size_t			 i;
	int			 ok;

	if (ctx->failed)
		return (0);
	if (*section == '\0') {
		ctx_error(ctx, ctx->lineno, "key \"%s\" before any [section]",
		    name);
		return (0);
	}
	if (*name == '\0') {
		ctx_error(ctx, ctx->lineno, "[%s] missing key name before "
		    "'='", section);
		return (0);
	}
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (strcmp(config_keys[i].section, section) == 0 &&
		    strcmp(config_keys[i].name, name) == 0) {
			kd = &config_keys[i];
			break;
		}
	}
	if (kd == NULL) {
		if (section_known(section))
			ctx_error(ctx, ctx->lineno, "[%s] %s: unknown key",
			    section, name);
		else
			ctx_error(ctx, ctx->lineno, "unknown section [%s]",
			    section);
		return (0);
	}
	if (ctx->seen[i] != 0 && !(kd->flags & KEY_MULTI)) {
		ctx_error(ctx, ctx->lineno, "[%s] %s: given twice (first on "
		    "line %d)", kd->section, kd->name, ctx->seen[i]);
		return (0);
	}
	for (p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f) {
			key_error(ctx, kd, NULL, "control character in value");
			return (0);
		}
	}
	if (value_unquote(value, v, sizeof(v)) == -1) {
		key_error(ctx, kd, NULL, "unbalanced double quote (note: a ';' "
		    "after a blank starts a comment, even inside quotes)");
		return (0);
	}
	ctx->first = ctx->seen[i] == 0;
	if (ctx->first)
		ctx->seen[i] = ctx->lineno;
	ok = kd->set(ctx, kd, v) == 0;
	OPENSSL_cleanse(v, sizeof(v));
	return (ok);
}

/*
 * Section headers are checked here: inih reports none, and an unknown
 * section with no key in it would otherwise pass unnoticed.
 */
static void
config_check_section(struct load_ctx *ctx, const char *line)
{
	char		 name[CONFIG_LINE_BUF];
	const char	*rb, *p;
	size_t		 n;

	if ((rb = strchr(line, ']')) == NULL) {
		ctx_error(ctx, ctx->lineno, "missing ']' in section header");
		return;
	}
	for (p = rb + 1; *p == ' ' || *p == '\t'; p++)
		;
	if (*p != '\0' && *p != ';' && *p != '#') {
		ctx_error(ctx, ctx->lineno, "unexpected text after the "
		    "section header");
		return;
	}
	n = (size_t)(rb - line - 1);
	memcpy(name, line + 1, n);
	name[n] = '\0';
	if (!section_known(name))
		ctx_error(ctx, ctx->lineno, "unknown section [%s] (expected "
		    "server, tls, tcp, cot, pki or metrics)", name);
}

/* inih's fgets-style reader: see the comment at the top of this file. */
static char *
config_read_line(char *out, int num, void *arg)
{
	struct load_ctx	*ctx = arg;
	size_t		 len = 0, max;
	bool		 nul = false;
	char		*p;
	int		 c;

	if (ctx->failed || num < 4)
		return (NULL);
	max = (size_t)num - 3;	/* inih's rule: room for \r, \n and \0 */
	if (max > sizeof(ctx->buf) - 1)
		max = sizeof(ctx->buf) - 1;
	while ((c = getc(ctx->fp)) != EOF && c != '\n') {
		if (c == '\0')
			nul = true;
		if (len < sizeof(ctx->buf) - 1)
			ctx->buf[len] = (char)c;
		len++;
	}
	if (c == EOF && ferror(ctx->fp)) {
		ctx_error(ctx, 0, "cannot read: %s", strerror(errno));
		return (NULL);
	}
	if (c == EOF && len == 0)
		return (NULL);
	ctx->lineno++;
	if (len > 0 && len <= max + 1 && ctx->buf[len - 1] == '\r')
		len--;
	if (len > max) {
		ctx_error(ctx, ctx->lineno, "line too long (%zu characters, "
		    "at most %zu)", len, max);
		return (NULL);
	}
	if (nul) {
		ctx_error(ctx, ctx->lineno, "NUL byte in line");
		return (NULL);
	}
	ctx->buf[len] = '\0';
	p = ctx->buf;
	if (ctx->lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '[')
		config_check_section(ctx, p);
	if (ctx->failed)
		return (NULL);
	snprintf(out, (size_t)num, "%s\n", p);
	return (out);
}

static void
config_set_err(char *err, size_t errlen, const char *file, int line,
    const char *msg)
{
	if (err == NULL || errlen == 0)
		return;
	if (line > 0)
		snprintf(err, errlen, "%s:%d: %s", file, line, msg);
	else
		snprintf(err, errlen, "%s: %s", file, msg);
}

void
config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->user, sizeof(cfg->user), "nobody");
	cfg->workers = 0;
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "./var");
	cfg->nofile = 65536;
	cfg->max_sessions = 10000;
	cfg->drain_timeout_ms = 5 * MS_SECOND;
	snprintf(cfg->log, sizeof(cfg->log), "stderr");
	cfg->log_level = LOG_INFO;

	snprintf(cfg->tls_listen[0].host, sizeof(cfg->tls_listen[0].host),
	    "0.0.0.0");
	snprintf(cfg->tls_listen[0].port, sizeof(cfg->tls_listen[0].port),
	    "%s", TAKD_DEFAULT_TLS_PORT);
	snprintf(cfg->tls_listen[1].host, sizeof(cfg->tls_listen[1].host),
	    "::");
	snprintf(cfg->tls_listen[1].port, sizeof(cfg->tls_listen[1].port),
	    "%s", TAKD_DEFAULT_TLS_PORT);
	cfg->n_tls_listen = 2;
	cfg->crl_check = CRL_CHECK_LEAF;
	cfg->crl_stale = CRL_STALE_ENFORCE_LISTED;
	cfg->crl_warn_days = 7;
	cfg->crl_watch = false;
	cfg->handshake_timeout_ms = 10 * MS_SECOND;
	cfg->min_protocol = TLS1_2_VERSION;

	cfg->n_tcp_listen = 0;

	cfg->max_event_bytes = 65536;
	cfg->idle_timeout_ms = 0;
	cfg->max_events_per_second = 0;
	cfg->max_queue_bytes = 1024 * 1024;
	cfg->partial_timeout_ms = 30 * MS_SECOND;
	cfg->write_timeout_ms = 60 * MS_SECOND;
	/*
	 * Enough for several events a write at a few hundred events a second
	 * per recipient (docs/performance.md), far below what a person notices
	 * on a map or in chat.
	 */
	cfg->flush_delay_ms = 20;

	cfg->metrics_on = false;
}

/* Make one path absolute, or derive it from dir/name when empty. */
static int
finish_path(const char *file, const char *cwd, const char *what, char *path,
    size_t pathlen, const char *dir, const char *name, char *err,
    size_t errlen)
{
	char	 tmp[PATH_MAX], msg[CONFIG_MSG_MAX];
	int	 n;

	if (path[0] == '\0' && dir != NULL) {
		n = snprintf(tmp, sizeof(tmp), "%s/%s", dir, name);
		if (n < 0 || (size_t)n >= sizeof(tmp) ||
		    path_resolve(cwd, tmp, path, pathlen) == -1) {
			snprintf(msg, sizeof(msg), "%s: the default %.40s.../%s "
			    "is too long (at most %zu characters)", what, dir,
			    name, pathlen - 1);
			goto fail;
		}
		return (0);
	}
	if (path_resolve(cwd, path, tmp, sizeof(tmp)) == -1 ||
	    str_copy(path, pathlen, tmp) == -1) {
		snprintf(msg, sizeof(msg), "%s: path too long once made "
		    "absolute (at most %zu characters)", what, pathlen - 1);
		goto fail;
	}
	return (0);
 fail:
	config_set_err(err, errlen, file, 0, msg);
	return (-1);
}

static int
finish_listeners(const struct config *cfg, const char *file, char *err,
    size_t errlen)
{
	const struct config_listen	*all[2 * TAKD_MAX_LISTEN + 1];
	const char			*key[2 * TAKD_MAX_LISTEN + 1];
	char				 a[300], msg[CONFIG_MSG_MAX];
	size_t				 i, j, n = 0;

	if (cfg->n_tls_listen == 0 || cfg->n_tls_listen > TAKD_MAX_LISTEN ||
	    cfg->n_tcp_listen > TAKD_MAX_LISTEN) {
		config_set_err(err, errlen, file, 0, "[tls] listen: expected "
		    "1 to 8 addresses, [tcp] listen at most 8");
		return (-1);
	}
	for (i = 0; i < cfg->n_tls_listen; i++) {
		all[n] = &cfg->tls_listen[i];
		key[n++] = "[tls] listen";
	}
	for (i = 0; i < cfg->n_tcp_listen; i++) {
		all[n] = &cfg->tcp_listen[i];
		key[n++] = "[tcp] listen";
	}
	if (cfg->metrics_listen.port[0] != '\0') {
		all[n] = &cfg->metrics_listen;
		key[n++] = "[metrics] listen";
	}
	/* Clashes inside one list were caught while parsing. */
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++) {
			if (strcmp(key[i], key[j]) == 0 ||
			    !listen_clash(all[i], all[j]))
				continue;
			listen_fmt(a, sizeof(a), all[j]);
			if (all[i]->line > 0)
				snprintf(msg, sizeof(msg), "%s: %s clashes "
				    "with %s on line %d", key[j], a, key[i],
				    all[i]->line);
			else
				snprintf(msg, sizeof(msg), "%s: %s clashes "
				    "with the default %s", key[j], a, key[i]);
			config_set_err(err, errlen, file, all[j]->line, msg);
			return (-1);
		}
	}
	return (0);
}

static int
config_finish_file(struct config *cfg, const char *file, char *err,
    size_t errlen)
{
	char	 cwd[PATH_MAX], msg[CONFIG_MSG_MAX];

	if (getcwd(cwd, sizeof(cwd)) == NULL) {
		snprintf(msg, sizeof(msg), "cannot resolve relative paths: "
		    "getcwd: %s", strerror(errno));
		config_set_err(err, errlen, file, 0, msg);
		return (-1);
	}
	if (cfg->state_dir[0] == '\0') {
		config_set_err(err, errlen, file, 0, "[server] state_dir: "
		    "empty path");
		return (-1);
	}
	/* Order matters: each default derives from a path made absolute. */
	if (finish_path(file, cwd, "[server] state_dir", cfg->state_dir,
	    sizeof(cfg->state_dir), NULL, NULL, err, errlen) == -1 ||
	    finish_path(file, cwd, "[server] run_dir", cfg->run_dir,
	    sizeof(cfg->run_dir), cfg->state_dir, "run", err, errlen) == -1 ||
	    finish_path(file, cwd, "[pki] dir", cfg->pki_dir,
	    sizeof(cfg->pki_dir), cfg->state_dir, "pki", err, errlen) == -1 ||
	    finish_path(file, cwd, "[tls] cert", cfg->cert, sizeof(cfg->cert),
	    cfg->pki_dir, "server.pem", err, errlen) == -1 ||
	    finish_path(file, cwd, "[tls] key", cfg->key, sizeof(cfg->key),
	    cfg->pki_dir, "server.key", err, errlen) == -1 ||
	    finish_path(file, cwd, "[tls] ca", cfg->ca, sizeof(cfg->ca),
	    cfg->pki_dir, "ca.pem", err, errlen) == -1 ||
	    finish_path(file, cwd, "[tls] crl", cfg->crl, sizeof(cfg->crl),
	    cfg->pki_dir, "crl.pem", err, errlen) == -1)
		return (-1);
	if (cfg->log[0] == '\0') {
		config_set_err(err, errlen, file, 0, "[server] log: empty "
		    "value");
		return (-1);
	}
	if (strcmp(cfg->log, "stderr") != 0 && strcmp(cfg->log, "syslog") != 0 &&
	    finish_path(file, cwd, "[server] log", cfg->log, sizeof(cfg->log),
	    NULL, NULL, err, errlen) == -1)
		return (-1);
	if (strlen(cfg->run_dir) > CONFIG_RUN_DIR_MAX) {
		snprintf(msg, sizeof(msg), "[server] run_dir: %.60s... is too "
		    "long to hold the admin socket (at most %d characters); "
		    "set a shorter run_dir", cfg->run_dir, CONFIG_RUN_DIR_MAX);
		config_set_err(err, errlen, file, 0, msg);
		return (-1);
	}
	if (cfg->workers > TAKD_MAX_WORKERS) {
		snprintf(msg, sizeof(msg), "[server] workers: at most %d",
		    TAKD_MAX_WORKERS);
		config_set_err(err, errlen, file, 0, msg);
		return (-1);
	}
	if (finish_listeners(cfg, file, err, errlen) == -1)
		return (-1);
	cfg->metrics_on = cfg->metrics_listen.port[0] != '\0';
	return (0);
}

int
config_finish(struct config *cfg, char *err, size_t errlen)
{
	return (config_finish_file(cfg, cfg->path[0] != '\0' ? cfg->path :
	    "(built-in defaults)", err, errlen));
}

int
config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct load_ctx	 ctx;
	int		 seen[CONFIG_NKEYS];
	int		 r, rc = -1;

	config_init(cfg);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (path == NULL)
		return (config_finish(cfg, err, errlen));

	memset(&ctx, 0, sizeof(ctx));
	memset(seen, 0, sizeof(seen));
	ctx.cfg = cfg;
	ctx.seen = seen;
	if (*path == '\0') {
		config_set_err(err, errlen, "(empty file name)", 0,
		    "cannot open: empty configuration file name");
		return (-1);
	}
	if (getcwd(ctx.cwd, sizeof(ctx.cwd)) == NULL) {
		ctx_error(&ctx, 0, "cannot resolve relative paths: getcwd: %s",
		    strerror(errno));
		goto done;
	}
	if (path_resolve(ctx.cwd, path, cfg->path, sizeof(cfg->path)) == -1) {
		ctx_error(&ctx, 0, "file name too long");
		goto done;
	}
	if ((ctx.fp = fopen(path, "re")) == NULL) {
		ctx_error(&ctx, 0, "cannot open: %s", strerror(errno));
		goto done;
	}
	r = ini_parse_stream(config_read_line, &ctx, config_handler, &ctx);
	/*
	 * inih returns the first line it rejected: our handler's, or one of
	 * its own syntax errors, which come without a message.
	 */
	if (r > 0 && (!ctx.failed || ctx.err_line == 0 || r < ctx.err_line)) {
		ctx.failed = false;
		ctx_error(&ctx, r, "syntax error: expected \"key = value\", "
		    "\"[section]\" or a ; comment");
	} else if (r < 0 && !ctx.failed)
		ctx_error(&ctx, 0, "cannot parse (inih error %d)", r);
	if (!ctx.failed)
		rc = config_finish_file(cfg, path, err, errlen);
 done:
	if (ctx.failed)
		config_set_err(err, errlen, path, ctx.err_line, ctx.msg);
	if (rc == -1)
		config_clear_secrets(cfg);
	if (ctx.fp != NULL)
		fclose(ctx.fp);
	OPENSSL_cleanse(ctx.buf, sizeof(ctx.buf));
	return (rc);
}

int
config_parse_duration(const char *s, unsigned *ms)
{
	unsigned long long	 v;

	if (duration_parse(s, &v) != NUM_OK || v > UINT_MAX)
		return (-1);
	*ms = (unsigned)v;
	return (0);
}

int
config_parse_size(const char *s, size_t *out)
{
	unsigned long long	 v;

	if (size_parse(s, SIZE_MAX, &v) != NUM_OK)
		return (-1);
	*out = (size_t)v;
	return (0);
}

int
config_parse_listen(const char *s, struct config_listen *la)
{
	return (listen_parse(s, la) == NULL ? 0 : -1);
}

void
config_clear_secrets(struct config *cfg)
{
	OPENSSL_cleanse(cfg->key_password, sizeof(cfg->key_password));
	OPENSSL_cleanse(cfg->client_password, sizeof(cfg->client_password));
	OPENSSL_cleanse(cfg->metrics_token, sizeof(cfg->metrics_token));
}

const char *
config_crl_check_name(enum crl_check c)
{
	return ((size_t)c < NNAMES(crl_check_names) ? crl_check_names[c] :
	    "?");
}

const char *
config_crl_stale_name(enum crl_stale s)
{
	return ((size_t)s < NNAMES(crl_stale_names) ? crl_stale_names[s] :
	    "?");
}
