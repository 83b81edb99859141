/*
 * QR codes of the enrollment strings (qr.c): encoded by Debian's
 * libqrencode, drawn by takctl as SVG, PBM or UTF-8 half blocks.
 */
#ifndef TAKD_TAKCTL_QR_H
#define TAKD_TAKCTL_QR_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Write the QR code of s to path: SVG when it ends in ".svg", PBM (P4)
 * when in ".pbm"; anything else is refused.  Mode 0600 (the code may
 * carry a password); an existing file is replaced only with force.  -1
 * after a message.
 */
int	 qr_write_file(const char *s, const char *path, bool force);

/* The QR code of s in UTF-8 half blocks, light on dark; -1 after a message. */
int	 qr_print(const char *s, FILE *);

#endif
