/*
 * The OCSP staple: see staple.h.  One response per process, replaced
 * whole by each push; the callback copies it into the handshake
 * (OpenSSL frees what SSL_set_tlsext_status_ocsp_resp() is given).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "ipc/ocspfetch_msg.h"
#include "shared/log.h"
#include "worker/staple.h"

#define STAPLE_MAGIC	0x53544150u	/* "STAP" */

static struct {
	unsigned	 magic;
	uint8_t		 der[OCSPFETCH_RESP_MAX];
	size_t		 len;
	time_t		 until;		/* its nextUpdate */
	uint32_t	 generation;
	uint64_t	*stapled;
} staple;

/*
 * SSL_CTX_set_tlsext_status_cb(): called only when the client sent
 * status_request.  No staple, or one past its nextUpdate: the handshake
 * goes on without (NOACK), never fails for it.
 */
static int
staple_cb(SSL *ssl, void *arg)
{
	unsigned char	*copy;

	(void)arg;
	if (staple.magic != STAPLE_MAGIC || staple.len == 0 ||
	    time(NULL) >= staple.until)
		return (SSL_TLSEXT_ERR_NOACK);
	if ((copy = OPENSSL_memdup(staple.der, staple.len)) == NULL)
		return (SSL_TLSEXT_ERR_NOACK);
	if (SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)staple.len) !=
	    1) {
		OPENSSL_free(copy);
		ERR_clear_error();
		return (SSL_TLSEXT_ERR_NOACK);
	}
	(*staple.stapled)++;
	return (SSL_TLSEXT_ERR_OK);
}

/* u64 until, u32 status, bytes DER: see ipc_msg.h. */
static int
staple_read(const struct ipc_msg *msg, uint64_t *until, const uint8_t **der,
    size_t *len)
{
	struct ipc_rd	 rd;
	uint32_t	 status;

	ipc_rd_init(&rd, msg);
	*until = ipc_get_u64(&rd);
	status = ipc_get_u32(&rd);
	*der = ipc_get_bytes(&rd, len);
	if (rd.err != 0 || ipc_rd_done(&rd) == -1 || msg->fd != -1 ||
	    *until == 0 || *until > INT64_MAX || status > 1 || *len == 0 ||
	    *len > OCSPFETCH_RESP_MAX)
		return (-1);
	return (0);
}

int
staple_check(const struct ipc_msg *msg)
{
	uint64_t	 until;
	const uint8_t	*der;
	size_t		 len;

	return (staple_read(msg, &until, &der, &len));
}

int
staple_install(SSL_CTX *ctx, const struct ipc_msg *msg, uint64_t *stapled)
{
	uint64_t	 until;
	const uint8_t	*der;
	size_t		 len;

	if (staple_read(msg, &until, &der, &len) == -1)
		return (-1);
	if (staple.magic != STAPLE_MAGIC) {
		if (SSL_CTX_set_tlsext_status_cb(ctx, staple_cb) != 1) {
			ERR_clear_error();
			return (-1);
		}
		staple.magic = STAPLE_MAGIC;
	}
	memcpy(staple.der, der, len);
	staple.len = len;
	staple.until = (time_t)until;
	staple.generation = msg->hdr.gen_or_peer;
	staple.stapled = stapled;
	log_debug("OCSP staple %u in force (%zu bytes, until %lld)",
	    staple.generation, len, (long long)until);
	return (0);
}
