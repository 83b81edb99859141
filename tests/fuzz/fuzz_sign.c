/*
 * libFuzzer target for what enrollment parses that is takd's own: the
 * api <-> signer messages (ipc/sign_msg.h) and the CSR policy
 * (shared/csr_check.h), which sees whatever a phone posts.
 *
 * Every input is tried as:
 * - a sign request and a sign reply payload: a decoded one re-encodes to
 *   the same bytes (the decoder took exactly what the encoder writes, and
 *   the encoder refuses nothing the decoder accepted);
 * - a posted CSR (DER, PEM, base64) through csr_parse() and, when it
 *   parses, csr_check() for a user and a policy: a refusal always has a
 *   reason of printable ASCII, an acceptance names the key;
 * - the CSR of a decoded request, as the signer takes it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "ipc/sign_msg.h"
#include "shared/csr_check.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fz_fail(const char *what)
{
	fprintf(stderr, "fuzz_sign: %s\n", what);
	abort();
}

static void
fz_reason(const char *why)
{
	const char	*p;

	if (*why == '\0')
		fz_fail("a refusal without a reason");
	for (p = why; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			fz_fail("a reason with a control or non-ASCII byte");
}

static void
fz_csr(X509_REQ *req)
{
	static const struct csr_policy	 pol = { "TAK", "Field", 0 };
	static const struct csr_policy	 bare = { "", "", 0 };
	struct csr_info			 info;
	char				 why[CSR_REASON_MAX];

	if (csr_check(req, "alice", &pol, &info, why, sizeof(why)) == 0) {
		if (info.key[0] == '\0')
			fz_fail("accepted without a key name");
	} else
		fz_reason(why);
	if (csr_check(req, "Alice", &bare, NULL, why, sizeof(why)) == -1)
		fz_reason(why);
}

static void
fz_messages(const uint8_t *data, size_t size)
{
	static struct ipc_buf	 b;
	struct sign_req		 req;
	struct sign_rep		 rep;
	X509_REQ		*x;
	char			 why[CSR_REASON_MAX];

	if (sign_req_decode(data, size, &req, why, sizeof(why)) == 0) {
		ipc_buf_init(&b);
		if (sign_req_encode(&req, &b) == -1 || b.len != size ||
		    memcmp(b.data, data, size) != 0)
			fz_fail("a decoded request does not encode back");
		if ((x = csr_parse_der(req.csr, req.csr_len, why,
		    sizeof(why))) != NULL) {
			fz_csr(x);
			X509_REQ_free(x);
		} else
			fz_reason(why);
	} else
		fz_reason(why);
	if (sign_rep_decode(data, size, &rep, why, sizeof(why)) == 0) {
		ipc_buf_init(&b);
		if (sign_rep_encode(&rep, &b) == -1 || b.len != size ||
		    memcmp(b.data, data, size) != 0)
			fz_fail("a decoded reply does not encode back");
	} else
		fz_reason(why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	X509_REQ	*x;
	char		 why[CSR_REASON_MAX];

	fz_messages(data, size);
	if ((x = csr_parse(data, size, why, sizeof(why))) != NULL) {
		fz_csr(x);
		X509_REQ_free(x);
	} else
		fz_reason(why);
	ERR_clear_error();
	return (0);
}
