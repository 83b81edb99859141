/*
 * The HTTP exchange and the input of the fetchers.  See curl.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "fetch/curl.h"

static size_t
fetch_body_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch_body	*b = arg;
	size_t			 n = size * nmemb, cap;
	uint8_t			*p;

	if (n > b->max - b->len) {
		b->too_big = 1;
		return (0);		/* libcurl stops: CURLE_WRITE_ERROR */
	}
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 64 * 1024;
		while (cap < b->len + n)
			cap *= 2;
		if (cap > b->max)
			cap = b->max;
		if ((p = realloc(b->buf, cap + 1)) == NULL)
			return (0);
		b->buf = p;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	return (n);
}

int
fetch_http(const struct fetch_req *r, struct fetch_body *b, char *why,
    size_t whylen)
{
	struct curl_slist	*hdr = NULL;
	CURL			*c;
	CURLcode		 rc;
	char			 cerr[CURL_ERROR_SIZE] = "", type[128];
	const char		*scheme;
	long			 code = 0;
	int			 ret = -1;

	scheme = strncasecmp(r->url, "https:", 6) == 0 ? "https" : "http";
	if (r->post != NULL)
		snprintf(type, sizeof(type), "Content-Type: %s", r->post_type);
	if ((c = curl_easy_init()) == NULL || (r->post != NULL &&
	    (hdr = curl_slist_append(NULL, type)) == NULL)) {
		snprintf(why, whylen, "cannot start libcurl");
		goto done;
	}
	(void)curl_easy_setopt(c, CURLOPT_URL, r->url);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, scheme);
	(void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, r->max_redirs > 0 ?
	    1L : 0L);
	if (r->max_redirs > 0)
		(void)curl_easy_setopt(c, CURLOPT_MAXREDIRS, r->max_redirs);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)r->timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	(void)curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)b->max);
	if (r->post != NULL) {
		(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		(void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->post);
		(void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
		    (long)r->post_len);
	}
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_body_write);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	(void)curl_easy_setopt(c, CURLOPT_USERAGENT, r->agent);
	/* Nobody's proxy or .netrc: the environment is empty anyway. */
	(void)curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(c);
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if ((b->too_big || rc == CURLE_FILESIZE_EXCEEDED) &&
	    r->max_name != NULL)
		snprintf(why, whylen, "the answer is larger than %s (%zu "
		    "bytes)", r->max_name, b->max);
	else if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(why, whylen, "the answer is larger than %zu bytes",
		    b->max);
	else if (rc == CURLE_HTTP_RETURNED_ERROR)
		snprintf(why, whylen, "HTTP status %ld", code);
	else if (rc != CURLE_OK)
		snprintf(why, whylen, "%s", cerr[0] ? cerr :
		    curl_easy_strerror(rc));
	else if (b->len == 0)
		snprintf(why, whylen, "empty answer (HTTP status %ld)", code);
	else
		ret = 0;
done:
	curl_slist_free_all(hdr);
	if (c != NULL)
		curl_easy_cleanup(c);
	return (ret);
}

STACK_OF(X509) *
fetch_certs_read(int fd, int min)
{
	STACK_OF(X509)	*sk;
	BIO		*bio;
	X509		*x;

	if ((bio = BIO_new_fd(fd, BIO_NOCLOSE)) == NULL)
		return (NULL);
	if ((sk = sk_X509_new_null()) == NULL)
		goto fail;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			goto fail;
		}
	ERR_clear_error();	/* the end of the file */
	BIO_free(bio);
	if (sk_X509_num(sk) < min || sk_X509_num(sk) == 0) {
		sk_X509_pop_free(sk, X509_free);
		return (NULL);
	}
	return (sk);
fail:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
	return (NULL);
}

int
fetch_number_arg(const char *s, long long lo, unsigned long long hi,
    long long *v)
{
	char	*end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return (errno != 0 || end == s || *end != '\0' || *v < lo ||
	    (*v >= 0 && (unsigned long long)*v > hi) ? -1 : 0);
}
