/*
 * The supervisor's side of takd-signer (signer/signer.c; docs/security.md,
 * "The signer"): the key holder that signs enrolled devices' CSRs for the
 * api process.  takd links no pki/ code: it only opens what the signer
 * needs, starts it and restarts it.
 *
 * How ca.key reaches a signer started after the privilege drop: root opens
 * it (and ca.pem, the PKI directory for its lock, the journal enrolled.txt
 * for appending, the users file's directory, and the takd-signer binary
 * itself) in signer_prepare(), before the drop, and the supervisor keeps
 * those descriptors, close-on-exec, for its whole life.  signer_spawn()
 * forks, puts them at the fixed numbers of ipc/sign_msg.h (SIGN_FD_*) and
 * execs the binary through its descriptor (execveat: no path is looked up
 * after the drop).  The supervisor never reads the key: its bytes exist
 * only in the file and in the signer's memory.  A descriptor is no weaker
 * than a sealed memfd of the key here, and needs no copy: the supervisor
 * is not dumpable after the drop, so the api (the same user) can neither
 * ptrace it nor open its /proc/PID/fd entries.
 *
 * Exit statuses of the signer: 0 the api closed its end, 1 a malformed
 * frame (respawn), 2 it cannot start (bad CA key, missing descriptor: not
 * respawned, enrollment answers 503 until takd restarts).
 */
#ifndef TAKD_SIGNER_PROC_H
#define TAKD_SIGNER_PROC_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipc/ipc.h"
#include "shared/config.h"

#define SIGNER_PROC_MAGIC	0x5349474eu	/* "SIGN" */
#define SIGNER_EXE		"takd-signer"
#define SIGNER_BACKOFF_MIN_MS	100
#define SIGNER_BACKOFF_MAX_MS	30000
#define SIGNER_STABLE_MS	60000	/* a run this long resets the backoff */

struct signer_proc {
	unsigned	 magic;
	/* Opened by signer_prepare() as root; -1 when not. */
	int		 exe_fd;
	int		 ca_fd;
	int		 key_fd;
	int		 dir_fd;
	int		 journal_fd;
	int		 usersdir_fd;
	char		 users_name[NAME_MAX + 1];
	/*
	 * Revocation for the admin console (signer_prepare_revoke()):
	 * revoked.txt (read and append), [tls] crl's directory, STATE_DIR/
	 * store (the last good copy); -1 when not prepared.
	 */
	int		 revj_fd;
	int		 crldir_fd;
	int		 storedir_fd;
	char		 crl_name[NAME_MAX + 1];
	/* The supervisor's channel to the running signer (revocation). */
	struct ipc_chan	*ctl;
	/* The command line's values. */
	char		 days[16];
	char		 o[256];
	char		 ou[256];
	char		 trusted[16];
	const char	*level;
	unsigned	 rate;		/* signatures a minute; 0: the default */
	unsigned	 burst;		/* at once; 0: the default */
	/* The running process. */
	pid_t		 pid;		/* -1: none */
	pid_t		 old_pid;	/* told to stop by a spawn, not reaped */
	int64_t		 started_ms;
	int64_t		 respawn_at_ms;	/* when pid is -1 and !gave_up */
	unsigned	 backoff_ms;
	unsigned	 restarts;
	int		 last_status;	/* waitpid's */
	bool		 gave_up;	/* exited 2: never respawned */
	bool		 stopping;	/* takd stops: never respawned */
};

/* Nothing prepared, nothing running (enrollment off). */
void	 signer_init(struct signer_proc *);

/*
 * The takd-signer next to the running takd (/proc/self/exe's directory)
 * into buf; -1 when it does not fit or /proc is missing.
 */
int	 signer_exe_default(char *buf, size_t len);

/*
 * As root, before the privilege drop (also when not started as root):
 * open exe and, from cfg, [pki] dir with its ca.pem, ca.key and
 * enrolled.txt (created 0600 when missing), and the directory of [auth]
 * users, with takd's trust rules (shared/trust.h).  -1 with err when any
 * is missing or untrusted: enrollment cannot run (no ca.key: run
 * `takctl pki init-ca`).  The descriptors are close-on-exec.
 */
int	 signer_prepare(struct signer_proc *, const struct config *cfg,
	    const char *exe, char *err, size_t errlen);
/*
 * Then, as root too, what revocation for the admin console needs: [pki]
 * dir/revoked.txt (created 0600, opened for reading and appending), the
 * directory of [tls] crl and STATE_DIR/store (the last good copy, which
 * takd installs).  -1 with err: the console cannot revoke.
 */
int	 signer_prepare_revoke(struct signer_proc *, const struct config *cfg,
	    char *err, size_t errlen);

/*
 * Start a signer: *api_fd is the api's end of a new SOCK_SEQPACKET pair
 * (close-on-exec; hand it to the api process, then close it here); with
 * api_fd NULL it gets no api channel (the console only).  With revocation
 * prepared, ctl is the supervisor's channel to it (the old one is freed:
 * take it out of any poll set first).  Any signer still running is told
 * to stop first (its channel is gone).  0, or -1 (logged) when the
 * socketpair or fork failed.
 */
int	 signer_spawn(struct signer_proc *, int *api_fd);

/*
 * From the supervisor's SIGCHLD reaping: 1 when pid was the signer (its
 * exit is logged and its respawn time set, unless it exited 2) or the one
 * a spawn replaced (nothing to do), else 0.
 */
int	 signer_exited(struct signer_proc *, pid_t pid, int status,
	    int64_t now_ms);

/* Whether a respawn is due at now_ms (the caller then spawns). */
bool	 signer_respawn_due(const struct signer_proc *, int64_t now_ms);

/* SIGTERM to a running signer (stop, or restart after a log reopen). */
void	 signer_stop(struct signer_proc *);
/* takd stops: SIGTERM, and its exit is the last (no respawn is due). */
void	 signer_shutdown(struct signer_proc *);

/* Close the prepared descriptors (shutdown; a forked worker). */
void	 signer_close(struct signer_proc *);

#endif
