/*
 * takd-signer: the key holder of enrollment (docs/security.md, "The
 * signer").  The api process authenticates a phone's user and checks its
 * CSR, then asks here over a SOCK_SEQPACKET socket; this process checks
 * the request again (the user exists in the users file and has a
 * password, the CSR meets the policy), signs it with the client profile,
 * records it in the PKI journal and answers with the certificate and the
 * CA.  It is the only process of takd that holds ca.key, and it has
 * nothing else: no network, no listening socket, no files it can open by
 * name but the users file.
 *
 * It also revokes for the admin console (docs/console.md): the supervisor
 * asks over a channel of its own (SIGN_FD_CTL); the signer appends the
 * revocation to [pki] dir/revoked.txt (a descriptor root opened for it)
 * and answers with a CRL it signed, which the supervisor installs like
 * any CRL (pki/sign_crl.c says what it lists).
 *
 * Started by the supervisor (supervisor/signer_proc.c) as the service
 * user with the descriptors of sign_msg.h (SIGN_FD_*) open; one request
 * at a time; exits 0 when the api end closes (or, without an api channel,
 * the supervisor's), 1 on a malformed frame (the supervisor respawns it),
 * 2 when it cannot start (never respawned: a bad CA key stays bad).
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/mman.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "ipc/ipc.h"
#include "ipc/sign_msg.h"
#include "pki/sign.h"
#include "shared/clock.h"
#include "shared/csr_check.h"
#include "shared/log.h"
#include "shared/trust.h"
#include "shared/users.h"

#define SIGNER_EX_START		2	/* cannot start: do not respawn */
#define SIGNER_RATE_DEFAULT	60	/* signatures a minute, sustained */
#define SIGNER_BURST_DEFAULT	20	/* at once */
#define SIGNER_RATE_MAX		100000
#define SIGNER_SEND_TIMEOUT	5000	/* ms for the api to take a reply */
#define SIGNER_QUEUE_MAX	(256 * 1024)
#define SIGNER_NOFILE		32

struct signer {
	struct pki_signer	 pki;
	struct ipc_chan		*chan;		/* the api's; NULL: none */
	struct ipc_chan		*ctl;		/* the supervisor's; NULL: none */
	struct pki_revoke_base	 base;		/* revocation; journalfd -1: off */
	char			 crl_name[NAME_MAX + 1];
	char			 copy_name[NAME_MAX + 1];
	unsigned long		 revoked_count;
	struct csr_policy	 policy;
	char			 o[256];
	char			 ou[256];
	unsigned		 days;
	/* The users file, read again when its stat changes. */
	char			 users_name[NAME_MAX + 1];
	struct users		*users;
	struct stat		 users_st;
	/* A token bucket over signatures: the last line if the api falls. */
	double			 tokens;
	double			 rate_ms;	/* tokens a millisecond */
	unsigned		 burst;
	int64_t			 refilled_ms;
	unsigned char		*ca_der;
	int			 ca_der_len;
	unsigned long		 signed_count, refused_count;
	struct log_ratelimit	 refuse_rl;
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: takd-signer -d DAYS -o O -u OU -n USERSFILE "
	    "[-T UID] [-l stderr|syslog|file] [-v LEVEL] [-r PER_MINUTE] "
	    "[-b BURST] [-c CRLFILE] [-C CRLCOPY]\n"
	    "  (started by takd with descriptors %d..%d open)\n",
	    SIGN_FD_SOCK, SIGN_FD_LAST);
	exit(SIGNER_EX_START);
}

static unsigned
signer_number(const char *s, unsigned lo, unsigned hi, const char *what)
{
	char		*end;
	unsigned long	 v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi)
		fatalx_status(SIGNER_EX_START, "%s must be %u..%u, not \"%s\"",
		    what, lo, hi, s);
	return ((unsigned)v);
}

/*
 * No core files, no ptrace by the service user's other processes (the api
 * runs as the same user), no fork, few descriptors.  Sanitizer builds keep
 * dumpable and may fork: LeakSanitizer ptraces its own process at exit.
 */
static void
signer_harden(void)
{
	struct rlimit	 rl;

	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("setrlimit(RLIMIT_CORE)");
#ifndef TAKD_SANITIZE
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_DUMPABLE)");
	/*
	 * A process of the service user's count: it cannot fork at all.
	 * (LeakSanitizer clones a tracer at exit: not in sanitizer builds.)
	 */
	if (geteuid() != 0 && setrlimit(RLIMIT_NPROC, &rl) == -1)
		fatal("setrlimit(RLIMIT_NPROC)");
#endif
	rl.rlim_cur = rl.rlim_max = SIGNER_NOFILE;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("setrlimit(RLIMIT_NOFILE)");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("prctl(PR_SET_NO_NEW_PRIVS)");
}

static void
signer_need_fd(int fd, const char *what)
{
	if (fcntl(fd, F_GETFD) == -1)
		fatalx_status(SIGNER_EX_START, "descriptor %d (%s) is not open: "
		    "takd-signer is started by takd", fd, what);
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* The users file as it is now: read again only when it changed. */
static const struct users *
signer_users(struct signer *sg)
{
	struct stat	 st;
	struct users	*us = NULL;
	char		 err[PATH_MAX + 256];
	int		 rc;

	if (fstatat(SIGN_FD_USERSDIR, sg->users_name, &st,
	    AT_SYMLINK_NOFOLLOW) == -1)
		memset(&st, 0, sizeof(st));	/* missing: nobody */
	if (sg->users != NULL && st.st_ino == sg->users_st.st_ino &&
	    st.st_dev == sg->users_st.st_dev &&
	    st.st_size == sg->users_st.st_size &&
	    st.st_mtim.tv_sec == sg->users_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == sg->users_st.st_mtim.tv_nsec)
		return (sg->users);
	rc = users_read(SIGN_FD_USERSDIR, sg->users_name, sg->users_name, &us,
	    err, sizeof(err));
	if (rc == -1) {
		/* The file in force stays, as for takd's reload. */
		log_warnx("users file: %s; the one read before stays", err);
		return (sg->users);
	}
	/* Hashes kept: users_has_password() reads them; none is checked. */
	users_free(sg->users);
	sg->users = us;
	sg->users_st = st;
	return (us);
}

/*
 * Revocation's descriptors, when the supervisor gave them: the journal
 * must be open for appending, the directories are optional (no CRL file
 * yet, no copy).
 */
static void
signer_revoke_prepare(struct signer *sg)
{
	int	 fl;

	sg->base.journalfd = sg->base.crl_dirfd = sg->base.copy_dirfd = -1;
	sg->base.days = PKI_DAYS_CRL;
	if ((fl = fcntl(SIGN_FD_REVJOURNAL, F_GETFL)) == -1)
		return;
	if ((fl & O_APPEND) == 0 || (fl & O_ACCMODE) != O_RDWR)
		fatalx_status(SIGNER_EX_START, "descriptor %d (%s): not open "
		    "for reading and appending", SIGN_FD_REVJOURNAL,
		    PKI_REVJOURNAL);
	(void)fcntl(SIGN_FD_REVJOURNAL, F_SETFD, FD_CLOEXEC);
	sg->base.journalfd = SIGN_FD_REVJOURNAL;
	if (sg->crl_name[0] != '\0' && fcntl(SIGN_FD_CRLDIR, F_GETFD) != -1) {
		(void)fcntl(SIGN_FD_CRLDIR, F_SETFD, FD_CLOEXEC);
		sg->base.crl_dirfd = SIGN_FD_CRLDIR;
		sg->base.crl_name = sg->crl_name;
	}
	if (sg->copy_name[0] != '\0' &&
	    fcntl(SIGN_FD_STOREDIR, F_GETFD) != -1) {
		(void)fcntl(SIGN_FD_STOREDIR, F_SETFD, FD_CLOEXEC);
		sg->base.copy_dirfd = SIGN_FD_STOREDIR;
		sg->base.copy_name = sg->copy_name;
	}
	log_info("revocation for the console on: CRL %s, copy %s, journal "
	    "%s", sg->crl_name[0] != '\0' ? sg->crl_name : "-",
	    sg->copy_name[0] != '\0' ? sg->copy_name : "-", PKI_REVJOURNAL);
}

static int
signer_take_token(struct signer *sg)
{
	int64_t	 now = clock_mono_ms();

	sg->tokens += (double)(now - sg->refilled_ms) * sg->rate_ms;
	if (sg->tokens > sg->burst)
		sg->tokens = sg->burst;
	sg->refilled_ms = now;
	if (sg->tokens < 1.0)
		return (-1);
	sg->tokens -= 1.0;
	return (0);
}

/* One request at a time: wait until the peer took the reply. */
static void
signer_flush(struct ipc_chan *c, uint32_t id, const char *peer)
{
	struct pollfd	 pfd;
	int64_t		 deadline;
	int		 rc;

	deadline = clock_mono_ms() + SIGNER_SEND_TIMEOUT;
	while ((rc = ipc_flush(c)) == 1) {
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		if (clock_mono_ms() >= deadline ||
		    poll(&pfd, 1, SIGNER_SEND_TIMEOUT) == 0)
			fatalx("request %u: the %s takes no reply for %d ms",
			    id, peer, SIGNER_SEND_TIMEOUT);
	}
	if (rc == -1)
		log_warn("request %u: reply not sent", id);
}

static void
signer_reply(struct signer *sg, struct sign_rep *rep)
{
	if (sign_rep_send(sg->chan, rep) == -1) {
		if (errno == EPIPE || errno == ECONNRESET)
			return;		/* EOF on the next read */
		log_warn("request %u: reply not sent", rep->id);
		return;
	}
	signer_flush(sg->chan, rep->id, "api");
}

static void
signer_refuse(struct signer *sg, struct sign_rep *rep,
    const struct sign_req *req, enum sign_status st, const char *why)
{
	rep->status = st;
	snprintf(rep->reason, sizeof(rep->reason), "%s", why);
	sg->refused_count++;
	log_limited(&sg->refuse_rl, LOG_WARNING, "request %u: %s the CSR of "
	    "user \"%s\" clientUid \"%s\": %s", req->id, st == SIGN_BUSY ?
	    "deferred" : st == SIGN_ERROR ? "failed to sign" : "refused",
	    req->user, req->client_uid, why);
}

/* Check, sign, record and answer one request. */
static void
signer_handle(struct signer *sg, const struct sign_req *req)
{
	const struct users	*us;
	const struct users_user	*u;
	struct pki_enroll_req	 er;
	struct pki_entry	 e;
	struct csr_info		 info;
	struct sign_rep		 rep;
	X509_REQ		*csr = NULL;
	X509			*cert = NULL;
	unsigned char		*der = NULL;
	char			 why[CSR_REASON_MAX], err[512], until[32];
	int			 len;

	memset(&rep, 0, sizeof(rep));
	rep.id = req->id;
	/* The api authenticated a password: the user must have one. */
	if ((us = signer_users(sg)) == NULL ||
	    (u = users_find(us, req->user)) == NULL) {
		signer_refuse(sg, &rep, req, SIGN_REFUSED, "no such user");
		goto done;
	}
	if (!users_has_password(u)) {
		signer_refuse(sg, &rep, req, SIGN_REFUSED, "user has no "
		    "password: it cannot enroll");
		goto done;
	}
	if ((csr = csr_parse_der(req->csr, req->csr_len, why,
	    sizeof(why))) == NULL ||
	    csr_check(csr, u->name, &sg->policy, &info, why,
	    sizeof(why)) == -1) {
		signer_refuse(sg, &rep, req, SIGN_REFUSED, why);
		goto done;
	}
	if (signer_take_token(sg) == -1) {
		signer_refuse(sg, &rep, req, SIGN_BUSY, "too many "
		    "certificates signed lately; try again in a minute");
		goto done;
	}
	memset(&er, 0, sizeof(er));
	er.csr = csr;
	er.user = u->name;
	er.o = sg->o;
	er.ou = sg->ou;
	er.client_uid = req->client_uid;
	er.days = sg->days;
	if ((cert = pki_sign_enroll(&sg->pki, &er, &e, err,
	    sizeof(err))) == NULL) {
		log_warnx("request %u: user \"%s\": %s", req->id, req->user,
		    err);
		signer_refuse(sg, &rep, req, SIGN_ERROR, "the signer failed; "
		    "see the server's log");
		goto done;
	}
	if ((len = i2d_X509(cert, &der)) <= 0 || len > SIGN_CERT_MAX) {
		log_warnx("request %u: serial %s cannot be encoded", req->id,
		    e.serial);
		signer_refuse(sg, &rep, req, SIGN_ERROR, "the signer failed; "
		    "see the server's log");
		goto done;
	}
	pki_time_format(e.not_after, until, sizeof(until));
	sg->signed_count++;
	log_info("request %u: signed serial %s for user \"%s\" clientUid "
	    "\"%s\", %s key, valid until %s (%lu signed)", req->id, e.serial,
	    u->name, req->client_uid[0] != '\0' ? req->client_uid : "-",
	    info.key, until, sg->signed_count);
	rep.status = SIGN_OK;
	rep.cert = der;
	rep.cert_len = (size_t)len;
	rep.chain[0] = sg->ca_der;
	rep.chain_len[0] = (size_t)sg->ca_der_len;
	rep.n_chain = 1;
 done:
	signer_reply(sg, &rep);
	OPENSSL_free(der);
	X509_free(cert);
	X509_REQ_free(csr);
	ERR_clear_error();
}

/* --- revocation for the admin console -------------------------------- */

/* The CRL's DER in a sealed memfd for the supervisor; -1 on failure. */
static int
signer_crl_memfd(X509_CRL *crl)
{
	unsigned char	*der = NULL;
	size_t		 off = 0;
	ssize_t		 n;
	int		 len, fd = -1;

	if ((len = i2d_X509_CRL(crl, &der)) <= 0 ||
	    (size_t)len > SIGN_CRL_MAX ||
	    (fd = memfd_create("takd-signer-crl", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING)) == -1)
		goto fail;
	while (off < (size_t)len) {
		if ((n = write(fd, der + off, (size_t)len - off)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK |
	    F_SEAL_GROW | F_SEAL_WRITE) == -1)
		goto fail;
	OPENSSL_free(der);
	return (fd);
 fail:
	if (fd != -1)
		close(fd);
	OPENSSL_free(der);
	return (-1);
}

static void
signer_revoke(struct signer *sg, const struct sign_revoke_req *req)
{
	struct sign_revoke_rep	 rep;
	struct pki_revoke_out	 out;
	struct ipc_buf		*b = NULL;
	X509_CRL		*crl = NULL;
	char			 err[512];
	int			 fd = -1;

	memset(&rep, 0, sizeof(rep));
	rep.id = req->id;
	if (sg->base.journalfd == -1) {
		rep.status = SIGN_ERROR;
		snprintf(rep.reason, sizeof(rep.reason), "revocation is not "
		    "prepared (no revocation journal)");
	} else if (signer_take_token(sg) == -1) {
		rep.status = SIGN_BUSY;
		snprintf(rep.reason, sizeof(rep.reason), "too many signatures "
		    "lately; try again in a minute");
	} else if ((crl = pki_sign_revoke(&sg->pki, &sg->base, req->serial,
	    req->reason, req->admin, &out, err, sizeof(err))) == NULL) {
		rep.status = out.refused ? SIGN_REFUSED : SIGN_ERROR;
		/* What fits the channel's reason: the log has it whole. */
		if (!out.refused)
			log_warnx("revoke %u: %s", req->id, err);
		snprintf(rep.reason, sizeof(rep.reason), "%.*s",
		    (int)sizeof(rep.reason) - 1, err);
	} else if ((fd = signer_crl_memfd(crl)) == -1) {
		rep.status = SIGN_ERROR;
		snprintf(rep.reason, sizeof(rep.reason), "cannot hand the new "
		    "CRL over: %s", strerror(errno));
	} else {
		rep.status = SIGN_OK;
		rep.number = (uint64_t)out.number;
		rep.entries = (uint32_t)out.entries;
		sg->revoked_count++;
	}
	if (rep.status == SIGN_OK)
		log_info("revoke %u: serial %s revoked for admin \"%s\" "
		    "(reason %d): CRL number %lld, %zu entries", req->id,
		    req->serial, req->admin, req->reason, (long long)out.number,
		    out.entries);
	else
		log_warnx("revoke %u: serial %s for admin \"%s\": %s",
		    req->id, req->serial, req->admin, rep.reason);
	/* Reason texts are printable ASCII on the channel. */
	for (char *p = rep.reason; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			*p = '?';
	if ((b = malloc(sizeof(*b))) != NULL) {
		ipc_buf_init(b);
		if (sign_revoke_rep_encode(&rep, b) == 0 &&
		    ipc_send(sg->ctl, IPC_MSG_SIGN_REVOKE_REP, 0, 0, b->data,
		    b->len, fd) == 0)
			signer_flush(sg->ctl, rep.id, "supervisor");
		else
			log_warn("revoke %u: reply not sent", req->id);
	}
	free(b);
	if (fd != -1)
		close(fd);
	X509_CRL_free(crl);
}

/* The supervisor's frames: 0 on, 1 malformed, -1 closed (errno 0: EOF). */
static int
signer_ctl_read(struct signer *sg)
{
	struct ipc_msg		 m;
	struct sign_revoke_req	 req;
	char			 why[128];
	int			 rc;

	while ((rc = ipc_recv(sg->ctl, &m)) == 1) {
		if (m.fd != -1)
			close(m.fd);
		if (m.hdr.type != IPC_MSG_SIGN_REVOKE_REQ || m.fd != -1 ||
		    sign_revoke_req_decode(m.payload, m.len, &req, why,
		    sizeof(why)) == -1) {
			log_warnx("malformed frame (type %u) from the "
			    "supervisor; closing", m.hdr.type);
			return (1);
		}
		signer_revoke(sg, &req);
	}
	return (rc == -1 ? -1 : 0);
}

static int
signer_loop(struct signer *sg)
{
	struct ipc_msg	 m;
	struct sign_req	 req;
	struct pollfd	 pfd[2];
	char		 why[128];
	nfds_t		 n;
	int		 rc;

	for (;;) {
		n = 0;
		if (sg->chan != NULL) {
			pfd[n].fd = sg->chan->fd;
			pfd[n++].events = POLLIN;
		}
		if (sg->ctl != NULL) {
			pfd[n].fd = sg->ctl->fd;
			pfd[n++].events = POLLIN;
		}
		if (poll(pfd, n, -1) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (sg->ctl != NULL && (rc = signer_ctl_read(sg)) != 0) {
			if (rc == 1 || errno != 0)
				return (1);
			/* The supervisor is gone, or never needs it again. */
			ipc_chan_free(sg->ctl);
			sg->ctl = NULL;
			if (sg->chan == NULL) {
				log_info("the supervisor closed the channel; "
				    "%lu revoked", sg->revoked_count);
				return (0);
			}
		}
		if (sg->chan == NULL)
			continue;
		while ((rc = ipc_recv(sg->chan, &m)) == 1) {
			if (m.fd != -1)
				close(m.fd);
			if (m.hdr.type != IPC_MSG_SIGN_REQ || m.fd != -1) {
				log_warnx("unexpected frame type %u from the "
				    "api; closing", m.hdr.type);
				return (1);
			}
			if (sign_req_decode(m.payload, m.len, &req, why,
			    sizeof(why)) == -1) {
				log_warnx("malformed request from the api: %s; "
				    "closing", why);
				return (1);
			}
			signer_handle(sg, &req);
		}
		if (rc == -1) {
			if (errno == 0) {
				log_info("the api closed the channel; %lu "
				    "signed, %lu refused", sg->signed_count,
				    sg->refused_count);
				return (0);
			}
			if (errno != EBADMSG)
				log_warn("recv");
			return (1);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct signer	 sg;
	const char	*logdest = "stderr", *o = NULL, *ou = NULL;
	char		 err[512];
	unsigned	 rate = SIGNER_RATE_DEFAULT, trusted = 0;
	int		 ch, level = LOG_INFO, rc;

	signer_harden();
	memset(&sg, 0, sizeof(sg));
	sg.burst = SIGNER_BURST_DEFAULT;
	while ((ch = getopt(argc, argv, "b:C:c:d:l:n:o:r:T:u:v:")) != -1) {
		switch (ch) {
		case 'C':
		case 'c':
			if (strlen(optarg) > NAME_MAX ||
			    strchr(optarg, '/') != NULL || *optarg == '\0')
				usage();
			snprintf(ch == 'c' ? sg.crl_name : sg.copy_name,
			    NAME_MAX + 1, "%s", optarg);
			break;
		case 'b':
			sg.burst = signer_number(optarg, 1, SIGNER_RATE_MAX,
			    "-b");
			break;
		case 'd':
			sg.days = signer_number(optarg, 1, PKI_DAYS_MAX, "-d");
			break;
		case 'l':
			logdest = optarg;
			break;
		case 'n':
			if (strlen(optarg) > NAME_MAX ||
			    strchr(optarg, '/') != NULL || *optarg == '\0')
				usage();
			snprintf(sg.users_name, sizeof(sg.users_name), "%s",
			    optarg);
			break;
		case 'o':
			o = optarg;
			break;
		case 'r':
			rate = signer_number(optarg, 1, SIGNER_RATE_MAX, "-r");
			break;
		case 'T':
			trusted = signer_number(optarg, 0, UINT_MAX - 1, "-T");
			break;
		case 'u':
			ou = optarg;
			break;
		case 'v':
			if ((level = log_level_parse(optarg)) == -1)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc || sg.days == 0 || o == NULL || ou == NULL ||
	    sg.users_name[0] == '\0' || !csr_rdn_value_ok(o) ||
	    !csr_rdn_value_ok(ou))
		usage();
	if (strcmp(logdest, "file") == 0) {
		signer_need_fd(SIGN_FD_LOG, "log file");
		log_init_fd(SIGN_FD_LOG, level);
	} else if (strcmp(logdest, "syslog") == 0)
		log_init(LOG_DEST_SYSLOG, NULL, level);
	else if (strcmp(logdest, "stderr") == 0)
		log_init(LOG_DEST_STDERR, NULL, level);
	else
		usage();
	log_procinit("signer");
	signer_need_fd(SIGN_FD_CA, "ca.pem");
	signer_need_fd(SIGN_FD_KEY, "ca.key");
	signer_need_fd(SIGN_FD_PKIDIR, "PKI directory");
	signer_need_fd(SIGN_FD_JOURNAL, "enrolled.txt");
	signer_need_fd(SIGN_FD_USERSDIR, "users file directory");
	/* What root trusts stays what the supervisor trusts. */
	trust_set_owner((uid_t)trusted);

	if (pki_signer_load(&sg.pki, SIGN_FD_CA, SIGN_FD_KEY, SIGN_FD_PKIDIR,
	    SIGN_FD_JOURNAL, err, sizeof(err)) == -1)
		fatalx_status(SIGNER_EX_START, "%s", err);
	/* The key is in memory now; its descriptor is not needed again. */
	close(SIGN_FD_KEY);
	close(SIGN_FD_CA);
	if ((sg.ca_der_len = i2d_X509(sg.pki.ca, &sg.ca_der)) <= 0 ||
	    sg.ca_der_len > SIGN_CERT_MAX)
		fatalx_status(SIGNER_EX_START, "ca.pem: cannot encode it");
	snprintf(sg.o, sizeof(sg.o), "%s", o);
	snprintf(sg.ou, sizeof(sg.ou), "%s", ou);
	sg.policy.o = sg.o;
	sg.policy.ou = sg.ou;
	sg.policy.keys = CSR_KEYS_ALL;
	sg.rate_ms = (double)rate / 60000.0;
	sg.tokens = sg.burst;
	sg.refilled_ms = clock_mono_ms();
	sg.refuse_rl.burst = 10;
	sg.refuse_rl.window = 10;
	/* The api's channel (enrollment), the supervisor's: either or both. */
	if (fcntl(SIGN_FD_SOCK, F_GETFD) != -1 && (sg.chan =
	    ipc_chan_new(SIGN_FD_SOCK, SIGNER_QUEUE_MAX)) == NULL)
		fatalx_status(SIGNER_EX_START, "api channel: %s",
		    strerror(errno));
	if (fcntl(SIGN_FD_CTL, F_GETFD) != -1 && (sg.ctl =
	    ipc_chan_new(SIGN_FD_CTL, SIGNER_QUEUE_MAX)) == NULL)
		fatalx_status(SIGNER_EX_START, "supervisor channel: %s",
		    strerror(errno));
	if (sg.chan == NULL && sg.ctl == NULL)
		fatalx_status(SIGNER_EX_START, "descriptors %d and %d are not "
		    "open: takd-signer is started by takd", SIGN_FD_SOCK,
		    SIGN_FD_CTL);
	signer_revoke_prepare(&sg);
	log_info("ready: %u-day client certificates, O=\"%s\" OU=\"%s\", at "
	    "most %u a minute (%u at once)", sg.days, sg.o, sg.ou, rate,
	    sg.burst);

	rc = signer_loop(&sg);

	ipc_chan_free(sg.chan);
	ipc_chan_free(sg.ctl);
	users_free(sg.users);
	OPENSSL_free(sg.ca_der);
	pki_signer_clear(&sg.pki);
	close(SIGN_FD_PKIDIR);
	close(SIGN_FD_JOURNAL);
	close(SIGN_FD_USERSDIR);
	if (sg.base.journalfd != -1)
		close(sg.base.journalfd);
	if (sg.base.crl_dirfd != -1)
		close(sg.base.crl_dirfd);
	if (sg.base.copy_dirfd != -1)
		close(sg.base.copy_dirfd);
	return (rc);
}
