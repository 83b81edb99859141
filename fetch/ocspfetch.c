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

#include "fetch/curl.h"
#include "ipc/ocspfetch_msg.h"

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

/* POST the DER request to url.  0, or -1 with res->err set. */
static int
ocsp_post(const char *url, unsigned timeout_ms, const unsigned char *req,
    int reqlen, struct fetch_body *b, struct ocspfetch_res *res)
{
	struct fetch_req	 r;
	char			 why[CURL_ERROR_SIZE + 64];

	memset(&r, 0, sizeof(r));
	r.url = url;
	r.agent = OCSPFETCH_EXE;
	r.timeout_ms = timeout_ms;
	/* A POST is not redirected: a responder answers where it is. */
	r.max_redirs = 0;
	r.post = req;
	r.post_len = (size_t)reqlen;
	r.post_type = "application/ocsp-request";
	if (fetch_http(&r, b, why, sizeof(why)) == -1) {
		errf(res, "%s: %s", url, why);
		return (-1);
	}
	return (0);
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
ocsp_check(const char *url, const struct fetch_body *b, OCSP_REQUEST *req,
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

int
main(int argc, char *argv[])
{
	struct ocspfetch_res	 res;
	struct fetch_body	 b;
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
			if (fetch_number_arg(optarg, 1, INT_MAX, &v) == -1)
				usage();
			timeout_ms = (unsigned)v;
			break;
		case 'u':
			if (fetch_number_arg(optarg, 0, INT64_MAX, &v) == -1)
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
	b.max = OCSPFETCH_RESP_MAX;
	res.magic = OCSPFETCH_MAGIC;
	res.status = OCSPFETCH_FAILED;
	res.reason = -1;
	if ((certs = fetch_certs_read(OCSPFETCH_FD_CERTS, 2)) == NULL) {
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
