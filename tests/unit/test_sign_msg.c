/*
 * Unit tests for ipc/sign_msg.c: the api <-> signer messages round trip
 * (through a real SOCK_SEQPACKET channel too), and decoding refuses every
 * truncation, every overlong or oversized length, trailing bytes, bad
 * names, clientUids and reasons, and replies of an impossible shape.
 */
#include <sys/socket.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ipc/sign_msg.h"
#include "unit.h"

static uint8_t	 csr[300], cert[500], ca0[400], ca1[200];

static int
group_setup(void **state)
{
	size_t	 i;

	for (i = 0; i < sizeof(csr); i++)
		csr[i] = (uint8_t)(i * 7);
	memset(cert, 0xc1, sizeof(cert));
	memset(ca0, 0xa0, sizeof(ca0));
	memset(ca1, 0xa1, sizeof(ca1));
	return (0);
}

static void
good_req(struct sign_req *r)
{
	memset(r, 0, sizeof(*r));
	r->id = 77;
	snprintf(r->user, sizeof(r->user), "alice");
	snprintf(r->client_uid, sizeof(r->client_uid), "ANDROID-0123abcd");
	r->csr = csr;
	r->csr_len = sizeof(csr);
}

static void
good_rep(struct sign_rep *r)
{
	memset(r, 0, sizeof(*r));
	r->id = 77;
	r->status = SIGN_OK;
	r->cert = cert;
	r->cert_len = sizeof(cert);
	r->chain[0] = ca0;
	r->chain_len[0] = sizeof(ca0);
	r->chain[1] = ca1;
	r->chain_len[1] = sizeof(ca1);
	r->n_chain = 2;
}

static struct ipc_buf *
enc_req(const struct sign_req *r)
{
	struct ipc_buf	*b = malloc(sizeof(*b));

	assert_non_null(b);
	ipc_buf_init(b);
	assert_int_equal(sign_req_encode(r, b), 0);
	return (b);
}

static struct ipc_buf *
enc_rep(const struct sign_rep *r)
{
	struct ipc_buf	*b = malloc(sizeof(*b));

	assert_non_null(b);
	ipc_buf_init(b);
	assert_int_equal(sign_rep_encode(r, b), 0);
	return (b);
}

static void
test_req_round_trip(void **state)
{
	struct sign_req	 in, out;
	struct ipc_buf	*b;
	char		 why[128];

	good_req(&in);
	b = enc_req(&in);
	assert_int_equal(sign_req_decode(b->data, b->len, &out, why,
	    sizeof(why)), 0);
	assert_int_equal(out.id, 77);
	assert_string_equal(out.user, "alice");
	assert_string_equal(out.client_uid, "ANDROID-0123abcd");
	assert_int_equal(out.csr_len, sizeof(csr));
	assert_memory_equal(out.csr, csr, sizeof(csr));
	free(b);
	/* No clientUid is allowed (a client that sent none). */
	in.client_uid[0] = '\0';
	b = enc_req(&in);
	assert_int_equal(sign_req_decode(b->data, b->len, &out, why,
	    sizeof(why)), 0);
	assert_string_equal(out.client_uid, "");
	free(b);
}

static void
test_rep_round_trip(void **state)
{
	struct sign_rep	 in, out;
	struct ipc_buf	*b;
	char		 why[128];

	good_rep(&in);
	b = enc_rep(&in);
	assert_int_equal(sign_rep_decode(b->data, b->len, &out, why,
	    sizeof(why)), 0);
	assert_int_equal(out.status, SIGN_OK);
	assert_int_equal(out.n_chain, 2);
	assert_memory_equal(out.cert, cert, sizeof(cert));
	assert_memory_equal(out.chain[1], ca1, sizeof(ca1));
	free(b);
	memset(&in, 0, sizeof(in));
	in.id = 9;
	in.status = SIGN_REFUSED;
	snprintf(in.reason, sizeof(in.reason), "subject CN \"bob\" is not "
	    "the authenticated user \"alice\"");
	b = enc_rep(&in);
	assert_int_equal(sign_rep_decode(b->data, b->len, &out, why,
	    sizeof(why)), 0);
	assert_int_equal(out.status, SIGN_REFUSED);
	assert_null(out.cert);
	assert_string_equal(out.reason, in.reason);
	free(b);
}

/* Every prefix of a valid payload is refused. */
static void
test_truncations(void **state)
{
	struct sign_req	 rq, oq;
	struct sign_rep	 rp, op;
	struct ipc_buf	*b;
	char		 why[128];
	size_t		 i;

	good_req(&rq);
	b = enc_req(&rq);
	for (i = 0; i < b->len; i++)
		if (sign_req_decode(b->data, i, &oq, why, sizeof(why)) == 0)
			fail_msg("request cut at %zu of %zu accepted", i,
			    b->len);
	free(b);
	good_rep(&rp);
	b = enc_rep(&rp);
	for (i = 0; i < b->len; i++)
		if (sign_rep_decode(b->data, i, &op, why, sizeof(why)) == 0)
			fail_msg("reply cut at %zu of %zu accepted", i, b->len);
	/* And one byte more is trailing garbage. */
	b->data[b->len] = 0;
	assert_int_equal(sign_rep_decode(b->data, b->len + 1, &op, why,
	    sizeof(why)), -1);
	free(b);
	b = enc_req(&rq);
	b->data[b->len] = 0;
	assert_int_equal(sign_req_decode(b->data, b->len + 1, &oq, why,
	    sizeof(why)), -1);
	assert_contains(why, "after the CSR");
	free(b);
}

/* Overwrite the u32 at off (a length field) and expect a refusal. */
static void
bad_u32_req(const struct ipc_buf *b, size_t off, uint32_t v,
    const char *needle)
{
	uint8_t		 copy[sizeof(b->data)];
	struct sign_req	 out;
	char		 why[128];

	memcpy(copy, b->data, b->len);
	memcpy(copy + off, &v, sizeof(v));
	if (sign_req_decode(copy, b->len, &out, why, sizeof(why)) == 0)
		fail_msg("u32 %u at %zu accepted", v, off);
	assert_contains(why, needle);
}

static void
test_overlong_lengths(void **state)
{
	struct sign_req	 rq;
	struct sign_rep	 rp, op;
	struct ipc_buf	*b;
	uint8_t		*big;
	char		 why[128];
	size_t		 off_user = 4, off_uid, off_csr;
	uint32_t	 n;

	good_req(&rq);
	b = enc_req(&rq);
	off_uid = off_user + 4 + strlen(rq.user);
	off_csr = off_uid + 4 + strlen(rq.client_uid);
	bad_u32_req(b, off_user, 0xffffffffu, "bad user");
	bad_u32_req(b, off_user, (uint32_t)b->len, "bad user");
	bad_u32_req(b, off_user, 0, "bad user");
	bad_u32_req(b, off_uid, 0x80000000u, "bad clientUid");
	bad_u32_req(b, off_uid, 200, "bad clientUid");
	bad_u32_req(b, off_csr, 0xffffffffu, "bad CSR length");
	bad_u32_req(b, off_csr, (uint32_t)sizeof(csr) + 1, "bad CSR length");
	bad_u32_req(b, off_csr, 0, "bad CSR length");
	free(b);

	/* A CSR over the cap, encoded by hand (the encoder refuses it). */
	big = calloc(1, SIGN_CSR_MAX + 1);
	rq.csr = big;
	rq.csr_len = SIGN_CSR_MAX + 1;
	b = malloc(sizeof(*b));
	ipc_buf_init(b);
	assert_int_equal(sign_req_encode(&rq, b), -1);
	ipc_buf_init(b);
	ipc_put_u32(b, 1);
	ipc_put_str(b, "alice");
	ipc_put_str(b, "");
	ipc_put_bytes(b, big, SIGN_CSR_MAX + 1);
	assert_int_equal(sign_req_decode(b->data, b->len, &rq, why,
	    sizeof(why)), -1);
	assert_contains(why, "bad CSR length");
	free(big);

	/* Replies: a chain count past the cap, a huge certificate length. */
	good_rep(&rp);
	ipc_buf_init(b);
	ipc_put_u32(b, 1);
	ipc_put_u32(b, SIGN_OK);
	ipc_put_str(b, "");
	ipc_put_bytes(b, cert, sizeof(cert));
	ipc_put_u32(b, SIGN_CHAIN_MAX + 1);
	for (n = 0; n < SIGN_CHAIN_MAX + 1; n++)
		ipc_put_bytes(b, ca1, sizeof(ca1));
	assert_int_equal(sign_rep_decode(b->data, b->len, &op, why,
	    sizeof(why)), -1);
	assert_contains(why, "chain count");
	ipc_buf_init(b);
	ipc_put_u32(b, 1);
	ipc_put_u32(b, SIGN_OK);
	ipc_put_str(b, "");
	ipc_put_u32(b, 0xfffffff0u);
	assert_int_equal(sign_rep_decode(b->data, b->len, &op, why,
	    sizeof(why)), -1);
	free(b);
}

static void
test_bad_fields(void **state)
{
	struct sign_req	 rq;
	struct sign_rep	 rp, op;
	struct ipc_buf	*b = malloc(sizeof(*b));
	char		 why[128], uid[SIGN_UID_MAX + 2];
	static const char *const users[] = { "", "a:b", "tab\there",
	    " lead", "#x", "\xc3" };
	static const char *const uids[] = { "has space", "\xc3\xa9t\xc3\xa9",
	    "new\nline" };
	size_t		 i;

	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		ipc_buf_init(b);
		ipc_put_u32(b, 1);
		ipc_put_str(b, users[i]);
		ipc_put_str(b, "");
		ipc_put_bytes(b, csr, sizeof(csr));
		if (sign_req_decode(b->data, b->len, &rq, why,
		    sizeof(why)) == 0)
			fail_msg("user \"%s\" accepted", users[i]);
	}
	memset(uid, 'u', sizeof(uid) - 1);
	uid[sizeof(uid) - 1] = '\0';	/* SIGN_UID_MAX + 1 bytes */
	for (i = 0; i < sizeof(uids) / sizeof(uids[0]) + 1; i++) {
		ipc_buf_init(b);
		ipc_put_u32(b, 1);
		ipc_put_str(b, "alice");
		ipc_put_str(b, i < 3 ? uids[i] : uid);
		ipc_put_bytes(b, csr, sizeof(csr));
		assert_int_equal(sign_req_decode(b->data, b->len, &rq, why,
		    sizeof(why)), -1);
	}
	/* A NUL inside the user name. */
	ipc_buf_init(b);
	ipc_put_u32(b, 1);
	ipc_put_bytes(b, "ali\0ce", 6);
	ipc_put_str(b, "");
	ipc_put_bytes(b, csr, sizeof(csr));
	assert_int_equal(sign_req_decode(b->data, b->len, &rq, why,
	    sizeof(why)), -1);

	/* Reply shapes: ok without a chain, a refusal with a certificate. */
	good_rep(&rp);
	rp.n_chain = 0;
	ipc_buf_init(b);
	assert_int_equal(sign_rep_encode(&rp, b), -1);
	good_rep(&rp);
	rp.status = SIGN_REFUSED;
	snprintf(rp.reason, sizeof(rp.reason), "no");
	assert_int_equal(sign_rep_encode(&rp, b), -1);
	ipc_buf_init(b);
	ipc_put_u32(b, 1);
	ipc_put_u32(b, SIGN_REFUSED);
	ipc_put_str(b, "no");
	ipc_put_bytes(b, cert, sizeof(cert));
	ipc_put_u32(b, 0);
	assert_int_equal(sign_rep_decode(b->data, b->len, &op, why,
	    sizeof(why)), -1);
	assert_contains(why, "certificate in a refusal");
	/* A refusal without a reason, a reason with a control character. */
	ipc_buf_init(b);
	ipc_put_u32(b, 1);
	ipc_put_u32(b, SIGN_ERROR);
	ipc_put_str(b, "");
	ipc_put_bytes(b, NULL, 0);
	ipc_put_u32(b, 0);
	assert_int_equal(sign_rep_decode(b->data, b->len, &op, why,
	    sizeof(why)), -1);
	ipc_buf_init(b);
	ipc_put_u32(b, 1);
	ipc_put_u32(b, SIGN_ERROR);
	ipc_put_str(b, "bad\nline");
	ipc_put_bytes(b, NULL, 0);
	ipc_put_u32(b, 0);
	assert_int_equal(sign_rep_decode(b->data, b->len, &op, why,
	    sizeof(why)), -1);
	/* An unknown status. */
	ipc_buf_init(b);
	ipc_put_u32(b, 1);
	ipc_put_u32(b, SIGN_STATUS_MAX);
	ipc_put_str(b, "x");
	ipc_put_bytes(b, NULL, 0);
	ipc_put_u32(b, 0);
	assert_int_equal(sign_rep_decode(b->data, b->len, &op, why,
	    sizeof(why)), -1);
	assert_contains(why, "bad status");
	free(b);
}

static void
test_channel(void **state)
{
	struct ipc_chan	*a, *s;
	struct ipc_msg	 m;
	struct sign_req	 rq, oq;
	struct sign_rep	 rp, op;
	char		 why[128];
	int		 sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	a = ipc_chan_new(sv[0], 1 << 20);
	s = ipc_chan_new(sv[1], 1 << 20);
	assert_non_null(a);
	assert_non_null(s);
	good_req(&rq);
	assert_int_equal(sign_req_send(a, &rq), 0);
	assert_int_equal(ipc_recv(s, &m), 1);
	assert_int_equal(m.hdr.type, IPC_MSG_SIGN_REQ);
	assert_int_equal(sign_req_decode(m.payload, m.len, &oq, why,
	    sizeof(why)), 0);
	assert_string_equal(oq.user, "alice");
	good_rep(&rp);
	assert_int_equal(sign_rep_send(s, &rp), 0);
	assert_int_equal(ipc_recv(a, &m), 1);
	assert_int_equal(m.hdr.type, IPC_MSG_SIGN_REP);
	assert_int_equal(sign_rep_decode(m.payload, m.len, &op, why,
	    sizeof(why)), 0);
	assert_int_equal(op.id, 77);
	/* An invalid request is never sent. */
	rq.user[0] = '\0';
	assert_int_equal(sign_req_send(a, &rq), -1);
	assert_int_equal(ipc_recv(s, &m), 0);
	ipc_chan_free(a);
	ipc_chan_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_req_round_trip),
		cmocka_unit_test(test_rep_round_trip),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_overlong_lengths),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_channel),
	};

	return (cmocka_run_group_tests(tests, group_setup, NULL));
}
