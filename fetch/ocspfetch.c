/*
 * takd-ocspfetch: ask the OCSP responder for the server certificate's
 * status and check the answer, for the supervisor (ipc/ocspfetch_msg.h
 * says how it is started and answers; docs/revocation.md, "OCSP
 * stapling").  A program of its own for the reasons of takd-crlfetch: it
 * parses what a network peer sent, so it runs as the service user from a
 * fresh image, holds no key, and exits after each request.
 *
 * OpenSSL's OCSP API builds the request (the certificate id: SHA-1 of the
 * issuer's name and key, and the serial; a nonce) and checks the answer;
 * libcurl posts it.  What the answer must be: a successful OCSPResponse
 * of the basic type, signed by the issuer or by a responder the issuer
 * delegated to (OCSP_basic_verify: the id-kp-OCSPSigning EKU, issued by
 * the issuer), about exactly this certificate id, with our nonce when it
 * carries one, thisUpdate not in the future (OCSPFETCH_LEEWAY_S of skew)
 * nor older than the response in force, and nextUpdate not past.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ipc/ocspfetch_msg.h"

struct body {
	uint8_t		*buf;
	size_t		 len;
	size_t		 cap;
	int		 too_big;
};

static void	 errf(struct ocspfetch_res *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
errf(struct ocspfetch_res *res, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(res->err, sizeof(res->err), fmt, ap);
	va_end(ap);
}

/* The first queued OpenSSL error, for a message. */
static const char *
ssl_err(void)
{
	static char	 buf[256];
	unsigned long	 e = ERR_peek_last_error();

	if (e == 0)
		return ("no detail");
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return (buf);
}

static size_t
body_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body	*b = arg;
	size_t		 n = size * nmemb;

	if (n > OCSPFETCH_RESP_MAX - b->len) {
		b->too_big = 1;
		return (0);		/* libcurl stops: CURLE_WRITE_ERROR */
	}
	if (b->buf == NULL && (b->buf = malloc(OCSPFETCH_RESP_MAX)) == NULL)
		return (0);
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	return (n);
}

/* The certificates from their memfd: leaf, issuer, then the CA. */
static STACK_OF(X509) *
certs_read(int fd)
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
	if (sk_X509_num(sk) < 2) {
		sk_X509_pop_free(sk, X509_free);
		return (NULL);
	}
	return (sk);
fail:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
	return (NULL);
}

/* POST the DER request to url.  0, or -1 with res->err set. */
static int
ocsp_post(const char *url, unsigned timeout_ms, const unsigned char *req,
    int reqlen, struct body *b, struct ocspfetch_res *res)
{
	struct curl_slist	*hdr = NULL;
	CURL			*c;
	CURLcode		 rc;
	char			 cerr[CURL_ERROR_SIZE] = "";
	const char		*scheme;
	long			 code = 0;
	int			 ret = -1;

	scheme = strncasecmp(url, "https:", 6) == 0 ? "https" : "http";
	if ((c = curl_easy_init()) == NULL ||
	    (hdr = curl_slist_append(NULL, "Content-Type: "
	    "application/ocsp-request")) == NULL) {
		errf(res, "%s: cannot start libcurl", url);
		goto done;
	}
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	/* A POST is not redirected: a responder answers where it is. */
	(void)curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, scheme);
	(void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	(void)curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)OCSPFETCH_RESP_MAX);
	(void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
	(void)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)reqlen);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	(void)curl_easy_setopt(c, CURLOPT_USERAGENT, OCSPFETCH_EXE);
	(void)curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(c);
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		errf(res, "%s: the answer is larger than %d bytes", url,
		    OCSPFETCH_RESP_MAX);
	else if (rc == CURLE_HTTP_RETURNED_ERROR)
		errf(res, "%s: HTTP status %ld", url, code);
	else if (rc != CURLE_OK)
		errf(res, "%s: %s", url, cerr[0] ? cerr :
		    curl_easy_strerror(rc));
	else if (b->len == 0)
		errf(res, "%s: empty answer (HTTP status %ld)", url, code);
	else
		ret = 0;
done:
	curl_slist_free_all(hdr);
	if (c != NULL)
		curl_easy_cleanup(c);
	return (ret);
}

static int64_t
asn1_time_t(const ASN1_GENERALIZEDTIME *t)
{
	struct tm	 tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return (0);
	return ((int64_t)timegm(&tm));
}

/*
 * Check the answer b to the request with id and nonce req; on success
 * the DER in out and the result's fields set.  0, or -1 with res->err.
 */
static int
ocsp_check(const char *url, const struct body *b, OCSP_REQUEST *req,
    OCSP_CERTID *id, STACK_OF(X509) *certs, int64_t in_force,
    struct ocspfetch_res *res, int out)
{
	const unsigned char	*p = b->buf;
	OCSP_RESPONSE		*resp = NULL;
	OCSP_BASICRESP		*bs = NULL;
	X509_STORE		*store = NULL;
	STACK_OF(X509)		*others = NULL;
	ASN1_GENERALIZEDTIME	*rev, *thisupd, *nextupd;
	int			 st, status, reason, i, ret = -1;
	size_t			 off;
	ssize_t			 n;

	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, (long)b->len)) == NULL ||
	    p != b->buf + b->len) {
		errf(res, "%s: not a DER OCSP response (%zu bytes)", url,
		    b->len);
		goto done;
	}
	if ((st = OCSP_response_status(resp)) !=
	    OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		errf(res, "%s: the responder answered %s (%d)", url,
		    OCSP_response_status_str(st), st);
		goto done;
	}
	if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
		errf(res, "%s: not a basic OCSP response", url);
		goto done;
	}
	if (OCSP_check_nonce(req, bs) == 0) {
		errf(res, "%s: the response's nonce is not ours", url);
		goto done;
	}
	/* The issuer and the CA are the anchors; the leaf is no signer. */
	if ((store = X509_STORE_new()) == NULL ||
	    (others = sk_X509_new_null()) == NULL)
		goto oom;
	for (i = 1; i < sk_X509_num(certs); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(certs, i)) ||
		    !sk_X509_push(others, sk_X509_value(certs, i)))
			goto oom;
	(void)X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (OCSP_basic_verify(bs, others, store, 0) <= 0) {
		errf(res, "%s: the response is not signed by the issuer or a "
		    "responder it delegated to (%s)", url, ssl_err());
		goto done;
	}
	if (!OCSP_resp_find_status(bs, id, &status, &reason, &rev, &thisupd,
	    &nextupd)) {
		errf(res, "%s: the response is not about the server "
		    "certificate (no matching certificate id)", url);
		goto done;
	}
	if (!OCSP_check_validity(thisupd, nextupd, OCSPFETCH_LEEWAY_S, -1)) {
		errf(res, "%s: the response is out of its validity "
		    "(thisUpdate in the future or nextUpdate past: %s)", url,
		    ssl_err());
		goto done;
	}
	res->this_update = asn1_time_t(thisupd);
	res->next_update = asn1_time_t(nextupd);
	if (in_force != 0 && res->this_update < in_force) {
		errf(res, "%s: the response (thisUpdate %lld) is older than "
		    "the one in force (%lld)", url, (long long)res->this_update,
		    (long long)in_force);
		goto done;
	}
	res->reason = -1;
	switch (status) {
	case V_OCSP_CERTSTATUS_GOOD:
		res->status = OCSPFETCH_GOOD;
		break;
	case V_OCSP_CERTSTATUS_REVOKED:
		res->status = OCSPFETCH_REVOKED;
		res->reason = reason;
		res->revoked_at = asn1_time_t(rev);
		break;
	default:
		res->status = OCSPFETCH_UNKNOWN;
		ret = 0;
		goto done;
	}
	for (off = 0; off < b->len; off += (size_t)n)
		if ((n = write(out, b->buf + off, b->len - off)) <= 0) {
			errf(res, "write: %s", strerror(errno));
			res->status = OCSPFETCH_FAILED;
			goto done;
		}
	res->bytes = b->len;
	ret = 0;
	goto done;
oom:
	errf(res, "out of memory");
done:
	sk_X509_free(others);
	X509_STORE_free(store);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return (ret);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s -t TIMEOUT_MS -u THIS_UPDATE URL\n"
	    "(started by takd: see ipc/ocspfetch_msg.h)\n", OCSPFETCH_EXE);
	exit(2);
}

static int
number_arg(const char *s, long long lo, long long hi, long long *v)
{
	char	*end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return (errno != 0 || end == s || *end != '\0' || *v < lo || *v > hi ?
	    -1 : 0);
}

int
main(int argc, char *argv[])
{
	struct ocspfetch_res	 res;
	struct body		 b;
	STACK_OF(X509)		*certs = NULL;
	OCSP_REQUEST		*req = NULL;
	OCSP_CERTID		*id = NULL, *id2 = NULL;
	unsigned char		*der = NULL;
	long long		 v, in_force = 0;
	unsigned		 timeout_ms = 0;
	int			 ch, len;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	while ((ch = getopt(argc, argv, "t:u:")) != -1) {
		switch (ch) {
		case 't':
			if (number_arg(optarg, 1, INT_MAX, &v) == -1)
				usage();
			timeout_ms = (unsigned)v;
			break;
		case 'u':
			if (number_arg(optarg, 0, INT64_MAX, &v) == -1)
				usage();
			in_force = v;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || timeout_ms == 0)
		usage();
	memset(&res, 0, sizeof(res));
	memset(&b, 0, sizeof(b));
	res.magic = OCSPFETCH_MAGIC;
	res.status = OCSPFETCH_FAILED;
	res.reason = -1;
	if ((certs = certs_read(OCSPFETCH_FD_CERTS)) == NULL) {
		errf(&res, "no server certificate and issuer to ask about");
		goto out;
	}
	/* SHA-1, as RFC 5019 has it: what every responder answers. */
	if ((id = OCSP_cert_to_id(NULL, sk_X509_value(certs, 0),
	    sk_X509_value(certs, 1))) == NULL ||
	    (id2 = OCSP_CERTID_dup(id)) == NULL ||
	    (req = OCSP_REQUEST_new()) == NULL ||
	    OCSP_request_add0_id(req, id2) == NULL) {
		OCSP_CERTID_free(id2);
		errf(&res, "cannot build the OCSP request (%s)", ssl_err());
		goto out;
	}
	if (!OCSP_request_add1_nonce(req, NULL, -1) ||
	    (len = i2d_OCSP_REQUEST(req, &der)) <= 0) {
		errf(&res, "cannot build the OCSP request (%s)", ssl_err());
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		errf(&res, "cannot start libcurl");
		goto out;
	}
	if (ocsp_post(argv[optind], timeout_ms, der, len, &b, &res) == 0 &&
	    ocsp_check(argv[optind], &b, req, id, certs, in_force, &res,
	    OCSPFETCH_FD_OUT) == 0)
		res.err[0] = '\0';
	else
		res.status = OCSPFETCH_FAILED;
	curl_global_cleanup();
out:
	free(b.buf);
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
	OCSP_CERTID_free(id);
	sk_X509_pop_free(certs, X509_free);
	/* Smaller than PIPE_BUF: written whole or not at all. */
	if (write(OCSPFETCH_FD_RES, &res, sizeof(res)) != (ssize_t)sizeof(res))
		return (1);
	return (0);
}
