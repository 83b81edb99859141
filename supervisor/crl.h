#ifndef TAKD_SUP_CRL_H
#define TAKD_SUP_CRL_H

#include "supervisor/sup.h"

#define CRL_FILE_MAX	(64u * 1024 * 1024)

/* Time a parser process has to read, verify and convert the CRL. */
#define CRL_PARSE_TIMEOUT_MS	20000
/* Its nice value: the workers' loops come first on a busy machine. */
#define CRL_PARSE_NICE		10

/*
 * Load the configured CRL at start (as root), waiting for its parser
 * process.  Keeps a descriptor of its directory so that reloads after the
 * privilege drop only need the directory itself to be searchable by the
 * service user.  With crl_check = off nothing is loaded.  -1 with err.
 */
int	 crl_init(struct sup *, char *err, size_t errlen);
void	 crl_cleanup(struct sup *);

/*
 * Start reading and verifying the CRL file again in a parser process; the
 * loop goes on meanwhile.  When it is done, a valid CRL becomes the new
 * generation, an invalid one leaves the old in force with the reason in
 * last_error, and reload_parsed() is told either way.  -1 with err
 * when nothing was started (nothing will be told).
 */
int	 crl_reload(struct sup *, char *err, size_t errlen);
/* The parser process exited (its pidfd is readable: SUP_EV_CRL_PARSER). */
void	 crl_parser_event(struct sup *);

/*
 * The CA store of the supervisor's SSL_CTX, and set as the CRL set of the
 * verify callback: both inherited by the workers forked from now on.
 */
int	 crl_install(struct sup *, struct crlset *set, char *err,
	    size_t errlen);

/* A descriptor of the sealed memfd of the set in force, for IPC_MSG_CRL. */
int	 crl_memfd(const struct sup *);

#define CRL_WARN_INTERVAL_MS	(60 * 60 * 1000)
#define CRL_WATCH_SETTLE_MS	300

/* [tls] crl_watch: add the inotify descriptor to the supervisor's epoll. */
int	 crl_watch_register(struct sup *);
/* The CRL's directory changed: schedule a reload if it was the CRL. */
void	 crl_watch_event(struct sup *);

/*
 * Give up on a parser past CRL_PARSE_TIMEOUT_MS; warn hourly while the CRL
 * is stale or within [tls] crl_warn_days of its nextUpdate; ms until the
 * next check or -1.
 */
int	 crl_tick(struct sup *);

/* 1 when the CRL in force is past its nextUpdate. */
int	 crl_is_stale(const struct sup *);

#endif
