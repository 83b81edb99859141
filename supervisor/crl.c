/*
 * The CRL in force.  The supervisor is the only process that reads the CRL
 * file: it verifies each new version (signature by the configured CA, issuer,
 * dates) and only a valid one becomes a generation that workers are sent.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "shared/log.h"
#include "shared/pki.h"
#include "shared/trust.h"
#include "supervisor/admin.h"
#include "supervisor/crl.h"
#include "supervisor/notify.h"

static void
crl_log_state(const struct sup *sup, const char *what)
{
	const struct crl_info	*ci = &sup->crl.info;
	char			 next[32] = "never";
	time_t			 now = time(NULL);

	if (ci->next_update != 0)
		pki_time_format(ci->next_update, next, sizeof(next));
	log_info("CRL %s: generation %u, %zu entries, issuer %s, next update %s",
	    what, ci->generation, ci->entries, ci->issuer, next);
	if (ci->next_update != 0 && now > ci->next_update)
		log_warnx("CRL is stale: its nextUpdate %s has passed; renew it "
		    "(takctl crl renew)", next);
	else if (ci->next_update != 0 && ci->next_update - now <
	    (time_t)sup->cfg->crl_warn_days * 86400)
		log_warnx("CRL expires soon: nextUpdate %s", next);
}

/* The directory of the CRL file, into dir (PATH_MAX). */
static const char *
crl_dir(const struct sup *sup, char *dir)
{
	snprintf(dir, PATH_MAX, "%s", sup->cfg->crl);
	return (dirname(dir));
}

static int
crl_open_dir(struct sup *sup, char *err, size_t errlen)
{
	char	 dir[PATH_MAX], base[PATH_MAX], why[512];

	snprintf(base, sizeof(base), "%s", sup->cfg->crl);
	if (snprintf(sup->crl.name, sizeof(sup->crl.name), "%s",
	    basename(base)) >= (int)sizeof(sup->crl.name)) {
		snprintf(err, errlen, "CRL file name too long: %s",
		    sup->cfg->crl);
		return (-1);
	}
	/* Kept for the reloads after the drop: walked and checked now. */
	sup->crl.dirfd = trust_dir_open(crl_dir(sup, dir), 0, 0, why,
	    sizeof(why));
	if (sup->crl.dirfd == -1) {
		snprintf(err, errlen, "CRL directory of %s: %s", sup->cfg->crl,
		    why);
		return (-1);
	}
	return (0);
}

static X509_CRL *
crl_read(struct sup *sup, struct crl_info *info, char *err, size_t errlen)
{
	uint8_t		*buf;
	size_t		 len;
	X509_CRL	*crl;
	char		 why[512];

	buf = tlsctx_read_named(sup->crl.dirfd, sup->crl.name, sup->cfg->crl,
	    CRL_FILE_MAX, &len, why, sizeof(why));
	if (buf == NULL) {
		snprintf(err, errlen, "CRL %s", why);	/* why names the file */
		return (NULL);
	}
	crl = tlsctx_crl_parse(buf, len, sup->ca, info, why, sizeof(why));
	free(buf);
	if (crl == NULL)
		snprintf(err, errlen, "CRL %s: %s", sup->cfg->crl, why);
	return (crl);
}

/*
 * Watch the CRL's directory, as root: the watch outlives the privilege drop,
 * and the service user may not be allowed to list that directory.  A new CRL
 * arrives by rename (takctl, logrotate-style tools) or by rewriting in place.
 */
static int
crl_watch_open(struct sup *sup, char *err, size_t errlen)
{
	char		 buf[PATH_MAX];
	const char	*dir = crl_dir(sup, buf);

	sup->crl.watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (sup->crl.watch_fd == -1 || inotify_add_watch(sup->crl.watch_fd,
	    dir, IN_CLOSE_WRITE | IN_MOVED_TO) == -1) {
		snprintf(err, errlen, "[tls] crl_watch: cannot watch %s: %s",
		    dir, strerror(errno));
		return (-1);
	}
	log_info("watching %s for a new CRL", sup->cfg->crl);
	return (0);
}

int
crl_watch_register(struct sup *sup)
{
	struct epoll_event	 ev;

	if (sup->crl.watch_fd < 0)
		return (0);
	sup->crl.watch_ev.kind = SUP_EV_CRL_WATCH;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = &sup->crl.watch_ev;
	return (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, sup->crl.watch_fd, &ev));
}

/*
 * Writers often touch a file more than once: reload once things settle.  An
 * overflowed queue may have lost the CRL's event: reload to be sure.
 */
void
crl_watch_event(struct sup *sup)
{
	char			 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	ssize_t			 n;
	char			*p;

	while ((n = read(sup->crl.watch_fd, buf, sizeof(buf))) > 0)
		for (p = buf; p < buf + n; p += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)(void *)p;
			if ((ie->mask & IN_Q_OVERFLOW) || (ie->len > 0 &&
			    strcmp(ie->name, sup->crl.name) == 0))
				sup->crl.watch_reload_ms = sup_now_ms() +
				    CRL_WATCH_SETTLE_MS;
		}
}

int
crl_init(struct sup *sup, char *err, size_t errlen)
{
	sup->crl.dirfd = -1;
	sup->crl.watch_fd = -1;
	if (sup->cfg->crl_check == CRL_CHECK_OFF) {
		log_warnx("[tls] crl_check = off: revoked certificates are "
		    "accepted");
		return (0);
	}
	if (crl_open_dir(sup, err, errlen) == -1)
		return (-1);
	if ((sup->crl.crl = crl_read(sup, &sup->crl.info, err, errlen)) == NULL)
		return (-1);
	sup->crl.info.generation = 1;
	sup->crl.loaded_at = time(NULL);
	crl_log_state(sup, "loaded");
	if (sup->cfg->crl_watch && crl_watch_open(sup, err, errlen) == -1)
		return (-1);
	return (0);
}

void
crl_cleanup(struct sup *sup)
{
	X509_CRL_free(sup->crl.crl);
	sup->crl.crl = NULL;
	if (sup->crl.dirfd >= 0)
		close(sup->crl.dirfd);
	sup->crl.dirfd = -1;
	if (sup->crl.watch_fd >= 0)
		close(sup->crl.watch_fd);
	sup->crl.watch_fd = -1;
}

/*
 * The supervisor's SSL_CTX gets each generation too, so that a worker forked
 * later (a respawn) starts with the CRL in force.
 */
int
crl_install(struct sup *sup, X509_CRL *crl, char *err, size_t errlen)
{
	X509_STORE	*store;

	if ((store = tlsctx_store_new(sup->ca, crl, sup->cfg->crl_check)) ==
	    NULL || tlsctx_set_store(sup->ssl_ctx, store) == -1) {
		X509_STORE_free(store);
		snprintf(err, errlen, "cannot build a verification store");
		return (-1);
	}
	X509_STORE_free(store);
	return (0);
}

static int
crl_reload_file(struct sup *sup, char *err, size_t errlen)
{
	struct crl_info	 info;
	X509_CRL	*crl;

	if (sup->cfg->crl_check == CRL_CHECK_OFF) {
		snprintf(err, errlen, "[tls] crl_check = off: no CRL to reload");
		return (-1);
	}
	if ((crl = crl_read(sup, &info, err, errlen)) == NULL) {
		snprintf(sup->crl.last_error, sizeof(sup->crl.last_error), "%s",
		    err);
		sup->crl.last_error_at = time(NULL);
		log_warnx("CRL reload failed, generation %u stays in force: %s",
		    sup->crl.info.generation, err);
		return (-1);
	}
	if (crl_install(sup, crl, err, errlen) == -1) {
		X509_CRL_free(crl);
		return (-1);
	}
	X509_CRL_free(sup->crl.crl);
	sup->crl.crl = crl;
	info.generation = sup->crl.info.generation + 1;
	sup->crl.info = info;
	sup->crl.loaded_at = time(NULL);
	sup->crl.last_error[0] = '\0';
	crl_log_state(sup, "reloaded");
	return (0);
}

/*
 * The service manager sees the supervisor's part of every reload (SIGHUP,
 * takctl reload, crl_watch): RELOADING=1, then READY=1 with the generation
 * in force, whether the new CRL was taken or not.
 */
int
crl_reload(struct sup *sup, char *err, size_t errlen)
{
	int	 rc;

	notify_reloading();
	rc = crl_reload_file(sup, err, errlen);
	notify_send("READY=1\nSTATUS=%u workers, CRL generation %u%s",
	    sup->n_slots, sup->crl.info.generation, rc == -1 ?
	    " (reload failed, the old one kept)" : "");
	return (rc);
}

int
crl_memfd(const struct sup *sup)
{
	unsigned char	*der = NULL;
	int		 len, fd;
	size_t		 off;
	ssize_t		 n;

	if (sup->crl.crl == NULL || (len = i2d_X509_CRL(sup->crl.crl, &der)) <= 0)
		return (-1);
	if ((fd = memfd_create("takd-crl", MFD_CLOEXEC | MFD_ALLOW_SEALING)) ==
	    -1) {
		log_warn("memfd_create");
		goto fail;
	}
	for (off = 0; off < (size_t)len; off += (size_t)n)
		if ((n = write(fd, der + off, (size_t)len - off)) <= 0) {
			if (n == -1 && errno == EINTR) {
				n = 0;
				continue;
			}
			log_warn("CRL memfd write");
			goto fail;
		}
	/* Sealed: a worker can trust that the bytes it parses cannot change. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_WRITE | F_SEAL_SEAL) == -1) {
		log_warn("CRL memfd seal");
		goto fail;
	}
	OPENSSL_free(der);
	return (fd);
fail:
	if (fd >= 0)
		close(fd);
	OPENSSL_free(der);
	return (-1);
}

int
crl_is_stale(const struct sup *sup)
{
	return (sup->crl.crl != NULL && sup->crl.info.next_update != 0 &&
	    time(NULL) > sup->crl.info.next_update);
}

int
crl_tick(struct sup *sup)
{
	static int64_t	 next_ms;
	int64_t		 now = sup_now_ms();
	time_t		 left;

	if (sup->crl.watch_reload_ms != 0) {
		if (now < sup->crl.watch_reload_ms)
			return ((int)(sup->crl.watch_reload_ms - now));
		sup->crl.watch_reload_ms = 0;
		log_info("CRL file %s changed: reloading", sup->cfg->crl);
		if (!sup->stopping)
			admin_reload(sup, NULL);
	}
	if (sup->crl.crl == NULL || sup->crl.info.next_update == 0)
		return (-1);
	if (next_ms == 0)
		next_ms = now + CRL_WARN_INTERVAL_MS;	/* start logged it */
	if (now < next_ms)
		return ((int)(next_ms - now));
	next_ms = now + CRL_WARN_INTERVAL_MS;
	left = sup->crl.info.next_update - time(NULL);
	if (left < 0)
		log_warnx("CRL generation %u is stale since %lld s: %s; renew it "
		    "(takctl crl renew)", sup->crl.info.generation,
		    (long long)-left, sup->cfg->crl_stale == CRL_STALE_STRICT ?
		    "every client is refused ([tls] crl_stale = strict)" :
		    "listed serials stay refused, others are admitted");
	else if (left < (time_t)sup->cfg->crl_warn_days * 86400)
		log_warnx("CRL generation %u expires in %lld h; renew it "
		    "(takctl crl renew)", sup->crl.info.generation,
		    (long long)left / 3600);
	return (CRL_WARN_INTERVAL_MS);
}
