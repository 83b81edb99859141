/*
 * QR codes for `takctl pki enroll-package --qr` (docs/pki.md).  The symbol
 * is libqrencode's (error correction M, 8-bit mode: the URL's bytes as
 * they are); takctl only draws its modules.  PNG through libpng's
 * simplified API (libqrencode has no image writer; libpng is the PNG
 * library, and takctl's alone: takd links none of this); SVG is text every
 * browser and printer shows, PBM what every image tool reads.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>
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

/* 8-bit grey PNG, QR_PBM_SCALE pixels a module, through libpng. */
static int
qr_png(const QRcode *qr, FILE *fp, const char *path)
{
	png_image	 img;
	unsigned char	*px;
	int		 n = qr->width + 2 * QR_QUIET, side = n * QR_PBM_SCALE;
	int		 x, y, rc = -1;

	if ((px = malloc((size_t)side * (size_t)side)) == NULL) {
		takctl_warnx("%s: %s", path, strerror(errno));
		return (-1);
	}
	for (y = 0; y < side; y++)
		for (x = 0; x < side; x++)
			px[(size_t)y * (size_t)side + (size_t)x] = qr_dark(qr,
			    x / QR_PBM_SCALE, y / QR_PBM_SCALE) ? 0 : 255;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	img.width = (png_uint_32)side;
	img.height = (png_uint_32)side;
	img.format = PNG_FORMAT_GRAY;
	if (png_image_write_to_stdio(&img, fp, 0, px, side, NULL) == 0)
		takctl_warnx("%s: libpng: %s", path, img.message);
	else
		rc = 0;
	png_image_free(&img);
	free(px);
	return (rc);
}

int
qr_write_file(const char *s, const char *path, bool force)
{
	QRcode		*qr = NULL;
	FILE		*fp = NULL;
	size_t		 len = strlen(path);
	enum { QR_SVG, QR_PBM, QR_PNG } kind;
	int		 fd, rc = -1;

	if (len > 4 && strcmp(path + len - 4, ".svg") == 0)
		kind = QR_SVG;
	else if (len > 4 && strcmp(path + len - 4, ".pbm") == 0)
		kind = QR_PBM;
	else if (len > 4 && strcmp(path + len - 4, ".png") == 0)
		kind = QR_PNG;
	else {
		takctl_warnx("--qr %s: give a .png, .svg or .pbm file", path);
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
	if (kind == QR_SVG)
		qr_svg(qr, fp);
	else if (kind == QR_PBM)
		qr_pbm(qr, fp);
	else if (qr_png(qr, fp, path) == -1)
		goto done;
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
