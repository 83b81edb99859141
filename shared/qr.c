/*
 * The enrollment QR codes (shared/qr.h): ATAK's tak:// URL and iTAK's
 * connection string, and their symbol as SVG, for takctl and the console.
 * SVG is text every browser and printer shows; the strings may carry a
 * password, so callers wipe their buffers.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shared/qr.h"

QRcode *
qr_encode(const char *s, char *err, size_t errlen)
{
	QRcode	*qr;

	if ((qr = QRcode_encodeString8bit(s, 0, QR_ECLEVEL_M)) == NULL)
		snprintf(err, errlen, "cannot encode the QR code: %s",
		    errno == ERANGE ? "the text is too long" : strerror(errno));
	return (qr);
}

int
qr_dark(const QRcode *qr, int x, int y)
{
	x -= QR_QUIET;
	y -= QR_QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return (0);
	return (qr->data[y * qr->width + x] & 1);
}

void
qr_svg(const QRcode *qr, FILE *fp)
{
	int	 n = qr->width + 2 * QR_QUIET, x, y;

	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	    "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">\n"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
	    "<path fill=\"#000\" d=\"", n, n, n * QR_SCALE, n * QR_SCALE, n,
	    n);
	for (y = 0; y < n; y++)
		for (x = 0; x < n; x++)
			if (qr_dark(qr, x, y))
				fprintf(fp, "M%d %dh1v1h-1z", x, y);
	fputs("\"/>\n</svg>\n", fp);
}

/* s percent-encoded (RFC 3986: all but the unreserved characters). */
static void
qr_url_add(char *buf, size_t len, const char *s)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 n = strlen(buf);
	unsigned char		 c;

	for (; *s != '\0' && n + 4 < len; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			buf[n++] = (char)c;
		else {
			buf[n++] = '%';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 0xf];
		}
	}
	buf[n] = '\0';
}

/* s appended as it is (a fixed part of the URL). */
static void
qr_url_lit(char *buf, size_t len, const char *s)
{
	size_t	 n = strlen(buf);

	snprintf(buf + n, len - n, "%s", s);
}

void
qr_enroll_url(const char *host, const char *user, const char *password,
    char *buf, size_t len)
{
	snprintf(buf, len, "tak://com.atakmap.app/enroll?host=");
	qr_url_add(buf, len, host);
	qr_url_lit(buf, len, "&username=");
	qr_url_add(buf, len, user);
	if (password != NULL) {
		qr_url_lit(buf, len, "&token=");
		qr_url_add(buf, len, password);
	}
}

void
qr_itak_string(const char *host, const char *port, char *buf, size_t len)
{
	snprintf(buf, len, "takd %s,%s,%s,ssl", host, host, port);
}
