/*
 * takd-crlfetch: fetch the CRL from [tls] crl_url and check it, for the
 * supervisor (ipc/crlfetch_msg.h says how it is started and answers;
 * docs/revocation.md, "CRL from a URL", why it is a program of its own).
 *
 * The HTTP client is libcurl, Debian's libcurl4-openssl-dev: the
 * maintained standard for the job, on the same OpenSSL as the rest of
 * takd.  takd itself does not link it; this process is the only one of
 * takd that talks to a CRL server, holds no key and no descriptor of
 * takd's but the three of its interface, and runs as the service user
 * from a fresh image (exec), so a flaw in HTTP or CRL parsing here reaches
 * none of the supervisor's memory.
 *
 * What it enforces: http and https only, redirects only to the scheme of
 * the URL configured (at most CRLFETCH_MAX_REDIRS), a deadline per URL, a
 * size cap (Content-Length, and the bytes as they come), no decoding of
 * compressed answers, then the checks of a CRL file (tlsctx_crl_parse:
 * signed by the CA, issuer, lastUpdate not in the future; crlset_build:
 * a set takd can stand for) and the order: never older than the CRL in
 * force.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ipc/crlfetch_msg.h"
#include "shared/crlset.h"
#include "shared/tlsctx.h"

struct body {
	uint8_t		*buf;
	size_t		 len;
	size_t		 cap;
	size_t		 max;
	int		 too_big;
};

struct fetch {
	unsigned	 timeout_ms;
	size_t		 max;
	struct crl_info	 in_force;	/* number and last_update only */
	STACK_OF(X509)	*ca;
};

static void	 errf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* Append to err, keeping what is there: one line for every URL. */
static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 n = strlen(err);

	if (n + 1 >= errlen)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

static size_t
body_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body	*b = arg;
	size_t		 n = size * nmemb, cap;
	uint8_t		*p;

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

/* The CA certificates from their memfd.  NULL when there is none. */
static STACK_OF(X509) *
ca_read(int fd)
{
	STACK_OF(X509)	*ca;
	BIO		*bio;
	X509		*x;

	if ((bio = BIO_new_fd(fd, BIO_NOCLOSE)) == NULL)
		return (NULL);
	if ((ca = sk_X509_new_null()) == NULL)
		goto fail;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(ca, x)) {
			X509_free(x);
			goto fail;
		}
	ERR_clear_error();	/* the end of the file */
	BIO_free(bio);
	if (sk_X509_num(ca) == 0) {
		sk_X509_free(ca);
		return (NULL);
	}
	return (ca);
fail:
	sk_X509_pop_free(ca, X509_free);
	BIO_free(bio);
	return (NULL);
}

/* GET url into b.  0, or -1 with the reason appended to err. */
static int
fetch_get(const struct fetch *f, const char *url, struct body *b, char *err,
    size_t errlen)
{
	CURL		*c;
	CURLcode	 rc;
	char		 cerr[CURL_ERROR_SIZE] = "";
	const char	*scheme;
	long		 code = 0;
	int		 ret = -1;

	scheme = strncasecmp(url, "https:", 6) == 0 ? "https" : "http";
	if ((c = curl_easy_init()) == NULL) {
		errf(err, errlen, "%s: cannot start libcurl; ", url);
		return (-1);
	}
	(void)curl_easy_setopt(c, CURLOPT_URL, url);
	(void)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	(void)curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, scheme);
	(void)curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	(void)curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)CRLFETCH_MAX_REDIRS);
	(void)curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)f->timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)f->timeout_ms);
	(void)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	(void)curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)f->max);
	(void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	(void)curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	(void)curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	(void)curl_easy_setopt(c, CURLOPT_USERAGENT, "takd-crlfetch");
	/* Nobody's proxy or .netrc: the environment is empty anyway. */
	(void)curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	rc = curl_easy_perform(c);
	(void)curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		errf(err, errlen, "%s: the answer is larger than crl_fetch_max "
		    "(%zu bytes); ", url, f->max);
	else if (rc == CURLE_HTTP_RETURNED_ERROR)
		errf(err, errlen, "%s: HTTP status %ld; ", url, code);
	else if (rc != CURLE_OK)
		errf(err, errlen, "%s: %s; ", url, cerr[0] ? cerr :
		    curl_easy_strerror(rc));
	else if (b->len == 0)
		errf(err, errlen, "%s: empty answer (HTTP status %ld); ", url,
		    code);
	else
		ret = 0;
	curl_easy_cleanup(c);
	return (ret);
}

/*
 * The checks of a CRL file, the order against the CRL in force, and the
 * DER into out.  -1 with the reason appended to err.
 */
static int
fetch_check(const struct fetch *f, const char *url, const struct body *b,
    int out, struct crlfetch_res *res)
{
	X509_CRL	*crl;
	X509		*signer = NULL;
	struct crl_info	 info;
	unsigned char	*der = NULL;
	char		 why[512];
	int		 len, set_fd = -1, ret = -1;
	ssize_t		 n;
	size_t		 off;

	if ((crl = tlsctx_crl_parse(b->buf, b->len, f->ca, &info, &signer, why,
	    sizeof(why))) == NULL) {
		errf(res->err, sizeof(res->err), "%s: %s (%zu bytes); ", url,
		    why, b->len);
		return (-1);
	}
	/* What a worker could not stand for (a delta CRL...) is refused. */
	if ((set_fd = memfd_create("crlfetch-set", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1 ||
	    crlset_build(set_fd, crl, signer, why, sizeof(why)) == -1) {
		errf(res->err, sizeof(res->err), "%s: %s; ", url, set_fd == -1 ?
		    strerror(errno) : why);
		goto done;
	}
	res->number = info.number;
	res->last_update = info.last_update;
	res->next_update = info.next_update;
	res->entries = info.entries;
	if (f->in_force.last_update != 0 &&
	    tlsctx_crl_cmp(&info, &f->in_force) < 0) {
		if (info.number >= 0 && f->in_force.number >= 0)
			errf(res->err, sizeof(res->err), "%s: CRL number %lld "
			    "is lower than the one in force (%lld); ", url,
			    (long long)info.number,
			    (long long)f->in_force.number);
		else
			errf(res->err, sizeof(res->err), "%s: CRL older than "
			    "the one in force (lastUpdate); ", url);
		goto done;
	}
	if (f->in_force.last_update != 0 &&
	    tlsctx_crl_cmp(&info, &f->in_force) == 0) {
		res->status = CRLFETCH_SAME;
		ret = 0;
		goto done;
	}
	if ((len = i2d_X509_CRL(crl, &der)) <= 0) {
		errf(res->err, sizeof(res->err), "%s: cannot encode the CRL; ",
		    url);
		goto done;
	}
	for (off = 0; off < (size_t)len; off += (size_t)n)
		if ((n = write(out, der + off, (size_t)len - off)) <= 0) {
			errf(res->err, sizeof(res->err), "%s: write: %s; ",
			    url, strerror(errno));
			goto done;
		}
	res->bytes = (uint64_t)len;
	res->status = CRLFETCH_NEW;
	ret = 0;
done:
	OPENSSL_free(der);
	if (set_fd != -1)
		close(set_fd);
	X509_CRL_free(crl);
	return (ret);
}

static int
number_arg(const char *s, long long lo, unsigned long long hi,
    long long *v)
{
	char	*end;

	errno = 0;
	*v = strtoll(s, &end, 10);
	return (errno != 0 || end == s || *end != '\0' || *v < lo ||
	    (*v >= 0 && (unsigned long long)*v > hi) ? -1 : 0);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: %s -t TIMEOUT_MS -m MAX_BYTES -n NUMBER "
	    "-u LAST_UPDATE URL...\n(started by takd: see "
	    "ipc/crlfetch_msg.h)\n", CRLFETCH_EXE);
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct crlfetch_res	 res;
	struct fetch		 f;
	struct body		 b;
	long long		 v;
	int			 ch, i;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(&f, 0, sizeof(f));
	f.in_force.number = -1;
	while ((ch = getopt(argc, argv, "m:n:t:u:")) != -1) {
		switch (ch) {
		case 'm':
			if (number_arg(optarg, 1, SIZE_MAX / 2, &v) == -1)
				usage();
			f.max = (size_t)v;
			break;
		case 'n':
			if (number_arg(optarg, -1, INT64_MAX, &v) == -1)
				usage();
			f.in_force.number = v;
			break;
		case 't':
			if (number_arg(optarg, 1, LONG_MAX, &v) == -1)
				usage();
			f.timeout_ms = (unsigned)v;
			break;
		case 'u':
			if (number_arg(optarg, 0, INT64_MAX, &v) == -1)
				usage();
			f.in_force.last_update = (time_t)v;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc || f.max == 0 || f.timeout_ms == 0)
		usage();
	memset(&res, 0, sizeof(res));
	res.magic = CRLFETCH_MAGIC;
	res.status = CRLFETCH_FAILED;
	res.number = -1;
	if ((f.ca = ca_read(CRLFETCH_FD_CA)) == NULL)
		errf(res.err, sizeof(res.err), "no CA certificate to check the "
		    "CRL with");
	else if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		errf(res.err, sizeof(res.err), "cannot start libcurl");
	else
		for (i = optind; i < argc; i++) {
			memset(&b, 0, sizeof(b));
			b.max = f.max;
			if (fetch_get(&f, argv[i], &b, res.err,
			    sizeof(res.err)) == 0 &&
			    fetch_check(&f, argv[i], &b, CRLFETCH_FD_OUT,
			    &res) == 0) {
				res.url = (uint32_t)(i - optind);
				res.err[0] = '\0';	/* one answered */
				free(b.buf);
				break;
			}
			free(b.buf);
		}
	sk_X509_pop_free(f.ca, X509_free);
	curl_global_cleanup();
	i = (int)strlen(res.err);
	if (i >= 2 && strcmp(res.err + i - 2, "; ") == 0)
		res.err[i - 2] = '\0';
	/* Smaller than PIPE_BUF: written whole or not at all. */
	if (write(CRLFETCH_FD_RES, &res, sizeof(res)) != (ssize_t)sizeof(res))
		return (1);
	return (0);
}
