/*
 * The expiry note (takctl/expiry_note.c writes it, supervisor/expiry.c
 * reads it): the notAfter of every valid client certificate of the PKI
 * index, for takd's count of client certificates expiring within [tls]
 * cert_warn_days.  STATE_DIR/store/pki-expiry: EXPIRY_NOTE_HEADER on the
 * first line, then one Unix time per line.
 */
#ifndef TAKD_EXPIRY_NOTE_H
#define TAKD_EXPIRY_NOTE_H

#define EXPIRY_NOTE_DIR		"store"		/* in state_dir */
#define EXPIRY_NOTE_FILE	"pki-expiry"
#define EXPIRY_NOTE_HEADER	"# takd pki-expiry 1: client certificates' notAfter"
/* Read at most this much (a million certificates fit). */
#define EXPIRY_NOTE_MAX		((size_t)24 << 20)

#endif
