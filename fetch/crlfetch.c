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

#include "fetch/curl.h"
#include "ipc/crlfetch_msg.h"
#include "shared/crlset.h"
#include "shared/tlsctx.h"

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

/* GET url into b.  0, or -1 with the reason appended to err. */
static int
fetch_get(const struct fetch *f, const char *url, struct fetch_body *b,
    char *err, size_t errlen)
{
	struct fetch_req	 r;
	char			 why[CURL_ERROR_SIZE + 64];

	memset(&r, 0, sizeof(r));
	r.url = url;
	r.agent = CRLFETCH_EXE;
	r.timeout_ms = f->timeout_ms;
	r.max_redirs = CRLFETCH_MAX_REDIRS;
	r.max_name = "crl_fetch_max";
	if (fetch_http(&r, b, why, sizeof(why)) == -1) {
		errf(err, errlen, "%s: %s; ", url, why);
		return (-1);
	}
	return (0);
}

/*
 * The checks of a CRL file, the order against the CRL in force, and the
 * DER into out.  -1 with the reason appended to err.
 */
static int
fetch_check(const struct fetch *f, const char *url,
    const struct fetch_body *b, int out, struct crlfetch_res *res)
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
	struct fetch_body	 b;
	long long		 v;
	int			 ch, i;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(&f, 0, sizeof(f));
	f.in_force.number = -1;
	while ((ch = getopt(argc, argv, "m:n:t:u:")) != -1) {
		switch (ch) {
		case 'm':
			if (fetch_number_arg(optarg, 1, SIZE_MAX / 2, &v) == -1)
				usage();
			f.max = (size_t)v;
			break;
		case 'n':
			if (fetch_number_arg(optarg, -1, INT64_MAX, &v) == -1)
				usage();
			f.in_force.number = v;
			break;
		case 't':
			if (fetch_number_arg(optarg, 1, LONG_MAX, &v) == -1)
				usage();
			f.timeout_ms = (unsigned)v;
			break;
		case 'u':
			if (fetch_number_arg(optarg, 0, INT64_MAX, &v) == -1)
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
	if ((f.ca = fetch_certs_read(CRLFETCH_FD_CA, 1)) == NULL)
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
