/*
 * The data package of a client (clients/NAME.zip): what a user imports on
 * the device to get the server connection, the CA trust store and the
 * client certificate in one step.  Layout (version 2), HOST the server's
 * name made file-safe:
 *
 *   MANIFEST/manifest.xml	MissionPackageManifest version 2
 *   takd-HOST.pref		cot_streams + com.atakmap.app_preferences
 *   truststore-HOST.p12	the CA certificate only
 *   NAME-HOST.p12		the client bundle
 *
 * The pref and the bundles sit at the root because iTAK imports only flat
 * zips; their names carry the server's so that WinTAK, which copies them
 * into one certificate folder, keeps two servers apart.  The enrollment
 * package of a user (clients/USER-enroll.zip) has the same shape with a
 * trust store and no client bundle.  Zips are built in memory with libzip.
 *
 * takctl writes both into [pki] dir/clients (pki/issue.c, pki/enroll.c);
 * the api process builds the enrollment package for the console
 * (api/console_enroll.c) from the CA certificate it trusts: no key is
 * read here.
 */
#include <sys/stat.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <zip.h>

#include "shared/pkgzip.h"

#define PKGZIP_XML_MAX		8192	/* manifest or pref, escaped */

/* err: the message, then OpenSSL's reason when it has one. */
static void
pkgzip_sslerr(char *err, size_t errlen, const char *what)
{
	unsigned long	 e;
	char		 why[256];

	if ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, why, sizeof(why));
		snprintf(err, errlen, "%s: %s", what, why);
	} else
		snprintf(err, errlen, "%s", what);
	ERR_clear_error();
}

/* A growing text buffer; one failure sticks. */
struct pkgzip_text {
	char	 buf[PKGZIP_XML_MAX];
	size_t	 len;
	bool	 overflow;
};

static void
pkgzip_text_add(struct pkgzip_text *t, const char *s)
{
	size_t	 n = strlen(s);

	if (t->overflow || t->len + n >= sizeof(t->buf)) {
		t->overflow = true;
		return;
	}
	memcpy(t->buf + t->len, s, n + 1);
	t->len += n;
}

/* s with the five XML specials escaped (attribute or text). */
static void
pkgzip_text_xml(struct pkgzip_text *t, const char *s)
{
	char	 one[2] = { 0, 0 };

	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			pkgzip_text_add(t, "&amp;");
			break;
		case '<':
			pkgzip_text_add(t, "&lt;");
			break;
		case '>':
			pkgzip_text_add(t, "&gt;");
			break;
		case '"':
			pkgzip_text_add(t, "&quot;");
			break;
		case '\'':
			pkgzip_text_add(t, "&apos;");
			break;
		default:
			one[0] = *s;
			pkgzip_text_add(t, one);
		}
	}
}

/* One <entry> of a preference file, with the Java class ATAK expects. */
static void
pkgzip_pref_entry(struct pkgzip_text *t, const char *key, const char *class,
    const char *value)
{
	pkgzip_text_add(t, "    <entry key=\"");
	pkgzip_text_xml(t, key);
	pkgzip_text_add(t, "\" class=\"class java.lang.");
	pkgzip_text_add(t, class);
	pkgzip_text_add(t, "\">");
	pkgzip_text_xml(t, value);
	pkgzip_text_add(t, "</entry>\n");
}

/* A random (version 4) UUID: ATAK tells packages apart by it. */
static int
pkgzip_uuid(char *buf, size_t len)
{
	unsigned char	 b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		return (-1);
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return (0);
}

/* The CA-only PKCS#12 trust store of the package. */
static PKCS12 *
pkgzip_truststore_new(const char *password, const char *name, X509 *ca,
    char *err, size_t errlen)
{
	STACK_OF(PKCS12_SAFEBAG)	*bags = NULL;
	STACK_OF(PKCS7)			*safes = NULL;
	PKCS12_SAFEBAG			*bag;
	PKCS12				*p12 = NULL;

	/*
	 * What `openssl pkcs12 -export -nokeys` makes, with the algorithms
	 * of the client bundle (pki/cert.c, pki_p12_new): one certificate bag,
	 * encrypted with PBE-SHA1-3DES, and a SHA-1 MAC.  The friendly name
	 * becomes the alias in a Java or Android keystore.
	 */
	if ((bag = PKCS12_add_cert(&bags, ca)) == NULL ||
	    !PKCS12_add_friendlyname(bag, name, -1) ||
	    PKCS12_add_safe(&safes, bags,
	    NID_pbe_WithSHA1And3_Key_TripleDES_CBC, PKGZIP_P12_ITER,
	    password) == 0 ||
	    (p12 = PKCS12_add_safes(safes, 0)) == NULL ||
	    !PKCS12_set_mac(p12, password, -1, NULL, 0, PKGZIP_P12_ITER,
	    EVP_sha1())) {
		pkgzip_sslerr(err, errlen, "cannot build the PKCS#12 trust store");
		PKCS12_free(p12);
		p12 = NULL;
	}
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	sk_PKCS7_pop_free(safes, PKCS7_free);
	return (p12);
}

/* One file of a package. */
struct pkgzip_file {
	char		 name[PKGZIP_ENTRY_MAX];
	const void	*data;
	size_t		 len;
	bool		 compress;
};

static void
pkgzip_manifest(struct pkgzip_text *t, const char *title, const char *uuid,
    const struct pkgzip_file *f, size_t n)
{
	size_t	 i;

	pkgzip_text_add(t, "<MissionPackageManifest version=\"2\">\n"
	    "  <Configuration>\n"
	    "    <Parameter name=\"uid\" value=\"");
	pkgzip_text_add(t, uuid);
	pkgzip_text_add(t, "\"/>\n    <Parameter name=\"name\" value=\"");
	pkgzip_text_xml(t, title);
	pkgzip_text_add(t, "\"/>\n"
	    "    <Parameter name=\"onReceiveDelete\" value=\"true\"/>\n"
	    "  </Configuration>\n"
	    "  <Contents>\n");
	for (i = 0; i < n; i++) {
		pkgzip_text_add(t, "    <Content ignore=\"false\" zipEntry=\"");
		pkgzip_text_xml(t, f[i].name);
		pkgzip_text_add(t, "\"/>\n");
	}
	pkgzip_text_add(t, "  </Contents>\n"
	    "</MissionPackageManifest>\n");
}

/* The head of a pref: cot_streams with one connection to host:port:ssl. */
static void
pkgzip_pref_head(struct pkgzip_text *t, const char *host, const char *port)
{
	char	 conn[300], desc[300];

	snprintf(conn, sizeof(conn), "%s:%s:ssl", host, port);
	snprintf(desc, sizeof(desc), "takd %s", host);
	pkgzip_text_add(t, "<?xml version='1.0' standalone='yes'?>\n"
	    "<preferences>\n"
	    "  <preference version=\"1\" name=\"cot_streams\">\n");
	pkgzip_pref_entry(t, "count", "Integer", "1");
	pkgzip_pref_entry(t, "description0", "String", desc);
	pkgzip_pref_entry(t, "enabled0", "Boolean", "true");
	pkgzip_pref_entry(t, "connectString0", "String", conn);
}

/*
 * ATAK reads the per-connection keys (…0) first; older builds, WinTAK and
 * iTAK only the global ones: both are written, with the same values.
 */
static void
pkgzip_pref(struct pkgzip_text *t, const struct pkgzip_client *pkg,
    const char *ts_entry, const char *p12_entry)
{
	pkgzip_pref_head(t, pkg->host, pkg->port);
	pkgzip_pref_entry(t, "caLocation0", "String", ts_entry);
	pkgzip_pref_entry(t, "caPassword0", "String", pkg->password);
	pkgzip_pref_entry(t, "certificateLocation0", "String", p12_entry);
	pkgzip_pref_entry(t, "clientPassword0", "String", pkg->password);
	pkgzip_text_add(t, "  </preference>\n"
	    "  <preference version=\"1\" "
	    "name=\"com.atakmap.app_preferences\">\n");
	pkgzip_pref_entry(t, "displayServerConnectionWidget", "Boolean", "true");
	pkgzip_pref_entry(t, "caLocation", "String", ts_entry);
	pkgzip_pref_entry(t, "caPassword", "String", pkg->password);
	pkgzip_pref_entry(t, "clientPassword", "String", pkg->password);
	pkgzip_pref_entry(t, "certificateLocation", "String", p12_entry);
	pkgzip_text_add(t, "  </preference>\n"
	    "</preferences>\n");
}

/* Add one file; data must live until zip_close(). */
static int
pkgzip_zip_add(zip_t *za, const char *name, const void *data, size_t len,
    bool compress)
{
	zip_source_t	*src;
	zip_int64_t	 i;

	if ((src = zip_source_buffer(za, data, len, 0)) == NULL)
		return (-1);
	if ((i = zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8)) < 0) {
		zip_source_free(src);
		return (-1);
	}
	/* Unpacked by hand, the files stay private (like the zip, 0600). */
	if (zip_file_set_external_attributes(za, (zip_uint64_t)i, 0,
	    ZIP_OPSYS_UNIX, (zip_uint32_t)(S_IFREG | 0600) << 16) == -1)
		return (-1);
	return (zip_set_file_compression(za, (zip_uint64_t)i, compress ?
	    ZIP_CM_DEFLATE : ZIP_CM_STORE, 0));
}

/* The finished archive out of its in-memory source. */
static int
pkgzip_zip_take(zip_source_t *src, unsigned char **buf, size_t *len)
{
	zip_stat_t	 st;
	unsigned char	*p;

	if (zip_source_open(src) < 0)
		return (-1);
	zip_stat_init(&st);
	if (zip_source_stat(src, &st) < 0 || !(st.valid & ZIP_STAT_SIZE) ||
	    st.size == 0 || st.size > PKGZIP_SIZE_MAX ||
	    (p = malloc((size_t)st.size)) == NULL) {
		zip_source_close(src);
		return (-1);
	}
	if (zip_source_read(src, p, st.size) != (zip_int64_t)st.size) {
		free(p);
		zip_source_close(src);
		return (-1);
	}
	zip_source_close(src);
	*buf = p;
	*len = (size_t)st.size;
	return (0);
}

int
pkgzip_server_name(const char *host, char *safe, size_t safelen, char *err,
    size_t errlen)
{
	size_t	 i;

	/* connectString0 is split on ':': ATAK cannot dial "::1:8089:ssl". */
	if (strchr(host, ':') != NULL) {
		snprintf(err, errlen, "server host \"%s\" is an IPv6 address, "
		    "which a TAK connect string (HOST:PORT:ssl) cannot carry: "
		    "set [pki] server_host to a DNS name of the server", host);
		return (-1);
	}
	if (*host == '\0' || strlen(host) >= safelen) {
		snprintf(err, errlen, "server host \"%s\": 1..%zu characters",
		    host, safelen - 1);
		return (-1);
	}
	/* A DNS name or IPv4 address is file-safe already; anything else. */
	for (i = 0; host[i] != '\0'; i++)
		safe[i] = (host[i] >= 'a' && host[i] <= 'z') ||
		    (host[i] >= 'A' && host[i] <= 'Z') ||
		    (host[i] >= '0' && host[i] <= '9') || host[i] == '.' ||
		    host[i] == '-' ? host[i] : '_';
	safe[i] = '\0';
	return (0);
}

/* The zip of files, manifest first, into *buf (malloc'ed). */
static int
pkgzip_zip_build(const struct pkgzip_text *manifest, const struct pkgzip_file *f,
    size_t n, unsigned char **buf, size_t *len, char *err, size_t errlen)
{
	zip_error_t	 ze;
	zip_source_t	*src = NULL;
	zip_t		*za = NULL;
	size_t		 i;
	int		 rc = -1;

	zip_error_init(&ze);
	if ((src = zip_source_buffer_create(NULL, 0, 0, &ze)) == NULL ||
	    (za = zip_open_from_source(src, ZIP_TRUNCATE, &ze)) == NULL)
		goto zip_fail;
	zip_source_keep(src);	/* to read the archive after zip_close */
	if (pkgzip_zip_add(za, PKGZIP_MANIFEST, manifest->buf, manifest->len,
	    true) == -1)
		goto add_fail;
	for (i = 0; i < n; i++)
		if (pkgzip_zip_add(za, f[i].name, f[i].data, f[i].len,
		    f[i].compress) == -1)
			goto add_fail;
	if (zip_close(za) == -1) {
		zip_error_set(&ze, zip_error_code_zip(zip_get_error(za)),
		    zip_error_code_system(zip_get_error(za)));
		zip_discard(za);
		za = NULL;
		goto zip_fail;
	}
	za = NULL;
	if (pkgzip_zip_take(src, buf, len) == -1) {
		zip_error_set(&ze, zip_error_code_zip(zip_source_error(src)),
		    zip_error_code_system(zip_source_error(src)));
		goto zip_fail;
	}
	rc = 0;
	goto done;
 add_fail:
	zip_error_set(&ze, zip_error_code_zip(zip_get_error(za)),
	    zip_error_code_system(zip_get_error(za)));
 zip_fail:
	snprintf(err, errlen, "cannot build the data package: %s",
	    zip_error_strerror(&ze));
 done:
	if (za != NULL)
		zip_discard(za);
	zip_source_free(src);
	zip_error_fini(&ze);
	return (rc);
}

/* XML 1.0 has no way to carry control characters, even escaped. */
static int
pkgzip_xml_ok(const char *s, const char *what, char *err, size_t errlen)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			snprintf(err, errlen, "the %s contains a control "
			    "character, which the data package cannot carry",
			    what);
			return (-1);
		}
	return (0);
}

/* The CA alone as a PKCS#12 trust store, DER in *der (OPENSSL_free). */
static int
pkgzip_truststore_der(const char *password, X509 *ca, unsigned char **der,
    int *len, char *err, size_t errlen)
{
	PKCS12	*ts;

	*der = NULL;
	if ((ts = pkgzip_truststore_new(password, "takd-ca", ca, err,
	    errlen)) == NULL)
		return (-1);
	if ((*len = i2d_PKCS12(ts, der)) <= 0) {
		pkgzip_sslerr(err, errlen, "cannot encode the trust store");
		*der = NULL;
		PKCS12_free(ts);
		return (-1);
	}
	PKCS12_free(ts);
	return (0);
}

int
pkgzip_client_new(const struct pkgzip_client *pkg, unsigned char **buf,
    size_t *len, char *err, size_t errlen)
{
	struct pkgzip_text	*manifest = NULL, *pref = NULL;
	struct pkgzip_file f[3];
	unsigned char	*tsder = NULL;
	char		 uuid[40], title[PKGZIP_NAME_MAX + 8];
	char		 server[PKGZIP_HOST_MAX];
	int		 tslen = 0, rc = -1;

	*buf = NULL;
	*len = 0;
	memset(f, 0, sizeof(f));
	if (pkgzip_xml_ok(pkg->password, "password", err, errlen) == -1 ||
	    pkgzip_server_name(pkg->host, server, sizeof(server), err,
	    errlen) == -1)
		return (-1);
	snprintf(f[0].name, sizeof(f[0].name), "takd-%s.pref", server);
	snprintf(f[1].name, sizeof(f[1].name), "truststore-%s.p12", server);
	snprintf(f[2].name, sizeof(f[2].name), "%s-%s.p12", pkg->name, server);
	snprintf(title, sizeof(title), "%s takd", pkg->name);
	if (pkgzip_uuid(uuid, sizeof(uuid)) == -1) {
		pkgzip_sslerr(err, errlen, "cannot make a package uid");
		return (-1);
	}
	/* The pref holds the password: secure memory, wiped at the end. */
	if ((manifest = OPENSSL_secure_zalloc(sizeof(*manifest))) == NULL ||
	    (pref = OPENSSL_secure_zalloc(sizeof(*pref))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	pkgzip_manifest(manifest, title, uuid, f, 3);
	pkgzip_pref(pref, pkg, f[1].name, f[2].name);
	if (manifest->overflow || pref->overflow) {
		snprintf(err, errlen, "data package: host or password too "
		    "long");
		goto done;
	}
	if (pkgzip_truststore_der(pkg->password, pkg->ca, &tsder, &tslen, err,
	    errlen) == -1)
		goto done;
	f[0].data = pref->buf;
	f[0].len = pref->len;
	f[0].compress = true;
	/* The bundles are encrypted already: deflate would not shrink them. */
	f[1].data = tsder;
	f[1].len = (size_t)tslen;
	f[2].data = pkg->p12;
	f[2].len = pkg->p12_len;
	rc = pkgzip_zip_build(manifest, f, 3, buf, len, err, errlen);
 done:
	if (tsder != NULL) {
		OPENSSL_cleanse(tsder, (size_t)tslen);
		OPENSSL_free(tsder);
	}
	OPENSSL_secure_clear_free(manifest, sizeof(*manifest));
	OPENSSL_secure_clear_free(pref, sizeof(*pref));
	return (rc);
}

/* The enrollment pref: trust for 8446 and 8089, then enroll with a login. */
static void
pkgzip_enroll_pref(struct pkgzip_text *t, const struct pkgzip_enroll *pkg,
    const char *ts_entry)
{
	pkgzip_pref_head(t, pkg->host, pkg->port);
	pkgzip_pref_entry(t, "caLocation0", "String", ts_entry);
	pkgzip_pref_entry(t, "caPassword0", "String", PKGZIP_TS_PASSWORD);
	pkgzip_pref_entry(t, "enrollForCertificateWithTrust0", "Boolean", "true");
	pkgzip_pref_entry(t, "useAuth0", "Boolean", "true");
	pkgzip_pref_entry(t, "username0", "String", pkg->user);
	pkgzip_pref_entry(t, "cacheCreds0", "String", "Cache credentials");
	pkgzip_text_add(t, "  </preference>\n"
	    "  <preference version=\"1\" "
	    "name=\"com.atakmap.app_preferences\">\n");
	pkgzip_pref_entry(t, "displayServerConnectionWidget", "Boolean", "true");
	pkgzip_pref_entry(t, "caLocation", "String", ts_entry);
	pkgzip_pref_entry(t, "caPassword", "String", PKGZIP_TS_PASSWORD);
	pkgzip_pref_entry(t, "apiCertEnrollmentPort", "String", pkg->enroll_port);
	pkgzip_text_add(t, "  </preference>\n"
	    "</preferences>\n");
}

int
pkgzip_enroll_new(const struct pkgzip_enroll *pkg,
    unsigned char **buf, size_t *len, char *err, size_t errlen)
{
	struct pkgzip_text	*manifest = NULL, *pref = NULL;
	struct pkgzip_file f[2];
	unsigned char	*tsder = NULL;
	char		 uuid[40], title[PKGZIP_NAME_MAX + 32];
	char		 server[PKGZIP_HOST_MAX];
	int		 tslen = 0, rc = -1;

	*buf = NULL;
	*len = 0;
	memset(f, 0, sizeof(f));
	if (pkgzip_xml_ok(pkg->user, "user name", err, errlen) == -1 ||
	    pkgzip_server_name(pkg->host, server, sizeof(server), err,
	    errlen) == -1)
		return (-1);
	snprintf(f[0].name, sizeof(f[0].name), "takd-%s-enroll.pref", server);
	snprintf(f[1].name, sizeof(f[1].name), "truststore-%s-enroll.p12",
	    server);
	snprintf(title, sizeof(title), "%s takd enrollment", pkg->user);
	if (pkgzip_uuid(uuid, sizeof(uuid)) == -1) {
		pkgzip_sslerr(err, errlen, "cannot make a package uid");
		return (-1);
	}
	if ((manifest = calloc(1, sizeof(*manifest))) == NULL ||
	    (pref = calloc(1, sizeof(*pref))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	pkgzip_manifest(manifest, title, uuid, f, 2);
	pkgzip_enroll_pref(pref, pkg, f[1].name);
	if (manifest->overflow || pref->overflow) {
		snprintf(err, errlen, "enrollment package: host or user name "
		    "too long");
		goto done;
	}
	if (pkgzip_truststore_der(PKGZIP_TS_PASSWORD, pkg->ca, &tsder,
	    &tslen, err, errlen) == -1)
		goto done;
	f[0].data = pref->buf;
	f[0].len = pref->len;
	f[0].compress = true;
	f[1].data = tsder;
	f[1].len = (size_t)tslen;
	rc = pkgzip_zip_build(manifest, f, 2, buf, len, err, errlen);
 done:
	OPENSSL_free(tsder);
	free(manifest);
	free(pref);
	return (rc);
}
