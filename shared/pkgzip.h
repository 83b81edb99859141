/*
 * The data packages a TAK device imports (pkgzip.c, docs/pki.md "Data
 * package" and "Enrollment package"): zips built in memory with libzip.
 * Shared by takctl (pki/, which writes them into [pki] dir/clients) and
 * the api process (the console's enrollment download, docs/console.md):
 * nothing here reads a key or signs anything, the CA certificate is
 * handed in.
 */
#ifndef TAKD_SHARED_PKGZIP_H
#define TAKD_SHARED_PKGZIP_H

#include <stddef.h>

#include <openssl/x509.h>

#define PKGZIP_MANIFEST		"MANIFEST/manifest.xml"
#define PKGZIP_PORT		"8089"	/* streaming, when none is given */
#define PKGZIP_HOST_MAX		256	/* a DNS name (253) + NUL */
#define PKGZIP_NAME_MAX		64	/* a client or user name */
#define PKGZIP_ENTRY_MAX	(PKGZIP_HOST_MAX + PKGZIP_NAME_MAX + 32)
#define PKGZIP_P12_ITER		2048
#define PKGZIP_SIZE_MAX		(64u << 20)	/* a zip we hand out */
/* The enrollment package's trust store password: what TAK docs use. */
#define PKGZIP_TS_PASSWORD	"atakatak"
#define PKGZIP_ENROLL_PORT	"8446"

/*
 * The data package of a client, version 2: a zip with
 * MANIFEST/manifest.xml listing the rest, and at its root takd-HOST.pref
 * (a cot_streams entry for host:port:ssl, the certificate locations and
 * passwords both per connection and global), truststore-HOST.p12 (the CA
 * certificate only, same legacy algorithms, same password) and
 * NAME-HOST.p12.  An IPv6 literal host is refused.  On success *buf is
 * malloc'ed (it holds the password in clear: wipe and free it).
 */
struct pkgzip_client {
	const char		*name;		/* client NAME */
	const char		*host;
	const char		*port;
	const char		*password;
	X509			*ca;
	const unsigned char	*p12;		/* the client bundle, DER */
	size_t			 p12_len;
};
int	 pkgzip_client_new(const struct pkgzip_client *, unsigned char **buf,
	    size_t *len, char *err, size_t errlen);

/*
 * The enrollment package of a user: MANIFEST/manifest.xml,
 * takd-HOST-enroll.pref (cot_streams for host:port:ssl with
 * enrollForCertificateWithTrust0 and useAuth0, the user name, the trust
 * store; the enrollment port) and truststore-HOST-enroll.p12 (the CA,
 * password PKGZIP_TS_PASSWORD).  No secret: the device asks for the
 * password, or takes it from the QR code.
 */
struct pkgzip_enroll {
	const char		*user;
	const char		*host;
	const char		*port;		/* streaming: 8089 */
	const char		*enroll_port;	/* 8446 */
	X509			*ca;
};
int	 pkgzip_enroll_new(const struct pkgzip_enroll *, unsigned char **buf,
	    size_t *len, char *err, size_t errlen);

/*
 * The server's name as package file names carry it (safe, safelen bytes);
 * -1 for an IPv6 literal, which no connect string can hold.
 */
int	 pkgzip_server_name(const char *host, char *safe, size_t safelen,
	    char *err, size_t errlen);

#endif
