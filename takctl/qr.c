/*
 * QR codes for `takctl pki enroll-package --qr` (docs/pki.md).  The symbol
 * and its SVG are shared/qr.c's (the console draws the same); takctl
 * adds PBM, PNG and the terminal.  PNG through libpng's simplified API
 * (libqrencode has no image writer; libpng is the PNG library, and
 * takctl's alone: takd links libqrencode for the SVG only); PBM is what
 * every image tool reads.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <png.h>

#include "shared/qr.h"
#include "takctl/qr.h"
#include "takctl/takctl.h"

/* The symbol of s; NULL after a message. */
static QRcode *
qr_get(const char *s)
{
	QRcode	*qr;
	char	 err[128];

	if ((qr = qr_encode(s, err, sizeof(err))) == NULL)
		takctl_warnx("%s", err);
	return (qr);
}

/* Binary PBM: 1 is black, rows padded to whole bytes. */
static void
qr_pbm(const QRcode *qr, FILE *fp)
{
	int		 n = qr->width + 2 * QR_QUIET, px = n * QR_SCALE;
	int		 x, y, i;
	unsigned char	 byte;

	fprintf(fp, "P4\n%d %d\n", px, px);
	for (y = 0; y < px; y++) {
		byte = 0;
		for (x = 0, i = 0; x < px; x++) {
			byte = (unsigned char)(byte << 1 |
			    qr_dark(qr, x / QR_SCALE, y / QR_SCALE));
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

/* 8-bit grey PNG, QR_SCALE pixels a module, through libpng. */
static int
qr_png(const QRcode *qr, FILE *fp, const char *path)
{
	png_image	 img;
	unsigned char	*px;
	int		 n = qr->width + 2 * QR_QUIET, side = n * QR_SCALE;
	int		 x, y, rc = -1;

	if ((px = malloc((size_t)side * (size_t)side)) == NULL) {
		takctl_warnx("%s: %s", path, strerror(errno));
		return (-1);
	}
	for (y = 0; y < side; y++)
		for (x = 0; x < side; x++)
			px[(size_t)y * (size_t)side + (size_t)x] = qr_dark(qr,
			    x / QR_SCALE, y / QR_SCALE) ? 0 : 255;
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
	if ((qr = qr_get(s)) == NULL)
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

	if ((qr = qr_get(s)) == NULL)
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
