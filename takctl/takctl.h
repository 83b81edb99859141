/*
 * takctl: the admin tool.  main.c parses the global options and the config
 * and dispatches; each command returns the process exit status.
 */
#ifndef TAKD_TAKCTL_H
#define TAKD_TAKCTL_H

#include "shared/config.h"

#define TAKCTL_EX_OK		0
#define TAKCTL_EX_FAIL		1
#define TAKCTL_EX_USAGE		64	/* sysexits EX_USAGE */

/* argv[0] is the command name ("pki", "status", ...). */
int	 cmd_pki(struct config *, int argc, char **argv);
int	 cmd_status(struct config *, int argc, char **argv);
int	 cmd_reload(struct config *, int argc, char **argv);
int	 cmd_clients(struct config *, int argc, char **argv);
int	 cmd_sa(struct config *, int argc, char **argv);
int	 cmd_stats(struct config *, int argc, char **argv);
int	 cmd_revoke(struct config *, int argc, char **argv);
int	 cmd_crl(struct config *, int argc, char **argv);
/*
 * takctl pki renew, renew-server (renew.c); renew_apply_due revokes the
 * renewed certificates whose grace ended: how many (entries: the CRL's
 * size after), or -1 with err.
 */
int	 renew_cmd_client(struct config *, int argc, char **argv);
int	 renew_cmd_server(struct config *, int argc, char **argv);
int	 renew_apply_due(struct config *, size_t *entries, char *err,
	    size_t errlen);
/* Have takd load the CRL just written (revoke.c): the exit status. */
int	 revoke_reload(struct config *, bool no_reload, size_t entries);
int	 cmd_user(struct config *, int argc, char **argv);
int	 cmd_group(struct config *, int argc, char **argv);
int	 cmd_packages(struct config *, int argc, char **argv);
/*
 * As root: leave the valid client certificates' notAfter in the state
 * directory for takd (shared/expiry_note.h); nothing for other users.
 */
void	 takctl_expiry_note(const struct config *);

/*
 * Send request to takd and print its JSON reply as it is.  Failed when the
 * reply has an "error" key or, with ok_key, when that key is not true.
 */
int	 takctl_admin(struct config *, const char *request, int timeout_ms,
	    const char *ok_key);

/* Print the usage text to stderr and return TAKCTL_EX_USAGE. */
int	 takctl_usage(void);
/* Print the usage text to stdout (-h, --help). */
void	 takctl_help(void);

/* "takctl: " + message on stderr. */
void	 takctl_warnx(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

#endif
