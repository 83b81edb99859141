/*
 * The takd PKI: a CA kept in [pki] dir, server and client certificates signed
 * by it, the CRL, and an index of everything issued.  takctl drives it; the
 * logic lives here so that unit tests can run it in-process.  pki/ is linked
 * into takctl and the unit tests, never into takd, the process that parses
 * network input: what the daemon needs is in shared/pkiutil.h and
 * shared/fileio.h, which this header includes.
 *
 * Layout of the directory (see docs/pki.md):
 *   ca.pem ca.key crl.pem server.pem server.key index.txt [enrolled.txt]
 *   clients/NAME.pem clients/NAME.key clients/NAME.p12 clients/NAME.zip
 *   [clients/NAME.p12.password] [clients/USER-enroll.zip]
 *
 * Every operation takes an exclusive flock on the directory, writes its files
 * to temporaries (final mode set with fchmod, then fsync) and renames them
 * into place only when all of them are ready, the index first: a certificate
 * that exists is always in the index.  Functions return 0 or -1 with a
 * message in err.
 */
#ifndef TAKD_PKI_H
#define TAKD_PKI_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "shared/fileio.h"
#include "shared/pkgzip.h"
#include "shared/pkiutil.h"

#define PKI_CA_CERT		"ca.pem"
#define PKI_CA_KEY		"ca.key"
#define PKI_CRL			"crl.pem"
#define PKI_SERVER_CERT		"server.pem"
#define PKI_SERVER_KEY		"server.key"
#define PKI_INDEX		"index.txt"
#define PKI_INDEX_OLD		"index.txt.old"
#define PKI_JOURNAL		"enrolled.txt"	/* the signer appends */
#define PKI_JOURNAL_OLD		"enrolled.txt.old"
#define PKI_REVJOURNAL		"revoked.txt"	/* the signer appends */
#define PKI_CLIENT_DIR		"clients"

#define PKI_DIR_MODE		0711	/* takd reads crl.pem as its user */
#define PKI_CLIENT_DIR_MODE	0700

#define PKI_NAME_MAX		64	/* client names become file names */
#define PKI_CN_MAX		64	/* characters: ub-common-name */
#define PKI_SERIAL_BYTES	16	/* what we issue: 127 random bits */
#define PKI_SERIAL_HEX		41	/* up to 20 octets (RFC 5280) + NUL */
#define PKI_SUBJECT_MAX		512
#define PKI_MAX_SAN		32
#define PKI_PASSWORD_LEN	16	/* generated p12 passwords, ~93 bits */
#define PKI_PASSWORD_MAX	255
#define PKI_P12_ITER		PKGZIP_P12_ITER
#define PKI_DAYS_MAX		36500
#define PKI_UID_MAX		128	/* bytes of an enrolled clientUid */

#define PKI_DAYS_CA		3650
#define PKI_DAYS_SERVER		825
#define PKI_DAYS_CLIENT		365
#define PKI_DAYS_CRL		30
#define PKI_CRL_DAYS_MAX	3650

/*
 * Inside the data package clients/NAME.zip (see docs/pki.md): the manifest,
 * then takd-HOST.pref, truststore-HOST.p12 and NAME-HOST.p12 at the root.
 */
#define PKI_PKG_MANIFEST	PKGZIP_MANIFEST
#define PKI_PKG_PORT		PKGZIP_PORT
#define PKI_HOST_MAX		PKGZIP_HOST_MAX

enum pki_kind {
	PKI_KIND_CA,
	PKI_KIND_SERVER,
	PKI_KIND_CLIENT,
	PKI_KIND_EXTERNAL	/* revoked by serial, not issued by takctl */
};

/* What the index stores; "expired" is derived from not_after when listing. */
enum pki_status {
	PKI_STATUS_VALID,
	PKI_STATUS_REVOKED
};

enum pki_keytype {
	PKI_KEY_DEFAULT,	/* CA: EC P-256; leaves: like the CA key */
	PKI_KEY_EC,		/* P-256 */
	PKI_KEY_RSA		/* rsa_bits */
};

/*
 * One line of index.txt.  A client certificate issued through enrollment
 * (the signer, pki/sign.c) has name = the user and enrolled set, with the
 * device's clientUid ("" when it sent none).
 */
struct pki_entry {
	enum pki_kind	 kind;
	char		 serial[PKI_SERIAL_HEX];	/* upper-case hex */
	time_t		 not_after;
	char		 name[4 * PKI_CN_MAX + 1];	/* UTF-8 */
	char		 subject[PKI_SUBJECT_MAX];	/* RFC 2253 */
	enum pki_status	 status;
	time_t		 revoked_at;	/* 0 unless revoked */
	int		 reason;	/* CRL_REASON_*, or CRL_REASON_NONE */
	bool		 enrolled;
	char		 client_uid[PKI_UID_MAX + 1];
};

struct pki_index {
	struct pki_entry *v;
	size_t		 n;
	size_t		 cap;
};

/* What to issue.  Zero / NULL fields take the defaults. */
struct pki_req {
	const char	*cn;		/* CA, server */
	unsigned	 days;
	unsigned	 crl_days;	/* CA: the initial CRL */
	enum pki_keytype keytype;
	unsigned	 rsa_bits;	/* 2048 or 4096 with PKI_KEY_RSA */
	const char	*san[PKI_MAX_SAN];	/* "DNS:name", "IP:addr" */
	size_t		 n_san;
	const char	*password;	/* client p12; NULL: generate one */
	bool		 force;		/* replace existing keys/certs */
	/* Client data package: NULL host = the CN of server.pem. */
	const char	*pkg_host;
	const char	*pkg_port;	/* NULL: 8089 */
};

/* What was issued, for takctl to report. */
struct pki_result {
	char		 serial[PKI_SERIAL_HEX];
	char		 subject[PKI_SUBJECT_MAX];
	time_t		 not_after;
	bool		 clamped;	/* not_after cut to the CA's */
	bool		 stale_leaves;	/* init-ca replaced a CA in use */
	bool		 password_generated;
	char		 password[PKI_PASSWORD_LEN + 1];	/* wipe it */
	char		 pkg_host[256];	/* what the data package dials */
	char		 pkg_port[8];
	bool		 pkg_host_guessed;	/* no server.pem: host name */
};

/*
 * Create the CA: key, self-signed certificate and an empty CRL (crlNumber 1).
 * Creates dir (0711, and dir/clients 0700) when missing.  With force, an
 * existing index is kept as index.txt.old and a new one started.
 */
int	 pki_init_ca(const char *dir, const struct pki_req *,
	    struct pki_result *, char *err, size_t errlen);

/*
 * Server key and certificate (serverAuth) signed by the CA.  cn NULL: the
 * host name.  SAN: the san entries, then the CN, localhost, 127.0.0.1, ::1.
 */
int	 pki_issue_server(const char *dir, const struct pki_req *,
	    struct pki_result *, char *err, size_t errlen);

/*
 * Client key, certificate (CN=name, clientAuth), PKCS#12 bundle (key, cert,
 * CA; PBE-SHA1-3DES and a SHA-1 MAC so that Android imports it) and the ATAK
 * data package NAME.zip.  A generated password is returned in res and
 * written to NAME.p12.password.
 */
int	 pki_issue_client(const char *dir, const char *name,
	    const struct pki_req *, struct pki_result *, char *err,
	    size_t errlen);

/*
 * A certificate for key with the profile of kind (issue.c), issued by
 * ca/cakey, or self-signed when ca is NULL: subject CN=cn, or a copy of
 * subject when it is not NULL; serial 127 random bits; SHA-256.  Its
 * lifetime never exceeds the CA's (*clamped says when it was cut).
 */
X509	*pki_cert_new(enum pki_kind kind, const char *cn,
	    const X509_NAME *subject, unsigned days, GENERAL_NAMES *san,
	    EVP_PKEY *key, X509 *ca, EVP_PKEY *cakey, bool *clamped,
	    char *err, size_t errlen);
/* The index line of a certificate just issued (valid); -1: no serial. */
int	 pki_entry_fill(struct pki_entry *, enum pki_kind, const char *name,
	    X509 *cert);

/* Load ca.pem and ca.key and check that they belong together. */
int	 pki_ca_load(const char *dir, X509 **cert, EVP_PKEY **key, char *err,
	    size_t errlen);

/*
 * A v2 CRL signed by the CA (SHA-256): lastUpdate now, nextUpdate now + days,
 * crlNumber, AKI, and one entry (with its date and reason) for every revoked
 * server or client entry of idx (may be NULL; the index only ever lists
 * certificates of the current CA).
 */
X509_CRL *pki_crl_new(X509 *ca, EVP_PKEY *key, const struct pki_index *idx,
	    long number, unsigned days, char *err, size_t errlen);

/* The crlNumber of a CRL, or 0 when it has none. */
long	 pki_crl_number(const X509_CRL *);

/* A new key: EC P-256, or RSA of bits (2048..16384). */
EVP_PKEY *pki_key_new(enum pki_keytype, unsigned bits, char *err,
	    size_t errlen);

/*
 * The data packages themselves (the zips, the pref, the trust store) are
 * built by shared/pkgzip.c, which the api process links too (the
 * console's enrollment download).
 *
 * Where a package points the device (res->pkg_host, pkg_port): req's
 * pkg_host ([pki] server_host), else the CN of the locked directory's
 * server.pem, else this machine's name (pkg_host_guessed).
 */
struct pki_txn;
void	 pki_package_host(struct pki_txn *, const struct pki_req *,
	    struct pki_result *);

#define PKI_ENROLL_PORT		PKGZIP_ENROLL_PORT

/*
 * Write clients/USER-enroll.zip under the directory's lock (refused when
 * it exists, unless force); res gets pkg_host and pkg_port.  The user's
 * name must be a client name (pki_name_check).
 */
int	 pki_issue_enroll(const char *dir, const char *user,
	    const struct pki_req *, struct pki_result *, char *err,
	    size_t errlen);

/* Client names: [A-Za-z0-9._-]{1,64}, not starting with '.' or '-'. */
int	 pki_name_check(const char *, char *err, size_t errlen);

/*
 * Fill buf (len bytes) with a NUL-terminated random password of len - 1
 * characters from an alphabet without look-alikes.
 */
int	 pki_password_generate(char *buf, size_t len);

/* Upper-case hex of a serial number. */
int	 pki_serial_hex(const ASN1_INTEGER *, char *buf, size_t len);
/* A name in RFC 2253 form, UTF-8 kept, control characters escaped. */
void	 pki_subject(const X509_NAME *, char *buf, size_t len);

/* The index's hex serial as an ASN1_INTEGER; NULL when malformed. */
ASN1_INTEGER *pki_serial_asn1(const char *hex);

/*
 * Text forms (text.c).  A serial number as an operator types it
 * ("7CD8...", "7c:d8:...", "0x7cd8"), or in decimal digits, in the index's
 * form: upper-case hex without separators or leading zero bytes.  Positive,
 * at most 20 octets (RFC 5280).
 */
int	 pki_serial_parse(const char *, char *buf, size_t len);
int	 pki_serial_decimal(const char *, char *buf, size_t len);
/* Compare two serials of the index's form, ignoring leading zeros. */
int	 pki_serial_cmp(const char *, const char *);

/*
 * index.txt.  load returns 1 (and an empty index) when the file does not
 * exist.  parse takes the whole file; format writes one line with its '\n'
 * and returns its length, or -1 when the buffer is too small.
 */
int	 pki_index_load(const char *dir, struct pki_index *, char *err,
	    size_t errlen);
int	 pki_index_parse(const char *buf, size_t len, struct pki_index *,
	    char *err, size_t errlen);
int	 pki_index_format(const struct pki_entry *, char *buf, size_t len);
int	 pki_index_add(struct pki_index *, const struct pki_entry *);
void	 pki_index_free(struct pki_index *);

const char *pki_kind_name(enum pki_kind);
/* "valid", "revoked" or "expired" (a valid entry past not_after). */
const char *pki_entry_status(const struct pki_entry *, time_t now);

/* err = message + ": " + the first queued OpenSSL error; clears the queue. */
void	 pki_sslerr(char *err, size_t errlen, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * ISO-8601 UTC as pki_time_format() writes it ("2026-11-23T08:00:00Z"); -1
 * when malformed.
 */
int	 pki_time_parse(const char *, time_t *);
/*
 * A date as other tools write it: ISO-8601 with a 'T' or a blank, optional
 * seconds, fraction and zone (Z, +HH:MM, +HHMM, +HH, " UTC", " GMT"), a bare
 * date, OpenSSL's "May  1 12:34:56 2023 GMT", or Unix seconds.  No zone
 * means UTC.  -1 when malformed or outside 1950..9999.
 */
int	 pki_date_parse(const char *, time_t *);

/*
 * Revocation (revoke.c).  Every operation below runs under the
 * directory's lock and writes, all or nothing, the index and a new CRL
 * (crl_path, which may be outside dir: it is [tls] crl) with every revoked
 * entry of the index, crlNumber one above the current CRL's, lastUpdate now
 * and nextUpdate now + days.  A serial of the current CRL (when it is signed
 * by the CA) that the index does not know is kept, as an "external" line, so
 * that rewriting the CRL never un-revokes anything.
 */
enum pki_revoke_by {
	PKI_REVOKE_NAME,	/* every valid client certificate of NAME */
	PKI_REVOKE_SERIAL,	/* known or not (an "external" line) */
	PKI_REVOKE_CERT		/* a certificate file issued by the CA */
};

struct pki_revoke_req {
	enum pki_revoke_by	 by;
	const char		*arg;	/* the NAME, serial or file */
	int			 reason;	/* CRL_REASON_*, CRL_REASON_NONE */
	unsigned		 days;	/* CRL lifetime, 0: PKI_DAYS_CRL */
};

#define PKI_WARN_MAX		1024

struct pki_crl_out {
	long		 number;	/* crlNumber written */
	size_t		 entries;	/* serials in the new CRL */
	time_t		 last_update;
	time_t		 next_update;
	struct pki_entry *revoked;	/* revoke: what it revoked */
	size_t		 n_revoked;
	size_t		 n_new;		/* import: entries revoked now */
	size_t		 n_already;	/* import: were revoked already */
	size_t		 n_external;	/* new "external" index lines */
	size_t		 n_carried;	/* from the old CRL into the index */
	size_t		 n_skipped;	/* import: the CA's own serial */
	char		 warn[PKI_WARN_MAX];	/* lines, '\n'-separated */
};

/* Reasons an operator may give: no certificateHold, removeFromCRL, aA. */
int	 pki_reason_revocable(int reason);

int	 pki_revoke(const char *dir, const char *crl_path,
	    const struct pki_revoke_req *, struct pki_crl_out *, char *err,
	    size_t errlen);
/* The same entries, a fresh lastUpdate/nextUpdate and crlNumber + 1. */
int	 pki_crl_renew(const char *dir, const char *crl_path, unsigned days,
	    struct pki_crl_out *, char *err, size_t errlen);
/*
 * Merge a FreeTAKServer CRL (see pki_import_parse; name is the input's for
 * messages) and write the CRL.
 */
int	 pki_crl_import(const char *dir, const char *crl_path,
	    const char *name, const char *buf, size_t len, unsigned days,
	    struct pki_crl_out *, char *err, size_t errlen);
void	 pki_crl_out_free(struct pki_crl_out *);

/*
 * Reading what FreeTAKServer leaves behind (import.c): a PEM X.509 CRL
 * (FTS names it FTS_CRL.json), a ca.pem with CRLs after the certificates
 * (the serials of every CRL in it are taken), a DER CRL, or JSON
 * {"revoked_certificates":[{"serial_number":..,"revocation_date":..,
 * "reason":..}]}.  A JSON number is a decimal serial; a string is hex with a
 * 0x prefix, colons or a letter a-f, else decimal (Python's str(int)).
 * Duplicates are merged (earliest date).  With ca, a CRL not signed by it
 * sets foreign.
 */
#define PKI_IMPORT_MAX		1000000	/* entries */

enum pki_import_format {
	PKI_IMPORT_PEM,
	PKI_IMPORT_DER,
	PKI_IMPORT_JSON
};

struct pki_import_entry {
	char		 serial[PKI_SERIAL_HEX];
	time_t		 revoked_at;	/* 0: not given */
	int		 reason;	/* CRL_REASON_* or CRL_REASON_NONE */
};

struct pki_import {
	enum pki_import_format format;
	struct pki_import_entry *v;
	size_t		 n;
	size_t		 cap;
	size_t		 n_crls;	/* PEM: CRLs found */
	size_t		 n_dup;		/* duplicates merged */
	long		 number;	/* highest crlNumber seen, 0: none */
	bool		 foreign;	/* a CRL not signed by ca */
	char		 issuer[256];	/* of the (first) foreign CRL */
};

int	 pki_import_parse(const char *buf, size_t len, X509 *ca,
	    struct pki_import *, char *err, size_t errlen);
/* One entry more ("unspecified" stored as no reason); -1 with err. */
int	 pki_import_add(struct pki_import *, const char *serial, time_t when,
	    int reason, char *err, size_t errlen);
void	 pki_import_free(struct pki_import *);

/*
 * Storage (store.c): a transaction over the locked directory.  Files are
 * staged as temporaries and renamed into place, in staging order, by commit;
 * end removes whatever was not committed and releases the lock.
 */
#define PKI_TXN_MAX		12
#define PKI_FILE_MAX		(64u << 20)	/* biggest index we read */

struct pki_txn {
	int		 dirfd;		/* flock'ed for the whole transaction */
	int		 clientfd;	/* dir/clients, or -1 */
	int		 crlfd;		/* the CRL's directory, or -1 */
	char		 crl_name[PKI_NAME_MAX + 32];	/* its file name */
	char		 crl_dir[PATH_MAX];
	char		 dir[PATH_MAX];
	size_t		 n;
	struct pki_txn_file {
		int	 dirfd;
		char	 name[PKI_NAME_MAX + 32];
		char	 tmp[PKI_NAME_MAX + 64];
		bool	 done;
	}		 f[PKI_TXN_MAX];
};

/* create: make dir (parents 0755, dir 0711) when it is missing. */
int	 pki_txn_begin(struct pki_txn *, const char *dir, bool create,
	    char *err, size_t errlen);
/* Open dir/clients into clientfd, creating it 0700. */
int	 pki_txn_clients(struct pki_txn *, char *err, size_t errlen);
/*
 * The CRL file (path; NULL: dir/crl.pem): crlfd is its directory (dirfd
 * itself when that is dir) and crl_name its name.
 */
int	 pki_txn_crl(struct pki_txn *, const char *path, char *err,
	    size_t errlen);
int	 pki_txn_stage(struct pki_txn *, int dirfd, const char *name,
	    const void *buf, size_t len, mode_t mode, char *err, size_t errlen);
int	 pki_txn_commit(struct pki_txn *, char *err, size_t errlen);
void	 pki_txn_end(struct pki_txn *);
/* "dir/name" or "dir/clients/name" for messages. */
const char *pki_txn_path(const struct pki_txn *, int dirfd, const char *name,
	    char *buf, size_t len);
/* Fail with "PATH exists; use --force to replace it" unless force. */
int	 pki_txn_check_absent(struct pki_txn *, int dirfd, const char *name,
	    bool force, char *err, size_t errlen);

/* Load the CA of the locked directory (see pki_ca_load). */
int	 pki_txn_ca_load(struct pki_txn *, X509 **cert, EVP_PKEY **key,
	    char *err, size_t errlen);
/* Stage one PEM object (exactly one of cert, crl, key non-NULL). */
int	 pki_txn_stage_pem(struct pki_txn *, int dirfd, const char *name,
	    mode_t mode, X509 *cert, X509_CRL *crl, EVP_PKEY *key, char *err,
	    size_t errlen);
/*
 * Stage index.txt with e appended.  fresh (a new CA) starts a new index and
 * stages the old one as index.txt.old; *had_leaves (may be NULL) says whether
 * it listed server or client certificates.  A damaged index is an error.
 */
int	 pki_txn_stage_index(struct pki_txn *, const struct pki_entry *e,
	    bool fresh, bool *had_leaves, char *err, size_t errlen);
/*
 * Read index.txt of the locked directory: *raw (the caller frees it; NULL
 * when there is no index yet) and idx.  A damaged index is an error.
 */
int	 pki_txn_index_read(struct pki_txn *, struct pki_index *, char **raw,
	    size_t *rawlen, char *err, size_t errlen);
/* Parse one index line (modified in place); -1 with a message in err. */
int	 pki_index_line(char *line, struct pki_entry *, char *err,
	    size_t errlen);
/*
 * The journal (journal.c).  merge: add to idx the valid enrolled client
 * lines of dirfd's enrolled.txt whose serial idx lacks (other lines are
 * skipped); 0, or -1 with err when the file cannot be read.  reset (a new
 * CA, under the lock): stage enrolled.txt.old with its content and an
 * empty enrolled.txt.
 */
int	 pki_journal_merge(int dirfd, const char *dir, struct pki_index *,
	    char *err, size_t errlen);
int	 pki_txn_journal_reset(struct pki_txn *, char *err, size_t errlen);

/*
 * The revocation journal (revjournal.c), [pki] dir/revoked.txt: what
 * takd-signer revoked for the admin console, one line each,
 *
 *	R <tab> SERIAL <tab> WHEN <tab> REASON <tab> CRLNUMBER <tab> ADMIN
 *
 * (WHEN seconds since the epoch, REASON a CRL_REASON_* code or -1, the
 * number of the CRL the signer made with it, the console user).  parse
 * takes the valid lines into out (out->number: the highest CRL number),
 * skipping any other (a torn last line).  read: the file of dirfd, by
 * name (missing: empty).  merge: the entries into idx, revoking what idx
 * lists valid (never the CA), adding the others as external lines.
 * format: one line with its newline, its length, or -1.
 */
int	 pki_revjournal_parse(const char *buf, size_t len,
	    struct pki_import *out, char *err, size_t errlen);
int	 pki_revjournal_read(int dirfd, const char *dir, struct pki_import *,
	    char *err, size_t errlen);
int	 pki_revjournal_merge(const struct pki_import *, struct pki_index *,
	    char *err, size_t errlen);
int	 pki_revjournal_format(char *buf, size_t len, const char *serial,
	    time_t when, int reason, long number, const char *admin);

/*
 * Stage index.txt rewritten from idx: raw's comments and blank lines stay
 * where they were, its entries are replaced by idx's in order, and idx's
 * entries beyond raw's are appended.
 */
int	 pki_txn_stage_index_all(struct pki_txn *, const char *raw,
	    size_t rawlen, const struct pki_index *, char *err, size_t errlen);

#endif
