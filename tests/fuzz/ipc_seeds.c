/*
 * ipc_seeds DIR: write the seed corpus of fuzz_ipc into DIR, one valid
 * frame of every message type a file, in fuzz_ipc's input layout (see
 * tests/fuzz/fuzz_ipc.c).  The frames are made by the real encoders
 * (ipc_put_*, fanout_encode*) and sent by ipc_send() over a socketpair;
 * what arrives on the other end is what goes into the file, so the seeds
 * follow the wire format wherever it goes.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ipc/ipc.h"
#include "ipc/users_msg.h"
#include "shared/counters.h"
#include "shared/crlset.h"
#include "shared/grouplist.h"
#include "worker/deliver.h"
#include "worker/fanout.h"
#include "worker/tls.h"

/* fuzz_ipc's control byte */
#define CTL_FD		0x01	/* one descriptor */
#define CTL_MEMFD	0x04
#define CTL_SEALED	0x08
#define CTL_SMALL_CAP	0x20

static const char *dir;
static int	 sv[2];
static struct ipc_chan *chan;

static const char sa[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<event version=\"2.0\" uid=\"ANDROID-1\" type=\"a-f-G-U-C\" "
    "how=\"m-g\" time=\"2026-11-23T08:00:00.000Z\" "
    "start=\"2026-11-23T08:00:00.000Z\" stale=\"2026-11-23T08:05:00.000Z\">"
    "<point lat=\"48.85\" lon=\"2.35\" hae=\"35\" ce=\"9.9\" le=\"9999999\"/>"
    "<detail><contact callsign=\"OWL\" endpoint=\"*:-1:stcp\"/>"
    "<__group name=\"Cyan\" role=\"Team Member\"/></detail></event>";
static const char chat[] =
    "<event version=\"2.0\" uid=\"GeoChat.1\" type=\"b-t-f\" how=\"h-g-i-g-o\""
    " time=\"2026-11-23T08:00:00Z\" start=\"2026-11-23T08:00:00Z\""
    " stale=\"2026-11-24T08:00:00Z\"><point lat=\"0\" lon=\"0\"/><detail>"
    "<marti><dest callsign=\"OWL\"/><dest uid=\"ANDROID-2\"/></marti>"
    "<remarks>hello</remarks></detail></event>";

static void
die(const char *what)
{
	fprintf(stderr, "ipc_seeds: %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * Send one frame with ipc_send() and write what arrived as seed NAME:
 * the control byte, the memfd section when there is one, the frame.
 */
static void
seed(const char *name, uint8_t ctl, uint32_t type, uint32_t gen,
    const void *payload, size_t len, int pass_fd, const void *mem,
    size_t memlen)
{
	static uint8_t	 frame[IPC_FRAME_MAX];
	char		 path[1024];
	ssize_t		 n;
	FILE		*fp;
	uint8_t		 le[2];

	if (ipc_send(chan, type, gen, 1, payload, len, pass_fd) == -1 ||
	    ipc_pending(chan))
		die(name);
	/* The descriptor that came along is of no use here. */
	if ((n = recv(sv[1], frame, sizeof(frame), 0)) == -1)
		die("recv");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fp = fopen(path, "wb")) == NULL)
		die(path);
	fputc(ctl, fp);
	if (ctl & CTL_MEMFD) {
		le[0] = (uint8_t)(memlen & 0xff);
		le[1] = (uint8_t)(memlen >> 8);
		fwrite(le, 1, 2, fp);
		fwrite(mem, 1, memlen, fp);
	}
	fwrite(frame, 1, (size_t)n, fp);
	if (fclose(fp) == EOF)
		die(path);
}

static struct evbuf *
ev(const char *s)
{
	struct evbuf	*e;

	if ((e = evbuf_new(s, strlen(s))) == NULL)
		die("evbuf_new");
	return (e);
}

/* The ticket key ring, one key and two (made up, not random: seeds). */
static void
seeds_ticket_keys(void)
{
	static struct ipc_buf	 b;
	struct tls_ticket_ring	 ring;
	unsigned		 i;

	memset(&ring, 0, sizeof(ring));
	for (i = 0; i < IPC_TICKET_KEYS_MAX; i++) {
		memset(ring.keys[i].name, 0x10 + i, IPC_TICKET_NAME_LEN);
		memset(ring.keys[i].aes, 0x20 + i, IPC_TICKET_AES_LEN);
		memset(ring.keys[i].hmac, 0x30 + i, IPC_TICKET_HMAC_LEN);
		ring.keys[i].expires_ms = 86400000 * (2 - (int64_t)i);
	}
	ring.n = 1;
	ring.generation = 1;
	ipc_buf_init(&b);
	tls_ticket_encode(&b, &ring);
	seed("ticket-keys-1", 0, IPC_MSG_TICKET_KEYS, ring.generation, b.data,
	    b.len, -1, NULL, 0);
	ring.n = 2;
	ring.generation = 2;
	ipc_buf_init(&b);
	tls_ticket_encode(&b, &ring);
	seed("ticket-keys-2", 0, IPC_MSG_TICKET_KEYS, ring.generation, b.data,
	    b.len, -1, NULL, 0);
}

static int
entry_cmp(const void *a, const void *b)
{
	return (crlset_entry_cmp(a, b));
}

/*
 * The memfd of IPC_MSG_CRL: a revoked-serial set as the supervisor's parser
 * writes it (shared/crlset.h), three entries.  Made by hand: the builder
 * wants a signed CRL.
 */
static uint8_t *
crl_set(size_t *len)
{
	static const long	 serials[] = { 0x1234, 1, -5 };
	struct crlset_hdr	*h;
	struct crlset_entry	*e;
	ASN1_INTEGER		*ai;
	X509_NAME		*name;
	unsigned char		*p;
	uint8_t			*b;
	size_t			 i, n = sizeof(serials) / sizeof(serials[0]);

	*len = CRLSET_HDR_SIZE + n * sizeof(*e);
	if ((b = calloc(1, *len)) == NULL)
		die("calloc");
	h = (struct crlset_hdr *)(void *)b;
	e = (struct crlset_entry *)(void *)(b + CRLSET_HDR_SIZE);
	h->magic = CRLSET_MAGIC;
	h->version = CRLSET_VERSION;
	h->size = *len;
	h->n = h->crl_entries = n;
	h->last_update = 1795420800;	/* 2026-11-23 */
	h->next_update = h->last_update + 30 * 86400;
	memset(h->signer, 0xa5, sizeof(h->signer));
	if ((name = X509_NAME_new()) == NULL ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"takd test CA", -1, -1, 0))
		die("X509_NAME");
	p = h->issuer;
	h->issuer_len = (uint32_t)i2d_X509_NAME(name, &p);
	X509_NAME_free(name);
	for (i = 0; i < n; i++) {
		if ((ai = ASN1_INTEGER_new()) == NULL ||
		    !ASN1_INTEGER_set(ai, serials[i]))
			die("ASN1_INTEGER");
		crlset_key(ai, &e[i]);
		e[i].reason = (int8_t)(i == 0 ? CRL_REASON_NONE : (int)i);
		e[i].revoked_at = h->last_update - 3600;
		ASN1_INTEGER_free(ai);
	}
	qsort(e, n, sizeof(*e), entry_cmp);
	return (b);
}

static void
seeds_ctl(void)
{
	static struct ipc_buf	 b;
	struct counters		 cnt;
	struct grouplist_count	 groups[2];
	uint8_t			*set;
	size_t			 setlen;
	int			 null_fd;

	if ((null_fd = open("/dev/null", O_RDONLY)) == -1)
		die("/dev/null");
	ipc_buf_init(&b);
	ipc_put_u32(&b, 1);
	ipc_put_u32(&b, 4242);
	seed("hello", 0, IPC_MSG_HELLO, 0, b.data, b.len, -1, NULL, 0);

	seed("status-req", 0, IPC_MSG_STATUS_REQ, 7, NULL, 0, -1, NULL, 0);
	/* uid, type of its last SA, its IN groups (who may be told). */
	ipc_buf_init(&b);
	ipc_put_str(&b, "ANDROID-0123456789abcdef");
	ipc_put_str(&b, "a-f-G-U-C");
	ipc_put_str(&b, "Blue,HQ");
	ipc_put_str(&b, "wd-x");
	ipc_put_str(&b, "");
	ipc_put_str(&b, "");
	seed("departed", 0, IPC_MSG_DEPARTED, 1, b.data, b.len, -1, NULL, 0);
	/* The counters, then the sessions of each group. */
	ipc_buf_init(&b);
	memset(&cnt, 0, sizeof(cnt));
	cnt.sessions = 3;
	cnt.accepted = 1000;
	cnt.hs_fail[IPC_HS_TIMEOUT] = 2;
	counters_encode(&b, &cnt);
	memset(groups, 0, sizeof(groups));
	snprintf(groups[0].name, sizeof(groups[0].name), "Blue");
	groups[0].sessions = 2;
	snprintf(groups[1].name, sizeof(groups[1].name), GROUPLIST_ANON);
	groups[1].sessions = 1;
	grouplist_put_counts(&b, groups, 2);
	seed("status-rep", 0, IPC_MSG_STATUS_REP, 7, b.data, b.len, -1, NULL,
	    0);

	ipc_buf_init(&b);
	ipc_put_u32(&b, 5000);
	seed("shutdown", 0, IPC_MSG_SHUTDOWN, 0, b.data, b.len, -1, NULL, 0);

	set = crl_set(&setlen);
	seed("crl", CTL_FD | CTL_MEMFD | CTL_SEALED, IPC_MSG_CRL, 2, NULL, 0,
	    null_fd, set, setlen);
	seed("crl-unsealed", CTL_FD | CTL_MEMFD, IPC_MSG_CRL, 2, NULL, 0,
	    null_fd, set, setlen);
	free(set);
	ipc_buf_init(&b);
	ipc_put_u32(&b, 0);
	ipc_put_u32(&b, 1);
	ipc_put_str(&b, "");
	seed("crl-ack", 0, IPC_MSG_CRL_ACK, 2, b.data, b.len, -1, NULL, 0);
	ipc_buf_init(&b);
	ipc_put_u32(&b, 1);
	ipc_put_u32(&b, 0);
	ipc_put_str(&b, "CRL signed by another CA");
	seed("crl-ack-error", 0, IPC_MSG_CRL_ACK, 3, b.data, b.len, -1, NULL,
	    0);

	seed("log-fd", CTL_FD, IPC_MSG_LOG_FD, 0, NULL, 0, null_fd, NULL, 0);
	seed("peer", CTL_FD, IPC_MSG_PEER, 1, NULL, 0, null_fd, NULL, 0);

	ipc_buf_init(&b);
	ipc_put_u64(&b, 65536);
	seed("event-credit", 0, IPC_MSG_EVENT_CREDIT, 0, b.data, b.len, -1,
	    NULL, 0);

	/* The console's user changes (ipc/users_msg.h). */
	{
		static struct users_req	 r;

		memset(&r, 0, sizeof(r));
		r.op = USERS_OP_ADD;
		snprintf(r.admin, sizeof(r.admin), "alice");
		snprintf(r.admin_pw, sizeof(r.admin_pw), "pw-alice");
		snprintf(r.user, sizeof(r.user), "dave");
		snprintf(r.password, sizeof(r.password), "pw-dave");
		snprintf(r.groups, sizeof(r.groups), "Blue,HQ");
		snprintf(r.out, sizeof(r.out), "Cyan");
		ipc_buf_init(&b);
		(void)users_req_encode(&r, &b);
		seed("user-edit", 0, IPC_MSG_USER_EDIT, 5, b.data, b.len, -1,
		    NULL, 0);
		ipc_buf_init(&b);
		(void)users_rep_encode(USERS_ST_DENIED, "the admin password "
		    "is wrong", &b);
		seed("user-edit-ack", 0, IPC_MSG_USER_EDIT_ACK, 5, b.data,
		    b.len, -1, NULL, 0);
	}
	close(null_fd);
	seeds_ticket_keys();
}

static void
seeds_mesh(void)
{
	static struct ipc_buf	 b;
	struct cot_dest		 dest[2];
	struct deliver		 d;
	int			 memfd;

	memset(&d, 0, sizeof(d));
	d.kind = DELIVER_BROADCAST;
	d.flags = DELIVER_F_SA;
	d.cls = IPC_EV_SA;
	d.src_worker = 1;
	d.src_conn = 77;
	snprintf(d.uid, sizeof(d.uid), "ANDROID-1");
	/* The sender's IN groups: the receiving worker decides. */
	d.groups = "Blue,HQ";
	d.ev = ev(sa);
	ipc_buf_init(&b);
	if (fanout_encode(&b, &d) == -1)
		die("fanout_encode");
	seed("event-sa", 0, IPC_MSG_EVENT, 0, b.data, b.len, -1, NULL, 0);
	seed("event-sa-small-cap", CTL_SMALL_CAP, IPC_MSG_EVENT, 0, b.data,
	    b.len, -1, NULL, 0);

	/* A batch: the SA again, a directed chat, a system notice. */
	memset(dest, 0, sizeof(dest));
	dest[0].kind = COT_DEST_CALLSIGN;
	snprintf(dest[0].value, sizeof(dest[0].value), "OWL");
	dest[1].kind = COT_DEST_UID;
	snprintf(dest[1].value, sizeof(dest[1].value), "ANDROID-2");
	evbuf_unref(d.ev);
	d.kind = DELIVER_DIRECTED;
	d.flags = 0;
	d.cls = IPC_EV_CHAT;
	d.n_dest = 2;
	d.dest = dest;
	d.ev = ev(chat);
	if (fanout_encode(&b, &d) == -1)
		die("fanout_encode");
	evbuf_unref(d.ev);
	d.kind = DELIVER_BROADCAST;
	d.flags = DELIVER_F_SYSTEM;
	d.cls = IPC_EV_OTHER;
	d.n_dest = 0;
	d.dest = NULL;
	d.src_conn = 0;
	d.groups = "";
	d.ev = ev("<event uid=\"x\" type=\"t-x-d-d\"/>");
	if (fanout_encode(&b, &d) == -1)
		die("fanout_encode");
	evbuf_unref(d.ev);
	/*
	 * A TAK protocol v1 event: its TakMessage (cotEvent { uid "abc" }),
	 * which the mesh carries as it came, with its encoding.
	 */
	d.flags = DELIVER_F_SA;
	d.cls = IPC_EV_SA;
	d.src_conn = 78;
	d.groups = "Blue";
	if ((d.ev = evbuf_new_v1("\x12\x05\x2a\x03" "abc", 7)) == NULL)
		die("evbuf_new_v1");
	if (fanout_encode(&b, &d) == -1)
		die("fanout_encode");
	seed("event-batch", 0, IPC_MSG_EVENT, 0, b.data, b.len, -1, NULL, 0);
	evbuf_unref(d.ev);

	/* One large event: the record here, the bytes in a sealed memfd. */
	d.kind = DELIVER_DIRECTED;
	d.flags = 0;
	d.n_dest = 1;
	d.dest = dest;
	d.ev = ev(chat);
	if (fanout_encode_large(&b, &d, &memfd) == -1)
		die("fanout_encode_large");
	seed("event-large", CTL_FD | CTL_MEMFD | CTL_SEALED,
	    IPC_MSG_EVENT_LARGE, 0, b.data, b.len, memfd, chat,
	    sizeof(chat) - 1);
	close(memfd);
	evbuf_unref(d.ev);
}

int
main(int argc, char *argv[])
{
	if (argc != 2) {
		fprintf(stderr, "usage: ipc_seeds DIR\n");
		return (2);
	}
	dir = argv[1];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == -1)
		die("socketpair");
	if ((chan = ipc_chan_new(sv[0], IPC_FRAME_MAX)) == NULL)
		die("ipc_chan_new");
	seeds_ctl();
	seeds_mesh();
	ipc_chan_free(chan);
	close(sv[1]);
	return (0);
}
