/*
 * The service manager's readiness protocol (sd_notify(3)) without
 * libsystemd: one datagram per state change to the AF_UNIX socket named by
 * $NOTIFY_SOCKET ("/path", or "@name" in the abstract namespace).  Without
 * that variable every call does nothing, so takd runs the same under
 * systemd (Type=notify), another supervisor or a terminal.
 *
 * The supervisor alone speaks: READY=1 once every worker it started has
 * said hello (proc.c), then RELOADING=1 and READY=1 around each CRL reload,
 * STOPPING=1 when a stop begins.  See docs/operations.md.
 */
#ifndef TAKD_SUP_NOTIFY_H
#define TAKD_SUP_NOTIFY_H

/*
 * Connect to $NOTIFY_SOCKET, before the privilege drop (the socket of the
 * service manager belongs to root), and remove the variable from the
 * environment so that no child takes it for its own.  0 when connected or
 * when there is no such variable; -1 (logged) when it cannot be used, and
 * notifications are then off.
 */
int	 notify_init(void);

/*
 * Send one notification: newline-separated KEY=VALUE lines ("READY=1\n
 * STATUS=..."), never blocking.  A failure is logged and otherwise ignored:
 * the service manager going away must not stop takd.
 *
 * Until notify_ready() has been called, a notification that starts with
 * READY=1 is not sent: a CRL reload during the start would otherwise end
 * the start early.
 */
void	 notify_send(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

/* The READY=1 of the start (same format): from now on READY=1 goes out. */
void	 notify_ready(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

/*
 * RELOADING=1 with the MONOTONIC_USEC= that systemd 253 and later expect;
 * nothing before notify_ready(), for the same reason.
 */
void	 notify_reloading(void);

void	 notify_close(void);

#endif
