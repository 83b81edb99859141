/*
 * What takd-crlfetch (crlfetch.c) and takd-ocspfetch (ocspfetch.c) share:
 * the one HTTP exchange each makes through libcurl, with the limits both
 * enforce (http and https only, redirects only to the scheme of the URL,
 * one deadline, a size cap, no proxy), and the reading of their command
 * line and of the certificates the supervisor hands them (FD 4, PEM).
 */
#ifndef TAKD_FETCH_CURL_H
#define TAKD_FETCH_CURL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

/* An answer's body: grown as it comes, never past max. */
struct fetch_body {
	uint8_t		*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 max;
	int		 too_big;
};

struct fetch_req {
	const char	*url;
	const char	*agent;		/* User-Agent */
	unsigned	 timeout_ms;	/* to connect, and in all */
	long		 max_redirs;	/* 0: none followed */
	const char	*max_name;	/* the cap's config key; NULL */
	const void	*post;		/* NULL: a GET */
	size_t		 post_len;
	const char	*post_type;	/* the POST's Content-Type */
};

/*
 * The request into b (b->max set, the rest zero; the caller frees
 * b->buf).  0, or -1 with why, without the URL.  curl_global_init() first.
 */
int	 fetch_http(const struct fetch_req *, struct fetch_body *b, char *why,
	    size_t whylen);
/* The certificates in fd, PEM; NULL when fewer than min. */
STACK_OF(X509) *fetch_certs_read(int fd, int min);
/* A decimal option's value in [lo, hi].  0, or -1. */
int	 fetch_number_arg(const char *s, long long lo, unsigned long long hi,
	    long long *v);

#endif
