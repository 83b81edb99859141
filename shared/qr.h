/*
 * The enrollment QR codes (qr.c, docs/enrollment.md): the strings ATAK and
 * iTAK scan, and their symbol drawn as SVG.  libqrencode encodes (error
 * correction M, 8-bit mode: the bytes as they are); this draws modules.
 * Shared by takctl (pki enroll-package --qr, which adds PNG, PBM and the
 * terminal) and the api process (the console's enrollment dialog).
 */
#ifndef TAKD_SHARED_QR_H
#define TAKD_SHARED_QR_H

#include <stdio.h>

#include <qrencode.h>

#include "shared/password.h"
#include "shared/pkgzip.h"
#include "shared/users.h"

#define QR_QUIET	4	/* modules of light border (ISO/IEC 18004) */
#define QR_SCALE	8	/* pixels per module of an image */
/* The ATAK URL: every byte of host, user and password percent-encoded. */
#define QR_URL_MAX	(3 * (PKGZIP_HOST_MAX + USERS_NAME_MAX + \
			PASSWORD_MAX) + 64)
#define QR_ITAK_MAX	(2 * PKGZIP_HOST_MAX + 32)

/* The symbol of s; NULL with the reason in err. */
QRcode	*qr_encode(const char *s, char *err, size_t errlen);
/* Module (x, y) of the symbol with its quiet zone: dark? */
int	 qr_dark(const QRcode *, int x, int y);
/* The symbol as a standalone SVG document, QR_SCALE pixels a module. */
void	 qr_svg(const QRcode *, FILE *);

/*
 * ATAK's enrollment URL, tak://com.atakmap.app/enroll?host=H&username=U
 * [&token=PASSWORD] (password NULL: none), into buf (QR_URL_MAX).
 */
void	 qr_enroll_url(const char *host, const char *user,
	    const char *password, char *buf, size_t len);
/* iTAK's: "takd HOST,HOST,PORT,ssl"; it asks for the user and password. */
void	 qr_itak_string(const char *host, const char *port, char *buf, size_t len);

#endif
