/*
 * signreq: drive takd-signer as the supervisor and the api process would,
 * for tests/integ/test_signer.sh.  Prepares the signer from a config with
 * supervisor/signer_proc.c (as root, before any drop), optionally drops
 * to a user the way takd does, spawns it, then sends one request per
 * "USER CLIENTUID CSRFILE OUT" quadruple (the CSR parsed by csr_parse() as
 * the api does; OUT.pem gets the certificate, OUT.ca.pem the chain), and
 * prints one line per reply: "ID STATUS REASON".  Finally it closes its
 * end (or, with -g, sends a malformed frame first) and prints "signer exit
 * N" once the signer is gone.
 *
 *   signreq -c CFG -x TAKD-SIGNER [-U USER] [-r PER_MIN] [-b BURST] [-g]
 *       [-w SECONDS] [USER CLIENTUID CSR OUT]...
 *
 * -w: after the requests, print "signer pid N" and wait SECONDS before
 * closing, for the test to look at the process.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ipc/ipc.h"
#include "ipc/sign_msg.h"
#include "shared/config.h"
#include "shared/csr_check.h"
#include "shared/fileio.h"
#include "shared/log.h"
#include "shared/trust.h"
#include "supervisor/privdrop.h"
#include "supervisor/signer_proc.h"

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: signreq -c CFG -x TAKD-SIGNER [-U USER] "
	    "[-r N] [-b N] [-g] [-w S] [USER UID CSR OUT]...\n");
	exit(2);
}

static void
write_der_pem(const char *path, const uint8_t *const *der,
    const size_t *len, size_t n)
{
	FILE			*fp;
	const unsigned char	*p;
	X509			*x;
	size_t			 i;

	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	for (i = 0; i < n; i++) {
		p = der[i];
		if ((x = d2i_X509(NULL, &p, (long)len[i])) == NULL) {
			fprintf(stderr, "signreq: reply holds no certificate\n");
			exit(1);
		}
		PEM_write_X509(fp, x);
		X509_free(x);
	}
	fclose(fp);
}

/* One reply: wait for it, decode it, print it, write its files. */
static void
take_reply(struct ipc_chan *c, uint32_t id, const char *out)
{
	struct ipc_msg	 m;
	struct sign_rep	 rep;
	struct pollfd	 pfd;
	char		 why[128], path[4096];
	int		 rc;

	for (;;) {
		pfd.fd = c->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 20000) != 1) {
			printf("%u timeout\n", id);
			exit(1);
		}
		if ((rc = ipc_recv(c, &m)) == 1)
			break;
		if (rc == -1) {
			printf("%u closed\n", id);
			fflush(stdout);
			return;
		}
	}
	if (m.hdr.type != IPC_MSG_SIGN_REP || sign_rep_decode(m.payload,
	    m.len, &rep, why, sizeof(why)) == -1) {
		printf("%u malformed reply\n", id);
		exit(1);
	}
	printf("%u %s %s\n", rep.id, sign_status_name(rep.status),
	    rep.reason);
	fflush(stdout);
	if (rep.status != SIGN_OK)
		return;
	snprintf(path, sizeof(path), "%s.pem", out);
	write_der_pem(path, &rep.cert, &rep.cert_len, 1);
	snprintf(path, sizeof(path), "%s.ca.pem", out);
	write_der_pem(path, rep.chain, rep.chain_len, rep.n_chain);
}

int
main(int argc, char *argv[])
{
	struct config		 cfg;
	struct signer_proc	 sp;
	struct privdrop_ids	 ids;
	struct ipc_chan		*c;
	struct sign_req		 req;
	X509_REQ		*x;
	unsigned char		*der;
	const char		*cfgpath = NULL, *exe = NULL, *user = NULL;
	char			 err[1024], *buf;
	size_t			 len;
	unsigned		 rate = 0, burst = 0;
	uint32_t		 id = 0;
	int			 ch, fd, garbage = 0, status, n, wait = 0;

	while ((ch = getopt(argc, argv, "b:c:gr:U:w:x:")) != -1) {
		switch (ch) {
		case 'b':
			burst = (unsigned)atoi(optarg);
			break;
		case 'c':
			cfgpath = optarg;
			break;
		case 'g':
			garbage = 1;
			break;
		case 'r':
			rate = (unsigned)atoi(optarg);
			break;
		case 'U':
			user = optarg;
			break;
		case 'w':
			wait = atoi(optarg);
			break;
		case 'x':
			exe = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (cfgpath == NULL || exe == NULL || argc % 4 != 0)
		usage();
	log_init(LOG_DEST_STDERR, NULL, LOG_INFO);
	log_procinit("signreq");
	if (config_load(&cfg, cfgpath, err, sizeof(err)) == -1) {
		fprintf(stderr, "signreq: %s\n", err);
		return (2);
	}
	trust_set_owner(geteuid());
	if (signer_prepare(&sp, &cfg, exe, err, sizeof(err)) == -1) {
		fprintf(stderr, "signreq: %s\n", err);
		return (1);
	}
	sp.rate = rate;
	sp.burst = burst;
	if (user != NULL) {
		if (privdrop_lookup(user, "", &ids, err, sizeof(err)) == -1) {
			fprintf(stderr, "signreq: %s\n", err);
			return (2);
		}
		privdrop_apply(&ids);
	}
	if (signer_spawn(&sp, &fd) == -1)
		return (1);
	if ((c = ipc_chan_new(fd, 1 << 20)) == NULL)
		return (1);
	for (n = 0; n < argc; n += 4) {
		if ((buf = fileio_read(AT_FDCWD, argv[n + 2], argv[n + 2],
		    CSR_CHECK_INPUT_MAX, &len, err, sizeof(err))) == NULL) {
			fprintf(stderr, "signreq: %s\n", err);
			return (1);
		}
		/* What the api does with a posted body. */
		if ((x = csr_parse(buf, len, err, sizeof(err))) == NULL) {
			printf("%u unparsed %s\n", ++id, err);
			free(buf);
			continue;
		}
		free(buf);
		der = NULL;
		memset(&req, 0, sizeof(req));
		req.id = ++id;
		snprintf(req.user, sizeof(req.user), "%s", argv[n]);
		snprintf(req.client_uid, sizeof(req.client_uid), "%s",
		    strcmp(argv[n + 1], "-") == 0 ? "" : argv[n + 1]);
		req.csr_len = (size_t)i2d_X509_REQ(x, &der);
		req.csr = der;
		X509_REQ_free(x);
		if (sign_req_send(c, &req) == -1) {
			printf("%u unsent %s\n", id, strerror(errno));
			OPENSSL_free(der);
			continue;
		}
		OPENSSL_free(der);
		take_reply(c, id, argv[n + 3]);
	}
	if (wait > 0) {
		printf("signer pid %d\n", (int)sp.pid);
		fflush(stdout);
		sleep((unsigned)wait);
	}
	if (garbage) {
		/* A frame of the right type whose payload is no request. */
		(void)ipc_send(c, IPC_MSG_SIGN_REQ, 0, 0, "junk", 4, -1);
	}
	ipc_chan_free(c);
	if (waitpid(sp.pid, &status, 0) == -1)
		return (1);
	printf("signer exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status));
	signer_close(&sp);
	config_clear_secrets(&cfg);
	return (0);
}
