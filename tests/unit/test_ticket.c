/*
 * Unit tests for the session ticket keys: the supervisor's ring
 * (supervisor/ticket.c: making, rotating, dropping keys), the
 * IPC_MSG_TICKET_KEYS codec and the lookups of worker/tls.c, and the
 * ticket callback itself in real TLS 1.3 and 1.2 handshakes over a BIO
 * pair: a ticket of the current key resumes (and is replaced in TLS 1.3
 * only), one of the previous key resumes and is replaced, an unknown or
 * expired one is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "shared/clock.h"
#include "tests/unit/unit.h"

#include "ipc/ipc.h"
#include "supervisor/ticket.h"
#include "worker/sesscache.h"
#include "worker/tls.h"

#define P	10000		/* rotation period, ms */
#define T0	1000000		/* a monotonic time, ms */

/* The supervisor's clock in sup_tick: the test sets it. */
static int64_t	 clock_ms = T0;

static int64_t
fake_now(void)
{
	return (clock_ms);
}

static bool
same_key(const struct tls_ticket_key *a, const struct tls_ticket_key *b)
{
	return (memcmp(a, b, sizeof(*a)) == 0);
}

static void
ring_rotation(void **state)
{
	struct ticket_ring	*tr;
	struct tls_ticket_key	 k1, k2;

	tr = ticket_ring_new(P, T0);
	assert_non_null(tr);
	assert_int_equal(tr->magic, TICKET_RING_MAGIC);
	assert_int_equal(tr->ring.n, 1);
	assert_int_equal(tr->ring.generation, 1);
	assert_int_equal(tr->next_ms, T0 + P);
	/* Current for a period, previous for the next one. */
	assert_int_equal(tr->ring.keys[0].expires_ms, T0 + 2 * P);
	k1 = tr->ring.keys[0];

	assert_int_equal(ticket_ring_rotate(tr, T0 + P), 0);
	assert_int_equal(tr->ring.n, 2);
	assert_int_equal(tr->ring.generation, 2);
	assert_int_equal(tr->next_ms, T0 + 2 * P);
	assert_true(same_key(&tr->ring.keys[1], &k1));
	assert_int_equal(tr->ring.keys[0].expires_ms, T0 + 3 * P);
	assert_memory_not_equal(tr->ring.keys[0].name, k1.name,
	    IPC_TICKET_NAME_LEN);
	assert_memory_not_equal(tr->ring.keys[0].aes, k1.aes,
	    IPC_TICKET_AES_LEN);
	assert_memory_not_equal(tr->ring.keys[0].hmac, k1.hmac,
	    IPC_TICKET_HMAC_LEN);
	k2 = tr->ring.keys[0];

	/* The key of two periods ago is gone. */
	assert_int_equal(ticket_ring_rotate(tr, T0 + 2 * P), 0);
	assert_int_equal(tr->ring.n, 2);
	assert_int_equal(tr->ring.generation, 3);
	assert_true(same_key(&tr->ring.keys[1], &k2));
	assert_false(same_key(&tr->ring.keys[0], &k1));

	/* Asleep past its life: the current key is not kept either. */
	assert_int_equal(ticket_ring_rotate(tr, T0 + 10 * P), 0);
	assert_int_equal(tr->ring.n, 1);
	assert_int_equal(tr->ring.generation, 4);
	assert_int_equal(tr->next_ms, T0 + 11 * P);
	ticket_ring_free(tr);
	ticket_ring_free(NULL);
}

static void
ring_lookup(void **state)
{
	struct ticket_ring		*tr;
	const struct tls_ticket_key	*k = NULL;
	uint8_t				 unknown[IPC_TICKET_NAME_LEN];
	const uint8_t			*cur, *prev;

	tr = ticket_ring_new(P, T0);
	assert_non_null(tr);
	assert_int_equal(ticket_ring_rotate(tr, T0 + P), 0);
	cur = tr->ring.keys[0].name;
	prev = tr->ring.keys[1].name;

	assert_ptr_equal(tls_ticket_current(&tr->ring, T0 + P),
	    &tr->ring.keys[0]);
	assert_int_equal(tls_ticket_find(&tr->ring, cur, T0 + P, &k), 1);
	assert_ptr_equal(k, &tr->ring.keys[0]);
	/* The previous key decrypts and asks for renewal. */
	assert_int_equal(tls_ticket_find(&tr->ring, prev, T0 + P, &k), 2);
	assert_ptr_equal(k, &tr->ring.keys[1]);
	assert_int_equal(tls_ticket_find(&tr->ring, prev, T0 + 2 * P - 1,
	    &k), 2);
	/* Up to its expiry, not at it, even if no rotation came. */
	assert_int_equal(tls_ticket_find(&tr->ring, prev, T0 + 2 * P, &k), 0);
	assert_int_equal(tls_ticket_find(&tr->ring, cur, T0 + 3 * P, &k), 0);
	assert_null(tls_ticket_current(&tr->ring, T0 + 3 * P));
	memset(unknown, 0x5a, sizeof(unknown));
	assert_int_equal(tls_ticket_find(&tr->ring, unknown, T0 + P, &k), 0);
	ticket_ring_free(tr);
}

/* The supervisor's side: made at start, rotated by the loop's tick. */
static void
sup_tick(void **state)
{
	static struct config	 cfg;
	static struct sup	 sup;
	struct tls_ticket_key	 k1;

	memset(&sup, 0, sizeof(sup));
	memset(&cfg, 0, sizeof(cfg));
	cfg.ticket_key_rotation_ms = P;
	sup.magic = SUP_MAGIC;
	sup.cfg = &cfg;
	clock_ms = T0;
	clock_fake_mono(fake_now);
	assert_int_equal(ticket_tick(&sup), -1);	/* no ring yet */
	assert_int_equal(ticket_init(&sup), 0);
	assert_non_null(sup.tickets);
	k1 = sup.tickets->ring.keys[0];
	assert_int_equal(ticket_tick(&sup), P);
	clock_ms = T0 + P - 1;
	assert_int_equal(ticket_tick(&sup), 1);
	assert_int_equal(sup.tickets->ring.generation, 1);
	clock_ms = T0 + P + 5;		/* a late tick */
	assert_int_equal(ticket_tick(&sup), P);
	assert_int_equal(sup.tickets->ring.generation, 2);
	assert_int_equal(sup.tickets->ring.n, 2);
	assert_true(same_key(&sup.tickets->ring.keys[1], &k1));
	/* No rotation once stopping. */
	sup.stopping = true;
	clock_ms = T0 + 5 * P;
	assert_int_equal(ticket_tick(&sup), -1);
	assert_int_equal(sup.tickets->ring.generation, 2);
	ticket_free(&sup);
	assert_null(sup.tickets);
	clock_fake_mono(NULL);
	ticket_free(&sup);
}

static struct ipc_msg
msg_of(const struct ipc_buf *b, uint32_t gen)
{
	struct ipc_msg	 m;

	memset(&m, 0, sizeof(m));
	m.hdr.type = IPC_MSG_TICKET_KEYS;
	m.hdr.gen_or_peer = gen;
	m.hdr.len = (uint32_t)(sizeof(m.hdr) + b->len);
	m.payload = b->data;
	m.len = b->len;
	m.fd = -1;
	return (m);
}

static void
codec_roundtrip(void **state)
{
	static struct ipc_buf	 b;
	struct ticket_ring	*tr;
	struct tls_ticket_ring	 out;
	struct ipc_msg		 m;

	tr = ticket_ring_new(P, T0);
	assert_non_null(tr);
	ipc_buf_init(&b);
	tls_ticket_encode(&b, &tr->ring);
	assert_int_equal(b.err, 0);
	assert_int_equal(b.len, 4 + 1 * (8 + 4 + IPC_TICKET_KEY_LEN));
	m = msg_of(&b, 1);
	memset(&out, 0, sizeof(out));
	assert_int_equal(tls_ticket_decode(&m, &out), 0);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.generation, 1);
	assert_true(same_key(&out.keys[0], &tr->ring.keys[0]));

	assert_int_equal(ticket_ring_rotate(tr, T0 + P), 0);
	ipc_buf_init(&b);
	tls_ticket_encode(&b, &tr->ring);
	assert_int_equal(b.len, 4 + 2 * (8 + 4 + IPC_TICKET_KEY_LEN));
	m = msg_of(&b, 2);
	assert_int_equal(tls_ticket_decode(&m, NULL), 0);
	assert_int_equal(tls_ticket_decode(&m, &out), 0);
	assert_int_equal(out.n, 2);
	assert_int_equal(out.generation, 2);
	assert_true(same_key(&out.keys[0], &tr->ring.keys[0]));
	assert_true(same_key(&out.keys[1], &tr->ring.keys[1]));
	ticket_ring_free(tr);
}

/* A payload of n keys written by hand, with one thing wrong in it. */
enum bad { BAD_NONE, BAD_KEYLEN, BAD_SAME_NAME, BAD_EXPIRES0,
    BAD_EXPIRES_NEG };

static void
put_ring(struct ipc_buf *b, uint32_t count, unsigned n, enum bad bad)
{
	uint8_t		 key[IPC_TICKET_KEY_LEN + 1];
	unsigned	 i;

	ipc_buf_init(b);
	ipc_put_u32(b, count);
	for (i = 0; i < n; i++) {
		memset(key, 0x11 * (i + 1), sizeof(key));
		if (bad == BAD_SAME_NAME)
			memset(key, 0x77, IPC_TICKET_NAME_LEN);
		ipc_put_u64(b, bad == BAD_EXPIRES0 ? 0 :
		    bad == BAD_EXPIRES_NEG ? UINT64_MAX : T0);
		ipc_put_bytes(b, key, IPC_TICKET_KEY_LEN +
		    (bad == BAD_KEYLEN ? 1 : 0));
	}
}

static int
decode(struct ipc_buf *b)
{
	struct tls_ticket_ring	 out;
	struct ipc_msg		 m = msg_of(b, 7);

	memset(&out, 0xee, sizeof(out));
	if (tls_ticket_decode(&m, &out) == 0)
		return (0);
	/* A rejected frame leaves the ring alone. */
	assert_int_equal(out.n, 0xeeeeeeeeu);
	return (-1);
}

static void
codec_malformed(void **state)
{
	static struct ipc_buf	 b;

	put_ring(&b, 2, 2, BAD_NONE);
	assert_int_equal(decode(&b), 0);
	/* One byte short, one byte more. */
	b.len--;
	assert_int_equal(decode(&b), -1);
	put_ring(&b, 2, 2, BAD_NONE);
	ipc_put_u32(&b, 0);
	b.len -= 3;
	assert_int_equal(decode(&b), -1);
	/* The count disagrees with the keys, or is out of range. */
	put_ring(&b, 1, 2, BAD_NONE);
	assert_int_equal(decode(&b), -1);
	put_ring(&b, 2, 1, BAD_NONE);
	assert_int_equal(decode(&b), -1);
	put_ring(&b, 0, 0, BAD_NONE);
	assert_int_equal(decode(&b), -1);
	put_ring(&b, 3, 3, BAD_NONE);
	assert_int_equal(decode(&b), -1);
	b.len = 0;
	assert_int_equal(decode(&b), -1);
	/* A key of another size, two keys of one name, a bad expiry. */
	put_ring(&b, 1, 1, BAD_KEYLEN);
	assert_int_equal(decode(&b), -1);
	put_ring(&b, 2, 2, BAD_SAME_NAME);
	assert_int_equal(decode(&b), -1);
	put_ring(&b, 1, 1, BAD_EXPIRES0);
	assert_int_equal(decode(&b), -1);
	put_ring(&b, 1, 1, BAD_EXPIRES_NEG);
	assert_int_equal(decode(&b), -1);
}

/* --- the callback in real handshakes ----------------------------------- */

static int	 new_tickets;		/* sessions the client was given */
static uint8_t	 held_name[IPC_TICKET_NAME_LEN]; /* key of its ticket after */
static size_t	 held_len;		/* and the ticket's length */
static SSL_SESSION *last_sess;

static int
client_new_session(SSL *ssl, SSL_SESSION *sess)
{
	new_tickets++;
	SSL_SESSION_free(last_sess);
	last_sess = sess;
	return (1);		/* we keep the reference */
}

/* A server context like takd's (tlsctx.c) with a self-signed P-256 key. */
static SSL_CTX *
server_ctx(int version)
{
	SSL_CTX		*ctx;
	EVP_PKEY	*key;
	X509		*x;
	X509_NAME	*name;

	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(key);
	x = X509_new();
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_use_certificate(ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
	SSL_CTX_set_min_proto_version(ctx, version);
	SSL_CTX_set_max_proto_version(ctx, version);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"t", 1);
	X509_free(x);
	EVP_PKEY_free(key);
	return (ctx);
}

/*
 * One handshake of a fresh client (resuming sess if not NULL) with ctx;
 * then the client reads what followed it (TLS 1.3 tickets).  Returns
 * whether the session was resumed.
 */
static bool
handshake(SSL_CTX *sctx, SSL_CTX *cctx, SSL_SESSION *sess)
{
	SSL		*s, *c;
	BIO		*bs, *bc;
	const unsigned char *tick = NULL;
	size_t		 ticklen = 0;
	char		 buf[16];
	int		 i, rs = 0, rc = 0;
	bool		 reused;

	assert_int_equal(BIO_new_bio_pair(&bs, 0, &bc, 0), 1);
	s = SSL_new(sctx);
	c = SSL_new(cctx);
	assert_non_null(s);
	assert_non_null(c);
	SSL_set_bio(s, bs, bs);
	SSL_set_bio(c, bc, bc);
	SSL_set_accept_state(s);
	SSL_set_connect_state(c);
	if (sess != NULL)
		assert_int_equal(SSL_set_session(c, sess), 1);
	for (i = 0; i < 20 && (rs != 1 || rc != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(c);
		if (rs != 1)
			rs = SSL_do_handshake(s);
	}
	assert_int_equal(rc, 1);
	assert_int_equal(rs, 1);
	/* Nothing to read: this only processes post-handshake messages. */
	assert_true(SSL_read(c, buf, sizeof(buf)) <= 0);
	reused = SSL_session_reused(s);
	assert_int_equal(reused, SSL_session_reused(c));
	/* The ticket the client holds now starts with its key's name. */
	memset(held_name, 0, sizeof(held_name));
	SSL_SESSION_get0_ticket(SSL_get0_session(c), &tick, &ticklen);
	if (tick != NULL && ticklen >= sizeof(held_name))
		memcpy(held_name, tick, sizeof(held_name));
	held_len = ticklen;
	/* A session freed without a shutdown is marked not resumable. */
	SSL_set_shutdown(c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
	SSL_free(c);
	SSL_free(s);
	ERR_clear_error();
	return (reused);
}

/*
 * A fresh copy of a session, as a new client process would load it: the
 * library marks a session object it resumed with.
 */
static SSL_SESSION *
sess_copy(const unsigned char *der, long len)
{
	const unsigned char	*p = der;
	SSL_SESSION		*sess;

	sess = d2i_SSL_SESSION(NULL, &p, len);
	assert_non_null(sess);
	return (sess);
}

static bool
resume(SSL_CTX *sctx, SSL_CTX *cctx, const unsigned char *der, long len)
{
	SSL_SESSION	*sess = sess_copy(der, len);
	bool		 reused;

	reused = handshake(sctx, cctx, sess);
	SSL_SESSION_free(sess);
	return (reused);
}

/*
 * The ticket the client holds: TLS 1.2, sealed with the current key (its
 * name first); TLS 1.3, the 32-byte id of its entry in the shared session
 * cache (worker/sesscache.h), no sealed session in it.
 */
static void
held_check(int version, const struct ticket_ring *tr)
{
	if (version == TLS1_3_VERSION)
		assert_int_equal(held_len, 32);
	else
		assert_memory_equal(held_name, tr->ring.keys[0].name,
		    IPC_TICKET_NAME_LEN);
}

/* A ring of given keys (taken from tr), in force in this process. */
static void
ring_set(SSL_CTX *ctx, const struct ticket_ring *tr, uint64_t *renewed,
    uint64_t *refused)
{
	assert_int_equal(tls_ticket_set(ctx, &tr->ring, renewed, refused), 0);
}

static void
callback_version(int version)
{
	struct ticket_ring	*tr;
	SSL_CTX			*sctx, *cctx;
	unsigned char		*der = NULL, *der1 = NULL;
	long			 len, len1 = 0;
	uint64_t		 renewed = 0, refused = 0, nref = 0;
	int64_t			 now = clock_mono_ms();

	/* Mapped by the supervisor before the fork in takd. */
	assert_int_equal(sesscache_init(), 0);
	sctx = server_ctx(version);
	cctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(cctx);
	SSL_CTX_set_session_cache_mode(cctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(cctx, client_new_session);
	tr = ticket_ring_new(P, now);
	assert_non_null(tr);
	ring_set(sctx, tr, &renewed, &refused);

	new_tickets = 0;
	assert_false(handshake(sctx, cctx, NULL));
	assert_int_equal(new_tickets, 1);
	assert_true((len = i2d_SSL_SESSION(last_sess, &der)) > 0);

	/*
	 * Current key: resumed; a new ticket in TLS 1.3 only (tickets are for
	 * one use there).
	 */
	new_tickets = 0;
	assert_true(resume(sctx, cctx, der, len));
	assert_int_equal(renewed, 0);
	assert_int_equal(refused, 0);
	held_check(version, tr);
	if (version == TLS1_3_VERSION) {
		assert_int_equal(new_tickets, 1);
		/* The renewed ticket, unused: for the two rotations below. */
		assert_true((len1 = i2d_SSL_SESSION(last_sess, &der1)) > 0);
		/*
		 * One use (RFC 8446 8.1): the same ticket again is a full
		 * handshake, counted as refused, with a ticket of its own.
		 */
		new_tickets = 0;
		assert_false(resume(sctx, cctx, der, len));
		assert_int_equal(refused, 1);
		assert_int_equal(new_tickets, 1);
		OPENSSL_free(der);
		der = NULL;
		assert_true((len = i2d_SSL_SESSION(last_sess, &der)) > 0);
		nref = 1;
	}

	/* Previous key: resumed, and renewed with the new current key. */
	assert_int_equal(ticket_ring_rotate(tr, now), 0);
	ring_set(sctx, tr, &renewed, &refused);
	new_tickets = 0;
	assert_true(resume(sctx, cctx, der, len));
	assert_int_equal(renewed, 1);
	assert_int_equal(refused, nref);
	held_check(version, tr);
	if (version == TLS1_3_VERSION)
		assert_int_equal(new_tickets, 1);

	/*
	 * Two rotations: refused, a full handshake and a new ticket.  TLS 1.3:
	 * an unused ticket made before the first rotation.
	 */
	assert_int_equal(ticket_ring_rotate(tr, now), 0);
	ring_set(sctx, tr, &renewed, &refused);
	new_tickets = 0;
	if (version == TLS1_3_VERSION)
		assert_false(resume(sctx, cctx, der1, len1));
	else
		assert_false(resume(sctx, cctx, der, len));
	assert_int_equal(refused, ++nref);
	assert_int_equal(new_tickets, 1);
	OPENSSL_free(der);
	der = NULL;

	/* A key past its expiry is refused though still in the ring. */
	assert_true((len = i2d_SSL_SESSION(last_sess, &der)) > 0);
	assert_true(resume(sctx, cctx, der, len));
	if (version == TLS1_3_VERSION) {
		OPENSSL_free(der);
		der = NULL;
		assert_true((len = i2d_SSL_SESSION(last_sess, &der)) > 0);
	}
	tr->ring.keys[0].expires_ms = clock_mono_ms() - 1;
	ring_set(sctx, tr, &renewed, &refused);
	assert_false(resume(sctx, cctx, der, len));
	assert_int_equal(refused, ++nref);

	OPENSSL_free(der1);
	OPENSSL_free(der);
	SSL_SESSION_free(last_sess);
	last_sess = NULL;
	ticket_ring_free(tr);
	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
}

static void
callback_tls13(void **state)
{
	callback_version(TLS1_3_VERSION);
}

static void
callback_tls12(void **state)
{
	callback_version(TLS1_2_VERSION);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ring_rotation),
		cmocka_unit_test(ring_lookup),
		cmocka_unit_test(sup_tick),
		cmocka_unit_test(codec_roundtrip),
		cmocka_unit_test(codec_malformed),
		cmocka_unit_test(callback_tls13),
		cmocka_unit_test(callback_tls12),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
