/*
 * The answers of the enrollment port (8446), built from what the key
 * holder returned: the issued certificate and the CA chain, as DER.
 *
 * - GET /Marti/api/tls/config: the XML the official server marshals
 *   (root certificateConfig in namespace com.bbn.marti.config, default
 *   namespace http://bbn.com/marti/xml/config, nameEntries O and OU);
 *   clients put those RDNs after CN in their CSR.
 * - POST /Marti/api/tls/signClient (v1): a PKCS#12, password "atakatak",
 *   certificates only (no key: the phone has it), friendly names
 *   signedCert, ca0, ca1...; PBE-SHA1-3DES and a SHA-1 MAC, the
 *   algorithms Android's keystore reads (../shared/protocol.md).
 * - POST /Marti/api/tls/signClient/v2: JSON {"signedCert": B64, "ca0":
 *   B64, ...} or XML <enrollment><signedCert>B64</signedCert><ca>B64</ca>
 *   ...</enrollment> (api/accept.h chooses).  B64 is the DER in base64
 *   with a line break after every 64 characters and no banners, exactly
 *   as the official server writes it (Util.certToPEM(cert, false)).
 *
 * The CA list (enroll_reply_cas): the chain as given, issuer of the
 * certificate first; when it holds a single CA, that CA is given twice,
 * as ca0 and ca1, because some iTAK builds enroll again and again unless
 * a ca1 is present (../shared/protocol.md); a second copy of a trust
 * anchor changes nothing for any client.  All three answers use that
 * list.  Pure: no I/O.
 */
#ifndef TAKD_API_ENROLL_REPLY_H
#define TAKD_API_ENROLL_REPLY_H

#include <stddef.h>

#define ENROLL_P12_PASSWORD	"atakatak"
#define ENROLL_CHAIN_MAX	8	/* CAs in a chain */
#define ENROLL_CAS_MAX		(ENROLL_CHAIN_MAX + 1)
#define ENROLL_NAME_MAX		256	/* bytes of an O or OU value */

struct enroll_der {
	const unsigned char	*der;
	size_t			 len;
};

/*
 * The CAs to send for chain (n from 1 to ENROLL_CHAIN_MAX) into out
 * (ENROLL_CAS_MAX entries; they point into chain): their number.
 */
size_t	 enroll_reply_cas(const struct enroll_der *chain, size_t n,
	    struct enroll_der *out);

/*
 * The tls/config XML for o and ou (NULL or "": that nameEntry is left
 * out; otherwise 1 to ENROLL_NAME_MAX - 1 bytes of UTF-8 without control
 * characters, XML-escaped here).  validity_days > 0 adds the optional
 * validityDays attribute that ATAK's CertificateConfig reads (the
 * official server leaves it out); 0 leaves it out.  0 with *out (a NUL-
 * terminated string of *len bytes, the caller frees it), or -1 with err.
 */
int	 enroll_reply_tls_config(const char *o, const char *ou,
	    unsigned validity_days, char **out, size_t *len, char *err,
	    size_t errlen);

/*
 * The three answers to a signing: cert is the issued certificate, chain
 * the n CAs (each one DER certificate, nothing after it; checked).  0
 * with *out (the caller frees it: free() for all three) and *len, or -1
 * with err.
 */
int	 enroll_reply_p12(const struct enroll_der *cert,
	    const struct enroll_der *chain, size_t n, unsigned char **out,
	    size_t *len, char *err, size_t errlen);
int	 enroll_reply_json(const struct enroll_der *cert,
	    const struct enroll_der *chain, size_t n, char **out, size_t *len,
	    char *err, size_t errlen);
int	 enroll_reply_xml(const struct enroll_der *cert,
	    const struct enroll_der *chain, size_t n, char **out, size_t *len,
	    char *err, size_t errlen);

#endif
