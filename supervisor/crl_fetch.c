/*
 * [tls] crl_url: start takd-crlfetch every crl_refresh, take its answer,
 * keep the last good CRL, have the reload install it.  See crl_fetch.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "ipc/crlfetch_msg.h"
#include "shared/clock.h"
#include "shared/fileio.h"
#include "shared/log.h"
#include "supervisor/api_proc.h"
#include "supervisor/crl.h"
#include "supervisor/crl_fetch.h"
#include "supervisor/fetcher.h"
#include "supervisor/reload.h"

_Static_assert(CRLFETCH_FD_RES == FETCHER_FD_RES &&
    CRLFETCH_FD_CA == FETCHER_FD_IN && CRLFETCH_FD_OUT == FETCHER_FD_OUT &&
    CRLFETCH_FD_EXE == FETCHER_FD_EXE, "takd-crlfetch's descriptors");

#define CRL_FETCH_URLS	(2 * CONFIG_CRL_URL_MAX)

struct crl_fetch {
	unsigned	 magic;
	char		 urls[CRL_FETCH_URLS][CONFIG_CRL_URL_LEN];
	size_t		 n_urls;
	char		 copy_path[PATH_MAX];	/* for messages, and at start */
	int		 dirfd;		/* STATE_DIR/store, -1 before prepare */
	struct fetcher	 fetcher;	/* takd-crlfetch; in: the CA */
	int64_t		 next_ms;	/* the next fetch, monotonic */
	/* What takctl status and the metrics show. */
	uint64_t	 ok;
	uint64_t	 failed;
	uint64_t	 installed;
	time_t		 last_attempt;
	time_t		 last_success;
	time_t		 last_failure;
	int64_t		 last_number;	/* of the last CRL fetched, -1 none */
	time_t		 last_next_update;
	char		 last_url[CONFIG_CRL_URL_LEN];
	char		 last_error[sizeof(((struct crlfetch_res *)0)->err)];
};

static void	 crl_fetch_errf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* A message cut to the buffer: paths may be long. */
static void
crl_fetch_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* The http(s) URIs of the server certificate's CRL distribution points. */
static void
crl_fetch_cdp(struct sup *sup, struct crl_fetch *cf)
{
	X509			*x = SSL_CTX_get0_certificate(sup->ssl_ctx);
	STACK_OF(DIST_POINT)	*dps;
	DIST_POINT		*dp;
	GENERAL_NAME		*gn;
	const char		*uri;
	int			 i, j, len;

	if (x == NULL || (dps = X509_get_ext_d2i(x, NID_crl_distribution_points,
	    NULL, NULL)) == NULL)
		return;
	for (i = 0; i < sk_DIST_POINT_num(dps); i++) {
		dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		for (j = 0; j < sk_GENERAL_NAME_num(dp->distpoint->name.fullname);
		    j++) {
			gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname,
			    j);
			if (gn->type != GEN_URI || cf->n_urls >= CRL_FETCH_URLS)
				continue;
			uri = (const char *)ASN1_STRING_get0_data(
			    gn->d.uniformResourceIdentifier);
			len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
			if (len <= 0 || len >= CONFIG_CRL_URL_LEN ||
			    memchr(uri, '\0', (size_t)len) != NULL ||
			    (strncasecmp(uri, "http://", 7) != 0 &&
			    strncasecmp(uri, "https://", 8) != 0))
				continue;
			memcpy(cf->urls[cf->n_urls], uri, (size_t)len);
			cf->urls[cf->n_urls++][len] = '\0';
		}
	}
	sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
}

int
crl_fetch_init(struct sup *sup, char *err, size_t errlen)
{
	const struct config	*cfg = sup->cfg;
	struct crl_fetch	*cf;
	size_t			 i;

	/*
	 * Without a URL, the copy is still where the admin console's
	 * revocations go (console_sup.c): the same file, the same pick.
	 */
	if (cfg->n_crl_url == 0 && !cfg->crl_url_cdp &&
	    !api_proc_console_revokes(cfg))
		return (0);
	if ((cf = calloc(1, sizeof(*cf))) == NULL) {
		snprintf(err, errlen, "[tls] crl_url: out of memory");
		return (-1);
	}
	cf->magic = CRL_FETCH_MAGIC;
	cf->dirfd = -1;
	fetcher_init(&cf->fetcher, CRLFETCH_EXE, "CRL fetch", SUP_EV_CRL_FETCH,
	    CRL_FETCH_NICE);
	cf->last_number = -1;
	for (i = 0; i < cfg->n_crl_url; i++)
		snprintf(cf->urls[cf->n_urls++], CONFIG_CRL_URL_LEN, "%s",
		    cfg->crl_url[i]);
	if (cfg->crl_url_cdp)
		crl_fetch_cdp(sup, cf);
	sup->crl.fetch = cf;
	if (snprintf(cf->copy_path, sizeof(cf->copy_path), "%s/%s/%s",
	    cfg->state_dir, TAKD_STORE_DIR, CRL_FETCH_COPY) >=
	    (int)sizeof(cf->copy_path)) {
		snprintf(err, errlen, "[tls] crl_url: [server] state_dir too "
		    "long");
		return (-1);
	}
	if (cf->n_urls == 0 && cfg->crl_url_cdp) {
		snprintf(err, errlen, "[tls] crl_url = cdp: the server "
		    "certificate %s has no http or https CRL distribution "
		    "point", cfg->cert);
		return (-1);
	}
	for (i = 0; i < cf->n_urls; i++)
		log_info("CRL from %s every %u s; last good copy in %s",
		    cf->urls[i], cfg->crl_refresh_ms / 1000, cf->copy_path);
	return (0);
}

int
crl_fetch_prepare(struct sup *sup, char *err, size_t errlen)
{
	struct crl_fetch	*cf = sup->crl.fetch;

	if (cf == NULL)
		return (0);
	/* The copy only (the console's revocations): no fetcher. */
	if (cf->n_urls == 0) {
		if ((cf->dirfd = open(".", O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			snprintf(err, errlen, "%s: %s", TAKD_STORE_DIR,
			    strerror(errno));
			return (-1);
		}
		return (0);
	}
	if (fetcher_prepare(&cf->fetcher, "[tls] crl_url", err, errlen) == -1)
		return (-1);
	/* prepare_dirs() made STATE_DIR/store the working directory. */
	if ((cf->dirfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1 || (cf->fetcher.in_fd = fetcher_certs_memfd("takd-crlfetch-ca",
	    NULL, 0, sup->ca)) == -1) {
		snprintf(err, errlen, "[tls] crl_url: %s", strerror(errno));
		return (-1);
	}
	return (0);
}

void
crl_fetch_cleanup(struct sup *sup)
{
	struct crl_fetch	*cf = sup->crl.fetch;

	if (cf == NULL)
		return;
	fetcher_cleanup(sup, &cf->fetcher);
	if (cf->dirfd != -1)
		close(cf->dirfd);
	cf->magic = 0;
	free(cf);
	sup->crl.fetch = NULL;
}

uint8_t *
crl_fetch_copy_load(struct sup *sup, size_t *len)
{
	struct crl_fetch	*cf = sup->crl.fetch;
	char			 why[512];
	char			*buf;

	if (cf == NULL)
		return (NULL);
	/* Before crl_fetch_prepare() (the first parse): by its path. */
	buf = fileio_read(cf->dirfd != -1 ? cf->dirfd : AT_FDCWD,
	    cf->dirfd != -1 ? CRL_FETCH_COPY : cf->copy_path, cf->copy_path,
	    CRL_FILE_MAX, len, why, sizeof(why));
	return ((uint8_t *)buf);
}

X509_CRL *
crl_fetch_pick(struct sup *sup, X509_CRL *file_crl, struct crl_info *info,
    X509 **signer, uint8_t *copy, size_t len, char *err, size_t errlen)
{
	struct crl_info	 ci;
	X509_CRL	*crl;
	X509		*by = NULL;
	char		 why[512];

	if (copy == NULL)
		return (file_crl);
	crl = tlsctx_crl_parse(copy, len, sup->ca, &ci, &by, why, sizeof(why));
	if (crl == NULL)
		return (file_crl);
	/* Never back: the copy may be older than what a reload put in force. */
	if ((sup->crl.crl != NULL && tlsctx_crl_cmp(&ci, &sup->crl.info) < 0) ||
	    (file_crl != NULL && tlsctx_crl_cmp(&ci, info) <= 0)) {
		X509_CRL_free(crl);
		return (file_crl);
	}
	X509_CRL_free(file_crl);
	*info = ci;
	*signer = by;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return (crl);
}

/* takd-crlfetch's command line (ipc/crlfetch_msg.h), then started. */
static int
crl_fetch_spawn(struct sup *sup, struct crl_fetch *cf)
{
	char		 o_t[] = "-t", o_m[] = "-m", o_n[] = "-n", o_u[] = "-u";
	char		 name[] = CRLFETCH_EXE, t[24], m[24], n[24], u[24];
	char		*argv[9 + CRL_FETCH_URLS + 1];
	size_t		 i, k = 0;

	snprintf(t, sizeof(t), "%u", sup->cfg->crl_fetch_timeout_ms);
	snprintf(m, sizeof(m), "%zu", sup->cfg->crl_fetch_max);
	snprintf(n, sizeof(n), "%lld", sup->crl.crl != NULL ?
	    (long long)sup->crl.info.number : -1LL);
	snprintf(u, sizeof(u), "%lld", sup->crl.crl != NULL ?
	    (long long)sup->crl.info.last_update : 0LL);
	argv[k++] = name;
	argv[k++] = o_t;
	argv[k++] = t;
	argv[k++] = o_m;
	argv[k++] = m;
	argv[k++] = o_n;
	argv[k++] = n;
	argv[k++] = o_u;
	argv[k++] = u;
	for (i = 0; i < cf->n_urls; i++)
		argv[k++] = cf->urls[i];
	argv[k] = NULL;
	if (fetcher_spawn(sup, &cf->fetcher, argv, (int64_t)cf->n_urls *
	    sup->cfg->crl_fetch_timeout_ms + CRL_FETCH_SLACK_MS) == -1)
		return (-1);
	cf->last_attempt = time(NULL);
	return (0);
}

static void
crl_fetch_failed(struct sup *sup, struct crl_fetch *cf, const char *why)
{
	cf->failed++;
	cf->last_failure = time(NULL);
	snprintf(cf->last_error, sizeof(cf->last_error), "%s", why);
	log_warnx("CRL fetch failed (%llu so far), generation %u stays in "
	    "force: %s", (unsigned long long)cf->failed,
	    sup->crl.info.generation, why);
}

/*
 * The fetched DER, from the fetcher's memfd (in_fd), as the last good
 * copy: written beside it, synced, renamed over it.  -1 with err.
 */
static int
crl_fetch_keep(struct crl_fetch *cf, int in_fd, uint64_t bytes, size_t max,
    char *err, size_t errlen)
{
	struct stat	 st;
	char		 buf[65536];
	uint64_t	 off = 0;
	ssize_t		 n;
	int		 fd = -1;

	if (fstat(in_fd, &st) == -1 || bytes == 0 || bytes > max ||
	    (uint64_t)st.st_size != bytes) {
		snprintf(err, errlen, "the fetcher's answer is inconsistent "
		    "(%llu bytes said, %lld written)", (unsigned long long)bytes,
		    (long long)st.st_size);
		return (-1);
	}
	(void)unlinkat(cf->dirfd, CRL_FETCH_COPY_TMP, 0);
	if ((fd = openat(cf->dirfd, CRL_FETCH_COPY_TMP, O_WRONLY | O_CREAT |
	    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) == -1)
		goto fail;
	while (off < bytes) {
		if ((n = pread(in_fd, buf, sizeof(buf), (off_t)off)) <= 0 ||
		    write(fd, buf, (size_t)n) != n) {
			if (n == 0)
				errno = EIO;
			goto fail;
		}
		off += (uint64_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (renameat(cf->dirfd, CRL_FETCH_COPY_TMP, cf->dirfd,
	    CRL_FETCH_COPY) == -1)
		goto fail;
	(void)fsync(cf->dirfd);
	return (0);
fail:
	crl_fetch_errf(err, errlen, "cannot keep the CRL in %s: %s",
	    cf->copy_path, strerror(errno));
	if (fd != -1)
		close(fd);
	(void)unlinkat(cf->dirfd, CRL_FETCH_COPY_TMP, 0);
	return (-1);
}

/* A fetch is over: its result, or why there is none. */
static void
crl_fetch_done(struct sup *sup, struct crl_fetch *cf)
{
	struct crlfetch_res	 res;
	ssize_t			 n;
	char			 err[512];

	n = read(cf->fetcher.res_fd, &res, sizeof(res));
	cf->next_ms = clock_mono_ms() + sup->cfg->crl_refresh_ms;
	if (n != (ssize_t)sizeof(res) || res.magic != CRLFETCH_MAGIC ||
	    res.status > CRLFETCH_FAILED || res.url >= cf->n_urls) {
		fetcher_end(sup, &cf->fetcher, true);
		crl_fetch_failed(sup, cf, "takd-crlfetch ended without a "
		    "valid result");
		return;
	}
	res.err[sizeof(res.err) - 1] = '\0';
	if (res.status == CRLFETCH_FAILED) {
		fetcher_end(sup, &cf->fetcher, true);
		crl_fetch_failed(sup, cf, res.err[0] != '\0' ? res.err :
		    "no reason given");
		return;
	}
	if (res.status == CRLFETCH_NEW && crl_fetch_keep(cf, cf->fetcher.out_fd,
	    res.bytes, sup->cfg->crl_fetch_max, err, sizeof(err)) == -1) {
		fetcher_end(sup, &cf->fetcher, true);
		crl_fetch_failed(sup, cf, err);
		return;
	}
	fetcher_end(sup, &cf->fetcher, false);
	cf->ok++;
	cf->last_success = time(NULL);
	cf->last_number = res.number;
	cf->last_next_update = (time_t)res.next_update;
	snprintf(cf->last_url, sizeof(cf->last_url), "%s", cf->urls[res.url]);
	if (res.status == CRLFETCH_SAME) {
		log_debug("CRL from %s: number %lld, the one in force",
		    cf->last_url, (long long)res.number);
		return;
	}
	cf->installed++;
	log_info("CRL from %s: number %lld, %llu entries, newer than "
	    "generation %u: installing it", cf->last_url,
	    (long long)res.number, (unsigned long long)res.entries,
	    sup->crl.info.generation);
	(void)reload_start(sup, NULL, NULL, NULL, 0);
}

int
crl_fetch_copy_write(struct sup *sup, int fd, char *err, size_t errlen)
{
	struct crl_fetch	*cf = sup->crl.fetch;
	struct stat		 st;

	if (cf == NULL || cf->dirfd == -1) {
		snprintf(err, errlen, "no place for the CRL copy (STATE_DIR/%s)",
		    TAKD_STORE_DIR);
		return (-1);
	}
	if (fstat(fd, &st) == -1 || st.st_size <= 0 ||
	    (fcntl(fd, F_GET_SEALS) & F_SEAL_WRITE) == 0) {
		snprintf(err, errlen, "the signer's CRL is not a sealed memfd");
		return (-1);
	}
	return (crl_fetch_keep(cf, fd, (uint64_t)st.st_size, CRL_FILE_MAX,
	    err, errlen));
}

void
crl_fetch_event(struct sup *sup)
{
	struct crl_fetch	*cf = sup->crl.fetch;

	if (cf != NULL && fetcher_running(&cf->fetcher))
		crl_fetch_done(sup, cf);
}

int
crl_fetch_tick(struct sup *sup)
{
	struct crl_fetch	*cf = sup->crl.fetch;
	int64_t			 now = clock_mono_ms();

	if (cf == NULL || cf->fetcher.exe_fd == -1 || sup->stopping)
		return (-1);
	if (fetcher_running(&cf->fetcher)) {
		if (now < cf->fetcher.deadline_ms)
			return ((int)(cf->fetcher.deadline_ms - now));
		fetcher_end(sup, &cf->fetcher, true);
		cf->next_ms = now + sup->cfg->crl_refresh_ms;
		crl_fetch_failed(sup, cf, "takd-crlfetch did not finish in "
		    "time: killed");
		return ((int)sup->cfg->crl_refresh_ms);
	}
	if (now < cf->next_ms)
		return ((int)(cf->next_ms - now));
	if (crl_fetch_spawn(sup, cf) == -1) {
		cf->next_ms = now + sup->cfg->crl_refresh_ms;
		crl_fetch_failed(sup, cf, "takd-crlfetch could not be started");
		return ((int)sup->cfg->crl_refresh_ms);
	}
	return ((int)(cf->fetcher.deadline_ms - now));
}

void
crl_fetch_json(const struct sup *sup, struct json *j)
{
	const struct crl_fetch	*cf = sup->crl.fetch;
	int64_t			 next;
	size_t			 i;

	if (cf == NULL || cf->n_urls == 0)
		return;
	json_key(j, "fetch");
	json_obj_begin(j);
	json_key(j, "urls");
	json_arr_begin(j);
	for (i = 0; i < cf->n_urls; i++)
		json_str(j, cf->urls[i]);
	json_arr_end(j);
	json_kv_uint(j, "refresh_seconds", sup->cfg->crl_refresh_ms / 1000);
	json_kv_str(j, "copy", cf->copy_path);
	json_kv_bool(j, "running", fetcher_running(&cf->fetcher));
	next = fetcher_running(&cf->fetcher) ? 0 :
	    (cf->next_ms - clock_mono_ms()) / 1000;
	json_kv_int(j, "next_fetch_in", next < 0 ? 0 : next);
	json_kv_uint(j, "ok", cf->ok);
	json_kv_uint(j, "failed", cf->failed);
	json_kv_uint(j, "installed", cf->installed);
	json_kv_time(j, "last_attempt", cf->last_attempt);
	json_kv_time(j, "last_success", cf->last_success);
	json_kv_str(j, "last_url", cf->last_url[0] ? cf->last_url : NULL);
	json_key(j, "last_number");
	if (cf->last_number >= 0)
		json_int(j, cf->last_number);
	else
		json_null(j);
	json_kv_time(j, "last_failure", cf->last_failure);
	json_kv_str(j, "last_error", cf->last_error[0] ? cf->last_error :
	    NULL);
	json_obj_end(j);
}

void
crl_fetch_stats(const struct sup *sup, struct crl_fetch_stats *st)
{
	const struct crl_fetch	*cf = sup->crl.fetch;

	memset(st, 0, sizeof(*st));
	if (cf == NULL || cf->n_urls == 0)
		return;
	st->on = 1;
	st->ok = cf->ok;
	st->failed = cf->failed;
	st->installed = cf->installed;
	st->last_success = cf->last_success;
	st->last_failure = cf->last_failure;
}
