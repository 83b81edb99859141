/*
 * QR codes for `takctl pki enroll-package --qr` (docs/pki.md).  The symbol
 * is libqrencode's (error correction M, 8-bit mode: the URL's bytes as
 * they are); takctl only draws its modules.  No PNG: libqrencode has no
 * image writer (the PNG of the qrencode tool is the tool's own, on
 * libpng), and takd takes no image library for one picture; SVG is text
 * every browser and printer shows, PBM what every image tool reads.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qrencode.h>

#include "takctl/qr.h"
#include "takctl/takctl.h"

#define QR_QUIET	4	/* modules of light border (ISO/IEC 18004) */
#define QR_PBM_SCALE	8	/* pixels per module */

static QRcode *
qr_encode(const char *s)
{
	QRcode	*qr;

	if ((qr = QRcode_encodeString8bit(s, 0, QR_ECLEVEL_M)) == NULL)
		takctl_warnx("cannot encode the QR code: %s",
		    errno == ERANGE ? "the text is too long" : strerror(errno));
	return (qr);
}

/* Module (x, y) of the symbol with its quiet zone: dark? */
static int
qr_dark(const QRcode *qr, int x, int y)
{
	x -= QR_QUIET;
	y -= QR_QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return (0);
	return (qr->data[y * qr->width + x] & 1);
}

static void
qr_svg(const QRcode *qr, FILE *fp)
{
	int	 n = qr->width + 2 * QR_QUIET, x, y;

	fprintf(fp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
	    "width=\"%d\" height=\"%d\" shape-rendering=\"crispEdges\">\n"
	    "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n"
	    "<path fill=\"#000\" d=\"", n, n, n * QR_PBM_SCALE,
	    n * QR_PBM_SCALE, n, n);
	for (y = 0; y < n; y++)
		for (x = 0; x < n; x++)
			if (qr_dark(qr, x, y))
				fprintf(fp, "M%d %dh1v1h-1z", x, y);
	fputs("\"/>\n</svg>\n", fp);
}

/* Binary PBM: 1 is black, rows padded to whole bytes. */
static void
qr_pbm(const QRcode *qr, FILE *fp)
{
	int		 n = qr->width + 2 * QR_QUIET, px = n * QR_PBM_SCALE;
	int		 x, y, i;
	unsigned char	 byte;

	fprintf(fp, "P4\n%d %d\n", px, px);
	for (y = 0; y < px; y++) {
		byte = 0;
		for (x = 0, i = 0; x < px; x++) {
			byte = (unsigned char)(byte << 1 |
			    qr_dark(qr, x / QR_PBM_SCALE, y / QR_PBM_SCALE));
			if (++i == 8) {
				fputc(byte, fp);
				byte = 0;
				i = 0;
			}
		}
		if (i != 0)
			fputc(byte << (8 - i), fp);
	}
}

int
qr_write_file(const char *s, const char *path, bool force)
{
	QRcode		*qr = NULL;
	FILE		*fp = NULL;
	size_t		 len = strlen(path);
	bool		 svg;
	int		 fd, rc = -1;

	if (len > 4 && strcmp(path + len - 4, ".svg") == 0)
		svg = true;
	else if (len > 4 && strcmp(path + len - 4, ".pbm") == 0)
		svg = false;
	else {
		takctl_warnx("--qr %s: give a .svg or .pbm file (no PNG: see "
		    "docs/pki.md; `qrencode -o FILE.png` makes one from the "
		    "printed string)", path);
		return (-1);
	}
	if ((qr = qr_encode(s)) == NULL)
		return (-1);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    (force ? O_TRUNC : O_EXCL), 0600)) == -1) {
		takctl_warnx("%s: %s%s", path, strerror(errno), errno ==
		    EEXIST ? " (use --force to replace it)" : "");
		goto done;
	}
	if (fchmod(fd, 0600) == -1 || (fp = fdopen(fd, "w")) == NULL) {
		takctl_warnx("%s: %s", path, strerror(errno));
		close(fd);
		goto done;
	}
	if (svg)
		qr_svg(qr, fp);
	else
		qr_pbm(qr, fp);
	if (fflush(fp) == EOF || fsync(fileno(fp)) == -1) {
		takctl_warnx("%s: %s", path, strerror(errno));
		goto done;
	}
	rc = 0;
 done:
	if (fp != NULL && fclose(fp) == EOF && rc == 0) {
		takctl_warnx("%s: %s", path, strerror(errno));
		rc = -1;
	}
	QRcode_free(qr);
	return (rc);
}

int
qr_print(const char *s, FILE *fp)
{
	/* Indexed by top | bottom << 1, 1 = light: a lit cell is light. */
	static const char *const half[4] = { " ", "\u2580", "\u2584",
	    "\u2588" };
	QRcode	*qr;
	int	 n, x, y, top, bottom;

	if ((qr = qr_encode(s)) == NULL)
		return (-1);
	n = qr->width + 2 * QR_QUIET;
	/*
	 * Two modules a character, light drawn as lit: white on black set
	 * explicitly, so that a terminal with a light background scans too.
	 */
	for (y = 0; y < n; y += 2) {
		fputs("\033[97;40m", fp);
		for (x = 0; x < n; x++) {
			top = !qr_dark(qr, x, y);
			bottom = y + 1 < n ? !qr_dark(qr, x, y + 1) : 0;
			fputs(half[top | bottom << 1], fp);
		}
		fputs("\033[0m\n", fp);
	}
	QRcode_free(qr);
	return (0);
}
