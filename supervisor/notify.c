/*
 * sd_notify(3) over $NOTIFY_SOCKET: see notify.h.
 *
 * The socket is connected once, as root, and kept: after the privilege drop
 * the service user may not be allowed to reach the manager's socket by its
 * path, but a connected datagram socket keeps working.  systemd tells the
 * sender by its credentials (SO_PASSCRED on its side), so a notification
 * counts for the main process whatever socket carried it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "shared/log.h"
#include "supervisor/notify.h"

#define NOTIFY_MSG_MAX	1024

static int	 notify_fd = -1;
static char	 notify_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
static bool	 notify_started;	/* the READY=1 of the start went out */

int
notify_init(void)
{
	struct sockaddr_un	 sun;
	const char		*env = getenv("NOTIFY_SOCKET");
	socklen_t		 len;
	size_t			 n;

	if (env == NULL || *env == '\0')
		return (0);
	snprintf(notify_path, sizeof(notify_path), "%s", env);
	/* Whatever happens next, no child must take it for its own. */
	unsetenv("NOTIFY_SOCKET");
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	n = strlen(notify_path);
	if ((notify_path[0] != '/' && notify_path[0] != '@') ||
	    n >= sizeof(sun.sun_path)) {
		log_warnx("NOTIFY_SOCKET=%s: not an absolute path or an "
		    "@abstract name that fits a socket address; no readiness "
		    "notifications", notify_path);
		return (-1);
	}
	memcpy(sun.sun_path, notify_path, n);
	if (notify_path[0] == '@')
		sun.sun_path[0] = '\0';	/* abstract: no terminating NUL */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (notify_path[0] == '/'));
	if ((notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("NOTIFY_SOCKET: socket");
		return (-1);
	}
	if (connect(notify_fd, (struct sockaddr *)&sun, len) == -1) {
		log_warn("NOTIFY_SOCKET=%s: connect", notify_path);
		close(notify_fd);
		notify_fd = -1;
		return (-1);
	}
	log_debug("readiness notifications go to %s", notify_path);
	return (0);
}

static void __attribute__((format(printf, 1, 0)))
notify_vsend(const char *fmt, va_list ap)
{
	char	 msg[NOTIFY_MSG_MAX];
	int	 n;

	if (notify_fd == -1)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(msg)) {
		log_warnx("notification too long, not sent: %.40s...", msg);
		return;
	}
	/* To systemd, READY=1 while starting means "started". */
	if (!notify_started && strncmp(msg, "READY=1", 7) == 0 &&
	    (msg[7] == '\0' || msg[7] == '\n')) {
		log_debug("not notified (the start is not complete): %.*s",
		    (int)strcspn(msg, "\n"), msg);
		return;
	}
	/* A manager that does not read must not stall the supervisor. */
	if (send(notify_fd, msg, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    -1) {
		log_warn("NOTIFY_SOCKET=%s: cannot send \"%.*s\"", notify_path,
		    (int)strcspn(msg, "\n"), msg);
		return;
	}
	log_debug("notified %s: %.*s", notify_path, (int)strcspn(msg, "\n"),
	    msg);
}

void
notify_send(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	notify_vsend(fmt, ap);
	va_end(ap);
}

void
notify_ready(const char *fmt, ...)
{
	va_list	 ap;

	notify_started = true;
	va_start(ap, fmt);
	notify_vsend(fmt, ap);
	va_end(ap);
}

void
notify_reloading(void)
{
	struct timespec	 ts;

	/* Its READY=1 would be held back: the pair would be unbalanced. */
	if (!notify_started)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send("RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the "
	    "CRL", (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
}

void
notify_close(void)
{
	if (notify_fd != -1)
		close(notify_fd);
	notify_fd = -1;
}
