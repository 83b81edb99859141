/*
 * Talking to takd over its admin socket, with one deadline for the whole
 * exchange so that a wedged supervisor cannot hang a script.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/clock.h"
#include "takctl/admin_client.h"

#define ADMIN_RETRY_MS		50	/* connect retry on a full backlog */
#define ADMIN_JSON_DEPTH	64


/* Wait for events on fd until deadline; 1 ready, 0 timed out, -1 error. */
static int
admin_wait(int fd, short events, int64_t deadline)
{
	struct pollfd	 pfd;
	int64_t		 left;
	int		 n;

	for (;;) {
		if ((left = deadline - clock_mono_ms()) <= 0)
			return (0);
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (n);
		return (1);
	}
}

static int
admin_connect(int fd, const struct sockaddr_un *sun, int64_t deadline)
{
	for (;;) {
		if (connect(fd, (const struct sockaddr *)sun,
		    sizeof(*sun)) == 0)
			return (0);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return (-1);
		/* A full backlog: the supervisor is busy, not gone. */
		if (clock_mono_ms() + ADMIN_RETRY_MS >= deadline) {
			errno = ETIMEDOUT;
			return (-1);
		}
		nanosleep(&(struct timespec){ 0, ADMIN_RETRY_MS * 1000000L },
		    NULL);
	}
}

int
admin_request(const struct config *cfg, const char *request, int timeout_ms,
    char **replyp, size_t *lenp, char *err, size_t errlen)
{
	struct sockaddr_un	 sun;
	char			 path[PATH_MAX + 32], line[128];
	char			*reply = NULL, *nr;
	size_t			 len = 0, cap = 0, off, llen;
	ssize_t			 n;
	int64_t			 deadline;
	int			 fd = -1, w = 0, rc = -1;

	if (timeout_ms <= 0)
		timeout_ms = ADMIN_TIMEOUT_MS;
	deadline = clock_mono_ms() + timeout_ms;
	snprintf(path, sizeof(path), "%s/%s", cfg->run_dir, TAKD_ADMIN_SOCKET);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "cannot reach takd at %s: socket path "
		    "too long (set a shorter [server] run_dir)", path);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	llen = (size_t)snprintf(line, sizeof(line), "%s\n", request);
	if (llen >= sizeof(line)) {
		snprintf(err, errlen, "admin request too long");
		return (-1);
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return (-1);
	}
	if (admin_connect(fd, &sun, deadline) == -1) {
		/* No socket, or a stale one: nobody is there. */
		if (errno == ENOENT || errno == ECONNREFUSED)
			rc = ADMIN_NOT_RUNNING;
		snprintf(err, errlen, "cannot reach takd at %s: %s (is takd "
		    "running?)", path, strerror(errno));
		goto fail;
	}
	for (off = 0; off < llen; off += (size_t)n) {
		n = send(fd, line + off, llen - off, MSG_NOSIGNAL);
		if (n >= 0)
			continue;
		n = 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			snprintf(err, errlen, "%s: sending the request: %s",
			    path, strerror(errno));
			goto fail;
		}
		if ((w = admin_wait(fd, POLLOUT, deadline)) <= 0)
			goto wait_failed;
	}
	for (;;) {
		if (len + 1 >= cap) {
			cap = cap == 0 ? 4096 : cap * 2;
			if (cap > ADMIN_REPLY_MAX + 1) {
				snprintf(err, errlen, "%s: reply bigger than "
				    "%u bytes", path, ADMIN_REPLY_MAX);
				goto fail;
			}
			if ((nr = realloc(reply, cap)) == NULL) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			reply = nr;
		}
		n = recv(fd, reply + len, cap - len - 1, 0);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			snprintf(err, errlen, "%s: reading the reply: %s",
			    path, strerror(errno));
			goto fail;
		}
		if ((w = admin_wait(fd, POLLIN, deadline)) <= 0)
			goto wait_failed;
	}
	close(fd);
	if (len == 0) {
		snprintf(err, errlen, "takd at %s closed the connection "
		    "without a reply", path);
		free(reply);
		return (-1);
	}
	reply[len] = '\0';
	*replyp = reply;
	*lenp = len;
	return (0);
 wait_failed:
	if (w == 0)
		snprintf(err, errlen, "no reply from takd at %s within %d s",
		    path, timeout_ms / 1000);
	else
		snprintf(err, errlen, "%s: poll: %s", path, strerror(errno));
 fail:
	free(reply);
	close(fd);
	return (rc);
}
