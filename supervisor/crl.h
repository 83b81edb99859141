#ifndef TAKD_SUP_CRL_H
#define TAKD_SUP_CRL_H

#include "supervisor/sup.h"

#define CRL_FILE_MAX	(64u * 1024 * 1024)

/*
 * Load the configured CRL at start (as root).  Keeps a descriptor of its
 * directory so that reloads after the privilege drop only need the directory
 * itself to be searchable by the service user.  With crl_check = off nothing
 * is loaded.  -1 with err.
 */
int	 crl_init(struct sup *, char *err, size_t errlen);
void	 crl_cleanup(struct sup *);

/*
 * Read and verify the CRL file again.  Valid: it becomes the new generation.
 * Invalid: the old one stays in force, the reason is kept in last_error.
 * -1 with err when nothing changed.
 */
int	 crl_reload(struct sup *, char *err, size_t errlen);

/* Make crl the store of the supervisor's SSL_CTX (inherited by new workers). */
int	 crl_install(struct sup *, X509_CRL *, char *err, size_t errlen);

/* A sealed memfd with the CRL in force (DER), for IPC_MSG_CRL; -1 on error. */
int	 crl_memfd(const struct sup *);

#define CRL_WARN_INTERVAL_MS	(60 * 60 * 1000)
#define CRL_WATCH_SETTLE_MS	300

/* [tls] crl_watch: add the inotify descriptor to the supervisor's epoll. */
int	 crl_watch_register(struct sup *);
/* The CRL's directory changed: schedule a reload if it was the CRL. */
void	 crl_watch_event(struct sup *);

/*
 * Warn hourly while the CRL is stale or within [tls] crl_warn_days of its
 * nextUpdate; ms until the next check or -1.
 */
int	 crl_tick(struct sup *);

/* 1 when the CRL in force is past its nextUpdate. */
int	 crl_is_stale(const struct sup *);

#endif
