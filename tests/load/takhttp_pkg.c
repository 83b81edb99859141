/*
 * takhttp packages: data package uploads and downloads for `make bench`
 * (docs/datapackages.md; docs/performance.md, "Data packages").
 *
 *   takhttp packages --connect H:P --ca CA --cert C --key K --file F
 *                    [--requests N] [--pid NAME=PID]...
 *
 * N uploads as ATAK makes them (POST /Marti/sync/missionupload, a
 * multipart body whose part "assetfile" is the package), one after the
 * other on one keep-alive connection; then the N packages downloaded
 * (GET /Marti/sync/content?hash=, as a recipient does) on another.  Each
 * upload is the file behind TP_TAG bytes of its own, so that every one is
 * stored (the same bytes twice store nothing new), streamed: the file is
 * read TP_CHUNK bytes at a time and written as it is read, never held
 * whole, and a download is read TP_CHUNK bytes at a time and thrown away.
 * Checked on the way: every upload answered 200 with the URL of the
 * SHA-256 takhttp computed over what it sent, every download 200 with as
 * many bytes and the same SHA-256.  The CPU of each --pid is taken at the
 * start and the end of each phase.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "tests/load/takhttp.h"
#include "tests/load/takload.h"

#define TP_CHUNK	(256 * 1024)
#define TP_TAG		32	/* bytes of each upload's own before the file */
#define TP_HEX		65	/* a SHA-256 in hex, NUL */
#define TP_MIB		(1024.0 * 1024.0)
#define TP_UPLOAD	"/Marti/sync/missionupload"
#define TP_CONTENT	"/Marti/sync/content"

/* One phase: the uploads, or the downloads. */
struct tp_phase {
	const char	*name;		/* "up", "down" */
	int64_t		*lat;		/* µs, one per request done */
	unsigned	 n;
	unsigned	 ok;
	uint64_t	 bytes;		/* of the packages, those ok */
	int64_t		 t0, t1;	/* µs, monotonic */
	double		 self0, self1;	/* takhttp's CPU */
	double		 cpu[TH_MAX_PIDS]; /* each --pid's over the phase */
	char		 first_error[256];
};

struct tp_ctx {
	struct th_opts	*o;
	int		 fd;		/* --file */
	uint64_t	 size;		/* its bytes */
	char		 boundary[48];
	unsigned char	*buf;		/* TP_CHUNK */
	char		(*hash)[TP_HEX]; /* by upload; "" when it failed */
};

static void
tp_error(struct tp_phase *ph, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tp_error(struct tp_phase *ph, const char *fmt, ...)
{
	va_list	 ap;

	if (ph->first_error[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(ph->first_error, sizeof(ph->first_error), fmt, ap);
	va_end(ap);
}

static void
tp_hex(EVP_MD_CTX *md, char hex[TP_HEX])
{
	unsigned char	 d[EVP_MAX_MD_SIZE];
	unsigned	 i, n;

	if (EVP_DigestFinal_ex(md, d, &n) != 1 || n != 32)
		th_fail("SHA-256");
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* A connection, made now if there is none; -1 (counted in ph) if not. */
static int
tp_conn(struct th_conn *c, struct tp_phase *ph)
{
	char	 why[256];

	if (c->fd != -1)
		return (0);
	if (th_connect(c, why, sizeof(why)) == -1) {
		tp_error(ph, "%s", why);
		return (-1);
	}
	return (0);
}

/*
 * Upload i: the head, the part's head and the tag in one write, then the
 * file as it is read, then the closing boundary; its reply names the
 * hash.  -1 (with the error in ph) closes the connection.
 */
static int
tp_upload(struct tp_ctx *x, struct th_conn *c, struct tp_phase *ph,
    unsigned i)
{
	struct th_reply	 r;
	EVP_MD_CTX	*md;
	const char	*h;
	char		 head[2048], post[96], hex[TP_HEX], why[256];
	uint64_t	 off = 0;
	size_t		 pre;
	ssize_t		 n;
	int		 nh, np, nt, rc = -1;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		th_fail("SHA-256");
	np = snprintf(post, sizeof(post), "\r\n--%s--\r\n", x->boundary);
	/* The part's head, then the tag: their length first. */
	pre = (size_t)snprintf(NULL, 0, "--%s\r\nContent-Disposition: "
	    "form-data; name=\"assetfile\"; filename=\"bench-%u.zip\"\r\n"
	    "Content-Type: application/x-zip-compressed\r\n\r\n",
	    x->boundary, i) + TP_TAG;
	nh = snprintf(head, sizeof(head), "POST " TP_UPLOAD "?filename="
	    "bench-%u.zip&creatorUid=takhttp HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: multipart/form-data; boundary=%s\r\n"
	    "Content-Length: %" PRIu64 "\r\n\r\n", i, x->o->host,
	    x->boundary, (uint64_t)pre + x->size + (uint64_t)np);
	nt = snprintf(head + nh, sizeof(head) - (size_t)nh, "--%s\r\n"
	    "Content-Disposition: form-data; name=\"assetfile\"; "
	    "filename=\"bench-%u.zip\"\r\nContent-Type: "
	    "application/x-zip-compressed\r\n\r\ntakhttp %010ld %012u\n",
	    x->boundary, i, (long)getpid(), i);
	if ((size_t)nt != pre)
		th_fail("upload %u: a tag of the wrong length", i);
	EVP_DigestUpdate(md, head + nh + nt - TP_TAG, TP_TAG);
	if (th_write(c, head, (size_t)(nh + nt), why, sizeof(why)) == -1)
		goto fail;
	while (off < x->size) {
		n = pread(x->fd, x->buf, TP_CHUNK, (off_t)off);
		if (n <= 0)
			th_fail("%s: %s", x->o->file, n == 0 ? "shrank" :
			    strerror(errno));
		EVP_DigestUpdate(md, x->buf, (size_t)n);
		if (th_write(c, x->buf, (size_t)n, why, sizeof(why)) == -1)
			goto fail;
		off += (uint64_t)n;
	}
	tp_hex(md, hex);
	if (th_write(c, post, (size_t)np, why, sizeof(why)) == -1 ||
	    th_exchange(c, "", 0, &r, why, sizeof(why)) == -1)
		goto fail;
	if (r.status != 200 || (h = strstr(r.body, "hash=")) == NULL ||
	    strncmp(h + 5, hex, TP_HEX - 1) != 0) {
		tp_error(ph, "upload %u: status %d: %.160s (sent %s)", i,
		    r.status, r.body, hex);
		if (r.close)
			th_close(c);
	} else {
		memcpy(x->hash[i], hex, TP_HEX);
		ph->ok++;
		ph->bytes += TP_TAG + x->size;
		if (r.close)
			th_close(c);
		rc = 0;
	}
	th_reply_free(&r);
	EVP_MD_CTX_free(md);
	return (rc);
fail:
	tp_error(ph, "upload %u: %s", i, why);
	th_close(c);
	EVP_MD_CTX_free(md);
	return (-1);
}

/* Download i: read as it comes and thrown away, its SHA-256 checked. */
static int
tp_download(struct tp_ctx *x, struct th_conn *c, struct tp_phase *ph,
    unsigned i)
{
	struct th_reply	 r;
	EVP_MD_CTX	*md;
	char		 req[512], hex[TP_HEX], why[256];
	size_t		 clen, got, take, n;
	int		 nr;

	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		th_fail("SHA-256");
	nr = snprintf(req, sizeof(req), "GET " TP_CONTENT "?hash=%s "
	    "HTTP/1.1\r\nHost: %s\r\n\r\n", x->hash[i], x->o->host);
	if (th_write(c, req, (size_t)nr, why, sizeof(why)) == -1 ||
	    th_head(c, &r, &clen, why, sizeof(why)) == -1)
		goto fail;
	/* What came with the head is the body's start. */
	take = c->rx_len - r.head_len;
	if (take > clen)
		take = clen;
	EVP_DigestUpdate(md, c->rx + r.head_len, take);
	memmove(c->rx, c->rx + r.head_len + take, c->rx_len - r.head_len -
	    take + 1);
	c->rx_len -= r.head_len + take;
	for (got = take; got < clen; got += n) {
		if (SSL_read_ex(c->ssl, x->buf, clen - got < TP_CHUNK ?
		    clen - got : TP_CHUNK, &n) != 1) {
			ERR_clear_error();
			snprintf(why, sizeof(why), "body cut at %zu of %zu "
			    "bytes", got, clen);
			goto fail;
		}
		EVP_DigestUpdate(md, x->buf, n);
	}
	tp_hex(md, hex);
	EVP_MD_CTX_free(md);
	if (r.status != 200 || clen != TP_TAG + x->size ||
	    strcmp(hex, x->hash[i]) != 0) {
		tp_error(ph, "download %u: status %d, %zu bytes, SHA-256 %s, "
		    "expected 200, %" PRIu64 ", %s", i, r.status, clen, hex,
		    TP_TAG + x->size, x->hash[i]);
		th_close(c);
		return (-1);
	}
	ph->ok++;
	ph->bytes += clen;
	if (r.close)
		th_close(c);
	return (0);
fail:
	tp_error(ph, "download %u: %s", i, why);
	th_close(c);
	EVP_MD_CTX_free(md);
	return (-1);
}

/* Run one phase over the N packages (the uploads stored, for downloads). */
static void
tp_run(struct tp_ctx *x, struct tp_phase *ph, bool up)
{
	struct th_conn	 c = { .fd = -1 };
	int64_t		 t0;
	unsigned	 i;

	ph->name = up ? "up" : "down";
	if ((ph->lat = calloc(x->o->requests + 1, sizeof(*ph->lat))) == NULL)
		th_fail("out of memory");
	th_cpu_mark(x->o, false);
	ph->self0 = self_cpu_s();
	ph->t0 = mono_us();
	for (i = 0; i < x->o->requests; i++) {
		if (!up && x->hash[i][0] == '\0')
			continue;
		t0 = mono_us();
		if (tp_conn(&c, ph) == -1)
			continue;
		if ((up ? tp_upload(x, &c, ph, i) : tp_download(x, &c, ph,
		    i)) == 0)
			ph->lat[ph->n++] = mono_us() - t0;
	}
	ph->t1 = mono_us();
	ph->self1 = self_cpu_s();
	th_cpu_mark(x->o, true);
	for (i = 0; i < x->o->npids; i++)
		ph->cpu[i] = x->o->pids[i].cpu1 - x->o->pids[i].cpu0;
	th_close(&c);
	qsort(ph->lat, ph->n, sizeof(*ph->lat), th_cmp_i64);
}

static void
tp_print(const struct th_opts *o, const struct tp_phase *ph)
{
	double		 s = (double)(ph->t1 - ph->t0) / 1e6, mib, d;
	const char	*p;
	unsigned	 i;

	mib = (double)ph->bytes / TP_MIB;
	printf(",\"%s_ok\":%u,\"%s_mib\":%.3f,\"%s_window_s\":%.3f,"
	    "\"%s_mib_s\":%.1f,\"%s_lat_p50_ms\":%.2f,\"%s_lat_max_ms\":%.2f,"
	    "\"%s_client_cpu_s\":%.3f,\"%s_client_cpu_ms_per_mib\":%.2f",
	    ph->name, ph->ok, ph->name, mib, ph->name, s, ph->name,
	    s > 0 ? mib / s : 0, ph->name, th_pct(ph->lat, ph->n, 0.5),
	    ph->name, ph->n ? (double)ph->lat[ph->n - 1] / 1e3 : 0, ph->name,
	    ph->self1 - ph->self0, ph->name, mib > 0 ?
	    (ph->self1 - ph->self0) * 1e3 / mib : 0);
	for (i = 0; i < o->npids; i++) {
		d = ph->cpu[i];
		printf(",\"%s_cpu_%s_s\":%.3f,\"%s_cpu_ms_%s_per_mib\":%.2f",
		    ph->name, o->pids[i].name, d, ph->name, o->pids[i].name,
		    mib > 0 ? d * 1e3 / mib : 0);
	}
	printf(",\"%s_first_error\":\"", ph->name);
	for (p = ph->first_error; *p != '\0'; p++)
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if ((unsigned char)*p >= 0x20)
			putchar(*p);
	printf("\"");
}

int
th_packages(struct th_opts *o)
{
	struct tp_ctx	 x;
	struct tp_phase	 up, down;
	struct stat	 st;
	unsigned char	 rnd[16];
	unsigned	 i;

	memset(&x, 0, sizeof(x));
	memset(&up, 0, sizeof(up));
	memset(&down, 0, sizeof(down));
	x.o = o;
	if ((x.fd = open(o->file, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(x.fd, &st) == -1)
		th_fail("%s: %s", o->file, strerror(errno));
	if (!S_ISREG(st.st_mode))
		th_fail("%s: not a regular file", o->file);
	x.size = (uint64_t)st.st_size;
	/* Random bytes cannot hold 32 random hex digits but by chance. */
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		th_fail("RAND_bytes");
	memcpy(x.boundary, "takhttp-", 8);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(x.boundary + 8 + 2 * i, 3, "%02x", rnd[i]);
	if ((x.buf = malloc(TP_CHUNK)) == NULL ||
	    (x.hash = calloc(o->requests + 1, sizeof(*x.hash))) == NULL)
		th_fail("out of memory");
	tp_run(&x, &up, true);
	tp_run(&x, &down, false);
	printf("{\"mode\":\"packages\",\"file_bytes\":%" PRIu64 ","
	    "\"package_bytes\":%" PRIu64 ",\"requests\":%u", x.size,
	    TP_TAG + x.size, o->requests);
	tp_print(o, &up);
	tp_print(o, &down);
	printf("}\n");
	free(up.lat);
	free(down.lat);
	free(x.hash);
	free(x.buf);
	close(x.fd);
	return (0);
}
